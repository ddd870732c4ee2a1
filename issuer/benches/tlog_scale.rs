//! The transparency log at 10 million entries (SPEC §12; issue 13 "Benchmarks"; see
//! `bench/README.md`, section "Transparency log").
//!
//! ```text
//! TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo bench -p huren-issuer --bench tlog_scale            # 10 M entries
//! cargo bench -p huren-issuer --bench tlog_scale -- --quick     # 100 k entries (dry run)
//! ```
//!
//! A plain `harness = false` program that prints Markdown tables. No licence is signed: the
//! tree is built from 10 M realistic canonical leaves (`LogEntry` of an `issue` event: `seq`,
//! `at` three seconds apart, a 证照标识 drawn as the issuer draws them, `token_sha256` of a
//! counter), with every stored hash kept in one `Vec` indexed by stored hash index
//! (`tlog_tiles::stored_hash_count(10 M)` ≈ 20 M hashes, 640 MB). Then:
//!
//! - `build`: time to build the tree (leaves made and hashed apart), and the sequencer's own
//!   append (`huren_crypto::tlog::tree::Frontier::append`) over the first million leaves;
//! - `tiles`: the C2SP tiles the tree has per level, their bytes, entry bundle bytes, and how
//!   many tiles a client fetches to check one inclusion proof from tiles alone
//!   (`tlog_tiles::TileHashReader`: the tiles on the path plus the right edge's);
//! - `proofs`: inclusion proof length and the time to compute one (from the in-memory hashes:
//!   `tlog_tiles::prove_record`, and the issuer's way — `tree::inclusion_indexes`, a `Fetched`
//!   map, `tree::inclusion_proof`) and to check one (`tree::check_inclusion`), median of
//!   10,000 random indexes; the consistency proof from 90 % of the tree to all of it;
//! - `db`: the stored hashes written to the `log_hashes` table of migration 0006 (SQLite file in
//!   WAL mode, and a fresh PostgreSQL database, dropped at the end) with multi-row `INSERT`s in
//!   big transactions, then the issuer's SQL for one proof (one `SELECT` of the `(level, n)`
//!   pairs `inclusion_indexes` names) and for one tile (a range of one level), through sqlx's
//!   `Any` driver as the issuer runs it, median and p99 over 1,000 random indexes (after 100
//!   not counted). Every proof and tile read back is compared with the in-memory one.
//!
//! Over 800 lines on purpose: one program whose sections share the tree, its readers and the
//! table helpers; the database part alone is half of it and needs the rest.
//!
//! Options: `--quick` (or `HUREN_TLOG_ENTRIES=<n>`) for a smaller tree; `HUREN_BENCH_NO_PG=1`
//! skips PostgreSQL, `HUREN_TLOG_NO_DB=1` both databases; `TEST_POSTGRES_URL` as in the
//! issuance bench (default `postgres://postgres@127.0.0.1:5432/test`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;
use std::collections::HashMap;
use std::str::FromStr;
use std::time::{Duration, Instant};

use huren_crypto::ids::LicenceId;
use huren_crypto::tlog::entry::{token_sha256, LogEntry};
use huren_crypto::tlog::tiles::{bundle, tiles_at, TilePath, TILE_WIDTH};
use huren_crypto::tlog::tree::{self, Fetched, Frontier};
use huren_crypto::tlog::Hash;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Connection, Row};
use tlog_tiles::{HashReader, Tile, TileHashReader, TileReader};

const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";
const REGION: &str = "330000";
/// The first entry's time; one entry every three seconds after it (10 M entries ≈ 1 year).
const T0: i64 = 1_795_400_000;
/// Random indexes for the in-memory proof timings.
const PROOF_SAMPLES: usize = 10_000;
/// Random indexes (tiles) for the database timings, after `DB_WARMUP` not counted.
const DB_SAMPLES: usize = 1_000;
const DB_WARMUP: usize = 100;
/// Time allowed to a proof SELECT that turns out to scan the region (at least 3 samples).
const PROOF_BUDGET: Duration = Duration::from_secs(30);
/// Rows per `INSERT` (4 parameters each: under SQLite's 32,766 and PostgreSQL's 65,535) and
/// `INSERT`s per transaction (≈ 1 M rows).
const ROWS_PER_INSERT: usize = 4096;
const INSERTS_PER_TX: usize = 256;

/// `log_hashes` as migration 0006 creates it (SQLite dialect).
const SQLITE_SCHEMA: &str = "CREATE TABLE log_hashes (
    region TEXT    NOT NULL,
    level  INTEGER NOT NULL,
    n      INTEGER NOT NULL,
    hash   BLOB    NOT NULL,
    PRIMARY KEY (region, level, n)
)";
/// `log_hashes` as migration 0006 creates it (PostgreSQL dialect).
const POSTGRES_SCHEMA: &str = "CREATE TABLE log_hashes (
    region TEXT    NOT NULL,
    level  BIGINT  NOT NULL,
    n      BIGINT  NOT NULL,
    hash   BYTEA   NOT NULL,
    PRIMARY KEY (region, level, n)
)";

// ---------------------------------------------------------------- helpers

