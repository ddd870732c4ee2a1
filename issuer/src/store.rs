//! The issuer's database: SQLite (embedded, default) or PostgreSQL, through one `sqlx::Any`
//! pool and the same SQL for both (schema in `migrations/sqlite` and `migrations/postgres`,
//! applied at start).
//!
//! Owns connections, migrations and the row-level operations other modules compose into
//! transactions. Every write transaction starts with [`lock_audit_head`], an `UPDATE … RETURNING`
//! of the single audit-head row: that takes SQLite's write lock or PostgreSQL's row lock at
//! once, so concurrent writers (threads or processes sharing the database) are serialised and
//! read a consistent head. It holds no business rules.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Row};

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

    /// Begins a write transaction.
    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(self.pool.begin().await?)
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

/// The audit head as locked at the start of a write transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    /// Sequence number of the last entry (0 = empty log).
    pub seq: i64,
    /// Hash of the last entry (64 zeros for an empty log).
    pub hash: String,
}

/// Locks the audit head for this transaction and returns it (see the module doc).
pub async fn lock_audit_head(conn: &mut AnyConnection) -> Result<AuditHead, StoreError> {
    let row = sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *conn)
        .await?;
    Ok(AuditHead {
        seq: row.try_get("seq")?,
        hash: row.try_get("hash")?,
    })
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

/// Moves the audit head after appending an entry.
pub async fn set_audit_head(conn: &mut AnyConnection, head: &AuditHead) -> Result<(), StoreError> {
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(head.seq)
        .bind(&head.hash)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
