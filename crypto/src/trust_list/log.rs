//! The trust list's issuance-log fields (SPEC §12): a region's `log_key`, its `witnesses` and
//! its `witness_quorum`, the checks they must pass, and the lookups the issuer (logging, and
//! witnessing other regions' logs) and the verifier (checking checkpoints) make on them.
//!
//! A region whose log fields break a rule keeps its licences usable but has no log in the
//! verified list ([`super::TrustedRegion::log`] is `None`): fail closed, a verifier that
//! requires inclusion cannot be satisfied by a log it cannot check, and a witness set with a
//! rule broken (a key counted twice, a log witnessing itself) could fake a quorum.
//! This module checks and looks up; it never signs or fetches.

use serde::{Deserialize, Serialize};

use super::{check_witness_url, RegionChecker, RegionEntry};
use crate::tlog::origin;
use crate::tlog::vkey::{KeyType, VerifierKey};

/// A witness of a region's log, as listed in the trust list.
///
/// SPEC §12 names only `name` and `vkey`. `url` is a huren extension: a witness may be the
/// verifier service, which has no `issuer_uri` in the list, so the log needs to be told where to
/// submit checkpoints. For a witnessing region's issuer it is that issuer's public URL +
/// `/v1/witness`; the log POSTs to `<url>/add-checkpoint` (C2SP tlog-witness). It obeys the
/// `status_uri_prefix` URL rules ([`check_witness_url`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessEntry {
    /// The witness's key name, e.g. `huren.gov.cn/witness/320000` (equal to `vkey`'s name).
    pub name: String,
    /// Its cosignature/v1 verifier key (type 0x04).
    pub vkey: VerifierKey,
    /// Where the log submits checkpoints to it (see the type's documentation).
    pub url: String,
}

/// A region's log whose fields passed every check: what verifiers open checkpoints with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedLog {
    /// The log's Ed25519 key; its name is the log's origin.
    pub key: VerifierKey,
    /// Its witnesses.
    pub witnesses: Vec<WitnessEntry>,
    /// How many of them must cosign a checkpoint for it to count as witnessed.
    pub quorum: usize,
}

impl TrustedLog {
    /// The log's origin (`huren.gov.cn/log/<code>`).
    pub fn origin(&self) -> &str {
        self.key.name()
    }

    /// The witnesses' keys, as [`crate::tlog::note::open`] takes them.
    pub fn witness_keys(&self) -> Vec<VerifierKey> {
        self.witnesses.iter().map(|w| w.vkey.clone()).collect()
    }

    /// Whether `witness` (name, type and key) is one of this log's witnesses.
    pub fn lists_witness(&self, witness: &VerifierKey) -> bool {
        self.witnesses.iter().any(|w| &w.vkey == witness)
    }
}

impl RegionEntry {
    /// The log's key, its witnesses' keys and the quorum, as written (unchecked: a
    /// [`super::TrustList`] gives checked ones, [`super::TrustedRegion::log`]). `None` when the
    /// region lists no log key.
    pub fn log(&self) -> Option<(&VerifierKey, Vec<VerifierKey>, usize)> {
        let key = self.log_key.as_ref()?;
        let witnesses = self.witnesses.iter().map(|w| w.vkey.clone()).collect();
        Some((key, witnesses, self.witness_quorum))
    }
}

