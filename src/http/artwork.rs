//! Show covers: `PUT /api/v1/shows/{slug}/artwork` (the image as the body) checks Apple's rules
//! (a square JPEG or PNG, 1400 to 3000 pixels) from the image's header and stores it;
//! `GET /artwork/{show}/{file}` serves it. A new cover is a new file name, so covers are cached
//! for a year, and the old object is deleted once the show points at the new one.

use axum::{
    Router,
    body::Body,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, put},
};
use chrono::Utc;

use super::{Json, SmallBody, auth::Admin, or_not_found, parse_id, shows::ShowView};
use crate::{
    app::AppState,
    domain::ShowId,
    http::error::AppError,
    service::{self, shows::COVER_MAX_BYTES},
    storage::ObjectKey,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/shows/{slug}/artwork", put(upload))
        .route("/artwork/{show}/{file}", get(serve))
}

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
    let bytes = state
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
            (
                header::CACHE_CONTROL,
                "public, max-age=31536000, immutable".to_owned(),
            ),
        ],
        Body::from_stream(bytes),
    )
        .into_response())
}
