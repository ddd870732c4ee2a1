//! Annotated copies (加注件, SPEC §11): `/v1/licences/{jti}/copies` and `/v1/copies/{id}/…`.
//!
//! | endpoint | scope | answer |
//! |---|---|---|
//! | `POST /v1/licences/{jti}/copies` | `copy` | 201 `{id, token, qr_text, expires_at, copy_status}` |
//! | `GET /v1/licences/{jti}/copies` | `copy` or `read` | `{"copies": [summary…]}` |
//! | `POST /v1/copies/{id}/withdraw` | `copy` | the withdrawn copy's summary |
//! | `GET /v1/copies/{id}/view` | `copy` or `read` | the printable page (HTML) |
//!
//! The writes check the token's scope before they read the body: a token that may not make
//! copies learns nothing about what a valid request looks like.

use axum::extract::{FromRequest, Path, Request, State};
use axum::http::header;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::licences::ReasonBody;
use super::{ApiError, ApiJson, AppState};
use crate::copies::CopyRequest;
use crate::record_status::RecordStatus;
use crate::render;
use crate::tokens::{Principal, Scope};

/// `POST /v1/licences/{jti}/copies`.
pub(super) async fn make(
    State(state): State<AppState>,
    principal: Principal,
    Path(jti): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    principal.require(Scope::Copy, &state.issuer.keys.region, None)?;
    let body = ApiJson::<CopyRequest>::from_request(request, &state).await?;
    let made = state
        .issuer
        .make_copy(&principal, &jti, &body.value)
        .await?;
    tracing::info!(copy = %made.id, copy_of = %jti, by = %principal.id, "copy made");
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

/// `GET /v1/licences/{jti}/copies`.
pub(super) async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Path(jti): Path<String>,
) -> Result<Response, ApiError> {
    let copies = state.issuer.copies_of(&principal, &jti).await?;
    Ok(Json(serde_json::json!({ "copies": copies })).into_response())
}

/// `POST /v1/copies/{id}/withdraw`.
pub(super) async fn withdraw(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    principal.require(Scope::Copy, &state.issuer.keys.region, None)?;
    let body = ApiJson::<ReasonBody>::from_request(request, &state).await?;
    let copy = state
        .issuer
        .withdraw_copy(&principal, &id, &body.value.reason)
        .await?;
    tracing::info!(copy = %id, by = %principal.id, "copy withdrawn");
    Ok(Json(copy).into_response())
}

/// `GET /v1/copies/{id}/view`: the printable page.
pub(super) async fn view(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let page = state.issuer.copy_page(&principal, &id).await?;
    let labels = state
        .issuer
        .catalogue
        .face_labels(&page.claims.licence.type_code);
    let status_text = if page.withdrawn {
        Some("已撤回 Withdrawn by the holder")
    } else {
        match page.licence_status {
            RecordStatus::Valid => None,
            RecordStatus::Revoked => Some("证照已吊销/注销 Licence revoked"),
            RecordStatus::Suspended => Some("证照已暂扣 Licence suspended"),
        }
    };
    let html = render::copy_html(&render::CopyHtml {
        claims: &page.claims,
        qr_text: &page.qr_text,
        face_labels: &labels,
        province_name: &state.issuer.keys.region_name,
        status_text,
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_SECURITY_POLICY, render::PAGE_CSP),
        ],
        html,
    )
        .into_response())
}