/// Checks `entry`'s log fields, reporting each problem through `checker`; `log_keys` are every
/// region's listed log keys. Returns the log when nothing was wrong with it.
pub(super) fn check(
    entry: &RegionEntry,
    log_keys: &[(&str, &VerifierKey)],
    checker: &mut RegionChecker<'_>,
) -> Option<TrustedLog> {
    let mut ok = true;
    let mut report = |entry: String, problem: String| {
        checker.report(entry, problem, None, false);
        ok = false;
    };
    match &entry.log_key {
        Some(key) => {
            if key.key_type() != KeyType::Ed25519 {
                report(LOG_KEY.into(), "key type must be Ed25519 (0x01)".into());
            }
            let expected = origin(&entry.code);
            if key.name() != expected {
                report(
                    LOG_KEY.into(),
                    format!(
                        "name {:?} must be the region's origin {expected:?}",
                        key.name()
                    ),
                );
            }
            for (code, other) in log_keys {
                if *code != entry.code.as_str() && other.public() == key.public() {
                    report(
                        LOG_KEY.into(),
                        format!("key is also region {code}'s log key"),
                    );
                }
            }
        }
        None if !entry.witnesses.is_empty() => {
            report(
                WITNESSES.into(),
                "witnesses are listed but no log_key".into(),
            );
        }
        None if entry.witness_quorum != 0 => {
            report(QUORUM.into(), "witness_quorum is set but no log_key".into());
        }
        None => {}
    }
    for (i, witness) in entry.witnesses.iter().enumerate() {
        let field = format!("{WITNESSES}[{i}]");
        if witness.vkey.key_type() != KeyType::Cosignature {
            report(
                field.clone(),
                "key type must be cosignature/v1 (0x04)".into(),
            );
        }
        if witness.name != witness.vkey.name() {
            report(
                field.clone(),
                format!(
                    "name {:?} is not its key's name {:?}",
                    witness.name,
                    witness.vkey.name()
                ),
            );
        }
        let earlier = &entry.witnesses[..i];
        if earlier.iter().any(|w| w.name == witness.name) {
            report(
                field.clone(),
                format!("name {:?} is listed twice", witness.name),
            );
        }
        // A cosignature/v1 signature does not commit to the name: one key under two names
        // would count twice towards the quorum.
        if let Some(j) = earlier
            .iter()
            .position(|w| w.vkey.public() == witness.vkey.public())
        {
            report(field.clone(), format!("key is also {WITNESSES}[{j}]'s key"));
        }
        // A log whose key also witnesses could cosign its own checkpoints.
        for (code, log_key) in log_keys {
            if log_key.public() == witness.vkey.public() {
                report(field.clone(), format!("key is region {code}'s log key"));
            }
        }
        if let Err(problem) = check_witness_url(&witness.url) {
            report(field, format!("url {problem}"));
        }
    }
    let listed = entry.witnesses.len();
    if entry.witness_quorum > listed {
        report(
            QUORUM.into(),
            format!(
                "witness_quorum {} is more than the {listed} witness(es) listed",
                entry.witness_quorum
            ),
        );
    } else if listed > 0 && entry.witness_quorum == 0 {
        report(
            QUORUM.into(),
            "witness_quorum must be at least 1 when witnesses are listed".into(),
        );
    }
    let key = entry.log_key.clone()?;
    ok.then(|| TrustedLog {
        key,
        witnesses: entry.witnesses.clone(),
        quorum: entry.witness_quorum,
    })
}

