//! The studio's document registry (`http::studio::documents`).

use maud::{Markup, html};

use super::{
    kind_label,
    studio::{Chrome, Notice, csrf_field, layout, notice},
    t,
};
use crate::{
    domain::{Citation, Document, DocumentKind, NewDocument},
    http::error::UiLang,
    service::documents::MAX_FILE_BYTES,
};

/// A document and the briefings citing it.
pub struct Registered {
    pub document: Document,
    pub citations: Vec<Citation>,
}

pub fn documents(
    c: &Chrome<'_>,
    registry: &[Registered],
    typed: &NewDocument,
    said: Option<(Notice, &str)>,
) -> Markup {
    let lang = c.lang;
    let body = html! {
        @if let Some((kind, text)) = said { (notice(kind, text)) }
        section aria-labelledby="registry" {
            h2 #registry { (t(lang, "Daftar dokumen", "The registry")) }
            @if registry.is_empty() {
                p { (t(lang, "Belum ada dokumen.", "No documents yet.")) }
            }
            ul.registry {
                @for r in registry {
                    @let d = &r.document;
                    li {
                        a href={ "/studio/documents/" (d.id) } {
                            @if let Some(number) = &d.number { (number) " — " }
                            (d.title)
                        }
                        span.meta {
                            @if d.file.is_some() { " · PDF" }
                            " · " (kind_label(lang, d.kind))
                            @if let Some(issuer) = &d.issuer { " · " (issuer) }
                            @if let Some(on) = d.issued_on { " · " (on.format("%Y-%m-%d")) }
                        }
                        @if !r.citations.is_empty() {
                            ul {
                                @for cited in &r.citations {
                                    li { a href={ "/studio/episodes/" (cited.episode.id) } { (cited.episode.title) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="new-document" {
            h2 #new-document { (t(lang, "Tambah dokumen", "Add a document")) }
            form.stack method="post" action="/studio/documents" {
                (csrf_field(c.csrf))
                (fields(lang, typed))
                div.actions { button type="submit" { (t(lang, "Simpan dokumen", "Save the document")) } }
            }
        }
    };
    layout(c, t(lang, "Dokumen", "Documents"), &body)
}

/// The fields of a document, in the create form and the edit form.
fn fields(lang: UiLang, typed: &NewDocument) -> Markup {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    html! {
        label for="title" { (t(lang, "Judul", "Title")) }
        input #title type="text" name="title" value=(typed.title) required maxlength="500";
        div.row {
            span {
                label for="number" { (t(lang, "Nomor resmi", "Official number")) }
                input #number type="text" name="number" value=(opt(&typed.number)) placeholder="Perda No. 1 Tahun 2024";
            }
            span {
                label for="kind" { (t(lang, "Jenis", "Kind")) }
                select #kind name="kind" {
                    @for kind in DocumentKind::ALL {
                        @if typed.kind.as_deref() == Some(kind.as_str()) {
                            option value=(kind.as_str()) selected { (kind_label(lang, kind)) }
                        } @else {
                            option value=(kind.as_str()) { (kind_label(lang, kind)) }
                        }
                    }
                }
            }
        }
        div.row {
            span {
                label for="issuer" { (t(lang, "Penerbit", "Issuer")) }
                input #issuer type="text" name="issuer" value=(opt(&typed.issuer));
            }
            span {
                label for="issued_on" { (t(lang, "Tanggal terbit", "Issued on")) }
                input #issued_on type="date" name="issued_on" value=(opt(&typed.issued_on));
            }
        }
        label for="url" { (t(lang, "Alamat untuk membacanya (mis. JDIH)", "Where to read it (e.g. JDIH)")) }
        input #url type="url" name="url" value=(opt(&typed.url));
    }
}

/// `/studio/documents/{id}`: the document's fields to change, its PDF and the briefings
/// citing it.
pub fn edit(
    c: &Chrome<'_>,
    r: &Registered,
    typed: &NewDocument,
    file_url: Option<&str>,
    said: Option<(Notice, &str)>,
) -> Markup {
    let lang = c.lang;
    let d = &r.document;
    let body = html! {
        p { a href="/studio/documents" { (t(lang, "← Daftar dokumen", "← The registry")) } }
        @if let Some((kind, text)) = said { (notice(kind, text)) }
        form.stack method="post" action={ "/studio/documents/" (d.id) } {
            (csrf_field(c.csrf))
            (fields(lang, typed))
            div.actions { button type="submit" { (t(lang, "Simpan perubahan", "Save the changes")) } }
        }
        section aria-labelledby="pdf" {
            h2 #pdf { (t(lang, "Berkas PDF", "PDF file")) }
            @if let (Some(file), Some(url)) = (&d.file, file_url) {
                p { a href=(url) { (file.filename) } " (" (kilobytes(file.size_bytes)) " KB)" }
            } @else {
                p { (t(lang, "Belum ada berkas.", "No file yet.")) }
            }
            p #pdf-rule .meta {
                (t(lang, "Hanya PDF, paling besar ", "PDF only, at most ")) (MAX_FILE_BYTES / (1024 * 1024))
                (t(lang, " MB; berkas baru menggantikan yang lama.", " MB; a new file replaces the old one."))
            }
            form.stack method="post" action={ "/studio/documents/" (d.id) "/file" } enctype="multipart/form-data" {
                (csrf_field(c.csrf))
                label for="pdf-file" { (t(lang, "Berkas PDF", "PDF file")) }
                input #pdf-file type="file" name="file" accept="application/pdf,.pdf" required aria-describedby="pdf-rule";
                div.actions { button type="submit" { (t(lang, "Unggah PDF", "Upload the PDF")) } }
            }
        }
        section aria-labelledby="citing" {
            h2 #citing { (t(lang, "Siaran yang mengutipnya", "Briefings citing it")) }
            @if r.citations.is_empty() {
                p { (t(lang, "Belum ada siaran yang mengutipnya.", "No briefing cites it yet.")) }
            } @else {
                ul {
                    @for cited in &r.citations {
                        li { a href={ "/studio/episodes/" (cited.episode.id) } { (cited.episode.title) } }
                    }
                }
            }
            p { a href={ "/documents/" (d.id) } { (t(lang, "Halaman publiknya", "Its public page")) } }
        }
    };
    layout(c, &d.title, &body)
}

fn kilobytes(bytes: u64) -> u64 {
    bytes.div_ceil(1024)
}
