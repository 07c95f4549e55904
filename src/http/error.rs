//! The one error type of the HTTP layer: every failure answers
//! `{"code": "kebab-case", "message": "..."}` with a fitting status. Codes are stable; messages
//! are for people and come in Indonesian (the default) or English, chosen by `Accept-Language`
//! in `localize` below. Internal errors answer a generic 500 and are logged with their cause chain.

use axum::{
    Json,
    body::Body,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::{media::ProbeError, service};

pub use crate::domain::Msg;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// What an operation (`service`) refused, or failed at: not found (404), invalid (422), a
    /// conflict (409), an unsupported type (415), media that does not play (415, 422), or an
    /// internal error (500).
    #[error(transparent)]
    Op(service::Error),
    /// 400: the request itself is malformed (bad JSON, bad query).
    #[error("{code}: {}", .msg.en)]
    BadRequest { code: &'static str, msg: Msg },
    #[error("missing or invalid token")]
    Unauthorized,
    /// 403: the caller may not do this (its role, or a write from another site).
    #[error("forbidden: {}", .0.en)]
    Forbidden(Msg),
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 501: a variant of the resource this server does not offer (oEmbed's `format=xml`).
    #[error("{code}: {}", .msg.en)]
    NotImplemented { code: &'static str, msg: Msg },
    /// 503: the request took longer than the API allows.
    #[error("timed out")]
    Timeout,
    /// 503: a dependency (database, store) does not answer.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// 429: over one of the rate limits or the cap on streams (`http::limits`); try again in
    /// `retry_after` seconds.
    #[error("rate limited")]
    RateLimited { retry_after: u64 },
}

impl AppError {
    /// 404: `what` is the resource, e.g. "show" gives the code `show-not-found`.
    pub fn not_found(what: &'static str) -> Self {
        AppError::Op(service::Error::NotFound { what })
    }

    pub fn invalid(code: &'static str, id: impl Into<String>, en: impl Into<String>) -> Self {
        AppError::Op(service::Error::invalid(code, id, en))
    }

    /// 413: more bytes than the address takes (`limit`).
    pub fn too_large(limit: u64) -> Self {
        AppError::Op(service::Error::TooLarge { limit })
    }

    /// 403: the caller's role does not allow `action`.
    pub fn forbidden(action: crate::domain::access::Action) -> Self {
        AppError::Forbidden(action.refused())
    }

    /// 403: a write with the studio's session cookie that did not come from the studio.
    pub fn forbidden_cross_site() -> Self {
        AppError::Forbidden(Msg::new(
            "Permintaan dari situs lain ditolak",
            "A request from another site is refused",
        ))
    }

    pub fn bad_request(code: &'static str, id: impl Into<String>, en: impl Into<String>) -> Self {
        AppError::BadRequest {
            code,
            msg: Msg::new(id, en),
        }
    }

    pub fn status(&self) -> StatusCode {
        use service::Error as Op;
        match self {
            AppError::Op(Op::NotFound { .. }) => StatusCode::NOT_FOUND,
            AppError::BadRequest { .. } | AppError::Op(Op::Interrupted(_)) => {
                StatusCode::BAD_REQUEST
            }
            AppError::Op(Op::Invalid { .. }) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Op(Op::Conflict { .. }) => StatusCode::CONFLICT,
            AppError::Op(
                Op::UnsupportedType { .. }
                | Op::Media(ProbeError::Empty | ProbeError::Unsupported(_)),
            ) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Op(Op::TooLarge { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Op(Op::Media(ProbeError::Unplayable(_))) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Op(Op::Media(ProbeError::Io(_)) | Op::Internal(_)) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::NotImplemented { .. } => StatusCode::NOT_IMPLEMENTED,
            AppError::Unavailable(_) | AppError::Timeout | AppError::Op(Op::Busy { .. }) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    pub fn code(&self) -> String {
        match self {
            AppError::Op(op) => op.code(),
            AppError::BadRequest { code, .. } | AppError::NotImplemented { code, .. } => {
                (*code).to_owned()
            }
            AppError::Unauthorized => "unauthorized".into(),
            AppError::Forbidden(_) => "forbidden".into(),
            AppError::Unavailable(_) => "unavailable".into(),
            AppError::MethodNotAllowed => "method-not-allowed".into(),
            AppError::Timeout => "timeout".into(),
            AppError::RateLimited { .. } => "rate-limited".into(),
        }
    }

    pub fn message(&self) -> Msg {
        match self {
            AppError::Op(op) => op.message(),
            AppError::BadRequest { msg, .. } | AppError::NotImplemented { msg, .. } => msg.clone(),
            AppError::Forbidden(msg) => msg.clone(),
            AppError::Unauthorized => Msg::new(
                "Token tidak ada atau tidak sah: kirim header 'Authorization: Bearer TOKEN'",
                "Missing or invalid token: send an 'Authorization: Bearer TOKEN' header",
            ),
            AppError::MethodNotAllowed => Msg::new(
                "Metode HTTP ini tidak didukung untuk alamat ini",
                "This HTTP method is not supported at this address",
            ),
            AppError::Timeout => Msg::new(
                "Permintaan melewati batas waktu; coba lagi",
                "The request took too long; try again",
            ),
            AppError::RateLimited { retry_after } => Msg::new(
                format!("Terlalu banyak permintaan; coba lagi dalam {retry_after} detik"),
                format!("Too many requests; try again in {retry_after} seconds"),
            ),
            AppError::Unavailable(what) => Msg::new(
                format!("Layanan tidak tersedia: {what}"),
                format!("Service unavailable: {what}"),
            ),
        }
    }
}

/// Whatever an operation can fail with is an `AppError::Op`.
macro_rules! from_op {
    ($($t:ty),*) => {$(
        impl From<$t> for AppError {
            fn from(e: $t) -> Self {
                AppError::Op(e.into())
            }
        }
    )*};
}

from_op!(
    service::Error,
    crate::db::DbError,
    crate::storage::StoreError,
    crate::domain::Rejection,
    ProbeError,
    anyhow::Error,
    service::ingest::IngestError
);

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
        if let AppError::RateLimited { retry_after }
        | AppError::Op(service::Error::Busy { retry_after, .. }) = self
        {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        res.extensions_mut().insert(ErrorText { code, msg });
        res
    }
}

fn anyhow_chain(e: &AppError) -> String {
    match e {
        AppError::Op(service::Error::Internal(inner)) => format!("{inner:#}"),
        other => other.to_string(),
    }
}

/// A warning answered beside a record that was stored — `"warnings": [{"code", "message"}]` —
/// in the language the request asked for: the write succeeded, but something may cost the
/// office elsewhere (Apple Podcasts cuts descriptions after 4,000 characters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WarningView {
    pub code: String,
    pub message: String,
}

impl WarningView {
    pub fn all(warnings: Vec<crate::domain::bounds::Warning>, lang: UiLang) -> Vec<WarningView> {
        warnings
            .into_iter()
            .map(|w| WarningView {
                code: w.code.to_owned(),
                message: match lang {
                    UiLang::Id => w.msg.id,
                    UiLang::En => w.msg.en,
                },
            })
            .collect()
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
        UiLang::from_accept_language(headers.get(header::ACCEPT_LANGUAGE))
    }

    /// The language an `Accept-Language` value prefers of the two; Indonesian without one.
    pub fn from_accept_language(value: Option<&HeaderValue>) -> UiLang {
        let Some(value) = value.and_then(|v| v.to_str().ok()) else {
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

/// An error response in the language its request asked for (`accept_language`, read only for an
/// error: the layer that calls this, `http::middleware::FINISH`, runs for every response); any
/// other response as it is.
pub fn localize(mut res: Response, accept_language: Option<&HeaderValue>) -> Response {
    if res.extensions().get::<ErrorText>().is_none() {
        return res;
    }
    if UiLang::from_accept_language(accept_language) == UiLang::En
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
    } else {
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
            AppError::from(ProbeError::Empty).status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
        let e = AppError::from(ProbeError::Unplayable("no audio frames found".into()));
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.code(), "unplayable-media");
    }
}
