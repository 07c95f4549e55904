//! `GET /studio`: the signed-in user's start page, the shows it may touch with their public
//! addresses. (The dashboard proper — episodes by state, the review queue, uploads in
//! progress — builds on this page.)

use axum::{Router, extract::State, http::StatusCode, response::Response, routing::get};

use super::{PageError, StudioUser, page};
use crate::{
    app::AppState,
    http::templates::studio::{self as view, ShowLine},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/studio", get(dashboard))
}

#[tracing::instrument(skip_all)]
async fn dashboard(State(state): State<AppState>, user: StudioUser) -> Result<Response, PageError> {
    let shows = state
        .ctx
        .db
        .list_shows()
        .await
        .map_err(|e| PageError::op(user.lang, e.into()))?;
    let urls = &state.ctx.urls;
    let lines: Vec<ShowLine<'_>> = shows
        .iter()
        .filter_map(|show| {
            Some(ShowLine {
                role: user.access.role_on(show.id)?,
                page_url: urls.show_page(&show.slug),
                feed_url: urls.feed(&show.slug),
                show,
            })
        })
        .collect();
    Ok(page(
        &state,
        StatusCode::OK,
        user.lang,
        view::dashboard(&user.chrome(), &lines),
    ))
}
