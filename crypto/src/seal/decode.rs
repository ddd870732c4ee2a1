// Over 800 lines because it decodes both seal versions and the deployed non-standard forms into
// one model: v1 and v4 share the field decoders and the leniency rules for real provincial
// files, which one file keeps in step. Not split in issue 11 or 12 (a split by version is
// listed as open in the session-6 note).

//! Decoding a seal (`.esl`, `SESeal`) or a seal signature (`SignedValue.dat` / `.ses`,
//! `SES_Signature`) of either version into one model, with every size bounded.
//!
//! Version sniffing: an `SESeal` of 4 elements is v4, of 2 elements v1; an `SES_Signature` of
//! 2 elements is v1, otherwise v4, confirmed by `toSign.version` and
//! `toSign.eseal.header.version` both being 4. A seal and a signature are told apart by the
//! first field of their first element (the seal header SEQUENCE vs the TBS version INTEGER).
//!
//! [`Seal`] and [`SealSignature`] hold what verification needs, including the exact bytes
//! each signer signed ([`Seal::signed_message`], [`SealSignature::tbs`]); nothing here checks
//! a signature or decides trust.

use der::asn1::{AnyRef, BitString, OctetString};
use der::{Decode, Reader, SliceReader, Tag, Tagged};
use serde::Serialize;

use super::algorithm::{DigestAlgorithm, SealAlgorithm};
use super::asn1::{self, CertList, ExtData, PictureInfo, RawOid, SealTime, SesHeader, TimeKind};
use super::esid::region_of_es_id;
use super::ext::{read_extensions, ExtensionError, KnownExtensions, SealStatusReference};
use super::v1::{self, TimeInfoForm};
use crate::cert::MAX_CERT_BYTES;
use crate::ids::RegionCode;
use crate::time::UnixTime;

/// Largest seal or seal signature accepted, in bytes.
pub const MAX_SEAL_BYTES: usize = 4 * 1024 * 1024;
/// Largest seal picture accepted, in bytes.
pub const MAX_PICTURE_BYTES: usize = 2 * 1024 * 1024;
/// Longest short text field (esID, Vid, seal name, picture type), in bytes.
pub const MAX_TEXT_BYTES: usize = 1024;
/// Longest `propertyInfo`, in bytes.
pub const MAX_PROPERTY_INFO_BYTES: usize = 4096;
/// Largest extension value, in bytes.
pub const MAX_EXTENSION_VALUE_BYTES: usize = 64 * 1024;
/// Largest time-stamp token, in bytes.
pub const MAX_TIME_STAMP_BYTES: usize = 64 * 1024;
/// Largest signature value (RSA-8192 is 1024 bytes), in bytes.
pub const MAX_SIGNATURE_BYTES: usize = 1100;
/// Largest `dataHash`, in bytes.
pub const MAX_DATA_HASH_BYTES: usize = 64;

/// The format a seal or signature was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SealVersion {
    /// GM/T 0031-2014.
    V1,
    /// GB/T 38540-2020.
    V4,
}

impl SealVersion {
    /// 1 or 4.
    pub fn number(self) -> u8 {
        match self {
            SealVersion::V1 => 1,
            SealVersion::V4 => 4,
        }
    }

    /// The standard it follows.
    pub fn standard(self) -> &'static str {
        match self {
            SealVersion::V1 => "GM/T 0031-2014",
            SealVersion::V4 => "GB/T 38540-2020",
        }
    }
}

impl Serialize for SealVersion {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.number())
    }
}

