//! `POST /v1/seals/verify` (SPEC §7, §8): a document and its detached seal signature
//! (`.ses` / `SignedValue.dat`, DER) in, the seal report out.
//!
//! Accepted bodies:
//! - `multipart/form-data` with parts `document` and `signature` (other parts are ignored);
//! - `application/json` `{"document_b64": "…", "signature_b64": "…"}` (standard base64).
//!
//! Bounds: a document of at most [`MAX_DOCUMENT_BYTES`], a signature of at most
//! [`MAX_SIGNATURE_BYTES`] (the seal decoder's own bound), a body of at most
//! [`MAX_SEAL_BODY_BYTES`]; beyond any of them 413, naming the part. Only `state::SEAL_SLOTS`
//! requests are read and verified at once, so memory stays bounded whatever the load, and a
//! body must arrive within [`BODY_READ_LIMIT`] (408 otherwise), so a slow sender cannot keep
//! a slot.
//!
//! The answer is HTTP 200 with the [`SealAnswer`](crate::SealAnswer) whatever the verdict;
//! 4xx problem JSON (with `part` naming the part at fault) only for a request that is not a
//! document and a signature at all. A signature part that is not a seal is an answer
//! (`seal_malformed`), not a 4xx: the clerk learns the file is no seal signature.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::multipart::MultipartError;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, FromRequest, Multipart, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::problem::{ApiError, Expected, Part, Refusal, Task};
use super::request::{
    answer_error, caller, content_type, declared_length, fresh, json_answer, multipart_refusal,
    request_id, within_rate, Codes, VerifyQuery,
};
use super::state::ServerState;
use crate::{SealAnswer, Verdict};

/// Largest document accepted, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 32 * 1024 * 1024;
/// Largest seal signature accepted, in bytes (the seal decoder refuses larger ones anyway).
pub const MAX_SIGNATURE_BYTES: usize = huren_crypto::seal::MAX_SEAL_BYTES;
/// Largest request body: both parts as base64 in JSON, plus room for the JSON or multipart
/// framing.
pub const MAX_SEAL_BODY_BYTES: usize =
    base64_len(MAX_DOCUMENT_BYTES) + base64_len(MAX_SIGNATURE_BYTES) + 64 * 1024;
/// How long a seal request waits for a slot before it is told to come back.
const SLOT_WAIT: Duration = Duration::from_secs(10);
/// How long a request may take to send its body while it holds a slot: a client trickling
/// bytes must not keep a slot from everyone else. Generous for the largest body over a slow
/// counter's line (50 MB at 512 KB/s).
const BODY_READ_LIMIT: Duration = Duration::from_secs(120);

/// The bound on `part`, in bytes.
fn limit(part: Part) -> usize {
    match part {
        Part::Document => MAX_DOCUMENT_BYTES,
        Part::Signature => MAX_SIGNATURE_BYTES,
    }
}

/// Refuses `part` as over its bound.
fn too_large(part: Part) -> Refusal {
    Refusal::PartTooLarge {
        part,
        limit: limit(part),
    }
}

/// Length of the padded standard base64 of `n` bytes.
const fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

const TOO_LARGE: Refusal = Refusal::BodyTooLarge {
    limit: MAX_SEAL_BODY_BYTES,
};

fn bad_multipart(detail: String) -> Refusal {
    Refusal::BadMultipart {
        expected: Expected::SealedDocument,
        detail,
    }
}

fn multipart_error(e: &MultipartError) -> Refusal {
    multipart_refusal(e, MAX_SEAL_BODY_BYTES, Expected::SealedDocument)
}

/// What was sent.
struct Input {
    document: Vec<u8>,
    signature: Vec<u8>,
}

impl Input {
    /// Both parts present and not empty (an empty file is a clerk who picked none).
    fn from_parts(document: Option<Vec<u8>>, signature: Option<Vec<u8>>) -> Result<Input, Refusal> {
        let missing = |part| Refusal::MissingPart { part, empty: false };
        let empty = |part| Refusal::MissingPart { part, empty: true };
        let document = document.ok_or_else(|| missing(Part::Document))?;
        let signature = signature.ok_or_else(|| missing(Part::Signature))?;
        if document.is_empty() {
            return Err(empty(Part::Document));
        }
        if signature.is_empty() {
            return Err(empty(Part::Signature));
        }
        Ok(Input {
            document,
            signature,
        })
    }
}

