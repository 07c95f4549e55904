//! `Measured`: an `ObjectStore` that times every operation of the store it wraps and counts its
//! failures, into handles the caller gives (`http::metrics` gives Prometheus ones). It changes
//! nothing else: same answers, same errors, same streams.
//!
//! A read (`get`) is timed until its stream is open (the first byte's wait; the rest is the
//! listener's pace), and an error in the middle of its stream counts as a `get` error too: that
//! is how a storage node dying under a listener shows.

use std::{path::Path, sync::Arc, time::Duration, time::Instant};

use futures_util::TryStreamExt as _;
use metrics::{Counter, Histogram};

use super::{
    ByteRange, ByteStream, Listed, ObjectKey, ObjectMeta, ObjectStore, StoreError, Unfinished,
};

/// One operation's handles: how long each call took, and the calls that failed.
#[derive(Debug, Clone)]
pub struct OpMetrics {
    pub seconds: Histogram,
    pub errors: Counter,
}

/// The handles of every operation, by the names [`OPERATIONS`] gives them.
#[derive(Debug, Clone)]
pub struct StoreMetrics {
    check: OpMetrics,
    put: OpMetrics,
    put_file: OpMetrics,
    get: OpMetrics,
    head: OpMetrics,
    presign_get: OpMetrics,
    delete: OpMetrics,
    list: OpMetrics,
    unfinished: OpMetrics,
    abort: OpMetrics,
}

/// The operations measured, as their label reads.
pub const OPERATIONS: [&str; 10] = [
    "check",
    "put",
    "put_file",
    "get",
    "head",
    "presign_get",
    "delete",
    "list",
    "unfinished",
    "abort",
];

impl StoreMetrics {
    /// `handles(op)` for each of [`OPERATIONS`].
    pub fn new(mut handles: impl FnMut(&'static str) -> OpMetrics) -> StoreMetrics {
        let [
            check,
            put,
            put_file,
            get,
            head,
            presign_get,
            delete,
            list,
            unfinished,
            abort,
        ] = OPERATIONS.map(&mut handles);
        StoreMetrics {
            check,
            put,
            put_file,
            get,
            head,
            presign_get,
            delete,
            list,
            unfinished,
            abort,
        }
    }
}

#[derive(Debug)]
pub struct Measured {
    inner: Arc<dyn ObjectStore>,
    metrics: StoreMetrics,
}

impl Measured {
    pub fn new(inner: Arc<dyn ObjectStore>, metrics: StoreMetrics) -> Measured {
        Measured { inner, metrics }
    }
}

async fn timed<T>(
    op: &OpMetrics,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let started = Instant::now();
    let answer = call.await;
    op.seconds.record(started.elapsed());
    if answer.is_err() {
        op.errors.increment(1);
    }
    answer
}

#[async_trait::async_trait]
impl ObjectStore for Measured {
    async fn check(&self) -> Result<(), StoreError> {
        timed(&self.metrics.check, self.inner.check()).await
    }

    async fn put(
        &self,
        key: &ObjectKey,
        content_type: &str,
        body: ByteStream,
    ) -> Result<u64, StoreError> {
        timed(&self.metrics.put, self.inner.put(key, content_type, body)).await
    }

    async fn put_file(
        &self,
        key: &ObjectKey,
        content_type: &str,
        path: &Path,
    ) -> Result<u64, StoreError> {
        timed(
            &self.metrics.put_file,
            self.inner.put_file(key, content_type, path),
        )
        .await
    }

    async fn get(
        &self,
        key: &ObjectKey,
        range: Option<ByteRange>,
    ) -> Result<ByteStream, StoreError> {
        let stream = timed(&self.metrics.get, self.inner.get(key, range)).await?;
        let errors = self.metrics.get.errors.clone();
        Ok(Box::pin(stream.inspect_err(move |_| errors.increment(1))))
    }

    async fn head(&self, key: &ObjectKey) -> Result<ObjectMeta, StoreError> {
        timed(&self.metrics.head, self.inner.head(key)).await
    }

    async fn presign_get(
        &self,
        key: &ObjectKey,
        ttl: Duration,
        content_type: &str,
        content_disposition: Option<&str>,
    ) -> Result<Option<String>, StoreError> {
        timed(
            &self.metrics.presign_get,
            self.inner
                .presign_get(key, ttl, content_type, content_disposition),
        )
        .await
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), StoreError> {
        timed(&self.metrics.delete, self.inner.delete(key)).await
    }

    async fn list(&self) -> Result<Vec<Listed>, StoreError> {
        timed(&self.metrics.list, self.inner.list()).await
    }

    async fn unfinished(&self) -> Result<Vec<Unfinished>, StoreError> {
        timed(&self.metrics.unfinished, self.inner.unfinished()).await
    }

    async fn abort(&self, unfinished: &Unfinished) -> Result<(), StoreError> {
        timed(&self.metrics.abort, self.inner.abort(unfinished)).await
    }
}
