//! The verification service (`huren verifier serve`, feature `server`): `POST /v1/verify`,
//! `POST /v1/seals/verify`, `GET /v1/trust`, health, metrics, OpenAPI and the clerk's page
//! (SPEC §7, §8, §9).
//!
//! Verification outcomes are data: HTTP 200 whatever the verdict; 4xx only for requests that
//! are not a licence (or a sealed document) at all (no input, unreadable image, wrong content
//! type, too large, rate limited). Every verification is logged for 用证留痕 with the licence
//! id or esID, verdict, reasons, time and caller — never the holder's name or identifiers,
//! never document content.

pub mod config;
mod page;
pub mod rate;
mod seal;

pub use seal::{MAX_DOCUMENT_BYTES, MAX_SEAL_BODY_BYTES, MAX_SIGNATURE_BYTES};

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::multipart::MultipartError;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, Multipart, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::Verifier;

/// Largest request body (a phone photo of a QR code).
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// How long a client waits for a photo to be decoded before getting an answer.
const IMAGE_DECODE_BUDGET: Duration = Duration::from_secs(3);
/// Largest decoded image, in pixels per side.
const MAX_IMAGE_SIDE: u32 = 6000;

/// Shared state.
#[derive(Clone)]
pub struct ServerState {
    /// The verifier.
    pub verifier: Arc<Verifier>,
    /// Per-client rate limiter.
    pub limiter: Arc<rate::RateLimiter>,
    /// The reverse proxy whose header names the client (none: the TCP peer is the client).
    pub trusted_proxy: Option<Arc<rate::TrustedProxy>>,
    /// Counters.
    pub metrics: Arc<ServerMetrics>,
    /// The clock.
    pub now: Arc<dyn Fn() -> huren_crypto::time::UnixTime + Send + Sync>,
    /// Photo decoding slots. QR detection cost grows with what a photo contains (crafted
    /// images can take a minute of CPU) and cannot be interrupted, so decodes run one at a
    /// time on a blocking thread; typed and scanned input never waits for them.
    pub image_slots: Arc<tokio::sync::Semaphore>,
    /// Sealed-document slots: a seal request holds up to a 32 MiB document (and its base64
    /// form) in memory, so only this many are read and verified at once.
    pub seal_slots: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for ServerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerState").finish_non_exhaustive()
    }
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct ServerMetrics {
    valid: AtomicU64,
    invalid: AtomicU64,
    indeterminate: AtomicU64,
    rejected: AtomicU64,
    rate_limited: AtomicU64,
    seal_valid: AtomicU64,
    seal_invalid: AtomicU64,
    seal_indeterminate: AtomicU64,
    seal_rejected: AtomicU64,
}

/// Builds the router.
pub fn router(state: ServerState) -> Router {
    Router::new()
        .route("/", get(page::index))
        .route("/assets/app.js", get(page::script))
        .route("/assets/app.css", get(page::style))
        .route("/v1/verify", post(verify))
        // Its own, larger body limit (the router's below applies to every other route).
        .route(
            "/v1/seals/verify",
            post(seal::verify_seal).layer(DefaultBodyLimit::max(MAX_SEAL_BODY_BYTES)),
        )
        .route("/v1/trust", get(trust))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Builds the state with a per-client limit of `rate_per_second` (burst twice that).
pub fn state(verifier: Arc<Verifier>, rate_per_second: u32) -> ServerState {
    ServerState {
        verifier,
        limiter: Arc::new(rate::RateLimiter::new(rate_per_second)),
        trusted_proxy: None,
        metrics: Arc::new(ServerMetrics::default()),
        now: Arc::new(crate::now),
        image_slots: Arc::new(tokio::sync::Semaphore::new(1)),
        seal_slots: Arc::new(tokio::sync::Semaphore::new(seal::SEAL_SLOTS)),
    }
}

/// Serves on `listener` until `shutdown`, refreshing trust material every `refresh`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ServerState,
    refresh: Duration,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let background = state.clone();
    let refresher = tokio::spawn(async move {
        let mut interval = tokio::time::interval(refresh);
        interval.tick().await;
        loop {
            interval.tick().await;
            let state = background.clone();
            let _ = tokio::task::spawn_blocking(move || {
                if state.verifier.refresh((state.now)()) {
                    tracing::info!(
                        seq = state.verifier.trust_store().current().trust.seq(),
                        "trust list updated"
                    );
                }
            })
            .await;
        }
    });
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    refresher.abort();
    result
}

