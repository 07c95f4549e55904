//! The public archive's pages, server-rendered with maud (every value escaped by the macro):
//! home, show, episode (player, documents at their moments, transcript, downloads, citations),
//! document, the embeddable player, and error pages. Indonesian first, English on request.
//!
//! Pure functions from the records to HTML: the handlers in `http::pages` and `http::search`
//! load the records. Every page's markup lives in this folder; its styles and script are files
//! (`siaran.css` and `player.js` beside this module, served by `http::assets`), as pages allow no inline style or script.

pub mod search;
pub mod studio;
pub mod studio_documents;
pub mod studio_editor_files;
pub mod studio_episodes;
pub mod studio_show;
pub mod studio_site;
pub mod studio_stats;
pub mod studio_upload;
pub mod studio_users;
pub mod verify;

use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};

use crate::{
    db::{Citation, Document, DocumentKind, LinkedDocument},
    domain::audit::AuditEntry,
    domain::citation::{self, CiteLang, Cited, clock, length, long_date},
    domain::{Episode, EpisodeMeta, Media, Rendition, Show, transcript::Cue},
    http::{assets, error::UiLang},
};

/// A word or sentence in the page's language.
pub(crate) fn t(lang: UiLang, id: &'static str, en: &'static str) -> &'static str {
    match lang {
        UiLang::Id => id,
        UiLang::En => en,
    }
}

fn code(lang: UiLang) -> &'static str {
    t(lang, "id", "en")
}

fn cite_lang(lang: UiLang) -> CiteLang {
    match lang {
        UiLang::Id => CiteLang::Id,
        UiLang::En => CiteLang::En,
    }
}

/// "7 Juni 2023" / "June 7, 2023" (UTC, as the feed's `pubDate`).
pub(crate) fn date(lang: UiLang, at: DateTime<Utc>) -> String {
    long_date(cite_lang(lang), at.date_naive())
}

/// "1,0 MB" / "1.0 MB".
fn size(lang: UiLang, bytes: u64) -> String {
    let mb = format!("{:.1} MB", bytes as f64 / 1_000_000.0);
    match lang {
        UiLang::Id => mb.replace('.', ","),
        UiLang::En => mb,
    }
}

/// What the `<head>` says beyond the title: description, OpenGraph, feed and oEmbed links.
#[derive(Debug, Default)]
pub struct Head {
    pub description: String,
    pub canonical: Option<String>,
    pub feed: Option<String>,
    pub oembed: Option<String>,
    pub og: Vec<(&'static str, String)>,
    /// `<meta name="robots" content="noindex">`: a page search engines must not keep.
    pub noindex: bool,
}

/// What every public page shows of the site settings (`http::site::chrome`).
#[derive(Debug, Clone)]
pub struct SiteChrome {
    /// The office's name: the header's and every title's.
    pub name: String,
    pub address: String,
    pub ppid_contact: String,
    /// `/site.css?v=HASH`, the settings' colours.
    pub css_path: String,
    pub logo_url: Option<String>,
}

/// The frame of every page. `path` is the page's path, for the language switch.
pub fn layout(
    lang: UiLang,
    site: &SiteChrome,
    title: &str,
    path: &str,
    head: &Head,
    body: &Markup,
) -> Markup {
    let (other, other_label) = match lang {
        UiLang::Id => ("en", "English"),
        UiLang::En => ("id", "Bahasa Indonesia"),
    };
    html! {
        (DOCTYPE)
        html lang=(code(lang)) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (site.name) }
                meta name="description" content=(head.description);
                @if head.noindex { meta name="robots" content="noindex, nofollow"; }
                @if let Some(c) = &head.canonical { link rel="canonical" href=(c); }
                @if let Some(f) = &head.feed {
                    link rel="alternate" type="application/rss+xml" title=(title) href=(f);
                }
                @if let Some(o) = &head.oembed {
                    link rel="alternate" type="application/json+oembed" href=(o);
                }
                @for (property, content) in &head.og {
                    @if property.starts_with("twitter:") {
                        meta name=(property) content=(content);
                    } @else {
                        meta property=(property) content=(content);
                    }
                }
                link rel="stylesheet" href=(assets::STYLE.path());
                link rel="stylesheet" href=(site.css_path);
                script src=(assets::PLAYER.path()) defer {}
            }
            body {
                header {
                    a.home href="/" {
                        @if let Some(logo) = &site.logo_url { img src=(logo) alt="" height="32"; }
                        (site.name)
                    }
                    form.search action="/cari" method="get" role="search" {
                        input type="search" name="q" aria-label=(t(lang, "Cari", "Search"))
                            placeholder=(t(lang, "Cari siaran, transkrip, dokumen", "Search briefings, transcripts, documents"));
                        " "
                        button type="submit" { (t(lang, "Cari", "Search")) }
                    }
                    a href={ (path) (if path.contains('?') { "&" } else { "?" }) "lang=" (other) } hreflang=(other) lang=(other) { (other_label) }
                }
                main { (body) }
                footer.meta {
                    @if !site.address.is_empty() || !site.ppid_contact.is_empty() {
                        p.address { strong { (site.name) } "\n" (site.address) }
                        @if !site.ppid_contact.is_empty() {
                            p.address { (t(lang, "Kontak PPID: ", "PPID contact: ")) (site.ppid_contact) }
                        }
                    }
                    p { (t(lang,
                        "Arsip siaran resmi sesuai kewajiban informasi publik (UU 14/2008 pasal 7).",
                        "Archive of official briefings, as the public-information law requires (UU 14/2008, art. 7)."))
                    }
                    p { a href="/cek" { (t(lang, "Periksa potongan rekaman", "Check a clip")) } }
                }
            }
        }
    }
}

