//! Key rollover of a province's leaf keys: a new key and certificate from the region root for
//! one role (licence signer, status signer, seal maker) becomes the one the issuer signs with,
//! and the old certificate stays in the trust list exactly as long as what it signed can still
//! be in use.
//!
//! This module owns:
//! - [`RegionDir::rollover`]: the new key (written with the caller's protection, mode 0600)
//!   and certificate, the rewritten `region.json` (atomically, after both are on disk), and the
//!   record of the retired certificate ([`RetiredKey`]);
//! - how long a retired certificate stays listed ([`RetiredKey::listed_until`]) and which
//!   certificates a trust list built at a given time names for the status-signer and
//!   seal-maker roles ([`RegionConfig::status_signers_at`], [`RegionConfig::seal_makers_at`]).
//!
//! Decisions:
//! - A retired **status signer** stays listed for [`MAX_STATUS_LIST_LIFETIME_SECONDS`] (7 days,
//!   the SPEC §4 cap on a list's `exp − iat`) after its retirement: every list it signed before
//!   has expired by then. The issuer picks the new signer up when it restarts (it holds its keys
//!   in memory), so restart it as soon as the new trust list is in place; lists it signs with
//!   the old key after the drop point are refused by verifiers (fail closed).
//! - A retired **seal maker** stays listed for [`MAX_SEAL_VALIDITY_SECONDS`] (10 years, the
//!   longest validity the issuer gives a seal) after its retirement, unless the operator gives
//!   `listed_until` (the latest `validEnd` of the seals it made, which only the issuer's database
//!   knows). Its certificate's `notAfter` is no bound: a verifier judges the maker certificate
//!   at the seal's `createDate`, so a seal stays usable after its maker certificate expired.
//! - A **compromised** key is listed until its retirement, i.e. dropped from the next trust
//!   list at once: what it signed must stop verifying.
//! - Retired **licence signers** stay listed as before (each licence carries its own `exp`;
//!   a leaked signer is revoked in the trust list): `listed_until` and `compromised` are
//!   refused for that role rather than ignored.
//! - Dropping is done by `huren trust build` (through [`crate::trust_build::region_entry`],
//!   which asks for the certificates listed at the list's `iat`); `region.json` keeps every
//!   retired certificate as history and is never pruned.
//! - The retired private key is deleted once the new description is on disk (unless another
//!   role still uses the same file): nothing may sign with it again, and a listed certificate
//!   whose key lies around is a standing risk.

use huren_crypto::oids::Purpose;
use huren_crypto::status_token::MAX_STATUS_LIST_LIFETIME_SECONDS;
use huren_crypto::time::UnixTime;
use serde::{Deserialize, Serialize};

use crate::certificate::{self, Profile, Subject, LEAF_VALIDITY_DAYS};
use crate::keypair::PrivateKey;
use crate::layout::{
    rewrite_region_file, write_key, KeyFiles, LayoutError, RegionConfig, RegionDir,
};
use crate::pem;
use crate::store::{Passphrase, Protection};

/// The longest validity the issuer gives a seal (`validEnd − validStart`): how long a retired
/// seal maker stays listed unless told otherwise. The issuer's seal checks use this constant.
pub const MAX_SEAL_VALIDITY_SECONDS: i64 = 10 * 365 * 86_400;

/// The role whose key is rolled over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Signs licences.
    LicenceSigner,
    /// Signs status lists.
    StatusSigner,
    /// Signs seals.
    SealMaker,
}

impl Role {
    /// All roles, in the order the CLI lists them.
    pub const ALL: [Role; 3] = [Role::LicenceSigner, Role::StatusSigner, Role::SealMaker];

    /// The CLI name (`licence-signer`, `status-signer`, `seal-maker`), also the file stem.
    pub fn name(self) -> &'static str {
        match self {
            Role::LicenceSigner => "licence-signer",
            Role::StatusSigner => "status-signer",
            Role::SealMaker => "seal-maker",
        }
    }

    fn purpose(self) -> Purpose {
        match self {
            Role::LicenceSigner => Purpose::LicenceSigner,
            Role::StatusSigner => Purpose::StatusSigner,
            Role::SealMaker => Purpose::SealMaker,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Role::LicenceSigner => "证照签发",
            Role::StatusSigner => "证照状态签发",
            Role::SealMaker => "电子印章制章",
        }
    }
}

