//! Domain values: typed ids, validated slugs and languages, and the records the rest of the
//! code passes around. Invalid values cannot be constructed.

pub mod access;
pub mod audit;
pub mod bounds;
pub mod category;
pub mod chapters;
pub mod citation;
pub mod countries;
mod documents;
mod episodes;
pub mod file_meta;
mod ids;
mod meta;
pub mod publication;
pub mod quality;
pub mod records;
pub mod review;
pub mod search;
mod shows;
pub mod site;
mod slug;
pub mod transcript;
pub mod users;
pub mod whole;

pub use documents::{DocumentPatch, NewDocument, parse_kind};
pub use episodes::{
    CheckedDraft, EpisodeDraft, EpisodePatch, check_moment, double_option, parse_link_note,
    parse_withdrawal,
};
pub use ids::{DocumentId, EpisodeId, MediaId, ShowId, UserId};
pub use meta::{
    EpisodeMeta, EpisodeType, Funding, License, Location, Medium, MetaError, Person, ShowMeta,
    ShowType, Soundbite, Txt, UpdateFrequency,
};
pub use records::{
    ApiToken, Citation, Document, DocumentFile, DocumentKind, DocumentKindOrEmpty, DocumentLink,
    Download, DownloadStats, LinkedDocument, Listen, Role, StatsScope,
};
pub use shows::{NewShow, ShowPatch};
pub use slug::{Lang, Slug, SlugError};

/// A message in both languages Siaran speaks: Indonesian first, English second.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Msg {
    pub id: String,
    pub en: String,
}

impl Msg {
    pub fn new(id: impl Into<String>, en: impl Into<String>) -> Self {
        Msg {
            id: id.into(),
            en: en.into(),
        }
    }
}

/// A value that breaks a rule: a stable kebab-case `code` (`invalid-slug`) and the rule in both
/// languages. What every `parse` of a new or changed record answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {}", .msg.en)]
pub struct Rejection {
    pub code: &'static str,
    pub msg: Msg,
}

impl Rejection {
    pub fn new(code: &'static str, id: impl Into<String>, en: impl Into<String>) -> Self {
        Rejection {
            code,
            msg: Msg::new(id, en),
        }
    }
}

/// A title with surrounding space removed; empty or longer than `bounds::MAX_TITLE_CHARS` is
/// refused.
pub fn parse_title(raw: &str) -> Result<String, Rejection> {
    // As given, surrounding space included: the contract's `maxLength` counts it too.
    bounds::check_chars("invalid-title", "title", raw, bounds::MAX_TITLE_CHARS)?;
    let title = raw.trim();
    if title.is_empty() {
        return Err(Rejection::new(
            "invalid-title",
            "title tidak boleh kosong",
            "title must not be empty",
        ));
    }
    Ok(title.to_owned())
}

/// A description (a show's, an episode's) with surrounding space removed, at most
/// `bounds::MAX_TEXT_BYTES`.
pub fn parse_description(raw: &str) -> Result<String, Rejection> {
    let description = raw.trim();
    bounds::check_bytes(
        "invalid-description",
        "description",
        description,
        bounds::MAX_TEXT_BYTES,
    )?;
    Ok(description.to_owned())
}

/// A slug given in a request; a malformed one is refused with the rule it broke.
pub fn parse_slug(raw: &str) -> Result<Slug, Rejection> {
    Slug::parse(raw.trim()).map_err(|_| {
        Rejection::new(
            "invalid-slug",
            "slug hanya boleh berisi a-z, 0-9 dan '-' (1-100 karakter)",
            "slug may only contain a-z, 0-9 and '-' (1-100 characters)",
        )
    })
}

/// A language code (`id`, `en`, `jv`...) as an address names it.
pub fn parse_lang(raw: &str) -> Result<Lang, Rejection> {
    Lang::parse(raw).map_err(|en| {
        Rejection::new(
            "invalid-language",
            format!("Bahasa harus berupa kode bahasa seperti 'id' atau 'en': {raw}"),
            en,
        )
    })
}

impl From<&MetaError> for Rejection {
    fn from(e: &MetaError) -> Self {
        Rejection::new("invalid-meta", e.id.clone(), e.en.clone())
    }
}

