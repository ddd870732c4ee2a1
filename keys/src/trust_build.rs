//! Trust-list assembly (SPEC §5): collects every province's roots, signers, status signers
//! and seal makers, checks every entry, and signs the list with the operator key. A list that
//! would include a broken entry is refused, naming each problem.
//!
//! Issuance logs (SPEC §12): each region's `log_key` comes from its directory; by default every
//! *other* region in the list that has a witness key witnesses it ([`Witnessing`]), at the
//! witness region's issuer (`<public_url>/v1/witness`), with a quorum of one.

use huren_crypto::b64;
use huren_crypto::cert::Certificate;
use huren_crypto::jws::{sign_json_compact, HeaderParams};
use huren_crypto::time::UnixTime;
use huren_crypto::trust_list::{
    EntryProblem, OperatorInfo, RegionEntry, RegionStatus, SignerEntry, SignerStatus,
    TrustListClaims, WitnessEntry, TRUST_LIST_TYP,
};

use crate::keypair::PrivateKey;
use crate::layout::{KeyFiles, LayoutError, RegionDir};

/// Default time until the next list is due.
pub const DEFAULT_VALIDITY_SECONDS: i64 = 7 * 86_400;

/// Path of the witness endpoint below an issuer's public URL (the log posts
/// `<url>/add-checkpoint`).
pub const WITNESS_PATH: &str = "/v1/witness";

/// Default number of cosignatures that make a checkpoint witnessed.
pub const DEFAULT_WITNESS_QUORUM: usize = 1;

/// Who witnesses the regions' logs in the list built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Witnessing {
    /// Every other region of the list that has a witness key witnesses each region that has a
    /// log key. `quorum`: how many must cosign; `None` is [`DEFAULT_WITNESS_QUORUM`] (or 0 for a
    /// region nobody can witness, e.g. the only one in the list); a given quorum above a
    /// region's number of witnesses is refused ([`TrustBuildError::WitnessQuorum`]).
    OtherRegions {
        /// Cosignatures needed.
        quorum: Option<usize>,
    },
    /// No witnesses: logs are listed unwitnessed (`--no-witnesses`).
    None,
}

impl Default for Witnessing {
    fn default() -> Self {
        Witnessing::OtherRegions { quorum: None }
    }
}

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
    /// The witness quorum asked for cannot be met.
    #[error("--witness-quorum {quorum}: region {region} has only {witnesses} witness(es) (the other regions with a witness key)")]
    WitnessQuorum {
        /// The region.
        region: String,
        /// Quorum asked for.
        quorum: usize,
        /// Witnesses it would have.
        witnesses: usize,
    },
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
        log_key: config.log.as_ref().map(|l| l.vkey.clone()),
        witnesses: Vec::new(),
        witness_quorum: 0,
    })
}

/// The witness entry of `region`'s issuer, if it has a witness key.
pub fn witness_entry(region: &RegionDir) -> Option<WitnessEntry> {
    let witness = region.config.witness.as_ref()?;
    Some(WitnessEntry {
        name: witness.vkey.name().to_owned(),
        vkey: witness.vkey.clone(),
        url: format!(
            "{}{WITNESS_PATH}",
            region.config.public_url.trim_end_matches('/')
        ),
    })
}

/// Fills in the witnesses of every entry that has a log key, as `witnessing` says; `regions`
/// are the directories the entries were made from, in the same order.
fn add_witnesses(
    entries: &mut [RegionEntry],
    regions: &[RegionDir],
    witnessing: Witnessing,
) -> Result<(), TrustBuildError> {
    let Witnessing::OtherRegions { quorum } = witnessing else {
        return Ok(());
    };
    for entry in entries.iter_mut().filter(|e| e.log_key.is_some()) {
        entry.witnesses = regions
            .iter()
            .filter(|r| r.config.code != entry.code)
            .filter_map(witness_entry)
            .collect();
        let listed = entry.witnesses.len();
        entry.witness_quorum = match quorum {
            Some(k) if k > listed => {
                return Err(TrustBuildError::WitnessQuorum {
                    region: entry.code.to_string(),
                    quorum: k,
                    witnesses: listed,
                })
            }
            Some(k) => k,
            None => DEFAULT_WITNESS_QUORUM.min(listed),
        };
    }
    Ok(())
}

/// Assembles the claims for `regions`, issued at `now`: a retired status signer or seal maker
/// whose `listed_until` has passed is left out (that is where rollover drops it). The regions
/// witness each other's logs ([`Witnessing::default`]).
pub fn assemble(
    operator_name: &str,
    regions: &[RegionDir],
    seq: u64,
    now: UnixTime,
    validity_seconds: i64,
) -> Result<TrustListClaims, TrustBuildError> {
    assemble_with(
        operator_name,
        regions,
        seq,
        now,
        validity_seconds,
        Witnessing::default(),
    )
}

