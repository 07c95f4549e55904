//! The search page, `/cari`: the form (words, show, dates, document kind) and the results, each
//! transcript moment a link into the episode page at `#t=SECONDS`, where the player seeks. A pure
//! function of what the handler in `http::search` loaded; maud escapes every value.

use maud::{Markup, html};

use super::{Head, date, document_name, kind_label, layout, t};
use crate::{
    db::DocumentKind,
    domain::Show,
    domain::citation::clock,
    domain::search::{EpisodeHit, SearchResults, Term},
    http::error::UiLang,
};

/// What the form holds, as typed.
#[derive(Debug, Default, Clone)]
pub struct Form {
    pub q: String,
    pub show: String,
    pub from: String,
    pub to: String,
    pub kind: String,
}

/// An episode's page path (pages link with paths).
pub fn episode_path(hit: &EpisodeHit) -> String {
    format!("/shows/{}/{}", hit.show_slug, hit.slug)
}

/// The moment link: whole seconds, rounded down, so the player starts just before the words.
pub fn moment_fragment(start_ms: u64) -> String {
    format!("#t={}", start_ms / 1000)
}

/// The text with the query's words marked (whole words, case-insensitive).
fn marked(text: &str, terms: &[Term]) -> Markup {
    let wanted: Vec<&str> = terms
        .iter()
        .flat_map(|t| t.words().iter().map(String::as_str))
        .collect();
    let mut pieces: Vec<(bool, String)> = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, pieces: &mut Vec<(bool, String)>| {
        if !word.is_empty() {
            let hit = wanted.contains(&word.to_lowercase().as_str());
            pieces.push((hit, std::mem::take(word)));
        }
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut pieces);
            pieces.push((false, c.to_string()));
        }
    }
    flush(&mut word, &mut pieces);
    html! {
        @for (hit, piece) in &pieces {
            @if *hit { mark { (piece) } } @else { (piece) }
        }
    }
}

pub struct SearchPage<'a> {
    pub form: &'a Form,
    pub path: String,
    pub shows: &'a [Show],
    pub terms: &'a [Term],
    pub results: Option<&'a SearchResults>,
    /// Why the search was refused (a bad filter), in the page's language.
    pub error: Option<String>,
}

pub fn render(lang: UiLang, site: &super::SiteChrome, p: &SearchPage<'_>) -> Markup {
    let title = t(lang, "Cari", "Search");
    let f = p.form;
    let body = html! {
        h1 { (title) }
        form.filters action="/cari" method="get" role="search" {
            p {
                input type="search" name="q" value=(f.q) size="40"
                    aria-label=(t(lang, "Kata yang dicari", "Words to search for"));
                " "
                button type="submit" { (title) }
            }
            p.meta {
                label { (t(lang, "Acara ", "Show ")) select name="show" {
                    option value="" { (t(lang, "semua", "all")) }
                    @for s in p.shows {
                        option value=(s.slug) selected[f.show == s.slug.as_str()] { (s.title) }
                    }
                } }
                " "
                label { (t(lang, "dari ", "from ")) input type="date" name="from" value=(f.from); }
                " "
                label { (t(lang, "sampai ", "to ")) input type="date" name="to" value=(f.to); }
                " "
                label { (t(lang, "jenis dokumen ", "document kind ")) select name="kind" {
                    option value="" { (t(lang, "semua", "all")) }
                    @for k in DocumentKind::ALL {
                        option value=(k.as_str()) selected[f.kind == k.as_str()] { (kind_label(lang, k)) }
                    }
                } }
            }
            p.meta { (t(lang,
                "Kata-kata dicari semuanya; \"tanda kutip\" untuk frasa. Tanpa pemotongan imbuhan di SQLite.",
                "All words must match; \"quotes\" for a phrase."))
            }
        }
        @if let Some(e) = &p.error { p.error role="alert" { (e) } }
        @if let Some(r) = p.results {
            h2 { (t(lang, "Siaran", "Briefings")) " (" (r.total) ")" }
            @if r.episodes.is_empty() { p { (t(lang, "Tidak ada siaran yang cocok.", "No briefing matches.")) } }
            ol.results {
                @for hit in &r.episodes {
                    @let path = episode_path(hit);
                    li.episode {
                        a href=(path) { (hit.title) }
                        " " span.meta { (hit.show_title) " · " (date(lang, hit.publish_at)) }
                        @if hit.matched_in.document && !hit.matched_in.transcript && !hit.matched_in.episode {
                            " " span.meta { (t(lang, "(dokumen yang dibahas)", "(a document it discusses)")) }
                        }
                        @if !hit.moments.is_empty() {
                            ol.cues {
                                @for m in &hit.moments {
                                    li {
                                        a.t href={ (path) (moment_fragment(m.start_ms)) } { (clock(m.start_ms)) }
                                        (marked(&m.text, p.terms))
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { (t(lang, "Dokumen", "Documents")) " (" (r.documents.len()) ")" }
            @if r.documents.is_empty() { p { (t(lang, "Tidak ada dokumen yang cocok.", "No document matches.")) } }
            ul.documents {
                @for d in &r.documents {
                    li {
                        a href={ "/documents/" (d.document.id) } { (document_name(&d.document)) }
                        " " span.meta { (kind_label(lang, d.document.kind)) }
                    }
                }
            }
        }
    };
    let head = Head {
        description: t(
            lang,
            "Cari siaran resmi, transkrip dan dokumen",
            "Search official briefings, transcripts and documents",
        )
        .to_owned(),
        ..Head::default()
    };
    layout(lang, site, title, &p.path, &head, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_whole_words() {
        let terms = crate::domain::search::parse_terms("informasi").unwrap();
        let html = marked("Informasi <publik> informasiku", &terms).into_string();
        assert_eq!(html, "<mark>Informasi</mark> &lt;publik&gt; informasiku");
    }
}
