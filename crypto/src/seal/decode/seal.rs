//! Decoding an `SESeal` (an `.esl`, or the seal a signature embeds), v4 or v1, into
//! [`Seal`]: the seal information with every field within its bound, the maker's certificate,
//! algorithm and signature, and the exact bytes the maker signed (in the standard's form, and
//! on demand in the form some deployed producers sign instead).

use der::asn1::OctetString;
use der::{Decode, Tag, Tagged};

use super::{
    bounded, check_extensions, der_error, sniff, whole_bytes, SealError, SealVersion, Shape,
    MAX_PICTURE_BYTES, MAX_SIGNATURE_BYTES, MAX_TEXT_BYTES,
};
use crate::cert::MAX_CERT_BYTES;
use crate::ids::RegionCode;
use crate::seal::asn1::{
    self, CertList, ExtData, PictureInfo, RawOid, SealTime, SesHeader, TimeKind,
};
use crate::seal::esid::region_of_es_id;
use crate::seal::ext::{read_extensions, ExtensionError, KnownExtensions, SealStatusReference};
use crate::seal::v1;

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

    pub(super) fn from_v4(wire: asn1::SeSeal, der: Vec<u8>) -> Result<Seal, SealError> {
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

    pub(super) fn from_v1(wire: v1::SeSealV1, der: Vec<u8>) -> Result<Seal, SealError> {
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
