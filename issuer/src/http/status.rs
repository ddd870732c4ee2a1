//! The public documents a verifier fetches: status lists (`/v1/status/{id}`), the trust list
//! this issuer was given, and the region root's CRL (`/v1/crl`).

use axum::extract::{Path, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};

pub(super) async fn status_list(
    State(state): State<AppState>,
    Path(list_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let published = state
        .publisher
        .current(&state.issuer, &list_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no status list {list_id}")))?;
    let cache_control = format!("public, max-age={}", published.ttl);
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == published.etag));
    let headers = [
        (header::ETAG, published.etag.clone()),
        (header::CACHE_CONTROL, cache_control),
        (
            header::CONTENT_TYPE,
            "application/statuslist+jwt".to_owned(),
        ),
    ];
    if not_modified {
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    Ok((headers, published.token.to_string()).into_response())
}

pub(super) async fn trust_list(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/trustlist+jwt")],
        state.trust_list.to_string(),
    )
        .into_response()
}

/// `GET /v1/crl` (public): the region root's CRL, DER.
pub(super) async fn crl(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(file) = state.seals.crl() else {
        return Err(ApiError::NotFound("this issuer serves no CRL".into()));
    };
    let loaded = file
        .current()
        .await
        .ok_or_else(|| ApiError::Unavailable("the CRL cannot be read".into()))?;
    // Until the CA's nextUpdate, at most an hour: a new revocation reaches verifiers within
    // the hour even though the list itself claims longer.
    let now = state.issuer.clock.now();
    let max_age = loaded
        .crl
        .next_update()
        .map_or(0, |next| (next.seconds() - now.seconds()).clamp(0, 3600));
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == loaded.etag));
    let response_headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/pkix-crl"),
        ),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_str(&format!("public, max-age={max_age}"))
                .map_err(|e| ApiError::Internal(e.to_string()))?,
        ),
        (
            header::ETAG,
            HeaderValue::from_str(&loaded.etag).map_err(|e| ApiError::Internal(e.to_string()))?,
        ),
    ];
    if not_modified {
        return Ok((StatusCode::NOT_MODIFIED, response_headers).into_response());
    }
    Ok((response_headers, loaded.der.to_vec()).into_response())
}
