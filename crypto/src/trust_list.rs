//! The national trust list (SPEC §5): its wire model, its signature check against pinned
//! operator certificates, the checks of every entry, and `seq` / `next_update` semantics.
//!
//! A [`TrustList`] can only be made by [`TrustList::verify`], so holding one means the operator
//! signed it and every usable entry chains, carries the right EKU and has a strong key.
//! Broken entries are never used: building a list refuses them ([`TrustListClaims::problems`]),
//! and a verifier that meets one anyway (an operator mistake) sets it aside, keeps the reason
//! and answers for the rest.
//!
//! Submodules: `url` owns the URL rules (status-list prefixes, witness URLs), `log` the
//! issuance-log fields of SPEC §12 (`log_key`, `witnesses`, `witness_quorum`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::alg::{Algorithm, KeyKind};
use crate::b64;
use crate::cert::{CertError, Certificate, MAX_CERT_BYTES};
use crate::ids::RegionCode;
use crate::jws::{JwsError, Limits, UnverifiedJws};
use crate::key::KeyError;
use crate::oids::Purpose;
use crate::time::UnixTime;
use crate::tlog::vkey::VerifierKey;

mod log;
mod set_aside;
mod url;

pub use log::{TrustedLog, WitnessEntry};
pub use set_aside::SetAsideSigner;
use url::{check_prefixes_disjoint, STATUS_URI_PREFIX_ENTRY};
pub use url::{check_status_uri_prefix, check_witness_url};

/// `typ` of a trust-list token.
pub const TRUST_LIST_TYP: &str = "trustlist+jwt";
/// Largest trust-list token accepted (34 provinces with a handful of certificates each fit
/// comfortably).
pub const MAX_TRUST_LIST_BYTES: usize = 8 * 1024 * 1024;
/// Longest leaf validity accepted (SPEC §2: ≤ 3 years; one leap day of slack).
pub const MAX_LEAF_VALIDITY_SECONDS: i64 = (3 * 365 + 1) * 86_400;
/// Scope granting every licence type.
pub const ALL_TYPES: &str = "*";

/// Limits for trust-list tokens.
pub const LIMITS: Limits = Limits {
    max_token_bytes: MAX_TRUST_LIST_BYTES,
    max_payload_bytes: MAX_TRUST_LIST_BYTES,
};

/// The signed claims of a trust list, as on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustListClaims {
    /// Strictly increasing version.
    pub seq: u64,
    /// When the operator signed it (seconds).
    pub iat: i64,
    /// After this (plus grace) verifiers report the list as stale.
    pub next_update: i64,
    /// Who operates it.
    pub operator: OperatorInfo,
    /// One entry per province.
    pub regions: Vec<RegionEntry>,
    /// Announced successor operator certificates (base64 DER).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub next_operator_certs: Vec<String>,
}

/// The trust-list operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorInfo {
    /// Display name.
    pub name: String,
}

/// Whether a region's licences are currently accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegionStatus {
    /// Accepted.
    Active,
    /// Temporarily not accepted (`issuer_suspended`).
    Suspended,
}

/// One province's trust material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionEntry {
    /// GB/T 2260 province code.
    pub code: RegionCode,
    /// Display name, e.g. 浙江省.
    pub name: String,
    /// Active or suspended.
    pub status: RegionStatus,
    /// Province root CA certificates (base64 DER).
    pub roots: Vec<String>,
    /// Licence signers.
    pub signers: Vec<SignerEntry>,
    /// Status-list signer certificates (base64 DER).
    #[serde(default)]
    pub status_signers: Vec<String>,
    /// Seal-maker certificates (base64 DER).
    #[serde(default)]
    pub seal_makers: Vec<String>,
    /// The only URL prefix status lists of this region may come from.
    pub status_uri_prefix: String,
    /// Where the province's issuer serves (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_uri: Option<String>,
    /// The Ed25519 key (type 0x01) that signs the region's issuance-log checkpoints (SPEC §12);
    /// its name is the log's origin, `huren.gov.cn/log/<code>`. Absent: the region keeps no log
    /// (lists made before logs existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_key: Option<VerifierKey>,
    /// Who cosigns the log's checkpoints (each a cosignature/v1 key, type 0x04).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub witnesses: Vec<WitnessEntry>,
    /// How many distinct `witnesses` must cosign a checkpoint for it to count as witnessed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub witness_quorum: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Whether a licence signer is still trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignerStatus {
    /// Trusted.
    Active,
    /// Revoked from `revoked_at` on (or always, if that is absent).
    Revoked,
}

