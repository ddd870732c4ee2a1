//! The service's one error envelope: every answer that is not a report is an RFC 9457 problem
//! (`application/problem+json` with a `code`), made here and nowhere else.
//!
//! [`Refusal`] is every 4xx the service gives — a request that is not a licence or a sealed
//! document at all, or a client that must slow down — and [`Refusal::problem`] is the one
//! exhaustive match from refusal to status, code, title and detail. Each code is listed in
//! `openapi.json` (`components.schemas.Problem`; a unit test holds the two together).
//! [`ApiError`] adds the one 5xx: work handed to a blocking thread that panicked (see
//! [`ApiError::Internal`] for the policy).
//!
//! Verification outcomes are never here: they are reports, HTTP 200.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// What the refused request should have been (its problem's title says so).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// `POST /v1/verify`: a licence (text, JSON or a photo of its QR code).
    Licence,
    /// `POST /v1/seals/verify`: a document and its seal signature.
    SealedDocument,
}

impl Expected {
    fn title(self) -> &'static str {
        match self {
            Expected::Licence => "Not a licence",
            Expected::SealedDocument => "Not a sealed document",
        }
    }
}

/// The two parts of a sealed-document request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The signed document.
    Document,
    /// The seal signature (`.ses` / `SignedValue.dat`).
    Signature,
}

impl Part {
    /// Its name in requests and problems.
    pub fn name(self) -> &'static str {
        match self {
            Part::Document => "document",
            Part::Signature => "signature",
        }
    }
}

/// Why a photo gave no text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFault {
    /// The bytes are no image format at all.
    NotAnImage,
    /// A PNG or JPEG that does not decode (or is over the size bounds).
    Undecodable,
    /// The decoder gave up on it abnormally (it panicked on these bytes).
    Unprocessable,
}

/// Where a request named the using unit it verifies for (SPEC §11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudienceField {
    /// `{"audience": {"code": …}}` in a JSON body.
    Body,
    /// `?audience=CODE` (any body type).
    Query,
}

impl AudienceField {
    /// Its name in problems.
    pub fn name(self) -> &'static str {
        match self {
            AudienceField::Body => "audience.code",
            AudienceField::Query => "audience",
        }
    }
}

/// What a request's audience disagrees with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudienceAgainst {
    /// The unit the service is configured for (`HUREN_VERIFIER_UNIT`), which decides.
    ServiceUnit,
    /// The body's audience (the query names another).
    Body,
}

/// Every 4xx answer of the verification service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 404 `not_found`: no route has this path.
    NotFound,
    /// 405 `method_not_allowed`: the route does not take this method (`Allow` names those it
    /// takes).
    MethodNotAllowed,
    /// 400 `bad_query`: the query string does not parse (e.g. `fresh=maybe`).
    BadQuery {
        /// What the parser said.
        detail: String,
    },
    /// 429 `rate_limited` (Retry-After 1): the client is over its rate.
    RateLimited,
    /// 413 `body_too_large`: the body is over the route's limit.
    BodyTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// 408 `body_timeout`: a sealed document's body did not arrive in time.
    BodyTimeout {
        /// The time allowed.
        limit: Duration,
    },
    /// 415 `unsupported_media_type`.
    UnsupportedMediaType {
        /// The route.
        expected: Expected,
        /// The media type sent (lower case, without parameters).
        given: String,
    },
    /// 400 `unreadable_body`: the body could not be read.
    UnreadableBody {
        /// The route.
        expected: Expected,
        /// Why.
        detail: String,
    },
    /// 400 `bad_multipart`: a multipart body that does not parse.
    BadMultipart {
        /// The route.
        expected: Expected,
        /// Why.
        detail: String,
    },
    /// 400 `malformed_json`: not a JSON object of the expected shape.
    MalformedJson {
        /// The route.
        expected: Expected,
        /// What the JSON parser said, if it got that far.
        error: Option<String>,
    },
    /// 400 `missing_input`: JSON without `token` or `qr`.
    MissingInput,
    /// 400 `not_utf8`: text input that is not UTF-8.
    NotUtf8,
    /// 400 `missing_image`: a multipart body without an `image` field.
    MissingImage,
    /// 400 `unreadable_image`.
    UnreadableImage(ImageFault),
    /// 400 `no_qr_code`: an image without a readable QR code.
    NoQrCode,
    /// 422 `image_too_complex`: no QR code found within the decode budget.
    ImageTooComplex,
    /// 429 `image_decoder_busy` (Retry-After 3): another photo holds the decoder.
    ImageDecoderBusy,
    /// 400 `missing_document` / `missing_signature`: a part absent, or an empty file.
    MissingPart {
        /// Which.
        part: Part,
        /// Present but empty (else absent).
        empty: bool,
    },
    /// 400 `duplicate_part`.
    DuplicatePart(Part),
    /// 413 `document_too_large` / `signature_too_large`.
    PartTooLarge {
        /// Which.
        part: Part,
        /// Its bound, in bytes.
        limit: usize,
    },
    /// 400 `bad_base64`: a JSON part that is not standard base64.
    BadBase64(Part),
    /// 429 `seal_verifier_busy` (Retry-After 5): every sealed-document slot is taken.
    SealVerifierBusy,
    /// 422 `bad_audience`: the audience a request names is not a valid USCC.
    BadAudience {
        /// Where it was named.
        field: AudienceField,
        /// Why the code is refused.
        detail: String,
    },
    /// 422 `audience_conflict`: the request names another audience than the service's own
    /// unit, or its body and query name two.
    AudienceConflict {
        /// The audience at fault.
        field: AudienceField,
        /// What it disagrees with.
        against: AudienceAgainst,
    },
}

