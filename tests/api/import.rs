//! Issue 7, points 4 and 5: `siaran import DIR` and `siaran import-feed URL`.
//!
//! A folder is generated from the samples in `media/`; a feed is served by the test itself on
//! 127.0.0.1 (which the importer refuses unless `--allow-private`), and Siaran's own feed is
//! then compared with it guid by guid.

use std::{path::Path, process::Command};

use axum::{
    Router,
    http::{StatusCode, header},
    response::{IntoResponse, Redirect},
    routing::get,
};
use siaran::{
    db::{AnyDb, prelude::*},
    domain::{NewShow, Urls},
    import::{
        dir::{DirImport, import_dir},
        feed::{FeedImport, import_feed},
        fetch::Fetcher,
    },
};

use crate::{
    helpers::{Backend, TestApp, sample_bytes},
    on_both_backends,
};

/// The generated folder: five recordings (one a copy of another), a note that is not media,
/// and a manifest naming one of them and one that is missing.
fn recordings_folder(dir: &Path) {
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    };
    // Tagged with a title (and a year only, which is no date): the title from the tags, the
    // date from the name.
    write(
        "2023-06-07 Rapat koordinasi.mp3",
        &sample_bytes("briefing-demo.mp3"),
    );
    // Untagged: date and title from the name.
    write(
        "2024-01-31_sosialisasi_perda.flac",
        &sample_bytes("sample.flac"),
    );
    // Named by the manifest.
    write("wawancara.m4a", &sample_bytes("sample.m4a"));
    // No date in the name: the file's own date.
    write("rekaman lama.wav", &sample_bytes("sample.wav"));
    write("a.opus", &sample_bytes("sample.opus"));
    // The same bytes again under another name: skipped, not a second episode.
    write("salinan/a-copy.opus", &sample_bytes("sample.opus"));
    write("catatan.txt", b"Notulen rapat, bukan rekaman.\n");
    write(".DS_Store", b"hidden files are left alone");
    write(
        "manifest.csv",
        b"filename,title,description,publish_at,season,episode\n\
          wawancara.m4a,Wawancara Kepala Dinas,\"Tentang perda, dan lainnya\",2022-03-04,1,2\n\
          hilang.mp3,Tidak ada,,2022-01-01,,\n",
    );
}

async fn episodes(app: &TestApp, show: &str) -> Vec<serde_json::Value> {
    let res = app
        .http
        .get(app.url(&format!("/api/v1/shows/{show}/episodes")))
        .bearer_auth(&app.editor_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn by_title<'a>(episodes: &'a [serde_json::Value], title: &str) -> &'a serde_json::Value {
    episodes
        .iter()
        .find(|e| e["title"] == title)
        .unwrap_or_else(|| panic!("no episode '{title}' in {episodes:#?}"))
}

