//! A new or changed episode as any caller describes it (the API, an import, the demo), and the
//! rules its fields must keep. What needs the database (a free slug, a known media file) is
//! the operation's (`service::episodes`).

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{
    EpisodeId, EpisodeMeta, Media, Rejection, Slug, Withdrawal, bounds, parse_description,
    parse_slug, parse_title,
};

/// A new episode. `EpisodeDraft::check` holds the rules.
#[derive(Debug)]
pub struct EpisodeDraft {
    /// A new episode's id (`EpisodeId::new()`); its guid, unless `guid` keeps another.
    pub id: EpisodeId,
    pub title: String,
    pub description: String,
    pub media: Media,
    /// Absent: a draft. Past: published. Future: scheduled.
    pub publish_at: Option<DateTime<Utc>>,
    /// Derived from the title when absent (the first free one).
    pub slug: Option<String>,
    pub meta: EpisodeMeta,
    /// An RSS guid to keep, and whether it is a permalink: an imported episode's.
    pub guid: Option<(String, bool)>,
}

/// An `EpisodeDraft`'s title, description, publication time and slug, checked.
#[derive(Debug)]
pub struct CheckedDraft {
    pub title: String,
    pub description: String,
    pub publish_at: Option<DateTime<Utc>>,
    /// The slug asked for, or `None` to take the first free one from `base_slug`.
    pub slug: Option<Slug>,
    pub base_slug: Slug,
}

impl EpisodeDraft {
    /// The title, description, publication time and slug (the operation then checks that the
    /// slug is free, then `meta`).
    pub fn check(&self) -> Result<CheckedDraft, Rejection> {
        let title = parse_title(&self.title)?;
        let description = parse_description(&self.description)?;
        let publish_at = self
            .publish_at
            .map(|at| bounds::check_time("publish_at", at))
            .transpose()?;
        let slug = self.slug.as_deref().map(parse_slug).transpose()?;
        let base_slug = slug
            .clone()
            .unwrap_or_else(|| Slug::from_title(&title, "episode"));
        Ok(CheckedDraft {
            title,
            description,
            publish_at,
            slug,
            base_slug,
        })
    }

    /// The metadata, checked against the recording and its show notes sanitized.
    pub fn checked_meta(&self) -> Result<EpisodeMeta, Rejection> {
        self.meta
            .clone()
            .validated(self.media.info.duration_ms)
            .map_err(|e| Rejection::from(&e))
    }
}

/// `PATCH /api/v1/episodes/{id}`: the fields given change, the others stay. The RSS `guid` never
/// changes, so apps see a corrected episode as the same one; `publish_at: null` makes a draft.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct EpisodePatch {
    #[schema(pattern = r"\S", max_length = 500)]
    pub title: Option<String>,
    pub description: Option<String>,
    #[schema(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub slug: Option<String>,
    /// A corrected recording (uploaded first); its URL is new, as media URLs are immutable.
    #[schema(format = Uuid)]
    pub media_id: Option<String>,
    /// RFC 3339; `null` makes a draft.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>, pattern = r"^(19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$")]
    pub publish_at: Option<Option<DateTime<Utc>>>,
    pub meta: Option<EpisodeMeta>,
}

impl EpisodePatch {
    /// `episode` with the patch's title, description and slug checked and in place.
    pub fn apply_text(&self, mut episode: super::Episode) -> Result<super::Episode, Rejection> {
        if let Some(title) = &self.title {
            episode.title = parse_title(title)?;
        }
        if let Some(description) = &self.description {
            episode.description = parse_description(description)?;
        }
        if let Some(slug) = &self.slug {
            episode.slug = parse_slug(slug)?;
        }
        Ok(episode)
    }

    /// `episode` with the patch's publication time and metadata checked and in place (after
    /// `apply_text` and the media, which the operation resolves, in that order);
    /// `duration_ms` is the length of the episode's recording, new or kept. A new recording
    /// must still hold the soundbites kept.
    pub fn apply_rest(
        self,
        mut episode: super::Episode,
        duration_ms: u64,
    ) -> Result<super::Episode, Rejection> {
        if let Some(publish_at) = self.publish_at {
            episode.publish_at = publish_at
                .map(|at| bounds::check_time("publish_at", at))
                .transpose()?;
        }
        if let Some(meta) = self.meta {
            episode.meta = meta
                .validated(duration_ms)
                .map_err(|e| Rejection::from(&e))?;
        } else if self.media_id.is_some() {
            episode
                .meta
                .check_soundbites(duration_ms)
                .map_err(|e| Rejection::from(&e))?;
        }
        Ok(episode)
    }
}

/// A withdrawal's reason, which readers of the page will see: not empty, at most
/// `bounds::MAX_NOTE_CHARS`.
pub fn parse_withdrawal(reason: &str, at: DateTime<Utc>) -> Result<Withdrawal, Rejection> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Rejection::new(
            "invalid-reason",
            "Sebutkan alasan penarikan (reason): pembaca halaman akan melihatnya",
            "Give the reason for the withdrawal: readers of the page will see it",
        ));
    }
    bounds::check_chars("invalid-reason", "reason", reason, bounds::MAX_NOTE_CHARS)?;
    Ok(Withdrawal {
        at,
        reason: reason.to_owned(),
    })
}

/// A note on a linked document ("Pasal 7 dibacakan"): empty is none; at most
/// `bounds::MAX_NOTE_CHARS`.
pub fn parse_link_note(note: Option<&str>) -> Result<Option<String>, Rejection> {
    let Some(note) = note.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    bounds::check_chars("invalid-note", "note", note, bounds::MAX_NOTE_CHARS)?;
    Ok(Some(note.to_owned()))
}

/// A moment of a recording `duration_ms` long (`at_ms`, where a linked document is discussed):
/// within it, or within two days when the probe could not tell its length.
pub fn check_moment(at_ms: u64, duration_ms: u64) -> Result<u64, Rejection> {
    let end = bounds::recording_end_ms(duration_ms);
    if at_ms > end {
        return Err(Rejection::new(
            "invalid-moment",
            format!("at_ms {at_ms} melewati akhir rekaman ({end} ms)"),
            format!("at_ms {at_ms} is past the end of the recording ({end} ms)"),
        ));
    }
    Ok(at_ms)
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
    where
        T: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}
