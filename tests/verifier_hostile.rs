//! Hostile input against the verification service (SPEC §6–§7): a deterministic corpus of
//! well over a thousand requests — truncated and mutated real tokens, random and non-UTF-8
//! bytes, huge and wrongly typed JSON, deflate and image bombs, oversize bodies, wrong content
//! types, broken multipart, huge headers, hostile JWS headers and malformed HTTP — sent over a
//! real socket to an in-process server.
//!
//! Every answer must be a report (HTTP 200, `reasons` empty exactly when `valid`) or a 4xx
//! problem (`application/problem+json` with a `code`): never a 5xx, never a dropped
//! connection, never `valid` for anything but an untouched real token, and never slower than
//! the client timeout. Afterwards the server still answers `/healthz` and its resident memory
//! has stayed bounded.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use huren_crypto::alg::Algorithm;
use huren_crypto::b64;
use huren_crypto::cert::Certificate;
use huren_crypto::ids::{LicenceId, RegionCode};
use huren_crypto::jws::{sign_compact, HeaderParams};
use huren_crypto::licence::{Licence, LicenceClaims, LICENCE_TYP};
use huren_crypto::qr;
use huren_crypto::status_list::{
    StatusList, StatusListClaim, StatusListPointer, StatusReference, StatusValue,
};
use huren_crypto::status_token::StatusListClaims;
use huren_crypto::time::UnixTime;
use huren_keys::layout::{self, InitRegion};
use huren_keys::store::Protection;
use huren_keys::{trust_build, PrivateKey};
use huren_verifier::disk::DiskCache;
use huren_verifier::{FetchError, Fetched, Fetcher, TrustSource, Verifier, VerifierConfig};

/// When the PKI is made.
const MADE: UnixTime = UnixTime(1_795_000_000); // 2026-11-18
/// When licences are signed.
const SIGNED: UnixTime = UnixTime(1_795_300_000);
/// The server's clock.
const NOW: UnixTime = UnixTime(1_795_400_000); // 2026-11-23 10:13 China time
/// Status list index of the good licences, and of a revoked one.
const IDX: u64 = 4711;
const IDX_REVOKED: u64 = 4712;

/// Client timeout: a request that takes longer counts as a hang.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Bound for refusing a deflate bomb (it must be refused without inflating it).
const BOMB_BOUND: Duration = Duration::from_secs(1);
/// Bound on resident-memory growth over the corpus. The largest legitimate transient
/// allocations are one buffered 10 MiB body (plus its copy into a `String`) and one decoded
/// image of at most 6000×6000 (36 MB of luma, up to 144 MB of RGBA before conversion, plus
/// rqrr's working copy); requests here are sequential, so anything near 300 MB above the
/// baseline would mean a bomb was expanded or memory is retained per request. The figure is
/// for the whole test process, so it also covers the client's own (freed) large bodies.
const RSS_GROWTH_BOUND_KB: u64 = 300 * 1024;
/// Bound on growth during a second, identical pass: memory kept per request (say, bodies held
/// in some cache: the corpus sends well over 100 MB of large bodies per pass) would show here, while
/// the allocator reusing its first-pass high-water mark does not. glibc's per-thread arenas
/// make the second pass vary by some tens of MB depending on which threads served what.
const RSS_REPEAT_GROWTH_BOUND_KB: u64 = 100 * 1024;
/// The server's body limit (`huren_verifier::server::MAX_BODY_BYTES`).
const MAX_BODY: usize = huren_verifier::server::MAX_BODY_BYTES;

// ---------------------------------------------------------------------------------------------
// Deterministic randomness.

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn byte(&mut self) -> u8 {
        (self.next() >> 24) as u8
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// The PKI, the trust list and real licences.

struct Region {
    code: RegionCode,
    signer: PrivateKey,
    signer_cert: Certificate,
    status_uri: String,
}

struct Pki {
    _dir: tempfile::TempDir,
    zhejiang: Region,
    anhui: Region,
    outsider: Region,
    operator_cert: Certificate,
    trust_path: std::path::PathBuf,
    cache_dir: std::path::PathBuf,
}

struct NoNetwork;

impl Fetcher for NoNetwork {
    fn fetch(&self, url: &str, _etag: Option<&str>) -> Result<Fetched, FetchError> {
        Err(FetchError {
            url: url.to_owned(),
            reason: "offline test".into(),
        })
    }
}

fn licence_json(valid_from: &str, valid_until: &str, face: BTreeMap<String, String>) -> Licence {
    serde_json::from_value(serde_json::json!({
        "type_code": "11100000000013338W032",
        "type_name": "建筑业企业资质证书",
        "number": "D233012345",
        "holder": {"name": "杭州示例建设有限公司", "id_type": "001", "id": "91350100M000100Y43"},
        "issuer": {"name": "浙江省住房和城乡建设厅", "code": "11220000013544541J"},
        "issued_on": valid_from,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "face": face,
    }))
    .unwrap()
}

fn default_face() -> BTreeMap<String, String> {
    BTreeMap::from([(
        "资质类别及等级".to_owned(),
        "建筑工程施工总承包壹级".to_owned(),
    )])
}

impl Region {
    fn claims(&self, serial: &str, licence: Licence, idx: Option<u64>) -> LicenceClaims {
        let jti =
            LicenceId::generate(&licence.type_code, &licence.issuer.code, serial, "001").unwrap();
        let status = idx.map(|idx| StatusReference {
            status_list: StatusListPointer {
                idx,
                uri: self.status_uri.clone(),
            },
        });
        LicenceClaims::new(self.code.clone(), jti, SIGNED, licence, status)
    }

    fn sign(&self, claims: &LicenceClaims) -> String {
        claims
            .sign(&self.signer, self.signer_cert.x5t_s256())
            .unwrap()
    }

    fn x5t(&self) -> String {
        b64::encode_url(&self.signer_cert.x5t_s256())
    }

    /// Signs an arbitrary payload under a licence header (an issuer key used for nonsense).
    fn sign_raw(&self, payload: &[u8], zip: bool) -> String {
        let params = HeaderParams {
            typ: Some(LICENCE_TYP),
            x5t_s256: Some(self.signer_cert.x5t_s256()),
            zip,
            ..HeaderParams::default()
        };
        sign_compact(&params, payload, &self.signer).unwrap()
    }
}

fn make_pki() -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let operator = layout::init_operator(
        &dir.path().join("op"),
        "测试运营方",
        Algorithm::Es256,
        Protection::Plaintext,
        MADE,
    )
    .unwrap();
    let cache_dir = dir.path().join("cache");
    std::fs::create_dir_all(&cache_dir).unwrap();
    let mut dirs = Vec::new();
    let mut region = |code: &str, alg, in_trust_list: bool| {
        let init = InitRegion {
            code: RegionCode::parse(code).unwrap(),
            name: RegionCode::parse(code).unwrap().province_name().to_owned(),
            alg,
            public_url: format!("https://issuer-{code}.example"),
            protection: Protection::Plaintext,
            now: MADE,
        };
        let region = layout::init_region(&dir.path().join(code), &init).unwrap();
        let (signer, signer_cert) = region.active_signer(None).unwrap();
        let (status_signer, status_cert) = region.status_signer(None).unwrap();
        let status_uri = format!(
            "{}{}-0",
            region.config.status_uri_prefix(),
            region.config.code
        );
        // A fresh status list in the verifier's cache: IDX valid, IDX_REVOKED revoked.
        let mut list = StatusList::new(2, 1 << 17).unwrap();
        list.set(IDX as usize, StatusValue::Valid).unwrap();
        list.set(IDX_REVOKED as usize, StatusValue::Revoked)
            .unwrap();
        let token = StatusListClaims {
            sub: status_uri.clone(),
            iat: NOW.minus(600).seconds(),
            exp: NOW.plus(86_400).seconds(),
            ttl: 300,
            status_list: StatusListClaim::from_list(&list),
        }
        .sign(&status_signer, &status_cert)
        .unwrap();
        if in_trust_list {
            std::fs::write(
                cache_dir.join(DiskCache::status_file(&status_uri)),
                token.as_bytes(),
            )
            .unwrap();
            dirs.push(region.clone());
        }
        Region {
            code: region.config.code.clone(),
            signer,
            signer_cert: Certificate::from_der(&signer_cert).unwrap(),
            status_uri,
        }
    };
    let zhejiang = region("330000", Algorithm::Es256, true);
    let anhui = region("340000", Algorithm::Sm2Sm3, true);
    let outsider = region("310000", Algorithm::Es256, false);
    let claims = trust_build::assemble("测试运营方", &dirs, 42, MADE, 7 * 86_400).unwrap();
    let operator_key = operator.key(None).unwrap();
    let operator_der = operator.certificate().unwrap();
    let trust = trust_build::sign(&claims, &operator_key, &operator_der).unwrap();
    let trust_path = dir.path().join("trust-list.jwt");
    std::fs::write(&trust_path, trust).unwrap();
    Pki {
        _dir: dir,
        zhejiang,
        anhui,
        outsider,
        operator_cert: Certificate::from_der(&operator_der).unwrap(),
        trust_path,
        cache_dir,
    }
}

// ---------------------------------------------------------------------------------------------
// A deliberately small HTTP/1.1 client over a raw socket.

/// How often a case retries after `429 image_decoder_busy`.
const DECODER_BUSY_RETRIES: u32 = 40;

/// The wait a `429 image_decoder_busy` answer asks for (its `Retry-After`, at most 10 s), or
/// `None` for any other answer.
fn decoder_busy_wait(response: &Response) -> Option<Duration> {
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

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
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
/// Large bodies are written from a second thread so that an early answer (413) is read while
/// the rest of the body is still being pushed.
fn exchange(addr: SocketAddr, request: Vec<u8>) -> Result<Response, String> {
    let start = Instant::now();
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
    let mut raw = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let outcome = loop {
        if start.elapsed() > TIMEOUT {
            break Err(format!("no complete answer within {TIMEOUT:?}"));
        }
        match stream.read(&mut buf) {
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
                // A reset after a complete answer (the server closing on an unread body) is fine.
                break parse_response(&raw, false)
                    .ok_or_else(|| format!("read: {e} after {} bytes", raw.len()));
            }
        }
    };
    let _ = stream.shutdown(Shutdown::Both);
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    outcome
}

fn request(method: &str, path: &str, headers: &[(&str, &[u8])], body: &[u8]) -> Vec<u8> {
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

fn post(content_type: Option<&str>, body: &[u8]) -> Vec<u8> {
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

fn json_body(field: &str, text: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ field: text })).unwrap()
}

const BOUNDARY: &str = "hurenHostileBoundary7MA4YWxkTrZu0gW";

struct Part<'a> {
    name: &'a str,
    filename: Option<&'a str>,
    content_type: Option<&'a str>,
    data: &'a [u8],
}

fn image_part(data: &[u8]) -> Part<'_> {
    Part {
        name: "image",
        filename: Some("photo.png"),
        content_type: Some("image/png"),
        data,
    }
}

