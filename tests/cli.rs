//! The `huren` command line as a user drives it: the offline sign-and-verify walk-through of
//! the README, exit codes, keys encrypted at rest, QR images, and refusals with clear errors.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

use std::path::Path;
use std::process::{Command, Output};

const PASSPHRASE: &str = "correct horse battery staple";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn huren(dir: &Path, args: &[&str]) -> Run {
    huren_with_stdin(dir, args, None)
}

fn huren_with_stdin(dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    use std::io::Write;
    let mut command = Command::new(env!("CARGO_BIN_EXE_huren"));
    command
        .args(args)
        .current_dir(dir)
        .env("HUREN_KEY_PASSPHRASE", PASSPHRASE)
        .env_remove("HUREN_TRUST_LIST")
        .env_remove("HUREN_OPERATOR_CERT")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("huren binary runs");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
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

const LICENCE: &str = r#"{
  "type_code": "11100000000013338W032",
  "type_name": "建筑业企业资质证书",
  "number": "D233012345",
  "holder": {"name": "杭州示例建设有限公司", "id_type": "001", "id": "91350100M000100Y43"},
  "issuer": {"name": "浙江省住房和城乡建设厅", "code": "11220000013544541J"},
  "issued_on": "2026-11-22",
  "valid_from": "2026-11-22",
  "valid_until": "2031-11-21",
  "face": {"资质类别及等级": "建筑工程施工总承包壹级"}
}"#;

/// Operator + Zhejiang (ES256), trust list `tl.jwt`, licence JSON `licence.json`.
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(huren(d, &["pki", "init-operator", "--out", "op"]));
    ok(huren(
        d,
        &[
            "pki",
            "init-region",
            "--region",
            "330000",
            "--out",
            "zj",
            "--public-url",
            "https://issuer.zj.example",
        ],
    ));
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
    std::fs::write(d.join("licence.json"), LICENCE).unwrap();
    dir
}

fn verify_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "verify",
        "--trust-list",
        "tl.jwt",
        "--operator-cert",
        "op/operator.crt.pem",
    ];
    args.extend_from_slice(extra);
    args
}

fn report(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", run.stdout))
}

#[test]
fn status_dir_uses_the_newest_list_per_uri_whatever_order_the_files_come_in() {
    let dir = setup();
    let d = dir.path();
    let uri = "https://issuer.zj.example/v1/status/330000-0";
    let token = ok(huren(
        d,
        &[
            "sign",
            "--region-dir",
            "zj",
            "--licence",
            "licence.json",
            "--status-idx",
            "9",
            "--status-uri",
            uri,
        ],
    ))
    .stdout;
    // The PKI was made at the real time; the lists are signed after it and checked an hour on.
    #[allow(clippy::disallowed_methods)]
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let check_at = (now + 3600).to_string();
    std::fs::create_dir(d.join("status")).unwrap();
    // The newest list revokes the licence; older all-valid copies of the same URI lie beside
    // it under names that sort before and after it.
    for (name, minutes_on, revoke) in [
        ("m-newest.jwt", 50, true),
        ("a.jwt", 40, false),
        ("b.jwt", 30, false),
        ("n.jwt", 20, false),
        ("y.jwt", 10, false),
        ("z.jwt", 5, false),
    ] {
        let at = (now + minutes_on * 60).to_string();
        let out = format!("status/{name}");
        let mut args = vec![
            "status-list",
            "--region-dir",
            "zj",
            "--uri",
            uri,
            "--at",
            &at,
            "--out",
            &out,
        ];
        if revoke {
            args.extend(["--revoke", "9"]);
        }
        ok(huren(d, &args));
    }
    let run = huren(
        d,
        &verify_args(&["--status-dir", "status", "--at", &check_at, token.trim()]),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(report(&run)["reasons"], serde_json::json!(["revoked"]));
}

#[test]
fn status_list_command_refuses_a_life_verifiers_would_refuse() {
    let dir = setup();
    let d = dir.path();
    let uri = "https://issuer.zj.example/v1/status/330000-0";
    let base = [
        "status-list",
        "--region-dir",
        "zj",
        "--uri",
        uri,
        "--out",
        "s.jwt",
    ];
    let run = huren(d, &[&base[..], &["--valid-hours", "169"]].concat());
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("--valid-hours 169"), "{}", run.stderr);
    let run = huren(
        d,
        &[&base[..], &["--valid-hours", "1", "--ttl", "3601"]].concat(),
    );
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("--ttl 3601"), "{}", run.stderr);
    assert!(!d.join("s.jwt").exists());
}

