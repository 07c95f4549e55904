//! `/studio/users` (admins; `people`, as `users` names the operations): the studio's users with their role, the shows where an admin gave
//! them another one, and the two changes an admin makes here: a user's role on one show
//! (`service::users::set_show_role`: editor, contributor, none, or back to its own role) and
//! disabling or enabling a user (`service::users::set_disabled`: its sessions end at once).
//! Users are created on the command line (`siaran user create`), which prints the link to set a
//! password.

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use chrono::Utc;
use serde::Deserialize;

use super::{PageError, PageForm, StudioUser, page, see_other};
use crate::{
    app::AppState,
    domain::{Msg, access::Action, users::ShowRole},
    http::templates::{
        studio::{Notice, msg},
        studio_users::{self as view, UserLine},
    },
    service::{self, users},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/studio/users", get(list))
        .route("/studio/users/{id}/roles", post(set_role))
        .route("/studio/users/{id}/disabled", post(set_disabled))
}

#[tracing::instrument(skip_all)]
async fn list(
    State(state): State<AppState>,
    user: StudioUser,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, PageError> {
    user.require_globally(Action::ManageUsers)?;
    let done = (query.as_deref() == Some("done=1"))
        .then(|| (Notice::Done, Msg::new("Tersimpan.", "Saved.")));
    render(&state, &user, StatusCode::OK, done).await
}

/// The page, with what the last change came to (done, or why it was refused).
async fn render(
    state: &AppState,
    user: &StudioUser,
    status: StatusCode,
    said: Option<(Notice, Msg)>,
) -> Result<Response, PageError> {
    let lang = user.lang;
    let db = state.ctx.db.as_ref();
    let failed = |e: crate::db::DbError| PageError::op(lang, e.into());
    let shows = db.list_shows().await.map_err(failed)?;
    let mut lines = Vec::new();
    for person in db.list_users().await.map_err(failed)? {
        let roles = db.show_roles(person.id).await.map_err(failed)?;
        let on_shows = roles
            .into_iter()
            .filter_map(|(id, role)| Some((shows.iter().find(|s| s.id == id)?.clone(), role)))
            .collect();
        lines.push(UserLine {
            user: person,
            on_shows,
        });
    }
    Ok(page(
        state,
        status,
        lang,
        view::users(
            &user.chrome(),
            &lines,
            &shows,
            said.as_ref().map(|(kind, m)| (*kind, msg(lang, m))),
        ),
    ))
}

#[derive(Debug, Deserialize)]
struct RoleForm {
    show: String,
    /// `editor`, `contributor`, `none`, or `default` (the user's own role again).
    role: String,
}

#[tracing::instrument(skip_all, fields(%id))]
async fn set_role(
    State(state): State<AppState>,
    user: StudioUser,
    Path(id): Path<String>,
    PageForm(form): PageForm<RoleForm>,
) -> Result<Response, PageError> {
    user.require_globally(Action::ManageUsers)?;
    let lang = user.lang;
    let db = state.ctx.db.as_ref();
    let person = load(&state, &user, &id).await?;
    let changed = async {
        let show = service::shows::load(&state.ctx, &form.show).await?;
        let role = match form.role.as_str() {
            "default" => None,
            other => Some(other.parse::<ShowRole>().map_err(service::Error::from)?),
        };
        users::set_show_role(db, &user.actor(), &person, &show, role).await
    }
    .await;
    match changed {
        Ok(()) => Ok(see_other("/studio/users?done=1")),
        Err(e @ (service::Error::Invalid { .. } | service::Error::NotFound { .. })) => {
            render(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some((Notice::Error, e.message())),
            )
            .await
        }
        Err(e) => Err(PageError::op(lang, e)),
    }
}

#[derive(Debug, Deserialize)]
struct DisabledForm {
    /// `1` disables, `0` enables.
    disabled: String,
}

#[tracing::instrument(skip_all, fields(%id))]
async fn set_disabled(
    State(state): State<AppState>,
    user: StudioUser,
    Path(id): Path<String>,
    PageForm(form): PageForm<DisabledForm>,
) -> Result<Response, PageError> {
    user.require_globally(Action::ManageUsers)?;
    let person = load(&state, &user, &id).await?;
    if person.id == user.user.id {
        let why = Msg::new(
            "Anda tidak dapat menonaktifkan akun Anda sendiri.",
            "You cannot disable your own account.",
        );
        let why = Some((Notice::Error, why));
        return render(&state, &user, StatusCode::UNPROCESSABLE_ENTITY, why).await;
    }
    users::set_disabled(
        state.ctx.db.as_ref(),
        &user.actor(),
        person,
        form.disabled == "1",
        Utc::now(),
    )
    .await
    .map_err(|e| PageError::op(user.lang, e))?;
    Ok(see_other("/studio/users?done=1"))
}

async fn load(
    state: &AppState,
    user: &StudioUser,
    id: &str,
) -> Result<crate::domain::users::User, PageError> {
    let id = id
        .parse()
        .map_err(|_| PageError::op(user.lang, service::Error::NotFound { what: "user" }))?;
    users::load(state.ctx.db.as_ref(), id)
        .await
        .map_err(|e| PageError::op(user.lang, e))
}
