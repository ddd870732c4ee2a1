//! # huren-keys — the PKI
//!
//! Key generation for all four algorithms, private keys encrypted at rest (PKCS#8, PBES2) in
//! 0600 files written atomically, province root CA and leaf certificates with the project's
//! EKUs, import of keys and certificates made by OpenSSL, the operator's trust-list assembly
//! (which refuses broken entries), and the [`huren_crypto::Signer`] seam implemented by
//! software keys.
//!
//! This crate may read and write files; it must never log or format key material.

pub mod certificate;
pub mod crl;
pub mod holder;
pub mod keypair;
pub mod layout;
pub mod note_keys;
pub mod operator;
pub mod pem;
pub mod rollover;
pub mod store;
pub mod trust_build;

/// The system clock (one for the workspace, in `huren_crypto::time`).
pub use huren_crypto::time::SystemClock;
pub use keypair::PrivateKey;
