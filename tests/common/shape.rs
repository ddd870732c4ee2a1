//! Checks a JSON answer against the shape the SPEC gives it: every key present, no key the
//! shape does not name, every value of the named type. A `!is_null()` check passes for a
//! field of the wrong type or a renamed one beside it; this does not.
//!
//! A shape is JSON: an object lists its keys exactly; an array `[s]` is an array whose every
//! element has shape `s` (and which is not empty: an empty array would check nothing); a
//! string names a leaf type, with `?` after it for "or null":
//! `string`, `integer` (unsigned), `boolean`, `rfc3339` (a date-time with an offset), `url`
//! (`http://` or `https://`), `file` (a path to a file that exists), `hex64` (a SHA-256 in
//! lower-case hex), `any`.

use serde_json::Value;

/// Panics naming the first path where `value` departs from `shape`.
pub fn assert_shape(value: &Value, shape: &Value) {
    if let Err(problem) = check(value, shape, "$") {
        panic!("{problem}\nin {value:#}");
    }
}

fn check(value: &Value, shape: &Value, at: &str) -> Result<(), String> {
    match shape {
        Value::Object(keys) => {
            let object = value
                .as_object()
                .ok_or_else(|| format!("{at}: an object expected, found {value}"))?;
            let unexpected: Vec<&String> =
                object.keys().filter(|k| !keys.contains_key(*k)).collect();
            if !unexpected.is_empty() {
                return Err(format!(
                    "{at}: keys the shape does not name: {unexpected:?}"
                ));
            }
            for (key, inner) in keys {
                let found = object
                    .get(key)
                    .ok_or_else(|| format!("{at}: key {key:?} missing"))?;
                check(found, inner, &format!("{at}.{key}"))?;
            }
            Ok(())
        }
        Value::Array(element) => {
            let [element] = element.as_slice() else {
                return Err(format!("{at}: an array shape names one element shape"));
            };
            let items = value
                .as_array()
                .ok_or_else(|| format!("{at}: an array expected, found {value}"))?;
            if items.is_empty() {
                return Err(format!("{at}: an empty array checks nothing"));
            }
            for (i, item) in items.iter().enumerate() {
                check(item, element, &format!("{at}[{i}]"))?;
            }
            Ok(())
        }
        Value::String(leaf) => {
            let (leaf, nullable) = match leaf.strip_suffix('?') {
                Some(leaf) => (leaf, true),
                None => (leaf.as_str(), false),
            };
            if nullable && value.is_null() {
                return Ok(());
            }
            if is_leaf(value, leaf)? {
                Ok(())
            } else {
                Err(format!("{at}: {leaf} expected, found {value}"))
            }
        }
        other => Err(format!("{at}: {other} is not a shape")),
    }
}

fn is_leaf(value: &Value, leaf: &str) -> Result<bool, String> {
    let text = value.as_str();
    Ok(match leaf {
        "string" => text.is_some(),
        "integer" => value.is_u64(),
        "boolean" => value.is_boolean(),
        "rfc3339" => text.is_some_and(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).is_ok()
        }),
        "url" => text.is_some_and(|t| t.starts_with("http://") || t.starts_with("https://")),
        "file" => text.is_some_and(|t| std::path::Path::new(t).is_file()),
        "hex64" => text.is_some_and(|t| {
            t.len() == 64
                && t.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        }),
        "any" => true,
        other => return Err(format!("unknown leaf type {other:?}")),
    })
}
