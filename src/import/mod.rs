//! Bringing past briefings in: `siaran import DIR` (a folder of recordings, `dir`) and
//! `siaran import-feed URL` (an existing podcast, `feed`, fetched through the SSRF-guarded
//! client in `fetch`).
//!
//! Both call the operations the API calls (`service`): `service::media` for the bytes (spooled,
//! hashed, probed, stored), `service::episodes::create` for the episode,
//! `service::episode_files` for transcripts and chapters, `service::shows` for a show and its
//! cover — so an imported briefing is held to the same rules as an uploaded one, and the audit
//! trail names `import` as who made it. Both can be run again after
//! an interruption: what is already in the show (same SHA-256 for a file, same guid for a feed
//! item) is skipped.
//!
//! This module reports; it does not print, except for the progress bar on a terminal.

pub mod dir;
pub mod feed;
pub mod fetch;

use std::{fmt::Write as _, io::IsTerminal as _};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How a date of a manifest or a feed is read (`domain::file_meta`, shared with the studio).
pub use crate::domain::file_meta::{noon_wib, parse_date};

/// What an import did, item by item.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Items now in the show (file names, or feed item titles).
    pub imported: Vec<String>,
    /// Items that were there already (same SHA-256, or same guid).
    pub skipped: Vec<String>,
    /// Items not imported, and why.
    pub failed: Vec<Failure>,
    /// Imported with something left out (a transcript that did not pass, a cover...).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub item: String,
    pub reason: String,
}

impl Report {
    pub fn fail(&mut self, item: impl Into<String>, reason: impl std::fmt::Display) {
        let reason = reason.to_string().replace('\n', " ");
        self.failed.push(Failure {
            item: item.into(),
            reason,
        });
    }

    /// `imported N, skipped N, failed N`, then one line per failure and per warning.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "imported {}, skipped {}, failed {}",
            self.imported.len(),
            self.skipped.len(),
            self.failed.len()
        );
        for f in &self.failed {
            let _ = write!(out, "\nfailed: {}: {}", f.item, f.reason);
        }
        for w in &self.warnings {
            let _ = write!(out, "\nwarning: {w}");
        }
        out
    }
}

/// Files, bytes and time left on stderr when it is a terminal; nothing otherwise.
#[derive(Debug, Clone)]
pub struct Progress {
    bar: ProgressBar,
    items: u64,
    done: u64,
}

impl Progress {
    pub fn new(items: u64, total_bytes: u64, visible: bool) -> Progress {
        let target = if visible && std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(total_bytes), target);
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec}, {eta} left",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let progress = Progress {
            bar,
            items,
            done: 0,
        };
        progress.bar.set_message(progress.label());
        progress
    }

    fn label(&self) -> String {
        format!("{}/{} files", self.done, self.items)
    }

    /// Names the item being worked on above the bar.
    pub fn working_on(&self, item: &str) {
        self.bar.println(format!("  {item}"));
    }

    /// One more item done, of `bytes` bytes.
    pub fn item_done(&mut self, bytes: u64) {
        self.done += 1;
        self.bar.inc(bytes);
        self.bar.set_message(self.label());
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Plain text from a feed's HTML description: tags dropped, paragraphs and breaks kept as line
/// breaks, entities decoded.
pub fn html_to_text(html: &str) -> String {
    if !html.contains('<') && !html.contains('&') {
        return html.trim().to_owned();
    }
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        text.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            // A lone '<' is text.
            text.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let tag = rest[start + 1..start + end]
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if matches!(
            tag.as_str(),
            "br" | "p" | "div" | "li" | "h1" | "h2" | "h3" | "h4"
        ) {
            text.push('\n');
        }
        rest = &rest[start + end + 1..];
    }
    text.push_str(rest);
    let decoded = quick_xml::escape::unescape_with(&text, |entity| match entity {
        "nbsp" => Some("\u{a0}"),
        "hellip" => Some("…"),
        "mdash" => Some("—"),
        "ndash" => Some("–"),
        "rsquo" => Some("’"),
        "lsquo" => Some("‘"),
        "ldquo" => Some("“"),
        "rdquo" => Some("”"),
        _ => quick_xml::escape::resolve_xml_entity(entity),
    })
    .map_or_else(|_| text.clone(), std::borrow::Cow::into_owned);
    let mut out = String::new();
    for line in decoded.lines().map(str::trim) {
        if line.is_empty() {
            if !out.is_empty() && !out.ends_with("\n\n") {
                out.push('\n');
            }
            continue;
        }
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(line);
    }
    out.trim().to_owned()
}

/// Whether a feed's description is HTML rather than plain text.
pub fn looks_like_html(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    [
        "<p", "<br", "<a ", "<ul", "<ol", "<li", "<em", "<strong", "<b>", "<i>", "<div",
    ]
    .iter()
    .any(|t| lower.contains(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_text() {
        assert_eq!(
            html_to_text("<p>Rapat &amp; koordinasi</p><p>Kedua<br/>baris</p>"),
            "Rapat & koordinasi\nKedua\nbaris"
        );
        assert_eq!(html_to_text("a < b"), "a < b");
        assert_eq!(html_to_text("plain text"), "plain text");
        assert!(looks_like_html("<p>x</p>"));
        assert!(!looks_like_html("x < y"));
    }

    #[test]
    fn summary_lists_failures() {
        let mut r = Report::default();
        r.imported.push("a.mp3".into());
        r.fail("notes.txt", "not a supported media file: text");
        assert_eq!(
            r.summary(),
            "imported 1, skipped 0, failed 1\nfailed: notes.txt: not a supported media file: text"
        );
    }
}
