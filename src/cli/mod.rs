//! The command line: `serve`, `migrate`, `token create`, `user create|reset-password|disable`,
//! `probe`, `import`, `import-feed`, `keys`, `verify-log`, `verify` (the benchmarks are their own binary, `siaran-bench`). Every flag can
//! also be set by the environment variable of the same name (`--database-url` =
//! `SIARAN_DATABASE_URL`).

mod transparency;

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use crate::{
    app::{self, AppState},
    config::{self, DatabaseUrl, Settings, StorageUrl},
    db::{AnyDb, Role},
    demo, domain, import, media, service,
};

#[derive(Debug, Parser)]
#[command(
    name = "siaran",
    version,
    about = "Publishing backend for public briefings"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service.
    Serve(Box<ServeArgs>),
    /// Apply database migrations and exit.
    Migrate(DbArgs),
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage the studio's users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print a media file's metadata as JSON, or with --quality its sound quality report.
    Probe {
        /// The media file.
        file: PathBuf,
        /// Decode the audio and print the quality report instead: loudness (EBU R128), peaks,
        /// gain to the target, silences, clipping and warnings.
        #[arg(long)]
        quality: bool,
        /// Language of the report's warnings: `id` (Indonesian) or `en`.
        #[arg(long, default_value = "id", value_parser = ["id", "en"])]
        lang: String,
        /// The thresholds the report judges by, the same flags and variables as `serve`'s.
        #[command(flatten)]
        thresholds: QualityArgs,
    },
    /// Import a folder of past recordings into an existing show (resumable: files already in
    /// the show are skipped).
    Import(ImportDirArgs),
    /// Bring in an existing podcast from its public RSS feed, guids kept (resumable).
    ImportFeed(ImportFeedArgs),
    /// Back up the embedded default while it serves: the SQLite database as it is at one
    /// moment, and every file it names, into a new or empty folder.
    Backup {
        /// The folder to write.
        dir: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Restore a backup made by `siaran backup` into a new SQLite database and an empty store.
    Restore {
        /// The backup's folder.
        dir: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Check that the database and the store agree, changing nothing: every file a record names
    /// exists, and every file is named by a record. Exits 1 when they do not.
    Check(StoreArgs),
    /// The key publication records are signed with.
    Keys {
        #[command(subcommand)]
        command: transparency::KeysCommand,
    },
    /// Download a site's transparency log and check every entry's hash, signature and link;
    /// fails naming the first broken entry.
    VerifyLog(transparency::VerifyLogArgs),
    /// Say whether a downloaded file is exactly a file of an archived publication.
    Verify(transparency::VerifyArgs),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (only the token, on stdout). It is stored hashed.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["admin", "editor", "contributor"])]
        role: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. Without --password-stdin, prints a one-time link to set a password
    /// (valid 72 hours) on stdout.
    Create {
        #[arg(long)]
        email: String,
        /// The name shown in the studio and the audit trail.
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["admin", "editor", "contributor"])]
        role: String,
        /// Read the password from the first line of standard input instead.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        site: SiteArgs,
    },
    /// End the user's sessions, clear its password and print a new link to set one.
    ResetPassword {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        site: SiteArgs,
    },
    /// Disable the user: its sessions end at once and its tokens stop working.
    Disable {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        site: SiteArgs,
    },
}

/// The database, and the public URL links are printed under.
#[derive(Debug, Args)]
pub struct SiteArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Base of the printed links.
    #[arg(long, env = "SIARAN_PUBLIC_URL", default_value = config::DEFAULT_PUBLIC_URL)]
    pub public_url: String,
}

