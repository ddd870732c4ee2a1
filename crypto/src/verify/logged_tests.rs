//! The `logged` check's every path, against a real tree built with `tlog::tree::Frontier` and
//! checkpoints signed and cosigned by keys made from fixed seeds.

use std::collections::HashMap;
use std::sync::Arc;

use aws_lc_rs::signature::Ed25519KeyPair;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::log_evidence::{
    issuer_base, InclusionProof, LogAnswer, LogEvidence, LogSource, LogTrust, NoLogAnswers,
};
use super::logged::{check, LogCheck, LogContext, Logged};
use super::outcome::{CheckName, Outcome, Warning};
use super::report::ReportBuilder;
use super::VerifyOptions;
use crate::ids::RegionCode;
use crate::time::UnixTime;
use crate::tlog::entry::{token_sha256, LogEntry};
use crate::tlog::note::{self, NoteKeyPair};
use crate::tlog::tree::{self, Fetched, Frontier};
use crate::tlog::vkey::KeyType;

const TOKEN: &str = "eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJ4In0.c2lnbmF0dXJl";
const OTHER_TOKEN: &str = "eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJ5In0.c2lnbmF0dXJl";
const JTI: &str = "330000-JTI-0001";
const IAT: i64 = 1_800_000_000;
/// Well after the merge delay (5 s + 30 s of skew at most).
const LATER: UnixTime = UnixTime(IAT + 3600);

fn key_from_seed(name: &str, key_type: KeyType, seed: u8) -> NoteKeyPair {
    let pkcs8 = Ed25519KeyPair::from_seed_unchecked(&[seed; 32])
        .ok()
        .and_then(|k| k.to_pkcs8v1().ok())
        .map(|d| d.as_ref().to_vec())
        .unwrap_or_default();
    NoteKeyPair::from_pkcs8(name, key_type, &pkcs8).unwrap_or_else(|e| panic!("{e}"))
}

fn region() -> RegionCode {
    RegionCode::parse("330000").unwrap_or_else(|e| panic!("{e}"))
}

/// A region's log of a few entries, the token's among them, and its keys.
struct TestLog {
    log_key: NoteKeyPair,
    witness: NoteKeyPair,
    entries: Vec<Vec<u8>>,
    stored: Fetched,
    size: u64,
}

fn entry(seq: i64, action: &str, subject: &str, token: &str) -> Vec<u8> {
    LogEntry {
        seq,
        at: IAT,
        action: action.into(),
        subject: subject.into(),
        token_sha256: Some(token_sha256(token.as_bytes())),
    }
    .to_bytes()
}

impl TestLog {
    /// Entries 0 (another licence), 1 (`TOKEN` issued as `JTI`), 2 (a copy of `OTHER_TOKEN`).
    fn new() -> TestLog {
        let entries = vec![
            entry(1, "issue", "330000-OTHER", OTHER_TOKEN),
            entry(2, "issue", JTI, TOKEN),
            entry(3, "copy_make", "COPYID", OTHER_TOKEN),
        ];
        let mut frontier = Frontier::empty();
        let mut stored = Fetched::new();
        for leaf in &entries {
            stored.extend(frontier.append(leaf).unwrap_or_else(|e| panic!("{e}")));
        }
        TestLog {
            log_key: key_from_seed("huren.gov.cn/log/330000", KeyType::Ed25519, 7),
            witness: key_from_seed("huren.gov.cn/witness/320000", KeyType::Cosignature, 2),
            size: frontier.size(),
            entries,
            stored,
        }
    }

    fn trust(&self, quorum: usize) -> LogTrust {
        LogTrust {
            log_key: self.log_key.verifier_key().clone(),
            witnesses: vec![self.witness.verifier_key().clone()],
            quorum,
        }
    }

