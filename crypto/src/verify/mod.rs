//! Licence verification exactly as SPEC §6, and of annotated copies as §11: the ordered checks,
//! the stable outcome codes, the verdict, warnings, and a report saying what ran and with what
//! data.
//!
//! [`verify_licence`] is a pure function of (input, trust list, status lists, time, options);
//! [`verify_licence_for`] adds the unit verifying, which only copies look at. Neither fetches:
//! status lists come from a [`StatusSource`] the caller filled. The licence data in a
//! [`Report`] is present only when the signature verified and the claims parsed, so nothing an
//! attacker wrote is ever shown as if it came from an issuer.
//!
//! A copy goes through the very steps a licence does (decode, header, signer, signature,
//! claims, authority, scope, region); `typ` alone decides which claims are read, and then the
//! copy's own checks run on top ([`outcome::COPY_CHECKS`]).

mod checks;
mod log_evidence;
mod logged;
mod outcome;
mod report;
mod status;

#[cfg(test)]
mod logged_tests;

use std::collections::HashMap;
use std::sync::Arc;

use crate::copy::{CopyClaims, COPY_TYP};
use crate::ids::{LicenceId, Uscc};
use crate::jws::{JwsError, Limits, UnverifiedJws, VerifiedJws};
use crate::licence::{LicenceClaims, LICENCE_TYP};
use crate::qr;
use crate::status_token::VerifiedStatusList;
use crate::time::UnixTime;
use crate::trust_list::{RegionStatus, TrustList, TrustedRegion};

pub use log_evidence::{
    issuer_base, proof_url, InclusionProof, LogAnswer, LogEvidence, LogSource, LogTrust,
    NoLogAnswers, ProofAnswerError, MAX_PROOF_ANSWER_BYTES,
};
pub use logged::{LogCheck, LogCheckParseError, LOG_SKEW_MAX_SECONDS};
pub use outcome::{CheckName, Outcome, Verdict, Warning};
pub use report::{Check, CopyView, LicenceView, LogUse, Presented, Report, StatusListUse};

use logged::{LogContext, Logged};
use outcome::{COPY_CHECKS, LICENCE_CHECKS, LOGGED_COPY_CHECKS, LOGGED_LICENCE_CHECKS};
use report::{CopySource, DetailText, ReportBuilder, Source};
use status::{Entry, StatusCheck};

/// Policy knobs. Defaults fail closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Clock skew tolerated on `nbf`/`exp` and status-list `iat`, seconds (default 300).
    pub skew_seconds: i64,
    /// Grace after the trust list's `next_update` before it counts as stale (default 0).
    pub trust_list_grace_seconds: i64,
    /// What a token of a region that keeps a log is held to (SPEC §12, `HUREN_LOG_CHECK`;
    /// default [`LogCheck::Warn`]): with [`LogCheck::Require`] a token the log does not show
    /// after its merge delay is `not_logged` (invalid), and one whose log cannot be asked is
    /// `log_unavailable` (indeterminate); with [`LogCheck::Warn`] both are warnings.
    pub log_check: LogCheck,
    /// How long after signing an issuer's log may take to show a token, seconds (default 5;
    /// `HUREN_LOG_MERGE_DELAY_SECS`). The skew added to it is capped at
    /// [`LOG_SKEW_MAX_SECONDS`].
    pub log_merge_delay_seconds: i64,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            skew_seconds: 300,
            trust_list_grace_seconds: 0,
            log_check: LogCheck::Warn,
            log_merge_delay_seconds: 5,
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

/// Which token the header's `typ` announced; it decides the claims read and the checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Licence,
    Copy,
}

impl Kind {
    /// The checks, in order; `logged` when the token's region keeps a log.
    fn checks(self, logged: bool) -> &'static [CheckName] {
        match (self, logged) {
            (Kind::Licence, false) => &LICENCE_CHECKS,
            (Kind::Copy, false) => &COPY_CHECKS,
            (Kind::Licence, true) => &LOGGED_LICENCE_CHECKS,
            (Kind::Copy, true) => &LOGGED_COPY_CHECKS,
        }
    }
}

