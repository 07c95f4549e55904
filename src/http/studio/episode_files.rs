//! The episode editor's files and previews (issue 23), each on a route of its own beside
//! `/studio/episodes/{id}`:
//!
//! - `POST .../cover` (`multipart/form-data`: `csrf`, `file`): the episode's own cover, checked
//!   against Apple's rules (`service::episodes::set_cover`, as `PUT /api/v1/episodes/{id}/artwork`);
//!   `GET .../cover` shows it to the team whatever the episode's state (its public address
//!   answers once the episode is published).
//! - `POST .../transcript` (`multipart/form-data`: `csrf`, `language`, `file`): a WebVTT or SRT
//!   transcript, through `service::episode_files::set_transcript`, the operation
//!   `PUT /api/v1/episodes/{id}/transcripts/{language}` calls; `POST .../transcript/remove`
//!   (`language`) removes one.
//! - `POST .../chapters` (`csrf`, `file`): JSON chapters, through `set_chapters`;
//!   `POST .../chapters/remove`.
//! - `GET .../preview`: the public page of the episode as it will be, for the team before
//!   publication (`pages::episode_preview`, the public page's own template), marked as a preview,
//!   `noindex`, never cached.
//!
//! The uploads are read as a stream by multer, the CSRF token first (nothing of a forged form's
//! file is read), the file bounded by the operation's limit; the permission is checked before
//! the body is read. A refusal shows the editor again with the operation's message (a
//! transcript's names the line at fault) and nothing stored; success goes back to the editor
//! with a notice.

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{Path, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse as _, Response},
    routing::{get, post},
};
use chrono::Utc;
use serde::Deserialize;

use super::{PageError, PageForm, StudioUser, check_write, episodes, page, see_other};
use crate::{
    app::AppState,
    domain::{Episode, Show, access::Action, parse_lang},
    http::{
        csrf,
        error::{AppError, UiLang},
        pages,
        templates::{
            studio::{Notice, msg},
            t,
        },
    },
    service::{
        self,
        episode_files::{self as files, MAX_CHAPTERS_BYTES, MAX_TRANSCRIPT_BYTES},
        shows::COVER_MAX_BYTES,
    },
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/studio/episodes/{id}/cover", get(cover).post(put_cover))
        .route("/studio/episodes/{id}/transcript", post(put_transcript))
        .route(
            "/studio/episodes/{id}/transcript/remove",
            post(remove_transcript),
        )
        .route("/studio/episodes/{id}/chapters", post(put_chapters))
        .route(
            "/studio/episodes/{id}/chapters/remove",
            post(remove_chapters),
        )
        .route("/studio/episodes/{id}/preview", get(preview))
}

/// The notice of `?done=KEY` after one of these forms.
pub fn done(key: &str, lang: UiLang) -> Option<&'static str> {
    Some(match key {
        "cover" => t(lang, "Sampul tersimpan.", "Cover saved."),
        "transcript" => t(lang, "Transkrip tersimpan.", "Transcript saved."),
        "transcript-removed" => t(lang, "Transkrip dihapus.", "Transcript removed."),
        "chapters" => t(lang, "Bab tersimpan.", "Chapters saved."),
        "chapters-removed" => t(lang, "Bab dihapus.", "Chapters removed."),
        _ => return None,
    })
}

/// The episode and its show, if the user may change the episode (its state decides the action).
async fn editable(
    state: &AppState,
    user: &StudioUser,
    id: &str,
) -> Result<(Episode, Show), PageError> {
    let (episode, show) = episodes::load(state, user, id).await?;
    user.require(show.id, Action::edit_episode(episode.status(Utc::now())))?;
    Ok((episode, show))
}

/// The editor again, with `e`'s message: a refusal in the page's language (a server failure is
/// a page of its own, its cause logged).
async fn refused(
    state: &AppState,
    user: &StudioUser,
    id: &str,
    e: impl Into<AppError>,
) -> Result<Response, PageError> {
    let lang = user.lang;
    let e: AppError = e.into();
    let status = e.status();
    if status.is_server_error() {
        return Err(PageError::internal(lang, format!("{e:?}")));
    }
    let text = msg(lang, &e.message()).to_owned();
    // As it now stands.
    let (episode, show) = episodes::load(state, user, id).await?;
    let values = episodes::values_of(&episode, &show);
    episodes::render(
        state,
        user,
        &episode,
        &show,
        &values,
        Some((Notice::Error, text)),
        status,
    )
    .await
}

/// A posted file form: its text fields and its file.
#[derive(Debug, Default)]
struct FileForm {
    fields: Vec<(String, String)>,
    file: Bytes,
}

