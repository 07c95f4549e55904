//! Settings: defaults that run out of the box, overridden by `SIARAN_*` environment variables,
//! overridden by command-line flags (clap reads both; each flag's variable has the same name).
//! Everything is validated here, before any port is bound.

use std::{
    fmt,
    net::SocketAddr,
    path::{Path, PathBuf},
};

use anyhow::{Context as _, bail};
use url::Url;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/siaran.db";
pub const DEFAULT_STORAGE_URL: &str = "file://data/media";
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// 8 GiB: a two-hour 1080p briefing fits.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 8 << 30;
/// Resumable uploads receiving at once on one instance; more answer 503 with `Retry-After`.
pub const DEFAULT_MAX_CONCURRENT_UPLOADS: usize = 16;
/// Resumable uploads one token may have open (neither finished nor expired) at once
/// (`SIARAN_MAX_OPEN_UPLOADS`); more answer 429.
pub const DEFAULT_MAX_OPEN_UPLOADS: u64 = 20;
/// The bytes a token's open resumable uploads may declare together, by default, in units of
/// `SIARAN_MAX_UPLOAD_BYTES` (`SIARAN_MAX_OPEN_UPLOAD_BYTES`): four of the largest files.
pub const DEFAULT_OPEN_UPLOAD_BYTES_PER_MAX_UPLOAD: u64 = 4;
/// How long a resumable upload waits for its next chunk before it is removed.
pub const DEFAULT_UPLOAD_EXPIRY_HOURS: u64 = 24;
/// The reconciler's period (`SIARAN_RECONCILE_EVERY_SECS`).
pub const DEFAULT_RECONCILE_EVERY_SECS: u64 = 15 * 60;
/// How long a write to the store may go unheard of before it counts as abandoned
/// (`SIARAN_WRITE_LEASE_SECS`). A live write renews its lease every quarter of it.
pub const DEFAULT_WRITE_LEASE_SECS: u64 = 120;
/// How long a connection may take to send a request's head, counted from its accept or from
/// the previous response (`SIARAN_HEADER_READ_TIMEOUT_SECS`; see `connections`). hyper 1 has one
/// timeout for both, so this is also how long a keep-alive connection may sit idle: 10 s rather
/// than a minute, because a slow or silent connection must not hold a file descriptor that long.
/// A reverse proxy that keeps connections to Siaran open should close idle ones sooner (nginx:
/// `keepalive_timeout` in the `upstream` block, 60 s by default), or a request it sends just as
/// Siaran closes one fails.
pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 10;
/// How long a studio session lasts without a request (`SIARAN_SESSION_IDLE`): a working day.
pub const DEFAULT_SESSION_IDLE: &str = "12h";

/// Background jobs (a recording's analysis) one instance runs at once (`SIARAN_JOB_WORKERS`).
pub const DEFAULT_JOB_WORKERS: usize = 1;
/// How often an idle instance looks for a background job (a job queued on the instance itself
/// wakes it at once).
pub const DEFAULT_JOB_POLL_SECS: u64 = 5;
/// How long a claimed job stays its worker's without a renewal (renewed every quarter of it):
/// the job of a worker that died is taken over this long after.
pub const DEFAULT_JOB_LEASE_SECS: u64 = 60;
/// How long a failed job waits before its next attempt (times the attempts made).
pub const DEFAULT_JOB_RETRY_SECS: u64 = 30;
/// The longest one attempt may take (a decoder that never ends is given up).
pub const DEFAULT_JOB_ATTEMPT_TIMEOUT_SECS: u64 = 3600;

/// Where media bytes live, parsed from `SIARAN_STORAGE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageUrl {
    /// `file://PATH`, absolute or relative to the working directory.
    File(PathBuf),
    /// `s3://BUCKET[/PREFIX]`.
    S3 { bucket: String, prefix: String },
}

impl StorageUrl {
    pub fn parse(s: &str) -> anyhow::Result<StorageUrl> {
        if let Some(path) = s.strip_prefix("file://") {
            if path.is_empty() {
                bail!("storage URL '{s}' names no folder (use file://PATH)");
            }
            return Ok(StorageUrl::File(PathBuf::from(path)));
        }
        if let Some(rest) = s.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                bail!("storage URL '{s}' names no bucket (use s3://BUCKET[/PREFIX])");
            }
            return Ok(StorageUrl::S3 {
                bucket: bucket.to_owned(),
                prefix: prefix.trim_matches('/').to_owned(),
            });
        }
        let scheme = s.split_once("://").map_or(s, |(scheme, _)| scheme);
        bail!("unsupported storage URL scheme '{scheme}' (use file://PATH or s3://BUCKET[/PREFIX])")
    }
}

