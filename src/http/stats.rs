//! Download reports: `GET /api/v1/episodes/{id}/stats` and `GET /api/v1/shows/{slug}/stats`,
//! as JSON or, with `?format=csv`, as CSV for a spreadsheet. For the show's team only.

use axum::{
    Router,
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Response},
    routing::get,
};
use chrono::{Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{Json, auth::Caller, or_not_found, parse_id, query::Query};
use crate::{
    analytics,
    app::AppState,
    db::{DownloadStats, StatsScope},
    domain::{EpisodeId, access::Action},
    http::error::AppError,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/episodes/{id}/stats", get(episode_stats))
        .route("/api/v1/shows/{slug}/stats", get(show_stats))
}

#[derive(Debug, Deserialize)]
struct StatsQuery {
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

/// A report covers at most this many days.
const MAX_DAYS: u64 = 366;
/// Without `from`, the last 30 days.
const DEFAULT_DAYS: u64 = 29;

#[derive(Debug, Serialize)]
struct StatsView {
    from: NaiveDate,
    to: NaiveDate,
    /// How downloads are counted, for whoever reads the report.
    method: &'static str,
    total: u64,
    by_day: Vec<DayCount>,
    by_app: Vec<AppCount>,
    by_country: Vec<CountryCount>,
}

#[derive(Debug, Serialize)]
struct DayCount {
    day: NaiveDate,
    downloads: u64,
}

#[derive(Debug, Serialize)]
struct AppCount {
    app: Option<String>,
    downloads: u64,
}

#[derive(Debug, Serialize)]
struct CountryCount {
    country: Option<String>,
    downloads: u64,
}

const METHOD: &str = "IAB Podcast Measurement Technical Guidelines v2.2: HEAD, 304 and \
                      bytes=0-1 requests and bots excluded; one download per IP address and \
                      user agent per calendar day in WIB (UTC+7) once the ID3 tag and one \
                      minute of audio have been sent";

#[tracing::instrument(skip_all, fields(%id))]
async fn episode_stats(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<StatsQuery>,
) -> Result<Response, AppError> {
    let id: EpisodeId = parse_id("episode", &id)?;
    let episode = state
        .ctx
        .db
        .episode(id)
        .await
        .map_err(or_not_found("episode"))?;
    caller.require(episode.show_id, Action::ReadUnpublished)?;
    report(&state, StatsScope::Episode(id), &query).await
}

#[tracing::instrument(skip_all, fields(%slug))]
async fn show_stats(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    Query(query): Query<StatsQuery>,
) -> Result<Response, AppError> {
    let show = crate::service::shows::load(&state.ctx, &slug).await?;
    caller.require(show.id, Action::ReadUnpublished)?;
    report(&state, StatsScope::Show(show.id), &query).await
}

async fn report(
    state: &AppState,
    scope: StatsScope,
    query: &StatsQuery,
) -> Result<Response, AppError> {
    let today = analytics::iab::window(Utc::now());
    let to = parse_day("to", query.to.as_deref())?.unwrap_or(today);
    let from = parse_day("from", query.from.as_deref())?
        .unwrap_or_else(|| to.checked_sub_days(Days::new(DEFAULT_DAYS)).unwrap_or(to));
    if from > to {
        return Err(AppError::bad_request(
            "invalid-date-range",
            format!("'from' ({from}) jatuh setelah 'to' ({to})"),
            format!("'from' ({from}) is after 'to' ({to})"),
        ));
    }
    if (to - from).num_days() >= MAX_DAYS as i64 {
        return Err(AppError::bad_request(
            "invalid-date-range",
            format!("Laporan mencakup paling banyak {MAX_DAYS} hari"),
            format!("A report covers at most {MAX_DAYS} days"),
        ));
    }
    let stats = state.ctx.db.download_stats(scope, from, to).await?;
    match query.format.as_deref() {
        None | Some("json") => Ok(Json(view(from, to, stats)).into_response()),
        Some("csv") => Ok(csv(from, to, &stats)?),
        Some(other) => Err(AppError::bad_request(
            "invalid-format",
            format!("Format '{other}' tidak dikenal (json atau csv)"),
            format!("Unknown format '{other}' (json or csv)"),
        )),
    }
}

fn parse_day(name: &str, value: Option<&str>) -> Result<Option<NaiveDate>, AppError> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| {
            crate::domain::bounds::parse_date(name, v)
                .map_err(|r| AppError::bad_request(r.code, r.msg.id, r.msg.en))
        })
        .transpose()
}

fn view(from: NaiveDate, to: NaiveDate, stats: DownloadStats) -> StatsView {
    StatsView {
        from,
        to,
        method: METHOD,
        total: stats.total,
        by_day: stats
            .by_day
            .into_iter()
            .map(|(day, downloads)| DayCount { day, downloads })
            .collect(),
        by_app: stats
            .by_app
            .into_iter()
            .map(|(app, downloads)| AppCount { app, downloads })
            .collect(),
        by_country: stats
            .by_country
            .into_iter()
            .map(|(country, downloads)| CountryCount { country, downloads })
            .collect(),
    }
}

/// One table, `breakdown,key,downloads`, with the three breakdowns one after the other.
fn csv(from: NaiveDate, to: NaiveDate, stats: &DownloadStats) -> Result<Response, AppError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["breakdown", "key", "downloads"])
        .map_err(anyhow::Error::from)?;
    let mut write = |breakdown: &str, key: &str, n: u64| {
        out.write_record([breakdown, key, &n.to_string()])
            .map_err(anyhow::Error::from)
    };
    write("total", &format!("{from}..{to}"), stats.total)?;
    for (day, n) in &stats.by_day {
        write("day", &day.to_string(), *n)?;
    }
    for (app, n) in &stats.by_app {
        write("app", app.as_deref().unwrap_or("unknown"), *n)?;
    }
    for (country, n) in &stats.by_country {
        write("country", country.as_deref().unwrap_or("unknown"), *n)?;
    }
    let body = out.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"siaran-downloads.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}
