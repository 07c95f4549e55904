//! The office's site settings and the transparency log.

use chrono::{DateTime, Utc};

use crate::db::DbError;
use crate::domain::EpisodeId;
use crate::domain::publication::{Entry, LogHead};

/// The office's site settings: one row, absent until an admin saves them.
#[async_trait::async_trait]
pub trait SiteRepo: Send + Sync {
    /// The stored settings; `None` before any were saved (the defaults apply).
    async fn site(&self) -> Result<Option<crate::domain::site::Site>, DbError>;
    /// Stores `site`'s text and colours; the logo stays as it is.
    async fn save_site(&self, site: &crate::domain::site::Site) -> Result<(), DbError>;
    /// Makes `logo` the site's logo (with `defaults`' text when nothing was saved yet); returns
    /// the settings and the logo it replaced.
    async fn set_site_logo(
        &self,
        logo: &crate::domain::ShowArtwork,
        defaults: &crate::domain::site::Site,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<
        (
            crate::domain::site::Site,
            Option<crate::domain::ShowArtwork>,
        ),
        DbError,
    >;
}

/// The transparency log (`domain::publication`): append-only, one chain.
#[async_trait::async_trait]
pub trait PublicationLogRepo: Send + Sync {
    /// Appends `entry` at `entry.seq`. `Conflict` when another entry took that place, or named
    /// the same previous entry (of the log, or of the episode): the caller builds it again.
    async fn append_log(&self, entry: &Entry) -> Result<(), DbError>;
    /// The last entry's place, hash and time.
    async fn log_head(&self) -> Result<Option<LogHead>, DbError>;
    /// Up to `limit` entries after place `after`, in order.
    async fn log_entries(&self, after: u64, limit: u32) -> Result<Vec<Entry>, DbError>;
    async fn log_entry(&self, seq: u64) -> Result<Entry, DbError>;
    /// The episode's last record.
    async fn last_record(&self, episode: EpisodeId) -> Result<Option<Entry>, DbError>;
    /// Episodes the log may not have the last word on, up to `limit`: published after `since`
    /// and by `now` (not withdrawn) with no record since they came out — scheduled ones whose
    /// time came, also again after their date was moved —, and recorded ones changed after
    /// `since` and after their last record (a record whose append failed). `service::transparency`
    /// builds each again and appends only what differs.
    async fn unrecorded_publications(
        &self,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<EpisodeId>, DbError>;
    /// When the key first signed an entry.
    async fn key_first_used(&self, key_id: &str) -> Result<Option<DateTime<Utc>>, DbError>;
}
