//! `TokenRepo` on `AnyDb`: API tokens, found by the hash of their secret, and those a user owns.

use sqlx::any::AnyRow;

use super::{
    AnyDb,
    rows::{get, ms, parse, time},
};
use crate::db::{ApiToken, DbError, Role, TokenRepo};
use crate::domain::UserId;

const TOKEN_COLUMNS: &str = "id, name, role, token_hash, user_id, created_at";

fn token_from(row: &AnyRow) -> Result<ApiToken, DbError> {
    Ok(ApiToken {
        id: parse("token id", &get::<String>(row, "id")?)?,
        name: get(row, "name")?,
        role: parse::<Role>("role", &get::<String>(row, "role")?)?,
        token_hash: get(row, "token_hash")?,
        user_id: get::<Option<String>>(row, "user_id")?
            .map(|u| parse("user id", &u))
            .transpose()?,
        created_at: time(get(row, "created_at")?)?,
    })
}

#[async_trait::async_trait]
impl TokenRepo for AnyDb {
    #[tracing::instrument(skip_all, fields(name = %token.name))]
    async fn create_token(&self, token: &ApiToken) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO api_tokens (id, name, role, token_hash, user_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token.id.to_string())
        .bind(&token.name)
        .bind(token.role.as_str())
        .bind(&token.token_hash)
        .bind(token.user_id.map(|u| u.to_string()))
        .bind(ms(token.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn token_by_hash(&self, token_hash: &str) -> Result<ApiToken, DbError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .fetch_one(&self.pool)
            .await?;
        token_from(&row)
    }

    #[tracing::instrument(skip_all, fields(%user))]
    async fn user_tokens(&self, user: UserId) -> Result<Vec<ApiToken>, DbError> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 \
             ORDER BY created_at DESC, id DESC"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user.to_string())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(token_from)
            .collect()
    }

    #[tracing::instrument(skip_all, fields(%user, %id))]
    async fn delete_user_token(&self, user: UserId, id: uuid::Uuid) -> Result<ApiToken, DbError> {
        let sql = format!(
            "DELETE FROM api_tokens WHERE id = $1 AND user_id = $2 RETURNING {TOKEN_COLUMNS}"
        );
        // RETURNING drained with fetch_all (see `any`'s module note).
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .bind(user.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.first().map(token_from).ok_or(DbError::NotFound)?
    }
}
