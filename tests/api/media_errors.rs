//! Bad uploads get a clear JSON error and leave nothing behind: no object, no row, no spool file.

use serde_json::Value;

use crate::{
    helpers::{Backend, TestApp, files_under, sample_bytes, wav_with_32768_channels},
    on_both_backends,
};

/// A deterministic stream of bytes that is no media format.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (x >> 33) as u8
        })
        .collect()
}

/// An ID3v2.3 tag (a title frame padded to 2 KiB) and nothing after it.
fn id3_only() -> Vec<u8> {
    let body_len: u32 = 2048;
    let mut out = b"ID3\x03\x00\x00".to_vec();
    // Sync-safe size: 7 bits per byte.
    out.extend([
        ((body_len >> 21) & 0x7f) as u8,
        ((body_len >> 14) & 0x7f) as u8,
        ((body_len >> 7) & 0x7f) as u8,
        (body_len & 0x7f) as u8,
    ]);
    let text = b"\x00Rapat tanpa audio";
    out.extend(b"TIT2");
    out.extend((text.len() as u32).to_be_bytes());
    out.extend([0, 0]);
    out.extend(text);
    out.resize(10 + body_len as usize, 0);
    out
}

async fn rejects_bad_media_and_leaves_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mp4 = sample_bytes("sample.mp4");
    let faststart = sample_bytes("sample-faststart.mp4");
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("empty.mp3", Vec::new(), 415, "empty-media"),
        ("noise.mp3", noise(64 * 1024), 415, "unsupported-media"),
        (
            "page.mp3",
            b"<!DOCTYPE html><html><head><title>404</title></head><body>Not found</body></html>"
                .repeat(50),
            415,
            "unsupported-media",
        ),
        ("tag-only.mp3", id3_only(), 422, "unplayable-media"),
        (
            "cut.mp4",
            mp4[..mp4.len() / 2].to_vec(),
            422,
            "unplayable-media",
        ),
        // moov first, cut right after the mdat header: an index and no complete sample.
        (
            "cut-faststart.mp4",
            faststart[..3_330].to_vec(),
            422,
            "unplayable-media",
        ),
        // Once a panic in symphonia (answered 422, with a backtrace in the log).
        (
            "channels.wav",
            wav_with_32768_channels(),
            422,
            "unplayable-media",
        ),
    ];
    for (name, bytes, status, code) in cases {
        let res = app.upload(name, bytes).await;
        let got = res.status().as_u16();
        let body: Value = res.json().await.expect("JSON error body");
        assert_eq!(got, status, "{name}: {body}");
        assert_eq!(body["code"], code, "{name}: {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{name}: {body}"
        );
    }
    assert_eq!(app.stored_objects().await, Vec::<String>::new());
    assert_eq!(app.count_rows("media").await, 0);
    assert_eq!(files_under(&app.spool_dir), Vec::<String>::new());

    // The probe names the impossible field itself; symphonia never reaches it.
    let res = app.upload("channels.wav", wav_with_32768_channels()).await;
    let body: Value = res.json().await.expect("JSON error body");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("the format chunk declares 32768 channels")),
        "{body}"
    );

    // A good upload afterwards stores exactly one object and one row.
    app.upload_ok("sample.opus").await;
    assert_eq!(app.stored_objects().await.len(), 1);
    assert_eq!(app.count_rows("media").await, 1);
    assert_eq!(files_under(&app.spool_dir), Vec::<String>::new());
}
on_both_backends!(rejects_bad_media_and_leaves_nothing);

/// An upload cut off after part of its media data still plays that part: it is stored, with
/// the length that plays and a warning in the answer (and in the stored record).
async fn cut_upload_is_accepted_with_a_warning(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let faststart = sample_bytes("sample-faststart.mp4");
    let res = app
        .upload("cut.mp4", faststart[..faststart.len() * 3 / 4].to_vec())
        .await;
    assert_eq!(res.status(), 201);
    let media: Value = res.json().await.unwrap();
    let ms = media["duration_ms"].as_u64().unwrap();
    assert!(ms > 1_000 && ms < 3_900, "{ms} ms of 4,000");
    let warning = media["warnings"][0].as_str().unwrap();
    assert!(
        warning.starts_with("file is shorter than its header says"),
        "{warning}"
    );
    let stored: Value = app
        .http
        .get(app.url(&format!("/api/v1/media/{}", media["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored["warnings"], media["warnings"]);
    assert_eq!(stored["duration_ms"], media["duration_ms"]);
}
on_both_backends!(cut_upload_is_accepted_with_a_warning);

async fn every_sample_format_is_accepted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (name, mime, ms) in [
        ("sample.m4a", "audio/mp4", 6_000),
        ("sample.opus", "audio/opus", 6_006),
        ("sample.flac", "audio/flac", 4_000),
        ("sample.wav", "audio/wav", 2_000),
        ("sample.mp4", "video/mp4", 4_000),
        ("sample.webm", "video/webm", 4_008),
    ] {
        let media = app.upload_ok(name).await;
        assert_eq!(media["mime_type"], mime, "{name}");
        let got = media["duration_ms"].as_u64().unwrap();
        assert!(got.abs_diff(ms) <= 100, "{name}: {got} ms, expected {ms}");
        let url = media["url"].as_str().unwrap();
        assert!(url.ends_with(&format!(".{}", media["extension"].as_str().unwrap())));
    }
}
on_both_backends!(every_sample_format_is_accepted);

async fn upload_limit_answers_413(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.max_upload_bytes = 100_000).await;
    let bytes = sample_bytes("briefing-demo.mp3");
    // Declared too large: refused from the Content-Length alone.
    let res = app.upload("big.mp3", bytes.clone()).await;
    assert_eq!(res.status(), 413);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "payload-too-large");
    // Not declared (chunked): refused once the count passes the limit.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        bytes.chunks(16 * 1024).map(|c| Ok(c.to_vec())).collect();
    let res = app
        .http
        .post(app.url("/api/v1/media?filename=big.mp3"))
        .bearer_auth(&app.editor_token)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await;
    // The server answers 413 and closes the connection without reading the rest; a client
    // still writing may see the reset before it reads the answer. Either way nothing is stored.
    match res {
        Ok(res) => assert_eq!(res.status(), 413),
        Err(e) => assert!(e.is_request() || e.is_body(), "unexpected error: {e}"),
    }
    assert_eq!(app.count_rows("media").await, 0);
    assert_eq!(app.stored_objects().await, Vec::<String>::new());
    assert_eq!(files_under(&app.spool_dir), Vec::<String>::new());
}
on_both_backends!(upload_limit_answers_413);

/// A client whose link drops mid-upload leaves nothing behind: no row, no object, no spool file.
async fn interrupted_upload_leaves_nothing(backend: Backend) {
    use tokio::io::AsyncWriteExt as _;
    let app = TestApp::spawn(backend).await;
    let bytes = sample_bytes("briefing-demo.mp3");
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/media?filename=cut.mp3 HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: Bearer {}\r\nContent-Length: {}\r\n\r\n",
        app.editor_token,
        bytes.len()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&bytes[..bytes.len() / 3]).await.unwrap();
    socket.flush().await.unwrap();
    // Let the server spool what it got, then drop the link.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        files_under(&app.spool_dir).len(),
        1,
        "the upload is being spooled"
    );
    drop(socket);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !files_under(&app.spool_dir).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "spool file left behind"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(app.count_rows("media").await, 0);
    assert_eq!(app.stored_objects().await, Vec::<String>::new());
}
on_both_backends!(interrupted_upload_leaves_nothing);
