//! The studio (issue 23): the media team's pages under `/studio`, behind a session
//! (`http::sessions`). This module holds what every studio page uses; each page is a module of
//! its own (`login`, `dashboard`, `episodes`, `tokens`), a handler there extracting, calling one operation
//! (`service`) and rendering a view (`templates::studio`).
//!
//! The pieces a page uses:
//! - [`StudioUser`], the extractor of the signed-in user (its record, what it may do, the
//!   session's CSRF token, the page's language and path): a request without one is sent to the
//!   login page; [`StudioUser::require`] is the permission check, the same as the API's
//!   (`domain::access`), answering a 403 page;
//! - [`PageForm`], the extractor of a form posted from a signed-in page, which refuses (403) a
//!   request from another site or without the session's token (`csrf`); [`AnonForm`], the same
//!   for forms before signing in; [`check_write`] for a handler that reads its body itself (a
//!   file upload);
//! - [`StudioLang`], the page's language: the `siaran_lang` cookie the language switch sets,
//!   else `Accept-Language`, else Indonesian;
//! - [`page`], the response of a page (its security policy, never cached), and [`PageError`],
//!   a page saying why a request was not answered.

mod dashboard;
mod documents;
mod episode_files;
mod episodes;
mod files;
mod login;
mod people;
mod show_settings;
mod site_settings;
mod stats;
mod tokens;
mod upload;

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{FromRequest, FromRequestParts, Request},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use chrono::Utc;
use maud::Markup;
use serde::{Deserialize, de::DeserializeOwned};
use tower_sessions::Session;

use crate::{
    app::AppState,
    domain::{
        Msg, ShowId,
        access::{Access, Action},
        audit::Actor,
        users::User,
    },
    http::{
        csrf::{self, FormCookie, Refusal},
        error::UiLang,
        sessions::{SEEN_KEY, USER_KEY},
        templates::{
            studio::{self as view, Chrome},
            t,
        },
    },
    service::{self, users},
};

/// The studio's routes, with the session layer around them.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(login::router())
        .merge(dashboard::router())
        .merge(documents::router())
        .merge(episodes::router())
        .merge(tokens::router())
        .merge(people::router())
        .merge(show_settings::router())
        .merge(site_settings::router())
        .merge(stats::router())
        .merge(upload::router())
        .route("/studio/lang", get(switch_language))
        .route("/studio/{*rest}", get(not_found).post(not_found))
        .layer(crate::http::sessions::layer(state))
}

/// The studio's routes that read a body as long as a file (`upload`), with the session layer:
/// `app::build_router` keeps them out of the pages' timeout.
pub fn untimed_router(state: &AppState) -> Router<AppState> {
    upload::untimed_router()
        // The editor's file forms (a 10 MB cover over a slow uplink outlasts the API's timeout)
        // and, beside them, its cover and preview pages.
        .merge(episode_files::router())
        .merge(show_settings::untimed_router())
        .merge(documents::untimed_router())
        .merge(site_settings::untimed_router())
        .layer(crate::http::sessions::layer(state))
}

/// The cookie that keeps the language a person chose.
const LANG_COOKIE: &str = "siaran_lang";

/// The language of a studio page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StudioLang(pub UiLang);

impl StudioLang {
    pub fn of(headers: &HeaderMap) -> UiLang {
        match csrf::cookie(headers, LANG_COOKIE).as_deref() {
            Some("en") => UiLang::En,
            Some("id") => UiLang::Id,
            _ => UiLang::from_headers(headers),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for StudioLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(StudioLang(StudioLang::of(&parts.headers)))
    }
}

/// The signed-in user of a studio page.
#[derive(Debug, Clone)]
pub struct StudioUser {
    pub user: User,
    /// What it may do, show by show.
    pub access: Access,
    /// The session's CSRF token, which the page's forms carry (`templates::studio::csrf_field`).
    pub csrf: String,
    pub lang: UiLang,
    /// The page's path.
    pub path: String,
    pub session: Session,
}

impl StudioUser {
    /// Who the audit trail names for what this user does.
    pub fn actor(&self) -> Actor {
        users::actor(&self.user)
    }

    /// What the page's frame needs (`templates::studio::layout`).
    pub fn chrome(&self) -> Chrome<'_> {
        Chrome {
            lang: self.lang,
            user: &self.user,
            access: &self.access,
            csrf: &self.csrf,
            path: &self.path,
        }
    }

