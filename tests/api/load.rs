//! The load benchmark (issue 26, point 7): not a test, run by `scripts/bench-load`, its figures
//! in docs/benchmarks.md. The reference deployment of `tests/api/cluster.rs` (the same harness:
//! `deploy/nginx/siaran.conf` in front of two instances, PostgreSQL, three Garage nodes with
//! replication factor 3) takes mixed load through nginx for `SIARAN_BENCH_LOAD_MINUTES` (10):
//! 70 % feed requests (conditional: each client sends the ETag it last got), 25 % ranges of 1 MiB
//! of a 16 MiB recording (a body cut short asked for again from the next byte, as players do), 5 % writes (a tus upload of a 1 MiB WAV, resumed from the offset the
//! server reports whenever a PATCH fails, then an episode published with it, one in ten in the
//! show whose feed the listeners read), from
//! `SIARAN_BENCH_LOAD_CLIENTS` (16) clients at once. Meanwhile one Siaran instance (B) is killed
//! (SIGKILL; with `SIARAN_BENCH_LOAD_STOP=term`, stopped with SIGTERM as a restart does) and
//! started again every 60 s, while A serves throughout, and one Garage node is down from 30 s to
//! 90 s.
//!
//! It reports the listener requests (feeds, ranges) that failed after nginx's retries, the
//! uploads lost or corrupted (each checked at the end by its SHA-256, as recorded and as
//! downloaded through the front), the writes refused (nginx never resends a POST or PATCH; a
//! client repeats it), each instance process's memory minute by minute, the requests each instance
//! answered per second (nginx's access log) and the latencies the clients saw (p50, p99, max),
//! then fails if a listener request failed or an upload was lost or corrupted.
//!
//! Without `SIARAN_BENCH_LOAD=1` it says so and returns.

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use base64::Engine as _;
use chrono::Utc;
use futures_util::StreamExt as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::cluster::{Cluster, Options, SHOW, create_episode, random_wav, upload};

