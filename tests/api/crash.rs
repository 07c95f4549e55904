//! Crash safety (issue 7, point 3): the real `siaran` binary is killed with SIGKILL while
//! uploads (plain and tus), transcripts and publishes are in flight, and started again; once its
//! reconciler has run, no row names a missing object and no object, unfinished write
//! (multipart upload, temporary file) or spool file is left that no row owns. Repeated, with the
//! kill at a different moment each round, on SQLite + a folder and PostgreSQL + S3.

use std::{
    collections::BTreeSet,
    io::Write as _,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use futures_util::stream;
use rand::{Rng as _, SeedableRng as _};
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, files_under, fresh_postgres_db, sample_bytes, sample_path},
    s3server::S3Target,
    startup::{Server, create_token, siaran},
};

/// Rounds of start, load, SIGKILL, per backend.
const ROUNDS: usize = 4;

struct Setup {
    db_url: String,
    objects: Option<PathBuf>,
    s3: Option<(S3Target, String)>,
    spool: PathBuf,
    log: PathBuf,
    key: PathBuf,
    _dir: tempfile::TempDir,
}

impl Setup {
    async fn new(backend: Backend) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let (db_url, objects, s3) = match backend {
            Backend::SqliteFs => (
                format!("sqlite://{}", dir.path().join("siaran.db").display()),
                Some(dir.path().join("objects")),
                None,
            ),
            Backend::PostgresS3 => {
                let s3 = S3Target::new().await;
                let bucket = s3.fresh_bucket().await;
                (fresh_postgres_db().await, None, Some((s3, bucket)))
            }
        };
        Setup {
            db_url,
            objects,
            s3,
            spool: dir.path().join("spool"),
            log: dir.path().join("server.log"),
            key: crate::helpers::signing_key_in(dir.path()),
            _dir: dir,
        }
    }

    fn command(&self) -> Command {
        let mut cmd = siaran();
        cmd.env("SIARAN_DATABASE_URL", &self.db_url)
            .env("SIARAN_SIGNING_KEY", &self.key)
            .env("SIARAN_SPOOL_DIR", &self.spool)
            .env("SIARAN_RECONCILE_EVERY_SECS", "1")
            .env("SIARAN_WRITE_LEASE_SECS", "2")
            .env("SIARAN_MAX_CONCURRENT_UPLOADS", "16")
            .env("RUST_LOG", "warn,symphonia_bundle_mp3=error")
            .env("NO_COLOR", "1");
        match (&self.objects, &self.s3) {
            (Some(objects), _) => {
                cmd.env(
                    "SIARAN_STORAGE_URL",
                    format!("file://{}", objects.display()),
                );
            }
            (None, Some((s3, bucket))) => {
                cmd.env("SIARAN_STORAGE_URL", format!("s3://{bucket}/siaran"))
                    .env("AWS_ACCESS_KEY_ID", &s3.access_key)
                    .env("AWS_SECRET_ACCESS_KEY", &s3.secret_key)
                    .env("AWS_REGION", &s3.region)
                    .env("AWS_ENDPOINT_URL", &s3.endpoint);
            }
            (None, None) => unreachable!(),
        }
        cmd
    }

    async fn start(&self) -> Server {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        Server::start_with_stderr(self.command(), Stdio::from(log)).await
    }

    /// Every object in the store, by key; and the writes left unfinished.
    async fn store_contents(&self) -> (BTreeSet<String>, Vec<String>) {
        if let Some(objects) = &self.objects {
            let mut keys = BTreeSet::new();
            let mut unfinished = Vec::new();
            for path in files_under(objects) {
                let rel = Path::new(&path)
                    .strip_prefix(objects)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                let hidden = rel.split('/').any(|segment| segment.starts_with('.'));
                if !hidden {
                    keys.insert(rel);
                } else if !rel.starts_with(".spool") {
                    unfinished.push(rel);
                }
            }
            return (keys, unfinished);
        }
        let (s3, bucket) = self.s3.as_ref().unwrap();
        let client = s3.client();
        let listed = client
            .list_objects_v2()
            .bucket(bucket)
            .send()
            .await
            .expect("list objects");
        assert_ne!(listed.is_truncated(), Some(true));
        let keys = listed
            .contents()
            .iter()
            .filter_map(|o| o.key()?.strip_prefix("siaran/").map(str::to_owned))
            .collect();
        let uploads = client
            .list_multipart_uploads()
            .bucket(bucket)
            .send()
            .await
            .expect("list multipart uploads");
        let unfinished = uploads
            .uploads()
            .iter()
            .filter_map(|u| u.key().map(str::to_owned))
            .collect();
        (keys, unfinished)
    }

    /// Every object key a row names, read with SQL of its own (not Siaran's).
    async fn owned_keys(&self) -> BTreeSet<String> {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&self.db_url).await.unwrap();
        let mut keys = BTreeSet::new();
        for sql in [
            "SELECT storage_key FROM media",
            "SELECT storage_key FROM episode_files",
            "SELECT storage_key FROM upload_chunks",
        ] {
            let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
            keys.extend(rows.into_iter().map(|(k,)| k));
        }
        let mut rows: Vec<(String,)> =
            sqlx::query_as("SELECT artwork FROM shows WHERE artwork IS NOT NULL")
                .fetch_all(&pool)
                .await
                .unwrap();
        rows.extend(
            sqlx::query_as::<_, (String,)>("SELECT file FROM documents WHERE file IS NOT NULL")
                .fetch_all(&pool)
                .await
                .unwrap(),
        );
        for (json,) in rows {
            let artwork: Value = serde_json::from_str(&json).unwrap();
            keys.insert(artwork["key"].as_str().unwrap().to_owned());
        }
        // A recording's waveform (none here: `siaran()` runs no job worker).
        let waveforms: Vec<(String,)> = sqlx::query_as("SELECT waveform FROM media_quality")
            .fetch_all(&pool)
            .await
            .unwrap();
        for (json,) in waveforms {
            let files: Value = serde_json::from_str(&json).unwrap();
            for file in ["json", "dat", "overview"] {
                keys.insert(files[file]["key"].as_str().unwrap().to_owned());
            }
        }
        pool.close().await;
        keys
    }

    /// What is wrong between the store and the database, or nothing.
    async fn problems(&self, base: &str) -> Vec<String> {
        let (objects, unfinished) = self.store_contents().await;
        let owned = self.owned_keys().await;
        let mut problems = Vec::new();
        for key in owned.difference(&objects) {
            problems.push(format!("row names a missing object: {key}"));
        }
        for key in objects.difference(&owned) {
            problems.push(format!("object no row owns: {key}"));
        }
        for u in unfinished {
            problems.push(format!("unfinished write: {u}"));
        }
        for file in files_under(&self.spool) {
            problems.push(format!("spool file: {file}"));
        }
        // End to end: every published episode's media answers.
        let http = reqwest::Client::new();
        let feed = http
            .get(format!("{base}/feeds/krisis.xml"))
            .send()
            .await
            .unwrap();
        if feed.status() != 200 {
            problems.push(format!("feed answers {}", feed.status()));
        } else {
            let xml = feed.text().await.unwrap();
            for url in xml
                .split("<enclosure url=\"")
                .skip(1)
                .filter_map(|s| s.split('"').next())
            {
                let status = http.head(url).send().await.unwrap().status();
                if status != 200 {
                    problems.push(format!("enclosure {url} answers {status}"));
                }
            }
        }
        problems
    }
}

