//! End-to-end verification over real sockets (SPEC §4–§7): provincial issuers
//! (`huren_issuer::App`) and the verification service (`huren_verifier::server::App`) each
//! listen on `127.0.0.1:0`; licences are issued and revoked through the issuer's HTTP API and
//! checked through the verifier's, or through the `huren-verifier` library.
//!
//! Everything runs on the system clock (one test moves the issuers' clock a minute on). Each
//! test binds its issuers' listeners first so the region directories (and so the trust list's
//! `status_uri_prefix`) name the real ports, then makes a fresh PKI (plaintext keys: a test
//! set-up), signs a trust list and starts the issuers. Time passing (status-list `ttl` and
//! `exp`) is simulated by handing the library, or the service's clock, a later time — never by
//! sleeping.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;

use common::fetch::PanickingFetcher;
use common::multipart;
use common::pki;
use common::service::{http, open_window, reasons, try_http};

use huren_crypto::alg::Algorithm;
use huren_crypto::time::{Clock, UnixTime};
use huren_issuer::config::IssuerFile;
use huren_issuer::tokens::{self, Scope, TokenSpec};
use huren_issuer::App;
use huren_keys::layout::{OperatorDir, RegionDir};
use huren_keys::SystemClock;
use huren_verifier::server;
use huren_verifier::server::config::VerifierFile;
use huren_verifier::{
    FetchError, Fetched, Fetcher, HttpFetcher, TrustSource, TrustStoreError, Verdict, Verifier,
    VerifierConfig, VerifyOptions,
};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const ZHEJIANG: (&str, Algorithm) = ("330000", Algorithm::Es256);
const JIANGSU: (&str, Algorithm) = ("320000", Algorithm::Ps256);

/// The verifier's fetch timeout: a stopped issuer fails fast.
const FETCH_TIMEOUT: Duration = Duration::from_millis(500);

// ---------------------------------------------------------------------------------------------
// HTTP helpers (the client is `common::service`)

async fn get_json(url: &str) -> Value {
    let reply = http(url, &[], None).await;
    assert_eq!(reply.status, 200, "GET {url}: {}", reply.json());
    reply.json()
}

/// POSTs to the verifier's `/v1/verify` (`query` e.g. `"?fresh=true"`); asserts HTTP 200
/// (verification outcomes are data) and returns the report.
async fn verify_at_window(
    verifier_url: &str,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Value {
    let reply = http(
        &format!("{verifier_url}/v1/verify{query}"),
        &[("content-type", content_type)],
        Some(body),
    )
    .await;
    let report = reply.json();
    assert_eq!(
        reply.status, 200,
        "a verification outcome is HTTP 200: {report}"
    );
    report
}

async fn verify_text(verifier_url: &str, query: &str, qr_text: &str) -> Value {
    // As a USB scanner types it: with a trailing newline.
    verify_at_window(
        verifier_url,
        query,
        "text/plain; charset=utf-8",
        format!("{qr_text}\r\n").into_bytes(),
    )
    .await
}

fn codes(report: &huren_verifier::Report) -> Vec<&'static str> {
    report.reasons.iter().map(|r| r.code()).collect()
}

// ---------------------------------------------------------------------------------------------
// Provinces, trust list and issuers

/// Status-list publication settings of the issuers.
#[derive(Debug, Clone, Copy)]
struct Publication {
    ttl_secs: u64,
    validity_secs: i64,
}

const DEFAULT_PUBLICATION: Publication = Publication {
    ttl_secs: 300,
    validity_secs: 24 * 3600,
};

/// The issuers' clock: the system clock moved by an offset the test controls.
struct ShiftedClock(Arc<AtomicI64>);

impl Clock for ShiftedClock {
    fn now(&self) -> UnixTime {
        SystemClock.now().plus(self.0.load(Ordering::SeqCst))
    }
}

