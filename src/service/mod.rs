//! Operations: what Siaran does, once, for every caller. The HTTP API, the pages, `siaran
//! import` and `import-feed`, and the demo all create, change, publish and withdraw shows,
//! episodes and documents through these functions, so each rule is checked in one place, each
//! change is recorded in the audit trail with whoever made it, and each feed it touches is told.
//!
//! An operation takes what it needs — the database, the store, the feed notifier and the URLs
//! (`Ctx`), and the acting user (`Actor`) — never the serving `App`, and answers its own
//! `Error`, which the HTTP layer maps to its response. Validation of new and changed records
//! lives with the domain types (`NewShow::parse`, `EpisodeDraft` in `episodes`); storing a file
//! with the row that owns it is `storage::replace`.
//!
//! May use: `domain`, `db`, `storage`, `media`, `feed`, `reconcile`. Must not use: `http`, `app`,
//! `cli`, `import`, `demo`.

pub mod backup;
pub mod documents;
pub mod episode_files;
pub mod episodes;
pub mod fingerprint;
pub mod ingest;
pub mod jobs;
pub mod media;
pub mod quality;
pub mod review;
pub mod search;
pub mod shows;
pub mod site;
pub mod stats;
pub mod tokens;
pub mod transparency;
pub mod uploads;
pub mod users;
pub mod verify;

use std::sync::Arc;

use crate::{
    db::{Db, DbError},
    domain::{
        Msg, Rejection, ShowId, Urls,
        audit::{Actor, AuditEntry},
    },
    media::ProbeError,
    reconcile::Spool,
    service::jobs::JobQueue,
    storage::{ObjectStore, StoreError, replace::ReplaceError},
};

/// What operations work with. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub db: Arc<dyn Db>,
    /// The store as wrapped for crash safety (`reconcile::TrackedStore`).
    pub store: Arc<dyn ObjectStore>,
    pub feeds: Arc<dyn FeedNotifier>,
    pub urls: Urls,
    /// Where uploads wait while they are hashed and probed.
    pub spool: Spool,
    /// Background jobs (a stored media file's analysis): queued in the database, this
    /// instance's worker woken.
    pub jobs: JobQueue,
    /// The site settings as this instance last read them (`site`).
    pub site: site::SiteCache,
    /// The key publication records are signed with, and the retired ones still listed.
    pub keys: Arc<transparency::Keys>,
}

/// Told whenever a show's feed may have changed (the serving feed cache, `http::feeds::cache`).
#[async_trait::async_trait]
pub trait FeedNotifier: Send + Sync + std::fmt::Debug {
    async fn changed(&self, show: ShowId);
    /// The site settings changed (`site`): the serving instances drop their copies.
    async fn site_changed(&self);
}

impl Ctx {
    /// Records `entry`. The change it describes is already stored: a failure to record it is
    /// logged as an error (for the operators to see) rather than reported as a failed change.
    pub async fn audit(&self, entry: AuditEntry) {
        audit(self.db.as_ref(), entry).await;
    }
}

/// `Ctx::audit`, for operations that need the database alone (users, tokens).
pub async fn audit(db: &dyn Db, entry: AuditEntry) {
    if let Err(e) = db.record_audit(&entry).await {
        tracing::error!(error = %e, entity = entry.entity.as_str(), id = %entry.entity_id,
            action = %entry.action, "audit entry not recorded");
    }
}

/// Who the audit trail names for what `siaran import` and `import-feed` create.
pub fn import_actor() -> Actor {
    Actor::system("import")
}

/// Who the audit trail names for the demo show.
pub fn demo_actor() -> Actor {
    Actor::system("demo")
}

