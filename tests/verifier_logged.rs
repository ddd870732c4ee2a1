//! Verifiers that require logging, warn, or do not look (SPEC §12, `HUREN_LOG_CHECK`): the
//! verifier library asks a real HTTP log — an
//! in-test axum server on 127.0.0.1:0 serving `GET /v1/log/proof` from a tree built with
//! `huren_crypto::tlog`, its checkpoints signed by the region's log key and cosigned by a
//! witness, both named in the trust list — and reports exact verdicts, reasons and warnings.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use huren_crypto::copy::{Copier, CopyId, CopyMaking, CopyTerms, Purpose};
use huren_crypto::tlog::entry::{token_sha256, LogEntry};
use huren_crypto::tlog::note::{self, NoteKeyPair};
use huren_crypto::tlog::tree::{self, Fetched, Frontier};
use huren_crypto::tlog::vkey::KeyType;
use huren_crypto::tlog::witness_name;
use huren_crypto::trust_list::WitnessEntry;
use huren_keys::trust_build;
use huren_verifier::{
    HttpFetcher, LogCheck, Outcome, Report, TrustSource, Verdict, Verifier, VerifierConfig,
    VerifyOptions, Warning,
};

use common::*;

/// An Ed25519 key from a fixed seed (RFC 8410 PKCS#8 v1: a fixed prefix and the seed).
fn note_key(name: &str, key_type: KeyType, seed: u8) -> NoteKeyPair {
    let mut pkcs8 = hex::decode("302e020100300506032b657004220420").unwrap();
    pkcs8.extend_from_slice(&[seed; 32]);
    NoteKeyPair::from_pkcs8(name, key_type, &pkcs8).unwrap()
}

fn log_key() -> NoteKeyPair {
    note_key("huren.gov.cn/log/330000", KeyType::Ed25519, 7)
}

fn witness_key() -> NoteKeyPair {
    let code = fixture().jiangsu.code();
    note_key(&witness_name(&code), KeyType::Cosignature, 2)
}

/// What the log server answers per token hash (`404 not_logged` for any other).
type Answers = Arc<Mutex<HashMap<String, (u16, serde_json::Value)>>>;

async fn proof(
    State(answers): State<Answers>,
    Query(query): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    let hash = query.get("token_sha256").cloned().unwrap_or_default();
    let (status, body) = answers
        .lock()
        .unwrap()
        .get(&hash)
        .cloned()
        .unwrap_or_else(|| {
            (
                404,
                serde_json::json!({"type": "https://huren.invalid/problems/not_logged",
                    "title": "Not logged", "status": 404, "code": "not_logged",
                    "detail": "no entry with this token_sha256"}),
            )
        });
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        body.to_string(),
    )
}

/// Serves `answers` at `http://<addr>/v1/log/proof` on a runtime of its own, so the tests'
/// blocking verifier can call it.
fn serve(answers: Answers) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let app = Router::new()
                .route("/v1/log/proof", get(proof))
                .with_state(answers);
            axum::serve(listener, app).await.unwrap();
        });
    });
    addr
}

/// Zhejiang's log: the tokens' entries, in order.
struct Log {
    entries: Vec<Vec<u8>>,
    stored: Fetched,
    size: u64,
}

impl Log {
    fn new(logged: &[(&str, &str, &str)]) -> Log {
        let mut frontier = Frontier::empty();
        let mut stored = Fetched::new();
        let mut entries = Vec::new();
        for (seq, (action, subject, token)) in (1..).zip(logged) {
            let entry = LogEntry {
                seq,
                at: SIGNED.seconds(),
                action: (*action).into(),
                subject: (*subject).into(),
                token_sha256: Some(token_sha256(token.as_bytes())),
            }
            .to_bytes();
            stored.extend(frontier.append(&entry).unwrap());
            entries.push(entry);
        }
        Log {
            size: frontier.size(),
            entries,
            stored,
        }
    }

    /// The checkpoint signed by `signer` and cosigned by `cosigners`.
    fn checkpoint(&self, signer: &NoteKeyPair, cosigners: &[&NoteKeyPair]) -> String {
        let root = tree::root(self.size, &self.stored).unwrap();
        let signed = note::sign_checkpoint(signer, self.size, &root).unwrap();
        let text = note::checkpoint_text(signer.verifier_key().name(), self.size, &root).unwrap();
        let lines: Vec<String> = cosigners
            .iter()
            .map(|w| w.cosign(&text, SIGNED.seconds() as u64 + 1).unwrap())
            .collect();
        note::add_signature_lines(&signed, &lines).unwrap()
    }

