//! `EpisodeRepo` on `AnyDb`: episodes, their publication, withdrawal and renames. The feed's
//! rows (`published_episodes`) are read by `feed.rs`, which picks the path for the backend.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use super::{
    AnyDb, Writer,
    rows::{EPISODE_COLUMNS, episode_from, get, json, ms, parse, time},
};
use crate::db::{DbError, EpisodeRepo};
use crate::domain::{Enclosure, Episode, EpisodeId, MediaId, ShowId, Slug, Withdrawal};

#[async_trait::async_trait]
impl EpisodeRepo for AnyDb {
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
        self.read_feed(show, now).await
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
}
