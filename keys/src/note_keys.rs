//! A region's two signed-note keys (SPEC §12): the **log key**, which signs the region's
//! issuance-log checkpoints (Ed25519 note signature, type 0x01, named by the log's origin
//! `huren.gov.cn/log/<code>`), and the **witness key**, with which the region's issuer cosigns
//! other regions' checkpoints (cosignature/v1, type 0x04, named `huren.gov.cn/witness/<code>`).
//!
//! This module owns:
//! - making them (with `pki init-region` and `pki import-region`, or later with
//!   [`RegionDir::set_note_keys`], which also imports keys made elsewhere) and recording them in
//!   `region.json` as [`NoteKeyFiles`] (`{"key": "log.key.pem", "vkey": "<verifier key>"}`);
//! - loading them for the issuer ([`RegionDir::log_key`], [`RegionDir::witness_key`]), checking
//!   that the file still holds the key `region.json` names, so a swapped or replaced file is
//!   refused by name rather than signing under the wrong key.
//!
//! Decisions:
//! - The two are always distinct keys: a cosignature/v1 signature does not commit to the
//!   signer's name, so one key in both roles would let the log cosign its own checkpoints.
//! - Private keys are PKCS#8 at rest exactly like the region's other keys ([`crate::store`]:
//!   encrypted under the region passphrase unless plaintext was explicitly asked for, mode 0600).
//! - A replaced key gets a new file name and `region.json` is rewritten atomically before the
//!   old file is deleted, so a crash leaves either the old pair or the new one, never a
//!   description naming a key that is not on disk. The old private key is deleted: nothing may
//!   sign as the log or witness with it again.
//!
//! It never formats private key material; errors name files and public verifier keys only.

use std::path::Path;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::Ed25519KeyPair;
use huren_crypto::ids::RegionCode;
use huren_crypto::tlog::note::NoteKeyPair;
use huren_crypto::tlog::vkey::{KeyType, VerifierKey};
use huren_crypto::tlog::{origin, witness_name};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::layout::{rewrite_region_file, LayoutError, RegionConfig, RegionDir, REGION_FILE};
use crate::store::{self, Passphrase, Protection, StoreError};

/// File of a region's log key, as `pki init-region` names it.
pub const LOG_KEY_FILE: &str = "log.key.pem";
/// File of a region's witness key, as `pki init-region` names it.
pub const WITNESS_KEY_FILE: &str = "witness.key.pem";

/// A signed-note key in `region.json`: its private key file and its public verifier key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteKeyFiles {
    /// Private key file (PKCS#8 PEM, Ed25519) inside the region directory.
    pub key: String,
    /// Its verifier key (`<name>+<hex id>+<base64(type ‖ key)>`), as the trust list lists it.
    pub vkey: VerifierKey,
}

/// Which of the two keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteRole {
    /// Signs the region's checkpoints.
    Log,
    /// Cosigns other regions' checkpoints.
    Witness,
}

impl NoteRole {
    /// `log` or `witness` (also the `region.json` field and the file stem).
    pub fn name(self) -> &'static str {
        match self {
            NoteRole::Log => "log",
            NoteRole::Witness => "witness",
        }
    }

    /// The key's signed-note name for `code`.
    pub fn key_name(self, code: &RegionCode) -> String {
        match self {
            NoteRole::Log => origin(code),
            NoteRole::Witness => witness_name(code),
        }
    }

    /// The signed-note key type.
    pub fn key_type(self) -> KeyType {
        match self {
            NoteRole::Log => KeyType::Ed25519,
            NoteRole::Witness => KeyType::Cosignature,
        }
    }

    fn default_file(self) -> &'static str {
        match self {
            NoteRole::Log => LOG_KEY_FILE,
            NoteRole::Witness => WITNESS_KEY_FILE,
        }
    }

    fn files(self, config: &RegionConfig) -> Option<&NoteKeyFiles> {
        match self {
            NoteRole::Log => config.log.as_ref(),
            NoteRole::Witness => config.witness.as_ref(),
        }
    }
}

