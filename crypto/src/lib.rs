//! # huren-crypto — the trust core
//!
//! Formats and pure verification for huren (互认): the licence model of SPEC §3, JWS compact
//! serialization (§2), the `HR1:` QR text (§3.1), IETF token status lists (§4), the signed trust
//! list (§5), licence verification (§6) and electronic seals: GB/T 38540 structures, making
//! seals, sealing documents and seal verification (§8, [`seal`]).
//!
//! This crate must not do I/O, read the clock or use a global random number generator:
//! everything that compares against "now" takes the time as an argument ([`UnixTime`]), and
//! signing goes through the [`Signer`] seam that `huren-keys` implements. Every decoder here is
//! bounded, because every input it sees may be hostile.

pub mod alg;
pub mod b64;
pub mod cert;
pub mod clock;
pub mod copy;
pub mod crl;
pub mod deflate;
pub mod ids;
pub mod jwks;
pub mod jws;
pub mod key;
pub mod licence;
pub mod oids;
pub mod pem;
pub mod qr;
pub mod seal;
pub mod sign;
pub mod sm2;
pub mod status_list;
pub mod status_token;
mod text;
pub mod time;
pub mod tlog;
pub mod trust_list;
pub mod verify;

pub use alg::Algorithm;
pub use sign::{SignError, Signer};
pub use time::UnixTime;
