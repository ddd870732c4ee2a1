//! The identifier of a huren-made seal (`esID`, 电子印章编码) and the region a seal belongs to.
//!
//! A huren esID is 16 characters: the seal's province code (GB/T 2260, 6 digits), 9
//! characters from `0-9A-Z`, and an ISO/IEC 7064 MOD 37,36 check character over the first 15
//! (the check the e-licence identifier uses). The 9 middle characters come from randomness or
//! a sequence number the caller supplies: this crate has no random number generator.
//!
//! Verification reads the region of any seal, huren-made or not, from the first 6 characters
//! of its esID ([`region_of_es_id`]); it does not insist on the rest of the huren form.

use std::fmt;

use crate::ids::{mod37_36_check, IdError, RegionCode};

const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
/// Characters between the region code and the check character.
const BODY_LEN: usize = 9;
/// 36^9: the number of distinct bodies.
const BODY_SPACE: u64 = 101_559_956_668_416;

/// A huren seal identifier. Only [`EsId::parse`], [`EsId::generate`] and
/// [`EsId::from_sequence`] make one, so a value always has a valid region and check
/// character.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EsId {
    text: String,
    region: RegionCode,
}

impl EsId {
    /// Length of a huren esID.
    pub const LEN: usize = 6 + BODY_LEN + 1;

    /// An esID for a seal of `region`'s province from 8 bytes of caller-supplied randomness
    /// (about 46.5 bits are used; the modulo bias over 64 bits is below 2^-17).
    ///
    /// ```
    /// use huren_crypto::ids::RegionCode;
    /// use huren_crypto::seal::EsId;
    /// let id = EsId::generate(&RegionCode::parse("330106").unwrap(), [7; 8]);
    /// assert!(id.as_str().starts_with("330000"));
    /// assert_eq!(EsId::parse(id.as_str()), Ok(id));
    /// ```
    pub fn generate(region: &RegionCode, entropy: [u8; 8]) -> EsId {
        Self::with_body(region, u64::from_be_bytes(entropy) % BODY_SPACE)
    }

    /// An esID numbering seals of `region`'s province in sequence; `None` past 36^9 − 1.
    pub fn from_sequence(region: &RegionCode, sequence: u64) -> Option<EsId> {
        (sequence < BODY_SPACE).then(|| Self::with_body(region, sequence))
    }

    fn with_body(region: &RegionCode, mut value: u64) -> EsId {
        let mut body = [b'0'; BODY_LEN];
        for slot in body.iter_mut().rev() {
            // invariant: `value % 36` < 36 = ALPHABET.len().
            *slot = ALPHABET[(value % 36) as usize];
            value /= 36;
        }
        let region = region.province();
        let mut text = region.as_str().to_owned();
        text.extend(body.iter().map(|&b| char::from(b)));
        // invariant: every character is in 0-9A-Z, so the check cannot fail.
        let check = mod37_36_check(&text).unwrap_or('0');
        text.push(check);
        EsId { text, region }
    }

    /// Parses a huren esID: province code, 9 characters `0-9A-Z`, correct check character.
    pub fn parse(text: &str) -> Result<EsId, IdError> {
        let found = text.chars().count();
        if found != Self::LEN {
            return Err(IdError::WrongLength {
                expected: "16",
                found,
            });
        }
        if let Some((i, c)) = text.chars().enumerate().find(|(_, c)| !c.is_ascii()) {
            return Err(IdError::InvalidChar {
                position: i + 1,
                found: c,
                allowed: "0-9 and A-Z",
            });
        }
        // ASCII only from here, so byte offsets are character offsets; the check below also
        // refuses anything outside 0-9A-Z.
        let (data, check) = text.split_at(Self::LEN - 1);
        let expected = mod37_36_check(data)?;
        let region = RegionCode::parse(&data[..6])?;
        if !region.is_province() {
            return Err(IdError::UnknownProvince {
                prefix: data[..6].to_owned(),
            });
        }
        let found = check.chars().next().unwrap_or('?');
        if expected != found {
            return Err(IdError::CheckMismatch { expected, found });
        }
        Ok(EsId {
            text: text.to_owned(),
            region,
        })
    }

    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The seal's province.
    pub fn region(&self) -> &RegionCode {
        &self.region
    }
}

impl fmt::Display for EsId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The province a seal belongs to: its esID's first 6 characters as a GB/T 2260 code,
/// reduced to the province. `None` when they are not one (seals made outside huren often
/// use other identifiers).
pub fn region_of_es_id(es_id: &str) -> Option<RegionCode> {
    es_id
        .get(..6)
        .and_then(|prefix| RegionCode::parse(prefix).ok())
        .map(|code| code.province())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zj() -> RegionCode {
        RegionCode::parse("330000").unwrap()
    }

    #[test]
    fn generated_ids_parse_and_carry_their_region() {
        for seed in [[0u8; 8], [0xff; 8], [1, 2, 3, 4, 5, 6, 7, 8]] {
            let id = EsId::generate(&zj(), seed);
            assert_eq!(id.as_str().len(), EsId::LEN);
            assert_eq!(EsId::parse(id.as_str()).unwrap(), id);
            assert_eq!(id.region(), &zj());
        }
        let city = RegionCode::parse("330106").unwrap();
        assert!(EsId::generate(&city, [9; 8]).as_str().starts_with("330000"));
        assert!(EsId::parse("33000000000000é1").is_err());
    }

    #[test]
    fn sequence_ids_are_distinct_and_bounded() {
        let a = EsId::from_sequence(&zj(), 1).unwrap();
        let b = EsId::from_sequence(&zj(), 2).unwrap();
        assert_ne!(a, b);
        assert_eq!(&a.as_str()[6..15], "000000001");
        assert!(EsId::from_sequence(&zj(), BODY_SPACE - 1).is_some());
        assert!(EsId::from_sequence(&zj(), BODY_SPACE).is_none());
    }

    #[test]
    fn a_wrong_check_character_or_region_is_refused() {
        let id = EsId::from_sequence(&zj(), 42).unwrap();
        let mut text = id.as_str().to_owned();
        let last = text.pop().unwrap();
        text.push(if last == 'A' { 'B' } else { 'A' });
        assert!(matches!(
            EsId::parse(&text),
            Err(IdError::CheckMismatch { .. })
        ));
        assert!(EsId::parse("330106000000001X").is_err());
        assert!(EsId::parse("990000000000001X").is_err());
        assert!(EsId::parse("short").is_err());
        assert_eq!(region_of_es_id("51f044b76510434e"), None);
        assert_eq!(region_of_es_id("330106whatever"), Some(zj()));
        assert_eq!(region_of_es_id("33"), None);
    }
}
