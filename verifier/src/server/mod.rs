//! The verification service (`huren verifier serve`, feature `server`): `POST /v1/verify`,
//! `POST /v1/seals/verify`, `GET /v1/trust`, health, metrics, OpenAPI and the clerk's page
//! (SPEC §7, §8, §9).
//!
//! Verification outcomes are data: HTTP 200 whatever the verdict; 4xx only for requests that
//! are not a licence (or a sealed document) at all (no input, unreadable image, wrong content
//! type, too large, rate limited). Every verification is logged for 用证留痕 with the licence
//! id or esID, verdict, reasons, time and caller — never the holder's name or identifiers,
//! never document content.
//!
//! Modules, top to bottom: [`app`] builds and runs the service (router, background refresh),
//! [`service`] is its process plumbing (logging, shutdown signal), [`config`] its settings;
//! `licence` and `seal` are the two verification routes, `ops` the read-only ones, `page`
//! the clerk's page; [`problem`] is the one error envelope; [`rate`] decides who a client is
//! and how fast it may go; `request` holds what both verification routes read from a request.

pub mod app;
pub mod config;
mod licence;
mod ops;
mod page;
pub mod problem;
pub mod rate;
mod request;
mod seal;
pub mod service;

pub use app::{App, Background, StartError};
pub use licence::MAX_BODY_BYTES;
pub use seal::{MAX_DOCUMENT_BYTES, MAX_SEAL_BODY_BYTES, MAX_SIGNATURE_BYTES};

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::Verifier;

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

/// Builds the router. Its handlers read the peer address: serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()` (as [`App::run_until`] does).
pub fn router(state: ServerState) -> Router {
    Router::new()
        .route("/", get(page::index))
        .route("/assets/app.js", get(page::script))
        .route("/assets/app.css", get(page::style))
        .route("/v1/verify", post(licence::verify))
        // Its own, larger body limit (the router's below applies to every other route).
        .route(
            "/v1/seals/verify",
            post(seal::verify_seal).layer(DefaultBodyLimit::max(MAX_SEAL_BODY_BYTES)),
        )
        .route("/v1/trust", get(ops::trust))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ops::ready))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
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
