//! Sealed documents at the verification service (SPEC §7, §8) over real sockets: a Zhejiang
//! PKI (`pki init-region`) whose seal maker makes a seal for an organisation holding a
//! seal-holder certificate; the organisation seals a PDF-like document; the verification service
//! (`huren_verifier::server::App` on `127.0.0.1:0`) checks the document and its `.ses` at
//! `POST /v1/seals/verify`, or the `huren-verifier` library does.
//!
//! Zhejiang's "issuer" here is a small HTTP server on its `public_url` that the test controls:
//! it serves the seal's status list (signed with the province's status signer, as an issuer
//! would) at `/v1/status/seal-0` and the root's CRL at `/v1/crl`, and can be told to fail.
//! Everything runs on the system clock; nothing sleeps.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;

use common::fetch::{NoNetwork, PanickingFetcher};
use common::multipart::Part;
use common::pki;
use common::service::{http, open_window_on, reasons, Reply, Window};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use huren_crypto::alg::Algorithm;
use huren_crypto::b64;
use huren_crypto::cert::Certificate;
use huren_crypto::crl::RevocationReason;
use huren_crypto::ids::Uscc;
use huren_crypto::seal::{
    make_seal, sign_document, EsId, PictureType, SealPicture, SealSpec, SealStatusReference,
};
use huren_crypto::status_list::{StatusList, StatusListClaim, StatusValue};
use huren_crypto::status_token::StatusListClaims;
use huren_crypto::time::{Clock, UnixTime};
use huren_keys::crl::{issue_crl, CrlContents, CrlEntry};
use huren_keys::holder::{issue_holder, HolderRequest};
use huren_keys::layout::{self, InitRegion, OperatorDir, RegionDir};
use huren_keys::store::Protection;
use huren_keys::{PrivateKey, SystemClock};
use huren_verifier::server::{MAX_DOCUMENT_BYTES, MAX_SEAL_BODY_BYTES, MAX_SIGNATURE_BYTES};
use huren_verifier::{
    Fetcher, HttpFetcher, SealOutcome, TrustSource, Verdict, Verifier, VerifierConfig,
    VerifyOptions,
};
use rand_core::RngCore;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const ZHEJIANG: &str = "330000";
const ORGANISATION: &str = "杭州示例建设有限公司";
const SEAL_NAME: &str = "杭州示例建设有限公司合同专用章";
const USCC: &str = "91350100M000100Y43";
const STATUS_IDX: usize = 17;
const DAY: i64 = 86_400;

/// The verifier's fetch timeout: a failing issuer fails fast.
const FETCH_TIMEOUT: Duration = Duration::from_millis(500);

/// A contract, as far as a seal is concerned: bytes.
fn contract() -> Vec<u8> {
    let mut pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    pdf.extend_from_slice("建设工程施工合同 — 甲方：杭州示例建设有限公司\n".as_bytes());
    pdf.extend((0..4096u32).map(|i| (i % 251) as u8));
    pdf.extend_from_slice(b"\n%%EOF\n");
    pdf
}

/// A red seal ring, as a real PNG.
fn seal_png() -> Vec<u8> {
    let image = image::RgbaImage::from_fn(96, 96, |x, y| {
        let (dx, dy) = (x as f32 - 47.5, y as f32 - 47.5);
        let r = (dx * dx + dy * dy).sqrt();
        if (38.0..46.0).contains(&r) || r < 8.0 {
            image::Rgba([200, 20, 20, 255])
        } else {
            image::Rgba([0, 0, 0, 0])
        }
    });
    let mut png = Vec::new();
    image::DynamicImage::ImageRgba8(image)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
}

// ---------------------------------------------------------------------------------------------
// Zhejiang's issuer, as far as seals need one

/// What the test issuer serves.
#[derive(Default)]
struct Published {
    /// The seal status list token (`/v1/status/seal-0`).
    status: Option<String>,
    /// Answer 503 to status-list requests.
    status_down: bool,
    /// The root's CRL (`/v1/crl`); `None` = 404.
    crl: Option<Vec<u8>>,
}

#[derive(Clone, Default)]
struct IssuerState {
    published: Arc<Mutex<Published>>,
    status_requests: Arc<AtomicUsize>,
    crl_requests: Arc<AtomicUsize>,
}