/// Why bytes are not a seal or seal signature huren can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// Larger than [`MAX_SEAL_BYTES`].
    #[error("{len} bytes is more than the {MAX_SEAL_BYTES} accepted")]
    TooLarge {
        /// Size given.
        len: usize,
    },
    /// Not DER of the expected structure.
    #[error("not a {expected}: {reason}")]
    Der {
        /// What was expected.
        expected: &'static str,
        /// The decoder's complaint.
        reason: String,
    },
    /// A seal where a signature was expected, or the other way round.
    #[error("this is a {found}, not a {expected}")]
    WrongKind {
        /// What was expected.
        expected: &'static str,
        /// What was found.
        found: &'static str,
    },
    /// A version huren does not read.
    #[error("unsupported seal format version {0}")]
    UnsupportedVersion(i64),
    /// The header ID is not `ES`.
    #[error("seal header ID is {0:?}, not \"ES\"")]
    NotEs(String),
    /// A field larger than its bound.
    #[error("{field} is {len} bytes, more than the {max} accepted")]
    FieldTooLarge {
        /// Which field.
        field: &'static str,
        /// Its size.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// A BIT STRING that must hold whole bytes has unused bits.
    #[error("{0} has unused bits")]
    UnusedBits(&'static str),
    /// A v4 date that is not a GeneralizedTime.
    #[error("{0} must be a GeneralizedTime in GB/T 38540")]
    NotGeneralizedTime(&'static str),
    /// A v1 `timeInfo` huren cannot read.
    #[error("timeInfo is not a time huren can read (RFC 3161 tokens are not read)")]
    UnreadableTimeInfo,
}

fn der_error(expected: &'static str) -> impl Fn(der::Error) -> SealError {
    move |e| SealError::Der {
        expected,
        reason: e.to_string(),
    }
}

fn bounded(field: &'static str, len: usize, max: usize) -> Result<(), SealError> {
    if len > max {
        return Err(SealError::FieldTooLarge { field, len, max });
    }
    Ok(())
}

fn whole_bytes(field: &'static str, bits: &BitString, max: usize) -> Result<Vec<u8>, SealError> {
    let bytes = bits.as_bytes().ok_or(SealError::UnusedBits(field))?;
    bounded(field, bytes.len(), max)?;
    Ok(bytes.to_vec())
}

fn check_extensions(extensions: &[ExtData]) -> Result<(), SealError> {
    extensions.iter().try_for_each(|e| {
        bounded(
            "extension value",
            e.extn_value.as_bytes().len(),
            MAX_EXTENSION_VALUE_BYTES,
        )
    })
}

/// The top-level shape of a DER input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Seal(SealVersion),
    Signature(SealVersion),
}

/// Reads just enough structure to tell seals from signatures and v1 from v4.
fn sniff(bytes: &[u8]) -> Result<Shape, SealError> {
    if bytes.len() > MAX_SEAL_BYTES {
        return Err(SealError::TooLarge { len: bytes.len() });
    }
    let structure = "seal or seal signature";
    let outer = AnyRef::from_der(bytes).map_err(der_error(structure))?;
    if outer.tag() != Tag::Sequence {
        return Err(der_error(structure)(
            Tag::Sequence.unexpected_error(Some(outer.tag())),
        ));
    }
    let mut reader = SliceReader::new(outer.value()).map_err(der_error(structure))?;
    let mut count = 0usize;
    let mut first_child = None;
    while !reader.is_finished() && count < 8 {
        let element = reader.tlv_bytes().map_err(der_error(structure))?;
        if count == 0 {
            let first = AnyRef::from_der(element).map_err(der_error(structure))?;
            if first.tag() == Tag::Sequence {
                first_child = SliceReader::new(first.value())
                    .ok()
                    .and_then(|r| r.peek_tag().ok());
            }
        }
        count += 1;
    }
    match (first_child, count) {
        (Some(Tag::Sequence), 4) => Ok(Shape::Seal(SealVersion::V4)),
        (Some(Tag::Sequence), 2) => Ok(Shape::Seal(SealVersion::V1)),
        (Some(Tag::Integer), 2) => Ok(Shape::Signature(SealVersion::V1)),
        (Some(Tag::Integer), 4 | 5) => Ok(Shape::Signature(SealVersion::V4)),
        _ => Err(SealError::Der {
            expected: structure,
            reason: format!("unrecognised structure ({count} elements)"),
        }),
    }
}

/// The holder certificates a seal lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HolderCerts {
    /// certListType 1 (and v1): certificates, DER.
    Certs(Vec<Vec<u8>>),
    /// certListType 2: digests of certificates.
    Digests(Vec<CertDigest>),
}

/// A `certList` entry that is not a certificate, as some deployed GM/T 0031 producers write
/// (an IA5String, say). It names no certificate huren can compare, so a signer not found
/// among the real certificates is undecided rather than refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonCertEntry {
    /// The ASN.1 type as written, e.g. `IA5String`.
    pub asn1_type: String,
    /// The content octets.
    pub value: Vec<u8>,
}

/// One `CertDigestObj`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertDigest {
    /// The digest algorithm as the maker labelled it.
    pub label: String,
    /// The digest.
    pub value: Vec<u8>,
}