const RANGE: usize = 1 << 20;
/// Where most writes' episodes go: one in ten is published in the show the listeners read, so
/// that its feed changes now and then (and conditional requests get a 200 after each change)
/// without growing by several episodes a second.
const WRITTEN: &str = "tulisan";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bench_load_through_the_cluster() {
    if std::env::var("SIARAN_BENCH_LOAD").as_deref() != Ok("1") {
        eprintln!("SIARAN_BENCH_LOAD is not 1: the load benchmark runs from scripts/bench-load");
        return;
    }
    let setting = |name: &str, default: f64| -> f64 {
        std::env::var(name).map_or(default, |v| v.parse().expect(name))
    };
    let duration = Duration::from_secs_f64(setting("SIARAN_BENCH_LOAD_MINUTES", 10.0) * 60.0);
    let clients = setting("SIARAN_BENCH_LOAD_CLIENTS", 16.0) as usize;
    // Smaller for a run of an hour or more: Garage keeps every upload three times.
    let upload_size = (setting("SIARAN_BENCH_LOAD_UPLOAD_KIB", 1024.0) as usize) << 10;
    let mut c = Cluster::start_with(Options {
        access_log: true,
        bin: std::env::var_os("SIARAN_BENCH_LOAD_BIN")
            .filter(|b| !b.is_empty())
            .map(PathBuf::from),
        // The writes' rate limit is per instance and per token: the benchmark's one token would
        // reach it within seconds.
        // The reconciler at a pace nearer production's than the cluster test's (every second,
        // 2 s leases, to see its work within the test).
        extra_env: vec![
            ("SIARAN_RATE_WRITES_PER_MIN", "0".to_owned()),
            ("SIARAN_RECONCILE_EVERY_SECS", "60".to_owned()),
            ("SIARAN_WRITE_LEASE_SECS", "120".to_owned()),
        ],
    })
    .await;
    let http = reqwest::Client::new();
    let front = c.front("");

    // The show, a 16 MiB recording for the ranges, and two more episodes in the feed.
    for slug in [SHOW, WRITTEN] {
        let res = http
            .post(c.front("/api/v1/shows"))
            .bearer_auth(&c.token)
            .json(
                &json!({"slug": slug, "title": "Beban", "author": "Diskominfo",
                          "email": "ppid@kaltimprov.go.id"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    }
    let (wav, _) = random_wav(c.dir.path(), "rentang.wav", 16 << 20);
    let recording = Arc::new(std::fs::read(&wav).unwrap());
    let res = http
        .post(c.front("/api/v1/media?filename=rentang.wav"))
        .bearer_auth(&c.token)
        .body(recording.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let media: Value = res.json().await.unwrap();
    let media_url = media["url"].as_str().unwrap().to_owned();
    create_episode(&http, &front, &c.token, "Rentang", &media, Utc::now()).await;
    for sample in ["sample.m4a", "briefing-demo.mp3"] {
        let media = upload(&http, &front, &c.token, sample).await;
        create_episode(&http, &front, &c.token, sample, &media, Utc::now()).await;
    }

    let stats = Arc::new(Mutex::new(Stats::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let load = Arc::new(Load {
        http: http.clone(),
        front: front.clone(),
        token: c.token.clone(),
        feed_url: c.front(&format!("/feeds/{SHOW}.xml")),
        media_url,
        recording,
        dir: c.dir.path().to_owned(),
        upload_size,
        stats: stats.clone(),
    });
    eprintln!(
        "load: {clients} clients for {:.1} min through {front}, uploads of {} KiB",
        duration.as_secs_f64() / 60.0,
        upload_size >> 10
    );
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|i| {
            let (load, stop) = (load.clone(), stop.clone());
            tokio::spawn(async move { load.run(i, &stop).await })
        })
        .collect();

    // Chaos, and each instance process's memory every second.
    let mut memory: BTreeMap<(usize, u32), Vec<Sample>> = BTreeMap::new();
    // Always B: A lives through the whole run, so that its memory over time says whether it is
    // flat; B's says how a process grows from its start.
    let (mut next_kill, victim) = (Duration::from_secs(60), 1);
    // `SIARAN_BENCH_LOAD_STOP=term`: B is stopped as a service manager restarts it (SIGTERM, its
    // requests drained) rather than killed.
    let graceful = std::env::var("SIARAN_BENCH_LOAD_STOP").is_ok_and(|s| s == "term");
    let garage_node = 2;
    let (mut garage_down, mut garage_back) = (false, false);
    let mut events = Vec::new();
    while started.elapsed() < duration {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let t = started.elapsed();
        for (i, instance) in c.instances.iter().enumerate() {
            if let Some(pid) = instance.process.pid()
                && let Some(rss) = proc_field(pid, "status", "VmRSS:")
            {
                memory.entry((i, pid)).or_default().push(Sample {
                    t: t.as_secs_f64(),
                    rss,
                    threads: proc_field(pid, "status", "Threads:").unwrap_or(0),
                });
            }
        }
        if !garage_down && t >= Duration::from_secs(30) {
            c.garage.nodes[garage_node].process.kill();
            events.push(format!(
                "{:.0} s: Garage node {garage_node} killed",
                t.as_secs_f64()
            ));
            garage_down = true;
        }
        if garage_down && !garage_back && t >= Duration::from_secs(90) {
            c.garage.nodes[garage_node].start(&c.garage.bin).await;
            events.push(format!(
                "{:.0} s: Garage node {garage_node} back",
                t.as_secs_f64()
            ));
            garage_back = true;
        }
        if t >= next_kill && t + Duration::from_secs(5) < duration {
            let killed = Instant::now();
            if graceful {
                c.instances[victim].process.terminate();
            } else {
                c.instances[victim].process.kill();
            }
            c.instances[victim].start(&c.settings).await;
            events.push(format!(
                "{:.0} s: instance {} {}, serving again after {:.1} s",
                t.as_secs_f64(),
                c.instances[victim].name,
                if graceful {
                    "stopped (SIGTERM)"
                } else {
                    "killed (SIGKILL)"
                },
                killed.elapsed().as_secs_f64()
            ));
            next_kill += Duration::from_secs(60);
        }
    }
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    if garage_down && !garage_back {
        c.garage.nodes[garage_node].start(&c.garage.bin).await;
    }

    // Every upload the clients finished: its record's SHA-256, and the bytes through the front.
    let uploads = std::mem::take(&mut stats.lock().unwrap().uploads);
    let (mut lost, mut corrupted) = (Vec::new(), Vec::new());
    for (id, sha) in &uploads {
        let res = http
            .get(c.front(&format!("/api/v1/media/{id}")))
            .send()
            .await
            .unwrap();
        if res.status() != 200 {
            lost.push(format!("{id}: {}", res.status()));
            continue;
        }
        let record: Value = res.json().await.unwrap();
        let body = http
            .get(record["url"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let got = hex::encode(Sha256::digest(&body));
        if record["sha256"] != *sha || got != *sha {
            corrupted.push(format!("{id}: recorded {}, served {got}", record["sha256"]));
        }
    }

    // The report.
    let s = stats.lock().unwrap();
    eprintln!("\n## Load through nginx: {clients} clients, {elapsed:.0} s");
    for e in &events {
        eprintln!("- {e}");
    }
    eprintln!("\n| requests | answered | failed | per second | p50 ms | p99 ms | max ms |");
    eprintln!("| --- | --- | --- | --- | --- | --- | --- |");
    for (name, class) in [
        ("feed (conditional)", &s.feed),
        ("media range 1 MiB", &s.range),
        (&*format!("tus upload {} KiB", upload_size >> 10), &s.tus),
        ("episode created", &s.episode),
    ] {
        let [p50, p99, max] = class.percentiles();
        eprintln!(
            "| {name} | {} | {} | {:.1} | {p50:.1} | {p99:.1} | {max:.1} |",
            class.ok,
            class.failures.len(),
            class.ok as f64 / elapsed
        );
    }
    eprintln!(
        "\nfeeds answered 304: {} of {}; tus PATCHes resumed after a failure: {}; ranges cut \
         short and asked for again from the next byte: {}",
        s.not_modified, s.feed.ok, s.resumed, s.ranges_resumed
    );
    eprintln!(
        "uploads finished {}, lost {}, corrupted {}",
        uploads.len(),
        lost.len(),
        corrupted.len()
    );
    let log = std::fs::read_to_string(c.dir.path().join("access.log")).unwrap_or_default();
    eprintln!("\n| instance | requests answered | per second | 5xx |");
    eprintln!("| --- | --- | --- | --- |");
    for instance in &c.instances {
        let port = instance.base.rsplit(':').next().unwrap();
        let (mut n, mut errors) = (0u64, 0u64);
        for line in log.lines() {
            let mut fields = line.split(' ');
            let upstreams: Vec<&str> = line.split(' ').take_while(|f| f.contains(':')).collect();
            let status = fields.nth(upstreams.len()).unwrap_or("");
            // With a retry the addresses are listed "a, b": the last one answered.
            if upstreams
                .last()
                .is_some_and(|a| a.trim_end_matches(',').ends_with(&format!(":{port}")))
            {
                n += 1;
                if status.starts_with('5') {
                    errors += 1;
                }
            }
        }
        eprintln!(
            "| {} | {n} | {:.1} | {errors} |",
            instance.name,
            n as f64 / elapsed
        );
    }
    eprintln!(
        "\n| instance process | lived | RSS at the end of minute …, MiB | max | trend from minute 10 on, MiB per hour | threads at the end of minute … |"
    );
    eprintln!("| --- | --- | --- | --- | --- | --- |");
    let mut processes: Vec<_> = memory.iter().collect();
    processes.sort_by(|a, b| a.0.0.cmp(&b.0.0).then(a.1[0].t.total_cmp(&b.1[0].t)));
    for ((i, pid), samples) in processes {
        let born = samples[0].t;
        let lived = samples.last().unwrap().t - born;
        let mib = |kib: u64| format!("{:.0}", kib as f64 / 1024.0);
        // Every minute of a short life; about a dozen figures for a long one.
        let step = ((lived / 60.0 / 12.0).ceil() as usize).max(1);
        let (mut rss, mut threads) = (Vec::new(), Vec::new());
        let mut minute = step;
        for (k, sample) in samples.iter().enumerate() {
            let last = k + 1 == samples.len();
            if sample.t - born >= (minute * 60) as f64 || last {
                let at = if last && sample.t - born < (minute * 60) as f64 {
                    format!("{:.1}", (sample.t - born) / 60.0)
                } else {
                    minute.to_string()
                };
                rss.push(format!("{at}: {}", mib(sample.rss)));
                threads.push(sample.threads.to_string());
                minute = ((sample.t - born) / 60.0).floor() as usize / step * step + step;
            }
        }
        let max = samples.iter().map(|s| s.rss).max().unwrap();
        // The least-squares slope of RSS from minute 10 on (a process grows into its working
        // set for the first few minutes), over at least 20 minutes.
        let trend = (lived >= 1800.0)
            .then(|| {
                slope(
                    samples
                        .iter()
                        .filter(|s| s.t - born >= 600.0)
                        .map(|s| (s.t / 3600.0, s.rss as f64 / 1024.0)),
                )
            })
            .flatten()
            .map_or("–".to_owned(), |m| format!("{m:+.0}"));
        eprintln!(
            "| {} pid {pid} | {:.0}–{:.0} s | {} | {} | {trend} | {} |",
            c.instances[*i].name,
            born,
            samples.last().unwrap().t,
            rss.join(", "),
            mib(max),
            threads.join(", ")
        );
    }
    for (name, class) in [
        ("feed", &s.feed),
        ("range", &s.range),
        ("tus", &s.tus),
        ("episode", &s.episode),
    ] {
        if !class.failures.is_empty() {
            eprintln!(
                "\n{name} failures (first 10 of {}): {:#?}",
                class.failures.len(),
                &class.failures[..class.failures.len().min(10)]
            );
        }
    }
    // The processes' logs outlive the cluster's folder, which goes with the test: what an
    // instance wrote before it stopped is the first thing to read when a run fails.
    let kept = std::env::temp_dir().join(format!("siaran-bench-load-{}", Utc::now().timestamp()));
    std::fs::create_dir_all(&kept).unwrap();
    for log in ["siaran-a.log", "siaran-b.log", "nginx-error.log"] {
        let _ = std::fs::copy(c.dir.path().join(log), kept.join(log));
    }
    eprintln!("\nlogs kept in {}", kept.display());
    assert!(
        s.feed.failures.is_empty() && s.range.failures.is_empty(),
        "listener requests failed"
    );
    assert!(lost.is_empty(), "lost uploads: {lost:?}");
    assert!(corrupted.is_empty(), "corrupted uploads: {corrupted:?}");
}

#[derive(Default)]
struct Stats {
    feed: Class,
    range: Class,
    tus: Class,
    episode: Class,
    not_modified: u64,
    resumed: u64,
    ranges_resumed: u64,
    /// Each finished upload's media id and SHA-256.
    uploads: Vec<(String, String)>,
}

#[derive(Default)]
struct Class {
    ok: u64,
    latencies_ms: Vec<f64>,
    failures: Vec<String>,
}

impl Class {
    fn record(&mut self, started: Instant, result: Result<(), String>) {
        match result {
            Ok(()) => {
                self.ok += 1;
                self.latencies_ms
                    .push(started.elapsed().as_secs_f64() * 1000.0);
            }
            Err(e) => self.failures.push(e),
        }
    }

    fn percentiles(&self) -> [f64; 3] {
        let mut sorted = self.latencies_ms.clone();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| {
            sorted
                .get(((sorted.len() as f64 * q).ceil() as usize).saturating_sub(1))
                .copied()
                .unwrap_or(0.0)
        };
        [at(0.5), at(0.99), at(1.0)]
    }
}

struct Load {
    http: reqwest::Client,
    front: String,
    token: String,
    feed_url: String,
    media_url: String,
    recording: Arc<Vec<u8>>,
    dir: PathBuf,
    /// The WAV each write uploads (1 MiB).
    upload_size: usize,
    stats: Arc<Mutex<Stats>>,
}

impl Load {
    async fn run(&self, client: usize, stop: &AtomicBool) {
        let mut etag: Option<String> = None;
        let mut writes = 0;
        while !stop.load(Ordering::Relaxed) {
            let started = Instant::now();
            match rand::random_range(0..100) {
                0..70 => {
                    let result = self.feed(&mut etag).await;
                    let mut s = self.stats.lock().unwrap();
                    if result == Ok(true) {
                        s.not_modified += 1;
                    }
                    s.feed.record(started, result.map(|_| ()));
                }
                70..95 => {
                    let result = self.range().await;
                    self.stats.lock().unwrap().range.record(started, result);
                }
                _ => {
                    writes += 1;
                    let result = self.tus(client, writes).await;
                    let media = match result {
                        Ok((id, sha)) => {
                            let mut s = self.stats.lock().unwrap();
                            s.tus.record(started, Ok(()));
                            s.uploads.push((id.clone(), sha));
                            id
                        }
                        Err(e) => {
                            self.stats.lock().unwrap().tus.record(started, Err(e));
                            continue;
                        }
                    };
                    let started = Instant::now();
                    let result = self.episode(client, writes, &media).await;
                    self.stats.lock().unwrap().episode.record(started, result);
                }
            }
        }
    }

    /// The feed, with the ETag this client last got: `Ok(true)` for a 304.
    async fn feed(&self, etag: &mut Option<String>) -> Result<bool, String> {
        let mut req = self.http.get(&self.feed_url);
        if let Some(tag) = etag.as_deref() {
            req = req.header("If-None-Match", tag);
        }
        let res = req.send().await.map_err(|e| format!("feed: {e}"))?;
        match res.status().as_u16() {
            304 => Ok(true),
            200 => {
                let tag = res
                    .headers()
                    .get("etag")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let body = res.bytes().await.map_err(|e| format!("feed body: {e}"))?;
                if !body.trim_ascii_end().ends_with(b"</rss>") {
                    return Err(format!("feed cut at {} bytes", body.len()));
                }
                *etag = tag;
                Ok(false)
            }
            status => Err(format!("feed: {status}")),
        }
    }

    /// 1 MiB of the recording from a random place, compared with the file's bytes.
    async fn range(&self) -> Result<(), String> {
        let from = rand::random_range(0..self.recording.len() - RANGE);
        let end = from + RANGE;
        let mut body = Vec::with_capacity(RANGE);
        // As a player does: a body cut short (the instance sending it was killed: nginx cannot
        // resend what it began to answer) is asked for again from the next byte, twice at most.
        for attempt in 0..3 {
            if attempt > 0 {
                self.stats.lock().unwrap().ranges_resumed += 1;
            }
            let res = self
                .http
                .get(&self.media_url)
                .header("Range", format!("bytes={}-{}", from + body.len(), end - 1))
                .send()
                .await
                .map_err(|e| format!("range: {e}"))?;
            if res.status() != 206 {
                return Err(format!("range: {}", res.status()));
            }
            let mut stream = res.bytes_stream();
            let mut cut = None;
            while let Some(piece) = stream.next().await {
                match piece {
                    Ok(piece) => body.extend_from_slice(&piece),
                    Err(e) => {
                        cut = Some(e);
                        break;
                    }
                }
            }
            match cut {
                None => break,
                Some(e) if attempt == 2 => return Err(format!("range body: {e}")),
                Some(_) => {}
            }
        }
        if body != self.recording[from..end] {
            return Err(format!(
                "range at {from}: {} bytes, not the file's",
                body.len()
            ));
        }
        Ok(())
    }

    /// A WAV (1 MiB unless set otherwise) through tus, in two PATCHes, resumed from the server's offset after any
    /// failure, for up to two minutes: its media id and SHA-256.
    async fn tus(&self, client: usize, n: usize) -> Result<(String, String), String> {
        let name = format!("beban-{client}-{n}.wav");
        let (path, sha) = random_wav(&self.dir, &name, self.upload_size);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        let retry = |what: String| async move {
            if Instant::now() > deadline {
                return Err(what);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok(())
        };
        let encoded = base64::engine::general_purpose::STANDARD.encode(&name);
        let location = loop {
            let res = self
                .http
                .post(format!("{}/api/v1/uploads/", self.front))
                .bearer_auth(&self.token)
                .header("Tus-Resumable", "1.0.0")
                .header("Upload-Length", bytes.len().to_string())
                .header("Upload-Metadata", format!("filename {encoded}"))
                .send()
                .await;
            match res {
                Ok(res) if res.status() == 201 => {
                    break res.headers()["location"].to_str().unwrap().to_owned();
                }
                Ok(res) => retry(format!("tus creation: {}", res.status())).await?,
                Err(e) => retry(format!("tus creation: {e}")).await?,
            }
        };
        let mut offset = 0;
        loop {
            let end = if offset == 0 {
                bytes.len() / 2
            } else {
                bytes.len()
            };
            let res = self
                .http
                .patch(&location)
                .bearer_auth(&self.token)
                .header("Tus-Resumable", "1.0.0")
                .header("Upload-Offset", offset.to_string())
                .header("Content-Type", "application/offset+octet-stream")
                .body(bytes[offset..end].to_vec())
                .send()
                .await;
            if let Ok(res) = &res
                && res.status() == 204
            {
                if let Some(id) = res.headers().get("siaran-media-id") {
                    return Ok((id.to_str().unwrap().to_owned(), sha));
                }
                offset = end;
                continue;
            }
            // Where it stands, from whichever instance answers.
            self.stats.lock().unwrap().resumed += 1;
            let what = match res {
                Ok(res) => format!("tus PATCH: {}", res.status()),
                Err(e) => format!("tus PATCH: {e}"),
            };
            loop {
                retry(what.clone()).await?;
                let Ok(res) = self
                    .http
                    .get(&location)
                    .bearer_auth(&self.token)
                    .header("Tus-Resumable", "1.0.0")
                    .send()
                    .await
                else {
                    continue;
                };
                if res.status() != 200 {
                    continue;
                }
                let Ok(upload) = res.json::<Value>().await else {
                    continue;
                };
                if let Some(id) = upload["media_id"].as_str() {
                    return Ok((id.to_owned(), sha));
                }
                offset = upload["offset"].as_u64().unwrap() as usize;
                break;
            }
        }
    }

    async fn episode(&self, client: usize, n: usize, media: &str) -> Result<(), String> {
        let show = if n.is_multiple_of(10) { SHOW } else { WRITTEN };
        let res = self
            .http
            .post(format!("{}/api/v1/shows/{show}/episodes", self.front))
            .bearer_auth(&self.token)
            .json(
                &json!({"title": format!("Beban {client}-{n}"), "description": "Uji beban",
                          "media_id": media, "publish_at": Utc::now().to_rfc3339()}),
            )
            .send()
            .await
            .map_err(|e| format!("episode: {e}"))?;
        if res.status() != 201 {
            return Err(format!("episode: {}", res.status()));
        }
        Ok(())
    }
}

/// An instance process seen once a second: seconds into the run, RSS in KiB, threads.
struct Sample {
    t: f64,
    rss: u64,
    threads: u64,
}

/// A number field of `/proc/PID/FILE`: `status`'s `VmRSS:` (KiB) or `Threads:`.
fn proc_field(pid: u32, file: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/{file}")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The least-squares slope of y over x; `None` for fewer than two distinct x.
fn slope(points: impl Iterator<Item = (f64, f64)>) -> Option<f64> {
    let points: Vec<_> = points.collect();
    let n = points.len() as f64;
    let (mx, my) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (sxy, sxx) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| {
        (a + (x - mx) * (y - my), b + (x - mx) * (x - mx))
    });
    (sxx > 0.0).then(|| sxy / sxx)
}
