//! `huren pki …`: operator and province key material.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use huren_crypto::cert::Certificate;
use huren_crypto::ids::{RegionCode, Uscc};
use huren_crypto::oids::{Purpose, HUREN_ARC};
use huren_crypto::time::{Clock, UnixTime};
use huren_keys::crl::CrlEntry;
use huren_keys::holder::{self, HolderError, HolderRequest};
use huren_keys::layout::{self, ImportRegion, ImportedPair, InitRegion, KeyFiles, RegionDir};
use huren_keys::note_keys::{NoteKeyFiles, NoteKeyOutcome, NoteKeySource, SetNoteKeys};
use huren_keys::rollover::{Role, Rollover};
use huren_keys::store::Passphrase;
use huren_keys::SystemClock;
use serde_json::json;

use crate::args::{PkiCommand, RolloverArgs};
use crate::common;

pub fn run(command: PkiCommand, passphrase_file: Option<&Path>) -> Result<ExitCode> {
    let passphrase = common::passphrase(passphrase_file)?;
    let now = SystemClock.now();
    match command {
        PkiCommand::InitOperator {
            out,
            alg,
            name,
            keys,
        } => {
            let protection = common::protection(passphrase.as_ref(), keys.insecure_plaintext_keys)?;
            let dir = layout::init_operator(&out, &name, alg, protection, now)?;
            eprintln!(
                "operator {name} ({alg}) created in {}; verifiers pin {}",
                out.display(),
                dir.path.join(&dir.config.files.cert).display()
            );
        }
        PkiCommand::InitRegion {
            region,
            name,
            out,
            alg,
            public_url,
            keys,
        } => {
            let code =
                RegionCode::parse(&region).with_context(|| format!("--region {region:?}"))?;
            let name = name.unwrap_or_else(|| code.province_name().to_owned());
            let protection = common::protection(passphrase.as_ref(), keys.insecure_plaintext_keys)?;
            let init = InitRegion {
                code,
                name,
                alg,
                public_url,
                protection,
                now,
            };
            let dir = layout::init_region(&out, &init)?;
            eprintln!(
                "{} {} ({alg}): root, licence signer, status signer, seal maker, log and witness keys created in {}",
                dir.config.code,
                dir.config.name,
                out.display()
            );
        }
        PkiCommand::ImportRegion {
            region,
            name,
            root,
            signer_cert,
            signer_key,
            status_cert,
            status_key,
            seal_cert,
            seal_key,
            source_passphrase_file,
            alg,
            public_url,
            out,
            keys,
        } => {
            let code =
                RegionCode::parse(&region).with_context(|| format!("--region {region:?}"))?;
            let name = name.unwrap_or_else(|| code.province_name().to_owned());
            let source_passphrase = match &source_passphrase_file {
                Some(file) => Passphrase::from_env_or_file("HUREN_IMPORT_PASSPHRASE", Some(file))?,
                None => None,
            };
            let protection = common::protection(passphrase.as_ref(), keys.insecure_plaintext_keys)?;
            let pair = |cert, key| Some(ImportedPair { cert, key });
            let import = ImportRegion {
                code,
                name,
                alg,
                public_url,
                root_cert: root,
                signer: ImportedPair {
                    cert: signer_cert,
                    key: signer_key,
                },
                status_signer: status_cert.zip(status_key).and_then(|(c, k)| pair(c, k)),
                seal_maker: seal_cert.zip(seal_key).and_then(|(c, k)| pair(c, k)),
                source_passphrase: source_passphrase.as_ref(),
                protection,
                now,
            };
            let dir = layout::import_region(&out, &import)?;
            eprintln!(
                "{} {} imported into {}",
                dir.config.code,
                dir.config.name,
                out.display()
            );
        }
        PkiCommand::LogKeys {
            region_dir,
            import_log_key,
            import_witness_key,
            replace,
            source_passphrase_file,
            keys,
        } => {
            let region = RegionDir::open(&region_dir)
                .with_context(|| format!("--region-dir {}", region_dir.display()))?
                .with_plaintext_keys(common::plaintext_keys()?);
            let source_passphrase = match &source_passphrase_file {
                Some(file) => Passphrase::from_env_or_file("HUREN_IMPORT_PASSPHRASE", Some(file))?,
                None => None,
            };
            let set = region.set_note_keys(&SetNoteKeys {
                log: note_key_source(import_log_key.as_deref(), replace),
                witness: note_key_source(import_witness_key.as_deref(), replace),
                source_passphrase: source_passphrase.as_ref().or(passphrase.as_ref()),
                protection: common::protection(passphrase.as_ref(), keys.insecure_plaintext_keys)?,
            })?;
            let config = &set.region.config;
            let describe = |files: Option<&NoteKeyFiles>, outcome: NoteKeyOutcome| {
                files.map(|f| json!({"key": f.key, "vkey": f.vkey, "source": outcome.name()}))
            };
            common::emit(&serde_json::to_string_pretty(&json!({
                "region": config.code,
                "log": describe(config.log.as_ref(), set.log),
                "witness": describe(config.witness.as_ref(), set.witness),
                "deleted_keys": set.deleted_keys,
            }))?)?;
            eprintln!(
                "{}: log key {}, witness key {}; rebuild the trust list and restart the issuer to use them.",
                config.code,
                set.log.name(),
                set.witness.name()
            );
        }
        PkiCommand::Rollover { role, args } => rollover(role, &args, passphrase.as_ref(), now)?,
        PkiCommand::RolloverSigner { args } => {
            rollover(Role::LicenceSigner, &args, passphrase.as_ref(), now)?;
        }
        PkiCommand::RolloverStatusSigner { args } => {
            rollover(Role::StatusSigner, &args, passphrase.as_ref(), now)?;
        }
        PkiCommand::RolloverSealMaker { args } => {
            rollover(Role::SealMaker, &args, passphrase.as_ref(), now)?;
        }
        PkiCommand::IssueHolder {
            region_dir,
            org_name,
            uscc,
            alg,
            valid_days,
            out,
            keys,
        } => {
            let uscc = Uscc::parse(&uscc).with_context(|| format!("--uscc {uscc:?}"))?;
            let region = RegionDir::open(&region_dir)
                .with_context(|| format!("--region-dir {}", region_dir.display()))?
                .with_plaintext_keys(common::plaintext_keys()?);
            let protection = common::protection(passphrase.as_ref(), keys.insecure_plaintext_keys)?;
            let request = HolderRequest {
                organization: org_name,
                uscc,
                alg: alg.unwrap_or(region.config.alg),
                validity_days: valid_days,
                protection,
                now,
            };
            let holder = holder::issue_holder(&region, passphrase.as_ref(), &out, &request)
                .map_err(|e| match e {
                    HolderError::OrganizationName { .. } => {
                        anyhow::Error::new(e).context("--org-name")
                    }
                    HolderError::ValidityDays { .. } => {
                        anyhow::Error::new(e).context("--valid-days")
                    }
                    other => anyhow::Error::new(other),
                })?;
            let cert = holder.certificate()?;
            let doc = json!({
                "dir": holder.path,
                "cert": holder.path.join(&holder.config.cert),
                "key": holder.path.join(&holder.config.key),
                "serial": cert.serial_hex(),
                "subject": cert.subject(),
                "issuer": cert.issuer(),
                "organization": holder.config.organization,
                "uscc": holder.config.uscc,
                "region": holder.config.region,
                "alg": holder.config.alg,
                "not_before": cert.not_before().to_rfc3339_china(),
                "not_after": cert.not_after().to_rfc3339_china(),
            });
            eprintln!(
                "seal-holder certificate for {} issued by {} root into {}",
                holder.config.organization,
                region.config.code,
                out.display()
            );
            common::emit(&serde_json::to_string_pretty(&doc)?)?;
        }
        PkiCommand::RevokeCert {
            region_dir,
            cert,
            at,
            reason,
            crl,
            valid_days,
        } => {
            if !(1..=MAX_CRL_VALID_DAYS).contains(&valid_days) {
                bail!("--valid-days {valid_days}: must be 1 to {MAX_CRL_VALID_DAYS}");
            }
            let region = RegionDir::open(&region_dir)
                .with_context(|| format!("--region-dir {}", region_dir.display()))?
                .with_plaintext_keys(common::plaintext_keys()?);
            let root_der = region.root_der()?;
            let root = Certificate::from_der(&root_der)
                .with_context(|| format!("root certificate of {}", region_dir.display()))?;
            let target = huren_keys::pem::read_certificate(&cert)
                .map_err(anyhow::Error::new)
                .and_then(|der| Ok(Certificate::from_der(&der)?))
                .with_context(|| format!("--cert {}", cert.display()))?;
            if target.is_ca() {
                bail!(
                    "--cert {}: {:?} is a CA certificate; only certificates the root issued to others are revoked on its CRL",
                    cert.display(),
                    target.subject()
                );
            }
            target.check_issued_by(&root).with_context(|| {
                format!(
                    "--cert {} was not issued by the root of {} ({})",
                    cert.display(),
                    region.config.code,
                    region_dir.display()
                )
            })?;
            let revoked_at = match at.as_deref() {
                Some(text) => common::time_arg(Some(text))?,
                None => now,
            };
            check_revocation_time(revoked_at, now, &target)?;
            let crl_path = crl.unwrap_or_else(|| region_dir.join(DEFAULT_CRL_FILE));
            let root_key = region.key(&region.config.root, passphrase.as_ref())?;
            let entry = CrlEntry {
                serial: target.serial().to_vec(),
                revoked_at,
                reason: Some(reason),
            };
            let next_update = now.plus(valid_days * 86_400);
            let outcome =
                huren_keys::crl::revoke(&crl_path, &root_der, &root_key, &entry, now, next_update)
                    .with_context(|| format!("CRL {}", crl_path.display()))?;
            let doc = json!({
                "crl": crl_path,
                "crl_number": u64::try_from(outcome.number).context("CRL number above 2^64")?,
                "entries": outcome.entries,
                "created": outcome.created,
                "this_update": now.to_rfc3339_china(),
                "next_update": next_update.to_rfc3339_china(),
                "revoked": {
                    "serial": target.serial_hex(),
                    "subject": target.subject(),
                    "revoked_at": revoked_at.to_rfc3339_china(),
                    "reason": reason.name(),
                },
            });
            eprintln!(
                "{} revoked from {}; CRL number {} ({} entries) written to {}: publish it where verifiers fetch it",
                target.subject(),
                revoked_at,
                outcome.number,
                outcome.entries,
                crl_path.display()
            );
            common::emit(&serde_json::to_string_pretty(&doc)?)?;
        }
        PkiCommand::Oids => {
            let ekus: serde_json::Map<String, serde_json::Value> = Purpose::ALL
                .iter()
                .map(|p| (p.name().to_owned(), json!(p.oid())))
                .collect();
            let doc = json!({
                "arc": HUREN_ARC,
                "extended_key_usage": ekus,
                "notes": "leaf certificates: keyUsage=critical,digitalSignature and extendedKeyUsage=<one of these>; roots: basicConstraints=critical,CA:true,pathlen:0 and keyUsage=critical,keyCertSign,cRLSign",
            });
            common::emit(&serde_json::to_string_pretty(&doc)?)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `huren pki rollover` in all its spellings: prints what was made and what was retired.
/// An imported key, else a new one with `--replace`, else the present one (or a new one).
fn note_key_source(import: Option<&Path>, replace: bool) -> NoteKeySource<'_> {
    match import {
        Some(path) => NoteKeySource::Import(path),
        None if replace => NoteKeySource::Generate,
        None => NoteKeySource::KeepOrGenerate,
    }
}

fn rollover(
    role: Role,
    args: &RolloverArgs,
    passphrase: Option<&Passphrase>,
    now: UnixTime,
) -> Result<()> {
    let region = RegionDir::open(&args.region_dir)
        .with_context(|| format!("--region-dir {}", args.region_dir.display()))?
        .with_plaintext_keys(common::plaintext_keys()?);
    let listed_until = match args.listed_until.as_deref() {
        Some(text) => Some(common::time_arg(Some(text)).context("--listed-until")?),
        None => None,
    };
    let protection = common::protection(passphrase, args.keys.insecure_plaintext_keys)?;
    let done = region.rollover(&Rollover {
        role,
        passphrase,
        protection,
        now,
        listed_until,
        compromised: args.compromised,
    })?;
    let region = &done.region;
    let cert = Certificate::from_der(&region.certificate(&done.files)?)?;
    let retired = match &done.retired {
        Some(retired) => {
            let old = Certificate::from_der(&region.certificate(&KeyFiles {
                cert: retired.cert.clone(),
                key: None,
            })?)?;
            json!({
                "cert": retired.cert,
                "subject": old.subject(),
                "retired_at": retired.retired_at.seconds(),
                "listed_until": retired.listed_until.seconds(),
                "compromised": retired.compromised,
            })
        }
        None => serde_json::Value::Null,
    };
    let doc = json!({
        "region": region.config.code,
        "role": role.name(),
        "cert": done.files.cert,
        "key": done.files.key,
        "subject": cert.subject(),
        "serial": cert.serial_hex(),
        "not_before": cert.not_before().seconds(),
        "not_after": cert.not_after().seconds(),
        "retired": retired,
        "deleted_key": done.deleted_key,
    });
    match &done.retired {
        Some(retired) => eprintln!(
            "{}: new {} {}; the retired {} stays in trust lists built before {}.",
            region.config.code,
            role.name(),
            done.files.cert,
            retired.cert,
            retired.listed_until
        ),
        None => eprintln!(
            "{}: new {} {}.",
            region.config.code,
            role.name(),
            done.files.cert
        ),
    }
    eprintln!(
        "Rebuild the trust list (huren trust build), give it to the issuer and restart the issuer."
    );
    common::emit(&serde_json::to_string_pretty(&doc)?)?;
    Ok(())
}

/// The region's CRL file name, inside its directory, unless `--crl` says otherwise.
const DEFAULT_CRL_FILE: &str = "crl.der";
/// Longest `--valid-days` for a CRL: a list due more than a year ahead tells verifiers nothing
/// about how fresh it is.
const MAX_CRL_VALID_DAYS: i64 = 366;

/// A revocation time must not be in the future (a CRL reports what has happened) nor before
/// the certificate existed (nothing it signed can predate it).
fn check_revocation_time(revoked_at: UnixTime, now: UnixTime, cert: &Certificate) -> Result<()> {
    if revoked_at > now {
        bail!("--at {revoked_at} is in the future (now is {now})");
    }
    if revoked_at < cert.not_before() {
        bail!(
            "--at {revoked_at} is before the certificate's start of validity {}",
            cert.not_before()
        );
    }
    Ok(())
}
