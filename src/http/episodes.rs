//! Episodes: create in a show, read, publish; and the documents a briefing discusses.

use axum::{
    Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::IntoResponse,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    Json,
    auth::{Caller, reads_unpublished},
    openapi::{ApiError, Unavailable},
};
use crate::{
    app::{App, AppState},
    domain::{
        Episode, EpisodeDraft, EpisodeId, EpisodeMeta, EpisodePatch, EpisodeStatus, LinkedDocument,
        MediaId, Show, Slug, access::Action, bounds::description_warnings,
    },
    http::error::{AppError, UiLang, WarningView},
    service::{self, episodes},
};

pub fn router() -> Router<AppState> {
    api().into()
}

/// The routes and their operations in the API's document (`http::openapi`).
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(read, update))
        .routes(routes!(publish))
        .routes(routes!(submit_for_review))
        .routes(routes!(return_to_author))
        .routes(routes!(withdraw, restore))
        .routes(routes!(link_document))
        .routes(routes!(unlink_document))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewEpisode {
    #[schema(pattern = r"\S", max_length = 500)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// A media file's id (`POST /api/v1/media` or a finished tus upload).
    #[schema(format = Uuid)]
    pub media_id: String,
    /// RFC 3339. Absent: a draft. Past: published. Future: scheduled.
    #[serde(default)]
    #[schema(
        pattern = r"^(19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
    )]
    pub publish_at: Option<DateTime<Utc>>,
    /// Optional; derived from the title when absent.
    #[serde(default)]
    #[schema(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub slug: Option<String>,
    /// Season, number, type, show notes (HTML), persons, location, soundbites.
    #[serde(default)]
    pub meta: EpisodeMeta,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EpisodeView {
    pub id: EpisodeId,
    pub show_slug: Slug,
    pub slug: Slug,
    pub guid: String,
    pub title: String,
    pub description: String,
    pub status: EpisodeStatus,
    /// An unpublished episode's review: submitted, or returned with the reviewer's comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<crate::domain::review::Review>,
    pub publish_at: Option<DateTime<Utc>>,
    /// When and why the briefing was taken down, if it was.
    pub withdrawn: Option<crate::domain::Withdrawal>,
    pub media_id: MediaId,
    pub enclosure_url: String,
    pub mime_type: String,
    pub duration_ms: u64,
    pub size_bytes: u64,
    pub sha256: String,
    pub url: String,
    pub feed_url: String,
    /// The episode's own cover (`itunes:image` of its item), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artwork_url: Option<String>,
    pub documents: Vec<LinkedDocument>,
    /// Transcripts, chapters and other renditions.
    #[serde(flatten)]
    pub extras: super::episode_files::ExtrasView,
    pub meta: EpisodeMeta,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Beside an episode just written: what its values may cost elsewhere (a description
    /// longer than Apple shows).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<WarningView>,
}

/// The view of an episode just written, with its warnings in the request's language.
async fn written(
    app: &App,
    episode: Episode,
    show: Option<Show>,
    headers: &HeaderMap,
) -> Result<EpisodeView, AppError> {
    let warnings = description_warnings(&episode.description);
    Ok(EpisodeView {
        warnings: WarningView::all(warnings, UiLang::from_headers(headers)),
        ..view(app, episode, show).await?
    })
}

impl EpisodeView {
    /// The view of `episode`, its show read.
    pub(super) async fn of(app: &App, episode: Episode) -> Result<EpisodeView, AppError> {
        view(app, episode, None).await
    }
}

async fn view(app: &App, episode: Episode, show: Option<Show>) -> Result<EpisodeView, AppError> {
    let show = match show {
        Some(s) => s,
        None => app.ctx.db.show(episode.show_id).await?,
    };
    let media = app.ctx.db.media(episode.media_id).await?;
    let documents = app.ctx.db.episode_documents(episode.id).await?;
    let extras = service::episode_files::extras_of(&app.ctx, &episode).await?;
    Ok(EpisodeView {
        extras: super::episode_files::ExtrasView::new(episode.id, &extras, &app.ctx.urls),
        status: episode.status(Utc::now()),
        enclosure_url: app.ctx.urls.media(media.id, &media.info.extension),
        mime_type: media.info.mime_type,
        duration_ms: media.info.duration_ms,
        size_bytes: media.info.size_bytes,
        sha256: media.info.sha256,
        url: app.ctx.urls.episode_page(&show.slug, &episode.slug),
        feed_url: app.ctx.urls.feed(&show.slug),
        artwork_url: episode
            .artwork
            .as_ref()
            .map(|a| app.ctx.urls.episode_artwork(episode.id, a)),
        documents,
        id: episode.id,
        show_slug: show.slug,
        slug: episode.slug,
        guid: episode.guid,
        title: episode.title,
        description: episode.description,
        publish_at: episode.publish_at,
        withdrawn: episode.withdrawn,
        review: episode.review,
        media_id: media.id,
        meta: episode.meta,
        created_at: episode.created_at,
        updated_at: episode.updated_at,
        warnings: Vec::new(),
    })
}

/// Creates an episode of a show from an uploaded media file: a draft without `publish_at`, published or scheduled with it.
#[utoipa::path(
    post,
    path = "/api/v1/shows/{slug}/episodes",
    tag = "episodes",
    params(("slug" = String, Path, description = "The show's slug")),
    request_body = NewEpisode,
    responses(
        (status = 201, description = "The episode, created", body = EpisodeView, headers(("Location" = String, description = "The episode's address in the API")),
            links(
                ("get_episodes_id" = (operation_id = "get_episodes_id", parameters(("id" = "$response.body#/id")))),
                ("patch_episodes_id" = (operation_id = "patch_episodes_id", parameters(("id" = "$response.body#/id")))),
                ("post_episodes_id_publish" = (operation_id = "post_episodes_id_publish", parameters(("id" = "$response.body#/id")))),
                ("post_episodes_id_review" = (operation_id = "post_episodes_id_review", parameters(("id" = "$response.body#/id")))),
                ("post_episodes_id_return" = (operation_id = "post_episodes_id_return", parameters(("id" = "$response.body#/id")))),
                ("put_episodes_id_withdrawal" = (operation_id = "put_episodes_id_withdrawal", parameters(("id" = "$response.body#/id")))),
                ("delete_episodes_id_withdrawal" = (operation_id = "delete_episodes_id_withdrawal", parameters(("id" = "$response.body#/id")))),
                ("post_episodes_id_documents" = (operation_id = "post_episodes_id_documents", parameters(("id" = "$response.body#/id")))),
                ("get_episodes_id_history" = (operation_id = "get_episodes_id_history", parameters(("id" = "$response.body#/id")))),
                ("put_episodes_id_chapters" = (operation_id = "put_episodes_id_chapters", parameters(("id" = "$response.body#/id")))),
                ("get_episodes_id_stats" = (operation_id = "get_episodes_id_stats", parameters(("id" = "$response.body#/id")))),
                ("delete_episodes_id_chapters" = (operation_id = "delete_episodes_id_chapters", parameters(("id" = "$response.body#/id")))),
                ("put_episodes_id_artwork" = (operation_id = "put_episodes_id_artwork", parameters(("id" = "$response.body#/id")))),
                ("post_episodes_id_renditions" = (operation_id = "post_episodes_id_renditions", parameters(("id" = "$response.body#/id")))),
                ("put_episodes_id_transcripts_language" = (operation_id = "put_episodes_id_transcripts_language", parameters(("id" = "$response.body#/id"), ("language" = "id")))),
                ("delete_episodes_id_transcripts_language" = (operation_id = "delete_episodes_id_transcripts_language", parameters(("id" = "$response.body#/id"), ("language" = "id")))),
            )),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The caller's role does not allow this on the show", body = ApiError),
        (status = 404, description = "No such episode (or not one the caller may see)", body = ApiError),
        (status = 409, description = "It conflicts with what is stored (the message says what)", body = ApiError),
        (status = 413, description = "The body is over the JSON limit", body = ApiError),
        (status = 422, description = "A value breaks a rule (the message says which)", body = ApiError),
        (status = 429, description = "Over the write rate limit (`Retry-After`)", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(show = %show_slug))]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(show_slug): Path<String>,
    headers: HeaderMap,
    Json(input): Json<NewEpisode>,
) -> Result<impl IntoResponse, AppError> {
    let show = service::shows::load(&state.ctx, &show_slug).await?;
    // A publication time publishes (or schedules) the episode as it is made.
    caller.require(
        show.id,
        match input.publish_at {
            Some(_) => Action::Publish,
            None => Action::EditDraft,
        },
    )?;
    let media = episodes::known_media(&state.ctx, &input.media_id).await?;
    let draft = EpisodeDraft {
        id: EpisodeId::new(),
        title: input.title,
        description: input.description,
        media,
        publish_at: input.publish_at,
        slug: input.slug,
        meta: input.meta,
        guid: None,
    };
    let episode =
        episodes::create(&state.ctx, &caller.actor, &show, draft, Utc::now(), None).await?;
    let location = format!("/api/v1/episodes/{}", episode.id);
    let view = written(&state, episode, Some(show), &headers).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(view),
    ))
}

