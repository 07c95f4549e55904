//! The one error type of the HTTP layer: every failure answers
//! `{"code": "kebab-case", "message": "..."}` with a fitting status. Codes are stable; messages
//! are for people and come in Indonesian (the default) or English, chosen by `Accept-Language`
//! in `localize` below. Internal errors answer a generic 500 and are logged with their cause chain.

use axum::{
    Json,
    body::Body,
    extract::Request,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::{db::DbError, media::ProbeError, service, storage::StoreError};

pub use crate::domain::Msg;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 404: `what` is the resource, e.g. "show" gives the code `show-not-found`.
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// 400: the request itself is malformed (bad JSON, bad query).
    #[error("{code}: {}", .msg.en)]
    BadRequest { code: &'static str, msg: Msg },
    /// 422: well-formed but invalid values.
    #[error("{code}: {}", .msg.en)]
    Invalid { code: &'static str, msg: Msg },
    /// 409: a uniqueness rule (slug taken...).
    #[error("{code}: {}", .msg.en)]
    Conflict { code: &'static str, msg: Msg },
    /// 415: a body of a type this address does not take (a cover that is not JPEG or PNG).
    #[error("{code}: {}", .msg.en)]
    UnsupportedType { code: &'static str, msg: Msg },
    #[error("missing or invalid token")]
    Unauthorized,
    #[error("the token's role may not do this")]
    Forbidden,
    #[error("upload larger than {limit} bytes")]
    PayloadTooLarge { limit: u64 },
    /// 415 or 422 for a body that is not playable media.
    #[error(transparent)]
    Media(#[from] ProbeError),
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 503: the request took longer than the API allows.
    #[error("timed out")]
    Timeout,
    /// 503: a dependency (database, store) does not answer.
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn invalid(code: &'static str, id: impl Into<String>, en: impl Into<String>) -> Self {
        AppError::Invalid {
            code,
            msg: Msg::new(id, en),
        }
    }

    pub fn bad_request(code: &'static str, id: impl Into<String>, en: impl Into<String>) -> Self {
        AppError::BadRequest {
            code,
            msg: Msg::new(id, en),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound { .. } => StatusCode::NOT_FOUND,
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::UnsupportedType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Media(ProbeError::Empty | ProbeError::Unsupported(_)) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            AppError::Media(ProbeError::Unplayable(_)) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Media(ProbeError::Io(_)) | AppError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Unavailable(_) | AppError::Timeout => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn code(&self) -> String {
        match self {
            AppError::NotFound { what } => format!("{what}-not-found"),
            AppError::BadRequest { code, .. }
            | AppError::Invalid { code, .. }
            | AppError::Conflict { code, .. }
            | AppError::UnsupportedType { code, .. } => (*code).to_owned(),
            AppError::Unauthorized => "unauthorized".into(),
            AppError::Forbidden => "forbidden".into(),
            AppError::PayloadTooLarge { .. } => "payload-too-large".into(),
            AppError::Media(ProbeError::Io(_)) | AppError::Internal(_) => "internal-error".into(),
            AppError::Media(e) => e.code().into(),
            AppError::Unavailable(_) => "unavailable".into(),
            AppError::MethodNotAllowed => "method-not-allowed".into(),
            AppError::Timeout => "timeout".into(),
        }
    }

    pub fn message(&self) -> Msg {
        match self {
            AppError::NotFound { what } => Msg::new(
                format!("{} tidak ditemukan", what_id(what)),
                format!("{} not found", capitalized(what)),
            ),
            AppError::BadRequest { msg, .. }
            | AppError::Invalid { msg, .. }
            | AppError::Conflict { msg, .. }
            | AppError::UnsupportedType { msg, .. } => msg.clone(),
            AppError::Unauthorized => Msg::new(
                "Token tidak ada atau tidak sah: kirim header 'Authorization: Bearer TOKEN'",
                "Missing or invalid token: send an 'Authorization: Bearer TOKEN' header",
            ),
            AppError::Forbidden => Msg::new(
                "Peran token ini tidak diizinkan melakukan tindakan ini",
                "This token's role is not allowed to do this",
            ),
            AppError::PayloadTooLarge { limit } => Msg::new(
                format!("Unggahan melebihi batas {limit} byte"),
                format!("The upload exceeds the limit of {limit} bytes"),
            ),
            AppError::Media(ProbeError::Empty) => Msg::new("Berkas kosong", "The file is empty"),
            AppError::Media(ProbeError::Unsupported(why)) => Msg::new(
                format!("Bukan berkas media yang didukung: {why}"),
                format!("Not a supported media file: {why}"),
            ),
            AppError::Media(ProbeError::Unplayable(why)) => Msg::new(
                format!("Media tidak dapat diputar: {why}"),
                format!("The media cannot be played: {why}"),
            ),
            AppError::MethodNotAllowed => Msg::new(
                "Metode HTTP ini tidak didukung untuk alamat ini",
                "This HTTP method is not supported at this address",
            ),
            AppError::Timeout => Msg::new(
                "Permintaan melewati batas waktu; coba lagi",
                "The request took too long; try again",
            ),
            AppError::Unavailable(what) => Msg::new(
                format!("Layanan tidak tersedia: {what}"),
                format!("Service unavailable: {what}"),
            ),
            AppError::Media(ProbeError::Io(_)) | AppError::Internal(_) => {
                Msg::new("Terjadi kesalahan internal", "An internal error occurred")
            }
        }
    }
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

fn what_id(what: &str) -> &str {
    match what {
        "show" => "Acara",
        "episode" => "Episode",
        "media" => "Media",
        "document" => "Dokumen",
        "artwork" => "Sampul",
        "transcript" => "Transkrip",
        "chapters" => "Daftar bab",
        "rendition" => "Versi rekaman",
        "link" => "Tautan dokumen",
        "page" => "Halaman",
        other => other,
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            // Callers that expect a missing row map NotFound themselves, naming the resource.
            DbError::NotFound => AppError::NotFound { what: "resource" },
            DbError::Conflict(detail) => AppError::Conflict {
                code: "conflict",
                msg: Msg::new(
                    format!("Bertentangan dengan data yang ada: {detail}"),
                    format!("Conflicts with existing data: {detail}"),
                ),
            },
            DbError::MissingReference(detail) => AppError::invalid(
                "missing-reference",
                format!("Rujukan tidak ditemukan: {detail}"),
                format!("Referenced record does not exist: {detail}"),
            ),
            DbError::Other(e) => AppError::Internal(e),
        }
    }
}

impl From<service::Error> for AppError {
    fn from(e: service::Error) -> Self {
        match e {
            service::Error::NotFound { what } => AppError::NotFound { what },
            service::Error::Invalid { code, msg } => AppError::Invalid { code, msg },
            service::Error::Conflict { code, msg } => AppError::Conflict { code, msg },
            service::Error::UnsupportedType { code, msg } => {
                AppError::UnsupportedType { code, msg }
            }
            service::Error::TooLarge { limit } => AppError::PayloadTooLarge { limit },
            service::Error::Interrupted(io) => AppError::bad_request(
                "upload-interrupted",
                format!("Unggahan terputus sebelum selesai: {io}"),
                format!("The upload was interrupted before it finished: {io}"),
            ),
            service::Error::Media(p) => AppError::Media(p),
            service::Error::Internal(e) => AppError::Internal(e),
        }
    }
}

impl From<crate::domain::Rejection> for AppError {
    fn from(r: crate::domain::Rejection) -> Self {
        AppError::Invalid {
            code: r.code,
            msg: r.msg,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        AppError::Internal(anyhow::Error::new(e))
    }
}

/// The JSON body of every error.
#[derive(Debug, Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
}

/// Both texts travel in the response's extensions until `localize` picks one.
#[derive(Debug, Clone)]
struct ErrorText {
    code: String,
    msg: Msg,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = ?anyhow_chain(&self), "request failed");
        }
        let code = self.code();
        let msg = self.message();
        let mut res = (
            status,
            Json(ErrorBody {
                code: &code,
                message: &msg.id,
            }),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res.extensions_mut().insert(ErrorText { code, msg });
        res
    }
}

fn anyhow_chain(e: &AppError) -> String {
    match e {
        AppError::Internal(inner) => format!("{inner:#}"),
        other => other.to_string(),
    }
}

/// The language a person asked for: English when `Accept-Language` prefers it over Indonesian,
/// Indonesian otherwise (it is the first language of Siaran's users).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UiLang {
    Id,
    En,
}

impl UiLang {
    pub fn from_headers(headers: &HeaderMap) -> UiLang {
        let Some(value) = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
        else {
            return UiLang::Id;
        };
        let mut best: Option<(f32, UiLang)> = None;
        for part in value.split(',') {
            let mut fields = part.trim().split(';');
            let tag = fields
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            let q = fields
                .find_map(|f| f.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let lang = match tag.split('-').next().unwrap_or_default() {
                "id" | "in" => UiLang::Id,
                "en" => UiLang::En,
                _ => continue,
            };
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map_or(UiLang::Id, |(_, l)| l)
    }
}

/// Middleware: rewrites error bodies in the language the request asked for.
pub async fn localize(req: Request, next: Next) -> Response {
    let lang = UiLang::from_headers(req.headers());
    let mut res = next.run(req).await;
    if lang == UiLang::En
        && let Some(text) = res.extensions_mut().remove::<ErrorText>()
    {
        let body = serde_json::to_vec(&ErrorBody {
            code: &text.code,
            message: &text.msg.en,
        })
        .unwrap_or_default();
        res.headers_mut().remove(header::CONTENT_LENGTH);
        res.headers_mut()
            .insert(header::CONTENT_LANGUAGE, HeaderValue::from_static("en"));
        *res.body_mut() = Body::from(body);
    } else if res.extensions().get::<ErrorText>().is_some() {
        res.headers_mut()
            .insert(header::CONTENT_LANGUAGE, HeaderValue::from_static("id"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(v: &str) -> UiLang {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_LANGUAGE, v.parse().unwrap());
        UiLang::from_headers(&h)
    }

    #[test]
    fn accept_language_picks_the_preferred_known_language() {
        assert_eq!(UiLang::from_headers(&HeaderMap::new()), UiLang::Id);
        assert_eq!(lang("en-US,en;q=0.9"), UiLang::En);
        assert_eq!(lang("id-ID,id;q=0.9,en;q=0.8"), UiLang::Id);
        assert_eq!(lang("fr, en;q=0.5, id;q=0.7"), UiLang::Id);
        assert_eq!(lang("fr"), UiLang::Id);
    }

    #[test]
    fn probe_errors_map_to_415_and_422() {
        assert_eq!(
            AppError::Media(ProbeError::Empty).status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
        let e = AppError::Media(ProbeError::Unplayable("no audio frames found".into()));
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.code(), "unplayable-media");
    }
}