/// Why an operation did not happen. Codes are stable (kebab-case); messages come in both
/// languages.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `what` is the resource, e.g. "show" gives the code `show-not-found`.
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// Well-formed but invalid values.
    #[error("{code}: {}", .msg.en)]
    Invalid { code: &'static str, msg: Msg },
    /// A uniqueness rule (slug taken...) or a concurrent change.
    #[error("{code}: {}", .msg.en)]
    Conflict { code: &'static str, msg: Msg },
    /// Content of a type this operation does not take (a cover that is not JPEG or PNG).
    #[error("{code}: {}", .msg.en)]
    UnsupportedType { code: &'static str, msg: Msg },
    /// More bytes than the operation takes.
    #[error("larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// The body stream failed (a client that hung up mid-upload).
    #[error("upload interrupted: {0}")]
    Interrupted(std::io::Error),
    /// Not playable media.
    #[error(transparent)]
    Media(#[from] ProbeError),
    /// As many of these operations as the instance runs at once are running (clip
    /// verifications): try again in `retry_after` seconds.
    #[error("{code}: {}", .msg.en)]
    Busy {
        code: &'static str,
        msg: Msg,
        retry_after: u64,
    },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    pub fn invalid(code: &'static str, id: impl Into<String>, en: impl Into<String>) -> Self {
        Error::Invalid {
            code,
            msg: Msg::new(id, en),
        }
    }

    pub fn conflict(code: &'static str, id: impl Into<String>, en: impl Into<String>) -> Self {
        Error::Conflict {
            code,
            msg: Msg::new(id, en),
        }
    }
}

impl Error {
    /// The stable kebab-case code an API answers for this error.
    pub fn code(&self) -> String {
        match self {
            Error::NotFound { what } => format!("{}-not-found", what.replace(' ', "-")),
            Error::Invalid { code, .. }
            | Error::Conflict { code, .. }
            | Error::UnsupportedType { code, .. }
            | Error::Busy { code, .. } => (*code).to_owned(),
            Error::TooLarge { .. } => "payload-too-large".into(),
            Error::Interrupted(_) => "upload-interrupted".into(),
            Error::Media(ProbeError::Io(_)) | Error::Internal(_) => "internal-error".into(),
            Error::Media(e) => e.code().into(),
        }
    }

    /// What a person reads, in both languages; an internal error says no more than that.
    pub fn message(&self) -> Msg {
        match self {
            Error::NotFound { what } => Msg::new(
                format!("{} tidak ditemukan", what_id(what)),
                format!("{} not found", capitalized(what)),
            ),
            Error::Invalid { msg, .. }
            | Error::Conflict { msg, .. }
            | Error::UnsupportedType { msg, .. }
            | Error::Busy { msg, .. } => msg.clone(),
            Error::TooLarge { limit } => Msg::new(
                format!("Unggahan melebihi batas {limit} byte"),
                format!("The upload exceeds the limit of {limit} bytes"),
            ),
            Error::Interrupted(io) => Msg::new(
                format!("Unggahan terputus sebelum selesai: {io}"),
                format!("The upload was interrupted before it finished: {io}"),
            ),
            Error::Media(ProbeError::Empty) => Msg::new("Berkas kosong", "The file is empty"),
            Error::Media(ProbeError::Unsupported(why)) => Msg::new(
                format!("Bukan berkas media yang didukung: {why}"),
                format!("Not a supported media file: {why}"),
            ),
            Error::Media(ProbeError::Unplayable(why)) => Msg::new(
                format!("Media tidak dapat diputar: {why}"),
                format!("The media cannot be played: {why}"),
            ),
            Error::Media(ProbeError::Io(_)) | Error::Internal(_) => {
                Msg::new("Terjadi kesalahan internal", "An internal error occurred")
            }
        }
    }
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// A resource's name in Indonesian, for "... tidak ditemukan".
fn what_id(what: &str) -> &str {
    match what {
        "show" => "Acara",
        "episode" => "Episode",
        "media" => "Media",
        "document" => "Dokumen",
        "artwork" => "Sampul",
        "transcript" => "Transkrip",
        "chapters" => "Daftar bab",
        "rendition" => "Versi rekaman",
        "link" => "Tautan dokumen",
        "page" => "Halaman",
        "waveform" => "Bentuk gelombang",
        "user" => "Pengguna",
        "token" => "Token",
        "password-link" => "Tautan kata sandi",
        other => other,
    }
}

impl From<Rejection> for Error {
    fn from(r: Rejection) -> Self {
        Error::Invalid {
            code: r.code,
            msg: r.msg,
        }
    }
}

impl From<DbError> for Error {
    fn from(e: DbError) -> Self {
        match e {
            // Callers that expect a missing row map NotFound themselves, naming the resource.
            DbError::NotFound => Error::NotFound { what: "resource" },
            DbError::Conflict(detail) => Error::conflict(
                "conflict",
                format!("Bertentangan dengan data yang ada: {detail}"),
                format!("Conflicts with existing data: {detail}"),
            ),
            DbError::MissingReference(detail) => Error::invalid(
                "missing-reference",
                format!("Rujukan tidak ditemukan: {detail}"),
                format!("Referenced record does not exist: {detail}"),
            ),
            DbError::Other(e) => Error::Internal(e),
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Internal(anyhow::Error::new(e))
    }
}

impl<E: Into<Error>> From<ReplaceError<E>> for Error {
    fn from(e: ReplaceError<E>) -> Self {
        match e {
            ReplaceError::Store(s) => s.into(),
            ReplaceError::Record(r) => r.into(),
        }
    }
}

/// Maps a missing row to a not-found that names the resource.
pub fn or_not_found(what: &'static str) -> impl FnOnce(DbError) -> Error {
    move |e| match e {
        DbError::NotFound => Error::NotFound { what },
        other => other.into(),
    }
}
