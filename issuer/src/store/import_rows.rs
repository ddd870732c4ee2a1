//! The `import_rows` table: the resume keys of a bulk import, each with the licence it
//! issued, recorded in the transaction that stores the licence.

use std::collections::HashMap;

use sqlx::{AnyConnection, Row};

use super::{rows_per_statement, Confined, Placeholders, RegionTx, StoreError};

/// The region's recorded keys among `keys`, with the 证照标识 issued for each. One query.
pub async fn recorded(
    conn: &mut impl Confined,
    keys: &[&str],
) -> Result<HashMap<String, String>, StoreError> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let region = conn.region().as_str().to_owned();
    let mut placeholders = Placeholders::for_connection(conn);
    let mut sql = String::from("SELECT row_key, jti FROM import_rows WHERE region = ");
    placeholders.push(&mut sql);
    sql.push_str(" AND row_key IN (");
    placeholders.push_list(&mut sql, keys.len());
    sql.push(')');
    let mut query = sqlx::query(&sql).bind(region);
    for key in keys {
        query = query.bind(*key);
    }
    let rows = query.fetch_all(&mut **conn).await?;
    rows.iter()
        .map(|row| Ok((row.try_get("row_key")?, row.try_get("jti")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::Sqlx)
}

/// Records `(key, 证照标识)` pairs of the region, with multi-row `INSERT`s.
pub async fn record(conn: &mut RegionTx, keyed: &[(&str, &str)]) -> Result<(), StoreError> {
    let region = conn.region().as_str().to_owned();
    let conn: &mut AnyConnection = conn;
    const PER_ROW: usize = 3;
    for rows in keyed.chunks(rows_per_statement(PER_ROW, 0)) {
        let mut sql = String::from("INSERT INTO import_rows (region, row_key, jti) VALUES ");
        Placeholders::for_connection(conn).push_tuples(&mut sql, rows.len(), PER_ROW);
        let mut query = sqlx::query(&sql);
        for (key, jti) in rows {
            query = query.bind(region.as_str()).bind(*key).bind(*jti);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}
