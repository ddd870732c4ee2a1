//! Access control and input handling of the issuer's HTTP API (SPEC §3, §7), on SQLite and on
//! PostgreSQL: every write and read endpoint refuses a missing or forged token (401), a token of
//! another region, of another licence type or without the needed scope (403), and a refused
//! request never changes anything; bad bodies on `POST /v1/licences` are 4xx problem JSON naming
//! the field and never store a licence; status changes check their reason and their target.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

#[macro_use]
mod common;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use common::issuer::{
    building_licence, spawn_issuer, spawn_region_issuer, Db, Reply, TestIssuer, ISSUER_NOW,
};
use huren_crypto::ids::RegionCode;
use huren_crypto::time::{FixedClock, UnixTime};
use huren_crypto::verify::Verdict;
use huren_issuer::tokens::{self, Lifetime, RevokeError, Scope, TokenSpec};

on_both_databases!(
    requests_without_a_valid_bearer_token_get_401_and_change_nothing,
    tokens_of_another_region_type_or_scope_get_403_and_change_nothing,
    bad_issuance_bodies_are_4xx_problems_naming_the_field_and_store_nothing,
    status_change_needs_a_reason_and_an_existing_licence,
    null_valid_until_issues_a_long_term_licence_without_exp,
    another_regions_licences_on_a_shared_database_are_not_found_and_never_change,
    revoked_and_expired_tokens_get_401_at_once_and_the_list_shows_no_secret,
);

/// The licence type of `building_licence()` (建筑业企业资质证书).
const CONSTRUCTION: &str = "11100000000013338W032";
/// Another catalogue type (道路运输经营许可证).
const ROAD_TRANSPORT: &str = "11100000000019713D008";
/// A well-formed 证照标识 no issuer handed out.
const UNKNOWN_JTI: &str =
    "1.2.156.3005.2.11100000000013338W032.11220000013544541J.20260000000001.001.0";

const ALL_SCOPES: [Scope; 4] = [Scope::Issue, Scope::Read, Scope::Revoke, Scope::Audit];

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

/// Asserts an RFC 9457 problem with this status and code, and returns its JSON.
#[track_caller]
fn assert_problem(reply: &Reply, status: StatusCode, code: &str, what: &str) -> serde_json::Value {
    assert_eq!(reply.status, status, "{what}: {}", text(reply));
    let content_type = reply
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert_eq!(
        content_type, "application/problem+json",
        "{what}: problem JSON content type"
    );
    let problem = reply.json();
    assert_eq!(problem["code"], code, "{what}: {problem}");
    assert_eq!(problem["status"], status.as_u16(), "{what}: {problem}");
    problem
}

