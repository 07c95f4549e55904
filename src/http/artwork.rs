//! Covers. A show's: `PUT /api/v1/shows/{slug}/artwork` (the image as the body) checks Apple's
//! rules (a square JPEG or PNG, 1400 to 3000 pixels) from the image's header and stores it;
//! `GET /artwork/{show}/{file}` serves it. An episode's own, by the same rules:
//! `PUT /api/v1/episodes/{id}/artwork` (for whoever may change the episode) and
//! `GET /artwork/episodes/{id}/{file}`, answered once the episode is published (the studio shows
//! a draft's through its own route). A new cover is a new file name, so covers are cached for a
//! year, and the old object is deleted once the show or episode points at the new one.

use axum::{
    Router,
    body::Body,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use chrono::Utc;

use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    Json, SmallBody,
    auth::{Admin, Caller},
    episodes::EpisodeView,
    openapi::{ApiError, Binary, Unavailable},
    or_not_found, parse_id,
    shows::ShowView,
};
use crate::{
    app::{App, AppState},
    domain::{EpisodeId, EpisodeStatus, ShowArtwork, ShowId, access::Action},
    http::error::AppError,
    service::{self, shows::COVER_MAX_BYTES},
    storage::ObjectKey,
};

pub fn router() -> Router<AppState> {
    Router::from(api())
        .route("/artwork/{show}/{file}", get(serve))
        .route("/artwork/episodes/{id}/{file}", get(serve_episode))
}

/// The routes and their operations in the API's document (`http::openapi`).
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .routes(routes!(upload_episode))
}

/// What a cover upload (the show's or an episode's) answers when it does not set the cover.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
enum CoverRefusals {
    #[response(status = 400, description = "The body cannot be read")]
    Unreadable(ApiError),
    #[response(status = 401, description = "No token, or not a live one")]
    NoToken(ApiError),
    #[response(status = 403, description = "The caller's role does not allow this")]
    Forbidden(ApiError),
    #[response(
        status = 404,
        description = "Not found (or not one the caller may see)"
    )]
    NotFound(ApiError),
    #[response(status = 413, description = "The body is over the limit")]
    TooLarge(ApiError),
    #[response(status = 415, description = "Not a JPEG or PNG")]
    NotAnImage(ApiError),
    #[response(
        status = 422,
        description = "The image breaks Apple's rules (size, shape)"
    )]
    AgainstTheRules(ApiError),
    #[response(status = 429, description = "Over the rate limit (`Retry-After`)")]
    Limited(ApiError),
}

/// Sets the episode's own cover (the body), checked against Apple's rules.
#[utoipa::path(
    put,
    path = "/api/v1/episodes/{id}/artwork",
    tag = "artwork",
    params(("id" = String, Path, description = "The episode's id (a lower-case UUID)")),
    request_body(content = Binary, content_type = "image/jpeg", description = "A square JPEG or PNG of 1400 to 3000 pixels"),
    responses(
        (status = 200, description = "The episode with its cover", body = EpisodeView),
        CoverRefusals,
        Unavailable,
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(%id))]
async fn upload_episode(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    SmallBody(body): SmallBody<COVER_MAX_BYTES>,
) -> Result<Json<EpisodeView>, AppError> {
    let episode = service::episodes::load(&state.ctx, &id).await?;
    caller.require(
        episode.show_id,
        Action::edit_episode(episode.status(Utc::now())),
    )?;
    let episode =
        service::episodes::set_cover(&state.ctx, &caller.actor, episode, body, Utc::now()).await?;
    Ok(Json(EpisodeView::of(&state, episode).await?))
}

/// A published episode's own cover.
#[tracing::instrument(skip_all, fields(%id, %file))]
async fn serve_episode(
    State(state): State<AppState>,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let id: EpisodeId = parse_id("artwork", &id)?;
    let episode = state
        .ctx
        .db
        .episode(id)
        .await
        .map_err(or_not_found("artwork"))?;
    if episode.status(Utc::now()) != EpisodeStatus::Published {
        return Err(AppError::not_found("artwork"));
    }
    let artwork = episode
        .artwork
        .filter(|a| a.file_name() == file)
        .ok_or(AppError::not_found("artwork"))?;
    image_response(&state, &artwork, "public, max-age=31536000, immutable").await
}

/// A stored cover, streamed, with `cache_control`.
pub(crate) async fn image_response(
    app: &App,
    artwork: &ShowArtwork,
    cache_control: &str,
) -> Result<Response, AppError> {
    let bytes = app
        .ctx
        .store
        .get(&ObjectKey::from_stored(artwork.key.clone()), None)
        .await?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, artwork.mime_type.clone()),
            (header::CONTENT_LENGTH, artwork.size_bytes.to_string()),
            (header::ETAG, format!("\"{}\"", artwork.sha256)),
            (header::CACHE_CONTROL, cache_control.to_owned()),
        ],
        Body::from_stream(bytes),
    )
        .into_response())
}

/// Sets the show's cover (the body; admins only), checked against Apple's rules.
#[utoipa::path(
    put,
    path = "/api/v1/shows/{slug}/artwork",
    tag = "artwork",
    params(("slug" = String, Path, description = "The show's slug")),
    request_body(content = Binary, content_type = "image/jpeg", description = "A square JPEG or PNG of 1400 to 3000 pixels"),
    responses(
        (status = 200, description = "The show with its cover", body = ShowView),
        CoverRefusals,
        Unavailable,
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(%slug))]
async fn upload(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
    SmallBody(body): SmallBody<COVER_MAX_BYTES>,
) -> Result<Json<ShowView>, AppError> {
    let show = service::shows::load(&state.ctx, &slug).await?;
    let show = service::shows::set_cover(&state.ctx, &admin.actor, show, body, Utc::now()).await?;
    Ok(Json(ShowView::new(show, &state.ctx.urls)))
}

#[tracing::instrument(skip_all, fields(%show, %file))]
async fn serve(
    State(state): State<AppState>,
    Path((show, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let id: ShowId = parse_id("show", &show)?;
    let show = state
        .ctx
        .db
        .show(id)
        .await
        .map_err(or_not_found("artwork"))?;
    let artwork = show
        .artwork
        .filter(|a| a.file_name() == file)
        .ok_or(AppError::not_found("artwork"))?;
    image_response(&state, &artwork, "public, max-age=31536000, immutable").await
}
