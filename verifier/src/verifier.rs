//! The verifier an embedding system calls: trust store + status-list cache + the pure
//! verification of `huren-crypto`.
//!
//! `verify` never waits on the network for anything it already holds. The first time a
//! licence names a status list the verifier fetches it once (bounded by the fetcher's
//! timeout); if that fails, the answer is `indeterminate` (`status_unknown`), never `valid`
//! and never an error. `verify_fresh` refetches the licence's status list before answering.
//!
//! A token of a region whose log the trust list names is looked up in that log the same way
//! ([`LogCache`]): once, lazily, from the region's issuer only; offline, never. How the answer
//! counts is [`VerifyOptions::log_check`]: `require` asks at once (offline: `log_unavailable`
//! once the merge delay has passed), `warn` (the default) asks once the merge delay has passed
//! and turns what it hears into warnings, `off` never asks.
//!
//! Seals (`verify_seal`, in [`crate::seal`]) use the same trust store and status cache, and a
//! [`CrlCache`] for their signers' certificates.

use std::path::PathBuf;
use std::sync::Arc;

use huren_crypto::cert::Certificate;
use huren_crypto::ids::Uscc;
use huren_crypto::time::UnixTime;
use huren_crypto::verify::{verify_licence_with, LogCheck, LogUse, Outcome, Report, VerifyOptions};

use crate::crl_cache::CrlCache;
use crate::disk::DiskCache;
use crate::fetch::Fetcher;
use crate::log_cache::LogCache;
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
    /// Whether status lists and log proofs may be fetched (false: only cached ones are used).
    pub online: bool,
    /// Skew, grace, and whether inclusion in the regions' logs is required
    /// ([`VerifyOptions::log_check`], [`VerifyOptions::log_merge_delay_seconds`]).
    pub options: VerifyOptions,
    /// The using unit (用证单位) this verifier serves, by its 统一社会信用代码: an annotated
    /// copy (SPEC §11) made for another unit is then `wrong_audience`. `None`: a copy naming a
    /// unit is `valid` with the warning `audience_not_checked` — an embedder that accepts
    /// copies should set it (a bank: its own code).
    pub unit: Option<Uscc>,
}

/// What [`Verifier::verify_held`] found.
#[derive(Debug)]
pub enum Held {
    /// The answer; fetching would not change it.
    Answer(Report),
    /// The answer without the status lists at `uris` or the log's answer on `log`, which
    /// should be fetched (a copy names two entries, which may sit in two lists).
    NeedsFetch {
        /// The report as things stand.
        held: Report,
        /// The status lists to fetch.
        uris: Vec<String>,
        /// The token to ask its region's log about.
        log: Option<LogUse>,
    },
}