#[derive(Debug, Args)]
pub struct DbArgs {
    /// sqlite://PATH or postgres://USER:PASSWORD@HOST/DB
    #[arg(long, env = "SIARAN_DATABASE_URL", default_value = config::DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub database_url: String,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub signing: SigningArgs,
    /// file://PATH or s3://BUCKET[/PREFIX] (S3 uses the standard AWS_* variables)
    #[arg(long, env = "SIARAN_STORAGE_URL", default_value = config::DEFAULT_STORAGE_URL)]
    pub storage_url: String,
    /// Base of every absolute URL in feeds and API answers.
    #[arg(long, env = "SIARAN_PUBLIC_URL", default_value = config::DEFAULT_PUBLIC_URL)]
    pub public_url: String,
    /// Address to listen on.
    #[arg(long, env = "SIARAN_LISTEN", default_value = config::DEFAULT_LISTEN)]
    pub listen: String,
    /// Largest accepted upload, in bytes.
    #[arg(long, env = "SIARAN_MAX_UPLOAD_BYTES", default_value_t = config::DEFAULT_MAX_UPLOAD_BYTES)]
    pub max_upload_bytes: u64,
    /// Folder where uploads wait while they are hashed and probed.
    #[arg(long, env = "SIARAN_SPOOL_DIR")]
    pub spool_dir: Option<PathBuf>,
    /// Resumable uploads receiving at once on this instance; more answer 503.
    #[arg(long, env = "SIARAN_MAX_CONCURRENT_UPLOADS", default_value_t = config::DEFAULT_MAX_CONCURRENT_UPLOADS)]
    pub max_concurrent_uploads: usize,
    /// Hours a resumable upload waits for its next chunk before it is removed.
    #[arg(long, env = "SIARAN_UPLOAD_EXPIRY_HOURS", default_value_t = config::DEFAULT_UPLOAD_EXPIRY_HOURS)]
    pub upload_expiry_hours: u64,
    /// Resumable uploads one token may have open (not finished, not expired); more answer 429.
    #[arg(long, env = "SIARAN_MAX_OPEN_UPLOADS", default_value_t = config::DEFAULT_MAX_OPEN_UPLOADS)]
    pub max_open_uploads: u64,
    /// Bytes one token's open resumable uploads may declare together; more answer 429.
    /// Default: 4 × SIARAN_MAX_UPLOAD_BYTES.
    #[arg(long, env = "SIARAN_MAX_OPEN_UPLOAD_BYTES")]
    pub max_open_upload_bytes: Option<u64>,
    /// Create the demo show (`/feeds/demo.xml`) from the sample briefing if it is missing.
    #[arg(long, env = "SIARAN_DEMO")]
    pub demo: bool,
    /// How media reaches listeners: proxy (stream from the store), redirect (302 to a presigned
    /// S3 URL) or cdn (302 to SIARAN_CDN_URL + the object key).
    #[arg(long, env = "SIARAN_DELIVERY", default_value = "proxy")]
    pub delivery: String,
    /// Public base URL of the CDN in front of the bucket, for `--delivery cdn`.
    #[arg(long, env = "SIARAN_CDN_URL")]
    pub cdn_url: Option<String>,
    /// A MaxMind DB file (e.g. GeoLite2-Country.mmdb) for downloads by country.
    #[arg(long, env = "SIARAN_GEOIP_DB")]
    pub geoip_db: Option<PathBuf>,
    /// Behind a reverse proxy: take the listener's address from the last `X-Forwarded-For`
    /// entry (set only when the proxy overwrites or appends that header).
    #[arg(long, env = "SIARAN_TRUST_FORWARDED")]
    pub trust_forwarded: bool,
    /// Writes (API and studio) a minute per token or session on this instance, twice that per
    /// address; more answer 429. 0: no limit.
    #[arg(long, env = "SIARAN_RATE_WRITES_PER_MIN", default_value_t = config::DEFAULT_RATE_WRITES_PER_MIN)]
    pub rate_writes_per_min: u32,
    /// Searches a minute per address on this instance; more answer 429. 0: no limit.
    #[arg(long, env = "SIARAN_RATE_SEARCH_PER_MIN", default_value_t = config::DEFAULT_RATE_SEARCH_PER_MIN)]
    pub rate_search_per_min: u32,
    /// Clip verifications (`/api/v1/verify`, the `/cek` form) a minute per address on this
    /// instance; more answer 429. 0: no limit.
    #[arg(long, env = "SIARAN_RATE_VERIFY_PER_MIN", default_value_t = config::DEFAULT_RATE_VERIFY_PER_MIN)]
    pub rate_verify_per_min: u32,
    /// Largest clip accepted for verification, in bytes.
    #[arg(long, env = "SIARAN_VERIFY_MAX_BYTES", default_value_t = config::DEFAULT_VERIFY_MAX_BYTES)]
    pub verify_max_bytes: u64,
    /// Longest clip looked up in the archive, in seconds.
    #[arg(long, env = "SIARAN_VERIFY_MAX_SECONDS", default_value_t = config::DEFAULT_VERIFY_MAX_SECONDS)]
    pub verify_max_seconds: u64,
    /// Clips this instance checks at once; more answer 503.
    #[arg(long, env = "SIARAN_VERIFY_CONCURRENCY", default_value_t = config::DEFAULT_VERIFY_CONCURRENCY)]
    pub verify_concurrency: usize,
    /// Media streams this instance answers at once to one address; more answer 429. 0: no cap.
    #[arg(long, env = "SIARAN_MAX_STREAMS_PER_ADDRESS", default_value_t = config::DEFAULT_MAX_STREAMS_PER_ADDRESS)]
    pub max_streams_per_address: u32,
    /// A WebSub hub URL: feeds name it and it is told of every change to a feed.
    #[arg(long, env = "SIARAN_WEBSUB_HUB")]
    pub websub_hub: Option<String>,
    /// Seconds between two runs of the reconciler, which removes what crashed writes left in
    /// the store (it also runs at start-up).
    #[arg(long, env = "SIARAN_RECONCILE_EVERY_SECS", default_value_t = config::DEFAULT_RECONCILE_EVERY_SECS)]
    pub reconcile_every_secs: u64,
    /// Seconds after which a write to the store that stopped renewing its lease counts as
    /// abandoned by a dead process.
    #[arg(long, env = "SIARAN_WRITE_LEASE_SECS", default_value_t = config::DEFAULT_WRITE_LEASE_SECS)]
    pub write_lease_secs: u64,
    /// Seconds a connection may take to send a request's head after it opens or after the
    /// previous response: slower or idle connections are closed.
    #[arg(long, env = "SIARAN_HEADER_READ_TIMEOUT_SECS", default_value_t = config::DEFAULT_HEADER_READ_TIMEOUT_SECS)]
    pub header_read_timeout_secs: u64,
    /// How long a studio session lasts without a request: 12h, 90m, 30s, 1d.
    #[arg(long, env = "SIARAN_SESSION_IDLE", default_value = config::DEFAULT_SESSION_IDLE)]
    pub session_idle: String,
    /// Background jobs (a recording's sound-quality analysis) this instance runs at once; 0
    /// runs none, leaving them to other instances.
    #[arg(long, env = "SIARAN_JOB_WORKERS", default_value_t = config::DEFAULT_JOB_WORKERS)]
    pub job_workers: usize,
    /// Serve Prometheus metrics at /metrics on this address of its own (e.g. 127.0.0.1:9464),
    /// not exposed to the public.
    #[arg(long, env = "SIARAN_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// Serve Prometheus metrics at /metrics on the main address to `Authorization: Bearer
    /// TOKEN` (at least 16 characters).
    #[arg(long, env = "SIARAN_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    #[command(flatten)]
    pub quality: QualityArgs,
}

