//! `POST /v1/verify` (SPEC §7): a licence or an annotated copy in — `HR1:` text or a JWS as
//! `text/plain`, `{"token": …}` / `{"qr": …}` as JSON, or a photo of its QR code as multipart
//! `image` — and the SPEC §6 / §11 report out, HTTP 200 whatever the verdict. The unit verifying
//! (for copies) is the service's own, or the request's `audience` ([`super::audience`]).
//!
//! Photos are decoded one at a time on a blocking thread with an answer budget
//! ([`IMAGE_DECODE_BUDGET`]); text never waits for them. A status-list fetch is the only other
//! work that leaves the async worker.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::multipart::MultipartError;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, FromRequest, Multipart, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::audience::unit_for;
use super::problem::{ApiError, Expected, ImageFault, Refusal, Task};
use super::request::{
    answer_error, caller, content_type, declared_length, json_answer, multipart_refusal,
    parsed_query, request_id, within_rate, Codes,
};
use super::state::ServerState;
use crate::verifier::Held;
use crate::{Report, Verdict};
use huren_crypto::verify::Presented;

/// Largest request body (a phone photo of a QR code).
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// How long a client waits for a photo to be decoded before getting an answer.
const IMAGE_DECODE_BUDGET: Duration = Duration::from_secs(3);
/// Largest decoded image, in pixels per side.
const MAX_IMAGE_SIDE: u32 = 6000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyBody {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    qr: Option<String>,
    /// The using unit verifying (SPEC §11); `null` = not said.
    #[serde(default)]
    audience: Option<Audience>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Audience {
    code: String,
}

/// `?fresh=true`: refetch the status lists first; `?audience=CODE`: the using unit verifying
/// (for `text/plain` and photos; JSON bodies may also say it in the body).
/// Unknown parameters are ignored, as they always were (proxies and cache-busters add them); a
/// misspelt `?aud=` cannot pass unseen: a copy naming a unit then carries the warning
/// `audience_not_checked`.
#[derive(Deserialize)]
pub(super) struct LicenceQuery {
    #[serde(default)]
    fresh: bool,
    #[serde(default)]
    audience: Option<String>,
}

const TOO_LARGE: Refusal = Refusal::BodyTooLarge {
    limit: MAX_BODY_BYTES,
};

fn bad_multipart(detail: String) -> Refusal {
    Refusal::BadMultipart {
        expected: Expected::Licence,
        detail,
    }
}

fn multipart_error(e: &MultipartError) -> Refusal {
    multipart_refusal(e, MAX_BODY_BYTES, Expected::Licence)
}

/// What was sent: text (as received; checked to be UTF-8 where it is used) or what a JSON body
/// or a photo gave.
enum Input {
    Text(Bytes),
    Decoded(String),
}

impl Input {
    fn text(&self) -> Result<&str, Refusal> {
        match self {
            Input::Text(bytes) => std::str::from_utf8(bytes).map_err(|_| Refusal::NotUtf8),
            Input::Decoded(text) => Ok(text),
        }
    }
}

/// Reads the licence (and a JSON body's audience code) from `request`, whose headers the
/// caller has taken out (`headers`).
async fn read_input(
    headers: &HeaderMap,
    mut request: Request,
    image_slots: &Arc<tokio::sync::Semaphore>,
) -> Result<(Input, Option<String>), ApiError> {
    let content_type = content_type(headers);
    // A body declared larger than the limit is refused before any of it is read.
    if declared_length(headers).is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(TOO_LARGE.into());
    }
    if content_type == "multipart/form-data" {
        // The multipart reader finds its boundary in the headers (the photo path only).
        *request.headers_mut() = headers.clone();
        let mut multipart = Multipart::from_request(request, &())
            .await
            .map_err(|e| bad_multipart(e.body_text()))?;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| multipart_error(&e))?
        {
            if field.name() == Some("image") {
                let bytes = field.bytes().await.map_err(|e| multipart_error(&e))?;
                let text = decode_with_budget(bytes, image_slots).await?;
                return Ok((Input::Decoded(text), None));
            }
        }
        return Err(Refusal::MissingImage.into());
    }
    let bytes = Bytes::from_request(request, &()).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            TOO_LARGE
        } else {
            Refusal::UnreadableBody {
                expected: Expected::Licence,
                detail: e.body_text(),
            }
        }
    })?;
    let malformed = |error: Option<String>| Refusal::MalformedJson {
        expected: Expected::Licence,
        error,
    };
    match content_type.as_str() {
        "application/json" => {
            // Only an object: serde would also take `["…"]` for the struct.
            if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
                return Err(malformed(None).into());
            }
            let body: VerifyBody =
                serde_json::from_slice(&bytes).map_err(|e| malformed(Some(e.to_string())))?;
            let text = body.token.or(body.qr).ok_or(Refusal::MissingInput)?;
            Ok((Input::Decoded(text), body.audience.map(|a| a.code)))
        }
        "text/plain" | "" => Ok((Input::Text(bytes), None)),
        other => Err(Refusal::UnsupportedMediaType {
            expected: Expected::Licence,
            given: other.to_owned(),
        }
        .into()),
    }
}

