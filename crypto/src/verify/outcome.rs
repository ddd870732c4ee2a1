//! What verification can say: the stable outcome codes of SPEC §6 and §11 with the words a clerk
//! reads, the warnings, the verdict, and the names of the checks in the order they run.

use std::fmt;

use serde::Serialize;

/// The stable outcome codes of SPEC §6 and §11, in check order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Not a licence token, or sizes exceeded, or a status reference out of bounds.
    Malformed,
    /// `alg` not accepted, or not fitting the signer's key.
    UnsupportedAlgorithm,
    /// No trusted signer with this `x5t#S256`.
    UnknownSigner,
    /// The signature does not verify.
    BadSignature,
    /// Signer not entitled to sign for `iss` at `iat` (chain, validity, EKU, revocation).
    IssuerNotAuthorised,
    /// Licence type outside the signer's scopes.
    TypeNotAuthorised,
    /// The issuing region is suspended.
    IssuerSuspended,
    /// Before `nbf`.
    NotYetValid,
    /// After `exp` (of a licence, or of the licence a copy was made of).
    Expired,
    /// A copy (加注件) after its own `exp`.
    CopyExpired,
    /// A copy made for another using unit than the one verifying.
    WrongAudience,
    /// Revoked (吊销/注销).
    Revoked,
    /// Suspended (暂扣/中止).
    Suspended,
    /// A copy its holder withdrew.
    CopyWithdrawn,
    /// Status list unavailable or stale.
    StatusUnknown,
    /// Inclusion in the region's log is required and could not be shown after its merge delay
    /// (SPEC §12): the log has no such entry, or what it sent does not prove one.
    NotLogged,
    /// Inclusion is required, the merge delay has passed, and the log could not be asked: never
    /// `valid` (a stolen key's tokens would pass while the log is out of reach), indeterminate.
    LogUnavailable,
    /// Trust list past `next_update` plus grace.
    TrustListStale,
}

