//! What an episode carries besides its recording, for `podcast:transcript`, `podcast:chapters`
//! and `podcast:alternateEnclosure`:
//!
//! - `PUT`/`DELETE /api/v1/episodes/{id}/transcripts/{language}`: a WebVTT or SRT file as the
//!   body, checked cue by cue against the recording; served at
//!   `/transcripts/{episode}/{language}.{vtt|srt}`.
//! - `PUT`/`DELETE /api/v1/episodes/{id}/chapters`: JSON chapters; served at
//!   `/chapters/{episode}.json`. Without an upload, that URL serves chapters built from the
//!   moments at which the episode's documents are discussed.
//! - `POST /api/v1/episodes/{id}/renditions` (`{"media_id", "title"}`) and
//!   `DELETE /api/v1/episodes/{id}/renditions/{media_id}`: another rendition of the recording
//!   (the audio of a video briefing, a smaller video), uploaded first to `/api/v1/media`.
//!
//! Files are small and read whole (bounded by the route's body limit); `service::episode_files`
//! checks and stores them.

use axum::{
    Router,
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    Json, SmallBody,
    auth::Caller,
    conditional::{ETag, none_match},
    openapi::{ApiError, Unavailable},
    or_not_found, parse_id,
};
use crate::{
    app::{App, AppState},
    domain::{
        Enclosure, Episode, EpisodeExtras, EpisodeFile, EpisodeId, EpisodeStatus, Lang, MediaId,
        Urls,
        access::Action,
        chapters::{self, Moment},
        parse_lang,
        transcript::TranscriptFormat,
    },
    http::error::AppError,
    service::{
        episode_files::{self as files, MAX_CHAPTERS_BYTES, MAX_TRANSCRIPT_BYTES, extras_of},
        episodes::load,
    },
};
/// Transcripts and chapters can be corrected: apps and browsers check back after five minutes.
const CACHE_CONTROL: &str = "public, max-age=300";

pub fn router() -> Router<AppState> {
    Router::from(api())
        .route("/transcripts/{episode}/{file}", get(serve_transcript))
        .route("/chapters/{file}", get(serve_chapters))
}

/// The routes and their operations in the API's document (`http::openapi`).
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_transcript, delete_transcript))
        .routes(routes!(put_chapters, delete_chapters))
        .routes(routes!(add_rendition))
        .routes(routes!(remove_rendition))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TranscriptView {
    pub language: Lang,
    pub format: TranscriptFormat,
    pub mime_type: String,
    pub url: String,
    pub size_bytes: u64,
    pub sha256: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RenditionView {
    pub media_id: MediaId,
    pub title: String,
    pub url: String,
    pub mime_type: String,
    pub size_bytes: u64,
    pub duration_ms: u64,
    pub bit_rate: Option<u64>,
    pub height: Option<u32>,
    pub sha256: String,
}

/// The extras of an episode as the API shows them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExtrasView {
    pub transcripts: Vec<TranscriptView>,
    /// Set when the episode has chapters, uploaded (`chapters_source: "uploaded"`) or built from
    /// its documents' moments (`"documents"`).
    pub chapters_url: Option<String>,
    pub chapters_source: Option<&'static str>,
    pub renditions: Vec<RenditionView>,
}

impl ExtrasView {
    pub fn new(episode: EpisodeId, extras: &EpisodeExtras, urls: &Urls) -> Self {
        ExtrasView {
            transcripts: extras
                .transcripts()
                .filter_map(|f| transcript_view(f, urls))
                .collect(),
            chapters_url: extras.has_chapters().then(|| urls.chapters(episode)),
            chapters_source: if extras.uploaded_chapters().is_some() {
                Some("uploaded")
            } else if extras.placed_documents > 0 {
                Some("documents")
            } else {
                None
            },
            renditions: extras
                .renditions
                .iter()
                .map(|r| {
                    // What the feed's alternateEnclosure says of it, picked out in one place.
                    let e = Enclosure::from(&r.media);
                    RenditionView {
                        media_id: e.id,
                        title: r.display_title(),
                        url: urls.media(e.id, &e.extension),
                        mime_type: e.mime_type,
                        size_bytes: e.size_bytes,
                        duration_ms: e.duration_ms,
                        bit_rate: e.bit_rate,
                        height: e.video_height,
                        sha256: e.sha256,
                    }
                })
                .collect(),
        }
    }
}

