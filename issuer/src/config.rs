//! The issuer's configuration: one typed struct from a TOML file (`--config`) and `HUREN_*`
//! environment variables, the environment winning; validated at load with errors that name
//! the setting. Holds no secrets (the key passphrase comes from `HUREN_KEY_PASSPHRASE` or a
//! file and is never stored here).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use huren_keys::store::{PlaintextKeys, ALLOW_PLAINTEXT_KEYS_VAR};
use serde::Deserialize;

/// Settings as written in a file or the environment; everything optional until resolved.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerFile {
    /// `HUREN_LISTEN`: address to bind (default `127.0.0.1:8300`).
    pub listen: Option<String>,
    /// `HUREN_DATA_DIR`: where the default SQLite database lives (default `./huren-data`).
    pub data_dir: Option<PathBuf>,
    /// `HUREN_DATABASE_URL`: `sqlite://path?mode=rwc` or `postgres://…`.
    pub database_url: Option<String>,
    /// `HUREN_REGION_DIR`: the province PKI directory.
    pub region_dir: Option<PathBuf>,
    /// `HUREN_TRUST_LIST`: trust list file.
    pub trust_list: Option<PathBuf>,
    /// `HUREN_OPERATOR_CERT`: pinned operator certificate(s), comma-separated in the environment.
    pub operator_cert: Option<Vec<PathBuf>>,
    /// `HUREN_PUBLIC_URL`: base URL (must agree with the trust list's status prefix).
    pub public_url: Option<String>,
    /// `HUREN_PASSPHRASE_FILE`: file with the key passphrase (else `HUREN_KEY_PASSPHRASE`).
    pub passphrase_file: Option<PathBuf>,
    /// `HUREN_ADDR_FILE`: write the bound address here.
    pub addr_file: Option<PathBuf>,
    /// `HUREN_STATUS_LIST_CAPACITY`: entries per status list (power of two).
    pub status_list_capacity: Option<i64>,
    /// `HUREN_STATUS_TTL_SECS`: `ttl` of published status lists.
    pub status_ttl_secs: Option<u64>,
    /// `HUREN_STATUS_VALIDITY_SECS`: lifetime of a signed status list.
    pub status_validity_secs: Option<i64>,
    /// `HUREN_LOG_FORMAT`: `text` or `json`.
    pub log_format: Option<String>,
    /// `HUREN_CATALOGUE`: TOML file with the province's own licence types.
    pub catalogue: Option<PathBuf>,
    /// `[[seal_holders]]` (file only: a list of tables does not fit one variable): seal-holder
    /// keys the platform holds for organisations that seal documents server-side.
    pub seal_holders: Option<Vec<SealHolderFile>>,
    /// `HUREN_CRL`: the province root's CRL (DER, as `huren pki revoke-cert` writes it),
    /// served at `GET /v1/crl`.
    pub crl: Option<PathBuf>,
    /// `HUREN_ALLOW_PLAINTEXT_KEYS`: `true` loads unencrypted private keys (test set-ups
    /// only); by default the issuer refuses to start with one, naming the file.
    pub allow_plaintext_keys: Option<bool>,
    /// `HUREN_LOG_SEQUENCE_DELAY_MS`: how long the transparency log waits after a write before
    /// appending it (default 500; at most 5000, the log's promised merge delay).
    pub log_sequence_delay_ms: Option<u64>,
}

/// One `[[seal_holders]]` entry: an organisation's seal-holder key and certificate, made by
/// `huren pki issue-holder` (its `holder.key.pem` and `holder.crt.pem`) or elsewhere. The key
/// is decrypted with the issuer's key passphrase; the certificate must be issued by the
/// region root and carry the seal-holder purpose, or the issuer refuses to start.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealHolderFile {
    /// PKCS#8 key file (PEM or DER).
    pub key: PathBuf,
    /// Certificate file (PEM or DER).
    pub cert: PathBuf,
    /// JOSE algorithm the key signs with; only needed to choose RS256 over PS256 for an RSA
    /// key (default: ES256 for P-256, SM2SM3 for SM2, PS256 for RSA).
    #[serde(default)]
    pub alg: Option<huren_crypto::alg::Algorithm>,
}

/// The data directory when none is configured.
pub const DEFAULT_DATA_DIR: &str = "huren-data";
/// Caching hint given to verifiers in each status list (`ttl`), seconds.
pub const DEFAULT_STATUS_TTL_SECONDS: u64 = 300;
/// Lifetime of a signed status list (`exp - iat`), seconds.
pub const DEFAULT_STATUS_VALIDITY_SECONDS: i64 = 24 * 3600;

