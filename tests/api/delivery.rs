//! Media delivery: GET and HEAD, byte ranges of every form, 416, conditionals, downloads.

use reqwest::{StatusCode, header};

use crate::{
    helpers::{Backend, TestApp, sample_bytes},
    on_both_backends,
};

async fn byte_ranges_and_validators(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let bytes = sample_bytes("briefing-demo.mp3");
    let size = bytes.len();
    let media = app.upload_ok("briefing-demo.mp3").await;
    let url = media["url"].as_str().unwrap().to_owned();

    let get = |range: Option<&str>| {
        let mut req = app.http.get(&url);
        if let Some(r) = range {
            req = req.header(header::RANGE, r);
        }
        req.send()
    };

    // Whole file.
    let res = get(None).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers().clone();
    assert_eq!(h[header::ACCEPT_RANGES], "bytes");
    assert_eq!(h[header::CONTENT_TYPE], "audio/mpeg");
    assert_eq!(h[header::CONTENT_LENGTH], size.to_string().as_str());
    let etag = h[header::ETAG].to_str().unwrap().to_owned();
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "strong etag {etag}"
    );
    let last_modified = h[header::LAST_MODIFIED].to_str().unwrap().to_owned();
    assert_eq!(res.bytes().await.unwrap().as_ref(), bytes.as_slice());

    // Ranges of every form; Apple's probe is bytes=0-1.
    for (range, start, end) in [
        ("bytes=0-1", 0, 1),
        ("bytes=1000-1999", 1000, 1999),
        ("bytes=500000-", 500_000, size - 1),
        ("bytes=-1000", size - 1000, size - 1),
        ("bytes=-99999999", 0, size - 1),
        (
            &format!("bytes={}-99999999", size - 10),
            size - 10,
            size - 1,
        ),
    ] {
        let res = get(Some(range)).await.unwrap();
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            res.headers()[header::CONTENT_RANGE],
            format!("bytes {start}-{end}/{size}").as_str(),
            "{range}"
        );
        assert_eq!(
            res.headers()[header::CONTENT_LENGTH],
            (end - start + 1).to_string().as_str()
        );
        assert_eq!(
            res.bytes().await.unwrap().as_ref(),
            &bytes[start..=end],
            "{range}"
        );
    }

    // Unsatisfiable.
    for range in [format!("bytes={size}-"), "bytes=-0".to_owned()] {
        let res = get(Some(&range)).await.unwrap();
        assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
        assert_eq!(
            res.headers()[header::CONTENT_RANGE],
            format!("bytes */{size}").as_str()
        );
    }

    // A malformed range is ignored: the whole file.
    let res = get(Some("bytes=9-1")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // HEAD: the same headers, no body.
    let res = app.http.head(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()[header::CONTENT_LENGTH],
        size.to_string().as_str()
    );
    assert_eq!(res.headers()[header::ETAG], etag.as_str());
    assert!(res.bytes().await.unwrap().is_empty());
    let res = app
        .http
        .head(&url)
        .header(header::RANGE, "bytes=0-1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.headers()[header::CONTENT_LENGTH], "2");

    // Conditionals.
    let res = app.get_with(&url, &[(header::IF_NONE_MATCH, &etag)]).await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(res.headers()[header::ETAG], etag.as_str());
    let res = app
        .get_with(&url, &[(header::IF_MODIFIED_SINCE, &last_modified)])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let res = app
        .get_with(&url, &[(header::IF_NONE_MATCH, "\"other\"")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // If-Range: honoured with the current ETag, ignored with a stale one.
    let res = app
        .get_with(
            &url,
            &[(header::RANGE, "bytes=0-9"), (header::IF_RANGE, &etag)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    let res = app
        .get_with(
            &url,
            &[
                (header::RANGE, "bytes=0-9"),
                (header::IF_RANGE, "\"stale\""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().len(), size);

    // Download with the original file name.
    let res = app
        .http
        .get(format!("{url}?download=1"))
        .send()
        .await
        .unwrap();
    let disposition = res.headers()[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(disposition.contains("briefing-demo.mp3"), "{disposition}");

    // Unknown ids, wrong extensions and junk are 404 with the JSON error shape.
    let wrong_ext = url.replace(".mp3", ".ogg");
    for bad in [
        wrong_ext.as_str(),
        &app.url("/media/0190b8e4-0000-7000-8000-000000000000.mp3"),
        &app.url("/media/nothing"),
    ] {
        let res = app.http.get(bad).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{bad}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["code"], "media-not-found");
    }
}
on_both_backends!(byte_ranges_and_validators);

/// ffprobe and ffmpeg, real media clients, read and seek over HTTP: the MP4 has its `moov` box at
/// the end, so ffprobe must jump there with a range request; ffmpeg seeks 150 s into the MP3.
async fn ffmpeg_reads_and_seeks_over_http(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mp4 = app.upload_ok("sample.mp4").await;
    let mp3 = app.upload_ok("briefing-demo.mp3").await;
    let run = |program: &str, args: Vec<String>| {
        let out = std::process::Command::new(program)
            .args(&args)
            .output()
            .unwrap_or_else(|e| panic!("{program} (scripts/test installs ffmpeg): {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let (mp4_url, mp3_url) = (
        mp4["url"].as_str().unwrap().to_owned(),
        mp3["url"].as_str().unwrap().to_owned(),
    );
    let duration = tokio::task::spawn_blocking(move || {
        run(
            "ffprobe",
            [
                "-v",
                "error",
                "-show_entries",
                "format=duration",
                "-of",
                "csv=p=0",
                &mp4_url,
            ]
            .map(String::from)
            .to_vec(),
        )
    })
    .await
    .unwrap();
    let seconds: f64 = duration.parse().unwrap();
    assert!((seconds - 4.0).abs() < 0.1, "ffprobe duration {seconds}");
    tokio::task::spawn_blocking(move || {
        run(
            "ffmpeg",
            [
                "-v", "error", "-ss", "150", "-i", &mp3_url, "-t", "2", "-f", "null", "-",
            ]
            .map(String::from)
            .to_vec(),
        )
    })
    .await
    .unwrap();
}
on_both_backends!(ffmpeg_reads_and_seeks_over_http);