    /// The `200` answer for entry `index` with `checkpoint`.
    fn answer(&self, index: usize, checkpoint: &str) -> (u16, serde_json::Value) {
        let proof = tree::inclusion_proof(self.size, index as u64, &self.stored).unwrap();
        (
            200,
            serde_json::json!({
                "index": index,
                "tree_size": self.size,
                "proof": proof.iter().map(|h| STANDARD.encode(h.0)).collect::<Vec<_>>(),
                "checkpoint": checkpoint,
                "entry": String::from_utf8(self.entries[index].clone()).unwrap(),
            }),
        )
    }
}

/// A Zhejiang licence without a status entry (so only the log decides), serial `serial`.
fn licence(serial: &str) -> (String, String) {
    let province = &fixture().zhejiang;
    let claims = province.claims_for(serial, sample_licence(), None);
    (province.sign(&claims), claims.jti.as_str().to_owned())
}

/// A copy (no status entries of its own) of Zhejiang's licence `serial`, made at `SIGNED`.
fn copy(serial: &str) -> (String, String) {
    let province = &fixture().zhejiang;
    let terms = CopyTerms {
        purpose: Purpose {
            cause: "亮证".into(),
            category: 1,
            item_code: None,
            item_name: None,
        },
        aud: None,
        disclose: None,
        valid_for_secs: Some(30 * 86_400),
    };
    let claims = terms
        .make(
            &province.claims_for(serial, sample_licence(), None),
            CopyMaking {
                id: CopyId::from_random([0x42; 16]),
                iat: SIGNED,
                copier: Copier {
                    name: "浙江政务服务网".into(),
                },
                copy_status: None,
                face_disclosable: &|_| true,
            },
        )
        .unwrap();
    let token = claims
        .sign(&province.signer, province.signer_cert.x5t_s256())
        .unwrap();
    (token, claims.jti.as_str().to_owned())
}

/// The library on the fixture's trust list with Zhejiang's log (key, one witness, quorum 1)
/// served at `issuer`.
fn library(issuer: &str, online: bool, log_check: LogCheck) -> Verifier {
    library_with_cache(issuer, online, log_check, None)
}

/// [`library`] keeping its last-good copies (and log proofs) in `cache_dir`.
fn library_with_cache(
    issuer: &str,
    online: bool,
    log_check: LogCheck,
    cache_dir: Option<&std::path::Path>,
) -> Verifier {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let trust_path = dir.path().join("trust-list.jwt");
    std::fs::write(&trust_path, trust_list(issuer)).unwrap();
    let verifier = Verifier::open_with(
        VerifierConfig {
            unit: None,
            trust_source: TrustSource::File(trust_path),
            operator_certs: vec![f.operator_cert.clone()],
            cache_dir: cache_dir.map(std::path::Path::to_path_buf),
            online,
            options: VerifyOptions {
                log_check,
                ..VerifyOptions::default()
            },
        },
        Arc::new(HttpFetcher::default()),
        NOW,
    )
    .unwrap();
    let zhejiang = verifier
        .trust_store()
        .current()
        .trust
        .region(&f.zhejiang.code())
        .cloned()
        .unwrap();
    assert!(
        zhejiang.log.is_some(),
        "the test trust list's log is usable"
    );
    verifier
}

/// The fixture's trust list, signed, with Zhejiang's log served at `issuer`.
fn trust_list(issuer: &str) -> String {
    let f = fixture();
    let mut claims = f.trust_claims.clone();
    let zhejiang = claims
        .regions
        .iter_mut()
        .find(|r| r.code == f.zhejiang.code())
        .unwrap();
    let witness = witness_key().verifier_key().clone();
    zhejiang.issuer_uri = Some(issuer.to_owned());
    zhejiang.log_key = Some(log_key().verifier_key().clone());
    zhejiang.witnesses = vec![WitnessEntry {
        name: witness.name().to_owned(),
        vkey: witness,
        url: "https://issuer-320000.example/v1/witness".into(),
    }];
    zhejiang.witness_quorum = 1;
    trust_build::sign(&claims, &f.operator_key, f.operator_cert.der()).unwrap()
}

fn outcome(report: &Report) -> (Verdict, Vec<Outcome>, Vec<Warning>) {
    (
        report.verdict,
        report.reasons.clone(),
        report.warnings.clone(),
    )
}

fn logged_check(report: &Report) -> Option<bool> {
    report
        .checks
        .iter()
        .find(|c| c.check == huren_crypto::verify::CheckName::Logged)
        .unwrap_or_else(|| panic!("no logged check: {report:#?}"))
        .ok
}

