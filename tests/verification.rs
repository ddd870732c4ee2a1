//! Cross-crate licence verification scenarios (SPEC §6): three provinces under one trust list,
//! and one negative test per outcome code, all at a fixed time so they never expire.
//!
//! The PKI is made once per test binary with real keys (plaintext at rest: a test set-up) in a
//! temporary directory; each test signs what it needs and checks the report.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use huren_crypto::b64;
use huren_crypto::cert::Certificate;
use huren_crypto::ids::LicenceId;
use huren_crypto::qr;
use huren_crypto::status_list::{StatusList, StatusListClaim, StatusValue};
use huren_crypto::status_token::{StatusListClaims, StatusTokenError, VerifiedStatusList};
use huren_crypto::time::UnixTime;
use huren_crypto::trust_list::{
    RegionStatus, RollbackError, SignerStatus, TrustList, TrustListError,
};
use huren_crypto::verify::{
    verify_licence, CheckName, NoStatusLists, Outcome, Verdict, VerifyOptions, Warning,
};
use huren_keys::trust_build;
use sha2::{Digest, Sha256};

mod common;
use common::*;

#[test]
fn licences_from_three_provinces_verify_under_one_trust_list() {
    let f = fixture();
    let trust = f.trust();
    for (province, alg) in [
        (&f.zhejiang, "ES256"),
        (&f.jiangsu, "PS256"),
        (&f.anhui, "SM2SM3"),
    ] {
        let token = province.licence_token();
        assert!(
            token.starts_with(&b64::encode_url(format!("{{\"alg\":\"{alg}\"").as_bytes())[..10])
        );
        for input in [
            token.clone(),
            qr::encode(&token).unwrap(),
            format!("  {}\r\n", qr::encode(&token).unwrap()),
        ] {
            let report = verify_valid_status(&input, &trust);
            assert_eq!(report.verdict, Verdict::Valid, "{alg}: {report:#?}");
            assert!(report.reasons.is_empty());
            assert!(
                report.checks.iter().all(|c| c.ok == Some(true)),
                "{report:#?}"
            );
            let licence = report.licence().unwrap();
            assert_eq!(licence.iss, province.code().as_str());
            assert_eq!(licence.holder_name.as_deref(), Some("杭州示例建设有限公司"));
            assert_eq!(report.trust_list_seq, 42);
            assert_eq!(report.status_lists.len(), 1);
            assert!(report.status_lists[0].iat.is_some());
        }
    }
}

#[test]
fn report_masks_personal_identifiers_and_states_what_ran() {
    let f = fixture();
    let trust = f.trust();
    let mut claims = f.zhejiang.claims();
    claims.licence.holder = serde_json::from_value(serde_json::json!(
        {"name": "张三", "id_type": "111", "id": "11010519491231002X"}
    ))
    .unwrap();
    let report = verify_valid_status(&f.zhejiang.sign(&claims), &trust);
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    let json = serde_json::to_string(&report).unwrap();
    assert!(
        !json.contains("11010519491231002X"),
        "full identifier leaked: {json}"
    );
    assert_eq!(
        report.licence().unwrap().holder_id_masked.as_deref(),
        Some("1101**********002X")
    );
    assert_eq!(report.checked_at, NOW);
    assert_eq!(
        serde_json::to_value(&report).unwrap()["checked_at"],
        NOW.to_rfc3339_china()
    );
    let names: Vec<CheckName> = report.checks.iter().map(|c| c.check).collect();
    assert_eq!(names.len(), 11);
    assert_eq!(names[3], CheckName::Signature);
}

#[test]
fn zhejiang_signer_claiming_jiangsu_is_issuer_not_authorised() {
    let f = fixture();
    let mut claims = f.zhejiang.claims();
    claims.iss = f.jiangsu.code();
    claims.status.as_mut().unwrap().status_list.uri = f.jiangsu.status_uri();
    let report = verify_valid_status(&f.zhejiang.sign(&claims), &f.trust());
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_outcome(&report, Outcome::IssuerNotAuthorised);
}

