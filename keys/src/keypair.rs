//! Private keys of the four algorithms: generation, PKCS#8 in and out, and signing.
//!
//! P-256 and RSA keys live in aws-lc-rs (constant-time, and fast: RustCrypto's `rsa` crate has
//! a known timing side channel in private-key operations, RUSTSEC-2023-0071, so huren never
//! signs with it). SM2 keys go through `huren_crypto::sm2`, the one module that names the SM2
//! backend.
//! This module never formats key material: `Debug` shows the algorithm only.

use std::fmt;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self as lc, EcdsaKeyPair, KeyPair as _, RsaKeyPair};
use der::asn1::{AnyRef, ObjectIdentifier};
use der::{Decode, Encode};
use huren_crypto::alg::{Algorithm, KeyKind};
use huren_crypto::key::{ecdsa_raw_to_der, PublicKey};
use huren_crypto::oids;
use huren_crypto::sm2;
use huren_crypto::{SignError, Signer};
use pkcs8::PrivateKeyInfo;
use spki::AlgorithmIdentifierOwned;
use zeroize::Zeroizing;

/// A private key able to sign JWS (its [`Algorithm`]) and X.509 certificates.
pub struct PrivateKey {
    inner: Inner,
    algorithm: Algorithm,
}

enum Inner {
    P256(EcdsaKeyPair),
    Rsa(RsaKeyPair),
    Sm2(Box<sm2::SigningKey>),
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({})", self.algorithm)
    }
}

/// Why a key could not be made, read or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Generation failed (the system RNG, most likely).
    #[error("could not generate a {0} key")]
    Generate(Algorithm),
    /// The PKCS#8 structure is not a key huren can use.
    #[error("not a usable private key: {0}")]
    Unusable(String),
    /// The key's kind does not fit the algorithm asked for.
    #[error("a {found} key cannot sign {algorithm}")]
    WrongKind {
        /// The algorithm wanted.
        algorithm: Algorithm,
        /// The key found.
        found: KeyKind,
    },
    /// RSA key below 2048 bits.
    #[error("RSA key of {bits} bits is too small (at least 2048)")]
    RsaTooSmall {
        /// Its size.
        bits: usize,
    },
    /// Encoding a key or public key failed.
    #[error("could not encode the key")]
    Encode,
}

