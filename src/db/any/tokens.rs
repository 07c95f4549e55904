//! `TokenRepo` on `AnyDb`: API tokens, found by the hash of their secret.

use super::{
    AnyDb,
    rows::{get, ms, parse, time},
};
use crate::db::{ApiToken, DbError, Role, TokenRepo};

#[async_trait::async_trait]
impl TokenRepo for AnyDb {
    #[tracing::instrument(skip_all, fields(name = %token.name))]
    async fn create_token(&self, token: &ApiToken) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO api_tokens (id, name, role, token_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token.id.to_string())
        .bind(&token.name)
        .bind(token.role.as_str())
        .bind(&token.token_hash)
        .bind(ms(token.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn token_by_hash(&self, token_hash: &str) -> Result<ApiToken, DbError> {
        let row = sqlx::query(
            "SELECT id, name, role, token_hash, created_at FROM api_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_one(&self.pool)
        .await?;
        Ok(ApiToken {
            id: parse("token id", &get::<String>(&row, "id")?)?,
            name: get(&row, "name")?,
            role: parse::<Role>("role", &get::<String>(&row, "role")?)?,
            token_hash: get(&row, "token_hash")?,
            created_at: time(get(&row, "created_at")?)?,
        })
    }
}