/// A fresh Ed25519 key as PKCS#8 (v2) DER.
pub(crate) fn generate(role: NoteRole) -> Result<Zeroizing<Vec<u8>>, LayoutError> {
    let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| {
        LayoutError::NoKey(format!(
            "{} key: the system random number generator failed",
            role.name()
        ))
    })?;
    Ok(Zeroizing::new(document.as_ref().to_vec()))
}

/// The key pair of `pkcs8` in `role` for region `code`; `path` names the file in errors.
fn key_pair(
    path: &Path,
    code: &RegionCode,
    role: NoteRole,
    pkcs8: &[u8],
) -> Result<NoteKeyPair, LayoutError> {
    NoteKeyPair::from_pkcs8(&role.key_name(code), role.key_type(), pkcs8).map_err(|source| {
        LayoutError::NoteKey {
            path: path.display().to_string(),
            source,
        }
    })
}

/// Writes `pkcs8` as `dir/file` under `protection` (mode 0600) and returns its description.
pub(crate) fn write(
    dir: &Path,
    file: &str,
    code: &RegionCode,
    role: NoteRole,
    pkcs8: &[u8],
    protection: Protection<'_>,
) -> Result<NoteKeyFiles, LayoutError> {
    let path = dir.join(file);
    let vkey = key_pair(&path, code, role, pkcs8)?.verifier_key().clone();
    store::write_private_key(&path, pkcs8, protection, true, &mut rand_core::OsRng)?;
    Ok(NoteKeyFiles {
        key: file.to_owned(),
        vkey,
    })
}

/// Makes both keys for a new region directory being staged in `dir` (see
/// [`crate::layout::init_region`]).
pub(crate) fn make_both(
    dir: &Path,
    code: &RegionCode,
    protection: Protection<'_>,
) -> Result<(NoteKeyFiles, NoteKeyFiles), LayoutError> {
    let log = write(
        dir,
        LOG_KEY_FILE,
        code,
        NoteRole::Log,
        &generate(NoteRole::Log)?,
        protection,
    )?;
    let witness = write(
        dir,
        WITNESS_KEY_FILE,
        code,
        NoteRole::Witness,
        &generate(NoteRole::Witness)?,
        protection,
    )?;
    // Two draws from the system RNG colliding would mean it is broken: refuse, not sign.
    check_distinct(&log, &witness)?;
    Ok((log, witness))
}

/// The two keys must differ (see the module documentation).
fn check_distinct(log: &NoteKeyFiles, witness: &NoteKeyFiles) -> Result<(), LayoutError> {
    if log.vkey.public() == witness.vkey.public() {
        return Err(LayoutError::SameNoteKey {
            log: log.key.clone(),
            witness: witness.key.clone(),
        });
    }
    Ok(())
}

/// Checks the note keys a `region.json` describes (names, types, distinct), without reading
/// the key files. Returns what is wrong.
pub(crate) fn check_config(config: &RegionConfig) -> Result<(), String> {
    for role in [NoteRole::Log, NoteRole::Witness] {
        let Some(files) = role.files(config) else {
            continue;
        };
        let expected = role.key_name(&config.code);
        if files.vkey.name() != expected || files.vkey.key_type() != role.key_type() {
            return Err(format!(
                "{}.vkey must be {} key named {expected:?}",
                role.name(),
                match role.key_type() {
                    KeyType::Ed25519 => "an Ed25519 (0x01)",
                    KeyType::Cosignature => "a cosignature/v1 (0x04)",
                }
            ));
        }
    }
    if let (Some(log), Some(witness)) = (&config.log, &config.witness) {
        if log.vkey.public() == witness.vkey.public() || log.key == witness.key {
            return Err("log and witness must be two distinct keys".into());
        }
    }
    Ok(())
}

/// Where a key for [`RegionDir::set_note_keys`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKeySource<'a> {
    /// Keep the present key; make one if there is none.
    KeepOrGenerate,
    /// Make a new key, replacing the present one.
    Generate,
    /// Import this PKCS#8 PEM (or DER) Ed25519 private key, plaintext or encrypted, replacing
    /// the present one.
    Import(&'a Path),
}

