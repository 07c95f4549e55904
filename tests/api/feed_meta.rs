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
