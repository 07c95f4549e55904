//! A show's podcast feed: the RSS 2.0 document (with the itunes, podcast, atom and content
//! namespaces) and the time it last changed; `encode` makes it the document as served
//! (decorated, compressed).
//!
//! Everything here is a pure function of the records passed in and the current time: no database,
//! storage or HTTP. Callers load the show and its episodes; this module decides again which of
//! them are visible at `now`, so a scheduled episode cannot leak into a feed through a loose query.

pub mod encode;
mod items;
#[cfg(test)]
mod tests;

use std::{
    borrow::Cow,
    collections::{BTreeMap, HashMap},
};

use chrono::{DateTime, SubsecRound, Utc};
use rss::{
    Channel, Image,
    extension::{
        Extension, ExtensionMap,
        itunes::{ITunesChannelExtension, ITunesOwner},
    },
};

use crate::domain::{
    Enclosure, Episode, EpisodeExtras, EpisodeId, Location, Medium, Person, Show, ShowType, Urls,
};

const NAMESPACES: [(&str, &str); 5] = [
    ("atom", "http://www.w3.org/2005/Atom"),
    ("content", "http://purl.org/rss/1.0/modules/content/"),
    ("itunes", "http://www.itunes.com/dtds/podcast-1.0.dtd"),
    ("podcast", "https://podcastindex.org/namespace/1.0"),
    // `<siaran:record href>` in each `podcast:alternateEnclosure`: the episode's signed
    // publication record (docs/transparency.md). The Podcasting 2.0 namespace has no element
    // for it; an element of our own namespace is what RSS allows any reader to skip.
    ("siaran", SIARAN_NAMESPACE),
];

/// The namespace of Siaran's own feed elements.
pub const SIARAN_NAMESPACE: &str = "urn:x-siaran:publication:1";

/// An episode visible in the feed, with the time it went out.
struct Entry<'a> {
    episode: &'a Episode,
    media: &'a Enclosure,
    published: DateTime<Utc>,
    extras: &'a EpisodeExtras,
}

/// The transcripts, chapters and renditions of a show's episodes, by episode (as
/// `Db::episode_extras` answers); an episode that is absent has none.
pub type Extras = HashMap<EpisodeId, EpisodeExtras>;

static NO_EXTRAS: std::sync::LazyLock<EpisodeExtras> =
    std::sync::LazyLock::new(EpisodeExtras::default);

/// A rendered feed and the time it last changed (its `lastBuildDate`, for `Last-Modified`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    pub xml: String,
    pub last_modified: DateTime<Utc>,
}

/// The feed of `show` at `now`: its items published at or before `now`, newest first.
pub fn build(
    show: &Show,
    items: &[(Episode, Enclosure)],
    extras: &Extras,
    urls: &Urls,
    now: DateTime<Utc>,
) -> Feed {
    let entries = visible(show, items, extras, now);
    let last_modified = build_time(show, &entries);
    Feed {
        xml: write(show, &entries, urls, last_modified),
        last_modified,
    }
}

/// The XML alone of `build`, for episodes without extras.
pub fn render(
    show: &Show,
    items: &[(Episode, Enclosure)],
    urls: &Urls,
    now: DateTime<Utc>,
) -> String {
    build(show, items, &Extras::new(), urls, now).xml
}

/// The `<item>` `episode` would have in its show's feed if it went out at `published`, written
/// by the feed's own item writer (not a copy of it): the studio shows it before publication.
/// Unlike `build`, it does not ask whether the episode is visible: a draft is what it is for.
pub fn item_preview(
    show: &Show,
    episode: &Episode,
    media: &Enclosure,
    extras: &EpisodeExtras,
    urls: &Urls,
    published: DateTime<Utc>,
) -> String {
    let entry = Entry {
        episode,
        media,
        published,
        extras,
    };
    let explicit = if show.explicit { "true" } else { "false" };
    let mut xml = items::write(std::slice::from_ref(&entry), show, urls, explicit);
    // Each element starts on a new line: the item's first one needs none.
    xml.remove(0);
    xml
}

