//! Issue 24, points 2, 4 and 7: the sound-quality analysis runs as a database-claimed job after
//! an upload is stored (API, tus, import), once across instances, taken over when its worker
//! dies, retried and then failed with its reason; the media record shows where it stands, and
//! the waveform is served in audiowaveform's formats with immutable caching.
//!
//! Test servers run no job worker unless a test asks (`helpers::TestApp`). A test server's
//! worker is made idle (`idle`: it polls once an hour, and media stored through
//! `quiet_ctx` do not wake it) where a test must set a job up before any worker sees it; a peer
//! on the same database and store then runs the jobs.

use std::{path::Path, time::Duration};

use chrono::Utc;
use serde_json::{Value, json};
use siaran::{
    config::Settings,
    db::{Job, JobKind, JobState},
    domain::{Media, MediaId},
    service::{Ctx, jobs::JobQueue, media::ingest_path},
};

use crate::{
    helpers::{Backend, TestApp, sample_bytes, sample_path},
    on_both_backends,
};

/// No worker: the jobs it queues wait for the peer a test starts. (A worker that looked for jobs
/// once an hour still made its first pass at start-up, and under load that pass came after the
/// test had queued a job, which it then took from the peer the test was about to start.)
fn idle(s: &mut Settings) {
    s.jobs.workers = 0;
}

/// A worker that finds jobs and retries failed ones at once.
fn eager(s: &mut Settings) {
    s.jobs.workers = 1;
    s.jobs.poll = Duration::from_millis(100);
    s.jobs.retry_after = Duration::from_millis(50);
    s.jobs.lease = Duration::from_secs(2);
}

/// The app's operations with a job queue of their own, as `siaran import` has: what they queue
/// wakes no worker.
fn quiet_ctx(app: &TestApp) -> Ctx {
    Ctx {
        jobs: JobQueue::default(),
        ..app.state.ctx.clone()
    }
}

/// Stores a local file as media through the ingest pipeline, waking no worker.
async fn stored_quietly(app: &TestApp, path: &Path) -> Media {
    ingest_path(&quiet_ctx(app), MediaId::new(), path)
        .await
        .expect("stored")
}

async fn job(app: &TestApp, media: MediaId) -> Job {
    app.state
        .ctx
        .db
        .job(JobKind::Quality, media)
        .await
        .expect("the media has a quality job")
}

fn media_id(media: &Value) -> MediaId {
    MediaId(media["id"].as_str().unwrap().parse().unwrap())
}

