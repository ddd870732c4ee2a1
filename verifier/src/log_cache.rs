//! The regions' transparency-log answers as a verifier keeps them (SPEC §12): asked lazily,
//! the first time a token of a region with a log is verified, of that region's issuer only.
//!
//! The URL comes from the trust list alone (the region's `issuer_uri`, else its status-list
//! prefix without `v1/status/`): a token cannot make the verifier ask anyone else. Answers are
//! kept by token hash: a proof that proved is final (a log never loses an entry), so it is kept
//! until the trust list changes; anything else — "not logged", "not witnessed", a proof that
//! does not prove, no answer — is asked again after [`RETRY_SECONDS`], or at once when it was
//! given before the token's merge delay ended and that has since passed.
//!
//! A proof that proved is also kept on disk (with a cache directory), like status lists, so a
//! verifier restarted without network still shows the inclusion it showed before; a proof read
//! back is judged again like one fetched.
//!
//! Nothing here judges an answer: the `logged` check of `huren-crypto` does, each time, against
//! the trust list in force.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use huren_crypto::time::UnixTime;
use huren_crypto::trust_list::TrustList;
use huren_crypto::verify::{
    issuer_base, proof_url, InclusionProof, LogAnswer, LogEvidence, LogSource, LogUse,
    MAX_PROOF_ANSWER_BYTES,
};

use crate::disk::DiskCache;
use crate::fetch::{Fetcher, LogProofResponse};

/// An answer other than a proof is not asked again on the request path for this long: a
/// token that is not logged must not make every scan wait on the network.
pub const RETRY_SECONDS: i64 = 30;
/// Most answers held (each a few KiB: a checkpoint note and up to 63 hashes).
const MAX_ANSWERS: usize = 20_000;

/// The log-answer cache.
pub struct LogCache {
    fetcher: Arc<dyn Fetcher>,
    answers: RwLock<HashMap<String, Arc<LogAnswer>>>,
    disk: Option<DiskCache>,
}

impl std::fmt::Debug for LogCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogCache").finish_non_exhaustive()
    }
}

/// The `code` of a problem object (`{"code": "not_logged", …}`), if it has one.
pub fn problem_code(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value.get("code")?.as_str().map(str::to_owned)
}

impl LogCache {
    /// An empty cache asking through `fetcher`, keeping proofs in `disk` if given.
    pub fn new(fetcher: Arc<dyn Fetcher>, disk: Option<DiskCache>) -> LogCache {
        LogCache {
            fetcher,
            answers: RwLock::new(HashMap::new()),
            disk,
        }
    }

    /// Forgets every answer (after the trust list changed: the log keys may have).
    pub fn clear(&self) {
        if let Ok(mut answers) = self.answers.write() {
            answers.clear();
        }
    }

    /// Answers held.
    pub fn len(&self) -> usize {
        self.answers.read().map(|a| a.len()).unwrap_or(0)
    }

    /// Whether no answer is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether asking the log about `used` now could change the answer: not proved, and no
    /// answer held, or the held one is older than [`RETRY_SECONDS`] or predates the end of
    /// the token's merge delay, which has passed.
    pub fn may_try(&self, used: &LogUse, now: UnixTime) -> bool {
        if used.proved() {
            return false;
        }
        let Ok(answers) = self.answers.read() else {
            return true;
        };
        answers.get(&used.token_sha256).is_none_or(|held| {
            now.seconds().saturating_sub(held.answered_at.seconds()) >= RETRY_SECONDS
                || (held.answered_at < used.settled_at && now >= used.settled_at)
        })
    }

    /// Asks the issuer of `used.region` (as `trust` names it) for the proof of `used`'s token
    /// and holds the answer, whatever it is: a failure is an answer too ("unavailable"), so
    /// it is not asked again at once.
    pub fn fetch(&self, used: &LogUse, trust: &TrustList, now: UnixTime) -> Arc<LogAnswer> {
        let evidence = match trust
            .region(&used.region)
            .and_then(|r| issuer_base(r.issuer_uri.as_deref(), &r.status_uri_prefix))
        {
            None => LogEvidence::Unavailable(format!(
                "the trust list gives {} no issuer URL to ask",
                used.region
            )),
            Some(base) => {
                let (evidence, body) = self.ask(&proof_url(&base, &used.token_sha256));
                if let (Some(body), Some(disk)) = (body, &self.disk) {
                    // Kept as received; whoever reads it back judges it again.
                    let name = DiskCache::log_proof_file(&used.token_sha256);
                    if let Err(e) = disk.write(&name, &body) {
                        tracing::warn!(error = %e, file = %name, "log proof not kept on disk");
                    }
                }
                evidence
            }
        };
        let answer = Arc::new(LogAnswer {
            evidence,
            answered_at: now,
        });
        if let Ok(mut answers) = self.answers.write() {
            if answers.len() >= MAX_ANSWERS && !answers.contains_key(&used.token_sha256) {
                // Full: drop what is not final first, then anything (one fetch more later).
                answers.retain(|_, a| matches!(a.evidence, LogEvidence::Proof(_)));
                if answers.len() >= MAX_ANSWERS {
                    answers.clear();
                }
            }
            answers.insert(used.token_sha256.clone(), answer.clone());
        }
        answer
    }

    /// The log's answer, and the body of a proof answer (to keep on disk).
    fn ask(&self, url: &str) -> (LogEvidence, Option<Vec<u8>>) {
        let evidence = match self
            .fetcher
            .fetch_log_proof(url, MAX_PROOF_ANSWER_BYTES as u64)
        {
            Ok(LogProofResponse::Found(body)) => {
                return match InclusionProof::from_json(&body) {
                    Ok(proof) => (LogEvidence::Proof(proof), Some(body)),
                    Err(e) => (LogEvidence::Unavailable(e.to_string()), None),
                }
            }
            Ok(LogProofResponse::NotFound(body)) => match problem_code(&body).as_deref() {
                Some("not_logged") => LogEvidence::NotLogged,
                Some("not_witnessed") => LogEvidence::NotWitnessed,
                // An issuer without a log endpoint says nothing about the token.
                _ => LogEvidence::Unavailable("HTTP 404 without a log problem code".into()),
            },
            Err(e) => LogEvidence::Unavailable(e.reason),
        };
        (evidence, None)
    }
}

impl LogSource for LogCache {
    fn log_answer(
        &self,
        _region: &huren_crypto::ids::RegionCode,
        token_sha256: &str,
    ) -> Option<Arc<LogAnswer>> {
        if let Some(held) = self.answers.read().ok()?.get(token_sha256).cloned() {
            return Some(held);
        }
        // A proof kept by an earlier run; judged again by the `logged` check.
        if !huren_crypto::tlog::entry::is_sha256_hex(token_sha256) {
            return None;
        }
        let disk = self.disk.as_ref()?;
        let body = disk.read_bytes(
            &DiskCache::log_proof_file(token_sha256),
            MAX_PROOF_ANSWER_BYTES as u64,
        )?;
        let proof = InclusionProof::from_json(&body).ok()?;
        let answer = Arc::new(LogAnswer {
            evidence: LogEvidence::Proof(proof),
            answered_at: UnixTime(0),
        });
        if let Ok(mut answers) = self.answers.write() {
            answers.insert(token_sha256.to_owned(), answer.clone());
        }
        Some(answer)
    }
}
