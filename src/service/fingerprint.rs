//! Finding a clip in the archive by its sound (issue 25): the fingerprint job that indexes a
//! published episode's recording, and `find_clip`, which says where a clip's stretches come
//! from.
//!
//! Indexing: when an episode is published or scheduled (`episodes::create`, `update`,
//! `publish`), its recording's `fingerprint` job is queued (`queue`); the job worker
//! (`service::jobs`) streams the media object into a spool file, fingerprints it on the blocking
//! pool (`media::fingerprint`) and records the fingerprint with its index keys and the job's end
//! in one transaction that holds only while the attempt's lease does. A replaced recording is a
//! new media file, queued by the update that sets it; lookups only ever answer with the
//! recordings that published, not withdrawn, episodes have at the moment of the lookup, so a
//! withdrawal or a replacement takes effect at once, without touching the index.
//!
//! Lookup (`look_up`): the clip's fingerprint → the postings of its keys → votes for alignments
//! (`align::candidates`) → of those of published episodes, the stretches of their fingerprints
//! the alignments cover → the clip compared bit by bit with each (`align::align`) → stretches,
//! unmatched spans, cuts (`ClipReport`).
//!
//! This module owns the fingerprint rows; the HTTP answer, the exact-file match and the limits
//! on uploads are the verification's (`service::verify`).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::{Ctx, Error, ingest::spool_body, quality::Failure};
use crate::{
    db::{DbError, FingerprintRepo, FingerprintSpan, Job, JobError, JobKind, StoredFingerprint},
    domain::{Episode, EpisodeId, MediaId, Msg},
    media::{
        fingerprint::{
            Fingerprint,
            align::{self, Params},
            fingerprint_file, index_keys, lookup_keys,
        },
        quality::QualityError,
    },
};

/// What a clip is, measured against the archive.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipReport {
    /// Length of the clip's decoded audio.
    pub clip_ms: u64,
    /// The matching stretches, in clip order.
    pub matches: Vec<Stretch>,
    /// Stretches of the clip that match nothing in the archive, in clip order.
    pub unmatched: Vec<ClipSpan>,
    /// Parts of an episode skipped inside the clip's span of that episode (cut words), and
    /// stretches out of order: what makes `edited` true besides `unmatched`.
    pub cuts: Vec<Cut>,
    /// Whether the clip, found in the archive, is not one continuous excerpt of one episode:
    /// something unmatched, a cut, a stretch out of order, or stretches of more than one episode
    /// (a splice). False for a clip that matches nothing (no claim without a match).
    pub edited: bool,
}

/// A stretch of the clip found in an episode.
#[derive(Debug, Clone, PartialEq)]
pub struct Stretch {
    pub episode: EpisodeId,
    pub episode_start_ms: u64,
    pub episode_end_ms: u64,
    pub clip_start_ms: u64,
    pub clip_end_ms: u64,
    /// 0.0–1.0: 1 − the bit error rate between the clip's Chromaprint fingerprint and the
    /// episode's over the stretch. The same recording re-encoded scores about 0.85–0.97;
    /// unrelated speech about 0.5 (0.65 at the best of many alignments); stretches under 0.75
    /// are not reported (docs/verification.md).
    pub score: f32,
}

/// A span of the clip.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipSpan {
    pub clip_start_ms: u64,
    pub clip_end_ms: u64,
}

/// Something of an episode missing between two stretches of it, or a stretch out of order.
#[derive(Debug, Clone, PartialEq)]
pub struct Cut {
    pub episode: EpisodeId,
    /// where in the clip the cut is
    pub clip_at_ms: u64,
    /// what of the episode is missing there (empty range for "out of order")
    pub episode_start_ms: u64,
    pub episode_end_ms: u64,
}

