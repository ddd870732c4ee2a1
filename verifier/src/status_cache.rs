//! Status lists as a verifier keeps them: fetched lazily the first time a licence names one,
//! refreshed when their `ttl` has passed (conditional GET), verified against the trust list on
//! every fetch, kept on disk for offline restarts, and never replaced by a failed fetch.
//!
//! A verifier only ever fetches URIs inside a region's `status_uri_prefix` (the verification
//! report lists a status list only after that check), so a token cannot make it fetch anything
//! else.
//!
//! A list signed before the newest one ever accepted for its URI is refused ([`HighWater`]),
//! across trust-list changes (which empty the cache: its signers may be gone) and restarts.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use huren_crypto::status_token::VerifiedStatusList;
use huren_crypto::time::UnixTime;
use huren_crypto::trust_list::TrustList;
use huren_crypto::verify::StatusSource;
use serde::Serialize;

use crate::disk::DiskCache;
use crate::fetch::{Fetched, Fetcher};
use crate::high_water::HighWater;

/// Where the newest accepted `iat` per URI is kept in the cache directory.
const HIGH_WATER_FILE: &str = "status-high-water.json";

/// After a failed fetch, the same URI is not tried again on the request path for this long.
const RETRY_AFTER_FAILURE_SECONDS: i64 = 30;
/// Most status lists held (34 provinces with a handful of lists each fit easily).
const MAX_LISTS: usize = 4096;

#[derive(Debug, Clone)]
struct Entry {
    list: Arc<VerifiedStatusList>,
    etag: Option<String>,
    fetched_at: UnixTime,
}

/// A cached list as `/v1/trust` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CachedList {
    /// Its URI.
    pub uri: String,
    /// When it was signed.
    pub iat: String,
    /// When it expires.
    pub exp: String,
    /// Seconds since it was fetched.
    pub age_seconds: i64,
}

/// The status-list cache.
pub struct StatusCache {
    fetcher: Arc<dyn Fetcher>,
    disk: Option<DiskCache>,
    entries: RwLock<HashMap<String, Entry>>,
    failures: RwLock<HashMap<String, UnixTime>>,
    newest: HighWater,
}

impl std::fmt::Debug for StatusCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusCache").finish_non_exhaustive()
    }
}

impl StatusCache {
    /// An empty cache; with `disk`, lists cached by an earlier run are loaded (and verified).
    pub fn new(
        fetcher: Arc<dyn Fetcher>,
        disk: Option<DiskCache>,
        trust: &TrustList,
        now: UnixTime,
    ) -> StatusCache {
        let cache = StatusCache {
            fetcher,
            newest: HighWater::load(disk.clone(), HIGH_WATER_FILE),
            disk,
            entries: RwLock::new(HashMap::new()),
            failures: RwLock::new(HashMap::new()),
        };
        if let Some(disk) = &cache.disk {
            for token in disk.status_files() {
                if let Ok(list) = VerifiedStatusList::verify_standalone(&token, trust) {
                    // An unknown fetch time: treat it as due for refresh at once.
                    cache.insert(list, None, now.minus(i64::MAX / 4));
                }
            }
        }
        cache
    }

    /// Holds `list` unless the cache is full or it is older than the newest list ever accepted
    /// for its URI; returns whether it was taken.
    fn insert(&self, list: VerifiedStatusList, etag: Option<String>, fetched_at: UnixTime) -> bool {
        let uri = list.uri().to_owned();
        let Ok(mut entries) = self.entries.write() else {
            return false;
        };
        if entries.len() >= MAX_LISTS && !entries.contains_key(&uri) {
            return false;
        }
        if !self.newest.admit(&uri, list.iat()) {
            return false;
        }
        entries.insert(
            uri,
            Entry {
                list: Arc::new(list),
                etag,
                fetched_at,
            },
        );
        true
    }

    /// Forgets every held list (after the trust list changed: their signers may be gone). The
    /// newest `iat` seen per URI is kept.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }

    /// The held list for `uri`.
    pub fn get(&self, uri: &str) -> Option<Arc<VerifiedStatusList>> {
        self.entries.read().ok()?.get(uri).map(|e| e.list.clone())
    }

