//! The `licences` table: the SQL of [`crate::issuance`]. Every function reaches only the
//! region of its [`Confined`] connection, except the 证照标识 check ([`taken_ids`]), which looks
//! at every licence as the table's key does.

use std::collections::{BTreeMap, HashMap, HashSet};

use sqlx::{AnyConnection, Row};

use super::{rows_per_statement, status_lists, Confined, Placeholders, RegionTx, StoreError};
use crate::record_status::RecordStatus;

/// The columns status changes and supersession need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenceRow {
    /// 证照标识.
    pub jti: String,
    /// Type code.
    pub type_code: String,
    /// Its status list.
    pub list_id: String,
    /// Current status.
    pub status: RecordStatus,
}

/// Every column of a stored licence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLicence {
    /// 证照标识.
    pub jti: String,
    /// Region.
    pub region: String,
    /// Type code.
    pub type_code: String,
    /// The signed token.
    pub token: String,
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
    /// The licence this one replaced.
    pub supersedes: Option<String>,
    /// The licence that replaced this one.
    pub superseded_by: Option<String>,
    /// When it was issued.
    pub issued_at: i64,
}

/// A new licence as it is written.
#[derive(Debug, Clone, Copy)]
pub struct NewLicence<'a> {
    /// 证照标识.
    pub jti: &'a str,
    /// Type code.
    pub type_code: &'a str,
    /// The signed token.
    pub token: &'a str,
    /// Status list.
    pub list_id: &'a str,
    /// Index in it.
    pub idx: i64,
    /// The licence it replaces.
    pub supersedes: Option<&'a str>,
}

fn licence_row(row: &sqlx::any::AnyRow) -> Result<LicenceRow, sqlx::Error> {
    Ok(LicenceRow {
        jti: row.try_get("jti")?,
        type_code: row.try_get("type_code")?,
        list_id: row.try_get("list_id")?,
        status: RecordStatus::from_code(row.try_get("status")?),
    })
}

/// The region's licence `jti` (another region's is not found).
pub async fn row(conn: &mut impl Confined, jti: &str) -> Result<Option<LicenceRow>, StoreError> {
    let region = conn.region().as_str().to_owned();
    let row = sqlx::query(
        "SELECT jti, type_code, list_id, status FROM licences WHERE jti = $1 AND region = $2",
    )
    .bind(jti)
    .bind(region)
    .fetch_optional(&mut **conn)
    .await?;
    Ok(row.as_ref().map(licence_row).transpose()?)
}

/// The region's licences among `jtis`, by 证照标识. One query.
pub async fn rows(
    conn: &mut impl Confined,
    jtis: &HashSet<&str>,
) -> Result<HashMap<String, LicenceRow>, StoreError> {
    if jtis.is_empty() {
        return Ok(HashMap::new());
    }
    let region = conn.region().as_str().to_owned();
    let mut placeholders = Placeholders::for_connection(conn);
    let mut sql =
        String::from("SELECT jti, type_code, list_id, status FROM licences WHERE region = ");
    placeholders.push(&mut sql);
    sql.push_str(" AND jti IN (");
    placeholders.push_list(&mut sql, jtis.len());
    sql.push(')');
    let mut query = sqlx::query(&sql).bind(region);
    for jti in jtis {
        query = query.bind(*jti);
    }
    let rows = query.fetch_all(&mut **conn).await?;
    rows.iter()
        .map(|row| licence_row(row).map(|row| (row.jti.clone(), row)))
        .collect::<Result<_, _>>()
        .map_err(StoreError::Sqlx)
}

/// Every column of the region's licence `jti`.
pub async fn stored(
    conn: &mut impl Confined,
    jti: &str,
) -> Result<Option<StoredLicence>, StoreError> {
    let region = conn.region().as_str().to_owned();
    let row = sqlx::query(
        "SELECT jti, region, type_code, token, list_id, idx, status, status_reason, status_changed_at, \
         supersedes, superseded_by, issued_at FROM licences WHERE jti = $1 AND region = $2",
    )
    .bind(jti)
    .bind(region)
    .fetch_optional(&mut **conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(StoredLicence {
        jti: row.try_get("jti")?,
        region: row.try_get("region")?,
        type_code: row.try_get("type_code")?,
        token: row.try_get("token")?,
        list_id: row.try_get("list_id")?,
        idx: row.try_get("idx")?,
        status: RecordStatus::from_code(row.try_get("status")?),
        status_reason: row.try_get("status_reason")?,
        status_changed_at: row.try_get("status_changed_at")?,
        supersedes: row.try_get("supersedes")?,
        superseded_by: row.try_get("superseded_by")?,
        issued_at: row.try_get("issued_at")?,
    }))
}

