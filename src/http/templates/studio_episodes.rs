//! The studio's episode pages (issue 23): the dashboard (the user's shows, a show's episodes by
//! state a page at a time, the editors' review queue) and the episode editor (its fields, the
//! player, the preview of the show notes, the review's comment, the history, and the action
//! buttons the user's role allows). Rendered inside `studio::layout`; every value escaped by
//! maud but the show notes, which are sanitised HTML (ammonia) shown as HTML on purpose.

use chrono::{DateTime, FixedOffset, Utc};
use maud::{Markup, PreEscaped, html};

use super::{
    studio::{Chrome, Notice, csrf_field, layout, msg, notice},
    studio_editor_files::{
        EditorFiles, cover_section, files_section, preview_section, renditions_section,
    },
    t,
};
use crate::{
    db::StatusCounts,
    domain::{
        Document, Episode, EpisodeStatus, LinkedDocument, Role, Show,
        audit::AuditEntry,
        citation::clock,
        quality::QualityState,
        review::{Review, ReviewState},
    },
    http::{assets, error::UiLang},
    service::quality::MediaQuality,
};

/// Western Indonesian Time, the zone the studio shows and takes times in (Asia/Jakarta, UTC+7,
/// no daylight saving).
pub fn wib_zone() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset")
}

/// "2026-12-05 08:25 WIB".
pub fn wib(at: DateTime<Utc>) -> String {
    format!(
        "{} WIB",
        at.with_timezone(&wib_zone()).format("%Y-%m-%d %H:%M")
    )
}

/// The states of the dashboard's tabs, in order.
pub const STATES: [EpisodeStatus; 5] = [
    EpisodeStatus::Draft,
    EpisodeStatus::InReview,
    EpisodeStatus::Scheduled,
    EpisodeStatus::Published,
    EpisodeStatus::Withdrawn,
];

/// A state as the dashboard's address names it.
pub fn state_key(s: EpisodeStatus) -> &'static str {
    match s {
        EpisodeStatus::Draft => "draft",
        EpisodeStatus::InReview => "in_review",
        EpisodeStatus::Scheduled => "scheduled",
        EpisodeStatus::Published => "published",
        EpisodeStatus::Withdrawn => "withdrawn",
    }
}

pub fn parse_state(key: &str) -> Option<EpisodeStatus> {
    STATES.into_iter().find(|s| state_key(*s) == key)
}

fn state_label(lang: UiLang, s: EpisodeStatus) -> &'static str {
    match s {
        EpisodeStatus::Draft => t(lang, "Draf", "Drafts"),
        EpisodeStatus::InReview => t(lang, "Ditinjau", "In review"),
        EpisodeStatus::Scheduled => t(lang, "Terjadwal", "Scheduled"),
        EpisodeStatus::Published => t(lang, "Terbit", "Published"),
        EpisodeStatus::Withdrawn => t(lang, "Ditarik", "Withdrawn"),
    }
}

fn status_label(lang: UiLang, s: EpisodeStatus) -> &'static str {
    match s {
        EpisodeStatus::Draft => t(lang, "Draf", "Draft"),
        EpisodeStatus::InReview => t(lang, "Menunggu tinjauan", "In review"),
        EpisodeStatus::Scheduled => t(lang, "Terjadwal", "Scheduled"),
        EpisodeStatus::Published => t(lang, "Terbit", "Published"),
        EpisodeStatus::Withdrawn => t(lang, "Ditarik", "Withdrawn"),
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The dashboard's address for a show, a state, a search and a page.
pub fn dashboard_url(show: &str, state: EpisodeStatus, q: &str, page: u64) -> String {
    let mut url = format!("/studio?show={}&state={}", enc(show), state_key(state));
    if !q.is_empty() {
        url.push_str("&q=");
        url.push_str(&enc(q));
    }
    if page > 1 {
        url.push_str(&format!("&page={page}"));
    }
    url
}

/// A show on the dashboard.
#[derive(Debug)]
pub struct ShowLine<'a> {
    pub show: &'a Show,
    pub role: Role,
    pub counts: StatusCounts,
    /// May publish there: its review queue is shown.
    pub reviews: bool,
    /// May write drafts there: the "new episode" link is shown.
    pub creates: bool,
    /// May change the show: its settings link is shown.
    pub manages: bool,
    /// May read the show's statistics: its statistics link is shown.
    pub reads_stats: bool,
    pub page_url: String,
    pub feed_url: String,
}

