//! The verification service's Prometheus metrics, kept and rendered (OpenMetrics text at
//! `/metrics`) by `prometheus-client`, as the issuer's are: verdict and refusal counters,
//! request durations per route, fetch failures by kind (counted by [`CountingFetcher`] around
//! the service's fetcher), log-proof lookups by outcome (counted there too), and — read from the verifier at each scrape — the trust list's seq,
//! age and time to its next update, the age of every cached status list and CRL, and how many
//! CRLs are failing to refresh.

use std::sync::Arc;
use std::time::Duration;

use huren_crypto::time::UnixTime;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::fetch::{FetchError, Fetched, FetchedBytes, Fetcher, LogProofResponse};
use crate::log_cache::problem_code;
use crate::Verifier;

/// What `/metrics` answers with.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Histogram bucket upper bounds, seconds.
const BUCKETS: [f64; 11] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct UrlLabels {
    url: String,
}

/// The service's metrics.
#[derive(Debug)]
pub struct ServerMetrics {
    pub(super) valid: Counter,
    pub(super) invalid: Counter,
    pub(super) indeterminate: Counter,
    pub(super) rejected: Counter,
    pub(super) rate_limited: Counter,
    pub(super) seal_valid: Counter,
    pub(super) seal_invalid: Counter,
    pub(super) seal_indeterminate: Counter,
    pub(super) seal_rejected: Counter,
    fetch_failures: Family<KindLabels, Counter>,
    log_proof_fetches: Family<OutcomeLabels, Counter>,
    requests: Family<RouteLabels, Histogram>,
    trust_list_seq: Gauge,
    trust_list_age: Gauge,
    trust_list_next_update: Gauge,
    status_list_age: Family<UrlLabels, Gauge>,
    crl_age: Family<UrlLabels, Gauge>,
    crls_failing: Gauge,
    registry: Registry,
}

impl Default for ServerMetrics {
    fn default() -> ServerMetrics {
        let mut registry = Registry::default();
        let mut counter = |name: &str, help: &str| {
            let counter = Counter::default();
            // Registered without `_total` and help without its full stop: the encoder adds both.
            registry.register(name, help, counter.clone());
            counter
        };
        let valid = counter(
            "huren_verifications_valid",
            "Verifications with verdict valid",
        );
        let invalid = counter(
            "huren_verifications_invalid",
            "Verifications with verdict invalid",
        );
        let indeterminate = counter(
            "huren_verifications_indeterminate",
            "Verifications with verdict indeterminate",
        );
        let rejected = counter(
            "huren_verify_requests_rejected",
            "Requests that were not a licence (4xx)",
        );
        let rate_limited = counter(
            "huren_verify_requests_rate_limited",
            "Requests refused by the rate limit",
        );
        let seal_valid = counter(
            "huren_seal_verifications_valid",
            "Seal verifications with verdict valid",
        );
        let seal_invalid = counter(
            "huren_seal_verifications_invalid",
            "Seal verifications with verdict invalid",
        );
        let seal_indeterminate = counter(
            "huren_seal_verifications_indeterminate",
            "Seal verifications with verdict indeterminate",
        );
        let seal_rejected = counter(
            "huren_seal_verify_requests_rejected",
            "Seal requests that were not a sealed document (4xx)",
        );
        let fetch_failures = Family::<KindLabels, Counter>::default();
        registry.register(
            "huren_fetch_failures",
            "Fetches of trust material that failed, by kind (list: trust and status lists; crl)",
            fetch_failures.clone(),
        );
        let log_proof_fetches = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "huren_log_proof_fetches",
            "Log-proof lookups at the regions' issuers, by outcome (proof, not_logged, not_witnessed, not_found, failed)",
            log_proof_fetches.clone(),
        );
        let requests =
            Family::<RouteLabels, Histogram>::new_with_constructor(|| Histogram::new(BUCKETS));
        registry.register(
            "huren_http_request_duration_seconds",
            "Request duration by route and status",
            requests.clone(),
        );
        let mut gauge = |name: &str, help: &str| {
            let gauge = Gauge::default();
            registry.register(name, help, gauge.clone());
            gauge
        };
        let trust_list_seq = gauge("huren_trust_list_seq", "Loaded trust list seq");
        let trust_list_age = gauge(
            "huren_trust_list_age_seconds",
            "Seconds since the loaded trust list was issued (iat)",
        );
        let trust_list_next_update = gauge(
            "huren_trust_list_next_update_seconds",
            "Seconds until the loaded trust list's next_update (negative once passed)",
        );
        let crls_failing = gauge(
            "huren_crls_failing",
            "CRLs whose last refresh failed (the last good one is still used)",
        );
        let status_list_age = Family::<UrlLabels, Gauge>::default();
        registry.register(
            "huren_status_list_age_seconds",
            "Seconds since each cached status list was fetched",
            status_list_age.clone(),
        );
        let crl_age = Family::<UrlLabels, Gauge>::default();
        registry.register(
            "huren_crl_age_seconds",
            "Seconds since each cached CRL was fetched",
            crl_age.clone(),
        );
        ServerMetrics {
            valid,
            invalid,
            indeterminate,
            rejected,
            rate_limited,
            seal_valid,
            seal_invalid,
            seal_indeterminate,
            seal_rejected,
            fetch_failures,
            log_proof_fetches,
            requests,
            trust_list_seq,
            trust_list_age,
            trust_list_next_update,
            status_list_age,
            crl_age,
            crls_failing,
            registry,
        }
    }
}

