//! The licence-type catalogue (证照目录) of one issuer: for each licence type, its type code
//! (证照类型代码, 21 characters = the defining authority's 统一社会信用代码 + 3 digits), its
//! name, its defining authority (证照定义机构), its face fields (照面信息) with Chinese
//! labels, the holder identifier types it may be issued to, and its default validity.
//!
//! This module owns:
//! - the built-in catalogue ([`Catalogue::builtin`]): six real licence types, with the sources
//!   of their codes noted beside each one;
//! - a province's own additions ([`Catalogue::with_extra_toml`]), a TOML file of `[[types]]`
//!   tables with the fields of [`LicenceType`]; an added type with an existing code replaces
//!   it; every added type is checked ([`LicenceType::validate`]) and a bad one is refused with
//!   the entry named;
//! - the `huren types` JSON of SPEC §10 ([`Catalogue::to_json`]);
//! - the type-specific checks applied before signing ([`Catalogue::check`]: known type, its
//!   name, required and unknown face fields, allowed holder identifier types), which it runs
//!   together with the generic [`Licence::check_for_issuance`], returning every problem with
//!   its field named;
//! - derived fields: the type name and the default `valid_until` ([`Catalogue::complete`],
//!   [`Catalogue::default_valid_until`]).
//!
//! Decisions:
//! - A type code is checked for structure only (18 characters of the USCC alphabet, then 3
//!   digits, as `Licence::check_for_issuance` does), not for the GB 32100 check character of
//!   its authority part, because catalogues in use carry such codes; its first 18 characters
//!   must equal the defining authority's code.
//! - `default_validity_years` absent (TOML) or `null` (JSON) means long-term (长期). A
//!   misspelt key is refused rather than read as long-term: every table here rejects unknown
//!   keys.
//! - `holder_id_types` absent means all five holder identifier types of SPEC §3.
//! - Face keys are lower-case ASCII snake_case (`[a-z][a-z0-9_]*`, at most 64 characters):
//!   they are JSON keys in tokens and appear in error paths as `face.<key>`.
//! - `huren types` prints exactly the keys SPEC §10 lists, `holder_id_types` among them (as
//!   3-digit codes): the issuer refuses the other holder identifier types, so a client must be
//!   able to know them before it asks. Each face field also says whether a holder may
//!   disclose it in an annotated copy (`disclosable`, SPEC §11; default true): a portal must
//!   know before it offers the field.
//!
//! This module must not do I/O (the caller reads the TOML file), read the clock, log, or
//! decide who may issue which type (access control lives with the bearer tokens). Nothing
//! here panics on any input.
//!
//! Over 800 lines with its tests: the rules and the built-in types end before `mod tests`
//! (about 700 lines); the tests check every built-in type against the rules.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use huren_crypto::ids::HolderIdType;
use huren_crypto::licence::{
    check_text, check_type_code, CivilDate, FieldError, Licence, Surrounding, MAX_FACE_FIELDS,
};
use serde::{Deserialize, Serialize};

/// Longest default validity accepted, in years.
pub const MAX_VALIDITY_YEARS: u32 = 100;
/// Longest face key accepted (characters), as `Licence::check_for_issuance` allows.
pub const MAX_FACE_KEY_CHARS: usize = 64;

/// One licence type of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenceType {
    /// 证照类型代码: the defining authority's code (18) followed by 3 digits.
    pub code: String,
    /// 证照类型名称, e.g. 营业执照; a licence's `type_name` must equal it.
    pub name: String,
    /// 证照定义机构: the authority that defines the type (usually a ministry).
    pub define_authority: Authority,
    /// The face fields (照面信息), in display order.
    pub face_fields: Vec<FaceField>,
    /// Default validity in whole years; `None` = long-term (长期).
    #[serde(default)]
    pub default_validity_years: Option<u32>,
    /// Holder identifier types the type may be issued to; all five when absent.
    #[serde(default = "all_holder_id_types")]
    pub holder_id_types: Vec<HolderIdType>,
}

/// An authority: name and 统一社会信用代码.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authority {
    /// Name, e.g. 住房和城乡建设部.
    pub name: String,
    /// Its 统一社会信用代码 (18 characters).
    pub code: String,
}

/// One face field (照面信息项) of a licence type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaceField {
    /// Key in the licence's `face` object (snake_case ASCII).
    pub key: String,
    /// Label printed on the licence, in Chinese.
    pub label: String,
    /// Whether every licence of the type must carry a non-empty value.
    pub required: bool,
    /// Whether a holder may disclose it in an annotated copy (加注件, SPEC §11); default true.
    /// `false` for data a using unit never needs and that is not the holder's to give away,
    /// such as a third person's identity-document number.
    #[serde(default = "disclosable_by_default")]
    pub disclosable: bool,
}

fn disclosable_by_default() -> bool {
    true
}

/// One problem with one catalogue entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryProblem {
    /// Which entry, e.g. `[[types]] entry 2 (code "…", name "…")`.
    pub entry: String,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for EntryProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.entry, self.message)
    }
}

/// Why a province's extra licence types were refused.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// The text is not TOML of the expected shape (the message gives line and key).
    #[error("extra licence types: {0}")]
    Toml(#[from] toml::de::Error),
    /// One or more entries are wrong; every problem names its entry.
    #[error("extra licence types refused: {}", join_problems(.0))]
    Invalid(Vec<EntryProblem>),
}

fn join_problems(problems: &[EntryProblem]) -> String {
    let parts: Vec<String> = problems.iter().map(ToString::to_string).collect();
    parts.join("; ")
}

/// The licence types of one issuer, by code.
#[derive(Debug, Clone)]
pub struct Catalogue {
    types: BTreeMap<String, LicenceType>,
}

