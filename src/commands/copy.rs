//! `huren copy`: an annotated copy (加注件, SPEC §11) of a licence, made offline with a region's
//! keys — for provinces without the issuer service, and for tests.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use huren_crypto::cert::Certificate;
use huren_crypto::copy::{Copier, CopyId, CopyMaking, CopyTerms, Purpose, Unit};
use huren_crypto::jws::{Limits, UnverifiedJws, MAX_LICENCE_PAYLOAD_BYTES};
use huren_crypto::licence::{LicenceClaims, LICENCE_TYP};
use huren_crypto::qr;
use huren_crypto::status_list::{StatusListPointer, StatusReference};
use huren_keys::layout::RegionDir;
use huren_keys::store;
use rand_core::{OsRng, RngCore};

use crate::args::CopyArgs;
use crate::common;

/// Largest licence input read.
const MAX_INPUT: u64 = 256 * 1024;

pub fn run(args: &CopyArgs, passphrase_file: Option<&Path>) -> Result<ExitCode> {
    let region = RegionDir::open(&args.region_dir)?.with_plaintext_keys(common::plaintext_keys()?);
    let licence = read_licence(args, &region)?;
    let terms = terms(args)?;
    let catalogue = common::catalogue(args.catalogue.as_deref())?;
    let copy_status = match (&args.copy_status_idx, &args.copy_status_uri) {
        (Some(idx), Some(uri)) => {
            let prefix = region.config.status_uri_prefix();
            if !uri.starts_with(&prefix) {
                bail!("--copy-status-uri must start with {prefix}");
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
    let at = common::time_arg(args.at.as_deref())?;
    let passphrase = common::passphrase(passphrase_file)?;
    let (key, cert_der) = region.active_signer(passphrase.as_ref())?;
    let cert = Certificate::from_der(&cert_der)?;
    cert.check_valid_at(at)
        .context("the active licence signer")?;
    let mut id = [0u8; 16];
    OsRng.fill_bytes(&mut id);
    let type_code = licence.licence.type_code.clone();
    // The catalogue decides which face fields may be shown; a type it does not know has none.
    let licence_type = catalogue.get(&type_code);
    let face_disclosable = |key: &str| licence_type.is_some_and(|t| t.face_disclosable(key));
    let making = CopyMaking {
        id: CopyId::from_random(id),
        iat: at,
        copier: Copier {
            name: args
                .copier
                .clone()
                .unwrap_or_else(|| region.config.name.clone()),
        },
        copy_status,
        face_disclosable: &face_disclosable,
    };
    let copy = match terms.make(&licence, making) {
        Ok(copy) => copy,
        Err(errors) => {
            let lines: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
            bail!("the copy's terms are not accepted:\n{}", lines.join("\n"));
        }
    };
    if copy.copy_status.is_none() {
        eprintln!(
            "warning: without --copy-status-idx/--copy-status-uri the copy has no entry of its \
             own: its holder cannot withdraw it before it ends (revoking the licence still ends it)"
        );
    }
    let token = copy.sign(&key, cert.x5t_s256())?;
    common::emit(&if args.qr {
        qr::encode(&token)?
    } else {
        token.clone()
    })?;
    eprintln!(
        "copy {} of {} until {} ({} bytes; shows {})",
        copy.jti,
        copy.copy_of,
        huren_crypto::UnixTime(copy.exp),
        token.len(),
        if copy.disclosed.is_empty() {
            "no optional field".to_owned()
        } else {
            copy.disclosed.join(", ")
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// The licence's claims, once its signature has verified under one of the region's licence
/// signers: a copy is only ever made of a licence the region really issued.
fn read_licence(args: &CopyArgs, region: &RegionDir) -> Result<LicenceClaims> {
    let text = if args.licence.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .take(MAX_INPUT)
            .read_to_string(&mut text)
            .context("reading the licence from stdin")?;
        text
    } else {
        let bytes = store::read_bounded(&args.licence, MAX_INPUT as usize)?;
        String::from_utf8(bytes)
            .with_context(|| format!("{} is not text", args.licence.display()))?
    };
    let token = qr::normalise_input(&text).context("--licence is not a licence token")?;
    let jws = UnverifiedJws::parse(&token, Limits::LICENCE).context("--licence")?;
    jws.header()
        .expect_typ(LICENCE_TYP)
        .context("--licence is not a licence (a copy cannot be copied)")?;
    let x5t = jws.header().x5t_s256;
    let mut signer = None;
    for files in &region.config.signers {
        let cert = Certificate::from_der(&region.certificate(&files.files)?)?;
        if Some(cert.x5t_s256()) == x5t {
            signer = Some(cert);
        }
    }
    let Some(signer) = signer else {
        bail!(
            "--licence was not signed by a licence signer of {} ({})",
            region.config.code,
            region.config.name
        );
    };
    let verified = jws
        .verify(signer.public_key())
        .context("--licence: the signature does not verify")?;
    let payload = verified.payload(MAX_LICENCE_PAYLOAD_BYTES)?;
    let claims: LicenceClaims =
        serde_json::from_slice(&payload).context("--licence: the claims do not parse")?;
    if claims.iss != region.config.code {
        bail!(
            "--licence was issued by {}, not {}",
            claims.iss,
            region.config.code
        );
    }
    Ok(claims)
}

/// The holder's terms, from --terms or the options.
fn terms(args: &CopyArgs) -> Result<CopyTerms> {
    if let Some(path) = &args.terms {
        let bytes = store::read_bounded(path, 64 * 1024)?;
        return serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a copy's terms", path.display()));
    }
    let Some(cause) = args.cause.clone() else {
        bail!("--cause (用证事由) is required without --terms");
    };
    Ok(CopyTerms {
        purpose: Purpose {
            cause,
            category: args.category,
            item_code: args.item_code.clone(),
            item_name: args.item_name.clone(),
        },
        aud: args
            .aud_code
            .clone()
            .zip(args.aud_name.clone())
            .map(|(code, name)| Unit { name, code }),
        disclose: args.disclose.clone(),
        valid_for_secs: args.valid_for_secs,
    })
}