/// Why a clip could not be looked up.
#[derive(Debug, thiserror::Error)]
pub enum FingerprintError {
    /// the audio could not be decoded (message for the user)
    #[error("the audio could not be decoded: {0}")]
    Undecodable(String),
    /// no audio track at all
    #[error("the file has no audio")]
    NoAudio,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<QualityError> for FingerprintError {
    fn from(e: QualityError) -> Self {
        match e {
            QualityError::NoAudio(_) => FingerprintError::NoAudio,
            QualityError::Unsupported(why) | QualityError::Unreadable(why) => {
                FingerprintError::Undecodable(why)
            }
            QualityError::Io(e) => FingerprintError::Undecodable(e.to_string()),
        }
    }
}

impl From<FingerprintError> for Error {
    fn from(e: FingerprintError) -> Self {
        match e {
            FingerprintError::Undecodable(why) => Error::Invalid {
                code: "undecodable-audio",
                msg: Msg::new(
                    format!("Audio klip tidak dapat didekode: {why}"),
                    format!("The clip's audio could not be decoded: {why}"),
                ),
            },
            FingerprintError::NoAudio => Error::invalid(
                "no-audio",
                "Berkas ini tidak berisi audio",
                "The file holds no audio",
            ),
            FingerprintError::Db(e) => e.into(),
        }
    }
}

/// Gaps between two touching stretches of one episode longer than this are cuts (shorter ones
/// are the alignment's own jitter, an item or two).
const CUT_MIN_MS: u64 = 500;
/// The same across an unmatched span, where both stretches' ends are estimates (±0.5–1 s).
const CUT_ACROSS_UNMATCHED_MIN_MS: u64 = 1500;
/// Chromaprint's item at a moment describes the audio of the next second or two, so an item
/// stops matching its stretch that long before the stretch ends: the alignment places every
/// boundary inside a clip about this much too early (measured on espeak cuts and insertions:
/// 0.6–0.8 s, docs/verification.md), and boundaries are moved later by it.
const BOUNDARY_SHIFT_MS: u64 = 700;

/// Queues the fingerprint of `episode`'s recording if it is published or scheduled. A failure
/// is logged: the next serving instance queues what is missing (`Db::enqueue_missing_fingerprints`).
pub async fn queue(ctx: &Ctx, episode: &Episode) {
    if episode.publish_at.is_none() {
        return;
    }
    if let Err(e) = ctx
        .jobs
        .enqueue(ctx.db.as_ref(), JobKind::Fingerprint, episode.media_id)
        .await
    {
        tracing::warn!(error = %e, episode = %episode.id, "fingerprint job not queued");
    }
}

/// One attempt at `job` (the fingerprint of its media) under `lease`.
#[tracing::instrument(skip_all, fields(media = %job.media_id, attempt = job.attempts))]
pub async fn index(ctx: &Ctx, job: &Job, lease: &str, timeout: Duration) -> Result<(), Failure> {
    let transient = |code: &str, detail: String| Failure::Attempt {
        error: JobError {
            code: code.to_owned(),
            detail,
        },
        retry: true,
    };
    let media = ctx
        .db
        .media(job.media_id)
        .await
        .map_err(|e| transient("media-unreadable", e.to_string()))?;
    let body = ctx
        .store
        .get(&media.storage_key, None)
        .await
        .map_err(|e| transient("media-unreadable", e.to_string()))?;
    let spooled = spool_body(&ctx.spool, body, u64::MAX)
        .await
        .map_err(|e| transient("media-unreadable", e.to_string()))?;
    if spooled.sha256 != media.info.sha256 {
        return Err(transient(
            "stored-file-changed",
            format!(
                "SHA-256 {} where {} was stored",
                spooled.sha256, media.info.sha256
            ),
        ));
    }
    let started = std::time::Instant::now();
    let fingerprint = match tokio::time::timeout(
        timeout,
        fingerprint_blocking(spooled.file.path().to_owned()),
    )
    .await
    {
        Err(_) => {
            return Err(Failure::Attempt {
                error: JobError {
                    code: "timeout".into(),
                    detail: format!("no result after {} s", timeout.as_secs()),
                },
                retry: false,
            });
        }
        Ok(Err(Some(e))) => {
            return Err(Failure::Attempt {
                error: JobError {
                    code: e.code().into(),
                    detail: e.to_string(),
                },
                retry: e.is_transient(),
            });
        }
        Ok(Err(None)) => return Err(transient("analysis-crashed", "join failed".into())),
        Ok(Ok(fingerprint)) => fingerprint,
    };
    drop(spooled);
    let keys: Vec<(i64, u32)> = index_keys(&fingerprint.items).collect();
    tracing::info!(
        ms = started.elapsed().as_millis() as u64,
        items = fingerprint.items.len(),
        "media fingerprinted"
    );
    let stored = StoredFingerprint {
        items: fingerprint.items,
        item_us: fingerprint.item_us,
        duration_ms: fingerprint.duration_ms,
    };
    match ctx
        .db
        .record_fingerprint(lease, media.id, &stored, &keys, Utc::now())
        .await
    {
        Ok(true) => Ok(()),
        Ok(false) => Err(Failure::LeaseLost),
        Err(e) => Err(transient("internal", e.to_string())),
    }
}

/// `fingerprint_file` on the blocking pool, the tracing span carried over; `Err(None)` if the
/// task itself failed (the runtime stopping).
async fn fingerprint_blocking(path: PathBuf) -> Result<Fingerprint, Option<QualityError>> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(|| fingerprint_file(&path)))
        .await
        .map_err(|_| None)?
        .map_err(Some)
}

