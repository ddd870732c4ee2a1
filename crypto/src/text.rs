//! Deserializing parse-don't-validate text types straight from the input's `&str`.
//!
//! `#[serde(try_from = "String")]` allocates a `String` per field before parsing it; a licence
//! has about ten such fields and verification parses one per scan, so the types here read the
//! borrowed text when the deserializer has it (serde_json does, for strings without escapes)
//! and fall back to an owned one otherwise.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Visitor};

/// Deserializes a string and hands it to `parse`; a parse error becomes a custom serde error
/// with `parse`'s message (which names what is wrong, not the field: serde_json adds where).
pub(crate) fn deserialize_parsed<'de, D, T, E>(
    deserializer: D,
    parse: fn(&str) -> Result<T, E>,
) -> Result<T, D::Error>
where
    D: de::Deserializer<'de>,
    E: fmt::Display,
{
    struct ParsedVisitor<T, E> {
        parse: fn(&str) -> Result<T, E>,
        target: PhantomData<T>,
    }

    impl<T, E: fmt::Display> Visitor<'_> for ParsedVisitor<T, E> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }

        fn visit_str<X: de::Error>(self, text: &str) -> Result<T, X> {
            (self.parse)(text).map_err(X::custom)
        }
    }

    deserializer.deserialize_str(ParsedVisitor {
        parse,
        target: PhantomData,
    })
}
