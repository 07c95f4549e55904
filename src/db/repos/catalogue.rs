//! Shows, media records and episodes, with the studio's episode listing.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::db::DbError;
use crate::domain::{
    Enclosure, Episode, EpisodeId, EpisodeStatus, Media, MediaId, Show, ShowArtwork, ShowId, Slug,
    Withdrawal, review::Review,
};

/// Shows, with the slugs they had before a rename.
#[async_trait::async_trait]
pub trait ShowRepo: Send + Sync {
    async fn create_show(&self, show: &Show) -> Result<(), DbError>;
    async fn show_by_slug(&self, slug: &Slug) -> Result<Show, DbError>;
    async fn show(&self, id: ShowId) -> Result<Show, DbError>;
    async fn list_shows(&self) -> Result<Vec<Show>, DbError>;
    /// Sets the show's cover; returns the show and the cover it replaced (to delete its object).
    async fn set_show_artwork(
        &self,
        id: ShowId,
        artwork: &ShowArtwork,
        now: DateTime<Utc>,
    ) -> Result<(Show, Option<ShowArtwork>), DbError>;
    /// Writes the show's changed fields. When `previous_slug` differs from the show's slug, the
    /// old slug is kept so that its URLs redirect; a slug another show had is refused
    /// (`Conflict`), one this show had before is taken back.
    async fn update_show(&self, show: &Show, previous_slug: &Slug) -> Result<(), DbError>;
    /// The show that had `slug` before it was renamed.
    async fn show_by_old_slug(&self, slug: &Slug) -> Result<Show, DbError>;
}

/// Media files' records (never updated: a replaced recording is a new row).
#[async_trait::async_trait]
pub trait MediaRepo: Send + Sync {
    async fn create_media(&self, media: &Media) -> Result<(), DbError>;
    async fn media(&self, id: MediaId) -> Result<Media, DbError>;
}

/// Episodes: their publication, withdrawal and renames, and the feed's rows.
#[async_trait::async_trait]
pub trait EpisodeRepo: Send + Sync {
    async fn create_episode(&self, episode: &Episode) -> Result<(), DbError>;
    async fn episode(&self, id: EpisodeId) -> Result<Episode, DbError>;
    async fn episode_slug_taken(&self, show: ShowId, slug: &Slug) -> Result<bool, DbError>;
    /// Sets the episode's own cover; returns the episode and the cover it replaced (to delete
    /// its object). `create_episode` writes none.
    async fn set_episode_artwork(
        &self,
        id: EpisodeId,
        artwork: &ShowArtwork,
        now: DateTime<Utc>,
    ) -> Result<(Episode, Option<ShowArtwork>), DbError>;
    /// Sets (or clears, for a draft) the publication time.
    async fn set_publish_at(
        &self,
        id: EpisodeId,
        publish_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Episode, DbError>;
    /// Every episode of `show` (drafts and scheduled too), newest first by publication time,
    /// drafts first.
    async fn show_episodes(&self, show: ShowId) -> Result<Vec<Episode>, DbError>;
    /// The episodes of `show` whose publication time has come, newest first, with what the feed
    /// writes of their media.
    async fn published_episodes(
        &self,
        show: ShowId,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Episode, Enclosure)>, DbError>;
    /// The episode of `show` whose slug is `slug` now.
    async fn episode_by_slug(&self, show: ShowId, slug: &Slug) -> Result<Episode, DbError>;
    /// The latest `limit` episodes published at `now` across every show, newest first.
    async fn recent_episodes(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Episode>, DbError>;
    /// Takes a briefing down (`Some`: when and why) or puts it back (`None`).
    async fn set_withdrawal(
        &self,
        id: EpisodeId,
        withdrawal: Option<&Withdrawal>,
        now: DateTime<Utc>,
    ) -> Result<Episode, DbError>;
    /// The episode (and its show) a media file belongs to, the earliest published first.
    async fn episode_of_media(
        &self,
        media: MediaId,
    ) -> Result<Option<(EpisodeId, ShowId)>, DbError>;
    /// The first publication time after `after` of each show that has one scheduled (of `show`
    /// alone when given): when a cached feed goes stale, and when a WebSub hub must hear of it.
    async fn next_publications(
        &self,
        show: Option<ShowId>,
        after: DateTime<Utc>,
    ) -> Result<Vec<(ShowId, DateTime<Utc>)>, DbError>;
    /// As `update_show`, for an episode within its show.
    async fn update_episode(&self, episode: &Episode, previous_slug: &Slug) -> Result<(), DbError>;
    /// The episode of `show` that had `slug` before it was renamed.
    async fn episode_by_old_slug(&self, show: ShowId, slug: &Slug) -> Result<Episode, DbError>;
    /// Sets (or clears) an unpublished episode's review; `NotFound` when it is published,
    /// scheduled or withdrawn (setting).
    async fn set_review(
        &self,
        id: EpisodeId,
        review: Option<&Review>,
        now: DateTime<Utc>,
    ) -> Result<Episode, DbError>;
    /// One page of a show's episodes in one state (the studio's dashboard), and how many there
    /// are in all: never every episode of a show at once.
    async fn episode_page(&self, filter: &EpisodeFilter) -> Result<EpisodePage, DbError>;
    /// How many episodes each show has in each state at `now` (shows without any are absent).
    async fn episode_counts(
        &self,
        now: DateTime<Utc>,
    ) -> Result<HashMap<ShowId, StatusCounts>, DbError>;
    /// The episode published at `now` (and not withdrawn) whose recording or one of whose
    /// renditions is the file of SHA-256 `sha256` (lower-case hex), with that file's media id;
    /// the earliest published first, a recording before a rendition. How a clip sent for
    /// verification is found to be exactly an archived file (`service::verify`).
    async fn published_file_by_sha256(
        &self,
        sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(EpisodeId, MediaId)>, DbError>;
}

/// Which of a show's episodes `EpisodeRepo::episode_page` reads: those in `status` at `now`
/// (a draft returned from review is a draft), whose title contains `title` (any case) when
/// given, `limit` of them after the first `offset`. Drafts and those in review come most
/// recently changed first, scheduled ones soonest first, published ones newest first,
/// withdrawn ones most recently withdrawn first.
#[derive(Debug, Clone)]
pub struct EpisodeFilter {
    pub show: ShowId,
    pub status: EpisodeStatus,
    pub title: Option<String>,
    pub now: DateTime<Utc>,
    pub limit: u32,
    pub offset: u64,
}

/// A page of episodes and how many match in all.
#[derive(Debug, Clone)]
pub struct EpisodePage {
    pub episodes: Vec<Episode>,
    pub total: u64,
}

/// How many of a show's episodes are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    pub draft: u64,
    pub in_review: u64,
    pub scheduled: u64,
    pub published: u64,
    pub withdrawn: u64,
}

impl StatusCounts {
    pub fn of(&self, status: EpisodeStatus) -> u64 {
        match status {
            EpisodeStatus::Draft => self.draft,
            EpisodeStatus::InReview => self.in_review,
            EpisodeStatus::Scheduled => self.scheduled,
            EpisodeStatus::Published => self.published,
            EpisodeStatus::Withdrawn => self.withdrawn,
        }
    }
}