    /// Whether a fetch of `uri` on the request path should be attempted now.
    pub fn may_try(&self, uri: &str, now: UnixTime) -> bool {
        self.failures
            .read()
            .map(|f| {
                f.get(uri)
                    .is_none_or(|at| now.seconds() - at.seconds() >= RETRY_AFTER_FAILURE_SECONDS)
            })
            .unwrap_or(true)
    }

    /// Fetches (conditionally) and verifies `uri`; on success the new list is held and cached
    /// on disk. On failure the held list, if any, stays.
    pub fn fetch(
        &self,
        uri: &str,
        trust: &TrustList,
        now: UnixTime,
    ) -> Result<Arc<VerifiedStatusList>, String> {
        let etag = self
            .entries
            .read()
            .ok()
            .and_then(|e| e.get(uri).and_then(|entry| entry.etag.clone()));
        let result = match self.fetcher.fetch(uri, etag.as_deref()) {
            Ok(Fetched::NotModified) => {
                if let Ok(mut entries) = self.entries.write() {
                    if let Some(entry) = entries.get_mut(uri) {
                        entry.fetched_at = now;
                    }
                }
                self.get(uri)
                    .ok_or_else(|| "304 for a list not held".to_owned())
            }
            Ok(Fetched::Body { text, etag }) => match VerifiedStatusList::verify(&text, uri, trust)
            {
                Ok(list) => {
                    let iat = list.iat();
                    // Only a list actually taken goes to disk: an older copy (a stale proxy)
                    // must not replace the newer one there, where a restart would load it.
                    if self.insert(list, etag, now) {
                        if let Some(disk) = &self.disk {
                            let _ = disk.write(&DiskCache::status_file(uri), text.as_bytes());
                        }
                        self.get(uri).ok_or_else(|| "list not held".to_owned())
                    } else {
                        Err(match self.newest.mark(uri) {
                            Some(mark) if mark > iat => format!(
                                "the list served was signed {iat}, before the newest accepted ({mark})"
                            ),
                            _ => "status-list cache full".to_owned(),
                        })
                    }
                }
                Err(e) => Err(e.to_string()),
            },
            Err(e) => Err(e.to_string()),
        };
        if let Ok(mut failures) = self.failures.write() {
            match &result {
                Ok(_) => {
                    failures.remove(uri);
                }
                Err(_) => {
                    failures.insert(uri.to_owned(), now);
                }
            }
        }
        result
    }

    /// URIs whose `ttl` has passed, for the background refresher.
    pub fn due(&self, now: UnixTime) -> Vec<String> {
        self.entries
            .read()
            .map(|entries| {
                entries
                    .iter()
                    .filter(|(_, e)| {
                        now.seconds().saturating_sub(e.fetched_at.seconds())
                            >= i64::try_from(e.list.ttl()).unwrap_or(i64::MAX)
                    })
                    .map(|(uri, _)| uri.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Refreshes every due list; returns how many failed.
    pub fn refresh_due(&self, trust: &TrustList, now: UnixTime) -> usize {
        self.due(now)
            .iter()
            .filter(|uri| self.fetch(uri, trust, now).is_err())
            .count()
    }

    /// What is held, for `/v1/trust`.
    pub fn summary(&self, now: UnixTime) -> Vec<CachedList> {
        let mut lists: Vec<CachedList> = self
            .entries
            .read()
            .map(|entries| {
                entries
                    .iter()
                    .map(|(uri, e)| CachedList {
                        uri: uri.clone(),
                        iat: e.list.iat().to_rfc3339_china(),
                        exp: e.list.exp().to_rfc3339_china(),
                        age_seconds: now.seconds().saturating_sub(e.fetched_at.seconds()).max(0),
                    })
                    .collect()
            })
            .unwrap_or_default();
        lists.sort_by(|a, b| a.uri.cmp(&b.uri));
        lists
    }
}

impl StatusSource for StatusCache {
    fn status_list(&self, uri: &str) -> Option<Arc<VerifiedStatusList>> {
        self.get(uri)
    }
}