/// A decoded seal (印章), v1 or v4. Only [`Seal::from_der`] (or decoding a signature) makes
/// one, so every field is within its bounds.
#[derive(Debug, Clone)]
pub struct Seal {
    version: SealVersion,
    header: SesHeader,
    es_id: String,
    seal_type: i64,
    name: String,
    holder_certs: HolderCerts,
    non_cert_entries: Vec<NonCertEntry>,
    create_date: SealTime,
    valid_start: SealTime,
    valid_end: SealTime,
    picture: PictureInfo,
    extensions: Vec<ExtData>,
    maker_cert: Vec<u8>,
    algorithm: RawOid,
    signature: Vec<u8>,
    seal_info: Vec<u8>,
    signed_message: Vec<u8>,
    der: Vec<u8>,
}

/// DER(SEQUENCE { parts… }) from parts already encoded.
fn sequence_of(parts: &[&[u8]]) -> der::Result<Vec<u8>> {
    let body_len = parts.iter().map(|p| p.len()).sum::<usize>();
    let mut out = Vec::with_capacity(body_len + 8);
    der::Encode::encode_to_vec(&der::Header::new(Tag::Sequence, body_len)?, &mut out)?;
    for part in parts {
        out.extend_from_slice(part);
    }
    Ok(out)
}

struct SealInfoParts {
    header: SesHeader,
    es_id: String,
    seal_type: i64,
    name: String,
    holder_certs: HolderCerts,
    non_cert_entries: Vec<NonCertEntry>,
    dates: [SealTime; 3],
    picture: PictureInfo,
    extensions: Vec<ExtData>,
}

/// A v1 certList: certificates in OCTET STRINGs, certificates written bare (a SEQUENCE,
/// taken as the certificate's DER), and anything else kept aside.
fn v1_certs(list: &[v1::CertEntryV1]) -> Result<(HolderCerts, Vec<NonCertEntry>), SealError> {
    let mut certs = Vec::new();
    let mut others = Vec::new();
    for entry in list {
        match entry {
            v1::CertEntryV1::Cert(cert) => {
                bounded("holder certificate", cert.as_bytes().len(), MAX_CERT_BYTES)?;
                certs.push(cert.as_bytes().to_vec());
            }
            v1::CertEntryV1::Other(other) if other.tag() == Tag::Sequence => {
                let der = der::Encode::to_der(other).map_err(der_error("GM/T 0031 certList"))?;
                bounded("holder certificate", der.len(), MAX_CERT_BYTES)?;
                certs.push(der);
            }
            v1::CertEntryV1::Other(other) => {
                bounded("certList entry", other.value().len(), MAX_CERT_BYTES)?;
                others.push(NonCertEntry {
                    asn1_type: other.tag().to_string(),
                    value: other.value().to_vec(),
                });
            }
        }
    }
    Ok((HolderCerts::Certs(certs), others))
}

fn certs(list: &[OctetString]) -> Result<HolderCerts, SealError> {
    list.iter()
        .map(|c| {
            bounded("holder certificate", c.as_bytes().len(), MAX_CERT_BYTES)?;
            Ok(c.as_bytes().to_vec())
        })
        .collect::<Result<_, _>>()
        .map(HolderCerts::Certs)
}

impl SealInfoParts {
    /// The bounds every seal's information must keep.
    fn check(self) -> Result<SealInfoParts, SealError> {
        if self.header.id.as_str() != "ES" {
            return Err(SealError::NotEs(
                self.header.id.as_str().chars().take(16).collect(),
            ));
        }
        bounded("Vid", self.header.vid.as_str().len(), MAX_TEXT_BYTES)?;
        bounded("esID", self.es_id.len(), MAX_TEXT_BYTES)?;
        bounded("name", self.name.len(), MAX_TEXT_BYTES)?;
        let picture = &self.picture;
        bounded("picture type", picture.kind.as_str().len(), MAX_TEXT_BYTES)?;
        bounded("picture", picture.data.as_bytes().len(), MAX_PICTURE_BYTES)?;
        check_extensions(&self.extensions)?;
        Ok(self)
    }
}

