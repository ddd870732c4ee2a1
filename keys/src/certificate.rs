//! Certificate profiles of SPEC §2 and building them.
//!
//! - Province root CA: self-signed v3, `basicConstraints CA:true, pathLen:0` (critical),
//!   `keyUsage keyCertSign, cRLSign` (critical), 10 years.
//! - Leaves issued by the root: `keyUsage digitalSignature` (critical), one huren EKU
//!   ([`Purpose`]), at most 3 years, never beyond the root.
//! - Trust-list operator: self-signed, not a CA, `digitalSignature` and the operator EKU.
//!
//! The TBS structure is assembled with `x509-cert` types and signed through
//! [`PrivateKey::sign_x509`], so any key behind the signing seam (an HSM later) can issue.

use std::time::Duration;

use der::asn1::{
    Any, BitString, GeneralizedTime, ObjectIdentifier, OctetString, PrintableStringRef, SetOfVec,
    UtcTime, Utf8StringRef,
};
use der::{Decode, Encode};
use huren_crypto::oids::Purpose;
use huren_crypto::time::UnixTime;
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::ext::Extension;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate, Version};

use crate::keypair::PrivateKey;

/// Root CA lifetime (SPEC §2: 10 years).
pub const ROOT_VALIDITY_DAYS: i64 = 3652;
/// Default leaf lifetime (SPEC §2 allows up to 3 years).
pub const LEAF_VALIDITY_DAYS: i64 = 2 * 365;

const COUNTRY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.6");
const ORGANIZATION: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const SUBJECT_KEY_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
const AUTHORITY_KEY_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");

/// What a certificate is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Province root CA.
    RootCa,
    /// Leaf for one purpose, issued by a root.
    Leaf(Purpose),
    /// Self-signed trust-list operator certificate.
    Operator,
}

/// Subject of a certificate: `C=CN, O=…, CN=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// Organisation, e.g. 浙江省大数据发展管理局.
    pub organization: String,
    /// Common name, e.g. 浙江省证照签发.
    pub common_name: String,
}

