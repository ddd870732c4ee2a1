//! Electronic seals end to end: making seals and sealing documents with huren keys, verifying
//! them against a trust list (one negative case per outcome code), the two real-world files in
//! `tests/interop/ses/` (a copy of ../shared/interop/ses/), byte-exact re-encoding, and property tests for the decoders.
//!
//! All times are fixed (2026-11-22 10:00 China time), so the vectors never expire.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use der::asn1::{BitString, Ia5String, OctetString};
use der::{Decode, Encode};
use huren_crypto::alg::Algorithm;
use huren_crypto::cert::Certificate;
use huren_crypto::crl::VerifiedCrl;
use huren_crypto::ids::{RegionCode, Uscc};
use huren_crypto::oids::Purpose;
use huren_crypto::seal::asn1::{self as wire, ExtData, RawOid, SealTime, TimeKind};
use huren_crypto::seal::build::{self, seal_info};
use huren_crypto::seal::v1::{self as v1wire, BitsOrOctets};
use huren_crypto::seal::{
    inspect, make_seal, sign_document, verify_seal_signature, Document, EsId, PictureType, Seal,
    SealAlgorithm, SealFile, SealOutcome, SealPicture, SealSignature, SealSpec,
    SealStatusReference, SealTrust, SealVerifyInput, SealVerifyOptions, SealVersion, SealWarning,
};
use huren_crypto::status_list::{StatusList, StatusListClaim, StatusValue};
use huren_crypto::status_token::{StatusListClaims, VerifiedStatusList};
use huren_crypto::trust_list::{
    OperatorInfo, RegionEntry, RegionStatus, TrustList, TrustListClaims,
};
use huren_crypto::verify::Verdict;
use huren_crypto::{b64, Signer, UnixTime};
use huren_keys::certificate::{issue, Profile, Subject};
use huren_keys::crl::{issue_crl, CrlContents, CrlEntry};
use huren_keys::{trust_build, PrivateKey};

const DAY: i64 = 86_400;
/// 2026-11-22T10:00:00+08:00.
const NOW: UnixTime = UnixTime(1_795_312_800);
const DOCUMENT: &[u8] = b"%PDF-1.7 contract between two companies";
const STATUS_IDX: u64 = 4711;

fn png() -> Vec<u8> {
    let mut data = b"\x89PNG\r\n\x1a\n".to_vec();
    data.extend_from_slice(&[0u8; 64]);
    data
}

struct Region {
    code: &'static str,
    root_key: PrivateKey,
    root_cert: Vec<u8>,
    maker_key: PrivateKey,
    maker_cert: Vec<u8>,
    status_key: PrivateKey,
    status_cert: Vec<u8>,
}

struct Holder {
    key: PrivateKey,
    cert: Vec<u8>,
}

fn subject(o: &str, cn: &str) -> Subject {
    Subject {
        organization: o.into(),
        common_name: cn.into(),
    }
}

fn leaf(
    root: (&PrivateKey, &[u8]),
    alg: Algorithm,
    purpose: Purpose,
    cn: &str,
    from: UnixTime,
    until: UnixTime,
) -> (PrivateKey, Vec<u8>) {
    let key = PrivateKey::generate(alg).unwrap();
    let cert = issue(
        &subject("测试单位", cn),
        &key.public_key_spki_der().unwrap(),
        Profile::Leaf(purpose),
        from,
        until,
        Some(root.1),
        root.0,
        &mut rand_core::OsRng,
    )
    .unwrap();
    (key, cert)
}

impl Region {
    fn new(code: &'static str, alg: Algorithm) -> Region {
        let root_key = PrivateKey::generate(alg).unwrap();
        let root_cert = issue(
            &subject(code, "根证书"),
            &root_key.public_key_spki_der().unwrap(),
            Profile::RootCa,
            NOW.minus(30 * DAY),
            NOW.plus(3650 * DAY),
            None,
            &root_key,
            &mut rand_core::OsRng,
        )
        .unwrap();
        let (from, until) = (NOW.minus(30 * DAY), NOW.plus(700 * DAY));
        let root = (&root_key, root_cert.as_slice());
        let (maker_key, maker_cert) =
            leaf(root, alg, Purpose::SealMaker, "电子印章制章", from, until);
        let (status_key, status_cert) =
            leaf(root, alg, Purpose::StatusSigner, "状态签发", from, until);
        Region {
            code,
            root_key,
            root_cert,
            maker_key,
            maker_cert,
            status_key,
            status_cert,
        }
    }

    fn holder(&self, alg: Algorithm, from: UnixTime, until: UnixTime) -> Holder {
        let (key, cert) = leaf(
            (&self.root_key, &self.root_cert),
            alg,
            Purpose::SealHolder,
            "杭州示例建设有限公司",
            from,
            until,
        );
        Holder { key, cert }
    }

    fn status_prefix(&self) -> String {
        format!("https://issuer.{}.example/v1/status/", self.code)
    }

    fn entry(&self, status: RegionStatus) -> RegionEntry {
        RegionEntry {
            code: RegionCode::parse(self.code).unwrap(),
            name: RegionCode::parse(self.code).unwrap().province_name().into(),
            status,
            roots: vec![b64::encode_std(&self.root_cert)],
            signers: vec![],
            status_signers: vec![b64::encode_std(&self.status_cert)],
            seal_makers: vec![b64::encode_std(&self.maker_cert)],
            status_uri_prefix: self.status_prefix(),
            issuer_uri: None,
            log_key: None,
            witnesses: vec![],
            witness_quorum: 0,
        }
    }

    fn crl(&self, revoked: &[(&[u8], UnixTime)], this_update: UnixTime) -> VerifiedCrl {
        self.crl_with_reason(revoked, this_update, None)
    }

    fn crl_with_reason(
        &self,
        revoked: &[(&[u8], UnixTime)],
        this_update: UnixTime,
        reason: Option<huren_crypto::crl::RevocationReason>,
    ) -> VerifiedCrl {
        let contents = CrlContents {
            number: 1,
            this_update,
            next_update: this_update.plus(7 * DAY),
            entries: revoked
                .iter()
                .map(|(serial, at)| CrlEntry {
                    serial: serial.to_vec(),
                    revoked_at: *at,
                    reason,
                })
                .collect(),
        };
        let der = issue_crl(&self.root_cert, &self.root_key, &contents).unwrap();
        VerifiedCrl::verify(&der, &Certificate::from_der(&self.root_cert).unwrap()).unwrap()
    }

    fn status_list(
        &self,
        trust: &TrustList,
        value: StatusValue,
        iat: UnixTime,
    ) -> VerifiedStatusList {
        let mut list = StatusList::new(2, 1 << 13).unwrap();
        list.set(STATUS_IDX as usize, value).unwrap();
        let uri = format!("{}seal-0", self.status_prefix());
        let claims = StatusListClaims {
            sub: uri.clone(),
            iat: iat.seconds(),
            exp: iat.plus(DAY).seconds(),
            ttl: 3600,
            status_list: StatusListClaim::from_list(&list),
        };
        let token = claims.sign(&self.status_key, &self.status_cert).unwrap();
        VerifiedStatusList::verify(&token, &uri, trust).unwrap()
    }
}

fn trust_list(regions: &[(&Region, RegionStatus)], next_update: UnixTime) -> TrustList {
    let operator_key = PrivateKey::generate(Algorithm::Es256).unwrap();
    let operator_cert = issue(
        &subject("国家政务服务平台", "信任列表"),
        &operator_key.public_key_spki_der().unwrap(),
        Profile::Operator,
        NOW.minus(30 * DAY),
        NOW.plus(700 * DAY),
        None,
        &operator_key,
        &mut rand_core::OsRng,
    )
    .unwrap();
    let claims = TrustListClaims {
        seq: 7,
        iat: NOW.minus(DAY).seconds(),
        next_update: next_update.seconds(),
        operator: OperatorInfo {
            name: "国家政务服务平台".into(),
        },
        regions: regions.iter().map(|(r, s)| r.entry(*s)).collect(),
        next_operator_certs: vec![],
    };
    let token = trust_build::sign(&claims, &operator_key, &operator_cert).unwrap();
    TrustList::verify(&token, &[Certificate::from_der(&operator_cert).unwrap()]).unwrap()
}

fn spec(region: &str, holders: Vec<Vec<u8>>, status: bool) -> SealSpec {
    let code = RegionCode::parse(region).unwrap();
    SealSpec {
        vid: "huren".into(),
        es_id: EsId::generate(&code, [3; 8]),
        seal_type: 4,
        name: "杭州示例建设有限公司合同专用章".into(),
        holder_certs: holders,
        create_date: NOW.minus(DAY),
        valid_start: NOW.minus(DAY),
        valid_end: NOW.plus(365 * DAY),
        picture: SealPicture {
            kind: PictureType::Png,
            data: png(),
            width_mm: 40,
            height_mm: 40,
        },
        status: status.then(|| SealStatusReference {
            uri: format!("https://issuer.{region}.example/v1/status/seal-0"),
            idx: STATUS_IDX,
        }),
        uscc: Some(Uscc::parse("91350100M000100Y43").unwrap()),
    }
}

/// One province (浙江, 330000) with a holder, its trust list, a CRL and a good status list.
struct World {
    zj: Region,
    holder: Holder,
    trust: TrustList,
    crl: VerifiedCrl,
    status: VerifiedStatusList,
}

impl World {
    fn new(alg: Algorithm) -> World {
        let zj = Region::new("330000", alg);
        let holder = zj.holder(alg, NOW.minus(30 * DAY), NOW.plus(700 * DAY));
        let trust = trust_list(&[(&zj, RegionStatus::Active)], NOW.plus(DAY));
        let crl = zj.crl(&[], NOW.plus(3600));
        let status = zj.status_list(&trust, StatusValue::Valid, NOW);
        World {
            zj,
            holder,
            trust,
            crl,
            status,
        }
    }

    fn seal(&self, spec: &SealSpec) -> Vec<u8> {
        make_seal(spec, &self.zj.maker_key, &self.zj.maker_cert).unwrap()
    }

    fn default_seal(&self) -> Vec<u8> {
        self.seal(&spec("330000", vec![self.holder.cert.clone()], true))
    }