fn multipart_body(parts: &[Part<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{}\"", part.name);
        if let Some(f) = part.filename {
            disposition.push_str(&format!("; filename=\"{f}\""));
        }
        out.extend_from_slice(disposition.as_bytes());
        out.extend_from_slice(b"\r\n");
        if let Some(ct) = part.content_type {
            out.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(part.data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    post(
        Some(&format!("multipart/form-data; boundary={BOUNDARY}")),
        &multipart_body(parts),
    )
}

// ---------------------------------------------------------------------------------------------
// Images made by hand.

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                0xEDB8_8320 ^ (crc >> 1)
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut tagged = kind.to_vec();
    tagged.extend_from_slice(data);
    out.extend_from_slice(&tagged);
    out.extend_from_slice(&crc32(&tagged).to_be_bytes());
}

/// A structurally valid PNG header (correct CRCs) claiming `width`×`height`, followed by a
/// small IDAT of zeros and IEND: a decoder that trusts the header would allocate the lot.
fn png_claiming(width: u32, height: u32, bit_depth: u8, colour: u8) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[bit_depth, colour, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    // zlib: header, a raw DEFLATE of 64 KiB of zeros, adler32 of that.
    let mut idat = vec![0x78, 0x9c];
    idat.extend_from_slice(&huren_crypto::deflate::deflate(&[0u8; 65_536]));
    let adler: u32 = (65_536u32 % 65_521) << 16 | 1;
    idat.extend_from_slice(&adler.to_be_bytes());
    png_chunk(&mut out, b"IDAT", &idat);
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// A JPEG start-of-frame claiming `side`×`side` and nothing else.
fn jpeg_claiming(side: u16) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 0x08];
    out.extend_from_slice(&side.to_be_bytes());
    out.extend_from_slice(&side.to_be_bytes());
    out.extend_from_slice(&[0x01, 0x01, 0x11, 0x00, 0xFF, 0xD9]);
    out
}

fn encode_image(image: image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn qr_image(text: &str) -> image::DynamicImage {
    let code =
        qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).unwrap();
    image::DynamicImage::ImageLuma8(
        code.render::<image::Luma<u8>>()
            .module_dimensions(4, 4)
            .build(),
    )
}

// ---------------------------------------------------------------------------------------------
// The corpus.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// 200, verdict valid (an untouched real licence).
    Valid,
    /// 200, verdict invalid or indeterminate.
    Report,
    /// Exactly this 4xx status and problem `code`.
    Problem(u16, &'static str),
    /// A report that is not valid, or any 4xx problem.
    NotValid,
    /// Refused at the HTTP layer (hyper or the router): any 4xx, problem JSON not required.
    Protocol,
    /// The client itself broke the exchange: any 4xx, or the connection closed.
    ClientBroke,
}

enum Req {
    Bytes(Vec<u8>),
    /// Built just before sending (large bodies), so the client holds at most one at a time.
    Lazy(Box<dyn Fn() -> Vec<u8>>),
}

impl Req {
    fn build(&self) -> Vec<u8> {
        match self {
            Req::Bytes(b) => b.clone(),
            Req::Lazy(f) => f(),
        }
    }
}

struct Case {
    category: &'static str,
    name: String,
    req: Req,
    expect: Expect,
    /// An outcome code the report must list.
    reason: Option<&'static str>,
    /// Must be refused within [`BOMB_BOUND`] without its claims ever being inflated.
    bomb: bool,
}

struct Corpus(Vec<Case>);

impl Corpus {
    fn add(
        &mut self,
        category: &'static str,
        name: impl Into<String>,
        req: Vec<u8>,
        expect: Expect,
    ) {
        self.0.push(Case {
            category,
            name: name.into(),
            req: Req::Bytes(req),
            expect,
            reason: None,
            bomb: false,
        });
    }

    fn lazy(
        &mut self,
        category: &'static str,
        name: impl Into<String>,
        req: impl Fn() -> Vec<u8> + 'static,
        expect: Expect,
    ) {
        self.0.push(Case {
            category,
            name: name.into(),
            req: Req::Lazy(Box::new(req)),
            expect,
            reason: None,
            bomb: false,
        });
    }

    /// The last case must also list `reason`.
    fn reason(&mut self, reason: &'static str) {
        self.0.last_mut().unwrap().reason = Some(reason);
    }

    /// Sends scanned text through one of the four text transports, chosen by `n`; the oracle
    /// is the normalisation itself: only text that normalises to a real token may be valid.
    fn text(
        &mut self,
        category: &'static str,
        name: String,
        text: &[u8],
        real: &[String],
        n: usize,
    ) {
        let expect_valid = std::str::from_utf8(text)
            .ok()
            .and_then(|t| qr::normalise_input(t).ok())
            .is_some_and(|t| real.contains(&t));
        let utf8 = std::str::from_utf8(text).ok();
        let (transport, req) = match (n % 4, utf8) {
            (0, _) => ("text", post(Some("text/plain"), text)),
            (1, _) => ("none", post(None, text)),
            (2, Some(t)) => (
                "json-token",
                post(Some("application/json"), &json_body("token", t)),
            ),
            (_, Some(t)) => (
                "json-qr",
                post(Some("application/json"), &json_body("qr", t)),
            ),
            // Not UTF-8: put the raw bytes inside a JSON string.
            (_, None) => {
                let mut body = b"{\"token\":\"".to_vec();
                body.extend_from_slice(text);
                body.extend_from_slice(b"\"}");
                ("json-raw", post(Some("application/json"), &body))
            }
        };
        let expect = match (expect_valid, transport, utf8) {
            (true, _, _) => Expect::Valid,
            (false, "text" | "none", None) => Expect::Problem(400, "not_utf8"),
            (false, "json-raw", _) => Expect::Problem(400, "malformed_json"),
            (false, _, _) => Expect::Report,
        };
        self.add(category, format!("{name} via {transport}"), req, expect);
    }
}

/// A compact JWS from parts given as bytes.
fn jws(header: &str, payload: &[u8], signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64::encode_url(header.as_bytes()),
        b64::encode_url(payload),
        b64::encode_url(signature)
    )
}

struct Real {
    /// Real tokens that must verify as valid.
    valid: Vec<String>,
    /// Their HR1 forms.
    valid_qr: Vec<String>,
}

