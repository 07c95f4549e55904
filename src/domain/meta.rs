//! The podcast metadata of shows and episodes beyond their core fields: what Apple, Spotify,
//! PSP-1 and the Podcasting 2.0 namespace ask of a feed. Stored as one JSON document per row, so
//! adding a tag never needs a migration; validated here, so a stored value is always writable.

use serde::{Deserialize, Serialize};

use super::bounds;

/// The most entries a list of metadata takes (persons, soundbites, `podcast:txt`): more is not
/// a briefing's metadata.
pub const MAX_LIST_ENTRIES: usize = 50;

/// `itunes:type`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ShowType {
    /// Newest first; the usual for briefings.
    #[default]
    Episodic,
    /// Oldest first, meant to be heard in order (a course, a series on one regulation).
    Serial,
}

/// `podcast:medium`, for the kinds Siaran publishes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Medium {
    #[default]
    Podcast,
    /// A video podcast: apps play the video enclosures.
    Video,
}

/// `itunes:episodeType`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EpisodeType {
    #[default]
    Full,
    Trailer,
    Bonus,
}

/// `podcast:person`: an official who speaks, a host, a guest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Person {
    #[schema(pattern = r"\S", max_length = 128)]
    pub name: String,
    /// The Podcast Taxonomy role (`host`, `guest`, ...); `host` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub role: Option<String>,
    /// The taxonomy group (`cast`, ...); `cast` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub group: Option<String>,
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
    pub href: Option<String>,
}

/// `podcast:location`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Location {
    /// What a person reads: "Kantor Gubernur Kalimantan Timur, Samarinda".
    #[schema(pattern = r"\S", max_length = 128)]
    pub name: String,
    /// A `geo:` URI (RFC 5870), e.g. `geo:-0.5022,117.1536`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        pattern = r"^geo:-?[0-9]{1,3}(\.[0-9]+)?,-?[0-9]{1,3}(\.[0-9]+)?(,-?[0-9]{1,5}(\.[0-9]+)?)?(;[!-~]*)?$",
        max_length = 128
    )]
    pub geo: Option<String>,
    /// An OpenStreetMap object: type letter and id, e.g. `R3798455`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[NWR][0-9]{1,18}(#[!-~]*)?$", max_length = 64)]
    pub osm: Option<String>,
}

/// `podcast:funding`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Funding {
    #[schema(
        pattern = r"^https?://([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*(/[!-~]*)?$",
        max_length = 2048
    )]
    pub url: String,
    #[schema(pattern = r"\S", max_length = 128)]
    pub text: String,
}

/// `podcast:license`: a name (an SPDX identifier such as `CC-BY-4.0`) and, for others, a URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct License {
    #[schema(pattern = r"\S", max_length = 128)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        pattern = r"^https?://([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*(/[!-~]*)?$",
        max_length = 2048
    )]
    pub url: Option<String>,
}

/// `podcast:txt`: free text for a purpose (a directory's verification code, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Txt {
    #[schema(pattern = r"\S", max_length = 4000)]
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub purpose: Option<String>,
}

/// `podcast:updateFrequency`: an iCalendar RRULE and its words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UpdateFrequency {
    #[schema(pattern = r"\S", max_length = 128)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 512)]
    pub rrule: Option<String>,
}

/// `podcast:soundbite`: a moment worth sharing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Soundbite {
    #[serde(deserialize_with = "super::whole::u64")]
    pub start_ms: u64,
    #[serde(deserialize_with = "super::whole::u64")]
    pub duration_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// A show's feed metadata beyond its core fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ShowMeta {
    #[serde(rename = "type")]
    pub show_type: ShowType,
    pub medium: Medium,
    /// `itunes:block`: keep the show out of Apple's directory.
    pub block: bool,
    /// `itunes:complete`: no more episodes will come.
    pub complete: bool,
    /// `itunes:new-feed-url`: the show moved to another host (and this feed says so).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        pattern = r"^https?://([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*(/[!-~]*)?$",
        max_length = 2048
    )]
    pub new_feed_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub funding: Option<Funding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<License>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 50)]
    pub txt: Vec<Txt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_frequency: Option<UpdateFrequency>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 50)]
    pub persons: Vec<Person>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// An episode's feed metadata beyond its core fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct EpisodeMeta {
    pub episode_type: EpisodeType,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::whole::option_u32"
    )]
    pub season: Option<u32>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::whole::option_u32"
    )]
    pub episode: Option<u32>,
    /// Show notes as HTML (links, lists, emphasis); sanitized before it is stored, written as
    /// `content:encoded` beside the plain `description`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_html: Option<String>,
    /// `itunes:block` for this episode alone.
    pub block: bool,
    /// `itunes:explicit` for this episode, when it differs from its show's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explicit: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 50)]
    pub persons: Vec<Person>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 50)]
    pub soundbites: Vec<Soundbite>,
    /// The publication date proposed when the draft was made (the studio's new-episode form,
    /// pre-filled from the file's tags or name as `siaran import` reads them): the editor's
    /// schedule starts from it while the episode has none. Not written to any feed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proposed_date: Option<chrono::NaiveDate>,
}