    fn sign(&self, seal: &[u8], at: UnixTime) -> Vec<u8> {
        sign_document(
            seal,
            DOCUMENT,
            at,
            "contract.pdf",
            &self.holder.key,
            &self.holder.cert,
        )
        .unwrap()
    }

    fn verify(&self, signature: &[u8]) -> huren_crypto::seal::SealReport {
        verify_seal_signature(&self.input(signature))
    }

    fn input<'a>(&'a self, signature: &'a [u8]) -> SealVerifyInput<'a> {
        SealVerifyInput {
            signature,
            document: Document::Bytes(DOCUMENT),
            trust: SealTrust::TrustList(&self.trust),
            seal_status: Some(&self.status),
            crls: std::slice::from_ref(&self.crl),
            at: NOW.plus(7200),
            options: SealVerifyOptions::default(),
        }
    }
}

fn assert_valid(report: &huren_crypto::seal::SealReport) {
    assert_eq!(
        report.verdict,
        Verdict::Valid,
        "{}",
        serde_json::to_string_pretty(report).unwrap()
    );
    assert!(report.reasons.is_empty());
    assert!(
        report.checks.iter().all(|c| c.ok == Some(true)),
        "{report:?}"
    );
}

fn assert_reason(report: &huren_crypto::seal::SealReport, outcome: SealOutcome) {
    assert!(
        report.reasons.contains(&outcome),
        "expected {outcome}: {}",
        serde_json::to_string_pretty(report).unwrap()
    );
    let expected = if outcome.is_indeterminate() {
        Verdict::Indeterminate
    } else {
        Verdict::Invalid
    };
    if report
        .reasons
        .iter()
        .all(|r| r.is_indeterminate() == outcome.is_indeterminate())
    {
        assert_eq!(report.verdict, expected);
    }
}

// ------------------------------------------------------------------------------------------
// Round trips
// ------------------------------------------------------------------------------------------

fn round_trip(alg: Algorithm) {
    let world = World::new(alg);
    let seal = world.default_seal();
    let signature = world.sign(&seal, NOW);
    let report = world.verify(&signature);
    assert_valid(&report);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let view = report.seal.as_ref().unwrap();
    assert_eq!(view.name, "杭州示例建设有限公司合同专用章");
    assert_eq!(view.version, 4);
    assert!(view.es_id.starts_with("330000"));
    assert_eq!(
        report.signed_at.as_deref(),
        Some("2026-11-22T10:00:00+08:00")
    );

    // The signature is DER and the hash follows the algorithm.
    let decoded = SealSignature::from_der(&signature).unwrap();
    let seal_alg = SealAlgorithm::for_signer(alg);
    assert!(decoded.algorithm().is(&seal_alg.oid()));
    assert_eq!(decoded.data_hash(), seal_alg.digest().digest(DOCUMENT));
    assert_eq!(decoded.seal().der(), seal.as_slice());
    if matches!(alg, Algorithm::Es256 | Algorithm::Sm2Sm3) {
        assert_eq!(decoded.signature()[0], 0x30, "ECDSA-Sig-Value");
    }

    // A precomputed digest works the same.
    let hash = decoded.digest_algorithm().unwrap().digest(DOCUMENT);
    let mut input = world.input(&signature);
    input.document = Document::Digest(&hash);
    assert_valid(&verify_seal_signature(&input));
}

#[test]
fn sm2_seal_made_applied_and_verified() {
    round_trip(Algorithm::Sm2Sm3);
}

#[test]
fn es256_seal_made_applied_and_verified() {
    round_trip(Algorithm::Es256);
}

#[test]
fn rsa_pss_seal_made_applied_and_verified() {
    round_trip(Algorithm::Ps256);
}

#[test]
fn rsa_pkcs1_seal_made_applied_and_verified() {
    round_trip(Algorithm::Rs256);
}