#[test]
fn offline_walk_through_signs_and_verifies_with_exit_codes() {
    let dir = setup();
    let d = dir.path();
    let uri = "https://issuer.zj.example/v1/status/330000-0";
    let token = ok(huren(
        d,
        &[
            "sign",
            "--region-dir",
            "zj",
            "--licence",
            "licence.json",
            "--status-idx",
            "9",
            "--status-uri",
            uri,
        ],
    ))
    .stdout;
    let token = token.trim();

    // No status list: indeterminate, exit 2.
    let run = huren(d, &verify_args(&[token]));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        report(&run)["reasons"],
        serde_json::json!(["status_unknown"])
    );
    assert!(run.stderr.contains("无法确认"), "{}", run.stderr);

    // With a fresh status list: valid, exit 0.
    std::fs::create_dir(d.join("status")).unwrap();
    ok(huren(
        d,
        &[
            "status-list",
            "--region-dir",
            "zj",
            "--uri",
            uri,
            "--out",
            "status/zj.jwt",
        ],
    ));
    let run = ok(huren(d, &verify_args(&["--status-dir", "status", token])));
    let json = report(&run);
    assert_eq!(json["verdict"], "valid");
    assert_eq!(json["licence"]["holder_id_masked"], "9135**********0Y43");
    assert_eq!(json["trust_list_seq"], 1);

    // Revoked: invalid, exit 1.
    ok(huren(
        d,
        &[
            "status-list",
            "--region-dir",
            "zj",
            "--uri",
            uri,
            "--revoke",
            "9",
            "--out",
            "status/zj.jwt",
        ],
    ));
    let run = huren(d, &verify_args(&["--status-dir", "status", token]));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(report(&run)["reasons"], serde_json::json!(["revoked"]));

    // The same through stdin, as the HR1: QR text with a scanner's newline.
    let qr = ok(huren(
        d,
        &[
            "sign",
            "--region-dir",
            "zj",
            "--licence",
            "licence.json",
            "--qr",
        ],
    ))
    .stdout;
    assert!(qr.starts_with("HR1:") && qr.trim()[4..].bytes().all(|b| b.is_ascii_digit()));
    let run = ok(huren_with_stdin(d, &verify_args(&["-"]), Some(&qr)));
    assert_eq!(report(&run)["verdict"], "valid");
}

#[test]
fn verify_reads_a_qr_code_image() {
    let dir = setup();
    let d = dir.path();
    let qr_text = ok(huren(
        d,
        &[
            "sign",
            "--region-dir",
            "zj",
            "--licence",
            "licence.json",
            "--qr",
        ],
    ))
    .stdout;
    let code =
        qrcode::QrCode::with_error_correction_level(qr_text.trim().as_bytes(), qrcode::EcLevel::M)
            .unwrap();
    let image = code
        .render::<image::Luma<u8>>()
        .module_dimensions(4, 4)
        .build();
    image.save(d.join("qr.png")).unwrap();
    let run = ok(huren(d, &verify_args(&["--qr-image", "qr.png"])));
    assert_eq!(report(&run)["verdict"], "valid");

    std::fs::write(d.join("not.png"), b"\x89PNG\r\n\x1a\nnot really").unwrap();
    let run = huren(d, &verify_args(&["--qr-image", "not.png"]));
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("not.png"), "{}", run.stderr);
}

#[test]
fn private_keys_are_encrypted_at_rest_with_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let dir = setup();
    for key in [
        "op/operator.key.pem",
        "zj/root.key.pem",
        "zj/licence-signer.key.pem",
        "zj/status-signer.key.pem",
        "zj/seal-maker.key.pem",
        "zj/log.key.pem",
        "zj/witness.key.pem",
    ] {
        let path = dir.path().join(key);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
            "{key} is not encrypted"
        );
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600,
            "{key}"
        );
    }
    // Without the passphrase the keys cannot be used.
    let run = Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(["sign", "--region-dir", "zj", "--licence", "licence.json"])
        .current_dir(dir.path())
        .env_remove("HUREN_KEY_PASSPHRASE")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&run.stderr).contains("HUREN_KEY_PASSPHRASE"));
    // A wrong passphrase is named as such, and never echoed.
    let run = Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(["sign", "--region-dir", "zj", "--licence", "licence.json"])
        .current_dir(dir.path())
        .env("HUREN_KEY_PASSPHRASE", "wrong passphrase 123")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(3));
    assert!(
        stderr.to_lowercase().contains("passphrase") && !stderr.contains("wrong passphrase 123"),
        "{stderr}"
    );
}

