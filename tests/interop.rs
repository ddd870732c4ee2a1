//! Interoperability: huren against tools it does not control.
//!
//! - A third party verifies a huren licence with PyJWT and the JWKS from `huren trust jwks`
//!   (SPEC §3, §10), using the Python script `tests/interop/pyjwt_verify.py`. Needs `python3`
//!   with `pip install pyjwt cryptography`; without them the test is recorded as skipped, which
//!   `cargo test` reports in its last line and `CI` fails.
//! - A province whose PKI was made with the `openssl` command line (P-256 and RSA-2048; SM2
//!   too) is imported with `huren pki import-region`, and its licences and status lists verify
//!   (SPEC §2, §4, §5), using `tests/interop/openssl.cnf`. Needs `openssl` (3.0 or later).
//!
//! Everything runs in a fresh temporary directory, with plaintext keys (test set-up only).

// The helpers below are test code: a failed expectation is a test failure with its message.
#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Helpers

/// What a finished command gave back.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Runs `program args…` in `dir` and returns what it gave back, whatever its exit code.
fn run_any(dir: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        .env_remove("HUREN_KEY_PASSPHRASE")
        .env_remove("HUREN_TRUST_LIST")
        .env_remove("HUREN_OPERATOR_CERT")
        // The scenario's keys are plaintext (a test set-up): allowed explicitly.
        .env("HUREN_ALLOW_PLAINTEXT_KEYS", "true");
    for (key, value) in env {
        command.env(key, value);
    }
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
        .into()
}

/// Runs a command that must succeed (exit 0); panics with its stderr otherwise.
fn run_ok(dir: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let run = run_any(dir, program, args, env);
    if run.code != Some(0) {
        panic!(
            "`{program} {}` exited with {:?}\n--- stdout\n{}\n--- stderr\n{}",
            args.join(" "),
            run.code,
            run.stdout,
            run.stderr
        );
    }
    run
}

/// A command line without quoting, split at spaces (for arguments that have none).
fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// `huren args…`, which must succeed.
fn huren(dir: &Path, args: &[&str]) -> Run {
    run_ok(dir, env!("CARGO_BIN_EXE_huren"), args, &[])
}

/// `huren args…`, whatever its exit code.
fn huren_any(dir: &Path, args: &[&str]) -> Run {
    run_any(dir, env!("CARGO_BIN_EXE_huren"), args, &[])
}

/// Parses JSON output, or panics showing it.
fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// A file committed under `tests/interop/`.
fn interop_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(name)
}

/// A licence object (SPEC §3 `licence`, the body of `huren sign --licence`), valid from long
/// ago to far ahead so the tests do not depend on today's date.
fn write_licence(dir: &Path) {
    let licence = serde_json::json!({
        "type_code": "11100000000013338W032",
        "type_name": "建筑业企业资质证书",
        "number": "D233012345",
        "holder": {"name": "杭州示例建设有限公司", "id_type": "001", "id": "91350100M000100Y43"},
        "issuer": {"name": "浙江省住房和城乡建设厅", "code": "11220000013544541J"},
        "issued_on": "2020-01-01",
        "valid_from": "2020-01-01",
        "valid_until": "2099-12-31",
        "face": {"qualification": "建筑工程施工总承包壹级"}
    });
    std::fs::write(dir.join("licence.json"), licence.to_string()).expect("write licence.json");
}

/// The protected header of a compact JWS, decoded without any check.
fn jws_header(token: &str) -> Value {
    let first = token.split('.').next().expect("a compact JWS");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(first)
        .expect("base64url header");
    serde_json::from_slice(&bytes).expect("JSON header")
}

/// `huren pki init-operator` into `dir/op`.
fn init_operator(dir: &Path) {
    huren(
        dir,
        &words("pki init-operator --out op --insecure-plaintext-keys"),
    );
}

// ---------------------------------------------------------------------------------------------
// PyJWT