/// A problem document, before it is sent.
#[derive(Debug, Serialize)]
struct Problem {
    #[serde(rename = "type")]
    kind: String,
    title: &'static str,
    status: u16,
    code: &'static str,
    detail: String,
    /// The request part at fault (`document`, `signature`), where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    part: Option<&'static str>,
    /// The request field at fault (`audience.code`, `audience`), where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'static str>,
    /// `Retry-After`, in seconds (a header, not part of the document).
    #[serde(skip)]
    retry_after: Option<&'static str>,
}

impl Problem {
    fn new(status: StatusCode, code: &'static str, title: &'static str, detail: String) -> Problem {
        Problem {
            kind: format!("https://huren.invalid/problems/{code}"),
            title,
            status: status.as_u16(),
            code,
            detail,
            part: None,
            field: None,
            retry_after: None,
        }
    }

    fn field(mut self, field: AudienceField) -> Problem {
        self.field = Some(field.name());
        self
    }

    fn about(mut self, part: Part) -> Problem {
        self.part = Some(part.name());
        self
    }

    fn retry_after(mut self, seconds: &'static str) -> Problem {
        self.retry_after = Some(seconds);
        self
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = self.retry_after;
        let mut response = (status, Json(self)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static(seconds));
        }
        response
    }
}

impl Refusal {
    /// The problem document: the one place a refusal becomes status, code, title and detail.
    fn problem(&self) -> Problem {
        use StatusCode as S;
        let bad = |expected: Expected, code, detail: String| {
            Problem::new(S::BAD_REQUEST, code, expected.title(), detail)
        };
        match self {
            Refusal::NotFound => Problem::new(
                S::NOT_FOUND,
                "not_found",
                "Not found",
                "no such endpoint".into(),
            ),
            Refusal::MethodNotAllowed => Problem::new(
                S::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method not allowed",
                "this endpoint does not take this method (see Allow)".into(),
            ),
            Refusal::BadQuery { detail } => {
                Problem::new(S::BAD_REQUEST, "bad_query", "Bad query", detail.clone())
            }
            Refusal::RateLimited => Problem::new(
                S::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many requests",
                "slow down".into(),
            )
            .retry_after("1"),
            Refusal::BodyTooLarge { limit } => Problem::new(
                S::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "Body too large",
                format!("at most {limit} bytes"),
            ),
            Refusal::BodyTimeout { limit } => Problem::new(
                S::REQUEST_TIMEOUT,
                "body_timeout",
                "Request body too slow",
                format!(
                    "the document and signature must arrive within {} seconds",
                    limit.as_secs()
                ),
            ),
            Refusal::UnsupportedMediaType { expected, given } => Problem::new(
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
                match expected {
                    Expected::Licence => format!(
                        "{given} is not accepted: send application/json, text/plain or multipart/form-data"
                    ),
                    Expected::SealedDocument => format!(
                        "{given:?} is not accepted: send multipart/form-data with parts \"document\" and \"signature\", or application/json with \"document_b64\" and \"signature_b64\""
                    ),
                },
            ),
            Refusal::UnreadableBody { expected, detail } => {
                bad(*expected, "unreadable_body", detail.clone())
            }
            Refusal::BadMultipart { expected, detail } => {
                bad(*expected, "bad_multipart", detail.clone())
            }
            Refusal::MalformedJson { expected, error } => {
                let shape = match expected {
                    Expected::Licence => "expected {\"token\": …} or {\"qr\": …}",
                    Expected::SealedDocument => {
                        "expected {\"document_b64\": \"…\", \"signature_b64\": \"…\"}"
                    }
                };
                let detail = match error {
                    Some(error) => format!("{shape}: {error}"),
                    None => shape.to_owned(),
                };
                bad(*expected, "malformed_json", detail)
            }
            Refusal::MissingInput => bad(
                Expected::Licence,
                "missing_input",
                "give \"token\" or \"qr\"".into(),
            ),
            Refusal::NotUtf8 => bad(
                Expected::Licence,
                "not_utf8",
                "text input must be UTF-8".into(),
            ),
            Refusal::MissingImage => bad(
                Expected::Licence,
                "missing_image",
                "send the photo of the QR code in a field named \"image\"".into(),
            ),
            Refusal::UnreadableImage(fault) => bad(
                Expected::Licence,
                "unreadable_image",
                match fault {
                    ImageFault::NotAnImage => "not an image",
                    ImageFault::Undecodable => "not a PNG or JPEG image (or too large)",
                    ImageFault::Unprocessable => "the image could not be processed",
                }
                .into(),
            ),
            Refusal::NoQrCode => bad(
                Expected::Licence,
                "no_qr_code",
                "no readable QR code in the image".into(),
            ),
            Refusal::ImageTooComplex => Problem::new(
                S::UNPROCESSABLE_ENTITY,
                "image_too_complex",
                "Image too complex",
                "no QR code could be read from the photo in time; crop it to the code, or scan or type it".into(),
            ),
            // 429, not 503: the service is up; this caller must slow down on the photo path.
            Refusal::ImageDecoderBusy => Problem::new(
                S::TOO_MANY_REQUESTS,
                "image_decoder_busy",
                "Image decoder busy",
                "another photo is being decoded; try again, or scan or type the code".into(),
            )
            .retry_after("3"),
            Refusal::MissingPart { part, empty } => {
                let code = match part {
                    Part::Document => "missing_document",
                    Part::Signature => "missing_signature",
                };
                let what = if *empty { "is empty" } else { "part is missing" };
                bad(
                    Expected::SealedDocument,
                    code,
                    format!("the {} {what}", part.name()),
                )
                .about(*part)
            }
            Refusal::DuplicatePart(part) => bad(
                Expected::SealedDocument,
                "duplicate_part",
                format!("the {} part is given twice", part.name()),
            )
            .about(*part),
            Refusal::PartTooLarge { part, limit } => Problem::new(
                S::PAYLOAD_TOO_LARGE,
                match part {
                    Part::Document => "document_too_large",
                    Part::Signature => "signature_too_large",
                },
                "Part too large",
                format!("the {} may be at most {limit} bytes", part.name()),
            )
            .about(*part),
            Refusal::BadBase64(part) => bad(
                Expected::SealedDocument,
                "bad_base64",
                format!("{}_b64 is not standard base64", part.name()),
            )
            .about(*part),
            // 429, not 503: the service is up; sealed documents are queued per instance.
            Refusal::SealVerifierBusy => Problem::new(
                S::TOO_MANY_REQUESTS,
                "seal_verifier_busy",
                "Seal verifier busy",
                "other sealed documents are being checked; try again shortly".into(),
            )
            .retry_after("5"),
            Refusal::BadAudience { field, detail } => Problem::new(
                S::UNPROCESSABLE_ENTITY,
                "bad_audience",
                "Bad audience",
                format!(
                    "{} must be the 统一社会信用代码 (USCC) of the using unit: {detail}",
                    field.name()
                ),
            )
            .field(*field),
            Refusal::AudienceConflict { field, against } => Problem::new(
                S::UNPROCESSABLE_ENTITY,
                "audience_conflict",
                "Audience conflict",
                match against {
                    AudienceAgainst::ServiceUnit => format!(
                        "{} names another unit than the one this service verifies for (HUREN_VERIFIER_UNIT); omit it or name that unit",
                        field.name()
                    ),
                    AudienceAgainst::Body => format!(
                        "{} names another unit than the body's audience.code",
                        field.name()
                    ),
                },
            )
            .field(*field),
        }
    }

