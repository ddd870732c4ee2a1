// Over 800 lines because it holds the whole ordered SPEC §8 check sequence plus the fail-closed
// revocation rules, which read each other's state at every step; moving the revocation
// judgement and the report into their own modules is open (session-6 note), not done.

//! Seal-signature verification exactly as SPEC §8: the ordered checks, the stable outcome
//! codes (table in the [module doc](super)), the verdict, warnings and the report.
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

use serde::Serialize;

use super::algorithm::{DigestAlgorithm, SealAlgorithm};
use super::decode::{HolderCerts, Seal, SealSignature, SealVersion};
use super::ext::{read_extensions, SealStatusReference};
use super::lenient_cert::SealCertificate;
use crate::crl::{RevocationReason, VerifiedCrl};
use crate::ids::RegionCode;
use crate::key::SignatureError;
use crate::status_list::StatusValue;
use crate::status_token::VerifiedStatusList;
use crate::time::UnixTime;
use crate::trust_list::{RegionStatus, TrustList, TrustedRegion};
pub use crate::verify::Verdict;

/// The stable outcome codes of seal verification, in check order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SealOutcome {
    /// Not a readable seal signature, a field out of bounds, a malformed or unknown critical
    /// extension, an unreadable certificate, or a status index outside its list.
    SealMalformed,
    /// A signature algorithm or key huren does not accept, or one not fitting its key.
    UnsupportedAlgorithm,
    /// The signer's signature over `TBS_Sign` does not verify.
    BadSignature,
    /// The signer certificate is not in the seal's certList.
    SignerNotInSeal,
    /// The seal's certList holds entries that are not certificates (seen in deployed GM/T
    /// 0031 seals) and the signer is not among the ones that are: whether the seal names it
    /// cannot be checked.
    SignerInSealUnknown,
    /// The maker's signature over the seal does not verify.
    SealBadSignature,
    /// The maker is not a trusted seal maker.
    MakerNotTrusted,
    /// The maker is trusted for another region than the one the esID names.
    MakerWrongRegion,
    /// The seal's region is suspended in the trust list.
    RegionSuspended,
    /// The trust list is past `next_update` plus grace.
    TrustListStale,
    /// Signed before the seal's validStart (or before the seal was made).
    SealNotYetValidAtSigning,
    /// Signed after the seal's validEnd.
    SealExpiredAtSigning,
    /// The claimed signing time is later than the time of the check (plus skew): a time the
    /// signer wrote cannot be in the future, and judging the seal and certificates at it would
    /// accept a seal or certificate that is not valid yet.
    SigningTimeInFuture,
    /// The seal is revoked (its status list says so).
    SealRevoked,
    /// The seal is suspended (its status list says so).
    SealSuspended,
    /// The seal names a status list that is not available, not fresh or not applicable.
    SealStatusUnknown,
    /// The maker certificate was not valid when the seal was made.
    MakerCertificateInvalid,
    /// The signer certificate was not valid at the signing time.
    SignerCertificateInvalid,
    /// The signer certificate was revoked before the signing time.
    SignerRevokedBeforeSigning,
    /// The signer certificate was revoked after the claimed signing time, but not for one of
    /// the benign reasons (`superseded`, `cessationOfOperation`, `affiliationChanged`): for
    /// key, CA or AA compromise, withdrawn privilege, `unspecified` or no reason at all.
    /// Whoever holds the key can write any `timeInfo` and huren verifies no time-stamp, so
    /// it counts as revoked before any claimed signing time (SPEC §8).
    SignerKeyCompromised,
    /// Whether the signer certificate was revoked at the signing time cannot be told: no CRL
    /// of its issuer, one past its `nextUpdate`, or a `certificateHold` (or benign entry in
    /// a stale list) that may yet change.
    SignerRevocationUnknown,
    /// The document's hash is not `dataHash`.
    DocumentHashMismatch,
}

