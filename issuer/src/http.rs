//! The HTTP API of SPEC §7 (issuer): routes, the bearer-token extractor, the JSON extractor
//! that names bad fields, and the one error envelope (RFC 9457 problem JSON).
//!
//! Client mistakes are always 4xx with a stable `code`; a 5xx is logged with its cause and the
//! client sees only a generic message.
//!
//! Over 800 lines until issue 11 moves it to `issuer/src/http/` with one file per resource.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Path, Query, Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use huren_crypto::licence::FieldError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::audit;
use crate::issuance::{request_hash, IssueError, IssueRequest, Issuer, StatusChange};
use crate::metrics::Metrics;
use crate::publish::{PublishError, Publisher};
use crate::render;
use crate::seals::{self, Seals};
use crate::tokens::{self, Principal, Scope};

/// Largest request body accepted (a batch of a few hundred licences).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// Most items in one batch.
pub const MAX_BATCH_ITEMS: usize = 1000;

/// Shared state of the handlers.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The issuing core.
    pub issuer: Arc<Issuer>,
    /// Status-list cache.
    pub publisher: Arc<Publisher>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// The trust list this issuer was given (served as a convenience).
    pub trust_list: Arc<str>,
    /// Seal keys, the CRL and the sealing limits (SPEC §8).
    pub seals: Arc<Seals>,
}

/// Every route.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/licences", post(issue))
        .route("/v1/licences/batch", post(issue_batch))
        .route("/v1/licences/{jti}", get(read_licence))
        .route("/v1/licences/{jti}/qr.png", get(qr_png))
        .route("/v1/licences/{jti}/qr.svg", get(qr_svg))
        .route("/v1/licences/{jti}/view", get(view))
        .route("/v1/licences/{jti}/revoke", post(revoke))
        .route("/v1/licences/{jti}/suspend", post(suspend))
        .route("/v1/licences/{jti}/reinstate", post(reinstate))
        .route("/v1/status/{list_id}", get(status_list))
        .route("/v1/trust-list", get(trust_list))
        .route("/v1/audit", get(audit_page))
        .route("/v1/audit/head", get(audit_head))
        .route("/v1/seals", post(seals::make))
        .route("/v1/seals/{es_id}", get(seals::read))
        .route("/v1/seals/{es_id}/revoke", post(seals::revoke))
        .route("/v1/seals/{es_id}/suspend", post(seals::suspend))
        .route("/v1/seals/{es_id}/reinstate", post(seals::reinstate))
        // Documents are larger than any JSON body: this route alone takes up to
        // `seals::MAX_DOCUMENT_BYTES` (the innermost limit is the one that applies).
        .route(
            "/v1/seals/{es_id}/sign",
            post(seals::sign).layer(axum::extract::DefaultBodyLimit::max(
                seals::MAX_DOCUMENT_BYTES,
            )),
        )
        .route("/v1/crl", get(seals::crl))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

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
    /// Nothing there (404).
    NotFound(String),
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
            ApiError::NotFound(detail) => (
                StatusCode::NOT_FOUND,
                "not_found",
                "Not found",
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

impl From<PublishError> for ApiError {
    fn from(e: PublishError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

/// A JSON body, with its raw bytes (for Idempotency-Key), whose errors name the field.
#[derive(Debug)]
pub struct ApiJson<T> {
    /// The parsed value.
    pub value: T,
    /// The body as received.
    pub raw: Bytes,
}

fn json_content_type(headers: &HeaderMap) -> bool {
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
        let raw = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::TooLarge
                } else {
                    ApiError::BadJson(rejection.body_text())
                }
            })?;
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
            state.metrics.denied.fetch_add(1, Ordering::Relaxed);
            ApiError::Unauthorized
        })
    }
}

async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status();
    if status == StatusCode::FORBIDDEN {
        state.metrics.denied.fetch_add(1, Ordering::Relaxed);
    }
    state
        .metrics
        .observe(&route, status.as_u16(), started.elapsed());
    response
}

