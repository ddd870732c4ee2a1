//! The GB/T 38540-2020 (v4) wire structures, exactly as the standard tags them, and the
//! primitives the v1 structures share with them.
//!
//! Owns DER decoding and encoding only: no signature checks, no policy. Every signed part is
//! held as [`Signed`], which keeps the bytes as received next to the decoded value, so
//! signatures are always checked over what the signer signed and a decoded structure
//! re-encodes byte for byte. Every `SEQUENCE OF` is bounded ([`Bounded`]); the types are not
//! recursive, so nesting depth is fixed by the type structure itself.
//!
//! ```asn1
//! SESeal ::= SEQUENCE { eSealInfo SES_SealInfo, cert OCTET STRING,
//!                       signAlgID OBJECT IDENTIFIER, signedValue BIT STRING }
//! SES_SealInfo ::= SEQUENCE { header SES_Header, esID IA5String,
//!                             property SES_ESPropertyInfo, picture SES_ESPictrueInfo,
//!                             extDatas ExtensionDatas OPTIONAL }
//! SES_Header ::= SEQUENCE { ID IA5String, version INTEGER, Vid IA5String }
//! SES_ESPropertyInfo ::= SEQUENCE { type INTEGER, name UTF8String, certListType INTEGER,
//!                                   certList SES_CertList, createDate GeneralizedTime,
//!                                   validStart GeneralizedTime, validEnd GeneralizedTime }
//! SES_CertList ::= CHOICE { certs SEQUENCE OF OCTET STRING,            -- certListType 1
//!                           certDigestList SEQUENCE OF CertDigestObj } -- certListType 2
//! CertDigestObj ::= SEQUENCE { type PrintableString, value OCTET STRING }
//! SES_ESPictrueInfo ::= SEQUENCE { type IA5String, data OCTET STRING,
//!                                  width INTEGER, height INTEGER }
//! ExtensionDatas ::= SEQUENCE OF ExtData
//! ExtData ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE,
//!                        extnValue OCTET STRING }
//! SES_Signature ::= SEQUENCE { toSign TBS_Sign, cert OCTET STRING,
//!                              signatureAlgID OBJECT IDENTIFIER, signature BIT STRING,
//!                              timeStamp [0] EXPLICIT BIT STRING OPTIONAL }
//! TBS_Sign ::= SEQUENCE { version INTEGER, eseal SESeal, timeInfo GeneralizedTime,
//!                         dataHash BIT STRING, propertyInfo IA5String,
//!                         extDatas [0] EXPLICIT ExtensionDatas OPTIONAL }
//! ```
//!
//! Both `SES_CertList` alternatives carry the universal SEQUENCE tag, so the CHOICE cannot be
//! told apart by tag: `certListType` decides, which is why [`PropertyInfo`] is decoded by hand.

use std::fmt;

use der::asn1::{BitString, Ia5String, OctetString, PrintableString};
use der::{
    Decode, DecodeValue, Encode, EncodeValue, ErrorKind, FixedTag, Header, Length, Reader,
    Sequence, Tag, Writer,
};
use time::{Date, Month, PrimitiveDateTime, Time};

use crate::oids;
use crate::time::UnixTime;

/// Most certificates (or certificate digests) a seal's certList may hold.
pub const MAX_CERT_LIST: usize = 16;
/// Most extensions an `ExtensionDatas` may hold.
pub const MAX_EXTENSIONS: usize = 16;
/// Longest OBJECT IDENTIFIER accepted, in content octets (the project arc needs about 20).
pub const MAX_OID_BYTES: usize = 64;

/// A signed part: the decoded value together with its DER bytes exactly as received.
///
/// Encoding writes the kept bytes back verbatim, so a decoded structure re-encodes byte for
/// byte and a signature is never checked over a re-encoding.
#[derive(Clone, PartialEq, Eq)]
pub struct Signed<T> {
    value: T,
    der: Vec<u8>,
}

impl<T: fmt::Debug> fmt::Debug for Signed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signed")
            .field("value", &self.value)
            .field("der_len", &self.der.len())
            .finish()
    }
}

