//! Issuance transparency (SPEC §12) end to end: three provinces' issuers, each on its own
//! socket, witnessing each other (quorum 1 of 2, as `trust build` sets by default); licences
//! issued singly and in a batch are provably logged, a Python program checks the tiles,
//! checkpoints and proofs independently, a forked checkpoint is refused by a witness, and a
//! truncated audit table is caught by `huren issuer audit verify`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod common;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use common::issuer::{admin_token, building_licence, fresh_postgres, Db, ISSUER_NOW};
use common::pki;
use huren_crypto::alg::Algorithm;
use huren_crypto::cert::Certificate;
use huren_crypto::ids::RegionCode;
use huren_crypto::time::FixedClock;
use huren_crypto::tlog::entry::{token_sha256, LogEntry};
use huren_crypto::tlog::note::{self, sign_checkpoint};
use huren_crypto::tlog::tree::{self, Frontier};
use huren_crypto::tlog::{witness, Hash};
use huren_crypto::trust_list::TrustList;
use huren_issuer::config::IssuerFile;
use huren_issuer::http::AppState;
use huren_issuer::tokens::{self, Scope, TokenSpec};
use huren_issuer::App;
use huren_keys::layout::RegionDir;

/// One running issuer.
struct Node {
    code: String,
    url: String,
    state: AppState,
    admin: String,
    region: RegionDir,
    file: IssuerFile,
}

struct Network {
    dir: tempfile::TempDir,
    trust: TrustList,
    nodes: Vec<Node>,
}

const CODES: [&str; 3] = ["330000", "320000", "310000"];

/// Three provinces' issuers on 127.0.0.1, with a trust list naming each one's log key and the
/// two others as its witnesses.
async fn network(db: &Db) -> Network {
    let dir = tempfile::tempdir().unwrap();
    let made = ISSUER_NOW.minus(3600);
    let operator = pki::operator(&dir.path().join("op"), "测试运营方", made);
    let mut listeners = Vec::new();
    let mut regions = Vec::new();
    for code in CODES {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        regions.push(pki::province(
            &dir.path().join(code),
            code,
            Algorithm::Es256,
            &url,
            made,
        ));
        listeners.push((listener, url));
    }
    let token = pki::trust_list(&operator, &regions, 1, made);
    std::fs::write(dir.path().join("trust-list.jwt"), &token).unwrap();
    let pinned = Certificate::from_der(&operator.certificate().unwrap()).unwrap();
    let trust = TrustList::verify(&token, &[pinned]).unwrap();
    let mut nodes = Vec::new();
    for ((code, region), (listener, url)) in CODES.iter().zip(regions).zip(listeners) {
        let database_url = match db {
            Db::Sqlite => format!(
                "sqlite://{}?mode=rwc",
                dir.path().join(format!("{code}.db")).display()
            ),
            Db::Postgres(base) => fresh_postgres(base).await,
        };
        let file = IssuerFile {
            region_dir: Some(dir.path().join(code)),
            trust_list: Some(dir.path().join("trust-list.jwt")),
            operator_cert: Some(vec![dir.path().join("op/operator.crt.pem")]),
            database_url: Some(database_url),
            data_dir: Some(dir.path().join(format!("data-{code}"))),
            status_list_capacity: Some(1 << 12),
            allow_plaintext_keys: Some(true),
            log_sequence_delay_ms: Some(50),
            ..IssuerFile::default()
        };
        let config = file.clone().resolve().unwrap();
        let app = App::build(&config, listener, None, Arc::new(FixedClock(ISSUER_NOW)))
            .await
            .unwrap_or_else(|e| panic!("issuer {code} did not start: {e}"));
        let state = app.state().clone();
        tokio::spawn(app.run_until(std::future::pending()));
        let admin = admin_token(&state.issuer.store, &RegionCode::parse(code).unwrap()).await;
        nodes.push(Node {
            code: (*code).to_owned(),
            url,
            state,
            admin,
            region,
            file,
        });
    }
    Network { dir, trust, nodes }
}