/// The sound-quality thresholds (issue 24); each one unset keeps its default.
#[derive(Debug, Args)]
pub struct QualityArgs {
    /// Integrated loudness recordings should reach, in LUFS (default -16, Apple's guidance).
    #[arg(long, env = "SIARAN_LOUDNESS_TARGET", allow_negative_numbers = true)]
    pub loudness_target: Option<f64>,
    /// The highest true peak the gain to the target may reach, in dBTP (default -1).
    #[arg(long, env = "SIARAN_TRUE_PEAK_CEILING", allow_negative_numbers = true)]
    pub true_peak_ceiling: Option<f64>,
    /// LU from the target, either way, before "too quiet" or "too loud" is said (default 3).
    #[arg(long, env = "SIARAN_LOUDNESS_TOLERANCE")]
    pub loudness_tolerance: Option<f64>,
    /// Silence is this many LU under the programme's loudness (default 25)...
    #[arg(long, env = "SIARAN_SILENCE_BELOW_PROGRAMME_LU")]
    pub silence_below_programme_lu: Option<f64>,
    /// ...for at least this many milliseconds, between speech (default 3000).
    #[arg(long, env = "SIARAN_SILENCE_MIN_MS")]
    pub silence_min_ms: Option<u64>,
    /// Leading or trailing silence longer than this many milliseconds is warned about
    /// (default 10000).
    #[arg(long, env = "SIARAN_EDGE_SILENCE_WARN_MS")]
    pub edge_silence_warn_ms: Option<u64>,
    /// Consecutive samples at full scale that count as one clipping event (default 3).
    #[arg(long, env = "SIARAN_CLIPPING_MIN_RUN")]
    pub clipping_min_run: Option<u32>,
    /// A channel this many LU quieter than the loudest is reported silent (default 30).
    #[arg(long, env = "SIARAN_DEAD_CHANNEL_LU")]
    pub dead_channel_lu: Option<f64>,
    /// A mono downmix this many LU quieter than the loudest channel is reported as channels in
    /// opposite phase (default 10).
    #[arg(long, env = "SIARAN_PHASE_CANCELLATION_LU")]
    pub phase_cancellation_lu: Option<f64>,
}

