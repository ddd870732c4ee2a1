//! PEM text (RFC 7468) in: the one reader of the workspace, for certificates, CRLs, the pinned
//! operator certificates and, through [`find_block`], the private-key files (which decode
//! their block into memory they wipe).
//!
//! Lenient where real files differ and strict where it matters: text outside the blocks is
//! ignored (OpenSSL writes "Bag Attributes" and comments there), any line width and line ending
//! is accepted inside a block; the END label must repeat the BEGIN label, the body must be
//! standard base64, and every decoded block is bounded.

use std::ops::Range;

use crate::b64;

const BEGIN: &str = "-----BEGIN ";
const END: &str = "-----END ";
const DASHES: &str = "-----";

/// Why a PEM text was refused. The messages name what is wrong, never the content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PemError {
    /// No `-----BEGIN …-----` line.
    #[error("no PEM block")]
    NoBlock,
    /// A block without its `-----END …-----` line.
    #[error("unterminated PEM block")]
    Unterminated,
    /// The END label differs from the BEGIN label.
    #[error("PEM block BEGIN {begin:?} ends with END {end:?}")]
    MismatchedEnd {
        /// The BEGIN label.
        begin: String,
        /// The END label.
        end: String,
    },
    /// The body is not standard base64.
    #[error("the PEM body is not base64")]
    NotBase64,
    /// A block decodes to more than the caller's bound.
    #[error("a PEM block is larger than {max_bytes} bytes")]
    TooLarge {
        /// The bound.
        max_bytes: usize,
    },
    /// A block has another label than the one asked for.
    #[error("found PEM label {found:?}, expected {expected:?}")]
    WrongLabel {
        /// Asked for.
        expected: String,
        /// Found.
        found: String,
    },
    /// Not exactly one block.
    #[error("expected one PEM block, found {found}")]
    NotOne {
        /// How many there are.
        found: usize,
    },
}

/// One decoded block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemBlock {
    /// The label, e.g. `CERTIFICATE`.
    pub label: String,
    /// The DER it holds.
    pub der: Vec<u8>,
}

/// The byte range of the first complete PEM block in `text`: from `-----BEGIN ` through the
/// dashes closing its `-----END …-----` line. `None` if there is none.
pub fn find_block(text: &[u8]) -> Option<Range<usize>> {
    let start = find(text, BEGIN.as_bytes())?;
    let end_line = start + find(&text[start..], END.as_bytes())? + END.len();
    let end = end_line + find(&text[end_line..], DASHES.as_bytes())? + DASHES.len();
    Some(start..end)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Every block of `text`, in order, each decoding to at most `max_bytes`.
pub fn decode_all(text: &[u8], max_bytes: usize) -> Result<Vec<PemBlock>, PemError> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while find(rest, BEGIN.as_bytes()).is_some() {
        let range = find_block(rest).ok_or(PemError::Unterminated)?;
        blocks.push(decode_block(&rest[range.clone()], max_bytes)?);
        rest = &rest[range.end..];
    }
    if blocks.is_empty() {
        return Err(PemError::NoBlock);
    }
    Ok(blocks)
}

/// The DER of every block of `text`, all labelled `label`.
pub fn decode_labelled(
    text: &[u8],
    label: &str,
    max_bytes: usize,
) -> Result<Vec<Vec<u8>>, PemError> {
    decode_all(text, max_bytes)?
        .into_iter()
        .map(|block| {
            if block.label == label {
                Ok(block.der)
            } else {
                Err(PemError::WrongLabel {
                    expected: label.to_owned(),
                    found: block.label,
                })
            }
        })
        .collect()
}

/// The DER of every block of `text` labelled `label`, in order; blocks with other labels are
/// skipped without being decoded (a key or a legacy encrypted block beside the certificates).
pub fn decode_only(text: &[u8], label: &str, max_bytes: usize) -> Result<Vec<Vec<u8>>, PemError> {
    let mut found = Vec::new();
    let mut rest = text;
    while find(rest, BEGIN.as_bytes()).is_some() {
        let range = find_block(rest).ok_or(PemError::Unterminated)?;
        let block = &rest[range.clone()];
        let wanted = block
            .get(BEGIN.len()..)
            .and_then(|after| after.strip_prefix(label.as_bytes()))
            .is_some_and(|after| after.starts_with(DASHES.as_bytes()));
        if wanted {
            found.push(decode_block(block, max_bytes)?.der);
        }
        rest = &rest[range.end..];
    }
    Ok(found)
}

/// The DER of the one block of `text`, labelled `label`.
pub fn decode_one(text: &[u8], label: &str, max_bytes: usize) -> Result<Vec<u8>, PemError> {
    let mut all = decode_labelled(text, label, max_bytes)?;
    match all.len() {
        1 => Ok(all.remove(0)),
        found => Err(PemError::NotOne { found }),
    }
}

