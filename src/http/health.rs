//! `GET /healthz`: 200 when the database and the object store both answer, 503 otherwise. The
//! answer also says how many download hits this instance dropped because its counting queue was
//! full (0 unless it is overloaded).

use axum::{Router, extract::State, routing::get};
use serde_json::{Value, json};

use super::Json;
use crate::{app::AppState, http::error::AppError};

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(health))
}

#[tracing::instrument(skip_all)]
async fn health(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    let (db, store) = tokio::join!(state.ctx.db.ping(), state.ctx.store.check());
    if let Err(e) = db {
        tracing::warn!(error = %e, "health: database does not answer");
        return Err(AppError::Unavailable("database".into()));
    }
    if let Err(e) = store {
        tracing::warn!(error = %e, "health: object store does not answer");
        return Err(AppError::Unavailable("object store".into()));
    }
    Ok(Json(
        json!({"status": "ok", "database": "ok", "storage": "ok",
               "analytics_dropped": state.analytics.dropped()}),
    ))
}
