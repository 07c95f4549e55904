//! The reference deployment (issue 26, point 1), run as an operator would: exactly
//! `deploy/nginx/siaran.conf` (only the `listen` line and the two instance addresses replaced) in
//! front of two `siaran serve` processes, one PostgreSQL, and three Garage nodes with replication
//! factor 3 behind an nginx of their own. Instances and Garage nodes are killed with SIGKILL while
//! they work, and what listeners, editors and the database see is checked:
//! - a publication through one instance is in the other's feed within a second, five times of five;
//! - a scheduled episode appears in both feeds when its time comes, with no request making it;
//! - a tus upload begun on one instance continues on the other, also after the first is killed
//!   in the middle of a PATCH, with the right SHA-256, and the reconciler leaves no orphan;
//! - a listener's stream survives the death of the Garage node serving it, byte for byte; the
//!   feed, pages and media keep answering while a Garage node or a Siaran instance is down;
//! - one row per thing however many instances saw it: download counts, audit entries, WebSub
//!   pings, quality jobs.
//!
//! It needs Garage, nginx and PostgreSQL, so it runs in `scripts/test`'s Garage stage, which sets
//! `SIARAN_TEST_CLUSTER=1`; elsewhere it says so and returns. The systemd unit is checked here
//! too (`systemd-analyze verify`), in every run.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use base64::Engine as _;
use chrono::Utc;
use futures_util::StreamExt as _;
use rand::RngCore as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::{
    helpers::{fresh_postgres_db, sample_bytes},
    s3server::client_for,
    startup::{create_token, free_port, siaran, siaran_at},
};

pub(crate) const SHOW: &str = "klaster";

