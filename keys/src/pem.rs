//! Certificates on disk: PEM (or DER) in, PEM out. The PEM text is read by
//! [`huren_crypto::pem`], the workspace's one reader.

use std::path::Path;

use der::pem::LineEnding;

use crate::store::{read_bounded, write_atomic, StoreError};

/// Largest certificate file read.
const MAX_CERT_FILE: usize = 64 * 1024;

/// Why a certificate file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PemError {
    /// Reading failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Not a PEM `CERTIFICATE` or DER certificate.
    #[error("{path}: not a PEM CERTIFICATE or DER certificate{detail}")]
    NotACertificate {
        /// The file.
        path: String,
        /// Extra information (e.g. the PEM label found).
        detail: String,
    },
}

/// Reads every certificate in a PEM file (or the one certificate of a DER file), as DER.
pub fn read_certificates(path: &Path) -> Result<Vec<Vec<u8>>, PemError> {
    let bytes = read_bounded(path, MAX_CERT_FILE)?;
    let not_cert = |detail: String| PemError::NotACertificate {
        path: path.display().to_string(),
        detail,
    };
    if bytes.first() == Some(&0x30) {
        return Ok(vec![bytes]);
    }
    huren_crypto::pem::decode_labelled(&bytes, "CERTIFICATE", MAX_CERT_FILE).map_err(|e| match e {
        huren_crypto::pem::PemError::NoBlock => not_cert(String::new()),
        other => not_cert(format!(": {other}")),
    })
}

/// Reads exactly one certificate.
pub fn read_certificate(path: &Path) -> Result<Vec<u8>, PemError> {
    let mut all = read_certificates(path)?;
    if all.len() != 1 {
        return Err(PemError::NotACertificate {
            path: path.display().to_string(),
            detail: format!(": expected one certificate, found {}", all.len()),
        });
    }
    Ok(all.remove(0))
}

/// PEM text of a DER certificate.
pub fn certificate_pem(der: &[u8]) -> String {
    der::pem::encode_string("CERTIFICATE", LineEnding::LF, der).unwrap_or_default()
}

/// Writes a certificate as PEM, atomically, mode 0644.
pub fn write_certificate(path: &Path, der: &[u8], overwrite: bool) -> Result<(), StoreError> {
    write_atomic(path, certificate_pem(der).as_bytes(), 0o644, overwrite)
}