use chrono::{DateTime, Utc};
use serde::Serialize;
use url::Url;

use crate::{media::MediaInfo, storage::ObjectKey};

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Show {
    pub id: ShowId,
    pub slug: Slug,
    pub title: String,
    pub description: String,
    pub language: Lang,
    pub author: String,
    pub email: String,
    /// Apple category, `"Government"` or `"News > Politics"` (parent > child).
    pub category: String,
    pub explicit: bool,
    /// `podcast:guid`: UUIDv5 of the feed URL, fixed once assigned.
    pub podcast_guid: uuid::Uuid,
    /// The cover (`itunes:image`); the API shows it through its URL, not its storage key.
    #[serde(skip)]
    pub artwork: Option<ShowArtwork>,
    /// Everything else a feed says of the show (type, medium, persons, location, funding...).
    pub meta: ShowMeta,
    /// When the show last changed its slug: the old feed URL answers 301 and the feed names
    /// its new URL in `itunes:new-feed-url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renamed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A cover image, a show's or an episode's, checked against Apple's rules when it was
/// uploaded: a square JPEG or PNG of 1400 to 3000 pixels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ShowArtwork {
    /// The object's key in the store (generated: `artwork/SHOW/SHA.EXT`).
    pub key: String,
    pub mime_type: String,
    pub width: u32,
    pub height: u32,
    pub size_bytes: u64,
    /// Lower-case hex SHA-256; its first 16 digits name the file in its URL.
    pub sha256: String,
}

impl ShowArtwork {
    pub fn extension(&self) -> &'static str {
        if self.mime_type == "image/png" {
            "png"
        } else {
            "jpg"
        }
    }

    /// The file name in the artwork URL: a new image is a new name, so it can be cached for ever.
    pub fn file_name(&self) -> String {
        format!(
            "{}.{}",
            &self.sha256[..16.min(self.sha256.len())],
            self.extension()
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Episode {
    pub id: EpisodeId,
    pub show_id: ShowId,
    pub slug: Slug,
    /// The RSS `guid`: assigned once at creation and never changed. An imported episode keeps
    /// the source feed's, whatever its form, so podcast apps see no duplicates.
    pub guid: String,
    /// Whether the `guid` is a permalink (RSS `isPermaLink`): only ever true for a guid kept
    /// from an imported feed that said so.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub guid_is_permalink: bool,
    pub title: String,
    pub description: String,
    pub media_id: MediaId,
    /// `None`: a draft. In the past: published. In the future: scheduled.
    pub publish_at: Option<DateTime<Utc>>,
    /// Everything else a feed says of the episode (season, number, persons, show notes...).
    pub meta: EpisodeMeta,
    /// Set when a published briefing was taken down: it leaves the feed and its page answers
    /// 410 with the reason and the date.
    pub withdrawn: Option<Withdrawal>,
    /// Where an unpublished episode stands with its show's editors (submitted, or returned
    /// with a comment); publishing or scheduling ends it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<review::Review>,
    /// The episode's own cover (`itunes:image` of its item), else its show's stands for it.
    /// Set by `service::episodes::set_cover` alone (`Db::set_episode_artwork`); the API shows
    /// its URL, not its storage key.
    #[serde(skip)]
    pub artwork: Option<ShowArtwork>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Why and when a briefing was taken down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Withdrawal {
    pub at: DateTime<Utc>,
    pub reason: String,
}

impl Episode {
    pub fn status(&self, now: DateTime<Utc>) -> EpisodeStatus {
        if self.withdrawn.is_some() {
            return EpisodeStatus::Withdrawn;
        }
        match self.publish_at {
            None if self
                .review
                .as_ref()
                .is_some_and(|r| r.state == review::ReviewState::InReview) =>
            {
                EpisodeStatus::InReview
            }
            None => EpisodeStatus::Draft,
            Some(t) if t <= now => EpisodeStatus::Published,
            Some(_) => EpisodeStatus::Scheduled,
        }
    }
}

/// Where an episode stands, in order: a draft, in review (submitted to the show's editors),
/// scheduled, published; or withdrawn. A draft sent back from review is a draft again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EpisodeStatus {
    Draft,
    InReview,
    Scheduled,
    Published,
    Withdrawn,
}

/// A stored media file: where its bytes are and what they are.
#[derive(Debug, Clone, PartialEq)]
pub struct Media {
    pub id: MediaId,
    pub storage_key: ObjectKey,
    /// The name the uploader gave, used for `Content-Disposition` on download.
    pub filename: String,
    pub info: MediaInfo,
    pub created_at: DateTime<Utc>,
}

/// What a feed writes of an episode's media: its `enclosure`, `itunes:duration` and, beside
/// renditions, its `podcast:alternateEnclosure`. Read from the media's columns, without its
/// whole `MediaInfo` (`Db::published_episodes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enclosure {
    pub id: MediaId,
    pub mime_type: String,
    pub extension: String,
    pub duration_ms: u64,
    pub size_bytes: u64,
    pub sha256: String,
    pub bit_rate: Option<u64>,
    pub video_height: Option<u32>,
}

impl From<&Media> for Enclosure {
    fn from(media: &Media) -> Self {
        let info = &media.info;
        Enclosure {
            id: media.id,
            mime_type: info.mime_type.clone(),
            extension: info.extension.clone(),
            duration_ms: info.duration_ms,
            size_bytes: info.size_bytes,
            sha256: info.sha256.clone(),
            bit_rate: info.bit_rate,
            video_height: info.video.as_ref().and_then(|v| v.height),
        }
    }
}

/// What a file beside an episode's recording is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EpisodeFileKind {
    /// A timed transcript (WebVTT or SRT), one per language.
    Transcript,
    /// Uploaded JSON chapters (without them, chapters are built from the linked documents).
    Chapters,
}

