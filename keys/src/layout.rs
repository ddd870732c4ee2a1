//! The on-disk layout of a province's PKI directory (the operator's directory is in
//! [`crate::operator`], re-exported here), and what both share: staged creation, key files,
//! JSON descriptions.
//!
//! ```text
//! region-dir/
//!   region.json
//!   root.crt.pem   root.key.pem
//!   licence-signer.crt.pem/.key.pem
//!   status-signer.crt.pem/.key.pem
//!   seal-maker.crt.pem/.key.pem
//!   log.key.pem  witness.key.pem     Ed25519 signed-note keys of the issuance log (note_keys)
//! ```
//!
//! Directories are created whole or not at all: everything is written into a sibling
//! `.partial` directory that is renamed into place last, so a crash never leaves a
//! half-initialised province. Private keys are PKCS#8 encrypted under the passphrase
//! (plaintext only when the caller explicitly asks, for test set-ups), mode 0600.

use std::fs;
use std::path::{Path, PathBuf};

use huren_crypto::alg::Algorithm;
use huren_crypto::cert::{CertError, Certificate};
use huren_crypto::ids::RegionCode;
use huren_crypto::oids::Purpose;
use huren_crypto::time::UnixTime;
use serde::{Deserialize, Serialize};

use crate::certificate::{
    self, CertBuildError, Profile, Subject, LEAF_VALIDITY_DAYS, ROOT_VALIDITY_DAYS,
};
use crate::keypair::{KeyError, PrivateKey};
use crate::note_keys::{self, NoteKeyFiles};
use crate::pem::{self, PemError};
use crate::rollover::RetiredKey;
use crate::store::{self, Passphrase, PlaintextKeys, Protection, StoreError};

pub use crate::operator::{init_operator, OperatorConfig, OperatorDir, OPERATOR_FILE};

/// File name of a region's description.
pub const REGION_FILE: &str = "region.json";
/// Path of a status list below an issuer's public URL.
pub const STATUS_PATH: &str = "/v1/status/";

/// A certificate and (optionally) its private key, as file names inside the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFiles {
    /// Certificate file (PEM).
    pub cert: String,
    /// Private key file (PKCS#8 PEM), absent when the key is held elsewhere (offline root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// A licence signer of the region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerFiles {
    /// Its certificate and key.
    #[serde(flatten)]
    pub files: KeyFiles,
    /// Licence type codes it may sign (`*` = all).
    pub scopes: Vec<String>,
    /// Whether new licences are signed with it (exactly one signer is active).
    pub active: bool,
}

/// `region.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionConfig {
    /// GB/T 2260 province code.
    pub code: RegionCode,
    /// Display name.
    pub name: String,
    /// JOSE algorithm of its signers.
    pub alg: Algorithm,
    /// Base URL of its issuer; status lists are served below it.
    pub public_url: String,
    /// Province root CA.
    pub root: KeyFiles,
    /// Licence signers.
    pub signers: Vec<SignerFiles>,
    /// Status-list signer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_signer: Option<KeyFiles>,
    /// Seal maker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal_maker: Option<KeyFiles>,
    /// Status signers replaced by a rollover, listed until what they signed has expired.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired_status_signers: Vec<RetiredKey>,
    /// Seal makers replaced by a rollover, listed until the seals they made have expired.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired_seal_makers: Vec<RetiredKey>,
    /// The issuance log's checkpoint key (SPEC §12, [`crate::note_keys`]); absent in
    /// directories made before logs existed (`huren pki log-keys` adds it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<NoteKeyFiles>,
    /// The key this region's issuer cosigns other regions' checkpoints with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness: Option<NoteKeyFiles>,
}

impl RegionConfig {
    /// The prefix all its status-list URIs start with.
    pub fn status_uri_prefix(&self) -> String {
        format!("{}{STATUS_PATH}", self.public_url.trim_end_matches('/'))
    }
}

