//! `huren verify`: offline (or status- and log-fetching) licence verification.

use std::collections::HashMap;
use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use huren_crypto::status_token::VerifiedStatusList;
use huren_crypto::verify::{
    verify_licence_with, LogCheck, NoLogAnswers, Report, Verdict, VerifyOptions,
};
use huren_verifier::{HttpFetcher, LogCache};

use crate::args::VerifyArgs;
use crate::common;

/// Largest input read from stdin.
const MAX_INPUT: u64 = 256 * 1024;

pub fn run(args: &VerifyArgs) -> Result<ExitCode> {
    let input = read_input(args)?;
    let trust = common::load_trust_list(&args.trust.trust_list, &args.trust.operator_certs)?;
    let at = common::time_arg(args.at.as_deref())?;
    let mut status: HashMap<String, Arc<VerifiedStatusList>> = HashMap::new();
    if let Some(dir) = &args.status_dir {
        common::load_status_dir(dir, &trust, &mut status)?;
    }
    let options = VerifyOptions {
        skew_seconds: args.skew,
        trust_list_grace_seconds: args.grace,
        log_check: if args.require_logged {
            LogCheck::Require
        } else {
            args.log_check
        },
        // The service's default (HUREN_LOG_MERGE_DELAY_SECS); args.rs is at its size bound.
        ..VerifyOptions::default()
    };
    let unit = args.audience.as_ref();
    let mut report =
        verify_licence_with(&input, &trust, &status, &NoLogAnswers, at, &options, unit);
    if args.fetch_status {
        // Only URIs the verification itself accepted (within the region's prefix) are fetched:
        // a licence's list, or a copy's two (its licence's entry and its own).
        let missing: Vec<String> = report
            .status_lists
            .iter()
            .map(|s| s.uri.clone())
            .filter(|uri| !status.contains_key(uri))
            .collect();
        let mut fetched = false;
        for uri in missing {
            if status.contains_key(&uri) {
                continue;
            }
            if let Some(list) = common::fetch_status_list(&uri, &trust) {
                status.insert(uri, Arc::new(list));
                fetched = true;
            }
        }
        if fetched {
            report =
                verify_licence_with(&input, &trust, &status, &NoLogAnswers, at, &options, unit);
        }
    }
    // The log is asked only about a token the trust list gives a log, of the issuer the trust
    // list names for its region (never a URL the token carries), and only online: at once when
    // inclusion is required, with --fetch-status once the merge delay has passed when it warns.
    let ask_log = |settled_at| match options.log_check {
        LogCheck::Require => !args.offline,
        LogCheck::Warn => args.fetch_status && at >= settled_at,
        LogCheck::Off => false,
    };
    if let Some(used) = report
        .log
        .clone()
        .filter(|used| ask_log(used.settled_at) && !used.proved())
    {
        let log = LogCache::new(Arc::new(HttpFetcher::default()), None);
        let answer = log.fetch(&used, &trust, at);
        if let huren_crypto::verify::LogEvidence::Unavailable(why) = &answer.evidence {
            eprintln!("warning: the issuance log of {}: {why}", used.region);
        }
        report = verify_licence_with(&input, &trust, &status, &log, at, &options, unit);
    }
    common::emit(&serde_json::to_string_pretty(&report)?)?;
    summarise(&report);
    Ok(ExitCode::from(match report.verdict {
        Verdict::Valid => 0,
        Verdict::Invalid => 1,
        Verdict::Indeterminate => 2,
    }))
}

fn read_input(args: &VerifyArgs) -> Result<String> {
    if let Some(path) = &args.qr_image {
        return decode_qr_image(path);
    }
    match args.input.as_deref() {
        Some("-") | None => {
            let mut text = String::new();
            std::io::stdin()
                .take(MAX_INPUT)
                .read_to_string(&mut text)
                .context("reading the token from stdin")?;
            if text.trim().is_empty() {
                bail!("no token given: pass it as an argument, `-` for stdin, or --qr-image");
            }
            Ok(text)
        }
        Some(token) => Ok(token.to_owned()),
    }
}

fn decode_qr_image(path: &std::path::Path) -> Result<String> {
    let bytes = huren_keys::store::read_bounded(path, 20 * 1024 * 1024)?;
    let image = image::load_from_memory(&bytes)
        .with_context(|| format!("{} is not a PNG or JPEG image", path.display()))?
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    for grid in prepared.detect_grids() {
        if let Ok((_, content)) = grid.decode() {
            return Ok(content);
        }
    }
    bail!("no readable QR code found in {}", path.display())
}

fn summarise(report: &Report) {
    let (zh, en) = match report.verdict {
        Verdict::Valid => ("有效", "VALID"),
        Verdict::Invalid => ("无效", "INVALID"),
        Verdict::Indeterminate => ("无法确认", "INDETERMINATE"),
    };
    let what = report
        .licence()
        .map(|l| {
            // A copy may withhold the holder's name.
            let holder = l.holder_name.as_deref().unwrap_or("«未出示»");
            format!(" — {} {holder} ({})", l.type_name, l.iss_name)
        })
        .unwrap_or_default();
    eprintln!("{zh} {en}{what}");
    if let Some(copy) = report.copy() {
        let unit = copy
            .aud
            .as_ref()
            .map_or("任意窗口 any window", |aud| aud.name.as_str());
        eprintln!(
            "  加注件 annotated copy · 仅用于 {} · 用证单位 {unit} · 有效期至 {}",
            copy.purpose.cause, copy.expires_at
        );
    }
    for reason in &report.reasons {
        eprintln!(
            "  {}: {} / {}",
            reason.code(),
            reason.text_zh(),
            reason.text_en()
        );
    }
    for warning in &report.warnings {
        eprintln!(
            "  warning {}: {} / {}",
            warning.code(),
            warning.text_zh(),
            warning.text_en()
        );
    }
}
