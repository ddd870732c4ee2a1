//! Public keys for verification, parsed once from a SubjectPublicKeyInfo.
//!
//! The hot path (ES256, PS256, RS256) runs on aws-lc-rs with keys parsed ahead of time; SM2
//! goes through [`crate::sm2`], the one module that names the SM2 backend. Callers see one
//! backend-neutral [`PublicKey`]. RSA keys under 2048 bits are refused when parsed, so no
//! weak key ever reaches a verification.

use std::fmt;

use aws_lc_rs::signature::{self as lc, ParsedPublicKey, VerificationAlgorithm};
use der::asn1::{AnyRef, ObjectIdentifier, UintRef};
use der::{Decode, Encode};
use spki::SubjectPublicKeyInfoRef;

use crate::alg::{Algorithm, KeyKind};
use crate::oids;

/// SM2 distinguishing ID used throughout (GB/T 35276 default); owned by [`crate::sm2`].
pub const SM2_DISTINGUISHING_ID: &str = crate::sm2::DEFAULT_ID;
/// Smallest RSA modulus accepted, in bits (SPEC §2).
pub const MIN_RSA_BITS: usize = 2048;
/// Largest RSA modulus accepted, in bits (bounds verification cost of hostile keys).
pub const MAX_RSA_BITS: usize = 8192;
/// Largest SubjectPublicKeyInfo accepted, in bytes.
pub const MAX_SPKI_BYTES: usize = 2048;

/// A verification key of one of the supported kinds.
#[derive(Clone)]
pub struct PublicKey {
    inner: Inner,
    spki_der: Vec<u8>,
}

#[derive(Clone)]
enum Inner {
    P256 {
        jws: ParsedPublicKey,
        point: Vec<u8>,
    },
    Rsa {
        pss: ParsedPublicKey,
        pkcs1: ParsedPublicKey,
        bits: usize,
    },
    Sm2(Box<crate::sm2::VerifyingKey>),
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("kind", &self.kind())
            .field("bits", &self.bits())
            .finish()
    }
}

/// Why a public key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not a DER SubjectPublicKeyInfo.
    #[error("public key is not a DER SubjectPublicKeyInfo")]
    NotSpki,
    /// Longer than [`MAX_SPKI_BYTES`].
    #[error("public key is larger than {MAX_SPKI_BYTES} bytes")]
    TooLarge,
    /// An algorithm or curve huren does not support.
    #[error("unsupported public key algorithm {0}")]
    UnsupportedKeyAlgorithm(String),
    /// RSA key outside the accepted size range.
    #[error("RSA key of {bits} bits is outside the accepted {MIN_RSA_BITS}..={MAX_RSA_BITS}")]
    RsaKeySize {
        /// The modulus size found.
        bits: usize,
    },
    /// The key bytes do not form a valid key of the stated kind.
    #[error("invalid {kind} public key")]
    InvalidKey {
        /// The key kind.
        kind: KeyKind,
    },
}

/// A signature did not verify, or could not be checked with this key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The algorithm needs a different key kind than this key.
    #[error("algorithm {algorithm} cannot be used with a {key} key")]
    AlgorithmKeyMismatch {
        /// The algorithm asked for.
        algorithm: Algorithm,
        /// The key's kind.
        key: KeyKind,
    },
    /// An X.509 signature algorithm huren does not implement.
    #[error("unsupported certificate signature algorithm {0}")]
    UnsupportedX509Algorithm(String),
    /// The signature is not valid for the message under this key.
    #[error("signature does not verify")]
    Invalid,
}

