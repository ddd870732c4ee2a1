//! A lenient X.509 reader for the certificates found inside seals.
//!
//! Seals carry certificates from real CAs, and some of those are not strict DER. This reader
//! tolerates exactly these deviations, and records each one it met ([`Deviation`]):
//!
//! - explicit default values: `version` written out as v1 (`[0] INTEGER 0`), extensions'
//!   `critical` written out as FALSE;
//! - version 1 and 2 certificates (the strict reader takes v3 only);
//! - UTF-8 text inside `PrintableString` / `IA5String` / `TeletexString` / `VisibleString`;
//! - an INTEGER serial number that is not minimally encoded or is negative (kept as bytes);
//! - a critical extension huren does not understand (nothing here acts on extensions).
//!
//! Everything else must be DER: lengths definite and minimal, the structure of RFC 5280
//! §4.1, no trailing bytes. It extracts subject and issuer (readable, RFC 4514 order), serial,
//! validity, the public key, and the TBS bytes and signature as received, so a signature over
//! such a certificate can be checked without re-encoding it. When the strict
//! [`Certificate`] reader accepts the bytes too, [`SealCertificate::strict`] gives that.
//!
//! It does not decide trust: nothing here checks chains, key usage or purposes.

use std::fmt::{self, Write as _};

use der::asn1::AnyRef;
use der::{Decode, Reader, SliceReader, Tag, TagNumber, Tagged};

use super::asn1::{RawOid, SealTime};
use crate::cert::{Certificate, MAX_CERT_BYTES};
use crate::key::{KeyError, PublicKey};
use crate::oids;
use crate::time::UnixTime;

/// Most relative distinguished names read from one Name.
const MAX_RDNS: usize = 32;
/// Most extensions read from one certificate.
const MAX_CERT_EXTENSIONS: usize = 64;

/// A departure from strict DER / RFC 5280 that the lenient reader accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Deviation {
    /// `version` written out with its default value v1.
    ExplicitDefaultVersion,
    /// An extension's `critical` written out as FALSE.
    ExplicitDefaultCritical,
    /// Not an X.509 v3 certificate.
    NotVersion3,
    /// Non-ASCII (UTF-8) text in a string type that only allows ASCII.
    Utf8InRestrictedString,
    /// The serial number is not a minimal, positive INTEGER.
    IrregularSerial,
    /// A critical extension huren does not understand.
    UnknownCriticalExtension,
}

/// Why a certificate could not be read even leniently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LenientCertError {
    /// Larger than [`MAX_CERT_BYTES`].
    #[error("certificate larger than {MAX_CERT_BYTES} bytes")]
    TooLarge,
    /// Not an X.509 certificate, even read leniently.
    #[error("not an X.509 certificate: {0}")]
    Malformed(String),
}

/// A certificate read leniently. Cheap enough to make per verification.
#[derive(Clone)]
pub struct SealCertificate {
    der: Vec<u8>,
    tbs: Vec<u8>,
    signature_algorithm: RawOid,
    signature_parameters: Option<Vec<u8>>,
    signature: Vec<u8>,
    version: u8,
    serial: Vec<u8>,
    subject: String,
    issuer: String,
    subject_der: Vec<u8>,
    issuer_der: Vec<u8>,
    not_before: UnixTime,
    not_after: UnixTime,
    spki_der: Vec<u8>,
    public_key: Result<PublicKey, KeyError>,
    deviations: Vec<Deviation>,
}

impl fmt::Debug for SealCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealCertificate")
            .field("subject", &self.subject)
            .field("serial", &self.serial_hex())
            .field("deviations", &self.deviations)
            .finish()
    }
}

fn malformed(what: &str) -> impl Fn(der::Error) -> LenientCertError + '_ {
    move |e| LenientCertError::Malformed(format!("{what}: {e}"))
}

/// Reads the next TLV: its tag, its content and the whole encoding.
fn next<'a>(reader: &mut SliceReader<'a>) -> der::Result<(Tag, &'a [u8], &'a [u8])> {
    let whole = reader.tlv_bytes()?;
    let any = AnyRef::from_der(whole)?;
    Ok((any.tag(), any.value(), whole))
}

