//! Hostile input against the verification service (SPEC §6–§7): a deterministic corpus of
//! well over a thousand requests — truncated and mutated real tokens, random and non-UTF-8
//! bytes, huge and wrongly typed JSON, deflate and image bombs, oversize bodies, wrong content
//! types, broken multipart, huge headers, hostile JWS headers and malformed HTTP — sent over a
//! real socket to an in-process server.
//!
//! Every answer must be a report (HTTP 200, `reasons` empty exactly when `valid`) or a 4xx
//! problem (`application/problem+json` with a `code`): never a 5xx, never a dropped connection
//! or a hang, and never `valid` for anything but an untouched real token. Beyond that, each case
//! names the one answer a correct service gives: the verdict with its exact `reasons`, or the
//! HTTP status with its problem `code` (for mutated tokens decided by [`model`] from where the
//! change lands). Afterwards the server still answers `/healthz` and its resident memory has
//! stayed bounded.
//!
//! No assertion here reads a clock: the work hostile input may cost is held to bounds that do
//! not depend on the machine (an inflate limit, a body limit, one photo decoder answering with
//! an explicit code, resident memory). How fast the service is lives in the benchmarks:
//! `crypto/benches/verify.rs` (the verify path) and `bench/verifier-load.sh` (the service).
//!
//! - [`pki`]: the trust material the service reads, from the shared fixture in `tests/common`.
//! - [`client`]: a raw HTTP/1.1 client and the request builders.
//! - [`images`]: hand-made PNG/JPEG/QR images.
//! - [`corpus`]: the cases, one module per kind of attack; [`oracle`]: what every answer must
//!   be, and whether it is the case's; [`model`]: the answer to a changed real token.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod client;
mod corpus;
mod images;
mod model;
mod oracle;
mod pki;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use huren_crypto::{b64, qr};
use huren_verifier::{TrustSource, Verifier, VerifierConfig};

use crate::client::{
    decoder_busy_wait, exchange, get, image_part, json_body, multipart, post, send,
    DECODER_BUSY_RETRIES,
};
use crate::common::fetch::NoNetwork;
use crate::common::service::NO_BACKGROUND_REFRESH;
use crate::common::{default_face, licence_with, IDX, NOW};
use crate::corpus::{build_corpus, Case, Expect, Real, Req};
use crate::images::{binary_noise_png, tiled_finder_patterns};
use crate::oracle::check;
use crate::pki::{make_pki, Pki};

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

