//! The feed's rows on a SQLite file, read with rusqlite on a blocking thread instead of through
//! sqlx.
//!
//! Why: a feed of 10,000 episodes is 10,000 rows of 19 columns. sqlx's SQLite driver steps the
//! statement on its own worker thread and hands every row over a channel to the async side, then
//! the `Any` driver converts each row again; reading the rows that way took 144–162 ms against
//! 35 ms for the same statement in the `sqlite3` shell (`scripts/bench-feed`, README). Here the
//! rows are stepped and mapped where they are read, with the same SQL (`published_episodes_sql`)
//! and the same mapping (`episode_from`, `media_from`) as the pool's path.
//!
//! The connections are read-only, on the same file, in WAL mode (set by the pool's connections):
//! each read sees every transaction committed before it began, as a pooled connection would.
//! An in-memory database has no file to share, so it keeps the pool's path.

use std::{path::PathBuf, sync::Mutex, time::Duration};

use anyhow::Context as _;
use rusqlite::{Connection, OpenFlags, OptionalExtension as _};

use super::{
    DbError,
    any::{Columns, episode_from, media_from, published_episodes_sql},
};
use crate::domain::{Episode, Media, ShowId};

/// Connections kept open between reads (a read opens another when they are all in use).
const IDLE_CONNECTIONS: usize = 2;

/// From this many episodes a feed's rows are read in two halves at once (about 20 ms of reading
/// on one core at 10,000, `scripts/bench-feed`).
const SPLIT_FROM: i64 = 2000;

/// The most of the database file SQLite maps for reading.
const MMAP_BYTES: i64 = 1 << 30;

#[derive(Debug)]
pub(super) struct SqliteReader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl SqliteReader {
    /// A reader for the database of a `sqlite://PATH?QUERY` URL, or `None` for an in-memory
    /// database.
    pub(super) fn for_url(url: &str) -> Option<SqliteReader> {
        let rest = url.strip_prefix("sqlite://")?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if path.is_empty() || path == ":memory:" || query.split('&').any(|p| p == "mode=memory") {
            return None;
        }
        Some(SqliteReader {
            path: PathBuf::from(path),
            idle: Mutex::new(Vec::new()),
        })
    }

    /// `Db::published_episodes`, blocking. A large feed is read in two halves at once, on two
    /// connections: the episodes after a pivot date on this thread, the rest on another.
    ///
    /// The two reads are two transactions, so a write committed between their starts can be
    /// seen by one half and not the other. The feed cache does not keep a build that overlapped
    /// a change this instance made (its generation check), and the backstop rebuild
    /// (`REVALIDATE_AFTER`) bounds what another process's write could leave; each episode is
    /// still read whole from one snapshot.
    pub(super) fn published_episodes(
        &self,
        show: ShowId,
        now_ms: i64,
    ) -> Result<Vec<(Episode, Media)>, DbError> {
        let started = std::time::Instant::now();
        let pivot = if std::thread::available_parallelism().map_or(1, |n| n.get()) > 1 {
            self.with_connection(|conn| pivot(conn, show, now_ms))?
        } else {
            None
        };
        let out = match pivot {
            None => self.with_connection(|conn| read(conn, show, now_ms, Part::All))?,
            Some(pivot) => {
                let (newer, older) = std::thread::scope(|s| {
                    let older = s.spawn(|| {
                        self.with_connection(|conn| read(conn, show, now_ms, Part::UpTo(pivot)))
                    });
                    let newer =
                        self.with_connection(|conn| read(conn, show, now_ms, Part::After(pivot)));
                    (
                        newer,
                        older
                            .join()
                            .unwrap_or_else(|p| std::panic::resume_unwind(p)),
                    )
                });
                let mut out = newer?;
                out.extend(older?);
                out
            }
        };
        tracing::debug!(
            rows = out.len(),
            ms = started.elapsed().as_secs_f64() * 1e3,
            split = pivot.is_some(),
            "feed rows read"
        );
        Ok(out)
    }

