//! The object store as the application uses it: every write is noted in the database before
//! it starts and its note renewed while it lasts, so the reconciler can tell a write in
//! progress (on any instance) from one a dead process left behind.

use std::{future::Future, path::Path, sync::Arc, time::Duration};

use chrono::Utc;

use crate::{
    db::Db,
    storage::{
        ByteRange, ByteStream, Listed, ObjectKey, ObjectMeta, ObjectStore, StoreError, Unfinished,
    },
};

#[derive(Debug)]
pub struct TrackedStore {
    inner: Arc<dyn ObjectStore>,
    db: Arc<dyn Db>,
    /// A note is renewed every quarter of this.
    lease: Duration,
}

impl TrackedStore {
    pub fn new(inner: Arc<dyn ObjectStore>, db: Arc<dyn Db>, lease: Duration) -> Self {
        TrackedStore { inner, db, lease }
    }

    /// Runs `write` under a note for `key`, renewed until it ends. A write that fails has
    /// left nothing (`put`'s promise), so its note goes; a finished write's note stays until
    /// the reconciler sees a row own the object.
    async fn noted<F>(&self, key: &ObjectKey, write: F) -> Result<u64, StoreError>
    where
        F: Future<Output = Result<u64, StoreError>>,
    {
        self.db
            .renew_store_write(key.as_str(), Utc::now())
            .await
            .map_err(|e| StoreError::Backend(format!("cannot note the write of {key}: {e}")))?;
        let mut write = std::pin::pin!(write);
        let period = (self.lease / 4).max(Duration::from_millis(100));
        let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let result = loop {
            tokio::select! {
                result = &mut write => break result,
                _ = renew.tick() => {
                    if let Err(e) = self.db.renew_store_write(key.as_str(), Utc::now()).await {
                        tracing::warn!(%key, error = %e, "could not renew the note of a write");
                    }
                }
            }
        };
        if result.is_err()
            && let Err(e) = self.db.forget_store_write(key.as_str()).await
        {
            tracing::warn!(%key, error = %e, "could not forget the note of a failed write");
        }
        result
    }
}

#[async_trait::async_trait]
impl ObjectStore for TrackedStore {
    async fn check(&self) -> Result<(), StoreError> {
        self.inner.check().await
    }

    async fn put(
        &self,
        key: &ObjectKey,
        content_type: &str,
        body: ByteStream,
    ) -> Result<u64, StoreError> {
        self.noted(key, self.inner.put(key, content_type, body))
            .await
    }

    async fn put_file(
        &self,
        key: &ObjectKey,
        content_type: &str,
        path: &Path,
    ) -> Result<u64, StoreError> {
        self.noted(key, self.inner.put_file(key, content_type, path))
            .await
    }

    async fn get(
        &self,
        key: &ObjectKey,
        range: Option<ByteRange>,
    ) -> Result<ByteStream, StoreError> {
        self.inner.get(key, range).await
    }

    async fn head(&self, key: &ObjectKey) -> Result<ObjectMeta, StoreError> {
        self.inner.head(key).await
    }

    async fn presign_get(
        &self,
        key: &ObjectKey,
        ttl: Duration,
        content_type: &str,
        content_disposition: Option<&str>,
    ) -> Result<Option<String>, StoreError> {
        self.inner
            .presign_get(key, ttl, content_type, content_disposition)
            .await
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), StoreError> {
        self.inner.delete(key).await?;
        if let Err(e) = self.db.forget_store_write(key.as_str()).await {
            tracing::warn!(%key, error = %e, "could not forget the note of a deleted object");
        }
        Ok(())
    }

    async fn list(&self) -> Result<Vec<Listed>, StoreError> {
        self.inner.list().await
    }

    async fn unfinished(&self) -> Result<Vec<Unfinished>, StoreError> {
        self.inner.unfinished().await
    }

    async fn abort(&self, unfinished: &Unfinished) -> Result<(), StoreError> {
        self.inner.abort(unfinished).await
    }
}
