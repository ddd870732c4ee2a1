//! The transparency log's tables (migration `0006_transparency_log`): the SQL of
//! [`crate::tlog`], which owns the rules (what a leaf is, when the tree grows, what a witness
//! may cosign). Every function is confined to the caller's region.

use huren_crypto::tlog::tree::Fetched;
use huren_crypto::tlog::Hash;
use sqlx::Row;

use super::{rows_per_statement, Confined, Placeholders, StoreError};

fn hash_from_hex(text: &str) -> Result<Hash, StoreError> {
    let bytes = hex::decode(text).map_err(|_| StoreError::Row("log root is not hex".into()))?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| StoreError::Row("log root is not 32 bytes".into()))?;
    Ok(Hash(bytes))
}

fn hash_from_blob(bytes: Vec<u8>) -> Result<Hash, StoreError> {
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| StoreError::Row("log hash is not 32 bytes".into()))?;
    Ok(Hash(bytes))
}

fn to_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Row(format!("{n} does not fit the database")))
}

fn to_u64(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Row(format!("negative log number {n}")))
}

/// The tree's size and root as last extended (`None` before the first append).
pub async fn state(conn: &mut impl Confined) -> Result<Option<(u64, Hash)>, StoreError> {
    let region = conn.region().as_str().to_owned();
    let row = sqlx::query("SELECT size, root FROM log_state WHERE region = $1")
        .bind(region)
        .fetch_optional(&mut **conn)
        .await?;
    row.map(|row| {
        let size: i64 = row.try_get("size")?;
        let root: String = row.try_get("root")?;
        Ok((to_u64(size)?, hash_from_hex(&root)?))
    })
    .transpose()
}

/// Moves the tree from `old` entries to (`new`, `root`) if it still has `old`; false if another
/// sequencer moved it first.
pub async fn advance(
    conn: &mut impl Confined,
    old: u64,
    new: u64,
    root: &Hash,
) -> Result<bool, StoreError> {
    let region = conn.region().as_str().to_owned();
    let root = hex::encode(root.0);
    let done = if old == 0 {
        sqlx::query(
            "INSERT INTO log_state (region, size, root) VALUES ($1, $2, $3) ON CONFLICT (region) DO UPDATE SET size = excluded.size, root = excluded.root WHERE log_state.size = 0",
        )
        .bind(region)
        .bind(to_i64(new)?)
        .bind(root)
        .execute(&mut **conn)
        .await?
    } else {
        sqlx::query("UPDATE log_state SET size = $1, root = $2 WHERE region = $3 AND size = $4")
            .bind(to_i64(new)?)
            .bind(root)
            .bind(region)
            .bind(to_i64(old)?)
            .execute(&mut **conn)
            .await?
    };
    Ok(done.rows_affected() == 1)
}

/// Bound parameters of one `log_hashes` row.
const HASH_PARAMETERS: usize = 4;

/// Stores hashes by stored index.
pub async fn insert_hashes(
    conn: &mut impl Confined,
    hashes: &[(u64, Hash)],
) -> Result<(), StoreError> {
    let region = conn.region().as_str().to_owned();
    for chunk in hashes.chunks(rows_per_statement(HASH_PARAMETERS, 0)) {
        let mut sql = String::from("INSERT INTO log_hashes (region, level, n, hash) VALUES ");
        Placeholders::for_connection(conn).push_tuples(&mut sql, chunk.len(), HASH_PARAMETERS);
        let mut query = sqlx::query(&sql);
        for (index, hash) in chunk {
            let (level, n) = tlog_tiles_split(*index);
            query = query
                .bind(region.as_str())
                .bind(i64::from(level))
                .bind(to_i64(n)?)
                .bind(hash.0.to_vec());
        }
        query.execute(&mut **conn).await?;
    }
    Ok(())
}

fn tlog_tiles_split(index: u64) -> (u8, u64) {
    huren_crypto::tlog::tree::split_stored_index(index)
}

