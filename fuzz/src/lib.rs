//! Shared trust material for the huren fuzz targets.
//!
//! The fixtures under `fuzz/fixtures/` are a small, fixed PKI made by
//! `cargo run --example gen_fixtures` (see README.md): a trust-list operator, two provinces
//! (330000 with ES256 keys, 440000 with SM2SM3 keys), a signed trust list, a signed status
//! list, and the two licence signers' private keys. They are compiled into the targets with
//! `include_bytes!`, so a crash reproduces against exactly the same trust list on any machine
//! and on any day (verification time is the fixed [`VERIFY_AT`], never the wall clock).
//!
//! THE KEYS IN `fixtures/` ARE PUBLIC TEST KEYS. Nothing may ever trust them.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use huren_crypto::cert::Certificate;
use huren_crypto::jws::{self, HeaderParams};
use huren_crypto::licence::LICENCE_TYP;
use huren_crypto::status_token::VerifiedStatusList;
use huren_crypto::trust_list::TrustList;
use huren_crypto::{Algorithm, Signer, UnixTime};
use huren_keys::PrivateKey;

/// When the fixture certificates were issued: 2026-01-01T00:00:00Z.
pub const FIXTURE_NOW: i64 = 1_767_225_600;
/// `iat` of the seed licences (one day after issuance of the certificates).
pub const LICENCE_IAT: i64 = FIXTURE_NOW + 86_400;
/// The time every verification in the targets runs at.
pub const VERIFY_AT: i64 = FIXTURE_NOW + 2 * 86_400;
/// Trust list validity (`next_update - iat`), so that [`VERIFY_AT`] is not stale.
pub const TRUST_LIST_VALIDITY_SECONDS: i64 = 30 * 86_400;
/// Public URL of the ES256 province (330000).
pub const ZJ_URL: &str = "https://zj.example.org";
/// Public URL of the SM2 province (440000).
pub const GD_URL: &str = "https://gd.example.org";
/// URI of the fixture status list (330000, 2 bits, 1024 entries: 5 revoked, 6 suspended,
/// 7 holds the application-specific value 3).
pub const STATUS_URI: &str = "https://zj.example.org/v1/status/1";

/// Fixture files, compiled in.
pub mod files {
    /// Operator certificate (DER), the pin for trust lists.
    pub const OPERATOR_CERT: &[u8] = include_bytes!("../fixtures/operator.crt.der");
    /// Operator private key, plaintext PKCS#8 DER (ES256). TEST KEY.
    pub const OPERATOR_KEY: &[u8] = include_bytes!("../fixtures/operator.pk8.der");
    /// The signed trust list (compact JWS).
    pub const TRUST_LIST: &str = include_str!("../fixtures/trust_list.jws");
    /// The signed status list of [`super::STATUS_URI`] (compact JWS).
    pub const STATUS_LIST: &str = include_str!("../fixtures/status_list.jws");
    /// Status signer of 330000 (ES256): certificate DER.
    pub const STATUS_SIGNER_CERT: &[u8] = include_bytes!("../fixtures/status-signer.crt.der");
    /// Status signer of 330000 (ES256): plaintext PKCS#8 DER. TEST KEY.
    pub const STATUS_SIGNER_KEY: &[u8] = include_bytes!("../fixtures/status-signer.pk8.der");
    /// Licence signer of 330000 (ES256): certificate DER.
    pub const ES256_SIGNER_CERT: &[u8] = include_bytes!("../fixtures/es256-signer.crt.der");
    /// Licence signer of 330000 (ES256): plaintext PKCS#8 DER. TEST KEY.
    pub const ES256_SIGNER_KEY: &[u8] = include_bytes!("../fixtures/es256-signer.pk8.der");
    /// Licence signer of 440000 (SM2SM3): certificate DER.
    pub const SM2_SIGNER_CERT: &[u8] = include_bytes!("../fixtures/sm2-signer.crt.der");
    /// Licence signer of 440000 (SM2SM3): plaintext PKCS#8 DER. TEST KEY.
    pub const SM2_SIGNER_KEY: &[u8] = include_bytes!("../fixtures/sm2-signer.pk8.der");
}