/// Polls `check` every 100 ms until it gives a value; fails after a minute saying `what` did
/// not happen. (A liveness bound, not a speed assertion: the log's merge delay is seconds.)
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..600 {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} within a minute");
}

/// Deletes every row of `region`'s transparency-log tables (what a database writer can do).
async fn wipe_log_tables(pool: &sqlx::AnyPool, region: &str) {
    for table in ["log_checkpoints", "log_hashes", "log_tokens", "log_state"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE region = $1"))
            .bind(region)
            .execute(pool)
            .await
            .unwrap();
    }
}

fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .new_agent()
}

async fn get(url: String) -> (u16, Vec<u8>) {
    tokio::task::spawn_blocking(move || {
        let mut r = http().get(&url).call().unwrap();
        (r.status().as_u16(), r.body_mut().read_to_vec().unwrap())
    })
    .await
    .unwrap()
}

async fn post(
    url: String,
    token: Option<String>,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Vec<u8>) {
    let content_type = content_type.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut request = http().post(&url).header("content-type", &content_type);
        if let Some(token) = token {
            request = request.header("authorization", &format!("Bearer {token}"));
        }
        let mut r = request.send(&body[..]).unwrap();
        (r.status().as_u16(), r.body_mut().read_to_vec().unwrap())
    })
    .await
    .unwrap()
}

impl Node {
    async fn issue(&self, request: &serde_json::Value) -> serde_json::Value {
        let (status, body) = post(
            format!("{}/v1/licences", self.url),
            Some(self.admin.clone()),
            "application/json",
            request.to_string().into_bytes(),
        )
        .await;
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).unwrap()
    }

    /// Waits until a witnessed checkpoint covers every audit entry (the merge delay plus a
    /// witness round trip); fails after a minute, naming what it saw.
    async fn wait_witnessed(&self) -> u64 {
        let audited =
            u64::try_from(self.state.issuer.store.audit_head().await.unwrap().seq).unwrap();
        let what = format!(
            "{}: a witnessed checkpoint did not cover the {audited} audit entries",
            self.code
        );
        eventually(&what, || async {
            let mut conn = self.state.issuer.store.acquire().await.unwrap();
            huren_issuer::store::log::newest_witnessed(&mut conn)
                .await
                .unwrap()
                .map(|w| w.size)
                .filter(|size| *size >= audited)
        })
        .await
    }
}

fn unb64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

fn region_entry<'a>(trust: &'a TrustList, code: &str) -> &'a huren_crypto::trust_list::RegionEntry {
    trust
        .claims()
        .regions
        .iter()
        .find(|r| r.code.as_str() == code)
        .unwrap()
}