/// The hashes at the given stored indexes; absent ones are left out (the tree math names the
/// first it misses).
pub async fn hashes(conn: &mut impl Confined, indexes: &[u64]) -> Result<Fetched, StoreError> {
    let region = conn.region().as_str().to_owned();
    let mut fetched = Fetched::new();
    // Each term names the region: SQLite then answers the OR with one primary-key probe per
    // term; with the region factored out it scans the region's rows (11 s a proof at 10 M
    // entries, bench/README.md "Transparency log"). Three parameters per index.
    for chunk in indexes.chunks(1000) {
        let mut placeholders = Placeholders::for_connection(conn);
        let mut sql = String::from("SELECT level, n, hash FROM log_hashes WHERE ");
        for (i, _) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(" OR ");
            }
            sql.push_str("(region = ");
            placeholders.push(&mut sql);
            sql.push_str(" AND level = ");
            placeholders.push(&mut sql);
            sql.push_str(" AND n = ");
            placeholders.push(&mut sql);
            sql.push(')');
        }
        let mut query = sqlx::query(&sql);
        for index in chunk {
            let (level, n) = tlog_tiles_split(*index);
            query = query
                .bind(region.as_str())
                .bind(i64::from(level))
                .bind(to_i64(n)?);
        }
        for row in query.fetch_all(&mut **conn).await? {
            let level: i64 = row.try_get("level")?;
            let n: i64 = row.try_get("n")?;
            let level = u8::try_from(level).map_err(|_| StoreError::Row("log level".into()))?;
            let index = huren_crypto::tlog::tree::stored_index(level, to_u64(n)?);
            fetched.insert(index, hash_from_blob(row.try_get("hash")?)?);
        }
    }
    Ok(fetched)
}

/// `count` hashes of tree level `level` from number `first` on, concatenated (a tile's body);
/// `None` if any is missing.
pub async fn tile(
    conn: &mut impl Confined,
    level: u8,
    first: u64,
    count: u64,
) -> Result<Option<Vec<u8>>, StoreError> {
    let region = conn.region().as_str().to_owned();
    let rows = sqlx::query(
        "SELECT hash FROM log_hashes WHERE region = $1 AND level = $2 AND n >= $3 AND n < $4 ORDER BY n",
    )
    .bind(region)
    .bind(i64::from(level))
    .bind(to_i64(first)?)
    .bind(to_i64(first.saturating_add(count))?)
    .fetch_all(&mut **conn)
    .await?;
    if rows.len() as u64 != count {
        return Ok(None);
    }
    let mut body = Vec::with_capacity(rows.len() * 32);
    for row in rows {
        body.extend_from_slice(&hash_from_blob(row.try_get("hash")?)?.0);
    }
    Ok(Some(body))
}

/// Bound parameters of one `log_tokens` row.
const TOKEN_PARAMETERS: usize = 3;

/// Records which leaves carry which token hashes.
pub async fn insert_tokens(
    conn: &mut impl Confined,
    tokens: &[(String, u64)],
) -> Result<(), StoreError> {
    let region = conn.region().as_str().to_owned();
    for chunk in tokens.chunks(rows_per_statement(TOKEN_PARAMETERS, 0)) {
        let mut sql = String::from("INSERT INTO log_tokens (region, token_sha256, idx) VALUES ");
        Placeholders::for_connection(conn).push_tuples(&mut sql, chunk.len(), TOKEN_PARAMETERS);
        let mut query = sqlx::query(&sql);
        for (hash, index) in chunk {
            query = query
                .bind(region.as_str())
                .bind(hash.as_str())
                .bind(to_i64(*index)?);
        }
        query.execute(&mut **conn).await?;
    }
    Ok(())
}

/// The first leaf carrying `token_sha256`, if the log has one.
pub async fn token_index(
    conn: &mut impl Confined,
    token_sha256: &str,
) -> Result<Option<u64>, StoreError> {
    let region = conn.region().as_str().to_owned();
    let row = sqlx::query(
        "SELECT MIN(idx) AS idx FROM log_tokens WHERE region = $1 AND token_sha256 = $2",
    )
    .bind(region)
    .bind(token_sha256)
    .fetch_one(&mut **conn)
    .await?;
    let idx: Option<i64> = row.try_get("idx")?;
    idx.map(to_u64).transpose()
}

