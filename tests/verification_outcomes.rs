//! Report-level sub-cases of SPEC §6 that name the exact answer: the verdict, the whole
//! `reasons` list and which check failed — a signer whose certificate has the wrong extended
//! key usage or does not chain to its region's root, a licence that is not yet valid, and a
//! status list that is offered but badly signed.
//!
//! All at the fixed times of `tests/common` (the PKI is made once per test binary).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

use std::sync::Arc;

use huren_crypto::b64;
use huren_crypto::status_list::StatusValue;
use huren_crypto::trust_list::{SignerEntry, TrustList};
use huren_crypto::verify::{CheckName, Outcome, Report, Verdict, VerifyOptions};
use huren_keys::trust_build;
use huren_verifier::disk::DiskCache;
use huren_verifier::{FetchError, Fetched, Fetcher, TrustSource, Verifier, VerifierConfig};

mod common;
use common::fetch::NoNetwork;
use common::*;

/// Whether `check` passed (`Some(true)`), failed (`Some(false)`) or did not run (`None`),
/// with its detail.
fn check(report: &Report, check: CheckName) -> (Option<bool>, String) {
    let found = report
        .checks
        .iter()
        .find(|c| c.check == check)
        .unwrap_or_else(|| panic!("no {check:?} check in {report:#?}"));
    (found.ok, found.detail.clone().unwrap_or_default())
}

/// The checks that failed, in order.
fn failed(report: &Report) -> Vec<CheckName> {
    report
        .checks
        .iter()
        .filter(|c| c.ok == Some(false))
        .map(|c| c.check)
        .collect()
}

/// Zhejiang's trust list with one more licence-signer entry, `cert_der`, signed by the
/// operator without the builder's entry checks (the builder refuses it: that is asserted).
fn trust_listing_extra_signer(cert_der: &[u8]) -> TrustList {
    let f = fixture();
    let mut claims = f.trust_claims.clone();
    let listed = &claims.regions[0].signers[0];
    let extra = SignerEntry {
        cert: b64::encode_std(cert_der),
        ..listed.clone()
    };
    claims.regions[0].signers.push(extra);
    assert_eq!(
        claims.problems().len(),
        1,
        "the builder refuses the entry: {:?}",
        claims.problems()
    );
    assert!(trust_build::sign(&claims, &f.operator_key, f.operator_cert.der()).is_err());
    f.trust_unchecked(&claims)
}

/// SPEC §6 step 6 names chain and EKU among the authority checks. The trust list sets such an
/// entry aside when it is loaded (it is never trusted for anything), but it is still *listed*:
/// a licence naming it passes step 3, its signature is checked (step 4), and step 6 refuses
/// it as `issuer_not_authorised`, saying what is wrong with the entry — not `unknown_signer`,
/// which would tell a clerk the signer is not listed. Zhejiang's own status signer (same root,
/// status-signer EKU only) stands in for a certificate issued with the wrong EKU.
#[test]
fn a_signer_without_the_licence_signer_eku_is_issuer_not_authorised_at_verification() {
    let f = fixture();
    let trust = trust_listing_extra_signer(&f.zhejiang.status_cert);
    let [problem] = trust.problems() else {
        panic!("{:?}", trust.problems())
    };
    assert_eq!(problem.entry, "signers[1]");
    assert!(
        problem.problem.contains("extended key usage"),
        "{problem:?}"
    );

    let status_cert = huren_crypto::cert::Certificate::from_der(&f.zhejiang.status_cert).unwrap();
    let token = f
        .zhejiang
        .claims()
        .sign(&f.zhejiang.status_signer, status_cert.x5t_s256())
        .unwrap();
    let report = verify_valid_status(&token, &trust);
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(
        report.reasons,
        [Outcome::IssuerNotAuthorised],
        "{report:#?}"
    );
    assert_eq!(failed(&report), [CheckName::IssuerAuthority], "{report:#?}");
    for earlier in [CheckName::Signer, CheckName::Signature, CheckName::Claims] {
        assert_eq!(
            check(&report, earlier).0,
            Some(true),
            "{earlier:?}: {report:#?}"
        );
    }
    let (_, detail) = check(&report, CheckName::IssuerAuthority);
    assert!(
        detail.contains("sets the signer's entry aside") && detail.contains("extended key usage"),
        "{detail}"
    );
    // Its signature is checked first: a token naming the entry with a broken signature is
    // `bad_signature`, so copying the entry's x5t#S256 tells a forger nothing.
    let forged = flip_last_signature_char(&token);
    let report = verify_valid_status(&forged, &trust);
    assert_eq!(report.reasons, [Outcome::BadSignature], "{report:#?}");
    assert!(report.licence().is_none());
    // The region's real signer is untouched by the bad entry beside it.
    let report = verify_valid_status(&f.zhejiang.licence_token(), &trust);
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
}