/// The episodes listed: one page of one show's, in one state.
#[derive(Debug)]
pub struct EpisodeList<'a> {
    pub show: &'a Show,
    pub counts: StatusCounts,
    pub state: EpisodeStatus,
    pub query: &'a str,
    pub page: u64,
    pub pages: u64,
    pub total: u64,
    pub episodes: &'a [Episode],
    pub now: DateTime<Utc>,
}

pub fn dashboard(
    c: &Chrome<'_>,
    shows: &[ShowLine<'_>],
    uploads: &[crate::db::Upload],
    list: Option<&EpisodeList<'_>>,
) -> Markup {
    let lang = c.lang;
    let body = html! {
        p { (t(lang, "Selamat datang, ", "Welcome, ")) (c.user.name) "." }
        h2 { (t(lang, "Acara Anda", "Your shows")) }
        @if shows.is_empty() {
            p { (t(lang,
                "Belum ada acara yang boleh Anda ubah. Admin kantor Anda dapat menambahkannya.",
                "There are no shows you may change yet. Your office's admin can add them.")) }
        } @else {
            ul.shows {
                @for line in shows {
                    (show_line(lang, line))
                }
            }
        }
        @if !uploads.is_empty() {
            (uploads_in_progress(lang, uploads))
        }
        @if let Some(list) = list {
            (episode_list(lang, list))
        }
    };
    layout(c, t(lang, "Dasbor", "Dashboard"), &body)
}

/// The user's uploads not finished yet (made through the studio): how far each got, and how to go
/// on (the new-episode page resumes a file chosen again from what the server has).
fn uploads_in_progress(lang: UiLang, uploads: &[crate::db::Upload]) -> Markup {
    use super::studio_editor_files::size;
    html! {
        h2 #uploads { (t(lang, "Unggahan yang sedang berjalan", "Uploads in progress")) }
        p { (t(lang,
            "Pilih berkas yang sama lagi di halaman \u{201c}episode baru\u{201d} acaranya: unggahan dilanjutkan dari bagian yang sudah diterima.",
            "Choose the same file again on the show's \u{201c}new episode\u{201d} page: the upload goes on from what was received.")) }
        ul.uploads {
            @for upload in uploads {
                @let percent = (upload.received * 100).checked_div(upload.length).unwrap_or(0);
                li {
                    strong { (upload.filename) }
                    " — " (percent) "% (" (size(lang, upload.received)) " / " (size(lang, upload.length)) ")"
                    " · " (t(lang, "kedaluwarsa ", "expires ")) (wib(upload.expires_at))
                }
            }
        }
    }
}

fn show_line(lang: UiLang, line: &ShowLine<'_>) -> Markup {
    let slug = line.show.slug.as_str();
    let queue = line.counts.in_review;
    html! {
        li {
            a.show href=(dashboard_url(slug, EpisodeStatus::Draft, "", 1)) { strong { (line.show.title) } }
            " "
            span.role { (msg(lang, &line.role.label())) }
            @if line.reviews && queue > 0 {
                " "
                a.queue href=(dashboard_url(slug, EpisodeStatus::InReview, "", 1)) {
                    @match lang {
                        UiLang::Id => { (queue) " menunggu tinjauan Anda" }
                        UiLang::En => { (queue) " awaiting your review" }
                    }
                }
            }
            br;
            @if line.creates {
                a href={ "/studio/shows/" (slug) "/episodes/new" } { (t(lang, "Episode baru", "New episode")) }
                " · "
            }
            a href=(line.page_url) { (t(lang, "Halaman publik", "Public page")) }
            " · "
            a href=(line.feed_url) { (t(lang, "Feed RSS", "RSS feed")) }
            @if line.reads_stats {
                " · "
                a href={ "/studio/shows/" (slug) "/stats" } { (t(lang, "Statistik", "Statistics")) }
            }
            @if line.manages {
                " · "
                a href={ "/studio/shows/" (slug) "/settings" } { (t(lang, "Pengaturan acara", "Show settings")) }
            }
        }
    }
}

fn episode_list(lang: UiLang, l: &EpisodeList<'_>) -> Markup {
    let slug = l.show.slug.as_str();
    html! {
        section aria-labelledby="episodes" {
            h2 #episodes { (t(lang, "Episode: ", "Episodes: ")) (l.show.title) }
            nav.tabs aria-label=(t(lang, "Status episode", "Episode state")) {
                ul {
                    @for s in STATES {
                        li {
                            @let label = state_label(lang, s);
                            @let href = dashboard_url(slug, s, l.query, 1);
                            @if s == l.state {
                                a href=(href) aria-current="page" { (label) " (" (l.counts.of(s)) ")" }
                            } @else {
                                a href=(href) { (label) " (" (l.counts.of(s)) ")" }
                            }
                        }
                    }
                }
            }
            form.search method="get" action="/studio" role="search" {
                input type="hidden" name="show" value=(slug);
                input type="hidden" name="state" value=(state_key(l.state));
                label for="q" { (t(lang, "Cari judul", "Search titles")) }
                input #q type="search" name="q" value=(l.query);
                button type="submit" { (t(lang, "Cari", "Search")) }
            }
            @if l.episodes.is_empty() {
                p { (t(lang, "Tidak ada episode di sini.", "No episodes here.")) }
            } @else {
                ul.episodes {
                    @for e in l.episodes {
                        li {
                            a href={ "/studio/episodes/" (e.id) } { (e.title) }
                            " "
                            span.meta { (when(lang, e, l.now)) }
                            @if let Some(Review { state: ReviewState::Returned, .. }) = &e.review {
                                " "
                                span.badge { (t(lang, "Dikembalikan", "Returned")) }
                            }
                        }
                    }
                }
            }
            (pager(lang, l))
        }
    }
}

/// When an episode in the list was changed, is due, was published or withdrawn.
fn when(lang: UiLang, e: &Episode, now: DateTime<Utc>) -> String {
    match (e.status(now), e.publish_at, &e.withdrawn) {
        (EpisodeStatus::Withdrawn, _, Some(w)) => {
            format!("{} {}", t(lang, "ditarik", "withdrawn"), wib(w.at))
        }
        (EpisodeStatus::Scheduled, Some(at), _) => {
            format!("{} {}", t(lang, "terbit", "due"), wib(at))
        }
        (EpisodeStatus::Published, Some(at), _) => {
            format!("{} {}", t(lang, "terbit", "published"), wib(at))
        }
        _ => format!("{} {}", t(lang, "diubah", "changed"), wib(e.updated_at)),
    }
}

fn pager(lang: UiLang, l: &EpisodeList<'_>) -> Markup {
    let slug = l.show.slug.as_str();
    html! {
        nav.pages aria-label=(t(lang, "Halaman", "Pages")) {
            @if l.page > 1 {
                a rel="prev" href=(dashboard_url(slug, l.state, l.query, l.page - 1)) { "← " (t(lang, "Sebelumnya", "Previous")) }
                " "
            }
            span {
                @match lang {
                    UiLang::Id => { "Halaman " (l.page) " dari " (l.pages.max(1)) " (" (l.total) " episode)" }
                    UiLang::En => { "Page " (l.page) " of " (l.pages.max(1)) " (" (l.total) " episodes)" }
                }
            }
            @if l.page < l.pages {
                " "
                a rel="next" href=(dashboard_url(slug, l.state, l.query, l.page + 1)) { (t(lang, "Berikutnya", "Next")) " →" }
            }
        }
    }
}

/// The editor's fields, as stored or as just posted.
#[derive(Debug, Clone, Default)]
pub struct EditorValues {
    pub title: String,
    pub description: String,
    pub notes: String,
    pub season: String,
    pub number: String,
    pub episode_type: String,
    pub slug: String,
    /// Whether the episode is marked explicit (its own mark, else its show's).
    pub explicit: bool,
    /// The schedule, in WIB: `YYYY-MM-DD` and `HH:MM`.
    pub date: String,
    pub time: String,
    pub comment: String,
}

/// What the editor's buttons may do for this user on this episode.
#[derive(Debug, Clone, Copy, Default)]
pub struct Buttons {
    pub save: bool,
    pub review: bool,
    pub publish: bool,
    pub schedule: bool,
    pub give_back: bool,
}

/// An entry of the history as shown: when, who, what.
#[derive(Debug)]
pub struct EditorPage<'a> {
    pub episode: &'a Episode,
    pub show: &'a Show,
    pub status: EpisodeStatus,
    pub values: &'a EditorValues,
    pub buttons: Buttons,
    pub media_url: String,
    pub video: bool,
    pub page_url: String,
    /// Newest first.
    pub history: &'a [AuditEntry],
    pub notice: Option<(Notice, String)>,
    /// The recording's coarse waveform, once analysed: drawn under the player.
    pub waveform_url: Option<String>,
    pub duration_ms: u64,
    /// The sound check (`media::quality`): pending, failed, or its figures and warnings.
    pub quality: &'a MediaQuality,
    /// The documents linked to the episode, and every document that may be.
    pub documents: &'a [LinkedDocument],
    pub registry: &'a [Document],
    /// Whether the user may link documents (the same permission as editing the episode).
    pub may_link: bool,
    /// Transcripts, chapters, renditions and the preview before publication.
    pub files: EditorFiles<'a>,
}

