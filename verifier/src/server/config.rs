//! The verification service's settings: a TOML file (`--config`) and `HUREN_*` variables,
//! the environment winning, validated at load with errors naming the setting.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use axum::http::HeaderName;
use huren_crypto::ids::Uscc;
use huren_crypto::verify::LogCheck;
use serde::Deserialize;

use super::rate::{AddressBlock, TrustedProxy};

/// Settings as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifierFile {
    /// `HUREN_LISTEN` (default `127.0.0.1:8400`).
    pub listen: Option<String>,
    /// `HUREN_TRUST_LIST`: file or URL.
    pub trust_list: Option<String>,
    /// `HUREN_OPERATOR_CERT`: pinned certificate file(s), comma-separated in the environment.
    pub operator_cert: Option<Vec<PathBuf>>,
    /// `HUREN_CACHE_DIR` (default `./huren-verifier-cache`).
    pub cache_dir: Option<PathBuf>,
    /// `HUREN_REFRESH_SECS` (default 60).
    pub refresh_secs: Option<u64>,
    /// `HUREN_ADDR_FILE`.
    pub addr_file: Option<PathBuf>,
    /// `HUREN_RATE_LIMIT`: requests per second per client (default 50; 0 = off).
    pub rate_limit: Option<u32>,
    /// `HUREN_OFFLINE`: `true` = never fetch status lists.
    pub offline: Option<bool>,
    /// `HUREN_GRACE_SECS`: grace after the trust list's next_update.
    pub grace_secs: Option<i64>,
    /// `HUREN_LOG_CHECK`: what a token of a region with a log (SPEC §12) is held to.
    /// `require`: shown in the log after the merge delay, else `not_logged` (or
    /// `log_unavailable` when the log cannot be asked); `warn` (default): the log is asked once
    /// the merge delay has passed and both are warnings; `off`: the log is not asked.
    pub log_check: Option<String>,
    /// `HUREN_REQUIRE_LOGGED`: `true` is `log_check = "require"` (the older spelling).
    pub require_logged: Option<bool>,
    /// `HUREN_LOG_MERGE_DELAY_SECS`: how long after signing a log may take to show a token
    /// (default 5, at most 3600).
    pub log_merge_delay_secs: Option<i64>,
    /// `HUREN_LOG_FORMAT`: text or json.
    pub log_format: Option<String>,
    /// `HUREN_TRUSTED_PROXY_HEADER`: the header a reverse proxy writes the client's address
    /// into (e.g. `X-Forwarded-For`); believed only from `trusted_proxies`.
    pub trusted_proxy_header: Option<String>,
    /// `HUREN_TRUSTED_PROXIES`: addresses or blocks of the reverse proxies (comma-separated in
    /// the environment), e.g. `10.0.0.5, 2001:db8::/64`.
    pub trusted_proxies: Option<Vec<String>>,
    /// `HUREN_VERIFIER_UNIT`: the using unit (用证单位) this service verifies for, as its
    /// 统一社会信用代码. Annotated copies made for another unit are then `wrong_audience`, and a
    /// request naming another audience is refused (SPEC §11).
    pub unit: Option<String>,
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Address to bind.
    pub listen: SocketAddr,
    /// Trust list file or URL.
    pub trust_list: String,
    /// Pinned operator certificate files.
    pub operator_certs: Vec<PathBuf>,
    /// Cache directory.
    pub cache_dir: PathBuf,
    /// Refresh period.
    pub refresh: Duration,
    /// Where to write the bound address.
    pub addr_file: Option<PathBuf>,
    /// Per-client rate.
    pub rate_limit: u32,
    /// Whether status lists may be fetched.
    pub online: bool,
    /// Trust list grace.
    pub grace_secs: i64,
    /// What the regions' logs are asked and how their answers count.
    pub log_check: LogCheck,
    /// The logs' merge delay, seconds.
    pub log_merge_delay_secs: i64,
    /// Log output format.
    pub log_format: LogFormat,
    /// The reverse proxy whose header names the client, if any.
    pub trusted_proxy: Option<TrustedProxy>,
    /// The using unit this service verifies for, if configured.
    pub unit: Option<Uscc>,
}