/// Fingerprints the audio of the clip at `path` (audio or video file; video: its audio track)
/// and looks it up among the published, not withdrawn, episodes. Blocking decode runs on
/// spawn_blocking. Never reads the whole file into memory.
#[tracing::instrument(skip_all)]
pub async fn find_clip(ctx: &Ctx, path: &Path) -> Result<ClipReport, FingerprintError> {
    let clip = match fingerprint_blocking(path.to_owned()).await {
        Ok(clip) => clip,
        Err(Some(e)) => return Err(e.into()),
        Err(None) => {
            return Err(FingerprintError::Undecodable("the decoding stopped".into()));
        }
    };
    let lookup = look_up(&*ctx.db, &clip.items, Utc::now()).await?;
    tracing::debug!(
        items = clip.items.len(),
        stats = ?lookup.stats,
        stretches = lookup.alignment.runs.len(),
        "clip looked up"
    );
    Ok(report(&clip, &lookup.alignment, &lookup.sources))
}

/// A recording a lookup compared the clip with: a published, not withdrawn, episode's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LookupSource {
    pub episode: EpisodeId,
    pub media: MediaId,
    /// The whole recording's.
    pub duration_ms: u64,
}

/// What a lookup read and how long each of its steps took.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LookupStats {
    pub keys: usize,
    pub postings: usize,
    pub candidates: usize,
    pub read_postings: Duration,
    pub votes: Duration,
    pub read_fingerprints: Duration,
    pub alignment: Duration,
}

/// Where the clip's items lie in the archive, before they are turned into time.
#[derive(Debug, Clone)]
pub struct Lookup {
    pub alignment: align::Alignment,
    /// The fingerprints the alignment may name (by their id in the index).
    pub sources: HashMap<u64, LookupSource>,
    pub stats: LookupStats,
}

