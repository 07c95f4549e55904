//! The HTTP surface: one module per resource, each with `fn router()`, merged in
//! `app::build_router`. Handlers translate between HTTP and the domain; they own no SQL and no
//! storage details.

pub mod artwork;
pub mod assets;
pub mod auth;
pub mod conditional;
pub(crate) mod connections;
pub mod csrf;
pub mod document_files;
pub mod documents;
pub mod episode_files;
pub mod episodes;
pub mod error;
pub mod feeds;
pub mod health;
pub mod history;
pub mod limits;
pub mod media;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod pages;
pub mod query;
pub mod range;
pub mod search;
pub mod security;
pub mod sessions;
pub mod shows;
pub mod site;
pub mod stats;
pub mod studio;
pub mod templates;
pub mod transparency;
pub mod uploads;
pub mod verify;

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, FromRequest, Request, rejection::JsonRejection},
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;

use crate::http::error::AppError;

/// The limit of a JSON body (axum's default); media uploads stream and are not bound by it.
pub const JSON_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// The request's `Content-Length`, when it has a readable one.
pub fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// 413 at once for a body declared longer than `limit`. Reading it to find out would wait for
/// bytes the client may never send (until the request timeout answered 503), where the refusal
/// is already known from the head.
pub fn refuse_declared_over(headers: &HeaderMap, limit: u64) -> Result<(), AppError> {
    match declared_length(headers) {
        Some(declared) if declared > limit => Err(AppError::too_large(limit)),
        _ => Ok(()),
    }
}

/// `axum::Json`, but a body that is not valid JSON answers our error shape, and a body over
/// `JSON_BODY_LIMIT` answers 413 — before it is read, when its length is declared.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(mut req: Request, state: &S) -> Result<Self, Self::Rejection> {
        refuse_declared_over(req.headers(), JSON_BODY_LIMIT as u64)?;
        DefaultBodyLimit::max(JSON_BODY_LIMIT).apply(&mut req);
        let (parts, body) = req.into_parts();
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::too_large(JSON_BODY_LIMIT as u64)
                } else {
                    AppError::bad_request(
                        "invalid-json",
                        format!("JSON tidak dapat dibaca: {}", e.body_text()),
                        format!("Cannot read the JSON body: {}", e.body_text()),
                    )
                }
            })?;
        // Text with U+0000 can be stored nowhere (PostgreSQL refuses it): a clear 422 here
        // rather than a database error later.
        if escapes_nul(&bytes) {
            return Err(AppError::invalid(
                "invalid-text",
                "Teks tidak boleh berisi karakter NUL (\\u0000)",
                "Text must not contain the NUL character (\\u0000)",
            ));
        }
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

/// Whether a JSON text holds the escape `\u0000` (U+0000; JSON allows it in no other form).
/// Outside strings a backslash is not valid JSON, so every backslash starts an escape.
fn escapes_nul(json: &[u8]) -> bool {
    let mut i = 0;
    while i < json.len() {
        if json[i] == b'\\' {
            if json.get(i + 1) == Some(&b'u') && json.get(i + 2..i + 6) == Some(b"0000") {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

fn json_rejection(rejection: &JsonRejection) -> AppError {
    if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        return AppError::too_large(JSON_BODY_LIMIT as u64);
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

/// A small body read whole (a cover, a transcript, chapters), of at most `LIMIT` bytes: over
/// it, 413 in our error shape naming the limit — before the body is read when its length is
/// declared, as `Json` does.
#[derive(Debug, Clone)]
pub struct SmallBody<const LIMIT: usize>(pub Bytes);

impl<S, const LIMIT: usize> FromRequest<S> for SmallBody<LIMIT>
where
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(mut req: Request, state: &S) -> Result<Self, Self::Rejection> {
        refuse_declared_over(req.headers(), LIMIT as u64)?;
        DefaultBodyLimit::max(LIMIT).apply(&mut req);
        match Bytes::from_request(req, state).await {
            Ok(body) => Ok(SmallBody(body)),
            Err(rejection) if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AppError::too_large(LIMIT as u64))
            }
            Err(rejection) => Err(AppError::bad_request(
                "unreadable-body",
                format!("Badan permintaan tidak terbaca: {}", rejection.body_text()),
                format!("Cannot read the request body: {}", rejection.body_text()),
            )),
        }
    }
}

/// The client's address: the peer's, or behind a trusted reverse proxy
/// (`SIARAN_TRUST_FORWARDED`) the last address in `X-Forwarded-For`, the one that proxy saw.
pub fn client_ip(
    app: &crate::app::App,
    peer: std::net::IpAddr,
    headers: &HeaderMap,
) -> std::net::IpAddr {
    if !app.settings.trust_forwarded {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<std::net::IpAddr>().ok())
        .next_back()
        .unwrap_or(peer)
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