#[allow(clippy::too_many_lines)]
fn build_corpus(pki: &Pki, real: &Real) -> Corpus {
    let mut c = Corpus(Vec::new());
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let zj = &pki.zhejiang;
    let ah = &pki.anhui;
    let all_real: Vec<String> = real.valid.clone();

    // --- untouched real licences, in every transport (the only valid answers) ---------------
    for (i, (token, text)) in real.valid.iter().zip(&real.valid_qr).enumerate() {
        let cat = "real_valid";
        c.add(
            cat,
            format!("token {i} text/plain"),
            post(Some("text/plain"), token.as_bytes()),
            Expect::Valid,
        );
        c.add(
            cat,
            format!("token {i} no content type"),
            post(None, token.as_bytes()),
            Expect::Valid,
        );
        c.add(
            cat,
            format!("token {i} json token"),
            post(Some("application/json"), &json_body("token", token)),
            Expect::Valid,
        );
        c.add(
            cat,
            format!("qr {i} json qr"),
            post(Some("application/json"), &json_body("qr", text)),
            Expect::Valid,
        );
        c.add(
            cat,
            format!("qr {i} text + CRLF"),
            post(
                Some("text/plain; charset=utf-8"),
                format!("{text}\r\n").as_bytes(),
            ),
            Expect::Valid,
        );
        c.add(
            cat,
            format!("qr {i} lowercase prefix"),
            post(Some("TEXT/PLAIN"), text.to_lowercase().as_bytes()),
            Expect::Valid,
        );
        let split: String = text
            .as_bytes()
            .chunks(200)
            .map(|ch| std::str::from_utf8(ch).unwrap())
            .collect::<Vec<_>>()
            .join("\n");
        c.add(
            cat,
            format!("qr {i} split in lines"),
            post(Some("text/plain"), split.as_bytes()),
            Expect::Valid,
        );
    }

    // --- real but not-valid licences ----------------------------------------------------------
    {
        let cat = "real_invalid";
        let revoked = zj.sign(&zj.claims(
            "2026000101",
            licence_json("2026-11-20", "2031-11-19", default_face()),
            Some(IDX_REVOKED),
        ));
        c.add(
            cat,
            "revoked",
            post(Some("text/plain"), revoked.as_bytes()),
            Expect::Report,
        );
        c.reason("revoked");
        let expired = zj.sign(&zj.claims(
            "2026000102",
            licence_json("2026-11-20", "2026-11-22", default_face()),
            Some(IDX),
        ));
        c.add(
            cat,
            "expired",
            post(Some("text/plain"), expired.as_bytes()),
            Expect::Report,
        );
        c.reason("expired");
        let future = zj.sign(&zj.claims(
            "2026000103",
            licence_json("2026-12-25", "2031-11-19", default_face()),
            Some(IDX),
        ));
        c.add(
            cat,
            "not yet valid",
            post(Some("text/plain"), future.as_bytes()),
            Expect::Report,
        );
        c.reason("not_yet_valid");
        let mut impersonation = zj.claims(
            "2026000104",
            licence_json("2026-11-20", "2031-11-19", default_face()),
            None,
        );
        impersonation.iss = ah.code.clone();
        let impersonation = zj.sign(&impersonation);
        c.add(
            cat,
            "zhejiang key signing for anhui",
            post(Some("text/plain"), impersonation.as_bytes()),
            Expect::Report,
        );
        c.reason("issuer_not_authorised");
        let outsider = pki.outsider.sign(&pki.outsider.claims(
            "2026000105",
            licence_json("2026-11-20", "2031-11-19", default_face()),
            None,
        ));
        c.add(
            cat,
            "province outside the trust list",
            post(Some("text/plain"), outsider.as_bytes()),
            Expect::Report,
        );
        c.reason("unknown_signer");
        let mut claims = zj.claims(
            "2026000107",
            licence_json("2026-11-20", "2031-11-19", default_face()),
            Some(IDX),
        );
        claims.status.as_mut().unwrap().status_list.uri =
            "https://evil.example/status/330000-0".into();
        c.add(
            cat,
            "status uri outside the prefix",
            post(Some("text/plain"), zj.sign(&claims).as_bytes()),
            Expect::Report,
        );
        c.reason("malformed");
        claims.status.as_mut().unwrap().status_list.uri = zj.status_uri.clone();
        claims.status.as_mut().unwrap().status_list.idx = u64::MAX;
        c.add(
            cat,
            "status index u64::MAX",
            post(Some("text/plain"), zj.sign(&claims).as_bytes()),
            Expect::Report,
        );
        c.reason("malformed");
        claims.status.as_mut().unwrap().status_list.uri = format!("{}-1", zj.status_uri);
        claims.status.as_mut().unwrap().status_list.idx = IDX;
        c.add(
            cat,
            "status list not cached (offline)",
            post(Some("text/plain"), zj.sign(&claims).as_bytes()),
            Expect::Report,
        );
        c.reason("status_unknown");
        // An outsider re-signing a Zhejiang token under Zhejiang's x5t#S256.
        let params = HeaderParams {
            typ: Some(LICENCE_TYP),
            x5t_s256: Some(zj.signer_cert.x5t_s256()),
            ..HeaderParams::default()
        };
        let payload = serde_json::to_vec(&zj.claims(
            "2026000108",
            licence_json("2026-11-20", "2031-11-19", default_face()),
            None,
        ))
        .unwrap();
        let forged = sign_compact(&params, &payload, &pki.outsider.signer).unwrap();
        c.add(
            cat,
            "forged under zhejiang x5t",
            post(Some("text/plain"), forged.as_bytes()),
            Expect::Report,
        );
        c.reason("bad_signature");
        for (name, payload) in [
            ("signed {}", b"{}".to_vec()),
            ("signed []", b"[]".to_vec()),
            ("signed not json", b"\xff\xfenot json".to_vec()),
            (
                "signed deep json",
                format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes(),
            ),
        ] {
            c.add(
                cat,
                name,
                post(Some("text/plain"), zj.sign_raw(&payload, false).as_bytes()),
                Expect::Report,
            );
            c.reason("malformed");
        }
        c.add(
            cat,
            "signed corrupt deflate",
            post(
                Some("text/plain"),
                zj.sign_raw(b"\xff\xff\xff\x00garbage", true).as_bytes(),
            ),
            Expect::Report,
        );
        c.reason("malformed");
    }

    // --- truncations at every length bucket ---------------------------------------------------
    for (i, (token, text)) in real.valid.iter().zip(&real.valid_qr).enumerate() {
        for (cat, s) in [("truncated_token", token), ("truncated_hr1", text)] {
            let len = s.len();
            let mut cuts: Vec<usize> = (0..=16).collect();
            cuts.extend((1..48).map(|k| len * k / 48));
            cuts.extend(len - 16..len);
            cuts.sort_unstable();
            cuts.dedup();
            for (n, cut) in cuts.into_iter().enumerate() {
                c.text(
                    cat,
                    format!("real {i} cut at {cut}/{len}"),
                    &s.as_bytes()[..cut],
                    &all_real,
                    n,
                );
            }
        }
    }

    // --- bit flips and byte substitutions -----------------------------------------------------
    for (i, (token, text)) in real.valid.iter().zip(&real.valid_qr).enumerate() {
        for (form, s) in [("token", token), ("hr1", text)] {
            for n in 0..40 {
                let mut bytes = s.as_bytes().to_vec();
                let at = rng.below(bytes.len());
                let bit = rng.below(8);
                bytes[at] ^= 1 << bit;
                c.text(
                    "bit_flip",
                    format!("{form} {i} byte {at} bit {bit}"),
                    &bytes,
                    &all_real,
                    n,
                );
            }
            for n in 0..40 {
                let mut bytes = s.as_bytes().to_vec();
                let at = rng.below(bytes.len());
                let alphabet = b"0123456789ABCXYZabcxyz-_.+/= \n\t\x00\x7f:";
                let new = if n % 3 == 0 {
                    rng.byte()
                } else {
                    alphabet[rng.below(alphabet.len())]
                };
                if bytes[at] == new {
                    continue;
                }
                bytes[at] = new;
                c.text(
                    "substitution",
                    format!("{form} {i} byte {at} := {new:#04x}"),
                    &bytes,
                    &all_real,
                    n + 1,
                );
            }
        }
    }

    // --- random bytes ------------------------------------------------------------------------
    for n in 0..150 {
        let len = match n % 5 {
            0 => rng.below(16),
            1 => rng.below(256),
            2 => rng.below(4096),
            3 => rng.below(70_000),
            _ => rng.below(200_000),
        };
        let bytes = rng.bytes(len);
        let req = match n % 3 {
            0 => post(Some("text/plain"), &bytes),
            1 => post(None, &bytes),
            _ => post(Some("application/json"), &bytes),
        };
        c.add(
            "random_bytes",
            format!("{len} random bytes #{n}"),
            req,
            Expect::NotValid,
        );
    }
    // Random strings over the JWS and HR1 alphabets (these reach the decoder).
    for n in 0..60 {
        let len = 1 + rng.below(3000);
        let s: String = if n % 2 == 0 {
            let a = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_...";
            (0..len)
                .map(|_| char::from(a[rng.below(a.len())]))
                .collect()
        } else {
            let digits: String = (0..len * 2)
                .map(|_| char::from(b'0' + (rng.below(10) as u8)))
                .collect();
            format!("HR1:{digits}")
        };
        c.text(
            "random_alphabet",
            format!("{len} alphabet chars #{n}"),
            s.as_bytes(),
            &all_real,
            n,
        );
    }

    // --- invalid UTF-8 ------------------------------------------------------------------------
    let bad_utf8: [&[u8]; 10] = [
        b"\xff",
        b"\xc0\xaf",         // overlong '/'
        b"\xe0\x80\xaf",     // overlong
        b"\xed\xa0\x80",     // encoded surrogate
        b"\xf4\x90\x80\x80", // beyond U+10FFFF
        b"\x80\x80\x80",     // lone continuations
        b"\xe6\x97",         // truncated multi-byte
        b"HR1:56\xff76",
        b"eyJ\xc3hbGc.e30.AAAA",
        b"\xfe\xff\x00H\x00R\x001\x00:", // UTF-16 with BOM
    ];
    for (n, bad) in bad_utf8.iter().enumerate() {
        for transport in 0..3 {
            let mut body = real.valid[n % real.valid.len()].as_bytes()[..40].to_vec();
            body.extend_from_slice(bad);
            let (name, req, expect) = match transport {
                0 => (
                    "text/plain",
                    post(Some("text/plain"), &body),
                    Expect::Problem(400, "not_utf8"),
                ),
                1 => (
                    "no content type",
                    post(None, &body),
                    Expect::Problem(400, "not_utf8"),
                ),
                _ => {
                    let mut json = b"{\"qr\":\"".to_vec();
                    json.extend_from_slice(&body);
                    json.extend_from_slice(b"\"}");
                    (
                        "json",
                        post(Some("application/json"), &json),
                        Expect::Problem(400, "malformed_json"),
                    )
                }
            };
            c.add(
                "invalid_utf8",
                format!("sample {n} via {name}"),
                req,
                expect,
            );
        }
    }
    c.add(
        "invalid_utf8",
        "BOM then real token",
        post(
            Some("text/plain"),
            format!("\u{feff}{}", real.valid[0]).as_bytes(),
        ),
        Expect::Report,
    );
    c.add(
        "invalid_utf8",
        "full-width HR1 digits",
        post(Some("text/plain"), "HR1:５６７６".as_bytes()),
        Expect::Report,
    );

    // --- huge JSON ------------------------------------------------------------------------------
    {
        let cat = "huge_json";
        c.lazy(
            cat,
            "10,000 nested arrays",
            || {
                post(
                    Some("application/json"),
                    format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).as_bytes(),
                )
            },
            Expect::Problem(400, "malformed_json"),
        );
        c.lazy(
            cat,
            "token: 10,000 nested arrays",
            || {
                post(
                    Some("application/json"),
                    format!("{{\"token\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000))
                        .as_bytes(),
                )
            },
            Expect::Problem(400, "malformed_json"),
        );
        c.lazy(
            cat,
            "10,000 nested objects",
            || {
                post(
                    Some("application/json"),
                    format!("{}1{}", "{\"token\":".repeat(10_000), "}".repeat(10_000)).as_bytes(),
                )
            },
            Expect::Problem(400, "malformed_json"),
        );
        c.lazy(
            cat,
            "unclosed 1 MiB of [",
            || post(Some("application/json"), "[".repeat(1 << 20).as_bytes()),
            Expect::Problem(400, "malformed_json"),
        );
        c.lazy(
            cat,
            "9 MiB token string",
            || {
                post(
                    Some("application/json"),
                    &json_body("token", &"A".repeat(9 << 20)),
                )
            },
            Expect::Report,
        );
        c.reason("malformed");
        c.lazy(
            cat,
            "9 MiB qr digits",
            || {
                post(
                    Some("application/json"),
                    &json_body("qr", &format!("HR1:{}", "5".repeat(9 << 20))),
                )
            },
            Expect::Report,
        );
        c.reason("malformed");
        c.lazy(
            cat,
            "9 MiB of \\u escapes",
            || {
                post(
                    Some("application/json"),
                    format!("{{\"token\":\"{}\"}}", "\\u00e9".repeat(1_500_000)).as_bytes(),
                )
            },
            Expect::Report,
        );
        c.lazy(
            cat,
            "9 MiB text/plain whitespace",
            || post(Some("text/plain"), " ".repeat(9 << 20).as_bytes()),
            Expect::Report,
        );
        c.lazy(
            cat,
            "9 MiB whitespace then real token",
            {
                let token = real.valid[0].clone();
                move || {
                    post(
                        Some("text/plain"),
                        format!("{}{token}", "\n".repeat(9 << 20)).as_bytes(),
                    )
                }
            },
            Expect::Report,
        );
        c.reason("malformed");
        c.lazy(
            cat,
            "200,000 keys",
            || {
                let mut s = String::from("{");
                for k in 0..200_000 {
                    s.push_str(&format!("\"k{k}\":{k},"));
                }
                s.push_str("\"token\":\"x\"}");
                post(Some("application/json"), s.as_bytes())
            },
            Expect::Problem(400, "malformed_json"),
        );
        c.lazy(
            cat,
            "200,000 duplicate token keys",
            || {
                let mut s = String::from("{");
                for _ in 0..200_000 {
                    s.push_str("\"token\":\"x\",");
                }
                s.push_str("\"token\":\"x\"}");
                post(Some("application/json"), s.as_bytes())
            },
            Expect::Problem(400, "malformed_json"),
        );
        c.lazy(
            cat,
            "array of 1,000,000 numbers",
            || {
                let inner = vec!["1"; 1_000_000].join(",");
                post(
                    Some("application/json"),
                    format!("{{\"token\":[{inner}]}}").as_bytes(),
                )
            },
            Expect::Problem(400, "malformed_json"),
        );
        c.lazy(
            cat,
            "number with 1,000,000 digits",
            || {
                post(
                    Some("application/json"),
                    format!("{{\"token\":{}}}", "9".repeat(1_000_000)).as_bytes(),
                )
            },
            Expect::Problem(400, "malformed_json"),
        );
    }

    // --- JSON with wrong types ---------------------------------------------------------------
    {
        let cat = "json_types";
        let token = &real.valid[0];
        for (name, body, expect) in [
            (
                "token number",
                r#"{"token":1}"#.to_owned(),
                Expect::Problem(400, "malformed_json"),
            ),
            (
                "token float",
                r#"{"token":1e999}"#.to_owned(),
                Expect::Problem(400, "malformed_json"),
            ),
            (
                "token bool",
                r#"{"token":true}"#.to_owned(),
                Expect::Problem(400, "malformed_json"),
            ),
            (
                "token array",
                format!(r#"{{"token":["{token}"]}}"#),
                Expect::Problem(400, "malformed_json"),
            ),
            (
                "token object",
                format!(r#"{{"token":{{"token":"{token}"}}}}"#),
                Expect::Problem(400, "malformed_json"),
            ),
            (
                "qr number",
                r#"{"qr":123456}"#.to_owned(),
                Expect::Problem(400, "malformed_json"),
            ),
            (
                "token null",
                r#"{"token":null}"#.to_owned(),
                Expect::Problem(400, "missing_input"),
            ),
            (
                "empty object",
                "{}".to_owned(),
                Expect::Problem(400, "missing_input"),
            ),
            (
                "top-level array",
                format!(r#"["{token}"]"#),
                Expect::Problem(400, "malformed_json"),
            ),
            (
                "top-level string",
                format!(r#""{token}""#),
                Expect::Problem(400, "malformed_json"),
            ),
            (
                "top-level null",
                "null".to_owned(),
                Expect::Problem(400, "malformed_json"),
            ),
            (
                "top-level number",
                "42".to_owned(),
                Expect::Problem(400, "malformed_json"),
            ),
            (
                "empty body",
                String::new(),
                Expect::Problem(400, "malformed_json"),
            ),
            (
                "unknown field",
                format!(r#"{{"token":"{token}","extra":1}}"#),
                Expect::Problem(400, "malformed_json"),
            ),
            (
                "duplicate token",
                format!(r#"{{"token":"{token}","token":"{token}"}}"#),
                Expect::Problem(400, "malformed_json"),
            ),
            (
                "trailing garbage",
                format!(r#"{{"token":"{token}"}} x"#),
                Expect::Problem(400, "malformed_json"),
            ),
            (
                "two documents",
                format!(r#"{{"token":"{token}"}}{{"token":"x"}}"#),
                Expect::Problem(400, "malformed_json"),
            ),
            (
                "lone surrogate escape",
                r#"{"token":"\ud800"}"#.to_owned(),
                Expect::Problem(400, "malformed_json"),
            ),
            (
                "NUL escape",
                r#"{"token":"\u0000"}"#.to_owned(),
                Expect::Report,
            ),
            ("empty token", r#"{"token":""}"#.to_owned(), Expect::Report),
            ("empty qr", r#"{"qr":""}"#.to_owned(), Expect::Report),
            (
                "token with escaped slash",
                r#"{"token":"eyJ\/.e30.AAAA"}"#.to_owned(),
                Expect::Report,
            ),
            (
                "single quotes",
                format!("{{'token':'{token}'}}"),
                Expect::Problem(400, "malformed_json"),
            ),
            (
                "comment",
                format!("{{/*x*/\"token\":\"{token}\"}}"),
                Expect::Problem(400, "malformed_json"),
            ),
            (
                "BOM before JSON",
                format!("\u{feff}{{\"token\":\"{token}\"}}"),
                Expect::Problem(400, "malformed_json"),
            ),
            (
                "JSON as text/plain",
                format!(r#"{{"token":"{token}"}}"#),
                Expect::Report,
            ),
            (
                "token valid, qr garbage",
                format!(r#"{{"token":"{token}","qr":"HR1:1"}}"#),
                Expect::Valid,
            ),
            (
                "token garbage, qr valid",
                format!(r#"{{"token":"x","qr":"{}"}}"#, real.valid_qr[0]),
                Expect::Report,
            ),
        ] {
            let ct = if name == "JSON as text/plain" {
                "text/plain"
            } else {
                "application/json"
            };
            c.add(cat, name, post(Some(ct), body.as_bytes()), expect);
        }
    }

    // --- deflate bombs ---------------------------------------------------------------------------
    {
        let cat = "deflate_bomb";
        let header = |x5t: &str| {
            format!(r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}","zip":"DEF"}}"#)
        };
        // 100 MB of zeros, raw DEFLATE (~100 KB): too long to be a licence at all.
        let bomb_100m = {
            let zeros = vec![0u8; 100_000_000];
            huren_crypto::deflate::deflate(&zeros)
        };
        let unsigned = jws(&header(&zj.x5t()), &bomb_100m, &[7u8; 64]);
        c.add(
            cat,
            format!(
                "100 MB of zeros ({} bytes deflated), unsigned",
                bomb_100m.len()
            ),
            post(Some("text/plain"), unsigned.as_bytes()),
            Expect::Report,
        );
        c.reason("malformed");
        c.0.last_mut().unwrap().bomb = true;
        c.add(
            cat,
            "100 MB bomb in json",
            post(Some("application/json"), &json_body("token", &unsigned)),
            Expect::Report,
        );
        c.0.last_mut().unwrap().bomb = true;
        // 40 MB of zeros fits under the 64 KiB token limit: it reaches the signature check.
        let bomb_40m = huren_crypto::deflate::deflate(&vec![0u8; 40_000_000]);
        let fits = jws(&header(&zj.x5t()), &bomb_40m, &[7u8; 64]);
        assert!(
            fits.len() < huren_crypto::jws::MAX_LICENCE_TOKEN_BYTES,
            "{}",
            fits.len()
        );
        c.add(
            cat,
            "40 MB bomb under zhejiang's x5t, bad signature",
            post(Some("text/plain"), fits.as_bytes()),
            Expect::Report,
        );
        c.reason("bad_signature");
        c.0.last_mut().unwrap().bomb = true;
        c.add(
            cat,
            "40 MB bomb as HR1",
            post(Some("text/plain"), qr::encode(&fits).unwrap().as_bytes()),
            Expect::Report,
        );
        c.reason("bad_signature");
        c.0.last_mut().unwrap().bomb = true;
        let unknown = jws(&header(&b64::encode_url(&[9u8; 32])), &bomb_40m, &[7u8; 64]);
        c.add(
            cat,
            "40 MB bomb, unknown signer",
            post(Some("text/plain"), unknown.as_bytes()),
            Expect::Report,
        );
        c.reason("unknown_signer");
        c.0.last_mut().unwrap().bomb = true;
        let none = jws(
            r#"{"alg":"none","typ":"licence+jwt","zip":"DEF"}"#,
            &bomb_40m,
            b"",
        );
        c.add(
            cat,
            "40 MB bomb, alg none",
            post(Some("text/plain"), none.as_bytes()),
            Expect::Report,
        );
        c.reason("unsupported_algorithm");
        c.0.last_mut().unwrap().bomb = true;
        // A bomb the issuer's own key signed: the signature holds, the inflate limit must stop it.
        let signed = zj.sign_raw(&bomb_40m, true);
        c.add(
            cat,
            "40 MB bomb signed by zhejiang",
            post(Some("text/plain"), signed.as_bytes()),
            Expect::Report,
        );
        c.reason("malformed");
        c.0.last_mut().unwrap().bomb = true;
    }

    // --- oversize bodies ------------------------------------------------------------------------
    {
        let cat = "oversize";
        c.lazy(
            cat,
            "text/plain 10 MiB + 1",
            || post(Some("text/plain"), &vec![b'5'; MAX_BODY + 1]),
            Expect::Problem(413, "body_too_large"),
        );
        c.lazy(
            cat,
            "json 10 MiB + 1",
            || {
                post(
                    Some("application/json"),
                    &json_body("token", &"A".repeat(MAX_BODY - 11)),
                )
            },
            Expect::Problem(413, "body_too_large"),
        );
        c.lazy(
            cat,
            "no content type 12 MiB",
            || post(None, &vec![b'A'; 12 << 20]),
            Expect::Problem(413, "body_too_large"),
        );
        c.lazy(
            cat,
            "application/xml 11 MiB",
            || post(Some("application/xml"), &vec![b'<'; 11 << 20]),
            Expect::Problem(413, "body_too_large"),
        );
        c.lazy(
            cat,
            "text/plain exactly 10 MiB",
            || post(Some("text/plain"), &vec![b'5'; MAX_BODY]),
            Expect::Report,
        );
        c.lazy(cat, "chunked 11 MiB", || {
            let mut out = b"POST /v1/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            let chunk = vec![b'7'; 1 << 20];
            for _ in 0..11 {
                out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                out.extend_from_slice(&chunk);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
            out
        }, Expect::Problem(413, "body_too_large"));
        c.lazy(cat, "Content-Length 10 GiB, 1 KiB sent", || {
            let mut out = b"POST /v1/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 10737418240\r\n\r\n".to_vec();
            out.extend_from_slice(&[b'1'; 1024]);
            out
        }, Expect::Problem(413, "body_too_large"));
        c.lazy(
            cat,
            "multipart image 11 MiB",
            || multipart(&[image_part(&vec![0u8; 11 << 20])]),
            Expect::Problem(413, "body_too_large"),
        );
        c.lazy(cat, "multipart chunked 11 MiB", || {
            let body = multipart_body(&[image_part(&vec![0u8; 11 << 20])]);
            let mut out = format!("POST /v1/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nTransfer-Encoding: chunked\r\n\r\n").into_bytes();
            for chunk in body.chunks(1 << 20) {
                out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                out.extend_from_slice(chunk);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
            out
        }, Expect::Problem(413, "body_too_large"));
        c.lazy(
            cat,
            "multipart 11 MiB before the image",
            || {
                let filler = vec![b'x'; 11 << 20];
                multipart(&[
                    Part {
                        name: "note",
                        filename: None,
                        content_type: None,
                        data: &filler,
                    },
                    image_part(b"\x89PNG"),
                ])
            },
            Expect::Problem(413, "body_too_large"),
        );
    }

    // --- content types ---------------------------------------------------------------------------
    {
        let cat = "content_type";
        let token = real.valid[0].as_bytes();
        for (ct, expect) in [
            (
                "application/xml",
                Expect::Problem(415, "unsupported_media_type"),
            ),
            ("image/png", Expect::Problem(415, "unsupported_media_type")),
            ("text/html", Expect::Problem(415, "unsupported_media_type")),
            (
                "application/x-www-form-urlencoded",
                Expect::Problem(415, "unsupported_media_type"),
            ),
            (
                "application/octet-stream",
                Expect::Problem(415, "unsupported_media_type"),
            ),
            (
                "application/jwt",
                Expect::Problem(415, "unsupported_media_type"),
            ),
            ("*/*", Expect::Problem(415, "unsupported_media_type")),
            (";;;", Expect::Valid),
            ("text/plain; charset=iso-8859-1", Expect::Valid),
            ("  Text/Plain  ; x=y", Expect::Valid),
            ("application/json", Expect::Problem(400, "malformed_json")),
            (
                "application/json; charset=utf-16",
                Expect::Problem(400, "malformed_json"),
            ),
            ("multipart/form-data", Expect::Problem(400, "bad_multipart")),
            (
                "multipart/form-data; boundary=",
                Expect::Problem(400, "bad_multipart"),
            ),
            (
                "multipart/form-data; boundary=zzz",
                Expect::Problem(400, "bad_multipart"),
            ),
            (
                "multipart/mixed; boundary=zzz",
                Expect::Problem(415, "unsupported_media_type"),
            ),
        ] {
            c.add(
                cat,
                format!("{ct:?} with a real token"),
                post(Some(ct), token),
                expect,
            );
        }
        c.add(
            cat,
            "no content type, real token",
            post(None, token),
            Expect::Valid,
        );
        c.add(
            cat,
            "image/png with HR1 text",
            post(Some("image/png"), real.valid_qr[0].as_bytes()),
            Expect::Problem(415, "unsupported_media_type"),
        );
        c.add(
            cat,
            "application/xml document",
            post(
                Some("application/xml"),
                b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><token>&a;</token>",
            ),
            Expect::Problem(415, "unsupported_media_type"),
        );
        c.add(
            cat,
            "non-ASCII content type",
            request(
                "POST",
                "/v1/verify",
                &[("Content-Type", b"text/pl\xe4in")],
                token,
            ),
            Expect::Valid,
        );
        c.add(
            cat,
            "two content types",
            request(
                "POST",
                "/v1/verify",
                &[
                    ("Content-Type", b"application/xml"),
                    ("Content-Type", b"text/plain"),
                ],
                token,
            ),
            Expect::NotValid,
        );
        c.add(
            cat,
            "4 KiB content type",
            post(Some(&format!("text/{}", "x".repeat(4096))), token),
            Expect::Problem(415, "unsupported_media_type"),
        );
    }

    // --- multipart and images ------------------------------------------------------------------
    {
        let cat = "multipart";
        let qr_png = encode_image(qr_image(&real.valid_qr[0]), image::ImageFormat::Png);
        let qr_png_sm2 = encode_image(qr_image(&real.valid_qr[2]), image::ImageFormat::Png);
        let qr_jpeg = encode_image(
            qr_image(&real.valid_qr[1]).to_rgb8().into(),
            image::ImageFormat::Jpeg,
        );
        // One character in the middle of the payload changed: still canonical base64url.
        let mut tampered = real.valid[0].clone().into_bytes();
        let mid = tampered.iter().position(|b| *b == b'.').unwrap() + 20;
        tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
        let tampered = qr::encode(std::str::from_utf8(&tampered).unwrap()).unwrap();
        let tampered_png = encode_image(qr_image(&tampered), image::ImageFormat::Png);
        let hello_png = encode_image(qr_image("hello, world"), image::ImageFormat::Png);
        let mut noise_rng = XorShift(42);
        let noise =
            image::DynamicImage::ImageLuma8(image::ImageBuffer::from_fn(400, 300, |_, _| {
                image::Luma([noise_rng.byte()])
            }));
        let noise_png = encode_image(noise, image::ImageFormat::Png);
        let gradient =
            image::DynamicImage::ImageRgb8(image::ImageBuffer::from_fn(640, 480, |x, y| {
                image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
            }));
        let gradient_png = encode_image(gradient.clone(), image::ImageFormat::Png);
        let gradient_jpeg = encode_image(gradient, image::ImageFormat::Jpeg);
        let bad = |data: &[u8]| multipart(&[image_part(data)]);
        c.add(
            cat,
            "real QR code PNG (zhejiang)",
            bad(&qr_png),
            Expect::Valid,
        );
        c.add(
            cat,
            "real QR code PNG (anhui, SM2)",
            bad(&qr_png_sm2),
            Expect::Valid,
        );
        c.add(
            cat,
            "real QR code JPEG",
            multipart(&[Part {
                name: "image",
                filename: Some("a.jpg"),
                content_type: Some("image/jpeg"),
                data: &qr_jpeg,
            }]),
            Expect::Valid,
        );
        c.add(
            cat,
            "real QR code, no filename or type",
            multipart(&[Part {
                name: "image",
                filename: None,
                content_type: None,
                data: &qr_png,
            }]),
            Expect::Valid,
        );
        c.add(
            cat,
            "real QR code after other fields",
            multipart(&[
                Part {
                    name: "note",
                    filename: None,
                    content_type: None,
                    data: b"hello",
                },
                Part {
                    name: "img",
                    filename: Some("x.png"),
                    content_type: Some("image/png"),
                    data: &noise_png,
                },
                image_part(&qr_png),
            ]),
            Expect::Valid,
        );
        c.add(
            cat,
            "QR code of a tampered HR1 text",
            bad(&tampered_png),
            Expect::Report,
        );
        c.reason("bad_signature");
        c.add(
            cat,
            "QR code of \"hello, world\"",
            bad(&hello_png),
            Expect::Report,
        );
        c.reason("malformed");
        c.add(
            cat,
            "PNG of noise, no QR code",
            bad(&noise_png),
            Expect::Problem(400, "no_qr_code"),
        );
        c.add(
            cat,
            "PNG gradient, no QR code",
            bad(&gradient_png),
            Expect::Problem(400, "no_qr_code"),
        );
        c.add(
            cat,
            "JPEG gradient, no QR code",
            bad(&gradient_jpeg),
            Expect::Problem(400, "no_qr_code"),
        );
        c.add(
            cat,
            "text as image",
            bad(real.valid_qr[0].as_bytes()),
            Expect::Problem(400, "unreadable_image"),
        );
        c.add(
            cat,
            "empty image",
            bad(b""),
            Expect::Problem(400, "unreadable_image"),
        );
        c.add(
            cat,
            "PNG signature then garbage",
            bad(&[b"\x89PNG\r\n\x1a\n".as_slice(), &XorShift(7).bytes(5000)].concat()),
            Expect::Problem(400, "unreadable_image"),
        );
        c.add(
            cat,
            "JPEG SOI then garbage",
            bad(&[b"\xff\xd8\xff\xe0".as_slice(), &XorShift(8).bytes(5000)].concat()),
            Expect::Problem(400, "unreadable_image"),
        );
        c.add(
            cat,
            "GIF (format not enabled)",
            bad(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
            Expect::Problem(400, "unreadable_image"),
        );
        c.add(
            cat,
            "PNG bomb 100000x100000",
            bad(&png_claiming(100_000, 100_000, 8, 0)),
            Expect::Problem(400, "unreadable_image"),
        );
        c.add(
            cat,
            "PNG bomb 2^31-1 square RGBA16",
            bad(&png_claiming(0x7FFF_FFFF, 0x7FFF_FFFF, 16, 6)),
            Expect::Problem(400, "unreadable_image"),
        );
        c.add(
            cat,
            "PNG 6001x1 (side limit)",
            bad(&png_claiming(6001, 1, 8, 0)),
            Expect::Problem(400, "unreadable_image"),
        );
        c.add(
            cat,
            "PNG 6000x6000 RGBA16 (alloc limit), truncated data",
            bad(&png_claiming(6000, 6000, 16, 6)),
            Expect::Problem(400, "unreadable_image"),
        );
        c.add(
            cat,
            "PNG 0x0",
            bad(&png_claiming(0, 0, 8, 0)),
            Expect::Problem(400, "unreadable_image"),
        );
        c.add(
            cat,
            "PNG IHDR with bad CRC",
            {
                let mut png = png_claiming(100, 100, 8, 0);
                png[29] ^= 0xff;
                bad(&png)
            },
            Expect::Problem(400, "unreadable_image"),
        );
        c.add(
            cat,
            "JPEG SOF 65500x65500",
            bad(&jpeg_claiming(65_500)),
            Expect::Problem(400, "unreadable_image"),
        );
        c.add(
            cat,
            "truncated real QR PNG",
            bad(&qr_png[..qr_png.len() / 2]),
            Expect::Problem(400, "unreadable_image"),
        );
        c.lazy(
            cat,
            "blank 6000x6000 PNG (largest allowed)",
            || {
                let blank = image::DynamicImage::ImageLuma8(image::ImageBuffer::from_pixel(
                    6000,
                    6000,
                    image::Luma([255u8]),
                ));
                multipart(&[image_part(&encode_image(blank, image::ImageFormat::Png))])
            },
            // No QR code in it; on a loaded machine the decode budget may run out first
            // (422 image_too_complex) or the slot be busy (429): a 4xx problem either way.
            Expect::NotValid,
        );
        c.lazy(
            cat,
            "noise 1000x1000 PNG",
            || {
                let mut r = XorShift(99);
                let noise = image::DynamicImage::ImageLuma8(image::ImageBuffer::from_fn(
                    1000,
                    1000,
                    |_, _| image::Luma([if r.next() & 1 == 0 { 0 } else { 255 }]),
                ));
                multipart(&[image_part(&encode_image(noise, image::ImageFormat::Png))])
            },
            Expect::Problem(400, "no_qr_code"),
        );
        c.add(
            cat,
            "no image field",
            multipart(&[Part {
                name: "photo",
                filename: Some("a.png"),
                content_type: Some("image/png"),
                data: &qr_png,
            }]),
            Expect::Problem(400, "missing_image"),
        );
        c.add(
            cat,
            "no fields at all",
            post(
                Some(&format!("multipart/form-data; boundary={BOUNDARY}")),
                format!("--{BOUNDARY}--\r\n").as_bytes(),
            ),
            Expect::Problem(400, "missing_image"),
        );
        c.add(
            cat,
            "empty multipart body",
            post(
                Some(&format!("multipart/form-data; boundary={BOUNDARY}")),
                b"",
            ),
            Expect::NotValid,
        );
        c.add(
            cat,
            "unterminated multipart",
            {
                let mut body = multipart_body(&[image_part(&qr_png)]);
                body.truncate(body.len() - BOUNDARY.len() - 8);
                post(
                    Some(&format!("multipart/form-data; boundary={BOUNDARY}")),
                    &body,
                )
            },
            Expect::NotValid,
        );
        c.add(
            cat,
            "wrong boundary",
            post(
                Some("multipart/form-data; boundary=other"),
                &multipart_body(&[image_part(&qr_png)]),
            ),
            Expect::NotValid,
        );
        c.add(
            cat,
            "part without headers",
            post(
                Some(&format!("multipart/form-data; boundary={BOUNDARY}")),
                format!("--{BOUNDARY}\r\n\r\nxyz\r\n--{BOUNDARY}--\r\n").as_bytes(),
            ),
            Expect::NotValid,
        );
        c.add(
            cat,
            "garbage multipart",
            post(
                Some(&format!("multipart/form-data; boundary={BOUNDARY}")),
                &XorShift(5).bytes(20_000),
            ),
            Expect::NotValid,
        );
        c.add(
            cat,
            "10,000 empty fields",
            {
                let parts: Vec<Part<'_>> = (0..10_000)
                    .map(|_| Part {
                        name: "x",
                        filename: None,
                        content_type: None,
                        data: b"",
                    })
                    .collect();
                multipart(&parts)
            },
            Expect::Problem(400, "missing_image"),
        );
        c.add(
            cat,
            "two image fields (first is garbage)",
            multipart(&[image_part(b"garbage"), image_part(&qr_png)]),
            Expect::Problem(400, "unreadable_image"),
        );
        c.add(
            cat,
            "64 KiB field name",
            multipart(&[Part {
                name: &"n".repeat(65_536),
                filename: None,
                content_type: None,
                data: b"x",
            }]),
            Expect::NotValid,
        );
        for n in 0..20 {
            let mut png = qr_png.clone();
            let mut r = XorShift(1000 + n);
            for _ in 0..(1 + n) {
                let at = 8 + r.below(png.len() - 8);
                png[at] ^= 1 << r.below(8);
            }
            c.add(
                cat,
                format!("real QR PNG with {} flipped bits", 1 + n),
                bad(&png),
                Expect::NotValid,
            );
        }
    }

    // --- huge headers --------------------------------------------------------------------------
    {
        let cat = "huge_headers";
        let token = real.valid[0].as_bytes();
        let big = vec![b'c'; 64 * 1024];
        c.add(
            cat,
            "64 KiB X-Client-Id",
            request(
                "POST",
                "/v1/verify",
                &[("Content-Type", b"text/plain"), ("X-Client-Id", &big)],
                token,
            ),
            Expect::Valid,
        );
        c.add(
            cat,
            "64 KiB non-ASCII X-Client-Id",
            request(
                "POST",
                "/v1/verify",
                &[
                    ("Content-Type", b"text/plain"),
                    ("X-Client-Id", &vec![0xE4u8; 64 * 1024]),
                ],
                token,
            ),
            Expect::Valid,
        );
        c.add(
            cat,
            "X-Client-Id of multibyte UTF-8",
            request(
                "POST",
                "/v1/verify",
                &[
                    ("Content-Type", b"text/plain"),
                    ("X-Client-Id", "浙江".repeat(1000).as_bytes()),
                ],
                token,
            ),
            Expect::Valid,
        );
        let many: Vec<(String, Vec<u8>)> = (0..90)
            .map(|k| (format!("X-Filler-{k}"), vec![b'f'; 512]))
            .collect();
        let many_refs: Vec<(&str, &[u8])> = many
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        c.add(
            cat,
            "90 headers of 512 bytes",
            request("POST", "/v1/verify", &many_refs, token),
            Expect::Valid,
        );
        let too_many: Vec<(String, Vec<u8>)> = (0..500)
            .map(|k| (format!("X-Filler-{k}"), b"f".to_vec()))
            .collect();
        let too_many_refs: Vec<(&str, &[u8])> = too_many
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        c.add(
            cat,
            "500 headers",
            request("POST", "/v1/verify", &too_many_refs, token),
            Expect::Protocol,
        );
        c.add(
            cat,
            "1 MiB header",
            request(
                "POST",
                "/v1/verify",
                &[("X-Client-Id", &vec![b'c'; 1 << 20])],
                token,
            ),
            Expect::Protocol,
        );
        c.add(
            cat,
            "64 KiB URI",
            request(
                "POST",
                &format!("/v1/verify?{}", "a=b&".repeat(16 * 1024)),
                &[("Content-Type", b"text/plain")],
                token,
            ),
            Expect::Protocol,
        );
        c.add(
            cat,
            "8 KiB query",
            request(
                "POST",
                &format!("/v1/verify?{}", "a=b&".repeat(2 * 1024)),
                &[("Content-Type", b"text/plain")],
                token,
            ),
            Expect::Valid,
        );
    }

    // --- HR1 oddities ---------------------------------------------------------------------------
    {
        let cat = "hr1_odd";
        let text = &real.valid_qr[0];
        for (name, s) in [
            ("HR1: alone".to_owned(), "HR1:".to_owned()),
            ("odd digits 123".into(), "HR1:123".into()),
            ("non-digit".into(), "HR1:12a4".into()),
            ("pair 99".into(), "HR1:99".into()),
            (
                "real minus last digit".into(),
                text[..text.len() - 1].to_owned(),
            ),
            ("real plus one digit".into(), format!("{text}5")),
            (
                "real with a letter inside".into(),
                format!("{}x{}", &text[..100], &text[101..]),
            ),
            (
                "real with a NUL".into(),
                format!("{}\u{0}{}", &text[..100], &text[100..]),
            ),
            (
                "real with U+00A0".into(),
                format!("{}\u{a0}{}", &text[..100], &text[100..]),
            ),
            (
                "real with U+3000".into(),
                format!("{}\u{3000}{}", &text[..100], &text[100..]),
            ),
            ("double prefix".into(), format!("HR1:{text}")),
            ("HR2 prefix".into(), format!("HR2:{}", &text[4..])),
            ("prefix without colon".into(), format!("HR1{}", &text[4..])),
            ("digits only".into(), text[4..].to_owned()),
            ("fullwidth colon".into(), format!("HR1：{}", &text[4..])),
            (
                "131,072 digits".into(),
                format!("HR1:{}", "56".repeat(65_536)),
            ),
            (
                "1,000,000 digits".into(),
                format!("HR1:{}", "0".repeat(1_000_000)),
            ),
            (
                "token as HR1 pairs of 77".into(),
                format!("HR1:{}", "77".repeat(2000)),
            ),
            ("negative-looking".into(), "HR1:-1".into()),
            (
                "prefix in token position".into(),
                format!("{}HR1:", real.valid[0]),
            ),
        ] {
            c.add(
                cat,
                name,
                post(Some("text/plain"), s.as_bytes()),
                Expect::Report,
            );
            c.reason("malformed");
        }
        c.add(
            cat,
            "real with tabs and spaces",
            post(
                Some("text/plain"),
                format!(" \t{}\t{} \r\n", &text[..50], &text[50..]).as_bytes(),
            ),
            Expect::Valid,
        );
        c.add(
            cat,
            "hR1: mixed-case prefix",
            post(Some("text/plain"), format!("hR1:{}", &text[4..]).as_bytes()),
            Expect::Valid,
        );
    }

    // --- hostile JWS headers ----------------------------------------------------------------------
    {
        let cat = "jws_header";
        let x5t = zj.x5t();
        let real_token = &real.valid[0];
        let mut parts = real_token.split('.');
        let (_, real_payload_b64, real_sig_b64) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let with = |header: String, sig: &[u8]| {
            format!(
                "{}.{}.{}",
                b64::encode_url(header.as_bytes()),
                real_payload_b64,
                b64::encode_url(sig)
            )
        };
        let real_sig = b64::decode_url(real_sig_b64, 1 << 20).unwrap();
        let real_header = b64::decode_url(real_token.split('.').next().unwrap(), 1 << 20).unwrap();
        let real_zip = String::from_utf8(real_header)
            .unwrap()
            .contains(r#""zip":"DEF""#);
        for (name, token, reason) in [
            (
                "alg none",
                with(
                    format!(r#"{{"alg":"none","typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
                    b"",
                ),
                "unsupported_algorithm",
            ),
            (
                "alg None",
                with(
                    format!(r#"{{"alg":"None","typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
                    b"",
                ),
                "unsupported_algorithm",
            ),
            (
                "alg empty",
                with(
                    format!(r#"{{"alg":"","typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
                    b"",
                ),
                "unsupported_algorithm",
            ),
            (
                "alg HS256",
                with(
                    format!(r#"{{"alg":"HS256","typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
                    &[1u8; 32],
                ),
                "unsupported_algorithm",
            ),
            (
                "alg ES384",
                with(
                    format!(r#"{{"alg":"ES384","typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
                    &real_sig,
                ),
                "unsupported_algorithm",
            ),
            (
                "alg es256 lowercase",
                with(
                    format!(r#"{{"alg":"es256","typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
                    &real_sig,
                ),
                "unsupported_algorithm",
            ),
            (
                "alg RS256 on an EC key",
                with(
                    format!(r#"{{"alg":"RS256","typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
                    &[1u8; 256],
                ),
                "unsupported_algorithm",
            ),
            (
                "alg PS256 on an EC key",
                with(
                    format!(r#"{{"alg":"PS256","typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
                    &[1u8; 256],
                ),
                "unsupported_algorithm",
            ),
            (
                "alg SM2SM3 on an EC key",
                with(
                    format!(r#"{{"alg":"SM2SM3","typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
                    &real_sig,
                ),
                "unsupported_algorithm",
            ),
            (
                "alg ES256 on the SM2 key",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{}"}}"#,
                        ah.x5t()
                    ),
                    &real_sig,
                ),
                "unsupported_algorithm",
            ),
            (
                "alg array",
                with(
                    format!(r#"{{"alg":["ES256"],"typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
                    &real_sig,
                ),
                "malformed",
            ),
            (
                "alg missing",
                with(
                    format!(r#"{{"typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
                    &real_sig,
                ),
                "malformed",
            ),
            (
                "crit",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}","crit":["exp"]}}"#
                    ),
                    &real_sig,
                ),
                "malformed",
            ),
            (
                "crit empty",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}","crit":[]}}"#
                    ),
                    &real_sig,
                ),
                "malformed",
            ),
            (
                "jku",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}","jku":"https://evil.example/jwks"}}"#
                    ),
                    &real_sig,
                ),
                "malformed",
            ),
            (
                "jwk",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}","jwk":{{"kty":"EC"}}}}"#
                    ),
                    &real_sig,
                ),
                "malformed",
            ),
            (
                "x5u",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}","x5u":"https://evil.example/c"}}"#
                    ),
                    &real_sig,
                ),
                "malformed",
            ),
            (
                "jku null",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}","jku":null}}"#
                    ),
                    &real_sig,
                ),
                "bad_signature",
            ),
            (
                "duplicate alg",
                with(
                    format!(
                        r#"{{"alg":"ES256","alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}"}}"#
                    ),
                    &real_sig,
                ),
                "malformed",
            ),
            (
                "unknown parameter",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}","b64":false}}"#
                    ),
                    &real_sig,
                ),
                "malformed",
            ),
            (
                "typ JWT",
                with(
                    format!(r#"{{"alg":"ES256","typ":"JWT","x5t#S256":"{x5t}"}}"#),
                    &real_sig,
                ),
                "malformed",
            ),
            (
                "typ missing",
                with(
                    format!(r#"{{"alg":"ES256","x5t#S256":"{x5t}"}}"#),
                    &real_sig,
                ),
                "malformed",
            ),
            (
                "x5t missing",
                with(
                    r#"{"alg":"ES256","typ":"licence+jwt"}"#.to_owned(),
                    &real_sig,
                ),
                "malformed",
            ),
            (
                "x5t short",
                with(
                    r#"{"alg":"ES256","typ":"licence+jwt","x5t#S256":"AAAA"}"#.to_owned(),
                    &real_sig,
                ),
                "malformed",
            ),
            (
                "x5t unknown",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{}"}}"#,
                        b64::encode_url(&[0u8; 32])
                    ),
                    &real_sig,
                ),
                "unknown_signer",
            ),
            (
                "x5t of the outsider",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{}"}}"#,
                        pki.outsider.x5t()
                    ),
                    &real_sig,
                ),
                "unknown_signer",
            ),
            (
                "x5t number",
                with(
                    r#"{"alg":"ES256","typ":"licence+jwt","x5t#S256":5}"#.to_owned(),
                    &real_sig,
                ),
                "malformed",
            ),
            (
                "x5c garbage",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}","x5c":["!!"]}}"#
                    ),
                    &real_sig,
                ),
                "malformed",
            ),
            (
                "zip GZIP",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}","zip":"GZIP"}}"#
                    ),
                    &real_sig,
                ),
                "malformed",
            ),
            (
                "zip DEF toggled",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}"{}}}"#,
                        if real_zip { "" } else { r#","zip":"DEF""# }
                    ),
                    &real_sig,
                ),
                "bad_signature",
            ),
            (
                "kid 20 KiB",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}","kid":"{}"}}"#,
                        "k".repeat(20_000)
                    ),
                    &real_sig,
                ),
                "bad_signature",
            ),
            (
                "header over 32 KiB",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}","kid":"{}"}}"#,
                        "k".repeat(40_000)
                    ),
                    &real_sig,
                ),
                "malformed",
            ),
            (
                "header array",
                with("[]".to_owned(), &real_sig),
                "malformed",
            ),
            (
                "header not JSON",
                with("\u{0}\u{1}".to_owned(), &real_sig),
                "malformed",
            ),
            (
                "header deep JSON",
                with(
                    format!("{}{}", "[".repeat(20_000), "]".repeat(20_000)),
                    &real_sig,
                ),
                "malformed",
            ),
            (
                "header with escaped alg",
                with(
                    format!(r#"{{"\u0061lg":"none","typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
                    b"",
                ),
                "unsupported_algorithm",
            ),
            (
                "real header, signature empty",
                format!(
                    "{}.{real_payload_b64}.",
                    real_token.split('.').next().unwrap()
                ),
                "bad_signature",
            ),
            (
                "real header, signature zeros",
                format!(
                    "{}.{real_payload_b64}.{}",
                    real_token.split('.').next().unwrap(),
                    b64::encode_url(&[0u8; 64])
                ),
                "bad_signature",
            ),
            (
                "real header, signature 2048 bytes",
                format!(
                    "{}.{real_payload_b64}.{}",
                    real_token.split('.').next().unwrap(),
                    b64::encode_url(&[1u8; 2048])
                ),
                "malformed",
            ),
            (
                "real header, payload re-encoded with padding",
                format!(
                    "{}.{real_payload_b64}=.{real_sig_b64}",
                    real_token.split('.').next().unwrap()
                ),
                "malformed",
            ),
            (
                "two parts",
                format!(
                    "{}.{real_payload_b64}",
                    real_token.split('.').next().unwrap()
                ),
                "malformed",
            ),
            (
                "four parts",
                format!("{real_token}.{real_sig_b64}"),
                "malformed",
            ),
            ("empty parts", "..".to_owned(), "malformed"),
            (
                "JWS JSON serialization",
                serde_json::json!({"payload": real_payload_b64, "signatures": []}).to_string(),
                "malformed",
            ),
        ] {
            c.add(
                cat,
                name,
                post(Some("text/plain"), token.as_bytes()),
                Expect::Report,
            );
            c.reason(reason);
        }
    }

    // --- malformed HTTP --------------------------------------------------------------------------
    {
        let cat = "malformed_http";
        let token = real.valid[0].as_bytes();
        c.add(
            cat,
            "garbage request line",
            b"GARBAGE\r\n\r\n".to_vec(),
            Expect::Protocol,
        );
        c.add(
            cat,
            "binary request",
            XorShift(77).bytes(4000),
            Expect::Protocol,
        );
        c.add(
            cat,
            "bad method token",
            b"P@ST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".to_vec(),
            Expect::Protocol,
        );
        c.add(
            cat,
            "Content-Length not a number",
            b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n".to_vec(),
            Expect::Protocol,
        );
        c.add(
            cat,
            "negative Content-Length",
            b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".to_vec(),
            Expect::Protocol,
        );
        c.add(cat, "two different Content-Lengths", b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd".to_vec(), Expect::Protocol);
        c.add(
            cat,
            "header without colon",
            b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nNoColonHere\r\nContent-Length: 0\r\n\r\n"
                .to_vec(),
            Expect::Protocol,
        );
        c.add(cat, "NUL in a header value", b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nX-Client-Id: a\x00b\r\nContent-Length: 0\r\n\r\n".to_vec(), Expect::Protocol);
        c.add(
            cat,
            "HTTP/9.9",
            b"POST /v1/verify HTTP/9.9\r\nHost: x\r\nContent-Length: 0\r\n\r\n".to_vec(),
            Expect::Protocol,
        );
        c.add(cat, "bad chunk size", b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n".to_vec(), Expect::ClientBroke);
        c.add(cat, "chunked and Content-Length", {
            let mut r = b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n".to_vec();
            r.extend_from_slice(format!("{:x}\r\n", token.len()).as_bytes());
            r.extend_from_slice(token);
            r.extend_from_slice(b"\r\n0\r\n\r\n");
            r
        }, Expect::Valid); // hyper gives Transfer-Encoding precedence (RFC 9112 §6.3) and closes.
        c.add(
            cat,
            "GET /v1/verify",
            request("GET", "/v1/verify", &[], b""),
            Expect::Protocol,
        );
        c.add(
            cat,
            "PUT /v1/verify",
            request(
                "PUT",
                "/v1/verify",
                &[("Content-Type", b"text/plain")],
                token,
            ),
            Expect::Protocol,
        );
        c.add(
            cat,
            "POST /v1/verify/",
            request(
                "POST",
                "/v1/verify/",
                &[("Content-Type", b"text/plain")],
                token,
            ),
            Expect::Protocol,
        );
        c.add(
            cat,
            "fresh=maybe",
            request(
                "POST",
                "/v1/verify?fresh=maybe",
                &[("Content-Type", b"text/plain")],
                token,
            ),
            Expect::Problem(400, "bad_query"),
        );
        c.add(
            cat,
            "fresh=true (offline)",
            request(
                "POST",
                "/v1/verify?fresh=true",
                &[("Content-Type", b"text/plain")],
                token,
            ),
            Expect::Valid,
        );
        c.add(
            cat,
            "unknown query parameter",
            request(
                "POST",
                "/v1/verify?x=%ff%fe",
                &[("Content-Type", b"text/plain")],
                token,
            ),
            Expect::Valid,
        );
        c.add(
            cat,
            "HTTP/1.0 without Host",
            [
                b"POST /v1/verify HTTP/1.0\r\nContent-Type: text/plain\r\nContent-Length: "
                    .as_slice(),
                token.len().to_string().as_bytes(),
                b"\r\n\r\n",
                token,
            ]
            .concat(),
            Expect::Valid,
        );
        c.add(cat, "bare LF line ends", [b"POST /v1/verify HTTP/1.1\nHost: x\nConnection: close\nContent-Type: text/plain\nContent-Length: ".as_slice(), token.len().to_string().as_bytes(), b"\n\n", token].concat(), Expect::Valid);
        c.add(
            cat,
            "Expect: 100-continue",
            request(
                "POST",
                "/v1/verify",
                &[("Content-Type", b"text/plain"), ("Expect", b"100-continue")],
                token,
            ),
            Expect::Valid,
        );
        c.add(
            cat,
            "Content-Length shorter than body",
            {
                let mut r = request(
                    "POST",
                    "/v1/verify",
                    &[("Content-Type", b"text/plain")],
                    &token[..10],
                );
                r.extend_from_slice(&token[10..]);
                r
            },
            Expect::Report,
        );
    }
    c
}

// ---------------------------------------------------------------------------------------------
// Checking answers.

fn check(case: &Case, response: &Response, latency: Duration) -> Result<Option<String>, String> {
    let status = response.status;
    if status >= 500 {
        return Err(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&response.body)
        ));
    }
    if case.bomb && latency > BOMB_BOUND {
        return Err(format!("bomb refused only after {latency:?}"));
    }
    let ct = response.header("content-type").unwrap_or("");
    let outcome = if status == 200 {
        if !ct.starts_with("application/json") {
            return Err(format!("200 with content type {ct:?}"));
        }
        let report: serde_json::Value = serde_json::from_slice(&response.body)
            .map_err(|e| format!("200 body is not JSON: {e}"))?;
        let verdict = report["verdict"].as_str().ok_or("report without verdict")?;
        let reasons: Vec<&str> = report["reasons"]
            .as_array()
            .ok_or("report without reasons")?
            .iter()
            .map(|r| r.as_str().unwrap_or("?"))
            .collect();
        match verdict {
            "valid" if !reasons.is_empty() => {
                return Err(format!("valid with reasons {reasons:?}"))
            }
            "invalid" | "indeterminate" if reasons.is_empty() => {
                return Err(format!("{verdict} without reasons"))
            }
            "valid" | "invalid" => {}
            "indeterminate" => {
                if !reasons
                    .iter()
                    .all(|r| matches!(*r, "status_unknown" | "trust_list_stale"))
                {
                    return Err(format!("indeterminate with definitive reasons {reasons:?}"));
                }
            }
            other => return Err(format!("verdict {other:?}")),
        }
        if report["checks"].as_array().map(Vec::len) != Some(11) {
            return Err("report does not list the 11 checks".into());
        }
        if verdict == "valid" && case.expect != Expect::Valid {
            return Err(format!(
                "VALID for a non-licence (expected {:?})",
                case.expect
            ));
        }
        if verdict == "valid" && report["licence"]["jti"].as_str().is_none() {
            return Err("valid without the licence".into());
        }
        if case.bomb {
            let claims = report["checks"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["check"] == "claims"))
                .ok_or("no claims check")?;
            if claims["ok"] == true {
                return Err("the bomb's claims were parsed".into());
            }
        }
        if let Some(reason) = case.reason {
            if !reasons.contains(&reason) {
                return Err(format!("expected reason {reason}, got {reasons:?}"));
            }
        }
        format!("200 {verdict}")
    } else if (400..500).contains(&status) {
        let problem = if case.expect == Expect::Protocol || case.expect == Expect::ClientBroke {
            None
        } else {
            if ct != "application/problem+json" {
                return Err(format!(
                    "HTTP {status} with content type {ct:?}, not problem JSON: {:?}",
                    String::from_utf8_lossy(&response.body[..response.body.len().min(200)])
                ));
            }
            let problem: serde_json::Value = serde_json::from_slice(&response.body)
                .map_err(|e| format!("problem body is not JSON: {e}"))?;
            let code = problem["code"]
                .as_str()
                .ok_or("problem without code")?
                .to_owned();
            if problem["status"] != status {
                return Err(format!(
                    "problem status {} on HTTP {status}",
                    problem["status"]
                ));
            }
            if status == 429 && response.header("retry-after").is_none() {
                return Err("429 without Retry-After".into());
            }
            Some(code)
        };
        match &problem {
            Some(code) => format!("{status} {code}"),
            None => format!("{status} (protocol)"),
        }
    } else {
        return Err(format!("unexpected HTTP {status}"));
    };
    let ok = match case.expect {
        Expect::Valid => outcome == "200 valid",
        Expect::Report => outcome == "200 invalid" || outcome == "200 indeterminate",
        Expect::Problem(s, code) => outcome == format!("{s} {code}"),
        Expect::NotValid => outcome != "200 valid",
        Expect::Protocol | Expect::ClientBroke => (400..500).contains(&status),
    };
    if ok {
        Ok(Some(outcome))
    } else {
        Err(format!("expected {:?}, got {outcome}", case.expect))
    }
}