/// How media bytes reach listeners (`SIARAN_DELIVERY`). Downloads are counted in every mode: the
/// media URL in the feed always points at Siaran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Siaran streams the bytes from the store, passing each range through.
    Proxy,
    /// 302 to a presigned S3 URL that expires after `PRESIGNED_TTL`.
    Redirect,
    /// 302 to the object under a public base URL (a CDN in front of the bucket).
    Cdn { base: Url },
}

/// How long a presigned redirect stays valid: long enough to start and seek, short enough that a
/// shared link does not bypass Siaran for long.
pub const PRESIGNED_TTL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

impl Delivery {
    /// `proxy`, `redirect` or `cdn` (which needs `cdn_url`).
    pub fn parse(mode: &str, cdn_url: Option<&str>) -> anyhow::Result<Delivery> {
        match mode {
            "proxy" => Ok(Delivery::Proxy),
            "redirect" => Ok(Delivery::Redirect),
            "cdn" => {
                let raw = cdn_url
                    .filter(|u| !u.is_empty())
                    .context("SIARAN_DELIVERY=cdn needs SIARAN_CDN_URL, the CDN's base URL")?;
                let mut base = Url::parse(raw)
                    .with_context(|| format!("SIARAN_CDN_URL '{raw}' is not a URL"))?;
                if !matches!(base.scheme(), "http" | "https") || base.host().is_none() {
                    bail!("SIARAN_CDN_URL '{raw}' must be an absolute http:// or https:// URL");
                }
                if !base.path().ends_with('/') {
                    base.set_path(&format!("{}/", base.path()));
                }
                Ok(Delivery::Cdn { base })
            }
            other => bail!("unknown SIARAN_DELIVERY '{other}' (use proxy, redirect or cdn)"),
        }
    }
}

/// The database URL, whose `Debug` never shows a password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn parse(s: &str) -> anyhow::Result<DatabaseUrl> {
        let scheme = s.split_once(':').map_or("", |(scheme, _)| scheme);
        match scheme {
            "sqlite" | "postgres" | "postgresql" => Ok(DatabaseUrl(s.to_owned())),
            _ => bail!(
                "unsupported database URL scheme '{scheme}' (use sqlite://PATH or postgres://...)"
            ),
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::db::redact(&self.0))
    }
}

/// The sound-quality thresholds set in the environment (`SIARAN_LOUDNESS_TARGET`, ...); each
/// one unset keeps the default of `domain::quality::QualityConfig` (which `service::quality`
/// applies these to), so the defaults are written in one place.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QualityThresholds {
    /// Integrated loudness to aim for, LUFS.
    pub target_lufs: Option<f64>,
    /// The highest true peak the gain to the target may reach, dBTP.
    pub true_peak_ceiling_dbtp: Option<f64>,
    /// How far from the target (LU) before "too quiet" or "too loud" is said.
    pub loudness_tolerance_lu: Option<f64>,
    /// Silence: this many LU under the programme loudness...
    pub silence_below_programme_lu: Option<f64>,
    /// ...for at least this long (ms).
    pub silence_min_gap_ms: Option<u64>,
    /// Leading or trailing silence warned about from this long (ms).
    pub edge_silence_warn_ms: Option<u64>,
    /// Consecutive full-scale samples that count as one clipping event.
    pub clipping_min_run: Option<u32>,
    /// A channel this many LU quieter than the loudest is silent.
    pub dead_channel_lu: Option<f64>,
    /// A mono downmix this many LU quieter than the loudest channel means opposite phase.
    pub phase_cancellation_lu: Option<f64>,
}

