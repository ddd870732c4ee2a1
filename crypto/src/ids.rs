//! Identifiers that appear in licences: GB/T 2260 region codes, 统一社会信用代码 (USCC,
//! GB 32100), 公民身份号码 (GB 11643), holder identifier type codes (持证主体代码类型), the
//! e-licence identifier 证照标识 (GB/T 36904 as implemented), and masking of personal
//! identifiers for human-facing views.
//!
//! Every identifier is a parse-don't-validate type: the only ways to get one are its
//! `parse`/`generate` constructors, and serde goes through them too (reading a `&str`),
//! so a value of these types has always passed its checks.
//!
//! This module must not do I/O, read the clock, log, or normalise input silently (no
//! trimming, no case folding): a value parses exactly as given or is refused with an
//! [`IdError`] that says why; callers prefix the message with the field name. Input is
//! hostile: nothing here panics, and errors quote at most a short, escaped excerpt of it.
//! Positions in errors are 1-based and count characters, not bytes; for a [`LicenceId`] they
//! count within the part named by [`IdError::LicencePart`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why an identifier was refused. Messages are meant for users, after a field-name prefix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The value is the empty string.
    #[error("must not be empty")]
    Empty,
    /// The value has the wrong number of characters.
    #[error("must be {expected} characters long, found {found}")]
    WrongLength {
        /// Accepted length(s), e.g. `"18"` or `"7 to 32"`.
        expected: &'static str,
        /// Number of characters found.
        found: usize,
    },
    /// A letter is lower case where only upper case is accepted.
    #[error("character {position} ({found:?}) is lower case; letters must be upper case")]
    LowerCase {
        /// 1-based character position.
        position: usize,
        /// The offending character.
        found: char,
    },
    /// A character outside the accepted set (in free text: a control or invisible character).
    #[error("character {position} ({found:?}) is not allowed here; allowed: {allowed}")]
    InvalidChar {
        /// 1-based character position.
        position: usize,
        /// The offending character.
        found: char,
        /// Description of the accepted characters.
        allowed: &'static str,
    },
    /// The check character does not match the rest of the value.
    #[error("check character is {found:?} but should be {expected:?}; check for a typo")]
    CheckMismatch {
        /// The check character the data calls for.
        expected: char,
        /// The check character given.
        found: char,
    },
    /// The first two digits are not a province-level GB/T 2260 prefix.
    #[error("{prefix:?} is not a province-level region prefix (GB/T 2260)")]
    UnknownProvince {
        /// The two leading digits found.
        prefix: String,
    },
    /// Characters 7–14 of a resident ID are not a plausible date of birth.
    #[error("characters 7-14 ({found:?}) are not a real date of birth (YYYYMMDD, from 1800)")]
    InvalidDate {
        /// The eight characters found.
        found: String,
    },
    /// A licence identifier does not start with the national root arc.
    #[error("must start with \"1.2.156.3005.2.\", found {found:?}")]
    WrongRoot {
        /// The start of the value (truncated).
        found: String,
    },
    /// A licence identifier has the wrong number of dot-separated parts after the root.
    #[error("must have 5 dot-separated parts after the root, found {found}")]
    WrongPartCount {
        /// Number of parts found.
        found: usize,
    },
    /// One part of a licence identifier is malformed.
    #[error("{part}: {reason}")]
    LicencePart {
        /// Which part, e.g. `"serial"`.
        part: &'static str,
        /// What is wrong with it.
        reason: Box<IdError>,
    },
    /// A holder identifier type code that is not one of the known ones.
    #[error("unknown holder identifier type code {found:?}; known: 111, 001, 099, 516, 999")]
    UnknownHolderIdType {
        /// The code found (truncated).
        found: String,
    },
    /// Free text starts or ends with whitespace.
    #[error("must not start or end with whitespace")]
    SurroundingWhitespace,
}

/// Birth years before this are refused: a year like 0001 is a typo or a forgery, not a
/// holder. Keep in step with the `InvalidDate` message.
const MIN_BIRTH_YEAR: u32 = 1800;

/// The alphabet of the 统一社会信用代码 (GB 32100): digits and upper-case letters other than
/// I, O, S, V, Z. Also the alphabet of a licence type's defining-authority code.
pub const USCC_ALPHABET: [u8; 31] = *b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Checks that every character of `text` is in [`USCC_ALPHABET`]; the error names the first
/// that is not (counting from 1).
pub fn check_uscc_alphabet(text: &str) -> Result<(), String> {
    match text
        .chars()
        .position(|c| value_in(&USCC_ALPHABET, c).is_none())
    {
        Some(i) => Err(format!(
            "character {} is not in the USCC alphabet (0-9 and upper-case letters other than \
             I, O, S, V, Z)",
            i + 1
        )),
        None => Ok(()),
    }
}
const ALNUM_ALPHABET: [u8; 36] = *b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const RID_CHECK: [u8; 11] = *b"10X98765432";
#[rustfmt::skip]
const USCC_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const RID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// Province-level GB/T 2260 prefixes.
#[rustfmt::skip]
const PROVINCES: [(&str, &str); 34] = [
    ("11", "北京市"), ("12", "天津市"), ("13", "河北省"), ("14", "山西省"),
    ("15", "内蒙古自治区"), ("21", "辽宁省"), ("22", "吉林省"), ("23", "黑龙江省"),
    ("31", "上海市"), ("32", "江苏省"), ("33", "浙江省"), ("34", "安徽省"),
    ("35", "福建省"), ("36", "江西省"), ("37", "山东省"), ("41", "河南省"),
    ("42", "湖北省"), ("43", "湖南省"), ("44", "广东省"), ("45", "广西壮族自治区"),
    ("46", "海南省"), ("50", "重庆市"), ("51", "四川省"), ("52", "贵州省"),
    ("53", "云南省"), ("54", "西藏自治区"), ("61", "陕西省"), ("62", "甘肃省"),
    ("63", "青海省"), ("64", "宁夏回族自治区"), ("65", "新疆维吾尔自治区"), ("71", "台湾省"),
    ("81", "香港特别行政区"), ("82", "澳门特别行政区"),
];

