//! The whole verifier: `verify::verify_licence(input, &trust, &status, at, &options)` against
//! the fixture trust list (two provinces, ES256 and SM2) and a verified status list, at the
//! fixed time `huren_fuzz::VERIFY_AT`. Input forms:
//!
//! * text not starting with `!`: scanned input (`HR1:` text or a bare JWS), verified as is
//!   with `VerifyOptions::default()`. Seeds are real signed licences, so mutations of the
//!   transport (case, whitespace, truncation, header, signature) are explored;
//! * `!` + options byte + payload: the payload bytes are signed as a licence token by a fixture
//!   licence signer and then verified, so fuzzed claims get past the signature check into the
//!   claim, authority, scope, validity and status checks. Options: bit 0 = sign with the SM2
//!   signer of 440000 (else the ES256 signer of 330000), bit 1 = `zip: "DEF"`, bit 2 = present
//!   as `HR1:` text, bit 3 = fuzzed skew (`VerifyOptions::skew_seconds` = i64::MAX / MIN
//!   alternately).
//!
//! Properties: the report always lists every check once; a `Valid` verdict has no reasons,
//! every check passed and a licence view; a verdict other than `Valid` has a reason.
#![no_main]

use huren_crypto::qr;
use huren_crypto::verify::{verify_licence, CheckName, Verdict, VerifyOptions, Warning};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fixture = huren_fuzz::fixture();
    let mut options = VerifyOptions::default();
    let input = match data {
        [b'!', flags, payload @ ..] => {
            let signer = if flags & 1 == 0 {
                &fixture.es256
            } else {
                &fixture.sm2
            };
            let token = huren_fuzz::sign_licence_payload(signer, payload, flags & 2 != 0);
            if flags & 8 != 0 {
                options.skew_seconds = if flags & 16 == 0 { i64::MAX } else { i64::MIN };
                options.trust_list_grace_seconds = options.skew_seconds;
            }
            if flags & 4 != 0 {
                qr::encode(&token).expect("a JWS always encodes")
            } else {
                token
            }
        }
        _ => match std::str::from_utf8(data) {
            Ok(text) => text.to_owned(),
            Err(_) => return,
        },
    };
    let report = verify_licence(
        &input,
        &fixture.trust,
        &fixture.status,
        huren_fuzz::verify_at(),
        &options,
    );
    assert_eq!(report.checks.len(), {
        let mut names: Vec<_> = report.checks.iter().map(|c| c.check).collect();
        names.dedup();
        names.len()
    });
    match report.verdict {
        Verdict::Valid => {
            assert!(report.reasons.is_empty());
            // Every check passed, except that a copy naming a unit leaves the audience
            // unchecked (`ok: null`) here, where no unit is given, and says so in a warning.
            assert!(
                report.checks.iter().all(|c| c.ok == Some(true)
                    || (c.check == CheckName::Audience
                        && c.ok.is_none()
                        && report.warnings.contains(&Warning::AudienceNotChecked))),
                "{report:?}"
            );
            assert!(report.licence().is_some() && report.presented().is_some());
            assert_eq!(report.copy().is_some(), report.claims.is_none());
        }
        _ => assert!(!report.reasons.is_empty()),
    }
    // The report is what the CLI and HTTP API print.
    let _ = serde_json::to_string(&report).expect("report serialises");
    for reason in &report.reasons {
        let _ = (reason.code(), reason.text_zh(), reason.text_en());
    }
});