async fn serve_status(
    State(state): State<IssuerState>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> axum::response::Response {
    state.status_requests.fetch_add(1, Ordering::SeqCst);
    let published = state.published.lock().unwrap();
    if published.status_down {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    match (&published.status, id.as_str()) {
        (Some(token), "seal-0") => (
            [(header::CONTENT_TYPE, "application/statuslist+jwt")],
            token.clone(),
        )
            .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn serve_crl(State(state): State<IssuerState>) -> axum::response::Response {
    state.crl_requests.fetch_add(1, Ordering::SeqCst);
    match &state.published.lock().unwrap().crl {
        Some(der) => (
            [(header::CONTENT_TYPE, "application/pkix-crl")],
            der.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// The province, the organisation, its seal

struct World {
    dir: tempfile::TempDir,
    now: UnixTime,
    zhejiang: RegionDir,
    issuer: IssuerState,
    _issuer_stop: oneshot::Sender<()>,
    trust_path: PathBuf,
    operator_cert: PathBuf,
    holder_key: PrivateKey,
    holder_cert: Vec<u8>,
    seal: Vec<u8>,
    status_uri: String,
}

impl World {
    /// Zhejiang with keys of `alg`, its issuer up, a valid seal status list and an empty CRL
    /// published, a seal made for the organisation, and the trust list written.
    async fn new(alg: Algorithm) -> World {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemClock.now();
        let made = now.minus(2 * 3600);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let public_url = format!("http://{}", listener.local_addr().unwrap());
        let issuer = IssuerState::default();
        let app = Router::new()
            .route("/v1/status/{id}", get(serve_status))
            .route("/v1/crl", get(serve_crl))
            .with_state(issuer.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });

        let operator = pki::operator(
            &dir.path().join("operator"),
            "国家政务服务平台（测试）",
            made,
        );
        let operator_cert = dir
            .path()
            .join("operator")
            .join(&operator.config.files.cert);
        let zhejiang = pki::province(&dir.path().join(ZHEJIANG), ZHEJIANG, alg, &public_url, made);
        let code = zhejiang.config.code.clone();
        let trust_path = dir.path().join("trust-list.jwt");
        write_trust_list(&operator, &zhejiang, &trust_path, now);

        let holder = issue_holder(
            &zhejiang,
            None,
            &dir.path().join("holder"),
            &HolderRequest {
                organization: ORGANISATION.into(),
                uscc: Uscc::parse(USCC).unwrap(),
                alg,
                validity_days: 365,
                protection: Protection::Plaintext,
                now: made,
            },
        )
        .unwrap();
        let holder_cert = holder.certificate().unwrap().der().to_vec();
        let holder_key = holder.key(None).unwrap();

        let maker_files = zhejiang.config.seal_maker.clone().unwrap();
        let maker_key = zhejiang.key(&maker_files, None).unwrap();
        let maker_cert = zhejiang.certificate(&maker_files).unwrap();
        let status_uri = format!("{}seal-0", zhejiang.config.status_uri_prefix());
        let mut entropy = [0u8; 8];
        rand_core::OsRng.fill_bytes(&mut entropy);
        let seal = make_seal(
            &SealSpec {
                vid: "huren".into(),
                es_id: EsId::generate(&code, entropy),
                seal_type: 4,
                name: SEAL_NAME.into(),
                holder_certs: vec![holder_cert.clone()],
                create_date: made,
                valid_start: made,
                valid_end: now.plus(365 * DAY),
                picture: SealPicture {
                    kind: PictureType::Png,
                    data: seal_png(),
                    width_mm: 40,
                    height_mm: 40,
                },
                status: Some(SealStatusReference {
                    uri: status_uri.clone(),
                    idx: STATUS_IDX as u64,
                }),
                uscc: Some(Uscc::parse(USCC).unwrap()),
            },
            &maker_key,
            &maker_cert,
        )
        .unwrap();

        let world = World {
            dir,
            now,
            zhejiang,
            issuer,
            _issuer_stop: stop,
            trust_path,
            operator_cert,
            holder_key,
            holder_cert,
            seal,
            status_uri,
        };
        world.publish_status(StatusValue::Valid);
        world.publish_crl(&[]);
        world
    }

    /// Signs and publishes the seal status list with the seal's entry at `value`.
    fn publish_status(&self, value: StatusValue) {
        let (key, cert) = self.zhejiang.status_signer(None).unwrap();
        let mut list = StatusList::new(2, 1 << 12).unwrap();
        list.set(STATUS_IDX, value).unwrap();
        let claims = StatusListClaims {
            sub: self.status_uri.clone(),
            iat: self.now.minus(60).seconds(),
            exp: self.now.plus(DAY).seconds(),
            ttl: 300,
            status_list: StatusListClaim::from_list(&list),
        };
        self.issuer.published.lock().unwrap().status = Some(claims.sign(&key, &cert).unwrap());
    }

    /// Issues and publishes the root's CRL listing `revoked` (serial, from when).
    fn publish_crl(&self, revoked: &[(Vec<u8>, UnixTime)]) {
        let der = crl_of(&self.zhejiang, revoked, self.now.minus(60));
        self.issuer.published.lock().unwrap().crl = Some(der);
    }

    fn set_status_down(&self, down: bool) {
        self.issuer.published.lock().unwrap().status_down = down;
    }

    fn holder_serial(&self) -> Vec<u8> {
        Certificate::from_der(&self.holder_cert)
            .unwrap()
            .serial()
            .to_vec()
    }

    /// The organisation seals `document` at `signed_at`: the `.ses` (DER).
    fn sign(&self, document: &[u8], signed_at: UnixTime) -> Vec<u8> {
        sign_document(
            &self.seal,
            document,
            signed_at,
            "contract.pdf",
            &self.holder_key,
            &self.holder_cert,
        )
        .unwrap()
    }

    fn config(&self, cache_dir: Option<PathBuf>) -> VerifierConfig {
        let pem = std::fs::read(&self.operator_cert).unwrap();
        VerifierConfig {
            unit: None,
            trust_source: TrustSource::File(self.trust_path.clone()),
            operator_certs: huren_verifier::operator_certificates_from_pem(&pem).unwrap(),
            cache_dir,
            online: true,
            options: VerifyOptions::default(),
        }
    }

    fn verifier(&self, cache_dir: Option<PathBuf>) -> Verifier {
        Verifier::open_with(self.config(cache_dir), http_fetcher(), SystemClock.now()).unwrap()
    }

    /// The library's answer, off the runtime's workers (it may block on the network).
    async fn library_verify(
        &self,
        cache_dir: Option<PathBuf>,
        fetcher: Arc<dyn Fetcher>,
        signature: &[u8],
        document: &[u8],
    ) -> huren_verifier::SealReport {
        let config = self.config(cache_dir);
        let (signature, document) = (signature.to_vec(), document.to_vec());
        tokio::task::spawn_blocking(move || {
            let verifier = Verifier::open_with(config, fetcher, SystemClock.now()).unwrap();
            verifier.verify_seal(&signature, &document, SystemClock.now())
        })
        .await
        .unwrap()
    }

    /// A verification service on its own socket (no disk cache, no rate limit).
    async fn window(&self) -> Window {
        open_window_on(self.verifier(None)).await
    }
}

fn http_fetcher() -> Arc<dyn Fetcher> {
    Arc::new(HttpFetcher::new(FETCH_TIMEOUT))
}

fn write_trust_list(operator: &OperatorDir, region: &RegionDir, path: &Path, iat: UnixTime) {
    let token = pki::trust_list(operator, std::slice::from_ref(region), 1, iat);
    std::fs::write(path, format!("{token}\n")).unwrap();
}

/// A CRL signed by `region`'s root.
fn crl_of(region: &RegionDir, revoked: &[(Vec<u8>, UnixTime)], this_update: UnixTime) -> Vec<u8> {
    let root_key = region.key(&region.config.root, None).unwrap();
    issue_crl(
        &region.root_der().unwrap(),
        &root_key,
        &CrlContents {
            number: 1,
            this_update,
            next_update: this_update.plus(7 * DAY),
            entries: revoked
                .iter()
                .map(|(serial, at)| CrlEntry {
                    serial: serial.clone(),
                    revoked_at: *at,
                    // A benign reason: signatures made before the revocation stand (with no
                    // reason, or keyCompromise, they would not: SPEC §8).
                    reason: Some(RevocationReason::Superseded),
                })
                .collect(),
        },
    )
    .unwrap()
}

// ---------------------------------------------------------------------------------------------
// HTTP client (ureq, blocking, off the runtime's workers)

/// Sends only the head of a POST to `/v1/seals/verify` declaring `length` body bytes, and
/// reads the answer.
async fn headers_only(url: &str, content_type: &str, length: usize) -> Reply {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://").to_owned();
    let head = format!(
        "POST /v1/seals/verify HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    );
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        stream.write_all(head.as_bytes()).unwrap();
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        let content_type = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-type")
                    .then(|| value.trim().to_owned())
            })
            .unwrap_or_default();
        Reply {
            status,
            content_type,
            request_id: None,
            body: body.as_bytes().to_vec(),
        }
    })
    .await
    .unwrap()
}

/// A multipart body with `parts` (name, file name, bytes), each a file.
fn multipart(parts: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let parts: Vec<Part<'_>> = parts
        .iter()
        .map(|(name, file_name, bytes)| Part::file(name, file_name, bytes))
        .collect();
    common::multipart::body(&parts)
}

/// Posts a document and its signature as the clerk's page does; asserts HTTP 200 (outcomes
/// are data) and returns the answer.
async fn verify_at_window(url: &str, query: &str, document: &[u8], signature: &[u8]) -> Value {
    let body = multipart(&[
        ("document", "contract.pdf", document),
        ("signature", "contract.pdf.ses", signature),
    ]);
    let reply = http(
        &format!("{url}/v1/seals/verify{query}"),
        &[("content-type", common::multipart::content_type().as_str())],
        Some(body),
    )
    .await;
    let answer = reply.json();
    assert_eq!(reply.status, 200, "a seal verdict is HTTP 200: {answer}");
    answer
}

fn warnings(answer: &Value) -> Vec<String> {
    answer["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect()
}

/// `ok` of the check named `name`.
fn check(answer: &Value, name: &str) -> Value {
    answer["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no check {name}: {answer}"))["ok"]
        .clone()
}

fn assert_valid(answer: &Value) {
    assert_eq!(answer["verdict"], "valid", "{answer:#}");
    assert!(reasons(answer).is_empty(), "{answer:#}");
    let checks = answer["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 9, "{answer:#}");
    assert!(checks.iter().all(|c| c["ok"] == true), "{answer:#}");
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/// The organisation's sealed contract verifies at the service, as multipart and as JSON; the
/// answer carries the seal (name, type, esID, maker), the PNG picture, the checks and the words
/// a clerk reads; a tampered copy of the contract is invalid.
async fn sealed_contract_verifies_and_a_tampered_one_does_not(alg: Algorithm) {
    let world = World::new(alg).await;
    let window = world.window().await;
    let document = contract();
    let signature = world.sign(&document, world.now.minus(300));

    let answer = verify_at_window(&window.url, "", &document, &signature).await;
    assert_valid(&answer);
    assert!(
        warnings(&answer).is_empty(),
        "CRL current, status fresh: {answer:#}"
    );
    let seal = &answer["seal"];
    assert_eq!(seal["name"], SEAL_NAME, "{answer:#}");
    assert_eq!(seal["type"], 4, "{answer:#}");
    assert_eq!(seal["version"], 4, "{answer:#}");
    assert!(
        seal["esID"].as_str().unwrap().starts_with(ZHEJIANG),
        "{answer:#}"
    );
    assert!(
        seal["maker_subject"]
            .as_str()
            .unwrap()
            .contains("电子印章制章"),
        "{answer:#}"
    );
    assert!(
        answer["signer_subject"]
            .as_str()
            .unwrap()
            .contains(ORGANISATION),
        "{answer:#}"
    );
    assert!(answer["signed_at"].as_str().unwrap().ends_with("+08:00"));
    assert!(answer["checked_at"].as_str().unwrap().ends_with("+08:00"));
    assert_eq!(answer["trust_list_seq"], 1);
    assert_eq!(answer["reason_texts"], json!([]));
    let picture = &answer["picture"];
    assert_eq!(picture["type"], "PNG", "{picture}");
    assert_eq!(picture["media_type"], "image/png", "{picture}");
    assert_eq!(
        (picture["width_mm"].clone(), picture["height_mm"].clone()),
        (json!(40), json!(40))
    );
    assert_eq!(
        b64::decode_std(picture["data_b64"].as_str().unwrap(), 1 << 20).unwrap(),
        seal_png()
    );

    // The same as JSON, base64.
    let body = json!({
        "document_b64": b64::encode_std(&document),
        "signature_b64": b64::encode_std(&signature),
    });
    let reply = http(
        &format!("{}/v1/seals/verify", window.url),
        &[("content-type", "application/json")],
        Some(body.to_string().into_bytes()),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.json());
    assert_valid(&reply.json());

    // One byte changed in the contract: the seal itself is fine, the document is not.
    let mut tampered = document.clone();
    tampered[200] ^= 0x01;
    let answer = verify_at_window(&window.url, "", &tampered, &signature).await;
    assert_eq!(answer["verdict"], "invalid", "{answer:#}");
    assert_eq!(reasons(&answer), ["document_hash_mismatch"], "{answer:#}");
    assert_eq!(check(&answer, "document_hash"), false);
    assert_eq!(check(&answer, "seal_signature"), true);
    assert_eq!(answer["reason_texts"][0]["zh"], "文档已被篡改（摘要不符）");
    assert_eq!(
        answer["reason_texts"][0]["en"],
        "Document altered (hash mismatch)"
    );
    assert_eq!(answer["seal"]["name"], SEAL_NAME);
    assert_eq!(answer["picture"]["media_type"], "image/png");

    // The status list and the CRL were each fetched once, then held.
    assert_eq!(world.issuer.status_requests.load(Ordering::SeqCst), 1);
    assert_eq!(world.issuer.crl_requests.load(Ordering::SeqCst), 1);

    let metrics = String::from_utf8(
        http(&format!("{}/metrics", window.url), &[], None)
            .await
            .body,
    )
    .unwrap();
    assert!(
        metrics.contains("huren_seal_verifications_valid_total 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("huren_seal_verifications_invalid_total 1"),
        "{metrics}"
    );
    let trust = http(&format!("{}/v1/trust", window.url), &[], None)
        .await
        .json();
    let crls = trust["crls"].as_array().unwrap();
    assert_eq!(crls.len(), 1, "{trust:#}");
    assert_eq!(crls[0]["region"], ZHEJIANG);
    assert!(
        crls[0]["url"].as_str().unwrap().ends_with("/v1/crl"),
        "{trust:#}"
    );
    assert_eq!(trust["crl_problems"], json!([]));

    let openapi = http(&format!("{}/openapi.json", window.url), &[], None)
        .await
        .json();
    assert!(openapi["paths"]["/v1/seals/verify"]["post"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn es256_sealed_contract_verifies_and_a_tampered_one_does_not() {
    sealed_contract_verifies_and_a_tampered_one_does_not(Algorithm::Es256).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sm2_sealed_contract_verifies_and_a_tampered_one_does_not() {
    sealed_contract_verifies_and_a_tampered_one_does_not(Algorithm::Sm2Sm3).await;
}

/// The seal is revoked in its status list: a window holding the earlier list sees it at once
/// with `fresh=true`, a window that has not seen the seal sees it at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seal_revoked_through_its_status_list_is_invalid() {
    let world = World::new(Algorithm::Sm2Sm3).await;
    let window = world.window().await;
    let document = contract();
    let signature = world.sign(&document, world.now.minus(300));
    assert_valid(&verify_at_window(&window.url, "", &document, &signature).await);

    world.publish_status(StatusValue::Revoked);
    let answer = verify_at_window(&window.url, "?fresh=true", &document, &signature).await;
    assert_eq!(answer["verdict"], "invalid", "{answer:#}");
    assert_eq!(reasons(&answer), ["seal_revoked"], "{answer:#}");
    assert_eq!(check(&answer, "seal_validity"), false);
    assert_eq!(answer["reason_texts"][0]["zh"], "印章已被吊销");

    let other = world.window().await;
    let answer = verify_at_window(&other.url, "", &document, &signature).await;
    assert_eq!(reasons(&answer), ["seal_revoked"], "{answer:#}");

    world.publish_status(StatusValue::Suspended);
    let answer = verify_at_window(&other.url, "?fresh=true", &document, &signature).await;
    assert_eq!(reasons(&answer), ["seal_suspended"], "{answer:#}");
}

/// The seal names a status list its issuer cannot serve: indeterminate, never valid; the
/// library answers the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_status_list_makes_the_seal_indeterminate() {
    let world = World::new(Algorithm::Es256).await;
    world.set_status_down(true);
    let window = world.window().await;
    let document = contract();
    let signature = world.sign(&document, world.now.minus(300));
    let answer = verify_at_window(&window.url, "", &document, &signature).await;
    assert_eq!(answer["verdict"], "indeterminate", "{answer:#}");
    assert_eq!(reasons(&answer), ["seal_status_unknown"], "{answer:#}");
    assert_eq!(check(&answer, "seal_validity"), Value::Null);
    assert_eq!(answer["reason_texts"][0]["zh"], "无法确认印章当前状态");
    // Everything else about the seal is shown and checked.
    assert_eq!(answer["seal"]["name"], SEAL_NAME);
    assert_eq!(check(&answer, "document_hash"), true);

    let report = world
        .library_verify(None, http_fetcher(), &signature, &document)
        .await;
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:?}");
    assert_eq!(report.reasons, [SealOutcome::SealStatusUnknown]);

    // Back up: the next check (past the retry pause, with `fresh`) is valid again.
    world.set_status_down(false);
    assert_valid(&verify_at_window(&window.url, "?fresh=true", &document, &signature).await);
}

/// Work on the blocking thread that panics (here: fetching the seal's status list) is
/// answered 500 `internal` problem JSON — the licence route answers the same
/// (tests/verifier_e2e.rs) — and the window goes on answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seal_check_that_panics_is_answered_500_internal() {
    let world = World::new(Algorithm::Es256).await;
    let verifier = Verifier::open_with(
        world.config(None),
        Arc::new(PanickingFetcher),
        SystemClock.now(),
    )
    .unwrap();
    let window = open_window_on(verifier).await;
    let document = contract();
    let signature = world.sign(&document, world.now.minus(300));
    let body = multipart(&[
        ("document", "contract.pdf", &document),
        ("signature", "contract.pdf.ses", &signature),
    ]);
    for _ in 0..2 {
        let reply = http(
            &format!("{}/v1/seals/verify", window.url),
            &[("content-type", common::multipart::content_type().as_str())],
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            reply.status,
            500,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        assert_eq!(reply.content_type, "application/problem+json");
        let problem = reply.json();
        assert_eq!(problem["code"], "internal", "{problem}");
        assert_eq!(problem["status"], 500, "{problem}");
        assert!(
            !problem["detail"].as_str().unwrap().contains("bug"),
            "{problem}"
        );
    }
}

/// The organisation's holder certificate is revoked on the root's CRL: a document sealed after
/// the revocation is invalid, one sealed before it stands (with a warning). The CRL is kept on
/// disk, so a verifier restarted without network still finds the revocation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signer_revoked_before_signing_through_the_crl_is_invalid() {
    let world = World::new(Algorithm::Es256).await;
    let revoked_at = world.now.minus(600);
    world.publish_crl(&[(world.holder_serial(), revoked_at)]);
    let document = contract();
    let after = world.sign(&document, world.now.minus(300));
    let before = world.sign(&document, world.now.minus(900));

    let window = world.window().await;
    let answer = verify_at_window(&window.url, "", &document, &after).await;
    assert_eq!(answer["verdict"], "invalid", "{answer:#}");
    assert_eq!(
        reasons(&answer),
        ["signer_revoked_before_signing"],
        "{answer:#}"
    );
    assert_eq!(check(&answer, "signer_certificate"), false);
    assert_eq!(
        answer["reason_texts"][0]["zh"],
        "签章人证书在签章前已被吊销"
    );

    let answer = verify_at_window(&window.url, "", &document, &before).await;
    assert_valid(&answer);
    assert_eq!(
        warnings(&answer),
        ["signer_revoked_after_signing"],
        "{answer:#}"
    );
    assert_eq!(
        answer["warning_texts"][0]["code"],
        "signer_revoked_after_signing"
    );

    // The library with a disk cache, then restarted with no network at all.
    let cache = world.dir.path().join("verifier-cache");
    let report = world
        .library_verify(Some(cache.clone()), http_fetcher(), &after, &document)
        .await;
    assert_eq!(report.reasons, [SealOutcome::SignerRevokedBeforeSigning]);
    let offline: Arc<dyn Fetcher> = Arc::new(NoNetwork);
    let report = world
        .library_verify(Some(cache.clone()), offline.clone(), &after, &document)
        .await;
    assert_eq!(
        report.reasons,
        [SealOutcome::SignerRevokedBeforeSigning],
        "CRL and status list from the disk cache: {report:?}"
    );
    let report = world
        .library_verify(Some(cache), offline, &before, &document)
        .await;
    assert_eq!(report.verdict, Verdict::Valid, "{report:?}");
}

/// The answer when revocation could not be checked: indeterminate, never valid, with
/// every other check passed.
fn assert_revocation_unknown(answer: &Value) {
    assert_eq!(answer["verdict"], "indeterminate", "{answer:#}");
    assert_eq!(reasons(answer), ["signer_revocation_unknown"], "{answer:#}");
    assert_eq!(
        check(answer, "signer_certificate"),
        Value::Null,
        "{answer:#}"
    );
    let passed = answer["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == true)
        .count();
    assert_eq!(passed, 8, "{answer:#}");
}

/// No CRL at the issuer, or one signed by a root with Zhejiang's name but not Zhejiang's key:
/// revocation cannot be checked, so the answer is indeterminate (fail closed), the forged
/// list is not used, and the refusal shows on `/v1/trust`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_forged_crl_leaves_revocation_unchecked() {
    let world = World::new(Algorithm::Es256).await;
    world.issuer.published.lock().unwrap().crl = None;
    let document = contract();
    let signature = world.sign(&document, world.now.minus(300));
    let window = world.window().await;
    let answer = verify_at_window(&window.url, "", &document, &signature).await;
    assert_revocation_unknown(&answer);
    assert_eq!(
        answer["reason_texts"][0]["code"],
        "signer_revocation_unknown"
    );

    // An impostor province with the same name and code: its root's subject is Zhejiang's.
    let impostor_dir = world.dir.path().join("impostor");
    let impostor = layout::init_region(
        &impostor_dir,
        &InitRegion {
            name: world.zhejiang.config.name.clone(),
            code: world.zhejiang.config.code.clone(),
            alg: Algorithm::Es256,
            public_url: world.zhejiang.config.public_url.clone(),
            protection: Protection::Plaintext,
            now: world.now.minus(3600),
        },
    )
    .unwrap();
    let forged = crl_of(
        &impostor,
        &[(world.holder_serial(), world.now.minus(3600))],
        world.now.minus(60),
    );
    world.issuer.published.lock().unwrap().crl = Some(forged);
    let window = world.window().await;
    let answer = verify_at_window(&window.url, "", &document, &signature).await;
    assert_revocation_unknown(&answer);
    let trust = http(&format!("{}/v1/trust", window.url), &[], None)
        .await
        .json();
    assert_eq!(trust["crls"], json!([]), "{trust:#}");
    let problems = trust["crl_problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{trust:#}");
    assert!(problems[0]["url"].as_str().unwrap().ends_with("/v1/crl"));

    let report = world
        .library_verify(None, http_fetcher(), &signature, &document)
        .await;
    assert_eq!(report.verdict, Verdict::Indeterminate);
    assert_eq!(report.reasons, [SealOutcome::SignerRevocationUnknown]);
}

/// Requests that are not a document and a signature are 4xx problems naming the part; files
/// that are not seal signatures are answers; nothing is a 5xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_4xx_problems_naming_the_part() {
    let world = World::new(Algorithm::Es256).await;
    let window = world.window().await;
    let url = format!("{}/v1/seals/verify", window.url);
    let document = contract();
    let signature = world.sign(&document, world.now.minus(300));
    let multipart_type = common::multipart::content_type();

    let expect = |reply: Reply, status: u16, code: &str, part: Option<&str>| {
        assert_eq!(
            reply.status,
            status,
            "{code}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        assert_eq!(reply.content_type, "application/problem+json", "{code}");
        let problem = reply.json();
        assert_eq!(problem["code"], code, "{problem}");
        assert_eq!(problem["status"], status, "{problem}");
        match part {
            Some(part) => assert_eq!(problem["part"], part, "{problem}"),
            None => assert!(problem.get("part").is_none(), "{problem}"),
        }
    };

    let only_document = multipart(&[("document", "a.pdf", &document)]);
    let reply = http(
        &url,
        &[("content-type", multipart_type.as_str())],
        Some(only_document),
    )
    .await;
    expect(reply, 400, "missing_signature", Some("signature"));

    let only_signature = multipart(&[("signature", "a.ses", &signature)]);
    let reply = http(
        &url,
        &[("content-type", multipart_type.as_str())],
        Some(only_signature),
    )
    .await;
    expect(reply, 400, "missing_document", Some("document"));

    let empty_document = multipart(&[
        ("document", "a.pdf", b""),
        ("signature", "a.ses", &signature),
    ]);
    let reply = http(
        &url,
        &[("content-type", multipart_type.as_str())],
        Some(empty_document),
    )
    .await;
    expect(reply, 400, "missing_document", Some("document"));

    let twice = multipart(&[
        ("document", "a.pdf", &document),
        ("document", "b.pdf", &document),
        ("signature", "a.ses", &signature),
    ]);
    let reply = http(
        &url,
        &[("content-type", multipart_type.as_str())],
        Some(twice),
    )
    .await;
    expect(reply, 400, "duplicate_part", Some("document"));

    // Not multipart at all, a body cut short, no boundary.
    let reply = http(
        &url,
        &[("content-type", multipart_type.as_str())],
        Some(b"garbage\r\n".to_vec()),
    )
    .await;
    expect(reply, 400, "bad_multipart", None);
    let mut cut = multipart(&[
        ("document", "a.pdf", &document),
        ("signature", "a.ses", &signature),
    ]);
    cut.truncate(cut.len() / 2);
    let reply = http(
        &url,
        &[("content-type", multipart_type.as_str())],
        Some(cut),
    )
    .await;
    expect(reply, 400, "bad_multipart", None);
    let reply = http(
        &url,
        &[("content-type", "multipart/form-data")],
        Some(b"--x--\r\n".to_vec()),
    )
    .await;
    expect(reply, 400, "bad_multipart", None);

    // JSON: not an object, unknown field, bad base64, a part missing.
    let reply = http(
        &url,
        &[("content-type", "application/json")],
        Some(b"[1]".to_vec()),
    )
    .await;
    expect(reply, 400, "malformed_json", None);
    let body = json!({"document_b64": "AAAA", "signature_b64": "AAAA", "extra": 1});
    let reply = http(
        &url,
        &[("content-type", "application/json")],
        Some(body.to_string().into_bytes()),
    )
    .await;
    expect(reply, 400, "malformed_json", None);
    let body = json!({"document_b64": b64::encode_std(&document), "signature_b64": "not base64!"});
    let reply = http(
        &url,
        &[("content-type", "application/json")],
        Some(body.to_string().into_bytes()),
    )
    .await;
    expect(reply, 400, "bad_base64", Some("signature"));
    let body = json!({"signature_b64": b64::encode_std(&signature)});
    let reply = http(
        &url,
        &[("content-type", "application/json")],
        Some(body.to_string().into_bytes()),
    )
    .await;
    expect(reply, 400, "missing_document", Some("document"));

    let reply = http(
        &url,
        &[("content-type", "text/plain")],
        Some(document.clone()),
    )
    .await;
    expect(reply, 415, "unsupported_media_type", None);
    let reply = http(&url, &[], Some(document.clone())).await;
    expect(reply, 415, "unsupported_media_type", None);

    // Over the bounds: a part, the base64 of a part, the whole body.
    let big_document = vec![0x25u8; MAX_DOCUMENT_BYTES + 1];
    let body = multipart(&[
        ("document", "big.pdf", &big_document),
        ("signature", "a.ses", &signature),
    ]);
    let reply = http(
        &url,
        &[("content-type", multipart_type.as_str())],
        Some(body),
    )
    .await;
    expect(reply, 413, "document_too_large", Some("document"));
    let big_signature = vec![0x30u8; MAX_SIGNATURE_BYTES + 1];
    let body = multipart(&[
        ("document", "a.pdf", &document),
        ("signature", "big.ses", &big_signature),
    ]);
    let reply = http(
        &url,
        &[("content-type", multipart_type.as_str())],
        Some(body),
    )
    .await;
    expect(reply, 413, "signature_too_large", Some("signature"));
    let body = json!({"document_b64": b64::encode_std(&document), "signature_b64": b64::encode_std(&big_signature)});
    let reply = http(
        &url,
        &[("content-type", "application/json")],
        Some(body.to_string().into_bytes()),
    )
    .await;
    expect(reply, 413, "signature_too_large", Some("signature"));
    // A body declared too large is refused before it is sent (as a client sending
    // `Expect: 100-continue`, or one reading while it writes, would see).
    let reply = headers_only(&window.url, "application/json", MAX_SEAL_BODY_BYTES + 1).await;
    expect(reply, 413, "body_too_large", None);
    drop(big_document);

    // Files that are not seal signatures are answers: the clerk learns what the file is not.
    for not_a_seal in [
        b"\x02\x01\x04".to_vec(),
        b"%PDF-1.7".to_vec(),
        world.seal.clone(),
    ] {
        let answer = verify_at_window(&window.url, "", &document, &not_a_seal).await;
        assert_eq!(answer["verdict"], "invalid", "{answer:#}");
        assert_eq!(reasons(&answer), ["seal_malformed"], "{answer:#}");
        assert_eq!(check(&answer, "format"), false);
        assert_eq!(answer["picture"], Value::Null);
        assert_eq!(answer["seal"], Value::Null);
    }
    // A signature cut anywhere: never valid, never a 5xx.
    for cut in [
        1,
        10,
        signature.len() / 3,
        signature.len() / 2,
        signature.len() - 1,
    ] {
        let answer = verify_at_window(&window.url, "", &document, &signature[..cut]).await;
        assert_eq!(answer["verdict"], "invalid", "cut at {cut}: {answer:#}");
    }

    // One byte flipped anywhere in the signature: every byte is signed, or selects the key,
    // the algorithm or the certificate that must match the seal, so none of them is valid.
    let step = (signature.len() / 97).max(1);
    for position in (0..signature.len()).step_by(step) {
        let mut mutated = signature.clone();
        mutated[position] ^= 0x5a;
        let answer = verify_at_window(&window.url, "", &document, &mutated).await;
        assert_ne!(
            answer["verdict"], "valid",
            "byte {position} flipped: {answer:#}"
        );
    }

    let metrics = String::from_utf8(
        http(&format!("{}/metrics", window.url), &[], None)
            .await
            .body,
    )
    .unwrap();
    assert!(
        metrics.contains("huren_seal_verify_requests_rejected_total 17"),
        "{metrics}"
    );
    let health = http(&format!("{}/healthz", window.url), &[], None).await;
    assert_eq!(health.status, 200);
}

// ---------------------------------------------------------------------------------------------
// With Zhejiang's real issuer

/// POSTs JSON with a bearer token; the status and the JSON answer.
async fn post_json(url: &str, token: &str, body: &Value) -> (u16, Value) {
    let bearer = format!("Bearer {token}");
    let reply = http(
        url,
        &[
            ("authorization", &bearer),
            ("content-type", "application/json"),
        ],
        Some(body.to_string().into_bytes()),
    )
    .await;
    (reply.status, reply.json())
}

/// Writes a CRL of `region`'s root atomically (the issuer re-reads the file when it changes).
fn write_crl(
    region: &RegionDir,
    path: &Path,
    revoked: &[(Vec<u8>, UnixTime)],
    this_update: UnixTime,
) {
    let temp = path.with_extension("tmp");
    std::fs::write(&temp, crl_of(region, revoked, this_update)).unwrap();
    std::fs::rename(&temp, path).unwrap();
}

/// The whole path through Zhejiang's issuer (`huren issuer serve`): the seal is made at
/// `POST /v1/seals`, its status list and the root's CRL come from the issuer, and revoking the
/// seal there (`POST /v1/seals/{esID}/revoke`) or listing the holder on the CRL reaches the
/// verification service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seal_made_and_revoked_at_the_issuer_is_checked_at_a_window() {
    use huren_issuer::config::IssuerFile;
    use huren_issuer::tokens::{self, Scope, TokenSpec};
    use huren_issuer::App;

    let dir = tempfile::tempdir().unwrap();
    let now = SystemClock.now();
    let made = now.minus(3600);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public_url = format!("http://{}", listener.local_addr().unwrap());
    let operator = pki::operator(
        &dir.path().join("operator"),
        "国家政务服务平台（测试）",
        made,
    );
    let operator_cert = dir
        .path()
        .join("operator")
        .join(&operator.config.files.cert);
    let zhejiang = pki::province(
        &dir.path().join(ZHEJIANG),
        ZHEJIANG,
        Algorithm::Sm2Sm3,
        &public_url,
        made,
    );
    let code = zhejiang.config.code.clone();
    let trust_path = dir.path().join("trust-list.jwt");
    write_trust_list(&operator, &zhejiang, &trust_path, now);
    let crl_path = dir.path().join("zhejiang-root.crl");
    write_crl(&zhejiang, &crl_path, &[], made);
    let holder = issue_holder(
        &zhejiang,
        None,
        &dir.path().join("holder"),
        &HolderRequest {
            organization: ORGANISATION.into(),
            uscc: Uscc::parse(USCC).unwrap(),
            alg: Algorithm::Sm2Sm3,
            validity_days: 365,
            protection: Protection::Plaintext,
            now: made,
        },
    )
    .unwrap();
    let holder_cert = holder.certificate().unwrap().der().to_vec();
    let holder_key = holder.key(None).unwrap();
    let holder_pem = std::fs::read_to_string(holder.path.join(&holder.config.cert)).unwrap();

    let config = IssuerFile {
        region_dir: Some(zhejiang.path.clone()),
        trust_list: Some(trust_path.clone()),
        operator_cert: Some(vec![operator_cert.clone()]),
        database_url: Some(format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("zj.db").display()
        )),
        data_dir: Some(dir.path().join("zj-data")),
        public_url: Some(public_url.clone()),
        status_list_capacity: Some(1 << 12),
        crl: Some(crl_path.clone()),
        allow_plaintext_keys: Some(true), // the test PKI is plaintext
        ..IssuerFile::default()
    }
    .resolve()
    .unwrap();
    let app = App::build(&config, listener, None, Arc::new(SystemClock))
        .await
        .unwrap();
    let (token, _) = tokens::create(
        &app.state().issuer.store,
        &TokenSpec {
            region: &code,
            scopes: &[Scope::Seal],
            types: &[],
            label: "seal office",
            lifetime: tokens::Lifetime::DEFAULT,
        },
        "test",
        now.seconds(),
        &mut rand_core::OsRng,
    )
    .await
    .unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));

    let (status, made_seal) = post_json(
        &format!("{public_url}/v1/seals"),
        &token,
        &json!({
            "name": SEAL_NAME, "uscc": USCC, "seal_type": 4,
            "image_b64": b64::encode_std(&seal_png()), "image_type": "png",
            "width_mm": 40, "height_mm": 40,
            "valid_end": now.plus(365 * DAY).to_rfc3339_china(),
            "holder_certs_pem": [holder_pem],
        }),
    )
    .await;
    assert_eq!(status, 201, "{made_seal:#}");
    let es_id = made_seal["esID"].as_str().unwrap().to_owned();
    let seal = b64::decode_std(made_seal["esl"].as_str().unwrap(), 8 << 20).unwrap();

    // Sealed now; the CRL re-issued at that moment covers the signing.
    let document = contract();
    let signed_at = SystemClock.now();
    let signature = sign_document(
        &seal,
        &document,
        signed_at,
        "contract.pdf",
        &holder_key,
        &holder_cert,
    )
    .unwrap();
    write_crl(&zhejiang, &crl_path, &[], signed_at);

    let pem = std::fs::read(&operator_cert).unwrap();
    let verifier = Verifier::open_with(
        VerifierConfig {
            unit: None,
            trust_source: TrustSource::File(trust_path.clone()),
            operator_certs: huren_verifier::operator_certificates_from_pem(&pem).unwrap(),
            cache_dir: None,
            online: true,
            options: VerifyOptions::default(),
        },
        http_fetcher(),
        SystemClock.now(),
    )
    .unwrap();
    let window = open_window_on(verifier).await;
    let answer = verify_at_window(&window.url, "", &document, &signature).await;
    assert_valid(&answer);
    assert!(warnings(&answer).is_empty(), "{answer:#}");
    assert_eq!(answer["seal"]["esID"], es_id.as_str());
    assert_eq!(answer["seal"]["name"], SEAL_NAME);

    // Revoked at the issuer: the next check asking for fresh status sees it.
    let (status, record) = post_json(
        &format!("{public_url}/v1/seals/{es_id}/revoke"),
        &token,
        &json!({"reason": "印章遗失"}),
    )
    .await;
    assert_eq!(status, 200, "{record:#}");
    let answer = verify_at_window(&window.url, "?fresh=true", &document, &signature).await;
    assert_eq!(reasons(&answer), ["seal_revoked"], "{answer:#}");

    // And the holder certificate, revoked before the signing on the root's CRL.
    write_crl(
        &zhejiang,
        &crl_path,
        &[(
            Certificate::from_der(&holder_cert)
                .unwrap()
                .serial()
                .to_vec(),
            signed_at.minus(1),
        )],
        SystemClock.now(),
    );
    let answer = verify_at_window(&window.url, "?fresh=true", &document, &signature).await;
    assert_eq!(
        reasons(&answer),
        ["seal_revoked", "signer_revoked_before_signing"],
        "{answer:#}"
    );
    let _ = stop.send(());
}
