//! Who an API request comes from, and what it may do: the extractor `Caller` (a bearer token, see
//! `service::tokens`; or, for a page posting to the API without a script, the studio's signed-in
//! user) with `Caller::require(show, action)`, the one permission check of the API
//! (`domain::access`: the caller's role on that show allows the action, or 403 `forbidden`
//! naming it). `Admin` is a caller whose own role is admin (shows, users).
//!
//! A session cookie is not a bearer token: a browser sends it on requests other sites make.
//! The API takes it only with the pages' origin check on every write (`csrf::check_origin`), and
//! a token in `Authorization` always wins over it.

use axum::{
    extract::{FromRequestParts, OptionalFromRequestParts},
    http::{HeaderMap, Method, header, request::Parts},
};

use crate::{
    app::AppState,
    domain::{
        ShowId,
        access::{Access, Action},
        audit::Actor,
    },
    http::{csrf, error::AppError, sessions},
    service::{tokens, users},
};

/// A caller the API knows: a live token's holder, or a signed-in user.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who the audit trail names.
    pub actor: Actor,
    /// What it may do, show by show.
    pub access: Access,
}

impl Caller {
    /// 403 `forbidden`, naming the action, unless the caller may do `action` on `show`.
    pub fn require(&self, show: ShowId, action: Action) -> Result<(), AppError> {
        if self.access.may(show, action) {
            Ok(())
        } else {
            Err(AppError::forbidden(action))
        }
    }

    /// As `require`, for what belongs to no show (an upload) or to all (documents): the caller
    /// may do it on some show.
    pub fn require_somewhere(&self, action: Action) -> Result<(), AppError> {
        if self.access.may_somewhere(action) {
            Ok(())
        } else {
            Err(AppError::forbidden(action))
        }
    }

    /// Whether it may see `show`'s drafts, scheduled and withdrawn briefings.
    pub fn reads_unpublished(&self, show: ShowId) -> bool {
        self.access.may(show, Action::ReadUnpublished)
    }
}

/// Whether `caller` (absent: the public) may see `show`'s unpublished briefings.
pub fn reads_unpublished(caller: Option<&Caller>, show: ShowId) -> bool {
    caller.is_some_and(|c| c.reads_unpublished(show))
}

/// A caller that may upload (its role allows it on some show): what the upload routes take, so
/// that a refused caller is answered before a byte of the body is read.
#[derive(Debug, Clone)]
pub struct Uploader(pub Caller);

impl FromRequestParts<AppState> for Uploader {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let caller = caller_of(parts, state)
            .await?
            .ok_or(AppError::Unauthorized)?;
        caller.require_somewhere(Action::Upload)?;
        Ok(Uploader(caller))
    }
}

/// A caller whose own role is admin.
#[derive(Debug, Clone)]
pub struct Admin {
    pub actor: Actor,
}

/// The bearer token of the `Authorization` header; `Err` for a header that is not one.
fn bearer(headers: &HeaderMap) -> Option<Result<&str, AppError>> {
    let value = headers.get(header::AUTHORIZATION)?;
    Some(
        value
            .to_str()
            .ok()
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .ok_or(AppError::Unauthorized),
    )
}

/// The caller of a request, `None` when it brings neither a token nor a session. A token that
/// is not live is an error; a session cookie that leads nowhere (expired, ended) is as none.
async fn caller_of(parts: &Parts, state: &AppState) -> Result<Option<Caller>, AppError> {
    if let Some(secret) = bearer(&parts.headers) {
        let holder = tokens::holder(state.ctx.db.as_ref(), secret?)
            .await?
            .ok_or(AppError::Unauthorized)?;
        return Ok(Some(Caller {
            actor: holder.actor(),
            access: holder.access,
        }));
    }
    let Some(user) = sessions::signed_in_user(state, &parts.headers).await? else {
        return Ok(None);
    };
    if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        csrf::check_origin(&parts.headers, &state.settings.public_url)
            .map_err(|_| AppError::forbidden_cross_site())?;
    }
    Ok(Some(Caller {
        access: users::access(state.ctx.db.as_ref(), &user).await?,
        actor: users::actor(&user),
    }))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        caller_of(parts, state).await?.ok_or(AppError::Unauthorized)
    }
}

/// Reads that are public for published content but show more to a caller: no token and no
/// session give `None`; a header with a bad token is still an error.
impl OptionalFromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, AppError> {
        caller_of(parts, state).await
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let caller = caller_of(parts, state)
            .await?
            .ok_or(AppError::Unauthorized)?;
        if caller.access.may_globally(Action::ManageShows) {
            Ok(Admin {
                actor: caller.actor,
            })
        } else {
            Err(AppError::forbidden(Action::ManageShows))
        }
    }
}
