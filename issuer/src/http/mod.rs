//! The HTTP API of SPEC §7 (issuer): the routes, one file per resource, over the domain
//! modules (`issuance`, `seals`, `publish`, `audit`, `anchor`).
//!
//! | module | owns |
//! |---|---|
//! | `mod` (here) | the shared state, the routes, per-route metrics |
//! | [`error`] | the one error envelope (problem JSON) and the mapping of every domain error to it |
//! | [`extract`] | JSON bodies whose errors name the field, the bearer token, request headers |
//! | [`licences`] | `/v1/licences…` |
//! | [`copies`] | annotated copies: `/v1/licences/{jti}/copies`, `/v1/copies…` |
//! | [`seals`] | `/v1/seals…` |
//! | [`status`] | status lists, the trust list, the CRL (public) |
//! | [`audit`] | the audit log and its signed head |
//! | [`log`] | the transparency log (tiles, checkpoints, proofs) and this issuer as a witness |
//! | [`ops`] | health, readiness, metrics, the OpenAPI document |
//!
//! Domain code never builds an HTTP answer: it returns its own error, mapped once in
//! [`error`]. Every handler checks the token (401) first, and its scope and region (403)
//! before it looks anything up; the seal endpoints also before they read a body (licence
//! status changes parse their small JSON body first, as they always have).

mod audit;
mod copies;
pub mod error;
pub mod extract;
mod licences;
mod log;
mod ops;
mod seals;
mod status;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use self::error::ApiError;
pub use self::extract::{parse_json, ApiJson};
use crate::issuance::Issuer;
use crate::metrics::Metrics;
use crate::publish::Publisher;
use crate::seals::{Seals, MAX_DOCUMENT_BYTES};

/// The header carrying a request's id.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Longest a request may take: a 1,000-licence batch or sealing a 32 MiB document takes
/// seconds; anything near this is stuck.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Largest request body accepted (a batch of a few hundred licences).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// Most items in one batch.
pub use self::licences::MAX_BATCH_ITEMS;

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
        .route("/v1/licences", post(licences::issue))
        .route("/v1/licences/batch", post(licences::issue_batch))
        .route("/v1/licences/{jti}", get(licences::read))
        .route("/v1/licences/{jti}/qr.png", get(licences::qr_png))
        .route("/v1/licences/{jti}/qr.svg", get(licences::qr_svg))
        .route("/v1/licences/{jti}/view", get(licences::view))
        // A static segment wins over `{change}` below, whatever the order.
        .route(
            "/v1/licences/{jti}/copies",
            post(copies::make).get(copies::list),
        )
        .route("/v1/copies/{id}/withdraw", post(copies::withdraw))
        .route("/v1/copies/{id}/view", get(copies::view))
        // `revoke`, `suspend`, `reinstate`: one handler per resource (any other word is 404).
        .route("/v1/licences/{jti}/{change}", post(licences::change))
        .route("/v1/status/{list_id}", get(status::status_list))
        .route("/v1/trust-list", get(status::trust_list))
        .route("/v1/audit", get(audit::page))
        .route("/v1/audit/head", get(audit::head))
        .route("/v1/log/checkpoint", get(log::checkpoint))
        .route("/v1/log/tile/{*path}", get(log::tile))
        .route("/v1/log/proof", get(log::proof))
        .route("/v1/witness/add-checkpoint", post(log::add_checkpoint))
        .route("/v1/witness/checkpoint", get(log::witnessed_view))
        .route("/v1/seals", post(seals::make))
        .route("/v1/seals/{es_id}", get(seals::read))
        .route("/v1/seals/{es_id}/{change}", post(seals::change))
        // Documents are larger than any JSON body: this route alone takes up to
        // `MAX_DOCUMENT_BYTES` (the innermost limit is the one that applies).
        .route(
            "/v1/seals/{es_id}/sign",
            post(seals::sign).layer(DefaultBodyLimit::max(MAX_DOCUMENT_BYTES)),
        )
        .route("/v1/crl", get(status::crl))
        .route("/healthz", get(ops::health))
        .route("/readyz", get(ops::ready))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // tower-http, innermost first: a timeout (408 rather than a hung connection), a
        // tracing span per request, and an `x-request-id` — the client's, or a new UUID — set
        // on the request and echoed on the answer so a complaint can be found in the logs.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

/// The tracing span of a request: its id, method and route template — never headers, which
/// carry bearer tokens.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    // A client may send its own id: at most 64 characters of it are logged.
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map_or("-", |id| id.get(..64).unwrap_or(id));
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    tracing::info_span!("request", request_id = %id, method = %request.method(), route)
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
        state.metrics.denied.inc();
    }
    state
        .metrics
        .observe(&route, status.as_u16(), started.elapsed());
    response
}
