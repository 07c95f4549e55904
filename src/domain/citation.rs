//! Citations of a briefing, for journalists and researchers: APA 7 and Chicago (notes and
//! bibliography) in Indonesian and English, and BibTeX, RIS and CSL-JSON for reference
//! managers. Each carries the permanent URL, the date it was accessed and, for a moment of the
//! recording, its timestamp; every value is the one the feed publishes (title, author, show,
//! date in UTC as in `pubDate`, duration as in `itunes:duration`).
//!
//! Pure functions of `Cited`: no database, no HTTP.

use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use serde_json::{Value, json};

/// Which language a formatted citation is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CiteLang {
    Id,
    En,
}

/// Everything a citation of one briefing (or one moment of it) says.
#[derive(Debug, Clone, PartialEq)]
pub struct Cited {
    /// A stable key: the episode's guid.
    pub key: String,
    /// The office or official the show names as its author.
    pub author: String,
    pub title: String,
    pub show_title: String,
    pub episode_number: Option<u32>,
    pub published: DateTime<Utc>,
    pub duration_ms: u64,
    /// The episode's permanent page.
    pub url: String,
    pub video: bool,
    pub language: String,
    /// The moment cited, if any.
    pub at_ms: Option<u64>,
    pub accessed: NaiveDate,
}

impl Cited {
    /// The URL cited: the page, at the moment when there is one (`#t=SECONDS`, which the page's
    /// player seeks to).
    pub fn cited_url(&self) -> String {
        match self.at_ms {
            Some(ms) => format!("{}#t={}", self.url, ms / 1000),
            None => self.url.clone(),
        }
    }
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_ID: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];

fn month(lang: CiteLang, m: u32) -> &'static str {
    let i = (m.clamp(1, 12) - 1) as usize;
    match lang {
        CiteLang::Id => MONTHS_ID[i],
        CiteLang::En => MONTHS_EN[i],
    }
}

/// "7 Juni 2023" or "June 7, 2023".
pub fn long_date(lang: CiteLang, d: NaiveDate) -> String {
    match lang {
        CiteLang::Id => format!("{} {} {}", d.day(), month(lang, d.month()), d.year()),
        CiteLang::En => format!("{} {}, {}", month(lang, d.month()), d.day(), d.year()),
    }
}