    /// A 403 page naming the action, unless the user may do `action` on `show`.
    pub fn require(&self, show: ShowId, action: Action) -> Result<(), PageError> {
        if self.access.may(show, action) {
            Ok(())
        } else {
            Err(PageError::forbidden(self.lang, action))
        }
    }

    /// As `require`, for what belongs to no show or to all (documents, uploads).
    pub fn require_somewhere(&self, action: Action) -> Result<(), PageError> {
        if self.access.may_somewhere(action) {
            Ok(())
        } else {
            Err(PageError::forbidden(self.lang, action))
        }
    }

    /// As `require`, for what is above shows (users, site settings): the user's own role.
    pub fn require_globally(&self, action: Action) -> Result<(), PageError> {
        if self.access.may_globally(action) {
            Ok(())
        } else {
            Err(PageError::forbidden(self.lang, action))
        }
    }
}

fn session_of(parts_ext: &axum::http::Extensions, lang: UiLang) -> Result<Session, PageError> {
    parts_ext
        .get::<Session>()
        .cloned()
        .ok_or_else(|| PageError::internal(lang, "a studio route without the session layer"))
}

impl FromRequestParts<AppState> for StudioUser {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let lang = StudioLang::of(&parts.headers);
        let session = session_of(&parts.extensions, lang)?;
        // After signing in, a page asked for is shown; a form posted is not sent again.
        let next = if parts.method == Method::GET {
            parts
                .uri
                .path_and_query()
                .map_or("/studio", |p| p.as_str())
                .to_owned()
        } else {
            "/studio".to_owned()
        };
        let sign_in = || PageError::SignIn {
            next: safe_next(Some(&next)).to_owned(),
        };
        let failed = |e: tower_sessions::session::Error| PageError::internal(lang, e);
        let Some(user_id) = session.get(USER_KEY).await.map_err(failed)? else {
            return Err(sign_in());
        };
        let user = match users::load(state.ctx.db.as_ref(), user_id).await {
            Ok(user) if !user.disabled => user,
            Ok(_) | Err(service::Error::NotFound { .. }) => {
                session.flush().await.map_err(failed)?;
                return Err(sign_in());
            }
            Err(e) => return Err(PageError::op(lang, e)),
        };
        let access = users::access(state.ctx.db.as_ref(), &user)
            .await
            .map_err(|e| PageError::op(lang, e))?;
        let csrf = session
            .get::<String>(csrf::SESSION_KEY)
            .await
            .map_err(failed)?
            .unwrap_or_default();
        // Written again at most once a minute: that pushes the idle expiry back.
        let minute = Utc::now().timestamp() / 60;
        if session.get::<i64>(SEEN_KEY).await.map_err(failed)? != Some(minute) {
            session.insert(SEEN_KEY, minute).await.map_err(failed)?;
        }
        Ok(StudioUser {
            user,
            access,
            csrf,
            lang,
            path: parts.uri.path().to_owned(),
            session,
        })
    }
}

/// The largest form a page posts (files go through the upload API).
pub const FORM_LIMIT: usize = 64 * 1024;

#[derive(Debug, Default, Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// The two CSRF checks of a page's write (`csrf`): where it comes from, and `sent` (the form's
/// token) against the signed-in session's. For a handler that reads its body itself; forms
/// use `PageForm`.
pub async fn check_write(
    state: &AppState,
    headers: &HeaderMap,
    session: &Session,
    sent: &str,
) -> Result<(), PageError> {
    let lang = StudioLang::of(headers);
    csrf::check_origin(headers, &state.settings.public_url)
        .map_err(|r| PageError::refused(lang, r))?;
    let expected: Option<String> = session
        .get(csrf::SESSION_KEY)
        .await
        .map_err(|e| PageError::internal(lang, e))?;
    csrf::check_token(sent, expected.as_deref()).map_err(|r| PageError::refused(lang, r))
}

async fn form_body(req: Request, lang: UiLang) -> Result<Bytes, PageError> {
    if crate::http::declared_length(req.headers()).is_some_and(|n| n > FORM_LIMIT as u64) {
        return Err(PageError::bad_form(lang, too_long()));
    }
    axum::body::to_bytes(req.into_body(), FORM_LIMIT)
        .await
        .map_err(|_| PageError::bad_form(lang, too_long()))
}