/// The log server with every scenario's answer, and the tokens.
struct World {
    issuer: String,
    answers: Answers,
    logged: (String, String),
    never_logged: (String, String),
    forged: (String, String),
    unwitnessed: (String, String),
    borrowed: (String, String),
    copy: (String, String),
}

fn world() -> World {
    let logged = licence("2026100001");
    let never_logged = licence("2026100002");
    let forged = licence("2026100003");
    let unwitnessed = licence("2026100004");
    let borrowed = licence("2026100005");
    let other = licence("2026100006");
    let copy = copy("2026100007");
    let log = Log::new(&[
        ("issue", logged.1.as_str(), logged.0.as_str()),
        ("issue", forged.1.as_str(), forged.0.as_str()),
        ("issue", unwitnessed.1.as_str(), unwitnessed.0.as_str()),
        ("issue", other.1.as_str(), other.0.as_str()),
        ("copy_make", copy.1.as_str(), copy.0.as_str()),
    ]);
    let (log_key, witness) = (log_key(), witness_key());
    let good = log.checkpoint(&log_key, &[&witness]);
    let impostor = note_key("huren.gov.cn/log/330000", KeyType::Ed25519, 9);
    let hash = |token: &str| token_sha256(token.as_bytes());
    let answers: Answers = Arc::new(Mutex::new(HashMap::from([
        (hash(&logged.0), log.answer(0, &good)),
        (
            hash(&forged.0),
            log.answer(1, &log.checkpoint(&impostor, &[&witness])),
        ),
        (
            hash(&unwitnessed.0),
            log.answer(2, &log.checkpoint(&log_key, &[])),
        ),
        // Another token's genuine entry and proof, offered for this one.
        (hash(&borrowed.0), log.answer(3, &good)),
        (hash(&copy.0), log.answer(4, &good)),
    ])));
    let addr = serve(answers.clone());
    World {
        issuer: format!("http://{addr}"),
        answers,
        logged,
        never_logged,
        forged,
        unwitnessed,
        borrowed,
        copy,
    }
}

#[test]
fn a_logged_licence_is_valid_and_the_report_says_where() {
    let w = world();
    let verifier = library(&w.issuer, true, LogCheck::Require);
    let report = verifier.verify(&w.logged.0, NOW);
    assert_eq!(outcome(&report), (Verdict::Valid, vec![], vec![]));
    assert_eq!(logged_check(&report), Some(true));
    let log = report.log.clone().unwrap();
    assert_eq!((log.index, log.tree_size), (Some(0), Some(5)));
    assert_eq!(log.token_sha256, token_sha256(w.logged.0.as_bytes()));
    // The QR form of the same token hashes the same compact bytes.
    let qr = huren_crypto::qr::encode(&w.logged.0).unwrap();
    assert_eq!(
        outcome(&verifier.verify(&qr, NOW)),
        (Verdict::Valid, vec![], vec![])
    );
}

#[test]
fn a_licence_signed_with_the_regions_key_but_never_logged_is_not_logged() {
    let w = world();
    let required = library(&w.issuer, true, LogCheck::Require);
    assert_eq!(
        outcome(&required.verify(&w.never_logged.0, NOW)),
        (Verdict::Invalid, vec![Outcome::NotLogged], vec![])
    );
    // Warning (the default): the log is asked, and its "not logged" is a warning only.
    let warning = library(&w.issuer, true, LogCheck::default());
    let report = warning.verify(&w.never_logged.0, NOW);
    assert_eq!(
        outcome(&report),
        (Verdict::Valid, vec![], vec![Warning::NotLogged])
    );
    assert_eq!(logged_check(&report), Some(false));
    assert_eq!(warning.log_cache().len(), 1);
    // A logged licence shows its entry without a warning.
    let report = warning.verify(&w.logged.0, NOW);
    assert_eq!(outcome(&report), (Verdict::Valid, vec![], vec![]));
    assert_eq!(logged_check(&report), Some(true));
    assert_eq!(report.log.unwrap().index, Some(0));
    // Off: not asked, not looked at, no check listed.
    let off = library(&w.issuer, true, LogCheck::Off);
    let report = off.verify(&w.never_logged.0, NOW);
    assert_eq!(outcome(&report), (Verdict::Valid, vec![], vec![]));
    assert!(report.log.is_none() && report.checks.len() == 11);
    assert!(off.log_cache().is_empty());
}

