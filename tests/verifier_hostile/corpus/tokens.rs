//! Hostile tokens: deflate bombs under licence headers and real tokens dressed in hostile JWS
//! headers or broken into the wrong shape. Each report must list the outcome code given.

use huren_crypto::{b64, qr};

use super::{jws, Corpus, Expect, Real};
use crate::client::{json_body, post};
use crate::model::{BAD_SIGNATURE, MALFORMED, UNKNOWN_SIGNER, UNSUPPORTED_ALGORITHM};
use crate::pki::{Pki, RawSigning};

/// Deflate bombs under licence headers: refused without their claims ever being inflated.
pub(super) fn deflate_bombs(c: &mut Corpus, pki: &Pki) {
    let zj = pki.zhejiang;
    let cat = "deflate_bomb";
    let header = |x5t: &str| {
        format!(r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}","zip":"DEF"}}"#)
    };
    // 100 MB of zeros, raw DEFLATE (~100 KB): too long to be a licence at all.
    let bomb_100m = {
        let zeros = vec![0u8; 100_000_000];
        huren_crypto::deflate::deflate(&zeros)
    };
    let unsigned = jws(&header(&zj.x5t()), &bomb_100m, &[7u8; 64]);
    c.add(
        cat,
        format!(
            "100 MB of zeros ({} bytes deflated), unsigned",
            bomb_100m.len()
        ),
        post(Some("text/plain"), unsigned.as_bytes()),
        Expect::Invalid(&["malformed"]),
    );
    c.0.last_mut().unwrap().bomb = true;
    c.add(
        cat,
        "100 MB bomb in json",
        post(Some("application/json"), &json_body("token", &unsigned)),
        Expect::Invalid(&["malformed"]),
    );
    c.0.last_mut().unwrap().bomb = true;
    // 40 MB of zeros fits under the 64 KiB token limit: it reaches the signature check.
    let bomb_40m = huren_crypto::deflate::deflate(&vec![0u8; 40_000_000]);
    let fits = jws(&header(&zj.x5t()), &bomb_40m, &[7u8; 64]);
    assert!(
        fits.len() < huren_crypto::jws::MAX_LICENCE_TOKEN_BYTES,
        "{}",
        fits.len()
    );
    c.add(
        cat,
        "40 MB bomb under zhejiang's x5t, bad signature",
        post(Some("text/plain"), fits.as_bytes()),
        Expect::Invalid(&["bad_signature"]),
    );
    c.0.last_mut().unwrap().bomb = true;
    c.add(
        cat,
        "40 MB bomb as HR1",
        post(Some("text/plain"), qr::encode(&fits).unwrap().as_bytes()),
        Expect::Invalid(&["bad_signature"]),
    );
    c.0.last_mut().unwrap().bomb = true;
    let unknown = jws(&header(&b64::encode_url(&[9u8; 32])), &bomb_40m, &[7u8; 64]);
    c.add(
        cat,
        "40 MB bomb, unknown signer",
        post(Some("text/plain"), unknown.as_bytes()),
        Expect::Invalid(&["unknown_signer"]),
    );
    c.0.last_mut().unwrap().bomb = true;
    let none = jws(
        r#"{"alg":"none","typ":"licence+jwt","zip":"DEF"}"#,
        &bomb_40m,
        b"",
    );
    c.add(
        cat,
        "40 MB bomb, alg none",
        post(Some("text/plain"), none.as_bytes()),
        Expect::Invalid(&["unsupported_algorithm"]),
    );
    c.0.last_mut().unwrap().bomb = true;
    // A bomb the issuer's own key signed: the signature holds, the inflate limit must stop it.
    let signed = zj.sign_raw(&bomb_40m, true);
    c.add(
        cat,
        "40 MB bomb signed by zhejiang",
        post(Some("text/plain"), signed.as_bytes()),
        Expect::Invalid(&["malformed"]),
    );
    c.0.last_mut().unwrap().bomb = true;
}

