//! The signing seam: what `huren-keys` (software keys today, an HSM tomorrow) implements.
//!
//! This crate never holds a private key; it only says what bytes are to be signed and in what
//! form the signature must come back.

use crate::alg::Algorithm;

/// Something that signs JWS signing inputs.
pub trait Signer: Send + Sync {
    /// The JOSE algorithm this signer produces.
    fn algorithm(&self) -> Algorithm;

    /// Signs `message`, returning the JWS form of the signature: raw `r‖s` (64 bytes) for ES256
    /// and SM2SM3, the RSA signature block for PS256 and RS256.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError>;
}

/// A signer failed. Carries no key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("signing with {algorithm} failed: {reason}")]
pub struct SignError {
    /// The algorithm that was asked for.
    pub algorithm: Algorithm,
    /// What went wrong, without secrets.
    pub reason: &'static str,
}
