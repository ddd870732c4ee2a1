//! Real tokens and HR1 texts mutated (cut, bit-flipped, bytes replaced), random input, invalid
//! UTF-8 and HR1 texts that are almost right. The oracle for mutated text is the normalisation
//! itself ([`Corpus::text`]): only text that normalises to a real token may be valid.

use super::{Corpus, Expect, Real};
use crate::client::post;
use crate::model::MALFORMED;
use crate::XorShift;

/// Real tokens and HR1 texts cut at every length bucket.
pub(super) fn truncations(c: &mut Corpus, real: &Real) {
    for (i, (token, text)) in real.valid.iter().zip(&real.valid_qr).enumerate() {
        for (cat, s) in [("truncated_token", token), ("truncated_hr1", text)] {
            let len = s.len();
            let mut cuts: Vec<usize> = (0..=16).collect();
            cuts.extend((1..48).map(|k| len * k / 48));
            cuts.extend(len - 16..len);
            cuts.sort_unstable();
            cuts.dedup();
            for (n, cut) in cuts.into_iter().enumerate() {
                c.text(
                    cat,
                    format!("real {i} cut at {cut}/{len}"),
                    &s.as_bytes()[..cut],
                    token,
                    &real.valid,
                    n,
                );
            }
        }
    }
}

/// Real tokens and HR1 texts with one bit flipped or one byte replaced.
pub(super) fn bit_flips_and_substitutions(c: &mut Corpus, real: &Real, rng: &mut XorShift) {
    for (i, (token, text)) in real.valid.iter().zip(&real.valid_qr).enumerate() {
        for (form, s) in [("token", token), ("hr1", text)] {
            for n in 0..40 {
                let mut bytes = s.as_bytes().to_vec();
                let at = rng.below(bytes.len());
                let bit = rng.below(8);
                bytes[at] ^= 1 << bit;
                c.text(
                    "bit_flip",
                    format!("{form} {i} byte {at} bit {bit}"),
                    &bytes,
                    token,
                    &real.valid,
                    n,
                );
            }
            for n in 0..40 {
                let mut bytes = s.as_bytes().to_vec();
                let at = rng.below(bytes.len());
                let alphabet = b"0123456789ABCXYZabcxyz-_.+/= \n\t\x00\x7f:";
                let new = if n % 3 == 0 {
                    rng.byte()
                } else {
                    alphabet[rng.below(alphabet.len())]
                };
                if bytes[at] == new {
                    continue;
                }
                bytes[at] = new;
                c.text(
                    "substitution",
                    format!("{form} {i} byte {at} := {new:#04x}"),
                    &bytes,
                    token,
                    &real.valid,
                    n + 1,
                );
            }
        }
    }
}

/// Random bytes in every transport, and random strings over the JWS and HR1 alphabets.
pub(super) fn random_input(c: &mut Corpus, real: &Real, rng: &mut XorShift) {
    for n in 0..150 {
        let len = match n % 5 {
            0 => rng.below(16),
            1 => rng.below(256),
            2 => rng.below(4096),
            3 => rng.below(70_000),
            _ => rng.below(200_000),
        };
        let bytes = rng.bytes(len);
        // Random bytes are (almost always) not UTF-8, and never a JSON object; where they
        // happen to be UTF-8 text, the model judges that text.
        let (req, expect) = match (n % 3, std::str::from_utf8(&bytes)) {
            (0, Err(_)) => (
                post(Some("text/plain"), &bytes),
                Expect::Problem(400, "not_utf8"),
            ),
            (1, Err(_)) => (post(None, &bytes), Expect::Problem(400, "not_utf8")),
            (0, Ok(text)) => (
                post(Some("text/plain"), &bytes),
                crate::model::judge(text, &real.valid[0], &real.valid),
            ),
            (1, Ok(text)) => (
                post(None, &bytes),
                crate::model::judge(text, &real.valid[0], &real.valid),
            ),
            _ => {
                assert!(serde_json::from_slice::<serde_json::Value>(&bytes).is_err());
                (
                    post(Some("application/json"), &bytes),
                    Expect::Problem(400, "malformed_json"),
                )
            }
        };
        c.add(
            "random_bytes",
            format!("{len} random bytes #{n}"),
            req,
            expect,
        );
    }
    // Random strings over the JWS and HR1 alphabets (these reach the decoder).
    for n in 0..60 {
        let len = 1 + rng.below(3000);
        let s: String = if n % 2 == 0 {
            let a = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_...";
            (0..len)
                .map(|_| char::from(a[rng.below(a.len())]))
                .collect()
        } else {
            let digits: String = (0..len * 2)
                .map(|_| char::from(b'0' + (rng.below(10) as u8)))
                .collect();
            format!("HR1:{digits}")
        };
        c.text(
            "random_alphabet",
            format!("{len} alphabet chars #{n}"),
            s.as_bytes(),
            // Random text must fail before anything is compared with a real token.
            &real.valid[0],
            &real.valid,
            n,
        );
    }
}

