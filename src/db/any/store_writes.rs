//! `StoreWriteRepo` on `AnyDb`: writes to the object store in progress, and the keys rows own:
//! what the reconciler needs to tell an object being written from one that a crash left behind
//! (see `crate::reconcile`).

use chrono::{DateTime, Utc};
use sqlx::Row as _;

use super::AnyDb;
use crate::db::{DbError, DocumentFile, StoreWriteRepo, WaveformFiles};
use crate::domain::ShowArtwork;

#[async_trait::async_trait]
impl StoreWriteRepo for AnyDb {
    async fn renew_store_write(&self, key: &str, at: DateTime<Utc>) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO store_writes (object_key, renewed_at) VALUES ($1, $2) \
             ON CONFLICT (object_key) DO UPDATE SET renewed_at = excluded.renewed_at",
        )
        .bind(key)
        .bind(at.timestamp_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn forget_store_write(&self, key: &str) -> Result<(), DbError> {
        sqlx::query("DELETE FROM store_writes WHERE object_key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn store_writes(&self) -> Result<Vec<(String, DateTime<Utc>)>, DbError> {
        sqlx::query("SELECT object_key, renewed_at FROM store_writes")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                let key: String = row.try_get("object_key")?;
                let at: i64 = row.try_get("renewed_at")?;
                let at = DateTime::from_timestamp_millis(at)
                    .ok_or_else(|| DbError::Other(anyhow::anyhow!("bad renewed_at {at}")))?;
                Ok((key, at))
            })
            .collect()
    }

    #[tracing::instrument(skip_all)]
    async fn owned_object_keys(&self) -> Result<Vec<String>, DbError> {
        let mut keys: Vec<String> = sqlx::query(
            "SELECT storage_key FROM media UNION ALL SELECT storage_key FROM episode_files \
             UNION ALL SELECT storage_key FROM upload_chunks",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| row.try_get::<String, _>(0))
        .collect::<Result<_, _>>()?;
        for row in sqlx::query("SELECT file FROM documents WHERE file IS NOT NULL")
            .fetch_all(&self.pool)
            .await?
        {
            let json: String = row.try_get(0)?;
            let file: DocumentFile = serde_json::from_str(&json).map_err(|e| {
                DbError::Other(anyhow::anyhow!("bad document file in database: {e}"))
            })?;
            keys.push(file.key);
        }
        for row in sqlx::query(
            "SELECT artwork FROM shows WHERE artwork IS NOT NULL \
             UNION ALL SELECT artwork FROM episodes WHERE artwork IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?
        {
            let json: String = row.try_get(0)?;
            let artwork: ShowArtwork = serde_json::from_str(&json)
                .map_err(|e| DbError::Other(anyhow::anyhow!("bad artwork in database: {e}")))?;
            keys.push(artwork.key);
        }
        for row in sqlx::query("SELECT logo FROM site_settings WHERE logo IS NOT NULL")
            .fetch_all(&self.pool)
            .await?
        {
            let json: String = row.try_get(0)?;
            let logo: ShowArtwork = serde_json::from_str(&json)
                .map_err(|e| DbError::Other(anyhow::anyhow!("bad logo in database: {e}")))?;
            keys.push(logo.key);
        }
        for row in sqlx::query("SELECT waveform FROM media_quality")
            .fetch_all(&self.pool)
            .await?
        {
            let json: String = row.try_get(0)?;
            let files: WaveformFiles = serde_json::from_str(&json)
                .map_err(|e| DbError::Other(anyhow::anyhow!("bad waveform in database: {e}")))?;
            keys.extend(files.keys().map(str::to_owned));
        }
        Ok(keys)
    }
}
