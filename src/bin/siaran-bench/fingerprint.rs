//! `siaran-bench fingerprint`: the clip finder at scale (issue 25, point 4): the CPU time of
//! fingerprinting an hour of audio, the size of the index per hour, and the latency of looking
//! up a 30-s clip in an index of `--hours` hours, on SQLite (a file in a temporary folder) or
//! PostgreSQL (`--database-url`).
//!
//! Owns measurement only. The index is seeded through `Db::record_fingerprint` (the job's own
//! write) with synthetic hour-long fingerprints made of real ones: 8-s runs of the items of
//! `--audio`'s fingerprint, in seeded random order, each item with two random bits flipped, so
//! that the index's keys are as unevenly spread as speech makes them. Lookups time
//! `service::fingerprint::look_up`, `find_clip`'s path after the clip's decoding (postings,
//! votes, the published fingerprints' stretches, alignment), for 30-s clips cut from the seeded
//! hours with 3 bits per item flipped; clips must be found, or the figure would flatter a broken
//! index.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use chrono::Utc;
use rand::{Rng as _, SeedableRng as _, rngs::StdRng};

use siaran::{
    db::{AnyDb, StoredFingerprint, new_row_id, prelude::*},
    media::fingerprint::{fingerprint_file, index_keys, item_us},
    service::fingerprint::look_up,
};

#[derive(Debug, clap::Args)]
pub struct BenchFingerprintArgs {
    /// An empty database (sqlite://PATH or postgres://...). By default a SQLite file in a
    /// temporary folder, removed afterwards.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Hours of audio in the synthetic index.
    #[arg(long, default_value_t = 1000)]
    pub hours: usize,
    /// 30-s lookups timed.
    #[arg(long, default_value_t = 200)]
    pub lookups: usize,
    /// The recording whose fingerprint is timed and whose items make the synthetic index.
    #[arg(long, default_value = "media/briefing-demo.mp3")]
    pub audio: PathBuf,
    #[arg(long, default_value_t = 20261205)]
    pub seed: u64,
}

/// This thread's CPU time so far (Linux: `/proc/thread-self/stat`, user + system, in ticks of
/// 10 ms).
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Fields 14 and 15 of stat (utime, stime), counted from the state, field 3, at index 0.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

