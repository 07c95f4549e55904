//! Shows: `POST /api/v1/shows`, `GET /api/v1/shows`, `GET /api/v1/shows/{slug}`.

use axum::{
    Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::IntoResponse,
    routing::get,
};
use chrono::Utc;
use serde::Serialize;

use super::{Json, auth::Admin};
use crate::{
    app::AppState,
    domain::{NewShow, Show, ShowPatch, Urls, bounds::description_warnings},
    http::error::{AppError, UiLang, WarningView},
    service,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/shows", get(list).post(create))
        .route("/api/v1/shows/{slug}", get(show).patch(update))
}

/// A show as the API answers it: its fields and the URLs built from them.
#[derive(Debug, Serialize)]
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

#[derive(Debug, Serialize)]
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

#[tracing::instrument(skip_all, fields(%slug))]
async fn show(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<ShowView>, AppError> {
    let show = service::shows::load(&state.ctx, &slug).await?;
    Ok(Json(ShowView::new(show, &state.ctx.urls)))
}
