//! Prometheus metrics, kept in atomics and rendered as text at `/metrics`: issuance and status
//! counters for licences and seals, documents sealed, and a request-latency histogram per
//! route.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Histogram bucket upper bounds, seconds.
const BUCKETS: [f64; 11] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The issuer's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Licences issued.
    pub issued: AtomicU64,
    /// Licences revoked.
    pub revoked: AtomicU64,
    /// Licences suspended.
    pub suspended: AtomicU64,
    /// Licences reinstated.
    pub reinstated: AtomicU64,
    /// Requests refused for authentication or authorization.
    pub denied: AtomicU64,
    /// Electronic seals made.
    pub seals_made: AtomicU64,
    /// Seals revoked.
    pub seals_revoked: AtomicU64,
    /// Seals suspended.
    pub seals_suspended: AtomicU64,
    /// Seals reinstated.
    pub seals_reinstated: AtomicU64,
    /// Documents sealed server-side.
    pub documents_sealed: AtomicU64,
    latency: Mutex<BTreeMap<(String, u16), Histogram>>,
}

impl Metrics {
    /// Records one request.
    pub fn observe(&self, route: &str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        if let Ok(mut map) = self.latency.lock() {
            let histogram = map.entry((route.to_owned(), status)).or_default();
            for (i, bound) in BUCKETS.iter().enumerate() {
                if seconds <= *bound {
                    histogram.counts[i] += 1;
                }
            }
            histogram.count += 1;
            histogram.sum += seconds;
        }
    }

    /// Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (name, help, value) in [
            (
                "huren_licences_issued_total",
                "Licences issued.",
                &self.issued,
            ),
            (
                "huren_licences_revoked_total",
                "Licences revoked.",
                &self.revoked,
            ),
            (
                "huren_licences_suspended_total",
                "Licences suspended.",
                &self.suspended,
            ),
            (
                "huren_licences_reinstated_total",
                "Licences reinstated.",
                &self.reinstated,
            ),
            (
                "huren_requests_denied_total",
                "Requests refused (401/403).",
                &self.denied,
            ),
            (
                "huren_seals_made_total",
                "Electronic seals made.",
                &self.seals_made,
            ),
            (
                "huren_seals_revoked_total",
                "Electronic seals revoked.",
                &self.seals_revoked,
            ),
            (
                "huren_seals_suspended_total",
                "Electronic seals suspended.",
                &self.seals_suspended,
            ),
            (
                "huren_seals_reinstated_total",
                "Electronic seals reinstated.",
                &self.seals_reinstated,
            ),
            (
                "huren_documents_sealed_total",
                "Documents sealed server-side with a platform-held holder key.",
                &self.documents_sealed,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                value.load(Ordering::Relaxed)
            );
        }
        let name = "huren_http_request_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Request latency by route and status.\n# TYPE {name} histogram"
        );
        if let Ok(map) = self.latency.lock() {
            for ((route, status), histogram) in map.iter() {
                let labels = format!("route=\"{route}\",status=\"{status}\"");
                for (bound, count) in BUCKETS.iter().zip(histogram.counts) {
                    let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {count}");
                }
                let _ = writeln!(
                    out,
                    "{name}_bucket{{{labels},le=\"+Inf\"}} {}",
                    histogram.count
                );
                let _ = writeln!(out, "{name}_sum{{{labels}}} {}", histogram.sum);
                let _ = writeln!(out, "{name}_count{{{labels}}} {}", histogram.count);
            }
        }
        out
    }
}
