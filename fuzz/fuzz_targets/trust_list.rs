//! The trust list. Input forms:
//!
//! * text not starting with `{` or `!`: a trust-list token, `TrustList::verify(text, &[pinned
//!   fixture operator certificate])`;
//! * `{...}`: `serde_json::from_slice::<TrustListClaims>` then `.problems()` (the operator's
//!   pre-signing checks, which run every entry check without a signature in the way);
//! * `!` + payload: the payload is signed by the fixture operator key as a trust list (with the
//!   operator certificate in `x5c`) and verified, so fuzzed claims get past the signature.
//!
//! Properties: a verified list's signers all chain and carry the licence-signer EKU, and no
//! entry with a recorded problem is usable.
#![no_main]

use huren_crypto::jws::HeaderParams;
use huren_crypto::oids::Purpose;
use huren_crypto::trust_list::{TrustList, TrustListClaims, TRUST_LIST_TYP};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fixture = huren_fuzz::fixture();
    let pinned = std::slice::from_ref(&fixture.operator);
    match data.first() {
        Some(b'{') => {
            if let Ok(claims) = serde_json::from_slice::<TrustListClaims>(data) {
                let problems = claims.problems();
                let json = serde_json::to_vec(&claims).expect("claims serialise");
                let again: TrustListClaims = serde_json::from_slice(&json).expect("re-parse");
                assert_eq!(again, claims);
                let _ = serde_json::to_string(&problems);
            }
        }
        Some(b'!') => {
            let params = HeaderParams {
                typ: Some(TRUST_LIST_TYP),
                x5c: vec![fixture.operator.der().to_vec()],
                ..HeaderParams::default()
            };
            let token = huren_fuzz::sign_raw(&params, &data[1..], &fixture.operator_key, false);
            if let Ok(list) = TrustList::verify(&token, pinned) {
                check(&list);
            }
        }
        _ => {
            let Ok(text) = std::str::from_utf8(data) else {
                return;
            };
            if let Ok(list) = TrustList::verify(text, pinned) {
                check(&list);
            }
            // Nothing pinned: always refused.
            assert!(TrustList::verify(text, &[]).is_err());
        }
    }
});

fn check(list: &TrustList) {
    let _ = (list.seq(), list.iat(), list.next_update(), list.digest());
    let _ = list.is_stale(huren_fuzz::verify_at(), i64::MAX);
    let _ = list.is_stale(huren_fuzz::verify_at(), i64::MIN);
    let _ = list.check_supersedes(list.seq(), &list.digest());
    let _ = huren_crypto::jwks::signer_jwks(list);
    for signer in list.signers() {
        let region = &list.regions()[signer.region_index];
        assert!(signer
            .cert
            .check_leaf_profile(Purpose::LicenceSigner)
            .is_ok());
        assert!(region
            .roots
            .iter()
            .any(|r| signer.cert.check_issued_by(r).is_ok()));
        assert!(signer.valid_from <= signer.valid_until);
        let _ = signer.may_sign_type("11100000000013338W032");
        let _ = list.region_for_status_uri(&region.status_uri_prefix);
    }
    for region in list.regions() {
        assert!(region.code.is_province());
        assert!(
            !region.roots.is_empty()
                || list
                    .signers()
                    .all(|s| list.regions()[s.region_index].code != region.code)
        );
    }
}