/// A value that cannot go into a feed: which field, and why in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaError {
    pub field: String,
    pub id: String,
    pub en: String,
}

fn error(field: &str, id: impl Into<String>, en: impl Into<String>) -> MetaError {
    MetaError {
        field: field.to_owned(),
        id: id.into(),
        en: en.into(),
    }
}

/// An absolute http(s) URL, as every URL in a feed must be.
fn check_url(field: &str, value: &str) -> Result<(), MetaError> {
    if value.len() > bounds::MAX_URL_CHARS {
        let max = bounds::MAX_URL_CHARS;
        return Err(error(
            field,
            format!("{field} paling banyak {max} karakter"),
            format!("{field} must be at most {max} characters"),
        ));
    }
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(error(
            field,
            format!("{field} harus URL http(s) lengkap, bukan '{value}'"),
            format!("{field} must be a full http(s) URL, not '{value}'"),
        )),
    }
}

fn check_text(field: &str, value: &str, max: usize) -> Result<(), MetaError> {
    if value.trim().is_empty() || value.chars().count() > max {
        return Err(error(
            field,
            format!("{field} harus diisi, paling banyak {max} karakter"),
            format!("{field} must be filled in, at most {max} characters"),
        ));
    }
    Ok(())
}

/// An optional short text: when given, at most `max` characters (may be empty).
fn check_short(field: &str, value: Option<&str>, max: usize) -> Result<(), MetaError> {
    if value.is_some_and(|v| v.chars().count() > max) {
        return Err(error(
            field,
            format!("{field} paling banyak {max} karakter"),
            format!("{field} must be at most {max} characters"),
        ));
    }
    Ok(())
}

fn check_count(field: &str, count: usize) -> Result<(), MetaError> {
    if count > MAX_LIST_ENTRIES {
        return Err(error(
            field,
            format!("{field} paling banyak {MAX_LIST_ENTRIES} entri"),
            format!("{field} takes at most {MAX_LIST_ENTRIES} entries"),
        ));
    }
    Ok(())
}

fn check_persons(field: &str, persons: &[Person]) -> Result<(), MetaError> {
    check_count(field, persons.len())?;
    for p in persons {
        check_text(&format!("{field}.name"), &p.name, 128)?;
        check_short(&format!("{field}.role"), p.role.as_deref(), 128)?;
        check_short(&format!("{field}.group"), p.group.as_deref(), 128)?;
        if let Some(img) = &p.img {
            check_url(&format!("{field}.img"), img)?;
        }
        if let Some(href) = &p.href {
            check_url(&format!("{field}.href"), href)?;
        }
    }
    Ok(())
}

fn check_location(field: &str, location: &Location) -> Result<(), MetaError> {
    check_text(&format!("{field}.name"), &location.name, 128)?;
    check_short(&format!("{field}.geo"), location.geo.as_deref(), 128)?;
    check_short(&format!("{field}.osm"), location.osm.as_deref(), 64)?;
    if let Some(geo) = &location.geo {
        let ok = geo
            .strip_prefix("geo:")
            .map(|rest| rest.split(';').next().unwrap_or_default())
            .is_some_and(|coords| {
                let parts: Vec<&str> = coords.split(',').collect();
                (2..=3).contains(&parts.len()) && parts.iter().all(|p| p.parse::<f64>().is_ok())
            });
        if !ok {
            return Err(error(
                &format!("{field}.geo"),
                format!("{field}.geo harus URI geo: seperti 'geo:-0.5022,117.1536'"),
                format!("{field}.geo must be a geo: URI such as 'geo:-0.5022,117.1536'"),
            ));
        }
    }
    if let Some(osm) = &location.osm {
        let ok = osm.len() > 1
            && matches!(osm.as_bytes()[0], b'N' | b'W' | b'R')
            && osm[1..]
                .split('#')
                .next()
                .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return Err(error(
                &format!("{field}.osm"),
                format!(
                    "{field}.osm harus jenis (N, W, R) dan nomor OpenStreetMap, mis. 'R3798455'"
                ),
                format!(
                    "{field}.osm must be an OpenStreetMap type (N, W, R) and id, e.g. 'R3798455'"
                ),
            ));
        }
    }
    Ok(())
}