impl QualityArgs {
    fn thresholds(&self) -> anyhow::Result<config::QualityThresholds> {
        let t = config::QualityThresholds {
            target_lufs: self.loudness_target,
            true_peak_ceiling_dbtp: self.true_peak_ceiling,
            loudness_tolerance_lu: self.loudness_tolerance,
            silence_below_programme_lu: self.silence_below_programme_lu,
            silence_min_gap_ms: self.silence_min_ms,
            edge_silence_warn_ms: self.edge_silence_warn_ms,
            clipping_min_run: self.clipping_min_run,
            dead_channel_lu: self.dead_channel_lu,
            phase_cancellation_lu: self.phase_cancellation_lu,
        };
        t.check()?;
        Ok(t)
    }
}

impl ServeArgs {
    fn settings(&self) -> anyhow::Result<Settings> {
        let settings = Settings {
            database_url: DatabaseUrl::parse(&self.db.database_url)?,
            storage_url: StorageUrl::parse(&self.storage_url)?,
            public_url: config::parse_public_url(&self.public_url)?,
            listen: config::parse_listen(&self.listen)?,
            max_upload_bytes: self.max_upload_bytes,
            spool_dir: self.spool_dir.clone(),
            max_concurrent_uploads: self.max_concurrent_uploads.max(1),
            upload_expiry: std::time::Duration::from_secs(
                self.upload_expiry_hours.clamp(1, 24 * 365) * 3600,
            ),
            max_open_uploads: self.max_open_uploads.max(1),
            max_open_upload_bytes: self.max_open_upload_bytes.unwrap_or(
                self.max_upload_bytes
                    .saturating_mul(config::DEFAULT_OPEN_UPLOAD_BYTES_PER_MAX_UPLOAD),
            ),
            delivery: config::Delivery::parse(&self.delivery, self.cdn_url.as_deref())?,
            geoip_db: self.geoip_db.clone(),
            trust_forwarded: self.trust_forwarded,
            websub_hub: self
                .websub_hub
                .as_deref()
                .filter(|h| !h.is_empty())
                .map(config::parse_websub_hub)
                .transpose()?,
            reconcile_every: std::time::Duration::from_secs(self.reconcile_every_secs.max(1)),
            write_lease: std::time::Duration::from_secs(self.write_lease_secs.max(1)),
            header_read_timeout: std::time::Duration::from_secs(
                self.header_read_timeout_secs.max(1),
            ),
            quality: self.quality.thresholds()?,
            jobs: config::JobSettings {
                workers: self.job_workers,
                ..config::JobSettings::default()
            },
            session_idle: config::parse_duration("SIARAN_SESSION_IDLE", &self.session_idle)?,
            limits: config::LimitSettings {
                writes_per_min: self.rate_writes_per_min,
                search_per_min: self.rate_search_per_min,
                streams_per_address: self.max_streams_per_address,
                verify_per_min: self.rate_verify_per_min,
            },
            verify: config::VerifySettings {
                max_bytes: self.verify_max_bytes,
                max_seconds: self.verify_max_seconds.max(1),
                concurrency: self.verify_concurrency.max(1),
            },
            signing: self.signing.settings(&self.db.database_url),
            metrics_listen: self
                .metrics_listen
                .as_deref()
                .filter(|a| !a.is_empty())
                .map(|a| {
                    config::parse_listen(a).map_err(|_| {
                        anyhow::anyhow!(
                            "SIARAN_METRICS_LISTEN '{a}' is not an address such as 127.0.0.1:9464"
                        )
                    })
                })
                .transpose()?,
            metrics_token: self
                .metrics_token
                .as_deref()
                .filter(|t| !t.is_empty())
                .map(config::MetricsToken::parse)
                .transpose()?,
        };
        if settings.delivery == config::Delivery::Redirect
            && matches!(settings.storage_url, StorageUrl::File(_))
        {
            anyhow::bail!(
                "SIARAN_DELIVERY=redirect needs an S3 store (SIARAN_STORAGE_URL=s3://...): \
                 a folder has no presigned URLs"
            );
        }
        if settings.max_open_upload_bytes < settings.max_upload_bytes {
            anyhow::bail!(
                "SIARAN_MAX_OPEN_UPLOAD_BYTES ({}) is below SIARAN_MAX_UPLOAD_BYTES ({}): \
                 a resumable upload of the largest size could never start",
                settings.max_open_upload_bytes,
                settings.max_upload_bytes
            );
        }
        Ok(settings)
    }
}

