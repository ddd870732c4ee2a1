//! Raw DEFLATE (RFC 1951) for JWS `zip: "DEF"`, with a hard limit on inflated size.
//!
//! A token of a few kilobytes can inflate to gigabytes; every inflate here stops at the
//! caller's limit and reports it instead of allocating further.

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