impl EpisodeFileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EpisodeFileKind::Transcript => "transcript",
            EpisodeFileKind::Chapters => "chapters",
        }
    }
}

/// A small file that belongs to an episode (a transcript, chapters), kept in the object store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpisodeFile {
    pub episode_id: EpisodeId,
    pub kind: EpisodeFileKind,
    /// A transcript's language; `None` for chapters.
    pub language: Option<Lang>,
    pub mime_type: String,
    pub key: ObjectKey,
    pub size_bytes: u64,
    /// Lower-case hex SHA-256 of the file, also its `ETag`.
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

impl EpisodeFile {
    /// The transcript's format; `None` for chapters.
    pub fn transcript_format(&self) -> Option<transcript::TranscriptFormat> {
        transcript::TranscriptFormat::from_mime_type(&self.mime_type)
            .filter(|_| self.kind == EpisodeFileKind::Transcript)
    }
}

/// Another rendition of an episode's recording (`podcast:alternateEnclosure`): the audio-only
/// file of a video briefing, or the video of an audio one, in another size or codec.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendition {
    pub media: Media,
    /// What apps show for it ("Video 720p"); derived from the media when absent.
    pub title: Option<String>,
}

impl Rendition {
    pub fn display_title(&self) -> String {
        if let Some(t) = &self.title {
            return t.clone();
        }
        match self.media.info.video.as_ref().and_then(|v| v.height) {
            Some(h) => format!("Video {h}p"),
            None if self.media.info.video.is_some() => "Video".to_owned(),
            None => "Audio".to_owned(),
        }
    }
}

/// What an episode carries besides its recording, for its feed item and its API view.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EpisodeExtras {
    pub files: Vec<EpisodeFile>,
    pub renditions: Vec<Rendition>,
    /// Documents linked at a moment of the recording: chapters are built from them when none
    /// were uploaded.
    pub placed_documents: u64,
}

impl EpisodeExtras {
    /// The transcripts, in language order.
    pub fn transcripts(&self) -> impl Iterator<Item = &EpisodeFile> {
        self.files
            .iter()
            .filter(|f| f.kind == EpisodeFileKind::Transcript)
    }

    pub fn uploaded_chapters(&self) -> Option<&EpisodeFile> {
        self.files
            .iter()
            .find(|f| f.kind == EpisodeFileKind::Chapters)
    }

    /// Whether the episode has chapters to link: uploaded, or from its documents' moments.
    pub fn has_chapters(&self) -> bool {
        self.uploaded_chapters().is_some() || self.placed_documents > 0
    }
}