async fn folder_import(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_show("arsip").await;
    let dir = tempfile::tempdir().unwrap();
    recordings_folder(dir.path());
    let opts = DirImport {
        dir: dir.path().to_owned(),
        show: "arsip".into(),
        manifest: Some(dir.path().join("manifest.csv")),
        progress: false,
    };
    let report = import_dir(&app.state.ctx, &opts).await.unwrap();
    assert_eq!(
        report.imported,
        [
            "2023-06-07 Rapat koordinasi.mp3",
            "2024-01-31_sosialisasi_perda.flac",
            "a.opus",
            "rekaman lama.wav",
            "wawancara.m4a"
        ],
        "{}",
        report.summary()
    );
    assert_eq!(report.skipped, ["salinan/a-copy.opus"]);
    let failed: Vec<_> = report.failed.iter().map(|f| f.item.as_str()).collect();
    assert_eq!(
        failed,
        ["catatan.txt", "hilang.mp3"],
        "{}",
        report.summary()
    );
    assert!(
        report.failed[0]
            .reason
            .contains("not a supported media file"),
        "{}",
        report.failed[0].reason
    );

    let list = episodes(&app, "arsip").await;
    assert_eq!(list.len(), 5);
    let tagged = by_title(&list, "Pejabat Pemerintah Harus Punya Mindset Digital");
    assert_eq!(tagged["publish_at"], "2023-06-07T05:00:00Z");
    assert_eq!(tagged["status"], "published");
    assert_eq!(tagged["mime_type"], "audio/mpeg");
    let named = by_title(&list, "sosialisasi perda");
    assert_eq!(named["publish_at"], "2024-01-31T05:00:00Z");
    assert_eq!(named["mime_type"], "audio/flac");
    let listed = by_title(&list, "Wawancara Kepala Dinas");
    assert_eq!(listed["description"], "Tentang perda, dan lainnya");
    assert_eq!(listed["publish_at"], "2022-03-04T05:00:00Z");
    assert_eq!(listed["meta"]["season"], 1);
    assert_eq!(listed["meta"]["episode"], 2);
    assert_eq!(
        listed["sha256"],
        crate::helpers::sha256_hex(&sample_bytes("sample.m4a"))
    );
    by_title(&list, "rekaman lama");
    // Each imported episode's history names the import as who created it, and the file.
    for episode in &list {
        let id = episode["id"].as_str().unwrap();
        let history = app
            .get_json(&format!("/api/v1/episodes/{id}/history"))
            .await;
        let entries = history.as_array().unwrap();
        assert_eq!(entries.len(), 1, "{history}");
        assert_eq!(entries[0]["action"], "created", "{history}");
        assert_eq!(entries[0]["by"], "import", "{history}");
        assert!(
            entries[0]["changes"]["imported_from"].is_string(),
            "{history}"
        );
    }
    // Every one is served, and the feed lists them.
    let res = app
        .http
        .get(listed["enclosure_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().len(), 36_610);
    let feed = app
        .http
        .get(app.url("/feeds/arsip.xml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let channel = rss::Channel::read_from(feed.as_bytes()).unwrap();
    assert_eq!(channel.items().len(), 5);

    // Again, as after an interruption: everything is there already.
    let again = import_dir(&app.state.ctx, &opts).await.unwrap();
    assert!(again.imported.is_empty(), "{}", again.summary());
    assert_eq!(again.skipped.len(), 6);
    assert_eq!(again.failed.len(), 2);
    assert_eq!(episodes(&app, "arsip").await.len(), 5);

    // A show that does not exist is an error, not an empty report.
    let err = import_dir(
        &app.state.ctx,
        &DirImport {
            show: "tidak-ada".into(),
            ..opts
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
}
on_both_backends!(folder_import);

fn siaran(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_siaran"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "SIARAN_DATABASE_URL",
            format!("sqlite://{}", dir.join("siaran.db").display()),
        )
        .env(
            "SIARAN_STORAGE_URL",
            format!("file://{}", dir.join("media").display()),
        )
        .env("SIARAN_PUBLIC_URL", "https://siaran.example.go.id")
        .env("RUST_LOG", "warn");
    cmd
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The binary: summary on stdout, one line on stderr and a non-zero exit when a file failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_command_prints_a_summary_and_exits_non_zero_on_failures() {
    let home = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}", home.path().join("siaran.db").display());
    let db = AnyDb::connect(&db_url).await.unwrap();
    db.migrate().await.unwrap();
    let urls = Urls::new("https://siaran.example.go.id".parse().unwrap());
    let show = NewShow {
        slug: "arsip".into(),
        title: "Arsip Siaran Pers".into(),
        description: String::new(),
        language: "id".into(),
        author: "Diskominfo".into(),
        email: "ppid@example.go.id".into(),
        category: "Government".into(),
        explicit: false,
        meta: Default::default(),
    }
    .parse(&urls, chrono::Utc::now())
    .unwrap();
    db.create_show(&show).await.unwrap();
    drop(db);
    let folder = tempfile::tempdir().unwrap();
    recordings_folder(folder.path());

    let run = |args: Vec<String>| {
        let mut cmd = siaran(home.path());
        cmd.args(args);
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
    };
    let args = |show: &str| {
        vec![
            "import".to_owned(),
            folder.path().display().to_string(),
            "--show".into(),
            show.into(),
            "--manifest".into(),
            folder.path().join("manifest.csv").display().to_string(),
        ]
    };
    let out = run(args("arsip")).await.unwrap();
    let stdout = lines(&out.stdout);
    let stderr = lines(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout:?} {stderr:?}");
    assert_eq!(stdout[0], "imported 5, skipped 1, failed 2", "{stdout:?}");
    assert!(stdout[1].starts_with("failed: catatan.txt: not a supported media file"));
    assert!(stdout[2].starts_with("failed: hilang.mp3: listed in the manifest"));
    assert_eq!(stderr.len(), 1, "{stderr:?}");
    assert_eq!(
        stderr[0],
        "error: 2 of 8 items not imported (see the summary)"
    );

    // Resumed: nothing new, and the same failures.
    let out = run(args("arsip")).await.unwrap();
    assert_eq!(lines(&out.stdout)[0], "imported 0, skipped 6, failed 2");

    // Everything fine: exit 0.
    let clean = tempfile::tempdir().unwrap();
    std::fs::write(clean.path().join("x.wav"), sample_bytes("sample.wav")).unwrap();
    let out = run(vec![
        "import".into(),
        clean.path().display().to_string(),
        "--show".into(),
        "arsip".into(),
    ])
    .await
    .unwrap();
    assert!(out.status.success(), "{:?}", lines(&out.stderr));
    assert_eq!(lines(&out.stdout), ["imported 0, skipped 1, failed 0"]);

    let out = run(args("tidak-ada")).await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = lines(&out.stderr);
    assert_eq!(stderr.len(), 1, "{stderr:?}");
    assert!(stderr[0].starts_with("error: show 'tidak-ada' does not exist"));

    // A feed on this machine is refused without --allow-private, before any connection.
    let out = run(vec![
        "import-feed".into(),
        "http://127.0.0.1:9/feed.xml".into(),
        "--show".into(),
        "lama".into(),
    ])
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = lines(&out.stderr);
    assert_eq!(stderr.len(), 1, "{stderr:?}");
    assert!(
        stderr[0].contains("refused to fetch from 127.0.0.1")
            && stderr[0].contains("--allow-private"),
        "{stderr:?}"
    );
}

/// The old host's feed: odd guids (a tag URI, a permalink, one with an entity), one item
/// reached through a redirect, a transcript, chapters and a 1400-pixel cover.
const OLD_FEED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:podcast="https://podcastindex.org/namespace/1.0"
     xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel>
  <title>Suara Pemprov Lama</title>
  <link>https://old-host.example/</link>
  <description>Arsip siaran pers &lt;b&gt;lama&lt;/b&gt;</description>
  <language>id</language>
  <itunes:author>Biro Humas</itunes:author>
  <itunes:owner><itunes:name>Biro Humas</itunes:name><itunes:email>humas@example.go.id</itunes:email></itunes:owner>
  <itunes:category text="Government"/>
  <itunes:explicit>false</itunes:explicit>
  <itunes:image href="BASE/cover.jpg"/>
  <item>
    <title>Episode tiga &amp; terakhir</title>
    <description>Tanpa isPermaLink</description>
    <guid>old-host-ep3&amp;x</guid>
    <pubDate>Wed, 03 Mar 2021 09:30:00 +0700</pubDate>
    <enclosure url="BASE/old/ep3" length="16626" type="audio/ogg"/>
  </item>
  <item>
    <title>Episode dua</title>
    <description><![CDATA[<p>Catatan <a href="https://example.go.id">tautan</a></p>]]></description>
    <guid isPermaLink="true">https://old-host.example/episodes/2</guid>
    <pubDate>Tue, 02 Feb 2021 10:00:00 +0700</pubDate>
    <itunes:season>1</itunes:season>
    <itunes:episode>2</itunes:episode>
    <enclosure url="BASE/media/ep2.m4a" length="36610" type="audio/mp4"/>
  </item>
  <item>
    <title>Episode satu</title>
    <description>Pejabat pemerintah harus punya mindset digital.</description>
    <guid isPermaLink="false">tag:old-host,2021:ep-1</guid>
    <pubDate>Fri, 01 Jan 2021 08:00:00 +0700</pubDate>
    <enclosure url="BASE/media/ep1.mp3" length="1001889" type="audio/mpeg"/>
    <podcast:transcript url="BASE/ep1.vtt" type="text/vtt" language="id"/>
    <podcast:transcript url="BASE/ep1.html" type="text/html"/>
    <podcast:chapters url="BASE/ep1.json" type="application/json+chapters"/>
  </item>
</channel>
</rss>"#;

const CHAPTERS: &str = r#"{"version":"1.2.0","chapters":[
  {"startTime":0,"title":"Pembukaan"},{"startTime":15,"title":"UU 14/2008"}]}"#;

/// The old host, on a port of 127.0.0.1.
async fn old_host() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let feed = OLD_FEED.replace("BASE", &base);
    let file = |name: &'static str, mime: &'static str| {
        get(move || async move { ([(header::CONTENT_TYPE, mime)], sample_bytes(name)) })
    };
    let router = Router::new()
        .route(
            "/feed.xml",
            get(move || async move { ([(header::CONTENT_TYPE, "application/rss+xml")], feed) }),
        )
        .route("/media/ep1.mp3", file("briefing-demo.mp3", "audio/mpeg"))
        .route("/media/ep2.m4a", file("sample.m4a", "audio/mp4"))
        .route("/media/ep3.opus", file("sample.opus", "audio/ogg"))
        .route(
            "/old/ep3",
            get(|| async { Redirect::temporary("/media/ep3.opus") }),
        )
        .route("/ep1.vtt", file("briefing-demo.vtt", "text/vtt"))
        .route(
            "/ep1.html",
            get(|| async { (StatusCode::NOT_FOUND, "never asked for").into_response() }),
        )
        .route(
            "/ep1.json",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/json+chapters")],
                    CHAPTERS,
                )
            }),
        )
        .route("/cover.jpg", file("cover-demo.jpg", "image/jpeg"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

async fn feed_import(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let base = old_host().await;
    let opts = FeedImport {
        url: format!("{base}/feed.xml").parse().unwrap(),
        show: "pemprov".into(),
        allow_private: true,
        max_media_bytes: 10 << 20,
        email: None,
        progress: false,
    };
    let done = import_feed(&app.state.ctx, &opts).await.unwrap();
    let report = &done.report;
    assert_eq!(report.failed, [], "{}", report.summary());
    assert_eq!(
        report.warnings,
        Vec::<String>::new(),
        "{}",
        report.summary()
    );
    assert_eq!(
        report.imported,
        ["Episode satu", "Episode dua", "Episode tiga & terakhir"]
    );
    assert!(done.show_created);
    assert_eq!(done.new_feed_url, app.url("/feeds/pemprov.xml"));
    let instructions = done.instructions();
    assert!(instructions.contains(&format!(
        "<itunes:new-feed-url>{}</itunes:new-feed-url>",
        app.url("/feeds/pemprov.xml")
    )));
    assert!(instructions.contains("301"));

    // Siaran's feed, read by a feed parser, has the same guids, permalink flags, titles and
    // dates as the old one.
    let xml = app
        .http
        .get(app.url("/feeds/pemprov.xml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let ours = rss::Channel::read_from(xml.as_bytes()).unwrap();
    let theirs = rss::Channel::read_from(OLD_FEED.replace("BASE", &base).as_bytes()).unwrap();
    let items = |c: &rss::Channel| {
        let mut v: Vec<_> = c
            .items()
            .iter()
            .map(|i| {
                let g = i.guid().unwrap();
                (
                    g.value().to_owned(),
                    g.is_permalink(),
                    i.title().unwrap().to_owned(),
                    chrono::DateTime::parse_from_rfc2822(i.pub_date().unwrap()).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(items(&ours), items(&theirs));
    let guids: Vec<_> = items(&ours).into_iter().map(|i| i.0).collect();
    assert_eq!(
        guids,
        [
            "https://old-host.example/episodes/2",
            "old-host-ep3&x",
            "tag:old-host,2021:ep-1"
        ]
    );
    // The guid text is written exactly (escaped once), with isPermaLink as the source had it.
    assert!(xml.contains(r#"<guid isPermaLink="false">tag:old-host,2021:ep-1</guid>"#));
    assert!(xml.contains("<guid>https://old-host.example/episodes/2</guid>"));
    assert!(xml.contains("<guid>old-host-ep3&amp;x</guid>"));

    // The channel became the show, with its cover.
    assert_eq!(ours.title(), "Suara Pemprov Lama");
    assert_eq!(ours.description(), "Arsip siaran pers lama");
    let itunes = ours.itunes_ext().unwrap();
    assert_eq!(itunes.author(), Some("Biro Humas"));
    assert!(itunes.image().unwrap().starts_with(&app.url("/artwork/")));

    // Transcript and chapters of episode one came along; the HTML transcript was not fetched.
    let one = ours
        .items()
        .iter()
        .find(|i| i.title() == Some("Episode satu"))
        .unwrap();
    let podcast = one.extensions().get("podcast").unwrap();
    let transcripts = &podcast["transcript"];
    assert_eq!(transcripts.len(), 1);
    let vtt = app
        .http
        .get(&transcripts[0].attrs()["url"])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        vtt.as_bytes(),
        sample_bytes("briefing-demo.vtt").as_slice(),
        "the transcript as the old host served it"
    );
    let chapters: serde_json::Value = app
        .http
        .get(&podcast["chapters"][0].attrs()["url"])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(chapters["chapters"][1]["title"], "UU 14/2008");
    // The history says the import made the show, its cover, and the episode with its files.
    let by_import = |action: &str| (action.to_owned(), "import".to_owned());
    assert_eq!(
        app.history("/api/v1/shows/pemprov/history").await,
        [by_import("created"), by_import("artwork-set")]
    );
    let listed = episodes(&app, "pemprov").await;
    let one_id = by_title(&listed, "Episode satu")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.history(&format!("/api/v1/episodes/{one_id}/history"))
            .await,
        [
            by_import("created"),
            by_import("transcript-set"),
            by_import("chapters-set")
        ]
    );
    // The enclosures are Siaran's, with the old files' bytes.
    let two = ours
        .items()
        .iter()
        .find(|i| i.title() == Some("Episode dua"))
        .unwrap();
    let enclosure = two.enclosure().unwrap();
    assert!(enclosure.url().starts_with(&app.url("/media/")));
    assert_eq!(enclosure.length(), "36610");
    assert_eq!(two.itunes_ext().unwrap().season(), Some("1"));
    assert!(
        two.content()
            .unwrap()
            .contains(r#"<a href="https://example.go.id""#)
    );
    assert_eq!(two.description(), Some("Catatan tautan"));

    // Again: nothing new, nothing twice.
    let again = import_feed(&app.state.ctx, &opts).await.unwrap();
    assert!(!again.show_created);
    assert!(
        again.report.imported.is_empty(),
        "{}",
        again.report.summary()
    );
    assert_eq!(again.report.skipped.len(), 3);
    assert_eq!(episodes(&app, "pemprov").await.len(), 3);

    // Without --allow-private the same feed is refused, naming the address.
    let err = import_feed(
        &app.state.ctx,
        &FeedImport {
            allow_private: false,
            ..opts
        },
    )
    .await
    .unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("refused to fetch from 127.0.0.1") && msg.contains("--allow-private"),
        "{msg}"
    );
}
on_both_backends!(feed_import);

/// Redirect loops end, and bodies over their cap are refused whether or not they say their
/// length up front.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetches_follow_few_redirects_and_cap_sizes() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = Router::new()
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
        .route("/hop", get(|| async { Redirect::permanent("/big") }))
        .route("/big", get(|| async { vec![b'x'; 100_000] }))
        .route(
            "/chunked",
            get(|| async {
                let chunks = (0..10).map(|_| Ok::<_, std::io::Error>(vec![b'y'; 10_000]));
                axum::body::Body::from_stream(futures_util::stream::iter(chunks))
            }),
        );
    tokio::spawn(async move { axum::serve(listener, router).await });
    let fetcher = Fetcher::new(true).unwrap();
    let url = |path: &str| format!("{base}{path}").parse().unwrap();

    let err = fetcher.get(&url("/loop")).await.err().unwrap();
    assert!(err.to_string().contains("more than 5 redirects"), "{err}");
    let (final_url, body) = fetcher.get_bytes(&url("/hop"), 100_000).await.unwrap();
    assert_eq!(final_url.path(), "/big");
    assert_eq!(body.len(), 100_000);
    let err = fetcher.get_bytes(&url("/big"), 99_999).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("more than the 99999 bytes allowed"),
        "{err}"
    );
    let err = fetcher
        .get_bytes(&url("/chunked"), 50_000)
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("more than the 50000 bytes allowed"),
        "{err:#}"
    );
    assert_eq!(
        fetcher
            .get_bytes(&url("/chunked"), 100_000)
            .await
            .unwrap()
            .1
            .len(),
        100_000
    );
}
