//! The verification service in-process on a real socket, and a blocking HTTP client (ureq, run
//! off the runtime's workers) to talk to it and to the issuers.

use std::sync::Arc;
use std::time::Duration;

use huren_verifier::server::{self, ServerState};
use huren_verifier::Verifier;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The services' background refresh period: long enough never to run during a test, so
/// every refresh a test observes is one it asked for.
pub const NO_BACKGROUND_REFRESH: Duration = Duration::from_secs(3600);

/// `huren verifier serve` in-process, on a real socket; stops when dropped.
pub struct Window {
    pub url: String,
    _stop: oneshot::Sender<()>,
}

/// Serves `state` on `127.0.0.1:0`.
pub async fn open_window(state: ServerState) -> Window {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(
        server::App::with_state(state, NO_BACKGROUND_REFRESH, listener).run_until(async move {
            let _ = stopped.await;
        }),
    );
    Window { url, _stop: stop }
}

/// A window on `verifier` with no rate limit.
pub async fn open_window_on(verifier: Verifier) -> Window {
    open_window(server::state(Arc::new(verifier), 0)).await
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    /// The `x-request-id` the service answered with.
    pub request_id: Option<String>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "HTTP {}: not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// GET (no body) or POST (body) `url`; `Err` only when no HTTP answer came at all. The
/// client's timeout only stops a hung test.
pub async fn try_http(
    url: &str,
    headers: &[(&'static str, &str)],
    body: Option<Vec<u8>>,
) -> Result<Reply, String> {
    let url = url.to_owned();
    let headers: Vec<(&'static str, String)> =
        headers.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .new_agent();
        let result = match body {
            None => {
                let mut request = agent.get(&url);
                for (name, value) in &headers {
                    request = request.header(*name, value);
                }
                request.call()
            }
            Some(body) => {
                let mut request = agent.post(&url);
                for (name, value) in &headers {
                    request = request.header(*name, value);
                }
                request.send(&body[..])
            }
        };
        let mut response = result.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let request_id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .map_err(|e| e.to_string())?;
        Ok(Reply {
            status,
            content_type,
            request_id,
            body,
        })
    })
    .await
    .unwrap()
}

/// As [`try_http`], panicking when no HTTP answer came.
pub async fn http(url: &str, headers: &[(&'static str, &str)], body: Option<Vec<u8>>) -> Reply {
    try_http(url, headers, body)
        .await
        .unwrap_or_else(|e| panic!("{url}: no HTTP answer: {e}"))
}

/// The outcome codes of a report or seal answer.
pub fn reasons(answer: &Value) -> Vec<String> {
    answer["reasons"]
        .as_array()
        .unwrap_or_else(|| panic!("no reasons: {answer}"))
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect()
}
