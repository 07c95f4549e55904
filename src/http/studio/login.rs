//! Signing in and out, and setting a password through a one-time link:
//! `GET/POST /studio/login` (fields `email`, `password`), `POST /studio/logout`,
//! `GET/POST /studio/password/{secret}`.
//!
//! A login that fails shows the form again with one message, whether the email is unknown or
//! the password wrong; ten failures against an account or from an address within 15 minutes
//! answer 429 with `Retry-After` (`service::users::login`). A login that succeeds starts a
//! session under a new id (no id fixed before signing in survives it) with a new CSRF token.

use std::net::SocketAddr;

use axum::{
    Extension, Router,
    extract::{ConnectInfo, Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
    routing::{get, post},
};
use chrono::Utc;
use serde::Deserialize;
use tower_sessions::Session;

use super::{
    AnonForm, PageError, PageForm, StudioLang, StudioUser, anon_token, page, safe_next, see_other,
};
use crate::{
    app::AppState,
    domain::{UserId, users::Password},
    http::{
        csrf,
        error::UiLang,
        sessions::USER_KEY,
        templates::{
            studio::{self as view, LoginForm, Notice},
            t,
        },
    },
    service::{
        self,
        users::{self, LoginError},
    },
};

pub fn router() -> axum::Router<AppState> {
    Router::new()
        .route("/studio/login", get(login_page).post(login))
        .route("/studio/logout", post(logout))
        .route(
            "/studio/password/{secret}",
            get(password_page).post(set_password),
        )
}

/// Where to go once signed in: a studio page other than this one.
fn after_login(next: Option<&str>) -> &str {
    match safe_next(next) {
        n if n.starts_with("/studio/login") || n.starts_with("/studio/logout") => "/studio",
        n => n,
    }
}

#[derive(Debug, Default, Deserialize)]
struct LoginQuery {
    #[serde(default)]
    next: Option<String>,
    /// `password`: a password was just set.
    #[serde(default)]
    done: Option<String>,
}

/// The login form, with the form cookie its token is checked against.
fn login_form(
    state: &AppState,
    headers: &HeaderMap,
    lang: UiLang,
    status: StatusCode,
    email: &str,
    next: &str,
    notice: Option<(Notice, &str)>,
) -> Response {
    let (token, set_cookie) = anon_token(state, headers);
    let markup = view::login(
        lang,
        "/studio/login",
        &LoginForm {
            email,
            next,
            csrf: &token,
            notice,
        },
    );
    let mut res = page(state, status, lang, markup);
    if let Some(cookie) = set_cookie {
        res.headers_mut().append(header::SET_COOKIE, cookie);
    }
    res
}

async fn signed_in(session: &Session) -> bool {
    matches!(session.get::<UserId>(USER_KEY).await, Ok(Some(_)))
}

#[tracing::instrument(skip_all)]
async fn login_page(
    State(state): State<AppState>,
    StudioLang(lang): StudioLang,
    session: Session,
    Query(q): Query<LoginQuery>,
    headers: HeaderMap,
) -> Response {
    let next = after_login(q.next.as_deref());
    if signed_in(&session).await {
        return see_other(next);
    }
    let done = (q.done.as_deref() == Some("password")).then(|| {
        (
            Notice::Done,
            t(
                lang,
                "Kata sandi Anda tersimpan. Silakan masuk.",
                "Your password is saved. Please sign in.",
            ),
        )
    });
    login_form(&state, &headers, lang, StatusCode::OK, "", next, done)
}

#[derive(Debug, Deserialize)]
struct LoginInput {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

#[tracing::instrument(skip_all)]
async fn login(
    State(state): State<AppState>,
    StudioLang(lang): StudioLang,
    session: Session,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    AnonForm(input): AnonForm<LoginInput>,
) -> Result<Response, PageError> {
    let next = after_login(input.next.as_deref());
    let address = peer.map_or_else(
        || "unknown".to_owned(),
        |Extension(ConnectInfo(addr))| {
            crate::http::client_ip(&state, addr.ip(), &headers).to_string()
        },
    );
    match users::login(
        state.ctx.db.as_ref(),
        &input.email,
        &input.password,
        &address,
        Utc::now(),
    )
    .await
    {
        Ok(user) => {
            let failed = |e: tower_sessions::session::Error| PageError::internal(lang, e);
            session.cycle_id().await.map_err(failed)?;
            session.insert(USER_KEY, user.id).await.map_err(failed)?;
            session
                .insert(csrf::SESSION_KEY, csrf::new_token())
                .await
                .map_err(failed)?;
            tracing::info!(user = %user.id, "signed in");
            Ok(see_other(next))
        }
        Err(LoginError::Refused) => {
            let text = t(
                lang,
                "Email atau kata sandi salah.",
                "Wrong email or password.",
            );
            let mut res = login_form(
                &state,
                &headers,
                lang,
                StatusCode::UNAUTHORIZED,
                &input.email,
                next,
                Some((Notice::Error, text)),
            );
            // A 401 names how to authenticate: with this form.
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Form realm=\"Siaran studio\""),
            );
            Ok(res)
        }
        Err(LoginError::Throttled(wait)) => {
            let minutes = (wait.num_seconds() + 59) / 60;
            let text = match lang {
                UiLang::Id => format!(
                    "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam {minutes} menit."
                ),
                UiLang::En => {
                    format!("Too many failed sign-in attempts. Try again in {minutes} minutes.")
                }
            };
            let mut res = login_form(
                &state,
                &headers,
                lang,
                StatusCode::TOO_MANY_REQUESTS,
                &input.email,
                next,
                Some((Notice::Error, &text)),
            );
            res.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(wait.num_seconds().max(1)),
            );
            Ok(res)
        }
        Err(LoginError::Failed(e)) => Err(PageError::op(lang, e)),
    }
}