#[test]
fn a_verifier_that_warns_does_not_ask_within_the_merge_delay() {
    let w = world();
    let warning = library(&w.issuer, true, LogCheck::Warn);
    let report = warning.verify(&w.never_logged.0, SIGNED.plus(2));
    // Nothing asked, nothing listed; the report names the lookup still to make.
    assert_eq!(outcome(&report), (Verdict::Valid, vec![], vec![]));
    assert_eq!(report.checks.len(), 11);
    let lookup = report.log.unwrap();
    assert_eq!(
        (lookup.index, lookup.token_sha256),
        (None, token_sha256(w.never_logged.0.as_bytes()))
    );
    assert!(warning.log_cache().is_empty());
    // Once the delay has passed it asks.
    assert_eq!(
        outcome(&warning.verify(&w.never_logged.0, SIGNED.plus(40))),
        (Verdict::Valid, vec![], vec![Warning::NotLogged])
    );
}

#[test]
fn within_the_merge_delay_an_unlogged_licence_is_only_a_warning() {
    let w = world();
    let verifier = library(&w.issuer, true, LogCheck::Require);
    let report = verifier.verify(&w.never_logged.0, SIGNED.plus(2));
    assert_eq!(
        outcome(&report),
        (Verdict::Valid, vec![], vec![Warning::LogPending])
    );
    assert_eq!(logged_check(&report), None);
    // After the delay the log is asked again (the earlier "not logged" predates it).
    assert_eq!(
        outcome(&verifier.verify(&w.never_logged.0, SIGNED.plus(40))),
        (Verdict::Invalid, vec![Outcome::NotLogged], vec![])
    );
}

#[test]
fn a_checkpoint_signed_by_another_key_is_not_logged() {
    let w = world();
    let verifier = library(&w.issuer, true, LogCheck::Require);
    assert_eq!(
        outcome(&verifier.verify(&w.forged.0, NOW)),
        (Verdict::Invalid, vec![Outcome::NotLogged], vec![])
    );
}

#[test]
fn a_checkpoint_without_the_quorums_cosignatures_is_not_logged() {
    let w = world();
    let verifier = library(&w.issuer, true, LogCheck::Require);
    assert_eq!(
        outcome(&verifier.verify(&w.unwitnessed.0, NOW)),
        (Verdict::Invalid, vec![Outcome::NotLogged], vec![])
    );
}

#[test]
fn a_proof_of_another_tokens_entry_is_not_logged() {
    let w = world();
    let verifier = library(&w.issuer, true, LogCheck::Require);
    let report = verifier.verify(&w.borrowed.0, NOW);
    assert_eq!(
        outcome(&report),
        (Verdict::Invalid, vec![Outcome::NotLogged], vec![])
    );
}

#[test]
fn an_unreachable_log_is_indeterminate_when_required_never_valid() {
    let w = world();
    // Nothing listens there (a port just freed).
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let verifier = library(&format!("http://{closed}"), true, LogCheck::Require);
    let report = verifier.verify(&w.logged.0, NOW);
    assert_eq!(
        outcome(&report),
        (
            Verdict::Indeterminate,
            vec![Outcome::LogUnavailable],
            vec![]
        )
    );
    let lenient = library(&format!("http://{closed}"), true, LogCheck::Warn);
    assert_eq!(
        outcome(&lenient.verify(&w.logged.0, NOW)),
        (Verdict::Valid, vec![], vec![Warning::LogUnreachable])
    );
    // A log answering 503 is no answer either.
    let hash = token_sha256(w.never_logged.0.as_bytes());
    w.answers
        .lock()
        .unwrap()
        .insert(hash, (503, serde_json::json!({"code": "unavailable"})));
    let verifier = library(&w.issuer, true, LogCheck::Require);
    assert_eq!(
        outcome(&verifier.verify(&w.never_logged.0, NOW)),
        (
            Verdict::Indeterminate,
            vec![Outcome::LogUnavailable],
            vec![]
        )
    );
}

#[test]
fn offline_the_log_is_not_asked_and_inclusion_cannot_be_shown() {
    let w = world();
    let offline = library(&w.issuer, false, LogCheck::Require);
    assert_eq!(
        outcome(&offline.verify(&w.logged.0, NOW)),
        (
            Verdict::Indeterminate,
            vec![Outcome::LogUnavailable],
            vec![]
        )
    );
    assert!(offline.log_cache().is_empty());
    let lenient = library(&w.issuer, false, LogCheck::Warn);
    let report = lenient.verify(&w.logged.0, NOW);
    assert_eq!(outcome(&report), (Verdict::Valid, vec![], vec![]));
    assert_eq!(report.log.unwrap().index, None);
    assert!(lenient.log_cache().is_empty());
}

