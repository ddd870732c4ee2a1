//! The issuer's configuration: one typed struct from a TOML file (`--config`) and `HUREN_*`
//! environment variables, the environment winning; validated at load with errors that name
//! the setting. Holds no secrets (the key passphrase comes from `HUREN_KEY_PASSPHRASE` or a
//! file and is never stored here).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use huren_keys::store::PlaintextKeys;
use serde::{Deserialize, Serialize};

/// The settings the environment may give, each as `HUREN_<NAME>`: all but the
/// `[[seal_holders]]` tables, which do not fit one variable. (The key passphrase,
/// `HUREN_KEY_PASSPHRASE`, is never a setting: it is read where the keys are opened.)
pub const ENV_SETTINGS: [&str; 16] = [
    "listen",
    "data_dir",
    "database_url",
    "region_dir",
    "trust_list",
    "operator_cert",
    "public_url",
    "passphrase_file",
    "addr_file",
    "status_list_capacity",
    "status_ttl_secs",
    "status_validity_secs",
    "log_format",
    "catalogue",
    "crl",
    "allow_plaintext_keys",
];
/// The settings that hold a list: comma-separated in the environment.
const ENV_LISTS: [&str; 1] = ["operator_cert"];

/// Settings as written in a file or the environment; everything optional until resolved.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
}

/// One `[[seal_holders]]` entry: an organisation's seal-holder key and certificate, made by
/// `huren pki issue-holder` (its `holder.key.pem` and `holder.crt.pem`) or elsewhere. The key
/// is decrypted with the issuer's key passphrase; the certificate must be issued by the
/// region root and carry the seal-holder purpose, or the issuer refuses to start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

    /// Applies the `HUREN_*` variables `env` gives over the file's values ([`ENV_SETTINGS`];
    /// lists comma-separated, empty values ignored). Layering, type conversion and the error
    /// naming a bad variable are `config`'s, the loader the verifier service uses too.
    pub fn with_env(self, env: impl Fn(&str) -> Option<String>) -> Result<IssuerFile, ConfigError> {
        // A value of the wrong type is named by its variable.
        let layered = |e: config::ConfigError| match &e {
            config::ConfigError::Type { key: Some(key), .. } => err(
                &format!("HUREN_{}", key.to_ascii_uppercase()),
                e.to_string(),
            ),
            _ => err("environment (HUREN_*)", e.to_string()),
        };
        let variables: config::Map<String, String> = ENV_SETTINGS
            .iter()
            .filter_map(|name| {
                let variable = format!("HUREN_{}", name.to_ascii_uppercase());
                env(&variable).map(|value| (variable, value))
            })
            .collect();
        let mut environment = config::Environment::with_prefix("HUREN")
            .try_parsing(true)
            .ignore_empty(true)
            .list_separator(",")
            .source(Some(variables));
        for name in ENV_LISTS {
            environment = environment.with_list_parse_key(name);
        }
        config::Config::builder()
            .add_source(config::Config::try_from(&self).map_err(layered)?)
            .add_source(environment)
            .build()
            .and_then(config::Config::try_deserialize)
            .map_err(layered)
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

    #[test]
    fn the_environment_wins_lists_are_comma_separated_and_empties_are_ignored() {
        let file: IssuerFile = toml::from_str(
            r#"
            region_dir = "zj"
            trust_list = "file.jwt"
            operator_cert = ["op.pem"]
            status_list_capacity = 4096
            listen = "127.0.0.1:9000"
            "#,
        )
        .unwrap();
        let env = |name: &str| {
            match name {
                "HUREN_TRUST_LIST" => Some("env.jwt"),
                "HUREN_OPERATOR_CERT" => Some("a.pem,b.pem"),
                "HUREN_STATUS_LIST_CAPACITY" => Some("8192"),
                "HUREN_ALLOW_PLAINTEXT_KEYS" => Some("yes"),
                "HUREN_LISTEN" => Some(""),
                // Not a setting: never read into the configuration.
                "HUREN_KEY_PASSPHRASE" => Some("secret"),
                _ => None,
            }
            .map(str::to_owned)
        };
        let config = file.with_env(env).unwrap().resolve().unwrap();
        assert_eq!(config.trust_list, PathBuf::from("env.jwt"));
        assert_eq!(
            config.operator_certs,
            [PathBuf::from("a.pem"), PathBuf::from("b.pem")]
        );
        assert_eq!(config.status_list_capacity, 8192);
        assert_eq!(config.plaintext_keys, PlaintextKeys::Allow);
        assert_eq!(config.listen.to_string(), "127.0.0.1:9000");
    }

    #[test]
    fn a_bad_variable_is_named() {
        let env = |name: &str| (name == "HUREN_STATUS_TTL_SECS").then(|| "soon".to_owned());
        let error = IssuerFile::default().with_env(env).unwrap_err();
        assert_eq!(error.setting, "HUREN_STATUS_TTL_SECS", "{error:?}");
        assert!(error.message.contains("soon"), "{error:?}");
    }
}
