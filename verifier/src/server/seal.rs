//! `POST /v1/seals/verify` (SPEC §7, §8): a document and its detached seal signature
//! (`.ses` / `SignedValue.dat`, DER) in, the seal report out.
//!
//! Accepted bodies:
//! - `multipart/form-data` with parts `document` and `signature` (other parts are ignored);
//! - `application/json` `{"document_b64": "…", "signature_b64": "…"}` (standard base64).
//!
//! Bounds: a document of at most [`MAX_DOCUMENT_BYTES`], a signature of at most
//! [`MAX_SIGNATURE_BYTES`] (the seal decoder's own bound), a body of at most
//! [`MAX_SEAL_BODY_BYTES`]; beyond any of them 413, naming the part. Only [`SEAL_SLOTS`]
//! requests are read and verified at once, so memory stays bounded whatever the load, and a
//! body must arrive within [`BODY_READ_LIMIT`] (408 otherwise), so a slow sender cannot keep
//! a slot.
//!
//! The answer is HTTP 200 with the [`SealAnswer`](crate::SealAnswer) whatever the verdict;
//! 4xx problem JSON (with `part` naming the part at fault) only for a request that is not a
//! document and a signature at all. A signature part that is not a seal is an answer
//! (`seal_malformed`), not a 4xx: the clerk learns the file is no seal signature.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::multipart::MultipartError;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, FromRequest, Multipart, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use std::borrow::Cow;

use super::{
    caller, content_type, declared_length, problem, problem_about, rate_limited, ServerState,
    VerifyQuery,
};
use crate::Verdict;

/// Largest document accepted, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 32 * 1024 * 1024;
/// Largest seal signature accepted, in bytes (the seal decoder refuses larger ones anyway).
pub const MAX_SIGNATURE_BYTES: usize = huren_crypto::seal::MAX_SEAL_BYTES;
/// Largest request body: both parts as base64 in JSON, plus room for the JSON or multipart
/// framing.
pub const MAX_SEAL_BODY_BYTES: usize =
    base64_len(MAX_DOCUMENT_BYTES) + base64_len(MAX_SIGNATURE_BYTES) + 64 * 1024;
/// Seal requests read and verified at once. Each holds at most the body (≈ 50 MB as JSON)
/// and the decoded parts (36 MiB): four at once stay well under half a gigabyte.
pub(super) const SEAL_SLOTS: usize = 4;
/// How long a seal request waits for a slot before it is told to come back.
const SLOT_WAIT: Duration = Duration::from_secs(10);
/// How long a request may take to send its body while it holds a slot: a client trickling
/// bytes must not keep a slot from everyone else. Generous for the largest body over a slow
/// counter's line (50 MB at 512 KB/s).
const BODY_READ_LIMIT: Duration = Duration::from_secs(120);

/// Length of the padded standard base64 of `n` bytes.
const fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// The two parts of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Document,
    Signature,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Document => "document",
            Part::Signature => "signature",
        }
    }

    fn limit(self) -> usize {
        match self {
            Part::Document => MAX_DOCUMENT_BYTES,
            Part::Signature => MAX_SIGNATURE_BYTES,
        }
    }
}

/// Why a request is not a sealed document at all: the response to send.
struct Refused(Box<Response>);

const TITLE: &str = "Not a sealed document";

fn bad(code: &'static str, part: Option<Part>, detail: impl Into<String>) -> Refused {
    Refused(Box::new(problem_about(
        StatusCode::BAD_REQUEST,
        code,
        TITLE,
        detail.into(),
        part.map(Part::name),
    )))
}

fn missing(part: Part, detail: &str) -> Refused {
    let code = match part {
        Part::Document => "missing_document",
        Part::Signature => "missing_signature",
    };
    bad(code, Some(part), format!("the {} {detail}", part.name()))
}

fn part_too_large(part: Part) -> Refused {
    let code = match part {
        Part::Document => "document_too_large",
        Part::Signature => "signature_too_large",
    };
    Refused(Box::new(problem_about(
        StatusCode::PAYLOAD_TOO_LARGE,
        code,
        "Part too large",
        format!("the {} may be at most {} bytes", part.name(), part.limit()),
        Some(part.name()),
    )))
}

fn body_too_large() -> Refused {
    Refused(Box::new(problem(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        "Body too large",
        format!("at most {MAX_SEAL_BODY_BYTES} bytes"),
    )))
}

/// A multipart body over the limit is "too large" (413), whatever else is broken.
fn multipart_error(e: &MultipartError) -> Refused {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        body_too_large()
    } else {
        bad("bad_multipart", None, e.body_text())
    }
}

/// What was sent.
struct Input {
    document: Vec<u8>,
    signature: Vec<u8>,
}