#[derive(Debug, Deserialize)]
struct Empty {}

#[tracing::instrument(skip_all)]
async fn logout(user: StudioUser, PageForm(_): PageForm<Empty>) -> Result<Response, PageError> {
    user.session
        .flush()
        .await
        .map_err(|e| PageError::internal(user.lang, e))?;
    Ok(see_other("/studio/login"))
}

fn link_gone(lang: UiLang) -> PageError {
    PageError::new(
        StatusCode::NOT_FOUND,
        lang,
        crate::domain::Msg::new("Tautan tidak berlaku", "The link does not work"),
        crate::domain::Msg::new(
            "Tautan ini sudah dipakai, sudah kedaluwarsa (72 jam) atau tidak pernah ada. \
             Minta admin kantor Anda membuat tautan baru.",
            "This link was used already, has expired (72 hours) or never existed. Ask your \
             office's admin for a new one.",
        ),
    )
}

/// The page of a link: its secret is in the path, so the page sends no `Referer` at all.
fn password_form(
    state: &AppState,
    headers: &HeaderMap,
    lang: UiLang,
    status: StatusCode,
    path: &str,
    user: &crate::domain::users::User,
    error: Option<&str>,
) -> Response {
    let (token, set_cookie) = anon_token(state, headers);
    let markup = view::set_password(lang, path, user, &token, error);
    let mut res = page(state, status, lang, markup);
    let h = res.headers_mut();
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if let Some(cookie) = set_cookie {
        h.append(header::SET_COOKIE, cookie);
    }
    res
}

#[tracing::instrument(skip_all)]
async fn password_page(
    State(state): State<AppState>,
    StudioLang(lang): StudioLang,
    Path(secret): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let user = users::link_user(state.ctx.db.as_ref(), &secret, Utc::now())
        .await
        .map_err(|e| PageError::op(lang, e))?
        .ok_or_else(|| link_gone(lang))?;
    let path = format!("/studio/password/{secret}");
    Ok(password_form(
        &state,
        &headers,
        lang,
        StatusCode::OK,
        &path,
        &user,
        None,
    ))
}

#[derive(Debug, Deserialize)]
struct PasswordInput {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

#[tracing::instrument(skip_all)]
async fn set_password(
    State(state): State<AppState>,
    StudioLang(lang): StudioLang,
    Path(secret): Path<String>,
    headers: HeaderMap,
    AnonForm(input): AnonForm<PasswordInput>,
) -> Result<Response, PageError> {
    let now = Utc::now();
    let user = users::link_user(state.ctx.db.as_ref(), &secret, now)
        .await
        .map_err(|e| PageError::op(lang, e))?
        .ok_or_else(|| link_gone(lang))?;
    let path = format!("/studio/password/{secret}");
    let refuse = |text: &str| {
        password_form(
            &state,
            &headers,
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            &path,
            &user,
            Some(text),
        )
    };
    if input.password != input.confirm {
        return Ok(refuse(t(
            lang,
            "Kedua kata sandi tidak sama.",
            "The two passwords differ.",
        )));
    }
    let password = match Password::parse(&input.password) {
        Ok(p) => p,
        Err(rejection) => return Ok(refuse(view::msg(lang, &rejection.msg))),
    };
    match users::set_password_by_link(state.ctx.db.as_ref(), &secret, password, now).await {
        Ok(_) => Ok(see_other("/studio/login?done=password")),
        Err(service::Error::NotFound { .. }) => Err(link_gone(lang)),
        Err(e) => Err(PageError::op(lang, e)),
    }
}