async fn every_issuance_is_provably_logged_and_witnessed(db: Db) {
    let net = network(&db).await;
    let zj = &net.nodes[0];
    let entry = region_entry(&net.trust, "330000");
    let log_key = entry
        .log_key
        .clone()
        .expect("trust build names the log key");
    let witnesses: Vec<_> = entry.witnesses.iter().map(|w| w.vkey.clone()).collect();
    assert_eq!(
        witnesses.len(),
        2,
        "the two other provinces witness Zhejiang"
    );
    assert_eq!(entry.witness_quorum, 1);

    let single = zj.issue(&building_licence()).await;
    let batch_body = format!("{}\n{}\n", building_licence(), building_licence());
    let (status, body) = post(
        format!("{}/v1/licences/batch", zj.url),
        Some(zj.admin.clone()),
        "application/x-ndjson",
        batch_body.into_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let batch: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let mut issued = vec![single];
    for item in batch["results"]
        .as_array()
        .or(batch["items"].as_array())
        .expect("batch items")
    {
        issued.push(
            item["licence"]
                .clone()
                .as_object()
                .map(|_| item["licence"].clone())
                .unwrap_or_else(|| item.clone()),
        );
    }
    assert_eq!(issued.len(), 3);
    let size = zj.wait_witnessed().await;

    let mut hashes = Vec::new();
    for licence in &issued {
        let token = licence["token"].as_str().expect("token");
        let index = licence["log"]["index"]
            .as_u64()
            .expect("log.index in every issuance answer");
        let hash = token_sha256(token.as_bytes());
        let (status, body) = get(format!("{}/v1/log/proof?token_sha256={hash}", zj.url)).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let proof: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            proof["index"].as_u64(),
            Some(index),
            "the receipt's index is the proven one"
        );
        let opened = note::open(
            proof["checkpoint"].as_str().unwrap().as_bytes(),
            &log_key,
            &witnesses,
        )
        .unwrap();
        assert_eq!(opened.witnessed(1), Ok(()));
        assert_eq!(opened.size, size);
        let leaf = proof["entry"].as_str().unwrap();
        let parsed = LogEntry::parse(leaf.as_bytes()).unwrap();
        assert_eq!(
            (parsed.action.as_str(), parsed.subject.as_str()),
            ("issue", licence["id"].as_str().unwrap())
        );
        assert_eq!(parsed.token_sha256.as_deref(), Some(hash.as_str()));
        let path: Vec<Hash> = proof["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| Hash(unb64(h.as_str().unwrap()).try_into().unwrap()))
            .collect();
        assert_eq!(
            tree::check_inclusion(&path, opened.size, &opened.root, index, leaf.as_bytes()),
            Ok(())
        );
        // The same proof for another index fails.
        assert!(tree::check_inclusion(
            &path,
            opened.size,
            &opened.root,
            index ^ 1,
            leaf.as_bytes()
        )
        .is_err());
        hashes.push(hash);
    }
    let (_, metrics) = get(format!("{}/metrics", zj.url)).await;
    let metrics = String::from_utf8_lossy(&metrics).to_string();
    assert!(
        metrics.contains(&format!("huren_log_witnessed_entries {size}")),
        "{metrics}"
    );
    assert!(
        metrics.contains("huren_log_witness_failures_total 0"),
        "{metrics}"
    );
    // A token the log never saw: 404 not_logged.
    let (status, body) = get(format!(
        "{}/v1/log/proof?token_sha256={}",
        zj.url,
        "ab".repeat(32)
    ))
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["code"],
        "not_logged"
    );

    // Outside Rust: Python's hashlib + cryptography check tiles, entries, the checkpoint and the proofs.
    let importable = std::process::Command::new("python3")
        .args(["-c", "import cryptography"])
        .output()
        .is_ok_and(|probe| probe.status.success());
    if !importable {
        skips::skipped(
            "its Python cross-check needs python3 with cryptography (pip install cryptography)",
        );
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/tlog_check.py");
    let mut args = vec![
        script.to_owned(),
        zj.url.clone(),
        log_key.to_string(),
        "1".into(),
    ];
    args.extend(witnesses.iter().map(|w| w.to_string()));
    args.push("--".into());
    args.extend(hashes.iter().cloned());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3").args(&args).output()
    })
    .await
    .unwrap()
    .expect("python3 runs (with the cryptography package: pip install cryptography)");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "independent check failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["proved"], 3);
    assert_eq!(report["witnessed"], true);
    assert_eq!(report["size"].as_u64(), Some(size));
    assert!(report["actions"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("issue")));
    drop(net.dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_issuance_is_provably_logged_and_witnessed_sqlite() {
    every_issuance_is_provably_logged_and_witnessed(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_issuance_is_provably_logged_and_witnessed_postgres() {
    let Some(db) = Db::postgres() else { return };
    every_issuance_is_provably_logged_and_witnessed(db).await;
}

/// A witness that cosigned Zhejiang's tree refuses a checkpoint of a tree that does not extend
/// it — signed with Zhejiang's real log key, as a thief of that key would — and keeps it as
/// evidence; it also refuses a same-size tree with another root.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_forked_log_is_refused_by_its_witness() {
    let net = network(&Db::Sqlite).await;
    let (zj, js) = (&net.nodes[0], &net.nodes[1]);
    zj.issue(&building_licence()).await;
    let size = zj.wait_witnessed().await;
    let log_key = zj.region.log_key(None).unwrap().expect("log key");
    let witness_url = format!("{}/v1/witness/add-checkpoint", js.url);

    // A different history of size + 1 entries.
    let mut forged = Frontier::empty();
    let mut stored = tree::Fetched::new();
    for i in 0..=size {
        let leaf = LogEntry {
            seq: i64::try_from(i + 1).unwrap(),
            at: 1,
            action: "issue".into(),
            subject: format!("forged-{i}"),
            token_sha256: None,
        };
        stored.extend(forged.append(&leaf.to_bytes()).unwrap());
    }
    let forged_root = forged.root().unwrap();
    let fork = sign_checkpoint(&log_key, size + 1, &forged_root).unwrap();
    let proof = tree::consistency_proof(size + 1, size, &stored).unwrap();
    let (status, body) = post(
        witness_url.clone(),
        None,
        "text/plain",
        witness::request_body(size, &proof, &fork).into_bytes(),
    )
    .await;
    assert_eq!(status, 422, "{}", String::from_utf8_lossy(&body));
    // Same size, another root.
    let same_size = sign_checkpoint(&log_key, size, &Hash([7; 32])).unwrap();
    let (status, _) = post(
        witness_url.clone(),
        None,
        "text/plain",
        witness::request_body(size, &[], &same_size).into_bytes(),
    )
    .await;
    assert_eq!(status, 422);
    // A stale `old`: 409 with the size the witness holds.
    let (status, body) = post(
        witness_url.clone(),
        None,
        "text/plain",
        witness::request_body(0, &[], &fork).into_bytes(),
    )
    .await;
    assert_eq!(
        (status, String::from_utf8_lossy(&body).to_string()),
        (409, format!("{size}\n"))
    );
    // Not signed by Zhejiang's log key: 403. An origin it does not witness: 404.
    let outsider = huren_crypto::tlog::note::NoteKeyPair::from_pkcs8(
        "huren.gov.cn/log/330000",
        huren_crypto::tlog::vkey::KeyType::Ed25519,
        aws_lc_rs_pkcs8().as_slice(),
    )
    .unwrap();
    let unsigned = sign_checkpoint(&outsider, size + 1, &forged_root).unwrap();
    let (status, _) = post(
        witness_url.clone(),
        None,
        "text/plain",
        witness::request_body(size, &proof, &unsigned).into_bytes(),
    )
    .await;
    assert_eq!(status, 403);
    let own = sign_checkpoint(&js.region.log_key(None).unwrap().unwrap(), 1, &forged_root).unwrap();
    let (status, _) = post(
        witness_url,
        None,
        "text/plain",
        witness::request_body(0, &[], &own).into_bytes(),
    )
    .await;
    assert_eq!(
        status, 404,
        "a witness never witnesses its own region's log"
    );
    let (_, metrics) = get(format!("{}/metrics", js.url)).await;
    assert!(String::from_utf8_lossy(&metrics).contains("huren_witness_refusals_total 2"));
    // The refusals are kept as evidence.
    let refusals: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM witness_refusals WHERE origin = 'huren.gov.cn/log/330000'",
    )
    .fetch_one(js.state.issuer.store.pool())
    .await
    .unwrap();
    assert_eq!(refusals, 2);
    // The honest log still gets cosigned afterwards.
    zj.issue(&building_licence()).await;
    assert_eq!(zj.wait_witnessed().await, size + 1);
}

/// An Ed25519 PKCS#8 key that is nobody's.
fn aws_lc_rs_pkcs8() -> Vec<u8> {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    aws_lc_rs::signature::Ed25519KeyPair::generate_pkcs8(&rng)
        .unwrap()
        .as_ref()
        .to_vec()
}

/// A database writer removes the newest audit entries and every checkpoint row, and rewrites
/// the audit head so the chain looks whole: `huren issuer audit verify` still fails, because
/// the witnesses hold a checkpoint the remaining entries do not rebuild.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_truncated_audit_table_is_caught_by_audit_verify() {
    let net = network(&Db::Sqlite).await;
    let zj = &net.nodes[0];
    for _ in 0..3 {
        zj.issue(&building_licence()).await;
    }
    let size = zj.wait_witnessed().await;
    let run = |file: IssuerFile| {
        let config = toml_of(&file);
        move || {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("issuer.toml");
            std::fs::write(&path, config).unwrap();
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_huren"))
                .args([
                    "issuer",
                    "audit",
                    "verify",
                    "--config",
                    path.to_str().unwrap(),
                ])
                .output()
                .unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).to_string(),
                String::from_utf8_lossy(&out.stderr).to_string(),
            )
        }
    };
    let (code, stdout, stderr) = tokio::task::spawn_blocking(run(zj.file.clone()))
        .await
        .unwrap();
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(report["log"]["checked"], true, "{report}");
    assert_eq!(report["log"]["witnessed_size"].as_u64(), Some(size));

    // The attack: delete the last entry, the log's own rows, and rewind the head.
    let pool = zj.state.issuer.store.pool().clone();
    let last = i64::try_from(size).unwrap();
    sqlx::query("DELETE FROM audit_log WHERE region = '330000' AND seq = $1")
        .bind(last)
        .execute(&pool)
        .await
        .unwrap();
    let prev: String =
        sqlx::query_scalar("SELECT hash FROM audit_log WHERE region = '330000' AND seq = $1")
            .bind(last - 1)
            .fetch_one(&pool)
            .await
            .unwrap();
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE region = '330000'")
        .bind(last - 1)
        .bind(prev)
        .execute(&pool)
        .await
        .unwrap();
    wipe_log_tables(&pool, "330000").await;
    // The signed heads are removed too: only the witnesses remember.
    std::fs::remove_dir_all(net.dir.path().join("data-330000/audit-heads")).unwrap();
    let (code, stdout, stderr) = tokio::task::spawn_blocking(run(zj.file.clone()))
        .await
        .unwrap();
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let problem = report["log"]["problem"].as_str().unwrap_or_default();
    assert!(
        problem.contains(&format!(
            "covers {size} entries but the audit log has only {}",
            size - 1
        )),
        "{report}"
    );
}

