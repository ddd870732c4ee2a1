//! Appending the audit entries the tree lacks, and signing a checkpoint of the new tree.

use std::sync::Arc;

use huren_crypto::tlog::note::sign_checkpoint;
use huren_crypto::tlog::tree::{self, Frontier};
use huren_crypto::tlog::{Hash, EMPTY_HASH};

use super::{leaf_of, Log};
use huren_crypto::time::Clock;

use crate::store::{log as rows, RegionStore, StoreError};

/// Audit entries read per page.
const PAGE: i64 = 2000;
/// Most entries appended in one run (one transaction); the next run continues.
const MOST_PER_RUN: u64 = 50_000;

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum SequenceError {
    /// Database failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The log tables do not match the tree they claim (edited or damaged): the log stops
    /// rather than extend a tree it cannot vouch for.
    #[error("the log tables are inconsistent: {0}")]
    Damaged(String),
    /// Signing the checkpoint failed.
    #[error("signing the checkpoint: {0}")]
    Sign(String),
}

/// Appends to the tree every audit entry it lacks (up to [`MOST_PER_RUN`]) and signs a
/// checkpoint of the new tree, in one transaction of the region (which holds the audit head's
/// lock, so no entry is committed meanwhile). Returns the new size, or `None` if there was
/// nothing to append.
pub async fn sequence_once(
    store: &RegionStore,
    log: &Log,
    clock: &dyn Clock,
) -> Result<Option<u64>, SequenceError> {
    let mut tx = store.begin().await?;
    let audited = u64::try_from(tx.head().seq).unwrap_or_default();
    let (size, root) = rows::state(&mut tx).await?.unwrap_or((0, EMPTY_HASH));
    if audited <= size {
        tx.rollback().await?;
        return Ok(None);
    }
    let fetched = rows::hashes(&mut tx, &tree::root_indexes(size)).await?;
    let mut frontier =
        Frontier::new(size, fetched).map_err(|e| SequenceError::Damaged(e.to_string()))?;
    let stored_root = frontier
        .root()
        .map_err(|e| SequenceError::Damaged(e.to_string()))?;
    if stored_root != root {
        return Err(SequenceError::Damaged(format!(
            "the stored hashes give another root for size {size} than the one recorded"
        )));
    }
    let mut hashes: Vec<(u64, Hash)> = Vec::new();
    let mut tokens: Vec<(String, u64)> = Vec::new();
    let target = audited.min(size + MOST_PER_RUN);
    while frontier.size() < target {
        let after = i64::try_from(frontier.size()).unwrap_or(i64::MAX);
        let page = rows::audit_leaves(&mut tx, after, PAGE).await?;
        if page.is_empty() {
            return Err(SequenceError::Damaged(format!(
                "the audit head is at {audited} but the audit log ends at {after}"
            )));
        }
        for audit in &page {
            let index = frontier.size();
            if index >= target {
                break;
            }
            if u64::try_from(audit.seq).ok() != Some(index + 1) {
                return Err(SequenceError::Damaged(format!(
                    "audit entry {} follows entry {index} (a gap in the audit log)",
                    audit.seq
                )));
            }
            let leaf = leaf_of(audit);
            hashes.extend(
                frontier
                    .append(&leaf.to_bytes())
                    .map_err(|e| SequenceError::Damaged(e.to_string()))?,
            );
            if let Some(hash) = leaf.token_sha256 {
                tokens.push((hash, index));
            }
        }
    }
    let new_size = frontier.size();
    let new_root = frontier
        .root()
        .map_err(|e| SequenceError::Damaged(e.to_string()))?;
    rows::insert_hashes(&mut tx, &hashes).await?;
    rows::insert_tokens(&mut tx, &tokens).await?;
    if !rows::advance(&mut tx, size, new_size, &new_root).await? {
        // Another process's sequencer moved the tree meanwhile: its run stands.
        tx.rollback().await?;
        return Ok(None);
    }
    let note = sign_checkpoint(&log.key, new_size, &new_root)
        .map_err(|e| SequenceError::Sign(e.to_string()))?;
    let now = clock.now().seconds();
    rows::insert_checkpoint(&mut tx, new_size, &new_root, &note, now).await?;
    tx.commit().await?;
    log.metrics
        .entries
        .set(i64::try_from(new_size).unwrap_or(i64::MAX));
    Ok(Some(new_size))
}

/// Runs the sequencer until the process ends: at start (catching up with what a previous run
/// did not append), after every wake-up (plus the batching delay), and every `idle` otherwise.
/// Witnessing runs beside it (its own task): a witness that is slow or down never delays an
/// append.
pub async fn run(
    store: RegionStore,
    log: Arc<Log>,
    clock: Arc<dyn Clock>,
    idle: std::time::Duration,
) {
    let spawn_witnessing = || {
        AbortOnDrop(tokio::spawn(witness_loop(
            store.clone(),
            Arc::clone(&log),
            Arc::clone(&clock),
            idle,
        )))
    };
    // Ends with this task (the server aborts it at shutdown).
    let mut witnessing = spawn_witnessing();
    loop {
        // A run appends at most MOST_PER_RUN entries: repeat until there is nothing left.
        loop {
            match sequence_once(&store, &log, clock.as_ref()).await {
                Ok(Some(size)) => {
                    tracing::debug!(size, "transparency log extended");
                    log.witness_wake.notify_one();
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::error!(error = %e, "transparency log not extended");
                    break;
                }
            }
        }
        tokio::select! {
            () = log.wake.notified() => tokio::time::sleep(log.sequence_delay).await,
            () = tokio::time::sleep(idle) => {}
        }
        if witnessing.0.is_finished() {
            // It only ends by panicking: start it again rather than stop being witnessed.
            tracing::error!("the witnessing task ended; restarting it");
            witnessing = spawn_witnessing();
        }
    }
}

/// Offers the newest checkpoint to the witnesses after each append, and every `idle` until a
/// quorum cosigned it (a witness that was down is asked again).
async fn witness_loop(
    store: RegionStore,
    log: Arc<Log>,
    clock: Arc<dyn Clock>,
    idle: std::time::Duration,
) {
    loop {
        if let Err(e) = super::submit::witness_newest(&store, &log, clock.as_ref()).await {
            tracing::warn!(error = %e, "checkpoint not witnessed yet");
        }
        tokio::select! {
            () = log.witness_wake.notified() => {}
            () = tokio::time::sleep(idle) => {}
        }
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