/// A checkpoint the log signed.
#[derive(Debug, Clone)]
pub struct CheckpointRow {
    /// Tree size.
    pub size: u64,
    /// The note with the log's signature.
    pub note: String,
    /// The note with a quorum of cosignatures, once witnessed.
    pub cosigned: Option<String>,
}

/// Stores a signed checkpoint.
pub async fn insert_checkpoint(
    conn: &mut impl Confined,
    size: u64,
    root: &Hash,
    note: &str,
    at: i64,
) -> Result<(), StoreError> {
    let region = conn.region().as_str().to_owned();
    sqlx::query(
        "INSERT INTO log_checkpoints (region, size, root, note, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (region, size) DO NOTHING",
    )
    .bind(region)
    .bind(to_i64(size)?)
    .bind(hex::encode(root.0))
    .bind(note)
    .bind(at)
    .execute(&mut **conn)
    .await?;
    Ok(())
}

async fn one_checkpoint(
    conn: &mut impl Confined,
    condition: &str,
) -> Result<Option<CheckpointRow>, StoreError> {
    let region = conn.region().as_str().to_owned();
    let sql = format!(
        "SELECT size, note, cosigned FROM log_checkpoints WHERE region = $1 {condition} ORDER BY size DESC LIMIT 1"
    );
    let row = sqlx::query(&sql)
        .bind(region)
        .fetch_optional(&mut **conn)
        .await?;
    row.map(|row| {
        Ok(CheckpointRow {
            size: to_u64(row.try_get("size")?)?,
            note: row.try_get("note")?,
            cosigned: row.try_get("cosigned")?,
        })
    })
    .transpose()
}

/// The newest signed checkpoint.
pub async fn newest_checkpoint(
    conn: &mut impl Confined,
) -> Result<Option<CheckpointRow>, StoreError> {
    one_checkpoint(conn, "").await
}

/// The newest checkpoint a quorum of witnesses cosigned.
pub async fn newest_witnessed(
    conn: &mut impl Confined,
) -> Result<Option<CheckpointRow>, StoreError> {
    one_checkpoint(conn, "AND cosigned IS NOT NULL").await
}

/// Records the cosigned note of the checkpoint of `size`.
pub async fn set_cosigned(
    conn: &mut impl Confined,
    size: u64,
    cosigned: &str,
    at: i64,
) -> Result<(), StoreError> {
    let region = conn.region().as_str().to_owned();
    sqlx::query(
        "UPDATE log_checkpoints SET cosigned = $1, witnessed_at = $2 WHERE region = $3 AND size = $4",
    )
    .bind(cosigned)
    .bind(at)
    .bind(region)
    .bind(to_i64(size)?)
    .execute(&mut **conn)
    .await?;
    Ok(())
}

/// The size `witness` last cosigned for the region's log (0 if never).
pub async fn witness_size(conn: &mut impl Confined, witness: &str) -> Result<u64, StoreError> {
    let region = conn.region().as_str().to_owned();
    let row = sqlx::query("SELECT size FROM log_witness_sizes WHERE region = $1 AND witness = $2")
        .bind(region)
        .bind(witness)
        .fetch_optional(&mut **conn)
        .await?;
    match row {
        Some(row) => to_u64(row.try_get("size")?),
        None => Ok(0),
    }
}

/// Records that `witness` cosigned the tree of `size`.
pub async fn set_witness_size(
    conn: &mut impl Confined,
    witness: &str,
    size: u64,
) -> Result<(), StoreError> {
    let region = conn.region().as_str().to_owned();
    sqlx::query(
        "INSERT INTO log_witness_sizes (region, witness, size) VALUES ($1, $2, $3) ON CONFLICT (region, witness) DO UPDATE SET size = excluded.size",
    )
    .bind(region)
    .bind(witness)
    .bind(to_i64(size)?)
    .execute(&mut **conn)
    .await?;
    Ok(())
}

/// What this issuer, as a witness, last cosigned of the log `origin`.
#[derive(Debug, Clone)]
pub struct ViewRow {
    /// Tree size.
    pub size: u64,
    /// Root.
    pub root: Hash,
    /// The log's note it cosigned.
    pub note: String,
}

