//! The trust material the service under attack reads: the shared provinces of
//! `tests/common` (Zhejiang ES256 and Anhui SM2SM3 among those in the trust list, Shanghai
//! outside it), their trust list written to a file, and a fresh status list per trusted province
//! in the verifier's disk cache (the service runs offline).

use huren_crypto::b64;
use huren_crypto::cert::Certificate;
use huren_crypto::jws::{sign_compact, HeaderParams};
use huren_crypto::licence::LICENCE_TYP;
use huren_crypto::status_list::StatusValue;
use huren_keys::trust_build;
use huren_verifier::disk::DiskCache;

use crate::common::{fixture, Province, IDX, NOW};

/// Status list index of a revoked licence (`IDX` is valid).
pub const IDX_REVOKED: u64 = 4712;

pub struct Pki {
    /// Holds the trust list file and the cache.
    _dir: tempfile::TempDir,
    pub zhejiang: &'static Province,
    pub anhui: &'static Province,
    /// A province outside the trust list.
    pub outsider: &'static Province,
    pub operator_cert: Certificate,
    pub trust_path: std::path::PathBuf,
    pub cache_dir: std::path::PathBuf,
}

/// The shared PKI's trust list in a file, and status lists (`IDX` valid, `IDX_REVOKED`
/// revoked) for every trusted province in a fresh disk cache.
pub fn make_pki() -> Pki {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let cache_dir = dir.path().join("cache");
    std::fs::create_dir_all(&cache_dir).unwrap();
    for province in [&f.zhejiang, &f.jiangsu, &f.anhui] {
        let token = province.status_list_with(
            &[
                (IDX, StatusValue::Valid),
                (IDX_REVOKED, StatusValue::Revoked),
            ],
            NOW.minus(600),
        );
        std::fs::write(
            cache_dir.join(DiskCache::status_file(&province.status_uri())),
            token.as_bytes(),
        )
        .unwrap();
    }
    let trust = trust_build::sign(&f.trust_claims, &f.operator_key, f.operator_cert.der()).unwrap();
    let trust_path = dir.path().join("trust-list.jwt");
    std::fs::write(&trust_path, trust).unwrap();
    Pki {
        _dir: dir,
        zhejiang: &f.zhejiang,
        anhui: &f.anhui,
        outsider: &f.outsider,
        operator_cert: f.operator_cert.clone(),
        trust_path,
        cache_dir,
    }
}

/// What only hostile cases do with an issuer's key.
pub trait RawSigning {
    /// The signing certificate's `x5t#S256`, base64url.
    fn x5t(&self) -> String;
    /// Signs an arbitrary payload under a licence header (an issuer key used for nonsense).
    fn sign_raw(&self, payload: &[u8], zip: bool) -> String;
}

impl RawSigning for Province {
    fn x5t(&self) -> String {
        b64::encode_url(&self.signer_cert.x5t_s256())
    }

    fn sign_raw(&self, payload: &[u8], zip: bool) -> String {
        let params = HeaderParams {
            typ: Some(LICENCE_TYP),
            x5t_s256: Some(self.signer_cert.x5t_s256()),
            zip,
            ..HeaderParams::default()
        };
        sign_compact(&params, payload, &self.signer).unwrap()
    }
}