    /// The problem `code` (what clients switch on).
    pub fn code(&self) -> &'static str {
        self.problem().code
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        self.problem().into_response()
    }
}

/// Work the service hands to a blocking thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Verifying a licence after fetching its status list.
    LicenceStatusFetch,
    /// Decoding a photo of a QR code.
    PhotoDecode,
    /// Verifying a sealed document (hashing it, fetching a status list or CRL).
    SealCheck,
}

impl Task {
    fn name(self) -> &'static str {
        match self {
            Task::LicenceStatusFetch => "licence status fetch",
            Task::PhotoDecode => "photo decode",
            Task::SealCheck => "seal check",
        }
    }

    fn subject(self) -> &'static str {
        match self {
            Task::LicenceStatusFetch => "the licence",
            Task::PhotoDecode => "the photo",
            Task::SealCheck => "the seal",
        }
    }
}

/// What a handler can answer besides its report.
#[derive(Debug)]
pub enum ApiError {
    /// A 4xx.
    Refused(Refusal),
    /// A blocking task panicked (or was cancelled). The one policy, on every path: the
    /// request is answered 500 `internal` and the failure is logged with its cause — never an
    /// answer made up from what was held before the task ran (that would report a licence's
    /// status as checked when it was not), never a 4xx blaming the client.
    Internal {
        /// The task.
        task: Task,
        /// Why it did not complete.
        error: tokio::task::JoinError,
    },
    /// A report could not be written as JSON (it cannot happen with the report types, whose
    /// serialization has no failure path; answered 500 and logged if it ever does).
    Encoding(serde_json::Error),
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> ApiError {
        ApiError::Refused(refusal)
    }
}

