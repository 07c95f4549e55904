//! Shows: `POST /api/v1/shows`, `GET /api/v1/shows`, `GET /api/v1/shows/{slug}`.

use axum::{
    Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::IntoResponse,
};
use chrono::Utc;
use serde::Serialize;

use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    Json,
    auth::Admin,
    openapi::{ApiError, Unavailable},
};
use crate::{
    app::AppState,
    domain::{NewShow, Show, ShowPatch, Urls, bounds::description_warnings},
    http::error::{AppError, UiLang, WarningView},
    service,
};

pub fn router() -> Router<AppState> {
    api().into()
}

/// The routes and their operations in the API's document (`http::openapi`).
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update))
}

/// A show as the API answers it: its fields and the URLs built from them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ShowView {
    #[serde(flatten)]
    pub show: Show,
    pub feed_url: String,
    pub url: String,
    /// `null` until a cover is uploaded (`PUT /api/v1/shows/{slug}/artwork`).
    pub artwork: Option<ArtworkView>,
    /// Beside a show just written: what its values may cost elsewhere (a description longer
    /// than Apple shows).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<WarningView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ArtworkView {
    pub url: String,
    pub mime_type: String,
    pub width: u32,
    pub height: u32,
    pub size_bytes: u64,
    pub sha256: String,
}

impl ShowView {
    pub fn new(show: Show, urls: &Urls) -> Self {
        ShowView {
            feed_url: urls.feed(&show.slug),
            url: urls.show_page(&show.slug),
            artwork: show.artwork.as_ref().map(|a| ArtworkView {
                url: urls.artwork(show.id, a),
                mime_type: a.mime_type.clone(),
                width: a.width,
                height: a.height,
                size_bytes: a.size_bytes,
                sha256: a.sha256.clone(),
            }),
            show,
            warnings: Vec::new(),
        }
    }

    /// The view of a show just written, with its warnings in the request's language.
    fn written(show: Show, urls: &Urls, headers: &HeaderMap) -> Self {
        let warnings = description_warnings(&show.description);
        ShowView {
            warnings: WarningView::all(warnings, UiLang::from_headers(headers)),
            ..ShowView::new(show, urls)
        }
    }
}

/// Creates a show (admins only).
#[utoipa::path(
    post,
    path = "/api/v1/shows",
    tag = "shows",
    request_body = NewShow,
    responses(
        (status = 201, description = "The show, created", body = ShowView,
            headers(("Location" = String, description = "The show's address in the API")),
            links(
                ("get_shows_slug" = (operation_id = "get_shows_slug", parameters(("slug" = "$response.body#/slug")))),
                ("patch_shows_slug" = (operation_id = "patch_shows_slug", parameters(("slug" = "$response.body#/slug")))),
                ("post_shows_slug_episodes" = (operation_id = "post_shows_slug_episodes", parameters(("slug" = "$response.body#/slug")))),
                ("get_shows_slug_history" = (operation_id = "get_shows_slug_history", parameters(("slug" = "$response.body#/slug")))),
                ("put_shows_slug_artwork" = (operation_id = "put_shows_slug_artwork", parameters(("slug" = "$response.body#/slug")))),
            )),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The token's role does not manage shows", body = ApiError),
        (status = 409, description = "The slug is taken", body = ApiError),
        (status = 413, description = "The body is over the JSON limit", body = ApiError),
        (status = 422, description = "A value breaks a rule (the message says which)", body = ApiError),
        (status = 429, description = "Over the write rate limit (`Retry-After`)", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all)]
async fn create(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
    Json(input): Json<NewShow>,
) -> Result<impl IntoResponse, AppError> {
    let show = input.parse(&state.ctx.urls, Utc::now())?;
    let show = service::shows::create(&state.ctx, &admin.actor, show, None).await?;
    let location = format!("/api/v1/shows/{}", show.slug);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(ShowView::written(show, &state.ctx.urls, &headers)),
    ))
}

/// Changes the fields given (admins only); a new slug keeps the old feed URL answering 301.
#[utoipa::path(
    patch,
    path = "/api/v1/shows/{slug}",
    tag = "shows",
    params(("slug" = String, Path, description = "The show's slug")),
    request_body = ShowPatch,
    responses(
        (status = 200, description = "The show, changed", body = ShowView),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The token's role does not manage shows", body = ApiError),
        (status = 404, description = "No such show", body = ApiError),
        (status = 409, description = "The new slug is taken", body = ApiError),
        (status = 413, description = "The body is over the JSON limit", body = ApiError),
        (status = 422, description = "A value breaks a rule (the message says which)", body = ApiError),
        (status = 429, description = "Over the write rate limit (`Retry-After`)", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(%slug))]
async fn update(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
    headers: HeaderMap,
    Json(patch): Json<ShowPatch>,
) -> Result<Json<ShowView>, AppError> {
    let old = service::shows::load(&state.ctx, &slug).await?;
    let show = service::shows::update(&state.ctx, &admin.actor, old, patch).await?;
    Ok(Json(ShowView::written(show, &state.ctx.urls, &headers)))
}

/// Every show, public.
#[utoipa::path(
    get,
    path = "/api/v1/shows",
    tag = "shows",
    responses(
        (status = 200, description = "The shows", body = Vec<ShowView>),
        Unavailable,
    )
)]
#[tracing::instrument(skip_all)]
async fn list(State(state): State<AppState>) -> Result<Json<Vec<ShowView>>, AppError> {
    let shows = state.ctx.db.list_shows().await?;
    Ok(Json(
        shows
            .into_iter()
            .map(|s| ShowView::new(s, &state.ctx.urls))
            .collect(),
    ))
}

/// One show, public.
#[utoipa::path(
    get,
    path = "/api/v1/shows/{slug}",
    tag = "shows",
    params(("slug" = String, Path, description = "The show's slug")),
    responses(
        (status = 200, description = "The show", body = ShowView),
        (status = 404, description = "No such show", body = ApiError),
        Unavailable,
    )
)]
#[tracing::instrument(skip_all, fields(%slug))]
async fn show(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<ShowView>, AppError> {
    let show = service::shows::load(&state.ctx, &slug).await?;
    Ok(Json(ShowView::new(show, &state.ctx.urls)))
}
