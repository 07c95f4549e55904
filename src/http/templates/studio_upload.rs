//! The studio's "new episode" page (`http::studio::upload`): the file field, which uploads
//! through tus when the page's module runs (`studio-upload.js`, with the vendored
//! tus-js-client) and posts the file as a plain form when it does not; then what the probe found
//! and the form that makes the draft. The module reads what it needs from `data-` attributes;
//! its words in both languages are its own.

use maud::{Markup, html};

use super::{
    studio::{Chrome, Notice, csrf_field, layout, notice},
    t,
};
use crate::{
    domain::{Media, Show},
    http::{assets, error::UiLang},
    media::MediaInfo,
};

/// The create form's values: suggested by the file, or as sent.
#[derive(Debug, Clone, Default)]
pub struct Filled {
    pub title: String,
    pub description: String,
    /// `YYYY-MM-DD`.
    pub date: String,
}

#[derive(Debug)]
pub struct NewEpisodePage<'a> {
    pub show: &'a Show,
    /// A file just uploaded, and its form.
    pub media: Option<(&'a Media, &'a Filled)>,
    pub error: Option<String>,
    /// The largest file accepted.
    pub max_bytes: u64,
}

pub fn new_episode(c: &Chrome<'_>, p: &NewEpisodePage<'_>) -> Markup {
    let lang = c.lang;
    let slug = p.show.slug.as_str();
    let page_path = format!("/studio/shows/{slug}/episodes/new");
    let body = html! {
        p.meta { (t(lang, "Acara: ", "Show: ")) strong { (p.show.title) } }
        @if let Some(text) = &p.error { (notice(Notice::Error, text)) }
        @if let Some((media, filled)) = p.media {
            (probe(lang, c.csrf, slug, media, filled))
        }
        section #unggah aria-labelledby="unggah-judul" {
            h2 #unggah-judul { (t(lang, "Unggah rekaman", "Upload a recording")) }
            form #upload-form .stack method="post" action={ (page_path) "/file" }
                enctype="multipart/form-data"
                data-endpoint="/api/v1/uploads/" data-page=(page_path) data-max=(p.max_bytes) {
                // First: the server reads the token before a byte of the file.
                (csrf_field(c.csrf))
                label for="file" { (t(lang, "Berkas audio atau video", "Audio or video file")) }
                input #file type="file" name="file" accept="audio/*,video/*,.mp3,.m4a,.mp4,.ogg,.opus,.flac,.wav,.webm,.mkv,.aac"
                    multiple required aria-describedby="file-help";
                p #file-help .meta {
                    (t(lang,
                        "Boleh beberapa berkas sekaligus, atau seret berkas ke halaman ini. Unggahan \
                         berlanjut sendiri bila jaringan putus atau halaman dimuat ulang (pilih lagi \
                         berkas yang sama). Paling besar ",
                        "Several files at once are fine, or drag files onto this page. An upload \
                         goes on by itself after the network drops or the page reloads (choose the \
                         same file again). At most "))
                    (gigabytes(lang, p.max_bytes)) "."
                }
                button #upload-button type="submit" { (t(lang, "Unggah", "Upload")) }
            }
            div #resume hidden {
                h3 { (t(lang, "Unggahan yang belum selesai", "Unfinished uploads")) }
                p.meta { (t(lang,
                    "Pilih lagi berkas yang sama untuk melanjutkannya dari posisi terakhir.",
                    "Choose the same file again to continue it from where it stopped.")) }
                ul #resume-list {}
            }
            ol #queue .queue aria-live="polite" {}
        }
        script src=(assets::TUS.path()) defer {}
        script type="module" src=(assets::STUDIO_UPLOAD.path()) {}
    };
    layout(c, t(lang, "Episode baru", "New episode"), &body)
}

