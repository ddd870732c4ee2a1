//! The issuer's Prometheus metrics: issuance and status counters for licences and seals,
//! documents sealed, requests refused, and a request-duration histogram per route and status.
//!
//! Kept and rendered (OpenMetrics text at `/metrics`) by `prometheus-client`, the Prometheus
//! project's Rust client: it has no global registry, so several issuers in one process (the
//! demo's three provinces, the tests) each keep their own.

use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// What `/metrics` answers with.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Histogram bucket upper bounds, seconds.
const BUCKETS: [f64; 11] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

/// The labels of a request: its route template (not the path: ids would explode the series)
/// and its status.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    status: u16,
}

/// The issuer's metrics.
#[derive(Debug)]
pub struct Metrics {
    /// Licences issued.
    pub issued: Counter,
    /// Licences revoked.
    pub revoked: Counter,
    /// Licences suspended.
    pub suspended: Counter,
    /// Licences reinstated.
    pub reinstated: Counter,
    /// Requests refused for authentication or authorization.
    pub denied: Counter,
    /// Electronic seals made.
    pub seals_made: Counter,
    /// Seals revoked.
    pub seals_revoked: Counter,
    /// Seals suspended.
    pub seals_suspended: Counter,
    /// Seals reinstated.
    pub seals_reinstated: Counter,
    /// Documents sealed server-side.
    pub documents_sealed: Counter,
    /// Checkpoints of other regions' logs this issuer refused to cosign as inconsistent (forks).
    pub witness_refusals: Counter,
    requests: Family<RouteLabels, Histogram>,
    registry: Registry,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::default();
        let mut counter = |name: &str, help: &str| {
            let counter = Counter::default();
            // Registered without `_total` and help without its full stop: the encoder adds both.
            registry.register(name, help, counter.clone());
            counter
        };
        let issued = counter("huren_licences_issued", "Licences issued");
        let revoked = counter("huren_licences_revoked", "Licences revoked");
        let suspended = counter("huren_licences_suspended", "Licences suspended");
        let reinstated = counter("huren_licences_reinstated", "Licences reinstated");
        let denied = counter("huren_requests_denied", "Requests refused (401/403)");
        let seals_made = counter("huren_seals_made", "Electronic seals made");
        let seals_revoked = counter("huren_seals_revoked", "Electronic seals revoked");
        let seals_suspended = counter("huren_seals_suspended", "Electronic seals suspended");
        let seals_reinstated = counter("huren_seals_reinstated", "Electronic seals reinstated");
        let documents_sealed = counter(
            "huren_documents_sealed",
            "Documents sealed server-side with a platform-held holder key",
        );
        let witness_refusals = counter(
            "huren_witness_refusals",
            "Checkpoints of other regions' logs refused as inconsistent with the one cosigned before",
        );
        let requests =
            Family::<RouteLabels, Histogram>::new_with_constructor(|| Histogram::new(BUCKETS));
        registry.register(
            "huren_http_request_duration_seconds",
            "Request duration by route and status",
            requests.clone(),
        );
        Metrics {
            issued,
            revoked,
            suspended,
            reinstated,
            denied,
            seals_made,
            seals_revoked,
            seals_suspended,
            seals_reinstated,
            documents_sealed,
            witness_refusals,
            requests,
            registry,
        }
    }
}

impl Metrics {
    /// Records one request on `route` (its template) answered with `status`.
    pub fn observe(&self, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
                status,
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Exposes the region's transparency-log gauges and counters (when it keeps a log).
    pub fn register_log(&mut self, log: &crate::tlog::LogMetrics) {
        self.registry.register(
            "huren_log_entries",
            "Entries in the region's transparency log (newest checkpoint)",
            log.entries.clone(),
        );
        self.registry.register(
            "huren_log_witnessed_entries",
            "Entries covered by the newest checkpoint a quorum of witnesses cosigned",
            log.witnessed_entries.clone(),
        );
        self.registry.register(
            "huren_log_witness_failures",
            "Checkpoint offers a witness did not cosign (down, refused, or a bad cosignature)",
            log.witness_failures.clone(),
        );
    }

    /// The OpenMetrics text exposition ([`CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_route_histograms_are_exposed() {
        let metrics = Metrics::default();
        metrics.issued.inc();
        metrics.issued.inc();
        metrics.observe("/v1/licences", 201, Duration::from_millis(3));
        metrics.observe("/v1/licences", 201, Duration::from_millis(30));
        let text = metrics.render();
        assert!(text.contains("huren_licences_issued_total 2"), "{text}");
        assert!(text.contains("huren_seals_made_total 0"), "{text}");
        let labels = r#"route="/v1/licences",status="201""#;
        assert!(
            text.contains(&format!(
                "huren_http_request_duration_seconds_count{{{labels}}} 2"
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "huren_http_request_duration_seconds_bucket{{le=\"0.005\",{labels}}} 1"
            )),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
