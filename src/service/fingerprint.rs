//! STUB of the acoustic fingerprint core (issue 25, point 2), owned by another branch: the
//! index of every published episode's audio and `find_clip`, which looks a clip up in it. This
//! file only holds the agreed contract so that the verification edges (`service::verify`,
//! `http::verify`) build and run; at merge the real module replaces it whole. Until then every
//! clip is reported as matching nothing.

use std::path::Path;

use crate::{db::DbError, domain::EpisodeId, service::Ctx};

/// Where a clip was found in the archive, and how it was edited.
#[derive(Debug, Clone)]
pub struct ClipReport {
    pub clip_ms: u64,
    /// The stretches of the clip found in episodes, in clip order.
    pub matches: Vec<Stretch>,
    /// Stretches of the clip that match nothing (inserted speech).
    pub unmatched: Vec<ClipSpan>,
    /// Parts of an episode skipped inside the clip's span, or stretches out of order.
    pub cuts: Vec<Cut>,
    pub edited: bool,
}

/// A stretch of the clip found in an episode.
#[derive(Debug, Clone)]
pub struct Stretch {
    pub episode: EpisodeId,
    pub episode_start_ms: u64,
    pub episode_end_ms: u64,
    pub clip_start_ms: u64,
    pub clip_end_ms: u64,
    /// Similarity, 0.0–1.0.
    pub score: f32,
}

/// A stretch of the clip alone.
#[derive(Debug, Clone)]
pub struct ClipSpan {
    pub clip_start_ms: u64,
    pub clip_end_ms: u64,
}

/// At `clip_at_ms` of the clip, the episode's `episode_start_ms..episode_end_ms` was skipped;
/// an empty range means the clip goes on out of order (from elsewhere in the episode).
#[derive(Debug, Clone)]
pub struct Cut {
    pub episode: EpisodeId,
    pub clip_at_ms: u64,
    pub episode_start_ms: u64,
    pub episode_end_ms: u64,
}

#[derive(Debug)]
pub enum FingerprintError {
    /// The clip's audio could not be decoded.
    Undecodable(String),
    /// The clip has no audio.
    NoAudio,
    Db(DbError),
}

/// Looks the clip at `path` up in the index. STUB: checks that the file is there and reports
/// no match.
pub async fn find_clip(_ctx: &Ctx, path: &Path) -> Result<ClipReport, FingerprintError> {
    tokio::fs::metadata(path)
        .await
        .map_err(|e| FingerprintError::Undecodable(e.to_string()))?;
    Ok(ClipReport {
        clip_ms: 0,
        matches: vec![],
        unmatched: vec![],
        cuts: vec![],
        edited: false,
    })
}