/// How log lines are written (`log_format`, `HUREN_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// A setting is wrong.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {setting}: {message}")]
pub struct ConfigError {
    /// Which.
    pub setting: &'static str,
    /// What.
    pub message: String,
}

fn err(setting: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        message: message.into(),
    }
}

impl VerifierFile {
    /// Reads a TOML file.
    pub fn from_toml(text: &str) -> Result<VerifierFile, ConfigError> {
        toml_parse(text)
    }

    /// Applies `HUREN_*` variables.
    pub fn with_env(
        mut self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<VerifierFile, ConfigError> {
        if let Some(v) = env("HUREN_LISTEN") {
            self.listen = Some(v)
        }
        if let Some(v) = env("HUREN_TRUST_LIST") {
            self.trust_list = Some(v)
        }
        if let Some(v) = env("HUREN_OPERATOR_CERT") {
            self.operator_cert = Some(v.split(',').map(|p| PathBuf::from(p.trim())).collect())
        }
        if let Some(v) = env("HUREN_CACHE_DIR") {
            self.cache_dir = Some(PathBuf::from(v))
        }
        if let Some(v) = env("HUREN_ADDR_FILE") {
            self.addr_file = Some(PathBuf::from(v))
        }
        if let Some(v) = env("HUREN_LOG_FORMAT") {
            self.log_format = Some(v)
        }
        if let Some(v) = env("HUREN_REFRESH_SECS") {
            self.refresh_secs = Some(
                v.parse()
                    .map_err(|_| err("HUREN_REFRESH_SECS", "not a number"))?,
            )
        }
        if let Some(v) = env("HUREN_RATE_LIMIT") {
            self.rate_limit = Some(
                v.parse()
                    .map_err(|_| err("HUREN_RATE_LIMIT", "not a number"))?,
            )
        }
        if let Some(v) = env("HUREN_OFFLINE") {
            // A switch that says neither yes nor no is refused, not read as "online".
            self.offline = Some(switch("HUREN_OFFLINE", &v)?)
        }
        if let Some(v) = env("HUREN_LOG_CHECK") {
            self.log_check = Some(v)
        }
        if let Some(v) = env("HUREN_REQUIRE_LOGGED") {
            // Refused rather than read as "not required": a typo must not turn it off.
            self.require_logged = Some(switch("HUREN_REQUIRE_LOGGED", &v)?)
        }
        if let Some(v) = env("HUREN_LOG_MERGE_DELAY_SECS") {
            self.log_merge_delay_secs = Some(
                v.parse()
                    .map_err(|_| err("HUREN_LOG_MERGE_DELAY_SECS", "not a number"))?,
            )
        }
        if let Some(v) = env("HUREN_TRUSTED_PROXY_HEADER") {
            self.trusted_proxy_header = Some(v)
        }
        if let Some(v) = env("HUREN_TRUSTED_PROXIES") {
            self.trusted_proxies = Some(v.split(',').map(|p| p.trim().to_owned()).collect())
        }
        if let Some(v) = env("HUREN_VERIFIER_UNIT") {
            self.unit = Some(v)
        }
        if let Some(v) = env("HUREN_GRACE_SECS") {
            self.grace_secs = Some(
                v.parse()
                    .map_err(|_| err("HUREN_GRACE_SECS", "not a number"))?,
            )
        }
        Ok(self)
    }

    /// Validates and fills defaults.
    pub fn resolve(self) -> Result<ServiceConfig, ConfigError> {
        let log_check = self.log_check()?;
        let listen = self.listen.unwrap_or_else(|| "127.0.0.1:8400".into());
        let listen = listen.parse().map_err(|_| {
            err(
                "listen (HUREN_LISTEN)",
                format!("{listen:?} is not address:port"),
            )
        })?;
        let refresh = self.refresh_secs.unwrap_or(60);
        if !(1..=86_400).contains(&refresh) {
            return Err(err(
                "refresh_secs (HUREN_REFRESH_SECS)",
                "must be 1 to 86400",
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
        let trusted_proxy = match (self.trusted_proxy_header, self.trusted_proxies) {
            (None, None) => None,
            (Some(header), Some(proxies)) => {
                let header = HeaderName::from_bytes(header.trim().as_bytes()).map_err(|_| {
                    err(
                        "trusted_proxy_header (HUREN_TRUSTED_PROXY_HEADER)",
                        format!("{header:?} is not a header name"),
                    )
                })?;
                let proxies = proxies
                    .iter()
                    .filter(|p| !p.trim().is_empty())
                    .map(|p| AddressBlock::parse(p))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| err("trusted_proxies (HUREN_TRUSTED_PROXIES)", e))?;
                if proxies.is_empty() {
                    return Err(err(
                        "trusted_proxies (HUREN_TRUSTED_PROXIES)",
                        "name at least one proxy address",
                    ));
                }
                Some(TrustedProxy { header, proxies })
            }
            (Some(_), None) => {
                return Err(err(
                    "trusted_proxies (HUREN_TRUSTED_PROXIES)",
                    "is required with trusted_proxy_header: the header is believed only from these peers",
                ))
            }
            (None, Some(_)) => {
                return Err(err(
                    "trusted_proxy_header (HUREN_TRUSTED_PROXY_HEADER)",
                    "is required with trusted_proxies",
                ))
            }
        };
        let log_merge_delay_secs = self.log_merge_delay_secs.unwrap_or(5);
        // Every second of it is a second a stolen key's token passes with a warning only.
        if !(0..=3600).contains(&log_merge_delay_secs) {
            return Err(err(
                "log_merge_delay_secs (HUREN_LOG_MERGE_DELAY_SECS)",
                "must be 0 to 3600",
            ));
        }
        let unit = self
            .unit
            .map(|code| {
                Uscc::parse(code.trim()).map_err(|e| {
                    err(
                        "unit (HUREN_VERIFIER_UNIT)",
                        format!("{code:?} is not a valid USCC (统一社会信用代码): {e}"),
                    )
                })
            })
            .transpose()?;
        Ok(ServiceConfig {
            unit,
            trusted_proxy,
            listen,
            trust_list: self
                .trust_list
                .ok_or_else(|| err("trust_list (HUREN_TRUST_LIST)", "is required"))?,
            operator_certs: self
                .operator_cert
                .filter(|c| !c.is_empty())
                .ok_or_else(|| err("operator_cert (HUREN_OPERATOR_CERT)", "is required"))?,
            cache_dir: self
                .cache_dir
                .unwrap_or_else(|| PathBuf::from("huren-verifier-cache")),
            refresh: Duration::from_secs(refresh),
            addr_file: self.addr_file,
            rate_limit: self.rate_limit.unwrap_or(50),
            online: !self.offline.unwrap_or(false),
            grace_secs: self.grace_secs.unwrap_or(0),
            log_check,
            log_merge_delay_secs,
            log_format,
        })
    }
}

/// A yes/no setting: `1`/`true`/`yes` or `0`/`false`/`no`, nothing else.
impl VerifierFile {
    /// `log_check`, with `require_logged` as its older spelling; the two must agree.
    fn log_check(&self) -> Result<LogCheck, ConfigError> {
        const SETTING: &str = "log_check (HUREN_LOG_CHECK)";
        let named = match self.log_check.as_deref() {
            None => None,
            Some(text) => Some(
                text.trim()
                    .parse::<LogCheck>()
                    .map_err(|e| err(SETTING, e.to_string()))?,
            ),
        };
        match (named, self.require_logged) {
            (Some(check), Some(required)) if check.requires() != required => Err(err(
                "require_logged (HUREN_REQUIRE_LOGGED)",
                format!("says {required} but log_check says {check}: set only log_check"),
            )),
            (Some(check), _) => Ok(check),
            (None, Some(true)) => Ok(LogCheck::Require),
            (None, _) => Ok(LogCheck::default()),
        }
    }
}

fn switch(setting: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(err(setting, "must be true or false")),
    }
}

fn toml_parse(text: &str) -> Result<VerifierFile, ConfigError> {
    toml::from_str(text).map_err(|e| err("config file", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> VerifierFile {
        VerifierFile {
            trust_list: Some("tl.jwt".into()),
            operator_cert: Some(vec![PathBuf::from("op.pem")]),
            ..VerifierFile::default()
        }
    }

    #[test]
    fn a_trusted_proxy_header_needs_the_proxies_it_is_believed_from() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let config = base()
            .with_env(env(&[
                ("HUREN_TRUSTED_PROXY_HEADER", "X-Forwarded-For"),
                ("HUREN_TRUSTED_PROXIES", "10.0.0.5, 2001:db8::/64"),
            ]))
            .unwrap()
            .resolve()
            .unwrap();
        let proxy = config.trusted_proxy.unwrap();
        assert_eq!(proxy.header, "x-forwarded-for");
        assert_eq!(proxy.proxies.len(), 2);
        assert!(base().resolve().unwrap().trusted_proxy.is_none());

        let only_header = base()
            .with_env(env(&[("HUREN_TRUSTED_PROXY_HEADER", "X-Forwarded-For")]))
            .unwrap()
            .resolve()
            .unwrap_err();
        assert_eq!(
            only_header.setting,
            "trusted_proxies (HUREN_TRUSTED_PROXIES)"
        );
        let bad_block = base()
            .with_env(env(&[
                ("HUREN_TRUSTED_PROXY_HEADER", "X-Forwarded-For"),
                ("HUREN_TRUSTED_PROXIES", "10.0.0.0/40"),
            ]))
            .unwrap()
            .resolve()
            .unwrap_err();
        assert!(
            bad_block.message.contains("10.0.0.0/40"),
            "{}",
            bad_block.message
        );
        let bad_header = base()
            .with_env(env(&[
                ("HUREN_TRUSTED_PROXY_HEADER", "X Forwarded"),
                ("HUREN_TRUSTED_PROXIES", "10.0.0.5"),
            ]))
            .unwrap()
            .resolve()
            .unwrap_err();
        assert_eq!(
            bad_header.setting,
            "trusted_proxy_header (HUREN_TRUSTED_PROXY_HEADER)"
        );
    }

    #[test]
    fn the_verifier_unit_is_a_valid_uscc_or_the_service_does_not_start() {
        assert!(base().resolve().unwrap().unit.is_none());
        let config = base()
            .with_env(|name| {
                (name == "HUREN_VERIFIER_UNIT").then(|| "91350100M000100Y43".to_owned())
            })
            .unwrap()
            .resolve()
            .unwrap();
        assert_eq!(config.unit.unwrap().as_str(), "91350100M000100Y43");
        let from_file = VerifierFile::from_toml(
            "trust_list = \"tl.jwt\"\noperator_cert = [\"op.pem\"]\nunit = \"91350100M000100Y43\"\n",
        )
        .unwrap()
        .resolve()
        .unwrap();
        assert_eq!(from_file.unit.unwrap().as_str(), "91350100M000100Y43");
        // A wrong check character, lower case, a short code: refused at start, naming the
        // variable.
        for bad in ["91350100M000100Y44", "91350100m000100y43", "913501", ""] {
            let error = base()
                .with_env(move |name| (name == "HUREN_VERIFIER_UNIT").then(|| bad.to_owned()))
                .unwrap()
                .resolve()
                .unwrap_err();
            assert_eq!(error.setting, "unit (HUREN_VERIFIER_UNIT)", "{bad}");
        }
    }

    #[test]
    fn the_environment_wins_and_values_are_read_strictly() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let config = base()
            .with_env(env(&[
                ("HUREN_TRUST_LIST", "https://trust.example/tl.jwt"),
                ("HUREN_OPERATOR_CERT", "a.pem, b.pem"),
                ("HUREN_REFRESH_SECS", "30"),
                ("HUREN_OFFLINE", "yes"),
                // Not a setting of this service: never read.
                ("HUREN_REGION_DIR", "zj"),
            ]))
            .unwrap()
            .resolve()
            .unwrap();
        assert_eq!(config.trust_list, "https://trust.example/tl.jwt");
        assert_eq!(
            config.operator_certs,
            [PathBuf::from("a.pem"), PathBuf::from("b.pem")]
        );
        assert_eq!(config.refresh, Duration::from_secs(30));
        assert!(!config.online);
        // A rate limit of "off" must not turn the limiter off; an offline switch that says
        // neither yes nor no is refused.
        for (variable, value) in [
            ("HUREN_RATE_LIMIT", "off"),
            ("HUREN_RATE_LIMIT", "0.4"),
            ("HUREN_REFRESH_SECS", "30.6"),
            ("HUREN_OFFLINE", "maybe"),
            ("HUREN_OFFLINE", "2"),
            ("HUREN_REQUIRE_LOGGED", "on"),
            ("HUREN_REQUIRE_LOGGED", "Yes please"),
            ("HUREN_LOG_MERGE_DELAY_SECS", "5s"),
            ("HUREN_LOG_MERGE_DELAY_SECS", "2.5"),
        ] {
            let error = base()
                .with_env(move |name| (name == variable).then(|| value.to_owned()))
                .unwrap_err();
            assert_eq!(error.setting, variable, "{value}");
        }
    }

    #[test]
    fn the_log_check_warns_by_default_and_the_merge_delay_is_bounded() {
        let config = base().resolve().unwrap();
        assert_eq!(config.log_check, LogCheck::Warn);
        assert_eq!(config.log_merge_delay_secs, 5);
        let config = base()
            .with_env(|name| match name {
                "HUREN_REQUIRE_LOGGED" => Some("yes".into()),
                "HUREN_LOG_MERGE_DELAY_SECS" => Some("20".into()),
                _ => None,
            })
            .unwrap()
            .resolve()
            .unwrap();
        assert_eq!(config.log_check, LogCheck::Require);
        assert_eq!(config.log_merge_delay_secs, 20);
        let from_file = VerifierFile::from_toml(
            "trust_list = \"tl.jwt\"\noperator_cert = [\"op.pem\"]\nrequire_logged = true\n",
        )
        .unwrap()
        .resolve()
        .unwrap();
        assert_eq!(from_file.log_check, LogCheck::Require);
        for (value, check) in [
            ("require", LogCheck::Require),
            ("warn", LogCheck::Warn),
            ("off", LogCheck::Off),
        ] {
            let config = base()
                .with_env(move |name| (name == "HUREN_LOG_CHECK").then(|| value.to_owned()))
                .unwrap()
                .resolve()
                .unwrap();
            assert_eq!(config.log_check, check, "{value}");
        }
        // A typo must not turn the check off, and the two spellings must agree.
        let error = base()
            .with_env(|name| (name == "HUREN_LOG_CHECK").then(|| "of".to_owned()))
            .unwrap()
            .resolve()
            .unwrap_err();
        assert_eq!(error.setting, "log_check (HUREN_LOG_CHECK)");
        assert_eq!(
            error.message,
            "\"of\" is not a log check: require, warn or off"
        );
        let error = base()
            .with_env(|name| match name {
                "HUREN_LOG_CHECK" => Some("off".into()),
                "HUREN_REQUIRE_LOGGED" => Some("true".into()),
                _ => None,
            })
            .unwrap()
            .resolve()
            .unwrap_err();
        assert_eq!(error.setting, "require_logged (HUREN_REQUIRE_LOGGED)");
        assert_eq!(
            error.message,
            "says true but log_check says off: set only log_check"
        );
        for bad in ["-1", "3601"] {
            let error = base()
                .with_env(move |name| {
                    (name == "HUREN_LOG_MERGE_DELAY_SECS").then(|| bad.to_owned())
                })
                .unwrap()
                .resolve()
                .unwrap_err();
            assert_eq!(
                error.setting, "log_merge_delay_secs (HUREN_LOG_MERGE_DELAY_SECS)",
                "{bad}"
            );
        }
    }
}
