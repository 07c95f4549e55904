//! Official documents (regulations, decrees, press releases) that briefings discuss.

use axum::{
    Router,
    extract::{Path, State},
    http::{StatusCode, header},
    response::IntoResponse,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    Json,
    auth::{Caller, reads_unpublished},
    document_files::with_url,
    openapi::{ApiError, Unavailable},
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
    api().into()
}

/// The routes and their operations in the API's document (`http::openapi`).
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(read, update))
        .routes(routes!(citations))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only documents of this kind.
    #[serde(default)]
    #[param(value_type = Option<crate::domain::DocumentKindOrEmpty>)]
    pub kind: Option<String>,
}

/// An episode citing a document, as `GET /api/v1/documents/{id}/episodes` lists it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
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

/// Records a document (a regulation, a decree, a press release).
#[utoipa::path(
    post,
    path = "/api/v1/documents",
    tag = "documents",
    request_body = NewDocument,
    responses(
        (status = 201, description = "The document, created", body = Document, headers(("Location" = String, description = "The document's address in the API")),
            links(
                ("get_documents_id" = (operation_id = "get_documents_id", parameters(("id" = "$response.body#/id")))),
                ("patch_documents_id" = (operation_id = "patch_documents_id", parameters(("id" = "$response.body#/id")))),
                ("put_documents_id_file" = (operation_id = "put_documents_id_file", parameters(("id" = "$response.body#/id")))),
                ("delete_documents_id_file" = (operation_id = "delete_documents_id_file", parameters(("id" = "$response.body#/id")))),
                ("get_documents_id_episodes" = (operation_id = "get_documents_id_episodes", parameters(("id" = "$response.body#/id")))),
                ("get_documents_id_history" = (operation_id = "get_documents_id_history", parameters(("id" = "$response.body#/id")))),
            )),
        (status = 400, description = "The request is malformed (the message says how)", body = ApiError),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The caller's role does not allow this", body = ApiError),
        (status = 409, description = "It conflicts with what is stored (the message says what)", body = ApiError),
        (status = 413, description = "The body is over the limit", body = ApiError),
        (status = 422, description = "A value breaks a rule (the message says which)", body = ApiError),
        (status = 429, description = "Over the rate limit (`Retry-After`)", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
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

/// Every document, public; of one kind with `kind`.
#[utoipa::path(
    get,
    path = "/api/v1/documents",
    tag = "documents",
    params(ListQuery),
    responses(
        (status = 200, description = "The documents", body = Vec<Document>),
        (status = 400, description = "The request is malformed (the message says how)", body = ApiError),
        (status = 422, description = "`kind` is not a known kind", body = ApiError),
        Unavailable,
    ),
)]
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

/// Changes the fields given; `null` clears an optional one.
#[utoipa::path(
    patch,
    path = "/api/v1/documents/{id}",
    tag = "documents",
    params(("id" = String, Path, description = "The document's id (a lower-case UUID)")),
    request_body = DocumentPatch,
    responses(
        (status = 200, description = "The document, changed", body = Document),
        (status = 400, description = "The request is malformed (the message says how)", body = ApiError),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The caller's role does not allow this", body = ApiError),
        (status = 404, description = "Not found (or not one the caller may see)", body = ApiError),
        (status = 409, description = "It conflicts with what is stored (the message says what)", body = ApiError),
        (status = 413, description = "The body is over the limit", body = ApiError),
        (status = 422, description = "A value breaks a rule (the message says which)", body = ApiError),
        (status = 429, description = "Over the rate limit (`Retry-After`)", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
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

#[utoipa::path(
    get,
    path = "/api/v1/documents/{id}/episodes",
    tag = "documents",
    params(("id" = String, Path, description = "The document's id (a lower-case UUID)")),
    responses(
        (status = 200, description = "The episodes citing it", body = Vec<CitationView>),
        (status = 401, description = "A token that is not a live one", body = ApiError),
        (status = 404, description = "Not found (or not one the caller may see)", body = ApiError),
        Unavailable,
    ),
    security((), ("bearer" = []))
)]
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

/// One document, public.
#[utoipa::path(
    get,
    path = "/api/v1/documents/{id}",
    tag = "documents",
    params(("id" = String, Path, description = "The document's id (a lower-case UUID)")),
    responses(
        (status = 200, description = "The document", body = Document),
        (status = 404, description = "Not found (or not one the caller may see)", body = ApiError),
        Unavailable,
    ),
)]
#[tracing::instrument(skip_all, fields(%id))]
async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Document>, AppError> {
    let document = crate::service::documents::load(&state.ctx, &id).await?;
    Ok(Json(with_url(document, &state.ctx.urls)))
}
