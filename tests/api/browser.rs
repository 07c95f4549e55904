//! One browser test (issue 6): headless Chromium opens an episode page, plays the briefing,
//! clicks a document's moment and the player's `currentTime` jumps there; the waveform under
//! the player (issue 24) is drawn, the moment marked on it, and a click on it seeks; the permanent link
//! of a moment (`#t=`) starts the player at it; so does the embeddable player's. All of it under
//! the pages' `Content-Security-Policy` (issue 22, point 4): the script and styles are files, and
//! the browser logs no violation, on the pages nor on the feed it shows through its stylesheet;
//! another site may frame the embeddable player but not a page.
//! The screenshot is kept in `target/tmp/episode-page.png`.

use serde_json::{Value, json};

use crate::{
    episode_files::published_episode,
    helpers::{Backend, TestApp},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_player_seeks_to_a_documents_moment() {
    // With a job worker: the page draws the recording's waveform once it is analysed.
    let app = TestApp::spawn_with(Backend::SqliteFs, |s| s.jobs.workers = 1).await;
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
    // The page draws the waveform once the recording is analysed.
    let media = episode["media_id"].as_str().unwrap();
    let mut analysed = Value::Null;
    for _ in 0..600 {
        analysed = app.get_json(&format!("/api/v1/media/{media}")).await;
        if analysed["quality"]["state"] != "pending" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(analysed["quality"]["state"], "done", "{analysed}");

    let port = crate::helpers::free_port();
    let shot = concat!(env!("CARGO_TARGET_TMPDIR"), "/episode-page.png");
    let _ = std::fs::remove_file(shot);
    let page = episode["url"].as_str().unwrap().to_owned();
    let embed = page.replacen("/shows/", "/embed/", 1);
    let feed = app.url("/feeds/ppid.xml");
    let args = [
        page,
        shot.to_owned(),
        port.to_string(),
        "42".to_owned(),
        embed.clone(),
        feed,
    ];
    let seen = crate::helpers::run_node("browser.js", Vec::from(args)).await;
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
    let waveform = &seen["waveform"];
    assert!(waveform["drawn"].as_u64().unwrap() > 0, "{seen}");
    assert!(
        waveform["inked"].as_f64().unwrap() > 0.05,
        "the canvas shows the peaks: {seen}"
    );
    assert_eq!(waveform["marked"], true, "the moment is marked: {seen}");
    let three_quarters = waveform["duration"].as_f64().unwrap() * 0.75;
    let after = waveform["afterClick"].as_f64().unwrap();
    assert!(
        (three_quarters - 1.0..three_quarters + 3.0).contains(&after),
        "a click on the waveform seeks there: {seen}"
    );
    let from_link = seen["fromLink"].as_f64().unwrap();
    assert!(
        (42.0..45.0).contains(&from_link),
        "a moment's link starts there: {seen}"
    );
    assert!(
        std::fs::metadata(shot).unwrap().len() > 10_000,
        "screenshot saved"
    );
    // The pages' style file applied, the embed's rules too, and the embed seeks to a moment.
    assert_eq!(seen["pageStyled"], "736px", "{seen}");
    assert_eq!(seen["embedStyled"], "0px", "{seen}");
    let embed_from = seen["embedFrom"].as_f64().unwrap();
    assert!(
        (42.0..45.0).contains(&embed_from),
        "the embed starts at the moment: {seen}"
    );
    // Framed by another site: the embed loads with its player, the page is refused (Chromium
    // shows its error page in the frame, and logs the one violation).
    assert_eq!(
        seen["frames"],
        json!([{"url": embed, "player": true},
               {"url": "chrome-error://chromewebdata/", "player": false}]),
        "{seen}"
    );
    let refused = seen["framingRefused"].as_array().unwrap();
    assert_eq!(refused.len(), 1, "{seen}");
    assert!(
        refused[0].as_str().unwrap().contains(
            "violates the following Content Security Policy directive: \"frame-ancestors 'none'\""
        ),
        "{seen}"
    );
    // The feed's address in a browser: the server's page of it, styled, with the address to
    // copy and the episode's player.
    assert_eq!(seen["feed"]["h1"], "Siaran Pers ppid", "{seen}");
    assert_eq!(seen["feed"]["players"], 1, "{seen}");
    assert_eq!(seen["feed"]["styled"], "736px", "{seen}");
    assert!(
        seen["feed"]["address"]
            .as_str()
            .unwrap()
            .ends_with("/feeds/ppid.xml"),
        "{seen}"
    );
    assert_eq!(
        seen["csp"],
        json!([]),
        "no Content Security Policy violation"
    );
}
