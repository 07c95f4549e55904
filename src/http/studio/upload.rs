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
    extract::{Path, Query, Request, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;

use super::{PageError, PageForm, StudioUser, files, page, see_other};
use crate::{
    app::AppState,
    domain::{EpisodeDraft, EpisodeId, EpisodeMeta, Media, Msg, Show, access::Action, file_meta},
    http::templates::{
        studio::msg,
        studio_upload::{self as view, Filled, NewEpisodePage},
    },
    service::{self, episodes},
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
        Err(e) => return Ok(files::sign_in_first(e)),
    };
    let lang = user.lang;
    let show = show_for(&state, &user, &slug, Action::Upload).await?;
    let limit = state.settings.max_upload_bytes;
    let refused = |(status, text): files::Refused| {
        let p = NewEpisodePage {
            show: &show,
            media: None,
            error: Some(text),
            max_bytes: limit,
        };
        Ok::<_, PageError>(render(&state, &user, status, &p))
    };
    let file = match files::posted_file(&state, &user.session, lang, req, limit, &no_file()).await?
    {
        Ok(file) => file,
        Err(refused_) => return refused(refused_),
    };
    let filename = file.filename.clone();
    match service::media::upload(&state.ctx, &filename, file.stream(), limit).await {
        Ok(media) => Ok(see_other(&format!(
            "{}?media={}",
            page_path(&show),
            media.id
        ))),
        Err(e) => refused(files::refusal(lang, e)?),
    }
}

fn no_file() -> Msg {
    Msg::new(
        "Pilih berkas rekaman dulu.",
        "Choose a recording's file first.",
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
                Err(e) => files::refusal(lang, e)?,
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
