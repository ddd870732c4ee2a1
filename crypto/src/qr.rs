//! The `HR1:` QR text form of a token (SPEC §3.1) and the normalisation of scanned input.
//!
//! Every JWS character `c` is written as the two decimal digits of `ord(c) - 45`, so the whole
//! payload after the prefix is digits and a QR encoder uses numeric mode (SMART Health Cards'
//! trick: about 20 % smaller codes than byte mode for base64url).

/// The prefix of huren QR text.
pub const PREFIX: &str = "HR1:";

/// Largest scanned input accepted (the `HR1:` form is twice the token length).
pub const MAX_INPUT_BYTES: usize = 2 * crate::jws::MAX_LICENCE_TOKEN_BYTES + 64;

/// Encodes a compact JWS as `HR1:` numeric text. Characters outside the JWS alphabet
/// (base64url and `.`) are refused.
///
/// ```
/// let qr = huren_crypto::qr::encode("eyJh.e30.c2ln").unwrap();
/// assert_eq!(qr, "HR1:56762959015606030154056365");
/// assert_eq!(huren_crypto::qr::normalise_input(&format!("{qr}\r\n")).unwrap(), "eyJh.e30.c2ln");
/// ```
pub fn encode(token: &str) -> Result<String, QrError> {
    let mut out = String::with_capacity(PREFIX.len() + 2 * token.len());
    out.push_str(PREFIX);
    for (position, c) in token.chars().enumerate() {
        if !is_jws_char(c) {
            return Err(QrError::InvalidTokenChar { position });
        }
        let value = c as u32 - 45;
        out.push(char::from(b'0' + (value / 10) as u8));
        out.push(char::from(b'0' + (value % 10) as u8));
    }
    Ok(out)
}

/// Turns scanned or pasted input into a compact JWS: accepts `HR1:` numeric text (prefix in
/// any case) or a bare JWS, and drops ASCII whitespace anywhere (scanners type a trailing
/// Enter; some split long codes into lines). Neither alphabet contains whitespace, so this
/// cannot change what the token says.
///
/// This runs on every verification, so the common case (well-formed input) takes one pass over
/// bytes; the position-precise error of a bad input is worked out only when needed.
pub fn normalise_input(input: &str) -> Result<String, QrError> {
    if input.len() > MAX_INPUT_BYTES {
        return Err(QrError::TooLong {
            limit: MAX_INPUT_BYTES,
        });
    }
    let trimmed = input.trim_ascii();
    if let Some(token) = fast_normalise(trimmed) {
        return Ok(token);
    }
    let compact: String = trimmed
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if let Some(token) = fast_normalise(&compact) {
        return Ok(token);
    }
    Err(explain_failure(&compact))
}

/// One branch-free pass (it vectorizes); `None` for anything not well-formed.
fn fast_normalise(compact: &str) -> Option<String> {
    let bytes = compact.as_bytes();
    let has_prefix = bytes.len() >= PREFIX.len()
        && bytes[..PREFIX.len()].eq_ignore_ascii_case(PREFIX.as_bytes());
    if !has_prefix {
        let ok = !bytes.is_empty() && bytes.iter().fold(true, |ok, &b| ok & is_jws_byte(b));
        return ok.then(|| compact.to_owned());
    }
    let digits = &bytes[PREFIX.len()..];
    if digits.is_empty() || digits.len() % 2 != 0 {
        return None;
    }
    let mut ok = true;
    let mut token = vec![0u8; digits.len() / 2];
    for (out, pair) in token.iter_mut().zip(digits.chunks_exact(2)) {
        let (tens, units) = (pair[0].wrapping_sub(b'0'), pair[1].wrapping_sub(b'0'));
        let c = tens.wrapping_mul(10).wrapping_add(units).wrapping_add(45);
        ok &= (tens <= 9) & (units <= 9) & is_jws_byte(c);
        *out = c;
    }
    if !ok {
        return None;
    }
    String::from_utf8(token).ok()
}

/// Arithmetic test for base64url and `.` (no table, no branch).
fn is_jws_byte(c: u8) -> bool {
    (c.wrapping_sub(b'0') < 10)
        | (c.wrapping_sub(b'A') < 26)
        | (c.wrapping_sub(b'a') < 26)
        | (c == b'-')
        | (c == b'.')
        | (c == b'_')
}