impl Seal {
    /// Decodes an `.esl` (`SESeal`), v4 or v1.
    ///
    /// ```
    /// use huren_crypto::seal::{Seal, SealError};
    /// assert!(matches!(Seal::from_der(b"\x30\x00"), Err(SealError::Der { .. })));
    /// ```
    pub fn from_der(bytes: &[u8]) -> Result<Seal, SealError> {
        match sniff(bytes)? {
            Shape::Seal(SealVersion::V4) => Seal::decode_v4(bytes),
            Shape::Seal(SealVersion::V1) => Seal::decode_v1(bytes),
            Shape::Signature(_) => Err(SealError::WrongKind {
                expected: "seal",
                found: "seal signature",
            }),
        }
    }

    fn decode_v4(bytes: &[u8]) -> Result<Seal, SealError> {
        let wire = asn1::SeSeal::from_der(bytes).map_err(der_error("GB/T 38540 SESeal"))?;
        Seal::from_v4(wire, bytes.to_vec())
    }

    fn decode_v1(bytes: &[u8]) -> Result<Seal, SealError> {
        let wire = v1::SeSealV1::from_der(bytes).map_err(der_error("GM/T 0031 SESeal"))?;
        Seal::from_v1(wire, bytes.to_vec())
    }

    pub(crate) fn from_v4(wire: asn1::SeSeal, der: Vec<u8>) -> Result<Seal, SealError> {
        let (info, seal_info) = wire.seal_info.into_parts();
        if info.header.version != 4 {
            return Err(SealError::UnsupportedVersion(info.header.version));
        }
        let property = info.property;
        let holder_certs = match &property.cert_list {
            CertList::Certs(list) => certs(list.items())?,
            CertList::Digests(list) => HolderCerts::Digests(
                list.items()
                    .iter()
                    .map(|d| {
                        bounded("certificate digest", d.value.as_bytes().len(), 64)?;
                        Ok(CertDigest {
                            label: d.kind.as_str().to_owned(),
                            value: d.value.as_bytes().to_vec(),
                        })
                    })
                    .collect::<Result<_, SealError>>()?,
            ),
        };
        for (field, time) in [
            ("createDate", &property.create_date),
            ("validStart", &property.valid_start),
            ("validEnd", &property.valid_end),
        ] {
            if time.kind() != TimeKind::Generalized {
                return Err(SealError::NotGeneralizedTime(field));
            }
        }
        let parts = SealInfoParts {
            header: info.header,
            es_id: info.es_id.as_str().to_owned(),
            seal_type: property.seal_type,
            name: property.name,
            holder_certs,
            non_cert_entries: Vec::new(),
            dates: [
                property.create_date,
                property.valid_start,
                property.valid_end,
            ],
            picture: info.picture,
            extensions: info
                .ext_datas
                .map(|e| e.items().to_vec())
                .unwrap_or_default(),
        }
        .check()?;
        bounded(
            "maker certificate",
            wire.cert.as_bytes().len(),
            MAX_CERT_BYTES,
        )?;
        let signature = whole_bytes("signedValue", &wire.signed_value, MAX_SIGNATURE_BYTES)?;
        Ok(Seal::assemble(
            SealVersion::V4,
            parts,
            wire.cert.into_bytes(),
            wire.sign_alg_id,
            signature,
            seal_info.clone(),
            seal_info,
            der,
        ))
    }

