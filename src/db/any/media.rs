//! `MediaRepo` on `AnyDb`: media files' records, and the process-wide cache of them
//! (`AnyDb::media_rows`).

use sqlx::AssertSqlSafe;

use super::{
    AnyDb,
    rows::{MEDIA_COLUMNS, media_from, ms, to_i64},
};
use crate::db::{DbError, MediaRepo};
use crate::domain::{Enclosure, Media, MediaId};

#[async_trait::async_trait]
impl MediaRepo for AnyDb {
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
}
