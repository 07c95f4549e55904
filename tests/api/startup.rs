//! The `siaran` binary itself: configuration from the environment, start-up errors before the
//! port is bound, `token create`, `probe`, the demo show, graceful shutdown on SIGTERM.

use std::{
    net::TcpListener,
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::{
    helpers::{fresh_postgres_db, sample_bytes, sample_path},
    s3server::{S3Target, TestS3},
};

pub fn siaran() -> Command {
    siaran_at(env!("CARGO_BIN_EXE_siaran").as_ref())
}

/// A `siaran` command like `siaran()`, of the binary at `bin` (another release's, in
/// tests/api/upgrade.rs).
pub fn siaran_at(bin: &std::path::Path) -> Command {
    let mut cmd = Command::new(bin);
    // Nothing from the developer's environment leaks into these runs.
    for (k, _) in std::env::vars() {
        if k.starts_with("SIARAN_") || k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("RUST_LOG", "warn");
    // No background analysis: it would race these tests' checks of the store and the spool
    // folder (tests/api/quality.rs tests the jobs).
    cmd.env("SIARAN_JOB_WORKERS", "0");
    cmd
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn stderr_line(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).trim().to_owned()
}

/// Runs `siaran serve` and waits until `/healthz` answers.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    pub async fn start(cmd: Command) -> Server {
        Server::start_with_stderr(cmd, Stdio::inherit()).await
    }

    /// Like `start`, with the server's stderr going to `stderr`.
    pub async fn start_with_stderr(cmd: Command, stderr: Stdio) -> Server {
        Server::start_as(cmd, stderr, None).await
    }

    /// Like `start`, its links made from `public_url` rather than its own address (what a
    /// server behind a proxy does; its answers then compare byte for byte with another's).
    pub async fn start_public(cmd: Command, public_url: &str) -> Server {
        Server::start_as(cmd, Stdio::inherit(), Some(public_url)).await
    }

    async fn start_as(mut cmd: Command, stderr: Stdio, public_url: Option<&str>) -> Server {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let child = cmd
            .arg("serve")
            .env("SIARAN_LISTEN", format!("127.0.0.1:{port}"))
            .env("SIARAN_PUBLIC_URL", public_url.unwrap_or(&base))
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start siaran serve");
        let server = Server { child, base };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(res) = reqwest::get(format!("{}/healthz", server.base)).await
                && res.status() == 200
            {
                return server;
            }
            assert!(Instant::now() < deadline, "siaran serve did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM, then the exit status (graceful shutdown exits 0).
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        self.child.wait().unwrap()
    }
}

pub fn create_token(db_url: &str, role: &str) -> String {
    let out = siaran()
        .args(["token", "create", "--name", "ci", "--role", role])
        .env("SIARAN_DATABASE_URL", db_url)
        .output()
        .unwrap();
    assert!(out.status.success(), "token create: {}", stderr_line(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "only the token on stdout: {stdout:?}");
    lines[0].to_owned()
}

async fn publish_flow(server: &Server, token: &str) {
    let http = reqwest::Client::new();
    let res = http
        .post(format!("{}/api/v1/shows", server.base))
        .bearer_auth(token)
        .json(&json!({"slug": "cli", "title": "CLI", "author": "Diskominfo", "email": "a@b.go.id"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let bytes = sample_bytes("sample.flac");
    let res = http
        .post(format!("{}/api/v1/media?filename=rapat.flac", server.base))
        .bearer_auth(token)
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let media: Value = res.json().await.unwrap();
    let res = http
        .post(format!("{}/api/v1/shows/cli/episodes", server.base))
        .bearer_auth(token)
        .json(&json!({"title": "Rapat", "media_id": media["id"], "publish_at": "2026-01-01T00:00:00Z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let feed = http
        .get(format!("{}/feeds/cli.xml", server.base))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let channel = rss::Channel::read_from(&feed[..]).unwrap();
    let url = channel.items()[0].enclosure().unwrap().url().to_owned();
    assert!(url.starts_with(&server.base));
    let got = http.get(&url).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(got.as_ref(), bytes.as_slice());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_sqlite_and_files_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("nested/siaran.db").display());
    let token = create_token(&db_url, "admin");
    assert!(token.starts_with("siaran_"));
    let mut cmd = siaran();
    cmd.env("SIARAN_DATABASE_URL", &db_url).env(
        "SIARAN_STORAGE_URL",
        format!("file://{}", dir.path().join("objects").display()),
    );
    let server = Server::start(cmd).await;
    publish_flow(&server, &token).await;
    let status = server.terminate();
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");
}

/// SIGTERM stops new connections but lets an upload in progress finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_an_upload_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("s.db").display());
    let token = create_token(&db_url, "editor");
    let mut cmd = siaran();
    cmd.env("SIARAN_DATABASE_URL", &db_url).env(
        "SIARAN_STORAGE_URL",
        format!("file://{}", dir.path().join("objects").display()),
    );
    let server = Server::start(cmd).await;
    let bytes = sample_bytes("briefing-demo.mp3");
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    let upload = tokio::spawn(
        reqwest::Client::new()
            .post(format!("{}/api/v1/media?filename=late.mp3", server.base))
            .bearer_auth(&token)
            .body(reqwest::Body::wrap_stream(body))
            .send(),
    );
    let half = bytes.len() / 2;
    tx.send(Ok(bytes[..half].to_vec())).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    // New connections are refused while the upload goes on.
    assert!(
        reqwest::get(format!("{}/healthz", server.base))
            .await
            .is_err()
    );
    tx.send(Ok(bytes[half..].to_vec())).await.unwrap();
    drop(tx);
    let res = upload
        .await
        .unwrap()
        .expect("the upload in flight completes");
    assert_eq!(res.status(), 201);
    let mut server = server;
    assert!(server.child.wait().unwrap().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_postgres_and_s3_from_the_environment() {
    let s3 = S3Target::new().await;
    let bucket = s3.fresh_bucket().await;
    let db_url = fresh_postgres_db().await;
    let token = create_token(&db_url, "admin");
    let keys = tempfile::tempdir().unwrap();
    let mut cmd = siaran();
    cmd.env("SIARAN_DATABASE_URL", &db_url)
        .env(
            "SIARAN_SIGNING_KEY",
            crate::helpers::signing_key_in(keys.path()),
        )
        .env("SIARAN_STORAGE_URL", format!("s3://{bucket}/siaran"))
        .env("AWS_ACCESS_KEY_ID", &s3.access_key)
        .env("AWS_SECRET_ACCESS_KEY", &s3.secret_key)
        .env("AWS_REGION", &s3.region)
        .env("AWS_ENDPOINT_URL", &s3.endpoint);
    let server = Server::start(cmd).await;
    publish_flow(&server, &token).await;
    let listed = s3
        .client()
        .list_objects_v2()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys.len(), 1);
    assert!(
        keys[0].starts_with("siaran/media/") && keys[0].ends_with(".flac"),
        "{keys:?}"
    );
    assert!(server.terminate().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configuration_stops_before_the_port_is_bound() {
    let s3 = TestS3::start().await;
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("x.db").display());
    let files = format!("file://{}", dir.path().join("objects").display());
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (
            vec![("SIARAN_DATABASE_URL", "mysql://localhost/x".into())],
            "unsupported database URL scheme",
        ),
        (
            vec![
                ("SIARAN_DATABASE_URL", sqlite.clone()),
                ("SIARAN_STORAGE_URL", "ftp://x/y".into()),
            ],
            "unsupported storage URL scheme",
        ),
        (
            vec![
                (
                    "SIARAN_DATABASE_URL",
                    "postgres://siaran@127.0.0.1:1/none".into(),
                ),
                ("SIARAN_STORAGE_URL", files.clone()),
            ],
            "cannot connect to the database",
        ),
        (
            vec![
                ("SIARAN_DATABASE_URL", sqlite.clone()),
                ("SIARAN_STORAGE_URL", "s3://no-such-bucket".into()),
                ("AWS_ACCESS_KEY_ID", s3.access_key.clone()),
                ("AWS_SECRET_ACCESS_KEY", s3.secret_key.clone()),
                // No AWS_REGION: with an endpoint, a default region is used, no metadata lookup.
                ("AWS_ENDPOINT_URL", s3.endpoint.clone()),
            ],
            "no-such-bucket",
        ),
        (
            // PostgreSQL: instances share the log, so they must share its signing key.
            vec![
                ("SIARAN_DATABASE_URL", fresh_postgres_db().await),
                ("SIARAN_STORAGE_URL", files.clone()),
            ],
            "SIARAN_SIGNING_KEY is not set",
        ),
        (
            vec![
                ("SIARAN_DATABASE_URL", sqlite.clone()),
                ("SIARAN_STORAGE_URL", files.clone()),
                ("SIARAN_PUBLIC_URL", "not a url".into()),
            ],
            "SIARAN_PUBLIC_URL",
        ),
        (
            vec![
                ("SIARAN_DATABASE_URL", sqlite.clone()),
                ("SIARAN_STORAGE_URL", files.clone()),
                ("SIARAN_LISTEN", "port-8080".into()),
            ],
            "SIARAN_LISTEN",
        ),
    ];
    for (env, expected) in cases {
        // The port is held here: had siaran got as far as binding, it would fail with "cannot
        // listen", so seeing the configuration error proves it stopped before that.
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        let mut cmd = siaran();
        // The default log level, as an operator would run it.
        cmd.env_remove("RUST_LOG")
            .arg("serve")
            .env("SIARAN_LISTEN", format!("127.0.0.1:{port}"));
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        let err = stderr_line(&out);
        assert!(!out.status.success(), "{env:?} must fail");
        assert_eq!(err.lines().count(), 1, "one line on stderr: {err}");
        assert!(err.contains(expected), "{expected:?} not in: {err}");
        assert!(!err.contains("cannot listen"), "{err}");
        drop(held);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_show_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let demo = || {
        let mut cmd = siaran();
        cmd.current_dir(dir.path()).env("SIARAN_DEMO", "true").env(
            "SIARAN_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("d.db").display()),
        );
        cmd
    };
    // Twice: a restart must not seed a second briefing.
    for _ in 0..2 {
        let server = Server::start(demo()).await;
        let body = reqwest::get(format!("{}/feeds/demo.xml", server.base))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let channel = rss::Channel::read_from(&body[..]).unwrap();
        assert_eq!(channel.items().len(), 1);
        let enclosure = channel.items()[0].enclosure().unwrap();
        let got = reqwest::get(enclosure.url())
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(got.as_ref(), sample_bytes("briefing-demo.mp3").as_slice());
        // Apple lists no show without a cover: the demo has one, and it is served.
        let cover = channel.itunes_ext().unwrap().image().unwrap().to_owned();
        let got = reqwest::get(&cover).await.unwrap().bytes().await.unwrap();
        assert_eq!(got.as_ref(), sample_bytes("cover-demo.jpg").as_slice());
        assert!(server.terminate().success());
    }
    // The default storage folder is relative to the working directory: the briefing, the
    // cover and the transcript in it, once each.
    assert_eq!(
        crate::helpers::files_under(&dir.path().join("data/media")).len(),
        3
    );
}

#[test]
fn probe_prints_json_or_one_line_and_exit_2() {
    let out = siaran()
        .arg("probe")
        .arg(sample_path("sample.flac"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_line(&out));
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["container"], "flac");
    assert_eq!(info["mime_type"], "audio/flac");
    assert_eq!(info["size_bytes"], sample_bytes("sample.flac").len());
    assert_eq!(
        info["sha256"],
        crate::helpers::sha256_hex(&sample_bytes("sample.flac"))
    );

    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake.mp3");
    std::fs::write(&fake, "<html><body>not audio</body></html>").unwrap();
    let out = siaran().arg("probe").arg(&fake).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(stderr_line(&out).lines().count(), 1);
    let out = siaran()
        .arg("probe")
        .arg(dir.path().join("missing.mp3"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

/// An upload still arriving when the instance is told to stop (SIGTERM) keeps what arrived: the
/// client resumes from there on the next instance, not from its last chunk (with the studio's
/// whole file in one PATCH, not from nothing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_under_way_at_shutdown_keeps_what_arrived() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("siaran.db").display());
    let storage = format!("file://{}", dir.path().join("media").display());
    let token = create_token(&db_url, "contributor");
    let command = || {
        let mut cmd = siaran();
        cmd.env("SIARAN_DATABASE_URL", &db_url)
            .env("SIARAN_STORAGE_URL", &storage);
        cmd
    };
    let server = Server::start(command()).await;
    let http = reqwest::Client::new();
    let length: usize = 8 << 20;
    let res = http
        .post(format!("{}/api/v1/uploads/", server.base))
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", length.to_string())
        .header("Upload-Metadata", "filename YS53YXY=")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let path = location[location.find("/api/v1/uploads/").unwrap()..].to_owned();

    // The whole file in one PATCH, of which 3 MiB arrive before the instance is told to stop.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let body =
        reqwest::Body::wrap_stream(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)));
    let sending = tokio::spawn({
        let (http, url, token) = (
            http.clone(),
            format!("{}{path}", server.base),
            token.clone(),
        );
        async move {
            http.patch(url)
                .bearer_auth(token)
                .header("Tus-Resumable", "1.0.0")
                .header("Upload-Offset", "0")
                .header("Content-Type", "application/offset+octet-stream")
                .header("Content-Length", length.to_string())
                .body(body)
                .send()
                .await
        }
    });
    let sent = 3 << 20;
    for _ in 0..(sent / (64 << 10)) {
        tx.send(Ok(vec![7u8; 64 << 10])).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let status = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    assert!(status.success(), "{status:?}");
    // Stopped at once, not after the 20 s given to other requests.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    drop(tx);
    let _ = sending.await;

    let next = Server::start(command()).await;
    let res = http
        .head(format!("{}{path}", next.base))
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["upload-offset"].to_str().unwrap(),
        sent.to_string()
    );
    next.terminate();
}
