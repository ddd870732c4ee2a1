//! What the handlers take from a request: a JSON body whose errors name the field
//! ([`ApiJson`], [`parse_json`]), the bearer token's [`Principal`], the `Idempotency-Key`, and
//! whether the client asked for JSON.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::{self, HeaderMap};
use axum::http::request::Parts;
use axum::http::StatusCode;
use huren_crypto::licence::FieldError;
use serde::de::DeserializeOwned;

use super::{ApiError, AppState};
use crate::record_status::StatusChange;
use crate::tokens::{self, Principal};

/// A JSON body, with its raw bytes (for Idempotency-Key), whose errors name the field.
#[derive(Debug)]
pub struct ApiJson<T> {
    /// The parsed value.
    pub value: T,
    /// The body as received.
    pub raw: Bytes,
}

/// Whether the request says its body is JSON (`application/json` or `…+json`).
pub fn json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            let v = v.trim();
            v == "application/json" || v.ends_with("+json")
        })
}

/// Parses JSON, classifying errors: syntax → 400, wrong shape → 422 naming the field path.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => ApiError::Invalid(vec![FieldError {
                field: field_path(&path, &inner.to_string()),
                message: inner.to_string(),
            }]),
            _ => ApiError::BadJson(inner.to_string()),
        }
    })?;
    deserializer
        .end()
        .map_err(|e| ApiError::BadJson(e.to_string()))?;
    Ok(value)
}

/// The JSON path of a data error. serde reports a missing field at its parent object, so the
/// field's own name is taken from the message ("missing field `number`").
fn field_path(path: &str, message: &str) -> String {
    let parent = if path == "." { "" } else { path };
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    match (parent, missing) {
        ("", Some(field)) => field.to_owned(),
        (parent, Some(field)) => format!("{parent}.{field}"),
        ("", None) => "body".to_owned(),
        (parent, None) => parent.to_owned(),
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(request.headers()) {
            return Err(ApiError::UnsupportedMediaType(
                "send Content-Type: application/json".into(),
            ));
        }
        let raw = body_bytes(request, state).await?;
        Ok(ApiJson {
            value: parse_json(&raw)?,
            raw,
        })
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                // RFC 7235: the scheme name is case-insensitive.
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then_some(token)
            })
            .map(str::trim);
        let principal = match token {
            Some(token) => tokens::authenticate(
                &state.issuer.store,
                token,
                state.issuer.clock.now().seconds(),
            )
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?,
            None => None,
        };
        principal.ok_or_else(|| {
            state.metrics.denied.inc();
            ApiError::Unauthorized
        })
    }
}

/// The path of a status change, `…/{id}/{change}`: the record's id and the change its last
/// segment names. Any other last segment is no endpoint (404), decided before the token or
/// the body is looked at, as for every unknown path.
#[derive(Debug)]
pub struct ChangePath {
    /// The 证照标识 or esID.
    pub id: String,
    /// What is asked.
    pub change: StatusChange,
}

impl<S: Send + Sync> FromRequestParts<S> for ChangePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let no_endpoint = || ApiError::NotFound("no such endpoint".into());
        let Path((id, word)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|_| no_endpoint())?;
        let change = StatusChange::parse(&word).ok_or_else(no_endpoint)?;
        Ok(ChangePath { id, change })
    }
}

/// The body's bytes, with the envelope's errors (413 over the route's limit).
pub async fn body_bytes<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge
            } else {
                ApiError::BadJson(rejection.body_text())
            }
        })
}

/// Whether the client asked for JSON rather than the DER file: `application/json` acceptable
/// and not ranked below `application/octet-stream`.
pub fn wants_json(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let quality = |wanted: &str| {
        accept
            .split(',')
            .filter_map(|range| {
                let mut parts = range.split(';');
                let media = parts.next()?.trim();
                if !media.eq_ignore_ascii_case(wanted) {
                    return None;
                }
                let q = parts
                    .filter_map(|p| p.trim().strip_prefix("q="))
                    .find_map(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                Some(q)
            })
            .fold(None, |best: Option<f32>, q| {
                Some(best.map_or(q, |b| b.max(q)))
            })
    };
    match (
        quality("application/json"),
        quality("application/octet-stream"),
    ) {
        (Some(json), Some(der)) => json > 0.0 && json >= der,
        (Some(json), None) => json > 0.0,
        (None, _) => false,
    }
}

/// The `Idempotency-Key` header, if sent: 1 to 200 visible ASCII characters.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    match headers
        .get("idempotency-key")
        .map(|v| v.to_str().map(str::to_owned))
    {
        Some(Ok(key)) if !key.is_empty() && key.len() <= 200 => Ok(Some(key)),
        Some(_) => Err(ApiError::Invalid(vec![FieldError {
            field: "Idempotency-Key".into(),
            message: "must be 1 to 200 visible ASCII characters".into(),
        }])),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::header::HeaderValue;

    use super::*;

    #[test]
    fn json_is_chosen_only_when_asked_for() {
        let accept = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
            wants_json(&headers)
        };
        assert!(!wants_json(&HeaderMap::new()));
        assert!(accept("application/json"));
        assert!(accept("application/json, application/octet-stream"));
        assert!(!accept("application/octet-stream, application/json;q=0.5"));
        assert!(!accept("application/json;q=0"));
        assert!(!accept("*/*"));
    }

    #[test]
    fn field_paths_name_the_missing_field_or_the_bad_one() {
        assert_eq!(field_path(".", "missing field `number`"), "number");
        assert_eq!(field_path("holder", "missing field `id`"), "holder.id");
        assert_eq!(field_path(".", "invalid type"), "body");
        assert_eq!(
            field_path("holder.id_type", "unknown variant"),
            "holder.id_type"
        );
    }
}