/// splitmix64: deterministic pseudo-random numbers without a dependency.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// `count` pseudo-random numbers below `below` from `seed`.
fn sample(seed: u64, count: usize, below: u64) -> Vec<u64> {
    (0..count as u64)
        .map(|i| mix(seed ^ mix(i)) % below)
        .collect()
}

/// Leaf `i`: an `issue` event as the issuer logs it (the subject a 证照标识 drawn as
/// `issuance/ids.rs` draws them: year + 10 digits, version 001, correct check character).
fn entry(i: u64) -> LogEntry {
    let serial = format!("2026{:010}", mix(i) % 10_000_000_000);
    let id = LicenceId::generate(
        "11100000000013338W032",
        "11220000013544541J",
        &serial,
        "001",
    )
    .expect("a valid 证照标识");
    LogEntry {
        seq: i as i64 + 1,
        at: T0 + 3 * i as i64,
        action: "issue".into(),
        subject: id.to_string(),
        token_sha256: Some(token_sha256(&i.to_be_bytes())),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// "median / p99 / max" of `times` (sorted here), in µs.
fn spread_us(times: &mut [Duration]) -> String {
    times.sort();
    format!(
        "{:.2} / {:.2} / {:.2}",
        us(percentile(times, 50.0)),
        us(percentile(times, 99.0)),
        us(times[times.len() - 1])
    )
}

/// "median / p99 / max" of `times` (sorted here), in ms.
fn spread_ms(times: &mut [Duration]) -> String {
    times.sort();
    format!(
        "{:.3} / {:.3} / {:.3}",
        ms(percentile(times, 50.0)),
        ms(percentile(times, 99.0)),
        ms(times[times.len() - 1])
    )
}

/// "min / median / max" of counts.
fn spread_counts(counts: &mut [usize]) -> String {
    counts.sort_unstable();
    format!(
        "{} / {} / {}",
        counts[0],
        counts[counts.len() / 2],
        counts[counts.len() - 1]
    )
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

// ---------------------------------------------------------------- the tree in memory

/// Every stored hash of the tree, by stored hash index.
struct Stored<'a>(&'a [Hash]);

impl HashReader for Stored<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| {
                self.0
                    .get(i as usize)
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

impl Stored<'_> {
    fn at(&self, level: u8, n: u64) -> Hash {
        self.0[tlog_tiles::stored_hash_index(level, n) as usize]
    }

    /// The bytes of a hash tile: its hashes at tree level `8·L`, concatenated.
    fn tile(&self, level: u8, index: u64, width: u64) -> Vec<u8> {
        let tree_level = level * 8;
        (index * TILE_WIDTH..index * TILE_WIDTH + width)
            .flat_map(|n| self.at(tree_level, n).0)
            .collect()
    }

    /// The `Fetched` map the issuer builds from the rows it read.
    fn fetch(&self, indexes: &[u64]) -> Fetched {
        indexes.iter().map(|&i| (i, self.0[i as usize])).collect()
    }
}

/// A tile server over the stored hashes that records what a client fetched.
struct CountingTiles<'a> {
    hashes: Stored<'a>,
    fetched: RefCell<Vec<Tile>>,
}

impl TileReader for CountingTiles<'_> {
    fn height(&self) -> u8 {
        8
    }

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        self.fetched.borrow_mut().extend_from_slice(tiles);
        Ok(tiles
            .iter()
            .map(|t| {
                self.hashes
                    .tile(t.level(), t.level_index(), u64::from(t.width()))
            })
            .collect())
    }

    fn save_tiles(&self, _tiles: &[Tile], _data: &[Vec<u8>]) {}
}

struct Built {
    hashes: Vec<Hash>,
    root: Hash,
    /// Bytes of all leaves.
    leaf_bytes: u64,
}

