//! `huren log monitor`: follows every region's transparency log (SPEC §12) from the trust list.
//!
//! For each region with a log: fetches its checkpoint and opens it with the trust list's log
//! key (a bad signature is an alert); fetches what each of its witnesses last cosigned; and
//! compares every checkpoint seen — in this run, from the witnesses, and in earlier runs (the
//! `--since` state file) — pairwise: two of one size with different roots are a **split view**;
//! a smaller one must be a prefix of the current tree, proven from the log's tiles alone
//! (authenticated against the current root); a witness holding a larger tree than the log
//! serves means the log was rolled back. Given the region's database (`--database`), it also
//! reads every entry bundle (checked against the checkpoint's root) and lists log entries the
//! database does not hold and database rows the log does not contain.
//!
//! Exit status 1 on any alert, so a cron job or a systemd timer can page someone.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use base64::Engine;
use huren_crypto::ids::RegionCode;
use huren_crypto::tlog::note::{self, OpenedCheckpoint};
use huren_crypto::tlog::tiles::{tiles_at, unbundle, TilePath};
use huren_crypto::tlog::tree::{check_consistency_from_tiles, Frontier};
use huren_crypto::tlog::{entry::token_sha256, Hash};
use huren_crypto::trust_list::{TrustedLog, TrustedRegion};
use serde::{Deserialize, Serialize};

use crate::args::TrustArgs;
use crate::common;

/// `huren log …`
#[derive(Debug, clap::Subcommand)]
pub enum LogCommand {
    /// Follow every province's log: verify checkpoints, prove each new tree extends the ones
    /// seen before (from the log's tiles), compare with what the witnesses cosigned, and alert
    /// on a split view or a rollback; with --database, compare a region's database with its log.
    ///
    /// Exit status 1 on any alert. Run it from cron with --since to remember what it saw:
    ///   huren log monitor --trust-list https://trust.example/trust-list.jwt \
    ///     --operator-cert operator.crt.pem --since /var/lib/huren/monitor.json
    #[command(verbatim_doc_comment)]
    Monitor(MonitorArgs),
}

/// `huren log monitor` arguments.
#[derive(Debug, clap::Args)]
pub struct MonitorArgs {
    #[command(flatten)]
    pub trust: TrustArgs,
    /// State file of earlier runs (the checkpoints seen): read if it exists, then updated.
    /// Without it, only this run's checkpoints are compared.
    #[arg(long, value_name = "STATE")]
    pub since: Option<PathBuf>,
    /// Only this region's log (default: every region whose trust-list entry has a log key).
    #[arg(long)]
    pub region: Option<String>,
    /// The region's issuer database (`sqlite://…` or `postgres://…`; needs --region): list log
    /// entries it does not hold and rows the log does not contain.
    #[arg(long, requires = "region")]
    pub database: Option<String>,
}

/// What earlier runs saw, per log origin.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    logs: BTreeMap<String, Seen>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Seen {
    size: u64,
    /// Base64 root.
    root: String,
    checkpoint: String,
}

/// One checkpoint and where it came from.
struct Sighting {
    source: String,
    size: u64,
    root: Hash,
}

fn b64(hash: &Hash) -> String {
    base64::engine::general_purpose::STANDARD.encode(hash.0)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .new_agent()
}

/// GET with a size bound; `Ok(None)` on 404.
fn get(agent: &ureq::Agent, url: &str, limit: u64) -> Result<Option<Vec<u8>>, String> {
    let mut response = agent.get(url).call().map_err(|e| e.to_string())?;
    match response.status().as_u16() {
        200 => response
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map(Some)
            .map_err(|e| e.to_string()),
        404 => Ok(None),
        status => Err(format!("HTTP {status}")),
    }
}

/// The region's issuer base URL: `issuer_uri`, else the status prefix without `v1/status/`.
fn base_url(region: &TrustedRegion) -> String {
    match &region.issuer_uri {
        Some(uri) => uri.trim_end_matches('/').to_owned(),
        None => region
            .status_uri_prefix
            .trim_end_matches('/')
            .trim_end_matches("/v1/status")
            .to_owned(),
    }
}

