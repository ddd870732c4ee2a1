//! X.509 certificates as huren uses them: parsed once, with what verification needs at hand.
//!
//! Owns certificate parsing, issuer-signature checks, and the profile checks of SPEC §2
//! (CA flag, key usage, extended key usage, validity). It does not build certificates (that
//! is `huren-keys`) and does not decide trust (that is the trust list).
//!
//! Signatures are checked over the exact TBS bytes received, never over a re-encoding.

use std::fmt;
use std::sync::Arc;

use der::asn1::{BitStringRef, ObjectIdentifier};
use der::{Decode, Encode};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierRef;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};

use crate::oids::Purpose;

use crate::key::{KeyError, PublicKey, SignatureError};
use crate::time::UnixTime;

/// Largest certificate accepted, in bytes.
pub const MAX_CERT_BYTES: usize = 16 * 1024;

const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
/// Non-critical-in-practice extensions we understand enough to accept when marked critical.
const UNDERSTOOD_CRITICAL: [ObjectIdentifier; 5] = [
    BASIC_CONSTRAINTS,
    KEY_USAGE,
    EXTENDED_KEY_USAGE,
    ObjectIdentifier::new_unwrap("2.5.29.14"), // subjectKeyIdentifier
    ObjectIdentifier::new_unwrap("2.5.29.35"), // authorityKeyIdentifier
];

/// `Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }`,
/// kept as raw TBS bytes so the signature is checked over exactly what was received.
#[derive(der::Sequence)]
struct RawCertificate<'a> {
    tbs: der::asn1::AnyRef<'a>,
    signature_algorithm: AlgorithmIdentifierRef<'a>,
    signature: BitStringRef<'a>,
}

/// A parsed certificate. Cheap to clone.
#[derive(Clone)]
pub struct Certificate(Arc<Parsed>);

struct Parsed {
    der: Vec<u8>,
    x5t_s256: [u8; 32],
    tbs: Vec<u8>,
    signature_algorithm: ObjectIdentifier,
    signature_parameters: Option<Vec<u8>>,
    signature: Vec<u8>,
    subject: String,
    issuer: String,
    subject_der: Vec<u8>,
    issuer_der: Vec<u8>,
    serial_hex: String,
    /// Serial number as the DER INTEGER content octets (two's complement, minimal).
    serial: Vec<u8>,
    /// The subject's `serialNumber` attribute (2.5.4.5), if it has one as a string.
    subject_serial_number: Option<String>,
    not_before: UnixTime,
    not_after: UnixTime,
    public_key: PublicKey,
    is_ca: bool,
    key_usage: Option<KeyUsage>,
    /// DER content octets of each EKU OID (see [`Purpose`] for why not `ObjectIdentifier`).
    extended_key_usage: Vec<Vec<u8>>,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.0.subject)
            .field("serial", &self.0.serial_hex)
            .finish()
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.0.der == other.0.der
    }
}
impl Eq for Certificate {}

/// Why a certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    /// Larger than [`MAX_CERT_BYTES`].
    #[error("certificate larger than {MAX_CERT_BYTES} bytes")]
    TooLarge,
    /// Not a DER X.509 certificate.
    #[error("not a DER X.509 certificate: {0}")]
    Malformed(String),
    /// Not version 3.
    #[error("not an X.509 v3 certificate")]
    NotV3,
    /// Its key is unusable.
    #[error("certificate key: {0}")]
    Key(#[from] KeyError),
    /// A critical extension huren does not understand (RFC 5280 §4.2: must refuse).
    #[error("unknown critical extension {0}")]
    UnknownCriticalExtension(String),
    /// Issuer name does not match the issuing certificate's subject.
    #[error(
        "issuer {issuer:?} does not match the subject {expected:?} of the issuing certificate"
    )]
    IssuerMismatch {
        /// Issuer named in the certificate.
        issuer: String,
        /// Subject of the supposed issuer.
        expected: String,
    },
    /// The issuing certificate is not a CA allowed to sign certificates.
    #[error("{subject:?} is not a CA allowed to sign certificates")]
    NotACa {
        /// The would-be issuer.
        subject: String,
    },
    /// A leaf certificate is marked as a CA.
    #[error("{subject:?} is a CA certificate, not a leaf")]
    LeafIsCa {
        /// The certificate.
        subject: String,
    },
    /// Key usage does not allow digital signatures.
    #[error("{subject:?} key usage does not include digitalSignature")]
    NoDigitalSignature {
        /// The certificate.
        subject: String,
    },
    /// The purpose is missing from the extended key usage.
    #[error("{subject:?} lacks the {purpose} extended key usage")]
    MissingPurpose {
        /// The certificate.
        subject: String,
        /// The purpose that was required.
        purpose: &'static str,
    },
    /// Outside its validity period.
    #[error("{subject:?} is not valid at {at} (valid {not_before} to {not_after})")]
    NotValidAt {
        /// The certificate.
        subject: String,
        /// The time asked about.
        at: UnixTime,
        /// Start of validity.
        not_before: UnixTime,
        /// End of validity.
        not_after: UnixTime,
    },
    /// The issuer's signature does not verify.
    #[error("signature by {issuer:?} does not verify")]
    BadSignature {
        /// The issuing certificate.
        issuer: String,
        /// Why.
        source: SignatureError,
    },
}