/// A running issuer.
struct RunningIssuer {
    code: &'static str,
    url: String,
    admin: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl RunningIssuer {
    /// Graceful shutdown: signals, waits for the server to finish, then checks the port
    /// refuses connections (the network is gone for verifiers).
    async fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(30), task)
                .await
                .expect("the issuer shuts down")
                .unwrap()
                .unwrap();
        }
        let probe = try_http(&format!("{}/healthz", self.url), &[], None).await;
        assert!(probe.is_err(), "the issuer still answers: {probe:?}");
    }

    /// Issues a 建筑业企业资质证书 through `POST /v1/licences`; the `201` body.
    async fn issue(&self) -> Value {
        let body = json!({
            "type_code": "11100000000013338W032",
            "number": format!("D{}12345", &self.code[..2]),
            "holder": {"name": "示例建设有限公司", "id_type": "001", "id": "91350100M000100Y43"},
            "issuer": {"name": "省住房和城乡建设厅", "code": "11220000013544541J"},
            "face": {"qualification": "建筑工程施工总承包壹级", "legal_representative": "王五",
                     "registered_capital": "5000万元人民币", "address": "示例市示例路1号",
                     "economic_nature": "有限责任公司"}
        });
        let reply = http(
            &format!("{}/v1/licences", self.url),
            &[
                ("authorization", &format!("Bearer {}", self.admin)),
                ("content-type", "application/json"),
            ],
            Some(body.to_string().into_bytes()),
        )
        .await;
        let issued = reply.json();
        assert_eq!(reply.status, 201, "issuing: {issued}");
        assert!(issued["qr_text"].as_str().unwrap().starts_with("HR1:"));
        issued
    }

    /// Revokes through `POST /v1/licences/{jti}/revoke`.
    async fn revoke(&self, jti: &str) {
        let reply = http(
            &format!("{}/v1/licences/{jti}/revoke", self.url),
            &[
                ("authorization", &format!("Bearer {}", self.admin)),
                ("content-type", "application/json"),
            ],
            Some(
                json!({"reason": "吊销：以欺骗手段取得资质"})
                    .to_string()
                    .into_bytes(),
            ),
        )
        .await;
        assert_eq!(reply.status, 200, "revoking: {}", reply.json());
    }
}

/// An operator, provinces with their PKI, and the trust list they are in.
struct Network {
    dir: tempfile::TempDir,
    now: UnixTime,
    operator: OperatorDir,
    operator_cert: PathBuf,
    regions: Vec<RegionDir>,
    trust_path: PathBuf,
    /// Listeners bound before the PKI was made, consumed by `start_issuers`.
    listeners: Vec<TcpListener>,
    issuers: Vec<RunningIssuer>,
    /// Seconds the issuers' clock is ahead of the system clock (0 unless a test moves it).
    issuer_clock_offset: Arc<AtomicI64>,
}