#[test]
fn what_we_encode_decodes_and_reencodes_byte_for_byte() {
    let world = World::new(Algorithm::Es256);
    let seal = world.default_seal();
    let signature = world.sign(&seal, NOW);
    let seal_wire = wire::SeSeal::from_der(&seal).unwrap();
    assert_eq!(seal_wire.to_der().unwrap(), seal);
    let sig_wire = wire::SesSignature::from_der(&signature).unwrap();
    assert_eq!(sig_wire.to_der().unwrap(), signature);
    // And the signed parts are the sub-slices of what was received.
    let decoded = SealSignature::from_der(&signature).unwrap();
    assert!(contains(&signature, decoded.tbs()));
    assert!(contains(&seal, decoded.seal().seal_info_der()));
    // The extensions came through.
    let known = decoded.seal().known_extensions().unwrap();
    assert_eq!(known.status.unwrap().idx, STATUS_IDX);
    assert_eq!(known.uscc.unwrap().as_str(), "91350100M000100Y43");
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

// ------------------------------------------------------------------------------------------
// One negative vector per outcome code
// ------------------------------------------------------------------------------------------

fn replace_once(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("pattern present");
    let mut out = bytes.to_vec();
    out[at..at + to.len()].copy_from_slice(to);
    out
}

#[test]
fn garbage_is_seal_malformed() {
    let world = World::new(Algorithm::Es256);
    let report = world.verify(b"\x30\x03\x02\x01\x04");
    assert_reason(&report, SealOutcome::SealMalformed);
    assert_eq!(report.checks.len(), 9);
    assert!(report.checks[1..].iter().all(|c| c.ok.is_none()));
    assert!(report.seal.is_none() && report.signer_subject.is_none());
}

#[test]
fn unknown_critical_seal_extension_is_seal_malformed() {
    let world = World::new(Algorithm::Es256);
    let spec = spec("330000", vec![world.holder.cert.clone()], false);
    let info = seal_info(&spec).unwrap();
    let (mut value, _) = info.into_parts();
    let mut exts = value.ext_datas.take().unwrap().items().to_vec();
    exts.push(ExtData {
        extn_id: RawOid::from_dotted("1.2.156.99999.1").unwrap(),
        critical: true,
        extn_value: OctetString::new(vec![0x05, 0x00]).unwrap(),
    });
    value.ext_datas = Some(wire::Bounded::new(exts).unwrap());
    let seal = sign_seal_info(&world.zj, value);
    let report = world.verify(&world.sign(&seal, NOW));
    assert_reason(&report, SealOutcome::SealMalformed);
    assert!(report.checks[0]
        .detail
        .as_deref()
        .unwrap()
        .contains("critical"));
}

/// Signs an arbitrary seal info with the region's maker.
fn sign_seal_info(region: &Region, info: wire::SealInfo) -> Vec<u8> {
    let info = wire::Signed::new(info).unwrap();
    let alg = SealAlgorithm::for_signer(region.maker_key.algorithm());
    let sig = alg
        .signature_from_jws(region.maker_key.sign(info.der()).unwrap())
        .unwrap();
    build::assemble_seal(info, &region.maker_cert, alg, &sig).unwrap()
}

/// Signs a TBS with `holder` but writes `oid` as the algorithm.
fn sign_tbs_as(holder: &Holder, tbs: wire::Signed<wire::TbsSign>, oid: RawOid) -> Vec<u8> {
    let alg = SealAlgorithm::for_signer(holder.key.algorithm());
    let sig = alg
        .signature_from_jws(holder.key.sign(tbs.der()).unwrap())
        .unwrap();
    wire::SesSignature {
        to_sign: tbs,
        cert: OctetString::new(holder.cert.clone()).unwrap(),
        signature_alg_id: oid,
        signature: BitString::from_bytes(&sig).unwrap(),
        time_stamp: None,
    }
    .to_der()
    .unwrap()
}

fn tbs(seal: &[u8], alg: Algorithm, at: UnixTime) -> wire::Signed<wire::TbsSign> {
    let hash = SealAlgorithm::for_signer(alg).digest().digest(DOCUMENT);
    build::tbs_sign(seal, &hash, at, "contract.pdf").unwrap()
}

#[test]
fn unaccepted_signature_algorithm_is_unsupported_algorithm() {
    let world = World::new(Algorithm::Es256);
    let seal = world.default_seal();
    let ecdsa_sha384 = RawOid::from_dotted("1.2.840.10045.4.3.3").unwrap();
    let signature = sign_tbs_as(
        &world.holder,
        tbs(&seal, Algorithm::Es256, NOW),
        ecdsa_sha384,
    );
    assert_reason(&world.verify(&signature), SealOutcome::UnsupportedAlgorithm);
    // An algorithm that does not fit the key is refused the same way.
    let sm2 = RawOid::from_oid(&SealAlgorithm::Sm2Sm3.oid());
    let signature = sign_tbs_as(&world.holder, tbs(&seal, Algorithm::Es256, NOW), sm2);
    assert_reason(&world.verify(&signature), SealOutcome::UnsupportedAlgorithm);
}

#[test]
fn altered_tbs_is_bad_signature() {
    let world = World::new(Algorithm::Sm2Sm3);
    let signature = world.sign(&world.default_seal(), NOW);
    let altered = replace_once(&signature, b"contract.pdf", b"contrakt.pdf");
    let report = world.verify(&altered);
    assert_reason(&report, SealOutcome::BadSignature);
    assert_eq!(report.reasons, [SealOutcome::BadSignature]);
    assert!(report.signer_subject.is_none() && report.signed_at.is_none());
}

#[test]
fn holder_not_listed_in_the_seal_is_signer_not_in_seal() {
    let world = World::new(Algorithm::Es256);
    let other = world
        .zj
        .holder(Algorithm::Es256, NOW.minus(DAY), NOW.plus(300 * DAY));
    let seal = world.default_seal();
    assert!(matches!(
        sign_document(&seal, DOCUMENT, NOW, "x", &other.key, &other.cert),
        Err(build::SealBuildError::HolderNotInSeal)
    ));
    let oid = RawOid::from_oid(&SealAlgorithm::EcdsaSha256.oid());
    let signature = sign_tbs_as(&other, tbs(&seal, Algorithm::Es256, NOW), oid);
    let report = world.verify(&signature);
    assert_reason(&report, SealOutcome::SignerNotInSeal);
    assert_eq!(report.reasons, [SealOutcome::SignerNotInSeal]);
}

#[test]
fn altered_seal_is_seal_bad_signature() {
    let world = World::new(Algorithm::Es256);
    let seal = world.default_seal();
    let forged = replace_once(&seal, "合同专用章".as_bytes(), "财务专用章".as_bytes());
    // The holder signs over the forged seal: the TBS signature is fine, the seal's is not.
    let signature = world.sign(&forged, NOW);
    let report = world.verify(&signature);
    assert_reason(&report, SealOutcome::SealBadSignature);
    assert_eq!(report.reasons, [SealOutcome::SealBadSignature]);
    assert!(report.seal.is_none(), "an unverified seal is not shown");
    let maker_check = &report.checks[6];
    assert_eq!(maker_check.ok, None);
}

#[test]
fn maker_from_another_pki_is_maker_not_trusted() {
    let world = World::new(Algorithm::Es256);
    let signature = world.sign(&world.default_seal(), NOW);
    let stranger = Region::new("330000", Algorithm::Es256);
    let trust = trust_list(&[(&stranger, RegionStatus::Active)], NOW.plus(DAY));
    let mut input = world.input(&signature);
    input.trust = SealTrust::TrustList(&trust);
    input.seal_status = None;
    let report = verify_seal_signature(&input);
    assert_reason(&report, SealOutcome::MakerNotTrusted);
    // Explicit trust: nothing trusted, then the right maker.
    input.trust = SealTrust::Makers(&[]);
    assert_reason(&verify_seal_signature(&input), SealOutcome::MakerNotTrusted);
    let makers = [world.zj.maker_cert.clone()];
    input.trust = SealTrust::Makers(&makers);
    input.seal_status = Some(&world.status);
    assert_valid(&verify_seal_signature(&input));
}

#[test]
fn seal_for_another_region_is_maker_wrong_region() {
    let world = World::new(Algorithm::Es256);
    let js = Region::new("320000", Algorithm::Es256);
    let trust = trust_list(
        &[
            (&world.zj, RegionStatus::Active),
            (&js, RegionStatus::Active),
        ],
        NOW.plus(DAY),
    );
    // 浙江's maker makes a seal whose esID says 江苏.
    let mut spec = spec("320000", vec![world.holder.cert.clone()], false);
    spec.es_id = EsId::generate(&RegionCode::parse("320000").unwrap(), [5; 8]);
    let signature = world.sign(&world.seal(&spec), NOW);
    let mut input = world.input(&signature);
    input.trust = SealTrust::TrustList(&trust);
    let report = verify_seal_signature(&input);
    assert_reason(&report, SealOutcome::MakerWrongRegion);
    assert_eq!(report.reasons, [SealOutcome::MakerWrongRegion]);
}

#[test]
fn suspended_region_is_region_suspended() {
    let world = World::new(Algorithm::Es256);
    let trust = trust_list(&[(&world.zj, RegionStatus::Suspended)], NOW.plus(DAY));
    let status = world.zj.status_list(&trust, StatusValue::Valid, NOW);
    let signature = world.sign(&world.default_seal(), NOW);
    let mut input = world.input(&signature);
    input.trust = SealTrust::TrustList(&trust);
    input.seal_status = Some(&status);
    let report = verify_seal_signature(&input);
    assert_eq!(report.reasons, [SealOutcome::RegionSuspended]);
    assert_eq!(report.verdict, Verdict::Invalid);
}

#[test]
fn stale_trust_list_is_trust_list_stale_and_indeterminate() {
    let world = World::new(Algorithm::Es256);
    let signature = world.sign(&world.default_seal(), NOW);
    let mut input = world.input(&signature);
    input.at = NOW.plus(2 * DAY);
    let status = world
        .zj
        .status_list(&world.trust, StatusValue::Valid, NOW.plus(2 * DAY));
    input.seal_status = Some(&status);
    let report = verify_seal_signature(&input);
    assert_eq!(report.reasons, [SealOutcome::TrustListStale]);
    assert_eq!(report.verdict, Verdict::Indeterminate);
    assert_eq!(report.checks[4].ok, None);
    // Grace covers it.
    input.options.trust_list_grace_seconds = 2 * DAY;
    assert_valid(&verify_seal_signature(&input));
}

#[test]
fn signing_before_the_seal_is_valid_is_seal_not_yet_valid_at_signing() {
    let world = World::new(Algorithm::Es256);
    let mut spec = spec("330000", vec![world.holder.cert.clone()], true);
    spec.valid_start = NOW.plus(DAY);
    let signature = world.sign(&world.seal(&spec), NOW);
    let report = world.verify(&signature);
    assert_eq!(report.reasons, [SealOutcome::SealNotYetValidAtSigning]);
    // A seal made after the signing time it claims is as impossible.
    let mut spec = self::spec("330000", vec![world.holder.cert.clone()], true);
    spec.create_date = NOW.plus(60);
    let signature = world.sign(&world.seal(&spec), NOW);
    assert_eq!(
        world.verify(&signature).reasons,
        [SealOutcome::SealNotYetValidAtSigning]
    );
}

#[test]
fn signing_after_the_seal_ended_is_seal_expired_at_signing() {
    let world = World::new(Algorithm::Es256);
    let mut spec = spec("330000", vec![world.holder.cert.clone()], true);
    spec.valid_end = NOW.minus(3600);
    spec.create_date = NOW.minus(DAY);
    let signature = world.sign(&world.seal(&spec), NOW);
    let report = world.verify(&signature);
    assert_eq!(report.reasons, [SealOutcome::SealExpiredAtSigning]);
}

#[test]
fn revoked_suspended_and_unknown_seal_status() {
    let world = World::new(Algorithm::Es256);
    let signature = world.sign(&world.default_seal(), NOW);
    for (value, outcome) in [
        (StatusValue::Revoked, SealOutcome::SealRevoked),
        (StatusValue::Suspended, SealOutcome::SealSuspended),
    ] {
        let list = world.zj.status_list(&world.trust, value, NOW);
        let mut input = world.input(&signature);
        input.seal_status = Some(&list);
        let report = verify_seal_signature(&input);
        assert_eq!(report.reasons, [outcome]);
        assert_eq!(report.verdict, Verdict::Invalid);
    }
    // No list for a seal that names one: indeterminate.
    let mut input = world.input(&signature);
    input.seal_status = None;
    let report = verify_seal_signature(&input);
    assert_eq!(report.reasons, [SealOutcome::SealStatusUnknown]);
    assert_eq!(report.verdict, Verdict::Indeterminate);
    // An expired list is as good as none.
    let old = world
        .zj
        .status_list(&world.trust, StatusValue::Valid, NOW.minus(3 * DAY));
    input.seal_status = Some(&old);
    assert_eq!(
        verify_seal_signature(&input).reasons,
        [SealOutcome::SealStatusUnknown]
    );
    // A seal without a status reference needs no list.
    let plain = world.sign(
        &world.seal(&spec("330000", vec![world.holder.cert.clone()], false)),
        NOW,
    );
    let mut input = world.input(&plain);
    input.seal_status = None;
    assert_valid(&verify_seal_signature(&input));
}

#[test]
fn seal_made_outside_the_maker_certificate_is_maker_certificate_invalid() {
    let world = World::new(Algorithm::Es256);
    let mut spec = spec("330000", vec![world.holder.cert.clone()], true);
    spec.create_date = NOW.minus(60 * DAY);
    spec.valid_start = NOW.minus(60 * DAY);
    let signature = world.sign(&world.seal(&spec), NOW);
    let report = world.verify(&signature);
    assert_eq!(report.reasons, [SealOutcome::MakerCertificateInvalid]);
}

#[test]
fn signing_after_the_holder_certificate_expired_is_signer_certificate_invalid() {
    let world = World::new(Algorithm::Es256);
    let short = world
        .zj
        .holder(Algorithm::Es256, NOW.minus(DAY), NOW.plus(10 * DAY));
    let seal = world.seal(&spec("330000", vec![short.cert.clone()], false));
    let later = NOW.plus(20 * DAY);
    let signature = sign_document(
        &seal,
        DOCUMENT,
        later,
        "contract.pdf",
        &short.key,
        &short.cert,
    )
    .unwrap();
    let report = world.verify(&signature);
    // Checked before the claimed signing time: nothing is judged at a future time.
    assert_eq!(
        report.reasons,
        [
            SealOutcome::SigningTimeInFuture,
            SealOutcome::SignerCertificateInvalid
        ]
    );
    // Judged at that time instead (an archive check), only the certificate's expiry remains.
    let mut input = world.input(&signature);
    input.at = later.plus(DAY);
    let report = verify_seal_signature(&input);
    assert!(report
        .reasons
        .contains(&SealOutcome::SignerCertificateInvalid));
    assert!(!report.reasons.contains(&SealOutcome::SigningTimeInFuture));
}

#[test]
fn a_signing_time_after_the_check_is_refused_even_when_everything_else_holds() {
    // A holder may write any timeInfo; a future one would otherwise let a seal or certificate
    // that is not valid yet pass today.
    let world = World::new(Algorithm::Es256);
    let signature = world.sign(&world.default_seal(), NOW.plus(DAY));
    let report = world.verify(&signature);
    assert_eq!(report.reasons, [SealOutcome::SigningTimeInFuture]);
    assert_eq!(report.verdict, Verdict::Invalid);
}

#[test]
fn holder_revoked_before_signing_is_invalid_and_after_signing_only_a_warning() {
    let world = World::new(Algorithm::Sm2Sm3);
    let signature = world.sign(&world.default_seal(), NOW);
    let serial = SealSignature::from_der(&signature)
        .map(|s| {
            huren_crypto::seal::SealCertificate::parse(s.signer_cert())
                .unwrap()
                .serial()
                .to_vec()
        })
        .unwrap();
    let before = world.zj.crl(&[(&serial, NOW.minus(60))], NOW.plus(3600));
    let mut input = world.input(&signature);
    input.crls = std::slice::from_ref(&before);
    let report = verify_seal_signature(&input);
    assert_eq!(report.reasons, [SealOutcome::SignerRevokedBeforeSigning]);

    let after = world.zj.crl_with_reason(
        &[(&serial, NOW.plus(60))],
        NOW.plus(3600),
        Some(huren_crypto::crl::RevocationReason::Superseded),
    );
    input.crls = std::slice::from_ref(&after);
    let report = verify_seal_signature(&input);
    assert_valid(&report);
    assert_eq!(report.warnings, [SealWarning::SignerRevokedAfterSigning]);

    // Revoked after the claimed signing time but for key compromise: whoever has the key can
    // write any timeInfo (no verified time-stamp), so it counts as revoked before signing.
    let compromised = world.zj.crl_with_reason(
        &[(&serial, NOW.plus(60))],
        NOW.plus(3600),
        Some(huren_crypto::crl::RevocationReason::KeyCompromise),
    );
    input.crls = std::slice::from_ref(&compromised);
    let report = verify_seal_signature(&input);
    assert_eq!(report.reasons, [SealOutcome::SignerKeyCompromised]);
    assert_eq!(report.verdict, Verdict::Invalid);
    // A newer list of the same CA is preferred over an older one that lacks the revocation.
    let older = world.zj.crl(&[], NOW.plus(1800));
    let newer = world.zj.crl(&[(&serial, NOW.minus(60))], NOW.plus(3600));
    let both = [older, newer];
    input.crls = &both;
    assert_eq!(
        verify_seal_signature(&input).reasons,
        [SealOutcome::SignerRevokedBeforeSigning]
    );

    // No CRL: undecided, never valid (fail closed).
    input.crls = &[];
    let report = verify_seal_signature(&input);
    assert_eq!(report.reasons, [SealOutcome::SignerRevocationUnknown]);
    assert_eq!(report.verdict, Verdict::Indeterminate);
    // A current CRL issued before the signing: valid, with a warning that it is older.
    let old = world.zj.crl(&[], NOW.minus(DAY));
    input.crls = std::slice::from_ref(&old);
    let report = verify_seal_signature(&input);
    assert_valid(&report);
    assert_eq!(report.warnings, [SealWarning::CrlPredatesSigning]);
}

/// The reasons and warnings as their stable codes (what the JSON report says).
fn codes(report: &huren_crypto::seal::SealReport) -> (String, Vec<String>, Vec<String>) {
    let json = serde_json::to_value(report).unwrap();
    let list = |key: &str| {
        json[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    (
        json["verdict"].as_str().unwrap().to_owned(),
        list("reasons"),
        list("warnings"),
    )
}

/// The signer certificate's serial in a seal signature.
fn signer_serial(signature: &[u8]) -> Vec<u8> {
    let decoded = SealSignature::from_der(signature).unwrap();
    huren_crypto::seal::SealCertificate::parse(decoded.signer_cert())
        .unwrap()
        .serial()
        .to_vec()
}

#[test]
fn without_a_crl_for_the_signer_the_verdict_is_indeterminate_never_valid() {
    // Offline, a failed fetch, or a CLI run without --crl: whether the holder's key was
    // revoked before the signing is unknown, so the signature cannot be called valid.
    let world = World::new(Algorithm::Es256);
    let signature = world.sign(&world.default_seal(), NOW);
    let mut input = world.input(&signature);
    input.crls = &[];
    let (verdict, reasons, _) = codes(&verify_seal_signature(&input));
    assert_eq!(verdict, "indeterminate");
    assert_eq!(reasons, ["signer_revocation_unknown"]);
    let report = verify_seal_signature(&input);
    let signer = report
        .checks
        .iter()
        .find(|c| c.check == huren_crypto::seal::verify::SealCheckName::SignerCertificate)
        .unwrap();
    assert_eq!(signer.ok, None, "{signer:?}");

    // A CRL of another CA says nothing about this certificate.
    let other = Region::new("320000", Algorithm::Es256);
    let foreign = other.crl(&[], NOW.plus(3600));
    input.crls = std::slice::from_ref(&foreign);
    assert_eq!(
        codes(&verify_seal_signature(&input)).1,
        ["signer_revocation_unknown"]
    );
}

#[test]
fn a_crl_past_its_next_update_is_indeterminate() {
    let world = World::new(Algorithm::Es256);
    let signature = world.sign(&world.default_seal(), NOW);
    let mut input = world.input(&signature);
    // Issued ten days ago, due seven days after that: three days stale at the check.
    let stale = world.zj.crl(&[], NOW.minus(10 * DAY));
    input.crls = std::slice::from_ref(&stale);
    let (verdict, reasons, _) = codes(&verify_seal_signature(&input));
    assert_eq!(verdict, "indeterminate");
    assert_eq!(reasons, ["signer_revocation_unknown"]);
    // A fresh list issued before the signing is current: valid, and it says the list is older.
    let before = world.zj.crl(&[], NOW.minus(DAY));
    input.crls = std::slice::from_ref(&before);
    let (verdict, reasons, warnings) = codes(&verify_seal_signature(&input));
    assert_eq!((verdict.as_str(), reasons.len()), ("valid", 0));
    assert_eq!(warnings, ["crl_predates_signing"]);
}

#[test]
fn a_crl_entry_without_reason_or_unspecified_counts_as_key_compromise() {
    use huren_crypto::crl::RevocationReason as R;
    let world = World::new(Algorithm::Sm2Sm3);
    let signature = world.sign(&world.default_seal(), NOW);
    let serial = signer_serial(&signature);
    // Revoked a minute after the claimed signing time: the holder of a compromised key can
    // write any timeInfo, so only a benign reason leaves the signature standing.
    for reason in [None, Some(R::Unspecified), Some(R::KeyCompromise)] {
        let crl = world
            .zj
            .crl_with_reason(&[(&serial, NOW.plus(60))], NOW.plus(3600), reason);
        let mut input = world.input(&signature);
        input.crls = std::slice::from_ref(&crl);
        let (verdict, reasons, _) = codes(&verify_seal_signature(&input));
        assert_eq!(verdict, "invalid", "{reason:?}");
        assert_eq!(reasons, ["signer_key_compromised"], "{reason:?}");
    }
}

#[test]
fn every_revocation_reason_after_signing_has_a_fixed_fail_closed_verdict() {
    use huren_crypto::crl::RevocationReason as R;
    let world = World::new(Algorithm::Es256);
    let signature = world.sign(&world.default_seal(), NOW);
    let serial = signer_serial(&signature);
    let expected: [(Option<R>, &str, &str); 10] = [
        (None, "invalid", "signer_key_compromised"),
        (Some(R::Unspecified), "invalid", "signer_key_compromised"),
        (Some(R::KeyCompromise), "invalid", "signer_key_compromised"),
        (Some(R::CaCompromise), "invalid", "signer_key_compromised"),
        (Some(R::AaCompromise), "invalid", "signer_key_compromised"),
        (
            Some(R::PrivilegeWithdrawn),
            "invalid",
            "signer_key_compromised",
        ),
        (
            Some(R::CertificateHold),
            "indeterminate",
            "signer_revocation_unknown",
        ),
        (Some(R::Superseded), "valid", ""),
        (Some(R::CessationOfOperation), "valid", ""),
        (Some(R::AffiliationChanged), "valid", ""),
    ];
    for (reason, verdict, code) in expected {
        let crl = world
            .zj
            .crl_with_reason(&[(&serial, NOW.plus(60))], NOW.plus(3600), reason);
        let mut input = world.input(&signature);
        input.crls = std::slice::from_ref(&crl);
        let (got, reasons, warnings) = codes(&verify_seal_signature(&input));
        assert_eq!(got, verdict, "{reason:?}");
        if code.is_empty() {
            assert!(reasons.is_empty(), "{reason:?}: {reasons:?}");
            assert_eq!(warnings, ["signer_revoked_after_signing"], "{reason:?}");
        } else {
            assert_eq!(reasons, [code], "{reason:?}");
        }
        // Revoked at or before the signing, whatever the reason: invalid.
        let crl = world
            .zj
            .crl_with_reason(&[(&serial, NOW.minus(60))], NOW.plus(3600), reason);
        let mut input = world.input(&signature);
        input.crls = std::slice::from_ref(&crl);
        let (got, reasons, _) = codes(&verify_seal_signature(&input));
        assert_eq!(
            (got.as_str(), reasons),
            ("invalid", vec!["signer_revoked_before_signing".to_owned()]),
            "{reason:?}"
        );
    }
    // A benign revocation after the signing, read from a list past its nextUpdate: the
    // reason may since have become keyCompromise, so it is undecided.
    let superseded = world.zj.crl_with_reason(
        &[(&serial, NOW.plus(60))],
        NOW.plus(3600),
        Some(R::Superseded),
    );
    let mut input = world.input(&signature);
    input.crls = std::slice::from_ref(&superseded);
    input.at = NOW.plus(9 * DAY);
    let (got, reasons, _) = codes(&verify_seal_signature(&input));
    assert_eq!(got, "indeterminate", "{reasons:?}");
    assert!(
        reasons.contains(&"signer_revocation_unknown".to_owned()),
        "{reasons:?}"
    );
}

#[test]
fn another_document_is_document_hash_mismatch() {
    let world = World::new(Algorithm::Es256);
    let signature = world.sign(&world.default_seal(), NOW);
    let mut input = world.input(&signature);
    input.document = Document::Bytes(b"%PDF-1.7 a different contract");
    let report = verify_seal_signature(&input);
    assert_eq!(report.reasons, [SealOutcome::DocumentHashMismatch]);
}

#[test]
fn report_json_has_the_spec_shape() {
    let world = World::new(Algorithm::Es256);
    let signature = world.sign(&world.default_seal(), NOW);
    let json = serde_json::to_value(world.verify(&signature)).unwrap();
    let keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
    let mut expected = [
        "verdict",
        "reasons",
        "warnings",
        "checks",
        "seal",
        "signer_subject",
        "signed_at",
    ];
    expected.sort_unstable();
    let mut keys = keys;
    keys.sort();
    assert_eq!(keys, expected);
    assert_eq!(json["verdict"], "valid");
    let names: Vec<_> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "format",
            "signature",
            "signer_in_seal",
            "seal_signature",
            "maker_trusted",
            "seal_validity",
            "maker_certificate",
            "signer_certificate",
            "document_hash"
        ]
    );
    let seal = json["seal"].as_object().unwrap();
    let mut seal_keys: Vec<_> = seal.keys().cloned().collect();
    seal_keys.sort();
    assert_eq!(
        seal_keys,
        [
            "esID",
            "maker_subject",
            "name",
            "type",
            "valid_end",
            "valid_start",
            "version"
        ]
    );
    assert_eq!(json["seal"]["valid_start"], "2026-11-21T10:00:00+08:00");
    assert!(json["checks"][0].get("detail").is_some());
}

// ------------------------------------------------------------------------------------------
// Building refuses what verifiers would refuse
// ------------------------------------------------------------------------------------------

#[test]
fn building_checks_its_inputs() {
    let world = World::new(Algorithm::Es256);
    let good = spec("330000", vec![world.holder.cert.clone()], false);
    let mut empty_name = good.clone();
    empty_name.name = " ".into();
    let mut no_holders = good.clone();
    no_holders.holder_certs.clear();
    let mut not_png = good.clone();
    not_png.picture.data = b"GIF89a".to_vec();
    let mut backwards = good.clone();
    backwards.valid_end = backwards.valid_start;
    let mut huge = good.clone();
    huge.picture.width_mm = 1000;
    for bad in [empty_name, no_holders, not_png, backwards, huge] {
        assert!(make_seal(&bad, &world.zj.maker_key, &world.zj.maker_cert).is_err());
    }
    // A maker certificate whose key is not the signer's kind.
    let sm2 = PrivateKey::generate(Algorithm::Sm2Sm3).unwrap();
    assert!(matches!(
        make_seal(&good, &sm2, &world.zj.maker_cert),
        Err(build::SealBuildError::Certificate { .. })
    ));
    // A key that is not the certificate's: the self-check catches it.
    let other = PrivateKey::generate(Algorithm::Es256).unwrap();
    assert!(matches!(
        make_seal(&good, &other, &world.zj.maker_cert),
        Err(build::SealBuildError::SelfCheck(_))
    ));
    // SVG pictures are accepted.
    let mut svg = good;
    svg.picture = SealPicture {
        kind: PictureType::Svg,
        data: br#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40"/>"#.to_vec(),
        width_mm: 42,
        height_mm: 42,
    };
    let seal = make_seal(&svg, &world.zj.maker_key, &world.zj.maker_cert).unwrap();
    assert_eq!(
        Seal::from_der(&seal).unwrap().picture().kind.as_str(),
        "SVG"
    );
}

// ------------------------------------------------------------------------------------------
// GM/T 0031 (v1)
// ------------------------------------------------------------------------------------------

fn utc(at: UnixTime) -> SealTime {
    let generalized = SealTime::generalized(at).unwrap();
    SealTime::parse(TimeKind::Utc, &generalized.text()[2..]).unwrap()
}

/// A v1 seal and signature, as GM/T 0031 producers make them (zone-less timeInfo text).
fn v1_signature(world: &World, maker_key: &PrivateKey, maker_cert: &[u8]) -> Vec<u8> {
    let holder = v1wire::CertEntryV1::Cert(OctetString::new(world.holder.cert.clone()).unwrap());
    v1_signature_with(
        world,
        maker_key,
        maker_cert,
        vec![holder],
        V1Forms::default(),
    )
}

/// How a v1 producer deviates from the standard.
#[derive(Default, Clone, Copy)]
struct V1Forms {
    /// The maker signs DER(SES_SealInfo) alone instead of SEQUENCE{info, cert, alg}.
    maker_over_info_alone: bool,
    /// The signer signs the digest of DER(TBS_Sign) instead of TBS_Sign.
    signer_over_digest: bool,
}

/// A v1 signature whose seal lists `cert_list`, written in the given forms.
fn v1_signature_with(
    world: &World,
    maker_key: &PrivateKey,
    maker_cert: &[u8],
    cert_list: Vec<v1wire::CertEntryV1>,
    forms: V1Forms,
) -> Vec<u8> {
    let alg = SealAlgorithm::for_signer(maker_key.algorithm());
    let info = wire::Signed::new(v1wire::SealInfoV1 {
        header: wire::SesHeader {
            id: Ia5String::new("ES").unwrap(),
            version: 1,
            vid: Ia5String::new("legacy").unwrap(),
        },
        es_id: Ia5String::new("330000LEGACY0001").unwrap(),
        property: v1wire::PropertyInfoV1 {
            seal_type: 1,
            name: "旧式印章".into(),
            cert_list: wire::Bounded::new(cert_list).unwrap(),
            create_date: utc(NOW.minus(DAY)),
            valid_start: utc(NOW.minus(DAY)),
            valid_end: utc(NOW.plus(DAY)),
        },
        picture: wire::PictureInfo {
            kind: Ia5String::new("PNG").unwrap(),
            data: OctetString::new(png()).unwrap(),
            width: 40,
            height: 40,
        },
        ext_datas: None,
    })
    .unwrap();
    let mut sign_info = v1wire::SignInfoV1 {
        cert: wire::Signed::new(OctetString::new(maker_cert.to_vec()).unwrap()).unwrap(),
        signature_algorithm: wire::Signed::new(RawOid::from_oid(&alg.oid())).unwrap(),
        sign_data: BitString::from_bytes(&[]).unwrap(),
    };
    let mut seal = v1wire::SeSealV1 {
        seal_info: info,
        sign_info: sign_info.clone(),
    };
    let message = if forms.maker_over_info_alone {
        seal.seal_info.der().to_vec()
    } else {
        seal.signed_message().unwrap()
    };
    let signature = alg
        .signature_from_jws(maker_key.sign(&message).unwrap())
        .unwrap();
    sign_info.sign_data = BitString::from_bytes(&signature).unwrap();
    seal.sign_info = sign_info;

    let holder_alg = SealAlgorithm::for_signer(world.holder.key.algorithm());
    let tbs = wire::Signed::new(v1wire::TbsSignV1 {
        version: 1,
        eseal: wire::Signed::new(seal).unwrap(),
        // 2026-11-22 10:00 China time, written as ofdrw writes it.
        time_info: BitsOrOctets::Bits(BitString::from_bytes(b"2026-11-22 10:00:00").unwrap()),
        data_hash: BitsOrOctets::Bits(
            BitString::from_bytes(&holder_alg.digest().digest(DOCUMENT)).unwrap(),
        ),
        property_info: Ia5String::new("contract.pdf").unwrap(),
        cert: OctetString::new(world.holder.cert.clone()).unwrap(),
        signature_algorithm: RawOid::from_oid(&holder_alg.oid()),
    })
    .unwrap();
    let message = if forms.signer_over_digest {
        holder_alg.digest().digest(tbs.der())
    } else {
        tbs.der().to_vec()
    };
    let signature = holder_alg
        .signature_from_jws(world.holder.key.sign(&message).unwrap())
        .unwrap();
    v1wire::SesSignatureV1 {
        to_sign: tbs,
        signature: BitString::from_bytes(&signature).unwrap(),
    }
    .to_der()
    .unwrap()
}

#[test]
fn gmt0031_v1_signatures_decode_and_verify() {
    let world = World::new(Algorithm::Sm2Sm3);
    let signature = v1_signature(&world, &world.zj.maker_key, &world.zj.maker_cert);
    let decoded = SealSignature::from_der(&signature).unwrap();
    assert_eq!(decoded.version(), SealVersion::V1);
    assert_eq!(decoded.signing_time().at, NOW);
    assert!(decoded.signing_time().zoneless);
    assert_eq!(decoded.seal().version(), SealVersion::V1);
    // Re-encodes exactly, and the embedded seal decodes alone as a v1 .esl.
    let wire = v1wire::SesSignatureV1::from_der(&signature).unwrap();
    assert_eq!(wire.to_der().unwrap(), signature);
    let esl = Seal::from_der(decoded.seal().der()).unwrap();
    assert_eq!(esl.name(), "旧式印章");

    let makers = [world.zj.maker_cert.clone()];
    let mut input = world.input(&signature);
    input.trust = SealTrust::Makers(&makers);
    input.seal_status = None;
    let report = verify_seal_signature(&input);
    assert_valid(&report);
    assert_eq!(report.warnings, [SealWarning::ZonelessSigningTime]);
    assert_eq!(report.seal.unwrap().version, 1);

    let json = inspect::inspect_json(&signature).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(
        json["seal"]["property"]["create_date"]["asn1_type"],
        "UTCTime"
    );

    // Tampering with the seal breaks the maker's signature over SEQUENCE{info, cert, alg}.
    let forged = replace_once(&signature, "旧式".as_bytes(), "新式".as_bytes());
    let report = verify_seal_signature(&SealVerifyInput {
        signature: &forged,
        ..input
    });
    assert!(report.reasons.contains(&SealOutcome::BadSignature));
}

fn check_of(
    report: &huren_crypto::seal::SealReport,
    name: &str,
) -> huren_crypto::seal::verify::SealCheck {
    report
        .checks
        .iter()
        .find(|c| serde_json::to_value(c.check).unwrap() == name)
        .unwrap()
        .clone()
}

/// The committed fixture of a v1 signature whose certList holds an IA5String instead of
/// certificates (no such real file is available): `tests/fixtures/ses-v1-ia5-certlist/`.
fn ia5_fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/ses-v1-ia5-certlist")
}

