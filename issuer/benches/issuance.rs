//! Issuer throughput (see `bench/README.md`, section "Issuer").
//!
//! ```text
//! TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo bench -p huren-issuer --bench issuance
//! ```
//!
//! A plain `harness = false` program (no criterion: every row is a throughput over seconds of
//! work, not a micro-benchmark). One run measures, in one process, against an issuer core built
//! as `tests/common/issuer.rs` builds it (plaintext keys from `init_region`, a trust list from
//! `trust_build`, `build_issuer`):
//!
//! - `sign`: raw `Signer::sign` of the province licence key on a real licence signing input
//!   (~700 bytes), ES256 and SM2SM3, one thread;
//! - `single`: `Issuer::issue` with 1, 8 and 32 concurrent tasks (two tokio workers), on
//!   SQLite (temporary file, WAL) and PostgreSQL, ES256 and SM2SM3, with p50/p99 latency;
//! - `batch`: `Issuer::issue_batch` with batches of 200 and 1,000 (target on SQLite:
//!   ≥ 5,000 licences/s);
//! - `pieces`: the per-licence steps of a single issuance (`Issuer::issue`'s statements and
//!   calls), replayed for 1,000 licences in one transaction with a savepoint each — the shape
//!   batches had before they were written chunk by chunk — and timed one by one: what each
//!   statement costs (batches now run a fixed number of statements per chunk instead);
//! - `rollover`: not a measurement — checks that batches fill status lists to 7/8 and then
//!   open the next, with each list's `allocated` equal to the licences it holds and an intact
//!   audit chain of one entry per licence;
//! - `status`: a 2^20-entry status list with 1 % revoked (rows inserted directly with SQL):
//!   `Publisher::current` cold (query + build + compress + sign) and warm (cached: what
//!   `GET /v1/status/{id}` serves; target < 50 ms), and the token size;
//! - `tlog`: batches of 1,000 with the region's transparency log on (its sequencer running
//!   beside them) and off, cells alternating, on SQLite and PostgreSQL (`issuance/tlog.rs`;
//!   issue 13: logging may cost at most 15 %).
//!
//! PostgreSQL rows run when `TEST_POSTGRES_URL` is set or the default
//! `postgres://postgres@127.0.0.1:5432/test` answers; each scenario gets a fresh database,
//! dropped at the end. Options (environment): `HUREN_BENCH_SECS` (seconds per throughput
//! cell, default 3), `HUREN_BENCH_ONLY` (comma-separated sections: sign, single, batch,
//! pieces, rollover, status, tlog; default all), `HUREN_BENCH_NO_PG=1` (skip PostgreSQL).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "issuance/tlog.rs"]
mod tlog;

use std::sync::Arc;
use std::time::{Duration, Instant};

use huren_crypto::alg::Algorithm;
use huren_crypto::ids::{LicenceId, RegionCode};
use huren_crypto::licence::{CivilDate, LicenceClaims};
use huren_crypto::qr;
use huren_crypto::status_list::{StatusListPointer, StatusReference};
use huren_crypto::time::{FixedClock, UnixTime};
use huren_crypto::Signer;
use huren_issuer::app::build_issuer;
use huren_issuer::config::IssuerFile;
use huren_issuer::issuance::{IssueRequest, Issuer};
use huren_issuer::publish::Publisher;
use huren_issuer::tokens::{Principal, Scope};
use huren_keys::layout::{self, InitRegion};
use huren_keys::store::Protection;
use huren_keys::trust_build;
use rand_core::RngCore;
use sqlx::{Connection, Row};

/// "Now" for the bench: the PKI is made an hour before (as in tests/common/issuer.rs).
const NOW: UnixTime = UnixTime(1_795_400_000);
const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";
/// Entries in the big status list.
const BIG_LIST: i64 = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Db {
    Sqlite,
    Postgres,
}

impl Db {
    fn name(self) -> &'static str {
        match self {
            Db::Sqlite => "SQLite",
            Db::Postgres => "PostgreSQL",
        }
    }
}

