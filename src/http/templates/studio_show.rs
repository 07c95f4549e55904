//! The studio's show settings page (`http::studio::show_settings`).

use maud::{Markup, html};

use super::{
    studio::{Chrome, Notice, csrf_field, layout, notice},
    t,
};
use crate::{
    domain::{Show, category::all_categories},
    service::shows::{COVER_MAX_BYTES, COVER_MAX_SIDE, COVER_MIN_SIDE},
};

/// The form's fields, as stored or as posted.
#[derive(Debug, Clone)]
pub struct ShowValues {
    pub slug: String,
    pub title: String,
    pub description: String,
    pub author: String,
    pub email: String,
    pub language: String,
    pub category: String,
    pub explicit: bool,
}

pub fn settings(
    c: &Chrome<'_>,
    show: &Show,
    v: &ShowValues,
    feed_url: &str,
    cover_url: Option<&str>,
    said: Option<(Notice, &str)>,
) -> Markup {
    let lang = c.lang;
    let body = html! {
        @if let Some((kind, text)) = said { (notice(kind, text)) }
        section aria-labelledby="feed" {
            h2 #feed { (t(lang, "Alamat umpan", "Feed address")) }
            p { (t(lang,
                "Salin alamat ini ke Apple Podcasts Connect, Spotify for Creators dan direktori lain.",
                "Copy this address into Apple Podcasts Connect, Spotify for Creators and other directories.")) }
            input #feed-url type="text" readonly value=(feed_url) aria-labelledby="feed";
        }
        (cover(c, show, cover_url))
        form.stack method="post" action={ "/studio/shows/" (show.slug) "/settings" } {
            (csrf_field(c.csrf))
            label for="title" { (t(lang, "Judul", "Title")) }
            input #title type="text" name="title" value=(v.title) required maxlength="500";
            label for="description" { (t(lang, "Deskripsi", "Description")) }
            textarea #description name="description" rows="4" required { (v.description) }
            label for="author" { (t(lang, "Penerbit (kantor)", "Publisher (office)")) }
            input #author type="text" name="author" value=(v.author) required;
            label for="email" { (t(lang, "Surel pemilik (untuk Apple dan direktori)", "Owner's email (for Apple and directories)")) }
            input #email type="email" name="email" value=(v.email) required;
            div.row {
                span {
                    label for="language" { (t(lang, "Bahasa umpan", "Feed language")) }
                    select #language name="language" {
                        @for (code, label) in [("id", "Bahasa Indonesia"), ("en", "English")] {
                            @if v.language == code {
                                option value=(code) selected { (label) }
                            } @else {
                                option value=(code) { (label) }
                            }
                        }
                    }
                }
                span {
                    label for="category" { (t(lang, "Kategori Apple", "Apple category")) }
                    select #category name="category" {
                        @for name in all_categories() {
                            @if *name == v.category {
                                option value=(name) selected { (name) }
                            } @else {
                                option value=(name) { (name) }
                            }
                        }
                    }
                }
            }
            span.check {
                @if v.explicit {
                    input #explicit type="checkbox" name="explicit" value="1" checked;
                } @else {
                    input #explicit type="checkbox" name="explicit" value="1";
                }
                label for="explicit" { (t(lang, "Konten eksplisit", "Explicit content")) }
            }
            label for="slug" { (t(lang, "Slug (alamat umpan)", "Slug (the feed's address)")) }
            input #slug type="text" name="slug" value=(v.slug) required pattern="[a-z0-9-]{1,100}" aria-describedby="slug-rule";
            p #slug-rule .meta { (t(lang,
                "Mengubahnya memindahkan umpan: alamat lama menjawab 301 dan umpan memberi tahu aplikasi alamat barunya.",
                "Changing it moves the feed: the old address answers 301 and the feed tells apps its new one.")) }
            div.actions { button type="submit" { (t(lang, "Simpan", "Save")) } }
        }
    };
    layout(c, &show.title, &body)
}

/// The cover, and the form replacing it: Apple's rules first, as `service::shows::check_cover`
/// applies them, then the file field.
fn cover(c: &Chrome<'_>, show: &Show, cover_url: Option<&str>) -> Markup {
    let lang = c.lang;
    html! {
        section aria-labelledby="cover" {
            h2 #cover { (t(lang, "Sampul", "Cover")) }
            @if let Some(url) = cover_url {
                img.cover src=(url) width="200" height="200" alt=(t(lang, "Sampul acara saat ini", "The show's current cover"));
            } @else {
                p { (t(lang, "Acara ini belum bersampul.", "This show has no cover yet.")) }
            }
            div #cover-rules {
                p { (t(lang, "Syarat Apple Podcasts untuk sampul, diperiksa saat mengunggah:",
                    "Apple Podcasts' rules for a cover, checked when you upload:")) }
                ul {
                    li { (t(lang, "gambar JPEG atau PNG;", "a JPEG or PNG image;")) }
                    li { (t(lang, "persegi, ", "square, ")) (COVER_MIN_SIDE) (t(lang, " sampai ", " to "))
                        (COVER_MAX_SIDE) (t(lang, " piksel per sisi;", " pixels a side;")) }
                    li { (t(lang, "paling besar ", "at most ")) (COVER_MAX_BYTES / (1024 * 1024)) " MB." }
                }
                p.meta { (t(lang,
                    "Apple juga meminta warna RGB tanpa transparansi dan teks yang terbaca pada ukuran kecil; itu tidak diperiksa di sini.",
                    "Apple also asks for RGB colour without transparency and text readable when small; those are not checked here.")) }
            }
            form.stack method="post" action={ "/studio/shows/" (show.slug) "/cover" } enctype="multipart/form-data" {
                (csrf_field(c.csrf))
                label for="cover-file" { (t(lang, "Berkas sampul", "Cover file")) }
                input #cover-file type="file" name="file" accept="image/jpeg,image/png" required aria-describedby="cover-rules";
                div.actions { button type="submit" { (t(lang, "Unggah sampul", "Upload the cover")) } }
            }
        }
    }
}