/// Most `[[seal_holders]]` entries: each is a decrypted key held in memory.
pub const MAX_SEAL_HOLDERS: usize = 256;

/// Longest batching delay of the transparency log's sequencer: SPEC §12's merge delay is 5 s.
pub const MAX_LOG_SEQUENCE_DELAY_MS: u64 = 5000;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct IssuerConfig {
    /// Address to bind.
    pub listen: SocketAddr,
    /// Database URL.
    pub database_url: String,
    /// Data directory: the default SQLite database and the signed audit heads
    /// (`anchor`; kept here, outside the database they anchor).
    pub data_dir: PathBuf,
    /// Province PKI directory.
    pub region_dir: PathBuf,
    /// Trust list file.
    pub trust_list: PathBuf,
    /// Pinned operator certificates.
    pub operator_certs: Vec<PathBuf>,
    /// Public URL, if configured.
    pub public_url: Option<String>,
    /// Passphrase file, if any.
    pub passphrase_file: Option<PathBuf>,
    /// Where to write the bound address.
    pub addr_file: Option<PathBuf>,
    /// Entries per status list.
    pub status_list_capacity: i64,
    /// Status list `ttl`.
    pub status_ttl_secs: u64,
    /// Status list lifetime.
    pub status_validity_secs: i64,
    /// Log format.
    pub log_format: LogFormat,
    /// Extra catalogue file.
    pub catalogue: Option<PathBuf>,
    /// Seal-holder keys the platform holds.
    pub seal_holders: Vec<SealHolderFile>,
    /// The province root's CRL file, if served.
    pub crl: Option<PathBuf>,
    /// Whether unencrypted private keys may be loaded (explicit opt-in).
    pub plaintext_keys: PlaintextKeys,
    /// How long the transparency log's sequencer waits after a write before appending
    /// (batching; the log's merge delay is about this plus a witness round trip).
    pub log_sequence_delay: std::time::Duration,
}

/// A setting is missing or wrong.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {setting}: {message}")]
pub struct ConfigError {
    /// The setting (file key / environment variable).
    pub setting: String,
    /// What is wrong.
    pub message: String,
}

fn err(setting: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        setting: setting.to_owned(),
        message: message.into(),
    }
}