/// Every bit of a real token flipped in turn (bits 0–6: a flipped top bit is not UTF-8, so
/// not text): never valid, and always the one outcome code where the flip lands decides
/// ([`common::token_model`]: outside the alphabet or in the structure `malformed`, a changed
/// `alg` `unsupported_algorithm`, a changed key id `unknown_signer`, anything else signed
/// `bad_signature`).
#[test]
fn a_flipped_bit_anywhere_is_never_valid_and_names_where_it_landed() {
    let f = fixture();
    let trust = f.trust();
    let status = statuses(&trust, StatusValue::Valid);
    let token = f.zhejiang.licence_token();
    let mut seen = std::collections::BTreeSet::new();
    for position in 0..token.len() {
        for bit in 0..7 {
            let mut bytes = token.clone().into_bytes();
            bytes[position] ^= 1 << bit;
            let tampered = String::from_utf8(bytes).unwrap();
            let expected = common::token_model::refusal(&tampered, &token)
                .unwrap_or_else(|| panic!("flip at {position} bit {bit} left the token"));
            let report = verify_at(&tampered, &trust, &status, NOW);
            assert_eq!(
                report.verdict,
                Verdict::Invalid,
                "flip at {position} bit {bit}"
            );
            let reasons: Vec<&str> = report.reasons.iter().map(|r| r.code()).collect();
            assert_eq!(
                reasons,
                [expected],
                "flip at {position} bit {bit}: {tampered}"
            );
            seen.insert(expected);
        }
    }
    // The token is long enough for flips to land everywhere that decides an outcome.
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        [
            "bad_signature",
            "malformed",
            "unknown_signer",
            "unsupported_algorithm"
        ]
    );
}

#[test]
fn altered_signature_bytes_are_bad_signature() {
    let f = fixture();
    let trust = f.trust();
    for province in [&f.zhejiang, &f.jiangsu, &f.anhui] {
        let token = province.licence_token();
        let (signed, signature) = token.rsplit_once('.').unwrap();
        let mut raw = b64::decode_url(signature, 4096).unwrap();
        raw[10] ^= 0x01;
        let report = verify_valid_status(&format!("{signed}.{}", b64::encode_url(&raw)), &trust);
        assert_eq!(report.reasons, [Outcome::BadSignature], "{report:#?}");
        assert!(
            report.licence().is_none(),
            "unverified data must not be shown"
        );
    }
}

#[test]
fn type_outside_the_signers_scope_is_type_not_authorised() {
    let f = fixture();
    let trust = f.trust_with(|claims| {
        claims.regions[0].signers[0].scopes = vec!["11100000000013338W011".into()]
    });
    let report = verify_valid_status(&f.zhejiang.licence_token(), &trust);
    assert_eq!(report.reasons, [Outcome::TypeNotAuthorised], "{report:#?}");
}

#[test]
fn suspended_region_is_issuer_suspended() {
    let f = fixture();
    let trust = f.trust_with(|claims| claims.regions[0].status = RegionStatus::Suspended);
    let report = verify_valid_status(&f.zhejiang.licence_token(), &trust);
    assert_eq!(report.reasons, [Outcome::IssuerSuspended], "{report:#?}");
}

#[test]
fn licence_before_its_first_day_is_not_yet_valid_and_after_its_last_is_expired() {
    let f = fixture();
    let trust = f.trust();
    let claims = f.zhejiang.claims();
    let token = f.zhejiang.sign(&claims);
    let early = UnixTime(claims.nbf).minus(3600);
    let status = statuses(&trust, StatusValue::Valid);
    assert!(verify_at(&token, &trust, &status, early)
        .reasons
        .contains(&Outcome::NotYetValid));
    // Within the skew it is still valid.
    let within_skew = verify_at(&token, &trust, &status, UnixTime(claims.nbf).minus(60));
    let period = within_skew
        .checks
        .iter()
        .find(|c| c.check == CheckName::ValidityPeriod)
        .unwrap();
    assert_eq!(period.ok, Some(true), "{within_skew:#?}");

    let mut short = f.zhejiang.claims();
    short.exp = Some(NOW.minus(3600).seconds());
    let report = verify_at(&f.zhejiang.sign(&short), &trust, &status, NOW);
    assert_eq!(report.reasons, [Outcome::Expired], "{report:#?}");
}

