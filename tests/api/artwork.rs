//! Show covers: Apple's rules checked on upload, the cover served and named in the feed
//! (`itunes:image`, RSS `image`, `podcast:image`), a replaced cover's object deleted.

use reqwest::{StatusCode, header};
use serde_json::Value;

use crate::{
    helpers::{Backend, TestApp},
    on_both_backends,
};

/// A real image made by ffmpeg: `size` like `1400x1400`, `file` ending in .png, .jpg or .gif.
pub(crate) fn image(dir: &std::path::Path, file: &str, size: &str) -> Vec<u8> {
    let path = dir.join(file);
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("color=c=navy:size={size}"))
        .args(["-frames:v", "1"])
        .arg(&path)
        .output()
        .expect("ffmpeg runs (scripts/test installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(path).unwrap()
}

async fn put_artwork(app: &TestApp, token: Option<&str>, bytes: Vec<u8>) -> reqwest::Response {
    let mut req = app
        .http
        .put(app.url("/api/v1/shows/pemprov/artwork"))
        .body(bytes);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

async fn feed(app: &TestApp) -> String {
    app.http
        .get(app.url("/feeds/pemprov.xml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn covers_follow_apples_rules(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_show("pemprov").await;
    let dir = tempfile::tempdir().unwrap();
    assert!(!feed(&app).await.contains("itunes:image"));

    // Refused, with the rule named, and nothing stored.
    for (bytes, status, code) in [
        (
            image(dir.path(), "small.jpg", "1000x1000"),
            422,
            "invalid-artwork-size",
        ),
        (
            image(dir.path(), "wide.png", "1400x1200"),
            422,
            "invalid-artwork-size",
        ),
        (
            image(dir.path(), "huge.png", "3200x3200"),
            422,
            "invalid-artwork-size",
        ),
        (
            image(dir.path(), "cover.gif", "1400x1400"),
            415,
            "unsupported-artwork",
        ),
        (
            b"<html>bukan gambar</html>".to_vec(),
            415,
            "unsupported-artwork",
        ),
    ] {
        let res = put_artwork(&app, Some(&app.admin_token), bytes).await;
        assert_eq!(res.status().as_u16(), status);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], code, "{body}");
    }
    let res = app
        .http
        .put(app.url("/api/v1/shows/pemprov/artwork"))
        .header(header::ACCEPT_LANGUAGE, "en")
        .bearer_auth(&app.admin_token)
        .body(image(dir.path(), "small.png", "1000x1000"))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("1000×1000"),
        "{body}"
    );
    assert!(app.stored_objects().await.is_empty());
    // Covers are the show's owner's business.
    let png = image(dir.path(), "cover.png", "1400x1400");
    assert_eq!(
        put_artwork(&app, Some(&app.editor_token), png.clone())
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        put_artwork(&app, None, png.clone()).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // Accepted: served, and named in the feed three ways.
    let res = put_artwork(&app, Some(&app.admin_token), png.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let show: Value = res.json().await.unwrap();
    let art = &show["artwork"];
    assert_eq!(art["mime_type"], "image/png");
    assert_eq!(art["width"], 1400);
    assert_eq!(art["size_bytes"], png.len());
    let url = art["url"].as_str().unwrap().to_owned();
    assert!(url.ends_with(".png"), "{url}");
    let res = app.http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "image/png");
    assert_eq!(
        res.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), png.as_slice());
    let xml = feed(&app).await;
    assert!(
        xml.contains(&format!("<itunes:image href=\"{url}\"")),
        "{xml}"
    );
    assert!(xml.contains(&format!("<url>{url}</url>")), "{xml}");
    assert!(xml.contains("<podcast:image aspect-ratio=\"1/1\""), "{xml}");

    // Replaced by a JPEG: a new URL; the old one is gone, and so is its object.
    let jpg = image(dir.path(), "cover.jpg", "3000x3000");
    let res = put_artwork(&app, Some(&app.admin_token), jpg.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let show: Value = res.json().await.unwrap();
    let new_url = show["artwork"]["url"].as_str().unwrap().to_owned();
    assert_ne!(new_url, url);
    assert!(new_url.ends_with(".jpg"));
    assert_eq!(app.http.get(&url).send().await.unwrap().status(), 404);
    let res = app.http.get(&new_url).send().await.unwrap();
    assert_eq!(res.headers()[header::CONTENT_TYPE], "image/jpeg");
    assert_eq!(res.bytes().await.unwrap().as_ref(), jpg.as_slice());
    assert_eq!(app.stored_objects().await.len(), 1);
    assert!(feed(&app).await.contains(&new_url));
    let listed: Value = app
        .http
        .get(app.url("/api/v1/shows/pemprov"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["artwork"]["url"], new_url.as_str());
}
on_both_backends!(covers_follow_apples_rules);