fn province_name_of(prefix: &str) -> Option<&'static str> {
    PROVINCES
        .iter()
        .find(|(p, _)| *p == prefix)
        .map(|(_, n)| *n)
}

fn check_province(prefix: &str) -> Result<(), IdError> {
    match province_name_of(prefix) {
        Some(_) => Ok(()),
        None => Err(IdError::UnknownProvince {
            prefix: prefix.to_owned(),
        }),
    }
}

/// Bounded copy of hostile input for error messages, so nobody can make errors (and the logs
/// that carry them) arbitrarily large.
fn excerpt(s: &str) -> String {
    let mut out: String = s.chars().take(24).collect();
    if s.chars().nth(24).is_some() {
        out.push('…');
    }
    out
}

/// Character classes used by the identifiers.
#[derive(Clone, Copy)]
enum Class {
    Digit,
    DigitOrX,
    Uscc,
    Alnum,
    HOrM,
    Visible,
}

impl Class {
    fn accepts(self, c: char) -> bool {
        match self {
            Class::Digit => c.is_ascii_digit(),
            Class::DigitOrX => c.is_ascii_digit() || c == 'X',
            Class::Uscc => value_in(&USCC_ALPHABET, c).is_some(),
            Class::Alnum => value_in(&ALNUM_ALPHABET, c).is_some(),
            Class::HOrM => c == 'H' || c == 'M',
            Class::Visible => !is_hidden_char(c),
        }
    }

    fn allowed(self) -> &'static str {
        match self {
            Class::Digit => "digits 0-9",
            Class::DigitOrX => "digits 0-9 or X",
            Class::Uscc => "digits 0-9 and letters A-Z except I, O, S, V, Z",
            Class::Alnum => "digits 0-9 and letters A-Z",
            Class::HOrM => "H (Hong Kong) or M (Macao)",
            Class::Visible => "visible characters, no control or invisible formatting characters",
        }
    }

    /// Lower case gets its own error because it is the commonest mistake, and the fix
    /// (retype in upper case) differs from that for a wrong character.
    fn check(self, position: usize, found: char) -> Result<(), IdError> {
        let allowed = self.allowed();
        if self.accepts(found) {
            Ok(())
        } else if found.is_ascii_lowercase() && self.accepts(found.to_ascii_uppercase()) {
            Err(IdError::LowerCase { position, found })
        } else {
            Err(IdError::InvalidChar {
                position,
                found,
                allowed,
            })
        }
    }
}

/// Free text ends up on printed licences and clerks' screens, so characters that hide or
/// reorder text (bidi overrides, zero-width characters) are refused with control characters.
fn is_hidden_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Length rule and per-character classes of one format, so each format reads in one place.
#[derive(Clone, Copy)]
struct Shape {
    len_ok: fn(usize) -> bool,
    /// Accepted length(s), for the error message.
    expected: &'static str,
    /// Class of the character at a 0-based index, given the length in characters.
    class: fn(usize, usize) -> Class,
}

const fn shape(
    len_ok: fn(usize) -> bool,
    expected: &'static str,
    class: fn(usize, usize) -> Class,
) -> Shape {
    Shape {
        len_ok,
        expected,
        class,
    }
}

// One line per format reads better than rustfmt's layout of the closures.
const REGION: Shape = shape(|n| n == 6, "6", |_, _| Class::Digit);
const USCC: Shape = shape(|n| n == 18, "18", |_, _| Class::Uscc);
const USCC_BODY: Shape = shape(|n| n == 17, "17", |_, _| Class::Uscc);
#[rustfmt::skip]
const RID: Shape =
    shape(|n| n == 18, "18", |i, _| if i < 17 { Class::Digit } else { Class::DigitOrX });
const RID_BODY: Shape = shape(|n| n == 17, "17", |_, _| Class::Digit);
#[rustfmt::skip]
const HK_MACAO: Shape =
    shape(|n| n == 9 || n == 11, "9 or 11", |i, _| if i == 0 { Class::HOrM } else { Class::Digit });
const FREE_TEXT: Shape = shape(|n| n <= 64, "1 to 64", |_, _| Class::Visible);
/// Only charset-checked, not mod-31: real type codes pass, but refusing one that does not
/// would help nobody.
#[rustfmt::skip]
const TYPE_CODE: Shape =
    shape(|n| n == 21, "21", |i, _| if i < 18 { Class::Uscc } else { Class::Digit });
/// A USCC, or the 6-digit region code some test systems use.
#[rustfmt::skip]
const AUTHORITY: Shape =
    shape(|n| n == 18 || n == 6, "18 or 6", |_, n| if n == 6 { Class::Digit } else { Class::Uscc });
const SERIAL: Shape = shape(|n| (7..=32).contains(&n), "7 to 32", |_, _| Class::Alnum);
const VERSION: Shape = shape(|n| n == 3, "3", |_, _| Class::Digit);
const CHECK: Shape = shape(|n| n == 1, "1", |_, _| Class::Alnum);

impl Shape {
    /// Length is counted in characters, as a user counts them, whatever the bytes.
    fn check(self, s: &str) -> Result<(), IdError> {
        match s.chars().count() {
            0 => Err(IdError::Empty),
            found if !(self.len_ok)(found) => {
                let expected = self.expected;
                Err(IdError::WrongLength { expected, found })
            }
            n => s
                .chars()
                .enumerate()
                .try_for_each(|(i, c)| (self.class)(i, n).check(i + 1, c)),
        }
    }
}

