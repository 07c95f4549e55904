//! People and their credentials: API tokens, users, studio sessions, failed logins.

use chrono::{DateTime, Utc};

use crate::db::{ApiToken, DbError};
use crate::domain::users::{Email, ShowRole, User};
use crate::domain::{ShowId, UserId};

/// API tokens.
#[async_trait::async_trait]
pub trait TokenRepo: Send + Sync {
    async fn create_token(&self, token: &ApiToken) -> Result<(), DbError>;
    /// Finds a token by the SHA-256 of its secret.
    async fn token_by_hash(&self, token_hash: &str) -> Result<ApiToken, DbError>;
    /// The tokens `user` owns, newest first.
    async fn user_tokens(&self, user: UserId) -> Result<Vec<ApiToken>, DbError>;
    /// Deletes token `id` if `user` owns it; returns it (`NotFound` otherwise).
    async fn delete_user_token(&self, user: UserId, id: uuid::Uuid) -> Result<ApiToken, DbError>;
}

/// The studio's users, their roles on shows, and their one-time links to set a password.
#[async_trait::async_trait]
pub trait UserRepo: Send + Sync {
    /// `Conflict` when a user has the email already.
    async fn create_user(&self, user: &User) -> Result<(), DbError>;
    async fn user(&self, id: UserId) -> Result<User, DbError>;
    async fn user_by_email(&self, email: &Email) -> Result<User, DbError>;
    /// Every user, by email.
    async fn list_users(&self) -> Result<Vec<User>, DbError>;
    /// Writes the user's name, role and disabled flag (`NotFound` if there is no such user);
    /// when `disabled`, its sessions and password links are deleted in the same transaction.
    async fn update_user(&self, user: &User) -> Result<(), DbError>;
    /// The user's password hash (PHC string), `None` while it has none.
    async fn password_hash(&self, id: UserId) -> Result<Option<String>, DbError>;
    /// Sets (or with `None` clears) the user's password hash and, in the same transaction,
    /// deletes its sessions and its password links: whoever knew the old password, or holds a
    /// session made with it, is out.
    async fn set_password_hash(
        &self,
        id: UserId,
        hash: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), DbError>;
    /// Gives `user` another role on `show` (`None`: its own role again).
    async fn set_show_role(
        &self,
        user: UserId,
        show: ShowId,
        role: Option<ShowRole>,
    ) -> Result<(), DbError>;
    /// The shows on which `user` has another role than its own.
    async fn show_roles(&self, user: UserId) -> Result<Vec<(ShowId, ShowRole)>, DbError>;
    /// Stores a link to set `user`'s password (the SHA-256 of its secret) in place of any it
    /// had.
    async fn create_password_link(
        &self,
        user: UserId,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), DbError>;
    /// The user whose link has this hash, if the link is unexpired at `now`.
    async fn password_link_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, DbError>;
    /// Sets the password of the user whose link has this hash, if the link is unexpired at
    /// `now`, as `set_password_hash` does (the link is used up with the others); returns the
    /// user, or `None` for no such link. One transaction: a link sets one password.
    async fn set_password_by_link(
        &self,
        token_hash: &str,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, DbError>;
}

/// A studio session as stored: found by the SHA-256 of its id, with the signed-in user beside
/// its data so that a user's sessions can be ended together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub id_hash: String,
    pub user_id: Option<UserId>,
    /// The session's data, JSON.
    pub data: String,
    pub expires_at: DateTime<Utc>,
}

/// The studio's sessions.
#[async_trait::async_trait]
pub trait SessionRepo: Send + Sync {
    /// A new session (`Conflict` if one has the id: the caller draws another).
    async fn create_session(&self, session: &StoredSession) -> Result<(), DbError>;
    /// Writes the session if it is still there (one ended meanwhile stays ended); false if it
    /// was not.
    async fn save_session(&self, session: &StoredSession) -> Result<bool, DbError>;
    /// The session, if it is unexpired at `now`.
    async fn session(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredSession>, DbError>;
    async fn delete_session(&self, id_hash: &str) -> Result<(), DbError>;
    /// Ends every session of `user`; returns how many there were.
    async fn delete_user_sessions(&self, user: UserId) -> Result<u64, DbError>;
    /// Deletes sessions expired at `now`; returns how many.
    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, DbError>;
}

/// Who a failed login is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginKey<'a> {
    /// The account tried: the lower-cased email, known or not.
    Account(&'a str),
    /// The address the attempt came from.
    Address(&'a str),
}

/// Failed logins, counted in the database so that throttling holds across instances.
#[async_trait::async_trait]
pub trait LoginThrottleRepo: Send + Sync {
    async fn record_login_failure(
        &self,
        account: &str,
        address: &str,
        at: DateTime<Utc>,
    ) -> Result<(), DbError>;
    /// The time of the `n`-th most recent failure (from 1) against `key` after `since`, if
    /// there were that many.
    async fn nth_login_failure(
        &self,
        key: LoginKey<'_>,
        since: DateTime<Utc>,
        n: u32,
    ) -> Result<Option<DateTime<Utc>>, DbError>;
    /// Forgets failures at or before `before`; returns how many.
    async fn forget_login_failures(&self, before: DateTime<Utc>) -> Result<u64, DbError>;
}
