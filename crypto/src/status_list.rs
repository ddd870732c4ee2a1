//! Token Status List (IETF draft-ietf-oauth-status-list): the packed status byte array, its
//! `lst` text form and the JSON claim shapes that carry it.
//!
//! This module owns:
//!
//! * the bit packing of §4.1 of the draft: `bits` ∈ {1, 2, 4, 8} per entry, entry `i` at bit
//!   offset `(i * bits) % 8` of byte `(i * bits) / 8`, counted from the least significant bit;
//! * the `lst` encoding: `base64url-no-pad(zlib(bytes))` (§4.2), written at the best compression
//!   level and read back with hard limits;
//! * the status values of §7 (`0` valid, `1` invalid — which huren calls *revoked* — `2`
//!   suspended, everything else application specific);
//! * the serde shapes of the status-list token's `status_list` claim and of a referenced
//!   token's `status` claim.
//!
//! It must not do I/O, read a clock, or sign or verify anything: wrapping a list in a
//! `statuslist+jwt`, checking its signer, `iat`/`exp`/`ttl`, and fetching it over HTTP all happen
//! elsewhere. Everything here is a pure function of its inputs.
//!
//! Every `lst` is treated as hostile. Decoding
//!
//! 1. rejects an unsupported `bits` before touching the text,
//! 2. rejects text longer than [`MAX_LST_CHARS`] before base64-decoding it,
//! 3. accepts only canonical unpadded base64url (no `=`, no whitespace, no `+`/`/`, zero
//!    trailing bits),
//! 4. inflates into a buffer that never grows past [`MAX_DECODED_BYTES`] + 1 bytes, so a
//!    deflate bomb is rejected after at most that much allocation, and
//! 5. requires a complete zlib stream with a matching Adler-32 and no bytes after it.
//!
//! No function here panics on any input.

use std::fmt;

use crate::deflate::{self, InflateError};
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

/// Maximum decoded size of a status list we accept from the network (bytes). 2^24 entries at 2 bits = 4 MiB.
pub const MAX_DECODED_BYTES: usize = 4 * 1024 * 1024;

/// Maximum length of the `lst` text we even try to decode.
pub const MAX_LST_CHARS: usize = 6 * 1024 * 1024;

/// Compression level used by [`StatusList::encode_lst`]: `miniz_oxide`'s highest ("uber", 10),
/// as the draft recommends the highest level available (§4.1 step 4).
const BEST_COMPRESSION: u8 = 10;

/// Canonical base64url without padding (RFC 7515 §2): padding is refused and the unused low
/// bits of the last symbol must be zero, so every byte string has exactly one accepted text.
const LST_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// Errors from building, changing or decoding a status list.
#[derive(Debug, thiserror::Error)]
pub enum StatusListError {
    /// `bits` is not one of 1, 2, 4 or 8.
    #[error("unsupported status list width: {0} bits per entry (allowed: 1, 2, 4, 8)")]
    UnsupportedBits(u8),

    /// The index is not inside the list.
    #[error("status list index {index} is out of range (list holds {capacity} entries)")]
    IndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// Number of entries the list holds.
        capacity: usize,
    },

    /// The status value needs more bits than the list has per entry.
    #[error("status value {value} does not fit in {bits} bits")]
    ValueTooWide {
        /// The raw status value.
        value: u8,
        /// Bits per entry of the list.
        bits: u8,
    },

    /// The decoded (inflated) list would be larger than the limit; decoding stopped there.
    #[error("decoded status list exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },

    /// [`StatusList::new`] was asked for more entries than fit in the size limit.
    #[error(
        "a status list of {capacity} entries at {bits} bits exceeds the limit of {limit} bytes"
    )]
    CapacityTooLarge {
        /// Entries asked for.
        capacity: usize,
        /// Bits per entry.
        bits: u8,
        /// The limit in bytes.
        limit: usize,
    },

    /// [`StatusList::from_bytes`] was given more bytes than the size limit.
    #[error("status list of {len} bytes exceeds the limit of {limit} bytes")]
    BytesTooLarge {
        /// Bytes given.
        len: usize,
        /// The limit in bytes.
        limit: usize,
    },

    /// The `lst` text is longer than [`MAX_LST_CHARS`]; it was not decoded.
    #[error("lst of {len} characters exceeds the limit of {limit}")]
    LstTooLong {
        /// Length of the text in bytes.
        len: usize,
        /// The limit.
        limit: usize,
    },

    /// The `lst` text is not canonical unpadded base64url.
    #[error("lst is not canonical unpadded base64url: {0}")]
    Base64(#[source] base64::DecodeError),

    /// The decoded `lst` bytes are not a valid zlib stream.
    #[error("lst is not a valid zlib stream: {reason}")]
    Inflate {
        /// What was wrong with the stream.
        reason: &'static str,
    },

    /// Bytes follow the end of the zlib stream.
    #[error("{extra} unexpected bytes after the end of the zlib stream")]
    TrailingData {
        /// Number of bytes after the stream's Adler-32 trailer.
        extra: usize,
    },
}

impl From<InflateError> for StatusListError {
    fn from(e: InflateError) -> Self {
        match e {
            InflateError::TooLarge { limit } => StatusListError::TooLarge { limit },
            InflateError::TrailingData { extra } => StatusListError::TrailingData { extra },
            InflateError::Zlib { reason } => StatusListError::Inflate { reason },
            InflateError::Corrupt => StatusListError::Inflate {
                reason: "invalid DEFLATE data",
            },
        }
    }
}

/// The status of one entry (draft §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusValue {
    /// `0x00` VALID.
    Valid,
    /// `0x01` INVALID in the draft: revoked (吊销/注销); irreversible.
    Revoked,
    /// `0x02` SUSPENDED (暂扣/中止); reversible.
    Suspended,
    /// Any other value: `0x03` (application specific) and, in 4- and 8-bit lists, up to `0xFF`.
    ///
    /// [`StatusValue::from_raw`] never produces this variant for 0, 1 or 2; if one is built by
    /// hand, [`StatusValue::raw`] still returns the number inside, so storing it stores that raw
    /// value and reading it back yields the canonical variant.
    ApplicationSpecific(u8),
}

impl StatusValue {
    /// The status for a raw value read from a list (canonical: 0, 1, 2 map to the named variants).
    #[must_use]
    pub const fn from_raw(v: u8) -> Self {
        match v {
            0 => Self::Valid,
            1 => Self::Revoked,
            2 => Self::Suspended,
            other => Self::ApplicationSpecific(other),
        }
    }

    /// The raw value stored in a list for this status.
    #[must_use]
    pub const fn raw(self) -> u8 {
        match self {
            Self::Valid => 0,
            Self::Revoked => 1,
            Self::Suspended => 2,
            Self::ApplicationSpecific(v) => v,
        }
    }
}

/// A decoded status list: `bits` per entry packed into bytes, least significant bits first.
///
/// Invariants (enforced by every constructor): `bits` ∈ {1, 2, 4, 8} and the byte array is at
/// most [`MAX_DECODED_BYTES`] long.
#[derive(Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: u8,
    bytes: Vec<u8>,
}