/// What [`RegionDir::set_note_keys`] does.
#[derive(Debug)]
pub struct SetNoteKeys<'a> {
    /// The log key.
    pub log: NoteKeySource<'a>,
    /// The witness key.
    pub witness: NoteKeySource<'a>,
    /// Passphrase of encrypted imported files.
    pub source_passphrase: Option<&'a Passphrase>,
    /// Protection of the key files written.
    pub protection: Protection<'a>,
}

/// What happened to one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKeyOutcome {
    /// The present key stays.
    Kept,
    /// A new key was made.
    Generated,
    /// The given key was imported.
    Imported,
}

impl NoteKeyOutcome {
    /// `kept`, `generated` or `imported`.
    pub fn name(self) -> &'static str {
        match self {
            NoteKeyOutcome::Kept => "kept",
            NoteKeyOutcome::Generated => "generated",
            NoteKeyOutcome::Imported => "imported",
        }
    }
}

/// The result of [`RegionDir::set_note_keys`].
#[derive(Debug)]
pub struct NoteKeysSet {
    /// The directory, reopened.
    pub region: RegionDir,
    /// The log key.
    pub log: NoteKeyOutcome,
    /// The witness key.
    pub witness: NoteKeyOutcome,
    /// Private key files deleted because a new key replaced theirs.
    pub deleted_keys: Vec<String>,
}

impl RegionDir {
    /// The region's log key (checkpoint signer), or `None` if the directory has none. Refused
    /// when the file does not hold the key `region.json` names.
    pub fn log_key(
        &self,
        passphrase: Option<&Passphrase>,
    ) -> Result<Option<NoteKeyPair>, LayoutError> {
        self.note_key(NoteRole::Log, passphrase)
    }

    /// The region's witness key (cosigns other regions' checkpoints), or `None` if the
    /// directory has none. Refused when the file does not hold the key `region.json` names.
    pub fn witness_key(
        &self,
        passphrase: Option<&Passphrase>,
    ) -> Result<Option<NoteKeyPair>, LayoutError> {
        self.note_key(NoteRole::Witness, passphrase)
    }

    fn note_key(
        &self,
        role: NoteRole,
        passphrase: Option<&Passphrase>,
    ) -> Result<Option<NoteKeyPair>, LayoutError> {
        let Some(files) = role.files(&self.config) else {
            return Ok(None);
        };
        let path = self.path.join(&files.key);
        let file = match store::load_private_key(&path, passphrase, self.plaintext_keys) {
            Ok(file) => file,
            Err(StoreError::PassphraseRequired { .. }) => {
                return Err(LayoutError::PassphraseRequired)
            }
            Err(e) => return Err(e.into()),
        };
        if file.permissions_too_open {
            tracing::warn!(
                file = %path.display(),
                "private key file is readable by group or others; chmod 600 it"
            );
        }
        let pair = key_pair(&path, &self.config.code, role, &file.pkcs8_der)?;
        if pair.verifier_key() != &files.vkey {
            return Err(LayoutError::NoteKeyMismatch {
                key: path.display().to_string(),
                role: role.name(),
                vkey: files.vkey.to_string(),
            });
        }
        Ok(Some(pair))
    }

