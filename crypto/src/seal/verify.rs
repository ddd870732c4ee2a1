//! Seal-signature verification exactly as SPEC §8: the ordered checks and the verdict. The
//! stable outcome codes (table in the [module doc](super)), the warnings and the report are
//! in `report`; the revocation judgements (the seal's status list, the signer's CRL) in
//! `revocation`.
//!
//! [`verify_seal_signature`] is a pure function of its [`SealVerifyInput`]: the signature
//! bytes, the document (or its hash), the trust source, optional seal status list and CRLs,
//! and the time. It never fetches and never reads the clock.
//!
//! Certificates and the seal are judged at the signing time (GM/T 0031 §6.2.3), which is
//! `timeInfo` as the signer wrote it: huren does not verify RFC 3161 time-stamps, and says so
//! in a warning when one is present. The check time (`at`) is used for what must be current:
//! trust-list freshness and the seal's status list.
//!
//! `format` and `signature` gate the rest: without a readable structure and a valid signature
//! over it, nothing else in the file can be attributed to anyone. After those, every check
//! runs on its own, so a report shows everything that is wrong, not just the first thing.

mod report;
mod revocation;

use super::algorithm::{DigestAlgorithm, SealAlgorithm};
use super::decode::{HolderCerts, Seal, SealSignature, SealVersion};
use super::ext::{read_extensions, SealStatusReference};
use super::lenient_cert::SealCertificate;
use crate::crl::VerifiedCrl;
use crate::ids::RegionCode;
use crate::key::SignatureError;
use crate::status_token::VerifiedStatusList;
use crate::time::UnixTime;
use crate::trust_list::{RegionStatus, TrustList, TrustedRegion};

pub use crate::verify::Verdict;
use report::Builder;
pub use report::{
    SealCheck, SealCheckName, SealOutcome, SealReport, SealView, SealWarning, ALL_SEAL_CHECKS,
};
use revocation::{check_signer_certificate, seal_status};

/// Where trust in seal makers comes from.
#[derive(Debug, Clone, Copy)]
pub enum SealTrust<'a> {
    /// A verified national trust list: the maker must be one of the `seal_makers` of the
    /// region the esID names.
    TrustList(&'a TrustList),
    /// Maker certificates trusted explicitly (DER; `--trust-maker`), compared byte for byte;
    /// no region check. Empty means nothing is trusted.
    Makers(&'a [Vec<u8>]),
}

/// The document whose hash is in the signature.
#[derive(Debug, Clone, Copy)]
pub enum Document<'a> {
    /// The document's bytes (for OFD: the `Signature.xml` next to `SignedValue.dat`).
    Bytes(&'a [u8]),
    /// A hash the caller computed with [`SealSignature::digest_algorithm`].
    Digest(&'a [u8]),
}

/// Policy knobs. Defaults fail closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealVerifyOptions {
    /// Clock skew tolerated on status-list `iat`, seconds (default 300).
    pub skew_seconds: i64,
    /// Grace after the trust list's `next_update` before it counts as stale (default 0).
    pub trust_list_grace_seconds: i64,
}

impl Default for SealVerifyOptions {
    fn default() -> Self {
        SealVerifyOptions {
            skew_seconds: 300,
            trust_list_grace_seconds: 0,
        }
    }
}

/// Everything verification looks at.
#[derive(Debug, Clone, Copy)]
pub struct SealVerifyInput<'a> {
    /// The `SES_Signature` (DER, as received).
    pub signature: &'a [u8],
    /// The signed document or its hash.
    pub document: Document<'a>,
    /// Trusted makers.
    pub trust: SealTrust<'a>,
    /// The status list the seal's status extension names (see [`Seal::status_reference`]).
    pub seal_status: Option<&'a VerifiedStatusList>,
    /// Verified CRLs; the one whose issuer is the signer certificate's issuer is used.
    pub crls: &'a [VerifiedCrl],
    /// Time of the check (trust-list freshness, seal status, and the bound on the claimed
    /// signing time). Required: the signing time is written by the signer, so it cannot
    /// stand in for "now".
    pub at: UnixTime,
    /// Policy.
    pub options: SealVerifyOptions,
}

/// What the early checks established, for the report.
#[derive(Default)]
struct Shown {
    seal: Option<SealView>,
    signer_subject: Option<String>,
    signed_at: Option<String>,
}

