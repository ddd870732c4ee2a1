//! Status-list tokens as a verifier meets them (SPEC §4). Input forms:
//!
//! * text not starting with `!`: a token fetched from the fixture's [`STATUS_URI`]
//!   (`VerifiedStatusList::verify`) and found in a directory (`verify_standalone`);
//! * `!` + flags byte + payload: the payload is signed by the fixture status signer (the one
//!   the trust list names), optionally deflated (flag bit 0), so fuzzed claims get past the
//!   signature; flag bit 1 puts an unlisted certificate (the licence signer) in `x5c` instead.
//!
//! Properties: a list is only ever accepted from the listed signer; an accepted list's life is
//! within the 7-day cap and its `ttl` within its life; its URI is the one asked for (or, found
//! standalone, within 330000's prefix); its entries are readable across its whole range.
#![no_main]

use huren_crypto::jws::HeaderParams;
use huren_crypto::status_token::{
    VerifiedStatusList, MAX_STATUS_LIST_LIFETIME_SECONDS, STATUS_LIST_TYP,
};
use huren_fuzz::{sign_raw, STATUS_URI, ZJ_URL};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fixture = huren_fuzz::fixture();
    let (token, listed) = match data {
        [b'!', flags, payload @ ..] => {
            let unlisted = flags & 2 != 0;
            let signer = if unlisted {
                &fixture.es256
            } else {
                &fixture.status_signer
            };
            let params = HeaderParams {
                typ: Some(STATUS_LIST_TYP),
                x5c: vec![signer.cert.der().to_vec()],
                zip: flags & 1 != 0,
                ..HeaderParams::default()
            };
            (
                sign_raw(&params, payload, &signer.key, flags & 1 != 0),
                !unlisted,
            )
        }
        _ => match std::str::from_utf8(data) {
            Ok(text) => (text.to_owned(), true),
            Err(_) => return,
        },
    };
    let check = |list: &VerifiedStatusList| {
        assert!(
            listed,
            "a list signed by an unlisted certificate was accepted"
        );
        let life = list.exp().seconds() - list.iat().seconds();
        assert!(
            life > 0 && life <= MAX_STATUS_LIST_LIFETIME_SECONDS,
            "life {life}"
        );
        assert!(i64::try_from(list.ttl()).is_ok_and(|ttl| ttl <= life));
        assert!(list.signer_listed_in(&fixture.trust));
        assert_eq!(list.region().as_str(), "330000");
        let capacity = list.capacity() as u64;
        assert!(list.status(capacity).is_none());
        if capacity > 0 {
            assert!(list.status(capacity - 1).is_some());
        }
    };
    if let Ok(list) = VerifiedStatusList::verify(&token, STATUS_URI, &fixture.trust) {
        assert_eq!(list.uri(), STATUS_URI);
        check(&list);
    }
    if let Ok(list) = VerifiedStatusList::verify_standalone(&token, &fixture.trust) {
        assert!(list.uri().starts_with(ZJ_URL));
        check(&list);
    }
});
