//! The licence claim set of SPEC §3: its types, the checks an issuer applies before signing,
//! and encoding as a signed token.
//!
//! Verification reads the same types (see `verify`), but is lenient where SPEC §3 says so:
//! a wrong 证照标识 check character or holder code check digit is a warning there, while
//! [`Licence::check_for_issuance`] refuses them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::ids::{HolderIdType, LicenceId, RegionCode, Uscc};
use crate::jws::{self, HeaderParams};
use crate::sign::{SignError, Signer};
use crate::status_list::StatusReference;
use crate::time::UnixTime;

/// `typ` of a licence token.
pub const LICENCE_TYP: &str = "licence+jwt";
/// Longest text accepted in a name or face value (characters).
pub const MAX_TEXT_CHARS: usize = 512;
/// Most face fields accepted.
pub const MAX_FACE_FIELDS: usize = 64;

/// The claims of a licence token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenceClaims {
    /// Issuing province.
    pub iss: RegionCode,
    /// The e-licence identifier (证照标识).
    pub jti: LicenceId,
    /// Signing time.
    pub iat: i64,
    /// Valid from (start of day, China time).
    pub nbf: i64,
    /// Valid until (end of day); absent = long-term (长期).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// The licence itself.
    pub licence: Licence,
    /// Where its revocation status is published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusReference>,
}

/// The licence object (as in `POST /v1/licences` and `huren sign`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Licence {
    /// 证照类型代码 (21 characters).
    pub type_code: String,
    /// 证照类型名称.
    pub type_name: String,
    /// 证照编号, the printed number.
    pub number: String,
    /// 持证主体.
    pub holder: Holder,
    /// 颁发机构.
    pub issuer: IssuingAuthority,
    /// 颁证日期.
    pub issued_on: CivilDate,
    /// First day of validity.
    pub valid_from: CivilDate,
    /// Last day of validity; `null` = long-term (长期).
    pub valid_until: Option<CivilDate>,
    /// Type-specific fields (照面信息).
    #[serde(default)]
    pub face: BTreeMap<String, String>,
}

/// The holder of a licence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holder {
    /// Name of the person or organisation.
    pub name: String,
    /// Code type (代码类型代码).
    pub id_type: HolderIdType,
    /// The code itself.
    pub id: String,
}

/// The issuing authority (颁发机构).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuingAuthority {
    /// Name, e.g. 浙江省住房和城乡建设厅.
    pub name: String,
    /// Its 统一社会信用代码.
    pub code: String,
}

/// A calendar date written `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "String")]
pub struct CivilDate(pub Date);

impl<'de> Deserialize<'de> for CivilDate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::text::deserialize_parsed(deserializer, CivilDate::parse)
    }
}

impl TryFrom<String> for CivilDate {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        CivilDate::parse(&text)
    }
}

impl CivilDate {
    /// Parses `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid = || format!("{:?} is not a date of the form YYYY-MM-DD", truncate(text));
        // By hand rather than through a format description: every verification parses three.
        let bytes = text.as_bytes();
        let digits = |range: std::ops::Range<usize>| -> Option<u32> {
            bytes.get(range)?.iter().try_fold(0u32, |n, &b| {
                b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
            })
        };
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(invalid());
        }
        let (Some(year), Some(month), Some(day)) = (digits(0..4), digits(5..7), digits(8..10))
        else {
            return Err(invalid());
        };
        let month = u8::try_from(month)
            .ok()
            .and_then(|m| time::Month::try_from(m).ok())
            .ok_or_else(invalid)?;
        let year = i32::try_from(year).map_err(|_| invalid())?;
        let day = u8::try_from(day).map_err(|_| invalid())?;
        Date::from_calendar_date(year, month, day)
            .map(CivilDate)
            .map_err(|_| invalid())
    }
}

impl From<CivilDate> for String {
    fn from(date: CivilDate) -> String {
        date.to_string()
    }
}

