//! JSON bodies: deep, long and wide documents, and fields of the wrong type or shape.

use super::{Corpus, Expect, Real};
use crate::client::{json_body, post};
use crate::model::MALFORMED;

/// JSON that is deep, long or wide.
pub(super) fn huge(c: &mut Corpus, real: &Real) {
    let cat = "huge_json";
    c.lazy(
        cat,
        "10,000 nested arrays",
        || {
            post(
                Some("application/json"),
                format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).as_bytes(),
            )
        },
        Expect::Problem(400, "malformed_json"),
    );
    c.lazy(
        cat,
        "token: 10,000 nested arrays",
        || {
            post(
                Some("application/json"),
                format!("{{\"token\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000)).as_bytes(),
            )
        },
        Expect::Problem(400, "malformed_json"),
    );
    c.lazy(
        cat,
        "10,000 nested objects",
        || {
            post(
                Some("application/json"),
                format!("{}1{}", "{\"token\":".repeat(10_000), "}".repeat(10_000)).as_bytes(),
            )
        },
        Expect::Problem(400, "malformed_json"),
    );
    c.lazy(
        cat,
        "unclosed 1 MiB of [",
        || post(Some("application/json"), "[".repeat(1 << 20).as_bytes()),
        Expect::Problem(400, "malformed_json"),
    );
    c.lazy(
        cat,
        "9 MiB token string",
        || {
            post(
                Some("application/json"),
                &json_body("token", &"A".repeat(9 << 20)),
            )
        },
        Expect::Invalid(&["malformed"]),
    );
    c.lazy(
        cat,
        "9 MiB qr digits",
        || {
            post(
                Some("application/json"),
                &json_body("qr", &format!("HR1:{}", "5".repeat(9 << 20))),
            )
        },
        Expect::Invalid(&["malformed"]),
    );
    c.lazy(
        cat,
        "9 MiB of \\u escapes",
        || {
            post(
                Some("application/json"),
                format!("{{\"token\":\"{}\"}}", "\\u00e9".repeat(1_500_000)).as_bytes(),
            )
        },
        MALFORMED,
    );
    c.lazy(
        cat,
        "9 MiB text/plain whitespace",
        || post(Some("text/plain"), " ".repeat(9 << 20).as_bytes()),
        MALFORMED,
    );
    c.lazy(
        cat,
        "9 MiB whitespace then real token",
        {
            let token = real.valid[0].clone();
            move || {
                post(
                    Some("text/plain"),
                    format!("{}{token}", "\n".repeat(9 << 20)).as_bytes(),
                )
            }
        },
        Expect::Invalid(&["malformed"]),
    );
    c.lazy(
        cat,
        "200,000 keys",
        || {
            let mut s = String::from("{");
            for k in 0..200_000 {
                s.push_str(&format!("\"k{k}\":{k},"));
            }
            s.push_str("\"token\":\"x\"}");
            post(Some("application/json"), s.as_bytes())
        },
        Expect::Problem(400, "malformed_json"),
    );
    c.lazy(
        cat,
        "200,000 duplicate token keys",
        || {
            let mut s = String::from("{");
            for _ in 0..200_000 {
                s.push_str("\"token\":\"x\",");
            }
            s.push_str("\"token\":\"x\"}");
            post(Some("application/json"), s.as_bytes())
        },
        Expect::Problem(400, "malformed_json"),
    );
    c.lazy(
        cat,
        "array of 1,000,000 numbers",
        || {
            let inner = vec!["1"; 1_000_000].join(",");
            post(
                Some("application/json"),
                format!("{{\"token\":[{inner}]}}").as_bytes(),
            )
        },
        Expect::Problem(400, "malformed_json"),
    );
    c.lazy(
        cat,
        "number with 1,000,000 digits",
        || {
            post(
                Some("application/json"),
                format!("{{\"token\":{}}}", "9".repeat(1_000_000)).as_bytes(),
            )
        },
        Expect::Problem(400, "malformed_json"),
    );
}

