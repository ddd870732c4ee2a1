//! The region's issuance transparency log (SPEC §12): a C2SP tlog-tiles log whose leaves are the
//! region's audit entries, checkpoints signed with the region's Ed25519 log key and cosigned by
//! the witnesses the trust list names.
//!
//! How nothing is lost: every event's audit entry is written in the same transaction as the
//! event ([`crate::audit`]), so the audit log is the log's outbox. The [`sequencer`] appends
//! to the tree what the audit log has and the tree lacks — after every commit (woken by
//! [`Log::wake`], batching for [`Log::sequence_delay`]) and at start — in one transaction with
//! a check-and-set on the tree's size, then signs a checkpoint. [`submit`] sends new
//! checkpoints to the witnesses and records the cosigned note once a quorum answered. A kill at
//! any point leaves either the old tree or the new one, and the next run catches up.
//!
//! Leaf `i` is audit entry `seq = i + 1`, so an issuance answer knows its log index at commit
//! (`log: {"index"}`), before the leaf is appended. [`witness`] is the other role: this issuer
//! cosigning other regions' logs. The pure formats are `huren_crypto::tlog`.

pub mod audit_check;
pub mod sequencer;
pub mod submit;
pub mod witness;

use std::time::Duration;

use huren_crypto::tlog::entry::{is_sha256_hex, LogEntry};
use huren_crypto::tlog::note::NoteKeyPair;
use huren_crypto::tlog::vkey::VerifierKey;
use huren_crypto::trust_list::WitnessEntry;
use serde::Serialize;

use crate::store::log::AuditLeaf;

/// Default time the sequencer waits after a write before appending, to batch writes.
pub const DEFAULT_SEQUENCE_DELAY: Duration = Duration::from_millis(500);

/// How long a witness may take to answer.
pub const WITNESS_TIMEOUT: Duration = Duration::from_secs(5);

/// Where an issuance's leaf is (or will be, within the merge delay) in the region's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LogReceipt {
    /// The leaf index.
    pub index: u64,
}

impl LogReceipt {
    /// The receipt of the audit entry `seq`.
    pub fn of_seq(seq: i64) -> LogReceipt {
        LogReceipt {
            index: u64::try_from(seq - 1).unwrap_or_default(),
        }
    }
}

/// What the log exposes at `/metrics`.
#[derive(Debug, Default, Clone)]
pub struct LogMetrics {
    /// Size of the newest checkpoint.
    pub entries: prometheus_client::metrics::gauge::Gauge,
    /// Size of the newest witnessed checkpoint.
    pub witnessed_entries: prometheus_client::metrics::gauge::Gauge,
    /// Offers a witness did not cosign.
    pub witness_failures: prometheus_client::metrics::counter::Counter,
}

/// The region's log: its key, its witnesses and the sequencer's wake-up.
pub struct Log {
    /// The log's key (name = origin).
    pub key: NoteKeyPair,
    /// The witnesses the trust list names for this region.
    pub witnesses: Vec<WitnessEntry>,
    /// How many cosignatures make a checkpoint witnessed.
    pub quorum: usize,
    /// Wakes the sequencer after a commit.
    pub wake: tokio::sync::Notify,
    /// Wakes the witnessing task after a new checkpoint.
    pub witness_wake: tokio::sync::Notify,
    /// How long the sequencer waits after a wake-up before appending.
    pub sequence_delay: Duration,
    /// Gauges and counters for `/metrics`.
    pub metrics: LogMetrics,
    /// HTTP client for witnesses (no redirects, bounded time).
    pub(crate) http: ureq::Agent,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("origin", &self.origin())
            .field("witnesses", &self.witnesses.len())
            .field("quorum", &self.quorum)
            .finish()
    }
}

impl Log {
    /// The log of `key` with the trust list's `witnesses` and `quorum`.
    pub fn new(
        key: NoteKeyPair,
        witnesses: Vec<WitnessEntry>,
        quorum: usize,
        sequence_delay: Duration,
    ) -> Log {
        let http = ureq::Agent::config_builder()
            .timeout_global(Some(WITNESS_TIMEOUT))
            .max_redirects(0)
            .http_status_as_error(false)
            .build()
            .new_agent();
        Log {
            key,
            witnesses,
            quorum,
            wake: tokio::sync::Notify::new(),
            witness_wake: tokio::sync::Notify::new(),
            sequence_delay,
            metrics: LogMetrics::default(),
            http,
        }
    }

    /// The origin (the log key's name).
    pub fn origin(&self) -> &str {
        self.key.verifier_key().name()
    }

    /// The log's verifier key.
    pub fn verifier_key(&self) -> &VerifierKey {
        self.key.verifier_key()
    }

    /// The witnesses' verifier keys.
    pub fn witness_keys(&self) -> Vec<VerifierKey> {
        self.witnesses.iter().map(|w| w.vkey.clone()).collect()
    }
}

/// The leaf of an audit entry: its identifiers and, when the event signed a token, the
/// token's hash (recorded in the entry's detail as `token_sha256`). Never actor or detail:
/// those may name people.
pub fn leaf_of(entry: &AuditLeaf) -> LogEntry {
    let token_sha256 = serde_json::from_str::<serde_json::Value>(&entry.detail)
        .ok()
        .and_then(|detail| detail.get("token_sha256")?.as_str().map(str::to_owned))
        .filter(|hash| is_sha256_hex(hash));
    LogEntry {
        seq: entry.seq,
        at: entry.at,
        action: entry.action.clone(),
        subject: entry.subject.clone(),
        token_sha256,
    }
}
