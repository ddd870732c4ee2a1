//! SM2 signatures with SM3 (GB/T 32918.2, GM/T 0009): the one module that owns the SM2
//! backend.
//!
//! Everything else in huren — public-key parsing ([`crate::key`]), seals, and the signing keys
//! of `huren-keys` — goes through [`VerifyingKey`] and [`SigningKey`], so changing the backend
//! touches this module only. It owns the SM2 rules that do not depend on the backend: the
//! signature encoding (raw `r‖s`, 64 bytes), the range of `r` and `s`, and the distinguishing
//! ID that enters `Z_A`. It must not do I/O or use a global RNG: signing takes the RNG.
//!
//! Two paths, split by what is secret (README "SM2"):
//! - verification (`field`, `point`, `verify`, `comb`, `key_cache`): fiat-crypto's verified
//!   field, Jacobian formulas, wNAF tables and fixed-base combs, variable-time — it sees only
//!   public data;
//! - signing (`sign`, `complete`): a constant-time fixed-base comb for `k·G` on the same
//!   field with complete addition formulas, and the `sm2` crate's scalar arithmetic and nonce.
//!
//! Key formats (SEC1 points, PKCS#8) are read and written by the `sm2` crate.

mod comb;
mod complete;
mod field;
mod key_cache;
mod point;
mod sign;
mod verify;

use std::fmt;
use std::sync::Arc;

use rand_core::CryptoRngCore;
use sm2::elliptic_curve::sec1::ToEncodedPoint as _;
use sm2::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use sm3::{Digest as _, Sm3};
use zeroize::{Zeroize as _, Zeroizing};

/// SM2 distinguishing ID used throughout huren (the GB/T 35276 default, `1234567812345678`).
pub const DEFAULT_ID: &str = "1234567812345678";
/// Length of a raw SM2 signature `r‖s`.
pub const SIGNATURE_LEN: usize = 64;
/// Length of an uncompressed SEC1 point `04‖x‖y`.
pub const POINT_LEN: usize = 65;
/// Longest distinguishing ID: `ENTL_A` is a 16-bit count of *bits* (GB/T 32918.2 §5.5).
pub const MAX_ID_LEN: usize = 8191;

/// The group order n of the recommended curve (GB/T 32918.5), big-endian.
const ORDER: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0x72, 0x03, 0xDF, 0x6B, 0x21, 0xC6, 0x05, 0x2B, 0x53, 0xBB, 0xF4, 0x09, 0x39, 0xD5, 0x41, 0x23,
];

/// Why an SM2 key or signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Sm2Error {
    /// Not an SEC1 point on the SM2 curve (or the identity).
    #[error("not a valid SM2 public key")]
    InvalidPublicKey,
    /// Not a private key in 1..n-2 (1 + d must be invertible), or not an SM2 PKCS#8
    /// structure.
    #[error("not a valid SM2 private key")]
    InvalidPrivateKey,
    /// A distinguishing ID longer than [`MAX_ID_LEN`] bytes.
    #[error("SM2 distinguishing ID longer than {MAX_ID_LEN} bytes")]
    IdTooLong,
    /// Encoding the key failed.
    #[error("could not encode the SM2 key")]
    Encode,
    /// The signature is malformed or does not verify.
    #[error("SM2 signature does not verify")]
    BadSignature,
    /// Signing failed (no usable nonce from the RNG).
    #[error("SM2 signing failed")]
    Sign,
}

/// True if the 32-byte big-endian value is in 1..n-1 (GB/T 32918.2 §7.1 B1, B2).
fn in_scalar_range(bytes: &[u8]) -> bool {
    bytes.len() == 32 && bytes.iter().any(|&b| b != 0) && bytes < &ORDER[..]
}

/// `Z_A` = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A) (GB/T 32918.2 §5.5); `id` is at
/// most [`MAX_ID_LEN`] bytes.
fn distinguishing_hash(id: &str, x: &[u8; 32], y: &[u8; 32]) -> [u8; 32] {
    let entl = u16::try_from(id.len() * 8).unwrap_or(u16::MAX);
    let mut hash = Sm3::new();
    hash.update(entl.to_be_bytes());
    hash.update(id.as_bytes());
    for parameter in point::curve_parameters() {
        hash.update(parameter);
    }
    hash.update(x);
    hash.update(y);
    hash.finalize().into()
}

