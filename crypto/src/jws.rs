//! JWS compact serialization (RFC 7515) under huren's header rules (SPEC §2).
//!
//! Parsing yields an [`UnverifiedJws`] whose payload cannot be read; only a successful
//! signature check turns it into a [`VerifiedJws`], and only that type hands out the payload
//! (inflating `zip: "DEF"` under a limit). The signature is always checked over the exact
//! received `header.payload` bytes, never over a re-encoding.
//!
//! Header rules: `alg` comes only from the protected header and must be one of
//! [`Algorithm`]; `jku`, `jwk`, `x5u` and any `crit` are refused, as is any parameter not
//! listed in [`Header`] and any duplicated parameter.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::alg::Algorithm;
use crate::b64;
use crate::deflate::{self, InflateError};
use crate::key::{PublicKey, SignatureError};
use crate::sign::{SignError, Signer};

/// Largest licence token accepted, in bytes.
pub const MAX_LICENCE_TOKEN_BYTES: usize = 64 * 1024;
/// Largest inflated licence payload (SPEC §3: 64 KiB).
pub const MAX_LICENCE_PAYLOAD_BYTES: usize = 64 * 1024;
/// Largest protected header accepted (base64url characters); room for an `x5c` chain.
pub const MAX_HEADER_CHARS: usize = 32 * 1024;
/// Largest signature accepted (RSA-8192 is 1024 bytes).
pub const MAX_SIGNATURE_BYTES: usize = 1024;

/// Size limits for one kind of token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest compact serialization, in bytes.
    pub max_token_bytes: usize,
    /// Largest payload after base64url decoding and inflating, in bytes.
    pub max_payload_bytes: usize,
}

impl Limits {
    /// Limits for licence tokens.
    pub const LICENCE: Limits = Limits {
        max_token_bytes: MAX_LICENCE_TOKEN_BYTES,
        max_payload_bytes: MAX_LICENCE_PAYLOAD_BYTES,
    };
}

/// A protected header that passed the header rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The signature algorithm.
    pub alg: Algorithm,
    /// Media type of the whole token, e.g. `licence+jwt`.
    pub typ: Option<String>,
    /// SHA-256 of the signer certificate's DER.
    pub x5t_s256: Option<[u8; 32]>,
    /// Certificate chain, DER, signer first.
    pub x5c: Vec<Vec<u8>>,
    /// Whether the payload is raw-DEFLATE compressed (`zip: "DEF"`).
    pub zip: bool,
    /// Key identifier (informational; lookups use `x5t#S256`).
    pub kid: Option<String>,
}

/// The header as JSON; every accepted parameter is named, so `deny_unknown_fields` turns any
/// other parameter into an error naming it, and serde refuses duplicated parameters.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader<'a> {
    // Borrowed from the decoded header where JSON has no escapes (always, for huren's own
    // tokens): parsing runs once per verification.
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    typ: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        rename = "x5t#S256",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    x5t_s256: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x5c: Option<Vec<String>>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    zip: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
    // Present only so their appearance is reported by name rather than as "unknown field".
    #[serde(default, skip_serializing)]
    crit: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    jku: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    jwk: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    x5u: Option<serde_json::Value>,
}

/// Only `alg`, for reporting an unsupported algorithm in a header that is also otherwise
/// broken (so `{"alg":"HS256","typ":"JWT","foo":1}` is called what it is).
#[derive(Deserialize)]
struct AlgOnly {
    alg: Option<String>,
}

/// Why a JWS was refused before or after its signature was checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    /// Over the size limit.
    #[error("token longer than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// Not three dot-separated parts.
    #[error("not a JWS compact serialization (expected 3 dot-separated parts, found {parts})")]
    WrongPartCount {
        /// Parts found.
        parts: usize,
    },
    /// A part is not canonical base64url.
    #[error("{part} is not canonical base64url")]
    BadBase64 {
        /// Which part.
        part: &'static str,
    },
    /// The header is not the JSON object the rules allow.
    #[error("protected header: {0}")]
    BadHeader(String),
    /// `alg` is not accepted.
    #[error("algorithm {0:?} is not accepted (accepted: ES256, PS256, RS256, SM2SM3)")]
    UnsupportedAlgorithm(String),
    /// A header parameter huren refuses (`jku`, `jwk`, `x5u`, `crit`).
    #[error("header parameter {0:?} is not allowed")]
    ForbiddenHeader(&'static str),
    /// `typ` is not what this kind of token must say.
    #[error("typ is {found:?}, expected {expected:?}")]
    WrongType {
        /// What the header said.
        found: Option<String>,
        /// What was required.
        expected: &'static str,
    },
    /// Payload inflate failed.
    #[error("payload: {0}")]
    Inflate(#[from] InflateError),
    /// Payload larger than the limit.
    #[error("payload larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit.
        limit: usize,
    },
}