impl ShowMeta {
    pub fn validate(&self) -> Result<(), MetaError> {
        if let Some(url) = &self.new_feed_url {
            check_url("new_feed_url", url)?;
        }
        if let Some(f) = &self.funding {
            check_url("funding.url", &f.url)?;
            check_text("funding.text", &f.text, 128)?;
        }
        if let Some(l) = &self.license {
            check_text("license.name", &l.name, 128)?;
            if let Some(url) = &l.url {
                check_url("license.url", url)?;
            }
        }
        check_count("txt", self.txt.len())?;
        for t in &self.txt {
            check_text("txt.value", &t.value, 4000)?;
            check_short("txt.purpose", t.purpose.as_deref(), 128)?;
        }
        if let Some(u) = &self.update_frequency {
            check_text("update_frequency.text", &u.text, 128)?;
            check_short("update_frequency.rrule", u.rrule.as_deref(), 512)?;
        }
        check_persons("persons", &self.persons)?;
        if let Some(l) = &self.location {
            check_location("location", l)?;
        }
        Ok(())
    }
}

impl EpisodeMeta {
    /// Checks the fields (soundbites against the recording, `duration_ms` long) and sanitizes
    /// `content_html` (ammonia: links, lists and emphasis stay; scripts, styles and event
    /// handlers go).
    pub fn validated(mut self, duration_ms: u64) -> Result<EpisodeMeta, MetaError> {
        check_persons("persons", &self.persons)?;
        if let Some(date) = self.proposed_date
            && !bounds::YEARS.contains(&chrono::Datelike::year(&date))
        {
            return Err(error(
                "proposed_date",
                "proposed_date harus antara tahun 1900 dan 9999",
                "proposed_date must lie between the years 1900 and 9999",
            ));
        }
        if let Some(l) = &self.location {
            check_location("location", l)?;
        }
        self.check_soundbites(duration_ms)?;
        if let Some(html) = &self.content_html
            && html.len() > bounds::MAX_TEXT_BYTES
        {
            let kb = bounds::MAX_TEXT_BYTES / 1024;
            return Err(error(
                "content_html",
                format!("content_html (catatan episode) paling banyak {kb} KB"),
                format!("content_html (the show notes) must be at most {kb} KB"),
            ));
        }
        self.content_html = self
            .content_html
            .map(|html| ammonia::clean(&html))
            .filter(|html| !html.trim().is_empty());
        Ok(self)
    }
}

