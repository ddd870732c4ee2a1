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
