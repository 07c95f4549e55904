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
    // If-Range with a date: honoured when it is the file's Last-Modified, not when older.
    let res = app
        .get_with(
            &url,
            &[
                (header::RANGE, "bytes=10-19"),
                (header::IF_RANGE, &last_modified),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.bytes().await.unwrap().as_ref(), &bytes[10..20]);
    let res = app
        .get_with(
            &url,
            &[
                (header::RANGE, "bytes=10-19"),
                (header::IF_RANGE, "Mon, 01 Jan 2024 00:00:00 GMT"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().len(), size);
    // Several ranges at once: the whole file with 200, as RFC 9110 allows (see the README).
    let res = get(Some("bytes=0-9,100-199")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().as_ref(), bytes.as_slice());
    // Immutable media: cached for a year.
    let res = get(None).await.unwrap();
    assert_eq!(
        res.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );

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

/// A media id has one spelling in every URL (lower-case, hyphenated): the others a UUID parser
/// would take are not found, so one recording is never cached or counted under two addresses.
#[tokio::test]
async fn media_ids_are_served_under_one_spelling_only() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    let media = app.upload_ok("briefing-demo.mp3").await;
    let id = media["id"].as_str().unwrap().to_owned();
    let uuid = uuid::Uuid::parse_str(&id).unwrap();
    assert_eq!(
        uuid.hyphenated().to_string(),
        id,
        "ids are answered canonical"
    );
    let url = |id: &str| {
        (
            app.url(&format!("/media/{id}.mp3")),
            app.url(&format!("/api/v1/media/{id}")),
        )
    };

    let (file, api) = url(&id);
    assert_eq!(
        app.http.get(&file).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        app.http.head(&file).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        app.http.get(&api).send().await.unwrap().status(),
        StatusCode::OK
    );

    for spelling in [
        id.to_uppercase(),
        uuid.simple().to_string(),
        uuid.braced().to_string(),
        uuid.urn().to_string(),
    ] {
        let (file, api) = url(&spelling);
        let res = app.http.head(&file).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "HEAD {file}");
        for url in [&file, &api] {
            let res = app.http.get(url).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "GET {url}");
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(body["code"], "media-not-found", "GET {url}");
        }
    }
}

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

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `redirect` answers 302 to a presigned S3 URL that serves ranges itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_delivery_presigns_on_postgres_s3() {
    let app = TestApp::spawn_with(Backend::PostgresS3, |s| {
        s.delivery = siaran::config::Delivery::Redirect;
    })
    .await;
    let bytes = sample_bytes("briefing-demo.mp3");
    let media = app.upload_ok("briefing-demo.mp3").await;
    let url = media["url"].as_str().unwrap().to_owned();
    let client = no_redirects();

    for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
        let res = client
            .request(method.clone(), &url)
            .header(header::RANGE, "bytes=0-1")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FOUND, "{method}");
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    }
    let res = client.get(&url).send().await.unwrap();
    let location = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert!(location.contains("X-Amz-Signature="), "{location}");
    assert!(location.contains("X-Amz-Expires=900"), "{location}");

    // The store answers the listener's seek directly, byte for byte.
    let res = app
        .http
        .get(&location)
        .header(header::RANGE, "bytes=1000-1999")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "audio/mpeg");
    assert_eq!(res.bytes().await.unwrap().as_ref(), &bytes[1000..2000]);

    // A download asks the store to name the file.
    let res = client
        .get(format!("{url}?download=1"))
        .send()
        .await
        .unwrap();
    let location = res.headers()[header::LOCATION].to_str().unwrap();
    assert!(
        location.contains("response-content-disposition=attachment"),
        "{location}"
    );
    // An unknown media id is still a 404 from Siaran, not a redirect.
    let res = client
        .get(app.url("/media/0193a0a0-0000-7000-8000-000000000000.mp3"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

/// `cdn` answers 302 to the object's key under the CDN's base URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cdn_delivery_redirects_under_the_base_url() {
    let app = TestApp::spawn_with(Backend::SqliteFs, |s| {
        s.delivery =
            siaran::config::Delivery::parse("cdn", Some("https://cdn.example.go.id/siaran"))
                .unwrap();
    })
    .await;
    let media = app.upload_ok("briefing-demo.mp3").await;
    let res = no_redirects()
        .get(media["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let location = res.headers()[header::LOCATION].to_str().unwrap();
    let key = location
        .strip_prefix("https://cdn.example.go.id/siaran/")
        .unwrap_or_else(|| panic!("{location}"));
    // The path under the CDN is the object's key in the store the CDN fronts.
    let stored = app.stored_objects().await;
    assert!(
        stored.len() == 1 && stored[0].ends_with(&format!("/{key}")),
        "{key} vs {stored:?}"
    );
}

/// Forwards TCP connections to `upstream`, counting the bytes that come back from it.
async fn counting_proxy(
    upstream: std::net::SocketAddr,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicU64>) {
    use std::sync::{Arc, atomic::AtomicU64, atomic::Ordering};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let received = Arc::new(AtomicU64::new(0));
    let counter = received.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let server = tokio::net::TcpStream::connect(upstream).await.unwrap();
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let up = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
                    let _ = server_write.shutdown().await;
                });
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = match server_read.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    counter.fetch_add(n as u64, Ordering::SeqCst);
                    if client_write.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
                up.abort();
            });
        }
    });
    (endpoint, received)
}