async fn issue(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: ApiJson<IssueRequest>,
) -> Result<Response, ApiError> {
    let key = headers
        .get("idempotency-key")
        .map(|v| v.to_str().map(str::to_owned));
    let key = match key {
        Some(Ok(key)) if !key.is_empty() && key.len() <= 200 => Some(key),
        Some(_) => {
            return Err(ApiError::Invalid(vec![FieldError {
                field: "Idempotency-Key".into(),
                message: "must be 1 to 200 visible ASCII characters".into(),
            }]))
        }
        None => None,
    };
    let hash = request_hash(&body.raw);
    let (issued, created) = state
        .issuer
        .issue(
            &principal,
            &body.value,
            key.as_deref().map(|k| (k, hash.as_str())),
        )
        .await?;
    if created {
        state.metrics.issued.fetch_add(1, Ordering::Relaxed);
        tracing::info!(jti = %issued.id, by = %principal.id, "issued");
    }
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(issued)).into_response())
}

#[derive(Serialize)]
struct BatchItem {
    index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    licence: Option<crate::issuance::Issued>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<BatchError>,
}

#[derive(Serialize)]
struct BatchError {
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError>,
}

async fn issue_batch(
    State(state): State<AppState>,
    principal: Principal,
    request: Request,
) -> Result<Response, ApiError> {
    // The token must be able to issue in this region at all; per-type checks follow per item.
    principal
        .require(Scope::Issue, &state.issuer.keys.region, None)
        .map_err(|e| ApiError::Forbidden(e.to_string()))?;
    let ndjson = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-ndjson"));
    if !ndjson && !json_content_type(request.headers()) {
        return Err(ApiError::UnsupportedMediaType(
            "send application/json (an array) or application/x-ndjson".into(),
        ));
    }
    let raw = Bytes::from_request(request, &state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge
            } else {
                ApiError::BadJson(rejection.body_text())
            }
        })?;
    let requests: Vec<IssueRequest> = if ndjson {
        let text =
            std::str::from_utf8(&raw).map_err(|_| ApiError::BadJson("body is not UTF-8".into()))?;
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .enumerate()
            .map(|(i, line)| {
                parse_json::<IssueRequest>(line.as_bytes()).map_err(|e| match e {
                    ApiError::Invalid(mut errors) => {
                        for error in &mut errors {
                            error.field = format!("[{i}].{}", error.field);
                        }
                        ApiError::Invalid(errors)
                    }
                    ApiError::BadJson(detail) => {
                        ApiError::BadJson(format!("line {}: {detail}", i + 1))
                    }
                    other => other,
                })
            })
            .collect::<Result<_, _>>()?
    } else {
        parse_json(&raw)?
    };
    if requests.len() > MAX_BATCH_ITEMS {
        return Err(ApiError::Invalid(vec![FieldError {
            field: "body".into(),
            message: format!("at most {MAX_BATCH_ITEMS} licences per batch"),
        }]));
    }
    let results = state.issuer.issue_batch(&principal, &requests).await?;
    let items: Vec<BatchItem> = results
        .into_iter()
        .enumerate()
        .map(|(index, result)| match result {
            Ok(issued) => {
                state.metrics.issued.fetch_add(1, Ordering::Relaxed);
                BatchItem {
                    index,
                    licence: Some(issued),
                    error: None,
                }
            }
            Err(e) => {
                let (status, detail, errors) = match ApiError::from(e) {
                    ApiError::Invalid(errors) => (422, "invalid fields".to_owned(), errors),
                    ApiError::Forbidden(d) => (403, d, vec![]),
                    ApiError::Conflict(d) => (409, d, vec![]),
                    ApiError::NotFound(d) => (404, d, vec![]),
                    other => (500, format!("{other:?}"), vec![]),
                };
                BatchItem {
                    index,
                    licence: None,
                    error: Some(BatchError {
                        status,
                        detail,
                        errors,
                    }),
                }
            }
        })
        .collect();
    let issued = items.iter().filter(|i| i.licence.is_some()).count();
    Ok(
        Json(serde_json::json!({"issued": issued, "failed": items.len() - issued, "items": items}))
            .into_response(),
    )
}

async fn read_licence(
    State(state): State<AppState>,
    principal: Principal,
    Path(jti): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(state.issuer.licence(&principal, &jti).await?).into_response())
}

