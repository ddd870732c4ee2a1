//! The `logged` check (SPEC §12, "Verifiers may require inclusion"): is this exact token in its
//! region's witnessed transparency log? It runs, after the status checks, for licences and
//! copies of a region the trust list gives a `log_key`.
//!
//! Why it exists: a licence signer's key stolen and used outside the issuer makes tokens whose
//! signatures verify. The issuer logs every token it signs, so a token the log cannot show is
//! one the issuer did not make (or made seconds ago: the log's merge delay).
//!
//! What passes: the checkpoint opens with the region's log key, at least `witness_quorum`
//! listed witnesses cosigned it, the entry is canonical, its `token_sha256` is the hash of the
//! exact token bytes received, its action and subject are the token's (`issue` + 证照标识, or
//! `copy_make` + copy id), its `seq` is its index + 1, and the RFC 6962 proof puts it in the
//! checkpoint's tree.
//!
//! What else happens ([`LogCheck`], `HUREN_LOG_CHECK`). With [`LogCheck::Require`] the check
//! always runs. With [`LogCheck::Warn`] (the default) it runs when the caller holds an answer
//! of the log (the verifier asks once the merge delay has passed: before, no answer could be
//! more than "pending"), else it is not listed; with [`LogCheck::Off`] it never runs.
//!
//! | the log's answer | within the merge delay | after it, `require` | after it, `warn` |
//! |---|---|---|---|
//! | proof that proves | pass | pass | pass |
//! | `not_logged`, `not_witnessed`, a proof that does not prove | `log_pending` (warning) | `not_logged` (invalid) | warning `not_logged`, check `ok: false` |
//! | no usable answer (unreachable, offline) | `log_pending` (warning) | `log_unavailable` (indeterminate) | warning `log_unreachable` (none asked: not listed) |
//!
//! An unreachable log after the merge delay is never `valid` when inclusion is required: the
//! thief of a key would otherwise only need to keep the verifier from reaching the log (block
//! one host, or wait for the verifier to be offline). It is not `invalid` either, since the
//! issuer may simply be down: it is indeterminate, like an unavailable status list.
//!
//! Time: the merge delay ends `merge_delay + s` after the token's `iat`, where `s` is the
//! verifier's skew capped at [`LOG_SKEW_MAX_SECONDS`]: every second of tolerance is a second a
//! stolen key's token passes with a warning. A token whose `iat` is more than `s` in the future
//! is never pending (a thief would otherwise date his tokens ahead). A `not_logged` answer
//! given before the merge delay ended does not condemn a token (the log may have merged it
//! since): it counts as no answer until asked again.

use super::log_evidence::{InclusionProof, LogAnswer, LogEvidence, LogSource, LogTrust};
use super::outcome::{CheckName, Outcome, Warning};
use super::report::{DetailText, LogUse, Presented, ReportBuilder};
use super::VerifyOptions;
use crate::ids::RegionCode;
use crate::time::UnixTime;
use crate::tlog::entry::{token_sha256, LogEntry};
use crate::tlog::{note, tree};

/// Most clock skew the merge delay is given (see the module documentation).
pub const LOG_SKEW_MAX_SECONDS: i64 = 30;

/// What a token of a region that keeps a log is held to (SPEC §12; `HUREN_LOG_CHECK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogCheck {
    /// Inclusion must be shown: `not_logged` (invalid) when the log does not show the token
    /// after its merge delay, `log_unavailable` (indeterminate) when it cannot be asked.
    Require,
    /// The log is asked once the merge delay has passed; what it shows is a warning
    /// (`not_logged`, `log_unreachable`), never a change of verdict.
    #[default]
    Warn,
    /// The log is neither asked nor looked at: the report is as before logs existed.
    Off,
}

impl LogCheck {
    /// Every value, as written in settings.
    pub const NAMES: [&'static str; 3] = ["require", "warn", "off"];

    /// Whether inclusion must be shown.
    pub fn requires(self) -> bool {
        self == LogCheck::Require
    }

    /// The setting's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            LogCheck::Require => "require",
            LogCheck::Warn => "warn",
            LogCheck::Off => "off",
        }
    }
}

/// A log check setting that is none of [`LogCheck::NAMES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a log check: require, warn or off")]
pub struct LogCheckParseError(pub String);

