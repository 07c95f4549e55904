//! `AnyDb`: every repository trait of `crate::db` implemented once, on one `sqlx::AnyPool`, with
//! the same SQL for SQLite and PostgreSQL. This file owns the connection: set-up (the pool,
//! SQLite's pragmas, the feed's side connections), migrations, the `Writer` every write
//! transaction goes through, and `ping`. Each aggregate's queries are in a file of their own
//! (`shows.rs`, `episodes.rs`, …) and map rows with `rows.rs`, the only file that knows how a
//! column is stored. Where the dialects part, the branch is in one place and documented there:
//! the feed's rows (`feed.rs`, three paths) and full-text search (`search.rs`, SQL per backend).
//! Nothing here knows of HTTP, and nothing here reads or writes the object store: its keys are
//! only stored.
//!
//! Statements with RETURNING are always drained with `fetch_all`: with SQLite, `fetch_one` leaves
//! the statement un-reset, so its implicit transaction stays open and a read on another pooled
//! connection may not see the write yet (a published episode missing from the next feed query).

mod analytics;
mod audit;
mod backup;
mod documents;
mod episode_files;
mod episodes;
mod feed;
mod fingerprints;
mod jobs;
mod media;
mod publication_log;
mod quality;
mod rows;
mod search;
mod sessions;
mod shows;
mod site;
mod sqlite_feed;
mod store_writes;
mod tokens;
mod uploads;
mod users;

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use sqlx::{AnyConnection, AnyPool, Connection as _, any::AnyPoolOptions, migrate::Migrator};
use uuid::Uuid;

use crate::db::{Backend, Db, DbError};
use crate::domain::{Media, MediaId};
use sqlite_feed::SqliteReader;

// A rolling upgrade runs the previous release beside the new one on the database the new one
// migrated: the migrator therefore accepts applied migrations it does not know (a newer
// release's), as long as it knows no migration that is missing. Migrations are additive first,
// destructive ones only a release later (docs/production.md), so the older code still works.
static SQLITE_MIGRATIONS: Migrator = Migrator {
    ignore_missing: true,
    ..sqlx::migrate!("migrations/sqlite")
};
static POSTGRES_MIGRATIONS: Migrator = Migrator {
    ignore_missing: true,
    ..sqlx::migrate!("migrations/postgres")
};

#[derive(Debug, Clone)]
pub struct AnyDb {
    pool: AnyPool,
    backend: Backend,
    /// On a SQLite file, the feed's rows and the fingerprint index's postings are read here
    /// rather than through the pool.
    feed_reader: Option<Arc<SqliteReader>>,
    /// Media rows already read. A media row is never updated nor deleted (a replaced recording
    /// is a new row with a new id), so what was read once holds on every instance for as long
    /// as the process lives, and each range request of each listener is answered without a
    /// database round trip (on SQLite, a trip to sqlx's worker thread and back). A missing row
    /// is not kept: another instance may create it a moment later.
    media_rows: Arc<quick_cache::sync::Cache<MediaId, Media>>,
    /// PostgreSQL: a small pool of the native driver for the feed's rows (and the fingerprint
    /// index's postings, `fingerprints.rs`). Through `Any`, each row was converted to an
    /// `AnyRow` first, column names and all, then decoded again: those conversions were about 8%
    /// of a 10,000-episode build's profile, and a share of the 22% it spent in malloc and free.
    feed_pool: Option<sqlx::PgPool>,
}

/// How many media rows `AnyDb` keeps (about a kilobyte each).
const MEDIA_ROWS_KEPT: usize = 4096;

/// A connection for one write transaction. On SQLite one whose transaction did not commit
/// (an error, or a request cancelled mid-way) is closed instead of going back to the pool: a
/// statement that failed after the search triggers wrote to FTS5 (a foreign key is checked at the
/// statement's end) left its connection reading an old snapshot for good, missing later commits
/// and refused every write with "database is locked" (`failed_write_leaves_no_stale_reader`).
struct Writer {
    conn: sqlx::pool::PoolConnection<sqlx::Any>,
    sqlite: bool,
    committed: bool,
}

impl Writer {
    async fn acquire(pool: &AnyPool, backend: Backend) -> Result<Writer, DbError> {
        Ok(Writer {
            conn: pool.acquire().await?,
            sqlite: backend == Backend::Sqlite,
            committed: false,
        })
    }

    /// On SQLite `BEGIN IMMEDIATE`: the write lock is taken first, waiting up to the busy
    /// timeout. With a deferred BEGIN an insert into a table with search triggers first opened a
    /// read transaction on FTS5's behalf, and SQLite answers a read transaction that then needs
    /// the write lock with an immediate "database is locked" instead of waiting for it.
    async fn begin(&mut self) -> Result<sqlx::Transaction<'_, sqlx::Any>, DbError> {
        Ok(if self.sqlite {
            self.conn.begin_with("BEGIN IMMEDIATE").await?
        } else {
            self.conn.begin().await?
        })
    }

    fn committed(&mut self) {
        self.committed = true;
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if self.sqlite && !self.committed {
            self.conn.close_on_drop();
        }
    }
}

