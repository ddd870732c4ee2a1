//! Crash recovery of the bulk importer (SPEC §7 and §10): `huren issuer import` is killed with
//! SIGKILL part-way through a large CSV, and a re-run finishes the job without issuing any row
//! twice.
//!
//! The scenario, on SQLite and PostgreSQL (`TEST_POSTGRES_URL`; without it the PostgreSQL
//! variant is recorded as skipped, a failure under `CI`):
//!
//! 1. A fresh PKI (operator + Zhejiang) and trust list are made with the CLI in a temporary
//!    directory, and a CSV of 3,000 valid 建筑业企业资质证书 rows with 3 invalid rows at known
//!    line numbers (bad USCC check digit, missing required face field, unknown type code).
//! 2. `huren issuer import --chunk 100` runs as a child process; the test polls the database
//!    and sends SIGKILL once a few hundred licences are committed (asserting the process was
//!    really killed mid-way; an import that finished first, on a fast machine, proves nothing,
//!    and the scenario starts over with twice the rows).
//! 3. After the crash the database must be consistent: every stored token verifies with
//!    `huren_crypto` (only the status list is unavailable offline), no status-list index is
//!    handed out twice, the audit chain verifies, and every licence has its `import_rows`
//!    resume record (chunks commit whole or not at all).
//! 4. A re-run completes: exit 1 naming exactly the 3 bad rows on stderr, `issued +
//!    already_done == 3000`, 3,000 licences (one per CSV number), still no duplicate index, an
//!    intact audit chain; a third run issues nothing new.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

use std::collections::BTreeSet;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use huren_crypto::cert::Certificate;
use huren_crypto::time::Clock;
use huren_crypto::trust_list::TrustList;
use huren_crypto::verify::{verify_licence, NoStatusLists, Outcome, Verdict, VerifyOptions};
use huren_keys::SystemClock;
use sqlx::Row;

/// Valid rows in the import file (doubled when the import finishes before the kill).
const VALID_ROWS: usize = 3_000;
/// Rows per import transaction.
const CHUNK: &str = "100";
/// The import is killed once at least this many licences are committed.
const KILL_AFTER: i64 = 300;
/// How long the first run may go without committing `KILL_AFTER` licences before the test
/// gives up on it: a guard against a stuck import, not a speed requirement (how fast an import
/// runs is not asserted by any test).
const STUCK_AFTER: Duration = Duration::from_secs(60);

/// 建筑业企业资质证书 (face fields qualification, legal_representative, registered_capital,
/// address and economic_nature, all required).
const TYPE_CODE: &str = "11100000000013338W032";
/// A valid 统一社会信用代码 (reused by every holder; the importer does not mind).
const HOLDER_USCC: &str = "91350100M000100Y43";
/// The same code with a wrong check character.
const BAD_CHECK_USCC: &str = "91350100M000100Y44";
const ISSUER_NAME: &str = "浙江省住房和城乡建设厅";
const ISSUER_CODE: &str = "11220000013544541J";

const CSV_HEADER: &str = "type_code,number,holder_name,holder_id_type,holder_id,issuer_name,\
issuer_code,face.qualification,face.legal_representative,face.registered_capital,\
face.address,face.economic_nature";

/// What is wrong with an invalid row.
#[derive(Debug, Clone, Copy)]
enum Defect {
    BadUsccCheckDigit,
    MissingFaceField,
    UnknownTypeCode,
}

impl Defect {
    /// The field the importer's message for the row names first.
    fn field(self) -> &'static str {
        match self {
            Defect::BadUsccCheckDigit => "holder.id",
            Defect::MissingFaceField => "face.address",
            Defect::UnknownTypeCode => "type_code",
        }
    }
}

/// The invalid rows, by 0-based position among the data rows. The first comes before the kill
/// point, so it fails in the killed run too; the others only after the restart.
const DEFECTS: [(usize, Defect); 3] = [
    (150, Defect::BadUsccCheckDigit),
    (1_600, Defect::MissingFaceField),
    (2_900, Defect::UnknownTypeCode),
];

/// The line number (1-based, header = line 1) the importer reports for a data row.
fn line_of(position: usize) -> usize {
    position + 2
}

