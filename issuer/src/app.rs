//! Building and running the issuer: `App::build(config, listener, clock)` loads the trust
//! list, keys, catalogue and database, and returns a ready-to-serve application that tests
//! reuse in-process (bound to `127.0.0.1:0`).

use std::net::SocketAddr;
use std::sync::Arc;

use huren_crypto::cert::Certificate;
use huren_crypto::time::Clock;
use huren_crypto::trust_list::TrustList;
use huren_keys::layout::RegionDir;
use huren_keys::store::Passphrase;
use tokio::net::TcpListener;

use crate::anchor::HeadStore;
use crate::catalogue::Catalogue;
use crate::config::IssuerConfig;
use crate::http::{router, AppState};
use crate::issuance::Issuer;
use crate::keyring::{Keyring, SealKeys};
use crate::metrics::Metrics;
use crate::publish::Publisher;
use crate::seals::{CrlFile, Seals};
use crate::store::{RegionStore, Store};
use crate::tlog::{sequencer, Log};
use huren_crypto::tlog::note::NoteKeyPair;

/// Why the issuer could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A file could not be read.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// The trust list was refused.
    #[error("trust list: {0}")]
    TrustList(#[from] huren_crypto::trust_list::TrustListError),
    /// Keys could not be loaded or are not trusted.
    #[error(transparent)]
    Keys(#[from] crate::keyring::KeyringError),
    /// The region directory is unusable.
    #[error(transparent)]
    Layout(#[from] huren_keys::layout::LayoutError),
    /// The database is unusable.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The catalogue file is invalid.
    #[error(transparent)]
    Catalogue(#[from] crate::catalogue::CatalogueError),
    /// The configured public URL disagrees with the trust list.
    #[error("public_url {configured} does not match the trust list's status prefix {trusted} for this region")]
    PublicUrl {
        /// Configured.
        configured: String,
        /// From the trust list.
        trusted: String,
    },
    /// The log key disagrees with the trust list.
    #[error("transparency log: {0}")]
    Log(String),
    /// The signed audit heads in the data directory cannot be read.
    #[error(transparent)]
    Anchor(#[from] crate::anchor::AnchorError),
    /// Binding or serving failed.
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
}

/// How often the sequencer looks for unappended entries and unwitnessed checkpoints when no
/// write woke it (a witness that was down is retried this often).
const SEQUENCER_IDLE: std::time::Duration = std::time::Duration::from_secs(10);

/// A built issuer, ready to serve.
#[derive(Debug)]
pub struct App {
    listener: TcpListener,
    state: AppState,
}

/// Loads the trust list and checks it against the pinned operator certificates.
pub fn load_trust_list(config: &IssuerConfig) -> Result<(TrustList, String), StartError> {
    let file_err = |path: &std::path::Path, e: &dyn std::fmt::Display| StartError::File {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let mut pinned = Vec::new();
    for path in &config.operator_certs {
        for der in huren_keys::pem::read_certificates(path).map_err(|e| file_err(path, &e))? {
            pinned.push(Certificate::from_der(&der).map_err(|e| file_err(path, &e))?);
        }
    }
    let token = std::fs::read_to_string(&config.trust_list)
        .map_err(|e| file_err(&config.trust_list, &e))?;
    let trust = TrustList::verify(&token, &pinned)?;
    Ok((trust, token.trim().to_owned()))
}

/// The core (store, keys, catalogue) without HTTP, as the bulk importer uses it.
pub async fn build_issuer(
    config: &IssuerConfig,
    passphrase: Option<&Passphrase>,
    clock: Arc<dyn Clock>,
) -> Result<(Issuer, String), StartError> {
    let (trust, trust_token) = load_trust_list(config)?;
    let region = RegionDir::open(&config.region_dir)?.with_plaintext_keys(config.plaintext_keys);
    let keys = Keyring::load(&region, passphrase, &trust)?;
    if let Some(url) = &config.public_url {
        let expected = format!("{}/v1/status/", url.trim_end_matches('/'));
        if expected != keys.status_uri_prefix {
            return Err(StartError::PublicUrl {
                configured: url.clone(),
                trusted: keys.status_uri_prefix.clone(),
            });
        }
    }
    let mut catalogue = Catalogue::builtin();
    if let Some(path) = &config.catalogue {
        let text = std::fs::read_to_string(path).map_err(|e| StartError::File {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        catalogue = catalogue.with_extra_toml(&text)?;
    }
    let store = Store::connect(&config.database_url).await?;
    let heads = HeadStore::open(&config.data_dir, &keys.region)?;
    let (log, witness_key) = load_log(config, &region, passphrase, &trust, &keys.region)?;
    let issuer = Issuer {
        store: RegionStore::new(store, keys.region.clone()),
        heads: Arc::new(heads),
        log,
        witness_key,
        keys,
        catalogue,
        trust: Arc::new(trust),
        list_capacity: config.status_list_capacity,
        clock,
    };
    Ok((issuer, trust_token))
}

/// The region's log, and this issuer's witness key.
type LogKeys = (Option<Arc<Log>>, Option<Arc<NoteKeyPair>>);

/// The region's transparency log and this issuer's witness key, from the region directory,
/// checked against the trust list: a log key the trust list does not name for this region is
/// refused (nobody could verify its checkpoints), and a region the trust list gives a log key
/// must have that key here (or nothing it issues could be shown logged).
fn load_log(
    config: &IssuerConfig,
    region: &RegionDir,
    passphrase: Option<&Passphrase>,
    trust: &TrustList,
    code: &huren_crypto::ids::RegionCode,
) -> Result<LogKeys, StartError> {
    let trusted = trust.region(code).and_then(|r| r.log.as_ref());
    let listed = trusted.map(|l| &l.key);
    let log = match (region.log_key(passphrase)?, trusted) {
        (Some(key), Some(trusted)) if key.verifier_key() == &trusted.key => {
            Some(Arc::new(Log::new(
                key,
                trusted.witnesses.clone(),
                trusted.quorum,
                config.log_sequence_delay,
            )))
        }
        (Some(key), Some(_)) => {
            let listed = listed.map(ToString::to_string).unwrap_or_default();
            return Err(StartError::Log(format!(
                "the region directory's log key {} is not the one the trust list names ({listed})",
                key.verifier_key()
            )));
        }
        (None, Some(trusted)) => {
            let listed = &trusted.key;
            return Err(StartError::Log(format!(
                "the trust list names log key {listed} for this region but the region directory has no log key (huren pki log-keys)"
            )));
        }
        (Some(_), None) => {
            tracing::warn!("the region has a log key the trust list does not name yet: no transparency log until it does");
            None
        }
        (None, None) => None,
    };
    let witness_key = region.witness_key(passphrase)?.map(Arc::new);
    Ok((log, witness_key))
}

/// The seal maker, the `[[seal_holders]]` keys and, if configured, the region root's CRL
/// (verified under the region root, or the issuer does not start).
fn load_seals(
    config: &IssuerConfig,
    passphrase: Option<&Passphrase>,
    issuer: &Issuer,
) -> Result<Seals, StartError> {
    let region = RegionDir::open(&config.region_dir)?.with_plaintext_keys(config.plaintext_keys);
    let keys = SealKeys::load(&region, passphrase, &issuer.trust, &config.seal_holders)?;
    let crl = match &config.crl {
        Some(path) => {
            Some(
                CrlFile::load(path, &keys.root).map_err(|message| StartError::File {
                    path: path.display().to_string(),
                    message,
                })?,
            )
        }
        None => None,
    };
    Ok(Seals::new(keys, crl))
}

impl App {
    /// Builds the application on an already bound listener.
    pub async fn build(
        config: &IssuerConfig,
        listener: TcpListener,
        passphrase: Option<&Passphrase>,
        clock: Arc<dyn Clock>,
    ) -> Result<App, StartError> {
        let (issuer, trust_token) = build_issuer(config, passphrase, clock).await?;
        let seals = load_seals(config, passphrase, &issuer)?;
        let mut metrics = Metrics::default();
        if let Some(log) = &issuer.log {
            metrics.register_log(&log.metrics);
        }
        let state = AppState {
            issuer: Arc::new(issuer),
            publisher: Arc::new(Publisher::new(
                config.status_ttl_secs,
                config.status_validity_secs,
            )),
            metrics: Arc::new(metrics),
            trust_list: Arc::from(trust_token),
            seals: Arc::new(seals),
        };
        if let Some(path) = &config.addr_file {
            let addr = listener.local_addr()?;
            huren_keys::store::write_atomic(path, addr.to_string().as_bytes(), 0o644, true)
                .map_err(|e| StartError::File {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?;
        }
        Ok(App { listener, state })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The shared state (tests use it to reach the core).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let addr = self.listener.local_addr()?;
        tracing::info!(%addr, region = %self.state.issuer.keys.region, "issuer listening");
        // The sequencer lives as long as the server; it catches up at start with whatever a
        // previous process committed but did not append.
        let issuer = &self.state.issuer;
        let sequencing = issuer.log.clone().map(|log| {
            tokio::spawn(sequencer::run(
                issuer.store.clone(),
                log,
                Arc::clone(&issuer.clock),
                SEQUENCER_IDLE,
            ))
        });
        let served = axum::serve(self.listener, router(self.state))
            .with_graceful_shutdown(shutdown)
            .await;
        if let Some(sequencing) = sequencing {
            sequencing.abort();
        }
        served
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// Sets up logging in the configured format (`RUST_LOG` filters, default `info`).
pub fn init_logging(format: crate::config::LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        crate::config::LogFormat::Json => builder.json().try_init(),
        crate::config::LogFormat::Text => builder.try_init(),
    };
}
