//! Serving feeds (`http::feeds` and its cache): encodings negotiated and compressed once, a
//! validator per encoding, 304s and HEAD; the stylesheet and the page a browser makes of a feed;
//! the OPML of all shows; the cached feed dropped on publish, when a scheduled episode's time
//! comes and across instances sharing one PostgreSQL database; WebSub pings, once per change.

use std::{
    collections::HashMap,
    io::Read as _,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::{DateTime, SubsecRound as _, Utc};
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp, sample_bytes},
    on_both_backends,
};

async fn new_episode(
    app: &TestApp,
    show: &str,
    title: &str,
    media: &Value,
    publish_at: Option<DateTime<Utc>>,
) -> Value {
    let res = app
        .post_json(
            &format!("/api/v1/shows/{show}/episodes"),
            Some(&app.editor_token),
            &json!({"title": title, "description": "Penjelasan", "media_id": media["id"],
                    "publish_at": publish_at.map(|t| t.to_rfc3339())}),
        )
        .await;
    assert_eq!(res.status(), 201, "create episode {title}");
    res.json().await.unwrap()
}

async fn publish(app: &TestApp, episode: &Value) {
    let res = app
        .http
        .post(app.url(&format!(
            "/api/v1/episodes/{}/publish",
            episode["id"].as_str().unwrap()
        )))
        .bearer_auth(&app.editor_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "publish");
}