impl QualityThresholds {
    /// Refuses values no recording could be judged by (a target above 0 LUFS, a negative
    /// tolerance...), naming the variable.
    pub fn check(&self) -> anyhow::Result<()> {
        let within = |name: &str, v: Option<f64>, lo: f64, hi: f64| match v {
            Some(v) if !(lo..=hi).contains(&v) => {
                bail!("{name} is {v}: it must be between {lo} and {hi}")
            }
            _ => Ok(()),
        };
        within("SIARAN_LOUDNESS_TARGET", self.target_lufs, -70.0, 0.0)?;
        within(
            "SIARAN_TRUE_PEAK_CEILING",
            self.true_peak_ceiling_dbtp,
            -20.0,
            0.0,
        )?;
        within(
            "SIARAN_LOUDNESS_TOLERANCE",
            self.loudness_tolerance_lu,
            0.0,
            30.0,
        )?;
        within(
            "SIARAN_SILENCE_BELOW_PROGRAMME_LU",
            self.silence_below_programme_lu,
            1.0,
            70.0,
        )?;
        within("SIARAN_DEAD_CHANNEL_LU", self.dead_channel_lu, 1.0, 100.0)?;
        within(
            "SIARAN_PHASE_CANCELLATION_LU",
            self.phase_cancellation_lu,
            1.0,
            100.0,
        )?;
        if self.silence_min_gap_ms == Some(0) {
            bail!("SIARAN_SILENCE_MIN_MS must be at least 1");
        }
        if self.clipping_min_run == Some(0) {
            bail!("SIARAN_CLIPPING_MIN_RUN must be at least 1");
        }
        Ok(())
    }
}

/// The background job queue as an instance runs it (see `service::jobs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobSettings {
    /// Jobs this instance runs at once (`SIARAN_JOB_WORKERS`); 0 runs none (other instances
    /// do). An analysis keeps a core busy.
    pub workers: usize,
    /// How often an idle instance looks for a job.
    pub poll: std::time::Duration,
    /// How long a claim holds without renewal.
    pub lease: std::time::Duration,
    /// The wait before a failed job's next attempt, times the attempts made.
    pub retry_after: std::time::Duration,
    /// The longest one attempt may take.
    pub attempt_timeout: std::time::Duration,
}