impl Network {
    /// Binds one listener per province, makes the operator and the provinces (public URL =
    /// the bound address) and writes trust list `seq`.
    async fn new(provinces: &[(&'static str, Algorithm)], seq: u64) -> Network {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemClock.now();
        let made = now.minus(3600);
        let operator = pki::operator(
            &dir.path().join("operator"),
            "国家政务服务平台（测试）",
            made,
        );
        let operator_cert = dir
            .path()
            .join("operator")
            .join(&operator.config.files.cert);
        let mut listeners = Vec::new();
        let mut regions = Vec::new();
        for (code, alg) in provinces {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let public_url = format!("http://{}", listener.local_addr().unwrap());
            regions.push(pki::province(
                &dir.path().join(code),
                code,
                *alg,
                &public_url,
                made,
            ));
            listeners.push(listener);
        }
        let trust_path = dir.path().join("trust-list.jwt");
        let network = Network {
            dir,
            now,
            operator,
            operator_cert,
            regions,
            trust_path,
            listeners,
            issuers: Vec::new(),
            issuer_clock_offset: Arc::new(AtomicI64::new(0)),
        };
        network.write_trust_list(&network.trust_list(seq, now));
        network
    }

    /// A validly signed trust list over the provinces, with `seq`, signed at `iat`.
    fn trust_list(&self, seq: u64, iat: UnixTime) -> String {
        pki::trust_list(&self.operator, &self.regions, seq, iat)
    }

    /// Replaces the trust list file atomically (a reader never sees half of it).
    fn write_trust_list(&self, token: &str) {
        let temp = self.dir.path().join(".trust-list.jwt.tmp");
        std::fs::write(&temp, format!("{token}\n")).unwrap();
        std::fs::rename(&temp, &self.trust_path).unwrap();
    }

    /// Starts an issuer per province on its listener, each with an admin token.
    async fn start_issuers(&mut self, publication: Publication) {
        let listeners = std::mem::take(&mut self.listeners);
        for (region, listener) in self.regions.iter().zip(listeners) {
            let code: &'static str = match region.config.code.as_str() {
                "330000" => "330000",
                "320000" => "320000",
                other => panic!("unexpected region {other}"),
            };
            let public_url = format!("http://{}", listener.local_addr().unwrap());
            let config = IssuerFile {
                region_dir: Some(region.path.clone()),
                trust_list: Some(self.trust_path.clone()),
                operator_cert: Some(vec![self.operator_cert.clone()]),
                database_url: Some(format!(
                    "sqlite://{}?mode=rwc",
                    self.dir.path().join(format!("{code}.db")).display()
                )),
                data_dir: Some(self.dir.path().join(format!("{code}-data"))),
                public_url: Some(public_url.clone()),
                status_list_capacity: Some(1 << 12),
                status_ttl_secs: Some(publication.ttl_secs),
                status_validity_secs: Some(publication.validity_secs),
                allow_plaintext_keys: Some(true), // the test PKI is plaintext
                ..IssuerFile::default()
            }
            .resolve()
            .unwrap();
            let clock = Arc::new(ShiftedClock(self.issuer_clock_offset.clone()));
            let app = App::build(&config, listener, None, clock).await.unwrap();
            let spec = TokenSpec {
                region: &region.config.code,
                scopes: &[Scope::Issue, Scope::Read, Scope::Revoke],
                types: &[],
                label: "e2e department",
                lifetime: tokens::Lifetime::DEFAULT,
            };
            let (admin, _) = tokens::create(
                &app.state().issuer.store,
                &spec,
                "test",
                self.now.seconds(),
                &mut rand_core::OsRng,
            )
            .await
            .unwrap();
            let (stop, stopped) = oneshot::channel::<()>();
            let task = tokio::spawn(app.run_until(async move {
                let _ = stopped.await;
            }));
            self.issuers.push(RunningIssuer {
                code,
                url: public_url,
                admin,
                stop: Some(stop),
                task: Some(task),
            });
        }
    }

    fn issuer(&self, code: &str) -> &RunningIssuer {
        self.issuers.iter().find(|i| i.code == code).unwrap()
    }

    fn issuer_mut(&mut self, code: &str) -> &mut RunningIssuer {
        self.issuers.iter_mut().find(|i| i.code == code).unwrap()
    }

    fn verifier_config(&self, source: TrustSource, cache_dir: Option<PathBuf>) -> VerifierConfig {
        let pem = std::fs::read(&self.operator_cert).unwrap();
        VerifierConfig {
            unit: None,
            trust_source: source,
            operator_certs: huren_verifier::operator_certificates_from_pem(&pem).unwrap(),
            cache_dir,
            online: true,
            options: VerifyOptions::default(),
        }
    }

    /// A library verifier on the trust list file (no disk cache).
    fn file_verifier(&self) -> Result<Verifier, TrustStoreError> {
        open(self.verifier_config(TrustSource::File(self.trust_path.clone()), None))
    }
}

fn open(config: VerifierConfig) -> Result<Verifier, TrustStoreError> {
    Verifier::open_with(
        config,
        Arc::new(HttpFetcher::new(FETCH_TIMEOUT)),
        SystemClock.now(),
    )
}

fn has_file(dir: &Path, matches: impl Fn(&str) -> bool) -> bool {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_str().is_some_and(&matches))
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/// A Jiangsu service window trusts the national list and checks a Zhejiang licence, as typed
/// by a scanner, as JSON, and as a photo of the QR code; Jiangsu's own licences (PS256) verify
/// at the same window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zhejiang_licence_verifies_at_a_jiangsu_window() {
    let mut net = Network::new(&[ZHEJIANG, JIANGSU], 7).await;
    net.start_issuers(DEFAULT_PUBLICATION).await;
    let verifier = net.verifier_config(
        TrustSource::File(net.trust_path.clone()),
        Some(net.dir.path().join("window-cache")),
    );
    let window = open_window(server::state(Arc::new(open(verifier).unwrap()), 0)).await;

