//! The signature and digest algorithms seals use, by OID, and nothing else.
//!
//! GB/T 38540 names a signature algorithm by a bare OBJECT IDENTIFIER (no parameters), so
//! RSASSA-PSS is read as huren's only PSS profile (SHA-256, MGF1-SHA-256, salt 32; RFC 4055),
//! the one `PS256` keys sign with. Signature values travel in DER: `ECDSA-Sig-Value` for
//! ECDSA and SM2 (raw `r‖s` is also accepted for SM2, as deployed seals carry both), the
//! signature block for RSA.

use std::fmt;

use der::asn1::ObjectIdentifier;
use sha2::{Digest, Sha256};
use sm3::Sm3;

use super::asn1::RawOid;
use crate::alg::{Algorithm, KeyKind};
use crate::key::{self, PublicKey, SignatureError};
use crate::oids;

/// RFC 4055 `RSASSA-PSS-params` for SHA-256, MGF1-SHA-256, salt 32, trailer 1 (DER), the
/// parameters a bare RSASSA-PSS OID in a seal stands for.
const PSS_SHA256_PARAMS: &[u8] = &[
    0x30, 0x34, 0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
    0x01, 0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
    0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0xa2, 0x03, 0x02, 0x01, 0x20,
];

/// A signature algorithm accepted in seals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SealAlgorithm {
    /// SM2 with SM3, `1.2.156.10197.1.501` (the standard's algorithm).
    Sm2Sm3,
    /// ecdsa-with-SHA256 on P-256, `1.2.840.10045.4.3.2` (RFC 5758).
    EcdsaSha256,
    /// sha256WithRSAEncryption, `1.2.840.113549.1.1.11` (RFC 4055).
    RsaPkcs1Sha256,
    /// RSASSA-PSS with SHA-256 parameters, `1.2.840.113549.1.1.10` (RFC 4055).
    RsaPssSha256,
}

/// The hash a seal signature's `dataHash` uses: SM3 with SM2, SHA-256 otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// SM3 (GB/T 32905).
    Sm3,
    /// SHA-256.
    Sha256,
}

impl DigestAlgorithm {
    /// Hashes `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            DigestAlgorithm::Sm3 => Sm3::digest(data).to_vec(),
            DigestAlgorithm::Sha256 => Sha256::digest(data).to_vec(),
        }
    }

    /// Display name.
    pub fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Sm3 => "SM3",
            DigestAlgorithm::Sha256 => "SHA-256",
        }
    }

    /// Reads the free-text `type` of a `CertDigestObj`: `SM3`, `SHA256`/`SHA-256` in any
    /// case, or the algorithm's dotted OID.
    pub fn from_label(label: &str) -> Option<DigestAlgorithm> {
        let label = label.trim();
        let upper = label.to_ascii_uppercase();
        if upper == "SM3" || label == oids::SM3.to_string() {
            Some(DigestAlgorithm::Sm3)
        } else if upper == "SHA256" || upper == "SHA-256" || label == oids::SHA256.to_string() {
            Some(DigestAlgorithm::Sha256)
        } else {
            None
        }
    }
}

impl fmt::Display for DigestAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl SealAlgorithm {
    /// The algorithm an OID names; `None` for anything huren does not accept.
    pub fn from_oid(oid: &RawOid) -> Option<SealAlgorithm> {
        [
            SealAlgorithm::Sm2Sm3,
            SealAlgorithm::EcdsaSha256,
            SealAlgorithm::RsaPkcs1Sha256,
            SealAlgorithm::RsaPssSha256,
        ]
        .into_iter()
        .find(|alg| oid.is(&alg.oid()))
    }

    /// The seal algorithm a JOSE signer produces.
    pub fn for_signer(algorithm: Algorithm) -> SealAlgorithm {
        match algorithm {
            Algorithm::Sm2Sm3 => SealAlgorithm::Sm2Sm3,
            Algorithm::Es256 => SealAlgorithm::EcdsaSha256,
            Algorithm::Rs256 => SealAlgorithm::RsaPkcs1Sha256,
            Algorithm::Ps256 => SealAlgorithm::RsaPssSha256,
        }
    }

