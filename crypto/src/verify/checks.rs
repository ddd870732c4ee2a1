//! The checks that compare signed claims with the trust list, the clock and the verifying unit:
//! §6 steps 6 and 9, and §11's copy period and audience.

use super::outcome::{CheckName, Outcome, Warning};
use super::report::{DetailText, ReportBuilder};
use crate::copy::CopyClaims;
use crate::ids::{RegionCode, Uscc};
use crate::time::UnixTime;
use crate::trust_list::TrustedSigner;

/// 6. The signer may speak for `iss` at `iat` (the region it belongs to is `region`).
pub(super) fn authority(
    iss: &RegionCode,
    iat: UnixTime,
    signer: &TrustedSigner,
    region: &RegionCode,
    report: &mut ReportBuilder,
) {
    let problem = if iss != region {
        Some(format!(
            "iss {iss} but the signer belongs to {region} (cross-province impersonation)"
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

/// 9. The licence's `nbf` ≤ now ≤ `exp`, with skew (for a copy, the licence it was made of).
pub(super) fn licence_period(
    nbf: UnixTime,
    exp: Option<UnixTime>,
    at: UnixTime,
    skew: i64,
    report: &mut ReportBuilder,
) {
    if at.plus(skew) < nbf {
        report.fail(
            CheckName::ValidityPeriod,
            Outcome::NotYetValid,
            format!("valid from {nbf}"),
        );
        return;
    }
    match exp {
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

/// Most skew a copy's end is given: a 60 s 亮证码 must not live six minutes at a window whose
/// skew is the default 5 minutes, yet a clerk's clock half a minute fast must not refuse a
/// fresh one.
const COPY_END_SKEW_SECONDS: i64 = 30;

/// A copy's own period: made no later than now (with the verifier's skew), ended no earlier
/// (with that skew, but at most [`COPY_END_SKEW_SECONDS`]).
pub(super) fn copy_period(
    claims: &CopyClaims,
    at: UnixTime,
    skew: i64,
    report: &mut ReportBuilder,
) {
    let (iat, exp) = (UnixTime(claims.iat), UnixTime(claims.exp));
    let end_skew = skew.clamp(0, COPY_END_SKEW_SECONDS);
    if at.plus(skew) < iat {
        report.fail(
            CheckName::CopyValidity,
            Outcome::NotYetValid,
            format!("the copy claims to be made at {iat}, in the future"),
        );
    } else if at.minus(end_skew) > exp {
        report.fail(
            CheckName::CopyValidity,
            Outcome::CopyExpired,
            format!("the copy ended at {exp}"),
        );
    } else {
        report.pass(
            CheckName::CopyValidity,
            DetailText::new("until ").time(exp).done(),
        );
    }
}

/// The unit verifying against the copy's `aud`: a copy for another unit is refused; a copy
/// for a unit checked by a verifier that does not know its own is a warning (SPEC §11).
pub(super) fn audience(claims: &CopyClaims, unit: Option<&Uscc>, report: &mut ReportBuilder) {
    match (&claims.aud, unit) {
        (None, _) => report.pass(
            CheckName::Audience,
            Some("the copy names no using unit: any window may accept it".into()),
        ),
        (Some(aud), Some(unit)) if aud.code == unit.as_str() => report.pass(
            CheckName::Audience,
            DetailText::new("made for ")
                .text(unit.as_str())
                .text(", the unit verifying")
                .done(),
        ),
        (Some(aud), Some(unit)) => report.fail(
            CheckName::Audience,
            Outcome::WrongAudience,
            format!(
                "made for {} {}, but the unit verifying is {unit}",
                aud.code, aud.name
            ),
        ),
        (Some(aud), None) => report.not_checked(
            CheckName::Audience,
            Warning::AudienceNotChecked,
            format!(
                "made for {} {}; this verifier was not told which unit it serves",
                aud.code, aud.name
            ),
        ),
    }
}
