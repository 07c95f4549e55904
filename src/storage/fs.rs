//! Filesystem object store: each object is one file under a root folder, at the path its key
//! names.
//!
//! Writes go to a temporary file in the target's folder and are renamed into place without
//! replacing anything, so a reader never sees a partial file and an existing object is never
//! overwritten. This module owns only the files under `root`; it never follows a key outside it.

use std::{
    io,
    os::unix::fs::FileExt as _,
    path::{Path, PathBuf},
    sync::{
        Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use chrono::{DateTime, Utc};

use super::{
    ByteRange, ByteStream, Listed, ObjectKey, ObjectMeta, ObjectStore, StoreError, Unfinished,
};

/// The reads behind a `get` stream double from `FIRST_CHUNK` to `MAX_CHUNK`. Large reads make a
/// long stream cheap: few `read`s and `writev`s and few trips to the blocking pool (with 64 KiB
/// reads Siaran spent about three times nginx's CPU per byte served, and stayed at 0.6 of its
/// throughput). The first reads stay small: the first byte leaves sooner, and hyper takes
/// chunks until it holds about 400 KiB, all of which the download counter sees as sent:
/// 64 + 128 + 256 KiB is what seven 64 KiB reads were. The largest is what a stream holds in
/// memory at most besides hyper's buffer: with 100 streams, 1 MiB reads took the peak RSS from
/// 75 to 127 MiB for no measurable gain over 512 KiB.
const FIRST_CHUNK: usize = 64 * 1024;
const MAX_CHUNK: usize = 512 * 1024;

/// Read buffers kept for reuse once the chunk they hold has been sent. Safe code can only read
/// into initialised memory, and a fresh buffer is zeroed by the kernel page by page, which cost
/// about a tenth of the CPU per request; reused, it costs nothing. At most this many idle ones
/// (of `MAX_CHUNK` bytes) are kept.
const POOLED_BUFFERS: usize = 32;
static BUFFERS: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// A chunk read into a pooled buffer: the buffer goes back to the pool when hyper drops the
/// chunk.
struct PooledChunk {
    buf: Vec<u8>,
    len: usize,
}

impl AsRef<[u8]> for PooledChunk {
    fn as_ref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Drop for PooledChunk {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        if let Ok(mut pool) = BUFFERS.lock()
            && pool.len() < POOLED_BUFFERS
        {
            pool.push(buf);
        }
    }
}

/// Whether `preadv2` with `RWF_NOWAIT` works here (Linux 4.14 and later, on most local
/// filesystems); cleared for good by the first answer that says it is not supported.
static NOWAIT_WORKS: AtomicBool = AtomicBool::new(true);

/// Whether `openat2` with `RESOLVE_CACHED` works here (Linux 5.12 and later).
static CACHED_OPEN_WORKS: AtomicBool = AtomicBool::new(true);

/// `path` opened for reading if the kernel can do so from its caches alone (`RESOLVE_CACHED`:
/// every component of the path in the dentry cache), which cannot wait for the disk; `None`
/// otherwise, whatever the reason, and the caller opens it on the blocking pool (where a
/// missing file is reported).
fn open_cached(path: &Path) -> Option<std::fs::File> {
    use rustix::fs::{Mode, OFlags, ResolveFlags};
    if !CACHED_OPEN_WORKS.load(Ordering::Relaxed) {
        return None;
    }
    match rustix::fs::openat2(
        rustix::fs::CWD,
        path,
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::CACHED,
    ) {
        Ok(fd) => Some(std::fs::File::from(fd)),
        Err(rustix::io::Errno::NOSYS | rustix::io::Errno::INVAL) => {
            CACHED_OPEN_WORKS.store(false, Ordering::Relaxed);
            None
        }
        Err(_) => None,
    }
}

/// An open file read from `offset`, `left` bytes to go.
struct ChunkReader {
    file: std::fs::File,
    path: PathBuf,
    offset: u64,
    left: u64,
    next: usize,
}

impl ChunkReader {
    /// A reader of `range` of the open `file` (all of it for `None`), checked against its size.
    fn new(
        file: std::fs::File,
        path: PathBuf,
        name: &str,
        range: Option<ByteRange>,
    ) -> Result<ChunkReader, StoreError> {
        let size = file
            .metadata()
            .map_err(|e| io_context("stat", &path, &e))?
            .len();
        let (offset, left) = match range {
            None => (0, size),
            // A range past the end would silently produce a short body under a 206 status.
            Some(r) if r.end >= size => {
                return Err(StoreError::Backend(format!(
                    "range {}-{} is beyond the end of {name} ({size} bytes)",
                    r.start, r.end
                )));
            }
            Some(r) => (r.start, r.len()),
        };
        Ok(ChunkReader {
            file,
            path,
            offset,
            left,
            next: FIRST_CHUNK,
        })
    }

    /// How much the next chunk asks for.
    fn want(&self) -> usize {
        usize::try_from(self.left).map_or(self.next, |left| left.min(self.next))
    }

    fn buffer() -> PooledChunk {
        let buf = BUFFERS
            .lock()
            .ok()
            .and_then(|mut pool| pool.pop())
            .unwrap_or_else(|| vec![0; MAX_CHUNK]);
        PooledChunk { buf, len: 0 }
    }

    fn advance(&mut self, chunk: PooledChunk) -> Bytes {
        self.offset += chunk.len as u64;
        self.left -= chunk.len as u64;
        self.next = (self.next * 2).min(MAX_CHUNK);
        Bytes::from_owner(chunk)
    }

    /// The next chunk: one read into a pooled buffer, which is what goes out (no copy). May
    /// wait for the disk: only on the blocking pool.
    fn read_chunk(&mut self) -> io::Result<Bytes> {
        let want = self.want();
        let mut chunk = Self::buffer();
        // A file shorter than its size said (cut behind our back) ends the body with an error,
        // never with a short body under the promised Content-Length.
        self.file
            .read_exact_at(&mut chunk.buf[..want], self.offset)
            .map_err(|e| io::Error::new(e.kind(), format!("read {}: {e}", self.path.display())))?;
        chunk.len = want;
        Ok(self.advance(chunk))
    }

    /// The next chunk, or its start, if the page cache holds it: read where it is asked for
    /// (an async worker) with `RWF_NOWAIT`, which answers `EAGAIN` rather than wait for the
    /// disk. `None` when the bytes are not in memory; then `read_chunk` reads them on the
    /// blocking pool. Each trip there cost two thread switches; with four or five of them for a
    /// 1 MiB range, `finish_task_switch` alone was 14% of Siaran's samples, 4% after this
    /// change, against 31% for copying the bytes (`perf record` under the range load of
    /// `scripts/bench-delivery`).
    fn read_cached(&mut self) -> Option<Bytes> {
        if !NOWAIT_WORKS.load(Ordering::Relaxed) {
            return None;
        }
        let want = self.want();
        let mut chunk = Self::buffer();
        let read = rustix::io::preadv2(
            &self.file,
            &mut [io::IoSliceMut::new(&mut chunk.buf[..want])],
            self.offset,
            rustix::io::ReadWriteFlags::NOWAIT,
        );
        match read {
            Ok(n) if n > 0 => {
                chunk.len = n;
                Some(self.advance(chunk))
            }
            // Nothing cached, or the end came early: `read_chunk` waits, or says what is wrong.
            Ok(_) | Err(rustix::io::Errno::AGAIN) => None,
            Err(
                rustix::io::Errno::OPNOTSUPP | rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS,
            ) => {
                NOWAIT_WORKS.store(false, Ordering::Relaxed);
                None
            }
            Err(_) => None,
        }
    }
}

/// Temporary files start with a dot and end in `.part`, a name `ObjectKey` never generates.
const TEMP_PREFIX: &str = ".tmp-";
const TEMP_SUFFIX: &str = ".part";

#[derive(Debug, Clone)]
pub struct FsStore {
    root: PathBuf,
}

impl FsStore {
    /// Opens (creating if needed) the store at `root` and checks that it is writable, so a
    /// misconfigured folder fails at startup rather than on the first upload.
    pub async fn open(root: PathBuf) -> Result<FsStore, StoreError> {
        tokio::fs::create_dir_all(&root).await.map_err(|e| {
            StoreError::Backend(format!(
                "cannot create storage folder {}: {e}",
                root.display()
            ))
        })?;
        let store = FsStore { root };
        store.check().await?;
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file behind `key`. Keys are generated by `ObjectKey`, but a key read back from a
    /// tampered database must still not reach outside the root.
    fn path_of(&self, key: &ObjectKey) -> Result<PathBuf, StoreError> {
        let k = key.as_str();
        // Segment by segment: `Path::components` would quietly drop `a/./b`'s dot and accept it,
        // letting two keys name one file.
        let safe = !k.contains("..")
            && k.split('/')
                .all(|segment| !segment.is_empty() && segment != ".");
        if !safe {
            return Err(StoreError::Backend(format!("invalid object key: {k:?}")));
        }
        Ok(self.root.join(k))
    }

    /// The file a new object at `key` goes to, and its folder, created if missing.
    async fn target_of(&self, key: &ObjectKey) -> Result<(PathBuf, PathBuf), StoreError> {
        let path = self.path_of(key)?;
        let dir = path
            .parent()
            .ok_or_else(|| StoreError::Backend(format!("invalid object key: {key}")))?
            .to_path_buf();
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| io_context("create folder", &dir, &e))?;
        Ok((path, dir))
    }
}

/// `.tmp-NAME.` for a target file `NAME`: `tempfile` adds six random characters and `.part`.
fn temp_prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{TEMP_PREFIX}{name}.")
}

/// The target file name a temporary file was written for, if its name says so.
fn temp_target(file_name: &str) -> Option<&str> {
    let middle = file_name
        .strip_prefix(TEMP_PREFIX)?
        .strip_suffix(TEMP_SUFFIX)?;
    let (name, _random) = middle.rsplit_once('.')?;
    (!name.is_empty()).then_some(name)
}

/// Every file under `root` below folders and names that do not start with a dot (the spool,
/// temporary files), as (path relative to root with `/`, modification time); with
/// `hidden_files`, the dot-files in those folders instead.
fn walk(root: &Path, hidden_files: bool) -> io::Result<Vec<(String, DateTime<Utc>)>> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            // Removed since it was listed (an emptied folder): nothing to report.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry.file_type()?;
            let child = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            if kind.is_dir() {
                if !name.starts_with('.') {
                    stack.push((entry.path(), child));
                }
            } else if kind.is_file() && name.starts_with('.') == hidden_files {
                let modified = match entry.metadata().and_then(|m| m.modified()) {
                    Ok(t) => DateTime::<Utc>::from(t),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                };
                out.push((child, modified));
            }
        }
    }
    Ok(out)
}

