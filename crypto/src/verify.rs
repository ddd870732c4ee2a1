//! Licence verification exactly as SPEC §6: the ordered checks, the stable outcome codes, the
//! verdict, warnings, and a report saying what ran and with what data.
//!
//! [`verify_licence`] is a pure function of (input, trust list, status lists, time, options).
//! It never fetches: status lists come from a [`StatusSource`] the caller filled. The licence
//! data in a [`Report`] is present only when the signature verified and the claims parsed, so
//! nothing an attacker wrote is ever shown as if it came from an issuer.
//!
//! Over 800 lines because the eleven ordered checks and the report builder live together on the hot
//! path; separating the report from the checks is queued with issue 11's file splits.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::ids::{mask_identifier, RegionCode};
use crate::jws::{JwsError, Limits, UnverifiedJws};
use crate::licence::{LicenceClaims, LICENCE_TYP};
use crate::qr;
use crate::status_list::StatusValue;
use crate::status_token::VerifiedStatusList;
use crate::time::UnixTime;
use crate::trust_list::{RegionStatus, TrustList};

/// The stable outcome codes of SPEC §6, in check order.
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
    /// After `exp`.
    Expired,
    /// Revoked (吊销/注销).
    Revoked,
    /// Suspended (暂扣/中止).
    Suspended,
    /// Status list unavailable or stale.
    StatusUnknown,
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
            Outcome::Revoked => "revoked",
            Outcome::Suspended => "suspended",
            Outcome::StatusUnknown => "status_unknown",
            Outcome::TrustListStale => "trust_list_stale",
        }
    }

    /// Whether this outcome only makes the verdict indeterminate (SPEC §6).
    pub fn is_indeterminate(self) -> bool {
        matches!(self, Outcome::StatusUnknown | Outcome::TrustListStale)
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
            Outcome::Revoked => "证照已被吊销或注销",
            Outcome::Suspended => "证照已被暂扣或中止",
            Outcome::StatusUnknown => "无法确认证照当前状态",
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
            Outcome::Revoked => "Licence revoked",
            Outcome::Suspended => "Licence suspended",
            Outcome::StatusUnknown => "Current status cannot be confirmed",
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
}

/// The overall answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every check passed.
    Valid,
    /// A check failed definitively.
    Invalid,
    /// Only the freshness of trust material is in doubt.
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
    /// 9. `nbf` ≤ now ≤ `exp`.
    ValidityPeriod,
    /// 10. Revocation/suspension status.
    Status,
    /// 11. Trust list freshness.
    TrustListFreshness,
}

const ALL_CHECKS: [CheckName; 11] = [
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

/// One check and how it went; `ok: null` when it could not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Which check.
    pub check: CheckName,
    /// `Some(true)` passed, `Some(false)` failed, `None` did not run.
    pub ok: Option<bool>,
    /// What was checked against what.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The licence as shown to a clerk: only ever filled from signed claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LicenceView {
    /// 证照标识.
    pub jti: String,
    /// Issuing province code.
    pub iss: String,
    /// Issuing province name.
    pub iss_name: String,
    /// 证照类型代码.
    pub type_code: String,
    /// 证照类型名称.
    pub type_name: String,
    /// 证照编号.
    pub number: String,
    /// 持证主体.
    pub holder_name: String,
    /// Holder code type (e.g. `001`).
    pub holder_id_type: String,
    /// Holder code, masked.
    pub holder_id_masked: String,
    /// 颁发机构.
    pub issuer_name: String,
    /// 颁证日期.
    pub issued_on: String,
    /// First day of validity.
    pub valid_from: String,
    /// Last day of validity, `null` = long-term (长期).
    pub valid_until: Option<String>,
    /// Type-specific fields.
    pub face: std::collections::BTreeMap<String, String>,
}

/// The status list consulted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusListUse {
    /// Its URI.
    pub uri: String,
    /// The licence's index in it.
    pub idx: u64,
    /// When the list was signed (serialized as RFC 3339, China time).
    #[serde(serialize_with = "crate::time::rfc3339_china::serialize_option")]
    pub iat: Option<UnixTime>,
    /// When the list expires (serialized as RFC 3339, China time).
    #[serde(serialize_with = "crate::time::rfc3339_china::serialize_option")]
    pub exp: Option<UnixTime>,
}