/// Splits off the last character without byte indexing.
fn split_check(s: &str) -> Result<(&str, char), IdError> {
    let mut chars = s.chars();
    let check = chars.next_back().ok_or(IdError::Empty)?;
    Ok((chars.as_str(), check))
}

fn expect_check(expected: char, found: char) -> Result<(), IdError> {
    if expected == found {
        Ok(())
    } else {
        Err(IdError::CheckMismatch { expected, found })
    }
}

fn value_in(table: &[u8], c: char) -> Option<u32> {
    let i = table.iter().position(|&b| char::from(b) == c)?;
    u32::try_from(i).ok()
}

/// Looks up a fixed table with the index reduced modulo its length, so no input can make
/// it go out of bounds.
#[allow(clippy::indexing_slicing)]
fn table_char<const N: usize>(table: &[u8; N], i: u32) -> char {
    char::from(table[i as usize % N])
}

/// ISO/IEC 7064 MOD 37,36 over characters already known to be in `0-9A-Z`.
fn mod37_36_of_valid(data: impl Iterator<Item = char>) -> char {
    let values = data.filter_map(|c| value_in(&ALNUM_ALPHABET, c));
    let p = values.fold(36u32, |p, v| {
        let s = match (p + v) % 36 {
            0 => 36,
            s => s,
        };
        (2 * s) % 37
    });
    table_char(&ALNUM_ALPHABET, (37 - p) % 36)
}

/// ISO/IEC 7064 MOD 37,36 check character over `data` (alphabet `0-9A-Z` → 0..35), as used by
/// the e-licence identifier. Any other character, lower case included, is an error.
pub fn mod37_36_check(data: &str) -> Result<char, IdError> {
    let mut chars = data.chars().enumerate();
    chars.try_for_each(|(i, c)| Class::Alnum.check(i + 1, c))?;
    Ok(mod37_36_of_valid(data.chars()))
}

/// Masks a personal identifier for human-facing views: keeps the first 4 and last 4
/// characters and replaces every one between with `*`; identifiers of 8 characters or fewer
/// keep only the first and last (2 or fewer: all `*`). Counts characters, not bytes:
/// `"330106199001011234"` → `"3301**********1234"`.
pub fn mask_identifier(id: &str) -> String {
    let n = id.chars().count();
    let keep = match n {
        0..=2 => 0,
        3..=8 => 1,
        _ => 4,
    };
    let masked = |i: usize| i >= keep && i < n - keep;
    id.chars()
        .enumerate()
        .map(|(i, c)| if masked(i) { '*' } else { c })
        .collect()
}

/// `FromStr`, `TryFrom<String>` (both through the checking constructor) and
/// `From<_> for String` (the canonical text).
macro_rules! text_traits {
    ($t:ident, $parse:path) => {
        impl FromStr for $t {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                $parse(s)
            }
        }
        impl TryFrom<String> for $t {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                $parse(&s)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                crate::text::deserialize_parsed(deserializer, $parse)
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.to_string()
            }
        }
    };
}

/// `as_str`, `Display` and `text_traits` for a string newtype whose only constructor is
/// `parse`.
macro_rules! string_newtype {
    ($t:ident) => {
        impl $t {
            /// The identifier, exactly as parsed (it is already canonical).
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        text_traits!($t, $t::parse);
    };
}

/// GB/T 2260 administrative division code: 6 ASCII digits whose first two are one of the 34
/// province-level prefixes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct RegionCode(String);

string_newtype!(RegionCode);

impl RegionCode {
    /// Parses a region code. Only the province prefix is checked against a table: lower
    /// levels change too often to pin here.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        REGION.check(s)?;
        check_province(s.get(..2).unwrap_or_default())?;
        Ok(Self(s.to_owned()))
    }

    fn prefix(&self) -> &str {
        self.0.get(..2).unwrap_or_default()
    }

    /// The province this region belongs to: `330106` → `330000`.
    pub fn province(&self) -> RegionCode {
        RegionCode(format!("{}0000", self.prefix()))
    }

    /// Whether this is a province-level code (ends in `0000`).
    pub fn is_province(&self) -> bool {
        self.0.ends_with("0000")
    }

    /// Chinese name of the province, e.g. `浙江省` for `33xxxx`.
    pub fn province_name(&self) -> &'static str {
        // `parse` checked the prefix, so the fallback is unreachable.
        province_name_of(self.prefix()).unwrap_or_default()
    }
}

/// 统一社会信用代码 (GB 32100): 18 characters from `0123456789ABCDEFGHJKLMNPQRTUWXY` with a
/// mod-31 check character. Lower case is refused rather than folded, so a stored code is
/// byte-identical to what was signed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct Uscc(String);

string_newtype!(Uscc);

impl Uscc {
    /// Parses a USCC: length, charset (upper case only), check character.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        USCC.check(s)?;
        let (body, found) = split_check(s)?;
        expect_check(Self::check_char(body)?, found)?;
        Ok(Self(s.to_owned()))
    }

    /// The check character for the first 17 characters of a USCC.
    pub fn check_char(first17: &str) -> Result<char, IdError> {
        USCC_BODY.check(first17)?;
        let values = first17.chars().filter_map(|c| value_in(&USCC_ALPHABET, c));
        let sum: u32 = values.zip(USCC_WEIGHTS).map(|(v, w)| v * w).sum();
        Ok(table_char(&USCC_ALPHABET, 31 - sum % 31))
    }
}

/// 公民身份号码 (GB 11643): 17 digits and a check character (`0-9` or upper-case `X`, ISO 7064
/// MOD 11-2), with a known province prefix and a real date of birth in characters 7–14.
/// `Debug` masks it (see [`mask_identifier`]) so a stray `{:?}` in a log cannot leak it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct ResidentId(String);

