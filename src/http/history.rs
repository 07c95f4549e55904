//! The audit trail of a record: `GET /api/v1/shows/{slug}/history`,
//! `/api/v1/episodes/{id}/history` and `/api/v1/documents/{id}/history`, oldest first. Public
//! for shows, documents and briefings that have been published (a journalist can see that a
//! title was corrected and when); a draft's history needs a token. Token ids are shown to token
//! holders only; the token's name (who) to everyone.

use axum::{
    Router,
    extract::{Path, State},
};
use chrono::Utc;

use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    Json,
    auth::{Caller, reads_unpublished},
    openapi::{ApiError, Unavailable},
};
use crate::{
    app::{App, AppState},
    domain::{
        EpisodeStatus,
        audit::{AuditEntry, Entity},
    },
    http::error::AppError,
    service,
};

pub fn router() -> Router<AppState> {
    api().into()
}

/// The routes and their operations in the API's document (`http::openapi`).
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show))
        .routes(routes!(episode))
        .routes(routes!(document))
}

async fn trail(
    app: &App,
    entity: Entity,
    id: String,
    caller: Option<&Caller>,
) -> Result<Json<Vec<AuditEntry>>, AppError> {
    let mut entries = app.ctx.db.audit_trail(entity, &id).await?;
    if caller.is_none() {
        for e in &mut entries {
            e.token_id = None;
            e.user_id = None;
        }
    }
    Ok(Json(entries))
}

/// A show's audit trail, public.
#[utoipa::path(
    get,
    path = "/api/v1/shows/{slug}/history",
    tag = "history",
    params(("slug" = String, Path, description = "The show's slug")),
    responses(
        (status = 200, description = "The audit trail, oldest first (token ids for callers only)", body = Vec<AuditEntry>),
        (status = 401, description = "A token that is not a live one", body = ApiError),
        (status = 404, description = "Not found (or not one the caller may see)", body = ApiError),
        Unavailable,
    ),
    security((), ("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(%slug))]
async fn show(
    State(state): State<AppState>,
    caller: Option<Caller>,
    Path(slug): Path<String>,
) -> Result<Json<Vec<AuditEntry>>, AppError> {
    let show = service::shows::load(&state.ctx, &slug).await?;
    trail(&state, Entity::Show, show.id.to_string(), caller.as_ref()).await
}

/// An episode's audit trail: public once published, else for callers who may see the show's unpublished episodes.
#[utoipa::path(
    get,
    path = "/api/v1/episodes/{id}/history",
    tag = "history",
    params(("id" = String, Path, description = "The episode's id (a lower-case UUID)")),
    responses(
        (status = 200, description = "The audit trail, oldest first (token ids for callers only)", body = Vec<AuditEntry>),
        (status = 401, description = "A token that is not a live one", body = ApiError),
        (status = 404, description = "Not found (or not one the caller may see)", body = ApiError),
        Unavailable,
    ),
    security((), ("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(%id))]
async fn episode(
    State(state): State<AppState>,
    caller: Option<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Vec<AuditEntry>>, AppError> {
    let episode = service::episodes::load(&state.ctx, &id).await?;
    let public = matches!(
        episode.status(Utc::now()),
        EpisodeStatus::Published | EpisodeStatus::Withdrawn
    );
    if !public && !reads_unpublished(caller.as_ref(), episode.show_id) {
        return Err(AppError::not_found("episode"));
    }
    trail(
        &state,
        Entity::Episode,
        episode.id.to_string(),
        caller.as_ref(),
    )
    .await
}

/// A document's audit trail, public.
#[utoipa::path(
    get,
    path = "/api/v1/documents/{id}/history",
    tag = "history",
    params(("id" = String, Path, description = "The document's id")),
    responses(
        (status = 200, description = "The audit trail, oldest first (token ids for callers only)", body = Vec<AuditEntry>),
        (status = 401, description = "A token that is not a live one", body = ApiError),
        (status = 404, description = "Not found (or not one the caller may see)", body = ApiError),
        Unavailable,
    ),
    security((), ("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(%id))]
async fn document(
    State(state): State<AppState>,
    caller: Option<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Vec<AuditEntry>>, AppError> {
    let document = crate::service::documents::load(&state.ctx, &id).await?;
    trail(
        &state,
        Entity::Document,
        document.id.to_string(),
        caller.as_ref(),
    )
    .await
}
