//! What a verifier is told about a token's place in its region's transparency log (SPEC §12):
//! the trust anchors ([`LogTrust`], from the trust list only), the issuer's answer to
//! `GET /v1/log/proof?token_sha256=…` ([`InclusionProof`], [`LogEvidence`]) and where
//! verification finds answers ([`LogSource`]), as status lists are found through a
//! `StatusSource`.
//!
//! Nothing here fetches or judges: a [`LogSource`] holds what the caller fetched, and the
//! `logged` check decides what it proves. The decoder is bounded ([`MAX_PROOF_ANSWER_BYTES`]);
//! its errors name the field that was wrong.

use std::collections::HashMap;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::ids::RegionCode;
use crate::time::UnixTime;
use crate::tlog::entry::MAX_ENTRY_BYTES;
use crate::tlog::note::MAX_NOTE_BYTES;
use crate::tlog::tree::MAX_PROOF_HASHES;
use crate::tlog::vkey::VerifierKey;
use crate::tlog::Hash;

/// Largest proof answer decoded: a checkpoint note (≤ 64 KiB), 63 hashes and an entry fit
/// with room; anything larger is not an answer of a huren issuer.
pub const MAX_PROOF_ANSWER_BYTES: usize = 128 * 1024;

/// A region's log as the trust list names it: the key that signs its checkpoints, the
/// witnesses whose cosignatures count, and how many make a checkpoint witnessed.
///
/// Only ever filled from the verified trust list: a key the token or the log's answer names
/// proves nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogTrust {
    /// The log's Ed25519 checkpoint key (its name is the log's origin).
    pub log_key: VerifierKey,
    /// The witnesses' cosignature/v1 keys.
    pub witnesses: Vec<VerifierKey>,
    /// Cosignatures by listed witnesses a checkpoint needs.
    pub quorum: usize,
}

/// The issuer's `200` answer to a proof request: entry `index` of the tree of `tree_size`
/// entries whose witnessed checkpoint is `checkpoint`.
#[derive(Debug, Clone, PartialEq)]
pub struct InclusionProof {
    /// The entry's leaf index.
    pub index: u64,
    /// The size of the tree the proof is for (the checkpoint's).
    pub tree_size: u64,
    /// The RFC 6962 inclusion proof, leaf to root.
    pub proof: Vec<Hash>,
    /// The signed note: the checkpoint, the log's signature and witnesses' cosignatures.
    pub checkpoint: String,
    /// The leaf: the entry's canonical JSON bytes.
    pub entry: Vec<u8>,
}

/// Why a proof answer could not be read. The message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("log proof answer: {0}")]
pub struct ProofAnswerError(pub String);

impl InclusionProof {
    /// Reads `{"index", "tree_size", "proof": [base64], "checkpoint", "entry"}`, refusing a
    /// body over [`MAX_PROOF_ANSWER_BYTES`], more than 63 hashes, a hash that is not 32 bytes
    /// of standard base64, and an entry or checkpoint over their own bounds. Unknown fields
    /// are ignored: an issuer may add some.
    pub fn from_json(body: &[u8]) -> Result<InclusionProof, ProofAnswerError> {
        let bad = |why: String| ProofAnswerError(why);
        if body.len() > MAX_PROOF_ANSWER_BYTES {
            return Err(bad(format!(
                "the body is longer than {MAX_PROOF_ANSWER_BYTES} bytes"
            )));
        }
        // Read as a value first, so that an error names the field (serde's does not).
        let answer: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(body).map_err(|e| bad(format!("not a JSON object: {e}")))?;
        let number = |field: &str| {
            answer
                .get(field)
                .and_then(serde_json::Value::as_u64)
                .ok_or_else(|| bad(format!("{field} is not a non-negative integer")))
        };
        let text = |field: &str| {
            answer
                .get(field)
                .and_then(serde_json::Value::as_str)
                .ok_or_else(|| bad(format!("{field} is not a string")))
        };
        let (index, tree_size) = (number("index")?, number("tree_size")?);
        let (checkpoint, entry) = (text("checkpoint")?, text("entry")?);
        let hashes = answer
            .get("proof")
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| bad("proof is not an array".into()))?;
        if hashes.len() > MAX_PROOF_HASHES {
            return Err(bad(format!(
                "proof has {} hashes, at most {MAX_PROOF_HASHES} are accepted",
                hashes.len()
            )));
        }
        let proof = hashes
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let text = text
                    .as_str()
                    .ok_or_else(|| bad(format!("proof[{i}] is not a string")))?;
                let bytes = STANDARD
                    .decode(text)
                    .map_err(|_| bad(format!("proof[{i}] is not standard base64")))?;
                let hash: [u8; 32] = bytes
                    .try_into()
                    .map_err(|_| bad(format!("proof[{i}] is not 32 bytes")))?;
                Ok(Hash(hash))
            })
            .collect::<Result<Vec<Hash>, ProofAnswerError>>()?;
        if checkpoint.len() > MAX_NOTE_BYTES {
            return Err(bad(format!(
                "checkpoint is longer than {MAX_NOTE_BYTES} bytes"
            )));
        }
        if entry.len() > MAX_ENTRY_BYTES {
            return Err(bad(format!("entry is longer than {MAX_ENTRY_BYTES} bytes")));
        }
        Ok(InclusionProof {
            index,
            tree_size,
            proof,
            checkpoint: checkpoint.to_owned(),
            entry: entry.as_bytes().to_vec(),
        })
    }
}

