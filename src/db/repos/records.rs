//! What is recorded about the rest: downloads, the audit trail, writes to the store in progress,
//! backups, the search index.

use chrono::{DateTime, NaiveDate, Utc};

use crate::db::{DbError, Download, DownloadStats, Listen, StatsScope};
use crate::domain::audit::{AuditEntry, Entity};
use crate::domain::search::{SearchQuery, SearchResults};
use crate::domain::{EpisodeFile, MediaId, transcript::Cue};

/// Listening analytics: the daily salts, listeners' coverage, counted downloads.
#[async_trait::async_trait]
pub trait AnalyticsRepo: Send + Sync {
    /// The salt of counting window `day`: `candidate` (hex) if this call is the first to ask for
    /// it, else the one another instance stored first.
    async fn analytics_salt(&self, day: NaiveDate, candidate: &str) -> Result<String, DbError>;
    /// Deletes the salts and listener rows of windows before `day`; returns the rows removed.
    async fn forget_listeners(&self, before: NaiveDate) -> Result<u64, DbError>;
    async fn listen(
        &self,
        media: MediaId,
        day: NaiveDate,
        listener: &str,
    ) -> Result<Option<Listen>, DbError>;
    /// Writes `listen` (with `version` already bumped) unless another writer changed the row
    /// since `read_version` was read (`None`: the row did not exist), and records `download` in
    /// the same transaction. `false` when the write lost that race: read again and retry.
    async fn save_listen(
        &self,
        listen: &Listen,
        read_version: Option<i64>,
        download: Option<&Download>,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError>;
    /// Downloads from `from` to `to` (inclusive days).
    async fn download_stats(
        &self,
        scope: StatsScope,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<DownloadStats, DbError>;
}

/// The audit trail.
#[async_trait::async_trait]
pub trait AuditRepo: Send + Sync {
    /// Adds an entry to the audit trail.
    async fn record_audit(&self, entry: &AuditEntry) -> Result<(), DbError>;
    /// The audit trail of one record, oldest first.
    async fn audit_trail(
        &self,
        entity: Entity,
        entity_id: &str,
    ) -> Result<Vec<AuditEntry>, DbError>;
}

/// Writes to the object store, for the reconciler (see `reconcile`).
#[async_trait::async_trait]
pub trait StoreWriteRepo: Send + Sync {
    /// Notes, or renews, a write to the store in progress at `key`.
    async fn renew_store_write(&self, key: &str, at: DateTime<Utc>) -> Result<(), DbError>;
    /// Forgets the note of a write at `key`.
    async fn forget_store_write(&self, key: &str) -> Result<(), DbError>;
    /// Every noted write, with when it was last renewed.
    async fn store_writes(&self) -> Result<Vec<(String, DateTime<Utc>)>, DbError>;
    /// Every object key a row owns: media files, episode files (transcripts, chapters), upload
    /// chunks, show artwork, document files and waveforms.
    async fn owned_object_keys(&self) -> Result<Vec<String>, DbError>;
}

/// Backups of the embedded default (`siaran backup`).
#[async_trait::async_trait]
pub trait BackupRepo: Send + Sync {
    /// Writes a consistent copy of the whole database, as it is at one moment while others
    /// keep writing, to a new file at `path` (SQLite's `VACUUM INTO`). PostgreSQL refuses: it
    /// is backed up with its own tools.
    async fn snapshot_into(&self, path: &std::path::Path) -> Result<(), DbError>;
}

/// Full-text search, and the transcripts' cues it searches.
#[async_trait::async_trait]
pub trait SearchRepo: Send + Sync {
    /// As `put_episode_file` for a transcript, its cues made searchable in the same transaction
    /// (and those of the transcript it replaces forgotten with it).
    async fn put_transcript(
        &self,
        file: &EpisodeFile,
        cues: &[Cue],
    ) -> Result<Option<EpisodeFile>, DbError>;
    /// Transcripts whose cues are not searchable (recorded before search existed).
    async fn unindexed_transcripts(&self) -> Result<Vec<EpisodeFile>, DbError>;
    /// Makes `file`'s cues searchable unless it was replaced or indexed meanwhile (false then).
    async fn reindex_transcript(&self, file: &EpisodeFile, cues: &[Cue]) -> Result<bool, DbError>;
    /// Full-text search over public episodes (titles, descriptions, transcripts, discussed
    /// documents) and documents; `now` decides what is public.
    async fn search(
        &self,
        query: &SearchQuery,
        now: DateTime<Utc>,
    ) -> Result<SearchResults, DbError>;
}