impl FileForm {
    fn field(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// A text field's limit: a language code, the token.
const FIELD_LIMIT: u64 = 1024;

fn unreadable(e: &multer::Error) -> service::Error {
    service::Error::invalid(
        "invalid-form",
        format!("Formulir unggahan tidak terbaca: {e}"),
        format!("The upload form cannot be read: {e}"),
    )
}

fn no_file() -> service::Error {
    service::Error::invalid(
        "missing-file",
        "Pilih berkasnya dulu.",
        "Choose the file first.",
    )
}

/// Reads the `multipart/form-data` body of a file form: the CSRF token first (checked before
/// anything else is read), then text fields, then `file`, at most `limit` bytes (`TooLarge`
/// past it, with the operation's message). `Ok(Err(_))`: a refusal to show on the editor.
async fn read_file_form(
    state: &AppState,
    user: &StudioUser,
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Result<FileForm, AppError>, PageError> {
    let limit = limit as u64;
    // The whole body: the file and the fields around it.
    let whole = limit.saturating_add(16 * 1024);
    if let Err(e) = crate::http::refuse_declared_over(headers, whole) {
        return Ok(Err(e));
    }
    let Some(boundary) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok())
    else {
        return Ok(Err(service::Error::invalid(
            "invalid-form",
            "Kirim berkas lewat formulir halaman ini (multipart/form-data).",
            "Send the file with this page's form (multipart/form-data).",
        )
        .into()));
    };
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .per_field(FIELD_LIMIT)
            .for_field("file", limit)
            .whole_stream(whole),
    );
    let mut form =
        multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    let sent = match form.next_field().await {
        Ok(Some(field)) if field.name() == Some(csrf::FIELD) => {
            field.text().await.unwrap_or_default()
        }
        _ => String::new(),
    };
    check_write(state, headers, &user.session, &sent).await?;
    let too_large = |e: &multer::Error| {
        matches!(
            e,
            multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. }
        )
    };
    let mut posted = FileForm::default();
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return Ok(Err(no_file().into())),
            Err(e) if too_large(&e) => return Ok(Err(AppError::too_large(limit))),
            Err(e) => return Ok(Err(unreadable(&e).into())),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            if field.file_name().is_none_or(str::is_empty) {
                return Ok(Err(no_file().into()));
            }
            posted.file = match field.bytes().await {
                Ok(bytes) => bytes,
                Err(e) if too_large(&e) => return Ok(Err(AppError::too_large(limit))),
                Err(e) => return Ok(Err(unreadable(&e).into())),
            };
            if posted.file.is_empty() {
                return Ok(Err(no_file().into()));
            }
            return Ok(Ok(posted));
        }
        match field.text().await {
            Ok(text) => posted.fields.push((name, text)),
            Err(e) => return Ok(Err(unreadable(&e).into())),
        }
    }
}

/// The signed-in user, else the login page without reading the body: the connection cannot
/// carry another request after a body left unread.
fn to_login(e: PageError) -> Response {
    let mut res = e.into_response();
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

/// `POST /studio/episodes/{id}/transcript`: the form's file becomes the episode's transcript in
/// the language given, replacing one in that language.
#[tracing::instrument(skip_all, fields(%id))]
async fn put_transcript(
    State(state): State<AppState>,
    user: Result<StudioUser, PageError>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, PageError> {
    let user = match user {
        Ok(user) => user,
        Err(e) => return Ok(to_login(e)),
    };
    let (episode, _) = editable(&state, &user, &id).await?;
    let (parts, body) = req.into_parts();
    let form =
        match read_file_form(&state, &user, &parts.headers, body, MAX_TRANSCRIPT_BYTES).await? {
            Ok(form) => form,
            Err(e) => return refused(&state, &user, &id, e).await,
        };
    let set = match parse_lang(form.field("language").trim()) {
        Ok(language) => {
            files::set_transcript(&state.ctx, &user.actor(), &episode, language, form.file).await
        }
        Err(rejection) => Err(rejection.into()),
    };
    match set {
        Ok(_) => Ok(see_other(&format!(
            "/studio/episodes/{id}?done=transcript#files"
        ))),
        Err(e) => refused(&state, &user, &id, e).await,
    }
}

/// `POST /studio/episodes/{id}/chapters`: the form's file becomes the episode's chapters.
#[tracing::instrument(skip_all, fields(%id))]
async fn put_chapters(
    State(state): State<AppState>,
    user: Result<StudioUser, PageError>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, PageError> {
    let user = match user {
        Ok(user) => user,
        Err(e) => return Ok(to_login(e)),
    };
    let (episode, _) = editable(&state, &user, &id).await?;
    let (parts, body) = req.into_parts();
    let form = match read_file_form(&state, &user, &parts.headers, body, MAX_CHAPTERS_BYTES).await?
    {
        Ok(form) => form,
        Err(e) => return refused(&state, &user, &id, e).await,
    };
    match files::set_chapters(&state.ctx, &user.actor(), &episode, form.file).await {
        Ok(_) => Ok(see_other(&format!(
            "/studio/episodes/{id}?done=chapters#files"
        ))),
        Err(e) => refused(&state, &user, &id, e).await,
    }
}

/// `POST /studio/episodes/{id}/cover`: the form's image becomes the episode's own cover.
#[tracing::instrument(skip_all, fields(%id))]
async fn put_cover(
    State(state): State<AppState>,
    user: Result<StudioUser, PageError>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, PageError> {
    let user = match user {
        Ok(user) => user,
        Err(e) => return Ok(to_login(e)),
    };
    let (episode, _) = editable(&state, &user, &id).await?;
    let (parts, body) = req.into_parts();
    let form = match read_file_form(&state, &user, &parts.headers, body, COVER_MAX_BYTES).await? {
        Ok(form) => form,
        Err(e) => return refused(&state, &user, &id, e).await,
    };
    match service::episodes::set_cover(&state.ctx, &user.actor(), episode, form.file, Utc::now())
        .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/studio/episodes/{id}?done=cover#cover"
        ))),
        Err(e) => refused(&state, &user, &id, e).await,
    }
}

