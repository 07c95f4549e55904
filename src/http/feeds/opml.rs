//! `GET /feeds/opml.xml`: every show as an OPML 2.0 subscription list, which podcast apps and
//! directories import in one go.

use chrono::{DateTime, Utc};
use quick_xml::{
    Writer,
    events::{BytesDecl, BytesText, Event},
};

use crate::domain::{Show, Urls};

/// The OPML document of `shows` (in the order given). Written with quick-xml, which escapes
/// attribute values; characters XML cannot carry at all are dropped first.
pub fn opml(shows: &[Show], urls: &Urls) -> String {
    let modified = shows.iter().map(|s| s.updated_at).max();
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    let written: std::io::Result<()> = (|| {
        writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        writer
            .create_element("opml")
            .with_attribute(("version", "2.0"))
            .write_inner_content(|w| {
                w.create_element("head").write_inner_content(|w| {
                    w.create_element("title")
                        .write_text_content(BytesText::new("Siaran: semua acara"))?;
                    if let Some(modified) = modified {
                        w.create_element("dateModified")
                            .write_text_content(BytesText::new(&rfc822(modified)))?;
                    }
                    w.create_element("docs")
                        .write_text_content(BytesText::new("http://opml.org/spec2.opml"))?;
                    Ok(())
                })?;
                w.create_element("body").write_inner_content(|w| {
                    for show in shows {
                        let title = xml_text(&show.title);
                        w.create_element("outline")
                            .with_attributes([
                                ("type", "rss"),
                                ("text", title.as_str()),
                                ("title", title.as_str()),
                                ("xmlUrl", urls.feed(&show.slug).as_str()),
                                ("htmlUrl", urls.show_page(&show.slug).as_str()),
                                ("language", show.language.as_str()),
                            ])
                            .write_empty()?;
                    }
                    Ok(())
                })?;
                Ok(())
            })?;
        Ok(())
    })();
    written.expect("writing XML into a Vec has no I/O to fail");
    let mut xml = String::from_utf8(writer.into_inner())
        .expect("every string written is UTF-8, so the document is too");
    xml.push('\n');
    xml
}

fn rfc822(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

/// Without the characters no XML 1.0 document may contain, even escaped; trimmed.
fn xml_text(s: &str) -> String {
    s.chars()
        .filter(|&c| {
            !matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_dropped() {
        assert_eq!(xml_text(" a\u{1}b\u{B}c\n "), "abc");
        assert_eq!(xml_text("<&>\"'🎙️"), "<&>\"'🎙️");
    }
}
