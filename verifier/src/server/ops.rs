//! The read-only routes: `GET /v1/trust` (what trust material is held, and the using unit the
//! service verifies for), `/readyz`,
//! `/metrics` (OpenMetrics text) and `/openapi.json`.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::metrics;
use super::state::ServerState;

pub(super) async fn trust(State(state): State<ServerState>) -> Response {
    let now = (state.now)();
    let grace = state.verifier.options().trust_list_grace_seconds;
    let status = state.verifier.trust_store().status(now, grace);
    let lists = state.verifier.status_cache().summary(now);
    let crls = state.verifier.crl_cache().summary(now);
    let crl_problems = state.verifier.crl_cache().problems();
    Json(serde_json::json!({"trust_list": status, "status_lists": lists, "crls": crls, "crl_problems": crl_problems, "unit": state.unit}))
        .into_response()
}

pub(super) async fn ready(State(state): State<ServerState>) -> Response {
    let current = state.verifier.trust_store().current();
    let body = serde_json::json!({"ready": true, "trust_list_seq": current.trust.seq(), "from_cache": current.from_cache});
    (StatusCode::OK, Json(body)).into_response()
}

pub(super) async fn metrics(State(state): State<ServerState>) -> Response {
    let text = state.metrics.render(&state.verifier, (state.now)());
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response()
}

pub(super) async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("openapi.json"),
    )
        .into_response()
}
