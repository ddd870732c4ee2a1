//! The workspace's bounded inflation: raw DEFLATE (RFC 1951) for JWS `zip: "DEF"`
//! ([`inflate`]) and zlib (RFC 1950) for status lists ([`inflate_zlib`]), with one error type.
//!
//! A token of a few kilobytes can inflate to gigabytes; every inflate here stops at the
//! caller's limit and reports it instead of allocating further.

use miniz_oxide::inflate::core::{decompress, inflate_flags, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

/// Compresses with raw DEFLATE at the best level (licences are signed once, read many times).
pub fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec(data, 9)
}

/// Inflates raw DEFLATE, refusing output larger than `limit` bytes.
///
/// Verification inflates every zipped licence, so this uses libdeflate (about a third faster
/// than miniz_oxide here; see bench/README.md) with one decompressor per thread. libdeflate
/// never writes past the buffer it is given, so the limit is hard: first a buffer sized for
/// typical JSON (4× the input), then, only if that was too small, one of exactly `limit`.
pub fn inflate(data: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
    thread_local! {
        static DECOMPRESSOR: std::cell::RefCell<libdeflater::Decompressor> =
            std::cell::RefCell::new(libdeflater::Decompressor::new());
    }
    DECOMPRESSOR.with(|cell| {
        let mut decompressor = cell.borrow_mut();
        let first = data.len().saturating_mul(4).saturating_add(256).min(limit);
        for size in [first, limit] {
            let mut out = vec![0u8; size];
            match decompressor.deflate_decompress(data, &mut out) {
                Ok(written) => {
                    out.truncate(written);
                    return Ok(out);
                }
                Err(libdeflater::DecompressionError::InsufficientSpace) => continue,
                Err(libdeflater::DecompressionError::BadData) => return Err(InflateError::Corrupt),
            }
        }
        Err(InflateError::TooLarge { limit })
    })
}

/// Why inflating failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InflateError {
    /// The output would exceed the limit (a deflate bomb, or simply too big).
    #[error("inflates to more than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// Not valid DEFLATE data.
    #[error("not valid DEFLATE data")]
    Corrupt,
    /// Not a valid zlib stream, and why.
    #[error("{reason}")]
    Zlib {
        /// What is wrong.
        reason: &'static str,
    },
    /// Bytes after the end of the stream.
    #[error("{extra} bytes after the end of the stream")]
    TrailingData {
        /// How many.
        extra: usize,
    },
}

/// Inflates a complete zlib (RFC 1950) stream (a status list's `lst`) into at most `limit`
/// bytes, refusing bytes after the stream.
///
/// `miniz_oxide`'s core decompressor rather than libdeflate: libdeflate (through `libdeflater`)
/// does not say where the stream ended, so trailing bytes would go unnoticed, and status lists
/// are inflated once per fetch, not per scan.
///
/// The output buffer starts small and doubles, but never beyond `limit + 1` bytes: if the
/// stream has not ended by then it is rejected as [`InflateError::TooLarge`] without
/// decompressing further. (`miniz_oxide`'s `decompress_to_vec_zlib_with_limit` bounds the same way
/// but ignores bytes after the stream; this loop over the same core decompressor also rejects
/// those.)
pub fn inflate_zlib(input: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
    let flags = inflate_flags::TINFL_FLAG_PARSE_ZLIB_HEADER
        | inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    let cap = limit.saturating_add(1);
    // (`max` then `min`, not `clamp`: `clamp` panics if its bounds cross.)
    let mut out = vec![0u8; input.len().saturating_mul(4).max(64).min(cap)];
    let mut decomp = Box::<DecompressorOxide>::default();
    let mut in_pos = 0usize;
    let mut out_pos = 0usize;
    loop {
        let rest = input.get(in_pos..).unwrap_or_default();
        let (status, used_in, used_out) = decompress(&mut decomp, rest, &mut out, out_pos, flags);
        in_pos = in_pos.saturating_add(used_in);
        out_pos = out_pos.saturating_add(used_out);
        match status {
            TINFLStatus::Done => {
                if out_pos > limit {
                    return Err(InflateError::TooLarge { limit });
                }
                if in_pos != input.len() {
                    return Err(InflateError::TrailingData {
                        extra: input.len().saturating_sub(in_pos),
                    });
                }
                out.truncate(out_pos);
                return Ok(out);
            }
            TINFLStatus::HasMoreOutput => {
                if out.len() >= cap {
                    return Err(InflateError::TooLarge { limit });
                }
                let grown = out.len().saturating_mul(2).min(cap);
                out.resize(grown, 0);
            }
            TINFLStatus::Adler32Mismatch => {
                return Err(InflateError::Zlib {
                    reason: "Adler-32 checksum mismatch",
                })
            }
            TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => {
                return Err(InflateError::Zlib {
                    reason: "truncated stream",
                })
            }
            // `Failed`, `BadParam`, and any status a feature of miniz_oxide may add.
            _ => {
                return Err(InflateError::Zlib {
                    reason: "invalid zlib header or DEFLATE data",
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bomb_refused() {
        let data = b"licence licence licence licence".repeat(10);
        assert_eq!(inflate(&deflate(&data), 1 << 16).unwrap(), data);
        let bomb = deflate(&vec![0u8; 10 << 20]);
        assert!(bomb.len() < 20_000);
        assert_eq!(
            inflate(&bomb, 1 << 16),
            Err(InflateError::TooLarge { limit: 1 << 16 })
        );
        assert_eq!(inflate(b"\xff\xff\xff", 100), Err(InflateError::Corrupt));
    }
}
