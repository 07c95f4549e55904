//! Resumable uploads (the tus protocol's storage side): chunks in, one media record out.
//!
//! Each PATCH body is spooled to a local file (hashed when the client sent a checksum) and then
//! stored as one object of its own (`uploads/{id}/{start}-{nonce}`) before the database moves the
//! upload's offset past it. Both the offset and the chunk list live in the database and the
//! chunks in the object store, so any instance can take the next PATCH; nothing about an upload
//! is held in one process between requests. A body cut short still counts up to its last byte
//! (the client resumes from there), unless it carried a checksum, which then cannot hold.
//!
//! Why an object per chunk rather than S3 multipart parts: tus clients send chunks of any size
//! and a cut leaves any number of bytes, while S3 parts must be at least 5 MiB (tusd keeps an
//! extra "incomplete part" object for the remainder); a multipart upload also fixes the final
//! key before the probe has said what the file is; and the finished file must be read whole
//! anyway, to hash and probe it. An object per chunk needs nothing but `ObjectStore`'s `put`,
//! `get` and `delete`, which behave alike on the filesystem and on S3. The cost on S3 is that the
//! bytes travel once more than with parts (chunks up, back down for the probe, the file up).
//!
//! The last chunk is not stored as a chunk. A body whose `Content-Length` reaches the upload's
//! end is received straight into the file that becomes the media: the stored chunks (none when
//! the whole file comes in one PATCH, as the studio's page sends it) are copied in front of it
//! and the whole is hashed in that one pass, then `ingest_spooled` probes and stores it (on the
//! file store a hard link), so the bytes are written once, as `POST /api/v1/media` writes them.
//! Were that body spooled on its own and then read back through `ingest`, a one-PATCH upload
//! would be written and hashed twice (the studio's uploads ran at a fifth of curl's speed). Cut
//! short, such a body is kept as a chunk like any other. Only after `ingest` is the upload
//! marked complete, so `Upload-Offset == Upload-Length` means a media record exists. A refused
//! file (not playable media) removes the upload whole: no row, no object.
//!
//! Nothing here syncs a spool file: the store makes an object durable before the row that names
//! it is written (`ObjectStore::put_file` syncs, then links or uploads), and a spool file does
//! not outlive a crash anyway. Chunks are hashed only when the client sent a checksum.
//!
//! What one owner may hold is bounded — a token, or a user uploading through the studio's
//! session without one (`UploadOwner`) —: at most `Limits::open` uploads open (neither complete
//! nor expired) and `Limits::open_bytes` declared by them together, and no upload keeps more than
//! `MAX_METADATA_BYTES` of `Upload-Metadata` or a file name over `MAX_FILENAME_BYTES`. Without
//! this one token or one session could declare terabytes in seconds and fill the database
//! with file names.
//!
//! Who may append is decided in the database: each PATCH takes the upload's claim, and only the
//! holder of the claim at the right offset can move the offset. A request stalled behind a dead
//! connection therefore loses to the client's next attempt, and its chunk is deleted.
//!
//! This module owns the `uploads/` objects and the upload rows; it does not touch HTTP.

use std::{io, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use futures_util::{StreamExt as _, TryStreamExt as _, stream};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncWriteExt as _, BufWriter};
use tracing::Instrument as _;
use uuid::Uuid;

use super::{
    Ctx,
    ingest::{IngestError, Spooled, ingest, ingest_spooled},
};
use crate::{
    db::{DbError, OpenUploads, Upload, UploadChunk, UploadOwner},
    domain::{Media, MediaId, audit::Actor},
    storage::{
        ByteStream, ObjectKey, ObjectStore, StoreError,
        replace::{Named, ReplaceError, Source, put_then_record},
    },
};

