//! `crl::VerifiedCrl::verify` on arbitrary bytes, against both fixture province roots and a
//! fixture leaf (the ES256 licence signer, which is no CA).
//!
//! The fixture ships no CRL and no root private key, so nothing may verify: every input must
//! end in an error, never a panic, never unbounded work, and an `Ok` would be a forged
//! signature. `VerifiedCrl::verify` decodes and indexes the whole list (entries, entry and CRL
//! extensions, dates) before it compares issuer names and checks the signature, so mutated
//! seeds reach every decoder even though they never verify. The seeds in `seeds/crl_parse/`
//! are real CRLs made by `huren pki revoke-cert` under a throwaway root (entries with and
//! without a reason code, a CRL number, an authority key identifier); they do not depend on
//! the fixture keys and need no regeneration when the fixtures change.
#![no_main]

use huren_crypto::crl::{CrlError, VerifiedCrl, MAX_CRL_BYTES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fixture = huren_fuzz::fixture();
    let roots = fixture
        .trust
        .regions()
        .iter()
        .flat_map(|region| region.roots.iter());
    for issuer in roots.chain(std::iter::once(&fixture.es256.cert)) {
        match VerifiedCrl::verify(data, issuer) {
            Ok(crl) => panic!(
                "a CRL verified against {:?}, whose key never signed one: {crl:?}",
                issuer.subject()
            ),
            Err(error) => {
                if data.len() > MAX_CRL_BYTES {
                    assert!(matches!(error, CrlError::TooLarge { .. }), "{error:?}");
                }
                // Messages name facts from the input (OIDs, serials): they must render.
                let _ = error.to_string();
            }
        }
    }
});