impl PublicKey {
    /// Parses a DER SubjectPublicKeyInfo: P-256 and SM2 (`id-ecPublicKey` with the named
    /// curve, or the SM2 OID as algorithm) and `rsaEncryption` of 2048..=8192 bits.
    pub fn from_spki_der(der: &[u8]) -> Result<PublicKey, KeyError> {
        if der.len() > MAX_SPKI_BYTES {
            return Err(KeyError::TooLarge);
        }
        let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(|_| KeyError::NotSpki)?;
        let key_bytes = spki
            .subject_public_key
            .as_bytes()
            .ok_or(KeyError::NotSpki)?;
        let algorithm = spki.algorithm.oid;
        let curve = spki
            .algorithm
            .parameters
            .and_then(|p: AnyRef<'_>| p.decode_as::<ObjectIdentifier>().ok());
        let inner = if algorithm == oids::EC_PUBLIC_KEY && curve == Some(oids::CURVE_P256) {
            let jws =
                ParsedPublicKey::new(&lc::ECDSA_P256_SHA256_FIXED, key_bytes).map_err(|_| {
                    KeyError::InvalidKey {
                        kind: KeyKind::P256,
                    }
                })?;
            Inner::P256 {
                jws,
                point: key_bytes.to_vec(),
            }
        } else if (algorithm == oids::EC_PUBLIC_KEY && curve == Some(oids::CURVE_SM2))
            || algorithm == oids::CURVE_SM2
        {
            let key = crate::sm2::VerifyingKey::from_sec1(key_bytes)
                .map_err(|_| KeyError::InvalidKey { kind: KeyKind::Sm2 })?;
            Inner::Sm2(Box::new(key))
        } else if algorithm == oids::RSA_ENCRYPTION {
            let bits = rsa_modulus_bits(key_bytes)?;
            if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
                return Err(KeyError::RsaKeySize { bits });
            }
            let parse = |alg: &'static lc::RsaParameters| {
                ParsedPublicKey::new(alg, der)
                    .map_err(|_| KeyError::InvalidKey { kind: KeyKind::Rsa })
            };
            Inner::Rsa {
                pss: parse(&lc::RSA_PSS_2048_8192_SHA256)?,
                pkcs1: parse(&lc::RSA_PKCS1_2048_8192_SHA256)?,
                bits,
            }
        } else {
            let name = match curve {
                Some(curve) => format!("{algorithm} with curve {curve}"),
                None => algorithm.to_string(),
            };
            return Err(KeyError::UnsupportedKeyAlgorithm(name));
        };
        Ok(PublicKey {
            inner,
            spki_der: der.to_vec(),
        })
    }

    /// The key family.
    pub fn kind(&self) -> KeyKind {
        match self.inner {
            Inner::P256 { .. } => KeyKind::P256,
            Inner::Rsa { .. } => KeyKind::Rsa,
            Inner::Sm2(_) => KeyKind::Sm2,
        }
    }

    /// Key size in bits (modulus size for RSA, 256 for the curves).
    pub fn bits(&self) -> usize {
        match self.inner {
            Inner::Rsa { bits, .. } => bits,
            Inner::P256 { .. } | Inner::Sm2(_) => 256,
        }
    }

    /// The DER SubjectPublicKeyInfo this key was parsed from.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The SEC1 uncompressed point for the curve keys (JWK `x`/`y`), `None` for RSA.
    pub fn ec_point(&self) -> Option<Vec<u8>> {
        match &self.inner {
            Inner::P256 { point, .. } => Some(point.clone()),
            Inner::Sm2(key) => Some(key.to_sec1().to_vec()),
            Inner::Rsa { .. } => None,
        }
    }

    /// Verifies a JWS signature (`alg` from the protected header) over `message`.
    ///
    /// The algorithm must match the key kind; ECDSA and SM2 signatures are raw `r‖s`.
    pub fn verify_jws(
        &self,
        algorithm: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        match (&self.inner, algorithm) {
            (Inner::P256 { jws, .. }, Algorithm::Es256) => {
                if signature.len() != 64 {
                    return Err(SignatureError::Invalid);
                }
                jws.verify_sig(message, signature)
                    .map_err(|_| SignatureError::Invalid)
            }
            (Inner::Rsa { pss, .. }, Algorithm::Ps256) => pss
                .verify_sig(message, signature)
                .map_err(|_| SignatureError::Invalid),
            (Inner::Rsa { pkcs1, .. }, Algorithm::Rs256) => pkcs1
                .verify_sig(message, signature)
                .map_err(|_| SignatureError::Invalid),
            (Inner::Sm2(key), Algorithm::Sm2Sm3) => verify_sm2_raw(key, message, signature),
            (_, algorithm) => Err(SignatureError::AlgorithmKeyMismatch {
                algorithm,
                key: self.kind(),
            }),
        }
    }

    /// Verifies an X.509/CMS-style signature: `algorithm` is the signature AlgorithmIdentifier
    /// (OID and DER parameters), `signature` the BIT STRING contents (DER `SEQUENCE{r,s}` for
    /// ECDSA and SM2; raw `r‖s` is also accepted for SM2 as seals carry both).
    pub fn verify_x509(
        &self,
        algorithm: &ObjectIdentifier,
        parameters: Option<&[u8]>,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        let unsupported = || SignatureError::UnsupportedX509Algorithm(algorithm.to_string());
        match &self.inner {
            Inner::P256 { point, .. } if *algorithm == oids::ECDSA_WITH_SHA256 => {
                verify_unparsed(&lc::ECDSA_P256_SHA256_ASN1, point, message, signature)
            }
            Inner::Rsa { pkcs1, .. } if *algorithm == oids::SHA256_WITH_RSA => {
                // RFC 4055: parameters are NULL or absent; anything else is not this algorithm.
                match parameters {
                    None | Some([0x05, 0x00]) => pkcs1
                        .verify_sig(message, signature)
                        .map_err(|_| SignatureError::Invalid),
                    Some(_) => Err(unsupported()),
                }
            }
            Inner::Rsa { pss, .. } if *algorithm == oids::RSASSA_PSS => {
                if parameters.is_some_and(is_pss_sha256_params) {
                    pss.verify_sig(message, signature)
                        .map_err(|_| SignatureError::Invalid)
                } else {
                    Err(unsupported())
                }
            }
            Inner::Sm2(key) if *algorithm == oids::SM2_WITH_SM3 => {
                // A 64-byte value may be raw r‖s or (rarely) a short DER encoding: try DER
                // first, then raw. Both interpretations must verify under the same key, so
                // accepting either adds no forgery room.
                let der_ok = ecdsa_der_to_raw(signature)
                    .is_some_and(|raw| verify_sm2_raw(key, message, &raw).is_ok());
                if der_ok {
                    Ok(())
                } else if signature.len() == 64 {
                    verify_sm2_raw(key, message, signature)
                } else {
                    Err(SignatureError::Invalid)
                }
            }
            _ => Err(unsupported()),
        }
    }
}