/// "−21.3 LUFS"-style figures: one decimal, a real minus sign.
fn figure(value: Option<f64>, unit: &str) -> String {
    value.map_or_else(
        || "–".to_owned(),
        |v| format!("{v:.1} {unit}").replace('-', "−"),
    )
}

/// The sound check of the recording, as the team reads it before publishing.
fn quality_section(lang: UiLang, q: &MediaQuality) -> Markup {
    html! {
        section.quality aria-labelledby="quality" {
            h2 #quality { (t(lang, "Pemeriksaan suara", "Sound check")) }
            @match (&q.state, &q.record) {
                (QualityState::Done, Some(record)) => {
                    @let r = record.report.localized(lang == UiLang::En);
                    dl.facts {
                        dt { (t(lang, "Kenyaringan terpadu", "Integrated loudness")) }
                        dd { (figure(r.integrated_lufs, "LUFS")) }
                        dt { (t(lang, "Puncak sejati", "True peak")) }
                        dd { (figure(r.true_peak_dbtp, "dBTP")) }
                        dt { (t(lang, "Rentang kenyaringan", "Loudness range")) }
                        dd { (figure(r.loudness_range_lu, "LU")) }
                        dt { (t(lang, "Penguatan ke target", "Gain to the target")) }
                        dd { (figure(r.gain_to_target_db, "dB")) " (" (figure(Some(r.target_lufs), "LUFS")) ")" }
                    }
                    @if r.warnings.is_empty() {
                        p { (t(lang, "Tidak ada masalah yang ditemukan.", "No problem found.")) }
                    } @else {
                        ul.warnings { @for w in &r.warnings { li { (w.message) } } }
                    }
                }
                (QualityState::Failed, _) => {
                    p { (t(lang, "Rekaman ini tidak dapat dianalisis; penerbitan tetap bisa.", "This recording could not be analysed; it can still be published.")) }
                    @if let Some(e) = &q.error { p.meta { (msg(lang, &crate::service::quality::error_message(e))) } }
                }
                _ => p { (t(lang, "Sedang dianalisis; muat ulang halaman sebentar lagi.", "Being analysed; reload the page in a moment.")) },
            }
        }
    }
}

