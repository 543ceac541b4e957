//! The store: an embedded SQLite file (the default) or PostgreSQL, chosen by
//! the URL. Every query is written once where the SQL dialects agree and per
//! backend where they do not (bulk writes); `on_backend!` runs the same code
//! against whichever pool is open.
//!
//! Durability: SQLite runs in WAL mode with `synchronous = FULL`, so a
//! committed transaction is on disk before the commit returns, and every
//! write transaction begins `IMMEDIATE`, so a writer never has to give up
//! half-way for another process's lock. PostgreSQL's defaults
//! (`synchronous_commit = on`, `fsync = on`) give the same guarantee.

mod bindings;
mod convert;
mod due;
mod events;
mod identity_links;
mod lists;
pub mod pages;
mod passes;
pub mod reads;
mod subjects;
mod tokens;

pub use bindings::{BindOutcome, DeviceBinder};
pub use due::{DuePage, DueSubject};
pub use events::{Applied, EventOutcome};
pub use identity_links::{IdentityLink, LinkError, LinkOutcome};
pub use lists::{StoredStatusList, StoredTrustList};
pub use passes::{PageWrite, StoreStats, SubjectView, SupersededPass};
pub use subjects::EnrolOutcome;
pub use tokens::{ApiToken, NewToken, Scope, TokenError};

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Postgres, SqlSafeStr, Sqlite, Transaction};
use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;
use thiserror::Error;

/// Why the store could not do what was asked. The text may name tables and
/// SQL states, never personal data; the API logs it and answers generically.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(
        "{0:?} is not a store URL: use a path or sqlite://PATH for SQLite, postgres://... for PostgreSQL"
    )]
    BadUrl(String),
    #[error("the store holds inconsistent data: {0}")]
    Inconsistent(String),
    #[error("cannot make the store file {path} private (mode 0600): {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
}

/// Which database holds the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

impl BackendKind {
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Sqlite => "sqlite",
            BackendKind::Postgres => "postgres",
        }
    }
}

#[derive(Clone)]
pub(crate) enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The issuer's store. Cheap to clone (pools are shared).
#[derive(Clone)]
pub struct Store {
    pub(crate) backend: Backend,
}

