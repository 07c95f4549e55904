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
                "slug": "ppid", "title": "PPID <Kaltim> & \"Warga\" ]]> 🎙️\u{7}\u{1b}", "author": "Diskominfo",
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
    // Control characters XML forbids reach the feed builder, which drops them (U+0000 does
    // not: the API refuses it, `openapi::text_with_nul_is_refused`).
    let res = app
        .post_json(
            "/api/v1/shows/ppid/episodes",
            Some(&app.editor_token),
            &json!({
                "title": "Pergub 49/2023 & <UU 14/2008>\u{b}\u{c}", "media_id": media["id"],
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
    let episode: Value = res.json().await.unwrap();
    let id = episode["id"].as_str().unwrap();
    let res = app
        .http
        .put(app.url(&format!("/api/v1/episodes/{id}/transcripts/id")))
        .bearer_auth(&app.editor_token)
        .body(crate::episode_files::VTT)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let chapters =
        json!({"version": "1.2.0", "chapters": [{"startTime": 0, "title": "Pembukaan"}]});
    let res = app
        .http
        .put(app.url(&format!("/api/v1/episodes/{id}/chapters")))
        .bearer_auth(&app.editor_token)
        .body(chapters.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let video = app.upload_ok("sample.mp4").await;
    let res = app
        .post_json(
            &format!("/api/v1/episodes/{id}/renditions"),
            Some(&app.editor_token),
            &json!({"media_id": video["id"]}),
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
    let transcript = &item["podcastTranscripts"][0];
    assert_eq!(
        transcript["url"],
        app.url(&format!("/transcripts/{id}/id.vtt"))
    );
    assert_eq!(transcript["type"], "text/vtt");
    assert_eq!(transcript["language"], "id");
    assert_eq!(
        item["podcastChapters"]["url"],
        app.url(&format!("/chapters/{id}.json"))
    );
    assert_eq!(item["podcastChapters"]["type"], "application/json+chapters");
    let alternates = item["alternativeEnclosures"].as_array().unwrap();
    assert_eq!(alternates.len(), 2, "{alternates:?}");
    assert_eq!(alternates[0]["default"], true);
    assert_eq!(alternates[1]["type"], "video/mp4");
    assert_eq!(alternates[1]["height"], 120);
    assert_eq!(alternates[1]["source"][0]["uri"], video_url(&app, &video));
}

fn video_url(app: &TestApp, media: &Value) -> String {
    app.url(&format!("/media/{}.mp4", media["id"].as_str().unwrap()))
}

/// The demo show (`siaran serve --demo`) as served, byte for byte: its records have fixed ids and
/// dates, so any change to the feed is a visible diff of `feeds/golden/demo.xml`
/// (`UPDATE_GOLDEN=1` rewrites it). Seeding twice changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_feed_matches_its_golden_file() {
    let app = TestApp::spawn_with(Backend::SqliteFs, |s| {
        s.public_url = "http://127.0.0.1:8080".parse().unwrap();
    })
    .await;
    siaran::demo::seed(&app.state.ctx).await.unwrap();
    siaran::demo::seed(&app.state.ctx).await.unwrap();
    let xml = app
        .http
        .get(app.url("/feeds/demo.xml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds/golden/demo.xml");
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::write(&path, &xml).unwrap();
    }
    let golden = std::fs::read_to_string(&path).unwrap();
    assert!(
        xml == golden,
        "the demo feed differs from {}; rerun with UPDATE_GOLDEN=1 and review the diff\n{xml}",
        path.display()
    );
    assert_eq!(xml.matches("<item>").count(), 1);
    assert_eq!(
        app.stored_objects().await.len(),
        3,
        "recording, cover, transcript"
    );
    // The demo went through the same operations as the API: its history names it, once.
    let demo = |action: &str| (action.to_owned(), "demo".to_owned());
    assert_eq!(
        app.history("/api/v1/shows/demo/history").await,
        [demo("created"), demo("artwork-set")]
    );
    // What the demo set up after its (fixed, past) publication date is no correction: its page
    // lists no changes.
    let url = app.url("/shows/demo/pejabat-pemerintah-harus-punya-mindset-digital");
    let page = app.get_with(&url, &[]).await.text().await.unwrap();
    assert!(page.contains("Dokumen yang dibahas"), "{page}");
    assert!(!page.contains("Riwayat perubahan"), "{page}");

    // feedparser and gPodder's podcastparser read the episode, and feedparser the transcript,
    // the chapters and the speaker's role (podcastparser 0.6.11 knows the podcast namespace only
    // under its old GitHub URI).
    let out = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/parsers/read_feed.py"
        ))
        .arg(&path)
        .arg("http://127.0.0.1:8080/feeds/demo.xml")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fp = &seen["feedparser"]["entries"][0];
    let episode = "5096baef-c180-5eb2-9a0c-ef6a584ee02e";
    assert_eq!(fp["guid"], episode);
    assert_eq!(fp["duration"], "167");
    assert_eq!(fp["enclosure"]["length"], "1001889");
    assert_eq!(
        fp["transcript"]["url"],
        format!("http://127.0.0.1:8080/transcripts/{episode}/id.vtt")
    );
    assert_eq!(fp["transcript"]["language"], "id");
    assert_eq!(
        fp["chapters"]["url"],
        format!("http://127.0.0.1:8080/chapters/{episode}.json")
    );
    assert_eq!(fp["person"]["role"], "guest");
    let pp = &seen["podcastparser"]["episodes"][0];
    assert_eq!(pp["guid"], episode);
    assert_eq!(pp["total_time"], 167);
    assert_eq!(pp["enclosure"]["type"], "audio/mpeg");

    // The transcript and chapters it links to are served.
    let vtt = app
        .http
        .get(app.url(&format!("/transcripts/{episode}/id.vtt")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let file = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/media/briefing-demo.vtt"
    ))
    .unwrap();
    assert_eq!(vtt, file);
    let chapters: Value = app
        .http
        .get(app.url(&format!("/chapters/{episode}.json")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(chapters["chapters"][1]["startTime"], 15.0);
}