impl fmt::Debug for StatusList {
    /// A summary, never the (up to 4 MiB) contents.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusList")
            .field("bits", &self.bits)
            .field("capacity", &self.capacity())
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// `Ok(bits)` if `bits` is a width the draft allows.
fn check_bits(bits: u8) -> Result<u8, StatusListError> {
    match bits {
        1 | 2 | 4 | 8 => Ok(bits),
        other => Err(StatusListError::UnsupportedBits(other)),
    }
}

impl StatusList {
    /// A list of `capacity` entries (rounded up to whole bytes), all Valid. Error if bits not in {1,2,4,8} or the size exceeds [`MAX_DECODED_BYTES`].
    ///
    /// # Errors
    ///
    /// [`StatusListError::UnsupportedBits`] or [`StatusListError::CapacityTooLarge`].
    pub fn new(bits: u8, capacity: usize) -> Result<Self, StatusListError> {
        let bits = check_bits(bits)?;
        let too_large = || StatusListError::CapacityTooLarge {
            capacity,
            bits,
            limit: MAX_DECODED_BYTES,
        };
        let len = capacity
            .checked_mul(usize::from(bits))
            .map(|total_bits| total_bits.div_ceil(8))
            .ok_or_else(too_large)?;
        if len > MAX_DECODED_BYTES {
            return Err(too_large());
        }
        Ok(Self {
            bits,
            bytes: vec![0; len],
        })
    }

    /// A list over an existing byte array (for example one read back from storage). Error if
    /// `bits` is not in {1, 2, 4, 8} or `bytes` is longer than [`MAX_DECODED_BYTES`].
    ///
    /// # Errors
    ///
    /// [`StatusListError::UnsupportedBits`] or [`StatusListError::BytesTooLarge`].
    pub fn from_bytes(bits: u8, bytes: Vec<u8>) -> Result<Self, StatusListError> {
        let bits = check_bits(bits)?;
        if bytes.len() > MAX_DECODED_BYTES {
            return Err(StatusListError::BytesTooLarge {
                len: bytes.len(),
                limit: MAX_DECODED_BYTES,
            });
        }
        Ok(Self { bits, bytes })
    }

    /// Bits per entry: 1, 2, 4 or 8.
    #[must_use]
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// Number of entries the list holds (`bytes.len() * 8 / bits`).
    #[must_use]
    pub fn capacity(&self) -> usize {
        // bytes.len() <= MAX_DECODED_BYTES, so the product cannot overflow; bits is never 0.
        self.bytes.len().saturating_mul(8) / usize::from(self.bits)
    }

    /// The packed byte array (before compression).
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Mask of the low `bits` bits: 0x01, 0x03, 0x0F or 0xFF.
    fn mask(&self) -> u8 {
        u8::MAX >> (8 - self.bits)
    }

    /// Byte position and bit shift of entry `index`, or `None` if it is out of range.
    fn locate(&self, index: usize) -> Option<(usize, u32)> {
        if index >= self.capacity() {
            return None;
        }
        let bit = index.checked_mul(usize::from(self.bits))?;
        // bit % 8 < 8, so the conversion cannot fail.
        let shift = u32::try_from(bit % 8).ok()?;
        Some((bit / 8, shift))
    }

    /// The status of entry `index`, or `None` if the list has no such entry.
    #[must_use]
    pub fn get(&self, index: usize) -> Option<StatusValue> {
        let (byte, shift) = self.locate(index)?;
        let raw = self.bytes.get(byte)?.checked_shr(shift)? & self.mask();
        Some(StatusValue::from_raw(raw))
    }

    /// Set entry `index` to `value`. Error if the index is out of range or the value does not
    /// fit in [`StatusList::bits`]; the list is unchanged on error.
    ///
    /// # Errors
    ///
    /// [`StatusListError::IndexOutOfRange`] or [`StatusListError::ValueTooWide`].
    pub fn set(&mut self, index: usize, value: StatusValue) -> Result<(), StatusListError> {
        let capacity = self.capacity();
        let out_of_range = StatusListError::IndexOutOfRange { index, capacity };
        let (byte, shift) = self.locate(index).ok_or(out_of_range)?;
        let mask = self.mask();
        let raw = value.raw();
        if raw > mask {
            return Err(StatusListError::ValueTooWide {
                value: raw,
                bits: self.bits,
            });
        }
        let (Some(clear), Some(put)) = (mask.checked_shl(shift), raw.checked_shl(shift)) else {
            return Err(StatusListError::IndexOutOfRange { index, capacity });
        };
        let slot = self
            .bytes
            .get_mut(byte)
            .ok_or(StatusListError::IndexOutOfRange { index, capacity })?;
        *slot = (*slot & !clear) | put;
        Ok(())
    }

    /// base64url(zlib(bytes)) at the best compression level.
    #[must_use]
    pub fn encode_lst(&self) -> String {
        let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&self.bytes, BEST_COMPRESSION);
        LST_BASE64.encode(compressed)
    }

    /// Bounded decode of a `lst` value.
    ///
    /// Checks, in this order: `bits` ∈ {1, 2, 4, 8}; `lst.len()` ≤ [`MAX_LST_CHARS`]; canonical
    /// unpadded base64url; a complete zlib stream (header, DEFLATE data, matching Adler-32)
    /// with nothing after it, inflating to at most [`MAX_DECODED_BYTES`]. Inflation stops as
    /// soon as the output would pass the limit, so no more than `MAX_DECODED_BYTES + 1` bytes
    /// are ever allocated for it.
    ///
    /// # Errors
    ///
    /// [`StatusListError::UnsupportedBits`], [`StatusListError::LstTooLong`],
    /// [`StatusListError::Base64`], [`StatusListError::Inflate`],
    /// [`StatusListError::TrailingData`] or [`StatusListError::TooLarge`].
    pub fn decode_lst(bits: u8, lst: &str) -> Result<Self, StatusListError> {
        let bits = check_bits(bits)?;
        if lst.len() > MAX_LST_CHARS {
            return Err(StatusListError::LstTooLong {
                len: lst.len(),
                limit: MAX_LST_CHARS,
            });
        }
        let compressed = LST_BASE64
            .decode(lst.as_bytes())
            .map_err(StatusListError::Base64)?;
        let bytes = deflate::inflate_zlib(&compressed, MAX_DECODED_BYTES)?;
        Ok(Self { bits, bytes })
    }

    /// Count of entries per value (for metrics/tests): returns (valid, revoked, suspended, other).
    #[must_use]
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let (mut valid, mut revoked, mut suspended, mut other) = (0usize, 0usize, 0usize, 0usize);
        let per_byte = 8 / usize::from(self.bits);
        let mask = self.mask();
        for &byte in &self.bytes {
            let mut rest = byte;
            for _ in 0..per_byte {
                match rest & mask {
                    0 => valid += 1,
                    1 => revoked += 1,
                    2 => suspended += 1,
                    _ => other += 1,
                }
                rest = rest.checked_shr(u32::from(self.bits)).unwrap_or(0);
            }
        }
        (valid, revoked, suspended, other)
    }
}

/// The `status_list` claim object of a status-list token: `{"bits": 2, "lst": "..."}` (plus optional `"aggregation_uri"`, ignored).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StatusListClaim {
    /// Bits per entry (validated by [`StatusListClaim::decode`], not by deserialization).
    pub bits: u8,
    /// `base64url(zlib(bytes))`.
    pub lst: String,
}

