//! `DocumentRepo` on `AnyDb`: documents, their files, and their links to episodes.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use super::{
    AnyDb, Writer,
    rows::{
        DOCUMENT_COLUMNS, EPISODE_COLUMNS, document_from, episode_from, get, json, ms, parse,
        to_i64,
    },
};
use crate::db::{
    Citation, DbError, Document, DocumentFile, DocumentKind, DocumentLink, DocumentRepo,
    LinkedDocument,
};
use crate::domain::{DocumentId, EpisodeId, Slug};

#[async_trait::async_trait]
impl DocumentRepo for AnyDb {
    #[tracing::instrument(skip_all, fields(id = %document.id))]
    async fn create_document(&self, document: &Document) -> Result<(), DbError> {
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        sqlx::query(
            "INSERT INTO documents (id, title, number, kind, issuer, issued_on, url, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(document.id.to_string())
        .bind(&document.title)
        .bind(document.number.as_deref())
        .bind(document.kind.as_str())
        .bind(document.issuer.as_deref())
        .bind(document.issued_on.map(|d| d.to_string()))
        .bind(document.url.as_deref())
        .bind(ms(document.created_at))
        .bind(ms(document.updated_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        w.committed();
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn document(&self, id: DocumentId) -> Result<Document, DbError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE d.id = $1"
        )))
        .bind(id.to_string())
        .fetch_one(&self.pool)
        .await?;
        document_from(&row)
    }

    #[tracing::instrument(skip_all, fields(episode = %link.episode_id, document = %link.document_id))]
    async fn link_document(&self, link: &DocumentLink) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO episode_documents (id, episode_id, document_id, at_ms, note, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(link.id.to_string())
        .bind(link.episode_id.to_string())
        .bind(link.document_id.to_string())
        .bind(link.at_ms.map(to_i64).transpose()?)
        .bind(link.note.as_deref())
        .bind(ms(link.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%episode))]
    async fn episode_documents(&self, episode: EpisodeId) -> Result<Vec<LinkedDocument>, DbError> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {DOCUMENT_COLUMNS}, l.id AS l_id, l.at_ms AS l_at_ms, l.note AS l_note \
             FROM episode_documents l JOIN documents d ON d.id = l.document_id \
             WHERE l.episode_id = $1 \
             ORDER BY CASE WHEN l.at_ms IS NULL THEN 1 ELSE 0 END, l.at_ms, l.created_at, l.id"
        )))
        .bind(episode.to_string())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(LinkedDocument {
                link_id: parse("link id", &get::<String>(row, "l_id")?)?,
                document: document_from(row)?,
                at_ms: get::<Option<i64>>(row, "l_at_ms")?
                    .map(|v| u64::try_from(v).unwrap_or_default()),
                note: get(row, "l_note")?,
            })
        })
        .collect()
    }

    #[tracing::instrument(skip_all, fields(id = %document.id))]
    async fn update_document(&self, document: &Document) -> Result<(), DbError> {
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        let done = sqlx::query(
            "UPDATE documents SET title = $1, number = $2, kind = $3, issuer = $4, \
             issued_on = $5, url = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(&document.title)
        .bind(document.number.as_deref())
        .bind(document.kind.as_str())
        .bind(document.issuer.as_deref())
        .bind(document.issued_on.map(|d| d.to_string()))
        .bind(document.url.as_deref())
        .bind(ms(document.updated_at))
        .bind(document.id.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        w.committed();
        if done.rows_affected() == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn set_document_file(
        &self,
        id: DocumentId,
        file: Option<&DocumentFile>,
        now: DateTime<Utc>,
    ) -> Result<(Document, Option<DocumentFile>), DbError> {
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        let before = sqlx::query(AssertSqlSafe(format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE d.id = $1"
        )))
        .bind(id.to_string())
        .fetch_one(&mut *tx)
        .await?;
        // Written out in full: the key is not part of the record's public shape.
        let json = file
            .map(|f| {
                json(&serde_json::json!({
                    "key": f.key,
                    "filename": f.filename,
                    "size_bytes": f.size_bytes,
                    "sha256": f.sha256,
                    "uploaded_at": f.uploaded_at,
                }))
            })
            .transpose()?;
        sqlx::query("UPDATE documents SET file = $1, updated_at = $2 WHERE id = $3")
            .bind(json)
            .bind(ms(now))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        let after = sqlx::query(AssertSqlSafe(format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE d.id = $1"
        )))
        .bind(id.to_string())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        w.committed();
        Ok((document_from(&after)?, document_from(&before)?.file))
    }

    #[tracing::instrument(skip_all)]
    async fn list_documents(&self, kind: Option<DocumentKind>) -> Result<Vec<Document>, DbError> {
        // '' for every kind: a NULL parameter has no type PostgreSQL could infer.
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE ($1 = '' OR d.kind = $1) \
             ORDER BY CASE WHEN d.issued_on IS NULL THEN 1 ELSE 0 END, d.issued_on DESC, \
             d.title, d.id"
        )))
        .bind(kind.map_or("", DocumentKind::as_str))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(document_from)
        .collect()
    }

    #[tracing::instrument(skip_all, fields(%document))]
    async fn document_citations(&self, document: DocumentId) -> Result<Vec<Citation>, DbError> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {EPISODE_COLUMNS}, s.slug AS s_slug, l.id AS l_id, l.at_ms AS l_at_ms, \
             l.note AS l_note FROM episode_documents l \
             JOIN episodes e ON e.id = l.episode_id JOIN shows s ON s.id = e.show_id \
             WHERE l.document_id = $1 \
             ORDER BY e.publish_at DESC, e.id DESC, \
             CASE WHEN l.at_ms IS NULL THEN 1 ELSE 0 END, l.at_ms, l.id"
        )))
        .bind(document.to_string())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(Citation {
                link_id: parse("link id", &get::<String>(row, "l_id")?)?,
                episode: episode_from(row)?,
                show_slug: Slug::parse(&get::<String>(row, "s_slug")?)
                    .map_err(|e| DbError::Other(anyhow::anyhow!("bad slug in database: {e}")))?,
                at_ms: get::<Option<i64>>(row, "l_at_ms")?
                    .map(|v| u64::try_from(v).unwrap_or_default()),
                note: get(row, "l_note")?,
            })
        })
        .collect()
    }

    #[tracing::instrument(skip_all, fields(%episode, %link))]
    async fn unlink_document(&self, episode: EpisodeId, link: Uuid) -> Result<(), DbError> {
        let done = sqlx::query("DELETE FROM episode_documents WHERE id = $1 AND episode_id = $2")
            .bind(link.to_string())
            .bind(episode.to_string())
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }
}