/// Decodes a photo in the single decoding slot, answering within [`IMAGE_DECODE_BUDGET`]. The
/// slot stays taken until the decode really ends, so at most one core is ever spent on photos.
async fn decode_with_budget(
    bytes: Bytes,
    slots: &Arc<tokio::sync::Semaphore>,
) -> Result<String, ApiError> {
    let permit = tokio::time::timeout(IMAGE_DECODE_BUDGET, slots.clone().acquire_owned())
        .await
        .map_err(|_| Refusal::ImageDecoderBusy)?
        .map_err(|_| Refusal::ImageDecoderBusy)?;
    let decode = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        decode_qr_image(&bytes)
    });
    match tokio::time::timeout(IMAGE_DECODE_BUDGET, decode).await {
        Ok(joined) => Ok(ApiError::joined(Task::PhotoDecode, joined)??),
        Err(_) => Err(Refusal::ImageTooComplex.into()),
    }
}

/// The text of the first readable QR code in a photo. The decoders run on bytes from the
/// network: one that panics on them has refused the image (400 `unreadable_image`, logged),
/// like one that returns an error — the client sent something no decoder could read.
fn decode_qr_image(bytes: &[u8]) -> Result<String, Refusal> {
    std::panic::catch_unwind(|| decode_qr_image_unguarded(bytes)).unwrap_or_else(|_| {
        tracing::warn!(bytes = bytes.len(), "the image decoder panicked on a photo");
        Err(Refusal::UnreadableImage(ImageFault::Unprocessable))
    })
}

fn decode_qr_image_unguarded(bytes: &[u8]) -> Result<String, Refusal> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| Refusal::UnreadableImage(ImageFault::NotAnImage))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let image = reader
        .decode()
        .map_err(|_| Refusal::UnreadableImage(ImageFault::Undecodable))?
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    prepared
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
        .ok_or(Refusal::NoQrCode)
}

pub(super) async fn verify(
    State(state): State<ServerState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    query: Result<Query<LicenceQuery>, QueryRejection>,
    mut request: Request,
) -> Response {
    // The headers are taken out of the request rather than copied (the `HeaderMap` extractor
    // clones them): they outlive the body, which `read_input` consumes, for the usage log.
    let headers = std::mem::take(request.headers_mut());
    let caller = caller(&state, &headers, peer);
    let answer = match check(&state, peer, query, &headers, request).await {
        Ok((report, at, unit)) => {
            let counter = match report.verdict {
                Verdict::Valid => &state.metrics.valid,
                Verdict::Invalid => &state.metrics.invalid,
                Verdict::Indeterminate => &state.metrics.indeterminate,
            };
            counter.inc();
            // What was checked, never whose: a copy's id and the licence it copies.
            let (kind, copy_of) = match report.presented() {
                Some(Presented::Licence(_)) => ("licence", "-"),
                Some(Presented::Copy(claims)) => ("copy", claims.copy_of.as_str()),
                None => ("-", "-"),
            };
            tracing::info!(
                target: "huren::usage",
                jti = report.jti().unwrap_or("-"),
                kind,
                copy_of,
                unit = unit.as_deref().unwrap_or("-"),
                verdict = ?report.verdict,
                reasons = ?Codes(report.reasons.iter().map(|r| r.code())),
                at = at.seconds(),
                caller = %caller,
                // Escaped: a client may choose its own id.
                request_id = ?request_id(&headers),
                "licence checked"
            );
            json_answer(&report)
        }
        Err(error) => Err(error),
    };
    answer.unwrap_or_else(|error| answer_error(&state, Expected::Licence, error))
}

async fn check(
    state: &ServerState,
    peer: SocketAddr,
    query: Result<Query<LicenceQuery>, QueryRejection>,
    headers: &HeaderMap,
    request: Request,
) -> Result<(Report, huren_crypto::time::UnixTime, Option<String>), ApiError> {
    within_rate(state, headers, peer)?;
    let query = parsed_query(query)?;
    let (input, body_audience) = read_input(headers, request, &state.image_slots).await?;
    let unit = unit_for(
        state.unit.as_ref(),
        body_audience.as_deref(),
        query.audience.as_deref(),
    )?;
    let text = input.text()?;
    let at = (state.now)();
    // Verification is CPU work of tens of microseconds and runs right here; only a status-list
    // fetch may wait on the network, and that alone goes to a blocking thread.
    let report = match state
        .verifier
        .verify_held(text, at, query.fresh, unit.as_deref())
    {
        Held::Answer(report) => report,
        Held::NeedsFetch { held, uris, log } => {
            let verifier = state.verifier.clone();
            let text = text.to_owned();
            let owned = unit.as_deref().cloned();
            let fetched = tokio::task::spawn_blocking(move || {
                verifier.verify_after_fetch(&text, at, held, &uris, log.as_ref(), owned.as_ref())
            })
            .await;
            ApiError::joined(Task::LicenceStatusFetch, fetched)?
        }
    };
    // The unit's code is an organisation's, not personal data: the usage log says whom a copy
    // was checked for.
    let unit = unit.map(|u| u.as_str().to_owned());
    Ok((report, at, unit))
}