/// The settings an import needs: the same variables as `serve`.
#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// file://PATH or s3://BUCKET[/PREFIX] (S3 uses the standard AWS_* variables)
    #[arg(long, env = "SIARAN_STORAGE_URL", default_value = config::DEFAULT_STORAGE_URL)]
    pub storage_url: String,
    /// Base of every absolute URL in feeds (the new feed's address is printed from it).
    #[arg(long, env = "SIARAN_PUBLIC_URL", default_value = config::DEFAULT_PUBLIC_URL)]
    pub public_url: String,
    /// Largest media file imported, in bytes.
    #[arg(long, env = "SIARAN_MAX_UPLOAD_BYTES", default_value_t = config::DEFAULT_MAX_UPLOAD_BYTES)]
    pub max_upload_bytes: u64,
    /// Folder where files wait while they are hashed and probed.
    #[arg(long, env = "SIARAN_SPOOL_DIR")]
    pub spool_dir: Option<PathBuf>,
    #[command(flatten)]
    pub signing: SigningArgs,
}

/// The key publication records are signed with (docs/transparency.md).
#[derive(Debug, Args)]
pub struct SigningArgs {
    /// A PKCS#8 Ed25519 key file (`siaran keys generate`), the same for every instance.
    /// Without it, `signing-key.pem` beside the SQLite database (else in ./data/) is used,
    /// created the first time.
    #[arg(long, env = "SIARAN_SIGNING_KEY")]
    pub signing_key: Option<PathBuf>,
    /// A key set (JSON, `siaran keys retire`) of the keys used before, with their validity
    /// periods: still published, so the records they signed still verify.
    #[arg(long, env = "SIARAN_SIGNING_KEYS_RETIRED")]
    pub signing_keys_retired: Option<PathBuf>,
}

