//! The one error envelope of the issuer's API (RFC 9457 problem JSON): each [`ApiError`]
//! variant has one status and one stable `code`, and each domain error ([`IssueError`],
//! [`CopyError`], [`SealError`], [`PublishError`], [`Denied`]) is mapped to it here, once.
//!
//! Client mistakes are always 4xx with a stable `code`; a 5xx is logged with its cause and the
//! client sees only a generic message.

use axum::http::header::{self, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use huren_crypto::licence::FieldError;
use serde::Serialize;

use super::MAX_BODY_BYTES;
use crate::copies::CopyError;
use crate::issuance::IssueError;
use crate::publish::PublishError;
use crate::seals::SealError;
use crate::tokens::Denied;

/// The error envelope: each variant has one status and one stable code.
#[derive(Debug)]
pub enum ApiError {
    /// Body is not JSON (400).
    BadJson(String),
    /// Fields are wrong (422).
    Invalid(Vec<FieldError>),
    /// No or unknown token (401).
    Unauthorized,
    /// Not allowed (403).
    Forbidden(String),
    /// A copy asked for by someone other than the licence's holder (403, `holder_mismatch`).
    HolderMismatch,
    /// Nothing there (404).
    NotFound(String),
    /// The transparency log has no such entry (404, `not_logged`).
    NotLogged(String),
    /// The entry is logged but not yet in a witnessed checkpoint (404, `not_witnessed`).
    NotWitnessed(String),
    /// State conflict (409).
    Conflict(String),
    /// Idempotency-Key reused for another request (422).
    IdempotencyMismatch,
    /// Body too large (413).
    TooLarge,
    /// Wrong content type (415).
    UnsupportedMediaType(String),
    /// Body over an endpoint's own limit (413), stated in bytes.
    BodyTooLarge(usize),
    /// The feature is not available on this issuer (503), and why.
    Unavailable(String),
    /// Our fault (500); the cause is logged, not sent.
    Internal(String),
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    code: &'a str,
    detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, title, detail, errors) = match self {
            ApiError::BadJson(detail) => (
                StatusCode::BAD_REQUEST,
                "malformed_json",
                "Malformed JSON",
                detail,
                vec![],
            ),
            ApiError::Invalid(errors) => {
                let detail = errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_fields",
                    "Invalid fields",
                    detail,
                    errors,
                )
            }
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Unauthorized",
                "a valid bearer token is required (Authorization: Bearer hrt_…)".into(),
                vec![],
            ),
            ApiError::Forbidden(detail) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Forbidden",
                detail,
                vec![],
            ),
            ApiError::HolderMismatch => (
                StatusCode::FORBIDDEN,
                "holder_mismatch",
                "Not the licence's holder",
                "the holder asserted (holder.id_type, holder.id) is not the licence's holder: \
                 only the holder can consent to a copy"
                    .into(),
                vec![],
            ),
            ApiError::NotFound(detail) => (
                StatusCode::NOT_FOUND,
                "not_found",
                "Not found",
                detail,
                vec![],
            ),
            ApiError::NotLogged(detail) => (
                StatusCode::NOT_FOUND,
                "not_logged",
                "Not in the log",
                detail,
                vec![],
            ),
            ApiError::NotWitnessed(detail) => (
                StatusCode::NOT_FOUND,
                "not_witnessed",
                "Not yet witnessed",
                detail,
                vec![],
            ),
            ApiError::Conflict(detail) => {
                (StatusCode::CONFLICT, "conflict", "Conflict", detail, vec![])
            }
            ApiError::IdempotencyMismatch => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "Idempotency-Key reused",
                "this Idempotency-Key was already used with a different request body".into(),
                vec![],
            ),
            ApiError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "Body too large",
                format!("request bodies are limited to {MAX_BODY_BYTES} bytes"),
                vec![],
            ),
            ApiError::UnsupportedMediaType(detail) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
                detail,
                vec![],
            ),
            ApiError::BodyTooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "Body too large",
                format!("this endpoint takes bodies of at most {limit} bytes"),
                vec![],
            ),
            ApiError::Unavailable(detail) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
                detail,
                vec![],
            ),
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    "the issuer could not complete the request".into(),
                    vec![],
                )
            }
        };
        let problem = Problem {
            kind: format!("https://huren.invalid/problems/{code}"),
            title,
            status: status.as_u16(),
            code,
            detail,
            errors,
        };
        let mut response = (status, Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<IssueError> for ApiError {
    fn from(e: IssueError) -> Self {
        match e {
            IssueError::Invalid(errors) => ApiError::Invalid(errors),
            IssueError::Denied(denied) => ApiError::Forbidden(denied.to_string()),
            IssueError::NotFound(jti) => ApiError::NotFound(format!("no licence {jti}")),
            IssueError::Conflict(detail) => ApiError::Conflict(detail),
            IssueError::IdempotencyMismatch => ApiError::IdempotencyMismatch,
            IssueError::Store(e) => ApiError::Internal(e.to_string()),
            IssueError::Sign(e) => ApiError::Internal(e),
        }
    }
}

impl From<CopyError> for ApiError {
    fn from(e: CopyError) -> Self {
        match e {
            CopyError::Invalid(errors) => ApiError::Invalid(errors),
            CopyError::Denied(denied) => ApiError::Forbidden(denied.to_string()),
            CopyError::HolderMismatch => ApiError::HolderMismatch,
            CopyError::NoLicence(jti) => ApiError::NotFound(format!("no licence {jti}")),
            CopyError::NoCopy(id) => ApiError::NotFound(format!("no copy {id}")),
            CopyError::Conflict(detail) => ApiError::Conflict(detail),
            CopyError::Store(e) => ApiError::Internal(e.to_string()),
            CopyError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<SealError> for ApiError {
    fn from(e: SealError) -> Self {
        match e {
            SealError::Invalid(errors) => ApiError::Invalid(errors),
            SealError::Denied(denied) => ApiError::Forbidden(denied.to_string()),
            SealError::NotFound(detail) => ApiError::NotFound(detail),
            SealError::Conflict(detail) => ApiError::Conflict(detail),
            SealError::IdempotencyMismatch => ApiError::IdempotencyMismatch,
            SealError::Unavailable(detail) => ApiError::Unavailable(detail),
            SealError::Store(e) => ApiError::Internal(e.to_string()),
            SealError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<Denied> for ApiError {
    fn from(denied: Denied) -> Self {
        ApiError::Forbidden(denied.to_string())
    }
}

impl From<PublishError> for ApiError {
    fn from(e: PublishError) -> Self {
        ApiError::Internal(e.to_string())
    }
}