/// Verifies scanned or pasted input (`HR1:` text or a bare JWS) at time `at`: a licence, or an
/// annotated copy by a verifier that does not know which unit it serves (see
/// [`verify_licence_for`]).
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
    verify_licence_for(input, trust, status, at, options, None)
}

/// As [`verify_licence`], by a verifier that knows which using unit (用证单位) it serves: a copy
/// made for another unit is then `wrong_audience`. With `unit` `None`, a copy naming a unit
/// gets the warning `audience_not_checked` instead. Licences do not look at the unit.
pub fn verify_licence_for(
    input: &str,
    trust: &TrustList,
    status: &dyn StatusSource,
    at: UnixTime,
    options: &VerifyOptions,
    unit: Option<&Uscc>,
) -> Report {
    verify_licence_with(input, trust, status, &NoLogAnswers, at, options, unit)
}

/// As [`verify_licence_for`], with the answers of the regions' transparency logs (SPEC §12)
/// the caller holds: for a token whose region the trust list gives a `log_key`, the `logged`
/// check runs after the status checks when inclusion is required ([`VerifyOptions::log_check`])
/// or, unless the check is off, when an answer is held. With [`NoLogAnswers`] and inclusion
/// required, such a token's inclusion is not shown: `log_unavailable`.
///
/// ```no_run
/// use huren_crypto::cert::Certificate;
/// use huren_crypto::trust_list::TrustList;
/// use huren_crypto::verify::{verify_licence_with, LogCheck, NoLogAnswers, NoStatusLists, VerifyOptions};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let operator = Certificate::from_der(&std::fs::read("operator.crt.der")?)?;
/// let trust = TrustList::verify(&std::fs::read_to_string("trust-list.jwt")?, &[operator])?;
/// let options = VerifyOptions { log_check: LogCheck::Require, ..VerifyOptions::default() };
/// let at = huren_crypto::UnixTime(1_795_400_000);
/// let report = verify_licence_with("HR1:5676…", &trust, &NoStatusLists, &NoLogAnswers, at, &options, None);
/// // What to ask the log for: the region and the token's hash.
/// if let Some(log) = &report.log {
///     println!("ask {}'s log for {}", log.region, log.token_sha256);
/// }
/// # Ok(()) }
/// ```
pub fn verify_licence_with(
    input: &str,
    trust: &TrustList,
    status: &dyn StatusSource,
    log: &dyn LogSource,
    at: UnixTime,
    options: &VerifyOptions,
    unit: Option<&Uscc>,
) -> Report {
    let context = Context {
        trust,
        status,
        log,
        at,
        options,
        unit,
    };
    let mut report = ReportBuilder::new(LOGGED_COPY_CHECKS.len());
    let mut kind = Kind::Licence;
    let mut signer_subject = None;
    let mut logged = false;
    let presented = context.run(
        input,
        &mut report,
        &mut kind,
        &mut signer_subject,
        &mut logged,
    );
    // Checks that could not run are still listed, so the report always has the same shape.
    let order = kind.checks(logged);
    for &check in order {
        if !report.checks.iter().any(|c| c.check == check) {
            report.not_run(check);
        }
    }
    report
        .checks
        .sort_by_key(|c| order.iter().position(|n| *n == c.check));

    let verdict = if report.reasons.is_empty() {
        Verdict::Valid
    } else if report.reasons.iter().all(|r| r.is_indeterminate()) {
        Verdict::Indeterminate
    } else {
        Verdict::Invalid
    };
    let (claims, copy_source) = match &presented {
        Some(Presented::Licence(claims)) => (Some(Arc::clone(claims)), None),
        Some(Presented::Copy(claims)) => {
            let claims = Arc::clone(claims);
            (None, Some(CopySource { claims, at }))
        }
        None => (None, None),
    };
    let source = presented.map(|presented| Source {
        iss_name: trust.region(presented.iss()).map_or_else(
            || presented.iss().province_name().to_owned(),
            |r| r.name.clone(),
        ),
        presented,
    });
    Report {
        verdict,
        reasons: report.reasons,
        warnings: report.warnings,
        checks: report.checks,
        source,
        copy_source,
        signer: signer_subject,
        checked_at: at,
        trust_list_seq: trust.seq(),
        status_lists: report.status_lists,
        log: report.log,
        claims,
    }
}