/// The real token's header swapped for one with a hostile `alg`.
pub(super) fn jws_algorithms(c: &mut Corpus, pki: &Pki, real: &Real) {
    let x5t = pki.zhejiang.x5t();
    let ah = pki.anhui;
    let real_jws = RealJws::of(&real.valid[0]);
    let with = |header: String, sig: &[u8]| real_jws.with(header, sig);
    let real_sig = real_jws.signature();
    jws_header_cases(
        c,
        [
            (
                "alg none",
                with(
                    format!(r#"{{"alg":"none","typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
                    b"",
                ),
                UNSUPPORTED_ALGORITHM,
            ),
            (
                "alg None",
                with(
                    format!(r#"{{"alg":"None","typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
                    b"",
                ),
                UNSUPPORTED_ALGORITHM,
            ),
            (
                "alg empty",
                with(
                    format!(r#"{{"alg":"","typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
                    b"",
                ),
                UNSUPPORTED_ALGORITHM,
            ),
            (
                "alg HS256",
                with(
                    format!(r#"{{"alg":"HS256","typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
                    &[1u8; 32],
                ),
                UNSUPPORTED_ALGORITHM,
            ),
            (
                "alg ES384",
                with(
                    format!(r#"{{"alg":"ES384","typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
                    &real_sig,
                ),
                UNSUPPORTED_ALGORITHM,
            ),
            (
                "alg es256 lowercase",
                with(
                    format!(r#"{{"alg":"es256","typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
                    &real_sig,
                ),
                UNSUPPORTED_ALGORITHM,
            ),
            (
                "alg RS256 on an EC key",
                with(
                    format!(r#"{{"alg":"RS256","typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
                    &[1u8; 256],
                ),
                UNSUPPORTED_ALGORITHM,
            ),
            (
                "alg PS256 on an EC key",
                with(
                    format!(r#"{{"alg":"PS256","typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
                    &[1u8; 256],
                ),
                UNSUPPORTED_ALGORITHM,
            ),
            (
                "alg SM2SM3 on an EC key",
                with(
                    format!(r#"{{"alg":"SM2SM3","typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
                    &real_sig,
                ),
                UNSUPPORTED_ALGORITHM,
            ),
            (
                "alg ES256 on the SM2 key",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{}"}}"#,
                        ah.x5t()
                    ),
                    &real_sig,
                ),
                UNSUPPORTED_ALGORITHM,
            ),
            (
                "alg array",
                with(
                    format!(r#"{{"alg":["ES256"],"typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
                    &real_sig,
                ),
                MALFORMED,
            ),
            (
                "alg missing",
                with(
                    format!(r#"{{"typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
                    &real_sig,
                ),
                MALFORMED,
            ),
        ],
    );
}

/// The real token's header swapped for one with hostile or unknown parameters.
pub(super) fn jws_parameters(c: &mut Corpus, pki: &Pki, real: &Real) {
    let x5t = pki.zhejiang.x5t();
    let real_jws = RealJws::of(&real.valid[0]);
    let with = |header: String, sig: &[u8]| real_jws.with(header, sig);
    let real_sig = real_jws.signature();
    let real_zip = real_jws.zip();
    jws_header_cases(
        c,
        [
            (
                "crit",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}","crit":["exp"]}}"#
                    ),
                    &real_sig,
                ),
                MALFORMED,
            ),
            (
                "crit empty",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}","crit":[]}}"#
                    ),
                    &real_sig,
                ),
                MALFORMED,
            ),
            (
                "jku",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}","jku":"https://evil.example/jwks"}}"#
                    ),
                    &real_sig,
                ),
                MALFORMED,
            ),
            (
                "jwk",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}","jwk":{{"kty":"EC"}}}}"#
                    ),
                    &real_sig,
                ),
                MALFORMED,
            ),
            (
                "x5u",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}","x5u":"https://evil.example/c"}}"#
                    ),
                    &real_sig,
                ),
                MALFORMED,
            ),
            (
                "jku null",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}","jku":null}}"#
                    ),
                    &real_sig,
                ),
                BAD_SIGNATURE,
            ),
            (
                "duplicate alg",
                with(
                    format!(
                        r#"{{"alg":"ES256","alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}"}}"#
                    ),
                    &real_sig,
                ),
                MALFORMED,
            ),
            (
                "unknown parameter",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}","b64":false}}"#
                    ),
                    &real_sig,
                ),
                MALFORMED,
            ),
            (
                "typ JWT",
                with(
                    format!(r#"{{"alg":"ES256","typ":"JWT","x5t#S256":"{x5t}"}}"#),
                    &real_sig,
                ),
                MALFORMED,
            ),
            (
                "typ missing",
                with(
                    format!(r#"{{"alg":"ES256","x5t#S256":"{x5t}"}}"#),
                    &real_sig,
                ),
                MALFORMED,
            ),
            (
                "x5t missing",
                with(
                    r#"{"alg":"ES256","typ":"licence+jwt"}"#.to_owned(),
                    &real_sig,
                ),
                MALFORMED,
            ),
            (
                "x5t short",
                with(
                    r#"{"alg":"ES256","typ":"licence+jwt","x5t#S256":"AAAA"}"#.to_owned(),
                    &real_sig,
                ),
                MALFORMED,
            ),
            (
                "x5t unknown",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{}"}}"#,
                        b64::encode_url(&[0u8; 32])
                    ),
                    &real_sig,
                ),
                UNKNOWN_SIGNER,
            ),
            (
                "x5t of the outsider",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{}"}}"#,
                        pki.outsider.x5t()
                    ),
                    &real_sig,
                ),
                UNKNOWN_SIGNER,
            ),
            (
                "x5t number",
                with(
                    r#"{"alg":"ES256","typ":"licence+jwt","x5t#S256":5}"#.to_owned(),
                    &real_sig,
                ),
                MALFORMED,
            ),
            (
                "x5c garbage",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}","x5c":["!!"]}}"#
                    ),
                    &real_sig,
                ),
                MALFORMED,
            ),
            (
                "zip GZIP",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}","zip":"GZIP"}}"#
                    ),
                    &real_sig,
                ),
                MALFORMED,
            ),
            (
                "zip DEF toggled",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}"{}}}"#,
                        if real_zip { "" } else { r#","zip":"DEF""# }
                    ),
                    &real_sig,
                ),
                BAD_SIGNATURE,
            ),
            (
                "kid 20 KiB",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}","kid":"{}"}}"#,
                        "k".repeat(20_000)
                    ),
                    &real_sig,
                ),
                BAD_SIGNATURE,
            ),
            (
                "header over 32 KiB",
                with(
                    format!(
                        r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}","kid":"{}"}}"#,
                        "k".repeat(40_000)
                    ),
                    &real_sig,
                ),
                MALFORMED,
            ),
            ("header array", with("[]".to_owned(), &real_sig), MALFORMED),
            (
                "header not JSON",
                with("\u{0}\u{1}".to_owned(), &real_sig),
                MALFORMED,
            ),
            (
                "header deep JSON",
                with(
                    format!("{}{}", "[".repeat(20_000), "]".repeat(20_000)),
                    &real_sig,
                ),
                MALFORMED,
            ),
            (
                "header with escaped alg",
                with(
                    format!(r#"{{"\u0061lg":"none","typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
                    b"",
                ),
                UNSUPPORTED_ALGORITHM,
            ),
        ],
    );
}

