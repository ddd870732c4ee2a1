//! The province's signing keys as the issuer holds them: the active licence signer and the
//! status-list signer, decrypted at start and checked against the trust list the issuer is
//! given — it refuses to start with a key whose certificate is not trusted for its region.
//!
//! Seal keys ([`SealKeys`]) are optional: the seal maker from the region directory, used only
//! if the trust list names it as a seal maker of the region (otherwise seal making is switched
//! off with the reason, and the licence service still starts), and the seal-holder keys of
//! `[[seal_holders]]`, each refused at start unless its certificate is issued by the region
//! root, carries the seal-holder purpose and belongs to the key.
//!
//! After `huren pki rollover` the issuer signs with the new status signer and seal maker once
//! it is restarted (keys are read only at start); status lists are signed when first asked for
//! after the start, so every list it serves then names the new signer. Retired keys are never
//! loaded: `region.json` names them only for the trust list.

use std::sync::Arc;

use huren_crypto::alg::{Algorithm, KeyKind};
use huren_crypto::cert::{CertError, Certificate};
use huren_crypto::ids::{RegionCode, Uscc};
use huren_crypto::oids::Purpose;
use huren_crypto::trust_list::TrustList;
use huren_keys::layout::{LayoutError, RegionDir};
use huren_keys::store::{Passphrase, PlaintextKeys};
use huren_keys::PrivateKey;

use crate::config::SealHolderFile;

/// Why the keys cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    /// Loading failed.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// A certificate did not parse.
    #[error("certificate: {0}")]
    Certificate(#[from] huren_crypto::cert::CertError),
    /// The trust list has no entry for this region.
    #[error("the trust list has no region {0}")]
    RegionMissing(RegionCode),
    /// The active signer is not a trusted signer of the region.
    #[error("the active licence signer ({subject}) is not a trusted signer of {region} in the trust list (seq {seq})")]
    SignerNotTrusted {
        /// Its subject.
        subject: String,
        /// The region.
        region: RegionCode,
        /// The trust list seq.
        seq: u64,
    },
    /// The status signer is not listed for the region.
    #[error("the status signer ({subject}) is not listed for {region} in the trust list")]
    StatusSignerNotTrusted {
        /// Its subject.
        subject: String,
        /// The region.
        region: RegionCode,
    },
    /// The seal-maker key is not the key of the seal-maker certificate.
    #[error("the seal-maker key is not the key of its certificate ({subject})")]
    SealMakerMismatch {
        /// The certificate's subject.
        subject: String,
    },
    /// A `[[seal_holders]]` certificate file could not be read.
    #[error("{setting}.cert")]
    HolderCertificateFile {
        /// `seal_holders[i]`.
        setting: String,
        /// Why.
        source: huren_keys::pem::PemError,
    },
    /// A `[[seal_holders]]` certificate is not a seal-holder certificate of the region root.
    #[error("{setting}.cert")]
    HolderCertificate {
        /// `seal_holders[i]`.
        setting: String,
        /// Why.
        source: CertError,
    },
    /// A `[[seal_holders]]` key file could not be read or decrypted.
    #[error("{setting}.key")]
    HolderKeyFile {
        /// `seal_holders[i]`.
        setting: String,
        /// Why.
        source: huren_keys::store::StoreError,
    },
    /// A `[[seal_holders]]` key is unusable for its algorithm.
    #[error("{setting}.key")]
    HolderKey {
        /// `seal_holders[i]`.
        setting: String,
        /// Why.
        source: huren_keys::keypair::KeyError,
    },
    /// A `[[seal_holders]]` key is not the key of its certificate.
    #[error("{setting}: the key is not the key of the certificate ({subject})")]
    HolderKeyMismatch {
        /// `seal_holders[i]`.
        setting: String,
        /// The certificate's subject.
        subject: String,
    },
}

