//! `siaran-bench`: Siaran measured against the reference tools, kept out of the product binary
//! and the library (run with `--release`; see `docs/benchmarks.md`).
//!
//! - `siaran-bench probe`: `siaran probe` against ffprobe, durations checked against a full
//!   decode.
//! - `siaran-bench search`: search latency on 10,000 briefings with transcripts (SQLite, or
//!   `--database-url`).

mod probe;
mod search;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "siaran-bench",
    about = "Measure Siaran against ffprobe and at scale"
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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}
