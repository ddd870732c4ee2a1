//! Fetchers for the verifier library that stand in for the network: none at all, or one with a
//! bug.

use huren_verifier::{FetchError, Fetched, Fetcher};

/// No network: every fetch fails, as for a verifier that is offline.
pub struct NoNetwork;

impl Fetcher for NoNetwork {
    fn fetch(&self, url: &str, _etag: Option<&str>) -> Result<Fetched, FetchError> {
        Err(FetchError {
            url: url.to_owned(),
            reason: "no network".into(),
        })
    }
}

/// A fetcher with a bug: it panics.
pub struct PanickingFetcher;

impl Fetcher for PanickingFetcher {
    fn fetch(&self, _url: &str, _etag: Option<&str>) -> Result<Fetched, FetchError> {
        panic!("a bug in the fetcher")
    }
}