/// The issuer configuration file for `file`'s settings.
fn toml_of(file: &IssuerFile) -> String {
    let path = |p: &Option<std::path::PathBuf>| p.as_ref().unwrap().display().to_string();
    format!(
        "region_dir = {:?}\ntrust_list = {:?}\noperator_cert = [{:?}]\ndatabase_url = {:?}\ndata_dir = {:?}\nallow_plaintext_keys = true\n",
        path(&file.region_dir),
        path(&file.trust_list),
        file.operator_cert.as_ref().unwrap()[0].display().to_string(),
        file.database_url.as_ref().unwrap(),
        path(&file.data_dir),
    )
}

/// `kill -9` between an issuance and its log append loses nothing: the issuer process is
/// killed right after answering (its sequencer waits up to the 5 s merge delay before
/// appending), restarted, and every licence it answered for is then in the log at the index
/// its receipt named — the audit log is the log's outbox, written in the issuance's own
/// transaction, and the sequencer catches up at start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_between_issuance_and_its_log_append_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let made = ISSUER_NOW.minus(3600);
    // The process reads the real clock: make the PKI valid now.
    let made = huren_crypto::time::UnixTime(made.seconds().max(now_seconds() - 3600));
    let operator = pki::operator(&dir.path().join("op"), "测试运营方", made);
    let region = pki::province(
        &dir.path().join("zj"),
        "330000",
        Algorithm::Es256,
        "https://issuer.zj.example",
        made,
    );
    let token = pki::trust_list(&operator, std::slice::from_ref(&region), 1, made);
    std::fs::write(dir.path().join("trust-list.jwt"), &token).unwrap();
    let database = dir.path().join("issuer.db");
    let config = dir.path().join("issuer.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\nregion_dir = {:?}\ntrust_list = {:?}\noperator_cert = [{:?}]\ndatabase_url = \"sqlite://{}?mode=rwc\"\ndata_dir = {:?}\nallow_plaintext_keys = true\nlog_sequence_delay_ms = 5000\n",
            dir.path().join("zj").display().to_string(),
            dir.path().join("trust-list.jwt").display().to_string(),
            dir.path().join("op/operator.crt.pem").display().to_string(),
            database.display(),
            dir.path().join("data").display().to_string(),
        ),
    )
    .unwrap();
    let store =
        huren_issuer::store::Store::connect(&format!("sqlite://{}?mode=rwc", database.display()))
            .await
            .unwrap();
    let code = RegionCode::parse("330000").unwrap();
    let spec = TokenSpec {
        region: &code,
        scopes: &[Scope::Issue, Scope::Read],
        types: &[],
        label: "kill test",
        lifetime: tokens::Lifetime::DEFAULT,
    };
    let (admin, _) = tokens::create(&store, &spec, "test", now_seconds(), &mut rand_core::OsRng)
        .await
        .unwrap();
    let start = |n: u32| {
        let addr_file = dir.path().join(format!("addr-{n}"));
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_huren"))
            .args(["issuer", "serve", "--config", config.to_str().unwrap()])
            .env("HUREN_ADDR_FILE", &addr_file)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        (Process(child), addr_file)
    };
    let address = |file: std::path::PathBuf| async move {
        eventually("the issuer did not start", || async {
            let addr = std::fs::read_to_string(&file).ok()?;
            (!addr.is_empty()).then(|| format!("http://{}", addr.trim()))
        })
        .await
    };

    let (mut first, addr_file) = start(1);
    let url = address(addr_file).await;
    let mut receipts = Vec::new();
    for _ in 0..5 {
        let (status, body) = post(
            format!("{url}/v1/licences"),
            Some(admin.clone()),
            "application/json",
            building_licence().to_string().into_bytes(),
        )
        .await;
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        let issued: serde_json::Value = serde_json::from_slice(&body).unwrap();
        receipts.push((
            token_sha256(issued["token"].as_str().unwrap().as_bytes()),
            issued["log"]["index"].as_u64().expect("log.index"),
        ));
    }
    let (_, before) = get(format!("{url}/v1/log/checkpoint")).await;
    first.0.kill().unwrap(); // SIGKILL
    first.0.wait().unwrap();
    let logged_before_kill = String::from_utf8_lossy(&before)
        .lines()
        .nth(1)
        .and_then(|l| l.parse::<u64>().ok())
        .unwrap_or(0);
    eprintln!(
        "killed with {logged_before_kill} of {} entries logged",
        receipts.last().unwrap().1 + 1
    );

    let (second, addr_file) = start(2);
    let url = address(addr_file).await;
    for (hash, index) in &receipts {
        let what = format!("licence {index} did not appear in the log after the restart");
        let body = eventually(&what, || async {
            let (status, body) = get(format!("{url}/v1/log/proof?token_sha256={hash}")).await;
            (status == 200).then_some(body)
        })
        .await;
        let proof: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(proof["index"].as_u64(), Some(*index));
    }
    drop(second);
}