impl fmt::Display for CivilDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = (self.0.year(), u8::from(self.0.month()), self.0.day());
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// One field of a request that is wrong, for 422 responses and CLI errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON path of the field, e.g. `holder.id`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl Licence {
    /// The checks an issuer applies before signing: every code with its check digit, dates in
    /// order, texts present and bounded. Returns every problem, each naming its field.
    pub fn check_for_issuance(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut fail = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.to_owned(),
                message,
            })
        };
        if let Err(e) = check_type_code(&self.type_code) {
            fail("type_code", e);
        }
        for (field, text) in [
            ("type_name", &self.type_name),
            ("number", &self.number),
            ("holder.name", &self.holder.name),
            ("issuer.name", &self.issuer.name),
        ] {
            if let Err(e) = check_text(text, Surrounding::Allowed) {
                fail(field, e);
            }
        }
        if let Err(e) = self.holder.id_type.validate(&self.holder.id) {
            fail("holder.id", e.to_string());
        }
        if let Err(e) = Uscc::parse(&self.issuer.code) {
            fail("issuer.code", e.to_string());
        }
        if let Some(until) = self.valid_until {
            if until < self.valid_from {
                fail(
                    "valid_until",
                    format!("{until} is before valid_from {}", self.valid_from),
                );
            }
        }
        if self.face.len() > MAX_FACE_FIELDS {
            fail("face", format!("more than {MAX_FACE_FIELDS} fields"));
        }
        for (key, value) in &self.face {
            if key.is_empty() || key.chars().count() > 64 || key.chars().any(char::is_control) {
                fail(
                    &format!("face.{}", truncate(key)),
                    "invalid field name".into(),
                );
            } else if let Err(e) = check_text(value, Surrounding::Allowed) {
                fail(&format!("face.{key}"), e);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// `nbf`: the start of `valid_from` in China time.
    pub fn not_before(&self) -> UnixTime {
        UnixTime::start_of_china_day(self.valid_from.0)
    }

    /// `exp`: the end of `valid_until` in China time; `None` for long-term licences.
    pub fn not_after(&self) -> Option<UnixTime> {
        self.valid_until.map(|d| UnixTime::end_of_china_day(d.0))
    }
}

/// A type code is a defining authority's code (18 characters of the USCC alphabet) followed by
/// 3 digits. The authority part's check digit is not enforced: catalogues in use carry codes
/// whose check is not computed per GB 32100.
pub fn check_type_code(code: &str) -> Result<(), String> {
    let chars: Vec<char> = code.chars().collect();
    if chars.len() != 21 {
        return Err(format!("must be 21 characters, found {}", chars.len()));
    }
    let authority: String = chars[..18].iter().collect();
    crate::ids::check_uscc_alphabet(&authority)?;
    if let Some(i) = chars[18..].iter().position(|c| !c.is_ascii_digit()) {
        return Err(format!("character {} must be a digit", i + 19));
    }
    Ok(())
}

/// Whether whitespace may surround a text field ([`check_text`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surrounding {
    /// Kept as given (a licence's fields: what the department typed is what is signed).
    Allowed,
    /// Refused (the catalogue's names and labels, which licences must match exactly).
    Refused,
}

/// The one check of free text, on licences and in the catalogue: not blank, at most
/// [`MAX_TEXT_CHARS`] characters, no control characters, and with [`Surrounding::Refused`] no
/// whitespace around it.
pub fn check_text(text: &str, surrounding: Surrounding) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if surrounding == Surrounding::Refused && text.trim() != text {
        return Err("must not start or end with whitespace".into());
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(format!("longer than {MAX_TEXT_CHARS} characters"));
    }
    if text.chars().any(char::is_control) {
        return Err("contains control characters".into());
    }
    Ok(())
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