/// A parsed, not yet verified JWS. Its payload is not accessible.
#[derive(Debug, Clone)]
pub struct UnverifiedJws<'a> {
    signing_input: &'a str,
    payload_b64: &'a str,
    header: Header,
    signature: Vec<u8>,
}

/// A JWS whose signature verified under a key the caller chose. Only
/// [`UnverifiedJws::verify`] makes one.
#[derive(Debug, Clone)]
pub struct VerifiedJws<'a> {
    payload_b64: &'a str,
    header: Header,
}

impl<'a> UnverifiedJws<'a> {
    /// Parses a compact JWS under `limits` and the header rules.
    pub fn parse(token: &'a str, limits: Limits) -> Result<Self, JwsError> {
        if token.len() > limits.max_token_bytes {
            return Err(JwsError::TooLarge {
                limit: limits.max_token_bytes,
            });
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwsError::WrongPartCount {
                parts: token.split('.').count(),
            });
        };
        let header_json = b64::decode_url(header_b64, MAX_HEADER_CHARS)
            .map_err(|_| JwsError::BadBase64 { part: "header" })?;
        let header = parse_header(&header_json)?;
        // The payload stays encoded until the signature verifies, but a malformed one is
        // reported now so that no signature work is spent on it.
        // A fold without early exit: the compiler vectorises it, and this scan runs on every
        // verification (a short-circuiting `any` cost as much as the header parse).
        if !payload_b64
            .bytes()
            .fold(true, |ok, b| ok & is_base64url_byte(b))
        {
            return Err(JwsError::BadBase64 { part: "payload" });
        }
        let signature = b64::decode_url(signature_b64, MAX_SIGNATURE_BYTES * 4 / 3 + 4)
            .map_err(|_| JwsError::BadBase64 { part: "signature" })?;
        let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];
        Ok(UnverifiedJws {
            signing_input,
            payload_b64,
            header,
            signature,
        })
    }

    /// The protected header (trustworthy only as far as the rules go: not yet authenticated).
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The exact bytes the signature covers.
    pub fn signing_input(&self) -> &'a [u8] {
        self.signing_input.as_bytes()
    }

    /// Checks the signature with `key`, under the header's `alg`.
    pub fn verify(self, key: &PublicKey) -> Result<VerifiedJws<'a>, SignatureError> {
        key.verify_jws(
            self.header.alg,
            self.signing_input.as_bytes(),
            &self.signature,
        )?;
        Ok(VerifiedJws {
            payload_b64: self.payload_b64,
            header: self.header,
        })
    }
}

impl VerifiedJws<'_> {
    /// The authenticated header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The payload bytes, inflated if `zip: "DEF"`, refusing more than `max_bytes`.
    pub fn payload(&self, max_bytes: usize) -> Result<Vec<u8>, JwsError> {
        let raw = b64::decode_url(self.payload_b64, max_bytes.saturating_mul(4) / 3 + 4).map_err(
            |e| match e {
                b64::Base64Error::TooLong { .. } => JwsError::PayloadTooLarge { limit: max_bytes },
                b64::Base64Error::Invalid => JwsError::BadBase64 { part: "payload" },
            },
        )?;
        if self.header.zip {
            Ok(deflate::inflate(&raw, max_bytes)?)
        } else if raw.len() > max_bytes {
            Err(JwsError::PayloadTooLarge { limit: max_bytes })
        } else {
            Ok(raw)
        }
    }
}

impl Header {
    /// Refuses the token unless `typ` is exactly `expected`.
    pub fn expect_typ(&self, expected: &'static str) -> Result<(), JwsError> {
        if self.typ.as_deref() == Some(expected) {
            Ok(())
        } else {
            Err(JwsError::WrongType {
                found: self.typ.clone(),
                expected,
            })
        }
    }
}