/// A licence signer and what it may sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerEntry {
    /// Certificate (base64 DER).
    pub cert: String,
    /// Licence type codes it may sign, or `*`.
    pub scopes: Vec<String>,
    /// Active or revoked.
    pub status: SignerStatus,
    /// Licences signed at or after this time (seconds) are refused.
    #[serde(default)]
    pub revoked_at: Option<i64>,
    /// The JOSE algorithm the signer uses (an RSA key may sign PS256 or RS256; third parties
    /// reading the JWKS need to know which). huren extension; optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<Algorithm>,
}

/// A problem with one trust-list entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryProblem {
    /// Region code (as written).
    pub region: String,
    /// Which entry, e.g. `signers[2]`.
    pub entry: String,
    /// What is wrong.
    pub problem: String,
    /// SHA-256 of the entry's certificate, when it parsed far enough to have one.
    #[serde(skip)]
    pub x5t_s256: Option<[u8; 32]>,
    /// Whether the entry's key is too weak or of an unsupported kind (verification reports
    /// tokens from it as `unsupported_algorithm` rather than `unknown_signer`).
    #[serde(skip)]
    pub weak_key: bool,
}

/// Why a trust list was refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustListError {
    /// The token is not a well-formed JWS of the right type.
    #[error("trust list token: {0}")]
    Jws(#[from] JwsError),
    /// No `x5c` operator certificate in the header.
    #[error("trust list header has no x5c operator certificate")]
    NoOperatorCertificate,
    /// Its operator certificate is not one of the pinned ones.
    #[error("trust list is signed by {subject:?}, which is not a pinned operator certificate")]
    OperatorNotPinned {
        /// Subject of the certificate found (or "unparseable").
        subject: String,
    },
    /// No pinned certificates were given (fail closed).
    #[error("no operator certificate is pinned")]
    NothingPinned,
    /// The operator signature does not verify.
    #[error("trust list signature does not verify")]
    BadSignature,
    /// The operator certificate was not valid when the list was signed.
    #[error("operator certificate: {0}")]
    OperatorCertificate(CertError),
    /// The claims are not a trust list.
    #[error("trust list claims: {0}")]
    Claims(String),
    /// A region's `status_uri_prefix` breaks the rules of SPEC §5. Refused as a whole, not set
    /// aside: the prefix decides which region's status signers may speak for a status-list URI,
    /// so one bad prefix can let one province clear another's revocations.
    #[error("trust list region {region}: status_uri_prefix {problem}")]
    StatusUriPrefix {
        /// Region code (as written).
        region: String,
        /// What is wrong.
        problem: String,
    },
}

/// Why a newer trust list may not replace the one held.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RollbackError {
    /// Lower `seq` than the accepted list.
    #[error("trust list seq {offered} is lower than the accepted seq {accepted}")]
    OlderSeq {
        /// Offered.
        offered: u64,
        /// Accepted.
        accepted: u64,
    },
    /// Same `seq`, different content.
    #[error("trust list seq {seq} was already accepted with different content")]
    SeqReused {
        /// The reused seq.
        seq: u64,
    },
}

/// A region's verified trust material.
#[derive(Debug, Clone)]
pub struct TrustedRegion {
    /// Province code.
    pub code: RegionCode,
    /// Display name.
    pub name: String,
    /// Active or suspended.
    pub status: RegionStatus,
    /// Root certificates (self-signed CAs).
    pub roots: Vec<Certificate>,
    /// Status-list signers named in the list.
    pub status_signers: Vec<Certificate>,
    /// Seal makers.
    pub seal_makers: Vec<Certificate>,
    /// Status-list URL prefix.
    pub status_uri_prefix: String,
    /// Issuer base URL.
    pub issuer_uri: Option<String>,
    /// Its issuance log, when the list names one whose fields passed every check.
    pub log: Option<TrustedLog>,
}

/// A licence signer whose chain and profile checked out.
#[derive(Debug, Clone)]
pub struct TrustedSigner {
    /// Index into [`TrustList::regions`].
    pub region_index: usize,
    /// The certificate.
    pub cert: Certificate,
    /// Allowed type codes, or `*`.
    pub scopes: Vec<String>,
    /// Revocation time, if revoked (`Some(UnixTime(i64::MIN))` when revoked with no time).
    pub revoked_at: Option<UnixTime>,
    /// Start of the period in which both the signer and its root were valid.
    pub valid_from: UnixTime,
    /// End of that period.
    pub valid_until: UnixTime,
    /// Declared JOSE algorithm, if any.
    pub alg: Option<Algorithm>,
}