/// Adds the operation and path to an I/O error: a bare "Permission denied" in a log says nothing.
fn io_context(op: &str, path: &Path, err: &io::Error) -> StoreError {
    StoreError::Io(io::Error::new(
        err.kind(),
        format!("{op} {}: {err}", path.display()),
    ))
}

fn blocking_join_error(err: &tokio::task::JoinError) -> StoreError {
    StoreError::Io(io::Error::other(format!(
        "blocking file task failed: {err}"
    )))
}

#[async_trait::async_trait]
impl ObjectStore for FsStore {
    #[tracing::instrument(skip_all, fields(root = %self.root.display()))]
    async fn check(&self) -> Result<(), StoreError> {
        let meta = tokio::fs::metadata(&self.root).await.map_err(|e| {
            StoreError::Backend(format!(
                "storage folder {} is not usable: {e}",
                self.root.display()
            ))
        })?;
        if !meta.is_dir() {
            return Err(StoreError::Backend(format!(
                "storage path {} is not a folder",
                self.root.display()
            )));
        }
        // Permission bits do not tell the whole story (read-only mounts, ACLs, root): only a
        // real write does.
        let probe = self
            .root
            .join(format!(".check-{}{TEMP_SUFFIX}", uuid::Uuid::new_v4()));
        tokio::fs::write(&probe, b"").await.map_err(|e| {
            StoreError::Backend(format!(
                "storage folder {} is not writable: {e}",
                self.root.display()
            ))
        })?;
        tokio::fs::remove_file(&probe)
            .await
            .map_err(|e| io_context("remove probe file", &probe, &e))?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(key = %key))]
    async fn put(
        &self,
        key: &ObjectKey,
        _content_type: &str,
        mut body: ByteStream,
    ) -> Result<u64, StoreError> {
        let (path, dir) = self.target_of(key).await?;

        // Same folder as the target so the final rename stays on one filesystem (atomic).
        // `NamedTempFile` deletes the file when dropped: every early return below, and a
        // cancelled upload (the future dropped mid-stream), leaves nothing behind.
        let temp = {
            let dir = dir.clone();
            let path = path.clone();
            tokio::task::spawn_blocking(move || {
                // The target's name is in the temporary one, so that a write cut by a crash
                // can be told apart from one in progress (see `unfinished`).
                tempfile::Builder::new()
                    .prefix(&temp_prefix(&path))
                    .suffix(TEMP_SUFFIX)
                    .tempfile_in(&dir)
                    .map_err(|e| io_context("create temporary file in", &dir, &e))
            })
            .await
            .map_err(|e| blocking_join_error(&e))??
        };
        let handle = temp
            .as_file()
            .try_clone()
            .map_err(|e| io_context("open", temp.path(), &e))?;
        let mut file = tokio::fs::File::from_std(handle);

        let mut written: u64 = 0;
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            file.write_all(&chunk)
                .await
                .map_err(|e| io_context("write", temp.path(), &e))?;
            written += chunk.len() as u64;
        }
        // tokio's File finishes writes in the background: flush before syncing, and sync before
        // the rename so a crash cannot leave a complete-looking name over incomplete data.
        file.flush()
            .await
            .map_err(|e| io_context("write", temp.path(), &e))?;
        file.sync_all()
            .await
            .map_err(|e| io_context("sync", temp.path(), &e))?;
        drop(file);

        let key_name = key.to_string();
        tokio::task::spawn_blocking(move || {
            // renameat2(RENAME_NOREPLACE), or hard-link + unlink where that is unsupported:
            // either fails if the name exists, with no window in which it could be replaced.
            temp.persist_noclobber(&path).map_err(|e| {
                // Dropping `e.file` removes the temporary file.
                if e.error.kind() == io::ErrorKind::AlreadyExists {
                    StoreError::AlreadyExists(key_name)
                } else {
                    io_context("rename into", &path, &e.error)
                }
            })?;
            // Makes the new name durable. The object is complete and in place by now, so a
            // failure here is reported in the log rather than as a failed put, which would
            // promise that nothing was stored.
            if let Err(e) = std::fs::File::open(&dir).and_then(|d| d.sync_all()) {
                tracing::warn!(dir = %dir.display(), error = %e, "could not sync folder after rename");
            }
            Ok::<(), StoreError>(())
        })
        .await
        .map_err(|e| blocking_join_error(&e))??;

        Ok(written)
    }

    /// Links the file in when it is on the same filesystem: the bytes are not written a second
    /// time. `hard_link` fails if the name exists, so nothing is ever replaced; any other
    /// failure (another filesystem, no hard links) falls back to copying through `put`.
    #[tracing::instrument(skip_all, fields(key = %key))]
    async fn put_file(
        &self,
        key: &ObjectKey,
        content_type: &str,
        src: &Path,
    ) -> Result<u64, StoreError> {
        let (path, dir) = self.target_of(key).await?;
        let source = src.to_path_buf();
        let linked = tokio::task::spawn_blocking(move || {
            // Synced before it gets its name, as `put` does before its rename.
            let file = std::fs::File::open(&source)?;
            file.sync_all()?;
            let len = file.metadata()?.len();
            std::fs::hard_link(&source, &path)?;
            if let Err(e) = std::fs::File::open(&dir).and_then(|d| d.sync_all()) {
                tracing::warn!(dir = %dir.display(), error = %e, "could not sync folder after link");
            }
            Ok::<u64, io::Error>(len)
        })
        .await
        .map_err(|e| blocking_join_error(&e))?;
        match linked {
            Ok(len) => Ok(len),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                Err(StoreError::AlreadyExists(key.to_string()))
            }
            Err(e) => {
                tracing::debug!(error = %e, "cannot link into the store; copying instead");
                super::put_file_streaming(self, key, content_type, src).await
            }
        }
    }

    #[tracing::instrument(skip_all, fields(key = %key))]
    async fn get(
        &self,
        key: &ObjectKey,
        range: Option<ByteRange>,
    ) -> Result<ByteStream, StoreError> {
        let path = self.path_of(key)?;
        let name = key.to_string();
        // When the kernel holds the path's lookup and the bytes in memory (a file being listened
        // to), the file is opened here and read by the stream, on the async worker, without a wait:
        // `open_cached` and `read_cached` answer "not in memory" rather than wait for the disk.
        // Otherwise one trip to the blocking pool opens the file, checks the range and reads the
        // first chunk, and later chunks that are not in memory are read there too. A slow
        // listener holds no thread in between.
        let (first, reader) = match open_cached(&path) {
            // The stream's first poll reads the first chunk (`read_cached`, else the pool).
            Some(file) => (None, ChunkReader::new(file, path, &name, range)?),
            None => tokio::task::spawn_blocking(move || {
                let file = std::fs::File::open(&path).map_err(|e| {
                    if e.kind() == io::ErrorKind::NotFound {
                        StoreError::NotFound(name.clone())
                    } else {
                        io_context("open", &path, &e)
                    }
                })?;
                let mut reader = ChunkReader::new(file, path, &name, range)?;
                let first = reader.read_chunk().map_err(StoreError::Io)?;
                Ok::<_, StoreError>((Some(first), reader))
            })
            .await
            .map_err(|e| blocking_join_error(&e))??,
        };

        let chunks =
            futures_util::stream::try_unfold((first, reader), |(first, mut reader)| async move {
                if let Some(chunk) = first.filter(|c| !c.is_empty()) {
                    return Ok(Some((chunk, (None, reader))));
                }
                if reader.left == 0 {
                    return Ok(None);
                }
                if let Some(chunk) = reader.read_cached() {
                    return Ok(Some((chunk, (None, reader))));
                }
                let (chunk, reader) = tokio::task::spawn_blocking(move || {
                    reader.read_chunk().map(|chunk| (chunk, reader))
                })
                .await
                .map_err(|e| io::Error::other(format!("blocking file task failed: {e}")))??;
                Ok(Some((chunk, (None, reader))))
            });
        Ok(Box::pin(chunks))
    }

    #[tracing::instrument(skip_all, fields(key = %key))]
    async fn head(&self, key: &ObjectKey) -> Result<ObjectMeta, StoreError> {
        let path = self.path_of(key)?;
        match tokio::fs::metadata(&path).await {
            Ok(meta) if meta.is_file() => Ok(ObjectMeta { size: meta.len() }),
            Ok(_) => Err(StoreError::NotFound(key.to_string())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(StoreError::NotFound(key.to_string()))
            }
            Err(e) => Err(io_context("stat", &path, &e)),
        }
    }

    #[tracing::instrument(skip_all, fields(key = %key))]
    async fn delete(&self, key: &ObjectKey) -> Result<(), StoreError> {
        let path = self.path_of(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_context("remove", &path, &e)),
        }
    }

    #[tracing::instrument(skip_all, fields(root = %self.root.display()))]
    async fn list(&self) -> Result<Vec<Listed>, StoreError> {
        let root = self.root.clone();
        let files = tokio::task::spawn_blocking(move || walk(&root, false))
            .await
            .map_err(|e| blocking_join_error(&e))?
            .map_err(|e| io_context("list", &self.root, &e))?;
        Ok(files
            .into_iter()
            .map(|(key, modified)| Listed {
                key: ObjectKey::from_stored(key),
                modified,
            })
            .collect())
    }

    #[tracing::instrument(skip_all, fields(root = %self.root.display()))]
    async fn unfinished(&self) -> Result<Vec<Unfinished>, StoreError> {
        let root = self.root.clone();
        let files = tokio::task::spawn_blocking(move || walk(&root, true))
            .await
            .map_err(|e| blocking_join_error(&e))?
            .map_err(|e| io_context("list", &self.root, &e))?;
        Ok(files
            .into_iter()
            .filter_map(|(rel, since)| {
                let (dir, name) = rel.rsplit_once('/').unwrap_or(("", &rel));
                if !(name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)) {
                    return None;
                }
                let key = temp_target(name).map(|target| {
                    ObjectKey::from_stored(if dir.is_empty() {
                        target.to_owned()
                    } else {
                        format!("{dir}/{target}")
                    })
                });
                Some(Unfinished {
                    key,
                    handle: rel,
                    since,
                })
            })
            .collect())
    }

    async fn abort(&self, unfinished: &Unfinished) -> Result<(), StoreError> {
        let rel = &unfinished.handle;
        let name = rel.rsplit('/').next().unwrap_or_default();
        // Only ever a temporary file of this store: the handle came from `unfinished`, but it
        // is checked as a key would be.
        if !(name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)) {
            return Err(StoreError::Backend(format!(
                "not a temporary file of the store: {rel:?}"
            )));
        }
        let path = self.path_of(&ObjectKey::from_stored(rel.clone()))?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_context("remove", &path, &e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use futures_util::{TryStreamExt, stream};

    use super::*;

    fn body(chunks: Vec<io::Result<Bytes>>) -> ByteStream {
        Box::pin(stream::iter(chunks))
    }

    fn key(s: &str) -> ObjectKey {
        ObjectKey::from_stored(s.to_owned())
    }

    async fn read_all(store: &FsStore, key: &ObjectKey, range: Option<ByteRange>) -> Vec<u8> {
        let chunks: Vec<Bytes> = store
            .get(key, range)
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        chunks.concat()
    }

    /// Every file under `dir`, relative, so a test can say exactly what was left behind.
    fn files_under(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(d) = pending.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    out.push(path.strip_prefix(dir).unwrap().display().to_string());
                }
            }
        }
        out.sort();
        out
    }

    async fn store() -> (tempfile::TempDir, FsStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = FsStore::open(dir.path().join("objects")).await.unwrap();
        (dir, store)
    }

    /// Bytes whose position can be told from their value, so an off-by-one range shows.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    /// Both ways of reading a chunk, in turns, give the range's bytes; a file cut short after
    /// it was opened ends in an error, never a short body.
    #[test]
    fn cached_and_blocking_reads_give_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("object");
        let data = pattern(3 * MAX_CHUNK + 12_345);
        std::fs::write(&path, &data).unwrap();
        let range = ByteRange {
            start: 1_000,
            end: data.len() as u64 - 2,
        };
        let file = match open_cached(&path) {
            Some(file) => file,
            None => {
                // Only a kernel without RESOLVE_CACHED may miss a file just written.
                assert!(!CACHED_OPEN_WORKS.load(Ordering::Relaxed));
                std::fs::File::open(&path).unwrap()
            }
        };
        let mut reader = ChunkReader::new(file, path.clone(), "object", Some(range)).unwrap();
        let mut read = Vec::new();
        let mut cached = 0;
        for turn in 0.. {
            if reader.left == 0 {
                break;
            }
            let chunk = if turn % 2 == 0 {
                reader.read_cached().inspect(|_| cached += 1)
            } else {
                None
            };
            let chunk = chunk.unwrap_or_else(|| reader.read_chunk().unwrap());
            read.extend_from_slice(&chunk);
        }
        assert_eq!(read, &data[1_000..data.len() - 1]);
        assert!(
            cached > 0 || !NOWAIT_WORKS.load(Ordering::Relaxed),
            "no chunk came from the page cache"
        );

        let file = std::fs::File::open(&path).unwrap();
        let mut reader = ChunkReader::new(file, path.clone(), "object", None).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(10)
            .unwrap();
        assert_eq!(&reader.read_cached().unwrap()[..], &data[..10]);
        assert!(reader.read_cached().is_none());
        let err = reader.read_chunk().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "{err}");
    }

    #[tokio::test]
    async fn put_then_get_whole_and_ranges() {
        let (_dir, store) = store().await;
        let data = pattern(1024 * 1024 + 7);
        let chunks = data
            .chunks(100_003)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let k = ObjectKey::for_media(uuid::Uuid::now_v7(), "mp3");

        let written = store.put(&k, "audio/mpeg", body(chunks)).await.unwrap();
        assert_eq!(written, data.len() as u64);
        assert_eq!(store.head(&k).await.unwrap().size, data.len() as u64);
        assert_eq!(read_all(&store, &k, None).await, data);

        let middle = ByteRange {
            start: 70_000,
            end: 200_000,
        };
        assert_eq!(
            read_all(&store, &k, Some(middle)).await,
            &data[70_000..=200_000]
        );
        let last = data.len() as u64 - 1;
        let tail = ByteRange {
            start: last - 9,
            end: last,
        };
        assert_eq!(
            read_all(&store, &k, Some(tail)).await,
            &data[data.len() - 10..]
        );
        let one = ByteRange { start: 0, end: 0 };
        assert_eq!(read_all(&store, &k, Some(one)).await, &data[..1]);

        let past_end = ByteRange {
            start: 10,
            end: last + 1,
        };
        assert!(matches!(
            store.get(&k, Some(past_end)).await,
            Err(StoreError::Backend(_))
        ));

        // Only the object itself: no temporary or probe file left over.
        assert_eq!(files_under(store.root()), vec![k.to_string()]);
    }

    #[tokio::test]
    async fn empty_object() {
        let (_dir, store) = store().await;
        let k = key("media/00/00/empty.bin");
        assert_eq!(store.put(&k, "x", body(vec![])).await.unwrap(), 0);
        assert_eq!(store.head(&k).await.unwrap().size, 0);
        assert!(read_all(&store, &k, None).await.is_empty());
    }

    #[tokio::test]
    async fn never_overwrites() {
        let (_dir, store) = store().await;
        let k = key("media/ab/cd/one.mp3");
        store
            .put(
                &k,
                "audio/mpeg",
                body(vec![Ok(Bytes::from_static(b"first"))]),
            )
            .await
            .unwrap();
        let second = store
            .put(
                &k,
                "audio/mpeg",
                body(vec![Ok(Bytes::from_static(b"second"))]),
            )
            .await;
        assert!(
            matches!(second, Err(StoreError::AlreadyExists(ref s)) if s == k.as_str()),
            "{second:?}"
        );
        assert_eq!(read_all(&store, &k, None).await, b"first");
        assert_eq!(files_under(store.root()), vec![k.to_string()]);
    }

    #[tokio::test]
    async fn stream_error_leaves_nothing() {
        let (_dir, store) = store().await;
        let k = key("media/ab/cd/broken.mp3");
        let chunks = vec![
            Ok(Bytes::from(vec![1u8; 300_000])),
            Ok(Bytes::from(vec![2u8; 300_000])),
            Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "client went away",
            )),
            Ok(Bytes::from_static(b"never read")),
        ];
        let err = store.put(&k, "audio/mpeg", body(chunks)).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Io(ref e) if e.kind() == io::ErrorKind::ConnectionReset),
            "{err:?}"
        );
        assert!(matches!(store.head(&k).await, Err(StoreError::NotFound(_))));
        assert_eq!(files_under(store.root()), Vec::<String>::new());
    }

    #[tokio::test]
    async fn cancelled_put_leaves_nothing() {
        let (_dir, store) = store().await;
        let k = key("media/ab/cd/cancelled.mp3");
        // A body that delivers one chunk and then never ends, like a stalled client.
        let stalled: ByteStream = Box::pin(
            stream::iter(vec![Ok(Bytes::from(vec![7u8; 100_000]))]).chain(stream::pending()),
        );
        let put = store.put(&k, "audio/mpeg", stalled);
        let timed_out = tokio::time::timeout(std::time::Duration::from_millis(200), put).await;
        assert!(timed_out.is_err());
        assert_eq!(files_under(store.root()), Vec::<String>::new());
    }

    #[tokio::test]
    async fn missing_objects() {
        let (_dir, store) = store().await;
        let k = key("media/00/11/missing.mp3");
        assert!(matches!(
            store.get(&k, None).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(store.head(&k).await, Err(StoreError::NotFound(_))));
        store.delete(&k).await.unwrap();
    }

    #[tokio::test]
    async fn a_cut_write_is_listed_as_unfinished_with_its_key() {
        let (_dir, store) = store().await;
        let k = key("media/12/34/whole.mp3");
        store
            .put(&k, "audio/mpeg", body(vec![Ok(Bytes::from_static(b"abc"))]))
            .await
            .unwrap();
        // What a process killed mid-`put` leaves: the temporary file, named for its target.
        let temp = store.root().join("media/12/34/.tmp-cut.mp3.Ab12Cd.part");
        std::fs::write(&temp, b"partial").unwrap();
        let listed: Vec<String> = store
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.key.to_string())
            .collect();
        assert_eq!(listed, ["media/12/34/whole.mp3"]);
        let unfinished = store.unfinished().await.unwrap();
        assert_eq!(unfinished.len(), 1);
        assert_eq!(
            unfinished[0].key,
            Some(key("media/12/34/cut.mp3")),
            "{unfinished:?}"
        );
        store.abort(&unfinished[0]).await.unwrap();
        assert!(!temp.exists());
        assert!(store.unfinished().await.unwrap().is_empty());
        // Only temporary files can be aborted.
        let fake = Unfinished {
            key: None,
            handle: "media/12/34/whole.mp3".into(),
            since: Utc::now(),
        };
        assert!(store.abort(&fake).await.is_err());
        assert_eq!(temp_target(".tmp-a.b.mp3.XyZ123.part"), Some("a.b.mp3"));
        assert_eq!(temp_target(".tmp-XyZ123.part"), None);
    }

    #[tokio::test]
    async fn delete_removes() {
        let (_dir, store) = store().await;
        let k = key("media/12/34/gone.mp3");
        store
            .put(&k, "audio/mpeg", body(vec![Ok(Bytes::from_static(b"abc"))]))
            .await
            .unwrap();
        // A folder is not an object.
        assert!(matches!(
            store.head(&key("media/12")).await,
            Err(StoreError::NotFound(_))
        ));
        store.delete(&k).await.unwrap();
        assert!(matches!(store.head(&k).await, Err(StoreError::NotFound(_))));
        store.delete(&k).await.unwrap();
    }

    #[tokio::test]
    async fn rejects_keys_outside_root() {
        let (dir, store) = store().await;
        for bad in [
            "../escape",
            "media/../../escape",
            "/etc/passwd",
            "",
            "./x",
            "a/./b",
            "a//b",
            "a/",
        ] {
            let k = key(bad);
            let put = store
                .put(&k, "x", body(vec![Ok(Bytes::from_static(b"x"))]))
                .await;
            assert!(matches!(put, Err(StoreError::Backend(_))), "{bad}: {put:?}");
            assert!(matches!(
                store.get(&k, None).await,
                Err(StoreError::Backend(_))
            ));
            assert!(matches!(store.head(&k).await, Err(StoreError::Backend(_))));
            assert!(matches!(
                store.delete(&k).await,
                Err(StoreError::Backend(_))
            ));
        }
        assert!(!dir.path().join("escape").exists());
    }

    #[tokio::test]
    async fn open_creates_and_checks() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("a/b/c");
        let store = FsStore::open(root.clone()).await.unwrap();
        assert!(root.is_dir());
        store.check().await.unwrap();

        // A file where the folder should be.
        let file = dir.path().join("file");
        std::fs::write(&file, b"").unwrap();
        let err = FsStore::open(file).await.unwrap_err();
        assert!(matches!(err, StoreError::Backend(_)), "{err:?}");

        // Root ignores permission bits, so only test unwritable folders as another user.
        let ro = dir.path().join("ro");
        std::fs::create_dir(&ro).unwrap();
        let mut perms = std::fs::metadata(&ro).unwrap().permissions();
        perms.set_readonly(true);
        std::fs::set_permissions(&ro, perms.clone()).unwrap();
        if std::fs::write(ro.join("probe"), b"").is_err() {
            let err = FsStore::open(ro.clone()).await.unwrap_err();
            assert!(err.to_string().contains("not writable"), "{err}");
        }
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        std::fs::set_permissions(&ro, perms).unwrap();
    }

    #[tokio::test]
    async fn put_file_links_on_the_same_filesystem_and_never_overwrites() {
        use std::os::unix::fs::MetadataExt as _;
        let (dir, store) = store().await;
        let src = dir.path().join("upload");
        std::fs::write(&src, pattern(100_000)).unwrap();
        let k = key("media/aa/bb/linked.mp3");
        assert_eq!(
            store.put_file(&k, "audio/mpeg", &src).await.unwrap(),
            100_000
        );
        assert_eq!(read_all(&store, &k, None).await, pattern(100_000));
        // The same inode: the bytes were not written twice.
        let stored = store.root().join(k.as_str());
        assert_eq!(
            std::fs::metadata(&stored).unwrap().ino(),
            std::fs::metadata(&src).unwrap().ino()
        );
        std::fs::write(dir.path().join("other"), b"other").unwrap();
        let again = store
            .put_file(&k, "audio/mpeg", &dir.path().join("other"))
            .await;
        assert!(
            matches!(again, Err(StoreError::AlreadyExists(_))),
            "{again:?}"
        );
        assert_eq!(read_all(&store, &k, None).await, pattern(100_000));
        // The object outlives the upload's own name.
        std::fs::remove_file(&src).unwrap();
        assert_eq!(read_all(&store, &k, None).await, pattern(100_000));
    }

    /// From another filesystem (tmpfs here) a link is impossible: the file is copied.
    #[tokio::test]
    async fn put_file_copies_across_filesystems() {
        let shm = Path::new("/dev/shm");
        let other =
            tempfile::tempdir_in(if shm.is_dir() { shm } else { Path::new("/tmp") }).unwrap();
        let src = other.path().join("upload");
        std::fs::write(&src, pattern(70_000)).unwrap();
        let (_dir, store) = store().await;
        let k = key("media/aa/bb/copied.mp3");
        assert_eq!(
            store.put_file(&k, "audio/mpeg", &src).await.unwrap(),
            70_000
        );
        assert_eq!(read_all(&store, &k, None).await, pattern(70_000));
        assert_eq!(files_under(store.root()), vec![k.to_string()]);
    }
}