/// Invalid UTF-8 after a real token's first bytes, and Unicode that only looks right.
pub(super) fn invalid_utf8(c: &mut Corpus, real: &Real) {
    let bad_utf8: [&[u8]; 10] = [
        b"\xff",
        b"\xc0\xaf",         // overlong '/'
        b"\xe0\x80\xaf",     // overlong
        b"\xed\xa0\x80",     // encoded surrogate
        b"\xf4\x90\x80\x80", // beyond U+10FFFF
        b"\x80\x80\x80",     // lone continuations
        b"\xe6\x97",         // truncated multi-byte
        b"HR1:56\xff76",
        b"eyJ\xc3hbGc.e30.AAAA",
        b"\xfe\xff\x00H\x00R\x001\x00:", // UTF-16 with BOM
    ];
    for (n, bad) in bad_utf8.iter().enumerate() {
        for transport in 0..3 {
            let mut body = real.valid[n % real.valid.len()].as_bytes()[..40].to_vec();
            body.extend_from_slice(bad);
            let (name, req, expect) = match transport {
                0 => (
                    "text/plain",
                    post(Some("text/plain"), &body),
                    Expect::Problem(400, "not_utf8"),
                ),
                1 => (
                    "no content type",
                    post(None, &body),
                    Expect::Problem(400, "not_utf8"),
                ),
                _ => {
                    let mut json = b"{\"qr\":\"".to_vec();
                    json.extend_from_slice(&body);
                    json.extend_from_slice(b"\"}");
                    (
                        "json",
                        post(Some("application/json"), &json),
                        Expect::Problem(400, "malformed_json"),
                    )
                }
            };
            c.add(
                "invalid_utf8",
                format!("sample {n} via {name}"),
                req,
                expect,
            );
        }
    }
    c.add(
        "invalid_utf8",
        "BOM then real token",
        post(
            Some("text/plain"),
            format!("\u{feff}{}", real.valid[0]).as_bytes(),
        ),
        // U+FEFF is not whitespace a scanner types, nor a token character.
        MALFORMED,
    );
    c.add(
        "invalid_utf8",
        "full-width HR1 digits",
        post(Some("text/plain"), "HR1:５６７６".as_bytes()),
        MALFORMED,
    );
}

/// HR1 texts that are almost right.
pub(super) fn hr1_oddities(c: &mut Corpus, real: &Real) {
    let cat = "hr1_odd";
    let text = &real.valid_qr[0];
    for (name, s) in [
        ("HR1: alone".to_owned(), "HR1:".to_owned()),
        ("odd digits 123".into(), "HR1:123".into()),
        ("non-digit".into(), "HR1:12a4".into()),
        ("pair 99".into(), "HR1:99".into()),
        (
            "real minus last digit".into(),
            text[..text.len() - 1].to_owned(),
        ),
        ("real plus one digit".into(), format!("{text}5")),
        (
            "real with a letter inside".into(),
            format!("{}x{}", &text[..100], &text[101..]),
        ),
        (
            "real with a NUL".into(),
            format!("{}\u{0}{}", &text[..100], &text[100..]),
        ),
        (
            "real with U+00A0".into(),
            format!("{}\u{a0}{}", &text[..100], &text[100..]),
        ),
        (
            "real with U+3000".into(),
            format!("{}\u{3000}{}", &text[..100], &text[100..]),
        ),
        ("double prefix".into(), format!("HR1:{text}")),
        ("HR2 prefix".into(), format!("HR2:{}", &text[4..])),
        ("prefix without colon".into(), format!("HR1{}", &text[4..])),
        ("digits only".into(), text[4..].to_owned()),
        ("fullwidth colon".into(), format!("HR1：{}", &text[4..])),
        (
            "131,072 digits".into(),
            format!("HR1:{}", "56".repeat(65_536)),
        ),
        (
            "1,000,000 digits".into(),
            format!("HR1:{}", "0".repeat(1_000_000)),
        ),
        (
            "token as HR1 pairs of 77".into(),
            format!("HR1:{}", "77".repeat(2000)),
        ),
        ("negative-looking".into(), "HR1:-1".into()),
        (
            "prefix in token position".into(),
            format!("{}HR1:", real.valid[0]),
        ),
    ] {
        c.add(
            cat,
            name,
            post(Some("text/plain"), s.as_bytes()),
            Expect::Invalid(&["malformed"]),
        );
    }
    c.add(
        cat,
        "real with tabs and spaces",
        post(
            Some("text/plain"),
            format!(" \t{}\t{} \r\n", &text[..50], &text[50..]).as_bytes(),
        ),
        Expect::Valid,
    );
    c.add(
        cat,
        "hR1: mixed-case prefix",
        post(Some("text/plain"), format!("hR1:{}", &text[4..]).as_bytes()),
        Expect::Valid,
    );
}
