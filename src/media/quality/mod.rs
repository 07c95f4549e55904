//! Sound quality control (issue 24): EBU R128 loudness, true peak, silence, clipping, channel
//! faults and waveform peaks of a recording's audio, decoded once with symphonia (Opus, which
//! symphonia demuxes without decoding, by `opus`).
//!
//! Owns the analysis only: pure from a file to an `Analysis`, blocking, nothing stored. The job
//! that runs it, where the report and the waveform files are kept and how they are served
//! belong to the service and HTTP layers.
//!
//! One pass: the file is opened as the probe opens it (`probe::open_for_decoding`), its default
//! audio track decoded packet by packet (`decode`), and every decoded buffer goes through one
//! `meter::Meter`: the `ebur128` crate (a port of libebur128, which passes EBU Tech 3341/3342)
//! for integrated loudness, loudness range, momentary and short-term maxima, true and sample
//! peaks; 100 ms K-weighted block loudness for silences; full-scale runs for clipping; channel
//! powers for dead and phase-inverted channels; min/max pairs for the waveform. Memory stays
//! bounded: samples are never kept, only a figure per 100 ms block (4 bytes) and a waveform
//! pair per 10 ms (4 bytes), about 1.6 MB an hour. `judge` turns the measures into a
//! `QualityReport` with warnings in both languages. A panic in a demuxer or decoder is caught
//! (`probe::catch_panic`) and answered as unreadable media.

pub(in crate::media) mod decode;
mod judge;
mod meter;
mod opus;
mod waveform;

use std::fs::File;
use std::path::Path;

use symphonia::core::io::MediaSource;

use crate::domain::quality::{QualityConfig, QualityReport};
use crate::media::probe::{self, ProbeError};

pub use waveform::{PAIRS_PER_SECOND, Waveform};

/// The result of analysing one file.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub report: QualityReport,
    pub waveform: Waveform,
}

#[derive(Debug, thiserror::Error)]
pub enum QualityError {
    /// No audio track, or nothing of it decodes.
    #[error("no audio could be decoded: {0}")]
    NoAudio(String),
    /// An audio codec (ALAC, Opus surround other than mapping family 1) or format (a sample
    /// rate past 2.8 MHz) the analysis cannot decode.
    #[error("audio the analysis cannot decode: {0}")]
    Unsupported(String),
    /// Not media, or media too damaged to open (or a decoder that failed on it).
    #[error("the file cannot be read as media: {0}")]
    Unreadable(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl QualityError {
    /// A stable kebab-case code for the failure, stored with a failed job.
    pub fn code(&self) -> &'static str {
        match self {
            QualityError::NoAudio(_) => "no-audio",
            QualityError::Unsupported(_) => "unsupported-audio",
            QualityError::Unreadable(_) => "unreadable-media",
            QualityError::Io(_) => "io",
        }
    }

    /// Whether trying again may succeed (reading the file failed); the others are the file's.
    pub fn is_transient(&self) -> bool {
        matches!(self, QualityError::Io(_))
    }
}

impl From<ProbeError> for QualityError {
    fn from(e: ProbeError) -> Self {
        match e {
            ProbeError::Empty => QualityError::NoAudio("empty file".into()),
            ProbeError::Io(e) => QualityError::Io(e),
            ProbeError::Unsupported(why) | ProbeError::Unplayable(why) => {
                QualityError::Unreadable(why)
            }
        }
    }
}

/// Analyses the audio of the file at `path` (every audio format and the audio track of every
/// video format Siaran accepts). Blocking, with bounded memory: call it from a blocking task.
pub fn analyse_file(path: &Path, cfg: &QualityConfig) -> Result<Analysis, QualityError> {
    let file = File::open(path)?;
    let size_bytes = file.metadata()?.len();
    analyse_source(file, size_bytes, cfg)
}

/// `analyse_file` on `size_bytes` of media readable from `source` (a `File`, or a `Cursor`).
/// A panic in a demuxer or decoder is answered as `QualityError::Unreadable` and one warning in
/// the log.
pub fn analyse_source<S: MediaSource + 'static>(
    source: S,
    size_bytes: u64,
    cfg: &QualityConfig,
) -> Result<Analysis, QualityError> {
    probe::catch_panic(|| analyse_uncontained(source, size_bytes, cfg)).unwrap_or_else(|panic| {
        tracing::warn!(%panic, "the quality analysis panicked; the file is reported unreadable");
        Err(QualityError::Unreadable(
            "the audio could not be decoded".into(),
        ))
    })
}

/// `analyse_source` without its net for panics: for tests to which a panic is a bug.
#[doc(hidden)]
pub fn analyse_uncontained<S: MediaSource + 'static>(
    source: S,
    size_bytes: u64,
    cfg: &QualityConfig,
) -> Result<Analysis, QualityError> {
    let opened = probe::open_for_decoding(source, size_bytes)?;
    let mut decoded = decode::decode(opened, cfg)?;
    let report = judge::report(&decoded, cfg);
    let waveform = std::mem::replace(
        &mut decoded.measured.waveform,
        Waveform {
            sample_rate: 0,
            samples_per_pixel: 0,
            data: Vec::new(),
        },
    );
    Ok(Analysis { report, waveform })
}

#[cfg(test)]
mod tests;
