//! Feed HTTP behaviour: validators, 304s, content type, unknown shows.

use reqwest::{StatusCode, header};
use serde_json::json;

use crate::{
    helpers::{Backend, TestApp},
    on_both_backends,
};

async fn feed_validators_and_304(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_show("kominfo").await;
    let media = app.upload_ok("sample.m4a").await;
    let res = app
        .post_json(
            "/api/v1/shows/kominfo/episodes",
            Some(&app.editor_token),
            &json!({"title": "Satu", "description": "x", "media_id": media["id"], "publish_at": "2026-01-05T03:00:00Z"}),
        )
        .await;
    assert_eq!(res.status(), 201);

    let url = app.url("/feeds/kominfo.xml");
    let res = app.http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let ct = res.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(ct.starts_with("application/rss+xml"), "{ct}");
    let etag = res.headers()[header::ETAG].to_str().unwrap().to_owned();
    let last_modified = res.headers()[header::LAST_MODIFIED]
        .to_str()
        .unwrap()
        .to_owned();
    let body = res.text().await.unwrap();
    assert!(body.contains("xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\""));
    assert!(body.contains("xmlns:podcast=\"https://podcastindex.org/namespace/1.0\""));
    assert!(body.contains("xmlns:atom=\"http://www.w3.org/2005/Atom\""));
    let channel = rss::Channel::read_from(body.as_bytes()).unwrap();
    assert_eq!(channel.language(), Some("id"));
    let itunes = channel.itunes_ext().unwrap();
    assert_eq!(
        itunes.owner().unwrap().email(),
        Some("ppid@kaltimprov.go.id")
    );
    assert_eq!(itunes.author(), Some("Diskominfo Kaltim"));
    assert_eq!(itunes.categories()[0].text(), "Government");
    assert_eq!(itunes.explicit(), Some("false"));

    let res = app.get_with(&url, &[(header::IF_NONE_MATCH, &etag)]).await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let res = app
        .get_with(&url, &[(header::IF_MODIFIED_SINCE, &last_modified)])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    // A new episode changes the validators.
    let res = app
        .post_json(
            "/api/v1/shows/kominfo/episodes",
            Some(&app.editor_token),
            &json!({"title": "Dua", "media_id": media["id"], "publish_at": "2026-02-05T03:00:00Z"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app.get_with(&url, &[(header::IF_NONE_MATCH, &etag)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_ne!(res.headers()[header::ETAG].to_str().unwrap(), etag);

    // HEAD works; unknown shows are 404.
    let res = app.http.get(&url).send().await.unwrap();
    let current = res.headers()[header::ETAG].clone();
    let res = app.http.head(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::ETAG], current);
    assert!(
        res.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/rss+xml")
    );
    assert!(res.bytes().await.unwrap().is_empty());
    let res = app
        .http
        .get(app.url("/feeds/nope.xml"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
on_both_backends!(feed_validators_and_304);

/// The feed as two independent podcast parsers (feedparser, podcastparser) read it, beside the
/// `rss` crate used elsewhere: titles with markup characters and Indonesian text survive, and the
/// enclosure, guid and duration are what the API said.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn podcast_parsers_read_the_feed() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    app.create_show("parser").await;
    let media = app.upload_ok("briefing-demo.mp3").await;
    let title = "Perda No. 1/2026 <Retribusi> & \"Pajak\" — Tanya Jawab ✓";
    let description = "Kepala Dinas menjelaskan: tarif < 5% & 'bebas' untuk UMKM";
    let res = app
        .post_json(
            "/api/v1/shows/parser/episodes",
            Some(&app.editor_token),
            &json!({"title": title, "description": description, "media_id": media["id"],
                    "publish_at": "2026-03-02T01:30:00Z"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let episode: serde_json::Value = res.json().await.unwrap();
    let feed_url = app.url("/feeds/parser.xml");
    let xml = app
        .http
        .get(&feed_url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feed.xml");
    std::fs::write(&path, &xml).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/parsers/read_feed.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(&path)
        .arg(&feed_url)
        .output()
        .expect("python3 (scripts/test installs feedparser and podcastparser)");
    assert!(
        out.status.success(),
        "parsers failed (run the suite with scripts/test): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let size = media["size_bytes"].as_u64().unwrap();
    let secs = (media["duration_ms"].as_f64().unwrap() / 1000.0).round() as u64;
    let enclosure = episode["enclosure_url"].as_str().unwrap();

    let fp = &got["feedparser"];
    assert_eq!(fp["bozo"], false, "feedparser: {}", fp["bozo_exception"]);
    assert_eq!(fp["title"], "Siaran Pers parser");
    assert_eq!(fp["language"], "id");
    let e = &fp["entries"][0];
    assert_eq!(e["title"], title);
    assert_eq!(e["guid"], episode["guid"]);
    assert_eq!(e["duration"], secs.to_string());
    assert_eq!(e["enclosure"]["url"], enclosure);
    assert_eq!(e["enclosure"]["length"], size.to_string());
    assert_eq!(e["enclosure"]["type"], "audio/mpeg");

    let pp = &got["podcastparser"];
    assert_eq!(pp["title"], "Siaran Pers parser");
    let e = &pp["episodes"][0];
    assert_eq!(e["title"], title);
    assert_eq!(e["guid"], episode["guid"]);
    assert_eq!(e["total_time"], secs);
    assert_eq!(e["enclosure"]["url"], enclosure);
    assert_eq!(e["enclosure"]["length"], size);
    assert_eq!(e["enclosure"]["type"], "audio/mpeg");
    // 2026-03-02T01:30:00Z as a Unix time.
    assert_eq!(e["published"], 1_772_415_000);
    assert_eq!(e["description"], description);
}
