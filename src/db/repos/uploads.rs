//! Resumable (tus) uploads and their chunks.

use chrono::{DateTime, Utc};

use crate::db::DbError;
use crate::domain::{MediaId, UserId};
use crate::storage::ObjectKey;

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
    /// A user's uploads made through a session that are neither complete nor expired at
    /// `now`, the latest first, at most `limit` (the studio's dashboard).
    async fn uploads_in_progress(
        &self,
        user: UserId,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Upload>, DbError>;
    async fn expired_uploads(&self, now: DateTime<Utc>, limit: u32)
    -> Result<Vec<Upload>, DbError>;
}