/// `deploy/siaran.service` passes `systemd-analyze verify`, with `ExecStart` pointing at the
/// binary this suite built (verify checks that the program exists).
#[test]
fn the_systemd_unit_verifies() {
    let Ok(analyze) = which("systemd-analyze") else {
        eprintln!("systemd-analyze is not installed: the unit is not checked");
        return;
    };
    let unit = std::fs::read_to_string(repo_path("deploy/siaran.service")).unwrap();
    assert_eq!(unit.matches("ExecStart=/usr/local/bin/siaran ").count(), 1);
    let unit = unit.replace(
        "ExecStart=/usr/local/bin/siaran ",
        &format!("ExecStart={} ", env!("CARGO_BIN_EXE_siaran")),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("siaran.service");
    std::fs::write(&path, unit).unwrap();
    let out = Command::new(analyze)
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "systemd-analyze verify: {stderr}");
    // verify warns on stderr without failing (an unknown key, a bad value): none is accepted.
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("siaran.service"))
        .collect();
    assert!(warnings.is_empty(), "systemd-analyze verify: {warnings:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cluster_of_two_instances_three_garage_nodes_behind_nginx() {
    if std::env::var("SIARAN_TEST_CLUSTER").as_deref() != Ok("1") {
        eprintln!(
            "SIARAN_TEST_CLUSTER is not 1: the cluster test runs in scripts/test's Garage stage"
        );
        return;
    }
    let mut c = Cluster::start().await;
    let http = reqwest::Client::new();

    // The show, created through the front.
    let res = http
        .post(c.front("/api/v1/shows"))
        .bearer_auth(&c.token)
        .json(
            &json!({"slug": SHOW, "title": "Klaster", "author": "Diskominfo",
                      "email": "ppid@kaltimprov.go.id"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());

    publication_reaches_the_other_instance(&c, &http).await;
    scheduled_episode_appears_in_both_feeds(&c, &http).await;
    tus_upload_moves_between_instances(&mut c, &http).await;
    stream_survives_a_garage_node(&mut c, &http).await;
    reads_survive_an_instance(&mut c, &http).await;
    one_row_per_thing(&c, &http).await;
}

/// Five publications through A, each looked for in B's feed every 5 ms.
async fn publication_reaches_the_other_instance(c: &Cluster, http: &reqwest::Client) {
    let feed_b = format!("{}/feeds/{SHOW}.xml", c.instances[1].base);
    assert_eq!(http.get(&feed_b).send().await.unwrap().status(), 200);
    let mut delays = Vec::new();
    for i in 0..5 {
        let media = upload(http, &c.instances[0].base, &c.token, "sample.m4a").await;
        let title = format!("Siaran serentak {i}");
        let started = Instant::now();
        create_episode(
            http,
            &c.instances[0].base,
            &c.token,
            &title,
            &media,
            Utc::now(),
        )
        .await;
        loop {
            let body = http
                .get(&feed_b)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            if body.contains(&title) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(1),
                "publication {i} through A not in B's feed after 1 s"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        delays.push(started.elapsed());
    }
    eprintln!("publication through A seen in B's feed after: {delays:?}");
}

/// An episode scheduled 3 s ahead: in neither feed before its time, in both after it, with no
/// write in between.
async fn scheduled_episode_appears_in_both_feeds(c: &Cluster, http: &reqwest::Client) {
    let media = upload(http, &c.instances[1].base, &c.token, "briefing-demo.mp3").await;
    let at = Utc::now() + chrono::Duration::seconds(3);
    create_episode(
        http,
        &c.instances[1].base,
        &c.token,
        "Terjadwal",
        &media,
        at,
    )
    .await;
    for instance in &c.instances {
        let feed = feed_of(http, &instance.base).await;
        assert!(!feed.contains("Terjadwal"), "published before its time");
    }
    let wait = (at - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(300)).await;
    for instance in &c.instances {
        let feed = feed_of(http, &instance.base).await;
        assert!(
            feed.contains("Terjadwal"),
            "{} missed its time",
            instance.base
        );
    }
}

/// Begun on A, continued on B; then A killed in the middle of a PATCH, and B finishes it.
async fn tus_upload_moves_between_instances(c: &mut Cluster, http: &reqwest::Client) {
    let (wav, sha) = random_wav(c.dir.path(), "tus.wav", 24 << 20);
    let bytes = std::fs::read(&wav).unwrap();
    let total = bytes.len();
    let [a, b] = [c.instances[0].base.clone(), c.instances[1].base.clone()];

    let name = base64::engine::general_purpose::STANDARD.encode("rapat-klaster.wav");
    let res = http
        .post(format!("{a}/api/v1/uploads/"))
        .bearer_auth(&c.token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", total.to_string())
        .header("Upload-Metadata", format!("filename {name}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let path = location
        .find("/api/v1/uploads/")
        .map(|i| location[i..].to_owned())
        .unwrap();

    // The first 4 MiB on A; B knows where it stands.
    let first = 4 << 20;
    let res = patch(http, &a, &path, &c.token, 0, bytes[..first].to_vec()).await;
    assert_eq!(res.status(), 204);
    assert_eq!(offset(http, &b, &path, &c.token).await, first);

    // A killed while the next PATCH is half sent.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let body = reqwest::Body::wrap_stream(tokio_stream_of(rx));
    let sending = tokio::spawn({
        let (http, a, path, token) = (http.clone(), a.clone(), path.clone(), c.token.clone());
        async move {
            http.patch(format!("{a}{path}"))
                .bearer_auth(token)
                .header("Tus-Resumable", "1.0.0")
                .header("Upload-Offset", first.to_string())
                .header("Content-Type", "application/offset+octet-stream")
                .body(body)
                .send()
                .await
        }
    });
    for piece in bytes[first..first + (6 << 20)].chunks(64 << 10) {
        tx.send(Ok(piece.to_vec())).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    c.instances[0].process.kill();
    drop(tx);
    assert!(
        sending.await.unwrap().is_err(),
        "the PATCH should have been cut"
    );

    // B reports what was kept and takes the rest.
    let kept = offset(http, &b, &path, &c.token).await;
    assert!((first..total).contains(&kept), "offset {kept}");
    let res = patch(http, &b, &path, &c.token, kept, bytes[kept..].to_vec()).await;
    assert_eq!(res.status(), 204, "{:?}", res.headers());
    let media_id = res.headers()["siaran-media-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let media: Value = http
        .get(format!("{b}/api/v1/media/{media_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(media["sha256"], sha, "{media}");
    assert_eq!(media["size_bytes"], total as u64, "{media}");
    c.instances[0].start(&c.settings).await;

    // The reconciler (every second; leases of 2 s) removes what the killed PATCH left.
    let s3 = c.s3_client();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let chunks = c.object_keys(&s3, "siaran/uploads/").await;
        let unfinished = s3
            .list_multipart_uploads()
            .bucket(&c.bucket)
            .send()
            .await
            .unwrap()
            .uploads
            .unwrap_or_default()
            .len();
        if chunks.is_empty() && unfinished == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "left behind: {chunks:?}, {unfinished} multipart uploads"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A 96 MiB recording streamed through the front, slowly; when 8 MiB have arrived, the Garage
/// node serving Siaran's read dies. The listener still gets every byte once, in order.
async fn stream_survives_a_garage_node(c: &mut Cluster, http: &reqwest::Client) {
    let (wav, sha) = random_wav(c.dir.path(), "besar.wav", 96 << 20);
    let size = std::fs::metadata(&wav).unwrap().len();
    let file = tokio::fs::File::open(&wav).await.unwrap();
    let res = http
        .post(c.front("/api/v1/media?filename=besar.wav"))
        .bearer_auth(&c.token)
        .header("Content-Length", size)
        .body(reqwest::Body::wrap_stream(
            tokio_util::io::ReaderStream::new(file),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let media: Value = res.json().await.unwrap();
    let url = media["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&c.front("")), "{url}");

    // The analysis reads the recording from the store too: let it finish first, so that the
    // listener's is the one read going on.
    let deadline = Instant::now() + Duration::from_secs(60);
    let info = c.front(&format!("/api/v1/media/{}", media["id"].as_str().unwrap()));
    loop {
        let media: Value = http.get(&info).send().await.unwrap().json().await.unwrap();
        if media["quality"]["state"] != "pending" {
            break;
        }
        assert!(Instant::now() < deadline, "analysis still pending: {media}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let res = http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let mut body = res.bytes_stream();
    let mut hasher = Sha256::new();
    let mut received = 0u64;
    let mut killed = None;
    while let Some(piece) = body.next().await {
        let piece = piece.expect("the listener's stream broke");
        hasher.update(&piece);
        received += piece.len() as u64;
        if killed.is_none() && received >= 8 << 20 {
            let serving = c.garage.serving_node().await;
            c.garage.nodes[serving].process.kill();
            killed = Some(serving);
        }
        // A listener on a modest link.
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    assert_eq!(received, size);
    assert_eq!(hex::encode(hasher.finalize()), sha);
    let killed = killed.unwrap();
    eprintln!("Garage node {killed} killed mid-stream; the listener got all {size} bytes");

    // With the node down: the feed, the pages and a range of the recording.
    for path in [
        "/",
        &format!("/feeds/{SHOW}.xml"),
        &format!("/shows/{SHOW}"),
    ] {
        for _ in 0..4 {
            let res = http.get(c.front(path)).send().await.unwrap();
            assert_eq!(res.status(), 200, "{path} with a Garage node down");
        }
    }
    let res = http
        .get(&url)
        .header("Range", "bytes=1000-1999")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206);
    assert_eq!(res.bytes().await.unwrap().len(), 1000);
    c.garage.nodes[killed].start(&c.garage.bin).await;
}

/// Feed and page reads through the front while instance B is killed and started again: nginx
/// sends each to the live instance, and none fails. (A media stream that B was sending when it
/// died is cut, as nginx cannot resend what it began to answer; players ask for the rest with a
/// range, which the Garage scenario above checks end to end.)
async fn reads_survive_an_instance(c: &mut Cluster, http: &reqwest::Client) {
    let paths = [
        c.front(&format!("/feeds/{SHOW}.xml")),
        c.front("/"),
        c.front(&format!("/shows/{SHOW}")),
    ];
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|i| {
            let (http, paths, stop) = (http.clone(), paths.clone(), stop.clone());
            tokio::spawn(async move {
                let (mut ok, mut failed) = (0, Vec::new());
                let mut n = i;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let url = &paths[n % paths.len()];
                    n += 1;
                    match http.get(url).send().await {
                        Ok(res) if res.status().is_success() => match res.bytes().await {
                            Ok(_) => ok += 1,
                            Err(e) => failed.push(format!("{url}: body {e}")),
                        },
                        Ok(res) => failed.push(format!("{url}: {}", res.status())),
                        Err(e) => failed.push(format!("{url}: {e}")),
                    }
                }
                (ok, failed)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(700)).await;
    c.instances[1].process.kill();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    c.instances[1].start(&c.settings).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut ok, mut failed) = (0, Vec::new());
    for reader in readers {
        let (o, f) = reader.await.unwrap();
        ok += o;
        failed.extend(f);
    }
    eprintln!("{ok} reads through the front while B was killed and restarted");
    assert!(ok > 100, "only {ok} reads");
    assert!(failed.is_empty(), "failed reads: {failed:?}");
}

/// What both instances saw is stored once.
async fn one_row_per_thing(c: &Cluster, http: &reqwest::Client) {
    let db = sqlx::PgPool::connect(&c.settings.db_url).await.unwrap();

    // Two listeners each download one recording twice through the front, so through both
    // instances (round robin): two downloads counted, not four, not one.
    let media = upload(http, &c.front(""), &c.token, "briefing-demo.mp3").await;
    let episode = create_episode(http, &c.front(""), &c.token, "Diunduh", &media, Utc::now()).await;
    let url = media["url"].as_str().unwrap();
    for agent in ["AntennaPod/3.4.0", "PocketCasts/1.0"] {
        for _ in 0..2 {
            let res = http
                .get(url)
                .header("User-Agent", agent)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            res.bytes().await.unwrap();
        }
    }
    let id = episode["id"].as_str().unwrap();
    let counted = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM downloads WHERE episode_id = $1")
            .bind(id)
            .fetch_one(&db)
            .await
            .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while counted().await < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(counted().await, 2, "downloads counted");

    // Each episode created once in the audit trail, by the token.
    let created: Vec<(String, i64)> = sqlx::query_as(
        "SELECT entity_id, count(*) FROM audit_log WHERE action = 'created' \
         AND entity = 'episode' GROUP BY entity_id",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(created.len(), 7, "{created:?}");
    assert!(created.iter().all(|(_, n)| *n == 1), "{created:?}");

    // Every recording analysed once, whichever instance's worker took it.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let pending: i64 =
            sqlx::query_scalar("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')")
                .fetch_one(&db)
                .await
                .unwrap();
        if pending == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{pending} jobs still pending");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let media_rows: i64 = sqlx::query_scalar("SELECT count(*) FROM media")
        .fetch_one(&db)
        .await
        .unwrap();
    let jobs: i64 =
        sqlx::query_scalar("SELECT count(*) FROM jobs WHERE kind = 'quality' AND state = 'done'")
            .fetch_one(&db)
            .await
            .unwrap();
    let reports: i64 = sqlx::query_scalar("SELECT count(*) FROM media_quality")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!((jobs, reports), (media_rows, media_rows), "quality jobs");
    // And every published or scheduled recording fingerprinted once (issue 25).
    let fingerprinted: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM jobs WHERE kind = 'fingerprint' AND state = 'done'), \
         (SELECT count(*) FROM media_fingerprints)",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert!(
        fingerprinted.0 > 0 && fingerprinted.0 == fingerprinted.1,
        "fingerprint jobs: {fingerprinted:?}"
    );

    // One WebSub ping per state of the feed: the show, five publications, the scheduled one,
    // "Diunduh"; none twice, though both instances serve the feed.
    let pings = c.hub.pings();
    assert_eq!(pings.len(), 8, "pings: {pings:?}");
}

// --- the cluster -------------------------------------------------------------------------------

pub(crate) struct Settings {
    db_url: String,
    bucket: String,
    s3_endpoint: String,
    key_id: String,
    secret: String,
    public_url: String,
    hub: String,
    dir: PathBuf,
    /// The `siaran` binary the instances run (the suite's own unless the load benchmark is given
    /// another, e.g. a release build), and settings added to every instance's environment.
    bin: Option<PathBuf>,
    extra_env: Vec<(&'static str, String)>,
}

pub(crate) struct Cluster {
    pub(crate) settings: Settings,
    pub(crate) garage: Garage,
    pub(crate) instances: Vec<Instance>,
    nginx: Child,
    pub(crate) token: String,
    bucket: String,
    hub: Hub,
    pub(crate) dir: tempfile::TempDir,
}

/// What the load benchmark (tests/api/load.rs) changes in the cluster.
#[derive(Default)]
pub(crate) struct Options {
    /// nginx logs each request to `access.log` in the cluster's folder: `$upstream_addr $status
    /// $request_time`.
    pub(crate) access_log: bool,
    pub(crate) bin: Option<PathBuf>,
    pub(crate) extra_env: Vec<(&'static str, String)>,
}

impl Cluster {
    async fn start() -> Cluster {
        Cluster::start_with(Options::default()).await
    }

    pub(crate) async fn start_with(options: Options) -> Cluster {
        // SIARAN_TEST_KEEP=1 keeps the logs (siaran-a.log, garage-N/garage.log, nginx-error.log).
        let dir = tempfile::Builder::new()
            .prefix("siaran-cluster")
            .disable_cleanup(std::env::var("SIARAN_TEST_KEEP").as_deref() == Ok("1"))
            .tempdir()
            .unwrap();
        eprintln!("cluster in {}", dir.path().display());
        let garage = Garage::start(dir.path()).await;
        let (front_port, garage_port) = (free_port(), free_port());
        let ports = [free_port(), free_port()];
        let nginx = nginx(
            dir.path(),
            front_port,
            ports,
            garage_port,
            &garage,
            options.access_log,
        );
        let hub = Hub::start().await;
        let s3_endpoint = format!("http://127.0.0.1:{garage_port}");
        let bucket = format!(
            "klaster-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let s3 = client_for(&s3_endpoint, &garage.key_id, &garage.secret, "garage");
        wait_for(&format!("{s3_endpoint}/"), |_| true).await;
        s3.create_bucket().bucket(&bucket).send().await.unwrap();
        // A new bucket reaches the other nodes a moment later: seen six times in a row through
        // the front (which takes turns among the nodes) before anything uses it.
        let (mut seen, deadline) = (0, Instant::now() + Duration::from_secs(30));
        while seen < 6 {
            if s3.head_bucket().bucket(&bucket).send().await.is_ok() {
                seen += 1;
            } else {
                seen = 0;
                assert!(
                    Instant::now() < deadline,
                    "the bucket never reached every node"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }

        let settings = Settings {
            db_url: fresh_postgres_db().await,
            bucket: bucket.clone(),
            s3_endpoint,
            key_id: garage.key_id.clone(),
            secret: garage.secret.clone(),
            public_url: format!("http://127.0.0.1:{front_port}"),
            hub: hub.url.clone(),
            dir: dir.path().to_owned(),
            bin: options.bin,
            extra_env: options.extra_env,
        };
        // One key for every instance, as deploy/siaran.service gives it.
        crate::helpers::signing_key_in(&settings.dir);
        let token = create_token(&settings.db_url, "admin");
        let mut instances = Vec::new();
        for (i, port) in ports.into_iter().enumerate() {
            let mut instance = Instance {
                name: ["a", "b"][i],
                port,
                base: format!("http://127.0.0.1:{port}"),
                process: Process::default(),
            };
            instance.start(&settings).await;
            instances.push(instance);
        }
        wait_for(&format!("{}/healthz", settings.public_url), |s| s == 200).await;
        Cluster {
            settings,
            garage,
            instances,
            nginx,
            token,
            bucket,
            hub,
            dir,
        }
    }

    pub(crate) fn front(&self, path: &str) -> String {
        format!("{}{path}", self.settings.public_url)
    }

    fn s3_client(&self) -> aws_sdk_s3::Client {
        client_for(
            &self.settings.s3_endpoint,
            &self.settings.key_id,
            &self.settings.secret,
            "garage",
        )
    }

    async fn object_keys(&self, s3: &aws_sdk_s3::Client, prefix: &str) -> Vec<String> {
        s3.list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .send()
            .await
            .unwrap()
            .contents
            .unwrap_or_default()
            .into_iter()
            .filter_map(|o| o.key)
            .collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.nginx.kill();
        let _ = self.nginx.wait();
    }
}

pub(crate) struct Instance {
    pub(crate) name: &'static str,
    port: u16,
    pub(crate) base: String,
    pub(crate) process: Process,
}

impl Instance {
    pub(crate) async fn start(&mut self, s: &Settings) {
        let log = s.dir.join(format!("siaran-{}.log", self.name));
        let mut serve = s.bin.as_deref().map_or_else(siaran, siaran_at);
        serve
            .arg("serve")
            .env("SIARAN_DATABASE_URL", &s.db_url)
            .env("SIARAN_SIGNING_KEY", s.dir.join("signing-key.pem"))
            .env("SIARAN_STORAGE_URL", format!("s3://{}/siaran", s.bucket))
            .env("AWS_ACCESS_KEY_ID", &s.key_id)
            .env("AWS_SECRET_ACCESS_KEY", &s.secret)
            .env("AWS_REGION", "garage")
            .env("AWS_ENDPOINT_URL", &s.s3_endpoint)
            .env("SIARAN_LISTEN", format!("127.0.0.1:{}", self.port))
            .env("SIARAN_PUBLIC_URL", &s.public_url)
            .env(
                "SIARAN_SPOOL_DIR",
                s.dir.join(format!("spool-{}", self.name)),
            )
            .env("SIARAN_TRUST_FORWARDED", "true")
            .env("SIARAN_WEBSUB_HUB", &s.hub)
            .env("SIARAN_JOB_WORKERS", "1")
            .env("SIARAN_RECONCILE_EVERY_SECS", "1")
            .env("SIARAN_WRITE_LEASE_SECS", "2")
            .env("RUST_LOG", "warn,symphonia_bundle_mp3=error")
            .env("NO_COLOR", "1")
            .envs(s.extra_env.iter().map(|(k, v)| (k, v)));
        self.process.spawn(serve, &log);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(res) = reqwest::get(format!("{}/healthz", self.base)).await
                && res.status() == 200
            {
                return;
            }
            let exited = self.process.exited();
            if exited.is_some() || Instant::now() > deadline {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(10).collect();
                panic!(
                    "instance {} did not come up ({exited:?}): {tail:?}",
                    self.name
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A process of the cluster, its stderr appended to a log file, killed (SIGKILL) when asked or
/// when the test ends, or stopped with SIGTERM when asked.
#[derive(Default)]
pub(crate) struct Process(Option<Child>);

impl Process {
    fn spawn(&mut self, mut command: Command, log: &Path) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start a process of the cluster");
        self.0 = Some(child);
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.0.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        self.0.as_ref().map(Child::id)
    }

    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.0.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// SIGTERM, as a service manager stops it, then waits for it to exit (a Siaran instance
    /// drains its requests first, `app::DRAIN_TIMEOUT` at most).
    pub(crate) fn terminate(&mut self) {
        if let Some(mut child) = self.0.take() {
            let pid = child.id().to_string();
            let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
            assert!(sent.success(), "kill -TERM {pid}");
            child.wait().unwrap();
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

pub(crate) struct Garage {
    pub(crate) bin: PathBuf,
    pub(crate) nodes: Vec<GarageNode>,
    key_id: String,
    secret: String,
}

pub(crate) struct GarageNode {
    conf: PathBuf,
    s3_port: u16,
    pub(crate) process: Process,
}

impl GarageNode {
    pub(crate) async fn start(&mut self, bin: &Path) {
        let mut server = Command::new(bin);
        server
            .arg("-c")
            .arg(&self.conf)
            .arg("server")
            .env("RUST_LOG", "warn");
        self.process
            .spawn(server, &self.conf.with_file_name("garage.log"));
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.s3_port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "Garage did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Garage {
    /// Three nodes in three zones, replication factor 3, and a key that may create buckets.
    async fn start(dir: &Path) -> Garage {
        let bin = which("garage").expect("Garage is not installed (scripts/garage installs it)");
        let secret = hex::encode(rand::random::<[u8; 32]>());
        let mut nodes = Vec::new();
        for i in 0..3 {
            let node_dir = dir.join(format!("garage-{i}"));
            std::fs::create_dir_all(&node_dir).unwrap();
            let (s3, rpc, admin) = (free_port(), free_port(), free_port());
            let conf = node_dir.join("garage.toml");
            std::fs::write(
                &conf,
                format!(
                    r#"metadata_dir = "{d}/meta"
data_dir = "{d}/data"
db_engine = "sqlite"
replication_factor = 3
rpc_bind_addr = "127.0.0.1:{rpc}"
rpc_public_addr = "127.0.0.1:{rpc}"
rpc_secret = "{secret}"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:{s3}"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:{admin}"
"#,
                    d = node_dir.display()
                ),
            )
            .unwrap();
            let mut node = GarageNode {
                conf,
                s3_port: s3,
                process: Process::default(),
            };
            node.start(&bin).await;
            nodes.push(node);
        }
        // The nodes take a moment to find each other: each command is tried for up to 10 s.
        let garage = |node: usize, args: &[&str]| -> String {
            for tries in 1.. {
                let out = Command::new(&bin)
                    .arg("-c")
                    .arg(&nodes[node].conf)
                    .args(args)
                    .output()
                    .unwrap();
                if out.status.success() {
                    return String::from_utf8(out.stdout).unwrap();
                }
                assert!(
                    tries < 50,
                    "garage {args:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                std::thread::sleep(Duration::from_millis(200));
            }
            unreachable!()
        };
        let ids: Vec<String> = (0..3)
            .map(|i| garage(i, &["node", "id", "-q"]).trim().to_owned())
            .collect();
        for id in &ids[1..] {
            garage(0, &["node", "connect", id]);
        }
        for (i, id) in ids.iter().enumerate() {
            let short = id.split('@').next().unwrap();
            garage(
                0,
                &[
                    "layout",
                    "assign",
                    "-z",
                    &format!("dc{i}"),
                    "-c",
                    "1G",
                    short,
                ],
            );
        }
        garage(0, &["layout", "apply", "--version", "1"]);
        let key = garage(0, &["key", "create", "siaran-klaster"]);
        garage(0, &["key", "allow", "--create-bucket", "siaran-klaster"]);
        let field = |name: &str| {
            key.lines()
                .find_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_owned()))
                .unwrap_or_else(|| panic!("no {name} in {key}"))
        };
        Garage {
            key_id: field("Key ID:"),
            secret: field("Secret key:"),
            bin,
            nodes,
        }
    }

    /// The node serving the one read going on: the node with an S3 connection open (the
    /// front's nginx keeps none idle), read from the kernel's socket table, looked at until one
    /// alone has (a reconciler's listing may be open on another for a moment).
    async fn serving_node(&self) -> usize {
        for _ in 0..100 {
            let serving = self.nodes_with_connections();
            if let [node] = serving[..] {
                return node;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "not one Garage node serving: {:?}",
            self.nodes_with_connections()
        );
    }

    fn nodes_with_connections(&self) -> Vec<usize> {
        let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
        let busy: Vec<u16> = table
            .lines()
            .skip(1)
            .filter_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let port = u16::from_str_radix(fields[1].rsplit(':').next()?, 16).ok()?;
                (fields[3] == "01").then_some(port)
            })
            .collect();
        (0..self.nodes.len())
            .filter(|&i| busy.contains(&self.nodes[i].s3_port))
            .collect()
    }
}

/// One nginx for the cluster: `deploy/nginx/siaran.conf` for the instances, and the three Garage
/// nodes behind `garage_port` (a connection each, none kept idle, retried on the next node).
fn nginx(
    dir: &Path,
    front: u16,
    instances: [u16; 2],
    garage_port: u16,
    garage: &Garage,
    access_log: bool,
) -> Child {
    let deployed = std::fs::read_to_string(repo_path("deploy/nginx/siaran.conf")).unwrap();
    let mut conf = deployed.clone();
    for (from, to) in [
        ("listen 80;", format!("listen 127.0.0.1:{front};")),
        ("127.0.0.1:8081", format!("127.0.0.1:{}", instances[0])),
        ("127.0.0.1:8082", format!("127.0.0.1:{}", instances[1])),
    ] {
        assert_eq!(deployed.matches(from).count(), 1, "{from} in siaran.conf");
        conf = conf.replace(from, &to);
    }
    let garage_servers: String = garage
        .nodes
        .iter()
        .map(|n| format!("    server 127.0.0.1:{} max_fails=0;\n", n.s3_port))
        .collect();
    let tmp = dir.join("nginx-tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let log = if access_log {
        format!(
            "log_format upstream '$upstream_addr $status $request_time';\n  \
             access_log {}/access.log upstream;",
            dir.display()
        )
    } else {
        "access_log off;".to_owned()
    };
    let main = format!(
        r#"pid {d}/nginx.pid;
error_log {d}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  {log}
  client_body_temp_path {t}; proxy_temp_path {t};
  fastcgi_temp_path {t}; uwsgi_temp_path {t}; scgi_temp_path {t};
{conf}
  upstream garage {{
{garage_servers}  }}
  server {{
    listen 127.0.0.1:{garage_port};
    client_max_body_size 0;
    proxy_request_buffering off;
    proxy_buffering off;
    proxy_set_header Host $http_host;
    proxy_next_upstream error timeout http_500 http_502 http_503 http_504;
    proxy_connect_timeout 2s;
    location / {{ proxy_pass http://garage; }}
  }}
}}
"#,
        d = dir.display(),
        t = tmp.display(),
    );
    let path = dir.join("nginx.conf");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(main.as_bytes())
        .unwrap();
    Command::new("nginx")
        .arg("-c")
        .arg(&path)
        .arg("-p")
        .arg(dir)
        .args(["-g", "daemon off; master_process off;"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start nginx")
}

/// A WebSub hub that records each ping's form.
struct Hub {
    url: String,
    pings: Arc<Mutex<Vec<String>>>,
}

impl Hub {
    async fn start() -> Hub {
        let pings: Arc<Mutex<Vec<String>>> = Arc::default();
        let recorded = pings.clone();
        let router = axum::Router::new().route(
            "/hub",
            axum::routing::post(move |body: String| async move {
                recorded.lock().unwrap().push(body);
                axum::http::StatusCode::NO_CONTENT
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hub", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Hub { url, pings }
    }

    fn pings(&self) -> Vec<String> {
        self.pings.lock().unwrap().clone()
    }
}

// --- small things ------------------------------------------------------------------------------

pub(crate) async fn upload(http: &reqwest::Client, base: &str, token: &str, sample: &str) -> Value {
    let res = http
        .post(format!("{base}/api/v1/media?filename={sample}"))
        .bearer_auth(token)
        .body(sample_bytes(sample))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

pub(crate) async fn create_episode(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    title: &str,
    media: &Value,
    at: chrono::DateTime<Utc>,
) -> Value {
    let res = http
        .post(format!("{base}/api/v1/shows/{SHOW}/episodes"))
        .bearer_auth(token)
        .json(
            &json!({"title": title, "description": "Penjelasan", "media_id": media["id"],
                      "publish_at": at.to_rfc3339()}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

async fn feed_of(http: &reqwest::Client, base: &str) -> String {
    let res = http
        .get(format!("{base}/feeds/{SHOW}.xml"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

async fn patch(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    token: &str,
    offset: usize,
    body: Vec<u8>,
) -> reqwest::Response {
    http.patch(format!("{base}{path}"))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", offset.to_string())
        .header("Content-Type", "application/offset+octet-stream")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn offset(http: &reqwest::Client, base: &str, path: &str, token: &str) -> usize {
    let res = http
        .head(format!("{base}{path}"))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    res.headers()["upload-offset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn tokio_stream_of<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// A WAV of random samples (Garage compresses: silence would not exercise it), and its SHA-256.
pub(crate) fn random_wav(dir: &Path, name: &str, data: usize) -> (PathBuf, String) {
    let path = dir.join(name);
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut hasher = Sha256::new();
    let data_len = u32::try_from(data).unwrap();
    let mut header = Vec::with_capacity(44);
    header.extend_from_slice(b"RIFF");
    header.extend_from_slice(&(36 + data_len).to_le_bytes());
    header.extend_from_slice(b"WAVEfmt ");
    header.extend_from_slice(&16u32.to_le_bytes());
    header.extend_from_slice(&1u16.to_le_bytes()); // PCM
    header.extend_from_slice(&2u16.to_le_bytes()); // stereo
    header.extend_from_slice(&48_000u32.to_le_bytes());
    header.extend_from_slice(&192_000u32.to_le_bytes());
    header.extend_from_slice(&4u16.to_le_bytes());
    header.extend_from_slice(&16u16.to_le_bytes());
    header.extend_from_slice(b"data");
    header.extend_from_slice(&data_len.to_le_bytes());
    hasher.update(&header);
    file.write_all(&header).unwrap();
    let mut rng = rand::rng();
    let mut block = vec![0u8; 1 << 20];
    let mut left = data;
    while left > 0 {
        let n = left.min(block.len());
        rng.fill_bytes(&mut block[..n]);
        hasher.update(&block[..n]);
        file.write_all(&block[..n]).unwrap();
        left -= n;
    }
    file.flush().unwrap();
    (path, hex::encode(hasher.finalize()))
}

async fn wait_for(url: &str, ok: impl Fn(u16) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(res) = reqwest::get(url).await
            && ok(res.status().as_u16())
        {
            return;
        }
        assert!(Instant::now() < deadline, "{url} did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn which(program: &str) -> Result<PathBuf, ()> {
    let home = std::env::var("HOME").unwrap_or_default();
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .map(PathBuf::from)
        .chain([Path::new(&home).join(".cargo/bin")])
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .ok_or(())
}

fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}
