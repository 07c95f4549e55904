//! `siaran-bench quality`: the sound quality analysis (issue 24) against ffmpeg's EBU R128 meter
//! on the same long files in the same run: wall time, peak memory and the figures both give.
//!
//! Owns measurement only. Each run spawns this binary's hidden `quality --one FILE` (which calls
//! `media::quality::analyse_file`, the function the service's job calls, and prints the report)
//! and `ffmpeg -af ebur128=peak=true -f null -`, in turns, each under GNU time for its peak
//! memory. Fixtures are made with ffmpeg in a temporary folder that is removed afterwards: the
//! probe benchmark's 61-minute VBR MP3, the same hour as Ogg Opus, and a 2-hour MP4 (H.264 + AAC) of the demo on a loop.

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::Context as _;
use serde::Serialize;

use siaran::domain::quality::QualityConfig;
use siaran::media::quality;

use crate::probe::{Fixture, LONG_MP3, Stat, make_fixture, peak_rss_kib, run_ok, source_path};

#[derive(Debug, clap::Args)]
pub struct BenchQualityArgs {
    /// Runs of each command per file, in turns.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: u32,
    /// Bench these files instead of the generated fixtures.
    #[arg(long, num_args = 1..)]
    pub file: Vec<PathBuf>,
    /// Leave out the 2-hour video (its fixture takes a few minutes to encode).
    #[arg(long)]
    pub no_video: bool,
    /// The recording the fixtures are encoded from.
    #[arg(long, default_value = "media/briefing-demo.mp3")]
    pub source: PathBuf,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Internal: analyse this one file and print its report (what each timed run spawns).
    #[arg(long, hide = true)]
    pub one: Option<PathBuf>,
}

/// The 2-hour video: 44 plays of the 167 s demo cut to 2 h, under a small moving test picture
/// (H.264, 320×180, 25 fps) so that the demuxer walks past real video packets.
const LONG_VIDEO: Fixture = Fixture {
    name: "video-2h.mp4",
    input: &[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=25",
        "-stream_loop",
        "43",
    ],
    output: &[
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-t",
        "7200",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-b:v",
        "300k",
        "-c:a",
        "aac",
        "-b:a",
        "96k",
    ],
};

/// An hour of Opus (mono speech at 48 kbit/s in Ogg): the codec symphonia demuxes but does not
/// decode, so the analysis decodes it with `opus-pure` (`media::quality`'s own decoder).
const LONG_OPUS: Fixture = Fixture {
    name: "speech-61min.opus",
    input: &["-stream_loop", "21"],
    output: &["-c:a", "libopus", "-b:a", "48k"],
};

/// The ceiling for the analysis's peak memory, whatever the length.
const MEMORY_CEILING_KIB: u64 = 64 * 1024;

#[derive(Debug, Serialize)]
struct Report {
    date: String,
    build: &'static str,
    runs: u32,
    files: Vec<FileReport>,
}

#[derive(Debug, Serialize)]
struct FileReport {
    name: String,
    size_bytes: u64,
    /// Seconds of audio the analysis decoded.
    audio_s: f64,
    siaran: Tool,
    ffmpeg: Tool,
    /// siaran's median wall time / ffmpeg's.
    ratio: f64,
    memory_under_ceiling: bool,
}

#[derive(Debug, Serialize)]
struct Tool {
    wall: Stat,
    peak_rss_kib: u64,
    integrated_lufs: Option<f64>,
    loudness_range_lu: Option<f64>,
    true_peak_dbtp: Option<f64>,
}

