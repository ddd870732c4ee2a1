//! The GM/T 0031-2014 ("v1") wire structures, for decoding seals and signatures made before
//! GB/T 38540. huren never writes v1.
//!
//! ```asn1
//! SESeal ::= SEQUENCE { esealInfo SES_SealInfo, signInfo SES_SignInfo }
//! SES_SealInfo ::= SEQUENCE { header SES_Header, esID IA5String,
//!                             property SES_ESPropertyInfo, picture SES_ESPictrueInfo,
//!                             extDatas ExtensionDatas OPTIONAL }
//! SES_ESPropertyInfo ::= SEQUENCE { type INTEGER, name UTF8String,
//!                                   certList SEQUENCE OF OCTET STRING,
//!                                   createDate UTCTime, validStart UTCTime, validEnd UTCTime }
//! SES_SignInfo ::= SEQUENCE { cert OCTET STRING, signatureAlgorithm OBJECT IDENTIFIER,
//!                             signData BIT STRING }
//!   -- signData: the maker's signature over DER(SEQUENCE { esealInfo, cert,
//!   --           signatureAlgorithm })
//! SES_Signature ::= SEQUENCE { toSign TBS_Sign, signature BIT STRING }
//! TBS_Sign ::= SEQUENCE { version INTEGER, eseal SESeal, timeInfo BIT STRING,
//!                         dataHash BIT STRING, propertyInfo IA5String,
//!                         cert OCTET STRING, signatureAlgorithm OBJECT IDENTIFIER }
//! ```
//!
//! Deviations tolerated because deployed v1 producers write them (and other verifiers accept
//! them): property dates as GeneralizedTime instead of UTCTime, `timeInfo`/`dataHash` as
//! OCTET STRING instead of BIT STRING, and `certList` entries that are not certificates in
//! an OCTET STRING (an IA5String, say; see [`CertEntryV1`]). Each keeps its tag, so
//! re-encoding stays exact.
//! `timeInfo` is text inside the BIT STRING; see [`parse_time_info`] for the forms read.

use der::asn1::{Any, BitString, Ia5String, OctetString};
use der::{Decode, Encode, ErrorKind, Header, Length, Reader, Sequence, Tag, Writer};

use super::asn1::{
    Bounded, ExtensionDatas, PictureInfo, RawOid, SealTime, SesHeader, Signed, TimeKind,
    MAX_CERT_LIST,
};
use crate::time::UnixTime;

/// One `certList` entry of a v1 seal: a certificate in an OCTET STRING, as the standard
/// says, or whatever else a deployed producer wrote there (an IA5String has been seen), kept
/// with its tag so the maker-signed bytes re-encode exactly. Only [`CertEntryV1::Cert`]
/// entries can name a signer; the others are shown by `inspect` and make the
/// `signer_in_seal` check undecided when no certificate matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertEntryV1 {
    /// A certificate (DER) in an OCTET STRING.
    Cert(OctetString),
    /// Anything else, as received.
    Other(Any),
}

impl<'a> Decode<'a> for CertEntryV1 {
    fn decode<R: Reader<'a>>(reader: &mut R) -> der::Result<Self> {
        match reader.peek_tag()? {
            Tag::OctetString => Ok(CertEntryV1::Cert(reader.decode()?)),
            _ => Ok(CertEntryV1::Other(reader.decode()?)),
        }
    }
}

impl Encode for CertEntryV1 {
    fn encoded_len(&self) -> der::Result<Length> {
        match self {
            CertEntryV1::Cert(cert) => cert.encoded_len(),
            CertEntryV1::Other(other) => other.encoded_len(),
        }
    }

    fn encode(&self, writer: &mut impl Writer) -> der::Result<()> {
        match self {
            CertEntryV1::Cert(cert) => cert.encode(writer),
            CertEntryV1::Other(other) => other.encode(writer),
        }
    }
}

/// `SES_ESPropertyInfo` (v1): no certListType; the list should hold certificates.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct PropertyInfoV1 {
    /// Seal type.
    pub seal_type: i64,
    /// Seal name.
    pub name: String,
    /// Holder certificates (DER), or what a producer wrote instead.
    pub cert_list: Bounded<CertEntryV1, MAX_CERT_LIST>,
    /// When the seal was made.
    pub create_date: SealTime,
    /// Start of validity.
    pub valid_start: SealTime,
    /// End of validity.
    pub valid_end: SealTime,
}

/// `SES_SealInfo` (v1).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct SealInfoV1 {
    /// Header.
    pub header: SesHeader,
    /// Seal identifier.
    pub es_id: Ia5String,
    /// Properties.
    pub property: PropertyInfoV1,
    /// Picture.
    pub picture: PictureInfo,
    /// Extensions.
    #[asn1(optional = "true")]
    pub ext_datas: Option<ExtensionDatas>,
}

/// `SES_SignInfo` (v1). `cert` and `signature_algorithm` keep their received bytes because
/// the maker signed them too.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct SignInfoV1 {
    /// Maker certificate.
    pub cert: Signed<OctetString>,
    /// Signature algorithm.
    pub signature_algorithm: Signed<RawOid>,
    /// The maker's signature.
    pub sign_data: BitString,
}

/// `SESeal` (v1).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct SeSealV1 {
    /// The signed seal information.
    pub seal_info: Signed<SealInfoV1>,
    /// The maker's signature and certificate.
    pub sign_info: SignInfoV1,
}

