//! The bounds of the values people send: how long a text may be, which years a date may name,
//! how far into a recording a moment may lie. The parses of new and changed records
//! (`NewShow::parse`, `EpisodeDraft::check`, `NewDocument::parse`, the patches, the metadata)
//! check their fields here, so a value past a bound is refused with its field named before
//! anything is stored, and nothing a feed, a page or a citation writes is absurd (a `-0001`
//! pubDate, a soundbite millions of years into a briefing).

use std::ops::RangeInclusive;

use chrono::{DateTime, Datelike as _, NaiveDate, Utc};

use super::{Msg, Rejection};

/// Titles of shows, episodes, documents and renditions.
pub const MAX_TITLE_CHARS: usize = 500;
/// Descriptions and show notes: a long briefing's full text fits; a feed of them stays sane.
pub const MAX_TEXT_BYTES: usize = 100 * 1024;
/// Apple Podcasts shows the first 4,000 characters of a description: above, Siaran warns.
pub const APPLE_DESCRIPTION_CHARS: usize = 4000;
/// Names: a show's author, a document's issuer.
pub const MAX_NAME_CHARS: usize = 500;
/// A document's number ("Peraturan Gubernur Nomor 12 Tahun 2024").
pub const MAX_NUMBER_CHARS: usize = 200;
/// A note on a linked document, a withdrawal's reason.
pub const MAX_NOTE_CHARS: usize = 2000;
/// What browsers and crawlers reliably take.
pub const MAX_URL_CHARS: usize = 2048;
/// RFC 5321's limit for an address.
pub const MAX_EMAIL_CHARS: usize = 254;
/// The years a date may name: a briefing, a regulation or a report of downloads is dated
/// after 1900, and RSS (RFC 822), BibTeX and RIS write four-digit years.
pub const YEARS: RangeInclusive<i32> = 1900..=9999;
/// How far into a recording of unknown length (the probe could not tell, so `duration_ms` is
/// 0) a moment may lie: two days, longer than any hearing.
pub const MAX_RECORDING_MS: u64 = 48 * 3600 * 1000;

/// `value` has at most `max` characters; otherwise `code`, naming `field`.
pub fn check_chars(
    code: &'static str,
    field: &str,
    value: &str,
    max: usize,
) -> Result<(), Rejection> {
    // `chars().count()` walks the whole string: a byte count above 4 × max decides first.
    let count = if value.len() > 4 * max {
        value.len()
    } else {
        value.chars().count()
    };
    if count > max {
        return Err(Rejection::new(
            code,
            format!("{field} paling banyak {max} karakter"),
            format!("{field} must be at most {max} characters"),
        ));
    }
    Ok(())
}

/// `value` takes at most `max` bytes in UTF-8; otherwise `code`, naming `field`.
pub fn check_bytes(
    code: &'static str,
    field: &str,
    value: &str,
    max: usize,
) -> Result<(), Rejection> {
    if value.len() > max {
        let kb = max / 1024;
        return Err(Rejection::new(
            code,
            format!("{field} paling banyak {kb} KB ({max} byte UTF-8)"),
            format!("{field} must be at most {kb} KB ({max} bytes of UTF-8)"),
        ));
    }
    Ok(())
}

fn year_refused(field: &str, shown: &str) -> Rejection {
    let (first, last) = (YEARS.start(), YEARS.end());
    Rejection::new(
        "invalid-date",
        format!("{field} '{shown}' harus bertahun antara {first} dan {last}"),
        format!("{field} '{shown}' must be in a year from {first} to {last}"),
    )
}

/// A moment (`publish_at`) in the years Siaran writes.
pub fn check_time(field: &str, at: DateTime<Utc>) -> Result<DateTime<Utc>, Rejection> {
    if !YEARS.contains(&at.year()) {
        return Err(year_refused(field, &at.to_rfc3339()));
    }
    Ok(at)
}

/// A day (`issued_on`, a search's `from`) in the years Siaran writes.
pub fn check_date(field: &str, day: NaiveDate) -> Result<NaiveDate, Rejection> {
    if !YEARS.contains(&day.year()) {
        return Err(year_refused(field, &day.to_string()));
    }
    Ok(day)
}