impl TrustedSigner {
    /// Whether the scopes allow licence type `type_code`.
    pub fn may_sign_type(&self, type_code: &str) -> bool {
        self.scopes.iter().any(|s| s == ALL_TYPES || s == type_code)
    }
}

/// A verified trust list. Only [`TrustList::verify`] makes one.
#[derive(Debug, Clone)]
pub struct TrustList {
    claims: TrustListClaims,
    digest: [u8; 32],
    operator: Certificate,
    regions: Vec<TrustedRegion>,
    signers: HashMap<[u8; 32], TrustedSigner>,
    set_aside: HashMap<[u8; 32], SetAsideSigner>,
    problems: Vec<EntryProblem>,
    next_operator_certs: Vec<Certificate>,
}

impl TrustList {
    /// Verifies a trust-list token against the pinned operator certificates (fails closed on
    /// an empty pin set):
    ///
    /// ```
    /// use huren_crypto::trust_list::{TrustList, TrustListError};
    /// assert_eq!(TrustList::verify("a.b.c", &[]).unwrap_err(), TrustListError::NothingPinned);
    /// ```
    ///
    /// The header's
    /// `x5c[0]` must be byte-identical to a pinned certificate, valid at the list's `iat`, and
    /// its signature must verify. Entries are then checked; broken ones are set aside (see
    /// [`TrustList::problems`]).
    pub fn verify(token: &str, pinned: &[Certificate]) -> Result<TrustList, TrustListError> {
        if pinned.is_empty() {
            return Err(TrustListError::NothingPinned);
        }
        let jws = UnverifiedJws::parse(token.trim(), LIMITS)?;
        jws.header().expect_typ(TRUST_LIST_TYP)?;
        let Some(operator_der) = jws.header().x5c.first() else {
            return Err(TrustListError::NoOperatorCertificate);
        };
        let Some(operator) = pinned.iter().find(|p| p.der() == operator_der.as_slice()) else {
            let subject = Certificate::from_der(operator_der)
                .map(|c| c.subject().to_owned())
                .unwrap_or_else(|_| "unparseable".into());
            return Err(TrustListError::OperatorNotPinned { subject });
        };
        let verified = jws
            .verify(operator.public_key())
            .map_err(|_| TrustListError::BadSignature)?;
        let payload = verified.payload(MAX_TRUST_LIST_BYTES)?;
        let claims: TrustListClaims =
            serde_json::from_slice(&payload).map_err(|e| TrustListError::Claims(e.to_string()))?;
        operator
            .check_valid_at(UnixTime(claims.iat))
            .map_err(TrustListError::OperatorCertificate)?;
        let assembled = assemble(&claims);
        if let Some(bad) = assembled
            .problems
            .iter()
            .find(|p| p.entry == STATUS_URI_PREFIX_ENTRY)
        {
            return Err(TrustListError::StatusUriPrefix {
                region: bad.region.clone(),
                problem: bad.problem.clone(),
            });
        }
        Ok(TrustList {
            digest: Sha256::digest(&payload).into(),
            operator: operator.clone(),
            regions: assembled.regions,
            signers: assembled.signers,
            set_aside: assembled.set_aside,
            problems: assembled.problems,
            next_operator_certs: assembled.next_operator_certs,
            claims,
        })
    }

    /// The claims as signed.
    pub fn claims(&self) -> &TrustListClaims {
        &self.claims
    }

    /// Version number.
    pub fn seq(&self) -> u64 {
        self.claims.seq
    }

    /// Signing time.
    pub fn iat(&self) -> UnixTime {
        UnixTime(self.claims.iat)
    }

    /// When a newer list is due.
    pub fn next_update(&self) -> UnixTime {
        UnixTime(self.claims.next_update)
    }