fn is_base64url_byte(b: u8) -> bool {
    // Bitwise `|`, not `||`: branch-free, so the scan above vectorises.
    b.is_ascii_alphanumeric() | (b == b'-') | (b == b'_')
}

fn parse_header(json: &[u8]) -> Result<Header, JwsError> {
    let raw: RawHeader = match serde_json::from_slice(json) {
        Ok(raw) => raw,
        Err(e) => {
            if let Ok(AlgOnly { alg: Some(alg) }) = serde_json::from_slice::<AlgOnly>(json) {
                if alg.parse::<Algorithm>().is_err() {
                    return Err(JwsError::UnsupportedAlgorithm(truncate(&alg)));
                }
            }
            return Err(JwsError::BadHeader(e.to_string()));
        }
    };
    let alg = raw
        .alg
        .parse::<Algorithm>()
        .map_err(|_| JwsError::UnsupportedAlgorithm(truncate(&raw.alg)))?;
    for (present, name) in [
        (raw.crit.is_some(), "crit"),
        (raw.jku.is_some(), "jku"),
        (raw.jwk.is_some(), "jwk"),
        (raw.x5u.is_some(), "x5u"),
    ] {
        if present {
            return Err(JwsError::ForbiddenHeader(name));
        }
    }
    let x5t_s256 = match raw.x5t_s256 {
        None => None,
        Some(text) => {
            let bytes = b64::decode_url(&text, 64)
                .map_err(|_| JwsError::BadHeader("x5t#S256 is not base64url".into()))?;
            Some(
                <[u8; 32]>::try_from(bytes.as_slice())
                    .map_err(|_| JwsError::BadHeader("x5t#S256 is not 32 bytes".into()))?,
            )
        }
    };
    let x5c = raw
        .x5c
        .unwrap_or_default()
        .iter()
        .map(|c| b64::decode_std(c, crate::cert::MAX_CERT_BYTES * 4 / 3 + 4))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| JwsError::BadHeader("x5c entry is not base64 DER".into()))?;
    let zip = match raw.zip.as_deref() {
        None => false,
        Some("DEF") => true,
        Some(other) => {
            return Err(JwsError::BadHeader(format!(
                "zip {:?} is not supported (only \"DEF\")",
                truncate(other)
            )))
        }
    };
    Ok(Header {
        alg,
        typ: raw.typ.map(Cow::into_owned),
        x5t_s256,
        x5c,
        zip,
        kid: raw.kid,
    })
}

fn truncate(s: &str) -> String {
    s.chars().take(32).collect()
}

/// What to put in a header when signing. `alg` comes from the signer.
#[derive(Debug, Clone, Default)]
pub struct HeaderParams {
    /// `typ`.
    pub typ: Option<&'static str>,
    /// `x5t#S256` of the signer certificate.
    pub x5t_s256: Option<[u8; 32]>,
    /// `x5c` chain (DER), signer first.
    pub x5c: Vec<Vec<u8>>,
    /// Set `zip: "DEF"`; the payload passed to [`sign_compact`] must then already be deflated.
    pub zip: bool,
}

/// Signs `payload` (already deflated if `params.zip`) as a compact JWS.
pub fn sign_compact(
    params: &HeaderParams,
    payload: &[u8],
    signer: &dyn Signer,
) -> Result<String, SignError> {
    let raw = RawHeader {
        alg: Cow::Borrowed(signer.algorithm().name()),
        typ: params.typ.map(Cow::Borrowed),
        x5t_s256: params.x5t_s256.map(|t| Cow::Owned(b64::encode_url(&t))),
        x5c: (!params.x5c.is_empty())
            .then(|| params.x5c.iter().map(|c| b64::encode_std(c)).collect()),
        zip: params.zip.then_some(Cow::Borrowed("DEF")),
        kid: None,
        crit: None,
        jku: None,
        jwk: None,
        x5u: None,
    };
    let header = serde_json::to_vec(&raw).map_err(|_| SignError {
        algorithm: signer.algorithm(),
        reason: "header does not serialize",
    })?;
    let mut token = b64::encode_url(&header);
    token.push('.');
    token.push_str(&b64::encode_url(payload));
    let signature = signer.sign(token.as_bytes())?;
    token.push('.');
    token.push_str(&b64::encode_url(&signature));
    Ok(token)
}

