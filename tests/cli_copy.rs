//! `huren copy` and `huren verify --audience` as a province without the issuer service and a
//! window clerk drive them (SPEC §11): a copy made offline from a signed licence, verified for
//! the unit it names, for another unit and without one, withdrawn through its own entry, and
//! refused with the bad field named.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

use std::path::Path;

mod common;
use common::cli::{huren, json, ok};

const STATUS_URI: &str = "https://issuer.zj.example/v1/status/330000-0";
const AUD: &str = "11320105MB12345623";
const OTHER_UNIT: &str = "11320105MB0000001X";

const LICENCE: &str = r#"{
  "type_code": "11100000000013338W032",
  "type_name": "建筑业企业资质证书",
  "number": "D233012345",
  "holder": {"name": "杭州示例建设有限公司", "id_type": "001", "id": "91350100M000100Y43"},
  "issuer": {"name": "浙江省住房和城乡建设厅", "code": "11220000013544541J"},
  "issued_on": "2026-11-22",
  "valid_from": "2026-11-22",
  "valid_until": "2031-11-21",
  "face": {"qualification": "建筑工程施工总承包壹级", "legal_representative": "王五", "registered_capital": "5000万元人民币", "address": "杭州市西湖区示例路1号", "economic_nature": "有限责任公司"}
}"#;

/// Operator, Zhejiang, trust list `tl.jwt`, a licence at status index 9 in `licence.txt`, and
/// a status list with nothing revoked in `status/`.
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(huren(d, &["pki", "init-operator", "--out", "op"], None));
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
        None,
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
        None,
    ));
    std::fs::write(d.join("licence.json"), LICENCE).unwrap();
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
            STATUS_URI,
        ],
        None,
    ))
    .stdout;
    std::fs::write(d.join("licence.txt"), token).unwrap();
    std::fs::create_dir(d.join("status")).unwrap();
    status_list(d, &[]);
    dir
}

fn status_list(d: &Path, extra: &[&str]) {
    let mut args = vec![
        "status-list",
        "--region-dir",
        "zj",
        "--uri",
        STATUS_URI,
        "--out",
        "status/zj.jwt",
    ];
    args.extend_from_slice(extra);
    ok(huren(d, &args, None));
}

fn copy(d: &Path, extra: &[&str]) -> common::cli::Run {
    let mut args = vec![
        "copy",
        "--region-dir",
        "zj",
        "--licence",
        "licence.txt",
        "--cause",
        "办理异地建筑工程施工许可",
        "--item-code",
        "320105-JS-001",
        "--item-name",
        "建筑工程施工许可证核发",
        "--copy-status-idx",
        "10",
        "--copy-status-uri",
        STATUS_URI,
    ];
    args.extend_from_slice(extra);
    huren(d, &args, None)
}

fn verify(d: &Path, token: &str, extra: &[&str]) -> common::cli::Run {
    let mut args = vec![
        "verify",
        "--trust-list",
        "tl.jwt",
        "--operator-cert",
        "op/operator.crt.pem",
        "--status-dir",
        "status",
    ];
    args.extend_from_slice(extra);
    args.push(token);
    huren(d, &args, None)
}

