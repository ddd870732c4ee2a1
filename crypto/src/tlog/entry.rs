//! The log's leaves: one per audit event, canonical JSON
//! `{"seq","at","action","subject","token_sha256"?}` (SPEC §12) — identifiers and hashes only,
//! never personal data.
//!
//! Canonical means: keys in that order, no spaces, `token_sha256` absent rather than null,
//! UTF-8 as serde_json writes it. The leaf hash covers exactly these bytes, so everyone who
//! re-hashes an entry (the issuer's `audit verify`, monitors, the Python check) must produce
//! them byte for byte; [`LogEntry::parse`] therefore refuses any text that is not the canonical
//! form of what it parses to.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{excerpt, Hash, TlogError};

/// Largest entry accepted (a subject of 200 characters is well under it).
pub const MAX_ENTRY_BYTES: usize = 1024;

/// One leaf of a region's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogEntry {
    /// The audit entry's `seq` (leaf index + 1).
    pub seq: i64,
    /// When the event happened (Unix seconds).
    pub at: i64,
    /// The audit action (`issue`, `revoke`, `copy_make`, …).
    pub action: String,
    /// What it concerns: a 证照标识, a copy id, a seal's esID or a token id.
    pub subject: String,
    /// Lower-case hex SHA-256 of the exact token (licence, copy) or seal bytes signed, when the
    /// event signed one: what a verifier looks up to prove a token was logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_sha256: Option<String>,
}

impl LogEntry {
    /// The canonical bytes (the leaf).
    pub fn to_bytes(&self) -> Vec<u8> {
        // invariant: a struct of strings and integers always serializes.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The RFC 6962 leaf hash of the canonical bytes.
    pub fn leaf_hash(&self) -> Hash {
        tlog_tiles::record_hash(&self.to_bytes())
    }

    /// Parses an entry, refusing anything but the canonical form of valid content.
    pub fn parse(bytes: &[u8]) -> Result<LogEntry, TlogError> {
        if bytes.len() > MAX_ENTRY_BYTES {
            return Err(TlogError::Entry(format!(
                "longer than {MAX_ENTRY_BYTES} bytes"
            )));
        }
        let entry: LogEntry = serde_json::from_slice(bytes)
            .map_err(|e| TlogError::Entry(format!("not an entry: {e}")))?;
        entry.check()?;
        if entry.to_bytes() != bytes {
            return Err(TlogError::Entry(
                "not in canonical form (key order, no spaces, no null)".into(),
            ));
        }
        Ok(entry)
    }

    /// Checks the fields' shapes.
    pub fn check(&self) -> Result<(), TlogError> {
        if self.seq < 1 {
            return Err(TlogError::Entry(format!("seq {} is below 1", self.seq)));
        }
        let is_action = |s: &str| {
            (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        };
        if !is_action(&self.action) {
            return Err(TlogError::Entry(format!(
                "action {} is not 1 to 32 of a-z and _",
                excerpt(&self.action)
            )));
        }
        let is_subject =
            |s: &str| (1..=200).contains(&s.chars().count()) && !s.chars().any(char::is_control);
        if !is_subject(&self.subject) {
            return Err(TlogError::Entry(format!(
                "subject {} is not 1 to 200 printable characters",
                excerpt(&self.subject)
            )));
        }
        if let Some(hash) = &self.token_sha256 {
            if !is_sha256_hex(hash) {
                return Err(TlogError::Entry(format!(
                    "token_sha256 {} is not 64 lower-case hex digits",
                    excerpt(hash)
                )));
            }
        }
        Ok(())
    }
}

/// The `token_sha256` of a token: lower-case hex SHA-256 of its exact bytes.
pub fn token_sha256(token: &[u8]) -> String {
    hex::encode(Sha256::digest(token))
}

/// Whether `text` is 64 lower-case hex digits.
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
