//! `PublicationLogRepo` on `AnyDb`: the transparency log. Entries are only ever inserted; the
//! record is stored as the canonical JSON that was signed, so what is served is what was signed
//! (or, if someone edits the row, visibly not: its hash and signature no longer match).

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;

use super::{
    AnyDb,
    rows::{from_json, get, ms, time, to_i64},
};
use crate::db::{DbError, PublicationLogRepo};
use crate::domain::{
    EpisodeId,
    publication::{Entry, LogHead, Record},
};

const COLUMNS: &str = "seq, hash, record, signature";

fn entry_from(row: &AnyRow) -> Result<Entry, DbError> {
    let seq: i64 = get(row, "seq")?;
    let seq = u64::try_from(seq).map_err(|_| DbError::Other(anyhow::anyhow!("bad seq {seq}")))?;
    let text: String = get(row, "record")?;
    // A row edited into something that is not a record is still served, as an empty record of
    // another type: a verifier names that entry instead of failing on the whole log.
    let record = from_json::<Record>("publication record", &text).unwrap_or_else(|e| {
        tracing::error!(seq, error = %e, "a stored publication record does not parse");
        Record {
            kind: "unreadable".into(),
            seq,
            ..Record::default()
        }
    });
    Ok(Entry {
        seq,
        hash: get(row, "hash")?,
        record,
        signature: get(row, "signature")?,
    })
}

#[async_trait::async_trait]
impl PublicationLogRepo for AnyDb {
    #[tracing::instrument(skip_all, fields(seq = entry.seq))]
    async fn append_log(&self, entry: &Entry) -> Result<(), DbError> {
        let record = &entry.record;
        let at = DateTime::parse_from_rfc3339(&record.at)
            .map_err(|_| DbError::Other(anyhow::anyhow!("bad record time {}", record.at)))?
            .with_timezone(&Utc);
        let text = String::from_utf8(record.canonical())
            .map_err(|e| DbError::Other(anyhow::Error::new(e)))?;
        sqlx::query(
            "INSERT INTO publication_log (seq, hash, prev_hash, episode_id, episode_prev, \
             key_id, at, record, signature) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(to_i64(entry.seq)?)
        .bind(&entry.hash)
        .bind(&record.prev)
        .bind(&record.episode_id)
        .bind(&record.episode_prev)
        .bind(&record.key)
        .bind(ms(at))
        .bind(text)
        .bind(&entry.signature)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn log_head(&self) -> Result<Option<LogHead>, DbError> {
        let row =
            sqlx::query("SELECT seq, hash, at FROM publication_log ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
        row.map(|row| {
            let seq: i64 = get(&row, "seq")?;
            Ok(LogHead {
                seq: u64::try_from(seq).unwrap_or(0),
                hash: get(&row, "hash")?,
                at: time(get(&row, "at")?)?,
            })
        })
        .transpose()
    }

    #[tracing::instrument(skip_all, fields(after))]
    async fn log_entries(&self, after: u64, limit: u32) -> Result<Vec<Entry>, DbError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM publication_log WHERE seq > $1 ORDER BY seq LIMIT $2"
        )))
        .bind(to_i64(after)?)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry_from).collect()
    }

    #[tracing::instrument(skip_all, fields(seq))]
    async fn log_entry(&self, seq: u64) -> Result<Entry, DbError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM publication_log WHERE seq = $1"
        )))
        .bind(to_i64(seq)?)
        .fetch_one(&self.pool)
        .await?;
        entry_from(&row)
    }

    #[tracing::instrument(skip_all, fields(%episode))]
    async fn last_record(&self, episode: EpisodeId) -> Result<Option<Entry>, DbError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM publication_log WHERE episode_id = $1 \
             ORDER BY seq DESC LIMIT 1"
        )))
        .bind(episode.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(entry_from).transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn unrecorded_publications(
        &self,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<EpisodeId>, DbError> {
        let rows = sqlx::query(
            "SELECT e.id FROM episodes e WHERE \
             (e.publish_at > $3 AND e.publish_at <= $1 AND e.withdrawn_at IS NULL \
              AND NOT EXISTS (SELECT 1 FROM publication_log l \
                              WHERE l.episode_id = e.id AND l.at >= e.publish_at)) \
             OR (e.updated_at > $3 AND e.updated_at <= $1 \
                 AND EXISTS (SELECT 1 FROM publication_log l WHERE l.episode_id = e.id) \
                 AND NOT EXISTS (SELECT 1 FROM publication_log l \
                                 WHERE l.episode_id = e.id AND l.at >= e.updated_at)) \
             ORDER BY e.publish_at LIMIT $2",
        )
        .bind(ms(now))
        .bind(i64::from(limit))
        .bind(ms(since))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| super::rows::parse("episode id", &get::<String>(row, "id")?))
            .collect()
    }

    #[tracing::instrument(skip_all)]
    async fn key_first_used(&self, key_id: &str) -> Result<Option<DateTime<Utc>>, DbError> {
        let row = sqlx::query("SELECT MIN(at) AS first FROM publication_log WHERE key_id = $1")
            .bind(key_id)
            .fetch_one(&self.pool)
            .await?;
        get::<Option<i64>>(&row, "first")?.map(time).transpose()
    }
}