impl std::str::FromStr for LogCheck {
    type Err = LogCheckParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "require" => Ok(LogCheck::Require),
            "warn" => Ok(LogCheck::Warn),
            "off" => Ok(LogCheck::Off),
            other => Err(LogCheckParseError(other.to_owned())),
        }
    }
}

impl std::fmt::Display for LogCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the answer showed.
enum Finding {
    /// The token is in the log: entry `index` of `size`, with `cosignatures` witnesses.
    Proved {
        index: u64,
        size: u64,
        cosignatures: usize,
    },
    /// The log says it is not there (`answered_at` when the answer is a "not (yet)" that only
    /// counts after the merge delay), or its proof does not prove it.
    Refuted {
        detail: String,
        answered_at: Option<UnixTime>,
    },
    /// No usable answer.
    Unanswered(String),
}

/// What the log's entry for a token must say, and when the token was signed.
pub(super) struct Logged<'a> {
    /// `issue` or `copy_make`.
    pub(super) action: &'static str,
    /// The licence's 证照标识 or the copy's id.
    pub(super) subject: &'a str,
    /// The token's `iat`.
    pub(super) iat: UnixTime,
}

impl Logged<'_> {
    /// What the verified `presented` token's entry must say.
    pub(super) fn of(presented: &Presented) -> Logged<'_> {
        let (action, subject) = match presented {
            Presented::Licence(claims) => ("issue", claims.jti.as_str()),
            Presented::Copy(claims) => ("copy_make", claims.jti.as_str()),
        };
        Logged {
            action,
            subject,
            iat: presented.iat(),
        }
    }
}

/// What the check runs against.
pub(super) struct LogContext<'a> {
    pub(super) region: &'a RegionCode,
    pub(super) trust: &'a LogTrust,
    pub(super) source: &'a dyn LogSource,
    pub(super) at: UnixTime,
    pub(super) options: &'a VerifyOptions,
}

/// Runs the `logged` check for the verified token whose exact compact bytes are `token`;
/// returns whether it ran. It does not when inclusion is not required and no answer of the log
/// is held (the report then names the lookup in `log`, and lists no check).
pub(super) fn check(
    context: &LogContext<'_>,
    token: &str,
    logged: &Logged<'_>,
    report: &mut ReportBuilder,
) -> bool {
    let LogContext {
        region,
        trust,
        source,
        at,
        options,
    } = *context;
    let hash = token_sha256(token.as_bytes());
    let (action, subject, iat) = (logged.action, logged.subject, logged.iat);
    let skew = options.skew_seconds.clamp(0, LOG_SKEW_MAX_SECONDS);
    let settled_at = iat.plus(options.log_merge_delay_seconds.max(0)).plus(skew);
    let dated_ahead = at.plus(skew) < iat;
    let pending = !dated_ahead && at < settled_at;

    let answer = source.log_answer(region, &hash);
    let required = options.log_check.requires();
    let mut used = LogUse {
        region: (*region).clone(),
        token_sha256: hash.clone(),
        settled_at,
        index: None,
        tree_size: None,
    };
    if answer.is_none() && !required {
        // Not listed, but named: what a verifier that warns asks the log once the merge
        // delay has passed.
        report.log = Some(used);
        return false;
    }
    let finding = match answer.as_deref() {
        None => Finding::Unanswered("the log was not asked (offline, or not fetched)".into()),
        Some(LogAnswer {
            evidence,
            answered_at,
        }) => find(evidence, *answered_at, trust, &hash, action, subject),
    };
    // A "not (yet) logged" given before the merge delay ended says nothing about now.
    let finding = match finding {
        Finding::Refuted {
            answered_at: Some(answered_at),
            ..
        } if !dated_ahead && answered_at < settled_at && !pending => Finding::Unanswered(format!(
            "the log's answer of {answered_at} came before the merge delay ended ({settled_at}); it must be asked again"
        )),
        other => other,
    };
    let check = CheckName::Logged;
    match finding {
        Finding::Proved {
            index,
            size,
            cosignatures,
        } => {
            used.index = Some(index);
            used.tree_size = Some(size);
            report.pass(
                check,
                DetailText::new("entry ")
                    .int(index)
                    .text(" of ")
                    .int(size)
                    .text(" in ")
                    .text(trust.log_key.name())
                    .text(", cosigned by ")
                    .int(cosignatures)
                    .text(" witness(es), ")
                    .int(trust.quorum)
                    .text(" needed")
                    .done(),
            );
        }
        Finding::Refuted { detail, .. } | Finding::Unanswered(detail) if pending => {
            let detail = format!("{detail}; signed {iat}, the log's merge delay ends {settled_at}");
            report.not_checked(check, Warning::LogPending, detail);
        }
        Finding::Refuted { detail, .. } if required => {
            report.fail(check, Outcome::NotLogged, detail);
        }
        Finding::Refuted { detail, .. } => {
            report.failed_with_warning(check, Warning::NotLogged, detail);
        }
        Finding::Unanswered(detail) if required => {
            report.unknown(check, Outcome::LogUnavailable, detail);
        }
        Finding::Unanswered(detail) => {
            report.not_checked(check, Warning::LogUnreachable, detail);
        }
    }
    report.log = Some(used);
    true
}