impl EpisodeMeta {
    /// Every soundbite lies within the recording, `duration_ms` long (two days when the probe
    /// could not tell): a moment past its end is for another recording.
    pub fn check_soundbites(&self, duration_ms: u64) -> Result<(), MetaError> {
        check_count("soundbites", self.soundbites.len())?;
        let end = bounds::recording_end_ms(duration_ms);
        for (i, s) in self.soundbites.iter().enumerate() {
            let n = i + 1;
            if s.duration_ms == 0 {
                return Err(error(
                    "soundbites.duration_ms",
                    format!("soundbites ke-{n}: duration_ms harus lebih dari 0"),
                    format!("soundbite {n}: duration_ms must be more than 0"),
                ));
            }
            if s.start_ms
                .checked_add(s.duration_ms)
                .is_none_or(|e| e > end)
            {
                return Err(error(
                    "soundbites.start_ms",
                    format!(
                        "soundbites ke-{n}: start_ms {} + duration_ms {} melewati akhir rekaman \
                         ({end} ms)",
                        s.start_ms, s.duration_ms
                    ),
                    format!(
                        "soundbite {n}: start_ms {} + duration_ms {} is past the end of the \
                         recording ({end} ms)",
                        s.start_ms, s.duration_ms
                    ),
                ));
            }
            if let Some(t) = &s.title {
                check_text("soundbites.title", t, 128)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_notes_are_sanitized() {
        let meta = EpisodeMeta {
            content_html: Some(
                "<p>Lihat <a href=\"https://jdih.kaltimprov.go.id\" onclick=\"x()\">JDIH</a>\
                 <script>alert(1)</script></p>"
                    .into(),
            ),
            ..EpisodeMeta::default()
        }
        .validated(60_000)
        .unwrap();
        let html = meta.content_html.unwrap();
        assert!(
            html.contains("<a href=\"https://jdih.kaltimprov.go.id\""),
            "{html}"
        );
        assert!(
            !html.contains("script") && !html.contains("onclick"),
            "{html}"
        );
    }

    #[test]
    fn soundbites_lie_within_the_recording() {
        let bite = |start_ms, duration_ms| EpisodeMeta {
            soundbites: vec![Soundbite {
                start_ms,
                duration_ms,
                title: None,
            }],
            ..EpisodeMeta::default()
        };
        let minute = 60_000;
        assert!(bite(30_000, 30_000).check_soundbites(minute).is_ok());
        for (start, duration) in [
            (30_000, 30_001),
            (minute, 1),
            (18_446_744_073_709_551_000, 1000),
            (1, u64::MAX),
        ] {
            let e = bite(start, duration).validated(minute).unwrap_err();
            assert_eq!(e.field, "soundbites.start_ms", "{start} + {duration}");
        }
        assert_eq!(
            bite(0, 0).check_soundbites(minute).unwrap_err().field,
            "soundbites.duration_ms"
        );
        // A recording of unknown length (0): bounded at two days.
        assert!(bite(3_600_000, 30_000).check_soundbites(0).is_ok());
        assert!(
            bite(bounds::MAX_RECORDING_MS, 1)
                .check_soundbites(0)
                .is_err()
        );
    }

    #[test]
    fn long_texts_and_lists_are_refused() {
        let notes = EpisodeMeta {
            content_html: Some("a".repeat(bounds::MAX_TEXT_BYTES + 1)),
            ..EpisodeMeta::default()
        };
        assert_eq!(notes.validated(0).unwrap_err().field, "content_html");
        let person = Person {
            name: "Gubernur".into(),
            role: Some("r".repeat(129)),
            group: None,
            img: None,
            href: None,
        };
        let persons = ShowMeta {
            persons: vec![person.clone()],
            ..ShowMeta::default()
        };
        assert_eq!(persons.validate().unwrap_err().field, "persons.role");
        let many = EpisodeMeta {
            persons: vec![
                Person {
                    role: None,
                    ..person
                };
                MAX_LIST_ENTRIES + 1
            ],
            ..EpisodeMeta::default()
        };
        assert_eq!(many.validated(0).unwrap_err().field, "persons");
        let long_url = ShowMeta {
            new_feed_url: Some(format!("https://x.go.id/{}", "a".repeat(3000))),
            ..ShowMeta::default()
        };
        assert_eq!(long_url.validate().unwrap_err().field, "new_feed_url");
    }

    #[test]
    fn locations_and_urls_are_checked() {
        let mut meta = ShowMeta {
            location: Some(Location {
                name: "Samarinda".into(),
                geo: Some("geo:-0.5022,117.1536".into()),
                osm: Some("R3798455".into()),
            }),
            ..ShowMeta::default()
        };
        assert!(meta.validate().is_ok());
        meta.location.as_mut().unwrap().geo = Some("-0.5,117".into());
        assert_eq!(meta.validate().unwrap_err().field, "location.geo");
        meta.location = None;
        meta.funding = Some(Funding {
            url: "javascript:alert(1)".into(),
            text: "Dukung".into(),
        });
        assert_eq!(meta.validate().unwrap_err().field, "funding.url");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let got: Result<ShowMeta, _> = serde_json::from_str(r#"{"medium": "video", "colour": 1}"#);
        assert!(got.is_err());
        let got: ShowMeta =
            serde_json::from_str(r#"{"medium": "video", "type": "serial"}"#).unwrap();
        assert_eq!(
            (got.medium, got.show_type),
            (Medium::Video, ShowType::Serial)
        );
    }
}