impl<T: Encode> Signed<T> {
    /// Encodes `value` once; the result is what will be signed and transmitted.
    pub fn new(value: T) -> der::Result<Self> {
        let der = value.to_der()?;
        Ok(Signed { value, der })
    }
}

impl<T> Signed<T> {
    /// The decoded value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The DER bytes as received (or as first encoded).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The value and the bytes.
    pub fn into_parts(self) -> (T, Vec<u8>) {
        (self.value, self.der)
    }
}

impl<'a, T> Decode<'a> for Signed<T>
where
    T: for<'b> Decode<'b>,
{
    fn decode<R: Reader<'a>>(reader: &mut R) -> der::Result<Self> {
        let bytes = reader.tlv_bytes()?;
        let value = T::from_der(bytes)?;
        Ok(Signed {
            value,
            der: bytes.to_vec(),
        })
    }
}

impl<T> Encode for Signed<T> {
    fn encoded_len(&self) -> der::Result<Length> {
        Length::try_from(self.der.len())
    }

    fn encode(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write(&self.der)
    }
}

/// `SEQUENCE OF T` with at most `N` elements; more is a decoding error, so a hostile list
/// cannot make a verifier loop over millions of entries.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Bounded<T, const N: usize>(Vec<T>);

impl<T, const N: usize> Bounded<T, N> {
    /// Wraps `items`; `None` when there are more than `N`.
    pub fn new(items: Vec<T>) -> Option<Self> {
        (items.len() <= N).then_some(Bounded(items))
    }

    /// The elements.
    pub fn items(&self) -> &[T] {
        &self.0
    }
}

impl<T, const N: usize> FixedTag for Bounded<T, N> {
    const TAG: Tag = Tag::Sequence;
}

impl<'a, T: Decode<'a>, const N: usize> DecodeValue<'a> for Bounded<T, N> {
    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        reader.read_nested(header.length, |reader| {
            let mut items = Vec::new();
            while !reader.is_finished() {
                if items.len() == N {
                    return Err(reader.error(ErrorKind::Overlength));
                }
                items.push(T::decode(reader)?);
            }
            Ok(Bounded(items))
        })
    }
}

impl<T: Encode, const N: usize> EncodeValue for Bounded<T, N> {
    fn value_len(&self) -> der::Result<Length> {
        self.0
            .iter()
            .try_fold(Length::ZERO, |len, item| len + item.encoded_len()?)
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        self.0.iter().try_for_each(|item| item.encode(writer))
    }
}

/// An OBJECT IDENTIFIER kept as its content octets.
///
/// The project arc (`2.25.<128-bit integer>`) is wider than `der`'s `ObjectIdentifier` can
/// hold, and extension OIDs must decode whatever arcs they use, so OIDs are compared as
/// validated content octets instead.
///
/// The `Default` value has no content octets; it never equals a decoded OID.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct RawOid(Vec<u8>);

impl RawOid {
    /// From dotted form; `None` if malformed or longer than [`MAX_OID_BYTES`].
    pub fn from_dotted(dotted: &str) -> Option<RawOid> {
        oids::encode_oid_content(dotted)
            .filter(|c| c.len() <= MAX_OID_BYTES)
            .map(RawOid)
    }

    /// From a `der` OID constant.
    pub fn from_oid(oid: &der::asn1::ObjectIdentifier) -> RawOid {
        RawOid(oid.as_bytes().to_vec())
    }

    /// The content octets.
    pub fn content(&self) -> &[u8] {
        &self.0
    }

    /// Whether this is `oid`.
    pub fn is(&self, oid: &der::asn1::ObjectIdentifier) -> bool {
        self.0 == oid.as_bytes()
    }

    /// As a `der` OID, when its arcs fit.
    pub fn to_oid(&self) -> Option<der::asn1::ObjectIdentifier> {
        der::asn1::ObjectIdentifier::from_bytes(&self.0).ok()
    }
}

impl fmt::Display for RawOid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // invariant: decoding and `from_dotted` only ever accept content that decodes.
        f.write_str(&oids::decode_oid_content(&self.0).unwrap_or_else(|| "?".into()))
    }
}