fn vm_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn get(addr: SocketAddr, path: &str) -> Response {
    exchange(addr, request("GET", path, &[], b"")).unwrap()
}

#[derive(Default)]
struct Tally {
    sent: usize,
    valid: usize,
    invalid: usize,
    indeterminate: usize,
    problems: BTreeMap<String, usize>,
    failed: usize,
    max_latency: Duration,
}

struct Setup {
    pki: Pki,
    verifier: Arc<Verifier>,
    real: Real,
    runtime: tokio::runtime::Runtime,
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// The PKI, real licences, and the server on a real socket with a fixed clock, no rate limit.
fn setup() -> Setup {
    let pki = make_pki();
    let verifier = Verifier::open_with(
        VerifierConfig {
            trust_source: TrustSource::File(pki.trust_path.clone()),
            operator_certs: vec![pki.operator_cert.clone()],
            cache_dir: Some(pki.cache_dir.clone()),
            online: false,
            options: Default::default(),
        },
        Arc::new(NoNetwork),
        NOW,
    )
    .unwrap();
    let verifier = Arc::new(verifier);

    // Real licences: with a status reference (Zhejiang ES256, Anhui SM2), without one, and a
    // compressible one (so a real token with zip DEF is mutated too).
    let zj = &pki.zhejiang;
    let ah = &pki.anhui;
    let mut big_face = default_face();
    for k in 0..40 {
        big_face.insert(
            format!("附注{k:02}"),
            "本证书在有效期内全国通用，请妥善保管。".to_owned(),
        );
    }
    let valid = vec![
        zj.sign(&zj.claims(
            "2026000001",
            licence_json("2026-11-20", "2031-11-19", default_face()),
            Some(IDX),
        )),
        zj.sign(&zj.claims(
            "2026000002",
            licence_json("2026-11-20", "2031-11-19", big_face),
            None,
        )),
        ah.sign(&ah.claims(
            "2026000003",
            licence_json("2026-11-20", "2031-11-19", default_face()),
            Some(IDX),
        )),
    ];
    assert!(
        valid[1]
            .split('.')
            .next()
            .is_some_and(|h| String::from_utf8(b64::decode_url(h, 4096).unwrap())
                .unwrap()
                .contains("DEF")),
        "the compressible licence should be signed with zip DEF"
    );
    for token in &valid {
        let report = verifier.verify(token, NOW);
        assert_eq!(
            report.verdict,
            huren_verifier::Verdict::Valid,
            "{report:#?}"
        );
    }
    let valid_qr: Vec<String> = valid.iter().map(|t| qr::encode(t).unwrap()).collect();
    let real = Real { valid, valid_qr };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut state = huren_verifier::server::state(verifier.clone(), 0);
    state.now = Arc::new(|| NOW);
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(
        huren_verifier::server::App::with_state(state, Duration::from_secs(3600), listener)
            .run_until(async move {
                let _ = stopped.await;
            }),
    );
    Setup {
        pki,
        verifier,
        real,
        runtime,
        addr,
        stop,
        server,
    }
}

#[test]
#[allow(clippy::too_many_lines)]
fn verifier_survives_hostile_input() {
    let started = Instant::now();
    let Setup {
        pki,
        verifier,
        real,
        runtime,
        addr,
        stop,
        server,
    } = setup();
    let corpus = build_corpus(&pki, &real);
    let setup_time = started.elapsed();
    // Warm up (first request, first image decode) before the memory baseline.
    assert_eq!(get(addr, "/healthz").status, 200);
    let warm = exchange(addr, post(Some("text/plain"), real.valid[0].as_bytes())).unwrap();
    assert_eq!(warm.status, 200);
    let rss_before = vm_kb("VmRSS:");
    let mut rss_after_pass = Vec::new();

    let mut tallies: BTreeMap<&'static str, Tally> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut slowest = (Duration::ZERO, String::new());
    let mut slow = Vec::new();
    let mut valid_answers = 0u64;
    let mut answers_200 = 0u64;
    let corpus_started = Instant::now();
    // Twice: the first pass shows the allocator's high-water mark, the second whether anything
    // is retained per request (it must not grow again).
    for pass in 0..2 {
        for case in &corpus.0 {
            let category = if pass == 0 {
                case.category
            } else {
                "(second pass)"
            };
            let bytes = case.req.build();
            let sent_at = Instant::now();
            let mut result = exchange(addr, bytes);
            let mut latency = sent_at.elapsed();
            // The photo decoder has one slot, and a crafted image refused as too complex keeps
            // it until its decode really ends. A case that expects the decoder's own answer
            // follows `Retry-After` as a real client would, a bounded number of times; the
            // answer it finally gets is held to the same expectation.
            let mut busy_retries = 0;
            while let Some(wait) = result.as_ref().ok().and_then(decoder_busy_wait) {
                if busy_retries == DECODER_BUSY_RETRIES {
                    break;
                }
                busy_retries += 1;
                std::thread::sleep(wait);
                let resent_at = Instant::now();
                result = exchange(addr, case.req.build());
                latency = resent_at.elapsed();
            }
            let tally = tallies.entry(category).or_default();
            tally.sent += 1;
            tally.max_latency = tally.max_latency.max(latency);
            if latency > Duration::from_millis(500) {
                slow.push(format!("{latency:.2?} {}: {}", case.category, case.name));
            }
            if latency > slowest.0 {
                slowest = (latency, format!("{}: {}", case.category, case.name));
            }
            let verdict = match result {
                Err(e) if case.expect == Expect::ClientBroke => Ok(Some(format!("closed ({e})"))),
                Err(e) => Err(format!("no answer: {e}")),
                Ok(response) => {
                    // What the server counts, whatever this test thinks of the answer.
                    if response.status == 200 {
                        answers_200 += 1;
                        if response.body.starts_with(br#"{"verdict":"valid""#) {
                            valid_answers += 1;
                        }
                    }
                    check(case, &response, latency)
                }
            };
            match verdict {
                Ok(Some(outcome)) => match outcome.as_str() {
                    "200 valid" => tally.valid += 1,
                    "200 invalid" => tally.invalid += 1,
                    "200 indeterminate" => tally.indeterminate += 1,
                    other => *tally.problems.entry(other.to_owned()).or_default() += 1,
                },
                Ok(None) => {}
                Err(e) => {
                    tally.failed += 1;
                    failures.push(format!("[{}] {}: {e}", case.category, case.name));
                }
            }
        }
        rss_after_pass.push(vm_kb("VmRSS:"));
    }
    let corpus_time = corpus_started.elapsed();

    // Rate limiting on a second listener sharing the verifier: 1 per second, burst 2.
    let limited = huren_verifier::server::state(verifier.clone(), 1);
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let limited_addr = listener.local_addr().unwrap();
    let limited_server = runtime.spawn(
        huren_verifier::server::App::with_state(limited, Duration::from_secs(3600), listener)
            .run_until(std::future::pending()),
    );
    let mut rate_statuses = Vec::new();
    let rate_case = Case {
        category: "rate_limit",
        name: "burst".into(),
        req: Req::Bytes(Vec::new()),
        expect: Expect::NotValid,
        reason: None,
        bomb: false,
    };
    for _ in 0..8 {
        let response = exchange(limited_addr, post(Some("text/plain"), b"HR1:12")).unwrap();
        if let Err(e) = check(&rate_case, &response, Duration::ZERO) {
            failures.push(format!("[rate_limit] {e}"));
        }
        rate_statuses.push(response.status);
    }
    let limited_count = rate_statuses.iter().filter(|s| **s == 429).count();
    if limited_count < 4 {
        failures.push(format!("[rate_limit] expected most of 8 rapid requests refused with 429, got {rate_statuses:?}"));
    }
    limited_server.abort();

    // Still alive, and still right.
    let health = get(addr, "/healthz");
    assert_eq!(health.status, 200, "healthz after the corpus");
    assert_eq!(health.body, b"ok");
    assert_eq!(get(addr, "/readyz").status, 200);
    let after = exchange(
        addr,
        post(
            Some("application/json"),
            &json_body("qr", &real.valid_qr[2]),
        ),
    )
    .unwrap();
    assert_eq!(after.status, 200);
    let after: serde_json::Value = serde_json::from_slice(&after.body).unwrap();
    assert_eq!(after["verdict"], "valid", "a real licence after the corpus");
    let metrics = String::from_utf8(get(addr, "/metrics").body).unwrap();
    let metric = |name: &str| -> u64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
            .unwrap_or(0)
    };
    // +2: the warm-up and the check just made.
    let valid_total = metric("huren_verifications_valid_total ");
    let verified = valid_total
        + metric("huren_verifications_invalid_total ")
        + metric("huren_verifications_indeterminate_total ");
    if valid_total != valid_answers + 2 || verified != answers_200 + 2 {
        failures.push(format!(
            "[metrics] {valid_total} valid / {verified} verified counted, {} / {} answered",
            valid_answers + 2,
            answers_200 + 2
        ));
    }

