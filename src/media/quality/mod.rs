//! Sound quality control (issue 24): EBU R128 loudness, true peak, silence, clipping, channel
//! faults and waveform peaks of a recording's audio, decoded once with symphonia.
//!
//! CONTRACT STUB — replaced by the real analysis. The signatures below are what the job runner
//! and the API use.

use std::path::Path;

use crate::domain::quality::{QualityConfig, QualityReport};

/// The result of analysing one file.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub report: QualityReport,
    pub waveform: Waveform,
}

/// Min/max peaks of the audio (all channels mixed), at `samples_per_pixel` samples per pair,
/// in BBC audiowaveform's data format (version 1, 16-bit).
#[derive(Debug, Clone, PartialEq)]
pub struct Waveform {
    pub sample_rate: u32,
    pub samples_per_pixel: u32,
    /// min, max, min, max, ... one pair per pixel.
    pub data: Vec<i16>,
}

impl Waveform {
    /// audiowaveform's binary `.dat`.
    pub fn to_dat(&self) -> Vec<u8> {
        unimplemented!("contract stub")
    }

    /// audiowaveform's JSON.
    pub fn to_json(&self) -> String {
        unimplemented!("contract stub")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QualityError {
    /// No audio track, or nothing of it decodes.
    #[error("no audio could be decoded: {0}")]
    NoAudio(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl QualityError {
    /// A stable kebab-case code for the failure, stored with a failed job.
    pub fn code(&self) -> &'static str {
        match self {
            QualityError::NoAudio(_) => "no-audio",
            QualityError::Io(_) => "io",
        }
    }
}

/// Analyses the audio of the file at `path` (every audio format and the audio track of every
/// video format Siaran accepts). Blocking, with bounded memory: call it from a blocking task.
pub fn analyse_file(_path: &Path, _cfg: &QualityConfig) -> Result<Analysis, QualityError> {
    Err(QualityError::NoAudio("contract stub".into()))
}