/// The documents the briefing discusses, each at its moment, and the form linking one at a
/// moment picked from the player ("use the player's time", `player.js`) or typed.
fn documents_section(c: &Chrome<'_>, p: &EditorPage<'_>) -> Markup {
    let lang = c.lang;
    html! {
        section aria-labelledby="documents" {
            h2 #documents { (t(lang, "Dokumen yang dibahas", "Documents discussed")) }
            @if p.documents.is_empty() {
                p { (t(lang, "Belum ada dokumen yang ditautkan.", "No document linked yet.")) }
            }
            ul.documents {
                @for linked in p.documents {
                    li {
                        @if let Some(ms) = linked.at_ms {
                            a href={ "#t=" (ms as f64 / 1000.0) } data-t=(ms as f64 / 1000.0) { (clock(ms)) }
                            " "
                        }
                        @if let Some(number) = &linked.document.number { (number) " — " }
                        (linked.document.title)
                        @if let Some(note) = &linked.note { span.meta { " · " (note) } }
                    }
                }
            }
            @if p.may_link && !p.registry.is_empty() {
                form.stack method="post" action={ "/studio/episodes/" (p.episode.id) "/documents" } {
                    (csrf_field(c.csrf))
                    label for="document_id" { (t(lang, "Dokumen", "Document")) }
                    select #document_id name="document_id" required {
                        @for d in p.registry {
                            option value=(d.id) {
                                @if let Some(number) = &d.number { (number) " — " }
                                (d.title)
                            }
                        }
                    }
                    label for="at" { (t(lang, "Pada saat (m:dd atau j:mm:dd; kosong: seluruh siaran)", "At the moment (m:ss or h:mm:ss; empty: the whole briefing)")) }
                    div.row {
                        input #at type="text" name="at" inputmode="numeric" pattern="[0-9:.]*" placeholder="1:35";
                        button type="button" data-fill-time="at" { (t(lang, "Pakai waktu pemutar", "Use the player's time")) }
                    }
                    label for="note" { (t(lang, "Catatan (opsional)", "Note (optional)")) }
                    input #note type="text" name="note" maxlength="500";
                    div.actions { button type="submit" { (t(lang, "Tautkan dokumen", "Link the document")) } }
                }
            }
        }
    }
}

