//! The feed's rows (`EpisodeRepo::published_episodes`): the one query that does not always run
//! on the pool. It is the hot path of a feed build (a show's every published episode, 10,000 rows
//! of 22 columns for the largest), measured and tuned (`scripts/bench-feed`, README), so it takes
//! one of three paths, chosen by `AnyDb::read_feed` from how the database was opened:
//!
//! - **SQLite file** (`sqlite://PATH`, the default): rusqlite on a blocking thread
//!   (`sqlite_feed.rs`), because sqlx's SQLite driver hands every row from its worker thread over
//!   a channel and `Any` converts it again (144–162 ms against 35 ms for the same statement);
//!   from `SPLIT_FROM` episodes, on more than one core, in two halves on two threads, read again
//!   if another connection committed meanwhile;
//! - **PostgreSQL**: the native driver on a small pool of its own (`AnyDb::feed_pool`), because
//!   converting each row to an `AnyRow` and decoding it again was about 8% of a 10,000-episode
//!   build; from `SPLIT_FROM` episodes in two halves on two connections sharing one snapshot;
//! - **SQLite in memory** (`sqlite::memory:`, `mode=memory`): the `AnyPool`, in one statement,
//!   as every other query runs, since another connection cannot open a database that has no
//!   file. Nothing in the repository opens one today, so no test takes this path.
//!
//! All three run the same SQL (`published_episodes_sql`, cut by `published_episodes_sql_part`)
//! and map rows with the same code (`rows::episode_from`, `rows::enclosure_from` through
//! `rows::Columns`), so they differ only in how the rows are fetched and split. The conformance
//! test (`feed_in_halves`) reads a feed of over 2,000 episodes on a SQLite file and on
//! PostgreSQL, also while episodes change places between the halves.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use super::{
    AnyDb,
    rows::{ENCLOSURE_COLUMNS, EPISODE_COLUMNS, enclosure_from, episode_from, ms},
};
use crate::db::{Backend, DbError};
use crate::domain::{Enclosure, Episode, ShowId};

/// The feed's rows that `query` reads, each turned into an episode as it arrives, so the raw
/// rows are not all held beside the episodes. (No faster than reading them all first on a
/// machine whose cores the server shares: 53-76 ms against 56-78 ms for 10,000 rows.)
async fn feed_rows(
    query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    conn: &mut sqlx::PgConnection,
    capacity: usize,
) -> Result<Vec<(Episode, Enclosure)>, DbError> {
    use futures_util::TryStreamExt as _;
    let mut rows = query.fetch(conn);
    let mut out = Vec::with_capacity(capacity);
    while let Some(row) = rows.try_next().await? {
        out.push((episode_from(&row)?, enclosure_from(&row)?));
    }
    Ok(out)
}