/// Decodes one block as [`find_block`] delimits it.
fn decode_block(block: &[u8], max_bytes: usize) -> Result<PemBlock, PemError> {
    let text = std::str::from_utf8(block).map_err(|_| PemError::NotBase64)?;
    let after_begin = &text[BEGIN.len()..];
    let (label, after_label) = after_begin
        .split_once(DASHES)
        .ok_or(PemError::Unterminated)?;
    let end_at = after_label.rfind(END).ok_or(PemError::Unterminated)?;
    let body = &after_label[..end_at];
    let end_label = after_label[end_at + END.len()..]
        .strip_suffix(DASHES)
        .ok_or(PemError::Unterminated)?;
    if end_label != label {
        return Err(PemError::MismatchedEnd {
            begin: label.to_owned(),
            end: end_label.to_owned(),
        });
    }
    let base64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let max_chars = max_bytes.div_ceil(3) * 4;
    let der = b64::decode_std(&base64, max_chars).map_err(|e| match e {
        b64::Base64Error::TooLong { .. } => PemError::TooLarge { max_bytes },
        _ => PemError::NotBase64,
    })?;
    if der.len() > max_bytes {
        return Err(PemError::TooLarge { max_bytes });
    }
    Ok(PemBlock {
        label: label.to_owned(),
        der,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----";

    #[test]
    fn blocks_are_found_among_other_text_in_any_line_form() {
        let text = format!("Bag Attributes\n  friendlyName: x\r\n{CERT}\r\n\n{CERT}\ntrailing");
        let all = decode_all(text.as_bytes(), 16).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(
            all[0],
            PemBlock {
                label: "CERTIFICATE".into(),
                der: vec![0x30, 0x00]
            }
        );
        let long_line = "-----BEGIN X509 CRL-----\nMAAwADAAMAAwADAAMAAwADAAMAAwADAAMAAwADAAMAAwADAAMAAwADAAMAAwADAAMAAwADAA\n-----END X509 CRL-----\n";
        assert_eq!(
            decode_one(long_line.as_bytes(), "X509 CRL", 1024)
                .unwrap()
                .len(),
            54
        );
    }

    #[test]
    fn labels_counts_and_bounds_are_enforced() {
        assert_eq!(
            decode_one(CERT.as_bytes(), "CERTIFICATE", 16).unwrap(),
            [0x30, 0x00]
        );
        let two = format!("{CERT}\n{CERT}");
        assert_eq!(
            decode_one(two.as_bytes(), "CERTIFICATE", 16),
            Err(PemError::NotOne { found: 2 })
        );
        assert_eq!(
            decode_one(CERT.as_bytes(), "X509 CRL", 16),
            Err(PemError::WrongLabel {
                expected: "X509 CRL".into(),
                found: "CERTIFICATE".into()
            })
        );
        assert_eq!(
            decode_all(CERT.as_bytes(), 1),
            Err(PemError::TooLarge { max_bytes: 1 })
        );
        assert_eq!(decode_all(b"MAA=", 16), Err(PemError::NoBlock));
    }

    #[test]
    fn other_blocks_can_be_skipped_undecoded() {
        // A legacy block whose body is not base64 (as an encrypted PEM key's headers are not).
        let legacy =
            "-----BEGIN LEGACY BLOCK-----\nProc-Type: 4,ENCRYPTED\n!!\n-----END LEGACY BLOCK-----";
        let text = format!("{legacy}\n{CERT}\n{legacy}\n{CERT}");
        assert_eq!(
            decode_only(text.as_bytes(), "CERTIFICATE", 16)
                .unwrap()
                .len(),
            2
        );
        assert!(decode_all(text.as_bytes(), 16).is_err());
        assert_eq!(
            decode_only(text.as_bytes(), "X509 CRL", 16).unwrap(),
            Vec::<Vec<u8>>::new()
        );
    }

    #[test]
    fn broken_blocks_are_refused() {
        let cases: [(&str, PemError); 4] = [
            ("-----BEGIN CERTIFICATE-----\nMAA=\n", PemError::Unterminated),
            (
                "-----BEGIN CERTIFICATE-----\nMAA=\n-----END PRIVATE KEY-----",
                PemError::MismatchedEnd { begin: "CERTIFICATE".into(), end: "PRIVATE KEY".into() },
            ),
            ("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----", PemError::NotBase64),
            (
                "-----BEGIN CERTIFICATE-----\nMAA=\n-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----",
                PemError::NotBase64,
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(decode_all(text.as_bytes(), 64), Err(expected), "{text}");
        }
    }

    #[test]
    fn no_input_makes_the_reader_panic() {
        let text = format!("x{CERT}\n-----BEGIN A-----\n-----END A-----");
        let bytes = text.as_bytes();
        for end in 0..=bytes.len() {
            let _ = decode_all(&bytes[..end], 64);
            let _ = decode_all(&bytes[end..], 64);
            let _ = find_block(&bytes[end..]);
        }
    }
}
