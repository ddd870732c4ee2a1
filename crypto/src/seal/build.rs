//! Making seals and sealing documents (GB/T 38540 v4 only), as pure functions.
//!
//! Each follows prepare → sign → complete: [`seal_info`] and [`tbs_sign`] give the exact
//! bytes to sign, [`assemble_seal`] and [`assemble_signature`] put a signature in place, and
//! [`make_seal`] / [`sign_document`] do all three with a [`Signer`]. The result is decoded
//! again with the verifier's decoder and its signature checked before it is returned, so a
//! faulty signer (an HSM returning garbage) cannot produce a seal that verifiers refuse.

use der::asn1::{BitString, Ia5String, OctetString};
use der::Encode;

use super::algorithm::SealAlgorithm;
use super::asn1::{
    Bounded, CertList, ExtData, PictureInfo, PropertyInfo, RawOid, SeSeal, SealInfo, SealTime,
    SesHeader, SesSignature, Signed, TbsSign, MAX_CERT_LIST,
};
use super::decode::{
    HolderCerts, Seal, SealError, SealSignature, MAX_PICTURE_BYTES, MAX_PROPERTY_INFO_BYTES,
    MAX_TEXT_BYTES,
};
use super::esid::EsId;
use super::ext::{status_extension, uscc_extension, SealStatusReference, MAX_STATUS_URI_BYTES};
use super::lenient_cert::SealCertificate;
use crate::ids::Uscc;
use crate::key::SignatureError;
use crate::sign::{SignError, Signer};
use crate::time::UnixTime;

/// Largest picture side accepted when making a seal, in millimetres.
pub const MAX_PICTURE_SIDE_MM: u32 = 200;

/// The picture formats huren puts in seals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PictureType {
    /// PNG image.
    Png,
    /// SVG image.
    Svg,
}

impl PictureType {
    /// The `type` written into `SES_ESPictrueInfo`.
    pub fn label(self) -> &'static str {
        match self {
            PictureType::Png => "PNG",
            PictureType::Svg => "SVG",
        }
    }
}

/// The seal image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealPicture {
    /// Format.
    pub kind: PictureType,
    /// The image bytes.
    pub data: Vec<u8>,
    /// Width in millimetres.
    pub width_mm: u32,
    /// Height in millimetres.
    pub height_mm: u32,
}

/// Everything a seal says. `certListType` is always 1 (the holder certificates themselves).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealSpec {
    /// Vendor identifier for the header's `Vid`, e.g. `huren`.
    pub vid: String,
    /// The seal's identifier; its region is the seal's region.
    pub es_id: EsId,
    /// 印章类型.
    pub seal_type: i64,
    /// 印章名称, e.g. `杭州示例建设有限公司合同专用章`.
    pub name: String,
    /// Certificates (DER) the seal may be applied with (1 to 16).
    pub holder_certs: Vec<Vec<u8>>,
    /// When the seal is made.
    pub create_date: UnixTime,
    /// Start of validity.
    pub valid_start: UnixTime,
    /// End of validity.
    pub valid_end: UnixTime,
    /// The image.
    pub picture: SealPicture,
    /// Where the seal's status is kept (critical extension), if it can be revoked.
    pub status: Option<SealStatusReference>,
    /// The organisation's 统一社会信用代码.
    pub uscc: Option<Uscc>,
}

