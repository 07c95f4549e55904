//! `AuditRepo` on `AnyDb`: the audit trail, appended to and read, never changed.

use super::{
    AnyDb,
    rows::{from_json, get, json, ms, parse, time},
};
use crate::db::{AuditRepo, DbError};
use crate::domain::audit::{AuditEntry, Entity};

#[async_trait::async_trait]
impl AuditRepo for AnyDb {
    #[tracing::instrument(skip_all, fields(entity = entry.entity.as_str(), id = %entry.entity_id))]
    async fn record_audit(&self, entry: &AuditEntry) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO audit_log (id, entity, entity_id, action, token_id, token_name, at, \
             changes, user_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(entry.id.to_string())
        .bind(entry.entity.as_str())
        .bind(&entry.entity_id)
        .bind(&entry.action)
        .bind(entry.token_id.map(|t| t.to_string()))
        .bind(entry.by.as_deref())
        .bind(ms(entry.at))
        .bind(json(&entry.changes)?)
        .bind(entry.user_id.map(|u| u.to_string()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(entity = entity.as_str(), %entity_id))]
    async fn audit_trail(
        &self,
        entity: Entity,
        entity_id: &str,
    ) -> Result<Vec<AuditEntry>, DbError> {
        sqlx::query("SELECT * FROM audit_log WHERE entity = $1 AND entity_id = $2 ORDER BY at, id")
            .bind(entity.as_str())
            .bind(entity_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(AuditEntry {
                    id: parse("audit id", &get::<String>(row, "id")?)?,
                    entity,
                    entity_id: get(row, "entity_id")?,
                    action: get(row, "action")?,
                    token_id: get::<Option<String>>(row, "token_id")?
                        .map(|t| parse("token id", &t))
                        .transpose()?,
                    user_id: get::<Option<String>>(row, "user_id")?
                        .map(|u| parse("user id", &u))
                        .transpose()?,
                    by: get(row, "token_name")?,
                    at: time(get(row, "at")?)?,
                    changes: from_json("audit changes", &get::<String>(row, "changes")?)?,
                })
            })
            .collect()
    }
}
