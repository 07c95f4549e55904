//! Show and episode metadata through the API into the feed: what Apple, PSP-1 and the
//! Podcasting 2.0 namespace ask for, validated on the way in.

use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp},
    on_both_backends,
};

async fn metadata_reaches_the_feed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = app
        .post_json(
            "/api/v1/shows",
            Some(&app.admin_token),
            &json!({
                "slug": "ppid", "title": "PPID Kaltim", "author": "Diskominfo Kaltim",
                "email": "ppid@kaltimprov.go.id",
                "meta": {
                    "type": "serial", "medium": "podcast", "complete": false,
                    "funding": {"url": "https://ppid.kaltimprov.go.id/dukung", "text": "Dukung"},
                    "license": {"name": "CC-BY-4.0"},
                    "update_frequency": {"text": "Mingguan", "rrule": "FREQ=WEEKLY"},
                    "persons": [{"name": "Kepala Diskominfo", "role": "host"}],
                    "location": {"name": "Samarinda", "geo": "geo:-0.5022,117.1536"}
                }
            }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let show: Value = res.json().await.unwrap();
    assert_eq!(show["meta"]["type"], "serial");
    assert_eq!(show["meta"]["persons"][0]["name"], "Kepala Diskominfo");

    let media = app.upload_ok("briefing-demo.mp3").await;
    let res = app
        .post_json(
            "/api/v1/shows/ppid/episodes",
            Some(&app.editor_token),
            &json!({
                "title": "Pergub 49/2023", "media_id": media["id"],
                "publish_at": "2026-01-05T02:00:00Z",
                "meta": {
                    "episode_type": "full", "season": 1, "episode": 3,
                    "content_html": "<p>Baca <a href=\"https://jdih.kaltimprov.go.id\">JDIH</a><script>x()</script></p>",
                    "persons": [{"name": "Kepala Biro Hukum", "role": "guest"}],
                    "soundbites": [{"start_ms": 15000, "duration_ms": 20000, "title": "Inti pasal 3"}]
                }
            }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let episode: Value = res.json().await.unwrap();
    // Sanitized on the way in: the answer shows what is stored.
    let html = episode["meta"]["content_html"].as_str().unwrap();
    assert!(html.contains("<a href=\"https://jdih.kaltimprov.go.id\"") && !html.contains("script"));

    let xml = app
        .http
        .get(app.url("/feeds/ppid.xml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let channel = rss::Channel::read_from(xml.as_bytes()).unwrap();
    assert_eq!(channel.itunes_ext().unwrap().r#type(), Some("serial"));
    let podcast = &channel.extensions()["podcast"];
    assert_eq!(podcast["medium"][0].value(), Some("podcast"));
    assert_eq!(podcast["person"][0].value(), Some("Kepala Diskominfo"));
    assert_eq!(
        podcast["location"][0].attrs()["geo"],
        "geo:-0.5022,117.1536"
    );
    assert_eq!(
        podcast["updateFrequency"][0].attrs()["rrule"],
        "FREQ=WEEKLY"
    );
    let item = &channel.items()[0];
    let it = item.itunes_ext().unwrap();
    assert_eq!((it.season(), it.episode()), (Some("1"), Some("3")));
    assert!(item.content().unwrap().contains("JDIH"));
    let p = &item.extensions()["podcast"];
    assert_eq!(p["person"][0].attrs()["role"], "guest");
    assert_eq!(p["soundbite"][0].attrs()["startTime"], "15");
    assert_eq!(p["season"][0].value(), Some("1"));
}
on_both_backends!(metadata_reaches_the_feed);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_a_feed_cannot_carry_is_refused() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    for (meta, field) in [
        (
            json!({"funding": {"url": "javascript:alert(1)", "text": "x"}}),
            "funding.url",
        ),
        (
            json!({"location": {"name": "Samarinda", "geo": "-0.5,117"}}),
            "location.geo",
        ),
        (json!({"persons": [{"name": ""}]}), "persons.name"),
        (json!({"medium": "radio"}), "medium"),
        (json!({"colour": "red"}), "colour"),
    ] {
        let res = app
            .post_json(
                "/api/v1/shows",
                Some(&app.admin_token),
                &json!({"slug": "x", "title": "X", "author": "A", "email": "a@b.id", "meta": meta}),
            )
            .await;
        assert_eq!(res.status(), 422, "{meta}");
        let body: Value = res.json().await.unwrap();
        assert!(
            body["message"].as_str().unwrap().contains(field),
            "{meta}: {body}"
        );
    }
    assert_eq!(app.count_rows("shows").await, 0);
}

/// A served feed with every field filled in, read by the Podcast Index's own parser
/// (podcast-partytime, npm) and its podcast elements validated by xmllint against the
/// namespace's XSD (feeds/schema/).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_passes_the_namespace_xsd_and_podcast_partytime() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    let res = app
        .post_json(
            "/api/v1/shows",
            Some(&app.admin_token),
            &json!({
                "slug": "ppid", "title": "PPID <Kaltim> & \"Warga\" ]]> 🎙️", "author": "Diskominfo",
                "email": "ppid@kaltimprov.go.id", "category": "News > Politics",
                "meta": {
                    "funding": {"url": "https://ppid.kaltimprov.go.id/dukung", "text": "Dukung"},
                    "license": {"name": "CC-BY-4.0"},
                    "persons": [{"name": "Kepala <Dinas>", "role": "host"}],
                    "location": {"name": "Samarinda", "geo": "geo:-0.5022,117.1536", "osm": "R3798455"}
                }
            }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let cover = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "color=c=navy:size=1400x1400",
        ])
        .args([
            "-frames:v",
            "1",
            "-f",
            "image2pipe",
            "-vcodec",
            "mjpeg",
            "-",
        ])
        .output()
        .unwrap()
        .stdout;
    let res = app
        .http
        .put(app.url("/api/v1/shows/ppid/artwork"))
        .bearer_auth(&app.admin_token)
        .body(cover)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let media = app.upload_ok("briefing-demo.mp3").await;
    let res = app
        .post_json(
            "/api/v1/shows/ppid/episodes",
            Some(&app.editor_token),
            &json!({
                "title": "Pergub 49/2023 & <UU 14/2008>", "media_id": media["id"],
                "publish_at": "2026-01-05T02:00:00Z",
                "meta": {
                    "season": 1, "episode": 3, "episode_type": "full",
                    "content_html": "<p>Baca <a href=\"https://jdih.kaltimprov.go.id\">JDIH</a></p>",
                    "persons": [{"name": "Kepala Biro Hukum", "role": "guest"}],
                    "location": {"name": "Gedung DPRD", "geo": "geo:-0.50,117.15"},
                    "soundbites": [{"start_ms": 15000, "duration_ms": 20000, "title": "Pasal 3"}]
                }
            }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let xml = app
        .http
        .get(app.url("/feeds/ppid.xml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feed.xml");
    std::fs::write(&path, &xml).unwrap();
    let root = env!("CARGO_MANIFEST_DIR");

    let out = std::process::Command::new("python3")
        .arg(format!("{root}/tests/parsers/check_namespace.py"))
        .arg(&path)
        .arg(format!("{root}/feeds/schema"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "XSD: {report}\n{xml}");
    assert!(report.contains("validates"), "{report}");

    let out = std::process::Command::new("node")
        .arg(format!("{root}/tests/parsers/partytime.js"))
        .arg(&path)
        .output()
        .expect("node runs (scripts/test installs the parser)");
    assert!(
        out.status.success(),
        "partytime: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["title"], "PPID <Kaltim> & \"Warga\" ]]> 🎙️");
    assert_eq!(seen["podcastPeople"][0]["name"], "Kepala <Dinas>");
    assert_eq!(seen["podcastLocation"]["osm"], "R3798455");
    assert_eq!(
        seen["podcastFunding"][0]["url"],
        "https://ppid.kaltimprov.go.id/dukung"
    );
    assert_eq!(seen["license"]["identifier"], "CC-BY-4.0");
    let item = &seen["items"][0];
    assert_eq!(item["title"], "Pergub 49/2023 & <UU 14/2008>");
    assert_eq!(item["enclosure"]["type"], "audio/mpeg");
    assert_eq!(item["enclosure"]["length"], 1_001_889);
    assert_eq!(item["duration"], 167);
    assert_eq!(
        (item["itunesSeason"].clone(), item["itunesEpisode"].clone()),
        (json!(1), json!(3))
    );
    assert_eq!(item["podcastPeople"][0]["role"], "Guest");
    assert_eq!(item["podcastSoundbites"][0]["startTime"], 15);
    assert!(item["content"].as_str().unwrap().contains("JDIH"));
}