/// An SM2 public key bound to a distinguishing ID (so `Z_A` is computed once, at parse time).
/// Clones, and keys parsed from the same point while it is among the recently used
/// (`key_cache`), share the verification tables.
#[derive(Clone)]
pub struct VerifyingKey {
    point: Arc<verify::PublicPoint>,
    sec1: [u8; POINT_LEN],
    z: [u8; 32],
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sm2VerifyingKey").finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// Parses an SEC1 point (uncompressed `04‖x‖y` or compressed) under [`DEFAULT_ID`].
    pub fn from_sec1(point: &[u8]) -> Result<VerifyingKey, Sm2Error> {
        VerifyingKey::from_sec1_with_id(point, DEFAULT_ID)
    }

    /// Parses an SEC1 point under another distinguishing ID.
    pub fn from_sec1_with_id(point: &[u8], id: &str) -> Result<VerifyingKey, Sm2Error> {
        if id.len() > MAX_ID_LEN {
            return Err(Sm2Error::IdTooLong);
        }
        // The sm2 crate reads the SEC1 forms (and refuses the identity and points off the
        // curve); the verification path checks the curve equation again on its own field.
        let public =
            sm2::PublicKey::from_sec1_bytes(point).map_err(|_| Sm2Error::InvalidPublicKey)?;
        let encoded = public.to_encoded_point(false);
        let sec1: [u8; POINT_LEN] = encoded
            .as_bytes()
            .try_into()
            .map_err(|_| Sm2Error::InvalidPublicKey)?;
        let (x, y) = sec1[1..].split_at(32);
        let x: &[u8; 32] = x.try_into().map_err(|_| Sm2Error::InvalidPublicKey)?;
        let y: &[u8; 32] = y.try_into().map_err(|_| Sm2Error::InvalidPublicKey)?;
        let point = key_cache::shared(&sec1, || verify::PublicPoint::new(x, y))
            .ok_or(Sm2Error::InvalidPublicKey)?;
        Ok(VerifyingKey {
            point,
            z: distinguishing_hash(id, x, y),
            sec1,
        })
    }

    /// The uncompressed SEC1 point `04‖x‖y`.
    pub fn to_sec1(&self) -> [u8; POINT_LEN] {
        self.sec1
    }

    /// e = SM3(Z_A ‖ M) (GB/T 32918.2 §6.1 A1–A2, §7.1 B3–B4).
    fn digest(&self, message: &[u8]) -> [u8; 32] {
        let mut hash = Sm3::new();
        hash.update(self.z);
        hash.update(message);
        hash.finalize().into()
    }

    /// DER SubjectPublicKeyInfo: id-ecPublicKey with the SM2 curve OID as parameters (the form
    /// GB/T 33560 certificates and OpenSSL use).
    pub fn to_spki_der(&self) -> Result<Vec<u8>, Sm2Error> {
        use der::Encode as _;
        let point = self.to_sec1();
        let curve = crate::oids::CURVE_SM2;
        let spki = spki::SubjectPublicKeyInfoRef {
            algorithm: spki::AlgorithmIdentifierRef {
                oid: crate::oids::EC_PUBLIC_KEY,
                parameters: Some(der::asn1::AnyRef::from(&curve)),
            },
            subject_public_key: der::asn1::BitStringRef::from_bytes(&point)
                .map_err(|_| Sm2Error::Encode)?,
        };
        spki.to_der().map_err(|_| Sm2Error::Encode)
    }

    /// Verifies a raw `r‖s` signature over `message` (GB/T 32918.2 §7.1). Anything but 64 bytes
    /// with `r` and `s` in 1..n-1 is refused before any arithmetic.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), Sm2Error> {
        if signature.len() != SIGNATURE_LEN
            || !in_scalar_range(&signature[..32])
            || !in_scalar_range(&signature[32..])
        {
            return Err(Sm2Error::BadSignature);
        }
        let (r, s) = signature.split_at(32);
        let r = r.try_into().map_err(|_| Sm2Error::BadSignature)?;
        let s = s.try_into().map_err(|_| Sm2Error::BadSignature)?;
        if verify::verify(&self.point, &self.digest(message), r, s) {
            Ok(())
        } else {
            Err(Sm2Error::BadSignature)
        }
    }
}

/// An SM2 private key, signing under [`DEFAULT_ID`]. Signing is constant-time in the key and
/// the nonce. `Debug` shows no key material; the key is wiped when dropped.
pub struct SigningKey {
    /// d (the crate's `SecretKey` wipes itself on drop).
    secret: sm2::SecretKey,
    /// (1 + d)⁻¹ mod n, used by every signature.
    d_plus_1_inv: sm2::Scalar,
    public: VerifyingKey,
}