fn transcript_view(file: &EpisodeFile, urls: &Urls) -> Option<TranscriptView> {
    let format = file.transcript_format()?;
    let language = file.language.clone()?;
    Some(TranscriptView {
        url: urls.transcript(file.episode_id, &language, format.extension()),
        language,
        format,
        mime_type: file.mime_type.clone(),
        size_bytes: file.size_bytes,
        sha256: file.sha256.clone(),
    })
}

/// Stores the episode's transcript in a language (WebVTT or SRT, the body), checked cue by cue against the recording.
#[utoipa::path(
    put,
    path = "/api/v1/episodes/{id}/transcripts/{language}",
    tag = "episode files",
    params(("id" = String, Path, description = "The episode's id (a lower-case UUID)"), ("language" = String, Path, description = "The transcript's language tag (`id`, `en`, `jv`…)", pattern = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")),
    request_body(content = String, content_type = "text/vtt", description = "WebVTT or SRT"),
    responses(
        (status = 200, description = "The transcript as stored", body = TranscriptView),
        (status = 400, description = "The request is malformed (the message says how)", body = ApiError),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The caller's role does not allow this", body = ApiError),
        (status = 404, description = "Not found (or not one the caller may see)", body = ApiError),
        (status = 409, description = "It conflicts with what is stored (the message says what)", body = ApiError),
        (status = 413, description = "The body is over the limit", body = ApiError),
        (status = 415, description = "Neither WebVTT nor SRT", body = ApiError),
        (status = 422, description = "A cue breaks a rule (the message names the line), or the language is not a tag", body = ApiError),
        (status = 429, description = "Over the rate limit (`Retry-After`)", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(%id, %language))]
async fn put_transcript(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, language)): Path<(String, String)>,
    SmallBody(body): SmallBody<MAX_TRANSCRIPT_BYTES>,
) -> Result<impl IntoResponse, AppError> {
    let episode = load(&state.ctx, &id).await?;
    caller.require(
        episode.show_id,
        Action::edit_episode(episode.status(Utc::now())),
    )?;
    let language = parse_lang(&language)?;
    let file = files::set_transcript(&state.ctx, &caller.actor, &episode, language, body).await?;
    let view = transcript_view(&file, &state.ctx.urls)
        .ok_or_else(|| anyhow::anyhow!("a stored transcript has no format"))?;
    Ok((StatusCode::OK, Json(view)))
}

