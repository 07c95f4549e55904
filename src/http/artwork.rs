//! Show covers: `PUT /api/v1/shows/{slug}/artwork` (the image as the body) checks Apple's rules
//! (a square JPEG or PNG, 1400 to 3000 pixels) from the image's header and stores it;
//! `GET /artwork/{show}/{file}` serves it. A new cover is a new file name, so covers are cached
//! for a year, and the old object is deleted once the show points at the new one.

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{DefaultBodyLimit, Path, State, rejection::BytesRejection},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, put},
};
use chrono::{DateTime, Utc};
use futures_util::stream;
use sha2::{Digest as _, Sha256};

use super::{
    Json,
    auth::Admin,
    or_not_found, parse_id,
    shows::{ShowView, load_show},
};
use crate::{
    app::{App, AppState},
    domain::{Show, ShowArtwork, ShowId},
    error::AppError,
    media::probe::image_header,
    storage::{ByteStream, ObjectKey, StoreError},
};

/// Apple's bounds for `itunes:image`, in pixels.
pub const MIN_SIDE: u32 = 1400;
pub const MAX_SIDE: u32 = 3000;
/// A 3000-pixel JPEG of a photo is a few megabytes; anything far above is not a cover.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/shows/{slug}/artwork",
            put(upload).layer(DefaultBodyLimit::max(MAX_BYTES)),
        )
        .route("/artwork/{show}/{file}", get(serve))
}

/// Checks `bytes` against Apple's rules; every refusal names the rule in both languages.
pub fn check(bytes: &[u8]) -> Result<(&'static str, u32, u32), AppError> {
    let header = image_header(bytes)
        .filter(|h| matches!(h.mime_type, "image/jpeg" | "image/png"))
        .ok_or_else(|| AppError::UnsupportedType {
            code: "unsupported-artwork",
            msg: crate::error::Msg::new(
                "Sampul harus gambar JPEG atau PNG",
                "The cover must be a JPEG or PNG image",
            ),
        })?;
    let (Some(width), Some(height)) = (header.width, header.height) else {
        return Err(AppError::invalid(
            "invalid-artwork",
            "Ukuran gambar sampul tidak terbaca",
            "The cover image's size cannot be read",
        ));
    };
    if width != height || !(MIN_SIDE..=MAX_SIDE).contains(&width) {
        return Err(AppError::invalid(
            "invalid-artwork-size",
            format!(
                "Sampul harus persegi, {MIN_SIDE}–{MAX_SIDE} piksel (syarat Apple Podcasts); \
                 gambar ini {width}×{height}"
            ),
            format!(
                "The cover must be square, {MIN_SIDE}–{MAX_SIDE} pixels (Apple Podcasts' rule); \
                 this image is {width}×{height}"
            ),
        ));
    }
    Ok((header.mime_type, width, height))
}

#[tracing::instrument(skip_all, fields(%slug))]
async fn upload(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ShowView>, AppError> {
    let body = super::small_body(body, MAX_BYTES)?;
    let show = load_show(&state, &slug).await?;
    let before = show.artwork.as_ref().map(|a| a.sha256.clone());
    let show = set_cover(&state, show, body, Utc::now()).await?;
    let after = show.artwork.as_ref().map(|a| a.sha256.clone());
    if before != after {
        crate::audit::record(
            &state,
            crate::audit::AuditEntry::new(
                crate::audit::Entity::Show,
                show.id,
                "artwork-set",
                &admin.actor,
            )
            .with_changes(serde_json::json!({"artwork_sha256": {"from": before, "to": after}})),
        )
        .await;
    }
    Ok(Json(ShowView::new(show, &state.urls)))
}

/// Checks `image` and makes it `show`'s cover: the object first, then the row, then the old
/// object goes. On any failure nothing new is left behind.
pub async fn set_cover(
    app: &App,
    show: Show,
    image: Bytes,
    now: DateTime<Utc>,
) -> Result<Show, AppError> {
    let (mime_type, width, height) = check(&image)?;
    let sha256 = hex::encode(Sha256::digest(&image));
    let extension = if mime_type == "image/png" {
        "png"
    } else {
        "jpg"
    };
    let key = ObjectKey::for_artwork(show.id.0, &sha256, extension);
    let artwork = ShowArtwork {
        key: key.as_str().to_owned(),
        mime_type: mime_type.to_owned(),
        width,
        height,
        size_bytes: image.len() as u64,
        sha256,
    };
    if show.artwork.as_ref().is_some_and(|a| a.key == artwork.key) {
        // The same image again: nothing to store.
        return Ok(show);
    }
    let chunks: ByteStream = Box::pin(stream::iter([Ok::<_, std::io::Error>(image)]));
    match app.store.put(&key, mime_type, chunks).await {
        // The key is named by the content: another request stored these very bytes already.
        Ok(_) | Err(StoreError::AlreadyExists(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let (show, replaced) = match app.db.set_show_artwork(show.id, &artwork, now).await {
        Ok(done) => done,
        Err(e) => {
            // No row points at the new object: take it back.
            if let Err(del) = app.store.delete(&key).await {
                tracing::warn!(error = %del, %key, "orphaned cover not deleted");
            }
            return Err(e.into());
        }
    };
    app.feeds.changed(show.id).await;
    if let Some(old) = replaced.filter(|old| old.key != artwork.key) {
        let old = ObjectKey::from_stored(old.key);
        if let Err(e) = app.store.delete(&old).await {
            tracing::warn!(error = %e, key = %old, "replaced cover not deleted");
        }
    }
    Ok(show)
}

#[tracing::instrument(skip_all, fields(%show, %file))]
async fn serve(
    State(state): State<AppState>,
    Path((show, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let id: ShowId = parse_id("show", &show)?;
    let show = state.db.show(id).await.map_err(or_not_found("artwork"))?;
    let artwork = show
        .artwork
        .filter(|a| a.file_name() == file)
        .ok_or(AppError::NotFound { what: "artwork" })?;
    let bytes = state
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