pub fn monitor(args: &MonitorArgs) -> Result<ExitCode> {
    let trust = common::load_trust_list(&args.trust.trust_list, &args.trust.operator_certs)?;
    let mut state: State = match &args.since {
        Some(path) if path.exists() => {
            serde_json::from_slice(&huren_keys::store::read_bounded(path, 16 << 20)?)
                .with_context(|| format!("{}: not a monitor state file", path.display()))?
        }
        _ => State::default(),
    };
    let only = args
        .region
        .as_deref()
        .map(RegionCode::parse)
        .transpose()
        .context("--region")?;
    let agent = agent();
    let mut alerts = Vec::new();
    let mut reports = Vec::new();
    for region in trust.regions() {
        if only.as_ref().is_some_and(|c| c != &region.code) {
            continue;
        }
        let Some(log) = &region.log else {
            continue;
        };
        let mut alert = |text: String| {
            eprintln!("ALERT {}: {text}", region.code);
            alerts.push(serde_json::json!({"region": region.code.as_str(), "alert": text}));
        };
        let report = monitor_region(
            &agent,
            region,
            log,
            state.logs.get(log.origin()),
            &mut alert,
        );
        let database = match (&args.database, report.current.as_ref()) {
            (Some(url), Some(current)) => {
                Some(compare_database(&agent, region, current, url, &mut alert)?)
            }
            _ => None,
        };
        if let Some(current) = &report.current {
            state.logs.insert(
                log.origin().to_owned(),
                Seen {
                    size: current.size,
                    root: b64(&current.root),
                    checkpoint: current.note.clone(),
                },
            );
        }
        reports.push(serde_json::json!({
            "region": region.code.as_str(),
            "origin": log.origin(),
            "size": report.current.as_ref().map(|c| c.size),
            "witnessed": report.current.as_ref().map(|c| c.witnessed(log.quorum).is_ok()),
            "cosignatures": report.current.as_ref().map(|c| c.cosignatures.iter().map(|s| s.name.clone()).collect::<Vec<_>>()),
            "witness_views": report.witness_views,
            "database": database,
        }));
    }
    if let Some(path) = &args.since {
        let text = serde_json::to_vec_pretty(&state)?;
        huren_keys::store::write_atomic(path, &text, 0o644, true)
            .with_context(|| format!("writing the state file {}", path.display()))?;
    }
    let ok = alerts.is_empty();
    common::emit(&serde_json::json!({"ok": ok, "logs": reports, "alerts": alerts}).to_string())?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

struct RegionReport {
    current: Option<OpenedCheckpoint>,
    witness_views: Vec<serde_json::Value>,
}

fn monitor_region(
    agent: &ureq::Agent,
    region: &TrustedRegion,
    log: &TrustedLog,
    earlier: Option<&Seen>,
    alert: &mut dyn FnMut(String),
) -> RegionReport {
    let base = base_url(region);
    let witnesses = log.witness_keys();
    let mut report = RegionReport {
        current: None,
        witness_views: Vec::new(),
    };
    let current = match get(agent, &format!("{base}/v1/log/checkpoint"), 64 * 1024) {
        Ok(Some(note)) => match note::open(&note, &log.key, &witnesses) {
            Ok(opened) => opened,
            Err(e) => {
                alert(format!("the log's checkpoint does not verify: {e}"));
                return report;
            }
        },
        Ok(None) => {
            eprintln!("{}: the log has no checkpoint yet", region.code);
            return report;
        }
        Err(e) => {
            eprintln!("warning {}: log unreachable: {e}", region.code);
            return report;
        }
    };
    let mut seen = vec![Sighting {
        source: "the log".into(),
        size: current.size,
        root: current.root,
    }];
    if let Some(earlier) = earlier {
        match note::open(earlier.checkpoint.as_bytes(), &log.key, &witnesses) {
            Ok(opened) => seen.push(Sighting {
                source: "an earlier run".into(),
                size: opened.size,
                root: opened.root,
            }),
            Err(e) => eprintln!(
                "warning {}: the state file's checkpoint does not open: {e}",
                region.code
            ),
        }
    }
    for witness in &log.witnesses {
        let url = format!(
            "{}/checkpoint?origin={}",
            witness.url.trim_end_matches('/'),
            log.origin()
        );
        match get(agent, &url, 64 * 1024) {
            Ok(Some(note)) => {
                match note::open(&note, &log.key, std::slice::from_ref(&witness.vkey)) {
                    Ok(opened) => {
                        report.witness_views.push(
                            serde_json::json!({"witness": witness.name, "size": opened.size}),
                        );
                        seen.push(Sighting {
                            source: format!("witness {}", witness.name),
                            size: opened.size,
                            root: opened.root,
                        });
                    }
                    Err(e) => alert(format!(
                        "witness {} holds a checkpoint that does not verify: {e}",
                        witness.name
                    )),
                }
            }
            Ok(None) => {}
            Err(e) => eprintln!(
                "warning {}: witness {} unreachable: {e}",
                region.code, witness.name
            ),
        }
    }
    let fetch = |tile: &TilePath| -> Result<Vec<u8>, String> {
        get(
            agent,
            &format!("{base}/v1/log/{}", tile.to_path()),
            8192 + 64,
        )?
        .ok_or_else(|| "404".to_owned())
    };
    for (i, a) in seen.iter().enumerate() {
        for b in &seen[i + 1..] {
            if a.size == b.size && a.root != b.root {
                alert(format!(
                    "split view: {} and {} hold checkpoints of {} entries with different roots ({} and {})",
                    a.source, b.source, a.size, b64(&a.root), b64(&b.root)
                ));
            }
        }
        if i == 0 {
            continue;
        }
        // Every other sighting must be a prefix of the log's current tree.
        if a.size > current.size {
            alert(format!(
                "{} holds a tree of {} entries, larger than the {} the log serves (rolled back or forked)",
                a.source, a.size, current.size
            ));
        } else if a.size < current.size {
            if let Err(e) =
                check_consistency_from_tiles(a.size, &a.root, current.size, &current.root, &fetch)
            {
                alert(format!(
                    "the log's tree of {} entries does not extend the one of {} seen by {}: {e}",
                    current.size, a.size, a.source
                ));
            }
        }
    }
    report.current = Some(current);
    report
}

/// Reads every entry of the log (checked against the checkpoint's root) and compares it with
/// the region's database.
fn compare_database(
    agent: &ureq::Agent,
    region: &TrustedRegion,
    current: &OpenedCheckpoint,
    database: &str,
    alert: &mut dyn FnMut(String),
) -> Result<serde_json::Value> {
    let base = base_url(region);
    let mut entries: Vec<Vec<u8>> = Vec::new();
    let mut frontier = Frontier::empty();
    for tile in tiles_at(current.size, None) {
        let url = format!("{base}/v1/log/{}", tile.to_path());
        let body = get(agent, &url, 256 * 1100)
            .map_err(|e| anyhow::anyhow!("{url}: {e}"))?
            .with_context(|| format!("{url}: 404"))?;
        for entry in unbundle(&body, tile.width).with_context(|| url.clone())? {
            frontier.append(entry)?;
            entries.push(entry.to_vec());
        }
    }
    if frontier.root()? != current.root {
        alert("the log's entry bundles do not hash to its checkpoint: the log serves other entries than it signed".into());
        return Ok(serde_json::json!({"checked": false}));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (rows, tokens) = runtime.block_on(async {
        let store = huren_issuer::store::Store::connect(database).await?;
        let store = huren_issuer::store::RegionStore::new(store, region.code.clone());
        let mut conn = store.acquire().await?;
        let mut rows = Vec::new();
        loop {
            let after = rows.len() as i64;
            let page = huren_issuer::store::log::audit_leaves(&mut conn, after, 5000).await?;
            if page.is_empty() {
                break;
            }
            rows.extend(page);
        }
        let tokens = huren_issuer::store::log::licence_tokens(&mut conn).await?;
        Ok::<_, anyhow::Error>((rows, tokens))
    })?;
    let mut missing_in_database = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let ours = rows
            .get(i)
            .map(|r| huren_issuer::tlog::leaf_of(r).to_bytes());
        if ours.as_deref() != Some(entry.as_slice()) {
            missing_in_database.push(i as u64);
        }
    }
    let unlogged_rows: Vec<i64> = rows.iter().skip(entries.len()).map(|r| r.seq).collect();
    let logged_tokens: HashSet<String> = entries
        .iter()
        .filter_map(|e| {
            huren_crypto::tlog::entry::LogEntry::parse(e)
                .ok()?
                .token_sha256
        })
        .collect();
    let unlogged_licences: Vec<String> = tokens
        .iter()
        .filter(|(_, token)| !logged_tokens.contains(&token_sha256(token.as_bytes())))
        .map(|(jti, _)| jti.clone())
        .collect();
    if !missing_in_database.is_empty() {
        alert(format!(
            "{} log entries are not in the database as logged (first: index {})",
            missing_in_database.len(),
            missing_in_database[0]
        ));
    }
    // A licence whose issuance entry comes after the checkpoint is pending (the next
    // checkpoint covers it); one with no logged entry at all was never logged.
    let pending: HashSet<&str> = rows
        .iter()
        .skip(entries.len())
        .map(|r| r.subject.as_str())
        .collect();
    let (pending_licences, never_logged): (Vec<String>, Vec<String>) = unlogged_licences
        .into_iter()
        .partition(|jti| pending.contains(jti.as_str()));
    if !never_logged.is_empty() {
        alert(format!(
            "{} licences in the database were never logged (first: {})",
            never_logged.len(),
            never_logged[0]
        ));
    }
    Ok(serde_json::json!({
        "checked": true,
        "log_entries": entries.len(),
        "database_entries": rows.len(),
        "log_entries_not_in_database": missing_in_database,
        "database_entries_not_in_log": unlogged_rows,
        "licences_pending": pending_licences,
        "licences_never_logged": never_logged,
    }))
}