/// Why a certificate could not be built.
#[derive(Debug, thiserror::Error)]
pub enum CertBuildError {
    /// A field did not encode (too long a name, a time out of range…).
    #[error("certificate field {field} does not encode")]
    Encode {
        /// Which field.
        field: &'static str,
        /// Why.
        source: der::Error,
    },
    /// The issuing certificate is not usable.
    #[error("issuer certificate: {0}")]
    Issuer(String),
    /// Signing failed.
    #[error(transparent)]
    Sign(#[from] huren_crypto::SignError),
    /// The key could not give its public key.
    #[error(transparent)]
    Key(#[from] crate::keypair::KeyError),
    /// The validity period is empty or exceeds the issuer's.
    #[error("validity {not_before} to {not_after} is empty or outside the issuer's")]
    Validity {
        /// Start.
        not_before: UnixTime,
        /// End.
        not_after: UnixTime,
    },
}

fn encode_err(field: &'static str) -> impl Fn(der::Error) -> CertBuildError {
    move |source| CertBuildError::Encode { field, source }
}

/// Builds a subject name `C=CN, O=organization, CN=common_name` (UTF8String for the Chinese
/// parts, as GB/T 20518 profiles do).
pub fn subject_name(subject: &Subject) -> Result<Name, CertBuildError> {
    let attribute = |oid, value: Any| -> Result<RelativeDistinguishedName, CertBuildError> {
        let set = SetOfVec::try_from(vec![AttributeTypeAndValue { oid, value }])
            .map_err(encode_err("subject"))?;
        Ok(RelativeDistinguishedName(set))
    };
    let utf8 = |text: &str| -> Result<Any, CertBuildError> {
        Any::encode_from(&Utf8StringRef::new(text).map_err(encode_err("subject"))?)
            .map_err(encode_err("subject"))
    };
    let country = Any::encode_from(&PrintableStringRef::new("CN").map_err(encode_err("subject"))?)
        .map_err(encode_err("subject"))?;
    Ok(RdnSequence(vec![
        attribute(COUNTRY, country)?,
        attribute(ORGANIZATION, utf8(&subject.organization)?)?,
        attribute(COMMON_NAME, utf8(&subject.common_name)?)?,
    ]))
}

/// Issues a certificate for `subject_spki_der` with `profile`, signed by `issuer_key`.
/// `issuer_cert_der` is `None` for self-signed profiles (then `issuer_key` must be the
/// subject's own key).
#[allow(clippy::too_many_arguments)]
pub fn issue(
    subject: &Subject,
    subject_spki_der: &[u8],
    profile: Profile,
    not_before: UnixTime,
    not_after: UnixTime,
    issuer_cert_der: Option<&[u8]>,
    issuer_key: &PrivateKey,
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<u8>, CertBuildError> {
    issue_named(
        subject_name(subject)?,
        subject_spki_der,
        profile,
        not_before,
        not_after,
        issuer_cert_der,
        issuer_key,
        rng,
    )
}

/// [`issue`] for a subject name built by the caller, for profiles whose subject carries more
/// than `C, O, CN` (a seal holder's USCC in `serialNumber`, see `holder`).
#[allow(clippy::too_many_arguments)]
pub fn issue_named(
    subject_name: Name,
    subject_spki_der: &[u8],
    profile: Profile,
    not_before: UnixTime,
    not_after: UnixTime,
    issuer_cert_der: Option<&[u8]>,
    issuer_key: &PrivateKey,
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<u8>, CertBuildError> {
    let spki = SubjectPublicKeyInfoOwned::from_der(subject_spki_der)
        .map_err(encode_err("subject public key"))?;
    let ski = key_identifier(&spki);

    let (issuer_name, authority_key_id) = match issuer_cert_der {
        None => (subject_name.clone(), ski.clone()),
        Some(der) => {
            let issuer =
                Certificate::from_der(der).map_err(|e| CertBuildError::Issuer(e.to_string()))?;
            let tbs = issuer.tbs_certificate;
            let issuer_not_before = to_unix(tbs.validity.not_before);
            let issuer_not_after = to_unix(tbs.validity.not_after);
            if not_before < issuer_not_before || not_after > issuer_not_after {
                return Err(CertBuildError::Validity {
                    not_before,
                    not_after,
                });
            }
            let aki = tbs
                .extensions
                .iter()
                .flatten()
                .find(|e| e.extn_id == SUBJECT_KEY_IDENTIFIER)
                .and_then(|e| OctetString::from_der(e.extn_value.as_bytes()).ok())
                .map(|o| o.as_bytes().to_vec())
                .unwrap_or_else(|| key_identifier(&tbs.subject_public_key_info));
            (tbs.subject, aki)
        }
    };
    if not_after <= not_before {
        return Err(CertBuildError::Validity {
            not_before,
            not_after,
        });
    }

    let mut extensions = vec![extension(
        SUBJECT_KEY_IDENTIFIER,
        false,
        OctetString::new(ski)
            .map_err(encode_err("subjectKeyIdentifier"))?
            .to_der()
            .map_err(encode_err("subjectKeyIdentifier"))?,
    )?];
    if issuer_cert_der.is_some() {
        let aki = AuthorityKeyIdentifier {
            key_identifier: Some(
                OctetString::new(authority_key_id).map_err(encode_err("authorityKeyIdentifier"))?,
            ),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        };
        extensions.push(extension(
            AUTHORITY_KEY_IDENTIFIER,
            false,
            aki.to_der().map_err(encode_err("authorityKeyIdentifier"))?,
        )?);
    }
    let (ca, key_usage, purpose) = match profile {
        Profile::RootCa => (true, KeyUsages::KeyCertSign | KeyUsages::CRLSign, None),
        Profile::Leaf(purpose) => (false, KeyUsages::DigitalSignature.into(), Some(purpose)),
        Profile::Operator => (
            false,
            KeyUsages::DigitalSignature.into(),
            Some(Purpose::TrustListOperator),
        ),
    };
    let basic = BasicConstraints {
        ca,
        path_len_constraint: ca.then_some(0),
    };
    extensions.push(extension(
        BASIC_CONSTRAINTS,
        true,
        basic.to_der().map_err(encode_err("basicConstraints"))?,
    )?);
    extensions.push(extension(
        KEY_USAGE,
        true,
        KeyUsage(key_usage)
            .to_der()
            .map_err(encode_err("keyUsage"))?,
    )?);
    if let Some(purpose) = purpose {
        extensions.push(extension(
            EXTENDED_KEY_USAGE,
            false,
            extended_key_usage_der(&[purpose]),
        )?);
    }

    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: random_serial(rng)?,
        signature: issuer_key.x509_signature_algorithm(),
        issuer: issuer_name,
        validity: Validity {
            not_before: to_time(not_before)?,
            not_after: to_time(not_after)?,
        },
        subject: subject_name,
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    let tbs_der = tbs.to_der().map_err(encode_err("tbsCertificate"))?;
    let signature = issuer_key.sign_x509(&tbs_der)?;
    let certificate = Certificate {
        tbs_certificate: tbs,
        signature_algorithm: issuer_key.x509_signature_algorithm(),
        signature: BitString::from_bytes(&signature).map_err(encode_err("signature"))?,
    };
    certificate.to_der().map_err(encode_err("certificate"))
}

fn extension(
    id: ObjectIdentifier,
    critical: bool,
    value: Vec<u8>,
) -> Result<Extension, CertBuildError> {
    Ok(Extension {
        extn_id: id,
        critical,
        extn_value: OctetString::new(value).map_err(encode_err("extension"))?,
    })
}

/// `ExtKeyUsageSyntax` with huren purposes, encoded by hand because their OIDs have arcs wider
/// than `const-oid` supports (see [`Purpose`]).
pub fn extended_key_usage_der(purposes: &[Purpose]) -> Vec<u8> {
    let mut body = Vec::new();
    for purpose in purposes {
        let content = purpose.oid_der_content();
        body.push(0x06);
        push_length(&mut body, content.len());
        body.extend_from_slice(&content);
    }
    let mut out = vec![0x30];
    push_length(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}

fn push_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// RFC 7093 §2 method 1: the leftmost 160 bits of SHA-256 of the subjectPublicKey bits.
pub(crate) fn key_identifier(spki: &SubjectPublicKeyInfoOwned) -> Vec<u8> {
    Sha256::digest(spki.subject_public_key.raw_bytes())[..20].to_vec()
}

/// 16 random bytes, positive and without a leading zero octet (RFC 5280 §4.1.2.2).
fn random_serial(rng: &mut impl CryptoRngCore) -> Result<SerialNumber, CertBuildError> {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    SerialNumber::new(&bytes).map_err(encode_err("serialNumber"))
}

/// UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5).
pub(crate) fn to_time(t: UnixTime) -> Result<Time, CertBuildError> {
    let seconds = u64::try_from(t.seconds()).map_err(|_| CertBuildError::Validity {
        not_before: t,
        not_after: t,
    })?;
    let duration = Duration::from_secs(seconds);
    let datetime = der::DateTime::from_unix_duration(duration).map_err(encode_err("validity"))?;
    if datetime.year() < 2050 {
        Ok(Time::UtcTime(
            UtcTime::from_date_time(datetime).map_err(encode_err("validity"))?,
        ))
    } else {
        Ok(Time::GeneralTime(GeneralizedTime::from_date_time(datetime)))
    }
}

pub(crate) fn to_unix(t: Time) -> UnixTime {
    UnixTime(i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use huren_crypto::alg::Algorithm;
    use huren_crypto::cert::Certificate as Parsed;

    fn subject(cn: &str) -> Subject {
        Subject {
            organization: "浙江省测试".into(),
            common_name: cn.into(),
        }
    }

    #[test]
    fn root_and_leaf_chain_for_every_algorithm() {
        let start = UnixTime(1_790_000_000);
        for algorithm in Algorithm::ALL {
            let root_key = PrivateKey::generate(algorithm).unwrap();
            let root_der = issue(
                &subject("根"),
                &root_key.public_key_spki_der().unwrap(),
                Profile::RootCa,
                start,
                start.plus(ROOT_VALIDITY_DAYS * 86_400),
                None,
                &root_key,
                &mut rand_core::OsRng,
            )
            .unwrap();
            let leaf_key = PrivateKey::generate(algorithm).unwrap();
            let leaf_der = issue(
                &subject("签发"),
                &leaf_key.public_key_spki_der().unwrap(),
                Profile::Leaf(Purpose::LicenceSigner),
                start,
                start.plus(LEAF_VALIDITY_DAYS * 86_400),
                Some(&root_der),
                &root_key,
                &mut rand_core::OsRng,
            )
            .unwrap();
            let root = Parsed::from_der(&root_der).unwrap();
            let leaf = Parsed::from_der(&leaf_der).unwrap();
            assert!(root.is_ca() && root.is_self_issued());
            root.check_issued_by(&root).unwrap();
            leaf.check_issued_by(&root).unwrap();
            leaf.check_leaf_profile(Purpose::LicenceSigner).unwrap();
            assert!(leaf.check_leaf_profile(Purpose::StatusSigner).is_err());
            assert!(leaf.check_issued_by(&leaf).is_err(), "a leaf is no CA");
            assert_eq!(leaf.extended_key_usages(), [Purpose::LicenceSigner.oid()]);
            assert!(leaf.subject().contains("签发"), "{}", leaf.subject());
        }
    }

    #[test]
    fn leaf_may_not_outlive_its_root() {
        let key = PrivateKey::generate(Algorithm::Es256).unwrap();
        let start = UnixTime(1_790_000_000);
        let spki = key.public_key_spki_der().unwrap();
        let root = issue(
            &subject("r"),
            &spki,
            Profile::RootCa,
            start,
            start.plus(100),
            None,
            &key,
            &mut rand_core::OsRng,
        )
        .unwrap();
        let err = issue(
            &subject("l"),
            &spki,
            Profile::Leaf(Purpose::LicenceSigner),
            start,
            start.plus(200),
            Some(&root),
            &key,
            &mut rand_core::OsRng,
        );
        assert!(matches!(err, Err(CertBuildError::Validity { .. })));
    }
}