fn too_long() -> Msg {
    Msg::new("Formulir terlalu panjang", "The form is too long")
}

fn parse_form<T: DeserializeOwned>(body: &[u8], lang: UiLang) -> Result<T, PageError> {
    serde_urlencoded::from_bytes(body).map_err(|e| {
        PageError::bad_form(
            lang,
            Msg::new(
                format!("Formulir tidak terbaca: {e}"),
                format!("The form cannot be read: {e}"),
            ),
        )
    })
}

/// A form posted from a signed-in page, its CSRF checks passed (`check_write`). Its handler
/// takes `StudioUser` too, before it, so that a request without a session goes to the login
/// page rather than to a 403.
#[derive(Debug, Clone)]
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for PageForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, PageError> {
        let lang = StudioLang::of(req.headers());
        let headers = req.headers().clone();
        let session = session_of(req.extensions(), lang)?;
        let body = form_body(req, lang).await?;
        let sent: CsrfField = serde_urlencoded::from_bytes(&body).unwrap_or_default();
        check_write(state, &headers, &session, &sent.csrf).await?;
        Ok(PageForm(parse_form(&body, lang)?))
    }
}

/// A form posted before signing in (log in, set a password), its CSRF checks passed: the
/// origin, and the token against the form cookie its page set (`csrf::FormCookie`).
#[derive(Debug, Clone)]
pub struct AnonForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for AnonForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, PageError> {
        let lang = StudioLang::of(req.headers());
        let public_url = &state.settings.public_url;
        csrf::check_origin(req.headers(), public_url).map_err(|r| PageError::refused(lang, r))?;
        let expected = FormCookie::new(public_url).value(req.headers());
        let body = form_body(req, lang).await?;
        let sent: CsrfField = serde_urlencoded::from_bytes(&body).unwrap_or_default();
        csrf::check_token(&sent.csrf, expected.as_deref())
            .map_err(|r| PageError::refused(lang, r))?;
        Ok(AnonForm(parse_form(&body, lang)?))
    }
}

/// The form token of a page shown before signing in: the one its cookie holds, else a new one
/// and the `Set-Cookie` that gives it.
pub fn anon_token(state: &AppState, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    let cookie = FormCookie::new(&state.settings.public_url);
    match cookie.value(headers).filter(|t| t.len() >= 32) {
        Some(token) => (token, None),
        None => {
            let token = csrf::new_token();
            let set = cookie.set(&token);
            (token, Some(set))
        }
    }
}

/// A studio page: the HTML with the pages' security policy, never stored by a cache (it is one
/// person's), in `lang`.
pub fn page(state: &AppState, status: StatusCode, lang: UiLang, markup: Markup) -> Response {
    let mut res = Response::new(Body::from(markup.into_string()));
    *res.status_mut() = status;
    state.policies.page.apply(res.headers_mut());
    finish_page(res.headers_mut(), lang);
    res
}

fn finish_page(h: &mut HeaderMap, lang: UiLang) {
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(t(lang, "id", "en")),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::VARY,
        HeaderValue::from_static("Cookie, Accept-Language"),
    );
}

/// 303 to `to`: after a form, the browser asks for the next page with a GET.
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Where to go after signing in: a studio path, else the dashboard (never another site).
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if (n == "/studio" || n.starts_with("/studio/") || n.starts_with("/studio?"))
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n
        }
        _ => "/studio",
    }
}

/// Why a studio request was not answered with its page.
#[derive(Debug)]
pub enum PageError {
    /// Not signed in: to the login page, then `next`.
    SignIn { next: String },
    /// A page saying why.
    Page {
        status: StatusCode,
        lang: UiLang,
        heading: Msg,
        detail: Msg,
    },
}

impl PageError {
    pub fn new(status: StatusCode, lang: UiLang, heading: Msg, detail: Msg) -> PageError {
        PageError::Page {
            status,
            lang,
            heading,
            detail,
        }
    }

