//! Regenerates `fuzz/fixtures/` (a small fixed PKI with PUBLIC TEST KEYS) and the seed corpora
//! under `fuzz/seeds/<target>/`.
//!
//! ```text
//! cd fuzz && cargo +nightly run --example gen_fixtures
//! ```
//!
//! Run it twice: the first run writes the fixtures, the second (which compiles them in through
//! the `huren_fuzz` library) also checks they load. Every run makes NEW keys, so seeds and
//! fixtures must be regenerated together (they are: this program writes both).

use std::fs;
use std::path::{Path, PathBuf};

use huren_crypto::alg::Algorithm;
use huren_crypto::b64;
use huren_crypto::cert::Certificate;
use huren_crypto::ids::{LicenceId, RegionCode};
use huren_crypto::jws::{self, HeaderParams};
use huren_crypto::key::ecdsa_raw_to_der;
use huren_crypto::licence::{Licence, LicenceClaims};
use huren_crypto::qr;
use huren_crypto::status_list::{
    StatusList, StatusListClaim, StatusListPointer, StatusReference, StatusValue,
};
use huren_crypto::status_token::{StatusListClaims, MAX_STATUS_LIST_LIFETIME_SECONDS};
use huren_crypto::trust_list::TrustList;
use huren_crypto::{Signer, UnixTime};
use huren_fuzz::{
    FIXTURE_NOW, GD_URL, LICENCE_IAT, STATUS_URI, TRUST_LIST_VALIDITY_SECONDS, ZJ_URL,
};
use huren_keys::layout::{self, InitRegion};
use huren_keys::store::Protection;
use huren_keys::{trust_build, PrivateKey};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result<()> {
    let fuzz_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let fixtures = fuzz_dir.join("fixtures");
    let seeds = fuzz_dir.join("seeds");
    fs::create_dir_all(&fixtures)?;
    let tmp = tempfile::tempdir()?;
    let now = UnixTime(FIXTURE_NOW);

    // --- PKI -------------------------------------------------------------------------------
    let operator_name = "信任列表运营方 (fuzz fixture, TEST ONLY)";
    let operator = layout::init_operator(
        &tmp.path().join("operator"),
        operator_name,
        Algorithm::Es256,
        Protection::Plaintext,
        now,
    )?;
    let region = |dir: &str, code: &str, name: &str, alg, url: &str| {
        layout::init_region(
            &tmp.path().join(dir),
            &InitRegion {
                code: RegionCode::parse(code).expect("fixed code"),
                name: name.to_owned(),
                alg,
                public_url: url.to_owned(),
                protection: Protection::Plaintext,
                now,
            },
        )
    };
    let zj = region("zj", "330000", "浙江省", Algorithm::Es256, ZJ_URL)?;
    let gd = region("gd", "440000", "广东省", Algorithm::Sm2Sm3, GD_URL)?;

    let operator_key = operator.key(None)?;
    let operator_cert = operator.certificate()?;
    let claims = trust_build::assemble(
        operator_name,
        &[zj.clone(), gd.clone()],
        1,
        now,
        TRUST_LIST_VALIDITY_SECONDS,
    )?;
    let trust_token = trust_build::sign(&claims, &operator_key, &operator_cert)?;
    let trust = TrustList::verify(&trust_token, &[Certificate::from_der(&operator_cert)?])?;
    assert!(trust.problems().is_empty());

    let (zj_key, zj_cert) = zj.active_signer(None)?;
    let (gd_key, gd_cert) = gd.active_signer(None)?;
    let (status_key, status_cert) = zj.status_signer(None)?;
    assert!(STATUS_URI.starts_with(&zj.config.status_uri_prefix()));

    let mut list = StatusList::new(2, 1024)?;
    list.set(5, StatusValue::Revoked)?;
    list.set(6, StatusValue::Suspended)?;
    list.set(7, StatusValue::ApplicationSpecific(3))?;
    let status_token = StatusListClaims {
        sub: STATUS_URI.to_owned(),
        iat: FIXTURE_NOW,
        // The longest life verifiers accept (SPEC §4), covering VERIFY_AT.
        exp: FIXTURE_NOW + MAX_STATUS_LIST_LIFETIME_SECONDS,
        ttl: 3600,
        status_list: StatusListClaim::from_list(&list),
    }
    .sign(&status_key, &status_cert)?;

    let write = |name: &str, bytes: &[u8]| fs::write(fixtures.join(name), bytes);
    write("operator.crt.der", &operator_cert)?;
    write("operator.pk8.der", &operator_key.to_pkcs8_der()?)?;
    write("trust_list.jws", trust_token.as_bytes())?;
    write("status_list.jws", status_token.as_bytes())?;
    write("es256-signer.crt.der", &zj_cert)?;
    write("es256-signer.pk8.der", &zj_key.to_pkcs8_der()?)?;
    write("sm2-signer.crt.der", &gd_cert)?;
    write("sm2-signer.pk8.der", &gd_key.to_pkcs8_der()?)?;
    write("status-signer.crt.der", &status_cert)?;
    write("status-signer.pk8.der", &status_key.to_pkcs8_der()?)?;

    // --- Licences ----------------------------------------------------------------------------
    let licence = |issuer_code: &str, until: Option<&str>, holder: (&str, &str)| -> Licence {
        serde_json::from_value(serde_json::json!({
            "type_code": "11100000000013338W032",
            "type_name": "建筑业企业资质证书",
            "number": "D233012345",
            "holder": {"name": "杭州示例建设有限公司", "id_type": holder.0, "id": holder.1},
            "issuer": {"name": "浙江省住房和城乡建设厅", "code": issuer_code},
            "issued_on": "2026-01-01",
            "valid_from": "2026-01-01",
            "valid_until": until,
            "face": {"qualification": "建筑工程施工总承包壹级"}
        }))
        .expect("fixed licence")
    };
    let uscc_holder = ("001", "91350100M000100Y43");
    let claims_for = |iss: &str, lic: Licence, serial: &str, status: Option<u64>| {
        let jti =
            LicenceId::generate(&lic.type_code, &lic.issuer.code, serial, "001").expect("fixed id");
        LicenceClaims::new(
            RegionCode::parse(iss).expect("fixed code"),
            jti,
            UnixTime(LICENCE_IAT),
            lic,
            status.map(|idx| StatusReference {
                status_list: StatusListPointer {
                    idx,
                    uri: STATUS_URI.to_owned(),
                },
            }),
        )
    };
    let zj_x5t = Certificate::from_der(&zj_cert)?.x5t_s256();
    let gd_x5t = Certificate::from_der(&gd_cert)?.x5t_s256();
    let licences = [
        (
            "zj-valid",
            claims_for(
                "330000",
                licence("11220000013544541J", Some("2030-12-31"), uscc_holder),
                "2026000001",
                Some(0),
            ),
        ),
        (
            "zj-revoked",
            claims_for(
                "330000",
                licence("11220000013544541J", Some("2030-12-31"), uscc_holder),
                "2026000005",
                Some(5),
            ),
        ),
        (
            "zj-longterm-person",
            claims_for(
                "330000",
                licence("330000", None, ("111", "11010519491231002X")),
                "2026000006",
                Some(6),
            ),
        ),
        (
            "gd-sm2-nostatus",
            claims_for(
                "440000",
                licence(
                    "11220000013544541J",
                    Some("2027-06-30"),
                    ("516", "H12345678"),
                ),
                "2026000007",
                None,
            ),
        ),
    ];
    let mut licence_tokens = Vec::new();
    for (name, claims) in &licences {
        let (key, x5t): (&PrivateKey, _) = if name.starts_with("gd") {
            (&gd_key, gd_x5t)
        } else {
            (&zj_key, zj_x5t)
        };
        licence_tokens.push((*name, claims.sign(key, x5t)?, serde_json::to_vec(claims)?));
    }

    // --- Seeds -------------------------------------------------------------------------------
    let seed_dir = |target: &str| -> Result<PathBuf> {
        let dir = seeds.join(target);
        fs::create_dir_all(&dir)?;
        Ok(dir)
    };
    let put = |dir: &Path, name: &str, bytes: &[u8]| fs::write(dir.join(name), bytes);

    // verify_licence: scanned text as-is, and `!` + options + payload to be signed.
    let dir = seed_dir("verify_licence")?;
    for (name, token, json) in &licence_tokens {
        let hr1 = qr::encode(token)?;
        put(&dir, &format!("{name}.jws"), token.as_bytes())?;
        put(&dir, &format!("{name}.hr1"), hr1.as_bytes())?;
        let sm2 = u8::from(name.starts_with("gd"));
        for (suffix, options) in [("sign", sm2), ("sign-zip", sm2 | 2), ("sign-hr1", sm2 | 4)] {
            let mut seed = vec![b'!', b'0' + options];
            seed.extend_from_slice(json);
            put(&dir, &format!("{name}.{suffix}"), &seed)?;
        }
    }
    let first_hr1 = qr::encode(&licence_tokens[0].1)?;
    let (head, tail) = first_hr1.split_at(first_hr1.len() / 2);
    put(
        &dir,
        "zj-valid.hr1-scanner",
        format!("hr1:{}\r\n{tail}\n", &head[4..]).as_bytes(),
    )?;

    // qr_input
    let dir = seed_dir("qr_input")?;
    put(&dir, "hr1", first_hr1.as_bytes())?;
    put(
        &dir,
        "hr1-lower-crlf",
        format!("{}\r\n", first_hr1.to_lowercase()).as_bytes(),
    )?;
    put(
        &dir,
        "bare-jws",
        format!("  {}\n", licence_tokens[0].1).as_bytes(),
    )?;
    put(&dir, "odd", b"HR1:123")?;

    // jws_parse
    let dir = seed_dir("jws_parse")?;
    put(&dir, "licence-es256", licence_tokens[0].1.as_bytes())?;
    put(&dir, "licence-sm2", licence_tokens[3].1.as_bytes())?;
    let x5c_token = jws::sign_compact(
        &HeaderParams {
            typ: Some("statuslist+jwt"),
            x5c: vec![status_cert.clone()],
            zip: true,
            ..HeaderParams::default()
        },
        &huren_crypto::deflate::deflate(b"{}"),
        &status_key,
    )?;
    put(&dir, "x5c-zip", x5c_token.as_bytes())?;
    let header = |json: &str| format!("{}.e30.AAAA", b64::encode_url(json.as_bytes()));
    put(
        &dir,
        "hdr-crit",
        header(r#"{"alg":"ES256","crit":["exp"]}"#).as_bytes(),
    )?;
    put(
        &dir,
        "hdr-hs256",
        header(r#"{"alg":"HS256","typ":"JWT","foo":1}"#).as_bytes(),
    )?;

    // status_token: the fixture list as fetched, and claims to be signed by the listed signer
    // (`!` + flags + payload).
    let dir = seed_dir("status_token")?;
    put(&dir, "fixture-list", status_token.as_bytes())?;
    let claims = serde_json::json!({
        "sub": STATUS_URI, "iat": FIXTURE_NOW, "exp": FIXTURE_NOW + 86_400, "ttl": 300,
        "status_list": {"bits": 2, "lst": StatusListClaim::from_list(&list).lst},
    })
    .to_string();
    put(&dir, "signed-claims", format!("!\x00{claims}").as_bytes())?;
    put(
        &dir,
        "signed-claims-zip",
        format!("!\x01{claims}").as_bytes(),
    )?;
    put(&dir, "unlisted-signer", format!("!\x02{claims}").as_bytes())?;

    // licence_claims
    let dir = seed_dir("licence_claims")?;
    for (name, _, json) in &licence_tokens {
        put(&dir, &format!("{name}.json"), json)?;
    }

    // status_list: first byte = bits, rest = lst text or a JSON claim.
    let dir = seed_dir("status_list")?;
    let mut seed = vec![2u8];
    seed.extend_from_slice(list.encode_lst().as_bytes());
    put(&dir, "bits2-1024", &seed)?;
    let mut small = StatusList::new(1, 16)?;
    small.set(3, StatusValue::Revoked)?;
    let mut seed = vec![1u8];
    seed.extend_from_slice(small.encode_lst().as_bytes());
    put(&dir, "bits1-16", &seed)?;
    let mut seed = vec![8u8];
    seed.extend_from_slice(&serde_json::to_vec(&StatusListClaim::from_list(&small))?);
    put(&dir, "claim-json", &seed)?;
    // The IETF draft's 1-bit example (status_list draft §4.1).
    put(&dir, "draft-example", b"\x01eNrbuRgAAhcBXQ")?;

    // certificate
    let dir = seed_dir("certificate")?;
    let zj_root = zj.root_der()?;
    let gd_root = gd.root_der()?;
    put(&dir, "operator.der", &operator_cert)?;
    put(&dir, "zj-root.der", &zj_root)?;
    put(&dir, "zj-signer.der", &zj_cert)?;
    put(&dir, "zj-status-signer.der", &status_cert)?;
    put(&dir, "gd-root.der", &gd_root)?;
    put(&dir, "gd-signer.der", &gd_cert)?;

    // public_key: SPKIs of every kind, and a DER ECDSA-Sig-Value.
    let dir = seed_dir("public_key")?;
    put(&dir, "p256.spki", &zj_key.public_key_spki_der()?)?;
    put(&dir, "sm2.spki", &gd_key.public_key_spki_der()?)?;
    let rsa = PrivateKey::generate(Algorithm::Ps256)?;
    put(&dir, "rsa3072.spki", &rsa.public_key_spki_der()?)?;
    let raw_sig = zj_key.sign(b"message")?;
    put(
        &dir,
        "ecdsa-sig.der",
        &ecdsa_raw_to_der(&raw_sig).expect("64 bytes"),
    )?;

    // trust_list: the token, its claims JSON, and `!` + payload to be signed by the operator.
    let dir = seed_dir("trust_list")?;
    put(&dir, "token", trust_token.as_bytes())?;
    let claims_json = serde_json::to_vec(&claims)?;
    put(&dir, "claims.json", &claims_json)?;
    let mut seed = b"!".to_vec();
    seed.extend_from_slice(&claims_json);
    put(&dir, "sign-claims", &seed)?;

    // ids: one string per line of the target's interest.
    let dir = seed_dir("ids")?;
    for (name, text) in [
        (
            "licence-id",
            "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F",
        ),
        (
            "licence-id-region",
            "1.2.156.3005.2.11100000000013338W011.330000.20230000403.001.U",
        ),
        ("uscc", "91350100M000100Y43"),
        ("resident-id", "11010519491231002X"),
        ("region", "330106"),
        ("hk-macao", "H12345678"),
        ("holder-type", "516"),
    ] {
        put(&dir, name, text.as_bytes())?;
    }

    eprintln!(
        "wrote fixtures to {} and seeds to {}",
        fixtures.display(),
        seeds.display()
    );
    // Sanity: the seed licences verify against the new trust list at the targets' time.
    let status: std::collections::HashMap<_, _> = [(
        STATUS_URI.to_owned(),
        std::sync::Arc::new(huren_crypto::status_token::VerifiedStatusList::verify(
            &status_token,
            STATUS_URI,
            &trust,
        )?),
    )]
    .into_iter()
    .collect();
    for (name, token, _) in &licence_tokens {
        let report = huren_crypto::verify::verify_licence(
            token,
            &trust,
            &status,
            UnixTime(huren_fuzz::VERIFY_AT),
            &huren_crypto::verify::VerifyOptions::default(),
        );
        eprintln!("{name}: {:?} {:?}", report.verdict, report.reasons);
    }
    Ok(())
}