    // Memory.
    let rss_after = vm_kb("VmRSS:");
    let hwm = vm_kb("VmHWM:");

    let _ = stop.send(());
    runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(10), server).await })
        .ok();
    runtime.shutdown_timeout(Duration::from_secs(1));

    println!(
        "\n{:<18} {:>5} {:>6} {:>8} {:>6} {:>7} {:>9}  problems",
        "category", "sent", "valid", "invalid", "indet", "failed", "max ms"
    );
    let mut total = 0;
    for (category, t) in &tallies {
        total += t.sent;
        println!(
            "{category:<18} {:>5} {:>6} {:>8} {:>6} {:>7} {:>9}  {:?}",
            t.sent,
            t.valid,
            t.invalid,
            t.indeterminate,
            t.failed,
            t.max_latency.as_millis(),
            t.problems
        );
    }
    println!("rate_limit: 8 rapid requests at 1/s burst 2 -> {rate_statuses:?}");
    println!(
        "total {total} requests in {corpus_time:.1?} (setup {setup_time:.1?}); slowest {:?} ({})",
        slowest.0, slowest.1
    );
    println!(
        "VmRSS before {} MB, after pass 1 {} MB, after pass 2 {} MB, at the end {} MB (growth {} MB, bound {} MB); VmHWM {} MB",
        rss_before / 1024,
        rss_after_pass[0] / 1024,
        rss_after_pass[1] / 1024,
        rss_after / 1024,
        rss_after.saturating_sub(rss_before) / 1024,
        RSS_GROWTH_BOUND_KB / 1024,
        hwm / 1024
    );
    for line in &slow {
        println!("slow {line}");
    }
    for failure in &failures {
        println!("FAIL {failure}");
    }
    assert!(total >= 1000, "corpus too small: {total}");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        rss_after.saturating_sub(rss_before) < RSS_GROWTH_BOUND_KB,
        "resident memory grew from {rss_before} kB to {rss_after} kB"
    );
    assert!(
        rss_after_pass[1].saturating_sub(rss_after_pass[0]) < RSS_REPEAT_GROWTH_BOUND_KB,
        "resident memory grew again on the second pass: {rss_after_pass:?} kB"
    );
}