/// A file of about 20 MiB (the sample briefing, over and over): above S3's multipart threshold.
fn big_mp3(dir: &Path) -> PathBuf {
    let path = dir.join("big.mp3");
    let one = sample_bytes("briefing-demo.mp3");
    let mut file = std::fs::File::create(&path).unwrap();
    for _ in 0..20 {
        file.write_all(&one).unwrap();
    }
    path
}

/// The work in flight when the server dies. Each loop goes on until its requests fail.
fn load(base: &str, token: &str, big: &Path) -> Vec<tokio::task::JoinHandle<()>> {
    let http = reqwest::Client::new();
    let mut tasks = Vec::new();

    // A large upload, sent in small pieces, then published.
    {
        let (http, base, token, big) = (
            http.clone(),
            base.to_owned(),
            token.to_owned(),
            big.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let bytes = std::fs::read(&big).unwrap();
                let pieces: Vec<Result<Vec<u8>, std::io::Error>> =
                    bytes.chunks(512 * 1024).map(|c| Ok(c.to_vec())).collect();
                let body = reqwest::Body::wrap_stream(stream::iter(pieces));
                let Ok(res) = http
                    .post(format!("{base}/api/v1/media?filename=big.mp3"))
                    .bearer_auth(&token)
                    .body(body)
                    .send()
                    .await
                else {
                    return;
                };
                let Ok(media) = res.json::<Value>().await else {
                    return;
                };
                if publish(&http, &base, &token, &media).await.is_none() {
                    return;
                }
            }
        }));
    }

    // Resumable uploads, 1 MiB at a time.
    for n in 0..2 {
        let (http, base, token, big) = (
            http.clone(),
            base.to_owned(),
            token.to_owned(),
            big.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            let bytes = std::fs::read(&big).unwrap();
            let Ok(res) = http
                .post(format!("{base}/api/v1/uploads/"))
                .bearer_auth(&token)
                .header("Tus-Resumable", "1.0.0")
                .header("Upload-Length", bytes.len().to_string())
                .send()
                .await
            else {
                return;
            };
            let Some(url) = res.headers().get("location").and_then(|l| l.to_str().ok()) else {
                return;
            };
            let url = url.to_owned();
            let mut offset = 0;
            for chunk in bytes.chunks(1024 * 1024 + n * 4096) {
                let sent = http
                    .patch(&url)
                    .bearer_auth(&token)
                    .header("Tus-Resumable", "1.0.0")
                    .header("Content-Type", "application/offset+octet-stream")
                    .header("Upload-Offset", offset.to_string())
                    .body(chunk.to_vec())
                    .send()
                    .await;
                if !sent.is_ok_and(|r| r.status() == 204) {
                    return;
                }
                offset += chunk.len();
            }
        }));
    }

    // Small briefings published one after another, each with a transcript.
    {
        let (http, base, token) = (http, base.to_owned(), token.to_owned());
        tasks.push(tokio::spawn(async move {
            let flac = std::fs::read(sample_path("sample.flac")).unwrap();
            let vtt = std::fs::read(sample_path("briefing-demo.vtt")).unwrap();
            loop {
                let Ok(res) = http
                    .post(format!("{base}/api/v1/media?filename=sample.flac"))
                    .bearer_auth(&token)
                    .body(flac.clone())
                    .send()
                    .await
                else {
                    return;
                };
                let Ok(media) = res.json::<Value>().await else {
                    return;
                };
                let Some(episode) = publish(&http, &base, &token, &media).await else {
                    return;
                };
                let sent = http
                    .put(format!(
                        "{base}/api/v1/episodes/{}/transcripts/id",
                        episode["id"].as_str().unwrap_or_default()
                    ))
                    .bearer_auth(&token)
                    .header("Content-Type", "text/vtt")
                    .body(vtt.clone())
                    .send()
                    .await;
                if sent.is_err() {
                    return;
                }
            }
        }));
    }
    tasks
}

