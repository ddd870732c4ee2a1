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
//!
//! This module holds what both kinds share: the size bounds, the errors, the version sniffing
//! and the field checks. `seal` decodes an `SESeal` (alone, or the one a signature embeds),
//! `signature` an `SES_Signature`.

mod seal;
mod signature;

use der::asn1::{AnyRef, BitString};
use der::{Decode, Reader, SliceReader, Tag, Tagged};
use serde::Serialize;

use super::asn1::ExtData;

pub use seal::{CertDigest, HolderCerts, NonCertEntry, Seal};
pub use signature::{SealSignature, SigningTime};

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
