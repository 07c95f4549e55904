//! `ShowRepo` on `AnyDb`: shows, and the slugs they had before a rename (which keep leading to
//! them, and which no other show may take).

use chrono::{DateTime, Utc};

use super::{
    AnyDb, Writer,
    rows::{get, json, ms, show_from},
};
use crate::db::{DbError, ShowRepo};
use crate::domain::{Show, ShowArtwork, ShowId, Slug};

#[async_trait::async_trait]
impl ShowRepo for AnyDb {
    #[tracing::instrument(skip_all, fields(slug = %show.slug))]
    async fn create_show(&self, show: &Show) -> Result<(), DbError> {
        // A slug a show had before still leads to that show.
        let retired = sqlx::query("SELECT show_id FROM show_slug_history WHERE slug = $1")
            .bind(show.slug.as_str())
            .fetch_optional(&self.pool)
            .await?;
        if retired.is_some() {
            return Err(DbError::Conflict(format!(
                "slug {} was another show's",
                show.slug
            )));
        }
        sqlx::query(
            "INSERT INTO shows (id, slug, title, description, language, author, email, category, \
             explicit, podcast_guid, created_at, updated_at, meta) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(show.id.to_string())
        .bind(show.slug.as_str())
        .bind(&show.title)
        .bind(&show.description)
        .bind(show.language.as_str())
        .bind(&show.author)
        .bind(&show.email)
        .bind(&show.category)
        .bind(i64::from(show.explicit))
        .bind(show.podcast_guid.to_string())
        .bind(ms(show.created_at))
        .bind(ms(show.updated_at))
        .bind(json(&show.meta)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%slug))]
    async fn show_by_slug(&self, slug: &Slug) -> Result<Show, DbError> {
        let row = sqlx::query("SELECT * FROM shows WHERE slug = $1")
            .bind(slug.as_str())
            .fetch_one(&self.pool)
            .await?;
        show_from(&row)
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn show(&self, id: ShowId) -> Result<Show, DbError> {
        let row = sqlx::query("SELECT * FROM shows WHERE id = $1")
            .bind(id.to_string())
            .fetch_one(&self.pool)
            .await?;
        show_from(&row)
    }

    #[tracing::instrument(skip_all)]
    async fn list_shows(&self) -> Result<Vec<Show>, DbError> {
        sqlx::query("SELECT * FROM shows ORDER BY title, slug")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(show_from)
            .collect()
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn set_show_artwork(
        &self,
        id: ShowId,
        artwork: &ShowArtwork,
        now: DateTime<Utc>,
    ) -> Result<(Show, Option<ShowArtwork>), DbError> {
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        let before = sqlx::query("SELECT * FROM shows WHERE id = $1")
            .bind(id.to_string())
            .fetch_one(&mut *tx)
            .await?;
        let json = serde_json::to_string(artwork).map_err(anyhow::Error::from)?;
        let after =
            sqlx::query("UPDATE shows SET artwork = $1, updated_at = $2 WHERE id = $3 RETURNING *")
                .bind(json)
                .bind(ms(now))
                .bind(id.to_string())
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .next()
                .ok_or(DbError::NotFound)?;
        tx.commit().await?;
        w.committed();
        Ok((show_from(&after)?, show_from(&before)?.artwork))
    }

    #[tracing::instrument(skip_all, fields(id = %show.id))]
    async fn update_show(&self, show: &Show, previous_slug: &Slug) -> Result<(), DbError> {
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        let renamed = show.slug != *previous_slug;
        if renamed {
            let owner = sqlx::query("SELECT show_id FROM show_slug_history WHERE slug = $1")
                .bind(show.slug.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(owner) = owner
                && get::<String>(&owner, "show_id")? != show.id.to_string()
            {
                return Err(DbError::Conflict(format!(
                    "slug {} was another show's",
                    show.slug
                )));
            }
        }
        let updated = sqlx::query(
            "UPDATE shows SET slug = $1, title = $2, description = $3, language = $4, \
             author = $5, email = $6, category = $7, explicit = $8, meta = $9, updated_at = $10, \
             renamed_at = $11 WHERE id = $12",
        )
        .bind(show.slug.as_str())
        .bind(&show.title)
        .bind(&show.description)
        .bind(show.language.as_str())
        .bind(&show.author)
        .bind(&show.email)
        .bind(&show.category)
        .bind(i64::from(show.explicit))
        .bind(json(&show.meta)?)
        .bind(ms(show.updated_at))
        .bind(show.renamed_at.map(ms))
        .bind(show.id.to_string())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(DbError::NotFound);
        }
        if renamed {
            sqlx::query("DELETE FROM show_slug_history WHERE slug = $1")
                .bind(show.slug.as_str())
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO show_slug_history (slug, show_id, retired_at) VALUES ($1, $2, $3)",
            )
            .bind(previous_slug.as_str())
            .bind(show.id.to_string())
            .bind(ms(show.updated_at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        w.committed();
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%slug))]
    async fn show_by_old_slug(&self, slug: &Slug) -> Result<Show, DbError> {
        let row = sqlx::query(
            "SELECT s.* FROM show_slug_history h JOIN shows s ON s.id = h.show_id \
             WHERE h.slug = $1",
        )
        .bind(slug.as_str())
        .fetch_one(&self.pool)
        .await?;
        show_from(&row)
    }
}