    let zj = net.issuer("330000").issue().await;
    let qr_text = zj["qr_text"].as_str().unwrap();
    let expect_valid_zhejiang = |report: &Value, how: &str| {
        assert_eq!(report["verdict"], "valid", "{how}: {report}");
        assert_eq!(reasons(report), Vec::<String>::new(), "{how}: {report}");
        assert_eq!(report["licence"]["iss"], "330000", "{how}: {report}");
        assert_eq!(report["licence"]["jti"], zj["id"], "{how}: {report}");
        assert_eq!(report["trust_list_seq"], 7, "{how}: {report}");
        // The status list was fetched from the Zhejiang issuer across the network.
        let lists = report["status_lists"].as_array().unwrap();
        assert_eq!(lists.len(), 1, "{how}: {report}");
        assert!(
            lists[0]["uri"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{}/v1/status/", net.issuers[0].url)),
            "{how}: {report}"
        );
        assert!(lists[0]["iat"].is_string(), "{how}: {report}");
    };

    let report = verify_text(&window.url, "", qr_text).await;
    expect_valid_zhejiang(&report, "text/plain");
    assert!(
        !report["licence"]["holder_id_masked"]
            .as_str()
            .unwrap()
            .contains("91350100M000100Y43"),
        "the holder's code is masked: {report}"
    );

    let report = verify_at_window(
        &window.url,
        "",
        "application/json",
        json!({"token": zj["token"]}).to_string().into_bytes(),
    )
    .await;
    expect_valid_zhejiang(&report, "JSON token");

    let png = huren_issuer::render::qr_png(qr_text, 4).unwrap();
    let (content_type, body) = (
        multipart::content_type(),
        multipart::body(&[multipart::image(&png)]),
    );
    let report = verify_at_window(&window.url, "", &content_type, body).await;
    expect_valid_zhejiang(&report, "multipart PNG");

    // Jiangsu's own (PS256) licence at the same window.
    let js = net.issuer("320000").issue().await;
    let report = verify_text(&window.url, "", js["qr_text"].as_str().unwrap()).await;
    assert_eq!(report["verdict"], "valid", "{report}");
    assert_eq!(report["licence"]["iss"], "320000", "{report}");

    // The window refuses what is not a licence at all, and reports a tampered one as data.
    let reply = http(
        &format!("{}/v1/verify", window.url),
        &[("content-type", "application/json")],
        Some(b"{}".to_vec()),
    )
    .await;
    assert_eq!(reply.status, 400, "{}", reply.json());
    let token = zj["token"].as_str().unwrap();
    let (head, rest) = token.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    let tampered = format!("{head}.{payload}.{flipped}{}", &signature[1..]);
    let report = verify_text(&window.url, "", &tampered).await;
    assert_eq!(report["verdict"], "invalid", "{report}");
    assert_eq!(reasons(&report), vec!["bad_signature"], "{report}");
}

/// Revocation reaches a window that already cached the status list: not before its `ttl`
/// (documented caching), at once with `?fresh=true`, and by itself once the `ttl` has passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_shows_within_ttl_and_at_once_with_fresh() {
    const TTL: i64 = 600;
    let mut net = Network::new(&[ZHEJIANG], 3).await;
    net.start_issuers(Publication {
        ttl_secs: TTL.unsigned_abs(),
        validity_secs: 24 * 3600,
    })
    .await;
    let window_verifier = net.file_verifier().unwrap();
    let window = open_window(server::state(Arc::new(window_verifier), 0)).await;
    let library = net.file_verifier().unwrap();

    let issued = net.issuer("330000").issue().await;
    let qr_text = issued["qr_text"].as_str().unwrap().to_owned();
    let jti = issued["id"].as_str().unwrap().to_owned();

    // Both verifiers fetch and cache the (still clean) status list.
    let report = verify_text(&window.url, "", &qr_text).await;
    assert_eq!(report["verdict"], "valid", "{report}");
    let t0 = SystemClock.now();
    let report = tokio::task::block_in_place(|| library.verify(&qr_text, t0));
    assert_eq!(report.verdict, Verdict::Valid, "{report:?}");

    net.issuer("330000").revoke(&jti).await;

    // Within the ttl the window answers from its cached list: still valid. This is the
    // documented trade-off of caching; `fresh` is how a careful caller avoids it.
    let report = verify_text(&window.url, "", &qr_text).await;
    assert_eq!(report["verdict"], "valid", "cached within ttl: {report}");

    let report = verify_text(&window.url, "?fresh=true", &qr_text).await;
    assert_eq!(report["verdict"], "invalid", "{report}");
    assert_eq!(reasons(&report), vec!["revoked"], "{report}");
    // ...and the refetched list is what the window holds from now on.
    let report = verify_text(&window.url, "", &qr_text).await;
    assert_eq!(reasons(&report), vec!["revoked"], "{report}");

    // The library: no list is due before its ttl, so a refresh changes nothing...
    let half = t0.plus(TTL / 2);
    tokio::task::block_in_place(|| library.refresh(half));
    let report = library.verify(&qr_text, half);
    assert_eq!(report.verdict, Verdict::Valid, "before ttl: {report:?}");
    // ...and once it has passed, the refresh refetches it and the revocation shows.
    let later = t0.plus(TTL + 1);
    tokio::task::block_in_place(|| library.refresh(later));
    let report = library.verify(&qr_text, later);
    assert_eq!(report.verdict, Verdict::Invalid, "{report:?}");
    assert_eq!(codes(&report), vec!["revoked"]);
}