    fn from_v1(wire: v1::SeSealV1, der: Vec<u8>) -> Result<Seal, SealError> {
        let signed_message = wire
            .signed_message()
            .map_err(der_error("GM/T 0031 SESeal"))?;
        let (info, seal_info) = wire.seal_info.into_parts();
        let property = info.property;
        let (holder_certs, non_cert_entries) = v1_certs(property.cert_list.items())?;
        let parts = SealInfoParts {
            header: info.header,
            es_id: info.es_id.as_str().to_owned(),
            seal_type: property.seal_type,
            name: property.name,
            holder_certs,
            non_cert_entries,
            dates: [
                property.create_date,
                property.valid_start,
                property.valid_end,
            ],
            picture: info.picture,
            extensions: info
                .ext_datas
                .map(|e| e.items().to_vec())
                .unwrap_or_default(),
        }
        .check()?;
        let (cert, _) = wire.sign_info.cert.into_parts();
        bounded("maker certificate", cert.as_bytes().len(), MAX_CERT_BYTES)?;
        let (algorithm, _) = wire.sign_info.signature_algorithm.into_parts();
        let signature = whole_bytes("signData", &wire.sign_info.sign_data, MAX_SIGNATURE_BYTES)?;
        Ok(Seal::assemble(
            SealVersion::V1,
            parts,
            cert.into_bytes(),
            algorithm,
            signature,
            seal_info,
            signed_message,
            der,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        version: SealVersion,
        parts: SealInfoParts,
        maker_cert: Vec<u8>,
        algorithm: RawOid,
        signature: Vec<u8>,
        seal_info: Vec<u8>,
        signed_message: Vec<u8>,
        der: Vec<u8>,
    ) -> Seal {
        let [create_date, valid_start, valid_end] = parts.dates;
        Seal {
            version,
            header: parts.header,
            es_id: parts.es_id,
            seal_type: parts.seal_type,
            name: parts.name,
            holder_certs: parts.holder_certs,
            non_cert_entries: parts.non_cert_entries,
            create_date,
            valid_start,
            valid_end,
            picture: parts.picture,
            extensions: parts.extensions,
            maker_cert,
            algorithm,
            signature,
            seal_info,
            signed_message,
            der,
        }
    }

    /// v1 or v4.
    pub fn version(&self) -> SealVersion {
        self.version
    }

    /// The header (ID, version, Vid).
    pub fn header(&self) -> &SesHeader {
        &self.header
    }

    /// 电子印章编码.
    pub fn es_id(&self) -> &str {
        &self.es_id
    }

    /// The province the esID names, if it starts with a GB/T 2260 code.
    pub fn region(&self) -> Option<RegionCode> {
        region_of_es_id(&self.es_id)
    }

    /// 印章类型.
    pub fn seal_type(&self) -> i64 {
        self.seal_type
    }

    /// 印章名称.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The holder certificates (or their digests) the seal may be applied with.
    pub fn holder_certs(&self) -> &HolderCerts {
        &self.holder_certs
    }

    /// `certList` entries that are not certificates (v1 only; usually empty).
    pub fn non_cert_entries(&self) -> &[NonCertEntry] {
        &self.non_cert_entries
    }

    /// When the seal was made.
    pub fn create_date(&self) -> &SealTime {
        &self.create_date
    }

    /// Start of validity.
    pub fn valid_start(&self) -> &SealTime {
        &self.valid_start
    }

    /// End of validity.
    pub fn valid_end(&self) -> &SealTime {
        &self.valid_end
    }

    /// The picture.
    pub fn picture(&self) -> &PictureInfo {
        &self.picture
    }

    /// The extensions (`extDatas`), possibly empty.
    pub fn extensions(&self) -> &[ExtData] {
        &self.extensions
    }

    /// huren's extensions, read and checked (unknown critical ones are an error).
    pub fn known_extensions(&self) -> Result<KnownExtensions, ExtensionError> {
        read_extensions(&self.extensions)
    }

    /// The maker certificate (DER as received).
    pub fn maker_cert(&self) -> &[u8] {
        &self.maker_cert
    }

    /// The maker's signature algorithm.
    pub fn algorithm(&self) -> &RawOid {
        &self.algorithm
    }

    /// The maker's signature (DER `ECDSA-Sig-Value`, raw `r‖s` or an RSA block).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// DER(`SES_SealInfo`) as received.
    pub fn seal_info_der(&self) -> &[u8] {
        &self.seal_info
    }

    /// What the maker signed: DER(`SES_SealInfo`) in v4; DER(SEQUENCE { sealInfo, cert,
    /// signatureAlgorithm }) from the received parts in v1.
    pub fn signed_message(&self) -> &[u8] {
        &self.signed_message
    }

    /// What some deployed producers sign instead of [`Seal::signed_message`] (SPEC §8):
    /// DER(SEQUENCE { sealInfo, cert, signatureAlgorithm }) in v4, DER(`SES_SealInfo`) alone
    /// in v1. Both hold the whole seal information, so a maker's signature over either
    /// vouches for the same seal. Built on demand (the seal information can be megabytes);
    /// the parts are primitive DER, which re-encodes to the bytes received.
    pub fn alternative_signed_message(&self) -> Result<Vec<u8>, SealError> {
        match self.version {
            SealVersion::V1 => Ok(self.seal_info.clone()),
            SealVersion::V4 => {
                let structure = der_error("GB/T 38540 SESeal");
                let cert = OctetString::new(self.maker_cert.as_slice()).map_err(&structure)?;
                let cert = der::Encode::to_der(&cert).map_err(&structure)?;
                let algorithm = der::Encode::to_der(&self.algorithm).map_err(&structure)?;
                sequence_of(&[&self.seal_info, &cert, &algorithm]).map_err(structure)
            }
        }
    }

    /// The whole `SESeal` as received.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The huren status reference the seal carries, if any (and if its extensions read).
    pub fn status_reference(&self) -> Option<SealStatusReference> {
        self.known_extensions().ok().and_then(|known| known.status)
    }
}

/// How the signing time was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningTime {
    /// The instant.
    pub at: UnixTime,
    /// The `timeInfo` text as written (v1: the BIT STRING's bytes, lossily as text).
    pub text: String,
    /// Whether it had to be read as China time because it named no zone (v1 only).
    pub zoneless: bool,
}

/// A decoded seal signature (电子签章), v1 or v4. Only [`SealSignature::from_der`] makes one.
#[derive(Debug, Clone)]
pub struct SealSignature {
    version: SealVersion,
    tbs_version: i64,
    seal: Seal,
    signing_time: SigningTime,
    data_hash: Vec<u8>,
    property_info: String,
    extensions: Vec<ExtData>,
    signer_cert: Vec<u8>,
    algorithm: RawOid,
    signature: Vec<u8>,
    time_stamp: Option<Vec<u8>>,
    tbs: Vec<u8>,
    der: Vec<u8>,
}

impl SealSignature {
    /// Decodes a `SignedValue.dat` / `.ses` (`SES_Signature`), v4 or v1.
    ///
    /// ```
    /// use huren_crypto::seal::{SealError, SealSignature};
    /// let too_big = vec![0u8; huren_crypto::seal::MAX_SEAL_BYTES + 1];
    /// assert!(matches!(SealSignature::from_der(&too_big), Err(SealError::TooLarge { .. })));
    /// ```
    pub fn from_der(bytes: &[u8]) -> Result<SealSignature, SealError> {
        match sniff(bytes)? {
            Shape::Signature(SealVersion::V4) => SealSignature::decode_v4(bytes),
            Shape::Signature(SealVersion::V1) => SealSignature::decode_v1(bytes),
            Shape::Seal(_) => Err(SealError::WrongKind {
                expected: "seal signature",
                found: "seal",
            }),
        }
    }