/// Finder patterns (the 1:1:3:1:1 squares in a QR code's corners) tiled over an image with
/// `module`-pixel modules: every tile is a capstone candidate.
fn tiled_finder_patterns(side: u32, module: u32) -> Vec<u8> {
    let image = image::ImageBuffer::from_fn(side, side, |x, y| {
        let (cx, cy) = ((x / module) % 9, (y / module) % 9);
        let dark = cx < 7 && cy < 7 && {
            let d = cx.abs_diff(3).max(cy.abs_diff(3));
            d == 3 || d <= 1
        };
        image::Luma([if dark { 0u8 } else { 255 }])
    });
    encode_image(
        image::DynamicImage::ImageLuma8(image),
        image::ImageFormat::Png,
    )
}

/// QR detection time explodes on small crafted images: rqrr 0.10's `detect_grids` tries
/// capstone pairs and clones the prepared image for every candidate group, so a 240×240 PNG of
/// tiled finder patterns costs up to a minute of CPU, and that work cannot be interrupted. The
/// service bounds it instead: photos are decoded one at a time, every photo request is answered
/// within the decode budget (a 4xx when the photo is too complex or the slot is busy), and typed
/// or scanned input is never held up by a photo.
#[test]
fn qr_detection_cost_is_bounded() {
    let Setup {
        real,
        runtime,
        addr,
        stop: _stop,
        ..
    } = setup();
    let noise = {
        let mut r = XorShift(99);
        let noise = image::ImageBuffer::from_fn(2000, 2000, |_, _| {
            image::Luma([if r.next() & 1 == 0 { 0u8 } else { 255 }])
        });
        encode_image(
            image::DynamicImage::ImageLuma8(noise),
            image::ImageFormat::Png,
        )
    };
    let mut failures = Vec::new();
    for (name, png) in [
        (
            "tiled finder patterns 240x240",
            tiled_finder_patterns(240, 1),
        ),
        ("binary noise 2000x2000", noise),
    ] {
        let started = Instant::now();
        let answer = exchange(addr, multipart(&[image_part(&png)]));
        let took = started.elapsed();
        println!(
            "{name} ({} bytes): {:?} after {took:.1?}",
            png.len(),
            answer.as_ref().map(|r| r.status)
        );
        let status = answer.as_ref().map(|r| r.status).unwrap_or(0);
        if answer.is_err() || took > Duration::from_secs(8) || !(400..500).contains(&status) {
            failures.push(format!(
                "{name} ({} bytes): {status} after {took:.1?} (wanted a 4xx within 8 s)",
                png.len()
            ));
        }
    }
    // While a crafted photo still occupies the decoder, a scanned code is answered at once.
    let started = Instant::now();
    let answer = exchange(addr, post(Some("text/plain"), real.valid_qr[0].as_bytes()));
    let took = started.elapsed();
    println!(
        "scanned code meanwhile: {:?} after {took:.1?}",
        answer.as_ref().map(|r| r.status)
    );
    if !answer.as_ref().is_ok_and(|r| r.status == 200) || took > Duration::from_secs(2) {
        failures.push(format!("a scanned code waited {took:.1?} behind a photo"));
    }
    runtime.shutdown_background();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