/// `GET /studio/episodes/{id}/cover`: the episode's own cover, for the team, whatever the
/// episode's state; never cached.
#[tracing::instrument(skip_all, fields(%id))]
async fn cover(
    State(state): State<AppState>,
    user: StudioUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let lang = user.lang;
    let (episode, _) = episodes::load(&state, &user, &id).await?;
    let artwork = episode.artwork.ok_or_else(|| PageError::not_found(lang))?;
    crate::http::artwork::image_response(&state, &artwork, "private, no-store")
        .await
        .map_err(|e| PageError::internal(lang, format!("{e:?}")))
}

#[derive(Debug, Deserialize)]
struct RemoveTranscript {
    #[serde(default)]
    language: String,
}

/// `POST /studio/episodes/{id}/transcript/remove`.
#[tracing::instrument(skip_all, fields(%id))]
async fn remove_transcript(
    State(state): State<AppState>,
    user: StudioUser,
    Path(id): Path<String>,
    PageForm(form): PageForm<RemoveTranscript>,
) -> Result<Response, PageError> {
    let (episode, _) = editable(&state, &user, &id).await?;
    let removed = match parse_lang(form.language.trim()) {
        Ok(language) => {
            files::remove_transcript(&state.ctx, &user.actor(), &episode, &language).await
        }
        Err(rejection) => Err(rejection.into()),
    };
    match removed {
        Ok(()) => Ok(see_other(&format!(
            "/studio/episodes/{id}?done=transcript-removed#files"
        ))),
        Err(e) => refused(&state, &user, &id, e).await,
    }
}

#[derive(Debug, Deserialize)]
struct NoFields {}

/// `POST /studio/episodes/{id}/chapters/remove`: the uploaded chapters (those built from the
/// documents' moments stay).
#[tracing::instrument(skip_all, fields(%id))]
async fn remove_chapters(
    State(state): State<AppState>,
    user: StudioUser,
    Path(id): Path<String>,
    PageForm(_): PageForm<NoFields>,
) -> Result<Response, PageError> {
    let (episode, _) = editable(&state, &user, &id).await?;
    match files::remove_chapters(&state.ctx, &user.actor(), &episode).await {
        Ok(()) => Ok(see_other(&format!(
            "/studio/episodes/{id}?done=chapters-removed#files"
        ))),
        Err(e) => refused(&state, &user, &id, e).await,
    }
}

/// `GET /studio/episodes/{id}/preview`: the public page of the episode, whatever its state, for
/// whoever may read the show's unpublished episodes.
#[tracing::instrument(skip_all, fields(%id))]
async fn preview(
    State(state): State<AppState>,
    user: StudioUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let lang = user.lang;
    let (episode, show) = episodes::load(&state, &user, &id).await?;
    let markup = pages::episode_preview(&state, &show, &episode, lang)
        .await
        .map_err(|e| match e {
            AppError::Op(e) => PageError::op(lang, e),
            other => PageError::internal(lang, format!("{other:?}")),
        })?;
    let mut res = page(&state, StatusCode::OK, lang, markup);
    res.headers_mut().insert(
        "x-robots-tag",
        HeaderValue::from_static("noindex, nofollow"),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_done_key_has_a_notice_in_both_languages() {
        for key in [
            "transcript",
            "transcript-removed",
            "chapters",
            "chapters-removed",
        ] {
            assert!(done(key, UiLang::Id).is_some() && done(key, UiLang::En).is_some());
        }
        assert_eq!(done("publish", UiLang::Id), None);
    }
}