/// `1:35` or `1:02:03`: a moment or a length as players show it.
pub fn clock(ms: u64) -> String {
    let s = ms / 1000;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// A moment as a person types it: `1:35`, `1:02:03` or seconds (`95`), each with an optional
/// fraction (`1:35.5`); the inverse of [`clock`]. `None` for anything else.
pub fn parse_clock(s: &str) -> Option<u64> {
    let s = s.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let parts: Vec<&str> = whole.split(':').collect();
    let num = |v: &str| -> Option<u64> {
        (!v.is_empty() && v.len() <= 9 && v.bytes().all(|b| b.is_ascii_digit()))
            .then(|| v.parse().ok())
            .flatten()
    };
    let seconds = match parts.as_slice() {
        [s] => num(s)?,
        [m, s] => num(m)? * 60 + num(s).filter(|s| *s < 60)?,
        [h, m, s] => {
            (num(h)? * 60 + num(m).filter(|m| *m < 60)?) * 60 + num(s).filter(|s| *s < 60)?
        }
        _ => return None,
    };
    let ms: u64 = format!("{frac:0<3}").parse().unwrap_or(0);
    Some(seconds * 1000 + ms)
}

/// A length as the feed rounds it (`itunes:duration`, whole seconds to nearest), as a clock.
pub fn length(ms: u64) -> String {
    clock((ms + 500) / 1000 * 1000)
}

fn duration(c: &Cited) -> String {
    length(c.duration_ms)
}

/// APA 7, reference list entry: `Author. (Year, Month Day). Title (No. N) [Audio podcast
/// episode]. In *Show*. Retrieved …, from URL` (italics as `*…*`, Markdown-style; the page
/// renders them). With a moment, the in-text citation that goes with it follows on a new line.
pub fn apa(c: &Cited, lang: CiteLang) -> String {
    let d = c.published.date_naive();
    let date = match lang {
        CiteLang::Id => format!("{}, {} {}", d.year(), d.day(), month(lang, d.month())),
        CiteLang::En => format!("{}, {} {}", d.year(), month(lang, d.month()), d.day()),
    };
    let number = c
        .episode_number
        .map(|n| format!(" (No. {n})"))
        .unwrap_or_default();
    let kind = match (lang, c.video) {
        (CiteLang::Id, false) => "Episode siniar audio",
        (CiteLang::Id, true) => "Episode siniar video",
        (CiteLang::En, false) => "Audio podcast episode",
        (CiteLang::En, true) => "Video podcast episode",
    };
    let (in_word, retrieved) = match lang {
        CiteLang::Id => (
            "Dalam",
            format!("Diakses {}, dari", long_date(lang, c.accessed)),
        ),
        CiteLang::En => (
            "In",
            format!("Retrieved {}, from", long_date(lang, c.accessed)),
        ),
    };
    let mut text = format!(
        "{}. ({date}). {}{number} [{kind}]. {in_word} *{}*. {retrieved} {}",
        end_with_no_period(&c.author),
        c.title,
        c.show_title,
        c.cited_url()
    );
    if let Some(ms) = c.at_ms {
        text.push_str(&format!("\n({}, {}, {})", c.author, d.year(), clock(ms)));
    }
    text
}

/// Chicago 17th, bibliography entry: `Author. "Title." *Show*. Month Day, Year. Audio, 2:47.
/// At 1:35. URL. Accessed Month Day, Year.`
pub fn chicago(c: &Cited, lang: CiteLang) -> String {
    let published = long_date(lang, c.published.date_naive());
    let medium = match (lang, c.video) {
        (CiteLang::Id, false) => "Audio",
        (CiteLang::Id, true) => "Video",
        (CiteLang::En, false) => "Audio",
        (CiteLang::En, true) => "Video",
    };
    let moment = c
        .at_ms
        .map(|ms| match lang {
            CiteLang::Id => format!(" Pada menit {}.", clock(ms)),
            CiteLang::En => format!(" At {}.", clock(ms)),
        })
        .unwrap_or_default();
    let accessed = match lang {
        CiteLang::Id => format!("Diakses {}.", long_date(lang, c.accessed)),
        CiteLang::En => format!("Accessed {}.", long_date(lang, c.accessed)),
    };
    format!(
        "{}. “{}.” *{}*. {published}. {medium}, {}.{moment} {}. {accessed}",
        end_with_no_period(&c.author),
        end_with_no_period(&c.title),
        c.show_title,
        duration(c),
        c.cited_url()
    )
}

fn end_with_no_period(s: &str) -> &str {
    s.trim_end_matches('.')
}

/// BibTeX (`@misc`, with biblatex's `date` and `urldate` beside the classic `year`/`month`).
pub fn bibtex(c: &Cited) -> String {
    let d = c.published.date_naive();
    let mut fields = vec![
        ("author", format!("{{{}}}", tex(&c.author))),
        ("title", format!("{{{}}}", tex(&c.title))),
        (
            "howpublished",
            format!(
                "{{{} episode, \\emph{{{}}}}}",
                if c.video { "Video podcast" } else { "Podcast" },
                tex(&c.show_title)
            ),
        ),
        ("year", d.year().to_string()),
        (
            "month",
            MONTHS_EN[(d.month() - 1) as usize][..3].to_lowercase(),
        ),
        ("date", d.to_string()),
        ("url", format!("{{{}}}", c.cited_url())),
        ("urldate", c.accessed.to_string()),
        ("language", c.language.clone()),
    ];
    let mut note = format!("Duration {}", duration(c));
    if let Some(ms) = c.at_ms {
        note.push_str(&format!("; cited at {}", clock(ms)));
    }
    fields.push(("note", format!("{{{note}}}")));
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("  {k} = {v}")).collect();
    format!("@misc{{{},\n{}\n}}\n", bib_key(c), body.join(",\n"))
}

