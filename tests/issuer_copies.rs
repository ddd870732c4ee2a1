//! Annotated copies (加注件, SPEC §11) at the issuer, on SQLite and on PostgreSQL: a copy made
//! for the licence's holder verifies as a copy with only what was disclosed and is audited
//! without personal data; another holder, a licence not valid, bad terms, another region, a
//! missing scope are refused with exact statuses and codes; revoking the licence revokes the
//! copy, withdrawing the copy leaves the licence valid; the printable view and the listing.
//!
//! Over 800 lines: one scenario per promise of SPEC §11 at the issuer, each run on both
//! databases, sharing the request and verification helpers at the top.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

#[macro_use]
mod common;

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use common::issuer::{
    building_licence, spawn_issuer, spawn_region_issuer, Db, Reply, TestIssuer, ISSUER_NOW,
};
use huren_crypto::ids::Uscc;
use huren_crypto::status_token::VerifiedStatusList;
use huren_crypto::verify::{verify_licence_for, Report, Verdict, VerifyOptions};
use huren_issuer::tokens::Scope;

on_both_databases!(
    an_on_screen_code_takes_no_status_entry_and_cannot_be_withdrawn_but_ends_with_its_licence,
    a_copy_for_the_holder_verifies_shows_only_the_default_fields_and_is_audited_without_personal_data,
    copies_refuse_another_holder_and_a_licence_that_is_not_valid,
    bad_copy_terms_are_422_naming_each_field,
    copies_are_confined_to_the_region_and_to_the_token_scopes_and_types,
    suspending_or_revoking_the_licence_does_the_same_to_its_copies_and_withdrawing_a_copy_leaves_the_licence_valid,
);

/// The 用证单位 of the sample copy (a valid USCC).
const UNIT_CODE: &str = "11220000013544541J";
const UNIT_NAME: &str = "南京市建邺区行政审批局";
/// The holder of `building_licence()`.
const HOLDER_ID: &str = "91350100M000100Y43";
const HOLDER_NAME: &str = "杭州示例建设有限公司";
/// 食品经营许可证.
const FOOD: &str = "11100000MB0143028R002";

fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

#[track_caller]
fn assert_problem(reply: &Reply, status: StatusCode, code: &str, what: &str) -> serde_json::Value {
    assert_eq!(reply.status, status, "{what}: {}", text(reply));
    let problem = reply.json();
    assert_eq!(problem["code"], code, "{what}: {problem}");
    assert_eq!(problem["status"], status.as_u16(), "{what}: {problem}");
    problem
}