mod bulk_import_survives_kill_9_and_resumes {
    #[test]
    fn sqlite() {
        super::kill_and_resume(super::Backend::Sqlite);
    }

    #[test]
    fn postgres() {
        if let Some(url) = super::postgres_url() {
            super::kill_and_resume(super::Backend::Postgres(url));
        }
    }
}

/// `TEST_POSTGRES_URL`, or `None` after recording the calling test as skipped.
fn postgres_url() -> Option<String> {
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            skips::skipped("TEST_POSTGRES_URL is not set (no PostgreSQL)");
            None
        }
    }
}

/// Which database the issuer uses.
#[derive(Debug, Clone)]
enum Backend {
    Sqlite,
    /// A server; the scenario creates (and finally drops) its own database on it.
    Postgres(String),
}

impl Backend {
    /// For messages (a server URL may hold a password).
    fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres(_) => "PostgreSQL",
        }
    }
}

/// The working directory of one scenario: PKI, trust list, CSV, database.
struct Scenario {
    dir: tempfile::TempDir,
    database_url: String,
    /// `(server URL, database name)` of a PostgreSQL database to drop at the end.
    postgres: Option<(String, String)>,
    rt: tokio::runtime::Runtime,
}

impl Scenario {
    fn new(backend: &Backend) -> Scenario {
        sqlx::any::install_default_drivers();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (database_url, postgres) = match backend {
            Backend::Sqlite => (
                format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("issuer.db").display()
                ),
                None,
            ),
            Backend::Postgres(server) => {
                let (url, name) = rt.block_on(create_postgres_database(server));
                (url, Some((server.clone(), name)))
            }
        };
        Scenario {
            dir,
            database_url,
            postgres,
            rt,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `huren ARGS` in the scenario directory, configured for its issuer through the
    /// environment only (inherited `HUREN_*` settings removed).
    fn huren(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_huren"));
        command.args(args).current_dir(self.dir.path());
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("HUREN_") {
                command.env_remove(name);
            }
        }
        command
            .env("HUREN_ALLOW_PLAINTEXT_KEYS", "true")
            .env("HUREN_REGION_DIR", self.path("zj"))
            .env("HUREN_TRUST_LIST", self.path("trust-list.jwt"))
            .env("HUREN_OPERATOR_CERT", self.path("op/operator.crt.pem"))
            .env("HUREN_DATABASE_URL", &self.database_url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Runs `huren ARGS` to completion.
    fn run(&self, args: &[&str]) -> Output {
        self.huren(args).output().expect("the huren binary runs")
    }

    /// Makes the operator, the Zhejiang PKI and the trust list with the CLI.
    fn make_pki(&self) {
        for args in [
            &[
                "pki",
                "init-operator",
                "--out",
                "op",
                "--insecure-plaintext-keys",
            ][..],
            &[
                "pki",
                "init-region",
                "--region",
                "330000",
                "--out",
                "zj",
                "--public-url",
                "https://issuer.zj.example",
                "--insecure-plaintext-keys",
            ],
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
                "trust-list.jwt",
            ],
        ] {
            assert_success(&self.run(args), &args.join(" "));
        }
    }

    /// The trust list, verified against the pinned operator certificate.
    fn trust_list(&self) -> TrustList {
        let pinned = huren_keys::pem::read_certificates(&self.path("op/operator.crt.pem"))
            .unwrap()
            .iter()
            .map(|der| Certificate::from_der(der).unwrap())
            .collect::<Vec<_>>();
        let token = std::fs::read_to_string(self.path("trust-list.jwt")).unwrap();
        TrustList::verify(&token, &pinned).unwrap()
    }

    /// The import command (not yet started).
    fn import(&self) -> Command {
        self.huren(&[
            "issuer",
            "import",
            "--file",
            "licences.csv",
            "--chunk",
            CHUNK,
        ])
    }

    /// Runs the import to completion: its exit code, summary and stderr.
    fn import_to_completion(&self) -> (Option<i32>, Summary, String) {
        let output = self.import().output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let summary: Summary = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
            panic!("no JSON summary on stdout ({e}):\n{stdout}\nstderr:\n{stderr}")
        });
        (output.status.code(), summary, stderr)
    }

    /// `huren issuer audit verify` must report an intact chain.
    fn assert_audit_chain_intact(&self) {
        let output = self.run(&["issuer", "audit", "verify"]);
        assert_success(&output, "issuer audit verify");
        let report: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("audit verify prints JSON");
        assert_eq!(report["ok"], true, "{report}");
    }

    /// A pool on the issuer's database, or `None` while it cannot be opened yet.
    fn try_connect(&self, read_only: bool) -> Option<sqlx::AnyPool> {
        let url = if read_only {
            self.database_url.replace("mode=rwc", "mode=ro")
        } else {
            self.database_url.clone()
        };
        self.rt
            .block_on(
                sqlx::pool::PoolOptions::<sqlx::Any>::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect(&url),
            )
            .ok()
    }

    fn connect(&self) -> Database<'_> {
        Database {
            pool: self.try_connect(false).expect("the issuer database opens"),
            rt: &self.rt,
        }
    }
}