#[derive(Serialize)]
struct Problem {
    #[serde(rename = "type")]
    kind: String,
    title: &'static str,
    status: u16,
    code: &'static str,
    detail: String,
    /// The request part at fault (`document`, `signature`), where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    part: Option<&'static str>,
}

fn problem(
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: impl Into<String>,
) -> Response {
    problem_about(status, code, title, detail.into(), None)
}

fn problem_about(
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: String,
    part: Option<&'static str>,
) -> Response {
    let body = Problem {
        kind: format!("https://huren.invalid/problems/{code}"),
        title,
        status: status.as_u16(),
        code,
        detail,
        part,
    };
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyBody {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    qr: Option<String>,
}

#[derive(Deserialize)]
struct VerifyQuery {
    #[serde(default)]
    fresh: bool,
}

/// Why a request is not a licence at all.
struct NotALicence(Box<Response>);

impl NotALicence {
    fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> NotALicence {
        NotALicence(Box::new(problem(status, code, title, detail)))
    }
}

fn bad(code: &'static str, detail: impl Into<String>) -> NotALicence {
    NotALicence::new(StatusCode::BAD_REQUEST, code, "Not a licence", detail)
}

fn too_large() -> NotALicence {
    NotALicence::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        "Body too large",
        format!("at most {MAX_BODY_BYTES} bytes"),
    )
}

/// A multipart body over the limit is "too large" (413), whatever else is broken.
fn multipart_error(e: &MultipartError) -> NotALicence {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        bad("bad_multipart", e.body_text())
    }
}

async fn read_input(
    headers: &HeaderMap,
    request: Request,
    image_slots: &Arc<tokio::sync::Semaphore>,
) -> Result<String, NotALicence> {
    let content_type = content_type(headers);
    // A body declared larger than the limit is refused before any of it is read.
    if declared_length(headers).is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    match content_type.as_str() {
        "multipart/form-data" => {
            let mut multipart = Multipart::from_request(request, &())
                .await
                .map_err(|e| bad("bad_multipart", e.body_text()))?;
            while let Some(field) = multipart
                .next_field()
                .await
                .map_err(|e| multipart_error(&e))?
            {
                if field.name() == Some("image") {
                    let bytes = field.bytes().await.map_err(|e| multipart_error(&e))?;
                    return decode_with_budget(bytes, image_slots).await;
                }
            }
            Err(bad(
                "missing_image",
                "send the photo of the QR code in a field named \"image\"",
            ))
        }
        _ => {
            let bytes = Bytes::from_request(request, &()).await.map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    too_large()
                } else {
                    bad("unreadable_body", e.body_text())
                }
            })?;
            match content_type.as_str() {
                "application/json" => {
                    // Only an object: serde would also take `["…"]` for the struct.
                    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
                        return Err(bad("malformed_json", "expected {\"token\": …} or {\"qr\": …}"));
                    }
                    let body: VerifyBody = serde_json::from_slice(&bytes)
                        .map_err(|e| bad("malformed_json", format!("expected {{\"token\": …}} or {{\"qr\": …}}: {e}")))?;
                    body.token.or(body.qr).ok_or_else(|| bad("missing_input", "give \"token\" or \"qr\""))
                }
                "text/plain" | "" => String::from_utf8(bytes.to_vec()).map_err(|_| bad("not_utf8", "text input must be UTF-8")),
                other => Err(NotALicence::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "Unsupported media type",
                    format!("{other} is not accepted: send application/json, text/plain or multipart/form-data"),
                )),
            }
        }
    }
}