/// Which of `candidates` are the 证照标识 of a stored licence, of any region: the identifier
/// is the key of every licence in the database, so a check must see whatever that key covers
/// (a narrower one would turn a redraw into a failed batch), and a taken identifier reveals
/// nothing (it is drawn again). One query.
pub async fn taken_ids(
    conn: &mut AnyConnection,
    candidates: &[String],
) -> Result<HashSet<String>, StoreError> {
    if candidates.is_empty() {
        return Ok(HashSet::new());
    }
    let mut sql = String::from("SELECT jti FROM licences WHERE jti IN (");
    Placeholders::for_connection(conn).push_list(&mut sql, candidates.len());
    sql.push(')');
    let mut query = sqlx::query(&sql);
    for candidate in candidates {
        query = query.bind(candidate.as_str());
    }
    query
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| row.try_get("jti"))
        .collect::<Result<_, _>>()
        .map_err(StoreError::Sqlx)
}

/// Bound parameters of one row of [`insert`]: jti, region, type_code, token, list_id, idx,
/// supersedes, issued_at, issued_by.
const LICENCE_ROW_PARAMETERS: usize = 9;

/// Stores new licences of the region, valid, with multi-row `INSERT`s (one for a single
/// issuance).
pub async fn insert(
    conn: &mut RegionTx,
    issued_at: i64,
    issued_by: &str,
    licences: &[NewLicence<'_>],
) -> Result<(), StoreError> {
    let region = conn.region().as_str().to_owned();
    let conn: &mut AnyConnection = conn;
    for rows in licences.chunks(rows_per_statement(LICENCE_ROW_PARAMETERS, 0)) {
        let mut sql = String::with_capacity(160 + rows.len() * 40);
        sql.push_str(
            "INSERT INTO licences (jti, region, type_code, token, list_id, idx, supersedes, issued_at, issued_by, status) VALUES ",
        );
        let mut placeholders = Placeholders::for_connection(conn);
        for n in 0..rows.len() {
            if n > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            placeholders.push_list(&mut sql, LICENCE_ROW_PARAMETERS);
            sql.push_str(", 0)");
        }
        let mut query = sqlx::query(&sql);
        for row in rows {
            query = query
                .bind(row.jti)
                .bind(region.as_str())
                .bind(row.type_code)
                .bind(row.token)
                .bind(row.list_id)
                .bind(row.idx)
                .bind(row.supersedes)
                .bind(issued_at)
                .bind(issued_by);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Sets the status of the region's licence `row` (and `superseded_by`, if given), and moves its
/// list's version on so the publisher re-signs it.
pub async fn set_status(
    conn: &mut RegionTx,
    row: &LicenceRow,
    target: RecordStatus,
    reason: &str,
    now: i64,
    superseded_by: Option<&str>,
) -> Result<(), StoreError> {
    let region = conn.region().as_str().to_owned();
    sqlx::query(
        "UPDATE licences SET status = $1, status_reason = $2, status_changed_at = $3, \
         superseded_by = COALESCE($4, superseded_by) WHERE jti = $5 AND region = $6",
    )
    .bind(target.code())
    .bind(reason)
    .bind(now)
    .bind(superseded_by)
    .bind(&row.jti)
    .bind(&region)
    .execute(&mut **conn)
    .await?;
    status_lists::bump_version(conn, &row.list_id, 1).await
}

/// Revokes the region's licences `superseded` (each with its successor) with reason
/// `reason`, as [`set_status`] does one by one: one `UPDATE licences` per statement's worth,
/// and one version bump per list concerned.
pub async fn revoke_superseded(
    conn: &mut RegionTx,
    now: i64,
    reason: &str,
    superseded: &[(LicenceRow, String)],
) -> Result<(), StoreError> {
    let region = conn.region().as_str().to_owned();
    // Per licence: its jti and successor in `CASE`, its jti again in `IN`.
    const PER_LICENCE: usize = 3;
    const SHARED: usize = 4;
    for pairs in superseded.chunks(rows_per_statement(PER_LICENCE, SHARED)) {
        let conn: &mut AnyConnection = conn;
        let mut placeholders = Placeholders::for_connection(conn);
        let mut sql = String::from("UPDATE licences SET status = ");
        placeholders.push(&mut sql);
        sql.push_str(", status_reason = ");
        placeholders.push(&mut sql);
        sql.push_str(", status_changed_at = ");
        placeholders.push(&mut sql);
        sql.push_str(", superseded_by = CASE jti");
        for _ in pairs {
            sql.push_str(" WHEN ");
            placeholders.push(&mut sql);
            sql.push_str(" THEN ");
            placeholders.push(&mut sql);
        }
        sql.push_str(" END WHERE jti IN (");
        placeholders.push_list(&mut sql, pairs.len());
        sql.push_str(") AND region = ");
        placeholders.push(&mut sql);
        let mut query = sqlx::query(&sql)
            .bind(RecordStatus::Revoked.code())
            .bind(reason)
            .bind(now);
        for (old, new) in pairs {
            query = query.bind(old.jti.as_str()).bind(new.as_str());
        }
        for (old, _) in pairs {
            query = query.bind(old.jti.as_str());
        }
        query = query.bind(region.as_str());
        query.execute(&mut *conn).await?;
    }
    let mut changes: BTreeMap<&str, i64> = BTreeMap::new();
    for (old, _) in superseded {
        *changes.entry(old.list_id.as_str()).or_default() += 1;
    }
    for (list_id, count) in changes {
        status_lists::bump_version(conn, list_id, count).await?;
    }
    Ok(())
}
