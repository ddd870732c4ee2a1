//! Electronic seals in the issuer (SPEC §8), on SQLite and on PostgreSQL: a seal is made,
//! fetched, applied to a document server-side and verified with the trust list and the
//! status list the issuer publishes, then suspended, reinstated and revoked; every seal write
//! refuses a missing, forged, wrong-region or wrong-scope token and changes nothing; bad
//! input is a 4xx problem naming the field; licences and seals never share a status index;
//! the audit chain records every seal event; the issuer refuses to start with holder keys the
//! region root did not issue for sealing, and serves the root's CRL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

#[macro_use]
mod common;

use std::collections::HashSet;
use std::path::Path;

use axum::http::{Method, StatusCode};
use common::issuer::{
    building_licence, spawn_issuer_with, trust_list_at, try_spawn_issuer_with, Db, Reply,
    TestIssuer, ISSUER_NOW,
};
use huren_crypto::alg::Algorithm;
use huren_crypto::b64;
use huren_crypto::cert::Certificate;
use huren_crypto::crl::VerifiedCrl;
use huren_crypto::ids::Uscc;
use huren_crypto::seal::verify::{SealOutcome, Verdict};
use huren_crypto::seal::{
    verify_seal_signature, Document, Seal, SealReport, SealSignature, SealTrust, SealVerifyInput,
    SealVerifyOptions,
};
use huren_crypto::status_token::VerifiedStatusList;
use huren_issuer::app::StartError;
use huren_issuer::config::{IssuerFile, SealHolderFile};
use huren_issuer::keyring::KeyringError;
use huren_issuer::tokens::Scope;
use huren_keys::crl::{issue_crl, revoke, CrlContents, CrlEntry};
use huren_keys::holder::{
    issue_holder, HolderDir, HolderRequest, HOLDER_CERT_FILE, HOLDER_KEY_FILE,
};
use huren_keys::layout::{self, InitRegion, RegionDir};
use huren_keys::store::{Passphrase, Protection};
use sqlx::Row;

on_both_databases!(
    seal_is_made_applied_verified_suspended_and_revoked,
    every_seal_endpoint_refuses_bad_tokens_before_anything_and_changes_nothing,
    bad_seal_requests_are_4xx_problems_naming_the_field_and_store_nothing,
    licences_and_seals_share_status_lists_but_never_an_index,
    revoked_holder_certificate_is_in_the_served_crl_and_refused_for_sealing,
    without_a_seal_maker_seal_making_is_503,
    another_regions_seals_on_a_shared_database_are_not_found_and_never_change,
);

/// The organisation whose seal-holder key the platform holds.
const USCC: &str = "91350100M000100Y43";
const ORGANISATION: &str = "杭州示例建设有限公司";
/// An organisation that keeps its own holder key.
const OWN_ORGANISATION: &str = "宁波示例贸易有限公司";
const PASSPHRASE: &str = "seal holder passphrase for tests";

const ALL_SCOPES: [Scope; 6] = [
    Scope::Issue,
    Scope::Read,
    Scope::Revoke,
    Scope::Audit,
    Scope::Seal,
    Scope::SealSign,
];

// ---------------------------------------------------------------------------------------------
// Set-up and helpers
// ---------------------------------------------------------------------------------------------

fn own_uscc() -> String {
    let body = "91330206MA2B00000";
    format!("{body}{}", Uscc::check_char(body).unwrap())
}

/// A well-formed esID of the region (any check character that parses).
fn unknown_es_id() -> String {
    huren_crypto::seal::EsId::from_sequence(&"330000".parse().unwrap(), 1)
        .unwrap()
        .to_string()
}

fn holder_request<'a>(
    organization: &str,
    uscc: &str,
    alg: Algorithm,
    protection: Protection<'a>,
) -> HolderRequest<'a> {
    HolderRequest {
        organization: organization.into(),
        uscc: Uscc::parse(uscc).unwrap(),
        alg,
        validity_days: HolderRequest::DEFAULT_VALIDITY_DAYS,
        protection,
        now: ISSUER_NOW.minus(3600),
    }
}

/// The seal set-up: an SM2 holder key the platform holds (encrypted), an ES256 holder that
/// keeps its own key, an empty CRL of the root; the issuer starts with the passphrase.
fn seal_setup(dir: &Path, region: &RegionDir, file: &mut IssuerFile) -> Option<Passphrase> {
    let passphrase = Passphrase::new(PASSPHRASE.into()).unwrap();
    let platform = issue_holder(
        region,
        None,
        &dir.join("platform-holder"),
        &holder_request(
            ORGANISATION,
            USCC,
            Algorithm::Sm2Sm3,
            Protection::Encrypted(&passphrase),
        ),
    )
    .unwrap();
    issue_holder(
        region,
        None,
        &dir.join("own-holder"),
        &holder_request(
            OWN_ORGANISATION,
            &own_uscc(),
            Algorithm::Es256,
            Protection::Plaintext,
        ),
    )
    .unwrap();
    let root_der = region.root_der().unwrap();
    let root_key = region.key(&region.config.root, None).unwrap();
    let crl = issue_crl(
        &root_der,
        &root_key,
        &CrlContents {
            number: 1,
            // Not before the signatures the tests make at ISSUER_NOW: a CRL older than a
            // signature cannot say the signer was unrevoked when it signed.
            this_update: ISSUER_NOW,
            next_update: ISSUER_NOW.plus(30 * 86_400),
            entries: vec![],
        },
    )
    .unwrap();
    std::fs::write(dir.join("root.crl"), crl).unwrap();
    file.seal_holders = Some(vec![SealHolderFile {
        key: platform.path.join(HOLDER_KEY_FILE),
        cert: platform.path.join(HOLDER_CERT_FILE),
        alg: None,
    }]);
    file.crl = Some(dir.join("root.crl"));
    Some(passphrase)
}

async fn spawn(db: &Db) -> TestIssuer {
    spawn_issuer_with(db, seal_setup).await
}

fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

#[track_caller]
fn assert_problem(reply: &Reply, status: StatusCode, code: &str, what: &str) -> serde_json::Value {
    assert_eq!(reply.status, status, "{what}: {}", text(reply));
    assert_eq!(
        reply.headers.get("content-type").unwrap(),
        "application/problem+json",
        "{what}"
    );
    let problem = reply.json();
    assert_eq!(problem["code"], code, "{what}: {problem}");
    problem
}

#[track_caller]
fn assert_field(reply: &Reply, field: &str, what: &str) {
    let problem = assert_problem(
        reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_fields",
        what,
    );
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&field),
        "{what}: expected {field}, got {problem}"
    );
}