/// A proof that was fetched is kept on disk like the last-good status lists: a verifier
/// restarted without network still shows inclusion (judged again, not trusted as stored), and
/// still cannot show it for a token it never had a proof for.
#[test]
fn a_proof_kept_on_disk_shows_inclusion_after_an_offline_restart() {
    let w = world();
    let cache = tempfile::tempdir().unwrap();
    let online = library_with_cache(&w.issuer, true, LogCheck::Require, Some(cache.path()));
    assert_eq!(
        outcome(&online.verify(&w.logged.0, NOW)),
        (Verdict::Valid, vec![], vec![])
    );
    drop(online);
    let restarted = library_with_cache(&w.issuer, false, LogCheck::Require, Some(cache.path()));
    assert_eq!(
        outcome(&restarted.verify(&w.logged.0, NOW)),
        (Verdict::Valid, vec![], vec![])
    );
    assert_eq!(
        outcome(&restarted.verify(&w.never_logged.0, NOW)),
        (
            Verdict::Indeterminate,
            vec![Outcome::LogUnavailable],
            vec![]
        )
    );
    // A kept proof that was tampered with is judged, not trusted: not shown.
    for entry in std::fs::read_dir(cache.path()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("log-proof-")
        {
            let text = std::fs::read_to_string(&path).unwrap();
            let mut answer: serde_json::Value = serde_json::from_str(&text).unwrap();
            answer["index"] = serde_json::json!(answer["index"].as_u64().unwrap() + 1);
            std::fs::write(&path, answer.to_string()).unwrap();
        }
    }
    let tampered = library_with_cache(&w.issuer, false, LogCheck::Require, Some(cache.path()));
    assert_eq!(
        outcome(&tampered.verify(&w.logged.0, NOW)).1,
        vec![Outcome::NotLogged]
    );
}

#[test]
fn a_copy_logged_as_copy_make_is_valid() {
    let w = world();
    let verifier = library(&w.issuer, true, LogCheck::Require);
    let report = verifier.verify(&w.copy.0, NOW);
    assert_eq!(outcome(&report), (Verdict::Valid, vec![], vec![]));
    assert_eq!(logged_check(&report), Some(true));
    assert_eq!(report.log.unwrap().index, Some(4));
}

#[test]
fn huren_verify_asks_the_regions_log_as_its_log_check_says() {
    let w = world();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tl.jwt"), trust_list(&w.issuer)).unwrap();
    let operator = fixture().operator.path.join("operator.crt.pem");
    let operator = operator.to_str().unwrap();
    let at = NOW.seconds().to_string();
    let verify = |token: &str, extra: &[&str]| {
        let mut args = vec![
            "verify",
            "--trust-list",
            "tl.jwt",
            "--operator-cert",
            operator,
            "--at",
            &at,
        ];
        args.extend_from_slice(extra);
        args.push(token);
        let run = common::cli::huren(dir.path(), &args, None);
        let report: serde_json::Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
        (
            run.code,
            report["reasons"].clone(),
            report["warnings"].clone(),
        )
    };
    let none = serde_json::json!([]);
    assert_eq!(
        verify(&w.logged.0, &["--require-logged"]),
        (0, none.clone(), none.clone())
    );
    assert_eq!(
        verify(&w.never_logged.0, &["--require-logged"]),
        (1, serde_json::json!(["not_logged"]), none.clone())
    );
    assert_eq!(
        verify(&w.logged.0, &["--require-logged", "--offline"]),
        (2, serde_json::json!(["log_unavailable"]), none.clone())
    );
    assert_eq!(
        verify(&w.never_logged.0, &["--log-check", "require"]),
        (1, serde_json::json!(["not_logged"]), none.clone())
    );
    // Warning: asked when the command goes online (--fetch-status), a warning only.
    assert_eq!(
        verify(&w.never_logged.0, &["--fetch-status"]),
        (0, none.clone(), serde_json::json!(["not_logged"]))
    );
    assert_eq!(
        verify(&w.never_logged.0, &[]),
        (0, none.clone(), none.clone())
    );
    assert_eq!(
        verify(&w.never_logged.0, &["--log-check", "off", "--fetch-status"]),
        (0, none.clone(), none.clone())
    );
    // A typo is refused, not read as "off".
    let run = common::cli::huren(
        dir.path(),
        &["verify", "--log-check", "of", &w.logged.0],
        None,
    );
    assert_eq!(run.code, 64, "a usage error");
    assert!(
        run.stderr
            .contains("\"of\" is not a log check: require, warn or off"),
        "{}",
        run.stderr
    );
}