/// The same for a certificate that does not chain to the region's root: Shanghai's signer
/// (outside the trust list, its own root) listed under Zhejiang and signing for Zhejiang.
#[test]
fn a_signer_that_does_not_chain_to_its_region_is_issuer_not_authorised_at_verification() {
    let f = fixture();
    let trust = trust_listing_extra_signer(f.outsider.signer_cert.der());
    let [problem] = trust.problems() else {
        panic!("{:?}", trust.problems())
    };
    assert!(problem.problem.contains("does not chain"), "{problem:?}");

    let mut claims = f.outsider.claims();
    claims.iss = f.zhejiang.code();
    claims.status.as_mut().unwrap().status_list.uri = f.zhejiang.status_uri();
    let report = verify_valid_status(&f.outsider.sign(&claims), &trust);
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(
        report.reasons,
        [Outcome::IssuerNotAuthorised],
        "{report:#?}"
    );
    assert_eq!(failed(&report), [CheckName::IssuerAuthority], "{report:#?}");
    let (_, detail) = check(&report, CheckName::IssuerAuthority);
    assert!(detail.contains("does not chain"), "{detail}");
    // Set aside means never trusted: not a signer of the list, nor exported with it.
    let x5t = f.outsider.signer_cert.x5t_s256();
    assert!(trust.signer(&x5t).is_none());
    assert!(trust.signers().all(|s| s.cert.x5t_s256() != x5t));
}

/// `token` with the second-to-last character of its signature changed (it carries 6 whole
/// bits, so the base64url stays canonical and only the signature's bytes change).
fn flip_last_signature_char(token: &str) -> String {
    let (rest, last) = token.split_at(token.len() - 2);
    let swapped = match last.chars().next().unwrap() {
        'A' => 'Q',
        _ => 'A',
    };
    format!("{rest}{swapped}{}", &last[1..])
}

/// What does reach step 6 at verification time: a signer that chains to another region's
/// root than the `iss` it signs for. Jiangsu's signer is listed (under Jiangsu) and signs a
/// licence claiming Zhejiang, with Zhejiang's status reference: the signature verifies, the
/// authority check alone fails.
#[test]
fn a_signer_of_another_region_is_issuer_not_authorised_and_nothing_else() {
    let f = fixture();
    let mut claims = f.jiangsu.claims();
    claims.iss = f.zhejiang.code();
    claims.status.as_mut().unwrap().status_list.uri = f.zhejiang.status_uri();
    let report = verify_valid_status(&f.jiangsu.sign(&claims), &f.trust());
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(
        report.reasons,
        [Outcome::IssuerNotAuthorised],
        "{report:#?}"
    );
    assert_eq!(failed(&report), [CheckName::IssuerAuthority], "{report:#?}");
    assert_eq!(check(&report, CheckName::Signature).0, Some(true));
    let (_, detail) = check(&report, CheckName::IssuerAuthority);
    assert!(detail.contains("impersonation"), "{detail}");
}

/// A licence whose `nbf` is beyond the skew is `not_yet_valid` and nothing else (its status is
/// still checked, and is fine); at exactly the skew it is valid.
#[test]
fn a_licence_before_its_first_day_is_not_yet_valid_and_nothing_else() {
    let f = fixture();
    let trust = f.trust();
    let skew = VerifyOptions::default().skew_seconds;
    let status = statuses(&trust, StatusValue::Valid);

    let mut early = f.zhejiang.claims();
    early.nbf = NOW.plus(skew + 1).seconds();
    let report = verify_at(&f.zhejiang.sign(&early), &trust, &status, NOW);
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(report.reasons, [Outcome::NotYetValid], "{report:#?}");
    assert_eq!(failed(&report), [CheckName::ValidityPeriod], "{report:#?}");
    assert_eq!(
        check(&report, CheckName::Status).0,
        Some(true),
        "{report:#?}"
    );

    let mut at_the_skew = f.zhejiang.claims();
    at_the_skew.nbf = NOW.plus(skew).seconds();
    let report = verify_at(&f.zhejiang.sign(&at_the_skew), &trust, &status, NOW);
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");

    // Not yet valid and revoked: both, in the order of the checks.
    let revoked = statuses(&trust, StatusValue::Revoked);
    let report = verify_at(&f.zhejiang.sign(&early), &trust, &revoked, NOW);
    assert_eq!(
        report.reasons,
        [Outcome::NotYetValid, Outcome::Revoked],
        "{report:#?}"
    );
    assert_eq!(
        failed(&report),
        [CheckName::ValidityPeriod, CheckName::Status],
        "{report:#?}"
    );
}

