//! The reconciler (issue 7, crash safety): after a process dies in the middle of a write, the
//! store and the database are brought back to agreement — no object that no row owns, no
//! unfinished multipart upload or temporary file, no spool folder of a dead process — and any
//! row whose object is missing is reported. It runs when an instance starts serving and then
//! periodically on every instance;
//! each run is idempotent, and its findings are logged.
//!
//! How a write in progress is told from a dead one: `TrackedStore` notes every write in the
//! database before it starts and renews the note while it lasts (every quarter of the lease). A
//! write whose note has not been renewed for a whole lease belongs to a process that died. The
//! store is listed before the database is read, so any object listed was written before its
//! row or its note could be missed.
//!
//! Deletions elsewhere are ordered to match: a row goes before its object, so a crash between
//! the two leaves an orphan object (which this removes), never a row without its object.

mod spool;
mod tracked;

pub use spool::{ProcessSpool, Spool};
pub use tracked::TrackedStore;

use std::{
    collections::{HashMap, HashSet},
    path::PathBuf,
    sync::Arc,
    time::Duration,
};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{
    db::Db,
    storage::{ObjectKey, ObjectStore},
};

#[derive(Debug, Clone)]
pub struct Reconciler {
    pub db: Arc<dyn Db>,
    pub store: Arc<dyn ObjectStore>,
    /// The folder under which each process keeps its spool folder.
    pub spool_base: PathBuf,
    pub lease: Duration,
}

/// Whether a pass repairs what it finds or only reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Repair,
    Report,
}

/// What one run found and did (with `check`, what a run would do).
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct Findings {
    /// Objects in the store.
    pub objects: usize,
    /// Objects no row owned, whose write was over: removed (`check`: to remove).
    pub orphans_removed: Vec<String>,
    /// Unfinished writes (multipart uploads, temporary files) of dead processes: aborted
    /// (`check`: to abort).
    pub unfinished_aborted: Vec<String>,
    /// Writes in progress, left alone.
    pub in_progress: usize,
    /// Keys rows own whose object is missing (data lost outside Siaran, or a bug): reported.
    pub missing: Vec<String>,
    /// Spool folders of dead processes: removed.
    pub spools_removed: Vec<String>,
}

impl Findings {
    pub fn is_clean(&self) -> bool {
        self.orphans_removed.is_empty()
            && self.unfinished_aborted.is_empty()
            && self.missing.is_empty()
            && self.spools_removed.is_empty()
    }
}

impl Reconciler {
    /// One pass. Errors stop the pass (the next one retries); a failure to remove one thing is
    /// logged and the pass goes on.
    pub async fn run(&self, now: DateTime<Utc>) -> anyhow::Result<Findings> {
        self.pass(now, Mode::Repair).await
    }

    /// The same pass, changing nothing (`siaran check`): the findings say what a run would
    /// remove or abort, and which rows' objects are missing. Spool folders are not looked at
    /// (they are the local machine's, not the store's).
    pub async fn check(&self, now: DateTime<Utc>) -> anyhow::Result<Findings> {
        self.pass(now, Mode::Report).await
    }