#[test]
fn keys_are_not_written_without_a_passphrase_unless_plaintext_is_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(["pki", "init-operator", "--out", "op"])
        .current_dir(dir.path())
        .env_remove("HUREN_KEY_PASSPHRASE")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(3));
    assert!(!dir.path().join("op").exists(), "nothing half-written");
    let run = Command::new(env!("CARGO_BIN_EXE_huren"))
        .args([
            "pki",
            "init-operator",
            "--out",
            "op",
            "--insecure-plaintext-keys",
        ])
        .current_dir(dir.path())
        .env_remove("HUREN_KEY_PASSPHRASE")
        .output()
        .unwrap();
    assert!(run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("UNENCRYPTED"));
    let key = std::fs::read_to_string(dir.path().join("op/operator.key.pem")).unwrap();
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
}

#[test]
fn usage_errors_exit_64_and_bad_input_names_the_field() {
    let dir = setup();
    let d = dir.path();
    let run = huren(d, &["verify", "--no-such-flag"]);
    assert_eq!(run.code, 64, "{}", run.stderr);
    let run = huren(
        d,
        &[
            "pki",
            "init-region",
            "--region",
            "330000",
            "--out",
            "x",
            "--alg",
            "HS256",
        ],
    );
    assert_eq!(run.code, 64);
    assert!(run.stderr.contains("HS256"), "{}", run.stderr);
    assert_eq!(huren(d, &["--help"]).code, 0);

    let run = huren(
        d,
        &["pki", "init-region", "--region", "990000", "--out", "x"],
    );
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("--region"), "{}", run.stderr);

    let bad = LICENCE.replace("91350100M000100Y43", "91350100M000100Y44");
    std::fs::write(d.join("bad.json"), bad).unwrap();
    let run = huren(d, &["sign", "--region-dir", "zj", "--licence", "bad.json"]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("holder.id"), "{}", run.stderr);
}

#[test]
fn init_refuses_to_overwrite_an_existing_directory() {
    let dir = setup();
    let before = std::fs::read(dir.path().join("zj/root.crt.pem")).unwrap();
    let run = huren(
        dir.path(),
        &["pki", "init-region", "--region", "330000", "--out", "zj"],
    );
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    assert_eq!(
        std::fs::read(dir.path().join("zj/root.crt.pem")).unwrap(),
        before
    );
}

#[test]
fn trust_list_from_an_unpinned_operator_is_refused() {
    let dir = setup();
    let d = dir.path();
    ok(huren(d, &["pki", "init-operator", "--out", "other"]));
    let token = ok(huren(
        d,
        &["sign", "--region-dir", "zj", "--licence", "licence.json"],
    ))
    .stdout;
    let run = huren(
        d,
        &[
            "verify",
            "--trust-list",
            "tl.jwt",
            "--operator-cert",
            "other/operator.crt.pem",
            token.trim(),
        ],
    );
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("not a pinned operator certificate"),
        "{}",
        run.stderr
    );
}

#[test]
fn pki_oids_lists_every_purpose_under_the_project_arc() {
    let dir = tempfile::tempdir().unwrap();
    let run = ok(huren(dir.path(), &["pki", "oids"]));
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let arc = json["arc"].as_str().unwrap();
    assert!(arc.starts_with("2.25."));
    for purpose in [
        "licence_signer",
        "status_signer",
        "seal_maker",
        "seal_holder",
        "trust_list_operator",
    ] {
        assert!(
            json["extended_key_usage"][purpose]
                .as_str()
                .unwrap()
                .starts_with(arc),
            "{purpose}"
        );
    }
}

