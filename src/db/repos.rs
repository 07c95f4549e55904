//! What Siaran stores outside the object store, as one trait per aggregate (as pict-rs splits
//! its repositories: `FullRepo: UploadRepo + AliasRepo + …`), and `Db`, all of them at once.
//!
//! Callers hold `Arc<dyn Db>` and call any method on it without importing these traits; code
//! holding a concrete `AnyDb` imports `crate::db::prelude::*`. This module declares the
//! interface only: no SQL, no row mapping (those are `any/`).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{
    ApiToken, Citation, DbError, Document, DocumentFile, DocumentKind, DocumentLink, Download,
    DownloadStats, LinkedDocument, Listen, StatsScope,
};
use crate::domain::audit::{AuditEntry, Entity};
use crate::domain::publication::Entry;
use crate::domain::quality::QualityReport;
use crate::domain::search::{SearchQuery, SearchResults};
use crate::domain::users::{Email, ShowRole, User};
use crate::domain::{
    DocumentId, Enclosure, Episode, EpisodeExtras, EpisodeFile, EpisodeFileKind, EpisodeId,
    EpisodeStatus, Lang, Media, MediaId, Show, ShowArtwork, ShowId, Slug, UserId, Withdrawal,
    review::Review, transcript::Cue,
};
use crate::storage::ObjectKey;

/// Everything Siaran stores outside the object store.
#[async_trait::async_trait]
pub trait Db:
    TokenRepo
    + UserRepo
    + SessionRepo
    + LoginThrottleRepo
    + ShowRepo
    + MediaRepo
    + EpisodeRepo
    + DocumentRepo
    + EpisodeFileRepo
    + UploadRepo
    + AnalyticsRepo
    + AuditRepo
    + StoreWriteRepo
    + BackupRepo
    + SearchRepo
    + JobRepo
    + QualityRepo
    + SiteRepo
    + PublicationLogRepo
    + Send
    + Sync
    + std::fmt::Debug
{
    /// A round trip to the database, for health checks.
    async fn ping(&self) -> Result<(), DbError>;
}

/// API tokens.
#[async_trait::async_trait]
pub trait TokenRepo: Send + Sync {
    async fn create_token(&self, token: &ApiToken) -> Result<(), DbError>;
    /// Finds a token by the SHA-256 of its secret.
    async fn token_by_hash(&self, token_hash: &str) -> Result<ApiToken, DbError>;
    /// The tokens `user` owns, newest first.
    async fn user_tokens(&self, user: UserId) -> Result<Vec<ApiToken>, DbError>;
    /// Deletes token `id` if `user` owns it; returns it (`NotFound` otherwise).
    async fn delete_user_token(&self, user: UserId, id: uuid::Uuid) -> Result<ApiToken, DbError>;
}

/// The studio's users, their roles on shows, and their one-time links to set a password.
#[async_trait::async_trait]
pub trait UserRepo: Send + Sync {
    /// `Conflict` when a user has the email already.
    async fn create_user(&self, user: &User) -> Result<(), DbError>;
    async fn user(&self, id: UserId) -> Result<User, DbError>;
    async fn user_by_email(&self, email: &Email) -> Result<User, DbError>;
    /// Every user, by email.
    async fn list_users(&self) -> Result<Vec<User>, DbError>;
    /// Writes the user's name, role and disabled flag (`NotFound` if there is no such user);
    /// when `disabled`, its sessions and password links are deleted in the same transaction.
    async fn update_user(&self, user: &User) -> Result<(), DbError>;
    /// The user's password hash (PHC string), `None` while it has none.
    async fn password_hash(&self, id: UserId) -> Result<Option<String>, DbError>;
    /// Sets (or with `None` clears) the user's password hash and, in the same transaction,
    /// deletes its sessions and its password links: whoever knew the old password, or holds a
    /// session made with it, is out.
    async fn set_password_hash(
        &self,
        id: UserId,
        hash: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), DbError>;
    /// Gives `user` another role on `show` (`None`: its own role again).
    async fn set_show_role(
        &self,
        user: UserId,
        show: ShowId,
        role: Option<ShowRole>,
    ) -> Result<(), DbError>;
    /// The shows on which `user` has another role than its own.
    async fn show_roles(&self, user: UserId) -> Result<Vec<(ShowId, ShowRole)>, DbError>;
    /// Stores a link to set `user`'s password (the SHA-256 of its secret) in place of any it
    /// had.
    async fn create_password_link(
        &self,
        user: UserId,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), DbError>;
    /// The user whose link has this hash, if the link is unexpired at `now`.
    async fn password_link_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, DbError>;
    /// Sets the password of the user whose link has this hash, if the link is unexpired at
    /// `now`, as `set_password_hash` does (the link is used up with the others); returns the
    /// user, or `None` for no such link. One transaction: a link sets one password.
    async fn set_password_by_link(
        &self,
        token_hash: &str,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, DbError>;
}

/// A studio session as stored: found by the SHA-256 of its id, with the signed-in user beside
/// its data so that a user's sessions can be ended together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub id_hash: String,
    pub user_id: Option<UserId>,
    /// The session's data, JSON.
    pub data: String,
    pub expires_at: DateTime<Utc>,
}