const LOG_KEY: &str = "log_key";
const WITNESSES: &str = "witnesses";
const QUORUM: &str = "witness_quorum";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

    use super::*;
    use crate::ids::RegionCode;
    use crate::tlog::witness_name;
    use crate::trust_list::{EntryProblem, OperatorInfo, RegionStatus, TrustListClaims};

    fn code(c: &str) -> RegionCode {
        RegionCode::parse(c).unwrap()
    }

    fn log_key(c: &str, seed: u8) -> VerifierKey {
        VerifierKey::new(&origin(&code(c)), KeyType::Ed25519, [seed; 32]).unwrap()
    }

    fn witness(c: &str, seed: u8) -> WitnessEntry {
        let name = witness_name(&code(c));
        WitnessEntry {
            vkey: VerifierKey::new(&name, KeyType::Cosignature, [seed; 32]).unwrap(),
            name,
            url: format!("https://issuer.{c}.example/v1/witness"),
        }
    }

    fn region(c: &str) -> RegionEntry {
        RegionEntry {
            code: code(c),
            name: code(c).province_name().into(),
            status: RegionStatus::Active,
            roots: vec![],
            signers: vec![],
            status_signers: vec![],
            seal_makers: vec![],
            status_uri_prefix: format!("https://issuer.{c}.example/v1/status/"),
            issuer_uri: None,
            log_key: None,
            witnesses: vec![],
            witness_quorum: 0,
        }
    }

    /// Zhejiang witnessed by Jiangsu and Anhui, quorum 1; each with its own log key.
    fn claims() -> TrustListClaims {
        let mut zj = region("330000");
        zj.log_key = Some(log_key("330000", 1));
        zj.witnesses = vec![witness("320000", 12), witness("340000", 14)];
        zj.witness_quorum = 1;
        let mut js = region("320000");
        js.log_key = Some(log_key("320000", 2));
        js.witnesses = vec![witness("330000", 13)];
        js.witness_quorum = 1;
        TrustListClaims {
            seq: 1,
            iat: 1_795_000_000,
            next_update: 1_795_086_400,
            operator: OperatorInfo {
                name: "国家政务服务平台".into(),
            },
            regions: vec![zj, js],
            next_operator_certs: vec![],
        }
    }

    /// The problems with log fields (the test regions have no certificates, which is another
    /// story).
    fn log_problems(claims: &TrustListClaims) -> Vec<(String, String, String)> {
        claims
            .problems()
            .into_iter()
            .filter(|p: &EntryProblem| {
                p.entry.starts_with(LOG_KEY)
                    || p.entry.starts_with(WITNESSES)
                    || p.entry.starts_with(QUORUM)
            })
            .map(|p| (p.region, p.entry, p.problem))
            .collect()
    }

    fn one(region: &str, entry: &str, problem: &str) -> Vec<(String, String, String)> {
        vec![(region.into(), entry.into(), problem.into())]
    }

    #[test]
    fn well_formed_log_fields_have_no_problem_and_read_back() {
        let claims = claims();
        assert_eq!(log_problems(&claims), vec![]);
        let (key, witnesses, quorum) = claims.regions[0].log().unwrap();
        assert_eq!(key.name(), "huren.gov.cn/log/330000");
        assert_eq!(witnesses.len(), 2);
        assert_eq!(quorum, 1);
        assert_eq!(region("110000").log(), None);
    }

    #[test]
    fn a_log_key_of_the_witness_type_is_a_problem() {
        let mut claims = claims();
        claims.regions[0].log_key = Some(
            VerifierKey::new("huren.gov.cn/log/330000", KeyType::Cosignature, [1; 32]).unwrap(),
        );
        assert_eq!(
            log_problems(&claims),
            one("330000", "log_key", "key type must be Ed25519 (0x01)")
        );
    }

    #[test]
    fn a_log_key_named_for_another_origin_is_a_problem() {
        let mut claims = claims();
        claims.regions[0].log_key = Some(log_key("310000", 1));
        assert_eq!(
            log_problems(&claims),
            one(
                "330000",
                "log_key",
                "name \"huren.gov.cn/log/310000\" must be the region's origin \"huren.gov.cn/log/330000\""
            )
        );
    }

    #[test]
    fn two_regions_with_one_log_key_are_a_problem_for_both() {
        let mut claims = claims();
        claims.regions[1].log_key = Some(log_key("320000", 1));
        assert_eq!(
            log_problems(&claims),
            vec![
                (
                    "330000".into(),
                    "log_key".into(),
                    "key is also region 320000's log key".into()
                ),
                (
                    "320000".into(),
                    "log_key".into(),
                    "key is also region 330000's log key".into()
                ),
            ]
        );
    }

    #[test]
    fn a_witness_key_of_the_log_type_is_a_problem() {
        let mut claims = claims();
        let name = witness_name(&code("320000"));
        claims.regions[0].witnesses[0].vkey =
            VerifierKey::new(&name, KeyType::Ed25519, [12; 32]).unwrap();
        assert_eq!(
            log_problems(&claims),
            one(
                "330000",
                "witnesses[0]",
                "key type must be cosignature/v1 (0x04)"
            )
        );
    }

    #[test]
    fn a_witness_name_that_is_not_its_keys_name_is_a_problem() {
        let mut claims = claims();
        claims.regions[0].witnesses[1].name = "huren.gov.cn/witness/310000".into();
        assert_eq!(
            log_problems(&claims),
            one(
                "330000",
                "witnesses[1]",
                "name \"huren.gov.cn/witness/310000\" is not its key's name \"huren.gov.cn/witness/340000\""
            )
        );
    }

    #[test]
    fn a_witness_listed_twice_by_name_is_a_problem() {
        let mut claims = claims();
        let mut again = witness("320000", 99);
        again.url = "https://other.example/v1/witness".into();
        claims.regions[0].witnesses.push(again);
        assert_eq!(
            log_problems(&claims),
            one(
                "330000",
                "witnesses[2]",
                "name \"huren.gov.cn/witness/320000\" is listed twice"
            )
        );
    }

    #[test]
    fn one_witness_key_under_two_names_is_a_problem() {
        let mut claims = claims();
        claims.regions[0].witnesses.push(witness("310000", 12));
        claims.regions[0].witness_quorum = 2;
        assert_eq!(
            log_problems(&claims),
            one("330000", "witnesses[2]", "key is also witnesses[0]'s key")
        );
    }

    #[test]
    fn a_witness_key_equal_to_any_regions_log_key_is_a_problem() {
        let mut claims = claims();
        // Jiangsu's witness key for Zhejiang is Jiangsu's own log key (seed 2).
        claims.regions[0].witnesses[0] = witness("320000", 2);
        assert_eq!(
            log_problems(&claims),
            one("330000", "witnesses[0]", "key is region 320000's log key")
        );
        let mut claims = self::claims();
        // Zhejiang witnessing itself with its own log key.
        claims.regions[1].witnesses[0] = witness("330000", 1);
        assert_eq!(
            log_problems(&claims),
            one("320000", "witnesses[0]", "key is region 330000's log key")
        );
    }

    #[test]
    fn a_witness_url_that_is_not_https_or_ends_in_a_slash_is_a_problem() {
        let mut claims = claims();
        claims.regions[0].witnesses[0].url = "http://issuer.js.example/v1/witness".into();
        claims.regions[0].witnesses[1].url = "https://issuer.ah.example/v1/witness/".into();
        assert_eq!(
            log_problems(&claims),
            vec![
                (
                    "330000".into(),
                    "witnesses[0]".into(),
                    "url must use https:// (http:// only for a loopback host)".into()
                ),
                (
                    "330000".into(),
                    "witnesses[1]".into(),
                    "url must not end in '/' (the log appends /add-checkpoint)".into()
                ),
            ]
        );
        let mut claims = self::claims();
        claims.regions[0].witnesses[0].url = "http://127.0.0.1:8443/v1/witness".into();
        assert_eq!(log_problems(&claims), vec![]);
    }

    #[test]
    fn a_quorum_above_the_witnesses_listed_is_a_problem() {
        let mut claims = claims();
        claims.regions[0].witness_quorum = 3;
        assert_eq!(
            log_problems(&claims),
            one(
                "330000",
                "witness_quorum",
                "witness_quorum 3 is more than the 2 witness(es) listed"
            )
        );
    }

    #[test]
    fn witnesses_with_a_zero_quorum_are_a_problem() {
        let mut claims = claims();
        claims.regions[0].witness_quorum = 0;
        assert_eq!(
            log_problems(&claims),
            one(
                "330000",
                "witness_quorum",
                "witness_quorum must be at least 1 when witnesses are listed"
            )
        );
        // A log without witnesses (quorum 0) is allowed: it is simply not witnessed.
        let mut claims = self::claims();
        claims.regions[0].witnesses.clear();
        claims.regions[0].witness_quorum = 0;
        assert_eq!(log_problems(&claims), vec![]);
    }

    #[test]
    fn witnesses_or_a_quorum_without_a_log_key_are_a_problem() {
        let mut claims = claims();
        claims.regions[0].log_key = None;
        assert_eq!(
            log_problems(&claims),
            one("330000", "witnesses", "witnesses are listed but no log_key")
        );
        let mut claims = self::claims();
        claims.regions[0].log_key = None;
        claims.regions[0].witnesses.clear();
        assert_eq!(
            log_problems(&claims),
            vec![
                (
                    "330000".into(),
                    "witness_quorum".into(),
                    "witness_quorum is set but no log_key".into()
                ),
                (
                    "330000".into(),
                    "witness_quorum".into(),
                    "witness_quorum 1 is more than the 0 witness(es) listed".into()
                ),
            ]
        );
    }

    #[test]
    fn a_list_with_logs_round_trips_and_one_without_is_written_as_before() {
        let claims = claims();
        let json = serde_json::to_string(&claims).unwrap();
        assert!(json.contains("\"log_key\":\"huren.gov.cn/log/330000+"));
        assert!(json.contains("\"witness_quorum\":1"));
        assert!(json.contains("\"url\":\"https://issuer.320000.example/v1/witness\""));
        let back: TrustListClaims = serde_json::from_str(&json).unwrap();
        assert_eq!(back, claims);

        let plain = region("110000");
        let json = serde_json::to_value(&plain).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert!(
            !keys
                .iter()
                .any(|k| ["log_key", "witnesses", "witness_quorum"].contains(k)),
            "{keys:?}"
        );
        let back: RegionEntry = serde_json::from_value(json).unwrap();
        assert_eq!(back, plain);
    }

    #[test]
    fn a_malformed_log_key_refuses_the_claims() {
        let mut json = serde_json::to_value(claims()).unwrap();
        json["regions"][0]["log_key"] = "huren.gov.cn/log/330000+00000000+AQ==".into();
        let err = serde_json::from_value::<TrustListClaims>(json).unwrap_err();
        assert!(err.to_string().contains("verifier key"), "{err}");
    }
}
