//! `huren demo` as a user runs it: one command brings up three provinces' issuers and the
//! verifier, writes `demo.json`, and every sample verifies at the verifier; a second run on the
//! same directory reuses the keys.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::shape::assert_shape;

struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dir: &Path) -> (Demo, serde_json::Value) {
    let manifest_path = dir.join("demo.json");
    let _ = std::fs::remove_file(&manifest_path);
    let child = Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(["demo", "--dir"])
        .arg(dir)
        .args(["--port", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let demo = Demo(child);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(text) = std::fs::read_to_string(&manifest_path) {
            if let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) {
                return (demo, json);
            }
        }
        assert!(Instant::now() < deadline, "demo.json did not appear");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn post_text(url: &str, body: &str) -> serde_json::Value {
    let mut response = ureq::post(url)
        .header("Content-Type", "text/plain")
        .send(body)
        .unwrap();
    serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap()
}

#[test]
fn demo_brings_up_issuers_and_verifier_and_every_sample_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (demo, manifest) = start(dir.path());
    // SPEC §10's manifest, every key and type; `name`, `portal_token`, `kind`, `copy_of`,
    // `region` and `sealed_samples` are the demo's additions (README).
    assert_shape(
        &manifest,
        &serde_json::json!({
            "trust_list": "file",
            "operator_cert": "file",
            "verifier_url": "url",
            "issuers": [{"region": "string", "name": "string", "url": "url",
                "admin_token": "string", "portal_token": "string"}],
            "samples": ["any"],
            "sealed_samples": [{"region": "string", "document": "file", "signature": "file"}],
        }),
    );
    for sample in manifest["samples"].as_array().unwrap() {
        let mut shape = serde_json::json!({"kind": "string", "jti": "string", "token": "string",
            "qr_text": "string", "region": "string"});
        if sample["kind"] == "copy" {
            shape["copy_of"] = "string".into();
        }
        assert_shape(sample, &shape);
        assert!(sample["qr_text"].as_str().unwrap().starts_with("HR1:"));
    }
    let issuers = manifest["issuers"].as_array().unwrap();
    let regions: Vec<&str> = issuers
        .iter()
        .map(|i| i["region"].as_str().unwrap())
        .collect();
    assert_eq!(regions, ["330000", "320000", "340000"]);
    for issuer in issuers {
        assert!(issuer["admin_token"].as_str().unwrap().starts_with("hrt_"));
        assert!(issuer["portal_token"].as_str().unwrap().starts_with("hrt_"));
        let health = ureq::get(&format!("{}/readyz", issuer["url"].as_str().unwrap()))
            .call()
            .unwrap();
        assert_eq!(health.status().as_u16(), 200);
    }
    let verifier = manifest["verifier_url"].as_str().unwrap();
    let samples = manifest["samples"].as_array().unwrap();
    let kinds: Vec<&str> = samples
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "licence", "copy", "licence", "licence", "copy", "licence", "licence", "copy",
            "licence"
        ]
    );
    for sample in samples {
        let report = post_text(
            &format!("{verifier}/v1/verify"),
            sample["qr_text"].as_str().unwrap(),
        );
        assert_eq!(report["verdict"], "valid", "{report}");
        if sample["kind"] == "copy" {
            // An annotated copy of the licence before it, for one unit (the demo's verifier
            // serves no unit: the audience is not checked, and it says so).
            assert_eq!(report["licence"]["jti"], sample["copy_of"]);
            assert_eq!(report["copy"]["id"], sample["jti"]);
            assert_eq!(
                report["copy"]["disclosed"],
                serde_json::json!(["number", "holder.name"])
            );
            assert_eq!(
                report["warnings"],
                serde_json::json!(["audience_not_checked"])
            );
            // The province's portal token lists the copies of that licence.
            let issuer = issuers
                .iter()
                .find(|i| i["region"] == sample["region"])
                .unwrap();
            let listed = ureq::get(&format!(
                "{}/v1/licences/{}/copies",
                issuer["url"].as_str().unwrap(),
                sample["copy_of"].as_str().unwrap()
            ))
            .header(
                "Authorization",
                &format!("Bearer {}", issuer["portal_token"].as_str().unwrap()),
            )
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
            let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
            assert_eq!(listed["copies"][0]["id"], sample["jti"], "{listed}");
        } else {
            assert_eq!(report["licence"]["jti"], sample["jti"]);
            assert!(report["copy"].is_null());
        }
    }
    // Each province's sealed sample verifies at the verifier, revocation checked through the
    // CRL its issuer serves (no "revocation not checked" warning).
    let sealed = manifest["sealed_samples"].as_array().unwrap();
    assert_eq!(sealed.len(), 3);
    for sample in sealed {
        let read = |key: &str| std::fs::read(sample[key].as_str().unwrap()).unwrap();
        let body = serde_json::json!({
            "document_b64": huren_crypto::b64::encode_std(&read("document")),
            "signature_b64": huren_crypto::b64::encode_std(&read("signature")),
        });
        let mut response = ureq::post(&format!("{verifier}/v1/seals/verify"))
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .unwrap();
        let answer: serde_json::Value =
            serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
        let report = if answer["report"].is_object() {
            &answer["report"]
        } else {
            &answer
        };
        assert_eq!(report["verdict"], "valid", "{answer}");
        assert_eq!(report["warnings"], serde_json::json!([]), "{answer}");
        assert!(report["seal"]["esID"]
            .as_str()
            .unwrap()
            .starts_with(sample["region"].as_str().unwrap()));
    }
    let page = ureq::get(verifier)
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(page.contains("电子证照"), "the clerk's page is served at /");
    // The three provinces witness each other's issuance logs, one cosignature of two needed.
    let operator =
        huren_keys::pem::read_certificate(Path::new(manifest["operator_cert"].as_str().unwrap()))
            .unwrap();
    let token = std::fs::read_to_string(manifest["trust_list"].as_str().unwrap()).unwrap();
    let trust = huren_crypto::trust_list::TrustList::verify(
        &token,
        &[huren_crypto::cert::Certificate::from_der(&operator).unwrap()],
    )
    .unwrap();
    for region in trust.regions() {
        let log = region.log.as_ref().expect("every demo province has a log");
        assert_eq!(log.origin(), format!("huren.gov.cn/log/{}", region.code));
        assert_eq!(log.quorum, 1);
        let mut witnesses: Vec<String> = log.witnesses.iter().map(|w| w.name.clone()).collect();
        witnesses.sort();
        let mut others: Vec<String> = ["330000", "320000", "340000"]
            .iter()
            .filter(|c| **c != region.code.as_str())
            .map(|c| format!("huren.gov.cn/witness/{c}"))
            .collect();
        others.sort();
        assert_eq!(witnesses, others);
    }
    drop(demo);

    // Second run: same keys (the operator certificate is unchanged), new trust list.
    let operator_before = std::fs::read(dir.path().join("operator/operator.crt.pem")).unwrap();
    let (_demo, manifest) = start(dir.path());
    assert_eq!(
        std::fs::read(dir.path().join("operator/operator.crt.pem")).unwrap(),
        operator_before
    );
    let verifier = manifest["verifier_url"].as_str().unwrap();
    let sample = &manifest["samples"][0];
    let report = post_text(
        &format!("{verifier}/v1/verify"),
        sample["qr_text"].as_str().unwrap(),
    );
    assert_eq!(report["verdict"], "valid", "{report}");
}