/// A listener who hangs up mid-stream stops the read from S3: Siaran does not go on pulling a
/// file nobody will receive. The store is reached through a proxy that counts what S3 sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hang_up_stops_the_upstream_read_s3_target() {
    use std::sync::{Arc, atomic::Ordering};
    let s3 = crate::s3server::S3Target::new().await;
    let bucket = s3.fresh_bucket().await;
    let upstream = s3
        .endpoint
        .trim_start_matches("http://")
        .parse()
        .expect("S3 endpoint is host:port");
    let (endpoint, received) = counting_proxy(upstream).await;
    let client = crate::s3server::client_for(&endpoint, &s3.access_key, &s3.secret_key, &s3.region);
    let store = Arc::new(siaran::storage::s3::S3Store::new(client, bucket, "hangup"));

    let dir = tempfile::tempdir().unwrap();
    let mut settings = siaran::config::Settings::new(
        &format!("sqlite://{}", dir.path().join("db.sqlite").display()),
        "file://unused",
    )
    .unwrap();
    settings.spool_dir = Some(dir.path().join("spool"));
    // No analysis of the upload: it would read the file from S3 too.
    settings.jobs.workers = 0;
    let db = siaran::db::AnyDb::connect(settings.database_url.expose())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let token = crate::helpers::create_token(&db, siaran::db::Role::Editor).await;
    let state = siaran::app::AppState::from_parts(settings, Arc::new(db), store).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(siaran::app::serve(listener, state, std::future::pending()));

    // 40 copies of the demo briefing: a 40 MB MP3.
    let body = sample_bytes("briefing-demo.mp3").repeat(40);
    let size = body.len() as u64;
    let http = reqwest::Client::new();
    let media: serde_json::Value = http
        .post(format!("{base}/api/v1/media?filename=long.mp3"))
        .bearer_auth(&token)
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = media["url"]
        .as_str()
        .unwrap()
        .replace("http://127.0.0.1:8080", &base);

    let before = received.load(Ordering::SeqCst);
    let mut res = http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let first = res.chunk().await.unwrap().unwrap();
    assert!(!first.is_empty());
    drop(res);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let pulled = received.load(Ordering::SeqCst) - before;
    assert!(
        pulled < size / 4,
        "{pulled} of {size} bytes pulled from S3 after the listener hung up"
    );

    // The proxy does see a whole download when the listener stays.
    let before = received.load(Ordering::SeqCst);
    let all = http.get(&url).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(all.len() as u64, size);
    assert!(received.load(Ordering::SeqCst) - before >= size);
}