/// An IA5String where a certificate belongs (ASCII text naming the holder).
fn ia5_entry() -> v1wire::CertEntryV1 {
    let text = "SN=4711;CN=hangzhou-example-construction";
    v1wire::CertEntryV1::Other(
        der::asn1::Any::new(der::Tag::Ia5String, text.as_bytes().to_vec()).unwrap(),
    )
}

#[test]
fn a_v1_cert_list_holding_an_ia5string_is_read_and_every_other_check_runs() {
    let world = World::new(Algorithm::Sm2Sm3);
    let signature = v1_signature_with(
        &world,
        &world.zj.maker_key,
        &world.zj.maker_cert,
        vec![ia5_entry()],
        V1Forms::default(),
    );
    let decoded = SealSignature::from_der(&signature).expect("an SES structure, read leniently");
    assert_eq!(decoded.seal().non_cert_entries().len(), 1);
    assert_eq!(decoded.seal().non_cert_entries()[0].asn1_type, "IA5String");
    // Re-encodes byte for byte (the maker signed these bytes).
    let wire = v1wire::SesSignatureV1::from_der(&signature).unwrap();
    assert_eq!(wire.to_der().unwrap(), signature);

    let makers = [world.zj.maker_cert.clone()];
    let mut input = world.input(&signature);
    input.trust = SealTrust::Makers(&makers);
    input.seal_status = None;
    let report = verify_seal_signature(&input);
    let (verdict, reasons, _) = codes(&report);
    assert_eq!(verdict, "indeterminate", "{report:#?}");
    assert_eq!(reasons, ["signer_in_seal_unknown"]);
    let in_seal = check_of(&report, "signer_in_seal");
    assert_eq!(in_seal.ok, None);
    assert!(in_seal.detail.unwrap().contains("IA5String"));
    for name in [
        "format",
        "signature",
        "seal_signature",
        "maker_trusted",
        "seal_validity",
        "maker_certificate",
        "signer_certificate",
        "document_hash",
    ] {
        assert_eq!(
            check_of(&report, name).ok,
            Some(true),
            "{name}: {report:#?}"
        );
    }
    // inspect shows the entry as found.
    let json = inspect::inspect_json(&signature).unwrap();
    let entry = &json["seal"]["property"]["non_certificate_entries"][0];
    assert_eq!(entry["asn1_type"], "IA5String");
    assert_eq!(entry["text"], "SN=4711;CN=hangzhou-example-construction");

    // Beside a real certificate of the signer, the entry does not matter: valid.
    let holder = v1wire::CertEntryV1::Cert(OctetString::new(world.holder.cert.clone()).unwrap());
    let mixed = v1_signature_with(
        &world,
        &world.zj.maker_key,
        &world.zj.maker_cert,
        vec![ia5_entry(), holder],
        V1Forms::default(),
    );
    assert_valid(&verify_seal_signature(&SealVerifyInput {
        signature: &mixed,
        ..input
    }));
}

