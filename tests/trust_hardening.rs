//! Attacks on the trust promises of SPEC §4 and §5, each reproduced against the library: a
//! status signer the operator dropped, status lists that claim too long a life, a self-made
//! `x5c` that should cost no work, an RSA key used under the algorithm it is not listed for,
//! and status-list prefixes that would let one province speak for another's URIs.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

use std::collections::HashMap;
use std::sync::Arc;

use huren_crypto::alg::Algorithm;
use huren_crypto::b64;
use huren_crypto::jws::{sign_json_compact, HeaderParams};
use huren_crypto::status_list::{StatusList, StatusListClaim, StatusValue};
use huren_crypto::status_token::{
    StatusListClaims, StatusTokenError, VerifiedStatusList, MAX_STATUS_LIST_LIFETIME_SECONDS,
};
use huren_crypto::trust_list::{TrustList, TrustListClaims, TrustListError, TRUST_LIST_TYP};
use huren_crypto::verify::{Outcome, Verdict};
use huren_keys::PrivateKey;

mod common;
use common::*;

/// A status list for `province`'s URI with `IDX` set to `value`, with the given times.
fn list_token(province: &Province, value: StatusValue, iat: i64, exp: i64, ttl: u64) -> String {
    let mut list = StatusList::new(2, 1 << 17).unwrap();
    list.set(IDX as usize, value).unwrap();
    StatusListClaims {
        sub: province.status_uri(),
        iat,
        exp,
        ttl,
        status_list: StatusListClaim::from_list(&list),
    }
    .sign(&province.status_signer, &province.status_cert)
    .unwrap()
}

/// The standard claims with Zhejiang's status signers removed (the operator retired or
/// distrusted it).
fn without_zhejiang_status_signer(claims: &mut TrustListClaims) {
    claims.regions[0].status_signers.clear();
}

#[test]
fn status_list_from_a_signer_dropped_from_the_trust_list_is_refused() {
    let f = fixture();
    let trust = f.trust_with(without_zhejiang_status_signer);
    // The dropped signer's certificate still chains to Zhejiang's root, carries the
    // status-signer EKU and is within its validity: only the trust list can end its power.
    let all_valid = f.zhejiang.status_list(StatusValue::Valid, NOW.minus(600));
    let err = VerifiedStatusList::verify(&all_valid, &f.zhejiang.status_uri(), &trust).unwrap_err();
    assert_eq!(err, StatusTokenError::WrongRegion(f.zhejiang.code()));
    let err = VerifiedStatusList::verify_standalone(&all_valid, &trust).unwrap_err();
    assert_eq!(err, StatusTokenError::SignerNotListed);
}

#[test]
fn a_held_status_list_loses_its_power_when_the_operator_drops_its_signer() {
    let f = fixture();
    let before = f.trust();
    // The licence is revoked; a leaked (now dropped) status signer signed an all-valid list
    // that a verifier accepted while the signer was still listed.
    let token = f.zhejiang.licence_token();
    let held = statuses(&before, StatusValue::Valid);
    assert_eq!(
        verify_at(&token, &before, &held, NOW).verdict,
        Verdict::Valid
    );

    let after = f.trust_with(without_zhejiang_status_signer);
    let report = verify_at(&token, &after, &held, NOW);
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:#?}");
    assert_eq!(report.reasons, [Outcome::StatusUnknown]);
}

#[test]
fn status_list_claiming_more_than_seven_days_or_a_ttl_beyond_its_life_is_refused() {
    let f = fixture();
    let trust = f.trust();
    let uri = f.zhejiang.status_uri();
    let iat = NOW.minus(600).seconds();
    let week = MAX_STATUS_LIST_LIFETIME_SECONDS;
    assert_eq!(week, 7 * 86_400);

    let exactly_a_week = list_token(&f.zhejiang, StatusValue::Valid, iat, iat + week, 300);
    VerifiedStatusList::verify(&exactly_a_week, &uri, &trust).unwrap();

    let a_year = list_token(
        &f.zhejiang,
        StatusValue::Valid,
        iat,
        iat + 365 * 86_400,
        300,
    );
    assert_eq!(
        VerifiedStatusList::verify(&a_year, &uri, &trust).unwrap_err(),
        StatusTokenError::LifetimeTooLong {
            seconds: 365 * 86_400
        }
    );
    let week_and_a_second = list_token(&f.zhejiang, StatusValue::Valid, iat, iat + week + 1, 300);
    assert_eq!(
        VerifiedStatusList::verify(&week_and_a_second, &uri, &trust).unwrap_err(),
        StatusTokenError::LifetimeTooLong { seconds: week + 1 }
    );
    let long_ttl = list_token(&f.zhejiang, StatusValue::Valid, iat, iat + 3600, 3601);
    assert_eq!(
        VerifiedStatusList::verify(&long_ttl, &uri, &trust).unwrap_err(),
        StatusTokenError::TtlTooLong {
            ttl: 3601,
            lifetime: 3600
        }
    );
    let backwards = list_token(&f.zhejiang, StatusValue::Valid, iat, iat, 0);
    assert_eq!(
        VerifiedStatusList::verify(&backwards, &uri, &trust).unwrap_err(),
        StatusTokenError::ExpiresBeforeIssued { iat, exp: iat }
    );
}