/// The studio's sessions.
#[async_trait::async_trait]
pub trait SessionRepo: Send + Sync {
    /// A new session (`Conflict` if one has the id: the caller draws another).
    async fn create_session(&self, session: &StoredSession) -> Result<(), DbError>;
    /// Writes the session if it is still there (one ended meanwhile stays ended); false if it
    /// was not.
    async fn save_session(&self, session: &StoredSession) -> Result<bool, DbError>;
    /// The session, if it is unexpired at `now`.
    async fn session(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredSession>, DbError>;
    async fn delete_session(&self, id_hash: &str) -> Result<(), DbError>;
    /// Ends every session of `user`; returns how many there were.
    async fn delete_user_sessions(&self, user: UserId) -> Result<u64, DbError>;
    /// Deletes sessions expired at `now`; returns how many.
    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, DbError>;
}

/// Who a failed login is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginKey<'a> {
    /// The account tried: the lower-cased email, known or not.
    Account(&'a str),
    /// The address the attempt came from.
    Address(&'a str),
}

/// Failed logins, counted in the database so that throttling holds across instances.
#[async_trait::async_trait]
pub trait LoginThrottleRepo: Send + Sync {
    async fn record_login_failure(
        &self,
        account: &str,
        address: &str,
        at: DateTime<Utc>,
    ) -> Result<(), DbError>;
    /// The time of the `n`-th most recent failure (from 1) against `key` after `since`, if
    /// there were that many.
    async fn nth_login_failure(
        &self,
        key: LoginKey<'_>,
        since: DateTime<Utc>,
        n: u32,
    ) -> Result<Option<DateTime<Utc>>, DbError>;
    /// Forgets failures at or before `before`; returns how many.
    async fn forget_login_failures(&self, before: DateTime<Utc>) -> Result<u64, DbError>;
}

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

/// Documents and their links to episodes.
#[async_trait::async_trait]
pub trait DocumentRepo: Send + Sync {
    async fn create_document(&self, document: &Document) -> Result<(), DbError>;
    async fn document(&self, id: DocumentId) -> Result<Document, DbError>;
    async fn link_document(&self, link: &DocumentLink) -> Result<(), DbError>;
    /// The documents linked to an episode, ordered by moment (unplaced links last).
    async fn episode_documents(&self, episode: EpisodeId) -> Result<Vec<LinkedDocument>, DbError>;
    /// Writes a document's changed fields (`NotFound` if it does not exist).
    async fn update_document(&self, document: &Document) -> Result<(), DbError>;
    /// Sets (or with `None` clears) the document's file; returns the document as it now is and
    /// the file it had, whose object the caller deletes.
    async fn set_document_file(
        &self,
        id: DocumentId,
        file: Option<&DocumentFile>,
        now: DateTime<Utc>,
    ) -> Result<(Document, Option<DocumentFile>), DbError>;
    /// Every document (of `kind` when given), newest issue first, undated last.
    async fn list_documents(&self, kind: Option<DocumentKind>) -> Result<Vec<Document>, DbError>;
    /// The episodes (drafts too) that cite `document`, newest first, each link once.
    async fn document_citations(&self, document: DocumentId) -> Result<Vec<Citation>, DbError>;
    /// Removes one link of `episode` (`NotFound` if the episode has no such link).
    async fn unlink_document(&self, episode: EpisodeId, link: uuid::Uuid) -> Result<(), DbError>;
}

/// What an episode has beside its recording: transcripts, chapters, other renditions.
#[async_trait::async_trait]
pub trait EpisodeFileRepo: Send + Sync {
    /// Stores `file` in place of the episode's file of the same kind and language; returns the
    /// file it replaced, whose object the caller then deletes. Two replacements racing: the
    /// later one fails with `Conflict`.
    async fn put_episode_file(&self, file: &EpisodeFile) -> Result<Option<EpisodeFile>, DbError>;
    /// Removes the episode's file of that kind (and language, for a transcript); returns it.
    async fn delete_episode_file(
        &self,
        episode: EpisodeId,
        kind: EpisodeFileKind,
        language: Option<&Lang>,
    ) -> Result<EpisodeFile, DbError>;
    /// Adds `media` as another rendition of the episode's recording (`Conflict` if it is one).
    async fn add_rendition(
        &self,
        episode: EpisodeId,
        media: MediaId,
        title: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), DbError>;
    async fn remove_rendition(&self, episode: EpisodeId, media: MediaId) -> Result<(), DbError>;
    /// Transcripts, chapters and renditions of the episodes of `show` (of `episode` alone when
    /// given), by episode. Episodes with none are absent.
    async fn episode_extras(
        &self,
        show: ShowId,
        episode: Option<EpisodeId>,
    ) -> Result<HashMap<EpisodeId, EpisodeExtras>, DbError>;
}

/// A resumable upload, receiving or complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub id: uuid::Uuid,
    /// The whole file's size, declared by the client at creation (`Upload-Length`).
    pub length: u64,
    /// The offset the next chunk must start at (`Upload-Offset`).
    pub received: u64,
    /// The uploader's name for the file (from `Upload-Metadata`), kept for the media record.
    pub filename: String,
    /// The client's `Upload-Metadata` header as sent, answered back on HEAD.
    pub metadata: String,
    /// The token that created it: a token's open uploads are capped (`service::uploads`).
    pub token_id: Option<uuid::Uuid>,
    /// The signed-in user who created it without a token (the studio): capped as a token is.
    pub user_id: Option<UserId>,
    /// A token naming the one request that may append next.
    pub claim: String,
    /// The media record the upload became, once complete.
    pub media_id: Option<MediaId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// One chunk of an upload, stored as its own object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadChunk {
    pub start: u64,
    pub size: u64,
    pub key: ObjectKey,
}

/// Whose open uploads are counted together: a token's (whoever holds it), or a signed-in
/// user's made without a token (the studio's page, through the session).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadOwner {
    Token(uuid::Uuid),
    User(UserId),
}

