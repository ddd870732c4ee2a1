//! The report verification returns (SPEC §6, with §11's `copy` object) and the builder the
//! checks fill as they run.
//!
//! What a clerk is shown of the licence ([`LicenceView`]) and of a copy ([`CopyView`]) is built
//! from the verified claims when asked for, not during verification: a caller that only wants
//! the verdict (a bank's batch job, the verifier's usage log) does not pay for a dozen string
//! copies and the masking per scan.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use super::outcome::{CheckName, Outcome, Verdict, Warning};
use crate::copy::{Copier, CopyClaims, Purpose, Unit};
use crate::ids::{mask_identifier, RegionCode};
use crate::licence::LicenceClaims;
use crate::time::UnixTime;

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
///
/// The fields that are `Option` are always present for a licence; for a copy, each is present
/// only when the holder disclosed it (and then absent from the JSON, never empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LicenceView {
    /// 证照标识 (for a copy, of the licence it was made of).
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// 持证主体.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder_name: Option<String>,
    /// Holder code type (e.g. `001`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder_id_type: Option<String>,
    /// Holder code, masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder_id_masked: Option<String>,
    /// 颁发机构.
    pub issuer_name: String,
    /// 颁证日期 (copies do not carry it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_on: Option<String>,
    /// First day of validity.
    pub valid_from: String,
    /// Last day of validity, `null` = long-term (长期).
    pub valid_until: Option<String>,
    /// Type-specific fields (for a copy, the disclosed ones).
    pub face: BTreeMap<String, String>,
}

/// What a report says of a copy (SPEC §11): what it is for, for whom, until when, and what it
/// shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyView {
    /// The copy's id.
    pub id: String,
    /// The licence's 证照标识.
    pub copy_of: String,
    /// 用证事由 and the service item.
    pub purpose: Purpose,
    /// The using unit; `null` = any window.
    pub aud: Option<Unit>,
    /// Who made the copy.
    pub copier: Copier,
    /// When it was made (RFC 3339, China time).
    #[serde(serialize_with = "crate::time::rfc3339_china::serialize")]
    pub issued_at: UnixTime,
    /// When it ends (RFC 3339, China time).
    #[serde(serialize_with = "crate::time::rfc3339_china::serialize")]
    pub expires_at: UnixTime,
    /// Seconds from the check to `expires_at` (0 once past; no skew).
    pub seconds_left: i64,
    /// Whether it is an on-screen 亮证码 (no audience, category 1, ≤ 300 s).
    pub on_screen: bool,
    /// The disclosure keys: exactly the optional licence fields the copy shows.
    pub disclosed: Vec<String>,
}

/// The status list consulted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusListUse {
    /// Its URI.
    pub uri: String,
    /// The token's index in it.
    pub idx: u64,
    /// When the list was signed (serialized as RFC 3339, China time).
    #[serde(serialize_with = "crate::time::rfc3339_china::serialize_option")]
    pub iat: Option<UnixTime>,
    /// When the list expires (serialized as RFC 3339, China time).
    #[serde(serialize_with = "crate::time::rfc3339_china::serialize_option")]
    pub exp: Option<UnixTime>,
}

/// The region's transparency log consulted (SPEC §12), when the trust list gives the token's
/// region a log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogUse {
    /// Whose log.
    pub region: RegionCode,
    /// Lower-case hex SHA-256 of the exact token bytes: what the log is asked for.
    pub token_sha256: String,
    /// When the log's merge delay for this token ends (RFC 3339, China time): before it, a
    /// token not yet logged is only a warning.
    #[serde(serialize_with = "crate::time::rfc3339_china::serialize")]
    pub settled_at: UnixTime,
    /// The entry's index, when proved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    /// The size of the witnessed tree it was proved in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tree_size: Option<u64>,
}

impl LogUse {
    /// Whether the token's inclusion was proved (nothing to ask the log again).
    pub fn proved(&self) -> bool {
        self.index.is_some()
    }
}

/// The verified claims: a licence, or a copy of one.
#[derive(Debug, Clone)]
pub enum Presented {
    /// A licence token (`licence+jwt`).
    Licence(Arc<LicenceClaims>),
    /// An annotated copy (`licence-copy+jwt`).
    Copy(Arc<CopyClaims>),
}

impl Presented {
    /// The issuing province.
    pub fn iss(&self) -> &RegionCode {
        match self {
            Presented::Licence(claims) => &claims.iss,
            Presented::Copy(claims) => &claims.iss,
        }
    }

    /// When the token was signed.
    pub fn iat(&self) -> UnixTime {
        UnixTime(match self {
            Presented::Licence(claims) => claims.iat,
            Presented::Copy(claims) => claims.iat,
        })
    }

