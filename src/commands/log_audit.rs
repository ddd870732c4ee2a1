//! The transparency-log part of `huren issuer audit verify`: the newest witnessed checkpoint of
//! the region's log (from the database and from each witness), and whether the database's audit
//! entries rebuild it (`huren_issuer::tlog::audit_check`).

use std::time::Duration;

use huren_crypto::ids::RegionCode;
use huren_crypto::tlog;
use huren_issuer::config::IssuerFile;
use huren_issuer::store::{log as rows, RegionStore};
use huren_issuer::tlog::audit_check::{check_database, newest_witnessed};

/// What the log check found.
#[derive(Debug)]
pub enum LogAudit {
    /// The region keeps no log, or no trust list is configured: only the chain and the signed
    /// heads were checked (the fallback).
    NotChecked(String),
    /// No witnessed checkpoint was found anywhere yet.
    NoWitnessedCheckpoint,
    /// The database rebuilds the witnessed checkpoint of `size` entries.
    Agrees {
        /// Entries covered.
        size: u64,
        /// Witnesses that cosigned it.
        witnesses: Vec<String>,
    },
    /// It does not (or the checkpoints themselves are bad): the problem.
    Disagrees(String),
}

/// Runs the log check for `code`'s store.
pub async fn check(
    file: &IssuerFile,
    code: &RegionCode,
    store: &RegionStore,
) -> anyhow::Result<LogAudit> {
    let trust = match file.clone().resolve() {
        Ok(config) => match huren_issuer::app::load_trust_list(&config) {
            Ok((trust, _)) => trust,
            Err(e) => return Ok(LogAudit::NotChecked(format!("trust list: {e}"))),
        },
        Err(e) => return Ok(LogAudit::NotChecked(format!("configuration: {e}"))),
    };
    let Some(region) = trust.region(code) else {
        return Ok(LogAudit::NotChecked(format!(
            "the trust list has no region {code}"
        )));
    };
    let Some(trusted) = region.log.as_ref() else {
        return Ok(LogAudit::NotChecked(
            "the trust list names no log key for this region".into(),
        ));
    };
    let log_key = trusted.key.clone();
    let witnesses = trusted.witness_keys();
    let mut notes = Vec::new();
    {
        let mut conn = store.acquire().await?;
        if let Some(row) = rows::newest_witnessed(&mut conn).await? {
            notes.push(("the database".to_owned(), row.cosigned.unwrap_or(row.note)));
        }
    }
    let origin = tlog::origin(code);
    let urls: Vec<(String, String)> = trusted
        .witnesses
        .iter()
        .map(|w| {
            (
                w.name.clone(),
                format!("{}/checkpoint?origin={origin}", w.url.trim_end_matches('/')),
            )
        })
        .collect();
    let fetched = tokio::task::spawn_blocking(move || fetch_views(&urls)).await?;
    notes.extend(fetched);
    let checkpoint = match newest_witnessed(&notes, &log_key, &witnesses, trusted.quorum) {
        Ok(Some(checkpoint)) => checkpoint,
        Ok(None) => return Ok(LogAudit::NoWitnessedCheckpoint),
        Err(problem) => return Ok(LogAudit::Disagrees(problem)),
    };
    Ok(match check_database(store, &checkpoint).await? {
        Ok(()) => LogAudit::Agrees {
            size: checkpoint.size,
            witnesses: checkpoint
                .cosignatures
                .iter()
                .map(|c| c.name.clone())
                .collect(),
        },
        Err(mismatch) => LogAudit::Disagrees(mismatch.to_string()),
    })
}

/// Each witness's newest cosigned checkpoint of the log; a witness that does not answer is
/// reported and skipped (the database's checkpoint, or the signed heads, still stand).
fn fetch_views(urls: &[(String, String)]) -> Vec<(String, String)> {
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut notes = Vec::new();
    for (name, url) in urls {
        let answer = agent
            .get(url)
            .call()
            .map_err(|e| e.to_string())
            .and_then(|mut r| {
                let status = r.status().as_u16();
                let body = r
                    .body_mut()
                    .with_config()
                    .limit(64 * 1024)
                    .read_to_string()
                    .map_err(|e| e.to_string())?;
                Ok((status, body))
            });
        match answer {
            Ok((200, body)) => notes.push((format!("witness {name}"), body)),
            Ok((404, _)) => eprintln!("witness {name} has cosigned nothing of this log yet"),
            Ok((status, _)) => eprintln!("warning: witness {name} answered HTTP {status}"),
            Err(e) => eprintln!("warning: witness {name} unreachable: {e}"),
        }
    }
    notes
}