impl Default for JobSettings {
    fn default() -> Self {
        use std::time::Duration;
        JobSettings {
            workers: DEFAULT_JOB_WORKERS,
            poll: Duration::from_secs(DEFAULT_JOB_POLL_SECS),
            lease: Duration::from_secs(DEFAULT_JOB_LEASE_SECS),
            retry_after: Duration::from_secs(DEFAULT_JOB_RETRY_SECS),
            attempt_timeout: Duration::from_secs(DEFAULT_JOB_ATTEMPT_TIMEOUT_SECS),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    pub storage_url: StorageUrl,
    /// Base of every absolute URL in feeds and API answers.
    pub public_url: Url,
    pub listen: SocketAddr,
    pub max_upload_bytes: u64,
    /// Where uploads are spooled while they are hashed and probed (default: the system's).
    pub spool_dir: Option<PathBuf>,
    /// Resumable uploads (`/api/v1/uploads/`) receiving at once on this instance.
    pub max_concurrent_uploads: usize,
    /// A resumable upload not continued for this long expires and its data is removed.
    pub upload_expiry: std::time::Duration,
    /// Resumable uploads one token may have open at once.
    pub max_open_uploads: u64,
    /// The bytes one token's open resumable uploads may declare (`Upload-Length`) together.
    pub max_open_upload_bytes: u64,
    pub delivery: Delivery,
    /// A MaxMind DB file (GeoLite2-Country or compatible) for downloads by country.
    pub geoip_db: Option<PathBuf>,
    /// Siaran runs behind a reverse proxy that sets `X-Forwarded-For`: count listeners by the
    /// address that proxy saw, not by the proxy's own.
    pub trust_forwarded: bool,
    /// A WebSub hub: feeds name it (`<atom:link rel="hub">`) and it is pinged when one changes.
    pub websub_hub: Option<Url>,
    /// How often the reconciler compares the store with the database (it also runs at start).
    pub reconcile_every: std::time::Duration,
    /// A write to the store not heard from for this long is taken as abandoned (its process
    /// died): see `reconcile`.
    pub write_lease: std::time::Duration,
    /// A connection that has not sent a whole request head this long after its accept or its
    /// previous response is closed.
    pub header_read_timeout: std::time::Duration,
    /// What the sound-quality analysis judges recordings by.
    pub quality: QualityThresholds,
    /// The background job queue: how many this instance runs, and its timing.
    pub jobs: JobSettings,
    /// A studio session without a request for this long ends.
    pub session_idle: std::time::Duration,
    /// Rate limits and the cap on streams (`http::limits`).
    pub limits: LimitSettings,
    /// The key publication records are signed with (`service::transparency`).
    pub signing: SigningSettings,
    /// Clip verification's bounds (`service::verify`).
    pub verify: VerifySettings,
    /// `SIARAN_METRICS_LISTEN`: `/metrics` served on this address of its own (`http::metrics`).
    pub metrics_listen: Option<SocketAddr>,
    /// `SIARAN_METRICS_TOKEN`: `/metrics` served on the main address to this bearer token.
    pub metrics_token: Option<MetricsToken>,
}

/// Clip verification (`POST /api/v1/verify`, `/cek`): what one clip may be, and how many are
/// checked at once on an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifySettings {
    /// `SIARAN_VERIFY_MAX_BYTES`: a larger clip answers 413 (before it is read when its length
    /// is declared).
    pub max_bytes: u64,
    /// `SIARAN_VERIFY_MAX_SECONDS`: a longer clip answers 422 `clip-too-long` (an exact copy of
    /// a published file is recognised whatever its length).
    pub max_seconds: u64,
    /// `SIARAN_VERIFY_CONCURRENCY`: clips checked at once; more answer 503 `verify-busy`.
    pub concurrency: usize,
}

/// 200 MiB: ten minutes of video at a phone's bit rate.
pub const DEFAULT_VERIFY_MAX_BYTES: u64 = 200 << 20;
pub const DEFAULT_VERIFY_MAX_SECONDS: u64 = 600;
/// Each verification decodes a clip on a core; two leave the others to serving.
pub const DEFAULT_VERIFY_CONCURRENCY: usize = 2;

impl Default for VerifySettings {
    fn default() -> VerifySettings {
        VerifySettings {
            max_bytes: DEFAULT_VERIFY_MAX_BYTES,
            max_seconds: DEFAULT_VERIFY_MAX_SECONDS,
            concurrency: DEFAULT_VERIFY_CONCURRENCY,
        }
    }
}

/// The bearer token of `/metrics` on the main address, whose `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct MetricsToken(String);

/// Shorter tokens are refused: the token guards the instance's figures from the public side.
pub const MIN_METRICS_TOKEN_LEN: usize = 16;

impl MetricsToken {
    pub fn parse(s: &str) -> anyhow::Result<MetricsToken> {
        let t = s.trim();
        if t.len() < MIN_METRICS_TOKEN_LEN || t.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            bail!(
                "SIARAN_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN_LEN} characters with no \
                 spaces (e.g. `openssl rand -hex 32`)"
            );
        }
        Ok(MetricsToken(t.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MetricsToken(..)")
    }
}

/// `http::limits`: per instance; 0 turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSettings {
    /// Writes a minute per caller (token or session); an address gets twice as many.
    pub writes_per_min: u32,
    /// Searches a minute per address.
    pub search_per_min: u32,
    /// Media streams answered at once to one address.
    pub streams_per_address: u32,
    /// Clip verifications (`/api/v1/verify`, the `/cek` form) a minute per address.
    pub verify_per_min: u32,
}

pub const DEFAULT_RATE_WRITES_PER_MIN: u32 = 600;
pub const DEFAULT_RATE_SEARCH_PER_MIN: u32 = 120;
pub const DEFAULT_MAX_STREAMS_PER_ADDRESS: u32 = 128;
/// Each one decodes up to ten minutes of audio: a person checks a few clips, not hundreds.
pub const DEFAULT_RATE_VERIFY_PER_MIN: u32 = 10;

impl Default for LimitSettings {
    fn default() -> LimitSettings {
        LimitSettings {
            writes_per_min: DEFAULT_RATE_WRITES_PER_MIN,
            search_per_min: DEFAULT_RATE_SEARCH_PER_MIN,
            streams_per_address: DEFAULT_MAX_STREAMS_PER_ADDRESS,
            verify_per_min: DEFAULT_RATE_VERIFY_PER_MIN,
        }
    }
}

/// Where the signing key of publication records comes from (docs/transparency.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningSettings {
    /// `SIARAN_SIGNING_KEY`: a PKCS#8 Ed25519 key file, the same for every instance.
    pub key: Option<PathBuf>,
    /// `SIARAN_SIGNING_KEYS_RETIRED`: a key set (JSON) of the keys signed with before, with
    /// their validity periods, still listed so their records verify.
    pub retired: Option<PathBuf>,
    /// Without `key`: the folder the key is created in (`signing-key.pem`).
    pub data_dir: PathBuf,
}

