//! The status of an issued record — a licence, a seal — and the one table of which changes are
//! allowed. (An annotated copy's own entry knows one change only, withdrawal, final:
//! `crate::copies`.)
//!
//! Owns two rules every kind of record shares, so they cannot drift apart:
//! - the transitions: revoking is final, a suspension may be lifted, nothing else moves
//!   ([`RecordStatus::after`]);
//! - the reason a client gives for a change: 1 to 500 characters of text ([`check_reason`]).
//!
//! The codes stored in the database are the status-list values of SPEC §4 (0 valid, 1
//! revoked, 2 suspended); an unknown code reads as revoked (fail closed).

use huren_crypto::licence::FieldError;
use serde::Serialize;

/// Longest reason for a status change, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// Current status of a licence or seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordStatus {
    /// Valid.
    Valid,
    /// Revoked (final).
    Revoked,
    /// Suspended (may be reinstated).
    Suspended,
}

/// A status change a client asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    /// Revoke (吊销/注销): final.
    Revoke,
    /// Suspend (暂扣/中止).
    Suspend,
    /// Lift a suspension.
    Reinstate,
}

/// A change the current status does not allow (409), e.g. reinstating a valid record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {} a {noun} that is {}", change_word(*.change), status_word(*.current))]
pub struct Refused {
    /// What was asked.
    pub change: StatusChange,
    /// The status it found.
    pub current: RecordStatus,
    /// The kind of record ("licence", "seal").
    pub noun: &'static str,
}

fn change_word(change: StatusChange) -> &'static str {
    match change {
        StatusChange::Revoke => "revoke",
        StatusChange::Suspend => "suspend",
        StatusChange::Reinstate => "reinstate",
    }
}

fn status_word(status: RecordStatus) -> &'static str {
    match status {
        RecordStatus::Valid => "valid",
        RecordStatus::Revoked => "revoked",
        RecordStatus::Suspended => "suspended",
    }
}

impl StatusChange {
    /// Every change, in the order the API documents them.
    pub const ALL: [StatusChange; 3] = [
        StatusChange::Revoke,
        StatusChange::Suspend,
        StatusChange::Reinstate,
    ];

    /// The change named `word` (`revoke`, `suspend`, `reinstate`: the last segment of its
    /// endpoint).
    pub fn parse(word: &str) -> Option<StatusChange> {
        StatusChange::ALL
            .into_iter()
            .find(|change| change_word(*change) == word)
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        change_word(self)
    }
}

impl RecordStatus {
    /// The status read from its stored code (fail closed: anything unknown is revoked).
    pub fn from_code(code: i64) -> RecordStatus {
        match code {
            0 => RecordStatus::Valid,
            2 => RecordStatus::Suspended,
            _ => RecordStatus::Revoked,
        }
    }

    /// Its stored code, which is also its status-list value.
    pub fn code(self) -> i64 {
        match self {
            RecordStatus::Valid => 0,
            RecordStatus::Revoked => 1,
            RecordStatus::Suspended => 2,
        }
    }

    /// The one transition table: the status after `change`, or why it is refused. `noun`
    /// names the record in the refusal.
    pub fn after(self, change: StatusChange, noun: &'static str) -> Result<RecordStatus, Refused> {
        match (change, self) {
            (StatusChange::Revoke, RecordStatus::Valid | RecordStatus::Suspended) => {
                Ok(RecordStatus::Revoked)
            }
            (StatusChange::Suspend, RecordStatus::Valid) => Ok(RecordStatus::Suspended),
            (StatusChange::Reinstate, RecordStatus::Suspended) => Ok(RecordStatus::Valid),
            (change, current) => Err(Refused {
                change,
                current,
                noun,
            }),
        }
    }
}

/// The reason given for a status change, trimmed: 1 to [`MAX_REASON_CHARS`] characters
/// without control characters, or the field error naming `reason`.
pub fn check_reason(reason: &str) -> Result<&str, FieldError> {
    let reason = reason.trim();
    if reason.is_empty()
        || reason.chars().count() > MAX_REASON_CHARS
        || reason.chars().any(char::is_control)
    {
        return Err(FieldError {
            field: "reason".into(),
            message: format!("must be 1 to {MAX_REASON_CHARS} characters of text"),
        });
    }
    Ok(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [RecordStatus; 3] = [
        RecordStatus::Valid,
        RecordStatus::Revoked,
        RecordStatus::Suspended,
    ];
    const CHANGES: [StatusChange; 3] = StatusChange::ALL;

    #[test]
    fn the_transition_table_allows_exactly_four_moves() {
        let allowed: Vec<(RecordStatus, StatusChange, RecordStatus)> = ALL
            .iter()
            .flat_map(|&from| CHANGES.iter().map(move |&change| (from, change)))
            .filter_map(|(from, change)| {
                from.after(change, "licence")
                    .ok()
                    .map(|to| (from, change, to))
            })
            .collect();
        assert_eq!(
            allowed,
            [
                (
                    RecordStatus::Valid,
                    StatusChange::Revoke,
                    RecordStatus::Revoked
                ),
                (
                    RecordStatus::Valid,
                    StatusChange::Suspend,
                    RecordStatus::Suspended
                ),
                (
                    RecordStatus::Suspended,
                    StatusChange::Revoke,
                    RecordStatus::Revoked
                ),
                (
                    RecordStatus::Suspended,
                    StatusChange::Reinstate,
                    RecordStatus::Valid
                ),
            ]
        );
    }

    #[test]
    fn a_refused_change_says_what_and_from_what() {
        let refused = RecordStatus::Revoked
            .after(StatusChange::Reinstate, "seal")
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "cannot reinstate a seal that is revoked"
        );
        let refused = RecordStatus::Valid
            .after(StatusChange::Reinstate, "licence")
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "cannot reinstate a licence that is valid"
        );
    }

    #[test]
    fn changes_are_named_by_their_endpoint_word() {
        for change in StatusChange::ALL {
            assert_eq!(StatusChange::parse(change.name()), Some(change));
        }
        assert_eq!(StatusChange::parse("Revoke"), None);
        assert_eq!(StatusChange::parse("sign"), None);
    }

    #[test]
    fn codes_round_trip_and_unknown_codes_read_as_revoked() {
        for status in ALL {
            assert_eq!(RecordStatus::from_code(status.code()), status);
        }
        assert_eq!(RecordStatus::from_code(7), RecordStatus::Revoked);
        assert_eq!(RecordStatus::from_code(-1), RecordStatus::Revoked);
    }

    #[test]
    fn reasons_are_trimmed_text_of_bounded_length() {
        assert_eq!(check_reason("  法院判决  "), Ok("法院判决"));
        assert_eq!(check_reason("").unwrap_err().field, "reason");
        assert_eq!(check_reason("   ").unwrap_err().field, "reason");
        assert!(check_reason("a\u{0}b").is_err());
        assert!(check_reason(&"字".repeat(MAX_REASON_CHARS)).is_ok());
        assert!(check_reason(&"字".repeat(MAX_REASON_CHARS + 1)).is_err());
    }
}