impl ServerMetrics {
    /// Records one request on `route` (its template) answered with `status`.
    pub(super) fn observe(&self, route: &'static str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RouteLabels { route, status })
            .observe(elapsed.as_secs_f64());
    }

    /// The exposition, with the trust material's gauges read from `verifier` at `now`.
    pub(super) fn render(&self, verifier: &Verifier, now: UnixTime) -> String {
        let trust = verifier.trust_store().current();
        self.trust_list_seq
            .set(i64::try_from(trust.trust.seq()).unwrap_or(i64::MAX));
        self.trust_list_age
            .set(now.seconds().saturating_sub(trust.trust.iat().seconds()));
        self.trust_list_next_update.set(
            trust
                .trust
                .next_update()
                .seconds()
                .saturating_sub(now.seconds()),
        );
        // Families are rebuilt at each scrape: a list dropped from the cache disappears.
        self.status_list_age.clear();
        for list in verifier.status_cache().summary(now) {
            self.status_list_age
                .get_or_create(&UrlLabels { url: list.uri })
                .set(list.age_seconds);
        }
        self.crl_age.clear();
        for crl in verifier.crl_cache().summary(now) {
            self.crl_age
                .get_or_create(&UrlLabels { url: crl.url })
                .set(crl.age_seconds);
        }
        self.crls_failing
            .set(i64::try_from(verifier.crl_cache().problems().len()).unwrap_or(i64::MAX));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }

    /// A fetcher that counts the failures of `inner` in these metrics.
    pub fn counting(&self, inner: Arc<dyn Fetcher>) -> CountingFetcher {
        CountingFetcher {
            inner,
            failures: self.fetch_failures.clone(),
            log_proofs: self.log_proof_fetches.clone(),
        }
    }
}

/// A [`Fetcher`] that counts the failures of the one it wraps (`huren_fetch_failures_total`)
/// and its log-proof lookups by outcome (`huren_log_proof_fetches_total`).
#[derive(Clone)]
pub struct CountingFetcher {
    inner: Arc<dyn Fetcher>,
    failures: Family<KindLabels, Counter>,
    log_proofs: Family<OutcomeLabels, Counter>,
}

impl std::fmt::Debug for CountingFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CountingFetcher").finish_non_exhaustive()
    }
}

impl CountingFetcher {
    fn count<T>(&self, kind: &'static str, result: Result<T, FetchError>) -> Result<T, FetchError> {
        if result.is_err() {
            self.failures.get_or_create(&KindLabels { kind }).inc();
        }
        result
    }
}

