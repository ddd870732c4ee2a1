//! `huren seal …`: make seals, seal documents, verify and inspect them (SPEC §8).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use huren_crypto::cert::Certificate;
use huren_crypto::crl::VerifiedCrl;
use huren_crypto::ids::Uscc;
use huren_crypto::oids::Purpose;
use huren_crypto::seal::verify::{
    verify_seal_signature, Document, SealReport, SealTrust, SealVerifyInput, SealVerifyOptions,
    Verdict,
};
use huren_crypto::seal::{
    inspect_json, make_seal, sign_document, EsId, PictureType, Seal, SealPicture, SealSignature,
    SealSpec, SealStatusReference, SEAL_TYPES,
};
use huren_crypto::status_token::VerifiedStatusList;
use huren_crypto::time::{Clock, UnixTime};
use huren_crypto::trust_list::TrustList;
use huren_keys::holder::HolderDir;
use huren_keys::layout::RegionDir;
use huren_keys::store::read_bounded;
use huren_keys::SystemClock;
use rand_core::RngCore;

use crate::args::{SealCommand, SealMakeArgs, SealSignArgs, SealVerifyArgs};
use crate::common;

/// Largest seal image accepted (a seal is carried inside every signature made with it).
const MAX_IMAGE_BYTES: usize = 512 * 1024;
/// Largest seal or signature file read.
const MAX_SEAL_FILE_BYTES: usize = 4 * 1024 * 1024;
/// Largest document sealed or verified from a file.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024 * 1024;
/// Largest CRL read.
const MAX_CRL_BYTES: usize = 8 * 1024 * 1024;
/// Largest status-list token read from a file (as large as one fetched).
const MAX_STATUS_LIST_BYTES: usize = 8 * 1024 * 1024;

pub fn run(command: SealCommand, passphrase_file: Option<&Path>) -> Result<ExitCode> {
    match command {
        SealCommand::Make(args) => make(&args, passphrase_file),
        SealCommand::Sign(args) => sign(&args, passphrase_file),
        SealCommand::Verify(args) => verify(&args),
        SealCommand::Inspect { file } => inspect(&file),
    }
}

fn make(args: &SealMakeArgs, passphrase_file: Option<&Path>) -> Result<ExitCode> {
    let region = RegionDir::open(&args.region_dir)?.with_plaintext_keys(common::plaintext_keys()?);
    let maker_files = region.config.seal_maker.clone().with_context(|| {
        format!(
            "{} has no seal-maker key (regions made by `huren pki init-region` have one)",
            args.region_dir.display()
        )
    })?;
    let passphrase = common::passphrase(passphrase_file)?;
    let maker = region
        .key(&maker_files, passphrase.as_ref())
        .context("loading the seal-maker key")?;
    let maker_cert = region.certificate(&maker_files)?;

    let es_id = match &args.es_id {
        Some(text) => EsId::parse(text).with_context(|| format!("--es-id {text:?}"))?,
        None => {
            let mut entropy = [0u8; 8];
            rand_core::OsRng.fill_bytes(&mut entropy);
            EsId::generate(&region.config.code, entropy)
        }
    };
    if es_id.region() != &region.config.code {
        bail!(
            "--es-id {} belongs to region {}, but the seal maker is {}'s",
            es_id.as_str(),
            es_id.region(),
            region.config.code
        );
    }
    let uscc = args
        .uscc
        .as_deref()
        .map(|text| {
            text.parse::<Uscc>()
                .with_context(|| format!("--uscc {text:?}"))
        })
        .transpose()?;
    let holder_certs = args
        .holder_certs
        .iter()
        .map(|path| holder_certificate(path))
        .collect::<Result<Vec<_>>>()?;
    let now = SystemClock.now();
    let valid_start = match &args.valid_from {
        Some(text) => parse_time("--valid-from", text)?,
        None => now,
    };
    let valid_end = parse_time("--valid-until", &args.valid_until)?;
    if valid_end <= valid_start {
        bail!("--valid-until must be after --valid-from ({valid_start})");
    }
    let status = match (&args.status_uri, args.status_idx) {
        (Some(uri), Some(idx)) => {
            let prefix = region.config.status_uri_prefix();
            if !uri.starts_with(&prefix) {
                bail!("--status-uri must lie under the region's status prefix {prefix}");
            }
            Some(SealStatusReference {
                uri: uri.clone(),
                idx,
            })
        }
        _ => None,
    };
    let spec = SealSpec {
        vid: "huren".into(),
        es_id,
        seal_type: seal_type(&args.seal_type)?,
        name: args.name.clone(),
        holder_certs,
        create_date: now,
        valid_start,
        valid_end,
        picture: picture(&args.image, args.width_mm, args.height_mm)?,
        status: status.clone(),
        uscc,
    };
    let der = make_seal(&spec, &maker, &maker_cert).context("making the seal")?;
    huren_keys::store::write_atomic(&args.out, &der, 0o644, false)
        .with_context(|| format!("writing {}", args.out.display()))?;
    common::emit(&serde_json::to_string_pretty(&serde_json::json!({
        "esID": spec.es_id.as_str(),
        "name": spec.name,
        "type": spec.seal_type,
        "valid_start": valid_start.to_rfc3339_china(),
        "valid_end": valid_end.to_rfc3339_china(),
        "status": status.map(|s| serde_json::json!({"uri": s.uri, "idx": s.idx})),
        "out": args.out,
        "bytes": der.len(),
    }))?)?;
    Ok(ExitCode::SUCCESS)
}