    fn decode_v4(bytes: &[u8]) -> Result<SealSignature, SealError> {
        let wire =
            asn1::SesSignature::from_der(bytes).map_err(der_error("GB/T 38540 SES_Signature"))?;
        let (tbs_value, tbs) = wire.to_sign.into_parts();
        if tbs_value.version != 4 {
            return Err(SealError::UnsupportedVersion(tbs_value.version));
        }
        let (seal_wire, seal_der) = tbs_value.eseal.into_parts();
        let seal = Seal::from_v4(seal_wire, seal_der)?;
        if tbs_value.time_info.kind() != TimeKind::Generalized {
            return Err(SealError::NotGeneralizedTime("timeInfo"));
        }
        let extensions = tbs_value
            .ext_datas
            .map(|e| e.items().to_vec())
            .unwrap_or_default();
        check_extensions(&extensions)?;
        let property_info = tbs_value.property_info.as_str().to_owned();
        bounded("propertyInfo", property_info.len(), MAX_PROPERTY_INFO_BYTES)?;
        bounded(
            "signer certificate",
            wire.cert.as_bytes().len(),
            MAX_CERT_BYTES,
        )?;
        let time_stamp = wire
            .time_stamp
            .as_ref()
            .map(|t| whole_bytes("timeStamp", t, MAX_TIME_STAMP_BYTES))
            .transpose()?;
        Ok(SealSignature {
            version: SealVersion::V4,
            tbs_version: tbs_value.version,
            seal,
            signing_time: SigningTime {
                at: tbs_value.time_info.at(),
                text: tbs_value.time_info.text().to_owned(),
                zoneless: false,
            },
            data_hash: whole_bytes("dataHash", &tbs_value.data_hash, MAX_DATA_HASH_BYTES)?,
            property_info,
            extensions,
            signer_cert: wire.cert.into_bytes(),
            algorithm: wire.signature_alg_id,
            signature: whole_bytes("signature", &wire.signature, MAX_SIGNATURE_BYTES)?,
            time_stamp,
            tbs,
            der: bytes.to_vec(),
        })
    }