fn build(size: u64) -> Built {
    println!("\n## build: a tree of {} leaves\n", thousands(size));
    let count = tlog_tiles::stored_hash_count(size);
    let mut hashes: Vec<Hash> = Vec::with_capacity(count as usize);
    let mut leaves: Vec<Vec<u8>> = Vec::with_capacity(4096);
    let (mut making, mut hashing) = (Duration::ZERO, Duration::ZERO);
    let mut leaf_bytes = 0u64;
    let (mut shortest, mut longest) = (usize::MAX, 0usize);
    let start = Instant::now();
    let mut i = 0u64;
    while i < size {
        let end = (i + 4096).min(size);
        let t = Instant::now();
        leaves.clear();
        leaves.extend((i..end).map(|k| entry(k).to_bytes()));
        making += t.elapsed();
        let t = Instant::now();
        for (k, leaf) in (i..end).zip(&leaves) {
            let new = tlog_tiles::stored_hashes(k, leaf, &Stored(&hashes)).expect("append");
            hashes.extend(new);
        }
        hashing += t.elapsed();
        for leaf in &leaves {
            leaf_bytes += leaf.len() as u64;
            shortest = shortest.min(leaf.len());
            longest = longest.max(leaf.len());
        }
        i = end;
    }
    let total = start.elapsed();
    assert_eq!(hashes.len() as u64, count, "stored hash count");
    let t = Instant::now();
    let root = tlog_tiles::tree_hash(size, &Stored(&hashes)).expect("root");
    let root_time = t.elapsed();

    // The sequencer's path: Frontier::append, which keeps only the right edge.
    let frontier_n = size.min(1_000_000);
    let mut frontier = Frontier::empty();
    let mut appending = Duration::ZERO;
    let mut i = 0u64;
    while i < frontier_n {
        let end = (i + 4096).min(frontier_n);
        leaves.clear();
        leaves.extend((i..end).map(|k| entry(k).to_bytes()));
        let t = Instant::now();
        for (k, leaf) in (i..end).zip(&leaves) {
            let new = frontier.append(leaf).expect("frontier append");
            debug_assert_eq!(new[0].0, tlog_tiles::stored_hash_index(0, k));
        }
        appending += t.elapsed();
        i = end;
    }
    let frontier_root = frontier.root().expect("frontier root");
    let vec_root = tlog_tiles::tree_hash(frontier_n, &Stored(&hashes)).expect("root");
    assert_eq!(
        frontier_root, vec_root,
        "Frontier and the stored hashes disagree"
    );

    println!("| measure | value |");
    println!("|---|---:|");
    println!("| leaves | {} |", thousands(size));
    println!(
        "| stored hashes (`stored_hash_count`) | {} ({:.0} MB) |",
        thousands(count),
        count as f64 * 32.0 / 1e6
    );
    println!(
        "| leaf bytes: shortest / mean / longest | {} / {:.1} / {} |",
        shortest,
        leaf_bytes as f64 / size as f64,
        longest
    );
    println!(
        "| example leaf | `{}` |",
        String::from_utf8_lossy(&entry(0).to_bytes())
    );
    println!("| time to build, total | {:.1} s |", total.as_secs_f64());
    println!(
        "| … making the leaves (`LogEntry`, 证照标识, SHA-256 of the token, JSON) | {:.1} s ({:.2} µs/leaf) |",
        making.as_secs_f64(),
        us(making) / size as f64
    );
    println!(
        "| … hashing into the tree (`tlog_tiles::stored_hashes` over the `Vec`) | {:.1} s ({:.2} µs/leaf) |",
        hashing.as_secs_f64(),
        us(hashing) / size as f64
    );
    println!("| root from the stored hashes | {:.1} µs |", us(root_time));
    println!(
        "| sequencer append (`tree::Frontier::append`), first {} leaves | {:.2} µs/leaf |",
        thousands(frontier_n),
        us(appending) / frontier_n as f64
    );
    println!("| resident memory after the build | {:.0} MiB |", rss_mib());
    Built {
        hashes,
        root,
        leaf_bytes,
    }
}

// ---------------------------------------------------------------- tiles

fn tiles_section(size: u64, built: &Built) {
    let stored = Stored(&built.hashes);
    println!(
        "\n## tiles: C2SP tlog-tiles of the tree of {}\n",
        thousands(size)
    );
    println!("| tiles | tree level | full tiles | partial tile (width) | bytes of a full tile | bytes of the partial | bytes of the level |");
    println!("|---|---:|---:|---|---:|---:|---:|");
    for level in 0u8..8 {
        let tiles = tiles_at(size, Some(level));
        if tiles.is_empty() {
            break;
        }
        let full: Vec<&TilePath> = tiles
            .iter()
            .filter(|t| u64::from(t.width) == TILE_WIDTH)
            .collect();
        let partial = tiles.iter().find(|t| u64::from(t.width) < TILE_WIDTH);
        let full_bytes = full
            .first()
            .map(|t| stored.tile(level, t.index, TILE_WIDTH).len());
        let partial_bytes = partial.map(|t| stored.tile(level, t.index, u64::from(t.width)).len());
        let level_bytes = full.len() * full_bytes.unwrap_or(0) + partial_bytes.unwrap_or(0);
        println!(
            "| level {level} | {} | {} | {} | {} | {} | {} |",
            level * 8,
            thousands(full.len() as u64),
            partial.map_or("none".into(), |t| format!(
                "`{}` ({})",
                t.to_path(),
                t.width
            )),
            full_bytes.map_or("— (none full)".into(), |b| thousands(b as u64)),
            partial_bytes.map_or("—".into(), |b| thousands(b as u64)),
            thousands(level_bytes as u64),
        );
    }

    // Entry bundles: every full bundle of a sample, rebuilt from its leaves.
    let bundles = tiles_at(size, None);
    let full_bundles = (size / TILE_WIDTH).max(1);
    let mut sizes: Vec<usize> = sample(7, 200.min(full_bundles as usize), full_bundles)
        .into_iter()
        .filter(|&b| (b + 1) * TILE_WIDTH <= size)
        .map(|b| {
            let leaves: Vec<Vec<u8>> = (b * TILE_WIDTH..(b + 1) * TILE_WIDTH)
                .map(|k| entry(k).to_bytes())
                .collect();
            bundle(&leaves).expect("bundle").len()
        })
        .collect();
    let partial = bundles.iter().find(|t| u64::from(t.width) < TILE_WIDTH);
    println!(
        "| entries | 0 | {} | {} | {} (min / median / max of {} full bundles) | — | {} |",
        thousands(size / TILE_WIDTH),
        partial.map_or("none".into(), |t| format!(
            "`{}` ({})",
            t.to_path(),
            t.width
        )),
        if sizes.is_empty() {
            "—".into()
        } else {
            spread_counts(&mut sizes)
        },
        sizes.len(),
        thousands(built.leaf_bytes + 2 * size),
    );

    // What a client fetches to check one inclusion proof from tiles alone.
    let indexes = sample(11, 1_000, size);
    let mut counts = Vec::new();
    let mut partials = Vec::new();
    let mut bytes = Vec::new();
    let mut example = None;
    for &index in &indexes {
        let server = CountingTiles {
            hashes: Stored(&built.hashes),
            fetched: RefCell::new(Vec::new()),
        };
        let reader = TileHashReader::new(size, built.root, &server);
        let proof = tlog_tiles::prove_record(size, index, &reader).expect("proof from tiles");
        assert_eq!(
            proof,
            tlog_tiles::prove_record(size, index, &stored).expect("proof"),
            "proof from tiles differs"
        );
        let fetched = server.fetched.into_inner();
        counts.push(fetched.len());
        partials.push(fetched.iter().filter(|t| t.width() < 256).count());
        bytes.push(
            fetched
                .iter()
                .map(|t| t.width() as usize * 32)
                .sum::<usize>(),
        );
        if example.is_none() {
            let paths: Vec<String> = fetched
                .iter()
                .map(|t| {
                    TilePath {
                        level: Some(t.level()),
                        index: t.level_index(),
                        width: t.width() as u16,
                    }
                    .to_path()
                })
                .collect();
            example = Some((index, paths));
        }
    }
    println!("\nA client checking one inclusion proof from tiles alone (`tlog_tiles::TileHashReader` over a tile server that counts; it fetches the tiles holding the proof's hashes and their parents, and the right-edge tiles that make the checkpoint's root; no cache), over {} random indexes:\n", indexes.len());
    println!("| measure | min / median / max |");
    println!("|---|---:|");
    println!("| tiles fetched | {} |", spread_counts(&mut counts));
    println!(
        "| … of which partial (right edge) | {} |",
        spread_counts(&mut partials)
    );
    println!("| bytes fetched | {} |", spread_counts(&mut bytes));
    if let Some((index, paths)) = example {
        println!("\nFor example, entry {index}: {}", paths.join(", "));
    }
}

