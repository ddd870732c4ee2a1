//! Annotated copies (加注件) of SPEC §11: a licence's holder lets one using unit (用证单位) use
//! the licence for one matter (事项), for a limited time, seeing only the fields that matter
//! needs. This module owns the copy token: its claims, the terms a holder sets ([`CopyTerms`],
//! checked field by field), what may be disclosed and how a licence is cut down to it, and
//! signing. Verification lives with licence verification (`verify`), which runs the same checks
//! on both and the copy's own on top.
//!
//! Fields not disclosed are *absent* from the token — not masked, not hashed — so nothing the
//! holder withheld can be recovered from a copy. `disclosed` names exactly the optional fields
//! present; [`CopyClaims::check_shape`] holds a token to that, so a clerk is never shown a field
//! as withheld that is there, or the reverse.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{HolderIdType, LicenceId, RegionCode, Uscc};
use crate::licence::{
    check_text, CivilDate, FieldError, IssuingAuthority, LicenceClaims, Surrounding,
};
use crate::sign::{SignError, Signer};
use crate::status_list::StatusReference;
use crate::time::UnixTime;

/// `typ` of a copy token.
pub const COPY_TYP: &str = "licence-copy+jwt";
/// Shortest copy a holder may ask for (seconds).
pub const MIN_COPY_SECONDS: i64 = 60;
/// Longest copy a holder may ask for, and the longest a verifier accepts: 90 days.
pub const MAX_COPY_SECONDS: i64 = 90 * 24 * 3600;
/// How long a copy lasts when the holder does not say: 24 hours.
pub const DEFAULT_COPY_SECONDS: i64 = 24 * 3600;
/// Copies this short, without an audience, are on-screen 亮证码 a phone app refreshes: the
/// report counts their seconds down.
pub const ON_SCREEN_MAX_SECONDS: i64 = 300;
/// Longest purpose cause (用证事由) and item name, in characters.
pub const MAX_PURPOSE_CHARS: usize = 200;
/// Longest service-item code (事项编码).
pub const MAX_ITEM_CODE_CHARS: usize = 64;
/// What a copy discloses when the holder does not choose: the printed number and the holder's
/// name. The holder's ID and the face are shown only when asked for (minimum necessary).
pub const DEFAULT_DISCLOSURE: [&str; 2] = ["number", "holder.name"];

/// A copy's identifier: 128 random bits in RFC 4648 base32 without padding (26 characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct CopyId(String);

impl CopyId {
    /// The identifier for 16 random bytes (the caller's randomness: this crate has no RNG).
    pub fn from_random(bytes: [u8; 16]) -> CopyId {
        CopyId(data_encoding::BASE32_NOPAD.encode(&bytes))
    }

    /// Parses an identifier: exactly 26 upper-case base32 characters encoding 16 bytes.
    pub fn parse(text: &str) -> Result<CopyId, String> {
        let decoded = (text.len() == 26)
            .then(|| data_encoding::BASE32_NOPAD.decode(text.as_bytes()).ok())
            .flatten();
        match decoded {
            Some(bytes) if bytes.len() == 16 => Ok(CopyId(text.to_owned())),
            _ => Err("a copy id is 26 base32 characters (A-Z, 2-7)".into()),
        }
    }

    /// The identifier's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CopyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<CopyId> for String {
    fn from(id: CopyId) -> String {
        id.0
    }
}

impl<'de> Deserialize<'de> for CopyId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::text::deserialize_parsed(deserializer, CopyId::parse)
    }
}

/// Why the licence is used (用证事由) and, for category 0, the service item (事项) it serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Purpose {
    /// 用证事由, at most [`MAX_PURPOSE_CHARS`] characters.
    pub cause: String,
    /// `0`: tied to a service item (item code and name required); `1`: not (亮证, a scan).
    pub category: u8,
    /// 事项编码, with category 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_code: Option<String>,
    /// 事项名称, with category 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_name: Option<String>,
}

/// The using unit (用证单位) a copy is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unit {
    /// Its name.
    pub name: String,
    /// Its 统一社会信用代码.
    pub code: String,
}

/// Who made the copy (制作者): the holder-facing platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Copier {
    /// Its name, e.g. 浙江政务服务网.
    pub name: String,
}

/// The holder as a copy shows it: each part only when disclosed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopiedHolder {
    /// Name (`holder.name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Code type (`holder.id_type`, or with `holder.id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_type: Option<HolderIdType>,
    /// The code (`holder.id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// The licence as a copy carries it: what identifies the licence and its validity always, the
