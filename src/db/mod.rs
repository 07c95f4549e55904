//! The database: what Siaran stores outside the object store, as one repository trait per
//! aggregate (`ShowRepo`, `EpisodeRepo`, … in `repos/`, a file per group) and `Db`, all of them together, which
//! callers hold as `Arc<dyn Db>`. One implementation, `AnyDb` (`any/`), on `sqlx::AnyPool`,
//! speaks to SQLite (the embedded default) and PostgreSQL (production).
//!
//! Why one `Any` implementation rather than two native ones: the queries Siaran needs are
//! portable SQL, so two copies would drift; the one copy is run on both databases by one
//! conformance test (`tests/api/db_conformance.rs`). The price is portable column types (ids
//! TEXT, times BIGINT epoch milliseconds, booleans 0/1) and `$N` placeholders.
//!
//! Every query is that one SQL on the pool, except in two named places:
//! - the feed's rows (`EpisodeRepo::published_episodes`, `any/feed.rs`), the hot path of a feed
//!   build, where the drivers' cost was measured: the same SQL and row mapping, read on a SQLite
//!   file by rusqlite on blocking threads (`any/sqlite_feed.rs`), on PostgreSQL by a native
//!   `PgPool` of its own, and through the `AnyPool` only on a SQLite database in memory;
//!   `any/feed.rs` says why each, with the numbers;
//! - full-text search (`SearchRepo`, `any/search.rs`), where the dialects really differ: FTS5 on
//!   SQLite, tsvector on PostgreSQL, the SQL branching on `Backend`.
//!
//! Beside those, only the connection's set-up differs by backend (`any/mod.rs`: SQLite's
//! pragmas, migrations per backend, `BEGIN IMMEDIATE` for a SQLite write).
//!
//! This module owns SQL, row mapping and their errors (`DbError`, mapped from sqlx's and
//! rusqlite's here alone); it knows nothing of HTTP and never reads or writes the object store.

mod any;
mod repos;
pub mod timing;

use std::sync::atomic::{AtomicU64, Ordering};

pub use crate::domain::records::{
    ApiToken, Citation, Document, DocumentFile, DocumentKind, DocumentLink, Download,
    DownloadStats, LinkedDocument, Listen, Role, StatsScope,
};
pub use any::{AnyDb, new_row_id, redact, sqlite_file};
pub use repos::{
    AnalyticsRepo, AuditRepo, BackupRepo, Db, DocumentRepo, EpisodeFileRepo, EpisodeFilter,
    EpisodePage, EpisodeRepo, FingerprintPosting, FingerprintRepo, FingerprintSpan,
    FoundFingerprint, Job, JobError, JobKind, JobRepo, JobState, LoginKey, LoginThrottleRepo,
    MediaRepo, OpenUploads, PublicationLogRepo, QualityRecord, QualityRepo, SearchRepo,
    SessionRepo, ShowRepo, SiteRepo, StatusCounts, StoreWriteRepo, StoredFile, StoredFingerprint,
    StoredSession, TokenRepo, Upload, UploadChunk, UploadOwner, UploadRepo, UserRepo,
    WaveformFiles,
};

/// The repository traits in scope without their names, and `Db`: for code that calls methods on
/// a concrete `AnyDb` (callers holding `dyn Db` need none of this).
pub mod prelude {
    pub use super::Db;
    pub use super::repos::{
        AnalyticsRepo as _, AuditRepo as _, BackupRepo as _, DocumentRepo as _,
        EpisodeFileRepo as _, EpisodeRepo as _, FingerprintRepo as _, JobRepo as _,
        LoginThrottleRepo as _, MediaRepo as _, PublicationLogRepo as _, QualityRepo as _,
        SearchRepo as _, SessionRepo as _, ShowRepo as _, SiteRepo as _, StoreWriteRepo as _,
        TokenRepo as _, UploadRepo as _, UserRepo as _,
    };
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken (slug taken, same token twice...).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A referenced row does not exist.
    #[error("referenced row missing: {0}")]
    MissingReference(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => DbError::NotFound,
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                count_error(ErrorKind::Conflict);
                DbError::Conflict(d.message().to_owned())
            }
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                count_error(ErrorKind::MissingReference);
                DbError::MissingReference(d.message().to_owned())
            }
            _ => {
                count_error(ErrorKind::Other);
                DbError::Other(anyhow::Error::new(e))
            }
        }
    }
}

/// rusqlite's errors, from the feed's rows on a SQLite file (`any/sqlite_feed.rs`).
impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        count_error(ErrorKind::Other);
        DbError::Other(anyhow::Error::new(e))
    }
}

/// The database's errors as the metrics count them (`errors`).
#[derive(Debug, Clone, Copy)]
enum ErrorKind {
    Conflict,
    MissingReference,
    Other,
}

/// Errors since the process started, by kind, counted here where every driver error becomes a
/// `DbError`. A missing row is not counted: it is an answer ("no such show"), not a failure.
/// Process-wide atomics rather than a handle per instance: the conversion has no instance to
/// ask, and one process serves one instance outside tests.
static ERRORS: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

fn count_error(kind: ErrorKind) {
    ERRORS[kind as usize].fetch_add(1, Ordering::Relaxed);
}

/// The database errors counted since the process started, by kind: `conflict` (a uniqueness
/// rule), `missing_reference` (a foreign key), `other` (connection, timeout, SQL, decoding).
pub fn errors() -> [(&'static str, u64); 3] {
    let n = |k: ErrorKind| ERRORS[k as usize].load(Ordering::Relaxed);
    [
        ("conflict", n(ErrorKind::Conflict)),
        ("missing_reference", n(ErrorKind::MissingReference)),
        ("other", n(ErrorKind::Other)),
    ]
}

/// The connection pool at one moment, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    /// Connections open, idle ones included.
    pub open: u32,
    pub idle: u32,
}

/// Which SQL dialect is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}
