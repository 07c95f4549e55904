//! Who a request comes from: the bearer token (see `service::tokens`) as the extractors
//! `Editor` (any valid token) and `Admin`.

use axum::{
    extract::{FromRequestParts, OptionalFromRequestParts},
    http::{header, request::Parts},
};

use crate::{
    app::AppState,
    domain::{Role, audit::Actor},
    http::error::AppError,
    service::tokens,
};

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

/// The token's holder, as the audit trail names it, and its role.
async fn actor_of(parts: &Parts, state: &AppState) -> Result<(Actor, Role), AppError> {
    let secret = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .ok_or(AppError::Unauthorized)?;
    let token = tokens::holder(&state.ctx, secret)
        .await?
        .ok_or(AppError::Unauthorized)?;
    Ok((
        Actor {
            token_id: Some(token.id),
            name: token.name,
        },
        token.role,
    ))
}

impl FromRequestParts<AppState> for Editor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let (actor, role) = actor_of(parts, state).await?;
        Ok(Editor { role, actor })
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
            let (actor, role) = actor_of(parts, state).await?;
            Ok(Some(Editor { role, actor }))
        } else {
            Ok(None)
        }
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let (actor, role) = actor_of(parts, state).await?;
        match role {
            Role::Admin => Ok(Admin { actor }),
            Role::Editor => Err(AppError::Forbidden),
        }
    }
}