/// Serializes `claims` and decides on compression: `zip: "DEF"` is used only when the deflated
/// payload makes the token shorter (the EU DCC lesson: zlib made 58 % of payloads larger).
pub fn sign_json_compact<T: Serialize>(
    params: &HeaderParams,
    claims: &T,
    signer: &dyn Signer,
    allow_zip: bool,
) -> Result<String, SignError> {
    let json = serde_json::to_vec(claims).map_err(|_| SignError {
        algorithm: signer.algorithm(),
        reason: "claims do not serialize",
    })?;
    if allow_zip {
        let deflated = deflate::deflate(&json);
        // `,"zip":"DEF"` adds 12 header bytes, 16 base64url characters.
        if b64_len(deflated.len()) + 16 < b64_len(json.len()) {
            let params = HeaderParams {
                zip: true,
                ..params.clone()
            };
            return sign_compact(&params, &deflated, signer);
        }
    }
    sign_compact(params, &json, signer)
}

fn b64_len(bytes: usize) -> usize {
    (bytes * 4).div_ceil(3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(header: &str) -> String {
        format!(
            "{}.{}.{}",
            b64::encode_url(header.as_bytes()),
            "e30",
            "AAAA"
        )
    }

    fn parse(header: &str) -> Result<Header, JwsError> {
        let t = token(header);
        UnverifiedJws::parse(&t, Limits::LICENCE).map(|j| j.header().clone())
    }

    #[test]
    fn header_rules() {
        assert!(parse(r#"{"alg":"ES256","typ":"licence+jwt"}"#).is_ok());
        assert_eq!(
            parse(r#"{"alg":"none"}"#),
            Err(JwsError::UnsupportedAlgorithm("none".into()))
        );
        assert_eq!(
            parse(r#"{"alg":"HS256","typ":"JWT","foo":1}"#),
            Err(JwsError::UnsupportedAlgorithm("HS256".into()))
        );
        assert_eq!(
            parse(r#"{"alg":"ES256","jku":"https://evil"}"#),
            Err(JwsError::ForbiddenHeader("jku"))
        );
        assert_eq!(
            parse(r#"{"alg":"ES256","crit":["exp"]}"#),
            Err(JwsError::ForbiddenHeader("crit"))
        );
        assert!(
            matches!(parse(r#"{"alg":"ES256","foo":1}"#), Err(JwsError::BadHeader(m)) if m.contains("foo"))
        );
        assert!(matches!(
            parse(r#"{"alg":"ES256","alg":"ES256"}"#),
            Err(JwsError::BadHeader(m)) if m.contains("duplicate")
        ));
        assert!(matches!(
            parse(r#"{"alg":"ES256","zip":"GZIP"}"#),
            Err(JwsError::BadHeader(_))
        ));
        assert!(matches!(
            parse(r#"{"alg":"ES256","x5t#S256":"AAAA"}"#),
            Err(JwsError::BadHeader(_))
        ));
        assert!(matches!(parse("[]"), Err(JwsError::BadHeader(_))));
    }

    #[test]
    fn structure_rules() {
        let parse = |t: &str| UnverifiedJws::parse(t, Limits::LICENCE).map(|_| ());
        assert_eq!(parse("a.b"), Err(JwsError::WrongPartCount { parts: 2 }));
        assert_eq!(parse("a.b.c.d"), Err(JwsError::WrongPartCount { parts: 4 }));
        assert_eq!(
            parse("!!.e30.AAAA"),
            Err(JwsError::BadBase64 { part: "header" })
        );
        let header = b64::encode_url(br#"{"alg":"ES256"}"#);
        assert_eq!(
            parse(&format!("{header}.e3+.AAAA")),
            Err(JwsError::BadBase64 { part: "payload" })
        );
        assert_eq!(
            parse(&format!("{header}.e30.A")),
            Err(JwsError::BadBase64 { part: "signature" })
        );
        let huge = "a".repeat(MAX_LICENCE_TOKEN_BYTES + 1);
        assert!(matches!(parse(&huge), Err(JwsError::TooLarge { .. })));
    }
}
