//! Electronic seals (电子印章, SPEC §8): GB/T 38540-2020 ("v4") structures, decoding of
//! GM/T 0031-2014 ("v1"), making seals, sealing documents, verification and inspection.
//!
//! Owns the seal formats and their pure verification. It does no I/O, reads no clock and
//! holds no private key: signing goes through [`crate::Signer`], time is an argument, and
//! trust material (trust list, status list, CRLs) arrives already verified.
//!
//! | module | owns |
//! |---|---|
//! | [`asn1`] | v4 DER structures, bounded lists, signed parts kept as received |
//! | [`v1`] | v1 DER structures |
//! | [`decode`] | version sniffing and the one model ([`Seal`], [`SealSignature`]) |
//! | [`lenient_cert`] | reading real CAs' not-quite-DER certificates |
//! | [`algorithm`] | signature and digest algorithms by OID |
//! | [`ext`] | huren's seal extensions (status reference, USCC) |
//! | [`esid`] | huren esIDs and a seal's region |
//! | [`build`] | making seals and sealing documents |
//! | [`verify`] | the checks of SPEC §8 and the report |
//! | [`inspect`](mod@inspect) | every field of a file, for `huren seal inspect` |
//!
//! Bounds on hostile input: [`MAX_SEAL_BYTES`] (4 MiB) per file, [`MAX_PICTURE_BYTES`]
//! (2 MiB), 16 certificates or digests per certList, 16 extensions per `extDatas`, 16 KiB
//! per certificate, and the limits in [`decode`]. The structures are not recursive, so
//! nesting depth is fixed by the types.
//!
//! # Verification outcome codes
//!
//! Stable strings, in check order. `indeterminate` codes alone give the verdict
//! `indeterminate`; any other makes it `invalid`; none makes it `valid`.
//!
//! | check | code | meaning | verdict |
//! |---|---|---|---|
//! | `format` | `seal_malformed` | not a readable v4/v1 seal signature; a field out of bounds; an unknown critical or malformed extension | invalid |
//! | `signature` | `seal_malformed` | the signer certificate is unreadable | invalid |
//! | `signature` | `unsupported_algorithm` | signature algorithm or key not accepted, or not fitting each other | invalid |
//! | `signature` | `bad_signature` | the signer's signature over DER(`TBS_Sign`) as received (nor over its digest, as some producers sign) does not verify | invalid |
//! | `signer_in_seal` | `signer_not_in_seal` | the signer certificate is not in the seal's certList (binary match; digest for certListType 2) | invalid |
//! | `signer_in_seal` | `signer_in_seal_unknown` | not among the certificates, and the (v1) certList also holds entries that are not certificates | indeterminate |
//! | `seal_signature` | `seal_malformed` / `unsupported_algorithm` | maker certificate unreadable / algorithm not accepted | invalid |
//! | `seal_signature` | `seal_bad_signature` | the maker's signature over DER(`SES_SealInfo`) (v1: SEQUENCE{sealInfo, cert, alg}), nor over the other form, does not verify | invalid |
//! | `maker_trusted` | `maker_not_trusted` | the maker certificate is not a trusted seal maker (trust list or `--trust-maker`) | invalid |
//! | `maker_trusted` | `maker_wrong_region` | a seal maker of another region than the esID's first 6 digits name | invalid |
//! | `maker_trusted` | `region_suspended` | the seal's region is suspended in the trust list | invalid |
//! | `maker_trusted` | `trust_list_stale` | the trust list is past `next_update` (+ grace) at the check time | indeterminate |
//! | `seal_validity` | `seal_not_yet_valid_at_signing` | signed before validStart, or before the seal was made | invalid |
//! | `seal_validity` | `seal_expired_at_signing` | signed after validEnd | invalid |
//! | `seal_validity` | `signing_time_in_future` | `timeInfo` later than the time of the check (+ skew): nothing is judged at a future time | invalid |
//! | `seal_validity` | `seal_revoked` / `seal_suspended` | the seal's status list (huren status extension) says so | invalid |
//! | `seal_validity` | `seal_status_unknown` | status reference present but no list, a list for another URI or region, or a stale list | indeterminate |
//! | `seal_validity` | `seal_malformed` | status URI outside the region's prefix, or index outside the list | invalid |
//! | `maker_certificate` | `maker_certificate_invalid` | maker certificate (or, with a trust list, its root) not valid at the seal's createDate | invalid |
//! | `signer_certificate` | `signer_certificate_invalid` | signer certificate not valid at the signing time | invalid |
//! | `signer_certificate` | `signer_revoked_before_signing` | the signer's CRL revokes it at or before the signing time (any reason) | invalid |
//! | `signer_certificate` | `signer_key_compromised` | revoked after the claimed signing time for no benign reason (see below): the signing time (not time-stamped) cannot be trusted, so it counts as revoked before it | invalid |
//! | `signer_certificate` | `signer_revocation_unknown` | no CRL of the signer's issuer, one past its `nextUpdate` (or without one), a `certificateHold` after the signing, or a benign entry in an out-of-date list | indeterminate |
//! | `document_hash` | `document_hash_mismatch` | SM3 (SM2) or SHA-256 of the document is not `dataHash` | invalid |
//!
//! Warnings (never change the verdict): `timestamp_not_verified`, `crl_predates_signing` (a
//! current CRL issued before the signing), `signer_revoked_after_signing`,
//! `lenient_certificate`, `nonstandard_signed_content` (a signature verified only in a form
//! deployed producers write: see [`verify`]), `zoneless_signing_time`
//! (`signing_time_after_check` is no longer emitted: a future signing time is the outcome
//! `signing_time_in_future`).
//!
//! # Revocation fails closed (SPEC §8)
//!
//! The signer certificate needs a current CRL of its issuer (`nextUpdate` not passed at the
//! check time); without one the verdict is at best `indeterminate`, as is a seal whose status
//! reference names a list that is not given. A CRL entry is judged by its reason when its
//! date is after the claimed signing time (at or before it, it is always fatal):
//!
//! | reason | revoked after the signing time |
//! |---|---|
//! | `superseded`, `cessationOfOperation`, `affiliationChanged` | valid, warning `signer_revoked_after_signing` (undecided if the CRL is out of date) |
//! | `certificateHold` | indeterminate (`signer_revocation_unknown`): a hold can still become a revocation dated earlier |
//! | none, `unspecified`, `keyCompromise`, `cACompromise`, `aACompromise`, `privilegeWithdrawn` | invalid (`signer_key_compromised`): the key, or the authority behind it, is not to be trusted, or its holder lost the right to use it, and the signing time is the holder's own word |
//!
//! ```
//! use huren_crypto::seal::{SealFile, SealError};
//! // A bare INTEGER is neither a seal nor a seal signature.
//! assert!(matches!(SealFile::from_der(b"\x02\x01\x04"), Err(SealError::Der { .. })));
//! ```

