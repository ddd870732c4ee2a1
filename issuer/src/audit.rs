//! The hash-chained audit log: every issuance, revocation, suspension, reinstatement and token
//! creation is appended in the same transaction as the change it records.
//!
//! Entry `n` commits to entry `n-1`: `hash = SHA-256(prev_hash ‖ canonical JSON of the entry)`,
//! and the audit head holds the last `seq` and `hash`. [`verify_chain`] recomputes everything,
//! so an edited entry (hash mismatch), a deleted one (gap, or head mismatch at the end) and a
//! reordered one (sequence or link mismatch) are all detected. Entries hold no personal data:
//! subjects are licence identifiers and token ids.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use crate::store::{self, AuditHead, Store, StoreError};

/// An action recorded in the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A licence was issued.
    Issue,
    /// A licence was revoked.
    Revoke,
    /// A licence was suspended.
    Suspend,
    /// A suspended licence was reinstated.
    Reinstate,
    /// An API token was created.
    TokenCreate,
}

impl Action {
    /// The stored name.
    pub fn name(self) -> &'static str {
        match self {
            Action::Issue => "issue",
            Action::Revoke => "revoke",
            Action::Suspend => "suspend",
            Action::Reinstate => "reinstate",
            Action::TokenCreate => "token_create",
        }
    }
}

/// One stored entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Position in the log, from 1.
    pub seq: i64,
    /// When (Unix seconds).
    pub at: i64,
    /// Who: an API token id, or `cli:<user>` for command-line actions.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what: a 证照标识 or a token id.
    pub subject: String,
    /// Details (JSON text: reason, status list position, …).
    pub detail: String,
    /// Hash of the previous entry.
    pub prev_hash: String,
    /// Hash of this entry.
    pub hash: String,
}

/// The hashed content of an entry (everything but the hash itself).
#[derive(Serialize)]
struct Hashed<'a> {
    seq: i64,
    at: i64,
    actor: &'a str,
    action: &'a str,
    subject: &'a str,
    detail: &'a str,
}

fn entry_hash(
    prev_hash: &str,
    seq: i64,
    at: i64,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> String {
    let content = Hashed {
        seq,
        at,
        actor,
        action,
        subject,
        detail,
    };
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    // invariant: a struct of strings and integers always serializes.
    hasher.update(serde_json::to_vec(&content).unwrap_or_default());
    hex::encode(hasher.finalize())
}

/// Appends an entry inside the caller's transaction, after [`store::lock_audit_head`]; returns
/// the new head, which the caller must store with [`store::set_audit_head`] (done here).
pub async fn append(
    conn: &mut AnyConnection,
    head: &AuditHead,
    at: i64,
    actor: &str,
    action: Action,
    subject: &str,
    detail: &serde_json::Value,
) -> Result<AuditHead, StoreError> {
    let seq = head.seq + 1;
    let detail = detail.to_string();
    let hash = entry_hash(&head.hash, seq, at, actor, action.name(), subject, &detail);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(seq)
    .bind(at)
    .bind(actor)
    .bind(action.name())
    .bind(subject)
    .bind(&detail)
    .bind(&head.hash)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    let new_head = AuditHead { seq, hash };
    store::set_audit_head(conn, &new_head).await?;
    Ok(new_head)
}

/// A break in the chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// An entry is missing or out of order.
    #[error(
        "entry {found} found where entry {expected} was expected (deleted or reordered entries)"
    )]
    Sequence {
        /// The seq that should come next.
        expected: i64,
        /// The seq found.
        found: i64,
    },
    /// An entry does not link to its predecessor.
    #[error("entry {seq} does not link to the entry before it (reordered or replaced)")]
    Link {
        /// The entry.
        seq: i64,
    },
    /// An entry's content does not match its hash.
    #[error("entry {seq} was modified after it was written")]
    Modified {
        /// The entry.
        seq: i64,
    },
    /// The log ends before (or after) the head says it does.
    #[error("the log ends at entry {last} but the head says {head} (entries deleted at the end?)")]
    Head {
        /// Last entry found.
        last: i64,
        /// The head's seq.
        head: i64,
    },
}

/// Checks the whole chain; returns the number of entries.
pub async fn verify_chain(store: &Store) -> Result<Result<i64, ChainError>, StoreError> {
    let head_row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(store.pool())
        .await?;
    let head = AuditHead {
        seq: head_row.try_get("seq")?,
        hash: head_row.try_get("hash")?,
    };
    let mut expected_seq = 1;
    let mut prev_hash = "0".repeat(64);
    let mut after = 0i64;
    loop {
        let page = page(store, after, 1000).await?;
        if page.is_empty() {
            break;
        }
        for entry in &page {
            if entry.seq != expected_seq {
                return Ok(Err(ChainError::Sequence {
                    expected: expected_seq,
                    found: entry.seq,
                }));
            }
            if entry.prev_hash != prev_hash {
                return Ok(Err(ChainError::Link { seq: entry.seq }));
            }
            let hash = entry_hash(
                &entry.prev_hash,
                entry.seq,
                entry.at,
                &entry.actor,
                &entry.action,
                &entry.subject,
                &entry.detail,
            );
            if hash != entry.hash {
                return Ok(Err(ChainError::Modified { seq: entry.seq }));
            }
            prev_hash = hash;
            expected_seq += 1;
            after = entry.seq;
        }
    }
    let last = expected_seq - 1;
    if last != head.seq || prev_hash != head.hash {
        return Ok(Err(ChainError::Head {
            last,
            head: head.seq,
        }));
    }
    Ok(Ok(last))
}

/// Up to `limit` entries with `seq > after`, in order.
pub async fn page(store: &Store, after: i64, limit: i64) -> Result<Vec<Entry>, StoreError> {
    let rows = sqlx::query(
        "SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_log \
         WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Entry {
                seq: row.try_get("seq")?,
                at: row.try_get("at")?,
                actor: row.try_get("actor")?,
                action: row.try_get("action")?,
                subject: row.try_get("subject")?,
                detail: row.try_get("detail")?,
                prev_hash: row.try_get("prev_hash")?,
                hash: row.try_get("hash")?,
            })
        })
        .collect()
}