/// Whether this machine's `python3` can run `tests/interop/pyjwt_verify.py`, as
/// `tests/interop/pyjwt_probe.py` (which `scripts/test` asks too) tells; if not, the calling
/// test is recorded as skipped (a failure under `CI`).
fn pyjwt_present() -> bool {
    let probe = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/pyjwt_probe.py");
    let usable = Command::new("python3")
        .arg(probe)
        .output()
        .is_ok_and(|probe| probe.status.success());
    if !usable {
        skips::skipped(
            "python3 with PyJWT (new enough to verify with a JWK) and cryptography not found \
             (pip install pyjwt cryptography)",
        );
    }
    usable
}

#[test]
fn third_party_pyjwt_verifies_es256_licence_with_the_jwks() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    if !pyjwt_present() {
        return;
    }

    init_operator(dir);
    huren(
        dir,
        &words(
            "pki init-region --region 330000 --out zj --alg ES256 \
             --public-url https://issuer.zj.example --insecure-plaintext-keys",
        ),
    );
    huren(
        dir,
        &words("trust build --operator op --region zj --seq 1 --out trust.jwt"),
    );
    write_licence(dir);
    let signed = huren(
        dir,
        &words(
            "sign --region-dir zj --licence licence.json --serial 2026000001 --status-idx 4711 \
             --status-uri https://issuer.zj.example/v1/status/330000-0",
        ),
    );
    let token = signed.stdout.trim().to_owned();
    std::fs::write(dir.join("token.txt"), &token).expect("write token");

    // The JWKS: one P-256 key for Zhejiang, with every member SPEC §10 names.
    let jwks_text = huren(
        dir,
        &words("trust jwks --trust-list trust.jwt --operator-cert op/operator.crt.pem"),
    )
    .stdout;
    std::fs::write(dir.join("jwks.json"), &jwks_text).expect("write jwks");
    let jwks = json(&jwks_text);
    let keys = jwks["keys"].as_array().expect("keys array");
    assert_eq!(keys.len(), 1, "{jwks_text}");
    let key = &keys[0];
    let members = "kid x5t#S256 x5c alg use huren_region kty crv x y";
    for member in words(members) {
        assert!(key.get(member).is_some(), "JWK lacks {member}: {key}");
    }
    assert_eq!(key["kid"], key["x5t#S256"]);
    assert_eq!(key["alg"], "ES256");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["huren_region"], "330000");
    assert_eq!(key["kty"], "EC");
    assert_eq!(key["crv"], "P-256");
    assert!(!key["x5c"][0].as_str().unwrap_or("").is_empty(), "{key}");
    let header = jws_header(&token);
    assert_eq!(header["x5t#S256"], key["kid"], "token header {header}");

    // PyJWT verifies it and returns the claims. huren zips this licence (`zip: "DEF"`, it is
    // shorter so), which takes the script's PyJWS + raw-inflate path; an unzipped token would
    // go through `jwt.decode` with PyJWT's own claim checks.
    let script = interop_file("pyjwt_verify.py");
    let script = script.to_str().expect("UTF-8 path");
    let verified = run_any(dir, "python3", &[script, "jwks.json", "token.txt"], &[]);
    assert_ne!(
        verified.code,
        Some(3),
        "pip install pyjwt cryptography\n{}",
        verified.stderr
    );
    assert_eq!(
        verified.code,
        Some(0),
        "PyJWT refused a good token (header {header})\n--- stderr\n{}",
        verified.stderr
    );
    let claims = json(&verified.stdout);
    assert_eq!(claims["iss"], "330000", "{claims}");
    // huren's own reading of the same token (JSON report; the verdict is beside the point
    // here: without a status list it is indeterminate).
    let mut verify = words("verify --trust-list trust.jwt --operator-cert op/operator.crt.pem");
    verify.push(&token);
    let report = huren_any(dir, &verify);
    let report = json(&report.stdout);
    let jti = report["licence"]["jti"]
        .as_str()
        .expect("the report names the jti");
    assert!(
        jti.starts_with("1.2.156.3005.2.11100000000013338W032.11220000013544541J.2026000001.001."),
        "{jti}"
    );
    assert_eq!(claims["jti"], jti, "{claims}");
    assert_eq!(claims["licence"]["number"], "D233012345");
    assert_eq!(claims["licence"]["holder"]["name"], "杭州示例建设有限公司");
    assert_eq!(claims["status"]["status_list"]["idx"], 4711);

    // One payload character changed: the signature no longer holds.
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let mut payload: Vec<char> = parts[1].chars().collect();
    let middle = payload.len() / 2;
    payload[middle] = if payload[middle] == 'A' { 'B' } else { 'A' };
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        payload.into_iter().collect::<String>(),
        parts[2]
    );
    std::fs::write(dir.join("tampered.txt"), &tampered).expect("write tampered token");
    let refused = run_any(dir, "python3", &[script, "jwks.json", "tampered.txt"], &[]);
    assert_eq!(
        refused.code,
        Some(1),
        "PyJWT accepted a tampered token\n--- stdout\n{}\n--- stderr\n{}",
        refused.stdout,
        refused.stderr
    );
    assert!(
        refused.stderr.contains("InvalidSignatureError"),
        "{}",
        refused.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// OpenSSL

/// SM2 distinguishing ID (SPEC §2), as OpenSSL's `distid:` option.
const SM2_DISTID: &str = "distid:1234567812345678";

/// The kinds of province PKI made with OpenSSL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// P-256 keys from `openssl genpkey` (PKCS#8 PEM), ECDSA-SHA256 certificates.
    P256,
    /// RSA-2048 keys from `openssl genrsa -traditional` (`RSA PRIVATE KEY` PEM); the root
    /// signs itself with PKCS#1 v1.5 and the leaf with RSASSA-PSS (SHA-256, MGF1-SHA-256,
    /// salt 32).
    Rsa2048,
    /// SM2 keys from `openssl genpkey` (PKCS#8 PEM), SM2-with-SM3 certificates with the
    /// standard distinguishing ID.
    Sm2,
}