/// What the region's log said about a token.
#[derive(Debug, Clone, PartialEq)]
pub enum LogEvidence {
    /// `200`: a proof, still to be checked.
    Proof(InclusionProof),
    /// `404` `not_logged`: the log has no entry with the token's hash.
    NotLogged,
    /// `404` `not_witnessed`: the log has the entry, but no witnessed checkpoint covers it yet.
    NotWitnessed,
    /// No usable answer (network, timeout, another status, a body that is not an answer,
    /// offline), and why.
    Unavailable(String),
}

/// An answer and when it was given: a log that says "not logged" only condemns a token if it
/// said so after the token's merge delay had passed.
#[derive(Debug, Clone, PartialEq)]
pub struct LogAnswer {
    /// What the log said.
    pub evidence: LogEvidence,
    /// When it said it (the verifier's clock).
    pub answered_at: UnixTime,
}

/// Where verification finds the log's answers: by region and the token's `token_sha256`.
pub trait LogSource {
    /// The answer held for the token with hash `token_sha256` in `region`'s log, if any.
    fn log_answer(&self, region: &RegionCode, token_sha256: &str) -> Option<Arc<LogAnswer>>;
}

/// No answers at all (offline, or nothing fetched): a region with a log then shows its
/// `logged` check as not made.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLogAnswers;

impl LogSource for NoLogAnswers {
    fn log_answer(&self, _region: &RegionCode, _token_sha256: &str) -> Option<Arc<LogAnswer>> {
        None
    }
}

/// Answers by token hash (token hashes do not collide across regions).
impl LogSource for HashMap<String, Arc<LogAnswer>> {
    fn log_answer(&self, _region: &RegionCode, token_sha256: &str) -> Option<Arc<LogAnswer>> {
        self.get(token_sha256).cloned()
    }
}

/// The issuer's base URL for `region`'s log: its `issuer_uri`, else its status-list prefix
/// without the trailing `v1/status/` (SPEC §12). `None` when neither gives one. Only the
/// trust list decides it: a verifier never asks a log a token names.
pub fn issuer_base(issuer_uri: Option<&str>, status_uri_prefix: &str) -> Option<String> {
    let base = match issuer_uri {
        Some(uri) if !uri.is_empty() => uri.trim_end_matches('/'),
        _ => status_uri_prefix
            .strip_suffix("v1/status/")?
            .trim_end_matches('/'),
    };
    let is_http = base.starts_with("https://") || base.starts_with("http://");
    (is_http && !base.contains(['?', '#'])).then(|| base.to_owned())
}

/// The proof URL for the token with hash `token_sha256` at the issuer `base`.
pub fn proof_url(base: &str, token_sha256: &str) -> String {
    format!("{base}/v1/log/proof?token_sha256={token_sha256}")
}
