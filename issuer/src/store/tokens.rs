//! The `api_tokens` table: the SQL of [`crate::tokens`], which owns the rules (secrets are
//! stored only as their SHA-256, a token acts for one region). Tokens are looked up across
//! regions — a presented token says which region it belongs to — and written in the write
//! transaction of their region, so their creation and revocation join its audit chain.

use sqlx::Row;

use super::{Confined, RegionTx, Store, StoreError};

/// A token as stored, without its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    /// Token id.
    pub id: String,
    /// Who or what it is for.
    pub label: String,
    /// The region it acts for.
    pub region: String,
    /// Its scopes, comma-separated.
    pub scopes: String,
    /// Its licence types, comma-separated (`*` = all).
    pub types: String,
    /// When it was made.
    pub created_at: i64,
    /// When it stops working.
    pub expires_at: Option<i64>,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
    /// When it last authenticated.
    pub last_used_at: Option<i64>,
}

const COLUMNS: &str =
    "id, label, region, scopes, types, created_at, expires_at, revoked_at, last_used_at";

fn token_row(row: &sqlx::any::AnyRow) -> Result<TokenRow, sqlx::Error> {
    Ok(TokenRow {
        id: row.try_get("id")?,
        label: row.try_get("label")?,
        region: row.try_get("region")?,
        scopes: row.try_get("scopes")?,
        types: row.try_get("types")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

/// Stores a new token of the transaction's region, with the SHA-256 `hash` of its secret.
pub async fn insert(tx: &mut RegionTx, token: &TokenRow, hash: &str) -> Result<(), StoreError> {
    let region = tx.region().as_str().to_owned();
    sqlx::query(
        "INSERT INTO api_tokens (id, hash, region, scopes, types, label, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&token.id)
    .bind(hash)
    .bind(region)
    .bind(&token.scopes)
    .bind(&token.types)
    .bind(&token.label)
    .bind(token.created_at)
    .bind(token.expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The label of token `id`.
pub async fn label(store: &Store, id: &str) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT label FROM api_tokens WHERE id = $1")
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(|row| row.try_get("label")).transpose()?)
}

/// The token whose secret hashes to `hash`, if it is neither revoked nor expired at `now`.
pub async fn live_by_hash(
    store: &Store,
    hash: &str,
    now: i64,
) -> Result<Option<TokenRow>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM api_tokens \
         WHERE hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)"
    ))
    .bind(hash)
    .bind(now)
    .fetch_optional(store.pool())
    .await?;
    Ok(row.as_ref().map(token_row).transpose()?)
}

/// Records that the token `id` was used at `now`, unless a use after `stale_before` is
/// recorded already (the condition is in SQL so that concurrent requests write at most once).
pub async fn touch(store: &Store, id: &str, now: i64, stale_before: i64) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 \
         AND (last_used_at IS NULL OR last_used_at <= $3)",
    )
    .bind(now)
    .bind(id)
    .bind(stale_before)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Every token (of `region`, if given), oldest first.
pub async fn list(store: &Store, region: Option<&str>) -> Result<Vec<TokenRow>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE ($1 = '' OR region = $1) ORDER BY created_at, id"
    ))
    .bind(region.unwrap_or(""))
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(token_row)
        .collect::<Result<_, _>>()
        .map_err(StoreError::Sqlx)
}

/// The region of the token `id`, if there is one.
pub async fn region_of(store: &Store, id: &str) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT region FROM api_tokens WHERE id = $1")
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(|row| row.try_get("region")).transpose()?)
}

/// The token `id` of the transaction's region.
pub async fn in_region(tx: &mut RegionTx, id: &str) -> Result<Option<TokenRow>, StoreError> {
    let region = tx.region().as_str().to_owned();
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE id = $1 AND region = $2"
    ))
    .bind(id)
    .bind(region)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.as_ref().map(token_row).transpose()?)
}

/// Marks the token `id` of the transaction's region revoked at `at`.
pub async fn set_revoked(tx: &mut RegionTx, id: &str, at: i64) -> Result<(), StoreError> {
    let region = tx.region().as_str().to_owned();
    sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND region = $3")
        .bind(at)
        .bind(id)
        .bind(region)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