/// An issuer core on a fresh database, and what is needed to clean up after it.
struct Bench {
    _dir: tempfile::TempDir,
    issuer: Arc<Issuer>,
    principal: Principal,
    /// (server URL, database name) of a PostgreSQL database to drop afterwards.
    pg_drop: Option<(String, String)>,
}

fn secs() -> f64 {
    std::env::var("HUREN_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0)
}

fn wanted(section: &str) -> bool {
    match std::env::var("HUREN_BENCH_ONLY") {
        Ok(only) if !only.trim().is_empty() => only.split(',').any(|s| s.trim() == section),
        _ => true,
    }
}

fn rand_suffix() -> String {
    format!("{:016x}", rand_core::OsRng.next_u64())
}

async fn pg_url() -> Option<String> {
    if std::env::var("HUREN_BENCH_NO_PG").is_ok_and(|v| v == "1") {
        return None;
    }
    let url = std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| DEFAULT_PG.to_owned());
    match sqlx::postgres::PgConnection::connect(&url).await {
        Ok(conn) => {
            let _ = conn.close().await;
            Some(url)
        }
        Err(e) => {
            eprintln!("PostgreSQL at {url} not reachable ({e}): PostgreSQL rows skipped");
            None
        }
    }
}

/// As `fresh_postgres` in tests/common/issuer.rs: a uniquely named database on the server.
async fn fresh_postgres(base: &str) -> (String, String) {
    let mut conn = sqlx::postgres::PgConnection::connect(base).await.unwrap();
    let name = format!("huren_bench_{}_{}", std::process::id(), rand_suffix());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let _ = conn.close().await;
    let (prefix, _) = base.rsplit_once('/').unwrap();
    (format!("{prefix}/{name}"), name)
}

async fn setup(alg: Algorithm, db: Db, pg: Option<&str>, capacity: i64) -> Bench {
    setup_with(alg, db, pg, capacity, true).await
}

/// As [`setup`], for a region without a transparency log (`Issuer.log = None`: what the
/// issuer does without a log key).
async fn setup_without_log(alg: Algorithm, db: Db, pg: Option<&str>, capacity: i64) -> Bench {
    setup_with(alg, db, pg, capacity, false).await
}

async fn setup_with(alg: Algorithm, db: Db, pg: Option<&str>, capacity: i64, log: bool) -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let made = NOW.minus(3600);
    let operator = layout::init_operator(
        &dir.path().join("op"),
        "测试运营方",
        Algorithm::Es256,
        Protection::Plaintext,
        made,
    )
    .unwrap();
    let init = InitRegion {
        code: RegionCode::parse("330000").unwrap(),
        name: "浙江省".into(),
        alg,
        public_url: "https://issuer.zj.example".into(),
        protection: Protection::Plaintext,
        now: made,
    };
    let region = layout::init_region(&dir.path().join("zj"), &init).unwrap();
    let claims = trust_build::assemble("测试运营方", &[region], 1, made, 7 * 86_400).unwrap();
    let token = trust_build::sign(
        &claims,
        &operator.key(None).unwrap(),
        &operator.certificate().unwrap(),
    )
    .unwrap();
    std::fs::write(dir.path().join("trust-list.jwt"), &token).unwrap();
    let (database_url, pg_drop) = match db {
        Db::Sqlite => (
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("issuer.db").display()
            ),
            None,
        ),
        Db::Postgres => {
            let base = pg.unwrap();
            let (url, name) = fresh_postgres(base).await;
            (url, Some((base.to_owned(), name)))
        }
    };
    let file = IssuerFile {
        region_dir: Some(dir.path().join("zj")),
        trust_list: Some(dir.path().join("trust-list.jwt")),
        operator_cert: Some(vec![dir.path().join("op/operator.crt.pem")]),
        database_url: Some(database_url),
        data_dir: Some(dir.path().join("data")),
        status_list_capacity: Some(capacity),
        allow_plaintext_keys: Some(true), // the bench PKI is plaintext
        ..IssuerFile::default()
    };
    let config = file.resolve().unwrap();
    let (mut issuer, _) = build_issuer(&config, None, Arc::new(FixedClock(NOW)))
        .await
        .unwrap();
    if !log {
        issuer.log = None;
    }
    let principal = Principal {
        id: "bench".into(),
        region: issuer.keys.region.clone(),
        scopes: vec![Scope::Issue, Scope::Read, Scope::Revoke, Scope::Audit],
        types: vec!["*".into()],
    };
    Bench {
        _dir: dir,
        issuer: Arc::new(issuer),
        principal,
        pg_drop,
    }
}