fn write(show: &Show, entries: &[Entry<'_>], urls: &Urls, last_modified: DateTime<Utc>) -> String {
    let threads = if entries.len() >= PARALLEL_FROM {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_THREADS))
    } else {
        1
    };
    write_with(show, entries, urls, last_modified, threads)
}

/// `write` on `threads` threads.
fn write_with(
    show: &Show,
    entries: &[Entry<'_>],
    urls: &Urls,
    last_modified: DateTime<Utc>,
    threads: usize,
) -> String {
    let explicit = if show.explicit { "true" } else { "false" };
    let artwork = show.artwork.as_ref().map(|a| urls.artwork(show.id, a));

    let channel = Channel {
        image: artwork.as_ref().map(|url| Image {
            url: url.clone(),
            title: clean(&show.title),
            link: urls.show_page(&show.slug),
            ..Default::default()
        }),
        title: clean(&show.title),
        link: urls.show_page(&show.slug),
        description: clean(&show.description),
        language: Some(show.language.to_string()),
        pub_date: entries.first().map(|e| rfc2822(e.published).to_string()),
        last_build_date: Some(rfc2822(last_modified).to_string()),
        generator: Some("Siaran".to_owned()),
        extensions: channel_extensions(show, urls),
        itunes_ext: Some(ITunesChannelExtension {
            author: Some(clean(&show.author)),
            explicit: Some(explicit.to_owned()),
            owner: Some(ITunesOwner {
                name: Some(clean(&show.author)),
                email: Some(clean(&show.email)),
            }),
            r#type: Some(
                match show.meta.show_type {
                    ShowType::Episodic => "episodic",
                    ShowType::Serial => "serial",
                }
                .to_owned(),
            ),
            image: artwork,
            block: show.meta.block.then(|| "Yes".to_owned()),
            complete: show.meta.complete.then(|| "Yes".to_owned()),
            // Set to move the show elsewhere; after a change of slug here, the feed names its
            // own new URL, as Apple asks of a moved feed (the old URL answers 301).
            new_feed_url: match (&show.meta.new_feed_url, show.renamed_at) {
                (Some(url), _) => Some(clean(url)),
                (None, Some(_)) => Some(urls.feed(&show.slug)),
                (None, None) => None,
            },
            ..Default::default()
        }),
        namespaces: NAMESPACES
            .iter()
            .map(|&(prefix, uri)| (prefix.to_owned(), uri.to_owned()))
            .collect(),
        ..Default::default()
    };

    // The items are the channel's last children (rss writes them just before `</channel>`):
    // the document is the channel written without items cut there, with the items between.
    let empty = xml_of(&channel);
    let close = empty
        .rfind("</channel>")
        .expect("rss closes the channel it writes");
    let (head, tail) = empty.split_at(empty[..close].trim_end().len());
    let write = |run: &[Entry<'_>]| items::write(run, show, urls, explicit);
    let runs: Vec<String> = if threads > 1 && entries.len() > 1 {
        // Consecutive runs, one a thread: a 10,000-episode feed's items are most of its writing.
        let per_thread = entries.len().div_ceil(threads);
        std::thread::scope(|s| {
            let workers: Vec<_> = entries
                .chunks(per_thread)
                .map(|run| s.spawn(move || write(run)))
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    } else {
        vec![write(entries)]
    };
    let items_len: usize = runs.iter().map(String::len).sum();
    // With room for the lines `encode::decorate` adds at the top, so it moves the document
    // without copying it to a larger buffer first.
    let mut xml = String::with_capacity(head.len() + items_len + tail.len() + 1 + 1024);
    xml.push_str(head);
    for run in &runs {
        xml.push_str(run);
    }
    xml.push_str(tail);
    xml.push('\n');
    xml
}

/// From this many items a feed is written by several threads.
const PARALLEL_FROM: usize = 1000;
const MAX_THREADS: usize = 4;

/// The channel as XML, indented so the served feed and the golden file read (and diff) line by
/// line.
fn xml_of(channel: &Channel) -> String {
    let bytes = channel
        .pretty_write_to(Vec::with_capacity(4096), b' ', 2)
        .expect("writing XML into a Vec has no I/O to fail");
    String::from_utf8(bytes).expect("every string written is UTF-8, so the document is too")
}

/// The feed's `lastBuildDate`, for `Last-Modified`: the latest of the show's own change and the
/// publication or edit of any item visible at `now`. Whole seconds, as HTTP dates and RFC 2822
/// carry no fraction; a fraction here would make every `If-Modified-Since` look stale.
pub fn last_modified(
    show: &Show,
    items: &[(Episode, Enclosure)],
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    build_time(show, &visible(show, items, &Extras::new(), now))
}

/// The items a listener may see. Checked here as well as in the caller's query, since a feed
/// that shows a scheduled episode early, or another office's episode, cannot be taken back.
fn visible<'a>(
    show: &Show,
    items: &'a [(Episode, Enclosure)],
    extras: &'a Extras,
    now: DateTime<Utc>,
) -> Vec<Entry<'a>> {
    let mut entries: Vec<Entry<'a>> = items
        .iter()
        .filter(|(episode, _)| episode.show_id == show.id && episode.withdrawn.is_none())
        .filter_map(|(episode, media)| {
            let published = episode.publish_at.filter(|t| *t <= now)?;
            Some(Entry {
                episode,
                media,
                published,
                extras: extras.get(&episode.id).unwrap_or(&NO_EXTRAS),
            })
        })
        .collect();
    // Ties on the publication time fall back to the id so the order never changes between
    // renders; ids are UUIDv7, so the later-created episode still comes first.
    entries.sort_by(|a, b| {
        b.published
            .cmp(&a.published)
            .then_with(|| b.episode.id.cmp(&a.episode.id))
    });
    entries
}

fn build_time(show: &Show, entries: &[Entry<'_>]) -> DateTime<Utc> {
    entries
        .iter()
        .flat_map(|e| [e.published, e.episode.updated_at])
        .fold(show.updated_at, DateTime::max)
        .trunc_subsecs(0)
}

fn channel_extensions(show: &Show, urls: &Urls) -> ExtensionMap {
    let mut map = ExtensionMap::new();
    let mut put = |prefix: &str, local: &str, ext: Extension| {
        map.entry(prefix.to_owned())
            .or_default()
            .entry(local.to_owned())
            .or_default()
            .push(ext);
    };

    let feed_url = urls.feed(&show.slug);
    put(
        "atom",
        "link",
        element(
            "atom:link",
            "",
            &[
                ("href", &feed_url),
                ("rel", "self"),
                ("type", "application/rss+xml"),
            ],
        ),
    );
    put(
        "podcast",
        "guid",
        element("podcast:guid", &show.podcast_guid.to_string(), &[]),
    );
    // "no": Siaran claims no lock, so an office can move its show to another host.
    put(
        "podcast",
        "locked",
        element("podcast:locked", "no", &[("owner", &clean(&show.email))]),
    );
    let meta = &show.meta;
    put(
        "podcast",
        "medium",
        element(
            "podcast:medium",
            match meta.medium {
                Medium::Podcast => "podcast",
                Medium::Video => "video",
            },
            &[],
        ),
    );
    if let Some(f) = &meta.funding {
        put(
            "podcast",
            "funding",
            element(
                "podcast:funding",
                &clean(&f.text),
                &[("url", &clean(&f.url))],
            ),
        );
    }
    if let Some(l) = &meta.license {
        let url = l.url.as_deref().map(clean);
        let attrs: Vec<(&str, &str)> = url.iter().map(|u| ("url", u.as_str())).collect();
        put(
            "podcast",
            "license",
            element("podcast:license", &clean(&l.name), &attrs),
        );
    }
    for t in &meta.txt {
        let purpose = t.purpose.as_deref().map(clean);
        let attrs: Vec<(&str, &str)> = purpose.iter().map(|p| ("purpose", p.as_str())).collect();
        put(
            "podcast",
            "txt",
            element("podcast:txt", &clean(&t.value), &attrs),
        );
    }
    if let Some(u) = &meta.update_frequency {
        let rrule = u.rrule.as_deref().map(clean);
        let attrs: Vec<(&str, &str)> = rrule.iter().map(|r| ("rrule", r.as_str())).collect();
        put(
            "podcast",
            "updateFrequency",
            element("podcast:updateFrequency", &clean(&u.text), &attrs),
        );
    }
    for p in &meta.persons {
        put("podcast", "person", person(p));
    }
    if let Some(l) = &meta.location {
        put("podcast", "location", location(l));
    }
    if let Some(artwork) = &show.artwork {
        let width = artwork.width.to_string();
        put(
            "podcast",
            "image",
            element(
                "podcast:image",
                "",
                &[
                    ("href", &urls.artwork(show.id, artwork)),
                    ("aspect-ratio", "1/1"),
                    ("width", &width),
                    ("type", &artwork.mime_type),
                    ("purpose", "artwork"),
                ],
            ),
        );
        // The older form, which the namespace's XSD and more apps know.
        let srcset = format!("{} {width}w", urls.artwork(show.id, artwork));
        put(
            "podcast",
            "images",
            element("podcast:images", "", &[("srcset", &srcset)]),
        );
    }
    // Written here rather than through `ITunesChannelExtension::categories`, whose writer leaves
    // a childless category open across two lines once the output is indented.
    if let Some(category) = itunes_category(&show.category) {
        put("itunes", "category", category);
    }
    map
}

/// `<itunes:category text="News"><itunes:category text="Politics"/></itunes:category>`.
/// A value that is not `Parent` or `Parent > Child` is left out rather than sent half-formed;
/// unknown but well-formed names still go out, since Apple adds categories over time.
fn itunes_category(category: &str) -> Option<Extension> {
    let (parent, child) = crate::domain::category::split(category)?;
    let Some(child) = child else {
        return Some(element("itunes:category", "", &[("text", parent)]));
    };
    let mut outer = element("itunes:category", "", &[("text", parent)]);
    // A parent holds only its child element, no text, so its closing tag goes on its own line.
    outer.value = None;
    outer.children.insert(
        "category".to_owned(),
        vec![element("itunes:category", "", &[("text", child)])],
    );
    Some(outer)
}

/// An extension element. An empty `value` still writes an (empty) text node, which keeps the
/// indenting writer from putting the closing tag of an empty element on a line of its own.
fn element(name: &str, value: &str, attrs: &[(&str, &str)]) -> Extension {
    Extension {
        name: name.to_owned(),
        value: Some(value.to_owned()),
        attrs: attrs
            .iter()
            .map(|&(k, v)| (k.to_owned(), v.to_owned()))
            .collect::<BTreeMap<_, _>>(),
        children: BTreeMap::new(),
    }
}

/// `<podcast:person role group img href>NAME</podcast:person>`.
fn person(p: &Person) -> Extension {
    let (name, attrs) = person_parts(p);
    let attrs: Vec<(&str, &str)> = attrs.iter().map(|(k, v)| (*k, v.as_ref())).collect();
    element("podcast:person", &name, &attrs)
}

/// A person's name and attributes, as their text goes into the feed.
fn person_parts(p: &Person) -> (Cow<'_, str>, Vec<(&'static str, Cow<'_, str>)>) {
    let fields = [
        ("role", p.role.as_deref()),
        ("group", p.group.as_deref()),
        ("img", p.img.as_deref()),
        ("href", p.href.as_deref()),
    ];
    let attrs = fields
        .into_iter()
        .filter_map(|(k, v)| Some((k, cleaned(v?))))
        .collect();
    (cleaned(&p.name), attrs)
}

/// `<podcast:location geo osm>NAME</podcast:location>`.
fn location(l: &Location) -> Extension {
    let (name, attrs) = location_parts(l);
    let attrs: Vec<(&str, &str)> = attrs.iter().map(|(k, v)| (*k, v.as_ref())).collect();
    element("podcast:location", &name, &attrs)
}

/// A location's name and attributes, as their text goes into the feed.
fn location_parts(l: &Location) -> (Cow<'_, str>, Vec<(&'static str, Cow<'_, str>)>) {
    let attrs = [("geo", l.geo.as_deref()), ("osm", l.osm.as_deref())]
        .into_iter()
        .filter_map(|(k, v)| Some((k, cleaned(v?))))
        .collect();
    (cleaned(&l.name), attrs)
}

/// Seconds with milliseconds, as the Podcasting 2.0 time attributes take them: `95.5`.
fn seconds_text(ms: u64) -> String {
    let text = format!("{}.{:03}", ms / 1000, ms % 1000);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Apple and PSP-1 cap `description` at 4,000 bytes; longer text is cut at a character
/// boundary with an ellipsis (the full notes stay in `content:encoded`).
fn cap_description(text: Cow<'_, str>) -> Cow<'_, str> {
    const MAX: usize = 4000;
    if text.len() <= MAX {
        return text;
    }
    let mut end = MAX - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}…", &text[..end]))
}

/// Whole seconds, rounded to nearest: Apple recommends plain seconds over `HH:MM:SS`.
fn duration_secs(ms: u64) -> u64 {
    ms / 1000 + u64::from(ms % 1000 >= 500)
}

/// RFC 2822 with a two-digit day and `+0000`, the form RSS readers parse most reliably. Written
/// with a format string rather than `to_rfc2822`, which panics outside years 0 to 9999.
fn rfc2822(t: DateTime<Utc>) -> impl std::fmt::Display {
    // Parsed once: parsing the format string for each of a large feed's dates showed in its
    // build's profile.
    static FORMAT: std::sync::LazyLock<Vec<chrono::format::Item<'static>>> =
        std::sync::LazyLock::new(|| {
            chrono::format::StrftimeItems::new("%a, %d %b %Y %H:%M:%S +0000")
                .parse()
                .expect("a valid format string")
        });
    t.format_with_items(FORMAT.iter())
}

/// Text as XML 1.0 can carry it: without the control characters no XML document may contain
/// (even escaped), with line breaks as `\n` (browsers submit text areas with `\r\n`, which XML
/// parsers fold anyway), and without surrounding whitespace, which Apple asks feeds not to have.
fn clean(s: &str) -> String {
    cleaned(s).into_owned()
}

/// `clean`, borrowing the text when it only needs trimming.
fn cleaned(s: &str) -> Cow<'_, str> {
    // Most text has none of those characters (nor 0xEF, the first byte of U+FFFE and U+FFFF):
    // then it only needs trimming. Checked 16 bytes at a time, a loop the compiler vectorizes.
    let trimmed = s.trim();
    let suspect = |b: u8| (b < 0x20 && b != b'\t' && b != b'\n') || b == 0xEF;
    if !trimmed
        .as_bytes()
        .chunks(16)
        .any(|chunk| chunk.iter().fold(false, |found, &b| found | suspect(b)))
    {
        return Cow::Borrowed(trimmed);
    }
    let normalized = s.replace("\r\n", "\n").replace('\r', "\n");
    normalized
        .chars()
        .filter(|&c| {
            !matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
        })
        .collect::<String>()
        .trim()
        .to_owned()
        .into()
}