/// One line of an episode list: title link, date and length.
fn episode_line(lang: UiLang, url: &str, episode: &Episode, media: Option<&Media>) -> Markup {
    html! {
        li {
            a href=(url) { (episode.title) }
            " "
            span.meta {
                @if let Some(at) = episode.publish_at { (date(lang, at)) }
                @if let Some(m) = media { " · " (length(m.info.duration_ms)) }
            }
        }
    }
}

/// A feed's address opened in a browser: what a feed is, the address to copy, and the episodes
/// the feed carries.
pub struct FeedPage<'a> {
    pub show: &'a Show,
    /// The feed's path, for the language switch.
    pub path: String,
    pub feed_url: String,
    pub show_url: String,
    pub artwork_url: Option<String>,
    /// The feed's items, newest first: the episode's page, the episode, its media's URL.
    pub episodes: Vec<FeedPageItem<'a>>,
}

pub struct FeedPageItem<'a> {
    pub page_url: String,
    pub episode: &'a Episode,
    pub enclosure: &'a crate::domain::Enclosure,
    pub media_url: String,
}

pub fn feed_page(lang: UiLang, site: &SiteChrome, p: &FeedPage<'_>) -> Markup {
    let body = html! {
        aside.about {
            p {
                strong { (t(lang, "Ini adalah umpan (feed) podcast.", "This is a podcast feed.")) }
                " "
                (t(lang,
                    "Salin alamatnya ke aplikasi podcast Anda (Apple Podcasts, Spotify, AntennaPod, Pocket Casts dan lainnya) untuk berlangganan dan menerima setiap episode baru.",
                    "Copy its address into your podcast app (Apple Podcasts, Spotify, AntennaPod, Pocket Casts and others) to subscribe and get every new episode."))
            }
            input type="text" readonly value=(p.feed_url)
                aria-label=(t(lang, "Alamat umpan", "Feed address"));
            p.meta {
                (t(lang,
                    "Di aplikasi, pilih tambah podcast lewat alamat (URL): Apple Podcasts: Pustaka → Ikuti Acara lewat URL; AntennaPod: Tambah podcast → Alamat RSS; gPodder: Langganan → Tambah podcast lewat URL.",
                    "In the app, add a podcast by its address (URL): Apple Podcasts: Library → Follow a Show by URL; AntennaPod: Add podcast → RSS address; gPodder: Subscriptions → Add podcast via URL."))
            }
        }
        header.show {
            @if let Some(src) = &p.artwork_url {
                img.cover src=(src) alt={ (t(lang, "Sampul ", "Cover of ")) (p.show.title) } width="144" height="144";
            }
            h1 { (p.show.title) }
            @if !p.show.author.is_empty() { p.meta { (p.show.author) } }
            p { (p.show.description) }
            p { a href=(p.show_url) { (t(lang, "Halaman acara di arsip", "The show's page in the archive")) } }
        }
        section {
            h2 { (t(lang, "Episode", "Episodes")) " (" (p.episodes.len()) ")" }
            @if p.episodes.is_empty() {
                p { (t(lang, "Belum ada episode yang terbit.", "No episodes yet.")) }
            }
            @for item in &p.episodes {
                article {
                    h3 { a href=(item.page_url) { (item.episode.title) } }
                    p.meta {
                        @if let Some(at) = item.episode.publish_at {
                            time datetime=(at.format("%Y-%m-%d")) { (date(lang, at)) }
                        }
                        " · " (t(lang, "Durasi ", "Length ")) (length(item.enclosure.duration_ms))
                    }
                    @if item.enclosure.mime_type.starts_with("video/") {
                        video controls preload="none" src=(item.media_url)
                            aria-label={ (t(lang, "Putar: ", "Play: ")) (item.episode.title) } {}
                    } @else {
                        audio controls preload="none" src=(item.media_url)
                            aria-label={ (t(lang, "Putar: ", "Play: ")) (item.episode.title) } {}
                    }
                }
            }
        }
    };
    let title = format!(
        "{} · {}",
        p.show.title,
        t(lang, "Umpan podcast", "Podcast feed")
    );
    let head = Head {
        description: p.show.description.chars().take(300).collect(),
        feed: Some(p.feed_url.clone()),
        ..Head::default()
    };
    layout(lang, site, &title, &p.path, &head, &body)
}

