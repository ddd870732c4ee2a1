//! Trust-list assembly (SPEC §5): collects every province's roots, signers, status signers
//! and seal makers, checks every entry, and signs the list with the operator key. A list that
//! would include a broken entry is refused, naming each problem.

use huren_crypto::b64;
use huren_crypto::cert::Certificate;
use huren_crypto::jws::{sign_json_compact, HeaderParams};
use huren_crypto::time::UnixTime;
use huren_crypto::trust_list::{
    EntryProblem, OperatorInfo, RegionEntry, RegionStatus, SignerEntry, SignerStatus,
    TrustListClaims, TRUST_LIST_TYP,
};

use crate::keypair::PrivateKey;
use crate::layout::{KeyFiles, LayoutError, RegionDir};

/// Default time until the next list is due.
pub const DEFAULT_VALIDITY_SECONDS: i64 = 7 * 86_400;

/// Why a trust list was not built.
#[derive(Debug, thiserror::Error)]
pub enum TrustBuildError {
    /// Reading a directory failed.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// Entries are broken.
    #[error("refusing to build a trust list with broken entries:\n{}", format_problems(.0))]
    Broken(Vec<EntryProblem>),
    /// The same region twice.
    #[error("region {0} is given twice")]
    DuplicateRegion(String),
    /// No region at all.
    #[error("a trust list needs at least one region")]
    Empty,
    /// Signing failed.
    #[error(transparent)]
    Sign(#[from] huren_crypto::SignError),
    /// The operator certificate is unusable.
    #[error("operator certificate: {0}")]
    Operator(String),
}

fn format_problems(problems: &[EntryProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {} {}: {}", p.region, p.entry, p.problem))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The trust-list entry of one region directory, for a list issued at `at`: retired status
/// signers and seal makers are named until their `listed_until` (see [`crate::rollover`]).
pub fn region_entry(region: &RegionDir, at: UnixTime) -> Result<RegionEntry, LayoutError> {
    let config = &region.config;
    let b64_cert = |files| region.certificate(files).map(|der| b64::encode_std(&der));
    let b64_file = |cert: &str| {
        let files = KeyFiles {
            cert: cert.to_owned(),
            key: None,
        };
        region.certificate(&files).map(|der| b64::encode_std(&der))
    };
    let signers = config
        .signers
        .iter()
        .map(|s| {
            Ok(SignerEntry {
                cert: b64_cert(&s.files)?,
                scopes: s.scopes.clone(),
                status: SignerStatus::Active,
                revoked_at: None,
                alg: Some(config.alg),
            })
        })
        .collect::<Result<Vec<_>, LayoutError>>()?;
    Ok(RegionEntry {
        code: config.code.clone(),
        name: config.name.clone(),
        status: RegionStatus::Active,
        roots: vec![b64_cert(&config.root)?],
        signers,
        status_signers: config
            .status_signers_at(at)
            .into_iter()
            .map(b64_file)
            .collect::<Result<_, _>>()?,
        seal_makers: config
            .seal_makers_at(at)
            .into_iter()
            .map(b64_file)
            .collect::<Result<_, _>>()?,
        status_uri_prefix: config.status_uri_prefix(),
        issuer_uri: Some(config.public_url.clone()),
        log_key: None,
        witnesses: Vec::new(),
        witness_quorum: 0,
    })
}

/// Assembles the claims for `regions`, issued at `now`: a retired status signer or seal maker
/// whose `listed_until` has passed is left out (that is where rollover drops it).
pub fn assemble(
    operator_name: &str,
    regions: &[RegionDir],
    seq: u64,
    now: UnixTime,
    validity_seconds: i64,
) -> Result<TrustListClaims, TrustBuildError> {
    if regions.is_empty() {
        return Err(TrustBuildError::Empty);
    }
    let mut entries: Vec<RegionEntry> = Vec::new();
    for region in regions {
        let entry = region_entry(region, now)?;
        if entries.iter().any(|e| e.code == entry.code) {
            return Err(TrustBuildError::DuplicateRegion(entry.code.to_string()));
        }
        entries.push(entry);
    }
    Ok(TrustListClaims {
        seq,
        iat: now.seconds(),
        next_update: now.plus(validity_seconds).seconds(),
        operator: OperatorInfo {
            name: operator_name.to_owned(),
        },
        regions: entries,
        next_operator_certs: Vec::new(),
    })
}

/// Checks every entry and signs. The operator certificate goes into `x5c`.
pub fn sign(
    claims: &TrustListClaims,
    operator_key: &PrivateKey,
    operator_cert_der: &[u8],
) -> Result<String, TrustBuildError> {
    let problems = claims.problems();
    if !problems.is_empty() {
        return Err(TrustBuildError::Broken(problems));
    }
    let operator = Certificate::from_der(operator_cert_der)
        .map_err(|e| TrustBuildError::Operator(e.to_string()))?;
    let spki = operator_key
        .public_key_spki_der()
        .map_err(|e| TrustBuildError::Operator(e.to_string()))?;
    if operator.public_key().spki_der() != spki.as_slice() {
        return Err(TrustBuildError::Operator(
            "the key does not belong to the certificate".into(),
        ));
    }
    operator
        .check_valid_at(UnixTime(claims.iat))
        .map_err(|e| TrustBuildError::Operator(e.to_string()))?;
    let params = HeaderParams {
        typ: Some(TRUST_LIST_TYP),
        x5c: vec![operator_cert_der.to_vec()],
        ..HeaderParams::default()
    };
    Ok(sign_json_compact(&params, claims, operator_key, false)?)
}