/// Every absolute URL Siaran hands out is built here, from `SIARAN_PUBLIC_URL`.
#[derive(Debug, Clone)]
pub struct Urls {
    base: Url,
}

impl Urls {
    /// `base` must be an absolute http(s) URL; a trailing slash is ignored.
    pub fn new(mut base: Url) -> Self {
        let path = base.path().trim_end_matches('/').to_owned();
        base.set_path(&path);
        base.set_query(None);
        base.set_fragment(None);
        Urls { base }
    }

    /// The base and `tail`, written into one string (a feed asks for two URLs an episode).
    fn join(&self, tail: std::fmt::Arguments<'_>) -> String {
        use std::fmt::Write as _;
        let base = self.base();
        let mut url = String::with_capacity(base.len() + 64);
        url.push_str(base);
        url.write_fmt(tail)
            .expect("writing into a String does not fail");
        url
    }

    /// The public base URL, without a trailing slash.
    pub fn base(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// The studio, where the media team works.
    pub fn studio(&self) -> String {
        self.join(format_args!("/studio"))
    }

    /// The one-time page that sets a user's password (`secret` is URL-safe).
    pub fn studio_password(&self, secret: &str) -> String {
        self.join(format_args!("/studio/password/{secret}"))
    }

    /// The player alone, for other sites' frames.
    pub fn embed(&self, show: &Slug, episode: &Slug) -> String {
        self.join(format_args!("/embed/{show}/{episode}"))
    }

    /// The oEmbed answer for a page of this site.
    pub fn oembed(&self, page_url: &str) -> String {
        let encoded: String = url::form_urlencoded::byte_serialize(page_url.as_bytes()).collect();
        self.join(format_args!("/oembed?url={encoded}&format=json"))
    }

    pub fn feed(&self, slug: &Slug) -> String {
        self.join(format_args!("/feeds/{slug}.xml"))
    }

    pub fn show_page(&self, slug: &Slug) -> String {
        self.join(format_args!("/shows/{slug}"))
    }

    pub fn episode_page(&self, show: &Slug, episode: &Slug) -> String {
        self.join(format_args!("/shows/{show}/{episode}"))
    }

    pub fn artwork(&self, show: ShowId, artwork: &ShowArtwork) -> String {
        self.join(format_args!("/artwork/{show}/{}", artwork.file_name()))
    }

    /// An episode's own cover: answered once the episode is published.
    pub fn episode_artwork(&self, episode: EpisodeId, artwork: &ShowArtwork) -> String {
        self.join(format_args!(
            "/artwork/episodes/{episode}/{}",
            artwork.file_name()
        ))
    }

    /// A transcript: the same URL for as long as the episode has one in that language.
    pub fn transcript(&self, episode: EpisodeId, language: &Lang, extension: &str) -> String {
        self.join(format_args!(
            "/transcripts/{episode}/{language}.{extension}"
        ))
    }

    /// The episode's chapters, uploaded or built from its documents' moments.
    pub fn chapters(&self, episode: EpisodeId) -> String {
        self.join(format_args!("/chapters/{episode}.json"))
    }

    /// A document's uploaded file: a new file is a new URL.
    pub fn document_file(&self, document: DocumentId, file_name: &str) -> String {
        self.join(format_args!("/documents/{document}/{file_name}"))
    }

    /// A media file's waveform (`waveform.json`, `waveform.dat`, `waveform-overview.json`):
    /// the same URL for as long as the media exists.
    pub fn waveform(&self, media: MediaId, file_name: &str) -> String {
        self.join(format_args!("/media/{media}/{file_name}"))
    }

    /// The episode's latest signed publication record (`http::transparency`).
    pub fn publication_record(&self, episode: EpisodeId) -> String {
        self.join(format_args!("/transparency/episodes/{episode}"))
    }

    /// One entry of the transparency log.
    pub fn log_entry(&self, seq: u64) -> String {
        self.join(format_args!("/transparency/records/{seq}"))
    }

    /// The enclosure URL: ends in the file's extension, ASCII only.
    pub fn media(&self, id: MediaId, extension: &str) -> String {
        self.join(format_args!("/media/{id}.{extension}"))
    }
}
