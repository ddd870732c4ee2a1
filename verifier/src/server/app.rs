//! Building and running the verification service: [`App::build`] opens the verifier its
//! settings describe on an already bound listener and returns a ready-to-serve application,
//! which `huren verifier serve`, `huren demo` and the tests run the same way (bound to
//! `127.0.0.1:0` in tests). [`App::parts`] hands out the router and the background work for
//! an embedder that serves them itself.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use huren_crypto::cert::Certificate;
use huren_crypto::verify::VerifyOptions;
use tokio::net::TcpListener;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use super::config::ServiceConfig;
use super::licence::MAX_BODY_BYTES;
use super::metrics::ServerMetrics;
use super::problem::Refusal;
use super::request::REQUEST_ID;
use super::seal::MAX_SEAL_BODY_BYTES;
use super::state::{state_with_metrics, ServerState};
use super::{licence, ops, page, seal};
use crate::fetch::Fetcher;
use crate::{TrustSource, TrustStoreError, Verifier, VerifierConfig};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The trust list could not be loaded and verified (nor a cached copy).
    #[error(transparent)]
    Trust(#[from] TrustStoreError),
    /// The bound address could not be written to `addr_file`.
    #[error("{path}: {source}")]
    AddrFile {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Opening the verifier did not complete (its thread panicked).
    #[error("opening the verifier did not complete: {0}")]
    Open(#[from] tokio::task::JoinError),
    /// The listener is unusable.
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
}

/// A built verification service, ready to serve.
#[derive(Debug)]
pub struct App {
    listener: TcpListener,
    state: ServerState,
    refresh: Duration,
}

/// The service's background work: every `refresh`, re-read the trust list and refresh due
/// status lists and CRLs (on a blocking thread: it may wait on the network).
#[derive(Debug)]
pub struct Background {
    state: ServerState,
    refresh: Duration,
}

impl Background {
    /// Runs until dropped (abort the task it was spawned on to stop it). The first refresh is
    /// one period after the start: the verifier was just opened.
    pub async fn run(self) {
        let mut interval = tokio::time::interval(self.refresh);
        interval.tick().await;
        loop {
            interval.tick().await;
            let state = self.state.clone();
            let refreshed = tokio::task::spawn_blocking(move || {
                if state.verifier.refresh((state.now)()) {
                    tracing::info!(
                        seq = state.verifier.trust_store().current().trust.seq(),
                        "trust list updated"
                    );
                }
            })
            .await;
            // A refresh that panicked is logged; the next period tries again with what is held.
            if let Err(error) = refreshed {
                tracing::error!(%error, "trust material refresh did not complete");
            }
        }
    }
}

impl App {
    /// Opens the verifier `config` describes — the trust list (from its source, else the disk
    /// cache) checked against `operator_certs`, the status and CRL caches — on `listener`,
    /// and writes the bound address to `addr_file` if one is set.
    ///
    /// `operator_certs` are the pinned certificates of `config.operator_certs`, read by the
    /// caller (the CLI reads PEM or DER files with `huren-keys`).
    pub async fn build(
        config: &ServiceConfig,
        operator_certs: Vec<Certificate>,
        listener: TcpListener,
    ) -> Result<App, StartError> {
        let verifier_config = VerifierConfig {
            // The service decides the unit per request (`audience.rs`): its own, or the
            // request's.
            unit: None,
            trust_source: TrustSource::parse(&config.trust_list),
            operator_certs,
            cache_dir: Some(config.cache_dir.clone()),
            online: config.online,
            options: VerifyOptions {
                trust_list_grace_seconds: config.grace_secs,
                log_check: config.log_check,
                log_merge_delay_seconds: config.log_merge_delay_secs,
                ..VerifyOptions::default()
            },
        };
        // Fetch failures are counted in the service's metrics.
        let metrics = Arc::new(ServerMetrics::default());
        let fetcher: Arc<dyn Fetcher> =
            Arc::new(metrics.counting(Arc::new(crate::HttpFetcher::default())));
        // Opening may fetch the trust list over the network: a blocking thread's work.
        let verifier = tokio::task::spawn_blocking(move || {
            Verifier::open_with(verifier_config, fetcher, crate::now())
        })
        .await??;
        let mut state = state_with_metrics(Arc::new(verifier), config.rate_limit, metrics);
        state.trusted_proxy = config.trusted_proxy.clone().map(Arc::new);
        state.unit = config.unit.clone();
        if let Some(path) = &config.addr_file {
            let addr = listener.local_addr()?;
            write_addr_file(path, addr).map_err(|source| StartError::AddrFile {
                path: path.display().to_string(),
                source,
            })?;
        }
        Ok(App::with_state(state, config.refresh, listener))
    }

    /// The service over a state built by the caller (its own verifier, fetcher or clock),
    /// refreshing trust material every `refresh`.
    pub fn with_state(state: ServerState, refresh: Duration, listener: TcpListener) -> App {
        App {
            listener,
            state,
            refresh,
        }
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The shared state (tests use it to reach the verifier and the counters).
    pub fn state(&self) -> &ServerState {
        &self.state
    }

    /// The router and the background work, for an embedder that serves them itself. The
    /// router reads the peer address: serve it with
    /// `into_make_service_with_connect_info::<SocketAddr>()`.
    pub fn parts(&self) -> (Router, Background) {
        (
            router(self.state.clone()),
            Background {
                state: self.state.clone(),
                refresh: self.refresh,
            },
        )
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests; the background
    /// work runs meanwhile and stops with it.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (router, background) = self.parts();
        let background = tokio::spawn(background.run());
        let addr = self.listener.local_addr()?;
        tracing::info!(%addr, "verifier listening");
        let result = axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        background.abort();
        result
    }
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
        // SPEC §7: every error is problem JSON, a request for no route included.
        .fallback(|| async { Refusal::NotFound })
        .method_not_allowed_fallback(|| async { Refusal::MethodNotAllowed })
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // tower-http, innermost first: a timeout (408 rather than a hung connection), a
        // tracing span per request, and an `x-request-id` — the client's, or a new UUID — set
        // on the request and echoed on the answer, so a bank's complaint can be found in the
        // logs.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, RequestIds::new()))
        .with_state(state)
}

/// Request ids on the verification hot path: a random per-process prefix and a counter
/// (`5f0c…-42`), unique per process without a system call per request (a UUID v4 draws from
/// the OS each time).
#[derive(Debug, Clone)]
struct RequestIds {
    prefix: Arc<str>,
    next: Arc<std::sync::atomic::AtomicU64>,
}

impl RequestIds {
    fn new() -> RequestIds {
        let mut prefix = [0u8; 8];
        // A process without an entropy source still gets distinct ids: the counter.
        let _ = rand_core::RngCore::try_fill_bytes(&mut rand_core::OsRng, &mut prefix);
        RequestIds {
            prefix: Arc::from(hex::encode(prefix)),
            next: Arc::new(std::sync::atomic::AtomicU64::new(1)),
        }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = format!("{}-{n}", self.prefix);
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// Longest a request may take: a photo decode is bounded at a few seconds and a 32 MiB sealed
/// document takes about one; anything near this is stuck.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The routes, as metric labels (a fixed set: no label is made from what a client sent).
const ROUTES: [&str; 10] = [
    "/",
    "/assets/app.js",
    "/assets/app.css",
    "/v1/verify",
    "/v1/seals/verify",
    "/v1/trust",
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
];

fn route_of(request: &Request) -> &'static str {
    let matched = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    ROUTES
        .into_iter()
        .find(|route| Some(*route) == matched)
        .unwrap_or("unmatched")
}

/// The tracing span of a request: its id, method and route — never headers or the body
/// (they may carry a licence). Debug level: at the default level the usage line of a
/// verification names its request id itself, so each verification stays one log line.
fn request_span(request: &Request) -> tracing::Span {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::debug_span!("request", request_id = %id, method = %request.method(), route = route_of(request))
}

/// Records each request's duration per route and status.
async fn observe(State(state): State<ServerState>, request: Request, next: Next) -> Response {
    let route = route_of(&request);
    let started = Instant::now();
    let response = next.run(request).await;
    state
        .metrics
        .observe(route, response.status().as_u16(), started.elapsed());
    response
}

/// Writes `addr` to `path` atomically (a reader polling for the file never sees half of it),
/// the way the disk cache writes its copies.
fn write_addr_file(path: &std::path::Path, addr: SocketAddr) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => std::path::Path::new("."),
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    crate::disk::DiskCache::new(dir)?.write(name, addr.to_string().as_bytes())
}