impl Drop for SigningKey {
    fn drop(&mut self) {
        self.d_plus_1_inv.zeroize();
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sm2SigningKey").finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new random key.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Result<SigningKey, Sm2Error> {
        SigningKey::from_secret(&sm2::SecretKey::random(rng))
    }

    /// The key with private scalar `d` (32 bytes, big-endian, in 1..n-2 so `1 + d` is
    /// invertible).
    pub fn from_bytes(d: &[u8]) -> Result<SigningKey, Sm2Error> {
        let secret = sm2::SecretKey::from_slice(d).map_err(|_| Sm2Error::InvalidPrivateKey)?;
        SigningKey::from_secret(&secret)
    }

    /// Reads a PKCS#8 `PrivateKeyInfo` (id-ecPublicKey with the SM2 curve).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<SigningKey, Sm2Error> {
        let secret =
            sm2::SecretKey::from_pkcs8_der(der).map_err(|_| Sm2Error::InvalidPrivateKey)?;
        SigningKey::from_secret(&secret)
    }

    fn from_secret(secret: &sm2::SecretKey) -> Result<SigningKey, Sm2Error> {
        let d = secret.to_nonzero_scalar();
        // d = n − 1 has no (1 + d)⁻¹; GB/T 32918.1 keeps d in 1..n−2.
        let d_plus_1_inv = Option::<sm2::Scalar>::from((*d + sm2::Scalar::ONE).invert())
            .ok_or(Sm2Error::InvalidPrivateKey)?;
        let public =
            VerifyingKey::from_sec1(secret.public_key().to_encoded_point(false).as_bytes())?;
        Ok(SigningKey {
            secret: secret.clone(),
            d_plus_1_inv,
            public,
        })
    }

    /// PKCS#8 DER of the key (for encrypted storage only).
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, Sm2Error> {
        let document = self.secret.to_pkcs8_der().map_err(|_| Sm2Error::Encode)?;
        Ok(Zeroizing::new(document.as_bytes().to_vec()))
    }

    /// The public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.public
    }

    /// Signs `message` (GB/T 32918.2 §6.1), returning raw `r‖s`. The nonce comes from `rng`.
    pub fn sign(
        &self,
        rng: &mut impl CryptoRngCore,
        message: &[u8],
    ) -> Result<[u8; SIGNATURE_LEN], Sm2Error> {
        let mut extra_entropy = Zeroizing::new([0u8; 32]);
        rng.try_fill_bytes(extra_entropy.as_mut())
            .map_err(|_| Sm2Error::Sign)?;
        let d = Zeroizing::new(self.secret.to_nonzero_scalar());
        sign::sign(
            &d,
            &self.d_plus_1_inv,
            &self.public.digest(message),
            &extra_entropy,
        )
        .ok_or(Sm2Error::Sign)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_range_is_one_to_n_minus_one() {
        let mut n_minus_one = ORDER;
        n_minus_one[31] -= 1;
        assert!(in_scalar_range(&n_minus_one));
        assert!(!in_scalar_range(&ORDER));
        assert!(!in_scalar_range(&[0u8; 32]));
        assert!(in_scalar_range(&[[0u8; 31].as_slice(), &[1]].concat()));
        assert!(!in_scalar_range(&[0xFF; 32]));
        assert!(!in_scalar_range(&[1u8; 31]));
    }

    #[test]
    fn a_key_parsed_again_shares_its_tables() {
        let key = SigningKey::from_bytes(&[7u8; 32]).unwrap();
        let sec1 = key.verifying_key().to_sec1();
        let again = VerifyingKey::from_sec1(&sec1).unwrap();
        let other_id = VerifyingKey::from_sec1_with_id(&sec1, "another id").unwrap();
        assert!(Arc::ptr_eq(&again.point, &key.verifying_key().point));
        assert!(
            Arc::ptr_eq(&other_id.point, &again.point),
            "the point is the same"
        );
        assert_ne!(other_id.z, again.z, "but Z_A is the ID's");
    }

    #[test]
    fn a_private_key_without_an_inverse_of_one_plus_d_is_refused() {
        let mut d = ORDER;
        d[31] -= 1; // n − 1: 1 + d = n ≡ 0
        assert_eq!(
            SigningKey::from_bytes(&d).unwrap_err(),
            Sm2Error::InvalidPrivateKey
        );
        d[31] -= 1; // n − 2, the largest usable key
        assert!(SigningKey::from_bytes(&d).is_ok());
    }
}