/// A status signer or seal maker that was rolled over, in `region.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetiredKey {
    /// Its certificate file (the key file is deleted at retirement).
    pub cert: String,
    /// When it stopped being the one the issuer signs with.
    pub retired_at: UnixTime,
    /// Trust lists built before this time name it; later ones do not.
    pub listed_until: UnixTime,
    /// Retired because its key leaked (then `listed_until == retired_at`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub compromised: bool,
}

impl RetiredKey {
    /// Whether a trust list issued at `at` names it.
    pub fn listed_at(&self, at: UnixTime) -> bool {
        at < self.listed_until
    }
}

impl RegionConfig {
    /// Certificate files of the status signers a trust list issued at `at` names: the current
    /// one first, then the retired ones still listed, newest retirement first.
    pub fn status_signers_at(&self, at: UnixTime) -> Vec<&str> {
        listed_at(
            self.status_signer.as_ref(),
            &self.retired_status_signers,
            at,
        )
    }

    /// Certificate files of the seal makers a trust list issued at `at` names, as
    /// [`RegionConfig::status_signers_at`].
    pub fn seal_makers_at(&self, at: UnixTime) -> Vec<&str> {
        listed_at(self.seal_maker.as_ref(), &self.retired_seal_makers, at)
    }
}

fn listed_at<'a>(
    current: Option<&'a KeyFiles>,
    retired: &'a [RetiredKey],
    at: UnixTime,
) -> Vec<&'a str> {
    let mut files: Vec<&str> = current.map(|f| f.cert.as_str()).into_iter().collect();
    for r in retired.iter().rev().filter(|r| r.listed_at(at)) {
        if !files.contains(&r.cert.as_str()) {
            files.push(&r.cert);
        }
    }
    files
}

/// What a rollover needs besides the region.
#[derive(Debug, Clone, Copy)]
pub struct Rollover<'a> {
    /// Which key.
    pub role: Role,
    /// Decrypts the root key.
    pub passphrase: Option<&'a Passphrase>,
    /// Protection of the new key.
    pub protection: Protection<'a>,
    /// Issuance time of the new certificate and retirement time of the old one.
    pub now: UnixTime,
    /// Overrides how long the retired certificate stays listed (not before `now`).
    pub listed_until: Option<UnixTime>,
    /// The old key leaked: drop it from the next trust list.
    pub compromised: bool,
}

/// What a rollover did.
#[derive(Debug)]
pub struct RolledOver {
    /// The region as now described.
    pub region: RegionDir,
    /// The new certificate and key files.
    pub files: KeyFiles,
    /// The retired status signer or seal maker, if the role had one.
    pub retired: Option<RetiredKey>,
    /// The private-key file deleted, if any.
    pub deleted_key: Option<String>,
}