/// Why a directory could not be created or read.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    /// File store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Certificate file failure.
    #[error(transparent)]
    Pem(#[from] PemError),
    /// A key failure.
    #[error("{path}")]
    Key {
        /// The key file.
        path: String,
        /// Why.
        source: KeyError,
    },
    /// Building a certificate failed.
    #[error(transparent)]
    Build(#[from] CertBuildError),
    /// A certificate does not fit its role.
    #[error("{path}")]
    Certificate {
        /// The certificate file.
        path: String,
        /// Why.
        source: CertError,
    },
    /// The key does not belong to the certificate.
    #[error("{key} is not the private key of {cert}")]
    KeyMismatch {
        /// Key file.
        key: String,
        /// Certificate file.
        cert: String,
    },
    /// The description file is invalid.
    #[error("{path}: {message}")]
    Config {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The target exists already.
    #[error("{0} already exists and is not empty; choose another --out or remove it")]
    Exists(String),
    /// Directory operations failed.
    #[error("{path}")]
    Io {
        /// The path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A key is needed but the directory has none (e.g. an offline root).
    #[error("{0} has no private key in this directory")]
    NoKey(String),
    /// The passphrase is needed.
    #[error("private keys are encrypted: set HUREN_KEY_PASSPHRASE or pass --passphrase-file")]
    PassphraseRequired,
    /// A log or witness key file is not a usable Ed25519 key.
    #[error("{path}")]
    NoteKey {
        /// The key file.
        path: String,
        /// Why.
        source: huren_crypto::tlog::TlogError,
    },
    /// A log or witness key file holds another key than the one `region.json` names.
    #[error("{key} does not hold the {role} key region.json names ({vkey}); was the file swapped or replaced?")]
    NoteKeyMismatch {
        /// The key file.
        key: String,
        /// `log` or `witness`.
        role: &'static str,
        /// The verifier key `region.json` names (public).
        vkey: String,
    },
    /// The same key was offered as log key and as witness key.
    #[error("the log key ({log}) and the witness key ({witness}) are the same key; a witness must never be able to sign as the log: use two distinct keys")]
    SameNoteKey {
        /// Where the log key came from.
        log: String,
        /// Where the witness key came from.
        witness: String,
    },
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> LayoutError + '_ {
    move |source| LayoutError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A region directory, opened and checked.
#[derive(Debug, Clone)]
pub struct RegionDir {
    /// Where it is.
    pub path: PathBuf,
    /// `region.json`.
    pub config: RegionConfig,
    /// Whether its keys may be unencrypted: [`PlaintextKeys::Refuse`] when opened, unless the
    /// caller allows them ([`RegionDir::with_plaintext_keys`]) or just wrote them so.
    pub plaintext_keys: PlaintextKeys,
}

/// The plaintext policy of a directory this process has just written with `protection`: a
/// caller that asked for plaintext keys has allowed them explicitly.
pub(crate) fn written_with(protection: Protection<'_>) -> PlaintextKeys {
    match protection {
        Protection::Encrypted(_) => PlaintextKeys::Refuse,
        Protection::Plaintext => PlaintextKeys::Allow,
    }
}

/// Writes a directory via a sibling `.partial` directory renamed into place at the end.
pub(crate) struct Staging {
    target: PathBuf,
    partial: PathBuf,
}

impl Staging {
    pub(crate) fn begin(target: &Path) -> Result<Staging, LayoutError> {
        if target.exists()
            && fs::read_dir(target)
                .map_err(io_err(target))?
                .next()
                .is_some()
        {
            return Err(LayoutError::Exists(target.display().to_string()));
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "dir".into());
        let partial = target.with_file_name(format!(".{name}.partial"));
        if partial.exists() {
            // Left by an earlier crash: nothing in it was ever in use.
            fs::remove_dir_all(&partial).map_err(io_err(&partial))?;
        }
        fs::create_dir_all(&partial).map_err(io_err(&partial))?;
        Ok(Staging {
            target: target.to_path_buf(),
            partial,
        })
    }

    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.partial.join(name)
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.partial
    }

    pub(crate) fn commit(self) -> Result<(), LayoutError> {
        if self.target.exists() {
            fs::remove_dir(&self.target).map_err(io_err(&self.target))?;
        }
        fs::rename(&self.partial, &self.target).map_err(io_err(&self.target))?;
        if let Some(parent) = self.target.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::File::open(parent)
                .and_then(|d| d.sync_all())
                .map_err(io_err(parent))?;
        }
        Ok(())
    }
}

pub(crate) fn write_key(
    path: &Path,
    key: &PrivateKey,
    protection: Protection<'_>,
) -> Result<(), LayoutError> {
    let der = key.to_pkcs8_der().map_err(|source| LayoutError::Key {
        path: path.display().to_string(),
        source,
    })?;
    store::write_private_key(path, &der, protection, false, &mut rand_core::OsRng)?;
    Ok(())
}

pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), LayoutError> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| LayoutError::Config {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    text.push('\n');
    store::write_atomic(path, text.as_bytes(), 0o644, false)?;
    Ok(())
}

/// Replaces `dir/region.json` with `config`, atomically: every change to an existing region
/// directory (rollover, log keys) ends here, after the key files it names are on disk.
pub(crate) fn rewrite_region_file(dir: &Path, config: &RegionConfig) -> Result<(), LayoutError> {
    let mut text = serde_json::to_string_pretty(config).map_err(|e| LayoutError::Config {
        path: REGION_FILE.into(),
        message: e.to_string(),
    })?;
    text.push('\n');
    store::write_atomic(&dir.join(REGION_FILE), text.as_bytes(), 0o644, true)?;
    Ok(())
}

pub(crate) fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, LayoutError> {
    let bytes = store::read_bounded(path, 1 << 20)?;
    serde_json::from_slice(&bytes).map_err(|e| LayoutError::Config {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// What `huren pki init-region` needs.
#[derive(Debug)]
pub struct InitRegion<'a> {
    /// Province code.
    pub code: RegionCode,
    /// Display name.
    pub name: String,
    /// Signature algorithm for all its keys.
    pub alg: Algorithm,
    /// Base URL of its issuer.
    pub public_url: String,
    /// Key protection.
    pub protection: Protection<'a>,
    /// Issuance time of the certificates.
    pub now: UnixTime,
}

/// Creates a province PKI: root CA (10 years), licence signer, status signer and seal maker
/// (2 years each), all with `alg`, in `out`.
pub fn init_region(out: &Path, init: &InitRegion<'_>) -> Result<RegionDir, LayoutError> {
    let staging = Staging::begin(out)?;
    let organization = format!("{}人民政府", init.name);
    let root_key = PrivateKey::generate(init.alg).map_err(|source| LayoutError::Key {
        path: "root.key.pem".into(),
        source,
    })?;
    let root_der = certificate::issue(
        &Subject {
            organization: organization.clone(),
            common_name: format!("{} 电子证照根证书 ({})", init.name, init.code),
        },
        &root_key
            .public_key_spki_der()
            .map_err(|source| LayoutError::Key {
                path: "root".into(),
                source,
            })?,
        Profile::RootCa,
        init.now,
        init.now.plus(ROOT_VALIDITY_DAYS * 86_400),
        None,
        &root_key,
        &mut rand_core::OsRng,
    )?;
    pem::write_certificate(&staging.file("root.crt.pem"), &root_der, false)?;
    write_key(&staging.file("root.key.pem"), &root_key, init.protection)?;

    let leaf = |stem: &str, label: &str, purpose| -> Result<KeyFiles, LayoutError> {
        let key = PrivateKey::generate(init.alg).map_err(|source| LayoutError::Key {
            path: format!("{stem}.key.pem"),
            source,
        })?;
        let spki = key
            .public_key_spki_der()
            .map_err(|source| LayoutError::Key {
                path: stem.into(),
                source,
            })?;
        let der = certificate::issue(
            &Subject {
                organization: organization.clone(),
                common_name: format!("{} {label} ({})", init.name, init.code),
            },
            &spki,
            Profile::Leaf(purpose),
            init.now,
            init.now.plus(LEAF_VALIDITY_DAYS * 86_400),
            Some(&root_der),
            &root_key,
            &mut rand_core::OsRng,
        )?;
        let files = KeyFiles {
            cert: format!("{stem}.crt.pem"),
            key: Some(format!("{stem}.key.pem")),
        };
        pem::write_certificate(&staging.file(&files.cert), &der, false)?;
        write_key(
            &staging.file(&format!("{stem}.key.pem")),
            &key,
            init.protection,
        )?;
        Ok(files)
    };
    let signer = leaf("licence-signer", "证照签发", Purpose::LicenceSigner)?;
    let status_signer = leaf("status-signer", "证照状态签发", Purpose::StatusSigner)?;
    let seal_maker = leaf("seal-maker", "电子印章制章", Purpose::SealMaker)?;
    let (log, witness) = note_keys::make_both(staging.dir(), &init.code, init.protection)?;

    let config = RegionConfig {
        code: init.code.clone(),
        name: init.name.clone(),
        alg: init.alg,
        public_url: init.public_url.clone(),
        root: KeyFiles {
            cert: "root.crt.pem".into(),
            key: Some("root.key.pem".into()),
        },
        signers: vec![SignerFiles {
            files: signer,
            scopes: vec!["*".into()],
            active: true,
        }],
        status_signer: Some(status_signer),
        seal_maker: Some(seal_maker),
        retired_status_signers: Vec::new(),
        retired_seal_makers: Vec::new(),
        log: Some(log),
        witness: Some(witness),
    };
    write_json(&staging.file(REGION_FILE), &config)?;
    staging.commit()?;
    Ok(RegionDir::open(out)?.with_plaintext_keys(written_with(init.protection)))
}

/// Key and certificate files made elsewhere (e.g. by the `openssl` command line).
#[derive(Debug, Clone)]
pub struct ImportedPair {
    /// Certificate file (PEM or DER).
    pub cert: PathBuf,
    /// Private key file (PKCS#8 PEM/DER, encrypted or not; or SEC1/PKCS#1 PEM).
    pub key: PathBuf,
}

/// What `huren pki import-region` needs.
#[derive(Debug)]
pub struct ImportRegion<'a> {
    /// Province code.
    pub code: RegionCode,
    /// Display name.
    pub name: String,
    /// JOSE algorithm (must fit the keys; RSA keys: PS256 or RS256).
    pub alg: Algorithm,
    /// Base URL of its issuer.
    pub public_url: String,
    /// Root CA certificate (its key stays wherever it is).
    pub root_cert: PathBuf,
    /// Licence signer.
    pub signer: ImportedPair,
    /// Status signer, if separate.
    pub status_signer: Option<ImportedPair>,
    /// Seal maker, if any.
    pub seal_maker: Option<ImportedPair>,
    /// Passphrase for reading encrypted source keys.
    pub source_passphrase: Option<&'a Passphrase>,
    /// Protection of the copies written.
    pub protection: Protection<'a>,
    /// Time the certificates are checked at.
    pub now: UnixTime,
}

/// Reads an imported private key as PKCS#8, converting SEC1 / PKCS#1 PEM.
fn read_foreign_key(
    path: &Path,
    passphrase: Option<&Passphrase>,
) -> Result<zeroize::Zeroizing<Vec<u8>>, LayoutError> {
    match store::read_private_key(path, passphrase) {
        Ok(file) => Ok(file.pkcs8_der),
        Err(StoreError::UnexpectedPemLabel { .. }) => {
            let text = store::read_bounded(path, store::MAX_KEY_FILE_BYTES)?;
            let (label, der) = der::pem::decode_vec(&text).map_err(|e| LayoutError::Config {
                path: path.display().to_string(),
                message: format!("not PEM: {e}"),
            })?;
            let der = zeroize::Zeroizing::new(der);
            PrivateKey::legacy_der_to_pkcs8(label, &der).map_err(|source| LayoutError::Key {
                path: path.display().to_string(),
                source,
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Imports a province whose root, signer (and optionally status signer and seal maker) were
/// made elsewhere. Every certificate is checked (chain to the root, EKU, validity now, key
/// matches) before anything is written; keys are re-encrypted under this installation's
/// protection.
pub fn import_region(out: &Path, import: &ImportRegion<'_>) -> Result<RegionDir, LayoutError> {
    let root_der = pem::read_certificate(&import.root_cert)?;
    let cert_err = |path: &Path| {
        let path = path.display().to_string();
        move |source| LayoutError::Certificate {
            path: path.clone(),
            source,
        }
    };
    let root = Certificate::from_der(&root_der).map_err(cert_err(&import.root_cert))?;
    if !root.is_ca() || !root.is_self_issued() {
        return Err(LayoutError::Certificate {
            path: import.root_cert.display().to_string(),
            source: CertError::NotACa {
                subject: root.subject().to_owned(),
            },
        });
    }
    root.check_issued_by(&root)
        .map_err(cert_err(&import.root_cert))?;

    let mut pairs = vec![("licence-signer", Purpose::LicenceSigner, &import.signer)];
    if let Some(pair) = &import.status_signer {
        pairs.push(("status-signer", Purpose::StatusSigner, pair));
    }
    if let Some(pair) = &import.seal_maker {
        pairs.push(("seal-maker", Purpose::SealMaker, pair));
    }
    let mut checked = Vec::new();
    for (stem, purpose, pair) in pairs {
        let der = pem::read_certificate(&pair.cert)?;
        let cert = Certificate::from_der(&der).map_err(cert_err(&pair.cert))?;
        cert.check_issued_by(&root).map_err(cert_err(&pair.cert))?;
        cert.check_leaf_profile(purpose)
            .map_err(cert_err(&pair.cert))?;
        cert.check_valid_at(import.now)
            .map_err(cert_err(&pair.cert))?;
        let pkcs8 = read_foreign_key(&pair.key, import.source_passphrase)?;
        let key =
            PrivateKey::from_pkcs8_der(&pkcs8, import.alg).map_err(|source| LayoutError::Key {
                path: pair.key.display().to_string(),
                source,
            })?;
        let spki = key
            .public_key_spki_der()
            .map_err(|source| LayoutError::Key {
                path: pair.key.display().to_string(),
                source,
            })?;
        if spki != cert.public_key().spki_der() {
            return Err(LayoutError::KeyMismatch {
                key: pair.key.display().to_string(),
                cert: pair.cert.display().to_string(),
            });
        }
        checked.push((stem, der, key));
    }
    // The signer certificate may also carry the status-signer EKU and serve both roles.
    let signer_serves_status = import.status_signer.is_none()
        && Certificate::from_der(&checked[0].1).is_ok_and(|c| c.has_purpose(Purpose::StatusSigner));

    let staging = Staging::begin(out)?;
    pem::write_certificate(&staging.file("root.crt.pem"), &root_der, false)?;
    // The log's signed-note keys are huren's own (no certificate): made here, importable later
    // with `huren pki log-keys`.
    let (log, witness) = note_keys::make_both(staging.dir(), &import.code, import.protection)?;
    let mut files = std::collections::HashMap::new();
    for (stem, der, key) in &checked {
        let pair = KeyFiles {
            cert: format!("{stem}.crt.pem"),
            key: Some(format!("{stem}.key.pem")),
        };
        pem::write_certificate(&staging.file(&pair.cert), der, false)?;
        write_key(
            &staging.file(&format!("{stem}.key.pem")),
            key,
            import.protection,
        )?;
        files.insert(*stem, pair);
    }
    let signer = files
        .remove("licence-signer")
        .ok_or_else(|| LayoutError::NoKey("licence signer".into()))?;
    let status_signer = files
        .remove("status-signer")
        .or_else(|| signer_serves_status.then(|| signer.clone()));
    let config = RegionConfig {
        code: import.code.clone(),
        name: import.name.clone(),
        alg: import.alg,
        public_url: import.public_url.clone(),
        root: KeyFiles {
            cert: "root.crt.pem".into(),
            key: None,
        },
        signers: vec![SignerFiles {
            files: signer,
            scopes: vec!["*".into()],
            active: true,
        }],
        status_signer,
        seal_maker: files.remove("seal-maker"),
        retired_status_signers: Vec::new(),
        retired_seal_makers: Vec::new(),
        log: Some(log),
        witness: Some(witness),
    };
    write_json(&staging.file(REGION_FILE), &config)?;
    staging.commit()?;
    Ok(RegionDir::open(out)?.with_plaintext_keys(written_with(import.protection)))
}

impl RegionDir {
    /// Opens a region directory and checks its description.
    pub fn open(path: &Path) -> Result<RegionDir, LayoutError> {
        let file = path.join(REGION_FILE);
        let config: RegionConfig = read_json(&file)?;
        let config_err = |message: &str| LayoutError::Config {
            path: file.display().to_string(),
            message: message.to_owned(),
        };
        if !config.code.is_province() {
            return Err(config_err("code must be a province-level code (…0000)"));
        }
        if config.signers.iter().filter(|s| s.active).count() != 1 {
            return Err(config_err("exactly one signer must be active"));
        }
        if !(config.public_url.starts_with("http://") || config.public_url.starts_with("https://"))
        {
            return Err(config_err("public_url must be an http(s) URL"));
        }
        note_keys::check_config(&config).map_err(|message| config_err(&message))?;
        Ok(RegionDir {
            path: path.to_path_buf(),
            config,
            plaintext_keys: PlaintextKeys::Refuse,
        })
    }

    /// The same directory with its keys loaded under `plaintext` (see [`PlaintextKeys`]).
    pub fn with_plaintext_keys(mut self, plaintext: PlaintextKeys) -> RegionDir {
        self.plaintext_keys = plaintext;
        self
    }

    /// DER of a certificate named in the description.
    pub fn certificate(&self, files: &KeyFiles) -> Result<Vec<u8>, LayoutError> {
        Ok(pem::read_certificate(&self.path.join(&files.cert))?)
    }

    /// The root certificate (DER).
    pub fn root_der(&self) -> Result<Vec<u8>, LayoutError> {
        self.certificate(&self.config.root)
    }

    /// Loads a key named in the description.
    pub fn key(
        &self,
        files: &KeyFiles,
        passphrase: Option<&Passphrase>,
    ) -> Result<PrivateKey, LayoutError> {
        let name = files
            .key
            .as_ref()
            .ok_or_else(|| LayoutError::NoKey(files.cert.clone()))?;
        load_key(
            &self.path.join(name),
            self.config.alg,
            passphrase,
            self.plaintext_keys,
        )
    }

    /// The active licence signer: its key and certificate (DER).
    pub fn active_signer(
        &self,
        passphrase: Option<&Passphrase>,
    ) -> Result<(PrivateKey, Vec<u8>), LayoutError> {
        let signer = self
            .config
            .signers
            .iter()
            .find(|s| s.active)
            .ok_or_else(|| LayoutError::NoKey("active licence signer".into()))?;
        Ok((
            self.key(&signer.files, passphrase)?,
            self.certificate(&signer.files)?,
        ))
    }

    /// The status-list signer: its key and certificate (DER).
    pub fn status_signer(
        &self,
        passphrase: Option<&Passphrase>,
    ) -> Result<(PrivateKey, Vec<u8>), LayoutError> {
        let files = self
            .config
            .status_signer
            .as_ref()
            .ok_or_else(|| LayoutError::NoKey("status signer".into()))?;
        Ok((self.key(files, passphrase)?, self.certificate(files)?))
    }
}

impl RegionDir {
    /// Key rollover: makes a new licence signer (issued by the root, whose key must be in the
    /// directory), makes it the active one and keeps the old ones listed, so licences they
    /// signed keep verifying once the new trust list names both. The description is rewritten
    /// atomically after the new key and certificate are safely on disk.
    pub fn rollover_signer(
        &self,
        passphrase: Option<&Passphrase>,
        protection: Protection<'_>,
        now: UnixTime,
    ) -> Result<RegionDir, LayoutError> {
        let key_err = |source| LayoutError::Key {
            path: "new licence signer".into(),
            source,
        };
        let root_key = self.key(&self.config.root, passphrase)?;
        let root_der = self.root_der()?;
        let key = PrivateKey::generate(self.config.alg).map_err(key_err)?;
        let spki = key.public_key_spki_der().map_err(key_err)?;
        let n = self.config.signers.len() + 1;
        let der = certificate::issue(
            &Subject {
                organization: format!("{}人民政府", self.config.name),
                common_name: format!("{} 证照签发 {n} ({})", self.config.name, self.config.code),
            },
            &spki,
            Profile::Leaf(Purpose::LicenceSigner),
            now,
            now.plus(LEAF_VALIDITY_DAYS * 86_400),
            Some(&root_der),
            &root_key,
            &mut rand_core::OsRng,
        )?;
        let files = KeyFiles {
            cert: format!("licence-signer-{n}.crt.pem"),
            key: Some(format!("licence-signer-{n}.key.pem")),
        };
        pem::write_certificate(&self.path.join(&files.cert), &der, false)?;
        write_key(
            &self.path.join(format!("licence-signer-{n}.key.pem")),
            &key,
            protection,
        )?;
        let mut config = self.config.clone();
        for signer in &mut config.signers {
            signer.active = false;
        }
        config.signers.push(SignerFiles {
            files,
            scopes: vec!["*".into()],
            active: true,
        });
        rewrite_region_file(&self.path, &config)?;
        Ok(RegionDir::open(&self.path)?.with_plaintext_keys(self.plaintext_keys))
    }
}

/// Loads a key the services and the CLI sign with: refused if unencrypted unless `plaintext`
/// allows it ([`store::load_private_key`]); a file others may read is named in a warning (a
/// key readable by a group or the world has leaked to them, encrypted or not).
pub(crate) fn load_key(
    path: &Path,
    alg: Algorithm,
    passphrase: Option<&Passphrase>,
    plaintext: PlaintextKeys,
) -> Result<PrivateKey, LayoutError> {
    let file = match store::load_private_key(path, passphrase, plaintext) {
        Ok(file) => file,
        Err(StoreError::PassphraseRequired { .. }) => return Err(LayoutError::PassphraseRequired),
        Err(e) => return Err(e.into()),
    };
    if file.permissions_too_open {
        tracing::warn!(
            file = %path.display(),
            "private key file is readable by group or others; chmod 600 it"
        );
    }
    PrivateKey::from_pkcs8_der(&file.pkcs8_der, alg).map_err(|source| LayoutError::Key {
        path: path.display().to_string(),
        source,
    })
}
