//! The whole path: upload → probe → store → publish → feed → stream, plus documents.

use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp, sample_bytes, sha256_hex},
    on_both_backends,
};

async fn fetch_feed(app: &TestApp, slug: &str) -> rss::Channel {
    let res = app
        .http
        .get(app.url(&format!("/feeds/{slug}.xml")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body = res.bytes().await.unwrap();
    rss::Channel::read_from(&body[..]).expect("feed parses as RSS")
}

async fn whole_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let show = app.create_show("pemprov").await;
    assert_eq!(show["feed_url"], app.url("/feeds/pemprov.xml"));
    assert_eq!(show["slug"], "pemprov");
    assert!(show["id"].is_string());

    // Upload: what the API answers is what the bytes are.
    let bytes = sample_bytes("briefing-demo.mp3");
    let media = app.upload_ok("briefing-demo.mp3").await;
    assert_eq!(media["mime_type"], "audio/mpeg");
    assert_eq!(media["size_bytes"], bytes.len() as u64);
    assert_eq!(media["sha256"], sha256_hex(&bytes));
    let duration = media["duration_ms"].as_u64().unwrap();
    assert!(duration.abs_diff(166_922) <= 100, "duration {duration}");
    let media_id = media["id"].as_str().unwrap().to_owned();

    // A published episode (past date), with a title that needs escaping.
    let title = "Pergub No. 49/2023: <Pajak> & \"Retribusi\" — Penjelasan Kepala Dinas ✓";
    let past = (Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let res = app
        .post_json(
            "/api/v1/shows/pemprov/episodes",
            Some(&app.editor_token),
            &json!({"title": title, "description": "Apa yang berubah & mengapa <penting>", "media_id": media_id, "publish_at": past}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let published: Value = res.json().await.unwrap();
    assert_eq!(published["status"], "published");
    let enclosure = published["enclosure_url"].as_str().unwrap().to_owned();
    assert!(
        enclosure.starts_with(&app.base) && enclosure.ends_with(".mp3"),
        "{enclosure}"
    );
    assert!(enclosure.is_ascii());

    // A draft and a scheduled episode are not in the feed yet.
    let res = app
        .post_json(
            "/api/v1/shows/pemprov/episodes",
            Some(&app.editor_token),
            &json!({"title": "Draf rapat", "description": "", "media_id": media_id}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let draft: Value = res.json().await.unwrap();
    assert_eq!(draft["status"], "draft");
    let soon = Utc::now() + chrono::Duration::seconds(3);
    let res = app
        .post_json(
            "/api/v1/shows/pemprov/episodes",
            Some(&app.editor_token),
            &json!({"title": "Terjadwal", "description": "nanti", "media_id": media_id, "publish_at": soon.to_rfc3339()}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let scheduled: Value = res.json().await.unwrap();
    assert_eq!(scheduled["status"], "scheduled");

    let channel = fetch_feed(&app, "pemprov").await;
    assert_eq!(channel.items().len(), 1);
    let item = &channel.items()[0];
    assert_eq!(item.title(), Some(title));
    assert_eq!(
        item.description(),
        Some("Apa yang berubah & mengapa <penting>")
    );
    assert_eq!(
        item.guid().unwrap().value(),
        published["guid"].as_str().unwrap()
    );
    let enc = item.enclosure().unwrap();
    assert_eq!(enc.url(), enclosure);
    assert_eq!(enc.length(), bytes.len().to_string());
    assert_eq!(enc.mime_type(), "audio/mpeg");
    let secs = (duration as f64 / 1000.0).round() as u64;
    assert_eq!(
        item.itunes_ext().unwrap().duration(),
        Some(secs.to_string().as_str())
    );
    let pub_date = chrono::DateTime::parse_from_rfc2822(item.pub_date().unwrap()).unwrap();
    let expected = chrono::DateTime::parse_from_rfc3339(&past).unwrap();
    assert_eq!(pub_date.timestamp(), expected.timestamp());

    // Publishing the draft puts it first (newest).
    let res = app
        .http
        .post(app.url(&format!(
            "/api/v1/episodes/{}/publish",
            draft["id"].as_str().unwrap()
        )))
        .bearer_auth(&app.editor_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let now_published: Value = res.json().await.unwrap();
    assert_eq!(now_published["status"], "published");
    let channel = fetch_feed(&app, "pemprov").await;
    let titles: Vec<_> = channel.items().iter().map(|i| i.title().unwrap()).collect();
    assert_eq!(titles, ["Draf rapat", title]);

    // The scheduled one appears once its time comes, with no further request to the API.
    let wait = (soon - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(200);
    tokio::time::sleep(wait).await;
    let channel = fetch_feed(&app, "pemprov").await;
    let titles: Vec<_> = channel.items().iter().map(|i| i.title().unwrap()).collect();
    assert_eq!(titles, ["Terjadwal", "Draf rapat", title]);
    let guids: Vec<_> = channel
        .items()
        .iter()
        .map(|i| i.guid().unwrap().value().to_owned())
        .collect();
    let unique: std::collections::HashSet<_> = guids.iter().collect();
    assert_eq!(unique.len(), 3, "guids are distinct: {guids:?}");

    // The enclosure streams the exact bytes.
    let res = app.http.get(&enclosure).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), bytes.as_slice());

    // Documents: create, link at a moment, read back through the episode.
    let res = app
        .post_json(
            "/api/v1/documents",
            Some(&app.editor_token),
            &json!({
                "title": "Pajak Daerah dan Retribusi Daerah",
                "number": "Pergub Kaltim No. 49 Tahun 2023",
                "kind": "peraturan-gubernur",
                "issuer": "Gubernur Kalimantan Timur",
                "issued_on": "2023-12-29",
                "url": "https://jdih.kaltimprov.go.id/produk_hukum/detail/49"
            }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let doc: Value = res.json().await.unwrap();
    let episode_id = published["id"].as_str().unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/episodes/{episode_id}/documents"),
            Some(&app.editor_token),
            &json!({"document_id": doc["id"], "at_ms": 95_000}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .http
        .get(app.url(&format!("/api/v1/episodes/{episode_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let episode: Value = res.json().await.unwrap();
    let docs = episode["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["id"], doc["id"]);
    assert_eq!(docs[0]["number"], "Pergub Kaltim No. 49 Tahun 2023");
    assert_eq!(docs[0]["kind"], "peraturan-gubernur");
    assert_eq!(docs[0]["issued_on"], "2023-12-29");
    assert_eq!(docs[0]["at_ms"], 95_000);

    // A moment past the end of the recording is refused.
    let res = app
        .post_json(
            &format!("/api/v1/episodes/{episode_id}/documents"),
            Some(&app.editor_token),
            &json!({"document_id": doc["id"], "at_ms": 10_000_000}),
        )
        .await;
    assert_eq!(res.status(), 422);
}
on_both_backends!(whole_flow);

async fn healthz(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["analytics_dropped"], 0);
}
on_both_backends!(healthz);

async fn drafts_are_not_public(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_show("rahasia").await;
    let media = app.upload_ok("sample.m4a").await;
    let res = app
        .post_json(
            "/api/v1/shows/rahasia/episodes",
            Some(&app.editor_token),
            &json!({"title": "Draf", "media_id": media["id"]}),
        )
        .await;
    let draft: Value = res.json().await.unwrap();
    let path = format!("/api/v1/episodes/{}", draft["id"].as_str().unwrap());
    let anonymous = app.http.get(app.url(&path)).send().await.unwrap();
    assert_eq!(anonymous.status(), 404);
    let editor = app
        .http
        .get(app.url(&path))
        .bearer_auth(&app.editor_token)
        .send()
        .await
        .unwrap();
    assert_eq!(editor.status(), 200);

    // Listing: the public sees published episodes only, a token holder sees all.
    let res = app
        .post_json(
            "/api/v1/shows/rahasia/episodes",
            Some(&app.editor_token),
            &json!({"title": "Terbit", "media_id": media["id"], "publish_at": "2026-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let list = |token: Option<String>| {
        let mut req = app.http.get(app.url("/api/v1/shows/rahasia/episodes"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move {
            req.send()
                .await
                .unwrap()
                .json::<Vec<Value>>()
                .await
                .unwrap()
        }
    };
    let public: Vec<_> = list(None)
        .await
        .iter()
        .map(|e| e["title"].clone())
        .collect();
    assert_eq!(public, ["Terbit"]);
    let all: Vec<_> = list(Some(app.editor_token.clone()))
        .await
        .iter()
        .map(|e| e["title"].clone())
        .collect();
    assert_eq!(all, ["Draf", "Terbit"]);
}
on_both_backends!(drafts_are_not_public);