impl SealOutcome {
    /// The code as a string (as serialized).
    pub fn code(self) -> &'static str {
        match self {
            SealOutcome::SealMalformed => "seal_malformed",
            SealOutcome::UnsupportedAlgorithm => "unsupported_algorithm",
            SealOutcome::BadSignature => "bad_signature",
            SealOutcome::SignerNotInSeal => "signer_not_in_seal",
            SealOutcome::SignerInSealUnknown => "signer_in_seal_unknown",
            SealOutcome::SealBadSignature => "seal_bad_signature",
            SealOutcome::MakerNotTrusted => "maker_not_trusted",
            SealOutcome::MakerWrongRegion => "maker_wrong_region",
            SealOutcome::RegionSuspended => "region_suspended",
            SealOutcome::TrustListStale => "trust_list_stale",
            SealOutcome::SealNotYetValidAtSigning => "seal_not_yet_valid_at_signing",
            SealOutcome::SealExpiredAtSigning => "seal_expired_at_signing",
            SealOutcome::SealRevoked => "seal_revoked",
            SealOutcome::SealSuspended => "seal_suspended",
            SealOutcome::SealStatusUnknown => "seal_status_unknown",
            SealOutcome::MakerCertificateInvalid => "maker_certificate_invalid",
            SealOutcome::SignerCertificateInvalid => "signer_certificate_invalid",
            SealOutcome::SignerRevokedBeforeSigning => "signer_revoked_before_signing",
            SealOutcome::SigningTimeInFuture => "signing_time_in_future",
            SealOutcome::SignerKeyCompromised => "signer_key_compromised",
            SealOutcome::SignerRevocationUnknown => "signer_revocation_unknown",
            SealOutcome::DocumentHashMismatch => "document_hash_mismatch",
        }
    }

    /// Whether this outcome only makes the verdict indeterminate.
    pub fn is_indeterminate(self) -> bool {
        matches!(
            self,
            SealOutcome::TrustListStale
                | SealOutcome::SealStatusUnknown
                | SealOutcome::SignerInSealUnknown
                | SealOutcome::SignerRevocationUnknown
        )
    }

    /// What a clerk reads, in Chinese.
    pub fn text_zh(self) -> &'static str {
        match self {
            SealOutcome::SealMalformed => "无法识别的电子签章数据",
            SealOutcome::UnsupportedAlgorithm => "不接受的签名算法",
            SealOutcome::BadSignature => "签章签名无效（内容被篡改）",
            SealOutcome::SignerNotInSeal => "签章人证书不在印章的证书列表中",
            SealOutcome::SignerInSealUnknown => {
                "印章的证书列表含非证书内容，无法确认签章人属于该印章"
            }
            SealOutcome::SealBadSignature => "印章的制章签名无效",
            SealOutcome::MakerNotTrusted => "制章者不受信任",
            SealOutcome::MakerWrongRegion => "制章者无权为该地区制作印章",
            SealOutcome::RegionSuspended => "印章所属地区已被暂停互认",
            SealOutcome::TrustListStale => "信任列表已过期，需要更新",
            SealOutcome::SealNotYetValidAtSigning => "签章时印章尚未生效",
            SealOutcome::SealExpiredAtSigning => "签章时印章已过期",
            SealOutcome::SealRevoked => "印章已被吊销",
            SealOutcome::SealSuspended => "印章已被暂停使用",
            SealOutcome::SealStatusUnknown => "无法确认印章当前状态",
            SealOutcome::MakerCertificateInvalid => "制章时制章者证书无效",
            SealOutcome::SignerCertificateInvalid => "签章时签章人证书无效",
            SealOutcome::SignerRevokedBeforeSigning => "签章人证书在签章前已被吊销",
            SealOutcome::SigningTimeInFuture => "签章时间晚于核验时间",
            SealOutcome::SignerKeyCompromised => {
                "签章人证书因密钥泄露等原因被吊销，签章时间不可信，按签章前吊销处理"
            }
            SealOutcome::SignerRevocationUnknown => {
                "无法确认签章人证书在签章时是否已被吊销（没有有效的证书吊销列表）"
            }
            SealOutcome::DocumentHashMismatch => "文档已被篡改（摘要不符）",
        }
    }

    /// What a clerk reads, in English.
    pub fn text_en(self) -> &'static str {
        match self {
            SealOutcome::SealMalformed => "Not a readable seal signature",
            SealOutcome::UnsupportedAlgorithm => "Signature algorithm not accepted",
            SealOutcome::BadSignature => "Seal signature invalid (content altered)",
            SealOutcome::SignerNotInSeal => "Signer certificate is not listed in the seal",
            SealOutcome::SignerInSealUnknown => {
                "The seal's certificate list holds non-certificates; whether it names the signer cannot be checked"
            }
            SealOutcome::SealBadSignature => "The seal's maker signature is invalid",
            SealOutcome::MakerNotTrusted => "Seal maker is not trusted",
            SealOutcome::MakerWrongRegion => "Seal maker may not make seals for this region",
            SealOutcome::RegionSuspended => "The seal's region is suspended",
            SealOutcome::TrustListStale => "Trust list out of date",
            SealOutcome::SealNotYetValidAtSigning => "Seal not yet valid when used",
            SealOutcome::SealExpiredAtSigning => "Seal expired when used",
            SealOutcome::SealRevoked => "Seal revoked",
            SealOutcome::SealSuspended => "Seal suspended",
            SealOutcome::SealStatusUnknown => "Current seal status cannot be confirmed",
            SealOutcome::MakerCertificateInvalid => {
                "Maker certificate not valid when the seal was made"
            }
            SealOutcome::SignerCertificateInvalid => "Signer certificate not valid when signing",
            SealOutcome::SignerRevokedBeforeSigning => {
                "Signer certificate was revoked before signing"
            }
            SealOutcome::SigningTimeInFuture => "Signing time is later than the check time",
            SealOutcome::SignerKeyCompromised => {
                "Signer certificate revoked for key compromise (or no benign reason): the signing time cannot be trusted, so it counts as revoked before signing"
            }
            SealOutcome::SignerRevocationUnknown => {
                "Whether the signer certificate was revoked at signing cannot be checked (no current revocation list)"
            }
            SealOutcome::DocumentHashMismatch => "Document altered (hash mismatch)",
        }
    }
}