impl PrivateKey {
    /// Generates a fresh key for `algorithm` (RSA: 3072 bits, above the 2048 floor so keys
    /// outlive their certificates comfortably).
    pub fn generate(algorithm: Algorithm) -> Result<PrivateKey, KeyError> {
        let failed = |_| KeyError::Generate(algorithm);
        let inner = match algorithm.key_kind() {
            KeyKind::P256 => {
                let pkcs8 = EcdsaKeyPair::generate_pkcs8(
                    &lc::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &SystemRandom::new(),
                )
                .map_err(failed)?;
                Inner::P256(
                    EcdsaKeyPair::from_pkcs8(&lc::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
                        .map_err(|_| KeyError::Generate(algorithm))?,
                )
            }
            KeyKind::Rsa => Inner::Rsa(RsaKeyPair::generate(KeySize::Rsa3072).map_err(failed)?),
            KeyKind::Sm2 => Inner::Sm2(Box::new(
                sm2::SigningKey::generate(&mut rand_core::OsRng)
                    .map_err(|_| KeyError::Generate(algorithm))?,
            )),
        };
        Ok(PrivateKey { inner, algorithm })
    }

    /// Reads a plaintext PKCS#8 key and binds it to `algorithm` (an RSA key may serve PS256 or
    /// RS256; the caller says which).
    pub fn from_pkcs8_der(der: &[u8], algorithm: Algorithm) -> Result<PrivateKey, KeyError> {
        let kind = pkcs8_key_kind(der)?;
        if kind != algorithm.key_kind() {
            return Err(KeyError::WrongKind {
                algorithm,
                found: kind,
            });
        }
        let unusable = |what: &str| KeyError::Unusable(what.to_owned());
        let inner = match kind {
            KeyKind::P256 => Inner::P256(
                EcdsaKeyPair::from_pkcs8(&lc::ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(|e| unusable(&format!("P-256 key rejected: {e}")))?,
            ),
            KeyKind::Rsa => {
                let key = RsaKeyPair::from_pkcs8(der)
                    .map_err(|e| unusable(&format!("RSA key rejected: {e}")))?;
                let bits = key.public_modulus_len() * 8;
                if bits < huren_crypto::key::MIN_RSA_BITS {
                    return Err(KeyError::RsaTooSmall { bits });
                }
                Inner::Rsa(key)
            }
            KeyKind::Sm2 => Inner::Sm2(Box::new(
                sm2::SigningKey::from_pkcs8_der(der).map_err(|_| unusable("SM2 key rejected"))?,
            )),
        };
        Ok(PrivateKey { inner, algorithm })
    }

    /// Reads a SEC1 `EC PRIVATE KEY` (P-256) or PKCS#1 `RSA PRIVATE KEY`, as older OpenSSL
    /// commands write them, and re-encodes it as PKCS#8.
    pub fn legacy_der_to_pkcs8(label: &str, der: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        match label {
            "EC PRIVATE KEY" => {
                let key = EcdsaKeyPair::from_private_key_der(
                    &lc::ECDSA_P256_SHA256_FIXED_SIGNING,
                    der,
                )
                .map_err(|e| KeyError::Unusable(format!("SEC1 key is not a P-256 key: {e}")))?;
                let doc = key.to_pkcs8v1().map_err(|_| KeyError::Encode)?;
                Ok(Zeroizing::new(doc.as_ref().to_vec()))
            }
            "RSA PRIVATE KEY" => {
                let key = RsaKeyPair::from_der(der)
                    .map_err(|e| KeyError::Unusable(format!("PKCS#1 key rejected: {e}")))?;
                let doc: Pkcs8V1Der<'static> = key.as_der().map_err(|_| KeyError::Encode)?;
                Ok(Zeroizing::new(doc.as_ref().to_vec()))
            }
            other => Err(KeyError::Unusable(format!(
                "unexpected PEM label {other:?}"
            ))),
        }
    }

    /// The JOSE algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// PKCS#8 DER of the private key (for encrypted storage only).
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let bytes = match &self.inner {
            Inner::P256(key) => key
                .to_pkcs8v1()
                .map_err(|_| KeyError::Encode)?
                .as_ref()
                .to_vec(),
            Inner::Rsa(key) => {
                let doc: Pkcs8V1Der<'static> = key.as_der().map_err(|_| KeyError::Encode)?;
                doc.as_ref().to_vec()
            }
            Inner::Sm2(key) => return key.to_pkcs8_der().map_err(|_| KeyError::Encode),
        };
        Ok(Zeroizing::new(bytes))
    }

    /// DER SubjectPublicKeyInfo of the public key.
    pub fn public_key_spki_der(&self) -> Result<Vec<u8>, KeyError> {
        match &self.inner {
            Inner::P256(key) => Ok(key
                .public_key()
                .as_der()
                .map_err(|_| KeyError::Encode)?
                .as_ref()
                .to_vec()),
            Inner::Rsa(key) => Ok(key
                .public_key()
                .as_der()
                .map_err(|_| KeyError::Encode)?
                .as_ref()
                .to_vec()),
            Inner::Sm2(key) => key
                .verifying_key()
                .to_spki_der()
                .map_err(|_| KeyError::Encode),
        }
    }

    /// The public key, parsed for verification.
    pub fn public_key(&self) -> Result<PublicKey, KeyError> {
        PublicKey::from_spki_der(&self.public_key_spki_der()?)
            .map_err(|e| KeyError::Unusable(e.to_string()))
    }

    /// The AlgorithmIdentifier this key signs certificates with: ecdsa-with-SHA256,
    /// sha256WithRSAEncryption (the most widely understood RSA certificate signature, also
    /// for PS256 provinces) or SM2-with-SM3.
    pub fn x509_signature_algorithm(&self) -> AlgorithmIdentifierOwned {
        let (oid, null_params) = match self.inner {
            Inner::P256(_) => (oids::ECDSA_WITH_SHA256, false),
            Inner::Rsa(_) => (oids::SHA256_WITH_RSA, true),
            Inner::Sm2(_) => (oids::SM2_WITH_SM3, false),
        };
        AlgorithmIdentifierOwned {
            oid,
            parameters: null_params.then(der::asn1::Any::null),
        }
    }

    /// Signs `message` for an X.509 structure: DER `ECDSA-Sig-Value` for the curves, PKCS#1
    /// v1.5 for RSA, matching [`PrivateKey::x509_signature_algorithm`].
    pub fn sign_x509(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let fail = |reason| SignError {
            algorithm: self.algorithm,
            reason,
        };
        match &self.inner {
            Inner::P256(_) | Inner::Sm2(_) => {
                let raw = self.sign(message)?;
                ecdsa_raw_to_der(&raw).ok_or_else(|| fail("signature did not encode"))
            }
            Inner::Rsa(key) => rsa_sign(key, &lc::RSA_PKCS1_SHA256, message)
                .map_err(|_| fail("RSA signing failed")),
        }
    }
}

fn rsa_sign(
    key: &RsaKeyPair,
    padding: &'static dyn lc::RsaEncoding,
    message: &[u8],
) -> Result<Vec<u8>, aws_lc_rs::error::Unspecified> {
    let mut signature = vec![0u8; key.public_modulus_len()];
    key.sign(padding, &SystemRandom::new(), message, &mut signature)?;
    Ok(signature)
}

impl Signer for PrivateKey {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let fail = |reason| SignError {
            algorithm: self.algorithm,
            reason,
        };
        match (&self.inner, self.algorithm) {
            (Inner::P256(key), _) => key
                .sign(&SystemRandom::new(), message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| fail("ECDSA signing failed")),
            (Inner::Rsa(key), Algorithm::Rs256) => rsa_sign(key, &lc::RSA_PKCS1_SHA256, message)
                .map_err(|_| fail("RSA signing failed")),
            (Inner::Rsa(key), _) => {
                rsa_sign(key, &lc::RSA_PSS_SHA256, message).map_err(|_| fail("RSA signing failed"))
            }
            (Inner::Sm2(key), _) => key
                .sign(&mut rand_core::OsRng, message)
                .map(|s| s.to_vec())
                .map_err(|_| fail("SM2 signing failed")),
        }
    }
}

