//! Reading a media file's container, streams, duration and tags (placeholder; see the probe task).

use std::path::Path;

use super::MediaInfo;

/// Why a file is not accepted as media. Every variant names the problem in one line.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("empty file")]
    Empty,
    /// Not a container Siaran knows (random bytes, HTML, text, an image...).
    #[error("not a supported media file: {0}")]
    Unsupported(String),
    /// A known container, but nothing playable in it (an ID3 tag with no frames, a truncated MP4).
    #[error("{0}")]
    Unplayable(String),
    #[error("cannot read file: {0}")]
    Io(#[from] std::io::Error),
}

impl ProbeError {
    /// Stable kebab-case code for API answers.
    pub fn code(&self) -> &'static str {
        match self {
            ProbeError::Empty => "empty-media",
            ProbeError::Unsupported(_) => "unsupported-media",
            ProbeError::Unplayable(_) => "unplayable-media",
            ProbeError::Io(_) => "media-read-failed",
        }
    }
}

/// Probes the file at `path`. `sha256` and `size_bytes` of the result are filled by the caller's
/// streaming pass when it has one; this function fills `size_bytes` from the file's length and
/// leaves `sha256` empty.
pub fn probe_file(path: &Path) -> Result<MediaInfo, ProbeError> {
    let _ = path;
    Err(ProbeError::Unsupported("probe not implemented yet".into()))
}