/// Verifies a seal signature (SPEC §8).
///
/// ```
/// use huren_crypto::seal::verify::{
///     verify_seal_signature, Document, SealOutcome, SealTrust, SealVerifyInput,
///     SealVerifyOptions, Verdict,
/// };
/// let report = verify_seal_signature(&SealVerifyInput {
///     signature: b"not a seal",
///     document: Document::Bytes(b"%PDF-1.7"),
///     trust: SealTrust::Makers(&[]),
///     seal_status: None,
///     crls: &[],
///     at: huren_crypto::UnixTime(1_795_400_000),
///     options: SealVerifyOptions::default(),
/// });
/// assert_eq!(report.verdict, Verdict::Invalid);
/// assert_eq!(report.reasons, [SealOutcome::SealMalformed]);
/// assert_eq!(report.checks.len(), 9);
/// ```
pub fn verify_seal_signature(input: &SealVerifyInput<'_>) -> SealReport {
    let mut builder = Builder {
        checks: Vec::with_capacity(ALL_SEAL_CHECKS.len()),
        reasons: Vec::new(),
        warnings: Vec::new(),
    };
    let mut shown = Shown::default();
    run(input, &mut builder, &mut shown);
    for check in ALL_SEAL_CHECKS {
        if !builder.checks.iter().any(|c| c.check == check) {
            builder.record(check, None, "not run: an earlier check failed".into());
        }
    }
    builder
        .checks
        .sort_by_key(|c| ALL_SEAL_CHECKS.iter().position(|n| *n == c.check));
    let verdict = if builder.reasons.is_empty() {
        Verdict::Valid
    } else if builder.reasons.iter().all(|r| r.is_indeterminate()) {
        Verdict::Indeterminate
    } else {
        Verdict::Invalid
    };
    SealReport {
        verdict,
        reasons: builder.reasons,
        warnings: builder.warnings,
        checks: builder.checks,
        seal: shown.seal,
        signer_subject: shown.signer_subject,
        signed_at: shown.signed_at,
    }
}