/// Why a rollover was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum RolloverError {
    /// Reading or writing the directory failed.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// An option does not fit the role or the time.
    #[error("{option}: {message}")]
    Option {
        /// The option, as the CLI names it.
        option: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The old key file could not be deleted (the rollover itself is done).
    #[error(
        "the rollover is done, but the retired key {path} could not be deleted; delete it by hand"
    )]
    DeleteKey {
        /// The key file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl RegionDir {
    /// Rolls the key of `rollover.role` over: see the module documentation.
    pub fn rollover(&self, rollover: &Rollover<'_>) -> Result<RolledOver, RolloverError> {
        let option = |option, message: &str| RolloverError::Option {
            option,
            message: message.to_owned(),
        };
        if rollover.role == Role::LicenceSigner {
            if rollover.listed_until.is_some() {
                return Err(option(
                    "--listed-until",
                    "retired licence signers stay listed; it applies to status signers and seal makers",
                ));
            }
            if rollover.compromised {
                return Err(option(
                    "--compromised",
                    "a leaked licence signer is revoked in the trust list, not rolled over",
                ));
            }
            let region =
                self.rollover_signer(rollover.passphrase, rollover.protection, rollover.now)?;
            let files = region
                .config
                .signers
                .iter()
                .find(|s| s.active)
                .map(|s| s.files.clone())
                .ok_or_else(|| LayoutError::NoKey("active licence signer".into()))?;
            return Ok(RolledOver {
                region,
                files,
                retired: None,
                deleted_key: None,
            });
        }
        match rollover.listed_until {
            Some(_) if rollover.compromised => {
                return Err(option(
                    "--listed-until",
                    "a compromised key is dropped at once; give one or the other",
                ))
            }
            Some(until) if until < rollover.now => {
                return Err(option(
                    "--listed-until",
                    &format!("{until} is in the past (now is {}); use --compromised to drop the old key at once", rollover.now),
                ))
            }
            _ => {}
        }

        let files = self.new_leaf(rollover)?;
        let mut config = self.config.clone();
        let (current, retired_list) = match rollover.role {
            Role::StatusSigner => (
                &mut config.status_signer,
                &mut config.retired_status_signers,
            ),
            _ => (&mut config.seal_maker, &mut config.retired_seal_makers),
        };
        let old = current.replace(files.clone());
        let retired = old.as_ref().map(|old| {
            let default_span = match rollover.role {
                Role::StatusSigner => MAX_STATUS_LIST_LIFETIME_SECONDS,
                _ => MAX_SEAL_VALIDITY_SECONDS,
            };
            let listed_until = if rollover.compromised {
                rollover.now
            } else {
                rollover
                    .listed_until
                    .unwrap_or_else(|| rollover.now.plus(default_span))
            };
            RetiredKey {
                cert: old.cert.clone(),
                retired_at: rollover.now,
                listed_until,
                compromised: rollover.compromised,
            }
        });
        retired_list.extend(retired.clone());
        rewrite_region_file(&self.path, &config)?;
        let region = RegionDir::open(&self.path)?.with_plaintext_keys(self.plaintext_keys);
        let deleted_key = match old.and_then(|old| old.key) {
            Some(key) if !key_in_use(&region.config, &key) => {
                std::fs::remove_file(self.path.join(&key)).map_err(|source| {
                    RolloverError::DeleteKey {
                        path: self.path.join(&key).display().to_string(),
                        source,
                    }
                })?;
                Some(key)
            }
            _ => None,
        };
        Ok(RolledOver {
            region,
            files,
            retired,
            deleted_key,
        })
    }

    /// A new key and certificate for a status signer or seal maker, under file names no
    /// earlier one used.
    fn new_leaf(&self, rollover: &Rollover<'_>) -> Result<KeyFiles, LayoutError> {
        let role = rollover.role;
        let key_err = |source| LayoutError::Key {
            path: format!("new {}", role.name()),
            source,
        };
        let root_key = self.key(&self.config.root, rollover.passphrase)?;
        let root_der = self.root_der()?;
        let stem = role.name();
        // `n` numbers the generation: the first one is the plain `stem`.
        let n = (2..)
            .find(|n| {
                !self.path.join(format!("{stem}-{n}.crt.pem")).exists()
                    && !self.path.join(format!("{stem}-{n}.key.pem")).exists()
            })
            .unwrap_or(2);
        let key = PrivateKey::generate(self.config.alg).map_err(key_err)?;
        let spki = key.public_key_spki_der().map_err(key_err)?;
        let der = certificate::issue(
            &Subject {
                organization: format!("{}人民政府", self.config.name),
                common_name: format!(
                    "{} {} {n} ({})",
                    self.config.name,
                    role.label(),
                    self.config.code
                ),
            },
            &spki,
            Profile::Leaf(role.purpose()),
            rollover.now,
            rollover.now.plus(LEAF_VALIDITY_DAYS * 86_400),
            Some(&root_der),
            &root_key,
            &mut rand_core::OsRng,
        )?;
        let files = KeyFiles {
            cert: format!("{stem}-{n}.crt.pem"),
            key: Some(format!("{stem}-{n}.key.pem")),
        };
        pem::write_certificate(&self.path.join(&files.cert), &der, false)?;
        write_key(
            &self.path.join(format!("{stem}-{n}.key.pem")),
            &key,
            rollover.protection,
        )?;
        Ok(files)
    }
}