#[test]
fn revoked_and_suspended_licences_say_so() {
    let f = fixture();
    let trust = f.trust();
    for (value, outcome) in [
        (StatusValue::Revoked, Outcome::Revoked),
        (StatusValue::Suspended, Outcome::Suspended),
    ] {
        for province in [&f.zhejiang, &f.jiangsu, &f.anhui] {
            let report = verify_at(
                &province.licence_token(),
                &trust,
                &statuses(&trust, value),
                NOW,
            );
            assert_eq!(report.verdict, Verdict::Invalid);
            assert_eq!(report.reasons, [outcome], "{report:#?}");
        }
    }
}

#[test]
fn missing_or_expired_status_list_is_status_unknown_and_indeterminate() {
    let f = fixture();
    let trust = f.trust();
    let token = f.zhejiang.licence_token();
    let report = verify_licence(
        &token,
        &trust,
        &NoStatusLists,
        NOW,
        &VerifyOptions::default(),
    );
    assert_eq!(report.verdict, Verdict::Indeterminate);
    assert_eq!(report.reasons, [Outcome::StatusUnknown]);

    let old = f
        .zhejiang
        .status_list(StatusValue::Valid, NOW.minus(3 * 86_400));
    let old = VerifiedStatusList::verify(&old, &f.zhejiang.status_uri(), &trust).unwrap();
    let status = HashMap::from([(f.zhejiang.status_uri(), Arc::new(old))]);
    let report = verify_at(&token, &trust, &status, NOW);
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:#?}");
    assert_eq!(report.reasons, [Outcome::StatusUnknown]);
}

#[test]
fn status_list_signed_by_another_province_is_refused() {
    let f = fixture();
    let trust = f.trust();
    // Jiangsu's status signer signs a list claiming Zhejiang's URI.
    let mut list = StatusList::new(2, 1 << 17).unwrap();
    list.set(IDX as usize, StatusValue::Valid).unwrap();
    let forged = StatusListClaims {
        sub: f.zhejiang.status_uri(),
        iat: SIGNED.seconds(),
        exp: SIGNED.plus(86_400).seconds(),
        ttl: 300,
        status_list: StatusListClaim::from_list(&list),
    }
    .sign(&f.jiangsu.status_signer, &f.jiangsu.status_cert)
    .unwrap();
    let err = VerifiedStatusList::verify(&forged, &f.zhejiang.status_uri(), &trust).unwrap_err();
    assert!(matches!(err, StatusTokenError::WrongRegion(_)), "{err}");
    // A licence signer (wrong EKU) cannot sign status lists either.
    let by_signer = StatusListClaims {
        sub: f.zhejiang.status_uri(),
        iat: SIGNED.seconds(),
        exp: SIGNED.plus(86_400).seconds(),
        ttl: 300,
        status_list: StatusListClaim::from_list(&list),
    }
    .sign(&f.zhejiang.signer, f.zhejiang.signer_cert.der())
    .unwrap();
    assert!(VerifiedStatusList::verify(&by_signer, &f.zhejiang.status_uri(), &trust).is_err());
}

#[test]
fn status_reference_outside_prefix_or_index_out_of_range_is_malformed() {
    let f = fixture();
    let trust = f.trust();
    let status = statuses(&trust, StatusValue::Valid);
    let mut claims = f.zhejiang.claims();
    claims.status.as_mut().unwrap().status_list.uri =
        "https://evil.example/v1/status/330000-0".into();
    let report = verify_at(&f.zhejiang.sign(&claims), &trust, &status, NOW);
    assert_eq!(report.reasons, [Outcome::Malformed], "{report:#?}");

    let mut claims = f.zhejiang.claims();
    claims.status.as_mut().unwrap().status_list.idx = 1 << 20;
    let report = verify_at(&f.zhejiang.sign(&claims), &trust, &status, NOW);
    assert_eq!(report.reasons, [Outcome::Malformed], "{report:#?}");
}