// ---------------------------------------------------------------- proofs

struct ProofStats {
    indexes: Vec<u64>,
    proofs: Vec<Vec<Hash>>,
}

fn proofs_section(size: u64, built: &Built) -> ProofStats {
    let stored = Stored(&built.hashes);
    let indexes = sample(13, PROOF_SAMPLES, size);
    println!(
        "\n## proofs: inclusion in the tree of {} ({} random indexes), consistency from {} to {}\n",
        thousands(size),
        thousands(indexes.len() as u64),
        thousands(size / 10 * 9),
        thousands(size)
    );

    // tlog_tiles over the Vec.
    let mut t_prove = Vec::with_capacity(indexes.len());
    let mut proofs = Vec::with_capacity(indexes.len());
    for &index in &indexes {
        let t = Instant::now();
        let proof = tlog_tiles::prove_record(size, index, &stored).expect("proof");
        t_prove.push(t.elapsed());
        proofs.push(proof);
    }
    // The issuer's way: indexes, a Fetched map, tree::inclusion_proof.
    let mut t_issuer = Vec::with_capacity(indexes.len());
    let mut reads = Vec::with_capacity(indexes.len());
    for (&index, expected) in indexes.iter().zip(&proofs) {
        let t = Instant::now();
        let needed = tree::inclusion_indexes(size, index).expect("indexes");
        let fetched = stored.fetch(&needed);
        let proof = tree::inclusion_proof(size, index, &fetched).expect("proof");
        t_issuer.push(t.elapsed());
        assert_eq!(&proof, expected, "tree::inclusion_proof differs");
        reads.push(needed.len());
    }
    // Checking: what a verifier does with a proof (the leaf hashed, the path to the root).
    let mut t_check = Vec::with_capacity(indexes.len());
    for (&index, proof) in indexes.iter().zip(&proofs) {
        let leaf = entry(index).to_bytes();
        let t = Instant::now();
        tree::check_inclusion(proof, size, &built.root, index, &leaf).expect("proof checks");
        t_check.push(t.elapsed());
    }
    let mut lengths: Vec<usize> = proofs.iter().map(Vec::len).collect();
    // The proof as the JSON answer carries it: base64 strings in an array.
    let mut json: Vec<usize> = proofs
        .iter()
        .map(|p| {
            // `["…","…"]`: each hash quoted, commas between, brackets around.
            p.iter().map(|h| base64_len(h.0.len()) + 2).sum::<usize>() + p.len().max(1) + 1
        })
        .collect();

    println!("| measure | value |");
    println!("|---|---:|");
    println!(
        "| inclusion proof length, hashes (min / median / max) | {} |",
        spread_counts(&mut lengths)
    );
    println!(
        "| … bytes (32 per hash) | {} / {} / {} |",
        lengths[0] * 32,
        lengths[lengths.len() / 2] * 32,
        lengths[lengths.len() - 1] * 32
    );
    println!(
        "| … as the `proof` array of `/v1/log/proof` (base64 strings), bytes | {} |",
        spread_counts(&mut json)
    );
    println!(
        "| stored hashes read (`inclusion_indexes`: the `(level, n)` pairs the SELECT names) | {} |",
        spread_counts(&mut reads)
    );
    println!(
        "| compute, `tlog_tiles::prove_record` over the `Vec`, µs (median / p99 / max) | {} |",
        spread_us(&mut t_prove)
    );
    println!(
        "| compute, the issuer's way (`inclusion_indexes` + `Fetched` + `inclusion_proof`), µs | {} |",
        spread_us(&mut t_issuer)
    );
    println!(
        "| check, `tree::check_inclusion` (leaf hash + path), µs | {} |",
        spread_us(&mut t_check)
    );

    // Consistency from 90 % of the tree to all of it.
    let old = size / 10 * 9;
    let old_root = tlog_tiles::tree_hash(old, &stored).expect("old root");
    let needed = tree::consistency_indexes(size, old).expect("indexes");
    let mut t_cons = Vec::new();
    let mut t_cons_check = Vec::new();
    let mut proof = Vec::new();
    for _ in 0..1_000 {
        let t = Instant::now();
        let needed = tree::consistency_indexes(size, old).expect("indexes");
        let fetched = stored.fetch(&needed);
        proof = tree::consistency_proof(size, old, &fetched).expect("consistency proof");
        t_cons.push(t.elapsed());
        let t = Instant::now();
        tree::check_consistency(&proof, old, &old_root, size, &built.root).expect("consistent");
        t_cons_check.push(t.elapsed());
    }
    println!(
        "| consistency proof {} → {}: hashes / bytes / stored hashes read | {} / {} / {} |",
        thousands(old),
        thousands(size),
        proof.len(),
        proof.len() * 32,
        needed.len()
    );
    println!(
        "| … compute, the issuer's way, µs (median / p99 / max of 1,000) | {} |",
        spread_us(&mut t_cons)
    );
    println!(
        "| … check, `tree::check_consistency`, µs | {} |",
        spread_us(&mut t_cons_check)
    );
    ProofStats { indexes, proofs }
}