impl std::fmt::Display for SealOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Findings that do not change the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SealWarning {
    /// A time-stamp is present but huren does not verify time-stamps; `timeInfo` was used.
    TimestampNotVerified,
    /// The signer's CRL is current but was issued before the signing time: a revocation
    /// between its issue and the signing shows only in the next list.
    CrlPredatesSigning,
    /// A signature verified only over a form deployed producers write instead of the
    /// standard's: the maker's over SEQUENCE{sealInfo, cert, signatureAlgorithm} in v4 (or
    /// over sealInfo alone in v1), or the signer's over the digest of `TBS_Sign`.
    NonstandardSignedContent,
    /// The signer certificate was revoked (superseded, cessationOfOperation or
    /// affiliationChanged), but only after the signing time.
    SignerRevokedAfterSigning,
    /// A certificate needed the lenient reader (not strict DER / RFC 5280).
    LenientCertificate,
    /// No longer emitted (a future `timeInfo` is the outcome `signing_time_in_future`); kept
    /// so code matching on the warnings keeps compiling.
    SigningTimeAfterCheck,
    /// A v1 `timeInfo` without zone, read as China Standard Time.
    ZonelessSigningTime,
}

/// The names of the checks, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SealCheckName {
    /// Structure, bounds, extensions.
    Format,
    /// The signer's signature over `TBS_Sign`.
    Signature,
    /// The signer certificate is in the seal's certList.
    SignerInSeal,
    /// The maker's signature over the seal.
    SealSignature,
    /// The maker is a trusted seal maker for the seal's region.
    MakerTrusted,
    /// The seal's validity window covers the signing time; its status.
    SealValidity,
    /// The maker certificate was valid when the seal was made.
    MakerCertificate,
    /// The signer certificate was valid, and not revoked, at the signing time.
    SignerCertificate,
    /// The document's hash equals `dataHash`.
    DocumentHash,
}

