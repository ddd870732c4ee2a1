//! The `seals` table: the SQL of [`crate::seals`]. Every function reaches only the region of
//! its [`Confined`] connection, except the esID check ([`es_id_taken`]), which looks at every
//! seal as the table's key does.

use sqlx::{AnyConnection, Row};

use super::{status_lists, Confined, RegionTx, StoreError};
use crate::record_status::RecordStatus;

/// The columns of a stored seal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealRow {
    /// 电子印章编码.
    pub es_id: String,
    /// Region.
    pub region: String,
    /// 印章名称.
    pub name: String,
    /// 统一社会信用代码.
    pub uscc: String,
    /// 印章类型.
    pub seal_type: i64,
    /// The `.esl` (DER `SESeal`).
    pub der: Vec<u8>,
    /// Status list.
    pub list_id: String,
    /// Index in it.
    pub idx: i64,
    /// Current status.
    pub status: RecordStatus,
    /// Reason of the last status change.
    pub status_reason: Option<String>,
    /// When the status last changed.
    pub status_changed_at: Option<i64>,
    /// Start of validity.
    pub valid_start: i64,
    /// End of validity.
    pub valid_end: i64,
    /// When it was made.
    pub created_at: i64,
}

/// A new seal as it is written (valid).
#[derive(Debug, Clone, Copy)]
pub struct NewSeal<'a> {
    /// 电子印章编码.
    pub es_id: &'a str,
    /// 印章名称.
    pub name: &'a str,
    /// 统一社会信用代码.
    pub uscc: &'a str,
    /// 印章类型.
    pub seal_type: i64,
    /// The `.esl`.
    pub der: &'a [u8],
    /// Status list.
    pub list_id: &'a str,
    /// Index in it.
    pub idx: i64,
    /// Start of validity.
    pub valid_start: i64,
    /// End of validity.
    pub valid_end: i64,
    /// When it is made.
    pub created_at: i64,
    /// The token that made it.
    pub created_by: &'a str,
}

/// The region's seal `es_id` (another region's is not found).
pub async fn row(conn: &mut impl Confined, es_id: &str) -> Result<Option<SealRow>, StoreError> {
    let region = conn.region().as_str().to_owned();
    let row = sqlx::query(
        "SELECT es_id, region, name, uscc, seal_type, der, list_id, idx, status, \
         status_reason, status_changed_at, valid_start, valid_end, created_at \
         FROM seals WHERE es_id = $1 AND region = $2",
    )
    .bind(es_id)
    .bind(region)
    .fetch_optional(&mut **conn)
    .await?;
    row.map(|row| {
        Ok(SealRow {
            es_id: row.try_get("es_id")?,
            region: row.try_get("region")?,
            name: row.try_get("name")?,
            uscc: row.try_get("uscc")?,
            seal_type: row.try_get("seal_type")?,
            der: row.try_get("der")?,
            list_id: row.try_get("list_id")?,
            idx: row.try_get("idx")?,
            status: RecordStatus::from_code(row.try_get("status")?),
            status_reason: row.try_get("status_reason")?,
            status_changed_at: row.try_get("status_changed_at")?,
            valid_start: row.try_get("valid_start")?,
            valid_end: row.try_get("valid_end")?,
            created_at: row.try_get("created_at")?,
        })
    })
    .transpose()
    .map_err(StoreError::Sqlx)
}

/// Whether a seal of any region has the esID `es_id` (the key covers every seal).
pub async fn es_id_taken(conn: &mut AnyConnection, es_id: &str) -> Result<bool, StoreError> {
    let taken = sqlx::query("SELECT 1 AS taken FROM seals WHERE es_id = $1")
        .bind(es_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(taken.is_some())
}

/// Stores a new seal of the region.
pub async fn insert(conn: &mut RegionTx, seal: &NewSeal<'_>) -> Result<(), StoreError> {
    let region = conn.region().as_str().to_owned();
    sqlx::query(
        "INSERT INTO seals (es_id, region, name, uscc, seal_type, der, list_id, idx, status, \
         valid_start, valid_end, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $11, $12)",
    )
    .bind(seal.es_id)
    .bind(region)
    .bind(seal.name)
    .bind(seal.uscc)
    .bind(seal.seal_type)
    .bind(seal.der.to_vec())
    .bind(seal.list_id)
    .bind(seal.idx)
    .bind(seal.valid_start)
    .bind(seal.valid_end)
    .bind(seal.created_at)
    .bind(seal.created_by)
    .execute(&mut **conn)
    .await?;
    Ok(())
}

/// Sets the status of the region's seal `row`, and moves its list's version on so the
/// publisher re-signs it.
pub async fn set_status(
    conn: &mut RegionTx,
    row: &SealRow,
    target: RecordStatus,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    let region = conn.region().as_str().to_owned();
    sqlx::query(
        "UPDATE seals SET status = $1, status_reason = $2, status_changed_at = $3 \
         WHERE es_id = $4 AND region = $5",
    )
    .bind(target.code())
    .bind(reason)
    .bind(now)
    .bind(&row.es_id)
    .bind(region)
    .execute(&mut **conn)
    .await?;
    status_lists::bump_version(conn, &row.list_id, 1).await
}
