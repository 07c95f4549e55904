//! One browser test (issue 6): headless Chromium opens an episode page, plays the briefing,
//! clicks a document's moment and the player's `currentTime` jumps there; the permanent link
//! of a moment (`#t=`) starts the player at it. The screenshot is kept in
//! `target/tmp/episode-page.png`.

use serde_json::{Value, json};

use crate::{
    episode_files::published_episode,
    helpers::{Backend, TestApp},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_player_seeks_to_a_documents_moment() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    let episode = published_episode(&app, "ppid", "briefing-demo.mp3").await;
    let id = episode["id"].as_str().unwrap();
    let doc: Value = app
        .post_json(
            "/api/v1/documents",
            Some(&app.editor_token),
            &json!({"title": "Keterbukaan Informasi Publik", "number": "UU No. 14 Tahun 2008",
                    "kind": "undang-undang"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/episodes/{id}/documents"),
            Some(&app.editor_token),
            &json!({"document_id": doc["id"], "at_ms": 95000}),
        )
        .await;
    assert_eq!(res.status(), 201);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let shot = concat!(env!("CARGO_TARGET_TMPDIR"), "/episode-page.png");
    let _ = std::fs::remove_file(shot);
    let page = episode["url"].as_str().unwrap().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/parsers/browser.js"
            ))
            .args([&page, shot, &port.to_string(), "42"])
            .output()
            .expect("node runs (scripts/test installs chromium and the CDP client)")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "browser: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        seen["playedTo"].as_f64().unwrap() > 0.0,
        "it played: {seen}"
    );
    assert_eq!(seen["clicked"], 95);
    let after = seen["afterClick"].as_f64().unwrap();
    assert!(
        (95.0..98.0).contains(&after),
        "jumped to the moment: {seen}"
    );
    assert_eq!(seen["paused"], false, "and goes on playing: {seen}");
    assert_eq!(seen["hash"], "#t=95");
    let from_link = seen["fromLink"].as_f64().unwrap();
    assert!(
        (42.0..45.0).contains(&from_link),
        "a moment's link starts there: {seen}"
    );
    assert!(
        std::fs::metadata(shot).unwrap().len() > 10_000,
        "screenshot saved"
    );
}