/// A child process killed (SIGKILL) and reaped when dropped — also when the test fails first,
/// so no server outlives its test holding the harness's output open.
struct Process(std::process::Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Now, for the PKI of a test that runs the real binary (which reads the real clock).
fn now_seconds() -> i64 {
    use huren_crypto::time::Clock;
    huren_keys::SystemClock.now().seconds()
}

/// Runs `huren log monitor` against the network's trust list.
async fn monitor(net: &Network, extra: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let mut args: Vec<String> = vec![
        "log".into(),
        "monitor".into(),
        "--trust-list".into(),
        net.dir.path().join("trust-list.jwt").display().to_string(),
        "--operator-cert".into(),
        net.dir
            .path()
            .join("op/operator.crt.pem")
            .display()
            .to_string(),
    ];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_huren"))
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let report = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}{stderr}"));
    (out.status.code(), report, stderr)
}

/// Someone holding Zhejiang's log key and database rewrites history: one covered audit entry
/// changed, the log rebuilt from it and re-signed with the real key. The witnesses refuse the
/// new checkpoint (it does not extend what they cosigned), and `huren log monitor` — from its
/// state of an earlier run and from the witnesses' views — reports that the log's tree does not
/// extend them. With the database, it also lists the entries that differ.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_forked_log_is_caught_by_its_witnesses_and_the_monitor() {
    let net = network(&Db::Sqlite).await;
    let zj = &net.nodes[0];
    zj.issue(&building_licence()).await;
    zj.issue(&building_licence()).await;
    let size = zj.wait_witnessed().await;
    for node in &net.nodes[1..] {
        node.issue(&building_licence()).await;
        node.wait_witnessed().await;
    }
    let state = net.dir.path().join("monitor-state.json");
    let state_arg = state.display().to_string();
    let (code, report, stderr) = monitor(&net, &["--since", &state_arg]).await;
    assert_eq!(code, Some(0), "{report}{stderr}");
    assert_eq!(report["logs"].as_array().unwrap().len(), 3);
    assert_eq!(report["logs"][0]["witnessed"], true);
    let database = zj.file.database_url.clone().unwrap();
    let (code, report, stderr) =
        monitor(&net, &["--region", "330000", "--database", &database]).await;
    assert_eq!(code, Some(0), "{report}{stderr}");
    assert_eq!(
        report["logs"][0]["database"]["log_entries_not_in_database"],
        serde_json::json!([])
    );

    // The rewrite.
    let pool = zj.state.issuer.store.pool().clone();
    sqlx::query("UPDATE audit_log SET subject = 'rewritten' WHERE region = '330000' AND seq = 2")
        .execute(&pool)
        .await
        .unwrap();
    wipe_log_tables(&pool, "330000").await;
    zj.issue(&building_licence()).await; // wakes the sequencer, which rebuilds and re-signs
    eventually("the sequencer did not rebuild the log", || async {
        let mut conn = zj.state.issuer.store.acquire().await.unwrap();
        huren_issuer::store::log::newest_checkpoint(&mut conn)
            .await
            .unwrap()
            .filter(|c| c.size > size)
    })
    .await;
    // The witnesses refuse it and keep the evidence; it stays unwitnessed.
    for witness in &net.nodes[1..] {
        let what = format!("witness {} did not refuse the fork", witness.code);
        eventually(&what, || async {
            let refused: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM witness_refusals WHERE origin = 'huren.gov.cn/log/330000'",
            )
            .fetch_one(witness.state.issuer.store.pool())
            .await
            .unwrap();
            (refused > 0).then_some(())
        })
        .await;
    }
    let mut conn = zj.state.issuer.store.acquire().await.unwrap();
    assert!(huren_issuer::store::log::newest_witnessed(&mut conn)
        .await
        .unwrap()
        .is_none());
    // The monitor sees it, from its earlier state and from the witnesses.
    let (code, report, stderr) = monitor(&net, &["--since", &state_arg]).await;
    assert_eq!(code, Some(1), "{report}{stderr}");
    let alerts: Vec<String> = report["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["alert"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        alerts
            .iter()
            .any(|a| a.contains("does not extend") && a.contains("an earlier run")),
        "{alerts:?}"
    );
    assert!(
        alerts
            .iter()
            .any(|a| a.contains("does not extend") && a.contains("witness huren.gov.cn/witness/")),
        "{alerts:?}"
    );
    assert!(
        alerts
            .iter()
            .all(|a| a.starts_with("the log's tree") || a.contains("split view")),
        "{alerts:?}"
    );
    assert_eq!(
        report["alerts"][0]["region"], "330000",
        "only Zhejiang forked"
    );
}

