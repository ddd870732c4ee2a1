//! The read-only routes: `GET /v1/trust` (what trust material is held), `/readyz`,
//! `/metrics` (Prometheus text) and `/openapi.json`.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::state::ServerState;

pub(super) async fn trust(State(state): State<ServerState>) -> Response {
    let now = (state.now)();
    let grace = state.verifier.options().trust_list_grace_seconds;
    let status = state.verifier.trust_store().status(now, grace);
    let lists = state.verifier.status_cache().summary(now);
    let crls = state.verifier.crl_cache().summary(now);
    let crl_problems = state.verifier.crl_cache().problems();
    Json(serde_json::json!({"trust_list": status, "status_lists": lists, "crls": crls, "crl_problems": crl_problems}))
        .into_response()
}

pub(super) async fn ready(State(state): State<ServerState>) -> Response {
    let current = state.verifier.trust_store().current();
    let body = serde_json::json!({"ready": true, "trust_list_seq": current.trust.seq(), "from_cache": current.from_cache});
    (StatusCode::OK, Json(body)).into_response()
}

pub(super) async fn metrics(State(state): State<ServerState>) -> Response {
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

pub(super) async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("openapi.json"),
    )
        .into_response()
}
