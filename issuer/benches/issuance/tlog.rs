//! `tlog`: batch issuance with the region's transparency log on and off (issue 13
//! "Benchmarks": logging may cost at most 15 %).
//!
//! Two issuer cores on fresh databases, built alike except that one has no log
//! (`Issuer.log = None`, as a region without a log key). Cells of batches of 1,000 back to back
//! for `HUREN_BENCH_SECS` alternate on / off / on / off …; while an "on" cell runs, the region's
//! sequencer runs beside it on the same runtime (two workers, this machine's two cores) exactly
//! as `App::serve` runs it: `huren_issuer::tlog::sequencer::run` (woken by every commit, then
//! the default 500 ms batching delay; idle 10 s; its witnessing task beside it, with no
//! witnesses here). After the cell the task is stopped and the sequencer drained with
//! `sequence_once` (timed), so "logged/s" counts only licences whose leaves are in the tree
//! under a signed checkpoint.

use huren_issuer::tlog::sequencer::{self, sequence_once};

use super::*;

/// Cells per mode (on and off alternate: on, off, on, off, …).
const ROUNDS: usize = 4;
const BATCH: usize = 1000;
/// As `App::serve` (issuer/src/app.rs).
const SEQUENCER_IDLE: Duration = Duration::from_secs(10);

struct TlogCell {
    licences: usize,
    issuing: Duration,
    drain: Duration,
    /// Leaves the sequencer appended while the cell ran.
    during: u64,
}

/// The tree's size as the sequencer last recorded it.
async fn logged_size(b: &Bench) -> u64 {
    let mut conn = b.issuer.store.acquire().await.unwrap();
    huren_issuer::store::log::state(&mut conn)
        .await
        .unwrap()
        .map_or(0, |(size, _)| size)
}

/// Runs the sequencer until nothing is left; how many rounds appended something.
async fn drain(issuer: &Issuer) -> u64 {
    let log = issuer.log.clone().expect("the region's log");
    let mut rounds = 0;
    while sequence_once(&issuer.store, &log, issuer.clock.as_ref())
        .await
        .expect("sequence_once")
        .is_some()
    {
        rounds += 1;
    }
    rounds
}

async fn cell(b: &Bench, requests: &[IssueRequest], secs: f64, log: bool) -> TlogCell {
    let size_before = logged_size(b).await;
    let sequencer = log.then(|| {
        let issuer = &b.issuer;
        let log = issuer.log.clone().expect("the region's log");
        tokio::spawn(sequencer::run(
            issuer.store.clone(),
            log,
            std::sync::Arc::clone(&issuer.clock),
            SEQUENCER_IDLE,
        ))
    });
    let start = Instant::now();
    let mut licences = 0;
    while licences == 0 || start.elapsed().as_secs_f64() < secs {
        let results = b.issuer.issue_batch(&b.principal, requests).await.unwrap();
        assert!(results.iter().all(Result::is_ok));
        licences += requests.len();
    }
    let issuing = start.elapsed();
    if let Some(handle) = sequencer {
        handle.abort();
        let _ = handle.await;
    }
    let during = logged_size(b).await - size_before;
    let t = Instant::now();
    if log {
        drain(&b.issuer).await;
    }
    TlogCell {
        licences,
        issuing,
        drain: t.elapsed(),
        during,
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

pub(super) async fn tlog_section(pg: Option<&str>) {
    let secs = secs();
    println!(
        "\n## tlog: Issuer::issue_batch of {BATCH}, ES256, the region's log on (sequencer running beside it) and off, cells alternating, ≥ {secs} s each\n"
    );
    println!("| database | cell | log | licences | licences/s issued | sequencer drain after the cell, ms | licences/s logged | leaves appended during the cell | load |");
    println!("|---|---:|---|---:|---:|---:|---:|---:|---|");
    let mut summary = Vec::new();
    for db in [Db::Sqlite, Db::Postgres] {
        if db == Db::Postgres && pg.is_none() {
            continue;
        }
        let on = setup(Algorithm::Es256, db, pg, 1 << 20).await;
        assert!(on.issuer.log.is_some(), "the region has no log key");
        let off = setup_without_log(Algorithm::Es256, db, pg, 1 << 20).await;
        let requests: Vec<IssueRequest> = (0..BATCH).map(|_| building_licence()).collect();
        // Warm-up: connections, statements, the first status list; the log's first checkpoint.
        for b in [&on, &off] {
            b.issuer
                .issue_batch(&b.principal, &requests[..50])
                .await
                .unwrap();
        }
        drain(&on.issuer).await;
        let (mut issued_on, mut logged_on, mut issued_off) = (Vec::new(), Vec::new(), Vec::new());
        // HUREN_BENCH_TLOG_FIRST=off: off, on, off, on … (checks that a cell's place matters).
        let off_first = std::env::var("HUREN_BENCH_TLOG_FIRST").is_ok_and(|v| v == "off");
        for k in 0..2 * ROUNDS {
            let log = (k % 2 == 0) != off_first;
            let b = if log { &on } else { &off };
            let c = cell(b, &requests, secs, log).await;
            let issued = c.licences as f64 / c.issuing.as_secs_f64();
            let logged = c.licences as f64 / (c.issuing + c.drain).as_secs_f64();
            println!(
                "| {} | {} | {} | {} | {:.0} | {:.0} | {} | {} | {} |",
                db.name(),
                k + 1,
                if log { "on" } else { "off" },
                c.licences,
                issued,
                ms(c.drain),
                if log {
                    format!("{logged:.0}")
                } else {
                    "—".into()
                },
                c.during,
                loadavg()
            );
            if log {
                issued_on.push(issued);
                logged_on.push(logged);
            } else {
                issued_off.push(issued);
            }
        }
        summary.push((
            db,
            median(&mut issued_on),
            median(&mut logged_on),
            median(&mut issued_off),
        ));
        on.finish().await;
        off.finish().await;
    }
    println!("\nMedians of the cells above:\n");
    println!("| database | off: licences/s | on: licences/s issued | on ÷ off | on: licences/s logged | logged ÷ off | cost of logging (logged) | ≤ 15 % |");
    println!("|---|---:|---:|---:|---:|---:|---:|---|");
    for (db, on, logged, off) in summary {
        println!(
            "| {} | {:.0} | {:.0} | {:.2} | {:.0} | {:.2} | {:.1} % | {} |",
            db.name(),
            off,
            on,
            on / off,
            logged,
            logged / off,
            100.0 * (1.0 - logged / off),
            if logged / off >= 0.85 { "yes" } else { "no" }
        );
    }
}