/// What one verification runs against.
struct Context<'a> {
    trust: &'a TrustList,
    status: &'a dyn StatusSource,
    log: &'a dyn LogSource,
    at: UnixTime,
    options: &'a VerifyOptions,
    unit: Option<&'a Uscc>,
}

impl Context<'_> {
    /// The checks in order; returns the verified claims when the signature verified and the
    /// claims parsed.
    fn run(
        &self,
        input: &str,
        report: &mut ReportBuilder,
        kind: &mut Kind,
        signer_subject: &mut Option<String>,
        logged: &mut bool,
    ) -> Option<Presented> {
        let (trust, at, options) = (self.trust, self.at, self.options);
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

        // 2. header rules specific to licences and copies
        let header = jws.header();
        *kind = match header.typ.as_deref() {
            Some(LICENCE_TYP) => Kind::Licence,
            Some(COPY_TYP) => Kind::Copy,
            other => {
                let detail =
                    format!("token type {other:?} is neither {LICENCE_TYP:?} nor {COPY_TYP:?}");
                report.fail(CheckName::Header, Outcome::Malformed, detail);
                return None;
            }
        };
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

        // 3. signer: in the trust list, accepted as its region's — or listed but set aside
        // (chain, EKU, validity: step 6 refuses it once its signature is checked)
        let (signer, set_aside) = match trust.signer(&x5t) {
            Some(signer) => (signer, None),
            None => match trust.set_aside_signer(&x5t) {
                Some(listed) => (&listed.signer, Some(listed.problem.as_str())),
                None => {
                    unlisted(trust, &x5t, report);
                    return None;
                }
            },
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
        let region_log = RegionLog::of(trust, region);
        // Listed (if only as not run) wherever inclusion is required of a region with a log.
        *logged = options.log_check.requires() && !matches!(region_log, RegionLog::None);
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
        let presented = match parse_claims(&verified, *kind) {
            Ok(presented) => presented,
            Err(e) => {
                report.fail(CheckName::Claims, Outcome::Malformed, e);
                return None;
            }
        };
        report.pass(CheckName::Claims, None);
        let (identifier, holder_code) = match &presented {
            Presented::Licence(claims) => {
                let holder = &claims.licence.holder;
                (&claims.jti, Some((holder.id_type, holder.id.as_str())))
            }
            Presented::Copy(claims) => {
                let holder = &claims.licence.holder;
                let code = holder.id_type.zip(holder.id.as_deref());
                (&claims.copy_of, code)
            }
        };
        if !LicenceId::check_ok(identifier) {
            report.warn(Warning::NonstandardIdentifierCheck);
        }
        if holder_code.is_some_and(|(id_type, id)| id_type.validate(id).is_err()) {
            report.warn(Warning::HolderCodeCheckFailed);
        }

        // 6. authority
        match set_aside {
            Some(problem) => report.fail(
                CheckName::IssuerAuthority,
                Outcome::IssuerNotAuthorised,
                format!("the trust list sets the signer's entry aside: {problem}"),
            ),
            None => checks::authority(
                presented.iss(),
                presented.iat(),
                signer,
                &region.code,
                report,
            ),
        }

        // 7. scope
        let type_code = presented.type_code();
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

        // 9. validity, audience and 10. status: a licence's, or a copy's and its licence's
        let status = StatusCheck {
            iss: presented.iss(),
            trust,
            status: self.status,
            at,
            options,
        };
        let skew = options.skew_seconds;
        match &presented {
            Presented::Licence(claims) => {
                let (nbf, exp) = (UnixTime(claims.nbf), claims.exp.map(UnixTime));
                checks::licence_period(nbf, exp, at, skew, report);
                status.run(Entry::Licence, claims.status.as_ref(), report);
            }
            Presented::Copy(claims) => {
                checks::copy_period(claims, at, skew, report);
                let licence = &claims.licence;
                checks::licence_period(licence.not_before(), licence.not_after(), at, skew, report);
                checks::audience(claims, self.unit, report);
                status.run(Entry::Licence, claims.status.as_ref(), report);
                status.run(Entry::Copy, claims.copy_status.as_ref(), report);
            }
        }

        // SPEC §12: the token is in its region's log (the signer's region: whose key it is)
        match &region_log {
            RegionLog::None => {}
            RegionLog::Unusable if options.log_check.requires() => {
                logged::unusable(&region.code, report);
            }
            RegionLog::Unusable => {}
            RegionLog::Trusted(_) if options.log_check == LogCheck::Off => {}
            RegionLog::Trusted(log_trust) => {
                let context = LogContext {
                    region: &region.code,
                    trust: log_trust,
                    source: self.log,
                    at,
                    options,
                };
                if logged::check(&context, &token, &Logged::of(&presented), report) {
                    *logged = true;
                }
            }
        }

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
        Some(presented)
    }
}