    /// SHA-256 of the signed payload (identifies the content for rollback checks).
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }

    /// The operator certificate that signed it.
    pub fn operator(&self) -> &Certificate {
        &self.operator
    }

    /// Announced successor operator certificates that parsed.
    pub fn next_operator_certs(&self) -> &[Certificate] {
        &self.next_operator_certs
    }

    /// Whether the list is stale at `at`, allowing `grace_seconds` past `next_update`.
    pub fn is_stale(&self, at: UnixTime, grace_seconds: i64) -> bool {
        at > self.next_update().plus(grace_seconds)
    }

    /// The usable regions.
    pub fn regions(&self) -> &[TrustedRegion] {
        &self.regions
    }

    /// Region by code.
    pub fn region(&self, code: &RegionCode) -> Option<&TrustedRegion> {
        self.regions.iter().find(|r| &r.code == code)
    }

    /// The region whose status-list prefix `uri` starts with.
    pub fn region_for_status_uri(&self, uri: &str) -> Option<&TrustedRegion> {
        self.regions
            .iter()
            .find(|r| !r.status_uri_prefix.is_empty() && uri.starts_with(&r.status_uri_prefix))
    }

    /// The region whose checked log has `origin` (`huren.gov.cn/log/<code>`), and that log.
    pub fn log(&self, origin: &str) -> Option<(&TrustedRegion, &TrustedLog)> {
        let code = crate::tlog::origin_region(origin)?;
        let region = self.region(&code)?;
        let log = region.log.as_ref().filter(|l| l.origin() == origin)?;
        Some((region, log))
    }

    /// The regions whose checked log lists `witness` (same name and key) as a witness: whose
    /// checkpoints the holder of that key should cosign.
    pub fn regions_witnessed_by(&self, witness: &VerifierKey) -> Vec<&TrustedRegion> {
        self.regions
            .iter()
            .filter(|r| r.log.as_ref().is_some_and(|l| l.lists_witness(witness)))
            .collect()
    }

    /// A usable licence signer by `x5t#S256`.
    pub fn signer(&self, x5t_s256: &[u8; 32]) -> Option<&TrustedSigner> {
        self.signers.get(x5t_s256)
    }

    /// A listed licence signer refused as its region's (chain, EKU, validity), for reporting
    /// its tokens as `issuer_not_authorised` ([`SetAsideSigner`]); never to be trusted.
    pub fn set_aside_signer(&self, x5t_s256: &[u8; 32]) -> Option<&SetAsideSigner> {
        self.set_aside.get(x5t_s256)
    }

    /// All usable licence signers.
    pub fn signers(&self) -> impl Iterator<Item = &TrustedSigner> {
        self.signers.values()
    }

    /// Entries set aside as broken.
    pub fn problems(&self) -> &[EntryProblem] {
        &self.problems
    }

    /// A set-aside entry by certificate hash.
    pub fn rejected_entry(&self, x5t_s256: &[u8; 32]) -> Option<&EntryProblem> {
        self.problems
            .iter()
            .find(|p| p.x5t_s256.as_ref() == Some(x5t_s256))
    }

    /// Whether this list may replace one previously accepted with `accepted_seq` and
    /// `accepted_digest`: a higher `seq`, or the very same content again.
    pub fn check_supersedes(
        &self,
        accepted_seq: u64,
        accepted_digest: &[u8; 32],
    ) -> Result<(), RollbackError> {
        match self.seq().cmp(&accepted_seq) {
            std::cmp::Ordering::Less => Err(RollbackError::OlderSeq {
                offered: self.seq(),
                accepted: accepted_seq,
            }),
            std::cmp::Ordering::Equal if &self.digest != accepted_digest => {
                Err(RollbackError::SeqReused { seq: self.seq() })
            }
            _ => Ok(()),
        }
    }
}

impl TrustListClaims {
    /// Every problem with the entries; a list is only built when this is empty.
    pub fn problems(&self) -> Vec<EntryProblem> {
        assemble(self).problems
    }
}

struct Assembled {
    regions: Vec<TrustedRegion>,
    signers: HashMap<[u8; 32], TrustedSigner>,
    set_aside: HashMap<[u8; 32], SetAsideSigner>,
    problems: Vec<EntryProblem>,
    next_operator_certs: Vec<Certificate>,
}

/// Collects problems for one region while its entries are checked.
struct RegionChecker<'a> {
    code: &'a str,
    problems: &'a mut Vec<EntryProblem>,
}

