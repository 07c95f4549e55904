//! Issue 25, points 2 and 3: a clip is found in the archive by its sound.
//!
//! Each test builds its own archive of synthesised Indonesian speech (espeak-ng), published
//! through the API; the job worker fingerprints the recordings; clips cut from them with ffmpeg
//! and degraded (re-encoded, noise, volume), spliced, cut, or made of speech the archive does
//! not hold are looked up through `service::fingerprint::find_clip`, the operation the
//! verification endpoint calls.
//!
//! `clip_finder_accuracy` runs once (SQLite), with `SIARAN_FP_EXCERPTS` excerpts of each kind
//! (20 by default; `scripts/test` runs it alone with 100, the count, and
//! docs/verification.md has that table); `published_excerpt_is_found` runs on both backends.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use serde_json::{Value, json};
use siaran::{
    db::{DbError, JobKind, JobState},
    domain::{EpisodeId, MediaId},
    service::fingerprint::{ClipReport, find_clip},
};
use tempfile::TempDir;

use crate::{
    helpers::{Backend, TestApp, sample_path},
    on_both_backends,
};

fn eager(s: &mut siaran::config::Settings) {
    s.jobs.workers = 1;
    s.jobs.poll = Duration::from_millis(100);
    s.jobs.retry_after = Duration::from_millis(50);
}

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().expect("the tool runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `text` spoken by espeak-ng into a WAV file.
fn speak(text: &str, voice: &str, speed: u32, pitch: u32, out: &Path) {
    let txt = out.with_extension("txt");
    std::fs::write(&txt, text).unwrap();
    run(Command::new("espeak-ng")
        .args([
            "-v",
            voice,
            "-s",
            &speed.to_string(),
            "-p",
            &pitch.to_string(),
            "-w",
        ])
        .arg(out)
        .arg("-f")
        .arg(&txt));
}

fn ffmpeg() -> Command {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-loglevel", "error", "-y"]);
    cmd
}

/// A reproducible generator (xorshift64*), so that the excerpts are the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Indonesian words a generated briefing is made of.
const WORDS: &[&str] = &[
    "pemerintah",
    "provinsi",
    "kabupaten",
    "kota",
    "warga",
    "masyarakat",
    "anggaran",
    "belanja",
    "daerah",
    "jalan",
    "jembatan",
    "sekolah",
    "rumah",
    "sakit",
    "puskesmas",
    "pelabuhan",
    "bandara",
    "sungai",
    "banjir",
    "kebakaran",
    "hutan",
    "lahan",
    "petani",
    "nelayan",
    "pasar",
    "harga",
    "beras",
    "minyak",
    "goreng",
    "listrik",
    "air",
    "bersih",
    "sampah",
    "pariwisata",
    "budaya",
    "pendidikan",
    "kesehatan",
    "perhubungan",
    "pertanian",
    "perikanan",
    "perkebunan",
    "sawit",
    "batu",
    "bara",
    "tambang",
    "izin",
    "usaha",
    "investasi",
    "pajak",
    "retribusi",
    "bantuan",
    "sosial",
    "keluarga",
    "miskin",
    "anak",
    "perempuan",
    "pemuda",
    "olahraga",
    "stadion",
    "gedung",
    "kantor",
    "gubernur",
    "bupati",
    "wali",
    "camat",
    "lurah",
    "desa",
    "kepala",
    "dinas",
    "badan",
    "rapat",
    "koordinasi",
    "program",
    "kegiatan",
    "pembangunan",
    "perbaikan",
    "pemeliharaan",
    "pengawasan",
    "pelayanan",
    "publik",
    "informasi",
    "keterbukaan",
    "laporan",
    "keuangan",
    "tahun",
    "bulan",
    "minggu",
    "hari",
    "pagi",
    "sore",
    "malam",
    "cepat",
    "lambat",
    "besar",
    "kecil",
    "baru",
    "lama",
    "penting",
    "mendesak",
    "segera",
    "tuntas",
    "selesai",
    "dimulai",
    "ditunda",
    "disetujui",
    "ditolak",
    "diusulkan",
    "dibahas",
    "diumumkan",
    "menyampaikan",
    "menegaskan",
    "menjelaskan",
    "meminta",
    "mengajak",
    "mendukung",
    "meningkatkan",
    "menurunkan",
    "memperbaiki",
    "membangun",
    "mengawasi",
    "melayani",
    "terima",
    "kasih",
    "semua",
    "pihak",
    "bersama",
    "gotong",
    "royong",
    "aman",
    "tertib",
    "lancar",
    "sehat",
    "sejahtera",
    "adil",
    "makmur",
    "Samarinda",
    "Balikpapan",
    "Bontang",
    "Kutai",
    "Berau",
    "Paser",
    "Mahakam",
    "Nusantara",
    "Kalimantan",
    "Timur",
    "Indonesia",
    "digital",
    "aplikasi",
    "layanan",
    "data",
    "satu",
    "dua",
    "tiga",
    "empat",
    "lima",
    "enam",
    "tujuh",
    "delapan",
    "sembilan",
    "sepuluh",
    "ratus",
    "ribu",
    "juta",
    "miliar",
    "rupiah",
    "persen",
    "kilometer",
    "hektare",
    "ton",
    "unit",
];

/// Sentences of 8–15 words from `WORDS` in a seeded order: text no other seed repeats.
fn generated_text(seed: u64, sentences: usize) -> String {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    (0..sentences)
        .map(|_| {
            let n = 8 + rng.below(8) as usize;
            let words: Vec<&str> = (0..n)
                .map(|_| WORDS[rng.below(WORDS.len() as u64) as usize])
                .collect();
            let mut s = words.join(" ");
            s[..1].make_ascii_uppercase();
            s + "."
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One briefing of the archive: the published MP3 and its episode.
struct Archived {
    episode: EpisodeId,
    media: MediaId,
    mp3: PathBuf,
    seconds: f64,
}

fn duration_s(path: &Path) -> f64 {
    let out = run(Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(path));
    String::from_utf8_lossy(&out).trim().parse().unwrap()
}

/// Speaks `text` and encodes it as the office would publish it (MP3, 96 kbit/s, 44.1 kHz
/// stereo), uploaded: the media record and the file.
async fn recorded(
    app: &TestApp,
    dir: &Path,
    name: &str,
    spoken: (&str, &str, u32, u32),
) -> (Value, PathBuf) {
    let (text, voice, speed, pitch) = spoken;
    let wav = dir.join(format!("{name}.wav"));
    speak(text, voice, speed, pitch, &wav);
    let mp3 = dir.join(format!("{name}.mp3"));
    run(ffmpeg()
        .arg("-i")
        .arg(&wav)
        .args([
            "-ar",
            "44100",
            "-ac",
            "2",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "96k",
        ])
        .arg(&mp3));
    let res = app
        .upload(&format!("{name}.mp3"), std::fs::read(&mp3).unwrap())
        .await;
    assert_eq!(res.status(), 201);
    (res.json().await.unwrap(), mp3)
}

fn media_of(media: &Value) -> MediaId {
    MediaId(media["id"].as_str().unwrap().parse().unwrap())
}

/// `recorded`, then an episode of show `show` with it, published an hour ago or a draft.
async fn publish(
    app: &TestApp,
    dir: &Path,
    show: &str,
    name: &str,
    spoken: (&str, &str, u32, u32),
    published: bool,
) -> Archived {
    let (media, mp3) = recorded(app, dir, name, spoken).await;
    let mut body = json!({"title": format!("Siaran pers {name}"), "media_id": media["id"]});
    if published {
        body["publish_at"] = json!((chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339());
    }
    let res = app
        .post_json(
            &format!("/api/v1/shows/{show}/episodes"),
            Some(&app.editor_token),
            &body,
        )
        .await;
    assert_eq!(res.status(), 201);
    let episode: Value = res.json().await.unwrap();
    Archived {
        episode: EpisodeId(episode["id"].as_str().unwrap().parse().unwrap()),
        media: media_of(&media),
        seconds: duration_s(&mp3),
        mp3,
    }
}

/// Waits until the fingerprint job of each of `media` is done.
async fn indexed(app: &TestApp, media: &[MediaId]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    for &m in media {
        loop {
            match app.state.ctx.db.job(JobKind::Fingerprint, m).await {
                Ok(job) if job.state == JobState::Done => break,
                Ok(job) => assert!(
                    job.state != JobState::Failed,
                    "fingerprint failed: {:?}",
                    job.error
                ),
                Err(DbError::NotFound) => {}
                Err(e) => panic!("{e}"),
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "not indexed in time"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// How an excerpt is degraded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    /// Opus, 24 kbit/s, mono.
    Opus,
    /// MP3, 32 kbit/s, 22.05 kHz mono.
    Mp3,
    /// Pink noise at 10 dB SNR, as 16-bit WAV.
    PinkNoise,
    /// +10 dB or −10 dB (alternately), as AAC 64 kbit/s.
    Volume,
}

const KINDS: [Kind; 4] = [Kind::Opus, Kind::Mp3, Kind::PinkNoise, Kind::Volume];

/// `seconds` of `src` from `start`, degraded as `kind` says, written under `dir`.
fn excerpt(src: &Path, start: f64, seconds: f64, kind: Kind, dir: &Path, n: usize) -> PathBuf {
    let cut = |cmd: &mut Command| {
        cmd.args([
            "-ss",
            &format!("{start:.3}"),
            "-t",
            &format!("{seconds:.3}"),
            "-i",
        ])
        .arg(src);
    };
    let mut cmd = ffmpeg();
    cut(&mut cmd);
    let out = match kind {
        Kind::Opus => {
            let out = dir.join(format!("x{n}.opus"));
            cmd.args(["-ac", "1", "-c:a", "libopus", "-b:a", "24k"]);
            out
        }
        Kind::Mp3 => {
            let out = dir.join(format!("x{n}.mp3"));
            cmd.args([
                "-ac",
                "1",
                "-ar",
                "22050",
                "-c:a",
                "libmp3lame",
                "-b:a",
                "32k",
            ]);
            out
        }
        Kind::Volume => {
            let out = dir.join(format!("x{n}.m4a"));
            let db = if n.is_multiple_of(2) { "10dB" } else { "-10dB" };
            cmd.args(["-af", &format!("volume={db}"), "-c:a", "aac", "-b:a", "64k"]);
            out
        }
        Kind::PinkNoise => {
            cmd.args(["-ac", "1", "-ar", "22050", "-f", "s16le", "-"]);
            let raw = run(&mut cmd);
            let out = dir.join(format!("x{n}.wav"));
            std::fs::write(&out, with_pink_noise(&raw, 10.0, n as u64 + 1)).unwrap();
            return out;
        }
    };
    run(cmd.arg(&out));
    out
}

/// 16-bit mono samples at 22.05 kHz with pink noise added at `snr_db` below their power, as a
/// WAV file. Pink noise: white noise through Paul Kellet's economy filter (−3 dB/octave).
fn with_pink_noise(raw: &[u8], snr_db: f64, seed: u64) -> Vec<u8> {
    let speech: Vec<f64> = raw
        .chunks_exact(2)
        .map(|c| f64::from(i16::from_le_bytes([c[0], c[1]])))
        .collect();
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let (mut b0, mut b1, mut b2) = (0.0, 0.0, 0.0);
    let noise: Vec<f64> = speech
        .iter()
        .map(|_| {
            let white = rng.unit() * 2.0 - 1.0;
            b0 = 0.99765 * b0 + white * 0.0990460;
            b1 = 0.96300 * b1 + white * 0.2965164;
            b2 = 0.57000 * b2 + white * 1.0526913;
            b0 + b1 + b2 + white * 0.1848
        })
        .collect();
    let power = |x: &[f64]| x.iter().map(|s| s * s).sum::<f64>() / x.len().max(1) as f64;
    let gain = (power(&speech) / power(&noise) / 10f64.powf(snr_db / 10.0)).sqrt();
    let samples: Vec<i16> = speech
        .iter()
        .zip(&noise)
        .map(|(s, n)| (s + n * gain).clamp(-32768.0, 32767.0) as i16)
        .collect();
    let data = samples.len() as u32 * 2;
    let mut wav = b"RIFF".to_vec();
    wav.extend((36 + data).to_le_bytes());
    wav.extend(b"WAVEfmt ");
    wav.extend(16u32.to_le_bytes());
    wav.extend([1, 0, 1, 0]);
    wav.extend(22_050u32.to_le_bytes());
    wav.extend(44_100u32.to_le_bytes());
    wav.extend([2, 0, 16, 0]);
    wav.extend(b"data");
    wav.extend(data.to_le_bytes());
    wav.extend(samples.iter().flat_map(|s| s.to_le_bytes()));
    wav
}

/// Concatenates `parts` (file, start, seconds) into one MP3 (64 kbit/s).
fn joined(parts: &[(&Path, f64, f64)], out: &Path) {
    let mut cmd = ffmpeg();
    for (src, start, seconds) in parts {
        cmd.args([
            "-ss",
            &format!("{start:.3}"),
            "-t",
            &format!("{seconds:.3}"),
            "-i",
        ])
        .arg(src);
    }
    let inputs: String = (0..parts.len()).map(|i| format!("[{i}:a]")).collect();
    cmd.args([
        "-filter_complex",
        &format!(
            "{inputs}concat=n={}:v=0:a=1,aformat=channel_layouts=mono[out]",
            parts.len()
        ),
        "-map",
        "[out]",
        "-c:a",
        "libmp3lame",
        "-b:a",
        "64k",
    ])
    .arg(out);
    run(&mut cmd);
}

/// Whether the report's longest stretch is of `episode` with the clip starting at `start_s` of
/// it, within half a second.
fn found_at(report: &ClipReport, episode: EpisodeId, start_s: f64) -> bool {
    let Some(best) = report
        .matches
        .iter()
        .max_by_key(|m| m.clip_end_ms - m.clip_start_ms)
    else {
        return false;
    };
    let clip_start_in_episode = best.episode_start_ms as f64 - best.clip_start_ms as f64;
    best.episode == episode && (clip_start_in_episode - start_s * 1000.0).abs() <= 500.0
}

fn describe(report: &ClipReport) -> String {
    let m: Vec<String> = report
        .matches
        .iter()
        .map(|m| {
            format!(
                "{}..{} ms of {} at {}..{} ({:.3})",
                m.clip_start_ms,
                m.clip_end_ms,
                &m.episode.to_string()[28..],
                m.episode_start_ms,
                m.episode_end_ms,
                m.score
            )
        })
        .collect();
    format!(
        "[{}] unmatched {:?} cuts {} edited {}",
        m.join("; "),
        report
            .unmatched
            .iter()
            .map(|u| (u.clip_start_ms, u.clip_end_ms))
            .collect::<Vec<_>>(),
        report.cuts.len(),
        report.edited
    )
}

/// The archive of `clip_finder_accuracy`: the sample briefing and generated ones, at several
/// speeds and pitches.
async fn accuracy_archive(app: &TestApp, dir: &Path) -> Vec<Archived> {
    let sample = std::fs::read_to_string(sample_path("sample-briefing-id.txt")).unwrap();
    let texts = [
        (sample, "id", 160, 50),
        (generated_text(1, 40), "id", 150, 40),
        (generated_text(2, 40), "id", 175, 60),
        (generated_text(3, 40), "id+m3", 140, 45),
        (generated_text(4, 40), "id", 165, 35),
        (generated_text(5, 40), "id+f2", 155, 55),
    ];
    app.create_show("arsip").await;
    let mut archive = Vec::new();
    for (i, (text, voice, speed, pitch)) in texts.iter().enumerate() {
        archive.push(
            publish(
                app,
                dir,
                "arsip",
                &format!("b{i}"),
                (text, voice, *speed, *pitch),
                true,
            )
            .await,
        );
    }
    let media: Vec<MediaId> = archive.iter().map(|a| a.media).collect();
    indexed(app, &media).await;
    archive
}

async fn clip_finder_accuracy_on(backend: Backend) {
    let per_kind: usize = std::env::var("SIARAN_FP_EXCERPTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    let app = TestApp::spawn_with(backend, eager).await;
    let dir = TempDir::new().unwrap();
    let archive = accuracy_archive(&app, dir.path()).await;
    let ctx = &app.state.ctx;
    let minutes: f64 = archive.iter().map(|a| a.seconds).sum::<f64>() / 60.0;

    // Excerpts of 10 s from random points, degraded four ways.
    let mut rng = Rng(0x5EED_2025);
    let mut hits: HashMap<Kind, usize> = HashMap::new();
    let mut misses: Vec<String> = Vec::new();
    let mut n = 0;
    for kind in KINDS {
        for _ in 0..per_kind {
            let a = &archive[rng.below(archive.len() as u64) as usize];
            let start = rng.unit() * (a.seconds - 10.5);
            let clip = excerpt(&a.mp3, start, 10.0, kind, dir.path(), n);
            n += 1;
            let report = find_clip(ctx, &clip).await.expect("looked up");
            if found_at(&report, a.episode, start) {
                *hits.entry(kind).or_default() += 1;
            } else {
                misses.push(format!("{kind:?} at {start:.2} s: {}", describe(&report)));
            }
        }
    }

    // Speech the archive does not hold: other texts, other voices, other pitches and speeds.
    let voices = [
        ("id", 150, 70),
        ("id", 185, 30),
        ("id+f4", 160, 50),
        ("ms", 160, 50),
        ("en", 160, 50),
        ("ms", 140, 65),
    ];
    let mut false_matches = Vec::new();
    for i in 0..per_kind {
        let (voice, speed, pitch) = voices[i % voices.len()];
        let wav = dir.path().join(format!("f{i}.wav"));
        speak(
            &generated_text(100 + i as u64, 4),
            voice,
            speed,
            pitch,
            &wav,
        );
        let clip = excerpt(&wav, 0.0, 10.0, Kind::Opus, dir.path(), n);
        n += 1;
        let report = find_clip(ctx, &clip).await.expect("looked up");
        if !report.matches.is_empty() {
            false_matches.push(format!("{voice} {speed} {pitch}: {}", describe(&report)));
        }
        assert!(
            report.clip_ms > 5_000,
            "the clip was decoded: {}",
            report.clip_ms
        );
    }

    eprintln!(
        "clip finder accuracy: archive of {} briefings, {minutes:.1} min; {per_kind} per kind",
        archive.len()
    );
    for kind in KINDS {
        eprintln!(
            "  {kind:?}: {}/{per_kind} found",
            hits.get(&kind).copied().unwrap_or(0)
        );
    }
    eprintln!(
        "  not in the archive: {}/{per_kind} with no match",
        per_kind - false_matches.len()
    );
    for m in misses.iter().chain(&false_matches) {
        eprintln!("    {m}");
    }
    for kind in KINDS {
        let found = hits.get(&kind).copied().unwrap_or(0);
        assert!(
            found * 100 >= per_kind * 95,
            "{kind:?}: {found}/{per_kind} found: {misses:#?}"
        );
    }
    assert!(false_matches.is_empty(), "{false_matches:#?}");

    // A clip spliced from two briefings: two stretches, in clip order.
    let (a, b) = (&archive[1], &archive[2]);
    let spliced = dir.path().join("spliced.mp3");
    joined(&[(&a.mp3, 20.0, 6.0), (&b.mp3, 40.0, 6.0)], &spliced);
    let report = find_clip(ctx, &spliced).await.unwrap();
    eprintln!("  spliced: {}", describe(&report));
    assert_eq!(report.matches.len(), 2, "{}", describe(&report));
    let (m0, m1) = (&report.matches[0], &report.matches[1]);
    assert_eq!((m0.episode, m1.episode), (a.episode, b.episode));
    assert!(m0.clip_start_ms < 1000 && m1.clip_start_ms.abs_diff(6000) <= 1000);
    assert!(m0.episode_start_ms.abs_diff(20_000) <= 1000);
    assert!((m1.episode_start_ms as i64 - m1.clip_start_ms as i64 - 34_000).abs() <= 500);
    assert!(report.edited);

    // 3 s cut out of the middle: two stretches of one episode, the cut at 5 s (±1 s), the
    // missing part 25–28 s of the episode.
    let c = &archive[0];
    let cut = dir.path().join("cut.mp3");
    joined(&[(&c.mp3, 20.0, 5.0), (&c.mp3, 28.0, 5.0)], &cut);
    let report = find_clip(ctx, &cut).await.unwrap();
    eprintln!("  3 s cut: {}", describe(&report));
    assert!(report.edited);
    assert_eq!(report.cuts.len(), 1, "{}", describe(&report));
    let gap = &report.cuts[0];
    assert_eq!(gap.episode, c.episode);
    assert!(gap.clip_at_ms.abs_diff(5000) <= 1000, "{gap:?}");
    assert!(gap.episode_start_ms.abs_diff(25_000) <= 1000, "{gap:?}");
    assert!(gap.episode_end_ms.abs_diff(28_000) <= 1000, "{gap:?}");
    assert!(report.matches.iter().all(|m| m.episode == c.episode));

    // Two parts swapped: a stretch out of order, reported as a cut with an empty range.
    let swapped = dir.path().join("swapped.mp3");
    joined(&[(&c.mp3, 70.0, 5.0), (&c.mp3, 60.0, 5.0)], &swapped);
    let report = find_clip(ctx, &swapped).await.unwrap();
    eprintln!("  swapped: {}", describe(&report));
    assert!(report.edited);
    assert_eq!(report.cuts.len(), 1, "{}", describe(&report));
    let back = &report.cuts[0];
    assert_eq!(back.episode_start_ms, back.episode_end_ms);
    assert!(back.episode_start_ms.abs_diff(60_000) <= 1000, "{back:?}");
    assert!(back.clip_at_ms.abs_diff(5000) <= 1000, "{back:?}");

    // Speech inserted between two parts of a briefing is unmatched, where it is.
    let other = dir.path().join("other.wav");
    speak(&generated_text(999, 3), "id", 150, 70, &other);
    let inserted = dir.path().join("inserted.mp3");
    joined(
        &[(&c.mp3, 50.0, 5.0), (&other, 0.0, 5.0), (&c.mp3, 55.0, 5.0)],
        &inserted,
    );
    let report = find_clip(ctx, &inserted).await.unwrap();
    eprintln!("  5 s inserted: {}", describe(&report));
    assert!(report.edited);
    assert_eq!(report.unmatched.len(), 1, "{}", describe(&report));
    let u = &report.unmatched[0];
    assert!(
        u.clip_start_ms.abs_diff(5000) <= 1500 && u.clip_end_ms.abs_diff(10_000) <= 1500,
        "{u:?}"
    );
    assert!(report.matches.iter().all(|m| m.episode == c.episode));
    assert!(
        report.cuts.is_empty(),
        "nothing of the episode is missing: {}",
        describe(&report)
    );

    // A continuous excerpt is not "edited".
    let plain = excerpt(&c.mp3, 30.0, 10.0, Kind::Opus, dir.path(), n);
    let report = find_clip(ctx, &plain).await.unwrap();
    assert!(!report.edited, "{}", describe(&report));
    assert_eq!(report.matches.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clip_finder_accuracy() {
    clip_finder_accuracy_on(Backend::SqliteFs).await;
}

on_both_backends!(published_excerpt_is_found);
async fn published_excerpt_is_found(backend: Backend) {
    let app = TestApp::spawn_with(backend, eager).await;
    let dir = TempDir::new().unwrap();
    app.create_show("pemprov").await;
    let draft = publish(
        &app,
        dir.path(),
        "pemprov",
        "draft",
        (&generated_text(7, 10), "id", 160, 50),
        false,
    )
    .await;
    // A draft's recording is not indexed at all.
    let job = app
        .state
        .ctx
        .db
        .job(JobKind::Fingerprint, draft.media)
        .await;
    assert!(matches!(job, Err(DbError::NotFound)), "{job:?}");
    let clip = excerpt(&draft.mp3, 8.0, 10.0, Kind::Opus, dir.path(), 0);
    let report = find_clip(&app.state.ctx, &clip).await.unwrap();
    assert!(report.matches.is_empty() && !report.unmatched.is_empty());
    assert!(!report.edited, "no edit is claimed without a match");

    // Published through the API: its fingerprint job runs, and an excerpt is found in it.
    let res = app
        .http
        .post(app.url(&format!("/api/v1/episodes/{}/publish", draft.episode)))
        .bearer_auth(&app.editor_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    indexed(&app, &[draft.media]).await;
    let report = find_clip(&app.state.ctx, &clip).await.unwrap();
    assert!(
        found_at(&report, draft.episode, 8.0),
        "{}",
        describe(&report)
    );
    assert!(
        !report.edited && report.unmatched.is_empty(),
        "{}",
        describe(&report)
    );
    assert!(report.clip_ms.abs_diff(10_000) < 100, "{}", report.clip_ms);
    assert!(app.count_rows("fingerprint_postings").await > 0);

    // The same clip through the public API: its stretch named with the episode, linked at its
    // moment, nothing claimed as edited.
    let res = app
        .http
        .post(app.url("/api/v1/verify"))
        .header("accept-language", "en")
        .body(std::fs::read(&clip).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["exact"], false, "{answer}");
    assert_eq!(answer["edited"], false, "{answer}");
    let stretch = &answer["matches"][0];
    assert_eq!(stretch["episode_id"], draft.episode.to_string(), "{answer}");
    let start = stretch["episode_start_ms"].as_u64().unwrap();
    assert!(start.abs_diff(8_000) <= 500, "{answer}");
    let url = stretch["url"].as_str().unwrap();
    assert!(url.ends_with(&format!("#t={}", start / 1000)), "{url}");
    assert!(
        answer["summary"]
            .as_str()
            .unwrap()
            .contains("Siaran pers draft"),
        "{answer}"
    );

    // A new recording replaces the old one: indexed in turn, and the old one no longer found.
    let (new, new_mp3) = recorded(
        &app,
        dir.path(),
        "replaced",
        (&generated_text(8, 10), "id", 150, 45),
    )
    .await;
    let res = app
        .http
        .patch(app.url(&format!("/api/v1/episodes/{}", draft.episode)))
        .bearer_auth(&app.editor_token)
        .json(&json!({"media_id": new["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    indexed(&app, &[media_of(&new)]).await;
    let report = find_clip(&app.state.ctx, &clip).await.unwrap();
    assert!(report.matches.is_empty(), "{}", describe(&report));
    let clip = excerpt(&new_mp3, 5.0, 10.0, Kind::Mp3, dir.path(), 1);
    let report = find_clip(&app.state.ctx, &clip).await.unwrap();
    assert!(
        found_at(&report, draft.episode, 5.0),
        "{}",
        describe(&report)
    );

    // A video clip (H.264 and AAC in MP4): its audio track is looked up.
    let video = dir.path().join("clip.mp4");
    run(ffmpeg()
        .args(["-f", "lavfi", "-i", "color=c=blue:size=160x120:rate=10"])
        .args(["-ss", "12", "-t", "10", "-i"])
        .arg(&new_mp3)
        .args([
            "-shortest",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "64k",
        ])
        .arg(&video));
    let report = find_clip(&app.state.ctx, &video).await.unwrap();
    assert!(
        found_at(&report, draft.episode, 12.0),
        "{}",
        describe(&report)
    );

    // Withdrawn, it is no longer found.
    let res = app
        .http
        .put(app.url(&format!("/api/v1/episodes/{}/withdrawal", draft.episode)))
        .bearer_auth(&app.editor_token)
        .json(&json!({"reason": "Data anggaran keliru"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let report = find_clip(&app.state.ctx, &clip).await.unwrap();
    assert!(report.matches.is_empty(), "{}", describe(&report));

    // Not audio at all: refused with a reason.
    let junk = dir.path().join("junk.mp3");
    std::fs::write(&junk, b"this is not a recording").unwrap();
    assert!(find_clip(&app.state.ctx, &junk).await.is_err());
}