#[test]
fn a_v1_cert_list_entry_that_is_a_bare_certificate_counts_as_one() {
    let world = World::new(Algorithm::Es256);
    let bare = der::asn1::Any::from_der(&world.holder.cert).unwrap();
    let signature = v1_signature_with(
        &world,
        &world.zj.maker_key,
        &world.zj.maker_cert,
        vec![v1wire::CertEntryV1::Other(bare)],
        V1Forms::default(),
    );
    let makers = [world.zj.maker_cert.clone()];
    let mut input = world.input(&signature);
    input.trust = SealTrust::Makers(&makers);
    input.seal_status = None;
    assert_valid(&verify_seal_signature(&input));
}

#[test]
fn the_ia5string_cert_list_fixture_is_what_its_generator_makes() {
    // HUREN_WRITE_FIXTURES=1 regenerates the committed files (new keys each time).
    let dir = ia5_fixture_dir();
    if std::env::var_os("HUREN_WRITE_FIXTURES").is_some() {
        let world = World::new(Algorithm::Sm2Sm3);
        let signature = v1_signature_with(
            &world,
            &world.zj.maker_key,
            &world.zj.maker_cert,
            vec![ia5_entry()],
            V1Forms::default(),
        );
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("SignedValue.dat"), &signature).unwrap();
        std::fs::write(dir.join("document.pdf"), DOCUMENT).unwrap();
        std::fs::write(dir.join("maker.crt.der"), &world.zj.maker_cert).unwrap();
    }
    let signature = std::fs::read(dir.join("SignedValue.dat")).unwrap();
    let document = std::fs::read(dir.join("document.pdf")).unwrap();
    let maker = std::fs::read(dir.join("maker.crt.der")).unwrap();
    let decoded = SealSignature::from_der(&signature).expect("read leniently, not 'not a seal'");
    assert_eq!(decoded.version(), SealVersion::V1);
    assert_eq!(decoded.seal().non_cert_entries()[0].asn1_type, "IA5String");
    let makers = [maker];
    let report = verify_seal_signature(&SealVerifyInput {
        signature: &signature,
        document: Document::Bytes(&document),
        trust: SealTrust::Makers(&makers),
        seal_status: None,
        crls: &[],
        at: NOW.plus(7200),
        options: SealVerifyOptions::default(),
    });
    let (verdict, reasons, _) = codes(&report);
    assert_eq!(verdict, "indeterminate");
    // No CRL of the holder's CA ships with the fixture.
    assert_eq!(
        reasons,
        ["signer_in_seal_unknown", "signer_revocation_unknown"]
    );
    for name in [
        "signature",
        "seal_signature",
        "maker_trusted",
        "document_hash",
    ] {
        assert_eq!(
            check_of(&report, name).ok,
            Some(true),
            "{name}: {report:#?}"
        );
    }
}

