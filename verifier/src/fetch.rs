//! Fetching trust material over HTTP, behind a trait so embedders (and tests) choose how.
//!
//! The default `HttpFetcher` (feature `fetch`, on by default) does conditional GETs
//! (`If-None-Match`), follows no redirects, times out, and refuses bodies over a bound. Without
//! the feature the crate pulls in no HTTP client: the embedder implements [`Fetcher`] with its
//! own. Nothing here trusts what it fetches: callers verify every byte against the pinned
//! operator certificates and the trust list.
//!
//! Trust and status lists are text ([`Fetcher::fetch`]); CRLs are DER
//! ([`Fetcher::fetch_bytes`]).

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

/// What a binary fetch produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchedBytes {
    /// A new body, with its `ETag` if the server sent one.
    Body {
        /// The document.
        bytes: Vec<u8>,
        /// Its entity tag.
        etag: Option<String>,
    },
    /// `304 Not Modified` for the `etag` given.
    NotModified,
}

/// What an issuer answered to a log-proof request (SPEC §12, `GET /v1/log/proof`): its
/// `200` or `404` body. Which log entry, and whether it proves anything, is for the caller to
/// decide; any other status is a [`FetchError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogProofResponse {
    /// `200`: the proof object.
    Found(Vec<u8>),
    /// `404`: a problem object whose `code` says `not_logged` or `not_witnessed`.
    NotFound(Vec<u8>),
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

    /// GET `url` as bytes (DER CRLs), conditionally on `etag`, refusing bodies over `limit`.
    ///
    /// The default fetches nothing: a fetcher written before binary documents were needed
    /// keeps compiling, and what it cannot fetch (a CRL) is then reported as not checked,
    /// never as good.
    fn fetch_bytes(
        &self,
        url: &str,
        etag: Option<&str>,
        limit: u64,
    ) -> Result<FetchedBytes, FetchError> {
        let _ = (etag, limit);
        Err(FetchError {
            url: url.to_owned(),
            reason: "this fetcher does not fetch binary documents".into(),
        })
    }

    /// GET an issuer's log proof at `url`, refusing bodies over `limit`; `404` is an answer,
    /// not an error (the log says it has no such entry).
    ///
    /// The default fetches nothing, like [`Fetcher::fetch_bytes`]: a fetcher written before
    /// logs existed keeps compiling, and the log then counts as unreachable, never as proved.
    fn fetch_log_proof(&self, url: &str, limit: u64) -> Result<LogProofResponse, FetchError> {
        let _ = limit;
        Err(FetchError {
            url: url.to_owned(),
            reason: "this fetcher does not fetch log proofs".into(),
        })
    }
}

#[cfg(feature = "fetch")]
mod http;
#[cfg(feature = "fetch")]
pub use http::HttpFetcher;