/// The file format of [`Catalogue::with_extra_toml`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtraTypes {
    #[serde(default)]
    types: Vec<LicenceType>,
}

fn all_holder_id_types() -> Vec<HolderIdType> {
    // Kept in step with `HolderIdType` (whose own list is private); the test
    // `holder_id_types_default_to_all` pins the codes.
    vec![
        HolderIdType::ResidentIdCard,
        HolderIdType::Uscc,
        HolderIdType::OtherLegalEntity,
        HolderIdType::HkMacaoPermit,
        HolderIdType::OtherNaturalPerson,
    ]
}

impl LicenceType {
    /// Checks the entry itself: code structure (21 characters: 18 of the USCC alphabet, then
    /// 3 digits) starting with the defining authority's code, names and labels present and
    /// bounded, face keys well-formed and unique, at least one holder identifier type, no
    /// repeated one, and a default validity between 1 and [`MAX_VALIDITY_YEARS`] years.
    /// Returns every problem found.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        let code_ok = match check_type_code(&self.code) {
            Ok(()) => true,
            Err(e) => {
                problems.push(format!("code: {e}"));
                false
            }
        };
        let authority_ok = match check_authority_code(&self.define_authority.code) {
            Ok(()) => true,
            Err(e) => {
                problems.push(format!("define_authority.code: {e}"));
                false
            }
        };
        if code_ok && authority_ok && !self.code.starts_with(&self.define_authority.code) {
            problems.push(format!(
                "code: must start with the defining authority's code {}",
                self.define_authority.code
            ));
        }
        for (field, text) in [
            ("name", &self.name),
            ("define_authority.name", &self.define_authority.name),
        ] {
            if let Err(e) = check_text(text, Surrounding::Refused) {
                problems.push(format!("{field}: {e}"));
            }
        }
        if self.face_fields.len() > MAX_FACE_FIELDS {
            problems.push(format!("face_fields: more than {MAX_FACE_FIELDS} fields"));
        }
        let mut keys = BTreeSet::new();
        for (i, field) in self.face_fields.iter().enumerate() {
            if let Err(e) = check_face_key(&field.key) {
                problems.push(format!("face_fields[{i}].key: {e}"));
            } else if !keys.insert(field.key.as_str()) {
                problems.push(format!(
                    "face_fields[{i}].key: {:?} appears more than once",
                    field.key
                ));
            }
            if let Err(e) = check_text(&field.label, Surrounding::Refused) {
                problems.push(format!("face_fields[{i}].label: {e}"));
            }
        }
        if self.holder_id_types.is_empty() {
            problems.push("holder_id_types: must list at least one type".into());
        }
        let mut seen = Vec::new();
        for t in &self.holder_id_types {
            if seen.contains(t) {
                problems.push(format!("holder_id_types: {t} appears more than once"));
            }
            seen.push(*t);
        }
        if let Some(years) = self.default_validity_years {
            if !(1..=MAX_VALIDITY_YEARS).contains(&years) {
                problems.push(format!(
                    "default_validity_years: must be 1 to {MAX_VALIDITY_YEARS}, or left out \
                     for long-term (长期); found {years}"
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// The face field with `key`, if the type has one.
    pub fn face_field(&self, key: &str) -> Option<&FaceField> {
        self.face_fields.iter().find(|f| f.key == key)
    }

    /// Whether `face.<key>` may be disclosed in an annotated copy: a field of the type marked
    /// `disclosable` (a key the type does not define is not: the catalogue cannot vouch for it).
    pub fn face_disclosable(&self, key: &str) -> bool {
        self.face_field(key).is_some_and(|f| f.disclosable)
    }

    /// The type-specific checks of [`Catalogue::check`], appended to `errors`.
    fn check_licence(&self, licence: &Licence, errors: &mut Vec<FieldError>) {
        let mut fail = |field: String, message: String| errors.push(FieldError { field, message });
        if licence.type_name != self.name {
            fail(
                "type_name".into(),
                format!("must be {:?} for type {}", self.name, self.code),
            );
        }
        if !self.holder_id_types.contains(&licence.holder.id_type) {
            let allowed: Vec<String> = self
                .holder_id_types
                .iter()
                .map(|t| format!("{} ({})", t.code(), t.label_zh()))
                .collect();
            fail(
                "holder.id_type".into(),
                format!(
                    "{} is not accepted for {}; allowed: {}",
                    licence.holder.id_type.code(),
                    self.name,
                    allowed.join(", ")
                ),
            );
        }
        for field in self.face_fields.iter().filter(|f| f.required) {
            match licence.face.get(&field.key) {
                None => fail(
                    format!("face.{}", field.key),
                    format!("required field {} is missing", field.label),
                ),
                Some(value) if value.trim().is_empty() => fail(
                    format!("face.{}", field.key),
                    format!("required field {} must not be empty", field.label),
                ),
                Some(_) => {}
            }
        }
        for key in licence.face.keys() {
            // Malformed keys are reported by `check_for_issuance`, under a truncated name.
            if self.face_field(key).is_none() && check_face_key_lenient(key) {
                let allowed: Vec<&str> = self.face_fields.iter().map(|f| f.key.as_str()).collect();
                fail(
                    format!("face.{key}"),
                    format!(
                        "not a field of {}; allowed: {}",
                        self.name,
                        allowed.join(", ")
                    ),
                );
            }
        }
    }
}

impl Catalogue {
    /// The built-in catalogue: 营业执照, 食品经营许可证, 建筑业企业资质证书, 道路运输经营许可证,
    /// 医师执业证书 and 不动产权证书.
    pub fn builtin() -> Catalogue {
        let types = builtin_types()
            .into_iter()
            .map(|t| (t.code.clone(), t))
            .collect();
        Catalogue { types }
    }

    /// The built-in catalogue plus a province's own types from a TOML file of `[[types]]`
    /// tables with the fields of [`LicenceType`]. A type with an existing code replaces it.
    /// Every added type is checked ([`LicenceType::validate`]); two entries with the same code
    /// are refused. On any problem nothing is added and every problem is returned, each naming
    /// its entry.
    pub fn with_extra_toml(mut self, toml_text: &str) -> Result<Catalogue, CatalogueError> {
        let extra: ExtraTypes = toml::from_str(toml_text)?;
        let mut problems = Vec::new();
        let mut codes = BTreeMap::new();
        for (i, t) in extra.types.iter().enumerate() {
            let entry = format!(
                "[[types]] entry {} (code {:?}, name {:?})",
                i + 1,
                excerpt(&t.code),
                excerpt(&t.name)
            );
            if let Err(messages) = t.validate() {
                problems.extend(messages.into_iter().map(|message| EntryProblem {
                    entry: entry.clone(),
                    message,
                }));
            }
            if let Some(first) = codes.insert(t.code.as_str(), i + 1) {
                problems.push(EntryProblem {
                    entry,
                    message: format!("code: already used by entry {first}"),
                });
            }
        }
        if !problems.is_empty() {
            return Err(CatalogueError::Invalid(problems));
        }
        for t in extra.types {
            self.types.insert(t.code.clone(), t);
        }
        Ok(self)
    }

    /// `(key, label)` of each face field of type `code`, in catalogue order (empty for a type
    /// not catalogued): what a printed licence or copy calls its fields.
    pub fn face_labels(&self, code: &str) -> Vec<(String, String)> {
        self.get(code)
            .map(|t| {
                t.face_fields
                    .iter()
                    .map(|f| (f.key.clone(), f.label.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The type with `code`.
    pub fn get(&self, code: &str) -> Option<&LicenceType> {
        self.types.get(code)
    }

    /// Every type, sorted by code.
    pub fn types(&self) -> impl Iterator<Item = &LicenceType> {
        self.types.values()
    }

    /// The `huren types` JSON of SPEC §10: `{"types": [{"code", "name", "define_authority":
    /// {"name", "code"}, "face_fields": [{"key", "label", "required", "disclosable"}],
    /// "default_validity_years", "holder_id_types"}]}`, sorted by code;
    /// `default_validity_years` is `null` for long-term types; `holder_id_types` lists the
    /// 3-digit holder identifier type codes [`Catalogue::check`] accepts for the type.
    pub fn to_json(&self) -> serde_json::Value {
        let types: Vec<serde_json::Value> = self
            .types()
            .map(|t| {
                let fields: Vec<serde_json::Value> = t
                    .face_fields
                    .iter()
                    .map(|f| serde_json::json!({"key": f.key, "label": f.label, "required": f.required, "disclosable": f.disclosable}))
                    .collect();
                serde_json::json!({
                    "code": t.code,
                    "name": t.name,
                    "define_authority": {"name": t.define_authority.name, "code": t.define_authority.code},
                    "face_fields": fields,
                    "default_validity_years": t.default_validity_years,
                    "holder_id_types": t.holder_id_types.iter().map(|h| h.code()).collect::<Vec<_>>(),
                })
            })
            .collect();
        serde_json::json!({ "types": types })
    }

    /// Checks `licence` against its type and with [`Licence::check_for_issuance`]: the type
    /// code must be in the catalogue (`type_code`); `type_name` must equal the type's name
    /// (`type_name`; see [`Catalogue::complete`]); the holder identifier type must be allowed
    /// (`holder.id_type`); required face fields must be present and non-empty, and face keys
    /// the type does not define are refused (`face.<key>`, the message listing the allowed
    /// keys). Returns every problem; where both checks name the same field, the type-specific
    /// message is kept, except that a malformed type code is reported as such rather than as
    /// unknown.
    pub fn check(&self, licence: &Licence) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        match self.get(&licence.type_code) {
            Some(t) => t.check_licence(licence, &mut errors),
            None if check_type_code(&licence.type_code).is_ok() => errors.push(FieldError {
                field: "type_code".into(),
                message: format!(
                    "{} is not a licence type of this issuer (see `huren types`)",
                    licence.type_code
                ),
            }),
            None => {} // malformed: `check_for_issuance` says how
        }
        if let Err(generic) = licence.check_for_issuance() {
            for e in generic {
                if !errors.iter().any(|known| known.field == e.field) {
                    errors.push(e);
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Fills the derived fields of a request before [`Catalogue::check`]: `type_name` from the
    /// catalogue when it is empty, and `valid_until` from the request when it gave one
    /// (`Some(Some(date))`, or `Some(None)` for an explicit `null` = long-term) or else from
    /// the type's default validity (`None`: the request left it out). Unknown types are left
    /// as they are, for `check` to report.
    pub fn complete(
        &self,
        licence: &mut Licence,
        requested_valid_until: Option<Option<CivilDate>>,
    ) {
        if let Some(t) = self.get(&licence.type_code) {
            if licence.type_name.is_empty() {
                licence.type_name = t.name.clone();
            }
        }
        licence.valid_until = match requested_valid_until {
            Some(given) => given,
            None => self.default_valid_until(&licence.type_code, licence.valid_from),
        };
    }

    /// The default last day of validity for a licence of `type_code` valid from `valid_from`:
    /// `valid_from` + N years − 1 day (2026-11-22 + 5 years → 2031-11-21; from 29 February
    /// the period ends on 28 February). `None` for long-term types, unknown types, and dates
    /// beyond what a calendar date can hold (year 9999).
    pub fn default_valid_until(&self, type_code: &str, valid_from: CivilDate) -> Option<CivilDate> {
        let years = self.get(type_code)?.default_validity_years?;
        add_years_minus_one_day(valid_from, years)
    }
}

/// `from` + `years` years − 1 day. The day before the anniversary is the anniversary's eve,
/// so for 29 February the eve is 28 February whether or not the target year is a leap year.
fn add_years_minus_one_day(from: CivilDate, years: u32) -> Option<CivilDate> {
    let years = i32::try_from(years).ok()?;
    let target = from.0.year().checked_add(years)?;
    let end = match from.0.replace_year(target) {
        Ok(anniversary) => anniversary.previous_day()?,
        // 29 February into a common year (or a year out of range, which fails again here).
        Err(_) => from.0.previous_day()?.replace_year(target).ok()?,
    };
    Some(CivilDate(end))
}

fn check_authority_code(code: &str) -> Result<(), String> {
    let chars: Vec<char> = code.chars().collect();
    if chars.len() != 18 {
        return Err(format!("must be 18 characters, found {}", chars.len()));
    }
    huren_crypto::ids::check_uscc_alphabet(code)
}

fn check_face_key(key: &str) -> Result<(), String> {
    let mut chars = key.chars();
    let Some(first) = chars.next() else {
        return Err("must not be empty".into());
    };
    if key.chars().count() > MAX_FACE_KEY_CHARS {
        return Err(format!("longer than {MAX_FACE_KEY_CHARS} characters"));
    }
    if !first.is_ascii_lowercase()
        || !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(format!(
            "{:?} is not snake_case (a lower-case ASCII letter, then lower-case letters, \
             digits or _)",
            excerpt(key)
        ));
    }
    Ok(())
}

/// Whether `Licence::check_for_issuance` accepts `key` as a face key (so that an unknown key
/// can be named in full without repeating its complaint about a malformed one).
fn check_face_key_lenient(key: &str) -> bool {
    !key.is_empty()
        && key.chars().count() <= MAX_FACE_KEY_CHARS
        && !key.chars().any(char::is_control)
}

fn excerpt(text: &str) -> String {
    let mut out: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        out.push('…');
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The built-in types.
//
// Authority codes (统一社会信用代码) and type codes, with where they were seen; every authority
// code below passes the GB 32100 check (test `builtin_authority_codes_pass_gb32100`):
// - 国家市场监督管理总局 11100000MB0143028R: the node id of samr.gov.cn's open-government pages;
//   营业执照 = 11100000MB0143028R001, as the `certtype` a county government-service window
//   system records when it fetches a 电子营业执照 (public GitHub code).
// - 住房和城乡建设部 11100000000013338W: REFERENCE.md; 建筑业企业资质证书 = …W032 (SPEC §3 and
//   real identifiers such as 1.2.156.3005.2.11100000000013338W032.11220000013544541J.…).
// - 交通运输部 11100000000019713D: 道路运输经营许可证 = …D008, from a provincial road-transport
//   e-licence system's dictionary (…D013 道路运输证, …D016 道路危险货物运输许可证, …).
// - 自然资源部 11100000MB03271699: 不动产权证书 = …001 (不动产证明 = …022), from real-estate
//   registration systems' ZZLXDM constants and gjzwfw.www.gov.cn service URLs.
// - 食品经营许可证: defined by 国家市场监督管理总局 (code above); the 3-digit suffix 002 is
//   ILLUSTRATIVE, not the national catalogue's.
// - 国家卫生健康委员会: its real code was not found; 11100000MB9HUREN7W is ILLUSTRATIVE (a
//   structurally valid code whose organisation part spells HUREN, made with
//   `Uscc::check_char`), and so is the type code 11100000MB9HUREN7W001.
// ---------------------------------------------------------------------------------------------

const SAMR: (&str, &str) = ("国家市场监督管理总局", "11100000MB0143028R");
const MOHURD: (&str, &str) = ("住房和城乡建设部", "11100000000013338W");
const MOT: (&str, &str) = ("交通运输部", "11100000000019713D");
const MNR: (&str, &str) = ("自然资源部", "11100000MB03271699");
/// Illustrative code (see above).
const NHC: (&str, &str) = ("国家卫生健康委员会", "11100000MB9HUREN7W");

/// `(key, label, required)`.
type Field = (&'static str, &'static str, bool);

/// Built-in face fields no annotated copy may show: a third person's identity-document number
/// (the legal representative's, on a food-business permit) is neither the holder's to give
/// away nor needed by any using unit, which sees the representative's name if it must.
const NEVER_DISCLOSABLE: [&str; 1] = ["legal_representative_id"];

fn licence_type(
    authority: (&str, &str),
    suffix: &str,
    name: &str,
    fields: &[Field],
    default_validity_years: Option<u32>,
    holder_id_types: Vec<HolderIdType>,
) -> LicenceType {
    LicenceType {
        code: format!("{}{suffix}", authority.1),
        name: name.into(),
        define_authority: Authority {
            name: authority.0.into(),
            code: authority.1.into(),
        },
        face_fields: fields
            .iter()
            .map(|&(key, label, required)| FaceField {
                key: key.into(),
                label: label.into(),
                required,
                disclosable: !NEVER_DISCLOSABLE.contains(&key),
            })
            .collect(),
        default_validity_years,
        holder_id_types,
    }
}

fn builtin_types() -> Vec<LicenceType> {
    use HolderIdType::{HkMacaoPermit, OtherNaturalPerson, ResidentIdCard, Uscc as UsccCode};
    vec![
        // 营业执照: long-term by default (营业期限 may be printed as a face field). 法定代表人 and
        // 注册资本 are optional: 个体工商户 print 经营者 and 合伙企业 执行事务合伙人, neither has
        // 注册资本.
        licence_type(
            SAMR,
            "001",
            "营业执照",
            &[
                ("entity_type", "类型", true),
                ("legal_representative", "法定代表人", false),
                ("registered_capital", "注册资本", false),
                ("established_on", "成立日期", true),
                ("business_term", "营业期限", false),
                ("domicile", "住所", true),
                ("business_scope", "经营范围", true),
            ],
            None,
            vec![UsccCode],
        ),
        // 食品经营许可证: 5 years (《食品经营许可和备案管理办法》).
        licence_type(
            SAMR,
            "002",
            "食品经营许可证",
            &[
                ("operator_name", "经营者名称", true),
                ("legal_representative", "法定代表人（负责人）", true),
                // Optional: recorded by some provinces' permit systems with the face data.
                (
                    "legal_representative_id",
                    "法定代表人（负责人）身份证件号码",
                    false,
                ),
                ("domicile", "住所", true),
                ("business_premises", "经营场所", true),
                ("business_format", "主体业态", true),
                ("business_items", "经营项目", true),
                ("supervising_authority", "日常监督管理机构", false),
                ("complaint_hotline", "投诉举报电话", false),
            ],
            Some(5),
            vec![UsccCode],
        ),
        // 建筑业企业资质证书: 5 years.
        licence_type(
            MOHURD,
            "032",
            "建筑业企业资质证书",
            &[
                ("qualification", "资质类别及等级", true),
                ("legal_representative", "法定代表人", true),
                ("registered_capital", "注册资本", true),
                ("address", "详细地址", true),
                ("economic_nature", "经济性质", true),
            ],
            Some(5),
            vec![UsccCode],
        ),
        // 道路运输经营许可证: 4 years. Individual operators (个体运输户) may hold one.
        licence_type(
            MOT,
            "008",
            "道路运输经营许可证",
            &[
                ("business_scope", "经营范围", true),
                ("economic_type", "经济类型", true),
                ("address", "地址", true),
            ],
            Some(4),
            vec![UsccCode, ResidentIdCard],
        ),
        // 不动产权证书: long-term (the land-use term is a face field). 权利人 is the holder.
        licence_type(
            MNR,
            "001",
            "不动产权证书",
            &[
                ("co_ownership", "共有情况", true),
                ("location", "坐落", true),
                ("unit_number", "不动产单元号", true),
                ("right_type", "权利类型", true),
                ("right_nature", "权利性质", true),
                ("usage", "用途", true),
                ("area", "面积", true),
                ("term_of_use", "使用期限", false),
                ("other_conditions", "权利其他状况", false),
            ],
            None,
            all_holder_id_types(),
        ),
        // 医师执业证书: a natural person's, long-term (registration stays valid until changed or
        // cancelled).
        licence_type(
            NHC,
            "001",
            "医师执业证书",
            &[
                ("sex", "性别", true),
                ("practice_category", "执业类别", true),
                ("practice_scope", "执业范围", true),
                ("practice_location", "执业地点", true),
                ("certifying_authority", "发证机关", true),
            ],
            None,
            vec![ResidentIdCard, HkMacaoPermit, OtherNaturalPerson],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use huren_crypto::ids::Uscc;

    const BUSINESS_LICENCE: &str = "11100000MB0143028R001";
    const CONSTRUCTION: &str = "11100000000013338W032";
    const ROAD_TRANSPORT: &str = "11100000000019713D008";
    const PHYSICIAN: &str = "11100000MB9HUREN7W001";

    fn date(s: &str) -> CivilDate {
        CivilDate::parse(s).unwrap()
    }

    fn construction_licence() -> Licence {
        serde_json::from_value(serde_json::json!({
            "type_code": CONSTRUCTION,
            "type_name": "建筑业企业资质证书",
            "number": "D233012345",
            "holder": {"name": "杭州示例建设有限公司", "id_type": "001", "id": "91350100M000100Y43"},
            "issuer": {"name": "浙江省住房和城乡建设厅", "code": "11220000013544541J"},
            "issued_on": "2026-11-22",
            "valid_from": "2026-11-22",
            "valid_until": "2031-11-21",
            "face": {
                "qualification": "建筑工程施工总承包壹级",
                "legal_representative": "张三",
                "registered_capital": "5000万元人民币",
                "address": "浙江省杭州市西湖区示例路1号",
                "economic_nature": "有限责任公司"
            }
        }))
        .unwrap()
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    fn message<'a>(errors: &'a [FieldError], field: &str) -> &'a str {
        let e = errors.iter().find(|e| e.field == field);
        &e.unwrap_or_else(|| panic!("no error for {field}: {errors:?}"))
            .message
    }

    #[test]
    fn builtin_has_the_spec_types_with_valid_structure_and_unique_codes() {
        let types = builtin_types();
        assert!(types.len() >= 5);
        let codes: BTreeSet<&str> = types.iter().map(|t| t.code.as_str()).collect();
        assert_eq!(codes.len(), types.len(), "codes must be unique");
        for t in &types {
            assert_eq!(t.validate(), Ok(()), "{}", t.name);
        }
        let catalogue = Catalogue::builtin();
        assert_eq!(catalogue.types().count(), types.len());
        let names: Vec<&str> = catalogue.types().map(|t| t.name.as_str()).collect();
        for name in [
            "营业执照",
            "食品经营许可证",
            "建筑业企业资质证书",
            "道路运输经营许可证",
            "医师执业证书",
        ] {
            assert!(names.contains(&name), "{name}");
        }
        let construction = catalogue.get(CONSTRUCTION).unwrap();
        assert_eq!(construction.define_authority.name, "住房和城乡建设部");
        assert_eq!(construction.default_validity_years, Some(5));
        assert_eq!(
            catalogue
                .get(ROAD_TRANSPORT)
                .unwrap()
                .default_validity_years,
            Some(4)
        );
        let physician = catalogue.get(PHYSICIAN).unwrap();
        assert!(physician
            .holder_id_types
            .iter()
            .all(|t| t.is_natural_person()));
        assert_eq!(
            catalogue.get(BUSINESS_LICENCE).unwrap().holder_id_types,
            [HolderIdType::Uscc]
        );
        let sorted: Vec<&str> = catalogue.types().map(|t| t.code.as_str()).collect();
        let mut expected = sorted.clone();
        expected.sort_unstable();
        assert_eq!(sorted, expected);
    }

    #[test]
    fn builtin_authority_codes_pass_gb32100() {
        for (_, code) in [SAMR, MOHURD, MOT, MNR, NHC] {
            assert!(Uscc::parse(code).is_ok(), "{code}");
        }
        // The illustrative code is what `Uscc::check_char` makes of its body.
        assert_eq!(Uscc::check_char("11100000MB9HUREN7"), Ok('W'));
        for t in builtin_types() {
            assert!(Uscc::parse(&t.define_authority.code).is_ok());
            assert!(
                t.face_fields.iter().all(|f| !f.label.is_ascii()),
                "labels are Chinese"
            );
        }
    }

    #[test]
    fn json_shape_matches_spec() {
        let json = Catalogue::builtin().to_json();
        let object = json.as_object().unwrap();
        assert_eq!(object.keys().collect::<Vec<_>>(), ["types"]);
        let types = json["types"].as_array().unwrap();
        assert_eq!(types.len(), builtin_types().len());
        for t in types {
            let keys: BTreeSet<&str> = t.as_object().unwrap().keys().map(String::as_str).collect();
            let expected = [
                "code",
                "default_validity_years",
                "define_authority",
                "face_fields",
                "holder_id_types",
                "name",
            ];
            assert_eq!(keys, expected.into_iter().collect());
            let authority: BTreeSet<&str> = t["define_authority"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(authority, ["code", "name"].into_iter().collect());
            for f in t["face_fields"].as_array().unwrap() {
                assert!(
                    f["key"].is_string()
                        && f["label"].is_string()
                        && f["required"].is_boolean()
                        && f["disclosable"].is_boolean()
                );
                assert_eq!(f.as_object().unwrap().len(), 4);
            }
            let years = &t["default_validity_years"];
            assert!(years.is_null() || years.is_u64());
        }
        let construction = types.iter().find(|t| t["code"] == CONSTRUCTION).unwrap();
        assert_eq!(construction["name"], "建筑业企业资质证书");
        assert_eq!(
            construction["define_authority"]["code"],
            "11100000000013338W"
        );
        assert_eq!(construction["default_validity_years"], 5);
        assert_eq!(
            construction["face_fields"][0],
            serde_json::json!({"key": "qualification", "label": "资质类别及等级", "required": true, "disclosable": true})
        );
        // A third person's ID number on a food-business permit is never disclosable.
        let food = Catalogue::builtin();
        let food = food.get("11100000MB0143028R002").unwrap();
        assert!(!food.face_disclosable("legal_representative_id"));
        assert!(food.face_disclosable("legal_representative"));
        assert!(!food.face_disclosable("no_such_field"));
        let business = types
            .iter()
            .find(|t| t["code"] == BUSINESS_LICENCE)
            .unwrap();
        assert!(business["default_validity_years"].is_null());
        // The issuer refuses any other holder identifier type, so a client must be told.
        assert_eq!(business["holder_id_types"], serde_json::json!(["001"]));
        for (t, json) in Catalogue::builtin().types().zip(types) {
            let codes: Vec<&str> = t.holder_id_types.iter().map(|h| h.code()).collect();
            assert_eq!(
                json["holder_id_types"],
                serde_json::json!(codes),
                "{}",
                t.code
            );
        }
        assert_eq!(
            types[0]["code"].as_str().unwrap(),
            Catalogue::builtin().types().next().unwrap().code
        );
    }

    #[test]
    fn a_good_licence_passes() {
        assert_eq!(Catalogue::builtin().check(&construction_licence()), Ok(()));
    }

    #[test]
    fn check_names_each_type_specific_problem() {
        let catalogue = Catalogue::builtin();

        let mut unknown = construction_licence();
        unknown.type_code = "11100000000013338W999".into();
        let errors = catalogue.check(&unknown).unwrap_err();
        assert_eq!(fields(&errors), ["type_code"]);
        assert!(message(&errors, "type_code").contains("not a licence type of this issuer"));

        let mut malformed = construction_licence();
        malformed.type_code = "short".into();
        let errors = catalogue.check(&malformed).unwrap_err();
        assert_eq!(fields(&errors), ["type_code"]);
        assert!(message(&errors, "type_code").contains("21 characters"));

        let mut wrong_name = construction_licence();
        wrong_name.type_name = "建筑企业资质证".into();
        let errors = catalogue.check(&wrong_name).unwrap_err();
        assert_eq!(fields(&errors), ["type_name"]);
        assert!(message(&errors, "type_name").contains("建筑业企业资质证书"));

        let mut face = construction_licence();
        face.face.remove("qualification");
        face.face.insert("address".into(), "  ".into());
        face.face.insert("colour".into(), "red".into());
        let errors = catalogue.check(&face).unwrap_err();
        assert_eq!(
            fields(&errors),
            ["face.qualification", "face.address", "face.colour"]
        );
        assert!(message(&errors, "face.qualification").contains("资质类别及等级"));
        assert!(message(&errors, "face.address").contains("must not be empty"));
        let unknown_key = message(&errors, "face.colour");
        assert!(
            unknown_key.contains("qualification, legal_representative"),
            "{unknown_key}"
        );

        let mut person = construction_licence();
        person.holder.id_type = HolderIdType::ResidentIdCard;
        person.holder.id = "11010519491231002X".into();
        let errors = catalogue.check(&person).unwrap_err();
        assert_eq!(fields(&errors), ["holder.id_type"]);
        assert!(message(&errors, "holder.id_type").contains("001 (统一社会信用代码)"));
    }

    #[test]
    fn check_includes_generic_problems_without_repeating_fields() {
        let catalogue = Catalogue::builtin();
        let mut licence = construction_licence();
        licence.type_name = String::new();
        licence.issuer.code = "123".into();
        licence.holder.id = "91350100M000100Y44".into();
        licence.valid_until = Some(date("2020-01-01"));
        let errors = catalogue.check(&licence).unwrap_err();
        assert_eq!(
            fields(&errors),
            ["type_name", "holder.id", "issuer.code", "valid_until"]
        );
        assert!(message(&errors, "type_name").contains("must be \"建筑业企业资质证书\""));
        // A malformed face key is reported once, by the generic check.
        let mut licence = construction_licence();
        licence.face.insert("bad\nkey".into(), "x".into());
        let errors = catalogue.check(&licence).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].field.starts_with("face.bad"));
    }

    #[test]
    fn complete_fills_name_and_default_validity() {
        let catalogue = Catalogue::builtin();
        let mut licence = construction_licence();
        licence.type_name = String::new();
        licence.valid_until = None;
        catalogue.complete(&mut licence, None);
        assert_eq!(licence.type_name, "建筑业企业资质证书");
        assert_eq!(licence.valid_until, Some(date("2031-11-21")));
        assert_eq!(catalogue.check(&licence), Ok(()));

        catalogue.complete(&mut licence, Some(None));
        assert_eq!(licence.valid_until, None, "explicit null = long-term");
        catalogue.complete(&mut licence, Some(Some(date("2027-01-01"))));
        assert_eq!(licence.valid_until, Some(date("2027-01-01")));

        let mut wrong = construction_licence();
        wrong.type_name = "别的名字".into();
        let given = Some(wrong.valid_until);
        catalogue.complete(&mut wrong, given);
        assert_eq!(
            wrong.type_name, "别的名字",
            "a given name is checked, not overwritten"
        );
    }

    #[test]
    fn default_valid_until() {
        let catalogue = Catalogue::builtin();
        let cases = [
            (CONSTRUCTION, "2026-11-22", Some("2031-11-21")),
            (ROAD_TRANSPORT, "2026-01-01", Some("2029-12-31")),
            (CONSTRUCTION, "2024-02-29", Some("2029-02-28")),
            (CONSTRUCTION, "2023-03-01", Some("2028-02-29")),
            (CONSTRUCTION, "9998-01-01", None),
            (BUSINESS_LICENCE, "2026-11-22", None),
            ("11100000000013338W999", "2026-11-22", None),
        ];
        for (code, from, until) in cases {
            let got = catalogue.default_valid_until(code, date(from));
            assert_eq!(got, until.map(date), "{code} {from}");
        }
        let leap = LicenceType {
            default_validity_years: Some(4),
            ..catalogue.get(CONSTRUCTION).unwrap().clone()
        };
        let catalogue = catalogue.with_extra_toml(&toml_of(&[leap])).unwrap();
        let got = catalogue.default_valid_until(CONSTRUCTION, date("2024-02-29"));
        assert_eq!(got, Some(date("2028-02-28")));
    }

    fn toml_of(types: &[LicenceType]) -> String {
        #[derive(Serialize)]
        struct File<'a> {
            types: &'a [LicenceType],
        }
        toml::to_string(&File { types }).unwrap()
    }

    const EXTRA: &str = r#"
[[types]]
code = "11330000002482258X001"
name = "浙江省示例许可证"
define_authority = { name = "浙江省示例厅", code = "11330000002482258X" }
default_validity_years = 3
holder_id_types = ["001", "099"]
face_fields = [
  { key = "scope", label = "许可范围", required = true },
  { key = "note", label = "备注", required = false },
]

[[types]]
code = "11100000000013338W032"
name = "建筑业企业资质证书"
define_authority = { name = "住房和城乡建设部", code = "11100000000013338W" }
default_validity_years = 5
face_fields = [{ key = "qualification", label = "资质类别及等级", required = true }]
"#;

    #[test]
    fn extra_toml_adds_and_replaces_types() {
        let builtin_count = Catalogue::builtin().types().count();
        let catalogue = Catalogue::builtin().with_extra_toml(EXTRA).unwrap();
        assert_eq!(catalogue.types().count(), builtin_count + 1);
        let added = catalogue.get("11330000002482258X001").unwrap();
        assert_eq!(
            added.holder_id_types,
            [HolderIdType::Uscc, HolderIdType::OtherLegalEntity]
        );
        assert_eq!(added.default_validity_years, Some(3));
        let replaced = catalogue.get(CONSTRUCTION).unwrap();
        assert_eq!(replaced.face_fields.len(), 1);
        let mut licence = construction_licence();
        let errors = catalogue.check(&licence).unwrap_err();
        assert_eq!(
            fields(&errors)[0],
            "face.address",
            "the replacement applies"
        );
        licence.face.retain(|k, _| k == "qualification");
        licence.holder.id_type = HolderIdType::ResidentIdCard;
        licence.holder.id = "11010519491231002X".into();
        assert_eq!(
            catalogue.check(&licence),
            Ok(()),
            "holder types default to all"
        );
        assert!(catalogue.to_json()["types"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "浙江省示例许可证"));
        let empty = Catalogue::builtin().with_extra_toml("").unwrap();
        assert_eq!(empty.types().count(), builtin_count);
    }

    #[test]
    fn holder_id_types_default_to_all() {
        let codes: Vec<&str> = all_holder_id_types()
            .into_iter()
            .map(HolderIdType::code)
            .collect();
        assert_eq!(codes, ["111", "001", "099", "516", "999"]);
    }

    #[test]
    fn extra_toml_long_term_when_validity_left_out() {
        let text = r#"
[[types]]
code = "11330000002482258X002"
name = "长期证"
define_authority = { name = "浙江省示例厅", code = "11330000002482258X" }
face_fields = []
"#;
        let catalogue = Catalogue::builtin().with_extra_toml(text).unwrap();
        let t = catalogue.get("11330000002482258X002").unwrap();
        assert_eq!(t.default_validity_years, None);
        let json = catalogue.to_json();
        let entry = json["types"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "长期证");
        assert!(entry.unwrap()["default_validity_years"].is_null());
    }

    fn problems(text: &str) -> Vec<EntryProblem> {
        match Catalogue::builtin().with_extra_toml(text) {
            Err(CatalogueError::Invalid(problems)) => problems,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn extra_toml_rejects_bad_entries_naming_them() {
        let text = r#"
[[types]]
code = "11330000002482258X003"
name = "好的证"
define_authority = { name = "浙江省示例厅", code = "11330000002482258X" }
face_fields = []

[[types]]
code = "1133000000248225IX00A"
name = " "
define_authority = { name = "浙江省示例厅", code = "11330000002482258X" }
default_validity_years = 0
holder_id_types = []
face_fields = [
  { key = "scope", label = "范围", required = true },
  { key = "scope", label = "范围", required = false },
  { key = "Scope Two", label = "", required = false },
]

[[types]]
code = "11330000002482258Y001"
name = "代码不符"
define_authority = { name = "浙江省示例厅", code = "11330000002482258X" }
face_fields = []

[[types]]
code = "11330000002482258X003"
name = "重复"
define_authority = { name = "浙江省示例厅", code = "11330000002482258X" }
face_fields = []
"#;
        let problems = problems(text);
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let entry2 = "[[types]] entry 2 (code \"1133000000248225IX00A\", name \" \")";
        let expected_entry2 = [
            "code: character 17 is not in the USCC alphabet",
            "name: must not be empty",
            "face_fields[1].key: \"scope\" appears more than once",
            "face_fields[2].key: \"Scope Two\" is not snake_case",
            "face_fields[2].label: must not be empty",
            "holder_id_types: must list at least one type",
            "default_validity_years: must be 1 to 100",
        ];
        for m in expected_entry2 {
            assert!(
                problems
                    .iter()
                    .any(|p| p.entry == entry2 && p.message.starts_with(m)),
                "{m} in {text:#?}"
            );
        }
        assert!(
            problems.iter().all(|p| !p.entry.contains("entry 1 ")),
            "{text:#?}"
        );
        let entry3 = problems
            .iter()
            .find(|p| p.entry.contains("entry 3"))
            .unwrap();
        assert!(entry3
            .message
            .contains("must start with the defining authority's code"));
        let entry4 = problems
            .iter()
            .find(|p| p.entry.contains("entry 4"))
            .unwrap();
        assert_eq!(entry4.message, "code: already used by entry 1");
        let error = CatalogueError::Invalid(problems);
        assert!(error
            .to_string()
            .contains("entry 4 (code \"11330000002482258X003\", name \"重复\")"));
    }

    #[test]
    fn extra_toml_rejects_bad_toml_and_unknown_keys() {
        let typo = r#"
[[types]]
code = "11330000002482258X001"
name = "拼错"
define_authority = { name = "浙江省示例厅", code = "11330000002482258X" }
default_validity_year = 3
face_fields = []
"#;
        let err = Catalogue::builtin().with_extra_toml(typo).unwrap_err();
        assert!(matches!(err, CatalogueError::Toml(_)));
        assert!(err.to_string().contains("default_validity_year"), "{err}");
        let bad_holder = typo.replace("default_validity_year = 3", "holder_id_types = [\"112\"]");
        let err = Catalogue::builtin()
            .with_extra_toml(&bad_holder)
            .unwrap_err();
        assert!(err.to_string().contains("112"), "{err}");
        let err = Catalogue::builtin()
            .with_extra_toml("[[types]\n")
            .unwrap_err();
        assert!(matches!(err, CatalogueError::Toml(_)));
        let err = Catalogue::builtin()
            .with_extra_toml("other = 1")
            .unwrap_err();
        assert!(err.to_string().contains("other"), "{err}");
    }

    #[test]
    fn serde_form_round_trips() {
        for t in builtin_types() {
            let json = serde_json::to_value(&t).unwrap();
            assert_eq!(serde_json::from_value::<LicenceType>(json).unwrap(), t);
        }
        let file = toml_of(&builtin_types());
        let catalogue = Catalogue::builtin().with_extra_toml(&file).unwrap();
        assert_eq!(
            catalogue.types().cloned().collect::<Vec<_>>(),
            Catalogue::builtin().types().cloned().collect::<Vec<_>>()
        );
    }
}