fn png() -> Vec<u8> {
    let mut png = Vec::new();
    image::RgbaImage::from_pixel(32, 32, image::Rgba([200, 0, 0, 255]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
}

/// A valid request for a 合同专用章 of the platform-held organisation.
fn seal_body() -> serde_json::Value {
    serde_json::json!({
        "name": format!("{ORGANISATION}合同专用章"),
        "uscc": USCC,
        "seal_type": 4,
        "image_b64": b64::encode_std(&png()),
        "image_type": "png",
        "width_mm": 40,
        "height_mm": 40,
        "valid_start": "2026-11-01",
        "valid_end": "2030-12-31",
        "platform_holder": true
    })
}

fn own_holder_pem(issuer: &TestIssuer) -> String {
    std::fs::read_to_string(issuer.dir.path().join("own-holder").join(HOLDER_CERT_FILE)).unwrap()
}

/// A seal-holder certificate from the region root whose subject names no USCC.
fn unnamed_holder_pem(issuer: &TestIssuer) -> String {
    use huren_keys::certificate::{issue, Profile, Subject};
    let region = RegionDir::open(&issuer.dir.path().join("zj"))
        .unwrap()
        .with_plaintext_keys(huren_keys::store::PlaintextKeys::Allow);
    let root_key = region.key(&region.config.root, None).unwrap();
    let key = huren_keys::keypair::PrivateKey::generate(Algorithm::Es256).unwrap();
    let der = issue(
        &Subject {
            organization: ORGANISATION.into(),
            common_name: ORGANISATION.into(),
        },
        &key.public_key_spki_der().unwrap(),
        Profile::Leaf(huren_crypto::oids::Purpose::SealHolder),
        ISSUER_NOW.minus(3600),
        ISSUER_NOW.plus(86_400),
        Some(&region.root_der().unwrap()),
        &root_key,
        &mut rand_core::OsRng,
    )
    .unwrap();
    huren_keys::pem::certificate_pem(&der)
}

/// A request for the seal of the organisation that keeps its own key.
fn own_seal_body(issuer: &TestIssuer) -> serde_json::Value {
    serde_json::json!({
        "name": OWN_ORGANISATION,
        "uscc": own_uscc(),
        "seal_type": 1,
        "image_b64": b64::encode_std(br#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40"><circle cx="20" cy="20" r="18" fill="none" stroke="red"/></svg>"#),
        "image_type": "svg",
        "width_mm": 42,
        "height_mm": 42,
        "valid_end": "2029-06-30T23:59:59+08:00",
        "holder_certs_pem": [own_holder_pem(issuer)]
    })
}

fn json_body(value: &serde_json::Value) -> Option<(&'static str, Vec<u8>)> {
    Some(("application/json", value.to_string().into_bytes()))
}

async fn make(issuer: &TestIssuer, token: &str, body: &serde_json::Value) -> Reply {
    issuer
        .call(Method::POST, "/v1/seals", Some(token), json_body(body), &[])
        .await
}

async fn make_ok(issuer: &TestIssuer, token: &str, body: &serde_json::Value) -> serde_json::Value {
    let reply = make(issuer, token, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", text(&reply));
    reply.json()
}

async fn sign(
    issuer: &TestIssuer,
    token: &str,
    es_id: &str,
    document: &[u8],
    accept_json: bool,
) -> Reply {
    let headers: &[(&str, &str)] = if accept_json {
        &[("accept", "application/json")]
    } else {
        &[]
    };
    issuer
        .call(
            Method::POST,
            &format!("/v1/seals/{es_id}/sign"),
            Some(token),
            Some(("application/pdf", document.to_vec())),
            headers,
        )
        .await
}

async fn status_change(issuer: &TestIssuer, token: &str, es_id: &str, change: &str) -> Reply {
    issuer
        .call(
            Method::POST,
            &format!("/v1/seals/{es_id}/{change}"),
            Some(token),
            json_body(&serde_json::json!({"reason": "印章遗失，登报声明作废"})),
            &[],
        )
        .await
}

/// Verifies a signature as a verifier would: the trust list, the status list and the CRL all
/// fetched from this issuer.
async fn verify(issuer: &TestIssuer, signature: &[u8], document: &[u8]) -> SealReport {
    let parsed = SealSignature::from_der(signature).unwrap();
    let reference = parsed.seal().status_reference().unwrap();
    let list_id = reference.uri.rsplit('/').next().unwrap();
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
    let token = String::from_utf8(reply.body).unwrap();
    let list = VerifiedStatusList::verify(&token, &reference.uri, &issuer.trust).unwrap();
    let crl = served_crl(issuer).await;
    verify_seal_signature(&SealVerifyInput {
        signature,
        document: Document::Bytes(document),
        trust: SealTrust::TrustList(&issuer.trust),
        seal_status: Some(&list),
        crls: std::slice::from_ref(&crl),
        at: ISSUER_NOW,
        options: SealVerifyOptions::default(),
    })
}

async fn served_crl(issuer: &TestIssuer) -> VerifiedCrl {
    let reply = issuer.call(Method::GET, "/v1/crl", None, None, &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    VerifiedCrl::verify(&reply.body, &issuer.state.seals.keys().root).unwrap()
}

#[track_caller]
fn assert_valid(report: &SealReport) {
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    assert!(report.warnings.is_empty(), "{report:#?}");
}

#[track_caller]
fn assert_reason(report: &SealReport, outcome: SealOutcome) {
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(report.reasons, [outcome], "{report:#?}");
}

/// Everything a seal write could change.
async fn snapshot(issuer: &TestIssuer) -> Vec<String> {
    let pool = issuer.state.issuer.store.pool();
    let mut out = Vec::new();
    for row in sqlx::query(
        "SELECT es_id, status, status_reason, status_changed_at FROM seals ORDER BY es_id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    {
        out.push(format!(
            "seal {} status={} reason={:?} at={:?}",
            row.try_get::<String, _>("es_id").unwrap(),
            row.try_get::<i64, _>("status").unwrap(),
            row.try_get::<Option<String>, _>("status_reason").unwrap(),
            row.try_get::<Option<i64>, _>("status_changed_at").unwrap(),
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
    for table in ["status_entries", "idempotency", "audit_log", "licences"] {
        let n: i64 = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
            .fetch_one(pool)
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
        out.push(format!("{table} rows={n}"));
    }
    out
}

async fn seal_count(issuer: &TestIssuer) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM seals")
        .fetch_one(issuer.state.issuer.store.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

fn forged_token() -> String {
    use rand_core::RngCore;
    let mut secret = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut secret);
    format!("hrt_{}", b64::encode_url(&secret))
}

// ---------------------------------------------------------------------------------------------
// 1. The life of a seal
// ---------------------------------------------------------------------------------------------

async fn seal_is_made_applied_verified_suspended_and_revoked(db: Db) {
    let issuer = spawn(&db).await;
    let token = issuer.token("330000", &ALL_SCOPES, &[]).await;

    let made = make_ok(&issuer, &token, &seal_body()).await;
    let es_id = made["esID"].as_str().unwrap().to_owned();
    assert!(es_id.starts_with("330000") && es_id.len() == 16, "{made}");
    assert_eq!(made["type"], 4);
    assert_eq!(made["valid_end"], "2030-12-31T23:59:59+08:00");
    let uri = made["status"]["uri"].as_str().unwrap();
    assert!(
        uri.starts_with("https://issuer.zj.example/v1/status/330000-"),
        "{made}"
    );

    // GET gives the DER the verifier reads, equal to the .esl of the answer.
    let reply = issuer
        .call(
            Method::GET,
            &format!("/v1/seals/{es_id}"),
            Some(&token),
            None,
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    assert_eq!(
        reply.headers.get("content-type").unwrap(),
        "application/octet-stream"
    );
    assert_eq!(
        b64::encode_std(&reply.body),
        made["esl"].as_str().unwrap(),
        "GET returns the seal as made"
    );
    let seal = Seal::from_der(&reply.body).unwrap();
    assert_eq!(seal.es_id(), es_id);
    assert_eq!(seal.name(), format!("{ORGANISATION}合同专用章"));
    assert_eq!(seal.seal_type(), 4);
    assert_eq!(seal.region().unwrap().as_str(), "330000");
    let known = seal.known_extensions().unwrap();
    assert_eq!(known.uscc.unwrap().as_str(), USCC);
    let reference = known.status.unwrap();
    assert_eq!(reference.uri, uri);
    assert_eq!(reference.idx, made["status"]["idx"].as_u64().unwrap());

    // The JSON record, on request.
    let reply = issuer
        .call(
            Method::GET,
            &format!("/v1/seals/{es_id}"),
            Some(&token),
            None,
            &[("accept", "application/json")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    let record = reply.json();
    assert_eq!(record["current_status"], "valid", "{record}");
    assert_eq!(record["type_name"], "合同专用章");
    assert_eq!(record["holder_certs"][0]["platform_held"], true, "{record}");
    assert!(
        record["maker_subject"].as_str().unwrap().contains("制章"),
        "{record}"
    );

    // Server-side sealing, DER and JSON; the verifier says valid.
    let document = b"%PDF-1.7\n% huren seal test document 4f1c\n%%EOF\n".to_vec();
    let reply = sign(&issuer, &token, &es_id, &document, false).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    assert_eq!(
        reply.headers.get("content-type").unwrap(),
        "application/octet-stream"
    );
    let signature = reply.body.clone();
    let report = verify(&issuer, &signature, &document).await;
    assert_valid(&report);
    assert_eq!(report.seal.as_ref().unwrap().es_id, es_id);
    assert!(report
        .signer_subject
        .as_ref()
        .unwrap()
        .contains(ORGANISATION));
    let mut altered = document.clone();
    altered[3] ^= 1;
    assert_reason(
        &verify(&issuer, &signature, &altered).await,
        SealOutcome::DocumentHashMismatch,
    );

    let reply = sign(&issuer, &token, &es_id, &document, true).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    let sealed = reply.json();
    let signature_json = b64::decode_std(sealed["signature"].as_str().unwrap(), 1 << 20).unwrap();
    assert_valid(&verify(&issuer, &signature_json, &document).await);
    let document_sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&document));
    assert_eq!(sealed["document_sha256"], document_sha256.as_str());
    assert_eq!(sealed["esID"], es_id.as_str());

    // A document over the 2 MiB JSON limit is fine here (the route has its own limit).
    let large = vec![0x25u8; 3 * 1024 * 1024];
    let reply = sign(&issuer, &token, &es_id, &large, false).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    assert_valid(&verify(&issuer, &reply.body, &large).await);

    // Suspend: the published list says so, sealing is refused; reinstate: valid again.
    let reply = status_change(&issuer, &token, &es_id, "suspend").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    assert_eq!(reply.json()["current_status"], "suspended");
    assert_reason(
        &verify(&issuer, &signature, &document).await,
        SealOutcome::SealSuspended,
    );
    let refused = sign(&issuer, &token, &es_id, &document, false).await;
    assert_problem(
        &refused,
        StatusCode::CONFLICT,
        "conflict",
        "sealing with a suspended seal",
    );
    let reply = status_change(&issuer, &token, &es_id, "reinstate").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    assert_valid(&verify(&issuer, &signature, &document).await);

    // Revoke: verification says seal_revoked, sealing and further changes are refused.
    let reply = status_change(&issuer, &token, &es_id, "revoke").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    let record = reply.json();
    assert_eq!(record["current_status"], "revoked", "{record}");
    assert_eq!(record["status_reason"], "印章遗失，登报声明作废");
    assert_reason(
        &verify(&issuer, &signature, &document).await,
        SealOutcome::SealRevoked,
    );
    let refused = sign(&issuer, &token, &es_id, &document, false).await;
    let problem = assert_problem(&refused, StatusCode::CONFLICT, "conflict", "revoked seal");
    assert!(
        problem["detail"].as_str().unwrap().contains("revoked"),
        "{problem}"
    );
    for change in ["revoke", "suspend", "reinstate"] {
        let reply = status_change(&issuer, &token, &es_id, change).await;
        assert_problem(&reply, StatusCode::CONFLICT, "conflict", change);
    }

    // A seal of an organisation that keeps its own key: made from its PEM, SVG picture; the
    // platform cannot apply it.
    let own = make_ok(&issuer, &token, &own_seal_body(&issuer)).await;
    let own_id = own["esID"].as_str().unwrap();
    let own_seal =
        Seal::from_der(&b64::decode_std(own["esl"].as_str().unwrap(), 1 << 22).unwrap()).unwrap();
    assert_eq!(own_seal.picture().kind.as_str(), "SVG");
    let refused = sign(&issuer, &token, own_id, &document, false).await;
    let problem = assert_problem(
        &refused,
        StatusCode::CONFLICT,
        "conflict",
        "no platform key",
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("holds no holder key"),
        "{problem}"
    );

    // The audit chain verifies and holds every seal event, without the document.
    let store = &issuer.state.issuer.store;
    assert!(huren_issuer::audit::verify_chain(store)
        .await
        .unwrap()
        .is_ok());
    let entries = huren_issuer::audit::page(store, 0, 1000).await.unwrap();
    let events: Vec<(String, String)> = entries
        .iter()
        .filter(|e| e.subject == es_id)
        .map(|e| {
            let detail: serde_json::Value = serde_json::from_str(&e.detail).unwrap();
            (
                e.action.clone(),
                detail["object"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("seal_make", "seal"),
        ("seal_sign", "seal_signature"),
        ("seal_sign", "seal_signature"),
        ("seal_sign", "seal_signature"),
        ("seal_suspend", "seal"),
        ("seal_reinstate", "seal"),
        ("seal_revoke", "seal"),
    ]
    .iter()
    .map(|(a, o)| ((*a).to_owned(), (*o).to_owned()))
    .collect();
    assert_eq!(events, expected);
    let signing = entries
        .iter()
        .find(|e| e.subject == es_id && e.detail.contains("seal_signature"))
        .unwrap();
    let detail: serde_json::Value = serde_json::from_str(&signing.detail).unwrap();
    assert_eq!(detail["document_sha256"], document_sha256.as_str());
    assert_eq!(detail["document_bytes"], document.len());
    let holder = HolderDir::open(&issuer.dir.path().join("platform-holder"))
        .unwrap()
        .with_plaintext_keys(huren_keys::store::PlaintextKeys::Allow);
    assert_eq!(
        detail["signer_serial"],
        holder.certificate().unwrap().serial_hex()
    );
    assert!(
        entries
            .iter()
            .all(|e| !e.detail.contains("seal test document")),
        "the audit log never holds the document"
    );

    // Metrics.
    let reply = issuer.call(Method::GET, "/metrics", None, None, &[]).await;
    let metrics = text(&reply);
    for line in [
        "huren_seals_made_total 2",
        "huren_documents_sealed_total 3",
        "huren_seals_revoked_total 1",
        "huren_seals_suspended_total 1",
        "huren_seals_reinstated_total 1",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    let reply = issuer
        .call(Method::GET, "/openapi.json", None, None, &[])
        .await;
    let openapi = reply.json();
    for path in [
        "/v1/seals",
        "/v1/seals/{esID}",
        "/v1/seals/{esID}/sign",
        "/v1/seals/{esID}/revoke",
        "/v1/crl",
    ] {
        assert!(openapi["paths"][path].is_object(), "{path} documented");
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Access control
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Make,
    Read,
    Sign,
    Suspend,
    Reinstate,
    Revoke,
}

/// In an order an allowed caller can carry out one after another.
const ENDPOINTS: [Endpoint; 6] = [
    Endpoint::Make,
    Endpoint::Read,
    Endpoint::Sign,
    Endpoint::Suspend,
    Endpoint::Reinstate,
    Endpoint::Revoke,
];

impl Endpoint {
    /// The scopes that open it.
    fn scopes(self) -> &'static [Scope] {
        match self {
            Endpoint::Make | Endpoint::Suspend | Endpoint::Reinstate | Endpoint::Revoke => {
                &[Scope::Seal]
            }
            Endpoint::Sign => &[Scope::SealSign],
            Endpoint::Read => &[Scope::Read, Scope::Seal, Scope::SealSign],
        }
    }

    async fn send(self, issuer: &TestIssuer, es_id: &str, token: Option<&str>) -> Reply {
        let reason = || json_body(&serde_json::json!({"reason": "整改期间暂停使用"}));
        let (method, path, body) = match self {
            Endpoint::Make => (
                Method::POST,
                "/v1/seals".to_owned(),
                json_body(&seal_body()),
            ),
            Endpoint::Read => (Method::GET, format!("/v1/seals/{es_id}"), None),
            Endpoint::Sign => (
                Method::POST,
                format!("/v1/seals/{es_id}/sign"),
                Some(("application/pdf", b"%PDF-1.7 access test".to_vec())),
            ),
            Endpoint::Suspend => (Method::POST, format!("/v1/seals/{es_id}/suspend"), reason()),
            Endpoint::Reinstate => (
                Method::POST,
                format!("/v1/seals/{es_id}/reinstate"),
                reason(),
            ),
            Endpoint::Revoke => (Method::POST, format!("/v1/seals/{es_id}/revoke"), reason()),
        };
        issuer.call(method, &path, token, body, &[]).await
    }

    fn allowed_status(self) -> StatusCode {
        match self {
            Endpoint::Make => StatusCode::CREATED,
            _ => StatusCode::OK,
        }
    }
}

async fn every_seal_endpoint_refuses_bad_tokens_before_anything_and_changes_nothing(db: Db) {
    let issuer = spawn(&db).await;
    let admin = issuer.token("330000", &ALL_SCOPES, &[]).await;
    let target = make_ok(&issuer, &admin, &seal_body()).await["esID"]
        .as_str()
        .unwrap()
        .to_owned();
    let other_region = issuer.token("320000", &ALL_SCOPES, &[]).await;
    let forged = forged_token();
    let before = snapshot(&issuer).await;
    for endpoint in ENDPOINTS {
        for es_id in [target.as_str(), &unknown_es_id()] {
            for (who, token) in [("no token", None), ("forged token", Some(forged.as_str()))] {
                let reply = endpoint.send(&issuer, es_id, token).await;
                assert_problem(
                    &reply,
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    &format!("{endpoint:?} with {who}"),
                );
                assert_eq!(reply.headers.get("www-authenticate").unwrap(), "Bearer");
            }
            let reply = endpoint.send(&issuer, es_id, Some(&other_region)).await;
            let problem = assert_problem(
                &reply,
                StatusCode::FORBIDDEN,
                "forbidden",
                &format!("{endpoint:?} for another region"),
            );
            assert!(
                problem["detail"].as_str().unwrap().contains("320000"),
                "{problem}"
            );
            let lacking: Vec<Scope> = ALL_SCOPES
                .into_iter()
                .filter(|s| !endpoint.scopes().contains(s))
                .collect();
            let token = issuer.token("330000", &lacking, &[]).await;
            let reply = endpoint.send(&issuer, es_id, Some(&token)).await;
            assert_problem(
                &reply,
                StatusCode::FORBIDDEN,
                "forbidden",
                &format!("{endpoint:?} without its scope"),
            );
        }
    }
    // Creating the tokens above is audited; nothing else may have changed.
    let after = snapshot(&issuer).await;
    let strip = |rows: Vec<String>| -> Vec<String> {
        rows.into_iter()
            .filter(|r| !r.starts_with("audit_log"))
            .collect()
    };
    assert_eq!(strip(before), strip(after));
    let audited: Vec<String> = huren_issuer::audit::page(&issuer.state.issuer.store, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        audited.iter().filter(|a| *a != "token_create").count(),
        1,
        "{audited:?}"
    );

    // The public CRL needs no token.
    served_crl(&issuer).await;

    // Each scope alone opens its endpoints (in an order that keeps every request valid).
    for endpoint in ENDPOINTS {
        for scope in endpoint.scopes() {
            let token = issuer.token("330000", &[*scope], &[]).await;
            let reply = endpoint.send(&issuer, &target, Some(&token)).await;
            assert_eq!(
                reply.status,
                endpoint.allowed_status(),
                "{endpoint:?} with {scope:?}: {}",
                text(&reply)
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Bad input
// ---------------------------------------------------------------------------------------------

fn with(change: impl FnOnce(&mut serde_json::Value)) -> serde_json::Value {
    let mut body = seal_body();
    change(&mut body);
    body
}

async fn bad_seal_requests_are_4xx_problems_naming_the_field_and_store_nothing(db: Db) {
    let issuer = spawn(&db).await;
    let token = issuer.token("330000", &ALL_SCOPES, &[]).await;
    let licence_signer_pem =
        std::fs::read_to_string(issuer.dir.path().join("zj/licence-signer.crt.pem")).unwrap();
    let big_png = {
        let mut data = png();
        data.resize(600 * 1024, 0);
        data
    };
    let cases: Vec<(&str, serde_json::Value, &str)> = vec![
        (
            "unknown field",
            with(|b| b["colour"] = "red".into()),
            "colour",
        ),
        (
            "missing name",
            with(|b| drop(b.as_object_mut().unwrap().remove("name"))),
            "name",
        ),
        ("empty name", with(|b| b["name"] = "".into()), "name"),
        (
            "bad USCC check character",
            with(|b| b["uscc"] = "91350100M000100Y44".into()),
            "uscc",
        ),
        (
            "unknown seal type",
            with(|b| b["seal_type"] = 9.into()),
            "seal_type",
        ),
        (
            "seal type not a number",
            with(|b| b["seal_type"] = "合同专用章".into()),
            "seal_type",
        ),
        (
            "image not base64",
            with(|b| b["image_b64"] = "not base64!".into()),
            "image_b64",
        ),
        (
            "empty image",
            with(|b| b["image_b64"] = "".into()),
            "image_b64",
        ),
        (
            "image over 512 KiB",
            with(|b| b["image_b64"] = b64::encode_std(&big_png).into()),
            "image_b64",
        ),
        (
            "GIF",
            with(|b| b["image_type"] = "gif".into()),
            "image_type",
        ),
        (
            "PNG said to be SVG",
            with(|b| b["image_type"] = "svg".into()),
            "image_b64",
        ),
        (
            "truncated PNG",
            with(|b| b["image_b64"] = b64::encode_std(&png()[..40]).into()),
            "image_b64",
        ),
        (
            "SVG with a script",
            with(|b| {
                b["image_type"] = "svg".into();
                b["image_b64"] = b64::encode_std(b"<svg><script>alert(1)</script></svg>").into();
            }),
            "image_b64",
        ),
        ("zero width", with(|b| b["width_mm"] = 0.into()), "width_mm"),
        (
            "negative height",
            with(|b| b["height_mm"] = (-4).into()),
            "height_mm",
        ),
        (
            "unreadable end",
            with(|b| b["valid_end"] = "next year".into()),
            "valid_end",
        ),
        (
            "end before start",
            with(|b| b["valid_end"] = "2026-10-01".into()),
            "valid_end",
        ),
        (
            "already expired",
            with(|b| {
                b["valid_start"] = "2020-01-01".into();
                b["valid_end"] = "2021-01-01".into();
            }),
            "valid_end",
        ),
        (
            "over ten years",
            with(|b| b["valid_end"] = "2040-01-01".into()),
            "valid_end",
        ),
        (
            "unreadable start",
            with(|b| b["valid_start"] = "soon".into()),
            "valid_start",
        ),
        (
            "no holder at all",
            with(|b| b["platform_holder"] = false.into()),
            "holder_certs_pem",
        ),
        (
            "holder PEM is garbage",
            with(|b| {
                b["holder_certs_pem"] = serde_json::json!([
                    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"
                ])
            }),
            "holder_certs_pem[0]",
        ),
        (
            "holder certificate without the seal-holder purpose",
            with(|b| b["holder_certs_pem"] = serde_json::json!([licence_signer_pem])),
            "holder_certs_pem[0]",
        ),
        (
            "holder certificate of another organisation",
            with(|b| b["holder_certs_pem"] = serde_json::json!([own_holder_pem(&issuer)])),
            "holder_certs_pem[0]",
        ),
        (
            "holder certificate naming no organisation code",
            with(|b| b["holder_certs_pem"] = serde_json::json!([unnamed_holder_pem(&issuer)])),
            "holder_certs_pem[0]",
        ),
        (
            "platform holds no key for this USCC",
            with(|b| b["uscc"] = own_uscc().into()),
            "platform_holder",
        ),
    ];
    let before = snapshot(&issuer).await;
    for (what, body, field) in &cases {
        let reply = make(&issuer, &token, body).await;
        assert_field(&reply, field, what);
    }
    let reply = issuer
        .call(
            Method::POST,
            "/v1/seals",
            Some(&token),
            Some(("application/json", b"{\"name\":".to_vec())),
            &[],
        )
        .await;
    assert_problem(
        &reply,
        StatusCode::BAD_REQUEST,
        "malformed_json",
        "truncated JSON",
    );
    let reply = issuer
        .call(
            Method::POST,
            "/v1/seals",
            Some(&token),
            Some(("text/plain", seal_body().to_string().into_bytes())),
            &[],
        )
        .await;
    assert_problem(
        &reply,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "text/plain",
    );
    let mut huge = seal_body();
    huge["image_b64"] = "A".repeat(3 * 1024 * 1024).into();
    let reply = make(&issuer, &token, &huge).await;
    assert_problem(
        &reply,
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        "3 MiB JSON",
    );
    let reply = issuer
        .call(
            Method::POST,
            "/v1/seals",
            Some(&token),
            json_body(&seal_body()),
            &[("idempotency-key", "")],
        )
        .await;
    assert_field(&reply, "Idempotency-Key", "empty Idempotency-Key");
    assert_eq!(
        before,
        snapshot(&issuer).await,
        "refused requests store nothing"
    );

    // Idempotency: the same request returns the same seal; another body is refused.
    let key = [("idempotency-key", "seal-request-1")];
    let first = issuer
        .call(
            Method::POST,
            "/v1/seals",
            Some(&token),
            json_body(&seal_body()),
            &key,
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", text(&first));
    let again = issuer
        .call(
            Method::POST,
            "/v1/seals",
            Some(&token),
            json_body(&seal_body()),
            &key,
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", text(&again));
    assert_eq!(again.json(), first.json());
    let other = with(|b| b["seal_type"] = 2.into());
    let reply = issuer
        .call(
            Method::POST,
            "/v1/seals",
            Some(&token),
            json_body(&other),
            &key,
        )
        .await;
    assert_problem(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
        "reused key",
    );
    assert_eq!(seal_count(&issuer).await, 1);
    let es_id = first.json()["esID"].as_str().unwrap().to_owned();

    // Sealing: media type, empty and oversized documents, query, unknown seals.
    let sign_path = format!("/v1/seals/{es_id}/sign");
    let reply = issuer
        .call(
            Method::POST,
            &sign_path,
            Some(&token),
            Some(("text/plain", b"hello".to_vec())),
            &[],
        )
        .await;
    assert_problem(
        &reply,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "text/plain document",
    );
    let reply = issuer
        .call(Method::POST, &sign_path, Some(&token), None, &[])
        .await;
    assert_problem(
        &reply,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "no content type",
    );
    let reply = sign(&issuer, &token, &es_id, b"", false).await;
    assert_field(&reply, "body", "empty document");
    let reply = sign(
        &issuer,
        &token,
        &es_id,
        &vec![0u8; 32 * 1024 * 1024 + 1],
        false,
    )
    .await;
    assert_problem(
        &reply,
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        "33 MiB document",
    );
    for (query, field) in [
        ("property_info=%E5%90%88%E5%90%8C.pdf", "property_info"),
        ("property_info=", "property_info"),
        ("colour=red", "query"),
    ] {
        let reply = issuer
            .call(
                Method::POST,
                &format!("{sign_path}?{query}"),
                Some(&token),
                Some(("application/octet-stream", b"doc".to_vec())),
                &[],
            )
            .await;
        assert_field(&reply, field, query);
    }
    let reply = issuer
        .call(
            Method::POST,
            &format!("{sign_path}?property_info=contract-2026-001.pdf"),
            Some(&token),
            Some(("application/octet-stream", b"doc".to_vec())),
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    assert_eq!(
        SealSignature::from_der(&reply.body)
            .unwrap()
            .property_info(),
        "contract-2026-001.pdf"
    );
    for path in [
        format!("/v1/seals/{}/sign", unknown_es_id()),
        "/v1/seals/not-an-esid/sign".to_owned(),
        "/v1/seals/320000000000001X/sign".to_owned(),
    ] {
        let reply = issuer
            .call(
                Method::POST,
                &path,
                Some(&token),
                Some(("application/pdf", b"doc".to_vec())),
                &[],
            )
            .await;
        assert_problem(&reply, StatusCode::NOT_FOUND, "not_found", &path);
    }

    // Status changes: a reason is required; the transition must make sense; unknown seals.
    for body in [
        serde_json::json!({"reason": ""}),
        serde_json::json!({"reason": "x".repeat(501)}),
        serde_json::json!({"reason": "a\u{7}b"}),
    ] {
        let reply = issuer
            .call(
                Method::POST,
                &format!("/v1/seals/{es_id}/revoke"),
                Some(&token),
                json_body(&body),
                &[],
            )
            .await;
        assert_field(&reply, "reason", &body.to_string());
    }
    let reply = issuer
        .call(
            Method::POST,
            &format!("/v1/seals/{es_id}/revoke"),
            Some(&token),
            json_body(&serde_json::json!({})),
            &[],
        )
        .await;
    assert_field(&reply, "reason", "missing reason");
    let reply = status_change(&issuer, &token, &es_id, "reinstate").await;
    assert_problem(
        &reply,
        StatusCode::CONFLICT,
        "conflict",
        "reinstate a valid seal",
    );
    let reply = status_change(&issuer, &token, &unknown_es_id(), "revoke").await;
    assert_problem(
        &reply,
        StatusCode::NOT_FOUND,
        "not_found",
        "revoke an unknown seal",
    );
    let reply = issuer
        .call(
            Method::GET,
            &format!("/v1/seals/{}", unknown_es_id()),
            Some(&token),
            None,
            &[],
        )
        .await;
    assert_problem(
        &reply,
        StatusCode::NOT_FOUND,
        "not_found",
        "read an unknown seal",
    );
    assert_eq!(seal_count(&issuer).await, 1);
}

// ---------------------------------------------------------------------------------------------
// 4. Status indices
// ---------------------------------------------------------------------------------------------

async fn positions(issuer: &TestIssuer, table: &str) -> Vec<(String, i64)> {
    sqlx::query(&format!("SELECT list_id, idx FROM {table}"))
        .fetch_all(issuer.state.issuer.store.pool())
        .await
        .unwrap()
        .iter()
        .map(|row| (row.try_get("list_id").unwrap(), row.try_get("idx").unwrap()))
        .collect()
}

async fn newest_list(issuer: &TestIssuer) -> String {
    sqlx::query("SELECT id FROM status_lists ORDER BY seq DESC LIMIT 1")
        .fetch_one(issuer.state.issuer.store.pool())
        .await
        .unwrap()
        .try_get("id")
        .unwrap()
}

async fn licences_and_seals_share_status_lists_but_never_an_index(db: Db) {
    let issuer = spawn(&db).await;
    let token = issuer.token("330000", &ALL_SCOPES, &[]).await;
    let licence = issuer
        .post("/v1/licences", &building_licence())
        .await
        .json();
    assert_eq!(licence["status"]["list_id"], "330000-0");

    // The first seal takes list 0 (closing it to licences); licences move on to list 1.
    let first = make_ok(&issuer, &token, &seal_body()).await;
    assert_eq!(first["status"]["list_id"], "330000-0", "{first}");
    assert_eq!(newest_list(&issuer).await, "330000-1");
    for _ in 0..5 {
        let seal = make_ok(&issuer, &token, &seal_body()).await;
        assert_eq!(
            seal["status"]["list_id"], "330000-0",
            "seals stay in the closed list"
        );
        let reply = issuer
            .post(
                "/v1/licences/batch",
                &serde_json::json!([building_licence(), building_licence()]),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        let licence = issuer
            .post("/v1/licences", &building_licence())
            .await
            .json();
        assert_eq!(
            licence["status"]["list_id"], "330000-1",
            "licences use the open list"
        );
    }
    // Concurrent writers (the audit-head lock serialises them, on both engines).
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..12 {
        let state = issuer.state.clone();
        let (path, body, bearer) = if i % 2 == 0 {
            ("/v1/seals", seal_body(), token.clone())
        } else {
            ("/v1/licences", building_licence(), issuer.admin.clone())
        };
        tasks.spawn(async move {
            use tower::ServiceExt;
            let request = axum::http::Request::builder()
                .method(Method::POST)
                .uri(path)
                .header("authorization", format!("Bearer {bearer}"))
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body.to_string()))
                .unwrap();
            let response = huren_issuer::http::router(state)
                .oneshot(request)
                .await
                .unwrap();
            (path, response.status())
        });
    }
    while let Some(done) = tasks.join_next().await {
        let (path, status) = done.unwrap();
        assert_eq!(status, StatusCode::CREATED, "concurrent POST {path}");
    }
    let licences = positions(&issuer, "licences").await;
    let seals = positions(&issuer, "seals").await;
    assert_eq!((licences.len(), seals.len()), (22, 12));
    let all: HashSet<&(String, i64)> = licences.iter().chain(&seals).collect();
    assert_eq!(
        all.len(),
        licences.len() + seals.len(),
        "no index is used twice"
    );
    let entries = positions(&issuer, "status_entries").await;
    assert_eq!(entries.len(), all.len(), "every position is recorded once");

    // One published list carries a licence's and a seal's revocation.
    let licence_id = licence_in(&issuer, "330000-0").await;
    let reply = issuer
        .post(
            &format!("/v1/licences/{licence_id}/revoke"),
            &serde_json::json!({"reason": "注销"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    let es_id = first["esID"].as_str().unwrap();
    let document = b"shared list document";
    let signature = sign(&issuer, &token, es_id, document, false).await.body;
    assert_valid(&verify(&issuer, &signature, document).await);
    assert_eq!(
        status_change(&issuer, &token, es_id, "revoke").await.status,
        StatusCode::OK
    );
    assert_reason(
        &verify(&issuer, &signature, document).await,
        SealOutcome::SealRevoked,
    );
    let record = issuer
        .call(
            Method::GET,
            &format!("/v1/licences/{licence_id}"),
            Some(&issuer.admin),
            None,
            &[],
        )
        .await
        .json();
    let report = issuer.verify(record["token"].as_str().unwrap()).await;
    assert!(
        report.reasons.iter().any(|r| r.to_string() == "revoked"),
        "{report:#?}"
    );

    // The database itself refuses a second holder for a position, or a moved position.
    let pool = issuer.state.issuer.store.pool();
    let (list, idx) = seals[1].clone();
    let insert_licence = sqlx::query(
        "INSERT INTO licences (jti, region, type_code, token, list_id, idx, status, issued_at, issued_by) \
         VALUES ('x', '330000', 't', 't', $1, $2, 0, 0, 'test')",
    )
    .bind(&list)
    .bind(idx)
    .execute(pool)
    .await;
    assert!(insert_licence.is_err(), "a licence on a seal's index");
    let (list, idx) = licences[0].clone();
    let insert_seal = sqlx::query(
        "INSERT INTO seals (es_id, region, name, uscc, seal_type, der, list_id, idx, status, valid_start, valid_end, created_at, created_by) \
         VALUES ('x', '330000', 'n', 'u', 1, $1, $2, $3, 0, 0, 1, 0, 'test')",
    )
    .bind(vec![0u8])
    .bind(&list)
    .bind(idx)
    .execute(pool)
    .await;
    assert!(insert_seal.is_err(), "a seal on a licence's index");
    let moved = sqlx::query("UPDATE seals SET idx = idx + 1 WHERE es_id = $1")
        .bind(es_id)
        .execute(pool)
        .await;
    assert!(moved.is_err(), "a seal keeps its position");
    let moved = sqlx::query("UPDATE licences SET idx = idx + 1 WHERE jti = $1")
        .bind(&licence_id)
        .execute(pool)
        .await;
    assert!(moved.is_err(), "a licence keeps its position");
    assert!(
        huren_issuer::audit::verify_chain(&issuer.state.issuer.store)
            .await
            .unwrap()
            .is_ok()
    );
}

async fn licence_in(issuer: &TestIssuer, list_id: &str) -> String {
    sqlx::query("SELECT jti FROM licences WHERE list_id = $1 LIMIT 1")
        .bind(list_id)
        .fetch_one(issuer.state.issuer.store.pool())
        .await
        .unwrap()
        .try_get("jti")
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// 5. The CRL
// ---------------------------------------------------------------------------------------------

async fn revoked_holder_certificate_is_in_the_served_crl_and_refused_for_sealing(db: Db) {
    let issuer = spawn(&db).await;
    let token = issuer.token("330000", &ALL_SCOPES, &[]).await;
    let es_id = make_ok(&issuer, &token, &seal_body()).await["esID"]
        .as_str()
        .unwrap()
        .to_owned();
    let document = b"signed before the holder certificate was revoked";
    let signature = sign(&issuer, &token, &es_id, document, false).await.body;
    assert_valid(&verify(&issuer, &signature, document).await);

    let reply = issuer.call(Method::GET, "/v1/crl", None, None, &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers.get("content-type").unwrap(),
        "application/pkix-crl"
    );
    let cache = reply
        .headers
        .get("cache-control")
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(cache, "public, max-age=3600");
    let etag = reply
        .headers
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let reply = issuer
        .call(
            Method::GET,
            "/v1/crl",
            None,
            None,
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_MODIFIED);

    // The root revokes the platform-held holder certificate (as `huren pki revoke-cert` does).
    let region = RegionDir::open(&issuer.dir.path().join("zj"))
        .unwrap()
        .with_plaintext_keys(huren_keys::store::PlaintextKeys::Allow);
    let holder = HolderDir::open(&issuer.dir.path().join("platform-holder"))
        .unwrap()
        .with_plaintext_keys(huren_keys::store::PlaintextKeys::Allow);
    let serial = holder.certificate().unwrap().serial().to_vec();
    revoke(
        &issuer.dir.path().join("root.crl"),
        &region.root_der().unwrap(),
        &region.key(&region.config.root, None).unwrap(),
        &CrlEntry {
            serial: serial.clone(),
            revoked_at: ISSUER_NOW.minus(60),
            reason: None,
        },
        ISSUER_NOW,
        ISSUER_NOW.plus(30 * 86_400),
    )
    .unwrap();
    let crl = served_crl(&issuer).await;
    assert_eq!(crl.revoked_at(&serial), Some(ISSUER_NOW.minus(60)));
    let reply = issuer
        .call(
            Method::GET,
            "/v1/crl",
            None,
            None,
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "a new CRL has a new ETag");

    let refused = sign(&issuer, &token, &es_id, document, false).await;
    let problem = assert_problem(&refused, StatusCode::CONFLICT, "conflict", "revoked holder");
    assert!(
        problem["detail"].as_str().unwrap().contains("revoked"),
        "{problem}"
    );
    // The test clock stands still, so the revocation (a minute before "now") predates the
    // signature made at "now": verifiers reading the served CRL now refuse it.
    let report = verify(&issuer, &signature, document).await;
    assert_reason(&report, SealOutcome::SignerRevokedBeforeSigning);

    // A broken replacement file is refused and the last good CRL stays in service.
    std::fs::write(issuer.dir.path().join("root.crl"), b"not a CRL").unwrap();
    let crl = served_crl(&issuer).await;
    assert_eq!(crl.revoked_at(&serial), Some(ISSUER_NOW.minus(60)));
}

// ---------------------------------------------------------------------------------------------
// 6. No seal maker
// ---------------------------------------------------------------------------------------------

async fn without_a_seal_maker_seal_making_is_503(db: Db) {
    let issuer = spawn_issuer_with(&db, |dir, region, file| {
        let passphrase = seal_setup(dir, region, file);
        // The region as imported without a seal maker.
        let path = region.path.join(layout::REGION_FILE);
        let mut config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        config.as_object_mut().unwrap().remove("seal_maker");
        std::fs::write(&path, config.to_string()).unwrap();
        passphrase
    })
    .await;
    let token = issuer.token("330000", &ALL_SCOPES, &[]).await;
    let reply = make(&issuer, &token, &seal_body()).await;
    let problem = assert_problem(
        &reply,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "no maker",
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("no seal maker"),
        "{problem}"
    );
    // Scope and region still come first.
    let reply = make(
        &issuer,
        &issuer.token("330000", &[Scope::Read], &[]).await,
        &seal_body(),
    )
    .await;
    assert_problem(
        &reply,
        StatusCode::FORBIDDEN,
        "forbidden",
        "no scope, no maker",
    );
    assert_eq!(seal_count(&issuer).await, 0);
    // Licences are unaffected.
    assert_eq!(
        issuer
            .post("/v1/licences", &building_licence())
            .await
            .status,
        StatusCode::CREATED
    );
}

// ---------------------------------------------------------------------------------------------
// 7. Start-up refusals (configuration, so SQLite is enough)
// ---------------------------------------------------------------------------------------------

async fn start_with(
    change: impl FnOnce(&Path, &RegionDir, &mut IssuerFile),
) -> Result<TestIssuer, StartError> {
    try_spawn_issuer_with(&Db::Sqlite, |dir, region, file| {
        let passphrase = seal_setup(dir, region, file);
        change(dir, region, file);
        passphrase
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_refuses_holder_keys_the_region_root_did_not_issue_for_sealing() {
    // A holder certificate of another province's root.
    let result = start_with(|dir, _, file| {
        let other = layout::init_region(
            &dir.join("js"),
            &InitRegion {
                code: "320000".parse().unwrap(),
                name: "江苏省".into(),
                alg: Algorithm::Es256,
                public_url: "https://issuer.js.example".into(),
                protection: Protection::Plaintext,
                now: ISSUER_NOW.minus(3600),
            },
        )
        .unwrap();
        let foreign = issue_holder(
            &other,
            None,
            &dir.join("foreign-holder"),
            &holder_request(ORGANISATION, USCC, Algorithm::Es256, Protection::Plaintext),
        )
        .unwrap();
        file.seal_holders.as_mut().unwrap().push(SealHolderFile {
            key: foreign.path.join(HOLDER_KEY_FILE),
            cert: foreign.path.join(HOLDER_CERT_FILE),
            alg: None,
        });
    })
    .await;
    match result {
        Err(StartError::Keys(KeyringError::HolderCertificate { setting, .. })) => {
            assert_eq!(setting, "seal_holders[1]")
        }
        other => panic!("foreign holder: {:?}", other.err()),
    }

    // A certificate of the region without the seal-holder purpose (the status signer's).
    let result = start_with(|dir, _, file| {
        file.seal_holders = Some(vec![SealHolderFile {
            key: dir.join("zj/status-signer.key.pem"),
            cert: dir.join("zj/status-signer.crt.pem"),
            alg: None,
        }]);
    })
    .await;
    match result {
        Err(StartError::Keys(KeyringError::HolderCertificate { source, .. })) => {
            assert!(source.to_string().contains("seal_holder"), "{source}")
        }
        other => panic!("status signer as holder: {:?}", other.err()),
    }

    // The right certificate with another holder's key of the same kind.
    let result = start_with(|dir, region, file| {
        let other = issue_holder(
            region,
            None,
            &dir.join("other-sm2-holder"),
            &holder_request(ORGANISATION, USCC, Algorithm::Sm2Sm3, Protection::Plaintext),
        )
        .unwrap();
        file.seal_holders.as_mut().unwrap()[0].key = other.path.join(HOLDER_KEY_FILE);
    })
    .await;
    assert!(
        matches!(
            result,
            Err(StartError::Keys(KeyringError::HolderKeyMismatch { .. }))
        ),
        "{:?}",
        result.err()
    );

    // An encrypted holder key without the passphrase.
    let result = try_spawn_issuer_with(&Db::Sqlite, |dir, region, file| {
        seal_setup(dir, region, file);
        None
    })
    .await;
    assert!(
        matches!(
            result,
            Err(StartError::Keys(KeyringError::HolderKeyFile { .. }))
        ),
        "{:?}",
        result.err()
    );

    // A CRL the region root did not sign.
    let result = start_with(|dir, _, file| {
        let other = layout::init_region(
            &dir.join("ah"),
            &InitRegion {
                code: "340000".parse().unwrap(),
                name: "安徽省".into(),
                alg: Algorithm::Es256,
                public_url: "https://issuer.ah.example".into(),
                protection: Protection::Plaintext,
                now: ISSUER_NOW.minus(3600),
            },
        )
        .unwrap();
        let crl = issue_crl(
            &other.root_der().unwrap(),
            &other.key(&other.config.root, None).unwrap(),
            &CrlContents {
                number: 1,
                this_update: ISSUER_NOW.minus(60),
                next_update: ISSUER_NOW.plus(86_400),
                entries: vec![],
            },
        )
        .unwrap();
        std::fs::write(dir.join("foreign.crl"), crl).unwrap();
        file.crl = Some(dir.join("foreign.crl"));
    })
    .await;
    assert!(
        matches!(&result, Err(StartError::File { path, .. }) if path.ends_with("foreign.crl")),
        "{:?}",
        result.err()
    );

    // And the set-up itself starts.
    let started = start_with(|_, _, _| {}).await.unwrap();
    assert_eq!(started.state.seals.keys().holders.len(), 1);
    let _ = Certificate::from_der(started.state.seals.keys().root.der()).unwrap();
}

// ---------------------------------------------------------------------------------------------
// 8. Seal-maker rollover
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seal_maker_rollover_makes_new_seals_with_the_new_key_and_old_seals_verify_while_listed() {
    use huren_crypto::time::FixedClock;
    use huren_keys::rollover::{Role, Rollover};
    use std::sync::Arc;

    let issuer = spawn(&Db::Sqlite).await;
    let token = issuer.token("330000", &ALL_SCOPES, &[]).await;
    let document = b"%PDF-1.7\n% sealed before the maker rollover\n%%EOF\n".to_vec();
    let old_seal = make_ok(&issuer, &token, &seal_body()).await;
    let old_es_id = old_seal["esID"].as_str().unwrap().to_owned();
    let reply = sign(&issuer, &token, &old_es_id, &document, false).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    let old_signature = reply.body;
    let old_maker = SealSignature::from_der(&old_signature)
        .unwrap()
        .seal()
        .maker_cert()
        .to_vec();

    let region = RegionDir::open(&issuer.dir.path().join("zj"))
        .unwrap()
        .with_plaintext_keys(huren_keys::store::PlaintextKeys::Allow);
    let done = region
        .rollover(&Rollover {
            role: Role::SealMaker,
            passphrase: None,
            protection: Protection::Plaintext,
            now: ISSUER_NOW.minus(60),
            listed_until: None,
            compromised: false,
        })
        .unwrap();
    let retired = done.retired.unwrap();
    let new_maker = done.region.certificate(&done.files).unwrap();

    // Restarted with a trust list naming both makers, the issuer makes seals with the new one.
    let (trust_token, trust) =
        trust_list_at(issuer.dir.path(), &done.region, 2, ISSUER_NOW.minus(30));
    assert_eq!(trust.regions()[0].seal_makers.len(), 2);
    std::fs::write(&issuer.config.trust_list, &trust_token).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let passphrase = Passphrase::new(PASSPHRASE.into()).unwrap();
    let app = huren_issuer::App::build(
        &issuer.config,
        listener,
        Some(&passphrase),
        Arc::new(FixedClock(ISSUER_NOW)),
    )
    .await
    .unwrap();
    let rolled = TestIssuer {
        state: app.state().clone(),
        trust: Arc::new(trust),
        ..issuer
    };
    let new_seal = make_ok(&rolled, &token, &seal_body()).await;
    let new_es_id = new_seal["esID"].as_str().unwrap().to_owned();
    let reply = sign(&rolled, &token, &new_es_id, &document, false).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    let new_signature = reply.body;
    assert_eq!(
        SealSignature::from_der(&new_signature)
            .unwrap()
            .seal()
            .maker_cert(),
        new_maker.as_slice(),
        "new seals name the new maker"
    );
    assert_valid(&verify(&rolled, &new_signature, &document).await);
    // A seal the retired maker made still verifies while it is listed.
    assert_valid(&verify(&rolled, &old_signature, &document).await);

    // It stays listed as long as a seal it made may be valid, and not a second longer.
    let old_valid_end = SealSignature::from_der(&old_signature)
        .unwrap()
        .seal()
        .valid_end()
        .at();
    assert!(
        retired.listed_until > old_valid_end,
        "seals outlive their maker's certificate"
    );
    assert_eq!(
        retired.listed_until,
        ISSUER_NOW.minus(60).plus(MAX_SEAL_VALIDITY)
    );
    let (_, last) = trust_list_at(
        rolled.dir.path(),
        &done.region,
        3,
        retired.listed_until.minus(1),
    );
    let makers = |list: &huren_crypto::trust_list::TrustList| -> Vec<Vec<u8>> {
        list.regions()[0]
            .seal_makers
            .iter()
            .map(|c| c.der().to_vec())
            .collect()
    };
    assert_eq!(makers(&last), [new_maker.clone(), old_maker.clone()]);
    let (_, after) = trust_list_at(rolled.dir.path(), &done.region, 4, retired.listed_until);
    assert_eq!(makers(&after), [new_maker]);
    let crl = served_crl(&rolled).await;
    let report = verify_seal_signature(&SealVerifyInput {
        signature: &old_signature,
        document: Document::Bytes(&document),
        trust: SealTrust::TrustList(&after),
        seal_status: None,
        crls: std::slice::from_ref(&crl),
        at: ISSUER_NOW,
        options: SealVerifyOptions::default(),
    });
    assert!(
        report.reasons.contains(&SealOutcome::MakerNotTrusted),
        "{report:#?}"
    );
}

/// The issuer's cap on a seal's validity (`validEnd - validStart`), which the rollover honours.
const MAX_SEAL_VALIDITY: i64 = huren_issuer::seals::MAX_SEAL_VALIDITY_SECONDS;

// ---------------------------------------------------------------------------------------------
// Several regions on one database
// ---------------------------------------------------------------------------------------------

/// Jiangsu's and Zhejiang's issuers on one database (SPEC §7): a Jiangsu seal is not there for
/// Zhejiang's issuer, whatever its token — reading, revoking, suspending, reinstating and
/// sealing with it all answer 404 — and no row changes.
async fn another_regions_seals_on_a_shared_database_are_not_found_and_never_change(db: Db) {
    let jiangsu = common::issuer::spawn_region_issuer(&db, "320000", None, seal_setup).await;
    let zhejiang =
        common::issuer::spawn_region_issuer(&db, "330000", Some(&jiangsu.database_url), seal_setup)
            .await;
    let theirs = jiangsu.token("320000", &ALL_SCOPES, &[]).await;
    let made = make_ok(&jiangsu, &theirs, &seal_body()).await;
    let es_id = made["esID"].as_str().unwrap().to_owned();
    let suspended = make_ok(&jiangsu, &theirs, &seal_body()).await;
    let suspended = suspended["esID"].as_str().unwrap().to_owned();
    let reply = status_change(&jiangsu, &theirs, &suspended, "suspend").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    let token = zhejiang.token("330000", &ALL_SCOPES, &[]).await;
    let before = snapshot(&zhejiang).await;

    for id in [&es_id, &suspended] {
        let reply = zhejiang
            .call(
                Method::GET,
                &format!("/v1/seals/{id}"),
                Some(&token),
                None,
                &[],
            )
            .await;
        assert_problem(
            &reply,
            StatusCode::NOT_FOUND,
            "not_found",
            "reading a Jiangsu seal",
        );
        let reply = sign(&zhejiang, &token, id, b"%PDF-1.7 contract", true).await;
        assert_problem(
            &reply,
            StatusCode::NOT_FOUND,
            "not_found",
            "sealing with a Jiangsu seal",
        );
    }
    for (id, change) in [
        (&es_id, "revoke"),
        (&es_id, "suspend"),
        (&suspended, "reinstate"),
    ] {
        let reply = status_change(&zhejiang, &token, id, change).await;
        assert_problem(
            &reply,
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("{change} of a Jiangsu seal"),
        );
    }
    assert_eq!(snapshot(&zhejiang).await, before, "nothing changed");
    assert!(
        huren_issuer::audit::verify_chain(&jiangsu.state.issuer.store)
            .await
            .unwrap()
            .is_ok()
    );
}