impl Kind {
    /// `openssl` arguments writing a new private key to `file`.
    fn new_key_command(self, file: &str) -> String {
        match self {
            Kind::P256 => {
                format!("genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out {file}")
            }
            Kind::Rsa2048 => format!("genrsa -traditional -out {file} 2048"),
            Kind::Sm2 => {
                format!("genpkey -algorithm EC -pkeyopt ec_paramgen_curve:SM2 -out {file}")
            }
        }
    }

    /// First line of the key file `new_key_command` writes.
    fn key_pem_label(self) -> &'static str {
        match self {
            Kind::Rsa2048 => "-----BEGIN RSA PRIVATE KEY-----",
            Kind::P256 | Kind::Sm2 => "-----BEGIN PRIVATE KEY-----",
        }
    }

    /// Options of `req` for signing a self-signed certificate or a request.
    fn self_signing_options(self) -> String {
        match self {
            Kind::P256 | Kind::Rsa2048 => "-sha256".into(),
            Kind::Sm2 => format!("-sm3 -sigopt {SM2_DISTID}"),
        }
    }

    /// Options of `x509 -req` for the root signing a leaf (and checking the request).
    fn issuing_options(self) -> String {
        match self {
            Kind::P256 => "-sha256".into(),
            Kind::Rsa2048 => "-sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 \
                              -sigopt rsa_mgf1_md:sha256"
                .into(),
            Kind::Sm2 => format!("-sm3 -sigopt {SM2_DISTID} -vfyopt {SM2_DISTID}"),
        }
    }

    /// Options of `pkeyutl -verify -rawin` for a JWS signature of this kind.
    fn jws_verify_options(self) -> String {
        match self {
            Kind::P256 => "-digest sha256".into(),
            Kind::Rsa2048 => "-digest sha256 -pkeyopt rsa_padding_mode:pss \
                              -pkeyopt rsa_pss_saltlen:32 -pkeyopt rsa_mgf1_md:sha256"
                .into(),
            Kind::Sm2 => format!("-digest sm3 -pkeyopt {SM2_DISTID}"),
        }
    }
}

/// A province made outside huren.
struct Province {
    kind: Kind,
    code: &'static str,
    name: &'static str,
    /// Its huren region directory; also the prefix of its OpenSSL files.
    dir: &'static str,
    alg: &'static str,
    public_url: &'static str,
}