#[test]
fn signer_not_in_the_trust_list_is_unknown_signer() {
    let f = fixture();
    let report = verify_valid_status(&f.outsider.licence_token(), &f.trust());
    assert_eq!(report.reasons, [Outcome::UnknownSigner], "{report:#?}");
}

#[test]
fn revoked_signer_invalidates_licences_signed_after_revocation_only() {
    let f = fixture();
    let token = f.zhejiang.licence_token();
    let revoked_before = f.trust_with(|c| {
        c.regions[0].signers[0].status = SignerStatus::Revoked;
        c.regions[0].signers[0].revoked_at = Some(SIGNED.minus(1).seconds());
    });
    let report = verify_valid_status(&token, &revoked_before);
    assert_eq!(
        report.reasons,
        [Outcome::IssuerNotAuthorised],
        "{report:#?}"
    );

    let revoked_after = f.trust_with(|c| {
        c.regions[0].signers[0].status = SignerStatus::Revoked;
        c.regions[0].signers[0].revoked_at = Some(SIGNED.plus(1).seconds());
    });
    assert_eq!(
        verify_valid_status(&token, &revoked_after).verdict,
        Verdict::Valid
    );
}

#[test]
fn licence_signed_outside_the_signers_validity_is_issuer_not_authorised() {
    let f = fixture();
    let mut claims = f.zhejiang.claims();
    claims.iat = MADE.minus(86_400).seconds();
    let report = verify_valid_status(&f.zhejiang.sign(&claims), &f.trust());
    assert_eq!(
        report.reasons,
        [Outcome::IssuerNotAuthorised],
        "{report:#?}"
    );
}

fn token_with_header(header: &str, payload: &[u8], signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64::encode_url(header.as_bytes()),
        b64::encode_url(payload),
        b64::encode_url(signature)
    )
}