    /// 403: from another site, or without the form's token.
    pub fn refused(lang: UiLang, why: Refusal) -> PageError {
        let detail = match why {
            Refusal::CrossSite => Msg::new(
                "Formulir ini dikirim dari situs lain, bukan dari studio.",
                "This form was sent from another site, not from the studio.",
            ),
            Refusal::Token => Msg::new(
                "Formulir ini kedaluwarsa atau tidak berasal dari studio. Muat ulang halamannya \
                 lalu coba lagi.",
                "This form has expired or did not come from the studio. Reload its page and try \
                 again.",
            ),
        };
        PageError::new(
            StatusCode::FORBIDDEN,
            lang,
            Msg::new("Permintaan ditolak", "Request refused"),
            detail,
        )
    }

    /// 403: the user's role does not allow `action`.
    pub fn forbidden(lang: UiLang, action: Action) -> PageError {
        PageError::new(
            StatusCode::FORBIDDEN,
            lang,
            Msg::new("Tidak diizinkan", "Not allowed"),
            action.refused(),
        )
    }

    pub fn not_found(lang: UiLang) -> PageError {
        PageError::new(
            StatusCode::NOT_FOUND,
            lang,
            Msg::new("Halaman tidak ditemukan", "Page not found"),
            Msg::new(
                "Alamat ini tidak menunjuk ke halaman studio.",
                "This address does not lead to a studio page.",
            ),
        )
    }

    pub fn bad_form(lang: UiLang, detail: Msg) -> PageError {
        PageError::new(
            StatusCode::BAD_REQUEST,
            lang,
            Msg::new(
                "Formulir tidak dapat diproses",
                "The form cannot be processed",
            ),
            detail,
        )
    }

    /// 500, the cause logged and not shown.
    pub fn internal(lang: UiLang, cause: impl std::fmt::Display) -> PageError {
        tracing::error!(error = %cause, "studio request failed");
        PageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            lang,
            Msg::new("Terjadi kesalahan", "Something went wrong"),
            Msg::new(
                "Terjadi kesalahan internal. Coba lagi sebentar lagi.",
                "An internal error occurred. Try again in a moment.",
            ),
        )
    }

    /// What an operation refused or failed at, as a page.
    pub fn op(lang: UiLang, e: service::Error) -> PageError {
        let e = crate::http::error::AppError::Op(e);
        match e.status() {
            StatusCode::NOT_FOUND => PageError::not_found(lang),
            s if s.is_server_error() => PageError::internal(lang, format!("{e:?}")),
            s => PageError::new(
                s,
                lang,
                Msg::new("Tidak dapat diproses", "Cannot be done"),
                e.message(),
            ),
        }
    }
}

/// The policy of a page saying why a request was refused: it shows text and the studio's
/// styles only, so it needs none of the settings' origins.
const ERROR_PAGE_POLICY: &str = "default-src 'none'; style-src 'self'; form-action 'self'; \
                                 frame-ancestors 'none'; base-uri 'none'";

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn { next } => {
                let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
                see_other(&format!("/studio/login?next={next}"))
            }
            PageError::Page {
                status,
                lang,
                heading,
                detail,
            } => {
                let markup = view::error(
                    lang,
                    "/studio",
                    view::msg(lang, &heading),
                    view::msg(lang, &detail),
                );
                let mut res = Response::new(Body::from(markup.into_string()));
                *res.status_mut() = status;
                let h = res.headers_mut();
                h.insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(ERROR_PAGE_POLICY),
                );
                h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
                finish_page(h, lang);
                res
            }
        }
    }
}

#[derive(Debug, Deserialize)]
struct LangQuery {
    #[serde(default)]
    to: String,
    #[serde(default)]
    back: Option<String>,
}

/// `GET /studio/lang?to=en&back=/studio/...`: keeps the choice in a cookie for a year and goes
/// back. A link, so that it works without a form and by keyboard; it changes no data.
async fn switch_language(axum::extract::Query(q): axum::extract::Query<LangQuery>) -> Response {
    let back = safe_next(q.back.as_deref());
    let mut res = see_other(back);
    if matches!(q.to.as_str(), "id" | "en") {
        let cookie = format!(
            "{LANG_COOKIE}={}; Path=/studio; Max-Age=31536000; SameSite=Lax",
            q.to
        );
        if let Ok(v) = HeaderValue::try_from(cookie) {
            res.headers_mut().insert(header::SET_COOKIE, v);
        }
    }
    res
}

/// An address under `/studio` that is no page: the login page first, then a 404 page.
async fn not_found(user: StudioUser) -> PageError {
    PageError::not_found(user.lang)
}
