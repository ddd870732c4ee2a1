//! Step 10 of SPEC §6: revocation and suspension through a referenced status list — the
//! licence's entry, and for a copy also the copy's own (§11: withdrawal).

use super::outcome::{CheckName, Outcome};
use super::report::{DetailText, ReportBuilder, StatusListUse};
use super::{StatusSource, VerifyOptions};
use crate::ids::RegionCode;
use crate::status_list::{StatusReference, StatusValue};
use crate::time::UnixTime;
use crate::trust_list::TrustList;

/// Whose entry is read, which decides the check's name and what its values mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Entry {
    /// The licence's entry (a copy carries it too: revoking the licence revokes its copies).
    Licence,
    /// A copy's own entry: revoked = withdrawn by its holder.
    Copy,
}

impl Entry {
    fn check(self) -> CheckName {
        match self {
            Entry::Licence => CheckName::Status,
            Entry::Copy => CheckName::CopyStatus,
        }
    }

    fn absent(self) -> &'static str {
        match self {
            Entry::Licence => "the licence carries no status reference (issued without revocation)",
            Entry::Copy => "the copy carries no entry of its own (it cannot be withdrawn)",
        }
    }
}

/// Reads `reference` in the list the caller holds, recording the list in `report`.
pub(super) struct StatusCheck<'a> {
    pub(super) iss: &'a RegionCode,
    pub(super) trust: &'a TrustList,
    pub(super) status: &'a dyn StatusSource,
    pub(super) at: UnixTime,
    pub(super) options: &'a VerifyOptions,
}

impl StatusCheck<'_> {
    pub(super) fn run(
        &self,
        entry: Entry,
        reference: Option<&StatusReference>,
        report: &mut ReportBuilder,
    ) {
        let check = entry.check();
        let Some(reference) = reference else {
            report.pass(check, Some(entry.absent().into()));
            return;
        };
        let pointer = &reference.status_list;
        let iss = self.iss;
        let prefix_ok = self.trust.region(iss).is_some_and(|r| {
            !r.status_uri_prefix.is_empty() && pointer.uri.starts_with(&r.status_uri_prefix)
        });
        if !prefix_ok {
            let detail = format!("status uri is outside the prefix the trust list gives {iss}");
            report.fail(check, Outcome::Malformed, detail);
            return;
        }
        // A copy's own entry is usually in its licence's list, already looked up and described.
        let same_list = report
            .status_lists
            .iter()
            .any(|used| used.uri == pointer.uri);
        let list = self.status.status_list(&pointer.uri);
        report.status_lists.push(StatusListUse {
            uri: pointer.uri.clone(),
            idx: pointer.idx,
            iat: list.as_ref().map(|l| l.iat()),
            exp: list.as_ref().map(|l| l.exp()),
        });
        let Some(list) = list else {
            let detail = "status list not available".into();
            report.unknown(check, Outcome::StatusUnknown, detail);
            return;
        };
        if list.region() != iss {
            let detail = format!("status list was signed for {}, not {iss}", list.region());
            report.unknown(check, Outcome::StatusUnknown, detail);
            return;
        }
        if !list.signer_listed_in(self.trust) {
            let detail = "status list signer is no longer a status signer in the trust list".into();
            report.unknown(check, Outcome::StatusUnknown, detail);
            return;
        }
        if !list.is_fresh(self.at, self.options.skew_seconds) {
            let detail = format!("status list signed {} expired {}", list.iat(), list.exp());
            report.unknown(check, Outcome::StatusUnknown, detail);
            return;
        }
        let detail = || {
            let detail = DetailText::new("index ").int(pointer.idx);
            if same_list {
                detail.text(" in the same list").0
            } else {
                detail.text(" in list signed ").time(list.iat()).0
            }
        };
        match (list.status(pointer.idx), entry) {
            (None, _) => report.fail(
                check,
                Outcome::Malformed,
                format!(
                    "index {} is outside the list of {}",
                    pointer.idx,
                    list.capacity()
                ),
            ),
            (Some(StatusValue::Valid), _) => report.pass(check, Some(detail())),
            (Some(StatusValue::Revoked), Entry::Licence) => {
                report.fail(check, Outcome::Revoked, detail())
            }
            (Some(StatusValue::Suspended), Entry::Licence) => {
                report.fail(check, Outcome::Suspended, detail())
            }
            (Some(StatusValue::Revoked), Entry::Copy) => {
                report.fail(check, Outcome::CopyWithdrawn, detail())
            }
            // Fail closed: a value huren never writes (a copy's entry is never suspended) means
            // the list is not what we think it is.
            (Some(other), _) => report.unknown(
                check,
                Outcome::StatusUnknown,
                format!(
                    "index {} has status value {} that this entry never takes",
                    pointer.idx,
                    other.raw()
                ),
            ),
        }
    }
}