/// Verifies licences against a trust store and cached status lists.
pub struct Verifier {
    pub(crate) trust: TrustStore,
    pub(crate) status: StatusCache,
    pub(crate) crls: CrlCache,
    pub(crate) log: LogCache,
    pub(crate) options: VerifyOptions,
    pub(crate) online: bool,
    unit: Option<Uscc>,
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
        let crls = CrlCache::new(fetcher.clone(), disk.clone(), &trust.current().trust, now);
        Ok(Verifier {
            trust,
            status,
            crls,
            log: LogCache::new(fetcher, disk),
            options: config.options,
            online: config.online,
            unit: config.unit,
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

    /// The transparency-log answers held.
    pub fn log_cache(&self) -> &LogCache {
        &self.log
    }

    /// The verification options.
    pub fn options(&self) -> &VerifyOptions {
        &self.options
    }

    /// Verifies scanned or pasted input (`HR1:` text or a bare JWS) at `at`: a licence, or an
    /// annotated copy for the configured unit ([`VerifierConfig::unit`]; without one, a copy
    /// naming a unit is valid with the warning `audience_not_checked`).
    pub fn verify(&self, input: &str, at: UnixTime) -> Report {
        self.verify_inner(input, at, false, self.unit.as_ref())
    }

    /// Like [`Verifier::verify`], for the using unit `unit` (用证单位): a copy made for
    /// another unit is `wrong_audience` (SPEC §11).
    pub fn verify_for(&self, input: &str, at: UnixTime, unit: Option<&Uscc>) -> Report {
        self.verify_inner(input, at, false, unit)
    }

    /// Like [`Verifier::verify_for`], but refetches the token's status lists first (online
    /// mode).
    pub fn verify_fresh(&self, input: &str, at: UnixTime, unit: Option<&Uscc>) -> Report {
        self.verify_inner(input, at, true, unit)
    }

    /// Verifies with what is held, never touching the network. Returns the report, or the
    /// report and the status-list URIs and log lookup to fetch when a fetch would change the
    /// answer (online, and a list is missing or stale, or `fresh` was asked for; or the
    /// token's inclusion is not shown and the log may be asked again). Lets a server answer
    /// most requests without handing them to a blocking thread.
    pub fn verify_held(&self, input: &str, at: UnixTime, fresh: bool, unit: Option<&Uscc>) -> Held {
        let loaded = self.trust.current();
        let report = verify_licence_with(
            input,
            &loaded.trust,
            &self.status,
            &self.log,
            at,
            &self.options,
            unit,
        );
        if !self.online {
            return Held::Answer(report);
        }
        // Only URIs the checks accepted (inside the region's prefix) are ever listed here.
        let mut uris: Vec<String> = Vec::with_capacity(report.status_lists.len());
        for used in &report.status_lists {
            // Lazily, once: the list is missing or stale and no fetch failed just now.
            let wanted = fresh
                || (report.reasons.contains(&Outcome::StatusUnknown)
                    && self.status.may_try(&used.uri, at));
            if wanted && !uris.contains(&used.uri) {
                uris.push(used.uri.clone());
            }
        }
        // The log is not asked about a token already refused for another reason: no answer
        // of it could make that token valid.
        let refused = report
            .reasons
            .iter()
            .any(|r| !r.is_indeterminate() && *r != Outcome::NotLogged);
        // One that only warns asks once the merge delay has passed: before, no answer could
        // say more than "pending", which is not worth a round trip per new token.
        let log = report
            .log
            .as_ref()
            .filter(|used| {
                let due = match self.options.log_check {
                    LogCheck::Require => true,
                    LogCheck::Warn => at >= used.settled_at,
                    LogCheck::Off => false,
                };
                due && !refused && self.log.may_try(used, at)
            })
            .cloned();
        if uris.is_empty() && log.is_none() {
            Held::Answer(report)
        } else {
            Held::NeedsFetch {
                held: report,
                uris,
                log,
            }
        }
    }

    /// Fetches `uris` and asks the log about `log`, and verifies again; if nothing was
    /// fetched, `held` (the answer without them) stands. May block on the network for the
    /// fetcher's timeout, once per list and once for the log.
    pub fn verify_after_fetch(
        &self,
        input: &str,
        at: UnixTime,
        held: Report,
        uris: &[String],
        log: Option<&LogUse>,
        unit: Option<&Uscc>,
    ) -> Report {
        let loaded = self.trust.current();
        let fetched = uris
            .iter()
            .filter(|uri| self.status.fetch(uri, &loaded.trust, at).is_ok())
            .count();
        // Every answer of the log is news (even "unreachable" is held, so it is not asked
        // again at once).
        let asked = log.map(|used| self.log.fetch(used, &loaded.trust, at));
        if fetched == 0 && asked.is_none() {
            return held;
        }
        verify_licence_with(
            input,
            &loaded.trust,
            &self.status,
            &self.log,
            at,
            &self.options,
            unit,
        )
    }

    fn verify_inner(&self, input: &str, at: UnixTime, fresh: bool, unit: Option<&Uscc>) -> Report {
        match self.verify_held(input, at, fresh, unit) {
            Held::Answer(report) => report,
            Held::NeedsFetch { held, uris, log } => {
                self.verify_after_fetch(input, at, held, &uris, log.as_ref(), unit)
            }
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
            self.log.clear();
        }
        if self.online {
            let current = self.trust.current();
            self.status.refresh_due(&current.trust, now);
            self.crls.refresh_due(&current.trust, now);
        }
        changed
    }
}
