//! The trust-list operator's directory: its key and self-signed certificate.
//!
//! ```text
//! operator-dir/
//!   operator.json
//!   operator.crt.pem  operator.key.pem
//! ```
//!
//! Created whole or not at all and with keys protected as a region directory's
//! ([`crate::layout`], whose staging and key loading it shares).

use std::path::{Path, PathBuf};

use huren_crypto::alg::Algorithm;
use huren_crypto::time::UnixTime;
use serde::{Deserialize, Serialize};

use crate::certificate::{self, Profile, Subject, ROOT_VALIDITY_DAYS};
use crate::keypair::PrivateKey;
use crate::layout::{
    load_key, read_json, write_json, write_key, written_with, KeyFiles, LayoutError, Staging,
};
use crate::pem;
use crate::store::{Passphrase, PlaintextKeys, Protection};

/// File name of the operator's description.
pub const OPERATOR_FILE: &str = "operator.json";

/// `operator.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorConfig {
    /// Display name.
    pub name: String,
    /// JOSE algorithm of the operator key.
    pub alg: Algorithm,
    /// Certificate and key.
    pub files: KeyFiles,
}

/// The operator directory, opened.
#[derive(Debug, Clone)]
pub struct OperatorDir {
    /// Where it is.
    pub path: PathBuf,
    /// `operator.json`.
    pub config: OperatorConfig,
    /// Whether its key may be unencrypted (as for [`crate::layout::RegionDir::plaintext_keys`]).
    pub plaintext_keys: PlaintextKeys,
}

/// Creates the trust-list operator's key and self-signed certificate (10 years).
pub fn init_operator(
    out: &Path,
    name: &str,
    alg: Algorithm,
    protection: Protection<'_>,
    now: UnixTime,
) -> Result<OperatorDir, LayoutError> {
    let staging = Staging::begin(out)?;
    let key = PrivateKey::generate(alg).map_err(|source| LayoutError::Key {
        path: "operator.key.pem".into(),
        source,
    })?;
    let spki = key
        .public_key_spki_der()
        .map_err(|source| LayoutError::Key {
            path: "operator".into(),
            source,
        })?;
    let der = certificate::issue(
        &Subject {
            organization: name.to_owned(),
            common_name: format!("{name} 信任列表签名"),
        },
        &spki,
        Profile::Operator,
        now,
        now.plus(ROOT_VALIDITY_DAYS * 86_400),
        None,
        &key,
        &mut rand_core::OsRng,
    )?;
    let files = KeyFiles {
        cert: "operator.crt.pem".into(),
        key: Some("operator.key.pem".into()),
    };
    pem::write_certificate(&staging.file(&files.cert), &der, false)?;
    write_key(&staging.file("operator.key.pem"), &key, protection)?;
    write_json(
        &staging.file(OPERATOR_FILE),
        &OperatorConfig {
            name: name.to_owned(),
            alg,
            files,
        },
    )?;
    staging.commit()?;
    Ok(OperatorDir::open(out)?.with_plaintext_keys(written_with(protection)))
}

impl OperatorDir {
    /// Opens an operator directory.
    pub fn open(path: &Path) -> Result<OperatorDir, LayoutError> {
        Ok(OperatorDir {
            path: path.to_path_buf(),
            config: read_json(&path.join(OPERATOR_FILE))?,
            plaintext_keys: PlaintextKeys::Refuse,
        })
    }

    /// The same directory with its key loaded under `plaintext` (see [`PlaintextKeys`]).
    pub fn with_plaintext_keys(mut self, plaintext: PlaintextKeys) -> OperatorDir {
        self.plaintext_keys = plaintext;
        self
    }

    /// The operator certificate (DER).
    pub fn certificate(&self) -> Result<Vec<u8>, LayoutError> {
        Ok(pem::read_certificate(
            &self.path.join(&self.config.files.cert),
        )?)
    }

    /// The operator key.
    pub fn key(&self, passphrase: Option<&Passphrase>) -> Result<PrivateKey, LayoutError> {
        let name = self
            .config
            .files
            .key
            .as_ref()
            .ok_or_else(|| LayoutError::NoKey("operator".into()))?;
        load_key(
            &self.path.join(name),
            self.config.alg,
            passphrase,
            self.plaintext_keys,
        )
    }
}
