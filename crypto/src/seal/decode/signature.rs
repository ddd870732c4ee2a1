//! Decoding an `SES_Signature` (`SignedValue.dat` / `.ses`), v4 or v1, into
//! [`SealSignature`]: the seal it embeds (decoded by `seal`), the claimed signing time, the
//! document hash, the signer's certificate, algorithm and signature, and DER(`TBS_Sign`) as
//! received, which is what the signer signed.

use der::Decode;

use super::seal::Seal;
use super::{
    bounded, check_extensions, der_error, sniff, whole_bytes, SealError, SealVersion, Shape,
    MAX_DATA_HASH_BYTES, MAX_PROPERTY_INFO_BYTES, MAX_SIGNATURE_BYTES, MAX_TIME_STAMP_BYTES,
};
use crate::cert::MAX_CERT_BYTES;
use crate::seal::algorithm::{DigestAlgorithm, SealAlgorithm};
use crate::seal::asn1::{self, ExtData, RawOid, TimeKind};
use crate::seal::v1::{self, TimeInfoForm};
use crate::time::UnixTime;

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
