//! `Db` on `sqlx::AnyPool`: the same SQL for SQLite and PostgreSQL.

use std::{collections::HashMap, str::FromStr, sync::Arc, time::Duration};

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{
    AnyConnection, AnyPool, AssertSqlSafe, Connection as _, Row,
    any::{AnyPoolOptions, AnyRow},
    migrate::Migrator,
    postgres::PgRow,
};
use uuid::Uuid;

use super::{
    ApiToken, Backend, Citation, Db, DbError, Document, DocumentKind, DocumentLink, Download,
    DownloadStats, LinkedDocument, Listen, Role, StatsScope, sqlite_feed::SqliteReader,
};
use crate::{
    domain::audit::{AuditEntry, Entity},
    domain::{
        DocumentId, Enclosure, Episode, EpisodeExtras, EpisodeFile, EpisodeFileKind, EpisodeId,
        Lang, Media, MediaId, Rendition, Show, ShowArtwork, ShowId, Slug, Withdrawal,
    },
    media::MediaInfo,
    storage::ObjectKey,
};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Clone)]
pub struct AnyDb {
    pool: AnyPool,
    backend: Backend,
    /// On a SQLite file, the feed's rows are read here rather than through the pool.
    feed_reader: Option<Arc<SqliteReader>>,
    /// Media rows already read. A media row is never updated nor deleted (a replaced recording
    /// is a new row with a new id), so what was read once holds on every instance for as long
    /// as the process lives, and each range request of each listener is answered without a
    /// database round trip (on SQLite, a trip to sqlx's worker thread and back). A missing row
    /// is not kept: another instance may create it a moment later.
    media_rows: Arc<quick_cache::sync::Cache<MediaId, Media>>,
    /// PostgreSQL: a small pool of the native driver for the feed's rows. Through `Any`, each
    /// row was converted to an `AnyRow` first, column names and all, then decoded again: those
    /// conversions were about 8% of a 10,000-episode build's profile, and a share of the 22% it
    /// spent in malloc and free.
    feed_pool: Option<sqlx::PgPool>,
}

/// How many media rows `AnyDb` keeps (about a kilobyte each).
const MEDIA_ROWS_KEPT: usize = 4096;

/// A connection for one write transaction. On SQLite one whose transaction did not commit
/// (an error, or a request cancelled mid-way) is closed instead of going back to the pool: a
/// statement that failed after the search triggers wrote to FTS5 (a foreign key is checked at the
/// statement's end) left its connection reading an old snapshot for good, missing later commits
/// and refused every write with "database is locked" (`failed_write_leaves_no_stale_reader`).
pub(super) struct Writer {
    pub(super) conn: sqlx::pool::PoolConnection<sqlx::Any>,
    sqlite: bool,
    committed: bool,
}

impl Writer {
    pub(super) async fn acquire(pool: &AnyPool, backend: Backend) -> Result<Writer, DbError> {
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
    pub(super) async fn begin(&mut self) -> Result<sqlx::Transaction<'_, sqlx::Any>, DbError> {
        Ok(if self.sqlite {
            self.conn.begin_with("BEGIN IMMEDIATE").await?
        } else {
            self.conn.begin().await?
        })
    }

    pub(super) fn committed(&mut self) {
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

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(super) fn time(ms: i64) -> Result<DateTime<Utc>, DbError> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| DbError::Other(anyhow::anyhow!("time out of range: {ms}")))
}

pub(super) fn parse<T: FromStr>(what: &str, s: &str) -> Result<T, DbError>
where
    T::Err: std::fmt::Display,
{
    s.parse()
        .map_err(|e| DbError::Other(anyhow::anyhow!("bad {what} in database '{s}': {e}")))
}

pub(super) fn get<'r, T>(row: &'r AnyRow, col: &str) -> Result<T, DbError>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(col).map_err(DbError::from)
}

fn show_from(row: &AnyRow) -> Result<Show, DbError> {
    Ok(Show {
        id: parse("show id", &get::<String>(row, "id")?)?,
        slug: Slug::parse(&get::<String>(row, "slug")?)
            .map_err(|e| DbError::Other(anyhow::anyhow!("bad slug in database: {e}")))?,
        title: get(row, "title")?,
        description: get(row, "description")?,
        language: Lang::parse(&get::<String>(row, "language")?)
            .map_err(|e| DbError::Other(anyhow::anyhow!(e)))?,
        author: get(row, "author")?,
        email: get(row, "email")?,
        category: get(row, "category")?,
        explicit: get::<i64>(row, "explicit")? != 0,
        podcast_guid: parse("podcast guid", &get::<String>(row, "podcast_guid")?)?,
        artwork: get::<Option<String>>(row, "artwork")?
            .map(|json| serde_json::from_str(&json))
            .transpose()
            .map_err(|e| DbError::Other(anyhow::anyhow!("bad artwork in database: {e}")))?,
        meta: from_json("show meta", &get::<String>(row, "meta")?)?,
        renamed_at: get::<Option<i64>>(row, "renamed_at")?
            .map(time)
            .transpose()?,
        created_at: time(get(row, "created_at")?)?,
        updated_at: time(get(row, "updated_at")?)?,
    })
}

/// A row read by column name: sqlx's `AnyRow`, or rusqlite's row where the feed's rows are read
/// outside sqlx (`sqlite_feed.rs`), so that both map rows to episodes and media with one code.
pub(super) trait Columns {
    fn text(&self, col: &str) -> Result<String, DbError>;
    fn opt_text(&self, col: &str) -> Result<Option<String>, DbError>;
    fn int(&self, col: &str) -> Result<i64, DbError>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>, DbError>;
}

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