/// A body that sends nothing for this long is taken as cut: what arrived is kept. Without it a
/// connection that died silently would hold its request (and its concurrency slot) for ever.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The most `Upload-Metadata` kept with an upload: tus clients send a file name and a type or
/// two; more is no metadata a person wrote.
pub const MAX_METADATA_BYTES: usize = 4 * 1024;
/// The longest file name kept (in bytes of UTF-8), as common filesystems allow.
pub const MAX_FILENAME_BYTES: usize = 255;

/// What one token, or one user through the studio's session, may have open at once
/// (`SIARAN_MAX_OPEN_UPLOADS`, `SIARAN_MAX_OPEN_UPLOAD_BYTES`). Complete and expired uploads do
/// not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Uploads.
    pub open: u64,
    /// Bytes declared (`Upload-Length`) by those uploads together.
    pub open_bytes: u64,
}

impl Limits {
    /// Refuses when `open` (what `owner` holds, the upload being created included) is over a
    /// cap.
    fn check(self, owner: UploadOwner, open: OpenUploads) -> Result<(), UploadError> {
        let session = matches!(owner, UploadOwner::User(_));
        if open.count > self.open {
            return Err(UploadError::TooManyOpen {
                limit: self.open,
                session,
            });
        }
        if open.bytes > self.open_bytes {
            return Err(UploadError::TooManyOpenBytes {
                limit: self.open_bytes,
                session,
            });
        }
        Ok(())
    }
}

/// What uploads need from the application.
#[derive(Debug, Clone)]
pub struct Uploads {
    /// The database, the tracked store, the spool folder, the job queue.
    pub ctx: Ctx,
    /// How long an upload waits for its next chunk.
    pub expiry: Duration,
    pub limits: Limits,
    /// Turns true when the instance begins to shut down: a body still arriving then is ended
    /// there and what arrived is kept, so the client resumes from it on another instance
    /// rather than from its last chunk (with the studio's one-PATCH upload, from nothing).
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("no such upload")]
    NotFound,
    #[error("upload expired")]
    Expired,
    /// The owner (a token, or a user's session when `session`) has `limit` uploads open
    /// already.
    #[error("the uploader has {limit} uploads open already")]
    TooManyOpen { limit: u64, session: bool },
    /// The owner's open uploads and this one would declare more than `limit` bytes.
    #[error("the uploader's open uploads would declare more than {limit} bytes")]
    TooManyOpenBytes { limit: u64, session: bool },
    #[error("Upload-Metadata is longer than {limit} bytes")]
    MetadataTooLarge { limit: usize },
    #[error("the file name is longer than {limit} bytes")]
    FilenameTooLong { limit: usize },
    /// The request's `Upload-Offset` is not where the upload is (`current`).
    #[error("offset mismatch: the upload is at {current}")]
    OffsetMismatch { current: u64 },
    /// The chunk would go past the declared `Upload-Length`.
    #[error("chunk goes past the upload's length of {length} bytes")]
    BeyondLength { length: u64 },
    #[error("checksum mismatch")]
    ChecksumMismatch,
    /// A newer request took the upload over (or terminated it) while this one was receiving.
    #[error("the upload was taken over by another request")]
    Superseded,
    /// The finished file could not become media (refused: the upload is removed), or storing it
    /// failed (the upload stays, the last chunk can be sent again).
    #[error(transparent)]
    Ingest(IngestError),
    #[error("spool file: {0}")]
    Spool(io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// One PATCH (or the body of a creation request).
pub struct Chunk {
    /// The client's `Upload-Offset`.
    pub offset: u64,
    /// `Content-Length`, when declared: a body shorter than it was cut.
    pub declared: Option<u64>,
    /// The SHA-256 the client sent in `Upload-Checksum`.
    pub sha256: Option<[u8; 32]>,
    pub body: ByteStream,
}

impl std::fmt::Debug for Chunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chunk")
            .field("offset", &self.offset)
            .field("declared", &self.declared)
            .finish_non_exhaustive()
    }
}