/// rest only when disclosed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopiedLicence {
    /// 证照类型代码.
    pub type_code: String,
    /// 证照类型名称.
    pub type_name: String,
    /// 颁发机构.
    pub issuer: IssuingAuthority,
    /// First day of the licence's validity.
    pub valid_from: CivilDate,
    /// Last day of the licence's validity; `null` = long-term (长期).
    pub valid_until: Option<CivilDate>,
    /// 证照编号 (`number`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// The holder's disclosed parts.
    #[serde(default)]
    pub holder: CopiedHolder,
    /// The disclosed face fields (`face.<key>`).
    #[serde(default)]
    pub face: BTreeMap<String, String>,
}

impl CopiedLicence {
    /// `nbf` of the licence: the start of `valid_from` in China time.
    pub fn not_before(&self) -> UnixTime {
        UnixTime::start_of_china_day(self.valid_from.0)
    }

    /// `exp` of the licence: the end of `valid_until`; `None` for long-term licences.
    pub fn not_after(&self) -> Option<UnixTime> {
        self.valid_until.map(|d| UnixTime::end_of_china_day(d.0))
    }

    /// The disclosure keys of the fields present other than the face, in canonical order:
    /// the one statement of that order ([`CopiedLicence::present_keys`] adds the face).
    fn fixed_keys(&self) -> impl Iterator<Item = &'static str> {
        [
            self.number.is_some().then_some("number"),
            self.holder.name.is_some().then_some("holder.name"),
            match (&self.holder.id_type, &self.holder.id) {
                (_, Some(_)) => Some("holder.id"),
                (Some(_), None) => Some("holder.id_type"),
                (None, None) => None,
            },
        ]
        .into_iter()
        .flatten()
    }

    /// Whether `disclosed` is exactly [`CopiedLicence::present_keys`], compared without
    /// building it (verification runs this on every copy).
    fn disclosed_exactly(&self, disclosed: &[String]) -> bool {
        let mut named = disclosed.iter();
        for key in self.fixed_keys() {
            if named.next().map(String::as_str) != Some(key) {
                return false;
            }
        }
        for face_key in self.face.keys() {
            let listed = named.next().and_then(|k| k.strip_prefix("face."));
            if listed != Some(face_key.as_str()) {
                return false;
            }
        }
        named.next().is_none()
    }

    /// The disclosure keys of the optional fields present, in canonical order.
    fn present_keys(&self) -> Vec<String> {
        self.fixed_keys()
            .map(str::to_owned)
            .chain(self.face.keys().map(|k| format!("face.{k}")))
            .collect()
    }
}

/// The claims of a copy token (SPEC §11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopyClaims {
    /// Issuing province (the licence's).
    pub iss: RegionCode,
    /// The copy's id.
    pub jti: CopyId,
    /// When the copy was made.
    pub iat: i64,
    /// When the copy ends.
    pub exp: i64,
    /// The licence's 证照标识.
    pub copy_of: LicenceId,
    /// What the copy may be used for.
    pub purpose: Purpose,
    /// The one unit that may use it; absent = any window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Unit>,
    /// Who made it.
    pub copier: Copier,
    /// The licence, cut down to what was disclosed.
    pub licence: CopiedLicence,
    /// The disclosure keys, exactly the optional fields present in `licence`.
    pub disclosed: Vec<String>,
    /// The licence's own status entry (revoking the licence revokes every copy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusReference>,
    /// This copy's entry (withdrawal by the holder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_status: Option<StatusReference>,
}

impl CopyClaims {
    /// What a verifier holds a signed copy to, beyond its types: a lifetime within
    /// (0, [`MAX_COPY_SECONDS`]], a purpose of the documented shape, and `disclosed` naming
    /// exactly the fields present.
    pub fn check_shape(&self) -> Result<(), String> {
        let life = self.exp.checked_sub(self.iat).unwrap_or(i64::MAX);
        if life <= 0 || life > MAX_COPY_SECONDS {
            return Err(format!(
                "a copy lasts more than 0 s and at most 90 days; this one claims {life} s"
            ));
        }
        if let Some(error) = purpose_errors(&self.purpose, Rules::Verification)
            .into_iter()
            .next()
        {
            return Err(error.to_string());
        }
        if !self.licence.disclosed_exactly(&self.disclosed) {
            return Err(format!(
                "disclosed {:?} does not name the fields present {:?}",
                self.disclosed,
                self.licence.present_keys()
            ));
        }
        Ok(())
    }

    /// Whether this is an on-screen 亮证码: no audience, category 1, at most
    /// [`ON_SCREEN_MAX_SECONDS`] long.
    pub fn is_on_screen(&self) -> bool {
        self.aud.is_none()
            && self.purpose.category == 1
            && self.exp.saturating_sub(self.iat) <= ON_SCREEN_MAX_SECONDS
    }

    /// Signs the claims as a copy token, as [`LicenceClaims::sign`] does a licence.
    pub fn sign(
        &self,
        signer: &dyn Signer,
        signer_x5t_s256: [u8; 32],
    ) -> Result<String, SignError> {
        crate::licence::sign_as(COPY_TYP, self, signer, signer_x5t_s256)
    }
}