/// The fields a 422 names, in order.
fn fields(problem: &serde_json::Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Everything a write could change: licences and their status, status-list allocation and
/// versions, idempotency keys and the audit log.
async fn snapshot(issuer: &TestIssuer) -> Vec<String> {
    use sqlx::Row;
    let pool = issuer.state.issuer.store.pool();
    let mut out = Vec::new();
    for row in sqlx::query(
        "SELECT jti, status, status_reason, status_changed_at, supersedes, superseded_by FROM licences ORDER BY jti",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    {
        out.push(format!(
            "licence {} status={} reason={:?} changed_at={:?} supersedes={:?} superseded_by={:?}",
            row.try_get::<String, _>("jti").unwrap(),
            row.try_get::<i64, _>("status").unwrap(),
            row.try_get::<Option<String>, _>("status_reason").unwrap(),
            row.try_get::<Option<i64>, _>("status_changed_at").unwrap(),
            row.try_get::<Option<String>, _>("supersedes").unwrap(),
            row.try_get::<Option<String>, _>("superseded_by").unwrap(),
        ));
    }
    for row in sqlx::query("SELECT id, allocated, version FROM status_lists ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap()
    {
        out.push(format!(
            "list {} allocated={} version={}",
            row.try_get::<String, _>("id").unwrap(),
            row.try_get::<i64, _>("allocated").unwrap(),
            row.try_get::<i64, _>("version").unwrap(),
        ));
    }
    for (table, query) in [
        ("idempotency", "SELECT COUNT(*) AS n FROM idempotency"),
        ("audit_log", "SELECT COUNT(*) AS n FROM audit_log"),
        ("import_rows", "SELECT COUNT(*) AS n FROM import_rows"),
    ] {
        let n: i64 = sqlx::query(query)
            .fetch_one(pool)
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
        out.push(format!("{table} rows={n}"));
    }
    out
}

async fn issue(issuer: &TestIssuer, body: &serde_json::Value) -> serde_json::Value {
    let reply = issuer.post("/v1/licences", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", text(&reply));
    reply.json()
}

async fn record(issuer: &TestIssuer, jti: &str) -> serde_json::Value {
    let reply = issuer.get(&format!("/v1/licences/{jti}")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    reply.json()
}

fn forged_token() -> String {
    use rand_core::RngCore;
    let mut secret = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut secret);
    format!("hrt_{}", huren_crypto::b64::encode_url(&secret))
}

/// A 道路运输经营许可证 request for a natural person holding a 居民身份证.
fn road_transport_licence(resident_id: &str) -> serde_json::Value {
    serde_json::json!({
        "type_code": ROAD_TRANSPORT,
        "number": "浙交运管许可杭字330100000001号",
        "holder": {"name": "张三", "id_type": "111", "id": resident_id},
        "issuer": {"name": "浙江省交通运输厅", "code": "11220000013544541J"},
        "face": {"business_scope": "道路普通货物运输", "economic_type": "个体", "address": "杭州市西湖区示例路2号"}
    })
}

// ---------------------------------------------------------------------------------------------
// 1. Access control
// ---------------------------------------------------------------------------------------------

/// Every endpoint that needs a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Issue,
    Batch,
    Revoke,
    Suspend,
    Reinstate,
    Read,
    QrPng,
    QrSvg,
    View,
    Audit,
}

/// In an order the admin can carry out one after another: suspend before revoke.
const ENDPOINTS: [Endpoint; 10] = [
    Endpoint::Issue,
    Endpoint::Batch,
    Endpoint::Suspend,
    Endpoint::Revoke,
    Endpoint::Reinstate,
    Endpoint::Read,
    Endpoint::QrPng,
    Endpoint::QrSvg,
    Endpoint::View,
    Endpoint::Audit,
];

/// The two licences the endpoints act on: one valid (revoke, suspend, reads) and one suspended
/// (reinstate), both 建筑业企业资质证书, so that every refused write would have had an effect.
struct Targets {
    valid: String,
    suspended: String,
}

impl Endpoint {
    fn scope(self) -> Scope {
        match self {
            Endpoint::Issue | Endpoint::Batch => Scope::Issue,
            Endpoint::Revoke | Endpoint::Suspend | Endpoint::Reinstate => Scope::Revoke,
            Endpoint::Read | Endpoint::QrPng | Endpoint::QrSvg | Endpoint::View => Scope::Read,
            Endpoint::Audit => Scope::Audit,
        }
    }

    fn is_write(self) -> bool {
        matches!(self.scope(), Scope::Issue | Scope::Revoke)
    }

    /// Whether the endpoint acts on a licence type (so a type-restricted token matters).
    fn has_type(self) -> bool {
        self != Endpoint::Audit
    }

    /// Sends the request this endpoint would accept from the admin token.
    async fn send(self, issuer: &TestIssuer, targets: &Targets, token: Option<&str>) -> Reply {
        let json =
            |value: serde_json::Value| Some(("application/json", value.to_string().into_bytes()));
        let reason = || json(serde_json::json!({"reason": "整改期间暂扣"}));
        let (method, path, body) = match self {
            Endpoint::Issue => (
                Method::POST,
                "/v1/licences".to_owned(),
                json(building_licence()),
            ),
            Endpoint::Batch => (
                Method::POST,
                "/v1/licences/batch".to_owned(),
                json(serde_json::json!([building_licence()])),
            ),
            Endpoint::Revoke => (
                Method::POST,
                format!("/v1/licences/{}/revoke", targets.valid),
                reason(),
            ),
            Endpoint::Suspend => (
                Method::POST,
                format!("/v1/licences/{}/suspend", targets.valid),
                reason(),
            ),
            Endpoint::Reinstate => (
                Method::POST,
                format!("/v1/licences/{}/reinstate", targets.suspended),
                reason(),
            ),
            Endpoint::Read => (Method::GET, format!("/v1/licences/{}", targets.valid), None),
            Endpoint::QrPng => (
                Method::GET,
                format!("/v1/licences/{}/qr.png", targets.valid),
                None,
            ),
            Endpoint::QrSvg => (
                Method::GET,
                format!("/v1/licences/{}/qr.svg", targets.valid),
                None,
            ),
            Endpoint::View => (
                Method::GET,
                format!("/v1/licences/{}/view", targets.valid),
                None,
            ),
            Endpoint::Audit => (Method::GET, "/v1/audit".to_owned(), None),
        };
        issuer.call(method, &path, token, body, &[]).await
    }

    /// Asserts the reply is what an allowed caller gets.
    #[track_caller]
    fn assert_allowed(self, reply: &Reply, who: &str) {
        let expected = match self {
            Endpoint::Issue => StatusCode::CREATED,
            _ => StatusCode::OK,
        };
        assert_eq!(reply.status, expected, "{self:?} by {who}: {}", text(reply));
        if self == Endpoint::Batch {
            let body = reply.json();
            assert_eq!(body["issued"], 1, "{self:?} by {who}: {body}");
            assert_eq!(body["failed"], 0, "{self:?} by {who}: {body}");
        }
    }
}

async fn setup_targets(issuer: &TestIssuer) -> Targets {
    let valid = issue(issuer, &building_licence()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let suspended = issue(issuer, &building_licence()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = issuer
        .post(
            &format!("/v1/licences/{suspended}/suspend"),
            &serde_json::json!({"reason": "整改期间暂扣"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    Targets { valid, suspended }
}

async fn requests_without_a_valid_bearer_token_get_401_and_change_nothing(db: Db) {
    let issuer = spawn_issuer(&db).await;
    let targets = setup_targets(&issuer).await;
    let before = snapshot(&issuer).await;

    // A near miss of a real token: the admin token with its last character changed.
    let mut near_miss = issuer.admin.clone();
    let last = near_miss.pop().unwrap();
    near_miss.push(if last == 'A' { 'B' } else { 'A' });
    let credentials: Vec<(&str, Option<String>)> = vec![
        ("no Authorization header", None),
        ("a forged hrt_ token", Some(forged_token())),
        (
            "the admin token with one character changed",
            Some(near_miss),
        ),
        ("a bare hrt_ prefix", Some("hrt_".to_owned())),
    ];
    for endpoint in ENDPOINTS {
        for (who, token) in &credentials {
            let reply = endpoint.send(&issuer, &targets, token.as_deref()).await;
            let what = format!("{endpoint:?} with {who}");
            assert_problem(&reply, StatusCode::UNAUTHORIZED, "unauthorized", &what);
            assert_eq!(
                reply
                    .headers
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok()),
                Some("Bearer"),
                "{what}: a 401 names the scheme"
            );
            assert_eq!(snapshot(&issuer).await, before, "{what} changed something");
        }
    }
    // Not a bearer credential at all, though it carries a live token.
    let reply = issuer
        .call(
            Method::GET,
            &format!("/v1/licences/{}", targets.valid),
            None,
            None,
            &[("authorization", &format!("Basic {}", issuer.admin))],
        )
        .await;
    assert_problem(
        &reply,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "Basic scheme",
    );

    // Control: the same requests with the admin token are carried out.
    for endpoint in ENDPOINTS {
        let reply = endpoint.send(&issuer, &targets, Some(&issuer.admin)).await;
        endpoint.assert_allowed(&reply, "admin");
    }
    assert_ne!(
        snapshot(&issuer).await,
        before,
        "the control requests had effects"
    );
}

async fn tokens_of_another_region_type_or_scope_get_403_and_change_nothing(db: Db) {
    let issuer = spawn_issuer(&db).await;
    let targets = setup_targets(&issuer).await;

    // Every token is made before the snapshot: creating one writes an audit entry.
    let jiangsu = issuer.token("320000", &ALL_SCOPES, &[]).await;
    let other_type = issuer.token("330000", &ALL_SCOPES, &[ROAD_TRANSPORT]).await;
    let only_read = issuer.token("330000", &[Scope::Read], &[]).await;
    let only_issue = issuer.token("330000", &[Scope::Issue], &[]).await;
    let mut all_but = std::collections::HashMap::new();
    for scope in ALL_SCOPES {
        let others: Vec<Scope> = ALL_SCOPES.into_iter().filter(|s| *s != scope).collect();
        all_but.insert(scope, issuer.token("330000", &others, &[]).await);
    }
    // Allowed tokens for the control at the end: Zhejiang, only the needed scope, only this type.
    let mut exactly = std::collections::HashMap::new();
    for scope in ALL_SCOPES {
        // The audit log covers every type, so only an all-types token may read it.
        let types: &[&str] = if scope == Scope::Audit {
            &[]
        } else {
            &[CONSTRUCTION]
        };
        exactly.insert(scope, issuer.token("330000", &[scope], types).await);
    }
    let typed_auditor = issuer
        .token("330000", &[Scope::Audit], &[CONSTRUCTION])
        .await;
    let reply = issuer
        .call(Method::GET, "/v1/audit", Some(&typed_auditor), None, &[])
        .await;
    assert_eq!(
        reply.status,
        StatusCode::FORBIDDEN,
        "a type-restricted token must not read the whole audit log"
    );
    let before = snapshot(&issuer).await;

    for endpoint in ENDPOINTS {
        let mut cases: Vec<(String, &str, bool)> = vec![
            (
                "a Jiangsu (320000) token with every scope".into(),
                &jiangsu,
                false,
            ),
            (
                format!("a token lacking only the {:?} scope", endpoint.scope()),
                &all_but[&endpoint.scope()],
                false,
            ),
        ];
        if endpoint.has_type() {
            cases.push((
                format!("a token restricted to {ROAD_TRANSPORT}"),
                &other_type,
                true,
            ));
        }
        if endpoint.is_write() {
            cases.push(("a read-only token".into(), &only_read, false));
        } else {
            cases.push(("an issue-only token".into(), &only_issue, false));
        }
        for (who, token, type_refusal) in cases {
            let reply = endpoint.send(&issuer, &targets, Some(token)).await;
            let what = format!("{endpoint:?} by {who}");
            if endpoint == Endpoint::Batch && type_refusal {
                // A batch may mix types, so a type the token does not cover is refused per
                // item (SPEC §7: "report per item"); a token that may not issue in this
                // region at all is refused as a whole (above).
                assert_eq!(reply.status, StatusCode::OK, "{what}: {}", text(&reply));
                let body = reply.json();
                assert_eq!(body["issued"], 0, "{what}: {body}");
                assert_eq!(body["failed"], 1, "{what}: {body}");
                assert_eq!(body["items"][0]["error"]["status"], 403, "{what}: {body}");
                assert!(body["items"][0].get("licence").is_none(), "{what}: {body}");
            } else {
                assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden", &what);
            }
            assert_eq!(snapshot(&issuer).await, before, "{what} changed something");
        }
    }
    assert_eq!(issuer.licence_count().await, 2);
    assert_eq!(
        record(&issuer, &targets.valid).await["current_status"],
        "valid"
    );
    assert_eq!(
        record(&issuer, &targets.suspended).await["current_status"],
        "suspended"
    );

    // Control: a Zhejiang token with exactly the needed scope (and this type) is allowed, so
    // the refusals above came from region, type or scope and nothing else.
    for endpoint in ENDPOINTS {
        let reply = endpoint
            .send(&issuer, &targets, Some(&exactly[&endpoint.scope()]))
            .await;
        endpoint.assert_allowed(&reply, "a token with exactly the needed scope and type");
    }
    assert_eq!(
        issuer.licence_count().await,
        4,
        "issue and batch each issued one"
    );
    assert_eq!(
        record(&issuer, &targets.valid).await["current_status"],
        "revoked"
    );
    assert_eq!(
        record(&issuer, &targets.suspended).await["current_status"],
        "valid"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Bad input on POST /v1/licences
// ---------------------------------------------------------------------------------------------

struct BadInput {
    what: &'static str,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    headers: Vec<(&'static str, String)>,
    status: StatusCode,
    code: &'static str,
    /// The field the first error must name (422 only).
    field: Option<&'static str>,
    /// A text the problem's detail must contain.
    detail: Option<&'static str>,
}

fn bad(what: &'static str, body: serde_json::Value, field: &'static str) -> BadInput {
    BadInput {
        what,
        content_type: Some("application/json"),
        body: body.to_string().into_bytes(),
        headers: vec![],
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_fields",
        field: Some(field),
        detail: None,
    }
}

fn with(change: impl FnOnce(&mut serde_json::Value)) -> serde_json::Value {
    let mut body = building_licence();
    change(&mut body);
    body
}

fn bad_inputs() -> Vec<BadInput> {
    let json = Some("application/json");
    let mut huge = building_licence();
    huge["face"]["qualification"] = "建".repeat(MAX_BODY_CHARS).into();
    vec![
        BadInput {
            what: "malformed JSON",
            content_type: json,
            body: br#"{"type_code": "11100000000013338W032", "number": "#.to_vec(),
            headers: vec![],
            status: StatusCode::BAD_REQUEST,
            code: "malformed_json",
            field: None,
            detail: None,
        },
        BadInput {
            what: "trailing garbage after the JSON object",
            content_type: json,
            body: format!("{} x", building_licence()).into_bytes(),
            headers: vec![],
            status: StatusCode::BAD_REQUEST,
            code: "malformed_json",
            field: None,
            detail: None,
        },
        BadInput {
            what: "empty body",
            content_type: json,
            body: vec![],
            headers: vec![],
            status: StatusCode::BAD_REQUEST,
            code: "malformed_json",
            field: None,
            detail: None,
        },
        bad(
            "number is a JSON number",
            with(|b| b["number"] = 5.into()),
            "number",
        ),
        bad(
            "a face value is a JSON number",
            with(|b| b["face"]["qualification"] = 1.into()),
            "face.qualification",
        ),
        bad(
            "required face field missing",
            with(|b| {
                b["face"].as_object_mut().unwrap().remove("qualification");
            }),
            "face.qualification",
        ),
        bad(
            "required face field empty",
            with(|b| b["face"]["address"] = "  ".into()),
            "face.address",
        ),
        bad(
            "USCC with a wrong check character",
            with(|b| b["holder"]["id"] = "91350100M000100Y44".into()),
            "holder.id",
        ),
        bad(
            "resident ID with a wrong check digit",
            road_transport_licence("110105194912310021"),
            "holder.id",
        ),
        bad(
            "well-formed type code not in the catalogue",
            with(|b| b["type_code"] = "11100000000013338W999".into()),
            "type_code",
        ),
        bad(
            "unknown top-level field",
            with(|b| b["colour"] = "red".into()),
            "colour",
        ),
        bad(
            "unknown field in holder",
            with(|b| b["holder"]["nationality"] = "CN".into()),
            "holder.nationality",
        ),
        bad(
            "valid_until before valid_from",
            with(|b| {
                b["valid_from"] = "2027-01-01".into();
                b["valid_until"] = "2026-12-31".into();
            }),
            "valid_until",
        ),
        bad(
            "valid_until not a date",
            with(|b| b["valid_until"] = "2026-13-01".into()),
            "valid_until",
        ),
        BadInput {
            detail: Some("number"),
            ..bad(
                "required top-level field missing",
                with(|b| {
                    b.as_object_mut().unwrap().remove("number");
                }),
                "number",
            )
        },
        BadInput {
            what: "body over 2 MiB",
            content_type: json,
            body: huge.to_string().into_bytes(),
            headers: vec![],
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "body_too_large",
            field: None,
            detail: None,
        },
        BadInput {
            what: "Content-Type text/plain",
            content_type: Some("text/plain"),
            body: building_licence().to_string().into_bytes(),
            headers: vec![],
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "unsupported_media_type",
            field: None,
            detail: None,
        },
        BadInput {
            what: "no Content-Type",
            content_type: None,
            body: building_licence().to_string().into_bytes(),
            headers: vec![],
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "unsupported_media_type",
            field: None,
            detail: None,
        },
        BadInput {
            headers: vec![("idempotency-key", String::new())],
            ..bad(
                "empty Idempotency-Key",
                building_licence(),
                "Idempotency-Key",
            )
        },
        BadInput {
            headers: vec![("idempotency-key", "k".repeat(201))],
            ..bad(
                "Idempotency-Key of 201 characters",
                building_licence(),
                "Idempotency-Key",
            )
        },
    ]
}

/// Characters of a face value that make the body exceed 2 MiB (3 bytes each in UTF-8).
const MAX_BODY_CHARS: usize = 2 * 1024 * 1024 / 3 + 1;

async fn bad_issuance_bodies_are_4xx_problems_naming_the_field_and_store_nothing(db: Db) {
    let issuer = spawn_issuer(&db).await;
    let before = snapshot(&issuer).await;
    for case in bad_inputs() {
        let headers: Vec<(&str, &str)> = case
            .headers
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        let reply = match case.content_type {
            Some(content_type) => {
                let body = Some((content_type, case.body.clone()));
                issuer
                    .call(
                        Method::POST,
                        "/v1/licences",
                        Some(&issuer.admin),
                        body,
                        &headers,
                    )
                    .await
            }
            // `call` sends a body only together with a Content-Type.
            None => post_without_content_type(&issuer, case.body.clone()).await,
        };
        assert!(
            !reply.status.is_server_error(),
            "{}: {} {}",
            case.what,
            reply.status,
            text(&reply)
        );
        let problem = assert_problem(&reply, case.status, case.code, case.what);
        if let Some(field) = case.field {
            let named = fields(&problem);
            assert_eq!(
                named.first().map(String::as_str),
                Some(field),
                "{}: {problem}",
                case.what
            );
        }
        if let Some(detail) = case.detail {
            assert!(
                problem.to_string().contains(detail),
                "{}: the problem mentions {detail:?}: {problem}",
                case.what
            );
        }
        assert_eq!(
            issuer.licence_count().await,
            0,
            "{}: stored a licence",
            case.what
        );
        assert_eq!(
            snapshot(&issuer).await,
            before,
            "{}: changed something",
            case.what
        );
    }

    // The bad identifiers are the only fault in their requests: each names only holder.id...
    for (what, body) in [
        (
            "USCC",
            with(|b| b["holder"]["id"] = "91350100M000100Y44".into()),
        ),
        ("resident ID", road_transport_licence("110105194912310021")),
    ] {
        let reply = issuer.post("/v1/licences", &body).await;
        let problem = assert_problem(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_fields",
            what,
        );
        assert_eq!(fields(&problem), ["holder.id"], "{what}: {problem}");
    }
    assert_eq!(issuer.licence_count().await, 0);
    // ...and with the correct check character the same requests are issued.
    issue(&issuer, &building_licence()).await;
    issue(&issuer, &road_transport_licence("11010519491231002X")).await;
    assert_eq!(issuer.licence_count().await, 2);
}

async fn post_without_content_type(issuer: &TestIssuer, body: Vec<u8>) -> Reply {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;
    let request = Request::builder()
        .method(Method::POST)
        .uri("/v1/licences")
        .header("authorization", format!("Bearer {}", issuer.admin))
        .body(Body::from(body))
        .unwrap();
    let response = huren_issuer::http::router(issuer.state.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Status changes
// ---------------------------------------------------------------------------------------------

async fn status_change_needs_a_reason_and_an_existing_licence(db: Db) {
    let issuer = spawn_issuer(&db).await;
    let targets = setup_targets(&issuer).await;
    let before = snapshot(&issuer).await;

    for (action, jti) in [
        ("revoke", &targets.valid),
        ("suspend", &targets.valid),
        ("reinstate", &targets.suspended),
    ] {
        let path = format!("/v1/licences/{jti}/{action}");
        for (what, body) in [
            ("no reason", serde_json::json!({})),
            ("an empty reason", serde_json::json!({"reason": ""})),
            ("a blank reason", serde_json::json!({"reason": "   "})),
            ("a null reason", serde_json::json!({"reason": null})),
            ("a numeric reason", serde_json::json!({"reason": 7})),
            (
                "a reason with a control character",
                serde_json::json!({"reason": "a\u{7}b"}),
            ),
            (
                "a reason of 501 characters",
                serde_json::json!({"reason": "因".repeat(501)}),
            ),
        ] {
            let what = format!("{action} with {what}");
            let reply = issuer.post(&path, &body).await;
            let problem = assert_problem(
                &reply,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_fields",
                &what,
            );
            assert_eq!(
                fields(&problem).first().map(String::as_str),
                Some("reason"),
                "{what}: {problem}"
            );
            assert_eq!(snapshot(&issuer).await, before, "{what} changed something");
        }

        for unknown in [UNKNOWN_JTI, "no-such-licence"] {
            let what = format!("{action} of {unknown}");
            let reply = issuer
                .post(
                    &format!("/v1/licences/{unknown}/{action}"),
                    &serde_json::json!({"reason": "核查"}),
                )
                .await;
            assert_problem(&reply, StatusCode::NOT_FOUND, "not_found", &what);
            assert_eq!(snapshot(&issuer).await, before, "{what} changed something");
        }
    }
    for suffix in ["", "/qr.png", "/qr.svg", "/view"] {
        let reply = issuer
            .get(&format!("/v1/licences/{UNKNOWN_JTI}{suffix}"))
            .await;
        assert_problem(
            &reply,
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("GET {suffix}"),
        );
    }

    // Control: with a reason the same changes are made, and the reason is stored trimmed.
    let reply = issuer
        .post(
            &format!("/v1/licences/{}/reinstate", targets.suspended),
            &serde_json::json!({"reason": "  整改完成 "}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    let after = record(&issuer, &targets.suspended).await;
    assert_eq!(after["current_status"], "valid");
    assert_eq!(after["status_reason"], "整改完成");
}

async fn null_valid_until_issues_a_long_term_licence_without_exp(db: Db) {
    let issuer = spawn_issuer(&db).await;

    let mut long_term = building_licence();
    long_term["valid_until"] = serde_json::Value::Null;
    let issued = issue(&issuer, &long_term).await;
    let report = issuer.verify(issued["qr_text"].as_str().unwrap()).await;
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    let view = report.licence().unwrap();
    assert_eq!(view.valid_until, None, "长期: {view:#?}");
    assert_eq!(
        report.claims.as_ref().unwrap().exp,
        None,
        "a long-term token has no exp"
    );

    // Control: leaving valid_until out gives the type's default validity and an exp.
    let dated = issue(&issuer, &building_licence()).await;
    let report = issuer.verify(dated["token"].as_str().unwrap()).await;
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    assert!(report.licence().unwrap().valid_until.is_some());
    assert!(report.claims.as_ref().unwrap().exp.is_some());
}

// ---------------------------------------------------------------------------------------------
// Several regions on one database
// ---------------------------------------------------------------------------------------------

/// Zhejiang's and Jiangsu's issuers on one database (SPEC §7): whatever Zhejiang's token may
/// do, Jiangsu's licences, audit entries and status lists are not there for Zhejiang's issuer —
/// reading, QR, view, revoking, suspending, reinstating, superseding (single and batch), the
/// audit log and the status list all answer as for a licence that does not exist — and not one
/// of Jiangsu's rows changes. Both regions' audit chains still verify.
async fn another_regions_licences_on_a_shared_database_are_not_found_and_never_change(db: Db) {
    let zhejiang = spawn_issuer(&db).await;
    let jiangsu =
        spawn_region_issuer(&db, "320000", Some(&zhejiang.database_url), |_, _, _| None).await;
    let own = issue(&zhejiang, &building_licence()).await;
    let theirs = issue(&jiangsu, &building_licence()).await;
    let suspended = issue(&jiangsu, &building_licence()).await;
    let (theirs, suspended) = (
        theirs["id"].as_str().unwrap().to_owned(),
        suspended["id"].as_str().unwrap().to_owned(),
    );
    let reply = jiangsu
        .post(
            &format!("/v1/licences/{suspended}/suspend"),
            &serde_json::json!({"reason": "核查中"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    let list = list_of(&record(&jiangsu, &theirs).await);
    let before = snapshot(&zhejiang).await;

    let token = Some(zhejiang.admin.as_str());
    for path in ["", "/qr.png", "/qr.svg", "/view"] {
        for jti in [&theirs, &suspended] {
            let reply = zhejiang
                .call(
                    Method::GET,
                    &format!("/v1/licences/{jti}{path}"),
                    token,
                    None,
                    &[],
                )
                .await;
            assert_problem(
                &reply,
                StatusCode::NOT_FOUND,
                "not_found",
                &format!("GET {path} of a Jiangsu licence"),
            );
        }
    }
    for (action, jti) in [
        ("revoke", &theirs),
        ("suspend", &theirs),
        ("reinstate", &suspended),
        ("revoke", &suspended),
    ] {
        let reply = zhejiang
            .post(
                &format!("/v1/licences/{jti}/{action}"),
                &serde_json::json!({"reason": "跨省操作"}),
            )
            .await;
        assert_problem(
            &reply,
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("{action} of a Jiangsu licence"),
        );
    }
    let mut superseding = building_licence();
    superseding["supersedes"] = theirs.clone().into();
    let reply = zhejiang.post("/v1/licences", &superseding).await;
    let problem = assert_problem(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_fields",
        "superseding a Jiangsu licence",
    );
    assert_eq!(fields(&problem), ["supersedes"], "{problem}");
    let reply = zhejiang
        .post("/v1/licences/batch", &serde_json::json!([superseding]))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    let batch = reply.json();
    assert_eq!(batch["issued"], 0, "{batch}");
    assert_eq!(batch["items"][0]["error"]["status"], 422, "{batch}");
    let reply = zhejiang
        .call(Method::GET, &format!("/v1/status/{list}"), None, None, &[])
        .await;
    assert_problem(
        &reply,
        StatusCode::NOT_FOUND,
        "not_found",
        "Jiangsu's status list",
    );

    let reply = zhejiang
        .call(
            Method::GET,
            "/v1/audit?after=0&limit=1000",
            token,
            None,
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    let entries = reply.json()["entries"].as_array().unwrap().clone();
    let subjects: Vec<&str> = entries
        .iter()
        .map(|e| e["subject"].as_str().unwrap())
        .collect();
    assert!(
        subjects.contains(&own["id"].as_str().unwrap()),
        "Zhejiang's own entries are there: {subjects:?}"
    );
    assert!(
        !subjects.contains(&theirs.as_str()) && !subjects.contains(&suspended.as_str()),
        "Zhejiang's audit log shows Jiangsu's entries: {subjects:?}"
    );
    assert!(
        entries
            .iter()
            .all(|e| !e["detail"].as_str().unwrap().contains("320000")),
        "Zhejiang's audit log shows Jiangsu's token: {entries:?}"
    );

    assert_eq!(
        snapshot(&zhejiang).await,
        before,
        "Zhejiang's refused requests changed the shared database"
    );
    assert_eq!(record(&jiangsu, &theirs).await["current_status"], "valid");
    assert_eq!(
        record(&jiangsu, &suspended).await["current_status"],
        "suspended"
    );
    for issuer in [&zhejiang, &jiangsu] {
        assert!(
            huren_issuer::audit::verify_chain(&issuer.state.issuer.store)
                .await
                .unwrap()
                .is_ok(),
            "each region's audit chain verifies"
        );
    }
}

/// The status list id of a licence record.
fn list_of(record: &serde_json::Value) -> String {
    record["status"]["list_id"].as_str().unwrap().to_owned()
}

// ---------------------------------------------------------------------------------------------
// Token lifecycle: expiry, revocation, listing (SPEC §7)
// ---------------------------------------------------------------------------------------------

/// The same issuer (same database and configuration) with its clock at `now`: what it answers
/// once that time has come. No sleeping: the clock is injected.
async fn issuer_at(issuer: &TestIssuer, now: UnixTime) -> huren_issuer::http::AppState {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = huren_issuer::App::build(&issuer.config, listener, None, Arc::new(FixedClock(now)))
        .await
        .unwrap();
    app.state().clone()
}

/// `GET /v1/licences/{jti}` with `token` through `state`'s router; the status code.
async fn read_status(state: &huren_issuer::http::AppState, jti: &str, token: &str) -> StatusCode {
    use tower::ServiceExt;
    let request = axum::http::Request::get(format!("/v1/licences/{jti}"))
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    huren_issuer::http::router(state.clone())
        .oneshot(request)
        .await
        .unwrap()
        .status()
}

async fn make_token(issuer: &TestIssuer, label: &str, lifetime: Lifetime) -> (String, String) {
    let region = RegionCode::parse("330000").unwrap();
    let spec = TokenSpec {
        region: &region,
        scopes: &[Scope::Read],
        types: &[],
        label,
        lifetime,
    };
    let (secret, principal) = tokens::create(
        &issuer.state.issuer.store,
        &spec,
        "test",
        ISSUER_NOW.seconds(),
        &mut rand_core::OsRng,
    )
    .await
    .unwrap();
    (secret, principal.id)
}

async fn listed(issuer: &TestIssuer, id: &str) -> serde_json::Value {
    let all = tokens::list(&issuer.state.issuer.store, None)
        .await
        .unwrap();
    serde_json::to_value(all.iter().find(|t| t.id == id).unwrap()).unwrap()
}

async fn revoked_and_expired_tokens_get_401_at_once_and_the_list_shows_no_secret(db: Db) {
    let issuer = spawn_issuer(&db).await;
    let jti = issue(&issuer, &building_licence()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (short, short_id) = make_token(&issuer, "one hour", Lifetime::parse("1h").unwrap()).await;
    let (leaked, leaked_id) = make_token(&issuer, "leaked", Lifetime::DEFAULT).await;
    let now = &issuer.state;
    assert_eq!(read_status(now, &jti, &short).await, StatusCode::OK);
    assert_eq!(read_status(now, &jti, &leaked).await, StatusCode::OK);

    // Revocation applies to the very next request of the running issuer (nothing cached).
    tokens::revoke(
        &issuer.state.issuer.store,
        &leaked_id,
        "cli:test",
        ISSUER_NOW.seconds(),
    )
    .await
    .unwrap();
    assert_eq!(
        read_status(now, &jti, &leaked).await,
        StatusCode::UNAUTHORIZED,
        "a revoked token still worked"
    );
    let entry = huren_issuer::audit::page(&issuer.state.issuer.store, 0, 1000)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(
        (
            entry.action.as_str(),
            entry.subject.as_str(),
            entry.actor.as_str()
        ),
        ("token_revoke", leaked_id.as_str(), "cli:test")
    );
    assert!(matches!(
        tokens::revoke(
            &issuer.state.issuer.store,
            &leaked_id,
            "cli:test",
            ISSUER_NOW.seconds()
        )
        .await,
        Err(RevokeError::AlreadyRevoked { .. })
    ));
    assert!(matches!(
        tokens::revoke(
            &issuer.state.issuer.store,
            "tok_0000000000000000",
            "cli:test",
            0
        )
        .await,
        Err(RevokeError::NotFound(_))
    ));
    assert!(
        huren_issuer::audit::verify_chain(&issuer.state.issuer.store)
            .await
            .unwrap()
            .is_ok()
    );

    // Expiry: a second before, the token works; from `expires_at` on, it is refused. The admin
    // token (default lifetime, 90 days) is unaffected.
    let before = issuer_at(&issuer, ISSUER_NOW.plus(3599)).await;
    assert_eq!(read_status(&before, &jti, &short).await, StatusCode::OK);
    let after = issuer_at(&issuer, ISSUER_NOW.plus(3600)).await;
    assert_eq!(
        read_status(&after, &jti, &short).await,
        StatusCode::UNAUTHORIZED,
        "an expired token still worked"
    );
    assert_eq!(
        read_status(&after, &jti, &issuer.admin).await,
        StatusCode::OK
    );
    let past_default = issuer_at(&issuer, ISSUER_NOW.plus(90 * 86_400)).await;
    assert_eq!(
        read_status(&past_default, &jti, &issuer.admin).await,
        StatusCode::UNAUTHORIZED,
        "the default lifetime is 90 days"
    );

    // The list: RFC 3339 times, last use to the minute, never the secret or its hash.
    let short_listed = listed(&issuer, &short_id).await;
    assert_eq!(short_listed["label"], "one hour");
    assert_eq!(short_listed["region"], "330000");
    assert_eq!(short_listed["scopes"], serde_json::json!(["read"]));
    assert_eq!(short_listed["types"], serde_json::json!(["*"]));
    assert_eq!(short_listed["created_at"], ISSUER_NOW.to_rfc3339_china());
    assert_eq!(
        short_listed["expires_at"],
        ISSUER_NOW.plus(3600).to_rfc3339_china()
    );
    assert_eq!(short_listed["revoked_at"], serde_json::Value::Null);
    // Used at +0 and +3599: the second use is more than a minute later, so it was recorded.
    assert_eq!(
        short_listed["last_used_at"],
        ISSUER_NOW.plus(3599).to_rfc3339_china()
    );
    let leaked_listed = listed(&issuer, &leaked_id).await;
    assert_eq!(leaked_listed["revoked_at"], ISSUER_NOW.to_rfc3339_china());
    let everything = serde_json::to_string(
        &tokens::list(&issuer.state.issuer.store, None)
            .await
            .unwrap(),
    )
    .unwrap();
    for secret in [&short, &leaked, &issuer.admin] {
        let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(secret.as_bytes()));
        assert!(!everything.contains(secret.as_str()) && !everything.contains(&hash));
    }
    let jiangsu = RegionCode::parse("320000").unwrap();
    assert!(tokens::list(&issuer.state.issuer.store, Some(&jiangsu))
        .await
        .unwrap()
        .is_empty());

    // last_used_at is written at most once a minute per token: a use 30 s after the last
    // recorded one leaves it, one a minute after moves it.
    let (fresh, fresh_id) = make_token(&issuer, "fresh", Lifetime::DEFAULT).await;
    assert_eq!(read_status(now, &jti, &fresh).await, StatusCode::OK);
    let plus_30 = issuer_at(&issuer, ISSUER_NOW.plus(30)).await;
    assert_eq!(read_status(&plus_30, &jti, &fresh).await, StatusCode::OK);
    assert_eq!(
        listed(&issuer, &fresh_id).await["last_used_at"],
        ISSUER_NOW.to_rfc3339_china()
    );
    let plus_60 = issuer_at(&issuer, ISSUER_NOW.plus(60)).await;
    assert_eq!(read_status(&plus_60, &jti, &fresh).await, StatusCode::OK);
    assert_eq!(
        listed(&issuer, &fresh_id).await["last_used_at"],
        ISSUER_NOW.plus(60).to_rfc3339_china()
    );
}
