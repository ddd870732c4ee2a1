//! The issuer service end to end, on SQLite and on PostgreSQL (the same scenarios): issue →
//! verify with the crypto library → revoke / suspend / reinstate; idempotent retries;
//! superseding; batches; the audit chain; status-list publication; QR images.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

#[macro_use]
mod common;

use axum::http::{Method, StatusCode};
use common::issuer::{building_licence, spawn_issuer, trust_list_at, Db, TestIssuer};
use huren_crypto::verify::{Outcome, Verdict};

on_both_databases!(
    issued_licence_verifies_then_revocation_and_suspension_show,
    idempotent_retry_returns_the_same_licence,
    superseding_licence_revokes_the_old_one,
    batch_issues_each_item_on_its_own,
    audit_chain_records_everything_and_detects_tampering,
    audit_verify_fails_when_the_chain_is_truncated_and_its_head_rewritten,
    audit_verify_fails_when_a_middle_entry_is_rewritten_with_every_later_hash,
    region_migration_keeps_a_single_region_chain_and_its_rows_in_that_region,
    region_migration_keeps_a_mixed_chain_verifiable_as_legacy,
    status_list_is_cached_with_etag,
    concurrent_issuance_never_reuses_an_index,
);

async fn issue(issuer: &TestIssuer) -> serde_json::Value {
    let reply = issuer.post("/v1/licences", &building_licence()).await;
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()
}

async fn change(issuer: &TestIssuer, jti: &str, action: &str, reason: &str) -> StatusCode {
    issuer
        .post(
            &format!("/v1/licences/{jti}/{action}"),
            &serde_json::json!({"reason": reason}),
        )
        .await
        .status
}