    /// The licence's type code.
    pub fn type_code(&self) -> &str {
        match self {
            Presented::Licence(claims) => &claims.licence.type_code,
            Presented::Copy(claims) => &claims.licence.type_code,
        }
    }
}

/// The verification report (SPEC §6 and §11).
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
    /// The licence, when the signature verified (see [`Report::licence`]).
    #[serde(
        rename = "licence",
        serialize_with = "serialize_licence",
        skip_serializing_if = "Option::is_none"
    )]
    pub(super) source: Option<Source>,
    /// The copy, when a copy's signature verified (see [`Report::copy`]).
    #[serde(
        rename = "copy",
        serialize_with = "serialize_copy",
        skip_serializing_if = "Option::is_none"
    )]
    pub(super) copy_source: Option<CopySource>,
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
    /// The transparency log consulted, when the region has one and the log check is not off;
    /// without an index (and without a `logged` check when inclusion is not required), the
    /// lookup still to make.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<LogUse>,
    /// A verified licence's claims, for embedding systems (not serialized: holds personal
    /// data). `None` for a copy: see [`Report::presented`].
    #[serde(skip)]
    pub claims: Option<Arc<LicenceClaims>>,
}

/// What [`LicenceView`] is built from: the verified claims and the trust list's name of the
/// issuing province.
#[derive(Debug, Clone)]
pub(super) struct Source {
    pub(super) presented: Presented,
    pub(super) iss_name: String,
}

/// What [`CopyView`] is built from: the verified copy and the time it was checked for.
#[derive(Debug, Clone)]
pub(super) struct CopySource {
    pub(super) claims: Arc<CopyClaims>,
    pub(super) at: UnixTime,
}

fn serialize_copy<S: serde::Serializer>(
    source: &Option<CopySource>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    source
        .as_ref()
        .map(|s| copy_view(&s.claims, s.at))
        .serialize(serializer)
}

fn serialize_licence<S: serde::Serializer>(
    source: &Option<Source>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    source.as_ref().map(Source::view).serialize(serializer)
}

impl Report {
    /// The licence as shown to a clerk, when its signature verified and its claims parsed;
    /// `None` otherwise, so nothing an attacker wrote is ever shown as issued. For a copy, the
    /// licence as the copy discloses it.
    pub fn licence(&self) -> Option<LicenceView> {
        self.source.as_ref().map(Source::view)
    }

    /// What the report says of a copy (serialized as `copy`), when a copy's signature
    /// verified and its claims parsed; built when asked for, like [`Report::licence`].
    pub fn copy(&self) -> Option<CopyView> {
        self.copy_source
            .as_ref()
            .map(|s| copy_view(&s.claims, s.at))
    }

    /// The verified claims, licence or copy.
    pub fn presented(&self) -> Option<&Presented> {
        self.source.as_ref().map(|s| &s.presented)
    }

    /// The verified token's own identifier (for usage logs: no personal data): a licence's
    /// 证照标识 or a copy's id.
    pub fn jti(&self) -> Option<&str> {
        self.presented().map(|p| match p {
            Presented::Licence(claims) => claims.jti.as_str(),
            Presented::Copy(claims) => claims.jti.as_str(),
        })
    }
}

impl Source {
    fn view(&self) -> LicenceView {
        match &self.presented {
            Presented::Licence(claims) => licence_view(claims, &self.iss_name),
            Presented::Copy(claims) => copied_view(claims, &self.iss_name),
        }
    }
}

fn licence_view(claims: &LicenceClaims, iss_name: &str) -> LicenceView {
    let licence = &claims.licence;
    LicenceView {
        jti: claims.jti.to_string(),
        iss: claims.iss.to_string(),
        iss_name: iss_name.to_owned(),
        type_code: licence.type_code.clone(),
        type_name: licence.type_name.clone(),
        number: Some(licence.number.clone()),
        holder_name: Some(licence.holder.name.clone()),
        holder_id_type: Some(licence.holder.id_type.code().to_owned()),
        holder_id_masked: Some(mask_identifier(&licence.holder.id)),
        issuer_name: licence.issuer.name.clone(),
        issued_on: Some(licence.issued_on.to_string()),
        valid_from: licence.valid_from.to_string(),
        valid_until: licence.valid_until.map(|d| d.to_string()),
        face: licence.face.clone(),
    }
}