/// What a PATCH achieved.
#[derive(Debug)]
pub struct Appended {
    pub upload: Upload,
    /// The media record, when this chunk completed the upload.
    pub media: Option<Media>,
}

impl Uploads {
    /// Creates an upload of `length` bytes for `by`; `metadata` is the client's header as sent.
    /// Refused, with nothing stored, when the file name or the metadata is too long or when
    /// `by` (its token, or the signed-in user without one) would hold more than its `Limits`.
    pub async fn create(
        &self,
        by: &Actor,
        length: u64,
        filename: &str,
        metadata: &str,
    ) -> Result<Upload, UploadError> {
        if filename.len() > MAX_FILENAME_BYTES {
            return Err(UploadError::FilenameTooLong {
                limit: MAX_FILENAME_BYTES,
            });
        }
        if metadata.len() > MAX_METADATA_BYTES {
            return Err(UploadError::MetadataTooLarge {
                limit: MAX_METADATA_BYTES,
            });
        }
        let now = Utc::now();
        let upload = Upload {
            id: Uuid::new_v4(),
            length,
            received: 0,
            filename: filename.to_owned(),
            metadata: metadata.to_owned(),
            token_id: by.token_id,
            user_id: by.user_id,
            claim: String::new(),
            media_id: None,
            created_at: now,
            expires_at: now + self.expiry,
        };
        self.ctx.db.create_upload(&upload).await?;
        let owner = match (by.token_id, by.user_id) {
            (Some(token), _) => Some(UploadOwner::Token(token)),
            (None, Some(user)) => Some(UploadOwner::User(user)),
            // `import`, `demo`, `cli`: an operator's own commands are not capped.
            (None, None) => None,
        };
        if let Some(owner) = owner {
            // Counted with its own row in, not before: of creations at the same time, the later
            // of any two sees both and gives way (at worst both do), so no number of them at
            // once gets past a cap, and a refused one leaves nothing.
            let open = self.ctx.db.open_uploads(owner, now).await?;
            if let Err(refused) = self.limits.check(owner, open) {
                self.ctx.db.delete_upload(upload.id).await?;
                return Err(refused);
            }
        }
        tracing::info!(id = %upload.id, length, "upload created");
        Ok(upload)
    }

    /// The upload, unless it is unknown or expired (an expired one is removed soon after).
    pub async fn get(&self, id: Uuid) -> Result<Upload, UploadError> {
        let upload = match self.ctx.db.upload(id).await {
            Ok(u) => u,
            Err(DbError::NotFound) => return Err(UploadError::NotFound),
            Err(e) => return Err(e.into()),
        };
        if upload.media_id.is_none() && upload.expires_at <= Utc::now() {
            return Err(UploadError::Expired);
        }
        Ok(upload)
    }

    /// Appends one chunk. The work runs in a task of its own that holds `guard` (a concurrency
    /// slot) until it ends: a client that hangs up mid-body cannot cancel it, so what arrived is
    /// stored and counted, and a finishing upload is never left half-stored.
    pub async fn append(
        &self,
        id: Uuid,
        chunk: Chunk,
        guard: impl Send + 'static,
    ) -> Result<Appended, UploadError> {
        let upload = self.get(id).await?;
        if chunk.offset != upload.received {
            return Err(UploadError::OffsetMismatch {
                current: upload.received,
            });
        }
        let remaining = upload.length - upload.received;
        if chunk.declared.is_some_and(|n| n > remaining) {
            return Err(UploadError::BeyondLength {
                length: upload.length,
            });
        }
        if upload.media_id.is_some() {
            // Complete already: an empty PATCH at the end just confirms it.
            return Ok(Appended {
                upload,
                media: None,
            });
        }
        let claim = Uuid::new_v4().simple().to_string();
        if !self
            .ctx
            .db
            .claim_upload(id, chunk.offset, &claim, Utc::now())
            .await?
        {
            let current = self.get(id).await?;
            return Err(UploadError::OffsetMismatch {
                current: current.received,
            });
        }
        let this = self.clone();
        let span = tracing::Span::current();
        tokio::spawn(
            async move {
                let _guard = guard;
                this.receive_and_store(upload, claim, chunk).await
            }
            .instrument(span),
        )
        .await
        .map_err(|e| UploadError::Spool(io::Error::other(e)))?
    }

