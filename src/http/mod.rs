//! The HTTP surface: one module per resource, each with `fn router()`, merged in
//! `app::build_router`. Handlers translate between HTTP and the domain; they own no SQL and no
//! storage details.

pub mod auth;
pub mod cache;
pub mod documents;
pub mod episodes;
pub mod feeds;
pub mod health;
pub mod media;
pub mod range;
pub mod shows;

use axum::{
    extract::{FromRequest, Request, rejection::JsonRejection},
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;

use crate::error::AppError;

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

/// Fallback for unknown routes: the JSON error shape, never an empty 404.
pub async fn not_found() -> AppError {
    AppError::NotFound { what: "page" }
}

/// Maps a missing row to a 404 that names the resource.
pub fn or_not_found(what: &'static str) -> impl FnOnce(crate::db::DbError) -> AppError {
    move |e| match e {
        crate::db::DbError::NotFound => AppError::NotFound { what },
        other => other.into(),
    }
}

/// A path id that does not parse is simply not found.
pub fn parse_id<T: std::str::FromStr>(what: &'static str, raw: &str) -> Result<T, AppError> {
    raw.parse().map_err(|_| AppError::NotFound { what })
}

/// A title with surrounding space removed; empty is refused.
pub fn require_title(raw: &str) -> Result<String, AppError> {
    let title = raw.trim();
    if title.is_empty() {
        return Err(AppError::invalid(
            "invalid-title",
            "title tidak boleh kosong",
            "title must not be empty",
        ));
    }
    Ok(title.to_owned())
}
