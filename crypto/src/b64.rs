//! Strict base64url (RFC 4648 §5, no padding) and standard base64 for DER in JSON.
//!
//! Decoding refuses padding, non-alphabet characters and non-canonical trailing bits, so every
//! accepted string has exactly one byte meaning: a flipped bit in a token can never decode to
//! the same bytes.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

/// base64url without padding.
pub fn encode_url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Strict base64url decode, refusing input longer than `max_chars`.
pub fn decode_url(text: &str, max_chars: usize) -> Result<Vec<u8>, Base64Error> {
    if text.len() > max_chars {
        return Err(Base64Error::TooLong { max_chars });
    }
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| Base64Error::Invalid)
}

/// Standard base64 with padding (DER certificates in JSON, as `x5c` uses).
pub fn encode_std(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Strict standard base64 decode, refusing input longer than `max_chars`.
pub fn decode_std(text: &str, max_chars: usize) -> Result<Vec<u8>, Base64Error> {
    if text.len() > max_chars {
        return Err(Base64Error::TooLong { max_chars });
    }
    STANDARD.decode(text).map_err(|_| Base64Error::Invalid)
}

/// Why base64 text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Base64Error {
    /// Longer than the caller's bound.
    #[error("longer than {max_chars} characters")]
    TooLong {
        /// The bound.
        max_chars: usize,
    },
    /// Not canonical base64 of the expected alphabet.
    #[error("not canonical base64")]
    Invalid,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_decoding_is_strict() {
        assert_eq!(decode_url("AQI", 10).unwrap(), vec![1, 2]);
        assert!(decode_url("AQI=", 10).is_err(), "padding refused");
        assert!(
            decode_url("AQJ", 10).is_err(),
            "non-canonical trailing bits refused"
        );
        assert!(decode_url("A+I", 10).is_err(), "standard alphabet refused");
        assert!(decode_url("AQIAQI", 3).is_err(), "length bound");
    }
}
