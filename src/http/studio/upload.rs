//! `/studio/shows/{slug}/episodes/new`: a recording becomes a draft episode of a show.
//!
//! The page's file field uploads through tus (`/api/v1/uploads`, through the session) with the
//! vendored tus-js-client and the page's module (`templates/studio-upload.js`): progress, speed,
//! time left, a queue of files, and resuming after a dropped network or a reload. Without
//! JavaScript the same field posts the file (`multipart/form-data`) to
//! `/studio/shows/{slug}/episodes/new/file`, streamed into the operation `/api/v1/media` calls
//! (`service::media::upload`): nothing of it is held in memory. Either way the page then shows
//! what the probe found, with a form pre-filled as `siaran import` does
//! (`domain::file_meta::guess`), which creates a draft (`service::episodes::create`), its date
//! kept as the draft's proposed one, and goes on to the episode's editor.
//!
//! This module extracts and renders; the rules are the operations'.

use axum::{
    Router,
    body::Body,
    extract::{Path, Query, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse as _, Response},
    routing::{get, post},
};
use chrono::{NaiveDate, Utc};
use futures_util::TryStreamExt as _;
use serde::Deserialize;

use super::{PageError, PageForm, StudioUser, check_write, page, see_other};
use crate::{
    app::AppState,
    domain::{EpisodeDraft, EpisodeId, EpisodeMeta, Media, Msg, Show, access::Action, file_meta},
    http::{
        csrf,
        error::{AppError, UiLang},
        templates::{
            studio::msg,
            studio_upload::{self as view, Filled, NewEpisodePage},
        },
    },
    service::{self, episodes},
    storage::ByteStream,
};

/// The page and its create form (timed like every page).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/studio/shows/{slug}/episodes/new", get(new_episode))
        .route("/studio/shows/{slug}/episodes", post(create))
}

/// The upload without JavaScript: a body as long as the file, so without the pages' timeout
/// (`app::build_router` merges it among the untimed routes).
pub fn untimed_router() -> Router<AppState> {
    Router::new().route("/studio/shows/{slug}/episodes/new/file", post(upload_file))
}

/// The page's address for `show`.
pub fn page_path(show: &Show) -> String {
    format!("/studio/shows/{}/episodes/new", show.slug)
}

#[derive(Debug, Default, Deserialize)]
struct NewQuery {
    /// A media record just uploaded: its probe and the episode form are shown.
    #[serde(default)]
    media: Option<String>,
}

async fn show_for(
    state: &AppState,
    user: &StudioUser,
    slug: &str,
    action: Action,
) -> Result<Show, PageError> {
    let show = service::shows::load(&state.ctx, slug)
        .await
        .map_err(|e| PageError::op(user.lang, e))?;
    user.require(show.id, action)?;
    Ok(show)
}

/// The form's values as the file suggests them.
fn suggested(media: &Media) -> Filled {
    let guessed = file_meta::guess(
        &media.filename,
        file_meta::Given::default(),
        &media.info.tags,
    );
    // Without a date in the tags or the name: today (an upload has no modification date).
    let date = guessed.date.unwrap_or_else(Utc::now);
    Filled {
        title: guessed.title,
        description: guessed.description,
        date: file_meta::wib_date(date).format("%Y-%m-%d").to_string(),
    }
}

fn render(
    state: &AppState,
    user: &StudioUser,
    status: StatusCode,
    p: &NewEpisodePage<'_>,
) -> Response {
    page(
        state,
        status,
        user.lang,
        view::new_episode(&user.chrome(), p),
    )
}

#[tracing::instrument(skip_all, fields(%slug))]
async fn new_episode(
    State(state): State<AppState>,
    user: StudioUser,
    Path(slug): Path<String>,
    Query(q): Query<NewQuery>,
) -> Result<Response, PageError> {
    let show = show_for(&state, &user, &slug, Action::Upload).await?;
    let media = match q.media.as_deref().filter(|m| !m.is_empty()) {
        Some(raw) => Some(
            episodes::known_media(&state.ctx, raw)
                .await
                .map_err(|e| PageError::op(user.lang, e))?,
        ),
        None => None,
    };
    let filled = media.as_ref().map(suggested);
    let p = NewEpisodePage {
        show: &show,
        media: media.as_ref().zip(filled.as_ref()),
        error: None,
        max_bytes: state.settings.max_upload_bytes,
    };
    Ok(render(&state, &user, StatusCode::OK, &p))
}

/// What a person reads of a refused request, and its status; a server failure is a page of
/// its own (`PageError::internal`), its cause logged.
fn refusal(lang: UiLang, e: impl Into<AppError>) -> Result<(StatusCode, String), PageError> {
    let e: AppError = e.into();
    let status = e.status();
    if status.is_server_error() {
        return Err(PageError::internal(lang, format!("{e:?}")));
    }
    Ok((status, msg(lang, &e.message()).to_owned()))
}

