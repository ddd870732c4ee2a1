//! The issuer's database: SQLite (embedded, default) or PostgreSQL, through one `sqlx::Any`
//! pool and the same SQL for both (schema in `migrations/sqlite` and `migrations/postgres`,
//! applied at start).
//!
//! Owns connections, migrations, the row-level operations other modules compose into
//! transactions, and **region confinement**: several provinces' issuers may share one database
//! (SPEC §7), and an issuer reaches its rows only through a [`RegionStore`], the store seen by one
//! region. Its read connections ([`RegionConn`]) and write transactions ([`RegionTx`]) carry that
//! region, every function that reads or changes a region's rows takes one of them (the
//! [`Confined`] bound) and binds [`Confined::region`] in its `WHERE` clause: no such function can
//! be called with a bare connection or with a region of the caller's choosing. Another region's
//! rows are simply not found.
//!
//! Every write transaction starts with the lock of its region's audit head ([`RegionStore::begin`]),
//! an `UPDATE … RETURNING` of that region's head row: that takes SQLite's write lock or
//! PostgreSQL's row lock at once, so concurrent writers of a region (threads or processes sharing
//! the database) are serialised and read a consistent head. It holds no business rules.
//!
//! The SQL of each aggregate lives in one submodule, so both engines' differences are met in
//! one place: [`licences`], [`copies`], [`seals`], [`status_lists`] (and the `status_entries` they hand
//! out), [`idempotency`], [`import_rows`], [`tokens`], [`audit_log`]. The rules stay with their
//! owners (the hash chain in [`crate::audit`], token secrets in [`crate::tokens`]).

pub mod audit_log;
pub mod copies;
pub mod idempotency;
pub mod import_rows;
pub mod licences;
pub mod log;
pub mod seals;
pub mod status_lists;
pub mod tokens;

use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::time::Duration;

use huren_crypto::ids::RegionCode;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Row};

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// A database failure. The message of the driver is kept for logs, never sent to clients.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// URL not understood.
    #[error("database URL must start with sqlite:// or postgres:// (got {0:?})")]
    BadUrl(String),
    /// Connecting or querying failed.
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// Applying migrations failed.
    #[error("database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database file could not be created.
    #[error("database file {path}: {source}")]
    File {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A row did not have the expected shape.
    #[error("database row: {0}")]
    Row(String),
}

/// The pool and its engine.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

impl Store {
    /// Connects, sets SQLite up for a service (WAL, busy timeout, foreign keys) and applies
    /// the migrations of the engine.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::BadUrl(url.chars().take(40).collect()));
        };
        if backend == Backend::Sqlite {
            if let Some((path, creates)) = sqlite_file(url) {
                create_private_file(path, creates)?;
            }
        }
        let options = AnyConnectOptions::from_str(url)?;
        let mut pool_options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        if backend == Backend::Sqlite {
            pool_options = pool_options.max_connections(8).after_connect(|conn, _| {
                Box::pin(async move {
                    // WAL: readers never block the writer; NORMAL: durable at checkpoints and
                    // never corrupt (a crash loses at most the last transactions, never half of one).
                    for pragma in [
                        "PRAGMA journal_mode = WAL",
                        "PRAGMA synchronous = NORMAL",
                        "PRAGMA busy_timeout = 10000",
                        "PRAGMA foreign_keys = ON",
                    ] {
                        sqlx::query(pragma).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            });
        } else {
            pool_options = pool_options.max_connections(16);
        }
        let pool = pool_options.connect_with(options).await?;
        match backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        Ok(Store { pool, backend })
    }

    /// The pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The engine.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// The database file a `sqlite:` URL names, if it names one (not `:memory:` or
/// `mode=memory`), and whether the URL asks for it to be created (`mode=rwc`).
fn sqlite_file(url: &str) -> Option<(&std::path::Path, bool)> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let memory =
        path.is_empty() || path == ":memory:" || query.split('&').any(|pair| pair == "mode=memory");
    let creates = query.split('&').any(|pair| pair == "mode=rwc");
    (!memory).then(|| (std::path::Path::new(path), creates))
}

/// Creates the SQLite database file with mode 0600 before SQLite opens it (if the URL asks
/// for creation): it holds personal data, and SQLite gives its `-wal` and `-shm` files the
/// mode of the database file. An existing file is left as it is, with a warning (naming the
/// file) if others may read it or its side files.
fn create_private_file(path: &std::path::Path, creates: bool) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let opened = if creates {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map(drop)
    } else {
        Err(std::io::ErrorKind::AlreadyExists.into())
    };
    match opened {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            for suffix in ["", "-wal", "-shm"] {
                let mut name = path.as_os_str().to_owned();
                name.push(suffix);
                let file = std::path::PathBuf::from(name);
                if let Ok(meta) = std::fs::metadata(&file) {
                    if meta.permissions().mode() & 0o077 != 0 {
                        tracing::warn!(
                            file = %file.display(),
                            "the database file (personal data) is readable by group or others; chmod 600 it"
                        );
                    }
                }
            }
            Ok(())
        }
        Err(e) => Err(StoreError::File {
            path: path.display().to_string(),
            source: e,
        }),
    }
}