#[test]
fn an_offline_copy_verifies_for_its_unit_only_and_is_withdrawn_by_its_own_entry() {
    let dir = setup();
    let d = dir.path();
    let made = ok(copy(
        d,
        &[
            "--aud-code",
            AUD,
            "--aud-name",
            "南京市建邺区行政审批局",
            "--disclose",
            "number,holder.name,face.qualification",
            "--qr",
        ],
    ));
    let qr = made.stdout.trim().to_owned();
    assert!(qr.starts_with("HR1:"), "{qr}");
    assert!(
        made.stderr
            .contains("number, holder.name, face.qualification"),
        "{}",
        made.stderr
    );

    // For the unit it names: valid, exit 0, with the copy object and only the chosen fields.
    let run = ok(verify(d, &qr, &["--audience", AUD]));
    let report = json(&run);
    assert_eq!(report["verdict"], "valid");
    assert_eq!(report["warnings"], serde_json::json!([]));
    assert_eq!(report["copy"]["aud"]["code"], AUD);
    assert_eq!(report["copy"]["copier"]["name"], "浙江省");
    assert_eq!(
        report["copy"]["disclosed"],
        serde_json::json!(["number", "holder.name", "face.qualification"])
    );
    assert_eq!(
        report["licence"]["face"],
        serde_json::json!({"qualification": "建筑工程施工总承包壹级"})
    );
    assert!(
        report["licence"].get("holder_id_masked").is_none(),
        "{report}"
    );
    assert!(run.stderr.contains("加注件"), "{}", run.stderr);

    // For another unit: invalid, exit 1.
    let run = verify(d, &qr, &["--audience", OTHER_UNIT]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(json(&run)["reasons"], serde_json::json!(["wrong_audience"]));

    // Without a unit: valid with the warning.
    let run = ok(verify(d, &qr, &[]));
    assert_eq!(
        json(&run)["warnings"],
        serde_json::json!(["audience_not_checked"])
    );

    // Withdrawn (its own entry revoked): invalid, and the licence itself stays valid.
    status_list(d, &["--revoke", "10"]);
    let run = verify(d, &qr, &["--audience", AUD]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(json(&run)["reasons"], serde_json::json!(["copy_withdrawn"]));
    let licence = std::fs::read_to_string(d.join("licence.txt")).unwrap();
    assert_eq!(
        json(&ok(verify(d, licence.trim(), &[])))["verdict"],
        "valid"
    );

    // The licence revoked: the copy with it.
    status_list(d, &["--revoke", "9"]);
    let run = verify(d, &qr, &["--audience", AUD]);
    assert_eq!(json(&run)["reasons"], serde_json::json!(["revoked"]));
}

#[test]
fn bad_terms_and_foreign_or_tampered_licences_are_refused_naming_what_is_wrong() {
    let dir = setup();
    let d = dir.path();
    let long_cause = "因".repeat(201);
    let run = huren(
        d,
        &[
            "copy",
            "--region-dir",
            "zj",
            "--licence",
            "licence.txt",
            "--cause",
            &long_cause,
            "--item-code",
            "320105-JS-001",
            "--item-name",
            "建筑工程施工许可证核发",
            "--aud-code",
            "11320105MB12345624",
            "--aud-name",
            "某局",
            "--valid-for-secs",
            "59",
            "--disclose",
            "holder.birthday",
        ],
        None,
    );
    assert_ne!(run.code, 0);
    for field in ["purpose.cause", "aud.code", "valid_for_secs", "disclose[0]"] {
        assert!(
            run.stderr.contains(field),
            "{field} not named:\n{}",
            run.stderr
        );
    }

    // A licence whose signature was altered is not copied.
    let licence = std::fs::read_to_string(d.join("licence.txt")).unwrap();
    let mut bytes = licence.trim().as_bytes().to_vec();
    let last = bytes.len() - 3;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    std::fs::write(d.join("tampered.txt"), &bytes).unwrap();
    let run = huren(
        d,
        &[
            "copy",
            "--region-dir",
            "zj",
            "--licence",
            "tampered.txt",
            "--cause",
            "窗口亮证",
            "--category",
            "1",
        ],
        None,
    );
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("signature does not verify"),
        "{}",
        run.stderr
    );

    // A copy is not copied again.
    let made = ok(copy(d, &[])).stdout;
    std::fs::write(d.join("copy.txt"), made.trim()).unwrap();
    let run = huren(
        d,
        &[
            "copy",
            "--region-dir",
            "zj",
            "--licence",
            "copy.txt",
            "--cause",
            "窗口亮证",
            "--category",
            "1",
        ],
        None,
    );
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("a copy cannot be copied"),
        "{}",
        run.stderr
    );

    // --audience takes a valid 统一社会信用代码 only.
    let run = verify(d, made.trim(), &["--audience", "11320105MB12345624"]);
    assert_eq!(run.code, 64, "{}", run.stderr);
    assert!(run.stderr.contains("--audience"), "{}", run.stderr);
}