impl AnyDb {
    /// Connects to `url` (`sqlite://PATH` or `postgres://...`). A SQLite file and its folder are
    /// created when missing. Fails if the database cannot be reached.
    pub async fn connect(url: &str) -> anyhow::Result<AnyDb> {
        sqlx::any::install_default_drivers();
        let backend = backend_of(url)?;
        let url = match backend {
            Backend::Sqlite => sqlite_url(url)?,
            Backend::Postgres => url.to_owned(),
        };
        if backend == Backend::Postgres {
            // One direct attempt first: the pool would retry a refused connection until its
            // timeout and then report only "pool timed out", hiding the cause.
            let conn = tokio::time::timeout(Duration::from_secs(10), AnyConnection::connect(&url))
                .await
                .map_err(|_| anyhow::anyhow!("timed out after 10 s"))
                .and_then(|r| r.map_err(anyhow::Error::from))
                .with_context(|| format!("cannot connect to the database at {}", redact(&url)))?;
            let _ = conn.close().await;
        }
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        let options = match backend {
            Backend::Sqlite => options.max_connections(8).after_connect(|conn, _| {
                Box::pin(async move {
                    // WAL lets readers run beside the one writer; the busy timeout makes a
                    // second writer wait instead of failing with SQLITE_BUSY.
                    sqlx::raw_sql(
                        "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; \
                         PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                    )
                    .execute(conn)
                    .await?;
                    Ok(())
                })
            }),
            Backend::Postgres => options.max_connections(16),
        };
        let pool = options
            .connect(&url)
            .await
            .with_context(|| format!("cannot connect to the database at {}", redact(&url)))?;
        let feed_reader = match backend {
            Backend::Sqlite => SqliteReader::for_url(&url).map(Arc::new),
            Backend::Postgres => None,
        };
        // Connected when first used, by a feed build.
        let feed_pool = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_lazy(&url)
                    .with_context(|| format!("bad database URL {}", redact(&url)))?,
            ),
        };
        Ok(AnyDb {
            pool,
            backend,
            feed_reader,
            feed_pool,
            media_rows: Arc::new(quick_cache::sync::Cache::new(MEDIA_ROWS_KEPT)),
        })
    }

    /// Closes the pool's connections (a SQLite file's WAL is then checkpointed and removed).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Runs the pending migrations of this backend on a dedicated connection: a failed run on
    /// PostgreSQL leaves sqlx's advisory lock held on its connection, so that connection must
    /// be closed rather than returned to the pool.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .context("cannot open a connection for migrations")?
            .detach();
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        let result = migrator.run(&mut conn).await;
        let _ = conn.close().await;
        result.context("database migration failed")
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

#[async_trait::async_trait]
impl Db for AnyDb {
    #[tracing::instrument(skip_all)]
    async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn pool_state(&self) -> crate::db::PoolState {
        crate::db::PoolState {
            open: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
        }
    }
}

fn backend_of(url: &str) -> anyhow::Result<Backend> {
    let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or_default();
    match scheme {
        "sqlite" => Ok(Backend::Sqlite),
        "postgres" | "postgresql" => Ok(Backend::Postgres),
        _ => anyhow::bail!(
            "unsupported database URL scheme '{scheme}' (use sqlite://PATH or postgres://...)"
        ),
    }
}

/// Creates the folder of a SQLite file and asks sqlx to create the file itself.
/// The file of a `sqlite://PATH` database URL; `None` for PostgreSQL or a database in memory.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split_once('?').map_or(rest, |(path, _)| path);
    (!path.is_empty() && path != ":memory:").then(|| path.into())
}

fn sqlite_url(url: &str) -> anyhow::Result<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or_default();
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() {
        anyhow::bail!("the SQLite URL names no file (use sqlite://PATH)");
    }
    if path != ":memory:"
        && let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the database folder {}", dir.display()))?;
    }
    let query = if query.split('&').any(|p| p.starts_with("mode=")) {
        query.to_owned()
    } else if query.is_empty() {
        "mode=rwc".to_owned()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// The URL without its password (in the user part or a `password=` parameter), for messages
/// and logs.
pub fn redact(url: &str) -> String {
    let Ok(mut u) = url::Url::parse(url) else {
        return url.to_owned();
    };
    if u.password().is_some() {
        let _ = u.set_password(Some("***"));
    }
    if u.query_pairs().any(|(k, _)| k == "password") {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "password" {
                    "***".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
}

/// A fresh random id for rows that have no typed id of their own.
pub fn new_row_id() -> Uuid {
    Uuid::now_v7()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode() {
        assert_eq!(
            sqlite_url("sqlite://x.db").unwrap(),
            "sqlite://x.db?mode=rwc"
        );
        assert_eq!(
            sqlite_url("sqlite://x.db?mode=ro").unwrap(),
            "sqlite://x.db?mode=ro"
        );
        assert!(sqlite_url("sqlite://").is_err());
        assert!(backend_of("mysql://x").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
    }
}