const PROVINCES: [Province; 3] = [
    Province {
        kind: Kind::P256,
        code: "320000",
        name: "江苏省",
        dir: "js",
        alg: "ES256",
        public_url: "https://issuer.js.example",
    },
    Province {
        kind: Kind::Rsa2048,
        code: "440000",
        name: "广东省",
        dir: "gd",
        alg: "PS256",
        public_url: "https://issuer.gd.example",
    },
    // OpenSSL 3.0.19 makes SM2 certificates that huren accepts (root self-signed with
    // `req -x509 -sm3 -sigopt distid:…`, leaf with `x509 -req … -vfyopt distid:…`). Note that
    // `openssl verify -check_ss_sig` reports "certificate signature failure" on such a root even
    // with `-vfyopt distid:1234567812345678` (its self-signature check does not take the ID),
    // while `openssl verify -CAfile root.pem -vfyopt distid:… leaf.pem` is OK; huren checks the
    // root's self-signature with the standard ID and accepts it. An OpenSSL built without SM2
    // (some distributions disable it) fails this test at `genpkey`.
    Province {
        kind: Kind::Sm2,
        code: "510000",
        name: "四川省",
        dir: "sc",
        alg: "SM2SM3",
        public_url: "https://issuer.sc.example",
    },
];

/// Runs `openssl` with `line` (split at spaces) and then `more` (kept whole: subjects contain
/// spaces); the leaf EKUs reach `openssl.cnf` through `HUREN_LEAF_EKU`.
fn openssl(dir: &Path, eku: &str, line: &str, more: &[&str]) -> Run {
    let mut args = words(line);
    args.extend(more);
    run_ok(dir, "openssl", &args, &[("HUREN_LEAF_EKU", eku)])
}

/// Copies `tests/interop/openssl.cnf` into `dir`, where the commands below name it (so no
/// path with spaces reaches a command line split at spaces).
fn copy_openssl_config(dir: &Path) {
    std::fs::copy(interop_file("openssl.cnf"), dir.join("openssl.cnf")).expect("copy openssl.cnf");
}

/// A new private key in `file`, in the PEM form OpenSSL writes for `kind`.
fn new_key(dir: &Path, kind: Kind, file: &str) {
    openssl(dir, "", &kind.new_key_command(file), &[]);
    let pem = std::fs::read_to_string(dir.join(file)).expect("read the new key");
    assert!(
        pem.starts_with(kind.key_pem_label()),
        "{file} is not {}",
        kind.key_pem_label()
    );
}

/// A self-signed province root CA (`v3_root` of `openssl.cnf`): `{stem}.key`, `{stem}.pem`.
fn make_root(dir: &Path, kind: Kind, stem: &str, subject: &str) {
    new_key(dir, kind, &format!("{stem}.key"));
    let line = format!(
        "req -x509 -new -utf8 -key {stem}.key -days 3650 -config openssl.cnf \
         -extensions v3_root -out {stem}.pem {}",
        kind.self_signing_options()
    );
    openssl(dir, "", &line, &["-subj", subject]);
}

/// A leaf certificate to make with OpenSSL.
struct Leaf<'a> {
    /// Its private key file.
    key: &'a str,
    /// `-subj`, e.g. `/C=CN/CN=…`.
    subject: &'a str,
    /// Extension section of `openssl.cnf`.
    section: &'a str,
    /// Extended key usage for `v3_leaf` (comma-separated dotted OIDs).
    eku: &'a str,
    /// The certificate file to write (and `{out}.csr`).
    out: &'a str,
}

/// Makes `leaf`, issued for 365 days (random serial) by the root `{root}.pem`/`{root}.key`.
fn make_leaf(dir: &Path, kind: Kind, root: &str, leaf: &Leaf<'_>) {
    let Leaf {
        key,
        subject,
        section,
        eku,
        out,
    } = leaf;
    let request = format!(
        "req -new -utf8 -key {key} -config openssl.cnf -out {out}.csr {}",
        kind.self_signing_options()
    );
    openssl(dir, eku, &request, &["-subj", subject]);
    let issue = format!(
        "x509 -req -in {out}.csr -CA {root}.pem -CAkey {root}.key -days 365 \
         -extfile openssl.cnf -extensions {section} -out {out} {}",
        kind.issuing_options()
    );
    openssl(dir, eku, &issue, &[]);
}

