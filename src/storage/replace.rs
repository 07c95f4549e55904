//! The one way a file reaches the store together with the row that owns it, used for media,
//! covers, transcripts, chapters and document PDFs alike:
//!
//! 1. the object is put, never overwriting. A key named by the content (covers, transcripts,
//!    chapters, document PDFs) that exists already holds these very bytes and some row owns it:
//!    the write goes on without storing them again. A key named uniquely (media, upload chunks)
//!    that exists already is an error;
//! 2. the row is written by the caller's `record`, which answers the object it replaced;
//! 3. if the row could not be written, the object this call created is deleted again;
//! 4. once the row points at the new object, the replaced one is deleted.
//!
//! A crash between two steps leaves at most an object no row owns: the store is wrapped in
//! `reconcile::TrackedStore`, which notes every write in progress, and the reconciler removes
//! such objects later. So no caller writes this sequence again.

use std::{future::Future, path::Path};

use bytes::Bytes;
use futures_util::stream;

use super::{ByteStream, ObjectKey, ObjectStore, StoreError};

/// How an object's key is named (see the module doc for what an existing key then means).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    ByContent,
    Uniquely,
}

/// The bytes to store: small ones already in memory, or a spooled file on disk.
#[derive(Debug)]
pub enum Source<'a> {
    Bytes(Bytes),
    File(&'a Path),
}

#[derive(Debug, thiserror::Error)]
pub enum ReplaceError<E> {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the row failed; nothing new is left in the store.
    #[error(transparent)]
    Record(E),
}

/// Puts `source` at `key`, then runs `record`, which writes the row owning `key` and answers
/// `(value, replaced object)`; see the module doc for what a failure leaves.
pub async fn put_then_record<T, E, F>(
    store: &dyn ObjectStore,
    key: &ObjectKey,
    named: Named,
    content_type: &str,
    source: Source<'_>,
    record: impl FnOnce() -> F,
) -> Result<T, ReplaceError<E>>
where
    F: Future<Output = Result<(T, Option<ObjectKey>), E>>,
{
    let put = match source {
        Source::Bytes(bytes) => {
            let body: ByteStream = Box::pin(stream::iter([Ok::<_, std::io::Error>(bytes)]));
            store.put(key, content_type, body).await
        }
        Source::File(path) => store.put_file(key, content_type, path).await,
    };
    let created = match put {
        Ok(_) => true,
        Err(StoreError::AlreadyExists(_)) if named == Named::ByContent => false,
        Err(e) => return Err(e.into()),
    };
    let (value, replaced) = match record().await {
        Ok(done) => done,
        Err(e) => {
            if created && let Err(del) = store.delete(key).await {
                tracing::warn!(error = %del, %key, "object of a failed write not deleted");
            }
            return Err(ReplaceError::Record(e));
        }
    };
    if let Some(old) = replaced.filter(|old| old != key) {
        delete_unowned(store, &old).await;
    }
    Ok(value)
}

/// Deletes an object no row names any more. A failure is logged: the reconciler removes it
/// later.
pub async fn delete_unowned(store: &dyn ObjectStore, key: &ObjectKey) {
    if let Err(e) = store.delete(key).await {
        tracing::warn!(error = %e, %key, "object no longer owned not deleted");
    }
}
