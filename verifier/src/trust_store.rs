//! The trust store: the current verified trust list, where it comes from, and the rules for
//! replacing it.
//!
//! - The list must verify against the pinned operator certificates, the operator that signed the
//!   current list, or a successor the current list announced in `next_operator_certs` (pivot).
//!   After a pivot the lists that announced each successor are kept on disk with the list
//!   itself, so a restart can retrace the path from a pinned certificate to the current signer
//!   and start from its cache.
//! - Rollback is refused: a list with a lower `seq` than the last accepted, or the same `seq`
//!   with different content, never replaces it — also across restarts (the accepted `seq` and
//!   digest are kept on disk).
//! - A failed refresh never replaces good data; the failure is reported on `status()`.
//! - With a cache directory, the last good list is kept on disk and used when the source is
//!   unreachable at start.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use huren_crypto::cert::Certificate;
use huren_crypto::time::UnixTime;
use huren_crypto::trust_list::TrustList;
use serde::{Deserialize, Serialize};

use crate::disk::DiskCache;
use crate::fetch::{Fetched, Fetcher};

const CACHED_LIST: &str = "trust-list.jwt";
const CACHED_STATE: &str = "trust-state.json";
const CACHED_PIVOTS: &str = "trust-pivots.json";
/// Most operator pivots retraced on restart (a pivot is a rare, announced event).
const MAX_PIVOTS: usize = 16;

/// Where the trust list comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustSource {
    /// A file, re-read on refresh.
    File(PathBuf),
    /// An http(s) URL, fetched on refresh.
    Url(String),
}

impl TrustSource {
    /// A URL if `text` looks like one, else a file path.
    pub fn parse(text: &str) -> TrustSource {
        if text.starts_with("http://") || text.starts_with("https://") {
            TrustSource::Url(text.to_owned())
        } else {
            TrustSource::File(PathBuf::from(text))
        }
    }
}

/// A loaded list with where it came from.
#[derive(Debug)]
pub struct Loaded {
    /// The verified list.
    pub trust: TrustList,
    /// Its token (for serving and caching).
    pub token: String,
    /// The source's ETag, if any.
    pub etag: Option<String>,
    /// When it was accepted.
    pub accepted_at: UnixTime,
    /// Whether it came from the on-disk cache rather than the source.
    pub from_cache: bool,
    /// The lists (tokens) that announced, in turn, each operator on the path from a pinned
    /// certificate to this list's signer; empty when a pinned operator signed it.
    pub pivots: Vec<String>,
}

/// The operators whose signature a list following `list` may carry: the pinned ones, `list`'s
/// own signer, and the successors it announced.
fn operators_after(pinned: &[Certificate], list: &TrustList) -> Vec<Certificate> {
    let mut operators = pinned.to_vec();
    operators.push(list.operator().clone());
    operators.extend(list.next_operator_certs().iter().cloned());
    operators
}

/// The pivot path to a list signed by `signer`, following `current` (signed with `current`'s
/// path): unchanged when the signer stays, empty when it is pinned, one longer on a pivot.
fn pivots_for(signer: &Certificate, pinned: &[Certificate], current: &Loaded) -> Vec<String> {
    if pinned.iter().any(|p| p.der() == signer.der()) {
        Vec::new()
    } else if current.trust.operator().der() == signer.der() {
        current.pivots.clone()
    } else {
        let mut pivots = current.pivots.clone();
        pivots.push(current.token.clone());
        pivots
    }
}

/// Retraces `pivots` from the pinned certificates; the operators the next list may be signed
/// by, or `None` if the path no longer verifies.
fn retrace(pinned: &[Certificate], pivots: &[String]) -> Option<Vec<Certificate>> {
    if pivots.len() > MAX_PIVOTS {
        return None;
    }
    let mut operators = pinned.to_vec();
    for token in pivots {
        let list = TrustList::verify(token, &operators).ok()?;
        operators = operators_after(pinned, &list);
    }
    Some(operators)
}

/// Why the store could not load or refresh.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustStoreError {
    /// No pinned certificate (fail closed).
    #[error("no operator certificate is pinned")]
    NothingPinned,
    /// Neither the source nor the cache gave a usable list.
    #[error("no usable trust list: {0}")]
    Unavailable(String),
    /// A list was refused.
    #[error("trust list refused: {0}")]
    Refused(String),
}

/// `seq` and digest of the last accepted list, kept across restarts.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AcceptedState {
    seq: u64,
    digest: String,
}

