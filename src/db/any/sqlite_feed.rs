//! The feed's rows on a SQLite file, read with rusqlite on a blocking thread instead of through
//! sqlx.
//!
//! Why: a feed of 10,000 episodes is 10,000 rows of 22 columns. sqlx's SQLite driver steps the
//! statement on its own worker thread and hands every row over a channel to the async side, then
//! the `Any` driver converts each row again; reading the rows that way took 144–162 ms against
//! 35 ms for the same statement in the `sqlite3` shell (`scripts/bench-feed`, README). Here the
//! rows are stepped and mapped where they are read, with the same SQL (`published_episodes_sql`)
//! and the same mapping (`episode_from`, `enclosure_from`) as the pool's path.
//!
//! The connections are read-only, on the same file, in WAL mode (set by the pool's connections):
//! each read sees every transaction committed before it began, as a pooled connection would.
//! An in-memory database has no file to share, so it keeps the pool's path (`feed.rs` chooses).
//!
//! A clip lookup reads the fingerprint index's postings through the same connections
//! (`with_connection`, from `fingerprints.rs`): hundreds of thousands of rows in a large archive.

use std::{path::PathBuf, sync::Mutex, time::Duration};

use anyhow::Context as _;
use rusqlite::{Connection, OpenFlags, OptionalExtension as _};

use super::{
    feed::{FEED_COUNT_SQL, FEED_PIVOT_SQL, Part, SPLIT_FROM, published_episodes_sql_part},
    rows::{Columns, enclosure_from, episode_from},
};
use crate::db::DbError;
use crate::domain::{Enclosure, Episode, ShowId};

/// Connections kept open between reads (a read opens another when they are all in use).
const IDLE_CONNECTIONS: usize = 2;

/// Reads in halves tried before a feed is read in one statement (see `published_episodes`).
const SPLIT_TRIES: u32 = 3;

enum Halves {
    Consistent(Vec<(Episode, Enclosure)>),
    /// Another connection committed while the halves were read.
    Torn,
}

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
    /// The halves are two read transactions. They are one consistent read when no other
    /// connection committed between the start of one and the end of the other, which SQLite's
    /// `data_version` tells (it moves on a connection when another one commits): checked on the
    /// newer half's connection before and after both, and the feed read again otherwise (in one
    /// statement, after `SPLIT_TRIES` tries).
    pub(super) fn published_episodes(
        &self,
        show: ShowId,
        now_ms: i64,
    ) -> Result<Vec<(Episode, Enclosure)>, DbError> {
        let started = std::time::Instant::now();
        let split = std::thread::available_parallelism().map_or(1, |n| n.get()) > 1;
        let mut tries = 0;
        let out = loop {
            tries += 1;
            let halves = if split && tries <= SPLIT_TRIES {
                self.with_connection(|conn| self.read_in_halves(conn, show, now_ms))?
            } else {
                None
            };
            match halves {
                Some(Halves::Consistent(out)) => break out,
                Some(Halves::Torn) => continue,
                None => {
                    break self.with_connection(|conn| read(conn, show, now_ms, Part::All, 0))?;
                }
            }
        };
        tracing::debug!(
            rows = out.len(),
            ms = started.elapsed().as_secs_f64() * 1e3,
            tries,
            "feed rows read"
        );
        Ok(out)
    }

    /// The feed read in two halves, `conn` reading the newer one; `None` when it is too small to
    /// split.
    fn read_in_halves(
        &self,
        conn: &Connection,
        show: ShowId,
        now_ms: i64,
    ) -> Result<Option<Halves>, DbError> {
        let version = |conn: &Connection| -> Result<i64, DbError> {
            Ok(conn.query_row("PRAGMA data_version", (), |row| row.get(0))?)
        };
        let before = version(conn)?;
        let Some((pivot, count)) = pivot(conn, show, now_ms)? else {
            return Ok(None);
        };
        let (newer, older) = std::thread::scope(|s| {
            let older = s.spawn(|| {
                self.with_connection(|other| {
                    read(other, show, now_ms, Part::UpTo(pivot), count / 2 + 1)
                })
            });
            // Room for both halves from the start: no regrowth while reading, and the older
            // half is appended without moving this one.
            let newer = read(conn, show, now_ms, Part::After(pivot), count);
            (
                newer,
                older
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p)),
            )
        });
        let (mut out, older) = (newer?, older?);
        if version(conn)? != before {
            return Ok(Some(Halves::Torn));
        }
        out.extend(older);
        Ok(Some(Halves::Consistent(out)))
    }

    pub(super) fn with_connection<T>(
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

/// The publication time that splits a large feed's episodes about in half, and how many there
/// are; `None` for a feed too small to be worth two threads (`SPLIT_FROM`). Reads the index
/// alone.
fn pivot(conn: &Connection, show: ShowId, now_ms: i64) -> Result<Option<(i64, usize)>, DbError> {
    let show = show.to_string();
    let count: i64 = conn
        .prepare_cached(FEED_COUNT_SQL)?
        .query_row((&show, now_ms), |row| row.get(0))?;
    if count < SPLIT_FROM {
        return Ok(None);
    }
    let pivot: Option<i64> = conn
        .prepare_cached(FEED_PIVOT_SQL)?
        .query_row((&show, now_ms, count / 2), |row| row.get(0))
        .optional()?;
    Ok(pivot.map(|pivot| (pivot, usize::try_from(count).unwrap_or(0))))
}

/// Reads `part` of `show`'s episodes published by `now_ms`, newest first, into a vector with
/// room for `capacity` rows.
fn read(
    conn: &Connection,
    show: ShowId,
    now_ms: i64,
    part: Part,
    capacity: usize,
) -> Result<Vec<(Episode, Enclosure)>, DbError> {
    let sql = published_episodes_sql_part(part);
    let mut statement = conn.prepare_cached(&sql)?;
    // Looked up once here: rusqlite's by-name lookup asks SQLite for every column's name at
    // each call, which was about 7% of a 10,000-episode build's profile.
    let names: Vec<String> = statement
        .column_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut rows = match part {
        Part::All => statement.query((show.to_string(), now_ms))?,
        Part::After(pivot) | Part::UpTo(pivot) => {
            statement.query((show.to_string(), now_ms, pivot))?
        }
    };
    let mut out = Vec::with_capacity(capacity);
    while let Some(row) = rows.next()? {
        let row = Named { row, names: &names };
        out.push((episode_from(&row)?, enclosure_from(&row)?));
    }
    Ok(out)
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
