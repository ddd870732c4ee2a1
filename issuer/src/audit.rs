//! The hash-chained audit log: every issuance, revocation, suspension, reinstatement, annotated
//! copy made or withdrawn, token creation and token revocation is appended in the same transaction as the change it records.
//!
//! One chain per region (SPEC §7: issuers of several regions may share a database): entries
//! are appended through the region's write transaction ([`RegionTx`]) and read through its
//! store ([`RegionStore`]), so a region's log holds and shows only that region's events.
//!
//! Entry `n` commits to entry `n-1`: `hash = SHA-256(prev_hash ‖ canonical JSON of the entry)`,
//! and the audit head holds the last `seq` and `hash`. [`verify_chain`] recomputes everything,
//! so an edited entry (hash mismatch), a deleted one (gap, or head mismatch at the end) and a
//! reordered one (sequence or link mismatch) are all detected. Whoever can write the database
//! can also rewrite the whole chain consistently; [`verify_anchored`] also checks it against
//! the heads the issuer signed outside the database (`anchor`), which such a rewrite cannot
//! match. Entries hold no personal data: subjects are licence identifiers and token ids.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::anchor::VerifiedHead;
pub use crate::store::audit_log::Entry;
use crate::store::{self, audit_log, AuditHead, RegionStore, RegionTx, Store, StoreError};

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
    /// An API token was revoked.
    TokenRevoke,
    /// A seal was made (电子印章制作).
    SealMake,
    /// A seal was revoked.
    SealRevoke,
    /// A seal was suspended.
    SealSuspend,
    /// A suspended seal was reinstated.
    SealReinstate,
    /// A document was sealed server-side with a platform-held holder key.
    SealSign,
    /// An annotated copy (加注件) was made.
    CopyMake,
    /// An annotated copy was withdrawn by its holder.
    CopyWithdraw,
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
            Action::TokenRevoke => "token_revoke",
            Action::SealMake => "seal_make",
            Action::SealRevoke => "seal_revoke",
            Action::SealSuspend => "seal_suspend",
            Action::SealReinstate => "seal_reinstate",
            Action::SealSign => "seal_sign",
            Action::CopyMake => "copy_make",
            Action::CopyWithdraw => "copy_withdraw",
        }
    }
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

/// Appends an entry to the region's chain inside the caller's transaction, and moves the
/// region's head. Returns the entry's `seq` (its transparency-log leaf is `seq - 1`).
pub async fn append(
    tx: &mut RegionTx,
    at: i64,
    actor: &str,
    action: Action,
    subject: &str,
    detail: &serde_json::Value,
) -> Result<i64, StoreError> {
    let mut chain = Chain::new(tx.head().clone());
    let seq = chain.push(at, actor, action, subject, detail);
    chain.write(tx).await?;
    tx.set_head(chain.head).await?;
    Ok(seq)
}

pub use crate::store::audit_log::ENTRIES_PER_INSERT;

/// Entries appended in memory inside one transaction and written together: each is numbered,
/// linked and hashed exactly as [`append`] does it entry by entry (`append` is a chain of one),
/// so [`verify_chain`] cannot tell the two apart. For a batch this replaces an `INSERT` and an
/// audit-head `UPDATE` per entry by one multi-row `INSERT` per [`ENTRIES_PER_INSERT`] entries
/// and one head update.
///
/// Start it from the head of a [`RegionTx`] ([`RegionTx::head`]), which holds the lock of the
/// region's head until commit: nobody else can append meanwhile, and nobody sees the head
/// before the caller stores [`Chain::head`] with [`RegionTx::set_head`].
#[derive(Debug)]
pub struct Chain {
    head: AuditHead,
    /// Pushed but not yet inserted, in order; the last one is `head`.
    unwritten: Vec<Entry>,
}

impl Chain {
    /// A chain continuing from `head`.
    pub fn new(head: AuditHead) -> Chain {
        Chain {
            head,
            unwritten: Vec::new(),
        }
    }

    /// Appends an entry in memory (written by the next [`Chain::write`]); returns its `seq`.
    pub fn push(
        &mut self,
        at: i64,
        actor: &str,
        action: Action,
        subject: &str,
        detail: &serde_json::Value,
    ) -> i64 {
        let seq = self.head.seq + 1;
        let detail = detail.to_string();
        let hash = entry_hash(
            &self.head.hash,
            seq,
            at,
            actor,
            action.name(),
            subject,
            &detail,
        );
        let prev_hash = std::mem::replace(&mut self.head.hash, hash.clone());
        self.head.seq = seq;
        self.unwritten.push(Entry {
            seq,
            at,
            actor: actor.to_owned(),
            action: action.name().to_owned(),
            subject: subject.to_owned(),
            detail,
            prev_hash,
            hash,
        });
        seq
    }

