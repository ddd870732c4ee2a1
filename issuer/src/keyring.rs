//! The province's signing keys as the issuer holds them: the active licence signer and the
//! status-list signer, decrypted at start and checked against the trust list the issuer is
//! given — it refuses to start with a key whose certificate is not trusted for its region.

use huren_crypto::cert::Certificate;
use huren_crypto::ids::RegionCode;
use huren_crypto::trust_list::TrustList;
use huren_keys::layout::{LayoutError, RegionDir};
use huren_keys::store::Passphrase;
use huren_keys::PrivateKey;

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