impl fmt::Debug for RawOid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawOid({self})")
    }
}

impl FixedTag for RawOid {
    const TAG: Tag = Tag::ObjectIdentifier;
}

impl<'a> DecodeValue<'a> for RawOid {
    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        let len = usize::try_from(header.length)?;
        if len > MAX_OID_BYTES {
            return Err(reader.error(ErrorKind::Overlength));
        }
        let content = reader.read_slice(header.length)?;
        if oids::decode_oid_content(content).is_none() {
            return Err(reader.error(ErrorKind::OidMalformed));
        }
        Ok(RawOid(content.to_vec()))
    }
}

impl EncodeValue for RawOid {
    fn value_len(&self) -> der::Result<Length> {
        Length::try_from(self.0.len())
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write(&self.0)
    }
}

/// Which ASN.1 time type a [`SealTime`] was written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeKind {
    /// `GeneralizedTime` (v4 and what huren writes).
    Generalized,
    /// `UTCTime` (GM/T 0031 v1).
    Utc,
}

/// A GeneralizedTime or UTCTime, with its text kept so it re-encodes exactly.
///
/// Accepted forms: `YYYYMMDDHHMMSSZ`, the same with a fraction of a second (`.123Z`, read to
/// the whole second, as some seal makers write milliseconds), and UTCTime `YYMMDDHHMMSSZ`
/// (years 50–99 are 19xx, RFC 5280). Times without `Z` (local time of unknown zone) are
/// refused: a validity window of unknown zone cannot be judged.
#[derive(Clone, PartialEq, Eq)]
pub struct SealTime {
    kind: TimeKind,
    text: String,
    at: UnixTime,
}

impl fmt::Debug for SealTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealTime({:?} {})", self.kind, self.text)
    }
}

impl SealTime {
    /// A GeneralizedTime `YYYYMMDDHHMMSSZ`; `None` outside years 0000–9999.
    pub fn generalized(at: UnixTime) -> Option<SealTime> {
        let datetime = time::OffsetDateTime::from_unix_timestamp(at.seconds()).ok()?;
        if !(0..=9999).contains(&datetime.year()) {
            return None;
        }
        let text = format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}Z",
            datetime.year(),
            u8::from(datetime.month()),
            datetime.day(),
            datetime.hour(),
            datetime.minute(),
            datetime.second()
        );
        Some(SealTime {
            kind: TimeKind::Generalized,
            text,
            at,
        })
    }

    /// Parses the text of a time of `kind`.
    pub fn parse(kind: TimeKind, text: &str) -> Option<SealTime> {
        // The parsers below slice by byte position; a multi-byte character of the same byte
        // length would land a slice inside it (a panic on hostile input). Times are ASCII.
        if !text.is_ascii() {
            return None;
        }
        let at = match kind {
            TimeKind::Generalized => parse_generalized(text)?,
            TimeKind::Utc => parse_utc(text)?,
        };
        Some(SealTime {
            kind,
            text: text.to_owned(),
            at,
        })
    }

    /// The instant.
    pub fn at(&self) -> UnixTime {
        self.at
    }

    /// The ASN.1 type it was written as.
    pub fn kind(&self) -> TimeKind {
        self.kind
    }

    /// The text as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    fn tag(&self) -> Tag {
        match self.kind {
            TimeKind::Generalized => Tag::GeneralizedTime,
            TimeKind::Utc => Tag::UtcTime,
        }
    }
}

impl<'a> Decode<'a> for SealTime {
    fn decode<R: Reader<'a>>(reader: &mut R) -> der::Result<Self> {
        let header = Header::decode(reader)?;
        let kind = match header.tag {
            Tag::GeneralizedTime => TimeKind::Generalized,
            Tag::UtcTime => TimeKind::Utc,
            tag => {
                return Err(reader.error(ErrorKind::TagUnexpected {
                    expected: Some(Tag::GeneralizedTime),
                    actual: tag,
                }))
            }
        };
        if usize::try_from(header.length)? > 32 {
            return Err(reader.error(ErrorKind::Overlength));
        }
        let bytes = reader.read_slice(header.length)?;
        std::str::from_utf8(bytes)
            .ok()
            .and_then(|text| SealTime::parse(kind, text))
            .ok_or_else(|| reader.error(ErrorKind::DateTime))
    }
}