/// What a refused write must leave as it was: the stored record, whole, and what the published
/// status list says of the licence (read through a verification against the list as served).
async fn standing(
    issuer: &TestIssuer,
    licence: &serde_json::Value,
) -> (serde_json::Value, Vec<Outcome>) {
    let jti = licence["id"].as_str().unwrap();
    let reply = issuer.get(&format!("/v1/licences/{jti}")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let reasons = issuer
        .verify(licence["token"].as_str().unwrap())
        .await
        .reasons;
    (reply.json(), reasons)
}

async fn issued_licence_verifies_then_revocation_and_suspension_show(db: Db) {
    let issuer = spawn_issuer(&db).await;
    let licence = issue(&issuer).await;
    let (jti, qr) = (
        licence["id"].as_str().unwrap(),
        licence["qr_text"].as_str().unwrap(),
    );
    assert!(qr.starts_with("HR1:"));
    let report = issuer.verify(qr).await;
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    assert_eq!(
        report.licence().unwrap().type_name,
        "建筑业企业资质证书",
        "type name filled from the catalogue"
    );
    assert_eq!(
        report.licence().unwrap().valid_until.as_deref(),
        Some("2031-11-22"),
        "default validity of 5 years from 2026-11-23"
    );

    assert_eq!(
        change(&issuer, jti, "revoke", "营业执照被吊销").await,
        StatusCode::OK
    );
    let report = issuer.verify(qr).await;
    assert_eq!(report.reasons, [Outcome::Revoked], "{report:#?}");
    let revoked = standing(&issuer, &licence).await;
    assert_eq!(
        (revoked.0["current_status"].as_str(), &revoked.1),
        (Some("revoked"), &vec![Outcome::Revoked])
    );
    assert_eq!(
        change(&issuer, jti, "reinstate", "mistake").await,
        StatusCode::CONFLICT,
        "revocation is final"
    );
    // Refused means untouched: the record and the published list entry are as they were.
    assert_eq!(standing(&issuer, &licence).await, revoked);

    let other = issue(&issuer).await;
    let (jti, token) = (
        other["id"].as_str().unwrap(),
        other["token"].as_str().unwrap(),
    );
    assert_eq!(
        change(&issuer, jti, "suspend", "整改期间暂扣").await,
        StatusCode::OK
    );
    assert_eq!(issuer.verify(token).await.reasons, [Outcome::Suspended]);
    let suspended = standing(&issuer, &other).await;
    assert_eq!(
        change(&issuer, jti, "suspend", "again").await,
        StatusCode::CONFLICT
    );
    assert_eq!(standing(&issuer, &other).await, suspended);
    assert_eq!(
        change(&issuer, jti, "reinstate", "整改完成").await,
        StatusCode::OK
    );
    assert_eq!(issuer.verify(token).await.verdict, Verdict::Valid);

    let record = issuer.get(&format!("/v1/licences/{jti}")).await.json();
    assert_eq!(record["current_status"], "valid");
    assert_eq!(record["status_reason"], "整改完成");
}

async fn idempotent_retry_returns_the_same_licence(db: Db) {
    let issuer = spawn_issuer(&db).await;
    let body = building_licence().to_string().into_bytes();
    let send = |body: Vec<u8>| {
        let issuer = &issuer;
        async move {
            issuer
                .call(
                    Method::POST,
                    "/v1/licences",
                    Some(&issuer.admin),
                    Some(("application/json", body)),
                    &[("idempotency-key", "order-4711")],
                )
                .await
        }
    };
    let first = send(body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let second = send(body).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(first.json()["id"], second.json()["id"]);
    assert_eq!(first.json()["token"], second.json()["token"]);
    assert_eq!(
        issuer.licence_count().await,
        1,
        "a retry never issues a second licence"
    );

    let mut different = building_licence();
    different["number"] = "D999".into();
    let reply = send(different.to_string().into_bytes()).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.json()["code"], "idempotency_key_reused");
    assert_eq!(issuer.licence_count().await, 1);
}

async fn superseding_licence_revokes_the_old_one(db: Db) {
    let issuer = spawn_issuer(&db).await;
    let old = issue(&issuer).await;
    let old_id = old["id"].as_str().unwrap();
    let mut renewal = building_licence();
    renewal["supersedes"] = old_id.into();
    renewal["face"]["qualification"] = "建筑工程施工总承包特级".into();
    let reply = issuer.post("/v1/licences", &renewal).await;
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let new = reply.json();
    let new_id = new["id"].as_str().unwrap();

    let old_record = issuer.get(&format!("/v1/licences/{old_id}")).await.json();
    assert_eq!(old_record["current_status"], "revoked");
    assert_eq!(old_record["status_reason"], "superseded");
    assert_eq!(old_record["superseded_by"], new_id);
    let new_record = issuer.get(&format!("/v1/licences/{new_id}")).await.json();
    assert_eq!(new_record["supersedes"], old_id);
    assert_eq!(
        issuer.verify(old["token"].as_str().unwrap()).await.reasons,
        [Outcome::Revoked]
    );
    assert_eq!(
        issuer.verify(new["token"].as_str().unwrap()).await.verdict,
        Verdict::Valid
    );

    // A revoked licence cannot be superseded again, and the refusal changes nothing: neither
    // licence's record or list entry, and no third licence is stored.
    let before = (standing(&issuer, &old).await, standing(&issuer, &new).await);
    let reply = issuer.post("/v1/licences", &renewal).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(
        (standing(&issuer, &old).await, standing(&issuer, &new).await,),
        before
    );
    assert_eq!(issuer.licence_count().await, 2);
}

async fn batch_issues_each_item_on_its_own(db: Db) {
    let issuer = spawn_issuer(&db).await;
    let mut bad = building_licence();
    bad["holder"]["id"] = "91350100M000100Y44".into();
    let batch = serde_json::json!([building_licence(), bad, building_licence()]);
    let reply = issuer.post("/v1/licences/batch", &batch).await;
    assert_eq!(reply.status, StatusCode::OK);
    let json = reply.json();
    assert_eq!(json["issued"], 2);
    assert_eq!(json["failed"], 1);
    assert_eq!(json["items"][1]["error"]["status"], 422);
    assert_eq!(json["items"][1]["error"]["errors"][0]["field"], "holder.id");
    assert_eq!(
        issuer.licence_count().await,
        2,
        "the failed item left nothing behind"
    );
    for i in [0, 2] {
        let token = json["items"][i]["licence"]["token"].as_str().unwrap();
        assert_eq!(issuer.verify(token).await.verdict, Verdict::Valid);
    }
    // NDJSON is accepted too: answered 200 with both issued, and both stored.
    let ndjson = format!("{}\n{}\n", building_licence(), building_licence());
    let reply = issuer
        .call(
            Method::POST,
            "/v1/licences/batch",
            Some(&issuer.admin),
            Some(("application/x-ndjson", ndjson.into_bytes())),
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let json = reply.json();
    assert_eq!((&json["issued"], &json["failed"]), (&2.into(), &0.into()));
    assert_eq!(issuer.licence_count().await, 4);
    for item in json["items"].as_array().unwrap() {
        let token = item["licence"]["token"].as_str().unwrap();
        assert_eq!(issuer.verify(token).await.verdict, Verdict::Valid);
    }
}

/// The actions on one page of `GET /v1/audit`, and its `next_after`.
async fn audit_page(issuer: &TestIssuer, path: &str) -> (Vec<String>, serde_json::Value) {
    let page = issuer
        .call(Method::GET, path, Some(&issuer.admin), None, &[])
        .await
        .json();
    let actions = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    (actions, page["next_after"].clone())
}

async fn audit_chain_records_everything_and_detects_tampering(db: Db) {
    let issuer = spawn_issuer(&db).await;
    let a = issue(&issuer).await;
    let b = issue(&issuer).await;
    change(&issuer, a["id"].as_str().unwrap(), "suspend", "check").await;
    change(&issuer, a["id"].as_str().unwrap(), "reinstate", "ok").await;
    change(&issuer, b["id"].as_str().unwrap(), "revoke", "fraud").await;
    let store = &issuer.state.issuer.store;
    // token_create (admin) + 2 issue + suspend + reinstate + revoke
    assert_eq!(
        huren_issuer::audit::verify_chain(store).await.unwrap(),
        Ok(6)
    );

    let (actions, next_after) = audit_page(&issuer, "/v1/audit?after=0&limit=3").await;
    assert_eq!(actions, ["token_create", "issue", "issue"]);
    assert_eq!(next_after, 3);
    let (actions, _) = audit_page(&issuer, "/v1/audit?after=3").await;
    assert_eq!(actions, ["suspend", "reinstate", "revoke"]);

    let pool = store.pool();
    // Edited entry.
    sqlx::query("UPDATE audit_log SET detail = '{\"reason\":\"nothing to see\"}' WHERE seq = 6")
        .execute(pool)
        .await
        .unwrap();
    assert!(matches!(
        huren_issuer::audit::verify_chain(store).await.unwrap(),
        Err(huren_issuer::audit::ChainError::Modified { seq: 6 })
    ));
    // Deleted entry.
    sqlx::query("DELETE FROM audit_log WHERE seq = 6")
        .execute(pool)
        .await
        .unwrap();
    assert!(matches!(
        huren_issuer::audit::verify_chain(store).await.unwrap(),
        Err(huren_issuer::audit::ChainError::Head { .. })
    ));
    sqlx::query("DELETE FROM audit_log WHERE seq = 2")
        .execute(pool)
        .await
        .unwrap();
    assert!(matches!(
        huren_issuer::audit::verify_chain(store).await.unwrap(),
        Err(huren_issuer::audit::ChainError::Sequence { .. })
    ));
}

async fn status_list_is_cached_with_etag(db: Db) {
    let issuer = spawn_issuer(&db).await;
    let licence = issue(&issuer).await;
    let list_id = licence["status"]["list_id"].as_str().unwrap();
    let path = format!("/v1/status/{list_id}");
    let first = issuer.call(Method::GET, &path, None, None, &[]).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.headers["cache-control"], "public, max-age=300");
    let etag = first.headers["etag"].to_str().unwrap().to_owned();
    let again = issuer
        .call(Method::GET, &path, None, None, &[("if-none-match", &etag)])
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    change(&issuer, licence["id"].as_str().unwrap(), "revoke", "x").await;
    let changed = issuer
        .call(Method::GET, &path, None, None, &[("if-none-match", &etag)])
        .await;
    assert_eq!(
        changed.status,
        StatusCode::OK,
        "a status change produces a new list"
    );
    assert_ne!(changed.headers["etag"].to_str().unwrap(), etag);
    assert_eq!(
        issuer
            .call(Method::GET, "/v1/status/999999-0", None, None, &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn concurrent_issuance_never_reuses_an_index(db: Db) {
    let issuer = std::sync::Arc::new(spawn_issuer(&db).await);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let issuer = issuer.clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for _ in 0..10 {
                ids.push(issue(&issuer).await["status"]["idx"].as_i64().unwrap());
            }
            ids
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let unique: std::collections::HashSet<_> = all.iter().collect();
    assert_eq!(unique.len(), 80, "every licence has its own index");
    assert_eq!(
        huren_issuer::audit::verify_chain(&issuer.state.issuer.store)
            .await
            .unwrap(),
        Ok(81)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qr_png_decodes_to_the_qr_text_which_verifies() {
    // An independent decoder: Debian's zbar-tools (scripts/test installs it).
    if std::process::Command::new("zbarimg")
        .arg("--version")
        .output()
        .is_err()
    {
        skips::skipped("zbarimg not found (apt-get install zbar-tools)");
        return;
    }
    let issuer = spawn_issuer(&Db::Sqlite).await;
    let licence = issue(&issuer).await;
    let jti = licence["id"].as_str().unwrap();
    let reply = issuer.get(&format!("/v1/licences/{jti}/qr.png")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["content-type"], "image/png");
    let path = issuer.dir.path().join("qr.png");
    std::fs::write(&path, &reply.body).unwrap();
    let output = std::process::Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let decoded = String::from_utf8(output.stdout).unwrap();
    assert_eq!(decoded.trim_end(), licence["qr_text"].as_str().unwrap());
    assert_eq!(
        issuer.verify(decoded.trim_end()).await.verdict,
        Verdict::Valid
    );

    let svg = issuer.get(&format!("/v1/licences/{jti}/qr.svg")).await;
    assert!(String::from_utf8(svg.body).unwrap().starts_with("<svg"));
    let html = issuer.get(&format!("/v1/licences/{jti}/view")).await;
    let html = String::from_utf8(html.body).unwrap();
    assert!(html.contains("杭州示例建设有限公司") && !html.contains("91350100M000100Y43"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_metrics_and_openapi_are_public() {
    let issuer = spawn_issuer(&Db::Sqlite).await;
    issue(&issuer).await;
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/v1/trust-list",
    ] {
        let reply = issuer.call(Method::GET, path, None, None, &[]).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
    }
    let metrics = String::from_utf8(
        issuer
            .call(Method::GET, "/metrics", None, None, &[])
            .await
            .body,
    )
    .unwrap();
    assert!(
        metrics.contains("huren_licences_issued_total 1"),
        "{metrics}"
    );
    // One request-duration series per route template and status (not per licence path).
    assert!(
        metrics.contains(
            r#"huren_http_request_duration_seconds_count{route="/v1/licences",status="201"} 1"#
        ),
        "{metrics}"
    );
    let openapi = issuer
        .call(Method::GET, "/openapi.json", None, None, &[])
        .await
        .json();
    assert!(openapi["paths"]["/v1/licences"]["post"].is_object());
}

/// The status changes share one route per resource: its last segment must name a change, and
/// anything else is no endpoint — before the token or the body is looked at.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_revoke_suspend_and_reinstate_are_status_change_endpoints() {
    let issuer = spawn_issuer(&Db::Sqlite).await;
    let licence = issue(&issuer).await;
    let jti = licence["id"].as_str().unwrap();
    for path in [
        format!("/v1/licences/{jti}/delete"),
        format!("/v1/licences/{jti}/Revoke"),
        "/v1/seals/330000ABCDEFGHIJ/approve".to_owned(),
    ] {
        let reply = issuer.call(Method::POST, &path, None, None, &[]).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.json()["code"], "not_found", "{path}");
    }
    // The three words reach the handler: without a token, 401.
    for change in ["revoke", "suspend", "reinstate"] {
        let path = format!("/v1/licences/{jti}/{change}");
        let reply = issuer.call(Method::POST, &path, None, None, &[]).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    assert_eq!(
        change(&issuer, jti, "suspend", "核查").await,
        StatusCode::OK
    );
    assert_eq!(
        change(&issuer, jti, "reinstate", "核查完毕").await,
        StatusCode::OK
    );
    let reinstated = standing(&issuer, &licence).await;
    assert_eq!(
        (reinstated.0["current_status"].as_str(), &reinstated.1),
        (Some("valid"), &vec![])
    );
    assert_eq!(
        change(&issuer, jti, "reinstate", "again").await,
        StatusCode::CONFLICT
    );
    assert_eq!(standing(&issuer, &licence).await, reinstated);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_a_request_id_the_client_can_quote() {
    let issuer = spawn_issuer(&Db::Sqlite).await;
    // The client's own id is kept and echoed, on success and on refusal alike.
    for (path, status) in [
        ("/healthz", StatusCode::OK),
        ("/v1/licences/x", StatusCode::UNAUTHORIZED),
    ] {
        let reply = issuer
            .call(
                Method::GET,
                path,
                None,
                None,
                &[("x-request-id", "window-7-0042")],
            )
            .await;
        assert_eq!(reply.status, status, "{path}");
        assert_eq!(reply.headers["x-request-id"], "window-7-0042", "{path}");
    }
    // Without one, each answer gets a fresh UUID.
    let ids: Vec<String> = fresh_request_ids(&issuer).await;
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    for id in &ids {
        assert_eq!(id.len(), 36, "{id}");
        assert_eq!(id.matches('-').count(), 4, "{id}");
    }
}

async fn fresh_request_ids(issuer: &TestIssuer) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..2 {
        let reply = issuer.call(Method::GET, "/healthz", None, None, &[]).await;
        ids.push(reply.headers["x-request-id"].to_str().unwrap().to_owned());
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signer_rollover_keeps_old_licences_valid_and_unlisted_keys_are_refused() {
    use huren_crypto::cert::Certificate;
    use huren_crypto::time::FixedClock;
    use huren_crypto::trust_list::TrustList;
    use huren_keys::layout::{OperatorDir, RegionDir};
    use huren_keys::store::Protection;
    use std::sync::Arc;

    let issuer = spawn_issuer(&Db::Sqlite).await;
    let old = issue(&issuer).await;
    let region = RegionDir::open(&issuer.dir.path().join("zj"))
        .unwrap()
        .with_plaintext_keys(huren_keys::store::PlaintextKeys::Allow);
    let now = common::issuer::ISSUER_NOW;
    let region = region
        .rollover_signer(None, Protection::Plaintext, now.minus(60))
        .unwrap();
    assert_eq!(region.config.signers.len(), 2);

    // The old trust list does not name the new signer: the issuer refuses to start.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let refused =
        huren_issuer::App::build(&issuer.config, listener, None, Arc::new(FixedClock(now))).await;
    let message = refused
        .expect_err("an untrusted active key must stop the issuer")
        .to_string();
    assert!(message.contains("not a trusted signer"), "{message}");

    // A new trust list naming both signers.
    let operator = OperatorDir::open(&issuer.dir.path().join("op"))
        .unwrap()
        .with_plaintext_keys(huren_keys::store::PlaintextKeys::Allow);
    let token = common::pki::trust_list(&operator, std::slice::from_ref(&region), 2, now.minus(30));
    std::fs::write(&issuer.config.trust_list, &token).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = huren_issuer::App::build(&issuer.config, listener, None, Arc::new(FixedClock(now)))
        .await
        .unwrap();
    let rolled = common::issuer::TestIssuer {
        state: app.state().clone(),
        trust: Arc::new(
            TrustList::verify(
                &token,
                &[Certificate::from_der(&operator.certificate().unwrap()).unwrap()],
            )
            .unwrap(),
        ),
        ..issuer
    };
    let new = issue(&rolled).await;
    let header = |t: &serde_json::Value| {
        t["token"]
            .as_str()
            .unwrap()
            .split('.')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_ne!(
        header(&old),
        header(&new),
        "new licences name the new signer"
    );
    assert_eq!(
        rolled.verify(old["token"].as_str().unwrap()).await.verdict,
        Verdict::Valid
    );
    assert_eq!(
        rolled.verify(new["token"].as_str().unwrap()).await.verdict,
        Verdict::Valid
    );
}

/// The status-list token the issuer serves at `path`.
async fn served(issuer: &TestIssuer, path: &str) -> String {
    let reply = issuer.call(Method::GET, path, None, None, &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    String::from_utf8(reply.body).unwrap()
}

/// The status-signer certificate in a status-list token's `x5c`.
fn status_signer_of(token: &str) -> huren_crypto::cert::Certificate {
    use huren_crypto::b64;
    let header = token.split('.').next().unwrap();
    let header: serde_json::Value =
        serde_json::from_slice(&b64::decode_url(header, 1 << 16).unwrap()).unwrap();
    let der = b64::decode_std(header["x5c"][0].as_str().unwrap(), 1 << 16).unwrap();
    huren_crypto::cert::Certificate::from_der(&der).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_signer_rollover_resigns_lists_with_the_new_key_and_lists_the_old_until_its_lists_expired(
) {
    use huren_crypto::status_token::VerifiedStatusList;
    use huren_crypto::time::FixedClock;
    use huren_keys::layout::RegionDir;
    use huren_keys::rollover::{Role, Rollover};
    use huren_keys::store::Protection;
    use sqlx::Row;
    use std::sync::Arc;

    let issuer = spawn_issuer(&Db::Sqlite).await;
    let now = common::issuer::ISSUER_NOW;
    let licence = issue(&issuer).await;
    let list_id: String = sqlx::query("SELECT list_id FROM licences")
        .fetch_one(issuer.state.issuer.store.pool())
        .await
        .unwrap()
        .try_get("list_id")
        .unwrap();
    let path = format!("/v1/status/{list_id}");
    let uri = format!("https://issuer.zj.example{path}");
    let old_list = served(&issuer, &path).await;
    let old_signer = status_signer_of(&old_list);

    let region = RegionDir::open(&issuer.dir.path().join("zj"))
        .unwrap()
        .with_plaintext_keys(huren_keys::store::PlaintextKeys::Allow);
    let done = region
        .rollover(&Rollover {
            role: Role::StatusSigner,
            passphrase: None,
            protection: Protection::Plaintext,
            now: now.minus(60),
            listed_until: None,
            compromised: false,
        })
        .unwrap();
    let retired = done.retired.unwrap();

    // Until the trust list names the new signer, the issuer refuses to start with it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let refused =
        huren_issuer::App::build(&issuer.config, listener, None, Arc::new(FixedClock(now))).await;
    let message = refused.expect_err("an unlisted status signer").to_string();
    assert!(message.contains("status signer"), "{message}");

    // The new trust list names both; the restarted issuer signs with the new key.
    let (token, trust) = trust_list_at(issuer.dir.path(), &done.region, 2, now.minus(30));
    let listed = &trust.regions()[0].status_signers;
    assert_eq!(listed.len(), 2);
    assert!(listed.contains(&old_signer));
    std::fs::write(&issuer.config.trust_list, &token).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = huren_issuer::App::build(&issuer.config, listener, None, Arc::new(FixedClock(now)))
        .await
        .unwrap();
    let rolled = TestIssuer {
        state: app.state().clone(),
        trust: Arc::new(trust),
        ..issuer
    };
    let new_list = served(&rolled, &path).await;
    let new_signer = status_signer_of(&new_list);
    assert_ne!(
        new_signer, old_signer,
        "lists are re-signed with the new key"
    );
    assert_eq!(
        new_signer.der(),
        done.region.status_signer(None).unwrap().1.as_slice()
    );
    VerifiedStatusList::verify(&new_list, &uri, &rolled.trust).unwrap();
    // A verifier may still hold a list the old key signed: it verifies while listed.
    VerifiedStatusList::verify(&old_list, &uri, &rolled.trust).unwrap();
    let report = rolled.verify(licence["token"].as_str().unwrap()).await;
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");

    // Once every list the old key signed has expired, trust lists leave it out.
    let (_, last) = trust_list_at(
        rolled.dir.path(),
        &done.region,
        3,
        retired.listed_until.minus(1),
    );
    assert!(last.regions()[0].status_signers.contains(&old_signer));
    let (_, after) = trust_list_at(rolled.dir.path(), &done.region, 4, retired.listed_until);
    assert_eq!(after.regions()[0].status_signers, [new_signer]);
    let old = VerifiedStatusList::verify(&old_list, &uri, &last).unwrap();
    assert!(
        old.exp() <= retired.listed_until,
        "the old key's last list expired before the drop point"
    );
}

// ---------------------------------------------------------------------------------------------
// The audit chain anchored outside the database
// ---------------------------------------------------------------------------------------------

/// `huren issuer audit verify` on the test issuer's configuration: (exit code, JSON report,
/// stderr).
fn audit_verify(issuer: &TestIssuer) -> (i32, serde_json::Value, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(["issuer", "audit", "verify"])
        .env("HUREN_DATABASE_URL", &issuer.database_url)
        .env("HUREN_REGION_DIR", issuer.dir.path().join("zj"))
        .env("HUREN_DATA_DIR", issuer.dir.path().join("data"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\n{stderr}"));
    (output.status.code().unwrap_or(-1), report, stderr)
}

/// Some writes: token creation, three issuances, a suspension and a revocation (6 entries).
async fn some_history(issuer: &TestIssuer) {
    let a = issue(issuer).await;
    let b = issue(issuer).await;
    issue(issuer).await;
    assert_eq!(
        change(issuer, a["id"].as_str().unwrap(), "suspend", "check").await,
        StatusCode::OK
    );
    assert_eq!(
        change(issuer, b["id"].as_str().unwrap(), "revoke", "fraud").await,
        StatusCode::OK
    );
}

/// An audit entry as stored.
struct Row {
    seq: i64,
    at: i64,
    actor: String,
    action: String,
    subject: String,
    detail: String,
    hash: String,
}

async fn audit_rows(issuer: &TestIssuer) -> Vec<Row> {
    use sqlx::Row as _;
    sqlx::query("SELECT seq, at, actor, action, subject, detail, hash FROM audit_log ORDER BY seq")
        .fetch_all(issuer.state.issuer.store.pool())
        .await
        .unwrap()
        .iter()
        .map(|row| Row {
            seq: row.try_get("seq").unwrap(),
            at: row.try_get("at").unwrap(),
            actor: row.try_get("actor").unwrap(),
            action: row.try_get("action").unwrap(),
            subject: row.try_get("subject").unwrap(),
            detail: row.try_get("detail").unwrap(),
            hash: row.try_get("hash").unwrap(),
        })
        .collect()
}

/// The entry hash as the issuer computes it (issuer/src/audit.rs), as an attacker who read
/// the source would: SHA-256(prev_hash ‖ JSON of seq, at, actor, action, subject, detail).
fn entry_hash(prev_hash: &str, row: &Row) -> String {
    use sha2::Digest;
    #[derive(serde::Serialize)]
    struct Hashed<'a> {
        seq: i64,
        at: i64,
        actor: &'a str,
        action: &'a str,
        subject: &'a str,
        detail: &'a str,
    }
    let mut hasher = sha2::Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(
        serde_json::to_vec(&Hashed {
            seq: row.seq,
            at: row.at,
            actor: &row.actor,
            action: &row.action,
            subject: &row.subject,
            detail: &row.detail,
        })
        .unwrap(),
    );
    hex::encode(hasher.finalize())
}

/// Points the (only) audit head row at `seq` and `hash`, as a database writer can.
async fn rewrite_head(issuer: &TestIssuer, seq: i64, hash: &str) {
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2")
        .bind(seq)
        .bind(hash)
        .execute(issuer.state.issuer.store.pool())
        .await
        .unwrap();
}

/// Whoever can write the database truncates the audit log to its first entries and points the
/// head at the last one kept: the shorter chain is consistent in itself, but the issuer signed
/// a later head after each write, so `audit verify` fails and names the signed entry. The
/// newest signed head is served at `GET /v1/audit/head`.
async fn audit_verify_fails_when_the_chain_is_truncated_and_its_head_rewritten(db: Db) {
    let issuer = spawn_issuer(&db).await;
    some_history(&issuer).await;
    let (code, report, stderr) = audit_verify(&issuer);
    assert_eq!(
        (code, &report["ok"]),
        (0, &true.into()),
        "{report} {stderr}"
    );
    assert_eq!(report["entries"], 6, "{report}");

    let reply = issuer
        .call(Method::GET, "/v1/audit/head", None, None, &[])
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let served = String::from_utf8(reply.body).unwrap();
    let root = huren_crypto::cert::Certificate::from_der(
        &huren_keys::layout::RegionDir::open(&issuer.dir.path().join("zj"))
            .unwrap()
            .root_der()
            .unwrap(),
    )
    .unwrap();
    let head = huren_issuer::anchor::verify_head(&served, &issuer.state.issuer.keys.region, &root)
        .unwrap();
    let rows = audit_rows(&issuer).await;
    assert_eq!(
        (head.seq, head.hash.as_str()),
        (6, rows[5].hash.as_str()),
        "the newest head is served"
    );

    // The attack: keep entries 1–3, head at entry 3.
    sqlx::query("DELETE FROM audit_log WHERE seq > 3")
        .execute(issuer.state.issuer.store.pool())
        .await
        .unwrap();
    rewrite_head(&issuer, 3, &rows[2].hash).await;
    assert!(
        huren_issuer::audit::verify_chain(&issuer.state.issuer.store)
            .await
            .unwrap()
            .is_ok(),
        "the truncated chain is consistent in itself"
    );
    let (code, report, stderr) = audit_verify(&issuer);
    assert_eq!(
        code, 1,
        "a truncated chain must fail audit verify: {report} {stderr}"
    );
    assert_eq!(report["ok"], false, "{report}");
    let problem = report["problem"].as_str().unwrap();
    assert!(
        problem.contains("entry 6") && problem.contains("truncated"),
        "{problem}"
    );
}

/// Whoever can write the database rewrites a middle entry (a revocation's reason) and
/// recomputes every later hash and the head: consistent in itself, but not the chain the
/// issuer signed, so `audit verify` fails and names the signed entry.
async fn audit_verify_fails_when_a_middle_entry_is_rewritten_with_every_later_hash(db: Db) {
    let issuer = spawn_issuer(&db).await;
    some_history(&issuer).await;
    let (code, report, stderr) = audit_verify(&issuer);
    assert_eq!(code, 0, "{report} {stderr}");

    let mut rows = audit_rows(&issuer).await;
    let pool = issuer.state.issuer.store.pool();
    let mut prev_hash = rows[2].hash.clone();
    for row in rows.iter_mut().skip(3) {
        if row.action == "suspend" {
            row.detail = r#"{"reason":"routine","superseded_by":null}"#.into();
        }
        row.hash = entry_hash(&prev_hash, row);
        sqlx::query("UPDATE audit_log SET detail = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
            .bind(&row.detail)
            .bind(&prev_hash)
            .bind(&row.hash)
            .bind(row.seq)
            .execute(pool)
            .await
            .unwrap();
        prev_hash = row.hash.clone();
    }
    rewrite_head(&issuer, rows.last().unwrap().seq, &prev_hash).await;
    assert!(
        huren_issuer::audit::verify_chain(&issuer.state.issuer.store)
            .await
            .unwrap()
            .is_ok(),
        "the rewritten chain is consistent in itself"
    );
    let (code, report, stderr) = audit_verify(&issuer);
    assert_eq!(
        code, 1,
        "a rewritten chain must fail audit verify: {report} {stderr}"
    );
    let problem = report["problem"].as_str().unwrap();
    assert!(problem.contains("signed audit head at entry"), "{problem}");

    // A head file the region's keys did not sign is refused, naming the file.
    let heads = issuer.dir.path().join("data/audit-heads/330000");
    std::fs::write(
        heads.join("00000000000000000099-0000000000000000.jwt"),
        "eyJ.e30.AA",
    )
    .unwrap();
    let (code, report, _) = audit_verify(&issuer);
    assert_eq!(code, 1, "{report}");
    assert!(
        report["problem"]
            .as_str()
            .unwrap()
            .contains("00000000000000000099"),
        "{report}"
    );
}

// ---------------------------------------------------------------------------------------------
// Migration 0003: existing databases
// ---------------------------------------------------------------------------------------------

/// A database as the issuer left it before migration 0003 (one global audit chain of three
/// entries, an idempotency key and an import row of a Zhejiang licence; with `mixed`, a
/// Jiangsu status list too), then opened by the current issuer (which applies 0003).
async fn pre_region_database(
    db: &Db,
    dir: &std::path::Path,
    mixed: bool,
) -> huren_issuer::store::Store {
    let (url, engine) = match db {
        Db::Sqlite => (
            format!("sqlite://{}?mode=rwc", dir.join("old.db").display()),
            "sqlite",
        ),
        Db::Postgres(base) => (common::issuer::fresh_postgres(base).await, "postgres"),
    };
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let mut migrator = sqlx::migrate::Migrator::new(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(engine),
    )
    .await
    .unwrap();
    let before: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version < 3)
        .cloned()
        .collect();
    migrator.migrations = before.into();
    migrator.run(&pool).await.unwrap();
    let mut statements = vec![
        "INSERT INTO status_lists (id, region, seq, capacity, allocated, version, created_at) VALUES ('330000-0', '330000', 0, 4096, 1, 0, 1)".to_owned(),
        "INSERT INTO api_tokens (id, hash, region, scopes, types, label, created_at) VALUES ('tok_old', 'h', '330000', 'issue', '*', 'old', 1)".to_owned(),
        "INSERT INTO licences (jti, region, type_code, token, list_id, idx, issued_at, issued_by) VALUES ('J1', '330000', 'T', '-', '330000-0', 1, 1, 'tok_old')".to_owned(),
        "INSERT INTO idempotency (token_id, key, request_hash, jti, created_at) VALUES ('tok_old', 'k', 'h', 'J1', 1)".to_owned(),
        "INSERT INTO import_rows (row_key, jti) VALUES ('r', 'J1')".to_owned(),
    ];
    if mixed {
        statements.push("INSERT INTO status_lists (id, region, seq, capacity, allocated, version, created_at) VALUES ('320000-0', '320000', 0, 4096, 0, 0, 1)".to_owned());
    }
    let mut prev_hash = "0".repeat(64);
    for (seq, action, subject) in [
        (1, "token_create", "tok_old"),
        (2, "issue", "J1"),
        (3, "revoke", "J1"),
    ] {
        let mut row = Row {
            seq,
            at: 1,
            actor: "tok_old".into(),
            action: action.into(),
            subject: subject.into(),
            detail: "{}".into(),
            hash: String::new(),
        };
        row.hash = entry_hash(&prev_hash, &row);
        statements.push(format!(
            "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES ({seq}, 1, 'tok_old', '{action}', '{subject}', '{{}}', '{prev_hash}', '{}')",
            row.hash
        ));
        prev_hash = row.hash;
    }
    statements.push(format!(
        "UPDATE audit_head SET seq = 3, hash = '{prev_hash}' WHERE id = 1"
    ));
    for statement in statements {
        sqlx::query(&statement).execute(&pool).await.unwrap();
    }
    pool.close().await;
    huren_issuer::store::Store::connect(&url).await.unwrap()
}

/// A single-region database keeps its chain, now Zhejiang's, verifiable and continued; its
/// idempotency keys and import rows are Zhejiang's.
async fn region_migration_keeps_a_single_region_chain_and_its_rows_in_that_region(db: Db) {
    use huren_crypto::ids::RegionCode;
    use huren_issuer::store::RegionStore;
    use sqlx::Row as _;
    let dir = tempfile::tempdir().unwrap();
    let store = pre_region_database(&db, dir.path(), false).await;
    let zhejiang = RegionStore::new(store.clone(), RegionCode::parse("330000").unwrap());
    assert_eq!(
        huren_issuer::audit::verify_chain(&zhejiang).await.unwrap(),
        Ok(3)
    );
    assert_eq!(
        huren_issuer::audit::page(&zhejiang, 0, 10)
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        huren_issuer::audit::verify_legacy_chain(&store)
            .await
            .unwrap(),
        None
    );
    for table in ["idempotency", "import_rows"] {
        let region: String = sqlx::query(&format!("SELECT region FROM {table}"))
            .fetch_one(store.pool())
            .await
            .unwrap()
            .try_get("region")
            .unwrap();
        assert_eq!(region, "330000", "{table}");
    }
    let spec = huren_issuer::tokens::TokenSpec {
        region: zhejiang.region(),
        scopes: &[huren_issuer::tokens::Scope::Read],
        types: &[],
        label: "after",
        lifetime: huren_issuer::tokens::Lifetime::DEFAULT,
    };
    huren_issuer::tokens::create(&store, &spec, "test", 2, &mut rand_core::OsRng)
        .await
        .unwrap();
    assert_eq!(
        huren_issuer::audit::verify_chain(&zhejiang).await.unwrap(),
        Ok(4),
        "continued"
    );
    let jiangsu = RegionStore::new(store, RegionCode::parse("320000").unwrap());
    assert_eq!(
        huren_issuer::audit::verify_chain(&jiangsu).await.unwrap(),
        Ok(0)
    );
}

/// A database two regions already wrote keeps its one interleaved chain, verifiable as the
/// legacy chain; each region starts its own.
async fn region_migration_keeps_a_mixed_chain_verifiable_as_legacy(db: Db) {
    use huren_crypto::ids::RegionCode;
    use huren_issuer::store::RegionStore;
    let dir = tempfile::tempdir().unwrap();
    let store = pre_region_database(&db, dir.path(), true).await;
    assert_eq!(
        huren_issuer::audit::verify_legacy_chain(&store)
            .await
            .unwrap(),
        Some(Ok(3))
    );
    let zhejiang = RegionStore::new(store, RegionCode::parse("330000").unwrap());
    assert_eq!(
        huren_issuer::audit::verify_chain(&zhejiang).await.unwrap(),
        Ok(0)
    );
}

// ---------------------------------------------------------------------------------------------
// Key and data hygiene (issue 10 item 15)
// ---------------------------------------------------------------------------------------------

/// The test PKI's keys are plaintext: without `allow_plaintext_keys` the issuer refuses to start
/// and names the key file; with the setting given as `false` in the environment, too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_refuses_an_unencrypted_key_unless_allowed_explicitly_naming_the_file() {
    for setting in [None, Some(false)] {
        let refused = common::issuer::try_spawn_issuer_with(&Db::Sqlite, |_, _, file| {
            file.allow_plaintext_keys = setting;
            None
        })
        .await;
        let message = match refused {
            Ok(_) => panic!("an issuer started on plaintext keys without opting in ({setting:?})"),
            Err(e) => e.to_string(),
        };
        assert!(
            message.contains("UNENCRYPTED") && message.contains(".key.pem"),
            "{message}"
        );
        assert!(message.contains("HUREN_ALLOW_PLAINTEXT_KEYS"), "{message}");
    }
    let env = |name: &str| (name == "HUREN_ALLOW_PLAINTEXT_KEYS").then(|| "maybe".to_owned());
    let err = huren_issuer::config::IssuerFile::default()
        .with_env(env)
        .unwrap_err();
    assert_eq!(err.setting, "HUREN_ALLOW_PLAINTEXT_KEYS");
}

/// The default database lives in the data directory: both are private to the service's user
/// from the start (mode 0700 / 0600), and so are SQLite's WAL side files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_directory_and_database_files_are_created_private() {
    use std::os::unix::fs::PermissionsExt;
    let mut data_dir = None;
    let issuer = common::issuer::spawn_issuer_with(&Db::Sqlite, |dir, _, file| {
        data_dir = Some(dir.join("data/nested"));
        file.database_url = None;
        file.data_dir = data_dir.clone();
        None
    })
    .await;
    let data_dir = data_dir.unwrap();
    issue(&issuer).await;
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&data_dir), 0o700, "data directory");
    for file in ["issuer.db", "issuer.db-wal", "issuer.db-shm"] {
        assert_eq!(mode(&data_dir.join(file)), 0o600, "{file}");
    }
}
