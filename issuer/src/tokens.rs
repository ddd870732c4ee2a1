//! API bearer tokens: each bound to one region, a set of licence types and scopes.
//!
//! Licence types restrict the licence scopes only; the seal scopes (`seal`, `seal_sign`) act
//! on the region's seals, which have no licence type.
//!
//! Tokens are 256-bit random secrets shown once (`huren issuer token create`); only their
//! SHA-256 is stored, so a database leak yields no usable token. A high-entropy secret needs no
//! slow hash. Authorization is checked on every write by [`Principal::require`].

use std::fmt;

use huren_crypto::b64;
use huren_crypto::ids::RegionCode;
use rand_core::CryptoRngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::audit::{self, Action};
use crate::store::{RegionStore, Store, StoreError};

/// Prefix of every bearer token (lets secret scanners recognise leaked ones).
pub const TOKEN_PREFIX: &str = "hrt_";

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Issue licences.
    Issue,
    /// Read licences and their QR codes.
    Read,
    /// Revoke, suspend, reinstate.
    Revoke,
    /// Read the audit log.
    Audit,
    /// Make electronic seals and revoke, suspend or reinstate them (SPEC §8).
    Seal,
    /// Apply seals to documents with holder keys the platform holds (server-side sealing).
    #[serde(rename = "seal_sign")]
    SealSign,
}

impl Scope {
    /// Stored name.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Issue => "issue",
            Scope::Read => "read",
            Scope::Revoke => "revoke",
            Scope::Audit => "audit",
            Scope::Seal => "seal",
            Scope::SealSign => "seal_sign",
        }
    }

    /// Parses a stored or command-line name.
    pub fn parse(text: &str) -> Result<Scope, String> {
        match text.trim() {
            "issue" => Ok(Scope::Issue),
            "read" => Ok(Scope::Read),
            "revoke" => Ok(Scope::Revoke),
            "audit" => Ok(Scope::Audit),
            "seal" => Ok(Scope::Seal),
            "seal_sign" => Ok(Scope::SealSign),
            other => Err(format!(
                "unknown scope {other:?} (issue, read, revoke, audit, seal, seal_sign)"
            )),
        }
    }
}

/// An authenticated caller.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// Token id (what the audit log names; not the secret).
    pub id: String,
    /// The only region it may act for.
    pub region: RegionCode,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// Licence type codes it may act on; `*` = all.
    pub types: Vec<String>,
}

impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Principal({} {} {:?})",
            self.id, self.region, self.scopes
        )
    }
}

/// Why a principal may not do something.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The token lacks the scope.
    #[error("this token lacks the {0:?} scope")]
    Scope(&'static str),
    /// The token is for another region.
    #[error("this token is for region {token}, not {wanted}")]
    Region {
        /// The token's region.
        token: String,
        /// The region acted on.
        wanted: String,
    },
    /// The token does not cover the licence type.
    #[error("this token does not cover licence type {0}")]
    Type(String),
}

impl Principal {
    /// Checks scope, region and (if given) licence type.
    pub fn require(
        &self,
        scope: Scope,
        region: &RegionCode,
        type_code: Option<&str>,
    ) -> Result<(), Denied> {
        if !self.scopes.contains(&scope) {
            return Err(Denied::Scope(scope.name()));
        }
        if &self.region != region {
            return Err(Denied::Region {
                token: self.region.to_string(),
                wanted: region.to_string(),
            });
        }
        if let Some(type_code) = type_code {
            if !self.types.iter().any(|t| t == "*" || t == type_code) {
                return Err(Denied::Type(type_code.to_owned()));
            }
        }
        Ok(())
    }
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// What a new token may do.
#[derive(Debug, Clone, Copy)]
pub struct TokenSpec<'a> {
    /// The only region it may act for.
    pub region: &'a RegionCode,
    /// Its scopes.
    pub scopes: &'a [Scope],
    /// Licence type codes it may act on; empty = all.
    pub types: &'a [String],
    /// Who or what it is for.
    pub label: &'a str,
}

/// Creates a token (and its audit entry) and returns the secret, shown once.
pub async fn create(
    store: &Store,
    spec: &TokenSpec<'_>,
    actor: &str,
    at: i64,
    rng: &mut impl CryptoRngCore,
) -> Result<(String, Principal), StoreError> {
    let TokenSpec {
        region,
        scopes,
        types,
        label,
    } = *spec;
    let mut secret = [0u8; 32];
    rng.fill_bytes(&mut secret);
    let token = format!("{TOKEN_PREFIX}{}", b64::encode_url(&secret));
    let mut id_bytes = [0u8; 8];
    rng.fill_bytes(&mut id_bytes);
    let id = format!("tok_{}", hex::encode(id_bytes));
    let scopes_text = scopes
        .iter()
        .map(|s| s.name())
        .collect::<Vec<_>>()
        .join(",");
    let types_text = if types.is_empty() {
        "*".to_owned()
    } else {
        types.join(",")
    };

    // Audited in the chain of the token's region.
    let mut tx = RegionStore::new(store.clone(), region.clone())
        .begin()
        .await?;
    sqlx::query(
        "INSERT INTO api_tokens (id, hash, region, scopes, types, label, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(hash_token(&token))
    .bind(region.as_str())
    .bind(&scopes_text)
    .bind(&types_text)
    .bind(label)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    let detail = serde_json::json!({"region": region.as_str(), "scopes": scopes_text, "types": types_text, "label": label});
    audit::append(&mut tx, at, actor, Action::TokenCreate, &id, &detail).await?;
    tx.commit().await?;
    let principal = Principal {
        id,
        region: region.clone(),
        scopes: scopes.to_vec(),
        types: types_text.split(',').map(str::to_owned).collect(),
    };
    Ok((token, principal))
}

/// The principal of a presented bearer token, if it is a live token.
pub async fn authenticate(store: &Store, token: &str) -> Result<Option<Principal>, StoreError> {
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 128 {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT id, region, scopes, types FROM api_tokens WHERE hash = $1 AND revoked_at IS NULL",
    )
    .bind(hash_token(token))
    .fetch_optional(store.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let region: String = row.try_get("region")?;
    let scopes: String = row.try_get("scopes")?;
    let types: String = row.try_get("types")?;
    Ok(Some(Principal {
        id: row.try_get("id")?,
        region: RegionCode::parse(&region)
            .map_err(|e| StoreError::Row(format!("api_tokens.region: {e}")))?,
        scopes: scopes
            .split(',')
            .filter_map(|s| Scope::parse(s).ok())
            .collect(),
        types: types.split(',').map(str::to_owned).collect(),
    }))
}