/// What one owner has open: its uploads neither complete nor expired, and the bytes they
/// declared (`Upload-Length`) together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OpenUploads {
    pub count: u64,
    pub bytes: u64,
}

/// Resumable (tus) uploads and their chunks, including the expired ones the reconciler removes.
#[async_trait::async_trait]
pub trait UploadRepo: Send + Sync {
    /// Starts a resumable upload.
    async fn create_upload(&self, upload: &Upload) -> Result<(), DbError>;
    async fn upload(&self, id: uuid::Uuid) -> Result<Upload, DbError>;
    /// Makes `claim` the one request that may append to the upload next, if it is still
    /// receiving, unexpired at `now` and at `offset`; false otherwise.
    async fn claim_upload(
        &self,
        id: uuid::Uuid,
        offset: u64,
        claim: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError>;
    /// Records a stored chunk and moves the upload's offset past it (expiry to `expires_at`) if
    /// `claim` still holds, the offset is the chunk's start and the upload is unexpired at
    /// `now`; false otherwise, and the caller deletes the chunk's object.
    async fn append_upload_chunk(
        &self,
        id: uuid::Uuid,
        claim: &str,
        chunk: &UploadChunk,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError>;
    /// The upload's chunks in order.
    async fn upload_chunks(&self, id: uuid::Uuid) -> Result<Vec<UploadChunk>, DbError>;
    /// Marks the upload complete as `media` if `claim` holds and it is still at `offset`.
    async fn complete_upload(
        &self,
        id: uuid::Uuid,
        claim: &str,
        offset: u64,
        media: MediaId,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, DbError>;
    /// Forgets a complete upload's chunks, whose objects are deleted.
    async fn delete_upload_chunks(&self, id: uuid::Uuid) -> Result<(), DbError>;
    /// Deletes the upload; returns whether it existed and the chunks it had, whose objects the
    /// caller deletes.
    async fn delete_upload(&self, id: uuid::Uuid) -> Result<(bool, Vec<UploadChunk>), DbError>;
    /// What `owner` has open at `now`: uploads it created that are neither complete nor
    /// expired (a user's: those made through a session, not with its tokens).
    async fn open_uploads(
        &self,
        owner: UploadOwner,
        now: DateTime<Utc>,
    ) -> Result<OpenUploads, DbError>;
    /// Uploads whose expiry is at or before `now`, oldest first, at most `limit`.
    async fn expired_uploads(&self, now: DateTime<Utc>, limit: u32)
    -> Result<Vec<Upload>, DbError>;
}

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

/// What a background job does. One job of each kind per media file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// The sound-quality analysis and waveform of a media file (`service::quality`).
    Quality,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Quality => "quality",
        }
    }
}

/// Where a job stands: waiting (for the first time or for a retry), claimed by a worker,
/// finished, or given up after its last attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }
}

/// Why an attempt failed: a stable code and what happened, for operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobError {
    pub code: String,
    pub detail: String,
}

