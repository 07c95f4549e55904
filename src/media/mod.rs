//! Media files: what a recording is (`MediaInfo`), read from its bytes.
//!
//! `probe` is a pure function from a file on disk to `MediaInfo`; it never touches the database or
//! the object store, and reads the file with bounded buffers (never whole into memory).

pub mod fingerprint;
pub mod probe;
pub mod quality;

use serde::{Deserialize, Serialize};

pub use probe::{ProbeError, probe_file, probe_source};

/// Everything Siaran knows about a media file. The same value is printed by `siaran probe`,
/// stored with each upload and answered by `POST /api/v1/media`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MediaInfo {
    /// Container name: mp3, mp4, mov, ogg, flac, wav, webm, mkv, aac.
    pub container: String,
    /// MIME type as served in feeds and `Content-Type`, e.g. `audio/mpeg`.
    pub mime_type: String,
    /// The file extension used in public URLs (ASCII, no dot), e.g. `mp3`, `m4a`, `mp4`.
    pub extension: String,
    pub duration_ms: u64,
    pub size_bytes: u64,
    /// Bytes before the media data that are not media: ID3v2 tags in front of MP3 or ADTS
    /// audio (download counting adds them to the minute of audio a download needs).
    #[serde(default)]
    pub header_bytes: u64,
    /// Lower-case hex SHA-256 of the whole file.
    pub sha256: String,
    /// Average bit rate in bits per second (size * 8 / duration) when the duration is known.
    pub bit_rate: Option<u64>,
    pub audio: Option<AudioInfo>,
    pub video: Option<VideoInfo>,
    pub tags: Tags,
    pub artwork: Option<Artwork>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AudioInfo {
    /// Codec short name: mp3, aac, opus, vorbis, flac, pcm_s16le, ...
    pub codec: String,
    pub sample_rate: Option<u32>,
    pub channels: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VideoInfo {
    /// Codec short name: h264, hevc, vp8, vp9, av1, ...
    pub codec: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub frame_rate: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Tags {
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub date: Option<String>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Artwork {
    pub mime_type: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub size_bytes: u64,
}