#[test]
fn status_list_signer_membership_is_decided_before_its_signature_and_payload() {
    let f = fixture();
    let trust = f.trust();
    let uri = f.zhejiang.status_uri();
    // A self-made x5c (a province outside the trust list) over a payload that is not even
    // base64, with a garbage signature: refused for who signed it, before any of that work.
    let header = b64::encode_url(
        serde_json::json!({
            "alg": "ES256",
            "typ": "statuslist+jwt",
            "zip": "DEF",
            "x5c": [b64::encode_std(&f.outsider.status_cert)],
        })
        .to_string()
        .as_bytes(),
    );
    let token = format!(
        "{header}.{}.{}",
        "A".repeat(4096),
        b64::encode_url(&[7; 64])
    );
    assert_eq!(
        VerifiedStatusList::verify(&token, &uri, &trust).unwrap_err(),
        StatusTokenError::WrongRegion(f.zhejiang.code())
    );
    assert_eq!(
        VerifiedStatusList::verify_standalone(&token, &trust).unwrap_err(),
        StatusTokenError::SignerNotListed
    );
    // The listed signer with the same broken signature gets as far as the signature.
    let header = b64::encode_url(
        serde_json::json!({
            "alg": "ES256",
            "typ": "statuslist+jwt",
            "x5c": [b64::encode_std(&f.zhejiang.status_cert)],
        })
        .to_string()
        .as_bytes(),
    );
    let token = format!(
        "{header}.{}.{}",
        "A".repeat(4096),
        b64::encode_url(&[7; 64])
    );
    assert_eq!(
        VerifiedStatusList::verify(&token, &uri, &trust).unwrap_err(),
        StatusTokenError::BadSignature
    );
}

#[test]
fn an_rsa_key_listed_for_ps256_does_not_verify_rs256() {
    let f = fixture();
    let trust = f.trust();
    assert_eq!(f.jiangsu.signer.algorithm(), Algorithm::Ps256);
    let rs256 =
        PrivateKey::from_pkcs8_der(&f.jiangsu.signer.to_pkcs8_der().unwrap(), Algorithm::Rs256)
            .unwrap();
    let token = f
        .jiangsu
        .claims()
        .sign(&rs256, f.jiangsu.signer_cert.x5t_s256())
        .unwrap();
    let status = statuses(&trust, StatusValue::Valid);
    let report = verify_at(&token, &trust, &status, NOW);
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(report.reasons, [Outcome::UnsupportedAlgorithm]);
    // Under its listed algorithm the same key verifies.
    let report = verify_at(&f.jiangsu.licence_token(), &trust, &status, NOW);
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
}

#[test]
fn an_rsa_signer_entry_without_alg_is_refused_when_building_and_set_aside_when_loading() {
    let f = fixture();
    let mut claims = f.trust_claims.clone();
    claims.regions[1].signers[0].alg = None;
    let problems = claims.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].entry, "signers[0]");
    assert!(
        problems[0].problem.contains("alg is required"),
        "{problems:?}"
    );

    let trust = f.trust_unchecked(&claims);
    let status = statuses(&trust, StatusValue::Valid);
    let report = verify_at(&f.jiangsu.licence_token(), &trust, &status, NOW);
    assert_eq!(report.reasons, [Outcome::UnknownSigner], "{report:#?}");
}

/// Signs `claims` as the operator without the builder's checks (which refuse them), and loads
/// it as a verifier would.
fn load(claims: &TrustListClaims) -> Result<TrustList, TrustListError> {
    let f = fixture();
    let params = HeaderParams {
        typ: Some(TRUST_LIST_TYP),
        x5c: vec![f.operator_cert.der().to_vec()],
        ..HeaderParams::default()
    };
    let token = sign_json_compact(&params, claims, &f.operator_key, false).unwrap();
    TrustList::verify(&token, std::slice::from_ref(&f.operator_cert))
}

