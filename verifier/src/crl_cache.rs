//! The provinces' certificate revocation lists as a verifier keeps them, for the seal check
//! "signer certificate not revoked before signing" (SPEC §8).
//!
//! - A CRL is only ever fetched from `{issuer_uri}/v1/crl` of a region in the verified trust
//!   list ([`CRL_PATH`]), never from a URL a seal or certificate names, so a hostile file cannot
//!   make the verifier fetch anything else.
//! - Every CRL fetched or read back from disk is verified against a root of its region
//!   (signature over the exact bytes, v2, complete, issuer name); one that fails is not used,
//!   is logged (target `huren::crl`) and is shown as the last error on `/v1/trust`.
//! - A CRL is fetched lazily the first time a seal signer needs it, and again once past its
//!   `nextUpdate` (conditional GET). Until a newer one verifies, the one held stays in use: a
//!   CRL past `nextUpdate` still proves every revocation it lists, but the seal check treats
//!   it as out of date for anything else (`signer_revocation_unknown`, indeterminate).
//! - An older CRL never replaces a newer one (a stale proxy cannot un-revoke a certificate), and
//!   none older than the newest ever accepted from its source is taken, across trust-list
//!   changes and restarts ([`HighWater`]).
//! - Its signer is a root named by the trust list in force, valid at the CRL's `thisUpdate`.
//! - With a disk cache, the last good CRLs survive restarts without network.
//!
//! A missing or out-of-date CRL fails closed: the seal report is then `indeterminate` with
//! `signer_revocation_unknown`, never `valid`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use huren_crypto::cert::Certificate;
use huren_crypto::crl::{VerifiedCrl, MAX_CRL_BYTES};
use huren_crypto::seal::SealCertificate;
use huren_crypto::time::UnixTime;
use huren_crypto::trust_list::{TrustList, TrustedRegion};
use serde::Serialize;

use crate::disk::DiskCache;
use crate::fetch::{FetchedBytes, Fetcher};
use crate::high_water::HighWater;

/// Where the newest accepted `thisUpdate` per CRL source is kept in the cache directory.
const HIGH_WATER_FILE: &str = "crl-high-water.json";

/// Where below a region's `issuer_uri` its issuer serves the root's CRL (DER,
/// `application/pkix-crl`).
pub const CRL_PATH: &str = "/v1/crl";
/// After a failed fetch, the same URL is not tried again on the request path for this long.
const RETRY_AFTER_FAILURE_SECONDS: i64 = 30;
/// How long a CRL without `nextUpdate` is used before it is fetched again.
const RECHECK_WITHOUT_NEXT_UPDATE_SECONDS: i64 = 3600;

/// Where the CRL that covers a signer certificate comes from: the trust-list root that
/// issued the certificate, and that root's region's CRL URL.
#[derive(Debug, Clone)]
pub struct CrlSource<'t> {
    /// `{issuer_uri}/v1/crl`.
    pub url: String,
    /// The region.
    pub region: &'t TrustedRegion,
    /// The root that issued the signer certificate.
    pub root: &'t Certificate,
}