    /// The head after the last pushed entry.
    pub fn head(&self) -> &AuditHead {
        &self.head
    }

    /// Inserts the entries pushed since the last write into the region's log, in order, with
    /// multi-row `INSERT`s. Does not move the stored head (see the type's documentation).
    pub async fn write(&mut self, tx: &mut RegionTx) -> Result<(), StoreError> {
        audit_log::insert(tx, &self.unwritten).await?;
        self.unwritten.clear();
        Ok(())
    }
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
    /// The entry at a signed head's seq has another hash than the signed one.
    #[error("entry {seq} does not match the signed audit head at entry {seq} (entries up to {seq} were removed, changed or reordered)")]
    SignedHeadMismatch {
        /// The signed head's seq.
        seq: i64,
    },
    /// The log ends below a signed head.
    #[error(
        "the log ends at entry {last}, below the signed audit head at entry {seq} (truncated)"
    )]
    SignedHeadMissing {
        /// The signed head's seq.
        seq: i64,
        /// Last entry found.
        last: i64,
    },
}

/// Checks the whole chain of the store's region; returns the number of entries.
pub async fn verify_chain(store: &RegionStore) -> Result<Result<i64, ChainError>, StoreError> {
    verify_anchored(store, &[]).await
}

/// Checks the whole chain of the store's region and that it extends every head in `signed`
/// (heads the issuer signed outside the database, checked by `anchor`): the entry at each
/// signed `seq` must be there with the signed hash. A chain truncated below a signed head, or
/// with a covered entry removed, changed or reordered (even with every later hash recomputed
/// and the head row rewritten to match), fails. Returns the number of entries.
pub async fn verify_anchored(
    store: &RegionStore,
    signed: &[VerifiedHead],
) -> Result<Result<i64, ChainError>, StoreError> {
    let head = store.audit_head().await?;
    walk(store, store.region().as_str(), head, signed).await
}

/// The label of the one audit chain of a database in which several regions issued before
/// migration `0003_region_confinement` (see there); no region's issuer appends to it.
pub const LEGACY_CHAIN: &str = "legacy";

/// Checks the legacy chain (see [`LEGACY_CHAIN`]), if the database has one.
pub async fn verify_legacy_chain(
    store: &Store,
) -> Result<Option<Result<i64, ChainError>>, StoreError> {
    let Some(head) = audit_log::head_of(store, LEGACY_CHAIN).await? else {
        return Ok(None);
    };
    Ok(Some(walk(store, LEGACY_CHAIN, head, &[]).await?))
}

async fn walk(
    store: &Store,
    chain: &str,
    head: AuditHead,
    signed: &[VerifiedHead],
) -> Result<Result<i64, ChainError>, StoreError> {
    let mut expected_seq = 1;
    let mut prev_hash = store::GENESIS_HASH.to_owned();
    let mut after = 0i64;
    // Signed heads by seq, to check as the walk passes them.
    let mut pending: Vec<&VerifiedHead> = signed.iter().collect();
    pending.sort_by_key(|h| std::cmp::Reverse(h.seq));
    loop {
        let page = audit_log::page(store, chain, after, 1000).await?;
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
            while let Some(signed) = pending.last().filter(|h| h.seq == entry.seq) {
                if signed.hash != hash {
                    return Ok(Err(ChainError::SignedHeadMismatch { seq: signed.seq }));
                }
                pending.pop();
            }
            prev_hash = hash;
            expected_seq += 1;
            after = entry.seq;
        }
    }
    let last = expected_seq - 1;
    if let Some(signed) = pending.first() {
        // The highest signed head the chain does not reach.
        return Ok(Err(ChainError::SignedHeadMissing {
            seq: signed.seq,
            last,
        }));
    }
    if last != head.seq || prev_hash != head.hash {
        return Ok(Err(ChainError::Head {
            last,
            head: head.seq,
        }));
    }
    Ok(Ok(last))
}

/// Up to `limit` entries of the store's region with `seq > after`, in order.
pub async fn page(store: &RegionStore, after: i64, limit: i64) -> Result<Vec<Entry>, StoreError> {
    audit_log::page(store, store.region().as_str(), after, limit).await
}