impl Drop for Scenario {
    fn drop(&mut self) {
        if let Some((server, name)) = self.postgres.take() {
            if std::thread::panicking() {
                eprintln!("PostgreSQL database {name} kept for inspection");
            } else {
                // Best effort: the server keeps nothing of a passing run.
                let _ = self.rt.block_on(drop_postgres_database(&server, &name));
            }
        }
    }
}

/// Creates a uniquely named database on the server; returns its URL and name.
async fn create_postgres_database(server: &str) -> (String, String) {
    use rand_core::RngCore;
    use sqlx::Connection;
    let mut conn = sqlx::postgres::PgConnection::connect(server)
        .await
        .expect("TEST_POSTGRES_URL must be reachable");
    let name = format!(
        "huren_import_{}_{:016x}",
        std::process::id(),
        rand_core::OsRng.next_u64()
    );
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let (prefix, _) = server.rsplit_once('/').unwrap();
    (format!("{prefix}/{name}"), name)
}

async fn drop_postgres_database(server: &str, name: &str) -> Result<(), sqlx::Error> {
    use sqlx::Connection;
    let mut conn = sqlx::postgres::PgConnection::connect(server).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// Read access to the issuer's tables.
struct Database<'a> {
    pool: sqlx::AnyPool,
    rt: &'a tokio::runtime::Runtime,
}