/// The precise reason `compact` (whitespace already removed) is not a token.
fn explain_failure(compact: &str) -> QrError {
    if compact.is_empty() {
        return QrError::Empty;
    }
    let has_prefix = compact
        .get(..PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(PREFIX));
    if !has_prefix {
        let position = compact.chars().position(|c| !is_jws_char(c)).unwrap_or(0);
        return QrError::InvalidTokenChar { position };
    }
    let digits = &compact[PREFIX.len()..];
    if digits.is_empty() {
        return QrError::Empty;
    }
    match decode_digits(digits) {
        Err(e) => e,
        // Unreachable when the fast path refused it; fail closed all the same.
        Ok(_) => QrError::OddDigitCount,
    }
}

fn decode_digits(digits: &str) -> Result<String, QrError> {
    let bytes = digits.as_bytes();
    if bytes.len() % 2 != 0 {
        return Err(QrError::OddDigitCount);
    }
    let mut token = String::with_capacity(bytes.len() / 2);
    for (pair_index, pair) in bytes.chunks_exact(2).enumerate() {
        let position = PREFIX.len() + 2 * pair_index;
        let (tens, units) = (pair[0], pair[1]);
        if !tens.is_ascii_digit() || !units.is_ascii_digit() {
            return Err(QrError::NotADigit { position });
        }
        let value = u32::from((tens - b'0') * 10 + (units - b'0')) + 45;
        match char::from_u32(value).filter(|c| is_jws_char(*c)) {
            Some(c) => token.push(c),
            None => return Err(QrError::InvalidDigitPair { position }),
        }
    }
    Ok(token)
}

fn is_jws_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'
}

/// Why scanned text is not a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    /// Nothing but whitespace.
    #[error("input is empty")]
    Empty,
    /// Over the size bound.
    #[error("input longer than {limit} bytes")]
    TooLong {
        /// The bound.
        limit: usize,
    },
    /// `HR1:` text with an odd number of digits (truncated scan).
    #[error("HR1 text has an odd number of digits (truncated?)")]
    OddDigitCount,
    /// A non-digit in `HR1:` text.
    #[error("HR1 text has a non-digit at position {position}")]
    NotADigit {
        /// Byte position after whitespace removal.
        position: usize,
    },
    /// A digit pair that is no JWS character.
    #[error("HR1 text has an invalid digit pair at position {position}")]
    InvalidDigitPair {
        /// Byte position after whitespace removal.
        position: usize,
    },
    /// A character outside base64url and `.` in a token.
    #[error("token has an invalid character at position {position}")]
    InvalidTokenChar {
        /// Character position after whitespace removal.
        position: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodes_the_jws_alphabet_as_digit_pairs() {
        assert_eq!(encode("-.09AZ_az").unwrap(), "HR1:000103122045505277");
        assert!(encode("a b").is_err());
    }

    #[test]
    fn scanner_input_is_normalised() {
        let qr = encode("eyJh.eyJi.c2ln").unwrap();
        assert_eq!(
            normalise_input(&format!("{qr}\r\n")).unwrap(),
            "eyJh.eyJi.c2ln"
        );
        assert_eq!(
            normalise_input(&qr.to_lowercase()).unwrap(),
            "eyJh.eyJi.c2ln"
        );
        assert_eq!(
            normalise_input("  eyJh.eyJi.c2ln\n").unwrap(),
            "eyJh.eyJi.c2ln"
        );
        assert_eq!(normalise_input(" \n "), Err(QrError::Empty));
        assert_eq!(normalise_input("HR1:\n"), Err(QrError::Empty));
        assert_eq!(normalise_input("HR1:123"), Err(QrError::OddDigitCount));
        assert_eq!(
            normalise_input("HR1:12a4"),
            Err(QrError::NotADigit { position: 6 })
        );
        assert_eq!(
            normalise_input("HR1:99"),
            Err(QrError::InvalidDigitPair { position: 4 })
        );
        assert!(normalise_input("eyJh.eyJi.c2ln!").is_err());
    }

    proptest! {
        #[test]
        fn encode_then_normalise_round_trips(token in "[A-Za-z0-9_.-]{1,400}") {
            let qr = encode(&token).unwrap();
            prop_assert!(qr[PREFIX.len()..].bytes().all(|b| b.is_ascii_digit()));
            prop_assert_eq!(normalise_input(&qr).unwrap(), token);
        }

        #[test]
        fn normalise_never_panics(input in any::<String>()) {
            let _ = normalise_input(&input);
        }
    }
}