impl SigningSettings {
    /// No key configured: the default key beside a SQLite database file, else in `./data/`.
    pub fn default_for(database_url: &str) -> SigningSettings {
        let data_dir = database_url
            .strip_prefix("sqlite://")
            .map(|rest| rest.split('?').next().unwrap_or(rest))
            .filter(|p| !p.is_empty() && !p.starts_with(':'))
            .and_then(|p| Path::new(p).parent().map(Path::to_path_buf))
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("data"));
        SigningSettings {
            key: None,
            retired: None,
            data_dir,
        }
    }
}

impl Settings {
    /// Settings for tests and embedding: the defaults, with the given database and store.
    pub fn new(database_url: &str, storage_url: &str) -> anyhow::Result<Settings> {
        Ok(Settings {
            database_url: DatabaseUrl::parse(database_url)?,
            storage_url: StorageUrl::parse(storage_url)?,
            public_url: parse_public_url(DEFAULT_PUBLIC_URL)?,
            listen: DEFAULT_LISTEN.parse()?,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            spool_dir: None,
            max_concurrent_uploads: DEFAULT_MAX_CONCURRENT_UPLOADS,
            upload_expiry: std::time::Duration::from_secs(DEFAULT_UPLOAD_EXPIRY_HOURS * 3600),
            max_open_uploads: DEFAULT_MAX_OPEN_UPLOADS,
            max_open_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES
                * DEFAULT_OPEN_UPLOAD_BYTES_PER_MAX_UPLOAD,
            delivery: Delivery::Proxy,
            geoip_db: None,
            trust_forwarded: false,
            websub_hub: None,
            reconcile_every: std::time::Duration::from_secs(DEFAULT_RECONCILE_EVERY_SECS),
            write_lease: std::time::Duration::from_secs(DEFAULT_WRITE_LEASE_SECS),
            header_read_timeout: std::time::Duration::from_secs(DEFAULT_HEADER_READ_TIMEOUT_SECS),
            quality: QualityThresholds::default(),
            jobs: JobSettings::default(),
            session_idle: parse_duration("SIARAN_SESSION_IDLE", DEFAULT_SESSION_IDLE)?,
            limits: LimitSettings::default(),
            signing: SigningSettings::default_for(database_url),
            verify: VerifySettings::default(),
            metrics_listen: None,
            metrics_token: None,
        })
    }
}

/// `HOST:PORT`; a host name (`localhost:8080`) takes its first address.
pub fn parse_listen(s: &str) -> anyhow::Result<SocketAddr> {
    use std::net::ToSocketAddrs as _;
    s.to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .with_context(|| format!("SIARAN_LISTEN '{s}' is not an address such as 127.0.0.1:8080"))
}