impl Database<'_> {
    /// `SELECT COUNT(*) …` (or any single BIGINT).
    fn try_count(&self, sql: &str) -> Result<i64, sqlx::Error> {
        self.rt.block_on(async {
            sqlx::query(sql)
                .fetch_one(&self.pool)
                .await?
                .try_get::<i64, _>(0)
        })
    }

    fn count(&self, sql: &str) -> i64 {
        self.try_count(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn licence_tokens(&self) -> Vec<String> {
        self.rt.block_on(async {
            sqlx::query("SELECT token FROM licences")
                .fetch_all(&self.pool)
                .await
                .unwrap()
                .iter()
                .map(|row| row.try_get::<String, _>("token").unwrap())
                .collect()
        })
    }

    fn close(self) {
        self.rt.block_on(self.pool.close());
    }
}

/// The importer's JSON summary.
#[derive(Debug, serde::Deserialize)]
struct Summary {
    rows: usize,
    issued: usize,
    already_done: usize,
    failed: usize,
}

#[track_caller]
fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "`huren {what}` failed ({}):\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Writes the import file: `valid_rows` valid rows (numbers D2330000001…) with the `DEFECTS`
/// rows among them. Returns the numbers of the valid rows.
fn write_import_csv(path: &Path, valid_rows: usize) -> BTreeSet<String> {
    use std::fmt::Write;
    let mut csv = String::with_capacity(200 * (valid_rows + DEFECTS.len()));
    csv.push_str(CSV_HEADER);
    csv.push('\n');
    let mut numbers = BTreeSet::new();
    let mut valid = 0;
    for position in 0..valid_rows + DEFECTS.len() {
        let defect = DEFECTS
            .iter()
            .find(|(p, _)| *p == position)
            .map(|(_, defect)| *defect);
        let (type_code, number, holder_id, address) = match defect {
            None => {
                valid += 1;
                let number = format!("D2330{valid:06}");
                numbers.insert(number.clone());
                (TYPE_CODE, number, HOLDER_USCC, "杭州市西湖区示例路1号")
            }
            Some(Defect::BadUsccCheckDigit) => (
                TYPE_CODE,
                "X0001".into(),
                BAD_CHECK_USCC,
                "杭州市西湖区示例路1号",
            ),
            Some(Defect::MissingFaceField) => (TYPE_CODE, "X0002".into(), HOLDER_USCC, ""),
            Some(Defect::UnknownTypeCode) => (
                "11100000000013338W999",
                "X0003".into(),
                HOLDER_USCC,
                "杭州市西湖区示例路1号",
            ),
        };
        writeln!(
            csv,
            "{type_code},{number},杭州示例建设第{position}有限公司,001,{holder_id},\
             {ISSUER_NAME},{ISSUER_CODE},建筑工程施工总承包壹级,王五,5000万元人民币,\
             {address},有限责任公司"
        )
        .unwrap();
    }
    assert_eq!(numbers.len(), valid_rows);
    std::fs::write(path, csv).unwrap();
    numbers
}

/// Checks what must hold after any run, finished or killed, and returns the licence count:
/// every token verifies (signature, chain, claims; only the status is unknown offline), no
/// licence number is issued twice, no status-list index is handed out twice, every licence has
/// its import record, and the audit chain is intact.
fn assert_consistent(scenario: &Scenario, trust: &TrustList) -> (i64, BTreeSet<String>) {
    let db = scenario.connect();
    let licences = db.count("SELECT COUNT(*) FROM licences");
    let import_rows = db.count("SELECT COUNT(*) FROM import_rows");
    assert_eq!(
        licences, import_rows,
        "every committed licence has its resume record and vice versa"
    );
    let linked = db.count("SELECT COUNT(*) FROM import_rows r JOIN licences l ON l.jti = r.jti");
    assert_eq!(linked, import_rows, "import_rows point at stored licences");
    let duplicate_indexes = db.count(
        "SELECT COUNT(*) FROM (SELECT list_id, idx FROM licences \
         GROUP BY list_id, idx HAVING COUNT(*) > 1) AS d",
    );
    assert_eq!(
        duplicate_indexes, 0,
        "a status-list index was handed out twice"
    );

    let now = SystemClock.now();
    let mut numbers = BTreeSet::new();
    let tokens = db.licence_tokens();
    assert_eq!(tokens.len() as i64, licences);
    for token in &tokens {
        let report = verify_licence(token, trust, &NoStatusLists, now, &VerifyOptions::default());
        assert_eq!(
            (report.verdict, report.reasons.as_slice()),
            (Verdict::Indeterminate, &[Outcome::StatusUnknown][..]),
            "{report:#?}"
        );
        let claims = report.claims.as_ref().expect("verified claims");
        assert!(
            numbers.insert(claims.licence.number.clone()),
            "licence number {} issued twice",
            claims.licence.number
        );
    }
    db.close();
    scenario.assert_audit_chain_intact();
    (licences, numbers)
}

fn kill_and_resume(backend: Backend) {
    // How far the import gets before the test sees KILL_AFTER licences depends on the
    // machine's speed. An import that got to the end was not killed mid-way and proves
    // nothing: the scenario starts over with a file twice as large, until the kill lands
    // mid-way. Speed decides how many attempts it takes, never whether the test passes.
    let mut valid_rows = VALID_ROWS;
    while !kill_and_resume_with(&backend, valid_rows) {
        valid_rows *= 2;
        eprintln!("the import finished before it was killed: again with {valid_rows} rows");
    }
}

/// The scenario with `valid_rows` valid rows; `false`, having checked nothing, when the first
/// run finished before it could be killed.
fn kill_and_resume_with(backend: &Backend, valid_rows: usize) -> bool {
    let started = Instant::now();
    let scenario = Scenario::new(backend);
    scenario.make_pki();
    let trust = scenario.trust_list();
    let numbers = write_import_csv(&scenario.path("licences.csv"), valid_rows);
    let setup = started.elapsed();

    // Run 1: killed once a few hundred licences are committed.
    let run1 = Instant::now();
    let mut child = scenario.import().spawn().unwrap();
    let mut probe = None;
    let seen = loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if run1.elapsed() > STUCK_AFTER {
            let _ = child.kill();
            panic!("no {KILL_AFTER} licences after {:?}", run1.elapsed());
        }
        if probe.is_none() {
            // Read-only on SQLite; the child creates the database and its tables.
            probe = scenario.try_connect(true).map(|pool| Database {
                pool,
                rt: &scenario.rt,
            });
        }
        if let Some(db) = &probe {
            match db.try_count("SELECT COUNT(*) FROM licences") {
                Ok(n) if n >= KILL_AFTER => break n,
                _ => {}
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    child.kill().unwrap(); // SIGKILL
    let killed = child.wait_with_output().unwrap();
    let run1 = run1.elapsed();
    if let Some(db) = probe {
        db.close();
    }
    assert_eq!(
        killed.status.signal(),
        Some(9),
        "the import was not killed mid-way: {}\nstdout:\n{}\nstderr:\n{}",
        killed.status,
        String::from_utf8_lossy(&killed.stdout),
        String::from_utf8_lossy(&killed.stderr)
    );
    assert!(
        killed.stdout.is_empty(),
        "a killed import prints no summary"
    );

    let (at_kill, issued_before) = assert_consistent(&scenario, &trust);
    assert!(
        at_kill >= seen && at_kill > 0 && at_kill < valid_rows as i64,
        "{at_kill} licences at kill time (saw {seen})"
    );
    assert!(issued_before.is_subset(&numbers));

    // Run 2: finishes the job; only the three bad rows fail, and they are named.
    let run2 = Instant::now();
    let (code, summary, stderr) = scenario.import_to_completion();
    let run2 = run2.elapsed();
    assert_eq!(code, Some(1), "some rows failed:\n{stderr}");
    assert_eq!(summary.rows, valid_rows + DEFECTS.len(), "{summary:?}");
    assert_eq!(summary.failed, DEFECTS.len(), "{summary:?}\n{stderr}");
    assert_eq!(
        summary.issued + summary.already_done,
        valid_rows,
        "{summary:?}"
    );
    assert_eq!(summary.already_done as i64, at_kill, "{summary:?}");
    let reported: Vec<&str> = stderr.lines().filter(|l| l.starts_with("row ")).collect();
    assert_eq!(reported.len(), DEFECTS.len(), "stderr:\n{stderr}");
    for (position, defect) in DEFECTS {
        let prefix = format!("row {}:", line_of(position));
        let message = format!("{prefix} {}:", defect.field());
        assert!(
            reported.iter().any(|l| l.starts_with(&message)),
            "{defect:?} row not reported as {message:?}; stderr:\n{stderr}"
        );
    }
    let (total, issued) = assert_consistent(&scenario, &trust);
    assert_eq!(total, valid_rows as i64);
    assert_eq!(issued, numbers, "each valid row issued exactly once");

    // Run 3: nothing left to do.
    let run3 = Instant::now();
    let (code, summary, stderr) = scenario.import_to_completion();
    let run3 = run3.elapsed();
    assert_eq!(code, Some(1), "the bad rows still fail:\n{stderr}");
    assert_eq!(
        (summary.issued, summary.already_done, summary.failed),
        (0, valid_rows, DEFECTS.len()),
        "{summary:?}"
    );
    let db = scenario.connect();
    assert_eq!(db.count("SELECT COUNT(*) FROM licences"), valid_rows as i64);
    db.close();
    scenario.assert_audit_chain_intact();

    let total = started.elapsed();
    eprintln!(
        "{}: killed at {at_kill} licences (polled {seen}); setup {setup:.1?}, \
         killed run {run1:.1?}, resumed run {run2:.1?}, no-op run {run3:.1?}, total {total:.1?}",
        backend.name()
    );
    true
}