#[test]
fn jwks_lists_each_trusted_signer() {
    let dir = setup();
    let run = ok(huren(
        dir.path(),
        &[
            "trust",
            "jwks",
            "--trust-list",
            "tl.jwt",
            "--operator-cert",
            "op/operator.crt.pem",
        ],
    ));
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let keys = json["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(key["kty"], "EC");
    assert_eq!(key["crv"], "P-256");
    assert_eq!(key["alg"], "ES256");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["huren_region"], "330000");
    assert_eq!(key["kid"], key["x5t#S256"]);
}

#[test]
fn types_says_which_holder_id_types_each_licence_type_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("extra.toml"),
        r#"
[[types]]
code = "11330000002482258X001"
name = "浙江省示例许可证"
define_authority = { name = "浙江省示例厅", code = "11330000002482258X" }
face_fields = [{ key = "scope", label = "许可范围", required = true }]
"#,
    )
    .unwrap();
    let run = ok(huren(d, &["types", "--catalogue", "extra.toml"]));
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let types = json["types"].as_array().unwrap();
    let by_name = |name: &str| {
        types
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing: {json}"))
    };
    // The issuer refuses a 营业执照 for a person and a 医师执业证书 for a company.
    assert_eq!(
        by_name("营业执照")["holder_id_types"],
        serde_json::json!(["001"])
    );
    assert_eq!(
        by_name("医师执业证书")["holder_id_types"],
        serde_json::json!(["111", "516", "999"])
    );
    // A province's type that names none accepts all five.
    assert_eq!(
        by_name("浙江省示例许可证")["holder_id_types"],
        serde_json::json!(["111", "001", "099", "516", "999"])
    );
    // Which face fields an annotated copy may show (SPEC §11): all by default, never a third
    // person's ID number.
    assert_eq!(
        by_name("浙江省示例许可证")["face_fields"][0]["disclosable"],
        true
    );
    let food = by_name("食品经营许可证")["face_fields"].clone();
    let representative_id = food
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "legal_representative_id")
        .unwrap_or_else(|| panic!("{food}"));
    assert_eq!(representative_id["disclosable"], false);
}

/// Certificates (DER), in the order a list names them.
type Ders = Vec<Vec<u8>>;

/// The certificates a trust list names for Zhejiang: licence signers, status signers, seal
/// makers.
fn listed(dir: &Path, trust_list: &str) -> (Ders, Ders, Ders) {
    use huren_crypto::cert::Certificate;
    use huren_crypto::trust_list::TrustList;
    let operator = huren_keys::pem::read_certificate(&dir.join("op/operator.crt.pem")).unwrap();
    let token = std::fs::read_to_string(dir.join(trust_list)).unwrap();
    let trust = TrustList::verify(&token, &[Certificate::from_der(&operator).unwrap()]).unwrap();
    let region = &trust.regions()[0];
    let ders = |certs: &[Certificate]| certs.iter().map(|c| c.der().to_vec()).collect();
    let signers = trust.signers().map(|s| s.cert.der().to_vec()).collect();
    (
        signers,
        ders(&region.status_signers),
        ders(&region.seal_makers),
    )
}

fn cert_der(dir: &Path, file: &str) -> Vec<u8> {
    huren_keys::pem::read_certificate(&dir.join("zj").join(file)).unwrap()
}

fn trust_build(dir: &Path, seq: &str, out: &str) {
    ok(huren(
        dir,
        &[
            "trust",
            "build",
            "--operator",
            "op",
            "--region",
            "zj",
            "--seq",
            seq,
            "--out",
            out,
        ],
    ));
}