/// Every check, in report order.
pub const ALL_SEAL_CHECKS: [SealCheckName; 9] = [
    SealCheckName::Format,
    SealCheckName::Signature,
    SealCheckName::SignerInSeal,
    SealCheckName::SealSignature,
    SealCheckName::MakerTrusted,
    SealCheckName::SealValidity,
    SealCheckName::MakerCertificate,
    SealCheckName::SignerCertificate,
    SealCheckName::DocumentHash,
];

/// One check and how it went; `ok: null` when it could not run or could not decide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SealCheck {
    /// Which check.
    pub check: SealCheckName,
    /// `Some(true)` passed, `Some(false)` failed, `None` did not run or could not decide.
    pub ok: Option<bool>,
    /// What was checked against what.
    pub detail: Option<String>,
}

/// The seal as shown in a report (only when the maker's signature over it verified).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SealView {
    /// 电子印章编码.
    #[serde(rename = "esID")]
    pub es_id: String,
    /// 印章名称.
    pub name: String,
    /// 印章类型.
    #[serde(rename = "type")]
    pub seal_type: i64,
    /// Format version (1 or 4).
    pub version: u8,
    /// Start of validity (RFC 3339, China time).
    pub valid_start: String,
    /// End of validity (RFC 3339, China time).
    pub valid_end: String,
    /// Maker certificate subject.
    pub maker_subject: String,
}

/// The seal verification report (SPEC §8).
#[derive(Debug, Clone, Serialize)]
pub struct SealReport {
    /// Overall answer.
    pub verdict: Verdict,
    /// Outcome codes of failed or undecided checks, in check order; empty exactly when valid.
    pub reasons: Vec<SealOutcome>,
    /// Non-fatal findings.
    pub warnings: Vec<SealWarning>,
    /// Every check, in order.
    pub checks: Vec<SealCheck>,
    /// The seal, when its maker signature verified.
    pub seal: Option<SealView>,
    /// Signer certificate subject, when the signature verified.
    pub signer_subject: Option<String>,
    /// The signing time used (RFC 3339, China time), when the signature verified.
    pub signed_at: Option<String>,
}

impl SealReport {
    /// Whether `signature`, `signer_in_seal`, `seal_signature` and `maker_trusted` all
    /// passed: the seal is a trusted maker's (of the right region) and the signer one it
    /// names. Only then may a verifier act on what the file names, such as fetching its
    /// status list: before, the status URI and the signer certificate are anyone's choice
    /// (a signer's own signature proves nothing, anyone can make a certificate).
    pub fn vouched(&self) -> bool {
        [
            SealCheckName::Signature,
            SealCheckName::SignerInSeal,
            SealCheckName::SealSignature,
            SealCheckName::MakerTrusted,
        ]
        .into_iter()
        .all(|name| {
            self.checks
                .iter()
                .any(|c| c.check == name && c.ok == Some(true))
        })
    }
}

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

/// Collects checks and reasons.
struct Builder {
    checks: Vec<SealCheck>,
    reasons: Vec<SealOutcome>,
    warnings: Vec<SealWarning>,
}

impl Builder {
    fn record(&mut self, check: SealCheckName, ok: Option<bool>, detail: String) {
        self.checks.push(SealCheck {
            check,
            ok,
            detail: Some(detail),
        });
    }

    fn pass(&mut self, check: SealCheckName, detail: String) {
        self.record(check, Some(true), detail);
    }

    fn reason(&mut self, outcome: SealOutcome) {
        if !self.reasons.contains(&outcome) {
            self.reasons.push(outcome);
        }
    }

    fn fail(&mut self, check: SealCheckName, outcome: SealOutcome, detail: String) {
        self.record(check, Some(false), detail);
        self.reason(outcome);
    }

