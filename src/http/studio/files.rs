//! A file posted with a studio page's form (`multipart/form-data`: the `csrf` field, any short
//! text fields, then the `file` field, as the pages' forms have them), for every page that takes
//! one (a recording, a show's cover, a document's PDF, the office's logo, an episode's cover,
//! transcript and chapters). The token is checked before a byte of
//! the file is read, so nothing is stored for a forged form; the file itself streams on to the
//! operation, which owns its size limit and its rules.

use axum::{
    body::{Body, Bytes},
    extract::Request,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse as _, Response},
};
use futures_util::TryStreamExt as _;
use tower_sessions::Session;

use super::{PageError, check_write};
use crate::{
    app::AppState,
    domain::Msg,
    http::{
        csrf,
        error::{AppError, UiLang},
        templates::studio::msg,
    },
    storage::ByteStream,
};

/// The posted file: its name as the browser gave it, and its bytes still to be read.
pub struct PostedFile {
    pub filename: String,
    /// The text fields sent before the file (a transcript's language).
    fields: Vec<(String, String)>,
    field: multer::Field<'static>,
    limit: u64,
}

impl PostedFile {
    /// A text field sent before the file, `""` when absent.
    pub fn field(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The bytes as they arrive, for an operation that spools them.
    pub fn stream(self) -> ByteStream {
        Box::pin(self.field.map_err(std::io::Error::other))
    }

    /// The whole file, for a small one: over the limit `posted_file` was given, 413.
    pub async fn bytes(self) -> Result<Bytes, AppError> {
        let limit = self.limit;
        let bytes = self.field.bytes().await.map_err(|e| match e {
            multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
                AppError::too_large(limit)
            }
            e => {
                let m = unreadable(&e);
                AppError::bad_request("unreadable-form", m.id, m.en)
            }
        })?;
        if bytes.len() as u64 > limit {
            return Err(AppError::too_large(limit));
        }
        Ok(bytes)
    }
}

/// Text fields a file form may send before its file, and the length of each.
const MAX_TEXT_FIELDS: usize = 4;
const TEXT_FIELD_LIMIT: u64 = 1024;

/// A refusal a page shows above its form: the status and the text in the page's language.
pub type Refused = (StatusCode, String);

/// For a handler taking `Result<StudioUser, PageError>`: the login page without reading the
/// body, and `Connection: close`, as a connection cannot carry another request after a body
/// left unread.
pub fn sign_in_first(e: PageError) -> Response {
    let mut res = e.into_response();
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

/// The posted file of `req`, its CSRF checks passed (else the 403 page); a form that carries
/// no file, is no multipart form or is declared longer than `limit` (plus the form's own
/// fields) is refused with what the page should say. `what` names the file the page asks for.
pub async fn posted_file(
    state: &AppState,
    session: &Session,
    lang: UiLang,
    req: Request,
    limit: u64,
    what: &Msg,
) -> Result<Result<PostedFile, Refused>, PageError> {
    let headers = req.headers().clone();
    let whole = limit.saturating_add(64 * 1024);
    if let Err(e) = crate::http::refuse_declared_over(&headers, whole) {
        return refusal(lang, e).map(Err);
    }
    let mut form = match multipart(&headers, req.into_body(), whole) {
        Ok(form) => form,
        Err(text) => return Ok(Err((StatusCode::BAD_REQUEST, msg(lang, &text).to_owned()))),
    };
    let sent = match form.next_field().await {
        Ok(Some(field)) if field.name() == Some(csrf::FIELD) => {
            field.text().await.unwrap_or_default()
        }
        _ => String::new(),
    };
    check_write(state, &headers, session, &sent).await?;
    let bad = |text: &Msg| Ok(Err((StatusCode::BAD_REQUEST, msg(lang, text).to_owned())));
    let mut fields = Vec::new();
    let field = loop {
        match form.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => break field,
            Ok(Some(field)) if fields.len() < MAX_TEXT_FIELDS => {
                let name = field.name().unwrap_or_default().to_owned();
                match field.text().await {
                    Ok(text) => fields.push((name, text)),
                    Err(e) => return bad(&unreadable(&e)),
                }
            }
            Ok(_) => return bad(what),
            Err(e) => return bad(&unreadable(&e)),
        }
    };
    let filename = field.file_name().unwrap_or_default().to_owned();
    if filename.is_empty() {
        return bad(what);
    }
    Ok(Ok(PostedFile {
        filename,
        fields,
        field,
        limit,
    }))
}

/// What a person reads of a refused request, and its status; a server failure is a page of
/// its own (`PageError::internal`), its cause logged.
pub fn refusal(lang: UiLang, e: impl Into<AppError>) -> Result<Refused, PageError> {
    let e: AppError = e.into();
    let status = e.status();
    if status.is_server_error() {
        return Err(PageError::internal(lang, format!("{e:?}")));
    }
    Ok((status, msg(lang, &e.message()).to_owned()))
}

fn multipart(
    headers: &HeaderMap,
    body: Body,
    whole: u64,
) -> Result<multer::Multipart<'static>, Msg> {
    let boundary = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok())
        .ok_or_else(|| {
            Msg::new(
                "Kirim berkas lewat formulir halaman ini (multipart/form-data).",
                "Send the file with this page's form (multipart/form-data).",
            )
        })?;
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            // The token and the text fields before the file (a language code).
            .per_field(TEXT_FIELD_LIMIT)
            .for_field("file", u64::MAX)
            // The file's own limit is the operation's (`TooLarge`, with its message).
            .whole_stream(whole),
    );
    Ok(multer::Multipart::with_constraints(
        body.into_data_stream(),
        boundary,
        constraints,
    ))
}

fn unreadable(e: &multer::Error) -> Msg {
    Msg::new(
        format!("Formulir unggahan tidak terbaca: {e}"),
        format!("The upload form cannot be read: {e}"),
    )
}