/// `GET /api/v1/media/{id}` once its analysis is no longer pending (at most `within`).
async fn analysed(app: &TestApp, id: &str, within: Duration) -> Value {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let media = app.get_json(&format!("/api/v1/media/{id}")).await;
        if media["quality"]["state"] != "pending" {
            return media;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still pending after {within:?}: {media}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the job of `media` satisfies `done` (at most 60 s, and only while it runs).
async fn job_until(app: &TestApp, media: MediaId, done: impl Fn(&Job) -> bool) -> Job {
    for _ in 0..600 {
        let job = job(app, media).await;
        if done(&job) {
            return job;
        }
        assert!(
            matches!(job.state, JobState::Queued | JobState::Running),
            "the job ended elsewhere: {job:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the job did not get there: {:?}", job(app, media).await)
}

/// audiowaveform's JSON, read by waveform-data.js's rules: version 2, 16 bits, `length` pairs of
/// every channel in `data`. Returns (sample_rate, samples_per_pixel, length).
fn check_waveform_json(body: &[u8]) -> (u64, u64, u64) {
    let w: Value = serde_json::from_slice(body).expect("waveform JSON");
    assert_eq!(w["version"], 2, "{w}");
    assert_eq!(w["bits"], 16);
    let channels = w["channels"].as_u64().unwrap();
    let length = w["length"].as_u64().unwrap();
    let data = w["data"].as_array().unwrap();
    assert_eq!(data.len() as u64, 2 * channels * length);
    assert!(
        data.iter()
            .all(|v| (-32768..=32767).contains(&v.as_i64().unwrap()))
    );
    assert!(length > 0);
    (
        w["sample_rate"].as_u64().unwrap(),
        w["samples_per_pixel"].as_u64().unwrap(),
        length,
    )
}

/// audiowaveform's `.dat`: its header (version 1 or 2, flags, sample rate, samples per pixel,
/// length, and for version 2 channels) then the pairs, 16-bit when flag 0 is clear.
fn check_waveform_dat(body: &[u8]) -> (u64, u64, u64) {
    let word = |i: usize| u32::from_le_bytes(body[i..i + 4].try_into().unwrap());
    let version = word(0);
    assert!(version == 1 || version == 2, "version {version}");
    let bytes_per_value = if word(4) & 1 == 0 { 2 } else { 1 };
    let (header, channels) = if version == 2 {
        (24, word(20) as usize)
    } else {
        (20, 1)
    };
    let length = word(16) as usize;
    assert_eq!(
        body.len(),
        header + length * 2 * channels * bytes_per_value,
        "the .dat holds `length` pairs"
    );
    (u64::from(word(8)), u64::from(word(12)), length as u64)
}

/// An upload through the API is analysed by the job: the record gets its figures and warnings
/// (in the asked-for language), and the waveform's URLs answer in audiowaveform's formats with
/// a year's immutable cache, validators, ranges and HEAD.
async fn an_upload_is_analysed(backend: Backend) {
    let app = TestApp::spawn_with(backend, eager).await;
    let media = app.upload_ok("briefing-demo.mp3").await;
    assert_eq!(media["quality"], json!({"state": "pending"}), "{media}");
    assert_eq!(media["waveform"], Value::Null);
    let id = media["id"].as_str().unwrap();

    let media = analysed(&app, id, Duration::from_secs(60)).await;
    let q = &media["quality"];
    assert_eq!(q["state"], "done", "{media}");
    for key in [
        "integrated_lufs",
        "loudness_range_lu",
        "true_peak_dbtp",
        "sample_peak_dbfs",
        "gain_to_target_db",
    ] {
        assert!(q[key].is_f64(), "{key}: {q}");
    }
    assert!(q["silences"].is_array(), "{q}");
    assert!(q["clipping"]["count"].is_u64(), "{q}");
    assert!(q["clipping"]["ranges"].is_array(), "{q}");
    assert_eq!(q["target_lufs"], -16.0);
    assert!(q.get("error").is_none());
    let warnings = q["warnings"].as_array().unwrap();
    for w in warnings {
        assert!(w["code"].is_string() && w["message"].is_string(), "{w}");
    }
    // The same record in English.
    let english: Value = app
        .http
        .get(app.url(&format!("/api/v1/media/{id}")))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let english = english["quality"]["warnings"].as_array().unwrap();
    assert_eq!(english.len(), warnings.len());
    for (en, id) in english.iter().zip(warnings) {
        assert_eq!(en["code"], id["code"]);
        assert_ne!(en["message"], id["message"], "{en} {id}");
    }
    let job = job(&app, media_id(&media)).await;
    assert_eq!((job.state, job.attempts), (JobState::Done, 1));
    // The figures are `siaran probe --quality`'s for the same file.
    let probe = std::process::Command::new(env!("CARGO_BIN_EXE_siaran"))
        .args(["probe", "--quality"])
        .arg(sample_path("briefing-demo.mp3"))
        .env_remove("SIARAN_LOUDNESS_TARGET")
        .output()
        .unwrap();
    assert!(probe.status.success());
    let probed: Value = serde_json::from_slice(&probe.stdout).unwrap();
    let mut api = q.as_object().unwrap().clone();
    api.remove("state");
    api.remove("analysed_at");
    assert_eq!(Value::Object(api), probed);

    // The waveform, at its stable URLs.
    let urls = &media["waveform"];
    let json_url = urls["json_url"].as_str().unwrap();
    assert_eq!(json_url, app.url(&format!("/media/{id}/waveform.json")));
    let mut formats = Vec::new();
    for (url, content_type) in [
        (json_url, "application/json"),
        (
            urls["dat_url"].as_str().unwrap(),
            "application/octet-stream",
        ),
        (urls["overview_url"].as_str().unwrap(), "application/json"),
    ] {
        let res = app.http.get(url).send().await.unwrap();
        assert_eq!(res.status(), 200, "{url}");
        let h = res.headers().clone();
        assert_eq!(h["content-type"], content_type, "{url}");
        assert_eq!(h["cache-control"], "public, max-age=31536000, immutable");
        let etag = h["etag"].to_str().unwrap().to_owned();
        assert!(etag.starts_with('"'), "a strong ETag: {etag}");
        let body = res.bytes().await.unwrap();
        assert_eq!(h["content-length"], body.len().to_string().as_str());
        formats.push(if content_type == "application/json" {
            check_waveform_json(&body)
        } else {
            check_waveform_dat(&body)
        });
        // Revalidated, asked for in part, asked about.
        let again = app
            .get_with(url, &[(reqwest::header::IF_NONE_MATCH, &etag)])
            .await;
        assert_eq!(again.status(), 304);
        let part = app
            .get_with(url, &[(reqwest::header::RANGE, "bytes=0-9")])
            .await;
        assert_eq!(part.status(), 206);
        assert_eq!(part.bytes().await.unwrap(), body.slice(0..10));
        let head = app.http.head(url).send().await.unwrap();
        assert_eq!(head.status(), 200);
        assert_eq!(head.headers()["etag"], etag.as_str());
    }
    // The .json and the .dat are the same peaks; the overview is a coarse view of the whole.
    assert_eq!(formats[0], formats[1]);
    let (rate, spp, length) = formats[0];
    let (_, overview_spp, overview_length) = formats[2];
    assert!(overview_length <= 2000 && overview_length <= length);
    let seconds = |spp: u64, length: u64| (spp * length) as f64 / rate as f64;
    let duration = media["duration_ms"].as_f64().unwrap() / 1000.0;
    assert!((seconds(spp, length) - duration).abs() < 1.0, "{formats:?}");
    assert!(
        (seconds(overview_spp, overview_length) - duration).abs() < 2.0,
        "{formats:?}"
    );

    // Unknown names and media that have none answer 404.
    for path in [
        format!("/media/{id}/waveform.png"),
        format!("/media/{}/waveform.json", MediaId::new()),
        "/media/nope/waveform.json".to_owned(),
    ] {
        let res = app.http.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "waveform-not-found");
    }
}
on_both_backends!(an_upload_is_analysed);

/// Opus uploads, in Ogg and in WebM (under video), are analysed like the rest: symphonia demuxes
/// them and the analysis decodes them itself (`media::quality`'s Opus decoder).
async fn opus_uploads_are_analysed(backend: Backend) {
    let app = TestApp::spawn_with(backend, eager).await;
    for sample in ["sample.opus", "sample.webm"] {
        let media = app.upload_ok(sample).await;
        let id = media["id"].as_str().unwrap();
        let media = analysed(&app, id, Duration::from_secs(60)).await;
        let q = &media["quality"];
        assert_eq!(q["state"], "done", "{sample}: {media}");
        assert!(q["integrated_lufs"].is_f64(), "{sample}: {q}");
        assert!(q["true_peak_dbtp"].is_f64(), "{sample}: {q}");
        assert!(
            media["waveform"]["json_url"].is_string(),
            "{sample}: {media}"
        );
    }
}
on_both_backends!(opus_uploads_are_analysed);

/// A silent video (no audio track) plays, so it is stored; its analysis fails with the reason
/// at the first attempt (another could not find audio either), and the briefing still
/// publishes.
async fn a_file_without_audio_fails_and_still_publishes(backend: Backend) {
    let app = TestApp::spawn_with(backend, eager).await;
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("silent.mp4");
    let made = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i"])
        .arg("testsrc=duration=2:size=160x120:rate=10")
        .args(["-an", "-c:v", "mpeg4", "-movflags", "+faststart"])
        .arg(&video)
        .status()
        .expect("ffmpeg runs");
    assert!(made.success());
    let res = app
        .upload("silent.mp4", std::fs::read(&video).unwrap())
        .await;
    assert_eq!(res.status(), 201);
    let media: Value = res.json().await.unwrap();
    let id = media["id"].as_str().unwrap();

    let media = analysed(&app, id, Duration::from_secs(60)).await;
    let q = &media["quality"];
    assert_eq!(q["state"], "failed", "{media}");
    assert_eq!(q["error"]["code"], "no-audio", "{q}");
    assert!(
        q["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Audio rekaman tidak dapat didekode"),
        "{q}"
    );
    assert_eq!(media["waveform"], Value::Null);
    assert!(q.get("integrated_lufs").is_none());
    let job = job(&app, media_id(&media)).await;
    assert_eq!((job.state, job.attempts), (JobState::Failed, 1), "{job:?}");

    // Publishing does not wait for the analysis, nor mind its failure.
    app.create_show("ppid").await;
    let res = app
        .post_json(
            "/api/v1/shows/ppid/episodes",
            Some(&app.editor_token),
            &json!({"title": "Rapat tanpa suara", "media_id": id,
                    "publish_at": "2026-01-05T02:00:00Z"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let feed = app
        .http
        .get(app.url("/feeds/ppid.xml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(feed.contains(&format!("/media/{id}.mp4")), "{feed}");
}
on_both_backends!(a_file_without_audio_fails_and_still_publishes);

/// A media file whose object cannot be read (lost from the store) fails each attempt: the job
/// is tried three times, no more, then failed with the reason; the record says so in both
/// languages.
async fn a_failing_job_is_tried_three_times_then_failed(backend: Backend) {
    let app = TestApp::spawn_with(backend, idle).await;
    let media = stored_quietly(&app, &sample_path("sample.flac")).await;
    app.state
        .ctx
        .store
        .delete(&media.storage_key)
        .await
        .unwrap();
    assert_eq!(job(&app, media.id).await.state, JobState::Queued);

    let _peer = app.spawn_peer_with(eager).await;
    let job = job_until(&app, media.id, |j| j.state == JobState::Failed).await;
    assert_eq!(job.attempts, 3, "{job:?}");
    let error = job.error.unwrap();
    assert_eq!(error.code, "media-unreadable");
    let record = app.get_json(&format!("/api/v1/media/{}", media.id)).await;
    assert_eq!(record["quality"]["state"], "failed");
    assert_eq!(record["quality"]["error"]["code"], "media-unreadable");
    assert!(
        record["quality"]["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Berkas media tidak dapat diambil"),
        "{record}"
    );
    // Given up for good: no fourth attempt however long one waits.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        self::job(&app, media.id).await.attempts,
        3,
        "no attempt after the last"
    );
}
on_both_backends!(a_failing_job_is_tried_three_times_then_failed);

/// A worker that claimed a job and died (its lease runs out, unrenewed): another instance takes
/// the job over and finishes it.
async fn a_job_whose_worker_died_is_taken_over(backend: Backend) {
    let app = TestApp::spawn_with(backend, idle).await;
    let media = stored_quietly(&app, &sample_path("briefing-demo.mp3")).await;
    let now = Utc::now();
    let dead = app
        .state
        .ctx
        .db
        .claim_job(
            JobKind::Quality,
            "dead-worker",
            now,
            now + chrono::Duration::seconds(1),
            3,
        )
        .await
        .unwrap()
        .expect("the job is claimed");
    assert_eq!((dead.media_id, dead.attempts), (media.id, 1));

    let _peer = app.spawn_peer_with(eager).await;
    let job = job_until(&app, media.id, |j| j.state == JobState::Done).await;
    assert_eq!(
        job.attempts, 2,
        "one attempt died, the next finished: {job:?}"
    );
    let record = app.get_json(&format!("/api/v1/media/{}", media.id)).await;
    assert_eq!(record["quality"]["state"], "done");
    assert!(record["waveform"]["dat_url"].is_string());
}
on_both_backends!(a_job_whose_worker_died_is_taken_over);

/// Two instances on one PostgreSQL database and S3 bucket, each taking uploads: every file is
/// analysed once (one attempt per job), and each has exactly its waveform's three objects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_analyse_each_file_once() {
    let a = TestApp::spawn_with(Backend::PostgresS3, eager).await;
    let b = a.spawn_peer().await;
    // The same recording twice is two media files, two jobs.
    let samples = [
        "briefing-demo.mp3",
        "sample.flac",
        "sample.wav",
        "sample.m4a",
        "briefing-demo.mp3",
    ];
    let mut ids = Vec::new();
    for (i, sample) in samples.iter().enumerate() {
        let app = if i % 2 == 0 { &a } else { &b };
        let media = app.upload_ok(sample).await;
        ids.push(media["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        let media = analysed(&a, id, Duration::from_secs(120)).await;
        assert_eq!(media["quality"]["state"], "done", "{media}");
        let job = job(&a, media_id(&media)).await;
        assert_eq!(job.attempts, 1, "analysed once: {job:?}");
    }
    let objects = a.stored_objects().await;
    for id in &ids {
        let waveforms: Vec<_> = objects
            .iter()
            .filter(|k| k.contains(id.as_str()) && k.contains(".waveform"))
            .collect();
        assert_eq!(waveforms.len(), 3, "{id}: {waveforms:?}");
    }
}

fn siaran_command(app: &TestApp) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_siaran"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SIARAN_DATABASE_URL", app.db_url())
        .env(
            "SIARAN_SIGNING_KEY",
            app.state
                .settings
                .signing
                .key
                .as_ref()
                .expect("the test's key"),
        )
        .env(
            "SIARAN_STORAGE_URL",
            format!("file://{}", app.media_root.display()),
        )
        .env("SIARAN_SPOOL_DIR", app.spool_dir.display().to_string())
        .env("RUST_LOG", "warn");
    cmd
}

/// `siaran import` queues each imported file's analysis and runs none; the next serving
/// instance analyses them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_media_are_analysed_by_the_next_serve() {
    let app = TestApp::spawn_with(Backend::SqliteFs, idle).await;
    app.create_show("arsip").await;
    let folder = tempfile::tempdir().unwrap();
    for name in ["briefing-demo.mp3", "sample.flac"] {
        std::fs::copy(
            sample_path(name),
            folder.path().join(format!("2024-01-31 {name}")),
        )
        .unwrap();
    }
    let mut import = siaran_command(&app);
    import.args([
        "import",
        &folder.path().display().to_string(),
        "--show",
        "arsip",
    ]);
    let out = tokio::task::spawn_blocking(move || import.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let episodes: Vec<Value> = app
        .http
        .get(app.url("/api/v1/shows/arsip/episodes"))
        .bearer_auth(&app.editor_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(episodes.len(), 2);
    let media: Vec<MediaId> = episodes
        .iter()
        .map(|e| MediaId(e["media_id"].as_str().unwrap().parse().unwrap()))
        .collect();
    for m in &media {
        let job = job(&app, *m).await;
        assert_eq!((job.state, job.attempts), (JobState::Queued, 0), "{job:?}");
    }

    let _serve = app.spawn_peer_with(eager).await;
    for m in &media {
        let record = analysed(&app, &m.to_string(), Duration::from_secs(60)).await;
        assert_eq!(record["quality"]["state"], "done", "{record}");
    }
}

/// Media stored before the upgrade (no job) are queued when an instance starts serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_stored_before_jobs_are_analysed_when_serving_starts() {
    let app = TestApp::spawn_with(Backend::SqliteFs, idle).await;
    let media = stored_quietly(&app, &sample_path("sample.wav")).await;
    let db = siaran::db::AnyDb::connect(&app.db_url()).await.unwrap();
    sqlx::query("DELETE FROM jobs")
        .execute(db.pool())
        .await
        .unwrap();
    assert!(
        app.state
            .ctx
            .db
            .job(JobKind::Quality, media.id)
            .await
            .is_err()
    );
    let record = app.get_json(&format!("/api/v1/media/{}", media.id)).await;
    assert_eq!(record["quality"]["state"], "pending");

    let _serve = app.spawn_peer_with(eager).await;
    let record = analysed(&app, &media.id.to_string(), Duration::from_secs(60)).await;
    assert_eq!(record["quality"]["state"], "done", "{record}");
}

/// An instance that stops (SIGTERM's path: `serve`'s shutdown) gives its running job back to
/// the queue at once, the attempt not counted, for the next instance to run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_instance_gives_its_job_back() {
    let app = TestApp::spawn_with(Backend::SqliteFs, idle).await;
    let dir = tempfile::tempdir().unwrap();
    // About two hours of audio: an analysis that is still running when the instance stops.
    let long = dir.path().join("long.mp3");
    std::fs::write(&long, sample_bytes("briefing-demo.mp3").repeat(40)).unwrap();
    let media = stored_quietly(&app, &long).await;

    // An instance of its own, stopped by the test.
    let mut settings = app.state.settings.clone();
    eager(&mut settings);
    settings.spool_dir = Some(dir.path().join("spool"));
    let db = siaran::db::AnyDb::connect(&app.db_url()).await.unwrap();
    let store = std::sync::Arc::new(
        siaran::storage::fs::FsStore::open(app.media_root.clone())
            .await
            .unwrap(),
    );
    let state =
        siaran::app::AppState::from_parts(settings, std::sync::Arc::new(db), store).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(siaran::app::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let running = job_until(&app, media.id, |j| j.state == JobState::Running).await;
    assert_eq!(running.attempts, 1);
    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();
    let job = job(&app, media.id).await;
    assert_eq!(
        (job.state, job.attempts, job.lease),
        (JobState::Queued, 0, None),
        "given back, the attempt not counted"
    );
}
