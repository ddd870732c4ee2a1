//! Raw DEFLATE (RFC 1951) for JWS `zip: "DEF"`, with a hard limit on inflated size.
//!
//! A token of a few kilobytes can inflate to gigabytes; every inflate here stops at the
//! caller's limit and reports it instead of allocating further.

use miniz_oxide::inflate::TINFLStatus;

/// Compresses with raw DEFLATE at the best level (licences are signed once, read many times).
pub fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec(data, 9)
}

/// Inflates raw DEFLATE, refusing output larger than `limit` bytes.
pub fn inflate(data: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
    miniz_oxide::inflate::decompress_to_vec_with_limit(data, limit).map_err(|e| match e.status {
        TINFLStatus::HasMoreOutput => InflateError::TooLarge { limit },
        _ => InflateError::Corrupt,
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