fn verify_unparsed(
    algorithm: &'static dyn VerificationAlgorithm,
    key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    lc::UnparsedPublicKey::new(algorithm, key)
        .verify(message, signature)
        .map_err(|_| SignatureError::Invalid)
}

fn verify_sm2_raw(
    key: &crate::sm2::VerifyingKey,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    key.verify(message, signature)
        .map_err(|_| SignatureError::Invalid)
}

/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` (RFC 8017 A.1.1).
#[derive(der::Sequence)]
struct RsaPublicKeyRef<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

fn rsa_modulus_bits(key_bytes: &[u8]) -> Result<usize, KeyError> {
    let key = RsaPublicKeyRef::from_der(key_bytes)
        .map_err(|_| KeyError::InvalidKey { kind: KeyKind::Rsa })?;
    let modulus = key.modulus.as_bytes();
    let Some(first) = modulus.first() else {
        return Err(KeyError::InvalidKey { kind: KeyKind::Rsa });
    };
    Ok(modulus.len() * 8 - first.leading_zeros() as usize)
}

/// The RSA modulus and public exponent (big-endian, no leading zeros) of an RSA SPKI, for JWK
/// export; `None` for other keys.
pub fn rsa_components(spki_der: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let spki = SubjectPublicKeyInfoRef::from_der(spki_der).ok()?;
    if spki.algorithm.oid != oids::RSA_ENCRYPTION {
        return None;
    }
    let key = RsaPublicKeyRef::from_der(spki.subject_public_key.as_bytes()?).ok()?;
    Some((
        key.modulus.as_bytes().to_vec(),
        key.public_exponent.as_bytes().to_vec(),
    ))
}

/// The only PSS parameters accepted in certificates: SHA-256, MGF1-SHA-256, salt 32
/// (trailer field 1). Compared as exact DER so no parameter parsing ambiguity can creep in.
fn is_pss_sha256_params(parameters: &[u8]) -> bool {
    const PSS_SHA256_SALT32: &[u8] = &[
        0x30, 0x34, 0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
        0x02, 0x01, 0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
        0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
        0x02, 0x01, 0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, 0x20,
    ];
    // The same without the explicit NULL hash parameters, as some encoders write it.
    const PSS_SHA256_SALT32_NO_NULL: &[u8] = &[
        0x30, 0x30, 0xa0, 0x0d, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
        0x02, 0x01, 0xa1, 0x1a, 0x30, 0x18, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
        0x01, 0x08, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0xa2, 0x03, 0x02, 0x01, 0x20,
    ];
    parameters == PSS_SHA256_SALT32 || parameters == PSS_SHA256_SALT32_NO_NULL
}

/// `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279), as certificates and
/// GB/T 38540 seals carry ECDSA and SM2 signatures.
#[derive(der::Sequence)]
struct EcdsaSigValue<'a> {
    r: UintRef<'a>,
    s: UintRef<'a>,
}