/// [`assemble`], with the logs' witnesses as `witnessing` says.
pub fn assemble_with(
    operator_name: &str,
    regions: &[RegionDir],
    seq: u64,
    now: UnixTime,
    validity_seconds: i64,
    witnessing: Witnessing,
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
    add_witnesses(&mut entries, regions, witnessing)?;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

    use std::path::Path;

    use huren_crypto::alg::Algorithm;
    use huren_crypto::ids::RegionCode;
    use huren_crypto::trust_list::TrustList;

    use super::*;
    use crate::layout::{init_operator, init_region, InitRegion};
    use crate::store::Protection;

    const NOW: UnixTime = UnixTime(1_795_000_000);

    fn region(dir: &Path, code: &str, port: u16) -> RegionDir {
        init_region(
            &dir.join(code),
            &InitRegion {
                code: RegionCode::parse(code).unwrap(),
                name: RegionCode::parse(code).unwrap().province_name().into(),
                alg: Algorithm::Es256,
                public_url: format!("http://127.0.0.1:{port}"),
                protection: Protection::Plaintext,
                now: NOW,
            },
        )
        .unwrap()
    }

    #[test]
    fn regions_witness_each_other_with_a_quorum_of_one_and_the_list_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let regions = [
            region(dir.path(), "330000", 8001),
            region(dir.path(), "320000", 8002),
            region(dir.path(), "340000", 8003),
        ];
        let operator = init_operator(
            &dir.path().join("op"),
            "op",
            Algorithm::Es256,
            Protection::Plaintext,
            NOW,
        )
        .unwrap();
        let claims = assemble("op", &regions, 1, NOW, DEFAULT_VALIDITY_SECONDS).unwrap();
        for (entry, region) in claims.regions.iter().zip(&regions) {
            assert_eq!(
                entry.log_key.as_ref(),
                Some(&region.config.log.as_ref().unwrap().vkey)
            );
            assert_eq!(entry.witness_quorum, 1);
            let names: Vec<&str> = entry.witnesses.iter().map(|w| w.name.as_str()).collect();
            let others: Vec<String> = regions
                .iter()
                .filter(|r| r.config.code != region.config.code)
                .map(|r| format!("huren.gov.cn/witness/{}", r.config.code))
                .collect();
            assert_eq!(names, others);
        }
        assert_eq!(
            claims.regions[0].witnesses[0].url,
            "http://127.0.0.1:8002/v1/witness"
        );

        let token = sign(
            &claims,
            &operator.key(None).unwrap(),
            &operator.certificate().unwrap(),
        )
        .unwrap();
        let pinned = [Certificate::from_der(&operator.certificate().unwrap()).unwrap()];
        let trust = TrustList::verify(&token, &pinned).unwrap();
        assert_eq!(trust.claims(), &claims, "the list round-trips");
        let (zj, log) = trust.log("huren.gov.cn/log/330000").unwrap();
        assert_eq!(zj.code.as_str(), "330000");
        assert_eq!(log.quorum, 1);
        assert_eq!(log.witness_keys().len(), 2);
        assert!(trust.log("huren.gov.cn/log/110000").is_none());

        // Jiangsu's issuer, acting as a witness, cosigns for Zhejiang and Anhui.
        let js_witness = regions[1].witness_key(None).unwrap().unwrap();
        let witnessed: Vec<&str> = trust
            .regions_witnessed_by(js_witness.verifier_key())
            .iter()
            .map(|r| r.code.as_str())
            .collect();
        assert_eq!(witnessed, ["330000", "340000"]);
    }

    #[test]
    fn a_quorum_above_the_witnesses_is_refused_and_no_witnesses_leaves_them_out() {
        let dir = tempfile::tempdir().unwrap();
        let regions = [
            region(dir.path(), "330000", 8001),
            region(dir.path(), "320000", 8002),
        ];
        let err = assemble_with(
            "op",
            &regions,
            1,
            NOW,
            DEFAULT_VALIDITY_SECONDS,
            Witnessing::OtherRegions { quorum: Some(2) },
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "--witness-quorum 2: region 330000 has only 1 witness(es) (the other regions with a witness key)"
        );

        let claims = assemble_with(
            "op",
            &regions,
            1,
            NOW,
            DEFAULT_VALIDITY_SECONDS,
            Witnessing::None,
        )
        .unwrap();
        for entry in &claims.regions {
            assert!(entry.log_key.is_some());
            assert!(entry.witnesses.is_empty());
            assert_eq!(entry.witness_quorum, 0);
        }
        assert!(claims.problems().is_empty(), "{:?}", claims.problems());

        // A lone region has nobody to witness it: its log is listed unwitnessed.
        let alone = assemble("op", &regions[..1], 1, NOW, DEFAULT_VALIDITY_SECONDS).unwrap();
        assert!(alone.regions[0].witnesses.is_empty());
        assert_eq!(alone.regions[0].witness_quorum, 0);
    }

    #[test]
    fn a_region_without_note_keys_gets_no_log_and_witnesses_nobody() {
        let dir = tempfile::tempdir().unwrap();
        let mut old = region(dir.path(), "330000", 8001);
        old.config.log = None;
        old.config.witness = None;
        let regions = [old, region(dir.path(), "320000", 8002)];
        let claims = assemble("op", &regions, 1, NOW, DEFAULT_VALIDITY_SECONDS).unwrap();
        assert_eq!(claims.regions[0].log_key, None);
        assert!(claims.regions[0].witnesses.is_empty());
        assert_eq!(claims.regions[0].witness_quorum, 0);
        // Jiangsu has a log but nobody with a witness key to witness it.
        assert!(claims.regions[1].log_key.is_some());
        assert!(claims.regions[1].witnesses.is_empty());
        let json = serde_json::to_value(&claims.regions[0]).unwrap();
        assert!(json.get("log_key").is_none() && json.get("witnesses").is_none());
    }
}