#[test]
fn rollover_of_status_signer_and_seal_maker_keeps_the_old_ones_listed_until_dropped() {
    let dir = setup();
    let d = dir.path();
    let old_status = cert_der(d, "status-signer.crt.pem");
    let old_maker = cert_der(d, "seal-maker.crt.pem");

    let run = ok(huren(
        d,
        &[
            "pki",
            "rollover",
            "--role",
            "status-signer",
            "--region-dir",
            "zj",
        ],
    ));
    let rolled: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(rolled["role"], "status-signer", "{rolled}");
    let new_status = cert_der(d, rolled["cert"].as_str().unwrap());
    assert_ne!(new_status, old_status);
    let retired = &rolled["retired"];
    assert_eq!(retired["cert"], "status-signer.crt.pem", "{rolled}");
    let listed_for =
        retired["listed_until"].as_i64().unwrap() - retired["retired_at"].as_i64().unwrap();
    assert_eq!(
        listed_for,
        7 * 86_400,
        "its lists live at most 7 days (SPEC §4)"
    );
    // Nothing may sign with a retired key again: it is gone, its certificate stays.
    assert!(!d.join("zj/status-signer.key.pem").exists());
    assert!(d.join("zj/status-signer.crt.pem").exists());

    let run = ok(huren(
        d,
        &["pki", "rollover-seal-maker", "--region-dir", "zj"],
    ));
    let rolled: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(rolled["role"], "seal-maker", "{rolled}");
    let new_maker = cert_der(d, rolled["cert"].as_str().unwrap());
    // The old alias of the licence-signer rollover keeps working.
    ok(huren(d, &["pki", "rollover-signer", "--region-dir", "zj"]));

    trust_build(d, "2", "tl2.jwt");
    let (signers, status_signers, seal_makers) = listed(d, "tl2.jwt");
    assert_eq!(signers.len(), 2);
    assert_eq!(status_signers, [new_status.clone(), old_status.clone()]);
    assert_eq!(seal_makers, [new_maker.clone(), old_maker.clone()]);

    // A leaked key is dropped from the very next list; the one retired before stays listed.
    let run = ok(huren(
        d,
        &[
            "pki",
            "rollover-status-signer",
            "--region-dir",
            "zj",
            "--compromised",
        ],
    ));
    let rolled: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let newest = cert_der(d, rolled["cert"].as_str().unwrap());
    trust_build(d, "3", "tl3.jwt");
    let (_, status_signers, _) = listed(d, "tl3.jwt");
    assert_eq!(status_signers, [newest, old_status]);

    // Options that make no sense for the role are refused, naming the option.
    let run = huren(
        d,
        &[
            "pki",
            "rollover",
            "--role",
            "licence-signer",
            "--region-dir",
            "zj",
            "--compromised",
        ],
    );
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("--compromised"), "{}", run.stderr);
}

