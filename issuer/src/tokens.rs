//! API bearer tokens: each bound to one region, a set of licence types and scopes.
//!
//! Licence types restrict the licence scopes (and `copy`: a copy is of a licence of a type);
//! the seal scopes (`seal`, `seal_sign`) act on the region's seals, which have no licence type.
//!
//! Tokens are 256-bit random secrets shown once (`huren issuer token create`); only their
//! SHA-256 is stored, so a database leak yields no usable token. A high-entropy secret needs no
//! slow hash. Authorization is checked on every write by [`Principal::require`].
//!
//! This module owns a token's life: creation (with a bounded [`Lifetime`]), listing (never a
//! secret or hash), revocation, and the one lookup that decides whether a presented token is
//! live ([`authenticate`]). That lookup reads the database on every request and keeps no
//! cache, so a revocation or an expiry takes effect on the next request, in every process
//! sharing the database. Creation and revocation are audited in the same transaction.

use std::fmt;

use crate::audit::{self, Action};
use crate::store::tokens::{self as rows, TokenRow};
use crate::store::{RegionStore, Store, StoreError};
use huren_crypto::b64;
use huren_crypto::ids::RegionCode;
use huren_crypto::time::UnixTime;
use rand_core::CryptoRngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

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
    /// Make, list, view and withdraw annotated copies (加注件, SPEC §11): the province's
    /// holder-facing portal, which has authenticated the holder.
    Copy,
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
            Scope::Copy => "copy",
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
            "copy" => Ok(Scope::Copy),
            other => Err(format!(
                "unknown scope {other:?} (issue, read, revoke, audit, seal, seal_sign, copy)"
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

    /// As [`Principal::require`], for an action any of `scopes` allows (e.g. reading copies:
    /// `copy` or `read`). The refusal names the first scope.
    pub fn require_any(
        &self,
        scopes: &[Scope],
        region: &RegionCode,
        type_code: Option<&str>,
    ) -> Result<(), Denied> {
        let mut first = None;
        for &scope in scopes {
            match self.require(scope, region, type_code) {
                Ok(()) => return Ok(()),
                Err(denied) => {
                    first.get_or_insert(denied);
                }
            }
        }
        Err(first.unwrap_or(Denied::Scope("none")))
    }
}

/// The label of the token `principal` presented (what a copy names as its maker), or its id
/// when the label is empty.
pub async fn label(store: &Store, principal: &Principal) -> Result<String, StoreError> {
    let label = rows::label(store, &principal.id).await?.unwrap_or_default();
    Ok(if label.trim().is_empty() {
        principal.id.clone()
    } else {
        label
    })
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// How long a new token lives: at least a minute, at most [`Lifetime::MAX`].
///
/// Every token expires: a bearer secret copied into a script or a ticket outlives the person
/// who made it, so an unbounded one is a standing risk. [`Lifetime::DEFAULT`] (90 days) is the
/// usual rotation period for machine credentials; longer-lived integrations get a new token
/// (and revoke the old one) at that rhythm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime(i64);

/// Why a `--expires-in` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifetimeError {
    /// Not a number followed by `d`, `h` or `m`.
    #[error("{0:?} is not a duration: write a whole number and a unit, d (days), h (hours) or m (minutes), e.g. 90d, 12h, 30m")]
    Syntax(String),
    /// Shorter than a minute or longer than [`Lifetime::MAX`].
    #[error("{0:?} is out of range: a token lives at least 1m and at most 365d")]
    Range(String),
}

impl Lifetime {
    /// The lifetime of a token made without `--expires-in`: 90 days.
    pub const DEFAULT: Lifetime = Lifetime(90 * 86_400);
    /// The longest lifetime: 365 days.
    pub const MAX: Lifetime = Lifetime(365 * 86_400);
    /// The shortest lifetime: one minute.
    pub const MIN: Lifetime = Lifetime(60);

    /// Parses `90d`, `12h` or `30m`.
    pub fn parse(text: &str) -> Result<Lifetime, LifetimeError> {
        let syntax = || LifetimeError::Syntax(text.chars().take(32).collect());
        let trimmed = text.trim();
        let unit = trimmed.chars().last().ok_or_else(syntax)?;
        let number = &trimmed[..trimmed.len() - unit.len_utf8()];
        let unit_seconds: i64 = match unit {
            'd' => 86_400,
            'h' => 3600,
            'm' => 60,
            _ => return Err(syntax()),
        };
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(syntax());
        }
        let range = || LifetimeError::Range(trimmed.chars().take(32).collect());
        let count: i64 = number.parse().map_err(|_| range())?;
        let seconds = count.checked_mul(unit_seconds).ok_or_else(range)?;
        if !(Lifetime::MIN.0..=Lifetime::MAX.0).contains(&seconds) {
            return Err(range());
        }
        Ok(Lifetime(seconds))
    }

    /// Seconds.
    pub fn seconds(self) -> i64 {
        self.0
    }
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
    /// How long it lives from its creation.
    pub lifetime: Lifetime,
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
        lifetime,
    } = *spec;
    let expires_at = at.saturating_add(lifetime.seconds());
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
    let row = TokenRow {
        id: id.clone(),
        label: label.to_owned(),
        region: region.as_str().to_owned(),
        scopes: scopes_text.clone(),
        types: types_text.clone(),
        created_at: at,
        expires_at: Some(expires_at),
        revoked_at: None,
        last_used_at: None,
    };
    rows::insert(&mut tx, &row, &hash_token(&token)).await?;
    let detail = serde_json::json!({"region": region.as_str(), "scopes": scopes_text, "types": types_text, "label": label, "expires_at": expires_at});
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