/// What the probe found, and the form that makes the draft. Ids carry the media's, so that
/// several on one page (a queue of files) stay distinct.
fn probe(lang: UiLang, csrf: &str, slug: &str, media: &Media, filled: &Filled) -> Markup {
    let id = media.id.to_string();
    let info = &media.info;
    let field = |name: &str| format!("{name}-{id}");
    html! {
        section.probe id={ "probe-" (id) } data-media=(id) aria-labelledby={ "probe-title-" (id) } {
            h2 id={ "probe-title-" (id) } { (t(lang, "Berkas diterima: ", "File received: ")) (media.filename) }
            @for warning in &info.warnings {
                (notice(Notice::Error, &format!("{}{warning}", t(lang, "Peringatan: ", "Warning: "))))
            }
            (facts(lang, info))
            h3 { (t(lang, "Buat draf episode", "Create a draft episode")) }
            form.stack method="post" action={ "/studio/shows/" (slug) "/episodes" } {
                (csrf_field(csrf))
                input type="hidden" name="media_id" value=(id);
                label for=(field("title")) { (t(lang, "Judul", "Title")) }
                input id=(field("title")) type="text" name="title" value=(filled.title) required maxlength="500";
                label for=(field("description")) { (t(lang, "Deskripsi", "Description")) }
                textarea id=(field("description")) name="description" rows="4" { (filled.description) }
                label for=(field("date")) { (t(lang, "Tanggal siaran (usulan)", "Broadcast date (proposed)")) }
                input id=(field("date")) type="date" name="date" value=(filled.date) aria-describedby=(field("date-help"));
                p.meta id=(field("date-help")) { (t(lang,
                    "Dari tag berkas atau namanya, seperti siaran import. Draf belum terbit: \
                     tanggal terbit dijadwalkan di penyunting episode.",
                    "From the file's tags or its name, as siaran import does. A draft is not \
                     published: its publication is scheduled in the episode editor.")) }
                button type="submit" { (t(lang, "Simpan sebagai draf", "Save as a draft")) }
            }
        }
    }
}

fn facts(lang: UiLang, info: &MediaInfo) -> Markup {
    let tags = &info.tags;
    let tag_rows = [
        (t(lang, "Judul (tag)", "Title (tag)"), &tags.title),
        (t(lang, "Artis (tag)", "Artist (tag)"), &tags.artist),
        (t(lang, "Album (tag)", "Album (tag)"), &tags.album),
        (t(lang, "Tanggal (tag)", "Date (tag)"), &tags.date),
        (t(lang, "Komentar (tag)", "Comment (tag)"), &tags.comment),
    ];
    html! {
        dl.facts {
            dt { (t(lang, "Durasi", "Duration")) }
            dd.duration { (duration(info.duration_ms)) }
            dt { (t(lang, "Format", "Container")) }
            dd { (info.container) " (" (info.mime_type) ")" }
            dt { (t(lang, "Ukuran", "Size")) }
            dd { (megabytes(lang, info.size_bytes)) }
            @if let Some(rate) = info.bit_rate {
                dt { (t(lang, "Laju bit", "Bit rate")) }
                dd { (rate.div_ceil(1000)) " kbit/s" }
            }
            @if let Some(audio) = &info.audio {
                dt { (t(lang, "Audio", "Audio")) }
                dd {
                    (audio.codec)
                    @if let Some(hz) = audio.sample_rate { ", " (hz) " Hz" }
                    @if let Some(ch) = audio.channels {
                        ", " (ch) " " (if ch == 1 { t(lang, "kanal", "channel") } else { t(lang, "kanal", "channels") })
                    }
                }
            }
            @if let Some(video) = &info.video {
                dt { (t(lang, "Video", "Video")) }
                dd {
                    (video.codec)
                    @if let (Some(w), Some(h)) = (video.width, video.height) { ", " (w) "×" (h) }
                    @if let Some(fps) = video.frame_rate { ", " (format!("{fps:.2}")) " fps" }
                }
            }
            @for (label, value) in tag_rows {
                @if let Some(value) = value.as_deref().filter(|v| !v.trim().is_empty()) {
                    dt { (label) }
                    dd { (value) }
                }
            }
            dt { (t(lang, "Sampul tertanam", "Embedded cover")) }
            dd {
                @match &info.artwork {
                    Some(art) => {
                        (art.mime_type)
                        @if let (Some(w), Some(h)) = (art.width, art.height) { ", " (w) "×" (h) }
                        ", " (kilobytes(art.size_bytes))
                    }
                    None => { (t(lang, "tidak ada", "none")) }
                }
            }
            dt { "SHA-256" }
            dd.hash { (info.sha256) }
        }
    }
}

/// `1:02:03`, or `2:03` under an hour.
fn duration(ms: u64) -> String {
    let s = ms / 1000;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

fn decimal(lang: UiLang, text: String) -> String {
    match lang {
        UiLang::Id => text.replace('.', ","),
        UiLang::En => text,
    }
}

fn megabytes(lang: UiLang, bytes: u64) -> String {
    decimal(lang, format!("{:.1} MB", bytes as f64 / 1e6))
}

fn gigabytes(lang: UiLang, bytes: u64) -> String {
    decimal(lang, format!("{:.1} GB", bytes as f64 / 1e9))
}

fn kilobytes(bytes: u64) -> String {
    format!("{} kB", bytes.div_ceil(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes() {
        assert_eq!(duration(3_723_000), "1:02:03");
        assert_eq!(duration(123_456), "2:03");
        assert_eq!(megabytes(UiLang::Id, 1_250_000), "1,2 MB");
        assert_eq!(megabytes(UiLang::En, 1_250_000), "1.2 MB");
    }
}