/// A background job, as claimed or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub kind: JobKind,
    pub media_id: MediaId,
    pub state: JobState,
    /// Attempts started, the one running included.
    pub attempts: u32,
    /// The token of the claim that holds the job while it runs.
    pub lease: Option<String>,
    /// When a running job's lease runs out unless renewed.
    pub locked_until: Option<DateTime<Utc>>,
    /// Why the last attempt failed.
    pub error: Option<JobError>,
    pub created_at: DateTime<Utc>,
    /// A queued job is not claimed before this (a retry waits).
    pub run_after: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The job queue, in the database so that it survives restarts and every instance shares it.
/// A job is claimed by one atomic statement with a lease: two instances never run the same job,
/// and a job whose worker died is claimed again once its lease runs out.
#[async_trait::async_trait]
pub trait JobRepo: Send + Sync {
    /// Queues the job of `kind` for `media` unless it exists; true if it was queued now.
    async fn enqueue_job(
        &self,
        kind: JobKind,
        media: MediaId,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError>;
    /// Queues a job of `kind` for every media file that has none (media stored before the kind
    /// existed), dated by the media's creation so that the newest is claimed first; returns
    /// how many.
    async fn enqueue_missing_jobs(&self, kind: JobKind, now: DateTime<Utc>)
    -> Result<u64, DbError>;
    /// Claims the newest job of `kind` due at `now`: a queued one whose `run_after` has come,
    /// or a running one whose lease ran out with fewer than `max_attempts` attempts. The job
    /// becomes running under `lease` until `until`, its attempts counted up by one. A running
    /// job whose lease ran out at its last attempt is marked failed first.
    async fn claim_job(
        &self,
        kind: JobKind,
        lease: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        max_attempts: u32,
    ) -> Result<Option<Job>, DbError>;
    /// Extends a running job's lease to `until` if `lease` still holds it; false otherwise.
    async fn renew_job(
        &self,
        kind: JobKind,
        media: MediaId,
        lease: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, DbError>;
    /// Ends a failed attempt if `lease` still holds the job: queued again from `retry_at`, or
    /// failed for good with `None`. False if the lease was lost.
    async fn fail_job_attempt(
        &self,
        kind: JobKind,
        media: MediaId,
        lease: &str,
        error: &JobError,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError>;
    /// Gives a running job back without counting its attempt (its instance is stopping); false
    /// if `lease` no longer held it.
    async fn release_job(
        &self,
        kind: JobKind,
        media: MediaId,
        lease: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError>;
    /// The job of `kind` for `media` (`NotFound` if there is none).
    async fn job(&self, kind: JobKind, media: MediaId) -> Result<Job, DbError>;
}

/// A stored file of a media's waveform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFile {
    pub key: String,
    pub size_bytes: u64,
    pub sha256: String,
}

/// A media's waveform as stored beside it: audiowaveform's JSON and binary `.dat` at the
/// analysis's resolution, and a coarse JSON for whole-file views (the episode page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaveformFiles {
    pub json: StoredFile,
    pub dat: StoredFile,
    pub overview: StoredFile,
}

impl WaveformFiles {
    pub fn keys(&self) -> [&str; 3] {
        [&self.json.key, &self.dat.key, &self.overview.key]
    }
}

/// A finished sound-quality analysis of a media file.
#[derive(Debug, Clone, PartialEq)]
pub struct QualityRecord {
    pub media_id: MediaId,
    pub report: QualityReport,
    pub waveform: WaveformFiles,
    pub analysed_at: DateTime<Utc>,
}

/// Sound-quality analyses, stored once each when their job is done.
#[async_trait::async_trait]
pub trait QualityRepo: Send + Sync {
    /// Stores `record` and marks the media's `quality` job done, in one transaction, if
    /// `lease` still holds the job; false (and nothing stored) otherwise.
    async fn record_quality(
        &self,
        lease: &str,
        record: &QualityRecord,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError>;
    /// The media's analysis, once done.
    async fn quality_record(&self, media: MediaId) -> Result<Option<QualityRecord>, DbError>;
}

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
    /// The last entry's place and hash.
    async fn log_head(&self) -> Result<Option<(u64, String)>, DbError>;
    /// Up to `limit` entries after place `after`, in order.
    async fn log_entries(&self, after: u64, limit: u32) -> Result<Vec<Entry>, DbError>;
    async fn log_entry(&self, seq: u64) -> Result<Entry, DbError>;
    /// The episode's last record.
    async fn last_record(&self, episode: EpisodeId) -> Result<Option<Entry>, DbError>;
    /// Episodes published after `since` and by `now` (not withdrawn) of which the log has no
    /// record: scheduled ones whose time came.
    async fn unrecorded_publications(
        &self,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<EpisodeId>, DbError>;
    /// When the key first signed an entry.
    async fn key_first_used(&self, key_id: &str) -> Result<Option<DateTime<Utc>>, DbError>;
}
