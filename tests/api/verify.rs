//! Clip verification's edges (issue 25, points 2 and 5): `POST /api/v1/verify` and the `/cek`
//! page on the real server. An exact published file (recording or rendition) is named with its
//! episode; the same bytes of a draft or a withdrawn briefing are not; other audio is "no
//! match"; what is not media, too large (declared or counted), too long, sent by a client that
//! hangs up, beyond the concurrency or the rate limit is refused, and the spool is empty after
//! every one of them. Nothing a clip sends is stored.

use serde_json::{Value, json};

use crate::episode_files::published_episode;
use crate::helpers::{Backend, TestApp, files_under, sample_bytes, sha256_hex};
use crate::on_both_backends;

async fn verify(app: &TestApp, bytes: Vec<u8>, lang: &str) -> (u16, Value) {
    let res = app
        .http
        .post(app.url("/api/v1/verify"))
        .header("Accept-Language", lang)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    if status == 200 {
        assert_eq!(res.headers()["cache-control"], "no-store");
    }
    (status, res.json().await.unwrap())
}

/// A `multipart/form-data` body with the file field as the page's form sends it.
fn form(filename: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "siaran-test-7d1f0c";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_page(app: &TestApp, path: &str, filename: &str, bytes: &[u8]) -> (u16, String) {
    let (content_type, body) = form(filename, bytes);
    let res = app
        .http
        .post(app.url(path))
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

fn assert_spool_empty(app: &TestApp) {
    assert_eq!(files_under(&app.spool_dir), Vec::<String>::new());
}

async fn exact_files_and_the_archive(backend: Backend) {
    // Many clips from one address; the rate limit has a test of its own.
    let app = TestApp::spawn_with(backend, |s| s.limits.verify_per_min = 0).await;
    let episode = published_episode(&app, "kaltim", "sample.mp4").await;
    let id = episode["id"].as_str().unwrap();
    let page_url = episode["url"].as_str().unwrap();
    let audio = app.upload_ok("sample.m4a").await;
    let res = app
        .post_json(
            &format!("/api/v1/episodes/{id}/renditions"),
            Some(&app.editor_token),
            &json!({"media_id": audio["id"], "title": "Audio saja"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let flac = app.upload_ok("sample.flac").await;
    let webm = app.upload_ok("sample.webm").await;
    let res = app
        .post_json(
            "/api/v1/shows/kaltim/episodes",
            Some(&app.editor_token),
            &json!({"title": "Terjadwal", "media_id": webm["id"],
                    "publish_at": "2036-01-05T02:00:00Z"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let objects = app.stored_objects().await.len();

    // The published recording, byte for byte.
    let mp4 = sample_bytes("sample.mp4");
    let (status, v) = verify(&app, mp4.clone(), "id").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["exact"], true, "{v}");
    assert_eq!(v["episode_id"], id);
    assert_eq!(v["url"], page_url);
    assert_eq!(v["rendition"], false);
    assert_eq!(v["sha256"], sha256_hex(&mp4));
    assert_eq!(v["edited"], false);
    assert_eq!(v["unmatched"], json!([]));
    assert_eq!(v["cuts"], json!([]));
    assert_eq!(
        v["summary"],
        "Ini rekaman resmi \"Keterbukaan Informasi\", diterbitkan pada 5 Januari 2026."
    );
    let whole = &v["matches"][0];
    assert_eq!(v["matches"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(whole["episode_id"], id);
    assert_eq!(whole["url"], format!("{page_url}#t=0"));
    assert_eq!(whole["clip_start_ms"], 0);
    assert_eq!(whole["episode_end_ms"], episode["duration_ms"]);
    assert_eq!(whole["score"], 1.0);

    // Its rendition, asked in English.
    let (status, v) = verify(&app, sample_bytes("sample.m4a"), "en-GB,en;q=0.9").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["exact"], true, "{v}");
    assert_eq!(v["episode_id"], id);
    assert_eq!(v["rendition"], true);
    assert_eq!(
        v["summary"],
        "This is the official recording of “Keterbukaan Informasi”, published on 5 January 2026."
    );

    // A draft's recording is not a publication: its bytes are looked up as any clip, and
    // audio that is not in the archive is plainly no match.
    let res = app
        .post_json(
            "/api/v1/shows/kaltim/episodes",
            Some(&app.editor_token),
            &json!({"title": "Draf", "media_id": flac["id"]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let (status, v) = verify(&app, sample_bytes("sample.flac"), "id").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["exact"], false, "{v}");
    assert!(v.get("episode_id").is_none(), "{v}");
    assert_eq!(v["matches"], json!([]));
    assert_eq!(v["edited"], false);
    assert_eq!(v["summary"], "Tidak ada kecocokan di arsip.");
    let (_, v) = verify(&app, sample_bytes("sample.flac"), "en").await;
    assert_eq!(v["summary"], "No match in the archive.");
    // Nor is a scheduled one's, before its time.
    let (status, v) = verify(&app, sample_bytes("sample.webm"), "id").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["exact"], false, "{v}");

    // The page says it too, for the form's file; the episode page leads to it.
    let (status, html) = post_page(&app, "/cek", "klip.flac", &sample_bytes("sample.flac")).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Tidak ada kecocokan di arsip."), "{html}");
    assert!(html.contains(&sha256_hex(&sample_bytes("sample.flac"))));
    assert!(
        html.contains("enctype=\"multipart/form-data\""),
        "the form again"
    );
    let (status, html) = post_page(&app, "/cek?lang=en", "rekaman.mp4", &mp4).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("This is the official recording of “Keterbukaan Informasi”"),
        "{html}"
    );
    let path = page_url.strip_prefix(&app.base).unwrap();
    assert!(html.contains(&format!("href=\"{path}\"")), "{html}");
    let episode_page = app
        .http
        .get(page_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(episode_page.contains("href=\"/cek\""));

    // Withdrawn, the same bytes are no longer an official publication.
    let res = app
        .http
        .put(app.url(&format!("/api/v1/episodes/{id}/withdrawal")))
        .bearer_auth(&app.editor_token)
        .json(&json!({"reason": "Data keliru"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (status, v) = verify(&app, mp4, "id").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["exact"], false, "{v}");
    assert_eq!(v["summary"], "Tidak ada kecocokan di arsip.");

    // Nothing of the clips was kept.
    assert_eq!(app.stored_objects().await.len(), objects);
    assert_eq!(app.count_rows("media").await, 4);
    assert_spool_empty(&app);
}
on_both_backends!(exact_files_and_the_archive);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_and_nothing_kept() {
    let app = TestApp::spawn_with(Backend::SqliteFs, |s| {
        s.verify.max_bytes = 64 * 1024;
        s.verify.max_seconds = 3;
        // Many refusals from one address here; the limit has a test of its own below.
        s.limits.verify_per_min = 0;
    })
    .await;

    // Not media, in both languages.
    let text = b"Ini bukan rekaman, hanya teks biasa.\n".repeat(100);
    let (status, v) = verify(&app, text.clone(), "id").await;
    assert_eq!(status, 415, "{v}");
    assert_eq!(v["code"], "not-media");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("Bukan berkas audio/video")
    );
    let (_, v) = verify(&app, text.clone(), "en").await;
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("Not an audio or video file")
    );
    assert_spool_empty(&app);

    // Media whose audio cannot be decoded (an MP4 cut in half).
    let mp4 = sample_bytes("sample.mp4");
    let (status, v) = verify(&app, mp4[..mp4.len() / 2].to_vec(), "en").await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["code"], "undecodable");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("The file's audio cannot be decoded")
    );
    assert_spool_empty(&app);

    // A video without sound: nothing to look up.
    let dir = tempfile::tempdir().unwrap();
    let silent = dir.path().join("video-only.webm");
    let out = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "color=c=navy:s=64x64:d=1",
        ])
        .args(["-c:v", "libvpx", "-b:v", "50k"])
        .arg(&silent)
        .output()
        .expect("ffmpeg runs (scripts/test installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, v) = verify(&app, std::fs::read(&silent).unwrap(), "en").await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["code"], "undecodable");
    assert_eq!(v["message"], "The file has no audio to check");
    assert_spool_empty(&app);

    // Longer than the limit (sample.m4a is 6 s).
    let (status, v) = verify(&app, sample_bytes("sample.m4a"), "en").await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["code"], "clip-too-long");
    assert_spool_empty(&app);

    // Declared larger than the limit: refused from the head, nothing read.
    let (status, v) = app
        .declared_only(
            "POST",
            "/api/v1/verify",
            "none",
            "audio/mpeg",
            64 * 1024 + 1,
        )
        .await;
    assert_eq!(status, 413, "{v}");
    assert_eq!(v["code"], "payload-too-large");
    // Not declared (chunked): refused once the count passes the limit.
    let bytes = sample_bytes("briefing-demo.mp3");
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        bytes.chunks(16 * 1024).map(|c| Ok(c.to_vec())).collect();
    let res = app
        .http
        .post(app.url("/api/v1/verify"))
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await;
    // A client still writing may see the reset before it reads the answer.
    match res {
        Ok(res) => {
            assert_eq!(res.status(), 413);
            assert_eq!(
                res.json::<Value>().await.unwrap()["code"],
                "payload-too-large"
            );
        }
        Err(e) => assert!(e.is_request() || e.is_body(), "unexpected error: {e}"),
    }
    assert_spool_empty(&app);

    // A client that hangs up mid-body leaves no spool file.
    {
        use tokio::io::AsyncWriteExt as _;
        let addr = app.base.trim_start_matches("http://").to_owned();
        let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST /api/v1/verify HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 50000\r\n\r\n"
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(&bytes[..10_000]).await.unwrap();
        socket.flush().await.unwrap();
        wait_for(
            || files_under(&app.spool_dir).len() == 1,
            "the clip is spooled",
        )
        .await;
    }
    wait_for(
        || files_under(&app.spool_dir).is_empty(),
        "the spool is emptied",
    )
    .await;

    // The page: the form, and a refusal shown above the form again.
    let res = app.http.get(app.url("/cek")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("<h1>Periksa potongan rekaman</h1>"), "{html}");
    assert!(html.contains("<label for=\"clip\">"), "{html}");
    assert!(html.contains("tidak disimpan"), "{html}");
    let (status, html) = post_page(&app, "/cek", "teks.mp3", &text).await;
    assert_eq!(status, 415, "{html}");
    assert!(
        html.contains("role=\"alert\">Bukan berkas audio/video"),
        "{html}"
    );
    assert!(html.contains("name=\"file\""), "the form again: {html}");
    let (status, html) = post_page(
        &app,
        "/cek?lang=en",
        "long.m4a",
        &sample_bytes("sample.m4a"),
    )
    .await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("The clip is too long"), "{html}");
    let (status, html) = post_page(&app, "/cek", "", b"").await;
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("Pilih berkas audio atau video"), "{html}");
    assert_spool_empty(&app);
    assert_eq!(app.count_rows("media").await, 0);
    assert_eq!(app.stored_objects().await, Vec::<String>::new());
}

async fn wait_for(done: impl Fn() -> bool, what: &str) {
    for _ in 0..100 {
        if done() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("{what}: not within 2 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_and_rate_limits_refuse() {
    let app = TestApp::spawn_with(Backend::SqliteFs, |s| {
        s.verify.concurrency = 1;
        s.limits.verify_per_min = 5;
    })
    .await;
    // One clip arriving slowly holds the only slot...
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let body =
        reqwest::Body::wrap_stream(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)));
    let slow = tokio::spawn({
        let (http, url) = (app.http.clone(), app.url("/api/v1/verify"));
        async move { http.post(url).body(body).send().await }
    });
    tx.send(Ok(vec![0u8; 4096])).await.unwrap();
    wait_for(
        || files_under(&app.spool_dir).len() == 1,
        "the slow clip is spooled",
    )
    .await;
    // ...so another is refused at once, with when to try again.
    let res = app
        .http
        .post(app.url("/api/v1/verify"))
        .body(sample_bytes("sample.wav"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "5");
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "verify-busy");
    // The page's form is refused the same way: the page again, saying so, in its language.
    let (status, html) = post_page(&app, "/cek", "klip.wav", &sample_bytes("sample.wav")).await;
    assert_eq!(status, 503);
    assert!(
        html.contains("Terlalu banyak pemeriksaan berjalan bersamaan"),
        "{html}"
    );
    assert!(html.contains("<form"), "the form is shown again");
    let (status, html) = post_page(
        &app,
        "/cek?lang=en",
        "klip.wav",
        &sample_bytes("sample.wav"),
    )
    .await;
    assert_eq!(status, 503);
    assert!(
        html.contains("Too many checks are running at once"),
        "{html}"
    );
    // The slow one ends (zeros are no media) and frees its slot and its spool file.
    drop(tx);
    let res = slow.await.unwrap().unwrap();
    assert_eq!(res.status(), 415);
    assert_spool_empty(&app);
    let (status, v) = verify(&app, sample_bytes("sample.wav"), "id").await;
    assert_eq!(status, 200, "{v}");
    // Five a minute per address, refused ones counted (the slow clip, the three refused while it
    // held the slot, the one just answered): the sixth is refused before it is read.
    let (status, v) = verify(&app, sample_bytes("sample.wav"), "en").await;
    assert_eq!(status, 429, "{v}");
    assert_eq!(v["code"], "rate-limited");
    // The page itself is not counted.
    let res = app.http.get(app.url("/cek")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

/// The page in a real Chromium: axe-core finds no serious or critical WCAG 2.1 A/AA violation
/// on the form or on its result, neither scrolls sideways at 360 px, and the form, given a file
/// and submitted as a person would, answers the result page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_works_in_chromium_and_passes_axe() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    let port = crate::helpers::free_port();
    let clip = crate::helpers::sample_path("sample.wav");
    let report = crate::helpers::run_node(
        "check-page.js",
        vec![
            app.base.clone(),
            port.to_string(),
            env!("CARGO_TARGET_TMPDIR").to_owned(),
            clip.display().to_string(),
        ],
    )
    .await;
    for page in ["form", "result"] {
        let found = &report[page];
        assert_eq!(found["h1"], "Periksa potongan rekaman", "{page}: {report}");
        assert_eq!(found["violations"], json!([]), "{page}: {report}");
        let passed = found["passed"].as_array().unwrap();
        for rule in ["document-title", "html-has-lang", "label", "color-contrast"] {
            assert!(passed.contains(&json!(rule)), "{page} {rule}: {report}");
        }
        assert_eq!(found["sideways"], false, "{page} at 360 px: {report}");
    }
    assert_eq!(
        report["result"]["summary"], "Tidak ada kecocokan di arsip.",
        "{report}"
    );
    assert_eq!(report["csp"], json!([]), "{report}");
    assert_spool_empty(&app);
}