/// Changes the fields given; setting, moving or clearing `publish_at` publishes or unpublishes.
#[utoipa::path(
    patch,
    path = "/api/v1/episodes/{id}",
    tag = "episodes",
    params(("id" = String, Path, description = "The episode's id (a lower-case UUID)")),
    request_body = EpisodePatch,
    responses(
        (status = 200, description = "The episode, changed", body = EpisodeView),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The caller's role does not allow this on the show", body = ApiError),
        (status = 404, description = "No such episode (or not one the caller may see)", body = ApiError),
        (status = 409, description = "It conflicts with what is stored (the message says what)", body = ApiError),
        (status = 413, description = "The body is over the JSON limit", body = ApiError),
        (status = 422, description = "A value breaks a rule (the message says which)", body = ApiError),
        (status = 429, description = "Over the write rate limit (`Retry-After`)", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(%id))]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(patch): Json<EpisodePatch>,
) -> Result<Json<EpisodeView>, AppError> {
    let old = episodes::load(&state.ctx, &id).await?;
    caller.require(old.show_id, Action::edit_episode(old.status(Utc::now())))?;
    // Setting, moving or clearing the publication time publishes or unpublishes.
    if patch.publish_at.is_some_and(|at| at != old.publish_at) {
        caller.require(old.show_id, Action::Publish)?;
    }
    let episode = episodes::update(&state.ctx, &caller.actor, old, patch).await?;
    Ok(Json(written(&state, episode, None, &headers).await?))
}