/// A holder certificate (PEM or DER) that carries the seal-holder purpose.
fn holder_certificate(path: &Path) -> Result<Vec<u8>> {
    let der = certificate_der(path)?;
    let cert =
        Certificate::from_der(&der).with_context(|| format!("--holder-cert {}", path.display()))?;
    if !cert.has_purpose(Purpose::SealHolder) {
        bail!(
            "--holder-cert {}: the certificate ({}) lacks the seal-holder purpose ({})",
            path.display(),
            cert.subject(),
            Purpose::SealHolder.oid()
        );
    }
    Ok(der)
}

/// The first certificate in a PEM file, or a DER file as it is.
fn certificate_der(path: &Path) -> Result<Vec<u8>> {
    let bytes = read_bounded(path, MAX_SEAL_FILE_BYTES)?;
    if bytes.starts_with(b"-----BEGIN") {
        return huren_keys::pem::read_certificate(path)
            .with_context(|| format!("{}", path.display()));
    }
    Ok(bytes)
}

fn seal_type(text: &str) -> Result<i64> {
    if let Ok(code) = text.parse::<i64>() {
        return Ok(code);
    }
    SEAL_TYPES
        .iter()
        .find(|(_, name)| *name == text)
        .map(|(code, _)| *code)
        .with_context(|| {
            let names: Vec<String> = SEAL_TYPES
                .iter()
                .map(|(code, name)| format!("{name} ({code})"))
                .collect();
            format!(
                "--type {text:?} is neither a number nor one of {}",
                names.join(", ")
            )
        })
}

fn picture(path: &Path, width_mm: u32, height_mm: u32) -> Result<SealPicture> {
    let data = read_bounded(path, MAX_IMAGE_BYTES).with_context(|| {
        format!(
            "--image {} (at most {MAX_IMAGE_BYTES} bytes)",
            path.display()
        )
    })?;
    let kind = if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        PictureType::Png
    } else if looks_like_svg(&data) {
        PictureType::Svg
    } else {
        bail!(
            "--image {} is neither a PNG nor an SVG file",
            path.display()
        );
    };
    Ok(SealPicture {
        kind,
        data,
        width_mm,
        height_mm,
    })
}

/// An SVG document: UTF-8 whose first element is `<svg` (after an optional XML declaration,
/// comments and whitespace). Only a sniff: the picture is shown through `<img>`, never
/// inlined, so a script inside cannot run.
fn looks_like_svg(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let head: String = text.chars().take(4096).collect();
    head.contains("<svg")
}

fn parse_time(flag: &str, text: &str) -> Result<UnixTime> {
    common::time_arg(Some(text)).with_context(|| format!("{flag} {text:?}"))
}

