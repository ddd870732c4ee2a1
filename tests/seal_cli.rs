//! `huren seal …` as a user drives it: a province makes a seal for an organisation, the
//! organisation seals a document, another province's window verifies it (exit codes 0/1/2,
//! SPEC §8 report); revocation of the holder certificate before and after signing; and the
//! real OFD signatures made by other software (`tests/interop/ses/`, a copy of
//! `../shared/interop/ses/`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::shape::assert_shape;
use huren_crypto::time::Clock;
use huren_keys::SystemClock;

const PASSPHRASE: &str = "correct horse battery staple";
const ORG: &str = "杭州示例建设有限公司";
const USCC: &str = "91350100M000100Y43";
/// A 1×1 PNG: the seal image only has to be a real PNG here.
const PNG_B64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    fn reasons(&self) -> Vec<String> {
        self.json()["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_owned())
            .collect()
    }

    fn check(&self, name: &str) -> serde_json::Value {
        self.json()["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == name)
            .unwrap_or_else(|| panic!("no check {name}: {}", self.stdout))["ok"]
            .clone()
    }
}

fn huren(dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(args)
        .current_dir(dir)
        .env("HUREN_KEY_PASSPHRASE", PASSPHRASE)
        .env_remove("HUREN_TRUST_LIST")
        .env_remove("HUREN_OPERATOR_CERT")
        .output()
        .expect("huren binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[track_caller]
fn ok(run: Run) -> Run {
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    run
}

/// A test's directory and the start of its holder certificate's validity (Unix seconds):
/// the PKI is made "now", so every time in a test is an offset from that instant.
struct Setup {
    dir: tempfile::TempDir,
    t0: i64,
}

impl Setup {
    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `t0 + seconds`, as the CLI's `--at` accepts it.
    fn at(&self, seconds: i64) -> String {
        (self.t0 + seconds).to_string()
    }
}

/// Operator, Zhejiang (`alg`) and Jiangsu (ES256), the trust list `tl.jwt`, a holder
/// certificate for the organisation in `holder/`, Zhejiang's CRL `zj/crl.der` (revoking
/// only a retired certificate), a seal image and a document.
fn setup(alg: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(huren(d, &["pki", "init-operator", "--out", "op"]));
    for (code, out, alg) in [("330000", "zj", alg), ("320000", "js", "ES256")] {
        ok(huren(
            d,
            &[
                "pki",
                "init-region",
                "--region",
                code,
                "--out",
                out,
                "--alg",
                alg,
                "--public-url",
                &format!("https://issuer.{out}.example"),
            ],
        ));
    }
    ok(huren(
        d,
        &[
            "trust",
            "build",
            "--operator",
            "op",
            "--region",
            "zj",
            "--region",
            "js",
            "--seq",
            "1",
            "--out",
            "tl.jwt",
        ],
    ));
    ok(huren(
        d,
        &[
            "pki",
            "issue-holder",
            "--region-dir",
            "zj",
            "--org-name",
            ORG,
            "--uscc",
            USCC,
            "--alg",
            alg,
            "--out",
            "holder",
        ],
    ));
    // Revocation fails closed: a signature is valid only with a current CRL of the holder's
    // CA. Revoking a retired certificate is how the CLI makes the region's first CRL.
    ok(huren(
        d,
        &[
            "pki",
            "issue-holder",
            "--region-dir",
            "zj",
            "--org-name",
            "已注销的公司",
            "--uscc",
            "91330106MA2B3C4D5D",
            "--alg",
            "ES256",
            "--out",
            "retired",
        ],
    ));
    ok(huren(
        d,
        &[
            "pki",
            "revoke-cert",
            "--region-dir",
            "zj",
            "--cert",
            "retired/holder.crt.pem",
            "--reason",
            "cessationOfOperation",
        ],
    ));
    let png = huren_crypto::b64::decode_std(PNG_B64, 1024).unwrap();
    std::fs::write(d.join("seal.png"), png).unwrap();
    std::fs::write(d.join("contract.pdf"), b"%PDF-1.7\n% a contract\n%%EOF\n").unwrap();
    let holder = huren_keys::pem::read_certificate(&d.join("holder/holder.crt.pem")).unwrap();
    let t0 = huren_crypto::cert::Certificate::from_der(&holder)
        .unwrap()
        .not_before()
        .seconds();
    Setup { dir, t0 }
}

/// Returns once the wall clock, which the `huren` binary reads, is past `second`: what the
/// binary stamps after this call falls in a later second than what it stamped before (a CRL
/// records revocations up to now only, and a seal cannot be used before it was made). Waits
/// for that condition, however long it takes, rather than for a guessed duration.
fn wait_for_clock_after(second: i64) {
    while SystemClock.now().seconds() <= second {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn make_seal(d: &Path, region: &str, out: &str) -> Run {
    huren(
        d,
        &[
            "seal",
            "make",
            "--region-dir",
            region,
            "--name",
            &format!("{ORG}合同专用章"),
            "--uscc",
            USCC,
            "--type",
            "合同专用章",
            "--image",
            "seal.png",
            "--holder-cert",
            "holder/holder.crt.pem",
            "--valid-from",
            "2026-01-01T00:00:00+08:00",
            "--valid-until",
            "2028-01-01T00:00:00+08:00",
            "--out",
            out,
        ],
    )
}

fn sign(d: &Path, seal: &str, at: &str, out: &str) -> Run {
    huren(
        d,
        &[
            "seal",
            "sign",
            "--seal",
            seal,
            "--holder-dir",
            "holder",
            "--document",
            "contract.pdf",
            "--at",
            at,
            "--out",
            out,
        ],
    )
}

/// Verifies at `t0` + 4 h (after every signing time the tests use, within the trust list's
/// validity), with Zhejiang's CRL.
fn verify(s: &Setup, document: &str, signature: &str, extra: &[&str]) -> Run {
    verify_without_crl(
        s,
        document,
        signature,
        &[&["--crl", "zj/crl.der"], extra].concat(),
    )
}

/// [`verify`] without a CRL unless `extra` gives one.
fn verify_without_crl(s: &Setup, document: &str, signature: &str, extra: &[&str]) -> Run {
    let at = s.at(4 * 3600);
    let mut args = vec![
        "seal",
        "verify",
        "--document",
        document,
        "--signature",
        signature,
        "--trust-list",
        "tl.jwt",
        "--operator-cert",
        "op/operator.crt.pem",
        "--at",
        &at,
    ];
    args.extend_from_slice(extra);
    huren(s.path(), &args)
}

/// SPEC §8's seal report, every key and type.
fn seal_report_shape() -> serde_json::Value {
    serde_json::json!({
        "verdict": "string",
        "reasons": "any",
        "warnings": "any",
        "checks": [{"check": "string", "ok": "boolean?", "detail": "string"}],
        "seal": {"esID": "string", "name": "string", "type": "integer", "version": "integer",
            "valid_start": "rfc3339", "valid_end": "rfc3339", "maker_subject": "string"},
        "signer_subject": "string",
        "signed_at": "rfc3339",
    })
}

/// When the tests' documents are sealed: an hour into the holder certificate's validity.
const SIGNED_AFTER: i64 = 3600;

#[test]
fn zhejiang_seal_on_a_document_verifies_at_a_jiangsu_window_in_every_algorithm() {
    for alg in ["SM2SM3", "ES256", "PS256"] {
        let s = setup(alg);
        let d = s.path();
        let made = ok(make_seal(d, "zj", "seal.esl")).json();
        let es_id = made["esID"].as_str().unwrap().to_owned();
        assert!(es_id.starts_with("330000"), "{alg}: esID {es_id}");
        assert_eq!(made["type"], 4);
        ok(sign(d, "seal.esl", &s.at(SIGNED_AFTER), "contract.ses"));

        let run = verify(&s, "contract.pdf", "contract.ses", &[]);
        assert_eq!(run.code, 0, "{alg}: {}\n{}", run.stdout, run.stderr);
        let report = run.json();
        assert_eq!(report["verdict"], "valid", "{alg}");
        assert_eq!(report["seal"]["esID"], es_id.as_str());
        assert_eq!(report["seal"]["name"], format!("{ORG}合同专用章"));
        let signed_at = huren_crypto::UnixTime(s.t0 + SIGNED_AFTER).to_rfc3339_china();
        assert_eq!(report["signed_at"], signed_at.as_str());
        assert_shape(&report, &seal_report_shape());
        let names: Vec<&str> = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["check"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "format",
                "signature",
                "signer_in_seal",
                "seal_signature",
                "maker_trusted",
                "seal_validity",
                "maker_certificate",
                "signer_certificate",
                "document_hash"
            ],
            "{alg}"
        );

        // What `inspect` prints comes from the same decoder, without trust.
        let inspected = ok(huren(d, &["seal", "inspect", "contract.ses"])).json();
        assert_eq!(inspected["kind"], "signature");
        assert_eq!(inspected["seal"]["esID"], es_id.as_str());

        // A changed document is refused, with the reason and a non-zero exit.
        std::fs::write(
            d.join("altered.pdf"),
            b"%PDF-1.7\n% a different contract\n%%EOF\n",
        )
        .unwrap();
        let run = verify(&s, "altered.pdf", "contract.ses", &[]);
        assert_eq!(run.code, 1, "{alg}: {}", run.stdout);
        assert_eq!(run.reasons(), ["document_hash_mismatch"], "{alg}");
        assert!(run.stderr.contains("无效"), "{}", run.stderr);
    }
}

#[test]
fn a_tampered_signature_or_seal_never_verifies() {
    let s = setup("ES256");
    let d = s.path();
    ok(make_seal(d, "zj", "seal.esl"));
    ok(sign(d, "seal.esl", &s.at(SIGNED_AFTER), "contract.ses"));
    let der = std::fs::read(d.join("contract.ses")).unwrap();
    let name = format!("{ORG}合同专用章");
    let at = der
        .windows(name.len())
        .position(|w| w == name.as_bytes())
        .expect("seal name in the signature");
    // Flip a bit in the seal name (inside the maker-signed SES_SealInfo and the TBS).
    let mut flipped = der.clone();
    flipped[at + 1] ^= 0x01;
    std::fs::write(d.join("flipped.ses"), &flipped).unwrap();
    let run = verify(&s, "contract.pdf", "flipped.ses", &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.reasons().contains(&"bad_signature".to_owned()),
        "{:?}",
        run.reasons()
    );
    // Truncated: malformed, and the report still lists every check.
    std::fs::write(d.join("short.ses"), &der[..der.len() / 2]).unwrap();
    let run = verify(&s, "contract.pdf", "short.ses", &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.reasons(), ["seal_malformed"]);
    assert_eq!(run.check("document_hash"), serde_json::Value::Null);
}

#[test]
fn a_seal_made_by_another_province_for_a_zhejiang_esid_is_refused() {
    let s = setup("ES256");
    let d = s.path();
    // Jiangsu's seal maker cannot make a seal numbered in Zhejiang …
    let run = huren(
        d,
        &[
            "seal",
            "make",
            "--region-dir",
            "js",
            "--es-id",
            "330000A1B2C3D4E5",
            "--name",
            "x",
            "--image",
            "seal.png",
            "--holder-cert",
            "holder/holder.crt.pem",
            "--valid-until",
            "2028-01-01T00:00:00+08:00",
            "--out",
            "x.esl",
        ],
    );
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(run.stderr.contains("--es-id"), "{}", run.stderr);
    // … and a Jiangsu seal is judged as Jiangsu's: made by Jiangsu's maker, it verifies.
    ok(make_seal(d, "js", "js.esl"));
    ok(sign(d, "js.esl", &s.at(SIGNED_AFTER), "js.ses"));
    let run = verify(&s, "contract.pdf", "js.ses", &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

#[test]
fn holder_revoked_before_signing_is_invalid_after_signing_still_valid() {
    let s = setup("SM2SM3");
    let d = s.path();
    ok(make_seal(d, "zj", "seal.esl"));
    // A CRL only records revocations up to now, and a seal cannot be used before it was
    // made: one document is sealed now, in a second after the seal's, the holder is revoked in
    // a later second, and the other document carries a signing time two hours on.
    wait_for_clock_after(SystemClock.now().seconds());
    let run = ok(huren(
        d,
        &[
            "seal",
            "sign",
            "--seal",
            "seal.esl",
            "--holder-dir",
            "holder",
            "--document",
            "contract.pdf",
            "--out",
            "before.ses",
        ],
    ));
    assert!(run.json()["signed_at"].is_string());
    let sealed = SystemClock.now().seconds();
    ok(sign(d, "seal.esl", &s.at(2 * 3600), "after.ses"));
    wait_for_clock_after(sealed);
    ok(huren(
        d,
        &[
            "pki",
            "revoke-cert",
            "--region-dir",
            "zj",
            "--cert",
            "holder/holder.crt.pem",
            "--reason",
            "affiliationChanged",
        ],
    ));
    // Sealed before the revocation (affiliationChanged): still valid, with a warning.
    let run = verify(&s, "contract.pdf", "before.ses", &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(!run.json()["warnings"].as_array().unwrap().is_empty());
    // Sealed after it: invalid.
    let run = verify(&s, "contract.pdf", "after.ses", &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.reasons(), ["signer_revoked_before_signing"]);
    // Without the CRL revocation cannot be checked: indeterminate (exit 2), never valid.
    for signature in ["before.ses", "after.ses"] {
        let run = verify_without_crl(&s, "contract.pdf", signature, &[]);
        assert_eq!(run.code, 2, "{}", run.stdout);
        assert_eq!(run.reasons(), ["signer_revocation_unknown"]);
        assert_eq!(run.check("signer_certificate"), serde_json::Value::Null);
    }
}

#[test]
fn revoke_cert_defaults_to_key_compromise_which_invalidates_earlier_signatures() {
    let s = setup("ES256");
    let d = s.path();
    ok(make_seal(d, "zj", "seal.esl"));
    wait_for_clock_after(SystemClock.now().seconds());
    // Sealed now (before the revocation), then revoked without naming a reason.
    ok(huren(
        d,
        &[
            "seal",
            "sign",
            "--seal",
            "seal.esl",
            "--holder-dir",
            "holder",
            "--document",
            "contract.pdf",
            "--out",
            "before.ses",
        ],
    ));
    wait_for_clock_after(SystemClock.now().seconds());
    let revoked = ok(huren(
        d,
        &[
            "pki",
            "revoke-cert",
            "--region-dir",
            "zj",
            "--cert",
            "holder/holder.crt.pem",
        ],
    ))
    .json();
    assert_eq!(revoked["revoked"]["reason"], "keyCompromise");
    // A compromised key can write any signing time: the earlier signature is invalid too.
    let run = verify(&s, "contract.pdf", "before.ses", &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.reasons(), ["signer_key_compromised"]);
}

#[test]
fn seal_validity_must_cover_the_signing_time() {
    let s = setup("ES256");
    let d = s.path();
    ok(make_seal(d, "zj", "seal.esl"));
    ok(sign(d, "seal.esl", "2028-06-01T00:00:00+08:00", "late.ses"));
    let run = verify(&s, "contract.pdf", "late.ses", &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.reasons()
            .contains(&"seal_expired_at_signing".to_owned()),
        "{:?}",
        run.reasons()
    );
}

#[test]
fn a_signer_not_named_in_the_seal_cannot_seal_with_it() {
    let s = setup("ES256");
    let d = s.path();
    ok(make_seal(d, "zj", "seal.esl"));
    ok(huren(
        d,
        &[
            "pki",
            "issue-holder",
            "--region-dir",
            "zj",
            "--org-name",
            "另一家公司",
            "--uscc",
            "91330106MA2B3C4D5D",
            "--out",
            "other",
        ],
    ));
    let run = huren(
        d,
        &[
            "seal",
            "sign",
            "--seal",
            "seal.esl",
            "--holder-dir",
            "other",
            "--document",
            "contract.pdf",
            "--out",
            "x.ses",
        ],
    );
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(!d.join("x.ses").exists());
}

#[test]
fn usage_errors_name_the_field() {
    let s = setup("ES256");
    let d = s.path();
    std::fs::write(d.join("not-an-image.txt"), b"hello").unwrap();
    let run = huren(
        d,
        &[
            "seal",
            "make",
            "--region-dir",
            "zj",
            "--name",
            "x",
            "--image",
            "not-an-image.txt",
            "--holder-cert",
            "holder/holder.crt.pem",
            "--valid-until",
            "2028-01-01T00:00:00+08:00",
            "--out",
            "x.esl",
        ],
    );
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("--image"), "{}", run.stderr);
    let run = huren(
        d,
        &[
            "seal",
            "make",
            "--region-dir",
            "zj",
            "--name",
            "x",
            "--uscc",
            "91350100M000100Y44",
            "--image",
            "seal.png",
            "--holder-cert",
            "holder/holder.crt.pem",
            "--valid-until",
            "2028-01-01T00:00:00+08:00",
            "--out",
            "x.esl",
        ],
    );
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("--uscc"), "{}", run.stderr);
    // A licence signer's certificate is not a seal-holder certificate.
    let run = huren(
        d,
        &[
            "seal",
            "make",
            "--region-dir",
            "zj",
            "--name",
            "x",
            "--image",
            "seal.png",
            "--holder-cert",
            "zj/root.crt.pem",
            "--valid-until",
            "2028-01-01T00:00:00+08:00",
            "--out",
            "x.esl",
        ],
    );
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("seal-holder"), "{}", run.stderr);
    // Verification without any trust is refused outright rather than reported as "untrusted".
    let run = huren(
        d,
        &[
            "seal",
            "verify",
            "--document",
            "contract.pdf",
            "--signature",
            "contract.pdf",
        ],
    );
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("--trust-maker"), "{}", run.stderr);
}

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/ses")
}

#[test]
fn real_ofd_signatures_from_other_software_parse_and_verify() {
    let s = setup("SM2SM3");
    let d = s.path();
    for sample in ["V4RideRight", "SignScaleError"] {
        let sample_dir = interop_dir().join(sample);
        let signature = sample_dir.join("SignedValue.dat");
        let document = sample_dir.join("Signature.xml");
        let (signature, document) = (signature.to_str().unwrap(), document.to_str().unwrap());

        let inspected = ok(huren(d, &["seal", "inspect", signature])).json();
        assert_eq!(inspected["kind"], "signature", "{sample}");
        assert_eq!(inspected["seal"]["header"]["version"], 4, "{sample}");
        let maker = huren_crypto::b64::decode_std(
            inspected["seal"]["maker_certificate"]["der_base64"]
                .as_str()
                .unwrap(),
            1 << 20,
        )
        .unwrap();
        let maker_path = d.join(format!("{sample}-maker.der"));
        std::fs::write(&maker_path, maker).unwrap();

        // Under the national trust list the maker is nobody's: invalid, but the signatures
        // and the document hash themselves are confirmed.
        let run = verify(&s, document, signature, &[]);
        assert_eq!(run.code, 1, "{sample}: {}", run.stdout);
        assert!(
            run.reasons().contains(&"maker_not_trusted".to_owned()),
            "{sample}: {:?}",
            run.reasons()
        );
        for check in ["signature", "seal_signature", "document_hash"] {
            assert_eq!(run.check(check), true, "{sample} {check}: {}", run.stdout);
        }

        // Trusting that maker explicitly, every check passes at its signing time except
        // revocation (no CRL of the signer's CA is at hand): indeterminate, exit 2.
        let run = huren(
            d,
            &[
                "seal",
                "verify",
                "--document",
                document,
                "--signature",
                signature,
                "--trust-maker",
                maker_path.to_str().unwrap(),
            ],
        );
        assert_eq!(run.code, 2, "{sample}: {}\n{}", run.stdout, run.stderr);
        assert_eq!(run.reasons(), ["signer_revocation_unknown"], "{sample}");
        // The samples were signed in 2021 and 2022, with certificates valid at the time.
        assert!(run.json()["signed_at"].as_str().unwrap().starts_with("202"));

        // Another document under the same signature: the hash check catches it.
        let run = huren(
            d,
            &[
                "seal",
                "verify",
                "--document",
                "contract.pdf",
                "--signature",
                signature,
                "--trust-maker",
                maker_path.to_str().unwrap(),
            ],
        );
        assert_eq!(run.code, 1, "{sample}");
        assert_eq!(
            run.reasons(),
            ["signer_revocation_unknown", "document_hash_mismatch"],
            "{sample}"
        );
    }
    let esl = interop_dir().join("V4RideRight/Seal.esl");
    let inspected = ok(huren(d, &["seal", "inspect", esl.to_str().unwrap()])).json();
    assert_eq!(inspected["kind"], "seal");
    assert_eq!(inspected["seal"]["property"]["name"], "OFD R&W 测试用印章");
}

/// Makes a seal by `region` (a Zhejiang one) that names status list `uri`, index 5.
fn make_seal_with_status(d: &Path, region: &str, uri: &str, out: &str) -> Run {
    huren(
        d,
        &[
            "seal",
            "make",
            "--region-dir",
            region,
            "--name",
            &format!("{ORG}合同专用章"),
            "--image",
            "seal.png",
            "--holder-cert",
            "holder/holder.crt.pem",
            "--valid-from",
            "2026-01-01T00:00:00+08:00",
            "--valid-until",
            "2028-01-01T00:00:00+08:00",
            "--status-uri",
            uri,
            "--status-idx",
            "5",
            "--out",
            out,
        ],
    )
}

#[test]
fn a_seal_status_list_is_required_and_can_be_given_offline() {
    let s = setup("ES256");
    let d = s.path();
    let uri = "https://issuer.zj.example/v1/status/seals-1";
    ok(make_seal_with_status(d, "zj", uri, "seal.esl"));
    ok(sign(d, "seal.esl", &s.at(SIGNED_AFTER), "contract.ses"));
    // Not given, not fetched: the seal's current status is unknown, never valid.
    let run = verify(&s, "contract.pdf", "contract.ses", &[]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert_eq!(run.reasons(), ["seal_status_unknown"]);
    // Given offline as a file: valid, and revoked when the list says so.
    for (file, revoke) in [("good.jwt", None), ("revoked.jwt", Some("5"))] {
        let mut args = vec![
            "status-list",
            "--region-dir",
            "zj",
            "--uri",
            uri,
            "--size",
            "1024",
            "--out",
            file,
        ];
        if let Some(idx) = revoke {
            args.extend_from_slice(&["--revoke", idx]);
        }
        ok(huren(d, &args));
    }
    let run = verify(
        &s,
        "contract.pdf",
        "contract.ses",
        &["--status-list", "good.jwt"],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let run = verify(
        &s,
        "contract.pdf",
        "contract.ses",
        &["--status-list", "revoked.jwt"],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.reasons(), ["seal_revoked"]);
    // A file that is not a status list under the trust list is an error, not "unknown".
    std::fs::write(d.join("junk.jwt"), "not.a.token").unwrap();
    let run = verify(
        &s,
        "contract.pdf",
        "contract.ses",
        &["--status-list", "junk.jwt"],
    );
    assert_eq!(run.code, 3, "could not verify at all: {}", run.stdout);
    assert!(run.stderr.contains("--status-list"), "{}", run.stderr);
}

/// A local "issuer" that counts connections and answers each with `body`.
struct Listener {
    port: u16,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    body: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Listener {
    fn start() -> Listener {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let body = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (count, answer) = (connections.clone(), body.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let body = answer.lock().unwrap().clone();
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/statuslist+jwt\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Listener {
            port,
            connections,
            body,
        }
    }

    fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[test]
fn fetch_status_never_fetches_for_a_file_a_trusted_maker_did_not_vouch_for() {
    let listener = Listener::start();
    let url = format!("http://127.0.0.1:{}", listener.port);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(huren(d, &["pki", "init-operator", "--out", "op"]));
    // Zhejiang, and a rogue "Zhejiang" with its own keys that the trust list does not hold.
    for out in ["zj", "rogue"] {
        ok(huren(
            d,
            &[
                "pki",
                "init-region",
                "--region",
                "330000",
                "--out",
                out,
                "--alg",
                "ES256",
                "--public-url",
                &url,
            ],
        ));
    }
    ok(huren(
        d,
        &[
            "trust",
            "build",
            "--operator",
            "op",
            "--region",
            "zj",
            "--seq",
            "1",
            "--out",
            "tl.jwt",
        ],
    ));
    ok(huren(
        d,
        &[
            "pki",
            "issue-holder",
            "--region-dir",
            "zj",
            "--org-name",
            ORG,
            "--uscc",
            USCC,
            "--alg",
            "ES256",
            "--out",
            "holder",
        ],
    ));
    let png = huren_crypto::b64::decode_std(PNG_B64, 1024).unwrap();
    std::fs::write(d.join("seal.png"), png).unwrap();
    std::fs::write(d.join("contract.pdf"), b"%PDF-1.7\n% a contract\n%%EOF\n").unwrap();
    let uri = format!("{url}/v1/status/seals-1");
    let holder = huren_keys::pem::read_certificate(&d.join("holder/holder.crt.pem")).unwrap();
    let t0 = huren_crypto::cert::Certificate::from_der(&holder)
        .unwrap()
        .not_before()
        .seconds();
    let (signed_at, check_at) = ((t0 + 3600).to_string(), (t0 + 4 * 3600).to_string());
    let verify_fetching = |signature: &str| {
        huren(
            d,
            &[
                "seal",
                "verify",
                "--document",
                "contract.pdf",
                "--signature",
                signature,
                "--trust-list",
                "tl.jwt",
                "--operator-cert",
                "op/operator.crt.pem",
                "--fetch-status",
                "--at",
                &check_at,
            ],
        )
    };

    // A seal by a maker the trust list does not hold, naming a status URI in the prefix.
    ok(make_seal_with_status(d, "rogue", &uri, "rogue.esl"));
    ok(sign(d, "rogue.esl", &signed_at, "rogue.ses"));
    let run = verify_fetching("rogue.ses");
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.reasons().contains(&"maker_not_trusted".to_owned()));
    assert_eq!(listener.connections(), 0, "fetched for an untrusted maker");

    // A good seal whose signature was then altered: the file is nobody's word.
    ok(make_seal_with_status(d, "zj", &uri, "seal.esl"));
    ok(sign(d, "seal.esl", &signed_at, "contract.ses"));
    let der = std::fs::read(d.join("contract.ses")).unwrap();
    let at = der
        .windows(b"contract.pdf".len())
        .position(|w| w == b"contract.pdf")
        .expect("propertyInfo in the TBS");
    let mut altered = der.clone();
    altered[at] ^= 0x01;
    std::fs::write(d.join("altered.ses"), &altered).unwrap();
    let run = verify_fetching("altered.ses");
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.reasons().contains(&"bad_signature".to_owned()));
    assert_eq!(listener.connections(), 0, "fetched for a bad signature");

    // The genuine file is fetched for (the list the issuer serves).
    ok(huren(
        d,
        &[
            "status-list",
            "--region-dir",
            "zj",
            "--uri",
            &uri,
            "--size",
            "1024",
            "--out",
            "seals-1.jwt",
        ],
    ));
    *listener.body.lock().unwrap() = std::fs::read_to_string(d.join("seals-1.jwt")).unwrap();
    let run = verify_fetching("contract.ses");
    assert_eq!(listener.connections(), 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.check("seal_validity"), true, "{}", run.stdout);
}

#[test]
fn a_v1_signature_whose_cert_list_holds_an_ia5string_is_shown_and_checked_as_far_as_it_can_be() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ses-v1-ia5-certlist");
    let file = |name: &str| fixture.join(name).to_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // inspect shows it, the odd entry included; it is not "not a seal".
    let inspected = ok(huren(d, &["seal", "inspect", &file("SignedValue.dat")])).json();
    assert_eq!(inspected["kind"], "signature");
    assert_eq!(inspected["version"], 1);
    let entry = &inspected["seal"]["property"]["non_certificate_entries"][0];
    assert_eq!(entry["asn1_type"], "IA5String", "{inspected:#}");
    assert_eq!(entry["text"], "SN=4711;CN=hangzhou-example-construction");
    // verify runs every check it can: only whether the seal names the signer (and, without
    // a CRL, revocation) stays open.
    let run = huren(
        d,
        &[
            "seal",
            "verify",
            "--document",
            &file("document.pdf"),
            "--signature",
            &file("SignedValue.dat"),
            "--trust-maker",
            &file("maker.crt.der"),
            "--at",
            "2026-11-22T12:00:00+08:00",
        ],
    );
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.reasons(),
        ["signer_in_seal_unknown", "signer_revocation_unknown"]
    );
    assert_eq!(run.check("signer_in_seal"), serde_json::Value::Null);
    for check in [
        "format",
        "signature",
        "seal_signature",
        "maker_trusted",
        "seal_validity",
        "maker_certificate",
        "document_hash",
    ] {
        assert_eq!(run.check(check), true, "{check}: {}", run.stdout);
    }
}
