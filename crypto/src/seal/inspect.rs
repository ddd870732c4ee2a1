//! `huren seal inspect`: every field of an `.esl` (`SESeal`) or `SignedValue.dat`
//! (`SES_Signature`), v4 or v1, as a serializable value, without trust material.
//!
//! Inspection shows what the file says, not whether to believe it: nothing here checks a
//! signature. Certificates are read leniently and shown with subject, issuer, validity,
//! serial and base64 DER (or, if unreadable, the error and the DER); the picture as type,
//! size, dimensions and base64.

use std::fmt::Write as _;

use serde::Serialize;

use super::algorithm::{algorithm_name, SealAlgorithm};
use super::asn1::{ExtData, SealTime, TimeKind};
use super::decode::{HolderCerts, Seal, SealError, SealFile, SealSignature};
use super::ext::read_extensions;
use super::lenient_cert::{Deviation, SealCertificate};
use crate::b64;
use crate::oids;

/// What a file holds.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    /// `seal` (`.esl`) or `signature` (`SignedValue.dat`).
    pub kind: &'static str,
    /// Format version, 1 or 4.
    pub version: u8,
    /// The standard it follows.
    pub standard: &'static str,
    /// The signature fields, for a signature file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureInspection>,
    /// The seal (for a signature: the seal that was applied).
    pub seal: SealInspection,
}

/// A time as written and as read.
#[derive(Debug, Clone, Serialize)]
pub struct TimeInspection {
    /// The text in the file.
    pub text: String,
    /// `GeneralizedTime` or `UTCTime`.
    pub asn1_type: &'static str,
    /// RFC 3339, China time.
    pub time: String,
}

fn time(t: &SealTime) -> TimeInspection {
    TimeInspection {
        text: t.text().to_owned(),
        asn1_type: match t.kind() {
            TimeKind::Generalized => "GeneralizedTime",
            TimeKind::Utc => "UTCTime",
        },
        time: t.at().to_rfc3339_china(),
    }
}

/// A certificate.
#[derive(Debug, Clone, Serialize)]
pub struct CertificateInspection {
    /// Subject (RFC 4514), when readable.
    pub subject: Option<String>,
    /// Issuer (RFC 4514), when readable.
    pub issuer: Option<String>,
    /// Serial number, upper-case hex.
    pub serial: Option<String>,
    /// Start of validity.
    pub not_before: Option<String>,
    /// End of validity.
    pub not_after: Option<String>,
    /// X.509 version.
    pub x509_version: Option<u8>,
    /// The public key (`SM2 256`, `P-256 256`, `RSA 2048`) or why it is unusable.
    pub key: Option<String>,
    /// Whether the strict reader accepts it.
    pub strict_der: bool,
    /// What the lenient reader had to tolerate.
    pub deviations: Vec<Deviation>,
    /// Why it could not be read at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// SHA-256 of the DER, hex (a fingerprint to compare with `--trust-maker` files).
    pub sha256: String,
    /// The DER, base64.
    pub der_base64: String,
}

/// Inspects one certificate.
pub fn certificate(der: &[u8]) -> CertificateInspection {
    use sha2::{Digest, Sha256};
    let sha256 = hex(&Sha256::digest(der));
    let der_base64 = b64::encode_std(der);
    match SealCertificate::parse(der) {
        Ok(cert) => CertificateInspection {
            subject: Some(cert.subject().to_owned()),
            issuer: Some(cert.issuer().to_owned()),
            serial: Some(cert.serial_hex()),
            not_before: Some(cert.not_before().to_rfc3339_china()),
            not_after: Some(cert.not_after().to_rfc3339_china()),
            x509_version: Some(cert.version()),
            key: Some(match cert.public_key() {
                Ok(key) => format!("{} {}", key.kind(), key.bits()),
                Err(e) => format!("unusable: {e}"),
            }),
            strict_der: cert.strict().is_some(),
            deviations: cert.deviations().to_vec(),
            error: None,
            sha256,
            der_base64,
        },
        Err(e) => CertificateInspection {
            subject: None,
            issuer: None,
            serial: None,
            not_before: None,
            not_after: None,
            x509_version: None,
            key: None,
            strict_der: false,
            deviations: Vec::new(),
            error: Some(e.to_string()),
            sha256,
            der_base64,
        },
    }
}

/// An extension.
#[derive(Debug, Clone, Serialize)]
pub struct ExtensionInspection {
    /// Dotted OID.
    pub oid: String,
    /// huren's name for it, when it is one of huren's.
    pub name: Option<&'static str>,
    /// Critical flag.
    pub critical: bool,
    /// The value, base64.
    pub value_base64: String,
    /// The value decoded, for huren's extensions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decoded: Option<serde_json::Value>,
}