pub struct HomeItem<'a> {
    pub episode: &'a Episode,
    pub show: &'a Show,
    pub url: String,
}

pub fn home(
    lang: UiLang,
    site: &SiteChrome,
    items: &[HomeItem<'_>],
    shows: &[(String, &Show)],
) -> Markup {
    let title = t(lang, "Arsip siaran", "Briefing archive");
    let body = html! {
        h1 { (title) }
        h2 { (t(lang, "Siaran terbaru", "Latest briefings")) }
        @if items.is_empty() { p { (t(lang, "Belum ada siaran.", "No briefings yet.")) } }
        ul {
            @for item in items {
                li {
                    a href=(item.url) { (item.episode.title) }
                    " "
                    span.meta {
                        (item.show.title)
                        @if let Some(at) = item.episode.publish_at { " · " (date(lang, at)) }
                    }
                }
            }
        }
        h2 { (t(lang, "Acara", "Shows")) }
        ul { @for (url, show) in shows { li { a href=(url) { (show.title) } } } }
    };
    let head = Head {
        description: title.to_owned(),
        ..Head::default()
    };
    layout(lang, site, title, "/", &head, &body)
}

pub struct ShowPage<'a> {
    pub show: &'a Show,
    pub path: String,
    pub feed_url: String,
    pub artwork_url: Option<String>,
    /// Published episodes, newest first, with their page URL.
    pub episodes: Vec<(String, &'a Episode)>,
}

pub fn show(lang: UiLang, site: &SiteChrome, p: &ShowPage<'_>) -> Markup {
    let body = html! {
        @if let Some(src) = &p.artwork_url { img.cover src=(src) alt=""; }
        h1 { (p.show.title) }
        p.meta { (p.show.author) }
        p { (p.show.description) }
        p {
            (t(lang, "Berlangganan di aplikasi siniar: ", "Subscribe in a podcast app: "))
            a href=(p.feed_url) { code { (p.feed_url) } }
        }
        h2 { (t(lang, "Episode", "Episodes")) }
        @if p.episodes.is_empty() { p { (t(lang, "Belum ada siaran.", "No briefings yet.")) } }
        ul { @for (url, e) in &p.episodes { (episode_line(lang, url, e, None)) } }
    };
    let head = Head {
        description: p.show.description.chars().take(300).collect(),
        feed: Some(p.feed_url.clone()),
        og: vec![
            ("og:type", "website".into()),
            ("og:title", p.show.title.clone()),
        ],
        ..Head::default()
    };
    layout(lang, site, &p.show.title, &p.path, &head, &body)
}

/// Everything the episode page shows.
pub struct EpisodePage<'a> {
    pub show: &'a Show,
    pub episode: &'a Episode,
    pub media: &'a Media,
    pub path: String,
    pub url: String,
    pub show_url: String,
    pub feed_url: String,
    pub media_url: String,
    pub embed_url: String,
    pub oembed_url: String,
    pub artwork_url: Option<String>,
    pub documents: Vec<(String, &'a LinkedDocument)>,
    pub cues: Vec<Cue>,
    pub transcripts: Vec<(String, String)>,
    pub renditions: Vec<(String, &'a Rendition)>,
    /// The recording's coarse waveform (audiowaveform JSON), once analysed: drawn under the
    /// player by `player.js`.
    pub waveform_url: Option<String>,
    pub cited: Cited,
    /// Changes made after publication, oldest first.
    pub history: Vec<AuditEntry>,
    /// The studio's preview of an unpublished episode: marked so, not indexed, without the
    /// links that only a published episode answers (sharing, embedding, citation files).
    pub preview: bool,
    /// The episode's latest signed publication record, with its URL, and the site's key set.
    pub record: Option<(crate::domain::publication::Entry, String)>,
    pub keys_url: String,
    pub base_url: String,
}

fn action_label(lang: UiLang, action: &str) -> &'static str {
    match action {
        "updated" => t(lang, "diubah", "changed"),
        "withdrawn" => t(lang, "ditarik", "withdrawn"),
        "restored" => t(lang, "dipulihkan", "restored"),
        "document-linked" => t(lang, "dokumen ditautkan", "document linked"),
        "document-unlinked" => t(lang, "tautan dokumen dihapus", "document unlinked"),
        "transcript-set" => t(lang, "transkrip diperbarui", "transcript updated"),
        "transcript-removed" => t(lang, "transkrip dihapus", "transcript removed"),
        "chapters-set" => t(lang, "bab diperbarui", "chapters updated"),
        "artwork-set" => t(lang, "sampul diperbarui", "cover updated"),
        "chapters-removed" => t(lang, "bab dihapus", "chapters removed"),
        "rendition-added" => t(lang, "versi lain ditambahkan", "rendition added"),
        "rendition-removed" => t(lang, "versi lain dihapus", "rendition removed"),
        "published" => t(lang, "diterbitkan", "published"),
        _ => t(lang, "perubahan", "change"),
    }
}

/// One change: when, what, and for a changed title or description its old and new text.
fn history_line(lang: UiLang, entry: &AuditEntry) -> Markup {
    let fields: Vec<(&String, &serde_json::Value)> = entry
        .changes
        .as_object()
        .map(|m| m.iter().collect())
        .unwrap_or_default();
    html! {
        li {
            time datetime=(entry.at.to_rfc3339()) { (date(lang, entry.at)) }
            " — " (action_label(lang, &entry.action))
            @if entry.action == "updated" {
                @for (field, change) in &fields {
                    br;
                    code { (field) } ": "
                    @match (change["from"].as_str(), change["to"].as_str()) {
                        (Some(from), Some(to)) => { "“" (from) "” → “" (to) "”" }
                        _ => { (t(lang, "diubah", "changed")) }
                    }
                }
            }
            @if entry.action == "withdrawn" {
                @if let Some(reason) = entry.changes["reason"].as_str() { ": " (reason) }
            }
        }
    }
}

pub(crate) fn kind_label(lang: UiLang, kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::UndangUndang => t(lang, "Undang-undang", "Law"),
        DocumentKind::PeraturanPemerintah => {
            t(lang, "Peraturan pemerintah", "Government regulation")
        }
        DocumentKind::PeraturanPresiden => t(lang, "Peraturan presiden", "Presidential regulation"),
        DocumentKind::PeraturanMenteri => t(lang, "Peraturan menteri", "Ministerial regulation"),
        DocumentKind::PeraturanDaerah => t(lang, "Peraturan daerah", "Regional regulation"),
        DocumentKind::PeraturanGubernur => t(lang, "Peraturan gubernur", "Governor regulation"),
        DocumentKind::PeraturanBupati => t(lang, "Peraturan bupati", "Regent regulation"),
        DocumentKind::PeraturanWalikota => t(lang, "Peraturan wali kota", "Mayoral regulation"),
        DocumentKind::SuratKeputusan => t(lang, "Surat keputusan", "Decree"),
        DocumentKind::SuratEdaran => t(lang, "Surat edaran", "Circular"),
        DocumentKind::SiaranPers => t(lang, "Siaran pers", "Press release"),
        DocumentKind::Laporan => t(lang, "Laporan", "Report"),
        DocumentKind::Other => t(lang, "Dokumen", "Document"),
    }
}