/// A PostgreSQL transaction at REPEATABLE READ: one snapshot for all its statements, which
/// `pg_export_snapshot` needs.
async fn repeatable_read(
    pool: &sqlx::PgPool,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, DbError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// The published episodes of show `$1` at `$2` (epoch ms) with their media, newest first.
pub(super) fn published_episodes_sql() -> String {
    format!(
        "SELECT {EPISODE_COLUMNS}, {ENCLOSURE_COLUMNS} FROM episodes e \
         JOIN media m ON m.id = e.media_id \
         WHERE e.show_id = $1 AND e.publish_at IS NOT NULL AND e.publish_at <= $2 \
         AND e.withdrawn_at IS NULL \
         ORDER BY e.publish_at DESC, e.id DESC"
    )
}

/// From this many episodes a feed's rows are read in two halves at once, split at a publication
/// time: on SQLite on two threads (`sqlite_feed`), on PostgreSQL on two connections sharing one
/// snapshot (`published_episodes_split`).
pub(super) const SPLIT_FROM: i64 = 2000;

/// How many episodes show `$1` has published by `$2`; read from the `(show_id, publish_at, id)`
/// index alone.
pub(super) const FEED_COUNT_SQL: &str = "SELECT count(*) FROM episodes \
     WHERE show_id = $1 AND publish_at IS NOT NULL AND publish_at <= $2";

/// The publication time of the `$3`th of them, newest first: the split point.
pub(super) const FEED_PIVOT_SQL: &str = "SELECT publish_at FROM episodes \
     WHERE show_id = $1 AND publish_at IS NOT NULL AND publish_at <= $2 \
     ORDER BY publish_at DESC LIMIT 1 OFFSET $3";

/// Which of a show's published episodes to read.
#[derive(Debug, Clone, Copy)]
pub(super) enum Part {
    All,
    /// Published after this time (epoch milliseconds, bound as `$3`).
    After(i64),
    /// Published at or before it: ties at the pivot all fall here, so the newer part followed
    /// by this one is the whole feed in its order.
    UpTo(i64),
}

/// `published_episodes_sql` for `part`.
pub(super) fn published_episodes_sql_part(part: Part) -> String {
    let sql = published_episodes_sql();
    match part {
        Part::All => sql,
        Part::After(_) => sql.replacen(" ORDER BY", " AND e.publish_at > $3 ORDER BY", 1),
        Part::UpTo(_) => sql.replacen(" ORDER BY", " AND e.publish_at <= $3 ORDER BY", 1),
    }
}

impl AnyDb {
    /// `published_episodes` on the path of this database (see the module doc).
    pub(super) async fn read_feed(
        &self,
        show: ShowId,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Episode, Enclosure)>, DbError> {
        if let Some(reader) = &self.feed_reader {
            let reader = reader.clone();
            return tokio::task::spawn_blocking(move || reader.published_episodes(show, ms(now)))
                .await
                .map_err(|e| DbError::Other(anyhow::Error::new(e)))?;
        }
        if self.backend == Backend::Postgres {
            return self.published_episodes_split(show, ms(now)).await;
        }
        sqlx::query(AssertSqlSafe(published_episodes_sql()))
            .bind(show.to_string())
            .bind(ms(now))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| Ok((episode_from(row)?, enclosure_from(row)?)))
            .collect()
    }

    /// `published_episodes` on PostgreSQL: a large feed is read in two halves at once, on two
    /// connections and two tasks (the rows are turned into episodes where they arrive, which is
    /// most of the time), both in one snapshot: the first transaction exports it and the second
    /// imports it (`SET TRANSACTION SNAPSHOT`, as `pg_dump --jobs` does), so the halves are one
    /// consistent read even while another instance publishes.
    async fn published_episodes_split(
        &self,
        show: ShowId,
        now_ms: i64,
    ) -> Result<Vec<(Episode, Enclosure)>, DbError> {
        let started = std::time::Instant::now();
        let Some(pool) = &self.feed_pool else {
            return Err(DbError::Other(anyhow::anyhow!(
                "no PostgreSQL pool for feeds"
            )));
        };
        let mut first = repeatable_read(pool).await?;
        let count: i64 = sqlx::query_scalar(FEED_COUNT_SQL)
            .bind(show.to_string())
            .bind(now_ms)
            .fetch_one(&mut *first)
            .await?;
        let pivot: Option<i64> = if count >= SPLIT_FROM {
            sqlx::query_scalar(FEED_PIVOT_SQL)
                .bind(show.to_string())
                .bind(now_ms)
                .bind(count / 2)
                .fetch_optional(&mut *first)
                .await?
        } else {
            None
        };
        let read = |part: Part| {
            let query = sqlx::query(AssertSqlSafe(published_episodes_sql_part(part)))
                .bind(show.to_string())
                .bind(now_ms);
            match part {
                Part::All => query,
                Part::After(pivot) | Part::UpTo(pivot) => query.bind(pivot),
            }
        };
        let half = usize::try_from(count / 2 + 1).unwrap_or(0);
        let Some(pivot) = pivot else {
            let out = feed_rows(read(Part::All), &mut first, half * 2).await?;
            first.commit().await?;
            return Ok(out);
        };
        let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
            .fetch_one(&mut *first)
            .await?;
        // A snapshot id is hex digits and dashes; SET takes no bind parameters.
        if !snapshot.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            return Err(DbError::Other(anyhow::anyhow!(
                "unexpected snapshot id {snapshot:?}"
            )));
        }
        let mut second = repeatable_read(pool).await?;
        sqlx::query(AssertSqlSafe(format!(
            "SET TRANSACTION SNAPSHOT '{snapshot}'"
        )))
        .execute(&mut *second)
        .await?;
        let older_query = read(Part::UpTo(pivot));
        let older = tokio::spawn(async move {
            let rows = feed_rows(older_query, &mut second, half).await?;
            second.commit().await?;
            Ok::<_, DbError>(rows)
        });
        // Room for both halves: the older one is appended without moving this one.
        let mut out = feed_rows(read(Part::After(pivot)), &mut first, half * 2).await?;
        let older = older
            .await
            .map_err(|e| DbError::Other(anyhow::Error::new(e)))??;
        // The export lives as long as the first transaction: it ends after the second's read.
        first.commit().await?;
        out.extend(older);
        tracing::debug!(
            rows = out.len(),
            ms = started.elapsed().as_secs_f64() * 1e3,
            split = true,
            "feed rows read"
        );
        Ok(out)
    }
}
