//! `GET /feeds/{slug}.xml`: a show's RSS feed, with validators and 304s.
//!
//! A scheduled episode appears once its time has come with no further request: the feed is
//! rendered from the database at request time, filtered by `publish_at <= now`.

use axum::{
    Router,
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::Response,
    routing::get,
};
use chrono::Utc;
use sha2::{Digest as _, Sha256};

use super::{
    cache::{ETag, http_date, not_modified},
    shows::load_show,
};
use crate::{app::AppState, error::AppError, feed};

pub fn router() -> Router<AppState> {
    Router::new().route("/feeds/{file}", get(show_feed))
}

/// Podcast apps poll often; five minutes keeps them close to a publish without a stampede.
const FEED_CACHE: &str = "public, max-age=300";

#[tracing::instrument(skip_all, fields(%file))]
async fn show_feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let slug = file
        .strip_suffix(".xml")
        .ok_or(AppError::NotFound { what: "show" })?;
    let show = load_show(&state, slug).await?;
    let now = Utc::now();
    let items = state.db.published_episodes(show.id, now).await?;
    let feed::Feed { xml, last_modified } = feed::build(&show, &items, &state.urls, now);
    let etag = ETag::strong(&hex::encode(&Sha256::digest(xml.as_bytes())[..16]));

    let res = Response::builder()
        .header(header::ETAG, etag.header_value())
        .header(header::LAST_MODIFIED, http_date(last_modified))
        .header(header::CACHE_CONTROL, FEED_CACHE)
        .header(header::VARY, "Accept-Encoding");
    let res = if not_modified(&headers, &etag, last_modified) {
        res.status(StatusCode::NOT_MODIFIED).body(Body::empty())
    } else {
        res.header(header::CONTENT_TYPE, "application/rss+xml; charset=utf-8")
            .body(Body::from(xml))
    };
    Ok(res.map_err(anyhow::Error::from)?)
}
