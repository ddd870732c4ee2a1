//! Annotated copies (加注件, SPEC §11) through the verification service: `POST /v1/verify` on a
//! real socket, the service's own unit (`HUREN_VERIFIER_UNIT`) or the request's `audience`,
//! the report's `copy` object, and a copy's two status entries (its licence's and its own),
//! in one status list or two.
//!
//! Copies are signed with the shared PKI fixture (`tests/common/mod.rs`) at fixed times; the
//! service's clock is pinned to `NOW`, and its status lists come from an in-memory fetcher
//! that records what it was asked for — nothing here waits or sleeps.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use common::service::{http, open_window, reasons, Window};
use common::{fixture, Province, IDX, NOW};
use huren_crypto::copy::{Copier, CopyId, CopyMaking, CopyTerms, Purpose, Unit};
use huren_crypto::ids::Uscc;
use huren_crypto::status_list::{
    StatusList, StatusListClaim, StatusListPointer, StatusReference, StatusValue,
};
use huren_crypto::status_token::StatusListClaims;
use huren_keys::trust_build;
use huren_verifier::server::config::VerifierFile;
use huren_verifier::{
    server, FetchError, Fetched, Fetcher, LogCheck, TrustSource, Verifier, VerifierConfig,
    VerifyOptions,
};
use serde_json::{json, Value};

/// The unit the copies are made for (南京市建邺区行政审批局).
const UNIT: &str = "11320105MB12345623";
const UNIT_NAME: &str = "南京市建邺区行政审批局";
/// Another valid USCC.
const OTHER_UNIT: &str = "91350100M000100Y43";
/// The copy's own entry, in the licence's list unless a test says otherwise.
const COPY_IDX: u64 = IDX + 1;

/// Serves status lists from memory by URL and records every URL asked for.
#[derive(Default)]
struct Lists {
    bodies: Mutex<HashMap<String, String>>,
    asked: Mutex<Vec<String>>,
}