fn expect<'a>(
    reader: &mut SliceReader<'a>,
    tag: Tag,
    what: &str,
) -> Result<(&'a [u8], &'a [u8]), LenientCertError> {
    let (found, value, whole) = next(reader).map_err(malformed(what))?;
    if found != tag {
        return Err(LenientCertError::Malformed(format!(
            "{what}: expected {tag}, found {found}"
        )));
    }
    Ok((value, whole))
}

fn finished(reader: &SliceReader<'_>, what: &str) -> Result<(), LenientCertError> {
    if reader.is_finished() {
        Ok(())
    } else {
        Err(LenientCertError::Malformed(format!(
            "{what}: unexpected trailing data"
        )))
    }
}

fn reader_for<'a>(bytes: &'a [u8], what: &str) -> Result<SliceReader<'a>, LenientCertError> {
    SliceReader::new(bytes).map_err(malformed(what))
}

impl SealCertificate {
    /// Reads a certificate leniently (see the module doc for what is tolerated).
    pub fn parse(der: &[u8]) -> Result<SealCertificate, LenientCertError> {
        if der.len() > MAX_CERT_BYTES {
            return Err(LenientCertError::TooLarge);
        }
        let mut deviations = Vec::new();
        let mut outer = reader_for(der, "certificate")?;
        let (content, _) = expect(&mut outer, Tag::Sequence, "certificate")?;
        finished(&outer, "certificate")?;

        let mut cert = reader_for(content, "certificate")?;
        let (tbs_content, tbs) = expect(&mut cert, Tag::Sequence, "tbsCertificate")?;
        let (alg_content, _) = expect(&mut cert, Tag::Sequence, "signatureAlgorithm")?;
        let (signature_bits, _) = expect(&mut cert, Tag::BitString, "signatureValue")?;
        finished(&cert, "certificate")?;
        let (signature_algorithm, signature_parameters) = algorithm_identifier(alg_content)?;
        let signature = match signature_bits.split_first() {
            Some((0, rest)) => rest.to_vec(),
            _ => {
                return Err(LenientCertError::Malformed(
                    "signatureValue has unused bits".into(),
                ))
            }
        };

        let mut fields = reader_for(tbs_content, "tbsCertificate")?;
        let mut version = 1u8;
        let version_tag = Tag::ContextSpecific {
            constructed: true,
            number: TagNumber::N0,
        };
        if fields.peek_tag().ok() == Some(version_tag) {
            let (explicit, _) = expect(&mut fields, version_tag, "version")?;
            let mut inner = reader_for(explicit, "version")?;
            let (number, _) = expect(&mut inner, Tag::Integer, "version")?;
            finished(&inner, "version")?;
            version = match number {
                [0] => {
                    deviations.push(Deviation::ExplicitDefaultVersion);
                    1
                }
                [1] => 2,
                [2] => 3,
                _ => return Err(LenientCertError::Malformed("unknown version".into())),
            };
        }
        if version != 3 {
            deviations.push(Deviation::NotVersion3);
        }
        let (serial, _) = expect(&mut fields, Tag::Integer, "serialNumber")?;
        let minimal_positive = match serial {
            [] => false,
            [first, ..] if first & 0x80 != 0 => false,
            [0, second, ..] => second & 0x80 != 0,
            _ => true,
        };
        if !minimal_positive {
            deviations.push(Deviation::IrregularSerial);
        }
        expect(&mut fields, Tag::Sequence, "signature")?;
        let (issuer_content, issuer_der) = expect(&mut fields, Tag::Sequence, "issuer")?;
        let (validity, _) = expect(&mut fields, Tag::Sequence, "validity")?;
        let (subject_content, subject_der) = expect(&mut fields, Tag::Sequence, "subject")?;
        let (_, spki_der) = expect(&mut fields, Tag::Sequence, "subjectPublicKeyInfo")?;

        let (not_before, not_after) = read_validity(validity)?;
        let issuer = read_name(issuer_content, &mut deviations)?;
        let subject = read_name(subject_content, &mut deviations)?;

        // Optional issuerUniqueID [1], subjectUniqueID [2], extensions [3], in that order.
        let mut last = 0u8;
        while !fields.is_finished() {
            let (tag, value, _) = next(&mut fields).map_err(malformed("tbsCertificate"))?;
            let number = match tag {
                Tag::ContextSpecific { number, .. } => number.value(),
                _ => 0,
            };
            if number <= last || number > 3 {
                return Err(LenientCertError::Malformed(format!(
                    "unexpected {tag} in tbsCertificate"
                )));
            }
            last = number;
            if number == 3 {
                read_extensions(value, &mut deviations)?;
            }
        }

        deviations.sort_by_key(|d| *d as u8);
        deviations.dedup();
        Ok(SealCertificate {
            der: der.to_vec(),
            tbs: tbs.to_vec(),
            signature_algorithm,
            signature_parameters,
            signature,
            version,
            serial: serial.to_vec(),
            subject,
            issuer,
            subject_der: subject_der.to_vec(),
            issuer_der: issuer_der.to_vec(),
            not_before,
            not_after,
            spki_der: spki_der.to_vec(),
            public_key: PublicKey::from_spki_der(spki_der),
            deviations,
        })
    }