/// DER `ECDSA-Sig-Value` (SM2 uses the same) from a JOSE raw r‖s signature.
fn der_signature(raw: &[u8]) -> Vec<u8> {
    assert_eq!(raw.len(), 64, "raw r‖s signature");
    let integer = |half: &[u8]| {
        let start = half.iter().position(|&b| b != 0).unwrap_or(half.len() - 1);
        let mut bytes = half[start..].to_vec();
        if bytes[0] & 0x80 != 0 {
            bytes.insert(0, 0);
        }
        let mut out = vec![0x02, bytes.len() as u8];
        out.extend(bytes);
        out
    };
    let mut body = integer(&raw[..32]);
    body.extend(integer(&raw[32..]));
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

/// Whether `openssl pkeyutl` accepts the signature of the compact JWS `token` under the key of
/// the certificate `cert` (the other direction: huren signs, OpenSSL checks). `tamper` flips a
/// bit of the signing input first.
fn openssl_accepts_jws(dir: &Path, kind: Kind, token: &str, cert: &str, tamper: bool) -> bool {
    let (signing_input, signature) = token.rsplit_once('.').expect("a compact JWS");
    let mut input = signing_input.as_bytes().to_vec();
    if tamper {
        input[10] ^= 1;
    }
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .expect("base64url signature");
    let signature = match kind {
        Kind::Rsa2048 => raw,
        Kind::P256 | Kind::Sm2 => der_signature(&raw),
    };
    std::fs::write(dir.join("jws-input.bin"), &input).expect("write the signing input");
    std::fs::write(dir.join("jws-signature.bin"), &signature).expect("write the signature");
    let public = openssl(dir, "", &format!("x509 -in {cert} -pubkey -noout"), &[]).stdout;
    std::fs::write(dir.join("jws-public.pem"), public).expect("write the public key");
    let line = format!(
        "pkeyutl -verify -pubin -inkey jws-public.pem -rawin -in jws-input.bin \
         -sigfile jws-signature.bin {}",
        kind.jws_verify_options()
    );
    run_any(dir, "openssl", &words(&line), &[]).code == Some(0)
}

/// `huren verify --status-dir {status_dir} TOKEN` against `trust.jwt`: (exit code, report).
fn verify_with_status(dir: &Path, status_dir: &str, token: &str) -> (Option<i32>, Value) {
    let line = format!(
        "verify --trust-list trust.jwt --operator-cert op/operator.crt.pem --status-dir {status_dir}"
    );
    let mut args = words(&line);
    args.push(token);
    let run = huren_any(dir, &args);
    assert!(
        matches!(run.code, Some(0..=2)),
        "huren verify could not verify ({:?}):\n{}",
        run.code,
        run.stderr
    );
    (run.code, json(&run.stdout))
}

#[test]
fn openssl_made_province_imports_and_its_licences_verify() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let version = run_any(dir, "openssl", &["version"], &[]);
    assert_eq!(
        version.code,
        Some(0),
        "this test needs the openssl command (3.0 or later)"
    );
    copy_openssl_config(dir);

    let oids = json(&huren(dir, &["pki", "oids"]).stdout);
    let oid = |purpose: &str| {
        oids["extended_key_usage"][purpose]
            .as_str()
            .unwrap_or_else(|| panic!("no {purpose} in `huren pki oids`: {oids}"))
            .to_owned()
    };
    let (licence_oid, status_oid) = (oid("licence_signer"), oid("status_signer"));

    // Each province: a root and one leaf serving as licence signer and status signer.
    for p in &PROVINCES {
        let root = format!("{}-root", p.dir);
        let (key, cert) = (
            format!("{}-signer.key", p.dir),
            format!("{}-signer.pem", p.dir),
        );
        make_root(
            dir,
            p.kind,
            &root,
            &format!("/C=CN/O={0}人民政府/CN={0} 证照根 CA", p.name),
        );
        new_key(dir, p.kind, &key);
        let subject = format!("/C=CN/O={0}人民政府/CN={0} 证照签发", p.name);
        let both = format!("{licence_oid},{status_oid}");
        let leaf = Leaf {
            key: &key,
            subject: &subject,
            section: "v3_leaf",
            eku: &both,
            out: &cert,
        };
        make_leaf(dir, p.kind, &root, &leaf);
        let import = format!(
            "pki import-region --region {} --root {root}.pem --signer-cert {cert} \
             --signer-key {key} --alg {} --public-url {} --out {} --insecure-plaintext-keys",
            p.code, p.alg, p.public_url, p.dir
        );
        huren(dir, &words(&import));
    }

    // Negative: a leaf without huren's licence-signer EKU (an ordinary EKU only; then the
    // status-signer EKU only) is refused, naming the extended key usage, and nothing is written.
    for (section, eku, cert) in [
        ("v3_leaf_no_huren_eku", "", "js-codesigning.pem"),
        ("v3_leaf", status_oid.as_str(), "js-status-only.pem"),
    ] {
        let subject = "/C=CN/O=江苏省人民政府/CN=江苏省 证照签发";
        let leaf = Leaf {
            key: "js-signer.key",
            subject,
            section,
            eku,
            out: cert,
        };
        make_leaf(dir, Kind::P256, "js-root", &leaf);
        let import = format!(
            "pki import-region --region 320000 --root js-root.pem --signer-cert {cert} \
             --signer-key js-signer.key --alg ES256 --out refused --insecure-plaintext-keys"
        );
        let refused = huren_any(dir, &words(&import));
        assert_ne!(refused.code, Some(0), "import-region accepted {cert}");
        assert!(
            refused.stderr.contains("extended key usage"),
            "the refusal of {cert} does not name the extended key usage:\n{}",
            refused.stderr
        );
        assert!(
            !dir.join("refused").exists(),
            "a refused import left a directory"
        );
    }

    init_operator(dir);
    let mut build = words("trust build --operator op --seq 1 --out trust.jwt");
    for p in &PROVINCES {
        build.extend(["--region", p.dir]);
    }
    huren(dir, &build);
    write_licence(dir);

    for p in &PROVINCES {
        let uri = format!("{}/v1/status/{}-0", p.public_url, p.code);
        let sign = format!(
            "sign --region-dir {} --licence licence.json --status-idx 5 --status-uri {uri}",
            p.dir
        );
        let token = huren(dir, &words(&sign)).stdout.trim().to_owned();
        assert_eq!(jws_header(&token)["alg"], p.alg, "{}", p.code);

        // OpenSSL agrees with huren's signature, and not with a changed input.
        let cert = format!("{}-signer.pem", p.dir);
        assert!(
            openssl_accepts_jws(dir, p.kind, &token, &cert, false),
            "openssl rejects the {} signature of {}",
            p.alg,
            p.code
        );
        assert!(
            !openssl_accepts_jws(dir, p.kind, &token, &cert, true),
            "openssl accepts a changed signing input ({})",
            p.code
        );

        // Two status lists signed by the same leaf (it carries both EKUs): index 5 valid, and
        // index 5 revoked.
        let good = format!("status-good-{}", p.code);
        let revoked = format!("status-revoked-{}", p.code);
        for (status_dir, extra) in [(&good, ""), (&revoked, "--revoke 5")] {
            std::fs::create_dir(dir.join(status_dir)).expect("status dir");
            let line = format!(
                "status-list --region-dir {} --uri {uri} --size 1024 \
                 --out {status_dir}/{}-0.jwt {extra}",
                p.dir, p.code
            );
            huren(dir, &words(&line));
        }

        let (code, report) = verify_with_status(dir, &good, &token);
        assert_eq!(code, Some(0), "{}: {report:#}", p.code);
        assert_eq!(report["verdict"], "valid", "{report:#}");
        assert_eq!(report["reasons"], serde_json::json!([]), "{report:#}");
        assert_eq!(report["licence"]["iss"], p.code, "{report:#}");
        let status_check = report["checks"]
            .as_array()
            .and_then(|checks| checks.iter().find(|c| c["check"] == "status"))
            .unwrap_or_else(|| panic!("no status check in {report:#}"));
        assert_eq!(status_check["ok"], true, "{report:#}");

        let (code, report) = verify_with_status(dir, &revoked, &token);
        assert_eq!(code, Some(1), "{}: {report:#}", p.code);
        assert_eq!(report["verdict"], "invalid", "{report:#}");
        assert_eq!(
            report["reasons"],
            serde_json::json!(["revoked"]),
            "{report:#}"
        );
    }
}
