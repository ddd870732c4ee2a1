//! # huren-verifier — verify licences from any province
//!
//! The library a third-party system embeds: a [`TrustStore`] holding the verified national
//! trust list (pinned operator certificates, rollback refused, last-good copy on disk), a
//! [`StatusCache`] of status lists (fetched lazily, refreshed by `ttl`, behind the [`Fetcher`]
//! trait), and [`Verifier::verify`] returning the SPEC §6 report. Sealed documents:
//! [`Verifier::verify_seal`] returns the SPEC §8 report, using the same trust list and status
//! cache and a [`CrlCache`](crl_cache::CrlCache) of the provinces' CRLs.
//!
//! ```no_run
//! use huren_verifier::{TrustSource, Verifier, VerifierConfig};
//! # #[cfg(not(feature = "fetch"))] fn main() {}
//! # #[cfg(feature = "fetch")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let pem = std::fs::read("operator.crt.pem")?;
//! let operator = huren_verifier::operator_certificates_from_pem(&pem)?;
//! let verifier = Verifier::open(
//!     VerifierConfig {
//!         unit: None,
//!         trust_source: TrustSource::parse("https://trust.example.gov.cn/trust-list.jwt"),
//!         operator_certs: operator,
//!         cache_dir: Some("/var/cache/huren".into()),
//!         online: true,
//!         options: Default::default(),
//!     },
//!     huren_verifier::now(),
//! )?;
//! let report = verifier.verify("HR1:5676…", huren_verifier::now());
//! println!("{}", serde_json::to_string_pretty(&report)?);
//! # Ok(()) }
//! ```
//!
//! ## Features
//!
//! - `fetch` (default): `HttpFetcher`, the HTTP(S) client (`ureq`) that fetches
//!   trust lists, status lists and CRLs, and `Verifier::open`, which uses it. An embedder that
//!   brings its own fetcher turns it off (`default-features = false`), implements [`Fetcher`]
//!   and calls [`Verifier::open_with`]: the build then contains no HTTP client at all.
//! - `server` (implies `fetch`): the verification service (axum, tokio) and the clerk's page.
//!
//! Default features pull in no web framework.
//!
//! ```
//! use std::sync::Arc;
//! use huren_verifier::{FetchError, Fetched, Fetcher, TrustSource, Verifier, VerifierConfig};
//!
//! /// Trust material from the embedder's own transport (here: nothing, so a file trust list
//! /// and no status lists).
//! struct OwnTransport;
//!
//! impl Fetcher for OwnTransport {
//!     fn fetch(&self, url: &str, _etag: Option<&str>) -> Result<Fetched, FetchError> {
//!         Err(FetchError { url: url.to_owned(), reason: "offline".into() })
//!     }
//! }
//!
//! # fn open(operator_certs: Vec<huren_crypto::cert::Certificate>) -> Result<Verifier, huren_verifier::TrustStoreError> {
//! let config = VerifierConfig {
//!     unit: None,
//!     trust_source: TrustSource::parse("/etc/huren/trust-list.jwt"),
//!     operator_certs,
//!     cache_dir: None,
//!     online: false,
//!     options: Default::default(),
//! };
//! Verifier::open_with(config, Arc::new(OwnTransport), huren_verifier::now())
//! # }
//! ```

pub mod clock;
pub mod crl_cache;
pub mod disk;
pub mod fetch;
pub mod high_water;
pub mod log_cache;
pub mod seal;
pub mod status_cache;
pub mod trust_store;
pub mod verifier;

#[cfg(feature = "server")]
pub mod server;

pub use clock::now;
pub use crl_cache::CrlCache;
#[cfg(feature = "fetch")]
pub use fetch::HttpFetcher;
pub use fetch::{FetchError, Fetched, FetchedBytes, Fetcher, LogProofResponse};
pub use huren_crypto::ids::Uscc;
pub use huren_crypto::seal::{SealOutcome, SealReport, SealWarning};
pub use huren_crypto::verify::{
    CopyView, LogCheck, LogUse, Outcome, Report, Verdict, VerifyOptions, Warning,
};
pub use log_cache::LogCache;
pub use seal::{OutcomeText, SealAnswer, SealImage};
pub use status_cache::StatusCache;
pub use trust_store::{TrustSource, TrustStatus, TrustStore, TrustStoreError};
pub use verifier::{Held, Verifier, VerifierConfig};

use huren_crypto::cert::{CertError, Certificate};

/// Parses every `CERTIFICATE` block of a PEM text (the pinned operator certificates).
pub fn operator_certificates_from_pem(pem: &[u8]) -> Result<Vec<Certificate>, CertError> {
    // Other blocks (a key someone appended) are not certificates to pin: skipped undecoded.
    let certificates = huren_crypto::pem::decode_only(pem, "CERTIFICATE", 64 * 1024)
        .map_err(|e| CertError::Malformed(e.to_string()))?
        .iter()
        .map(|der| Certificate::from_der(der))
        .collect::<Result<Vec<_>, _>>()?;
    if certificates.is_empty() {
        return Err(CertError::Malformed("no CERTIFICATE block".into()));
    }
    Ok(certificates)
}