/// With the issuer gone the window keeps answering from the cached status list while it is
/// valid, then says `indeterminate` (`status_unknown`) — never `valid`, never an HTTP error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_down_uses_cached_status_then_status_unknown_once_stale() {
    let mut net = Network::new(&[ZHEJIANG], 1).await;
    net.start_issuers(Publication {
        ttl_secs: 300,
        validity_secs: 7200,
    })
    .await;
    let verifier = Arc::new(net.file_verifier().unwrap());
    // The window's clock is the test's to move.
    let clock = Arc::new(AtomicI64::new(SystemClock.now().seconds()));
    let mut state = server::state(verifier.clone(), 0);
    let window_clock = clock.clone();
    state.now = Arc::new(move || UnixTime(window_clock.load(Ordering::SeqCst)));
    let window = open_window(state).await;

    let issued = net.issuer("330000").issue().await;
    let qr_text = issued["qr_text"].as_str().unwrap().to_owned();
    let report = verify_text(&window.url, "", &qr_text).await;
    assert_eq!(report["verdict"], "valid", "{report}");
    let uri = report["status_lists"][0]["uri"]
        .as_str()
        .unwrap()
        .to_owned();
    let cached = verifier
        .status_cache()
        .get(&uri)
        .expect("the list is cached");

    net.issuer_mut("330000").shut_down().await;

    let report = verify_text(&window.url, "", &qr_text).await;
    assert_eq!(report["verdict"], "valid", "from the cached list: {report}");
    let now = UnixTime(clock.load(Ordering::SeqCst));
    let report = tokio::task::block_in_place(|| verifier.verify(&qr_text, now));
    assert_eq!(report.verdict, Verdict::Valid, "{report:?}");

    // Past the cached list's exp (and past its ttl: the refetch fails).
    let after_exp = cached.exp().plus(1);
    assert!(after_exp.seconds() - now.seconds() <= 7200 + 60);
    let report = tokio::task::block_in_place(|| verifier.verify(&qr_text, after_exp));
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:?}");
    assert_eq!(codes(&report), vec!["status_unknown"]);

    clock.store(after_exp.seconds(), Ordering::SeqCst);
    for query in ["", "?fresh=true"] {
        let report = verify_text(&window.url, query, &qr_text).await;
        assert_eq!(report["verdict"], "indeterminate", "{query}: {report}");
        assert_eq!(
            reasons(&report),
            vec!["status_unknown"],
            "{query}: {report}"
        );
        assert_eq!(report["licence"]["jti"], issued["id"], "{query}: {report}");
    }
}

/// A replaced trust list file with a lower `seq`, or the same `seq` with other content, is
/// refused; the window keeps the accepted list and says why on `GET /v1/trust` — also after a
/// restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_trust_list_is_refused_and_reported() {
    let net = Network::new(&[ZHEJIANG], 5).await;
    let cache = net.dir.path().join("window-cache");
    let verifier = Arc::new(
        open(net.verifier_config(
            TrustSource::File(net.trust_path.clone()),
            Some(cache.clone()),
        ))
        .unwrap(),
    );
    let window = open_window(server::state(verifier.clone(), 0)).await;
    let accepted = verifier.trust_store().current().token.clone();
    let trust = get_json(&format!("{}/v1/trust", window.url)).await;
    assert_eq!(trust["trust_list"]["seq"], 5, "{trust}");
    assert!(trust["trust_list"]["last_error"].is_null(), "{trust}");

    // seq 4, validly signed by the pinned operator.
    net.write_trust_list(&net.trust_list(4, net.now.plus(60)));
    let now = SystemClock.now();
    match verifier.trust_store().refresh(now) {
        Err(TrustStoreError::Refused(message)) => {
            assert!(message.contains("seq 4 is lower"), "{message}");
        }
        other => panic!("an older list must be refused: {other:?}"),
    }
    assert!(!verifier.refresh(now), "the list did not change");
    assert_eq!(verifier.trust_store().current().trust.seq(), 5);
    let trust = get_json(&format!("{}/v1/trust", window.url)).await;
    assert_eq!(trust["trust_list"]["seq"], 5, "{trust}");
    let last_error = trust["trust_list"]["last_error"]
        .as_str()
        .unwrap_or_default();
    assert!(
        last_error.contains("seq 4") && last_error.contains("lower"),
        "{trust}"
    );

    // seq 5 again, signed at another time: other content under an accepted seq.
    net.write_trust_list(&net.trust_list(5, net.now.plus(120)));
    match verifier.trust_store().refresh(now) {
        Err(TrustStoreError::Refused(message)) => {
            assert!(message.contains("different content"), "{message}");
        }
        other => panic!("a reused seq must be refused: {other:?}"),
    }
    assert_eq!(verifier.trust_store().current().token, accepted);
    let trust = get_json(&format!("{}/v1/trust", window.url)).await;
    assert_eq!(trust["trust_list"]["seq"], 5, "{trust}");
    let last_error = trust["trust_list"]["last_error"]
        .as_str()
        .unwrap_or_default();
    assert!(last_error.contains("different content"), "{trust}");

    // A newer list is taken, and the error clears.
    net.write_trust_list(&net.trust_list(6, net.now.plus(180)));
    assert!(verifier.refresh(now), "seq 6 replaces seq 5");
    let trust = get_json(&format!("{}/v1/trust", window.url)).await;
    assert_eq!(trust["trust_list"]["seq"], 6, "{trust}");
    assert!(trust["trust_list"]["last_error"].is_null(), "{trust}");

    // Across a restart: the file rolled back to seq 4 is refused against the accepted seq
    // kept on disk, and the cached seq 6 is used.
    net.write_trust_list(&net.trust_list(4, net.now.plus(60)));
    let restarted =
        open(net.verifier_config(TrustSource::File(net.trust_path.clone()), Some(cache))).unwrap();
    let current = restarted.trust_store().current();
    assert_eq!(current.trust.seq(), 6);
    assert!(current.from_cache);
    let status = restarted.trust_store().status(now, 0);
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("lower")),
        "{status:?}"
    );
}

