//! What every handler shares: the verifier, the rate limiter, the counters, the clock and the
//! slots that bound photo decoding and sealed-document checks.

use std::sync::Arc;

use huren_crypto::ids::Uscc;

use super::metrics::ServerMetrics;
use super::rate;
use crate::Verifier;

/// Seal requests read and verified at once. Each holds at most the body (≈ 50 MB as JSON)
/// and the decoded parts (36 MiB): four at once stay well under half a gigabyte.
pub(super) const SEAL_SLOTS: usize = 4;

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
    /// The using unit this service verifies for (`HUREN_VERIFIER_UNIT`): when set, it decides
    /// the audience of every copy checked (SPEC §11), whatever a request names.
    pub unit: Option<Uscc>,
}

impl std::fmt::Debug for ServerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerState").finish_non_exhaustive()
    }
}

/// Builds the state with a per-client limit of `rate_per_second` (burst twice that).
pub fn state(verifier: Arc<Verifier>, rate_per_second: u32) -> ServerState {
    state_with_metrics(
        verifier,
        rate_per_second,
        Arc::new(ServerMetrics::default()),
    )
}

/// As [`state`], with metrics made beforehand (the service's fetcher counts into them).
pub fn state_with_metrics(
    verifier: Arc<Verifier>,
    rate_per_second: u32,
    metrics: Arc<ServerMetrics>,
) -> ServerState {
    ServerState {
        verifier,
        limiter: Arc::new(rate::RateLimiter::new(rate_per_second)),
        trusted_proxy: None,
        metrics,
        now: Arc::new(crate::now),
        image_slots: Arc::new(tokio::sync::Semaphore::new(1)),
        seal_slots: Arc::new(tokio::sync::Semaphore::new(SEAL_SLOTS)),
        unit: None,
    }
}