fn run(input: &SealVerifyInput<'_>, b: &mut Builder, shown: &mut Shown) {
    use SealCheckName as C;
    use SealOutcome as O;

    // 1. format
    let sig = match SealSignature::from_der(input.signature) {
        Ok(sig) => sig,
        Err(e) => return b.fail(C::Format, O::SealMalformed, e.to_string()),
    };
    let seal = sig.seal();
    let known = match read_extensions(seal.extensions()) {
        Ok(known) => known,
        Err(e) => return b.fail(C::Format, O::SealMalformed, format!("seal {e}")),
    };
    if let Err(e) = read_extensions(sig.extensions()) {
        return b.fail(C::Format, O::SealMalformed, format!("signature {e}"));
    }
    b.pass(
        C::Format,
        format!(
            "{} ({}), esID {}",
            sig.version().standard(),
            if sig.version().number() == 4 {
                "v4"
            } else {
                "v1"
            },
            seal.es_id()
        ),
    );
    let signed_at = sig.signing_time().at;
    let at = input.at;
    if sig.time_stamp().is_some() {
        b.warn(SealWarning::TimestampNotVerified);
    }
    if sig.signing_time().zoneless {
        b.warn(SealWarning::ZonelessSigningTime);
    }

    // 2. signature over the exact TBS bytes received
    let signer = match SealCertificate::parse(sig.signer_cert()) {
        Ok(cert) => cert,
        Err(e) => {
            return b.fail(
                C::Signature,
                O::SealMalformed,
                format!("signer certificate: {e}"),
            )
        }
    };
    let Some(algorithm) = SealAlgorithm::from_oid(sig.algorithm()) else {
        let detail = format!("signature algorithm {} is not accepted", sig.algorithm());
        return b.fail(C::Signature, O::UnsupportedAlgorithm, detail);
    };
    let key = match signer.public_key() {
        Ok(key) => key,
        Err(e) => {
            let detail = format!("signer key: {e}");
            return b.fail(C::Signature, O::UnsupportedAlgorithm, detail);
        }
    };
    // Some deployed producers hash DER(TBS_Sign) themselves and sign the digest as the
    // message (SPEC §8). The digest binds exactly the same bytes, so a signature over it
    // vouches for the same TBS; it is tried only after the standard form failed. The digest
    // is taken only then: the TBS holds the whole seal with its picture, and hashing it for
    // nothing cost ~6 % of an SM2 seal verification (issue 15).
    let verified = algorithm
        .verify(key, sig.tbs(), sig.signature())
        .map(|()| "")
        .or_else(|e| match e {
            SignatureError::Invalid => algorithm
                .verify(key, &algorithm.digest().digest(sig.tbs()), sig.signature())
                .map(|()| " (over the digest of TBS_Sign, not TBS_Sign itself)"),
            other => Err(other),
        });
    match verified {
        Ok(form) => {
            if !form.is_empty() {
                b.warn(SealWarning::NonstandardSignedContent);
            }
            b.pass(
                C::Signature,
                format!("{algorithm} by {}{form}", signer.subject()),
            );
        }
        Err(SignatureError::Invalid) => {
            return b.fail(C::Signature, O::BadSignature, "does not verify".into())
        }
        Err(e) => return b.fail(C::Signature, O::UnsupportedAlgorithm, e.to_string()),
    }
    if !signer.deviations().is_empty() {
        b.warn(SealWarning::LenientCertificate);
    }
    shown.signer_subject = Some(signer.subject().to_owned());
    shown.signed_at = Some(signed_at.to_rfc3339_china());

    // 3. signer certificate in the seal's certList
    check_signer_in_seal(seal, &signer, b);

    // 4. the maker's signature over the seal
    let maker = check_seal_signature(seal, b);
    if let Some(maker) = &maker {
        if !maker.deviations().is_empty() {
            b.warn(SealWarning::LenientCertificate);
        }
        shown.seal = Some(SealView {
            es_id: seal.es_id().to_owned(),
            name: seal.name().to_owned(),
            seal_type: seal.seal_type(),
            version: seal.version().number(),
            valid_start: seal.valid_start().at().to_rfc3339_china(),
            valid_end: seal.valid_end().at().to_rfc3339_china(),
            maker_subject: maker.subject().to_owned(),
        });
    }

    // 5. maker trusted for the seal's region
    let maker_region = check_maker_trusted(input, seal, at, b);

    // 6. the seal's validity at signing time, and its status now
    check_seal_validity(input, seal, known.status.as_ref(), signed_at, at, b);

    // 7. maker certificate valid when the seal was made
    check_maker_certificate(seal, maker.as_ref(), maker_region, b);

    // 8. signer certificate valid and not revoked at signing time
    check_signer_certificate(input, &signer, signed_at, b);

    // 9. document hash
    let digest = algorithm.digest();
    let (matches, how) = match input.document {
        Document::Bytes(bytes) => (
            digest.digest(bytes) == sig.data_hash(),
            format!("{digest} of {} document bytes", bytes.len()),
        ),
        Document::Digest(hash) => (hash == sig.data_hash(), format!("{digest} given")),
    };
    if matches {
        b.pass(C::DocumentHash, format!("{how} equals dataHash"));
    } else {
        b.fail(
            C::DocumentHash,
            O::DocumentHashMismatch,
            format!("{how} differs from dataHash"),
        );
    }
}

fn check_signer_in_seal(seal: &Seal, signer: &SealCertificate, b: &mut Builder) {
    use SealCheckName as C;
    match seal.holder_certs() {
        HolderCerts::Certs(certs) => {
            let others = seal.non_cert_entries();
            if certs.iter().any(|c| c.as_slice() == signer.der()) {
                b.pass(
                    C::SignerInSeal,
                    format!("one of the seal's {} holder certificates", certs.len()),
                );
            } else if let Some(first) = others.first() {
                // What the producer meant by those entries is unknown: they might name the
                // signer, so neither "listed" nor "not listed" can be said.
                let detail = format!(
                    "not one of the seal's {} holder certificates, and its certList also holds \
                     {} entries that are not certificates (the first a {}), which cannot be \
                     compared",
                    certs.len(),
                    others.len(),
                    first.asn1_type
                );
                b.findings(
                    C::SignerInSeal,
                    vec![(SealOutcome::SignerInSealUnknown, detail)],
                    String::new(),
                );
            } else {
                b.fail(
                    C::SignerInSeal,
                    SealOutcome::SignerNotInSeal,
                    format!("not one of the seal's {} holder certificates", certs.len()),
                );
            }
        }
        HolderCerts::Digests(digests) => {
            let mut unknown = Vec::new();
            let found = digests
                .iter()
                .find(|d| match DigestAlgorithm::from_label(&d.label) {
                    Some(alg) => alg.digest(signer.der()) == d.value,
                    None => {
                        unknown.push(d.label.clone());
                        false
                    }
                });
            match found {
                Some(d) => b.pass(
                    C::SignerInSeal,
                    format!("{} digest of the certificate listed", d.label),
                ),
                None => {
                    let mut detail =
                        format!("no digest among the seal's {} matches", digests.len());
                    if !unknown.is_empty() {
                        detail.push_str(&format!(" (unknown digest types {unknown:?})"));
                    }
                    b.fail(C::SignerInSeal, SealOutcome::SignerNotInSeal, detail);
                }
            }
        }
    }
}