    /// The DER as received.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The tbsCertificate bytes as received (what the issuer signed).
    pub fn tbs(&self) -> &[u8] {
        &self.tbs
    }

    /// The issuer's signature algorithm.
    pub fn signature_algorithm(&self) -> &RawOid {
        &self.signature_algorithm
    }

    /// The DER parameters of the issuer's signature algorithm, if any.
    pub fn signature_parameters(&self) -> Option<&[u8]> {
        self.signature_parameters.as_deref()
    }

    /// The issuer's signature.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// X.509 version (1, 2 or 3).
    pub fn version(&self) -> u8 {
        self.version
    }

    /// The serial number's INTEGER content bytes as in the certificate.
    pub fn serial(&self) -> &[u8] {
        &self.serial
    }

    /// The serial number, upper-case hex (as [`Certificate::serial_hex`]).
    pub fn serial_hex(&self) -> String {
        hex::encode_upper(&self.serial)
    }

    /// Subject, readable (RFC 4514 order).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Issuer, readable (RFC 4514 order).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// DER of the subject Name as received.
    pub fn subject_der(&self) -> &[u8] {
        &self.subject_der
    }

    /// DER of the issuer Name as received (what a CRL's issuer must equal).
    pub fn issuer_der(&self) -> &[u8] {
        &self.issuer_der
    }

    /// Start of validity.
    pub fn not_before(&self) -> UnixTime {
        self.not_before
    }

    /// End of validity.
    pub fn not_after(&self) -> UnixTime {
        self.not_after
    }

    /// Whether `at` lies within the validity period (both ends inclusive, RFC 5280).
    pub fn is_valid_at(&self, at: UnixTime) -> bool {
        self.not_before <= at && at <= self.not_after
    }

    /// The SubjectPublicKeyInfo DER as received.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The subject's key, or why huren cannot use it.
    pub fn public_key(&self) -> Result<&PublicKey, &KeyError> {
        self.public_key.as_ref()
    }

    /// The deviations from strict DER / RFC 5280 that were tolerated; empty for a clean
    /// certificate.
    pub fn deviations(&self) -> &[Deviation] {
        &self.deviations
    }

    /// The same bytes through the strict reader, when it accepts them.
    pub fn strict(&self) -> Option<Certificate> {
        Certificate::from_der(&self.der).ok()
    }
}

fn algorithm_identifier(content: &[u8]) -> Result<(RawOid, Option<Vec<u8>>), LenientCertError> {
    let mut reader = reader_for(content, "AlgorithmIdentifier")?;
    let (_, oid_tlv) = expect(&mut reader, Tag::ObjectIdentifier, "algorithm")?;
    let oid = RawOid::from_der(oid_tlv).map_err(malformed("algorithm"))?;
    let parameters = if reader.is_finished() {
        None
    } else {
        let (_, _, whole) = next(&mut reader).map_err(malformed("parameters"))?;
        Some(whole.to_vec())
    };
    finished(&reader, "AlgorithmIdentifier")?;
    Ok((oid, parameters))
}