/// How often `last_used_at` is written per token: at most once per this many seconds, so a
/// busy token costs one small write a minute rather than one per request.
pub const LAST_USED_PRECISION_SECONDS: i64 = 60;

/// The principal of a presented bearer token, if it is live at `now`: known, not revoked and
/// not expired (a token is refused from its `expires_at` on). Reads the database every time
/// (no cache), so a revocation or expiry applies to the very next request.
///
/// Also records `last_used_at`, at most once per [`LAST_USED_PRECISION_SECONDS`] per token;
/// that write is bookkeeping, so its failure is logged and does not refuse the request.
pub async fn authenticate(
    store: &Store,
    token: &str,
    now: i64,
) -> Result<Option<Principal>, StoreError> {
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 128 {
        return Ok(None);
    }
    let Some(row) = rows::live_by_hash(store, &hash_token(token), now).await? else {
        return Ok(None);
    };
    let TokenRow {
        id,
        region,
        scopes,
        types,
        last_used_at,
        ..
    } = row;
    let stale_before = now.saturating_sub(LAST_USED_PRECISION_SECONDS);
    if last_used_at.is_none_or(|at| at <= stale_before) {
        if let Err(e) = rows::touch(store, &id, now, stale_before).await {
            tracing::warn!(token_id = %id, error = %e, "could not record the token's last use");
        }
    }
    Ok(Some(Principal {
        id,
        region: RegionCode::parse(&region)
            .map_err(|e| StoreError::Row(format!("api_tokens.region: {e}")))?,
        scopes: scopes
            .split(',')
            .filter_map(|s| Scope::parse(s).ok())
            .collect(),
        types: types.split(',').map(str::to_owned).collect(),
    }))
}

/// A stored token as `huren issuer token list` shows it: never its secret or hash. Times are
/// RFC 3339.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// Token id.
    pub id: String,
    /// Who or what it is for.
    pub label: String,
    /// The region it acts for.
    pub region: String,
    /// Its scopes.
    pub scopes: Vec<String>,
    /// Licence types it covers (`*` = all).
    pub types: Vec<String>,
    /// When it was made.
    pub created_at: String,
    /// When it stops working (`None`: a token made before expiry existed).
    pub expires_at: Option<String>,
    /// When it was revoked.
    pub revoked_at: Option<String>,
    /// When it last authenticated (to [`LAST_USED_PRECISION_SECONDS`]).
    pub last_used_at: Option<String>,
}