    async fn receive_and_store(
        &self,
        upload: Upload,
        claim: String,
        chunk: Chunk,
    ) -> Result<Appended, UploadError> {
        let offset = chunk.offset;
        let remaining = upload.length - offset;
        // A body declared to reach the end (a whole file in one PATCH, as the studio's page
        // sends it, or the last chunk) is received after the stored chunks, into the file that
        // becomes the media: its bytes are written and hashed once.
        let finishing = remaining > 0 && chunk.declared == Some(remaining);
        let earlier = if finishing {
            self.chunks_before(&upload, offset).await?
        } else {
            Vec::new()
        };
        let prefix = finishing.then_some((self.ctx.store.as_ref(), earlier.as_slice()));
        let received = receive(
            self.ctx.spool.dir(),
            prefix,
            chunk.body,
            remaining,
            chunk.sha256.is_some(),
            self.stopping.clone(),
        )
        .await
        .map_err(|e| match e {
            UploadError::BeyondLength { .. } => UploadError::BeyondLength {
                length: upload.length,
            },
            other => other,
        })?;
        let cut = received.cut || chunk.declared.is_some_and(|n| received.size < n);
        if cut {
            tracing::info!(id = %upload.id, offset, size = received.size, "chunk cut short");
        }
        if let Some(expected) = chunk.sha256
            && (cut || received.sha256 != Some(expected))
        {
            // A cut chunk cannot match the checksum of the whole; the client sends it again.
            return Err(UploadError::ChecksumMismatch);
        }
        if received.size == 0 {
            return Ok(Appended {
                upload,
                media: None,
            });
        }
        if offset + received.size < upload.length {
            let appended = if received.prefix == 0 {
                self.store_chunk(&upload, &claim, offset, received.size, received.file.path())
                    .await?
            } else {
                // Cut after the earlier chunks were copied in front of it: its own part alone.
                let tail = tail_of(self.ctx.spool.dir(), received.file.path(), received.prefix)
                    .await
                    .map_err(UploadError::Spool)?;
                drop(received.file);
                self.store_chunk(&upload, &claim, offset, received.size, tail.path())
                    .await?
            };
            return Ok(Appended {
                upload: appended,
                media: None,
            });
        }
        let (chunks, whole) = match received.whole {
            Some(sha256) => (
                earlier,
                Whole::Spooled(Spooled {
                    file: received.file,
                    sha256,
                    size: upload.length,
                }),
            ),
            // Not declared to reach the end, and did (a body without Content-Length).
            None => (
                self.chunks_before(&upload, offset).await?,
                Whole::LastChunk(received.file),
            ),
        };
        let media = self.finish(&upload, &claim, offset, &chunks, whole).await?;
        let mut upload = upload;
        upload.received = upload.length;
        upload.media_id = Some(media.id);
        Ok(Appended {
            upload,
            media: Some(media),
        })
    }

    /// The upload's stored chunks, which must cover `0..offset` end to end.
    async fn chunks_before(
        &self,
        upload: &Upload,
        offset: u64,
    ) -> Result<Vec<UploadChunk>, UploadError> {
        let chunks = self.ctx.db.upload_chunks(upload.id).await?;
        let mut next = 0;
        for c in &chunks {
            if c.start != next {
                return Err(UploadError::Db(DbError::Other(anyhow::anyhow!(
                    "upload {}: chunk at {} where {next} was expected",
                    upload.id,
                    c.start
                ))));
            }
            next += c.size;
        }
        if next != offset {
            return Err(UploadError::Db(DbError::Other(anyhow::anyhow!(
                "upload {}: chunks end at {next}, the offset is {offset}",
                upload.id
            ))));
        }
        Ok(chunks)
    }

