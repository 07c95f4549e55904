//! The studio's pages (issue 23), server-rendered with maud like the public pages: every value
//! is escaped by the macro, no inline script or style (the styles are `studio.css`, served by
//! `http::assets`), every control a plain link or form that works without JavaScript and by
//! keyboard, and the layout holds at 360 px.
//!
//! What every studio page shares is here, for the pages to come to reuse:
//! - [`layout`]: the frame of a signed-in page — a link past the header, the office's name, the
//!   user's name, sign-out, the navigation ([`NAV`], each entry shown to whom it concerns), the
//!   language switch — around one page's body, given as a [`Chrome`];
//! - [`bare`]: the frame of a page before signing in (log in, set a password, errors);
//! - [`csrf_field`]: the hidden field every form that changes something carries;
//! - [`notice`]: a message above a form (an error, or what just happened).

use maud::{DOCTYPE, Markup, html};

use super::t;
use crate::{
    db::ApiToken,
    domain::{
        Msg,
        access::{Access, Action},
        users::User,
    },
    http::{assets, csrf, error::UiLang},
};

/// The name in the header until the office's own is a setting (the site settings page).
pub const OFFICE: &str = "Siaran";

/// What the frame of a signed-in page needs.
#[derive(Debug, Clone, Copy)]
pub struct Chrome<'a> {
    pub lang: UiLang,
    pub user: &'a User,
    pub access: &'a Access,
    /// The session's CSRF token, for the sign-out form and the page's own forms.
    pub csrf: &'a str,
    /// The page's path: the navigation marks it, the language switch comes back to it.
    pub path: &'a str,
}

/// One entry of the navigation.
#[derive(Debug, Clone, Copy)]
pub struct NavItem {
    pub path: &'static str,
    pub id: &'static str,
    pub en: &'static str,
    /// Whom it is shown to.
    pub shown: fn(&Access) -> bool,
}

fn everyone(_: &Access) -> bool {
    true
}

fn document_keepers(access: &Access) -> bool {
    access.may_somewhere(Action::ManageDocuments)
}

fn admins(access: &Access) -> bool {
    access.may_globally(Action::ManageUsers)
}

/// The studio's navigation, in order. A page of its own adds its entry here.
pub const NAV: &[NavItem] = &[
    NavItem {
        path: "/studio",
        id: "Dasbor",
        en: "Dashboard",
        shown: everyone,
    },
    NavItem {
        path: "/studio/tokens",
        id: "Token API",
        en: "API tokens",
        shown: everyone,
    },
    NavItem {
        path: "/studio/documents",
        id: "Dokumen",
        en: "Documents",
        shown: document_keepers,
    },
    NavItem {
        path: "/studio/users",
        id: "Pengguna",
        en: "Users",
        shown: ADMINS_ONLY,
    },
    NavItem {
        path: "/studio/site",
        id: "Situs",
        en: "Site",
        shown: site_keepers,
    },
];

fn site_keepers(access: &Access) -> bool {
    access.may_globally(Action::ManageSite)
}

/// `shown` for entries only admins see (users, site settings), for the pages that add them.
pub const ADMINS_ONLY: fn(&Access) -> bool = admins;

/// A message in the page's language.
pub fn msg(lang: UiLang, m: &Msg) -> &str {
    match lang {
        UiLang::Id => &m.id,
        UiLang::En => &m.en,
    }
}

/// The hidden field that carries the CSRF token; inside every `<form method="post">`.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name=(csrf::FIELD) value=(token); }
}

/// What a notice is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Something went wrong: read out at once (`role="alert"`).
    Error,
    /// Something was done (`role="status"`).
    Done,
}

pub fn notice(kind: Notice, text: &str) -> Markup {
    match kind {
        Notice::Error => html! { p.notice.error role="alert" { (text) } },
        Notice::Done => html! { p.notice.done role="status" { (text) } },
    }
}

fn code(lang: UiLang) -> &'static str {
    t(lang, "id", "en")
}

