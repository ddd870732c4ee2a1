//! Seal signatures (`SignedValue.dat` / `.ses`, v4 and v1): `SealSignature::from_der`, the
//! wire decoders, and the whole of `verify_seal_signature` with no trusted maker and with the
//! fixture seal makers trusted, at the fixture time and at the signing time.
//!
//! Properties: wire round trips are exact; the TBS is a sub-slice of the input; a report always
//! lists the 9 checks once each, in order; `valid` ⇔ no reasons ⇔ every check passed; with no
//! trusted maker nothing is ever valid; the report serialises.
#![no_main]

use der::{Decode, Encode};
use huren_crypto::seal::asn1::SesSignature;
use huren_crypto::seal::v1::SesSignatureV1;
use huren_crypto::seal::verify::ALL_SEAL_CHECKS;
use huren_crypto::seal::{
    verify_seal_signature, Document, SealSignature, SealTrust, SealVerifyInput, SealVerifyOptions,
};
use huren_crypto::verify::Verdict;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(wire) = SesSignature::from_der(data) {
        assert_eq!(wire.to_der().expect("re-encodes"), data);
    }
    if let Ok(wire) = SesSignatureV1::from_der(data) {
        assert_eq!(wire.to_der().expect("re-encodes"), data);
    }
    if let Ok(signature) = SealSignature::from_der(data) {
        assert_eq!(signature.der(), data);
        let tbs = signature.tbs();
        assert!(data.windows(tbs.len()).any(|w| w == tbs));
        let _ = (signature.signing_time(), signature.digest_algorithm());
    }
    let fixture = huren_fuzz::fixture();
    // The fixture's real seal makers, so maker_trusted can pass and later checks get exercised.
    let makers: Vec<Vec<u8>> = fixture
        .trust
        .regions()
        .iter()
        .flat_map(|r| r.seal_makers.iter().map(|c| c.der().to_vec()))
        .collect();
    // The check time is required; the signature's own claimed signing time (when it decodes)
    // exercises the at-signing-time judgements, the fixture time everything else.
    let signed_at = SealSignature::from_der(data)
        .map(|s| s.signing_time().at)
        .unwrap_or_else(|_| huren_fuzz::verify_at());
    for (trust, at) in [
        (SealTrust::Makers(&[]), signed_at),
        (SealTrust::Makers(&makers), huren_fuzz::verify_at()),
        (
            SealTrust::TrustList(&fixture.trust),
            huren_fuzz::verify_at(),
        ),
    ] {
        let report = verify_seal_signature(&SealVerifyInput {
            signature: data,
            document: Document::Bytes(b"document"),
            trust,
            seal_status: None,
            crls: &[],
            at,
            options: SealVerifyOptions::default(),
        });
        let names: Vec<_> = report.checks.iter().map(|c| c.check).collect();
        assert_eq!(names, ALL_SEAL_CHECKS);
        let valid = report.verdict == Verdict::Valid;
        assert_eq!(valid, report.reasons.is_empty());
        assert_eq!(valid, report.checks.iter().all(|c| c.ok == Some(true)));
        if matches!(trust, SealTrust::Makers(m) if m.is_empty()) {
            assert!(!valid, "nothing trusted, yet valid");
        }
        serde_json::to_string(&report).expect("report serialises");
    }
});