    /// Records the findings of a check that can have several: failed if any is definitive,
    /// undecided if all are indeterminate, passed (with `pass_detail`) if there are none.
    fn findings(
        &mut self,
        check: SealCheckName,
        findings: Vec<(SealOutcome, String)>,
        pass_detail: String,
    ) {
        if findings.is_empty() {
            return self.pass(check, pass_detail);
        }
        let definitive = findings.iter().any(|(o, _)| !o.is_indeterminate());
        let detail = findings
            .iter()
            .map(|(_, d)| d.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        self.record(check, if definitive { Some(false) } else { None }, detail);
        for (outcome, _) in findings {
            self.reason(outcome);
        }
    }

    fn warn(&mut self, warning: SealWarning) {
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }
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
    // vouches for the same TBS; it is tried only after the standard form failed.
    let tbs_digest = algorithm.digest().digest(sig.tbs());
    let verified = algorithm
        .verify(key, sig.tbs(), sig.signature())
        .map(|()| "")
        .or_else(|e| match e {
            SignatureError::Invalid => algorithm
                .verify(key, &tbs_digest, sig.signature())
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

/// The seal's current status from its status list.
fn seal_status(
    input: &SealVerifyInput<'_>,
    seal: &Seal,
    reference: &SealStatusReference,
    at: UnixTime,
) -> Result<String, (SealOutcome, String)> {
    use SealOutcome as O;
    let region = seal.region();
    if let SealTrust::TrustList(list) = input.trust {
        let prefix_ok = region
            .as_ref()
            .and_then(|r| list.region(r))
            .is_some_and(|r| {
                !r.status_uri_prefix.is_empty() && reference.uri.starts_with(&r.status_uri_prefix)
            });
        if !prefix_ok {
            return Err((
                O::SealMalformed,
                "the seal's status uri is outside the prefix the trust list gives its region"
                    .into(),
            ));
        }
    }
    let Some(list) = input.seal_status else {
        return Err((
            O::SealStatusUnknown,
            format!("seal status list {} not available", reference.uri),
        ));
    };
    if list.uri() != reference.uri {
        return Err((
            O::SealStatusUnknown,
            format!(
                "the status list given is {}, the seal names {}",
                list.uri(),
                reference.uri
            ),
        ));
    }
    if region.as_ref() != Some(list.region()) {
        return Err((
            O::SealStatusUnknown,
            format!(
                "status list was signed for {}, not the seal's region",
                list.region()
            ),
        ));
    }
    if !list.is_fresh(at, input.options.skew_seconds) {
        return Err((
            O::SealStatusUnknown,
            format!("status list signed {} expired {}", list.iat(), list.exp()),
        ));
    }
    let detail = format!(
        "status index {} in list signed {}",
        reference.idx,
        list.iat()
    );
    match list.status(reference.idx) {
        None => Err((
            O::SealMalformed,
            format!(
                "status index {} is outside the list of {}",
                reference.idx,
                list.capacity()
            ),
        )),
        Some(StatusValue::Valid) => Ok(format!("{detail}: valid")),
        Some(StatusValue::Revoked) => Err((O::SealRevoked, format!("{detail}: revoked"))),
        Some(StatusValue::Suspended) => Err((O::SealSuspended, format!("{detail}: suspended"))),
        // Fail closed: a value huren never writes means the list is not what we think it is.
        Some(StatusValue::ApplicationSpecific(value)) => Err((
            O::SealStatusUnknown,
            format!("{detail}: unknown status value {value}"),
        )),
    }
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

/// How a CRL entry's reason is judged when the revocation is dated after the claimed
/// signing time (SPEC §8). A revocation dated at or before it is always fatal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReasonClass {
    /// `superseded`, `cessationOfOperation`, `affiliationChanged`: the key was not misused;
    /// signatures made before stand (with a warning).
    Benign,
    /// `certificateHold`: a suspension that may be lifted or turned into a revocation
    /// (possibly with an earlier `invalidityDate`): undecided.
    Hold,
    /// No reason, `unspecified`, `keyCompromise`, `cACompromise`, `aACompromise`,
    /// `privilegeWithdrawn`: the key (or the authority vouching for it) cannot be trusted or
    /// its holder lost the right to use it, and the claimed signing time is the holder's own
    /// word, so it counts as revoked before any claimed signing time.
    Compromise,
}

fn reason_class(reason: Option<RevocationReason>) -> ReasonClass {
    use RevocationReason as R;
    match reason {
        Some(R::Superseded | R::CessationOfOperation | R::AffiliationChanged) => {
            ReasonClass::Benign
        }
        Some(R::CertificateHold) => ReasonClass::Hold,
        None
        | Some(
            R::Unspecified
            | R::KeyCompromise
            | R::CaCompromise
            | R::AaCompromise
            | R::PrivilegeWithdrawn,
        ) => ReasonClass::Compromise,
    }
}

/// The signer certificate at the signing time, and its revocation (check 8). Fails closed:
/// without a current CRL of its issuer the check is undecided (`signer_revocation_unknown`).
fn check_signer_certificate(
    input: &SealVerifyInput<'_>,
    signer: &SealCertificate,
    signed_at: UnixTime,
    b: &mut Builder,
) {
    use SealCheckName as C;
    use SealOutcome as O;
    let at = input.at;
    if !signer.is_valid_at(signed_at) {
        return b.fail(
            C::SignerCertificate,
            O::SignerCertificateInvalid,
            format!(
                "signed at {signed_at}, outside the certificate's validity {} to {}",
                signer.not_before(),
                signer.not_after()
            ),
        );
    }
    let validity = format!(
        "valid {} to {}, signed at {signed_at}",
        signer.not_before(),
        signer.not_after()
    );
    let unknown = |b: &mut Builder, detail: String| {
        b.findings(
            C::SignerCertificate,
            vec![(O::SignerRevocationUnknown, detail)],
            String::new(),
        );
    };
    // The newest list of the signer's CA: an older one may lack a later revocation (or a
    // later invalidityDate before the signing time).
    let Some(crl) = input
        .crls
        .iter()
        .filter(|crl| crl.issuer_name_der() == signer.issuer_der())
        .max_by_key(|crl| crl.this_update())
    else {
        return unknown(
            b,
            format!(
                "{validity}; no CRL of its issuer {}, so whether it was revoked cannot be checked",
                signer.issuer()
            ),
        );
    };
    // A list without nextUpdate never says until when it is the CA's word (RFC 5280 requires
    // the field): treated as stale.
    let current = crl
        .next_update()
        .is_some_and(|next| at <= next.plus(input.options.skew_seconds));
    let list = match crl.next_update() {
        Some(next) => format!("the CRL of {} (next update {next})", crl.this_update()),
        None => format!("the CRL of {} (no next update)", crl.this_update()),
    };
    let Some(entry) = crl.entry(signer.serial()) else {
        if !current {
            return unknown(
                b,
                format!("{validity}; not on {list}, which is out of date"),
            );
        }
        if crl.this_update() < signed_at {
            // A revocation between the list's issue and the signing would not be in it yet.
            b.warn(SealWarning::CrlPredatesSigning);
        }
        return b.pass(C::SignerCertificate, format!("{validity}; not on {list}"));
    };
    let revoked = entry.revoked_at();
    let reason = entry
        .reason
        .map_or("no reason given", RevocationReason::name);
    if revoked <= signed_at {
        return b.fail(
            C::SignerCertificate,
            O::SignerRevokedBeforeSigning,
            format!("revoked at {revoked} ({reason}), before signing at {signed_at}"),
        );
    }
    match reason_class(entry.reason) {
        // huren does not verify RFC 3161 time-stamps, so after a compromise no signing time
        // is trustworthy.
        ReasonClass::Compromise => b.fail(
            C::SignerCertificate,
            O::SignerKeyCompromised,
            format!(
                "revoked at {revoked} ({reason}); the claimed signing time {signed_at} is not \
                 time-stamped and may have been written afterwards, so it counts as revoked \
                 before signing"
            ),
        ),
        ReasonClass::Hold => unknown(
            b,
            format!("{validity}; on hold since {revoked} on {list}: the hold may yet become a revocation"),
        ),
        ReasonClass::Benign if !current => unknown(
            b,
            format!(
                "{validity}; revoked at {revoked} ({reason}) on {list}, which is out of date: \
                 the reason may since have changed"
            ),
        ),
        ReasonClass::Benign => {
            b.warn(SealWarning::SignerRevokedAfterSigning);
            b.pass(
                C::SignerCertificate,
                format!("{validity}; revoked at {revoked} ({reason}), after signing"),
            );
        }
    }
}
