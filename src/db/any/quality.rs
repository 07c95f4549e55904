//! `QualityRepo` on `AnyDb`: finished sound-quality analyses (`media_quality`), written in the
//! same transaction that marks their job done, and only while the writer's lease holds, so a
//! worker that lost its job to another cannot store a second result.

use chrono::{DateTime, Utc};

use super::{
    AnyDb, Writer,
    rows::{from_json, get, json, ms, time},
};
use crate::db::{DbError, JobKind, QualityRecord, QualityRepo};
use crate::domain::MediaId;

#[async_trait::async_trait]
impl QualityRepo for AnyDb {
    #[tracing::instrument(skip_all, fields(media = %record.media_id))]
    async fn record_quality(
        &self,
        lease: &str,
        record: &QualityRecord,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        let done = sqlx::query(
            "UPDATE jobs SET state = 'done', lease = NULL, locked_until = NULL, \
             error_code = NULL, last_error = NULL, updated_at = $1 \
             WHERE kind = $2 AND media_id = $3 AND lease = $4 AND state = 'running'",
        )
        .bind(ms(now))
        .bind(JobKind::Quality.as_str())
        .bind(record.media_id.to_string())
        .bind(lease)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO media_quality (media_id, report, waveform, analysed_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(record.media_id.to_string())
        .bind(json(&record.report)?)
        .bind(json(&record.waveform)?)
        .bind(ms(record.analysed_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        w.committed();
        Ok(true)
    }

    #[tracing::instrument(skip_all, fields(%media))]
    async fn quality_record(&self, media: MediaId) -> Result<Option<QualityRecord>, DbError> {
        let row = sqlx::query(
            "SELECT report, waveform, analysed_at FROM media_quality WHERE media_id = $1",
        )
        .bind(media.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(QualityRecord {
                media_id: media,
                report: from_json("quality report", &get::<String>(&row, "report")?)?,
                waveform: from_json("waveform files", &get::<String>(&row, "waveform")?)?,
                analysed_at: time(get(&row, "analysed_at")?)?,
            })
        })
        .transpose()
    }
}
