//! Sound quality control (issue 24): one media file's analysis, as the job worker
//! (`service::jobs`) runs it, and where each media file stands with it.
//!
//! One attempt: the media object is streamed from the store into a spool file (never whole in
//! memory), `media::quality::analyse_file` reads it on the blocking pool (a panic or a decoder
//! error there fails the attempt, never the process), the waveform's three files are stored
//! beside the media, and the report is recorded with the job's end, in one transaction that
//! holds only while the attempt's lease does: a worker that lost its job to another stores
//! nothing, and removes the objects it wrote. Analysis never blocks publishing: nothing else
//! waits for it.
//!
//! This module owns the waveform objects and the `media_quality` rows; the measuring itself is
//! `media::quality`'s.

use std::{future::Future, time::Duration};

use bytes::Bytes;
use chrono::Utc;
use sha2::{Digest as _, Sha256};

use super::{Ctx, Error, ingest::spool_body};
use crate::{
    config::QualityThresholds,
    db::{DbError, Job, JobError, JobKind, JobState, QualityRecord, StoredFile, WaveformFiles},
    domain::{
        Media, MediaId, Msg,
        quality::{QualityConfig, QualityState},
    },
    media::quality::analyse_file,
    storage::{
        ObjectKey, ObjectStore,
        replace::{Named, ReplaceError, Source, put_then_record},
    },
};

/// Attempts a job gets before it is failed for good.
pub const MAX_ATTEMPTS: u32 = 3;

/// The overview waveform (for whole-file views: the episode page) has at most this many
/// min/max pairs, whatever the recording's length: a few kilobytes for any page.
pub const OVERVIEW_PIXELS: usize = 2000;

/// The thresholds the analysis judges by: `QualityConfig`'s defaults, with what the
/// configuration sets.
pub fn config(set: &QualityThresholds) -> QualityConfig {
    let d = QualityConfig::default();
    QualityConfig {
        target_lufs: set.target_lufs.unwrap_or(d.target_lufs),
        true_peak_ceiling_dbtp: set
            .true_peak_ceiling_dbtp
            .unwrap_or(d.true_peak_ceiling_dbtp),
        loudness_tolerance_lu: set.loudness_tolerance_lu.unwrap_or(d.loudness_tolerance_lu),
        silence_below_programme_lu: set
            .silence_below_programme_lu
            .unwrap_or(d.silence_below_programme_lu),
        silence_min_gap_ms: set.silence_min_gap_ms.unwrap_or(d.silence_min_gap_ms),
        edge_silence_warn_ms: set.edge_silence_warn_ms.unwrap_or(d.edge_silence_warn_ms),
        clipping_min_run: set.clipping_min_run.unwrap_or(d.clipping_min_run),
        dead_channel_lu: set.dead_channel_lu.unwrap_or(d.dead_channel_lu),
        phase_cancellation_lu: set.phase_cancellation_lu.unwrap_or(d.phase_cancellation_lu),
    }
}

/// Where a media file stands with its analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaQuality {
    pub state: QualityState,
    /// The report and waveform, once done.
    pub record: Option<QualityRecord>,
    /// Why it failed (or why the last attempt did, while a retry waits).
    pub error: Option<JobError>,
}

impl MediaQuality {
    /// A media file whose analysis has not run yet.
    pub fn pending() -> Self {
        MediaQuality {
            state: QualityState::Pending,
            record: None,
            error: None,
        }
    }
}

/// Where media `id` stands with its analysis. A media file with no job yet (stored by a version
/// before jobs; the next serving instance queues it) is pending.
pub async fn of_media(ctx: &Ctx, id: MediaId) -> Result<MediaQuality, Error> {
    let job = match ctx.db.job(JobKind::Quality, id).await {
        Ok(job) => job,
        Err(DbError::NotFound) => return Ok(MediaQuality::pending()),
        Err(e) => return Err(e.into()),
    };
    Ok(match job.state {
        JobState::Done => match ctx.db.quality_record(id).await? {
            Some(record) => MediaQuality {
                state: QualityState::Done,
                record: Some(record),
                error: None,
            },
            None => MediaQuality::pending(),
        },
        JobState::Failed => MediaQuality {
            state: QualityState::Failed,
            record: None,
            error: job.error,
        },
        JobState::Queued | JobState::Running => MediaQuality {
            error: job.error,
            ..MediaQuality::pending()
        },
    })
}