fn extensions(list: &[ExtData]) -> Vec<ExtensionInspection> {
    list.iter()
        .map(|e| {
            let oid = e.extn_id.to_string();
            let name = match oid.as_str() {
                oids::SEAL_EXT_STATUS => Some("huren_status_reference"),
                oids::SEAL_EXT_USCC => Some("huren_uscc"),
                _ => None,
            };
            // Read alone so an unknown critical sibling does not hide this one's value.
            let decoded = name.and_then(|_| read_extensions(std::slice::from_ref(e)).ok());
            let decoded = decoded.and_then(|known| match (known.status, known.uscc) {
                (Some(status), _) => {
                    Some(serde_json::json!({"uri": status.uri, "idx": status.idx}))
                }
                (_, Some(uscc)) => Some(serde_json::json!(uscc.as_str())),
                _ => None,
            });
            ExtensionInspection {
                oid,
                name,
                critical: e.critical,
                value_base64: b64::encode_std(e.extn_value.as_bytes()),
                decoded,
            }
        })
        .collect()
}

/// A signature algorithm.
#[derive(Debug, Clone, Serialize)]
pub struct AlgorithmInspection {
    /// Dotted OID.
    pub oid: String,
    /// Name.
    pub name: String,
    /// Whether huren accepts it.
    pub accepted: bool,
}

fn algorithm(oid: &super::asn1::RawOid) -> AlgorithmInspection {
    AlgorithmInspection {
        oid: oid.to_string(),
        name: algorithm_name(oid),
        accepted: SealAlgorithm::from_oid(oid).is_some(),
    }
}

/// The seal header.
#[derive(Debug, Clone, Serialize)]
pub struct HeaderInspection {
    /// `ES`.
    pub id: String,
    /// Header version.
    pub version: i64,
    /// Vendor identifier.
    pub vid: String,
}

/// One certificate digest of a certListType 2 seal.
#[derive(Debug, Clone, Serialize)]
pub struct DigestInspection {
    /// The label as written.
    #[serde(rename = "type")]
    pub label: String,
    /// The digest, hex.
    pub value_hex: String,
}

/// A certList entry that is not a certificate (some deployed v1 producers write one).
#[derive(Debug, Clone, Serialize)]
pub struct NonCertEntryInspection {
    /// The ASN.1 type as written, e.g. `IA5String`.
    pub asn1_type: String,
    /// The content as text, when it is UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The content octets, base64.
    pub base64: String,
}

/// The seal properties.
#[derive(Debug, Clone, Serialize)]
pub struct PropertyInspection {
    /// 印章类型.
    #[serde(rename = "type")]
    pub seal_type: i64,
    /// 印章名称.
    pub name: String,
    /// 1 (certificates) or 2 (digests); v1 seals always list certificates.
    pub cert_list_type: u8,
    /// The holder certificates.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<CertificateInspection>,
    /// The holder certificate digests.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub certificate_digests: Vec<DigestInspection>,
    /// certList entries that are not certificates, shown as found.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub non_certificate_entries: Vec<NonCertEntryInspection>,
    /// When made.
    pub create_date: TimeInspection,
    /// Start of validity.
    pub valid_start: TimeInspection,
    /// End of validity.
    pub valid_end: TimeInspection,
}

/// The picture.
#[derive(Debug, Clone, Serialize)]
pub struct PictureInspection {
    /// Type as written (`PNG`, `SVG`, `GIF`, `ofd`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Size in bytes.
    pub size: usize,
    /// Width, mm.
    pub width_mm: i64,
    /// Height, mm.
    pub height_mm: i64,
    /// The bytes, base64.
    pub base64: String,
}

/// Every field of a seal.
#[derive(Debug, Clone, Serialize)]
pub struct SealInspection {
    /// Header.
    pub header: HeaderInspection,
    /// 电子印章编码.
    #[serde(rename = "esID")]
    pub es_id: String,
    /// Province the esID names, if it starts with a GB/T 2260 code.
    pub region: Option<String>,
    /// Properties.
    pub property: PropertyInspection,
    /// Picture.
    pub picture: PictureInspection,
    /// `extDatas`.
    pub extensions: Vec<ExtensionInspection>,
    /// Maker certificate.
    pub maker_certificate: CertificateInspection,
    /// The maker's signature algorithm.
    pub signature_algorithm: AlgorithmInspection,
    /// The maker's signature, base64.
    pub signature_base64: String,
    /// Size of the `SESeal` DER.
    pub der_size: usize,
}

