//! `UploadRepo` on `AnyDb`: the state of resumable (tus) uploads: one row per upload with the
//! offset every instance continues from, one row per chunk received (its bytes are an object in
//! the store).
//!
//! Every write that moves an upload forward is conditional on the request's claim and the
//! offset it started from, so two requests (or two instances) can never both append.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    AnyDb,
    rows::{UPLOAD_COLUMNS, chunk_from, ms, to_i64, uint, upload_from},
};
use crate::db::{DbError, OpenUploads, Upload, UploadChunk, UploadOwner, UploadRepo};
use crate::domain::{MediaId, UserId};

#[async_trait::async_trait]
impl UploadRepo for AnyDb {
    #[tracing::instrument(skip_all, fields(id = %upload.id))]
    async fn create_upload(&self, upload: &Upload) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO uploads (id, length, received, filename, metadata, token_id, user_id, \
             claim, media_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(upload.id.to_string())
        .bind(to_i64(upload.length)?)
        .bind(to_i64(upload.received)?)
        .bind(&upload.filename)
        .bind(&upload.metadata)
        .bind(upload.token_id.map(|t| t.to_string()))
        .bind(upload.user_id.map(|u| u.to_string()))
        .bind(&upload.claim)
        .bind(upload.media_id.map(|m| m.to_string()))
        .bind(ms(upload.created_at))
        .bind(ms(upload.expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn upload(&self, id: Uuid) -> Result<Upload, DbError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {UPLOAD_COLUMNS} FROM uploads WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_one(&self.pool)
        .await?;
        upload_from(&row)
    }

    #[tracing::instrument(skip_all, fields(%id, offset = offset))]
    async fn claim_upload(
        &self,
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
        .bind(to_i64(offset)?)
        .bind(ms(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    #[tracing::instrument(skip_all, fields(%id, start = chunk.start, size = chunk.size))]
    async fn append_upload_chunk(
        &self,
        id: Uuid,
        claim: &str,
        chunk: &UploadChunk,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        let mut tx = self.pool.begin().await?;
        let moved = sqlx::query(
            "UPDATE uploads SET received = received + $1, expires_at = $2 \
             WHERE id = $3 AND claim = $4 AND received = $5 AND media_id IS NULL \
             AND expires_at > $6",
        )
        .bind(to_i64(chunk.size)?)
        .bind(ms(expires_at))
        .bind(id.to_string())
        .bind(claim)
        .bind(to_i64(chunk.start)?)
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
        .bind(to_i64(chunk.start)?)
        .bind(to_i64(chunk.size)?)
        .bind(chunk.key.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn upload_chunks(&self, id: Uuid) -> Result<Vec<UploadChunk>, DbError> {
        sqlx::query(
            "SELECT start_offset, size_bytes, storage_key FROM upload_chunks WHERE upload_id = $1 \
             ORDER BY start_offset",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(chunk_from)
        .collect()
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
        let done = sqlx::query(
            "UPDATE uploads SET received = length, media_id = $1, expires_at = $2 \
             WHERE id = $3 AND claim = $4 AND received = $5 AND media_id IS NULL",
        )
        .bind(media.to_string())
        .bind(ms(expires_at))
        .bind(id.to_string())
        .bind(claim)
        .bind(to_i64(offset)?)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn delete_upload_chunks(&self, id: Uuid) -> Result<(), DbError> {
        sqlx::query("DELETE FROM upload_chunks WHERE upload_id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes the upload row first: on PostgreSQL that waits for an append in flight, so the
    /// chunk rows deleted (and returned) after it include that append's; a later append finds no
    /// row.
    #[tracing::instrument(skip_all, fields(%id))]
    async fn delete_upload(&self, id: Uuid) -> Result<(bool, Vec<UploadChunk>), DbError> {
        let mut tx = self.pool.begin().await?;
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

    #[tracing::instrument(skip_all, fields(?owner))]
    async fn open_uploads(
        &self,
        owner: UploadOwner,
        now: DateTime<Utc>,
    ) -> Result<OpenUploads, DbError> {
        // A user's own count is of what it made through a session: its tokens have theirs.
        let (condition, id) = match owner {
            UploadOwner::Token(token) => ("token_id = $1", token.to_string()),
            UploadOwner::User(user) => ("user_id = $1 AND token_id IS NULL", user.to_string()),
        };
        // SUM of a BIGINT is a NUMERIC on PostgreSQL, which the Any driver cannot read.
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(length), 0) AS BIGINT) AS bytes \
             FROM uploads WHERE {condition} AND media_id IS NULL AND expires_at > $2"
        )))
        .bind(id)
        .bind(ms(now))
        .fetch_one(&self.pool)
        .await?;
        Ok(OpenUploads {
            count: uint(&row, "n")?,
            bytes: uint(&row, "bytes")?,
        })
    }

    #[tracing::instrument(skip_all)]
    async fn uploads_in_progress(
        &self,
        user: UserId,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Upload>, DbError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {UPLOAD_COLUMNS} FROM uploads \
             WHERE user_id = $1 AND token_id IS NULL AND media_id IS NULL AND expires_at > $2 \
             ORDER BY created_at DESC LIMIT $3"
        )))
        .bind(user.to_string())
        .bind(ms(now))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(upload_from)
        .collect()
    }

    #[tracing::instrument(skip_all)]
    async fn expired_uploads(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Upload>, DbError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {UPLOAD_COLUMNS} FROM uploads WHERE expires_at <= $1 \
             ORDER BY expires_at LIMIT $2"
        )))
        .bind(ms(now))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(upload_from)
        .collect()
    }
}
