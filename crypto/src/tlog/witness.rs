//! The C2SP tlog-witness `add-checkpoint` exchange, and a witness's decision.
//!
//! The log sends `old <size>\n`, up to 63 base64 consistency-proof lines, a blank line and its
//! new checkpoint note; `old` is the size of the checkpoint the witness last cosigned for that
//! log (0 the first time). The witness cosigns only if the log's signature verifies and the new
//! tree extends the one it cosigned before — so once a witness has cosigned a tree, it never
//! cosigns a tree that drops or rewrites any entry of it (a fork), whatever the log says. The
//! answers: 200 with the cosignature line, 403 (no valid log signature), 404 (unknown log),
//! 400 (malformed), 409 with the witness's size (`text/x.tlog.size`) when `old` is not what the
//! witness holds, 422 when the proof does not show consistency.
//!
//! The witness must store its new view *before* answering, with a check-and-set on the old
//! size, so that two concurrent requests cannot both advance it (the caller's job: [`decide`]
//! only says what the new view is).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::note::{OpenedCheckpoint, MAX_NOTE_BYTES};
use super::tree::{check_consistency, MAX_PROOF_HASHES};
use super::{excerpt, Hash};

/// The media type of a 409 answer's body.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// A parsed `add-checkpoint` request.
#[derive(Debug, Clone, PartialEq)]
pub struct AddCheckpoint {
    /// The size the log believes the witness last cosigned.
    pub old_size: u64,
    /// Consistency proof from `old_size` to the new checkpoint.
    pub proof: Vec<Hash>,
    /// The new checkpoint note.
    pub note: String,
}

/// Why a witness refuses, with the HTTP status tlog-witness gives each.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// 400: the request is malformed.
    #[error("{0}")]
    Malformed(String),
    /// 403: the checkpoint is not validly signed by the log's key.
    #[error("{0}")]
    NotSigned(String),
    /// 404: this witness does not witness that log.
    #[error("this witness does not witness log {0}")]
    UnknownLog(String),
    /// 409: `old` is not the size this witness holds.
    #[error("this witness holds size {0}")]
    Conflict(u64),
    /// 422: the new checkpoint does not extend the one cosigned before (a fork, or a bad proof).
    #[error("{0}")]
    Inconsistent(String),
}

impl Refusal {
    /// The HTTP status of this refusal.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Malformed(_) => 400,
            Refusal::NotSigned(_) => 403,
            Refusal::UnknownLog(_) => 404,
            Refusal::Conflict(_) => 409,
            Refusal::Inconsistent(_) => 422,
        }
    }
}

/// The request body for `note` from `old_size` with `proof`.
pub fn request_body(old_size: u64, proof: &[Hash], note: &str) -> String {
    let mut body = format!("old {old_size}\n");
    for hash in proof {
        body.push_str(&STANDARD.encode(hash.0));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(note);
    body
}

/// Parses a request body.
pub fn parse_request(body: &[u8]) -> Result<AddCheckpoint, Refusal> {
    let bad = |why: &str| Refusal::Malformed(why.to_owned());
    if body.len() > MAX_NOTE_BYTES + (MAX_PROOF_HASHES + 1) * 48 {
        return Err(bad("request is too large"));
    }
    let text = std::str::from_utf8(body).map_err(|_| bad("request is not UTF-8"))?;
    let (head, note) = text
        .split_once("\n\n")
        .ok_or_else(|| bad("request has no blank line before the checkpoint"))?;
    let mut lines = head.split('\n');
    let old = lines
        .next()
        .and_then(|l| l.strip_prefix("old "))
        .ok_or_else(|| bad("request does not start with \"old <size>\""))?;
    if old.is_empty()
        || (old.len() > 1 && old.starts_with('0'))
        || !old.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad(&format!(
            "old size {} is not a decimal number",
            excerpt(old)
        )));
    }
    let old_size: u64 = old.parse().map_err(|_| bad("old size is too large"))?;
    let mut proof = Vec::new();
    for line in lines {
        if proof.len() == MAX_PROOF_HASHES {
            return Err(bad("consistency proof has more than 63 lines"));
        }
        let bytes = STANDARD
            .decode(line)
            .map_err(|_| bad("a consistency proof line is not base64"))?;
        let hash: [u8; 32] = bytes
            .try_into()
            .map_err(|_| bad("a consistency proof line is not a 32-byte hash"))?;
        proof.push(Hash(hash));
    }
    Ok(AddCheckpoint {
        old_size,
        proof,
        note: note.to_owned(),
    })
}

/// What a witness holds for one log: the tree it last cosigned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WitnessView {
    /// Its size.
    pub size: u64,
    /// Its root.
    pub root: Hash,
}

/// Decides a request whose checkpoint opened (`new`, log signature checked) against the view
/// the witness holds (`held`, `None` if it never cosigned this log): the view to store (with a
/// check-and-set on `held`) before cosigning.
pub fn decide(
    request: &AddCheckpoint,
    new: &OpenedCheckpoint,
    held: Option<WitnessView>,
) -> Result<WitnessView, Refusal> {
    let held_size = held.map_or(0, |v| v.size);
    if request.old_size > new.size {
        return Err(Refusal::Malformed(format!(
            "old size {} is above the checkpoint's size {}",
            request.old_size, new.size
        )));
    }
    if request.old_size != held_size {
        return Err(Refusal::Conflict(held_size));
    }
    let result = match held {
        None => {
            if !request.proof.is_empty() {
                return Err(Refusal::Inconsistent(
                    "a first checkpoint takes no consistency proof".into(),
                ));
            }
            check_consistency(&[], 0, &super::EMPTY_HASH, new.size, &new.root)
        }
        Some(view) => check_consistency(&request.proof, view.size, &view.root, new.size, &new.root),
    };
    result.map_err(|e| Refusal::Inconsistent(e.to_string()))?;
    Ok(WitnessView {
        size: new.size,
        root: new.root,
    })
}
