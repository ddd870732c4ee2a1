//! The clerk's page (SPEC §9): one HTML document, one script, one stylesheet, all served by
//! the verifier itself (no CDN), so the page works wherever the verifier runs.

use axum::http::header;
use axum::response::{IntoResponse, Response};

const HEADERS_HTML: [(header::HeaderName, &str); 3] = [
    (header::CONTENT_TYPE, "text/html; charset=utf-8"),
    // The page talks only to its own origin; the camera is the one device it may ask for.
    (header::CONTENT_SECURITY_POLICY, "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"),
    (header::REFERRER_POLICY, "no-referrer"),
];

pub async fn index() -> Response {
    (HEADERS_HTML, include_str!("page.html")).into_response()
}

pub async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("page.js"),
    )
        .into_response()
}

pub async fn style() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("page.css"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use huren_crypto::verify::Outcome;

    /// Every outcome code. The match makes adding one without listing it here a compile error.
    fn every_outcome() -> Vec<Outcome> {
        use Outcome as O;
        let all = vec![
            O::Malformed,
            O::UnsupportedAlgorithm,
            O::UnknownSigner,
            O::BadSignature,
            O::IssuerNotAuthorised,
            O::TypeNotAuthorised,
            O::IssuerSuspended,
            O::NotYetValid,
            O::Expired,
            O::CopyExpired,
            O::WrongAudience,
            O::Revoked,
            O::Suspended,
            O::CopyWithdrawn,
            O::StatusUnknown,
            O::NotLogged,
            O::LogUnavailable,
            O::TrustListStale,
        ];
        for outcome in &all {
            match outcome {
                O::Malformed
                | O::UnsupportedAlgorithm
                | O::UnknownSigner
                | O::BadSignature
                | O::IssuerNotAuthorised
                | O::TypeNotAuthorised
                | O::IssuerSuspended
                | O::NotYetValid
                | O::Expired
                | O::CopyExpired
                | O::WrongAudience
                | O::Revoked
                | O::Suspended
                | O::CopyWithdrawn
                | O::StatusUnknown
                | O::NotLogged
                | O::LogUnavailable
                | O::TrustListStale => {}
            }
        }
        all
    }

    #[test]
    fn the_page_words_every_outcome_as_the_library_does_and_the_document_lists_it() {
        let page = include_str!("page.js");
        let doc: serde_json::Value = serde_json::from_str(include_str!("openapi.json")).unwrap();
        let listed: Vec<&str> = doc["components"]["schemas"]["Report"]["properties"]["reasons"]
            ["items"]["enum"]
            .as_array()
            .expect("components.schemas.Report.properties.reasons.items.enum")
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let all = every_outcome();
        assert_eq!(
            listed,
            all.iter().map(|o| o.code()).collect::<Vec<_>>(),
            "openapi.json lists the outcome codes in check order"
        );
        for outcome in all {
            for text in [outcome.text_zh(), outcome.text_en()] {
                let entry = format!("{}: \"{text}\"", outcome.code());
                assert!(page.contains(&entry), "page.js lacks {entry}");
            }
        }
    }

    #[test]
    fn the_page_words_every_warning_as_the_library_does_and_the_document_lists_it() {
        use huren_crypto::verify::Warning as W;
        let all = [
            W::NonstandardIdentifierCheck,
            W::HolderCodeCheckFailed,
            W::AudienceNotChecked,
            W::NotLogged,
            W::LogPending,
            W::LogUnreachable,
        ];
        for warning in &all {
            // Adding a warning without listing it above is a compile error here.
            match warning {
                W::NonstandardIdentifierCheck
                | W::HolderCodeCheckFailed
                | W::AudienceNotChecked
                | W::NotLogged
                | W::LogPending
                | W::LogUnreachable => {}
            }
        }
        let page = include_str!("page.js");
        let doc: serde_json::Value = serde_json::from_str(include_str!("openapi.json")).unwrap();
        let listed: Vec<&str> = doc["components"]["schemas"]["Report"]["properties"]["warnings"]
            ["items"]["enum"]
            .as_array()
            .expect("components.schemas.Report.properties.warnings.items.enum")
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        assert_eq!(listed, all.iter().map(|w| w.code()).collect::<Vec<_>>());
        for warning in all {
            for text in [warning.text_zh(), warning.text_en()] {
                let entry = format!("{}: \"{text}\"", warning.code());
                assert!(page.contains(&entry), "page.js lacks {entry}");
            }
        }
    }
}