impl ApiError {
    /// The [`ApiError::Internal`] policy applied to the result of a blocking task.
    pub fn joined<T>(task: Task, result: Result<T, tokio::task::JoinError>) -> Result<T, ApiError> {
        result.map_err(|error| ApiError::Internal { task, error })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Refused(refusal) => refusal.into_response(),
            ApiError::Internal { task, error } => {
                // The panic's message is in `error`; the client learns only that it failed.
                tracing::error!(task = task.name(), error = %error, panicked = error.is_panic(), "blocking task did not complete");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    format!("{} could not be checked", task.subject()),
                )
                .into_response()
            }
            ApiError::Encoding(error) => {
                tracing::error!(error = %error, "a report could not be written as JSON");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    "the answer could not be written".into(),
                )
                .into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of each refusal. The match makes adding a variant without listing it here a
    /// compile error.
    fn one_of_each() -> Vec<Refusal> {
        let all = vec![
            Refusal::NotFound,
            Refusal::MethodNotAllowed,
            Refusal::BadQuery { detail: "x".into() },
            Refusal::RateLimited,
            Refusal::BodyTooLarge { limit: 1 },
            Refusal::BodyTimeout {
                limit: Duration::from_secs(1),
            },
            Refusal::UnsupportedMediaType {
                expected: Expected::Licence,
                given: "image/png".into(),
            },
            Refusal::UnreadableBody {
                expected: Expected::Licence,
                detail: "x".into(),
            },
            Refusal::BadMultipart {
                expected: Expected::SealedDocument,
                detail: "x".into(),
            },
            Refusal::MalformedJson {
                expected: Expected::Licence,
                error: None,
            },
            Refusal::MissingInput,
            Refusal::NotUtf8,
            Refusal::MissingImage,
            Refusal::UnreadableImage(ImageFault::NotAnImage),
            Refusal::NoQrCode,
            Refusal::ImageTooComplex,
            Refusal::ImageDecoderBusy,
            Refusal::MissingPart {
                part: Part::Document,
                empty: false,
            },
            Refusal::MissingPart {
                part: Part::Signature,
                empty: true,
            },
            Refusal::DuplicatePart(Part::Signature),
            Refusal::PartTooLarge {
                part: Part::Document,
                limit: 1,
            },
            Refusal::PartTooLarge {
                part: Part::Signature,
                limit: 1,
            },
            Refusal::BadBase64(Part::Document),
            Refusal::SealVerifierBusy,
            Refusal::BadAudience {
                field: AudienceField::Body,
                detail: "x".into(),
            },
            Refusal::AudienceConflict {
                field: AudienceField::Query,
                against: AudienceAgainst::ServiceUnit,
            },
        ];
        for refusal in &all {
            match refusal {
                Refusal::NotFound
                | Refusal::MethodNotAllowed
                | Refusal::BadQuery { .. }
                | Refusal::RateLimited
                | Refusal::BodyTooLarge { .. }
                | Refusal::BodyTimeout { .. }
                | Refusal::UnsupportedMediaType { .. }
                | Refusal::UnreadableBody { .. }
                | Refusal::BadMultipart { .. }
                | Refusal::MalformedJson { .. }
                | Refusal::MissingInput
                | Refusal::NotUtf8
                | Refusal::MissingImage
                | Refusal::UnreadableImage(_)
                | Refusal::NoQrCode
                | Refusal::ImageTooComplex
                | Refusal::ImageDecoderBusy
                | Refusal::MissingPart { .. }
                | Refusal::DuplicatePart(_)
                | Refusal::PartTooLarge { .. }
                | Refusal::BadBase64(_)
                | Refusal::SealVerifierBusy
                | Refusal::BadAudience { .. }
                | Refusal::AudienceConflict { .. } => {}
            }
        }
        all
    }