/// Length of standard base64 of `n` bytes, padded.
fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

// ---------------------------------------------------------------- databases

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

/// A fresh database for one run, and how to remove it.
struct Database {
    db: Db,
    pool: AnyPool,
    /// SQLite: the directory holding the file.
    dir: Option<tempfile::TempDir>,
    /// PostgreSQL: (server URL, database name) to drop.
    pg_drop: Option<(String, String)>,
}

async fn open(db: Db, pg: Option<&str>) -> Database {
    sqlx::any::install_default_drivers();
    let (url, dir, pg_drop) = match db {
        Db::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary directory");
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("log.db").display());
            (url, Some(dir), None)
        }
        Db::Postgres => {
            let base = pg.expect("a PostgreSQL URL");
            let mut conn = sqlx::postgres::PgConnection::connect(base)
                .await
                .unwrap_or_else(|e| panic!("connect to {base}: {e}"));
            let name = format!("tlog_bench_{}", std::process::id());
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
            let _ = conn.close().await;
            let (prefix, _) = base.rsplit_once('/').expect("a database URL");
            (
                format!("{prefix}/{name}"),
                None,
                Some((base.to_owned(), name)),
            )
        }
    };
    let options = AnyConnectOptions::from_str(&url).expect("database URL");
    let mut pool = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(30));
    if db == Db::Sqlite {
        // As the issuer's store sets SQLite up (store/mod.rs).
        pool = pool.max_connections(8).after_connect(|conn, _| {
            Box::pin(async move {
                for pragma in [
                    "PRAGMA journal_mode = WAL",
                    "PRAGMA synchronous = NORMAL",
                    "PRAGMA busy_timeout = 10000",
                    "PRAGMA foreign_keys = ON",
                ] {
                    sqlx::query(pragma).execute(&mut *conn).await?;
                }
                Ok(())
            })
        });
    } else {
        pool = pool.max_connections(16);
    }
    let pool = pool
        .connect_with(options)
        .await
        .unwrap_or_else(|e| panic!("open {url}: {e}"));
    let schema = match db {
        Db::Sqlite => SQLITE_SCHEMA,
        Db::Postgres => POSTGRES_SCHEMA,
    };
    sqlx::query(schema)
        .execute(&pool)
        .await
        .expect("create log_hashes");
    Database {
        db,
        pool,
        dir,
        pg_drop,
    }
}