impl Lists {
    fn serve(&self, uri: &str, body: String) {
        self.bodies.lock().unwrap().insert(uri.to_owned(), body);
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

impl Fetcher for Lists {
    fn fetch(&self, url: &str, _etag: Option<&str>) -> Result<Fetched, FetchError> {
        self.asked.lock().unwrap().push(url.to_owned());
        match self.bodies.lock().unwrap().get(url) {
            Some(text) => Ok(Fetched::Body {
                text: text.clone(),
                etag: None,
            }),
            None => Err(FetchError {
                url: url.to_owned(),
                reason: "not served".into(),
            }),
        }
    }
}

/// A second status list of `province` (`…-1`).
fn second_list_uri(province: &Province) -> String {
    format!(
        "{}{}-1",
        province.dir.config.status_uri_prefix(),
        province.dir.config.code
    )
}

/// A status list at `uri` with `entries` set, signed a minute before `NOW`, valid a day.
fn list_at(province: &Province, uri: &str, entries: &[(u64, StatusValue)]) -> String {
    let mut list = StatusList::new(2, 1 << 17).unwrap();
    for (idx, value) in entries {
        list.set(*idx as usize, *value).unwrap();
    }
    let iat = NOW.minus(60);
    StatusListClaims {
        sub: uri.to_owned(),
        iat: iat.seconds(),
        exp: iat.plus(86_400).seconds(),
        ttl: 300,
        status_list: StatusListClaim::from_list(&list),
    }
    .sign(&province.status_signer, &province.status_cert)
    .unwrap()
}

/// What a copy is made with.
struct Making {
    aud: Option<&'static str>,
    category: u8,
    valid_for_secs: i64,
    disclose: Option<Vec<&'static str>>,
    copy_status: Option<(String, u64)>,
    id: [u8; 16],
}

impl Default for Making {
    fn default() -> Making {
        Making {
            aud: Some(UNIT),
            category: 0,
            valid_for_secs: 86_400,
            disclose: None,
            copy_status: Some((fixture().zhejiang.status_uri(), COPY_IDX)),
            id: [7; 16],
        }
    }
}

/// A copy of Zhejiang's sample licence (its entry `IDX` of the first list), made ten minutes
/// before `NOW`.
fn copy(making: Making) -> String {
    let province = &fixture().zhejiang;
    let (purpose, aud) = if making.category == 0 {
        (
            Purpose {
                cause: "办理异地建筑工程施工许可".into(),
                category: 0,
                item_code: Some("11320105MB12345623-0001".into()),
                item_name: Some("建筑工程施工许可证核发".into()),
            },
            making.aud.map(|code| Unit {
                name: UNIT_NAME.into(),
                code: code.into(),
            }),
        )
    } else {
        let purpose = Purpose {
            cause: "亮证".into(),
            category: 1,
            item_code: None,
            item_name: None,
        };
        (purpose, None)
    };
    let terms = CopyTerms {
        purpose,
        aud,
        disclose: making
            .disclose
            .map(|keys| keys.into_iter().map(str::to_owned).collect()),
        valid_for_secs: Some(making.valid_for_secs),
    };
    let claims = terms
        .make(
            &province.claims(),
            CopyMaking {
                id: CopyId::from_random(making.id),
                iat: NOW.minus(600),
                copier: Copier {
                    name: "浙江政务服务网".into(),
                },
                copy_status: making.copy_status.map(|(uri, idx)| StatusReference {
                    status_list: StatusListPointer { idx, uri },
                }),
                face_disclosable: &|_| true,
            },
        )
        .unwrap();
    claims
        .sign(&province.signer, province.signer_cert.x5t_s256())
        .unwrap()
}

/// The library on the fixture's trust list, status lists from `lists`, configured for `unit`.
/// The copies here are signed by the test, not made by an issuer, so no log holds them: the
/// log check is off (what logs add is tests/verifier_logged.rs's).
fn library(lists: Arc<Lists>, unit: Option<Uscc>) -> Verifier {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let trust_path = dir.path().join("trust-list.jwt");
    let token = trust_build::sign(&f.trust_claims, &f.operator_key, f.operator_cert.der()).unwrap();
    std::fs::write(&trust_path, token).unwrap();
    // The trust list is read at open; the directory may go afterwards.
    Verifier::open_with(
        VerifierConfig {
            unit,
            trust_source: TrustSource::File(trust_path),
            operator_certs: vec![f.operator_cert.clone()],
            cache_dir: None,
            online: true,
            options: VerifyOptions {
                log_check: LogCheck::Off,
                ..VerifyOptions::default()
            },
        },
        lists,
        NOW,
    )
    .unwrap()
}

/// The service on the fixture's trust list, its clock at `NOW`, status lists from `lists`,
/// verifying for `unit` (as `HUREN_VERIFIER_UNIT` sets it).
async fn window(lists: Arc<Lists>, unit: Option<Uscc>) -> Window {
    // The service decides the unit per request; its library is configured for none.
    let verifier = library(lists, None);
    let mut state = server::state(Arc::new(verifier), 0);
    state.now = Arc::new(|| NOW);
    state.unit = unit;
    open_window(state).await
}

/// Zhejiang's first list with the licence and the copy entries as given.
fn lists_with(licence: StatusValue, copy_entry: StatusValue) -> Arc<Lists> {
    let province = &fixture().zhejiang;
    let lists = Arc::new(Lists::default());
    lists.serve(
        &province.status_uri(),
        province.status_list_with(&[(IDX, licence), (COPY_IDX, copy_entry)], NOW.minus(60)),
    );
    lists
}

/// The unit `HUREN_VERIFIER_UNIT=code` configures, read as the service reads its settings.
fn configured_unit(code: &'static str) -> Option<Uscc> {
    VerifierFile {
        trust_list: Some("tl.jwt".into()),
        operator_cert: Some(vec!["op.pem".into()]),
        ..VerifierFile::default()
    }
    .with_env(|name| (name == "HUREN_VERIFIER_UNIT").then(|| code.to_owned()))
    .unwrap()
    .resolve()
    .unwrap()
    .unit
}

async fn post(window: &Window, query: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let reply = http(
        &format!("{}/v1/verify{query}", window.url),
        &[("content-type", content_type)],
        Some(body),
    )
    .await;
    (reply.status, reply.json())
}

/// A JSON verification; asserts HTTP 200 and returns the report.
async fn verify_json(window: &Window, body: Value) -> Value {
    let (status, report) = post(
        window,
        "",
        "application/json",
        body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, 200, "a verification outcome is HTTP 200: {report}");
    report
}

fn warnings(report: &Value) -> Vec<String> {
    report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_owned())
        .collect()
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no {name} check: {report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_checked_without_a_known_unit_is_valid_with_audience_not_checked() {
    let window = window(lists_with(StatusValue::Valid, StatusValue::Valid), None).await;
    let token = copy(Making::default());
    let report = verify_json(&window, json!({ "token": token })).await;
    assert_eq!(report["verdict"], "valid", "{report}");
    assert_eq!(reasons(&report), Vec::<String>::new());
    assert_eq!(warnings(&report), ["audience_not_checked"]);
    assert_eq!(check(&report, "audience")["ok"], Value::Null, "{report}");

    // The copy object, exactly.
    let licence_jti = fixture().zhejiang.claims().jti.to_string();
    assert_eq!(
        report["copy"],
        json!({
            "id": "A4DQOBYHA4DQOBYHA4DQOBYHA4",
            "copy_of": licence_jti,
            "purpose": {"cause": "办理异地建筑工程施工许可", "category": 0,
                        "item_code": "11320105MB12345623-0001", "item_name": "建筑工程施工许可证核发"},
            "aud": {"name": UNIT_NAME, "code": UNIT},
            "copier": {"name": "浙江政务服务网"},
            "issued_at": "2026-11-23T10:03:20+08:00",
            "expires_at": "2026-11-24T10:03:20+08:00",
            "seconds_left": 85_800,
            "on_screen": false,
            "disclosed": ["number", "holder.name"],
        })
    );
    // The licence as the copy shows it: the default disclosure, nothing else — the holder's
    // code and the issue date are absent, not empty or masked.
    let licence = report["licence"].as_object().unwrap();
    assert_eq!(licence["jti"], licence_jti.as_str());
    assert_eq!(licence["number"], "D233012345");
    assert_eq!(licence["holder_name"], "杭州示例建设有限公司");
    assert_eq!(licence["face"], json!({}));
    for absent in ["holder_id_type", "holder_id_masked", "issued_on"] {
        assert!(!licence.contains_key(absent), "{absent}: {report}");
    }
    assert!(
        !report.to_string().contains("91350100M000100Y43"),
        "{report}"
    );

    // A copy showing one face field only: no number, no holder name.
    let token = copy(Making {
        disclose: Some(vec!["face.资质类别及等级"]),
        id: [9; 16],
        ..Making::default()
    });
    let report = verify_json(&window, json!({ "qr": token })).await;
    assert_eq!(report["verdict"], "valid", "{report}");
    assert_eq!(report["copy"]["disclosed"], json!(["face.资质类别及等级"]));
    let licence = report["licence"].as_object().unwrap();
    for absent in [
        "number",
        "holder_name",
        "holder_id_type",
        "holder_id_masked",
        "issued_on",
    ] {
        assert!(!licence.contains_key(absent), "{absent}: {report}");
    }
    assert_eq!(
        licence["face"],
        json!({"资质类别及等级": "建筑工程施工总承包壹级"})
    );

    // An on-screen 亮证码: no audience, nothing to check about it, seconds left.
    let token = copy(Making {
        category: 1,
        aud: None,
        valid_for_secs: 300,
        ..Making::default()
    });
    let report = verify_json(&window, json!({ "token": token })).await;
    assert_eq!(warnings(&report), Vec::<String>::new());
    assert_eq!(report["copy"]["on_screen"], true);
    assert_eq!(report["copy"]["aud"], Value::Null);
    // Made ten minutes before the check with five minutes to live: it ended five minutes ago,
    // beyond the 30 s a copy's end is given for clock skew (not the window's 5 minutes).
    assert_eq!(report["copy"]["seconds_left"], 0);
    assert_eq!(reasons(&report), ["copy_expired"], "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_requests_audience_decides_when_the_service_has_no_unit() {
    let window = window(lists_with(StatusValue::Valid, StatusValue::Valid), None).await;
    let token = copy(Making::default());

    // (b) the unit the copy names: valid, no warning.
    let report = verify_json(&window, json!({"token": token, "audience": {"code": UNIT}})).await;
    assert_eq!(report["verdict"], "valid", "{report}");
    assert_eq!(warnings(&report), Vec::<String>::new());
    assert_eq!(check(&report, "audience")["ok"], true, "{report}");

    // (c) another unit: invalid, wrong_audience alone.
    let report = verify_json(
        &window,
        json!({"token": token, "audience": {"code": OTHER_UNIT}}),
    )
    .await;
    assert_eq!(report["verdict"], "invalid", "{report}");
    assert_eq!(reasons(&report), ["wrong_audience"]);
    assert_eq!(check(&report, "audience")["ok"], false, "{report}");

    // `"audience": null` is as if not said.
    let report = verify_json(&window, json!({"token": token, "audience": null})).await;
    assert_eq!(report["verdict"], "valid", "{report}");
    assert_eq!(warnings(&report), ["audience_not_checked"]);

    // The query parameter, for what a scanner types.
    let typed = format!("{token}\r\n").into_bytes();
    let (status, report) = post(
        &window,
        &format!("?audience={OTHER_UNIT}"),
        "text/plain",
        typed.clone(),
    )
    .await;
    assert_eq!(
        (status, reasons(&report)),
        (200, vec!["wrong_audience".into()])
    );
    let (status, report) = post(
        &window,
        &format!("?audience={UNIT}&fresh=true"),
        "text/plain",
        typed.clone(),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["verdict"], "valid", "{report}");
    assert_eq!(warnings(&report), Vec::<String>::new());

    // A code that is not a USCC: 422 naming the field, in the body or the query.
    let (status, problem) = post(
        &window,
        "",
        "application/json",
        json!({"token": token, "audience": {"code": "91350100M000100Y44"}})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["code"], "bad_audience");
    assert_eq!(problem["field"], "audience.code");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("audience.code"),
        "{problem}"
    );
    let (status, problem) = post(&window, "?audience=ABC", "text/plain", typed.clone()).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["code"], "bad_audience");
    assert_eq!(problem["field"], "audience");
    // Body and query naming two units: refused, not one of them picked.
    let (status, problem) = post(
        &window,
        &format!("?audience={OTHER_UNIT}"),
        "application/json",
        json!({"token": token, "audience": {"code": UNIT}})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["code"], "audience_conflict");
    assert_eq!(problem["field"], "audience");
    // The audience object takes a code and nothing else.
    let (status, problem) = post(
        &window,
        "",
        "application/json",
        json!({"token": token, "audience": {"code": UNIT, "name": UNIT_NAME}})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["code"], "malformed_json");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_services_own_unit_decides_and_a_request_cannot_name_another() {
    let unit = configured_unit(UNIT);
    assert_eq!(unit.as_ref().unwrap().as_str(), UNIT);
    let window = window(lists_with(StatusValue::Valid, StatusValue::Valid), unit).await;
    let for_us = copy(Making::default());
    let for_others = copy(Making {
        aud: Some(OTHER_UNIT),
        id: [9; 16],
        ..Making::default()
    });

    let report = verify_json(&window, json!({ "token": for_us })).await;
    assert_eq!(report["verdict"], "valid", "{report}");
    assert_eq!(warnings(&report), Vec::<String>::new());
    let report = verify_json(&window, json!({ "token": for_others })).await;
    assert_eq!(report["verdict"], "invalid", "{report}");
    assert_eq!(reasons(&report), ["wrong_audience"]);

    // Naming the service's own unit changes nothing.
    let report = verify_json(
        &window,
        json!({"token": for_us, "audience": {"code": UNIT}}),
    )
    .await;
    assert_eq!(report["verdict"], "valid", "{report}");
    // Naming another: refused, in the body or the query — never checked for either unit.
    let (status, problem) = post(
        &window,
        "",
        "application/json",
        json!({"token": for_others, "audience": {"code": OTHER_UNIT}})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["code"], "audience_conflict");
    assert_eq!(problem["field"], "audience.code");
    assert_eq!(
        problem["type"],
        "https://huren.invalid/problems/audience_conflict"
    );
    let (status, problem) = post(
        &window,
        &format!("?audience={OTHER_UNIT}"),
        "text/plain",
        for_others.clone().into_bytes(),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["code"], "audience_conflict");
    assert_eq!(problem["field"], "audience");

    // The page's status area learns the unit.
    let trust = http(&format!("{}/v1/trust", window.url), &[], None)
        .await
        .json();
    assert_eq!(trust["unit"], UNIT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_follows_its_own_entry_and_its_licences() {
    let token = copy(Making::default());

    // The holder withdrew the copy.
    let window_a = window(lists_with(StatusValue::Valid, StatusValue::Revoked), None).await;
    let report = verify_json(&window_a, json!({ "token": token })).await;
    assert_eq!(report["verdict"], "invalid", "{report}");
    assert_eq!(reasons(&report), ["copy_withdrawn"]);
    assert_eq!(check(&report, "status")["ok"], true, "{report}");
    assert_eq!(check(&report, "copy_status")["ok"], false, "{report}");

    // The licence is suspended: so is every copy of it.
    let window_b = window(lists_with(StatusValue::Suspended, StatusValue::Valid), None).await;
    let report = verify_json(&window_b, json!({ "token": token })).await;
    assert_eq!(report["verdict"], "invalid", "{report}");
    assert_eq!(reasons(&report), ["suspended"]);
    assert_eq!(check(&report, "status")["ok"], false, "{report}");
    assert_eq!(check(&report, "copy_status")["ok"], true, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_whose_entries_sit_in_two_lists_has_both_fetched() {
    let province = &fixture().zhejiang;
    let first = province.status_uri();
    let second = second_list_uri(province);
    let token = copy(Making {
        copy_status: Some((second.clone(), 5)),
        ..Making::default()
    });
    let lists = Arc::new(Lists::default());
    lists.serve(
        &first,
        list_at(province, &first, &[(IDX, StatusValue::Valid)]),
    );
    lists.serve(
        &second,
        list_at(province, &second, &[(5, StatusValue::Revoked)]),
    );
    let window = window(lists.clone(), None).await;

    // The copy's entry in the second list says withdrawn: the second list was read.
    let report = verify_json(&window, json!({ "token": token })).await;
    assert_eq!(report["verdict"], "invalid", "{report}");
    assert_eq!(reasons(&report), ["copy_withdrawn"]);
    let mut asked = lists.asked();
    asked.sort();
    let mut both = vec![first.clone(), second.clone()];
    both.sort();
    assert_eq!(asked, both, "each list fetched once");
    let used: Vec<(&str, u64, bool)> = report["status_lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["uri"].as_str().unwrap(),
                u["idx"].as_u64().unwrap(),
                u["iat"].is_string(),
            )
        })
        .collect();
    assert_eq!(
        used,
        [(first.as_str(), IDX, true), (second.as_str(), 5, true)]
    );

    // Held now: a second check asks for nothing more, and is the same.
    let report = verify_json(&window, json!({ "token": token })).await;
    assert_eq!(reasons(&report), ["copy_withdrawn"]);
    assert_eq!(lists.asked().len(), 2);
}

/// An embedder (a bank's batch job) that configures its unit gets copies for other units
/// refused by plain `Verifier::verify`, and its own accepted without a warning.
#[test]
fn the_library_verifies_copies_for_the_unit_it_is_configured_for() {
    let token = copy(Making::default());
    let lists = || lists_with(StatusValue::Valid, StatusValue::Valid);
    let other = library(lists(), configured_unit(OTHER_UNIT));
    let report = other.verify(&token, NOW);
    assert_eq!(
        report.verdict,
        huren_verifier::Verdict::Invalid,
        "{report:?}"
    );
    assert_eq!(report.reasons, [huren_verifier::Outcome::WrongAudience]);
    let own = library(lists(), configured_unit(UNIT));
    let report = own.verify(&token, NOW);
    assert_eq!(report.verdict, huren_verifier::Verdict::Valid, "{report:?}");
    assert!(report.warnings.is_empty(), "{report:?}");
    let unconfigured = library(lists(), None);
    assert_eq!(
        unconfigured.verify(&token, NOW).warnings,
        [huren_verifier::Warning::AudienceNotChecked]
    );
}

/// Unknown query parameters are ignored (the hostile corpus pins that), so a misspelt
/// audience parameter verifies for no unit — and says so: the copy carries
/// `audience_not_checked`, never a silent "valid".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misspelt_audience_parameter_leaves_the_audience_visibly_unchecked() {
    let window = window(lists_with(StatusValue::Valid, StatusValue::Valid), None).await;
    let token = copy(Making::default());
    for query in [format!("?aud={OTHER_UNIT}"), format!("?unit={OTHER_UNIT}")] {
        let (status, report) =
            post(&window, &query, "text/plain", token.clone().into_bytes()).await;
        assert_eq!(status, 200, "{query}: {report}");
        assert_eq!(
            warnings(&report),
            ["audience_not_checked"],
            "{query}: {report}"
        );
        assert_eq!(
            check(&report, "audience")["ok"],
            Value::Null,
            "{query}: {report}"
        );
    }
}