/// The feed's rows on PostgreSQL's own driver: its integers come as the column's type.
impl Columns for PgRow {
    fn text(&self, col: &str) -> Result<String, DbError> {
        Ok(self.try_get(col)?)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>, DbError> {
        Ok(self.try_get(col)?)
    }
    fn int(&self, col: &str) -> Result<i64, DbError> {
        self.opt_int(col)?
            .ok_or_else(|| DbError::Other(anyhow::anyhow!("{col} is NULL")))
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>, DbError> {
        // The column's type decides, looked up once, rather than a failed decode as BIGINT:
        // that failure builds and formats an error, once a row for `guid_permalink` (INTEGER).
        use sqlx::{Decode, Postgres, Type, ValueRef as _};
        let raw = self.try_get_raw(col)?;
        if raw.is_null() {
            return Ok(None);
        }
        let ty = raw.type_info();
        let decoded = if <i64 as Type<Postgres>>::compatible(&ty) {
            <i64 as Decode<Postgres>>::decode(raw)
        } else if <i32 as Type<Postgres>>::compatible(&ty) {
            <i32 as Decode<Postgres>>::decode(raw).map(i64::from)
        } else {
            Err(format!("{ty} is not an integer type").into())
        };
        decoded
            .map(Some)
            .map_err(|e| DbError::Other(anyhow::anyhow!("bad integer in {col}: {e}")))
    }
}

impl Columns for AnyRow {
    fn text(&self, col: &str) -> Result<String, DbError> {
        get(self, col)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>, DbError> {
        get(self, col)
    }
    fn int(&self, col: &str) -> Result<i64, DbError> {
        get(self, col)
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>, DbError> {
        get(self, col)
    }
}

/// The media of a row with `MEDIA_COLUMNS`.
pub(super) fn media_from(row: &impl Columns) -> Result<Media, DbError> {
    let id = parse("media id", &row.text("m_id")?)?;
    let storage_key = ObjectKey::from_stored(row.text("m_storage_key")?);
    let filename = row.text("m_filename")?;
    let info: MediaInfo = serde_json::from_str(&row.text("m_info")?)
        .map_err(|e| DbError::Other(anyhow::anyhow!("bad media info in database: {e}")))?;
    Ok(Media {
        id,
        storage_key,
        filename,
        info,
        created_at: time(row.int("m_created_at")?)?,
    })
}

/// The enclosure of a row with `ENCLOSURE_COLUMNS`.
pub(super) fn enclosure_from(row: &impl Columns) -> Result<Enclosure, DbError> {
    let unsigned = |col: &str, v: i64| {
        u64::try_from(v).map_err(|_| DbError::Other(anyhow::anyhow!("{col} is negative: {v}")))
    };
    Ok(Enclosure {
        id: parse("media id", &row.text("m_id")?)?,
        mime_type: row.text("m_mime_type")?,
        extension: row.text("m_extension")?,
        duration_ms: unsigned("duration_ms", row.int("m_duration_ms")?)?,
        size_bytes: unsigned("size_bytes", row.int("m_size_bytes")?)?,
        sha256: row.text("m_sha256")?,
        bit_rate: row
            .opt_int("m_bit_rate")?
            .map(|v| unsigned("bit_rate", v))
            .transpose()?,
        video_height: row
            .opt_int("m_video_height")?
            .map(|v| {
                u32::try_from(v)
                    .map_err(|_| DbError::Other(anyhow::anyhow!("bad video_height: {v}")))
            })
            .transpose()?,
    })
}

pub(super) fn episode_from(row: &impl Columns) -> Result<Episode, DbError> {
    Ok(Episode {
        id: parse("episode id", &row.text("id")?)?,
        show_id: parse("show id", &row.text("show_id")?)?,
        slug: Slug::parse(&row.text("slug")?)
            .map_err(|e| DbError::Other(anyhow::anyhow!("bad slug in database: {e}")))?,
        guid: row.text("guid")?,
        guid_is_permalink: row.int("guid_permalink")? != 0,
        title: row.text("title")?,
        description: row.text("description")?,
        media_id: parse("media id", &row.text("media_id")?)?,
        publish_at: row.opt_int("publish_at")?.map(time).transpose()?,
        meta: from_json("episode meta", &row.text("meta")?)?,
        withdrawn: match row.opt_int("withdrawn_at")? {
            Some(at) => Some(Withdrawal {
                at: time(at)?,
                reason: row.opt_text("withdrawn_reason")?.unwrap_or_default(),
            }),
            None => None,
        },
        created_at: time(row.int("created_at")?)?,
        updated_at: time(row.int("updated_at")?)?,
    })
}

pub(super) fn episode_file_from(row: &AnyRow) -> Result<EpisodeFile, DbError> {
    let kind = match get::<String>(row, "kind")?.as_str() {
        "transcript" => EpisodeFileKind::Transcript,
        "chapters" => EpisodeFileKind::Chapters,
        other => {
            return Err(DbError::Other(anyhow::anyhow!(
                "bad episode file kind in database: {other}"
            )));
        }
    };
    let language: String = get(row, "language")?;
    Ok(EpisodeFile {
        episode_id: parse("episode id", &get::<String>(row, "episode_id")?)?,
        kind,
        language: (!language.is_empty())
            .then(|| Lang::parse(&language).map_err(|e| DbError::Other(anyhow::anyhow!(e))))
            .transpose()?,
        mime_type: get(row, "mime_type")?,
        key: ObjectKey::from_stored(get(row, "storage_key")?),
        size_bytes: u64::try_from(get::<i64>(row, "size_bytes")?).unwrap_or_default(),
        sha256: get(row, "sha256")?,
        created_at: time(get(row, "created_at")?)?,
    })
}

pub(super) fn document_from(row: &AnyRow) -> Result<Document, DbError> {
    let kind: String = get(row, "kind")?;
    let issued_on: Option<String> = get(row, "issued_on")?;
    Ok(Document {
        id: parse("document id", &get::<String>(row, "id")?)?,
        title: get(row, "title")?,
        number: get(row, "number")?,
        kind: DocumentKind::parse(&kind).unwrap_or(DocumentKind::Other),
        issuer: get(row, "issuer")?,
        issued_on: issued_on
            .map(|d| parse::<NaiveDate>("issue date", &d))
            .transpose()?,
        url: get(row, "url")?,
        file: get::<Option<String>>(row, "file")?
            .map(|json| from_json("document file", &json))
            .transpose()?,
        created_at: time(get(row, "created_at")?)?,
        updated_at: time(get(row, "updated_at")?)?,
    })
}

// Statements with RETURNING are always drained with `fetch_all`: with SQLite, `fetch_one` leaves
// the statement un-reset, so its implicit transaction stays open and a read on another pooled
// connection may not see the write yet (a published episode missing from the next feed query).

// Column lists are constants: the only dynamic part of these queries, never user input.
pub(super) const EPISODE_COLUMNS: &str = "e.id, e.show_id, e.slug, e.guid, e.guid_permalink, \
     e.title, e.description, e.media_id, e.publish_at, e.created_at, e.updated_at, e.meta, \
     e.withdrawn_at, e.withdrawn_reason";
pub(super) const MEDIA_COLUMNS: &str = "m.id AS m_id, m.storage_key AS m_storage_key, \
     m.filename AS m_filename, m.info AS m_info, m.created_at AS m_created_at";
/// What a feed reads of an episode's media (`Enclosure`): columns, not the `info` JSON.
pub(super) const ENCLOSURE_COLUMNS: &str = "m.id AS m_id, m.mime_type AS m_mime_type, \
     m.extension AS m_extension, m.duration_ms AS m_duration_ms, m.size_bytes AS m_size_bytes, \
     m.sha256 AS m_sha256, m.bit_rate AS m_bit_rate, m.video_height AS m_video_height";
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

pub(super) const DOCUMENT_COLUMNS: &str = "d.id, d.title, d.number, d.kind, d.issuer, \
     d.issued_on, d.url, d.file, d.created_at, d.updated_at";

#[async_trait::async_trait]
impl Db for AnyDb {
    #[tracing::instrument(skip_all)]
    async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(name = %token.name))]
    async fn create_token(&self, token: &ApiToken) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO api_tokens (id, name, role, token_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token.id.to_string())
        .bind(&token.name)
        .bind(token.role.as_str())
        .bind(&token.token_hash)
        .bind(ms(token.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn token_by_hash(&self, token_hash: &str) -> Result<ApiToken, DbError> {
        let row = sqlx::query(
            "SELECT id, name, role, token_hash, created_at FROM api_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_one(&self.pool)
        .await?;
        Ok(ApiToken {
            id: parse("token id", &get::<String>(&row, "id")?)?,
            name: get(&row, "name")?,
            role: parse::<Role>("role", &get::<String>(&row, "role")?)?,
            token_hash: get(&row, "token_hash")?,
            created_at: time(get(&row, "created_at")?)?,
        })
    }

    #[tracing::instrument(skip_all, fields(slug = %show.slug))]
    async fn create_show(&self, show: &Show) -> Result<(), DbError> {
        // A slug a show had before still leads to that show.
        let retired = sqlx::query("SELECT show_id FROM show_slug_history WHERE slug = $1")
            .bind(show.slug.as_str())
            .fetch_optional(&self.pool)
            .await?;
        if retired.is_some() {
            return Err(DbError::Conflict(format!(
                "slug {} was another show's",
                show.slug
            )));
        }
        sqlx::query(
            "INSERT INTO shows (id, slug, title, description, language, author, email, category, \
             explicit, podcast_guid, created_at, updated_at, meta) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(show.id.to_string())
        .bind(show.slug.as_str())
        .bind(&show.title)
        .bind(&show.description)
        .bind(show.language.as_str())
        .bind(&show.author)
        .bind(&show.email)
        .bind(&show.category)
        .bind(i64::from(show.explicit))
        .bind(show.podcast_guid.to_string())
        .bind(ms(show.created_at))
        .bind(ms(show.updated_at))
        .bind(json(&show.meta)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%slug))]
    async fn show_by_slug(&self, slug: &Slug) -> Result<Show, DbError> {
        let row = sqlx::query("SELECT * FROM shows WHERE slug = $1")
            .bind(slug.as_str())
            .fetch_one(&self.pool)
            .await?;
        show_from(&row)
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn show(&self, id: ShowId) -> Result<Show, DbError> {
        let row = sqlx::query("SELECT * FROM shows WHERE id = $1")
            .bind(id.to_string())
            .fetch_one(&self.pool)
            .await?;
        show_from(&row)
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn set_show_artwork(
        &self,
        id: ShowId,
        artwork: &ShowArtwork,
        now: DateTime<Utc>,
    ) -> Result<(Show, Option<ShowArtwork>), DbError> {
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        let before = sqlx::query("SELECT * FROM shows WHERE id = $1")
            .bind(id.to_string())
            .fetch_one(&mut *tx)
            .await?;
        let json = serde_json::to_string(artwork).map_err(anyhow::Error::from)?;
        let after =
            sqlx::query("UPDATE shows SET artwork = $1, updated_at = $2 WHERE id = $3 RETURNING *")
                .bind(json)
                .bind(ms(now))
                .bind(id.to_string())
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .next()
                .ok_or(DbError::NotFound)?;
        tx.commit().await?;
        w.committed();
        Ok((show_from(&after)?, show_from(&before)?.artwork))
    }

    #[tracing::instrument(skip_all)]
    async fn list_shows(&self) -> Result<Vec<Show>, DbError> {
        sqlx::query("SELECT * FROM shows ORDER BY title, slug")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(show_from)
            .collect()
    }

    #[tracing::instrument(skip_all, fields(id = %media.id))]
    async fn create_media(&self, media: &Media) -> Result<(), DbError> {
        let info = serde_json::to_string(&media.info).map_err(anyhow::Error::from)?;
        // The columns a feed reads (`ENCLOSURE_COLUMNS`), as it would read them from `info`.
        let enclosure = Enclosure::from(media);
        sqlx::query(
            "INSERT INTO media (id, storage_key, filename, mime_type, extension, duration_ms, \
             size_bytes, sha256, bit_rate, video_height, info, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(media.id.to_string())
        .bind(media.storage_key.as_str())
        .bind(&media.filename)
        .bind(&enclosure.mime_type)
        .bind(&enclosure.extension)
        .bind(to_i64(enclosure.duration_ms)?)
        .bind(to_i64(enclosure.size_bytes)?)
        .bind(&enclosure.sha256)
        .bind(enclosure.bit_rate.map(to_i64).transpose()?)
        .bind(enclosure.video_height.map(i64::from))
        .bind(info)
        .bind(ms(media.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn media(&self, id: MediaId) -> Result<Media, DbError> {
        if let Some(media) = self.media_rows.get(&id) {
            return Ok(media);
        }
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {MEDIA_COLUMNS} FROM media m WHERE m.id = $1"
        )))
        .bind(id.to_string())
        .fetch_one(&self.pool)
        .await?;
        let media = media_from(&row)?;
        self.media_rows.insert(id, media.clone());
        Ok(media)
    }

    #[tracing::instrument(skip_all, fields(id = %episode.id))]
    async fn create_episode(&self, episode: &Episode) -> Result<(), DbError> {
        // A transaction, not autocommit, so that a failure discards the connection (`Writer`).
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        sqlx::query(
            "INSERT INTO episodes (id, show_id, slug, guid, title, description, media_id, \
             publish_at, created_at, updated_at, meta, guid_permalink) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(episode.id.to_string())
        .bind(episode.show_id.to_string())
        .bind(episode.slug.as_str())
        .bind(&episode.guid)
        .bind(&episode.title)
        .bind(&episode.description)
        .bind(episode.media_id.to_string())
        .bind(episode.publish_at.map(ms))
        .bind(ms(episode.created_at))
        .bind(ms(episode.updated_at))
        .bind(json(&episode.meta)?)
        .bind(i64::from(episode.guid_is_permalink))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        w.committed();
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn episode(&self, id: EpisodeId) -> Result<Episode, DbError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {EPISODE_COLUMNS} FROM episodes e WHERE e.id = $1"
        )))
        .bind(id.to_string())
        .fetch_one(&self.pool)
        .await?;
        episode_from(&row)
    }

    #[tracing::instrument(skip_all, fields(%show, %slug))]
    async fn episode_slug_taken(&self, show: ShowId, slug: &Slug) -> Result<bool, DbError> {
        // A slug an episode had before still leads to it, so it is taken too.
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM episodes WHERE show_id = $1 AND slug = $2) + \
             (SELECT COUNT(*) FROM episode_slug_history WHERE show_id = $1 AND slug = $2) AS n",
        )
        .bind(show.to_string())
        .bind(slug.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(get::<i64>(&row, "n")? > 0)
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn set_publish_at(
        &self,
        id: EpisodeId,
        publish_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Episode, DbError> {
        let row = sqlx::query(
            "UPDATE episodes SET publish_at = $1, updated_at = $2 WHERE id = $3 \
             RETURNING id, show_id, slug, guid, guid_permalink, title, description, media_id, \
             publish_at, created_at, updated_at, meta, withdrawn_at, withdrawn_reason",
        )
        .bind(publish_at.map(ms))
        .bind(ms(now))
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .next()
        .ok_or(DbError::NotFound)?;
        episode_from(&row)
    }

    #[tracing::instrument(skip_all, fields(%show))]
    async fn show_episodes(&self, show: ShowId) -> Result<Vec<Episode>, DbError> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {EPISODE_COLUMNS} FROM episodes e WHERE e.show_id = $1 \
             ORDER BY CASE WHEN e.publish_at IS NULL THEN 0 ELSE 1 END, e.publish_at DESC, \
             e.created_at DESC, e.id DESC"
        )))
        .bind(show.to_string())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(episode_from)
        .collect()
    }

    #[tracing::instrument(skip_all, fields(%show))]
    async fn published_episodes(
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

    #[tracing::instrument(skip_all, fields(id = %document.id))]
    async fn create_document(&self, document: &Document) -> Result<(), DbError> {
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        sqlx::query(
            "INSERT INTO documents (id, title, number, kind, issuer, issued_on, url, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(document.id.to_string())
        .bind(&document.title)
        .bind(document.number.as_deref())
        .bind(document.kind.as_str())
        .bind(document.issuer.as_deref())
        .bind(document.issued_on.map(|d| d.to_string()))
        .bind(document.url.as_deref())
        .bind(ms(document.created_at))
        .bind(ms(document.updated_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        w.committed();
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn document(&self, id: DocumentId) -> Result<Document, DbError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE d.id = $1"
        )))
        .bind(id.to_string())
        .fetch_one(&self.pool)
        .await?;
        document_from(&row)
    }

    #[tracing::instrument(skip_all, fields(episode = %link.episode_id, document = %link.document_id))]
    async fn link_document(&self, link: &DocumentLink) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO episode_documents (id, episode_id, document_id, at_ms, note, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(link.id.to_string())
        .bind(link.episode_id.to_string())
        .bind(link.document_id.to_string())
        .bind(link.at_ms.map(to_i64).transpose()?)
        .bind(link.note.as_deref())
        .bind(ms(link.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%episode))]
    async fn episode_documents(&self, episode: EpisodeId) -> Result<Vec<LinkedDocument>, DbError> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {DOCUMENT_COLUMNS}, l.id AS l_id, l.at_ms AS l_at_ms, l.note AS l_note \
             FROM episode_documents l JOIN documents d ON d.id = l.document_id \
             WHERE l.episode_id = $1 \
             ORDER BY CASE WHEN l.at_ms IS NULL THEN 1 ELSE 0 END, l.at_ms, l.created_at, l.id"
        )))
        .bind(episode.to_string())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(LinkedDocument {
                link_id: parse("link id", &get::<String>(row, "l_id")?)?,
                document: document_from(row)?,
                at_ms: get::<Option<i64>>(row, "l_at_ms")?
                    .map(|v| u64::try_from(v).unwrap_or_default()),
                note: get(row, "l_note")?,
            })
        })
        .collect()
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn set_document_file(
        &self,
        id: DocumentId,
        file: Option<&super::DocumentFile>,
        now: DateTime<Utc>,
    ) -> Result<(Document, Option<super::DocumentFile>), DbError> {
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        let before = sqlx::query(AssertSqlSafe(format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE d.id = $1"
        )))
        .bind(id.to_string())
        .fetch_one(&mut *tx)
        .await?;
        // Written out in full: the key is not part of the record's public shape.
        let json = file
            .map(|f| {
                json(&serde_json::json!({
                    "key": f.key,
                    "filename": f.filename,
                    "size_bytes": f.size_bytes,
                    "sha256": f.sha256,
                    "uploaded_at": f.uploaded_at,
                }))
            })
            .transpose()?;
        sqlx::query("UPDATE documents SET file = $1, updated_at = $2 WHERE id = $3")
            .bind(json)
            .bind(ms(now))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        let after = sqlx::query(AssertSqlSafe(format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE d.id = $1"
        )))
        .bind(id.to_string())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        w.committed();
        Ok((document_from(&after)?, document_from(&before)?.file))
    }

    #[tracing::instrument(skip_all, fields(id = %document.id))]
    async fn update_document(&self, document: &Document) -> Result<(), DbError> {
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        let done = sqlx::query(
            "UPDATE documents SET title = $1, number = $2, kind = $3, issuer = $4, \
             issued_on = $5, url = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(&document.title)
        .bind(document.number.as_deref())
        .bind(document.kind.as_str())
        .bind(document.issuer.as_deref())
        .bind(document.issued_on.map(|d| d.to_string()))
        .bind(document.url.as_deref())
        .bind(ms(document.updated_at))
        .bind(document.id.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        w.committed();
        if done.rows_affected() == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn list_documents(&self, kind: Option<DocumentKind>) -> Result<Vec<Document>, DbError> {
        // '' for every kind: a NULL parameter has no type PostgreSQL could infer.
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE ($1 = '' OR d.kind = $1) \
             ORDER BY CASE WHEN d.issued_on IS NULL THEN 1 ELSE 0 END, d.issued_on DESC, \
             d.title, d.id"
        )))
        .bind(kind.map_or("", DocumentKind::as_str))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(document_from)
        .collect()
    }

    #[tracing::instrument(skip_all, fields(%document))]
    async fn document_citations(&self, document: DocumentId) -> Result<Vec<Citation>, DbError> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {EPISODE_COLUMNS}, s.slug AS s_slug, l.id AS l_id, l.at_ms AS l_at_ms, \
             l.note AS l_note FROM episode_documents l \
             JOIN episodes e ON e.id = l.episode_id JOIN shows s ON s.id = e.show_id \
             WHERE l.document_id = $1 \
             ORDER BY e.publish_at DESC, e.id DESC, \
             CASE WHEN l.at_ms IS NULL THEN 1 ELSE 0 END, l.at_ms, l.id"
        )))
        .bind(document.to_string())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(Citation {
                link_id: parse("link id", &get::<String>(row, "l_id")?)?,
                episode: episode_from(row)?,
                show_slug: Slug::parse(&get::<String>(row, "s_slug")?)
                    .map_err(|e| DbError::Other(anyhow::anyhow!("bad slug in database: {e}")))?,
                at_ms: get::<Option<i64>>(row, "l_at_ms")?
                    .map(|v| u64::try_from(v).unwrap_or_default()),
                note: get(row, "l_note")?,
            })
        })
        .collect()
    }

    #[tracing::instrument(skip_all, fields(%episode, %link))]
    async fn unlink_document(&self, episode: EpisodeId, link: Uuid) -> Result<(), DbError> {
        let done = sqlx::query("DELETE FROM episode_documents WHERE id = $1 AND episode_id = $2")
            .bind(link.to_string())
            .bind(episode.to_string())
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%show, %slug))]
    async fn episode_by_slug(&self, show: ShowId, slug: &Slug) -> Result<Episode, DbError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {EPISODE_COLUMNS} FROM episodes e WHERE e.show_id = $1 AND e.slug = $2"
        )))
        .bind(show.to_string())
        .bind(slug.as_str())
        .fetch_one(&self.pool)
        .await?;
        episode_from(&row)
    }

    #[tracing::instrument(skip_all)]
    async fn recent_episodes(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Episode>, DbError> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {EPISODE_COLUMNS} FROM episodes e \
             WHERE e.publish_at IS NOT NULL AND e.publish_at <= $1 AND e.withdrawn_at IS NULL \
             ORDER BY e.publish_at DESC, e.id DESC LIMIT $2"
        )))
        .bind(ms(now))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(episode_from)
        .collect()
    }

    #[tracing::instrument(skip_all, fields(entity = entry.entity.as_str(), id = %entry.entity_id))]
    async fn record_audit(&self, entry: &AuditEntry) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO audit_log (id, entity, entity_id, action, token_id, token_name, at, \
             changes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(entry.id.to_string())
        .bind(entry.entity.as_str())
        .bind(&entry.entity_id)
        .bind(&entry.action)
        .bind(entry.token_id.map(|t| t.to_string()))
        .bind(entry.by.as_deref())
        .bind(ms(entry.at))
        .bind(json(&entry.changes)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(entity = entity.as_str(), %entity_id))]
    async fn audit_trail(
        &self,
        entity: Entity,
        entity_id: &str,
    ) -> Result<Vec<AuditEntry>, DbError> {
        sqlx::query("SELECT * FROM audit_log WHERE entity = $1 AND entity_id = $2 ORDER BY at, id")
            .bind(entity.as_str())
            .bind(entity_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(AuditEntry {
                    id: parse("audit id", &get::<String>(row, "id")?)?,
                    entity,
                    entity_id: get(row, "entity_id")?,
                    action: get(row, "action")?,
                    token_id: get::<Option<String>>(row, "token_id")?
                        .map(|t| parse("token id", &t))
                        .transpose()?,
                    by: get(row, "token_name")?,
                    at: time(get(row, "at")?)?,
                    changes: from_json("audit changes", &get::<String>(row, "changes")?)?,
                })
            })
            .collect()
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn set_withdrawal(
        &self,
        id: EpisodeId,
        withdrawal: Option<&Withdrawal>,
        now: DateTime<Utc>,
    ) -> Result<Episode, DbError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "UPDATE episodes SET withdrawn_at = $1, withdrawn_reason = $2, updated_at = $3 \
             WHERE id = $4 RETURNING {}",
            EPISODE_COLUMNS.replace("e.", "")
        )))
        .bind(withdrawal.map(|w| ms(w.at)))
        .bind(withdrawal.map(|w| w.reason.as_str()))
        .bind(ms(now))
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .next()
        .ok_or(DbError::NotFound)?;
        episode_from(&row)
    }

    #[tracing::instrument(skip_all, fields(%day))]
    async fn analytics_salt(&self, day: NaiveDate, candidate: &str) -> Result<String, DbError> {
        sqlx::query(
            "INSERT INTO analytics_salts (day, salt) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(day.to_string())
        .bind(candidate)
        .execute(&self.pool)
        .await?;
        let row = sqlx::query("SELECT salt FROM analytics_salts WHERE day = $1")
            .bind(day.to_string())
            .fetch_one(&self.pool)
            .await?;
        get(&row, "salt")
    }

    #[tracing::instrument(skip_all, fields(%before))]
    async fn forget_listeners(&self, before: NaiveDate) -> Result<u64, DbError> {
        // ISO dates compare as text in both databases.
        let salts = sqlx::query("DELETE FROM analytics_salts WHERE day < $1")
            .bind(before.to_string())
            .execute(&self.pool)
            .await?;
        let listens = sqlx::query("DELETE FROM listens WHERE day < $1")
            .bind(before.to_string())
            .execute(&self.pool)
            .await?;
        Ok(salts.rows_affected() + listens.rows_affected())
    }

    #[tracing::instrument(skip_all, fields(%media, %day))]
    async fn listen(
        &self,
        media: MediaId,
        day: NaiveDate,
        listener: &str,
    ) -> Result<Option<Listen>, DbError> {
        let row = sqlx::query(
            "SELECT coverage, counted, version FROM listens \
             WHERE media_id = $1 AND day = $2 AND listener = $3",
        )
        .bind(media.to_string())
        .bind(day.to_string())
        .bind(listener)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(Listen {
                media_id: media,
                day,
                listener: listener.to_owned(),
                coverage: get(&row, "coverage")?,
                counted: get::<i64>(&row, "counted")? != 0,
                version: get(&row, "version")?,
            })
        })
        .transpose()
    }

    #[tracing::instrument(skip_all, fields(media = %listen.media_id, day = %listen.day))]
    async fn save_listen(
        &self,
        listen: &Listen,
        read_version: Option<i64>,
        download: Option<&Download>,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        let written = match read_version {
            None => sqlx::query(
                "INSERT INTO listens (media_id, day, listener, coverage, counted, version, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            )
            .bind(listen.media_id.to_string())
            .bind(listen.day.to_string())
            .bind(&listen.listener)
            .bind(&listen.coverage)
            .bind(i64::from(listen.counted))
            .bind(listen.version)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            Some(version) => sqlx::query(
                "UPDATE listens SET coverage = $1, counted = $2, version = $3, updated_at = $4 \
                 WHERE media_id = $5 AND day = $6 AND listener = $7 AND version = $8",
            )
            .bind(&listen.coverage)
            .bind(i64::from(listen.counted))
            .bind(listen.version)
            .bind(ms(now))
            .bind(listen.media_id.to_string())
            .bind(listen.day.to_string())
            .bind(&listen.listener)
            .bind(version)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        };
        if written == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        if let Some(d) = download {
            sqlx::query(
                "INSERT INTO downloads (id, media_id, episode_id, show_id, day, app, country, \
                 counted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(d.id.to_string())
            .bind(d.media_id.to_string())
            .bind(d.episode_id.map(|e| e.to_string()))
            .bind(d.show_id.map(|s| s.to_string()))
            .bind(d.day.to_string())
            .bind(d.app.as_deref())
            .bind(d.country.as_deref())
            .bind(ms(d.counted_at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        w.committed();
        Ok(true)
    }

    #[tracing::instrument(skip_all, fields(%media))]
    async fn episode_of_media(
        &self,
        media: MediaId,
    ) -> Result<Option<(EpisodeId, ShowId)>, DbError> {
        let row = sqlx::query(
            "SELECT id, show_id FROM episodes WHERE media_id = $1 \
             ORDER BY CASE WHEN publish_at IS NULL THEN 1 ELSE 0 END, publish_at, created_at \
             LIMIT 1",
        )
        .bind(media.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok((
                parse("episode id", &get::<String>(&row, "id")?)?,
                parse("show id", &get::<String>(&row, "show_id")?)?,
            ))
        })
        .transpose()
    }

    #[tracing::instrument(skip_all, fields(?scope, %from, %to))]
    async fn download_stats(
        &self,
        scope: StatsScope,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<DownloadStats, DbError> {
        let (column, id) = match scope {
            StatsScope::Episode(id) => ("episode_id", id.to_string()),
            StatsScope::Show(id) => ("show_id", id.to_string()),
        };
        let grouped = |by: &str| {
            AssertSqlSafe(format!(
                "SELECT {by} AS k, COUNT(*) AS n FROM downloads \
                 WHERE {column} = $1 AND day >= $2 AND day <= $3 GROUP BY {by} ORDER BY n DESC, k"
            ))
        };
        let mut stats = DownloadStats::default();
        for row in sqlx::query(grouped("day"))
            .bind(&id)
            .bind(from.to_string())
            .bind(to.to_string())
            .fetch_all(&self.pool)
            .await?
        {
            let day: String = get(&row, "k")?;
            let n = u64::try_from(get::<i64>(&row, "n")?).unwrap_or_default();
            stats.by_day.push((parse("day", &day)?, n));
            stats.total += n;
        }
        stats.by_day.sort();
        for (by, out) in [
            ("app", &mut stats.by_app),
            ("country", &mut stats.by_country),
        ] {
            for row in sqlx::query(grouped(by))
                .bind(&id)
                .bind(from.to_string())
                .bind(to.to_string())
                .fetch_all(&self.pool)
                .await?
            {
                let n = u64::try_from(get::<i64>(&row, "n")?).unwrap_or_default();
                out.push((get(&row, "k")?, n));
            }
        }
        Ok(stats)
    }

    #[tracing::instrument(skip_all, fields(?show, %after))]
    async fn next_publications(
        &self,
        show: Option<ShowId>,
        after: DateTime<Utc>,
    ) -> Result<Vec<(ShowId, DateTime<Utc>)>, DbError> {
        let rows = match show {
            Some(show) => {
                sqlx::query(
                    "SELECT show_id, MIN(publish_at) AS t FROM episodes \
                     WHERE show_id = $1 AND publish_at > $2 GROUP BY show_id",
                )
                .bind(show.to_string())
                .bind(ms(after))
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(
                    "SELECT show_id, MIN(publish_at) AS t FROM episodes \
                     WHERE publish_at > $1 GROUP BY show_id",
                )
                .bind(ms(after))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter()
            .map(|row| {
                Ok((
                    parse("show id", &get::<String>(row, "show_id")?)?,
                    time(get(row, "t")?)?,
                ))
            })
            .collect()
    }

    #[tracing::instrument(skip_all, fields(id = %show.id))]
    async fn update_show(&self, show: &Show, previous_slug: &Slug) -> Result<(), DbError> {
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        let renamed = show.slug != *previous_slug;
        if renamed {
            let owner = sqlx::query("SELECT show_id FROM show_slug_history WHERE slug = $1")
                .bind(show.slug.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(owner) = owner
                && get::<String>(&owner, "show_id")? != show.id.to_string()
            {
                return Err(DbError::Conflict(format!(
                    "slug {} was another show's",
                    show.slug
                )));
            }
        }
        let updated = sqlx::query(
            "UPDATE shows SET slug = $1, title = $2, description = $3, language = $4, \
             author = $5, email = $6, category = $7, explicit = $8, meta = $9, updated_at = $10, \
             renamed_at = $11 WHERE id = $12",
        )
        .bind(show.slug.as_str())
        .bind(&show.title)
        .bind(&show.description)
        .bind(show.language.as_str())
        .bind(&show.author)
        .bind(&show.email)
        .bind(&show.category)
        .bind(i64::from(show.explicit))
        .bind(json(&show.meta)?)
        .bind(ms(show.updated_at))
        .bind(show.renamed_at.map(ms))
        .bind(show.id.to_string())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(DbError::NotFound);
        }
        if renamed {
            sqlx::query("DELETE FROM show_slug_history WHERE slug = $1")
                .bind(show.slug.as_str())
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO show_slug_history (slug, show_id, retired_at) VALUES ($1, $2, $3)",
            )
            .bind(previous_slug.as_str())
            .bind(show.id.to_string())
            .bind(ms(show.updated_at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        w.committed();
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%slug))]
    async fn show_by_old_slug(&self, slug: &Slug) -> Result<Show, DbError> {
        let row = sqlx::query(
            "SELECT s.* FROM show_slug_history h JOIN shows s ON s.id = h.show_id \
             WHERE h.slug = $1",
        )
        .bind(slug.as_str())
        .fetch_one(&self.pool)
        .await?;
        show_from(&row)
    }

    #[tracing::instrument(skip_all, fields(id = %episode.id))]
    async fn update_episode(&self, episode: &Episode, previous_slug: &Slug) -> Result<(), DbError> {
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        let renamed = episode.slug != *previous_slug;
        let show = episode.show_id.to_string();
        if renamed {
            let owner = sqlx::query(
                "SELECT episode_id FROM episode_slug_history WHERE show_id = $1 AND slug = $2",
            )
            .bind(&show)
            .bind(episode.slug.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(owner) = owner
                && get::<String>(&owner, "episode_id")? != episode.id.to_string()
            {
                return Err(DbError::Conflict(format!(
                    "slug {} was another episode's",
                    episode.slug
                )));
            }
        }
        let updated = sqlx::query(
            "UPDATE episodes SET slug = $1, title = $2, description = $3, publish_at = $4, \
             meta = $5, updated_at = $6, media_id = $7 WHERE id = $8",
        )
        .bind(episode.slug.as_str())
        .bind(&episode.title)
        .bind(&episode.description)
        .bind(episode.publish_at.map(ms))
        .bind(json(&episode.meta)?)
        .bind(ms(episode.updated_at))
        .bind(episode.media_id.to_string())
        .bind(episode.id.to_string())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(DbError::NotFound);
        }
        if renamed {
            sqlx::query("DELETE FROM episode_slug_history WHERE show_id = $1 AND slug = $2")
                .bind(&show)
                .bind(episode.slug.as_str())
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO episode_slug_history (show_id, slug, episode_id, retired_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(&show)
            .bind(previous_slug.as_str())
            .bind(episode.id.to_string())
            .bind(ms(episode.updated_at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        w.committed();
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%show, %slug))]
    async fn episode_by_old_slug(&self, show: ShowId, slug: &Slug) -> Result<Episode, DbError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {EPISODE_COLUMNS} FROM episode_slug_history h \
             JOIN episodes e ON e.id = h.episode_id WHERE h.show_id = $1 AND h.slug = $2"
        )))
        .bind(show.to_string())
        .bind(slug.as_str())
        .fetch_one(&self.pool)
        .await?;
        episode_from(&row)
    }

    #[tracing::instrument(skip_all, fields(episode = %file.episode_id, kind = file.kind.as_str()))]
    async fn put_episode_file(&self, file: &EpisodeFile) -> Result<Option<EpisodeFile>, DbError> {
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        let old = put_file(&mut tx, file).await?;
        tx.commit().await?;
        w.committed();
        Ok(old)
    }

    #[tracing::instrument(skip_all, fields(%episode, kind = kind.as_str()))]
    async fn delete_episode_file(
        &self,
        episode: EpisodeId,
        kind: EpisodeFileKind,
        language: Option<&Lang>,
    ) -> Result<EpisodeFile, DbError> {
        // A transcript's cues leave with it, through the search triggers: a `Writer`.
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        let row = sqlx::query(
            "DELETE FROM episode_files WHERE episode_id = $1 AND kind = $2 AND language = $3 \
             RETURNING *",
        )
        .bind(episode.to_string())
        .bind(kind.as_str())
        .bind(language.map_or("", Lang::as_str))
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .next()
        .ok_or(DbError::NotFound)?;
        tx.commit().await?;
        w.committed();
        episode_file_from(&row)
    }

    #[tracing::instrument(skip_all, fields(%episode, %media))]
    async fn add_rendition(
        &self,
        episode: EpisodeId,
        media: MediaId,
        title: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO episode_renditions (episode_id, media_id, title, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(episode.to_string())
        .bind(media.to_string())
        .bind(title)
        .bind(ms(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%episode, %media))]
    async fn remove_rendition(&self, episode: EpisodeId, media: MediaId) -> Result<(), DbError> {
        let done =
            sqlx::query("DELETE FROM episode_renditions WHERE episode_id = $1 AND media_id = $2")
                .bind(episode.to_string())
                .bind(media.to_string())
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%show, ?episode))]
    async fn episode_extras(
        &self,
        show: ShowId,
        episode: Option<EpisodeId>,
    ) -> Result<HashMap<EpisodeId, EpisodeExtras>, DbError> {
        // '' for every episode: a NULL parameter has no type PostgreSQL could infer.
        let only = episode.map(|e| e.to_string()).unwrap_or_default();
        let scope = "e.show_id = $1 AND ($2 = '' OR e.id = $2)";
        let mut extras: HashMap<EpisodeId, EpisodeExtras> = HashMap::new();
        let files = sqlx::query(AssertSqlSafe(format!(
            "SELECT f.* FROM episode_files f JOIN episodes e ON e.id = f.episode_id \
             WHERE {scope} ORDER BY f.kind DESC, f.language"
        )))
        .bind(show.to_string())
        .bind(&only)
        .fetch_all(&self.pool)
        .await?;
        for row in &files {
            let file = episode_file_from(row)?;
            extras.entry(file.episode_id).or_default().files.push(file);
        }
        let renditions = sqlx::query(AssertSqlSafe(format!(
            "SELECT r.episode_id AS r_episode_id, r.title AS r_title, {MEDIA_COLUMNS} \
             FROM episode_renditions r JOIN episodes e ON e.id = r.episode_id \
             JOIN media m ON m.id = r.media_id \
             WHERE {scope} ORDER BY r.created_at, m.id"
        )))
        .bind(show.to_string())
        .bind(&only)
        .fetch_all(&self.pool)
        .await?;
        for row in &renditions {
            let episode = parse("episode id", &get::<String>(row, "r_episode_id")?)?;
            extras
                .entry(episode)
                .or_default()
                .renditions
                .push(Rendition {
                    media: media_from(row)?,
                    title: get(row, "r_title")?,
                });
        }
        let placed = sqlx::query(AssertSqlSafe(format!(
            "SELECT l.episode_id AS l_episode_id, COUNT(*) AS n FROM episode_documents l \
             JOIN episodes e ON e.id = l.episode_id \
             WHERE {scope} AND l.at_ms IS NOT NULL GROUP BY l.episode_id"
        )))
        .bind(show.to_string())
        .bind(&only)
        .fetch_all(&self.pool)
        .await?;
        for row in &placed {
            let episode = parse("episode id", &get::<String>(row, "l_episode_id")?)?;
            extras.entry(episode).or_default().placed_documents =
                u64::try_from(get::<i64>(row, "n")?).unwrap_or_default();
        }
        Ok(extras)
    }

    #[tracing::instrument(skip_all, fields(id = %upload.id))]
    async fn create_upload(&self, upload: &super::Upload) -> Result<(), DbError> {
        super::uploads::create(&self.pool, upload).await
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn upload(&self, id: Uuid) -> Result<super::Upload, DbError> {
        super::uploads::get(&self.pool, id).await
    }

    #[tracing::instrument(skip_all, fields(%id, offset = offset))]
    async fn claim_upload(
        &self,
        id: Uuid,
        offset: u64,
        claim: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        super::uploads::claim(&self.pool, id, offset, claim, now).await
    }

    #[tracing::instrument(skip_all, fields(%id, start = chunk.start, size = chunk.size))]
    async fn append_upload_chunk(
        &self,
        id: Uuid,
        claim: &str,
        chunk: &super::UploadChunk,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        super::uploads::append(&self.pool, id, claim, chunk, expires_at, now).await
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn upload_chunks(&self, id: Uuid) -> Result<Vec<super::UploadChunk>, DbError> {
        super::uploads::chunks(&self.pool, id).await
    }

    #[tracing::instrument(skip_all, fields(%id, %media))]
    async fn complete_upload(
        &self,
        id: Uuid,
        claim: &str,
        offset: u64,
        media: MediaId,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        super::uploads::complete(&self.pool, id, claim, offset, media, expires_at).await
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn delete_upload_chunks(&self, id: Uuid) -> Result<(), DbError> {
        super::uploads::delete_chunks(&self.pool, id).await
    }

    async fn renew_store_write(&self, key: &str, at: DateTime<Utc>) -> Result<(), DbError> {
        super::store_writes::renew(&self.pool, key, at).await
    }

    async fn forget_store_write(&self, key: &str) -> Result<(), DbError> {
        super::store_writes::forget(&self.pool, key).await
    }

    #[tracing::instrument(skip_all)]
    async fn store_writes(&self) -> Result<Vec<(String, DateTime<Utc>)>, DbError> {
        super::store_writes::all(&self.pool).await
    }

    #[tracing::instrument(skip_all)]
    async fn owned_object_keys(&self) -> Result<Vec<String>, DbError> {
        super::store_writes::owned_keys(&self.pool).await
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn delete_upload(&self, id: Uuid) -> Result<(bool, Vec<super::UploadChunk>), DbError> {
        super::uploads::delete(&self.pool, id).await
    }

    #[tracing::instrument(skip_all)]
    async fn expired_uploads(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<super::Upload>, DbError> {
        super::uploads::expired(&self.pool, now, limit).await
    }

    #[tracing::instrument(skip_all, fields(episode = %file.episode_id, cues = cues.len()))]
    async fn put_transcript(
        &self,
        file: &EpisodeFile,
        cues: &[crate::domain::transcript::Cue],
    ) -> Result<Option<EpisodeFile>, DbError> {
        let language = file
            .language
            .as_ref()
            .ok_or_else(|| DbError::Other(anyhow::anyhow!("a transcript has no language")))?;
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        let old = put_file(&mut tx, file).await?;
        super::search::index_transcript(&mut tx, self.backend, file.episode_id, language, cues)
            .await?;
        tx.commit().await?;
        w.committed();
        Ok(old)
    }

    #[tracing::instrument(skip_all)]
    async fn unindexed_transcripts(&self) -> Result<Vec<EpisodeFile>, DbError> {
        super::search::unindexed_transcripts(&self.pool).await
    }

    #[tracing::instrument(skip_all, fields(episode = %file.episode_id))]
    async fn reindex_transcript(
        &self,
        file: &EpisodeFile,
        cues: &[crate::domain::transcript::Cue],
    ) -> Result<bool, DbError> {
        super::search::reindex_transcript(&self.pool, self.backend, file, cues).await
    }

    #[tracing::instrument(skip_all, fields(terms = query.terms.len()))]
    async fn search(
        &self,
        query: &crate::domain::search::SearchQuery,
        now: DateTime<Utc>,
    ) -> Result<crate::domain::search::SearchResults, DbError> {
        super::search::search(&self.pool, self.backend, query, now).await
    }
}

/// Records `file` in place of the episode's file of the same kind and language; returns the
/// one it replaced (whose dependent rows, such as a transcript's cues, go with it).
async fn put_file(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    file: &EpisodeFile,
) -> Result<Option<EpisodeFile>, DbError> {
    let language = file.language.as_ref().map_or("", Lang::as_str);
    // DELETE ... RETURNING locks the row on PostgreSQL: a racing replacement waits, deletes
    // nothing, and then fails on the primary key instead of orphaning this file's object.
    let old = sqlx::query(
        "DELETE FROM episode_files WHERE episode_id = $1 AND kind = $2 AND language = $3 \
         RETURNING *",
    )
    .bind(file.episode_id.to_string())
    .bind(file.kind.as_str())
    .bind(language)
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .next()
    .map(|row| episode_file_from(&row))
    .transpose()?;
    sqlx::query(
        "INSERT INTO episode_files (episode_id, kind, language, mime_type, storage_key, \
         size_bytes, sha256, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(file.episode_id.to_string())
    .bind(file.kind.as_str())
    .bind(language)
    .bind(&file.mime_type)
    .bind(file.key.as_str())
    .bind(to_i64(file.size_bytes)?)
    .bind(&file.sha256)
    .bind(ms(file.created_at))
    .execute(&mut **tx)
    .await?;
    Ok(old)
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, DbError> {
    serde_json::to_string(value).map_err(|e| DbError::Other(e.into()))
}

pub(super) fn from_json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T, DbError> {
    serde_json::from_str(s)
        .map_err(|e| DbError::Other(anyhow::anyhow!("bad {what} in database: {e}")))
}

fn to_i64(v: u64) -> Result<i64, DbError> {
    i64::try_from(v).map_err(|_| DbError::Other(anyhow::anyhow!("value too large: {v}")))
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
