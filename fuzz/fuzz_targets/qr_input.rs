//! `qr::normalise_input` on arbitrary text, plus properties:
//! * whatever it returns is a non-empty-or-empty string of JWS characters only, and
//!   normalising it again is the identity (for non-empty results);
//! * round trip: for the JWS-alphabet characters of the input, `encode` succeeds and
//!   `normalise_input(encode(t))` returns `t` — also with scanner noise (lower-case prefix,
//!   CRLF, a line break in the middle).
#![no_main]

use huren_crypto::qr::{self, QrError};
use libfuzzer_sys::fuzz_target;

fn is_jws_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match qr::normalise_input(&text) {
        Ok(token) => {
            assert!(token.chars().all(is_jws_char), "non-JWS char in {token:?}");
            if !token.is_empty() {
                assert_eq!(qr::normalise_input(&token).as_deref(), Ok(token.as_str()));
            }
        }
        Err(QrError::TooLong { .. }) => assert!(text.len() > qr::MAX_INPUT_BYTES),
        Err(_) => {}
    }

    // Round trip over the JWS characters of the input.
    let token: String = text.chars().filter(|c| is_jws_char(*c)).collect();
    let encoded = qr::encode(&token).expect("JWS characters always encode");
    assert!(encoded[qr::PREFIX.len()..]
        .bytes()
        .all(|b| b.is_ascii_digit()));
    // An empty token encodes to the bare prefix, which reads back as "nothing scanned".
    let expected = if token.is_empty() {
        Err(&QrError::Empty)
    } else {
        Ok(token.as_str())
    };
    if encoded.len() <= qr::MAX_INPUT_BYTES {
        assert_eq!(qr::normalise_input(&encoded).as_deref(), expected);
        let (head, tail) = encoded.split_at(qr::PREFIX.len() + (encoded.len() - 4) / 2);
        let noisy = format!(" {}\r\n{tail}\n", head.to_lowercase());
        if noisy.len() <= qr::MAX_INPUT_BYTES {
            assert_eq!(qr::normalise_input(&noisy).as_deref(), expected);
        }
    }
    // `encode` refuses anything outside the alphabet.
    if let Some(bad) = text.chars().find(|c| !is_jws_char(*c)) {
        assert!(qr::encode(&format!("a{bad}")).is_err());
    }
});