/// `POST /studio/shows/{slug}/episodes/new/file`: the page's form without JavaScript
/// (`multipart/form-data`, the `csrf` field before the `file` field, as the form has them).
/// The file streams into `service::media::upload`; then to the page showing its probe.
#[tracing::instrument(skip_all, fields(%slug))]
async fn upload_file(
    State(state): State<AppState>,
    user: Result<StudioUser, PageError>,
    Path(slug): Path<String>,
    req: Request,
) -> Result<Response, PageError> {
    let user = match user {
        Ok(user) => user,
        // To the login page without reading the file: the connection cannot carry another
        // request after a body left unread (`middleware` says so for 4xx and 5xx answers).
        Err(e) => {
            let mut res = e.into_response();
            res.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return Ok(res);
        }
    };
    let lang = user.lang;
    let show = show_for(&state, &user, &slug, Action::Upload).await?;
    let headers = req.headers().clone();
    let limit = state.settings.max_upload_bytes;
    let refused = |status: StatusCode, text: String| {
        let p = NewEpisodePage {
            show: &show,
            media: None,
            error: Some(text),
            max_bytes: limit,
        };
        Ok::<_, PageError>(render(&state, &user, status, &p))
    };
    if let Err(e) = crate::http::refuse_declared_over(&headers, limit.saturating_add(64 * 1024)) {
        let (status, text) = refusal(lang, e)?;
        return refused(status, text);
    }
    let mut form = match multipart(&headers, req.into_body(), limit) {
        Ok(form) => form,
        Err(text) => return refused(StatusCode::BAD_REQUEST, msg(lang, &text).to_owned()),
    };
    // The token first: not a byte of the file is stored for a forged form.
    let sent = match form.next_field().await {
        Ok(Some(field)) if field.name() == Some(csrf::FIELD) => {
            field.text().await.unwrap_or_default()
        }
        _ => String::new(),
    };
    check_write(&state, &headers, &user.session, &sent).await?;
    let field = match form.next_field().await {
        Ok(Some(field)) if field.name() == Some("file") => field,
        Ok(_) => return refused(StatusCode::BAD_REQUEST, msg(lang, &no_file()).to_owned()),
        Err(e) => {
            let text = unreadable(&e);
            return refused(StatusCode::BAD_REQUEST, msg(lang, &text).to_owned());
        }
    };
    let filename = field.file_name().unwrap_or_default().to_owned();
    if filename.is_empty() {
        return refused(StatusCode::BAD_REQUEST, msg(lang, &no_file()).to_owned());
    }
    let body: ByteStream = Box::pin(field.map_err(std::io::Error::other));
    match service::media::upload(&state.ctx, &filename, body, limit).await {
        Ok(media) => Ok(see_other(&format!(
            "{}?media={}",
            page_path(&show),
            media.id
        ))),
        Err(e) => {
            let (status, text) = refusal(lang, e)?;
            refused(status, text)
        }
    }
}

fn multipart(
    headers: &HeaderMap,
    body: Body,
    limit: u64,
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
            .for_field(csrf::FIELD, 1024)
            // The file's own limit is the operation's (`TooLarge`, with its message).
            .whole_stream(limit.saturating_add(64 * 1024)),
    );
    Ok(multer::Multipart::with_constraints(
        body.into_data_stream(),
        boundary,
        constraints,
    ))
}

fn no_file() -> Msg {
    Msg::new(
        "Pilih berkas rekaman dulu.",
        "Choose a recording's file first.",
    )
}

fn unreadable(e: &multer::Error) -> Msg {
    Msg::new(
        format!("Formulir unggahan tidak terbaca: {e}"),
        format!("The upload form cannot be read: {e}"),
    )
}

/// The form's date: empty, or a day.
fn parse_day(raw: &str) -> Result<Option<NaiveDate>, Msg> {
    if raw.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| {
            Msg::new(
                format!("Tanggal '{raw}' bukan tanggal (TTTT-BB-HH)."),
                format!("The date '{raw}' is not a date (YYYY-MM-DD)."),
            )
        })
}

/// The create form.
#[derive(Debug, Deserialize)]
struct NewEpisodeInput {
    #[serde(default)]
    media_id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    /// `YYYY-MM-DD`, the date the file suggests: kept with the draft as its proposed date
    /// (`EpisodeMeta::proposed_date`), where the editor's schedule starts (a draft has no
    /// publication time).
    #[serde(default)]
    date: String,
}

/// `POST /studio/shows/{slug}/episodes`: a draft of the uploaded media, then its editor. A
/// refusal shows the page again with the values sent and the reason.
#[tracing::instrument(skip_all, fields(%slug))]
async fn create(
    State(state): State<AppState>,
    user: StudioUser,
    Path(slug): Path<String>,
    PageForm(input): PageForm<NewEpisodeInput>,
) -> Result<Response, PageError> {
    let lang = user.lang;
    let show = show_for(&state, &user, &slug, Action::EditDraft).await?;
    let media = episodes::known_media(&state.ctx, &input.media_id)
        .await
        .map_err(|e| PageError::op(lang, e))?;
    let filled = Filled {
        title: input.title,
        description: input.description,
        date: input.date.trim().to_owned(),
    };
    let (status, text) = match parse_day(&filled.date) {
        Err(why) => (StatusCode::UNPROCESSABLE_ENTITY, msg(lang, &why).to_owned()),
        Ok(date) => {
            let draft = EpisodeDraft {
                id: EpisodeId::new(),
                title: filled.title.clone(),
                description: filled.description.clone(),
                media: media.clone(),
                publish_at: None,
                slug: None,
                // The date goes with the draft: whoever schedules it starts from there.
                meta: EpisodeMeta {
                    proposed_date: date,
                    ..EpisodeMeta::default()
                },
                guid: None,
            };
            match episodes::create(&state.ctx, &user.actor(), &show, draft, Utc::now(), None).await
            {
                Ok(episode) => return Ok(see_other(&format!("/studio/episodes/{}", episode.id))),
                Err(e) => refusal(lang, e)?,
            }
        }
    };
    let p = NewEpisodePage {
        show: &show,
        media: Some((&media, &filled)),
        error: Some(text),
        max_bytes: state.settings.max_upload_bytes,
    };
    Ok(render(&state, &user, status, &p))
}
