//! `siaran-bench probe`: how fast and how exact `siaran probe` is, measured against ffprobe in the
//! same run on the same files, and how much memory it needs for a large file.
//!
//! Owns measurement only. It calls `media::probe_file` and `media::probe::sha256_file` in process
//! and spawns this binary, ffprobe and ffmpeg; it must not change what probing does. Fixtures are
//! made with ffmpeg in a temporary folder that is removed afterwards.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use serde::Serialize;

use siaran::media::{self, MediaInfo};

#[derive(Debug, clap::Args)]
pub struct BenchProbeArgs {
    /// Spawns of each command per file; the commands take turns so that drift hits all alike.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: u32,
    /// In-process `probe_file` calls per file (stops early after 3 s).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    pub probe_runs: u32,
    /// Bench these files instead of the generated fixtures.
    #[arg(long, num_args = 1..)]
    pub file: Vec<PathBuf>,
    /// Also write a ~2 GiB MP3 (copies of the 60-minute one) to the temp folder and measure the
    /// peak memory of `siaran probe` on it. Set TMPDIR to choose the disk.
    #[arg(long)]
    pub big: bool,
    /// Size of the `--big` file in MiB.
    #[arg(long, default_value_t = 2048, value_parser = clap::value_parser!(u64).range(1..))]
    pub big_mib: u64,
    /// The recording the fixtures are encoded from.
    #[arg(long, default_value = "media/briefing-demo.mp3")]
    pub source: PathBuf,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Internal: what `siaran probe FILE` does to this one file, its `MediaInfo` printed as JSON
    /// (what each timed run spawns).
    #[arg(long, hide = true)]
    pub one: Option<PathBuf>,
}

/// A file ffmpeg makes from the source recording.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fixture {
    pub name: &'static str,
    /// ffmpeg options before `-i`.
    pub input: &'static [&'static str],
    /// ffmpeg options before the output file.
    pub output: &'static [&'static str],
}

/// The 60-minute VBR MP3 without a Xing header: 22 plays of the 167 s demo, about 61 minutes.
pub(crate) const LONG_MP3: Fixture = Fixture {
    name: "vbr-no-xing-61min.mp3",
    input: &["-stream_loop", "21"],
    output: &["-c:a", "libmp3lame", "-q:a", "5", "-write_xing", "0"],
};

/// Formats whose duration is in a header, encoded from the demo as it is (167 s): their probe
/// time does not grow with length (pass longer files with `--file` to check), and encoding an
/// hour of AAC takes about a minute here.
const HEADER_FIXTURES: &[Fixture] = &[
    Fixture {
        name: "aac.m4a",
        input: &[],
        output: &["-c:a", "aac"],
    },
    Fixture {
        name: "flac.flac",
        input: &[],
        output: &["-c:a", "flac"],
    },
    Fixture {
        name: "pcm.wav",
        input: &[],
        output: &["-c:a", "pcm_s16le"],
    },
    Fixture {
        name: "opus.opus",
        input: &[],
        output: &["-c:a", "libopus"],
    },
    Fixture {
        name: "vorbis.ogg",
        input: &[],
        output: &["-c:a", "libvorbis"],
    },
];

/// Peak memory must stay under this for any file size.
const FLAT_MEMORY_KIB: u64 = 32 * 1024;

#[derive(Debug, Serialize)]
struct Report {
    date: String,
    build: &'static str,
    runs: u32,
    files: Vec<FileReport>,
    big: Option<BigReport>,
}

#[derive(Debug, Serialize)]
struct FileReport {
    name: String,
    size_bytes: u64,
    container: String,
    codec: Option<String>,
    /// Seconds of audio as each tool reports them; `decoded` is ffmpeg's full decode.
    duration_s: Durations,
    /// Wall time of the whole process, page cache warm.
    subprocess: SubprocessTimes,
    /// `siaran probe` median / `ffprobe -count_packets` median.
    ratio_vs_count_packets: f64,
    in_process: InProcess,
    /// Peak resident memory of `siaran probe` on this file.
    siaran_peak_rss_kib: u64,
}