impl Fetcher for CountingFetcher {
    fn fetch(&self, url: &str, etag: Option<&str>) -> Result<Fetched, FetchError> {
        self.count("list", self.inner.fetch(url, etag))
    }

    fn fetch_bytes(
        &self,
        url: &str,
        etag: Option<&str>,
        limit: u64,
    ) -> Result<FetchedBytes, FetchError> {
        self.count("crl", self.inner.fetch_bytes(url, etag, limit))
    }

    fn fetch_log_proof(&self, url: &str, limit: u64) -> Result<LogProofResponse, FetchError> {
        let result = self.count("log_proof", self.inner.fetch_log_proof(url, limit));
        // Labels from a fixed set: nothing an issuer sent becomes a label.
        let outcome = match &result {
            Ok(LogProofResponse::Found(_)) => "proof",
            Ok(LogProofResponse::NotFound(body)) => match problem_code(body).as_deref() {
                Some("not_logged") => "not_logged",
                Some("not_witnessed") => "not_witnessed",
                _ => "not_found",
            },
            Err(_) => "failed",
        };
        self.log_proofs
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Down;

    impl Fetcher for Down {
        fn fetch(&self, url: &str, _: Option<&str>) -> Result<Fetched, FetchError> {
            Err(FetchError {
                url: url.to_owned(),
                reason: "connection refused".into(),
            })
        }
    }

    struct Log;

    impl Fetcher for Log {
        fn fetch(&self, url: &str, _: Option<&str>) -> Result<Fetched, FetchError> {
            Down.fetch(url, None)
        }

        fn fetch_log_proof(&self, url: &str, _: u64) -> Result<LogProofResponse, FetchError> {
            match url {
                "https://a.example/proved" => Ok(LogProofResponse::Found(b"{}".to_vec())),
                "https://a.example/missing" => Ok(LogProofResponse::NotFound(
                    br#"{"code":"not_logged"}"#.to_vec(),
                )),
                "https://a.example/unwitnessed" => Ok(LogProofResponse::NotFound(
                    br#"{"code":"not_witnessed"}"#.to_vec(),
                )),
                "https://a.example/other" => {
                    Ok(LogProofResponse::NotFound(br#"{"code":"x"}"#.to_vec()))
                }
                _ => Down
                    .fetch(url, None)
                    .map(|_| LogProofResponse::Found(Vec::new())),
            }
        }
    }

    #[test]
    fn log_proof_lookups_are_counted_by_outcome() {
        let metrics = ServerMetrics::default();
        let fetcher = metrics.counting(Arc::new(Log));
        for url in [
            "https://a.example/proved",
            "https://a.example/proved",
            "https://a.example/missing",
            "https://a.example/unwitnessed",
            "https://a.example/other",
            "https://a.example/down",
        ] {
            let _ = fetcher.fetch_log_proof(url, 1024);
        }
        let mut text = String::new();
        encode(&mut text, &metrics.registry).unwrap();
        for line in [
            r#"huren_log_proof_fetches_total{outcome="proof"} 2"#,
            r#"huren_log_proof_fetches_total{outcome="not_logged"} 1"#,
            r#"huren_log_proof_fetches_total{outcome="not_witnessed"} 1"#,
            r#"huren_log_proof_fetches_total{outcome="not_found"} 1"#,
            r#"huren_log_proof_fetches_total{outcome="failed"} 1"#,
            r#"huren_fetch_failures_total{kind="log_proof"} 1"#,
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
    }

    #[test]
    fn fetch_failures_are_counted_by_kind() {
        let metrics = ServerMetrics::default();
        let fetcher = metrics.counting(Arc::new(Down));
        assert!(fetcher.fetch("https://a.example/x", None).is_err());
        assert!(fetcher.fetch("https://a.example/y", None).is_err());
        assert!(fetcher
            .fetch_bytes("https://a.example/c.crl", None, 10)
            .is_err());
        let mut text = String::new();
        encode(&mut text, &metrics.registry).unwrap();
        assert!(
            text.contains(r#"huren_fetch_failures_total{kind="list"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"huren_fetch_failures_total{kind="crl"} 1"#),
            "{text}"
        );
    }
}