#[test]
fn status_uri_prefixes_must_be_https_end_in_a_slash_and_not_nest() {
    let f = fixture();
    let refused = [
        (
            "http://issuer-330000.example/v1/status/",
            "must use https://",
        ),
        ("https://issuer-330000.example/v1/status", "must end in '/'"),
        (
            "https://issuer-330000.example/v1/status/?x=/",
            "must not contain",
        ),
        ("https://user@issuer-330000.example/v1/status/", "user info"),
        (
            "ftp://issuer-330000.example/v1/status/",
            "absolute https://",
        ),
        ("https:///v1/status/", "has no host"),
        ("http://10.0.0.1/v1/status/", "must use https://"),
    ];
    for (prefix, why) in refused {
        let mut claims = f.trust_claims.clone();
        claims.regions[0].status_uri_prefix = prefix.into();
        let problems = claims.problems();
        assert!(
            problems
                .iter()
                .any(|p| p.entry == "status_uri_prefix" && p.problem.contains(why)),
            "{prefix}: {problems:?}"
        );
        assert!(
            huren_keys::trust_build::sign(&claims, &f.operator_key, f.operator_cert.der()).is_err(),
            "{prefix}: the builder signs it"
        );
        match load(&claims) {
            Err(TrustListError::StatusUriPrefix { region, problem }) => {
                assert_eq!(region, "330000", "{prefix}");
                assert!(problem.contains(why), "{prefix}: {problem}");
            }
            other => panic!("{prefix}: loaded anyway: {other:?}"),
        }
    }
    for loopback in [
        "http://127.0.0.1:8080/v1/status/",
        "http://localhost/v1/status/",
        "http://[::1]:9000/v1/status/",
    ] {
        let mut claims = f.trust_claims.clone();
        claims.regions[0].status_uri_prefix = loopback.into();
        assert!(claims.problems().is_empty(), "{loopback}");
        load(&claims).unwrap();
    }
}

#[test]
fn a_region_whose_status_prefix_lies_within_anothers_is_refused() {
    let f = fixture();
    // Jiangsu's prefix inside Zhejiang's: Zhejiang's status signer could then sign lists for
    // Jiangsu's URIs and clear Jiangsu's revocations.
    let mut claims = f.trust_claims.clone();
    claims.regions[0].status_uri_prefix = "https://status.example/".into();
    claims.regions[1].status_uri_prefix = "https://status.example/320000/".into();
    let problems = claims.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].region, "320000");
    match load(&claims) {
        Err(TrustListError::StatusUriPrefix { region, problem }) => {
            assert_eq!(region, "320000");
            assert!(problem.contains("within region 330000"), "{problem}");
        }
        other => panic!("loaded anyway: {other:?}"),
    }
    // Siblings under one host are fine.
    claims.regions[0].status_uri_prefix = "https://status.example/330000/".into();
    assert!(claims.problems().is_empty());
    load(&claims).unwrap();
}

#[test]
fn status_lists_cleared_by_the_dropped_signer_do_not_reach_a_verdict_of_valid() {
    // End to end of the first attack: a revoked licence, a correct revoked list from the
    // current signer, and an all-valid list from the dropped one offered instead.
    let f = fixture();
    let trust = f.trust_with(without_zhejiang_status_signer);
    let token = f.zhejiang.licence_token();
    let forged = f.zhejiang.status_list(StatusValue::Valid, NOW.minus(60));
    let status: HashMap<String, Arc<VerifiedStatusList>> =
        VerifiedStatusList::verify(&forged, &f.zhejiang.status_uri(), &trust)
            .map(|list| HashMap::from([(f.zhejiang.status_uri(), Arc::new(list))]))
            .unwrap_or_default();
    let report = verify_at(&token, &trust, &status, NOW);
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:#?}");
    assert_eq!(report.reasons, [Outcome::StatusUnknown]);
}

mod verifier_caches {
    //! The same promises as a long-running verifier keeps them: what it has accepted bounds
    //! what it will accept, across trust-list changes and restarts.

    use std::sync::Mutex;

    use huren_crypto::cert::Certificate;
    use huren_keys::trust_build;
    use huren_verifier::{FetchError, Fetched, Fetcher, StatusCache, TrustSource, TrustStore};

    use super::*;

    /// Serves one text body for any URL.
    #[derive(Default)]
    struct Serve(Mutex<Option<String>>);

    impl Serve {
        fn set(&self, body: &str) {
            *self.0.lock().unwrap() = Some(body.to_owned());
        }
    }