/// `huren issuer token …` against a database given by `HUREN_DATA_DIR`.
fn token_cli(dir: &Path, args: &[&str]) -> Run {
    let mut full = vec!["issuer", "token"];
    full.extend_from_slice(args);
    let mut command = Command::new(env!("CARGO_BIN_EXE_huren"));
    let output = command
        .args(&full)
        .current_dir(dir)
        .env("HUREN_DATA_DIR", dir.join("data"))
        .env_remove("HUREN_DATABASE_URL")
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn issuer_tokens_expire_are_listed_without_secrets_and_are_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let create = |extra: &[&str]| {
        let mut args = vec!["create", "--region", "330000", "--scopes", "issue,read"];
        args.extend_from_slice(extra);
        token_cli(d, &args)
    };
    // A bad duration is refused before anything is written, naming the value and the format.
    for bad in ["90", "1w", "0m", "400d"] {
        let run = create(&["--expires-in", bad]);
        assert_eq!(run.code, 64, "{bad}: {}", run.stderr);
        assert!(
            run.stderr.contains("--expires-in") && run.stderr.contains(bad),
            "{bad}: {}",
            run.stderr
        );
    }
    let short = ok(create(&[
        "--expires-in",
        "12h",
        "--label",
        "nightly import",
    ]));
    let secret = short.stdout.trim().to_owned();
    assert!(secret.starts_with("hrt_"), "{}", short.stdout);
    let default = ok(create(&[]));

    let list = |d: &Path| -> serde_json::Value {
        let run = ok(token_cli(d, &["list"]));
        assert!(
            !run.stdout.contains(&secret) && !run.stdout.contains(default.stdout.trim()),
            "a secret was listed"
        );
        serde_json::from_str(&run.stdout).unwrap()
    };
    let listed = list(d);
    let tokens = listed["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 2, "{listed}");
    // Both were created within the same second: pick them by label, not by position.
    let labelled = |listed: &serde_json::Value, nightly: bool| {
        listed["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| (t["label"] == "nightly import") == nightly)
            .cloned()
            .unwrap_or_else(|| panic!("{listed}"))
    };
    let first = &labelled(&listed, true);
    let other = &labelled(&listed, false);
    assert_eq!(first["region"], "330000");
    assert_eq!(first["scopes"], serde_json::json!(["issue", "read"]));
    assert_eq!(first["types"], serde_json::json!(["*"]));
    assert_eq!(first["revoked_at"], serde_json::Value::Null);
    assert_eq!(first["last_used_at"], serde_json::Value::Null);
    let time = |v: &serde_json::Value| {
        time::OffsetDateTime::parse(
            v.as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
        .unix_timestamp()
    };
    assert_eq!(
        time(&first["expires_at"]) - time(&first["created_at"]),
        12 * 3600
    );
    assert_eq!(
        time(&other["expires_at"]) - time(&other["created_at"]),
        90 * 86_400,
        "the default lifetime"
    );
    let mut keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "created_at",
            "expires_at",
            "id",
            "label",
            "last_used_at",
            "region",
            "revoked_at",
            "scopes",
            "types"
        ]
    );

    let id = first["id"].as_str().unwrap().to_owned();
    ok(token_cli(d, &["revoke", &id]));
    let listed = list(d);
    assert!(
        labelled(&listed, true)["revoked_at"].is_string(),
        "{listed}"
    );
    assert_eq!(
        labelled(&listed, false)["revoked_at"],
        serde_json::Value::Null
    );
    let again = token_cli(d, &["revoke", &id]);
    assert_ne!(again.code, 0);
    assert!(again.stderr.contains("already revoked"), "{}", again.stderr);
    let unknown = token_cli(d, &["revoke", "tok_0000000000000000"]);
    assert_ne!(unknown.code, 0);
    assert!(unknown.stderr.contains("no token"), "{}", unknown.stderr);
}

#[test]
fn issuer_token_create_accepts_the_copy_scope_for_a_holder_portal() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let args = [
        "create",
        "--region",
        "330000",
        "--scopes",
        "copy,read",
        "--label",
        "浙江政务服务网",
    ];
    let made = ok(token_cli(d, &args));
    assert!(made.stdout.trim().starts_with("hrt_"), "{}", made.stdout);
    let listed: serde_json::Value =
        serde_json::from_str(&ok(token_cli(d, &["list"])).stdout).unwrap();
    let mut scopes: Vec<&str> = listed["tokens"][0]["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    scopes.sort_unstable();
    assert_eq!(scopes, ["copy", "read"], "{listed}");
    // A misspelt scope is refused, and the message lists `copy` among the known ones.
    let bad = token_cli(d, &["create", "--region", "330000", "--scopes", "copies"]);
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("copy)"), "{}", bad.stderr);
}

/// The trust list in `dir/file`, verified against `op`.
fn trust_list(dir: &Path, file: &str) -> huren_crypto::trust_list::TrustList {
    use huren_crypto::cert::Certificate;
    use huren_crypto::trust_list::TrustList;
    let operator = huren_keys::pem::read_certificate(&dir.join("op/operator.crt.pem")).unwrap();
    let token = std::fs::read_to_string(dir.join(file)).unwrap();
    TrustList::verify(&token, &[Certificate::from_der(&operator).unwrap()]).unwrap()
}

