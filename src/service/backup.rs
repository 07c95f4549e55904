//! Backups of the embedded default: `siaran backup DIR` while the service runs, and
//! `siaran restore DIR` into an empty database and store. (PostgreSQL and S3 are backed up with
//! their own tools: `pg_dump` and bucket versioning or replication, docs/production.md.)
//!
//! A backup folder holds:
//! - `siaran.db`: the database as it was at one moment (SQLite's `VACUUM INTO`, consistent
//!   whatever is written meanwhile);
//! - `objects/KEY`: every object a row of that copy owns, under its key;
//! - `backup.json`: what was copied ([`Manifest`]).
//!
//! Why this is consistent while serving: Siaran never rewrites an object (a replaced file is
//! stored under a new key, and the old object is deleted after its row no longer names it), so
//! every key the copy of the database owns is still in the store, unless it was replaced *and*
//! deleted between the copy and the reading of the object. Then the backup starts over with a
//! new copy of the database, up to [`ATTEMPTS`] times. Objects written after the copy are not
//! taken: nothing in the copy names them.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt as _;

use crate::{
    db::{AnyDb, DbError, prelude::*},
    storage::{ObjectKey, ObjectStore, StoreError},
};

/// Copies of the database taken before giving up, when objects keep being replaced under the
/// backup.
pub const ATTEMPTS: u32 = 5;
const DATABASE: &str = "siaran.db";
const OBJECTS: &str = "objects";
const MANIFEST: &str = "backup.json";
/// `format` of the manifests this version writes and reads.
const FORMAT: u32 = 1;

/// `backup.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: u32,
    pub created_at: DateTime<Utc>,
    /// The version of Siaran that wrote it.
    pub siaran: String,
    pub objects: usize,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    #[serde(flatten)]
    pub manifest: Manifest,
    /// Copies of the database taken (more than one when objects were replaced meanwhile).
    pub attempts: u32,
}

/// Writes a backup of `db` and the objects it owns in `store` to `dir`, a new or empty folder.
pub async fn backup(
    db: &dyn Db,
    store: &dyn ObjectStore,
    dir: &Path,
) -> anyhow::Result<BackupReport> {
    ensure_empty(dir).await?;
    let mut gone_before: Option<String> = None;
    for attempt in 1..=ATTEMPTS {
        clear(dir).await?;
        let database = dir.join(DATABASE);
        db.snapshot_into(&database)
            .await
            .context("cannot copy the database")?;
        let owned = owned_keys(&database).await?;
        match copy_objects(store, &owned, &dir.join(OBJECTS)).await? {
            Copied::All(bytes) => {
                let manifest = Manifest {
                    format: FORMAT,
                    created_at: Utc::now(),
                    siaran: env!("CARGO_PKG_VERSION").to_owned(),
                    objects: owned.len(),
                    bytes,
                };
                tokio::fs::write(dir.join(MANIFEST), serde_json::to_vec_pretty(&manifest)?)
                    .await
                    .context("cannot write backup.json")?;
                return Ok(BackupReport {
                    manifest,
                    attempts: attempt,
                });
            }
            // The same key missing from a fresh copy of the database: not a file replaced
            // meanwhile, but one lost outside Siaran.
            Copied::Gone(key) if gone_before.as_ref() == Some(&key) => {
                clear(dir).await?;
                bail!(
                    "the database names {key}, which is not in the store: `siaran check` lists what is missing; restore it before a backup"
                );
            }
            Copied::Gone(key) => {
                tracing::info!(%key, attempt, "backup: an object was replaced meanwhile; copying the database again");
                gone_before = Some(key);
            }
        }
    }
    bail!("objects kept being replaced during the backup ({ATTEMPTS} attempts); try again")
}

#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    pub database: PathBuf,
    pub objects: usize,
    pub bytes: u64,
}

/// Restores the backup in `dir` into the SQLite database at `database_url`, which must not
/// exist yet, and into `store`, which must be empty; then brings the database's schema up to
/// this version. On any failure what was restored is removed again.
pub async fn restore(
    database_url: &str,
    store: &dyn ObjectStore,
    dir: &Path,
) -> anyhow::Result<RestoreReport> {
    let manifest = read_manifest(dir).await?;
    let database = crate::db::sqlite_file(database_url).context(
        "siaran restore writes a SQLite database (sqlite://PATH); PostgreSQL is restored with pg_restore",
    )?;
    if tokio::fs::try_exists(&database).await? {
        bail!(
            "{} exists: a backup is restored into a new database",
            database.display()
        );
    }
    if !store.list().await?.is_empty() {
        bail!("the store is not empty: a backup is restored into an empty one");
    }
    if let Some(parent) = database.parent().filter(|p| !p.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(parent).await?;
    }
    let mut restored = Vec::new();
    let result = async {
        // Inside the clean-up: a copy cut short (a full disk) is removed like the rest.
        tokio::fs::copy(dir.join(DATABASE), &database)
            .await
            .with_context(|| format!("cannot copy the database to {}", database.display()))?;
        let db = AnyDb::connect(database_url).await?;
        db.migrate().await?;
        db.close().await;
        let bytes = restore_objects(store, dir, &mut restored).await?;
        if restored.len() != manifest.objects {
            bail!(
                "the backup names {} objects but holds {}",
                manifest.objects,
                restored.len()
            );
        }
        Ok(bytes)
    }
    .await;
    match result {
        Ok(bytes) => Ok(RestoreReport {
            database,
            objects: restored.len(),
            bytes,
        }),
        Err(e) => {
            for key in &restored {
                let _ = store.delete(key).await;
            }
            for suffix in ["", "-wal", "-shm"] {
                let mut path = database.clone().into_os_string();
                path.push(suffix);
                let _ = tokio::fs::remove_file(path).await;
            }
            Err(e)
        }
    }
}

