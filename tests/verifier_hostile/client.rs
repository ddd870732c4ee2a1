//! A deliberately small HTTP/1.1 client over a raw socket (so that requests can be as broken
//! as a case wants), and the request builders the corpus uses: plain posts, JSON bodies and
//! multipart forms.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::common::multipart;
pub use crate::common::multipart::{body as multipart_body, image as image_part, Part, BOUNDARY};

/// A guard against a hung exchange, not a speed requirement: an answer that has not come by
/// then counts as a hang (how fast the service answers is measured by
/// `bench/verifier-load.sh`).
const TIMEOUT: Duration = Duration::from_secs(10);

/// How often a case retries after `429 image_decoder_busy`.
pub const DECODER_BUSY_RETRIES: u32 = 40;

/// The wait a `429 image_decoder_busy` answer asks for (its `Retry-After`, at most 10 s), or
/// `None` for any other answer.
pub fn decoder_busy_wait(response: &Response) -> Option<Duration> {
    if response.status != 429 {
        return None;
    }
    let problem: serde_json::Value = serde_json::from_slice(&response.body).ok()?;
    if problem["code"] != "image_decoder_busy" {
        return None;
    }
    let seconds = response
        .header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(1);
    Some(Duration::from_secs(seconds.clamp(1, 10)))
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Parses a complete response; `None` if `raw` is not (yet) one.
fn parse_response(mut raw: &[u8], at_eof: bool) -> Option<Response> {
    // Skip interim answers (`100 Continue`).
    while raw.starts_with(b"HTTP/1.1 1") {
        raw = &raw[find(raw, b"\r\n\r\n")? + 4..];
    }
    let end = find(raw, b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let status: u16 = status_line.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &raw[end + 4..];
    let get = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    let body = if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let mut body = Vec::new();
        let mut at = 0;
        loop {
            let line_end = at + find(&rest[at..], b"\r\n")?;
            let size_text = std::str::from_utf8(&rest[at..line_end]).ok()?;
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            at = line_end + 2;
            if size == 0 {
                break;
            }
            body.extend_from_slice(rest.get(at..at + size)?);
            at += size + 2;
        }
        body
    } else if let Some(length) = get("content-length") {
        let length: usize = length.parse().ok()?;
        rest.get(..length)?.to_vec()
    } else if at_eof {
        rest.to_vec()
    } else {
        return None;
    };
    Some(Response {
        status,
        headers,
        body,
    })
}

/// Sends `request` on a fresh connection and reads the answer until the server closes.
pub fn exchange(addr: SocketAddr, request: Vec<u8>) -> Result<Response, String> {
    send(addr, request)?.answer()
}

/// A request sent (or, for a large body, being sent) whose answer has not been read.
pub struct Pending {
    stream: TcpStream,
    writer: Option<std::thread::JoinHandle<()>>,
    /// For the hang guard only.
    started: Instant,
}

/// Sends `request` on a fresh connection. Large bodies are written from a second thread so
/// that an early answer (413) is read while the rest of the body is still being pushed.
pub fn send(addr: SocketAddr, request: Vec<u8>) -> Result<Pending, String> {
    let started = Instant::now();
    let mut stream =
        TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    let writer = if request.len() > 256 * 1024 {
        let mut w = stream.try_clone().unwrap();
        Some(std::thread::spawn(move || {
            let _ = w.write_all(&request);
        }))
    } else {
        stream
            .write_all(&request)
            .map_err(|e| format!("write: {e}"))?;
        None
    };
    Ok(Pending {
        stream,
        writer,
        started,
    })
}

impl Pending {
    /// Whether any of the answer has arrived yet, without waiting for it.
    pub fn answered_yet(&self) -> bool {
        self.stream.set_nonblocking(true).unwrap();
        let peeked = self.stream.peek(&mut [0u8; 1]);
        self.stream.set_nonblocking(false).unwrap();
        !matches!(peeked, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
    }

    /// Reads the answer until the server closes.
    pub fn answer(mut self) -> Result<Response, String> {
        let mut raw = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        let outcome = loop {
            if self.started.elapsed() > TIMEOUT {
                break Err(format!("no complete answer within {TIMEOUT:?} (hang)"));
            }
            match self.stream.read(&mut buf) {
                Ok(0) => {
                    break parse_response(&raw, true).ok_or_else(|| {
                        format!(
                            "connection closed after {} bytes without a complete answer: {:?}",
                            raw.len(),
                            String::from_utf8_lossy(&raw[..raw.len().min(200)])
                        )
                    })
                }
                Ok(n) => raw.extend_from_slice(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    break Err(format!("no answer within {TIMEOUT:?} (hang)"));
                }
                Err(e) => {
                    // A reset after a complete answer (the server closing on an unread body)
                    // is fine.
                    break parse_response(&raw, false)
                        .ok_or_else(|| format!("read: {e} after {} bytes", raw.len()));
                }
            }
        };
        let _ = self.stream.shutdown(Shutdown::Both);
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
        outcome
    }
}

pub fn request(method: &str, path: &str, headers: &[(&str, &[u8])], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n")
        .into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

pub fn post(content_type: Option<&str>, body: &[u8]) -> Vec<u8> {
    match content_type {
        Some(ct) => request(
            "POST",
            "/v1/verify",
            &[("Content-Type", ct.as_bytes())],
            body,
        ),
        None => request("POST", "/v1/verify", &[], body),
    }
}

pub fn json_body(field: &str, text: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ field: text })).unwrap()
}

/// A `POST /v1/verify` of a multipart form with `parts`.
pub fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    post(Some(&multipart::content_type()), &multipart_body(parts))
}

pub fn get(addr: SocketAddr, path: &str) -> Response {
    exchange(addr, request("GET", path, &[], b"")).unwrap()
}