fn rfc3339(at: i64) -> String {
    UnixTime(at).to_rfc3339_china()
}

/// Every token (of `region`, if given), oldest first.
pub async fn list(
    store: &Store,
    region: Option<&RegionCode>,
) -> Result<Vec<TokenInfo>, StoreError> {
    let split = |text: &str| text.split(',').map(str::to_owned).collect::<Vec<_>>();
    let stored = rows::list(store, region.map(RegionCode::as_str)).await?;
    Ok(stored
        .into_iter()
        .map(|row| TokenInfo {
            scopes: split(&row.scopes),
            types: split(&row.types),
            created_at: rfc3339(row.created_at),
            expires_at: row.expires_at.map(rfc3339),
            revoked_at: row.revoked_at.map(rfc3339),
            last_used_at: row.last_used_at.map(rfc3339),
            id: row.id,
            label: row.label,
            region: row.region,
        })
        .collect())
}

/// Why a token could not be revoked.
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    /// No token has this id.
    #[error("no token has the id {0:?}")]
    NotFound(String),
    /// It was revoked already (nothing changed).
    #[error("token {id} was already revoked at {}", rfc3339(*.at))]
    AlreadyRevoked {
        /// The token.
        id: String,
        /// When it was revoked.
        at: i64,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Revokes a token at `at` (and audits it): from then on [`authenticate`] refuses it.
pub async fn revoke(store: &Store, id: &str, actor: &str, at: i64) -> Result<(), RevokeError> {
    let not_found = || RevokeError::NotFound(id.chars().take(64).collect());
    // The token's region decides whose audit chain records the revocation.
    let region = rows::region_of(store, id).await?.ok_or_else(not_found)?;
    let region = RegionCode::parse(&region).map_err(|_| not_found())?;
    let mut tx = RegionStore::new(store.clone(), region.clone())
        .begin()
        .await?;
    let row = rows::in_region(&mut tx, id).await?.ok_or_else(not_found)?;
    if let Some(revoked_at) = row.revoked_at {
        return Err(RevokeError::AlreadyRevoked {
            id: id.to_owned(),
            at: revoked_at,
        });
    }
    rows::set_revoked(&mut tx, id, at).await?;
    let detail = serde_json::json!({"region": region.as_str(), "label": row.label});
    audit::append(&mut tx, at, actor, Action::TokenRevoke, id, &detail).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_are_days_hours_or_minutes_within_a_minute_and_a_year() {
        assert_eq!(Lifetime::parse("90d"), Ok(Lifetime(90 * 86_400)));
        assert_eq!(Lifetime::parse("12h"), Ok(Lifetime(12 * 3600)));
        assert_eq!(Lifetime::parse("30m"), Ok(Lifetime(30 * 60)));
        assert_eq!(Lifetime::parse("365d"), Ok(Lifetime::MAX));
        for bad in [
            "", "d", "90", "90s", "1.5d", "-1d", "+1d", "90 d", "1w", "九十d", "九",
        ] {
            assert!(
                matches!(Lifetime::parse(bad), Err(LifetimeError::Syntax(_))),
                "{bad:?}"
            );
        }
        for out_of_range in [
            "0m",
            "366d",
            "99999999999999999999d",
            "9223372036854775807d",
        ] {
            assert!(
                matches!(Lifetime::parse(out_of_range), Err(LifetimeError::Range(_))),
                "{out_of_range:?}"
            );
        }
        let message = Lifetime::parse("90").unwrap_err().to_string();
        assert!(
            message.contains("\"90\"") && message.contains("90d"),
            "{message}"
        );
    }
}