/// The head of a region's audit chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    /// Sequence number of the last entry (0 = empty log).
    pub seq: i64,
    /// Hash of the last entry (64 zeros for an empty log).
    pub hash: String,
}

/// The hash before the first entry of a chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl AuditHead {
    /// The head of an empty chain.
    pub fn genesis() -> AuditHead {
        AuditHead {
            seq: 0,
            hash: GENESIS_HASH.to_owned(),
        }
    }
}

/// The store as one region's issuer sees it (see the module doc). Derefs to the [`Store`] for
/// what is not region data: health checks, and API tokens, which are looked up by their hash
/// and then checked against the region (`tokens`).
#[derive(Debug, Clone)]
pub struct RegionStore {
    store: Store,
    region: RegionCode,
}

impl Deref for RegionStore {
    type Target = Store;

    fn deref(&self) -> &Store {
        &self.store
    }
}

impl RegionStore {
    /// `store` confined to `region`.
    pub fn new(store: Store, region: RegionCode) -> RegionStore {
        RegionStore { store, region }
    }

    /// The region.
    pub fn region(&self) -> &RegionCode {
        &self.region
    }

    /// A read connection confined to the region.
    pub async fn acquire(&self) -> Result<RegionConn, StoreError> {
        Ok(RegionConn {
            conn: self.store.pool.acquire().await?,
            region: self.region.clone(),
        })
    }

    /// Begins a write transaction of the region and locks the region's audit head (created
    /// with the region's first write).
    pub async fn begin(&self) -> Result<RegionTx, StoreError> {
        let mut tx = self.store.pool.begin().await?;
        let head = match lock_head(&mut tx, &self.region).await? {
            Some(head) => head,
            None => {
                // First write of the region. `ON CONFLICT`: another process may be making the
                // same row; the lock below then waits for it.
                sqlx::query(
                    "INSERT INTO audit_head (region, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (region) DO NOTHING",
                )
                .bind(self.region.as_str())
                .bind(GENESIS_HASH)
                .execute(&mut *tx)
                .await?;
                lock_head(&mut tx, &self.region)
                    .await?
                    .ok_or_else(|| StoreError::Row("the audit head could not be created".into()))?
            }
        };
        Ok(RegionTx {
            tx,
            region: self.region.clone(),
            locked: head.clone(),
            head,
        })
    }

    /// The region's audit head as stored now (no lock).
    pub async fn audit_head(&self) -> Result<AuditHead, StoreError> {
        let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE region = $1")
            .bind(self.region.as_str())
            .fetch_optional(&self.store.pool)
            .await?;
        match row {
            Some(row) => Ok(AuditHead {
                seq: row.try_get("seq")?,
                hash: row.try_get("hash")?,
            }),
            None => Ok(AuditHead::genesis()),
        }
    }
}

async fn lock_head(
    conn: &mut AnyConnection,
    region: &RegionCode,
) -> Result<Option<AuditHead>, StoreError> {
    let row = sqlx::query("UPDATE audit_head SET seq = seq WHERE region = $1 RETURNING seq, hash")
        .bind(region.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|row| {
        Ok(AuditHead {
            seq: row.try_get("seq")?,
            hash: row.try_get("hash")?,
        })
    })
    .transpose()
}

/// A connection that reaches only one region's rows: what region-data functions take.
pub trait Confined: DerefMut<Target = AnyConnection> + Send {
    /// The region every query binds.
    fn region(&self) -> &RegionCode;
}

