//! Operations: liveness, readiness (the database answers), Prometheus metrics and the OpenAPI
//! document.

use axum::extract::State;
use axum::http::header;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::AppState;

/// `GET /healthz`: the process answers.
pub(super) async fn health() -> &'static str {
    "ok"
}

pub(super) async fn ready(State(state): State<AppState>) -> Response {
    match state.issuer.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({"ready": true, "database": "ok", "keys": "loaded", "region": state.issuer.keys.region.as_str()}))).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({"ready": false, "database": "unreachable"}))).into_response()
        }
    }
}

pub(super) async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        state.metrics.render(),
    )
        .into_response()
}

pub(super) async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("../openapi.json"),
    )
        .into_response()
}
