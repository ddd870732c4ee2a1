//! The `audit_log` table and the chain heads in `audit_head`: the SQL of [`crate::audit`],
//! which owns the hash chain (what an entry's hash covers, how a chain is verified).

use serde::Serialize;
use sqlx::{AnyConnection, Row};

use super::{rows_per_statement, AuditHead, Confined, Placeholders, RegionTx, Store, StoreError};

/// One stored entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Position in the log, from 1.
    pub seq: i64,
    /// When (Unix seconds).
    pub at: i64,
    /// Who: an API token id, or `cli:<user>` for command-line actions.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what: a 证照标识, a seal's esID or a token id.
    pub subject: String,
    /// Details (JSON text: reason, status list position, …).
    pub detail: String,
    /// Hash of the previous entry.
    pub prev_hash: String,
    /// Hash of this entry.
    pub hash: String,
}

/// Bound parameters of one `audit_log` row.
const ENTRY_PARAMETERS: usize = 9;

/// Entries one `INSERT INTO audit_log` carries within the bound-parameter limit of both
/// engines ([`super::MAX_BIND_PARAMETERS`]); [`insert`] splits longer runs.
pub const ENTRIES_PER_INSERT: usize = rows_per_statement(ENTRY_PARAMETERS, 0);

/// Inserts `entries` into the log of the transaction's region, in order, with multi-row
/// `INSERT`s. Does not move the stored head.
pub async fn insert(tx: &mut RegionTx, entries: &[Entry]) -> Result<(), StoreError> {
    let region = tx.region().as_str().to_owned();
    let conn: &mut AnyConnection = tx;
    for entries in entries.chunks(ENTRIES_PER_INSERT) {
        let mut sql = String::with_capacity(96 + entries.len() * 48);
        sql.push_str(
            "INSERT INTO audit_log (region, seq, at, actor, action, subject, detail, prev_hash, hash) VALUES ",
        );
        Placeholders::for_connection(conn).push_tuples(&mut sql, entries.len(), ENTRY_PARAMETERS);
        let mut query = sqlx::query(&sql);
        for entry in entries {
            query = query
                .bind(region.as_str())
                .bind(entry.seq)
                .bind(entry.at)
                .bind(entry.actor.as_str())
                .bind(entry.action.as_str())
                .bind(entry.subject.as_str())
                .bind(entry.detail.as_str())
                .bind(entry.prev_hash.as_str())
                .bind(entry.hash.as_str());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The `seq` of the first entry recording `action` on `subject`, if any (the log receipt of
/// a replayed issuance).
pub async fn seq_of(
    conn: &mut impl super::Confined,
    action: &str,
    subject: &str,
) -> Result<Option<i64>, StoreError> {
    let region = conn.region().as_str().to_owned();
    let row = sqlx::query(
        "SELECT MIN(seq) AS seq FROM audit_log WHERE region = $1 AND action = $2 AND subject = $3",
    )
    .bind(region)
    .bind(action)
    .bind(subject)
    .fetch_one(&mut **conn)
    .await?;
    Ok(row.try_get("seq")?)
}

/// The stored head of the chain `chain` (a region code, or the legacy chain's name).
pub(crate) async fn head_of(store: &Store, chain: &str) -> Result<Option<AuditHead>, StoreError> {
    let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE region = $1")
        .bind(chain)
        .fetch_optional(store.pool())
        .await?;
    row.map(|row| {
        Ok(AuditHead {
            seq: row.try_get("seq")?,
            hash: row.try_get("hash")?,
        })
    })
    .transpose()
    .map_err(StoreError::Sqlx)
}

/// Up to `limit` entries of the chain `chain` with `seq > after`, in order.
pub(crate) async fn page(
    store: &Store,
    chain: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<Entry>, StoreError> {
    let rows = sqlx::query(
        "SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_log \
         WHERE region = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(chain)
    .bind(after)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Entry {
                seq: row.try_get("seq")?,
                at: row.try_get("at")?,
                actor: row.try_get("actor")?,
                action: row.try_get("action")?,
                subject: row.try_get("subject")?,
                detail: row.try_get("detail")?,
                prev_hash: row.try_get("prev_hash")?,
                hash: row.try_get("hash")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::Sqlx)
}
