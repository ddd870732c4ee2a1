//! The issuer service end to end, on SQLite and on PostgreSQL (the same scenarios): issue →
//! verify with the crypto library → revoke / suspend / reinstate; idempotent retries;
//! superseding; batches; the audit chain; status-list publication; QR images.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

#[macro_use]
mod common;

use axum::http::{Method, StatusCode};
use common::issuer::{building_licence, spawn_issuer, Db, TestIssuer};
use huren_crypto::verify::{Outcome, Verdict};

on_both_databases!(
    issued_licence_verifies_then_revocation_and_suspension_show,
    idempotent_retry_returns_the_same_licence,
    superseding_licence_revokes_the_old_one,
    batch_issues_each_item_on_its_own,
    audit_chain_records_everything_and_detects_tampering,
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
    assert_eq!(
        change(&issuer, jti, "reinstate", "mistake").await,
        StatusCode::CONFLICT,
        "revocation is final"
    );

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
    assert_eq!(
        change(&issuer, jti, "suspend", "again").await,
        StatusCode::CONFLICT
    );
    assert_eq!(
        change(&issuer, jti, "reinstate", "整改完成").await,
        StatusCode::OK
    );
    assert_eq!(issuer.verify(token).await.verdict, Verdict::Valid);

    let record = issuer
        .call(
            Method::GET,
            &format!("/v1/licences/{jti}"),
            Some(&issuer.admin),
            None,
            &[],
        )
        .await
        .json();
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

    let old_record = issuer
        .call(
            Method::GET,
            &format!("/v1/licences/{old_id}"),
            Some(&issuer.admin),
            None,
            &[],
        )
        .await
        .json();
    assert_eq!(old_record["current_status"], "revoked");
    assert_eq!(old_record["status_reason"], "superseded");
    assert_eq!(old_record["superseded_by"], new_id);
    let new_record = issuer
        .call(
            Method::GET,
            &format!("/v1/licences/{new_id}"),
            Some(&issuer.admin),
            None,
            &[],
        )
        .await
        .json();
    assert_eq!(new_record["supersedes"], old_id);
    assert_eq!(
        issuer.verify(old["token"].as_str().unwrap()).await.reasons,
        [Outcome::Revoked]
    );
    assert_eq!(
        issuer.verify(new["token"].as_str().unwrap()).await.verdict,
        Verdict::Valid
    );

    // A revoked licence cannot be superseded again.
    let reply = issuer.post("/v1/licences", &renewal).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
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
    // NDJSON is accepted too.
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
    assert_eq!(reply.json()["issued"], 2);
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
    let issuer = spawn_issuer(&Db::Sqlite).await;
    let licence = issue(&issuer).await;
    let jti = licence["id"].as_str().unwrap();
    let reply = issuer
        .call(
            Method::GET,
            &format!("/v1/licences/{jti}/qr.png"),
            Some(&issuer.admin),
            None,
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["content-type"], "image/png");
    let path = issuer.dir.path().join("qr.png");
    std::fs::write(&path, &reply.body).unwrap();
    // An independent decoder (Debian's zbar-tools, installed by .ci/run).
    let output = std::process::Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(&path)
        .output()
        .expect("zbarimg (Debian package zbar-tools) is needed: apt-get install zbar-tools");
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

    let svg = issuer
        .call(
            Method::GET,
            &format!("/v1/licences/{jti}/qr.svg"),
            Some(&issuer.admin),
            None,
            &[],
        )
        .await;
    assert!(String::from_utf8(svg.body).unwrap().starts_with("<svg"));
    let html = issuer
        .call(
            Method::GET,
            &format!("/v1/licences/{jti}/view"),
            Some(&issuer.admin),
            None,
            &[],
        )
        .await;
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
    let openapi = issuer
        .call(Method::GET, "/openapi.json", None, None, &[])
        .await
        .json();
    assert!(openapi["paths"]["/v1/licences"]["post"].is_object());
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
    let claims = huren_keys::trust_build::assemble(
        "测试运营方",
        std::slice::from_ref(&region),
        2,
        now.minus(30),
        7 * 86_400,
    )
    .unwrap();
    let token = huren_keys::trust_build::sign(
        &claims,
        &operator.key(None).unwrap(),
        &operator.certificate().unwrap(),
    )
    .unwrap();
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