impl Database {
    async fn finish(self) {
        self.pool.close().await;
        if let Some((base, name)) = self.pg_drop {
            match sqlx::postgres::PgConnection::connect(&base).await {
                Ok(mut conn) => {
                    if let Err(e) =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut conn)
                            .await
                    {
                        eprintln!("DROP DATABASE {name}: {e} (drop it by hand)");
                    }
                    let _ = conn.close().await;
                }
                Err(e) => eprintln!("cannot reconnect to drop {name}: {e} (drop it by hand)"),
            }
        }
        drop(self.dir);
    }

    /// The database's size on disk, and a description.
    async fn size(&self) -> (u64, String) {
        match self.db {
            Db::Sqlite => {
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(&self.pool)
                    .await
                    .expect("checkpoint");
                let dir = self.dir.as_ref().expect("SQLite directory");
                let bytes: u64 = ["log.db", "log.db-wal"]
                    .iter()
                    .filter_map(|f| std::fs::metadata(dir.path().join(f)).ok())
                    .map(|m| m.len())
                    .sum();
                (bytes, "file (after a WAL checkpoint)".into())
            }
            Db::Postgres => {
                let row = sqlx::query(
                    "SELECT pg_database_size(current_database()), \
                     pg_relation_size('log_hashes'), pg_indexes_size('log_hashes')",
                )
                .fetch_one(&self.pool)
                .await
                .expect("sizes");
                let db: i64 = row.get(0);
                let table: i64 = row.get(1);
                let index: i64 = row.get(2);
                (
                    db as u64,
                    format!(
                        "`pg_database_size` (table {:.0} MB + primary key {:.0} MB)",
                        table as f64 / 1e6,
                        index as f64 / 1e6
                    ),
                )
            }
        }
    }
}

/// `INSERT INTO log_hashes … VALUES (…), …` of `rows` rows. SQLite gets `?` placeholders:
/// with `$N` ones, sqlx asks SQLite for every parameter's name, and
/// `sqlite3_bind_parameter_name` walks the statement's list of names, so binding 16,384 of
/// them costs 16,384² steps (6,000 rows/s instead of hundreds of thousands).
fn insert_sql(rows: usize, db: Db) -> String {
    let mut sql = String::from("INSERT INTO log_hashes (region, level, n, hash) VALUES ");
    for r in 0..rows {
        let p = 4 * r;
        if r > 0 {
            sql.push_str(", ");
        }
        match db {
            Db::Sqlite => sql.push_str("(?, ?, ?, ?)"),
            Db::Postgres => {
                sql.push_str(&format!("(${}, ${}, ${}, ${})", p + 1, p + 2, p + 3, p + 4))
            }
        }
    }
    sql
}

/// Writes every stored hash; returns the time taken.
async fn load(database: &Database, hashes: &[Hash]) -> Duration {
    let full_sql = insert_sql(ROWS_PER_INSERT, database.db);
    let start = Instant::now();
    for (c, chunk) in hashes.chunks(ROWS_PER_INSERT * INSERTS_PER_TX).enumerate() {
        let first = c * ROWS_PER_INSERT * INSERTS_PER_TX;
        let mut tx = database.pool.begin().await.expect("begin");
        for (s, rows) in chunk.chunks(ROWS_PER_INSERT).enumerate() {
            let base = first + s * ROWS_PER_INSERT;
            let partial_sql;
            let sql = if rows.len() == ROWS_PER_INSERT {
                &full_sql
            } else {
                partial_sql = insert_sql(rows.len(), database.db);
                &partial_sql
            };
            let mut query = sqlx::query(sql);
            for (k, hash) in rows.iter().enumerate() {
                let (level, n) = tlog_tiles::split_stored_hash_index((base + k) as u64);
                query = query
                    .bind(REGION)
                    .bind(i64::from(level))
                    .bind(n as i64)
                    .bind(&hash.0[..]);
            }
            query.execute(&mut *tx).await.expect("insert");
        }
        tx.commit().await.expect("commit");
    }
    start.elapsed()
}

/// How the SELECT of one proof's stored hashes is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `WHERE region = $1 AND ((level = $2 AND n = $3) OR …)`, as the issuer's
    /// `store::log::hashes` writes it (a0f900e): SQLite (3.46, as sqlx bundles it) plans it as
    /// a search of the primary key on `region` alone, i.e. a scan of the region's rows.
    RegionOutside,
    /// `WHERE (region = $1 AND level = $2 AND n = $3) OR …`: a primary-key lookup per pair
    /// in both databases (SQLite: MULTI-INDEX OR; PostgreSQL: BitmapOr).
    RegionInEach,
}

impl Shape {
    fn describe(self) -> &'static str {
        match self {
            Shape::RegionOutside => "`region = $1 AND ((level = $2 AND n = $3) OR …)`",
            Shape::RegionInEach => "`(region = $1 AND level = $2 AND n = $3) OR …`",
        }
    }
}

/// The SELECT of the stored hashes one proof reads: one `(level, n)` pair per hash.
fn proof_sql(pairs: usize, shape: Shape) -> String {
    let mut sql = String::from("SELECT level, n, hash FROM log_hashes WHERE ");
    if shape == Shape::RegionOutside {
        sql.push_str("region = $1 AND (");
    }
    for k in 0..pairs {
        if k > 0 {
            sql.push_str(" OR ");
        }
        let (l, n) = (2 * k + 2, 2 * k + 3);
        match shape {
            Shape::RegionOutside => sql.push_str(&format!("(level = ${l} AND n = ${n})")),
            Shape::RegionInEach => {
                sql.push_str(&format!("(region = $1 AND level = ${l} AND n = ${n})"))
            }
        }
    }
    if shape == Shape::RegionOutside {
        sql.push(')');
    }
    sql
}

