//! Limits that protect the service (issue 26, point 5): writes per caller and per address,
//! searches per address, media streams at once per address. Over a limit: 429 `rate-limited`
//! with `Retry-After`, in the asked-for language; reads of feeds and pages never count.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, create_token};
use siaran::db::Role;

async fn create_show(app: &TestApp, token: &str, slug: &str) -> reqwest::Response {
    app.http
        .post(app.url("/api/v1/shows"))
        .bearer_auth(token)
        .json(
            &json!({"slug": slug, "title": "Batas", "author": "Diskominfo",
                      "email": "ppid@kaltimprov.go.id"}),
        )
        .send()
        .await
        .unwrap()
}

async fn assert_limited(res: reqwest::Response, lang: &str) {
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&after), "Retry-After: {after}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "rate-limited");
    let message = body["message"].as_str().unwrap();
    match lang {
        "en" => assert!(message.starts_with("Too many requests"), "{message}"),
        _ => assert!(
            message.starts_with("Terlalu banyak permintaan"),
            "{message}"
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_are_limited_per_caller_and_address() {
    let app = TestApp::spawn_with(Backend::SqliteFs, |s| s.limits.writes_per_min = 3).await;
    let other = create_token(app.state.ctx.db.as_ref(), Role::Admin).await;
    for i in 0..3 {
        let res = create_show(&app, &app.admin_token, &format!("batas-{i}")).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    // The fourth write of this token waits; nothing was created.
    let res = create_show(&app, &app.admin_token, "batas-3").await;
    assert_limited(res, "id").await;
    let res = app
        .http
        .post(app.url("/api/v1/shows"))
        .bearer_auth(&app.admin_token)
        .header("Accept-Language", "en")
        .json(&json!({"slug": "batas-3"}))
        .send()
        .await
        .unwrap();
    assert_limited(res, "en").await;
    assert_eq!(
        app.http
            .get(app.url("/api/v1/shows/batas-3"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    // Reads go on, and so does another token, until the address has had twice the limit.
    for _ in 0..20 {
        let res = app
            .http
            .get(app.url("/feeds/batas-0.xml"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let res = app
            .http
            .get(app.url("/api/v1/shows/batas-0"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    for i in 4..7 {
        let res = create_show(&app, &other, &format!("batas-{i}")).await;
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "write {i} of the other token"
        );
    }
    // Three of one token and three of the other: the address's six are spent.
    let third = create_token(app.state.ctx.db.as_ref(), Role::Admin).await;
    assert_limited(create_show(&app, &third, "batas-7").await, "id").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_are_limited_per_address() {
    let app = TestApp::spawn_with(Backend::SqliteFs, |s| s.limits.search_per_min = 2).await;
    for _ in 0..2 {
        let res = app
            .http
            .get(app.url("/api/v1/search?q=rapat"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = app.http.get(app.url("/cari?q=rapat")).send().await.unwrap();
    assert_limited(res, "id").await;
    let res = app.http.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

/// A recording too large to sit in the sockets' buffers: a response not read holds its stream.
fn big_wav() -> Vec<u8> {
    let data: u32 = 24 << 20;
    let mut wav = Vec::with_capacity(44 + data as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    for v in [1u16, 2] {
        wav.extend_from_slice(&v.to_le_bytes());
    }
    for v in [48_000u32, 192_000] {
        wav.extend_from_slice(&v.to_le_bytes());
    }
    for v in [4u16, 16] {
        wav.extend_from_slice(&v.to_le_bytes());
    }
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data.to_le_bytes());
    wav.extend((0..data).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    wav
}

async fn media_streams_are_capped_per_address(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.limits.streams_per_address = 2).await;
    let res = app.upload("rapat.wav", big_wav()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let media: Value = res.json().await.unwrap();
    let url = media["url"].as_str().unwrap().to_owned();

    let first = app.http.get(&url).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let second = app
        .http
        .get(&url)
        .header("Range", "bytes=0-")
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), StatusCode::PARTIAL_CONTENT);
    // Two streams open and not read: a third waits.
    assert_limited(app.http.get(&url).send().await.unwrap(), "id").await;
    // The metadata is not a stream.
    let res = app
        .http
        .get(app.url(&format!("/api/v1/media/{}", media["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // A stream read to its end gives its slot back, and so does a listener who leaves.
    let body = first.bytes().await.unwrap();
    assert_eq!(body.len(), 44 + (24 << 20));
    drop(second);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let res = app
            .http
            .get(&url)
            .header("Range", "bytes=0-99")
            .send()
            .await
            .unwrap();
        if res.status() == StatusCode::PARTIAL_CONTENT {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the slots were never given back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
crate::on_both_backends!(media_streams_are_capped_per_address);
