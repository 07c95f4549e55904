//! What a recording's episode is called and dated when nobody says: given values (an import
//! manifest's row), else the file's tags, else its name (`2023-06-07 Rapat koordinasi.mp3`: the
//! date, then the title). One rule for `siaran import DIR` (`import::dir`) and the studio's
//! "new episode" page, which pre-fills its form with it. Pure: reading a file's modification
//! date, the import's last fallback, is the caller's.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone as _, Utc};

use crate::media::Tags;

/// What a person already said about the file (a manifest row); every field may be absent.
#[derive(Debug, Clone, Copy, Default)]
pub struct Given<'a> {
    pub title: Option<&'a str>,
    pub description: Option<&'a str>,
    /// RFC 3339, or `YYYY-MM-DD` (noon WIB that day).
    pub publish_at: Option<&'a str>,
}

/// A recording's episode fields, as far as the file tells.
#[derive(Debug, Clone, PartialEq)]
pub struct Guessed {
    pub title: String,
    pub description: String,
    /// `None` when neither what was given, the tags nor the name carry a usable date.
    pub date: Option<DateTime<Utc>>,
}

/// Given values, else tags (title, date, comment), else the file's name (`file_name`, with or
/// without its extension; a path's folders are ignored).
pub fn guess(file_name: &str, given: Given<'_>, tags: &Tags) -> Guessed {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let stem = std::path::Path::new(base)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (name_date, name_title) = split_dated_name(&stem);
    let nonempty = |s: Option<&str>| {
        s.map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let title = nonempty(given.title)
        .or_else(|| nonempty(tags.title.as_deref()))
        .unwrap_or_else(|| {
            if name_title.is_empty() {
                stem.clone()
            } else {
                name_title
            }
        });
    let description = nonempty(given.description)
        .or_else(|| nonempty(tags.comment.as_deref()))
        .unwrap_or_default();
    let date = given
        .publish_at
        .and_then(parse_date)
        .or_else(|| tags.date.as_deref().and_then(parse_date))
        .or_else(|| name_date.map(noon_wib));
    Guessed {
        title,
        description,
        date,
    }
}

/// A day alone is published at noon in Jakarta (UTC+7): the same date in every Indonesian time
/// zone and in UTC, so apps show the day the recording was made.
pub fn noon_wib(date: NaiveDate) -> DateTime<Utc> {
    let wib = chrono::FixedOffset::east_opt(7 * 3600).expect("a valid offset");
    wib.from_local_datetime(&date.and_time(NaiveTime::from_hms_opt(12, 0, 0).expect("noon")))
        .single()
        .expect("a fixed offset has one local time")
        .with_timezone(&Utc)
}

/// The day `at` falls on in Jakarta (UTC+7): the day `noon_wib` was given back.
pub fn wib_date(at: DateTime<Utc>) -> NaiveDate {
    let wib = chrono::FixedOffset::east_opt(7 * 3600).expect("a valid offset");
    at.with_timezone(&wib).date_naive()
}

/// `2023-06-07T10:00:00+08:00` (RFC 3339), `2023-06-07 10:00:00` (UTC), or `2023-06-07`; in
/// the years an episode may be dated (`bounds::YEARS`), so that a date out of them falls back
/// like an unreadable one rather than failing the episode.
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let parsed = DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M"]
                .into_iter()
                .find_map(|format| chrono::NaiveDateTime::parse_from_str(s, format).ok())
                .map(|t| t.and_utc())
        })
        .or_else(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().map(noon_wib))?;
    super::bounds::check_time("publish_at", parsed).ok()
}

/// `2023-06-07 Rapat koordinasi` → (7 June 2023, `Rapat koordinasi`); also `20230607_rapat`,
/// `2023.06.07-rapat`. Underscores in the title become spaces.
pub fn split_dated_name(stem: &str) -> (Option<NaiveDate>, String) {
    static DATED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^(\d{4})[-_.]?(\d{2})[-_.]?(\d{2})(?:[\s_.\-]+(.*))?$")
            .expect("a valid regex")
    });
    let tidy = |s: &str| {
        s.replace('_', " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    if let Some(c) = DATED.captures(stem) {
        let date = NaiveDate::from_ymd_opt(
            c[1].parse().unwrap_or(0),
            c[2].parse().unwrap_or(0),
            c[3].parse().unwrap_or(0),
        );
        if let Some(date) =
            date.filter(|d| super::bounds::YEARS.contains(&chrono::Datelike::year(d)))
        {
            return (Some(date), tidy(c.get(4).map_or("", |m| m.as_str())));
        }
    }
    (None, tidy(stem))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(
            parse_date("2023-06-07").unwrap().to_rfc3339(),
            "2023-06-07T05:00:00+00:00"
        );
        assert_eq!(
            parse_date("2023-06-07T10:00:00+08:00")
                .unwrap()
                .to_rfc3339(),
            "2023-06-07T02:00:00+00:00"
        );
        assert!(parse_date("7 Juni 2023").is_none());
        let day = NaiveDate::from_ymd_opt(2023, 6, 7).unwrap();
        assert_eq!(wib_date(noon_wib(day)), day);
        assert_eq!(wib_date(parse_date("2023-06-06T18:00:00Z").unwrap()), day);
    }

    #[test]
    fn dated_file_names() {
        let (date, title) = split_dated_name("2023-06-07 Rapat koordinasi");
        assert_eq!(date, NaiveDate::from_ymd_opt(2023, 6, 7));
        assert_eq!(title, "Rapat koordinasi");
        let (date, title) = split_dated_name("20240131_sosialisasi_perda");
        assert_eq!(date, NaiveDate::from_ymd_opt(2024, 1, 31));
        assert_eq!(title, "sosialisasi perda");
        assert_eq!(split_dated_name("2023-13-40 x").0, None);
        assert_eq!(
            split_dated_name("rekaman_lama"),
            (None, "rekaman lama".into())
        );
    }

    #[test]
    fn given_wins_over_tags_which_win_over_the_name() {
        let name = "2023-06-07 Dari nama.mp3";
        let tags = Tags {
            title: Some("Dari tag".into()),
            date: Some("2022-01-02".into()),
            comment: Some("Komentar".into()),
            ..Tags::default()
        };
        let given = Given {
            title: Some("Dari manifest"),
            publish_at: Some("2021-05-06T07:00:00Z"),
            ..Given::default()
        };
        let g = guess(name, given, &tags);
        assert_eq!(g.title, "Dari manifest");
        assert_eq!(g.description, "Komentar");
        assert_eq!(g.date.unwrap().to_rfc3339(), "2021-05-06T07:00:00+00:00");
        let g = guess(name, Given::default(), &tags);
        assert_eq!(g.title, "Dari tag");
        assert_eq!(
            g.date,
            Some(noon_wib(NaiveDate::from_ymd_opt(2022, 1, 2).unwrap()))
        );
        let g = guess(
            &format!("C:\\rekaman\\{name}"),
            Given::default(),
            &Tags::default(),
        );
        assert_eq!(g.title, "Dari nama");
        assert_eq!(
            g.date,
            Some(noon_wib(NaiveDate::from_ymd_opt(2023, 6, 7).unwrap()))
        );
        let g = guess("rekaman_lama.wav", Given::default(), &Tags::default());
        assert_eq!((g.title.as_str(), g.date), ("rekaman lama", None));
    }
}
