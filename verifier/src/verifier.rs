//! The verifier an embedding system calls: trust store + status-list cache + the pure
//! verification of `huren-crypto`.
//!
//! `verify` never waits on the network for anything it already holds. The first time a
//! licence names a status list the verifier fetches it once (bounded by the fetcher's
//! timeout); if that fails, the answer is `indeterminate` (`status_unknown`), never `valid`
//! and never an error. `verify_fresh` refetches the licence's status list before answering.
//!
//! Seals (`verify_seal`, in [`crate::seal`]) use the same trust store and status cache, and a
//! [`CrlCache`] for their signers' certificates.

use std::path::PathBuf;
use std::sync::Arc;

use huren_crypto::cert::Certificate;
use huren_crypto::time::UnixTime;
use huren_crypto::verify::{verify_licence, Outcome, Report, VerifyOptions};

use crate::crl_cache::CrlCache;
use crate::disk::DiskCache;
use crate::fetch::Fetcher;
use crate::status_cache::StatusCache;
use crate::trust_store::{TrustSource, TrustStore, TrustStoreError};

/// How to build a [`Verifier`].
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// Trust list file or URL.
    pub trust_source: TrustSource,
    /// Pinned operator certificates.
    pub operator_certs: Vec<Certificate>,
    /// Where last-good copies are kept (recommended: restarts then work offline).
    pub cache_dir: Option<PathBuf>,
    /// Whether status lists may be fetched (false: only cached ones are used).
    pub online: bool,
    /// Skew and grace.
    pub options: VerifyOptions,
}

/// What [`Verifier::verify_held`] found.
#[derive(Debug)]
pub enum Held {
    /// The answer; fetching would not change it.
    Answer(Report),
    /// The answer without the status list at `uri`, which should be fetched.
    NeedsFetch {
        /// The report as things stand.
        held: Report,
        /// The status list to fetch.
        uri: String,
    },
}

/// Verifies licences against a trust store and cached status lists.
pub struct Verifier {
    pub(crate) trust: TrustStore,
    pub(crate) status: StatusCache,
    pub(crate) crls: CrlCache,
    pub(crate) options: VerifyOptions,
    pub(crate) online: bool,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("trust", &self.trust)
            .field("online", &self.online)
            .finish()
    }
}

impl Verifier {
    /// Opens the trust store (source, else cache) and the status cache, with the default
    /// HTTP fetcher (feature `fetch`; without it, use [`Verifier::open_with`]).
    #[cfg(feature = "fetch")]
    pub fn open(config: VerifierConfig, now: UnixTime) -> Result<Verifier, TrustStoreError> {
        Verifier::open_with(config, Arc::new(crate::fetch::HttpFetcher::default()), now)
    }

    /// As `Verifier::open` (feature `fetch`), with the fetcher given: how an embedder brings
    /// its own transport.
    pub fn open_with(
        config: VerifierConfig,
        fetcher: Arc<dyn Fetcher>,
        now: UnixTime,
    ) -> Result<Verifier, TrustStoreError> {
        let trust = TrustStore::open(
            config.trust_source,
            config.operator_certs,
            fetcher.clone(),
            config.cache_dir.clone(),
            now,
        )?;
        let disk = config
            .cache_dir
            .as_deref()
            .and_then(|d| DiskCache::new(d).ok());
        let status = StatusCache::new(fetcher.clone(), disk.clone(), &trust.current().trust, now);
        let crls = CrlCache::new(fetcher, disk, &trust.current().trust, now);
        Ok(Verifier {
            trust,
            status,
            crls,
            options: config.options,
            online: config.online,
        })
    }

    /// The trust store.
    pub fn trust_store(&self) -> &TrustStore {
        &self.trust
    }

    /// The status cache.
    pub fn status_cache(&self) -> &StatusCache {
        &self.status
    }

    /// The CRL cache (seal signers' certificates).
    pub fn crl_cache(&self) -> &CrlCache {
        &self.crls
    }

    /// The verification options.
    pub fn options(&self) -> &VerifyOptions {
        &self.options
    }

    /// Verifies scanned or pasted input (`HR1:` text or a bare JWS) at `at`.
    pub fn verify(&self, input: &str, at: UnixTime) -> Report {
        self.verify_inner(input, at, false)
    }

    /// Like [`Verifier::verify`], but refetches the licence's status list first (online mode).
    pub fn verify_fresh(&self, input: &str, at: UnixTime) -> Report {
        self.verify_inner(input, at, true)
    }

    /// Verifies with what is held, never touching the network. Returns the report, or the
    /// report and the status-list URI to fetch when a fetch would change the answer (online,
    /// and the list is missing or stale, or `fresh` was asked for). Lets a server answer most
    /// requests without handing them to a blocking thread.
    pub fn verify_held(&self, input: &str, at: UnixTime, fresh: bool) -> Held {
        let loaded = self.trust.current();
        let report = verify_licence(input, &loaded.trust, &self.status, at, &self.options);
        if !self.online {
            return Held::Answer(report);
        }
        // Only a URI the checks accepted (inside the region's prefix) is ever listed here.
        let Some(uri) = report.status_lists.first().map(|s| s.uri.clone()) else {
            return Held::Answer(report);
        };
        // Lazily, once: the list is missing or stale and no fetch failed just now.
        let should_fetch = fresh
            || (report.reasons.contains(&Outcome::StatusUnknown) && self.status.may_try(&uri, at));
        if should_fetch {
            Held::NeedsFetch { held: report, uri }
        } else {
            Held::Answer(report)
        }
    }

    /// Fetches `uri` and verifies again; on a failed fetch, `held` (the answer without it)
    /// stands. May block on the network for the fetcher's timeout.
    pub fn verify_after_fetch(&self, input: &str, at: UnixTime, held: Report, uri: &str) -> Report {
        let loaded = self.trust.current();
        match self.status.fetch(uri, &loaded.trust, at) {
            Ok(_) => verify_licence(input, &loaded.trust, &self.status, at, &self.options),
            Err(_) => held,
        }
    }

    fn verify_inner(&self, input: &str, at: UnixTime, fresh: bool) -> Report {
        match self.verify_held(input, at, fresh) {
            Held::Answer(report) => report,
            Held::NeedsFetch { held, uri } => self.verify_after_fetch(input, at, held, &uri),
        }
    }

    /// Background work: re-reads the trust list and refreshes due status lists and CRLs.
    /// Returns whether the trust list changed.
    pub fn refresh(&self, now: UnixTime) -> bool {
        let changed = self.trust.refresh(now).unwrap_or(false);
        if changed {
            // Status lists were verified against the old list's roots; a signer dropped from the
            // new list must not keep counting. They are fetched again on next use.
            self.status.clear();
            self.crls.clear();
        }
        if self.online {
            let current = self.trust.current();
            self.status.refresh_due(&current.trust, now);
            self.crls.refresh_due(&current.trust, now);
        }
        changed
    }
}