async fn qr_png(
    State(state): State<AppState>,
    principal: Principal,
    Path(jti): Path<String>,
) -> Result<Response, ApiError> {
    let record = state.issuer.licence(&principal, &jti).await?;
    let png = render::qr_png(&record.qr_text, 4).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        png,
    )
        .into_response())
}

async fn qr_svg(
    State(state): State<AppState>,
    principal: Principal,
    Path(jti): Path<String>,
) -> Result<Response, ApiError> {
    let record = state.issuer.licence(&principal, &jti).await?;
    let svg = render::qr_svg(&record.qr_text).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        svg,
    )
        .into_response())
}

async fn view(
    State(state): State<AppState>,
    principal: Principal,
    Path(jti): Path<String>,
) -> Result<Response, ApiError> {
    let record = state.issuer.licence(&principal, &jti).await?;
    let claims = state
        .issuer
        .claims_of(&record.token)
        .map_err(ApiError::Internal)?;
    let labels: Vec<(String, String)> = state
        .issuer
        .catalogue
        .get(&record.type_code)
        .map(|t| {
            t.face_fields
                .iter()
                .map(|f| (f.key.clone(), f.label.clone()))
                .collect()
        })
        .unwrap_or_default();
    let status_text = match record.current_status {
        crate::issuance::LicenceStatus::Valid => None,
        crate::issuance::LicenceStatus::Revoked => Some("已吊销/注销 Revoked"),
        crate::issuance::LicenceStatus::Suspended => Some("已暂扣 Suspended"),
    };
    let html = render::licence_html(&render::LicenceHtml {
        claims: &claims,
        qr_text: &record.qr_text,
        face_labels: &labels,
        province_name: &state.issuer.keys.region_name,
        status_text,
    });
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    reason: String,
}

async fn change(
    state: AppState,
    principal: Principal,
    jti: String,
    change: StatusChange,
    body: ReasonBody,
) -> Result<Response, ApiError> {
    let record = state
        .issuer
        .change_status(&principal, &jti, change, &body.reason)
        .await?;
    let counter = match change {
        StatusChange::Revoke => &state.metrics.revoked,
        StatusChange::Suspend => &state.metrics.suspended,
        StatusChange::Reinstate => &state.metrics.reinstated,
    };
    counter.fetch_add(1, Ordering::Relaxed);
    tracing::info!(jti = %jti, by = %principal.id, change = ?change, "status changed");
    Ok(Json(record).into_response())
}

async fn revoke(
    State(s): State<AppState>,
    p: Principal,
    Path(jti): Path<String>,
    body: ApiJson<ReasonBody>,
) -> Result<Response, ApiError> {
    change(s, p, jti, StatusChange::Revoke, body.value).await
}

async fn suspend(
    State(s): State<AppState>,
    p: Principal,
    Path(jti): Path<String>,
    body: ApiJson<ReasonBody>,
) -> Result<Response, ApiError> {
    change(s, p, jti, StatusChange::Suspend, body.value).await
}

async fn reinstate(
    State(s): State<AppState>,
    p: Principal,
    Path(jti): Path<String>,
    body: ApiJson<ReasonBody>,
) -> Result<Response, ApiError> {
    change(s, p, jti, StatusChange::Reinstate, body.value).await
}

async fn status_list(
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

async fn trust_list(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/trustlist+jwt")],
        state.trust_list.to_string(),
    )
        .into_response()
}

#[derive(Deserialize)]
struct AuditQuery {
    #[serde(default)]
    after: i64,
    #[serde(default = "default_audit_limit")]
    limit: i64,
}

fn default_audit_limit() -> i64 {
    100
}

async fn audit_page(
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
        })
        .map_err(|e| ApiError::Forbidden(e.to_string()))?;
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
async fn audit_head(State(state): State<AppState>) -> Result<Response, ApiError> {
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

async fn ready(State(state): State<AppState>) -> Response {
    match state.issuer.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({"ready": true, "database": "ok", "keys": "loaded", "region": state.issuer.keys.region.as_str()}))).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({"ready": false, "database": "unreachable"}))).into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("openapi.json"),
    )
        .into_response()
}