/// A verifier that once saw the trust list and a status list restarts with the network gone
/// and still verifies, from its disk cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_without_network_verifies_from_the_disk_cache() {
    let mut net = Network::new(&[ZHEJIANG], 2).await;
    net.start_issuers(DEFAULT_PUBLICATION).await;
    let url = format!("{}/v1/trust-list", net.issuer("330000").url);
    let cache = net.dir.path().join("bank-cache");
    let config = net.verifier_config(TrustSource::Url(url.clone()), Some(cache.clone()));

    let issued = net.issuer("330000").issue().await;
    let qr_text = issued["qr_text"].as_str().unwrap().to_owned();
    let first = tokio::task::block_in_place(|| open(config.clone())).unwrap();
    assert!(!first.trust_store().current().from_cache);
    assert_eq!(first.trust_store().current().trust.seq(), 2);
    let now = SystemClock.now();
    let report = tokio::task::block_in_place(|| first.verify(&qr_text, now));
    assert_eq!(report.verdict, Verdict::Valid, "{report:?}");
    assert!(has_file(&cache, |n| n == "trust-list.jwt"));
    assert!(has_file(&cache, |n| n.starts_with("status-") && n.ends_with(".jwt")));
    drop(first);

    net.issuer_mut("330000").shut_down().await;

    let restarted =
        tokio::task::block_in_place(|| open(config.clone())).expect("opens from the disk cache");
    let current = restarted.trust_store().current();
    assert!(current.from_cache, "the trust list came from the cache");
    assert_eq!(current.trust.seq(), 2);
    let report = tokio::task::block_in_place(|| restarted.verify(&qr_text, now));
    assert_eq!(report.verdict, Verdict::Valid, "{report:?}");
    assert!(report.status_lists[0].iat.is_some(), "{report:?}");

    // A background refresh with the network gone fails, is reported, and changes nothing.
    let later = now.plus(600);
    assert!(!tokio::task::block_in_place(|| restarted.refresh(later)));
    let status = restarted.trust_store().status(later, 0);
    assert!(status.last_error.is_some(), "{status:?}");
    assert_eq!(status.seq, 2);
    let report = tokio::task::block_in_place(|| restarted.verify(&qr_text, later));
    assert_eq!(report.verdict, Verdict::Valid, "{report:?}");
}

/// No trust list to be had, or nothing pinned to check one with: the verifier does not start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verifier_refuses_to_start_without_trust_material() {
    let net = Network::new(&[ZHEJIANG], 1).await;
    // A port nothing listens on.
    let unreachable = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/v1/trust-list", listener.local_addr().unwrap())
    };
    let empty_cache = net.dir.path().join("empty-cache");
    std::fs::create_dir_all(&empty_cache).unwrap();
    let now = SystemClock.now();

    let config = net.verifier_config(TrustSource::Url(unreachable), Some(empty_cache.clone()));
    let result = tokio::task::block_in_place(|| Verifier::open(config, now));
    assert!(
        matches!(result, Err(TrustStoreError::Unavailable(_))),
        "{result:?}"
    );
    assert!(!has_file(&empty_cache, |n| n.ends_with(".jwt")));

    // A good trust list file, but nothing pinned.
    let mut config = net.verifier_config(TrustSource::File(net.trust_path.clone()), None);
    config.operator_certs.clear();
    let result = Verifier::open(config, now);
    assert!(
        matches!(result, Err(TrustStoreError::NothingPinned)),
        "{result:?}"
    );

    // A good trust list file, but another operator pinned.
    let other = pki::operator(
        &net.dir.path().join("other-operator"),
        "别的运营方",
        net.now.minus(60),
    );
    let other_pem = std::fs::read(other.path.join(&other.config.files.cert)).unwrap();
    let mut config = net.verifier_config(TrustSource::File(net.trust_path.clone()), None);
    config.operator_certs = huren_verifier::operator_certificates_from_pem(&other_pem).unwrap();
    let result = Verifier::open(config, now);
    assert!(
        matches!(result, Err(TrustStoreError::Unavailable(_))),
        "{result:?}"
    );

    // And the same list with the right pin opens (the failures above are about trust).
    let config = net.verifier_config(TrustSource::File(net.trust_path.clone()), None);
    assert!(Verifier::open(config, now).is_ok());
}