/// The feed's item titles, newest first, and its ETag.
async fn feed_titles(app: &TestApp, slug: &str) -> (Vec<String>, String) {
    let res = app
        .http
        .get(app.url(&format!("/feeds/{slug}.xml")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res.headers()[header::ETAG].to_str().unwrap().to_owned();
    let body = res.bytes().await.unwrap();
    let channel = rss::Channel::read_from(&body[..]).expect("feed parses as RSS");
    let titles = channel
        .items()
        .iter()
        .map(|i| i.title().unwrap_or_default().to_owned())
        .collect();
    (titles, etag)
}

/// Waits until `app` serves `slug` from memory: on PostgreSQL an instance caches nothing until
/// its listener is connected, a moment after start.
async fn wait_until_cached(app: &TestApp, slug: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        feed_titles(app, slug).await;
        let before = app.state.feeds.builds();
        feed_titles(app, slug).await;
        if app.state.feeds.builds() == before {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the feed is never served from memory"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn header_str(res: &reqwest::Response, name: header::HeaderName) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

fn decode(coding: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        None => out.extend_from_slice(body),
        Some("gzip") => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .expect("valid gzip");
        }
        Some("br") => {
            brotli::Decompressor::new(body, 4096)
                .read_to_end(&mut out)
                .expect("valid brotli");
        }
        Some(other) => panic!("unexpected coding {other}"),
    }
    out
}

async fn encodings_validators_and_head(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_show("kodek").await;
    let media = app.upload_ok("sample.m4a").await;
    for n in 0..20 {
        let at = Utc::now() - chrono::Duration::days(30 - n);
        new_episode(&app, "kodek", &format!("Episode {n}"), &media, Some(at)).await;
    }
    let url = app.url("/feeds/kodek.xml");

    let res = app.http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header_str(&res, header::CONTENT_ENCODING), None);
    assert!(
        header_str(&res, header::VARY)
            .unwrap()
            .contains("Accept-Encoding")
    );
    assert_eq!(
        header_str(&res, header::CACHE_CONTROL).as_deref(),
        Some("public, max-age=300")
    );
    let etag = header_str(&res, header::ETAG).unwrap();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong: {etag}"
    );
    let last_modified = header_str(&res, header::LAST_MODIFIED).unwrap();
    let identity = res.bytes().await.unwrap();
    assert_eq!(
        rss::Channel::read_from(&identity[..])
            .unwrap()
            .items()
            .len(),
        20
    );
    let tagged = |suffix: &str| format!("{}{suffix}\"", &etag[..etag.len() - 1]);

    // Each coding: its own strong ETag, the right length, and the same document once decoded.
    let cases = [
        ("gzip", Some("gzip"), "-gz"),
        ("br", Some("br"), "-br"),
        ("gzip, deflate, br", Some("br"), "-br"),
        ("br;q=0, gzip", Some("gzip"), "-gz"),
        ("gzip;q=1.0, br;q=0.8", Some("gzip"), "-gz"),
        ("gzip;q=0, br;q=0", None, ""),
        ("identity", None, ""),
        ("deflate", None, ""),
    ];
    for (accept, coding, suffix) in cases {
        let res = app
            .get_with(&url, &[(header::ACCEPT_ENCODING, accept)])
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{accept}");
        assert_eq!(
            header_str(&res, header::CONTENT_ENCODING).as_deref(),
            coding,
            "{accept}"
        );
        assert_eq!(
            header_str(&res, header::ETAG),
            Some(tagged(suffix)),
            "{accept}"
        );
        let length: usize = header_str(&res, header::CONTENT_LENGTH)
            .unwrap()
            .parse()
            .unwrap();
        let body = res.bytes().await.unwrap();
        assert_eq!(body.len(), length, "{accept}");
        if coding.is_some() {
            assert!(body.len() * 4 < identity.len(), "{accept}: compressed");
        }
        assert_eq!(decode(coding, &body), identity, "{accept}");
    }

    // 304 for any encoding's tag, weak or strong, whichever encoding is asked for; the answer
    // carries the validators of the encoding that would have been sent.
    for tag in [
        etag.clone(),
        tagged("-gz"),
        tagged("-br"),
        format!("W/{etag}"),
        format!("\"other\", {}", tagged("-gz")),
    ] {
        for (accept, suffix) in [("", ""), ("gzip", "-gz"), ("br, gzip", "-br")] {
            let res = app
                .get_with(
                    &url,
                    &[
                        (header::IF_NONE_MATCH, &tag),
                        (header::ACCEPT_ENCODING, accept),
                    ],
                )
                .await;
            assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{tag} / {accept}");
            assert_eq!(header_str(&res, header::ETAG), Some(tagged(suffix)));
            assert!(header_str(&res, header::VARY).is_some());
            assert_eq!(
                header_str(&res, header::LAST_MODIFIED).as_deref(),
                Some(last_modified.as_str())
            );
            assert!(res.bytes().await.unwrap().is_empty());
        }
    }
    let res = app
        .get_with(&url, &[(header::IF_NONE_MATCH, "\"other\"")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .get_with(&url, &[(header::IF_MODIFIED_SINCE, &last_modified)])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let earlier = httpdate::fmt_http_date(
        httpdate::parse_http_date(&last_modified).unwrap() - Duration::from_secs(3600),
    );
    let res = app
        .get_with(&url, &[(header::IF_MODIFIED_SINCE, &earlier)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // If-None-Match decides alone when both are sent.
    let res = app
        .get_with(
            &url,
            &[
                (header::IF_NONE_MATCH, "\"other\""),
                (header::IF_MODIFIED_SINCE, &last_modified),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // HEAD: GET's headers, no body.
    for accept in ["", "gzip", "br"] {
        let get = app
            .get_with(&url, &[(header::ACCEPT_ENCODING, accept)])
            .await;
        let head = app
            .http
            .head(&url)
            .header(header::ACCEPT_ENCODING, accept)
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), StatusCode::OK);
        for name in [
            header::ETAG,
            header::CONTENT_LENGTH,
            header::CONTENT_ENCODING,
            header::CONTENT_TYPE,
            header::LAST_MODIFIED,
            header::VARY,
        ] {
            assert_eq!(
                header_str(&head, name.clone()),
                header_str(&get, name.clone()),
                "HEAD {name} with Accept-Encoding '{accept}'"
            );
        }
        assert!(head.bytes().await.unwrap().is_empty());
    }
}
on_both_backends!(encodings_validators_and_head);

async fn served_from_memory_and_rebuilt_on_publish(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_show("segar").await;
    let media = app.upload_ok("sample.m4a").await;
    let draft = new_episode(&app, "segar", "Draf", &media, None).await;
    wait_until_cached(&app, "segar").await;
    let (titles, etag) = feed_titles(&app, "segar").await;
    assert!(titles.is_empty());

    // Repeated requests are answered from memory.
    let builds = app.state.feeds.builds();
    for _ in 0..10 {
        feed_titles(&app, "segar").await;
    }
    assert_eq!(app.state.feeds.builds(), builds);

    // A cold feed asked for by many at once is built once.
    app.state.feeds.invalidate_all();
    let gets = (0..16).map(|_| feed_titles(&app, "segar"));
    for (titles, tag) in futures_util::future::join_all(gets).await {
        assert!(titles.is_empty());
        assert_eq!(tag, etag);
    }
    assert_eq!(app.state.feeds.builds(), builds + 1);

    // Publishing shows in the very next request.
    publish(&app, &draft).await;
    let (titles, new_etag) = feed_titles(&app, "segar").await;
    assert_eq!(titles, ["Draf"]);
    assert_ne!(new_etag, etag);

    // So does a new episode published at once.
    new_episode(&app, "segar", "Langsung", &media, Some(Utc::now())).await;
    assert_eq!(feed_titles(&app, "segar").await.0, ["Langsung", "Draf"]);

    // An unknown show is a 404.
    let res = app
        .http
        .get(app.url("/feeds/tidak-ada.xml"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
on_both_backends!(served_from_memory_and_rebuilt_on_publish);

async fn scheduled_episode_appears_on_time(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let show = app.create_show("jadwal").await;
    let media = app.upload_ok("sample.m4a").await;
    new_episode(&app, "jadwal", "Lama", &media, Some(Utc::now())).await;
    let at = (Utc::now() + chrono::Duration::seconds(2)).trunc_subsecs(3);
    new_episode(&app, "jadwal", "Terjadwal", &media, Some(at)).await;
    wait_until_cached(&app, "jadwal").await;

    let upcoming = app
        .state
        .ctx
        .db
        .next_publications(None, Utc::now())
        .await
        .unwrap();
    let show_id: siaran::domain::ShowId = show["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(upcoming, [(show_id, at)]);
    let only_this = app
        .state
        .ctx
        .db
        .next_publications(Some(show_id), Utc::now())
        .await
        .unwrap();
    assert_eq!(only_this, [(show_id, at)]);

    let deadline = at + chrono::Duration::seconds(1);
    loop {
        let (titles, _) = feed_titles(&app, "jadwal").await;
        let answered = Utc::now();
        if titles.first().map(String::as_str) == Some("Terjadwal") {
            assert!(answered >= at, "appeared before its time");
            assert_eq!(titles, ["Terjadwal", "Lama"]);
            break;
        }
        assert!(answered < deadline, "not in the feed 1 s after its time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        app.state
            .ctx
            .db
            .next_publications(None, Utc::now())
            .await
            .unwrap()
            .is_empty()
    );
}
on_both_backends!(scheduled_episode_appears_on_time);

/// Two instances over one PostgreSQL database: a change through either is in the other's very
/// next answer, and both serve the same bytes under the same validator.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_see_each_others_changes() {
    let a = TestApp::spawn(Backend::PostgresS3).await;
    let b = a.spawn_peer().await;
    a.create_show("bersama").await;
    let media = a.upload_ok("sample.m4a").await;
    let draft = new_episode(&a, "bersama", "Draf", &media, None).await;
    wait_until_cached(&a, "bersama").await;
    wait_until_cached(&b, "bersama").await;
    assert!(feed_titles(&b, "bersama").await.0.is_empty());

    publish(&a, &draft).await;
    let (titles, etag_b) = feed_titles(&b, "bersama").await;
    assert_eq!(titles, ["Draf"], "b serves what a published");
    let (_, etag_a) = feed_titles(&a, "bersama").await;
    assert_eq!(etag_a, etag_b, "same document, same validator");

    new_episode(&b, "bersama", "Dari B", &media, Some(Utc::now())).await;
    assert_eq!(feed_titles(&a, "bersama").await.0, ["Dari B", "Draf"]);
    assert_eq!(feed_titles(&b, "bersama").await.0, ["Dari B", "Draf"]);
}

async fn opml_lists_every_show(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let titles = [
        ("kota", "Kabar <Kota> & \"Desa\" ]]> 🎙️"),
        ("desa", "Suara Desa \u{7}Terpencil"),
        ("prov", "Siaran 'Provinsi'"),
    ];
    for (slug, title) in titles {
        let res = app
            .post_json(
                "/api/v1/shows",
                Some(&app.admin_token),
                &json!({"slug": slug, "title": title, "description": "d", "language": "id",
                        "author": "Diskominfo", "email": "ppid@example.go.id",
                        "category": "Government"}),
            )
            .await;
        assert_eq!(res.status(), 201, "{title}");
    }
    let url = app.url("/feeds/opml.xml");
    let res = app.http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        header_str(&res, header::CONTENT_TYPE)
            .unwrap()
            .starts_with("text/x-opml")
    );
    let etag = header_str(&res, header::ETAG).unwrap();
    let body = res.bytes().await.unwrap();
    let res = app.get_with(&url, &[(header::IF_NONE_MATCH, &etag)]).await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shows.opml");
    std::fs::write(&path, &body).unwrap();
    let got = run_python("read_opml.py", &[path.to_str().unwrap()]);
    assert_eq!(got["root"], "opml");
    assert_eq!(got["version"], "2.0");
    let outlines = got["outlines"].as_array().unwrap();
    assert_eq!(outlines.len(), 3);
    let by_url: HashMap<&str, &Value> = outlines
        .iter()
        .map(|o| (o["xmlUrl"].as_str().unwrap(), o))
        .collect();
    for (slug, title) in titles {
        let o = by_url[app.url(&format!("/feeds/{slug}.xml")).as_str()];
        let expected = title.replace('\u{7}', "");
        assert_eq!(o["type"], "rss");
        assert_eq!(o["text"], expected);
        assert_eq!(o["title"], expected);
        assert_eq!(o["htmlUrl"], app.url(&format!("/shows/{slug}")));
    }
}
on_both_backends!(opml_lists_every_show);

fn run_python(script: &str, args: &[&str]) -> Value {
    let path = format!("{}/tests/parsers/{script}", env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new("python3")
        .arg(&path)
        .args(args)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{script} failed (run the suite with scripts/test): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A title a page must show as text, not markup.
const HOSTILE: &str = "Perda <b>No. 1</b> & \"Pajak\" ]]> — Tanya Jawab ✓";

/// The show `halaman` with two published briefings, "Pembukaan" (2 March 2026) and `HOSTILE`
/// (9 March), both of one recording: the app, the recording, the two episodes as created.
async fn two_briefings() -> (TestApp, Value, [Value; 2]) {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    app.create_show("halaman").await;
    let media = app.upload_ok("briefing-demo.mp3").await;
    let mut created = Vec::new();
    for (title, at) in [
        ("Pembukaan", "2026-03-02T01:30:00Z"),
        (HOSTILE, "2026-03-09T01:30:00Z"),
    ] {
        created.push(new_episode(&app, "halaman", title, &media, Some(at.parse().unwrap())).await);
    }
    let [first, second] = created.try_into().unwrap();
    (app, media, [first, second])
}

/// The stylesheet is served and referenced, and what it makes of a feed (xsltproc, the libxslt
/// that browsers embed) is HTML that a strict HTML5 parser reads, showing each episode with a
/// player, in Indonesian with the English line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stylesheet_makes_a_readable_page() {
    let (app, _, [first, second]) = two_briefings().await;
    let hostile = HOSTILE;

    let xsl = app
        .http
        .get(app.url("/feeds/siaran.xsl"))
        .send()
        .await
        .unwrap();
    assert_eq!(xsl.status(), StatusCode::OK);
    assert!(
        header_str(&xsl, header::CONTENT_TYPE)
            .unwrap()
            .starts_with("text/xsl")
    );
    let xsl_etag = header_str(&xsl, header::ETAG).unwrap();
    assert_eq!(
        xsl.text().await.unwrap(),
        include_str!("../../feeds/siaran.xsl")
    );
    let res = app
        .get_with(
            &app.url("/feeds/siaran.xsl"),
            &[(header::IF_NONE_MATCH, &xsl_etag)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    let feed_url = app.url("/feeds/halaman.xml");
    let xml = app
        .http
        .get(&feed_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut lines = xml.lines();
    assert!(lines.next().unwrap().starts_with("<?xml version=\"1.0\""));
    assert_eq!(
        lines.next().unwrap(),
        "<?xml-stylesheet type=\"text/xsl\" href=\"siaran.xsl\"?>"
    );

    let dir = tempfile::tempdir().unwrap();
    let feed_file = dir.path().join("feed.xml");
    let page_file = dir.path().join("page.html");
    std::fs::write(&feed_file, &xml).unwrap();
    let out = std::process::Command::new("xsltproc")
        .arg("--output")
        .arg(&page_file)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/feeds/siaran.xsl"))
        .arg(&feed_file)
        .output()
        .expect("xsltproc (scripts/test installs it)");
    assert!(
        out.status.success(),
        "xsltproc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = run_python("read_page.py", &[page_file.to_str().unwrap()]);
    assert_eq!(page["lang"], "id");
    assert_eq!(page["h1"], "Siaran Pers halaman");
    let about = page["about"].as_str().unwrap();
    assert!(about.contains("Ini adalah umpan (feed) podcast"), "{about}");
    assert!(
        about.contains("This is a podcast feed: copy its address into your podcast app"),
        "{about}"
    );
    assert_eq!(page["feed_address"], feed_url);
    let episodes = page["episodes"].as_array().unwrap();
    assert_eq!(episodes.len(), 2);
    assert_eq!(episodes[0]["title"], hostile);
    assert_eq!(episodes[0]["date"], "2026-03-09");
    assert!(
        episodes[0]["meta"]
            .as_str()
            .unwrap()
            .starts_with("9 Maret 2026 · Durasi ")
    );
    assert_eq!(episodes[1]["title"], "Pembukaan");
    for (episode, created) in episodes.iter().zip([&second, &first]) {
        assert_eq!(episode["player"]["tag"], "audio");
        assert_eq!(episode["player"]["src"], created["enclosure_url"]);
    }
}

/// A browser opening a feed's address (its `Accept` lists HTML) gets a page made by the server,
/// as Chromium is removing XSLT: what a feed is, its address to copy, its episodes with players,
/// in the reader's language. Apps asking the same address keep getting the RSS, and every answer
/// says it varies on `Accept`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_gets_the_feeds_page() {
    let (app, media, [first, second]) = two_briefings().await;
    let hostile = HOSTILE;
    new_episode(&app, "halaman", "Belum terbit", &media, None).await;
    let feed_url = app.url("/feeds/halaman.xml");
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

    let app_answer = app.http.get(&feed_url).send().await.unwrap();
    assert!(
        header_str(&app_answer, header::CONTENT_TYPE)
            .unwrap()
            .starts_with("application/rss+xml")
    );
    assert!(
        header_str(&app_answer, header::VARY)
            .unwrap()
            .contains("Accept")
    );
    let xml = app_answer.text().await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    for (language, about, duration) in [
        ("id", "Ini adalah umpan (feed) podcast.", "Durasi "),
        ("en", "This is a podcast feed.", "Length "),
    ] {
        let res = app
            .get_with(
                &feed_url,
                &[
                    (header::ACCEPT, browser),
                    (header::ACCEPT_LANGUAGE, language),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            header_str(&res, header::CONTENT_TYPE)
                .unwrap()
                .starts_with("text/html")
        );
        let vary = header_str(&res, header::VARY).unwrap();
        assert!(
            vary.contains("Accept,") && vary.contains("Accept-Language"),
            "{vary}"
        );
        let html = res.text().await.unwrap();
        assert_ne!(html, xml);
        let page_file = dir.path().join(format!("page-{language}.html"));
        std::fs::write(&page_file, &html).unwrap();
        let page = run_python("read_page.py", &[page_file.to_str().unwrap()]);
        assert_eq!(page["lang"], language);
        assert_eq!(page["h1"], "Siaran Pers halaman");
        let about_text = page["about"].as_str().unwrap();
        assert!(about_text.contains(about), "{about_text}");
        assert_eq!(page["feed_address"], feed_url);
        // The feed's items: published ones only, newest first, the hostile title as text.
        let episodes = page["episodes"].as_array().unwrap();
        assert_eq!(episodes.len(), 2, "{page}");
        assert_eq!(episodes[0]["title"], hostile);
        assert_eq!(episodes[0]["date"], "2026-03-09");
        assert!(
            episodes[0]["meta"].as_str().unwrap().contains(duration),
            "{page}"
        );
        assert_eq!(episodes[1]["title"], "Pembukaan");
        for (episode, created) in episodes.iter().zip([&second, &first]) {
            assert_eq!(episode["player"]["tag"], "audio");
            assert_eq!(episode["player"]["src"], created["enclosure_url"]);
        }
    }
    assert!(
        app.get_with(&feed_url, &[(header::ACCEPT, browser)])
            .await
            .text()
            .await
            .unwrap()
            .contains("9 Maret 2026"),
        "Indonesian when the browser names no language"
    );
}

/// A WebSub hub in the test: records each ping's form.
struct Hub {
    url: String,
    pings: Arc<Mutex<Vec<HashMap<String, String>>>>,
}

impl Hub {
    async fn start() -> Hub {
        let pings: Arc<Mutex<Vec<HashMap<String, String>>>> = Arc::default();
        let recorded = pings.clone();
        let router = axum::Router::new().route(
            "/hub",
            axum::routing::post(
                move |headers: axum::http::HeaderMap, body: String| async move {
                    let mut form: HashMap<String, String> =
                        url::form_urlencoded::parse(body.as_bytes())
                            .into_owned()
                            .collect();
                    form.insert(
                        "content-type".into(),
                        headers[axum::http::header::CONTENT_TYPE]
                            .to_str()
                            .unwrap()
                            .to_owned(),
                    );
                    recorded.lock().unwrap().push(form);
                    axum::http::StatusCode::NO_CONTENT
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hub", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Hub { url, pings }
    }

    fn count(&self) -> usize {
        self.pings.lock().unwrap().len()
    }

    /// Waits for the `n`th ping, then a little more to see that no other follows.
    async fn expect(&self, n: usize, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        while self.count() < n && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(self.count(), n, "pings: {:?}", self.pings.lock().unwrap());
    }
}

async fn websub_hub_is_named_and_pinged_once_per_change(backend: Backend) {
    let hub = Hub::start().await;
    let hub_url = hub.url.clone();
    let app = TestApp::spawn_with(backend, |s| {
        s.websub_hub = Some(hub_url.parse().unwrap());
    })
    .await;
    assert_eq!(hub.count(), 0);
    app.create_show("kabar").await;
    // A new feed: the hub hears of it.
    hub.expect(1, Duration::from_secs(10)).await;
    let feed_url = app.url("/feeds/kabar.xml");
    {
        let pings = hub.pings.lock().unwrap();
        assert_eq!(pings[0]["hub.mode"], "publish");
        assert_eq!(pings[0]["hub.url"], feed_url);
        assert_eq!(
            pings[0]["content-type"],
            "application/x-www-form-urlencoded"
        );
    }
    let xml = app
        .http
        .get(&feed_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        xml.contains(&format!(
            "<atom:link href=\"{}\" rel=\"hub\"></atom:link>",
            hub.url
        )),
        "{xml}"
    );
    rss::Channel::read_from(xml.as_bytes()).expect("still RSS");

    // A draft and a scheduled episode change nothing a subscriber sees: no ping.
    let media = app.upload_ok("sample.m4a").await;
    let draft = new_episode(&app, "kabar", "Draf", &media, None).await;
    let at = Utc::now() + chrono::Duration::seconds(3);
    new_episode(&app, "kabar", "Terjadwal", &media, Some(at)).await;
    hub.expect(1, Duration::ZERO).await;

    // Publishing: one ping.
    publish(&app, &draft).await;
    hub.expect(2, Duration::from_secs(10)).await;

    // The scheduled episode: one ping when its time comes, with no request.
    let wait = (at - Utc::now()).to_std().unwrap_or_default();
    hub.expect(3, wait + Duration::from_secs(5)).await;
    assert!(Utc::now() >= at);
    assert!(
        hub.pings
            .lock()
            .unwrap()
            .iter()
            .all(|p| p["hub.url"] == feed_url)
    );
}
on_both_backends!(websub_hub_is_named_and_pinged_once_per_change);

/// Two instances with the same hub: a scheduled episode's time comes on both, one pings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websub_scheduled_ping_once_across_instances() {
    let hub = Hub::start().await;
    let hub_url = hub.url.clone();
    let a = TestApp::spawn_with(Backend::PostgresS3, |s| {
        s.websub_hub = Some(hub_url.parse().unwrap());
    })
    .await;
    let b = a.spawn_peer().await;
    a.create_show("serempak").await;
    hub.expect(1, Duration::from_secs(10)).await;
    let media = b.upload_ok("sample.m4a").await;
    let at = Utc::now() + chrono::Duration::seconds(2);
    new_episode(&b, "serempak", "Terjadwal", &media, Some(at)).await;
    wait_until_cached(&a, "serempak").await;
    wait_until_cached(&b, "serempak").await;
    hub.expect(1, Duration::ZERO).await;

    let wait = (at - Utc::now()).to_std().unwrap_or_default();
    hub.expect(2, wait + Duration::from_secs(5)).await;
    assert_eq!(feed_titles(&a, "serempak").await.0, ["Terjadwal"]);
    assert_eq!(feed_titles(&b, "serempak").await.0, ["Terjadwal"]);
}

/// Sends `request` on `conn` and reads one response: its status line and headers, and its body
/// (`Content-Length` bytes; none for `HEAD`, whose length is only announced).
async fn exchange(
    conn: &mut tokio::io::BufReader<tokio::net::TcpStream>,
    request: &str,
) -> (String, Vec<u8>) {
    use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _};
    conn.get_mut().write_all(request.as_bytes()).await.unwrap();
    let mut head = String::new();
    loop {
        let mut line = String::new();
        assert_ne!(
            conn.read_line(&mut line).await.unwrap(),
            0,
            "closed: {head}"
        );
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(|n| n.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![
        0;
        if request.starts_with("HEAD ") {
            0
        } else {
            length
        }
    ];
    conn.read_exact(&mut body).await.unwrap();
    (head, body)
}

/// A connection answers every request that follows on it (the API, a feed, media), with the
/// client's headers and body, whether it opened with a feed request or another.
async fn a_connection_answers_whatever_it_opened_with(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_show("segar").await;
    let media = app.upload_ok("sample.m4a").await;
    new_episode(&app, "segar", "Sudah", &media, Some(Utc::now())).await;
    wait_until_cached(&app, "segar").await;
    let address = app.base.strip_prefix("http://").unwrap();
    let auth = format!("Authorization: Bearer {}", app.admin_token);
    let feed = "GET /feeds/segar.xml HTTP/1.1\r\nHost: x\r\n\r\n";
    let range = format!(
        "GET /media/{}.m4a HTTP/1.1\r\nHost: x\r\nRange: bytes=0-99\r\n\r\n",
        media["id"].as_str().unwrap()
    );
    let openers = [
        (feed, "Segar Satu"),
        ("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "Segar Dua"),
    ];
    for (opener, title) in openers {
        let stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let mut conn = tokio::io::BufReader::new(stream);
        let (status, _) = exchange(&mut conn, opener).await;
        assert!(status.starts_with("HTTP/1.1 200"), "{opener}: {status}");

        let show = format!("GET /api/v1/shows/segar HTTP/1.1\r\nHost: x\r\n{auth}\r\n\r\n");
        let (status, body) = exchange(&mut conn, &show).await;
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        let json: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["slug"], "segar");

        let patch = json!({ "title": title }).to_string();
        let patch = format!(
            "PATCH /api/v1/shows/segar HTTP/1.1\r\nHost: x\r\n{auth}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{patch}",
            patch.len()
        );
        let (status, _) = exchange(&mut conn, &patch).await;
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");

        let (status, body) = exchange(&mut conn, feed).await;
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        let xml = String::from_utf8(body).unwrap();
        assert!(xml.contains(&format!("<title>{title}</title>")), "{xml}");

        let (status, _) = exchange(&mut conn, &feed.replacen("GET", "HEAD", 1)).await;
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        assert!(
            status.to_ascii_lowercase().contains("content-length: "),
            "{status}"
        );

        let (status, body) = exchange(&mut conn, &range).await;
        assert!(status.starts_with("HTTP/1.1 206"), "{status}");
        assert_eq!(body, sample_bytes("sample.m4a")[..100]);
    }
}
on_both_backends!(a_connection_answers_whatever_it_opened_with);

/// Feed connections held open at once each answer every request that follows on it (304s from
/// memory), see a publish made elsewhere, and answer the API.
async fn feed_connections_held_at_once_each_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_show("ramai").await;
    let media = app.upload_ok("sample.m4a").await;
    new_episode(&app, "ramai", "Pertama", &media, Some(Utc::now())).await;
    wait_until_cached(&app, "ramai").await;
    let (_, etag) = feed_titles(&app, "ramai").await;
    let address = app.base.strip_prefix("http://").unwrap();
    let feed = "GET /feeds/ramai.xml HTTP/1.1\r\nHost: x\r\n\r\n";
    let unchanged = |etag: &str| {
        format!("GET /feeds/ramai.xml HTTP/1.1\r\nHost: x\r\nIf-None-Match: {etag}\r\n\r\n")
    };

    let mut conns = Vec::new();
    for _ in 0..16 {
        let stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let mut conn = tokio::io::BufReader::new(stream);
        let (status, body) = exchange(&mut conn, feed).await;
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        assert!(String::from_utf8(body).unwrap().contains("Pertama"));
        conns.push(conn);
    }
    for conn in &mut conns {
        let (status, _) = exchange(conn, &unchanged(&etag)).await;
        assert!(status.starts_with("HTTP/1.1 304"), "{status}");
    }

    new_episode(&app, "ramai", "Kedua", &media, Some(Utc::now())).await;
    let (titles, new_etag) = feed_titles(&app, "ramai").await;
    assert_eq!(titles, ["Kedua", "Pertama"]);
    let auth = format!("Authorization: Bearer {}", app.admin_token);
    let show = format!("GET /api/v1/shows/ramai HTTP/1.1\r\nHost: x\r\n{auth}\r\n\r\n");
    for conn in &mut conns {
        let (status, body) = exchange(conn, &unchanged(&etag)).await;
        assert!(status.starts_with("HTTP/1.1 200"), "the old ETag: {status}");
        assert!(String::from_utf8(body).unwrap().contains("Kedua"));
        let (status, _) = exchange(conn, &unchanged(&new_etag)).await;
        assert!(status.starts_with("HTTP/1.1 304"), "the new ETag: {status}");
        let (status, body) = exchange(conn, &show).await;
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap()["slug"],
            "ramai"
        );
    }
}
on_both_backends!(feed_connections_held_at_once_each_answer);