impl LicenceClaims {
    /// Assembles the claims for `licence`, signed at `iat`, under identifier `jti`.
    pub fn new(
        iss: RegionCode,
        jti: LicenceId,
        iat: UnixTime,
        licence: Licence,
        status: Option<StatusReference>,
    ) -> LicenceClaims {
        LicenceClaims {
            iss,
            jti,
            iat: iat.seconds(),
            nbf: licence.not_before().seconds(),
            exp: licence.not_after().map(UnixTime::seconds),
            licence,
            status,
        }
    }

    /// Signs the claims as a licence token; `signer_x5t_s256` is the SHA-256 of the signer's
    /// certificate. Compresses only when that shortens the token.
    pub fn sign(
        &self,
        signer: &dyn Signer,
        signer_x5t_s256: [u8; 32],
    ) -> Result<String, SignError> {
        sign_as(LICENCE_TYP, self, signer, signer_x5t_s256)
    }
}

/// Signs claims as a token of type `typ` the way every licence-signer token is signed (a
/// licence, an annotated copy): the signer named by `x5t#S256`, compressed only when shorter.
pub(crate) fn sign_as<T: Serialize>(
    typ: &'static str,
    claims: &T,
    signer: &dyn Signer,
    signer_x5t_s256: [u8; 32],
) -> Result<String, SignError> {
    let params = HeaderParams {
        typ: Some(typ),
        x5t_s256: Some(signer_x5t_s256),
        ..HeaderParams::default()
    };
    jws::sign_json_compact(&params, claims, signer, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample_licence() -> Licence {
        serde_json::from_value(serde_json::json!({
            "type_code": "11100000000013338W032",
            "type_name": "建筑业企业资质证书",
            "number": "D233012345",
            "holder": {"name": "杭州示例建设有限公司", "id_type": "001", "id": "91350100M000100Y43"},
            "issuer": {"name": "浙江省住房和城乡建设厅", "code": "11220000013544541J"},
            "issued_on": "2026-11-22",
            "valid_from": "2026-11-22",
            "valid_until": "2031-11-21",
            "face": {"qualification": "建筑工程施工总承包壹级"}
        }))
        .unwrap()
    }

    #[test]
    fn a_good_licence_passes_issuance_checks() {
        assert_eq!(sample_licence().check_for_issuance(), Ok(()));
    }

    #[test]
    fn issuance_checks_name_every_bad_field() {
        let mut licence = sample_licence();
        licence.holder.id = "91350100M000100Y44".into();
        licence.issuer.code = "123".into();
        licence.type_code = "short".into();
        licence.valid_until = Some(CivilDate::parse("2020-01-01").unwrap());
        licence.face.insert("note".into(), String::new());
        let fields: Vec<String> = licence
            .check_for_issuance()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "type_code",
                "holder.id",
                "issuer.code",
                "valid_until",
                "face.note"
            ]
        );
    }

    #[test]
    fn dates_are_strict_and_validity_is_whole_china_days() {
        assert!(CivilDate::parse("2026-02-30").is_err());
        assert!(CivilDate::parse("2026-2-3").is_err());
        for bad in [
            "2026-13-01",
            "2026-00-10",
            "2026-01-00",
            "+026-01-01",
            "2026/01/01",
            "2026-01-011",
            "２０２６-01-01",
            "",
        ] {
            assert!(CivilDate::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            CivilDate::parse("2024-02-29").unwrap().to_string(),
            "2024-02-29"
        );
        assert_eq!(
            CivilDate::parse("0001-01-01").unwrap().to_string(),
            "0001-01-01"
        );
        let licence = sample_licence();
        assert_eq!(
            licence.not_before().to_rfc3339_china(),
            "2026-11-22T00:00:00+08:00"
        );
        assert_eq!(
            licence.not_after().unwrap().to_rfc3339_china(),
            "2031-11-21T23:59:59+08:00"
        );
        let unknown_field = serde_json::json!({"type_code": "x", "extra": 1});
        assert!(serde_json::from_value::<Licence>(unknown_field).is_err());
    }
}