    fn decode_v1(bytes: &[u8]) -> Result<SealSignature, SealError> {
        let wire =
            v1::SesSignatureV1::from_der(bytes).map_err(der_error("GM/T 0031 SES_Signature"))?;
        let (tbs_value, tbs) = wire.to_sign.into_parts();
        let (seal_wire, seal_der) = tbs_value.eseal.into_parts();
        let seal = Seal::from_v1(seal_wire, seal_der)?;
        let time_bytes = tbs_value
            .time_info
            .bytes()
            .ok_or(SealError::UnusedBits("timeInfo"))?;
        let (at, form) = v1::parse_time_info(time_bytes).ok_or(SealError::UnreadableTimeInfo)?;
        let data_hash = tbs_value
            .data_hash
            .bytes()
            .ok_or(SealError::UnusedBits("dataHash"))?;
        bounded("dataHash", data_hash.len(), MAX_DATA_HASH_BYTES)?;
        let property_info = tbs_value.property_info.as_str().to_owned();
        bounded("propertyInfo", property_info.len(), MAX_PROPERTY_INFO_BYTES)?;
        bounded(
            "signer certificate",
            tbs_value.cert.as_bytes().len(),
            MAX_CERT_BYTES,
        )?;
        Ok(SealSignature {
            version: SealVersion::V1,
            tbs_version: tbs_value.version,
            seal,
            signing_time: SigningTime {
                at,
                text: String::from_utf8_lossy(time_bytes).into_owned(),
                zoneless: form == TimeInfoForm::ChinaLocal,
            },
            data_hash: data_hash.to_vec(),
            property_info,
            extensions: Vec::new(),
            signer_cert: tbs_value.cert.into_bytes(),
            algorithm: tbs_value.signature_algorithm,
            signature: whole_bytes("signature", &wire.signature, MAX_SIGNATURE_BYTES)?,
            time_stamp: None,
            tbs,
            der: bytes.to_vec(),
        })
    }

    /// v1 or v4.
    pub fn version(&self) -> SealVersion {
        self.version
    }

    /// `TBS_Sign.version` as written.
    pub fn tbs_version(&self) -> i64 {
        self.tbs_version
    }

    /// The seal that was applied.
    pub fn seal(&self) -> &Seal {
        &self.seal
    }

    /// The signing time the signer claims (`timeInfo`).
    pub fn signing_time(&self) -> &SigningTime {
        &self.signing_time
    }

    /// The document hash.
    pub fn data_hash(&self) -> &[u8] {
        &self.data_hash
    }

    /// `propertyInfo`.
    pub fn property_info(&self) -> &str {
        &self.property_info
    }

    /// `TBS_Sign.extDatas` (v4), possibly empty.
    pub fn extensions(&self) -> &[ExtData] {
        &self.extensions
    }

    /// The signer certificate (DER as received).
    pub fn signer_cert(&self) -> &[u8] {
        &self.signer_cert
    }

    /// The signer's signature algorithm.
    pub fn algorithm(&self) -> &RawOid {
        &self.algorithm
    }

    /// The signer's signature.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The time-stamp token over the signature (v4), if any.
    pub fn time_stamp(&self) -> Option<&[u8]> {
        self.time_stamp.as_deref()
    }

    /// DER(`TBS_Sign`) as received: what the signer signed.
    pub fn tbs(&self) -> &[u8] {
        &self.tbs
    }

    /// The whole `SES_Signature` as received.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The hash algorithm of `dataHash` (SM3 with SM2, SHA-256 otherwise); `None` when the
    /// signature algorithm is not one huren accepts.
    pub fn digest_algorithm(&self) -> Option<DigestAlgorithm> {
        SealAlgorithm::from_oid(self.algorithm()).map(SealAlgorithm::digest)
    }
}

/// Either kind of file, for tools that take both (`huren seal inspect`).
#[derive(Debug, Clone)]
pub enum SealFile {
    /// An `.esl`.
    Seal(Box<Seal>),
    /// A `SignedValue.dat` / `.ses`.
    Signature(Box<SealSignature>),
}

impl SealFile {
    /// Decodes a seal or a seal signature, whichever the bytes are.
    pub fn from_der(bytes: &[u8]) -> Result<SealFile, SealError> {
        match sniff(bytes)? {
            Shape::Seal(_) => Seal::from_der(bytes).map(|s| SealFile::Seal(Box::new(s))),
            Shape::Signature(_) => {
                SealSignature::from_der(bytes).map(|s| SealFile::Signature(Box::new(s)))
            }
        }
    }
}