/// Loaded, trusted signing keys.
#[derive(Debug)]
pub struct Keyring {
    /// The region these keys belong to.
    pub region: RegionCode,
    /// Province name.
    pub region_name: String,
    /// Active licence signer.
    pub signer: PrivateKey,
    /// Its certificate.
    pub signer_cert: Certificate,
    /// Status-list signer.
    pub status_signer: PrivateKey,
    /// Its certificate (DER, for `x5c`).
    pub status_cert_der: Vec<u8>,
    /// Where this region's status lists must live (from the trust list).
    pub status_uri_prefix: String,
}

impl Keyring {
    /// Loads the region's keys and checks them against `trust`.
    pub fn load(
        region: &RegionDir,
        passphrase: Option<&Passphrase>,
        trust: &TrustList,
    ) -> Result<Keyring, KeyringError> {
        let code = region.config.code.clone();
        let trusted_region = trust
            .region(&code)
            .ok_or_else(|| KeyringError::RegionMissing(code.clone()))?;
        let (signer, signer_der) = region.active_signer(passphrase)?;
        let signer_cert = Certificate::from_der(&signer_der)?;
        let trusted = trust
            .signer(&signer_cert.x5t_s256())
            .is_some_and(|s| trust.regions()[s.region_index].code == code);
        if !trusted {
            return Err(KeyringError::SignerNotTrusted {
                subject: signer_cert.subject().to_owned(),
                region: code,
                seq: trust.seq(),
            });
        }
        let (status_signer, status_cert_der) = region.status_signer(passphrase)?;
        let status_cert = Certificate::from_der(&status_cert_der)?;
        if !trusted_region
            .status_signers
            .iter()
            .any(|c| c == &status_cert)
        {
            return Err(KeyringError::StatusSignerNotTrusted {
                subject: status_cert.subject().to_owned(),
                region: code,
            });
        }
        Ok(Keyring {
            region: code,
            region_name: region.config.name.clone(),
            signer,
            signer_cert,
            status_signer,
            status_cert_der,
            status_uri_prefix: trusted_region.status_uri_prefix.clone(),
        })
    }

    /// The URI of status list `list_id`.
    pub fn status_uri(&self, list_id: &str) -> String {
        format!("{}{list_id}", self.status_uri_prefix)
    }
}

/// The region's seal maker, ready to sign seals.
#[derive(Debug)]
pub struct SealMaker {
    /// Its key.
    pub key: PrivateKey,
    /// Its certificate.
    pub cert: Certificate,
}

/// Whether this issuer can make seals, and if not, why (told to clients in a 503).
#[derive(Debug)]
pub enum SealMakerState {
    /// The maker is loaded and trusted for the region.
    Ready(SealMaker),
    /// Seal making is off.
    Unavailable(String),
}

/// A seal-holder key the platform holds for an organisation (server-side sealing).
#[derive(Debug)]
pub struct PlatformHolder {
    /// Its key.
    pub key: PrivateKey,
    /// Its certificate, issued by the region root with the seal-holder purpose.
    pub cert: Certificate,
    /// The organisation's USCC from the certificate's `serialNumber`, when it holds one.
    pub uscc: Option<Uscc>,
}

/// The seal keys of the issuer.
#[derive(Debug)]
pub struct SealKeys {
    /// The seal maker.
    pub maker: SealMakerState,
    /// Holder keys the platform holds, in configuration order.
    pub holders: Vec<Arc<PlatformHolder>>,
    /// The region root (holder certificates chain to it; the CRL is signed by it).
    pub root: Certificate,
}

impl SealKeys {
    /// Loads the seal maker from `region` (if it has one the trust list names) and the
    /// configured holder keys.
    pub fn load(
        region: &RegionDir,
        passphrase: Option<&Passphrase>,
        trust: &TrustList,
        holders: &[SealHolderFile],
    ) -> Result<SealKeys, KeyringError> {
        let root = Certificate::from_der(&region.root_der()?)?;
        let maker = load_maker(region, passphrase, trust)?;
        if let SealMakerState::Unavailable(reason) = &maker {
            tracing::warn!(%reason, "seal making is off");
        }
        let holders = holders
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                let setting = format!("seal_holders[{i}]");
                load_holder(&setting, entry, passphrase, region.plaintext_keys, &root)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SealKeys {
            maker,
            holders,
            root,
        })
    }
}

