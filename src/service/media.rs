//! Media files: an upload (or a local file, for the demo and imports) becomes a stored, probed
//! media record through `service::ingest`, or nothing at all; its analysis is then queued.

use std::path::Path;

use super::{Ctx, Error};
use crate::{
    domain::{Media, MediaId},
    service::ingest::{self, IngestError},
    storage::ByteStream,
};

/// Ingests an upload; `filename` is the uploader's name for it, kept for downloads only.
pub async fn upload(
    ctx: &Ctx,
    filename: &str,
    body: ByteStream,
    max_bytes: u64,
) -> Result<Media, Error> {
    Ok(ingest::ingest(ctx, MediaId::new(), filename, body, max_bytes).await?)
}

/// Ingests a local file as media `id`.
pub async fn ingest_path(ctx: &Ctx, id: MediaId, path: &Path) -> Result<Media, Error> {
    Ok(ingest::ingest_path(ctx, id, path).await?)
}

impl From<IngestError> for Error {
    fn from(e: IngestError) -> Self {
        match e {
            IngestError::TooLarge { limit } => Error::TooLarge { limit },
            IngestError::Probe(p) => Error::Media(p),
            IngestError::Body(io) => Error::Interrupted(io),
            IngestError::Spool(io) => Error::Internal(anyhow::Error::new(io).context("spool file")),
            IngestError::Store(s) => s.into(),
            IngestError::Db(d) => d.into(),
        }
    }
}