impl Certificate {
    /// Parses a DER certificate, bounded to [`MAX_CERT_BYTES`].
    pub fn from_der(der: &[u8]) -> Result<Certificate, CertError> {
        if der.len() > MAX_CERT_BYTES {
            return Err(CertError::TooLarge);
        }
        let malformed = |e: der::Error| CertError::Malformed(e.to_string());
        let raw = RawCertificate::from_der(der).map_err(malformed)?;
        let cert = x509_cert::Certificate::from_der(der).map_err(malformed)?;
        let tbs = &cert.tbs_certificate;
        if tbs.version != x509_cert::Version::V3 {
            return Err(CertError::NotV3);
        }
        let spki_der = tbs.subject_public_key_info.to_der().map_err(malformed)?;
        let public_key = PublicKey::from_spki_der(&spki_der)?;

        let mut is_ca = false;
        let mut key_usage = None;
        let mut extended_key_usage = Vec::new();
        for extension in tbs.extensions.iter().flatten() {
            let value = extension.extn_value.as_bytes();
            match extension.extn_id {
                BASIC_CONSTRAINTS => {
                    is_ca = BasicConstraints::from_der(value).map_err(malformed)?.ca;
                }
                KEY_USAGE => key_usage = Some(KeyUsage::from_der(value).map_err(malformed)?),
                EXTENDED_KEY_USAGE => {
                    extended_key_usage = decode_eku(value).map_err(malformed)?;
                }
                id if extension.critical && !UNDERSTOOD_CRITICAL.contains(&id) => {
                    return Err(CertError::UnknownCriticalExtension(id.to_string()));
                }
                _ => {}
            }
        }

        let seconds = |t: x509_cert::time::Time| {
            i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
        };
        let parsed = Parsed {
            der: der.to_vec(),
            x5t_s256: Sha256::digest(der).into(),
            tbs: raw.tbs.to_der().map_err(malformed)?,
            signature_algorithm: raw.signature_algorithm.oid,
            signature_parameters: raw
                .signature_algorithm
                .parameters
                .map(|p| p.to_der())
                .transpose()
                .map_err(malformed)?,
            signature: raw
                .signature
                .as_bytes()
                .ok_or_else(|| CertError::Malformed("signature has unused bits".into()))?
                .to_vec(),
            subject: tbs.subject.to_string(),
            issuer: tbs.issuer.to_string(),
            subject_der: tbs.subject.to_der().map_err(malformed)?,
            issuer_der: tbs.issuer.to_der().map_err(malformed)?,
            serial_hex: hex::encode_upper(tbs.serial_number.as_bytes()),
            serial: tbs.serial_number.as_bytes().to_vec(),
            subject_serial_number: subject_serial_number(&tbs.subject),
            not_before: UnixTime(seconds(tbs.validity.not_before)),
            not_after: UnixTime(seconds(tbs.validity.not_after)),
            public_key,
            is_ca,
            key_usage,
            extended_key_usage,
        };
        Ok(Certificate(Arc::new(parsed)))
    }

    /// The DER encoding as received.
    pub fn der(&self) -> &[u8] {
        &self.0.der
    }

    /// SHA-256 of the DER encoding (JWS `x5t#S256`).
    pub fn x5t_s256(&self) -> [u8; 32] {
        self.0.x5t_s256
    }

    /// Subject distinguished name (RFC 4514 form).
    pub fn subject(&self) -> &str {
        &self.0.subject
    }

    /// Issuer distinguished name (RFC 4514 form).
    pub fn issuer(&self) -> &str {
        &self.0.issuer
    }

    /// Serial number, upper-case hex.
    pub fn serial_hex(&self) -> &str {
        &self.0.serial_hex
    }

    /// Serial number as the DER INTEGER content octets, exactly as encoded (a positive serial
    /// whose first byte is ≥ 0x80 keeps its leading 0x00). This is what CRL lookups take.
    pub fn serial(&self) -> &[u8] {
        &self.0.serial
    }

    /// DER encoding of the subject `Name`, for exact comparison with an issuer field (a CRL's
    /// issuer, another certificate's issuer).
    pub fn subject_name_der(&self) -> &[u8] {
        &self.0.subject_der
    }

    /// DER encoding of the issuer `Name`.
    pub fn issuer_name_der(&self) -> &[u8] {
        &self.0.issuer_der
    }

    /// The subject's `serialNumber` attribute (2.5.4.5) when it is a PrintableString,
    /// UTF8String or IA5String. Seal-holder certificates carry the organisation's 统一社会信用代码
    /// (USCC) here; the value is not checked, the caller parses it (`ids::Uscc`).
    pub fn subject_serial_number(&self) -> Option<&str> {
        self.0.subject_serial_number.as_deref()
    }

    /// Whether this certificate may sign CRLs: a CA (basicConstraints) whose key usage, if
    /// present, includes cRLSign (RFC 5280 §4.2.1.3).
    pub fn may_sign_crls(&self) -> bool {
        self.0.is_ca && self.0.key_usage.is_none_or(|ku| ku.crl_sign())
    }