const TILE_SQL: &str = "SELECT n, hash FROM log_hashes \
     WHERE region = $1 AND level = $2 AND n >= $3 AND n < $4 ORDER BY n";

/// One proof's hashes read as the issuer reads them.
async fn read_proof_hashes(pool: &AnyPool, sql: &str, needed: &[u64]) -> Fetched {
    let mut query = sqlx::query(sql).bind(REGION);
    for &i in needed {
        let (level, n) = tlog_tiles::split_stored_hash_index(i);
        query = query.bind(i64::from(level)).bind(n as i64);
    }
    let rows = query.fetch_all(pool).await.expect("proof SELECT");
    let mut fetched = Fetched::with_capacity(rows.len());
    for row in rows {
        let level: i64 = row.get(0);
        let n: i64 = row.get(1);
        let bytes: Vec<u8> = row.get(2);
        let hash: [u8; 32] = bytes.as_slice().try_into().expect("32-byte hash");
        fetched.insert(
            tlog_tiles::stored_hash_index(level as u8, n as u64),
            Hash(hash),
        );
    }
    fetched
}

async fn read_tile(pool: &AnyPool, level: u8, index: u64) -> Vec<u8> {
    let first = index * TILE_WIDTH;
    let rows = sqlx::query(TILE_SQL)
        .bind(REGION)
        .bind(i64::from(level) * 8)
        .bind(first as i64)
        .bind((first + TILE_WIDTH) as i64)
        .fetch_all(pool)
        .await
        .expect("tile SELECT");
    let mut out = Vec::with_capacity(rows.len() * 32);
    for row in rows {
        let bytes: Vec<u8> = row.get(1);
        out.extend_from_slice(&bytes);
    }
    out
}

/// The query plan of `sql` (bound as for entry `index`), one line.
async fn plan(database: &Database, sql: &str, needed: &[u64]) -> String {
    let explain = match database.db {
        Db::Sqlite => format!("EXPLAIN QUERY PLAN {sql}"),
        Db::Postgres => format!("EXPLAIN {sql}"),
    };
    let mut query = sqlx::query(&explain).bind(REGION);
    for &i in needed {
        let (level, n) = tlog_tiles::split_stored_hash_index(i);
        query = query.bind(i64::from(level)).bind(n as i64);
    }
    let rows = query.fetch_all(&database.pool).await.expect("EXPLAIN");
    let column = match database.db {
        Db::Sqlite => 3,
        Db::Postgres => 0,
    };
    // Conditions left out (they repeat the pairs); runs of one line counted.
    let mut lines: Vec<(String, usize)> = Vec::new();
    for row in &rows {
        let line = row.get::<String, _>(column);
        let line = line.trim();
        let line = line.split("  (cost=").next().unwrap_or(line).to_owned();
        let numbered = line
            .strip_prefix("INDEX ")
            .is_some_and(|k| k.bytes().all(|b| b.is_ascii_digit()));
        if line.contains("Cond:") || numbered {
            continue;
        }
        match lines.last_mut() {
            Some((last, n)) if *last == line => *n += 1,
            _ => lines.push((line, 1)),
        }
    }
    let lines: Vec<String> = lines
        .into_iter()
        .map(|(l, n)| if n > 1 { format!("{l} ×{n}") } else { l })
        .collect();
    format!("`{}`", lines.join(" · "))
}

struct DbRow {
    db: Db,
    load: Duration,
    rows: u64,
    size: (u64, String),
    /// Per SELECT shape: times, and the plan for the first index.
    proofs: Vec<(Shape, Vec<Duration>, String)>,
    tiles: Vec<(u8, Vec<Duration>)>,
}

