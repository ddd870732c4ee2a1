//! Shared fixture for the cross-crate tests: an operator and four provinces (Zhejiang ES256,
//! Jiangsu PS256, Anhui SM2SM3 in the trust list; Shanghai outside it) made once per test
//! binary with real keys, at fixed times so nothing ever expires.

#![allow(
    dead_code,
    unused_imports,
    unused_macros,
    clippy::unwrap_used,
    clippy::expect_used
)]

/// Runs a scenario on SQLite and PostgreSQL (`TEST_POSTGRES_URL`; without it the PostgreSQL
/// variant is recorded as skipped, a failure under `CI`).
macro_rules! on_both_databases {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$scenario(super::Db::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(db) = super::Db::postgres() {
                    super::$scenario(db).await;
                }
            }
        }
    )*};
}

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, OnceLock};

use huren_crypto::alg::Algorithm;
use huren_crypto::b64;
use huren_crypto::cert::Certificate;
use huren_crypto::ids::{LicenceId, RegionCode};
use huren_crypto::jws::{sign_json_compact, HeaderParams};
use huren_crypto::licence::{Licence, LicenceClaims};
use huren_crypto::qr;
use huren_crypto::status_list::{
    StatusList, StatusListClaim, StatusListPointer, StatusReference, StatusValue,
};
use huren_crypto::status_token::{StatusListClaims, StatusTokenError, VerifiedStatusList};
use huren_crypto::time::UnixTime;
use huren_crypto::trust_list::{
    RegionStatus, RollbackError, SignerStatus, TrustList, TrustListClaims, TrustListError,
    TRUST_LIST_TYP,
};
use huren_crypto::verify::{
    verify_licence, CheckName, NoStatusLists, Outcome, Report, Verdict, VerifyOptions, Warning,
};
use huren_keys::layout::{OperatorDir, RegionDir};
pub mod cli;
pub mod fetch;
pub mod issuer;
pub mod multipart;
pub mod pki;
pub mod service;
pub mod shape;
pub mod token_model;

use huren_keys::{trust_build, PrivateKey};
use sha2::{Digest, Sha256};

/// When the PKI is made.
pub const MADE: UnixTime = UnixTime(1_795_000_000); // 2026-11-17
/// When licences are signed.
pub const SIGNED: UnixTime = UnixTime(1_795_300_000);
/// When they are verified.
pub const NOW: UnixTime = UnixTime(1_795_400_000);
/// Status list URI index within a region.
pub const IDX: u64 = 4711;

pub struct Province {
    pub dir: RegionDir,
    pub signer: PrivateKey,
    pub signer_cert: Certificate,
    pub status_signer: PrivateKey,
    pub status_cert: Vec<u8>,
}

impl Province {
    pub fn status_uri(&self) -> String {
        format!(
            "{}{}-0",
            self.dir.config.status_uri_prefix(),
            self.dir.config.code
        )
    }

    pub fn code(&self) -> RegionCode {
        self.dir.config.code.clone()
    }

    /// A licence signed by this province at `SIGNED`, with a status reference.
    pub fn licence_token(&self) -> String {
        self.sign(&self.claims())
    }

    pub fn claims(&self) -> LicenceClaims {
        self.claims_for("2026000001", sample_licence(), Some(IDX))
    }

    /// Claims signed at `SIGNED` for `licence` with serial `serial` (the `jti`'s sequence
    /// part), pointing at `idx` of this province's status list if given.
    pub fn claims_for(&self, serial: &str, licence: Licence, idx: Option<u64>) -> LicenceClaims {
        let jti =
            LicenceId::generate(&licence.type_code, &licence.issuer.code, serial, "001").unwrap();
        let status = idx.map(|idx| StatusReference {
            status_list: StatusListPointer {
                idx,
                uri: self.status_uri(),
            },
        });
        LicenceClaims::new(self.code(), jti, SIGNED, licence, status)
    }

    pub fn sign(&self, claims: &LicenceClaims) -> String {
        claims
            .sign(&self.signer, self.signer_cert.x5t_s256())
            .unwrap()
    }

    /// A status list with `IDX` set to `value`, signed at `iat`, valid a day.
    pub fn status_list(&self, value: StatusValue, iat: UnixTime) -> String {
        self.status_list_with(&[(IDX, value)], iat)
    }

    /// A status list with each `(index, value)` of `entries` set, signed at `iat`, valid a day.
    pub fn status_list_with(&self, entries: &[(u64, StatusValue)], iat: UnixTime) -> String {
        let mut list = StatusList::new(2, 1 << 17).unwrap();
        for (idx, value) in entries {
            list.set(*idx as usize, *value).unwrap();
        }
        StatusListClaims {
            sub: self.status_uri(),
            iat: iat.seconds(),
            exp: iat.plus(86_400).seconds(),
            ttl: 300,
            status_list: StatusListClaim::from_list(&list),
        }
        .sign(&self.status_signer, &self.status_cert)
        .unwrap()
    }
}

pub struct Fixture {
    pub _dir: tempfile::TempDir,
    pub operator: OperatorDir,
    pub operator_key: PrivateKey,
    pub operator_cert: Certificate,
    pub zhejiang: Province,
    pub jiangsu: Province,
    pub anhui: Province,
    /// A province that is not in the trust list.
    pub outsider: Province,
    pub trust_claims: TrustListClaims,
}

pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let operator = pki::operator(&dir.path().join("op"), "测试运营方", MADE);
        let province = |code: &str, alg| {
            let public_url = format!("https://issuer-{code}.example");
            let region = pki::province(&dir.path().join(code), code, alg, &public_url, MADE);
            let (signer, signer_cert) = region.active_signer(None).unwrap();
            let (status_signer, status_cert) = region.status_signer(None).unwrap();
            Province {
                dir: region,
                signer,
                signer_cert: Certificate::from_der(&signer_cert).unwrap(),
                status_signer,
                status_cert,
            }
        };
        let zhejiang = province("330000", Algorithm::Es256);
        let jiangsu = province("320000", Algorithm::Ps256);
        let anhui = province("340000", Algorithm::Sm2Sm3);
        let outsider = province("310000", Algorithm::Es256);
        let regions = [zhejiang.dir.clone(), jiangsu.dir.clone(), anhui.dir.clone()];
        let trust_claims = trust_build::assemble(
            "测试运营方",
            &regions,
            42,
            MADE,
            pki::TRUST_LIST_VALIDITY_SECS,
        )
        .unwrap();
        Fixture {
            operator_key: operator.key(None).unwrap(),
            operator_cert: Certificate::from_der(&operator.certificate().unwrap()).unwrap(),
            operator,
            _dir: dir,
            zhejiang,
            jiangsu,
            anhui,
            outsider,
            trust_claims,
        }
    })
}

impl Fixture {
    /// The standard trust list, verified.
    pub fn trust(&self) -> TrustList {
        self.trust_with(|_| {})
    }

    /// A trust list with `change` applied to the claims, signed through the normal builder
    /// (which refuses broken entries).
    pub fn trust_with(&self, change: impl FnOnce(&mut TrustListClaims)) -> TrustList {
        let mut claims = self.trust_claims.clone();
        change(&mut claims);
        let token =
            trust_build::sign(&claims, &self.operator_key, self.operator_cert.der()).unwrap();
        TrustList::verify(&token, std::slice::from_ref(&self.operator_cert)).unwrap()
    }

    /// A trust list signed by the operator without the builder's entry checks (an operator
    /// mistake a verifier must survive).
    pub fn trust_unchecked(&self, claims: &TrustListClaims) -> TrustList {
        let params = HeaderParams {
            typ: Some(TRUST_LIST_TYP),
            x5c: vec![self.operator_cert.der().to_vec()],
            ..HeaderParams::default()
        };
        let token = sign_json_compact(&params, claims, &self.operator_key, false).unwrap();
        TrustList::verify(&token, std::slice::from_ref(&self.operator_cert)).unwrap()
    }
}

/// 建筑业企业资质证书 of 杭州示例建设有限公司, valid 2026-11-20 to 2031-11-19.
pub fn sample_licence() -> Licence {
    licence_with("2026-11-20", "2031-11-19", default_face())
}

/// The sample licence issued on `valid_from`, valid until `valid_until`, with `face`.
pub fn licence_with(
    valid_from: &str,
    valid_until: &str,
    face: BTreeMap<String, String>,
) -> Licence {
    serde_json::from_value(serde_json::json!({
        "type_code": "11100000000013338W032",
        "type_name": "建筑业企业资质证书",
        "number": "D233012345",
        "holder": {"name": "杭州示例建设有限公司", "id_type": "001", "id": "91350100M000100Y43"},
        "issuer": {"name": "浙江省住房和城乡建设厅", "code": "11220000013544541J"},
        "issued_on": valid_from,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "face": face,
    }))
    .unwrap()
}

/// The sample licence's face: one field.
pub fn default_face() -> BTreeMap<String, String> {
    BTreeMap::from([(
        "资质类别及等级".to_owned(),
        "建筑工程施工总承包壹级".to_owned(),
    )])
}

/// Verified status lists for every province, each with `IDX` set to `value`.
pub fn statuses(trust: &TrustList, value: StatusValue) -> HashMap<String, Arc<VerifiedStatusList>> {
    let f = fixture();
    [&f.zhejiang, &f.jiangsu, &f.anhui]
        .iter()
        .map(|p| {
            let list = VerifiedStatusList::verify(
                &p.status_list(value, NOW.minus(600)),
                &p.status_uri(),
                trust,
            )
            .unwrap();
            (p.status_uri(), Arc::new(list))
        })
        .collect()
}

pub fn verify_at(
    input: &str,
    trust: &TrustList,
    status: &HashMap<String, Arc<VerifiedStatusList>>,
    at: UnixTime,
) -> Report {
    verify_licence(input, trust, status, at, &VerifyOptions::default())
}

pub fn verify_valid_status(input: &str, trust: &TrustList) -> Report {
    verify_at(input, trust, &statuses(trust, StatusValue::Valid), NOW)
}

#[track_caller]
pub fn assert_outcome(report: &Report, outcome: Outcome) {
    assert_ne!(report.verdict, Verdict::Valid, "{report:#?}");
    assert!(
        report.reasons.contains(&outcome),
        "expected {outcome}, got {:?}\n{report:#?}",
        report.reasons
    );
}