    /// The OID written into seals.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            SealAlgorithm::Sm2Sm3 => oids::SM2_WITH_SM3,
            SealAlgorithm::EcdsaSha256 => oids::ECDSA_WITH_SHA256,
            SealAlgorithm::RsaPkcs1Sha256 => oids::SHA256_WITH_RSA,
            SealAlgorithm::RsaPssSha256 => oids::RSASSA_PSS,
        }
    }

    /// Display name.
    pub fn name(self) -> &'static str {
        match self {
            SealAlgorithm::Sm2Sm3 => "SM2-with-SM3",
            SealAlgorithm::EcdsaSha256 => "ecdsa-with-SHA256",
            SealAlgorithm::RsaPkcs1Sha256 => "sha256WithRSAEncryption",
            SealAlgorithm::RsaPssSha256 => "RSASSA-PSS-SHA256",
        }
    }

    /// The key family it needs.
    pub fn key_kind(self) -> KeyKind {
        match self {
            SealAlgorithm::Sm2Sm3 => KeyKind::Sm2,
            SealAlgorithm::EcdsaSha256 => KeyKind::P256,
            SealAlgorithm::RsaPkcs1Sha256 | SealAlgorithm::RsaPssSha256 => KeyKind::Rsa,
        }
    }

    /// The `dataHash` algorithm that goes with it.
    pub fn digest(self) -> DigestAlgorithm {
        match self {
            SealAlgorithm::Sm2Sm3 => DigestAlgorithm::Sm3,
            _ => DigestAlgorithm::Sha256,
        }
    }

    /// Verifies `signature` (DER form, see the module doc) over `message`.
    pub fn verify(
        self,
        key: &PublicKey,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        let parameters = match self {
            SealAlgorithm::RsaPssSha256 => Some(PSS_SHA256_PARAMS),
            _ => None,
        };
        key.verify_x509(&self.oid(), parameters, message, signature)
    }

    /// Converts a [`crate::Signer`]'s JWS-form signature to the DER form seals carry: raw
    /// `r‖s` becomes `ECDSA-Sig-Value`, RSA blocks stay as they are. `None` if a curve
    /// signature is not 64 bytes.
    pub fn signature_from_jws(self, jws_signature: Vec<u8>) -> Option<Vec<u8>> {
        match self {
            SealAlgorithm::Sm2Sm3 | SealAlgorithm::EcdsaSha256 => {
                key::ecdsa_raw_to_der(&jws_signature)
            }
            SealAlgorithm::RsaPkcs1Sha256 | SealAlgorithm::RsaPssSha256 => Some(jws_signature),
        }
    }
}

impl fmt::Display for SealAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A display name for any signature OID (for inspection): the accepted ones by name, others
/// dotted.
pub fn algorithm_name(oid: &RawOid) -> String {
    SealAlgorithm::from_oid(oid).map_or_else(|| oid.to_string(), |alg| alg.name().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_map_both_ways_and_digests_follow_the_algorithm() {
        for alg in [
            SealAlgorithm::Sm2Sm3,
            SealAlgorithm::EcdsaSha256,
            SealAlgorithm::RsaPkcs1Sha256,
            SealAlgorithm::RsaPssSha256,
        ] {
            assert_eq!(
                SealAlgorithm::from_oid(&RawOid::from_oid(&alg.oid())),
                Some(alg)
            );
        }
        assert_eq!(
            SealAlgorithm::from_oid(&RawOid::from_dotted("1.2.840.10045.4.3.3").unwrap()),
            None
        );
        assert_eq!(SealAlgorithm::Sm2Sm3.digest(), DigestAlgorithm::Sm3);
        assert_eq!(
            SealAlgorithm::RsaPssSha256.digest(),
            DigestAlgorithm::Sha256
        );
        // SM3("abc"), GB/T 32905 appendix A.
        assert_eq!(
            hex::encode(DigestAlgorithm::Sm3.digest(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }

    #[test]
    fn digest_labels() {
        for label in ["SM3", "sm3", "1.2.156.10197.1.401"] {
            assert_eq!(
                DigestAlgorithm::from_label(label),
                Some(DigestAlgorithm::Sm3)
            );
        }
        for label in ["SHA256", "sha-256", "2.16.840.1.101.3.4.2.1"] {
            assert_eq!(
                DigestAlgorithm::from_label(label),
                Some(DigestAlgorithm::Sha256)
            );
        }
        assert_eq!(DigestAlgorithm::from_label("MD5"), None);
    }
}