impl RegionChecker<'_> {
    /// The problem reported last.
    fn last_problem(&self) -> String {
        self.problems
            .last()
            .map(|p| p.problem.clone())
            .unwrap_or_default()
    }

    fn report(&mut self, entry: String, problem: String, x5t_s256: Option<[u8; 32]>, weak: bool) {
        self.problems.push(EntryProblem {
            region: self.code.to_owned(),
            entry,
            problem,
            x5t_s256,
            weak_key: weak,
        });
    }

    fn parse(&mut self, entry: &str, b64_der: &str) -> Option<Certificate> {
        let der = match b64::decode_std(b64_der, MAX_CERT_BYTES * 4 / 3 + 4) {
            Ok(der) => der,
            Err(e) => {
                self.report(
                    entry.into(),
                    format!("certificate is not base64: {e}"),
                    None,
                    false,
                );
                return None;
            }
        };
        match Certificate::from_der(&der) {
            Ok(cert) => Some(cert),
            Err(e) => {
                let weak = matches!(
                    e,
                    CertError::Key(KeyError::RsaKeySize { .. })
                        | CertError::Key(KeyError::UnsupportedKeyAlgorithm(_))
                );
                let x5t: [u8; 32] = Sha256::digest(&der).into();
                self.report(entry.into(), e.to_string(), Some(x5t), weak);
                None
            }
        }
    }

    /// Parses a leaf, finds the root that issued it and checks its profile for `purpose`.
    /// Returns the leaf with the window in which both it and its root are valid; refused, the
    /// leaf when it parsed (its problem reported) — a [`SetAsideSigner`] for a licence signer.
    fn leaf(
        &mut self,
        entry: &str,
        b64_der: &str,
        roots: &[Certificate],
        purpose: Purpose,
    ) -> Result<(Certificate, UnixTime, UnixTime), Option<Certificate>> {
        let cert = self.parse(entry, b64_der).ok_or(None)?;
        let x5t = Some(cert.x5t_s256());
        let mut last_error = None;
        let root = roots.iter().find(|root| match cert.check_issued_by(root) {
            Ok(()) => true,
            Err(e) => {
                last_error = Some(e);
                false
            }
        });
        let Some(root) = root else {
            let why = last_error
                .map_or_else(|| "region has no usable root".to_owned(), |e| e.to_string());
            self.report(
                entry.into(),
                format!("does not chain to a root of the region: {why}"),
                x5t,
                false,
            );
            return Err(Some(cert));
        };
        if let Err(e) = cert.check_leaf_profile(purpose) {
            self.report(entry.into(), e.to_string(), x5t, false);
            return Err(Some(cert));
        }
        if cert.not_after().seconds() - cert.not_before().seconds() > MAX_LEAF_VALIDITY_SECONDS {
            self.report(
                entry.into(),
                "leaf validity is longer than 3 years".into(),
                x5t,
                false,
            );
            return Err(Some(cert));
        }
        let from = cert.not_before().max(root.not_before());
        let until = cert.not_after().min(root.not_after());
        if from > until {
            self.report(
                entry.into(),
                "validity does not overlap its root's".into(),
                x5t,
                false,
            );
            return Err(Some(cert));
        }
        Ok((cert, from, until))
    }
}