/// The real token with its signature, padding or number of parts broken.
pub(super) fn jws_shapes(c: &mut Corpus, real: &Real) {
    let real_token = &real.valid[0];
    let real_jws = RealJws::of(real_token);
    let (real_payload_b64, real_sig_b64) = (real_jws.payload_b64, real_jws.signature_b64);
    jws_header_cases(
        c,
        [
            (
                "real header, signature empty",
                format!(
                    "{}.{real_payload_b64}.",
                    real_token.split('.').next().unwrap()
                ),
                BAD_SIGNATURE,
            ),
            (
                "real header, signature zeros",
                format!(
                    "{}.{real_payload_b64}.{}",
                    real_token.split('.').next().unwrap(),
                    b64::encode_url(&[0u8; 64])
                ),
                BAD_SIGNATURE,
            ),
            (
                "real header, signature 2048 bytes",
                format!(
                    "{}.{real_payload_b64}.{}",
                    real_token.split('.').next().unwrap(),
                    b64::encode_url(&[1u8; 2048])
                ),
                MALFORMED,
            ),
            (
                "real header, payload re-encoded with padding",
                format!(
                    "{}.{real_payload_b64}=.{real_sig_b64}",
                    real_token.split('.').next().unwrap()
                ),
                MALFORMED,
            ),
            (
                "two parts",
                format!(
                    "{}.{real_payload_b64}",
                    real_token.split('.').next().unwrap()
                ),
                MALFORMED,
            ),
            (
                "four parts",
                format!("{real_token}.{real_sig_b64}"),
                MALFORMED,
            ),
            ("empty parts", "..".to_owned(), MALFORMED),
            (
                "JWS JSON serialization",
                serde_json::json!({"payload": real_payload_b64, "signatures": []}).to_string(),
                MALFORMED,
            ),
        ],
    );
}

/// A real token taken apart, to be put together again with another header.
struct RealJws<'a> {
    payload_b64: &'a str,
    signature_b64: &'a str,
    header: String,
}

impl<'a> RealJws<'a> {
    fn of(token: &'a str) -> RealJws<'a> {
        let mut parts = token.split('.');
        let (header_b64, payload_b64, signature_b64) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let header = String::from_utf8(b64::decode_url(header_b64, 1 << 20).unwrap()).unwrap();
        RealJws {
            payload_b64,
            signature_b64,
            header,
        }
    }

    fn signature(&self) -> Vec<u8> {
        b64::decode_url(self.signature_b64, 1 << 20).unwrap()
    }

    /// Whether the real token is compressed.
    fn zip(&self) -> bool {
        self.header.contains(r#""zip":"DEF""#)
    }

    /// The real payload under `header`, with signature `sig`.
    fn with(&self, header: String, sig: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            b64::encode_url(header.as_bytes()),
            self.payload_b64,
            b64::encode_url(sig)
        )
    }
}

/// Adds each `(name, token, expect)` as text/plain.
fn jws_header_cases(
    c: &mut Corpus,
    cases: impl IntoIterator<Item = (&'static str, String, Expect)>,
) {
    for (name, token, expect) in cases {
        c.add(
            "jws_header",
            name,
            post(Some("text/plain"), token.as_bytes()),
            expect,
        );
    }
}
