//! Podcasting 2.0 JSON chapters (`podcast:chapters`, version 1.2 of the namespace's
//! `jsonChapters.md`): uploaded by an office, or built from the moments at which a briefing's
//! linked documents are discussed.

use serde::{Deserialize, Serialize};

use super::{Location, bounds};
use crate::domain::Msg;

/// The type the namespace asks chapters to be served and announced with.
pub const MIME_TYPE: &str = "application/json+chapters";
pub const VERSION: &str = "1.2.0";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Chapters {
    pub version: String,
    #[schema(min_items = 1)]
    pub chapters: Vec<Chapter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub podcast_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waypoints: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Chapter {
    /// Seconds from the start, with fractions.
    pub start_time: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        pattern = r"^https?://([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*(/[!-~]*)?$",
        max_length = 2048
    )]
    pub img: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        pattern = r"^https?://([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*(/[!-~]*)?$",
        max_length = 2048
    )]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toc: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// Reads an uploaded chapters file and checks it against the recording it belongs to:
/// required fields present, times within `[0, duration]` (two days when the probe could not
/// tell the duration, 0), chapters in order, links absolute.
pub fn parse(bytes: &[u8], duration_ms: u64) -> Result<Chapters, Msg> {
    let chapters: Chapters = serde_json::from_slice(bytes).map_err(|e| {
        Msg::new(
            format!("Berkas bab bukan JSON bab Podcasting 2.0 yang sah: {e}"),
            format!("Not a valid Podcasting 2.0 JSON chapters file: {e}"),
        )
    })?;
    if chapters.chapters.is_empty() {
        return Err(Msg::new(
            "Daftar 'chapters' kosong",
            "The 'chapters' list is empty",
        ));
    }
    // A little slack: durations are exact to the millisecond, hand-written times often are not.
    let end = bounds::recording_end_ms(duration_ms) as f64 / 1000.0 + 1.0;
    let mut previous = 0.0_f64;
    for (i, c) in chapters.chapters.iter().enumerate() {
        let n = i + 1;
        let times = [Some(c.start_time), c.end_time];
        if times
            .iter()
            .flatten()
            .any(|t| !t.is_finite() || *t < 0.0 || *t > end)
        {
            return Err(Msg::new(
                format!(
                    "Bab {n}: waktu di luar rekaman (0 sampai {:.3} detik)",
                    end - 1.0
                ),
                format!(
                    "Chapter {n}: time outside the recording (0 to {:.3} s)",
                    end - 1.0
                ),
            ));
        }
        if c.end_time.is_some_and(|e| e < c.start_time) {
            return Err(Msg::new(
                format!("Bab {n}: endTime sebelum startTime"),
                format!("Chapter {n}: endTime is before startTime"),
            ));
        }
        if c.start_time < previous {
            return Err(Msg::new(
                format!("Bab {n}: bab harus urut menurut startTime"),
                format!("Chapter {n}: chapters must be in order of startTime"),
            ));
        }
        previous = c.start_time;
        for (field, value) in [("img", &c.img), ("url", &c.url)] {
            if let Some(v) = value
                && !(v.starts_with("https://") || v.starts_with("http://"))
            {
                return Err(Msg::new(
                    format!("Bab {n}: {field} harus URL http(s) lengkap"),
                    format!("Chapter {n}: {field} must be an absolute http(s) URL"),
                ));
            }
        }
    }
    Ok(chapters)
}

/// A moment of the recording at which a document is discussed.
#[derive(Debug, Clone, PartialEq)]
pub struct Moment {
    pub at_ms: u64,
    pub title: String,
    pub url: Option<String>,
}

/// Chapters built from the documents discussed at known moments, with an opening chapter named
/// after the episode when the first document comes later than the start.
pub fn from_moments(episode_title: &str, moments: &[Moment]) -> Option<Chapters> {
    if moments.is_empty() {
        return None;
    }
    let mut list = Vec::with_capacity(moments.len() + 1);
    if moments[0].at_ms > 0 {
        list.push(Chapter {
            start_time: 0.0,
            title: Some(episode_title.to_owned()),
            ..Chapter::empty()
        });
    }
    list.extend(moments.iter().map(|m| Chapter {
        start_time: m.at_ms as f64 / 1000.0,
        title: Some(m.title.clone()),
        url: m.url.clone(),
        ..Chapter::empty()
    }));
    Some(Chapters {
        version: VERSION.to_owned(),
        chapters: list,
        author: None,
        title: Some(episode_title.to_owned()),
        podcast_name: None,
        description: None,
        file_name: None,
        waypoints: None,
    })
}

impl Chapter {
    fn empty() -> Self {
        Chapter {
            start_time: 0.0,
            title: None,
            img: None,
            url: None,
            toc: None,
            end_time: None,
            location: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specs_example_shape_parses() {
        let c = parse(
            br#"{"version":"1.2.0","chapters":[{"startTime":0,"title":"Intro"},
                {"startTime":94.5,"title":"Pasal 7","url":"https://jdih.example.go.id/x","toc":false}]}"#,
            120_000,
        )
        .unwrap();
        assert_eq!(c.chapters[1].start_time, 94.5);
        assert_eq!(c.chapters[1].toc, Some(false));
    }

    #[test]
    fn refusals() {
        let d = 60_000;
        assert!(parse(b"{}", d).unwrap_err().en.contains("Not a valid"));
        assert!(parse(br#"{"version":"1.2.0","chapters":[]}"#, d).is_err());
        let late = br#"{"version":"1.2.0","chapters":[{"startTime":99}]}"#;
        assert!(parse(late, d).unwrap_err().en.contains("outside"));
        let order = br#"{"version":"1.2.0","chapters":[{"startTime":9},{"startTime":3}]}"#;
        assert!(parse(order, d).unwrap_err().en.contains("order"));
        let url = br#"{"version":"1.2.0","chapters":[{"startTime":1,"url":"javascript:x"}]}"#;
        assert!(parse(url, d).unwrap_err().en.contains("absolute"));
    }

    #[test]
    fn moments_become_chapters_after_an_opening() {
        let c = from_moments(
            "Briefing",
            &[Moment {
                at_ms: 15_000,
                title: "UU No. 14 Tahun 2008".into(),
                url: None,
            }],
        )
        .unwrap();
        assert_eq!(c.chapters.len(), 2);
        assert_eq!(c.chapters[0].title.as_deref(), Some("Briefing"));
        assert_eq!(c.chapters[1].start_time, 15.0);
        assert!(from_moments("x", &[]).is_none());
    }
}