/// Why a seal or a seal signature could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealBuildError {
    /// A field is empty, too long or not representable.
    #[error("{field}: {reason}")]
    Field {
        /// Which field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The validity period is empty or the seal would be made after it ends.
    #[error("validity {valid_start} to {valid_end} (made {create_date}) is not usable")]
    Validity {
        /// Start.
        valid_start: UnixTime,
        /// End.
        valid_end: UnixTime,
        /// Making time.
        create_date: UnixTime,
    },
    /// A certificate is unreadable or its key does not fit the signer.
    #[error("{role} certificate: {reason}")]
    Certificate {
        /// `maker` or `holder`.
        role: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The holder certificate is not in the seal's certList.
    #[error("the holder certificate is not one the seal may be applied with")]
    HolderNotInSeal,
    /// The seal to apply is not a readable GB/T 38540 seal.
    #[error("seal: {0}")]
    Seal(SealError),
    /// DER encoding failed.
    #[error("encoding: {0}")]
    Encode(String),
    /// The signer failed.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// The signer returned a signature that does not verify under the certificate.
    #[error("the signer's signature does not verify under the certificate: {0}")]
    SelfCheck(SignatureError),
}

fn encode_error(e: der::Error) -> SealBuildError {
    SealBuildError::Encode(e.to_string())
}

fn field(field: &'static str, reason: impl Into<String>) -> SealBuildError {
    SealBuildError::Field {
        field,
        reason: reason.into(),
    }
}

fn ia5(name: &'static str, text: &str, max: usize) -> Result<Ia5String, SealBuildError> {
    if text.is_empty() || text.len() > max {
        return Err(field(name, format!("must be 1 to {max} bytes")));
    }
    Ia5String::new(text).map_err(|_| field(name, "must be ASCII"))
}

fn time(name: &'static str, at: UnixTime) -> Result<SealTime, SealBuildError> {
    SealTime::generalized(at).ok_or_else(|| field(name, "outside years 0000-9999"))
}

/// Reads a certificate and checks its key can verify `algorithm`'s signatures.
fn certificate(
    role: &'static str,
    der: &[u8],
    algorithm: Option<SealAlgorithm>,
) -> Result<SealCertificate, SealBuildError> {
    let problem = |reason: String| SealBuildError::Certificate { role, reason };
    let cert = SealCertificate::parse(der).map_err(|e| problem(e.to_string()))?;
    let key = cert.public_key().map_err(|e| problem(e.to_string()))?;
    if let Some(algorithm) = algorithm {
        if key.kind() != algorithm.key_kind() {
            return Err(problem(format!(
                "its {} key cannot verify {algorithm}",
                key.kind()
            )));
        }
    }
    Ok(cert)
}

/// Prepare: the `SES_SealInfo` for `spec`; its [`Signed::der`] is what the maker signs.
pub fn seal_info(spec: &SealSpec) -> Result<Signed<SealInfo>, SealBuildError> {
    if spec.name.trim().is_empty()
        || spec.name.len() > MAX_TEXT_BYTES
        || spec.name.chars().any(char::is_control)
    {
        return Err(field(
            "name",
            format!("must be 1 to {MAX_TEXT_BYTES} bytes without control characters"),
        ));
    }
    if spec.holder_certs.is_empty() || spec.holder_certs.len() > MAX_CERT_LIST {
        return Err(field(
            "holder_certs",
            format!("must hold 1 to {MAX_CERT_LIST} certificates"),
        ));
    }
    for der in &spec.holder_certs {
        certificate("holder", der, None)?;
    }
    if spec.valid_start >= spec.valid_end || spec.create_date > spec.valid_end {
        return Err(SealBuildError::Validity {
            valid_start: spec.valid_start,
            valid_end: spec.valid_end,
            create_date: spec.create_date,
        });
    }
    let picture = &spec.picture;
    if picture.data.is_empty() || picture.data.len() > MAX_PICTURE_BYTES {
        return Err(field(
            "picture",
            format!("must be 1 to {MAX_PICTURE_BYTES} bytes"),
        ));
    }
    let looks_right = match picture.kind {
        PictureType::Png => picture.data.starts_with(b"\x89PNG\r\n\x1a\n"),
        PictureType::Svg => std::str::from_utf8(&picture.data)
            .map(|text| text.contains("<svg"))
            .unwrap_or(false),
    };
    if !looks_right {
        return Err(field(
            "picture",
            format!("is not a {} image", picture.kind.label()),
        ));
    }
    for (name, side) in [("width", picture.width_mm), ("height", picture.height_mm)] {
        if side == 0 || side > MAX_PICTURE_SIDE_MM {
            return Err(field(
                name,
                format!("must be 1 to {MAX_PICTURE_SIDE_MM} mm"),
            ));
        }
    }
    let mut extensions: Vec<ExtData> = Vec::new();
    if let Some(status) = &spec.status {
        if status.uri.is_empty() || status.uri.len() > MAX_STATUS_URI_BYTES {
            return Err(field(
                "status",
                format!("uri must be 1 to {MAX_STATUS_URI_BYTES} bytes"),
            ));
        }
        extensions.push(status_extension(status).map_err(encode_error)?);
    }
    if let Some(uscc) = &spec.uscc {
        extensions.push(uscc_extension(uscc).map_err(encode_error)?);
    }
    let certs = spec
        .holder_certs
        .iter()
        .map(|der| OctetString::new(der.clone()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(encode_error)?;
    let info = SealInfo {
        header: SesHeader {
            id: ia5("header", "ES", 2)?,
            version: 4,
            vid: ia5("vid", &spec.vid, MAX_TEXT_BYTES)?,
        },
        es_id: ia5("es_id", spec.es_id.as_str(), MAX_TEXT_BYTES)?,
        property: PropertyInfo {
            seal_type: spec.seal_type,
            name: spec.name.clone(),
            cert_list: CertList::Certs(
                Bounded::new(certs).ok_or_else(|| field("holder_certs", "too many"))?,
            ),
            create_date: time("create_date", spec.create_date)?,
            valid_start: time("valid_start", spec.valid_start)?,
            valid_end: time("valid_end", spec.valid_end)?,
        },
        picture: PictureInfo {
            kind: ia5("picture type", picture.kind.label(), 8)?,
            data: OctetString::new(picture.data.clone()).map_err(encode_error)?,
            width: i64::from(picture.width_mm),
            height: i64::from(picture.height_mm),
        },
        ext_datas: if extensions.is_empty() {
            None
        } else {
            Some(Bounded::new(extensions).ok_or_else(|| field("extensions", "too many"))?)
        },
    };
    Signed::new(info).map_err(encode_error)
}

/// Complete: the `SESeal` DER from a prepared seal info and the maker's DER signature.
pub fn assemble_seal(
    info: Signed<SealInfo>,
    maker_cert_der: &[u8],
    algorithm: SealAlgorithm,
    signature_der: &[u8],
) -> Result<Vec<u8>, SealBuildError> {
    SeSeal {
        seal_info: info,
        cert: OctetString::new(maker_cert_der).map_err(encode_error)?,
        sign_alg_id: RawOid::from_oid(&algorithm.oid()),
        signed_value: BitString::from_bytes(signature_der).map_err(encode_error)?,
    }
    .to_der()
    .map_err(encode_error)
}

/// Signs `message` and returns the DER signature, after checking it verifies under `cert`.
fn sign_checked(
    signer: &dyn Signer,
    algorithm: SealAlgorithm,
    cert: &SealCertificate,
    message: &[u8],
) -> Result<Vec<u8>, SealBuildError> {
    let signature = algorithm
        .signature_from_jws(signer.sign(message)?)
        .ok_or(SealBuildError::SelfCheck(SignatureError::Invalid))?;
    let key = cert.public_key().map_err(|e| SealBuildError::Certificate {
        role: "signer",
        reason: e.to_string(),
    })?;
    algorithm
        .verify(key, message, &signature)
        .map_err(SealBuildError::SelfCheck)?;
    Ok(signature)
}

/// Makes a seal: builds `SES_SealInfo` from `spec`, has `maker` sign it and returns the
/// `SESeal` DER (an `.esl`).
///
/// ```
/// # use huren_crypto::alg::Algorithm;
/// # use huren_crypto::ids::RegionCode;
/// # use huren_crypto::seal::build::{make_seal, PictureType, SealPicture, SealSpec};
/// # use huren_crypto::seal::{EsId, Seal};
/// # use huren_crypto::UnixTime;
/// # use huren_keys::certificate::{issue, Profile, Subject};
/// # use huren_keys::PrivateKey;
/// # use huren_crypto::oids::Purpose;
/// # let now = UnixTime(1_795_000_000);
/// # let key = PrivateKey::generate(Algorithm::Es256).unwrap();
/// # let spki = key.public_key_spki_der().unwrap();
/// # let subject = Subject { organization: "浙江省".into(), common_name: "制章".into() };
/// # let cert = |p| issue(&subject, &spki, p, now, now.plus(86_400 * 365), None, &key,
/// #     &mut rand_core::OsRng).unwrap();
/// # let (maker_cert, holder_cert) = (cert(Profile::Operator), cert(Profile::Operator));
/// let spec = SealSpec {
///     vid: "huren".into(),
///     es_id: EsId::generate(&RegionCode::parse("330000")?, [1; 8]),
///     seal_type: 1,
///     name: "杭州示例建设有限公司合同专用章".into(),
///     holder_certs: vec![holder_cert],
///     create_date: now,
///     valid_start: now,
///     valid_end: now.plus(86_400 * 365),
///     picture: SealPicture {
///         kind: PictureType::Svg,
///         data: br#"<svg xmlns="http://www.w3.org/2000/svg"/>"#.to_vec(),
///         width_mm: 40,
///         height_mm: 40,
///     },
///     status: None,
///     uscc: None,
/// };
/// let esl = make_seal(&spec, &key, &maker_cert)?;
/// assert_eq!(Seal::from_der(&esl)?.name(), "杭州示例建设有限公司合同专用章");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn make_seal(
    spec: &SealSpec,
    maker: &dyn Signer,
    maker_cert_der: &[u8],
) -> Result<Vec<u8>, SealBuildError> {
    let algorithm = SealAlgorithm::for_signer(maker.algorithm());
    let maker_cert = certificate("maker", maker_cert_der, Some(algorithm))?;
    let info = seal_info(spec)?;
    let signature = sign_checked(maker, algorithm, &maker_cert, info.der())?;
    let der = assemble_seal(info, maker_cert_der, algorithm, &signature)?;
    // What verifiers will read: the same decoder, the same bounds.
    Seal::from_der(&der).map_err(SealBuildError::Seal)?;
    Ok(der)
}

/// Prepare: the `TBS_Sign` applying `seal_der` to a document whose hash is `data_hash`.
pub fn tbs_sign(
    seal_der: &[u8],
    data_hash: &[u8],
    signed_at: UnixTime,
    property_info: &str,
) -> Result<Signed<TbsSign>, SealBuildError> {
    use der::Decode;
    let seal = Seal::from_der(seal_der).map_err(SealBuildError::Seal)?;
    if seal.version().number() != 4 {
        return Err(SealBuildError::Seal(SealError::UnsupportedVersion(1)));
    }
    let eseal = Signed::<SeSeal>::from_der(seal_der).map_err(encode_error)?;
    Signed::new(TbsSign {
        version: 4,
        eseal,
        time_info: time("signed_at", signed_at)?,
        data_hash: BitString::from_bytes(data_hash).map_err(encode_error)?,
        property_info: ia5("property_info", property_info, MAX_PROPERTY_INFO_BYTES)?,
        ext_datas: None,
    })
    .map_err(encode_error)
}

/// Complete: the `SES_Signature` DER from a prepared TBS and the holder's DER signature.
pub fn assemble_signature(
    tbs: Signed<TbsSign>,
    holder_cert_der: &[u8],
    algorithm: SealAlgorithm,
    signature_der: &[u8],
) -> Result<Vec<u8>, SealBuildError> {
    SesSignature {
        to_sign: tbs,
        cert: OctetString::new(holder_cert_der).map_err(encode_error)?,
        signature_alg_id: RawOid::from_oid(&algorithm.oid()),
        signature: BitString::from_bytes(signature_der).map_err(encode_error)?,
        time_stamp: None,
    }
    .to_der()
    .map_err(encode_error)
}

/// Seals a document: `holder` signs `TBS_Sign` over the seal and the document's hash (SM3
/// for SM2 keys, SHA-256 otherwise) at `signed_at`; returns the `SES_Signature` DER (a
/// detached `.ses`). `property_info` describes the document (OFD: the path of its
/// `Signature.xml`). The holder certificate must be in the seal's certList.
pub fn sign_document(
    seal_der: &[u8],
    document: &[u8],
    signed_at: UnixTime,
    property_info: &str,
    holder: &dyn Signer,
    holder_cert_der: &[u8],
) -> Result<Vec<u8>, SealBuildError> {
    let algorithm = SealAlgorithm::for_signer(holder.algorithm());
    let holder_cert = certificate("holder", holder_cert_der, Some(algorithm))?;
    let seal = Seal::from_der(seal_der).map_err(SealBuildError::Seal)?;
    let listed = match seal.holder_certs() {
        HolderCerts::Certs(certs) => certs.iter().any(|c| c.as_slice() == holder_cert_der),
        HolderCerts::Digests(digests) => digests.iter().any(|d| {
            super::algorithm::DigestAlgorithm::from_label(&d.label)
                .is_some_and(|alg| alg.digest(holder_cert_der) == d.value)
        }),
    };
    if !listed {
        return Err(SealBuildError::HolderNotInSeal);
    }
    let hash = algorithm.digest().digest(document);
    let tbs = tbs_sign(seal_der, &hash, signed_at, property_info)?;
    let signature = sign_checked(holder, algorithm, &holder_cert, tbs.der())?;
    let der = assemble_signature(tbs, holder_cert_der, algorithm, &signature)?;
    SealSignature::from_der(&der).map_err(SealBuildError::Seal)?;
    Ok(der)
}
