//! A feed's items, written as XML straight from the records.
//!
//! The channel around them is an rss `Channel`; its items are not rss `Item`s. Writing items
//! was most of a 10,000-episode feed's rendering (27-37 ms on two threads); the largest parts of
//! it in the profile were scans of text byte by byte: quick_xml's `escape`, through which rss
//! sends every title, URL and attribute, and `clean`'s check. Here text that needs no escaping
//! (most of it) is found 16 bytes at a time and copied as it is, and numbers and dates are
//! written in place: 10-17 ms.
//! (Building the `Item`s was not the cost: the same items written as quick_xml events, without
//! them, took as long.) Each run of items is one string, with the bytes rss wrote:
//!
//! - the same text: escaped by quick_xml's `escape` (as `BytesText::new` and attribute values
//!   are), CDATA split at `]]>` as `BytesCData::escaped` splits it;
//! - the same order: the item's fields, then the `podcast:` extensions by element name with their
//!   attributes in name order (rss keeps both in maps), then the `itunes:` ones;
//! - the same layout: quick_xml's indenting writer with two spaces, which puts each element on a
//!   new line at its depth, and a closing tag on the same line as the text before it.
//!
//! `feeds/golden/full.xml` holds every element an item can have, hostile text in all of it.

use base64::Engine as _;
use quick_xml::escape::escape;

use super::{
    Entry, cap_description, cleaned, duration_secs, location_parts, person_parts, rfc2822,
    seconds_text,
};
use crate::domain::{Enclosure, EpisodeType, Show, Urls, chapters};

/// Items sit in `<rss><channel>`: their own elements are one level deeper.
const ITEM: usize = 2;
const CHILD: usize = 3;
const GRANDCHILD: usize = 4;

