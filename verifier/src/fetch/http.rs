//! [`HttpFetcher`]: the default [`Fetcher`], over `ureq` (feature `fetch`).

use std::time::Duration;

use super::{FetchError, Fetched, FetchedBytes, Fetcher, LogProofResponse, MAX_FETCH_BYTES};

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

/// A response to a conditional GET, before its body is read.
enum Answer {
    NotModified,
    Ok(ureq::http::Response<ureq::Body>, Option<String>),
}

impl HttpFetcher {
    fn get(&self, url: &str, etag: Option<&str>) -> Result<Answer, FetchError> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(fail(url, "only http(s) URLs are fetched".into()));
        }
        let mut request = self.agent.get(url);
        if let Some(etag) = etag {
            request = request.header("If-None-Match", etag);
        }
        let response = request.call().map_err(|e| fail(url, e.to_string()))?;
        match response.status().as_u16() {
            304 => Ok(Answer::NotModified),
            200 => {
                let etag = response
                    .headers()
                    .get("etag")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                Ok(Answer::Ok(response, etag))
            }
            status => Err(fail(url, format!("HTTP {status}"))),
        }
    }
}

fn fail(url: &str, reason: String) -> FetchError {
    FetchError {
        url: url.to_owned(),
        reason,
    }
}

impl Fetcher for HttpFetcher {
    fn fetch(&self, url: &str, etag: Option<&str>) -> Result<Fetched, FetchError> {
        match self.get(url, etag)? {
            Answer::NotModified => Ok(Fetched::NotModified),
            Answer::Ok(mut response, etag) => {
                let text = response
                    .body_mut()
                    .with_config()
                    .limit(MAX_FETCH_BYTES)
                    .read_to_string()
                    .map_err(|e| fail(url, e.to_string()))?;
                Ok(Fetched::Body { text, etag })
            }
        }
    }

    fn fetch_bytes(
        &self,
        url: &str,
        etag: Option<&str>,
        limit: u64,
    ) -> Result<FetchedBytes, FetchError> {
        match self.get(url, etag)? {
            Answer::NotModified => Ok(FetchedBytes::NotModified),
            Answer::Ok(mut response, etag) => {
                let bytes = response
                    .body_mut()
                    .with_config()
                    .limit(limit)
                    .read_to_vec()
                    .map_err(|e| fail(url, e.to_string()))?;
                Ok(FetchedBytes::Body { bytes, etag })
            }
        }
    }

    fn fetch_log_proof(&self, url: &str, limit: u64) -> Result<LogProofResponse, FetchError> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(fail(url, "only http(s) URLs are fetched".into()));
        }
        let mut response = self
            .agent
            .get(url)
            .header("Accept", "application/json, application/problem+json")
            .call()
            .map_err(|e| fail(url, e.to_string()))?;
        let status = response.status().as_u16();
        if status != 200 && status != 404 {
            return Err(fail(url, format!("HTTP {status}")));
        }
        let bytes = response
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| fail(url, e.to_string()))?;
        Ok(if status == 200 {
            LogProofResponse::Found(bytes)
        } else {
            LogProofResponse::NotFound(bytes)
        })
    }
}