    async fn store_chunk(
        &self,
        upload: &Upload,
        claim: &str,
        offset: u64,
        size: u64,
        file: &std::path::Path,
    ) -> Result<Upload, UploadError> {
        let key = ObjectKey::for_upload_chunk(upload.id, offset, claim);
        let chunk = UploadChunk {
            start: offset,
            size,
            key: key.clone(),
        };
        let now = Utc::now();
        let expires_at = now + self.expiry;
        // A chunk whose row is not written (another request took the upload over) is taken back.
        // The store makes the object durable before the row names it (`put_file` syncs).
        put_then_record(
            self.ctx.store.as_ref(),
            &key,
            Named::Uniquely,
            "application/octet-stream",
            Source::File(file),
            || async {
                match self
                    .ctx
                    .db
                    .append_upload_chunk(upload.id, claim, &chunk, expires_at, now)
                    .await
                {
                    Ok(true) => Ok(((), None)),
                    Ok(false) => Err(UploadError::Superseded),
                    Err(e) => Err(e.into()),
                }
            },
        )
        .await
        .map_err(|e| match e {
            ReplaceError::Store(e) => e.into(),
            ReplaceError::Record(e) => e,
        })?;
        tracing::debug!(id = %upload.id, offset, size, "chunk stored");
        Ok(Upload {
            received: offset + size,
            expires_at,
            ..upload.clone()
        })
    }

    /// Makes the whole file media (`ingest`), marks the upload complete, forgets its chunks.
    async fn finish(
        &self,
        upload: &Upload,
        claim: &str,
        offset: u64,
        chunks: &[UploadChunk],
        whole: Whole,
    ) -> Result<Media, UploadError> {
        let media_id = MediaId::new();
        let ingested = match whole {
            Whole::Spooled(spooled) => {
                ingest_spooled(&self.ctx, media_id, &upload.filename, spooled).await
            }
            Whole::LastChunk(last) => {
                let body = assembled(self.ctx.store.clone(), chunks, last);
                ingest(&self.ctx, media_id, &upload.filename, body, upload.length).await
            }
        };
        let media = match ingested {
            Ok(media) => media,
            Err(e @ (IngestError::Probe(_) | IngestError::TooLarge { .. })) => {
                // Refused for what the file is: sending it again cannot help.
                tracing::info!(id = %upload.id, error = %e, "finished upload refused; removing it");
                self.remove(upload.id).await?;
                return Err(UploadError::Ingest(e));
            }
            Err(e) => return Err(UploadError::Ingest(e)),
        };
        if media.info.size_bytes != upload.length {
            tracing::error!(id = %upload.id, media = %media.id, size = media.info.size_bytes, length = upload.length, "assembled upload has the wrong size");
        }
        let expires_at = Utc::now() + self.expiry;
        if !self
            .ctx
            .db
            .complete_upload(upload.id, claim, offset, media.id, expires_at)
            .await?
        {
            // Terminated or taken over while the file was being stored: the media record is
            // whole and stays; this request reports that it lost the upload.
            tracing::warn!(id = %upload.id, media = %media.id, "upload superseded while finishing");
            return Err(UploadError::Superseded);
        }
        // Rows before objects: a crash in between leaves orphan objects, which the reconciler
        // removes, never a row naming a missing object.
        match self.ctx.db.delete_upload_chunks(upload.id).await {
            Ok(()) => {
                delete_objects(self.ctx.store.as_ref(), chunks).await;
            }
            Err(e) => {
                tracing::warn!(id = %upload.id, error = %e, "could not forget a finished upload's chunks");
            }
        }
        tracing::info!(id = %upload.id, media = %media.id, "upload complete");
        Ok(media)
    }