/// A `YYYY-MM-DD` day, in the years Siaran writes.
pub fn parse_date(field: &str, raw: &str) -> Result<NaiveDate, Rejection> {
    let raw = raw.trim();
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        Rejection::new(
            "invalid-date",
            format!("{field} '{raw}' harus bertanggal YYYY-MM-DD"),
            format!("{field} '{raw}' must be a YYYY-MM-DD date"),
        )
    })?;
    check_date(field, day)
}

/// The last millisecond a moment of a recording may name: its duration, or
/// `MAX_RECORDING_MS` when the probe could not tell it (0).
pub fn recording_end_ms(duration_ms: u64) -> u64 {
    if duration_ms == 0 {
        MAX_RECORDING_MS
    } else {
        duration_ms
    }
}

/// Something a stored value may cost elsewhere, answered beside the record (`warnings`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub code: &'static str,
    pub msg: Msg,
}

/// Apple Podcasts cuts a description after 4,000 characters: within Siaran's bounds, but the
/// office should know.
pub fn description_warnings(description: &str) -> Vec<Warning> {
    let count = description.chars().count();
    if count <= APPLE_DESCRIPTION_CHARS {
        return Vec::new();
    }
    vec![Warning {
        code: "description-over-apple-limit",
        msg: Msg::new(
            format!(
                "description berisi {count} karakter: Apple Podcasts hanya menampilkan \
                 {APPLE_DESCRIPTION_CHARS} karakter pertama"
            ),
            format!(
                "description has {count} characters: Apple Podcasts shows only the first \
                 {APPLE_DESCRIPTION_CHARS}"
            ),
        ),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_name_their_field() {
        assert!(check_chars("invalid-title", "title", &"é".repeat(500), 500).is_ok());
        let e = check_chars("invalid-title", "title", &"é".repeat(501), 500).unwrap_err();
        assert_eq!(e.code, "invalid-title");
        assert!(e.msg.en.starts_with("title "), "{}", e.msg.en);
        // Many bytes, few characters: counted as characters.
        assert!(check_chars("c", "f", &"😀".repeat(500), 500).is_ok());
        assert!(check_bytes("c", "f", &"a".repeat(MAX_TEXT_BYTES), MAX_TEXT_BYTES).is_ok());
        let e = check_bytes(
            "c",
            "description",
            &"a".repeat(MAX_TEXT_BYTES + 1),
            MAX_TEXT_BYTES,
        )
        .unwrap_err();
        assert!(e.msg.en.contains("description"), "{}", e.msg.en);
    }

    #[test]
    fn years_outside_1900_to_9999_are_refused() {
        for (raw, ok) in [
            ("2024-02-29", true),
            ("1900-01-01", true),
            ("9999-12-31", true),
            ("1899-12-31", false),
            ("0000-01-01", false),
            ("-0001-01-01", false),
            ("+10000-01-01", false),
            ("29/12/2023", false),
        ] {
            assert_eq!(parse_date("issued_on", raw).is_ok(), ok, "{raw}");
        }
        let at: DateTime<Utc> = "-0001-01-01T00:00:00Z".parse().unwrap();
        let e = check_time("publish_at", at).unwrap_err();
        assert_eq!(e.code, "invalid-date");
        assert!(e.msg.en.starts_with("publish_at"), "{}", e.msg.en);
        let at: DateTime<Utc> = "2026-01-05T08:00:00+07:00".parse().unwrap();
        assert_eq!(check_time("publish_at", at), Ok(at));
    }

    #[test]
    fn an_unknown_duration_bounds_moments_at_two_days() {
        assert_eq!(recording_end_ms(0), MAX_RECORDING_MS);
        assert_eq!(recording_end_ms(60_000), 60_000);
    }

    #[test]
    fn long_descriptions_warn() {
        assert!(description_warnings(&"a".repeat(4000)).is_empty());
        let w = description_warnings(&"a".repeat(4001));
        assert_eq!(w[0].code, "description-over-apple-limit");
    }
}
