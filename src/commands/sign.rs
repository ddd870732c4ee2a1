//! `huren sign` and `huren status-list`: offline signing with a province's keys.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use huren_crypto::cert::Certificate;
use huren_crypto::ids::LicenceId;
use huren_crypto::licence::{Licence, LicenceClaims};
use huren_crypto::qr;
use huren_crypto::status_list::{
    StatusList, StatusListClaim, StatusListPointer, StatusReference, StatusValue,
};
use huren_crypto::status_token::{StatusListClaims, MAX_STATUS_LIST_LIFETIME_SECONDS};
use huren_keys::layout::RegionDir;
use huren_keys::store;
use rand_core::{OsRng, RngCore};

use crate::args::{SignArgs, StatusListArgs};
use crate::common;

pub fn sign(args: &SignArgs, passphrase_file: Option<&Path>) -> Result<ExitCode> {
    let region = RegionDir::open(&args.region_dir)?.with_plaintext_keys(common::plaintext_keys()?);
    let bytes = store::read_bounded(&args.licence, 256 * 1024)?;
    let licence: Licence = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a licence object", args.licence.display()))?;
    if let Err(errors) = licence.check_for_issuance() {
        let lines: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
        bail!(
            "{} has invalid fields:\n{}",
            args.licence.display(),
            lines.join("\n")
        );
    }
    let at = common::time_arg(args.at.as_deref())?;
    let passphrase = common::passphrase(passphrase_file)?;
    let (key, cert_der) = region.active_signer(passphrase.as_ref())?;
    let cert = Certificate::from_der(&cert_der)?;
    cert.check_valid_at(at)
        .context("the active licence signer")?;
    let active = region.config.signers.iter().find(|s| s.active);
    if !active.is_some_and(|s| s.scopes.iter().any(|x| x == "*" || *x == licence.type_code)) {
        bail!(
            "the active signer of {} may not sign type {}",
            region.config.code,
            licence.type_code
        );
    }

    let status = match (&args.status_idx, &args.status_uri) {
        (Some(idx), Some(uri)) => {
            if !uri.starts_with(&region.config.status_uri_prefix()) {
                bail!(
                    "--status-uri must start with {}",
                    region.config.status_uri_prefix()
                );
            }
            Some(StatusReference {
                status_list: StatusListPointer {
                    idx: *idx,
                    uri: uri.clone(),
                },
            })
        }
        _ => None,
    };
    let serial = match &args.serial {
        Some(serial) => serial.clone(),
        None => format!("{:012}", OsRng.next_u64() % 1_000_000_000_000),
    };
    let jti = LicenceId::generate(&licence.type_code, &licence.issuer.code, &serial, "001")
        .context("building the 证照标识")?;
    let claims = LicenceClaims::new(region.config.code.clone(), jti, at, licence, status);
    let token = claims.sign(&key, cert.x5t_s256())?;
    if args.qr {
        common::emit(&qr::encode(&token)?)?;
    } else {
        common::emit(&token)?;
    }
    eprintln!("signed {} ({} bytes)", claims.jti, token.len());
    Ok(ExitCode::SUCCESS)
}

pub fn status_list(args: &StatusListArgs, passphrase_file: Option<&Path>) -> Result<ExitCode> {
    let region = RegionDir::open(&args.region_dir)?.with_plaintext_keys(common::plaintext_keys()?);
    if !args.uri.starts_with(&region.config.status_uri_prefix()) {
        bail!(
            "--uri must start with {}",
            region.config.status_uri_prefix()
        );
    }
    if !args.size.is_power_of_two() {
        bail!("--size must be a power of two");
    }
    let mut list = StatusList::new(2, args.size)?;
    for (indices, value) in [
        (&args.revoke, StatusValue::Revoked),
        (&args.suspend, StatusValue::Suspended),
    ] {
        for &index in indices {
            list.set(index, value)
                .with_context(|| format!("index {index}"))?;
        }
    }
    let lifetime = args.valid_hours.saturating_mul(3600);
    if !(1..=MAX_STATUS_LIST_LIFETIME_SECONDS).contains(&lifetime) {
        bail!(
            "--valid-hours {}: a status list lives 1 to {} hours (verifiers refuse longer ones)",
            args.valid_hours,
            MAX_STATUS_LIST_LIFETIME_SECONDS / 3600
        );
    }
    if i64::try_from(args.ttl).map_or(true, |ttl| ttl > lifetime) {
        bail!(
            "--ttl {}: at most the list's life of {lifetime} s (verifiers refuse longer ones)",
            args.ttl
        );
    }
    let at = common::time_arg(args.at.as_deref())?;
    let passphrase = common::passphrase(passphrase_file)?;
    let (key, cert_der) = region.status_signer(passphrase.as_ref())?;
    let claims = StatusListClaims {
        sub: args.uri.clone(),
        iat: at.seconds(),
        exp: at.plus(args.valid_hours * 3600).seconds(),
        ttl: args.ttl,
        status_list: StatusListClaim::from_list(&list),
    };
    let token = claims.sign(&key, &cert_der)?;
    store::write_atomic(&args.out, format!("{token}\n").as_bytes(), 0o644, true)?;
    eprintln!(
        "status list {} ({} entries, {} revoked, {} suspended) -> {}",
        args.uri,
        args.size,
        args.revoke.len(),
        args.suspend.len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