/// Serves one status list for every URI.
struct Serves(String);

impl Fetcher for Serves {
    fn fetch(&self, _url: &str, _etag: Option<&str>) -> Result<Fetched, FetchError> {
        Ok(Fetched::Body {
            text: self.0.clone(),
            etag: None,
        })
    }
}

/// Zhejiang's status list for `IDX` valid, signed at `NOW - 600`, with one signature byte
/// changed.
fn badly_signed_status_list() -> String {
    let f = fixture();
    let good = f.zhejiang.status_list(StatusValue::Valid, NOW.minus(600));
    let (signed, signature) = good.rsplit_once('.').unwrap();
    let mut raw = b64::decode_url(signature, 4096).unwrap();
    raw[5] ^= 0x01;
    format!("{signed}.{}", b64::encode_url(&raw))
}

/// A verifier of the fixture's trust list, with `cache` as its disk cache.
fn verifier(cache: &std::path::Path, online: bool, fetcher: Arc<dyn Fetcher>) -> Verifier {
    let f = fixture();
    let trust = trust_build::sign(&f.trust_claims, &f.operator_key, f.operator_cert.der()).unwrap();
    let trust_path = cache.join("trust-list.jwt");
    std::fs::write(&trust_path, trust).unwrap();
    Verifier::open_with(
        VerifierConfig {
            unit: None,
            trust_source: TrustSource::File(trust_path),
            operator_certs: vec![f.operator_cert.clone()],
            cache_dir: Some(cache.join("cache")),
            online,
            options: VerifyOptions::default(),
        },
        fetcher,
        NOW,
    )
    .unwrap()
}

/// `status_unknown` and `indeterminate`, the status check not passed, no list shown as used.
#[track_caller]
fn assert_status_unknown(report: &Report, how: &str) {
    assert_eq!(report.verdict, Verdict::Indeterminate, "{how}: {report:#?}");
    assert_eq!(
        report.reasons,
        [Outcome::StatusUnknown],
        "{how}: {report:#?}"
    );
    assert_eq!(
        check(report, CheckName::Status).0,
        None,
        "{how}: {report:#?}"
    );
    assert!(failed(report).is_empty(), "{how}: {report:#?}");
}

/// The only status list a verifier is offered for the licence — fetched, or found in its disk
/// cache at start — has a bad signature: the verifier never uses it, so the licence's status is
/// `status_unknown` (indeterminate), never valid.
#[test]
fn a_badly_signed_status_list_is_never_used_and_the_status_is_unknown() {
    let f = fixture();
    let token = f.zhejiang.licence_token();
    let bad = badly_signed_status_list();
    let uri = f.zhejiang.status_uri();

    let fetched = tempfile::tempdir().unwrap();
    let online = verifier(fetched.path(), true, Arc::new(Serves(bad.clone())));
    assert_status_unknown(&online.verify_fresh(&token, NOW, None), "fetched");

    let cached = tempfile::tempdir().unwrap();
    let cache_dir = cached.path().join("cache");
    std::fs::create_dir_all(&cache_dir).unwrap();
    std::fs::write(cache_dir.join(DiskCache::status_file(&uri)), bad).unwrap();
    let offline = verifier(cached.path(), false, Arc::new(NoNetwork));
    assert_status_unknown(&offline.verify(&token, NOW), "from the disk cache");

    // The same list correctly signed is used: the failure above is the signature's alone.
    let good = f.zhejiang.status_list(StatusValue::Valid, NOW.minus(600));
    let control = tempfile::tempdir().unwrap();
    let online = verifier(control.path(), true, Arc::new(Serves(good)));
    let report = online.verify_fresh(&token, NOW, None);
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
}