/// The verification report (SPEC §6).
///
/// The licence as shown to a clerk ([`Report::licence`], serialized as `licence`) is built
/// from the verified claims when asked for, not during verification: a caller that only wants
/// the verdict (a bank's batch job, the verifier's usage log) does not pay for a dozen string
/// copies and the masking per scan.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Overall answer.
    pub verdict: Verdict,
    /// Failed checks' outcome codes, in check order; empty exactly when valid.
    pub reasons: Vec<Outcome>,
    /// Non-fatal findings.
    pub warnings: Vec<Warning>,
    /// Every check, in order.
    pub checks: Vec<Check>,
    /// The licence, when its signature verified (see [`Report::licence`]).
    #[serde(
        rename = "licence",
        serialize_with = "serialize_licence",
        skip_serializing_if = "Option::is_none"
    )]
    licence_source: Option<LicenceSource>,
    /// Signer certificate subject, when found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// Time the verification was made for (serialized as RFC 3339, China time).
    #[serde(serialize_with = "crate::time::rfc3339_china::serialize")]
    pub checked_at: UnixTime,
    /// Trust list version used.
    pub trust_list_seq: u64,
    /// Status lists consulted.
    pub status_lists: Vec<StatusListUse>,
    /// The verified claims, for embedding systems (not serialized: holds personal data).
    #[serde(skip)]
    pub claims: Option<Arc<LicenceClaims>>,
}

/// What [`LicenceView`] is built from: the verified claims and the trust list's name of the
/// issuing province.
#[derive(Debug, Clone)]
struct LicenceSource {
    claims: Arc<LicenceClaims>,
    iss_name: String,
}

fn serialize_licence<S: serde::Serializer>(
    source: &Option<LicenceSource>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    source
        .as_ref()
        .map(|s| view(&s.claims, &s.iss_name))
        .serialize(serializer)
}

impl Report {
    /// The licence as shown to a clerk, when its signature verified and its claims parsed;
    /// `None` otherwise, so nothing an attacker wrote is ever shown as issued.
    pub fn licence(&self) -> Option<LicenceView> {
        self.licence_source
            .as_ref()
            .map(|s| view(&s.claims, &s.iss_name))
    }

    /// The verified licence's 证照标识 (for usage logs: no personal data), when its signature
    /// verified.
    pub fn jti(&self) -> Option<&str> {
        self.licence_source.as_ref().map(|s| s.claims.jti.as_str())
    }
}

/// Policy knobs. Defaults fail closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Clock skew tolerated on `nbf`/`exp` and status-list `iat`, seconds (default 300).
    pub skew_seconds: i64,
    /// Grace after the trust list's `next_update` before it counts as stale (default 0).
    pub trust_list_grace_seconds: i64,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            skew_seconds: 300,
            trust_list_grace_seconds: 0,
        }
    }
}

/// Where verification finds status lists: verified ones, by URI.
pub trait StatusSource {
    /// The verified list for `uri`, if the caller has one.
    fn status_list(&self, uri: &str) -> Option<Arc<VerifiedStatusList>>;
}

impl StatusSource for HashMap<String, Arc<VerifiedStatusList>> {
    fn status_list(&self, uri: &str) -> Option<Arc<VerifiedStatusList>> {
        self.get(uri).cloned()
    }
}

/// No status lists at all (offline without a status directory).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoStatusLists;

impl StatusSource for NoStatusLists {
    fn status_list(&self, _uri: &str) -> Option<Arc<VerifiedStatusList>> {
        None
    }
}

/// A check's detail text, appended piece by piece. Every passed check carries one, and
/// `format!`'s machinery (padding, `Display` dispatch, RFC 3339 times through a formatter) cost
/// as much per verification as parsing the claims (bench/README.md, "Where the time goes").
struct DetailText(String);

impl DetailText {
    fn new(first: &str) -> DetailText {
        let mut text = String::with_capacity(64);
        text.push_str(first);
        DetailText(text)
    }

    fn text(mut self, piece: &str) -> DetailText {
        self.0.push_str(piece);
        self
    }

    fn int(mut self, value: impl itoa::Integer) -> DetailText {
        self.0.push_str(itoa::Buffer::new().format(value));
        self
    }

