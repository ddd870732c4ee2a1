//! The benchmarks' licences and copies: one province per algorithm under one trust list, each
//! with a verified 2^17-entry status list, a signed licence and an annotated copy of it
//! (SPEC §11, default disclosure, for one unit) — shared by `verify.rs` and its copy rows.

use std::collections::HashMap;
use std::sync::Arc;

use huren_crypto::alg::Algorithm;
use huren_crypto::b64;
use huren_crypto::cert::Certificate;
use huren_crypto::copy::{Copier, CopyClaims, CopyId, CopyMaking, CopyTerms};
use huren_crypto::deflate;
use huren_crypto::ids::{LicenceId, RegionCode, Uscc};
use huren_crypto::jws::{Limits, UnverifiedJws};
use huren_crypto::licence::{Licence, LicenceClaims};
use huren_crypto::qr;
use huren_crypto::status_list::{
    StatusList, StatusListClaim, StatusListPointer, StatusReference, StatusValue,
};
use huren_crypto::status_token::{StatusListClaims, VerifiedStatusList};
use huren_crypto::time::UnixTime;
use huren_crypto::trust_list::TrustList;
use huren_crypto::verify::{verify_licence, verify_licence_for, Report, Verdict, VerifyOptions};
use huren_keys::layout::{init_operator, init_region, InitRegion};
use huren_keys::store::Protection;
use huren_keys::{trust_build, PrivateKey};

/// Entries in each status list (SPEC §4's example size).
pub const STATUS_LIST_ENTRIES: usize = 1 << 17;
/// The licence's index in its status list.
pub const STATUS_IDX: u64 = 4711;
/// The copy's own index in the same list.
pub const COPY_IDX: u64 = 4721;
/// The unit the copies are made for (and the benchmarks verify as).
const UNIT: &str = "11320105MB12345623";

/// One province, its licence, a copy of it, and what verifying them needs.
pub struct Province {
    pub alg: Algorithm,
    pub signer: PrivateKey,
    pub signer_cert: Certificate,
    pub claims: LicenceClaims,
    pub token: String,
    pub hr1: String,
    pub copy_claims: CopyClaims,
    pub copy_token: String,
    pub copy_hr1: String,
}

pub struct Fixture {
    pub trust: TrustList,
    pub status: HashMap<String, Arc<VerifiedStatusList>>,
    pub at: UnixTime,
    pub provinces: Vec<Province>,
    unit: Uscc,
}

/// 办理异地建筑工程施工许可 for 南京市建邺区行政审批局, default disclosure, 24 hours.
fn copy_terms() -> CopyTerms {
    serde_json::from_value(serde_json::json!({
        "purpose": {"cause": "办理异地建筑工程施工许可", "category": 0,
                    "item_code": "320105-JS-001", "item_name": "建筑工程施工许可证核发"},
        "aud": {"name": "南京市建邺区行政审批局", "code": UNIT},
    }))
    .unwrap()
}

pub fn sample_licence() -> Licence {
    // As `sample_licence` in crypto/src/licence.rs tests.
    serde_json::from_value(serde_json::json!({
        "type_code": "11100000000013338W032",
        "type_name": "建筑业企业资质证书",
        "number": "D233012345",
        "holder": {"name": "杭州示例建设有限公司", "id_type": "001", "id": "91350100M000100Y43"},
        "issuer": {"name": "浙江省住房和城乡建设厅", "code": "11220000013544541J"},
        "issued_on": "2026-11-22",
        "valid_from": "2026-11-22",
        "valid_until": "2031-11-21",
        "face": {"qualification": "建筑工程施工总承包壹级"}
    }))
    .unwrap()
}

