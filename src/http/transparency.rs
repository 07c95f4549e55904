//! The transparency log (issue 25), public: `GET /transparency/log?after=N` (entries in order,
//! a page at a time), `/transparency/head` (the log's size and last hash, signed now),
//! `/transparency/records/{seq}` (one record: the URL records are cited by),
//! `/transparency/episodes/{id}` (an episode's latest record, which its feed item names) and
//! `/.well-known/siaran-keys.json` (the public keys with their validity periods). What is
//! recorded, and when, is `service::transparency`; the format, `domain::publication`.

use axum::{
    Router,
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Response},
    routing::get,
};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::{Json, query::Query};
use crate::{
    app::AppState,
    domain::publication::{Entry, KeySet, SignedHead},
    http::error::AppError,
    service,
};

/// Entries one page of the log holds at most.
pub const MAX_PAGE: u32 = 1000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/transparency/log", get(log))
        .route("/transparency/head", get(head))
        .route("/transparency/records/{seq}", get(record))
        .route("/transparency/episodes/{id}", get(episode_record))
        .route("/.well-known/siaran-keys.json", get(keys))
}

#[derive(Debug, Deserialize)]
struct LogQuery {
    #[serde(default)]
    after: u64,
    limit: Option<u32>,
}

/// A page of the log.
#[derive(Debug, Serialize, Deserialize)]
pub struct LogPage {
    pub entries: Vec<Entry>,
    /// The `after` of the next page, when there may be one.
    pub next: Option<u64>,
}

/// Always fetched fresh: the log grows.
fn no_store(body: impl IntoResponse) -> Response {
    ([(header::CACHE_CONTROL, "no-cache")], body).into_response()
}

#[tracing::instrument(skip_all, fields(after = q.after))]
async fn log(
    State(state): State<AppState>,
    Query(q): Query<LogQuery>,
) -> Result<Response, AppError> {
    let limit = q.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
    let entries = state.ctx.db.log_entries(q.after, limit).await?;
    let next = (entries.len() == limit as usize)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    Ok(no_store(Json(LogPage { entries, next })))
}

#[tracing::instrument(skip_all)]
async fn head(State(state): State<AppState>) -> Result<Response, AppError> {
    let (size, hash) = state
        .ctx
        .db
        .log_head()
        .await?
        .map_or((0, String::new()), |h| (h.seq, h.hash));
    let signed: SignedHead = state.ctx.keys.signer.sign_head(size, hash, Utc::now());
    Ok(no_store(Json(signed)))
}

#[tracing::instrument(skip_all, fields(%seq))]
async fn record(
    State(state): State<AppState>,
    Path(seq): Path<String>,
) -> Result<Json<Entry>, AppError> {
    let seq: u64 = seq.parse().map_err(|_| AppError::not_found("record"))?;
    let entry = state
        .ctx
        .db
        .log_entry(seq)
        .await
        .map_err(service::or_not_found("record"))?;
    Ok(Json(entry))
}

#[tracing::instrument(skip_all)]
async fn keys(State(state): State<AppState>) -> Result<Response, AppError> {
    let keys: KeySet = service::transparency::key_set(&state.ctx).await?;
    Ok(no_store(Json(keys)))
}

/// The episode's latest record (the feed's `siaran:record`).
#[tracing::instrument(skip_all, fields(%id))]
async fn episode_record(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id: crate::domain::EpisodeId = id.parse().map_err(|_| AppError::not_found("record"))?;
    let entry = state
        .ctx
        .db
        .last_record(id)
        .await?
        .ok_or_else(|| AppError::not_found("record"))?;
    Ok(no_store(Json(entry)))
}
