//! Signed publication records (issue 25): every publication, and every later change of a
//! published episode, appended to the transparency log (`domain::publication`), signed with this
//! instance's key (`Keys`, shared by every instance).
//!
//! The operations that publish or change an episode call `record` after their change is stored
//! (`episodes`, `episode_files`, `documents`); scheduled episodes, whose publication is the
//! clock's doing rather than an operation's, are recorded by `record_due`, which every serving
//! instance runs (`app::serve`). `record` compares what it would say with the episode's last
//! record and appends only a difference, so calling it again, from anywhere, is harmless.
//!
//! Appending is safe with several instances: each entry claims `seq = head + 1` and names the
//! head's hash; the table's unique constraints let one of two racing inserts win, and the other
//! builds its record again on the new head.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, SubsecRound as _, Utc};

use super::{Ctx, Error};
use crate::{
    db::DbError,
    domain::{
        DocumentId, EpisodeFileKind, EpisodeId, EpisodeStatus,
        publication::{
            Entry, Event, FORMAT, FileEntry, KeySet, PublicKey, RECORD_TYPE, Record,
            SigningIdentity, time,
        },
    },
};

/// The file `siaran serve` creates its key in when none is configured.
pub const DEFAULT_KEY_FILE: &str = "signing-key.pem";

/// How many times an append is built again after losing a race.
const APPEND_ATTEMPTS: u32 = 20;

/// The key this instance signs with and the retired public keys still listed.
#[derive(Debug, Clone)]
pub struct Keys {
    pub signer: SigningIdentity,
    /// From `SIARAN_SIGNING_KEYS_RETIRED`: a key set whose keys carry their validity periods.
    pub retired: Vec<PublicKey>,
    /// This instance's appends, one at a time: they would only lose races to each other.
    /// Instances still race, which the database settles.
    append: Arc<tokio::sync::Mutex<()>>,
}

impl Keys {
    /// `key`: `SIARAN_SIGNING_KEY`, a PKCS#8 file that must exist; without it, the key in
    /// `data_dir`, created there (and said so in the log) the first time. `retired`:
    /// `SIARAN_SIGNING_KEYS_RETIRED`.
    pub fn load(
        key: Option<&Path>,
        data_dir: &Path,
        retired: Option<&Path>,
    ) -> anyhow::Result<Keys> {
        let signer = match key {
            Some(path) => read_key(path)?,
            None => {
                let path = data_dir.join(DEFAULT_KEY_FILE);
                if path.exists() {
                    read_key(&path)?
                } else {
                    let key = SigningIdentity::generate();
                    write_key(&path, &key)?;
                    // At info: `serve` logs it; a one-shot command keeps its one line of stderr.
                    tracing::info!(path = %path.display(), key = key.id(),
                        "no SIARAN_SIGNING_KEY: generated a signing key for publication records; \
                         give every instance the same key (docs/transparency.md)");
                    key
                }
            }
        };
        let retired = match retired {
            Some(path) => {
                let bytes = std::fs::read(path)
                    .with_context(|| format!("cannot read retired keys {}", path.display()))?;
                KeySet::parse(&bytes)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
                    .keys
                    .into_iter()
                    .filter(|k| k.id != signer.id())
                    .collect()
            }
            None => Vec::new(),
        };
        tracing::info!(
            key = signer.id(),
            retired = retired.len(),
            "signing key loaded"
        );
        Ok(Keys {
            signer,
            retired,
            append: Arc::default(),
        })
    }

    /// A fresh key in memory only (tests, benchmarks).
    pub fn ephemeral() -> Keys {
        Keys {
            signer: SigningIdentity::generate(),
            retired: Vec::new(),
            append: Arc::default(),
        }
    }
}

