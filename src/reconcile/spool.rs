//! Spool folders per process. Each process spools into `BASE/siaran-ID/` and holds an exclusive
//! lock (`flock`) on that folder for as long as it lives; the kernel releases the lock when the
//! process dies, however it dies. A folder whose lock can be taken therefore belongs to a dead
//! process, and its files (uploads cut by the crash) can go. Processes on one machine may share
//! BASE; the spool is local, so no other machine's process spools there.

use std::{
    fs::{File, TryLockError},
    io,
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, SystemTime},
};

/// Where uploads wait while they are hashed and probed.
#[derive(Debug, Clone)]
pub struct Spool {
    dir: PathBuf,
}

impl Spool {
    pub fn new(dir: Option<PathBuf>) -> Self {
        Spool {
            dir: dir.unwrap_or_else(std::env::temp_dir),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// A process's folder is `siaran-spool-` and 32 hex digits; nothing else in BASE is touched
/// (BASE may be the system's temporary folder, shared with anything).
const PREFIX: &str = "siaran-spool-";
/// Spool files of versions before per-process folders (the prefixes `ingest` and `uploads`
/// give them), removed once this old.
const LOOSE_PREFIXES: [&str; 2] = ["siaran-upload-", "siaran-chunk-"];
const LOOSE_FILE_AGE: Duration = Duration::from_secs(24 * 3600);

/// Whether `name` is a process's spool folder's name.
fn is_process_folder(name: &str) -> bool {
    name.strip_prefix(PREFIX)
        .is_some_and(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// This process's spool folder and the lock that marks it alive.
#[derive(Debug, Clone)]
pub struct ProcessSpool {
    pub base: PathBuf,
    pub spool: Spool,
    _lock: Arc<File>,
}

impl ProcessSpool {
    /// Creates and locks `BASE/siaran-ID/`.
    pub fn create(base: PathBuf) -> io::Result<ProcessSpool> {
        let dir = base.join(format!("{PREFIX}{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| io::Error::new(e.kind(), format!("create {}: {e}", dir.display())))?;
        let lock = File::open(&dir)?;
        lock.try_lock()
            .map_err(|e| io::Error::other(format!("lock spool folder {}: {e}", dir.display())))?;
        Ok(ProcessSpool {
            base,
            spool: Spool::new(Some(dir)),
            _lock: Arc::new(lock),
        })
    }
}

/// Removes the spool folders of dead processes under `base` (and loose spool files older than
/// a day); returns the folders removed.
pub async fn remove_dead(base: &Path) -> Vec<String> {
    let base = base.to_path_buf();
    tokio::task::spawn_blocking(move || remove_dead_blocking(&base))
        .await
        .unwrap_or_default()
}

fn remove_dead_blocking(base: &Path) -> Vec<String> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(base) else {
        return removed;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && is_process_folder(&name) {
            let Ok(dir) = File::open(&path) else { continue };
            match dir.try_lock() {
                Ok(()) => {
                    // Its process is gone; the lock held here keeps a second reconciler from
                    // racing this one.
                    match std::fs::remove_dir_all(&path) {
                        Ok(()) => removed.push(path.display().to_string()),
                        Err(e) => {
                            tracing::warn!(dir = %path.display(), error = %e, "could not remove a dead spool folder");
                        }
                    }
                }
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => {
                    tracing::warn!(dir = %path.display(), error = %e, "could not lock a spool folder");
                }
            }
        } else if kind.is_file() && LOOSE_PREFIXES.iter().any(|p| name.starts_with(p)) {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|age| age > LOOSE_FILE_AGE);
            if old && std::fs::remove_file(&path).is_ok() {
                removed.push(path.display().to_string());
            }
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_live_process_keeps_its_folder_a_dead_one_loses_it() {
        let base = tempfile::tempdir().unwrap();
        let live = ProcessSpool::create(base.path().to_path_buf()).unwrap();
        std::fs::write(live.spool.dir().join("siaran-upload-x"), b"x").unwrap();
        // A folder nobody holds, as a killed process leaves it.
        let dead = base
            .path()
            .join("siaran-spool-0000000000000000000000000000dead");
        std::fs::create_dir(&dead).unwrap();
        std::fs::write(dead.join("siaran-upload-y"), b"y").unwrap();
        // Other things in a shared folder are never touched, even with a similar name.
        let others = ["siaran-garage", "siaran-spool-x", "siaran-spool-0000"];
        for other in others {
            std::fs::create_dir(base.path().join(other)).unwrap();
        }
        std::fs::write(base.path().join("siaran-notes.txt"), b"keep").unwrap();

        let removed = remove_dead(base.path()).await;
        assert_eq!(removed, [dead.display().to_string()]);
        assert!(!dead.exists());
        for other in others {
            assert!(base.path().join(other).exists(), "{other}");
        }
        assert!(base.path().join("siaran-notes.txt").exists());
        assert!(live.spool.dir().join("siaran-upload-x").exists());

        // Once the process lets go, its folder is dead too.
        let dir = live.spool.dir().to_path_buf();
        drop(live);
        assert_eq!(remove_dead(base.path()).await, [dir.display().to_string()]);
    }
}