    fn time(mut self, at: UnixTime) -> DetailText {
        at.push_rfc3339_china(&mut self.0);
        self
    }

    fn done(self) -> Option<String> {
        Some(self.0)
    }
}

/// Builds the report as checks are made.
struct ReportBuilder {
    checks: Vec<Check>,
    reasons: Vec<Outcome>,
}

impl ReportBuilder {
    fn pass(&mut self, check: CheckName, detail: impl Into<Option<String>>) {
        self.record(check, Some(true), detail.into());
    }

    fn fail(&mut self, check: CheckName, outcome: Outcome, detail: String) {
        self.record(check, Some(false), Some(detail));
        if !self.reasons.contains(&outcome) {
            self.reasons.push(outcome);
        }
    }

    fn unknown(&mut self, check: CheckName, outcome: Outcome, detail: String) {
        self.record(check, None, Some(detail));
        self.reasons.push(outcome);
    }

    fn record(&mut self, check: CheckName, ok: Option<bool>, detail: Option<String>) {
        self.checks.push(Check { check, ok, detail });
    }
}

/// Verifies scanned or pasted input (`HR1:` text or a bare JWS) at time `at`.
///
/// ```no_run
/// use huren_crypto::cert::Certificate;
/// use huren_crypto::trust_list::TrustList;
/// use huren_crypto::verify::{verify_licence, NoStatusLists, Verdict, VerifyOptions};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let operator = Certificate::from_der(&std::fs::read("operator.crt.der")?)?;
/// let trust = TrustList::verify(&std::fs::read_to_string("trust-list.jwt")?, &[operator])?;
/// let report = verify_licence("HR1:5676…", &trust, &NoStatusLists, huren_crypto::UnixTime(1_795_400_000), &VerifyOptions::default());
/// // Without status lists the best possible answer is "indeterminate" (status_unknown).
/// assert_ne!(report.verdict, Verdict::Valid);
/// # Ok(()) }
/// ```
pub fn verify_licence(
    input: &str,
    trust: &TrustList,
    status: &dyn StatusSource,
    at: UnixTime,
    options: &VerifyOptions,
) -> Report {
    let mut report = ReportBuilder {
        checks: Vec::with_capacity(ALL_CHECKS.len()),
        reasons: Vec::new(),
    };
    let mut warnings = Vec::new();
    let mut status_lists = Vec::new();
    let mut signer_subject = None;
    let claims = run_checks(
        input,
        trust,
        status,
        at,
        options,
        &mut report,
        &mut warnings,
        &mut status_lists,
        &mut signer_subject,
    );
    // Checks that could not run are still listed, so the report always has the same shape.
    for check in ALL_CHECKS {
        if !report.checks.iter().any(|c| c.check == check) {
            report.record(check, None, Some("not run: an earlier check failed".into()));
        }
    }
    report
        .checks
        .sort_by_key(|c| ALL_CHECKS.iter().position(|n| *n == c.check));

    let verdict = if report.reasons.is_empty() {
        Verdict::Valid
    } else if report.reasons.iter().all(|r| r.is_indeterminate()) {
        Verdict::Indeterminate
    } else {
        Verdict::Invalid
    };
    let licence_source = claims.as_ref().map(|claims| LicenceSource {
        iss_name: trust
            .region(&claims.iss)
            .map_or_else(|| claims.iss.province_name().to_owned(), |r| r.name.clone()),
        claims: Arc::clone(claims),
    });
    Report {
        verdict,
        reasons: report.reasons,
        warnings,
        checks: report.checks,
        licence_source,
        signer: signer_subject,
        checked_at: at,
        trust_list_seq: trust.seq(),
        status_lists,
        claims,
    }
}

