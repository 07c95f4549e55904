//! The studio's sessions: `tower-sessions` with its `SessionStore` over Siaran's own database
//! ([`DbSessionStore`]; the crate's sqlx store pins sqlx 0.8), so any instance serves any
//! session. The cookie is `HttpOnly`, `SameSite=Lax`, `Secure` (and `__Host-` named) when
//! `SIARAN_PUBLIC_URL` is https, for path `/`; a session ends after `SIARAN_SESSION_IDLE`
//! without a request.
//!
//! A session is stored under the SHA-256 of its id, so a copy of the database holds no live
//! session; the signed-in user's id is kept in a column beside the data, so that disabling a
//! user or giving it a new password ends all its sessions with one delete (`db::UserRepo`). A
//! save never brings back a session that was ended meanwhile.

use std::sync::Arc;

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};
use tower_sessions::{
    Expiry, SessionManagerLayer, SessionStore,
    cookie::{SameSite, time::OffsetDateTime},
    session::{Id, Record},
    session_store,
};

use crate::{
    app::AppState,
    db::{Db, DbError, StoredSession},
    domain::{UserId, users::User},
    http::{csrf, error::AppError},
    service::users,
};

/// Where a session keeps the signed-in user's id.
pub const USER_KEY: &str = "user_id";
/// Where a session keeps the minute it was last seen in: a session is written again (its expiry
/// pushed back) at most once a minute.
pub const SEEN_KEY: &str = "seen";

/// `tower_sessions::SessionStore` over `Db`.
#[derive(Debug, Clone)]
pub struct DbSessionStore {
    db: Arc<dyn Db>,
}

impl DbSessionStore {
    pub fn new(db: Arc<dyn Db>) -> DbSessionStore {
        DbSessionStore { db }
    }
}

fn id_hash(id: &Id) -> String {
    hex::encode(Sha256::digest(id.to_string().as_bytes()))
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn stored(record: &Record) -> session_store::Result<StoredSession> {
    let user_id = record
        .data
        .get(USER_KEY)
        .and_then(|v| v.as_str())
        .and_then(|v| v.parse::<UserId>().ok());
    let expires_ms = i64::try_from(record.expiry_date.unix_timestamp_nanos() / 1_000_000)
        .map_err(|_| session_store::Error::Encode("expiry out of range".into()))?;
    Ok(StoredSession {
        id_hash: id_hash(&record.id),
        user_id,
        data: serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?,
        expires_at: DateTime::from_timestamp_millis(expires_ms)
            .ok_or_else(|| session_store::Error::Encode("expiry out of range".into()))?,
    })
}

#[async_trait::async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A collision of 128 random bits is not expected; drawn again all the same.
        loop {
            match self.db.create_session(&stored(record)?).await {
                Ok(()) => return Ok(()),
                Err(DbError::Conflict(_)) => record.id = Id::default(),
                Err(e) => return Err(backend(e)),
            }
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        // A session deleted since it was read (its user disabled, logged out elsewhere) stays
        // deleted: the write finds no row.
        self.db
            .save_session(&stored(record)?)
            .await
            .map(|_| ())
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(row) = self
            .db
            .session(&id_hash(id), Utc::now())
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let data = serde_json::from_str(&row.data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date = OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(row.expires_at.timestamp_millis()) * 1_000_000,
        )
        .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.db.delete_session(&id_hash(id)).await.map_err(backend)
    }
}

/// The session cookie's name: `__Host-` on HTTPS, where the browser then refuses it from any
/// other host or path.
pub fn cookie_name(state: &AppState) -> &'static str {
    if secure(state) {
        "__Host-siaran_session"
    } else {
        "siaran_session"
    }
}

fn secure(state: &AppState) -> bool {
    state.settings.public_url.scheme() == "https"
}

/// The layer that gives the studio's handlers their `Session`.
pub fn layer(state: &AppState) -> SessionManagerLayer<DbSessionStore> {
    let idle = tower_sessions::cookie::time::Duration::try_from(state.settings.session_idle)
        .unwrap_or(tower_sessions::cookie::time::Duration::hours(12));
    SessionManagerLayer::new(DbSessionStore::new(state.ctx.db.clone()))
        .with_name(cookie_name(state))
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure(state))
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
}

/// The user signed in by the request's session cookie, outside the studio's layer (the API):
/// `None` without a cookie, for a session that ended, and for a disabled user.
pub async fn signed_in_user(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<User>, AppError> {
    let Some(id) = csrf::cookie(headers, cookie_name(state)).and_then(|v| v.parse::<Id>().ok())
    else {
        return Ok(None);
    };
    let Some(session) = state.ctx.db.session(&id_hash(&id), Utc::now()).await? else {
        return Ok(None);
    };
    let Some(user_id) = session.user_id else {
        return Ok(None);
    };
    match users::load(state.ctx.db.as_ref(), user_id).await {
        Ok(user) if !user.disabled => Ok(Some(user)),
        Ok(_) | Err(crate::service::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
