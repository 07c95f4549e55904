//! Transcripts, chapters and renditions of an episode (issue 4, podcast:transcript,
//! podcast:chapters, podcast:alternateEnclosure), and show and episode changes after
//! publication (PATCH; a changed show slug answers 301 from the old feed URL).

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp, sha256_hex},
    on_both_backends,
};

pub const VTT: &str = "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Kepala Dinas>Selamat pagi, warga Kalimantan Timur.\n\n\
00:00:15.000 --> 00:00:19.500\nBadan publik wajib menyediakan informasi publik.\n";
pub const SRT: &str = "1\n00:00:01,000 --> 00:00:04,000\nGood morning, citizens.\n\n\
2\n00:00:15,000 --> 00:00:19,500\nPublic bodies must provide public information.\n";

/// A published episode of a new show `slug` with the demo briefing (167 s); returns its JSON.
pub async fn published_episode(app: &TestApp, slug: &str, sample: &str) -> Value {
    app.create_show(slug).await;
    let media = app.upload_ok(sample).await;
    let res = app
        .post_json(
            &format!("/api/v1/shows/{slug}/episodes"),
            Some(&app.editor_token),
            &json!({"title": "Keterbukaan Informasi", "media_id": media["id"],
                    "publish_at": "2026-01-05T02:00:00Z"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

async fn put(app: &TestApp, path: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
    app.http
        .put(app.url(path))
        .bearer_auth(&app.editor_token)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn delete(app: &TestApp, path: &str) -> reqwest::Response {
    app.http
        .delete(app.url(path))
        .bearer_auth(&app.editor_token)
        .send()
        .await
        .unwrap()
}

async fn feed(app: &TestApp, slug: &str) -> String {
    let res = app
        .http
        .get(app.url(&format!("/feeds/{slug}.xml")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

async fn transcripts_and_chapters(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let episode = published_episode(&app, "ppid", "briefing-demo.mp3").await;
    let id = episode["id"].as_str().unwrap();
    let objects_before = app.stored_objects().await.len();

    // Refused: nothing stored, nothing in the feed.
    for (body, needle) in [
        ("WEBVTT\n\n00:01.000 -> 00:02.000\nx\n", "Line 3"),
        ("<html>not a transcript</html>", "Line 1"),
        (
            "WEBVTT\n\n00:10:00.000 --> 00:10:02.000\nlate\n",
            "after the recording ends",
        ),
    ] {
        let res = app
            .http
            .put(app.url(&format!("/api/v1/episodes/{id}/transcripts/id")))
            .bearer_auth(&app.editor_token)
            .header(header::ACCEPT_LANGUAGE, "en")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{body}");
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["code"], "invalid-transcript");
        assert!(err["message"].as_str().unwrap().contains(needle), "{err}");
    }
    let res = put(
        &app,
        &format!("/api/v1/episodes/{id}/transcripts/not a tag"),
        VTT,
    )
    .await;
    assert_eq!(res.status(), 422);
    let res = app
        .http
        .put(app.url(&format!("/api/v1/episodes/{id}/transcripts/id")))
        .body(VTT)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let (status, body) = app
        .declared_only(
            "PUT",
            &format!("/api/v1/episodes/{id}/transcripts/id"),
            &app.editor_token,
            "text/vtt",
            6 << 20,
        )
        .await;
    assert_eq!(status, 413);
    assert_eq!(body["code"], "payload-too-large");
    assert_eq!(app.stored_objects().await.len(), objects_before);
    assert!(!feed(&app, "ppid").await.contains("podcast:transcript"));

    // Indonesian in WebVTT, English in SRT.
    let res = put(&app, &format!("/api/v1/episodes/{id}/transcripts/id"), VTT).await;
    assert_eq!(res.status(), 200);
    let vtt: Value = res.json().await.unwrap();
    assert_eq!(vtt["mime_type"], "text/vtt");
    assert_eq!(vtt["sha256"], sha256_hex(VTT.as_bytes()));
    let res = put(&app, &format!("/api/v1/episodes/{id}/transcripts/en"), SRT).await;
    assert_eq!(res.status(), 200);
    let srt: Value = res.json().await.unwrap();
    assert_eq!(srt["format"], "srt");

    let res = app
        .http
        .get(vtt["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "text/vtt; charset=utf-8"
    );
    assert_eq!(res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    let etag = res.headers()[header::ETAG].to_str().unwrap().to_owned();
    assert_eq!(res.text().await.unwrap(), VTT);
    let res = app
        .get_with(
            vtt["url"].as_str().unwrap(),
            &[(header::IF_NONE_MATCH, &etag)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let res = app
        .http
        .get(srt["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "application/x-subrip; charset=utf-8"
    );
    assert_eq!(res.text().await.unwrap(), SRT);

    // Replacing a transcript leaves one object for it.
    let corrected = VTT.replace("Selamat pagi", "Selamat siang");
    let res = put(
        &app,
        &format!("/api/v1/episodes/{id}/transcripts/id"),
        corrected.clone(),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.stored_objects().await.len(), objects_before + 2);
    let served = app
        .http
        .get(vtt["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(served.text().await.unwrap(), corrected);

    // Chapters: none yet; then built from a document discussed at 0:15; then uploaded.
    let chapters_url = app.url(&format!("/chapters/{id}.json"));
    assert_eq!(
        app.http.get(&chapters_url).send().await.unwrap().status(),
        404
    );
    let doc: Value = app
        .post_json(
            "/api/v1/documents",
            Some(&app.editor_token),
            &json!({"title": "Keterbukaan Informasi Publik", "number": "UU No. 14 Tahun 2008",
                    "kind": "undang-undang", "url": "https://peraturan.bpk.go.id/Details/39047"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/episodes/{id}/documents"),
            Some(&app.editor_token),
            &json!({"document_id": doc["id"], "at_ms": 15000}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app.http.get(&chapters_url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "application/json+chapters"
    );
    let built: Value = res.json().await.unwrap();
    assert_eq!(built["version"], "1.2.0");
    assert_eq!(built["chapters"][0]["startTime"], 0.0);
    assert_eq!(built["chapters"][1]["startTime"], 15.0);
    assert_eq!(
        built["chapters"][1]["title"],
        "UU No. 14 Tahun 2008: Keterbukaan Informasi Publik"
    );
    assert_eq!(
        built["chapters"][1]["url"],
        "https://peraturan.bpk.go.id/Details/39047"
    );

    let bad = json!({"version": "1.2.0", "chapters": [{"startTime": 500}]}).to_string();
    let res = put(&app, &format!("/api/v1/episodes/{id}/chapters"), bad).await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "invalid-chapters"
    );
    let uploaded = json!({"version": "1.2.0", "chapters": [
        {"startTime": 0, "title": "Pembukaan"},
        {"startTime": 42.5, "title": "Pasal 7", "url": "https://jdih.example.go.id/uu-14-2008"}
    ]})
    .to_string();
    let res = put(
        &app,
        &format!("/api/v1/episodes/{id}/chapters"),
        uploaded.clone(),
    )
    .await;
    assert_eq!(res.status(), 200);
    let served = app.http.get(&chapters_url).send().await.unwrap();
    assert_eq!(served.text().await.unwrap(), uploaded);

    let view: Value = app
        .http
        .get(app.url(&format!("/api/v1/episodes/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["chapters_source"], "uploaded");
    assert_eq!(view["chapters_url"], chapters_url);
    let langs: Vec<&str> = view["transcripts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["language"].as_str().unwrap())
        .collect();
    assert_eq!(langs, ["en", "id"]);

    let xml = feed(&app, "ppid").await;
    assert!(
        xml.contains(&format!(
            "<podcast:transcript language=\"id\" rel=\"captions\" type=\"text/vtt\" url=\"{}\"",
            vtt["url"].as_str().unwrap()
        )),
        "{xml}"
    );
    assert!(
        xml.contains(
            "<podcast:transcript language=\"en\" rel=\"captions\" type=\"application/x-subrip\""
        ),
        "{xml}"
    );
    assert!(
        xml.contains(&format!(
            "<podcast:chapters type=\"application/json+chapters\" url=\"{chapters_url}\""
        )),
        "{xml}"
    );

    // Deleting the upload goes back to the chapters built from the documents.
    assert_eq!(
        delete(&app, &format!("/api/v1/episodes/{id}/chapters"))
            .await
            .status(),
        204
    );
    assert_eq!(
        delete(&app, &format!("/api/v1/episodes/{id}/chapters"))
            .await
            .status(),
        404
    );
    let again: Value = app
        .http
        .get(&chapters_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again, built);
    assert_eq!(
        delete(&app, &format!("/api/v1/episodes/{id}/transcripts/en"))
            .await
            .status(),
        204
    );
    assert_eq!(app.stored_objects().await.len(), objects_before + 1);
    assert_eq!(
        app.http
            .get(srt["url"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert!(!feed(&app, "ppid").await.contains("language=\"en\""));

    // A draft's files are not public.
    let res = app
        .http
        .patch(app.url(&format!("/api/v1/episodes/{id}")))
        .bearer_auth(&app.editor_token)
        .json(&json!({"publish_at": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.http
            .get(vtt["url"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        app.http.get(&chapters_url).send().await.unwrap().status(),
        404
    );
}
on_both_backends!(transcripts_and_chapters);

async fn renditions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let episode = published_episode(&app, "video", "sample.mp4").await;
    let id = episode["id"].as_str().unwrap();
    let audio = app.upload_ok("sample.m4a").await;

    let res = app
        .post_json(
            &format!("/api/v1/episodes/{id}/renditions"),
            Some(&app.editor_token),
            &json!({"media_id": episode["media_id"]}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .post_json(
            &format!("/api/v1/episodes/{id}/renditions"),
            Some(&app.editor_token),
            &json!({"media_id": "0193d6a0-0000-7000-8000-000000000000"}),
        )
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "unknown-media");

    let res = app
        .post_json(
            &format!("/api/v1/episodes/{id}/renditions"),
            Some(&app.editor_token),
            &json!({"media_id": audio["id"], "title": "Audio saja"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let rendition: Value = res.json().await.unwrap();
    assert_eq!(rendition["mime_type"], "audio/mp4");
    assert_eq!(rendition["title"], "Audio saja");
    let res = app
        .post_json(
            &format!("/api/v1/episodes/{id}/renditions"),
            Some(&app.editor_token),
            &json!({"media_id": audio["id"]}),
        )
        .await;
    assert_eq!(res.status(), 409);

    // A video podcast: its medium says so and its enclosures are video.
    let res = app
        .http
        .patch(app.url("/api/v1/shows/video"))
        .bearer_auth(&app.admin_token)
        .json(&json!({"meta": {"medium": "video"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let xml = feed(&app, "video").await;
    assert!(
        xml.contains("<podcast:medium>video</podcast:medium>"),
        "{xml}"
    );
    let video_url = episode["enclosure_url"].as_str().unwrap();
    assert!(
        xml.contains(&format!(
            "<enclosure url=\"{video_url}\" length=\"29497\" type=\"video/mp4\"/>"
        )),
        "{xml}"
    );
    assert!(
        xml.contains(&format!("<podcast:source uri=\"{video_url}\"")),
        "{xml}"
    );
    assert!(xml.contains(&format!(
        "<podcast:source uri=\"{}\"",
        rendition["url"].as_str().unwrap()
    )));
    assert!(xml.contains("type=\"video/mp4\""));
    assert!(xml.contains("height=\"120\""), "{xml}");
    assert!(xml.contains("title=\"Audio saja\""));
    assert!(xml.contains("default=\"true\""));
    assert!(xml.contains("<podcast:integrity type=\"sri\" value=\"sha256-"));

    let res = delete(
        &app,
        &format!(
            "/api/v1/episodes/{id}/renditions/{}",
            audio["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(res.status(), 204);
    // The enclosure alone stays, as the one alternateEnclosure, with its hash and its signed
    // record (issue 25).
    let xml = feed(&app, "video").await;
    assert_eq!(
        xml.matches("<podcast:alternateEnclosure").count(),
        1,
        "{xml}"
    );
    assert!(!xml.contains("Audio saja"), "{xml}");
    assert!(xml.contains("<siaran:record href="), "{xml}");
}
on_both_backends!(renditions);

async fn show_renamed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let episode = published_episode(&app, "pers", "briefing-demo.mp3").await;
    let before = feed(&app, "pers").await;
    let guid = |xml: &str| {
        let start = xml.find("<podcast:guid>").unwrap();
        xml[start..start + 60].to_owned()
    };
    assert!(!before.contains("itunes:new-feed-url"));

    let res = app
        .http
        .patch(app.url("/api/v1/shows/pers"))
        .bearer_auth(&app.admin_token)
        .json(&json!({"slug": "siaran-pers", "title": "Siaran Pers Kaltim"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let show: Value = res.json().await.unwrap();
    assert_eq!(show["feed_url"], app.url("/feeds/siaran-pers.xml"));
    assert_eq!(show["author"], "Diskominfo Kaltim", "unchanged fields stay");

    // The old address answers 301 to the new one, for a client that does not follow redirects.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = client.get(app.url("/feeds/pers.xml")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        res.headers()[header::LOCATION],
        app.url("/feeds/siaran-pers.xml")
    );
    let after = feed(&app, "siaran-pers").await;
    assert!(after.contains("<title>Siaran Pers Kaltim</title>"));
    assert!(after.contains(&format!(
        "<itunes:new-feed-url>{}</itunes:new-feed-url>",
        app.url("/feeds/siaran-pers.xml")
    )));
    assert_eq!(
        guid(&after),
        guid(&before),
        "podcast:guid is fixed once assigned"
    );
    assert!(after.contains(episode["guid"].as_str().unwrap()));

    // Nobody else takes the old slug; the show itself may take it back.
    let res = app
        .post_json(
            "/api/v1/shows",
            Some(&app.admin_token),
            &json!({"slug": "pers", "title": "Lain", "author": "X", "email": "x@example.go.id"}),
        )
        .await;
    assert_eq!(res.status(), 409);
    let res = app
        .post_json(
            "/api/v1/shows",
            Some(&app.admin_token),
            &json!({"slug": "opml", "title": "Lain", "author": "X", "email": "x@example.go.id"}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .http
        .patch(app.url("/api/v1/shows/siaran-pers"))
        .bearer_auth(&app.admin_token)
        .json(&json!({"email": "not an address"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let res = app
        .http
        .patch(app.url("/api/v1/shows/siaran-pers"))
        .bearer_auth(&app.editor_token)
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = app
        .http
        .patch(app.url("/api/v1/shows/siaran-pers"))
        .bearer_auth(&app.admin_token)
        .json(&json!({"slug": "pers"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(feed(&app, "pers").await.matches("<item>").count(), 1);
    let res = client
        .get(app.url("/feeds/siaran-pers.xml"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::MOVED_PERMANENTLY);

    // An episode's title and slug change; its guid does not.
    let id = episode["id"].as_str().unwrap();
    let res = app
        .http
        .patch(app.url(&format!("/api/v1/episodes/{id}")))
        .bearer_auth(&app.editor_token)
        .json(&json!({"title": "Keterbukaan Informasi (ralat)", "slug": "ralat"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let changed: Value = res.json().await.unwrap();
    assert_eq!(changed["guid"], episode["guid"]);
    assert_eq!(changed["slug"], "ralat");
    let xml = feed(&app, "pers").await;
    assert!(xml.contains("Keterbukaan Informasi (ralat)"));
    // The retired slug stays with the episode: a new episode cannot take it.
    let media = app.upload_ok("sample.m4a").await;
    let res = app
        .post_json(
            "/api/v1/shows/pers/episodes",
            Some(&app.editor_token),
            &json!({"title": "Baru", "media_id": media["id"], "slug": episode["slug"]}),
        )
        .await;
    assert_eq!(res.status(), 409);
}
on_both_backends!(show_renamed);

async fn patch(app: &TestApp, path: &str, body: &Value) -> (u16, Value) {
    let res = app
        .http
        .patch(app.url(path))
        .bearer_auth(&app.editor_token)
        .json(body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// A corrected recording replaces the old one only if it holds what was placed in the old one:
/// soundbites, the moments of linked documents, uploaded chapters, transcript cues.
async fn a_new_recording_holds_what_is_placed_in_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let episode = published_episode(&app, "ganti", "briefing-demo.mp3").await;
    let id = episode["id"].as_str().unwrap();
    let path = format!("/api/v1/episodes/{id}");
    let short = app.upload_ok("sample.wav").await; // 2 s
    let to_short = json!({"media_id": short["id"]});

    let soundbite = json!({"meta": {"soundbites": [{"start_ms": 60_000, "duration_ms": 20_000}]}});
    assert_eq!(patch(&app, &path, &soundbite).await.0, 200);
    let (status, got) = patch(&app, &path, &to_short).await;
    assert_eq!((status, got["code"].as_str()), (422, Some("invalid-meta")));
    assert_eq!(patch(&app, &path, &json!({"meta": {}})).await.0, 200);

    let doc: Value = app
        .post_json(
            "/api/v1/documents",
            Some(&app.editor_token),
            &json!({"title": "Keterbukaan Informasi Publik"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let link: Value = app
        .post_json(
            &format!("{path}/documents"),
            Some(&app.editor_token),
            &json!({"document_id": doc["id"], "at_ms": 15000}),
        )
        .await
        .json()
        .await
        .unwrap();
    let (status, got) = patch(&app, &path, &to_short).await;
    assert_eq!(
        (status, got["code"].as_str()),
        (422, Some("invalid-moment"))
    );
    let unlink = format!("{path}/documents/{}", link["link_id"].as_str().unwrap());
    assert_eq!(delete(&app, &unlink).await.status(), 204);

    let chapters = json!({"version": "1.2.0", "chapters": [{"startTime": 42.5}]}).to_string();
    assert_eq!(
        put(&app, &format!("{path}/chapters"), chapters)
            .await
            .status(),
        200
    );
    let (status, got) = patch(&app, &path, &to_short).await;
    assert_eq!(
        (status, got["code"].as_str()),
        (422, Some("invalid-chapters"))
    );
    assert_eq!(
        delete(&app, &format!("{path}/chapters")).await.status(),
        204
    );

    assert_eq!(
        put(&app, &format!("{path}/transcripts/id"), VTT)
            .await
            .status(),
        200
    );
    let (status, got) = patch(&app, &path, &to_short).await;
    assert_eq!(
        (status, got["code"].as_str()),
        (422, Some("invalid-transcript")),
        "{got}"
    );
    assert_eq!(
        delete(&app, &format!("{path}/transcripts/id"))
            .await
            .status(),
        204
    );

    // Nothing placed past its end: the short recording is taken, and bounds what comes next.
    let (status, got) = patch(&app, &path, &to_short).await;
    assert_eq!(
        (status, got["media_id"].clone()),
        (200, short["id"].clone())
    );
    let res = app
        .post_json(
            &format!("{path}/documents"),
            Some(&app.editor_token),
            &json!({"document_id": doc["id"], "at_ms": 2500}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let (status, _) = patch(
        &app,
        &path,
        &json!({"meta": {"soundbites": [{"start_ms": 1000, "duration_ms": 1001}]}}),
    )
    .await;
    assert_eq!(status, 422);

    // A rendition's title and a link's note are bounded like every text.
    let other = app.upload_ok("sample.flac").await;
    let res = app
        .post_json(
            &format!("{path}/renditions"),
            Some(&app.editor_token),
            &json!({"media_id": other["id"], "title": "t".repeat(501)}),
        )
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "invalid-title");
    let res = app
        .post_json(
            &format!("{path}/documents"),
            Some(&app.editor_token),
            &json!({"document_id": doc["id"], "note": "n".repeat(2001)}),
        )
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "invalid-note");
}
on_both_backends!(a_new_recording_holds_what_is_placed_in_it);