/// The view this witness holds of `origin`.
pub async fn witness_view(
    conn: &mut impl Confined,
    origin: &str,
) -> Result<Option<ViewRow>, StoreError> {
    let region = conn.region().as_str().to_owned();
    let row =
        sqlx::query("SELECT size, root, note FROM witness_views WHERE region = $1 AND origin = $2")
            .bind(region)
            .bind(origin)
            .fetch_optional(&mut **conn)
            .await?;
    row.map(|row| {
        let root: String = row.try_get("root")?;
        Ok(ViewRow {
            size: to_u64(row.try_get("size")?)?,
            root: hash_from_hex(&root)?,
            note: row.try_get("note")?,
        })
    })
    .transpose()
}

/// Moves the view of `origin` from `old` (`None`: none yet) to `new`; false if it was moved
/// meanwhile (the caller answers 409 then).
pub async fn advance_view(
    conn: &mut impl Confined,
    origin: &str,
    old: Option<u64>,
    new: &ViewRow,
    at: i64,
) -> Result<bool, StoreError> {
    let region = conn.region().as_str().to_owned();
    let root = hex::encode(new.root.0);
    let done = match old {
        None => sqlx::query(
            "INSERT INTO witness_views (region, origin, size, root, note, updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (region, origin) DO NOTHING",
        )
        .bind(region)
        .bind(origin)
        .bind(to_i64(new.size)?)
        .bind(root)
        .bind(new.note.as_str())
        .bind(at)
        .execute(&mut **conn)
        .await?,
        Some(old) => sqlx::query(
            "UPDATE witness_views SET size = $1, root = $2, note = $3, updated_at = $4 WHERE region = $5 AND origin = $6 AND size = $7",
        )
        .bind(to_i64(new.size)?)
        .bind(root)
        .bind(new.note.as_str())
        .bind(at)
        .bind(region)
        .bind(origin)
        .bind(to_i64(old)?)
        .execute(&mut **conn)
        .await?,
    };
    Ok(done.rows_affected() == 1)
}

/// Keeps a refused checkpoint as evidence.
pub async fn record_refusal(
    conn: &mut impl Confined,
    origin: &str,
    reason: &str,
    note: &str,
    at: i64,
) -> Result<(), StoreError> {
    let region = conn.region().as_str().to_owned();
    sqlx::query(
        "INSERT INTO witness_refusals (region, origin, at, reason, note) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(region)
    .bind(origin)
    .bind(at)
    .bind(reason)
    .bind(note)
    .execute(&mut **conn)
    .await?;
    Ok(())
}

/// One audit entry as the log needs it.
#[derive(Debug, Clone)]
pub struct AuditLeaf {
    /// Seq.
    pub seq: i64,
    /// When.
    pub at: i64,
    /// Action.
    pub action: String,
    /// Subject.
    pub subject: String,
    /// Detail JSON text.
    pub detail: String,
}

/// Up to `limit` audit entries of the region with `seq > after`, in order.
pub async fn audit_leaves(
    conn: &mut impl Confined,
    after: i64,
    limit: i64,
) -> Result<Vec<AuditLeaf>, StoreError> {
    let region = conn.region().as_str().to_owned();
    let rows = sqlx::query(
        "SELECT seq, at, action, subject, detail FROM audit_log WHERE region = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(region)
    .bind(after)
    .bind(limit)
    .fetch_all(&mut **conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(AuditLeaf {
                seq: row.try_get("seq")?,
                at: row.try_get("at")?,
                action: row.try_get("action")?,
                subject: row.try_get("subject")?,
                detail: row.try_get("detail")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::Sqlx)
}

/// Every licence of the region as (证照标识, token): what `huren log monitor` checks against
/// the log's token hashes.
pub async fn licence_tokens(conn: &mut impl Confined) -> Result<Vec<(String, String)>, StoreError> {
    let region = conn.region().as_str().to_owned();
    let rows = sqlx::query("SELECT jti, token FROM licences WHERE region = $1 ORDER BY jti")
        .bind(region)
        .fetch_all(&mut **conn)
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("jti")?, row.try_get("token")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::Sqlx)
}