impl Encode for SealTime {
    fn encoded_len(&self) -> der::Result<Length> {
        let len = Length::try_from(self.text.len())?;
        len.for_tlv()
    }

    fn encode(&self, writer: &mut impl Writer) -> der::Result<()> {
        Header::new(self.tag(), self.text.len())?.encode(writer)?;
        writer.write(self.text.as_bytes())
    }
}

fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn civil_to_unix(year: i32, month: u32, day: u32, hms: (u32, u32, u32)) -> Option<UnixTime> {
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()?;
    let time = Time::from_hms(
        u8::try_from(hms.0).ok()?,
        u8::try_from(hms.1).ok()?,
        u8::try_from(hms.2).ok()?,
    )
    .ok()?;
    Some(UnixTime(
        PrimitiveDateTime::new(date, time)
            .assume_utc()
            .unix_timestamp(),
    ))
}

fn parse_generalized(text: &str) -> Option<UnixTime> {
    let body = text.strip_suffix('Z')?;
    let (whole, fraction) = match body.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (body, None),
    };
    if let Some(fraction) = fraction {
        if fraction.is_empty() || fraction.len() > 9 || digits(fraction).is_none() {
            return None;
        }
    }
    if whole.len() != 14 {
        return None;
    }
    let year = i32::try_from(digits(&whole[0..4])?).ok()?;
    civil_to_unix(
        year,
        digits(&whole[4..6])?,
        digits(&whole[6..8])?,
        (
            digits(&whole[8..10])?,
            digits(&whole[10..12])?,
            digits(&whole[12..14])?,
        ),
    )
}

fn parse_utc(text: &str) -> Option<UnixTime> {
    let body = text.strip_suffix('Z')?;
    if body.len() != 12 {
        return None;
    }
    let yy = i32::try_from(digits(&body[0..2])?).ok()?;
    let year = if yy >= 50 { 1900 + yy } else { 2000 + yy };
    civil_to_unix(
        year,
        digits(&body[2..4])?,
        digits(&body[4..6])?,
        (
            digits(&body[6..8])?,
            digits(&body[8..10])?,
            digits(&body[10..12])?,
        ),
    )
}

/// `ExtData ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE,
/// extnValue OCTET STRING }`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct ExtData {
    /// Extension identifier.
    pub extn_id: RawOid,
    /// Whether a verifier that does not understand it must refuse the seal.
    #[asn1(default = "Default::default")]
    pub critical: bool,
    /// DER of the extension value.
    pub extn_value: OctetString,
}

/// `ExtensionDatas ::= SEQUENCE OF ExtData`, bounded.
pub type ExtensionDatas = Bounded<ExtData, MAX_EXTENSIONS>;

/// `SES_Header ::= SEQUENCE { ID IA5String, version INTEGER, Vid IA5String }`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct SesHeader {
    /// Always `"ES"`.
    pub id: Ia5String,
    /// 4 for GB/T 38540 (v4).
    pub version: i64,
    /// Manufacturer (vendor) identifier.
    pub vid: Ia5String,
}

/// `CertDigestObj ::= SEQUENCE { type PrintableString, value OCTET STRING }`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct CertDigestObj {
    /// The digest algorithm, as the maker names it (e.g. `SM3`, `SHA256` or a dotted OID).
    pub kind: PrintableString,
    /// The digest of the holder certificate's DER.
    pub value: OctetString,
}

/// `SES_CertList`, told apart by `certListType`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertList {
    /// certListType 1: holder certificates (DER).
    Certs(Bounded<OctetString, MAX_CERT_LIST>),
    /// certListType 2: digests of holder certificates.
    Digests(Bounded<CertDigestObj, MAX_CERT_LIST>),
}

impl CertList {
    /// The `certListType` value for this alternative.
    pub fn list_type(&self) -> i64 {
        match self {
            CertList::Certs(_) => 1,
            CertList::Digests(_) => 2,
        }
    }
}