impl<'t> CrlSource<'t> {
    /// The CRL source for `signer`: a root in `trust` whose subject is the certificate's
    /// issuer (and, when the certificate is strict DER, whose key signed it), in a region
    /// that names an `issuer_uri`. `None` when no trusted root issued it.
    pub fn for_signer(trust: &'t TrustList, signer: &SealCertificate) -> Option<CrlSource<'t>> {
        let strict = signer.strict();
        trust.regions().iter().find_map(|region| {
            let url = crl_url(region)?;
            let root = region.roots.iter().find(|root| {
                root.subject_name_der() == signer.issuer_der()
                    && strict
                        .as_ref()
                        .is_none_or(|cert| cert.check_issued_by(root).is_ok())
            })?;
            Some(CrlSource { url, region, root })
        })
    }
}

/// `{issuer_uri}/v1/crl` for `region`, if it names an issuer.
pub fn crl_url(region: &TrustedRegion) -> Option<String> {
    let base = region.issuer_uri.as_deref()?.trim_end_matches('/');
    (base.starts_with("http://") || base.starts_with("https://"))
        .then(|| format!("{base}{CRL_PATH}"))
}

/// Verifies `der` against the roots of `region` (the trust list's own copies: a CRL signer is
/// a root the trust list in force names), which must have been valid when it was issued; the
/// verified list and the root that signed it.
fn verify_for_region(
    der: &[u8],
    region: &TrustedRegion,
) -> Result<(VerifiedCrl, [u8; 32]), String> {
    let mut last = format!("no root of {} to verify it against", region.code);
    for root in &region.roots {
        match VerifiedCrl::verify(der, root) {
            Ok(crl) => {
                return match root.check_valid_at(crl.this_update()) {
                    Ok(()) => Ok((crl, root.x5t_s256())),
                    Err(e) => Err(format!(
                        "CRL of {} issued {} outside its signer's validity: {e}",
                        region.code,
                        crl.this_update()
                    )),
                };
            }
            Err(e) => last = format!("not a CRL of {} ({}): {e}", region.code, root.subject()),
        }
    }
    Err(last)
}

/// The high-water key of a CRL source: its URL and the root that signs it.
fn high_water_key(url: &str, root: &[u8; 32]) -> String {
    format!("{url} {}", hex::encode(root))
}

#[derive(Debug, Clone)]
struct Entry {
    crl: Arc<VerifiedCrl>,
    /// `x5t#S256` of the root it verified against.
    root: [u8; 32],
    region: String,
    etag: Option<String>,
    fetched_at: UnixTime,
}

impl Entry {
    fn is_due(&self, now: UnixTime) -> bool {
        match self.crl.next_update() {
            Some(next) => now > next,
            None => {
                now.seconds().saturating_sub(self.fetched_at.seconds())
                    >= RECHECK_WITHOUT_NEXT_UPDATE_SECONDS
            }
        }
    }
}

/// A held CRL as `/v1/trust` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CachedCrl {
    /// Where it came from.
    pub url: String,
    /// Its region.
    pub region: String,
    /// Its issuer (the root's subject).
    pub issuer: String,
    /// `thisUpdate`.
    pub this_update: String,
    /// `nextUpdate`, if given.
    pub next_update: Option<String>,
    /// Revoked serials listed.
    pub entries: usize,
    /// Seconds since it was fetched.
    pub age_seconds: i64,
}

/// A CRL fetch that failed or a CRL that was refused, as `/v1/trust` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CrlProblem {
    /// The URL.
    pub url: String,
    /// What went wrong.
    pub error: String,
}

/// The CRL cache.
pub struct CrlCache {
    fetcher: Arc<dyn Fetcher>,
    disk: Option<DiskCache>,
    entries: RwLock<HashMap<String, Entry>>,
    failures: RwLock<HashMap<String, (UnixTime, String)>>,
    newest: HighWater,
}

impl std::fmt::Debug for CrlCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrlCache").finish_non_exhaustive()
    }
}

impl CrlCache {
    /// An empty cache; with `disk`, the CRLs an earlier run kept for the regions of `trust`
    /// are loaded (and verified again).
    pub fn new(
        fetcher: Arc<dyn Fetcher>,
        disk: Option<DiskCache>,
        trust: &TrustList,
        now: UnixTime,
    ) -> CrlCache {
        let cache = CrlCache {
            fetcher,
            newest: HighWater::load(disk.clone(), HIGH_WATER_FILE),
            disk,
            entries: RwLock::new(HashMap::new()),
            failures: RwLock::new(HashMap::new()),
        };
        cache.load_from_disk(trust, now);
        cache
    }

    fn load_from_disk(&self, trust: &TrustList, now: UnixTime) {
        let Some(disk) = &self.disk else { return };
        for region in trust.regions() {
            let Some(url) = crl_url(region) else { continue };
            let Some(der) = disk.read_bytes(&DiskCache::crl_file(&url), MAX_CRL_BYTES as u64)
            else {
                continue;
            };
            match verify_for_region(&der, region) {
                // An unknown fetch time: due for a refetch at once when it has no nextUpdate.
                Ok((crl, root)) => {
                    self.insert(&url, region, crl, root, None, now.minus(i64::MAX / 4));
                }
                Err(error) => {
                    tracing::warn!(target: "huren::crl", url = %url, error = %error, "cached CRL refused");
                }
            }
        }
    }