#[allow(clippy::too_many_arguments)]
fn run_checks(
    input: &str,
    trust: &TrustList,
    status: &dyn StatusSource,
    at: UnixTime,
    options: &VerifyOptions,
    report: &mut ReportBuilder,
    warnings: &mut Vec<Warning>,
    status_lists: &mut Vec<StatusListUse>,
    signer_subject: &mut Option<String>,
) -> Option<Arc<LicenceClaims>> {
    // 1. decode
    let token = match qr::normalise_input(input) {
        Ok(token) => token,
        Err(e) => {
            report.fail(CheckName::Decode, Outcome::Malformed, e.to_string());
            return None;
        }
    };
    let jws = match UnverifiedJws::parse(&token, Limits::LICENCE) {
        Ok(jws) => {
            report.pass(CheckName::Decode, None);
            jws
        }
        Err(JwsError::UnsupportedAlgorithm(alg)) => {
            report.pass(CheckName::Decode, None);
            let detail = format!("algorithm {alg:?} is not accepted");
            report.fail(CheckName::Header, Outcome::UnsupportedAlgorithm, detail);
            return None;
        }
        Err(e @ (JwsError::BadHeader(_) | JwsError::ForbiddenHeader(_))) => {
            report.pass(CheckName::Decode, None);
            report.fail(CheckName::Header, Outcome::Malformed, e.to_string());
            return None;
        }
        Err(e) => {
            report.fail(CheckName::Decode, Outcome::Malformed, e.to_string());
            return None;
        }
    };

    // 2. header rules specific to licences
    let header = jws.header();
    if let Err(e) = header.expect_typ(LICENCE_TYP) {
        report.fail(CheckName::Header, Outcome::Malformed, e.to_string());
        return None;
    }
    let Some(x5t) = header.x5t_s256 else {
        report.fail(
            CheckName::Header,
            Outcome::Malformed,
            "no x5t#S256 header".into(),
        );
        return None;
    };
    report.pass(
        CheckName::Header,
        DetailText::new("alg ").text(header.alg.name()).done(),
    );

    // 3. signer
    let Some(signer) = trust.signer(&x5t) else {
        match trust.rejected_entry(&x5t) {
            Some(problem) if problem.weak_key => report.fail(
                CheckName::Signer,
                Outcome::UnsupportedAlgorithm,
                format!("the signer's key is not accepted: {}", problem.problem),
            ),
            Some(problem) => report.fail(
                CheckName::Signer,
                Outcome::UnknownSigner,
                format!(
                    "the signer's trust-list entry is unusable: {}",
                    problem.problem
                ),
            ),
            None => report.fail(
                CheckName::Signer,
                Outcome::UnknownSigner,
                "no signer with this x5t#S256 in the trust list".into(),
            ),
        }
        return None;
    };
    let key_kind = signer.cert.public_key().kind();
    if header.alg.key_kind() != key_kind {
        let detail = format!(
            "alg {} cannot be used with the signer's {key_kind} key",
            header.alg
        );
        report.fail(CheckName::Signer, Outcome::UnsupportedAlgorithm, detail);
        return None;
    }
    // The trust-list entry's `alg` is binding (SPEC §5): an RSA key listed for PS256 never
    // verifies RS256, even though the key could.
    if let Some(listed) = signer.alg.filter(|listed| *listed != header.alg) {
        let detail = format!(
            "alg {} is not the {listed} the signer is listed for",
            header.alg
        );
        report.fail(CheckName::Signer, Outcome::UnsupportedAlgorithm, detail);
        return None;
    }
    let region = &trust.regions()[signer.region_index];
    *signer_subject = Some(signer.cert.subject().to_owned());
    report.pass(
        CheckName::Signer,
        DetailText::new(signer.cert.subject())
            .text(" (")
            .text(region.code.as_str())
            .text(")")
            .done(),
    );

    // 4. signature over the exact received bytes
    let alg = header.alg;
    let verified = match jws.verify(signer.cert.public_key()) {
        Ok(verified) => {
            report.pass(
                CheckName::Signature,
                DetailText::new(alg.name())
                    .text(" ")
                    .int(signer.cert.public_key().bits())
                    .text("-bit ")
                    .text(key_kind.name())
                    .done(),
            );
            verified
        }
        Err(e) => {
            report.fail(CheckName::Signature, Outcome::BadSignature, e.to_string());
            return None;
        }
    };

    // 5. claims
    let claims: LicenceClaims = match verified
        .payload(crate::jws::MAX_LICENCE_PAYLOAD_BYTES)
        .map_err(|e| e.to_string())
        .and_then(|payload| serde_json::from_slice(&payload).map_err(|e| e.to_string()))
    {
        Ok(claims) => claims,
        Err(e) => {
            report.fail(CheckName::Claims, Outcome::Malformed, e);
            return None;
        }
    };
    report.pass(CheckName::Claims, None);
    if !claims.jti.check_ok() {
        warnings.push(Warning::NonstandardIdentifierCheck);
    }
    if claims
        .licence
        .holder
        .id_type
        .validate(&claims.licence.holder.id)
        .is_err()
    {
        warnings.push(Warning::HolderCodeCheckFailed);
    }

    check_authority(&claims, signer, &region.code, report);

    // 7. scope
    let type_code = &claims.licence.type_code;
    if signer.may_sign_type(type_code) {
        report.pass(
            CheckName::TypeScope,
            DetailText::new(type_code)
                .text(" within [")
                .text(&signer.scopes.join(", "))
                .text("]")
                .done(),
        );
    } else {
        let detail = format!(
            "type {type_code} is outside the signer's scopes {:?}",
            signer.scopes
        );
        report.fail(CheckName::TypeScope, Outcome::TypeNotAuthorised, detail);
    }

    // 8. region status
    match region.status {
        RegionStatus::Active => report.pass(
            CheckName::RegionStatus,
            DetailText::new(region.code.as_str()).text(" active").done(),
        ),
        RegionStatus::Suspended => report.fail(
            CheckName::RegionStatus,
            Outcome::IssuerSuspended,
            format!(
                "{} {} is suspended in the trust list",
                region.code, region.name
            ),
        ),
    }

    // 9. validity period
    check_period(&claims, at, options.skew_seconds, report);

    // 10. status
    check_status(&claims, trust, status, at, options, report, status_lists);

    // 11. trust list freshness
    if trust.is_stale(at, options.trust_list_grace_seconds) {
        report.unknown(
            CheckName::TrustListFreshness,
            Outcome::TrustListStale,
            format!(
                "trust list seq {} was due for update at {}",
                trust.seq(),
                trust.next_update()
            ),
        );
    } else {
        report.pass(
            CheckName::TrustListFreshness,
            DetailText::new("seq ")
                .int(trust.seq())
                .text(", next update ")
                .time(trust.next_update())
                .done(),
        );
    }
    Some(Arc::new(claims))
}

