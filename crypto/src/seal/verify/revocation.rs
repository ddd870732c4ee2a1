//! Whether the seal or the signer certificate has been revoked (SPEC §8, "Revocation fails
//! closed"): the seal's current status from the status list its status extension names
//! (part of check 6), and the signer certificate at the signing time, judged against its
//! issuer's newest CRL (check 8), a CRL entry after the claimed signing time by its reason.
//!
//! Both fail closed: a list that is missing, out of date, or for another URI or region leaves
//! the check undecided, never passed.

use super::report::{Builder, SealCheckName, SealOutcome, SealWarning};
use super::{SealTrust, SealVerifyInput};
use crate::crl::RevocationReason;
use crate::seal::decode::Seal;
use crate::seal::ext::SealStatusReference;
use crate::seal::lenient_cert::SealCertificate;
use crate::status_list::StatusValue;
use crate::time::UnixTime;

/// The seal's current status from its status list.
pub(super) fn seal_status(
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
pub(super) fn check_signer_certificate(
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
