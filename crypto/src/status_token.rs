//! Status-list tokens (SPEC §4): signing one, and verifying one against the trust list.
//!
//! A status list counts for a licence only if its signer chains to a root of the region whose
//! `status_uri_prefix` the list's URI starts with, carries the status-signer EKU and was valid
//! when the list was signed. A [`VerifiedStatusList`] can only come out of
//! [`VerifiedStatusList::verify`]; whether it is still fresh is asked at each use, with the
//! time of that use.

use serde::{Deserialize, Serialize};

use crate::cert::{CertError, Certificate};
use crate::ids::RegionCode;
use crate::jws::{self, HeaderParams, JwsError, Limits, UnverifiedJws};
use crate::oids::Purpose;
use crate::sign::{SignError, Signer};
use crate::status_list::{StatusList, StatusListClaim, StatusListError, StatusValue};
use crate::time::UnixTime;
use crate::trust_list::TrustList;

/// `typ` of a status-list token.
pub const STATUS_LIST_TYP: &str = "statuslist+jwt";
/// Largest status-list token accepted.
pub const MAX_STATUS_TOKEN_BYTES: usize = 8 * 1024 * 1024;
const LIMITS: Limits = Limits {
    max_token_bytes: MAX_STATUS_TOKEN_BYTES,
    max_payload_bytes: MAX_STATUS_TOKEN_BYTES,
};

/// The claims of a status-list token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusListClaims {
    /// The list's URI (must equal the URI licences reference).
    pub sub: String,
    /// Signing time.
    pub iat: i64,
    /// After this the list must not be used.
    pub exp: i64,
    /// Seconds a consumer may cache it before fetching again.
    pub ttl: u64,
    /// The list.
    pub status_list: StatusListClaim,
}

impl StatusListClaims {
    /// Signs the claims; the status signer's certificate goes into `x5c`.
    pub fn sign(&self, signer: &dyn Signer, signer_cert_der: &[u8]) -> Result<String, SignError> {
        let params = HeaderParams {
            typ: Some(STATUS_LIST_TYP),
            x5c: vec![signer_cert_der.to_vec()],
            ..HeaderParams::default()
        };
        jws::sign_json_compact(&params, self, signer, false)
    }
}

