use std::path::PathBuf;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rss::Channel;
use url::Url;
use uuid::Uuid;

use super::*;
use crate::{
    domain::{
        EpisodeFile, EpisodeFileKind, EpisodeId, EpisodeMeta, EpisodeType, Funding, Lang, License,
        Media, MediaId, Rendition, ShowId, ShowMeta, Slug, Soundbite, Txt, UpdateFrequency,
        chapters,
    },
    media::{AudioInfo, MediaInfo, Tags, VideoInfo},
    storage::ObjectKey,
};

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

fn now() -> DateTime<Utc> {
    at(2025, 3, 10, 8, 0, 0)
}

fn urls() -> Urls {
    Urls::new(Url::parse("https://siaran.jabarprov.go.id/").unwrap())
}

fn show() -> Show {
    Show {
        id: ShowId(Uuid::from_u128(0x0195_0000_0000_7000_8000_0000_0000_0001)),
        slug: Slug::parse("kabar-gedung-sate").unwrap(),
        title: "Kabar Gedung Saté: \"Suara\" <Pemprov> & Warga 🎙️".to_owned(),
        description: "Siaran mingguan Biro Humas tentang kebijakan Pemerintah Daerah Provinsi \
                      Jawa Barat — ringkas, jelas & terbuka."
            .to_owned(),
        language: Lang::parse("id").unwrap(),
        author: "Biro Adpim Setda Prov. Jabar".to_owned(),
        email: "humas@jabarprov.go.id".to_owned(),
        category: "News > Politics".to_owned(),
        explicit: false,
        podcast_guid: Uuid::from_u128(0x917393e3_1b1e_5cef_ace4_edaa54e1f810),
        artwork: None,
        renamed_at: None,
        meta: Default::default(),
        created_at: at(2024, 11, 1, 3, 0, 0),
        updated_at: at(2025, 1, 15, 4, 30, 0),
    }
}

fn media(n: u128, extension: &str, mime: &str, duration_ms: u64, size_bytes: u64) -> Media {
    let id = MediaId(Uuid::from_u128(
        0x0195_0000_0000_7000_8000_0000_0000_0100 + n,
    ));
    Media {
        id,
        storage_key: ObjectKey::for_media(id.0, extension),
        filename: format!("rekaman-{n}.{extension}"),
        info: MediaInfo {
            container: extension.to_owned(),
            mime_type: mime.to_owned(),
            extension: extension.to_owned(),
            duration_ms,
            size_bytes,
            header_bytes: 0,
            sha256: "0".repeat(64),
            bit_rate: Some(size_bytes * 8_000 / duration_ms.max(1)),
            audio: Some(AudioInfo {
                codec: "mp3".to_owned(),
                sample_rate: Some(44_100),
                channels: Some(2),
            }),
            video: None,
            tags: Tags::default(),
            artwork: None,
            warnings: Vec::new(),
        },
        created_at: at(2025, 1, 1, 0, 0, 0),
    }
}

#[derive(Clone, Copy)]
struct Ep<'a> {
    n: u128,
    slug: &'a str,
    title: &'a str,
    description: &'a str,
    publish_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

fn episode(e: Ep<'_>, media: &Media) -> Episode {
    Episode {
        id: EpisodeId(Uuid::from_u128(
            0x0195_0000_0000_7000_8000_0000_0000_0200 + e.n,
        )),
        show_id: show().id,
        slug: Slug::parse(e.slug).unwrap(),
        guid: format!("siaran-kabar-gedung-sate-{}", e.n),
        guid_is_permalink: false,
        title: e.title.to_owned(),
        description: e.description.to_owned(),
        media_id: media.id,
        publish_at: e.publish_at,
        meta: Default::default(),
        withdrawn: None,
        review: None,
        artwork: None,
        created_at: at(2025, 1, 1, 0, 0, 0),
        updated_at: e.updated_at,
    }
}