pub mod algorithm;
pub mod asn1;
pub mod build;
pub mod decode;
pub mod esid;
pub mod ext;
pub mod inspect;
pub mod lenient_cert;
pub mod v1;
pub mod verify;

pub use algorithm::{DigestAlgorithm, SealAlgorithm};
pub use build::{make_seal, sign_document, PictureType, SealBuildError, SealPicture, SealSpec};
pub use decode::{
    CertDigest, HolderCerts, NonCertEntry, Seal, SealError, SealFile, SealSignature, SealVersion,
    SigningTime, MAX_PICTURE_BYTES, MAX_SEAL_BYTES,
};
pub use esid::{region_of_es_id, EsId};
pub use ext::SealStatusReference;
pub use inspect::{inspect, inspect_json, Inspection};
pub use lenient_cert::SealCertificate;
/// The seal types huren makes (印章类型). GB/T 38540 leaves the code list to the seal
/// registry; these are the codes huren's issuer, CLI and clerk's page use. Seals made
/// elsewhere may carry other codes, which are shown as numbers.
pub const SEAL_TYPES: [(i64, &str); 5] = [
    (1, "法定名称章"),
    (2, "财务专用章"),
    (3, "发票专用章"),
    (4, "合同专用章"),
    (5, "业务专用章"),
];

/// The name of a seal type code in [`SEAL_TYPES`].
pub fn seal_type_name(code: i64) -> Option<&'static str> {
    SEAL_TYPES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| *name)
}

pub use verify::{
    verify_seal_signature, Document, SealOutcome, SealReport, SealTrust, SealVerifyInput,
    SealVerifyOptions, SealWarning,
};