/// Run `$body` with `$pool` bound to the open pool, whichever backend it is:
/// the body is compiled once per backend.
macro_rules! on_backend {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.backend {
            $crate::store::Backend::Sqlite($pool) => $body,
            $crate::store::Backend::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_backend;

/// A write transaction: `BEGIN IMMEDIATE` on SQLite (take the write lock at
/// once, so two processes never deadlock upgrading a read), plain `BEGIN`
/// on PostgreSQL.
pub(crate) trait WritePool {
    type Db: sqlx::Database;
    async fn begin_write(&self) -> Result<Transaction<'static, Self::Db>, sqlx::Error>;
}

impl WritePool for SqlitePool {
    type Db = Sqlite;
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl WritePool for PgPool {
    type Db = Postgres;
    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.begin().await
    }
}

/// Longest a SQLite writer waits for another process's write lock.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Page size of a new SQLite store (an existing one keeps its own). A
/// subject's row with its pass is about 500 bytes; with 16 KiB pages rather
/// than 4 KiB, storing a page of first passes writes fewer WAL frames and
/// splits fewer B-tree pages (less CPU a pass and quicker imports in the
/// bulk-signing benchmark, `bulk_sign_bench`).
const SQLITE_PAGE_SIZE: u32 = 16_384;

impl Store {
    /// Open (and for SQLite create) the store at `url`: `postgres://...` or
    /// `postgresql://...` for PostgreSQL; `sqlite://PATH`, `sqlite:PATH` or
    /// a plain path for SQLite.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
            Backend::Postgres(
                PgPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(60))
                    .connect_with(options)
                    .await?,
            )
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url);
            if path.is_empty() || path.contains("://") {
                return Err(StoreError::BadUrl(url.into()));
            }
            private_sqlite_files(std::path::Path::new(path))?;
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true)
                .page_size(SQLITE_PAGE_SIZE);
            Backend::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(Duration::from_secs(60))
                    .connect_with(options)
                    .await?,
            )
        };
        Ok(Store { backend })
    }

    pub fn kind(&self) -> BackendKind {
        match self.backend {
            Backend::Sqlite(_) => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// Bring the schema up to date (idempotent). Between the migration
    /// that adds `pass_pages` and the one that drops the old pass columns,
    /// the passes are copied into pages (`convert.rs`); the migrations
    /// after the drop run after the copy.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let files: &[(i64, &str, &'static str)] = match self.kind() {
            BackendKind::Sqlite => &[
                (
                    1,
                    "store",
                    include_str!("../../migrations/sqlite/0001_store.sql"),
                ),
                (
                    2,
                    "pass pages",
                    include_str!("../../migrations/sqlite/0002_pass_pages.sql"),
                ),
                (
                    3,
                    "drop pass columns",
                    include_str!("../../migrations/sqlite/0003_drop_pass_columns.sql"),
                ),
                (
                    4,
                    "identity links",
                    include_str!("../../migrations/sqlite/0004_identity_links.sql"),
                ),
                (
                    5,
                    "device binding",
                    include_str!("../../migrations/sqlite/0005_device_binding.sql"),
                ),
            ],
            BackendKind::Postgres => &[
                (
                    1,
                    "store",
                    include_str!("../../migrations/postgres/0001_store.sql"),
                ),
                (
                    2,
                    "due index",
                    include_str!("../../migrations/postgres/0002_due_index.sql"),
                ),
                (
                    3,
                    "pass pages",
                    include_str!("../../migrations/postgres/0003_pass_pages.sql"),
                ),
                (
                    4,
                    "drop pass columns",
                    include_str!("../../migrations/postgres/0004_drop_pass_columns.sql"),
                ),
                (
                    5,
                    "identity links",
                    include_str!("../../migrations/postgres/0005_identity_links.sql"),
                ),
                (
                    6,
                    "device binding",
                    include_str!("../../migrations/postgres/0006_device_binding.sql"),
                ),
            ],
        };
        let migrator = |files: &[(i64, &str, &'static str)]| {
            Migrator::with_migrations(
                files
                    .iter()
                    .map(|&(version, description, sql)| {
                        Migration::new(
                            version,
                            Cow::Owned(description.to_owned()),
                            MigrationType::Simple,
                            AssertSqlSafe(sql).into_sql_str(),
                            false,
                        )
                    })
                    .collect(),
            )
        };
        let drop_at = files
            .iter()
            .position(|&(_, description, _)| description == "drop pass columns")
            .expect("the migrations drop the pass columns");
        // A store migrated already has the later migrations too.
        let mut first = migrator(&files[..drop_at]);
        first.set_ignore_missing(true);
        on_backend!(self, pool => first.run(pool).await?);
        self.copy_pass_columns_into_pages().await?;
        on_backend!(self, pool => migrator(files).run(pool).await?);
        Ok(())
    }

    /// Close the pools, waiting for connections to finish.
    pub async fn close(&self) {
        on_backend!(self, pool => pool.close().await);
    }
}

/// Make the SQLite store readable by its owner only (issue 15, finding 8):
/// a new file is created empty with mode 0600 before SQLite opens it (an
/// empty file is an empty database), and an existing one, with the
/// `-wal` and `-shm` files beside it, is narrowed to 0600. SQLite gives a
/// `-wal` or `-shm` it creates the main file's permissions, so they
/// follow.
fn private_sqlite_files(path: &std::path::Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let failed = |path: &std::path::Path, source| StoreError::File {
        path: path.display().to_string(),
        source,
    };
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(failed(path, e)),
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = std::path::Path::new(&name);
        let Ok(metadata) = std::fs::metadata(file) else {
            continue;
        };
        if metadata.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| failed(file, e))?;
        }
    }
    Ok(())
}