/// Why a status-list token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusTokenError {
    /// Not a well-formed JWS of the right type.
    #[error("status list token: {0}")]
    Jws(#[from] JwsError),
    /// No signer certificate in `x5c`.
    #[error("status list token has no x5c signer certificate")]
    NoSignerCertificate,
    /// The signer certificate is unusable.
    #[error("status list signer: {0}")]
    Certificate(#[from] CertError),
    /// The URI is outside every region's status prefix.
    #[error("status list URI {0:?} is outside every region's status_uri_prefix")]
    UnknownUri(String),
    /// The signer does not chain to the region's roots.
    #[error("status list signer does not chain to a root of region {0}")]
    WrongRegion(RegionCode),
    /// The signature does not verify.
    #[error("status list signature does not verify")]
    BadSignature,
    /// The claims are not a status list.
    #[error("status list claims: {0}")]
    Claims(String),
    /// `sub` is not the URI it was fetched for.
    #[error("status list sub {found:?} is not the expected URI {expected:?}")]
    SubjectMismatch {
        /// What `sub` said.
        found: String,
        /// The URI asked for.
        expected: String,
    },
    /// The list itself does not decode.
    #[error("status list: {0}")]
    List(String),
    /// Only 2-bit lists are used for licences.
    #[error("status list has {0} bits per entry; licences use 2")]
    WrongBits(u8),
}

/// A status list whose token verified against the trust list.
#[derive(Debug, Clone)]
pub struct VerifiedStatusList {
    uri: String,
    region: RegionCode,
    iat: UnixTime,
    exp: UnixTime,
    ttl: u64,
    list: StatusList,
}

impl VerifiedStatusList {
    /// Verifies a status-list token fetched from `uri`: `sub` must equal `uri`.
    pub fn verify(
        token: &str,
        uri: &str,
        trust: &TrustList,
    ) -> Result<VerifiedStatusList, StatusTokenError> {
        Self::verify_inner(token, Some(uri), trust)
    }

    /// Verifies a status-list token found without a URI (a file in a directory): the URI is
    /// taken from `sub`, after the signature verified, and must still be within a region's
    /// prefix whose roots issued the signer.
    pub fn verify_standalone(
        token: &str,
        trust: &TrustList,
    ) -> Result<VerifiedStatusList, StatusTokenError> {
        Self::verify_inner(token, None, trust)
    }

    fn verify_inner(
        token: &str,
        expected_uri: Option<&str>,
        trust: &TrustList,
    ) -> Result<VerifiedStatusList, StatusTokenError> {
        let jws = UnverifiedJws::parse(token.trim(), LIMITS)?;
        jws.header().expect_typ(STATUS_LIST_TYP)?;
        let cert_der = jws
            .header()
            .x5c
            .first()
            .ok_or(StatusTokenError::NoSignerCertificate)?;
        let cert = Certificate::from_der(cert_der)?;
        cert.check_leaf_profile(Purpose::StatusSigner)?;
        // The key is not trusted yet; the chain check below, against the region that `sub`
        // names, is what makes the signature count.
        let verified = jws
            .verify(cert.public_key())
            .map_err(|_| StatusTokenError::BadSignature)?;
        let payload = verified.payload(MAX_STATUS_TOKEN_BYTES)?;
        let claims: StatusListClaims = serde_json::from_slice(&payload)
            .map_err(|e| StatusTokenError::Claims(e.to_string()))?;
        if let Some(uri) = expected_uri {
            if claims.sub != uri {
                return Err(StatusTokenError::SubjectMismatch {
                    found: claims.sub.chars().take(200).collect(),
                    expected: uri.to_owned(),
                });
            }
        }
        let region = trust
            .region_for_status_uri(&claims.sub)
            .ok_or_else(|| StatusTokenError::UnknownUri(claims.sub.chars().take(200).collect()))?;
        if !region
            .roots
            .iter()
            .any(|root| cert.check_issued_by(root).is_ok())
        {
            return Err(StatusTokenError::WrongRegion(region.code.clone()));
        }
        cert.check_valid_at(UnixTime(claims.iat))?;
        if claims.status_list.bits != 2 {
            return Err(StatusTokenError::WrongBits(claims.status_list.bits));
        }
        let list = claims
            .status_list
            .decode()
            .map_err(|e: StatusListError| StatusTokenError::List(e.to_string()))?;
        Ok(VerifiedStatusList {
            uri: claims.sub,
            region: region.code.clone(),
            iat: UnixTime(claims.iat),
            exp: UnixTime(claims.exp),
            ttl: claims.ttl,
            list,
        })
    }

    /// The URI it was fetched from (= `sub`).
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The region whose status signer signed it.
    pub fn region(&self) -> &RegionCode {
        &self.region
    }

    /// Signing time.
    pub fn iat(&self) -> UnixTime {
        self.iat
    }

    /// Expiry.
    pub fn exp(&self) -> UnixTime {
        self.exp
    }

    /// Caching hint, seconds.
    pub fn ttl(&self) -> u64 {
        self.ttl
    }

    /// Usable at `at`: signed no later than `at` (plus skew) and not expired.
    pub fn is_fresh(&self, at: UnixTime, skew_seconds: i64) -> bool {
        self.iat <= at.plus(skew_seconds) && at <= self.exp
    }

    /// Number of entries.
    pub fn capacity(&self) -> usize {
        self.list.capacity()
    }

    /// The status at `index`, `None` if out of range.
    pub fn status(&self, index: u64) -> Option<StatusValue> {
        usize::try_from(index).ok().and_then(|i| self.list.get(i))
    }
}