    async fn pass(&self, now: DateTime<Utc>, mode: Mode) -> anyhow::Result<Findings> {
        let stale_before = now - chrono::Duration::from_std(self.lease)?;
        let mut found = Findings::default();

        // The store first (see the module's comment), then the database.
        let unfinished = self.store.unfinished().await?;
        let listed = self.store.list().await?;
        let writes: HashMap<String, DateTime<Utc>> =
            self.db.store_writes().await?.into_iter().collect();
        let owned: HashSet<String> = self.db.owned_object_keys().await?.into_iter().collect();
        let live = |key: &str| writes.get(key).is_some_and(|at| *at > stale_before);
        found.objects = listed.len();

        for u in &unfinished {
            // A write of this store's with no note at all (a process of an older version)
            // counts as live until it has been silent for a lease.
            let noted_live = u.key.as_ref().is_some_and(|k| live(k.as_str()));
            let unnoted_recent = u
                .key
                .as_ref()
                .is_none_or(|k| !writes.contains_key(k.as_str()))
                && u.since > stale_before;
            if noted_live || unnoted_recent {
                found.in_progress += 1;
                continue;
            }
            if mode == Mode::Report {
                found.unfinished_aborted.push(u.handle.clone());
                continue;
            }
            match self.store.abort(u).await {
                Ok(()) => {
                    tracing::warn!(handle = %u.handle, key = ?u.key.as_ref().map(ObjectKey::as_str), "reconcile: aborted an unfinished write");
                    found.unfinished_aborted.push(u.handle.clone());
                }
                Err(e) => {
                    tracing::error!(handle = %u.handle, error = %e, "reconcile: could not abort an unfinished write");
                }
            }
        }

        let mut present = HashSet::with_capacity(listed.len());
        for object in listed {
            let key = object.key.as_str();
            present.insert(key.to_owned());
            if owned.contains(key) {
                continue;
            }
            let noted = writes.contains_key(key);
            if live(key) || (!noted && object.modified > stale_before) {
                found.in_progress += 1;
                continue;
            }
            if mode == Mode::Report {
                found.orphans_removed.push(key.to_owned());
                continue;
            }
            match self.store.delete(&object.key).await {
                Ok(()) => {
                    tracing::warn!(%key, "reconcile: removed an object no row owns");
                    found.orphans_removed.push(key.to_owned());
                }
                Err(e) => {
                    tracing::error!(%key, error = %e, "reconcile: could not remove an orphan object");
                }
            }
        }

        if mode == Mode::Report {
            found.missing = self.missing(&owned, &present).await?;
            return Ok(found);
        }
        // Notes whose object a row now owns, or whose write is over, are done with (deleting an
        // orphan above already forgot its note).
        for (key, at) in &writes {
            let forgotten = found.orphans_removed.contains(key);
            if !forgotten
                && (owned.contains(key) || *at <= stale_before)
                && let Err(e) = self.db.forget_store_write(key).await
            {
                tracing::warn!(%key, error = %e, "reconcile: could not forget a write's note");
            }
        }

        found.missing = self.missing(&owned, &present).await?;
        for key in &found.missing {
            tracing::error!(%key, "reconcile: a row owns an object that is missing");
        }
        found.spools_removed = spool::remove_dead(&self.spool_base).await;
        for dir in &found.spools_removed {
            tracing::warn!(%dir, "reconcile: removed the spool folder of a dead process");
        }
        Ok(found)
    }

    /// Rows whose object was not listed. The row may be newer than the listing, so each
    /// object is looked up once more; and the row may be gone by now (an upload finished and
    /// its chunks removed, a file replaced, between the database's reading and this look: rows
    /// go before their objects), so the rows are read again and only those still there count.
    /// Reported only: this finds data lost outside Siaran, which an operator restores.
    async fn missing(
        &self,
        owned: &HashSet<String>,
        present: &HashSet<String>,
    ) -> anyhow::Result<Vec<String>> {
        let mut missing = Vec::new();
        for key in owned.iter().filter(|k| !present.contains(*k)) {
            let object = ObjectKey::from_stored(key.clone());
            match self.store.head(&object).await {
                Ok(_) => continue,
                Err(crate::storage::StoreError::NotFound(_)) => {}
                Err(e) => {
                    tracing::error!(%key, error = %e, "reconcile: could not check an object");
                    continue;
                }
            }
            missing.push(key.clone());
        }
        if !missing.is_empty() {
            let still: HashSet<String> = self.db.owned_object_keys().await?.into_iter().collect();
            missing.retain(|key| still.contains(key));
        }
        Ok(missing)
    }

    /// Runs now and then every `every`, for as long as the runtime lives.
    pub fn start(self, every: Duration) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match self.run(Utc::now()).await {
                    Ok(found) if found.is_clean() => {
                        tracing::info!(
                            objects = found.objects,
                            in_progress = found.in_progress,
                            "reconcile: store and database agree"
                        );
                    }
                    Ok(found) => {
                        tracing::warn!(
                            objects = found.objects,
                            orphans_removed = found.orphans_removed.len(),
                            unfinished_aborted = found.unfinished_aborted.len(),
                            missing = found.missing.len(),
                            spools_removed = found.spools_removed.len(),
                            in_progress = found.in_progress,
                            "reconcile: repaired"
                        );
                    }
                    Err(e) => tracing::error!(error = %e, "reconcile: pass failed"),
                }
            }
        });
    }
}
