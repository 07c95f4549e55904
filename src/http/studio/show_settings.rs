//! `/studio/shows/{slug}/settings` (whoever manages shows): the show's text fields, its Apple
//! category picked from Apple's list, its owner and language, and its feed's address to copy.
//! Saved through `service::shows::update`, the operation `PATCH /api/v1/shows/{slug}` calls,
//! after the same permission check; a refusal shows the page again with what was posted.

use axum::{
    Router,
    extract::{Path, RawQuery, Request, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use chrono::Utc;
use serde::Deserialize;

use super::{PageError, PageForm, StudioUser, files, page, see_other};
use crate::{
    app::AppState,
    domain::{Msg, Show, ShowPatch, access::Action},
    http::templates::{
        studio::{Notice, msg},
        studio_show::{self as view, ShowValues},
        t,
    },
    service::{
        self,
        shows::{self, COVER_MAX_BYTES},
    },
};

pub fn router() -> Router<AppState> {
    Router::new().route("/studio/shows/{slug}/settings", get(show).post(save))
}

/// The cover's form: a body as long as an image, so among the untimed routes.
pub fn untimed_router() -> Router<AppState> {
    Router::new().route("/studio/shows/{slug}/cover", post(cover))
}

fn values_of(show: &Show) -> ShowValues {
    ShowValues {
        slug: show.slug.to_string(),
        title: show.title.clone(),
        description: show.description.clone(),
        author: show.author.clone(),
        email: show.email.clone(),
        language: show.language.to_string(),
        category: show.category.clone(),
        explicit: show.explicit,
    }
}

async fn load(state: &AppState, user: &StudioUser, slug: &str) -> Result<Show, PageError> {
    let show = shows::load(&state.ctx, slug)
        .await
        .map_err(|e| PageError::op(user.lang, e))?;
    user.require(show.id, Action::ManageShows)?;
    Ok(show)
}

fn render(
    state: &AppState,
    user: &StudioUser,
    show: &Show,
    values: &ShowValues,
    said: Option<(Notice, &str)>,
    status: StatusCode,
) -> Response {
    let feed_url = state.ctx.urls.feed(&show.slug);
    let cover_url = show
        .artwork
        .as_ref()
        .map(|a| state.ctx.urls.artwork(show.id, a));
    page(
        state,
        status,
        user.lang,
        view::settings(
            &user.chrome(),
            show,
            values,
            &feed_url,
            cover_url.as_deref(),
            said,
        ),
    )
}

#[tracing::instrument(skip_all, fields(%slug))]
async fn show(
    State(state): State<AppState>,
    user: StudioUser,
    Path(slug): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let show = load(&state, &user, &slug).await?;
    let done = (query.as_deref() == Some("done=1"))
        .then(|| (Notice::Done, t(user.lang, "Tersimpan.", "Saved.")));
    Ok(render(
        &state,
        &user,
        &show,
        &values_of(&show),
        done,
        StatusCode::OK,
    ))
}

#[derive(Debug, Deserialize)]
struct SettingsForm {
    slug: String,
    title: String,
    description: String,
    author: String,
    email: String,
    language: String,
    category: String,
    #[serde(default)]
    explicit: Option<String>,
}

#[tracing::instrument(skip_all, fields(%slug))]
async fn save(
    State(state): State<AppState>,
    user: StudioUser,
    Path(slug): Path<String>,
    PageForm(form): PageForm<SettingsForm>,
) -> Result<Response, PageError> {
    let lang = user.lang;
    let show = load(&state, &user, &slug).await?;
    let values = ShowValues {
        slug: form.slug.trim().to_owned(),
        title: form.title,
        description: form.description,
        author: form.author,
        email: form.email,
        language: form.language,
        category: form.category,
        explicit: form.explicit.is_some(),
    };
    let patch = ShowPatch {
        slug: Some(values.slug.clone()),
        title: Some(values.title.clone()),
        description: Some(values.description.clone()),
        language: Some(values.language.clone()),
        author: Some(values.author.clone()),
        email: Some(values.email.clone()),
        category: Some(values.category.clone()),
        explicit: Some(values.explicit),
        meta: None,
    };
    match shows::update(&state.ctx, &user.actor(), show.clone(), patch).await {
        Ok(saved) => Ok(see_other(&format!(
            "/studio/shows/{}/settings?done=1",
            saved.slug
        ))),
        Err(e @ (service::Error::Invalid { .. } | service::Error::Conflict { .. })) => {
            let text = msg(lang, &e.message()).to_owned();
            let status = match e {
                service::Error::Conflict { .. } => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            Ok(render(
                &state,
                &user,
                &show,
                &values,
                Some((Notice::Error, &text)),
                status,
            ))
        }
        Err(e) => Err(PageError::op(lang, e)),
    }
}

/// `POST /studio/shows/{slug}/cover` (`multipart/form-data`: `csrf`, then `file`): the image
/// through `service::shows::set_cover`, the operation `PUT /api/v1/shows/{slug}/artwork`
/// calls; a refusal shows the page again with Apple's rule it broke.
#[tracing::instrument(skip_all, fields(%slug))]
async fn cover(
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
    let show = load(&state, &user, &slug).await?;
    let what = Msg::new(
        "Pilih berkas sampul dulu.",
        "Choose the cover's file first.",
    );
    let limit = COVER_MAX_BYTES as u64;
    let posted = files::posted_file(&state, &user.session, lang, req, limit, &what).await?;
    let set = match posted {
        Ok(file) => match file.bytes().await {
            Ok(image) => {
                shows::set_cover(&state.ctx, &user.actor(), show.clone(), image, Utc::now())
                    .await
                    .map_err(|e| files::refusal(lang, e))
            }
            Err(e) => Err(files::refusal(lang, e)),
        },
        Err(refused) => Err(Ok(refused)),
    };
    match set {
        Ok(saved) => Ok(see_other(&format!(
            "/studio/shows/{}/settings?done=1",
            saved.slug
        ))),
        Err(refused) => {
            let (status, text) = refused?;
            Ok(render(
                &state,
                &user,
                &show,
                &values_of(&show),
                Some((Notice::Error, &text)),
                status,
            ))
        }
    }
}