    /// Holds `crl` for `url` unless it is older than the one held; returns whether it was
    /// taken.
    fn insert(
        &self,
        url: &str,
        region: &TrustedRegion,
        crl: VerifiedCrl,
        root: [u8; 32],
        etag: Option<String>,
        fetched_at: UnixTime,
    ) -> bool {
        let Ok(mut entries) = self.entries.write() else {
            return false;
        };
        // Never older than the newest ever accepted from this source, across trust-list changes
        // and restarts (a stale proxy or a replayed copy cannot un-revoke a certificate).
        if !self
            .newest
            .admit(&high_water_key(url, &root), crl.this_update())
        {
            return false;
        }
        entries.insert(
            url.to_owned(),
            Entry {
                crl: Arc::new(crl),
                root,
                region: region.code.to_string(),
                etag,
                fetched_at,
            },
        );
        true
    }

    /// The held CRL of `source`'s root, if any.
    pub fn get(&self, source: &CrlSource<'_>) -> Option<Arc<VerifiedCrl>> {
        let entries = self.entries.read().ok()?;
        let entry = entries.get(&source.url)?;
        (entry.root == source.root.x5t_s256()).then(|| entry.crl.clone())
    }

    /// Whether `source` should be fetched: nothing usable held, or the held list is past its
    /// `nextUpdate`.
    pub fn is_due(&self, source: &CrlSource<'_>, now: UnixTime) -> bool {
        let root = source.root.x5t_s256();
        self.entries
            .read()
            .map(|entries| {
                entries
                    .get(&source.url)
                    .is_none_or(|entry| entry.root != root || entry.is_due(now))
            })
            .unwrap_or(true)
    }

    /// Whether a fetch of `url` on the request path should be attempted now.
    pub fn may_try(&self, url: &str, now: UnixTime) -> bool {
        self.failures
            .read()
            .map(|f| {
                f.get(url).is_none_or(|(at, _)| {
                    now.seconds() - at.seconds() >= RETRY_AFTER_FAILURE_SECONDS
                })
            })
            .unwrap_or(true)
    }

    /// Fetches (conditionally) and verifies the CRL at `url` for `region`; a verified list is
    /// held and written to disk. On failure the held list, if any, stays, and the failure is
    /// logged and remembered.
    pub fn fetch(
        &self,
        url: &str,
        region: &TrustedRegion,
        now: UnixTime,
    ) -> Result<Arc<VerifiedCrl>, String> {
        let result = self.try_fetch(url, region, now);
        if let Ok(mut failures) = self.failures.write() {
            match &result {
                Ok(_) => {
                    failures.remove(url);
                }
                Err(error) => {
                    tracing::warn!(target: "huren::crl", url = %url, error = %error, "CRL not usable");
                    failures.insert(url.to_owned(), (now, error.clone()));
                }
            }
        }
        result
    }

    fn try_fetch(
        &self,
        url: &str,
        region: &TrustedRegion,
        now: UnixTime,
    ) -> Result<Arc<VerifiedCrl>, String> {
        let held = |entries: &HashMap<String, Entry>| entries.get(url).map(|e| e.crl.clone());
        let etag = self
            .entries
            .read()
            .ok()
            .and_then(|e| e.get(url).and_then(|entry| entry.etag.clone()));
        match self
            .fetcher
            .fetch_bytes(url, etag.as_deref(), MAX_CRL_BYTES as u64)
            .map_err(|e| e.to_string())?
        {
            FetchedBytes::NotModified => {
                let mut entries = self.entries.write().map_err(|_| "cache poisoned")?;
                if let Some(entry) = entries.get_mut(url) {
                    entry.fetched_at = now;
                }
                held(&entries).ok_or_else(|| "304 for a CRL not held".to_owned())
            }
            FetchedBytes::Body { bytes, etag } => {
                let (crl, root) = verify_for_region(&bytes, region)?;
                // Only a list actually taken goes to disk: an older copy must not replace the
                // newer one there, where a restart would load it.
                if self.insert(url, region, crl, root, etag, now) {
                    if let Some(disk) = &self.disk {
                        let _ = disk.write(&DiskCache::crl_file(url), &bytes);
                    }
                    let entries = self.entries.read().map_err(|_| "cache poisoned")?;
                    held(&entries).ok_or_else(|| "CRL not held".to_owned())
                } else {
                    Err("the CRL served is older than the one held".to_owned())
                }
            }
        }
    }

