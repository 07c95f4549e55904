//! Resumable uploads (tus 1.0) at `/api/v1/uploads/`: the protocol by hand, connections cut at
//! random points and resumed, a second instance continuing the first one's upload, expiry and
//! termination leaving nothing behind, and tuspy (the tus project's Python client) unchanged.

use std::time::Duration;

use base64::Engine as _;
use reqwest::Response;
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::{
    helpers::{Backend, TestApp, files_under, sample_bytes, sample_path, sha256_hex},
    on_both_backends,
};

const SAMPLE: &str = "briefing-demo.mp3";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn sha256_b64(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    b64(&sha2::Sha256::digest(bytes))
}

/// A small deterministic generator, so a failing run can be repeated from its printed seed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }
}

fn seed() -> u64 {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("seed {seed}");
    seed
}

impl TestApp {
    async fn tus_create(&self, length: u64, filename: &str) -> Response {
        self.http
            .post(self.url("/api/v1/uploads/"))
            .bearer_auth(&self.editor_token)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", length.to_string())
            .header(
                "Upload-Metadata",
                format!("filename {}", b64(filename.as_bytes())),
            )
            .send()
            .await
            .expect("create upload")
    }

    /// Creates an upload and returns its absolute URL.
    pub(crate) async fn tus_new(&self, length: u64, filename: &str) -> String {
        let res = self.tus_create(length, filename).await;
        assert_eq!(res.status(), 201, "{:?}", res.text().await);
        assert_eq!(res.headers()["tus-resumable"], "1.0.0");
        assert_eq!(res.headers()["upload-offset"], "0");
        assert!(res.headers().contains_key("upload-expires"));
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            location.starts_with(&self.url("/api/v1/uploads/")),
            "{location}"
        );
        location
    }

    pub(crate) async fn tus_patch(
        &self,
        url: &str,
        offset: u64,
        bytes: Vec<u8>,
        checksum: Option<&str>,
    ) -> Response {
        let mut req = self
            .http
            .patch(url)
            .bearer_auth(&self.editor_token)
            .header("Tus-Resumable", "1.0.0")
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Offset", offset.to_string());
        if let Some(c) = checksum {
            req = req.header("Upload-Checksum", c);
        }
        req.body(bytes).send().await.expect("patch")
    }

    async fn tus_head(&self, url: &str) -> Response {
        self.http
            .head(url)
            .bearer_auth(&self.editor_token)
            .header("Tus-Resumable", "1.0.0")
            .send()
            .await
            .expect("head")
    }

    async fn tus_offset(&self, url: &str) -> u64 {
        let res = self.tus_head(url).await;
        assert_eq!(res.status(), 200, "HEAD {url}");
        assert_eq!(res.headers()["cache-control"], "no-store");
        offset_of(&res)
    }

    /// Sends the head of a PATCH declaring `declared` bytes and then only `part` of them, and
    /// drops the connection: a link cut mid-chunk.
    async fn tus_cut_patch(&self, url: &str, offset: u64, declared: u64, part: &[u8]) {
        let path = url.strip_prefix(&self.base).unwrap();
        let head = format!(
            "PATCH {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
             Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n\
             Upload-Offset: {offset}\r\nContent-Length: {declared}\r\n\r\n",
            self.base.trim_start_matches("http://"),
            self.editor_token
        );
        let mut conn = tokio::net::TcpStream::connect(self.base.trim_start_matches("http://"))
            .await
            .unwrap();
        conn.write_all(head.as_bytes()).await.unwrap();
        conn.write_all(part).await.unwrap();
        conn.flush().await.unwrap();
        drop(conn);
    }

    /// Objects and spool files an upload may leave: there must be none once it is over.
    async fn upload_leftovers(&self) -> Vec<String> {
        let mut left: Vec<String> = self
            .stored_objects()
            .await
            .into_iter()
            .filter(|k| k.contains("uploads/"))
            .collect();
        left.extend(files_under(&self.spool_dir));
        left.extend(files_under(&self.media_root.join(".spool")));
        left
    }
}