impl IssuerFile {
    /// Reads a TOML file.
    pub fn from_toml_file(path: &Path) -> Result<IssuerFile, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| err(&path.display().to_string(), e.to_string()))?;
        toml::from_str(&text).map_err(|e| err(&path.display().to_string(), e.to_string()))
    }

    /// Applies `HUREN_*` variables from `env` over the file's values.
    pub fn with_env(
        mut self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<IssuerFile, ConfigError> {
        let path = |v: String| PathBuf::from(v);
        if let Some(v) = env("HUREN_LISTEN") {
            self.listen = Some(v)
        }
        if let Some(v) = env("HUREN_DATA_DIR") {
            self.data_dir = Some(path(v))
        }
        if let Some(v) = env("HUREN_DATABASE_URL") {
            self.database_url = Some(v)
        }
        if let Some(v) = env("HUREN_REGION_DIR") {
            self.region_dir = Some(path(v))
        }
        if let Some(v) = env("HUREN_TRUST_LIST") {
            self.trust_list = Some(path(v))
        }
        if let Some(v) = env("HUREN_OPERATOR_CERT") {
            self.operator_cert = Some(v.split(',').map(|p| path(p.trim().to_owned())).collect())
        }
        if let Some(v) = env("HUREN_PUBLIC_URL") {
            self.public_url = Some(v)
        }
        if let Some(v) = env("HUREN_PASSPHRASE_FILE") {
            self.passphrase_file = Some(path(v))
        }
        if let Some(v) = env("HUREN_ADDR_FILE") {
            self.addr_file = Some(path(v))
        }
        if let Some(v) = env("HUREN_LOG_FORMAT") {
            self.log_format = Some(v)
        }
        if let Some(v) = env("HUREN_CATALOGUE") {
            self.catalogue = Some(path(v))
        }
        if let Some(v) = env("HUREN_CRL") {
            self.crl = Some(path(v))
        }
        if let Some(v) = env(ALLOW_PLAINTEXT_KEYS_VAR) {
            let policy = PlaintextKeys::from_setting(&v)
                .ok_or_else(|| err(ALLOW_PLAINTEXT_KEYS_VAR, "must be true or false"))?;
            self.allow_plaintext_keys = Some(policy == PlaintextKeys::Allow);
        }
        if let Some(v) = env("HUREN_STATUS_LIST_CAPACITY") {
            self.status_list_capacity = Some(
                v.parse()
                    .map_err(|_| err("HUREN_STATUS_LIST_CAPACITY", "not a number"))?,
            );
        }
        if let Some(v) = env("HUREN_STATUS_TTL_SECS") {
            self.status_ttl_secs = Some(
                v.parse()
                    .map_err(|_| err("HUREN_STATUS_TTL_SECS", "not a number"))?,
            );
        }
        if let Some(v) = env("HUREN_LOG_SEQUENCE_DELAY_MS") {
            self.log_sequence_delay_ms = Some(
                v.parse()
                    .map_err(|_| err("HUREN_LOG_SEQUENCE_DELAY_MS", "not a number"))?,
            );
        }
        if let Some(v) = env("HUREN_STATUS_VALIDITY_SECS") {
            self.status_validity_secs = Some(
                v.parse()
                    .map_err(|_| err("HUREN_STATUS_VALIDITY_SECS", "not a number"))?,
            );
        }
        Ok(self)
    }

    /// The database URL (default: `issuer.db` in the data directory, which is created with
    /// mode 0700: it holds personal data; the database file itself is created 0600 by
    /// [`crate::store::Store::connect`]).
    pub fn database_url(&self) -> Result<String, ConfigError> {
        let url = match &self.database_url {
            Some(url) => url.clone(),
            None => {
                let data_dir = self
                    .data_dir
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
                create_private_dir(&data_dir)
                    .map_err(|e| err("data_dir (HUREN_DATA_DIR)", e.to_string()))?;
                format!("sqlite://{}?mode=rwc", data_dir.join("issuer.db").display())
            }
        };
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(err(
                "database_url (HUREN_DATABASE_URL)",
                "must start with sqlite:// or postgres://",
            ));
        }
        Ok(url)
    }

    /// Validates and fills defaults.
    pub fn resolve(self) -> Result<IssuerConfig, ConfigError> {
        let database_url = self.database_url()?;
        let listen = self.listen.unwrap_or_else(|| "127.0.0.1:8300".into());
        let listen: SocketAddr = listen.parse().map_err(|_| {
            err(
                "listen (HUREN_LISTEN)",
                format!("{listen:?} is not address:port"),
            )
        })?;
        let capacity = self
            .status_list_capacity
            .unwrap_or(crate::status_index::DEFAULT_LIST_CAPACITY);
        if !(1024..=1 << 24).contains(&capacity) || capacity.count_ones() != 1 {
            return Err(err(
                "status_list_capacity",
                "must be a power of two between 1024 and 16777216",
            ));
        }
        let log_format = match self.log_format.as_deref().unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(err(
                    "log_format (HUREN_LOG_FORMAT)",
                    format!("{other:?} is not text or json"),
                ))
            }
        };
        let status_validity_secs = self
            .status_validity_secs
            .unwrap_or(DEFAULT_STATUS_VALIDITY_SECONDS);
        if !(3600 * 2..=7 * 86_400).contains(&status_validity_secs) {
            return Err(err(
                "status_validity_secs",
                "must be between 7200 and 604800",
            ));
        }
        let seal_holders = self.seal_holders.unwrap_or_default();
        if seal_holders.len() > MAX_SEAL_HOLDERS {
            return Err(err(
                "seal_holders",
                format!("at most {MAX_SEAL_HOLDERS} entries"),
            ));
        }
        for (i, holder) in seal_holders.iter().enumerate() {
            if seal_holders[..i].iter().any(|h| h.cert == holder.cert) {
                return Err(err(
                    &format!("seal_holders[{i}].cert"),
                    format!("{} is listed twice", holder.cert.display()),
                ));
            }
        }
        let log_sequence_delay_ms = self.log_sequence_delay_ms.unwrap_or(500);
        if log_sequence_delay_ms > MAX_LOG_SEQUENCE_DELAY_MS {
            return Err(err(
                "log_sequence_delay_ms (HUREN_LOG_SEQUENCE_DELAY_MS)",
                format!("must be at most {MAX_LOG_SEQUENCE_DELAY_MS} (the log's merge delay)"),
            ));
        }
        Ok(IssuerConfig {
            listen,
            database_url,
            data_dir: self
                .data_dir
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            region_dir: self
                .region_dir
                .ok_or_else(|| err("region_dir (HUREN_REGION_DIR)", "is required"))?,
            trust_list: self
                .trust_list
                .ok_or_else(|| err("trust_list (HUREN_TRUST_LIST)", "is required"))?,
            operator_certs: self
                .operator_cert
                .filter(|c| !c.is_empty())
                .ok_or_else(|| err("operator_cert (HUREN_OPERATOR_CERT)", "is required"))?,
            public_url: self.public_url,
            passphrase_file: self.passphrase_file,
            addr_file: self.addr_file,
            status_list_capacity: capacity,
            status_ttl_secs: self.status_ttl_secs.unwrap_or(DEFAULT_STATUS_TTL_SECONDS),
            status_validity_secs,
            log_format,
            catalogue: self.catalogue,
            seal_holders,
            crl: self.crl,
            plaintext_keys: PlaintextKeys::allowed_if(self.allow_plaintext_keys.unwrap_or(false)),
            log_sequence_delay: std::time::Duration::from_millis(log_sequence_delay_ms),
        })
    }
}

