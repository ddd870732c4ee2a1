//! `huren issuer audit verify` against the log: the region's audit entries in the database
//! must rebuild the tree of the newest witnessed checkpoint exactly. A database writer can
//! rewrite the audit chain and its head row consistently, but not a checkpoint that witnesses
//! in other provinces cosigned: removing, changing or reordering any covered entry changes the
//! root. (The locally signed heads of `anchor` remain the fallback when no witness answers.)
//!
//! Candidates come from the database and from the witnesses themselves (each keeps the newest
//! checkpoint it cosigned, `GET /v1/witness/checkpoint`), because a rolled-back database would
//! only offer an old one. Notes with the same text pool their cosignatures; two witnessed
//! checkpoints of one size with different roots are a split view, reported, never resolved.

use huren_crypto::tlog::note::{self, OpenedCheckpoint};
use huren_crypto::tlog::tree::Frontier;
use huren_crypto::tlog::vkey::VerifierKey;

use super::leaf_of;
use crate::store::log as rows;
use crate::store::{RegionStore, StoreError};

/// The newest checkpoint among `notes` that `quorum` of `witnesses` cosigned. A note that does
/// not open (bad signature, another log) is an error naming it: it is either an attack or a
/// misconfiguration, and neither may pass silently.
pub fn newest_witnessed(
    notes: &[(String, String)],
    log_key: &VerifierKey,
    witnesses: &[VerifierKey],
    quorum: usize,
) -> Result<Option<OpenedCheckpoint>, String> {
    let mut opened: Vec<OpenedCheckpoint> = Vec::new();
    for (source, text) in notes {
        let checkpoint = note::open(text.as_bytes(), log_key, witnesses)
            .map_err(|e| format!("checkpoint from {source}: {e}"))?;
        if let Some(same) = opened.iter_mut().find(|o| o.text == checkpoint.text) {
            for cosignature in checkpoint.cosignatures {
                if !same.cosignatures.iter().any(|c| c.name == cosignature.name) {
                    same.cosignatures.push(cosignature);
                }
            }
        } else {
            opened.push(checkpoint);
        }
    }
    let witnessed: Vec<&OpenedCheckpoint> = opened
        .iter()
        .filter(|o| o.witnessed(quorum).is_ok())
        .collect();
    for a in &witnessed {
        if let Some(b) = witnessed
            .iter()
            .find(|b| b.size == a.size && b.root != a.root)
        {
            return Err(format!(
                "split view: two witnessed checkpoints of {} entries with different roots ({} and {})",
                a.size, a.root, b.root
            ));
        }
    }
    Ok(witnessed.into_iter().max_by_key(|o| o.size).cloned())
}

/// How the database compares with a witnessed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogMismatch {
    /// Fewer audit entries than the checkpoint covers.
    #[error("the witnessed checkpoint covers {size} entries but the audit log has only {found} (entries removed)")]
    Truncated {
        /// Checkpoint size.
        size: u64,
        /// Entries found.
        found: u64,
    },
    /// An entry differs from the one the log holds (the first such, when the log's own leaf
    /// hashes are still there to compare with).
    #[error("audit entry {seq} is not the one the log recorded (changed, removed or reordered)")]
    Entry {
        /// The first differing entry.
        seq: i64,
    },
    /// The entries rebuild another tree.
    #[error("the audit entries do not rebuild the witnessed checkpoint of {size} entries (entries changed, removed or reordered)")]
    Root {
        /// Checkpoint size.
        size: u64,
    },
}

/// Rebuilds the tree of `checkpoint.size` entries from the region's audit log and compares it
/// with the checkpoint.
pub async fn check_database(
    store: &RegionStore,
    checkpoint: &OpenedCheckpoint,
) -> Result<Result<(), LogMismatch>, StoreError> {
    let mut conn = store.acquire().await?;
    let mut frontier = Frontier::empty();
    while frontier.size() < checkpoint.size {
        let after = i64::try_from(frontier.size()).unwrap_or(i64::MAX);
        let page = rows::audit_leaves(&mut conn, after, 2000).await?;
        if page.is_empty() {
            return Ok(Err(LogMismatch::Truncated {
                size: checkpoint.size,
                found: frontier.size(),
            }));
        }
        // The log's own leaf hashes for this page, if the log tables still hold them all:
        // they name the first entry that differs, where the root alone could not.
        let logged = rows::tile(&mut conn, 0, frontier.size(), page.len() as u64).await?;
        for (k, audit) in page.iter().enumerate() {
            if frontier.size() == checkpoint.size {
                break;
            }
            let expected = i64::try_from(frontier.size() + 1).unwrap_or(i64::MAX);
            if audit.seq != expected {
                return Ok(Err(LogMismatch::Entry { seq: expected }));
            }
            let leaf = leaf_of(audit).leaf_hash();
            if let Some(logged) = logged.as_ref().and_then(|l| l.get(k * 32..k * 32 + 32)) {
                if logged != leaf.0 {
                    return Ok(Err(LogMismatch::Entry { seq: audit.seq }));
                }
            }
            frontier
                .append(&leaf_of(audit).to_bytes())
                .map_err(|e| StoreError::Row(e.to_string()))?;
        }
    }
    let root = frontier
        .root()
        .map_err(|e| StoreError::Row(e.to_string()))?;
    Ok(if root == checkpoint.root {
        Ok(())
    } else {
        Err(LogMismatch::Root {
            size: checkpoint.size,
        })
    })
}
