//! `serde_json::from_slice::<LicenceClaims>` on arbitrary bytes. When it parses: the claims
//! serialise and parse back to the same value, and every accessor a verifier or issuer uses on
//! them (issuance checks, validity times, identifier checks, masking) runs without panicking.
//! The same for an annotated copy's claims (`CopyClaims`, SPEC §11: its shape check and the
//! licence period it carries) and a holder's copy terms (`CopyTerms::check`).
#![no_main]

use huren_crypto::copy::{CopyClaims, CopyTerms};
use huren_crypto::ids::mask_identifier;
use huren_crypto::licence::{Licence, LicenceClaims};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(claims) = serde_json::from_slice::<LicenceClaims>(data) {
        let json = serde_json::to_vec(&claims).expect("claims serialise");
        let again: LicenceClaims = serde_json::from_slice(&json).expect("claims re-parse");
        assert_eq!(again, claims);
        let _ = claims.jti.check_ok();
        let _ = claims.jti.to_string();
        let _ = claims.iss.province_name();
        exercise(&claims.licence);
    }
    if let Ok(copy) = serde_json::from_slice::<CopyClaims>(data) {
        let json = serde_json::to_vec(&copy).expect("copy claims serialise");
        let again: CopyClaims = serde_json::from_slice(&json).expect("copy claims re-parse");
        assert_eq!(again, copy);
        if copy.check_shape().is_ok() {
            assert!(copy.exp > copy.iat);
        }
        let _ = copy.is_on_screen();
        let _ = copy.licence.not_before().to_rfc3339_china();
        let _ = copy.licence.not_after().map(|t| t.to_rfc3339_china());
    }
    if let Ok(terms) = serde_json::from_slice::<CopyTerms>(data) {
        let _ = terms.check();
    }
    // The licence object alone, as `POST /v1/licences` and `huren sign` read it.
    if let Ok(licence) = serde_json::from_slice::<Licence>(data) {
        exercise(&licence);
    }
});

fn exercise(licence: &Licence) {
    let _ = licence.check_for_issuance();
    let nbf = licence.not_before();
    let _ = nbf.to_rfc3339_china();
    if let Some(exp) = licence.not_after() {
        let _ = exp.to_rfc3339_china();
        if licence.valid_until >= Some(licence.valid_from) {
            assert!(exp >= nbf);
        }
    }
    let _ = licence.holder.id_type.validate(&licence.holder.id);
    let masked = mask_identifier(&licence.holder.id);
    assert_eq!(masked.chars().count(), licence.holder.id.chars().count());
    let _ = licence.issued_on.to_string();
}