impl SigningArgs {
    fn settings(&self, database_url: &str) -> config::SigningSettings {
        config::SigningSettings {
            key: self.signing_key.clone(),
            retired: self.signing_keys_retired.clone(),
            ..config::SigningSettings::default_for(database_url)
        }
    }
}

impl StoreArgs {
    fn settings(&self) -> anyhow::Result<Settings> {
        let mut settings = Settings::new(&self.db.database_url, &self.storage_url)?;
        settings.public_url = config::parse_public_url(&self.public_url)?;
        settings.max_upload_bytes = self.max_upload_bytes;
        settings.spool_dir.clone_from(&self.spool_dir);
        settings.signing = self.signing.settings(&self.db.database_url);
        Ok(settings)
    }
}

#[derive(Debug, Args)]
pub struct ImportDirArgs {
    /// The folder of recordings (searched recursively; hidden files are left out).
    pub dir: PathBuf,
    /// The show to import into (it must exist).
    #[arg(long)]
    pub show: String,
    /// CSV with the header filename,title,description,publish_at,season,episode.
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct ImportFeedArgs {
    /// The podcast's public RSS feed.
    pub url: String,
    /// The show to import into; created from the feed's channel if it does not exist.
    #[arg(long)]
    pub show: String,
    /// Fetch from private, loopback and link-local addresses too (refused by default).
    #[arg(long)]
    pub allow_private: bool,
    /// The owner's e-mail, for a show created from a feed that names none (itunes:owner).
    #[arg(long)]
    pub email: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

async fn open_db(args: &DbArgs) -> anyhow::Result<AnyDb> {
    let url = DatabaseUrl::parse(&args.database_url)?;
    let db = AnyDb::connect(url.expose()).await?;
    db.migrate().await?;
    Ok(db)
}

/// Runs one command. Errors are returned for `main` to print on one line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(&args).await,
        Command::Migrate(args) => {
            open_db(&args).await?;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::Token {
            command: TokenCommand::Create { name, role, db },
        } => {
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            let db = open_db(&db).await?;
            let secret = service::tokens::create(&db, &name, role)
                .await
                .context("cannot store the token")?;
            print_stdout(&secret)?;
            Ok(())
        }
        Command::User { command } => user(command).await,
        Command::Keys { command } => print_stdout(&transparency::keys(command)?),
        Command::VerifyLog(args) => print_stdout(&transparency::verify_log(&args).await?),
        Command::Verify(args) => print_stdout(&transparency::verify(&args).await?),
        Command::Probe {
            file,
            quality: true,
            lang,
            thresholds,
        } => {
            let cfg = service::quality::config(&thresholds.thresholds()?);
            let analysis =
                tokio::task::spawn_blocking(move || media::quality::analyse_file(&file, &cfg))
                    .await??;
            let report = analysis.report.localized(lang == "en");
            print_stdout(&serde_json::to_string_pretty(&report)?)?;
            Ok(())
        }
        Command::Probe { file, .. } => {
            let path = file.clone();
            let info = tokio::task::spawn_blocking(move || {
                let sha256 = media::probe::sha256_file(&path)?;
                let info = media::probe_file(&path)?;
                anyhow::Ok(media::MediaInfo { sha256, ..info })
            })
            .await??;
            print_stdout(&serde_json::to_string_pretty(&info)?)?;
            Ok(())
        }
        Command::Backup { dir, store } => {
            let settings = store.settings()?;
            // As it is: a backup changes nothing, not even the schema.
            let db = AnyDb::connect(settings.database_url.expose()).await?;
            let objects = app::open_store(&settings.storage_url).await?;
            let report = service::backup::backup(&db, objects.as_ref(), &dir).await?;
            print_stdout(&format!(
                "backed up the database and {} files ({} bytes) into {}",
                report.manifest.objects,
                report.manifest.bytes,
                dir.display()
            ))
        }
        Command::Restore { dir, store } => {
            let settings = store.settings()?;
            let objects = app::open_store(&settings.storage_url).await?;
            let report =
                service::backup::restore(settings.database_url.expose(), objects.as_ref(), &dir)
                    .await?;
            print_stdout(&format!(
                "restored the database into {} and {} files ({} bytes)",
                report.database.display(),
                report.objects,
                report.bytes
            ))
        }
        Command::Check(store) => {
            let settings = store.settings()?;
            let found = app::check_store(&settings).await?;
            let report = serde_json::json!({
                "objects": found.objects,
                "orphans": found.orphans_removed,
                "unfinished_writes": found.unfinished_aborted,
                "missing": found.missing,
                "writes_in_progress": found.in_progress,
            });
            print_stdout(&serde_json::to_string_pretty(&report)?)?;
            if found.orphans_removed.is_empty()
                && found.unfinished_aborted.is_empty()
                && found.missing.is_empty()
            {
                Ok(())
            } else {
                anyhow::bail!(
                    "the database and the store disagree: {} files no record names, {} unfinished writes, {} records whose file is missing",
                    found.orphans_removed.len(),
                    found.unfinished_aborted.len(),
                    found.missing.len()
                )
            }
        }
        Command::Import(args) => {
            let command = app::CommandContext::build(&args.store.settings()?).await?;
            let report = import::dir::import_dir(
                &command.ctx,
                &import::dir::DirImport {
                    dir: args.dir,
                    show: args.show,
                    manifest: args.manifest,
                    progress: true,
                },
            )
            .await?;
            print_stdout(&report.summary())?;
            fail_if_any(&report)
        }
        Command::ImportFeed(args) => {
            let url = url::Url::parse(&args.url)
                .with_context(|| format!("'{}' is not a feed URL", args.url))?;
            let settings = args.store.settings()?;
            let max_media_bytes = settings.max_upload_bytes;
            let command = app::CommandContext::build(&settings).await?;
            let done = import::feed::import_feed(
                &command.ctx,
                &import::feed::FeedImport {
                    url,
                    show: args.show,
                    allow_private: args.allow_private,
                    max_media_bytes,
                    email: args.email,
                    progress: true,
                },
            )
            .await?;
            print_stdout(&done.report.summary())?;
            print_stdout(&done.instructions())?;
            fail_if_any(&done.report)
        }
    }
}

/// What `siaran user ...` works with: the database (these commands store no file) and the URLs
/// links are printed under.
async fn user_db(site: &SiteArgs) -> anyhow::Result<(AnyDb, domain::Urls)> {
    let urls = domain::Urls::new(config::parse_public_url(&site.public_url)?);
    Ok((open_db(&site.db).await?, urls))
}

async fn user(command: UserCommand) -> anyhow::Result<()> {
    use service::users;
    let now = chrono::Utc::now();
    let actor = users::cli_actor();
    match command {
        UserCommand::Create {
            email,
            name,
            role,
            password_stdin,
            site,
        } => {
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            // Read and checked before anything is stored: a bad password creates no user.
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .context("cannot read the password from standard input")?;
                let line = line.trim_end_matches(['\n', '\r']);
                Some(domain::users::Password::parse(line).map_err(|r| anyhow::anyhow!(r.msg.en))?)
            } else {
                None
            };
            let (db, urls) = user_db(&site).await?;
            let new = domain::users::NewUser { email, name, role };
            let user = users::create(&db, &actor, new, now)
                .await
                .map_err(|e| anyhow::anyhow!(e.message().en))?;
            match password {
                Some(password) => {
                    users::set_password(&db, &actor, &user, password, now).await?;
                    eprintln!(
                        "user {} ({}) created; sign in at {}",
                        user.email,
                        user.role,
                        urls.studio()
                    );
                }
                None => {
                    let secret = users::password_link(&db, &actor, &user, false, now).await?;
                    eprintln!(
                        "user {} ({}) created; the link below sets its password (valid 72 hours)",
                        user.email, user.role
                    );
                    print_stdout(&urls.studio_password(&secret))?;
                }
            }
            Ok(())
        }
        UserCommand::ResetPassword { email, site } => {
            let (db, urls) = user_db(&site).await?;
            let user = users::by_email(&db, &email)
                .await
                .map_err(|e| anyhow::anyhow!(e.message().en))?;
            let secret = users::password_link(&db, &actor, &user, true, now)
                .await
                .map_err(|e| anyhow::anyhow!(e.message().en))?;
            eprintln!(
                "the password of {} is cleared and its sessions ended; the link below sets a new \
                 one (valid 72 hours)",
                user.email
            );
            print_stdout(&urls.studio_password(&secret))
        }
        UserCommand::Disable { email, site } => {
            let (db, _) = user_db(&site).await?;
            let user = users::by_email(&db, &email)
                .await
                .map_err(|e| anyhow::anyhow!(e.message().en))?;
            let user = users::set_disabled(&db, &actor, user, true, now).await?;
            eprintln!("user {} is disabled; its sessions are ended", user.email);
            Ok(())
        }
    }
}

async fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    let settings = args.settings()?;
    let listen = settings.listen;
    let state = AppState::build(settings).await?;
    tokio::spawn({
        let state = state.clone();
        async move { service::search::index_stored_transcripts(&state.ctx).await }
    });
    if args.demo {
        demo::seed(&state.ctx)
            .await
            .context("cannot create the demo show")?;
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(address = %listener.local_addr()?, public_url = %state.settings.public_url, "siaran listening");
    app::serve_until_signal(listener, state, app::DRAIN_TIMEOUT).await?;
    Ok(())
}

/// An import with failures exits non-zero; the summary above names each one.
fn fail_if_any(report: &import::Report) -> anyhow::Result<()> {
    let failed = report.failed.len();
    if failed > 0 {
        let total = failed + report.imported.len() + report.skipped.len();
        anyhow::bail!("{failed} of {total} items not imported (see the summary)");
    }
    Ok(())
}

/// Writes one line to stdout. A reader that went away (`siaran probe F | head`) is not an error
/// worth a panic, which `println!` would give.
fn print_stdout(line: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{line}").and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve_settings(args: &[&str]) -> anyhow::Result<Settings> {
        let cli = Cli::try_parse_from(["siaran", "serve"].iter().chain(args))?;
        let Command::Serve(serve) = cli.command else {
            unreachable!("parsed as serve")
        };
        serve.settings()
    }

    #[test]
    fn open_upload_caps_default_to_twenty_and_four_largest_files() {
        let s = serve_settings(&["--max-upload-bytes", "1000"]).unwrap();
        assert_eq!((s.max_open_uploads, s.max_open_upload_bytes), (20, 4000));
        let s = serve_settings(&[
            "--max-upload-bytes=1000",
            "--max-open-upload-bytes=1000",
            "--max-open-uploads=3",
        ])
        .unwrap();
        assert_eq!((s.max_open_uploads, s.max_open_upload_bytes), (3, 1000));
        // The largest file could then never be uploaded resumably.
        let err = serve_settings(&["--max-upload-bytes=1000", "--max-open-upload-bytes=999"])
            .unwrap_err();
        assert!(
            err.to_string().contains("SIARAN_MAX_OPEN_UPLOAD_BYTES"),
            "{err}"
        );
    }

    #[test]
    fn quality_thresholds_are_flags_and_checked() {
        let s = serve_settings(&["--loudness-target", "-18", "--clipping-min-run=2"]).unwrap();
        assert_eq!(s.quality.target_lufs, Some(-18.0));
        assert_eq!(s.quality.clipping_min_run, Some(2));
        assert_eq!(s.quality.true_peak_ceiling_dbtp, None);
        assert_eq!(
            s.jobs.workers, 1,
            "an instance runs jobs unless told not to"
        );
        assert_eq!(
            serve_settings(&["--job-workers=0"]).unwrap().jobs.workers,
            0
        );
        let err = serve_settings(&["--true-peak-ceiling", "2"]).unwrap_err();
        assert!(
            err.to_string().contains("SIARAN_TRUE_PEAK_CEILING"),
            "{err}"
        );
    }
}