    /// Terminates an upload: its row, chunk rows and chunk objects go. A media record it
    /// became stays. False if there was no such upload.
    pub async fn remove(&self, id: Uuid) -> Result<bool, UploadError> {
        let (existed, chunks) = self.ctx.db.delete_upload(id).await?;
        delete_objects(self.ctx.store.as_ref(), &chunks).await;
        Ok(existed)
    }

    /// Removes uploads expired at `now` (one batch); returns how many.
    pub async fn remove_expired(&self, now: DateTime<Utc>) -> Result<usize, UploadError> {
        let expired = self.ctx.db.expired_uploads(now, 200).await?;
        let mut removed = 0;
        for upload in expired {
            // Rows first, then objects (see `finish`); an object that cannot be deleted now is
            // left to the reconciler.
            self.remove(upload.id).await?;
            if upload.media_id.is_none() {
                tracing::info!(id = %upload.id, received = upload.received, length = upload.length, "expired upload removed");
            }
            removed += 1;
        }
        Ok(removed)
    }

    /// Removes expired uploads now and then, for as long as the runtime lives. Every instance
    /// runs it; deleting what another instance already deleted is harmless.
    pub fn start_cleanup(self) {
        let every = (self.expiry / 4).clamp(Duration::from_secs(1), Duration::from_secs(600));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = self.remove_expired(Utc::now()).await {
                    tracing::warn!(error = %e, "could not remove expired uploads");
                }
            }
        });
    }
}

/// Deletes the chunks' objects; false if any deletion failed (each failure is logged).
async fn delete_objects(store: &dyn ObjectStore, chunks: &[UploadChunk]) -> bool {
    let mut all = true;
    for c in chunks {
        if let Err(e) = store.delete(&c.key).await {
            tracing::warn!(key = %c.key, error = %e, "could not delete an upload chunk");
            all = false;
        }
    }
    all
}

/// The whole file of a finishing upload.
enum Whole {
    /// Spooled and hashed already: the stored chunks, then the last one's body.
    Spooled(Spooled),
    /// The last chunk alone on disk: the stored chunks are read again in front of it.
    LastChunk(tempfile::NamedTempFile),
}

/// The stored chunks in order, then the local file of the last one, as one stream.
fn assembled(
    store: Arc<dyn ObjectStore>,
    chunks: &[UploadChunk],
    last: tempfile::NamedTempFile,
) -> ByteStream {
    enum Part {
        Stored(ObjectKey),
        Local(tempfile::NamedTempFile),
    }
    let parts: Vec<Part> = chunks
        .iter()
        .map(|c| Part::Stored(c.key.clone()))
        .chain(std::iter::once(Part::Local(last)))
        .collect();
    Box::pin(
        stream::iter(parts)
            .then(move |part| {
                let store = store.clone();
                async move {
                    match part {
                        Part::Stored(key) => store.get(&key, None).await.map_err(io::Error::other),
                        Part::Local(temp) => {
                            let file = tokio::fs::File::open(temp.path()).await?;
                            // Open: the file may go (unlinked when `temp` drops) while it is read.
                            drop(temp);
                            Ok(Box::pin(tokio_util::io::ReaderStream::with_capacity(
                                file,
                                256 * 1024,
                            )) as ByteStream)
                        }
                    }
                }
            })
            .try_flatten(),
    )
}

/// A chunk on disk, removed when dropped.
#[derive(Debug)]
struct Received {
    file: tempfile::NamedTempFile,
    /// The bytes of the earlier chunks in front of the chunk's in `file` (when finishing).
    prefix: u64,
    /// The chunk's own bytes.
    size: u64,
    /// The chunk's SHA-256, when asked for (the client sent a checksum).
    sha256: Option<[u8; 32]>,
    /// The SHA-256 of all of `file` (hex), when it was received after the earlier chunks.
    whole: Option<String>,
    /// The body failed or went quiet before its end.
    cut: bool,
}

