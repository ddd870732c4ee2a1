//! What both verification routes read from a request before its body: who the client is (for
//! the rate limit and the usage log), whether it may go on, the query and the declared media
//! type and length; and how a refused request is counted.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::problem::{ApiError, Expected, Refusal};
use super::{rate, ServerState};

/// `?fresh=true`: refetch the status list (and CRL) before answering.
#[derive(Deserialize)]
pub(super) struct VerifyQuery {
    #[serde(default)]
    fresh: bool,
}

/// The `fresh` flag of the query, or why the query is refused.
pub(super) fn fresh(query: Result<Query<VerifyQuery>, QueryRejection>) -> Result<bool, Refusal> {
    match query {
        Ok(Query(query)) => Ok(query.fresh),
        Err(e) => Err(Refusal::BadQuery {
            detail: e.body_text(),
        }),
    }
}

/// The client's address: the peer, or what a trusted proxy says ([`rate::client_address`]).
fn client_address(state: &ServerState, headers: &HeaderMap, peer: SocketAddr) -> std::net::IpAddr {
    rate::client_address(headers, peer.ip(), state.trusted_proxy.as_deref())
}

/// The caller for the usage log: the `X-Client-Id` header (bounded), else the client address.
pub(super) fn caller(state: &ServerState, headers: &HeaderMap, peer: SocketAddr) -> String {
    headers
        .get("x-client-id")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(64).collect::<String>())
        .unwrap_or_else(|| client_address(state, headers, peer).to_string())
}

/// Whether the client is within its rate.
pub(super) fn within_rate(
    state: &ServerState,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Result<(), Refusal> {
    let client = rate::ClientKey::of(client_address(state, headers, peer));
    if state.limiter.allow(client) {
        Ok(())
    } else {
        Err(Refusal::RateLimited)
    }
}

/// Counts a failed request against its route (rate-limited ones apart) and answers it.
pub(super) fn answer_error(state: &ServerState, route: Expected, error: ApiError) -> Response {
    let counter = match (&error, route) {
        (ApiError::Refused(Refusal::RateLimited), _) => Some(&state.metrics.rate_limited),
        (ApiError::Refused(_), Expected::Licence) => Some(&state.metrics.rejected),
        (ApiError::Refused(_), Expected::SealedDocument) => Some(&state.metrics.seal_rejected),
        (ApiError::Internal { .. }, _) => None,
    };
    if let Some(counter) = counter {
        counter.fetch_add(1, Ordering::Relaxed);
    }
    error.into_response()
}

/// The media type of a request, lower case, without parameters.
pub(super) fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The `Content-Length` a request declares, if any.
pub(super) fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}