    impl Fetcher for Serve {
        fn fetch(&self, url: &str, _etag: Option<&str>) -> Result<Fetched, FetchError> {
            match self.0.lock().unwrap().clone() {
                Some(text) => Ok(Fetched::Body { text, etag: None }),
                None => Err(FetchError {
                    url: url.into(),
                    reason: "offline".into(),
                }),
            }
        }
    }

    #[test]
    fn an_older_status_list_is_refused_after_a_trust_list_change_and_after_a_restart() {
        let f = fixture();
        let trust = f.trust();
        let uri = f.zhejiang.status_uri();
        let dir = tempfile::tempdir().unwrap();
        let disk = huren_verifier::disk::DiskCache::new(dir.path()).unwrap();
        let serve = Arc::new(Serve::default());
        let cache = StatusCache::new(serve.clone(), Some(disk.clone()), &trust, NOW);

        let revoked = f.zhejiang.status_list(StatusValue::Revoked, NOW.minus(60));
        serve.set(&revoked);
        cache.fetch(&uri, &trust, NOW).unwrap();

        // The trust list changes (the verifier forgets its lists: their signers may be gone);
        // a stale proxy then serves last week's all-valid list.
        cache.clear();
        let older = f.zhejiang.status_list(StatusValue::Valid, NOW.minus(3600));
        serve.set(&older);
        let error = cache.fetch(&uri, &trust, NOW).unwrap_err();
        assert!(error.contains("before the newest accepted"), "{error}");
        assert!(cache.get(&uri).is_none());

        // A restart from the same cache directory: the newest list comes back, the old one is
        // still refused.
        let restarted = StatusCache::new(serve.clone(), Some(disk), &trust, NOW);
        assert!(restarted.fetch(&uri, &trust, NOW).is_err());
        let held = restarted
            .get(&uri)
            .expect("the newest list is read back from disk");
        assert_eq!(held.iat(), NOW.minus(60));
        assert_eq!(held.status(IDX), Some(StatusValue::Revoked));
    }

    #[test]
    fn a_verifier_that_followed_an_operator_pivot_restarts_from_its_cache() {
        let f = fixture();
        let dir = tempfile::tempdir().unwrap();
        let successor = pki::operator(&dir.path().join("next-op"), "继任运营方", MADE);
        let successor_der = successor.certificate().unwrap();
        let successor_key = successor.key(None).unwrap();

        // seq 42 by the pinned operator announces the successor; 43 and 44 are the
        // successor's (44 no longer names anyone).
        let mut announcing = f.trust_claims.clone();
        announcing.next_operator_certs = vec![b64::encode_std(&successor_der)];
        let list_42 =
            trust_build::sign(&announcing, &f.operator_key, f.operator_cert.der()).unwrap();
        let mut claims_43 = announcing.clone();
        claims_43.seq = 43;
        let list_43 = trust_build::sign(&claims_43, &successor_key, &successor_der).unwrap();
        let mut claims_44 = f.trust_claims.clone();
        claims_44.seq = 44;
        let list_44 = trust_build::sign(&claims_44, &successor_key, &successor_der).unwrap();

        let source = dir.path().join("trust-list.jwt");
        let cache_dir = dir.path().join("cache");
        let open = || {
            TrustStore::open(
                TrustSource::File(source.clone()),
                vec![f.operator_cert.clone()],
                Arc::new(Serve::default()),
                Some(cache_dir.clone()),
                NOW,
            )
        };
        std::fs::write(&source, &list_42).unwrap();
        let store = open().unwrap();
        std::fs::write(&source, &list_43).unwrap();
        assert!(
            store.refresh(NOW).unwrap(),
            "the announced successor's list is taken"
        );
        assert_eq!(store.current().trust.seq(), 43);
        std::fs::write(&source, &list_44).unwrap();
        assert!(store.refresh(NOW).unwrap(), "the successor goes on signing");
        assert_eq!(store.current().trust.seq(), 44);
        drop(store);

        // Restart with the source gone: the cache alone must do.
        std::fs::remove_file(&source).unwrap();
        let restarted = open().expect("restarts from the cached list of the successor");
        assert_eq!(restarted.current().trust.seq(), 44);
        assert!(restarted.current().from_cache);
        assert_eq!(
            restarted.current().trust.operator().der(),
            Certificate::from_der(&successor_der).unwrap().der()
        );
        drop(restarted);

        // Restart with the successor's list at the source: taken from the source.
        std::fs::write(&source, &list_44).unwrap();
        let restarted = open().unwrap();
        assert!(!restarted.current().from_cache);
        assert_eq!(restarted.current().trust.seq(), 44);
    }
}