/// The key kind of a PKCS#8 structure, from its algorithm identifier.
pub fn pkcs8_key_kind(der: &[u8]) -> Result<KeyKind, KeyError> {
    let info = PrivateKeyInfo::from_der(der)
        .map_err(|_| KeyError::Unusable("not a PKCS#8 PrivateKeyInfo".into()))?;
    let curve = info
        .algorithm
        .parameters
        .and_then(|p: AnyRef<'_>| p.decode_as::<ObjectIdentifier>().ok());
    let oid = info.algorithm.oid;
    if oid == oids::EC_PUBLIC_KEY && curve == Some(oids::CURVE_P256) {
        Ok(KeyKind::P256)
    } else if (oid == oids::EC_PUBLIC_KEY && curve == Some(oids::CURVE_SM2))
        || oid == oids::CURVE_SM2
    {
        Ok(KeyKind::Sm2)
    } else if oid == oids::RSA_ENCRYPTION {
        Ok(KeyKind::Rsa)
    } else {
        let _ = info.to_der();
        Err(KeyError::Unusable(format!(
            "unsupported key algorithm {oid}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_signs_what_its_public_key_verifies() {
        for algorithm in Algorithm::ALL {
            let key = PrivateKey::generate(algorithm).unwrap();
            let public = key.public_key().unwrap();
            let signature = key.sign(b"message").unwrap();
            public
                .verify_jws(algorithm, b"message", &signature)
                .unwrap();
            assert!(public
                .verify_jws(algorithm, b"massage", &signature)
                .is_err());

            let x509 = key.sign_x509(b"tbs").unwrap();
            let alg_id = key.x509_signature_algorithm();
            let params = alg_id.parameters.as_ref().map(|p| p.to_der().unwrap());
            public
                .verify_x509(&alg_id.oid, params.as_deref(), b"tbs", &x509)
                .unwrap();

            let reloaded =
                PrivateKey::from_pkcs8_der(&key.to_pkcs8_der().unwrap(), algorithm).unwrap();
            assert_eq!(
                reloaded.public_key_spki_der().unwrap(),
                key.public_key_spki_der().unwrap()
            );
            assert!(
                !format!("{key:?}").contains("0x"),
                "Debug shows no key material"
            );
        }
    }

    #[test]
    fn a_key_of_the_wrong_kind_is_refused() {
        let key = PrivateKey::generate(Algorithm::Es256).unwrap();
        let err = PrivateKey::from_pkcs8_der(&key.to_pkcs8_der().unwrap(), Algorithm::Sm2Sm3)
            .unwrap_err();
        assert_eq!(
            err,
            KeyError::WrongKind {
                algorithm: Algorithm::Sm2Sm3,
                found: KeyKind::P256
            }
        );
        assert!(PrivateKey::from_pkcs8_der(b"junk", Algorithm::Es256).is_err());
    }
}