impl Bench {
    async fn finish(self) {
        self.issuer.store.pool().close().await;
        if let Some((base, name)) = self.pg_drop {
            if let Ok(mut conn) = sqlx::postgres::PgConnection::connect(&base).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
                let _ = conn.close().await;
            }
        }
    }
}

/// A valid 建筑业企业资质证书 request (as `building_licence` in tests/common/issuer.rs).
fn building_licence() -> IssueRequest {
    serde_json::from_value(serde_json::json!({
        "type_code": "11100000000013338W032",
        "number": "D233012345",
        "holder": {"name": "杭州示例建设有限公司", "id_type": "001", "id": "91350100M000100Y43"},
        "issuer": {"name": "浙江省住房和城乡建设厅", "code": "11220000013544541J"},
        "face": {"qualification": "建筑工程施工总承包壹级", "legal_representative": "王五", "registered_capital": "5000万元人民币",
                 "address": "杭州市西湖区示例路1号", "economic_nature": "有限责任公司"}
    }))
    .unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

// ---------------------------------------------------------------- sign

/// Raw signing: best of three one-second blocks, one thread.
fn raw_sign_rate(signer: &dyn Signer, message: &[u8]) -> f64 {
    let mut best = 0.0f64;
    for _ in 0..3 {
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < Duration::from_secs(1) {
            for _ in 0..50 {
                std::hint::black_box(signer.sign(std::hint::black_box(message)).unwrap());
            }
            n += 50;
        }
        best = best.max(n as f64 / start.elapsed().as_secs_f64());
    }
    best
}

async fn sign_section() {
    println!("\n## sign: raw Signer::sign of the licence key, one thread (best of 3 × 1 s)\n");
    println!("| alg | message bytes | signatures/s | µs/signature |");
    println!("|---|---:|---:|---:|");
    for alg in [Algorithm::Es256, Algorithm::Sm2Sm3] {
        let b = setup(alg, Db::Sqlite, None, 1 << 17).await;
        let (issued, _) = b
            .issuer
            .issue(&b.principal, &building_licence(), None)
            .await
            .unwrap();
        let message = issued.token.rsplit_once('.').unwrap().0.as_bytes().to_vec();
        let rate = tokio::task::block_in_place(|| raw_sign_rate(&b.issuer.keys.signer, &message));
        println!(
            "| {} | {} | {:.0} | {:.1} |",
            alg.name(),
            message.len(),
            rate,
            1e6 / rate
        );
        b.finish().await;
    }
}

// ---------------------------------------------------------------- single

struct Cell {
    count: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

/// `tasks` tasks each issuing one licence after another for `secs` seconds.
async fn run_single(b: &Bench, tasks: usize, secs: f64) -> Cell {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let issuer = b.issuer.clone();
        let principal = b.principal.clone();
        handles.push(tokio::spawn(async move {
            let request = building_licence();
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                issuer.issue(&principal, &request, None).await.unwrap();
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for h in handles {
        latencies.extend(h.await.unwrap());
    }
    let elapsed = start.elapsed();
    latencies.sort();
    Cell {
        count: latencies.len() as u64,
        elapsed,
        latencies,
    }
}

async fn single_section(pg: Option<&str>) {
    let secs = secs();
    println!(
        "\n## single: Issuer::issue, N concurrent tasks on 2 tokio workers, {secs} s per cell\n"
    );
    println!("| database | alg | tasks | licences | licences/s | p50 ms | p99 ms | load |");
    println!("|---|---|---:|---:|---:|---:|---:|---|");
    for db in [Db::Sqlite, Db::Postgres] {
        if db == Db::Postgres && pg.is_none() {
            continue;
        }
        for alg in [Algorithm::Es256, Algorithm::Sm2Sm3] {
            let b = setup(alg, db, pg, 1 << 17).await;
            // Warm-up: connections open, statements prepared, list created.
            run_single(&b, 8, 0.3).await;
            for tasks in [1, 8, 32] {
                let cell = run_single(&b, tasks, secs).await;
                println!(
                    "| {} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {} |",
                    db.name(),
                    alg.name(),
                    tasks,
                    cell.count,
                    cell.count as f64 / cell.elapsed.as_secs_f64(),
                    ms(percentile(&cell.latencies, 50.0)),
                    ms(percentile(&cell.latencies, 99.0)),
                    loadavg()
                );
            }
            b.finish().await;
        }
    }
}

// ---------------------------------------------------------------- batch

async fn batch_section(pg: Option<&str>) {
    let secs = secs();
    println!("\n## batch: Issuer::issue_batch, one caller, batches back to back for ≥ {secs} s\n");
    println!("| database | alg | batch | batches | licences/s (all) | ms/batch best / median / worst | licences/s (best batch) | load |");
    println!("|---|---|---:|---:|---:|---:|---:|---|");
    for db in [Db::Sqlite, Db::Postgres] {
        if db == Db::Postgres && pg.is_none() {
            continue;
        }
        for alg in [Algorithm::Es256, Algorithm::Sm2Sm3] {
            let b = setup(alg, db, pg, 1 << 17).await;
            let warm: Vec<IssueRequest> = (0..50).map(|_| building_licence()).collect();
            b.issuer.issue_batch(&b.principal, &warm).await.unwrap();
            for size in [200usize, 1000] {
                let requests: Vec<IssueRequest> = (0..size).map(|_| building_licence()).collect();
                let start = Instant::now();
                let mut times = Vec::new();
                while times.len() < 3 || start.elapsed().as_secs_f64() < secs {
                    let t = Instant::now();
                    let results = b.issuer.issue_batch(&b.principal, &requests).await.unwrap();
                    times.push(t.elapsed());
                    assert!(results.iter().all(Result::is_ok));
                }
                let elapsed = start.elapsed();
                times.sort();
                println!(
                    "| {} | {} | {} | {} | {:.0} | {:.1} / {:.1} / {:.1} | {:.0} | {} |",
                    db.name(),
                    alg.name(),
                    size,
                    times.len(),
                    times.len() as f64 * size as f64 / elapsed.as_secs_f64(),
                    ms(times[0]),
                    ms(percentile(&times, 50.0)),
                    ms(times[times.len() - 1]),
                    size as f64 / times[0].as_secs_f64(),
                    loadavg()
                );
            }
            b.finish().await;
        }
    }
}

// ---------------------------------------------------------------- pieces

/// Accumulated time per step.
#[derive(Default)]
struct Pieces {
    names: Vec<&'static str>,
    totals: Vec<Duration>,
}

impl Pieces {
    fn add(&mut self, name: &'static str, d: Duration) {
        match self.names.iter().position(|n| *n == name) {
            Some(i) => self.totals[i] += d,
            None => {
                self.names.push(name);
                self.totals.push(d);
            }
        }
    }
}

macro_rules! timed {
    ($pieces:expr, $name:expr, $e:expr) => {{
        let t = Instant::now();
        let v = $e;
        $pieces.add($name, t.elapsed());
        v
    }};
}

/// The per-licence work of a single issuance (`Issuer::issue`: `allocate_index`,
/// `new_licence_id`, signing, self-check, `store_in`) without supersession or idempotency,
/// step by step with the same SQL, in one transaction with a savepoint per licence, all inline
/// on one task: as batches did it before they were written chunk by chunk (the rows marked
/// `[batch: …]` say what a batch does instead). Keep in step with issuer/src/issuance.rs (a
/// measuring copy, not product code).
async fn pieces_batch(b: &Bench, n: usize) -> (Pieces, Duration) {
    let issuer = &b.issuer;
    let principal = &b.principal;
    let request = building_licence();
    let region = issuer.keys.region.to_string();
    let mut p = Pieces::default();
    let start = Instant::now();
    let (mut tx, mut seq) = timed!(p, "begin + lock the region's audit head", {
        let tx = issuer.store.begin().await.unwrap();
        let seq = tx.head().seq;
        (tx, seq)
    });
    let today = CivilDate(NOW.china_date().unwrap());
    for _ in 0..n {
        let licence = timed!(p, "require + prepare (catalogue check)", {
            principal
                .require(Scope::Issue, &issuer.keys.region, Some(&request.type_code))
                .unwrap();
            issuer.prepare(&request, today).unwrap()
        });
        let mut item = timed!(
            p,
            "SAVEPOINT [batch: none]",
            sqlx::Acquire::begin(&mut *tx).await.unwrap()
        );
        let (list_id, cap) = timed!(
            p,
            "allocate: SELECT open status list [batch: once per batch]",
            {
                let row = sqlx::query("SELECT id, seq, capacity, allocated FROM status_lists WHERE region = $1 ORDER BY seq DESC LIMIT 1")
                .bind(&region)
                .fetch_optional(&mut *item)
                .await
                .unwrap()
                .expect("warm-up created the list");
                (
                    row.try_get::<String, _>("id").unwrap(),
                    row.try_get::<i64, _>("capacity").unwrap(),
                )
            }
        );
        let idx = timed!(
            p,
            "allocate: SELECT idx taken? [batch: one IN (…) per chunk and round]",
            {
                loop {
                    let idx = (rand_core::OsRng.next_u64() % cap as u64) as i64;
                    let taken = sqlx::query(
                        "SELECT 1 AS taken FROM licences WHERE list_id = $1 AND idx = $2",
                    )
                    .bind(&list_id)
                    .bind(idx)
                    .fetch_optional(&mut *item)
                    .await
                    .unwrap();
                    if taken.is_none() {
                        break idx;
                    }
                }
            }
        );
        timed!(
            p,
            "allocate: UPDATE status_lists allocated [batch: once per list]",
            sqlx::query("UPDATE status_lists SET allocated = allocated + 1 WHERE id = $1")
                .bind(&list_id)
                .execute(&mut *item)
                .await
                .unwrap()
        );
        let serial = format!(
            "{:04}{:010}",
            licence.issued_on.0.year(),
            rand_core::OsRng.next_u64() % 10_000_000_000
        );
        let jti = timed!(
            p,
            "new_licence_id: generate",
            LicenceId::generate(&licence.type_code, &licence.issuer.code, &serial, "001").unwrap()
        );
        timed!(
            p,
            "new_licence_id: SELECT jti exists? [batch: one IN (…) per chunk]",
            sqlx::query("SELECT 1 AS taken FROM licences WHERE jti = $1")
                .bind(jti.to_string())
                .fetch_optional(&mut *item)
                .await
                .unwrap()
        );
        let uri = issuer.keys.status_uri(&list_id);
        let type_code = licence.type_code.clone();
        let token = timed!(
            p,
            "LicenceClaims::new + sign (serialize, deflate, ECDSA)",
            {
                let claims = LicenceClaims::new(
                    issuer.keys.region.clone(),
                    jti.clone(),
                    NOW,
                    licence,
                    Some(StatusReference {
                        status_list: StatusListPointer {
                            idx: idx as u64,
                            uri: uri.clone(),
                        },
                    }),
                );
                claims
                    .sign(&issuer.keys.signer, issuer.keys.signer_cert.x5t_s256())
                    .unwrap()
            }
        );
        timed!(
            p,
            "self_check (parse + verify own signature) [batch: on a checker thread]",
            {
                let jws = huren_crypto::jws::UnverifiedJws::parse(
                    &token,
                    huren_crypto::jws::Limits::LICENCE,
                )
                .unwrap();
                jws.verify(issuer.keys.signer_cert.public_key()).unwrap();
            }
        );
        let id = jti.to_string();
        timed!(
            p,
            "INSERT licences [batch: one multi-row INSERT per chunk]",
            {
                sqlx::query(
                "INSERT INTO licences (jti, region, type_code, token, list_id, idx, status, supersedes, issued_at, issued_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9)",
            )
            .bind(&id)
            .bind(issuer.keys.region.as_str())
            .bind(&type_code)
            .bind(&token)
            .bind(&list_id)
            .bind(idx)
            .bind(None::<String>)
            .bind(NOW.seconds())
            .bind(&principal.id)
            .execute(&mut *item)
            .await
            .unwrap()
            }
        );
        // audit::append: seq/hash of the previous entry are kept in memory by issue_many;
        // the hash is SHA-256 over the JSON entry.
        let detail = timed!(p, "audit: detail JSON + entry hash", {
            let detail = serde_json::json!({"type_code": type_code, "list_id": list_id, "idx": idx, "supersedes": None::<String>}).to_string();
            use sha2::Digest;
            let mut h = sha2::Sha256::new();
            h.update(detail.as_bytes());
            (detail, hex::encode(h.finalize()))
        });
        seq += 1;
        timed!(
            p,
            "audit: INSERT audit_log [batch: one multi-row INSERT per chunk]",
            {
                sqlx::query(
                "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash, region) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(seq)
            .bind(NOW.seconds())
            .bind(&principal.id)
            .bind("issue")
            .bind(&id)
            .bind(&detail.0)
            .bind(&detail.1)
            .bind(&detail.1)
            .bind(&region)
            .execute(&mut *item)
            .await
            .unwrap()
            }
        );
        timed!(
            p,
            "audit: UPDATE audit_head [batch: once per batch]",
            sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE region = $3")
                .bind(seq)
                .bind(&detail.1)
                .bind(&region)
                .execute(&mut *item)
                .await
                .unwrap()
        );
        timed!(p, "qr::encode (HR1 text)", qr::encode(&token).unwrap());
        timed!(
            p,
            "RELEASE SAVEPOINT [batch: none]",
            item.commit().await.unwrap()
        );
    }
    // Leave the bench database as it was (these rows must not skew later rows).
    timed!(
        p,
        "ROLLBACK (COMMIT in the product)",
        tx.rollback().await.unwrap()
    );
    (p, start.elapsed())
}

async fn pieces_section(pg: Option<&str>) {
    let n = 1000;
    for db in [Db::Sqlite, Db::Postgres] {
        if db == Db::Postgres && pg.is_none() {
            continue;
        }
        let b = setup(Algorithm::Es256, db, pg, 1 << 17).await;
        let warm: Vec<IssueRequest> = (0..1000).map(|_| building_licence()).collect();
        b.issuer.issue_batch(&b.principal, &warm).await.unwrap();
        // Best of three runs (the least disturbed by other load).
        let mut best: Option<(Pieces, Duration)> = None;
        for _ in 0..3 {
            let run = pieces_batch(&b, n).await;
            if best.as_ref().is_none_or(|(_, d)| run.1 < *d) {
                best = Some(run);
            }
        }
        let (p, total) = best.unwrap();
        println!(
            "\n## pieces: one batch of {n} on {}, ES256, per item (best of 3; load {})\n",
            db.name(),
            loadavg()
        );
        println!("| step | µs/item | share |");
        println!("|---|---:|---:|");
        let sum: Duration = p.totals.iter().sum();
        for (name, d) in p.names.iter().zip(&p.totals) {
            println!(
                "| {name} | {:.1} | {:.1} % |",
                d.as_secs_f64() * 1e6 / n as f64,
                100.0 * d.as_secs_f64() / sum.as_secs_f64()
            );
        }
        println!(
            "| **total** (timed steps; wall {:.0} µs/item = {:.0} licences/s) | {:.1} | 100 % |",
            total.as_secs_f64() * 1e6 / n as f64,
            n as f64 / total.as_secs_f64(),
            sum.as_secs_f64() * 1e6 / n as f64
        );
        b.finish().await;
    }
}

// ---------------------------------------------------------------- rollover

/// Not a measurement: checks that batches fill status lists to 7/8 and open the next one,
/// with `allocated` equal to the licences each list holds (capacity 1,024: list 0 takes 896),
/// including a batch whose items partly fail.
async fn rollover_section(pg: Option<&str>) {
    for db in [Db::Sqlite, Db::Postgres] {
        if db == Db::Postgres && pg.is_none() {
            continue;
        }
        let b = setup(Algorithm::Es256, db, pg, 1024).await;
        b.issuer
            .issue(&b.principal, &building_licence(), None)
            .await
            .unwrap();
        // Refused by the supersession check (no such licence to supersede): writes nothing.
        let mut bad = building_licence();
        bad.supersedes =
            Some("1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F".into());
        for round in 0..3 {
            let mut requests: Vec<IssueRequest> = (0..700).map(|_| building_licence()).collect();
            if round == 1 {
                for i in (0..700).step_by(7) {
                    requests[i] = bad.clone();
                }
            }
            let results = b.issuer.issue_batch(&b.principal, &requests).await.unwrap();
            let failed = results.iter().filter(|r| r.is_err()).count();
            assert_eq!(failed, if round == 1 { 100 } else { 0 });
        }
        let rows = sqlx::query(
            "SELECT s.id AS id, s.seq AS seq, s.allocated AS allocated, \
             (SELECT COUNT(*) FROM licences l WHERE l.list_id = s.id) AS held \
             FROM status_lists s ORDER BY s.seq",
        )
        .fetch_all(b.issuer.store.pool())
        .await
        .unwrap();
        let mut summary = Vec::new();
        for row in &rows {
            let id: String = row.try_get("id").unwrap();
            let allocated: i64 = row.try_get("allocated").unwrap();
            let held: i64 = row.try_get("held").unwrap();
            assert_eq!(
                allocated, held,
                "list {id}: allocated {allocated}, holds {held}"
            );
            summary.push(format!("{id}: {held}"));
        }
        let total: i64 = 1 + 700 + 600 + 700;
        assert_eq!(rows.len(), 3, "{summary:?}");
        let first: i64 = rows[0].try_get("allocated").unwrap();
        let second: i64 = rows[1].try_get("allocated").unwrap();
        let third: i64 = rows[2].try_get("allocated").unwrap();
        assert_eq!((first, second, third), (896, 896, total - 2 * 896));
        let entries = huren_issuer::audit::verify_chain(&b.issuer.store)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(entries, total, "one audit entry per licence, chain intact");
        println!(
            "\nrollover check on {} (capacity 1024, batches of 700, 100 failing items): ok — {}",
            db.name(),
            summary.join(", ")
        );
        b.finish().await;
    }
}

// ---------------------------------------------------------------- status

/// Deterministic "random" 1 % of 2^20 indices (xorshift64*), distinct.
fn revoked_indices() -> std::collections::BTreeSet<i64> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut set = std::collections::BTreeSet::new();
    let target = (BIG_LIST / 100) as usize;
    while set.len() < target {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let v = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        set.insert((v % BIG_LIST as u64) as i64);
    }
    set
}

async fn status_section(pg: Option<&str>) {
    println!("\n## status: one status list of 2^20 entries, 1 % revoked\n");
    println!("| database | insert 2^20 rows s | cold (query+build+sign) ms | warm/served ms (median / p99 of 1000) | token bytes | lst bytes (base64url) | load |");
    println!("|---|---:|---:|---:|---:|---:|---|");
    let revoked = revoked_indices();
    for db in [Db::Sqlite, Db::Postgres] {
        if db == Db::Postgres && pg.is_none() {
            continue;
        }
        let b = setup(Algorithm::Es256, db, pg, 1 << 17).await;
        let region = b.issuer.keys.region.to_string();
        let list_id = format!("{region}-900");
        let t = Instant::now();
        {
            let mut tx = b.issuer.store.begin().await.unwrap();
            sqlx::query(&format!(
                "INSERT INTO status_lists (id, region, seq, capacity, allocated, version, created_at) \
                 VALUES ('{list_id}', '{region}', 900, {BIG_LIST}, {BIG_LIST}, 0, {})",
                NOW.seconds()
            ))
            .execute(&mut *tx)
            .await
            .unwrap();
            // Multi-row INSERTs of literal values (all generated here); the token column
            // holds a placeholder: publication reads only list_id, idx and status.
            const ROWS: i64 = 2000;
            let mut sql = String::with_capacity(ROWS as usize * 120);
            for chunk in 0..BIG_LIST / ROWS + 1 {
                let from = chunk * ROWS;
                let to = ((chunk + 1) * ROWS).min(BIG_LIST);
                if from >= to {
                    break;
                }
                sql.clear();
                sql.push_str("INSERT INTO licences (jti, region, type_code, token, list_id, idx, status, issued_at, issued_by) VALUES ");
                for idx in from..to {
                    if idx > from {
                        sql.push(',');
                    }
                    let status = i32::from(revoked.contains(&idx));
                    use std::fmt::Write;
                    write!(
                        sql,
                        "('bench.{idx:08}','{region}','11100000000013338W032','-','{list_id}',{idx},{status},{},'bench')",
                        NOW.seconds()
                    )
                    .unwrap();
                }
                sqlx::query(&sql).execute(&mut *tx).await.unwrap();
            }
            tx.commit().await.unwrap();
            if db == Db::Postgres {
                sqlx::query("ANALYZE licences")
                    .execute(b.issuer.store.pool())
                    .await
                    .unwrap();
            }
        }
        let insert = t.elapsed();
        let publisher = Publisher::new(300, 24 * 3600);
        // Cold: best of 3, each after a status change (version bump), as after a revocation.
        let mut cold = Duration::MAX;
        let mut token_len = 0;
        let mut lst_len = 0;
        for _ in 0..3 {
            sqlx::query("UPDATE status_lists SET version = version + 1 WHERE id = $1")
                .bind(&list_id)
                .execute(b.issuer.store.pool())
                .await
                .unwrap();
            let t = Instant::now();
            let published = publisher
                .current(&b.issuer, &list_id)
                .await
                .unwrap()
                .unwrap();
            cold = cold.min(t.elapsed());
            token_len = published.token.len();
            let payload = published.token.split('.').nth(1).unwrap();
            let json = huren_crypto::b64::decode_url(payload, 1 << 24).unwrap();
            let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
            lst_len = value["status_list"]["lst"].as_str().unwrap().len();
        }
        let mut warm = Vec::new();
        for _ in 0..1000 {
            let t = Instant::now();
            let published = publisher.current(&b.issuer, &list_id).await.unwrap();
            warm.push(t.elapsed());
            std::hint::black_box(published);
        }
        warm.sort();
        println!(
            "| {} | {:.1} | {:.1} | {:.3} / {:.3} | {} | {} | {} |",
            db.name(),
            insert.as_secs_f64(),
            ms(cold),
            ms(percentile(&warm, 50.0)),
            ms(percentile(&warm, 99.0)),
            token_len,
            lst_len,
            loadavg()
        );
        b.finish().await;
    }
}

fn main() {
    // `cargo bench` passes `--bench`; positional filters are not supported (use
    // HUREN_BENCH_ONLY).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let pg = pg_url().await;
        println!(
            "# huren issuer bench — load at start {} — PostgreSQL: {}",
            loadavg(),
            pg.as_deref().unwrap_or("not used")
        );
        if wanted("sign") {
            sign_section().await;
        }
        if wanted("single") {
            single_section(pg.as_deref()).await;
        }
        if wanted("batch") {
            batch_section(pg.as_deref()).await;
        }
        if wanted("pieces") {
            pieces_section(pg.as_deref()).await;
        }
        if wanted("rollover") {
            rollover_section(pg.as_deref()).await;
        }
        if wanted("status") {
            status_section(pg.as_deref()).await;
        }
        if wanted("tlog") {
            tlog::tlog_section(pg.as_deref()).await;
        }
        println!("\n# load at end {}", loadavg());
    });
}
