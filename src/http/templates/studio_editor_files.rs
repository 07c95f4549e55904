//! The episode editor's sections about what the episode carries and how it will look
//! (issue 23): its transcripts and chapters (each a file form posting to its own route,
//! `http::studio::episode_files`, with the rule said before the field), the recording and its
//! other renditions, and the preview before publication — the feed's `<item>` as the feed
//! writes it, shown escaped, and a link to the public page's preview. Rendered inside the
//! editor (`studio_episodes::editor`); every value escaped by maud.

use maud::{Markup, html};

use super::{
    studio::{csrf_field, msg},
    t,
};
use crate::{
    domain::{
        EpisodeExtras, EpisodeId, Media, Msg, Rendition, citation::clock,
        transcript::TranscriptFormat,
    },
    http::error::UiLang,
    service::{
        episode_files::{MAX_CHAPTERS_BYTES, MAX_TRANSCRIPT_BYTES},
        shows::{COVER_MAX_BYTES, COVER_MAX_SIDE, COVER_MIN_SIDE},
    },
};

/// What the editor's file sections show.
#[derive(Debug)]
pub struct EditorFiles<'a> {
    pub episode: EpisodeId,
    pub media: &'a Media,
    pub extras: &'a EpisodeExtras,
    /// The `<item>` this episode would have in its show's feed (`feed::item_preview`).
    pub feed_item: String,
    /// The episode's own cover, shown to the team (`/studio/episodes/{id}/cover?v=…`), and the
    /// show's (its public URL), which stands for it until it has one.
    pub cover_url: Option<String>,
    pub show_cover_url: Option<String>,
    /// The language of a new transcript unless another is picked: the show's.
    pub show_language: String,
    /// Whether the user may change the episode: the forms are shown.
    pub may_edit: bool,
    pub csrf: &'a str,
}

fn kib(bytes: usize) -> usize {
    bytes / 1024
}

/// "1,2 MB" / "1.2 MB", "340 kB".
pub fn size(lang: UiLang, bytes: u64) -> String {
    let text = if bytes >= 1_000_000 {
        format!("{:.1} MB", bytes as f64 / 1_000_000.0)
    } else {
        format!("{:.0} kB", (bytes as f64 / 1000.0).ceil())
    };
    match lang {
        UiLang::Id => text.replace('.', ","),
        UiLang::En => text,
    }
}

fn bit_rate(bits: Option<u64>) -> String {
    bits.map_or_else(
        || "–".to_owned(),
        |b| format!("{} kbit/s", b.div_ceil(1000)),
    )
}

/// The codecs of a recording: "aac", "h264 1280×720 + aac".
fn codecs(media: &Media) -> String {
    let info = &media.info;
    let video = info.video.as_ref().map(|v| match (v.width, v.height) {
        (Some(w), Some(h)) => format!("{} {w}×{h}", v.codec),
        _ => v.codec.clone(),
    });
    let audio = info.audio.as_ref().map(|a| a.codec.clone());
    match (video, audio) {
        (Some(v), Some(a)) => format!("{v} + {a}"),
        (Some(v), None) => v,
        (None, Some(a)) => a,
        (None, None) => "–".to_owned(),
    }
}

/// The episode's cover, with Apple's rules said before its file field.
pub fn cover_section(lang: UiLang, f: &EditorFiles<'_>) -> Markup {
    html! {
        section.cover aria-labelledby="cover" {
            h2 #cover { (t(lang, "Sampul episode", "Episode cover")) }
            @if let Some(url) = &f.cover_url {
                img.cover src=(url) width="160" height="160" alt=(t(lang, "Sampul episode ini", "This episode's cover"));
            } @else if let Some(url) = &f.show_cover_url {
                p { (t(lang, "Belum ada sampul episode: sampul acara yang dipakai.", "No episode cover yet: the show's cover is used.")) }
                img.cover src=(url) width="160" height="160" alt=(t(lang, "Sampul acara", "The show's cover"));
            } @else {
                p { (t(lang, "Belum ada sampul, baik untuk episode maupun acaranya.", "No cover yet, neither the episode's nor its show's.")) }
            }
            @if f.may_edit {
                form.stack method="post" enctype="multipart/form-data" action={ "/studio/episodes/" (f.episode) "/cover" } {
                    (csrf_field(f.csrf))
                    label for="cover-file" { (t(lang, "Berkas sampul", "Cover file")) }
                    p #cover-rule .meta { (msg(lang, &Msg::new(
                        format!("Syarat Apple Podcasts: gambar JPEG atau PNG persegi, {COVER_MIN_SIDE}–{COVER_MAX_SIDE} piksel, paling besar {} MB. Sampul sebelumnya diganti.", COVER_MAX_BYTES / (1024 * 1024)),
                        format!("Apple Podcasts' rules: a square JPEG or PNG image, {COVER_MIN_SIDE}–{COVER_MAX_SIDE} pixels, at most {} MB. The earlier cover is replaced.", COVER_MAX_BYTES / (1024 * 1024)),
                    ))) }
                    input #cover-file type="file" name="file" required accept="image/jpeg,image/png" aria-describedby="cover-rule";
                    button type="submit" { (t(lang, "Unggah sampul", "Upload the cover")) }
                }
            }
        }
    }
}