pub fn quality(args: &BenchQualityArgs) -> anyhow::Result<()> {
    if let Some(file) = &args.one {
        let analysis = quality::analyse_file(file, &QualityConfig::default())?;
        let json = serde_json::to_string(&analysis.report.localized(true))?;
        writeln!(io::stdout().lock(), "{json}")?;
        return Ok(());
    }
    crate::require_tools(&["ffmpeg"])?;
    let exe = std::env::current_exe().context("cannot find this binary")?;
    let dir = tempfile::TempDir::new().context("cannot create a temp folder")?;

    let mut files = args.file.clone();
    if files.is_empty() {
        let source = source_path(&args.source)?;
        files.push(make_fixture(&source, dir.path(), LONG_MP3)?);
        files.push(make_fixture(&source, dir.path(), LONG_OPUS)?);
        if !args.no_video {
            files.push(make_fixture(&source, dir.path(), LONG_VIDEO)?);
        }
    }
    let mut reports = Vec::new();
    for path in &files {
        reports.push(bench_file(&exe, path, dir.path(), args.runs)?);
    }
    let (date, build) = crate::stamp();
    let report = Report {
        date,
        build,
        runs: args.runs,
        files: reports,
    };
    let text = if args.json {
        serde_json::to_string_pretty(&report)? + "\n"
    } else {
        table(&report)
    };
    match io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn bench_file(exe: &Path, path: &Path, scratch: &Path, runs: u32) -> anyhow::Result<FileReport> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    eprintln!("benching {name}");
    let mut siaran = Command::new(exe);
    siaran.args(["quality", "--one"]).arg(path);
    let mut ffmpeg = Command::new("ffmpeg");
    ffmpeg
        .args(["-nostdin", "-nostats", "-hide_banner", "-i"])
        .arg(path)
        .args([
            "-map",
            "0:a:0",
            "-af",
            "ebur128=peak=true:framelog=verbose",
            "-f",
            "null",
            "-",
        ]);

    // The figures, and a warm page cache for both.
    let ours: serde_json::Value = serde_json::from_slice(&run_ok(&mut siaran)?.stdout)
        .context("the analysis printed something that is not a report")?;
    let theirs = String::from_utf8_lossy(&run_ok(&mut ffmpeg)?.stderr).into_owned();

    let mut times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    let mut peaks = [0u64; 2];
    for run in 0..runs {
        eprintln!("  run {} of {runs}", run + 1);
        for (i, cmd) in [&mut siaran, &mut ffmpeg].into_iter().enumerate() {
            let (kib, wall) = peak_rss_kib(cmd, scratch)?;
            times[i].push(wall);
            peaks[i] = peaks[i].max(kib);
        }
    }
    let siaran = Tool {
        wall: Stat::of(&times[0]),
        peak_rss_kib: peaks[0],
        integrated_lufs: ours["integrated_lufs"].as_f64(),
        loudness_range_lu: ours["loudness_range_lu"].as_f64(),
        true_peak_dbtp: ours["true_peak_dbtp"].as_f64(),
    };
    let ffmpeg = Tool {
        wall: Stat::of(&times[1]),
        peak_rss_kib: peaks[1],
        integrated_lufs: ffmpeg_figure(&theirs, "I:"),
        loudness_range_lu: ffmpeg_figure(&theirs, "LRA:"),
        true_peak_dbtp: ffmpeg_figure(&theirs, "Peak:"),
    };
    Ok(FileReport {
        name,
        size_bytes: std::fs::metadata(path)?.len(),
        audio_s: ours["analysed_ms"].as_f64().unwrap_or(0.0) / 1e3,
        ratio: siaran.wall.median_ms / ffmpeg.wall.median_ms,
        memory_under_ceiling: siaran.peak_rss_kib < MEMORY_CEILING_KIB,
        siaran,
        ffmpeg,
    })
}

/// A figure from the summary ffmpeg's ebur128 filter prints last.
fn ffmpeg_figure(stderr: &str, label: &str) -> Option<f64> {
    let summary = &stderr[stderr.rfind("Summary:")?..];
    summary
        .lines()
        .find_map(|l| l.trim().strip_prefix(label))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn table(report: &Report) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "siaran-bench quality, {}, {} build, {} runs per command in turns, warm page cache\n",
        report.date, report.build, report.runs
    );
    let _ = writeln!(
        s,
        "{:<22} {:>9} {:>8}  {:>19} {:>19} {:>6}  {:>10} {:>10}",
        "file",
        "size",
        "audio",
        "siaran (s, med/min)",
        "ffmpeg (s, med/min)",
        "ratio",
        "siaran RSS",
        "ffmpeg RSS"
    );
    for f in &report.files {
        let secs = |t: &Tool| format!("{:.2} / {:.2}", t.wall.median_ms / 1e3, t.wall.min_ms / 1e3);
        let _ = writeln!(
            s,
            "{:<22} {:>5.1} MiB {:>6.0} s  {:>19} {:>19} {:>6.2}  {:>6.1} MiB {:>6.1} MiB{}",
            f.name,
            f.size_bytes as f64 / (1024.0 * 1024.0),
            f.audio_s,
            secs(&f.siaran),
            secs(&f.ffmpeg),
            f.ratio,
            f.siaran.peak_rss_kib as f64 / 1024.0,
            f.ffmpeg.peak_rss_kib as f64 / 1024.0,
            if f.memory_under_ceiling {
                ""
            } else {
                "  OVER 64 MiB"
            },
        );
    }
    let _ = writeln!(
        s,
        "ratio = siaran's median wall time / ffmpeg's (target: at most 1, aim 0.5)\n\nFigures (integrated LUFS, LRA LU, true peak dBTP)"
    );
    let fig = |x: Option<f64>, decimals: usize| {
        x.map_or_else(|| "-".to_string(), |v| format!("{v:.decimals$}"))
    };
    for f in &report.files {
        for (tool, t, d) in [("siaran", &f.siaran, 2), ("ffmpeg", &f.ffmpeg, 1)] {
            let _ = writeln!(
                s,
                "{:<22} {:<7} {:>7} {:>6} {:>7}",
                f.name,
                tool,
                fig(t.integrated_lufs, d),
                fig(t.loudness_range_lu, d),
                fig(t.true_peak_dbtp, d),
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ffmpegs_summary_figures_are_read() {
        let stderr = "[Parsed_ebur128_0 @ 0x1] t: 1 M: -20 S: -20 I: -19.0 LUFS\n\
            [Parsed_ebur128_0 @ 0x1] Summary:\n\n  Integrated loudness:\n    I:         -23.4 LUFS\n\
            \n  Loudness range:\n    LRA:         5.1 LU\n\n  True peak:\n    Peak:       -1.2 dBFS\n";
        assert_eq!(ffmpeg_figure(stderr, "I:"), Some(-23.4));
        assert_eq!(ffmpeg_figure(stderr, "LRA:"), Some(5.1));
        assert_eq!(ffmpeg_figure(stderr, "Peak:"), Some(-1.2));
        assert_eq!(ffmpeg_figure("no summary", "I:"), None);
    }
}