/// A show's episodes: published ones for everyone, drafts and scheduled ones too for a caller
/// of the show.
#[utoipa::path(
    get,
    path = "/api/v1/shows/{slug}/episodes",
    tag = "episodes",
    params(("slug" = String, Path, description = "The show's slug")),
    responses(
        (status = 200, description = "The episodes", body = Vec<EpisodeView>),
        (status = 401, description = "A token that is not a live one", body = ApiError),
        (status = 404, description = "No such show", body = ApiError),
        Unavailable,
    ),
    security((), ("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(show = %show_slug))]
async fn list(
    State(state): State<AppState>,
    caller: Option<Caller>,
    Path(show_slug): Path<String>,
) -> Result<Json<Vec<EpisodeView>>, AppError> {
    let show = service::shows::load(&state.ctx, &show_slug).await?;
    let now = Utc::now();
    let unpublished = reads_unpublished(caller.as_ref(), show.id);
    let mut views = Vec::new();
    for episode in state.ctx.db.show_episodes(show.id).await? {
        if unpublished || episode.status(now) == EpisodeStatus::Published {
            views.push(view(&state, episode, Some(show.clone())).await?);
        }
    }
    Ok(Json(views))
}

/// One episode: a published one for everyone, any for a caller who may see the show's unpublished ones.
#[utoipa::path(
    get,
    path = "/api/v1/episodes/{id}",
    tag = "episodes",
    params(("id" = String, Path, description = "The episode's id (a lower-case UUID)")),
    responses(
        (status = 200, description = "The episode", body = EpisodeView),
        (status = 401, description = "A token that is not a live one", body = ApiError),
        (status = 404, description = "No such episode (or not one the caller may see)", body = ApiError),
        Unavailable,
    ),
    security((), ("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(%id))]
async fn read(
    State(state): State<AppState>,
    caller: Option<Caller>,
    Path(id): Path<String>,
) -> Result<Json<EpisodeView>, AppError> {
    let episode = episodes::load(&state.ctx, &id).await?;
    // Drafts and scheduled episodes are not public until their time.
    if !reads_unpublished(caller.as_ref(), episode.show_id)
        && episode.status(Utc::now()) != EpisodeStatus::Published
    {
        return Err(AppError::not_found("episode"));
    }
    Ok(Json(view(&state, episode, None).await?))
}

/// Publishes an episode now.
#[utoipa::path(
    post,
    path = "/api/v1/episodes/{id}/publish",
    tag = "episodes",
    params(("id" = String, Path, description = "The episode's id (a lower-case UUID)")),
    responses(
        (status = 200, description = "The episode", body = EpisodeView),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The caller's role does not allow this on the show", body = ApiError),
        (status = 404, description = "No such episode (or not one the caller may see)", body = ApiError),
        (status = 409, description = "It conflicts with what is stored (the message says what)", body = ApiError),
        (status = 422, description = "A value breaks a rule (the message says which)", body = ApiError),
        (status = 429, description = "Over the write rate limit (`Retry-After`)", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(%id))]
async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<EpisodeView>, AppError> {
    let episode = episodes::load(&state.ctx, &id).await?;
    caller.require(episode.show_id, Action::Publish)?;
    let episode = episodes::publish(&state.ctx, &caller.actor, episode).await?;
    Ok(Json(view(&state, episode, None).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/episodes/{id}/review",
    tag = "episodes",
    params(("id" = String, Path, description = "The episode's id (a lower-case UUID)")),
    responses(
        (status = 200, description = "The episode", body = EpisodeView,
            links(
                ("post_episodes_id_return" = (operation_id = "post_episodes_id_return", parameters(("id" = "$response.body#/id")))),
                ("post_episodes_id_publish" = (operation_id = "post_episodes_id_publish", parameters(("id" = "$response.body#/id")))),
            )
        ),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The caller's role does not allow this on the show", body = ApiError),
        (status = 404, description = "No such episode (or not one the caller may see)", body = ApiError),
        (status = 409, description = "It conflicts with what is stored (the message says what)", body = ApiError),
        (status = 422, description = "A value breaks a rule (the message says which)", body = ApiError),
        (status = 429, description = "Over the write rate limit (`Retry-After`)", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
/// `POST /api/v1/episodes/{id}/review`: puts a draft in the review queue of its show's editors.
#[tracing::instrument(skip_all, fields(%id))]
async fn submit_for_review(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<EpisodeView>, AppError> {
    let episode = episodes::load(&state.ctx, &id).await?;
    caller.require(episode.show_id, Action::SubmitForReview)?;
    let episode = service::review::submit_for_review(&state.ctx, &caller.actor, episode).await?;
    Ok(Json(view(&state, episode, None).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewReturn {
    /// For the author: what needs to change.
    #[serde(default)]
    #[schema(required = true, pattern = r"\S", max_length = 2000)]
    pub comment: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/episodes/{id}/return",
    tag = "episodes",
    params(("id" = String, Path, description = "The episode's id (a lower-case UUID)")),
    request_body = NewReturn,
    responses(
        (status = 200, description = "The episode", body = EpisodeView),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The caller's role does not allow this on the show", body = ApiError),
        (status = 404, description = "No such episode (or not one the caller may see)", body = ApiError),
        (status = 409, description = "It conflicts with what is stored (the message says what)", body = ApiError),
        (status = 413, description = "The body is over the JSON limit", body = ApiError),
        (status = 422, description = "A value breaks a rule (the message says which)", body = ApiError),
        (status = 429, description = "Over the write rate limit (`Retry-After`)", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
/// `POST /api/v1/episodes/{id}/return` `{"comment"}`: sends an episode in review back to its
/// author, who reads the comment.
#[tracing::instrument(skip_all, fields(%id))]
async fn return_to_author(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(input): Json<NewReturn>,
) -> Result<Json<EpisodeView>, AppError> {
    let episode = episodes::load(&state.ctx, &id).await?;
    caller.require(episode.show_id, Action::Publish)?;
    let episode =
        service::review::return_to_author(&state.ctx, &caller.actor, episode, &input.comment)
            .await?;
    Ok(Json(view(&state, episode, None).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewWithdrawal {
    /// Shown on the episode's page.
    #[schema(pattern = r"\S", max_length = 2000)]
    pub reason: String,
}

#[utoipa::path(
    put,
    path = "/api/v1/episodes/{id}/withdrawal",
    tag = "episodes",
    params(("id" = String, Path, description = "The episode's id (a lower-case UUID)")),
    request_body = NewWithdrawal,
    responses(
        (status = 200, description = "The episode", body = EpisodeView),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The caller's role does not allow this on the show", body = ApiError),
        (status = 404, description = "No such episode (or not one the caller may see)", body = ApiError),
        (status = 409, description = "It conflicts with what is stored (the message says what)", body = ApiError),
        (status = 413, description = "The body is over the JSON limit", body = ApiError),
        (status = 422, description = "A value breaks a rule (the message says which)", body = ApiError),
        (status = 429, description = "Over the write rate limit (`Retry-After`)", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
/// `PUT /api/v1/episodes/{id}/withdrawal` `{"reason"}`: takes a published briefing down. It
/// leaves the feed; its page answers 410 with the reason and the date.
#[tracing::instrument(skip_all, fields(%id))]
async fn withdraw(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(input): Json<NewWithdrawal>,
) -> Result<Json<EpisodeView>, AppError> {
    let episode = episodes::load(&state.ctx, &id).await?;
    caller.require(episode.show_id, Action::Publish)?;
    let episode = episodes::withdraw(&state.ctx, &caller.actor, episode, &input.reason).await?;
    Ok(Json(view(&state, episode, None).await?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/episodes/{id}/withdrawal",
    tag = "episodes",
    params(("id" = String, Path, description = "The episode's id (a lower-case UUID)")),
    responses(
        (status = 200, description = "The episode", body = EpisodeView),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The caller's role does not allow this on the show", body = ApiError),
        (status = 404, description = "No such episode (or not one the caller may see)", body = ApiError),
        (status = 409, description = "It conflicts with what is stored (the message says what)", body = ApiError),
        (status = 422, description = "A value breaks a rule (the message says which)", body = ApiError),
        (status = 429, description = "Over the write rate limit (`Retry-After`)", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
/// `DELETE /api/v1/episodes/{id}/withdrawal`: puts a withdrawn briefing back.
#[tracing::instrument(skip_all, fields(%id))]
async fn restore(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<EpisodeView>, AppError> {
    let episode = episodes::load(&state.ctx, &id).await?;
    caller.require(episode.show_id, Action::Publish)?;
    let episode = episodes::restore(&state.ctx, &caller.actor, episode).await?;
    Ok(Json(view(&state, episode, None).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewLink {
    #[schema(format = Uuid)]
    pub document_id: String,
    /// A moment of the recording, in milliseconds from its start.
    #[serde(default, deserialize_with = "crate::domain::whole::option_u64")]
    #[schema(maximum = 172_800_000)]
    pub at_ms: Option<u64>,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// Links a document to the episode, at a moment of the recording if `at_ms` is given.
#[utoipa::path(
    post,
    path = "/api/v1/episodes/{id}/documents",
    tag = "episodes",
    params(("id" = String, Path, description = "The episode's id (a lower-case UUID)")),
    request_body = NewLink,
    responses(
        (status = 201, description = "The link", body = LinkedDocument,
            links(
                ("delete_episodes_id_documents_link_id" = (operation_id = "delete_episodes_id_documents_link_id", parameters(("id" = "$request.path.id"), ("link_id" = "$response.body#/link_id")))),
            )
        ),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The caller's role does not allow this on the show", body = ApiError),
        (status = 404, description = "No such episode (or not one the caller may see)", body = ApiError),
        (status = 409, description = "It conflicts with what is stored (the message says what)", body = ApiError),
        (status = 413, description = "The body is over the JSON limit", body = ApiError),
        (status = 422, description = "A value breaks a rule (the message says which)", body = ApiError),
        (status = 429, description = "Over the write rate limit (`Retry-After`)", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(%id))]
async fn link_document(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(input): Json<NewLink>,
) -> Result<impl IntoResponse, AppError> {
    let episode = episodes::load(&state.ctx, &id).await?;
    caller.require(
        episode.show_id,
        Action::edit_episode(episode.status(Utc::now())),
    )?;
    let linked = episodes::link_document(
        &state.ctx,
        &caller.actor,
        &episode,
        &input.document_id,
        input.at_ms,
        input.note,
        Utc::now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json::<LinkedDocument>(linked)))
}

/// Removes a document's link from the episode.
#[utoipa::path(
    delete,
    path = "/api/v1/episodes/{id}/documents/{link_id}",
    tag = "episodes",
    params(("id" = String, Path, description = "The episode's id"), ("link_id" = String, Path, description = "The link's id")),
    responses(
        (status = 204, description = "Unlinked"),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The caller's role does not allow this on the show", body = ApiError),
        (status = 404, description = "No such episode (or not one the caller may see)", body = ApiError),
        (status = 409, description = "It conflicts with what is stored (the message says what)", body = ApiError),
        (status = 429, description = "Over the write rate limit (`Retry-After`)", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(%id, %link_id))]
async fn unlink_document(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, link_id)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let episode = episodes::load(&state.ctx, &id).await?;
    caller.require(
        episode.show_id,
        Action::edit_episode(episode.status(Utc::now())),
    )?;
    episodes::unlink_document(&state.ctx, &caller.actor, &episode, &link_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