/// What the holder decides about a copy (the body of `POST /v1/licences/{jti}/copies` without
/// the holder's own identification, and the options of `huren copy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopyTerms {
    /// What for.
    pub purpose: Purpose,
    /// For whom; `None` (absent or `null`) = any window.
    #[serde(default)]
    pub aud: Option<Unit>,
    /// Which fields; `None` = [`DEFAULT_DISCLOSURE`].
    #[serde(default)]
    pub disclose: Option<Vec<String>>,
    /// How long, in seconds; `None` = [`DEFAULT_COPY_SECONDS`].
    #[serde(default)]
    pub valid_for_secs: Option<i64>,
}

/// What the issuer adds to a holder's terms to make a copy.
#[derive(Clone)]
pub struct CopyMaking<'a> {
    /// The copy's id.
    pub id: CopyId,
    /// When it is made.
    pub iat: UnixTime,
    /// Who makes it.
    pub copier: Copier,
    /// The copy's own status entry.
    pub copy_status: Option<StatusReference>,
    /// Whether the licence type lets `face.<key>` be disclosed (the catalogue decides; a
    /// field absent from the catalogue is asked about too).
    pub face_disclosable: &'a dyn Fn(&str) -> bool,
}

impl fmt::Debug for CopyMaking<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CopyMaking")
            .field("id", &self.id)
            .field("iat", &self.iat)
            .field("copier", &self.copier)
            .field("copy_status", &self.copy_status)
            .finish_non_exhaustive()
    }
}