    /// Adds or replaces the log and witness keys (`huren pki log-keys`). Imported keys must be
    /// Ed25519 and the two keys must differ; everything is checked before anything is written.
    /// New key files are written first, then `region.json` (atomically), then replaced key
    /// files are deleted.
    pub fn set_note_keys(&self, set: &SetNoteKeys<'_>) -> Result<NoteKeysSet, LayoutError> {
        let code = &self.config.code;
        // Decide and read everything first.
        let mut chosen = Vec::new();
        for (role, source) in [(NoteRole::Log, set.log), (NoteRole::Witness, set.witness)] {
            let present = role.files(&self.config);
            let (outcome, pkcs8) = match (source, present) {
                (NoteKeySource::KeepOrGenerate, Some(_)) => (NoteKeyOutcome::Kept, None),
                (NoteKeySource::KeepOrGenerate | NoteKeySource::Generate, _) => {
                    (NoteKeyOutcome::Generated, Some(generate(role)?))
                }
                (NoteKeySource::Import(path), _) => {
                    let file = store::read_private_key(path, set.source_passphrase)?;
                    // Refuses a key that is not Ed25519, naming the file.
                    key_pair(path, code, role, &file.pkcs8_der)?;
                    (NoteKeyOutcome::Imported, Some(file.pkcs8_der))
                }
            };
            let vkey = match (&pkcs8, present) {
                (Some(der), _) => key_pair(&self.path, code, role, der)?
                    .verifier_key()
                    .clone(),
                (None, Some(files)) => files.vkey.clone(),
                (None, None) => return Err(LayoutError::NoKey(role.name().into())),
            };
            chosen.push((role, outcome, pkcs8, vkey));
        }
        if let [(_, log_outcome, _, log), (_, witness_outcome, _, witness)] = chosen.as_slice() {
            if log.public() == witness.public() {
                let source = |outcome: &NoteKeyOutcome, source: NoteKeySource<'_>, role| match (
                    outcome, source,
                ) {
                    (NoteKeyOutcome::Imported, NoteKeySource::Import(path)) => {
                        path.display().to_string()
                    }
                    _ => format!("the present {} key", NoteRole::name(role)),
                };
                return Err(LayoutError::SameNoteKey {
                    log: source(log_outcome, set.log, NoteRole::Log),
                    witness: source(witness_outcome, set.witness, NoteRole::Witness),
                });
            }
        }

        let mut config = self.config.clone();
        let mut replaced = Vec::new();
        let mut outcomes = Vec::new();
        for (role, outcome, pkcs8, _) in &chosen {
            outcomes.push(*outcome);
            let Some(pkcs8) = pkcs8 else { continue };
            let file = fresh_file_name(&config, *role, pkcs8, code, &self.path)?;
            let files = write(&self.path, &file, code, *role, pkcs8, set.protection)?;
            let old = match role {
                NoteRole::Log => config.log.replace(files),
                NoteRole::Witness => config.witness.replace(files),
            };
            replaced.extend(old.map(|o| o.key));
        }
        check_config(&config).map_err(|message| LayoutError::Config {
            path: REGION_FILE.into(),
            message,
        })?;
        rewrite_region_file(&self.path, &config)?;
        let mut deleted_keys = Vec::new();
        for old in replaced {
            let in_use = [&config.log, &config.witness]
                .iter()
                .any(|f| f.as_ref().is_some_and(|f| f.key == old));
            if in_use {
                continue;
            }
            let path = self.path.join(&old);
            match std::fs::remove_file(&path) {
                Ok(()) => deleted_keys.push(old),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(LayoutError::Io {
                        path: path.display().to_string(),
                        source,
                    })
                }
            }
        }
        let region = RegionDir::open(&self.path)?.with_plaintext_keys(self.plaintext_keys);
        Ok(NoteKeysSet {
            region,
            log: outcomes.first().copied().unwrap_or(NoteKeyOutcome::Kept),
            witness: outcomes.get(1).copied().unwrap_or(NoteKeyOutcome::Kept),
            deleted_keys,
        })
    }
}

/// A file name for a new `role` key that no key in `config` uses: the default name if free,
/// else one with the new key's ID, so the present file stays intact until `region.json` names
/// the new one.
fn fresh_file_name(
    config: &RegionConfig,
    role: NoteRole,
    pkcs8: &[u8],
    code: &RegionCode,
    dir: &Path,
) -> Result<String, LayoutError> {
    let used = |name: &str| {
        [&config.log, &config.witness]
            .iter()
            .any(|f| f.as_ref().is_some_and(|f| f.key == name))
    };
    if !used(role.default_file()) {
        return Ok(role.default_file().to_owned());
    }
    let id = key_pair(dir, code, role, pkcs8)?.verifier_key().id();
    Ok(format!("{}-{id:08x}.key.pem", role.name()))
}

#[cfg(test)]
mod tests;