/// `SES_ESPropertyInfo` (v4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PropertyInfo {
    /// Seal type (印章类型).
    pub seal_type: i64,
    /// Seal name (印章名称).
    pub name: String,
    /// Holder certificates or their digests (`certListType` follows from the variant).
    pub cert_list: CertList,
    /// When the seal was made.
    pub create_date: SealTime,
    /// Start of validity.
    pub valid_start: SealTime,
    /// End of validity.
    pub valid_end: SealTime,
}

impl FixedTag for PropertyInfo {
    const TAG: Tag = Tag::Sequence;
}

impl<'a> DecodeValue<'a> for PropertyInfo {
    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        reader.read_nested(header.length, |reader| {
            let seal_type = i64::decode(reader)?;
            let name = String::decode(reader)?;
            let cert_list = match i64::decode(reader)? {
                1 => CertList::Certs(reader.decode()?),
                2 => CertList::Digests(reader.decode()?),
                _ => return Err(reader.error(ErrorKind::Value { tag: Tag::Integer })),
            };
            Ok(PropertyInfo {
                seal_type,
                name,
                cert_list,
                create_date: reader.decode()?,
                valid_start: reader.decode()?,
                valid_end: reader.decode()?,
            })
        })
    }
}

impl EncodeValue for PropertyInfo {
    fn value_len(&self) -> der::Result<Length> {
        let list = match &self.cert_list {
            CertList::Certs(certs) => certs.encoded_len()?,
            CertList::Digests(digests) => digests.encoded_len()?,
        };
        [
            self.seal_type.encoded_len()?,
            self.name.encoded_len()?,
            self.cert_list.list_type().encoded_len()?,
            list,
            self.create_date.encoded_len()?,
            self.valid_start.encoded_len()?,
            self.valid_end.encoded_len()?,
        ]
        .into_iter()
        .try_fold(Length::ZERO, |sum, len| sum + len)
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        self.seal_type.encode(writer)?;
        self.name.encode(writer)?;
        self.cert_list.list_type().encode(writer)?;
        match &self.cert_list {
            CertList::Certs(certs) => certs.encode(writer)?,
            CertList::Digests(digests) => digests.encode(writer)?,
        }
        self.create_date.encode(writer)?;
        self.valid_start.encode(writer)?;
        self.valid_end.encode(writer)
    }
}

/// `SES_ESPictrueInfo ::= SEQUENCE { type IA5String, data OCTET STRING, width INTEGER,
/// height INTEGER }` (the standard's spelling of "Picture"; sizes in millimetres).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct PictureInfo {
    /// Image type, e.g. `PNG`, `SVG`, `GIF`, `JPG`, or `OFD` as some makers write.
    pub kind: Ia5String,
    /// The image bytes.
    pub data: OctetString,
    /// Width in millimetres.
    pub width: i64,
    /// Height in millimetres.
    pub height: i64,
}

/// `SES_SealInfo` (v4).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct SealInfo {
    /// Header.
    pub header: SesHeader,
    /// Seal identifier (电子印章编码).
    pub es_id: Ia5String,
    /// Properties.
    pub property: PropertyInfo,
    /// Picture.
    pub picture: PictureInfo,
    /// Extensions.
    #[asn1(optional = "true")]
    pub ext_datas: Option<ExtensionDatas>,
}

/// `SESeal` (v4): the maker's signature is over the [`Signed`] bytes of `seal_info`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct SeSeal {
    /// The signed seal information.
    pub seal_info: Signed<SealInfo>,
    /// Maker certificate (DER).
    pub cert: OctetString,
    /// Signature algorithm.
    pub sign_alg_id: RawOid,
    /// Maker's signature over DER(`SES_SealInfo`).
    pub signed_value: BitString,
}

/// `TBS_Sign` (v4).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct TbsSign {
    /// 4.
    pub version: i64,
    /// The seal applied (its bytes kept, so the embedded seal can be taken out as received).
    pub eseal: Signed<SeSeal>,
    /// Signing time as claimed by the signer.
    pub time_info: SealTime,
    /// Hash of the document (SM3 or SHA-256).
    pub data_hash: BitString,
    /// Free text describing the document (OFD: the path of `Signature.xml`).
    pub property_info: Ia5String,
    /// Extensions.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub ext_datas: Option<ExtensionDatas>,
}