fn check_seal_signature(seal: &Seal, b: &mut Builder) -> Option<SealCertificate> {
    use SealCheckName as C;
    use SealOutcome as O;
    let maker = match SealCertificate::parse(seal.maker_cert()) {
        Ok(maker) => maker,
        Err(e) => {
            b.fail(
                C::SealSignature,
                O::SealMalformed,
                format!("maker certificate: {e}"),
            );
            return None;
        }
    };
    let Some(algorithm) = SealAlgorithm::from_oid(seal.algorithm()) else {
        let detail = format!(
            "seal signature algorithm {} is not accepted",
            seal.algorithm()
        );
        b.fail(C::SealSignature, O::UnsupportedAlgorithm, detail);
        return None;
    };
    let key = match maker.public_key() {
        Ok(key) => key,
        Err(e) => {
            b.fail(
                C::SealSignature,
                O::UnsupportedAlgorithm,
                format!("maker key: {e}"),
            );
            return None;
        }
    };
    // The standard's message first, then the one some deployed producers sign instead
    // (SPEC §8); both carry the whole seal information as received.
    let verified = algorithm
        .verify(key, seal.signed_message(), seal.signature())
        .map(|()| "")
        .or_else(|e| match e {
            SignatureError::Invalid => seal
                .alternative_signed_message()
                .map_err(|_| SignatureError::Invalid)
                .and_then(|message| algorithm.verify(key, &message, seal.signature()))
                .map(|()| match seal.version() {
                    SealVersion::V4 => {
                        " (over SEQUENCE{sealInfo, cert, signatureAlgorithm}, the GM/T 0031 form)"
                    }
                    SealVersion::V1 => " (over sealInfo alone, the GB/T 38540 form)",
                }),
            other => Err(other),
        });
    match verified {
        Ok(form) => {
            if !form.is_empty() {
                b.warn(SealWarning::NonstandardSignedContent);
            }
            b.pass(
                C::SealSignature,
                format!("{algorithm} by {}{form}", maker.subject()),
            );
            Some(maker)
        }
        Err(SignatureError::Invalid) => {
            b.fail(
                C::SealSignature,
                O::SealBadSignature,
                "does not verify".into(),
            );
            None
        }
        Err(e) => {
            b.fail(C::SealSignature, O::UnsupportedAlgorithm, e.to_string());
            None
        }
    }
}

