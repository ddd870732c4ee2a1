//! Fetching trust material over HTTP, behind a trait so embedders (and tests) choose how.
//!
//! The default [`HttpFetcher`] does conditional GETs (`If-None-Match`), follows no
//! redirects, times out, and refuses bodies over a bound. Nothing here trusts what it fetches:
//! callers verify every byte against the pinned operator certificates and the trust list.

use std::time::Duration;

/// Largest document fetched (trust lists and status lists are both far smaller).
pub const MAX_FETCH_BYTES: u64 = 8 * 1024 * 1024;

/// What a fetch produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// A new body, with its `ETag` if the server sent one.
    Body {
        /// The document.
        text: String,
        /// Its entity tag.
        etag: Option<String>,
    },
    /// `304 Not Modified` for the `etag` given.
    NotModified,
}

/// Why a fetch failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fetching {url}: {reason}")]
pub struct FetchError {
    /// The URL.
    pub url: String,
    /// What went wrong (network, status, size).
    pub reason: String,
}

/// Gets documents by URL.
pub trait Fetcher: Send + Sync {
    /// GET `url`, conditionally on `etag`.
    fn fetch(&self, url: &str, etag: Option<&str>) -> Result<Fetched, FetchError>;
}

/// HTTP(S) with timeouts and a size bound.
#[derive(Debug, Clone)]
pub struct HttpFetcher {
    agent: ureq::Agent,
}

impl HttpFetcher {
    /// A fetcher whose whole request (connect, headers, body) must finish within `timeout`.
    pub fn new(timeout: Duration) -> HttpFetcher {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .max_redirects(0)
            .http_status_as_error(false)
            .build()
            .new_agent();
        HttpFetcher { agent }
    }
}

impl Default for HttpFetcher {
    fn default() -> Self {
        HttpFetcher::new(Duration::from_secs(5))
    }
}

impl Fetcher for HttpFetcher {
    fn fetch(&self, url: &str, etag: Option<&str>) -> Result<Fetched, FetchError> {
        let fail = |reason: String| FetchError {
            url: url.to_owned(),
            reason,
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(fail("only http(s) URLs are fetched".into()));
        }
        let mut request = self.agent.get(url);
        if let Some(etag) = etag {
            request = request.header("If-None-Match", etag);
        }
        let mut response = request.call().map_err(|e| fail(e.to_string()))?;
        match response.status().as_u16() {
            304 => Ok(Fetched::NotModified),
            200 => {
                let etag = response
                    .headers()
                    .get("etag")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let text = response
                    .body_mut()
                    .with_config()
                    .limit(MAX_FETCH_BYTES)
                    .read_to_string()
                    .map_err(|e| fail(e.to_string()))?;
                Ok(Fetched::Body { text, etag })
            }
            status => Err(fail(format!("HTTP {status}"))),
        }
    }
}