#[test]
fn a_v1_seal_signed_over_its_seal_info_alone_verifies_with_a_warning() {
    let world = World::new(Algorithm::Sm2Sm3);
    let forms = V1Forms {
        maker_over_info_alone: true,
        ..V1Forms::default()
    };
    let holder = v1wire::CertEntryV1::Cert(OctetString::new(world.holder.cert.clone()).unwrap());
    let signature = v1_signature_with(
        &world,
        &world.zj.maker_key,
        &world.zj.maker_cert,
        vec![holder],
        forms,
    );
    let makers = [world.zj.maker_cert.clone()];
    let mut input = world.input(&signature);
    input.trust = SealTrust::Makers(&makers);
    input.seal_status = None;
    let report = verify_seal_signature(&input);
    assert_valid(&report);
    let (_, _, warnings) = codes(&report);
    assert!(
        warnings.contains(&"nonstandard_signed_content".to_owned()),
        "{warnings:?}"
    );
}

#[test]
fn a_v4_seal_signed_over_info_cert_and_algorithm_verifies_with_a_warning() {
    let world = World::new(Algorithm::Es256);
    let spec = spec("330000", vec![world.holder.cert.clone()], true);
    let info = seal_info(&spec).unwrap();
    let alg = SealAlgorithm::for_signer(world.zj.maker_key.algorithm());
    let mut message = Vec::new();
    message.extend_from_slice(info.der());
    message.extend_from_slice(
        &OctetString::new(world.zj.maker_cert.clone())
            .unwrap()
            .to_der()
            .unwrap(),
    );
    message.extend_from_slice(&RawOid::from_oid(&alg.oid()).to_der().unwrap());
    let message = [
        der::Header::new(der::Tag::Sequence, message.len())
            .unwrap()
            .to_der()
            .unwrap(),
        message,
    ]
    .concat();
    let sig = alg
        .signature_from_jws(world.zj.maker_key.sign(&message).unwrap())
        .unwrap();
    let seal = build::assemble_seal(info, &world.zj.maker_cert, alg, &sig).unwrap();
    let signature = world.sign(&seal, NOW);
    let report = world.verify(&signature);
    assert_valid(&report);
    assert_eq!(codes(&report).2, ["nonstandard_signed_content"]);
    // Any other message still does not verify.
    let forged = replace_once(&signature, "合同专用章".as_bytes(), "财务专用章".as_bytes());
    assert!(world
        .verify(&forged)
        .reasons
        .contains(&SealOutcome::BadSignature));
}

#[test]
fn a_tbs_signed_over_its_digest_verifies_with_a_warning() {
    for alg in [Algorithm::Sm2Sm3, Algorithm::Es256, Algorithm::Ps256] {
        let world = World::new(alg);
        let seal = world.default_seal();
        let tbs = tbs(&seal, alg, NOW);
        let seal_alg = SealAlgorithm::for_signer(alg);
        let digest = seal_alg.digest().digest(tbs.der());
        let sig = seal_alg
            .signature_from_jws(world.holder.key.sign(&digest).unwrap())
            .unwrap();
        let signature = wire::SesSignature {
            to_sign: tbs,
            cert: OctetString::new(world.holder.cert.clone()).unwrap(),
            signature_alg_id: RawOid::from_oid(&seal_alg.oid()),
            signature: BitString::from_bytes(&sig).unwrap(),
            time_stamp: None,
        }
        .to_der()
        .unwrap();
        let report = world.verify(&signature);
        assert_valid(&report);
        assert_eq!(codes(&report).2, ["nonstandard_signed_content"], "{alg:?}");
        assert!(check_of(&report, "signature")
            .detail
            .unwrap()
            .contains("digest"));
    }
    // And in v1.
    let world = World::new(Algorithm::Sm2Sm3);
    let holder = v1wire::CertEntryV1::Cert(OctetString::new(world.holder.cert.clone()).unwrap());
    let forms = V1Forms {
        signer_over_digest: true,
        ..V1Forms::default()
    };
    let signature = v1_signature_with(
        &world,
        &world.zj.maker_key,
        &world.zj.maker_cert,
        vec![holder],
        forms,
    );
    let makers = [world.zj.maker_cert.clone()];
    let mut input = world.input(&signature);
    input.trust = SealTrust::Makers(&makers);
    input.seal_status = None;
    assert_valid(&verify_seal_signature(&input));
}

// ------------------------------------------------------------------------------------------
// Real-world files (ofdrw test resources, vendored in tests/interop/ses/ from ../shared/interop/)
// ------------------------------------------------------------------------------------------