fn read_validity(content: &[u8]) -> Result<(UnixTime, UnixTime), LenientCertError> {
    let mut reader = reader_for(content, "validity")?;
    let mut time = |what: &str| -> Result<UnixTime, LenientCertError> {
        let (_, _, whole) = next(&mut reader).map_err(malformed(what))?;
        let time = SealTime::from_der(whole).map_err(malformed(what))?;
        Ok(time.at())
    };
    let not_before = time("notBefore")?;
    let not_after = time("notAfter")?;
    finished(&reader, "validity")?;
    Ok((not_before, not_after))
}

fn read_extensions(
    explicit: &[u8],
    deviations: &mut Vec<Deviation>,
) -> Result<(), LenientCertError> {
    let mut outer = reader_for(explicit, "extensions")?;
    let (list, _) = expect(&mut outer, Tag::Sequence, "extensions")?;
    finished(&outer, "extensions")?;
    let mut reader = reader_for(list, "extensions")?;
    let mut count = 0;
    while !reader.is_finished() {
        count += 1;
        if count > MAX_CERT_EXTENSIONS {
            return Err(LenientCertError::Malformed("too many extensions".into()));
        }
        let (extension, _) = expect(&mut reader, Tag::Sequence, "extension")?;
        let mut fields = reader_for(extension, "extension")?;
        let (oid, _) = expect(&mut fields, Tag::ObjectIdentifier, "extnID")?;
        let mut critical = false;
        if fields.peek_tag().ok() == Some(Tag::Boolean) {
            let (value, _) = expect(&mut fields, Tag::Boolean, "critical")?;
            match value {
                [0x00] => deviations.push(Deviation::ExplicitDefaultCritical),
                // Any non-zero octet is TRUE in BER; DER says 0xFF, but the meaning is clear.
                [_] => critical = true,
                _ => {
                    return Err(LenientCertError::Malformed(
                        "critical is not a BOOLEAN".into(),
                    ))
                }
            }
        }
        expect(&mut fields, Tag::OctetString, "extnValue")?;
        finished(&fields, "extension")?;
        if critical && !understood_critical(oid) {
            deviations.push(Deviation::UnknownCriticalExtension);
        }
    }
    Ok(())
}

/// The critical extensions the strict reader understands.
fn understood_critical(oid_content: &[u8]) -> bool {
    const UNDERSTOOD: [&[u8]; 5] = [
        &[0x55, 0x1d, 0x13], // basicConstraints
        &[0x55, 0x1d, 0x0f], // keyUsage
        &[0x55, 0x1d, 0x25], // extKeyUsage
        &[0x55, 0x1d, 0x0e], // subjectKeyIdentifier
        &[0x55, 0x1d, 0x23], // authorityKeyIdentifier
    ];
    UNDERSTOOD.contains(&oid_content)
}

/// `Name ::= SEQUENCE OF RelativeDistinguishedName`, shown as RFC 4514 does it (last RDN
/// first, `+` inside a multi-valued RDN) with the attribute names x509-cert uses, so clean
/// names read the same as through the strict reader.
fn read_name(content: &[u8], deviations: &mut Vec<Deviation>) -> Result<String, LenientCertError> {
    let mut reader = reader_for(content, "Name")?;
    let mut rdns = Vec::new();
    while !reader.is_finished() {
        if rdns.len() == MAX_RDNS {
            return Err(LenientCertError::Malformed(
                "too many name components".into(),
            ));
        }
        let (set, _) = expect(&mut reader, Tag::Set, "RelativeDistinguishedName")?;
        let mut members = reader_for(set, "RelativeDistinguishedName")?;
        let mut parts = Vec::new();
        while !members.is_finished() {
            if parts.len() == MAX_RDNS {
                return Err(LenientCertError::Malformed(
                    "too many name components".into(),
                ));
            }
            let (pair, _) = expect(&mut members, Tag::Sequence, "AttributeTypeAndValue")?;
            let mut fields = reader_for(pair, "AttributeTypeAndValue")?;
            let (oid, _) = expect(&mut fields, Tag::ObjectIdentifier, "attribute type")?;
            let (tag, value, whole) = next(&mut fields).map_err(malformed("attribute value"))?;
            finished(&fields, "AttributeTypeAndValue")?;
            parts.push(attribute(oid, tag, value, whole, deviations));
        }
        rdns.push(parts.join("+"));
    }
    rdns.reverse();
    Ok(rdns.join(","))
}