/// 6. The signer may speak for `iss` at `iat`.
fn check_authority(
    claims: &LicenceClaims,
    signer: &crate::trust_list::TrustedSigner,
    region: &RegionCode,
    report: &mut ReportBuilder,
) {
    let iat = UnixTime(claims.iat);
    let problem = if &claims.iss != region {
        Some(format!(
            "iss {} but the signer belongs to {region} (cross-province impersonation)",
            claims.iss
        ))
    } else if iat < signer.valid_from || iat > signer.valid_until {
        Some(format!(
            "signed at {iat}, outside the signer's validity {} to {}",
            signer.valid_from, signer.valid_until
        ))
    } else {
        signer.revoked_at.filter(|r| *r <= iat).map(|revoked_at| {
            if revoked_at == UnixTime(i64::MIN) {
                "the signer is revoked".to_owned()
            } else {
                format!("signed at {iat}, after the signer was revoked at {revoked_at}")
            }
        })
    };
    match problem {
        Some(detail) => report.fail(
            CheckName::IssuerAuthority,
            Outcome::IssuerNotAuthorised,
            detail,
        ),
        None => report.pass(
            CheckName::IssuerAuthority,
            DetailText::new("licence signer of ")
                .text(region.as_str())
                .text(", valid at ")
                .time(iat)
                .done(),
        ),
    }
}

/// 9. `nbf` ≤ now ≤ `exp`, with skew.
fn check_period(claims: &LicenceClaims, at: UnixTime, skew: i64, report: &mut ReportBuilder) {
    let nbf = UnixTime(claims.nbf);
    if at.plus(skew) < nbf {
        report.fail(
            CheckName::ValidityPeriod,
            Outcome::NotYetValid,
            format!("valid from {nbf}"),
        );
        return;
    }
    match claims.exp.map(UnixTime) {
        Some(exp) if at.minus(skew) > exp => {
            report.fail(
                CheckName::ValidityPeriod,
                Outcome::Expired,
                format!("expired at {exp}"),
            );
        }
        Some(exp) => report.pass(
            CheckName::ValidityPeriod,
            DetailText::new("").time(nbf).text(" to ").time(exp).done(),
        ),
        None => report.pass(
            CheckName::ValidityPeriod,
            DetailText::new("")
                .time(nbf)
                .text(", long-term (长期)")
                .done(),
        ),
    }
}

