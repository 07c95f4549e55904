//! Documents and an episode's files (transcripts, chapters, renditions, citations).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::db::{
    Citation, DbError, Document, DocumentFile, DocumentKind, DocumentLink, LinkedDocument,
};
use crate::domain::{
    DocumentId, EpisodeExtras, EpisodeFile, EpisodeFileKind, EpisodeId, Lang, MediaId, ShowId,
};

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