fn history_label(lang: UiLang, action: &str) -> String {
    let (id, en) = match action {
        "created" => ("Dibuat", "Created"),
        "updated" => ("Diubah", "Changed"),
        "published" => ("Diterbitkan", "Published"),
        "submitted-for-review" => ("Diajukan untuk ditinjau", "Submitted for review"),
        "returned" => ("Dikembalikan ke penulis", "Returned to the author"),
        "withdrawn" => ("Ditarik", "Withdrawn"),
        "restored" => ("Dipulihkan", "Restored"),
        "artwork-set" => ("Sampul diunggah", "Cover uploaded"),
        "transcript-set" => ("Transkrip diunggah", "Transcript uploaded"),
        "transcript-removed" => ("Transkrip dihapus", "Transcript removed"),
        "chapters-set" => ("Bab diunggah", "Chapters uploaded"),
        "chapters-removed" => ("Bab dihapus", "Chapters removed"),
        other => return other.to_owned(),
    };
    t(lang, id, en).to_owned()
}

/// The fields an entry says changed (`updated`), or the comment of a return.
fn history_detail(e: &AuditEntry) -> Option<String> {
    match e.action.as_str() {
        "returned" => e.changes["comment"].as_str().map(|c| format!("“{c}”")),
        "updated" => e
            .changes
            .as_object()
            .filter(|m| !m.is_empty())
            .map(|m| m.keys().cloned().collect::<Vec<_>>().join(", ")),
        _ => None,
    }
}