/// Stores the episode's chapters (Podcasting 2.0 JSON chapters, the body).
#[utoipa::path(
    put,
    path = "/api/v1/episodes/{id}/chapters",
    tag = "episode files",
    params(("id" = String, Path, description = "The episode's id (a lower-case UUID)")),
    request_body(content = chapters::Chapters, content_type = "application/json"),
    responses(
        (status = 200, description = "The chapters as stored", body = chapters::Chapters),
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
async fn put_chapters(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    SmallBody(body): SmallBody<MAX_CHAPTERS_BYTES>,
) -> Result<impl IntoResponse, AppError> {
    let episode = load(&state.ctx, &id).await?;
    caller.require(
        episode.show_id,
        Action::edit_episode(episode.status(Utc::now())),
    )?;
    let parsed = files::set_chapters(&state.ctx, &caller.actor, &episode, body).await?;
    Ok((StatusCode::OK, Json(parsed)))
}

/// Removes the episode's transcript in a language.
#[utoipa::path(
    delete,
    path = "/api/v1/episodes/{id}/transcripts/{language}",
    tag = "episode files",
    params(("id" = String, Path, description = "The episode's id (a lower-case UUID)"), ("language" = String, Path, description = "The transcript's language tag (`id`, `en`, `jv`…)", pattern = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The caller's role does not allow this", body = ApiError),
        (status = 404, description = "Not found (or not one the caller may see)", body = ApiError),
        (status = 409, description = "It conflicts with what is stored (the message says what)", body = ApiError),
        (status = 422, description = "A value breaks a rule (the message says which)", body = ApiError),
        (status = 429, description = "Over the rate limit (`Retry-After`)", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(%id, %language))]
async fn delete_transcript(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, language)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let episode = load(&state.ctx, &id).await?;
    caller.require(
        episode.show_id,
        Action::edit_episode(episode.status(Utc::now())),
    )?;
    let language = parse_lang(&language)?;
    files::remove_transcript(&state.ctx, &caller.actor, &episode, &language).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes the episode's uploaded chapters (those built from its documents stay).
#[utoipa::path(
    delete,
    path = "/api/v1/episodes/{id}/chapters",
    tag = "episode files",
    params(("id" = String, Path, description = "The episode's id (a lower-case UUID)")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The caller's role does not allow this", body = ApiError),
        (status = 404, description = "Not found (or not one the caller may see)", body = ApiError),
        (status = 409, description = "It conflicts with what is stored (the message says what)", body = ApiError),
        (status = 429, description = "Over the rate limit (`Retry-After`)", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(%id))]
async fn delete_chapters(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let episode = load(&state.ctx, &id).await?;
    caller.require(
        episode.show_id,
        Action::edit_episode(episode.status(Utc::now())),
    )?;
    files::remove_chapters(&state.ctx, &caller.actor, &episode).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewRendition {
    pub media_id: String,
    #[serde(default)]
    pub title: Option<String>,
}

/// Adds another rendition of the recording, a media file uploaded first (`POST /api/v1/media`).
#[utoipa::path(
    post,
    path = "/api/v1/episodes/{id}/renditions",
    tag = "episode files",
    params(("id" = String, Path, description = "The episode's id (a lower-case UUID)")),
    request_body = NewRendition,
    responses(
        (status = 201, description = "The rendition", body = RenditionView),
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
async fn add_rendition(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(input): Json<NewRendition>,
) -> Result<impl IntoResponse, AppError> {
    let episode = load(&state.ctx, &id).await?;
    caller.require(
        episode.show_id,
        Action::edit_episode(episode.status(Utc::now())),
    )?;
    let media_id = files::add_rendition(
        &state.ctx,
        &caller.actor,
        &episode,
        &input.media_id,
        input.title.as_deref(),
    )
    .await?;
    let extras = extras_of(&state.ctx, &episode).await?;
    let view = ExtrasView::new(episode.id, &extras, &state.ctx.urls)
        .renditions
        .into_iter()
        .find(|r| r.media_id == media_id)
        .ok_or_else(|| anyhow::anyhow!("the rendition just added is not there"))?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Removes a rendition.
#[utoipa::path(
    delete,
    path = "/api/v1/episodes/{id}/renditions/{media_id}",
    tag = "episode files",
    params(("id" = String, Path, description = "The episode's id (a lower-case UUID)"), ("media_id" = String, Path, description = "The rendition's media id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The caller's role does not allow this", body = ApiError),
        (status = 404, description = "Not found (or not one the caller may see)", body = ApiError),
        (status = 409, description = "It conflicts with what is stored (the message says what)", body = ApiError),
        (status = 429, description = "Over the rate limit (`Retry-After`)", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(%id, %media_id))]
async fn remove_rendition(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, media_id)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let episode = load(&state.ctx, &id).await?;
    caller.require(
        episode.show_id,
        Action::edit_episode(episode.status(Utc::now())),
    )?;
    files::remove_rendition(&state.ctx, &caller.actor, &episode, &media_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A published episode, for the public addresses: drafts and scheduled ones do not exist yet.
async fn published(app: &App, raw_id: &str, what: &'static str) -> Result<Episode, AppError> {
    let id: EpisodeId = parse_id(what, raw_id)?;
    let episode = app.ctx.db.episode(id).await.map_err(or_not_found(what))?;
    if episode.status(Utc::now()) != EpisodeStatus::Published {
        return Err(AppError::not_found(what));
    }
    Ok(episode)
}

#[tracing::instrument(skip_all, fields(%episode, %file))]
async fn serve_transcript(
    State(state): State<AppState>,
    Path((episode, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    const WHAT: &str = "transcript";
    let episode = published(&state, &episode, WHAT).await?;
    let (language, extension) = file.rsplit_once('.').ok_or(AppError::not_found(WHAT))?;
    let extras = extras_of(&state.ctx, &episode).await?;
    let found = extras
        .transcripts()
        .find(|f| {
            f.language.as_ref().is_some_and(|l| l.as_str() == language)
                && f.transcript_format()
                    .is_some_and(|t| t.extension() == extension)
        })
        .ok_or(AppError::not_found(WHAT))?;
    let content_type = format!("{}; charset=utf-8", found.mime_type);
    stream_file(&state, found, &content_type, &headers).await
}

#[tracing::instrument(skip_all, fields(%file))]
async fn serve_chapters(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    const WHAT: &str = "chapters";
    let id = file
        .strip_suffix(".json")
        .ok_or(AppError::not_found(WHAT))?;
    let episode = published(&state, id, WHAT).await?;
    let extras = extras_of(&state.ctx, &episode).await?;
    if let Some(uploaded) = extras.uploaded_chapters() {
        return stream_file(&state, uploaded, chapters::MIME_TYPE, &headers).await;
    }
    let moments: Vec<Moment> = state
        .ctx
        .db
        .episode_documents(episode.id)
        .await?
        .into_iter()
        .filter_map(|linked| {
            let d = linked.document;
            Some(Moment {
                at_ms: linked.at_ms?,
                title: match &d.number {
                    Some(number) => format!("{number}: {}", d.title),
                    None => d.title,
                },
                url: d.url,
            })
        })
        .collect();
    let built =
        chapters::from_moments(&episode.title, &moments).ok_or(AppError::not_found(WHAT))?;
    let body = serde_json::to_vec_pretty(&built).map_err(anyhow::Error::from)?;
    let etag = ETag::strong(&hex::encode(&Sha256::digest(&body)[..16]));
    Ok(respond(
        &headers,
        &etag,
        chapters::MIME_TYPE,
        body.len() as u64,
        || Body::from(body),
    ))
}

/// Streams a stored episode file, or 304 when the client holds it already.
async fn stream_file(
    app: &App,
    file: &EpisodeFile,
    content_type: &str,
    headers: &HeaderMap,
) -> Result<Response, AppError> {
    let etag = ETag::strong(&file.sha256);
    if none_match(headers, &etag) {
        return Ok(respond(
            headers,
            &etag,
            content_type,
            file.size_bytes,
            Body::empty,
        ));
    }
    let bytes = app.ctx.store.get(&file.key, None).await?;
    Ok(respond(
        headers,
        &etag,
        content_type,
        file.size_bytes,
        || Body::from_stream(bytes),
    ))
}

/// 200 with `body()`, or 304 when `If-None-Match` names `etag`. Readable from other sites'
/// players (`Access-Control-Allow-Origin: *`), as the namespace's transcript spec asks.
fn respond(
    headers: &HeaderMap,
    etag: &ETag,
    content_type: &str,
    length: u64,
    body: impl FnOnce() -> Body,
) -> Response {
    let not_modified = none_match(headers, etag);
    let mut res = if not_modified {
        Response::new(Body::empty())
    } else {
        Response::new(body())
    };
    let h = res.headers_mut();
    let value = |s: &str| HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static(""));
    h.insert(header::ETAG, etag.header_value());
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    if not_modified {
        *res.status_mut() = StatusCode::NOT_MODIFIED;
    } else {
        h.insert(header::CONTENT_TYPE, value(content_type));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    res
}