/// The transcripts and chapters, with their upload and removal forms for those who may edit.
pub fn files_section(lang: UiLang, f: &EditorFiles<'_>) -> Markup {
    let base = format!("/studio/episodes/{}", f.episode);
    let chapters = f.extras.uploaded_chapters();
    html! {
        section.files aria-labelledby="files" {
            h2 #files { (t(lang, "Transkrip dan bab", "Transcripts and chapters")) }
            h3 { (t(lang, "Transkrip", "Transcripts")) }
            @if f.extras.transcripts().next().is_none() {
                p { (t(lang, "Belum ada transkrip.", "No transcript yet.")) }
            } @else {
                ul.files {
                    @for file in f.extras.transcripts() {
                        @let language = file.language.as_ref().map(|l| l.as_str()).unwrap_or("?");
                        @let format = file.transcript_format().map_or("?", TranscriptFormat::extension);
                        li {
                            (language) " · " (format.to_uppercase()) " · " (size(lang, file.size_bytes))
                            @if f.may_edit {
                                " "
                                form.inline method="post" action={ (base) "/transcript/remove" } {
                                    (csrf_field(f.csrf))
                                    input type="hidden" name="language" value=(language);
                                    button type="submit" aria-label={ (t(lang, "Hapus transkrip ", "Remove the transcript ")) (language) } {
                                        (t(lang, "Hapus", "Remove"))
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if f.may_edit {
                form.stack method="post" enctype="multipart/form-data" action={ (base) "/transcript" } {
                    (csrf_field(f.csrf))
                    label for="transcript-language" { (t(lang, "Bahasa transkrip (kode, mis. id atau en)", "Transcript language (a code such as id or en)")) }
                    input #transcript-language type="text" name="language" value=(f.show_language) required maxlength="35" pattern="[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*";
                    label for="transcript-file" { (t(lang, "Berkas transkrip", "Transcript file")) }
                    p #transcript-rule .meta { (msg(lang, &Msg::new(
                        format!("WebVTT (.vtt) atau SRT (.srt), paling besar {} KB, dengan waktu yang ada di dalam rekaman. Transkrip bahasa yang sama diganti.", kib(MAX_TRANSCRIPT_BYTES)),
                        format!("WebVTT (.vtt) or SRT (.srt), at most {} KB, with times within the recording. A transcript in the same language is replaced.", kib(MAX_TRANSCRIPT_BYTES)),
                    ))) }
                    input #transcript-file type="file" name="file" required accept=".vtt,.srt,text/vtt,application/x-subrip" aria-describedby="transcript-rule";
                    button type="submit" { (t(lang, "Unggah transkrip", "Upload the transcript")) }
                }
            }
            h3 { (t(lang, "Bab", "Chapters")) }
            @if chapters.is_some() {
                p {
                    (t(lang, "Bab diunggah", "Chapters uploaded"))
                    @if let Some(file) = chapters { " · " (size(lang, file.size_bytes)) }
                    @if f.may_edit {
                        " "
                        form.inline method="post" action={ (base) "/chapters/remove" } {
                            (csrf_field(f.csrf))
                            button type="submit" aria-label=(t(lang, "Hapus bab yang diunggah", "Remove the uploaded chapters")) { (t(lang, "Hapus", "Remove")) }
                        }
                    }
                }
            } @else if f.extras.placed_documents > 0 {
                p { (t(lang,
                    "Bab dibuat dari saat dokumen dibahas (di atas) sampai bab diunggah.",
                    "Chapters are built from the moments documents are discussed (above) until chapters are uploaded.")) }
            } @else {
                p { (t(lang, "Belum ada bab.", "No chapters yet.")) }
            }
            @if f.may_edit {
                form.stack method="post" enctype="multipart/form-data" action={ (base) "/chapters" } {
                    (csrf_field(f.csrf))
                    label for="chapters-file" { (t(lang, "Berkas bab (JSON)", "Chapters file (JSON)")) }
                    p #chapters-rule .meta { (msg(lang, &Msg::new(
                        format!("JSON Chapters Podcasting 2.0 (application/json+chapters, \"version\": \"1.2.0\"), paling besar {} KB, dengan setiap startTime di dalam rekaman. Bab sebelumnya diganti.", kib(MAX_CHAPTERS_BYTES)),
                        format!("Podcasting 2.0 JSON chapters (application/json+chapters, \"version\": \"1.2.0\"), at most {} KB, each startTime within the recording. Earlier chapters are replaced.", kib(MAX_CHAPTERS_BYTES)),
                    ))) }
                    input #chapters-file type="file" name="file" required accept=".json,application/json,application/json+chapters" aria-describedby="chapters-rule";
                    button type="submit" { (t(lang, "Unggah bab", "Upload the chapters")) }
                }
            }
        }
    }
}