fn interop(dir: &str, file: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/interop/ses")
        .join(dir)
        .join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn interop_checks(dir: &str) -> (Vec<u8>, Vec<u8>, SealSignature) {
    let signature = interop(dir, "SignedValue.dat");
    let document = interop(dir, "Signature.xml");
    let decoded = SealSignature::from_der(&signature).unwrap();
    (signature, document, decoded)
}

fn check(report: &huren_crypto::seal::SealReport, name: &str) -> Option<bool> {
    let json = serde_json::to_value(report).unwrap();
    json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .and_then(|c| c["ok"].as_bool())
}

fn interop_verdicts(dir: &str, signed_at: &str) {
    let (signature, document, decoded) = interop_checks(dir);
    assert_eq!(decoded.version(), SealVersion::V4);
    // No trust: not valid, yet every signature and the hash verify.
    let input = SealVerifyInput {
        signature: &signature,
        document: Document::Bytes(&document),
        trust: SealTrust::Makers(&[]),
        seal_status: None,
        crls: &[],
        // Checked as an archive would, at the time the sample was signed.
        at: decoded.signing_time().at,
        options: SealVerifyOptions::default(),
    };
    let report = verify_seal_signature(&input);
    assert_eq!(
        report.reasons,
        [
            SealOutcome::MakerNotTrusted,
            SealOutcome::SignerRevocationUnknown
        ],
        "{report:?}"
    );
    for name in [
        "format",
        "signature",
        "signer_in_seal",
        "seal_signature",
        "document_hash",
    ] {
        assert_eq!(check(&report, name), Some(true), "{name}: {report:?}");
    }
    assert_eq!(report.signed_at.as_deref(), Some(signed_at));
    // Its own maker trusted: every check passes at the signing time except revocation, which
    // no CRL of the signer's CA can settle here: indeterminate, never valid.
    let makers = [decoded.seal().maker_cert().to_vec()];
    let report = verify_seal_signature(&SealVerifyInput {
        trust: SealTrust::Makers(&makers),
        ..input
    });
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:?}");
    assert_eq!(report.reasons, [SealOutcome::SignerRevocationUnknown]);
    assert_eq!(check(&report, "signer_certificate"), None);
    assert_eq!(report.warnings, []);
    // Checked today, long after everything expired, the judgement at signing time stands.
    let today = verify_seal_signature(&SealVerifyInput {
        trust: SealTrust::Makers(&makers),
        at: NOW,
        ..input
    });
    assert_eq!(today.reasons, [SealOutcome::SignerRevocationUnknown]);
    // Another document does not match.
    let other = verify_seal_signature(&SealVerifyInput {
        document: Document::Bytes(b"<ofd:Signature/>"),
        trust: SealTrust::Makers(&makers),
        ..input
    });
    assert_eq!(
        other.reasons,
        [
            SealOutcome::SignerRevocationUnknown,
            SealOutcome::DocumentHashMismatch
        ]
    );
}

#[test]
fn ofdrw_v4_ride_right_verifies() {
    interop_verdicts("V4RideRight", "2021-05-19T20:53:44+08:00");
    let (signature, _, decoded) = interop_checks("V4RideRight");
    let seal = decoded.seal();
    assert_eq!(seal.es_id(), "51f044b76510434e9bc67a1185c2fba5");
    assert_eq!(seal.name(), "OFD R&W 测试用印章");
    assert_eq!(seal.header().vid.as_str(), "OFDR&WTest");
    assert_eq!(seal.seal_type(), 3);
    assert_eq!(seal.picture().kind.as_str(), "PNG");
    assert_eq!((seal.picture().width, seal.picture().height), (40, 40));
    assert_eq!(seal.valid_start().text(), "20200422020900Z");
    assert_eq!(seal.region(), None);
    assert_eq!(decoded.property_info(), "/Doc_0/Signs/Sign_0/Signature.xml");
    // The stand-alone Seal.esl is byte-identical to the embedded seal.
    let esl = interop("V4RideRight", "Seal.esl");
    assert_eq!(Seal::from_der(&esl).unwrap().der(), seal.der());
    // Both files re-encode byte for byte.
    assert_eq!(
        wire::SesSignature::from_der(&signature)
            .unwrap()
            .to_der()
            .unwrap(),
        signature
    );
    assert_eq!(wire::SeSeal::from_der(&esl).unwrap().to_der().unwrap(), esl);
    // Maker and signer are different certificates with the same subject.
    assert_ne!(seal.maker_cert(), decoded.signer_cert());
}

#[test]
fn ofdrw_sign_scale_error_verifies() {
    interop_verdicts("SignScaleError", "2022-10-31T14:16:35+08:00");
    let (signature, _, decoded) = interop_checks("SignScaleError");
    let seal = decoded.seal();
    assert_eq!(seal.name(), "浙江省电子发票(票据)综合服务平台专用章");
    assert_eq!(seal.header().vid.as_str(), "antchain");
    // The picture is an OFD package (a zip), not an image.
    assert_eq!(seal.picture().kind.as_str(), "ofd");
    assert!(seal.picture().data.as_bytes().starts_with(b"PK\x03\x04"));
    // Signer = maker = the seal's only holder certificate.
    assert_eq!(seal.maker_cert(), decoded.signer_cert());
    assert_eq!(
        wire::SesSignature::from_der(&signature)
            .unwrap()
            .to_der()
            .unwrap(),
        signature
    );
}

#[test]
fn interop_files_inspect_with_every_field() {
    let json = inspect::inspect_json(&interop("V4RideRight", "SignedValue.dat")).unwrap();
    assert_eq!(json["kind"], "signature");
    assert_eq!(json["version"], 4);
    let seal = &json["seal"];
    assert_eq!(seal["header"]["id"], "ES");
    assert_eq!(seal["esID"], "51f044b76510434e9bc67a1185c2fba5");
    assert_eq!(seal["property"]["cert_list_type"], 1);
    let holder = &seal["property"]["certificates"][0];
    assert_eq!(
        holder["subject"],
        "CN=Test Certificate,L=Hangzhou,ST=Zhejiang,O=OFD R&W,C=CN"
    );
    assert_eq!(holder["serial"], "01719D2DAB60");
    assert_eq!(holder["not_after"], "2022-04-21T22:39:08+08:00");
    assert_eq!(holder["key"], "SM2 256");
    assert_eq!(holder["strict_der"], true);
    assert!(holder["der_base64"]
        .as_str()
        .unwrap()
        .starts_with("MIICDDCCAbGg"));
    assert_eq!(seal["picture"]["type"], "PNG");
    assert_eq!(seal["picture"]["size"], 15693);
    assert_eq!(seal["signature_algorithm"]["name"], "SM2-with-SM3");
    let sig = &json["signature"];
    assert_eq!(sig["time_info"]["text"], "20210519125344Z");
    assert_eq!(
        sig["data_hash_hex"],
        "ae1da781338c9f33f34c468ced77698ebb33ca2732d69da2ecc253657ab3d568"
    );
    assert_eq!(sig["data_hash_algorithm"], "SM3");
    assert_eq!(sig["time_stamp_base64"], serde_json::Value::Null);

    let json = inspect::inspect_json(&interop("V4RideRight", "Seal.esl")).unwrap();
    assert_eq!(json["kind"], "seal");
    assert!(json.get("signature").is_none());
    assert_eq!(json["seal"]["maker_certificate"]["serial"], "01719D2E201D");

    let json = inspect::inspect_json(&interop("SignScaleError", "SignedValue.dat")).unwrap();
    let signer = &json["signature"]["signer_certificate"];
    assert_eq!(
        signer["subject"],
        "CN=国家税务总局浙江省税务局,OU=国家税务总局浙江省税务局,L=杭州,ST=浙江,C=CN"
    );
    assert_eq!(
        signer["issuer"],
        "CN=税务电子证书管理中心(SM2),OU=国家税务总局,C=CN"
    );
    assert!(matches!(
        SealFile::from_der(&interop("SignScaleError", "Signature.xml")),
        Err(huren_crypto::seal::SealError::Der { .. })
    ));
}

#[test]
fn lenient_names_read_like_strict_ones_for_clean_certificates() {
    let (_, _, decoded) = interop_checks("SignScaleError");
    let lenient = huren_crypto::seal::SealCertificate::parse(decoded.signer_cert()).unwrap();
    let strict = lenient.strict().unwrap();
    assert_eq!(lenient.serial_hex(), strict.serial_hex());
    assert_eq!(
        (lenient.not_before(), lenient.not_after()),
        (strict.not_before(), strict.not_after())
    );
    assert_eq!(lenient.subject(), strict.subject());
    assert_eq!(lenient.issuer(), strict.issuer());
    assert!(lenient.deviations().is_empty());
}

