use std::process::ExitCode;

use clap::Parser as _;
use siaran::cli::{Cli, Command, run};
use tracing_subscriber::{
    EnvFilter, Layer as _, layer::SubscriberExt as _, util::SubscriberInitExt as _,
};

/// mimalloc rather than glibc's allocator: a request's many small allocations (headers, the
/// route's parameters, futures) cost less; see docs/benchmarks.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The service logs; one-shot commands stay quiet so their stdout is machine-readable.
    let default_level = if matches!(cli.command, Command::Serve(_)) {
        "info"
    } else {
        "warn"
    };
    let filter = EnvFilter::try_from_default_env()
        // The demuxers' own messages ("skipped 4 bytes of junk", "probe reached EOF") are noise
        // to a user, and a second line where the CLI promises one; the probe reports what
        // matters in its answer.
        .unwrap_or_else(|_| EnvFilter::new(format!("{default_level},symphonia=off,mp4parse=off")));
    let log = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter);
    // The database calls' durations for the metrics, whatever the log level (`db::timing`).
    let db_calls = matches!(cli.command, Command::Serve(_)).then(siaran::db::timing::layer);
    tracing_subscriber::registry()
        .with(log)
        .with(db_calls)
        .init();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let exit = exit_code(&e);
            eprintln!("error: {}", one_line(&e));
            exit
        }
    }
}

/// `siaran probe` exits 2 for input that is not playable media (or, with `--quality`, whose
/// audio cannot be analysed), 1 for everything else.
fn exit_code(e: &anyhow::Error) -> ExitCode {
    if let Some(quality) = e.downcast_ref::<siaran::media::quality::QualityError>() {
        return ExitCode::from(if quality.is_transient() { 1 } else { 2 });
    }
    match e.downcast_ref::<siaran::media::ProbeError>() {
        Some(siaran::media::ProbeError::Io(_)) | None => ExitCode::from(1),
        Some(_) => ExitCode::from(2),
    }
}

fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}").replace('\n', " ")
}
