//! What both verification routes read from a request before its body: who the client is (for
//! the rate limit and the usage log), whether it may go on, the query and the declared media
//! type and length; and how a refused request is counted.

use std::net::SocketAddr;

use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::problem::{ApiError, Expected, Refusal};
use super::rate;
use super::state::ServerState;

/// `?fresh=true`: refetch the status list (and CRL) before answering.
#[derive(Deserialize)]
pub(super) struct VerifyQuery {
    #[serde(default)]
    fresh: bool,
}

/// The `fresh` flag of the query, or why the query is refused.
pub(super) fn fresh(query: Result<Query<VerifyQuery>, QueryRejection>) -> Result<bool, Refusal> {
    parsed_query(query).map(|query| query.fresh)
}

/// The parsed query, or why it is refused (400 `bad_query`).
pub(super) fn parsed_query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, Refusal> {
    match query {
        Ok(Query(query)) => Ok(query),
        Err(e) => Err(Refusal::BadQuery {
            detail: e.body_text(),
        }),
    }
}

/// The client's address: the peer, or what a trusted proxy says ([`rate::client_address`]).
fn client_address(state: &ServerState, headers: &HeaderMap, peer: SocketAddr) -> std::net::IpAddr {
    rate::client_address(headers, peer.ip(), state.trusted_proxy.as_deref())
}

/// Longest caller name logged, in characters.
const MAX_CALLER_CHARS: usize = 64;

/// What a broken multipart body is refused as: "too large" (413) when it went over `limit`,
/// whatever else is broken, else a bad multipart body for the route that `expected` it.
pub(super) fn multipart_refusal(
    e: &axum::extract::multipart::MultipartError,
    limit: usize,
    expected: Expected,
) -> Refusal {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        Refusal::BodyTooLarge { limit }
    } else {
        Refusal::BadMultipart {
            expected,
            detail: e.body_text(),
        }
    }
}

/// The header carrying a request's id.
pub(super) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request's id for the usage log (set or kept by the router's request-id layer), at most
/// [`MAX_CALLER_CHARS`] characters of it: a client may send its own.
pub(super) fn request_id(headers: &HeaderMap) -> &str {
    let id = headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    match id.char_indices().nth(MAX_CALLER_CHARS) {
        Some((end, _)) => &id[..end],
        None => id,
    }
}

/// The caller for the usage log: the `X-Client-Id` header (its first 64 characters), else the
/// client address. Borrowed from the request: nothing is copied per request to log it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Caller<'a> {
    /// What the client calls itself.
    Named(&'a str),
    /// Where it connects from.
    Address(std::net::IpAddr),
}

impl std::fmt::Display for Caller<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Caller::Named(name) => f.write_str(name),
            Caller::Address(address) => address.fmt(f),
        }
    }
}

pub(super) fn caller<'a>(
    state: &ServerState,
    headers: &'a HeaderMap,
    peer: SocketAddr,
) -> Caller<'a> {
    caller_behind(headers, peer, state.trusted_proxy.as_deref())
}

fn caller_behind<'a>(
    headers: &'a HeaderMap,
    peer: SocketAddr,
    proxy: Option<&rate::TrustedProxy>,
) -> Caller<'a> {
    match headers.get("x-client-id").and_then(|v| v.to_str().ok()) {
        Some(name) => {
            let end = name
                .char_indices()
                .nth(MAX_CALLER_CHARS)
                .map_or(name.len(), |(at, _)| at);
            Caller::Named(&name[..end])
        }
        None => Caller::Address(rate::client_address(headers, peer.ip(), proxy)),
    }
}

/// Outcome codes for the usage log, written as a list (`["status_unknown"]`) without
/// collecting them first.
pub(super) struct Codes<I>(pub(super) I);

impl<I, C> std::fmt::Debug for Codes<I>
where
    I: Iterator<Item = C> + Clone,
    C: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.clone()).finish()
    }
}

/// Typical size of a report as JSON (a licence report is ~1.9 KB, a seal answer without its
/// picture a little more): the buffer is allocated once at that size.
const REPORT_CAPACITY: usize = 4 * 1024;

/// A report as an `application/json` answer, serialized into one buffer of the usual size
/// (axum's `Json` starts at 128 bytes and grows five times for a licence report).
pub(super) fn json_answer<T: serde::Serialize>(report: &T) -> Result<Response, ApiError> {
    let mut body = Vec::with_capacity(REPORT_CAPACITY);
    serde_json::to_writer(&mut body, report).map_err(ApiError::Encoding)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
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
        (ApiError::Internal { .. } | ApiError::Encoding(_), _) => None,
    };
    if let Some(counter) = counter {
        counter.inc();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caller_is_the_client_id_cut_at_64_characters_else_the_address() {
        let peer: SocketAddr = "192.0.2.7:5000".parse().unwrap();
        let mut headers = HeaderMap::new();
        assert_eq!(caller_behind(&headers, peer, None).to_string(), "192.0.2.7");
        headers.insert("x-client-id", HeaderValue::from_static("bank-7"));
        assert_eq!(caller_behind(&headers, peer, None).to_string(), "bank-7");
        headers.insert(
            "x-client-id",
            HeaderValue::from_str(&"w".repeat(70)).unwrap(),
        );
        assert_eq!(
            caller_behind(&headers, peer, None).to_string(),
            "w".repeat(64)
        );
    }

    #[test]
    fn outcome_codes_are_logged_as_a_list() {
        let codes = ["status_unknown", "trust_list_stale"];
        assert_eq!(
            format!("{:?}", Codes(codes.iter())),
            format!("{:?}", codes.to_vec())
        );
        assert_eq!(format!("{:?}", Codes([0u8; 0].iter())), "[]");
    }
}