/// The analysis of media `id`, once done (for serving its waveform).
pub async fn record(ctx: &Ctx, id: MediaId) -> Result<QualityRecord, Error> {
    ctx.db
        .quality_record(id)
        .await?
        .ok_or(Error::NotFound { what: "waveform" })
}

/// A failure of a job's error code, in both languages, for the people who read the media record.
pub fn error_message(error: &JobError) -> Msg {
    let (id, en) = match error.code.as_str() {
        "no-audio" => (
            "Audio rekaman tidak dapat didekode",
            "The recording's audio could not be decoded",
        ),
        "unsupported-audio" => (
            "Jenis audio ini belum dapat dianalisis",
            "The analysis cannot decode this kind of audio",
        ),
        "unreadable-media" => (
            "Berkas tidak dapat dibaca sebagai media",
            "The file cannot be read as media",
        ),
        "io" => (
            "Berkas tidak dapat dibaca saat dianalisis",
            "The file could not be read during the analysis",
        ),
        "media-unreadable" => (
            "Berkas media tidak dapat diambil dari penyimpanan",
            "The media file could not be fetched from storage",
        ),
        "stored-file-changed" => (
            "Berkas media di penyimpanan tidak sama dengan yang diunggah",
            "The stored media file differs from the one uploaded",
        ),
        "timeout" => (
            "Analisis melewati batas waktu",
            "The analysis took too long",
        ),
        "analysis-crashed" => (
            "Analisis terhenti karena kesalahan",
            "The analysis stopped on an error",
        ),
        "waveform-not-stored" => (
            "Bentuk gelombang tidak dapat disimpan",
            "The waveform could not be stored",
        ),
        "abandoned" => {
            return Msg::new(
                "Tidak satu pun percobaan analisis selesai (prosesnya berhenti)",
                "No attempt of the analysis finished (its process stopped)",
            );
        }
        _ => ("Analisis gagal", "The analysis failed"),
    };
    Msg::new(
        format!("{id} ({})", error.detail),
        format!("{en} ({})", error.detail),
    )
}

/// How an attempt ended without a result.
#[derive(Debug)]
pub enum Failure {
    /// The attempt failed; `retry` when another may succeed (reading or storing failed),
    /// not when the file is at fault (no audio, a codec the analysis cannot decode).
    Attempt { error: JobError, retry: bool },
    /// Another worker holds the job now (this one's lease ran out): nothing to record.
    LeaseLost,
}

impl Failure {
    /// A failure another attempt may not meet.
    fn transient(code: &str, detail: impl std::fmt::Display) -> Self {
        Failure::Attempt {
            error: JobError {
                code: code.to_owned(),
                detail: detail.to_string(),
            },
            retry: true,
        }
    }

    /// A failure of the file's own, which every attempt would meet.
    fn permanent(code: &str, detail: impl std::fmt::Display) -> Self {
        match Failure::transient(code, detail) {
            Failure::Attempt { error, .. } => Failure::Attempt {
                error,
                retry: false,
            },
            lost => lost,
        }
    }
}

/// One attempt at `job` (the analysis of its media) under `lease`; see the module's comment.
#[tracing::instrument(skip_all, fields(media = %job.media_id, attempt = job.attempts))]
pub async fn analyse(
    ctx: &Ctx,
    cfg: &QualityConfig,
    job: &Job,
    lease: &str,
    timeout: Duration,
) -> Result<QualityRecord, Failure> {
    let media = ctx
        .db
        .media(job.media_id)
        .await
        .map_err(|e| Failure::transient("media-unreadable", e))?;
    let body = ctx
        .store
        .get(&media.storage_key, None)
        .await
        .map_err(|e| Failure::transient("media-unreadable", e))?;
    let spooled = spool_body(&ctx.spool, body, u64::MAX)
        .await
        .map_err(|e| Failure::transient("media-unreadable", e))?;
    if spooled.sha256 != media.info.sha256 {
        return Err(Failure::transient(
            "stored-file-changed",
            format!(
                "SHA-256 {} where {} was stored",
                spooled.sha256, media.info.sha256
            ),
        ));
    }
    let started = std::time::Instant::now();
    let analysed = analyse_blocking(spooled.file.path().to_owned(), cfg.clone(), timeout).await?;
    drop(spooled);
    tracing::info!(
        ms = started.elapsed().as_millis() as u64,
        lufs = ?analysed.report.integrated_lufs,
        "media analysed"
    );
    store_and_record(ctx, &media, lease, analysed).await
}

/// What the blocking part hands back: the report and the waveform's files, made there so that
/// a panic making them fails the attempt like one in the analysis.
struct Analysed {
    report: crate::domain::quality::QualityReport,
    json: Bytes,
    dat: Bytes,
    overview: Bytes,
}