/// Whether any role of `config` still uses key file `key` (an imported region may use the
/// licence signer's key for status lists too).
fn key_in_use(config: &RegionConfig, key: &str) -> bool {
    let named = |files: &KeyFiles| files.key.as_deref() == Some(key);
    named(&config.root)
        || config.signers.iter().any(|s| named(&s.files))
        || config.status_signer.as_ref().is_some_and(named)
        || config.seal_maker.as_ref().is_some_and(named)
        || [&config.log, &config.witness]
            .iter()
            .any(|f| f.as_ref().is_some_and(|f| f.key == key))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

    use std::path::Path;

    use super::*;
    use crate::layout::{init_region, InitRegion, REGION_FILE};
    use crate::trust_build::region_entry;
    use huren_crypto::alg::Algorithm;
    use huren_crypto::b64;
    use huren_crypto::ids::RegionCode;

    const MADE: UnixTime = UnixTime(1_795_000_000);
    const ROLLED: UnixTime = UnixTime(1_795_000_600);

    fn region(dir: &Path) -> RegionDir {
        init_region(
            &dir.join("zj"),
            &InitRegion {
                code: RegionCode::parse("330000").unwrap(),
                name: "浙江省".into(),
                alg: Algorithm::Es256,
                public_url: "https://issuer.zj.example".into(),
                protection: Protection::Plaintext,
                now: MADE,
            },
        )
        .unwrap()
    }

    fn rollover(role: Role) -> Rollover<'static> {
        Rollover {
            role,
            passphrase: None,
            protection: Protection::Plaintext,
            now: ROLLED,
            listed_until: None,
            compromised: false,
        }
    }

    fn b64_cert(region: &RegionDir, file: &str) -> String {
        b64::encode_std(&pem::read_certificate(&region.path.join(file)).unwrap())
    }

    #[test]
    fn status_signer_rollover_lists_the_old_one_until_its_last_list_has_expired() {
        let dir = tempfile::tempdir().unwrap();
        let region = region(dir.path());
        let (_, old_der) = region.status_signer(None).unwrap();
        let done = region.rollover(&rollover(Role::StatusSigner)).unwrap();
        let region = done.region;

        // The issuer now loads the new key, and it belongs to the new certificate.
        let (key, new_der) = region.status_signer(None).unwrap();
        assert_ne!(new_der, old_der);
        let new_cert = huren_crypto::cert::Certificate::from_der(&new_der).unwrap();
        assert_eq!(
            key.public_key_spki_der().unwrap(),
            new_cert.public_key().spki_der()
        );
        new_cert.check_leaf_profile(Purpose::StatusSigner).unwrap();
        let retired = done.retired.unwrap();
        assert_eq!(retired.cert, "status-signer.crt.pem");
        assert_eq!(retired.listed_until, ROLLED.plus(7 * 86_400));
        assert_eq!(
            region.config.retired_status_signers,
            std::slice::from_ref(&retired),
            "recorded in region.json"
        );

        let new = b64::encode_std(&new_der);
        let old = b64::encode_std(&old_der);
        let at = |t: UnixTime| region_entry(&region, t).unwrap().status_signers;
        assert_eq!(at(ROLLED), [new.clone(), old.clone()]);
        assert_eq!(
            at(retired.listed_until.minus(1)),
            [new.clone(), old.clone()],
            "a list the old key signed just before its retirement may still be served"
        );
        assert_eq!(at(retired.listed_until), [new]);
        // The seal maker is untouched.
        assert_eq!(at(ROLLED).len(), 2);
        assert_eq!(region_entry(&region, ROLLED).unwrap().seal_makers.len(), 1);

        // Nothing may sign with the retired key again.
        assert_eq!(done.deleted_key.as_deref(), Some("status-signer.key.pem"));
        assert!(!region.path.join("status-signer.key.pem").exists());
        assert!(region.path.join("status-signer.crt.pem").exists());
    }

    #[test]
    fn seal_maker_rollover_lists_the_old_one_as_long_as_a_seal_it_made_can_be_valid() {
        let dir = tempfile::tempdir().unwrap();
        let region = region(dir.path());
        let old = b64_cert(&region, "seal-maker.crt.pem");
        let done = region.rollover(&rollover(Role::SealMaker)).unwrap();
        let new = b64_cert(&done.region, &done.files.cert);
        let retired = done.retired.unwrap();
        // Beyond the maker certificate's own end: seals outlive it.
        assert_eq!(retired.listed_until, ROLLED.plus(MAX_SEAL_VALIDITY_SECONDS));
        let at = |t: UnixTime| region_entry(&done.region, t).unwrap().seal_makers;
        assert_eq!(at(ROLLED), [new.clone(), old.clone()]);
        assert_eq!(at(retired.listed_until.minus(1)), [new.clone(), old]);
        assert_eq!(at(retired.listed_until), [new]);
        assert!(!done.region.path.join("seal-maker.key.pem").exists());

        // The operator who knows the last validEnd says so; a second rollover numbers on.
        let until = ROLLED.plus(400 * 86_400);
        let again = done
            .region
            .rollover(&Rollover {
                listed_until: Some(until),
                ..rollover(Role::SealMaker)
            })
            .unwrap();
        assert_eq!(again.files.cert, "seal-maker-3.crt.pem");
        assert_eq!(again.retired.unwrap().listed_until, until);
        let makers = region_entry(&again.region, until).unwrap().seal_makers;
        assert_eq!(
            makers.len(),
            2,
            "only the first retired one is still listed"
        );
    }

    #[test]
    fn a_compromised_key_is_dropped_from_the_next_trust_list() {
        let dir = tempfile::tempdir().unwrap();
        let region = region(dir.path());
        let done = region
            .rollover(&Rollover {
                compromised: true,
                ..rollover(Role::StatusSigner)
            })
            .unwrap();
        let retired = done.retired.unwrap();
        assert!(retired.compromised);
        let listed = region_entry(&done.region, ROLLED).unwrap().status_signers;
        assert_eq!(listed, [b64_cert(&done.region, &done.files.cert)]);
    }

    #[test]
    fn options_that_do_not_fit_are_refused_and_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let region = region(dir.path());
        let before = std::fs::read(region.path.join(REGION_FILE)).unwrap();
        let refused = |r: Rollover<'_>| match region.rollover(&r) {
            Err(RolloverError::Option { option, .. }) => option,
            other => panic!("not refused: {other:?}"),
        };
        assert_eq!(
            refused(Rollover {
                compromised: true,
                ..rollover(Role::LicenceSigner)
            }),
            "--compromised"
        );
        assert_eq!(
            refused(Rollover {
                listed_until: Some(ROLLED.plus(60)),
                ..rollover(Role::LicenceSigner)
            }),
            "--listed-until"
        );
        assert_eq!(
            refused(Rollover {
                listed_until: Some(ROLLED.minus(1)),
                ..rollover(Role::SealMaker)
            }),
            "--listed-until"
        );
        assert_eq!(
            refused(Rollover {
                listed_until: Some(ROLLED.plus(60)),
                compromised: true,
                ..rollover(Role::StatusSigner)
            }),
            "--listed-until"
        );
        assert_eq!(
            std::fs::read(region.path.join(REGION_FILE)).unwrap(),
            before
        );
        assert!(region.path.join("status-signer.key.pem").exists());
    }

    #[test]
    fn licence_signer_role_makes_a_new_active_signer_and_keeps_the_old_listed() {
        let dir = tempfile::tempdir().unwrap();
        let region = region(dir.path());
        let done = region.rollover(&rollover(Role::LicenceSigner)).unwrap();
        assert_eq!(done.region.config.signers.len(), 2);
        assert!(done.retired.is_none() && done.deleted_key.is_none());
        let (_, active) = done.region.active_signer(None).unwrap();
        assert_eq!(
            b64::encode_std(&active),
            b64_cert(&done.region, &done.files.cert)
        );
        assert_eq!(region_entry(&done.region, ROLLED).unwrap().signers.len(), 2);
    }

    #[test]
    fn a_key_file_another_role_still_uses_is_not_deleted() {
        // An imported region may sign status lists with its licence signer's key.
        let dir = tempfile::tempdir().unwrap();
        let region = region(dir.path());
        let mut config = region.config.clone();
        config.status_signer = Some(config.signers[0].files.clone());
        rewrite_region_file(&region.path, &config).unwrap();
        let region = RegionDir::open(&region.path)
            .unwrap()
            .with_plaintext_keys(region.plaintext_keys);
        let done = region.rollover(&rollover(Role::StatusSigner)).unwrap();
        assert_eq!(done.deleted_key, None);
        assert!(done.region.active_signer(None).is_ok());
    }

    #[test]
    fn a_region_file_without_retired_keys_reads_as_before() {
        let dir = tempfile::tempdir().unwrap();
        let region = region(dir.path());
        let text = std::fs::read_to_string(region.path.join(REGION_FILE)).unwrap();
        assert!(!text.contains("retired"), "{text}");
        let done = region.rollover(&rollover(Role::StatusSigner)).unwrap();
        let text = std::fs::read_to_string(done.region.path.join(REGION_FILE)).unwrap();
        assert!(text.contains("\"retired_status_signers\""), "{text}");
    }
}