/// What the trust list says of `region`'s log.
enum RegionLog {
    /// It lists none: the `logged` check does not run.
    None,
    /// It lists a log key, but the log's fields broke a rule when the list was loaded: the log
    /// cannot be checked (`trust.problems()` says why).
    Unusable,
    /// A log whose fields passed every check.
    Trusted(LogTrust),
}

impl RegionLog {
    fn of(trust: &TrustList, region: &TrustedRegion) -> RegionLog {
        match &region.log {
            Some(log) => RegionLog::Trusted(LogTrust {
                log_key: log.key.clone(),
                witnesses: log.witness_keys(),
                quorum: log.quorum,
            }),
            // Fail closed: a log the operator listed but got wrong must not make a verifier
            // that requires inclusion skip the check.
            None if trust
                .claims()
                .regions
                .iter()
                .any(|r| r.code == region.code && r.log_key.is_some()) =>
            {
                RegionLog::Unusable
            }
            None => RegionLog::None,
        }
    }
}

/// Step 3 failed: no accepted or set-aside signer has `x5t`. A weak key is
/// `unsupported_algorithm`; any other entry the trust list could not use (it did not parse, or
/// broke a listing rule) or no entry at all is `unknown_signer`.
fn unlisted(trust: &TrustList, x5t: &[u8; 32], report: &mut ReportBuilder) {
    match trust.rejected_entry(x5t) {
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
}

/// Step 5: inflates and parses the claims `typ` announced; a copy must also have its
/// documented shape ([`CopyClaims::check_shape`]).
fn parse_claims(verified: &VerifiedJws<'_>, kind: Kind) -> Result<Presented, String> {
    let payload = verified
        .payload(crate::jws::MAX_LICENCE_PAYLOAD_BYTES)
        .map_err(|e| e.to_string())?;
    match kind {
        Kind::Licence => serde_json::from_slice::<LicenceClaims>(&payload)
            .map(|claims| Presented::Licence(Arc::new(claims)))
            .map_err(|e| e.to_string()),
        Kind::Copy => {
            let claims: CopyClaims = serde_json::from_slice(&payload).map_err(|e| e.to_string())?;
            claims.check_shape()?;
            Ok(Presented::Copy(Arc::new(claims)))
        }
    }
}