/// The link to the page in the other language.
fn language_switch(lang: UiLang, path: &str) -> Markup {
    let (other, label) = match lang {
        UiLang::Id => ("en", "English"),
        UiLang::En => ("id", "Bahasa Indonesia"),
    };
    let back: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
    html! {
        a.lang href={ "/studio/lang?to=" (other) "&back=" (back) } hreflang=(other) lang=(other) { (label) }
    }
}

fn head(lang: UiLang, title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="robots" content="noindex";
            title { (title) " · " (t(lang, "Studio", "Studio")) " · " (OFFICE) }
            link rel="stylesheet" href=(assets::STUDIO_STYLE.path());
        }
    }
}

/// The frame of a signed-in page around `body`, whose one `<h1>` is `title`.
pub fn layout(c: &Chrome<'_>, title: &str, body: &Markup) -> Markup {
    let lang = c.lang;
    html! {
        (DOCTYPE)
        html lang=(code(lang)) {
            (head(lang, title))
            body.studio {
                a.skip href="#isi" { (t(lang, "Langsung ke isi", "Skip to content")) }
                header.bar {
                    a.office href="/studio" { (OFFICE) " · " (t(lang, "Studio", "Studio")) }
                    span.who {
                        span.user { (c.user.name) }
                        " "
                        form.signout method="post" action="/studio/logout" {
                            (csrf_field(c.csrf))
                            button type="submit" { (t(lang, "Keluar", "Sign out")) }
                        }
                        " "
                        (language_switch(lang, c.path))
                    }
                }
                nav aria-label=(t(lang, "Navigasi studio", "Studio navigation")) {
                    ul {
                        @for item in NAV.iter().filter(|i| (i.shown)(c.access)) {
                            li {
                                @if item.path == c.path {
                                    a href=(item.path) aria-current="page" { (t(lang, item.id, item.en)) }
                                } @else {
                                    a href=(item.path) { (t(lang, item.id, item.en)) }
                                }
                            }
                        }
                    }
                }
                main #isi tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The frame of a page shown before signing in, around `body`, whose `<h1>` is `title`.
pub fn bare(lang: UiLang, path: &str, title: &str, body: &Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(code(lang)) {
            (head(lang, title))
            body.studio {
                a.skip href="#isi" { (t(lang, "Langsung ke isi", "Skip to content")) }
                header.bar {
                    a.office href="/studio" { (OFFICE) " · " (t(lang, "Studio", "Studio")) }
                    span.who { (language_switch(lang, path)) }
                }
                main #isi tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The login form's values, to show it again.
#[derive(Debug, Default)]
pub struct LoginForm<'a> {
    pub email: &'a str,
    /// Where to go once signed in (a studio path).
    pub next: &'a str,
    pub csrf: &'a str,
    pub notice: Option<(Notice, &'a str)>,
}

pub fn login(lang: UiLang, path: &str, f: &LoginForm<'_>) -> Markup {
    let body = html! {
        @if let Some((kind, text)) = f.notice { (notice(kind, text)) }
        form.stack method="post" action="/studio/login" {
            (csrf_field(f.csrf))
            input type="hidden" name="next" value=(f.next);
            label for="email" { (t(lang, "Email", "Email")) }
            input #email type="email" name="email" value=(f.email) required autocomplete="username" autofocus;
            label for="password" { (t(lang, "Kata sandi", "Password")) }
            input #password type="password" name="password" required autocomplete="current-password";
            button type="submit" { (t(lang, "Masuk", "Sign in")) }
        }
        p.meta { (t(lang,
            "Lupa kata sandi? Minta admin kantor Anda membuat tautan baru.",
            "Forgot your password? Ask your office's admin for a new link.")) }
    };
    bare(
        lang,
        path,
        t(lang, "Masuk ke studio", "Sign in to the studio"),
        &body,
    )
}

/// The form that sets a password through a link.
pub fn set_password(
    lang: UiLang,
    path: &str,
    user: &User,
    csrf: &str,
    error: Option<&str>,
) -> Markup {
    let min = crate::domain::users::MIN_PASSWORD_CHARS;
    let body = html! {
        @if let Some(text) = error { (notice(Notice::Error, text)) }
        p { (t(lang, "Untuk akun", "For the account")) " " strong { (user.email) } " (" (user.name) ")." }
        form.stack method="post" action=(path) {
            (csrf_field(csrf))
            input type="hidden" name="email" value=(user.email) autocomplete="username";
            label for="password" { (t(lang, "Kata sandi baru", "New password")) }
            input #password type="password" name="password" required minlength=(min)
                autocomplete="new-password" aria-describedby="password-rule";
            p #password-rule .meta {
                @match lang {
                    UiLang::Id => { "Minimal " (min) " karakter. Kalimat yang mudah diingat pun boleh." }
                    UiLang::En => { "At least " (min) " characters. A sentence you remember will do." }
                }
            }
            label for="confirm" { (t(lang, "Ulangi kata sandi", "Repeat the password")) }
            input #confirm type="password" name="confirm" required minlength=(min) autocomplete="new-password";
            button type="submit" { (t(lang, "Simpan kata sandi", "Save the password")) }
        }
    };
    bare(
        lang,
        path,
        t(lang, "Buat kata sandi", "Set your password"),
        &body,
    )
}

/// A token just made: its name and its secret, shown this once.
#[derive(Debug)]
pub struct NewToken<'a> {
    pub name: &'a str,
    pub secret: &'a str,
}

pub fn tokens(
    c: &Chrome<'_>,
    tokens: &[ApiToken],
    created: Option<&NewToken<'_>>,
    error: Option<&str>,
    name: &str,
) -> Markup {
    let lang = c.lang;
    let body = html! {
        @if let Some(text) = error { (notice(Notice::Error, text)) }
        @if let Some(new) = created {
            section.created aria-labelledby="new-token" {
                h2 #new-token { (t(lang, "Token baru: ", "New token: ")) (new.name) }
                (notice(Notice::Done, t(lang,
                    "Salin token ini sekarang: token ini tidak akan ditampilkan lagi.",
                    "Copy this token now: it will not be shown again.")))
                label for="secret" { (t(lang, "Token", "Token")) }
                input #secret.secret type="text" readonly value=(new.secret);
            }
        }
        p { (t(lang,
            "Token API bertindak atas nama Anda, dengan peran Anda, untuk skrip dan aplikasi. \
             Token berhenti bekerja saat dicabut atau saat akun Anda dinonaktifkan.",
            "An API token acts for you, with your role, in scripts and apps. It stops working \
             when revoked or when your account is disabled.")) }
        h2 { (t(lang, "Token Anda", "Your tokens")) }
        @if tokens.is_empty() {
            p { (t(lang, "Anda belum punya token.", "You have no tokens yet.")) }
        } @else {
            ul.tokens {
                @for token in tokens {
                    li {
                        strong { (token.name) }
                        " "
                        span.meta {
                            (t(lang, "dibuat ", "created ")) (super::date(lang, token.created_at))
                        }
                        form.inline method="post" action={ "/studio/tokens/" (token.id) "/revoke" } {
                            (csrf_field(c.csrf))
                            button type="submit" aria-label={ (t(lang, "Cabut token ", "Revoke the token ")) (token.name) } {
                                (t(lang, "Cabut", "Revoke"))
                            }
                        }
                    }
                }
            }
        }
        h2 { (t(lang, "Buat token", "Create a token")) }
        form.stack method="post" action="/studio/tokens" {
            (csrf_field(c.csrf))
            label for="name" { (t(lang, "Nama (untuk apa token ini)", "Name (what it is for)")) }
            input #name type="text" name="name" value=(name) required maxlength="100";
            button type="submit" { (t(lang, "Buat token", "Create the token")) }
        }
    };
    layout(c, t(lang, "Token API", "API tokens"), &body)
}

/// A page that says why the request was not answered (refused, not found, failed).
pub fn error(lang: UiLang, path: &str, heading: &str, detail: &str) -> Markup {
    let body = html! {
        p { (detail) }
        p { a href="/studio" { (t(lang, "Kembali ke studio", "Back to the studio")) } }
    };
    bare(lang, path, heading, &body)
}