fn read_key(path: &Path) -> anyhow::Result<SigningIdentity> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read signing key {}", path.display()))?;
    SigningIdentity::from_pkcs8(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Writes `key` as PKCS#8 PEM to a new file readable by its owner only; never overwrites.
pub fn write_key(path: &Path, key: &SigningIdentity) -> anyhow::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist)", path.display()))?;
    file.write_all(key.to_pkcs8_pem().as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// The key set `/.well-known/siaran-keys.json` serves: the current key, valid from its first
/// record, and the retired ones with their periods.
pub async fn key_set(ctx: &Ctx) -> Result<KeySet, Error> {
    let mut current = PublicKey::of(&ctx.keys.signer.public());
    current.valid_from = ctx.db.key_first_used(ctx.keys.signer.id()).await?.map(time);
    let mut keys = vec![current];
    keys.extend(ctx.keys.retired.iter().cloned());
    Ok(KeySet { keys })
}

/// Records the episode's state in the log if it is published (or was, and is withdrawn or
/// unpublished now) and differs from its last record. A failure is logged, not answered: the
/// change it follows is already stored.
pub async fn record(ctx: &Ctx, episode: EpisodeId) {
    if let Err(e) = try_record(ctx, episode).await {
        tracing::error!(error = %e, %episode, "publication record not appended");
    }
}

/// `record` for every published episode citing `document` (its file changed).
pub async fn record_citing(ctx: &Ctx, document: DocumentId) {
    match ctx.db.document_citations(document).await {
        Ok(citations) => {
            for c in citations {
                record(ctx, c.episode.id).await;
            }
        }
        Err(e) => tracing::error!(error = %e, %document, "citing episodes not recorded"),
    }
}

/// The entry appended, if the episode's state called for one.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn try_record(ctx: &Ctx, id: EpisodeId) -> Result<Option<Entry>, Error> {
    let _one_at_a_time = ctx.keys.append.lock().await;
    let mut appended = None;
    for attempt in 0..APPEND_ATTEMPTS {
        let Some(record) = build(ctx, id).await? else {
            return Ok(appended);
        };
        let entry = ctx.keys.signer.entry(record);
        match ctx.db.append_log(&entry).await {
            Ok(()) => {
                tracing::info!(seq = entry.seq, event = %entry.record.event, "publication recorded");
                // Another instance may have changed the episode while this record was made
                // from what it read before (and found nothing to record itself): build again,
                // until the log's last word on the episode is what the episode is.
                appended = Some(entry);
            }
            Err(DbError::Conflict(_)) => {
                // Another instance appended first: build again on its entry.
                let pause = rand::random_range(1..=10u64 * u64::from(attempt + 1));
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(anyhow::anyhow!("the log kept moving: no place after {APPEND_ATTEMPTS} attempts").into())
}

/// The record the episode's current state calls for, placed after the log's head.
async fn build(ctx: &Ctx, id: EpisodeId) -> Result<Option<Record>, Error> {
    let episode = match ctx.db.episode(id).await {
        Ok(e) => e,
        Err(DbError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let now = Utc::now().trunc_subsecs(3);
    let last = ctx.db.last_record(id).await?;
    let state = match episode.status(now) {
        EpisodeStatus::Published => "published",
        EpisodeStatus::Withdrawn => "withdrawn",
        _ => "unpublished",
    };
    let event = match (&last, state) {
        (None, "published") => Event::Published,
        // Never published: nothing to record.
        (None, _) => return Ok(None),
        (Some(_), "withdrawn") => Event::Withdrawn,
        (Some(l), "published") if l.record.state != "published" => Event::Restored,
        (Some(_), "published") => Event::Changed,
        (Some(_), _) => Event::Withdrawn,
    };
    let show = ctx.db.show(episode.show_id).await?;
    let files = files_of(ctx, &episode).await?;
    let head = ctx.db.log_head().await?;
    // Never before the head's time, whatever this instance's clock says: the log reads in time
    // order, and a verifier refuses a record dated before the one it follows.
    let at = head.as_ref().map_or(now, |h| h.at.max(now));
    let (seq, prev) = head.map_or((0, String::new()), |h| (h.seq, h.hash));
    let record = Record {
        kind: RECORD_TYPE.into(),
        v: FORMAT,
        seq: seq + 1,
        prev,
        episode_id: episode.id.to_string(),
        episode_prev: last.as_ref().map(|l| l.hash.clone()).unwrap_or_default(),
        event: event.as_str().into(),
        state: state.into(),
        url: ctx.urls.episode_page(&show.slug, &episode.slug),
        guid: episode.guid.clone(),
        title: episode.title.clone(),
        at: time(at),
        files,
        key: ctx.keys.signer.id().into(),
    };
    if last.is_some_and(|l| l.record.same_content(&record)) {
        return Ok(None);
    }
    Ok(Some(record))
}

/// Every file of the publication: the recording, its renditions, transcripts, uploaded
/// chapters and the cited documents' PDFs, in a fixed order.
async fn files_of(ctx: &Ctx, episode: &crate::domain::Episode) -> Result<Vec<FileEntry>, Error> {
    let urls = &ctx.urls;
    let media = ctx.db.media(episode.media_id).await?;
    let mut files = vec![FileEntry {
        role: "media".into(),
        url: urls.media(media.id, &media.info.extension),
        media_type: media.info.mime_type.clone(),
        sha256: media.info.sha256.clone(),
        size: media.info.size_bytes,
        language: None,
    }];
    let extras = ctx
        .db
        .episode_extras(episode.show_id, Some(episode.id))
        .await?
        .remove(&episode.id)
        .unwrap_or_default();
    let mut renditions: Vec<_> = extras.renditions.iter().map(|r| &r.media).collect();
    renditions.sort_by_key(|m| m.id.to_string());
    files.extend(renditions.into_iter().map(|m| FileEntry {
        role: "rendition".into(),
        url: urls.media(m.id, &m.info.extension),
        media_type: m.info.mime_type.clone(),
        sha256: m.info.sha256.clone(),
        size: m.info.size_bytes,
        language: None,
    }));
    let mut extra_files: Vec<_> = extras.files.iter().collect();
    extra_files.sort_by_key(|f| {
        (
            f.kind.as_str(),
            f.language.as_ref().map(ToString::to_string),
        )
    });
    for f in extra_files {
        let url = match (f.kind, &f.language, f.transcript_format()) {
            (EpisodeFileKind::Transcript, Some(lang), Some(format)) => {
                urls.transcript(episode.id, lang, format.extension())
            }
            (EpisodeFileKind::Chapters, ..) => urls.chapters(episode.id),
            _ => continue,
        };
        files.push(FileEntry {
            role: f.kind.as_str().into(),
            url,
            media_type: f.mime_type.clone(),
            sha256: f.sha256.clone(),
            size: f.size_bytes,
            language: f.language.as_ref().map(ToString::to_string),
        });
    }
    let mut documents: Vec<_> = ctx
        .db
        .episode_documents(episode.id)
        .await?
        .into_iter()
        .filter_map(|l| Some((l.document.id, l.document.file?)))
        .collect();
    documents.sort_by_key(|(id, _)| id.to_string());
    documents.dedup_by_key(|(id, _)| *id);
    files.extend(documents.into_iter().map(|(id, file)| FileEntry {
        role: "document".into(),
        url: urls.document_file(id, &file.file_name()),
        media_type: "application/pdf".into(),
        sha256: file.sha256,
        size: file.size_bytes,
        language: None,
    }));
    Ok(files)
}

/// Records what the log is missing since `since`: scheduled episodes whose time has come (also
/// again, after their date was moved), changes whose record could not be appended (the
/// operation's append failed, or its process died between the change and the record), and,
/// from the beginning of time, episodes published before the log existed. Returns how many
/// were recorded.
pub async fn record_due(ctx: &Ctx, since: DateTime<Utc>) -> Result<u64, Error> {
    let mut recorded = 0;
    loop {
        let due = ctx
            .db
            .unrecorded_publications(since, Utc::now(), 100)
            .await?;
        if due.is_empty() {
            return Ok(recorded);
        }
        let mut progressed = false;
        for id in due {
            // One episode that cannot be recorded (its media row gone) must not hold up the
            // others; it is tried again next pass.
            match try_record(ctx, id).await {
                Ok(Some(_)) => {
                    recorded += 1;
                    progressed = true;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, episode = %id, "publication not recorded"),
            }
        }
        if !progressed {
            return Ok(recorded);
        }
    }
}

/// Runs `record_due` every `every` on the current runtime, for as long as it runs: the first
/// pass over every published episode, later ones over the last hour's (a pass looks back well
/// beyond the one before it, so a slow pass or a clock step misses nothing).
pub fn start_recorder(ctx: Ctx, every: Duration) {
    tokio::spawn(async move {
        let mut since = DateTime::<Utc>::UNIX_EPOCH;
        loop {
            let started = Utc::now();
            match record_due(&ctx, since).await {
                Ok(0) => since = started - chrono::Duration::hours(1),
                Ok(n) => {
                    since = started - chrono::Duration::hours(1);
                    tracing::info!(records = n, "recorded scheduled publications");
                }
                Err(e) => tracing::warn!(error = %e, "cannot record scheduled publications"),
            }
            tokio::time::sleep(every).await;
        }
    });
}
