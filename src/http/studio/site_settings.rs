//! `/studio/site` (admins: `Action::ManageSite`): the office's name, colours and footer
//! (`service::site::update`) and its logo (`service::site::set_logo`, a multipart form among
//! the untimed routes), which every public page, the embed player and a feed's browser view
//! use. A refusal shows the page again with what was typed and the rule broken.

use axum::{
    Router,
    extract::{RawQuery, Request, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use chrono::Utc;

use super::{PageError, PageForm, StudioUser, files, page, see_other};
use crate::{
    app::AppState,
    domain::{Msg, access::Action, site::SiteForm},
    http::templates::{
        studio::{Notice, msg},
        studio_site as view, t,
    },
    service::{
        self,
        site::{self, LOGO_MAX_BYTES},
    },
};

pub fn router() -> Router<AppState> {
    Router::new().route("/studio/site", get(show).post(save))
}

/// The logo's form, reading a file: among the untimed routes.
pub fn untimed_router() -> Router<AppState> {
    Router::new().route("/studio/site/logo", post(logo))
}

async fn render(
    state: &AppState,
    user: &StudioUser,
    values: Option<&SiteForm>,
    said: Option<(Notice, &str)>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let stored = site::load(&state.ctx)
        .await
        .map_err(|e| PageError::op(user.lang, e))?;
    let logo_url = stored
        .logo
        .as_ref()
        .map(|l| format!("/site/logo/{}", l.file_name()));
    let values = values.cloned().unwrap_or_else(|| SiteForm::of(&stored));
    Ok(page(
        state,
        status,
        user.lang,
        view::settings(&user.chrome(), &values, logo_url.as_deref(), said),
    ))
}

#[tracing::instrument(skip_all)]
async fn show(
    State(state): State<AppState>,
    user: StudioUser,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    user.require_globally(Action::ManageSite)?;
    let done = (query.as_deref() == Some("done=1"))
        .then(|| (Notice::Done, t(user.lang, "Tersimpan.", "Saved.")));
    render(&state, &user, None, done, StatusCode::OK).await
}

#[tracing::instrument(skip_all)]
async fn save(
    State(state): State<AppState>,
    user: StudioUser,
    PageForm(form): PageForm<SiteForm>,
) -> Result<Response, PageError> {
    user.require_globally(Action::ManageSite)?;
    let lang = user.lang;
    match site::update(&state.ctx, &user.actor(), form.clone()).await {
        Ok(_) => Ok(see_other("/studio/site?done=1")),
        Err(e @ service::Error::Invalid { .. }) => {
            let text = msg(lang, &e.message()).to_owned();
            let said = Some((Notice::Error, text.as_str()));
            render(
                &state,
                &user,
                Some(&form),
                said,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(PageError::op(lang, e)),
    }
}

/// `POST /studio/site/logo` (`multipart/form-data`: `csrf`, then `file`).
#[tracing::instrument(skip_all)]
async fn logo(
    State(state): State<AppState>,
    user: Result<StudioUser, PageError>,
    req: Request,
) -> Result<Response, PageError> {
    let user = match user {
        Ok(user) => user,
        Err(e) => return Ok(files::sign_in_first(e)),
    };
    if let Err(e) = user.require_globally(Action::ManageSite) {
        return Ok(files::sign_in_first(e));
    }
    let lang = user.lang;
    let what = Msg::new("Pilih berkas logo dulu.", "Choose the logo's file first.");
    let limit = LOGO_MAX_BYTES as u64;
    let posted = files::posted_file(&state, &user.session, lang, req, limit, &what).await?;
    let set = match posted {
        Ok(file) => match file.bytes().await {
            Ok(image) => site::set_logo(&state.ctx, &user.actor(), image, Utc::now())
                .await
                .map_err(|e| files::refusal(lang, e)),
            Err(e) => Err(files::refusal(lang, e)),
        },
        Err(refused) => Err(Ok(refused)),
    };
    match set {
        Ok(_) => Ok(see_other("/studio/site?done=1")),
        Err(refused) => {
            let (status, text) = refused?;
            render(&state, &user, None, Some((Notice::Error, &text)), status).await
        }
    }
}