/// Spools the body, refusing more than `max` bytes; with `earlier`, those chunks are copied
/// from the store in front of it and the whole is hashed in the same pass. A body that fails or
/// idles past `IDLE_TIMEOUT` ends the chunk where it stopped. Not synced: the store makes what
/// it keeps durable (`ObjectStore::put_file`), and a spool file is gone after a crash anyway.
async fn receive(
    dir: &std::path::Path,
    earlier: Option<(&dyn ObjectStore, &[UploadChunk])>,
    mut body: ByteStream,
    max: u64,
    check: bool,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> Result<Received, UploadError> {
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(UploadError::Spool)?;
    let file = tempfile::Builder::new()
        .prefix("siaran-chunk-")
        .tempfile_in(dir)
        .map_err(UploadError::Spool)?;
    let handle = tokio::fs::File::from_std(file.reopen().map_err(UploadError::Spool)?);
    let mut writer = BufWriter::with_capacity(256 * 1024, handle);
    let mut whole = earlier.map(|_| Sha256::new());
    let mut prefix: u64 = 0;
    if let (Some((store, chunks)), Some(whole)) = (earlier, whole.as_mut()) {
        for c in chunks {
            let mut stored = store.get(&c.key, None).await?;
            while let Some(bytes) = stored.next().await {
                let bytes = bytes.map_err(UploadError::Spool)?;
                prefix += bytes.len() as u64;
                whole.update(&bytes);
                writer.write_all(&bytes).await.map_err(UploadError::Spool)?;
            }
        }
    }
    let mut hasher = check.then(Sha256::new);
    let mut size: u64 = 0;
    let mut cut = false;
    // Resolves when the instance begins to shut down (never, if nobody can tell it to).
    let shutting_down = async move {
        if stopping.wait_for(|s| *s).await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::pin!(shutting_down);
    loop {
        let next = tokio::select! {
            next = tokio::time::timeout(IDLE_TIMEOUT, body.next()) => next,
            () = &mut shutting_down => {
                tracing::info!(size, "shutting down; keeping what arrived of the upload");
                cut = true;
                break;
            }
        };
        let chunk = match next {
            Ok(Some(Ok(chunk))) => chunk,
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                tracing::debug!(error = %e, "upload body ended with an error");
                cut = true;
                break;
            }
            Err(_) => {
                tracing::info!(
                    seconds = IDLE_TIMEOUT.as_secs(),
                    "upload body idle; keeping what arrived"
                );
                cut = true;
                break;
            }
        };
        size += chunk.len() as u64;
        if size > max {
            return Err(UploadError::BeyondLength { length: max });
        }
        if let Some(h) = hasher.as_mut() {
            h.update(&chunk);
        }
        if let Some(h) = whole.as_mut() {
            h.update(&chunk);
        }
        writer.write_all(&chunk).await.map_err(UploadError::Spool)?;
    }
    writer.flush().await.map_err(UploadError::Spool)?;
    Ok(Received {
        file,
        prefix,
        size,
        sha256: hasher.map(|h| h.finalize().into()),
        whole: whole.map(|h| hex::encode(h.finalize())),
        cut,
    })
}

/// A copy of `file` from byte `from` on, in a spool file of its own.
async fn tail_of(
    dir: &std::path::Path,
    file: &std::path::Path,
    from: u64,
) -> io::Result<tempfile::NamedTempFile> {
    use tokio::io::AsyncSeekExt as _;
    let out = tempfile::Builder::new()
        .prefix("siaran-chunk-")
        .tempfile_in(dir)?;
    let mut src = tokio::fs::File::open(file).await?;
    src.seek(io::SeekFrom::Start(from)).await?;
    let mut dst = tokio::fs::File::from_std(out.reopen()?);
    tokio::io::copy(&mut src, &mut dst).await?;
    dst.flush().await?;
    Ok(out)
}
