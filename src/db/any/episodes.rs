//! `EpisodeRepo` on `AnyDb`: episodes, their publication, withdrawal and renames. The feed's
//! rows (`published_episodes`) are read by `feed.rs`, which picks the path for the backend.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use super::{
    AnyDb, Writer,
    rows::{EPISODE_COLUMNS, episode_from, get, json, ms, parse, time},
};
use crate::db::{DbError, EpisodeFilter, EpisodePage, EpisodeRepo, StatusCounts};
use crate::domain::{
    Enclosure, Episode, EpisodeId, EpisodeStatus, MediaId, ShowArtwork, ShowId, Slug, Withdrawal,
    review::Review,
};

#[async_trait::async_trait]
impl EpisodeRepo for AnyDb {
    #[tracing::instrument(skip_all, fields(id = %episode.id))]
    async fn create_episode(&self, episode: &Episode) -> Result<(), DbError> {
        // A transaction, not autocommit, so that a failure discards the connection (`Writer`).
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        sqlx::query(
            "INSERT INTO episodes (id, show_id, slug, guid, title, description, media_id, \
             publish_at, created_at, updated_at, meta, guid_permalink, review_state, review_by, \
             review_at, review_comment) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
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
        .bind(episode.review.as_ref().map(|r| r.state.as_str()))
        .bind(episode.review.as_ref().map(|r| r.by.as_str()))
        .bind(episode.review.as_ref().map(|r| ms(r.at)))
        .bind(episode.review.as_ref().and_then(|r| r.comment.as_deref()))
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
        // A publication time ends the episode's review (published or scheduled, it has left
        // the queue); a draft keeps where it stood.
        let review = if publish_at.is_some() {
            ", review_state = NULL, review_by = NULL, review_at = NULL, review_comment = NULL"
        } else {
            ""
        };
        let row = sqlx::query(AssertSqlSafe(format!(
            "UPDATE episodes SET publish_at = $1, updated_at = $2{review} WHERE id = $3 \
             RETURNING {}",
            EPISODE_COLUMNS.replace("e.", "")
        )))
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
             meta = $5, updated_at = $6, media_id = $7, review_state = $9, review_by = $10, \
             review_at = $11, review_comment = $12 WHERE id = $8",
        )
        .bind(episode.slug.as_str())
        .bind(&episode.title)
        .bind(&episode.description)
        .bind(episode.publish_at.map(ms))
        .bind(json(&episode.meta)?)
        .bind(ms(episode.updated_at))
        .bind(episode.media_id.to_string())
        .bind(episode.id.to_string())
        .bind(episode.review.as_ref().map(|r| r.state.as_str()))
        .bind(episode.review.as_ref().map(|r| r.by.as_str()))
        .bind(episode.review.as_ref().map(|r| ms(r.at)))
        .bind(episode.review.as_ref().and_then(|r| r.comment.as_deref()))
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

    #[tracing::instrument(skip_all, fields(%id))]
    async fn set_episode_artwork(
        &self,
        id: EpisodeId,
        artwork: &ShowArtwork,
        now: DateTime<Utc>,
    ) -> Result<(Episode, Option<ShowArtwork>), DbError> {
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        let before = sqlx::query(AssertSqlSafe(format!(
            "SELECT {EPISODE_COLUMNS} FROM episodes e WHERE e.id = $1"
        )))
        .bind(id.to_string())
        .fetch_one(&mut *tx)
        .await?;
        let after = sqlx::query(AssertSqlSafe(format!(
            "UPDATE episodes SET artwork = $1, updated_at = $2 WHERE id = $3 RETURNING {}",
            EPISODE_COLUMNS.replace("e.", "")
        )))
        .bind(json(artwork)?)
        .bind(ms(now))
        .bind(id.to_string())
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .next()
        .ok_or(DbError::NotFound)?;
        tx.commit().await?;
        w.committed();
        Ok((episode_from(&after)?, episode_from(&before)?.artwork))
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

    #[tracing::instrument(skip_all, fields(%id))]
    async fn set_review(
        &self,
        id: EpisodeId,
        review: Option<&Review>,
        now: DateTime<Utc>,
    ) -> Result<Episode, DbError> {
        // Only an unpublished episode is reviewed: one published meanwhile is not found.
        let unpublished = if review.is_some() {
            " AND publish_at IS NULL AND withdrawn_at IS NULL"
        } else {
            ""
        };
        let row = sqlx::query(AssertSqlSafe(format!(
            "UPDATE episodes SET review_state = $1, review_by = $2, review_at = $3, \
             review_comment = $4, updated_at = $5 WHERE id = $6{unpublished} RETURNING {}",
            EPISODE_COLUMNS.replace("e.", "")
        )))
        .bind(review.map(|r| r.state.as_str()))
        .bind(review.map(|r| r.by.as_str()))
        .bind(review.map(|r| ms(r.at)))
        .bind(review.and_then(|r| r.comment.as_deref()))
        .bind(ms(now))
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .next()
        .ok_or(DbError::NotFound)?;
        episode_from(&row)
    }

    #[tracing::instrument(skip_all, fields(show = %filter.show, status = ?filter.status))]
    async fn episode_page(&self, filter: &EpisodeFilter) -> Result<EpisodePage, DbError> {
        // `$1` the show, `$2` the time (when the state needs it), then the title's pattern.
        let (state, order, timed) = match filter.status {
            EpisodeStatus::Draft => (
                "e.withdrawn_at IS NULL AND e.publish_at IS NULL \
                 AND (e.review_state IS NULL OR e.review_state <> 'in_review')",
                "e.updated_at DESC, e.id DESC",
                false,
            ),
            EpisodeStatus::InReview => (
                "e.withdrawn_at IS NULL AND e.publish_at IS NULL \
                 AND e.review_state = 'in_review'",
                "e.updated_at DESC, e.id DESC",
                false,
            ),
            EpisodeStatus::Scheduled => (
                "e.withdrawn_at IS NULL AND e.publish_at > $2",
                "e.publish_at ASC, e.id ASC",
                true,
            ),
            EpisodeStatus::Published => (
                "e.withdrawn_at IS NULL AND e.publish_at <= $2",
                "e.publish_at DESC, e.id DESC",
                true,
            ),
            EpisodeStatus::Withdrawn => (
                "e.withdrawn_at IS NOT NULL",
                "e.withdrawn_at DESC, e.id DESC",
                false,
            ),
        };
        let pattern = filter
            .title
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(like_pattern);
        let next = if timed { 3 } else { 2 };
        let title = if pattern.is_some() {
            format!(" AND LOWER(e.title) LIKE ${next} ESCAPE '\\'")
        } else {
            String::new()
        };
        let limit = next + usize::from(pattern.is_some());
        let where_ = format!("e.show_id = $1 AND {state}{title}");
        let bind = |sql: String| {
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(filter.show.to_string());
            if timed {
                q = q.bind(ms(filter.now));
            }
            if let Some(p) = &pattern {
                q = q.bind(p.clone());
            }
            q
        };
        let total = bind(format!(
            "SELECT COUNT(*) AS n FROM episodes e WHERE {where_}"
        ))
        .fetch_one(&self.pool)
        .await?;
        let total = u64::try_from(get::<i64>(&total, "n")?).unwrap_or_default();
        let episodes = bind(format!(
            "SELECT {EPISODE_COLUMNS} FROM episodes e WHERE {where_} ORDER BY {order} \
             LIMIT ${limit} OFFSET ${}",
            limit + 1
        ))
        .bind(i64::from(filter.limit))
        .bind(i64::try_from(filter.offset).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(episode_from)
        .collect::<Result<_, _>>()?;
        Ok(EpisodePage { episodes, total })
    }

    #[tracing::instrument(skip_all)]
    async fn episode_counts(
        &self,
        now: DateTime<Utc>,
    ) -> Result<HashMap<ShowId, StatusCounts>, DbError> {
        let rows = sqlx::query(
            "SELECT show_id, \
             SUM(CASE WHEN withdrawn_at IS NULL AND publish_at IS NULL AND \
                 (review_state IS NULL OR review_state <> 'in_review') THEN 1 ELSE 0 END) AS draft, \
             SUM(CASE WHEN withdrawn_at IS NULL AND publish_at IS NULL AND \
                 review_state = 'in_review' THEN 1 ELSE 0 END) AS in_review, \
             SUM(CASE WHEN withdrawn_at IS NULL AND publish_at > $1 THEN 1 ELSE 0 END) \
                 AS scheduled, \
             SUM(CASE WHEN withdrawn_at IS NULL AND publish_at <= $1 THEN 1 ELSE 0 END) \
                 AS published, \
             SUM(CASE WHEN withdrawn_at IS NOT NULL THEN 1 ELSE 0 END) AS withdrawn \
             FROM episodes GROUP BY show_id",
        )
        .bind(ms(now))
        .fetch_all(&self.pool)
        .await?;
        let n = |row: &sqlx::any::AnyRow, col: &str| -> Result<u64, DbError> {
            Ok(u64::try_from(get::<i64>(row, col)?).unwrap_or_default())
        };
        rows.iter()
            .map(|row| {
                Ok((
                    parse("show id", &get::<String>(row, "show_id")?)?,
                    StatusCounts {
                        draft: n(row, "draft")?,
                        in_review: n(row, "in_review")?,
                        scheduled: n(row, "scheduled")?,
                        published: n(row, "published")?,
                        withdrawn: n(row, "withdrawn")?,
                    },
                ))
            })
            .collect()
    }

    #[tracing::instrument(skip_all)]
    async fn published_file_by_sha256(
        &self,
        sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(EpisodeId, MediaId)>, DbError> {
        // Both arms by `media_sha256` (the index on media.sha256), then the few episodes of
        // those media rows.
        let row = sqlx::query(
            "SELECT e.id AS episode_id, m.id AS media_id, e.publish_at AS publish_at, \
             0 AS rendition FROM media m JOIN episodes e ON e.media_id = m.id \
             WHERE m.sha256 = $1 AND e.publish_at IS NOT NULL AND e.publish_at <= $2 \
             AND e.withdrawn_at IS NULL \
             UNION ALL \
             SELECT e.id, m.id, e.publish_at, 1 FROM media m \
             JOIN episode_renditions r ON r.media_id = m.id \
             JOIN episodes e ON e.id = r.episode_id \
             WHERE m.sha256 = $1 AND e.publish_at IS NOT NULL AND e.publish_at <= $2 \
             AND e.withdrawn_at IS NULL \
             ORDER BY publish_at, rendition, episode_id LIMIT 1",
        )
        .bind(sha256)
        .bind(ms(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok((
                parse("episode id", &get::<String>(&row, "episode_id")?)?,
                parse("media id", &get::<String>(&row, "media_id")?)?,
            ))
        })
        .transpose()
    }
}

/// A `LIKE` pattern finding `text` anywhere, in any (ASCII) case: `%`, `_` and `\` taken
/// literally.
fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for ch in text.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}