/// A document's name as cited: its number, then its title.
pub fn document_name(d: &Document) -> String {
    match &d.number {
        Some(n) => format!("{n}: {}", d.title),
        None => d.title.clone(),
    }
}

/// A moment link that seeks the player on the page (and is the moment's permanent link).
fn moment(ms: u64) -> Markup {
    let seconds = ms / 1000;
    html! { a.t href={ "#t=" (seconds) } data-t=(seconds) { (clock(ms)) } }
}

/// A cue's text for reading: a WebVTT voice tag becomes "Name: ", other markup goes.
fn cue_text(text: &str) -> String {
    crate::domain::transcript::plain_text(text)
}

fn people(lang: UiLang, meta: &EpisodeMeta) -> Markup {
    html! {
        @if !meta.persons.is_empty() {
            p {
                strong { (t(lang, "Narasumber: ", "Speakers: ")) }
                @for (i, p) in meta.persons.iter().enumerate() {
                    @if i > 0 { ", " }
                    @if let Some(href) = &p.href { a href=(href) { (p.name) } } @else { (p.name) }
                    @if let Some(role) = &p.role { " (" (role) ")" }
                }
            }
        }
        @if let Some(l) = &meta.location {
            p { strong { (t(lang, "Lokasi: ", "Location: ")) } (l.name) }
        }
    }
}