/// Two published episodes given oldest first, plus a scheduled one and a draft that must not
/// appear (both edited after everything else, so they would also move `lastBuildDate`).
fn items() -> Vec<(Episode, Enclosure)> {
    let m1 = media(1, "mp3", "audio/mpeg", 912_400, 14_598_400);
    let m2 = media(2, "m4a", "audio/mp4", 1_834_567, 29_353_072);
    let m3 = media(3, "mp3", "audio/mpeg", 600_000, 9_600_000);
    let m4 = media(4, "mp3", "audio/mpeg", 300_000, 4_800_000);
    vec![
        (
            episode(
                Ep {
                    n: 1,
                    slug: "sosialisasi-pergub-49-2023",
                    title: "Sosialisasi Peraturan Gubernur No. 49/2023: Apa yang Berubah?",
                    description: "Penjelasan pasal demi pasal, Jum'at pagi di Gedung Saté 📢",
                    publish_at: Some(at(2025, 2, 20, 1, 0, 0)),
                    updated_at: at(2025, 2, 19, 10, 0, 0),
                },
                &m1,
            ),
            Enclosure::from(&m1),
        ),
        (
            episode(
                Ep {
                    n: 3,
                    slug: "jadwal-mudik-2025",
                    title: "Jadwal Mudik 2025 (terjadwal)",
                    description: "Belum boleh tampil.",
                    publish_at: Some(now() + Duration::days(1)),
                    updated_at: now() - Duration::minutes(5),
                },
                &m3,
            ),
            Enclosure::from(&m3),
        ),
        (
            episode(
                Ep {
                    n: 2,
                    slug: "rapat-paripurna-apbd-2025",
                    title: "Rapat Paripurna DPRD: APBD 2025 <Perubahan> & \"Efisiensi\" Anggaran",
                    description: "Ringkasan rapat: anggaran \"pendidikan\" naik 5% & kesehatan < 2%.\n\
                                  Wawancara dengan Kepala Bappeda 🎧",
                    publish_at: Some(at(2025, 3, 3, 2, 0, 0)),
                    // Edited a day after it went out: that edit is the feed's last change.
                    updated_at: Utc.timestamp_millis_opt(1_741_080_615_750).unwrap(),
                },
                &m2,
            ),
            Enclosure::from(&m2),
        ),
        (
            episode(
                Ep {
                    n: 4,
                    slug: "draf-tanpa-tanggal",
                    title: "Draf",
                    description: "Belum selesai.",
                    publish_at: None,
                    updated_at: now() - Duration::minutes(1),
                },
                &m4,
            ),
            Enclosure::from(&m4),
        ),
    ]
}

fn parse(xml: &str) -> Channel {
    Channel::read_from(xml.as_bytes()).expect("the rendered feed parses")
}

