//! Background jobs and the sound-quality analyses they produce.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::db::DbError;
use crate::domain::MediaId;
use crate::domain::quality::QualityReport;

/// What a background job does. One job of each kind per media file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// The sound-quality analysis and waveform of a media file (`service::quality`).
    Quality,
    /// The acoustic fingerprint of a published episode's recording (`service::fingerprint`).
    Fingerprint,
}

impl JobKind {
    pub const ALL: [JobKind; 2] = [JobKind::Quality, JobKind::Fingerprint];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Quality => "quality",
            JobKind::Fingerprint => "fingerprint",
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
    pub const ALL: [JobState; 4] = [
        JobState::Queued,
        JobState::Running,
        JobState::Done,
        JobState::Failed,
    ];

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

    /// How many jobs there are of each kind in each state (pairs with none are left out), for
    /// the metrics every instance reports alike (`http::metrics`). One grouped read of the
    /// `(kind, state, ...)` index.
    async fn job_counts(&self) -> Result<Vec<(JobKind, JobState, u64)>, DbError>;
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