fn load_maker(
    region: &RegionDir,
    passphrase: Option<&Passphrase>,
    trust: &TrustList,
) -> Result<SealMakerState, KeyringError> {
    let code = &region.config.code;
    let Some(files) = &region.config.seal_maker else {
        return Ok(SealMakerState::Unavailable(format!(
            "the region directory of {code} has no seal maker"
        )));
    };
    if files.key.is_none() {
        return Ok(SealMakerState::Unavailable(format!(
            "the seal-maker key of {code} is not in the region directory"
        )));
    }
    let cert = Certificate::from_der(&region.certificate(files)?)?;
    // A seal no verifier trusts helps nobody, but neither does refusing to issue licences
    // over it: seal making alone is switched off, with the reason.
    let trusted = trust
        .region(code)
        .is_some_and(|r| r.seal_makers.iter().any(|m| m == &cert));
    if !trusted {
        return Ok(SealMakerState::Unavailable(format!(
            "the seal maker ({}) is not a seal maker of {code} in the trust list (seq {})",
            cert.subject(),
            trust.seq()
        )));
    }
    let key = region.key(files, passphrase)?;
    let spki = key
        .public_key_spki_der()
        .map_err(|source| LayoutError::Key {
            path: files.key.clone().unwrap_or_default(),
            source,
        })?;
    if spki != cert.public_key().spki_der() {
        return Err(KeyringError::SealMakerMismatch {
            subject: cert.subject().to_owned(),
        });
    }
    Ok(SealMakerState::Ready(SealMaker { key, cert }))
}

fn load_holder(
    setting: &str,
    entry: &SealHolderFile,
    passphrase: Option<&Passphrase>,
    plaintext: PlaintextKeys,
    root: &Certificate,
) -> Result<Arc<PlatformHolder>, KeyringError> {
    let cert_error = |source| KeyringError::HolderCertificate {
        setting: setting.to_owned(),
        source,
    };
    let der = huren_keys::pem::read_certificate(&entry.cert).map_err(|source| {
        KeyringError::HolderCertificateFile {
            setting: setting.to_owned(),
            source,
        }
    })?;
    let cert = Certificate::from_der(&der).map_err(cert_error)?;
    cert.check_leaf_profile(Purpose::SealHolder)
        .map_err(cert_error)?;
    cert.check_issued_by(root).map_err(cert_error)?;
    let file = huren_keys::store::load_private_key(&entry.key, passphrase, plaintext).map_err(
        |source| KeyringError::HolderKeyFile {
            setting: setting.to_owned(),
            source,
        },
    )?;
    if !file.was_encrypted {
        tracing::warn!(%setting, "seal-holder key is stored in plaintext (allowed explicitly; test set-ups only)");
    }
    if file.permissions_too_open {
        tracing::warn!(
            %setting,
            file = %entry.key.display(),
            "private key file is readable by group or others; chmod 600 it"
        );
    }
    let algorithm = entry.alg.unwrap_or(match cert.public_key().kind() {
        KeyKind::P256 => Algorithm::Es256,
        KeyKind::Sm2 => Algorithm::Sm2Sm3,
        KeyKind::Rsa => Algorithm::Ps256,
    });
    let key = PrivateKey::from_pkcs8_der(&file.pkcs8_der, algorithm).map_err(|source| {
        KeyringError::HolderKey {
            setting: setting.to_owned(),
            source,
        }
    })?;
    let spki = key
        .public_key_spki_der()
        .map_err(|source| KeyringError::HolderKey {
            setting: setting.to_owned(),
            source,
        })?;
    if spki != cert.public_key().spki_der() {
        return Err(KeyringError::HolderKeyMismatch {
            setting: setting.to_owned(),
            subject: cert.subject().to_owned(),
        });
    }
    let uscc = cert
        .subject_serial_number()
        .and_then(|s| Uscc::parse(s).ok());
    Ok(Arc::new(PlatformHolder { key, cert, uscc }))
}