pub fn episode(lang: UiLang, site: &SiteChrome, p: &EpisodePage<'_>) -> Markup {
    let e = p.episode;
    let info = &p.media.info;
    let video = info.video.is_some();
    let cl = cite_lang(lang);
    let body = html! {
        @if p.preview {
            p.preview role="note" {
                strong { (t(lang, "Pratinjau", "Preview")) }
                " — " (t(lang,
                    "belum terbit: halaman ini hanya terlihat oleh tim di studio.",
                    "not published: only the team sees this page, in the studio."))
            }
        }
        p.meta { a href=(p.show_url) { (p.show.title) } }
        h1 { (e.title) }
        p.meta {
            @if let Some(at) = e.publish_at { time datetime=(at.to_rfc3339()) { (date(lang, at)) } " · " }
            (t(lang, "Durasi ", "Length ")) (length(info.duration_ms))
        }
        @if video {
            video #player controls preload="metadata" src=(p.media_url) {}
        } @else {
            audio #player controls preload="metadata" src=(p.media_url) {}
        }
        @if let Some(url) = &p.waveform_url {
            // A picture of the recording that seeks where clicked, with the documents' moments
            // marked; the player's own controls do all of it for keyboards and screen readers.
            canvas #waveform data-src=(url) data-duration=(info.duration_ms) aria-hidden="true" {}
        }
        (people(lang, &e.meta))
        @if !e.description.is_empty() { p { (e.description) } }

        @if !p.documents.is_empty() {
            h2 { (t(lang, "Dokumen yang dibahas", "Documents discussed")) }
            ul.documents {
                @for (url, linked) in &p.documents {
                    li {
                        @if let Some(ms) = linked.at_ms { (moment(ms)) }
                        a href=(url) { (document_name(&linked.document)) }
                        " " span.meta { "(" (kind_label(lang, linked.document.kind)) ")" }
                        @if let Some(note) = &linked.note { " — " (note) }
                    }
                }
            }
        }

        @if !p.cues.is_empty() {
            h2 { (t(lang, "Transkrip", "Transcript")) }
            ol.cues { @for cue in &p.cues { li { (moment(cue.start_ms)) (cue_text(&cue.text)) } } }
        }

        h2 { (t(lang, "Unduh", "Download")) }
        ul.downloads {
            li {
                a href={ (p.media_url) "?download=1" } download { (info.mime_type) }
                " · " (size(lang, info.size_bytes))
                br; "SHA-256 " code { (info.sha256) }
            }
            @for (url, r) in &p.renditions {
                li {
                    a href={ (url) "?download=1" } download { (r.display_title()) " · " (r.media.info.mime_type) }
                    " · " (size(lang, r.media.info.size_bytes))
                    br; "SHA-256 " code { (r.media.info.sha256) }
                }
            }
            @for (url, label) in &p.transcripts {
                li { a href=(url) { (t(lang, "Transkrip ", "Transcript ")) (label) } }
            }
        }

        h2 #cite { (t(lang, "Kutip siaran ini", "Cite this briefing")) }
        h3 { "APA 7" }
        blockquote.apa { (italics(&citation::apa(&p.cited, cl))) }
        h3 { "Chicago" }
        blockquote.chicago { (italics(&citation::chicago(&p.cited, cl))) }
        @if !p.preview { p {
            (t(lang, "Unduh kutipan: ", "Download the citation: "))
            a href={ (p.path) "/cite.bib" } { "BibTeX" } " · "
            a href={ (p.path) "/cite.ris" } { "RIS" } " · "
            a href={ (p.path) "/cite.json" } { "CSL-JSON" }
        } }
        @if let Some((entry, record_url)) = &p.record {
            (verified(lang, entry, record_url, &p.keys_url, &p.base_url))
        }
        @if !p.history.is_empty() {
            h2 { (t(lang, "Riwayat perubahan", "Change history")) }
            ul.history { @for entry in &p.history { (history_line(lang, entry)) } }
        }
        p.meta {
            (t(lang, "Tautan permanen: ", "Permanent link: ")) a href=(p.url) { (p.url) }
            br;
            (t(lang, "Langganan: ", "Subscribe: ")) a href=(p.feed_url) { (p.feed_url) }
        }
    };
    let description: String = if e.description.is_empty() {
        p.show.title.clone()
    } else {
        e.description.chars().take(300).collect()
    };
    let mut og = vec![
        (
            "og:type",
            if video { "video.other" } else { "website" }.to_owned(),
        ),
        ("og:title", e.title.clone()),
        ("og:description", description.clone()),
        ("og:url", p.url.clone()),
        ("og:site_name", p.show.title.clone()),
        ("og:locale", t(lang, "id_ID", "en_US").to_owned()),
        (
            if video { "og:video" } else { "og:audio" },
            p.media_url.clone(),
        ),
        (
            if video {
                "og:video:type"
            } else {
                "og:audio:type"
            },
            info.mime_type.clone(),
        ),
        ("twitter:card", "player".to_owned()),
        ("twitter:title", e.title.clone()),
        ("twitter:description", description.clone()),
        ("twitter:player", p.embed_url.clone()),
        ("twitter:player:width", "480".to_owned()),
        (
            "twitter:player:height",
            if video { "320" } else { "120" }.to_owned(),
        ),
    ];
    if let Some(img) = &p.artwork_url {
        og.push(("og:image", img.clone()));
        og.push(("twitter:image", img.clone()));
    }
    let head = if p.preview {
        // Nothing to share or embed yet, and nothing for a search engine to keep.
        Head {
            description,
            noindex: true,
            ..Head::default()
        }
    } else {
        Head {
            description,
            canonical: Some(p.url.clone()),
            feed: Some(p.feed_url.clone()),
            oembed: Some(p.oembed_url.clone()),
            og,
            noindex: false,
        }
    };
    layout(lang, site, &e.title, &p.path, &head, &body)
}