impl StatusListClaim {
    /// Bounded decode of the claim; see [`StatusList::decode_lst`].
    ///
    /// # Errors
    ///
    /// As [`StatusList::decode_lst`].
    pub fn decode(&self) -> Result<StatusList, StatusListError> {
        StatusList::decode_lst(self.bits, &self.lst)
    }

    /// The claim for a list, encoded with [`StatusList::encode_lst`].
    #[must_use]
    pub fn from_list(list: &StatusList) -> Self {
        Self {
            bits: list.bits(),
            lst: list.encode_lst(),
        }
    }
}

/// The `status` claim of a referenced token: `{"status_list": {"idx": 4711, "uri": "https://…"}}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StatusReference {
    /// Where this token's status is kept.
    pub status_list: StatusListPointer,
}

/// The `status_list` member of a referenced token's `status` claim.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StatusListPointer {
    /// Index of the token's entry in the list (non-negative by type).
    pub idx: u64,
    /// URI of the status-list token; must equal that token's `sub`.
    pub uri: String,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // ---------------------------------------------------------------------------------------
    // Draft vectors. Source: draft-ietf-oauth-status-list (text as of the January 2026
    // editor's copy, oauth-wg/draft-ietf-oauth-status-list; the same values appear in the
    // -20 and -21 drafts as quoted by several implementations).
    // ---------------------------------------------------------------------------------------

    /// §4.1 / §4.2, bits = 1: statuses of 16 entries, bytes [0xB9, 0xA3].
    const S4_1BIT_STATUSES: [u8; 16] = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1];
    const S4_1BIT_BYTES: [u8; 2] = [0xb9, 0xa3];
    const S4_1BIT_LST: &str = "eNrbuRgAAhcBXQ";
    /// §4.1 "compressed array (hex): 78dadbb918000217015d".
    const S4_1BIT_ZLIB: [u8; 10] = [0x78, 0xda, 0xdb, 0xb9, 0x18, 0x00, 0x02, 0x17, 0x01, 0x5d];

    /// §4.1 / §4.2, bits = 2: statuses of 12 entries, bytes [0xC9, 0x44, 0xF9].
    const S4_2BIT_STATUSES: [u8; 12] = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3];
    const S4_2BIT_BYTES: [u8; 3] = [0xc9, 0x44, 0xf9];
    const S4_2BIT_LST: &str = "eNo76fITAAPfAgc";
    /// §4.1 "compressed array (hex): 78da3be9f2130003df0207".
    const S4_2BIT_ZLIB: [u8; 11] = [
        0x78, 0xda, 0x3b, 0xe9, 0xf2, 0x13, 0x00, 0x03, 0xdf, 0x02, 0x07,
    ];

    /// Appendix C: "All examples are initialized with a size of 2^20 entries."
    const C_ENTRIES: usize = 1 << 20;

    /// Appendix C.1, 1-bit Status List.
    const C1_SET: [(usize, u8); 11] = [
        (0, 1),
        (1993, 1),
        (25460, 1),
        (159_495, 1),
        (495_669, 1),
        (554_353, 1),
        (645_645, 1),
        (723_232, 1),
        (854_545, 1),
        (934_534, 1),
        (1_000_345, 1),
    ];
    const C1_LST: &str = concat!(
        "eNrt3AENwCAMAEGogklACtKQPg9LugC9k_ACvreiogE",
        "AAKkeCQAAAAAAAAAAAAAAAAAAAIBylgQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAXG9IAAAAAAAAAPwsJAAAAAAAAAAAAAAAvhsSAAAAAAAAAAA",
        "A7KpLAAAAAAAAAAAAAAAAAAAAAJsLCQAAAAAAAAAAADjelAAAAAAAAAAAKjDMAQAAA",
        "ACAZC8L2AEb",
    );

    /// Appendix C.2, 2-bit Status List.
    const C2_SET: [(usize, u8); 11] = [
        (0, 1),
        (1993, 2),
        (25460, 1),
        (159_495, 3),
        (495_669, 1),
        (554_353, 1),
        (645_645, 2),
        (723_232, 1),
        (854_545, 1),
        (934_534, 2),
        (1_000_345, 3),
    ];
    const C2_LST: &str = concat!(
        "eNrt2zENACEQAEEuoaBABP5VIO01fCjIHTMStt9ovGV",
        "IAAAAAABAbiEBAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAEB5WwIAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAID0ugQAAAAAAAAAAAAAAAAAQG12SgAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAOCSIQEAAAAAAAAAAAAAAAAAAAAAAAD8ExIAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAwJEuAQAAAAAAAAAAAAAAAAAAAAAAAMB9S",
        "wIAAAAAAAAAAAAAAAAAAACoYUoAAAAAAAAAAAAAAEBqH81gAQw",
    );

    /// Appendix C.3, 4-bit Status List.
    const C3_SET: [(usize, u8); 15] = [
        (0, 1),
        (1993, 2),
        (35460, 3),
        (459_495, 4),
        (595_669, 5),
        (754_353, 6),
        (845_645, 7),
        (923_232, 8),
        (924_445, 9),
        (934_534, 10),
        (1_004_534, 11),
        (1_000_345, 12),
        (1_030_203, 13),
        (1_030_204, 14),
        (1_030_205, 15),
    ];
    const C3_LST: &str = concat!(
        "eNrt0EENgDAQADAIHwImkIIEJEwCUpCEBBQRHOy35Li",
        "1EjoOQGabAgAAAAAAAAAAAAAAAAAAACC1SQEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABADrsCAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAADoxaEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAIIoCgAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACArpwKAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAGhqVkAzlwIAAAAAiGVRAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAABx3AoAgLpVAQAAAAAAAAAAAAAAwM89rwMAAAAAAAAAA",
        "AjsA9xMBMA",
    );

    /// Appendix C.4, 8-bit Status List: `C4_INDICES[v]` holds status value `v` (0..=255), in
    /// the draft's order.
    const C4_INDICES: [usize; 256] = [
        233_478, 52451, 576_778, 513_575, 468_106, 292_632, 214_947, 182_323, //
        884_834, 66653, 62489, 196_493, 458_517, 487_925, 55649, 416_992, //
        879_796, 462_297, 942_059, 583_408, 13628, 334_829, 886_286, 713_557, //
        582_738, 326_064, 451_545, 705_889, 214_350, 194_502, 796_765, 202_828, //
        752_834, 721_327, 554_740, 91122, 963_483, 261_779, 793_844, 165_255, //
        614_839, 758_403, 403_258, 145_867, 96100, 477_937, 606_890, 167_335, //
        488_197, 211_815, 797_182, 582_952, 950_870, 765_108, 341_110, 776_325, //
        745_056, 439_368, 559_893, 149_741, 358_903, 513_405, 342_679, 969_429, //
        795_775, 566_121, 460_566, 680_070, 117_310, 480_348, 67319, 661_552, //
        841_303, 561_493, 138_807, 442_463, 659_927, 445_910, 1_046_963, 829_700, //
        962_282, 299_623, 555_493, 292_826, 517_215, 551_009, 898_490, 837_603, //
        759_161, 459_948, 290_102, 1_034_977, 190_650, 98810, 229_950, 320_531, //
        335_506, 885_333, 133_227, 806_915, 800_313, 981_571, 527_253, 24077, //
        240_232, 559_572, 713_399, 233_941, 615_514, 911_768, 331_680, 951_527, //
        6805, 552_366, 374_660, 223_159, 625_884, 417_146, 320_527, 784_154, //
        338_792, 1199, 679_804, 1_024_680, 40845, 234_603, 761_225, 644_903, //
        502_167, 121_477, 505_144, 165_165, 179_628, 1_019_195, 145_149, 263_738, //
        269_256, 996_739, 346_296, 555_864, 887_384, 444_173, 421_844, 653_716, //
        836_747, 783_119, 918_762, 946_835, 253_764, 519_895, 471_224, 134_272, //
        709_016, 44112, 482_585, 461_829, 15080, 148_883, 123_467, 480_125, //
        141_348, 65877, 692_958, 148_598, 499_131, 584_009, 1_017_987, 449_287, //
        277_478, 991_262, 509_602, 991_896, 853_666, 399_318, 197_815, 203_278, //
        903_979, 743_015, 888_308, 862_143, 979_421, 113_605, 206_397, 127_113, //
        844_358, 711_569, 229_153, 521_470, 401_793, 398_896, 940_810, 293_983, //
        884_749, 384_802, 584_151, 970_201, 523_882, 158_093, 929_312, 205_329, //
        106_091, 30949, 195_586, 495_723, 348_779, 852_312, 1_018_463, 1_009_481, //
        448_260, 841_042, 122_967, 345_269, 794_764, 4520, 818_773, 556_171, //
        954_221, 598_210, 887_110, 1_020_623, 324_632, 398_244, 622_241, 456_551, //
        122_648, 127_837, 657_676, 119_884, 105_156, 999_897, 330_160, 119_285, //
        168_005, 389_703, 143_699, 142_524, 493_258, 846_778, 251_420, 516_351, //
        83344, 171_931, 879_178, 663_475, 546_865, 428_362, 658_891, 500_560, //
        557_034, 830_023, 274_471, 629_139, 958_869, 663_071, 152_133, 19535, //
    ];
    const C4_LST: &str = concat!(
        "eNrt0WOQM2kYhtGsbdu2bdu2bdu2bdu2bdu2jVnU1my",
        "-SWYm6U5enFPVf7ue97orFYAo7CQBAACQuuckAABStqUEAAAAAAAAtN6wEgAE71QJA",
        "AAAAIrwhwQAAAAAAdtAAgAAAAAAACLwkAQAAAAAAAAAAACUaFcJAACAeJwkAQAAAAA",
        "AAABQvL4kAAAAWmJwCQAAAAAAAAjAwBIAAAB06ywJoDKQBARpfgkAAAAAAAAAAAAAA",
        "AAAAACo50sJAAAAAAAAAOiRcSQAAAAAgAJNKgEAAG23mgQAAAAAAECw3pUAQvegBAA",
        "AAAAAAADduE4CAAAAyjSvBAAQiw8koHjvSABAb-wlARCONyVoxtMSZOd0CQAAAOjWD",
        "RKQmLckAAAAAACysLYEQGcnSAAAAAAQooUlAABI15kSAIH5RAIgLB9LABC4_SUgGZN",
        "IAABAmM6RoLbTJIASzCIBAEAhfpcAAAAAAABquk8CAAAAAAAAaJl9SvvzBOICAFWmk",
        "IBgfSgBAAAANOgrCQAAAAAAAADStK8EAAC03gASAAAAAAAAAADFWFUCAAAAMjOaBEA",
        "DHpYAQjCIBADduFwCAAAAAGitMSSI3BUSAECOHpAA6IHrJQAAAAAAsjeVBAAAKRpVA",
        "orWvwQAAAAAAAAAkKRtJAAAAAAAgCbcLAF0bXUJAAAAoF02kYDg7CYBAAAAAEB6NpQ",
        "AAAAAAAAAAAAAAEr1uQQAAF06VgIAAAAAAAAAqDaeBAAQqgMkAAAAAABogQMlAAAAA",
        "AAa87MEAAAQiwslAAAAAAAAAAAAAAAAMrOyBAAAiekv-hcsY0Sgne6QAAAAAAAgaUt",
        "JAAAAAAAAAAAAAAAAAAAAAAAAAADwt-07vjVkAAAAgDy8KgFAUEaSAAAAAJL3vgQAW",
        "dhcAgAAoBHDSUDo1pQAAACI2o4SAABZm14CALoyuwQAAPznGQkgZwdLAAAQukclAAA",
        "AAAAAAAAAgKbMKgEAAAAAAAAAAAAAAAAAAECftpYAAAAAAAAAAAAACnaXBAAAAADk7",
        "iMJAAAAAAAAAABqe00CAnGbBBG4TAIAgFDdKgFAXCaWAAAAAAAAAAAAAAAAAKAJQwR",
        "72XbGAQAAAKAhh0sAAAAAAABQgO8kAAAAAAAAAAAAACAaM0kAAAC5W0QCAIJ3mAQAx",
        "GwxCQAA6nhSAsjZBRIAANEbWQIAAAAAaJE3JACAwA0qAUBIVpKAlphbAiAPp0iQnKE",
        "kAAAAAAAgBP1KAAAAdOl4CQAAAAAAAPjLZBIAAG10RtrPm8_CAEBMTpYAAAAAAIjQY",
        "BL8z5QSAAAAAEDYPpUAACAsj0gAAADQkHMlAAjHDxIA0Lg9JQAAgHDsLQEAAABAQS6",
        "WAAAAgLjNFs2l_RgLAIAEfCEBlGZZCQAAaIHjJACgtlskAAAozb0SAAAAVFtfAgAAA",
        "AAAAAAAAAAAAAAAAAAAAKDDtxIAAAAAVZaTAKB5W0kAANCAsSUgJ0tL0GqHSNBbL0g",
        "AZflRAgCARG0kQXNmlgCABiwkAQAAAEB25pIAAAAAAAAAAAAAoFh9SwAAAAAAADWNm",
        "OSrpjFsEoaRgDKcF9Q1dxsEAAAAAAAAAAAAAAAAgPZ6SQIAAAAAAAAAgChMLgEAAAA",
        "AAAAAqZlQAsK2qQQAAAAAAAD06XUJAAAAqG9bCQAAgLD9IgEAAAAAAAAAAAAAAAAAA",
        "EBNe0gAAAAAAAAAAEBPHSEBAAAAlOZtCYA4fS8B0GFRCQAo0gISAOTgNwmC840EAAA",
        "AAAAAAAAAAAAAAAAAUJydJfjXPBIAAAAAAAAAAAAAAABk6WwJAAAAAAAAAAAAAAAAq",
        "G8UCQAAgPpOlAAAIA83SQAANWwc9HUjGAgAAAAAAACAusaSAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAqHKVBACQjxklAAAAAAAAAKBHxpQAAAAAACBME0lAdlaUAACyt7sEAAAA0",
        "Nl0EgAAAAAAAAAAAABA-8wgAQAAAAAAAKU4SgKgUtlBAgAAAAAAAAAAgMCMLwEE51k",
        "JICdzSgCJGl2CsE0tAQAA0L11JQAAAAAAAAjUOhIAAAAAAAAAAAAAAGTqeQkAAAAAA",
        "AAAAAAAKM8SEjTrJwkAAAAAAACocqQEULgVJAAAACjDUxJUKgtKAAAAqbpRAgCA0n0",
        "mAQAAAABAGzwmAUCTLpUAAAAAAAAAAEjZNRIAAAAAAAAAAAAAAAAAAAAA8I-vJaAlh",
        "pQAAAAAAHrvzjJ-OqCuuVlLAojP8BJAr70sQZVDJYAgXS0BAAAAAAAAAAAAtMnyEgA",
        "AAAAAFONKCQAAAAAAAADorc0kAAAAAAAAgDqOlgAAAAAAAAAAAADIwv0SAAAAAAAAA",
        "AAAAADBuV0CIFVDSwAAAABAAI6RAAAAAGIwrQSEZAsJAABouRclAAAAAKDDrxIAAAA",
        "0bkkJgFiMKwEAAAAAAHQyhwRk7h4JAAAAAAAAAAAgatdKAACUYj0JAAAAAAAAAAAAQ",
        "nORBLTFJRIAAAAAkIaDJAAAAJryngQAAAAAAAAAAAA98oQEAAAAAAAAAEC2zpcgWY9",
        "LQKL2kwAgGK9IAAAAAPHaRQIAAAAAAAAAAADIxyoSAAAAAAAAAAAAAADQFotLAECz_",
        "gQ1PX-B",
    );

    fn c4_set() -> Vec<(usize, u8)> {
        C4_INDICES
            .iter()
            .enumerate()
            .map(|(v, &i)| (i, u8::try_from(v).unwrap()))
            .collect()
    }

    /// Decode `lst` and check it holds exactly `set` (everything else Valid) in 2^20 entries;
    /// then rebuild the list from `set` and check our own encoding round-trips to it.
    fn check_appendix_c(bits: u8, lst: &str, set: &[(usize, u8)]) {
        let list = StatusList::decode_lst(bits, lst).unwrap();
        assert_eq!(list.bits(), bits);
        assert_eq!(list.capacity(), C_ENTRIES);
        assert_eq!(list.as_bytes().len(), C_ENTRIES * usize::from(bits) / 8);

        let mut expected = StatusList::new(bits, C_ENTRIES).unwrap();
        for &(i, v) in set {
            assert_eq!(list.get(i), Some(StatusValue::from_raw(v)), "entry {i}");
            expected.set(i, StatusValue::from_raw(v)).unwrap();
        }
        // Byte-for-byte equal means no entry outside `set` is non-zero.
        assert_eq!(list, expected);

        let nonzero = set.iter().filter(|(_, v)| *v != 0).count();
        let (valid, ..) = list.counts();
        assert_eq!(valid, C_ENTRIES - nonzero);

        let again = StatusList::decode_lst(bits, &expected.encode_lst()).unwrap();
        assert_eq!(again, expected);
    }

    #[test]
    fn draft_s4_1bit_example() {
        let mut list = StatusList::new(1, 16).unwrap();
        for (i, &v) in S4_1BIT_STATUSES.iter().enumerate() {
            list.set(i, StatusValue::from_raw(v)).unwrap();
        }
        assert_eq!(list.as_bytes(), &S4_1BIT_BYTES);

        let decoded = StatusList::decode_lst(1, S4_1BIT_LST).unwrap();
        assert_eq!(decoded, list);
        assert_eq!(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(S4_1BIT_LST)
                .unwrap(),
            S4_1BIT_ZLIB
        );
        for (i, &v) in S4_1BIT_STATUSES.iter().enumerate() {
            assert_eq!(decoded.get(i), Some(StatusValue::from_raw(v)));
        }
        assert_eq!(decoded.get(16), None);
        assert_eq!(decoded.counts(), (7, 9, 0, 0));
        assert_eq!(list.encode_lst(), S4_1BIT_LST);
    }

    #[test]
    fn draft_s4_2bit_example() {
        let mut list = StatusList::new(2, 12).unwrap();
        for (i, &v) in S4_2BIT_STATUSES.iter().enumerate() {
            list.set(i, StatusValue::from_raw(v)).unwrap();
        }
        assert_eq!(list.as_bytes(), &S4_2BIT_BYTES);

        let decoded = StatusList::decode_lst(2, S4_2BIT_LST).unwrap();
        assert_eq!(decoded, list);
        assert_eq!(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(S4_2BIT_LST)
                .unwrap(),
            S4_2BIT_ZLIB
        );
        assert_eq!(decoded.get(1), Some(StatusValue::Suspended));
        assert_eq!(decoded.get(3), Some(StatusValue::ApplicationSpecific(3)));
        assert_eq!(decoded.counts(), (3, 4, 2, 3));
        assert_eq!(list.encode_lst(), S4_2BIT_LST);
    }

    #[test]
    fn draft_s4_claims_parse() {
        let claim: StatusListClaim =
            serde_json::from_str(r#"{"bits":1,"lst":"eNrbuRgAAhcBXQ"}"#).unwrap();
        assert_eq!(claim.decode().unwrap().as_bytes(), &S4_1BIT_BYTES);
        let claim: StatusListClaim = serde_json::from_str(
            r#"{"bits":2,"lst":"eNo76fITAAPfAgc","aggregation_uri":"https://example.com/agg"}"#,
        )
        .unwrap();
        assert_eq!(claim.decode().unwrap().as_bytes(), &S4_2BIT_BYTES);
    }

    #[test]
    fn draft_appendix_c1_1bit() {
        check_appendix_c(1, C1_LST, &C1_SET);
    }

    #[test]
    fn draft_appendix_c2_2bit() {
        check_appendix_c(2, C2_LST, &C2_SET);
    }

    #[test]
    fn draft_appendix_c3_4bit() {
        check_appendix_c(4, C3_LST, &C3_SET);
    }

    #[test]
    fn draft_appendix_c4_8bit() {
        let set = c4_set();
        check_appendix_c(8, C4_LST, &set);
        let list = StatusList::decode_lst(8, C4_LST).unwrap();
        // Every value 0..=255 appears once; values 0, 1, 2 are named.
        assert_eq!(list.counts(), (C_ENTRIES - 255, 1, 1, 253));
    }

    #[test]
    fn draft_vector_with_wrong_bits_reads_differently_but_safely() {
        // The same bytes read at another width are a different, still bounded, list.
        let list = StatusList::decode_lst(8, S4_1BIT_LST).unwrap();
        assert_eq!(list.capacity(), 2);
        assert_eq!(list.get(0), Some(StatusValue::ApplicationSpecific(0xb9)));
    }

    // ---------------------------------------------------------------------------------------
    // API behaviour.
    // ---------------------------------------------------------------------------------------

    #[test]
    fn status_value_raw_round_trip() {
        for v in 0..=u8::MAX {
            assert_eq!(StatusValue::from_raw(v).raw(), v);
        }
        assert_eq!(StatusValue::from_raw(0), StatusValue::Valid);
        assert_eq!(StatusValue::from_raw(1), StatusValue::Revoked);
        assert_eq!(StatusValue::from_raw(2), StatusValue::Suspended);
        assert_eq!(
            StatusValue::from_raw(3),
            StatusValue::ApplicationSpecific(3)
        );
    }

    #[test]
    fn new_rounds_capacity_up_to_whole_bytes() {
        let list = StatusList::new(2, 5).unwrap();
        assert_eq!(list.as_bytes().len(), 2);
        assert_eq!(list.capacity(), 8);
        assert_eq!(StatusList::new(1, 0).unwrap().capacity(), 0);
        assert_eq!(StatusList::new(1, 9).unwrap().capacity(), 16);
        assert_eq!(StatusList::new(8, 3).unwrap().capacity(), 3);
        let list = StatusList::new(4, 1 << 17).unwrap();
        assert_eq!(list.counts(), (1 << 17, 0, 0, 0));
    }

    #[test]
    fn new_rejects_bad_bits_and_oversize() {
        for bits in [0u8, 3, 5, 6, 7, 9, 16, 255] {
            assert!(matches!(
                StatusList::new(bits, 8),
                Err(StatusListError::UnsupportedBits(b)) if b == bits
            ));
            assert!(matches!(
                StatusList::from_bytes(bits, vec![0]),
                Err(StatusListError::UnsupportedBits(b)) if b == bits
            ));
            assert!(matches!(
                StatusList::decode_lst(bits, S4_1BIT_LST),
                Err(StatusListError::UnsupportedBits(b)) if b == bits
            ));
        }
        // 2^24 entries at 2 bits is exactly the limit; one more entry is over it.
        assert!(StatusList::new(2, 1 << 24).is_ok());
        assert!(matches!(
            StatusList::new(2, (1 << 24) + 1),
            Err(StatusListError::CapacityTooLarge { capacity, bits: 2, limit })
                if capacity == (1 << 24) + 1 && limit == MAX_DECODED_BYTES
        ));
        assert!(matches!(
            StatusList::new(8, usize::MAX),
            Err(StatusListError::CapacityTooLarge { .. })
        ));
        assert!(matches!(
            StatusList::new(1, usize::MAX),
            Err(StatusListError::CapacityTooLarge { .. })
        ));
        assert!(StatusList::from_bytes(8, vec![0; MAX_DECODED_BYTES]).is_ok());
        assert!(matches!(
            StatusList::from_bytes(8, vec![0; MAX_DECODED_BYTES + 1]),
            Err(StatusListError::BytesTooLarge { len, limit })
                if len == MAX_DECODED_BYTES + 1 && limit == MAX_DECODED_BYTES
        ));
    }

    #[test]
    fn get_and_set_out_of_range() {
        let mut list = StatusList::new(2, 8).unwrap();
        for index in [8usize, 9, 1 << 40, usize::MAX / 2, usize::MAX] {
            assert_eq!(list.get(index), None);
            assert!(matches!(
                list.set(index, StatusValue::Revoked),
                Err(StatusListError::IndexOutOfRange { index: i, capacity: 8 }) if i == index
            ));
        }
        assert_eq!(list.as_bytes(), &[0, 0]);
        let mut empty = StatusList::new(1, 0).unwrap();
        assert_eq!(empty.get(0), None);
        assert!(empty.set(0, StatusValue::Valid).is_err());
    }

    #[test]
    fn set_rejects_values_too_wide() {
        let cases: [(u8, u8); 6] = [(1, 2), (1, 3), (2, 4), (2, 255), (4, 16), (4, 200)];
        for (bits, value) in cases {
            let mut list = StatusList::new(bits, 16).unwrap();
            assert!(matches!(
                list.set(3, StatusValue::from_raw(value)),
                Err(StatusListError::ValueTooWide { value: v, bits: b }) if v == value && b == bits
            ));
            assert!(
                list.as_bytes().iter().all(|&b| b == 0),
                "unchanged on error"
            );
        }
        let mut list = StatusList::new(8, 4).unwrap();
        list.set(3, StatusValue::ApplicationSpecific(255)).unwrap();
        assert_eq!(list.get(3), Some(StatusValue::ApplicationSpecific(255)));
    }

    #[test]
    fn set_overwrites_and_keeps_neighbours() {
        let mut list = StatusList::from_bytes(2, vec![0xff, 0xff]).unwrap();
        list.set(5, StatusValue::Valid).unwrap();
        assert_eq!(list.as_bytes(), &[0xff, 0b1111_0011]);
        list.set(5, StatusValue::Suspended).unwrap();
        assert_eq!(list.as_bytes(), &[0xff, 0b1111_1011]);
        list.set(5, StatusValue::Revoked).unwrap();
        assert_eq!(list.get(5), Some(StatusValue::Revoked));
        assert_eq!(list.get(4), Some(StatusValue::ApplicationSpecific(3)));
        assert_eq!(list.get(6), Some(StatusValue::ApplicationSpecific(3)));
    }

    #[test]
    fn non_canonical_application_specific_stores_its_raw_value() {
        let mut list = StatusList::new(2, 4).unwrap();
        list.set(0, StatusValue::ApplicationSpecific(1)).unwrap();
        assert_eq!(list.get(0), Some(StatusValue::Revoked));
    }

    #[test]
    fn claims_serde_round_trip() {
        let mut list = StatusList::new(2, 1 << 10).unwrap();
        list.set(4711 % (1 << 10), StatusValue::Suspended).unwrap();
        let claim = StatusListClaim::from_list(&list);
        assert_eq!(claim.bits, 2);
        let json = serde_json::to_string(&claim).unwrap();
        let back: StatusListClaim = serde_json::from_str(&json).unwrap();
        assert_eq!(back.decode().unwrap(), list);

        let status: StatusReference = serde_json::from_str(
            r#"{"status_list":{"idx":4711,"uri":"https://example.com/statuslists/1"},"other":1}"#,
        )
        .unwrap();
        assert_eq!(status.status_list.idx, 4711);
        assert_eq!(status.status_list.uri, "https://example.com/statuslists/1");
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(json["status_list"]["idx"], 4711);

        for bad in [
            r#"{"status_list":{"idx":-1,"uri":"u"}}"#,
            r#"{"status_list":{"idx":1.5,"uri":"u"}}"#,
            r#"{"status_list":{"idx":"1","uri":"u"}}"#,
            r#"{"status_list":{"uri":"u"}}"#,
            r#"{"status_list":{"idx":1}}"#,
            r#"{"status_list":{"idx":18446744073709551616,"uri":"u"}}"#,
        ] {
            assert!(
                serde_json::from_str::<StatusReference>(bad).is_err(),
                "{bad}"
            );
        }
        for bad in [
            r#"{"bits":256,"lst":""}"#,
            r#"{"bits":-1,"lst":""}"#,
            r#"{"lst":""}"#,
        ] {
            assert!(
                serde_json::from_str::<StatusListClaim>(bad).is_err(),
                "{bad}"
            );
        }
        let claim: StatusListClaim =
            serde_json::from_str(r#"{"bits":3,"lst":"eNrbuRgAAhcBXQ"}"#).unwrap();
        assert!(matches!(
            claim.decode(),
            Err(StatusListError::UnsupportedBits(3))
        ));
    }

    #[test]
    fn debug_is_a_summary() {
        let list = StatusList::new(2, 1 << 20).unwrap();
        let text = format!("{list:?}");
        assert!(text.len() < 100, "{text}");
        assert!(text.contains("capacity: 1048576"), "{text}");
    }

    // ---------------------------------------------------------------------------------------
    // Hostile input.
    // ---------------------------------------------------------------------------------------

    fn b64(bytes: &[u8]) -> String {
        LST_BASE64.encode(bytes)
    }

    /// A zlib stream inflating to `n` (≥ 1) zero bytes, built by hand (fixed Huffman codes:
    /// one literal 0, then back-references of length 258 at distance 1, then literal zeros)
    /// so that even a 100 MB bomb costs the test well under a megabyte.
    fn zeros_zlib(n: usize) -> Vec<u8> {
        struct Bits {
            out: Vec<u8>,
            acc: u32,
            len: u32,
        }
        impl Bits {
            /// Append `count` bits of `value`, least significant first.
            fn put(&mut self, value: u32, count: u32) {
                self.acc |= value << self.len;
                self.len += count;
                while self.len >= 8 {
                    self.out.push((self.acc & 0xff) as u8);
                    self.acc >>= 8;
                    self.len -= 8;
                }
            }
            /// Append a Huffman code, most significant bit first.
            fn code(&mut self, code: u32, count: u32) {
                for k in (0..count).rev() {
                    self.put((code >> k) & 1, 1);
                }
            }
        }
        assert!(n >= 1);
        let mut w = Bits {
            out: vec![0x78, 0x01],
            acc: 0,
            len: 0,
        };
        w.put(1, 1); // BFINAL
        w.put(1, 2); // BTYPE = 01, fixed Huffman
        w.code(0x30, 8); // literal 0
        let matches = (n - 1) / 258;
        let literals = (n - 1) % 258;
        for _ in 0..matches {
            w.code(0b1100_0101, 8); // length symbol 285 = 258
            w.code(0, 5); // distance symbol 0 = 1
        }
        for _ in 0..literals {
            w.code(0x30, 8);
        }
        w.code(0, 7); // end of block (256)
        if w.len > 0 {
            w.put(0, 8 - w.len);
        }
        // Adler-32 of n zeros: a stays 1, b = n mod 65521.
        let b = u32::try_from(n % 65521).unwrap();
        w.out.extend_from_slice(&((b << 16) | 1).to_be_bytes());
        w.out
    }

    #[test]
    fn hand_built_zero_stream_is_valid() {
        for n in [1usize, 2, 258, 259, 260, 1000, 5000] {
            let list = StatusList::decode_lst(8, &b64(&zeros_zlib(n))).unwrap();
            assert_eq!(list.as_bytes().len(), n);
            assert!(list.as_bytes().iter().all(|&b| b == 0));
        }
    }

    #[test]
    fn exactly_the_limit_is_accepted_one_more_byte_is_not() {
        let at_limit = StatusList::decode_lst(2, &b64(&zeros_zlib(MAX_DECODED_BYTES))).unwrap();
        assert_eq!(at_limit.capacity(), 1 << 24);
        assert!(matches!(
            StatusList::decode_lst(2, &b64(&zeros_zlib(MAX_DECODED_BYTES + 1))),
            Err(StatusListError::TooLarge { limit }) if limit == MAX_DECODED_BYTES
        ));
    }

    #[test]
    fn deflate_bomb_is_rejected() {
        // ~98 MiB of zeros in ~400 KB of zlib (about 250:1).
        let bomb = zeros_zlib(1 + 258 * 400_000);
        assert!(bomb.len() < 700_000);
        let lst = b64(&bomb);
        assert!(lst.len() <= MAX_LST_CHARS);
        assert!(matches!(
            StatusList::decode_lst(2, &lst),
            Err(StatusListError::TooLarge { limit }) if limit == MAX_DECODED_BYTES
        ));
        // The inflater itself never grows its buffer past limit + 1.
        for limit in [0usize, 1, 63, 1000] {
            assert_eq!(
                deflate::inflate_zlib(&bomb, limit),
                Err(InflateError::TooLarge { limit })
            );
        }
        assert_eq!(
            deflate::inflate_zlib(&zeros_zlib(5), 5).unwrap(),
            vec![0; 5]
        );
    }

    #[test]
    fn overlong_lst_is_rejected_before_decoding() {
        let lst = "A".repeat(MAX_LST_CHARS + 1);
        assert!(matches!(
            StatusList::decode_lst(1, &lst),
            Err(StatusListError::LstTooLong { len, limit })
                if len == MAX_LST_CHARS + 1 && limit == MAX_LST_CHARS
        ));
    }

    #[test]
    fn bad_base64_is_rejected() {
        for bad in [
            "eNrbuRgAAhcBXQ==",    // padding
            "eNrbuRgAAhcBXQ=",     // partial padding
            "eNrb+RgAAhcBXQ",      // standard alphabet '+'
            "eNrb/RgAAhcBXQ",      // standard alphabet '/'
            "eNrbuRgA AhcBXQ",     // space
            "eNrbuRgA\nAhcBXQ",    // line break (as the draft prints it)
            "eNrbuRgAAhcBXQ\n",    // trailing newline
            "eNrbuRgAAhcBX",       // impossible length (4k + 1)
            "eNrbuRgAAhcBXQ\u{0}", // NUL
            "éNrbuRgAAhcBXQ",      // non-ASCII
        ] {
            assert!(
                matches!(
                    StatusList::decode_lst(1, bad),
                    Err(StatusListError::Base64(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn non_canonical_trailing_bits_are_rejected() {
        // "…XQ" ends in 'Q' = 0b010000; the low four bits are padding and must be zero.
        // 'R' = 0b010001 decodes to the same bytes in a lenient decoder.
        assert!(StatusList::decode_lst(1, S4_1BIT_LST).is_ok());
        for bad in ["eNrbuRgAAhcBXR", "eNrbuRgAAhcBXf"] {
            assert!(
                matches!(
                    StatusList::decode_lst(1, bad),
                    Err(StatusListError::Base64(
                        base64::DecodeError::InvalidLastSymbol(..)
                    ))
                ),
                "{bad}"
            );
        }
        // "…Agc": 'c' = 0b011100 carries two padding bits (00); 'd' = 0b011101 does not.
        assert!(matches!(
            StatusList::decode_lst(2, "eNo76fITAAPfAgd"),
            Err(StatusListError::Base64(
                base64::DecodeError::InvalidLastSymbol(..)
            ))
        ));
    }

    #[test]
    fn zlib_garbage_is_rejected() {
        let good = S4_1BIT_ZLIB.to_vec();
        let inflate_err = |bytes: &[u8]| StatusList::decode_lst(1, &b64(bytes));

        assert!(matches!(
            inflate_err(&[]),
            Err(StatusListError::Inflate { .. })
        ));
        assert!(matches!(
            StatusList::decode_lst(1, ""),
            Err(StatusListError::Inflate { .. })
        ));
        assert!(matches!(
            inflate_err(b"not zlib at all"),
            Err(StatusListError::Inflate { .. })
        ));
        // Raw DEFLATE without the zlib wrapper.
        assert!(matches!(
            inflate_err(&good[2..]),
            Err(StatusListError::Inflate { .. })
        ));
        // Header check bits wrong (0x78 0xDB fails FCHECK).
        let mut bad_header = good.clone();
        bad_header[1] = 0xdb;
        assert!(matches!(
            inflate_err(&bad_header),
            Err(StatusListError::Inflate { .. })
        ));
        // Preset dictionary flag set (0x78 0xBB passes FCHECK but needs a dictionary).
        let mut fdict = good.clone();
        fdict[1] = 0xbb;
        assert!(matches!(
            inflate_err(&fdict),
            Err(StatusListError::Inflate { .. })
        ));
        // Valid check bits but a window over 32 KiB (CINFO = 8), or a method other than
        // DEFLATE (CM = 9): both forbidden by RFC 1950.
        let mut big_window = vec![0x88, 0x1c];
        big_window.extend_from_slice(&good[2..]);
        assert!(matches!(
            inflate_err(&big_window),
            Err(StatusListError::Inflate { .. })
        ));
        let mut not_deflate = vec![0x79, 0x18];
        not_deflate.extend_from_slice(&good[2..]);
        assert!(matches!(
            inflate_err(&not_deflate),
            Err(StatusListError::Inflate { .. })
        ));
        // Truncated anywhere.
        for cut in 0..good.len() {
            assert!(
                matches!(
                    inflate_err(&good[..cut]),
                    Err(StatusListError::Inflate { .. })
                ),
                "cut at {cut}"
            );
        }
        // Checksum wrong.
        let mut bad_adler = good.clone();
        let last = bad_adler.len() - 1;
        bad_adler[last] ^= 1;
        assert!(matches!(
            inflate_err(&bad_adler),
            Err(StatusListError::Inflate {
                reason: "Adler-32 checksum mismatch"
            })
        ));
        // Reserved block type 11.
        assert!(matches!(
            inflate_err(&[0x78, 0x01, 0b0000_0111, 0, 0, 0, 0, 1]),
            Err(StatusListError::Inflate { .. })
        ));
        // Bytes after the end of the stream.
        let mut trailing = good.clone();
        trailing.extend_from_slice(b"X");
        assert!(matches!(
            inflate_err(&trailing),
            Err(StatusListError::TrailingData { extra: 1 })
        ));
        let mut twice = good.clone();
        twice.extend_from_slice(&good);
        assert!(matches!(
            inflate_err(&twice),
            Err(StatusListError::TrailingData { extra: 10 })
        ));
    }

    #[test]
    fn errors_display_their_facts() {
        let text = StatusListError::IndexOutOfRange {
            index: 9,
            capacity: 8,
        }
        .to_string();
        assert!(text.contains('9') && text.contains('8'), "{text}");
        let text = StatusList::decode_lst(1, "eNrbuRgAAhcBXR")
            .unwrap_err()
            .to_string();
        assert!(text.contains("base64url"), "{text}");
    }

    // ---------------------------------------------------------------------------------------
    // Properties.
    // ---------------------------------------------------------------------------------------

    fn any_bits() -> impl Strategy<Value = u8> {
        prop::sample::select(vec![1u8, 2, 4, 8])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn prop_encode_decode_round_trip(bits in any_bits(), bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
            let list = StatusList::from_bytes(bits, bytes).unwrap();
            let back = StatusList::decode_lst(bits, &list.encode_lst()).unwrap();
            prop_assert_eq!(&back, &list);
            let claim = StatusListClaim::from_list(&list);
            prop_assert_eq!(claim.decode().unwrap(), list);
        }

        #[test]
        fn prop_sparse_lists_round_trip(
            bits in any_bits(),
            capacity in 1usize..100_000,
            writes in prop::collection::vec((any::<usize>(), any::<u8>()), 0..64),
        ) {
            let mut list = StatusList::new(bits, capacity).unwrap();
            let mask = u8::MAX >> (8 - bits);
            for (i, v) in writes {
                list.set(i % list.capacity(), StatusValue::from_raw(v & mask)).unwrap();
            }
            let back = StatusList::decode_lst(bits, &list.encode_lst()).unwrap();
            prop_assert_eq!(back, list);
        }

        #[test]
        fn prop_set_get_matches_model(
            bits in any_bits(),
            capacity in 0usize..512,
            ops in prop::collection::vec((any::<usize>(), any::<u8>()), 0..200),
        ) {
            let mut list = StatusList::new(bits, capacity).unwrap();
            let mut model = vec![0u8; list.capacity()];
            prop_assert!(list.capacity() >= capacity);
            prop_assert!(list.capacity() < capacity + 8);
            let mask = u8::MAX >> (8 - bits);
            for (i, v) in ops {
                let index = if model.is_empty() { i } else { i % (model.len() + 2) };
                let result = list.set(index, StatusValue::from_raw(v));
                match (index < model.len(), v <= mask) {
                    (true, true) => {
                        prop_assert!(result.is_ok());
                        model[index] = v;
                    }
                    (false, _) => {
                        let is_out_of_range = matches!(result, Err(StatusListError::IndexOutOfRange { .. }));
                        prop_assert!(is_out_of_range);
                    }
                    (true, false) => {
                        let is_too_wide = matches!(result, Err(StatusListError::ValueTooWide { .. }));
                        prop_assert!(is_too_wide);
                    }
                }
            }
            for (i, &v) in model.iter().enumerate() {
                prop_assert_eq!(list.get(i), Some(StatusValue::from_raw(v)));
            }
            prop_assert_eq!(list.get(model.len()), None);
            let (valid, revoked, suspended, other) = list.counts();
            prop_assert_eq!(valid + revoked + suspended + other, model.len());
            prop_assert_eq!(valid, model.iter().filter(|&&v| v == 0).count());
            prop_assert_eq!(revoked, model.iter().filter(|&&v| v == 1).count());
            prop_assert_eq!(suspended, model.iter().filter(|&&v| v == 2).count());
        }

        #[test]
        fn prop_decode_never_panics_on_any_string(bits in any::<u8>(), lst in ".{0,300}") {
            let _ = StatusList::decode_lst(bits, &lst);
        }

        #[test]
        fn prop_decode_never_panics_on_base64url_text(bits in any_bits(), lst in "[A-Za-z0-9_-]{0,300}") {
            let _ = StatusList::decode_lst(bits, &lst);
        }

        #[test]
        fn prop_decode_never_panics_on_zlib_shaped_bytes(bits in any_bits(), body in prop::collection::vec(any::<u8>(), 0..400)) {
            // Valid zlib header so the DEFLATE decoder itself sees the random bytes.
            let mut bytes = vec![0x78, 0xda];
            bytes.extend_from_slice(&body);
            if let Ok(list) = StatusList::decode_lst(bits, &b64(&bytes)) {
                prop_assert!(list.as_bytes().len() <= MAX_DECODED_BYTES);
            }
        }

        #[test]
        fn prop_corrupted_valid_stream_never_panics(
            bits in any_bits(),
            bytes in prop::collection::vec(any::<u8>(), 1..512),
            flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        ) {
            let list = StatusList::from_bytes(bits, bytes).unwrap();
            let mut compressed = LST_BASE64.decode(list.encode_lst()).unwrap();
            for (at, x) in flips {
                let n = compressed.len();
                compressed[at % n] ^= x;
            }
            let _ = StatusList::decode_lst(bits, &b64(&compressed));
        }

        #[test]
        fn prop_out_of_range_get_is_none(bits in any_bits(), capacity in 0usize..4096, extra in any::<usize>()) {
            let list = StatusList::new(bits, capacity).unwrap();
            let index = list.capacity().saturating_add(extra);
            prop_assert_eq!(list.get(index), None);
        }
    }
}