string_newtype!(ResidentId);

impl fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let masked = mask_identifier(&self.0);
        f.debug_tuple("ResidentId").field(&masked).finish()
    }
}

impl ResidentId {
    /// Parses a resident ID number. The date of birth is not compared with today (this module
    /// has no clock), but years before 1800 are refused.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        RID.check(s)?;
        check_province(s.get(..2).unwrap_or_default())?;
        let date = s.get(6..14).unwrap_or_default();
        if birth_date(date).is_none() {
            return Err(IdError::InvalidDate {
                found: date.to_owned(),
            });
        }
        let (body, found) = split_check(s)?;
        expect_check(Self::check_char(body)?, found)?;
        Ok(Self(s.to_owned()))
    }

    /// The check character for the first 17 digits of a resident ID number.
    pub fn check_char(first17: &str) -> Result<char, IdError> {
        RID_BODY.check(first17)?;
        let digits = first17.chars().filter_map(|c| c.to_digit(10));
        let sum: u32 = digits.zip(RID_WEIGHTS).map(|(d, w)| d * w).sum();
        Ok(table_char(&RID_CHECK, sum % 11))
    }
}

fn digits_value(s: &str) -> Option<u32> {
    s.chars().try_fold(0u32, |acc, c| {
        acc.checked_mul(10)?.checked_add(c.to_digit(10)?)
    })
}

fn birth_date(yyyymmdd: &str) -> Option<::time::Date> {
    if yyyymmdd.len() != 8 {
        return None;
    }
    let year = digits_value(yyyymmdd.get(..4)?).filter(|y| *y >= MIN_BIRTH_YEAR)?;
    let month = u8::try_from(digits_value(yyyymmdd.get(4..6)?)?).ok()?;
    let day = u8::try_from(digits_value(yyyymmdd.get(6..)?)?).ok()?;
    let month = ::time::Month::try_from(month).ok()?;
    ::time::Date::from_calendar_date(i32::try_from(year).ok()?, month, day).ok()
}

/// Holder identifier type (持证主体代码类型), serialized as its 3-digit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
pub enum HolderIdType {
    /// `111` 居民身份证.
    ResidentIdCard,
    /// `001` 统一社会信用代码.
    Uscc,
    /// `099` 其他法人证件.
    OtherLegalEntity,
    /// `516` 港澳居民来往内地通行证.
    HkMacaoPermit,
    /// `999` 其他自然人证件.
    OtherNaturalPerson,
}

impl HolderIdType {
    const ALL: [HolderIdType; 5] = [
        Self::ResidentIdCard,
        Self::Uscc,
        Self::OtherLegalEntity,
        Self::HkMacaoPermit,
        Self::OtherNaturalPerson,
    ];

    /// (code, Chinese label, English label), kept together so they cannot drift apart.
    fn info(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::ResidentIdCard => ("111", "居民身份证", "Resident identity card"),
            Self::Uscc => ("001", "统一社会信用代码", "Unified social credit code"),
            Self::OtherLegalEntity => ("099", "其他法人证件", "Other legal-entity document"),
            Self::HkMacaoPermit => (
                "516",
                "港澳居民来往内地通行证",
                "Mainland travel permit for Hong Kong and Macao residents",
            ),
            Self::OtherNaturalPerson => ("999", "其他自然人证件", "Other natural-person document"),
        }
    }

    /// Looks up a type by its 3-digit code; an unknown code is an error naming it.
    pub fn from_code(code: &str) -> Result<Self, IdError> {
        let unknown = || IdError::UnknownHolderIdType {
            found: excerpt(code),
        };
        Self::ALL
            .into_iter()
            .find(|t| t.code() == code)
            .ok_or_else(unknown)
    }

    /// The 3-digit code, e.g. `"111"`.
    pub fn code(self) -> &'static str {
        self.info().0
    }

    /// Chinese label, as printed on licences.
    pub fn label_zh(self) -> &'static str {
        self.info().1
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        self.info().2
    }

    /// Whether the holder is a natural person (`111`, `516`, `999`), whose identifier must be
    /// masked in human-facing views.
    pub fn is_natural_person(self) -> bool {
        matches!(
            self,
            Self::ResidentIdCard | Self::HkMacaoPermit | Self::OtherNaturalPerson
        )
    }

    /// Validates a holder identifier of this type: `111` as a [`ResidentId`], `001` as a
    /// [`Uscc`], `516` as `H` or `M` and 8 or 10 digits, `099`/`999` as 1 to 64 characters
    /// without control or invisible formatting characters and without surrounding whitespace.
    pub fn validate(self, id: &str) -> Result<(), IdError> {
        match self {
            Self::ResidentIdCard => ResidentId::parse(id).map(drop),
            Self::Uscc => Uscc::parse(id).map(drop),
            Self::HkMacaoPermit => HK_MACAO.check(id),
            Self::OtherLegalEntity | Self::OtherNaturalPerson => {
                // Before the character check: a scanner's trailing newline is the likely
                // cause and deserves the clearer message.
                if id.starts_with(char::is_whitespace) || id.ends_with(char::is_whitespace) {
                    return Err(IdError::SurroundingWhitespace);
                }
                FREE_TEXT.check(id)
            }
        }
    }
}

impl fmt::Display for HolderIdType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

text_traits!(HolderIdType, HolderIdType::from_code);