/// 10. Revocation and suspension through the referenced status list.
fn check_status(
    claims: &LicenceClaims,
    trust: &TrustList,
    status: &dyn StatusSource,
    at: UnixTime,
    options: &VerifyOptions,
    report: &mut ReportBuilder,
    used: &mut Vec<StatusListUse>,
) {
    let Some(reference) = &claims.status else {
        report.pass(
            CheckName::Status,
            Some("the licence carries no status reference (issued without revocation)".into()),
        );
        return;
    };
    let pointer = &reference.status_list;
    let prefix_ok = trust.region(&claims.iss).is_some_and(|r| {
        !r.status_uri_prefix.is_empty() && pointer.uri.starts_with(&r.status_uri_prefix)
    });
    if !prefix_ok {
        let detail = format!(
            "status uri is outside the prefix the trust list gives {}",
            claims.iss
        );
        report.fail(CheckName::Status, Outcome::Malformed, detail);
        return;
    }
    let list = status.status_list(&pointer.uri);
    used.push(StatusListUse {
        uri: pointer.uri.clone(),
        idx: pointer.idx,
        iat: list.as_ref().map(|l| l.iat()),
        exp: list.as_ref().map(|l| l.exp()),
    });
    let Some(list) = list else {
        report.unknown(
            CheckName::Status,
            Outcome::StatusUnknown,
            "status list not available".into(),
        );
        return;
    };
    if list.region() != &claims.iss {
        let detail = format!(
            "status list was signed for {}, not {}",
            list.region(),
            claims.iss
        );
        report.unknown(CheckName::Status, Outcome::StatusUnknown, detail);
        return;
    }
    if !list.signer_listed_in(trust) {
        let detail = "status list signer is no longer a status signer in the trust list".into();
        report.unknown(CheckName::Status, Outcome::StatusUnknown, detail);
        return;
    }
    if !list.is_fresh(at, options.skew_seconds) {
        let detail = format!("status list signed {} expired {}", list.iat(), list.exp());
        report.unknown(CheckName::Status, Outcome::StatusUnknown, detail);
        return;
    }
    let detail = || {
        DetailText::new("index ")
            .int(pointer.idx)
            .text(" in list signed ")
            .time(list.iat())
            .0
    };
    match list.status(pointer.idx) {
        None => report.fail(
            CheckName::Status,
            Outcome::Malformed,
            format!(
                "index {} is outside the list of {}",
                pointer.idx,
                list.capacity()
            ),
        ),
        Some(StatusValue::Valid) => report.pass(CheckName::Status, Some(detail())),
        Some(StatusValue::Revoked) => report.fail(CheckName::Status, Outcome::Revoked, detail()),
        Some(StatusValue::Suspended) => {
            report.fail(CheckName::Status, Outcome::Suspended, detail())
        }
        // Fail closed: a value huren never writes means the list is not what we think it is.
        Some(StatusValue::ApplicationSpecific(value)) => report.unknown(
            CheckName::Status,
            Outcome::StatusUnknown,
            format!("index {} has unknown status value {value}", pointer.idx),
        ),
    }
}

fn view(claims: &LicenceClaims, iss_name: &str) -> LicenceView {
    let licence = &claims.licence;
    LicenceView {
        jti: claims.jti.to_string(),
        iss: claims.iss.to_string(),
        iss_name: iss_name.to_owned(),
        type_code: licence.type_code.clone(),
        type_name: licence.type_name.clone(),
        number: licence.number.clone(),
        holder_name: licence.holder.name.clone(),
        holder_id_type: licence.holder.id_type.code().to_owned(),
        holder_id_masked: mask_identifier(&licence.holder.id),
        issuer_name: licence.issuer.name.clone(),
        issued_on: licence.issued_on.to_string(),
        valid_from: licence.valid_from.to_string(),
        valid_until: licence.valid_until.map(|d| d.to_string()),
        face: licence.face.clone(),
    }
}