fn sign(args: &SealSignArgs, passphrase_file: Option<&Path>) -> Result<ExitCode> {
    let seal_der = read_bounded(&args.seal, MAX_SEAL_FILE_BYTES)
        .with_context(|| format!("--seal {}", args.seal.display()))?;
    let seal =
        Seal::from_der(&seal_der).with_context(|| format!("--seal {}", args.seal.display()))?;
    let holder = HolderDir::open(&args.holder_dir)?.with_plaintext_keys(common::plaintext_keys()?);
    let passphrase = common::passphrase(passphrase_file)?;
    let key = holder
        .key(passphrase.as_ref())
        .context("loading the holder key")?;
    let cert = holder.certificate()?;
    let document = read_bounded(&args.document, MAX_DOCUMENT_BYTES)
        .with_context(|| format!("--document {}", args.document.display()))?;
    let signed_at = common::time_arg(args.at.as_deref())?;
    let property_info = match &args.property_info {
        Some(info) => info.clone(),
        None => args
            .document
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let der = sign_document(
        &seal_der,
        &document,
        signed_at,
        &property_info,
        &key,
        cert.der(),
    )
    .with_context(|| format!("sealing {} with {}", args.document.display(), seal.es_id()))?;
    huren_keys::store::write_atomic(&args.out, &der, 0o644, false)
        .with_context(|| format!("writing {}", args.out.display()))?;
    common::emit(&serde_json::to_string_pretty(&serde_json::json!({
        "esID": seal.es_id(),
        "seal_name": seal.name(),
        "signer_subject": cert.subject(),
        "signed_at": signed_at.to_rfc3339_china(),
        "property_info": property_info,
        "out": args.out,
        "bytes": der.len(),
    }))?)?;
    Ok(ExitCode::SUCCESS)
}

fn verify(args: &SealVerifyArgs) -> Result<ExitCode> {
    let signature = read_bounded(&args.signature, MAX_SEAL_FILE_BYTES)
        .with_context(|| format!("--signature {}", args.signature.display()))?;
    let document = read_bounded(&args.document, MAX_DOCUMENT_BYTES)
        .with_context(|| format!("--document {}", args.document.display()))?;
    let trust_list = match &args.trust_list {
        Some(source) => Some(common::load_trust_list(source, &args.operator_certs)?),
        None => None,
    };
    let makers = args
        .trust_makers
        .iter()
        .map(|path| {
            certificate_der(path).with_context(|| format!("--trust-maker {}", path.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    if trust_list.is_none() && makers.is_empty() {
        bail!("give a trust list (--trust-list and --operator-cert) or --trust-maker CERT: without either, no seal maker is trusted");
    }
    let crls = load_crls(&args.crls, &args.ca_certs, trust_list.as_ref())?;
    let at = common::time_arg(args.at.as_deref())?;
    let status = match &trust_list {
        Some(trust) => seal_status(args, &signature, trust, at)?,
        None => None,
    };
    let trust = match &trust_list {
        Some(list) => SealTrust::TrustList(list),
        None => SealTrust::Makers(&makers),
    };
    let report = verify_seal_signature(&SealVerifyInput {
        signature: &signature,
        document: Document::Bytes(&document),
        trust,
        seal_status: status.as_deref(),
        crls: &crls,
        at,
        options: SealVerifyOptions::default(),
    });
    common::emit(&serde_json::to_string_pretty(&report)?)?;
    summarise(&report);
    Ok(ExitCode::from(match report.verdict {
        Verdict::Valid => 0,
        Verdict::Invalid => 1,
        Verdict::Indeterminate => 2,
    }))
}

/// CRLs that verify under one of the candidate issuers (the trust list's province roots and
/// `--ca-cert`); a CRL no candidate signed is refused, not silently ignored.
fn load_crls(
    paths: &[PathBuf],
    ca_certs: &[PathBuf],
    trust: Option<&TrustList>,
) -> Result<Vec<VerifiedCrl>> {
    let mut issuers = common::pinned_certificates(ca_certs)?;
    if let Some(trust) = trust {
        issuers.extend(trust.regions().iter().flat_map(|r| r.roots.iter().cloned()));
    }
    paths
        .iter()
        .map(|path| {
            let bytes = read_bounded(path, MAX_CRL_BYTES)
                .with_context(|| format!("--crl {}", path.display()))?;
            let der = crl_der(&bytes).with_context(|| format!("--crl {}", path.display()))?;
            let mut last_error = None;
            for issuer in &issuers {
                match VerifiedCrl::verify(&der, issuer) {
                    Ok(crl) => return Ok(crl),
                    Err(e) => last_error = Some(e),
                }
            }
            match last_error {
                Some(e) => bail!("--crl {}: no trusted CA signed it ({e})", path.display()),
                None => bail!(
                    "--crl {}: no CA to check it against (give a trust list or --ca-cert)",
                    path.display()
                ),
            }
        })
        .collect()
}

/// A CRL file's DER: as is, or the body of a PEM `X509 CRL` block.
fn crl_der(bytes: &[u8]) -> Result<Vec<u8>> {
    if !bytes.starts_with(b"-----BEGIN") {
        return Ok(bytes.to_vec());
    }
    // Other blocks (the CA certificate written beside it) are skipped; one CRL is expected.
    let mut crls = huren_crypto::pem::decode_only(bytes, "X509 CRL", MAX_CRL_BYTES)
        .map_err(|e| anyhow::anyhow!("not a PEM X509 CRL: {e}"))?;
    match crls.len() {
        1 => Ok(crls.remove(0)),
        found => anyhow::bail!("expected one PEM X509 CRL block, found {found}"),
    }
}

/// The verified status list the seal's status reference names: from --status-list,
/// --status-dir, or fetched (--fetch-status); `None` when the seal has no reference or the
/// list is unavailable (the report then says `seal_status_unknown`, indeterminate).
///
/// The URI comes from the file, so it is fetched only once the file is vouched for
/// ([`SealReport::vouched`]: signature, seal signature and a trusted maker of the seal's
/// region) and only within that region's status prefix; otherwise a hostile file could
/// make the CLI fetch a URL of its author's choosing.
fn seal_status(
    args: &SealVerifyArgs,
    signature: &[u8],
    trust: &TrustList,
    at: UnixTime,
) -> Result<Option<Arc<VerifiedStatusList>>> {
    let mut lists: HashMap<String, Arc<VerifiedStatusList>> = HashMap::new();
    for path in &args.status_lists {
        let list = status_list_file(path, trust)?;
        let newer = lists
            .get(list.uri())
            .is_none_or(|held| held.iat() < list.iat());
        if newer {
            lists.insert(list.uri().to_owned(), Arc::new(list));
        }
    }
    let Ok(parsed) = SealSignature::from_der(signature) else {
        return Ok(None);
    };
    let Some(reference) = parsed.seal().status_reference() else {
        return Ok(None);
    };
    if let Some(list) = lists.remove(&reference.uri) {
        return Ok(Some(list));
    }
    if let Some(dir) = &args.status_dir {
        common::load_status_dir(dir, trust, &mut lists)?;
    }
    if let Some(list) = lists.remove(&reference.uri) {
        return Ok(Some(list));
    }
    if !args.fetch_status {
        return Ok(None);
    }
    // Only a URI within the seal region's status prefix is fetched (the verification checks
    // the same rule and refuses a list from elsewhere).
    let region_prefix = parsed
        .seal()
        .region()
        .and_then(|code| trust.region(&code).map(|r| r.status_uri_prefix.clone()));
    let within = region_prefix
        .is_some_and(|prefix| !prefix.is_empty() && reference.uri.starts_with(&prefix));
    if !within {
        return Ok(None);
    }
    let precheck = verify_seal_signature(&SealVerifyInput {
        signature,
        document: Document::Digest(&[]),
        trust: SealTrust::TrustList(trust),
        seal_status: None,
        crls: &[],
        at,
        options: SealVerifyOptions::default(),
    });
    if !precheck.vouched() {
        eprintln!(
            "warning: not fetching the seal's status list {}: the seal is not vouched for by a trusted maker",
            reference.uri
        );
        return Ok(None);
    }
    Ok(common::fetch_status_list(&reference.uri, trust).map(Arc::new))
}

/// One --status-list token file, verified under the trust list (its URI is its `sub`).
fn status_list_file(path: &Path, trust: &TrustList) -> Result<VerifiedStatusList> {
    let bytes = read_bounded(path, MAX_STATUS_LIST_BYTES)
        .with_context(|| format!("--status-list {}", path.display()))?;
    let token = String::from_utf8(bytes)
        .with_context(|| format!("--status-list {}: not UTF-8 text", path.display()))?;
    VerifiedStatusList::verify_standalone(token.trim(), trust)
        .with_context(|| format!("--status-list {}", path.display()))
}

fn summarise(report: &SealReport) {
    let (zh, en) = match report.verdict {
        Verdict::Valid => ("有效", "VALID"),
        Verdict::Invalid => ("无效", "INVALID"),
        Verdict::Indeterminate => ("无法确认", "INDETERMINATE"),
    };
    let what = report
        .seal
        .as_ref()
        .map(|s| format!(" — {} ({})", s.name, s.es_id))
        .unwrap_or_default();
    eprintln!("{zh} {en}{what}");
    for reason in &report.reasons {
        eprintln!(
            "  {}: {} / {}",
            reason.code(),
            reason.text_zh(),
            reason.text_en()
        );
    }
}

fn inspect(file: &Path) -> Result<ExitCode> {
    let bytes =
        read_bounded(file, MAX_SEAL_FILE_BYTES).with_context(|| format!("{}", file.display()))?;
    let json = inspect_json(&bytes).with_context(|| {
        format!(
            "{} is neither a seal (.esl) nor a seal signature (.ses / SignedValue.dat)",
            file.display()
        )
    })?;
    common::emit(&serde_json::to_string_pretty(&json)?)?;
    Ok(ExitCode::SUCCESS)
}
