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

    let res = app
        .http
        .get(&url)
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let res = app
        .http
        .get(&url)
        .header(header::IF_MODIFIED_SINCE, &last_modified)
        .send()
        .await
        .unwrap();
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
    let res = app
        .http
        .get(&url)
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_ne!(res.headers()[header::ETAG].to_str().unwrap(), etag);

    // HEAD works; unknown shows are 404.
    let res = app.http.head(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .http
        .get(app.url("/feeds/nope.xml"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
on_both_backends!(feed_validators_and_304);
