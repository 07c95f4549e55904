//! `GET /studio`: the signed-in user's start page. The shows it may touch (its role, the
//! editors' review queue, a link to a new episode, the public addresses), and one show's
//! episodes in one state — draft, in review, scheduled, published, withdrawn —, searched by
//! title, a page at a time: `?show=SLUG&state=in_review&q=rapat&page=2`. The page and the
//! counts are read in SQL (`Db::episode_page`, `Db::episode_counts`): a show of 10,000
//! episodes is never loaded whole.

use axum::{
    Router,
    extract::{RawQuery, State},
    http::StatusCode,
    response::Response,
    routing::get,
};
use chrono::Utc;
use serde::Deserialize;

use super::{PageError, StudioUser, page};
use crate::{
    app::AppState,
    db::EpisodeFilter,
    domain::{EpisodeStatus, access::Action},
    http::templates::studio_episodes::{self as view, EpisodeList, ShowLine},
};

/// Episodes on a page of the dashboard.
pub const PER_PAGE: u32 = 25;
/// Uploads in progress listed on the dashboard, the latest first.
const UPLOADS_SHOWN: u32 = 10;

pub fn router() -> Router<AppState> {
    Router::new().route("/studio", get(dashboard))
}

/// The dashboard's query; whatever does not parse is left at its default.
#[derive(Debug, Default, Deserialize)]
struct DashboardQuery {
    show: Option<String>,
    state: Option<String>,
    q: Option<String>,
    page: Option<String>,
}

#[tracing::instrument(skip_all)]
async fn dashboard(
    State(state): State<AppState>,
    user: StudioUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let query: DashboardQuery = raw
        .as_deref()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    let lang = user.lang;
    let db = state.ctx.db.as_ref();
    let now = Utc::now();
    let failed = |e: crate::db::DbError| PageError::op(lang, e.into());
    let shows = db.list_shows().await.map_err(failed)?;
    let counts = db.episode_counts(now).await.map_err(failed)?;
    let urls = &state.ctx.urls;
    let lines: Vec<ShowLine<'_>> = shows
        .iter()
        .filter_map(|show| {
            Some(ShowLine {
                role: user.access.role_on(show.id)?,
                counts: counts.get(&show.id).copied().unwrap_or_default(),
                reviews: user.access.may(show.id, Action::Publish),
                creates: user.access.may(show.id, Action::EditDraft),
                manages: user.access.may(show.id, Action::ManageShows),
                reads_stats: user.access.may(show.id, Action::ReadUnpublished),
                page_url: urls.show_page(&show.slug),
                feed_url: urls.feed(&show.slug),
                show,
            })
        })
        .collect();
    let chosen = query
        .show
        .as_deref()
        .and_then(|slug| lines.iter().find(|l| l.show.slug.as_str() == slug))
        .or_else(|| lines.first());
    let search = query.q.as_deref().unwrap_or_default().trim();
    let page_no = query
        .page
        .as_deref()
        .and_then(|p| p.parse::<u64>().ok())
        .unwrap_or(1)
        .clamp(1, u64::from(u32::MAX));
    let status = query
        .state
        .as_deref()
        .and_then(view::parse_state)
        .unwrap_or(EpisodeStatus::Draft);
    let found = match chosen {
        Some(line) => Some((
            line,
            db.episode_page(&EpisodeFilter {
                show: line.show.id,
                status,
                title: Some(search.to_owned()).filter(|s| !s.is_empty()),
                now,
                limit: PER_PAGE,
                offset: (page_no - 1) * u64::from(PER_PAGE),
            })
            .await
            .map_err(failed)?,
        )),
        None => None,
    };
    let uploads = db
        .uploads_in_progress(user.user.id, now, UPLOADS_SHOWN)
        .await
        .map_err(failed)?;
    let list = found.as_ref().map(|(line, found)| EpisodeList {
        show: line.show,
        counts: line.counts,
        state: status,
        query: search,
        page: page_no,
        pages: found.total.div_ceil(u64::from(PER_PAGE)),
        total: found.total,
        episodes: &found.episodes,
        now,
    });
    Ok(page(
        &state,
        StatusCode::OK,
        lang,
        view::dashboard(&user.chrome(), &lines, &uploads, list.as_ref()),
    ))
}