/// Placeholders for a multi-row VALUES list of `rows` rows of `columns`
/// columns, bound in order: `($1, $2), ($3, $4)` on PostgreSQL, anonymous
/// `(?, ?), (?, ?)` on SQLite. Numbered placeholders would bind the same
/// way on SQLite, but sqlx asks SQLite for the name of every parameter and
/// SQLite finds a name by a linear search, so binding n numbered parameters
/// takes time in n².
pub(crate) fn values_placeholders(kind: BackendKind, rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 6);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        sql.push_str(&placeholders(kind, row * columns, columns));
        sql.push(')');
    }
    sql
}

/// `count` placeholders separated by commas, the first numbered `after + 1`
/// on PostgreSQL: `$3, $4`; anonymous on SQLite: `?, ?`.
pub(crate) fn placeholders(kind: BackendKind, after: usize, count: usize) -> String {
    let mut sql = String::with_capacity(count * 6);
    for i in 0..count {
        if i > 0 {
            sql.push_str(", ");
        }
        match kind {
            BackendKind::Sqlite => sql.push('?'),
            BackendKind::Postgres => {
                sql.push('$');
                sql.push_str(&(after + i + 1).to_string());
            }
        }
    }
    sql
}

/// A store URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.into(),
            }
        }
        _ => url.into(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A SQLite store holding subjects `1..=subjects` (subject ids `S0`,
    /// `S1`, ...) at status version 1, with health columns that vary with
    /// the id (colour `id % 3`, doses `id % 4`, a last dose on even ids, a
    /// test, positive every third, on odd ids), and pass pages
    /// `0..due.len()` with these `due_at`, revision 0 and no passes.
    pub(crate) async fn store_with_pages(due: &[i64], subjects: i64) -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("store.db").to_str().unwrap())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let Backend::Sqlite(pool) = &store.backend else {
            unreachable!()
        };
        for id in 1..=subjects {
            let odd = id % 2 == 1;
            sqlx::query(
                "INSERT INTO subjects (id, subject, masked_name, masked_id, colour, doses, last_dose, \
                 test_time, test_result, status_version, status_updated_at) \
                 VALUES ($1, $2, '张*明', '6101**********1234', $3, $4, $5, $6, $7, 1, 0)",
            )
            .bind(id)
            .bind(format!("S{}", id - 1))
            .bind(id % 3)
            .bind(id % 4)
            .bind((!odd).then_some(20_000 + id))
            .bind(odd.then_some(1_795_000_000 + id))
            .bind(odd.then_some(i64::from(id % 3 == 0)))
            .execute(pool)
            .await
            .unwrap();
        }
        for (page, due_at) in due.iter().enumerate() {
            sqlx::query(
                "INSERT INTO pass_pages (page, due_at, revision, slots) VALUES ($1, $2, 0, x'')",
            )
            .bind(page as i64)
            .bind(due_at)
            .execute(pool)
            .await
            .unwrap();
        }
        (store, dir)
    }

    #[test]
    fn placeholders_number_rows_then_columns() {
        assert_eq!(
            values_placeholders(BackendKind::Postgres, 2, 2),
            "($1, $2), ($3, $4)"
        );
        assert_eq!(
            values_placeholders(BackendKind::Sqlite, 2, 2),
            "(?, ?), (?, ?)"
        );
        assert_eq!(placeholders(BackendKind::Postgres, 0, 3), "$1, $2, $3");
    }

    #[test]
    fn store_urls_are_shown_without_passwords() {
        assert_eq!(
            redact_url("postgres://issuer:s3cret@db/sealpass"),
            "postgres://issuer:***@db/sealpass"
        );
        assert_eq!(
            redact_url("postgres://issuer@db/sealpass"),
            "postgres://issuer@db/sealpass"
        );
        assert_eq!(redact_url("issuer.db"), "issuer.db");
    }
}
