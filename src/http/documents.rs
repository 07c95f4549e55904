//! Official documents (regulations, decrees, press releases) that briefings discuss.

use axum::{
    Router,
    extract::{Path, State},
    http::{StatusCode, header},
    response::IntoResponse,
    routing::get,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    Json,
    auth::{Caller, reads_unpublished},
    document_files::with_url,
    query::Query,
};
use crate::{
    app::AppState,
    domain::{
        Document, DocumentPatch, EpisodeId, EpisodeStatus, NewDocument, Slug, access::Action,
        parse_kind,
    },
    http::error::AppError,
    service::documents,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/documents", get(list).post(create))
        .route("/api/v1/documents/{id}", get(read).patch(update))
        .route("/api/v1/documents/{id}/episodes", get(citations))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub kind: Option<String>,
}

/// An episode citing a document, as `GET /api/v1/documents/{id}/episodes` lists it.
#[derive(Debug, Serialize)]
pub struct CitationView {
    pub link_id: uuid::Uuid,
    pub episode_id: EpisodeId,
    pub show_slug: Slug,
    pub title: String,
    pub publish_at: Option<DateTime<Utc>>,
    pub at_ms: Option<u64>,
    pub note: Option<String>,
    pub url: String,
}

#[tracing::instrument(skip_all)]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<NewDocument>,
) -> Result<impl IntoResponse, AppError> {
    caller.require_somewhere(Action::ManageDocuments)?;
    let document = input.parse(Utc::now())?;
    let document = documents::create(&state.ctx, &caller.actor, document).await?;
    let location = format!("/api/v1/documents/{}", document.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(document),
    ))
}

#[tracing::instrument(skip_all)]
async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<Document>>, AppError> {
    let kind = query
        .kind
        .filter(|k| !k.trim().is_empty())
        .map(|k| parse_kind(Some(k)))
        .transpose()?;
    Ok(Json(
        state
            .ctx
            .db
            .list_documents(kind)
            .await?
            .into_iter()
            .map(|d| with_url(d, &state.ctx.urls))
            .collect(),
    ))
}

#[tracing::instrument(skip_all, fields(%id))]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(patch): Json<DocumentPatch>,
) -> Result<Json<Document>, AppError> {
    caller.require_somewhere(Action::ManageDocuments)?;
    let old = documents::load(&state.ctx, &id).await?;
    let document = documents::update(&state.ctx, &caller.actor, old, patch).await?;
    Ok(Json(with_url(document, &state.ctx.urls)))
}

/// The published episodes that cite the document (for a caller of their show, drafts and
/// scheduled ones too), each link with its moment.
#[tracing::instrument(skip_all, fields(%id))]
async fn citations(
    State(state): State<AppState>,
    caller: Option<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Vec<CitationView>>, AppError> {
    let id = crate::service::documents::load(&state.ctx, &id).await?.id;
    let now = Utc::now();
    let views = state
        .ctx
        .db
        .document_citations(id)
        .await?
        .into_iter()
        .filter(|c| {
            reads_unpublished(caller.as_ref(), c.episode.show_id)
                || c.episode.status(now) == EpisodeStatus::Published
        })
        .map(|c| CitationView {
            url: state.ctx.urls.episode_page(&c.show_slug, &c.episode.slug),
            link_id: c.link_id,
            episode_id: c.episode.id,
            show_slug: c.show_slug,
            title: c.episode.title,
            publish_at: c.episode.publish_at,
            at_ms: c.at_ms,
            note: c.note,
        })
        .collect();
    Ok(Json(views))
}

#[tracing::instrument(skip_all, fields(%id))]
async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Document>, AppError> {
    let document = crate::service::documents::load(&state.ctx, &id).await?;
    Ok(Json(with_url(document, &state.ctx.urls)))
}
