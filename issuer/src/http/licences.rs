//! `/v1/licences…`: issuing (single and batch), reading, the QR code and printable view, and
//! status changes.

use axum::extract::{Path, Request, State};
use axum::http::header::{self, HeaderMap};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use huren_crypto::licence::FieldError;
use serde::{Deserialize, Serialize};

use super::extract::{body_bytes, idempotency_key, json_content_type, ChangePath};
use super::{parse_json, ApiError, ApiJson, AppState};
use crate::issuance::{request_hash, IssueRequest, Issued};
use crate::record_status::{RecordStatus, StatusChange};
use crate::render;
use crate::tokens::{Principal, Scope};

/// Most items in one batch.
pub const MAX_BATCH_ITEMS: usize = 1000;

/// `POST /v1/licences` (honours `Idempotency-Key`: 201 when issued, 200 on a replay).
pub(super) async fn issue(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: ApiJson<IssueRequest>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let hash = request_hash(&body.raw);
    let (issued, created) = state
        .issuer
        .issue(
            &principal,
            &body.value,
            key.as_deref().map(|k| (k, hash.as_str())),
        )
        .await?;
    if created {
        state.metrics.issued.inc();
        tracing::info!(jti = %issued.id, by = %principal.id, "issued");
    }
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(issued)).into_response())
}

#[derive(Serialize)]
struct BatchItem {
    index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    licence: Option<Issued>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<BatchError>,
}

#[derive(Serialize)]
struct BatchError {
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError>,
}

/// `POST /v1/licences/batch`: a JSON array or NDJSON; each item issued or refused on its own.
pub(super) async fn issue_batch(
    State(state): State<AppState>,
    principal: Principal,
    request: Request,
) -> Result<Response, ApiError> {
    // The token must be able to issue in this region at all; per-type checks follow per item.
    principal.require(Scope::Issue, &state.issuer.keys.region, None)?;
    let ndjson = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-ndjson"));
    if !ndjson && !json_content_type(request.headers()) {
        return Err(ApiError::UnsupportedMediaType(
            "send application/json (an array) or application/x-ndjson".into(),
        ));
    }
    let raw = body_bytes(request, &state).await?;
    let requests: Vec<IssueRequest> = if ndjson {
        let text =
            std::str::from_utf8(&raw).map_err(|_| ApiError::BadJson("body is not UTF-8".into()))?;
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .enumerate()
            .map(|(i, line)| {
                parse_json::<IssueRequest>(line.as_bytes()).map_err(|e| match e {
                    ApiError::Invalid(mut errors) => {
                        for error in &mut errors {
                            error.field = format!("[{i}].{}", error.field);
                        }
                        ApiError::Invalid(errors)
                    }
                    ApiError::BadJson(detail) => {
                        ApiError::BadJson(format!("line {}: {detail}", i + 1))
                    }
                    other => other,
                })
            })
            .collect::<Result<_, _>>()?
    } else {
        parse_json(&raw)?
    };
    if requests.len() > MAX_BATCH_ITEMS {
        return Err(ApiError::Invalid(vec![FieldError {
            field: "body".into(),
            message: format!("at most {MAX_BATCH_ITEMS} licences per batch"),
        }]));
    }
    let results = state.issuer.issue_batch(&principal, &requests).await?;
    let items: Vec<BatchItem> = results
        .into_iter()
        .enumerate()
        .map(|(index, result)| match result {
            Ok(issued) => {
                state.metrics.issued.inc();
                BatchItem {
                    index,
                    licence: Some(issued),
                    error: None,
                }
            }
            Err(e) => {
                let (status, detail, errors) = match ApiError::from(e) {
                    ApiError::Invalid(errors) => (422, "invalid fields".to_owned(), errors),
                    ApiError::Forbidden(d) => (403, d, vec![]),
                    ApiError::Conflict(d) => (409, d, vec![]),
                    ApiError::NotFound(d) => (404, d, vec![]),
                    other => (500, format!("{other:?}"), vec![]),
                };
                BatchItem {
                    index,
                    licence: None,
                    error: Some(BatchError {
                        status,
                        detail,
                        errors,
                    }),
                }
            }
        })
        .collect();
    let issued = items.iter().filter(|i| i.licence.is_some()).count();
    Ok(
        Json(serde_json::json!({"issued": issued, "failed": items.len() - issued, "items": items}))
            .into_response(),
    )
}

/// `GET /v1/licences/{jti}`.
pub(super) async fn read(
    State(state): State<AppState>,
    principal: Principal,
    Path(jti): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(state.issuer.licence(&principal, &jti).await?).into_response())
}

/// `GET /v1/licences/{jti}/qr.png`.
pub(super) async fn qr_png(
    State(state): State<AppState>,
    principal: Principal,
    Path(jti): Path<String>,
) -> Result<Response, ApiError> {
    let record = state.issuer.licence(&principal, &jti).await?;
    let png = render::qr_png(&record.qr_text, 4).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        png,
    )
        .into_response())
}

/// `GET /v1/licences/{jti}/qr.svg`.
pub(super) async fn qr_svg(
    State(state): State<AppState>,
    principal: Principal,
    Path(jti): Path<String>,
) -> Result<Response, ApiError> {
    let record = state.issuer.licence(&principal, &jti).await?;
    let svg = render::qr_svg(&record.qr_text).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        svg,
    )
        .into_response())
}

/// `GET /v1/licences/{jti}/view`: the printable HTML view (identifiers masked).
pub(super) async fn view(
    State(state): State<AppState>,
    principal: Principal,
    Path(jti): Path<String>,
) -> Result<Response, ApiError> {
    let record = state.issuer.licence(&principal, &jti).await?;
    let claims = state
        .issuer
        .claims_of(&record.token)
        .map_err(ApiError::Internal)?;
    let labels = state.issuer.catalogue.face_labels(&record.type_code);
    let status_text = match record.current_status {
        RecordStatus::Valid => None,
        RecordStatus::Revoked => Some("已吊销/注销 Revoked"),
        RecordStatus::Suspended => Some("已暂扣 Suspended"),
    };
    let html = render::licence_html(&render::LicenceHtml {
        claims: &claims,
        qr_text: &record.qr_text,
        face_labels: &labels,
        province_name: &state.issuer.keys.region_name,
        status_text,
    });
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

/// The body of a status change.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReasonBody {
    pub(super) reason: String,
}

/// `POST /v1/licences/{jti}/revoke|suspend|reinstate`.
pub(super) async fn change(
    ChangePath { id: jti, change }: ChangePath,
    State(state): State<AppState>,
    principal: Principal,
    body: ApiJson<ReasonBody>,
) -> Result<Response, ApiError> {
    let record = state
        .issuer
        .change_status(&principal, &jti, change, &body.value.reason)
        .await?;
    let counter = match change {
        StatusChange::Revoke => &state.metrics.revoked,
        StatusChange::Suspend => &state.metrics.suspended,
        StatusChange::Reinstate => &state.metrics.reinstated,
    };
    counter.inc();
    tracing::info!(jti = %jti, by = %principal.id, change = change.name(), "status changed");
    Ok(Json(record).into_response())
}
