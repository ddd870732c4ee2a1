//! The JOSE signature algorithms huren accepts (SPEC §2), and nothing else.
//!
//! `none`, every `HS*`, and every name not listed here are rejected when a header is parsed, so
//! no other module ever sees them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A JWS `alg` value huren signs and verifies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Algorithm {
    /// ECDSA P-256 with SHA-256; signature is raw `r‖s` (64 bytes). The default.
    #[serde(rename = "ES256")]
    Es256,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256, salt 32 bytes; RSA ≥ 2048 bits.
    #[serde(rename = "PS256")]
    Ps256,
    /// RSASSA-PKCS1-v1_5 with SHA-256; RSA ≥ 2048 bits (legacy provinces).
    #[serde(rename = "RS256")]
    Rs256,
    /// SM2 with SM3 (GB/T 32918, GB/T 35276), distinguishing ID `1234567812345678`,
    /// signature raw `r‖s` (64 bytes). A private-use JOSE name.
    #[serde(rename = "SM2SM3")]
    Sm2Sm3,
}

/// The key family an [`Algorithm`] needs; `alg` must match the key of the certificate that
/// verifies it, so a token can never pick a weaker interpretation of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// NIST P-256 elliptic-curve key.
    P256,
    /// RSA key (at least 2048 bits).
    Rsa,
    /// SM2 elliptic-curve key.
    Sm2,
}

impl KeyKind {
    /// The kind as reports name it: `P-256`, `RSA`, `SM2`.
    pub fn name(self) -> &'static str {
        match self {
            KeyKind::P256 => "P-256",
            KeyKind::Rsa => "RSA",
            KeyKind::Sm2 => "SM2",
        }
    }
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Algorithm {
    /// Every algorithm, in the order the CLI lists them.
    pub const ALL: [Algorithm; 4] = [
        Algorithm::Es256,
        Algorithm::Ps256,
        Algorithm::Rs256,
        Algorithm::Sm2Sm3,
    ];

    /// The JOSE name, as written in the protected header.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Es256 => "ES256",
            Algorithm::Ps256 => "PS256",
            Algorithm::Rs256 => "RS256",
            Algorithm::Sm2Sm3 => "SM2SM3",
        }
    }

    /// The key family this algorithm needs.
    pub fn key_kind(self) -> KeyKind {
        match self {
            Algorithm::Es256 => KeyKind::P256,
            Algorithm::Ps256 | Algorithm::Rs256 => KeyKind::Rsa,
            Algorithm::Sm2Sm3 => KeyKind::Sm2,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An `alg` name huren does not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported algorithm {0:?} (accepted: ES256, PS256, RS256, SM2SM3)")]
pub struct UnsupportedAlgorithm(pub String);

impl FromStr for Algorithm {
    type Err = UnsupportedAlgorithm;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Algorithm::ALL
            .into_iter()
            .find(|alg| alg.name() == s)
            .ok_or_else(|| UnsupportedAlgorithm(s.chars().take(32).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_weak_algorithms_are_refused() {
        for alg in Algorithm::ALL {
            assert_eq!(alg.name().parse::<Algorithm>(), Ok(alg));
        }
        for bad in ["none", "HS256", "es256", "ES384", "EdDSA", ""] {
            assert!(bad.parse::<Algorithm>().is_err(), "{bad} must be refused");
        }
    }
}