fn fields(problem: &serde_json::Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A copy request for the building licence's holder.
fn copy_request() -> serde_json::Value {
    serde_json::json!({
        "holder": {"id_type": "001", "id": HOLDER_ID},
        "purpose": {"cause": "办理异地建筑工程施工许可", "category": 0,
                    "item_code": "320105-JS-0001", "item_name": "建筑工程施工许可证核发"},
        "aud": {"name": UNIT_NAME, "code": UNIT_CODE}
    })
}

async fn issue(issuer: &TestIssuer, body: &serde_json::Value) -> serde_json::Value {
    let reply = issuer.post("/v1/licences", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", text(&reply));
    reply.json()
}

async fn send(
    issuer: &TestIssuer,
    method: Method,
    path: &str,
    token: &str,
    body: Option<&serde_json::Value>,
) -> Reply {
    let body = body.map(|b| ("application/json", b.to_string().into_bytes()));
    issuer.call(method, path, Some(token), body, &[]).await
}

async fn make_copy(issuer: &TestIssuer, token: &str, jti: &str, body: &serde_json::Value) -> Reply {
    send(
        issuer,
        Method::POST,
        &format!("/v1/licences/{jti}/copies"),
        token,
        Some(body),
    )
    .await
}

/// Verifies `token` (a licence or a copy) as the window of `unit` would, with every status list
/// in `uris` fetched from the issuer.
async fn verify(issuer: &TestIssuer, token: &str, uris: &[&str], unit: Option<&str>) -> Report {
    let mut lists = HashMap::new();
    for uri in uris {
        let list_id = uri.rsplit('/').next().unwrap();
        let reply = issuer
            .call(
                Method::GET,
                &format!("/v1/status/{list_id}"),
                None,
                None,
                &[],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        let list_token = String::from_utf8(reply.body).unwrap();
        let list = VerifiedStatusList::verify(&list_token, uri, &issuer.trust).unwrap();
        lists.insert((*uri).to_owned(), Arc::new(list));
    }
    let unit = unit.map(|u| Uscc::parse(u).unwrap());
    verify_licence_for(
        token,
        &issuer.trust,
        &lists,
        ISSUER_NOW,
        &VerifyOptions::default(),
        unit.as_ref(),
    )
}

fn reasons(report: &Report) -> Vec<&'static str> {
    report.reasons.iter().map(|r| r.code()).collect()
}

async fn audit_entries(issuer: &TestIssuer) -> Vec<serde_json::Value> {
    let reply = send(
        issuer,
        Method::GET,
        "/v1/audit?after=0",
        &issuer.admin,
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    reply.json()["entries"].as_array().unwrap().clone()
}

async fn a_copy_for_the_holder_verifies_shows_only_the_default_fields_and_is_audited_without_personal_data(
    db: Db,
) {
    let issuer = spawn_issuer(&db).await;
    let portal = issuer.token("330000", &[Scope::Copy], &[]).await;
    let licence = issue(&issuer, &building_licence()).await;
    let jti = licence["id"].as_str().unwrap();

    let reply = make_copy(&issuer, &portal, jti, &copy_request()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", text(&reply));
    let made = reply.json();
    let keys: Vec<&str> = made
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["copy_status", "expires_at", "id", "log", "qr_text", "token"],
        "{made}"
    );
    let id = made["id"].as_str().unwrap();
    assert_eq!(id.len(), 26);
    assert_eq!(made["expires_at"], ISSUER_NOW.seconds() + 86_400);
    assert!(made["qr_text"].as_str().unwrap().starts_with("HR1:"));
    let copy_uri = made["copy_status"]["uri"].as_str().unwrap();
    let licence_uri = licence["status"]["uri"].as_str().unwrap();
    // Its own entry, never the licence's.
    assert_ne!(
        (copy_uri, &made["copy_status"]["idx"]),
        (licence_uri, &licence["status"]["idx"])
    );

    let token = made["token"].as_str().unwrap();
    let report = verify(&issuer, token, &[licence_uri, copy_uri], Some(UNIT_CODE)).await;
    assert_eq!(report.verdict, Verdict::Valid, "{:?}", reasons(&report));
    let json = serde_json::to_value(&report).unwrap();
    let copy = &json["copy"];
    assert_eq!(copy["id"], id);
    assert_eq!(copy["copy_of"], jti);
    assert_eq!(copy["purpose"]["cause"], "办理异地建筑工程施工许可");
    assert_eq!(copy["purpose"]["item_name"], "建筑工程施工许可证核发");
    assert_eq!(
        copy["aud"],
        serde_json::json!({"name": UNIT_NAME, "code": UNIT_CODE})
    );
    assert_eq!(copy["copier"]["name"], "test");
    assert_eq!(
        copy["disclosed"],
        serde_json::json!(["number", "holder.name"])
    );
    assert_eq!(copy["seconds_left"], 86_400);
    // Only the default fields: number and name, no holder ID, no face.
    let shown = &json["licence"];
    assert_eq!(shown["number"], "D233012345");
    assert_eq!(shown["holder_name"], HOLDER_NAME, "{shown}");
    assert!(!json.to_string().contains(HOLDER_ID), "{json}");
    assert_eq!(shown["face"], serde_json::json!({}));
    // Without knowing its unit, a verifier warns that the audience was not checked.
    let unknown_unit = verify(&issuer, token, &[licence_uri, copy_uri], None).await;
    assert_eq!(unknown_unit.verdict, Verdict::Valid);
    let warnings = serde_json::to_value(&unknown_unit.warnings).unwrap();
    assert_eq!(warnings, serde_json::json!(["audience_not_checked"]));

    // Audited: purpose, audience and disclosed keys, never the holder's name or ID.
    let entries = audit_entries(&issuer).await;
    let entry = entries
        .iter()
        .find(|e| e["action"] == "copy_make")
        .expect("copy_make audited");
    assert_eq!(entry["subject"], id);
    let detail: serde_json::Value =
        serde_json::from_str(entry["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["copy_of"], jti);
    assert_eq!(detail["purpose"]["cause"], "办理异地建筑工程施工许可");
    assert_eq!(detail["aud"]["code"], UNIT_CODE);
    assert_eq!(
        detail["disclosed"],
        serde_json::json!(["number", "holder.name"])
    );
    let entry_text = entry.to_string();
    assert!(!entry_text.contains(HOLDER_NAME), "{entry_text}");
    assert!(!entry_text.contains(HOLDER_ID), "{entry_text}");

    // Listed by the portal and by a read token.
    let reader = issuer.token("330000", &[Scope::Read], &[]).await;
    for token in [&portal, &reader] {
        let reply = send(
            &issuer,
            Method::GET,
            &format!("/v1/licences/{jti}/copies"),
            token,
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
        let list = reply.json();
        let copies = list["copies"].as_array().unwrap();
        assert_eq!(copies.len(), 1);
        assert_eq!(copies[0]["id"], id);
        assert_eq!(copies[0]["made_at"], ISSUER_NOW.seconds());
        assert_eq!(copies[0]["withdrawn_at"], serde_json::Value::Null);
        assert!(!list.to_string().contains(HOLDER_NAME), "{list}");
    }

    // The printable view: the band as a watermark, fields not disclosed as 未出示, the QR.
    let reply = send(
        &issuer,
        Method::GET,
        &format!("/v1/copies/{id}/view"),
        &reader,
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    assert_eq!(reply.headers["content-type"], "text/html; charset=utf-8");
    assert!(reply.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("default-src 'none'"));
    let html = text(&reply);
    let band = "加注件 · 仅用于办理异地建筑工程施工许可（建筑工程施工许可证核发） · 用证单位 南京市建邺区行政审批局 · 有效期至 2026-11-24 10:13<";
    assert!(html.contains(band), "{html}");
    assert!(html.contains("class=\"watermark\""));
    assert!(html.contains("未出示"));
    assert!(html.contains("<svg"));
    assert!(
        !html.contains("王五"),
        "a face value not disclosed is shown"
    );
    // Nothing external: no sources, links, scripts or CSS URLs.
    for external in ["src=", "href=", "<script", "<link", "url("] {
        assert!(!html.contains(external), "{external} in the page");
    }
}

async fn copies_refuse_another_holder_and_a_licence_that_is_not_valid(db: Db) {
    let issuer = spawn_issuer(&db).await;
    let portal = issuer.token("330000", &[Scope::Copy], &[]).await;
    let licence = issue(&issuer, &building_licence()).await;
    let jti = licence["id"].as_str().unwrap();

    let mut other = copy_request();
    other["holder"]["id"] = serde_json::json!("91330100MA27B3C8DA");
    let reply = make_copy(&issuer, &portal, jti, &other).await;
    assert_problem(
        &reply,
        StatusCode::FORBIDDEN,
        "holder_mismatch",
        "another holder",
    );
    let mut other_type = copy_request();
    other_type["holder"]["id_type"] = serde_json::json!("099");
    let reply = make_copy(&issuer, &portal, jti, &other_type).await;
    assert_problem(
        &reply,
        StatusCode::FORBIDDEN,
        "holder_mismatch",
        "another id type",
    );

    // Suspended, then revoked: 409 either way.
    let reply = issuer
        .post(
            &format!("/v1/licences/{jti}/suspend"),
            &serde_json::json!({"reason": "核查中"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = make_copy(&issuer, &portal, jti, &copy_request()).await;
    assert_problem(
        &reply,
        StatusCode::CONFLICT,
        "conflict",
        "suspended licence",
    );
    let reply = issuer
        .post(
            &format!("/v1/licences/{jti}/revoke"),
            &serde_json::json!({"reason": "注销"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = make_copy(&issuer, &portal, jti, &copy_request()).await;
    assert_problem(&reply, StatusCode::CONFLICT, "conflict", "revoked licence");

    let mut expired = building_licence();
    expired["valid_from"] = serde_json::json!("2020-01-01");
    expired["valid_until"] = serde_json::json!("2021-01-01");
    let expired = issue(&issuer, &expired).await;
    let reply = make_copy(
        &issuer,
        &portal,
        expired["id"].as_str().unwrap(),
        &copy_request(),
    )
    .await;
    assert_problem(&reply, StatusCode::CONFLICT, "conflict", "expired licence");

    use sqlx::Row;
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM copies")
        .fetch_one(issuer.state.issuer.store.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    assert_eq!(n, 0, "a refused copy was stored");
}

async fn bad_copy_terms_are_422_naming_each_field(db: Db) {
    let issuer = spawn_issuer(&db).await;
    let portal = issuer.token("330000", &[Scope::Copy], &[]).await;
    let licence = issue(&issuer, &building_licence()).await;
    let jti = licence["id"].as_str().unwrap();
    let with = |change: &dyn Fn(&mut serde_json::Value)| {
        let mut body = copy_request();
        change(&mut body);
        body
    };
    let cases: Vec<(&str, serde_json::Value, Vec<&str>)> = vec![
        (
            "unknown disclose key",
            with(&|b| b["disclose"] = serde_json::json!(["number", "holder.phone"])),
            vec!["disclose[1]"],
        ),
        (
            "face field the licence lacks",
            with(&|b| b["disclose"] = serde_json::json!(["face.colour"])),
            vec!["disclose[0]"],
        ),
        (
            "cause over 200 characters",
            with(&|b| b["purpose"]["cause"] = serde_json::json!("办".repeat(201))),
            vec!["purpose.cause"],
        ),
        (
            "category 0 without an item code",
            with(&|b| {
                b["purpose"].as_object_mut().unwrap().remove("item_code");
            }),
            vec!["purpose.item_code"],
        ),
        (
            "valid_for_secs 59",
            with(&|b| b["valid_for_secs"] = serde_json::json!(59)),
            vec!["valid_for_secs"],
        ),
        (
            "valid_for_secs 90 days + 1",
            with(&|b| b["valid_for_secs"] = serde_json::json!(90 * 86_400 + 1)),
            vec!["valid_for_secs"],
        ),
        (
            "aud.code not a USCC",
            with(&|b| b["aud"]["code"] = serde_json::json!("91350100M000100Y44")),
            vec!["aud.code"],
        ),
        (
            "an unknown field",
            with(&|b| b["note"] = serde_json::json!("x")),
            vec!["note"],
        ),
        (
            "several at once",
            with(&|b| {
                b["purpose"]["cause"] = serde_json::json!("办".repeat(201));
                b["valid_for_secs"] = serde_json::json!(59);
            }),
            vec!["purpose.cause", "valid_for_secs"],
        ),
    ];
    for (what, body, expected) in cases {
        let reply = make_copy(&issuer, &portal, jti, &body).await;
        let problem = assert_problem(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_fields",
            what,
        );
        if what == "an unknown field" {
            // serde names the object holding the unknown key.
            assert!(
                problem["detail"].as_str().unwrap().contains("note"),
                "{problem}"
            );
        } else {
            assert_eq!(fields(&problem), expected, "{what}: {problem}");
        }
    }

    // A face field the catalogue never lets a copy show: a third person's ID number.
    let food = issue(
        &issuer,
        &serde_json::json!({
            "type_code": FOOD,
            "number": "JY13301060012345",
            "holder": {"name": "杭州示例餐饮有限公司", "id_type": "001", "id": HOLDER_ID},
            "issuer": {"name": "杭州市西湖区市场监督管理局", "code": "11220000013544541J"},
            "face": {"operator_name": "杭州示例餐饮有限公司", "legal_representative": "赵六",
                     "legal_representative_id": "330106199001011234",
                     "domicile": "杭州市西湖区示例路2号", "business_premises": "杭州市西湖区示例路2号",
                     "business_format": "餐饮服务经营者", "business_items": "热食类食品制售"}
        }),
    )
    .await;
    let body = with(&|b| {
        b["disclose"] = serde_json::json!([
            "number",
            "face.legal_representative",
            "face.legal_representative_id"
        ]);
    });
    let reply = make_copy(&issuer, &portal, food["id"].as_str().unwrap(), &body).await;
    let problem = assert_problem(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_fields",
        "forbidden face field",
    );
    assert_eq!(fields(&problem), ["disclose[2]"], "{problem}");
    assert!(!problem.to_string().contains("330106199001011234"));
}

async fn copies_are_confined_to_the_region_and_to_the_token_scopes_and_types(db: Db) {
    let zhejiang = spawn_issuer(&db).await;
    let jiangsu =
        spawn_region_issuer(&db, "320000", Some(&zhejiang.database_url), |_, _, _| None).await;
    let licence = issue(&zhejiang, &building_licence()).await;
    let jti = licence["id"].as_str().unwrap();
    let portal = zhejiang.token("330000", &[Scope::Copy], &[]).await;
    let made = make_copy(&zhejiang, &portal, jti, &copy_request()).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", text(&made));
    let id = made.json()["id"].as_str().unwrap().to_owned();

    // Another region's issuer, with its own copy token: Zhejiang's licence and copy are 404.
    let their_portal = jiangsu
        .token("320000", &[Scope::Copy, Scope::Read], &[])
        .await;
    let reply = make_copy(&jiangsu, &their_portal, jti, &copy_request()).await;
    assert_problem(
        &reply,
        StatusCode::NOT_FOUND,
        "not_found",
        "another region's licence",
    );
    for (method, path, body) in [
        (Method::GET, format!("/v1/licences/{jti}/copies"), None),
        (Method::GET, format!("/v1/copies/{id}/view"), None),
        (
            Method::POST,
            format!("/v1/copies/{id}/withdraw"),
            Some(serde_json::json!({"reason": "撤回"})),
        ),
    ] {
        let reply = send(&jiangsu, method, &path, &their_portal, body.as_ref()).await;
        assert_problem(&reply, StatusCode::NOT_FOUND, "not_found", &path);
    }
    // An unknown copy.
    let unknown = "AAAAAAAAAAAAAAAAAAAAAAAAAA";
    let reply = send(
        &zhejiang,
        Method::GET,
        &format!("/v1/copies/{unknown}/view"),
        &portal,
        None,
    )
    .await;
    assert_problem(&reply, StatusCode::NOT_FOUND, "not_found", "unknown copy");
    let reply = send(
        &zhejiang,
        Method::POST,
        &format!("/v1/copies/{unknown}/withdraw"),
        &portal,
        Some(&serde_json::json!({"reason": "撤回"})),
    )
    .await;
    assert_problem(
        &reply,
        StatusCode::NOT_FOUND,
        "not_found",
        "unknown copy withdrawn",
    );

    // An issue-only token cannot make copies; a read token lists and views but neither makes
    // nor withdraws; a copy token for another licence type is refused.
    let issuing = zhejiang.token("330000", &[Scope::Issue], &[]).await;
    let reader = zhejiang.token("330000", &[Scope::Read], &[]).await;
    let road_only = zhejiang
        .token("330000", &[Scope::Copy], &["11100000000019713D008"])
        .await;
    for (token, what) in [
        (&issuing, "issue token"),
        (&reader, "read token"),
        (&road_only, "other type"),
    ] {
        let reply = make_copy(&zhejiang, token, jti, &copy_request()).await;
        assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden", what);
    }
    // Refused before the body is read: a bad body still gets 403.
    let reply = make_copy(&zhejiang, &reader, jti, &serde_json::json!({"x": 1})).await;
    assert_problem(
        &reply,
        StatusCode::FORBIDDEN,
        "forbidden",
        "read token, bad body",
    );
    let reply = send(
        &zhejiang,
        Method::POST,
        &format!("/v1/copies/{id}/withdraw"),
        &reader,
        Some(&serde_json::json!({"reason": "撤回"})),
    )
    .await;
    assert_problem(
        &reply,
        StatusCode::FORBIDDEN,
        "forbidden",
        "read token withdraws",
    );
    for path in [
        format!("/v1/licences/{jti}/copies"),
        format!("/v1/copies/{id}/view"),
    ] {
        let reply = send(&zhejiang, Method::GET, &path, &issuing, None).await;
        assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden", &path);
        let reply = send(&zhejiang, Method::GET, &path, &road_only, None).await;
        assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden", &path);
        let reply = send(&zhejiang, Method::GET, &path, &reader, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", text(&reply));
    }
    // The status-change route still refuses unknown words, and `copies` is not one of them.
    let reply = zhejiang
        .post(
            &format!("/v1/licences/{jti}/destroy"),
            &serde_json::json!({"reason": "x"}),
        )
        .await;
    assert_problem(
        &reply,
        StatusCode::NOT_FOUND,
        "not_found",
        "unknown change word",
    );
    let reply = zhejiang
        .call(
            Method::GET,
            &format!("/v1/licences/{jti}/copies"),
            None,
            None,
            &[],
        )
        .await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED, "unauthorized", "no token");
}

async fn suspending_or_revoking_the_licence_does_the_same_to_its_copies_and_withdrawing_a_copy_leaves_the_licence_valid(
    db: Db,
) {
    let issuer = spawn_issuer(&db).await;
    let portal = issuer.token("330000", &[Scope::Copy], &[]).await;

    // Withdrawal: the copy is withdrawn, the licence stays valid.
    let licence = issue(&issuer, &building_licence()).await;
    let jti = licence["id"].as_str().unwrap();
    let licence_uri = licence["status"]["uri"].as_str().unwrap();
    let made = make_copy(&issuer, &portal, jti, &copy_request()).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", text(&made));
    let made = made.json();
    let id = made["id"].as_str().unwrap();
    let copy_uri = made["copy_status"]["uri"].as_str().unwrap();
    let withdraw = format!("/v1/copies/{id}/withdraw");
    let reply = send(
        &issuer,
        Method::POST,
        &withdraw,
        &portal,
        Some(&serde_json::json!({"reason": ""})),
    )
    .await;
    let problem = assert_problem(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_fields",
        "empty reason",
    );
    assert_eq!(fields(&problem), ["reason"]);
    let reply = send(
        &issuer,
        Method::POST,
        &withdraw,
        &portal,
        Some(&serde_json::json!({"reason": "持证人撤回授权"})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    let withdrawn = reply.json();
    assert_eq!(withdrawn["id"], id);
    assert_eq!(withdrawn["withdrawn_at"], ISSUER_NOW.seconds());
    let reply = send(
        &issuer,
        Method::POST,
        &withdraw,
        &portal,
        Some(&serde_json::json!({"reason": "再次撤回"})),
    )
    .await;
    assert_problem(&reply, StatusCode::CONFLICT, "conflict", "withdrawn twice");

    let copy = verify(
        &issuer,
        made["token"].as_str().unwrap(),
        &[licence_uri, copy_uri],
        Some(UNIT_CODE),
    )
    .await;
    assert_eq!(copy.verdict, Verdict::Invalid);
    assert_eq!(reasons(&copy), ["copy_withdrawn"]);
    let own = verify(
        &issuer,
        licence["token"].as_str().unwrap(),
        &[licence_uri],
        None,
    )
    .await;
    assert_eq!(own.verdict, Verdict::Valid, "{:?}", reasons(&own));

    let reply = send(
        &issuer,
        Method::GET,
        &format!("/v1/licences/{jti}/copies"),
        &portal,
        None,
    )
    .await;
    let list = reply.json();
    assert_eq!(list["copies"][0]["withdrawn_at"], ISSUER_NOW.seconds());
    assert_eq!(list["copies"][0]["withdraw_reason"], "持证人撤回授权");
    let entries = audit_entries(&issuer).await;
    let entry = entries
        .iter()
        .find(|e| e["action"] == "copy_withdraw")
        .expect("withdrawal audited");
    assert_eq!(entry["subject"], id);
    let reply = send(
        &issuer,
        Method::GET,
        &format!("/v1/copies/{id}/view"),
        &portal,
        None,
    )
    .await;
    assert!(text(&reply).contains("已撤回"));

    // Suspension, then revocation of the licence: its copy reads the same, though nothing was
    // written to it.
    let second = issue(&issuer, &building_licence()).await;
    let second_jti = second["id"].as_str().unwrap();
    let second_uri = second["status"]["uri"].as_str().unwrap();
    let made = make_copy(&issuer, &portal, second_jti, &copy_request()).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", text(&made));
    let made = made.json();
    let copy_uri = made["copy_status"]["uri"].as_str().unwrap();
    let reply = issuer
        .post(
            &format!("/v1/licences/{second_jti}/suspend"),
            &serde_json::json!({"reason": "核查中"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    let copy = verify(
        &issuer,
        made["token"].as_str().unwrap(),
        &[second_uri, copy_uri],
        Some(UNIT_CODE),
    )
    .await;
    assert_eq!(copy.verdict, Verdict::Invalid);
    assert_eq!(reasons(&copy), ["suspended"]);
    let reply = issuer
        .post(
            &format!("/v1/licences/{second_jti}/revoke"),
            &serde_json::json!({"reason": "吊销"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    let copy = verify(
        &issuer,
        made["token"].as_str().unwrap(),
        &[second_uri, copy_uri],
        Some(UNIT_CODE),
    )
    .await;
    assert_eq!(copy.verdict, Verdict::Invalid);
    assert_eq!(reasons(&copy), ["revoked"]);
}

/// A 亮证码 a phone refreshes every few minutes takes no entry of its own (it would fill the
/// status lists): its answer says `copy_status: null`, its token has none, it cannot be
/// withdrawn (409), and revoking the licence still ends it. A copy for a unit still gets one.
async fn an_on_screen_code_takes_no_status_entry_and_cannot_be_withdrawn_but_ends_with_its_licence(
    db: Db,
) {
    let issuer = spawn_issuer(&db).await;
    let portal = issuer.token("330000", &[Scope::Copy], &[]).await;
    let licence = issue(&issuer, &building_licence()).await;
    let jti = licence["id"].as_str().unwrap();
    let licence_uri = licence["status"]["uri"].as_str().unwrap();
    let on_screen = serde_json::json!({
        "holder": {"id_type": "001", "id": HOLDER_ID},
        "purpose": {"cause": "窗口亮证", "category": 1},
        "valid_for_secs": 300
    });
    let made = make_copy(&issuer, &portal, jti, &on_screen).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", text(&made));
    let made = made.json();
    assert_eq!(made["copy_status"], serde_json::Value::Null, "{made}");
    let token = made["token"].as_str().unwrap();
    let report = verify(&issuer, token, &[licence_uri], None).await;
    assert_eq!(report.verdict, Verdict::Valid, "{:?}", reasons(&report));
    let copy = report.copy().unwrap();
    assert!(copy.on_screen);
    let claims = match report.presented().unwrap() {
        huren_crypto::verify::Presented::Copy(claims) => claims.clone(),
        other => panic!("not a copy: {other:?}"),
    };
    assert_eq!(claims.copy_status, None);
    assert_eq!(
        report.status_lists.len(),
        1,
        "only the licence's entry is read"
    );

    let reply = send(
        &issuer,
        Method::POST,
        &format!("/v1/copies/{}/withdraw", made["id"].as_str().unwrap()),
        &portal,
        Some(&serde_json::json!({"reason": "持证人撤回授权"})),
    )
    .await;
    let problem = assert_problem(
        &reply,
        StatusCode::CONFLICT,
        "conflict",
        "on-screen withdrawal",
    );
    assert!(
        problem["detail"].as_str().unwrap().contains("on-screen"),
        "{problem}"
    );
    let listed = send(
        &issuer,
        Method::GET,
        &format!("/v1/licences/{jti}/copies"),
        &portal,
        None,
    )
    .await
    .json();
    assert_eq!(listed["copies"][0]["copy_status"], serde_json::Value::Null);
    assert_eq!(listed["copies"][0]["withdrawn_at"], serde_json::Value::Null);

    // A copy for a unit, made next, still gets its own entry.
    let for_unit = make_copy(&issuer, &portal, jti, &copy_request())
        .await
        .json();
    assert!(for_unit["copy_status"]["uri"].is_string(), "{for_unit}");

    // Revoking the licence ends the on-screen code at once.
    let admin = issuer.token("330000", &[Scope::Revoke], &[]).await;
    let reply = send(
        &issuer,
        Method::POST,
        &format!("/v1/licences/{jti}/revoke"),
        &admin,
        Some(&serde_json::json!({"reason": "吊销"})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    let report = verify(&issuer, token, &[licence_uri], None).await;
    assert_eq!(reasons(&report), ["revoked"]);
}
