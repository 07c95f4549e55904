//! The studio's site settings page (`http::studio::site_settings`).

use maud::{Markup, html};

use super::{
    studio::{Chrome, Notice, csrf_field, layout, notice},
    t,
};
use crate::{
    domain::site::{MAX_FOOTER_CHARS, MAX_NAME_CHARS, MIN_CONTRAST, SiteForm},
    service::site::{LOGO_MAX_BYTES, LOGO_MAX_SIDE},
};

pub fn settings(
    c: &Chrome<'_>,
    v: &SiteForm,
    logo_url: Option<&str>,
    said: Option<(Notice, &str)>,
) -> Markup {
    let lang = c.lang;
    let body = html! {
        @if let Some((kind, text)) = said { (notice(kind, text)) }
        p { (t(lang,
            "Nama, logo, warna dan kaki halaman ini tampil di setiap halaman publik, pemutar sematan dan tampilan umpan di peramban.",
            "The name, logo, colours and footer here appear on every public page, the embed player and a feed's browser view.")) }
        form.stack method="post" action="/studio/site" {
            (csrf_field(c.csrf))
            label for="name" { (t(lang, "Nama kantor", "Office name")) }
            input #name type="text" name="name" value=(v.name) required maxlength=(MAX_NAME_CHARS);
            label for="address" { (t(lang, "Alamat (kaki halaman)", "Address (footer)")) }
            textarea #address name="address" rows="3" maxlength=(MAX_FOOTER_CHARS) { (v.address) }
            label for="ppid_contact" { (t(lang, "Kontak PPID (kaki halaman)", "PPID contact (footer)")) }
            textarea #ppid_contact name="ppid_contact" rows="2" maxlength=(MAX_FOOTER_CHARS) { (v.ppid_contact) }
            p #colour-rule .meta {
                (t(lang, "Warna ditulis #rrggbb. Aturannya: kontras dengan putih minimal ",
                    "Colours are written #rrggbb. The rule: a contrast with white of at least "))
                (MIN_CONTRAST) ":1 (WCAG 2.1 AA) — "
                (t(lang, "warna aksen adalah teks tautan di atas halaman putih, warna kepala adalah latar nama kantor yang ditulis putih.",
                    "the accent is link text on the white page, the header colour is the background of the office's name written in white."))
            }
            div.row {
                span {
                    label for="accent" { (t(lang, "Warna aksen (tautan)", "Accent colour (links)")) }
                    input #accent type="text" name="accent" value=(v.accent) required aria-describedby="colour-rule";
                }
                span {
                    label for="header" { (t(lang, "Warna kepala (kosong: tanpa)", "Header colour (empty: none)")) }
                    input #header type="text" name="header" value=(v.header) aria-describedby="colour-rule";
                }
            }
            div.actions { button type="submit" { (t(lang, "Simpan", "Save")) } }
        }
        section aria-labelledby="logo" {
            h2 #logo { (t(lang, "Logo", "Logo")) }
            @if let Some(url) = logo_url {
                img.logo src=(url) height="64" alt=(t(lang, "Logo saat ini", "The current logo"));
            } @else {
                p { (t(lang, "Belum ada logo.", "No logo yet.")) }
            }
            p #logo-rule .meta {
                (t(lang, "PNG atau JPEG, paling besar ", "PNG or JPEG, at most "))
                (LOGO_MAX_BYTES / 1024) " KB, " (LOGO_MAX_SIDE)
                (t(lang, " piksel per sisi. SVG tidak diterima: gambar SVG dapat membawa skrip.",
                    " pixels a side. SVG is not accepted: an SVG image can carry script."))
            }
            form.stack method="post" action="/studio/site/logo" enctype="multipart/form-data" {
                (csrf_field(c.csrf))
                label for="logo-file" { (t(lang, "Berkas logo", "Logo file")) }
                input #logo-file type="file" name="file" accept="image/png,image/jpeg" required aria-describedby="logo-rule";
                div.actions { button type="submit" { (t(lang, "Unggah logo", "Upload the logo")) } }
            }
        }
    };
    layout(c, t(lang, "Pengaturan situs", "Site settings"), &body)
}