    /// Forgets every held CRL (after the trust list changed: its roots may have). The newest
    /// `thisUpdate` seen per source is kept.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }

    /// Refetches every held CRL past its `nextUpdate`; returns how many failed.
    pub fn refresh_due(&self, trust: &TrustList, now: UnixTime) -> usize {
        let due: Vec<String> = self
            .entries
            .read()
            .map(|entries| {
                entries
                    .iter()
                    .filter(|(_, e)| e.is_due(now))
                    .map(|(url, _)| url.clone())
                    .collect()
            })
            .unwrap_or_default();
        due.iter()
            .filter(|url| {
                let region = trust
                    .regions()
                    .iter()
                    .find(|r| crl_url(r).as_deref() == Some(url.as_str()));
                match region {
                    Some(region) => self.fetch(url, region, now).is_err(),
                    None => true,
                }
            })
            .count()
    }

    /// What is held, for `/v1/trust`.
    pub fn summary(&self, now: UnixTime) -> Vec<CachedCrl> {
        let mut crls: Vec<CachedCrl> = self
            .entries
            .read()
            .map(|entries| {
                entries
                    .iter()
                    .map(|(url, e)| CachedCrl {
                        url: url.clone(),
                        region: e.region.clone(),
                        issuer: e.crl.issuer().to_owned(),
                        this_update: e.crl.this_update().to_rfc3339_china(),
                        next_update: e.crl.next_update().map(|t| t.to_rfc3339_china()),
                        entries: e.crl.len(),
                        age_seconds: now.seconds().saturating_sub(e.fetched_at.seconds()).max(0),
                    })
                    .collect()
            })
            .unwrap_or_default();
        crls.sort_by(|a, b| a.url.cmp(&b.url));
        crls
    }