async fn publish(http: &reqwest::Client, base: &str, token: &str, media: &Value) -> Option<Value> {
    let res = http
        .post(format!("{base}/api/v1/shows/krisis/episodes"))
        .bearer_auth(token)
        .json(&json!({"title": "Rapat darurat", "media_id": media["id"],
                      "publish_at": chrono::Utc::now().to_rfc3339()}))
        .send()
        .await
        .ok()?;
    res.json().await.ok()
}

fn kill(server: &mut Server) {
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap()
            .success()
    );
    server.child.wait().unwrap();
}

async fn killed_mid_work(backend: Backend) {
    let setup = Setup::new(backend).await;
    let token = create_token(&setup.db_url, "admin");
    let big = big_mp3(setup._dir.path());
    let seed: u64 = rand::rng().random();
    eprintln!("crash test seed {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);

    let mut server = setup.start().await;
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/shows", server.base))
        .bearer_auth(&token)
        .json(
            &json!({"slug": "krisis", "title": "Krisis", "author": "Diskominfo",
                      "email": "ppid@kaltimprov.go.id"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    let mut left_behind = 0;
    for round in 0..ROUNDS {
        let tasks = load(&server.base, &token, &big);
        let delay = Duration::from_millis(rng.random_range(300..2500));
        tokio::time::sleep(delay).await;
        kill(&mut server);
        for task in tasks {
            let _ = task.await;
        }
        // What the crash left to repair, as seen from outside.
        let (objects, unfinished) = setup.store_contents().await;
        let owned = setup.owned_keys().await;
        let orphans = objects.difference(&owned).count();
        let spooled = files_under(&setup.spool).len();
        eprintln!(
            "round {round}: killed after {delay:?}; {} objects, {orphans} owned by no row, \
             {} unfinished writes, {spooled} spool files",
            objects.len(),
            unfinished.len(),
        );
        left_behind += orphans + unfinished.len() + spooled;

        server = setup.start().await;
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            let problems = setup.problems(&server.base).await;
            if problems.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "round {round} (seed {seed}): still wrong after the reconciler had time: {problems:#?}\n{}",
                std::fs::read_to_string(&setup.log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    kill(&mut server);

    // The crashes did leave something to repair (else the test proved nothing), and the
    // reconciler never found a row without its object.
    assert!(left_behind >= 1, "no crash left anything behind");
    let log = std::fs::read_to_string(&setup.log).unwrap();
    let spools = log
        .lines()
        .filter(|l| l.contains("reconcile: removed the spool folder of a dead process"))
        .count();
    assert!(spools >= ROUNDS, "{log}");
    assert!(
        !log.contains("a row owns an object that is missing"),
        "{log}"
    );
}
crate::on_both_backends!(killed_mid_work);