/// 5. Returns the trust-list region the maker belongs to, when it is trusted through one.
fn check_maker_trusted<'t>(
    input: &SealVerifyInput<'t>,
    seal: &Seal,
    at: UnixTime,
    b: &mut Builder,
) -> Option<&'t TrustedRegion> {
    use SealCheckName as C;
    use SealOutcome as O;
    let maker_der = seal.maker_cert();
    match input.trust {
        SealTrust::Makers(makers) => {
            if makers.iter().any(|m| m.as_slice() == maker_der) {
                b.pass(
                    C::MakerTrusted,
                    "maker certificate trusted explicitly".into(),
                );
            } else {
                let detail = format!(
                    "maker certificate is not one of the {} trusted explicitly",
                    makers.len()
                );
                b.fail(C::MakerTrusted, O::MakerNotTrusted, detail);
            }
            None
        }
        SealTrust::TrustList(list) => {
            let seal_region = seal.region();
            // A maker listed for several regions is judged by the seal's own region first.
            let makes_for = |r: &&TrustedRegion| r.seal_makers.iter().any(|m| m.der() == maker_der);
            let region = seal_region
                .as_ref()
                .and_then(|code| list.region(code))
                .filter(makes_for)
                .or_else(|| list.regions().iter().find(makes_for));
            let mut findings = Vec::new();
            match region {
                None => findings.push((
                    O::MakerNotTrusted,
                    format!("maker is not a seal maker in trust list seq {}", list.seq()),
                )),
                Some(region) if seal_region.as_ref() != Some(&region.code) => findings.push((
                    O::MakerWrongRegion,
                    format!(
                        "maker is a seal maker of {} but esID {} names {}",
                        region.code,
                        seal.es_id(),
                        seal_region.as_ref().map_or("no region", RegionCode::as_str)
                    ),
                )),
                Some(region) if region.status == RegionStatus::Suspended => findings.push((
                    O::RegionSuspended,
                    format!(
                        "{} {} is suspended in the trust list",
                        region.code, region.name
                    ),
                )),
                Some(_) => {}
            }
            if list.is_stale(at, input.options.trust_list_grace_seconds) {
                findings.push((
                    O::TrustListStale,
                    format!(
                        "trust list seq {} was due for update at {}",
                        list.seq(),
                        list.next_update()
                    ),
                ));
            }
            let pass = region.map_or_else(String::new, |r| {
                format!(
                    "seal maker of {} {} (trust list seq {})",
                    r.code,
                    r.name,
                    list.seq()
                )
            });
            b.findings(C::MakerTrusted, findings, pass);
            region
        }
    }
}

fn check_seal_validity(
    input: &SealVerifyInput<'_>,
    seal: &Seal,
    reference: Option<&SealStatusReference>,
    signed_at: UnixTime,
    at: UnixTime,
    b: &mut Builder,
) {
    use SealOutcome as O;
    let (start, end) = (seal.valid_start().at(), seal.valid_end().at());
    let mut findings = Vec::new();
    if signed_at > at.plus(input.options.skew_seconds) {
        findings.push((
            O::SigningTimeInFuture,
            format!("signed at {signed_at}, later than the time of the check {at}"),
        ));
    }
    if signed_at < seal.create_date().at() {
        findings.push((
            O::SealNotYetValidAtSigning,
            format!(
                "signed at {signed_at}, before the seal was made at {}",
                seal.create_date().at()
            ),
        ));
    }
    if signed_at < start {
        findings.push((
            O::SealNotYetValidAtSigning,
            format!("signed at {signed_at}, before the seal's validity starts at {start}"),
        ));
    } else if signed_at > end {
        findings.push((
            O::SealExpiredAtSigning,
            format!("signed at {signed_at}, after the seal's validity ended at {end}"),
        ));
    }
    let status_detail = match reference {
        None => "no status reference".to_owned(),
        Some(reference) => match seal_status(input, seal, reference, at) {
            Ok(detail) => detail,
            Err(finding) => {
                findings.push(finding);
                String::new()
            }
        },
    };
    b.findings(
        SealCheckName::SealValidity,
        findings,
        format!("signed at {signed_at}, within {start} to {end}; {status_detail}"),
    );
}

fn check_maker_certificate(
    seal: &Seal,
    maker: Option<&SealCertificate>,
    region: Option<&TrustedRegion>,
    b: &mut Builder,
) {
    use SealCheckName as C;
    let Some(maker) = maker else {
        return b.record(
            C::MakerCertificate,
            None,
            "not run: the seal's signature did not verify".into(),
        );
    };
    let made = seal.create_date().at();
    if !maker.is_valid_at(made) {
        return b.fail(
            C::MakerCertificate,
            SealOutcome::MakerCertificateInvalid,
            format!(
                "seal made at {made}, outside the maker certificate's validity {} to {}",
                maker.not_before(),
                maker.not_after()
            ),
        );
    }
    if let Some(region) = region {
        // The trust list already checked the maker chains to one of these roots; here only
        // the root's own validity at the making time is in question.
        let root_valid = region
            .roots
            .iter()
            .filter(|root| root.subject() == maker.issuer())
            .any(|root| root.check_valid_at(made).is_ok());
        if !root_valid {
            return b.fail(
                C::MakerCertificate,
                SealOutcome::MakerCertificateInvalid,
                format!(
                    "seal made at {made}, when no root of {} named {} was valid",
                    region.code,
                    maker.issuer()
                ),
            );
        }
    }
    b.pass(
        C::MakerCertificate,
        format!(
            "valid {} to {}, seal made at {made}",
            maker.not_before(),
            maker.not_after()
        ),
    );
}