fn attribute(
    oid: &[u8],
    tag: Tag,
    value: &[u8],
    whole: &[u8],
    deviations: &mut Vec<Deviation>,
) -> String {
    let key = attribute_name(oid)
        .map(str::to_owned)
        .or_else(|| oids::decode_oid_content(oid))
        .unwrap_or_else(|| "?".into());
    match string_value(tag, value, deviations) {
        Some(text) => format!("{key}={}", escape(&text)),
        None => {
            let hex = whole.iter().fold(String::new(), |mut out, b| {
                let _ = write!(out, "{b:02x}");
                out
            });
            format!("{key}=#{hex}")
        }
    }
}

/// Short names as x509-cert prints them (its OID database's shortest name, upper-cased).
fn attribute_name(oid: &[u8]) -> Option<&'static str> {
    const NAMES: [(&[u8], &str); 16] = [
        (&[0x55, 0x04, 0x03], "CN"),
        (&[0x55, 0x04, 0x04], "SN"),
        (&[0x55, 0x04, 0x05], "SERIALNUMBER"),
        (&[0x55, 0x04, 0x06], "C"),
        (&[0x55, 0x04, 0x07], "L"),
        (&[0x55, 0x04, 0x08], "ST"),
        (&[0x55, 0x04, 0x09], "STREET"),
        (&[0x55, 0x04, 0x0a], "O"),
        (&[0x55, 0x04, 0x0b], "OU"),
        (&[0x55, 0x04, 0x0c], "TITLE"),
        (&[0x55, 0x04, 0x2a], "GIVENNAME"),
        (&[0x55, 0x04, 0x2b], "INITIALS"),
        (&[0x55, 0x04, 0x61], "ORGANIZATIONIDENTIFIER"),
        (
            &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01],
            "EMAILADDRESS",
        ),
        (
            &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19],
            "DC",
        ),
        (
            &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01],
            "UID",
        ),
    ];
    NAMES
        .iter()
        .find(|(content, _)| *content == oid)
        .map(|(_, name)| *name)
}

fn string_value(tag: Tag, value: &[u8], deviations: &mut Vec<Deviation>) -> Option<String> {
    match tag {
        Tag::Utf8String => Some(String::from_utf8_lossy(value).into_owned()),
        Tag::PrintableString | Tag::Ia5String | Tag::TeletexString | Tag::VisibleString => {
            if value.is_ascii() {
                Some(String::from_utf8_lossy(value).into_owned())
            } else {
                deviations.push(Deviation::Utf8InRestrictedString);
                Some(match std::str::from_utf8(value) {
                    Ok(text) => text.to_owned(),
                    // Not UTF-8 either: show the bytes as Latin-1 so nothing is lost silently.
                    Err(_) => value.iter().map(|&b| char::from(b)).collect(),
                })
            }
        }
        Tag::BmpString => {
            if value.len() % 2 != 0 {
                return None;
            }
            let units = value
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]));
            Some(
                char::decode_utf16(units)
                    .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                    .collect(),
            )
        }
        _ => None,
    }
}

/// RFC 4514 §2.4 escaping, as x509-cert does it.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || chars.peek().is_none() => out.push_str("\\ "),
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\x00'..='\x1f' | '\x7f' => {
                let _ = write!(out, "\\{:02x}", c as u32);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_refused_without_panicking() {
        for bytes in [&b""[..], b"\x30\x00", b"\x30\x03\x02\x01\x01", b"\x04\x00"] {
            assert!(SealCertificate::parse(bytes).is_err());
        }
        assert_eq!(
            SealCertificate::parse(&vec![0u8; MAX_CERT_BYTES + 1]).unwrap_err(),
            LenientCertError::TooLarge
        );
    }

    #[test]
    fn names_escape_like_rfc4514() {
        assert_eq!(escape("a,b"), "a\\,b");
        assert_eq!(escape(" x "), "\\ x\\ ");
        assert_eq!(escape("#x"), "\\#x");
        assert_eq!(escape("税务"), "税务");
    }
}