/// Creates `dir` (and missing parents) with mode 0700, so only the service's user can list
/// or enter it. An existing directory is left as it is, with a warning if others may enter
/// it.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mode = std::fs::metadata(dir)?.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(
            dir = %dir.display(),
            mode = format_args!("{:o}", mode & 0o777),
            "the data directory (personal data) is open to group or others; chmod 700 it"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_holders_and_the_crl_come_from_the_file_and_the_crl_also_from_the_environment() {
        let file: IssuerFile = toml::from_str(
            r#"
            region_dir = "zj"
            trust_list = "trust-list.jwt"
            operator_cert = ["op.pem"]
            database_url = "sqlite://x.db?mode=rwc"
            crl = "root.crl"

            [[seal_holders]]
            key = "a/holder.key.pem"
            cert = "a/holder.crt.pem"

            [[seal_holders]]
            key = "b/holder.key.pem"
            cert = "b/holder.crt.pem"
            alg = "RS256"
            "#,
        )
        .unwrap();
        let config = file
            .clone()
            .with_env(|name| (name == "HUREN_CRL").then(|| "other.crl".to_owned()))
            .unwrap()
            .resolve()
            .unwrap();
        assert_eq!(config.crl, Some(PathBuf::from("other.crl")));
        assert_eq!(config.seal_holders.len(), 2);
        assert_eq!(
            config.seal_holders[1].alg,
            Some(huren_crypto::alg::Algorithm::Rs256)
        );

        let mut twice = file;
        if let Some(holders) = twice.seal_holders.as_mut() {
            holders[1].cert = holders[0].cert.clone();
        }
        let err = twice.resolve().unwrap_err();
        assert_eq!(err.setting, "seal_holders[1].cert");
        assert!(toml::from_str::<IssuerFile>("[[seal_holders]]\nkey = \"k\"\n").is_err());
    }

    /// The overlay is strict on purpose: the `config` crate was tried for it and dropped
    /// because its conversions are lax (a plaintext-key switch of `on` or `2` reads as true,
    /// a number of `8192.4` as 8192, a path of `0700` as `700`).
    #[test]
    fn the_environment_wins_lists_are_comma_separated_and_values_are_read_strictly() {
        let file: IssuerFile = toml::from_str(
            r#"
            region_dir = "zj"
            trust_list = "file.jwt"
            operator_cert = ["op.pem"]
            status_list_capacity = 4096
            "#,
        )
        .unwrap();
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let config = file
            .clone()
            .with_env(env(&[
                ("HUREN_TRUST_LIST", "env.jwt"),
                ("HUREN_OPERATOR_CERT", "a.pem, b.pem"),
                ("HUREN_STATUS_LIST_CAPACITY", "8192"),
                ("HUREN_ALLOW_PLAINTEXT_KEYS", "yes"),
                ("HUREN_DATA_DIR", "0700"),
                // Not a setting: never read into the configuration.
                ("HUREN_KEY_PASSPHRASE", "secret"),
            ]))
            .unwrap()
            .resolve()
            .unwrap();
        assert_eq!(config.trust_list, PathBuf::from("env.jwt"));
        assert_eq!(
            config.operator_certs,
            [PathBuf::from("a.pem"), PathBuf::from("b.pem")]
        );
        assert_eq!(config.status_list_capacity, 8192);
        assert_eq!(config.plaintext_keys, PlaintextKeys::Allow);
        assert_eq!(config.data_dir, PathBuf::from("0700"));
        for (variable, value) in [
            ("HUREN_ALLOW_PLAINTEXT_KEYS", "on"),
            ("HUREN_ALLOW_PLAINTEXT_KEYS", "2"),
            ("HUREN_STATUS_LIST_CAPACITY", "8192.4"),
            ("HUREN_STATUS_TTL_SECS", "true"),
        ] {
            let error = file
                .clone()
                .with_env(move |name| (name == variable).then(|| value.to_owned()))
                .unwrap_err();
            assert_eq!(error.setting, variable, "{value}");
        }
    }
}