fn type_option(value: &str, current: &str, label: &str) -> Markup {
    html! {
        @if value == current {
            option value=(value) selected { (label) }
        } @else {
            option value=(value) { (label) }
        }
    }
}

pub fn editor(c: &Chrome<'_>, p: &EditorPage<'_>) -> Markup {
    let lang = c.lang;
    let v = p.values;
    let e = p.episode;
    let b = p.buttons;
    let editable = b.save;
    let body = html! {
        p.meta {
            a href=(dashboard_url(p.show.slug.as_str(), p.status, "", 1)) { (p.show.title) }
            " · " span.status { (status_label(lang, p.status)) }
            @if let Some(at) = e.publish_at { " · " (wib(at)) }
            " · "
            a href={ "/studio/episodes/" (e.id) "/stats" } { (t(lang, "Statistik unduhan", "Download statistics")) }
        }
        @if let Some((kind, text)) = &p.notice { (notice(*kind, text)) }
        @if let Some(Review { state: ReviewState::Returned, by, at, comment }) = &e.review {
            section.returned aria-labelledby="returned" {
                h2 #returned { (t(lang, "Dikembalikan dengan komentar", "Returned with a comment")) }
                blockquote { (comment.as_deref().unwrap_or_default()) }
                p.meta { "— " (by) ", " (wib(*at)) }
            }
        }
        @if let Some(Review { state: ReviewState::InReview, by, at, .. }) = &e.review {
            p.notice.done role="status" {
                (t(lang, "Diajukan untuk ditinjau oleh ", "Submitted for review by ")) (by) ", " (wib(*at)) "."
            }
        }
        @if p.video {
            video #player .player controls preload="metadata" src=(p.media_url) { }
        } @else {
            audio #player .player controls preload="metadata" src=(p.media_url) { }
        }
        @if let Some(url) = &p.waveform_url {
            // Click to seek, the documents' moments marked (`player.js`, as on the public page).
            canvas #waveform data-src=(url) data-duration=(p.duration_ms) aria-hidden="true" {}
        }
        script src=(assets::PLAYER.path()) defer {}
        (quality_section(lang, p.quality))
        (documents_section(c, p))
        form.stack.editor method="post" action={ "/studio/episodes/" (e.id) } {
            (csrf_field(c.csrf))
            label for="title" { (t(lang, "Judul", "Title")) }
            input #title type="text" name="title" value=(v.title) required maxlength="500" readonly[!editable];
            label for="description" { (t(lang, "Deskripsi (teks)", "Description (text)")) }
            textarea #description name="description" rows="4" readonly[!editable] { (v.description) }
            label for="notes" { (t(lang, "Catatan episode (HTML)", "Show notes (HTML)")) }
            textarea #notes name="notes" rows="6" aria-describedby="notes-rule" readonly[!editable] { (v.notes) }
            p #notes-rule .meta { (t(lang,
                "Tautan, daftar dan penekanan dipertahankan; skrip dan gaya dibuang saat disimpan.",
                "Links, lists and emphasis are kept; scripts and styles are removed when saved.")) }
            @if let Some(html) = &e.meta.content_html {
                section.preview aria-labelledby="preview" {
                    h2 #preview { (t(lang, "Pratinjau catatan (tersimpan)", "Preview of the notes (saved)")) }
                    div.notes { (PreEscaped(ammonia::clean(html))) }
                }
            }
            div.row {
                span {
                    label for="season" { (t(lang, "Musim", "Season")) }
                    input #season type="text" inputmode="numeric" pattern="[0-9]*" name="season" value=(v.season) readonly[!editable];
                }
                span {
                    label for="number" { (t(lang, "Nomor", "Number")) }
                    input #number type="text" inputmode="numeric" pattern="[0-9]*" name="number" value=(v.number) readonly[!editable];
                }
                span {
                    label for="episode_type" { (t(lang, "Jenis", "Type")) }
                    select #episode_type name="episode_type" disabled[!editable] {
                        (type_option("full", &v.episode_type, t(lang, "Lengkap", "Full")))
                        (type_option("trailer", &v.episode_type, t(lang, "Cuplikan", "Trailer")))
                        (type_option("bonus", &v.episode_type, t(lang, "Bonus", "Bonus")))
                    }
                }
            }
            span.check {
                @if v.explicit {
                    input #explicit type="checkbox" name="explicit" value="1" checked disabled[!editable];
                } @else {
                    input #explicit type="checkbox" name="explicit" value="1" disabled[!editable];
                }
                label for="explicit" { (t(lang, "Konten eksplisit", "Explicit content")) }
            }
            label for="slug" { (t(lang, "Slug (alamat)", "Slug (address)")) }
            input #slug type="text" name="slug" value=(v.slug) required pattern="[a-z0-9-]{1,100}" readonly[!editable];
            p.meta { a href=(p.page_url) { (p.page_url) } }
            @if b.schedule {
                fieldset {
                    legend { (t(lang, "Jadwal terbit", "Publication schedule")) }
                    div.row {
                        span {
                            label for="date" { (t(lang, "Tanggal", "Date")) }
                            input #date type="date" name="date" value=(v.date) aria-describedby="zone";
                        }
                        span {
                            label for="time" { (t(lang, "Jam", "Time")) }
                            input #time type="time" name="time" value=(v.time) aria-describedby="zone";
                        }
                        span #zone .zone { "WIB (UTC+7, Asia/Jakarta)" }
                    }
                }
            }
            @if b.give_back {
                label for="comment" { (t(lang, "Komentar untuk penulis (saat dikembalikan)", "Comment for the author (when returned)")) }
                textarea #comment name="comment" rows="3" { (v.comment) }
            }
            div.actions {
                @if b.save {
                    button name="action" value="draft" {
                        @if matches!(p.status, EpisodeStatus::Draft | EpisodeStatus::InReview) {
                            (t(lang, "Simpan draf", "Save draft"))
                        } @else {
                            (t(lang, "Simpan", "Save"))
                        }
                    }
                }
                @if b.review {
                    button name="action" value="review" { (t(lang, "Simpan & ajukan tinjauan", "Save & submit for review")) }
                }
                @if b.publish {
                    button name="action" value="publish" { (t(lang, "Terbitkan sekarang", "Publish now")) }
                }
                @if b.schedule {
                    button name="action" value="schedule" { (t(lang, "Jadwalkan (WIB)", "Schedule (WIB)")) }
                }
                @if b.give_back {
                    button name="action" value="return" { (t(lang, "Kembalikan ke penulis", "Return to the author")) }
                }
            }
        }
        (cover_section(lang, &p.files))
        (files_section(lang, &p.files))
        (renditions_section(lang, &p.files))
        (preview_section(lang, &p.files))
        section aria-labelledby="history" {
            h2 #history { (t(lang, "Riwayat perubahan", "History of changes")) }
            @if p.history.is_empty() {
                p { (t(lang, "Belum ada.", "None yet.")) }
            } @else {
                ol.history {
                    @for entry in p.history {
                        li {
                            time datetime=(entry.at.to_rfc3339()) { (wib(entry.at)) }
                            " · "
                            strong.by { (entry.by.as_deref().unwrap_or("?")) }
                            " · "
                            span.what { (history_label(lang, &entry.action)) }
                            @if let Some(detail) = history_detail(entry) {
                                ": " span.detail { (detail) }
                            }
                        }
                    }
                }
            }
        }
    };
    layout(c, &e.title, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_wib() {
        let at = DateTime::parse_from_rfc3339("2026-12-04T18:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(wib(at), "2026-12-05 01:30 WIB");
        for s in STATES {
            assert_eq!(parse_state(state_key(s)), Some(s));
        }
        assert_eq!(
            dashboard_url("kaltim", EpisodeStatus::InReview, "a&b", 2),
            "/studio?show=kaltim&state=in_review&q=a%26b&page=2"
        );
    }
}