    /// The checkpoint signed by `signer`, cosigned by `cosigners`.
    fn checkpoint(&self, signer: &NoteKeyPair, cosigners: &[&NoteKeyPair]) -> String {
        let root = tree::root(self.size, &self.stored).unwrap_or_else(|e| panic!("{e}"));
        let signed = note::sign_checkpoint(signer, self.size, &root).unwrap_or_default();
        let text = note::checkpoint_text(signer.verifier_key().name(), self.size, &root)
            .unwrap_or_default();
        let lines: Vec<String> = cosigners
            .iter()
            .map(|w| w.cosign(&text, 1_800_000_100).unwrap_or_default())
            .collect();
        note::add_signature_lines(&signed, &lines).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The issuer's answer for entry `index`, witnessed by the listed witness.
    fn proof(&self, index: u64) -> InclusionProof {
        InclusionProof {
            index,
            tree_size: self.size,
            proof: tree::inclusion_proof(self.size, index, &self.stored)
                .unwrap_or_else(|e| panic!("{e}")),
            checkpoint: self.checkpoint(&self.log_key, &[&self.witness]),
            entry: self.entries[index as usize].clone(),
        }
    }
}

fn answer(evidence: LogEvidence, answered_at: UnixTime) -> HashMap<String, Arc<LogAnswer>> {
    HashMap::from([(
        token_sha256(TOKEN.as_bytes()),
        Arc::new(LogAnswer {
            evidence,
            answered_at,
        }),
    )])
}

fn required() -> VerifyOptions {
    VerifyOptions {
        log_check: LogCheck::Require,
        ..VerifyOptions::default()
    }
}

/// What the check made of it: `ok`, reasons, warnings.
type Seen = (Option<bool>, Vec<Outcome>, Vec<Warning>);

fn run_as(
    trust: &LogTrust,
    source: &dyn LogSource,
    action: &'static str,
    at: UnixTime,
    options: &VerifyOptions,
    iat: i64,
) -> (Seen, ReportBuilder) {
    let region = region();
    let context = LogContext {
        region: &region,
        trust,
        source,
        at,
        options,
    };
    let logged = Logged {
        action,
        subject: JTI,
        iat: UnixTime(iat),
    };
    let mut report = ReportBuilder::new(1);
    assert!(check(&context, TOKEN, &logged, &mut report));
    assert_eq!(report.checks.len(), 1);
    assert_eq!(report.checks[0].check, CheckName::Logged);
    let seen = (
        report.checks[0].ok,
        report.reasons.clone(),
        report.warnings.clone(),
    );
    (seen, report)
}

fn run(trust: &LogTrust, source: &dyn LogSource, at: UnixTime, options: &VerifyOptions) -> Seen {
    run_as(trust, source, "issue", at, options, IAT).0
}

fn refused() -> Seen {
    (Some(false), vec![Outcome::NotLogged], vec![])
}

#[test]
fn a_witnessed_proof_of_the_exact_token_passes_and_says_where() {
    let log = TestLog::new();
    let source = answer(LogEvidence::Proof(log.proof(1)), LATER);
    for options in [required(), VerifyOptions::default()] {
        let ((ok, reasons, warnings), report) =
            run_as(&log.trust(1), &source, "issue", LATER, &options, IAT);
        assert_eq!((ok, reasons, warnings), (Some(true), vec![], vec![]));
        let used = report.log.unwrap_or_else(|| panic!("no log use"));
        assert_eq!((used.index, used.tree_size), (Some(1), Some(3)));
        assert_eq!(used.token_sha256, token_sha256(TOKEN.as_bytes()));
        assert_eq!(used.settled_at, UnixTime(IAT + 5 + 30));
        assert!(used.proved());
    }
}

#[test]
fn a_token_the_log_does_not_have_is_not_logged_when_required_and_a_warning_otherwise() {
    let log = TestLog::new();
    for evidence in [LogEvidence::NotLogged, LogEvidence::NotWitnessed] {
        let source = answer(evidence, LATER);
        assert_eq!(run(&log.trust(1), &source, LATER, &required()), refused());
        assert_eq!(
            run(&log.trust(1), &source, LATER, &VerifyOptions::default()),
            (Some(false), vec![], vec![Warning::NotLogged])
        );
    }
}

#[test]
fn within_the_merge_delay_a_missing_token_is_only_pending() {
    let log = TestLog::new();
    let at = UnixTime(IAT + 2);
    let pending = (None, vec![], vec![Warning::LogPending]);
    for evidence in [
        LogEvidence::NotLogged,
        LogEvidence::NotWitnessed,
        LogEvidence::Unavailable("connection refused".into()),
    ] {
        let source = answer(evidence, at);
        assert_eq!(run(&log.trust(1), &source, at, &required()), pending);
        assert_eq!(
            run(&log.trust(1), &source, at, &VerifyOptions::default()),
            pending
        );
    }
    // The window is the delay plus at most 30 s of skew, whatever the verifier's skew.
    let edge = UnixTime(IAT + 5 + 30);
    let source = answer(LogEvidence::NotLogged, edge);
    assert_eq!(run(&log.trust(1), &source, edge, &required()), refused());
    let just_before = UnixTime(IAT + 34);
    let source = answer(LogEvidence::NotLogged, just_before);
    assert_eq!(
        run(&log.trust(1), &source, just_before, &required()),
        pending
    );
}

#[test]
fn a_token_dated_ahead_is_never_pending() {
    let log = TestLog::new();
    let at = UnixTime(IAT);
    let source = answer(LogEvidence::NotLogged, at);
    let iat = IAT + 31;
    let ((ok, reasons, _), _) = run_as(&log.trust(1), &source, "issue", at, &required(), iat);
    assert_eq!((ok, reasons), (Some(false), vec![Outcome::NotLogged]));
    // Within the skew it is: a clock a few seconds behind is not an attack.
    let ((ok, reasons, warnings), _) =
        run_as(&log.trust(1), &source, "issue", at, &required(), IAT + 10);
    assert_eq!(
        (ok, reasons, warnings),
        (None, vec![], vec![Warning::LogPending])
    );
}

#[test]
fn a_not_logged_answer_from_before_the_delay_ended_must_be_asked_again() {
    let log = TestLog::new();
    let source = answer(LogEvidence::NotLogged, UnixTime(IAT + 2));
    assert_eq!(
        run(&log.trust(1), &source, LATER, &required()),
        (None, vec![Outcome::LogUnavailable], vec![])
    );
    assert_eq!(
        run(&log.trust(1), &source, LATER, &VerifyOptions::default()),
        (None, vec![], vec![Warning::LogUnreachable])
    );
}

#[test]
fn an_unreachable_log_after_the_delay_is_indeterminate_when_required_never_valid() {
    let log = TestLog::new();
    let source = answer(LogEvidence::Unavailable("HTTP 503".into()), LATER);
    assert_eq!(
        run(&log.trust(1), &source, LATER, &required()),
        (None, vec![Outcome::LogUnavailable], vec![])
    );
    assert!(Outcome::LogUnavailable.is_indeterminate());
    assert_eq!(
        run(&log.trust(1), &source, LATER, &VerifyOptions::default()),
        (None, vec![], vec![Warning::LogUnreachable])
    );
    // Offline: nothing asked is the same as unreachable.
    assert_eq!(
        run(&log.trust(1), &NoLogAnswers, LATER, &required()),
        (None, vec![Outcome::LogUnavailable], vec![])
    );
}

#[test]
fn a_verifier_that_does_not_require_logging_and_holds_no_answer_does_not_run_the_check() {
    let log = TestLog::new();
    let region = region();
    let options = VerifyOptions::default();
    let context = LogContext {
        region: &region,
        trust: &log.trust(1),
        source: &NoLogAnswers,
        at: LATER,
        options: &options,
    };
    let logged = Logged {
        action: "issue",
        subject: JTI,
        iat: UnixTime(IAT),
    };
    let mut report = ReportBuilder::new(1);
    assert!(!check(&context, TOKEN, &logged, &mut report));
    assert!(report.checks.is_empty() && report.warnings.is_empty());
    // The lookup a verifier that warns makes once the merge delay has passed is named.
    let lookup = report.log.expect("the lookup is named");
    assert_eq!(
        (lookup.token_sha256, lookup.index),
        (token_sha256(TOKEN.as_bytes()), None)
    );
}

#[test]
fn a_checkpoint_signed_by_another_key_is_not_logged() {
    let log = TestLog::new();
    let impostor = key_from_seed("huren.gov.cn/log/330000", KeyType::Ed25519, 9);
    let mut proof = log.proof(1);
    proof.checkpoint = log.checkpoint(&impostor, &[&log.witness]);
    let source = answer(LogEvidence::Proof(proof), LATER);
    assert_eq!(run(&log.trust(1), &source, LATER, &required()), refused());
    assert_eq!(
        run(&log.trust(1), &source, LATER, &VerifyOptions::default()),
        (Some(false), vec![], vec![Warning::NotLogged])
    );
}

#[test]
fn an_unwitnessed_checkpoint_is_not_logged_and_a_quorum_of_zero_needs_none() {
    let log = TestLog::new();
    let mut proof = log.proof(1);
    proof.checkpoint = log.checkpoint(&log.log_key, &[]);
    let source = answer(LogEvidence::Proof(proof.clone()), LATER);
    assert_eq!(run(&log.trust(1), &source, LATER, &required()), refused());
    // A cosignature by a witness the trust list does not name counts for nothing.
    let outsider = key_from_seed("huren.gov.cn/witness/310000", KeyType::Cosignature, 3);
    proof.checkpoint = log.checkpoint(&log.log_key, &[&outsider]);
    let source = answer(LogEvidence::Proof(proof), LATER);
    assert_eq!(run(&log.trust(1), &source, LATER, &required()), refused());
    assert_eq!(
        run(&log.trust(0), &source, LATER, &required()),
        (Some(true), vec![], vec![])
    );
}

#[test]
fn a_proof_of_another_tokens_entry_is_not_logged() {
    let log = TestLog::new();
    // Entry 0 is genuinely in the log, but for another token.
    let source = answer(LogEvidence::Proof(log.proof(0)), LATER);
    let ((ok, reasons, _), report) =
        run_as(&log.trust(1), &source, "issue", LATER, &required(), IAT);
    assert_eq!((ok, reasons), (Some(false), vec![Outcome::NotLogged]));
    let detail = report.checks[0].detail.clone().unwrap_or_default();
    assert!(detail.contains("another token"), "{detail}");
    // The right entry at the wrong index, or with a proof for another index.
    let mut moved = log.proof(1);
    moved.index = 2;
    let source = answer(LogEvidence::Proof(moved), LATER);
    assert_eq!(run(&log.trust(1), &source, LATER, &required()), refused());
    let mut wrong_path = log.proof(1);
    wrong_path.proof = log.proof(0).proof;
    let source = answer(LogEvidence::Proof(wrong_path), LATER);
    assert_eq!(run(&log.trust(1), &source, LATER, &required()), refused());
}

#[test]
fn a_licence_entry_does_not_prove_a_copy_nor_a_copy_entry_a_licence() {
    let log = TestLog::new();
    let source = answer(LogEvidence::Proof(log.proof(1)), LATER);
    let ((ok, reasons, _), report) =
        run_as(&log.trust(1), &source, "copy_make", LATER, &required(), IAT);
    assert_eq!((ok, reasons), (Some(false), vec![Outcome::NotLogged]));
    let detail = report.checks[0].detail.clone().unwrap_or_default();
    assert!(detail.contains("says issue"), "{detail}");
}

#[test]
fn a_proof_against_a_tree_other_than_the_checkpoints_is_not_logged() {
    let log = TestLog::new();
    let mut proof = log.proof(1);
    proof.tree_size = 2;
    proof.proof = tree::inclusion_proof(2, 1, &log.stored).unwrap_or_default();
    let source = answer(LogEvidence::Proof(proof), LATER);
    assert_eq!(run(&log.trust(1), &source, LATER, &required()), refused());
}

#[test]
fn proof_answers_decode_within_bounds_and_errors_name_the_field() {
    let log = TestLog::new();
    let proof = log.proof(1);
    let json = serde_json::json!({
        "index": proof.index,
        "tree_size": proof.tree_size,
        "proof": proof.proof.iter().map(|h| STANDARD.encode(h.0)).collect::<Vec<_>>(),
        "checkpoint": proof.checkpoint,
        "entry": String::from_utf8_lossy(&proof.entry),
        "extra": "ignored",
    });
    let decoded = InclusionProof::from_json(json.to_string().as_bytes());
    assert_eq!(decoded, Ok(proof));

    let with = |field: &str, value: serde_json::Value| {
        let mut bad = json.clone();
        bad[field] = value;
        InclusionProof::from_json(bad.to_string().as_bytes())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    assert!(with("proof", serde_json::json!(["!!"])).contains("proof[0]"));
    assert!(with("proof", serde_json::json!(["AAAA"])).contains("proof[0] is not 32 bytes"));
    let long = vec![STANDARD.encode([0u8; 32]); 64];
    assert!(with("proof", serde_json::json!(long)).contains("64 hashes"));
    assert!(with("index", serde_json::json!(-1)).contains("index"));
    assert!(with("entry", serde_json::json!("x".repeat(2000))).contains("entry"));
    let huge = vec![b' '; 128 * 1024 + 1];
    assert!(InclusionProof::from_json(&huge).is_err());
}

#[test]
fn the_issuer_is_found_from_the_trust_list_only() {
    assert_eq!(
        issuer_base(
            Some("https://issuer.zj.example/"),
            "https://other/v1/status/"
        ),
        Some("https://issuer.zj.example".into())
    );
    assert_eq!(
        issuer_base(None, "https://issuer.zj.example/zj/v1/status/"),
        Some("https://issuer.zj.example/zj".into())
    );
    assert_eq!(issuer_base(None, "https://issuer.zj.example/lists/"), None);
    assert_eq!(issuer_base(Some("ftp://issuer.example"), ""), None);
    assert_eq!(
        super::log_evidence::proof_url("https://i.example", "ab"),
        "https://i.example/v1/log/proof?token_sha256=ab"
    );
}
