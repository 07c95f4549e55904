//! The studio's users page (`http::studio::users`): each user with its role, the shows where it
//! has another, a form giving it a role on one show, and a button disabling or enabling it.

use maud::{Markup, html};

use super::{
    studio::{Chrome, Notice, csrf_field, layout, notice},
    t,
};
use crate::{
    domain::{
        Role, Show,
        users::{ShowRole, User},
    },
    http::error::UiLang,
};

/// A user and the shows where it has a role other than its own.
pub struct UserLine {
    pub user: User,
    pub on_shows: Vec<(Show, ShowRole)>,
}

fn role_label(lang: UiLang, role: Role) -> &'static str {
    match role {
        Role::Admin => t(lang, "Admin", "Admin"),
        Role::Editor => t(lang, "Editor", "Editor"),
        Role::Contributor => t(lang, "Kontributor", "Contributor"),
    }
}

fn show_role_label(lang: UiLang, role: ShowRole) -> &'static str {
    match role {
        ShowRole::Editor => t(lang, "Editor", "Editor"),
        ShowRole::Contributor => t(lang, "Kontributor", "Contributor"),
        ShowRole::None => t(lang, "Tanpa akses", "No access"),
    }
}

pub fn users(
    c: &Chrome<'_>,
    lines: &[UserLine],
    shows: &[Show],
    said: Option<(Notice, &str)>,
) -> Markup {
    let lang = c.lang;
    let body = html! {
        @if let Some((kind, text)) = said { (notice(kind, text)) }
        p.meta { (t(lang,
            "Pengguna baru dibuat di server: siaran user create --email … --name … --role …",
            "New users are created on the server: siaran user create --email … --name … --role …")) }
        @for (i, line) in lines.iter().enumerate() {
            @let u = &line.user;
            section.user aria-labelledby={ "user-" (i) } {
                h2 #{ "user-" (i) } { (u.name) }
                p.meta {
                    (u.email.as_str()) " · " (role_label(lang, u.role))
                    @if u.disabled { " · " strong { (t(lang, "nonaktif", "disabled")) } }
                }
                @if line.on_shows.is_empty() {
                    p { (t(lang, "Perannya sama di semua acara.", "The same role on every show.")) }
                } @else {
                    ul {
                        @for (show, role) in &line.on_shows {
                            li { (show.title) ": " (show_role_label(lang, *role)) }
                        }
                    }
                }
                @if !shows.is_empty() {
                    form.stack method="post" action={ "/studio/users/" (u.id) "/roles" } {
                        (csrf_field(c.csrf))
                        div.row {
                            span {
                                label for={ "show-" (i) } { (t(lang, "Acara", "Show")) }
                                select #{ "show-" (i) } name="show" {
                                    @for s in shows { option value=(s.slug) { (s.title) } }
                                }
                            }
                            span {
                                label for={ "role-" (i) } { (t(lang, "Peran di acara itu", "Role on that show")) }
                                select #{ "role-" (i) } name="role" {
                                    option value="default" { (t(lang, "Seperti perannya sendiri", "Its own role")) }
                                    option value="editor" { (t(lang, "Editor", "Editor")) }
                                    option value="contributor" { (t(lang, "Kontributor", "Contributor")) }
                                    option value="none" { (t(lang, "Tanpa akses", "No access")) }
                                }
                            }
                        }
                        div.actions { button type="submit" { (t(lang, "Tetapkan peran", "Set the role")) } }
                    }
                }
                @if u.id != c.user.id {
                    form method="post" action={ "/studio/users/" (u.id) "/disabled" } {
                        (csrf_field(c.csrf))
                        @if u.disabled {
                            input type="hidden" name="disabled" value="0";
                            button type="submit" { (t(lang, "Aktifkan lagi", "Enable again")) }
                        } @else {
                            input type="hidden" name="disabled" value="1";
                            button type="submit" { (t(lang, "Nonaktifkan (sesinya berakhir)", "Disable (its sessions end)")) }
                        }
                    }
                }
            }
        }
    };
    layout(c, t(lang, "Pengguna", "Users"), &body)
}