/// JSON of the wrong types and shapes.
pub(super) fn wrong_types(c: &mut Corpus, real: &Real) {
    let cat = "json_types";
    let token = &real.valid[0];
    for (name, body, expect) in [
        (
            "token number",
            r#"{"token":1}"#.to_owned(),
            Expect::Problem(400, "malformed_json"),
        ),
        (
            "token float",
            r#"{"token":1e999}"#.to_owned(),
            Expect::Problem(400, "malformed_json"),
        ),
        (
            "token bool",
            r#"{"token":true}"#.to_owned(),
            Expect::Problem(400, "malformed_json"),
        ),
        (
            "token array",
            format!(r#"{{"token":["{token}"]}}"#),
            Expect::Problem(400, "malformed_json"),
        ),
        (
            "token object",
            format!(r#"{{"token":{{"token":"{token}"}}}}"#),
            Expect::Problem(400, "malformed_json"),
        ),
        (
            "qr number",
            r#"{"qr":123456}"#.to_owned(),
            Expect::Problem(400, "malformed_json"),
        ),
        (
            "token null",
            r#"{"token":null}"#.to_owned(),
            Expect::Problem(400, "missing_input"),
        ),
        (
            "empty object",
            "{}".to_owned(),
            Expect::Problem(400, "missing_input"),
        ),
        (
            "top-level array",
            format!(r#"["{token}"]"#),
            Expect::Problem(400, "malformed_json"),
        ),
        (
            "top-level string",
            format!(r#""{token}""#),
            Expect::Problem(400, "malformed_json"),
        ),
        (
            "top-level null",
            "null".to_owned(),
            Expect::Problem(400, "malformed_json"),
        ),
        (
            "top-level number",
            "42".to_owned(),
            Expect::Problem(400, "malformed_json"),
        ),
        (
            "empty body",
            String::new(),
            Expect::Problem(400, "malformed_json"),
        ),
        (
            "unknown field",
            format!(r#"{{"token":"{token}","extra":1}}"#),
            Expect::Problem(400, "malformed_json"),
        ),
        (
            "duplicate token",
            format!(r#"{{"token":"{token}","token":"{token}"}}"#),
            Expect::Problem(400, "malformed_json"),
        ),
        (
            "trailing garbage",
            format!(r#"{{"token":"{token}"}} x"#),
            Expect::Problem(400, "malformed_json"),
        ),
        (
            "two documents",
            format!(r#"{{"token":"{token}"}}{{"token":"x"}}"#),
            Expect::Problem(400, "malformed_json"),
        ),
        (
            "lone surrogate escape",
            r#"{"token":"\ud800"}"#.to_owned(),
            Expect::Problem(400, "malformed_json"),
        ),
        ("NUL escape", r#"{"token":"\u0000"}"#.to_owned(), MALFORMED),
        ("empty token", r#"{"token":""}"#.to_owned(), MALFORMED),
        ("empty qr", r#"{"qr":""}"#.to_owned(), MALFORMED),
        (
            "token with escaped slash",
            r#"{"token":"eyJ\/.e30.AAAA"}"#.to_owned(),
            MALFORMED,
        ),
        (
            "single quotes",
            format!("{{'token':'{token}'}}"),
            Expect::Problem(400, "malformed_json"),
        ),
        (
            "comment",
            format!("{{/*x*/\"token\":\"{token}\"}}"),
            Expect::Problem(400, "malformed_json"),
        ),
        (
            "BOM before JSON",
            format!("\u{feff}{{\"token\":\"{token}\"}}"),
            Expect::Problem(400, "malformed_json"),
        ),
        (
            "JSON as text/plain",
            format!(r#"{{"token":"{token}"}}"#),
            MALFORMED,
        ),
        (
            "token valid, qr garbage",
            format!(r#"{{"token":"{token}","qr":"HR1:1"}}"#),
            Expect::Valid,
        ),
        (
            "token garbage, qr valid",
            format!(r#"{{"token":"x","qr":"{}"}}"#, real.valid_qr[0]),
            MALFORMED,
        ),
    ] {
        let ct = if name == "JSON as text/plain" {
            "text/plain"
        } else {
            "application/json"
        };
        c.add(cat, name, post(Some(ct), body.as_bytes()), expect);
    }
}
