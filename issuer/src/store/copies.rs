//! The `copies` table (annotated copies, SPEC §11): the SQL of [`crate::copies`], which owns
//! the rules. Every function reaches only the region of its [`Confined`] connection.

use sqlx::Row;

use super::{status_lists, Confined, RegionTx, StoreError};

/// A stored copy, with its licence's type (what a token's type restriction is checked on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyRow {
    /// The copy's id.
    pub id: String,
    /// The licence's 证照标识.
    pub licence_jti: String,
    /// The licence's type code.
    pub type_code: String,
    /// The purpose, JSON.
    pub purpose: String,
    /// The using unit's USCC (`None`: any window).
    pub aud_code: Option<String>,
    /// The using unit's name.
    pub aud_name: Option<String>,
    /// The disclosure keys, a JSON array.
    pub disclosed: String,
    /// Who made it (the token's label).
    pub copier: String,
    /// When it was made.
    pub made_at: i64,
    /// When it ends.
    pub expires_at: i64,
    /// The signed copy.
    pub token: String,
    /// Its own status list (`None`: an on-screen code, which has no entry of its own).
    pub list_id: Option<String>,
    /// Its index there.
    pub idx: Option<i64>,
    /// When the holder withdrew it.
    pub withdrawn_at: Option<i64>,
    /// Why.
    pub withdraw_reason: Option<String>,
}

/// A new copy as it is written.
#[derive(Debug, Clone, Copy)]
pub struct NewCopy<'a> {
    /// The copy's id.
    pub id: &'a str,
    /// The licence's 证照标识.
    pub licence_jti: &'a str,
    /// The purpose, JSON.
    pub purpose: &'a str,
    /// The using unit's USCC.
    pub aud_code: Option<&'a str>,
    /// The using unit's name.
    pub aud_name: Option<&'a str>,
    /// The disclosure keys, a JSON array.
    pub disclosed: &'a str,
    /// Who made it.
    pub copier: &'a str,
    /// When.
    pub made_at: i64,
    /// The API token that made it.
    pub made_by: &'a str,
    /// When it ends.
    pub expires_at: i64,
    /// The signed copy.
    pub token: &'a str,
    /// Its own status list (`None`: an on-screen code).
    pub list_id: Option<&'a str>,
    /// Its index there.
    pub idx: Option<i64>,
}

const COLUMNS: &str = "c.id, c.licence_jti, l.type_code, c.purpose, c.aud_code, c.aud_name, \
    c.disclosed, c.copier, c.made_at, c.expires_at, c.token, c.list_id, c.idx, c.withdrawn_at, \
    c.withdraw_reason";

fn copy_row(row: &sqlx::any::AnyRow) -> Result<CopyRow, sqlx::Error> {
    Ok(CopyRow {
        id: row.try_get("id")?,
        licence_jti: row.try_get("licence_jti")?,
        type_code: row.try_get("type_code")?,
        purpose: row.try_get("purpose")?,
        aud_code: row.try_get("aud_code")?,
        aud_name: row.try_get("aud_name")?,
        disclosed: row.try_get("disclosed")?,
        copier: row.try_get("copier")?,
        made_at: row.try_get("made_at")?,
        expires_at: row.try_get("expires_at")?,
        token: row.try_get("token")?,
        list_id: row.try_get("list_id")?,
        idx: row.try_get("idx")?,
        withdrawn_at: row.try_get("withdrawn_at")?,
        withdraw_reason: row.try_get("withdraw_reason")?,
    })
}

/// Stores a new copy of the region, not withdrawn.
pub async fn insert(tx: &mut RegionTx, copy: &NewCopy<'_>) -> Result<(), StoreError> {
    let region = tx.region().as_str().to_owned();
    sqlx::query(
        "INSERT INTO copies (id, region, licence_jti, purpose, aud_code, aud_name, disclosed, \
         copier, made_at, made_by, expires_at, token, list_id, idx) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(copy.id)
    .bind(region)
    .bind(copy.licence_jti)
    .bind(copy.purpose)
    .bind(copy.aud_code)
    .bind(copy.aud_name)
    .bind(copy.disclosed)
    .bind(copy.copier)
    .bind(copy.made_at)
    .bind(copy.made_by)
    .bind(copy.expires_at)
    .bind(copy.token)
    .bind(copy.list_id)
    .bind(copy.idx)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The region's copy `id` (another region's is not found).
pub async fn find(conn: &mut impl Confined, id: &str) -> Result<Option<CopyRow>, StoreError> {
    let region = conn.region().as_str().to_owned();
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM copies c JOIN licences l ON l.jti = c.licence_jti \
         WHERE c.id = $1 AND c.region = $2"
    ))
    .bind(id)
    .bind(region)
    .fetch_optional(&mut **conn)
    .await?;
    Ok(row.as_ref().map(copy_row).transpose()?)
}

/// The region's copies of licence `jti`, oldest first.
pub async fn of_licence(conn: &mut impl Confined, jti: &str) -> Result<Vec<CopyRow>, StoreError> {
    let region = conn.region().as_str().to_owned();
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM copies c JOIN licences l ON l.jti = c.licence_jti \
         WHERE c.licence_jti = $1 AND c.region = $2 ORDER BY c.made_at, c.id"
    ))
    .bind(jti)
    .bind(region)
    .fetch_all(&mut **conn)
    .await?;
    rows.iter()
        .map(copy_row)
        .collect::<Result<_, _>>()
        .map_err(StoreError::Sqlx)
}

/// Marks the region's copy `row` withdrawn (its entry then reads revoked in its list) and moves
/// its list's version on so the publisher re-signs it.
pub async fn withdraw(
    tx: &mut RegionTx,
    row: &CopyRow,
    at: i64,
    reason: &str,
) -> Result<(), StoreError> {
    let region = tx.region().as_str().to_owned();
    sqlx::query(
        "UPDATE copies SET withdrawn_at = $1, withdraw_reason = $2 \
         WHERE id = $3 AND region = $4 AND withdrawn_at IS NULL",
    )
    .bind(at)
    .bind(reason)
    .bind(&row.id)
    .bind(region)
    .execute(&mut **tx)
    .await?;
    match &row.list_id {
        Some(list_id) => status_lists::bump_version(tx, list_id, 1).await,
        // The caller refuses to withdraw a copy without an entry; nothing to publish.
        None => Ok(()),
    }
}