/// Deterministic randomness.
pub(crate) struct XorShift(u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn byte(&mut self) -> u8 {
        (self.next() >> 24) as u8
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
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

#[derive(Default)]
struct Tally {
    sent: usize,
    valid: usize,
    invalid: usize,
    indeterminate: usize,
    problems: BTreeMap<String, usize>,
    failed: usize,
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
            unit: None,
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
    let zj = pki.zhejiang;
    let ah = pki.anhui;
    let mut big_face = default_face();
    for k in 0..40 {
        big_face.insert(
            format!("附注{k:02}"),
            "本证书在有效期内全国通用，请妥善保管。".to_owned(),
        );
    }
    let valid = vec![
        zj.sign(&zj.claims_for(
            "2026000001",
            licence_with("2026-11-20", "2031-11-19", default_face()),
            Some(IDX),
        )),
        zj.sign(&zj.claims_for(
            "2026000002",
            licence_with("2026-11-20", "2031-11-19", big_face),
            None,
        )),
        ah.sign(&ah.claims_for(
            "2026000003",
            licence_with("2026-11-20", "2031-11-19", default_face()),
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
        huren_verifier::server::App::with_state(state, NO_BACKGROUND_REFRESH, listener).run_until(
            async move {
                let _ = stopped.await;
            },
        ),
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
    println!("corpus: {} cases", corpus.0.len());
    // Warm up (first request, first image decode) before the memory baseline.
    assert_eq!(get(addr, "/healthz").status, 200);
    let warm = exchange(addr, post(Some("text/plain"), real.valid[0].as_bytes())).unwrap();
    assert_eq!(warm.status, 200);
    let rss_before = vm_kb("VmRSS:");
    let mut rss_after_pass = Vec::new();

    let mut tallies: BTreeMap<&'static str, Tally> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut valid_answers = 0u64;
    let mut answers_200 = 0u64;
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
            let mut result = exchange(addr, bytes);
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
                result = exchange(addr, case.req.build());
            }
            let tally = tallies.entry(category).or_default();
            tally.sent += 1;
            let verdict = match result {
                Err(e) if matches!(case.expect, Expect::ClientBroke(..)) => {
                    Ok(Some(format!("closed ({e})")))
                }
                Err(e) => Err(format!("no answer: {e}")),
                Ok(response) => {
                    // What the server counts, whatever this test thinks of the answer.
                    if response.status == 200 {
                        answers_200 += 1;
                        if response.body.starts_with(br#"{"verdict":"valid""#) {
                            valid_answers += 1;
                        }
                    }
                    check(case, &response)
                }
            };
            match verdict {
                Ok(Some(outcome)) => {
                    if outcome == "200 valid" {
                        tally.valid += 1;
                    } else if outcome.starts_with("200 invalid") {
                        tally.invalid += 1;
                    } else if outcome.starts_with("200 indeterminate") {
                        tally.indeterminate += 1;
                    } else {
                        *tally.problems.entry(outcome).or_default() += 1;
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    tally.failed += 1;
                    failures.push(format!("[{}] {}: {e}", case.category, case.name));
                }
            }
        }
        rss_after_pass.push(vm_kb("VmRSS:"));
    }

    // Rate limiting on a second listener sharing the verifier: 1 per second, burst 2.
    let limited = huren_verifier::server::state(verifier.clone(), 1);
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let limited_addr = listener.local_addr().unwrap();
    let limited_server = runtime.spawn(
        huren_verifier::server::App::with_state(limited, NO_BACKGROUND_REFRESH, listener)
            .run_until(std::future::pending()),
    );
    let mut rate_statuses = Vec::new();
    let rate_case = Case {
        category: "rate_limit",
        name: "burst".into(),
        req: Req::Bytes(Vec::new()),
        // "HR1:12" is the token "9": malformed, unless the limiter refuses it first. Which of
        // the eight requests the token bucket lets through depends on how much time passed
        // between them (it refills at one per second); the count of 429s is held below.
        expect: Expect::OneOf(&[
            Expect::Invalid(&["malformed"]),
            Expect::Problem(429, "rate_limited"),
        ]),
        bomb: false,
    };
    for _ in 0..8 {
        let response = exchange(limited_addr, post(Some("text/plain"), b"HR1:12")).unwrap();
        if let Err(e) = check(&rate_case, &response) {
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
        "\n{:<18} {:>5} {:>6} {:>8} {:>6} {:>7}  problems",
        "category", "sent", "valid", "invalid", "indet", "failed"
    );
    let mut total = 0;
    for (category, t) in &tallies {
        total += t.sent;
        println!(
            "{category:<18} {:>5} {:>6} {:>8} {:>6} {:>7}  {:?}",
            t.sent, t.valid, t.invalid, t.indeterminate, t.failed, t.problems
        );
    }
    println!("rate_limit: 8 rapid requests at 1/s burst 2 -> {rate_statuses:?}");
    println!("total {total} requests ({} cases, twice)", corpus.0.len());
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

/// QR detection time explodes on small crafted images: rqrr 0.10's `detect_grids` tries
/// capstone pairs and clones the prepared image for every candidate group, so a 240×240 PNG of
/// tiled finder patterns costs up to a minute of CPU, and that work cannot be interrupted. The
/// service bounds it instead: photos are decoded one at a time, every photo request gets an
/// explicit answer (422 `image_too_complex` when the decode budget runs out, 429
/// `image_decoder_busy` while another photo holds the decoder), and typed or scanned input is
/// never held up by a photo. Asserted without a clock: by those answer codes, and by the order
/// of answers (a scanned code sent after a photo is answered before it). How long a decode
/// takes is not this test's business.
#[test]
fn crafted_photos_are_refused_and_never_hold_up_scanned_codes() {
    let Setup {
        real,
        runtime,
        addr,
        stop: _stop,
        ..
    } = setup();
    let photo_refused = |name: &str, answer: Result<crate::client::Response, String>| {
        let answer = answer.map_err(|e| format!("{name}: no answer: {e}"))?;
        let problem: serde_json::Value = serde_json::from_slice(&answer.body)
            .map_err(|e| format!("{name}: HTTP {} without problem JSON: {e}", answer.status))?;
        let code = problem["code"].as_str().unwrap_or("");
        println!("{name}: {} {code}", answer.status);
        match (answer.status, code) {
            (422, "image_too_complex") | (429, "image_decoder_busy") | (400, "no_qr_code") => {
                Ok(())
            }
            (status, code) => Err(format!(
                "{name}: {status} {code} (wanted image_too_complex, image_decoder_busy or no_qr_code)"
            )),
        }
    };
    let mut failures = Vec::new();
    for (name, png) in [
        (
            "tiled finder patterns 240x240",
            tiled_finder_patterns(240, 1),
        ),
        ("binary noise 2000x2000", binary_noise_png(2000, 99)),
    ] {
        let answer = exchange(addr, multipart(&[image_part(&png)]));
        if let Err(e) = photo_refused(name, answer) {
            failures.push(e);
        }
    }
    // A crafted photo waiting for the decoder (or holding it); meanwhile a scanned code.
    let photo = send(
        addr,
        multipart(&[image_part(&tiled_finder_patterns(240, 1))]),
    )
    .unwrap();
    let scanned = exchange(addr, post(Some("text/plain"), real.valid_qr[0].as_bytes()));
    let photo_answered_first = photo.answered_yet();
    match &scanned {
        Ok(r) if r.status == 200 && r.body.starts_with(br#"{"verdict":"valid""#) => {}
        other => failures.push(format!(
            "the scanned code was not answered valid: {:?}",
            other
                .as_ref()
                .map(|r| (r.status, String::from_utf8_lossy(&r.body).into_owned()))
        )),
    }
    if photo_answered_first {
        failures.push("the scanned code was answered only after the photo sent before it".into());
    }
    if let Err(e) = photo_refused("tiled finder patterns, again", photo.answer()) {
        failures.push(e);
    }
    runtime.shutdown_background();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