/// What `/v1/trust` shows.
#[derive(Debug, Clone, Serialize)]
pub struct TrustStatus {
    /// Loaded `seq`.
    pub seq: u64,
    /// Its `iat` (RFC 3339).
    pub iat: String,
    /// Its `next_update`.
    pub next_update: String,
    /// Whether it is past `next_update` plus grace at the time asked.
    pub stale: bool,
    /// Whether it came from the on-disk cache.
    pub from_cache: bool,
    /// Regions, with signer counts.
    pub regions: Vec<RegionSummary>,
    /// Entries set aside as broken.
    pub problems: Vec<String>,
    /// The last refresh failure or refused update, if any.
    pub last_error: Option<String>,
}

/// A region in [`TrustStatus`].
#[derive(Debug, Clone, Serialize)]
pub struct RegionSummary {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Active or suspended.
    pub status: String,
    /// Usable licence signers.
    pub signers: usize,
}

/// The trust store.
pub struct TrustStore {
    source: TrustSource,
    pinned: Vec<Certificate>,
    fetcher: Arc<dyn Fetcher>,
    cache: Option<DiskCache>,
    current: RwLock<Arc<Loaded>>,
    last_error: Mutex<Option<String>>,
}

impl std::fmt::Debug for TrustStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustStore")
            .field("source", &self.source)
            .finish()
    }
}

fn read_source(
    source: &TrustSource,
    fetcher: &dyn Fetcher,
    etag: Option<&str>,
) -> Result<Fetched, String> {
    match source {
        TrustSource::File(path) => {
            use std::io::Read;
            let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut text = String::new();
            file.take(crate::fetch::MAX_FETCH_BYTES)
                .read_to_string(&mut text)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(Fetched::Body { text, etag: None })
        }
        TrustSource::Url(url) => fetcher.fetch(url, etag).map_err(|e| e.to_string()),
    }
}

impl TrustStore {
    /// Loads the list from `source`, falling back to the cached last-good copy; refuses a
    /// source list older than the last one accepted.
    pub fn open(
        source: TrustSource,
        pinned: Vec<Certificate>,
        fetcher: Arc<dyn Fetcher>,
        cache_dir: Option<PathBuf>,
        now: UnixTime,
    ) -> Result<TrustStore, TrustStoreError> {
        if pinned.is_empty() {
            return Err(TrustStoreError::NothingPinned);
        }
        let cache = match cache_dir {
            Some(dir) => Some(DiskCache::new(&dir).map_err(|e| {
                TrustStoreError::Unavailable(format!("cache {}: {e}", dir.display()))
            })?),
            None => None,
        };
        let accepted: Option<AcceptedState> = cache
            .as_ref()
            .and_then(|c| c.read(CACHED_STATE))
            .and_then(|text| serde_json::from_str(&text).ok());
        let pivots: Vec<String> = cache
            .as_ref()
            .and_then(|c| c.read(CACHED_PIVOTS))
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default();
        let cached = cache
            .as_ref()
            .and_then(|c| c.read(CACHED_LIST))
            .and_then(|token| {
                let operators = retrace(&pinned, &pivots)?;
                let trust = TrustList::verify(&token, &operators).ok()?;
                Some(Loaded {
                    trust,
                    token,
                    etag: None,
                    accepted_at: now,
                    from_cache: true,
                    pivots: pivots.clone(),
                })
            });
        // The source may already be signed by a successor the cached list announced.
        let source_operators = cached
            .as_ref()
            .map_or_else(|| pinned.clone(), |c| operators_after(&pinned, &c.trust));

        // The rollback floor is the newer of the recorded state and the cached list itself, so
        // losing the state file cannot reopen the door to an older list.
        let accepted = match (accepted, &cached) {
            (Some(state), Some(list)) if list.trust.seq() > state.seq => Some(AcceptedState {
                seq: list.trust.seq(),
                digest: hex::encode(list.trust.digest()),
            }),
            (None, Some(list)) => Some(AcceptedState {
                seq: list.trust.seq(),
                digest: hex::encode(list.trust.digest()),
            }),
            (state, _) => state,
        };

        let mut error = None;
        let fresh = match read_source(&source, fetcher.as_ref(), None) {
            Ok(Fetched::Body { text, etag }) => match TrustList::verify(&text, &source_operators) {
                Ok(trust) => {
                    let rollback = accepted.as_ref().and_then(|state| {
                        let digest = hex::decode(&state.digest).ok()?;
                        let digest: [u8; 32] = digest.try_into().ok()?;
                        trust.check_supersedes(state.seq, &digest).err()
                    });
                    match rollback {
                        Some(e) => {
                            error = Some(format!("source list refused: {e}"));
                            None
                        }
                        None => Some(Loaded {
                            pivots: match &cached {
                                Some(cached) => pivots_for(trust.operator(), &pinned, cached),
                                None => Vec::new(),
                            },
                            trust,
                            token: text.trim().to_owned(),
                            etag,
                            accepted_at: now,
                            from_cache: false,
                        }),
                    }
                }
                Err(e) => {
                    error = Some(format!("source list refused: {e}"));
                    None
                }
            },
            Ok(Fetched::NotModified) => None,
            Err(e) => {
                error = Some(e);
                None
            }
        };
        let loaded = match (fresh, cached) {
            (Some(fresh), _) => fresh,
            (None, Some(cached)) => cached,
            (None, None) => {
                return Err(TrustStoreError::Unavailable(
                    error.unwrap_or_else(|| "no list".into()),
                ));
            }
        };
        let store = TrustStore {
            source,
            pinned,
            fetcher,
            cache,
            current: RwLock::new(Arc::new(loaded)),
            last_error: Mutex::new(error),
        };
        store.persist();
        Ok(store)
    }

