//! `/v1/seals…` (SPEC §8): making, reading, status changes and server-side sealing, over
//! [`crate::seals`].
//!
//! | method & path | scope | what |
//! |---|---|---|
//! | `POST /v1/seals` | `seal` | make a seal; honours `Idempotency-Key`; 201 with esID, status position and the `.esl` (base64) |
//! | `GET /v1/seals/{esID}` | `read`, `seal` or `seal_sign` | the `.esl` (DER, `application/octet-stream`), or the record as JSON under `Accept: application/json` |
//! | `POST /v1/seals/{esID}/revoke`, `/suspend`, `/reinstate` | `seal` | body `{reason}`; updates the status list |
//! | `POST /v1/seals/{esID}/sign` | `seal_sign` | body = the document (`application/octet-stream`, `application/pdf` or `application/ofd`, at most [`MAX_DOCUMENT_BYTES`](crate::seals::MAX_DOCUMENT_BYTES)), optional `?property_info=`; the detached `SES_Signature` (DER), or JSON with it in base64 under `Accept: application/json` |
//! | `GET /v1/crl` | public | the region root's CRL (`application/pkix-crl`), as configured |
//!
//! Every endpoint checks the token (401) and its scope and region (403) before it reads the
//! body or looks anything up, so a refused request learns nothing and changes nothing.

use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::header::{self, HeaderMap};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use huren_crypto::licence::FieldError;
use serde::Deserialize;

use super::extract::{body_bytes, idempotency_key, wants_json, ChangePath};
use super::licences::ReasonBody;
use super::{ApiError, ApiJson, AppState};
use crate::issuance::request_hash;
use crate::record_status::StatusChange;
use crate::seals::{check_property_info, SealRequest, MAX_DOCUMENT_BYTES};
use crate::tokens::{Principal, Scope};

/// Content types accepted for a document to seal (any bytes are sealed as they are).
const DOCUMENT_TYPES: [&str; 3] = [
    "application/octet-stream",
    "application/pdf",
    "application/ofd",
];

/// `POST /v1/seals`.
pub(super) async fn make(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, ApiError> {
    state.seals.may_make(&state.issuer, &principal)?;
    let body = ApiJson::<SealRequest>::from_request(request, &state).await?;
    let key = idempotency_key(&headers)?;
    let hash = request_hash(&body.raw);
    let (made, created) = state
        .seals
        .make(
            &state.issuer,
            &principal,
            &body.value,
            key.as_deref().map(|k| (k, hash.as_str())),
        )
        .await?;
    let status = if created {
        state.metrics.seals_made.inc();
        tracing::info!(es_id = %made.es_id, by = %principal.id, "seal made");
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(made)).into_response())
}

/// `GET /v1/seals/{esID}`: the `.esl`, or its record as JSON when asked for.
pub(super) async fn read(
    State(state): State<AppState>,
    principal: Principal,
    Path(es_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let seal = state.seals.read(&state.issuer, &principal, &es_id).await?;
    if wants_json(&headers) {
        return Ok(Json(state.seals.record(&state.issuer, &seal)?).into_response());
    }
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}.esl\"", seal.es_id),
            ),
            (header::CACHE_CONTROL, "private, max-age=60".to_owned()),
        ],
        seal.der,
    )
        .into_response())
}

/// `POST /v1/seals/{esID}/revoke|suspend|reinstate`.
pub(super) async fn change(
    ChangePath { id: es_id, change }: ChangePath,
    State(state): State<AppState>,
    principal: Principal,
    request: Request,
) -> Result<Response, ApiError> {
    // Scope and region first: a refused token learns nothing, not even whether a seal exists
    // or what a valid reason looks like.
    principal.require(Scope::Seal, &state.issuer.keys.region, None)?;
    let body = ApiJson::<ReasonBody>::from_request(request, &state).await?;
    let record = state
        .seals
        .change_status(
            &state.issuer,
            &principal,
            &es_id,
            change,
            &body.value.reason,
        )
        .await?;
    let counter = match change {
        StatusChange::Revoke => &state.metrics.seals_revoked,
        StatusChange::Suspend => &state.metrics.seals_suspended,
        StatusChange::Reinstate => &state.metrics.seals_reinstated,
    };
    counter.inc();
    tracing::info!(es_id = %es_id, by = %principal.id, change = change.name(), "seal status changed");
    Ok(Json(record).into_response())
}

/// The query of `POST /v1/seals/{esID}/sign`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignQuery {
    /// `propertyInfo` of the signature: what the document is (OFD: the path of its
    /// `Signature.xml`). Default: the document's content type.
    property_info: Option<String>,
}

/// `POST /v1/seals/{esID}/sign`.
pub(super) async fn sign(
    State(state): State<AppState>,
    principal: Principal,
    Path(es_id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, ApiError> {
    principal.require(Scope::SealSign, &state.issuer.keys.region, None)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| DOCUMENT_TYPES.contains(&v.as_str()))
        .ok_or_else(|| {
            ApiError::UnsupportedMediaType(format!(
                "send the document as one of {}",
                DOCUMENT_TYPES.join(", ")
            ))
        })?;
    let query: Query<SignQuery> = Query::try_from_uri(&uri).map_err(|e| {
        ApiError::Invalid(vec![FieldError {
            field: "query".into(),
            message: e.body_text(),
        }])
    })?;
    let property_info = query.0.property_info.unwrap_or(content_type);
    check_property_info(&property_info)?;

    // Refused before a large body is read when the seal cannot be applied anyway.
    let signer = state
        .seals
        .signer(&state.issuer, &principal, &es_id)
        .await?;
    let _turn = state.seals.signing_turn().await?;
    let document = body_bytes(request, &state).await.map_err(|e| match e {
        ApiError::TooLarge => ApiError::BodyTooLarge(MAX_DOCUMENT_BYTES),
        other => other,
    })?;
    let done = state
        .seals
        .sign(&state.issuer, &principal, signer, document, property_info)
        .await?;
    state.metrics.documents_sealed.inc();
    tracing::info!(es_id = %es_id, by = %principal.id, "document sealed");

    if wants_json(&headers) {
        return Ok(Json(done.sealed).into_response());
    }
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{es_id}.ses\""),
            ),
        ],
        done.der,
    )
        .into_response())
}
