//! The ingest pipeline: a byte stream becomes a stored, probed media record, or nothing at all.
//!
//! Order matters for "nothing half-stored": the body is spooled to a temporary file while it is
//! hashed and counted (the bytes cross memory once, in bounded chunks), the spool is probed, and
//! only playable media reach the object store; the database row comes last, and if writing it
//! fails the object is deleted again. The spool file is removed in every case. A stored media
//! file's sound-quality analysis is queued here, for every way media arrives (issue 24).

use std::path::{Path, PathBuf};

use chrono::Utc;
use futures_util::StreamExt as _;
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncWriteExt as _, BufWriter};
use tokio_util::io::ReaderStream;
use tracing::Instrument as _;

use crate::{
    db::{Db, DbError, JobKind},
    domain::{Media, MediaId},
    media::{MediaInfo, ProbeError, probe_file},
    reconcile::Spool,
    service::{Ctx, jobs::JobQueue},
    storage::{
        ByteStream, ObjectKey, ObjectStore, StoreError,
        replace::{Named, ReplaceError, Source, put_then_record},
    },
};

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("upload larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error(transparent)]
    Probe(#[from] ProbeError),
    /// The client's body stream failed (connection dropped mid-upload).
    #[error("upload interrupted: {0}")]
    Body(std::io::Error),
    #[error("spool file: {0}")]
    Spool(std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Ingests one upload. `filename` is the uploader's name for it, kept for downloads only.
///
/// Reading the body is tied to the request; everything after it (probe, store, row) runs in a
/// task of its own, so a client that hangs up at that point cannot cancel the work half-way and
/// leave an object without its row.
#[tracing::instrument(skip_all, fields(filename))]
pub async fn ingest(
    ctx: &Ctx,
    id: MediaId,
    filename: &str,
    body: ByteStream,
    max_bytes: u64,
) -> Result<Media, IngestError> {
    let spooled = spool_body(&ctx.spool, body, max_bytes).await?;
    ingest_spooled(ctx, id, filename, spooled).await
}

/// `ingest` after the spool: for a file its caller already spooled and hashed (a resumable
/// upload's last chunk, written after the earlier ones: `service::uploads`), so its bytes are
/// not written a second time. Probe, store and row run in a task of their own, as in `ingest`.
pub(crate) async fn ingest_spooled(
    ctx: &Ctx,
    id: MediaId,
    filename: &str,
    spooled: Spooled,
) -> Result<Media, IngestError> {
    let filename = filename.to_owned();
    let ctx = ctx.clone();
    let span = tracing::Span::current();
    tokio::spawn(
        async move {
            store_spooled(
                ctx.db.as_ref(),
                ctx.store.as_ref(),
                &ctx.jobs,
                spooled,
                id,
                &filename,
            )
            .await
        }
        .instrument(span),
    )
    .await
    .map_err(|e| IngestError::Spool(std::io::Error::other(e)))?
}

/// An upload on disk with its hash and size, removed when dropped.
pub(crate) struct Spooled {
    pub(crate) file: tempfile::NamedTempFile,
    pub(crate) sha256: String,
    pub(crate) size: u64,
}

/// Streams the body into a spool file while hashing and counting it.
pub(crate) async fn spool_body(
    spool: &Spool,
    mut body: ByteStream,
    max_bytes: u64,
) -> Result<Spooled, IngestError> {
    tokio::fs::create_dir_all(spool.dir())
        .await
        .map_err(IngestError::Spool)?;
    let file = tempfile::Builder::new()
        .prefix("siaran-upload-")
        .tempfile_in(spool.dir())
        .map_err(IngestError::Spool)?;
    let handle = tokio::fs::File::from_std(file.reopen().map_err(IngestError::Spool)?);
    let mut writer = BufWriter::with_capacity(256 * 1024, handle);
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(IngestError::Body)?;
        size += chunk.len() as u64;
        if size > max_bytes {
            return Err(IngestError::TooLarge { limit: max_bytes });
        }
        hasher.update(&chunk);
        writer.write_all(&chunk).await.map_err(IngestError::Spool)?;
    }
    writer.flush().await.map_err(IngestError::Spool)?;
    Ok(Spooled {
        file,
        sha256: hex::encode(hasher.finalize()),
        size,
    })
}

/// Probes the spooled file; only playable media reach the store, and the row comes last.
async fn store_spooled(
    db: &dyn Db,
    store: &dyn ObjectStore,
    jobs: &JobQueue,
    spooled: Spooled,
    id: MediaId,
    filename: &str,
) -> Result<Media, IngestError> {
    let info = probe_blocking(spooled.file.path().to_owned()).await?;
    let info = MediaInfo {
        sha256: spooled.sha256,
        size_bytes: spooled.size,
        ..info
    };
    let key = ObjectKey::for_media(id.0, &info.extension);
    let media = Media {
        id,
        storage_key: key.clone(),
        filename: clean_filename(filename, &info.extension),
        info,
        created_at: Utc::now(),
    };
    // A media row is never replaced: a corrected recording is a new media file.
    put_then_record(
        store,
        &key,
        Named::Uniquely,
        &media.info.mime_type,
        Source::File(spooled.file.path()),
        || async { db.create_media(&media).await.map(|()| ((), None)) },
    )
    .await
    .map_err(|e| match e {
        ReplaceError::Store(e) => IngestError::Store(e),
        ReplaceError::Record(e) => IngestError::Db(e),
    })?;
    tracing::info!(id = %media.id, mime = %media.info.mime_type, size = spooled.size, "media stored");
    // Its analysis is queued once it is stored; a failure to queue it fails nothing (an
    // instance starting to serve queues what has no job).
    if let Err(e) = jobs.enqueue(db, JobKind::Quality, media.id).await {
        tracing::warn!(id = %media.id, error = %e, "the media's analysis was not queued");
    }
    Ok(media)
}

/// Probes on the blocking pool, keeping the caller's tracing span. The probe answers a panic
/// inside itself as unplayable media (`media::probe::contain`); the task can then only fail to
/// join when the runtime stops under it, which is answered the same way.
pub async fn probe_blocking(path: PathBuf) -> Result<MediaInfo, ProbeError> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(|| probe_file(&path)))
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "media probe did not finish");
            Err(ProbeError::Unplayable(
                "the file could not be read as media".into(),
            ))
        })
}

/// Reduces an uploader's file name to its last path component without control characters,
/// 200 characters at most; an empty result becomes `media.EXT`.
pub fn clean_filename(name: &str, extension: &str) -> String {
    let last = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect::<String>();
    let trimmed = last.trim().trim_start_matches('.');
    if trimmed.is_empty() {
        format!("media.{extension}")
    } else {
        trimmed.to_owned()
    }
}

/// Streams a local file through the same pipeline (the demo show and bulk import use this).
pub async fn ingest_path(ctx: &Ctx, id: MediaId, path: &Path) -> Result<Media, IngestError> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(IngestError::Body)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    ingest(ctx, id, &name, Box::pin(ReaderStream::new(file)), u64::MAX).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_are_reduced_to_a_safe_last_component() {
        assert_eq!(clean_filename("../../etc/passwd", "mp3"), "passwd");
        assert_eq!(clean_filename("C:\\rec\\Rapat 1.mp3", "mp3"), "Rapat 1.mp3");
        assert_eq!(clean_filename("", "mp3"), "media.mp3");
        assert_eq!(clean_filename("a\"b\n.mp3", "mp3"), "ab.mp3");
    }
}
