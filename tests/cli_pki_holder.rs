//! `huren pki issue-holder` and `huren pki revoke-cert` as an operator drives them: a province
//! issues an organisation's seal-holder certificate, later revokes it from a given instant, and
//! the CRL it publishes tells a seal verifier exactly that instant.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use huren_crypto::cert::Certificate;
use huren_crypto::crl::{RevocationReason, VerifiedCrl};
use huren_crypto::oids::Purpose;
use huren_crypto::time::UnixTime;
use huren_keys::holder::HolderDir;
use huren_keys::store::Passphrase;

const PASSPHRASE: &str = "correct horse battery staple";
const ORG: &str = "杭州示例建设有限公司";
const USCC: &str = "91350100M000100Y43";
const OTHER_USCC: &str = "91110000600001760P";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn huren(dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(args)
        .current_dir(dir)
        .env("HUREN_KEY_PASSPHRASE", PASSPHRASE)
        .output()
        .expect("huren binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[track_caller]
fn ok(run: Run) -> serde_json::Value {
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", run.stdout))
}

#[track_caller]
fn fails(run: Run, needle: &str) -> String {
    assert_ne!(run.code, 0, "expected failure, stdout:\n{}", run.stdout);
    assert!(
        run.stderr.contains(needle),
        "stderr lacks {needle:?}:\n{}",
        run.stderr
    );
    run.stderr
}

fn init_region(dir: &Path, code: &str, out: &str) {
    let run = huren(dir, &["pki", "init-region", "--region", code, "--out", out]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

fn issue_holder(dir: &Path, out: &str, uscc: &str) -> serde_json::Value {
    ok(huren(
        dir,
        &[
            "pki",
            "issue-holder",
            "--region-dir",
            "zj",
            "--org-name",
            ORG,
            "--uscc",
            uscc,
            "--out",
            out,
        ],
    ))
}

fn certificate(path: &Path) -> Certificate {
    let der = huren_keys::pem::read_certificate(path).unwrap();
    Certificate::from_der(&der).unwrap()
}

fn parse_time(text: &str) -> UnixTime {
    let parsed =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap();
    UnixTime::from_datetime(parsed)
}

#[test]
fn issued_holder_revoked_from_an_instant_is_reported_by_the_crl_at_that_instant() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    init_region(d, "330000", "zj");
    let root = certificate(&d.join("zj/root.crt.pem"));

    // Issue: a seal-holder certificate naming the organisation and its USCC.
    let issued = issue_holder(d, "holder", USCC);
    assert_eq!(issued["uscc"], USCC);
    assert_eq!(issued["region"], "330000");
    assert_eq!(issued["alg"], "ES256");
    let subject = issued["subject"].as_str().unwrap();
    assert!(subject.contains(ORG) && subject.contains(USCC), "{subject}");
    let cert_path = d.join(issued["cert"].as_str().unwrap());
    let holder_cert = certificate(&cert_path);
    assert_eq!(issued["serial"], holder_cert.serial_hex());
    holder_cert.check_issued_by(&root).unwrap();
    holder_cert.check_leaf_profile(Purpose::SealHolder).unwrap();
    assert_eq!(holder_cert.subject_serial_number(), Some(USCC));

    // The key is encrypted at rest, 0600, and loads back with the passphrase.
    let key_path = d.join(issued["key"].as_str().unwrap());
    let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let key_text = std::fs::read_to_string(&key_path).unwrap();
    assert!(key_text.contains(concat!("ENCRYPTED ", "PRIVATE KEY")));
    let holder = HolderDir::open(&d.join("holder")).unwrap();
    let passphrase = Passphrase::new(PASSPHRASE.into()).unwrap();
    holder.key(Some(&passphrase)).unwrap();
    assert!(holder.key(None).is_err());

    // Revoke from the instant the certificate became valid (a key compromised from the start).
    let revoked_from = issued["not_before"].as_str().unwrap();
    let report = ok(huren(
        d,
        &[
            "pki",
            "revoke-cert",
            "--region-dir",
            "zj",
            "--cert",
            cert_path.to_str().unwrap(),
            "--at",
            revoked_from,
            "--reason",
            "keyCompromise",
        ],
    ));
    assert_eq!(report["created"], true);
    assert_eq!(report["crl_number"], 1);
    assert_eq!(report["entries"], 1);
    assert_eq!(report["revoked"]["serial"], holder_cert.serial_hex());
    assert_eq!(report["revoked"]["reason"], "keyCompromise");
    assert_eq!(report["revoked"]["revoked_at"], revoked_from);
    let crl_path = d.join("zj/crl.der");
    assert_eq!(
        Path::new(report["crl"].as_str().unwrap()),
        Path::new("zj/crl.der")
    );

    let crl = VerifiedCrl::verify(&std::fs::read(&crl_path).unwrap(), &root).unwrap();
    let revoked_at = crl.revoked_at(holder_cert.serial()).unwrap();
    assert_eq!(revoked_at, parse_time(revoked_from));
    assert_eq!(revoked_at, holder_cert.not_before());
    assert_eq!(
        crl.entry(holder_cert.serial()).unwrap().reason,
        Some(RevocationReason::KeyCompromise)
    );
    assert_eq!(crl.crl_number(), Some(&[1u8][..]));
    assert_eq!(crl.issuer_name_der(), root.subject_name_der());
    let (this_update, next_update) = (crl.this_update(), crl.next_update().unwrap());
    assert_eq!(next_update.seconds() - this_update.seconds(), 30 * 86_400);

    // A second holder, revoked now without naming a reason: the CRL grows, the first entry
    // stays, and the reason stated is keyCompromise (fail closed: SPEC §8).
    let second = issue_holder(d, "holder2", OTHER_USCC);
    let second_cert = certificate(&d.join(second["cert"].as_str().unwrap()));
    let report = ok(huren(
        d,
        &[
            "pki",
            "revoke-cert",
            "--region-dir",
            "zj",
            "--cert",
            "holder2/holder.crt.pem",
        ],
    ));
    assert_eq!(report["created"], false);
    assert_eq!(report["crl_number"], 2);
    assert_eq!(report["entries"], 2);
    assert_eq!(report["revoked"]["reason"], "keyCompromise");
    let crl = VerifiedCrl::verify(&std::fs::read(&crl_path).unwrap(), &root).unwrap();
    assert_eq!(
        crl.entry(second_cert.serial()).unwrap().reason,
        Some(huren_crypto::crl::RevocationReason::KeyCompromise)
    );
    assert_eq!(crl.revoked_at(holder_cert.serial()), Some(revoked_at));
    let second_revoked = crl.revoked_at(second_cert.serial()).unwrap();
    assert!(second_revoked >= second_cert.not_before());
    assert!(second_revoked <= crl.this_update());
    assert!(crl.this_update() >= this_update);

    // Revoking it again is refused and names the existing revocation; the CRL is unchanged.
    let before = std::fs::read(&crl_path).unwrap();
    fails(
        huren(
            d,
            &[
                "pki",
                "revoke-cert",
                "--region-dir",
                "zj",
                "--cert",
                "holder2/holder.crt.pem",
            ],
        ),
        "already revoked",
    );
    assert_eq!(std::fs::read(&crl_path).unwrap(), before);
    assert!(!d.join("zj/crl.der.lock").exists());
}

#[test]
fn bad_input_is_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    init_region(d, "330000", "zj");
    init_region(d, "440000", "gd");

    let holder = |uscc: &str, out: &str| {
        huren(
            d,
            &[
                "pki",
                "issue-holder",
                "--region-dir",
                "zj",
                "--org-name",
                ORG,
                "--uscc",
                uscc,
                "--out",
                out,
            ],
        )
    };
    fails(holder("91350100M000100Y44", "h"), "--uscc");
    fails(holder("not-a-uscc", "h"), "--uscc");
    assert!(!d.join("h").exists());
    fails(
        huren(
            d,
            &[
                "pki",
                "issue-holder",
                "--region-dir",
                "zj",
                "--org-name",
                "",
                "--uscc",
                USCC,
                "--out",
                "h",
            ],
        ),
        "--org-name",
    );
    fails(
        huren(
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
                "--valid-days",
                "2000",
                "--out",
                "h",
            ],
        ),
        "--valid-days",
    );
    issue_holder(d, "h", USCC);

    let revoke = |extra: &[&str]| {
        let mut args = vec!["pki", "revoke-cert", "--region-dir", "zj"];
        args.extend_from_slice(extra);
        huren(d, &args)
    };
    fails(
        revoke(&["--cert", "h/holder.crt.pem", "--reason", "lostIt"]),
        "keyCompromise",
    );
    fails(
        revoke(&[
            "--cert",
            "h/holder.crt.pem",
            "--at",
            "2999-01-01T00:00:00+08:00",
        ]),
        "--at",
    );
    fails(
        revoke(&[
            "--cert",
            "h/holder.crt.pem",
            "--at",
            "2000-01-01T00:00:00+08:00",
        ]),
        "before the certificate's start",
    );
    fails(
        revoke(&["--cert", "h/holder.crt.pem", "--at", "yesterday"]),
        "--at",
    );
    fails(revoke(&["--cert", "zj/root.crt.pem"]), "CA certificate");
    fails(
        revoke(&["--cert", "gd/licence-signer.crt.pem"]),
        "not issued by the root",
    );
    fails(
        revoke(&["--cert", "h/holder.crt.pem", "--valid-days", "0"]),
        "--valid-days",
    );
    assert!(
        !d.join("zj/crl.der").exists(),
        "nothing refused was written"
    );

    // Without the passphrase the root key stays locked.
    let run = Command::new(env!("CARGO_BIN_EXE_huren"))
        .args([
            "pki",
            "revoke-cert",
            "--region-dir",
            "zj",
            "--cert",
            "h/holder.crt.pem",
        ])
        .current_dir(d)
        .env_remove("HUREN_KEY_PASSPHRASE")
        .output()
        .unwrap();
    assert_ne!(run.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&run.stderr).contains("HUREN_KEY_PASSPHRASE"));
}

#[test]
fn help_texts_teach_the_two_commands() {
    let dir = tempfile::tempdir().unwrap();
    let run = huren(dir.path(), &["pki", "issue-holder", "--help"]);
    assert_eq!(run.code, 0);
    for needle in [
        "--org-name",
        "--uscc",
        "serialNumber",
        "Example:",
        "holder.key.pem",
    ] {
        assert!(run.stdout.contains(needle), "{needle}:\n{}", run.stdout);
    }
    let run = huren(dir.path(), &["pki", "revoke-cert", "--help"]);
    assert_eq!(run.code, 0);
    for needle in [
        "--at",
        "keyCompromise",
        "crl.der",
        "Example:",
        "before --at",
    ] {
        assert!(run.stdout.contains(needle), "{needle}:\n{}", run.stdout);
    }
}
