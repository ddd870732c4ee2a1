//! Properties over generated input: every encoder/decoder round-trips, and no parser of
//! untrusted bytes panics — on arbitrary bytes, and on real artefacts with random damage (which
//! reaches far deeper into the parsers than random bytes do). Damaged tokens never verify.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod common;

use std::collections::BTreeMap;

use common::*;
use huren_crypto::b64;
use huren_crypto::cert::Certificate;
use huren_crypto::ids::LicenceId;
use huren_crypto::jws::{Limits, UnverifiedJws};
use huren_crypto::key::PublicKey;
use huren_crypto::licence::{CivilDate, LicenceClaims};
use huren_crypto::qr;
use huren_crypto::status_list::StatusValue;
use huren_crypto::status_token::VerifiedStatusList;
use huren_crypto::trust_list::{TrustList, TrustListClaims};
use huren_crypto::verify::{verify_licence, NoStatusLists, Outcome, Verdict, VerifyOptions};
use proptest::prelude::*;

/// Applies `edits` (position, new byte) to `bytes`, positions taken modulo the length.
fn damage(bytes: &[u8], edits: &[(usize, u8)]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for (position, byte) in edits {
        let i = position % out.len();
        out[i] = *byte;
    }
    out
}

fn text_strategy() -> impl Strategy<Value = String> {
    // Printable text including CJK, no control characters (issuers refuse those).
    "[\\p{Han}A-Za-z0-9 （）·-]{1,40}".prop_filter("not blank", |s| !s.trim().is_empty())
}

prop_compose! {
    fn claims_strategy()(
        holder in text_strategy(),
        number in "[A-Z0-9]{4,20}",
        serial in "[0-9A-Z]{7,32}",
        face in prop::collection::btree_map("[a-z_]{1,12}", text_strategy(), 0..6),
        days in 0u32..4000,
        long_term in any::<bool>(),
    ) -> LicenceClaims {
        let f = fixture();
        let mut claims = f.zhejiang.claims();
        claims.licence.holder.name = holder;
        claims.licence.number = number;
        claims.licence.face = face.into_iter().collect::<BTreeMap<_, _>>();
        claims.jti = LicenceId::generate(&claims.licence.type_code, &claims.licence.issuer.code, &serial, "001").unwrap();
        let from = claims.licence.valid_from.0;
        claims.licence.valid_until = (!long_term).then(|| CivilDate(from + time::Duration::days(i64::from(days))));
        claims.exp = claims.licence.not_after().map(|t| t.seconds());
        claims
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn licence_claims_round_trip_through_json_and_signing(claims in claims_strategy()) {
        let json = serde_json::to_vec(&claims).unwrap();
        let back: LicenceClaims = serde_json::from_slice(&json).unwrap();
        prop_assert_eq!(&back, &claims);

        let f = fixture();
        let token = f.zhejiang.sign(&claims);
        let trust = f.trust();
        let report = verify_licence(&qr::encode(&token).unwrap(), &trust, &NoStatusLists, NOW, &VerifyOptions::default());
        prop_assert!(report.licence().is_some(), "{:?}", report.reasons);
        prop_assert_eq!(report.claims.as_deref(), Some(&claims));
    }

    #[test]
    fn damaged_licence_tokens_never_verify_and_never_panic(edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        let f = fixture();
        let trust = f.trust();
        let token = f.zhejiang.licence_token();
        let damaged = damage(token.as_bytes(), &edits);
        let text = String::from_utf8_lossy(&damaged);
        let report = verify_licence(&text, &trust, &statuses(&trust, StatusValue::Valid), NOW, &VerifyOptions::default());
        // Only whitespace edits may leave the token intact (scanner whitespace is dropped).
        let stripped: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        if stripped != token {
            // Damage is caught by decoding, the header rules, the signer lookup or the
            // signature, and each of those stops verification: exactly one definitive reason
            // (never a status or freshness doubt, which only a signed licence can reach).
            prop_assert_eq!(report.verdict, Verdict::Invalid, "{:?}", report.reasons);
            prop_assert!(
                matches!(
                    report.reasons.as_slice(),
                    [Outcome::Malformed | Outcome::UnsupportedAlgorithm | Outcome::UnknownSigner | Outcome::BadSignature]
                ),
                "{:?}",
                report.reasons
            );
            prop_assert!(report.licence().is_none(), "damaged data shown as licence: {:?}", report.reasons);
        }
    }

    #[test]
    fn arbitrary_text_is_malformed_and_never_panics(input in any::<String>()) {
        let f = fixture();
        let report = verify_licence(&input, &f.trust(), &NoStatusLists, NOW, &VerifyOptions::default());
        // Arbitrary text is neither HR1 digits nor a compact JWS (three dot-separated
        // base64url parts whose header is a JSON object): malformed, and nothing else.
        prop_assert_eq!(report.verdict, Verdict::Invalid);
        prop_assert_eq!(&report.reasons, &[Outcome::Malformed]);
        prop_assert!(report.licence().is_none());
    }

    #[test]
    fn jws_parsing_never_panics(input in "[A-Za-z0-9_.=+/-]{0,300}", bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = UnverifiedJws::parse(&input, Limits::LICENCE);
        let _ = UnverifiedJws::parse(&String::from_utf8_lossy(&bytes), Limits::LICENCE);
    }

    #[test]
    fn damaged_certificates_and_keys_never_panic(edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6), cut in any::<usize>()) {
        let f = fixture();
        for der in [f.zhejiang.signer_cert.der(), f.jiangsu.signer_cert.der(), f.anhui.signer_cert.der()] {
            let damaged = damage(der, &edits);
            let _ = Certificate::from_der(&damaged);
            let _ = Certificate::from_der(&damaged[..cut % damaged.len()]);
            let spki = Certificate::from_der(der).unwrap().public_key().spki_der().to_vec();
            let _ = PublicKey::from_spki_der(&damage(&spki, &edits));
        }
    }

    #[test]
    fn damaged_trust_and_status_lists_are_refused_without_panicking(edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        let f = fixture();
        let token = huren_keys::trust_build::sign(&f.trust_claims, &f.operator_key, f.operator_cert.der()).unwrap();
        let damaged = String::from_utf8_lossy(&damage(token.as_bytes(), &edits)).into_owned();
        let pinned = std::slice::from_ref(&f.operator_cert);
        if damaged.trim() != token {
            prop_assert!(TrustList::verify(&damaged, pinned).is_err());
        }

        let trust = f.trust();
        let status = f.zhejiang.status_list(StatusValue::Valid, NOW);
        let damaged = String::from_utf8_lossy(&damage(status.as_bytes(), &edits)).into_owned();
        if damaged.trim() != status {
            prop_assert!(VerifiedStatusList::verify(&damaged, &f.zhejiang.status_uri(), &trust).is_err());
        }
    }

    #[test]
    fn trust_list_claims_round_trip_and_problem_checks_never_panic(json in "\\{[ -~]{0,200}\\}") {
        let claims = &fixture().trust_claims;
        let back: TrustListClaims = serde_json::from_slice(&serde_json::to_vec(claims).unwrap()).unwrap();
        prop_assert_eq!(&back, claims);
        if let Ok(parsed) = serde_json::from_str::<TrustListClaims>(&json) {
            let _ = parsed.problems();
        }
    }

    #[test]
    fn base64url_round_trips(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        prop_assert_eq!(b64::decode_url(&b64::encode_url(&bytes), 1000).unwrap(), bytes);
    }
}