/// `entries` as the channel holds them, in order: each item on a new line, indented two levels.
pub(super) fn write(entries: &[Entry<'_>], show: &Show, urls: &Urls, explicit: &str) -> String {
    // About 830 bytes an item in the demo and benchmark feeds: one allocation, no regrowth.
    let mut xml = Xml(String::with_capacity(entries.len() * 1024));
    for entry in entries {
        item(&mut xml, show, entry, urls, explicit);
    }
    xml.0
}

fn item(xml: &mut Xml, show: &Show, entry: &Entry<'_>, urls: &Urls, explicit: &str) {
    let Entry {
        episode,
        media,
        published,
        extras,
    } = *entry;
    let meta = &episode.meta;
    xml.open(ITEM, "item", &[]);
    xml.element(CHILD, "title", &cleaned(&episode.title), &[]);
    let link = urls.episode_page(&show.slug, &episode.slug);
    xml.element(CHILD, "link", &link, &[]);
    // As CDATA, as rss writes item descriptions. An empty one is left out: the indenting writer
    // would put whitespace between its tags.
    let description = cap_description(cleaned(&episode.description));
    if !description.is_empty() {
        xml.cdata(CHILD, "description", &description);
    }
    let url = urls.media(media.id, &media.extension);
    xml.empty(
        CHILD,
        "enclosure",
        &[
            ("url", &url),
            ("length", &media.size_bytes.to_string()),
            ("type", &media.mime_type),
        ],
    );
    let permalink: &[(&str, &str)] = if episode.guid_is_permalink {
        &[]
    } else {
        &[("isPermaLink", "false")]
    };
    xml.element(CHILD, "guid", &episode.guid, permalink);
    xml.element_plain(CHILD, "pubDate", rfc2822(published));
    // Sanitized when it was stored (`EpisodeMeta::validated`).
    if let Some(html) = &meta.content_html {
        xml.cdata(CHILD, "content:encoded", &cleaned(html));
    }

    // podcast:, by element name.
    // The enclosure itself comes first, marked as the default, then each other rendition;
    // each with its hash and the episode's signed publication record (issue 25), so an app or
    // a reader can check the file they have.
    let record = urls.publication_record(episode.id);
    alternate(xml, media, None, true, urls, &record);
    for r in &extras.renditions {
        let rendition = Enclosure::from(&r.media);
        alternate(
            xml,
            &rendition,
            Some(&r.display_title()),
            false,
            urls,
            &record,
        );
    }
    if extras.has_chapters() {
        let url = urls.chapters(episode.id);
        xml.element(
            CHILD,
            "podcast:chapters",
            "",
            &[("type", chapters::MIME_TYPE), ("url", &url)],
        );
    }
    if let Some(number) = meta.episode {
        xml.element_plain(CHILD, "podcast:episode", number);
    }
    if let Some(l) = &meta.location {
        let (name, attrs) = location_parts(l);
        xml.element_sorting(CHILD, "podcast:location", &name, &attrs);
    }
    for p in &meta.persons {
        let (name, attrs) = person_parts(p);
        xml.element_sorting(CHILD, "podcast:person", &name, &attrs);
    }
    if let Some(season) = meta.season {
        // The namespace's XSD requires a name (the spec only recommends one).
        let name = match show.language.as_str() {
            "id" => format!("Musim {season}"),
            _ => format!("Season {season}"),
        };
        xml.element(
            CHILD,
            "podcast:season",
            &season.to_string(),
            &[("name", &name)],
        );
    }
    for b in &meta.soundbites {
        let (start, duration) = (seconds_text(b.start_ms), seconds_text(b.duration_ms));
        let title = b.title.as_deref().map(cleaned).unwrap_or_default();
        xml.element(
            CHILD,
            "podcast:soundbite",
            &title,
            &[("duration", &duration), ("startTime", &start)],
        );
    }
    for t in extras.transcripts() {
        let (Some(format), Some(lang)) = (t.transcript_format(), &t.language) else {
            continue;
        };
        let url = urls.transcript(episode.id, lang, format.extension());
        xml.element(
            CHILD,
            "podcast:transcript",
            "",
            &[
                ("language", lang.as_str()),
                // Timed cues: apps may show them as captions.
                ("rel", "captions"),
                ("type", format.mime_type()),
                ("url", &url),
            ],
        );
    }

    // itunes:, in rss's order.
    if meta.block {
        xml.element(CHILD, "itunes:block", "Yes", &[]);
    }
    // The episode's own cover; without one, apps show the show's.
    if let Some(artwork) = &episode.artwork {
        let href = urls.episode_artwork(episode.id, artwork);
        xml.element(CHILD, "itunes:image", "", &[("href", &href)]);
    }
    // A zero duration means the probe could not tell; apps would show "0:00" for it, while
    // without the element they read the length from the file.
    let seconds = duration_secs(media.duration_ms);
    if seconds > 0 {
        xml.element_plain(CHILD, "itunes:duration", seconds);
    }
    let explicit = match meta.explicit {
        Some(true) => "true",
        Some(false) => "false",
        None => explicit,
    };
    xml.element(CHILD, "itunes:explicit", explicit, &[]);
    if let Some(number) = meta.episode {
        xml.element_plain(CHILD, "itunes:episode", number);
    }
    if let Some(season) = meta.season {
        xml.element_plain(CHILD, "itunes:season", season);
    }
    let episode_type = match meta.episode_type {
        EpisodeType::Full => "full",
        EpisodeType::Trailer => "trailer",
        EpisodeType::Bonus => "bonus",
    };
    xml.element(CHILD, "itunes:episodeType", episode_type, &[]);
    xml.close(ITEM, "item");
}

/// `<podcast:alternateEnclosure type length bitrate height title default>` with its
/// `podcast:integrity` (SHA-256, as Subresource Integrity writes it), `podcast:source` and
/// `siaran:record` (the signed publication record naming that hash).
fn alternate(
    xml: &mut Xml,
    media: &Enclosure,
    title: Option<&str>,
    default: bool,
    urls: &Urls,
    record: &str,
) {
    let length = media.size_bytes.to_string();
    let bitrate = media.bit_rate.map(|b| b.to_string());
    let height = media.video_height.map(|h| h.to_string());
    let title = title.map(cleaned);
    let mut attrs: Vec<(&str, &str)> = vec![("type", &media.mime_type), ("length", &length)];
    attrs.extend(bitrate.as_deref().map(|b| ("bitrate", b)));
    attrs.extend(height.as_deref().map(|h| ("height", h)));
    attrs.extend(title.as_deref().map(|t| ("title", t)));
    if default {
        attrs.push(("default", "true"));
    }
    attrs.sort_unstable_by_key(|&(name, _)| name);
    // Children and no text: the closing tag goes on its own line.
    xml.open(CHILD, "podcast:alternateEnclosure", &attrs);
    if let Ok(digest) = hex::decode(&media.sha256) {
        let sri = format!(
            "sha256-{}",
            base64::engine::general_purpose::STANDARD.encode(digest)
        );
        xml.element(
            GRANDCHILD,
            "podcast:integrity",
            "",
            &[("type", "sri"), ("value", &sri)],
        );
    }
    let uri = urls.media(media.id, &media.extension);
    xml.element(GRANDCHILD, "podcast:source", "", &[("uri", &uri)]);
    xml.element(GRANDCHILD, "siaran:record", "", &[("href", record)]);
    xml.close(CHILD, "podcast:alternateEnclosure");
}

/// `text` escaped as quick_xml's `escape` does (`<`, `>`, `&`, `'`, `"`), onto `out`. Most text
/// has none of those: that is checked 16 bytes at a time, a loop the compiler vectorizes, unlike
/// `escape`'s byte by byte search; then the text is copied as it is.
fn push_escaped(out: &mut String, text: &str) {
    let special = |b: u8| matches!(b, b'<' | b'>' | b'&' | b'\'' | b'"');
    let plain = !text
        .as_bytes()
        .chunks(16)
        .any(|chunk| chunk.iter().fold(false, |found, &b| found | special(b)));
    if plain {
        out.push_str(text);
    } else {
        out.push_str(&escape(text));
    }
}

/// XML written as quick_xml's writer indents it, into one string.
struct Xml(String);

impl Xml {
    /// A new line, indented to `depth`, and `<name attrs`.
    fn start_tag(&mut self, depth: usize, name: &str, attrs: &[(&str, &str)]) {
        self.0.push('\n');
        for _ in 0..depth {
            self.0.push_str("  ");
        }
        self.0.push('<');
        self.0.push_str(name);
        for (key, value) in attrs {
            self.0.push(' ');
            self.0.push_str(key);
            self.0.push_str("=\"");
            push_escaped(&mut self.0, value);
            self.0.push('"');
        }
    }

    /// An element that holds other elements, not text.
    fn open(&mut self, depth: usize, name: &str, attrs: &[(&str, &str)]) {
        self.start_tag(depth, name, attrs);
        self.0.push('>');
    }

    /// The end of an `open` element, on its own line.
    fn close(&mut self, depth: usize, name: &str) {
        self.0.push('\n');
        for _ in 0..depth {
            self.0.push_str("  ");
        }
        self.end_tag(name);
    }

    fn end_tag(&mut self, name: &str) {
        self.0.push_str("</");
        self.0.push_str(name);
        self.0.push('>');
    }

    /// `<name attrs>text</name>` on one line, even with no text. Attributes in the order given:
    /// rss's extensions have theirs in name order.
    fn element(&mut self, depth: usize, name: &str, text: &str, attrs: &[(&str, &str)]) {
        self.start_tag(depth, name, attrs);
        self.0.push('>');
        push_escaped(&mut self.0, text);
        self.end_tag(name);
    }

    /// `<name>value</name>` for a value with nothing to escape: a number, a date.
    fn element_plain(&mut self, depth: usize, name: &str, value: impl std::fmt::Display) {
        use std::fmt::Write as _;
        self.start_tag(depth, name, &[]);
        self.0.push('>');
        write!(self.0, "{value}").expect("writing into a String does not fail");
        self.end_tag(name);
    }

    /// `element` with attributes put in name order first.
    fn element_sorting(
        &mut self,
        depth: usize,
        name: &str,
        text: &str,
        attrs: &[(&str, impl AsRef<str>)],
    ) {
        let mut attrs: Vec<(&str, &str)> = attrs.iter().map(|(k, v)| (*k, v.as_ref())).collect();
        attrs.sort_unstable_by_key(|&(name, _)| name);
        self.element(depth, name, text, &attrs);
    }

    fn empty(&mut self, depth: usize, name: &str, attrs: &[(&str, &str)]) {
        self.start_tag(depth, name, attrs);
        self.0.push_str("/>");
    }

    /// Text as CDATA, a section ending after each `]]` of a `]]>` and the next one starting at its
    /// `>`, as `BytesCData::escaped` splits it.
    fn cdata(&mut self, depth: usize, name: &str, text: &str) {
        self.start_tag(depth, name, &[]);
        self.0.push_str("><![CDATA[");
        let mut rest = text;
        while let Some(at) = rest.find("]]>") {
            self.0.push_str(&rest[..at + 2]);
            self.0.push_str("]]><![CDATA[");
            rest = &rest[at + 2..];
        }
        self.0.push_str(rest);
        self.0.push_str("]]>");
        self.end_tag(name);
    }
}

#[cfg(test)]
mod tests {
    use quick_xml::{
        Writer,
        events::{BytesCData, BytesEnd, BytesStart, Event},
    };

    use super::*;

    /// Text around the 16-byte steps of the check, with every character `escape` replaces, a
    /// `]]>` split across them and characters of several bytes.
    fn hostile() -> Vec<String> {
        let mut all = vec![String::new(), "plain".to_owned(), "]]>".to_owned()];
        for special in ["<", ">", "&", "'", "\"", "]]>", "é", "🎙️"] {
            for at in [0, 1, 14, 15, 16, 17, 31, 32, 40] {
                let mut text = "a".repeat(at);
                text.push_str(special);
                text.push_str(&"z".repeat(at % 7));
                all.push(text);
            }
        }
        all
    }

    #[test]
    fn text_is_escaped_as_quick_xml_escapes_it() {
        for text in hostile() {
            let mut out = String::new();
            push_escaped(&mut out, &text);
            assert_eq!(out, escape(&text), "{text:?}");
        }
    }

    #[test]
    fn cdata_is_split_as_quick_xml_splits_it() {
        for text in hostile() {
            let mut ours = Xml(String::new());
            ours.cdata(0, "d", &text);
            let mut theirs = Writer::new_with_indent(Vec::new(), b' ', 2);
            theirs
                .write_event(Event::Start(BytesStart::new("d")))
                .unwrap();
            for part in BytesCData::escaped(&text) {
                theirs.write_event(Event::CData(part)).unwrap();
            }
            theirs.write_event(Event::End(BytesEnd::new("d"))).unwrap();
            let theirs = String::from_utf8(theirs.into_inner()).unwrap();
            // quick_xml starts the document without a line break; `Xml` starts every element
            // on a new one.
            assert_eq!(ours.0, format!("\n{theirs}"), "{text:?}");
        }
    }
}