/// "Verified publication": the signed record of what was published, and how to check a file.
fn verified(
    lang: UiLang,
    entry: &crate::domain::publication::Entry,
    record_url: &str,
    keys_url: &str,
    base_url: &str,
) -> Markup {
    let r = &entry.record;
    html! {
        section #verified {
            h2 { (t(lang, "Publikasi terverifikasi", "Verified publication")) }
            p {
                (t(lang,
                    "Setiap berkas siaran ini (rekaman, versi lain, transkrip, dokumen) tercatat dengan sidik SHA-256-nya dalam log transparansi yang ditandatangani secara digital (Ed25519). Catatan terakhir: ",
                    "Every file of this briefing (recording, renditions, transcripts, documents) is recorded with its SHA-256 fingerprint in a digitally signed (Ed25519) transparency log. Latest record: "))
                a href=(record_url) { (t(lang, "entri ", "entry ")) (entry.seq) }
                " (" (r.at) ", " (r.files.len()) (t(lang, " berkas, ", " files, ")) (r.state) ")."
            }
            p.meta { (t(lang, "Hash catatan ", "Record hash ")) code { (entry.hash) } br; (t(lang, "Kunci ", "Key ")) code { (r.key) } " · " a href=(keys_url) { (t(lang, "kunci publik", "public keys")) } " · " a href="/transparency/log" { (t(lang, "log lengkap", "full log")) } }
            p {
                (t(lang, "Periksa berkas yang Anda terima: ", "Check a file you received: "))
                code { "siaran verify BERKAS --server " (base_url) }
                (t(lang, " — atau bandingkan SHA-256-nya dengan catatan.", " — or compare its SHA-256 with the record."))
            }
            p {
                (t(lang, "Menerima potongan rekaman yang diedarkan? ", "Received a clip that is going around? "))
                a href="/cek" { (t(lang, "Periksa apakah berasal dari arsip ini", "Check whether it comes from this archive")) }
                "."
            }
        }
    }
}