async fn read_manifest(dir: &Path) -> anyhow::Result<Manifest> {
    let path = dir.join(MANIFEST);
    let bytes = tokio::fs::read(&path)
        .await
        .with_context(|| format!("{} is not a Siaran backup (no {MANIFEST})", dir.display()))?;
    let manifest: Manifest = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a Siaran backup manifest", path.display()))?;
    if manifest.format != FORMAT {
        bail!(
            "{} is a backup of format {}, this version reads format {FORMAT}",
            dir.display(),
            manifest.format
        );
    }
    Ok(manifest)
}

/// Puts every object of the backup into `store`, noting each key in `restored` as it goes.
async fn restore_objects(
    store: &dyn ObjectStore,
    dir: &Path,
    restored: &mut Vec<ObjectKey>,
) -> anyhow::Result<u64> {
    let root = dir.join(OBJECTS);
    let mut pending = vec![root.clone()];
    let mut bytes = 0;
    while let Some(folder) = pending.pop() {
        let mut entries = match tokio::fs::read_dir(&folder).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && folder == root => break,
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", folder.display())),
        };
        while let Some(entry) = entries.next_entry().await? {
            let path = entry.path();
            if entry.file_type().await?.is_dir() {
                pending.push(path);
                continue;
            }
            let key = path
                .strip_prefix(&root)
                .ok()
                .and_then(|k| k.to_str())
                .with_context(|| format!("{} is not an object key", path.display()))?;
            let key = ObjectKey::from_stored(key.replace(std::path::MAIN_SEPARATOR, "/"));
            // Copied, not linked into a file store: the backup stays a copy of its own.
            bytes +=
                crate::storage::put_file_streaming(store, &key, "application/octet-stream", &path)
                    .await
                    .with_context(|| format!("cannot restore {}", key.as_str()))?;
            restored.push(key);
        }
    }
    Ok(bytes)
}

enum Copied {
    All(u64),
    /// This key was no longer in the store.
    Gone(String),
}

async fn copy_objects(
    store: &dyn ObjectStore,
    keys: &[String],
    root: &Path,
) -> anyhow::Result<Copied> {
    let mut bytes = 0;
    for key in keys {
        let object = ObjectKey::from_stored(key.clone());
        let mut body = match store.get(&object, None).await {
            Ok(body) => body,
            Err(StoreError::NotFound(_)) => return Ok(Copied::Gone(key.clone())),
            Err(e) => return Err(e).with_context(|| format!("cannot read {key}")),
        };
        let path = root.join(key);
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let mut file = tokio::fs::File::create(&path)
            .await
            .with_context(|| format!("cannot write {}", path.display()))?;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.with_context(|| format!("cannot read {key}"))?;
            bytes += chunk.len() as u64;
            file.write_all(&chunk).await?;
        }
        file.sync_all().await?;
    }
    Ok(Copied::All(bytes))
}

/// The keys the copied database's rows own.
async fn owned_keys(database: &Path) -> anyhow::Result<Vec<String>> {
    let url = format!("sqlite://{}", database.display());
    let copy = AnyDb::connect(&url).await?;
    let keys = copy
        .owned_object_keys()
        .await
        .map_err(|e: DbError| anyhow::anyhow!(e))
        .context("cannot read the copied database")?;
    copy.close().await;
    Ok(keys)
}

async fn ensure_empty(dir: &Path) -> anyhow::Result<()> {
    match tokio::fs::read_dir(dir).await {
        Ok(mut entries) => {
            if entries.next_entry().await?.is_some() {
                bail!(
                    "{} is not empty: a backup goes into a new or empty folder",
                    dir.display()
                );
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => tokio::fs::create_dir_all(dir)
            .await
            .with_context(|| format!("cannot create {}", dir.display())),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.display())),
    }
}

/// Removes what an earlier attempt wrote.
async fn clear(dir: &Path) -> anyhow::Result<()> {
    for name in [DATABASE, MANIFEST] {
        match tokio::fs::remove_file(dir.join(name)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    match tokio::fs::remove_dir_all(dir.join(OBJECTS)).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}
