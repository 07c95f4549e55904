//! Rows to records, and records' values to columns, for every file of `AnyDb`: the one place
//! that knows how a column is stored (ids TEXT, times BIGINT epoch milliseconds, booleans 0/1,
//! JSON as TEXT) and the column lists the queries read. It runs no query.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Row, any::AnyRow, postgres::PgRow};

use crate::db::{
    DbError, Document, DocumentKind, Job, JobError, JobKind, JobState, Upload, UploadChunk,
};
use crate::domain::{
    Enclosure, Episode, EpisodeFile, EpisodeFileKind, Lang, Media, Show, Slug, Withdrawal,
    review::{Review, ReviewState},
};
use crate::{media::MediaInfo, storage::ObjectKey};

pub(super) fn ms(t: DateTime<Utc>) -> i64 {
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

pub(super) fn show_from(row: &AnyRow) -> Result<Show, DbError> {
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
        review: review_from(row)?,
        artwork: row
            .opt_text("artwork")?
            .map(|json| from_json("episode artwork", &json))
            .transpose()?,
        created_at: time(row.int("created_at")?)?,
        updated_at: time(row.int("updated_at")?)?,
    })
}

fn review_from(row: &impl Columns) -> Result<Option<Review>, DbError> {
    let Some(state) = row.opt_text("review_state")? else {
        return Ok(None);
    };
    let state = ReviewState::parse(&state)
        .ok_or_else(|| DbError::Other(anyhow::anyhow!("bad review state in database: {state}")))?;
    Ok(Some(Review {
        state,
        by: row.opt_text("review_by")?.unwrap_or_default(),
        at: time(row.opt_int("review_at")?.unwrap_or_default())?,
        comment: row.opt_text("review_comment")?,
    }))
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

// Column lists are constants: the only dynamic part of these queries, never user input.
pub(super) const EPISODE_COLUMNS: &str = "e.id, e.show_id, e.slug, e.guid, e.guid_permalink, \
     e.title, e.description, e.media_id, e.publish_at, e.created_at, e.updated_at, e.meta, \
     e.withdrawn_at, e.withdrawn_reason, e.review_state, e.review_by, e.review_at, \
     e.review_comment, e.artwork";
pub(super) const MEDIA_COLUMNS: &str = "m.id AS m_id, m.storage_key AS m_storage_key, \
     m.filename AS m_filename, m.info AS m_info, m.created_at AS m_created_at";
/// What a feed reads of an episode's media (`Enclosure`): columns, not the `info` JSON.
pub(super) const ENCLOSURE_COLUMNS: &str = "m.id AS m_id, m.mime_type AS m_mime_type, \
     m.extension AS m_extension, m.duration_ms AS m_duration_ms, m.size_bytes AS m_size_bytes, \
     m.sha256 AS m_sha256, m.bit_rate AS m_bit_rate, m.video_height AS m_video_height";

pub(super) const DOCUMENT_COLUMNS: &str = "d.id, d.title, d.number, d.kind, d.issuer, \
     d.issued_on, d.url, d.file, d.created_at, d.updated_at";

pub(super) fn json<T: serde::Serialize>(value: &T) -> Result<String, DbError> {
    serde_json::to_string(value).map_err(|e| DbError::Other(e.into()))
}

pub(super) fn from_json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T, DbError> {
    serde_json::from_str(s)
        .map_err(|e| DbError::Other(anyhow::anyhow!("bad {what} in database: {e}")))
}

pub(super) fn to_i64(v: u64) -> Result<i64, DbError> {
    i64::try_from(v).map_err(|_| DbError::Other(anyhow::anyhow!("value too large: {v}")))
}

pub(super) const UPLOAD_COLUMNS: &str = "id, length, received, filename, metadata, token_id, user_id, claim, media_id, created_at, \
     expires_at";

pub(super) fn uint(row: &AnyRow, col: &str) -> Result<u64, DbError> {
    let v: i64 = row.try_get(col)?;
    u64::try_from(v).map_err(|_| DbError::Other(anyhow::anyhow!("negative {col} in database")))
}

fn uuid(what: &str, s: &str) -> Result<uuid::Uuid, DbError> {
    uuid::Uuid::parse_str(s).map_err(|e| DbError::Other(anyhow::anyhow!("bad {what} '{s}': {e}")))
}

/// The upload of a row with `UPLOAD_COLUMNS`.
pub(super) fn upload_from(row: &AnyRow) -> Result<Upload, DbError> {
    let media_id: Option<String> = row.try_get("media_id")?;
    let token_id: Option<String> = row.try_get("token_id")?;
    let user_id: Option<String> = row.try_get("user_id")?;
    Ok(Upload {
        id: uuid("upload id", &row.try_get::<String, _>("id")?)?,
        length: uint(row, "length")?,
        received: uint(row, "received")?,
        filename: row.try_get("filename")?,
        metadata: row.try_get("metadata")?,
        token_id: token_id.map(|t| uuid("token id", &t)).transpose()?,
        user_id: user_id
            .map(|u| uuid("user id", &u).map(crate::domain::UserId))
            .transpose()?,
        claim: row.try_get("claim")?,
        media_id: media_id
            .map(|m| uuid("media id", &m).map(crate::domain::MediaId))
            .transpose()?,
        created_at: time(row.try_get("created_at")?)?,
        expires_at: time(row.try_get("expires_at")?)?,
    })
}

pub(super) fn chunk_from(row: &AnyRow) -> Result<UploadChunk, DbError> {
    Ok(UploadChunk {
        start: uint(row, "start_offset")?,
        size: uint(row, "size_bytes")?,
        key: ObjectKey::from_stored(row.try_get("storage_key")?),
    })
}

pub(super) const JOB_COLUMNS: &str = "kind, media_id, state, attempts, lease, locked_until, \
     error_code, last_error, created_at, run_after, updated_at";

/// The job of a row with `JOB_COLUMNS`.
pub(super) fn job_kind(row: &AnyRow) -> Result<JobKind, DbError> {
    match get::<String>(row, "kind")?.as_str() {
        "quality" => Ok(JobKind::Quality),
        "fingerprint" => Ok(JobKind::Fingerprint),
        other => Err(DbError::Other(anyhow::anyhow!("bad job kind '{other}'"))),
    }
}

pub(super) fn job_state(row: &AnyRow) -> Result<JobState, DbError> {
    match get::<String>(row, "state")?.as_str() {
        "queued" => Ok(JobState::Queued),
        "running" => Ok(JobState::Running),
        "done" => Ok(JobState::Done),
        "failed" => Ok(JobState::Failed),
        other => Err(DbError::Other(anyhow::anyhow!("bad job state '{other}'"))),
    }
}

pub(super) fn job_from(row: &AnyRow) -> Result<Job, DbError> {
    let kind = job_kind(row)?;
    let state = job_state(row)?;
    let code: Option<String> = get(row, "error_code")?;
    let detail: Option<String> = get(row, "last_error")?;
    Ok(Job {
        kind,
        media_id: parse("media id", &get::<String>(row, "media_id")?)?,
        state,
        attempts: u32::try_from(uint(row, "attempts")?).unwrap_or(u32::MAX),
        lease: get(row, "lease")?,
        locked_until: get::<Option<i64>>(row, "locked_until")?
            .map(time)
            .transpose()?,
        error: code.map(|code| JobError {
            code,
            detail: detail.unwrap_or_default(),
        }),
        created_at: time(get(row, "created_at")?)?,
        run_after: time(get(row, "run_after")?)?,
        updated_at: time(get(row, "updated_at")?)?,
    })
}
