//! The region's transparency log (SPEC §12, C2SP tlog-tiles; public, no personal data):
//! `/v1/log/checkpoint`, `/v1/log/tile/…`, `/v1/log/proof`; and this issuer as a witness of
//! other regions' logs (C2SP tlog-witness): `POST /v1/witness/add-checkpoint`,
//! `GET /v1/witness/checkpoint?origin=…`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use huren_crypto::licence::FieldError;
use huren_crypto::tlog::entry::is_sha256_hex;
use huren_crypto::tlog::tiles::{bundle, TilePath};
use huren_crypto::tlog::tree;
use huren_crypto::tlog::witness::{Refusal, SIZE_CONTENT_TYPE};
use serde::Deserialize;

use super::{ApiError, AppState};
use crate::store::log as rows;
use crate::tlog::{leaf_of, witness, Log};

const NOTE_TYPE: &str = "text/plain; charset=utf-8";

fn log_of(state: &AppState) -> Result<Arc<Log>, ApiError> {
    state.issuer.log.clone().ok_or_else(|| {
        ApiError::NotFound("this issuer keeps no transparency log (no log key)".into())
    })
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// `GET /v1/log/checkpoint`: the newest checkpoint, with the cosignatures it has.
pub(super) async fn checkpoint(State(state): State<AppState>) -> Result<Response, ApiError> {
    log_of(&state)?;
    let mut conn = state.issuer.store.acquire().await.map_err(internal)?;
    let newest = rows::newest_checkpoint(&mut conn)
        .await
        .map_err(internal)?
        .ok_or_else(|| ApiError::NotFound("the log has no checkpoint yet".into()))?;
    let body = newest.cosigned.unwrap_or(newest.note);
    Ok((
        [
            (header::CONTENT_TYPE, NOTE_TYPE),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response())
}

/// `GET /v1/log/tile/{*path}`: a hash tile or an entry bundle of the newest checkpoint's tree.
/// Tiles never change once served (a partial tile of width W is a prefix of every wider
/// version), so they are cached for good.
pub(super) async fn tile(
    State(state): State<AppState>,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    log_of(&state)?;
    let tile =
        TilePath::parse(&format!("tile/{path}")).map_err(|e| ApiError::NotFound(e.to_string()))?;
    let mut conn = state.issuer.store.acquire().await.map_err(internal)?;
    let size = rows::newest_checkpoint(&mut conn)
        .await
        .map_err(internal)?
        .map_or(0, |c| c.size);
    if !tile.within(size) {
        return Err(ApiError::NotFound(format!(
            "{} is beyond the newest checkpoint ({size} entries)",
            tile.to_path()
        )));
    }
    let width = u64::from(tile.width);
    let body = match tile.level {
        Some(_) => rows::tile(&mut conn, tile.tree_level(), tile.first(), width)
            .await
            .map_err(internal)?
            .ok_or_else(|| internal(format!("{} is missing hashes", tile.to_path())))?,
        None => {
            let after = i64::try_from(tile.first()).map_err(internal)?;
            let leaves = rows::audit_leaves(&mut conn, after, i64::from(tile.width))
                .await
                .map_err(internal)?;
            if leaves.len() as u64 != width {
                return Err(internal(format!("{} is missing entries", tile.to_path())));
            }
            let entries: Vec<Vec<u8>> = leaves.iter().map(|l| leaf_of(l).to_bytes()).collect();
            bundle(&entries).map_err(internal)?
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        body,
    )
        .into_response())
}

#[derive(Deserialize)]
pub(super) struct ProofQuery {
    index: Option<u64>,
    token_sha256: Option<String>,
}

fn bad(field: &str, message: &str) -> ApiError {
    ApiError::Invalid(vec![FieldError {
        field: field.into(),
        message: message.into(),
    }])
}

/// `GET /v1/log/proof?index=N` or `?token_sha256=H`: the inclusion proof of a leaf against the
/// newest witnessed checkpoint, with the leaf itself.
pub(super) async fn proof(
    State(state): State<AppState>,
    Query(query): Query<ProofQuery>,
) -> Result<Response, ApiError> {
    log_of(&state)?;
    let mut conn = state.issuer.store.acquire().await.map_err(internal)?;
    let index = match (query.index, query.token_sha256) {
        (Some(index), None) => index,
        (None, Some(hash)) => {
            if !is_sha256_hex(&hash) {
                return Err(bad("token_sha256", "must be 64 lower-case hex digits"));
            }
            rows::token_index(&mut conn, &hash)
                .await
                .map_err(internal)?
                .ok_or_else(|| ApiError::NotLogged(format!("no log entry records token {hash}")))?
        }
        _ => return Err(bad("query", "give exactly one of index and token_sha256")),
    };
    let witnessed = rows::newest_witnessed(&mut conn).await.map_err(internal)?;
    let Some(witnessed) = witnessed.filter(|w| index < w.size) else {
        let logged = rows::state(&mut conn)
            .await
            .map_err(internal)?
            .is_some_and(|(size, _)| index < size);
        return Err(if logged {
            ApiError::NotWitnessed(format!(
                "entry {index} is logged but no witnessed checkpoint covers it yet"
            ))
        } else {
            ApiError::NotLogged(format!("the log has no entry {index} yet"))
        });
    };
    let indexes = tree::inclusion_indexes(witnessed.size, index).map_err(internal)?;
    let fetched = rows::hashes(&mut conn, &indexes).await.map_err(internal)?;
    let proof = tree::inclusion_proof(witnessed.size, index, &fetched).map_err(internal)?;
    let after = i64::try_from(index).map_err(internal)?;
    let leaf = rows::audit_leaves(&mut conn, after, 1)
        .await
        .map_err(internal)?
        .first()
        .map(leaf_of)
        .ok_or_else(|| internal(format!("audit entry {} is missing", index + 1)))?;
    let entry = String::from_utf8(leaf.to_bytes()).map_err(internal)?;
    Ok(Json(serde_json::json!({
        "index": index,
        "tree_size": witnessed.size,
        "proof": proof.iter().map(|h| STANDARD.encode(h.0)).collect::<Vec<_>>(),
        "checkpoint": witnessed.cosigned.unwrap_or(witnessed.note),
        "entry": entry,
    }))
    .into_response())
}

/// `POST /v1/witness/add-checkpoint` (C2SP tlog-witness).
pub(super) async fn add_checkpoint(State(state): State<AppState>, body: Bytes) -> Response {
    let Some(key) = state.issuer.witness_key.clone() else {
        return (StatusCode::NOT_FOUND, "this issuer is not a witness\n").into_response();
    };
    let issuer = &state.issuer;
    match witness::add_checkpoint(
        &issuer.store,
        &issuer.trust,
        issuer.clock.as_ref(),
        &key,
        &body,
    )
    .await
    {
        Ok(line) => ([(header::CONTENT_TYPE, NOTE_TYPE)], line).into_response(),
        Err(witness::WitnessError::Refused(Refusal::Conflict(size))) => (
            StatusCode::CONFLICT,
            [(header::CONTENT_TYPE, SIZE_CONTENT_TYPE)],
            format!("{size}\n"),
        )
            .into_response(),
        Err(witness::WitnessError::Refused(refusal)) => {
            if matches!(refusal, Refusal::Inconsistent(_)) {
                state.metrics.witness_refusals.inc();
            }
            let status =
                StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (
                status,
                [(header::CONTENT_TYPE, NOTE_TYPE)],
                format!("{refusal}\n"),
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "witnessing failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
        }
    }
}

#[derive(Deserialize)]
pub(super) struct ViewQuery {
    origin: String,
}

/// `GET /v1/witness/checkpoint?origin=…`: the newest checkpoint this witness cosigned for a
/// log, with its cosignature — what an auditor compares a database with.
pub(super) async fn witnessed_view(
    State(state): State<AppState>,
    Query(query): Query<ViewQuery>,
) -> Result<Response, ApiError> {
    let note = witness::view(&state.issuer.store, &query.origin)
        .await
        .map_err(internal)?
        .ok_or_else(|| {
            ApiError::NotFound("this witness has cosigned nothing for that log".into())
        })?;
    Ok((
        [
            (header::CONTENT_TYPE, NOTE_TYPE),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        note,
    )
        .into_response())
}