/// E-licence identifier 证照标识:
/// `1.2.156.3005.2.<type code>.<issuing authority>.<serial>.<version>.<check>`.
///
/// The structure is always valid, but the check character may not be the ISO 7064 MOD 37,36
/// one: one province's software computes it differently and verifiers must still read those
/// licences (they warn). [`LicenceId::check_ok`] tells; issuers use [`LicenceId::generate`],
/// which always sets it correctly.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
pub struct LicenceId {
    /// The whole dotted form, which is canonical once parsed; the parts are slices of it, so a
    /// verification reading one identifier makes one allocation, not five.
    text: String,
    /// End of the type code, authority, serial and version in `text` (each part starts one
    /// byte after the previous end; the first after the root and its dot). All parts are
    /// ASCII, so these are character boundaries.
    ends: [usize; 4],
}

/// Checks one part of a licence identifier, naming the part in the error.
fn part<'a>(name: &'static str, shape: Shape, s: &'a str) -> Result<&'a str, IdError> {
    match shape.check(s) {
        Ok(()) => Ok(s),
        Err(e) => Err(IdError::LicencePart {
            part: name,
            reason: Box::new(e),
        }),
    }
}

impl LicenceId {
    /// The national root arc every identifier starts with.
    pub const ROOT: &'static str = "1.2.156.3005.2";

    /// Checks the four parts and joins them with `check` into the dotted form.
    fn from_parts(
        type_code: &str,
        authority: &str,
        serial: &str,
        version: &str,
        check: impl FnOnce(&[&str; 4]) -> char,
    ) -> Result<Self, IdError> {
        let parts = [
            part("type code", TYPE_CODE, type_code)?,
            part("issuing authority", AUTHORITY, authority)?,
            part("serial", SERIAL, serial)?,
            part("version", VERSION, version)?,
        ];
        let check = check(&parts);
        let mut text = String::with_capacity(
            Self::ROOT.len() + 6 + parts.iter().map(|p| p.len()).sum::<usize>(),
        );
        text.push_str(Self::ROOT);
        let mut ends = [0; 4];
        for (end, part) in ends.iter_mut().zip(parts) {
            text.push('.');
            text.push_str(part);
            *end = text.len();
        }
        text.push('.');
        text.push(check);
        Ok(Self { text, ends })
    }

    /// Part `i` (0 type code, 1 authority, 2 serial, 3 version).
    fn part(&self, i: usize) -> &str {
        let start = match i {
            0 => Self::ROOT.len() + 1,
            _ => self.ends[i - 1] + 1,
        };
        self.text.get(start..self.ends[i]).unwrap_or_default()
    }

    /// Builds an identifier with the correct check character. `type_code`: 18 USCC-charset
    /// characters and 3 digits; `authority`: 18 USCC-charset characters or 6 digits;
    /// `serial`: 7 to 32 of `0-9A-Z`; `version`: 3 digits.
    pub fn generate(
        type_code: &str,
        authority: &str,
        serial: &str,
        version: &str,
    ) -> Result<Self, IdError> {
        Self::from_parts(type_code, authority, serial, version, |parts| {
            mod37_36_of_valid(parts.iter().flat_map(|p| p.chars()))
        })
    }

    /// Parses the dotted form. Structure is strict (root, part count, lengths, charsets, upper
    /// case); the check character only has to be one of `0-9A-Z`.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        if s.is_empty() {
            return Err(IdError::Empty);
        }
        let wrong_root = || IdError::WrongRoot { found: excerpt(s) };
        let rest = s.strip_prefix(Self::ROOT).ok_or_else(wrong_root)?;
        let rest = match rest.strip_prefix('.') {
            Some(rest) => rest,
            None if rest.is_empty() => return Err(IdError::WrongPartCount { found: 0 }),
            None => return Err(wrong_root()),
        };
        let mut p = rest.split('.');
        let (Some(t), Some(a), Some(se), Some(v), Some(c), None) =
            (p.next(), p.next(), p.next(), p.next(), p.next(), p.next())
        else {
            let found = rest.split('.').count();
            return Err(IdError::WrongPartCount { found });
        };
        let check = split_check(part("check character", CHECK, c)?)?.1;
        Self::from_parts(t, a, se, v, |_| check)
    }

    /// Whether the check character is the ISO/IEC 7064 MOD 37,36 one.
    pub fn check_ok(&self) -> bool {
        self.check() == self.expected_check()
    }

    /// The ISO/IEC 7064 MOD 37,36 check character over type code, authority, serial and
    /// version (no dots, no root).
    pub fn expected_check(&self) -> char {
        mod37_36_of_valid((0..4).flat_map(|i| self.part(i).chars()))
    }

    /// 证照类型代码 (21 characters).
    pub fn type_code(&self) -> &str {
        self.part(0)
    }

    /// 颁发机构代码: 18 USCC-charset characters, or a 6-digit region code.
    pub fn authority(&self) -> &str {
        self.part(1)
    }

    /// 流水号 (7 to 32 characters).
    pub fn serial(&self) -> &str {
        self.part(2)
    }

    /// 版本号 (3 digits).
    pub fn version(&self) -> &str {
        self.part(3)
    }

    /// The dotted form.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The check character as given (see [`LicenceId::check_ok`]).
    pub fn check(&self) -> char {
        // The text always ends with the one-character check part.
        self.text.chars().next_back().unwrap_or('0')
    }
}

impl fmt::Display for LicenceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