/// `huren verifier serve` as the CLI builds it: `App::build` from the service's settings on a
/// bound listener. The address goes to `addr_file`, licences verify, the background work
/// re-reads the trust list (the one test that waits for it: `refresh_secs` = 1, polled with a
/// deadline), and the service stops when told.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_built_from_its_settings_serves_refreshes_and_stops() {
    let mut net = Network::new(&[ZHEJIANG], 1).await;
    net.start_issuers(DEFAULT_PUBLICATION).await;
    let addr_file = net.dir.path().join("run").join("verifier.addr");
    let config = VerifierFile {
        trust_list: Some(net.trust_path.display().to_string()),
        operator_cert: Some(vec![net.operator_cert.clone()]),
        cache_dir: Some(net.dir.path().join("service-cache")),
        addr_file: Some(addr_file.clone()),
        refresh_secs: Some(1),
        rate_limit: Some(0),
        ..VerifierFile::default()
    }
    .resolve()
    .unwrap();
    let pinned =
        huren_verifier::operator_certificates_from_pem(&std::fs::read(&net.operator_cert).unwrap())
            .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = server::App::build(&config, pinned, listener).await.unwrap();
    let addr = app.local_addr().unwrap();
    assert_eq!(
        std::fs::read_to_string(&addr_file).unwrap(),
        addr.to_string()
    );
    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let url = format!("http://{addr}");
    assert_eq!(
        get_json(&format!("{url}/readyz")).await["trust_list_seq"],
        1
    );
    let issued = net.issuer("330000").issue().await;
    let report = verify_text(&url, "", issued["qr_text"].as_str().unwrap()).await;
    assert_eq!(report["verdict"], "valid", "{report}");

    // Metrics: the verdict counted, the route timed, and the trust material's age readable.
    let metrics = http(&format!("{url}/metrics"), &[], None).await;
    assert!(metrics
        .content_type
        .starts_with("application/openmetrics-text"));
    let metrics = String::from_utf8(metrics.body).unwrap();
    for line in [
        "huren_verifications_valid_total 1",
        "huren_trust_list_seq 1",
        r#"huren_http_request_duration_seconds_count{route="/v1/verify",status="200"} 1"#,
        "# TYPE huren_trust_list_age_seconds gauge",
        "# TYPE huren_trust_list_next_update_seconds gauge",
        "huren_status_list_age_seconds{url=\"http://127.0.0.1:",
        "huren_crls_failing 0",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    // Every answer carries a request id: the client's own, or a fresh one.
    let quoted = http(
        &format!("{url}/healthz"),
        &[("x-request-id", "bank-7-0042")],
        None,
    )
    .await;
    assert_eq!(quoted.request_id.as_deref(), Some("bank-7-0042"));
    let first = http(&format!("{url}/healthz"), &[], None).await.request_id;
    let second = http(&format!("{url}/healthz"), &[], None).await.request_id;
    for id in [&first, &second] {
        let (prefix, counter) = id.as_deref().unwrap().split_once('-').unwrap();
        assert_eq!(prefix.len(), 16, "{id:?}");
        assert!(counter.parse::<u64>().is_ok(), "{id:?}");
    }
    assert_ne!(first, second);

    net.write_trust_list(&net.trust_list(2, net.now.plus(60)));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut seq = Value::Null;
    while std::time::Instant::now() < deadline {
        seq = get_json(&format!("{url}/readyz")).await["trust_list_seq"].clone();
        if seq == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        seq, 2,
        "the background work did not take the new trust list"
    );

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(30), running)
        .await
        .expect("the service stops")
        .unwrap()
        .unwrap();
    let probe = try_http(&format!("{url}/healthz"), &[], None).await;
    assert!(probe.is_err(), "the service still answers: {probe:?}");
}