impl Input {
    /// Both parts present and not empty (an empty file is a clerk who picked none).
    fn from_parts(document: Option<Vec<u8>>, signature: Option<Vec<u8>>) -> Result<Input, Refused> {
        let document = document.ok_or_else(|| missing(Part::Document, "part is missing"))?;
        let signature = signature.ok_or_else(|| missing(Part::Signature, "part is missing"))?;
        if document.is_empty() {
            return Err(missing(Part::Document, "is empty"));
        }
        if signature.is_empty() {
            return Err(missing(Part::Signature, "is empty"));
        }
        Ok(Input {
            document,
            signature,
        })
    }
}

async fn read_input(headers: &HeaderMap, request: Request) -> Result<Input, Refused> {
    // A body declared larger than the limit is refused before any of it is read.
    if declared_length(headers).is_some_and(|n| n > MAX_SEAL_BODY_BYTES as u64) {
        return Err(body_too_large());
    }
    match content_type(headers).as_str() {
        "multipart/form-data" => read_multipart(request).await,
        "application/json" => read_json(request).await,
        other => Err(Refused(Box::new(problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Unsupported media type",
            format!(
                "{other:?} is not accepted: send multipart/form-data with parts \"document\" and \"signature\", or application/json with \"document_b64\" and \"signature_b64\""
            ),
        )))),
    }
}

async fn read_multipart(request: Request) -> Result<Input, Refused> {
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|e| bad("bad_multipart", None, e.body_text()))?;
    let mut document = None;
    let mut signature = None;
    // A part over its bound is answered only once the body is read (up to the body limit),
    // so the client, still sending, gets the 413 rather than a reset connection.
    let mut oversized = None;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(&e))?
    {
        let (part, slot) = match field.name() {
            Some("document") => (Part::Document, &mut document),
            Some("signature") => (Part::Signature, &mut signature),
            // Anything else is skipped (within the body limit).
            _ => continue,
        };
        if slot.is_some() {
            return Err(bad(
                "duplicate_part",
                Some(part),
                format!("the {} part is given twice", part.name()),
            ));
        }
        let mut bytes = Vec::new();
        let mut over = false;
        while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(&e))? {
            if over || bytes.len() + chunk.len() > part.limit() {
                over = true;
                continue;
            }
            bytes.extend_from_slice(&chunk);
        }
        if over {
            oversized.get_or_insert(part);
            bytes = Vec::new();
        }
        *slot = Some(bytes);
    }
    if let Some(part) = oversized {
        return Err(part_too_large(part));
    }
    Input::from_parts(document, signature)
}

/// `{"document_b64": …, "signature_b64": …}`. The strings borrow from the body where they can
/// (no escapes), so a large document is not copied once more before it is decoded.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body<'a> {
    #[serde(borrow, default)]
    document_b64: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    signature_b64: Option<Cow<'a, str>>,
}

async fn read_json(request: Request) -> Result<Input, Refused> {
    let bytes = Bytes::from_request(request, &()).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            body_too_large()
        } else {
            bad("unreadable_body", None, e.body_text())
        }
    })?;
    const EXPECTED: &str = "expected {\"document_b64\": \"…\", \"signature_b64\": \"…\"}";
    // Only an object: serde would also take an array for the struct.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(bad("malformed_json", None, EXPECTED));
    }
    let body: Body<'_> = serde_json::from_slice(&bytes)
        .map_err(|e| bad("malformed_json", None, format!("{EXPECTED}: {e}")))?;
    let decode = |part: Part, text: Option<Cow<'_, str>>| -> Result<Option<Vec<u8>>, Refused> {
        let Some(text) = text else { return Ok(None) };
        huren_crypto::b64::decode_std(&text, base64_len(part.limit()))
            .map(Some)
            .map_err(|e| match e {
                huren_crypto::b64::Base64Error::TooLong { .. } => part_too_large(part),
                _ => bad(
                    "bad_base64",
                    Some(part),
                    format!("{}_b64 is not standard base64", part.name()),
                ),
            })
    };
    let document = decode(Part::Document, body.document_b64)?;
    let signature = decode(Part::Signature, body.signature_b64)?;
    // The decoded size is what is bounded, whatever the padding allowed.
    for (part, bytes) in [(Part::Document, &document), (Part::Signature, &signature)] {
        if bytes.as_ref().is_some_and(|b| b.len() > part.limit()) {
            return Err(part_too_large(part));
        }
    }
    Input::from_parts(document, signature)
}

