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
//! The uploads are read by `studio::files` as every studio page's file form is, the CSRF token
//! first (nothing of a forged form's file is read), the file bounded by the operation's limit; the permission is checked before
//! the body is read. A refusal shows the editor again with the operation's message (a
//! transcript's names the line at fault) and nothing stored; success goes back to the editor
//! with a notice.

use axum::{
    Router,
    body::Bytes,
    extract::{Path, Request, State},
    http::{HeaderValue, StatusCode},
    response::Response,
    routing::{get, post},
};
use chrono::Utc;
use serde::Deserialize;

use super::{PageError, PageForm, StudioUser, episodes, files as studio_files, page, see_other};
use crate::{
    app::AppState,
    domain::{Episode, Msg, Show, access::Action, parse_lang},
    http::{
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
    let (status, text) = studio_files::refusal(user.lang, e)?;
    shown(state, user, id, status, text).await
}

/// The editor as it now stands, with `text` above its forms, answered with `status`.
async fn shown(
    state: &AppState,
    user: &StudioUser,
    id: &str,
    status: StatusCode,
    text: String,
) -> Result<Response, PageError> {
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

/// The posted file of `req` (its CSRF token checked first, `studio::files`), read whole: the
/// file is small (a transcript, chapters, a cover) and bounded by `limit`, the operation's own.
/// Answers the form's `language` field (a transcript's) beside the bytes; `Ok(Err(response))`:
/// the editor again with the refusal.
async fn posted(
    state: &AppState,
    user: &StudioUser,
    id: &str,
    req: Request,
    limit: usize,
) -> Result<Result<(String, Bytes), Response>, PageError> {
    let what = Msg::new("Pilih berkasnya dulu.", "Choose the file first.");
    let limit = limit as u64;
    let file = match studio_files::posted_file(state, &user.session, user.lang, req, limit, &what)
        .await?
    {
        Ok(file) => file,
        Err((status, text)) => return shown(state, user, id, status, text).await.map(Err),
    };
    let language = file.field("language").trim().to_owned();
    match file.bytes().await {
        Ok(bytes) if bytes.is_empty() => {
            let text = msg(user.lang, &what).to_owned();
            shown(state, user, id, StatusCode::UNPROCESSABLE_ENTITY, text)
                .await
                .map(Err)
        }
        Ok(bytes) => Ok(Ok((language, bytes))),
        Err(e) => refused(state, user, id, e).await.map(Err),
    }
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
        Err(e) => return Ok(studio_files::sign_in_first(e)),
    };
    let (episode, _) = editable(&state, &user, &id).await?;
    let (language, file) = match posted(&state, &user, &id, req, MAX_TRANSCRIPT_BYTES).await? {
        Ok(posted) => posted,
        Err(shown) => return Ok(shown),
    };
    let set = match parse_lang(&language) {
        Ok(language) => {
            files::set_transcript(&state.ctx, &user.actor(), &episode, language, file).await
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
        Err(e) => return Ok(studio_files::sign_in_first(e)),
    };
    let (episode, _) = editable(&state, &user, &id).await?;
    let (_, file) = match posted(&state, &user, &id, req, MAX_CHAPTERS_BYTES).await? {
        Ok(posted) => posted,
        Err(shown) => return Ok(shown),
    };
    match files::set_chapters(&state.ctx, &user.actor(), &episode, file).await {
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
        Err(e) => return Ok(studio_files::sign_in_first(e)),
    };
    let (episode, _) = editable(&state, &user, &id).await?;
    let (_, file) = match posted(&state, &user, &id, req, COVER_MAX_BYTES).await? {
        Ok(posted) => posted,
        Err(shown) => return Ok(shown),
    };
    match service::episodes::set_cover(&state.ctx, &user.actor(), episode, file, Utc::now()).await {
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