pub async fn fingerprint(args: &BenchFingerprintArgs) -> anyhow::Result<()> {
    // 1. Fingerprinting CPU time, on one blocking thread.
    let audio = args.audio.clone();
    let (print, cpu, wall) = tokio::task::spawn_blocking(move || {
        let (cpu0, wall0) = (thread_cpu(), Instant::now());
        let print = fingerprint_file(&audio);
        (print, thread_cpu() - cpu0, wall0.elapsed())
    })
    .await?;
    let print = print.with_context(|| format!("fingerprinting {}", args.audio.display()))?;
    let audio_s = print.duration_ms as f64 / 1000.0;
    ensure!(audio_s > 30.0, "the audio must last more than 30 s");
    println!(
        "fingerprint: {:.1} s of audio in {:.3} s CPU ({:.3} s wall): {:.2}% of its duration, \
         {:.1} s of one core per hour",
        audio_s,
        cpu.as_secs_f64(),
        wall.as_secs_f64(),
        100.0 * cpu.as_secs_f64() / audio_s,
        cpu.as_secs_f64() * 3600.0 / audio_s
    );

    // 2. The synthetic index.
    let dir = tempfile::tempdir()?;
    let url = match &args.database_url {
        Some(url) => url.clone(),
        None => format!("sqlite://{}", dir.path().join("bench.db").display()),
    };
    let db = AnyDb::connect(&url).await?;
    db.migrate().await?;
    let mut rng = StdRng::seed_from_u64(args.seed);
    let per_hour = (3_600_000_000 / item_us()) as usize;
    let chunk = 64; // ≈ 8 s
    let base = &print.items;
    let now = Utc::now();
    let started = Instant::now();
    let mut hours: Vec<(siaran::domain::MediaId, Vec<u32>)> = Vec::new();
    for h in 0..args.hours {
        let mut items = Vec::with_capacity(per_hour);
        while items.len() < per_hour {
            let at = rng.random_range(0..base.len() - chunk);
            items.extend(
                base[at..at + chunk]
                    .iter()
                    .map(|&v| v ^ (1 << rng.random_range(0..32)) ^ (1 << rng.random_range(0..32))),
            );
        }
        items.truncate(per_hour);
        let media = seed_episode(&db, h, now).await?;
        let keys: Vec<(i64, u32)> = index_keys(&items).collect();
        let stored = StoredFingerprint {
            items,
            item_us: item_us(),
            duration_ms: 3_600_000,
        };
        ensure!(
            db.record_fingerprint("bench", media, &stored, &keys, now)
                .await?,
            "the job's lease was not held"
        );
        // Keep a few hours to cut clips from.
        if hours.len() < 50 {
            hours.push((media, stored.items));
        }
        if (h + 1) % 50 == 0 {
            eprintln!(
                "seeded {} hours in {:.0} s",
                h + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    if url.starts_with("postgres") {
        // What autovacuum does to an insert-only table soon enough (PostgreSQL 13 and later):
        // the visibility map lets the postings be read from the index alone.
        sqlx::query("VACUUM (ANALYZE) fingerprint_postings")
            .execute(db.pool())
            .await?;
    }
    let (bytes, audio_ms) = db.fingerprint_index_size().await?;
    println!(
        "index: {} hours seeded in {:.0} s; {:.2} MB in all, {:.2} MB per hour of audio",
        args.hours,
        started.elapsed().as_secs_f64(),
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / (audio_ms as f64 / 3_600_000.0)
    );

    // 3. Lookups of 30-s clips.
    let clip_items = (30_000_000 / item_us()) as usize;
    let mut times = Vec::with_capacity(args.lookups);
    // Per step: postings read, votes counted, fingerprints' stretches read, alignment.
    let mut phases: [Vec<Duration>; 4] = Default::default();
    let mut posted = Vec::with_capacity(args.lookups);
    let mut found = 0;
    for _ in 0..args.lookups {
        let (media, source) = &hours[rng.random_range(0..hours.len())];
        let at = rng.random_range(0..source.len() - clip_items);
        let clip: Vec<u32> = source[at..at + clip_items]
            .iter()
            .map(|&v| {
                v ^ (1 << rng.random_range(0..32))
                    ^ (1 << rng.random_range(0..32))
                    ^ (1 << rng.random_range(0..32))
            })
            .collect();
        let t = Instant::now();
        let lookup = look_up(&db, &clip, Utc::now()).await?;
        times.push(t.elapsed());
        let s = lookup.stats;
        posted.push(s.postings);
        for (phase, d) in
            phases
                .iter_mut()
                .zip([s.read_postings, s.votes, s.read_fingerprints, s.alignment])
        {
            phase.push(d);
        }
        let runs = &lookup.alignment.runs;
        if runs.len() == 1
            && runs[0].offset.abs_diff(at as i64) <= 1
            && lookup.sources.get(&runs[0].source).map(|s| s.media) == Some(*media)
        {
            found += 1;
        }
    }
    times.sort();
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "lookup of a 30-s clip in {} hours: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms; \
         {found}/{} found at their offset",
        args.hours,
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.95).as_secs_f64() * 1e3,
        times.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        args.lookups
    );
    let p95 = |v: &mut Vec<Duration>| {
        v.sort();
        v[((v.len() as f64 * 0.95) as usize).min(v.len() - 1)].as_secs_f64() * 1e3
    };
    let [mut read, mut votes, mut sources, mut aligned] = phases;
    posted.sort_unstable();
    println!(
        "  p95 by phase: postings read {:.1} ms, votes {:.1} ms, fingerprints read {:.1} ms, \
         alignment {:.1} ms; postings per lookup: median {}, max {}",
        p95(&mut read),
        p95(&mut votes),
        p95(&mut sources),
        p95(&mut aligned),
        posted[posted.len() / 2],
        posted.last().copied().unwrap_or(0)
    );
    ensure!(
        found * 100 >= args.lookups * 95,
        "only {found} of {} clips found",
        args.lookups
    );
    Ok(())
}

/// A media row, a published episode of it and its fingerprint job held by the lease "bench".
async fn seed_episode(
    db: &AnyDb,
    n: usize,
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<siaran::domain::MediaId> {
    let media = new_row_id();
    let at = now.timestamp_millis();
    if n == 0 {
        sqlx::query(
            "INSERT INTO shows (id, slug, title, description, language, author, email, \
             category, explicit, podcast_guid, created_at, updated_at) VALUES ($1, 'bench', \
             'Bench', '', 'id', '', '', 'Government', 0, $1, $2, $2)",
        )
        .bind(new_row_id().to_string())
        .bind(at)
        .execute(db.pool())
        .await?;
    }
    sqlx::query(
        "INSERT INTO media (id, storage_key, filename, mime_type, extension, duration_ms, \
         size_bytes, sha256, info, created_at) VALUES ($1, $2, 'bench.mp3', 'audio/mpeg', 'mp3', \
         3600000, 1, '', '{}', $3)",
    )
    .bind(media.to_string())
    .bind(format!("bench/{media}.mp3"))
    .bind(at)
    .execute(db.pool())
    .await?;
    let episode = new_row_id().to_string();
    sqlx::query(
        "INSERT INTO episodes (id, show_id, slug, guid, title, description, media_id, \
         publish_at, created_at, updated_at) \
         SELECT $1, id, $2, $1, 'Bench', '', $3, $4, $4, $4 FROM shows WHERE slug = 'bench'",
    )
    .bind(&episode)
    .bind(format!("episode-{n}"))
    .bind(media.to_string())
    .bind(at - 1000)
    .execute(db.pool())
    .await?;
    sqlx::query(
        "INSERT INTO jobs (kind, media_id, state, attempts, lease, locked_until, created_at, \
         run_after, updated_at) VALUES ('fingerprint', $1, 'running', 1, 'bench', $2, $3, $3, $3)",
    )
    .bind(media.to_string())
    .bind(at + 3_600_000)
    .bind(at)
    .execute(db.pool())
    .await?;
    Ok(siaran::domain::MediaId(media))
}
