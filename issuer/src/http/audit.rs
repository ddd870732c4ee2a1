//! The region's audit log (`/v1/audit`, scope `audit` for every type) and the newest signed
//! head of its chain (`/v1/audit/head`, public).

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::{ApiError, AppState};
use crate::audit;
use crate::tokens::{self, Principal, Scope};

#[derive(Deserialize)]
pub(super) struct AuditQuery {
    #[serde(default)]
    after: i64,
    #[serde(default = "default_audit_limit")]
    limit: i64,
}

fn default_audit_limit() -> i64 {
    100
}

pub(super) async fn page(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    principal
        .require(Scope::Audit, &state.issuer.keys.region, None)
        .and_then(|()| {
            // The log covers every licence type: only a token for all types may read it.
            if principal.types.iter().any(|t| t == "*") {
                Ok(())
            } else {
                Err(tokens::Denied::Type(
                    "* (the audit log covers every type)".into(),
                ))
            }
        })?;
    let limit = query.limit.clamp(1, 1000);
    let entries = audit::page(&state.issuer.store, query.after.max(0), limit)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let next = (entries.len() as i64 == limit)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    Ok(Json(serde_json::json!({"entries": entries, "next_after": next})).into_response())
}

/// `GET /v1/audit/head` (public): the newest signed head of the region's audit chain
/// (`anchor`). Public on purpose: it holds a count and a hash, no personal data, and every copy
/// someone else keeps is one more anchor a database writer cannot reach (the transparency log
/// of SPEC §12 will publish its checkpoints the same way).
pub(super) async fn head(State(state): State<AppState>) -> Result<Response, ApiError> {
    let token = state
        .issuer
        .heads
        .newest()
        .ok_or_else(|| ApiError::NotFound("no audit head has been signed yet".into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/huren-audit-head+jwt"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        token.to_string(),
    )
        .into_response())
}