#[test]
fn two_provinces_witness_each_others_logs_in_the_trust_list_built() {
    let dir = setup();
    let d = dir.path();
    ok(huren(
        d,
        &[
            "pki",
            "init-region",
            "--region",
            "320000",
            "--out",
            "js",
            "--public-url",
            "https://issuer.js.example/",
        ],
    ));
    let build = |extra: &[&str]| {
        let mut args = vec![
            "trust",
            "build",
            "--operator",
            "op",
            "--region",
            "zj",
            "--region",
            "js",
            "--seq",
            "2",
            "--out",
            "tl2.jwt",
        ];
        args.extend_from_slice(extra);
        huren(d, &args)
    };
    let run = ok(build(&[]));
    assert!(
        run.stderr
            .contains("330000: log witnessed by 1 of 1 (huren.gov.cn/witness/320000)"),
        "{}",
        run.stderr
    );
    let trust = trust_list(d, "tl2.jwt");
    let claims = trust.claims();
    for (region, other, other_url) in [
        ("zj", "js", "https://issuer.js.example/v1/witness"),
        ("js", "zj", "https://issuer.zj.example/v1/witness"),
    ] {
        let config = huren_keys::layout::RegionDir::open(&d.join(region))
            .unwrap()
            .config;
        let other = huren_keys::layout::RegionDir::open(&d.join(other))
            .unwrap()
            .config;
        let entry = claims
            .regions
            .iter()
            .find(|r| r.code == config.code)
            .unwrap();
        assert_eq!(
            entry.log_key.as_ref(),
            Some(&config.log.as_ref().unwrap().vkey)
        );
        assert_eq!(entry.witnesses.len(), 1, "{region}");
        assert_eq!(
            entry.witnesses[0].vkey,
            other.witness.as_ref().unwrap().vkey
        );
        assert_eq!(
            entry.witnesses[0].name,
            format!("huren.gov.cn/witness/{}", other.code)
        );
        assert_eq!(entry.witnesses[0].url, other_url);
        assert_eq!(entry.witness_quorum, 1);
        let (_, log) = trust
            .log(&format!("huren.gov.cn/log/{}", config.code))
            .unwrap();
        assert_eq!(log.quorum, 1);
    }
    assert!(trust.problems().is_empty(), "{:?}", trust.problems());

    // A quorum nobody can meet is refused, naming the flag and the region.
    let run = build(&["--witness-quorum", "2"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr
            .contains("--witness-quorum 2: region 330000 has only 1 witness(es)"),
        "{}",
        run.stderr
    );
    ok(build(&["--no-witnesses"]));
    let trust = trust_list(d, "tl2.jwt");
    assert!(trust
        .claims()
        .regions
        .iter()
        .all(|r| r.log_key.is_some() && r.witnesses.is_empty() && r.witness_quorum == 0));
}

#[test]
fn log_keys_imports_an_ed25519_key_and_refuses_other_keys_and_one_key_for_both_roles() {
    let dir = setup();
    let d = dir.path();
    let before = std::fs::read(d.join("zj/region.json")).unwrap();
    // A P-256 key (the licence signer's) is not an Ed25519 key.
    let run = huren(
        d,
        &[
            "pki",
            "log-keys",
            "--region-dir",
            "zj",
            "--import-log-key",
            "zj/licence-signer.key.pem",
        ],
    );
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("zj/licence-signer.key.pem") && run.stderr.contains("not an Ed25519"),
        "{}",
        run.stderr
    );
    // The region's own witness key may not become its log key.
    let run = huren(
        d,
        &[
            "pki",
            "log-keys",
            "--region-dir",
            "zj",
            "--import-log-key",
            "zj/witness.key.pem",
        ],
    );
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("are the same key"), "{}", run.stderr);
    assert_eq!(std::fs::read(d.join("zj/region.json")).unwrap(), before);

    // An Ed25519 key made elsewhere (here: another directory's, encrypted under the same
    // passphrase) is imported as the log key, under Zhejiang's name; the witness key is kept.
    let other = huren_keys::layout::init_region(
        &d.join("elsewhere"),
        &huren_keys::layout::InitRegion {
            code: huren_crypto::ids::RegionCode::parse("310000").unwrap(),
            name: "上海市".into(),
            alg: huren_crypto::alg::Algorithm::Es256,
            public_url: "https://issuer.sh.example".into(),
            protection: huren_keys::store::Protection::Plaintext,
            now: huren_crypto::time::UnixTime(1_795_000_000),
        },
    )
    .unwrap();
    let run = ok(huren(
        d,
        &[
            "pki",
            "log-keys",
            "--region-dir",
            "zj",
            "--import-log-key",
            "elsewhere/log.key.pem",
        ],
    ));
    let out = report(&run);
    assert_eq!(out["log"]["source"], "imported");
    assert_eq!(out["witness"]["source"], "kept");
    assert_eq!(out["deleted_keys"], serde_json::json!(["log.key.pem"]));
    let vkey = out["log"]["vkey"].as_str().unwrap();
    assert!(vkey.starts_with("huren.gov.cn/log/330000+"), "{vkey}");
    let imported = other.config.log.as_ref().unwrap().vkey.public().to_vec();
    let zj = huren_keys::layout::RegionDir::open(&d.join("zj")).unwrap();
    assert_eq!(
        zj.config.log.as_ref().unwrap().vkey.public().to_vec(),
        imported
    );
    let key =
        std::fs::read_to_string(d.join("zj").join(out["log"]["key"].as_str().unwrap())).unwrap();
    assert!(
        key.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
        "re-encrypted"
    );
}
