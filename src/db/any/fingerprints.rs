//! `FingerprintRepo` on `AnyDb`: media fingerprints (`media_fingerprints`) and their inverted
//! index (`fingerprint_postings`), written in the transaction that marks their job done, and
//! only while the writer's lease holds. The same SQL on both backends; only the index's size is
//! read differently (`dbstat` on SQLite, `pg_total_relation_size` on PostgreSQL).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use super::{
    AnyDb, Writer,
    rows::{get, ms, parse},
};
use crate::db::{
    Backend, DbError, FingerprintPosting, FingerprintRepo, FingerprintSpan, FoundFingerprint,
    JobKind, StoredFingerprint,
};
use crate::domain::MediaId;
use crate::media::fingerprint::{items_from_bytes, items_to_bytes};

/// A posting's entry: the fingerprint's id above these bits, the item's position below.
const POSITION_BITS: u32 = 24;
/// Rows per INSERT (two parameters each) and spans per SELECT (three each, `BATCH / 3`): far
/// under either database's limit on parameters.
const BATCH: usize = 500;

fn entry(fingerprint: i64, position: u32) -> i64 {
    (fingerprint << POSITION_BITS) | i64::from(position)
}

#[async_trait::async_trait]
impl FingerprintRepo for AnyDb {
    #[tracing::instrument(skip_all, fields(%media, items = fingerprint.items.len()))]
    async fn record_fingerprint(
        &self,
        lease: &str,
        media: MediaId,
        fingerprint: &StoredFingerprint,
        keys: &[(i64, u32)],
        now: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        // Positions past 2^24 items (24 days of audio) would spill into the id.
        if fingerprint.items.len() as u64 >= 1 << POSITION_BITS {
            return Err(DbError::Other(anyhow::anyhow!(
                "a fingerprint of {} items is longer than the index holds",
                fingerprint.items.len()
            )));
        }
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        let done = sqlx::query(
            "UPDATE jobs SET state = 'done', lease = NULL, locked_until = NULL, \
             error_code = NULL, last_error = NULL, updated_at = $1 \
             WHERE kind = $2 AND media_id = $3 AND lease = $4 AND state = 'running'",
        )
        .bind(ms(now))
        .bind(JobKind::Fingerprint.as_str())
        .bind(media.to_string())
        .bind(lease)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        let rows = sqlx::query(
            "INSERT INTO media_fingerprints (media_id, item_us, duration_ms, items, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(media.to_string())
        .bind(i64::try_from(fingerprint.item_us).unwrap_or(i64::MAX))
        .bind(i64::try_from(fingerprint.duration_ms).unwrap_or(i64::MAX))
        .bind(items_to_bytes(&fingerprint.items))
        .bind(ms(now))
        .fetch_all(&mut *tx)
        .await?;
        let id: i64 = match rows.first() {
            Some(row) => get(row, "id")?,
            None => {
                return Err(DbError::Other(anyhow::anyhow!(
                    "no fingerprint id returned"
                )));
            }
        };
        for chunk in keys.chunks(BATCH) {
            let values = (0..chunk.len())
                .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO fingerprint_postings (key, entry) VALUES {values} \
                 ON CONFLICT DO NOTHING"
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for &(key, position) in chunk {
                query = query.bind(key).bind(entry(id, position));
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        w.committed();
        Ok(true)
    }

    #[tracing::instrument(skip_all)]
    async fn enqueue_missing_fingerprints(&self, now: DateTime<Utc>) -> Result<u64, DbError> {
        let done = sqlx::query(
            "INSERT INTO jobs (kind, media_id, state, attempts, created_at, run_after, updated_at) \
             SELECT DISTINCT $1, e.media_id, 'queued', 0, $2, $2, $2 FROM episodes e \
             WHERE e.publish_at IS NOT NULL AND NOT EXISTS \
             (SELECT 1 FROM jobs j WHERE j.kind = $1 AND j.media_id = e.media_id) \
             ON CONFLICT DO NOTHING",
        )
        .bind(JobKind::Fingerprint.as_str())
        .bind(ms(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    #[tracing::instrument(skip_all, fields(keys = keys.len()))]
    async fn fingerprint_postings(&self, keys: &[i64]) -> Result<Vec<FingerprintPosting>, DbError> {
        // A lookup in a large archive reads hundreds of thousands of rows: through the native
        // drivers, not `Any`'s row conversion (as the feed's rows, `feed.rs`).
        let entries: Vec<(i64, i64)> = if let Some(pool) = &self.feed_pool {
            sqlx::query_as("SELECT key, entry FROM fingerprint_postings WHERE key = ANY($1)")
                .bind(keys)
                .fetch_all(pool)
                .await?
        } else if let Some(reader) = &self.feed_reader {
            let (reader, keys) = (reader.clone(), keys.to_vec());
            tokio::task::spawn_blocking(move || {
                reader.with_connection(|conn| {
                    let mut statement = conn
                        .prepare_cached("SELECT entry FROM fingerprint_postings WHERE key = ?1")?;
                    let mut entries = Vec::new();
                    for key in keys {
                        for entry in statement.query_map([key], |row| row.get::<_, i64>(0))? {
                            entries.push((key, entry?));
                        }
                    }
                    Ok(entries)
                })
            })
            .await
            .map_err(|e| DbError::Other(anyhow::Error::new(e)))??
        } else {
            // Only a database without a file (SQLite in memory) has neither.
            return Err(DbError::Other(anyhow::anyhow!(
                "the fingerprint index is read from a database file or PostgreSQL"
            )));
        };
        Ok(entries
            .into_iter()
            .map(|(key, entry)| FingerprintPosting {
                key,
                fingerprint: u64::try_from(entry >> POSITION_BITS).unwrap_or(0),
                position: (entry & ((1 << POSITION_BITS) - 1)) as u32,
            })
            .collect())
    }

    #[tracing::instrument(skip_all, fields(spans = spans.len()))]
    async fn published_fingerprints(
        &self,
        spans: &[FingerprintSpan],
        now: DateTime<Utc>,
    ) -> Result<Vec<FoundFingerprint>, DbError> {
        let mut found = Vec::new();
        let mut seen = HashSet::new();
        // Each span as a row of a VALUES list (id, first byte counted from 1, bytes), named
        // column1.. on both databases; `substr` of a blob or a bytea counts bytes.
        for chunk in spans.chunks(BATCH / 3) {
            let values = (0..chunk.len())
                .map(|i| format!("(${}, ${}, ${})", 3 * i + 2, 3 * i + 3, 3 * i + 4))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT f.id, f.media_id, f.item_us, f.duration_ms, \
                 substr(f.items, w.column2, w.column3) AS items, e.id AS episode_id \
                 FROM (VALUES {values}) AS w \
                 JOIN media_fingerprints f ON f.id = w.column1 \
                 JOIN episodes e ON e.media_id = f.media_id \
                 WHERE e.publish_at IS NOT NULL AND e.publish_at <= $1 \
                 AND e.withdrawn_at IS NULL \
                 ORDER BY e.publish_at DESC, e.id"
            );
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(ms(now));
            let mut from = HashMap::new();
            for span in chunk {
                from.insert(span.id, span.from);
                let byte = |items: u32| i32::try_from(u64::from(items) * 4).unwrap_or(i32::MAX);
                query = query
                    .bind(i64::try_from(span.id).unwrap_or(i64::MAX))
                    .bind(byte(span.from).saturating_add(1))
                    .bind(byte(span.count));
            }
            for row in query.fetch_all(&self.pool).await? {
                let id = u64::try_from(get::<i64>(&row, "id")?).unwrap_or(0);
                if !seen.insert(id) {
                    continue;
                }
                found.push(FoundFingerprint {
                    id,
                    episode: parse("episode id", &get::<String>(&row, "episode_id")?)?,
                    media: parse("media id", &get::<String>(&row, "media_id")?)?,
                    item_us: u64::try_from(get::<i64>(&row, "item_us")?).unwrap_or(0),
                    duration_ms: u64::try_from(get::<i64>(&row, "duration_ms")?).unwrap_or(0),
                    from: from.get(&id).copied().unwrap_or(0),
                    items: items_from_bytes(&get::<Vec<u8>>(&row, "items")?),
                });
            }
        }
        Ok(found)
    }

    #[tracing::instrument(skip_all, fields(%media))]
    async fn fingerprint(&self, media: MediaId) -> Result<Option<StoredFingerprint>, DbError> {
        let row = sqlx::query(
            "SELECT item_us, duration_ms, items FROM media_fingerprints WHERE media_id = $1",
        )
        .bind(media.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(stored_from).transpose()
    }

    async fn fingerprint_index_size(&self) -> Result<(u64, u64), DbError> {
        let audio: Option<i64> =
            sqlx::query_scalar("SELECT CAST(SUM(duration_ms) AS BIGINT) FROM media_fingerprints")
                .fetch_one(&self.pool)
                .await?;
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT SUM(pgsize) FROM dbstat \
                 WHERE name IN ('fingerprint_postings', 'media_fingerprints', \
                 'sqlite_autoindex_media_fingerprints_1')"
            }
            Backend::Postgres => {
                "SELECT CAST(pg_total_relation_size('fingerprint_postings') \
                 + pg_total_relation_size('media_fingerprints') AS BIGINT)"
            }
        };
        let bytes: Option<i64> = sqlx::query_scalar(sql).fetch_one(&self.pool).await?;
        Ok((
            u64::try_from(bytes.unwrap_or(0)).unwrap_or(0),
            u64::try_from(audio.unwrap_or(0)).unwrap_or(0),
        ))
    }
}

fn stored_from(row: &sqlx::any::AnyRow) -> Result<StoredFingerprint, DbError> {
    Ok(StoredFingerprint {
        items: items_from_bytes(&get::<Vec<u8>>(row, "items")?),
        item_us: u64::try_from(get::<i64>(row, "item_us")?).unwrap_or(0),
        duration_ms: u64::try_from(get::<i64>(row, "duration_ms")?).unwrap_or(0),
    })
}