/// DER `ECDSA-Sig-Value` → raw `r‖s` for a 256-bit curve; `None` if malformed or oversized.
pub fn ecdsa_der_to_raw(der: &[u8]) -> Option<[u8; 64]> {
    let value = EcdsaSigValue::from_der(der).ok()?;
    let mut raw = [0u8; 64];
    for (half, integer) in [(0usize, value.r), (32, value.s)] {
        let bytes = integer.as_bytes();
        if bytes.len() > 32 {
            return None;
        }
        raw[half + 32 - bytes.len()..half + 32].copy_from_slice(bytes);
    }
    Some(raw)
}

/// Raw `r‖s` (64 bytes) → DER `ECDSA-Sig-Value`; `None` if not 64 bytes.
pub fn ecdsa_raw_to_der(raw: &[u8]) -> Option<Vec<u8>> {
    if raw.len() != 64 {
        return None;
    }
    let value = EcdsaSigValue {
        r: UintRef::new(&raw[..32]).ok()?,
        s: UintRef::new(&raw[32..]).ok()?,
    };
    value.to_der().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_and_raw_signatures_convert_both_ways() {
        let mut raw = [0u8; 64];
        raw[0] = 0x80; // high bit set: DER needs a leading zero
        raw[31] = 1;
        raw[63] = 7; // s = 7: DER drops leading zeros
        let der = ecdsa_raw_to_der(&raw).unwrap();
        assert_eq!(ecdsa_der_to_raw(&der).unwrap(), raw);
        assert!(ecdsa_der_to_raw(&[0x30, 0x00]).is_none());
        assert!(ecdsa_raw_to_der(&raw[..63]).is_none());
    }

    #[test]
    fn garbage_is_not_a_key() {
        assert_eq!(
            PublicKey::from_spki_der(b"hello").unwrap_err(),
            KeyError::NotSpki
        );
        assert_eq!(
            PublicKey::from_spki_der(&[0u8; 4096]).unwrap_err(),
            KeyError::TooLarge
        );
    }
}
