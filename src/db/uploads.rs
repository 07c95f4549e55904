//! The state of resumable (tus) uploads: one row per upload with the offset every instance
//! continues from, one row per chunk received (its bytes are an object in the store).
//!
//! Kept apart from `any.rs` so the protocol's SQL reads in one place; `AnyDb` delegates here.
//! Every write that moves an upload forward is conditional on the request's claim and the
//! offset it started from, so two requests (or two instances) can never both append.

use chrono::{DateTime, Utc};
use sqlx::{AnyPool, Row as _, any::AnyRow};
use uuid::Uuid;

use super::DbError;
use crate::{domain::MediaId, storage::ObjectKey};

/// A resumable upload, receiving or complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub id: Uuid,
    /// The whole file's size, declared by the client at creation (`Upload-Length`).
    pub length: u64,
    /// The offset the next chunk must start at (`Upload-Offset`).
    pub received: u64,
    /// The uploader's name for the file (from `Upload-Metadata`), kept for the media record.
    pub filename: String,
    /// The client's `Upload-Metadata` header as sent, answered back on HEAD.
    pub metadata: String,
    /// A token naming the one request that may append next.
    pub claim: String,
    /// The media record the upload became, once complete.
    pub media_id: Option<MediaId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// One chunk of an upload, stored as its own object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadChunk {
    pub start: u64,
    pub size: u64,
    pub key: ObjectKey,
}

const UPLOAD_COLUMNS: &str =
    "id, length, received, filename, metadata, claim, media_id, created_at, expires_at";

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn time(ms: i64) -> Result<DateTime<Utc>, DbError> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| DbError::Other(anyhow::anyhow!("time out of range: {ms}")))
}

fn int(v: u64) -> Result<i64, DbError> {
    i64::try_from(v).map_err(|_| DbError::Other(anyhow::anyhow!("value too large: {v}")))
}

fn uint(row: &AnyRow, col: &str) -> Result<u64, DbError> {
    let v: i64 = row.try_get(col)?;
    u64::try_from(v).map_err(|_| DbError::Other(anyhow::anyhow!("negative {col} in database")))
}

fn uuid(what: &str, s: &str) -> Result<Uuid, DbError> {
    Uuid::parse_str(s).map_err(|e| DbError::Other(anyhow::anyhow!("bad {what} '{s}': {e}")))
}

fn upload_from(row: &AnyRow) -> Result<Upload, DbError> {
    let media_id: Option<String> = row.try_get("media_id")?;
    Ok(Upload {
        id: uuid("upload id", &row.try_get::<String, _>("id")?)?,
        length: uint(row, "length")?,
        received: uint(row, "received")?,
        filename: row.try_get("filename")?,
        metadata: row.try_get("metadata")?,
        claim: row.try_get("claim")?,
        media_id: media_id
            .map(|m| uuid("media id", &m).map(MediaId))
            .transpose()?,
        created_at: time(row.try_get("created_at")?)?,
        expires_at: time(row.try_get("expires_at")?)?,
    })
}

pub(super) async fn create(pool: &AnyPool, upload: &Upload) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO uploads (id, length, received, filename, metadata, claim, media_id, \
         created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(upload.id.to_string())
    .bind(int(upload.length)?)
    .bind(int(upload.received)?)
    .bind(&upload.filename)
    .bind(&upload.metadata)
    .bind(&upload.claim)
    .bind(upload.media_id.map(|m| m.to_string()))
    .bind(ms(upload.created_at))
    .bind(ms(upload.expires_at))
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn get(pool: &AnyPool, id: Uuid) -> Result<Upload, DbError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {UPLOAD_COLUMNS} FROM uploads WHERE id = $1"
    )))
    .bind(id.to_string())
    .fetch_one(pool)
    .await?;
    upload_from(&row)
}

pub(super) async fn claim(
    pool: &AnyPool,
    id: Uuid,
    offset: u64,
    claim: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE uploads SET claim = $1 WHERE id = $2 AND received = $3 AND media_id IS NULL \
         AND expires_at > $4",
    )
    .bind(claim)
    .bind(id.to_string())
    .bind(int(offset)?)
    .bind(ms(now))
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn append(
    pool: &AnyPool,
    id: Uuid,
    claim: &str,
    chunk: &UploadChunk,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let mut tx = pool.begin().await?;
    let moved = sqlx::query(
        "UPDATE uploads SET received = received + $1, expires_at = $2 \
         WHERE id = $3 AND claim = $4 AND received = $5 AND media_id IS NULL AND expires_at > $6",
    )
    .bind(int(chunk.size)?)
    .bind(ms(expires_at))
    .bind(id.to_string())
    .bind(claim)
    .bind(int(chunk.start)?)
    .bind(ms(now))
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO upload_chunks (upload_id, start_offset, size_bytes, storage_key) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(id.to_string())
    .bind(int(chunk.start)?)
    .bind(int(chunk.size)?)
    .bind(chunk.key.as_str())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

pub(super) async fn chunks(pool: &AnyPool, id: Uuid) -> Result<Vec<UploadChunk>, DbError> {
    sqlx::query(
        "SELECT start_offset, size_bytes, storage_key FROM upload_chunks WHERE upload_id = $1 \
         ORDER BY start_offset",
    )
    .bind(id.to_string())
    .fetch_all(pool)
    .await?
    .iter()
    .map(chunk_from)
    .collect()
}

fn chunk_from(row: &AnyRow) -> Result<UploadChunk, DbError> {
    Ok(UploadChunk {
        start: uint(row, "start_offset")?,
        size: uint(row, "size_bytes")?,
        key: ObjectKey::from_stored(row.try_get("storage_key")?),
    })
}

pub(super) async fn complete(
    pool: &AnyPool,
    id: Uuid,
    claim: &str,
    offset: u64,
    media: MediaId,
    expires_at: DateTime<Utc>,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE uploads SET received = length, media_id = $1, expires_at = $2 \
         WHERE id = $3 AND claim = $4 AND received = $5 AND media_id IS NULL",
    )
    .bind(media.to_string())
    .bind(ms(expires_at))
    .bind(id.to_string())
    .bind(claim)
    .bind(int(offset)?)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn delete_chunks(pool: &AnyPool, id: Uuid) -> Result<(), DbError> {
    sqlx::query("DELETE FROM upload_chunks WHERE upload_id = $1")
        .bind(id.to_string())
        .execute(pool)
        .await?;
    Ok(())
}

/// Deletes the upload row first: on PostgreSQL that waits for an append in flight, so the chunk
/// rows deleted (and returned) after it include that append's; a later append finds no row.
pub(super) async fn delete(pool: &AnyPool, id: Uuid) -> Result<(bool, Vec<UploadChunk>), DbError> {
    let mut tx = pool.begin().await?;
    let gone = sqlx::query("DELETE FROM uploads WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    let chunks = sqlx::query(
        "DELETE FROM upload_chunks WHERE upload_id = $1 \
         RETURNING start_offset, size_bytes, storage_key",
    )
    .bind(id.to_string())
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(chunk_from)
    .collect::<Result<Vec<_>, _>>()?;
    tx.commit().await?;
    Ok((gone.rows_affected() == 1, chunks))
}

pub(super) async fn expired(
    pool: &AnyPool,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Upload>, DbError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {UPLOAD_COLUMNS} FROM uploads WHERE expires_at <= $1 \
         ORDER BY expires_at LIMIT $2"
    )))
    .bind(ms(now))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?
    .iter()
    .map(upload_from)
    .collect()
}