/// The attack the log exists for: a licence signed with Zhejiang's real licence-signer key
/// outside the issuer (`huren sign`, as a thief of the key would) verifies everywhere — until a
/// verifier requires logging: then it is `not_logged`, while a licence the issuer issued is
/// `valid`, both checked against the real issuer's `/v1/log/proof` after the merge delay.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_licence_signed_offline_and_never_logged_is_refused_when_logging_is_required() {
    let net = network(&Db::Sqlite).await;
    let zj = &net.nodes[0];
    let issued = zj.issue(&building_licence()).await;
    zj.wait_witnessed().await;
    let d = net.dir.path().to_owned();
    std::fs::write(
        d.join("licence.json"),
        r#"{"type_code": "11100000000013338W032", "type_name": "建筑业企业资质证书", "number": "D233099999",
            "holder": {"name": "杭州示例建设有限公司", "id_type": "001", "id": "91350100M000100Y43"},
            "issuer": {"name": "浙江省住房和城乡建设厅", "code": "11220000013544541J"},
            "issued_on": "2026-11-22", "valid_from": "2026-11-22", "valid_until": "2031-11-21",
            "face": {"qualification": "建筑工程施工总承包壹级"}}"#,
    )
    .unwrap();
    let status_uri = issued["status"]["uri"].as_str().unwrap().to_owned();
    let at = ISSUER_NOW.seconds().to_string();
    // An hour later: long past the merge delay, well within the status list's life.
    let later = (ISSUER_NOW.seconds() + 3600).to_string();
    let forged_token = tokio::task::spawn_blocking({
        let d = d.clone();
        move || {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_huren"))
                .current_dir(&d)
                // The test PKI's keys are plaintext (a test set-up, never a deployment).
                .env("HUREN_ALLOW_PLAINTEXT_KEYS", "true")
                .args([
                    "sign",
                    "--region-dir",
                    "330000",
                    "--licence",
                    "licence.json",
                    "--status-idx",
                    "4000",
                    "--status-uri",
                    &status_uri,
                    "--at",
                    &at,
                ])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        }
    })
    .await
    .unwrap();
    let verify = |token: String, require: bool| {
        let d = d.clone();
        let later = later.clone();
        tokio::task::spawn_blocking(move || {
            let mut args = vec![
                "verify",
                "--trust-list",
                "trust-list.jwt",
                "--operator-cert",
                "op/operator.crt.pem",
                "--fetch-status",
                "--at",
                &later,
            ];
            if require {
                args.push("--require-logged");
            }
            args.push(token.trim());
            let run = common::cli::huren(&d, &args, None);
            let report: serde_json::Value = serde_json::from_str(&run.stdout)
                .unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr));
            (
                run.code,
                report["verdict"].clone(),
                report["reasons"].clone(),
                report["warnings"].clone(),
            )
        })
    };
    let issued_token = issued["token"].as_str().unwrap().to_owned();
    let none = serde_json::json!([]);
    assert_eq!(
        verify(issued_token.clone(), true).await.unwrap(),
        (0, serde_json::json!("valid"), none.clone(), none.clone())
    );
    assert_eq!(
        verify(issued_token, false).await.unwrap(),
        (0, serde_json::json!("valid"), none.clone(), none.clone())
    );
    // Without the requirement the stolen key's licence passes, with the log's warning only:
    // that is the threat requiring closes.
    assert_eq!(
        verify(forged_token.clone(), false).await.unwrap(),
        (
            0,
            serde_json::json!("valid"),
            none.clone(),
            serde_json::json!(["not_logged"])
        )
    );
    assert_eq!(
        verify(forged_token, true).await.unwrap(),
        (
            1,
            serde_json::json!("invalid"),
            serde_json::json!(["not_logged"]),
            none
        )
    );
}
