//! Test PKI set-up with plaintext keys (a test set-up, never a deployment): an operator,
//! provinces, and a signed trust list over them.

use std::path::Path;

use huren_crypto::alg::Algorithm;
use huren_crypto::ids::RegionCode;
use huren_crypto::time::UnixTime;
use huren_keys::layout::{self, InitRegion, OperatorDir, RegionDir};
use huren_keys::store::Protection;
use huren_keys::trust_build;

/// How long the trust lists made here are valid.
pub const TRUST_LIST_VALIDITY_SECS: i64 = 7 * 86_400;

/// An operator called `name` with an ES256 key, in `dir`, made at `made`.
pub fn operator(dir: &Path, name: &str, made: UnixTime) -> OperatorDir {
    layout::init_operator(dir, name, Algorithm::Es256, Protection::Plaintext, made).unwrap()
}

/// Province `code` (named after it) with keys of `alg`, publishing at `public_url`, in `dir`,
/// made at `made`.
pub fn province(
    dir: &Path,
    code: &str,
    alg: Algorithm,
    public_url: &str,
    made: UnixTime,
) -> RegionDir {
    let code = RegionCode::parse(code).unwrap();
    let init = InitRegion {
        name: code.province_name().to_owned(),
        code,
        alg,
        public_url: public_url.to_owned(),
        protection: Protection::Plaintext,
        now: made,
    };
    layout::init_region(dir, &init).unwrap()
}

/// Trust list number `seq` over `regions`, issued at `iat` and valid a week, signed by
/// `operator`.
pub fn trust_list(
    operator: &OperatorDir,
    regions: &[RegionDir],
    seq: u64,
    iat: UnixTime,
) -> String {
    let claims = trust_build::assemble(
        &operator.config.name,
        regions,
        seq,
        iat,
        TRUST_LIST_VALIDITY_SECS,
    )
    .unwrap();
    trust_build::sign(
        &claims,
        &operator.key(None).unwrap(),
        &operator.certificate().unwrap(),
    )
    .unwrap()
}