/// A read connection of one region ([`RegionStore::acquire`]).
#[derive(Debug)]
pub struct RegionConn {
    conn: PoolConnection<Any>,
    region: RegionCode,
}

impl Deref for RegionConn {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl DerefMut for RegionConn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}

impl Confined for RegionConn {
    fn region(&self) -> &RegionCode {
        &self.region
    }
}

/// A write transaction of one region, holding the lock of its audit head from
/// [`RegionStore::begin`] to [`RegionTx::commit`] (dropped: rolled back).
#[derive(Debug)]
pub struct RegionTx {
    tx: sqlx::Transaction<'static, Any>,
    region: RegionCode,
    /// The head when locked.
    locked: AuditHead,
    /// The head after the entries appended so far (stored by [`RegionTx::set_head`]).
    head: AuditHead,
}

impl Deref for RegionTx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for RegionTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

impl Confined for RegionTx {
    fn region(&self) -> &RegionCode {
        &self.region
    }
}

impl RegionTx {
    /// The region's audit head as this transaction has moved it.
    pub fn head(&self) -> &AuditHead {
        &self.head
    }

    /// Moves the region's audit head after appending entries (`audit`).
    pub async fn set_head(&mut self, head: AuditHead) -> Result<(), StoreError> {
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE region = $3")
            .bind(head.seq)
            .bind(&head.hash)
            .bind(self.region.as_str())
            .execute(&mut *self.tx)
            .await?;
        self.head = head;
        Ok(())
    }

    /// Rolls back (as dropping it does, but waiting for it).
    pub async fn rollback(self) -> Result<(), StoreError> {
        Ok(self.tx.rollback().await?)
    }

    /// Commits; returns the region's new audit head if the transaction moved it (what the
    /// issuer then signs, `audit::Anchor`).
    pub async fn commit(self) -> Result<Option<AuditHead>, StoreError> {
        self.tx.commit().await?;
        Ok((self.head != self.locked).then_some(self.head))
    }
}

/// Bound parameters one statement may carry on both engines. SQLite's limit
/// (`SQLITE_MAX_VARIABLE_NUMBER`: 32,766 in the bundled SQLite, 3.32 and later) is the lower;
/// PostgreSQL's is 65,535. Multi-row statements size their rows from it
/// ([`rows_per_statement`]).
pub const MAX_BIND_PARAMETERS: usize = 32_766;

/// How many rows of `per_row` bound parameters fit one statement next to `shared` other
/// parameters.
pub const fn rows_per_statement(per_row: usize, shared: usize) -> usize {
    (MAX_BIND_PARAMETERS - shared) / per_row
}

/// Writes the bound-parameter placeholders of one statement in binding order: `$1, $2, …` on
/// PostgreSQL, anonymous `?` on SQLite. Multi-row statements need the latter: sqlx binds a
/// numbered SQLite parameter by name (`sqlite3_bind_parameter_name`, a linear search of the
/// statement's parameter names), so binding n of them costs O(n²) — ~50 ms for the ~9,000
/// parameters of a 1,000-row `INSERT` — while `?` parameters are bound by position. Each
/// placeholder takes its own value: bind in the order the placeholders are written.
#[derive(Debug)]
pub struct Placeholders {
    numbered: bool,
    next: usize,
}

impl Placeholders {
    /// Placeholders for statements run on `conn`.
    pub fn for_connection(conn: &AnyConnection) -> Placeholders {
        Placeholders {
            numbered: conn.backend_name() != <sqlx::Sqlite as sqlx::Database>::NAME,
            next: 1,
        }
    }

    /// Appends the next placeholder.
    pub fn push(&mut self, sql: &mut String) {
        if self.numbered {
            sql.push('$');
            sql.push_str(&self.next.to_string());
        } else {
            sql.push('?');
        }
        self.next += 1;
    }

    /// Appends `count` comma-separated placeholders (for `… IN (…)`).
    pub fn push_list(&mut self, sql: &mut String, count: usize) {
        for n in 0..count {
            if n > 0 {
                sql.push_str(", ");
            }
            self.push(sql);
        }
    }

    /// Appends `rows` comma-separated tuples of `per_row` placeholders (for `VALUES …`).
    pub fn push_tuples(&mut self, sql: &mut String, rows: usize, per_row: usize) {
        for row in 0..rows {
            if row > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            self.push_list(sql, per_row);
            sql.push(')');
        }
    }
}
