//! Download reports: `GET /api/v1/episodes/{id}/stats` and `GET /api/v1/shows/{slug}/stats`,
//! as JSON or, with `?format=csv`, as CSV for a spreadsheet. For the show's team only. The
//! period and the figures are `service::stats`', which the studio's statistics pages show too.

use axum::{
    Router,
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Response},
};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    Json,
    auth::Caller,
    openapi::{ApiError, Unavailable},
    or_not_found, parse_id,
    query::Query,
};
use crate::{
    app::AppState,
    db::{DownloadStats, StatsScope},
    domain::{EpisodeId, access::Action},
    http::error::AppError,
    service::stats::{self, Period},
};

pub fn router() -> Router<AppState> {
    api().into()
}

/// The routes and their operations in the API's document (`http::openapi`).
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(episode_stats))
        .routes(routes!(show_stats))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct StatsQuery {
    /// First day, `YYYY-MM-DD` (UTC); 30 days before `to` when absent.
    #[param(
        pattern = r"^((19[0-9]{2}|[2-9][0-9]{3})-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8])))?$"
    )]
    from: Option<String>,
    /// Last day, `YYYY-MM-DD` (UTC); today when absent.
    #[param(
        pattern = r"^((19[0-9]{2}|[2-9][0-9]{3})-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8])))?$"
    )]
    to: Option<String>,
    /// `json` (the default) or `csv`.
    #[param(value_type = Option<StatsFormat>)]
    format: Option<String>,
}

/// The report's format.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
enum StatsFormat {
    Json,
    Csv,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
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

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct DayCount {
    day: NaiveDate,
    downloads: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct AppCount {
    app: Option<String>,
    downloads: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct CountryCount {
    country: Option<String>,
    downloads: u64,
}

/// An episode's downloads, by day, app and country.
#[utoipa::path(
    get,
    path = "/api/v1/episodes/{id}/stats",
    tag = "stats",
    params(("id" = String, Path, description = "The episode's id (a lower-case UUID)"), StatsQuery),
    responses(
        (status = 200, description = "Downloads in the period (IAB-style counting: `method` says how)", body = StatsView, content((StatsView = "application/json"), (String = "text/csv"))),
        (status = 400, description = "`from`, `to` or `format` is not readable, or the period is not one", body = ApiError),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The caller may not see the show's unpublished episodes", body = ApiError),
        (status = 404, description = "No such episode or show", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
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

/// A show's downloads, by day, app and country.
#[utoipa::path(
    get,
    path = "/api/v1/shows/{slug}/stats",
    tag = "stats",
    params(("slug" = String, Path, description = "The show's slug"), StatsQuery),
    responses(
        (status = 200, description = "Downloads in the period (IAB-style counting: `method` says how)", body = StatsView, content((StatsView = "application/json"), (String = "text/csv"))),
        (status = 400, description = "`from`, `to` or `format` is not readable, or the period is not one", body = ApiError),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The caller may not see the show's unpublished episodes", body = ApiError),
        (status = 404, description = "No such episode or show", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
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
    let period = Period::parse(query.from.as_deref(), query.to.as_deref(), Utc::now())
        .map_err(|r| AppError::bad_request(r.code, r.msg.id, r.msg.en))?;
    let format = match query.format.as_deref() {
        None | Some("json") => Format::Json,
        Some("csv") => Format::Csv,
        Some(other) => {
            return Err(AppError::bad_request(
                "invalid-format",
                format!("Format '{other}' tidak dikenal (json atau csv)"),
                format!("Unknown format '{other}' (json or csv)"),
            ));
        }
    };
    let stats = stats::report(&state.ctx, scope, period).await?;
    match format {
        Format::Json => Ok(Json(view(period, stats)).into_response()),
        Format::Csv => Ok(csv_response(stats::csv(period, &stats)?)),
    }
}

enum Format {
    Json,
    Csv,
}

fn view(period: Period, stats: DownloadStats) -> StatsView {
    StatsView {
        from: period.from,
        to: period.to,
        method: stats::METHOD,
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

/// A report's CSV (`service::stats::csv`) as a file to save; the studio's link gives the same.
pub fn csv_response(body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"siaran-downloads.csv\"",
            ),
        ],
        body,
    )
        .into_response()
}