impl SeSealV1 {
    /// The message the maker signed: DER(SEQUENCE { esealInfo, cert, signatureAlgorithm })
    /// assembled from the three parts' received bytes.
    pub fn signed_message(&self) -> der::Result<Vec<u8>> {
        let parts = [
            self.seal_info.der(),
            self.sign_info.cert.der(),
            self.sign_info.signature_algorithm.der(),
        ];
        let body_len = parts.iter().map(|p| p.len()).sum::<usize>();
        let mut out = Vec::with_capacity(body_len + 8);
        Header::new(Tag::Sequence, body_len)?.encode_to_vec(&mut out)?;
        for part in parts {
            out.extend_from_slice(part);
        }
        Ok(out)
    }
}

/// A BIT STRING (as the standard says) or an OCTET STRING (as some producers write), with
/// the tag kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BitsOrOctets {
    /// BIT STRING.
    Bits(BitString),
    /// OCTET STRING.
    Octets(OctetString),
}

impl BitsOrOctets {
    /// The bytes; `None` for a BIT STRING with unused bits.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            BitsOrOctets::Bits(bits) => bits.as_bytes(),
            BitsOrOctets::Octets(octets) => Some(octets.as_bytes()),
        }
    }
}

impl<'a> Decode<'a> for BitsOrOctets {
    fn decode<R: Reader<'a>>(reader: &mut R) -> der::Result<Self> {
        match reader.peek_tag()? {
            Tag::BitString => Ok(BitsOrOctets::Bits(reader.decode()?)),
            Tag::OctetString => Ok(BitsOrOctets::Octets(reader.decode()?)),
            actual => Err(reader.error(ErrorKind::TagUnexpected {
                expected: Some(Tag::BitString),
                actual,
            })),
        }
    }
}

impl Encode for BitsOrOctets {
    fn encoded_len(&self) -> der::Result<Length> {
        match self {
            BitsOrOctets::Bits(bits) => bits.encoded_len(),
            BitsOrOctets::Octets(octets) => octets.encoded_len(),
        }
    }

    fn encode(&self, writer: &mut impl Writer) -> der::Result<()> {
        match self {
            BitsOrOctets::Bits(bits) => bits.encode(writer),
            BitsOrOctets::Octets(octets) => octets.encode(writer),
        }
    }
}

/// `TBS_Sign` (v1).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct TbsSignV1 {
    /// Version (1 in practice).
    pub version: i64,
    /// The seal applied (bytes kept).
    pub eseal: Signed<SeSealV1>,
    /// Signing time, as text (see [`parse_time_info`]).
    pub time_info: BitsOrOctets,
    /// Hash of the document.
    pub data_hash: BitsOrOctets,
    /// Free text describing the document.
    pub property_info: Ia5String,
    /// Signer certificate.
    pub cert: OctetString,
    /// Signature algorithm.
    pub signature_algorithm: RawOid,
}

/// `SES_Signature` (v1).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct SesSignatureV1 {
    /// The signed part.
    pub to_sign: Signed<TbsSignV1>,
    /// Signature over DER(`TBS_Sign`).
    pub signature: BitString,
}

/// How a v1 `timeInfo` was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeInfoForm {
    /// UTCTime or GeneralizedTime text with `Z` (or a DER UTCTime/GeneralizedTime).
    Utc,
    /// `YYYY-MM-DD HH:MM:SS` without a zone (ofdrw and others): read as China Standard Time.
    ChinaLocal,
}

/// Reads a v1 `timeInfo`: UTCTime text `YYMMDDHHMMSSZ`, GeneralizedTime text, a DER-encoded
/// UTCTime/GeneralizedTime, or `YYYY-MM-DD HH:MM:SS` (zone-less, read as China Standard Time
/// because every producer seen writing it runs on China time). `None` for anything else,
/// including RFC 3161 time-stamp tokens, which huren does not read.
pub fn parse_time_info(bytes: &[u8]) -> Option<(UnixTime, TimeInfoForm)> {
    if let Ok(time) = SealTime::from_der(bytes) {
        return Some((time.at(), TimeInfoForm::Utc));
    }
    let text = std::str::from_utf8(bytes).ok()?;
    if let Some(time) = SealTime::parse(TimeKind::Utc, text)
        .or_else(|| SealTime::parse(TimeKind::Generalized, text))
    {
        return Some((time.at(), TimeInfoForm::Utc));
    }
    let b = text.as_bytes();
    let shape_ok = b.len() == 19
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b' '
        && b[13] == b':'
        && b[16] == b':';
    if !shape_ok {
        return None;
    }
    let compact: String = text.chars().filter(char::is_ascii_digit).collect();
    if compact.len() != 14 {
        return None;
    }
    let utc = SealTime::parse(TimeKind::Generalized, &format!("{compact}Z"))?;
    Some((utc.at().minus(8 * 3600), TimeInfoForm::ChinaLocal))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_info_forms() {
        assert_eq!(
            parse_time_info(b"200422020900Z"),
            Some((UnixTime(1_587_521_340), TimeInfoForm::Utc))
        );
        assert_eq!(
            parse_time_info(b"20200422020900Z"),
            Some((UnixTime(1_587_521_340), TimeInfoForm::Utc))
        );
        assert_eq!(
            parse_time_info(b"2020-04-22 10:09:00"),
            Some((UnixTime(1_587_521_340), TimeInfoForm::ChinaLocal))
        );
        let der = SealTime::parse(TimeKind::Utc, "200422020900Z")
            .unwrap()
            .to_der()
            .unwrap();
        assert_eq!(
            parse_time_info(&der),
            Some((UnixTime(1_587_521_340), TimeInfoForm::Utc))
        );
        for bad in [
            &b"2020-04-22T10:09:00"[..],
            b"",
            b"\x30\x00",
            b"2020-0a-22 10:09:00",
        ] {
            assert_eq!(parse_time_info(bad), None);
        }
    }
}
