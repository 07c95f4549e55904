//! `EpisodeFileRepo` on `AnyDb`: an episode's transcripts, chapters and other renditions.
//! `put_file` is shared with `search.rs`, whose `put_transcript` records a transcript the same way.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use super::{
    AnyDb, Writer,
    rows::{MEDIA_COLUMNS, episode_file_from, get, media_from, ms, parse, to_i64},
};
use crate::db::{DbError, EpisodeFileRepo};
use crate::domain::{
    EpisodeExtras, EpisodeFile, EpisodeFileKind, EpisodeId, Lang, MediaId, Rendition, ShowId,
};

#[async_trait::async_trait]
impl EpisodeFileRepo for AnyDb {
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
}

/// Records `file` in place of the episode's file of the same kind and language; returns the
/// one it replaced (whose dependent rows, such as a transcript's cues, go with it).
pub(super) async fn put_file(
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