#[test]
fn alg_none_and_hs256_are_unsupported_algorithm() {
    let f = fixture();
    let trust = f.trust();
    let claims = serde_json::to_vec(&f.zhejiang.claims()).unwrap();
    let x5t = b64::encode_url(&f.zhejiang.signer_cert.x5t_s256());
    let none = token_with_header(
        &format!(r#"{{"alg":"none","typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
        &claims,
        b"",
    );
    let none = none.trim_end_matches('.').to_owned() + ".";
    let report = verify_valid_status(&none, &trust);
    assert_eq!(
        report.reasons,
        [Outcome::UnsupportedAlgorithm],
        "{report:#?}"
    );

    // An HMAC "signature" keyed with the public key (the classic key-confusion attack).
    let hs256 = token_with_header(r#"{"alg":"HS256","typ":"JWT"}"#, &claims, &[7u8; 32]);
    let report = verify_valid_status(&hs256, &trust);
    assert_eq!(
        report.reasons,
        [Outcome::UnsupportedAlgorithm],
        "{report:#?}"
    );

    // A declared algorithm that does not fit the signer's key.
    let wrong = token_with_header(
        &format!(r#"{{"alg":"PS256","typ":"licence+jwt","x5t#S256":"{x5t}"}}"#),
        &claims,
        &[1u8; 256],
    );
    let report = verify_valid_status(&wrong, &trust);
    assert_eq!(
        report.reasons,
        [Outcome::UnsupportedAlgorithm],
        "{report:#?}"
    );
}

#[test]
fn forbidden_and_unknown_header_parameters_are_malformed() {
    let f = fixture();
    let trust = f.trust();
    let x5t = b64::encode_url(&f.zhejiang.signer_cert.x5t_s256());
    for extra in [
        r#""jku":"https://evil.example/jwks""#,
        r#""jwk":{}"#,
        r#""x5u":"https://evil""#,
        r#""crit":["exp"]"#,
        r#""foo":1"#,
    ] {
        let header = format!(r#"{{"alg":"ES256","typ":"licence+jwt","x5t#S256":"{x5t}",{extra}}}"#);
        let report = verify_valid_status(&token_with_header(&header, b"{}", &[0; 64]), &trust);
        assert_eq!(report.reasons, [Outcome::Malformed], "{extra}: {report:#?}");
    }
}

fn openssl(args: &[&str], dir: &Path) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command is needed");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_1024_bit_rsa_signer_is_set_aside_and_its_tokens_are_unsupported_algorithm() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    openssl(
        &[
            "req", "-x509", "-newkey", "rsa:1024", "-nodes", "-keyout", "weak.key", "-out",
            "weak.crt", "-subj", "/CN=weak", "-days", "3650", "-outform", "DER",
        ],
        dir.path(),
    );
    let weak_der = std::fs::read(dir.path().join("weak.crt")).unwrap();
    assert!(
        Certificate::from_der(&weak_der).is_err(),
        "a 1024-bit key must not parse as usable"
    );

    let mut claims = f.trust_claims.clone();
    let mut weak_entry = claims.regions[0].signers[0].clone();
    weak_entry.cert = b64::encode_std(&weak_der);
    weak_entry.alg = None;
    claims.regions[0].signers.push(weak_entry);
    assert!(
        !claims.problems().is_empty(),
        "the builder refuses the weak entry"
    );
    assert!(trust_build::sign(&claims, &f.operator_key, f.operator_cert.der()).is_err());

    let trust = f.trust_unchecked(&claims);
    assert_eq!(trust.problems().len(), 1, "{:?}", trust.problems());
    let x5t: [u8; 32] = Sha256::digest(&weak_der).into();
    let header = format!(
        r#"{{"alg":"RS256","typ":"licence+jwt","x5t#S256":"{}"}}"#,
        b64::encode_url(&x5t)
    );
    let token = token_with_header(&header, b"{}", &[1u8; 128]);
    let report = verify_valid_status(&token, &trust);
    assert_eq!(
        report.reasons,
        [Outcome::UnsupportedAlgorithm],
        "{report:#?}"
    );
    // The healthy signer of the same region still works.
    assert_eq!(
        verify_valid_status(&f.zhejiang.licence_token(), &trust).verdict,
        Verdict::Valid
    );
}

#[test]
fn stale_trust_list_is_trust_list_stale_and_indeterminate() {
    let f = fixture();
    let trust = f.trust();
    let later = trust.next_update().plus(60);
    let token = f.zhejiang.licence_token();
    // Status lists fresh at that time, so only the trust list is stale.
    let status: HashMap<_, _> = [(
        f.zhejiang.status_uri(),
        Arc::new(
            VerifiedStatusList::verify(
                &f.zhejiang.status_list(StatusValue::Valid, later.minus(60)),
                &f.zhejiang.status_uri(),
                &trust,
            )
            .unwrap(),
        ),
    )]
    .into();
    let report = verify_at(&token, &trust, &status, later);
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:#?}");
    assert_eq!(report.reasons, [Outcome::TrustListStale]);
    let with_grace = VerifyOptions {
        trust_list_grace_seconds: 3600,
        ..VerifyOptions::default()
    };
    assert_eq!(
        verify_licence(&token, &trust, &status, later, &with_grace).verdict,
        Verdict::Valid
    );
}

#[test]
fn garbage_and_truncated_input_is_malformed() {
    let f = fixture();
    let trust = f.trust();
    let token = f.zhejiang.licence_token();
    let qr_text = qr::encode(&token).unwrap();
    for input in [
        "",
        "hello",
        "HR1:12345",
        &qr_text[..qr_text.len() - 1],
        &token[..token.len() / 2],
        "a.b.c",
        "é",
    ] {
        let report = verify_valid_status(input, &trust);
        assert_eq!(report.verdict, Verdict::Invalid, "{input:?}");
        assert_eq!(
            report.reasons,
            [Outcome::Malformed],
            "{input:?}: {report:#?}"
        );
        assert!(report.licence().is_none());
    }
}

#[test]
fn nonstandard_identifier_and_bad_holder_code_are_warnings_only() {
    let f = fixture();
    let mut claims = f.zhejiang.claims();
    let jti = claims.jti.to_string();
    let wrong_check = if jti.ends_with('A') { 'B' } else { 'A' };
    claims.jti = LicenceId::parse(&format!("{}{wrong_check}", &jti[..jti.len() - 1])).unwrap();
    claims.licence.holder.id = "91350100M000100Y44".into();
    let report = verify_valid_status(&f.zhejiang.sign(&claims), &f.trust());
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    assert_eq!(
        report.warnings,
        [
            Warning::NonstandardIdentifierCheck,
            Warning::HolderCodeCheckFailed
        ]
    );
}

#[test]
fn trust_list_must_be_signed_by_a_pinned_operator_and_never_roll_back() {
    let f = fixture();
    let token = trust_build::sign(&f.trust_claims, &f.operator_key, f.operator_cert.der()).unwrap();
    let pinned = [f.operator_cert.clone()];
    let trust = TrustList::verify(&token, &pinned).unwrap();

    // Another operator.
    let other_dir = tempfile::tempdir().unwrap();
    let other = pki::operator(&other_dir.path().join("op"), "冒充者", MADE);
    let other_cert = Certificate::from_der(&other.certificate().unwrap()).unwrap();
    assert!(matches!(
        TrustList::verify(&token, std::slice::from_ref(&other_cert)),
        Err(TrustListError::OperatorNotPinned { .. })
    ));
    let forged =
        trust_build::sign(&f.trust_claims, &other.key(None).unwrap(), other_cert.der()).unwrap();
    assert!(matches!(
        TrustList::verify(&forged, &pinned),
        Err(TrustListError::OperatorNotPinned { .. })
    ));
    assert!(matches!(
        TrustList::verify(&token, &[]),
        Err(TrustListError::NothingPinned)
    ));

    // Tampered payload.
    let (head, rest) = token.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&b64::decode_url(payload, 1 << 24).unwrap()).unwrap();
    claims["seq"] = 43.into();
    let tampered = format!(
        "{head}.{}.{signature}",
        b64::encode_url(&serde_json::to_vec(&claims).unwrap())
    );
    assert!(matches!(
        TrustList::verify(&tampered, &pinned),
        Err(TrustListError::BadSignature)
    ));

    // Rollback rules.
    assert_eq!(trust.check_supersedes(42, &trust.digest()), Ok(()));
    assert_eq!(trust.check_supersedes(41, &[0; 32]), Ok(()));
    assert_eq!(
        trust.check_supersedes(43, &[0; 32]),
        Err(RollbackError::OlderSeq {
            offered: 42,
            accepted: 43
        })
    );
    assert_eq!(
        trust.check_supersedes(42, &[0; 32]),
        Err(RollbackError::SeqReused { seq: 42 })
    );
    let _ = &f.operator;
}

#[test]
fn trust_list_builder_refuses_a_signer_that_does_not_chain_to_its_region() {
    let f = fixture();
    let mut claims = f.trust_claims.clone();
    // Move Jiangsu's signer into Zhejiang's entry: it does not chain to Zhejiang's root.
    let foreign = claims.regions[1].signers[0].clone();
    claims.regions[0].signers.push(foreign);
    let problems = claims.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].problem.contains("does not chain"),
        "{problems:?}"
    );
    let err = trust_build::sign(&claims, &f.operator_key, f.operator_cert.der()).unwrap_err();
    assert!(err.to_string().contains("330000 signers[1]"), "{err}");
}