async fn db_run(db: Db, pg: Option<&str>, size: u64, built: &Built, proofs: &ProofStats) -> DbRow {
    let database = open(db, pg).await;
    eprintln!(
        "{}: loading {} stored hashes (load {})",
        db.name(),
        built.hashes.len(),
        loadavg()
    );
    let load_time = load(&database, &built.hashes).await;
    if db == Db::Postgres {
        // What autovacuum does after a bulk load; the planner needs it.
        sqlx::query("VACUUM ANALYZE log_hashes")
            .execute(&database.pool)
            .await
            .expect("VACUUM ANALYZE");
    }
    let db_size = database.size().await;
    eprintln!("{}: loaded in {:.1} s", db.name(), load_time.as_secs_f64());

    // One proof: one SELECT of the pairs inclusion_indexes names, in each shape. A shape
    // that scans gets what fits in PROOF_BUDGET (at least 3 samples, no warm-up).
    let mut shapes = Vec::new();
    for shape in [Shape::RegionInEach, Shape::RegionOutside] {
        let mut sqls: HashMap<usize, String> = HashMap::new();
        let mut times = Vec::with_capacity(DB_SAMPLES);
        let mut example_plan = String::new();
        let started = Instant::now();
        let mut warmup = DB_WARMUP;
        for (k, (&index, expected)) in proofs
            .indexes
            .iter()
            .zip(&proofs.proofs)
            .take(DB_WARMUP + DB_SAMPLES)
            .enumerate()
        {
            let needed = tree::inclusion_indexes(size, index).expect("indexes");
            let sql = sqls
                .entry(needed.len())
                .or_insert_with(|| proof_sql(needed.len(), shape))
                .clone();
            if k == 0 {
                example_plan = plan(&database, &sql, &needed).await;
            }
            let t = Instant::now();
            let fetched = read_proof_hashes(&database.pool, &sql, &needed).await;
            let elapsed = t.elapsed();
            let proof = tree::inclusion_proof(size, index, &fetched).expect("proof from rows");
            assert_eq!(&proof, expected, "proof from {} differs", db.name());
            if k == 0 && elapsed > Duration::from_millis(50) {
                // A scan: no warm-up, what the budget allows.
                warmup = 0;
            }
            if k >= warmup {
                times.push(elapsed);
            }
            if warmup == 0 && times.len() >= 3 && started.elapsed() > PROOF_BUDGET {
                break;
            }
        }
        shapes.push((shape, times, example_plan));
    }

    // One tile: full tiles of levels 0 and 1 (a full one of level 2 needs 16.8 M entries).
    let stored = Stored(&built.hashes);
    let mut tiles = Vec::new();
    for level in [0u8, 1] {
        let full = (size >> (8 * u32::from(level))) / TILE_WIDTH;
        if full == 0 {
            continue;
        }
        let mut times = Vec::with_capacity(DB_SAMPLES);
        for (k, index) in sample(17 + u64::from(level), DB_WARMUP + DB_SAMPLES, full)
            .into_iter()
            .enumerate()
        {
            let t = Instant::now();
            let tile = read_tile(&database.pool, level, index).await;
            let elapsed = t.elapsed();
            assert_eq!(
                tile,
                stored.tile(level, index, TILE_WIDTH),
                "tile from {} differs",
                db.name()
            );
            if k >= DB_WARMUP {
                times.push(elapsed);
            }
        }
        tiles.push((level, times));
    }
    database.finish().await;
    DbRow {
        db,
        load: load_time,
        rows: built.hashes.len() as u64,
        size: db_size,
        proofs: shapes,
        tiles,
    }
}

async fn db_section(size: u64, built: &Built, proofs: &ProofStats) {
    let pg = pg_url().await;
    let mut results = Vec::new();
    for db in [Db::Sqlite, Db::Postgres] {
        if db == Db::Postgres && pg.is_none() {
            continue;
        }
        results.push(db_run(db, pg.as_deref(), size, built, proofs).await);
    }
    println!(
        "\n## db: `log_hashes` of the tree of {} in SQLite and PostgreSQL (sqlx `Any`, as the issuer)\n",
        thousands(size)
    );
    println!("| database | rows | load (INSERTs of {ROWS_PER_INSERT} rows, {} per transaction) | rows/s | size on disk |", INSERTS_PER_TX);
    println!("|---|---:|---:|---:|---|");
    for r in &results {
        println!(
            "| {} | {} | {:.1} s | {} | {:.0} MB, {} |",
            r.db.name(),
            thousands(r.rows),
            r.load.as_secs_f64(),
            thousands((r.rows as f64 / r.load.as_secs_f64()) as u64),
            r.size.0 as f64 / 1e6,
            r.size.1
        );
    }
    println!(
        "\nReads, one at a time on one connection from the pool, {DB_SAMPLES} random indexes after {DB_WARMUP} not counted (a SELECT that scans: as many as fit in {} s); each result compared with the in-memory proof or tile:\n",
        PROOF_BUDGET.as_secs()
    );
    println!("| database | read | samples | ms, median / p99 / max |");
    println!("|---|---|---:|---:|");
    for r in &mut results {
        for (shape, times, _) in &mut r.proofs {
            println!(
                "| {} | one proof: one SELECT of the `(level, n)` pairs, {}, rows decoded into `Fetched` | {} | {} |",
                r.db.name(),
                shape.describe(),
                times.len(),
                spread_ms(times)
            );
        }
        for (level, times) in &mut r.tiles {
            println!(
                "| {} | one full level-{level} tile: 256 rows of `level = {}`, `n` in a range, `ORDER BY n` | {} | {} |",
                r.db.name(),
                u32::from(*level) * 8,
                times.len(),
                spread_ms(times)
            );
        }
    }
    println!();
    for r in &results {
        for (shape, _, plan) in &r.proofs {
            println!(
                "Plan of the proof SELECT {}, {}: {}\n",
                shape.describe(),
                r.db.name(),
                plan
            );
        }
    }
}

// ---------------------------------------------------------------- main

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let size: u64 = std::env::var("HUREN_TLOG_ENTRIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 100_000 } else { 10_000_000 });
    assert!(size >= 1_000, "HUREN_TLOG_ENTRIES must be at least 1000");
    println!(
        "# huren transparency log at {} entries — load at start {} — {} cores",
        thousands(size),
        loadavg(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let built = build(size);
    tiles_section(size, &built);
    let proofs = proofs_section(size, &built);
    if !std::env::var("HUREN_TLOG_NO_DB").is_ok_and(|v| v == "1") {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        runtime.block_on(db_section(size, &built, &proofs));
    }
    println!("\n# load at end {}", loadavg());
}
