//! `/studio/shows/{slug}/stats` and `/studio/episodes/{id}/stats` (issue 23), for whoever may
//! read the show's statistics (`Action::ReadUnpublished`, as `GET /api/v1/.../stats`): the
//! downloads of a period (`?from=&to=`, the last 30 days by default) per day as a chart, by app
//! and by country; `&format=csv` gives the API's CSV through the session. Both read
//! `service::stats`, as the API does.

use axum::{
    Router,
    extract::{Path, RawQuery, State},
    http::{HeaderValue, StatusCode, header},
    response::Response,
    routing::get,
};
use chrono::Utc;
use serde::Deserialize;

use super::{PageError, StudioUser, episodes, page};
use crate::{
    app::AppState,
    db::StatsScope,
    domain::{Episode, Show, access::Action},
    http::templates::{
        studio::msg,
        studio_stats::{self as view, Report, StatsPage},
    },
    service::{
        shows,
        stats::{self, Period},
    },
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/studio/shows/{slug}/stats", get(show_stats))
        .route("/studio/episodes/{id}/stats", get(episode_stats))
}

/// The page's query; a value that does not parse is refused on the page, the rest ignored.
#[derive(Debug, Default, Deserialize)]
struct StatsQuery {
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

fn query_of(raw: Option<&str>) -> StatsQuery {
    raw.and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default()
}

#[tracing::instrument(skip_all, fields(%slug))]
async fn show_stats(
    State(state): State<AppState>,
    user: StudioUser,
    Path(slug): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let show = shows::load(&state.ctx, &slug)
        .await
        .map_err(|e| PageError::op(user.lang, e))?;
    user.require(show.id, Action::ReadUnpublished)?;
    let scope = StatsScope::Show(show.id);
    render(&state, &user, &show, None, scope, &query_of(raw.as_deref())).await
}

#[tracing::instrument(skip_all, fields(%id))]
async fn episode_stats(
    State(state): State<AppState>,
    user: StudioUser,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let (episode, show) = episodes::load(&state, &user, &id).await?;
    let scope = StatsScope::Episode(episode.id);
    let query = query_of(raw.as_deref());
    render(&state, &user, &show, Some(&episode), scope, &query).await
}

async fn render(
    state: &AppState,
    user: &StudioUser,
    show: &Show,
    episode: Option<&Episode>,
    scope: StatsScope,
    query: &StatsQuery,
) -> Result<Response, PageError> {
    let lang = user.lang;
    let csv = query.format.as_deref() == Some("csv");
    let frame = |from: &str, to: &str| StatsPage {
        show,
        episode,
        path: &user.path,
        from: from.to_owned(),
        to: to.to_owned(),
        error: None,
        report: None,
    };
    let period = match Period::parse(query.from.as_deref(), query.to.as_deref(), Utc::now()) {
        Ok(period) => period,
        Err(r) if csv => return Err(PageError::bad_form(lang, r.msg)),
        // The form again, with what was asked and why it was refused.
        Err(r) => {
            let asked = |v: &Option<String>| v.clone().unwrap_or_default();
            let shown = StatsPage {
                error: Some(msg(lang, &r.msg).to_owned()),
                ..frame(&asked(&query.from), &asked(&query.to))
            };
            let markup = view::stats(&user.chrome(), &shown);
            return Ok(page(state, StatusCode::BAD_REQUEST, lang, markup));
        }
    };
    let stats = stats::report(&state.ctx, scope, period)
        .await
        .map_err(|e| PageError::op(lang, e))?;
    if csv {
        let body = stats::csv(period, &stats).map_err(|e| PageError::op(lang, e))?;
        let mut res = crate::http::stats::csv_response(body);
        // One person's figures, read through their session.
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return Ok(res);
    }
    let days = stats::per_day(period, &stats);
    let shown = StatsPage {
        report: Some(Report {
            period,
            stats: &stats,
            days: &days,
        }),
        ..frame(&period.from.to_string(), &period.to.to_string())
    };
    Ok(page(
        state,
        StatusCode::OK,
        lang,
        view::stats(&user.chrome(), &shown),
    ))
}
