//! Bearer tokens. A token is `siaran_` followed by 32 random bytes in hex; only its SHA-256 is
//! stored, so a leaked database does not leak working tokens.

use axum::{
    extract::{FromRequestParts, OptionalFromRequestParts},
    http::{header, request::Parts},
};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

use crate::{
    app::AppState,
    db::{DbError, Role},
    error::AppError,
};

const PREFIX: &str = "siaran_";

/// A new token secret and the hash to store for it.
pub fn generate() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("{PREFIX}{}", hex::encode(bytes));
    let hash = hash(&secret);
    (secret, hash)
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Who made a change: the token, by its id and name (never its secret), for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub token_id: uuid::Uuid,
    pub name: String,
    pub role: Role,
}

/// Any valid token: an editor or an admin.
#[derive(Debug, Clone)]
pub struct Editor {
    pub role: Role,
    pub actor: Actor,
}

/// A token with the admin role.
#[derive(Debug, Clone)]
pub struct Admin {
    pub actor: Actor,
}

async fn actor_of(parts: &Parts, state: &AppState) -> Result<Actor, AppError> {
    let secret = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| t.starts_with(PREFIX))
        .ok_or(AppError::Unauthorized)?;
    match state.db.token_by_hash(&hash(secret)).await {
        Ok(token) => Ok(Actor {
            token_id: token.id,
            name: token.name,
            role: token.role,
        }),
        Err(DbError::NotFound) => Err(AppError::Unauthorized),
        Err(e) => Err(e.into()),
    }
}

impl FromRequestParts<AppState> for Editor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let actor = actor_of(parts, state).await?;
        Ok(Editor {
            role: actor.role,
            actor,
        })
    }
}

/// Reads that are public for published content but show more to a token holder: no
/// `Authorization` header gives `None`; a header with a bad token is still an error.
impl OptionalFromRequestParts<AppState> for Editor {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, AppError> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            let actor = actor_of(parts, state).await?;
            Ok(Some(Editor {
                role: actor.role,
                actor,
            }))
        } else {
            Ok(None)
        }
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let actor = actor_of(parts, state).await?;
        match actor.role {
            Role::Admin => Ok(Admin { actor }),
            Role::Editor => Err(AppError::Forbidden),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, ha) = generate();
        let (b, _) = generate();
        assert_ne!(a, b);
        assert!(a.starts_with(PREFIX) && a.len() == PREFIX.len() + 64);
        assert_eq!(hash(&a), ha);
        assert!(!ha.contains(&a[PREFIX.len()..]));
    }
}