fn assemble(claims: &TrustListClaims) -> Assembled {
    let mut problems = Vec::new();
    let mut regions = Vec::new();
    let mut signers: HashMap<[u8; 32], TrustedSigner> = HashMap::new();
    let mut set_aside: HashMap<[u8; 32], SetAsideSigner> = HashMap::new();
    let mut seen_codes = Vec::new();
    let log_keys: Vec<(&str, &VerifierKey)> = claims
        .regions
        .iter()
        .filter_map(|r| Some((r.code.as_str(), r.log_key.as_ref()?)))
        .collect();

    for entry in &claims.regions {
        let code = entry.code.as_str();
        let mut checker = RegionChecker {
            code,
            problems: &mut problems,
        };
        if seen_codes.contains(&code) {
            checker.report("code".into(), "region appears twice".into(), None, false);
            continue;
        }
        seen_codes.push(code);
        if !entry.code.is_province() {
            checker.report(
                "code".into(),
                "not a province-level code (…0000)".into(),
                None,
                false,
            );
            continue;
        }
        if let Err(problem) = check_status_uri_prefix(&entry.status_uri_prefix) {
            checker.report(STATUS_URI_PREFIX_ENTRY.into(), problem, None, false);
        }

        let mut roots = Vec::new();
        for (i, b64_der) in entry.roots.iter().enumerate() {
            let name = format!("roots[{i}]");
            let Some(root) = checker.parse(&name, b64_der) else {
                continue;
            };
            let x5t = Some(root.x5t_s256());
            if !root.is_ca() || !root.is_self_issued() {
                checker.report(name, "not a self-issued CA certificate".into(), x5t, false);
            } else if let Err(e) = root.check_issued_by(&root) {
                checker.report(name, e.to_string(), x5t, false);
            } else {
                roots.push(root);
            }
        }
        if roots.is_empty() {
            checker.report(
                "roots".into(),
                "region has no usable root".into(),
                None,
                false,
            );
        }

        let region_index = regions.len();
        for (i, signer) in entry.signers.iter().enumerate() {
            let name = format!("signers[{i}]");
            let (cert, from, until) =
                match checker.leaf(&name, &signer.cert, &roots, Purpose::LicenceSigner) {
                    Ok(accepted) => accepted,
                    Err(Some(refused)) => {
                        let problem = checker.last_problem();
                        let (from, until) = (refused.not_before(), refused.not_after());
                        let signer = TrustedSigner {
                            region_index,
                            cert: refused,
                            scopes: signer.scopes.clone(),
                            revoked_at: None,
                            valid_from: from,
                            valid_until: until,
                            alg: signer.alg,
                        };
                        let x5t = signer.cert.x5t_s256();
                        set_aside.insert(x5t, SetAsideSigner { signer, problem });
                        continue;
                    }
                    Err(None) => continue,
                };
            let x5t = cert.x5t_s256();
            if signer.scopes.is_empty() {
                checker.report(name, "has no scopes".into(), Some(x5t), false);
                continue;
            }
            if signer.alg.is_none() && cert.public_key().kind() == KeyKind::Rsa {
                // An RSA key can verify both PS256 and RS256; the entry must say which one it
                // is trusted for (SPEC §5), or a PKCS#1 v1.5 forgery route stays open.
                let problem = "alg is required for an RSA key (PS256 or RS256)".to_owned();
                checker.report(name, problem, Some(x5t), false);
                continue;
            }
            if let Some(alg) = signer.alg {
                if alg.key_kind() != cert.public_key().kind() {
                    let problem = format!(
                        "alg {alg} does not fit its {} key",
                        cert.public_key().kind()
                    );
                    checker.report(name, problem, Some(x5t), false);
                    continue;
                }
            }
            if signers.contains_key(&x5t) {
                checker.report(name, "certificate listed twice".into(), Some(x5t), false);
                continue;
            }
            let revoked_at = match signer.status {
                SignerStatus::Active => None,
                SignerStatus::Revoked => Some(UnixTime(signer.revoked_at.unwrap_or(i64::MIN))),
            };
            signers.insert(
                x5t,
                TrustedSigner {
                    region_index,
                    cert,
                    scopes: signer.scopes.clone(),
                    revoked_at,
                    valid_from: from,
                    valid_until: until,
                    alg: signer.alg,
                },
            );
        }

        let mut leaves = |list: &[String], field: &str, purpose| {
            list.iter()
                .enumerate()
                .filter_map(|(i, b64_der)| {
                    checker
                        .leaf(&format!("{field}[{i}]"), b64_der, &roots, purpose)
                        .ok()
                        .map(|(cert, _, _)| cert)
                })
                .collect::<Vec<_>>()
        };
        let status_signers = leaves(
            &entry.status_signers,
            "status_signers",
            Purpose::StatusSigner,
        );
        let seal_makers = leaves(&entry.seal_makers, "seal_makers", Purpose::SealMaker);
        let log = log::check(entry, &log_keys, &mut checker);

        regions.push(TrustedRegion {
            code: entry.code.clone(),
            name: entry.name.clone(),
            status: entry.status,
            roots,
            status_signers,
            seal_makers,
            status_uri_prefix: entry.status_uri_prefix.clone(),
            issuer_uri: entry.issuer_uri.clone(),
            log,
        });
    }

    check_prefixes_disjoint(&claims.regions, &mut problems);

    let mut next_operator_certs = Vec::new();
    let mut operator_checker = RegionChecker {
        code: "operator",
        problems: &mut problems,
    };
    for (i, b64_der) in claims.next_operator_certs.iter().enumerate() {
        if let Some(cert) = operator_checker.parse(&format!("next_operator_certs[{i}]"), b64_der) {
            next_operator_certs.push(cert);
        }
    }
    if claims.next_update <= claims.iat {
        problems.push(EntryProblem {
            region: "operator".into(),
            entry: "next_update".into(),
            problem: "next_update is not after iat".into(),
            x5t_s256: None,
            weak_key: false,
        });
    }

    Assembled {
        regions,
        signers,
        set_aside,
        problems,
        next_operator_certs,
    }
}