pub fn parse_public_url(s: &str) -> anyhow::Result<Url> {
    let url = Url::parse(s).with_context(|| format!("SIARAN_PUBLIC_URL '{s}' is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        bail!("SIARAN_PUBLIC_URL '{s}' must be an absolute http:// or https:// URL");
    }
    Ok(url)
}

/// A length of time as a person writes it: a number and a unit (`12h`, `90m`, `30s`, `1d`),
/// or seconds alone. At least a second; `what` names the setting in the message.
pub fn parse_duration(what: &str, s: &str) -> anyhow::Result<std::time::Duration> {
    let t = s.trim();
    let (number, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let seconds_per = match unit.trim() {
        "" | "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    let seconds = number
        .parse::<u64>()
        .ok()
        .filter(|_| seconds_per > 0)
        .and_then(|n| n.checked_mul(seconds_per))
        .with_context(|| {
            format!("{what} '{s}' is not a length of time such as 12h, 90m, 30s or 1d")
        })?;
    if seconds == 0 {
        bail!("{what} '{s}' must be at least a second");
    }
    Ok(std::time::Duration::from_secs(seconds))
}

/// `SIARAN_WEBSUB_HUB`: an absolute http(s) URL, which hubs are.
pub fn parse_websub_hub(s: &str) -> anyhow::Result<Url> {
    let url = Url::parse(s).with_context(|| format!("SIARAN_WEBSUB_HUB '{s}' is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        bail!("SIARAN_WEBSUB_HUB '{s}' must be an absolute http:// or https:// URL");
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_urls() {
        assert_eq!(
            StorageUrl::parse("file://data/media").unwrap(),
            StorageUrl::File("data/media".into())
        );
        assert_eq!(
            StorageUrl::parse("file:///srv/siaran").unwrap(),
            StorageUrl::File("/srv/siaran".into())
        );
        assert_eq!(
            StorageUrl::parse("s3://bucket/a/b/").unwrap(),
            StorageUrl::S3 {
                bucket: "bucket".into(),
                prefix: "a/b".into()
            }
        );
        for bad in ["ftp://x", "s3://", "file://", "bucket"] {
            assert!(StorageUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn database_urls_hide_passwords() {
        let url = DatabaseUrl::parse("postgres://siaran:hunter2@db/siaran").unwrap();
        assert!(!format!("{url:?}").contains("hunter2"));
        assert!(DatabaseUrl::parse("mysql://x").is_err());
    }

    #[test]
    fn listen_addresses() {
        assert_eq!(parse_listen("0.0.0.0:80").unwrap().port(), 80);
        assert!(parse_listen("localhost:8080").unwrap().ip().is_loopback());
        assert!(parse_listen("8080").is_err());
        assert!(parse_listen("nowhere:x").is_err());
    }

    #[test]
    fn delivery_modes() {
        assert_eq!(Delivery::parse("proxy", None).unwrap(), Delivery::Proxy);
        assert_eq!(
            Delivery::parse("redirect", None).unwrap(),
            Delivery::Redirect
        );
        let Delivery::Cdn { base } = Delivery::parse("cdn", Some("https://cdn.example/m")).unwrap()
        else {
            panic!("not cdn")
        };
        assert_eq!(base.as_str(), "https://cdn.example/m/");
        assert!(Delivery::parse("cdn", None).is_err());
        assert!(Delivery::parse("cdn", Some("cdn.example")).is_err());
        assert!(Delivery::parse("sendfile", None).is_err());
    }

    #[test]
    fn websub_hub_must_be_absolute_http() {
        assert!(parse_websub_hub("https://pubsubhubbub.appspot.com/").is_ok());
        assert!(parse_websub_hub("hub.example").is_err());
        assert!(parse_websub_hub("mailto:hub@example.org").is_err());
    }

    #[test]
    fn quality_thresholds_must_be_usable() {
        assert!(QualityThresholds::default().check().is_ok());
        let ok = QualityThresholds {
            target_lufs: Some(-18.0),
            clipping_min_run: Some(1),
            ..QualityThresholds::default()
        };
        assert!(ok.check().is_ok());
        let loud = QualityThresholds {
            target_lufs: Some(3.0),
            ..QualityThresholds::default()
        };
        let err = loud.check().unwrap_err().to_string();
        assert!(err.contains("SIARAN_LOUDNESS_TARGET"), "{err}");
        let never = QualityThresholds {
            clipping_min_run: Some(0),
            ..QualityThresholds::default()
        };
        assert!(never.check().is_err());
    }

    #[test]
    fn durations_are_written_as_people_write_them() {
        let d = |s| parse_duration("SIARAN_SESSION_IDLE", s).map(|d| d.as_secs());
        assert_eq!(d("12h").unwrap(), 43_200);
        assert_eq!(d("90m").unwrap(), 5_400);
        assert_eq!(d("45").unwrap(), 45);
        assert_eq!(d("30s").unwrap(), 30);
        assert_eq!(d("1d").unwrap(), 86_400);
        for bad in [
            "",
            "h",
            "12 hours",
            "-1h",
            "0",
            "1.5h",
            "99999999999999999999d",
        ] {
            let e = d(bad).unwrap_err().to_string();
            assert!(e.contains("SIARAN_SESSION_IDLE"), "{bad}: {e}");
        }
    }

    #[test]
    fn metrics_tokens_are_long_and_never_printed() {
        let t = MetricsToken::parse("0123456789abcdef0123").unwrap();
        assert_eq!(t.expose(), "0123456789abcdef0123");
        assert!(!format!("{t:?}").contains("0123"));
        for bad in ["", "short", "0123456789 abcdef0123"] {
            let e = MetricsToken::parse(bad).unwrap_err().to_string();
            assert!(e.contains("SIARAN_METRICS_TOKEN"), "{bad}: {e}");
        }
    }

    #[test]
    fn public_url_must_be_absolute_http() {
        assert!(parse_public_url("https://siaran.example.go.id").is_ok());
        assert!(parse_public_url("siaran.example").is_err());
        assert!(parse_public_url("ftp://x").is_err());
    }
}