/// `SES_Signature` (v4): the signer's signature is over the [`Signed`] bytes of `to_sign`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct SesSignature {
    /// The signed part.
    pub to_sign: Signed<TbsSign>,
    /// Signer certificate (DER).
    pub cert: OctetString,
    /// Signature algorithm.
    pub signature_alg_id: RawOid,
    /// Signature over DER(`TBS_Sign`).
    pub signature: BitString,
    /// RFC 3161 time-stamp over the signature, if any.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub time_stamp: Option<BitString>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_and_reencode_exactly() {
        for (kind, text, seconds) in [
            (TimeKind::Generalized, "20200422020900Z", 1_587_521_340),
            (TimeKind::Generalized, "20200422020900.25Z", 1_587_521_340),
            (TimeKind::Utc, "200422020900Z", 1_587_521_340),
            (TimeKind::Utc, "990101000000Z", 915_148_800),
        ] {
            let t = SealTime::parse(kind, text).unwrap();
            assert_eq!(t.at(), UnixTime(seconds), "{text}");
            let der = t.to_der().unwrap();
            assert_eq!(SealTime::from_der(&der).unwrap(), t);
        }
        for bad in [
            "20200422020900",
            "2020042202090Z",
            "20201322020900Z",
            "20200230020900Z",
            "20200422250900Z",
            "20200422020900.Z",
            "+0200422020900Z",
            "20200422020900+0800",
            // Multi-byte characters of the right byte length (a panic before the ASCII check).
            "202é042202090Z",
            "2020042202é00Z",
        ] {
            assert!(
                SealTime::parse(TimeKind::Generalized, bad).is_none(),
                "{bad}"
            );
        }
        for bad in ["2é0422020900Z", "20042202090éZ"] {
            assert!(SealTime::parse(TimeKind::Utc, bad).is_none(), "{bad}");
        }
        let t = SealTime::generalized(UnixTime(1_587_521_340)).unwrap();
        assert_eq!(t.text(), "20200422020900Z");
        assert!(SealTime::generalized(UnixTime(i64::MAX)).is_none());
    }

    #[test]
    fn bounded_lists_refuse_one_too_many() {
        let ok: Bounded<i64, 2> = Bounded::new(vec![1, 2]).unwrap();
        let der = ok.to_der().unwrap();
        assert_eq!(Bounded::<i64, 2>::from_der(&der).unwrap(), ok);
        assert!(Bounded::<i64, 1>::from_der(&der).is_err());
        assert!(Bounded::<i64, 1>::new(vec![1, 2]).is_none());
    }

    #[test]
    fn oids_of_any_arc_size_round_trip() {
        let oid = RawOid::from_dotted(crate::oids::SEAL_EXT_STATUS).unwrap();
        let der = oid.to_der().unwrap();
        let back = RawOid::from_der(&der).unwrap();
        assert_eq!(back.to_string(), crate::oids::SEAL_EXT_STATUS);
        assert!(back.to_oid().is_none());
        assert!(RawOid::from_der(&[0x06, 0x02, 0x80, 0x01]).is_err());
        assert!(RawOid::from_der(&[0x06, 0x01, 0x81]).is_err());
        assert!(RawOid::from_oid(&crate::oids::SM2_WITH_SM3).is(&crate::oids::SM2_WITH_SM3));
    }

    #[test]
    fn signed_parts_keep_their_bytes() {
        let header = SesHeader {
            id: Ia5String::new("ES").unwrap(),
            version: 4,
            vid: Ia5String::new("huren").unwrap(),
        };
        let signed = Signed::new(header.clone()).unwrap();
        let der = signed.to_der().unwrap();
        assert_eq!(der, header.to_der().unwrap());
        let back = Signed::<SesHeader>::from_der(&der).unwrap();
        assert_eq!(back.value(), &header);
        assert_eq!(back.der(), der.as_slice());
    }
}