/// Work on the blocking thread that panics (here: fetching the licence's status list) is
/// answered 500 `internal` problem JSON, as on the seal route — not the report held before the
/// fetch, which would pass an unchecked status off as an answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_fetch_that_panics_is_answered_500_internal() {
    let mut net = Network::new(&[ZHEJIANG], 1).await;
    net.start_issuers(DEFAULT_PUBLICATION).await;
    let config = net.verifier_config(TrustSource::File(net.trust_path.clone()), None);
    let verifier =
        Verifier::open_with(config, Arc::new(PanickingFetcher), SystemClock.now()).unwrap();
    let window = open_window(server::state(Arc::new(verifier), 0)).await;
    let issued = net.issuer("330000").issue().await;
    for _ in 0..2 {
        let reply = http(
            &format!("{}/v1/verify", window.url),
            &[("content-type", "text/plain")],
            Some(issued["qr_text"].as_str().unwrap().as_bytes().to_vec()),
        )
        .await;
        let problem = reply.json();
        assert_eq!(reply.status, 500, "{problem}");
        assert_eq!(problem["code"], "internal", "{problem}");
        assert_eq!(problem["status"], 500, "{problem}");
        assert!(
            !problem["detail"].as_str().unwrap().contains("bug"),
            "{problem}"
        );
    }
    // Offline input the verifier can answer without the fetcher still gets its report.
    let report = verify_text(&window.url, "", "HR1:0").await;
    assert_eq!(report["verdict"], "invalid", "{report}");
}

/// A caching proxy in front of the issuers that can be made to serve an old copy.
struct StaleCdn {
    origin: HttpFetcher,
    replay: Mutex<Option<String>>,
}

impl Fetcher for StaleCdn {
    fn fetch(&self, url: &str, etag: Option<&str>) -> Result<Fetched, FetchError> {
        match self.replay.lock().unwrap().clone() {
            Some(text) => Ok(Fetched::Body { text, etag: None }),
            None => self.origin.fetch(url, etag),
        }
    }
}

/// A replayed older status list (a stale proxy copy, still within its `exp`) never rolls a
/// verifier back to "valid" for a revoked licence — neither in memory nor through its disk
/// cache after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_status_list_never_replaces_a_newer_one_across_restarts() {
    let mut net = Network::new(&[ZHEJIANG], 1).await;
    net.start_issuers(DEFAULT_PUBLICATION).await;
    let issued = net.issuer("330000").issue().await;
    let qr_text = issued["qr_text"].as_str().unwrap().to_owned();
    let jti = issued["id"].as_str().unwrap().to_owned();

    // The clean list, as a proxy would have cached it.
    let now = SystemClock.now();
    let probe = net.file_verifier().unwrap();
    let report = tokio::task::block_in_place(|| probe.verify(&qr_text, now));
    assert_eq!(report.verdict, Verdict::Valid, "{report:?}");
    let uri = report.status_lists[0].uri.clone();
    let clean = String::from_utf8(http(&uri, &[], None).await.body).unwrap();

    // A minute later the licence is revoked (the new list is signed a minute later).
    net.issuer_clock_offset.store(60, Ordering::SeqCst);
    net.issuer("330000").revoke(&jti).await;
    let later = now.plus(60);
    let cache = net.dir.path().join("bank-cache");
    let proxy = Arc::new(StaleCdn {
        origin: HttpFetcher::new(FETCH_TIMEOUT),
        replay: Mutex::new(None),
    });
    let config = net.verifier_config(TrustSource::File(net.trust_path.clone()), Some(cache));
    let verifier = Verifier::open_with(config.clone(), proxy.clone(), later).unwrap();
    let report = tokio::task::block_in_place(|| verifier.verify(&qr_text, later));
    assert_eq!(codes(&report), vec!["revoked"], "{report:?}");

    // The proxy now serves the old copy; the due refresh gets it and must not take it.
    *proxy.replay.lock().unwrap() = Some(clean);
    let after_ttl = later.plus(i64::try_from(DEFAULT_PUBLICATION.ttl_secs).unwrap() + 1);
    tokio::task::block_in_place(|| verifier.refresh(after_ttl));
    let report = verifier.verify(&qr_text, after_ttl);
    assert_eq!(codes(&report), vec!["revoked"], "in memory: {report:?}");
    drop(verifier);

    // Restarted with the network gone, it answers from its disk cache.
    net.issuer_mut("330000").shut_down().await;
    let restarted = tokio::task::block_in_place(|| open(config)).unwrap();
    let report = tokio::task::block_in_place(|| restarted.verify(&qr_text, after_ttl));
    assert_eq!(
        codes(&report),
        vec!["revoked"],
        "after a restart, from the disk cache: {report:?}"
    );
}