pub(super) async fn verify_seal(
    State(state): State<ServerState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    query: Result<Query<VerifyQuery>, QueryRejection>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let caller = caller(&state, &headers, peer);
    if let Some(refusal) = rate_limited(&state, &headers, peer) {
        return refusal;
    }
    let reject = |response: Response| {
        state.metrics.seal_rejected.fetch_add(1, Ordering::Relaxed);
        response
    };
    let fresh = match query {
        Ok(Query(query)) => query.fresh,
        Err(e) => {
            return reject(problem(
                StatusCode::BAD_REQUEST,
                "bad_query",
                "Bad query",
                e.body_text(),
            ))
        }
    };
    let Ok(Ok(permit)) =
        tokio::time::timeout(SLOT_WAIT, state.seal_slots.clone().acquire_owned()).await
    else {
        // 429, not 503: the service is up; sealed documents are queued per instance.
        let mut response = problem(
            StatusCode::TOO_MANY_REQUESTS,
            "seal_verifier_busy",
            "Seal verifier busy",
            "other sealed documents are being checked; try again shortly",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        return reject(response);
    };
    let input = match tokio::time::timeout(BODY_READ_LIMIT, read_input(&headers, request)).await {
        Ok(Ok(input)) => input,
        Ok(Err(Refused(response))) => return reject(*response),
        Err(_) => {
            return reject(problem(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                "Request body too slow",
                format!(
                    "the document and signature must arrive within {} seconds",
                    BODY_READ_LIMIT.as_secs()
                ),
            ))
        }
    };
    let at = (state.now)();
    // Hashing up to 32 MiB and perhaps fetching a status list or CRL: a blocking thread's work.
    let verifier = state.verifier.clone();
    let checked = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        verifier.check_seal(&input.signature, &input.document, at, fresh)
    })
    .await;
    let answer = match checked {
        Ok(answer) => answer,
        Err(e) => {
            tracing::error!(error = %e, "seal verification did not complete");
            return problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "the seal could not be checked",
            );
        }
    };
    let report = &answer.report;
    let counter = match report.verdict {
        Verdict::Valid => &state.metrics.seal_valid,
        Verdict::Invalid => &state.metrics.seal_invalid,
        Verdict::Indeterminate => &state.metrics.seal_indeterminate,
    };
    counter.fetch_add(1, Ordering::Relaxed);
    let reasons: Vec<&str> = report.reasons.iter().map(|r| r.code()).collect();
    // The esID comes from the file: logged with escapes, so it cannot forge log lines.
    let es_id = report.seal.as_ref().map_or("-", |s| s.es_id.as_str());
    tracing::info!(
        target: "huren::usage",
        es_id = ?es_id,
        verdict = ?report.verdict,
        reasons = ?reasons,
        at = at.seconds(),
        caller = %caller,
        "seal checked"
    );
    Json(answer).into_response()
}

#[cfg(test)]
mod tests {
    use huren_crypto::seal::verify::ALL_SEAL_CHECKS;

    use super::*;

    #[test]
    fn the_body_limit_fits_both_parts_at_their_limits_as_json() {
        let json_framing = r#"{"document_b64":"","signature_b64":""}"#.len();
        assert!(
            base64_len(MAX_DOCUMENT_BYTES) + base64_len(MAX_SIGNATURE_BYTES) + json_framing
                <= MAX_SEAL_BODY_BYTES
        );
        assert_eq!(base64_len(3), 4);
        assert_eq!(base64_len(4), 8);
    }

    #[test]
    fn openapi_describes_the_seal_endpoint_and_every_check() {
        let doc: serde_json::Value = serde_json::from_str(include_str!("openapi.json")).unwrap();
        let post = &doc["paths"]["/v1/seals/verify"]["post"];
        let content = &post["requestBody"]["content"];
        assert!(content["multipart/form-data"]["schema"]["properties"]["document"].is_object());
        assert!(content["application/json"]["schema"]["properties"]["signature_b64"].is_object());
        let checks = &doc["components"]["schemas"]["SealAnswer"]["properties"]["checks"]["items"]
            ["properties"]["check"]["enum"];
        let named: Vec<serde_json::Value> = ALL_SEAL_CHECKS
            .iter()
            .map(|c| serde_json::to_value(c).unwrap())
            .collect();
        assert_eq!(checks.as_array(), Some(&named));
    }

    #[test]
    fn the_page_names_every_check_in_both_languages() {
        let script = include_str!("page.js");
        let table = script
            .split_once("const SEAL_CHECKS = {")
            .and_then(|(_, rest)| rest.split_once("\n};"))
            .map(|(table, _)| table)
            .unwrap();
        for check in ALL_SEAL_CHECKS {
            let name = serde_json::to_value(check).unwrap();
            let key = format!("{}: \"", name.as_str().unwrap());
            // As a whole key: `signature` must not be found inside `seal_signature`.
            let found = [' ', '{']
                .iter()
                .map(|before| table.matches(&format!("{before}{key}")).count())
                .sum::<usize>();
            assert_eq!(found, 2, "{key}");
        }
    }
}