    /// The fetches that failed or were refused since their last success, for `/v1/trust`.
    pub fn problems(&self) -> Vec<CrlProblem> {
        let mut problems: Vec<CrlProblem> = self
            .failures
            .read()
            .map(|failures| {
                failures
                    .iter()
                    .map(|(url, (_, error))| CrlProblem {
                        url: url.clone(),
                        error: error.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        problems.sort_by(|a, b| a.url.cmp(&b.url));
        problems
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use huren_crypto::alg::Algorithm;
    use huren_crypto::ids::{RegionCode, Uscc};
    use huren_keys::crl::{issue_crl, CrlContents, CrlEntry};
    use huren_keys::holder::{issue_holder, HolderRequest};
    use huren_keys::layout::{self, InitRegion, RegionDir};
    use huren_keys::store::Protection;
    use huren_keys::trust_build;

    use super::*;
    use crate::fetch::{FetchError, Fetched};

    const NOW: UnixTime = UnixTime(1_795_399_200);
    const DAY: i64 = 86_400;

    struct Province {
        _dir: tempfile::TempDir,
        region: RegionDir,
        trust: TrustList,
        holder: SealCertificate,
    }

    fn province() -> Province {
        let dir = tempfile::tempdir().unwrap();
        let made = NOW.minus(DAY);
        let operator = layout::init_operator(
            &dir.path().join("operator"),
            "operator",
            Algorithm::Es256,
            Protection::Plaintext,
            made,
        )
        .unwrap();
        let region = layout::init_region(
            &dir.path().join("zj"),
            &InitRegion {
                code: RegionCode::parse("330000").unwrap(),
                name: "浙江省".into(),
                alg: Algorithm::Es256,
                public_url: "https://issuer.zj.example/".into(),
                protection: Protection::Plaintext,
                now: made,
            },
        )
        .unwrap();
        let claims =
            trust_build::assemble("operator", std::slice::from_ref(&region), 1, made, 7 * DAY)
                .unwrap();
        let operator_cert = operator.certificate().unwrap();
        let token =
            trust_build::sign(&claims, &operator.key(None).unwrap(), &operator_cert).unwrap();
        let trust =
            TrustList::verify(&token, &[Certificate::from_der(&operator_cert).unwrap()]).unwrap();
        let holder = issue_holder(
            &region,
            None,
            &dir.path().join("holder"),
            &HolderRequest {
                organization: "杭州示例建设有限公司".into(),
                uscc: Uscc::parse("91350100M000100Y43").unwrap(),
                alg: Algorithm::Es256,
                validity_days: 365,
                protection: Protection::Plaintext,
                now: made,
            },
        )
        .unwrap();
        let holder = SealCertificate::parse(holder.certificate().unwrap().der()).unwrap();
        Province {
            _dir: dir,
            region,
            trust,
            holder,
        }
    }

    fn crl(province: &Province, number: u128, this_update: UnixTime, next_days: i64) -> Vec<u8> {
        let root_key = province
            .region
            .key(&province.region.config.root, None)
            .unwrap();
        issue_crl(
            &province.region.root_der().unwrap(),
            &root_key,
            &CrlContents {
                number,
                this_update,
                next_update: this_update.plus(next_days * DAY),
                entries: vec![CrlEntry {
                    serial: province.holder.serial().to_vec(),
                    revoked_at: this_update.minus(60),
                    reason: None,
                }],
            },
        )
        .unwrap()
    }

    /// Serves whatever bytes it is given, and counts requests.
    #[derive(Default)]
    struct Serve {
        body: Mutex<Option<Vec<u8>>>,
        requests: Mutex<Vec<String>>,
    }

    impl Fetcher for Serve {
        fn fetch(&self, url: &str, _etag: Option<&str>) -> Result<Fetched, FetchError> {
            Err(FetchError {
                url: url.into(),
                reason: "text is not served".into(),
            })
        }

        fn fetch_bytes(
            &self,
            url: &str,
            _etag: Option<&str>,
            _limit: u64,
        ) -> Result<FetchedBytes, FetchError> {
            self.requests.lock().unwrap().push(url.to_owned());
            match self.body.lock().unwrap().clone() {
                Some(bytes) => Ok(FetchedBytes::Body { bytes, etag: None }),
                None => Err(FetchError {
                    url: url.into(),
                    reason: "HTTP 404".into(),
                }),
            }
        }
    }

    /// Only text, like every fetcher written before CRLs.
    struct TextOnly;

    impl Fetcher for TextOnly {
        fn fetch(&self, url: &str, _etag: Option<&str>) -> Result<Fetched, FetchError> {
            Err(FetchError {
                url: url.into(),
                reason: "offline".into(),
            })
        }
    }

    #[test]
    fn the_crl_comes_from_the_issuer_of_the_signers_root_only() {
        let p = province();
        let source = CrlSource::for_signer(&p.trust, &p.holder).unwrap();
        // The trailing slash of the public URL is not doubled.
        assert_eq!(source.url, "https://issuer.zj.example/v1/crl");
        assert_eq!(source.region.code.as_str(), "330000");

        // A root with Zhejiang's very name but another key: its certificates have no CRL
        // source, so its CRL could never be taken for Zhejiang's.
        let dir = tempfile::tempdir().unwrap();
        let impostor = layout::init_region(
            &dir.path().join("zj"),
            &InitRegion {
                code: RegionCode::parse("330000").unwrap(),
                name: "浙江省".into(),
                alg: Algorithm::Es256,
                public_url: "https://issuer.zj.example/".into(),
                protection: Protection::Plaintext,
                now: NOW.minus(DAY),
            },
        )
        .unwrap();
        let files = impostor.config.seal_maker.clone().unwrap();
        let forged = SealCertificate::parse(&impostor.certificate(&files).unwrap()).unwrap();
        assert_eq!(
            forged.issuer_der(),
            p.holder.issuer_der(),
            "same issuer name"
        );
        assert!(CrlSource::for_signer(&p.trust, &forged).is_none());
    }

    #[test]
    fn a_crl_is_held_cached_on_disk_and_due_after_next_update() {
        let p = province();
        let dir = tempfile::tempdir().unwrap();
        let disk = DiskCache::new(dir.path()).unwrap();
        let serve = Arc::new(Serve::default());
        *serve.body.lock().unwrap() = Some(crl(&p, 1, NOW, 7));
        let cache = CrlCache::new(serve.clone(), Some(disk.clone()), &p.trust, NOW);
        let source = CrlSource::for_signer(&p.trust, &p.holder).unwrap();
        assert!(cache.get(&source).is_none());
        assert!(cache.is_due(&source, NOW));
        let held = cache.fetch(&source.url, source.region, NOW).unwrap();
        assert!(held.revoked_at(p.holder.serial()).is_some());
        assert!(!cache.is_due(&source, NOW.plus(6 * DAY)));
        assert!(cache.is_due(&source, NOW.plus(8 * DAY)));
        assert_eq!(cache.summary(NOW).len(), 1);

        // A restart without network: read back from disk and verified again.
        let restarted = CrlCache::new(Arc::new(TextOnly), Some(disk), &p.trust, NOW);
        assert!(restarted.get(&source).is_some());
        assert!(!restarted.is_due(&source, NOW));
    }

    #[test]
    fn an_older_crl_never_replaces_a_newer_one() {
        let p = province();
        let serve = Arc::new(Serve::default());
        let cache = CrlCache::new(serve.clone(), None, &p.trust, NOW);
        let source = CrlSource::for_signer(&p.trust, &p.holder).unwrap();
        *serve.body.lock().unwrap() = Some(crl(&p, 2, NOW, 7));
        cache.fetch(&source.url, source.region, NOW).unwrap();
        *serve.body.lock().unwrap() = Some(crl(&p, 1, NOW.minus(DAY), 7));
        assert!(cache.fetch(&source.url, source.region, NOW).is_err());
        assert_eq!(cache.get(&source).unwrap().this_update(), NOW);
        assert_eq!(cache.problems().len(), 1);
    }

    #[test]
    fn an_older_crl_is_refused_after_a_trust_list_change_and_after_a_restart() {
        let p = province();
        let dir = tempfile::tempdir().unwrap();
        let disk = DiskCache::new(dir.path()).unwrap();
        let serve = Arc::new(Serve::default());
        let cache = CrlCache::new(serve.clone(), Some(disk.clone()), &p.trust, NOW);
        let source = CrlSource::for_signer(&p.trust, &p.holder).unwrap();
        *serve.body.lock().unwrap() = Some(crl(&p, 2, NOW, 7));
        cache.fetch(&source.url, source.region, NOW).unwrap();

        // The trust list changed: the held CRLs are forgotten, but not how new they were.
        cache.clear();
        *serve.body.lock().unwrap() = Some(crl(&p, 1, NOW.minus(DAY), 7));
        assert!(cache.fetch(&source.url, source.region, NOW).is_err());
        assert!(cache.get(&source).is_none());

        // A restart: the marks come back from disk, and so does the newer CRL.
        let restarted = CrlCache::new(serve.clone(), Some(disk), &p.trust, NOW);
        assert!(restarted.fetch(&source.url, source.region, NOW).is_err());
        assert_eq!(restarted.get(&source).unwrap().this_update(), NOW);
    }

    #[test]
    fn a_crl_issued_outside_its_roots_validity_is_refused() {
        let p = province();
        let serve = Arc::new(Serve::default());
        let cache = CrlCache::new(serve.clone(), None, &p.trust, NOW);
        let source = CrlSource::for_signer(&p.trust, &p.holder).unwrap();
        // Back-dated before the root existed.
        *serve.body.lock().unwrap() = Some(crl(&p, 1, NOW.minus(400 * DAY), 7));
        let error = cache.fetch(&source.url, source.region, NOW).unwrap_err();
        assert!(error.contains("outside its signer's validity"), "{error}");
    }

    #[test]
    fn refused_or_unfetchable_crls_are_not_held_and_not_retried_at_once() {
        let p = province();
        let serve = Arc::new(Serve::default());
        let cache = CrlCache::new(serve.clone(), None, &p.trust, NOW);
        let source = CrlSource::for_signer(&p.trust, &p.holder).unwrap();
        *serve.body.lock().unwrap() = Some(b"\x30\x03\x02\x01\x01".to_vec());
        let error = cache.fetch(&source.url, source.region, NOW).unwrap_err();
        assert!(error.contains("not a CRL of 330000"), "{error}");
        assert!(cache.get(&source).is_none());
        assert!(!cache.may_try(&source.url, NOW.plus(5)));
        assert!(cache.may_try(&source.url, NOW.plus(RETRY_AFTER_FAILURE_SECONDS)));

        let text_only = CrlCache::new(Arc::new(TextOnly), None, &p.trust, NOW);
        let error = text_only
            .fetch(&source.url, source.region, NOW)
            .unwrap_err();
        assert!(error.contains("binary"), "{error}");
    }
}