    #[test]
    fn every_refusal_is_a_4xx_problem_with_its_code_listed_in_the_openapi_document() {
        let doc: serde_json::Value = serde_json::from_str(include_str!("openapi.json")).unwrap();
        let listed: Vec<&str> = doc["components"]["schemas"]["Problem"]["properties"]["code"]
            ["enum"]
            .as_array()
            .expect("components.schemas.Problem.properties.code.enum")
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let mut codes = Vec::new();
        for refusal in one_of_each() {
            let problem = refusal.problem();
            assert!(
                (400..500).contains(&problem.status),
                "{refusal:?} is {}",
                problem.status
            );
            assert!(
                listed.contains(&problem.code),
                "{} not in openapi.json",
                problem.code
            );
            assert_eq!(
                problem.kind,
                format!("https://huren.invalid/problems/{}", problem.code)
            );
            // A 429 always says when to come back.
            assert_eq!(
                problem.status == 429,
                problem.retry_after.is_some(),
                "{refusal:?}"
            );
            codes.push(problem.code);
        }
        codes.push("internal");
        // And the document lists nothing the service never answers.
        for code in &listed {
            assert!(
                codes.contains(code),
                "openapi.json lists {code}, which no refusal has"
            );
        }
    }

    #[test]
    fn a_refusal_is_problem_json_with_its_retry_after() {
        let response = Refusal::SealVerifierBusy.into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        assert_eq!(response.headers()[header::RETRY_AFTER], "5");
        let response = Refusal::PartTooLarge {
            part: Part::Signature,
            limit: 1,
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(response.headers().get(header::RETRY_AFTER).is_none());
    }

    #[tokio::test]
    async fn a_panicked_blocking_task_is_a_500_internal_problem() {
        let joined = tokio::task::spawn_blocking(|| -> u8 { panic!("boom") }).await;
        let error = ApiError::joined(Task::LicenceStatusFetch, joined).unwrap_err();
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem["code"], "internal");
        assert_eq!(problem["status"], 500);
        // The panic's message stays in the log.
        assert!(!String::from_utf8_lossy(&body).contains("boom"));
    }
}