/// Looks a clip's fingerprint items up in the index, among the recordings of episodes published
/// at `now` and not withdrawn: the postings of its keys → votes for alignments
/// (`align::candidates`) → the stretches of those recordings' fingerprints that the best ones
/// cover (read alone, not whole fingerprints) → `align::align`. `find_clip`'s path, and what
/// `siaran-bench fingerprint` times.
pub async fn look_up<D: FingerprintRepo + ?Sized>(
    db: &D,
    clip: &[u32],
    now: DateTime<Utc>,
) -> Result<Lookup, DbError> {
    let params = Params::default();
    let mut stats = LookupStats::default();
    let started = Instant::now();
    let lookups = lookup_keys(clip);
    let keys: Vec<i64> = lookups.iter().map(|(k, _)| *k).collect();
    let postings = db.fingerprint_postings(&keys).await?;
    (stats.keys, stats.postings) = (keys.len(), postings.len());
    let voting = Instant::now();
    stats.read_postings = voting - started;
    // More candidates than will be compared: some may be of unpublished recordings.
    let wide = Params {
        max_candidates: params.max_candidates * 4,
        ..params
    };
    let ranked: Vec<align::Candidate> = align::candidates(
        &lookups,
        postings
            .into_iter()
            .map(|p| (p.key, p.fingerprint, p.position)),
        &wide,
    )
    .into_iter()
    .map(|(c, _)| c)
    .collect();
    let reading = Instant::now();
    stats.votes = reading - voting;
    let spans: Vec<FingerprintSpan> = align::windows_for(&ranked, clip.len())
        .into_iter()
        .map(|(id, from, count)| FingerprintSpan {
            id,
            from: u32::try_from(from).unwrap_or(u32::MAX),
            count: u32::try_from(count).unwrap_or(u32::MAX),
        })
        .collect();
    let found = if spans.is_empty() {
        Vec::new()
    } else {
        db.published_fingerprints(&spans, now).await?
    };
    let aligning = Instant::now();
    stats.read_fingerprints = aligning - reading;
    let mut sources = HashMap::new();
    let mut windows = HashMap::new();
    for f in found {
        sources.insert(
            f.id,
            LookupSource {
                episode: f.episode,
                media: f.media,
                duration_ms: f.duration_ms,
            },
        );
        windows.insert(
            f.id,
            align::Window {
                from: f.from as usize,
                items: f.items,
            },
        );
    }
    let candidates: Vec<align::Candidate> = ranked
        .into_iter()
        .filter(|c| sources.contains_key(&c.source))
        .take(params.max_candidates)
        .collect();
    stats.candidates = candidates.len();
    let alignment = align::align(clip, &windows, &candidates, &params);
    stats.alignment = aligning.elapsed();
    Ok(Lookup {
        alignment,
        sources,
        stats,
    })
}

/// The report of an alignment: items turned into milliseconds, fingerprints into episodes, and
/// cuts read from consecutive stretches of one episode.
fn report(
    clip: &Fingerprint,
    alignment: &align::Alignment,
    sources: &HashMap<u64, LookupSource>,
) -> ClipReport {
    let n = clip.items.len();
    let clip_ms = clip.duration_ms;
    // Item `i` starts at i × item; the first span starts at the clip's start, the last runs to
    // its end, and those between are moved by what an item sees ahead (`BOUNDARY_SHIFT_MS`).
    let at = |i: usize| -> u64 {
        if i == 0 {
            0
        } else if i >= n {
            clip_ms
        } else {
            (i as u64 * clip.item_us / 1000 + BOUNDARY_SHIFT_MS).min(clip_ms)
        }
    };
    let mut matches = Vec::new();
    for run in &alignment.runs {
        let Some(&LookupSource {
            episode,
            duration_ms: episode_ms,
            ..
        }) = sources.get(&run.source)
        else {
            continue;
        };
        let clip_start_ms = at(run.start);
        let clip_end_ms = at(run.end);
        let offset_ms = run.offset * i64::try_from(clip.item_us).unwrap_or(0) / 1000;
        let episode_start_ms =
            u64::try_from((clip_start_ms as i64 + offset_ms).max(0)).unwrap_or(0);
        let episode_end_ms = (episode_start_ms + (clip_end_ms - clip_start_ms))
            .min(episode_ms.max(episode_start_ms));
        matches.push(Stretch {
            episode,
            episode_start_ms,
            episode_end_ms,
            clip_start_ms,
            clip_end_ms,
            score: run.score,
        });
    }
    let unmatched: Vec<ClipSpan> = if n == 0 && clip_ms > 0 {
        vec![ClipSpan {
            clip_start_ms: 0,
            clip_end_ms: clip_ms,
        }]
    } else {
        alignment
            .unmatched
            .iter()
            .map(|&(s, e)| ClipSpan {
                clip_start_ms: at(s),
                clip_end_ms: at(e),
            })
            .filter(|s| s.clip_end_ms > s.clip_start_ms)
            .collect()
    };
    let cuts = cuts(&matches, &unmatched);
    let episodes_seen: HashSet<EpisodeId> = matches.iter().map(|m| m.episode).collect();
    // A clip that matches nothing is "no match", not an edit of anything.
    let edited = !matches.is_empty()
        && (!unmatched.is_empty() || !cuts.is_empty() || episodes_seen.len() > 1);
    ClipReport {
        clip_ms,
        matches,
        unmatched,
        cuts,
        edited,
    }
}

