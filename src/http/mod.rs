//! The HTTP surface: one module per resource, each with `fn router()`, merged in
//! `app::build_router`. Handlers translate between HTTP and the domain; they own no SQL and no
//! storage details.

pub mod artwork;
pub mod auth;
pub mod conditional;
pub(crate) mod connections;
pub mod document_files;
pub mod documents;
pub mod episode_files;
pub mod episodes;
pub mod error;
pub mod feeds;
pub mod health;
pub mod history;
pub mod media;
pub mod middleware;
pub mod pages;
pub mod query;
pub mod range;
pub mod search;
pub mod shows;
pub mod stats;
pub mod templates;
pub mod uploads;

use axum::{
    extract::{FromRequest, Request, rejection::JsonRejection},
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;

use crate::http::error::AppError;

/// axum's default limit for buffered (JSON) bodies; media uploads stream and are not bound by it.
pub const JSON_BODY_LIMIT: u64 = 2 * 1024 * 1024;

/// `axum::Json`, but a body that is not valid JSON answers our error shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> AppError {
    if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        return AppError::too_large(JSON_BODY_LIMIT);
    }
    match rejection {
        JsonRejection::MissingJsonContentType(_) => AppError::bad_request(
            "invalid-content-type",
            "Kirim badan permintaan sebagai JSON (Content-Type: application/json)",
            "Send the request body as JSON (Content-Type: application/json)",
        ),
        JsonRejection::JsonDataError(e) => AppError::invalid(
            "invalid-json",
            format!("Nilai JSON tidak sah: {}", e.body_text()),
            format!("Invalid JSON value: {}", e.body_text()),
        ),
        other => AppError::bad_request(
            "invalid-json",
            format!("JSON tidak dapat dibaca: {}", other.body_text()),
            format!("Cannot read the JSON body: {}", other.body_text()),
        ),
    }
}

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// A small body read whole (a cover, a transcript, chapters): over the route's
/// `DefaultBodyLimit` it answers 413 in our error shape, naming the limit.
pub fn small_body(
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
    limit: usize,
) -> Result<axum::body::Bytes, AppError> {
    body.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            AppError::too_large(limit as u64)
        } else {
            AppError::bad_request(
                "unreadable-body",
                format!("Badan permintaan tidak terbaca: {}", rejection.body_text()),
                format!("Cannot read the request body: {}", rejection.body_text()),
            )
        }
    })
}

/// Fallback for unknown routes: the JSON error shape, never an empty 404.
pub async fn not_found() -> AppError {
    AppError::not_found("page")
}

pub async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}

/// Maps a missing row to a 404 that names the resource.
pub fn or_not_found(what: &'static str) -> impl FnOnce(crate::db::DbError) -> AppError {
    move |e| crate::service::or_not_found(what)(e).into()
}

/// A path id that does not parse is simply not found.
pub fn parse_id<T: std::str::FromStr>(what: &'static str, raw: &str) -> Result<T, AppError> {
    raw.parse().map_err(|_| AppError::not_found(what))
}