#[test]
fn renders_channel_values() {
    let show = show();
    let xml = render(&show, &items(), &urls(), now());
    let ch = parse(&xml);

    assert_eq!(ch.title(), show.title);
    assert_eq!(
        ch.link(),
        "https://siaran.jabarprov.go.id/shows/kabar-gedung-sate"
    );
    assert_eq!(ch.description(), show.description);
    assert_eq!(ch.language(), Some("id"));
    assert_eq!(ch.generator(), Some("Siaran"));
    assert_eq!(ch.pub_date(), Some("Mon, 03 Mar 2025 02:00:00 +0000"));
    assert_eq!(
        ch.last_build_date(),
        Some("Tue, 04 Mar 2025 09:30:15 +0000")
    );

    for (prefix, uri) in NAMESPACES {
        assert_eq!(ch.namespaces().get(prefix).map(String::as_str), Some(uri));
    }

    let self_link = &ch.extensions()["atom"]["link"][0];
    assert_eq!(
        self_link.attrs().get("href").map(String::as_str),
        Some("https://siaran.jabarprov.go.id/feeds/kabar-gedung-sate.xml")
    );
    assert_eq!(self_link.attrs()["rel"], "self");
    assert_eq!(self_link.attrs()["type"], "application/rss+xml");

    let podcast = &ch.extensions()["podcast"];
    assert_eq!(
        podcast["guid"][0].value(),
        Some("917393e3-1b1e-5cef-ace4-edaa54e1f810")
    );
    assert_eq!(podcast["locked"][0].value(), Some("no"));
    assert_eq!(
        podcast["locked"][0].attrs()["owner"],
        "humas@jabarprov.go.id"
    );

    let itunes = ch.itunes_ext().expect("itunes channel elements");
    assert_eq!(itunes.author(), Some("Biro Adpim Setda Prov. Jabar"));
    assert_eq!(itunes.explicit(), Some("false"));
    assert_eq!(itunes.r#type(), Some("episodic"));
    let owner = itunes.owner().expect("itunes:owner");
    assert_eq!(owner.name(), Some("Biro Adpim Setda Prov. Jabar"));
    assert_eq!(owner.email(), Some("humas@jabarprov.go.id"));
    let [category] = itunes.categories() else {
        panic!("one category: {:?}", itunes.categories());
    };
    assert_eq!(category.text(), "News");
    assert_eq!(category.subcategory().map(|c| c.text()), Some("Politics"));
    assert!(category.subcategory().unwrap().subcategory().is_none());
}

#[test]
fn renders_only_published_items_newest_first() {
    let all = items();
    let xml = render(&show(), &all, &urls(), now());
    let ch = parse(&xml);

    let guids: Vec<&str> = ch
        .items()
        .iter()
        .map(|i| i.guid().unwrap().value())
        .collect();
    assert_eq!(
        guids,
        ["siaran-kabar-gedung-sate-2", "siaran-kabar-gedung-sate-1"]
    );
    assert!(!xml.contains("Jadwal Mudik") && !xml.contains("Draf"));

    let mut stray = all.clone();
    stray[2].0.show_id = ShowId(Uuid::from_u128(99));
    let stray_feed = parse(&render(&show(), &stray, &urls(), now()));
    assert_eq!(
        stray_feed.items().len(),
        1,
        "another show's episode is left out"
    );
    assert_eq!(
        last_modified(&show(), &stray, now()),
        at(2025, 2, 20, 1, 0, 0)
    );

    let newest = &ch.items()[0];
    let (episode, media) = &all[2];
    assert_eq!(newest.title(), Some(episode.title.as_str()));
    assert_eq!(newest.description(), Some(episode.description.as_str()));
    assert_eq!(
        newest.link(),
        Some("https://siaran.jabarprov.go.id/shows/kabar-gedung-sate/rapat-paripurna-apbd-2025")
    );
    assert!(!newest.guid().unwrap().is_permalink());
    assert_eq!(newest.pub_date(), Some("Mon, 03 Mar 2025 02:00:00 +0000"));
    let enclosure = newest.enclosure().expect("enclosure");
    assert_eq!(
        enclosure.url(),
        format!("https://siaran.jabarprov.go.id/media/{}.m4a", media.id)
    );
    assert_eq!(enclosure.length(), "29353072");
    assert_eq!(enclosure.mime_type(), "audio/mp4");
    let it = newest.itunes_ext().expect("itunes item elements");
    assert_eq!(it.duration(), Some("1835"));
    assert_eq!(it.episode_type(), Some("full"));
    assert_eq!(it.explicit(), Some("false"));

    let older = &ch.items()[1];
    assert_eq!(older.itunes_ext().unwrap().duration(), Some("912"));
    assert_eq!(older.enclosure().unwrap().mime_type(), "audio/mpeg");
    assert_eq!(older.description(), Some(all[0].0.description.as_str()));
}

/// An episode marked explicit in a show that is not (and the reverse) says so in its item; the
/// others keep the show's mark.
#[test]
fn an_episode_may_differ_from_its_show_in_explicitness() {
    let mut all = items();
    let show = show();
    assert!(!show.explicit);
    for (e, _) in &mut all {
        e.meta.explicit = None;
    }
    let newest = all
        .iter()
        .position(|(e, _)| e.guid == "siaran-kabar-gedung-sate-2")
        .unwrap();
    all[newest].0.meta.explicit = Some(true);
    let ch = parse(&render(&show, &all, &urls(), now()));
    let marks: Vec<Option<&str>> = ch
        .items()
        .iter()
        .map(|i| i.itunes_ext().unwrap().explicit())
        .collect();
    assert_eq!(marks, [Some("true"), Some("false")]);
    assert_eq!(ch.itunes_ext().unwrap().explicit(), Some("false"));
}

#[test]
fn equal_publication_times_order_by_id_descending() {
    let mut all = items();
    let t = at(2025, 3, 5, 0, 0, 0);
    all[0].0.publish_at = Some(t);
    all[2].0.publish_at = Some(t);
    for list in [all.clone(), all.into_iter().rev().collect()] {
        let ch = parse(&render(&show(), &list, &urls(), now()));
        let guids: Vec<&str> = ch
            .items()
            .iter()
            .map(|i| i.guid().unwrap().value())
            .collect();
        assert_eq!(
            guids,
            ["siaran-kabar-gedung-sate-2", "siaran-kabar-gedung-sate-1"]
        );
    }
}

#[test]
fn last_modified_matches_last_build_date() {
    let show = show();
    let all = items();
    let lm = last_modified(&show, &all, now());
    assert_eq!(
        lm,
        at(2025, 3, 4, 9, 30, 15),
        "fraction dropped, future items ignored"
    );
    let ch = parse(&render(&show, &all, &urls(), now()));
    assert_eq!(ch.last_build_date(), Some(rfc2822(lm).to_string().as_str()));

    // Once the scheduled episode's time comes, it (and its edit) count.
    let later = now() + Duration::days(2);
    assert_eq!(last_modified(&show, &all, later), now() + Duration::days(1));

    // A show edit newer than every item wins.
    let mut edited = show;
    edited.updated_at = at(2025, 3, 9, 12, 0, 0);
    assert_eq!(last_modified(&edited, &all, now()), edited.updated_at);
}

#[test]
fn empty_feed_is_valid() {
    let show = show();
    let xml = render(&show, &[], &urls(), now());
    let ch = parse(&xml);
    assert!(ch.items().is_empty());
    assert_eq!(ch.pub_date(), None);
    assert_eq!(
        ch.last_build_date(),
        Some("Wed, 15 Jan 2025 04:30:00 +0000")
    );
    assert_eq!(last_modified(&show, &[], now()), show.updated_at);
}

#[test]
fn ampersand_in_category_is_escaped_once() {
    let mut show = show();
    show.category = "Society & Culture > Documentary".to_owned();
    let xml = render(&show, &[], &urls(), now());
    assert!(
        xml.contains(r#"<itunes:category text="Society &amp; Culture">"#),
        "{xml}"
    );
    assert!(!xml.contains("&amp;amp;"));
    let ch = parse(&xml);
    let category = &ch.itunes_ext().unwrap().categories()[0];
    assert_eq!(category.text(), "Society & Culture");
    assert_eq!(category.subcategory().unwrap().text(), "Documentary");

    show.category = "Government".to_owned();
    let xml = render(&show, &[], &urls(), now());
    assert!(xml.contains(r#"<itunes:category text="Government"></itunes:category>"#));

    show.category = "News > Politics > Lokal".to_owned();
    assert!(!render(&show, &[], &urls(), now()).contains("itunes:category"));
}

#[test]
fn hostile_text_survives_or_is_made_legal() {
    let mut all = items();
    all.truncate(1);
    let (episode, _) = &mut all[0];
    episode.title = "  Literal &amp; stays, ]]> too, <b>not bold</b>\u{1}\u{1B}  ".to_owned();
    episode.description = "Baris satu\r\nbaris dua\rbaris tiga ]]> selesai &lt;".to_owned();
    let xml = render(&show(), &all, &urls(), now());
    let ch = parse(&xml);
    let item = &ch.items()[0];
    assert_eq!(
        item.title(),
        Some("Literal &amp; stays, ]]> too, <b>not bold</b>")
    );
    assert_eq!(
        item.description(),
        Some("Baris satu\nbaris dua\nbaris tiga ]]> selesai &lt;")
    );

    all[0].0.description = " \r\n ".to_owned();
    let xml = render(&show(), &all, &urls(), now());
    assert!(!xml.contains("<description><![CDATA["), "{xml}");
}

#[test]
fn durations_round_to_nearest_second() {
    assert_eq!(duration_secs(0), 0);
    assert_eq!(duration_secs(499), 0);
    assert_eq!(duration_secs(500), 1);
    assert_eq!(duration_secs(1_834_567), 1835);
    assert_eq!(duration_secs(912_400), 912);
    assert_eq!(duration_secs(u64::MAX), u64::MAX / 1000 + 1);

    let mut all = items();
    all.truncate(1);
    all[0].1.duration_ms = 0;
    let ch = parse(&render(&show(), &all, &urls(), now()));
    assert_eq!(ch.items()[0].itunes_ext().unwrap().duration(), None);
}

/// Every show and episode field filled in, with hostile text where a person types it.
fn full() -> (Show, Vec<(Episode, Enclosure)>) {
    let hostile = "Gubernur <b>\"Isran\"</b> & Wakil ]]> \u{7}🎙️";
    let person = |name: &str, role: &str| Person {
        name: name.to_owned(),
        role: Some(role.to_owned()),
        group: Some("cast".to_owned()),
        img: Some("https://jabarprov.go.id/foto/gubernur.jpg".to_owned()),
        href: Some("https://jabarprov.go.id/profil?id=1&lang=id".to_owned()),
    };
    let location = Location {
        name: "Gedung Saté, Bandung".to_owned(),
        geo: Some("geo:-6.9025,107.6188".to_owned()),
        osm: Some("W27587373".to_owned()),
    };
    let mut show = show();
    show.meta = ShowMeta {
        show_type: ShowType::Serial,
        medium: Medium::Podcast,
        block: false,
        complete: true,
        new_feed_url: None,
        funding: Some(Funding {
            url: "https://ppid.jabarprov.go.id/dukung?a=1&b=2".to_owned(),
            text: "Dukung keterbukaan informasi".to_owned(),
        }),
        license: Some(License {
            name: "CC-BY-4.0".to_owned(),
            url: None,
        }),
        txt: vec![Txt {
            value: "siaran-verify-8f2a".to_owned(),
            purpose: Some("verify".to_owned()),
        }],
        update_frequency: Some(UpdateFrequency {
            text: "Setiap Senin".to_owned(),
            rrule: Some("FREQ=WEEKLY;BYDAY=MO".to_owned()),
        }),
        persons: vec![person(hostile, "host")],
        location: Some(location.clone()),
    };
    let mut all = items();
    all[0].0.meta = EpisodeMeta {
        episode_type: EpisodeType::Bonus,
        season: Some(2),
        episode: Some(7),
        content_html: Some(
            "<p>Pasal 3 & 4 <a href=\"https://jdih.jabarprov.go.id\">JDIH</a></p>]]>".to_owned(),
        ),
        block: true,
        explicit: None,
        persons: vec![person("Kepala Bappeda", "guest")],
        location: Some(location),
        soundbites: vec![Soundbite {
            start_ms: 95_500,
            duration_ms: 30_000,
            title: Some(hostile.to_owned()),
        }],
        // Never in a feed: the golden files do not change with it.
        proposed_date: chrono::NaiveDate::from_ymd_opt(2024, 3, 15),
    };
    (show, all)
}

/// For the bonus episode of `full`: transcripts in two languages, uploaded chapters, and two
/// other renditions (a titled video with its SHA-256, an untitled audio file whose digest is not
/// hex and so goes without `podcast:integrity`). None when there are no items.
fn full_extras(items: &[(Episode, Enclosure)]) -> Extras {
    let Some((episode, _)) = items.first() else {
        return Extras::new();
    };
    let file = |kind: EpisodeFileKind, language: Option<&str>, mime: &str| EpisodeFile {
        episode_id: episode.id,
        kind,
        language: language.map(|l| Lang::parse(l).unwrap()),
        mime_type: mime.to_owned(),
        key: ObjectKey::from_stored(format!("episodes/{}/{mime}", episode.id.0)),
        size_bytes: 2048,
        sha256: "ab".repeat(32),
        created_at: at(2025, 1, 2, 0, 0, 0),
    };
    let mut video = media(10, "mp4", "video/mp4", 912_400, 98_765_432);
    video.info.sha256 = "0123456789abcdef".repeat(4);
    video.info.video = Some(VideoInfo {
        codec: "h264".to_owned(),
        width: Some(1280),
        height: Some(720),
        frame_rate: Some(25.0),
    });
    let mut audio = media(11, "opus", "audio/ogg", 912_400, 7_300_000);
    audio.info.sha256 = "not hex".to_owned();
    audio.info.bit_rate = None;
    let extras = EpisodeExtras {
        files: vec![
            file(EpisodeFileKind::Transcript, Some("id"), "text/vtt"),
            file(
                EpisodeFileKind::Transcript,
                Some("en"),
                "application/x-subrip",
            ),
            file(EpisodeFileKind::Chapters, None, chapters::MIME_TYPE),
        ],
        renditions: vec![
            Rendition {
                media: video,
                title: Some("Video <720p> & \"HD\"".to_owned()),
            },
            Rendition {
                media: audio,
                title: None,
            },
        ],
        placed_documents: 0,
    };
    Extras::from([(episode.id, extras)])
}

/// `render` on `threads` threads, however few the items (to test that the parts fit).
fn render_in_parts(
    show: &Show,
    items: &[(Episode, Enclosure)],
    urls: &Urls,
    now: DateTime<Utc>,
    threads: usize,
) -> String {
    let extras = full_extras(items);
    let entries = visible(show, items, &extras, now);
    write_with(show, &entries, urls, build_time(show, &entries), threads)
}

#[test]
fn a_feed_written_in_parts_is_the_feed_written_whole() {
    let (show, items) = full();
    // 28 visible items, every field filled in, hostile text in all.
    let mut many = Vec::new();
    for round in 0..14u128 {
        for (episode, media) in &items {
            let mut episode = episode.clone();
            episode.id = EpisodeId(Uuid::from_u128(episode.id.0.as_u128() + round * 16));
            episode.guid = format!("{}-{round}", episode.guid);
            episode.title = format!("{} ]]> <{round}>", episode.title);
            episode.publish_at = episode
                .publish_at
                .map(|t| t - Duration::hours(i64::try_from(round).unwrap()));
            many.push((episode, media.clone()));
        }
    }
    let whole = render_in_parts(&show, &many, &urls(), now(), 1);
    assert_eq!(parse(&whole).items().len(), 28);
    for threads in [2, 3, 4, 28, 40] {
        let parts = render_in_parts(&show, &many, &urls(), now(), threads);
        assert!(parts == whole, "{threads} threads:\n{parts}");
    }
    // And the feed without items.
    assert_eq!(
        render_in_parts(&show, &[], &urls(), now(), 3),
        render_in_parts(&show, &[], &urls(), now(), 1)
    );
}

#[test]
fn matches_golden_full_feed() {
    let (show, items) = full();
    let xml = build(&show, &items, &full_extras(&items), &urls(), now()).xml;
    check_golden("full.xml", &xml);
    // What a parser reads back is what was put in.
    let ch = parse(&xml);
    let itunes = ch.itunes_ext().unwrap();
    assert_eq!(itunes.r#type(), Some("serial"));
    assert_eq!(itunes.complete(), Some("Yes"));
    let podcast = &ch.extensions()["podcast"];
    assert_eq!(
        podcast["person"][0].value(),
        Some("Gubernur <b>\"Isran\"</b> & Wakil ]]> 🎙️")
    );
    assert_eq!(
        podcast["funding"][0].attrs()["url"],
        "https://ppid.jabarprov.go.id/dukung?a=1&b=2"
    );
    let item = ch
        .items()
        .iter()
        .find(|i| i.guid().unwrap().value() == "siaran-kabar-gedung-sate-1")
        .unwrap();
    let it = item.itunes_ext().unwrap();
    assert_eq!(
        (it.season(), it.episode(), it.episode_type()),
        (Some("2"), Some("7"), Some("bonus"))
    );
    assert_eq!(it.block(), Some("Yes"));
    assert!(
        item.content().unwrap().contains("]]>"),
        "content:encoded keeps ]]> intact"
    );
    let bite = &item.extensions()["podcast"]["soundbite"][0];
    assert_eq!(bite.attrs()["startTime"], "95.5");
    assert_eq!(bite.attrs()["duration"], "30");
}

#[test]
fn long_descriptions_are_cut_to_4000_bytes() {
    let mut all = items();
    all.truncate(1);
    all[0].0.description = "é".repeat(3000);
    let ch = parse(&render(&show(), &all, &urls(), now()));
    let description = ch.items()[0].description().unwrap();
    assert!(description.len() <= 4000, "{}", description.len());
    assert!(description.ends_with('…'));
}

fn check_golden(file: &str, xml: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("feeds/golden")
        .join(file);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::write(&path, xml).expect("write golden file");
        return;
    }
    let golden = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with UPDATE_GOLDEN=1", path.display()));
    assert!(
        xml == golden,
        "rendered feed differs from {}; rerun with UPDATE_GOLDEN=1 and review the diff\n{xml}",
        path.display()
    );
}

#[test]
fn matches_golden_feed() {
    let xml = render(&show(), &items(), &urls(), now());
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("feeds/golden/basic.xml");
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::write(&path, &xml).expect("write golden file");
        return;
    }
    let golden = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with UPDATE_GOLDEN=1", path.display()));
    assert!(
        xml == golden,
        "rendered feed differs from {}; rerun with UPDATE_GOLDEN=1 and review the diff\n{xml}",
        path.display()
    );
}

/// The studio's preview of an item is the item the feed holds once the episode is out,
/// byte for byte (every field, extras and hostile text included), and a draft's too.
#[test]
fn an_item_preview_is_the_feeds_item() {
    let (show, items) = full();
    let extras = full_extras(&items);
    let feed = build(&show, &items, &extras, &urls(), now()).xml;
    let (episode, media) = &items[0];
    let published = episode.publish_at.unwrap();
    let preview = item_preview(
        &show,
        episode,
        media,
        &extras[&episode.id],
        &urls(),
        published,
    );
    assert!(preview.starts_with("    <item>"), "{preview}");
    assert!(preview.ends_with("</item>"), "{preview}");
    assert!(feed.contains(&format!("\n{preview}\n")), "{preview}");

    let mut draft = episode.clone();
    draft.publish_at = None;
    draft.meta.block = false;
    let preview = item_preview(&show, &draft, media, &NO_EXTRAS, &urls(), now());
    assert!(preview.contains(&rfc2822(now()).to_string()), "{preview}");
    assert!(preview.contains("<enclosure url="), "{preview}");

    // An episode's own cover, where rss puts `itunes:image`: after `itunes:block`, before
    // `itunes:duration`.
    draft.meta.block = true;
    draft.artwork = Some(crate::domain::ShowArtwork {
        key: "artwork/episodes/x/0123456789abcdef.png".to_owned(),
        mime_type: "image/png".to_owned(),
        width: 1400,
        height: 1400,
        size_bytes: 10,
        sha256: "0123456789abcdef".repeat(4),
    });
    let preview = item_preview(&show, &draft, media, &NO_EXTRAS, &urls(), now());
    let image = format!(
        "<itunes:image href=\"https://siaran.jabarprov.go.id/artwork/episodes/{}/0123456789abcdef.png\"></itunes:image>",
        draft.id
    );
    let (block, image_at, duration) = (
        preview.find("<itunes:block>").unwrap(),
        preview.find(&image).expect(&preview),
        preview.find("<itunes:duration>").unwrap(),
    );
    assert!(block < image_at && image_at < duration, "{preview}");
}