    /// Start of validity.
    pub fn not_before(&self) -> UnixTime {
        self.0.not_before
    }

    /// End of validity.
    pub fn not_after(&self) -> UnixTime {
        self.0.not_after
    }

    /// The subject's public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.0.public_key
    }

    /// Whether basicConstraints says CA.
    pub fn is_ca(&self) -> bool {
        self.0.is_ca
    }

    /// Whether the extended key usage lists `purpose`.
    pub fn has_purpose(&self, purpose: Purpose) -> bool {
        let wanted = purpose.oid_der_content();
        self.0.extended_key_usage.contains(&wanted)
    }

    /// The extended key usages, dotted.
    pub fn extended_key_usages(&self) -> Vec<String> {
        self.0
            .extended_key_usage
            .iter()
            .filter_map(|oid| crate::oids::decode_oid_content(oid))
            .collect()
    }

    /// Whether the subject and issuer names are the same (a self-issued certificate).
    pub fn is_self_issued(&self) -> bool {
        self.0.subject_der == self.0.issuer_der
    }

    /// Checks `at` lies within the validity period (both ends inclusive, RFC 5280).
    pub fn check_valid_at(&self, at: UnixTime) -> Result<(), CertError> {
        if at < self.0.not_before || at > self.0.not_after {
            return Err(CertError::NotValidAt {
                subject: self.0.subject.clone(),
                at,
                not_before: self.0.not_before,
                not_after: self.0.not_after,
            });
        }
        Ok(())
    }

    /// Checks that `issuer` issued this certificate: names chain, `issuer` is a CA allowed to
    /// sign certificates, and its signature over the exact TBS bytes verifies.
    pub fn check_issued_by(&self, issuer: &Certificate) -> Result<(), CertError> {
        if self.0.issuer_der != issuer.0.subject_der {
            return Err(CertError::IssuerMismatch {
                issuer: self.0.issuer.clone(),
                expected: issuer.0.subject.clone(),
            });
        }
        let may_sign_certs = issuer.0.key_usage.is_none_or(|ku| ku.key_cert_sign());
        if !issuer.0.is_ca || !may_sign_certs {
            return Err(CertError::NotACa {
                subject: issuer.0.subject.clone(),
            });
        }
        issuer
            .0
            .public_key
            .verify_x509(
                &self.0.signature_algorithm,
                self.0.signature_parameters.as_deref(),
                &self.0.tbs,
                &self.0.signature,
            )
            .map_err(|source| CertError::BadSignature {
                issuer: issuer.0.subject.clone(),
                source,
            })
    }

    /// Checks the leaf profile of SPEC §2 for `purpose`: not a CA, key usage (if present)
    /// allows digitalSignature, extended key usage lists `purpose`.
    pub fn check_leaf_profile(&self, purpose: Purpose) -> Result<(), CertError> {
        let subject = || self.0.subject.clone();
        if self.0.is_ca {
            return Err(CertError::LeafIsCa { subject: subject() });
        }
        if self.0.key_usage.is_some_and(|ku| !ku.digital_signature()) {
            return Err(CertError::NoDigitalSignature { subject: subject() });
        }
        if !self.has_purpose(purpose) {
            return Err(CertError::MissingPurpose {
                subject: subject(),
                purpose: purpose.name(),
            });
        }
        Ok(())
    }
}

/// `ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId` (RFC 5280 §4.2.1.12), with
/// each OID kept as content octets.
fn decode_eku(value: &[u8]) -> der::Result<Vec<Vec<u8>>> {
    let items: Vec<der::asn1::AnyRef<'_>> = Vec::from_der(value)?;
    items
        .iter()
        .map(|item| {
            if der::Tagged::tag(item) != der::Tag::ObjectIdentifier || item.value().is_empty() {
                return Err(der::Tag::ObjectIdentifier.value_error());
            }
            Ok(item.value().to_vec())
        })
        .collect()
}

/// X.520 `serialNumber` attribute type.
const SUBJECT_SERIAL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.5");

/// The first `serialNumber` attribute of `name` as text, if it is one of the string types that
/// hold it in practice. Lenient on purpose: this is display and matching data, never a reason
/// to refuse a certificate.
fn subject_serial_number(name: &x509_cert::name::Name) -> Option<String> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|attribute| attribute.oid == SUBJECT_SERIAL_NUMBER)
        .and_then(|attribute| match der::Tagged::tag(&attribute.value) {
            der::Tag::PrintableString | der::Tag::Utf8String | der::Tag::Ia5String => {
                std::str::from_utf8(attribute.value.value())
                    .ok()
                    .map(str::to_owned)
            }
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_not_a_certificate() {
        assert!(matches!(
            Certificate::from_der(b"\x30\x03\x02\x01\x01"),
            Err(CertError::Malformed(_))
        ));
        assert_eq!(
            Certificate::from_der(&vec![0x30; MAX_CERT_BYTES + 1]).unwrap_err(),
            CertError::TooLarge
        );
    }
}