fn seal(seal: &Seal) -> SealInspection {
    let (cert_list_type, certificates, certificate_digests) = match seal.holder_certs() {
        HolderCerts::Certs(certs) => (1, certs.iter().map(|c| certificate(c)).collect(), vec![]),
        HolderCerts::Digests(digests) => (
            2,
            vec![],
            digests
                .iter()
                .map(|d| DigestInspection {
                    label: d.label.clone(),
                    value_hex: hex(&d.value),
                })
                .collect(),
        ),
    };
    let picture = seal.picture();
    SealInspection {
        header: HeaderInspection {
            id: seal.header().id.as_str().to_owned(),
            version: seal.header().version,
            vid: seal.header().vid.as_str().to_owned(),
        },
        es_id: seal.es_id().to_owned(),
        region: seal.region().map(|r| r.to_string()),
        property: PropertyInspection {
            seal_type: seal.seal_type(),
            name: seal.name().to_owned(),
            cert_list_type,
            certificates,
            certificate_digests,
            non_certificate_entries: seal
                .non_cert_entries()
                .iter()
                .map(|entry| NonCertEntryInspection {
                    asn1_type: entry.asn1_type.clone(),
                    text: std::str::from_utf8(&entry.value).ok().map(str::to_owned),
                    base64: b64::encode_std(&entry.value),
                })
                .collect(),
            create_date: time(seal.create_date()),
            valid_start: time(seal.valid_start()),
            valid_end: time(seal.valid_end()),
        },
        picture: PictureInspection {
            kind: picture.kind.as_str().to_owned(),
            size: picture.data.as_bytes().len(),
            width_mm: picture.width,
            height_mm: picture.height,
            base64: b64::encode_std(picture.data.as_bytes()),
        },
        extensions: extensions(seal.extensions()),
        maker_certificate: certificate(seal.maker_cert()),
        signature_algorithm: algorithm(seal.algorithm()),
        signature_base64: b64::encode_std(seal.signature()),
        der_size: seal.der().len(),
    }
}

/// The signing time as written.
#[derive(Debug, Clone, Serialize)]
pub struct TimeInfoInspection {
    /// The text in the file.
    pub text: String,
    /// RFC 3339, China time.
    pub time: String,
    /// Whether it named no zone and was read as China time (v1).
    pub zoneless: bool,
}

/// The fields of a seal signature other than the seal.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureInspection {
    /// `TBS_Sign.version`.
    pub tbs_version: i64,
    /// `timeInfo`.
    pub time_info: TimeInfoInspection,
    /// `dataHash`, hex.
    pub data_hash_hex: String,
    /// The hash algorithm that goes with the signature algorithm, if accepted.
    pub data_hash_algorithm: Option<&'static str>,
    /// `propertyInfo`.
    pub property_info: String,
    /// `TBS_Sign.extDatas`.
    pub extensions: Vec<ExtensionInspection>,
    /// Signer certificate.
    pub signer_certificate: CertificateInspection,
    /// The signer's algorithm.
    pub signature_algorithm: AlgorithmInspection,
    /// The signer's signature, base64.
    pub signature_base64: String,
    /// The time-stamp token, base64 (not verified by huren).
    pub time_stamp_base64: Option<String>,
    /// Size of the `TBS_Sign` DER.
    pub tbs_size: usize,
}

fn signature(sig: &SealSignature) -> SignatureInspection {
    let signing = sig.signing_time();
    SignatureInspection {
        tbs_version: sig.tbs_version(),
        time_info: TimeInfoInspection {
            text: signing.text.clone(),
            time: signing.at.to_rfc3339_china(),
            zoneless: signing.zoneless,
        },
        data_hash_hex: hex(sig.data_hash()),
        data_hash_algorithm: sig.digest_algorithm().map(|d| d.name()),
        property_info: sig.property_info().to_owned(),
        extensions: extensions(sig.extensions()),
        signer_certificate: certificate(sig.signer_cert()),
        signature_algorithm: algorithm(sig.algorithm()),
        signature_base64: b64::encode_std(sig.signature()),
        time_stamp_base64: sig.time_stamp().map(b64::encode_std),
        tbs_size: sig.tbs().len(),
    }
}

/// Inspects an `.esl` or a `SignedValue.dat`, whichever the bytes are.
///
/// ```
/// use huren_crypto::seal::inspect::inspect;
/// assert!(inspect(b"\x30\x03\x02\x01\x04").is_err());
/// ```
pub fn inspect(bytes: &[u8]) -> Result<Inspection, SealError> {
    Ok(match SealFile::from_der(bytes)? {
        SealFile::Seal(s) => Inspection {
            kind: "seal",
            version: s.version().number(),
            standard: s.version().standard(),
            signature: None,
            seal: seal(&s),
        },
        SealFile::Signature(sig) => Inspection {
            kind: "signature",
            version: sig.version().number(),
            standard: sig.version().standard(),
            signature: Some(signature(&sig)),
            seal: seal(sig.seal()),
        },
    })
}

/// [`inspect`] as JSON.
pub fn inspect_json(bytes: &[u8]) -> Result<serde_json::Value, SealError> {
    let inspection = inspect(bytes)?;
    // invariant: these types serialize to JSON without fail (no maps with non-string keys).
    Ok(serde_json::to_value(inspection).unwrap_or(serde_json::Value::Null))
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}