#[derive(Debug, Serialize)]
struct Durations {
    decoded: Option<f64>,
    siaran: f64,
    ffprobe_count_packets: Option<f64>,
    ffprobe: Option<f64>,
}

#[derive(Debug, Serialize)]
struct SubprocessTimes {
    siaran_probe: Stat,
    ffprobe_count_packets: Stat,
    ffprobe: Stat,
}

#[derive(Debug, Serialize)]
struct InProcess {
    /// `media::probe_file` alone: what the service does besides hashing.
    probe_file: Stat,
    probe_file_runs: usize,
    /// `sha256_file`, which `siaran probe` also runs over the whole file.
    sha256_file: Stat,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct Stat {
    pub median_ms: f64,
    pub min_ms: f64,
}

impl Stat {
    pub(crate) fn of(samples: &[Duration]) -> Stat {
        let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        let mid = ms.len() / 2;
        let median_ms = if ms.len().is_multiple_of(2) {
            (ms[mid - 1] + ms[mid]) / 2.0
        } else {
            ms[mid]
        };
        Stat {
            median_ms,
            min_ms: ms[0],
        }
    }
}

#[derive(Debug, Serialize)]
struct BigReport {
    size_bytes: u64,
    copies: u64,
    siaran_duration_s: f64,
    /// The copies' durations added up, as siaran measures one copy.
    expected_duration_s: f64,
    siaran_probe_ms: f64,
    siaran_peak_rss_kib: u64,
    ffprobe_count_packets_ms: f64,
    ffprobe_count_packets_peak_rss_kib: u64,
    flat: bool,
}

/// Runs the benchmark and prints the report on stdout; progress goes to stderr.
pub fn probe(args: &BenchProbeArgs) -> anyhow::Result<()> {
    if let Some(file) = &args.one {
        let sha256 = media::probe::sha256_file(file)?;
        let info = MediaInfo {
            sha256,
            ..media::probe_file(file)?
        };
        writeln!(io::stdout().lock(), "{}", serde_json::to_string(&info)?)?;
        return Ok(());
    }
    crate::require_tools(&["ffmpeg", "ffprobe"])?;
    let exe = std::env::current_exe().context("cannot find this binary")?;
    let dir = tempfile::TempDir::new().context("cannot create a temp folder")?;

    let mut files = args.file.clone();
    let mut long_mp3 = None;
    if files.is_empty() || args.big {
        let source = source_path(&args.source)?;
        let long = make_fixture(&source, dir.path(), LONG_MP3)?;
        long_mp3 = Some(long.clone());
        if files.is_empty() {
            files.push(long);
            for fixture in HEADER_FIXTURES {
                files.push(make_fixture(&source, dir.path(), *fixture)?);
            }
        }
    }

    let mut reports = Vec::new();
    for path in &files {
        reports.push(bench_file(&exe, path, dir.path(), args)?);
    }
    let big = match (&long_mp3, args.big) {
        (Some(long), true) => Some(bench_big(&exe, long, dir.path(), args.big_mib)?),
        _ => None,
    };
    let (date, build) = crate::stamp();
    let report = Report {
        date,
        build,
        runs: args.runs,
        files: reports,
        big,
    };
    let text = if args.json {
        serde_json::to_string_pretty(&report)? + "\n"
    } else {
        table(&report)
    };
    // A reader that went away (`| head`) is not worth the panic `print!` would give.
    match io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// The source as given, or the repository's copy when run from elsewhere.
pub(crate) fn source_path(given: &Path) -> anyhow::Result<PathBuf> {
    if given.exists() {
        return Ok(given.to_owned());
    }
    let in_repo = Path::new(env!("CARGO_MANIFEST_DIR")).join(given);
    ensure!(
        in_repo.exists(),
        "cannot find {}; pass --source or --file",
        given.display()
    );
    Ok(in_repo)
}

pub(crate) fn make_fixture(source: &Path, dir: &Path, fixture: Fixture) -> anyhow::Result<PathBuf> {
    let out = dir.join(fixture.name);
    eprintln!("making {}", fixture.name);
    let output = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(fixture.input)
        .arg("-i")
        .arg(source)
        .args(fixture.output)
        .arg(&out)
        .output()?;
    ensure!(
        output.status.success(),
        "ffmpeg could not make {}: {}",
        fixture.name,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(out)
}

fn bench_file(
    exe: &Path,
    path: &Path,
    scratch: &Path,
    args: &BenchProbeArgs,
) -> anyhow::Result<FileReport> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    eprintln!("benching {name}");

    let mut siaran = Command::new(exe);
    siaran.args(["probe", "--one"]).arg(path);
    let mut count_packets = Command::new("ffprobe");
    count_packets
        .args(["-v", "error", "-select_streams", "a:0", "-count_packets"])
        .args([
            "-show_entries",
            "stream=nb_read_packets,duration,sample_rate,codec_name",
        ])
        .args(["-of", "json"])
        .arg(path);
    let mut estimate = Command::new("ffprobe");
    estimate
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "json",
        ])
        .arg(path);

