//! `StatusList::decode_lst(bits, lst)` with `bits` from the first byte and the rest as `lst`,
//! plus the JSON shapes around it (`StatusListClaim`, `StatusListClaims`, `StatusReference`).
//! When a list decodes: it respects the size bound, `get` agrees with `counts`, and
//! `encode_lst` round-trips.
#![no_main]

use huren_crypto::status_list::{
    StatusList, StatusListClaim, StatusReference, StatusValue, MAX_DECODED_BYTES,
};
use huren_crypto::status_token::StatusListClaims;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&bits, rest)) = data.split_first() else {
        return;
    };
    if let Ok(lst) = std::str::from_utf8(rest) {
        if let Ok(list) = StatusList::decode_lst(bits, lst) {
            check_list(&list);
        }
    }
    if let Ok(claim) = serde_json::from_slice::<StatusListClaim>(rest) {
        if let Ok(list) = claim.decode() {
            check_list(&list);
        }
    }
    let _ = serde_json::from_slice::<StatusListClaims>(rest);
    let _ = serde_json::from_slice::<StatusReference>(rest);
    // The raw byte form (storage) with any width.
    if let Ok(mut list) = StatusList::from_bytes(bits, rest.to_vec()) {
        check_list(&list);
        let index = usize::from(bits) * 7;
        let value = StatusValue::from_raw(rest.first().copied().unwrap_or(0));
        match list.set(index, value) {
            Ok(()) => assert_eq!(list.get(index).map(StatusValue::raw), Some(value.raw())),
            Err(_) => {
                assert!(index >= list.capacity() || value.raw() > (u8::MAX >> (8 - list.bits())))
            }
        }
    }
});

fn check_list(list: &StatusList) {
    assert!(matches!(list.bits(), 1 | 2 | 4 | 8));
    assert!(list.as_bytes().len() <= MAX_DECODED_BYTES);
    let capacity = list.capacity();
    assert_eq!(
        capacity,
        list.as_bytes().len() * 8 / usize::from(list.bits())
    );
    let (valid, revoked, suspended, other) = list.counts();
    assert_eq!(valid + revoked + suspended + other, capacity);
    // Spot-check `get` against `counts` on small lists (large ones only at the ends).
    if capacity <= 4096 {
        let mut tally = [0usize; 4];
        for i in 0..capacity {
            let slot = match list.get(i).expect("in range") {
                StatusValue::Valid => 0,
                StatusValue::Revoked => 1,
                StatusValue::Suspended => 2,
                StatusValue::ApplicationSpecific(v) => {
                    assert!(v > 2);
                    3
                }
            };
            tally[slot] += 1;
        }
        assert_eq!(tally, [valid, revoked, suspended, other]);
    } else {
        assert!(list.get(capacity - 1).is_some());
    }
    assert!(list.get(capacity).is_none());
    assert!(list.get(usize::MAX).is_none());
    let again = StatusList::decode_lst(list.bits(), &list.encode_lst()).expect("round trip");
    assert_eq!(&again, list);
}