    /// The current list (cheap: an `Arc` clone).
    pub fn current(&self) -> Arc<Loaded> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-reads the source. A newer valid list replaces the current one; anything else
    /// (unreachable, invalid, older, same `seq` with other content) leaves it in place and is
    /// recorded as the last error. Returns whether the list changed.
    pub fn refresh(&self, now: UnixTime) -> Result<bool, TrustStoreError> {
        let current = self.current();
        let result = self.try_refresh(&current, now);
        if let Ok(slot) = self.last_error.lock().as_mut() {
            **slot = result.as_ref().err().map(ToString::to_string);
        }
        result
    }

    fn try_refresh(&self, current: &Loaded, now: UnixTime) -> Result<bool, TrustStoreError> {
        let (text, etag) =
            match read_source(&self.source, self.fetcher.as_ref(), current.etag.as_deref()) {
                Ok(Fetched::NotModified) => return Ok(false),
                Ok(Fetched::Body { text, etag }) => (text, etag),
                Err(e) => return Err(TrustStoreError::Unavailable(e)),
            };
        // The current operator, or a successor it announced (pivot), may sign the next one.
        let operators = operators_after(&self.pinned, &current.trust);
        let trust = TrustList::verify(&text, &operators)
            .map_err(|e| TrustStoreError::Refused(e.to_string()))?;
        if trust.digest() == current.trust.digest() {
            return Ok(false);
        }
        trust
            .check_supersedes(current.trust.seq(), &current.trust.digest())
            .map_err(|e| TrustStoreError::Refused(e.to_string()))?;
        let loaded = Arc::new(Loaded {
            pivots: pivots_for(trust.operator(), &self.pinned, current),
            trust,
            token: text.trim().to_owned(),
            etag,
            accepted_at: now,
            from_cache: false,
        });
        match self.current.write() {
            Ok(mut guard) => *guard = loaded,
            Err(poisoned) => *poisoned.into_inner() = loaded,
        }
        self.persist();
        Ok(true)
    }

    /// Writes the current list and its `seq`/digest to the cache directory.
    fn persist(&self) {
        let Some(cache) = &self.cache else { return };
        let current = self.current();
        let state = AcceptedState {
            seq: current.trust.seq(),
            digest: hex::encode(current.trust.digest()),
        };
        // The path first: after a pivot, the longer path still leads to the list cached before
        // it, so a crash between the two writes loses nothing. (Every list on disk is verified
        // again on load: a path that does not lead to the cached list only costs the cache.)
        if let Ok(json) = serde_json::to_vec(&current.pivots) {
            let _ = cache.write(CACHED_PIVOTS, &json);
        }
        let _ = cache.write(CACHED_LIST, current.token.as_bytes());
        if let Ok(json) = serde_json::to_vec(&state) {
            let _ = cache.write(CACHED_STATE, &json);
        }
    }

    /// The summary `/v1/trust` serves.
    pub fn status(&self, now: UnixTime, grace_seconds: i64) -> TrustStatus {
        let current = self.current();
        let trust = &current.trust;
        TrustStatus {
            seq: trust.seq(),
            iat: trust.iat().to_rfc3339_china(),
            next_update: trust.next_update().to_rfc3339_china(),
            stale: trust.is_stale(now, grace_seconds),
            from_cache: current.from_cache,
            regions: trust
                .regions()
                .iter()
                .enumerate()
                .map(|(i, r)| RegionSummary {
                    code: r.code.to_string(),
                    name: r.name.clone(),
                    status: format!("{:?}", r.status).to_lowercase(),
                    signers: trust.signers().filter(|s| s.region_index == i).count(),
                })
                .collect(),
            problems: trust
                .problems()
                .iter()
                .map(|p| format!("{} {}: {}", p.region, p.entry, p.problem))
                .collect(),
            last_error: self.last_error.lock().ok().and_then(|e| e.clone()),
        }
    }
}
