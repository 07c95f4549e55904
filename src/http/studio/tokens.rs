//! `/studio/tokens`: a user's own API tokens. It makes one (its secret shown on the answer to
//! the form, once, and stored hashed) and revokes one. A token acts with its owner's role
//! (`service::tokens`).

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use chrono::Utc;
use serde::Deserialize;

use super::{PageError, PageForm, StudioUser, page, see_other};
use crate::{
    app::AppState,
    http::templates::studio::{self as view, NewToken},
    service::{self, tokens},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/studio/tokens", get(list).post(create))
        .route("/studio/tokens/{id}/revoke", post(revoke))
}

async fn render(
    state: &AppState,
    user: &StudioUser,
    status: StatusCode,
    created: Option<&NewToken<'_>>,
    error: Option<&str>,
    name: &str,
) -> Result<Response, PageError> {
    let tokens = tokens::of_user(state.ctx.db.as_ref(), &user.user)
        .await
        .map_err(|e| PageError::op(user.lang, e))?;
    Ok(page(
        state,
        status,
        user.lang,
        view::tokens(&user.chrome(), &tokens, created, error, name),
    ))
}

#[tracing::instrument(skip_all)]
async fn list(State(state): State<AppState>, user: StudioUser) -> Result<Response, PageError> {
    render(&state, &user, StatusCode::OK, None, None, "").await
}

#[derive(Debug, Deserialize)]
struct NewTokenInput {
    #[serde(default)]
    name: String,
}

#[tracing::instrument(skip_all)]
async fn create(
    State(state): State<AppState>,
    user: StudioUser,
    PageForm(input): PageForm<NewTokenInput>,
) -> Result<Response, PageError> {
    match tokens::create_for(
        state.ctx.db.as_ref(),
        &user.actor(),
        &user.user,
        &input.name,
        Utc::now(),
    )
    .await
    {
        Ok((token, secret)) => {
            let created = NewToken {
                name: &token.name,
                secret: &secret,
            };
            render(&state, &user, StatusCode::CREATED, Some(&created), None, "").await
        }
        Err(service::Error::Invalid { msg, .. }) => {
            let text = view::msg(user.lang, &msg).to_owned();
            render(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(&text),
                &input.name,
            )
            .await
        }
        Err(e) => Err(PageError::op(user.lang, e)),
    }
}

#[derive(Debug, Deserialize)]
struct Empty {}

#[tracing::instrument(skip_all, fields(%id))]
async fn revoke(
    State(state): State<AppState>,
    user: StudioUser,
    Path(id): Path<String>,
    PageForm(_): PageForm<Empty>,
) -> Result<Response, PageError> {
    tokens::revoke(state.ctx.db.as_ref(), &user.actor(), &user.user, &id)
        .await
        .map_err(|e| PageError::op(user.lang, e))?;
    Ok(see_other("/studio/tokens"))
}
