//! What a correct service answers to text made from a real token (cut, a bit flipped, a byte
//! replaced) or to random text, decided from the formats alone (SPEC §3, §3.1, §6 steps 1–4)
//! and not from the service's code: where the change lands — outside the token alphabet, in
//! the HR1 digit pairs, in the header, the payload or the signature of the compact JWS — fixes
//! the one outcome code.
//!
//! - Scanned text: ASCII whitespace is dropped anywhere (scanners type line breaks into long
//!   codes); `HR1:` (any case) must be followed by an even number of digits whose pairs give
//!   JWS characters; anything else must be JWS characters only. Otherwise: `malformed`.
//! - The JWS: three parts, the header and signature canonical base64url, the header a JSON
//!   object. Otherwise: `malformed`.
//! - The header against the real token's: a parameter added, lost or renamed, or a changed
//!   `typ` or `zip`, is `malformed`; a changed `alg` string is `unsupported_algorithm`; a changed
//!   `x5t#S256` that is still 32 bytes of base64url names no trusted signer (`unknown_signer`),
//!   otherwise it is `malformed`.
//! - A signer found, any other difference in the signed bytes or the signature is
//!   `bad_signature`: the signature covers the exact received `header.payload` bytes.
//!
//! Each of these stops verification, so the report lists exactly that one code. Used by the
//! hostile corpus (`tests/verifier_hostile`) and the exhaustive bit flips of
//! `tests/verification.rs`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// Largest licence token a verifier reads (`huren_crypto::jws::MAX_LICENCE_TOKEN_BYTES`).
const MAX_TOKEN_BYTES: usize = 64 * 1024;
/// Largest signature a verifier reads (RSA-8192: 1024 bytes).
const MAX_SIGNATURE_BYTES: usize = 1024;

/// The one outcome code a verifier reports for scanned `text` made from the real token
/// `original`, or `None` when the text still stands for `original` itself.
pub fn refusal(text: &str, original: &str) -> Option<&'static str> {
    let Some(token) = normalise(text) else {
        return Some("malformed");
    };
    if token == original {
        return None;
    }
    Some(judge_token(&token, original))
}

/// The token scanned `text` stands for, or `None` when it is not one.
pub fn normalise(text: &str) -> Option<String> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let is_jws_char = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.');
    let bytes = compact.as_bytes();
    if bytes.len() >= 4 && bytes[..4].eq_ignore_ascii_case(b"HR1:") {
        let digits = &bytes[4..];
        if digits.is_empty() || digits.len() % 2 != 0 {
            return None;
        }
        let mut token = String::with_capacity(digits.len() / 2);
        for pair in digits.chunks_exact(2) {
            if !pair.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let c = (pair[0] - b'0') * 10 + (pair[1] - b'0') + 45;
            if !is_jws_char(c) {
                return None;
            }
            token.push(char::from(c));
        }
        Some(token)
    } else if !bytes.is_empty() && bytes.iter().all(|b| is_jws_char(*b)) {
        Some(compact)
    } else {
        None
    }
}

/// The outcome code for `token` (JWS characters only), which is not `original`, compared
/// with the real token `original`.
fn judge_token(token: &str, original: &str) -> &'static str {
    if token.len() > MAX_TOKEN_BYTES {
        return "malformed";
    }
    let parts: Vec<&str> = token.split('.').collect();
    let &[header_b64, payload_b64, signature_b64] = parts.as_slice() else {
        return "malformed";
    };
    let Ok(header) = URL_SAFE_NO_PAD.decode(header_b64) else {
        return "malformed";
    };
    let original_parts: Vec<&str> = original.split('.').collect();
    let original_header = URL_SAFE_NO_PAD.decode(original_parts[0]).unwrap();
    if let Some(refused) = judge_header(&header, &original_header) {
        return refused;
    }
    match URL_SAFE_NO_PAD.decode(signature_b64) {
        Ok(signature) if signature.len() <= MAX_SIGNATURE_BYTES => {}
        _ => return "malformed",
    }
    // The header names the real signer; whatever else differs, the signature no longer
    // covers these bytes (a token equal to `original` would have been valid).
    assert!(
        header_b64 != original_parts[0]
            || payload_b64 != original_parts[1]
            || signature_b64 != original_parts[2],
        "the model judged the real token"
    );
    "bad_signature"
}

/// Why the header `header` (decoded) is refused, compared with the real token's `original`;
/// `None` when it still names the real signer and algorithm.
fn judge_header(header: &[u8], original: &[u8]) -> Option<&'static str> {
    type Object = serde_json::Map<String, serde_json::Value>;
    let Ok(header) = serde_json::from_slice::<Object>(header) else {
        return Some("malformed");
    };
    let original: Object = serde_json::from_slice(original).unwrap();
    if header.keys().ne(original.keys()) {
        return Some("malformed");
    }
    for (name, value) in &header {
        if *value == original[name] {
            continue;
        }
        return Some(match (name.as_str(), value.as_str()) {
            ("alg", Some(_)) => "unsupported_algorithm",
            ("x5t#S256", Some(x5t))
                if URL_SAFE_NO_PAD
                    .decode(x5t)
                    .is_ok_and(|bytes| bytes.len() == 32) =>
            {
                "unknown_signer"
            }
            _ => "malformed",
        });
    }
    None
}