/// The check for a region whose log the trust list names but could not accept (its fields
/// broke a rule), when inclusion is required: nothing can be proved, so it is as if the log
/// could not be asked.
pub(super) fn unusable(region: &RegionCode, report: &mut ReportBuilder) {
    let detail = format!("the trust list's log entry for {region} is unusable (see its problems)");
    report.unknown(CheckName::Logged, Outcome::LogUnavailable, detail);
}

fn find(
    evidence: &LogEvidence,
    answered_at: UnixTime,
    trust: &LogTrust,
    hash: &str,
    action: &str,
    subject: &str,
) -> Finding {
    match evidence {
        LogEvidence::Unavailable(why) => {
            Finding::Unanswered(format!("the log could not be asked: {why}"))
        }
        LogEvidence::NotLogged => Finding::Refuted {
            detail: "the log has no entry for this token".into(),
            answered_at: Some(answered_at),
        },
        LogEvidence::NotWitnessed => Finding::Refuted {
            detail: "the log has no witnessed checkpoint covering this token's entry".into(),
            answered_at: Some(answered_at),
        },
        LogEvidence::Proof(proof) => match prove(proof, trust, hash, action, subject) {
            Ok(cosignatures) => Finding::Proved {
                index: proof.index,
                size: proof.tree_size,
                cosignatures,
            },
            Err(detail) => Finding::Refuted {
                detail,
                answered_at: None,
            },
        },
    }
}

/// Checks `proof` for the token hashing to `hash` whose log entry must say `action` and
/// `subject`; returns how many listed witnesses cosigned.
fn prove(
    proof: &InclusionProof,
    trust: &LogTrust,
    hash: &str,
    action: &str,
    subject: &str,
) -> Result<usize, String> {
    let opened = note::open(
        proof.checkpoint.as_bytes(),
        &trust.log_key,
        &trust.witnesses,
    )
    .map_err(|e| e.to_string())?;
    opened.witnessed(trust.quorum).map_err(|e| e.to_string())?;
    if proof.tree_size != opened.size {
        return Err(format!(
            "the proof is for a tree of {} entries, the checkpoint is of {}",
            proof.tree_size, opened.size
        ));
    }
    let entry = LogEntry::parse(&proof.entry).map_err(|e| e.to_string())?;
    if entry.token_sha256.as_deref() != Some(hash) {
        return Err(format!(
            "the log entry given is for another token (token_sha256 {}, this token's is {hash})",
            entry.token_sha256.as_deref().unwrap_or("absent")
        ));
    }
    if entry.action != action || entry.subject != subject {
        return Err(format!(
            "the log entry says {} {}, the token is {action} {subject}",
            entry.action, entry.subject
        ));
    }
    if u64::try_from(entry.seq).ok() != proof.index.checked_add(1) {
        return Err(format!(
            "the log entry's seq {} is not its index {} + 1",
            entry.seq, proof.index
        ));
    }
    tree::check_inclusion(
        &proof.proof,
        opened.size,
        &opened.root,
        proof.index,
        &proof.entry,
    )
    .map_err(|e| e.to_string())?;
    Ok(opened.cosignatures.len())
}
