//! The identifier parsers: `LicenceId::parse`, `Uscc::parse`, `ResidentId::parse`,
//! `RegionCode::parse`, plus `HolderIdType`, the check-character helpers and masking, all on
//! the same arbitrary (UTF-8) string.
//!
//! Properties (the module's own contract): a value parses exactly as given (no trimming or case
//! folding, so `to_string()` gives the input back); the serde path agrees with `parse`; error
//! messages stay short whatever the input; masking keeps the character count.
#![no_main]

use huren_crypto::ids::{
    mask_identifier, mod37_36_check, HolderIdType, LicenceId, RegionCode, ResidentId, Uscc,
};
use libfuzzer_sys::fuzz_target;

/// Error messages quote at most a short excerpt of the input (ids.rs: "errors quote at most a
/// short, escaped excerpt of it").
const MAX_ERROR_CHARS: usize = 400;

fn check_error(e: &huren_crypto::ids::IdError) {
    let message = e.to_string();
    assert!(
        message.chars().count() <= MAX_ERROR_CHARS,
        "error message of {} chars: {message}",
        message.chars().count()
    );
}

macro_rules! exact {
    ($t:ty, $s:expr) => {{
        let s: &str = $s;
        match <$t>::parse(s) {
            Ok(v) => {
                assert_eq!(v.to_string(), s);
                let json = serde_json::to_string(&v).expect("serialises");
                assert_eq!(serde_json::from_str::<$t>(&json).expect("re-parses"), v);
                assert_eq!(s.parse::<$t>().ok(), Some(v.clone()));
                Some(v)
            }
            Err(e) => {
                check_error(&e);
                assert!(
                    serde_json::from_value::<$t>(serde_json::Value::String(s.to_owned())).is_err()
                );
                None
            }
        }
    }};
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };

    if let Some(id) = exact!(LicenceId, s) {
        let regenerated =
            LicenceId::generate(id.type_code(), id.authority(), id.serial(), id.version())
                .expect("parts of a parsed id generate");
        assert!(regenerated.check_ok());
        assert_eq!(regenerated.check(), id.expected_check());
        assert_eq!(id.check_ok(), regenerated == id);
    }
    if exact!(Uscc, s).is_some() {
        let (body, _) = s.split_at(s.len() - 1);
        assert_eq!(Uscc::check_char(body).ok(), s.chars().last());
    }
    if let Some(rid) = exact!(ResidentId, s) {
        let debug = format!("{rid:?}");
        assert!(!debug.contains(s), "Debug leaks the resident ID");
    }
    if let Some(region) = exact!(RegionCode, s) {
        let province = region.province();
        assert!(province.is_province());
        assert_eq!(
            RegionCode::parse(province.as_str()).ok(),
            Some(province.clone())
        );
        assert_eq!(province.province_name(), region.province_name());
        assert!(!region.province_name().is_empty());
    }
    if let Ok(t) = HolderIdType::from_code(s) {
        assert_eq!(t.code(), s);
        let _ = (t.label_zh(), t.label_en(), t.is_natural_person());
    }
    // Validate `s` as each kind of holder identifier.
    for code in ["111", "001", "099", "516", "999"] {
        let t = HolderIdType::from_code(code).expect("known code");
        if let Err(e) = t.validate(s) {
            check_error(&e);
        }
    }
    match mod37_36_check(s) {
        Ok(c) => assert!(c.is_ascii_digit() || c.is_ascii_uppercase()),
        Err(e) => check_error(&e),
    }
    if let Err(e) = Uscc::check_char(s) {
        check_error(&e);
    }
    if let Err(e) = ResidentId::check_char(s) {
        check_error(&e);
    }
    let masked = mask_identifier(s);
    assert_eq!(masked.chars().count(), s.chars().count());
});