fn bib_key(c: &Cited) -> String {
    let key: String = c
        .key
        .chars()
        .filter(|ch| ch.is_ascii_alphanumeric() || *ch == '-')
        .collect();
    format!("siaran-{key}")
}

/// Escapes the characters BibTeX and LaTeX treat specially.
fn tex(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\textbackslash{}"),
            '{' | '}' | '&' | '%' | '$' | '#' | '_' => {
                out.push('\\');
                out.push(ch);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// RIS (`TY  - SOUND`), the tagged format Zotero, Mendeley and EndNote import.
pub fn ris(c: &Cited) -> String {
    let d = c.published.date_naive();
    let one_line = |s: &str| s.replace(['\r', '\n'], " ");
    let mut lines = vec![
        ("TY", "SOUND".to_owned()),
        ("AU", one_line(&c.author)),
        ("TI", one_line(&c.title)),
        ("T2", one_line(&c.show_title)),
        ("PY", d.year().to_string()),
        ("DA", d.format("%Y/%m/%d").to_string()),
        ("UR", c.cited_url()),
        ("Y2", c.accessed.format("%Y/%m/%d").to_string()),
        ("LA", c.language.clone()),
        (
            "M3",
            if c.video {
                "Video podcast episode"
            } else {
                "Podcast episode"
            }
            .to_owned(),
        ),
        ("ET", duration(c)),
    ];
    if let Some(n) = c.episode_number {
        lines.push(("IS", n.to_string()));
    }
    if let Some(ms) = c.at_ms {
        lines.push(("N1", format!("Cited at {}", clock(ms))));
    }
    lines.push(("ID", c.key.clone()));
    let mut out: String = lines
        .iter()
        .map(|(tag, v)| format!("{tag}  - {v}\r\n"))
        .collect();
    out.push_str("ER  - \r\n");
    out
}

/// CSL-JSON (an array of one item), what citeproc, Zotero and pandoc read.
pub fn csl_json(c: &Cited) -> Value {
    let d = c.published.date_naive();
    let parts = |d: NaiveDate| json!({"date-parts": [[d.year(), d.month(), d.day()]]});
    let mut item = json!({
        "id": c.key,
        "type": "broadcast",
        "genre": if c.video { "Video podcast episode" } else { "Podcast episode" },
        "title": c.title,
        "container-title": c.show_title,
        "author": [{"literal": c.author}],
        "issued": parts(d),
        "accessed": parts(c.accessed),
        "URL": c.cited_url(),
        "medium": if c.video { "Video" } else { "Audio" },
        "dimensions": duration(c),
        "language": c.language,
    });
    if let Some(n) = c.episode_number {
        item["number"] = json!(n.to_string());
    }
    if let Some(ms) = c.at_ms {
        item["note"] = json!(format!("Cited at {}", clock(ms)));
    }
    json!([item])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cited(at_ms: Option<u64>) -> Cited {
        Cited {
            key: "5096baef-c180-5eb2-9a0c-ef6a584ee02e".into(),
            author: "Diskominfo Kaltim".into(),
            title: "Pejabat Pemerintah Harus Punya Mindset Digital".into(),
            show_title: "Siaran Pers Kaltim".into(),
            episode_number: Some(1),
            published: DateTime::from_timestamp(1_686_124_800, 0).unwrap(),
            duration_ms: 166_900,
            url: "https://siaran.example.go.id/shows/pers/mindset".into(),
            video: false,
            language: "id".into(),
            at_ms,
            accessed: NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
        }
    }

    #[test]
    fn apa_in_both_languages() {
        assert_eq!(
            apa(&cited(None), CiteLang::En),
            "Diskominfo Kaltim. (2023, June 7). Pejabat Pemerintah Harus Punya Mindset Digital \
             (No. 1) [Audio podcast episode]. In *Siaran Pers Kaltim*. Retrieved November 28, \
             2026, from https://siaran.example.go.id/shows/pers/mindset"
        );
        assert_eq!(
            apa(&cited(Some(95_000)), CiteLang::Id),
            "Diskominfo Kaltim. (2023, 7 Juni). Pejabat Pemerintah Harus Punya Mindset Digital \
             (No. 1) [Episode siniar audio]. Dalam *Siaran Pers Kaltim*. Diakses 28 November \
             2026, dari https://siaran.example.go.id/shows/pers/mindset#t=95\n\
             (Diskominfo Kaltim, 2023, 1:35)"
        );
    }

    #[test]
    fn chicago_in_both_languages() {
        assert_eq!(
            chicago(&cited(Some(95_000)), CiteLang::En),
            "Diskominfo Kaltim. “Pejabat Pemerintah Harus Punya Mindset Digital.” *Siaran Pers \
             Kaltim*. June 7, 2023. Audio, 2:47. At 1:35. \
             https://siaran.example.go.id/shows/pers/mindset#t=95. Accessed November 28, 2026."
        );
        assert!(chicago(&cited(None), CiteLang::Id).ends_with("Diakses 28 November 2026."));
    }

    #[test]
    fn bibtex_escapes_and_keeps_the_moment() {
        let mut c = cited(Some(95_000));
        c.title = "50% & {more}_#1".into();
        let bib = bibtex(&c);
        assert!(bib.starts_with("@misc{siaran-5096baef-c180-5eb2-9a0c-ef6a584ee02e,\n"));
        assert!(
            bib.contains("title = {50\\% \\& \\{more\\}\\_\\#1}"),
            "{bib}"
        );
        assert!(bib.contains("urldate = 2026-11-28"));
        assert!(bib.contains("note = {Duration 2:47; cited at 1:35}"));
    }

    #[test]
    fn ris_lines() {
        let ris = ris(&cited(Some(95_000)));
        assert!(ris.starts_with("TY  - SOUND\r\n"));
        assert!(ris.contains("DA  - 2023/06/07\r\n"));
        assert!(ris.contains("Y2  - 2026/11/28\r\n"));
        assert!(ris.contains("UR  - https://siaran.example.go.id/shows/pers/mindset#t=95\r\n"));
        assert!(ris.ends_with("ER  - \r\n"));
    }

    #[test]
    fn csl() {
        let v = csl_json(&cited(None));
        assert_eq!(v[0]["issued"]["date-parts"], json!([[2023, 6, 7]]));
        assert_eq!(v[0]["author"][0]["literal"], "Diskominfo Kaltim");
        assert!(v[0].get("note").is_none());
    }

    #[test]
    fn clocks() {
        assert_eq!(clock(95_000), "1:35");
        assert_eq!(clock(3_723_000), "1:02:03");
        assert_eq!(clock(0), "0:00");
    }

    #[test]
    fn typed_moments_are_read() {
        assert_eq!(parse_clock("1:35"), Some(95_000));
        assert_eq!(parse_clock(" 1:02:03 "), Some(3_723_000));
        assert_eq!(parse_clock("95"), Some(95_000));
        assert_eq!(parse_clock("0:07.25"), Some(7_250));
        assert_eq!(parse_clock(&clock(3_723_000)), Some(3_723_000));
        for bad in [
            "",
            "1:60",
            "1:2:3:4",
            "a:10",
            "1:-5",
            "1.5.5",
            "1:05.1234",
            ":30",
        ] {
            assert_eq!(parse_clock(bad), None, "{bad}");
        }
    }
}