/// A licence signer: key and certificate.
#[derive(Debug)]
pub struct SignerFixture {
    /// The private key.
    pub key: PrivateKey,
    /// Its certificate.
    pub cert: Certificate,
}

/// Everything parsed once.
#[derive(Debug)]
pub struct Fixture {
    /// The pinned operator certificate.
    pub operator: Certificate,
    /// The operator key (to sign fuzzed trust-list payloads).
    pub operator_key: PrivateKey,
    /// The verified trust list.
    pub trust: TrustList,
    /// The verified status list, by URI.
    pub status: HashMap<String, Arc<VerifiedStatusList>>,
    /// 330000's licence signer (ES256).
    pub es256: SignerFixture,
    /// 440000's licence signer (SM2SM3).
    pub sm2: SignerFixture,
    /// 330000's status signer (ES256), named in the trust list's `status_signers`.
    pub status_signer: SignerFixture,
}

/// The fixture, parsed and verified on first use. Panics (at start-up, not as a finding) if the
/// fixture files are missing or inconsistent: regenerate them with `gen_fixtures`.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        load().unwrap_or_else(|e| {
            panic!("fuzz fixtures unusable ({e}); run `cargo run --example gen_fixtures` in fuzz/")
        })
    })
}

fn load() -> Result<Fixture, String> {
    let cert = |der: &[u8]| Certificate::from_der(der).map_err(|e| e.to_string());
    let key = |der: &[u8], alg| PrivateKey::from_pkcs8_der(der, alg).map_err(|e| e.to_string());
    let operator = cert(files::OPERATOR_CERT)?;
    let trust = TrustList::verify(files::TRUST_LIST, std::slice::from_ref(&operator))
        .map_err(|e| e.to_string())?;
    if !trust.problems().is_empty() {
        return Err(format!("trust list has problems: {:?}", trust.problems()));
    }
    let status_list = VerifiedStatusList::verify(files::STATUS_LIST, STATUS_URI, &trust)
        .map_err(|e| e.to_string())?;
    let mut status = HashMap::new();
    status.insert(STATUS_URI.to_owned(), Arc::new(status_list));
    Ok(Fixture {
        operator_key: key(files::OPERATOR_KEY, Algorithm::Es256)?,
        operator,
        trust,
        status,
        es256: SignerFixture {
            key: key(files::ES256_SIGNER_KEY, Algorithm::Es256)?,
            cert: cert(files::ES256_SIGNER_CERT)?,
        },
        sm2: SignerFixture {
            key: key(files::SM2_SIGNER_KEY, Algorithm::Sm2Sm3)?,
            cert: cert(files::SM2_SIGNER_CERT)?,
        },
        status_signer: SignerFixture {
            key: key(files::STATUS_SIGNER_KEY, Algorithm::Es256)?,
            cert: cert(files::STATUS_SIGNER_CERT)?,
        },
    })
}

/// The verification time as a [`UnixTime`].
pub fn verify_at() -> UnixTime {
    UnixTime(VERIFY_AT)
}

/// Signs arbitrary `payload` bytes as a licence token (`typ: licence+jwt`, `x5t#S256` of the
/// signer), raw-DEFLATE-compressing them first when `zip`. The payload need not be JSON: this
/// is how targets get fuzzed claims past the signature check.
pub fn sign_licence_payload(signer: &SignerFixture, payload: &[u8], zip: bool) -> String {
    let params = HeaderParams {
        typ: Some(LICENCE_TYP),
        x5t_s256: Some(signer.cert.x5t_s256()),
        zip,
        ..HeaderParams::default()
    };
    sign_raw(&params, payload, &signer.key, zip)
}

/// Signs `payload` (deflated first if `zip`) as a compact JWS with `params`.
pub fn sign_raw(params: &HeaderParams, payload: &[u8], key: &dyn Signer, zip: bool) -> String {
    let body = if zip {
        huren_crypto::deflate::deflate(payload)
    } else {
        payload.to_vec()
    };
    match jws::sign_compact(params, &body, key) {
        Ok(token) => token,
        // Signing with a software key does not fail; if it ever does, that is a finding.
        Err(e) => panic!("fixture signing failed: {e}"),
    }
}
