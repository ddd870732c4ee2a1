//! `huren pki …`: operator and province key material.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use huren_crypto::ids::RegionCode;
use huren_crypto::oids::{Purpose, HUREN_ARC};
use huren_crypto::time::Clock;
use huren_keys::layout::{self, ImportRegion, ImportedPair, InitRegion};
use huren_keys::store::Passphrase;
use huren_keys::SystemClock;
use serde_json::json;

use crate::args::PkiCommand;
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
                "{} {} ({alg}): root, licence signer, status signer and seal maker created in {}",
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
        PkiCommand::RolloverSigner { region_dir, keys } => {
            let region = huren_keys::layout::RegionDir::open(&region_dir)?;
            let protection = common::protection(passphrase.as_ref(), keys.insecure_plaintext_keys)?;
            let region = region.rollover_signer(passphrase.as_ref(), protection, now)?;
            let active = region
                .config
                .signers
                .iter()
                .find(|s| s.active)
                .map(|s| s.files.cert.clone())
                .unwrap_or_default();
            eprintln!(
                "{}: new active licence signer {active}; {} signers listed. Rebuild the trust list (huren trust build) and restart the issuer.",
                region.config.code,
                region.config.signers.len()
            );
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
