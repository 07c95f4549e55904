//! Acoustic fingerprints of media files and their inverted index (issue 25).

use chrono::{DateTime, Utc};

use crate::db::DbError;
use crate::domain::{EpisodeId, MediaId};

/// A media file's fingerprint as stored with its job's end.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFingerprint {
    /// Chromaprint's items, one every `item_us` microseconds.
    pub items: Vec<u32>,
    pub item_us: u64,
    pub duration_ms: u64,
}

/// The stretch of a stored fingerprint that a lookup compares the clip with: `count` items from
/// position `from` of fingerprint `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FingerprintSpan {
    pub id: u64,
    pub from: u32,
    pub count: u32,
}

/// A stretch of a fingerprint that a lookup may answer with: its media file is the recording of
/// a published, not withdrawn, episode.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundFingerprint {
    /// The fingerprint's number in the index (`FingerprintPosting::fingerprint`).
    pub id: u64,
    pub episode: EpisodeId,
    pub media: MediaId,
    pub item_us: u64,
    /// The whole recording's.
    pub duration_ms: u64,
    /// The fingerprint's items from this position on: as many as asked, fewer where the
    /// fingerprint ends.
    pub from: u32,
    pub items: Vec<u32>,
}

/// One answer of the index: the item at `position` of fingerprint `fingerprint` is filed under
/// `key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FingerprintPosting {
    pub key: i64,
    pub fingerprint: u64,
    pub position: u32,
}

/// Fingerprints and their index. The postings are written with the fingerprint, in the
/// transaction that ends its job, and never change: a replaced recording is a new media file
/// with its own fingerprint, and lookups only answer with the fingerprints of the recordings
/// published episodes have now.
#[async_trait::async_trait]
pub trait FingerprintRepo: Send + Sync {
    /// Stores `media`'s fingerprint and the index `keys` (key, position) and marks its
    /// `fingerprint` job done, in one transaction, if `lease` still holds the job; false (and
    /// nothing stored) otherwise.
    async fn record_fingerprint(
        &self,
        lease: &str,
        media: MediaId,
        fingerprint: &StoredFingerprint,
        keys: &[(i64, u32)],
        now: DateTime<Utc>,
    ) -> Result<bool, DbError>;
    /// Queues a `fingerprint` job for the recording of every published or scheduled episode that
    /// has none (media stored before fingerprints existed, a queuing that failed); how many.
    async fn enqueue_missing_fingerprints(&self, now: DateTime<Utc>) -> Result<u64, DbError>;
    /// The postings filed under `keys`.
    async fn fingerprint_postings(&self, keys: &[i64]) -> Result<Vec<FingerprintPosting>, DbError>;
    /// Of the `spans` (at most one per fingerprint), those of recordings of episodes published
    /// at `now` and not withdrawn, with their episode (the newest if a recording serves
    /// several). Reads only the spans' bytes of each fingerprint.
    async fn published_fingerprints(
        &self,
        spans: &[FingerprintSpan],
        now: DateTime<Utc>,
    ) -> Result<Vec<FoundFingerprint>, DbError>;
    /// The stored fingerprint of `media`, once its job is done.
    async fn fingerprint(&self, media: MediaId) -> Result<Option<StoredFingerprint>, DbError>;
    /// Bytes the fingerprints and their index take, and the audio they cover in ms (for the
    /// benchmark's size per hour); an estimate where the database only estimates.
    async fn fingerprint_index_size(&self) -> Result<(u64, u64), DbError>;
}