    // One untimed round warms the page cache for everyone and gives each tool's answer.
    let info: MediaInfo = serde_json::from_slice(&run_ok(&mut siaran)?.stdout)
        .context("siaran probe printed something that is not MediaInfo")?;
    let counted: serde_json::Value = serde_json::from_slice(&run_ok(&mut count_packets)?.stdout)?;
    let estimated: serde_json::Value = serde_json::from_slice(&run_ok(&mut estimate)?.stdout)?;

    let mut times = [Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..args.runs {
        for (cmd, samples) in [&mut siaran, &mut count_packets, &mut estimate]
            .into_iter()
            .zip(times.iter_mut())
        {
            let start = Instant::now();
            run_ok(cmd)?;
            samples.push(start.elapsed());
        }
    }
    let subprocess = SubprocessTimes {
        siaran_probe: Stat::of(&times[0]),
        ffprobe_count_packets: Stat::of(&times[1]),
        ffprobe: Stat::of(&times[2]),
    };

    let (probe_samples, in_process_info) = time_probe_file(path, args.probe_runs)?;
    let mut hash_samples = Vec::new();
    for _ in 0..args.runs.min(10) {
        let start = Instant::now();
        media::probe::sha256_file(path)?;
        hash_samples.push(start.elapsed());
    }
    ensure!(
        in_process_info.duration_ms == info.duration_ms,
        "probe_file and siaran probe disagree on {name}"
    );

    let (siaran_peak_rss_kib, _) = peak_rss_kib(&mut siaran, scratch)?;
    Ok(FileReport {
        name,
        size_bytes: info.size_bytes,
        container: info.container.clone(),
        codec: info.audio.as_ref().map(|a| a.codec.clone()),
        duration_s: Durations {
            decoded: decoded_seconds(path)?,
            siaran: info.duration_ms as f64 / 1e3,
            ffprobe_count_packets: counted_seconds(&counted),
            ffprobe: json_f64(&estimated["format"]["duration"]),
        },
        ratio_vs_count_packets: subprocess.siaran_probe.median_ms
            / subprocess.ffprobe_count_packets.median_ms,
        subprocess,
        in_process: InProcess {
            probe_file: Stat::of(&probe_samples),
            probe_file_runs: probe_samples.len(),
            sha256_file: Stat::of(&hash_samples),
        },
        siaran_peak_rss_kib,
    })
}

/// `probe_file` up to `runs` times, or until 3 s have gone by (at least 5 times).
fn time_probe_file(path: &Path, runs: u32) -> anyhow::Result<(Vec<Duration>, MediaInfo)> {
    let info = media::probe_file(path)?;
    let begun = Instant::now();
    let mut samples = Vec::new();
    while samples.len() < runs as usize
        && (samples.len() < 5 || begun.elapsed() < Duration::from_secs(3))
    {
        let start = Instant::now();
        std::hint::black_box(media::probe_file(path)?);
        samples.push(start.elapsed());
    }
    Ok((samples, info))
}

/// The truth: ffmpeg decodes the first audio stream to 48 kHz mono s16 and the bytes are counted.
fn decoded_seconds(path: &Path) -> anyhow::Result<Option<f64>> {
    let mut child = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args([
            "-map", "0:a:0", "-f", "s16le", "-ac", "1", "-ar", "48000", "-",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let bytes = io::copy(
        &mut child.stdout.take().context("no ffmpeg stdout")?,
        &mut io::sink(),
    )?;
    Ok(child
        .wait()?
        .success()
        .then_some(bytes as f64 / 2.0 / 48_000.0))
}

/// ffprobe's exact answer: for MP3 the packets it counted times the samples per frame (1,152 for
/// MPEG-1, 576 for MPEG-2 and 2.5 at 24 kHz and below); for the others the stream duration it
/// printed alongside.
fn counted_seconds(counted: &serde_json::Value) -> Option<f64> {
    let stream = &counted["streams"][0];
    let packets = json_f64(&stream["nb_read_packets"]);
    let rate = json_f64(&stream["sample_rate"]);
    match (stream["codec_name"].as_str(), packets, rate) {
        (Some("mp3"), Some(packets), Some(rate)) if rate > 0.0 => {
            let per_frame = if rate >= 32_000.0 { 1152.0 } else { 576.0 };
            Some(packets * per_frame / rate)
        }
        _ => json_f64(&stream["duration"]),
    }
}

/// ffprobe prints numbers as strings.
fn json_f64(value: &serde_json::Value) -> Option<f64> {
    value.as_str()?.parse().ok()
}

pub(crate) fn run_ok(cmd: &mut Command) -> anyhow::Result<Output> {
    let output = cmd.stdin(Stdio::null()).output()?;
    if !output.status.success() {
        bail!(
            "{:?} failed: {}",
            cmd.get_program(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(output)
}

/// Peak resident memory (KiB) and wall time of `cmd`: GNU time's `%M` where it is installed,
/// else `VmHWM` polled from `/proc` (which can miss growth in the last few milliseconds).
pub(crate) fn peak_rss_kib(cmd: &mut Command, scratch: &Path) -> anyhow::Result<(u64, Duration)> {
    let gnu_time = Path::new("/usr/bin/time");
    if gnu_time.exists() {
        let out = scratch.join(".peak-rss");
        let mut timed = Command::new(gnu_time);
        timed
            .args(["-f", "%M", "-o"])
            .arg(&out)
            .arg(cmd.get_program())
            .args(cmd.get_args());
        let start = Instant::now();
        run_ok(&mut timed)?;
        let elapsed = start.elapsed();
        let text = fs::read_to_string(&out)?;
        fs::remove_file(&out)?;
        let kib = text
            .lines()
            .last()
            .and_then(|l| l.trim().parse().ok())
            .context("cannot read /usr/bin/time's output")?;
        return Ok((kib, elapsed));
    }
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let status = loop {
        if let Some(hwm) = fs::read_to_string(&status_path)
            .ok()
            .and_then(|s| vm_hwm_kib(&s))
        {
            peak = peak.max(hwm);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    ensure!(status.success(), "{:?} failed", cmd.get_program());
    Ok((peak, start.elapsed()))
}

fn vm_hwm_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Writes copies of `long_mp3` until the file reaches `mib` MiB: its leading ID3 tag once, then
/// only the MPEG frames of each copy, so the result is one valid stream of frames.
fn bench_big(exe: &Path, long_mp3: &Path, dir: &Path, mib: u64) -> anyhow::Result<BigReport> {
    let mut bytes = Vec::new();
    File::open(long_mp3)?.read_to_end(&mut bytes)?;
    let tag = id3v2_len(&bytes).min(bytes.len());
    let end = if bytes.len() >= tag + 128 && bytes[bytes.len() - 128..].starts_with(b"TAG") {
        bytes.len() - 128
    } else {
        bytes.len()
    };
    let frames = &bytes[tag..end];
    ensure!(
        !frames.is_empty(),
        "no MPEG frames in {}",
        long_mp3.display()
    );
    let target = mib * 1024 * 1024;
    let copies = target
        .saturating_sub(tag as u64)
        .div_ceil(frames.len() as u64);
    let big = dir.join("big.mp3");
    eprintln!("writing {} ({copies} copies)", big.display());
    let mut out = BufWriter::new(File::create(&big)?);
    out.write_all(&bytes[..tag])?;
    for _ in 0..copies {
        out.write_all(frames)?;
    }
    out.into_inner()?.sync_all()?;
    let size_bytes = fs::metadata(&big)?.len();
    drop(bytes);

    let one_copy_ms = media::probe_file(long_mp3)?.duration_ms;
    eprintln!("probing the big file");
    let mut siaran = Command::new(exe);
    siaran.args(["probe", "--one"]).arg(&big);
    let (siaran_peak_rss_kib, siaran_time) = peak_rss_kib(&mut siaran, dir)?;
    let info: MediaInfo = serde_json::from_slice(&run_ok(&mut siaran)?.stdout)?;
    let mut count_packets = Command::new("ffprobe");
    count_packets
        .args(["-v", "error", "-select_streams", "a:0", "-count_packets"])
        .args([
            "-show_entries",
            "stream=nb_read_packets,duration",
            "-of",
            "json",
        ])
        .arg(&big);
    let (ffprobe_peak, ffprobe_time) = peak_rss_kib(&mut count_packets, dir)?;
    fs::remove_file(&big)?;

    Ok(BigReport {
        size_bytes,
        copies,
        siaran_duration_s: info.duration_ms as f64 / 1e3,
        expected_duration_s: (one_copy_ms * copies) as f64 / 1e3,
        siaran_probe_ms: siaran_time.as_secs_f64() * 1e3,
        siaran_peak_rss_kib,
        ffprobe_count_packets_ms: ffprobe_time.as_secs_f64() * 1e3,
        ffprobe_count_packets_peak_rss_kib: ffprobe_peak,
        flat: siaran_peak_rss_kib < FLAT_MEMORY_KIB,
    })
}

/// Length of a leading ID3v2 tag (header, synchsafe size, optional footer), or 0.
fn id3v2_len(bytes: &[u8]) -> usize {
    match bytes {
        [b'I', b'D', b'3', _, _, flags, s0, s1, s2, s3, ..] => {
            let size = [s0, s1, s2, s3]
                .iter()
                .fold(0usize, |acc, &&b| (acc << 7) | usize::from(b & 0x7f));
            let footer = if flags & 0x10 != 0 { 10 } else { 0 };
            10 + size + footer
        }
        _ => 0,
    }
}

fn table(report: &Report) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let w = report
        .files
        .iter()
        .map(|f| f.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(
        s,
        "siaran-bench probe, {}, {} build, {} interleaved runs per command, warm page cache\n",
        report.date, report.build, report.runs
    );

    let _ = writeln!(
        s,
        "Duration (s; error against the full decode)\n{:<w$}  {:>9}  {:>18}  {:>22}  {:>18}",
        "file", "decoded", "siaran", "ffprobe -count_pkts", "ffprobe (estimate)"
    );
    for f in &report.files {
        let d = &f.duration_s;
        let _ = writeln!(
            s,
            "{:<w$}  {:>9}  {:>18}  {:>22}  {:>18}",
            f.name,
            d.decoded.map_or("-".into(), |x| format!("{x:.3}")),
            with_error(Some(d.siaran), d.decoded),
            with_error(d.ffprobe_count_packets, d.decoded),
            with_error(d.ffprobe, d.decoded),
        );
    }

    let _ = writeln!(
        s,
        "\nWall time of one process (ms, median / min)\n{:<w$}  {:>9}  {:>15}  {:>22}  {:>15}  {:>8}",
        "file", "size", "siaran probe", "ffprobe -count_pkts", "ffprobe", "ratio"
    );
    for f in &report.files {
        let t = &f.subprocess;
        let _ = writeln!(
            s,
            "{:<w$}  {:>9}  {:>15}  {:>22}  {:>15}  {:>8.2}",
            f.name,
            mib(f.size_bytes),
            pair(t.siaran_probe),
            pair(t.ffprobe_count_packets),
            pair(t.ffprobe),
            f.ratio_vs_count_packets,
        );
    }
    let _ = writeln!(
        s,
        "ratio = siaran probe / ffprobe -count_packets (medians); siaran probe also hashes the file"
    );

    let _ = writeln!(
        s,
        "\nIn process, no start-up (ms, median / min)\n{:<w$}  {:>22}  {:>15}  {:>16}",
        "file", "probe_file", "sha256_file", "siaran peak RSS"
    );
    for f in &report.files {
        let p = &f.in_process;
        let _ = writeln!(
            s,
            "{:<w$}  {:>22}  {:>15}  {:>12.1} MiB",
            f.name,
            format!("{} ({}x)", pair(p.probe_file), p.probe_file_runs),
            pair(p.sha256_file),
            f.siaran_peak_rss_kib as f64 / 1024.0,
        );
    }

    if let Some(b) = &report.big {
        let _ = writeln!(
            s,
            "\nBig file: {} ({} copies of the long MP3)\n\
             siaran probe:            {:>9.0} ms, peak RSS {:>6.1} MiB ({}), duration {:.3} s (copies add up to {:.3} s)\n\
             ffprobe -count_packets:  {:>9.0} ms, peak RSS {:>6.1} MiB\n",
            mib(b.size_bytes),
            b.copies,
            b.siaran_probe_ms,
            b.siaran_peak_rss_kib as f64 / 1024.0,
            if b.flat {
                "under 32 MiB"
            } else {
                "OVER 32 MiB"
            },
            b.siaran_duration_s,
            b.expected_duration_s,
            b.ffprobe_count_packets_ms,
            b.ffprobe_count_packets_peak_rss_kib as f64 / 1024.0,
        );
    }
    s
}

fn with_error(value: Option<f64>, truth: Option<f64>) -> String {
    match (value, truth) {
        (None, _) => "-".into(),
        (Some(v), Some(t)) if t > 0.0 => {
            let error = (v - t) / t * 100.0;
            // No "-0.00%": an error that rounds to nothing has no sign.
            let error = if error.abs() < 0.005 { 0.0 } else { error };
            format!("{v:.3} ({error:+.2}%)")
        }
        (Some(v), _) => format!("{v:.3}"),
    }
}

fn pair(stat: Stat) -> String {
    if stat.median_ms < 1.0 {
        format!("{:.3} / {:.3}", stat.median_ms, stat.min_ms)
    } else {
        format!("{:.1} / {:.1}", stat.median_ms, stat.min_ms)
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_even_and_odd_counts() {
        let ms = |v: &[u64]| {
            v.iter()
                .map(|&m| Duration::from_millis(m))
                .collect::<Vec<_>>()
        };
        let odd = Stat::of(&ms(&[5, 1, 3]));
        assert_eq!((odd.median_ms, odd.min_ms), (3.0, 1.0));
        let even = Stat::of(&ms(&[4, 1, 2, 3]));
        assert_eq!((even.median_ms, even.min_ms), (2.5, 1.0));
    }

    #[test]
    fn id3v2_length_counts_header_and_footer() {
        let mut tag = b"ID3\x04\x00\x00\x00\x00\x01\x23".to_vec();
        assert_eq!(id3v2_len(&tag), 10 + 0x80 + 0x23);
        tag[5] = 0x10;
        assert_eq!(id3v2_len(&tag), 10 + 0x80 + 0x23 + 10);
        assert_eq!(id3v2_len(b"\xff\xfb\x90\x00"), 0);
    }

    #[test]
    fn ffprobe_packet_count_becomes_seconds() {
        let mpeg2: serde_json::Value = serde_json::json!({"streams": [{
            "codec_name": "mp3", "sample_rate": "22050", "nb_read_packets": "140553", "duration": "3580.2"
        }]});
        let s = counted_seconds(&mpeg2).unwrap();
        assert!((s - 3671.589).abs() < 0.001, "{s}");
        let flac = serde_json::json!({"streams": [{"codec_name": "flac", "duration": "166.9"}]});
        assert_eq!(counted_seconds(&flac), Some(166.9));
    }

    #[test]
    fn vm_hwm_is_read_in_kib() {
        assert_eq!(vm_hwm_kib("Name:\tx\nVmHWM:\t   12216 kB\n"), Some(12216));
    }
}