async fn analyse_blocking(
    path: std::path::PathBuf,
    cfg: QualityConfig,
    timeout: Duration,
) -> Result<Analysed, Failure> {
    let span = tracing::Span::current();
    let task = tokio::task::spawn_blocking(move || {
        span.in_scope(|| {
            let analysis = analyse_file(&path, &cfg)?;
            let w = &analysis.waveform;
            Ok::<_, crate::media::quality::QualityError>(Analysed {
                json: Bytes::from(w.to_json()),
                dat: Bytes::from(w.to_dat()),
                overview: Bytes::from(w.at_most(OVERVIEW_PIXELS).to_json()),
                report: analysis.report,
            })
        })
    });
    // A decoder that never ends keeps its blocking thread until it does; the job goes on.
    match tokio::time::timeout(timeout, task).await {
        // As long again next time: the file's.
        Err(_) => Err(Failure::permanent(
            "timeout",
            format!("no result after {} s", timeout.as_secs()),
        )),
        // The analysis contains its own panics: a failed join is the runtime stopping under it.
        Ok(Err(join)) => Err(Failure::transient("analysis-crashed", join)),
        Ok(Ok(Err(e))) if e.is_transient() => Err(Failure::transient(e.code(), &e)),
        Ok(Ok(Err(e))) => Err(Failure::permanent(e.code(), &e)),
        Ok(Ok(Ok(analysed))) => Ok(analysed),
    }
}

/// A waveform file ready to store.
struct Prepared {
    file: StoredFile,
    content_type: &'static str,
    bytes: Bytes,
}

fn prepared(key: &ObjectKey, content_type: &'static str, bytes: Bytes) -> Prepared {
    Prepared {
        file: StoredFile {
            key: key.as_str().to_owned(),
            size_bytes: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(&bytes)),
        },
        content_type,
        bytes,
    }
}

/// Stores the three waveform files beside the media, then the record with the job's end; an
/// object whose record could not be written is deleted again (`put_then_record`, nested).
async fn store_and_record(
    ctx: &Ctx,
    media: &Media,
    lease: &str,
    analysed: Analysed,
) -> Result<QualityRecord, Failure> {
    let key = |label, ext| ObjectKey::beside_media(&media.storage_key, label, lease, ext);
    let json = prepared(&key("waveform", "json"), "application/json", analysed.json);
    let dat = prepared(
        &key("waveform", "dat"),
        "application/octet-stream",
        analysed.dat,
    );
    let overview = prepared(
        &key("waveform-overview", "json"),
        "application/json",
        analysed.overview,
    );
    let now = Utc::now();
    let record = QualityRecord {
        media_id: media.id,
        report: analysed.report,
        waveform: WaveformFiles {
            json: json.file.clone(),
            dat: dat.file.clone(),
            overview: overview.file.clone(),
        },
        analysed_at: now,
    };
    let store = ctx.store.as_ref();
    put_one(store, &json, || {
        put_one(store, &dat, || {
            put_one(store, &overview, || async {
                match ctx.db.record_quality(lease, &record, now).await {
                    Ok(true) => Ok(()),
                    Ok(false) => Err(Failure::LeaseLost),
                    Err(e) => Err(Failure::transient("internal", e)),
                }
            })
        })
    })
    .await?;
    Ok(record)
}

/// Puts `file`, then runs `then` (which stores the rest and the record); deletes the object if
/// `then` fails.
async fn put_one<F, Fut>(store: &dyn ObjectStore, file: &Prepared, then: F) -> Result<(), Failure>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(), Failure>>,
{
    let key = ObjectKey::from_stored(file.file.key.clone());
    put_then_record(
        store,
        &key,
        Named::Uniquely,
        file.content_type,
        Source::Bytes(file.bytes.clone()),
        || async { then().await.map(|()| ((), None)) },
    )
    .await
    .map_err(|e| match e {
        ReplaceError::Store(e) => Failure::transient("waveform-not-stored", e),
        ReplaceError::Record(failure) => failure,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_thresholds_keep_the_defaults() {
        assert_eq!(
            config(&QualityThresholds::default()),
            QualityConfig::default()
        );
        let set = QualityThresholds {
            target_lufs: Some(-18.0),
            ..QualityThresholds::default()
        };
        assert_eq!(config(&set).target_lufs, -18.0);
        assert_eq!(config(&set).true_peak_ceiling_dbtp, -1.0);
    }
}