impl Fixture {
    /// A trust list of one province per algorithm in `algs` (ES256 浙江, PS256 江苏,
    /// RS256 广东, SM2SM3 北京), each with a verified status list and a signed licence.
    pub fn build(algs: &[Algorithm]) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let now = UnixTime::start_of_china_day(time::macros::date!(2026 - 11 - 22)).plus(10 * 3600);
        let operator = init_operator(
            &dir.path().join("operator"),
            "国家政务服务平台",
            Algorithm::Es256,
            Protection::Plaintext,
            now,
        )
        .unwrap();
        let specs = [
            ("330000", "浙江省", "zj", Algorithm::Es256),
            ("320000", "江苏省", "js", Algorithm::Ps256),
            ("440000", "广东省", "gd", Algorithm::Rs256),
            ("110000", "北京市", "bj", Algorithm::Sm2Sm3),
        ];
        let regions: Vec<_> = specs
            .iter()
            .filter(|spec| algs.contains(&spec.3))
            .map(|(code, name, short, alg)| {
                init_region(
                    &dir.path().join(short),
                    &InitRegion {
                        code: RegionCode::parse(code).unwrap(),
                        name: (*name).to_owned(),
                        alg: *alg,
                        public_url: format!("https://issuer.{short}.example"),
                        protection: Protection::Plaintext,
                        now,
                    },
                )
                .unwrap()
            })
            .collect();
        let claims = trust_build::assemble(
            "国家政务服务平台",
            &regions,
            1,
            now,
            trust_build::DEFAULT_VALIDITY_SECONDS,
        )
        .unwrap();
        let operator_cert = operator.certificate().unwrap();
        let token =
            trust_build::sign(&claims, &operator.key(None).unwrap(), &operator_cert).unwrap();
        let trust =
            TrustList::verify(&token, &[Certificate::from_der(&operator_cert).unwrap()]).unwrap();
        assert!(trust.problems().is_empty(), "{:?}", trust.problems());