fn copied_view(claims: &CopyClaims, iss_name: &str) -> LicenceView {
    let licence = &claims.licence;
    LicenceView {
        jti: claims.copy_of.to_string(),
        iss: claims.iss.to_string(),
        iss_name: iss_name.to_owned(),
        type_code: licence.type_code.clone(),
        type_name: licence.type_name.clone(),
        number: licence.number.clone(),
        holder_name: licence.holder.name.clone(),
        holder_id_type: licence.holder.id_type.map(|t| t.code().to_owned()),
        holder_id_masked: licence.holder.id.as_deref().map(mask_identifier),
        issuer_name: licence.issuer.name.clone(),
        issued_on: None,
        valid_from: licence.valid_from.to_string(),
        valid_until: licence.valid_until.map(|d| d.to_string()),
        face: licence.face.clone(),
    }
}

/// The report's `copy` object for a verified copy checked at `at`.
fn copy_view(claims: &CopyClaims, at: UnixTime) -> CopyView {
    CopyView {
        id: claims.jti.to_string(),
        copy_of: claims.copy_of.to_string(),
        purpose: claims.purpose.clone(),
        aud: claims.aud.clone(),
        copier: claims.copier.clone(),
        issued_at: UnixTime(claims.iat),
        expires_at: UnixTime(claims.exp),
        seconds_left: claims.exp.saturating_sub(at.seconds()).max(0),
        on_screen: claims.is_on_screen(),
        disclosed: claims.disclosed.clone(),
    }
}

/// A check's detail text, appended piece by piece. Every passed check carries one, and
/// `format!`'s machinery (padding, `Display` dispatch, RFC 3339 times through a formatter) cost
/// as much per verification as parsing the claims (bench/README.md, "Where the time goes").
pub(super) struct DetailText(pub(super) String);

impl DetailText {
    pub(super) fn new(first: &str) -> DetailText {
        let mut text = String::with_capacity(64);
        text.push_str(first);
        DetailText(text)
    }

    pub(super) fn text(mut self, piece: &str) -> DetailText {
        self.0.push_str(piece);
        self
    }

    pub(super) fn int(mut self, value: impl itoa::Integer) -> DetailText {
        self.0.push_str(itoa::Buffer::new().format(value));
        self
    }

    pub(super) fn time(mut self, at: UnixTime) -> DetailText {
        at.push_rfc3339_china(&mut self.0);
        self
    }

    pub(super) fn done(self) -> Option<String> {
        Some(self.0)
    }
}

/// Builds the report as checks are made.
pub(super) struct ReportBuilder {
    pub(super) checks: Vec<Check>,
    pub(super) reasons: Vec<Outcome>,
    pub(super) warnings: Vec<Warning>,
    pub(super) status_lists: Vec<StatusListUse>,
    pub(super) log: Option<LogUse>,
}

impl ReportBuilder {
    pub(super) fn new(expected_checks: usize) -> ReportBuilder {
        ReportBuilder {
            checks: Vec::with_capacity(expected_checks),
            reasons: Vec::new(),
            warnings: Vec::new(),
            status_lists: Vec::new(),
            log: None,
        }
    }

    pub(super) fn pass(&mut self, check: CheckName, detail: impl Into<Option<String>>) {
        self.record(check, Some(true), detail.into());
    }

    pub(super) fn fail(&mut self, check: CheckName, outcome: Outcome, detail: String) {
        self.record(check, Some(false), Some(detail));
        self.reason(outcome);
    }

    pub(super) fn unknown(&mut self, check: CheckName, outcome: Outcome, detail: String) {
        self.record(check, None, Some(detail));
        self.reason(outcome);
    }

    /// A check that could not be made, with no outcome of its own (the warning says why).
    pub(super) fn not_checked(&mut self, check: CheckName, warning: Warning, detail: String) {
        self.record(check, None, Some(detail));
        self.warn(warning);
    }

    /// A check that failed without changing the verdict: the warning says what it means.
    pub(super) fn failed_with_warning(
        &mut self,
        check: CheckName,
        warning: Warning,
        detail: String,
    ) {
        self.record(check, Some(false), Some(detail));
        self.warn(warning);
    }

    pub(super) fn warn(&mut self, warning: Warning) {
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    fn reason(&mut self, outcome: Outcome) {
        // A copy's two status entries can both be unknown: one reason, two checks.
        if !self.reasons.contains(&outcome) {
            self.reasons.push(outcome);
        }
    }

    /// A check an earlier failure kept from running (listed, so a report always has the same
    /// shape for its kind of token).
    pub(super) fn not_run(&mut self, check: CheckName) {
        let detail = "not run: an earlier check failed".into();
        self.record(check, None, Some(detail));
    }

    fn record(&mut self, check: CheckName, ok: Option<bool>, detail: Option<String>) {
        self.checks.push(Check { check, ok, detail });
    }
}