// ------------------------------------------------------------------------------------------
// Property tests
// ------------------------------------------------------------------------------------------

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn ascii(max: usize) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!("[ -~]{{1,{max}}}")).unwrap()
    }

    fn time() -> impl Strategy<Value = SealTime> {
        (0i64..253_402_300_799).prop_map(|t| SealTime::generalized(UnixTime(t)).unwrap())
    }

    prop_compose! {
        fn seal_info()(
            vid in ascii(20),
            es_id in ascii(40),
            version in any::<i64>(),
            seal_type in any::<i64>(),
            name in "\\PC{0,40}",
            certs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..4),
            dates in (time(), time(), time()),
            kind in ascii(8),
            data in proptest::collection::vec(any::<u8>(), 0..256),
            width in any::<i64>(),
            height in any::<i64>(),
            exts in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..32), 1u32..1000), 0..4),
            digests in any::<bool>(),
        ) -> wire::SealInfo {
            let cert_list = if digests {
                wire::CertList::Digests(wire::Bounded::new(certs.into_iter().map(|c| wire::CertDigestObj {
                    kind: der::asn1::PrintableString::new("SM3").unwrap(),
                    value: OctetString::new(c).unwrap(),
                }).collect()).unwrap())
            } else {
                wire::CertList::Certs(wire::Bounded::new(certs.into_iter().map(|c| OctetString::new(c).unwrap()).collect()).unwrap())
            };
            wire::SealInfo {
                header: wire::SesHeader { id: Ia5String::new("ES").unwrap(), version, vid: Ia5String::new(&vid).unwrap() },
                es_id: Ia5String::new(&es_id).unwrap(),
                property: wire::PropertyInfo {
                    seal_type, name, cert_list,
                    create_date: dates.0, valid_start: dates.1, valid_end: dates.2,
                },
                picture: wire::PictureInfo { kind: Ia5String::new(&kind).unwrap(), data: OctetString::new(data).unwrap(), width, height },
                ext_datas: if exts.is_empty() { None } else {
                    Some(wire::Bounded::new(exts.into_iter().map(|(critical, value, arc)| ExtData {
                        extn_id: RawOid::from_dotted(&format!("{}.9.{arc}", huren_crypto::oids::HUREN_ARC)).unwrap(),
                        critical,
                        extn_value: OctetString::new(value).unwrap(),
                    }).collect()).unwrap())
                },
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        #[test]
        fn seal_structures_round_trip(info in seal_info(), sig in proptest::collection::vec(any::<u8>(), 0..80)) {
            let seal = wire::SeSeal {
                seal_info: wire::Signed::new(info.clone()).unwrap(),
                cert: OctetString::new(vec![1, 2, 3]).unwrap(),
                sign_alg_id: RawOid::from_oid(&SealAlgorithm::Sm2Sm3.oid()),
                signed_value: BitString::from_bytes(&sig).unwrap(),
            };
            let der = seal.to_der().unwrap();
            let back = wire::SeSeal::from_der(&der).unwrap();
            prop_assert_eq!(back.seal_info.value(), &info);
            prop_assert_eq!(back.to_der().unwrap(), der);
        }

        #[test]
        fn decoders_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = SealFile::from_der(&bytes);
            let _ = inspect::inspect(&bytes);
            let _ = huren_crypto::seal::SealCertificate::parse(&bytes);
            let _ = wire::SesSignature::from_der(&bytes);
            let _ = v1wire::SesSignatureV1::from_der(&bytes);
        }
    }

    /// A real file with a byte flipped, cut or inserted: decoding, inspecting and verifying
    /// never panic, and, with its maker trusted, no changed file is valid.
    #[test]
    fn mutated_real_files_never_panic() {
        let original = interop("V4RideRight", "SignedValue.dat");
        let document = interop("V4RideRight", "Signature.xml");
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: 1024,
            ..ProptestConfig::default()
        });
        let maker = [SealSignature::from_der(&original)
            .unwrap()
            .seal()
            .maker_cert()
            .to_vec()];
        let signed_at = SealSignature::from_der(&original)
            .unwrap()
            .signing_time()
            .at;
        let strategy = (0..original.len(), any::<u8>(), 0u8..3);
        runner
            .run(&strategy, |(at, byte, how)| {
                let mut bytes = original.clone();
                match how {
                    0 => bytes[at] ^= byte | 1,
                    1 => bytes.truncate(at),
                    _ => bytes.insert(at, byte),
                }
                let _ = inspect::inspect(&bytes);
                let report = verify_seal_signature(&SealVerifyInput {
                    signature: &bytes,
                    document: Document::Bytes(&document),
                    trust: SealTrust::Makers(&maker),
                    seal_status: None,
                    crls: &[],
                    at: signed_at,
                    options: SealVerifyOptions::default(),
                });
                // The original is valid with its maker trusted; no change to it may be.
                prop_assert_ne!(report.verdict, Verdict::Valid);
                Ok(())
            })
            .unwrap();
    }
}

// ------------------------------------------------------------------------------------------
// Certificates that are not strict DER
// ------------------------------------------------------------------------------------------

/// DER TLV with a definite, minimal length.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// A self-signed certificate with every deviation the lenient reader tolerates: version v1
/// written out, a non-minimal serial, UTF-8 inside a PrintableString, an explicit FALSE
/// critical flag and an unknown critical extension.
fn irregular_certificate(key: &PrivateKey, from: UnixTime, until: UnixTime) -> Vec<u8> {
    let utc = |t: UnixTime| {
        let text = SealTime::generalized(t).unwrap().text()[2..].to_owned();
        tlv(0x17, text.as_bytes())
    };
    let name = tlv(
        0x30,
        &tlv(
            0x31,
            &tlv(
                0x30,
                &[
                    tlv(0x06, &[0x55, 0x04, 0x03]),
                    tlv(0x13, "税务 CA".as_bytes()),
                ]
                .concat(),
            ),
        ),
    );
    let algorithm = key.x509_signature_algorithm().to_der().unwrap();
    let key_usage = tlv(
        0x30,
        &[
            tlv(0x06, &[0x55, 0x1d, 0x0f]),
            tlv(0x01, &[0x00]),
            tlv(0x04, &tlv(0x03, &[0x07, 0x80])),
        ]
        .concat(),
    );
    let private_critical = tlv(
        0x30,
        &[
            tlv(0x06, &[0x2a, 0x03, 0x04]),
            tlv(0x01, &[0xff]),
            tlv(0x04, &[0x05, 0x00]),
        ]
        .concat(),
    );
    let tbs = tlv(
        0x30,
        &[
            tlv(0xa0, &tlv(0x02, &[0x00])),
            tlv(0x02, &[0x00, 0x01, 0x02]),
            algorithm.clone(),
            name.clone(),
            tlv(0x30, &[utc(from), utc(until)].concat()),
            name,
            key.public_key_spki_der().unwrap(),
            tlv(0xa3, &tlv(0x30, &[key_usage, private_critical].concat())),
        ]
        .concat(),
    );
    let signature = key.sign_x509(&tbs).unwrap();
    let mut bits = vec![0u8];
    bits.extend_from_slice(&signature);
    tlv(0x30, &[tbs, algorithm, tlv(0x03, &bits)].concat())
}

#[test]
fn irregular_real_world_certificates_are_read_leniently_and_still_verify() {
    use huren_crypto::seal::lenient_cert::Deviation;
    use huren_crypto::seal::SealCertificate;

    let world = World::new(Algorithm::Sm2Sm3);
    let key = PrivateKey::generate(Algorithm::Sm2Sm3).unwrap();
    let der = irregular_certificate(&key, NOW.minus(DAY), NOW.plus(100 * DAY));
    assert!(
        Certificate::from_der(&der).is_err(),
        "the strict reader refuses it"
    );
    let cert = SealCertificate::parse(&der).unwrap();
    assert!(cert.strict().is_none());
    assert_eq!(cert.subject(), "CN=税务 CA");
    assert_eq!(cert.version(), 1);
    assert_eq!(cert.serial(), [0x00, 0x01, 0x02]);
    assert_eq!(
        cert.deviations(),
        [
            Deviation::ExplicitDefaultVersion,
            Deviation::ExplicitDefaultCritical,
            Deviation::NotVersion3,
            Deviation::Utf8InRestrictedString,
            Deviation::IrregularSerial,
            Deviation::UnknownCriticalExtension,
        ]
    );
    // Its self-signature verifies over the TBS bytes as received.
    let alg = SealAlgorithm::from_oid(cert.signature_algorithm()).unwrap();
    alg.verify(cert.public_key().unwrap(), cert.tbs(), cert.signature())
        .unwrap();

    // Such a certificate can hold a seal; the signature verifies, with a warning.
    let seal = world.seal(&spec("330000", vec![der.clone()], false));
    let signature = sign_document(&seal, DOCUMENT, NOW, "contract.pdf", &key, &der).unwrap();
    let mut input = world.input(&signature);
    input.seal_status = None;
    let report = verify_seal_signature(&input);
    // Self-signed: no CRL of its issuer, so revocation stays unknown.
    assert_eq!(report.reasons, [SealOutcome::SignerRevocationUnknown]);
    assert_eq!(report.warnings, [SealWarning::LenientCertificate]);
    assert_eq!(report.signer_subject.as_deref(), Some("CN=税务 CA"));
    let json = inspect::inspect_json(&signature).unwrap();
    let signer = &json["signature"]["signer_certificate"];
    assert_eq!(signer["strict_der"], false);
    assert_eq!(signer["x509_version"], 1);
    assert_eq!(signer["deviations"][0], "explicit_default_version");

    // Anything beyond those deviations is still refused: a non-minimal length.
    assert_eq!(der[1], 0x82);
    let mut broken = vec![0x30, 0x83, 0x00];
    broken.extend_from_slice(&der[2..]);
    assert!(SealCertificate::parse(&broken).is_err());
}

// ------------------------------------------------------------------------------------------
// The seal fuzz targets' seeds, replayed as plain tests (libFuzzer runs them separately)
// ------------------------------------------------------------------------------------------

fn fuzz_seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds")
        .join(target);
    let mut seeds: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

#[test]
fn the_seal_fuzz_seeds_keep_the_targets_properties() {
    use huren_crypto::seal::verify::ALL_SEAL_CHECKS;
    for (name, data) in fuzz_seeds("seal_decode") {
        if let Ok(wire) = wire::SeSeal::from_der(&data) {
            assert_eq!(wire.to_der().unwrap(), data, "{name}");
        }
        if let Ok(wire) = v1wire::SeSealV1::from_der(&data) {
            assert_eq!(wire.to_der().unwrap(), data, "{name}");
        }
        let seal = Seal::from_der(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(seal.der(), data.as_slice());
        serde_json::to_string(&inspect::inspect(&data).unwrap()).unwrap();
    }
    for (name, data) in fuzz_seeds("seal_signature_decode") {
        if let Ok(wire) = wire::SesSignature::from_der(&data) {
            assert_eq!(wire.to_der().unwrap(), data, "{name}");
        }
        if let Ok(wire) = v1wire::SesSignatureV1::from_der(&data) {
            assert_eq!(wire.to_der().unwrap(), data, "{name}");
        }
        let signature = SealSignature::from_der(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
        let makers = [signature.seal().maker_cert().to_vec()];
        for trust in [SealTrust::Makers(&[]), SealTrust::Makers(&makers)] {
            let report = verify_seal_signature(&SealVerifyInput {
                signature: &data,
                document: Document::Bytes(b"document"),
                trust,
                seal_status: None,
                crls: &[],
                at: signature.signing_time().at,
                options: SealVerifyOptions::default(),
            });
            let names: Vec<_> = report.checks.iter().map(|c| c.check).collect();
            assert_eq!(names, ALL_SEAL_CHECKS, "{name}");
            // No CRL is given, so nothing here may be valid (revocation fails closed).
            assert_ne!(report.verdict, Verdict::Valid, "{name}");
            serde_json::to_string(&report).unwrap();
        }
    }
    for (name, data) in fuzz_seeds("seal_lenient_cert") {
        let Ok(cert) = huren_crypto::seal::SealCertificate::parse(&data) else {
            continue;
        };
        assert_eq!(cert.der(), data.as_slice(), "{name}");
        let _ = (cert.subject(), cert.issuer(), cert.serial_hex());
    }
}
