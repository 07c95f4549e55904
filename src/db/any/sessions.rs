//! `SessionRepo` and `LoginThrottleRepo` on `AnyDb`: the studio's sessions, found by the hash
//! of their id, and failed logins, counted by account and by address.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;

use super::{
    AnyDb,
    rows::{get, ms, parse, time},
};
use crate::db::{DbError, LoginKey, LoginThrottleRepo, SessionRepo, StoredSession, new_row_id};
use crate::domain::UserId;

fn session_from(row: &AnyRow) -> Result<StoredSession, DbError> {
    Ok(StoredSession {
        id_hash: get(row, "id_hash")?,
        user_id: get::<Option<String>>(row, "user_id")?
            .map(|u| parse("user id", &u))
            .transpose()?,
        data: get(row, "data")?,
        expires_at: time(get(row, "expires_at")?)?,
    })
}

#[async_trait::async_trait]
impl SessionRepo for AnyDb {
    #[tracing::instrument(skip_all)]
    async fn create_session(&self, session: &StoredSession) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, data, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&session.id_hash)
        .bind(session.user_id.map(|u| u.to_string()))
        .bind(&session.data)
        .bind(ms(session.expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn save_session(&self, session: &StoredSession) -> Result<bool, DbError> {
        let done = sqlx::query(
            "UPDATE sessions SET user_id = $1, data = $2, expires_at = $3 WHERE id_hash = $4",
        )
        .bind(session.user_id.map(|u| u.to_string()))
        .bind(&session.data)
        .bind(ms(session.expires_at))
        .bind(&session.id_hash)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    #[tracing::instrument(skip_all)]
    async fn session(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredSession>, DbError> {
        sqlx::query(
            "SELECT id_hash, user_id, data, expires_at FROM sessions \
             WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash)
        .bind(ms(now))
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(session_from)
        .transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn delete_session(&self, id_hash: &str) -> Result<(), DbError> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%user))]
    async fn delete_user_sessions(&self, user: UserId) -> Result<u64, DbError> {
        Ok(sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user.to_string())
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    #[tracing::instrument(skip_all)]
    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, DbError> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(ms(now))
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}

#[async_trait::async_trait]
impl LoginThrottleRepo for AnyDb {
    #[tracing::instrument(skip_all)]
    async fn record_login_failure(
        &self,
        account: &str,
        address: &str,
        at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO login_failures (id, account, address, at) VALUES ($1, $2, $3, $4)",
        )
        .bind(new_row_id().to_string())
        .bind(account)
        .bind(address)
        .bind(ms(at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(n))]
    async fn nth_login_failure(
        &self,
        key: LoginKey<'_>,
        since: DateTime<Utc>,
        n: u32,
    ) -> Result<Option<DateTime<Utc>>, DbError> {
        let Some(offset) = n.checked_sub(1) else {
            return Ok(None);
        };
        // Two fixed statements: the column is never spliced from a value.
        let (sql, value) = match key {
            LoginKey::Account(a) => (
                "SELECT at FROM login_failures WHERE account = $1 AND at > $2 \
                 ORDER BY at DESC LIMIT 1 OFFSET $3",
                a,
            ),
            LoginKey::Address(a) => (
                "SELECT at FROM login_failures WHERE address = $1 AND at > $2 \
                 ORDER BY at DESC LIMIT 1 OFFSET $3",
                a,
            ),
        };
        sqlx::query(sql)
            .bind(value)
            .bind(ms(since))
            .bind(i64::from(offset))
            .fetch_optional(&self.pool)
            .await?
            .map(|row| time(get(&row, "at")?))
            .transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn forget_login_failures(&self, before: DateTime<Utc>) -> Result<u64, DbError> {
        Ok(sqlx::query("DELETE FROM login_failures WHERE at <= $1")
            .bind(ms(before))
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}