/// Decodes a photo in the single decoding slot, answering within [`IMAGE_DECODE_BUDGET`]. The
/// slot stays taken until the decode really ends, so at most one core is ever spent on photos.
async fn decode_with_budget(
    bytes: Bytes,
    slots: &Arc<tokio::sync::Semaphore>,
) -> Result<String, NotALicence> {
    let busy = || {
        // 429, not 503: the service is up; this caller must slow down on the photo path.
        let mut refusal = NotALicence::new(
            StatusCode::TOO_MANY_REQUESTS,
            "image_decoder_busy",
            "Image decoder busy",
            "another photo is being decoded; try again, or scan or type the code",
        );
        refusal
            .0
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("3"));
        refusal
    };
    let permit = tokio::time::timeout(IMAGE_DECODE_BUDGET, slots.clone().acquire_owned())
        .await
        .map_err(|_| busy())?
        .map_err(|_| busy())?;
    let decode = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        decode_qr_image(&bytes)
    });
    match tokio::time::timeout(IMAGE_DECODE_BUDGET, decode).await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => Err(bad("unreadable_image", "the image could not be processed")),
        Err(_) => Err(NotALicence::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "image_too_complex",
            "Image too complex",
            "no QR code could be read from the photo in time; crop it to the code, or scan or type it",
        )),
    }
}

fn decode_qr_image(bytes: &[u8]) -> Result<String, NotALicence> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| bad("unreadable_image", "not an image"))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let image = reader
        .decode()
        .map_err(|_| bad("unreadable_image", "not a PNG or JPEG image (or too large)"))?
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    prepared
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
        .ok_or_else(|| bad("no_qr_code", "no readable QR code in the image"))
}

/// The client's address: the peer, or what a trusted proxy says ([`rate::client_address`]).
fn client_address(state: &ServerState, headers: &HeaderMap, peer: SocketAddr) -> std::net::IpAddr {
    rate::client_address(headers, peer.ip(), state.trusted_proxy.as_deref())
}

/// The caller for the usage log: the `X-Client-Id` header (bounded), else the client address.
fn caller(state: &ServerState, headers: &HeaderMap, peer: SocketAddr) -> String {
    headers
        .get("x-client-id")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(64).collect::<String>())
        .unwrap_or_else(|| client_address(state, headers, peer).to_string())
}

