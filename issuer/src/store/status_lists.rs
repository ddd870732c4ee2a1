//! The `status_lists` table and the `status_entries` it hands out: the SQL of
//! [`crate::status_index`] (which owns the rules) and of [`crate::publish`].
//!
//! A list belongs to one region; every function takes a [`Confined`] connection and binds its
//! region, except the index checks, which look at a whole list as the `status_entries` key does
//! (a list id names its region, and a taken index reveals nothing).

use std::collections::HashSet;

use sqlx::{AnyConnection, Row};

use super::{Confined, Placeholders, StoreError};

/// A status list's allocation counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRow {
    /// `<region>-<seq>`.
    pub id: String,
    /// Its place among the region's lists (the newest has the highest).
    pub seq: i64,
    /// Entries.
    pub capacity: i64,
    /// Entries handed out.
    pub allocated: i64,
}

fn list_row(row: &sqlx::any::AnyRow) -> Result<ListRow, sqlx::Error> {
    Ok(ListRow {
        id: row.try_get("id")?,
        seq: row.try_get("seq")?,
        capacity: row.try_get("capacity")?,
        allocated: row.try_get("allocated")?,
    })
}

/// The region's newest list.
pub async fn newest(conn: &mut impl Confined) -> Result<Option<ListRow>, StoreError> {
    let region = conn.region().as_str().to_owned();
    let row = sqlx::query(
        "SELECT id, seq, capacity, allocated FROM status_lists WHERE region = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(region)
    .fetch_optional(&mut **conn)
    .await?;
    Ok(row.as_ref().map(list_row).transpose()?)
}

/// The region's newest list older than `seq` whose `allocated / capacity` is below
/// `numerator / denominator`.
pub async fn newest_older_below(
    conn: &mut impl Confined,
    seq: i64,
    numerator: i64,
    denominator: i64,
) -> Result<Option<ListRow>, StoreError> {
    let region = conn.region().as_str().to_owned();
    let row = sqlx::query(
        "SELECT id, seq, capacity, allocated FROM status_lists WHERE region = $1 AND seq < $2 \
         AND allocated * $3 < capacity * $4 ORDER BY seq DESC LIMIT 1",
    )
    .bind(region)
    .bind(seq)
    .bind(denominator)
    .bind(numerator)
    .fetch_optional(&mut **conn)
    .await?;
    Ok(row.as_ref().map(list_row).transpose()?)
}

/// Opens the region's list number `seq` (id `<region>-<seq>`), empty.
pub async fn open(
    conn: &mut impl Confined,
    seq: i64,
    capacity: i64,
    now: i64,
) -> Result<ListRow, StoreError> {
    let region = conn.region().as_str().to_owned();
    let id = format!("{region}-{seq}");
    sqlx::query("INSERT INTO status_lists (id, region, seq, capacity, allocated, version, created_at) VALUES ($1, $2, $3, $4, 0, 0, $5)")
        .bind(&id)
        .bind(&region)
        .bind(seq)
        .bind(capacity)
        .bind(now)
        .execute(&mut **conn)
        .await?;
    Ok(ListRow {
        id,
        seq,
        capacity,
        allocated: 0,
    })
}

/// Counts `count` more entries of the region's list `list_id` as handed out.
pub async fn add_allocated(
    conn: &mut impl Confined,
    list_id: &str,
    count: i64,
) -> Result<(), StoreError> {
    let region = conn.region().as_str().to_owned();
    sqlx::query("UPDATE status_lists SET allocated = allocated + $1 WHERE id = $2 AND region = $3")
        .bind(count)
        .bind(list_id)
        .bind(region)
        .execute(&mut **conn)
        .await?;
    Ok(())
}

/// Moves the version of the region's list `list_id` on by `changes` (the publisher re-signs a
/// list whose version moved).
pub async fn bump_version(
    conn: &mut impl Confined,
    list_id: &str,
    changes: i64,
) -> Result<(), StoreError> {
    let region = conn.region().as_str().to_owned();
    sqlx::query("UPDATE status_lists SET version = version + $1 WHERE id = $2 AND region = $3")
        .bind(changes)
        .bind(list_id)
        .bind(region)
        .execute(&mut **conn)
        .await?;
    Ok(())
}

/// Which of `candidates` are handed out already in `list_id` (to any kind of record: the
/// triggers of migration `0002_seals` fill `status_entries` from every table). One query.
pub async fn taken_indices(
    conn: &mut AnyConnection,
    list_id: &str,
    candidates: &[i64],
) -> Result<HashSet<i64>, StoreError> {
    let mut placeholders = Placeholders::for_connection(conn);
    let mut sql = String::from("SELECT idx FROM status_entries WHERE list_id = ");
    placeholders.push(&mut sql);
    sql.push_str(" AND idx IN (");
    placeholders.push_list(&mut sql, candidates.len());
    sql.push(')');
    let mut query = sqlx::query(&sql).bind(list_id);
    for idx in candidates {
        query = query.bind(*idx);
    }
    let taken = query
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| row.try_get("idx"))
        .collect::<Result<_, _>>()?;
    Ok(taken)
}

/// The version and capacity of the region's list `list_id`.
pub async fn version_and_capacity(
    conn: &mut impl Confined,
    list_id: &str,
) -> Result<Option<(i64, i64)>, StoreError> {
    let region = conn.region().as_str().to_owned();
    let row =
        sqlx::query("SELECT version, capacity FROM status_lists WHERE id = $1 AND region = $2")
            .bind(list_id)
            .bind(region)
            .fetch_optional(&mut **conn)
            .await?;
    row.map(|row| Ok((row.try_get("version")?, row.try_get("capacity")?)))
        .transpose()
        .map_err(StoreError::Sqlx)
}

/// The entries of `list_id` that are not valid, with their stored status codes: the region's
/// licences and seals that share the list, and its withdrawn copies (revoked, 1).
pub async fn marked_entries(
    conn: &mut impl Confined,
    list_id: &str,
) -> Result<Vec<(i64, i64)>, StoreError> {
    let region = conn.region().as_str().to_owned();
    let rows = sqlx::query(
        "SELECT idx, status FROM licences WHERE list_id = $1 AND region = $2 AND status <> 0 \
         UNION ALL SELECT idx, status FROM seals WHERE list_id = $3 AND region = $4 AND status <> 0 \
         UNION ALL SELECT idx, CAST(1 AS BIGINT) AS status FROM copies WHERE list_id = $5 AND region = $6 \
         AND withdrawn_at IS NOT NULL",
    )
    .bind(list_id)
    .bind(&region)
    .bind(list_id)
    .bind(&region)
    .bind(list_id)
    .bind(&region)
    .fetch_all(&mut **conn)
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("idx")?, row.try_get("status")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::Sqlx)
}
