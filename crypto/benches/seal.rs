//! Seal-signature verification throughput, single-threaded.
//!
//! ```text
//! cargo bench -p huren-crypto --bench seal
//! ```
//!
//! For SM2SM3 (the standard's algorithm) and ES256, one province with a seal maker, a seal
//! holder and a seal carrying huren's status reference; the fixture is asserted `valid`
//! before timing. Rows:
//!
//! - `seal_verify/<alg>`: `verify_seal_signature` end to end against a verified trust list,
//!   a verified status list and a CRL: decode, both signatures, every check, the document
//!   hash over a 64 KiB document, the report;
//! - `seal_steps/<alg>/…`: the parts on their own (decoding, the TBS signature alone, the
//!   document hash) to see where the time goes;
//! - `seal_sign/<alg>`: `sign_document` (hash, TBS, signature, self-check, decode).
//!
//! Every row is one operation per iteration; criterion prints time per operation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;
use huren_crypto::alg::Algorithm;
use huren_crypto::cert::Certificate;
use huren_crypto::crl::VerifiedCrl;
use huren_crypto::ids::{RegionCode, Uscc};
use huren_crypto::oids::Purpose;
use huren_crypto::seal::{
    make_seal, sign_document, verify_seal_signature, Document, EsId, PictureType, SealAlgorithm,
    SealCertificate, SealPicture, SealSignature, SealSpec, SealStatusReference, SealTrust,
    SealVerifyInput, SealVerifyOptions,
};
use huren_crypto::status_list::{StatusList, StatusListClaim};
use huren_crypto::status_token::{StatusListClaims, VerifiedStatusList};
use huren_crypto::trust_list::{
    OperatorInfo, RegionEntry, RegionStatus, TrustList, TrustListClaims,
};
use huren_crypto::verify::Verdict;
use huren_crypto::{b64, UnixTime};
use huren_keys::certificate::{issue, Profile, Subject};
use huren_keys::crl::{issue_crl, CrlContents};
use huren_keys::{trust_build, PrivateKey};

const DAY: i64 = 86_400;
/// 2026-11-22T10:00:00+08:00.
const NOW: UnixTime = UnixTime(1_795_312_800);
const STATUS_IDX: u64 = 4711;

struct Fixture {
    alg: Algorithm,
    trust: TrustList,
    status: VerifiedStatusList,
    crl: VerifiedCrl,
    seal: Vec<u8>,
    holder_key: PrivateKey,
    holder_cert: Vec<u8>,
    document: Vec<u8>,
    signature: Vec<u8>,
}

fn subject(cn: &str) -> Subject {
    Subject {
        organization: "浙江省人民政府".into(),
        common_name: cn.into(),
    }
}

fn cert(
    key: &PrivateKey,
    profile: Profile,
    issuer: Option<(&PrivateKey, &[u8])>,
    cn: &str,
) -> Vec<u8> {
    let (issuer_key, issuer_cert) = match issuer {
        Some((k, c)) => (k, Some(c)),
        None => (key, None),
    };
    let until = if issuer.is_some() { 700 } else { 3650 };
    issue(
        &subject(cn),
        &key.public_key_spki_der().unwrap(),
        profile,
        NOW.minus(30 * DAY),
        NOW.plus(until * DAY),
        issuer_cert,
        issuer_key,
        &mut rand_core::OsRng,
    )
    .unwrap()
}