    fn with_connection<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.open()?,
        };
        let out = read(&conn)?;
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < IDLE_CONNECTIONS {
            idle.push(conn);
        }
        Ok(out)
    }

    fn open(&self) -> Result<Connection, DbError> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .and_then(|conn| {
            conn.busy_timeout(Duration::from_secs(5))?;
            // Pages read from a mapping of the file rather than copied in by `pread`, which was
            // about a tenth of a 10,000-episode read. SQLite's own mapping: still no unsafe code
            // here.
            conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
            Ok(conn)
        })
        .with_context(|| format!("cannot open {} for reading", self.path.display()))?;
        Ok(conn)
    }
}

/// Which of a show's published episodes to read.
#[derive(Clone, Copy)]
enum Part {
    All,
    /// Published after this time (epoch milliseconds).
    After(i64),
    /// Published at or before this time.
    UpTo(i64),
}

/// The publication time that splits a large feed's episodes about in half (newest first), or
/// `None` for a feed too small to be worth two threads. Reads the index alone.
fn pivot(conn: &Connection, show: ShowId, now_ms: i64) -> Result<Option<i64>, DbError> {
    let show = show.to_string();
    let count: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM episodes \
             WHERE show_id = $1 AND publish_at IS NOT NULL AND publish_at <= $2",
        )?
        .query_row((&show, now_ms), |row| row.get(0))?;
    if count < SPLIT_FROM {
        return Ok(None);
    }
    let pivot: Option<i64> = conn
        .prepare_cached(
            "SELECT publish_at FROM episodes \
             WHERE show_id = $1 AND publish_at IS NOT NULL AND publish_at <= $2 \
             ORDER BY publish_at DESC LIMIT 1 OFFSET $3",
        )?
        .query_row((&show, now_ms, count / 2), |row| row.get(0))
        .optional()?;
    Ok(pivot)
}

/// Reads `part` of `show`'s episodes published by `now_ms`, newest first.
fn read(
    conn: &Connection,
    show: ShowId,
    now_ms: i64,
    part: Part,
) -> Result<Vec<(Episode, Media)>, DbError> {
    let sql = published_episodes_sql();
    let (sql, after) = match part {
        Part::All => (sql, None),
        Part::After(pivot) => (
            sql.replacen(" ORDER BY", " AND e.publish_at > $3 ORDER BY", 1),
            Some(pivot),
        ),
        Part::UpTo(pivot) => (
            sql.replacen(" ORDER BY", " AND e.publish_at <= $3 ORDER BY", 1),
            Some(pivot),
        ),
    };
    let mut statement = conn.prepare_cached(&sql)?;
    // Looked up once here: rusqlite's by-name lookup asks SQLite for every column's name at
    // each call, which was about 7% of a 10,000-episode build's profile.
    let names: Vec<String> = statement
        .column_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut rows = match after {
        None => statement.query((show.to_string(), now_ms))?,
        Some(pivot) => statement.query((show.to_string(), now_ms, pivot))?,
    };
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let row = Named { row, names: &names };
        out.push((episode_from(&row)?, media_from(&row, "m_")?));
    }
    Ok(out)
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError::Other(anyhow::Error::new(e))
    }
}

/// A row whose columns are found by name in the statement's column names, read once.
struct Named<'a> {
    row: &'a rusqlite::Row<'a>,
    names: &'a [String],
}

impl Named<'_> {
    fn get<T: rusqlite::types::FromSql>(&self, col: &str) -> Result<T, DbError> {
        let index = self
            .names
            .iter()
            .position(|name| name == col)
            .ok_or_else(|| DbError::Other(anyhow::anyhow!("no column {col} in the feed's rows")))?;
        Ok(self.row.get(index)?)
    }
}

impl Columns for Named<'_> {
    fn text(&self, col: &str) -> Result<String, DbError> {
        self.get(col)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>, DbError> {
        self.get(col)
    }
    fn int(&self, col: &str) -> Result<i64, DbError> {
        self.get(col)
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>, DbError> {
        self.get(col)
    }
}