impl CopyTerms {
    /// Every problem with the terms on their own, each naming its field.
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = purpose_errors(&self.purpose, Rules::Issuance);
        if let Some(aud) = &self.aud {
            if let Err(e) = check_text(&aud.name, Surrounding::Allowed) {
                errors.push(field_error("aud.name", e));
            }
            if let Err(e) = Uscc::parse(&aud.code) {
                errors.push(field_error("aud.code", format!("not a valid USCC: {e}")));
            }
        }
        if let Some(secs) = self.valid_for_secs {
            if !(MIN_COPY_SECONDS..=MAX_COPY_SECONDS).contains(&secs) {
                errors.push(field_error(
                    "valid_for_secs",
                    format!("{secs} is outside 60 s … 90 days ({MAX_COPY_SECONDS} s)"),
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The copy of `licence` these terms describe. Checks the terms ([`CopyTerms::check`]) and
    /// every disclosure key against the licence and the catalogue; returns every problem.
    ///
    /// A copy never outlives its licence: `exp` is the earlier of `iat + valid_for_secs` and
    /// the licence's own end (a shorter copy than asked is better than a copy whose date
    /// promises what the licence cannot keep); a licence ending within [`MIN_COPY_SECONDS`]
    /// is not copied at all (`copy_of`).
    pub fn make(
        &self,
        licence: &LicenceClaims,
        making: CopyMaking<'_>,
    ) -> Result<CopyClaims, Vec<FieldError>> {
        let mut errors = self.check().err().unwrap_or_default();
        let copied = match self.disclose_from(licence, making.face_disclosable) {
            Ok(copied) => Some(copied),
            Err(mut problems) => {
                errors.append(&mut problems);
                None
            }
        };
        if let Err(e) = check_text(&making.copier.name, Surrounding::Allowed) {
            errors.push(field_error("copier.name", e));
        }
        let Some(copied) = copied.filter(|_| errors.is_empty()) else {
            return Err(errors);
        };
        let iat = making.iat.seconds();
        let asked = iat.saturating_add(self.valid_for_secs.unwrap_or(DEFAULT_COPY_SECONDS));
        let exp = licence
            .exp
            .map_or(asked, |licence_end| asked.min(licence_end));
        if exp - iat < MIN_COPY_SECONDS {
            return Err(vec![field_error(
                "copy_of",
                format!(
                    "the licence {} has expired or ends within {MIN_COPY_SECONDS} s",
                    licence.jti
                ),
            )]);
        }
        let disclosed = copied.present_keys();
        Ok(CopyClaims {
            iss: licence.iss.clone(),
            jti: making.id,
            iat,
            exp,
            copy_of: licence.jti.clone(),
            purpose: self.purpose.clone(),
            aud: self.aud.clone(),
            copier: making.copier,
            licence: copied,
            disclosed,
            status: licence.status.clone(),
            copy_status: making.copy_status,
        })
    }

    /// The licence cut down to the chosen keys.
    fn disclose_from(
        &self,
        claims: &LicenceClaims,
        face_disclosable: &dyn Fn(&str) -> bool,
    ) -> Result<CopiedLicence, Vec<FieldError>> {
        let licence = &claims.licence;
        let mut copied = CopiedLicence {
            type_code: licence.type_code.clone(),
            type_name: licence.type_name.clone(),
            issuer: licence.issuer.clone(),
            valid_from: licence.valid_from,
            valid_until: licence.valid_until,
            number: None,
            holder: CopiedHolder::default(),
            face: BTreeMap::new(),
        };
        let default_keys: Vec<String> = DEFAULT_DISCLOSURE.map(str::to_owned).to_vec();
        let keys = self.disclose.as_ref().unwrap_or(&default_keys);
        let mut errors = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, key) in keys.iter().enumerate() {
            let field = format!("disclose[{i}]");
            if !seen.insert(key.as_str()) {
                continue;
            }
            match key.as_str() {
                "number" => copied.number = Some(licence.number.clone()),
                "holder.name" => copied.holder.name = Some(licence.holder.name.clone()),
                "holder.id_type" => copied.holder.id_type = Some(licence.holder.id_type),
                // An ID number is unreadable without its type: the type comes with it.
                "holder.id" => {
                    copied.holder.id_type = Some(licence.holder.id_type);
                    copied.holder.id = Some(licence.holder.id.clone());
                }
                other => match other.strip_prefix("face.") {
                    Some(face_key) => match licence.face.get(face_key) {
                        Some(_) if !face_disclosable(face_key) => errors.push(field_error(
                            &field,
                            format!(
                                "{other:?} may never be disclosed for type {}",
                                licence.type_code
                            ),
                        )),
                        Some(value) => {
                            copied.face.insert(face_key.to_owned(), value.clone());
                        }
                        None => errors.push(field_error(
                            &field,
                            format!("the licence has no face field {face_key:?}"),
                        )),
                    },
                    None => errors.push(field_error(
                        &field,
                        format!(
                            "unknown key {:?}: one of number, holder.name, holder.id_type, \
                             holder.id, face.<field>",
                            truncate(other)
                        ),
                    )),
                },
            }
        }
        if errors.is_empty() {
            Ok(copied)
        } else {
            Err(errors)
        }
    }
}

/// Which purpose rules apply.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rules {
    /// Everything huren asks of a holder's terms.
    Issuance,
    /// What SPEC §11 itself requires of a signed copy: huren's own format choices (the item
    /// code's characters) are not held against copies other issuers made.
    Verification,
}

/// The purpose rules, shared by the issuer's request check and the verifier's shape check.
fn purpose_errors(purpose: &Purpose, rules: Rules) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let bounded = |text: &str| {
        check_text(text, Surrounding::Allowed).and_then(|()| {
            let n = text.chars().count();
            if n > MAX_PURPOSE_CHARS {
                Err(format!("{n} characters, at most {MAX_PURPOSE_CHARS}"))
            } else {
                Ok(())
            }
        })
    };
    if let Err(e) = bounded(&purpose.cause) {
        errors.push(field_error("purpose.cause", e));
    }
    match purpose.category {
        0 => {
            match purpose.item_code.as_deref() {
                None => errors.push(field_error(
                    "purpose.item_code",
                    "required with category 0 (a service item)".into(),
                )),
                Some(code) if rules == Rules::Issuance => {
                    if let Err(e) = check_item_code(code) {
                        errors.push(field_error("purpose.item_code", e));
                    }
                }
                Some(code) => {
                    if let Err(e) = check_text(code, Surrounding::Allowed) {
                        errors.push(field_error("purpose.item_code", e));
                    }
                }
            }
            match purpose.item_name.as_deref() {
                None => errors.push(field_error(
                    "purpose.item_name",
                    "required with category 0 (a service item)".into(),
                )),
                Some(name) => {
                    if let Err(e) = bounded(name) {
                        errors.push(field_error("purpose.item_name", e));
                    }
                }
            }
        }
        1 => {
            for (field, value) in [
                ("purpose.item_code", &purpose.item_code),
                ("purpose.item_name", &purpose.item_name),
            ] {
                if value.is_some() {
                    errors.push(field_error(
                        field,
                        "must be absent with category 1 (not tied to a service item)".into(),
                    ));
                }
            }
        }
        other => errors.push(field_error(
            "purpose.category",
            format!("{other} is neither 0 (a service item) nor 1 (not tied to one)"),
        )),
    }
    errors
}

/// 事项编码: 1 to [`MAX_ITEM_CODE_CHARS`] ASCII letters, digits, `-`, `_` or `.`.
fn check_item_code(code: &str) -> Result<(), String> {
    if code.is_empty() || code.len() > MAX_ITEM_CODE_CHARS {
        return Err(format!("must be 1 to {MAX_ITEM_CODE_CHARS} characters"));
    }
    if let Some(c) = code
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "{c:?} is not allowed: letters, digits, '-', '_' and '.' only"
        ));
    }
    Ok(())
}

fn field_error(field: &str, message: String) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message,
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests;