impl Outcome {
    /// The code as a string (as serialized).
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Malformed => "malformed",
            Outcome::UnsupportedAlgorithm => "unsupported_algorithm",
            Outcome::UnknownSigner => "unknown_signer",
            Outcome::BadSignature => "bad_signature",
            Outcome::IssuerNotAuthorised => "issuer_not_authorised",
            Outcome::TypeNotAuthorised => "type_not_authorised",
            Outcome::IssuerSuspended => "issuer_suspended",
            Outcome::NotYetValid => "not_yet_valid",
            Outcome::Expired => "expired",
            Outcome::CopyExpired => "copy_expired",
            Outcome::WrongAudience => "wrong_audience",
            Outcome::Revoked => "revoked",
            Outcome::Suspended => "suspended",
            Outcome::CopyWithdrawn => "copy_withdrawn",
            Outcome::StatusUnknown => "status_unknown",
            Outcome::NotLogged => "not_logged",
            Outcome::LogUnavailable => "log_unavailable",
            Outcome::TrustListStale => "trust_list_stale",
        }
    }

    /// Whether this outcome only makes the verdict indeterminate (SPEC §6).
    pub fn is_indeterminate(self) -> bool {
        matches!(
            self,
            Outcome::StatusUnknown | Outcome::LogUnavailable | Outcome::TrustListStale
        )
    }

    /// What a clerk reads, in Chinese.
    pub fn text_zh(self) -> &'static str {
        match self {
            Outcome::Malformed => "无法识别的证照码",
            Outcome::UnsupportedAlgorithm => "不接受的签名算法",
            Outcome::UnknownSigner => "签发密钥不在信任列表中",
            Outcome::BadSignature => "签名无效（内容被篡改）",
            Outcome::IssuerNotAuthorised => "签发方无权以该省份名义签发",
            Outcome::TypeNotAuthorised => "签发方无权签发该类证照",
            Outcome::IssuerSuspended => "签发省份已被暂停互认",
            Outcome::NotYetValid => "证照尚未生效",
            Outcome::Expired => "证照已过期",
            Outcome::CopyExpired => "加注件已过有效期",
            Outcome::WrongAudience => "加注件不是出具给本单位的",
            Outcome::Revoked => "证照已被吊销或注销",
            Outcome::Suspended => "证照已被暂扣或中止",
            Outcome::CopyWithdrawn => "持证人已撤回该加注件",
            Outcome::StatusUnknown => "无法确认证照当前状态",
            Outcome::NotLogged => "签发日志中查无此证（可能以被盗密钥签发）",
            Outcome::LogUnavailable => "无法查询签发日志，不能确认该证已登记",
            Outcome::TrustListStale => "信任列表已过期，需要更新",
        }
    }

    /// What a clerk reads, in English.
    pub fn text_en(self) -> &'static str {
        match self {
            Outcome::Malformed => "Not a readable licence code",
            Outcome::UnsupportedAlgorithm => "Signature algorithm not accepted",
            Outcome::UnknownSigner => "Signing key is not in the trust list",
            Outcome::BadSignature => "Signature invalid (content altered)",
            Outcome::IssuerNotAuthorised => "Signer may not issue for this province",
            Outcome::TypeNotAuthorised => "Signer may not issue this licence type",
            Outcome::IssuerSuspended => "Issuing province is suspended",
            Outcome::NotYetValid => "Licence not yet valid",
            Outcome::Expired => "Licence expired",
            Outcome::CopyExpired => "Annotated copy expired",
            Outcome::WrongAudience => "Annotated copy was made for another unit",
            Outcome::Revoked => "Licence revoked",
            Outcome::Suspended => "Licence suspended",
            Outcome::CopyWithdrawn => "Annotated copy withdrawn by its holder",
            Outcome::StatusUnknown => "Current status cannot be confirmed",
            Outcome::NotLogged => "Not in the issuance log (possibly signed with a stolen key)",
            Outcome::LogUnavailable => "Issuance log unreachable: logging cannot be confirmed",
            Outcome::TrustListStale => "Trust list out of date",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Findings that do not change the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Warning {
    /// The 证照标识 check character is not the ISO 7064 MOD 37,36 one.
    NonstandardIdentifierCheck,
    /// The holder's code fails its check digit.
    HolderCodeCheckFailed,
    /// A copy names a using unit, but this verifier was not told which unit it serves.
    AudienceNotChecked,
    /// The region's log does not show the token, and this verifier does not require it to.
    NotLogged,
    /// The token is not (yet) shown in the log, but was signed within the log's merge delay.
    LogPending,
    /// The region's log could not be asked, and this verifier does not require inclusion.
    LogUnreachable,
}

impl Warning {
    /// The code as a string (as serialized).
    pub fn code(self) -> &'static str {
        match self {
            Warning::NonstandardIdentifierCheck => "nonstandard_identifier_check",
            Warning::HolderCodeCheckFailed => "holder_code_check_failed",
            Warning::AudienceNotChecked => "audience_not_checked",
            Warning::NotLogged => "not_logged",
            Warning::LogPending => "log_pending",
            Warning::LogUnreachable => "log_unreachable",
        }
    }

    /// What a clerk reads, in Chinese.
    pub fn text_zh(self) -> &'static str {
        match self {
            Warning::NonstandardIdentifierCheck => "证照标识校验位不规范",
            Warning::HolderCodeCheckFailed => "持证主体代码校验位有误",
            Warning::AudienceNotChecked => "加注件指定了用证单位，本窗口未配置单位，未核对",
            Warning::NotLogged => "签发日志中查无此证（本窗口未要求登记）",
            Warning::LogPending => "刚签发，签发日志尚未登记，稍后可再查",
            Warning::LogUnreachable => "无法查询签发日志，未核对登记",
        }
    }

    /// What a clerk reads, in English.
    pub fn text_en(self) -> &'static str {
        match self {
            Warning::NonstandardIdentifierCheck => {
                "Non-standard check character in the licence ID"
            }
            Warning::HolderCodeCheckFailed => "Holder code check digit is wrong",
            Warning::AudienceNotChecked => {
                "The copy names a using unit; this window has no unit configured, so it was not checked"
            }
            Warning::NotLogged => "Not in the issuance log (this window does not require it)",
            Warning::LogPending => "Just issued: not in the issuance log yet; check again shortly",
            Warning::LogUnreachable => "Issuance log unreachable: logging not checked",
        }
    }
}

