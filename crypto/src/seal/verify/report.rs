//! The seal verification report (SPEC §8) and what goes into it: the stable outcome codes
//! (table in the [module doc](crate::seal)), the warnings, the checks in report order, and
//! the builder the checks fill as they run.
//!
//! Nothing here judges a seal; the checks that do are in the parent module and in
//! `revocation`.

use serde::Serialize;

use crate::verify::Verdict;

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

/// Collects checks and reasons.
pub(super) struct Builder {
    pub(super) checks: Vec<SealCheck>,
    pub(super) reasons: Vec<SealOutcome>,
    pub(super) warnings: Vec<SealWarning>,
}

impl Builder {
    pub(super) fn record(&mut self, check: SealCheckName, ok: Option<bool>, detail: String) {
        self.checks.push(SealCheck {
            check,
            ok,
            detail: Some(detail),
        });
    }

    pub(super) fn pass(&mut self, check: SealCheckName, detail: String) {
        self.record(check, Some(true), detail);
    }

    fn reason(&mut self, outcome: SealOutcome) {
        if !self.reasons.contains(&outcome) {
            self.reasons.push(outcome);
        }
    }

    pub(super) fn fail(&mut self, check: SealCheckName, outcome: SealOutcome, detail: String) {
        self.record(check, Some(false), detail);
        self.reason(outcome);
    }

    /// Records the findings of a check that can have several: failed if any is definitive,
    /// undecided if all are indeterminate, passed (with `pass_detail`) if there are none.
    pub(super) fn findings(
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

    pub(super) fn warn(&mut self, warning: SealWarning) {
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }
}
