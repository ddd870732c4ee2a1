//! `huren trust …`: building the trust list and exporting its keys.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use huren_crypto::jwks;
use huren_crypto::time::Clock;
use huren_crypto::trust_list::RegionStatus;
use huren_keys::layout::{OperatorDir, RegionDir};
use huren_keys::trust_build::Witnessing;
use huren_keys::{store, trust_build, SystemClock};

use crate::args::TrustCommand;
use crate::common;

pub fn run(command: TrustCommand, passphrase_file: Option<&Path>) -> Result<ExitCode> {
    match command {
        TrustCommand::Build {
            operator,
            regions,
            seq,
            valid_days,
            suspend,
            witness_quorum,
            no_witnesses,
            out,
        } => {
            if !(1..=366).contains(&valid_days) {
                bail!("--valid-days must be between 1 and 366");
            }
            let passphrase = common::passphrase(passphrase_file)?;
            let operator =
                OperatorDir::open(&operator)?.with_plaintext_keys(common::plaintext_keys()?);
            let regions = regions
                .iter()
                .map(|dir| {
                    RegionDir::open(dir).with_context(|| format!("--region {}", dir.display()))
                })
                .collect::<Result<Vec<_>>>()?;
            let now = SystemClock.now();
            let witnessing = if no_witnesses {
                Witnessing::None
            } else {
                Witnessing::OtherRegions {
                    quorum: witness_quorum,
                }
            };
            let mut claims = trust_build::assemble_with(
                &operator.config.name,
                &regions,
                seq,
                now,
                valid_days * 86_400,
                witnessing,
            )?;
            for code in &suspend {
                let entry = claims
                    .regions
                    .iter_mut()
                    .find(|r| r.code.as_str() == code)
                    .with_context(|| format!("--suspend {code}: no such region in the list"))?;
                entry.status = RegionStatus::Suspended;
            }
            let key = operator.key(passphrase.as_ref())?;
            let token = trust_build::sign(&claims, &key, &operator.certificate()?)?;
            store::write_atomic(&out, format!("{token}\n").as_bytes(), 0o644, true)?;
            for region in &regions {
                let config = &region.config;
                let retired = [
                    ("status signer", &config.retired_status_signers),
                    ("seal maker", &config.retired_seal_makers),
                ];
                for (role, list) in retired {
                    for r in list.iter().filter(|r| r.listed_at(now)) {
                        eprintln!(
                            "{}: retired {role} {} listed until {}",
                            config.code, r.cert, r.listed_until
                        );
                    }
                }
            }
            for entry in &claims.regions {
                match &entry.log_key {
                    Some(_) => eprintln!(
                        "{}: log witnessed by {} of {} ({})",
                        entry.code,
                        entry.witness_quorum,
                        entry.witnesses.len(),
                        entry
                            .witnesses
                            .iter()
                            .map(|w| w.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    None => eprintln!(
                        "{}: no log key (add one with `huren pki log-keys`)",
                        entry.code
                    ),
                }
            }
            let signers: usize = claims.regions.iter().map(|r| r.signers.len()).sum();
            eprintln!(
                "trust list seq {seq}: {} regions, {signers} licence signers, next update in {valid_days} days -> {}",
                claims.regions.len(),
                out.display()
            );
        }
        TrustCommand::Jwks { trust } => {
            let trust = common::load_trust_list(&trust.trust_list, &trust.operator_certs)?;
            common::emit(&serde_json::to_string_pretty(&jwks::signer_jwks(&trust))?)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