/// The overall answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every check passed.
    Valid,
    /// A check failed definitively.
    Invalid,
    /// Only the freshness or availability of trust material is in doubt (status list, log,
    /// trust list).
    Indeterminate,
}

/// The names of the checks, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckName {
    /// 1. QR/JWS decoding and size bounds.
    Decode,
    /// 2. Header rules.
    Header,
    /// 3. Signer lookup by `x5t#S256`.
    Signer,
    /// 4. Signature over the received bytes.
    Signature,
    /// 5. Inflate and parse claims.
    Claims,
    /// 6. Signer chain, validity at `iat`, EKU, revocation, region = `iss`.
    IssuerAuthority,
    /// 7. Licence type within the signer's scopes.
    TypeScope,
    /// 8. Region not suspended.
    RegionStatus,
    /// Copies: the copy's own `iat` ≤ now ≤ `exp`.
    CopyValidity,
    /// 9. `nbf` ≤ now ≤ `exp` (for a copy, of the licence it was made of).
    ValidityPeriod,
    /// Copies: the unit verifying is the one the copy names.
    Audience,
    /// 10. Revocation/suspension status (for a copy, the licence's shared entry).
    Status,
    /// Copies: the copy's own entry (withdrawal).
    CopyStatus,
    /// The token is in its region's witnessed transparency log (SPEC §12); listed only for a
    /// region the trust list gives a log.
    Logged,
    /// 11. Trust list freshness.
    TrustListFreshness,
}

/// A licence's checks, in order: SPEC §6's eleven.
pub(super) const LICENCE_CHECKS: [CheckName; 11] = [
    CheckName::Decode,
    CheckName::Header,
    CheckName::Signer,
    CheckName::Signature,
    CheckName::Claims,
    CheckName::IssuerAuthority,
    CheckName::TypeScope,
    CheckName::RegionStatus,
    CheckName::ValidityPeriod,
    CheckName::Status,
    CheckName::TrustListFreshness,
];

/// A licence's checks when its region keeps a log: the `logged` check after the status check.
pub(super) const LOGGED_LICENCE_CHECKS: [CheckName; 12] = [
    CheckName::Decode,
    CheckName::Header,
    CheckName::Signer,
    CheckName::Signature,
    CheckName::Claims,
    CheckName::IssuerAuthority,
    CheckName::TypeScope,
    CheckName::RegionStatus,
    CheckName::ValidityPeriod,
    CheckName::Status,
    CheckName::Logged,
    CheckName::TrustListFreshness,
];

/// A copy's checks when its region keeps a log: the `logged` check after both status checks.
pub(super) const LOGGED_COPY_CHECKS: [CheckName; 15] = [
    CheckName::Decode,
    CheckName::Header,
    CheckName::Signer,
    CheckName::Signature,
    CheckName::Claims,
    CheckName::IssuerAuthority,
    CheckName::TypeScope,
    CheckName::RegionStatus,
    CheckName::CopyValidity,
    CheckName::ValidityPeriod,
    CheckName::Audience,
    CheckName::Status,
    CheckName::CopyStatus,
    CheckName::Logged,
    CheckName::TrustListFreshness,
];

/// A copy's checks, in order (SPEC §11): §6 steps 1–8, the copy's own period, the licence's
/// period, the audience, both status entries, trust-list freshness.
pub(super) const COPY_CHECKS: [CheckName; 14] = [
    CheckName::Decode,
    CheckName::Header,
    CheckName::Signer,
    CheckName::Signature,
    CheckName::Claims,
    CheckName::IssuerAuthority,
    CheckName::TypeScope,
    CheckName::RegionStatus,
    CheckName::CopyValidity,
    CheckName::ValidityPeriod,
    CheckName::Audience,
    CheckName::Status,
    CheckName::CopyStatus,
    CheckName::TrustListFreshness,
];
