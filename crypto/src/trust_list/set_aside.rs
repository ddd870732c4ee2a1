//! Licence signers the trust list names but could not accept as their region's: the
//! certificate parsed and its key is acceptable, but it does not chain to a root of its region,
//! lacks the licence-signer EKU, or its validity is wrong.
//!
//! Why they are kept at all: SPEC §6 step 3 asks whether the signer is *in the trust list*, and
//! step 6 whether it *may sign for its region* (chain, validity, EKU). A token naming such an
//! entry is checked in that order — its signature first, so a forger who copies the entry's
//! `x5t#S256` still gets `bad_signature` — and then refused as `issuer_not_authorised`, naming
//! what is wrong with the entry, instead of `unknown_signer`, which would tell a clerk the
//! signer is not listed when it is. Nothing else ever sees them: [`super::TrustList::signer`]
//! and [`super::TrustList::signers`] (JWKS export, issuance) hold accepted signers only.

use super::TrustedSigner;

/// A listed licence signer refused as its region's, and why.
#[derive(Debug, Clone)]
pub struct SetAsideSigner {
    /// The entry as it would be trusted; its validity is the certificate's own when it has no
    /// root to bound it.
    pub signer: TrustedSigner,
    /// What is wrong with it (the entry's problem, as [`super::TrustList::problems`] lists it).
    pub problem: String,
}
