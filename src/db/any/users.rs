//! `UserRepo` on `AnyDb`: the studio's users, their roles on shows, and the one-time links that
//! set a password. Ending a user's sessions with a change that must end them (disabled, new
//! password) happens in the change's own transaction.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;

use super::{
    AnyDb, Writer,
    rows::{get, ms, parse, time},
};
use crate::db::{DbError, UserRepo};
use crate::domain::{
    Role, ShowId, UserId,
    users::{Email, ShowRole, User},
};

const USER_COLUMNS: &str = "id, email, name, role, disabled, created_at, updated_at";

fn user_from(row: &AnyRow) -> Result<User, DbError> {
    Ok(User {
        id: parse("user id", &get::<String>(row, "id")?)?,
        email: Email::from_stored(get(row, "email")?),
        name: get(row, "name")?,
        role: parse::<Role>("role", &get::<String>(row, "role")?)?,
        disabled: get::<i64>(row, "disabled")? != 0,
        created_at: time(get(row, "created_at")?)?,
        updated_at: time(get(row, "updated_at")?)?,
    })
}

#[async_trait::async_trait]
impl UserRepo for AnyDb {
    #[tracing::instrument(skip_all, fields(id = %user.id))]
    async fn create_user(&self, user: &User) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO users (id, email, name, role, disabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(user.id.to_string())
        .bind(user.email.as_str())
        .bind(&user.name)
        .bind(user.role.as_str())
        .bind(i64::from(user.disabled))
        .bind(ms(user.created_at))
        .bind(ms(user.updated_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn user(&self, id: UserId) -> Result<User, DbError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_one(&self.pool)
            .await?;
        user_from(&row)
    }

    #[tracing::instrument(skip_all)]
    async fn user_by_email(&self, email: &Email) -> Result<User, DbError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(email.as_str())
            .fetch_one(&self.pool)
            .await?;
        user_from(&row)
    }

    #[tracing::instrument(skip_all)]
    async fn list_users(&self) -> Result<Vec<User>, DbError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY email");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(user_from)
            .collect()
    }

    #[tracing::instrument(skip_all, fields(id = %user.id))]
    async fn update_user(&self, user: &User) -> Result<(), DbError> {
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        let done = sqlx::query(
            "UPDATE users SET name = $1, role = $2, disabled = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(&user.name)
        .bind(user.role.as_str())
        .bind(i64::from(user.disabled))
        .bind(ms(user.updated_at))
        .bind(user.id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(DbError::NotFound);
        }
        if user.disabled {
            for sql in [
                "DELETE FROM sessions WHERE user_id = $1",
                "DELETE FROM password_links WHERE user_id = $1",
            ] {
                sqlx::query(sql)
                    .bind(user.id.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        w.committed();
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn password_hash(&self, id: UserId) -> Result<Option<String>, DbError> {
        let row = sqlx::query("SELECT password_hash FROM users WHERE id = $1")
            .bind(id.to_string())
            .fetch_one(&self.pool)
            .await?;
        get(&row, "password_hash")
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn set_password_hash(
        &self,
        id: UserId,
        hash: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        let done =
            sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(hash)
                .bind(ms(now))
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            return Err(DbError::NotFound);
        }
        for sql in [
            "DELETE FROM sessions WHERE user_id = $1",
            "DELETE FROM password_links WHERE user_id = $1",
        ] {
            sqlx::query(sql)
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        w.committed();
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%user, %show))]
    async fn set_show_role(
        &self,
        user: UserId,
        show: ShowId,
        role: Option<ShowRole>,
    ) -> Result<(), DbError> {
        match role {
            Some(role) => {
                sqlx::query(
                    "INSERT INTO user_show_roles (user_id, show_id, role) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_id, show_id) DO UPDATE SET role = excluded.role",
                )
                .bind(user.to_string())
                .bind(show.to_string())
                .bind(role.as_str())
                .execute(&self.pool)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM user_show_roles WHERE user_id = $1 AND show_id = $2")
                    .bind(user.to_string())
                    .bind(show.to_string())
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%user))]
    async fn show_roles(&self, user: UserId) -> Result<Vec<(ShowId, ShowRole)>, DbError> {
        sqlx::query("SELECT show_id, role FROM user_show_roles WHERE user_id = $1 ORDER BY show_id")
            .bind(user.to_string())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok((
                    parse("show id", &get::<String>(row, "show_id")?)?,
                    get::<String>(row, "role")?
                        .parse::<ShowRole>()
                        .map_err(|e| DbError::Other(anyhow::anyhow!("bad show role: {e}")))?,
                ))
            })
            .collect()
    }

    #[tracing::instrument(skip_all, fields(%user))]
    async fn create_password_link(
        &self,
        user: UserId,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        sqlx::query("DELETE FROM password_links WHERE user_id = $1")
            .bind(user.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO password_links (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(token_hash)
        .bind(user.to_string())
        .bind(ms(expires_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        w.committed();
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn password_link_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, DbError> {
        let row = sqlx::query(
            "SELECT user_id FROM password_links WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(ms(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| parse("user id", &get::<String>(&r, "user_id")?))
            .transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn set_password_by_link(
        &self,
        token_hash: &str,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, DbError> {
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        // Deleting the link is the claim: of two requests with one link, one deletes it.
        let rows = sqlx::query(
            "DELETE FROM password_links WHERE token_hash = $1 AND expires_at > $2 \
             RETURNING user_id",
        )
        .bind(token_hash)
        .bind(ms(now))
        .fetch_all(&mut *tx)
        .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let user: UserId = parse("user id", &get::<String>(row, "user_id")?)?;
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(ms(now))
            .bind(user.to_string())
            .execute(&mut *tx)
            .await?;
        for sql in [
            "DELETE FROM sessions WHERE user_id = $1",
            "DELETE FROM password_links WHERE user_id = $1",
        ] {
            sqlx::query(sql)
                .bind(user.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        w.committed();
        Ok(Some(user))
    }
}