/// `*text*` as `<em>` (the citation formatters mark italics so), everything else escaped.
fn italics(text: &str) -> Markup {
    let parts: Vec<&str> = text.split('*').collect();
    html! {
        @for (i, part) in parts.iter().enumerate() {
            @if i % 2 == 1 { em { (part) } } @else {
                @for (j, line) in part.split('\n').enumerate() { @if j > 0 { br; } (line) }
            }
        }
    }
}

pub struct DocumentPage<'a> {
    pub document: &'a Document,
    pub path: String,
    /// Published citations with their episode page URL.
    pub citations: Vec<(String, &'a Citation)>,
}

pub fn document(lang: UiLang, site: &SiteChrome, p: &DocumentPage<'_>) -> Markup {
    let d = p.document;
    let body = html! {
        p.meta { (kind_label(lang, d.kind)) }
        h1 { (d.title) }
        @if let Some(n) = &d.number { p { strong { (n) } } }
        p.meta {
            @if let Some(issuer) = &d.issuer { (issuer) }
            @if let Some(on) = d.issued_on { " · " (long_date(cite_lang(lang), on)) }
        }
        @if let Some(url) = &d.url {
            p { a href=(url) rel="external" { (t(lang, "Baca dokumen", "Read the document")) } }
        }
        @if let Some(file) = &d.file {
            @if let Some(url) = &file.url {
                p.download {
                    a href=(url) type="application/pdf" { (t(lang, "Unduh PDF", "Download the PDF")) }
                    " · " (file.filename) " · " (size(lang, file.size_bytes))
                    br; "SHA-256 " code { (file.sha256) }
                }
            }
        }
        h2 { (t(lang, "Dibahas dalam siaran", "Discussed in briefings")) }
        @if p.citations.is_empty() { p { (t(lang, "Belum ada siaran yang membahasnya.", "No briefing discusses it yet.")) } }
        ul {
            @for (url, c) in &p.citations {
                li {
                    a href=(url) { (c.episode.title) }
                    @if let Some(ms) = c.at_ms {
                        " — " a href={ (url) "#t=" (ms / 1000) } { (t(lang, "menit ", "at ")) (clock(ms)) }
                    }
                    @if let Some(note) = &c.note { " — " (note) }
                    @if let Some(at) = c.episode.publish_at { " " span.meta { "(" (date(lang, at)) ")" } }
                }
            }
        }
    };
    let head = Head {
        description: document_name(d),
        ..Head::default()
    };
    layout(lang, site, &d.title, &p.path, &head, &body)
}

/// The player alone, for other sites' `<iframe>` (oEmbed, Twitter cards).
pub fn embed(
    site: &SiteChrome,
    e: &Episode,
    show: &Show,
    media_url: &str,
    page_url: &str,
    video: bool,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="id" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (e.title) " · " (site.name) }
                link rel="stylesheet" href=(assets::STYLE.path());
                link rel="stylesheet" href=(site.css_path);
                script src=(assets::PLAYER.path()) defer {}
            }
            body.embed {
                p { a href=(page_url) target="_blank" rel="noopener" { (e.title) } " · " (show.title) " · " (site.name) }
                @if video {
                    video #player controls preload="metadata" src=(media_url) {}
                } @else {
                    audio #player controls preload="metadata" src=(media_url) {}
                }
            }
        }
    }
}

/// A page that is not there (404), or no longer (410, with why and since when).
pub fn error(lang: UiLang, site: &SiteChrome, path: &str, heading: &str, detail: &str) -> Markup {
    let body = html! {
        h1 { (heading) }
        p { (detail) }
        p { a href="/" { (t(lang, "Ke beranda", "Go to the home page")) } }
    };
    layout(lang, site, heading, path, &Head::default(), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cue_text_reads_voices_and_drops_markup() {
        assert_eq!(
            cue_text("<v Kepala Dinas>Selamat <b>pagi</b>"),
            "Kepala Dinas: Selamat pagi"
        );
        assert_eq!(cue_text("<v.loud Ana>Hai"), "Ana: Hai");
        assert_eq!(cue_text("a &amp; b\nc"), "a & b c");
    }
}
