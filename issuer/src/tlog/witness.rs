//! This issuer as a witness of other regions' logs (C2SP tlog-witness, witness side).
//!
//! It witnesses exactly the logs whose trust-list entry names its witness key, checks each
//! checkpoint against that entry's log key, and cosigns only a tree that extends the one it
//! cosigned before ([`huren_crypto::tlog::witness::decide`]). Its view is stored before the
//! cosignature leaves, with a check-and-set on the old size, so two concurrent requests can
//! never both advance it; a refused fork is kept as evidence (`witness_refusals`) and logged.

use huren_crypto::tlog::note::{self, add_signature_lines, NoteKeyPair};
use huren_crypto::tlog::witness::{decide, parse_request, Refusal, WitnessView};
use huren_crypto::tlog::TlogError;

use huren_crypto::time::Clock;
use huren_crypto::trust_list::TrustList;

use crate::store::log::{self as rows, ViewRow};
use crate::store::{RegionStore, StoreError};

/// A witness's answer that is not a cosignature.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// Refused per tlog-witness.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// Database failure (500).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Cosigning failed (500).
    #[error("cosigning: {0}")]
    Sign(String),
}

/// Handles an `add-checkpoint` request: the cosignature line to answer with.
pub async fn add_checkpoint(
    store: &RegionStore,
    trust: &TrustList,
    clock: &dyn Clock,
    key: &NoteKeyPair,
    body: &[u8],
) -> Result<String, WitnessError> {
    let request = parse_request(body)?;
    let origin = request
        .note
        .split('\n')
        .next()
        .unwrap_or_default()
        .to_owned();
    let unknown = || Refusal::UnknownLog(origin.chars().take(60).collect());
    // Only logs whose (checked) trust-list entry names this witness's key.
    let (_, trusted) = trust.log(&origin).ok_or_else(unknown)?;
    if !trusted.lists_witness(key.verifier_key()) {
        return Err(unknown().into());
    }
    let log_key = &trusted.key;
    let opened = note::open(request.note.as_bytes(), log_key, &[]).map_err(|e| match e {
        TlogError::Malformed(why) => Refusal::Malformed(why),
        other => Refusal::NotSigned(other.to_string()),
    })?;
    let mut conn = store.acquire().await?;
    let held = rows::witness_view(&mut conn, &origin).await?;
    let now = clock.now().seconds();
    let view = match decide(
        &request,
        &opened,
        held.as_ref().map(|h| WitnessView {
            size: h.size,
            root: h.root,
        }),
    ) {
        Ok(view) => view,
        Err(Refusal::Inconsistent(reason)) => {
            tracing::error!(%origin, size = opened.size, %reason, "refused a checkpoint inconsistent with the one cosigned before (fork or bad proof)");
            rows::record_refusal(&mut conn, &origin, &reason, &opened.note, now).await?;
            return Err(Refusal::Inconsistent(reason).into());
        }
        Err(other) => return Err(other.into()),
    };
    let time = u64::try_from(now).map_err(|_| WitnessError::Sign("clock before 1970".into()))?;
    let line = key
        .cosign(opened.text.as_bytes(), time)
        .map_err(|e| WitnessError::Sign(e.to_string()))?;
    // The view keeps the note with this witness's line: what a monitor or an auditor asking
    // this witness gets back (GET /v1/witness/checkpoint).
    let kept = add_signature_lines(&opened.note, std::slice::from_ref(&line))
        .map_err(|e| WitnessError::Sign(e.to_string()))?;
    let new = ViewRow {
        size: view.size,
        root: view.root,
        note: kept,
    };
    if !rows::advance_view(&mut conn, &origin, held.map(|h| h.size), &new, now).await? {
        let size = rows::witness_view(&mut conn, &origin)
            .await?
            .map_or(0, |v| v.size);
        return Err(Refusal::Conflict(size).into());
    }
    Ok(line)
}

/// The newest note this witness cosigned for `origin` (with its cosignature), if any.
pub async fn view(store: &RegionStore, origin: &str) -> Result<Option<String>, StoreError> {
    let mut conn = store.acquire().await?;
    Ok(rows::witness_view(&mut conn, origin).await?.map(|v| v.note))
}