async fn read_input(headers: &HeaderMap, request: Request) -> Result<Input, Refusal> {
    // A body declared larger than the limit is refused before any of it is read.
    if declared_length(headers).is_some_and(|n| n > MAX_SEAL_BODY_BYTES as u64) {
        return Err(TOO_LARGE);
    }
    match content_type(headers).as_str() {
        "multipart/form-data" => read_multipart(request).await,
        "application/json" => read_json(request).await,
        other => Err(Refusal::UnsupportedMediaType {
            expected: Expected::SealedDocument,
            given: other.to_owned(),
        }),
    }
}

async fn read_multipart(request: Request) -> Result<Input, Refusal> {
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|e| bad_multipart(e.body_text()))?;
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
            return Err(Refusal::DuplicatePart(part));
        }
        let mut bytes = Vec::new();
        let mut over = false;
        while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(&e))? {
            if over || bytes.len() + chunk.len() > limit(part) {
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
        return Err(too_large(part));
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

async fn read_json(request: Request) -> Result<Input, Refusal> {
    let bytes = Bytes::from_request(request, &()).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            TOO_LARGE
        } else {
            Refusal::UnreadableBody {
                expected: Expected::SealedDocument,
                detail: e.body_text(),
            }
        }
    })?;
    let malformed = |error: Option<String>| Refusal::MalformedJson {
        expected: Expected::SealedDocument,
        error,
    };
    // Only an object: serde would also take an array for the struct.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(malformed(None));
    }
    let body: Body<'_> =
        serde_json::from_slice(&bytes).map_err(|e| malformed(Some(e.to_string())))?;
    let decode = |part: Part, text: Option<Cow<'_, str>>| -> Result<Option<Vec<u8>>, Refusal> {
        let Some(text) = text else { return Ok(None) };
        huren_crypto::b64::decode_std(&text, base64_len(limit(part)))
            .map(Some)
            .map_err(|e| match e {
                huren_crypto::b64::Base64Error::TooLong { .. } => too_large(part),
                _ => Refusal::BadBase64(part),
            })
    };
    let document = decode(Part::Document, body.document_b64)?;
    let signature = decode(Part::Signature, body.signature_b64)?;
    // The decoded size is what is bounded, whatever the padding allowed.
    for (part, bytes) in [(Part::Document, &document), (Part::Signature, &signature)] {
        if bytes.as_ref().is_some_and(|b| b.len() > limit(part)) {
            return Err(too_large(part));
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
    match check(&state, peer, query, &headers, request).await {
        Ok((answer, at)) => {
            let report = &answer.report;
            let counter = match report.verdict {
                Verdict::Valid => &state.metrics.seal_valid,
                Verdict::Invalid => &state.metrics.seal_invalid,
                Verdict::Indeterminate => &state.metrics.seal_indeterminate,
            };
            counter.inc();
            // The esID comes from the file: logged with escapes, so it cannot forge log lines.
            let es_id = report.seal.as_ref().map_or("-", |s| s.es_id.as_str());
            tracing::info!(
                target: "huren::usage",
                es_id = ?es_id,
                verdict = ?report.verdict,
                reasons = ?Codes(report.reasons.iter().map(|r| r.code())),
                at = at.seconds(),
                caller = %caller,
                // Escaped: a client may choose its own id.
                request_id = ?request_id(&headers),
                "seal checked"
            );
            json_answer(&answer)
        }
        Err(error) => Err(error),
    }
    .unwrap_or_else(|error| answer_error(&state, Expected::SealedDocument, error))
}

async fn check(
    state: &ServerState,
    peer: SocketAddr,
    query: Result<Query<VerifyQuery>, QueryRejection>,
    headers: &HeaderMap,
    request: Request,
) -> Result<(SealAnswer, huren_crypto::time::UnixTime), ApiError> {
    within_rate(state, headers, peer)?;
    let fresh = fresh(query)?;
    let Ok(Ok(permit)) =
        tokio::time::timeout(SLOT_WAIT, state.seal_slots.clone().acquire_owned()).await
    else {
        return Err(Refusal::SealVerifierBusy.into());
    };
    let input = tokio::time::timeout(BODY_READ_LIMIT, read_input(headers, request))
        .await
        .map_err(|_| Refusal::BodyTimeout {
            limit: BODY_READ_LIMIT,
        })??;
    let at = (state.now)();
    // Hashing up to 32 MiB and perhaps fetching a status list or CRL: a blocking thread's work.
    let verifier = state.verifier.clone();
    let checked = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        verifier.check_seal(&input.signature, &input.document, at, fresh)
    })
    .await;
    Ok((ApiError::joined(Task::SealCheck, checked)?, at))
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