fn rendition_row(lang: UiLang, title: &str, media: &Media) -> Markup {
    let info = &media.info;
    html! {
        tr {
            th scope="row" { (title) }
            td { (info.container) " (" (info.mime_type) ")" }
            td { (codecs(media)) }
            td { (bit_rate(info.bit_rate)) }
            td { (size(lang, info.size_bytes)) }
            td { (clock(info.duration_ms)) }
        }
    }
}

/// The recording and its other renditions, with what the feed says of each.
pub fn renditions_section(lang: UiLang, f: &EditorFiles<'_>) -> Markup {
    html! {
        section aria-labelledby="renditions" {
            h2 #renditions { (t(lang, "Rekaman dan versi lain", "Recording and renditions")) }
            div.scroll {
                table.renditions {
                    thead {
                        tr {
                            th scope="col" { (t(lang, "Versi", "Rendition")) }
                            th scope="col" { (t(lang, "Wadah", "Container")) }
                            th scope="col" { (t(lang, "Kodek", "Codec")) }
                            th scope="col" { (t(lang, "Laju bit", "Bitrate")) }
                            th scope="col" { (t(lang, "Ukuran", "Size")) }
                            th scope="col" { (t(lang, "Durasi", "Length")) }
                        }
                    }
                    tbody {
                        (rendition_row(lang, t(lang, "Rekaman utama", "Main recording"), f.media))
                        @for r in &f.extras.renditions {
                            (rendition_row(lang, &Rendition::display_title(r), &r.media))
                        }
                    }
                }
            }
            @if f.extras.renditions.is_empty() {
                p.meta { (t(lang,
                    "Belum ada versi lain. Versi lain (mis. audio dari siaran video) ditambahkan lewat API: POST /api/v1/episodes/{id}/renditions.",
                    "No other rendition yet. Renditions (such as the audio of a video briefing) are added through the API: POST /api/v1/episodes/{id}/renditions.")) }
            }
        }
    }
}

/// The episode as it would go out: its feed item, escaped, and the public page's preview.
pub fn preview_section(lang: UiLang, f: &EditorFiles<'_>) -> Markup {
    html! {
        section aria-labelledby="before-publication" {
            h2 #before-publication { (t(lang, "Pratinjau sebelum terbit", "Preview before publication")) }
            p {
                a href={ "/studio/episodes/" (f.episode) "/preview" } {
                    (t(lang, "Pratinjau halaman publik", "Preview of the public page"))
                }
                " " span.meta { (t(lang, "(hanya untuk tim; tidak diindeks)", "(for the team only; not indexed)")) }
            }
            h3 #feed-item { (t(lang, "Item di feed RSS", "The item in the RSS feed")) }
            p.meta { (t(lang,
                "Seperti yang akan ditulis feed acara ini, dengan waktu terbit yang tersimpan (atau sekarang).",
                "As this show's feed will write it, with the saved publication time (or now).")) }
            pre.feed-item tabindex="0" aria-labelledby="feed-item" { code { (f.feed_item) } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_rates_read_in_each_language() {
        assert_eq!(size(UiLang::Id, 1_234_567), "1,2 MB");
        assert_eq!(size(UiLang::En, 1_234_567), "1.2 MB");
        assert_eq!(size(UiLang::En, 2048), "3 kB");
        assert_eq!(bit_rate(Some(128_000)), "128 kbit/s");
        assert_eq!(bit_rate(None), "–");
    }
}
