//! The audit trail of a record: `GET /api/v1/shows/{slug}/history`,
//! `/api/v1/episodes/{id}/history` and `/api/v1/documents/{id}/history`, oldest first. Public
//! for shows, documents and briefings that have been published (a journalist can see that a
//! title was corrected and when); a draft's history needs a token. Token ids are shown to token
//! holders only; the token's name (who) to everyone.

use axum::{
    Router,
    extract::{Path, State},
    routing::get,
};
use chrono::Utc;

use super::{
    Json,
    auth::{Caller, reads_unpublished},
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
    Router::new()
        .route("/api/v1/shows/{slug}/history", get(show))
        .route("/api/v1/episodes/{id}/history", get(episode))
        .route("/api/v1/documents/{id}/history", get(document))
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

#[tracing::instrument(skip_all, fields(%slug))]
async fn show(
    State(state): State<AppState>,
    caller: Option<Caller>,
    Path(slug): Path<String>,
) -> Result<Json<Vec<AuditEntry>>, AppError> {
    let show = service::shows::load(&state.ctx, &slug).await?;
    trail(&state, Entity::Show, show.id.to_string(), caller.as_ref()).await
}

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
