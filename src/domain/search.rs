//! Full-text search over the public archive (issue 6.4): what a query is, and what a search
//! answers. A query is parsed here into words and quoted phrases made of letters and digits only,
//! so no character a user types reaches FTS5's or PostgreSQL's query syntax: each backend gets
//! quoted terms (FTS5) or one `phraseto_tsquery` per term (PostgreSQL), all of which must match.
//!
//! Owns parsing and the results contract; the SQL is in `db`, the HTTP answers in `http::search`,
//! the page in `templates::search`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::domain::{Document, DocumentKind, EpisodeId, Msg, Slug};

/// Longest accepted query, in characters. Also keeps every word under PostgreSQL's 2,047-byte
/// limit for a lexeme, which would otherwise fail the query.
pub const MAX_QUERY_CHARS: usize = 300;
/// Most words and phrases in one query.
pub const MAX_TERMS: usize = 12;
/// Most transcript moments listed per episode.
pub const MAX_MOMENTS: usize = 20;
pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 50;

/// A word, or a phrase (words that must follow each other).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    Word(String),
    Phrase(Vec<String>),
}

impl Term {
    /// The term's words separated by single spaces: what both backends are given.
    pub fn text(&self) -> String {
        match self {
            Term::Word(w) => w.clone(),
            Term::Phrase(words) => words.join(" "),
        }
    }

    pub fn words(&self) -> &[String] {
        match self {
            Term::Word(w) => std::slice::from_ref(w),
            Term::Phrase(words) => words,
        }
    }

    /// As FTS5 query syntax: one quoted string (a phrase even for one word). Words hold letters
    /// and digits only, so there is no quote to escape.
    pub fn fts5(&self) -> String {
        format!("\"{}\"", self.text())
    }
}

/// A search as the handlers ask it.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub terms: Vec<Term>,
    pub show: Option<Slug>,
    /// Publication dates, inclusive, as days in WIB (UTC+7).
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub kind: Option<DocumentKind>,
    pub limit: u32,
}

impl SearchQuery {
    /// The FTS5 MATCH expression: every term, implicitly AND-ed.
    pub fn fts5(&self) -> String {
        self.terms
            .iter()
            .map(Term::fts5)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The same in the title column only (`title : "a" AND title : "b"`).
    pub fn fts5_title(&self) -> String {
        self.terms
            .iter()
            .map(|t| format!("title : {}", t.fts5()))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// The window of publication times the filters allow, in epoch milliseconds, ending at `now`
    /// at the latest (a scheduled episode is not public yet).
    pub fn window(&self, now: DateTime<Utc>) -> (i64, i64) {
        let from = self.from.map_or(i64::MIN, wib_midnight);
        let until = now.timestamp_millis();
        let until = match self.to.and_then(|d| d.succ_opt()) {
            Some(next) => until.min(wib_midnight(next) - 1),
            None => until,
        };
        (from, until)
    }
}

/// 00:00 in Jakarta (UTC+7) on `day`, in epoch milliseconds.
fn wib_midnight(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp_millis() - 7 * 3600 * 1000)
}

/// Splits what a user typed into terms: runs of letters and digits are words (lower-cased),
/// text between double quotes is a phrase (an unclosed quote runs to the end). Everything else,
/// operators of either backend's syntax included (`OR`, `NEAR(`, `-`, `*`, `:`), is a separator
/// or a plain word.
pub fn parse_terms(q: &str) -> Result<Vec<Term>, (&'static str, Msg)> {
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err((
            "query-too-long",
            Msg::new(
                format!(
                    "Kata pencarian terlalu panjang (paling banyak {MAX_QUERY_CHARS} karakter)"
                ),
                format!("The search is too long (at most {MAX_QUERY_CHARS} characters)"),
            ),
        ));
    }
    let mut terms = Vec::new();
    for (i, part) in q.split('"').enumerate() {
        let words = words(part);
        if i % 2 == 1 && words.len() > 1 {
            terms.push(Term::Phrase(words));
        } else {
            terms.extend(words.into_iter().map(Term::Word));
        }
    }
    let mut unique: Vec<Term> = Vec::new();
    for t in terms {
        if !unique.contains(&t) {
            unique.push(t);
        }
    }
    if unique.is_empty() {
        return Err((
            "empty-query",
            Msg::new(
                "Tulis kata yang dicari (huruf atau angka)",
                "Type the words to search for (letters or digits)",
            ),
        ));
    }
    if unique.len() > MAX_TERMS {
        return Err((
            "too-many-terms",
            Msg::new(
                format!("Terlalu banyak kata (paling banyak {MAX_TERMS})"),
                format!("Too many words (at most {MAX_TERMS})"),
            ),
        ));
    }
    Ok(unique)
}

/// Lower-cased runs of letters and digits.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// One moment of a transcript where the words are spoken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Moment {
    pub start_ms: u64,
    pub end_ms: u64,
    pub language: String,
    /// The cue as plain text (markup removed, a voice shown as "Name: ").
    pub text: String,
}

