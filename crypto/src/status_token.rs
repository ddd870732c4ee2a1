//! Status-list tokens (SPEC §4): signing one, and verifying one against the trust list.
//!
//! A status list counts for a licence only if its signer certificate is, byte for byte, one of
//! the `status_signers` of the region whose `status_uri_prefix` the list's URI starts with, in
//! the trust list in force (so the operator dropping a signer ends its power at once, whatever
//! its certificate's validity), was valid when the list was signed, and the list claims no
//! longer a life than [`MAX_STATUS_LIST_LIFETIME_SECONDS`]. Membership is decided from the
//! header alone, before any signature, payload or inflate work: a self-made `x5c` costs nothing.
//!
//! A [`VerifiedStatusList`] can only come out of [`VerifiedStatusList::verify`] (or
//! `verify_standalone`); whether it is still fresh is asked at each use, with the time of that
//! use. Never accepting a list older than one already accepted is the holder's job (it knows
//! what it accepted before): see the verifier's status cache.

use serde::{Deserialize, Serialize};

use crate::cert::{CertError, Certificate};
use crate::ids::RegionCode;
use crate::jws::{self, HeaderParams, JwsError, Limits, UnverifiedJws};
use crate::sign::{SignError, Signer};
use crate::status_list::{StatusList, StatusListClaim, StatusListError, StatusValue};
use crate::time::UnixTime;
use crate::trust_list::{TrustList, TrustedRegion};

/// `typ` of a status-list token.
pub const STATUS_LIST_TYP: &str = "statuslist+jwt";
/// Longest life a status list may claim, `exp − iat` (SPEC §4: 7 days). A longer-lived list
/// would let a stolen or back-dated list keep a revoked licence looking valid for longer; an
/// issuer re-signs its lists well within this.
pub const MAX_STATUS_LIST_LIFETIME_SECONDS: i64 = 7 * 86_400;
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
    /// The signer certificate is not one of the `status_signers` the trust list names for the
    /// region (never listed, dropped by the operator, or listed for another region).
    #[error("status list signer is not among the status_signers of region {0} in the trust list")]
    WrongRegion(RegionCode),
    /// The signer certificate is not among any region's `status_signers`.
    #[error("status list signer is not a status signer named in the trust list")]
    SignerNotListed,
    /// `exp` is not after `iat`.
    #[error("status list exp {exp} is not after its iat {iat}")]
    ExpiresBeforeIssued {
        /// Signing time.
        iat: i64,
        /// Expiry.
        exp: i64,
    },
    /// `exp − iat` is longer than [`MAX_STATUS_LIST_LIFETIME_SECONDS`].
    #[error("status list claims a life of {seconds} s; at most {MAX_STATUS_LIST_LIFETIME_SECONDS} s is accepted")]
    LifetimeTooLong {
        /// `exp − iat`.
        seconds: i64,
    },
    /// `ttl` is longer than the list's life.
    #[error("status list ttl {ttl} s is longer than its life of {lifetime} s")]
    TtlTooLong {
        /// The claimed ttl.
        ttl: u64,
        /// `exp − iat`.
        lifetime: i64,
    },
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
    signer: [u8; 32],
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
        // Who may sign is decided before any work on the signature or the payload: the exact
        // certificate must be a status signer of the region. The trust list checked its chain
        // and profile when it was loaded; the certificate used is the trust list's own copy.
        let (region, cert) = match expected_uri {
            Some(uri) => {
                let region = trust
                    .region_for_status_uri(uri)
                    .ok_or_else(|| StatusTokenError::UnknownUri(clip(uri)))?;
                let cert = listed_signer(region, cert_der)
                    .ok_or_else(|| StatusTokenError::WrongRegion(region.code.clone()))?;
                (region, cert)
            }
            None => trust
                .regions()
                .iter()
                .find_map(|region| listed_signer(region, cert_der).map(|cert| (region, cert)))
                .ok_or(StatusTokenError::SignerNotListed)?,
        };
        let verified = jws
            .verify(cert.public_key())
            .map_err(|_| StatusTokenError::BadSignature)?;
        let payload = verified.payload(MAX_STATUS_TOKEN_BYTES)?;
        let claims: StatusListClaims = serde_json::from_slice(&payload)
            .map_err(|e| StatusTokenError::Claims(e.to_string()))?;
        if let Some(uri) = expected_uri {
            if claims.sub != uri {
                return Err(StatusTokenError::SubjectMismatch {
                    found: clip(&claims.sub),
                    expected: uri.to_owned(),
                });
            }
        }
        // A list found without a URI (a file) names its URI in `sub`: it must be within the
        // prefix of the region whose signer signed it.
        let sub_region = trust
            .region_for_status_uri(&claims.sub)
            .ok_or_else(|| StatusTokenError::UnknownUri(clip(&claims.sub)))?;
        if sub_region.code != region.code {
            return Err(StatusTokenError::WrongRegion(sub_region.code.clone()));
        }
        cert.check_valid_at(UnixTime(claims.iat))?;
        check_lifetime(&claims)?;
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
            signer: cert.x5t_s256(),
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

    /// Whether its signer is still one of `trust`'s status signers for its region. A list held
    /// from an earlier trust list loses its power the moment the operator drops its signer.
    pub fn signer_listed_in(&self, trust: &TrustList) -> bool {
        trust.region(&self.region).is_some_and(|region| {
            region
                .status_signers
                .iter()
                .any(|c| c.x5t_s256() == self.signer)
        })
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

/// The trust list's copy of `cert_der` if it is one of `region`'s status signers.
fn listed_signer<'t>(region: &'t TrustedRegion, cert_der: &[u8]) -> Option<&'t Certificate> {
    region.status_signers.iter().find(|c| c.der() == cert_der)
}

/// `exp` after `iat`, `exp − iat` within [`MAX_STATUS_LIST_LIFETIME_SECONDS`], `ttl` within
/// `exp − iat`.
fn check_lifetime(claims: &StatusListClaims) -> Result<(), StatusTokenError> {
    let lifetime = claims.exp.saturating_sub(claims.iat);
    if lifetime <= 0 {
        return Err(StatusTokenError::ExpiresBeforeIssued {
            iat: claims.iat,
            exp: claims.exp,
        });
    }
    if lifetime > MAX_STATUS_LIST_LIFETIME_SECONDS {
        return Err(StatusTokenError::LifetimeTooLong { seconds: lifetime });
    }
    if i64::try_from(claims.ttl).map_or(true, |ttl| ttl > lifetime) {
        return Err(StatusTokenError::TtlTooLong {
            ttl: claims.ttl,
            lifetime,
        });
    }
    Ok(())
}

/// At most 200 characters of untrusted text, for an error message.
fn clip(text: &str) -> String {
    text.chars().take(200).collect()
}