text_traits!(LicenceId, LicenceId::parse);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use IdError::*;

    const USCC_OK: [&str; 4] = [
        "9144030071526726XG",
        "91350100M000100Y43",
        "11100000000013338W",
        "11220000013544541J",
    ];
    /// GB 11643's own example; every other resident ID here is synthetic (see `rid`).
    const RID_EXAMPLE: &str = "11010519491231002X";
    const LID_OK: [&str; 2] = [
        "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F",
        "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
    ];
    const TYPE: &str = "11100000000013338W032";
    const AUTH: &str = "11220000013544541J";

    /// Completes 17 made-up digits with their check character.
    fn rid(first17: &str) -> String {
        format!("{first17}{}", ResidentId::check_char(first17).unwrap())
    }

    fn replace_at(s: &str, pos: usize, with: char) -> String {
        let swap = |(i, c)| if i == pos { with } else { c };
        s.chars().enumerate().map(swap).collect()
    }

    fn bad(position: usize, found: char, class: Class) -> IdError {
        let allowed = class.allowed();
        InvalidChar {
            position,
            found,
            allowed,
        }
    }

    fn lower(position: usize, found: char) -> IdError {
        LowerCase { position, found }
    }

    fn len(expected: &'static str, found: usize) -> IdError {
        WrongLength { expected, found }
    }

    fn part(part: &'static str, e: IdError) -> IdError {
        LicencePart {
            part,
            reason: Box::new(e),
        }
    }

    /// A licence identifier string from its parts.
    fn lid(t: &str, a: &str, s: &str, v: &str, c: &str) -> String {
        format!("{}.{t}.{a}.{s}.{v}.{c}", LicenceId::ROOT)
    }

    #[test]
    fn uscc_accepts_reference_examples() {
        for s in USCC_OK {
            let u = Uscc::parse(s).unwrap();
            assert_eq!((u.as_str(), u.to_string()), (s, s.to_owned()));
            assert_eq!(s.parse::<Uscc>(), Ok(u.clone()));
            assert_eq!(String::from(u), s);
        }
        assert_eq!(Uscc::check_char("9144030071526726X"), Ok('G'));
    }

    #[test]
    #[rustfmt::skip]
    fn uscc_rejects_with_facts() {
        let cases = [
            ("", Empty),
            ("9144030071526726X", len("18", 17)),
            ("9144030071526726XGG", len("18", 19)),
            ("9144030071526726xG", lower(17, 'x')),
            ("9144030071526726IG", bad(17, 'I', Class::Uscc)),
            ("９144030071526726XG", bad(1, '９', Class::Uscc)),
            ("9144030071526726XH", CheckMismatch { expected: 'G', found: 'H' }),
        ];
        for (s, e) in cases {
            assert_eq!(Uscc::parse(s), Err(e), "{s}");
        }
        assert_eq!(Uscc::check_char("914403007152672"), Err(len("17", 15)));
        let msg = Uscc::parse("9144030071526726XH").unwrap_err().to_string();
        assert_eq!(msg, "check character is 'H' but should be 'G'; check for a typo");
    }

    #[test]
    #[rustfmt::skip]
    fn resident_id_checks_prefix_date_and_check_char() {
        let example = ResidentId::parse(RID_EXAMPLE).unwrap();
        assert_eq!(format!("{example:?}"), r#"ResidentId("1101**********002X")"#);
        assert!(ResidentId::parse(&rid("33010620000229123")).is_ok());
        let date = |d: &str| InvalidDate { found: d.to_owned() };
        let cases = [
            (rid("33010619000229123"), date("19000229")),
            (rid("33010619901301123"), date("19901301")),
            (rid("33010617991231123"), date("17991231")),
            (rid("00010619900101123"), UnknownProvince { prefix: "00".into() }),
            (rid("91010619900101123"), UnknownProvince { prefix: "91".into() }),
            ("11010519491231002x".into(), lower(18, 'x')),
            ("11A10519491231002X".into(), bad(3, 'A', Class::Digit)),
            ("110105194912310021".into(), CheckMismatch { expected: 'X', found: '1' }),
            ("11010519491231002".into(), len("18", 17)),
            ("11010519491231002X ".into(), len("18", 19)),
        ];
        for (s, e) in cases {
            assert_eq!(ResidentId::parse(&s), Err(e), "{s}");
        }
        assert_eq!(ResidentId::check_char("1101051949123100X"), Err(bad(17, 'X', Class::Digit)));
    }

    #[test]
    fn region_codes() {
        let r = RegionCode::parse("330106").unwrap();
        assert_eq!(
            (r.province().as_str(), r.province_name()),
            ("330000", "浙江省")
        );
        assert!(!r.is_province() && r.province().is_province());
        let macao = RegionCode::parse("820000").unwrap();
        assert_eq!(macao.province_name(), "澳门特别行政区");
        assert_eq!(RegionCode::parse("33010"), Err(len("6", 5)));
        assert_eq!(RegionCode::parse("33010a"), Err(bad(6, 'a', Class::Digit)));
        assert_eq!(
            RegionCode::parse("３３0106"),
            Err(bad(1, '３', Class::Digit))
        );
        let unknown = UnknownProvince {
            prefix: "99".into(),
        };
        assert_eq!(RegionCode::parse("990000"), Err(unknown));
    }

    #[test]
    fn serde_goes_through_parse() {
        let u: Uscc = serde_json::from_str("\"91350100M000100Y43\"").unwrap();
        assert_eq!(serde_json::to_value(&u).unwrap(), "91350100M000100Y43");
        assert!(serde_json::from_str::<Uscc>("\"91350100M000100Y44\"").is_err());
        assert!(serde_json::from_str::<ResidentId>("\"110105194912310021\"").is_err());
        assert!(serde_json::from_str::<RegionCode>("\"990000\"").is_err());
        let t: HolderIdType = serde_json::from_str("\"516\"").unwrap();
        assert_eq!(t, HolderIdType::HkMacaoPermit);
        assert_eq!(serde_json::to_value(t).unwrap(), "516");
        let err = serde_json::from_str::<HolderIdType>("\"112\"").unwrap_err();
        assert!(err.to_string().contains("\"112\""), "{err}");
        // A wrong check character must survive deserialization: verifiers only warn.
        let wrong = LID_OK[0].replace(".F", ".G");
        let id: LicenceId = serde_json::from_value(wrong.clone().into()).unwrap();
        assert!(!id.check_ok());
        assert_eq!(serde_json::to_value(&id).unwrap(), wrong);
    }

    #[test]
    fn holder_id_types() {
        for t in HolderIdType::ALL {
            assert_eq!(HolderIdType::from_code(t.code()), Ok(t));
            assert_eq!(t.to_string().parse::<HolderIdType>(), Ok(t));
            assert!(!t.label_zh().is_empty() && !t.label_en().is_empty());
        }
        assert_eq!(HolderIdType::ResidentIdCard.label_zh(), "居民身份证");
        let naturals = HolderIdType::ALL
            .into_iter()
            .filter(|t| t.is_natural_person());
        let naturals: Vec<_> = naturals.map(HolderIdType::code).collect();
        assert_eq!(naturals, ["111", "516", "999"]);
        let unknown = UnknownHolderIdType { found: "11".into() };
        assert_eq!(HolderIdType::from_code("11"), Err(unknown));
    }

    #[test]
    #[rustfmt::skip]
    fn holder_id_validation() {
        use HolderIdType::*;
        assert!(ResidentIdCard.validate(RID_EXAMPLE).is_ok());
        assert!(Uscc.validate(USCC_OK[0]).is_ok() && Uscc.validate(RID_EXAMPLE).is_err());
        assert!(HkMacaoPermit.validate("H12345678").is_ok());
        assert!(HkMacaoPermit.validate("M1234567890").is_ok());
        assert!(OtherNaturalPerson.validate(&"护".repeat(64)).is_ok());
        assert!(OtherLegalEntity.validate("Reg. No. 12 345").is_ok());
        let cases = [
            (HkMacaoPermit, "h12345678", lower(1, 'h')),
            (HkMacaoPermit, "X12345678", bad(1, 'X', Class::HOrM)),
            (HkMacaoPermit, "H1234567A", bad(9, 'A', Class::Digit)),
            (HkMacaoPermit, "H1234567", len("9 or 11", 8)),
            (OtherLegalEntity, "", Empty),
            (OtherLegalEntity, " abc", SurroundingWhitespace),
            (OtherNaturalPerson, "abc\n", SurroundingWhitespace),
            (OtherNaturalPerson, "ab\u{0}c", bad(3, '\u{0}', Class::Visible)),
            (OtherNaturalPerson, "ab\u{202E}c", bad(3, '\u{202E}', Class::Visible)),
        ];
        for (t, id, e) in cases {
            assert_eq!(t.validate(id), Err(e), "{t} {id:?}");
        }
        assert_eq!(OtherNaturalPerson.validate(&"a".repeat(65)), Err(len("1 to 64", 65)));
    }

    #[test]
    fn licence_ids_from_reference_pass() {
        for s in LID_OK {
            let id = LicenceId::parse(s).unwrap();
            assert!(id.check_ok(), "{s}");
            assert_eq!(id.to_string(), s);
            assert_eq!(String::from(id), s);
        }
        let id: LicenceId = LID_OK[0].parse().unwrap();
        assert_eq!((id.type_code(), id.authority()), (TYPE, AUTH));
        assert_eq!(
            (id.serial(), id.version(), id.check()),
            ("2430599", "001", 'F')
        );
        assert_eq!(LicenceId::generate(TYPE, AUTH, "2430599", "001"), Ok(id));
        let regional = LicenceId::generate(TYPE, "330000", "2026000001", "001").unwrap();
        assert_eq!(LicenceId::try_from(regional.to_string()), Ok(regional));
        let data = "11100000000013338W01111430000006122244L20230000403001";
        assert_eq!(mod37_36_check(data), Ok('U'));
        assert_eq!(mod37_36_check("AB.C"), Err(bad(3, '.', Class::Alnum)));
        assert_eq!(mod37_36_check("ab"), Err(lower(1, 'a')));
    }

    #[test]
    fn licence_id_wrong_check_is_parsed_but_flagged() {
        let id = LicenceId::parse(&LID_OK[1].replace(".U", ".0")).unwrap();
        assert!(!id.check_ok());
        assert_eq!((id.check(), id.expected_check()), ('0', 'U'));
    }

    #[test]
    #[rustfmt::skip]
    fn licence_id_rejects_with_facts() {
        let root = |s: &str| WrongRoot { found: s.into() };
        let cases = [
            (String::new(), Empty),
            (LID_OK[0].replacen("3005.2", "3005.3", 1), root("1.2.156.3005.3.111000000…")),
            (LID_OK[0].replacen("3005.2.", "3005.20.", 1), root("1.2.156.3005.20.11100000…")),
            (LicenceId::ROOT.into(), WrongPartCount { found: 0 }),
            (LID_OK[0].replace(".F", ""), WrongPartCount { found: 4 }),
            (format!("{}.X", LID_OK[0]), WrongPartCount { found: 6 }),
            (lid("1100000000013338W032", AUTH, "2430599", "001", "F"),
                part("type code", len("21", 20))),
            (lid("11100000000013338W03A", AUTH, "2430599", "001", "F"),
                part("type code", bad(21, 'A', Class::Digit))),
            (lid(TYPE, "3300001", "2430599", "001", "F"),
                part("issuing authority", len("18 or 6", 7))),
            (lid(TYPE, "33000A", "2430599", "001", "F"),
                part("issuing authority", bad(6, 'A', Class::Digit))),
            (lid(TYPE, AUTH, "243059", "001", "F"), part("serial", len("7 to 32", 6))),
            (lid(TYPE, AUTH, &"9".repeat(33), "001", "F"), part("serial", len("7 to 32", 33))),
            (lid(TYPE, AUTH, "24305a9", "001", "F"), part("serial", lower(6, 'a'))),
            (lid(TYPE, AUTH, "2430599", "01", "F"), part("version", len("3", 2))),
            (lid(TYPE, AUTH, "2430599", "001", "f"), part("check character", lower(1, 'f'))),
            (lid(TYPE, AUTH, "2430599", "001", "FF"), part("check character", len("1", 2))),
            (lid(TYPE, AUTH, "2430599", "001", ""), part("check character", Empty)),
            (format!("{}\n", LID_OK[0]), part("check character", len("1", 2))),
        ];
        for (s, e) in cases {
            assert_eq!(LicenceId::parse(&s), Err(e), "{s:?}");
        }
        let e = LicenceId::parse(&lid(TYPE, AUTH, "24305a9", "001", "F")).unwrap_err();
        let msg = "serial: character 6 ('a') is lower case; letters must be upper case";
        assert_eq!(e.to_string(), msg);
        let e = LicenceId::generate(TYPE, AUTH, "2430599", "1");
        assert_eq!(e, Err(part("version", len("3", 1))));
    }

    #[test]
    fn masking_counts_chars() {
        assert_eq!(mask_identifier("330106199001011234"), "3301**********1234");
        assert_eq!(mask_identifier("H12345678"), "H123*5678");
        assert_eq!(mask_identifier("张三丰的证件号"), "张*****号");
        assert_eq!(mask_identifier("ab"), "**");
        assert_eq!(mask_identifier(""), "");
    }

    fn valid_uscc() -> impl Strategy<Value = String> {
        let body = "[0-9A-HJ-NPQRTUWXY]{17}";
        body.prop_map(|b| format!("{b}{}", Uscc::check_char(&b).unwrap()))
    }

    fn valid_rid() -> impl Strategy<Value = String> {
        let prefix = prop::sample::select(PROVINCES.map(|(p, _)| p).to_vec());
        let date = (1900u32..2100, 1u32..=12, 1u32..=28);
        (prefix, "[0-9]{4}", date, "[0-9]{3}")
            .prop_map(|(p, area, (y, m, d), seq)| rid(&format!("{p}{area}{y}{m:02}{d:02}{seq}")))
    }

    /// Mostly near misses (other ASCII letters and digits), sometimes anything at all.
    fn substitute() -> impl Strategy<Value = char> {
        prop_oneof![3 => prop::char::range('0', 'z'), 1 => any::<char>()]
    }

    proptest! {
        #[test]
        fn uscc_detects_single_substitutions(
            s in valid_uscc(), pos in 0usize..18, c in substitute()
        ) {
            prop_assume!(s.chars().nth(pos) != Some(c));
            prop_assert!(Uscc::parse(&s).is_ok());
            prop_assert!(Uscc::parse(&replace_at(&s, pos, c)).is_err());
        }

        #[test]
        fn resident_id_detects_single_substitutions(
            s in valid_rid(), pos in 0usize..18, c in substitute()
        ) {
            prop_assume!(s.chars().nth(pos) != Some(c));
            prop_assert!(ResidentId::parse(&s).is_ok());
            prop_assert!(ResidentId::parse(&replace_at(&s, pos, c)).is_err());
        }

        #[test]
        fn generated_licence_ids_round_trip(
            t in "[0-9A-HJ-NPQRTUWXY]{18}[0-9]{3}",
            a in prop_oneof!["[0-9A-HJ-NPQRTUWXY]{18}", "[0-9]{6}"],
            s in "[0-9A-Z]{7,32}",
            v in "[0-9]{3}",
        ) {
            let id = LicenceId::generate(&t, &a, &s, &v).unwrap();
            prop_assert!(id.check_ok());
            prop_assert_eq!(LicenceId::parse(&id.to_string()), Ok(id.clone()));
            let json = serde_json::to_string(&id).unwrap();
            prop_assert_eq!(serde_json::from_str::<LicenceId>(&json).unwrap(), id);
        }

        #[test]
        fn licence_check_detects_serial_substitutions(
            s in "[0-9A-Z]{7,32}",
            pos in 0usize..7,
            c in prop::sample::select(ALNUM_ALPHABET.map(char::from).to_vec()),
        ) {
            prop_assume!(s.chars().nth(pos) != Some(c));
            let good = LicenceId::generate(TYPE, AUTH, &s, "001").unwrap();
            let bad = lid(TYPE, AUTH, &replace_at(&s, pos, c), "001", &good.check().to_string());
            prop_assert!(!LicenceId::parse(&bad).unwrap().check_ok());
        }

        #[test]
        fn region_codes_round_trip(
            (prefix, name) in prop::sample::select(PROVINCES.to_vec()), rest in "[0-9]{4}"
        ) {
            let r = RegionCode::parse(&format!("{prefix}{rest}")).unwrap();
            prop_assert_eq!(r.province_name(), name);
            prop_assert_eq!(r.province().province(), r.province());
            prop_assert_eq!(RegionCode::try_from(String::from(r.clone())), Ok(r));
        }

        #[test]
        fn nothing_panics_on_arbitrary_input(s in prop_oneof![
            any::<String>(),
            "[0-9Xx９]{16,19}",
            "1\\.2\\.156\\.3005\\.2\\.[0-9A-Za-z.浙 \n]{0,90}",
        ]) {
            let _ = (Uscc::parse(&s), ResidentId::parse(&s), RegionCode::parse(&s));
            let _ = (LicenceId::parse(&s), HolderIdType::from_code(&s));
            let _ = (Uscc::check_char(&s), ResidentId::check_char(&s), mod37_36_check(&s));
            for t in HolderIdType::ALL {
                let _ = t.validate(&s);
            }
            prop_assert_eq!(mask_identifier(&s).chars().count(), s.chars().count());
        }
    }
}
