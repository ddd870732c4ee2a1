//! Issuance transparency (SPEC §12): the pure parts of a region's witnessed Merkle log.
//!
//! Every format here is a public one, so any tlog client can check huren's logs:
//! RFC 6962 hashing and proofs and the tile layout come from the `tlog_tiles` crate (a port of
//! Go's `sumdb/tlog`), signed notes from `signed_note`; what those crates do not have is here:
//!
//! - [`entry`]: the log's leaves, canonical JSON of one audit event (identifiers and hashes only);
//! - [`vkey`]: signed-note verifier keys (`<name>+<hex id>+<base64(type ‖ key)>`) for the log's
//!   Ed25519 key (type 0x01) and witnesses' cosignature/v1 keys (type 0x04);
//! - [`note`]: signing and opening checkpoints (C2SP tlog-checkpoint in a signed note),
//!   cosignatures (C2SP tlog-cosignature) and the witness quorum;
//! - [`tiles`]: C2SP tlog-tiles paths and entry bundles;
//! - [`tree`]: appending to the tree from its right edge, and inclusion and consistency proofs
//!   computed from stored hashes the caller fetches first (the store is async, the math is not);
//! - [`witness`]: the C2SP tlog-witness `add-checkpoint` exchange and a witness's decision.
//!
//! Like the rest of this crate: no I/O, no clock (times are arguments), bounded decoders.

pub mod entry;
pub mod note;
pub mod tiles;
pub mod tree;
pub mod vkey;
pub mod witness;

#[cfg(test)]
mod tests;

use crate::ids::RegionCode;

pub use tlog_tiles::{Hash, EMPTY_HASH};

/// The origin line (and log key name) of `region`'s log: a name, not a URL that must resolve.
pub fn origin(region: &RegionCode) -> String {
    format!("{ORIGIN_PREFIX}{region}")
}

/// Every huren log's origin starts with this.
pub const ORIGIN_PREFIX: &str = "huren.gov.cn/log/";

/// The key name of `region`'s witness (its cosignature/v1 key).
pub fn witness_name(region: &RegionCode) -> String {
    format!("huren.gov.cn/witness/{region}")
}

/// The region a huren origin names, if it is one.
pub fn origin_region(origin: &str) -> Option<RegionCode> {
    RegionCode::parse(origin.strip_prefix(ORIGIN_PREFIX)?).ok()
}

/// Why log material was refused. Messages name what was wrong; they never echo more than a
/// short excerpt of hostile input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlogError {
    /// A verifier key is malformed.
    #[error("verifier key: {0}")]
    VerifierKey(String),
    /// A signed note or checkpoint is malformed.
    #[error("checkpoint: {0}")]
    Malformed(String),
    /// A checkpoint is for another log.
    #[error("checkpoint is for log {found:?}, expected {expected:?}")]
    WrongOrigin {
        /// The origin expected.
        expected: String,
        /// The origin found (truncated).
        found: String,
    },
    /// No valid signature of the log's key.
    #[error("checkpoint is not signed by the log's key {0}")]
    NotSignedByLog(String),
    /// A signature by a known key does not verify.
    #[error("checkpoint carries a signature by {0} that does not verify")]
    BadSignature(String),
    /// Fewer valid cosignatures than the quorum.
    #[error("checkpoint has {found} valid witness cosignature(s), {quorum} needed")]
    NotWitnessed {
        /// Valid cosignatures by listed witnesses.
        found: usize,
        /// Needed.
        quorum: usize,
    },
    /// A proof does not prove what it claims.
    #[error("{0}")]
    Proof(String),
    /// A log entry is malformed.
    #[error("log entry: {0}")]
    Entry(String),
    /// A tile path or entry bundle is malformed.
    #[error("tile: {0}")]
    Tile(String),
    /// The stored hashes given do not cover what the computation needs.
    #[error("stored hash {0} is missing")]
    MissingHash(u64),
}

/// Quotes at most 40 characters of hostile text for an error message.
pub(crate) fn excerpt(text: &str) -> String {
    let mut out: String = text.chars().take(40).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    format!("{out:?}")
}
