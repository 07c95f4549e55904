//! `siaran-bench`: Siaran measured against the reference tools, kept out of the product binary
//! and the library (run with `--release`; see `docs/benchmarks.md`).
//!
//! - `siaran-bench probe`: `siaran probe` against ffprobe, durations checked against a full
//!   decode.
//! - `siaran-bench search`: search latency on 10,000 briefings with transcripts (SQLite, or
//!   `--database-url`).
//! - `siaran-bench quality`: the sound quality analysis against ffmpeg's EBU R128 meter on a
//!   61-minute MP3 and a 2-hour video: wall time and peak memory.
//! - `siaran-bench fingerprint`: the clip finder's fingerprinting CPU time per hour of audio,
//!   its index size per hour, and 30-s lookups in a synthetic index of 1,000 hours (SQLite, or
//!   `--database-url`).
//! - `siaran-bench studio`: the studio's dashboard and episode editor with 10,000 episodes in
//!   one show (SQLite, or `--database-url`).

mod fingerprint;
mod probe;
mod quality;
mod search;
mod studio;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "siaran-bench",
    about = "Measure Siaran against ffprobe, ffmpeg and at scale"
)]
struct Cli {
    #[command(subcommand)]
    command: Bench,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// Time `siaran probe` against ffprobe and check its durations against a full decode.
    Probe(probe::BenchProbeArgs),
    /// Search latency on 10,000 briefings with transcripts (SQLite, or --database-url).
    Search(search::BenchSearchArgs),
    /// Time the sound quality analysis against `ffmpeg -af ebur128=peak=true` on long files.
    Quality(quality::BenchQualityArgs),
    /// The clip finder: fingerprinting CPU time, index size, lookups in 1,000 hours.
    Fingerprint(fingerprint::BenchFingerprintArgs),
    /// The studio's dashboard and episode editor with 10,000 episodes in one show.
    Studio(studio::BenchStudioArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,symphonia=error")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Bench::Probe(args) => tokio::task::spawn_blocking(move || probe::probe(&args))
            .await
            .map_err(anyhow::Error::from)
            .and_then(|r| r),
        Bench::Search(args) => search::search(&args).await,
        Bench::Studio(args) => studio::studio(&args).await,
        Bench::Fingerprint(args) => fingerprint::fingerprint(&args).await,
        Bench::Quality(args) => tokio::task::spawn_blocking(move || quality::quality(&args))
            .await
            .map_err(anyhow::Error::from)
            .and_then(|r| r),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

/// Fails unless each of `tools` (ffmpeg, ffprobe) runs from `PATH`: the benchmarks compare
/// against them in the same run.
fn require_tools(tools: &[&str]) -> anyhow::Result<()> {
    for tool in tools {
        let found = std::process::Command::new(tool)
            .arg("-version")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        anyhow::ensure!(found, "{tool} is needed on PATH for the comparison");
    }
    Ok(())
}

/// Today's date and the build this runs as, which every report states.
fn stamp() -> (String, &'static str) {
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    (chrono::Utc::now().format("%Y-%m-%d").to_string(), build)
}