/// Between consecutive stretches of one episode: what of the episode the clip skips, or, when
/// the second comes earlier in the episode than the first ended, a stretch out of order.
fn cuts(matches: &[Stretch], unmatched: &[ClipSpan]) -> Vec<Cut> {
    matches
        .windows(2)
        .filter(|w| w[0].episode == w[1].episode)
        .filter_map(|w| {
            let (a, b) = (&w[0], &w[1]);
            let between = unmatched
                .iter()
                .any(|u| u.clip_start_ms >= a.clip_end_ms && u.clip_end_ms <= b.clip_start_ms);
            let min = if between {
                CUT_ACROSS_UNMATCHED_MIN_MS
            } else {
                CUT_MIN_MS
            };
            if b.episode_start_ms > a.episode_end_ms + min {
                Some(Cut {
                    episode: a.episode,
                    clip_at_ms: b.clip_start_ms,
                    episode_start_ms: a.episode_end_ms,
                    episode_end_ms: b.episode_start_ms,
                })
            } else if b.episode_start_ms + min < a.episode_end_ms {
                Some(Cut {
                    episode: a.episode,
                    clip_at_ms: b.clip_start_ms,
                    episode_start_ms: b.episode_start_ms,
                    episode_end_ms: b.episode_start_ms,
                })
            } else {
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stretch(episode: EpisodeId, ep: (u64, u64), clip: (u64, u64)) -> Stretch {
        Stretch {
            episode,
            episode_start_ms: ep.0,
            episode_end_ms: ep.1,
            clip_start_ms: clip.0,
            clip_end_ms: clip.1,
            score: 0.9,
        }
    }

    #[test]
    fn skipped_and_reordered_parts_are_cuts() {
        let e = EpisodeId::new();
        let f = EpisodeId::new();
        let skipped = [
            stretch(e, (10_000, 15_000), (0, 5_000)),
            stretch(e, (18_000, 23_000), (5_000, 10_000)),
        ];
        assert_eq!(
            cuts(&skipped, &[]),
            vec![Cut {
                episode: e,
                clip_at_ms: 5_000,
                episode_start_ms: 15_000,
                episode_end_ms: 18_000
            }]
        );
        let reordered = [
            stretch(e, (18_000, 23_000), (0, 5_000)),
            stretch(e, (10_000, 15_000), (5_000, 10_000)),
        ];
        let cut = &cuts(&reordered, &[])[0];
        assert_eq!((cut.episode_start_ms, cut.episode_end_ms), (10_000, 10_000));
        // Jitter of an item is no cut; another episode is a splice, not a cut.
        let jitter = [
            stretch(e, (10_000, 15_000), (0, 5_000)),
            stretch(e, (15_124, 20_000), (5_000, 10_000)),
        ];
        assert!(cuts(&jitter, &[]).is_empty());
        let splice = [
            stretch(e, (10_000, 15_000), (0, 5_000)),
            stretch(f, (40_000, 45_000), (5_000, 10_000)),
        ];
        assert!(cuts(&splice, &[]).is_empty());
    }
}