impl Fixture {
    fn build(alg: Algorithm) -> Fixture {
        let key = || PrivateKey::generate(alg).unwrap();
        let root_key = key();
        let root = cert(&root_key, Profile::RootCa, None, "根证书");
        let issuer = Some((&root_key, root.as_slice()));
        let maker_key = key();
        let maker = cert(
            &maker_key,
            Profile::Leaf(Purpose::SealMaker),
            issuer,
            "制章",
        );
        let status_key = key();
        let status_cert = cert(
            &status_key,
            Profile::Leaf(Purpose::StatusSigner),
            issuer,
            "状态",
        );
        let holder_key = key();
        let holder_cert = cert(
            &holder_key,
            Profile::Leaf(Purpose::SealHolder),
            issuer,
            "签章",
        );

        let operator_key = PrivateKey::generate(Algorithm::Es256).unwrap();
        let operator = cert(&operator_key, Profile::Operator, None, "信任列表");
        let prefix = "https://issuer.zj.example/v1/status/";
        let claims = TrustListClaims {
            seq: 1,
            iat: NOW.minus(DAY).seconds(),
            next_update: NOW.plus(DAY).seconds(),
            operator: OperatorInfo {
                name: "国家政务服务平台".into(),
            },
            regions: vec![RegionEntry {
                code: RegionCode::parse("330000").unwrap(),
                name: "浙江省".into(),
                status: RegionStatus::Active,
                roots: vec![b64::encode_std(&root)],
                signers: vec![],
                status_signers: vec![b64::encode_std(&status_cert)],
                seal_makers: vec![b64::encode_std(&maker)],
                status_uri_prefix: prefix.into(),
                issuer_uri: None,
                log_key: None,
                witnesses: vec![],
                witness_quorum: 0,
            }],
            next_operator_certs: vec![],
        };
        let token = trust_build::sign(&claims, &operator_key, &operator).unwrap();
        let trust =
            TrustList::verify(&token, &[Certificate::from_der(&operator).unwrap()]).unwrap();

        let uri = format!("{prefix}seal-0");
        let list = StatusList::new(2, 1 << 17).unwrap();
        let status_token = StatusListClaims {
            sub: uri.clone(),
            iat: NOW.seconds(),
            exp: NOW.plus(DAY).seconds(),
            ttl: 3600,
            status_list: StatusListClaim::from_list(&list),
        }
        .sign(&status_key, &status_cert)
        .unwrap();
        let status = VerifiedStatusList::verify(&status_token, &uri, &trust).unwrap();

        let crl_der = issue_crl(
            &root,
            &root_key,
            &CrlContents {
                number: 1,
                this_update: NOW.plus(3600),
                next_update: NOW.plus(8 * DAY),
                entries: vec![],
            },
        )
        .unwrap();
        let crl = VerifiedCrl::verify(&crl_der, &Certificate::from_der(&root).unwrap()).unwrap();

        // A realistic picture size: the ofdrw test seal's PNG is 15.7 KB.
        let mut picture = b"\x89PNG\r\n\x1a\n".to_vec();
        picture.resize(16 * 1024, 0x5a);
        let spec = SealSpec {
            vid: "huren".into(),
            es_id: EsId::generate(&RegionCode::parse("330000").unwrap(), [9; 8]),
            seal_type: 4,
            name: "杭州示例建设有限公司合同专用章".into(),
            holder_certs: vec![holder_cert.clone()],
            create_date: NOW.minus(DAY),
            valid_start: NOW.minus(DAY),
            valid_end: NOW.plus(365 * DAY),
            picture: SealPicture {
                kind: PictureType::Png,
                data: picture,
                width_mm: 40,
                height_mm: 40,
            },
            status: Some(SealStatusReference {
                uri,
                idx: STATUS_IDX,
            }),
            uscc: Some(Uscc::parse("91350100M000100Y43").unwrap()),
        };
        let seal = make_seal(&spec, &maker_key, &maker).unwrap();
        let document = vec![0x25u8; 64 * 1024];
        let signature = sign_document(
            &seal,
            &document,
            NOW,
            "contract.pdf",
            &holder_key,
            &holder_cert,
        )
        .unwrap();
        Fixture {
            alg,
            trust,
            status,
            crl,
            seal,
            holder_key,
            holder_cert,
            document,
            signature,
        }
    }

    fn input(&self) -> SealVerifyInput<'_> {
        SealVerifyInput {
            signature: &self.signature,
            document: Document::Bytes(&self.document),
            trust: SealTrust::TrustList(&self.trust),
            seal_status: Some(&self.status),
            crls: std::slice::from_ref(&self.crl),
            at: NOW.plus(7200),
            options: SealVerifyOptions::default(),
        }
    }
}

fn main() {
    let fixtures: Vec<Fixture> = [Algorithm::Sm2Sm3, Algorithm::Es256]
        .into_iter()
        .map(Fixture::build)
        .collect();
    for f in &fixtures {
        let report = verify_seal_signature(&f.input());
        assert_eq!(report.verdict, Verdict::Valid, "{}: {report:?}", f.alg);
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
        eprintln!(
            "{}: SES_Signature {} bytes (seal {} bytes), document {} bytes",
            f.alg,
            f.signature.len(),
            f.seal.len(),
            f.document.len()
        );
    }

    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
        .configure_from_args();

    let mut group = c.benchmark_group("seal_verify");
    for f in &fixtures {
        group.bench_function(f.alg.name(), |b| {
            b.iter(|| verify_seal_signature(black_box(&f.input())))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("seal_steps");
    for f in &fixtures {
        let decoded = SealSignature::from_der(&f.signature).unwrap();
        let signer = SealCertificate::parse(decoded.signer_cert()).unwrap();
        let algorithm = SealAlgorithm::from_oid(decoded.algorithm()).unwrap();
        group.bench_function(format!("{}/decode", f.alg), |b| {
            b.iter(|| SealSignature::from_der(black_box(&f.signature)).unwrap())
        });
        group.bench_function(format!("{}/parse_signer_cert", f.alg), |b| {
            b.iter(|| SealCertificate::parse(black_box(decoded.signer_cert())).unwrap())
        });
        group.bench_function(format!("{}/tbs_signature", f.alg), |b| {
            let key = signer.public_key().unwrap();
            b.iter(|| {
                algorithm
                    .verify(key, black_box(decoded.tbs()), decoded.signature())
                    .unwrap()
            })
        });
        group.bench_function(format!("{}/document_hash_64k", f.alg), |b| {
            b.iter(|| algorithm.digest().digest(black_box(&f.document)))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("seal_sign");
    for f in &fixtures {
        group.bench_function(f.alg.name(), |b| {
            b.iter(|| {
                sign_document(
                    black_box(&f.seal),
                    &f.document,
                    NOW,
                    "contract.pdf",
                    &f.holder_key,
                    &f.holder_cert,
                )
                .unwrap()
            })
        });
    }
    group.finish();
    c.final_summary();
}
