//! What several commands share: passphrases, times, loading trust, fetching over HTTP.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use huren_crypto::cert::Certificate;
use huren_crypto::status_token::VerifiedStatusList;
use huren_crypto::time::{Clock, UnixTime};
use huren_crypto::trust_list::TrustList;
use huren_keys::store::{Passphrase, PlaintextKeys, Protection, ALLOW_PLAINTEXT_KEYS_VAR};
use huren_keys::SystemClock;

/// Environment variable holding the key passphrase.
pub const PASSPHRASE_VAR: &str = "HUREN_KEY_PASSPHRASE";
/// Largest document fetched over HTTP (trust lists and status lists).
const MAX_FETCH_BYTES: u64 = 8 * 1024 * 1024;

/// The passphrase from the environment or `--passphrase-file`, if any.
pub fn passphrase(file: Option<&Path>) -> Result<Option<Passphrase>> {
    Ok(Passphrase::from_env_or_file(PASSPHRASE_VAR, file)?)
}

/// Whether keys may be read unencrypted: only when `HUREN_ALLOW_PLAINTEXT_KEYS=true` says so
/// (test set-ups); every directory a command opens to sign with goes through this.
pub fn plaintext_keys() -> Result<PlaintextKeys> {
    match std::env::var(ALLOW_PLAINTEXT_KEYS_VAR) {
        Ok(value) if !value.is_empty() => PlaintextKeys::from_setting(&value)
            .with_context(|| format!("{ALLOW_PLAINTEXT_KEYS_VAR} must be true or false")),
        _ => Ok(PlaintextKeys::Refuse),
    }
}

/// Protection for keys about to be written: encrypted unless plaintext was explicitly asked
/// for; without a passphrase and without that request, refuse.
pub fn protection<'a>(
    passphrase: Option<&'a Passphrase>,
    plaintext: bool,
) -> Result<Protection<'a>> {
    match (passphrase, plaintext) {
        (_, true) => {
            eprintln!("warning: writing private keys UNENCRYPTED (--insecure-plaintext-keys); for test set-ups only");
            Ok(Protection::Plaintext)
        }
        (Some(p), false) => {
            if p.is_weak() {
                eprintln!("warning: the key passphrase is shorter than 12 characters");
            }
            Ok(Protection::Encrypted(p))
        }
        (None, false) => bail!(
            "private keys are encrypted at rest: set {PASSPHRASE_VAR} or pass --passphrase-file \
             (or --insecure-plaintext-keys for a throwaway test set-up)"
        ),
    }
}

/// `--at`: RFC 3339 or Unix seconds; default now.
pub fn time_arg(at: Option<&str>) -> Result<UnixTime> {
    let Some(text) = at else {
        return Ok(SystemClock.now());
    };
    if let Ok(seconds) = text.parse::<i64>() {
        return Ok(UnixTime(seconds));
    }
    let parsed = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .with_context(|| {
            format!(
                "--at {text:?} is neither RFC 3339 (2026-11-22T09:30:00+08:00) nor Unix seconds"
            )
        })?;
    Ok(UnixTime::from_datetime(parsed))
}

/// Reads a file or fetches an http(s) URL, bounded.
pub fn read_source(source: &str) -> Result<String> {
    if source.starts_with("http://") || source.starts_with("https://") {
        return fetch(source);
    }
    let bytes = huren_keys::store::read_bounded(Path::new(source), MAX_FETCH_BYTES as usize)?;
    String::from_utf8(bytes).with_context(|| format!("{source} is not UTF-8 text"))
}

/// GET `url` with timeouts and a size bound.
pub fn fetch(url: &str) -> Result<String> {
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .max_redirects(0)
        .build()
        .new_agent();
    let mut response = agent
        .get(url)
        .call()
        .with_context(|| format!("fetching {url}"))?;
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_FETCH_BYTES)
        .read_to_string()
        .with_context(|| format!("reading {url}"))?;
    Ok(body)
}

/// Loads the pinned operator certificates.
pub fn pinned_certificates(paths: &[PathBuf]) -> Result<Vec<Certificate>> {
    let mut pinned = Vec::new();
    for path in paths {
        for der in huren_keys::pem::read_certificates(path)? {
            pinned
                .push(Certificate::from_der(&der).with_context(|| format!("{}", path.display()))?);
        }
    }
    Ok(pinned)
}

/// Loads and verifies the trust list against the pinned operator certificates.
pub fn load_trust_list(source: &str, operator_certs: &[PathBuf]) -> Result<TrustList> {
    let pinned = pinned_certificates(operator_certs)?;
    let token = read_source(source)?;
    let trust =
        TrustList::verify(&token, &pinned).with_context(|| format!("trust list {source}"))?;
    for problem in trust.problems() {
        eprintln!(
            "warning: trust list entry {} {} is set aside: {}",
            problem.region, problem.entry, problem.problem
        );
    }
    Ok(trust)
}

/// Writes `text` and a newline to stdout. A closed pipe (`huren … | head`) is not an error:
/// the reader has what it wanted.
pub fn emit(text: &str) -> Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other.context("writing to stdout")?),
    }
}

/// Loads every status-list token (`*.jwt`) in `dir` that verifies under `trust`, by URI,
/// keeping for each URI the list signed last (whatever order the directory lists its files
/// in: an older copy left beside a newer one must not win); others are reported and skipped.
pub fn load_status_dir(
    dir: &std::path::Path,
    trust: &TrustList,
    status: &mut HashMap<String, Arc<VerifiedStatusList>>,
) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("--status-dir {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("jwt") {
            continue;
        }
        let token = read_source(&path.to_string_lossy())?;
        match VerifiedStatusList::verify_standalone(&token, trust) {
            Ok(list) => {
                let newer = status
                    .get(list.uri())
                    .is_none_or(|held| held.iat() < list.iat());
                if newer {
                    status.insert(list.uri().to_owned(), Arc::new(list));
                }
            }
            Err(e) => eprintln!("warning: {} is not used: {e}", path.display()),
        }
    }
    Ok(())
}

/// Fetches and verifies the status list at `uri` (already checked to lie within its
/// region's prefix); a failure is a warning, and the caller reports the status as unknown.
pub fn fetch_status_list(uri: &str, trust: &TrustList) -> Option<VerifiedStatusList> {
    let fetched = fetch(uri).map_err(|e| format!("{e:#}")).and_then(|token| {
        VerifiedStatusList::verify(&token, uri, trust).map_err(|e| e.to_string())
    });
    match fetched {
        Ok(list) => Some(list),
        Err(e) => {
            eprintln!("warning: status list {uri}: {e}");
            None
        }
    }
}

/// The licence-type catalogue: the built-in types plus a province's own from `extra` (TOML).
pub fn catalogue(extra: Option<&Path>) -> Result<huren_issuer::catalogue::Catalogue> {
    let mut types = huren_issuer::catalogue::Catalogue::builtin();
    if let Some(path) = extra {
        let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
        types = types.with_extra_toml(&text)?;
    }
    Ok(types)
}