fn offset_of(res: &Response) -> u64 {
    res.headers()["upload-offset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn error_code(res: Response) -> String {
    let body: Value = res.json().await.expect("JSON error body");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    body["code"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_version_and_cors() {
    let app = TestApp::spawn_with(Backend::SqliteFs, |s| s.max_upload_bytes = 123_456_789).await;
    let res = app
        .http
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/uploads/"))
        .header("Origin", "https://portal.kaltimprov.go.id")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let h = res.headers();
    assert_eq!(h["tus-resumable"], "1.0.0");
    assert_eq!(h["tus-version"], "1.0.0");
    assert_eq!(h["tus-max-size"], "123456789");
    assert_eq!(h["tus-checksum-algorithm"], "sha256");
    let extensions: Vec<&str> = h["tus-extension"].to_str().unwrap().split(',').collect();
    for ext in [
        "creation",
        "creation-with-upload",
        "termination",
        "expiration",
        "checksum",
    ] {
        assert!(extensions.contains(&ext), "{ext} in {extensions:?}");
    }
    assert_eq!(h["access-control-allow-origin"], "*");
    let allowed = h["access-control-allow-headers"].to_str().unwrap();
    for name in [
        "Upload-Offset",
        "Upload-Checksum",
        "Tus-Resumable",
        "Authorization",
    ] {
        assert!(allowed.contains(name), "{name} in {allowed}");
    }
    assert!(
        h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("PATCH")
    );

    // Another protocol version: 412 naming the version spoken, before anything else (as tus
    // says); no version at all, or a header that names none: 400, as for any header missing.
    for (version, status) in [(Some("0.2.2"), 412), (None, 400), (Some("{}"), 400)] {
        let mut req = app
            .http
            .post(app.url("/api/v1/uploads/"))
            .bearer_auth(&app.editor_token)
            .header("Upload-Length", "10");
        if let Some(v) = version {
            req = req.header("Tus-Resumable", v);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), status, "{version:?}");
        assert_eq!(res.headers()["tus-version"], "1.0.0");
        assert_eq!(error_code(res).await, "unsupported-tus-version");
    }
    // A length past the contract's int64 is not a number this API reads: 400, not 413.
    let res = app
        .http
        .post(app.url("/api/v1/uploads/"))
        .bearer_auth(&app.editor_token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", "9223372036854775808")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(error_code(res).await, "invalid-header");
    // A POST to an upload says which tus request it stands for; without it, 400.
    let res = app
        .http
        .post(app.url(&format!("/api/v1/uploads/{}", uuid::Uuid::new_v4())))
        .bearer_auth(&app.editor_token)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(error_code(res).await, "method-override-required");

    // A token is needed, as for POST /api/v1/media.
    let res = app
        .http
        .post(app.url("/api/v1/uploads/"))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", "10")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["tus-resumable"], "1.0.0");
    let expose = res.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_owned();
    for name in [
        "Location",
        "Upload-Offset",
        "Upload-Expires",
        "Siaran-Media-Id",
    ] {
        assert!(expose.contains(name), "{name} in {expose}");
    }
    assert_eq!(app.count_rows("uploads").await, 0);
}

async fn chunks_become_one_media_record(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let bytes = sample_bytes(SAMPLE);
    let len = bytes.len() as u64;
    let url = app.tus_new(len, "Rapat Pergub 49.mp3").await;

    let res = app.tus_head(&url).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["upload-offset"], "0");
    assert_eq!(res.headers()["upload-length"], len.to_string());
    assert_eq!(
        res.headers()["upload-metadata"],
        format!("filename {}", b64(b"Rapat Pergub 49.mp3"))
    );

    // Three chunks of uneven sizes, with and without a checksum.
    let cuts = [0, 300_001, 650_000, bytes.len()];
    let mut media_id = None;
    for (i, w) in cuts.windows(2).enumerate() {
        let part = bytes[w[0]..w[1]].to_vec();
        let checksum = (i != 1).then(|| format!("sha256 {}", sha256_b64(&part)));
        let res = app
            .tus_patch(&url, w[0] as u64, part, checksum.as_deref())
            .await;
        assert_eq!(res.status(), 204, "chunk {i}");
        assert_eq!(offset_of(&res), w[1] as u64);
        if w[1] < bytes.len() {
            assert!(res.headers().contains_key("upload-expires"));
            assert!(!res.headers().contains_key("siaran-media-id"));
        } else {
            media_id = Some(
                res.headers()["siaran-media-id"]
                    .to_str()
                    .unwrap()
                    .to_owned(),
            );
            assert!(
                res.headers()["siaran-media-url"]
                    .to_str()
                    .unwrap()
                    .ends_with(media_id.as_deref().unwrap())
            );
        }
    }
    let media_id = media_id.unwrap();

    // The same record POST /api/v1/media would have made.
    let media: Value = app
        .http
        .get(app.url(&format!("/api/v1/media/{media_id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(media["sha256"], sha256_hex(&bytes));
    assert_eq!(media["size_bytes"], len);
    assert_eq!(media["mime_type"], "audio/mpeg");
    assert_eq!(media["filename"], "Rapat Pergub 49.mp3");
    let served = app
        .http
        .get(media["url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(served.as_ref(), bytes.as_slice());

    // The upload's own status, as JSON, names the record.
    let status: Value = app
        .http
        .get(&url)
        .bearer_auth(&app.editor_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["complete"], true);
    assert_eq!(status["offset"], len);
    assert_eq!(status["media_id"], media_id.as_str());
    assert_eq!(status["media"]["sha256"], sha256_hex(&bytes));

    // HEAD at the end says so too; an empty PATCH at the end changes nothing.
    let res = app.tus_head(&url).await;
    assert_eq!(offset_of(&res), len);
    assert_eq!(res.headers()["siaran-media-id"], media_id.as_str());
    let res = app.tus_patch(&url, len, Vec::new(), None).await;
    assert_eq!(res.status(), 204);

    assert_eq!(app.upload_leftovers().await, Vec::<String>::new());
    assert_eq!(app.count_rows("upload_chunks").await, 0);
    assert_eq!(app.count_rows("media").await, 1);
}
on_both_backends!(chunks_become_one_media_record);

async fn protocol_errors(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.max_upload_bytes = 2_000_000).await;
    let bytes = sample_bytes(SAMPLE);
    let len = bytes.len() as u64;
    let url = app.tus_new(len, SAMPLE).await;
    let res = app.tus_patch(&url, 0, bytes[..1000].to_vec(), None).await;
    assert_eq!(res.status(), 204);

    // Not where the upload is: 409, with the right offset; the body may be left unread, so
    // the connection is not kept for another request.
    let res = app.tus_patch(&url, 0, bytes[..1000].to_vec(), None).await;
    assert_eq!(res.status(), 409);
    assert_eq!(res.headers()["connection"], "close");
    assert_eq!(offset_of(&res), 1000);
    assert_eq!(error_code(res).await, "offset-mismatch");

    // Not application/offset+octet-stream: 415.
    let res = app
        .http
        .patch(&url)
        .bearer_auth(&app.editor_token)
        .header("Tus-Resumable", "1.0.0")
        .header("Content-Type", "application/octet-stream")
        .header("Upload-Offset", "1000")
        .body(bytes[1000..2000].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    assert_eq!(error_code(res).await, "invalid-content-type");

    // A checksum that does not match: 460, the chunk discarded.
    let wrong = format!("sha256 {}", sha256_b64(b"something else"));
    let res = app
        .tus_patch(&url, 1000, bytes[1000..5000].to_vec(), Some(&wrong))
        .await;
    assert_eq!(res.status().as_u16(), 460);
    assert_eq!(error_code(res).await, "checksum-mismatch");
    assert_eq!(app.tus_offset(&url).await, 1000);

    // An algorithm other than sha256: 400.
    let sha1 = format!("sha1 {}", b64(&[0u8; 20]));
    let res = app
        .tus_patch(&url, 1000, bytes[1000..5000].to_vec(), Some(&sha1))
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(error_code(res).await, "unsupported-checksum-algorithm");

    // Past the declared length: 413, nothing kept.
    let mut too_long = bytes[1000..].to_vec();
    too_long.extend_from_slice(b"extra");
    let res = app.tus_patch(&url, 1000, too_long, None).await;
    assert_eq!(res.status(), 413);
    assert_eq!(error_code(res).await, "beyond-upload-length");
    assert_eq!(app.tus_offset(&url).await, 1000);

    // Unknown uploads: 404, also for ids that are no id at all.
    for unknown in [
        app.url(&format!("/api/v1/uploads/{}", uuid::Uuid::new_v4())),
        app.url("/api/v1/uploads/..%2f..%2fetc"),
    ] {
        let res = app.tus_patch(&unknown, 0, b"x".to_vec(), None).await;
        assert_eq!(res.status(), 404, "{unknown}");
        assert_eq!(error_code(res).await, "upload-not-found");
        assert_eq!(app.tus_head(&unknown).await.status(), 404);
    }

    // No Upload-Length: 400; larger than SIARAN_MAX_UPLOAD_BYTES: 413, no row.
    let res = app
        .http
        .post(app.url("/api/v1/uploads"))
        .bearer_auth(&app.editor_token)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(error_code(res).await, "upload-length-required");
    let res = app.tus_create(2_000_001, "big.mp4").await;
    assert_eq!(res.status(), 413);
    assert_eq!(error_code(res).await, "payload-too-large");
    assert_eq!(app.count_rows("uploads").await, 1);

    // The rest still completes.
    let res = app
        .tus_patch(&url, 1000, bytes[1000..].to_vec(), None)
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(offset_of(&res), len);
    assert_eq!(app.upload_leftovers().await, Vec::<String>::new());
}
on_both_backends!(protocol_errors);

/// A creation-with-upload declaring 4 GiB is refused with 413 as soon as its head arrives: the
/// body is never waited for.
async fn too_large_is_refused_before_the_body(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.max_upload_bytes = 1 << 30).await;
    let host = app.base.trim_start_matches("http://").to_owned();
    let mut conn = tokio::net::TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "POST /api/v1/uploads/ HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\n\
         Tus-Resumable: 1.0.0\r\nUpload-Length: 4294967296\r\n\
         Content-Type: application/offset+octet-stream\r\nContent-Length: 4294967296\r\n\r\n",
        app.editor_token
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), conn.read(&mut answer))
        .await
        .expect("answered without the body")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("payload-too-large"), "{answer}");
    assert_eq!(app.count_rows("uploads").await, 0);
    assert_eq!(app.upload_leftovers().await, Vec::<String>::new());
}
on_both_backends!(too_large_is_refused_before_the_body);

/// Cut the connection mid-chunk at random points: each time the server keeps exactly what
/// arrived, HEAD says so, and the upload continues from there to the same file.
async fn cut_connections_resume_from_the_server_offset(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let bytes = sample_bytes(SAMPLE);
    let len = bytes.len() as u64;
    let url = app.tus_new(len, SAMPLE).await;
    let mut rng = Lcg(seed());
    let mut offset = 0;
    let mut cuts = 0;
    while cuts < 6 && offset < len - 1 {
        let remaining = len - offset;
        let sent = 1 + rng.below(remaining.min(200_000) - 1);
        let start = offset as usize;
        app.tus_cut_patch(
            &url,
            offset,
            remaining,
            &bytes[start..start + sent as usize],
        )
        .await;
        cuts += 1;
        // The server stores what arrived once it notices the cut; ask until it has.
        let mut now = app.tus_offset(&url).await;
        for _ in 0..100 {
            if now != offset {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            now = app.tus_offset(&url).await;
        }
        assert_eq!(
            now,
            offset + sent,
            "cut {cuts} after {sent} bytes at {offset}"
        );
        offset = now;
    }
    // And a client that resumes without asking is told where to go on. (A small body: the
    // answer comes before the body is read, and a client still sending a large one may see the
    // connection reset before it reads the answer.)
    let res = app.tus_patch(&url, 0, bytes[..1000].to_vec(), None).await;
    assert_eq!(res.status(), 409);
    assert_eq!(offset_of(&res), offset);
    let res = app
        .tus_patch(&url, offset, bytes[offset as usize..].to_vec(), None)
        .await;
    assert_eq!(res.status(), 204);
    let media_id = res.headers()["siaran-media-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let media: Value = app
        .http
        .get(app.url(&format!("/api/v1/media/{media_id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(media["sha256"], sha256_hex(&bytes));
    assert_eq!(app.upload_leftovers().await, Vec::<String>::new());
}
on_both_backends!(cut_connections_resume_from_the_server_offset);

/// Two instances behind a load balancer: the second continues what the first received.
async fn another_instance_continues_the_upload(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let peer = app.spawn_peer().await;
    let bytes = sample_bytes(SAMPLE);
    let url = app.tus_new(bytes.len() as u64, SAMPLE).await;
    let res = app
        .tus_patch(&url, 0, bytes[..400_000].to_vec(), None)
        .await;
    assert_eq!(res.status(), 204);
    let peer_url = url.replace(&app.base, &peer.base);
    assert_eq!(peer.tus_offset(&peer_url).await, 400_000);
    let res = peer
        .tus_patch(&peer_url, 400_000, bytes[400_000..].to_vec(), None)
        .await;
    assert_eq!(res.status(), 204);
    let media_id = res.headers()["siaran-media-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let media: Value = app
        .http
        .get(app.url(&format!("/api/v1/media/{media_id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(media["sha256"], sha256_hex(&bytes));
    assert_eq!(app.upload_leftovers().await, Vec::<String>::new());
    assert_eq!(peer.upload_leftovers().await, Vec::<String>::new());
}
on_both_backends!(another_instance_continues_the_upload);

async fn termination_removes_everything(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let bytes = sample_bytes(SAMPLE);
    let url = app.tus_new(bytes.len() as u64, SAMPLE).await;
    for (start, end) in [(0, 100_000), (100_000, 250_000)] {
        let res = app
            .tus_patch(&url, start, bytes[start as usize..end].to_vec(), None)
            .await;
        assert_eq!(res.status(), 204);
    }
    assert!(!app.upload_leftovers().await.is_empty());
    let res = app
        .http
        .delete(&url)
        .bearer_auth(&app.editor_token)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(app.tus_head(&url).await.status(), 404);
    let res = app.tus_patch(&url, 250_000, b"more".to_vec(), None).await;
    assert_eq!(res.status(), 404);
    assert_eq!(app.upload_leftovers().await, Vec::<String>::new());
    assert_eq!(app.count_rows("uploads").await, 0);
    assert_eq!(app.count_rows("upload_chunks").await, 0);
    assert_eq!(app.count_rows("media").await, 0);
}
on_both_backends!(termination_removes_everything);

/// An abandoned upload expires (its `Upload-Expires` passes) and the periodic cleanup removes
/// its rows and objects.
async fn abandoned_uploads_expire_and_are_removed(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.upload_expiry = Duration::from_secs(2)).await;
    let bytes = sample_bytes(SAMPLE);
    let url = app.tus_new(bytes.len() as u64, SAMPLE).await;
    let res = app
        .tus_patch(&url, 0, bytes[..200_000].to_vec(), None)
        .await;
    assert_eq!(res.status(), 204);
    let expires = res.headers()["upload-expires"].to_str().unwrap().to_owned();
    let expires = httpdate::parse_http_date(&expires).unwrap();
    let until = expires
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    assert!(until <= Duration::from_secs(3), "{until:?}");
    assert!(!app.upload_leftovers().await.is_empty());

    let mut rows = 1;
    for _ in 0..100 {
        rows = app.count_rows("uploads").await;
        if rows == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(rows, 0, "the expired upload was not removed");
    assert_eq!(app.count_rows("upload_chunks").await, 0);
    assert_eq!(app.upload_leftovers().await, Vec::<String>::new());
    assert_eq!(app.tus_head(&url).await.status(), 404);
}
on_both_backends!(abandoned_uploads_expire_and_are_removed);

/// A finished upload that is no media is refused as `POST /api/v1/media` refuses it, and
/// nothing of it stays: no upload row, no chunk, no media row, no spool file.
async fn refused_upload_leaves_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let noise: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let url = app.tus_new(noise.len() as u64, "noise.mp3").await;
    let res = app
        .tus_patch(&url, 0, noise[..150_000].to_vec(), None)
        .await;
    assert_eq!(res.status(), 204);
    let res = app
        .tus_patch(&url, 150_000, noise[150_000..].to_vec(), None)
        .await;
    assert_eq!(res.status(), 415);
    assert_eq!(res.headers()["tus-resumable"], "1.0.0");
    assert_eq!(error_code(res).await, "unsupported-media");
    assert_eq!(app.tus_head(&url).await.status(), 404);
    assert_eq!(app.count_rows("uploads").await, 0);
    assert_eq!(app.count_rows("upload_chunks").await, 0);
    assert_eq!(app.count_rows("media").await, 0);
    assert_eq!(app.upload_leftovers().await, Vec::<String>::new());
    assert!(
        app.stored_objects().await.is_empty(),
        "{:?}",
        app.stored_objects().await
    );
}
on_both_backends!(refused_upload_leaves_nothing);

/// Creation-with-upload: the whole file in the POST.
async fn creation_with_upload(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let bytes = sample_bytes("sample.m4a");
    let res = app
        .http
        .post(app.url("/api/v1/uploads/"))
        .bearer_auth(&app.editor_token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", bytes.len().to_string())
        .header(
            "Upload-Metadata",
            format!("filename {}", b64(b"sample.m4a")),
        )
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Checksum", format!("sha256 {}", sha256_b64(&bytes)))
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(offset_of(&res), bytes.len() as u64);
    assert!(res.headers().contains_key("location"));
    let media_id = res.headers()["siaran-media-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let media: Value = app
        .http
        .get(app.url(&format!("/api/v1/media/{media_id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(media["sha256"], sha256_hex(&bytes));
    assert_eq!(media["mime_type"], "audio/mp4");
    assert_eq!(app.upload_leftovers().await, Vec::<String>::new());
}
on_both_backends!(creation_with_upload);

/// Past `SIARAN_MAX_CONCURRENT_UPLOADS` receiving at once: 503 with `Retry-After`, JSON error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_uploads_are_capped() {
    let app = TestApp::spawn_with(Backend::SqliteFs, |s| s.max_concurrent_uploads = 1).await;
    let bytes = sample_bytes(SAMPLE);
    let len = bytes.len() as u64;
    let first = app.tus_new(len, SAMPLE).await;
    let second = app.tus_new(len, SAMPLE).await;

    // The first PATCH sends half its body and holds the connection open.
    let host = app.base.trim_start_matches("http://").to_owned();
    let path = first.strip_prefix(&app.base).unwrap().to_owned();
    let mut held = tokio::net::TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\n\
         Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n\
         Upload-Offset: 0\r\nContent-Length: 1000\r\n\r\n",
        app.editor_token
    );
    held.write_all(head.as_bytes()).await.unwrap();
    held.write_all(&bytes[..500]).await.unwrap();
    held.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let res = app
        .tus_patch(&second, 0, bytes[..1000].to_vec(), None)
        .await;
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "5");
    assert_eq!(error_code(res).await, "too-many-uploads");
    // HEAD, GET and OPTIONS need no slot.
    assert_eq!(app.tus_offset(&second).await, 0);

    // Once the first finishes its chunk, the slot is free again.
    held.write_all(&bytes[500..1000]).await.unwrap();
    let mut answer = vec![0u8; 1024];
    let n = held.read(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 204"));
    let res = app
        .tus_patch(&second, 0, bytes[..1000].to_vec(), None)
        .await;
    assert_eq!(res.status(), 204);
}

/// tuspy, the tus project's Python client, unchanged: small chunks with sha256 checksums, a
/// second session resuming from the server's offset, and the media record's SHA-256 is the file's.
async fn tuspy_uploads_and_resumes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/tus_upload.py");
    let file = sample_path(SAMPLE);
    let (endpoint, token) = (app.url("/api/v1/uploads/"), app.editor_token.clone());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .arg(script)
            .arg(endpoint)
            .arg(token)
            .arg(file)
            .arg("65536")
            .output()
    })
    .await
    .unwrap()
    .expect("python3 (scripts/test installs tuspy)");
    assert!(
        out.status.success(),
        "tuspy failed (run the suite with scripts/test, which installs tuspy): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    let bytes = sample_bytes(SAMPLE);
    let size = bytes.len() as u64;
    assert_eq!(got["size"], size);
    assert_eq!(got["offset"], size);
    assert_eq!(got["first_reached"], size / 3);
    assert_eq!(got["resumed_from"], size / 3);
    let media_id = got["media_id"]
        .as_str()
        .expect("Siaran-Media-Id")
        .to_owned();
    let media: Value = app
        .http
        .get(app.url(&format!("/api/v1/media/{media_id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(media["sha256"], sha256_hex(&bytes));
    assert_eq!(media["filename"], SAMPLE);
    assert_eq!(app.upload_leftovers().await, Vec::<String>::new());
}
on_both_backends!(tuspy_uploads_and_resumes);

/// A connection that dies silently leaves its PATCH waiting; the client's next attempt (from the
/// offset HEAD gives) takes the upload over, and the stalled request's bytes are thrown away
/// when it ends.
async fn a_stalled_request_loses_to_the_next_attempt(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let bytes = sample_bytes(SAMPLE);
    let len = bytes.len() as u64;
    let url = app.tus_new(len, SAMPLE).await;
    let host = app.base.trim_start_matches("http://").to_owned();
    let path = url.strip_prefix(&app.base).unwrap().to_owned();
    let mut stalled = tokio::net::TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\n\
         Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n\
         Upload-Offset: 0\r\nContent-Length: {len}\r\n\r\n",
        app.editor_token
    );
    stalled.write_all(head.as_bytes()).await.unwrap();
    stalled.write_all(&bytes[..300_000]).await.unwrap();
    stalled.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    assert_eq!(app.tus_offset(&url).await, 0);
    let res = app.tus_patch(&url, 0, bytes.clone(), None).await;
    assert_eq!(res.status(), 204);
    assert_eq!(offset_of(&res), len);
    drop(stalled);

    let mut left = app.upload_leftovers().await;
    for _ in 0..100 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        left = app.upload_leftovers().await;
    }
    assert_eq!(left, Vec::<String>::new());
    assert_eq!(app.count_rows("media").await, 1);
    assert_eq!(app.tus_offset(&url).await, len);
}
on_both_backends!(a_stalled_request_loses_to_the_next_attempt);

/// The `Db` methods behind the protocol, on both databases: only the latest claim at the right
/// offset moves an upload, nothing moves an expired or complete one.
async fn upload_state_in_the_database(backend: Backend) {
    use chrono::{TimeZone as _, Utc};
    use siaran::{
        db::{DbError, Upload, UploadChunk},
        domain::MediaId,
        storage::ObjectKey,
    };
    let app = TestApp::spawn(backend).await;
    let db = app.state.ctx.db.clone();
    let now = Utc
        .timestamp_millis_opt(Utc::now().timestamp_millis())
        .unwrap();
    let hour = chrono::Duration::hours(1);
    let upload = Upload {
        id: uuid::Uuid::new_v4(),
        length: 100,
        received: 0,
        filename: "Rapat.mp3".into(),
        metadata: format!("filename {}", b64(b"Rapat.mp3")),
        token_id: Some(uuid::Uuid::new_v4()),
        user_id: None,
        claim: String::new(),
        media_id: None,
        created_at: now,
        expires_at: now + hour,
    };
    let id = upload.id;
    db.create_upload(&upload).await.unwrap();
    assert_eq!(db.upload(id).await.unwrap(), upload);
    let chunk = |start: u64, size: u64, claim: &str| UploadChunk {
        start,
        size,
        key: ObjectKey::for_upload_chunk(id, start, claim),
    };

    // The later claim wins; the earlier one can no longer append.
    assert!(db.claim_upload(id, 0, "a", now).await.unwrap());
    assert!(db.claim_upload(id, 0, "b", now).await.unwrap());
    let later = now + hour / 2;
    assert!(
        !db.append_upload_chunk(id, "a", &chunk(0, 10, "a"), later, now)
            .await
            .unwrap()
    );
    assert!(
        db.append_upload_chunk(id, "b", &chunk(0, 10, "b"), later, now)
            .await
            .unwrap()
    );
    let moved = db.upload(id).await.unwrap();
    assert_eq!((moved.received, moved.expires_at), (10, later));
    // Not at the offset: refused.
    assert!(!db.claim_upload(id, 0, "c", now).await.unwrap());
    assert!(db.claim_upload(id, 10, "c", now).await.unwrap());
    assert!(
        !db.append_upload_chunk(id, "c", &chunk(0, 10, "c"), later, now)
            .await
            .unwrap()
    );
    assert!(
        db.append_upload_chunk(id, "c", &chunk(10, 30, "c"), later, now)
            .await
            .unwrap()
    );
    let chunks = db.upload_chunks(id).await.unwrap();
    assert_eq!(chunks, vec![chunk(0, 10, "b"), chunk(10, 30, "c")]);

    // Expired: listed for removal, and nothing moves it any more.
    let after = later + chrono::Duration::seconds(1);
    assert!(db.expired_uploads(now, 10).await.unwrap().is_empty());
    assert_eq!(db.expired_uploads(after, 10).await.unwrap()[0].id, id);
    assert!(!db.claim_upload(id, 40, "d", after).await.unwrap());
    assert!(
        !db.append_upload_chunk(id, "c", &chunk(40, 10, "c"), after, after)
            .await
            .unwrap()
    );

    // Complete: once, by the claim holder, at the offset it finished from.
    let media = MediaId::new();
    assert!(!db.complete_upload(id, "b", 40, media, later).await.unwrap());
    assert!(!db.complete_upload(id, "c", 30, media, later).await.unwrap());
    assert!(db.complete_upload(id, "c", 40, media, later).await.unwrap());
    let done = db.upload(id).await.unwrap();
    assert_eq!((done.received, done.media_id), (100, Some(media)));
    assert!(!db.complete_upload(id, "c", 40, media, later).await.unwrap());
    assert!(!db.claim_upload(id, 100, "e", now).await.unwrap());
    db.delete_upload_chunks(id).await.unwrap();
    assert!(db.upload_chunks(id).await.unwrap().is_empty());

    assert!(
        db.append_upload_chunk(id, "c", &chunk(40, 10, "c"), later, now)
            .await
            .is_ok_and(|moved| !moved)
    );
    let (existed, _) = db.delete_upload(id).await.unwrap();
    assert!(existed);
    assert_eq!(db.delete_upload(id).await.unwrap(), (false, Vec::new()));
    assert!(matches!(db.upload(id).await, Err(DbError::NotFound)));
}
on_both_backends!(upload_state_in_the_database);

impl TestApp {
    /// `POST /api/v1/uploads/` as `token`, with `metadata` as the raw `Upload-Metadata`.
    async fn tus_create_with(&self, token: &str, length: u64, metadata: &str) -> Response {
        self.http
            .post(self.url("/api/v1/uploads/"))
            .bearer_auth(token)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", length.to_string())
            .header("Upload-Metadata", metadata)
            .send()
            .await
            .expect("create upload")
    }

    async fn tus_delete(&self, url: &str) {
        let res = self
            .http
            .delete(url)
            .bearer_auth(&self.editor_token)
            .header("Tus-Resumable", "1.0.0")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204, "DELETE {url}");
    }
}

/// A token keeps at most `SIARAN_MAX_OPEN_UPLOADS` uploads open (20 by default): the 21st
/// creation answers 429 `too-many-open-uploads` and stores nothing, with or without a first
/// chunk; another token has its own 20; finishing or deleting one makes room for one more.
async fn open_uploads_are_capped_per_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let bytes = sample_bytes(SAMPLE);
    let len = bytes.len() as u64;
    let finishing = app.tus_new(len, SAMPLE).await;
    let mut open = Vec::new();
    for _ in 1..20 {
        open.push(app.tus_new(1000, "rapat.mp3").await);
    }

    let res = app.tus_create(1000, "rapat.mp3").await;
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["tus-resumable"], "1.0.0");
    assert_eq!(error_code(res).await, "too-many-open-uploads");
    let res = app
        .http
        .post(app.url("/api/v1/uploads/"))
        .bearer_auth(&app.editor_token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", len.to_string())
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(error_code(res).await, "too-many-open-uploads");
    assert_eq!(app.count_rows("uploads").await, 20);
    assert_eq!(app.count_rows("media").await, 0);
    assert_eq!(app.upload_leftovers().await, Vec::<String>::new());

    // Another token is not held back by this one's uploads.
    let res = app
        .tus_create_with(&app.admin_token, 1000, "filename YS5tcDM=")
        .await;
    assert_eq!(res.status(), 201);

    // A deleted upload no longer counts.
    app.tus_delete(&open.pop().unwrap()).await;
    open.push(app.tus_new(1000, "rapat.mp3").await);
    assert_eq!(app.tus_create(1000, "rapat.mp3").await.status(), 429);

    // Nor does a finished one.
    let res = app.tus_patch(&finishing, 0, bytes, None).await;
    assert_eq!(res.status(), 204);
    assert_eq!(offset_of(&res), len);
    open.push(app.tus_new(1000, "rapat.mp3").await);
    let res = app.tus_create(1000, "rapat.mp3").await;
    assert_eq!(res.status(), 429);
    assert_eq!(error_code(res).await, "too-many-open-uploads");
}
on_both_backends!(open_uploads_are_capped_per_token);

/// Creations sent all at once cannot pass the cap between one's count and its row: of 30 at
/// once against a cap of 5, at most 5 are created, and every other one is a 429 that left no row.
async fn simultaneous_creations_stay_within_the_cap(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.max_open_uploads = 5).await;
    let answers =
        futures_util::future::join_all((0..30).map(|_| app.tus_create(1000, "a.mp3"))).await;
    let created = answers.iter().filter(|r| r.status() == 201).count();
    assert!(
        answers
            .iter()
            .all(|r| r.status() == 201 || r.status() == 429),
        "{:?}",
        answers.iter().map(Response::status).collect::<Vec<_>>()
    );
    assert!(created <= 5, "{created} created");
    assert_eq!(app.count_rows("uploads").await, created as i64);
}
on_both_backends!(simultaneous_creations_stay_within_the_cap);

/// The bytes a token's open uploads declare are capped (`SIARAN_MAX_OPEN_UPLOAD_BYTES`): a
/// creation that would pass the cap answers 429 `too-many-open-upload-bytes` and stores
/// nothing; a deleted upload's bytes no longer count.
async fn declared_bytes_of_open_uploads_are_capped(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.max_upload_bytes = 1000;
        s.max_open_upload_bytes = 2500;
    })
    .await;
    let first = app.tus_new(1000, "a.mp3").await;
    app.tus_new(1000, "b.mp3").await;
    let res = app.tus_create(1000, "c.mp3").await;
    assert_eq!(res.status(), 429);
    assert_eq!(error_code(res).await, "too-many-open-upload-bytes");
    app.tus_new(500, "c.mp3").await;
    let res = app.tus_create(1, "d.mp3").await;
    assert_eq!(res.status(), 429);
    assert_eq!(error_code(res).await, "too-many-open-upload-bytes");
    assert_eq!(app.count_rows("uploads").await, 3);

    app.tus_delete(&first).await;
    app.tus_new(1000, "d.mp3").await;
    assert_eq!(app.count_rows("uploads").await, 3);
}
on_both_backends!(declared_bytes_of_open_uploads_are_capped);

/// `Upload-Metadata` is at most 4 KiB and its `filename` at most 255 bytes: more answers 413
/// naming which, and nothing is stored (60 KB file names once grew the database by 400 MB).
async fn upload_metadata_is_bounded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let name = |n: usize| format!("{}.mp3", "a".repeat(n - 4));
    let res = app
        .tus_create_with(
            &app.editor_token,
            1000,
            &format!("filename {}", b64(name(255).as_bytes())),
        )
        .await;
    assert_eq!(res.status(), 201);
    for too_long in [name(256), "é".repeat(128), name(60_000)] {
        let res = app
            .tus_create_with(
                &app.editor_token,
                1000,
                &format!("filename {}", b64(too_long.as_bytes())),
            )
            .await;
        assert_eq!(res.status(), 413, "{} bytes", too_long.len());
        assert_eq!(error_code(res).await, "upload-filename-too-long");
    }

    // "filename YS5tcDM=,n " is 20 characters; 4076 more make 4096.
    let at_most = format!("filename YS5tcDM=,n {}", b64(&[7u8; 3057]));
    assert_eq!(at_most.len(), 4096);
    let res = app.tus_create_with(&app.editor_token, 1000, &at_most).await;
    assert_eq!(res.status(), 201);
    let over = format!("filename YS5tcDM=,n {}", b64(&[7u8; 3058]));
    let res = app.tus_create_with(&app.editor_token, 1000, &over).await;
    assert_eq!(res.status(), 413);
    assert_eq!(error_code(res).await, "upload-metadata-too-large");

    assert_eq!(app.count_rows("uploads").await, 2);
}
on_both_backends!(upload_metadata_is_bounded);