/// The 429 for a client over its rate, if it is.
fn rate_limited(state: &ServerState, headers: &HeaderMap, peer: SocketAddr) -> Option<Response> {
    let client = rate::ClientKey::of(client_address(state, headers, peer));
    if state.limiter.allow(client) {
        return None;
    }
    state.metrics.rate_limited.fetch_add(1, Ordering::Relaxed);
    let mut response = problem(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "Too many requests",
        "slow down",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    Some(response)
}

/// The media type of a request, lower case, without parameters.
fn content_type(headers: &HeaderMap) -> String {
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
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

async fn verify(
    State(state): State<ServerState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    query: Result<Query<VerifyQuery>, QueryRejection>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let caller = caller(&state, &headers, peer);
    if let Some(refusal) = rate_limited(&state, &headers, peer) {
        return refusal;
    }
    let query = match query {
        Ok(Query(query)) => query,
        Err(e) => {
            state.metrics.rejected.fetch_add(1, Ordering::Relaxed);
            return problem(
                StatusCode::BAD_REQUEST,
                "bad_query",
                "Bad query",
                e.body_text(),
            );
        }
    };
    let input = match read_input(&headers, request, &state.image_slots).await {
        Ok(input) => input,
        Err(NotALicence(response)) => {
            state.metrics.rejected.fetch_add(1, Ordering::Relaxed);
            return *response;
        }
    };
    let at = (state.now)();
    // Verification is CPU work of tens of microseconds and runs right here; only a status-list
    // fetch may wait on the network, and that alone goes to a blocking thread.
    let report = match state.verifier.verify_held(&input, at, query.fresh) {
        crate::verifier::Held::Answer(report) => report,
        crate::verifier::Held::NeedsFetch { held, uri } => {
            let verifier = state.verifier.clone();
            let fallback = held.clone();
            tokio::task::spawn_blocking(move || verifier.verify_after_fetch(&input, at, held, &uri))
                .await
                .unwrap_or(fallback)
        }
    };
    let counter = match report.verdict {
        crate::Verdict::Valid => &state.metrics.valid,
        crate::Verdict::Invalid => &state.metrics.invalid,
        crate::Verdict::Indeterminate => &state.metrics.indeterminate,
    };
    counter.fetch_add(1, Ordering::Relaxed);
    let reasons: Vec<&str> = report.reasons.iter().map(|r| r.code()).collect();
    tracing::info!(
        target: "huren::usage",
        jti = report.jti().unwrap_or("-"),
        verdict = ?report.verdict,
        reasons = ?reasons,
        at = at.seconds(),
        caller = %caller,
        "licence checked"
    );
    Json(report).into_response()
}

async fn trust(State(state): State<ServerState>) -> Response {
    let now = (state.now)();
    let grace = state.verifier.options().trust_list_grace_seconds;
    let status = state.verifier.trust_store().status(now, grace);
    let lists = state.verifier.status_cache().summary(now);
    let crls = state.verifier.crl_cache().summary(now);
    let crl_problems = state.verifier.crl_cache().problems();
    Json(serde_json::json!({"trust_list": status, "status_lists": lists, "crls": crls, "crl_problems": crl_problems}))
        .into_response()
}

async fn ready(State(state): State<ServerState>) -> Response {
    let current = state.verifier.trust_store().current();
    let body = serde_json::json!({"ready": true, "trust_list_seq": current.trust.seq(), "from_cache": current.from_cache});
    (StatusCode::OK, Json(body)).into_response()
}

async fn metrics(State(state): State<ServerState>) -> Response {
    let m = &state.metrics;
    let mut text = String::new();
    for (name, help, value) in [
        (
            "huren_verifications_valid_total",
            "Verifications with verdict valid.",
            &m.valid,
        ),
        (
            "huren_verifications_invalid_total",
            "Verifications with verdict invalid.",
            &m.invalid,
        ),
        (
            "huren_verifications_indeterminate_total",
            "Verifications with verdict indeterminate.",
            &m.indeterminate,
        ),
        (
            "huren_verify_requests_rejected_total",
            "Requests that were not a licence (4xx).",
            &m.rejected,
        ),
        (
            "huren_verify_requests_rate_limited_total",
            "Requests refused by the rate limit.",
            &m.rate_limited,
        ),
        (
            "huren_seal_verifications_valid_total",
            "Seal verifications with verdict valid.",
            &m.seal_valid,
        ),
        (
            "huren_seal_verifications_invalid_total",
            "Seal verifications with verdict invalid.",
            &m.seal_invalid,
        ),
        (
            "huren_seal_verifications_indeterminate_total",
            "Seal verifications with verdict indeterminate.",
            &m.seal_indeterminate,
        ),
        (
            "huren_seal_verify_requests_rejected_total",
            "Seal requests that were not a sealed document (4xx).",
            &m.seal_rejected,
        ),
    ] {
        text.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
            value.load(Ordering::Relaxed)
        ));
    }
    let seq = state.verifier.trust_store().current().trust.seq();
    text.push_str(&format!("# HELP huren_trust_list_seq Loaded trust list seq.\n# TYPE huren_trust_list_seq gauge\nhuren_trust_list_seq {seq}\n"));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("openapi.json"),
    )
        .into_response()
}