        let mut status = HashMap::new();
        let mut provinces = Vec::new();
        for region in &regions {
            let config = &region.config;
            // The region's status list: 2^17 entries, a few revoked and suspended, not ours.
            let uri = format!("{}{}-0", config.status_uri_prefix(), config.code);
            let mut list = StatusList::new(2, STATUS_LIST_ENTRIES).unwrap();
            for i in [3usize, 17, 4710, 4712, 99_999] {
                list.set(i, StatusValue::Revoked).unwrap();
            }
            list.set(12_345, StatusValue::Suspended).unwrap();
            let (status_key, status_cert) = region.status_signer(None).unwrap();
            let list_token = StatusListClaims {
                sub: uri.clone(),
                iat: now.seconds(),
                exp: now.plus(86_400).seconds(),
                ttl: 3600,
                status_list: StatusListClaim::from_list(&list),
            }
            .sign(&status_key, &status_cert)
            .unwrap();
            let verified = VerifiedStatusList::verify(&list_token, &uri, &trust).unwrap();
            assert_eq!(verified.capacity(), STATUS_LIST_ENTRIES);
            status.insert(uri.clone(), Arc::new(verified));

            let (signer, cert_der) = region.active_signer(None).unwrap();
            let signer_cert = Certificate::from_der(&cert_der).unwrap();
            let licence = sample_licence();
            licence.check_for_issuance().unwrap();
            let jti = LicenceId::generate(
                &licence.type_code,
                &licence.issuer.code,
                "2026000001",
                "001",
            )
            .unwrap();
            let claims = LicenceClaims::new(
                config.code.clone(),
                jti,
                now,
                licence,
                Some(StatusReference {
                    status_list: StatusListPointer {
                        idx: STATUS_IDX,
                        uri: uri.clone(),
                    },
                }),
            );
            let token = claims.sign(&signer, signer_cert.x5t_s256()).unwrap();
            let hr1 = qr::encode(&token).unwrap();
            let copy_claims = copy_terms()
                .make(
                    &claims,
                    CopyMaking {
                        id: CopyId::from_random([0x5a; 16]),
                        iat: now,
                        copier: Copier {
                            name: "浙江政务服务网".into(),
                        },
                        copy_status: Some(StatusReference {
                            status_list: StatusListPointer { idx: COPY_IDX, uri },
                        }),
                        face_disclosable: &|_| true,
                    },
                )
                .unwrap();
            let copy_token = copy_claims.sign(&signer, signer_cert.x5t_s256()).unwrap();
            let copy_hr1 = qr::encode(&copy_token).unwrap();
            provinces.push(Province {
                alg: config.alg,
                signer,
                signer_cert,
                claims,
                token,
                hr1,
                copy_claims,
                copy_token,
                copy_hr1,
            });
        }
        Fixture {
            trust,
            status,
            at: now.plus(3600),
            provinces,
            unit: Uscc::parse(UNIT).unwrap(),
        }
    }

    pub fn province(&self, alg: Algorithm) -> &Province {
        self.provinces.iter().find(|p| p.alg == alg).unwrap()
    }

    pub fn verify(&self, input: &str) -> Report {
        verify_licence(
            input,
            &self.trust,
            &self.status,
            self.at,
            &VerifyOptions::default(),
        )
    }

    /// A copy, verified by the unit it was made for (every check runs, none warns).
    pub fn verify_copy(&self, input: &str) -> Report {
        verify_licence_for(
            input,
            &self.trust,
            &self.status,
            self.at,
            &VerifyOptions::default(),
            Some(&self.unit),
        )
    }

    /// Every licence verifies as valid from both input forms, with every check run and passed.
    pub fn assert_valid(&self) {
        for p in &self.provinces {
            for input in [&p.hr1, &p.token, &format!("{}\r\n", p.hr1)] {
                let report = self.verify(input);
                assert_eq!(report.verdict, Verdict::Valid, "{}: {report:?}", p.alg);
                assert!(report.reasons.is_empty() && report.warnings.is_empty());
                assert!(
                    report.checks.iter().all(|c| c.ok == Some(true)),
                    "{report:?}"
                );
                assert_eq!(report.status_lists.len(), 1);
                assert_eq!(report.status_lists[0].idx, STATUS_IDX);
                assert_eq!(report.claims.as_deref(), Some(&p.claims));
            }
            for input in [&p.copy_hr1, &p.copy_token] {
                let report = self.verify_copy(input);
                assert_eq!(report.verdict, Verdict::Valid, "{}: {report:?}", p.alg);
                assert!(report.reasons.is_empty() && report.warnings.is_empty());
                assert_eq!(report.checks.len(), 14);
                assert!(report.checks.iter().all(|c| c.ok == Some(true)));
                assert_eq!(report.status_lists.len(), 2);
            }
        }
    }

    pub fn print_sizes(&self) {
        eprintln!();
        eprintln!("licence token sizes (sample_licence, status reference, x5t#S256 header):");
        eprintln!(
            "  {:<7} {:>10} {:>8} {:>10} {:>10} {:>6} {:>8} {:>9}",
            "alg", "key", "JSON B", "deflate B", "sig B", "zip", "JWS B", "HR1 chars"
        );
        for p in &self.provinces {
            let jws = UnverifiedJws::parse(&p.token, Limits::LICENCE).unwrap();
            let json = serde_json::to_vec(&p.claims).unwrap();
            let signature = signature_bytes(&p.token);
            let key = p.signer_cert.public_key();
            eprintln!(
                "  {:<7} {:>10} {:>8} {:>10} {:>10} {:>6} {:>8} {:>9}",
                p.alg.name(),
                format!("{}-{}", key.kind(), key.bits()),
                json.len(),
                deflate::deflate(&json).len(),
                signature.len(),
                if jws.header().zip { "DEF" } else { "no" },
                p.token.len(),
                p.hr1.len(),
            );
        }
        eprintln!("annotated copies of them (default disclosure, one unit):");
        for p in &self.provinces {
            let json = serde_json::to_vec(&p.copy_claims).unwrap();
            eprintln!(
                "  {:<7} {:>10} {:>8} {:>10} {:>10} {:>6} {:>8} {:>9}",
                p.alg.name(),
                "",
                json.len(),
                deflate::deflate(&json).len(),
                signature_bytes(&p.copy_token).len(),
                "",
                p.copy_token.len(),
                p.copy_hr1.len(),
            );
        }
        eprintln!();
    }
}

/// The decoded signature of a compact JWS.
pub fn signature_bytes(token: &str) -> Vec<u8> {
    let (_, signature) = token.rsplit_once('.').unwrap();
    b64::decode_url(signature, 4096).unwrap()
}
