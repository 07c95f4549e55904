//! The clip check page, `/cek`: what it does, the form (a file, posted as
//! `multipart/form-data`, no script), and the result: the summary, the exact file or each
//! stretch found (its episode linked at `#t=`, the ranges in the episode and in the clip, the
//! similarity), the parts that match nothing and the edits. A pure function of what
//! `http::verify` got from `service::verify`; maud escapes every value.

use maud::{Markup, html};

use super::{Head, date, layout, t};
use crate::{
    domain::citation::clock,
    http::error::UiLang,
    service::verify::{CutAt, Verdict},
};

pub struct CheckPage<'a> {
    pub verdict: Option<&'a Verdict>,
    /// Why the clip was refused, in the page's language.
    pub error: Option<String>,
    pub max_bytes: u64,
    pub max_seconds: u64,
}

fn range(a: u64, b: u64) -> String {
    format!("{}–{}", clock(a), clock(b))
}

/// `path#t=SECONDS`, rounded down, as search's moment links.
fn at(path: &str, ms: u64) -> String {
    format!("{path}#t={}", ms / 1000)
}

pub fn render(lang: UiLang, site: &super::SiteChrome, p: &CheckPage<'_>) -> Markup {
    let title = t(lang, "Periksa potongan rekaman", "Check a clip");
    let code = t(lang, "id", "en");
    let mib = p.max_bytes >> 20;
    let minutes = p.max_seconds.div_ceil(60);
    let body = html! {
        h1 { (title) }
        // What was asked first: the result, or why the file was refused; the form after it.
        @if let Some(e) = &p.error { p.error role="alert" { (e) } }
        @if let Some(v) = p.verdict { (result(lang, v)) }
        @if p.verdict.is_some() { h2 { (t(lang, "Periksa berkas lain", "Check another file")) } }
        p { (t(lang,
            "Menerima potongan rekaman pejabat lewat WhatsApp atau media sosial? Kirim berkasnya di sini. Kami memeriksa apakah berkas itu persis rekaman resmi yang diterbitkan, dan bila bukan, mencari setiap bagiannya di arsip siaran resmi dengan sidik akustik: dari siaran mana, pada menit berapa, dan apakah ada yang disisipkan, dipotong atau diubah urutannya.",
            "Received a clip of an official on WhatsApp or social media? Send the file here. We check whether it is exactly a recording the office published, and if not, look for each part of it in the archive of official briefings by its acoustic fingerprint: from which briefing, at which minute, and whether anything was inserted, cut out or reordered."))
        }
        p.meta {
            (t(lang, "Berkas Anda tidak disimpan: hanya diperiksa, lalu langsung dihapus. Paling besar ", "Your file is not kept: it is checked, then deleted at once. At most "))
            (mib) " MiB"
            (t(lang, "; potongan sampai ", "; clips up to "))
            (minutes)
            (t(lang, " menit dicari di arsip (salinan persis berkas yang diterbitkan dikenali berapa pun panjangnya).", " minutes are looked up in the archive (an exact copy of a published file is recognised whatever its length)."))
        }
        form.check action={ "/cek?lang=" (code) } method="post" enctype="multipart/form-data" {
            p {
                label for="clip" { (t(lang, "Berkas audio atau video", "Audio or video file")) }
                br;
                input #clip type="file" name="file" accept="audio/*,video/*" required;
            }
            p { button type="submit" { (t(lang, "Periksa", "Check")) } }
        }
    };
    let head = Head {
        description: t(
            lang,
            "Periksa apakah potongan rekaman berasal dari arsip siaran resmi",
            "Check whether a clip comes from the archive of official briefings",
        )
        .to_owned(),
        // A result is about one person's file: nothing for a search engine to keep.
        noindex: p.verdict.is_some() || p.error.is_some(),
        ..Head::default()
    };
    layout(lang, site, title, "/cek", &head, &body)
}

fn result(lang: UiLang, v: &Verdict) -> Markup {
    let summary = match lang {
        UiLang::Id => &v.summary.id,
        UiLang::En => &v.summary.en,
    };
    html! {
        section #result aria-labelledby="result-heading" {
            h2 #result-heading { (t(lang, "Hasil pemeriksaan", "Result")) }
            p.summary role="status" { strong { (summary) } }
            @if let Some(x) = &v.exact {
                p {
                    (t(lang, "Berkas ini sama persis (SHA-256) dengan ", "This file is identical (SHA-256) to "))
                    (if x.rendition { t(lang, "versi lain rekaman ", "a rendition of the recording of ") } else { t(lang, "rekaman ", "the recording of ") })
                    a href=(x.episode.path) { (x.episode.title) }
                    " (" (x.episode.show_title) ", " (date(lang, x.episode.published_at)) ")."
                }
            } @else if v.matches.is_empty() {
                p { (t(lang,
                    "Ini tidak membuktikan bahwa rekaman itu palsu atau asli: hanya bahwa isinya tidak ditemukan di arsip siaran resmi yang diterbitkan.",
                    "This does not prove the recording false or genuine: only that what it says was not found in the published archive of official briefings."))
                }
            } @else {
                h3 { (t(lang, "Bagian yang ditemukan", "Parts found")) }
                ol.results {
                    @for m in &v.matches {
                        li {
                            a href=(at(&m.episode.path, m.episode_start_ms)) { (m.episode.title) }
                            " " span.meta { (m.episode.show_title) " · " (date(lang, m.episode.published_at)) }
                            br;
                            (t(lang, "dalam siaran ", "in the briefing "))
                            strong { (range(m.episode_start_ms, m.episode_end_ms)) }
                            (t(lang, " · dalam potongan ", " · in the clip "))
                            strong { (range(m.clip_start_ms, m.clip_end_ms)) }
                            (t(lang, " · kemiripan ", " · similarity "))
                            strong { (format!("{}%", (m.score.clamp(0.0, 1.0) * 100.0).round() as u32)) }
                        }
                    }
                }
            }
            @if !v.unmatched.is_empty() {
                h3 { (t(lang, "Bagian yang tidak cocok dengan arsip", "Parts that match nothing in the archive")) }
                ul {
                    @for u in &v.unmatched {
                        li { (t(lang, "dalam potongan ", "in the clip ")) (range(u.clip_start_ms, u.clip_end_ms)) }
                    }
                }
            }
            @if !v.cuts.is_empty() {
                h3 { (t(lang, "Suntingan", "Edits")) }
                ul { @for c in &v.cuts { li { (cut(lang, c)) } } }
            }
            p.meta {
                (t(lang, "SHA-256 berkas yang diperiksa: ", "SHA-256 of the file checked: "))
                code { (v.sha256) }
            }
        }
    }
}

fn cut(lang: UiLang, c: &CutAt) -> Markup {
    html! {
        @if c.out_of_order() {
            (t(lang, "Urutan diubah pada ", "The order changes at "))
            (clock(c.clip_at_ms))
            (t(lang, " potongan: berlanjut dari ", " of the clip: it goes on from "))
            a href=(at(&c.episode.path, c.episode_start_ms)) { (clock(c.episode_start_ms)) }
            (t(lang, " dalam ", " in "))
            (c.episode.title)
        } @else {
            (t(lang, "Pada ", "At "))
            (clock(c.clip_at_ms))
            (t(lang, " potongan, bagian ", " of the clip, "))
            a href=(at(&c.episode.path, c.episode_start_ms)) { (range(c.episode_start_ms, c.episode_end_ms)) }
            (t(lang, " dari ", " of "))
            (c.episode.title)
            (t(lang, " dilewati.", " is left out."))
        }
    }
}