/// Where in an episode the query matched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MatchedIn {
    /// Title or description.
    pub episode: bool,
    pub transcript: bool,
    /// The title or number of a document the episode discusses.
    pub document: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct EpisodeHit {
    pub episode_id: EpisodeId,
    pub show_slug: Slug,
    pub show_title: String,
    pub slug: Slug,
    pub title: String,
    pub description: String,
    pub publish_at: DateTime<Utc>,
    /// Where the terms were found, summed: all in the title 5, in the title and description 2,
    /// in the transcript 1, in a discussed document 1. Results are ordered by it, then newest
    /// first; the same on both backends.
    pub score: i64,
    pub matched_in: MatchedIn,
    /// Cues holding every term, in time order (at most `MAX_MOMENTS`). When the words are
    /// spoken across two cues, the first of them.
    pub moments: Vec<Moment>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentHit {
    pub document: Document,
    /// 2 when every term is in the title, else 1; results are ordered by it, then by title.
    pub score: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    /// Public episodes matching, before `limit`.
    pub total: u64,
    pub episodes: Vec<EpisodeHit>,
    pub documents: Vec<DocumentHit>,
}

/// Cues where the query's words run across the end of one cue into the next, for an episode
/// whose transcript matched but no single cue did: every term must lie in the two cues' words,
/// a phrase in order, and not all of them in the second cue alone (that is its own moment). Case-insensitive, exact words
/// (no stemming, no accent folding): a fallback that points at a moment, never a filter.
pub fn spanning_moments(terms: &[Term], cues: &[Moment]) -> Vec<Moment> {
    let tokenized: Vec<Vec<String>> = cues.iter().map(|c| words(&c.text)).collect();
    let mut found = Vec::new();
    for i in 0..cues.len().saturating_sub(1) {
        if cues[i].language != cues[i + 1].language {
            continue;
        }
        let next = &tokenized[i + 1];
        let both: Vec<String> = tokenized[i].iter().chain(next).cloned().collect();
        if terms.iter().all(|t| contains(&both, t.words()))
            && !terms.iter().all(|t| contains(next, t.words()))
        {
            found.push(cues[i].clone());
            if found.len() == MAX_MOMENTS {
                break;
            }
        }
    }
    found
}

fn contains(haystack: &[String], needle: &[String]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_words_and_phrases_only() {
        assert_eq!(
            parse_terms("Informasi \"Badan  Publik\" -x* NEAR( OR:").unwrap(),
            vec![
                Term::Word("informasi".into()),
                Term::Phrase(vec!["badan".into(), "publik".into()]),
                Term::Word("x".into()),
                Term::Word("near".into()),
                Term::Word("or".into()),
            ]
        );
        assert_eq!(
            parse_terms("\"satu\" \"dua tiga").unwrap(),
            vec![
                Term::Word("satu".into()),
                Term::Phrase(vec!["dua".into(), "tiga".into()])
            ]
        );
        assert!(parse_terms("\"").is_err());
        assert!(parse_terms(" *:- ").is_err());
        assert!(parse_terms(&"a".repeat(MAX_QUERY_CHARS + 1)).is_err());
        assert_eq!(
            parse_terms("Café").unwrap(),
            vec![Term::Word("café".into())]
        );
        let q = SearchQuery {
            terms: parse_terms("uu \"14 tahun 2008\"").unwrap(),
            show: None,
            from: None,
            to: None,
            kind: None,
            limit: 20,
        };
        assert_eq!(q.fts5(), "\"uu\" \"14 tahun 2008\"");
    }

    #[test]
    fn window_is_in_wib_and_ends_now() {
        let q = SearchQuery {
            terms: vec![Term::Word("x".into())],
            show: None,
            from: NaiveDate::from_ymd_opt(2026, 1, 5),
            to: NaiveDate::from_ymd_opt(2026, 1, 5),
            kind: None,
            limit: 20,
        };
        let now = Utc::now();
        let (from, until) = q.window(now);
        // 2026-01-04T17:00:00Z .. 2026-01-05T16:59:59.999Z
        assert_eq!(from, 1_767_546_000_000);
        assert_eq!(until, 1_767_632_399_999);
    }

    #[test]
    fn phrases_across_two_cues() {
        let cue = |s: u64, text: &str| Moment {
            start_ms: s,
            end_ms: s + 1000,
            language: "id".into(),
            text: text.into(),
        };
        let cues = [
            cue(0, "Selamat pagi."),
            cue(1000, "Badan publik wajib"),
            cue(2000, "menyediakan informasi."),
        ];
        let terms = parse_terms("\"wajib menyediakan\"").unwrap();
        let found = spanning_moments(&terms, &cues);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].start_ms, 1000);
        assert!(spanning_moments(&parse_terms("\"pagi wajib\"").unwrap(), &cues).is_empty());
    }
}
