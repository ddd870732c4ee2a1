//! The `idempotency` table: which record a (token, `Idempotency-Key`) made, and from which
//! request. Keys are per token and region, whatever kind of record they were used for.

use sqlx::Row;

use super::{Confined, RegionTx, StoreError};

/// What an earlier request with the same key made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// SHA-256 of its body, hex.
    pub request_hash: String,
    /// The record it made (a 证照标识 or an esID).
    pub subject: String,
}

/// The record made under `key` by the token `token_id` in the region, if any.
pub async fn find(
    conn: &mut impl Confined,
    token_id: &str,
    key: &str,
) -> Result<Option<Recorded>, StoreError> {
    let region = conn.region().as_str().to_owned();
    let row = sqlx::query(
        "SELECT request_hash, jti FROM idempotency WHERE token_id = $1 AND key = $2 AND region = $3",
    )
    .bind(token_id)
    .bind(key)
    .bind(region)
    .fetch_optional(&mut **conn)
    .await?;
    row.map(|row| {
        Ok(Recorded {
            request_hash: row.try_get("request_hash")?,
            subject: row.try_get("jti")?,
        })
    })
    .transpose()
    .map_err(StoreError::Sqlx)
}

/// Records that `key` of the token `token_id`, with a body hashing to `request_hash`, made
/// `subject`.
pub async fn record(
    conn: &mut RegionTx,
    token_id: &str,
    key: &str,
    request_hash: &str,
    subject: &str,
    now: i64,
) -> Result<(), StoreError> {
    let region = conn.region().as_str().to_owned();
    sqlx::query("INSERT INTO idempotency (token_id, key, request_hash, jti, created_at, region) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(token_id)
        .bind(key)
        .bind(request_hash)
        .bind(subject)
        .bind(now)
        .bind(region)
        .execute(&mut **conn)
        .await?;
    Ok(())
}
