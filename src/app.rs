//! The application: shared state, the router, and serving with graceful shutdown.

use std::{future::Future, ops::Deref, sync::Arc, time::Duration};

use anyhow::Context as _;
use axum::{
    Router,
    extract::{MatchedPath, Request},
};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::trace::TraceLayer;

use crate::{
    analytics::{GeoIp, Recorder},
    config::{Settings, StorageUrl},
    db::{AnyDb, Db},
    domain::Urls,
    http,
    http::feeds::cache::FeedCache,
    reconcile::Spool,
    reconcile::{ProcessSpool, Reconciler, TrackedStore},
    service::Ctx,
    service::uploads::Uploads,
    service::{
        jobs::{JobQueue, Worker},
        site::SiteCache,
    },
    storage::{ObjectStore, fs::FsStore, measured::Measured, s3::S3Store},
};

/// Everything a request handler needs. Cheap to clone. Beyond connection pools its only
/// per-instance state is the feed cache, which the database keeps current, so several instances
/// can serve behind one load balancer.
#[derive(Debug)]
pub struct App {
    pub settings: Settings,
    /// Download counting; its writer task keeps all state in the database.
    pub analytics: Recorder,
    /// Feeds as served, rebuilt when the database says they changed (see `http::feeds::cache`).
    pub feeds: FeedCache,
    /// The `Content-Security-Policy` of pages, of the embeddable player and of a feed in a
    /// browser (they name the media's origin, which the settings give).
    pub policies: http::security::Policies,
    /// Resumable uploads receiving at once on this instance (`SIARAN_MAX_CONCURRENT_UPLOADS`).
    pub upload_slots: Arc<tokio::sync::Semaphore>,
    /// This process's spool folder, locked while it lives (see `reconcile`).
    pub spool: ProcessSpool,
    /// Rate limits and the cap on streams per address (`http::limits`).
    pub limits: http::limits::Limits,
    /// True once the instance begins to shut down (uploads then keep what arrived).
    pub stopping: tokio::sync::watch::Sender<bool>,
    /// Clip verification's bounds and slots (`service::verify`).
    pub verifier: crate::service::verify::Verifier,
    /// Prometheus metrics, when `SIARAN_METRICS_LISTEN` or `SIARAN_METRICS_TOKEN` is set
    /// (`http::metrics`).
    pub metrics: Option<Arc<http::metrics::Metrics>>,
    /// The database, the tracked store, the URLs and the spool, as the operations (`service`) and
    /// the handlers' reads use them, with this feed cache as the operations' notifier.
    pub ctx: Ctx,
}

#[derive(Debug, Clone)]
pub struct AppState(pub Arc<App>);

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

impl App {
    /// Where uploads wait while they are hashed and probed: this process's folder (see
    /// `spool_base`).
    pub fn spool(&self) -> Spool {
        self.spool.spool.clone()
    }

    /// Resumable uploads' storage and state (see `service::uploads`).
    pub fn uploads(&self) -> Uploads {
        Uploads {
            ctx: self.ctx.clone(),
            expiry: self.settings.upload_expiry,
            limits: crate::service::uploads::Limits {
                open: self.settings.max_open_uploads,
                open_bytes: self.settings.max_open_upload_bytes,
            },
            stopping: self.stopping.subscribe(),
        }
    }
}

/// The folder under which each process keeps its spool folder: the configured one, else for a
/// filesystem store a folder inside it (same filesystem, so an upload is linked into the store
/// rather than copied), else the system's temporary folder.
fn spool_base(settings: &Settings) -> std::path::PathBuf {
    settings
        .spool_dir
        .clone()
        .or_else(|| match &settings.storage_url {
            StorageUrl::File(root) => Some(root.join(".spool")),
            StorageUrl::S3 { .. } => None,
        })
        .unwrap_or_else(std::env::temp_dir)
}

impl AppState {
    /// Connects to the database (running migrations) and the object store, and checks both
    /// answer. Every configuration mistake surfaces here, before a port is bound.
    pub async fn build(settings: Settings) -> anyhow::Result<AppState> {
        let db = connect_db(&settings).await?;
        let store = open_store(&settings.storage_url).await?;
        AppState::from_parts(settings, db, store)
    }

    /// The state over a database and a store already connected (tests bring their own); starts
    /// the download-counting writer and the feed cache's listeners on the current runtime.
    pub fn from_parts(
        settings: Settings,
        db: Arc<dyn Db>,
        store: Arc<dyn ObjectStore>,
    ) -> anyhow::Result<AppState> {
        let spool = ProcessSpool::create(spool_base(&settings)).context("spool folder")?;
        let metrics = http::metrics::Metrics::new(&settings)?;
        // The store's own operations timed, inside the notes (which are the database's).
        let store: Arc<dyn ObjectStore> = match &metrics {
            Some(m) => Arc::new(Measured::new(store, m.store())),
            None => store,
        };
        // Every write goes through the notes the reconciler reads.
        let store: Arc<dyn ObjectStore> =
            Arc::new(TrackedStore::new(store, db.clone(), settings.write_lease));
        let urls = Urls::new(settings.public_url.clone());
        let geoip = match &settings.geoip_db {
            Some(file) => Some(Arc::new(GeoIp::open(file)?)),
            None => None,
        };
        let analytics = Recorder::start(db.clone(), geoip);
        let site = SiteCache::default();
        let timing = metrics
            .as_ref()
            .map(|m| m.feed_builds())
            .unwrap_or_default();
        let feeds = FeedCache::start(&settings, db.clone(), urls.clone(), site.clone(), timing)?;
        let policies = http::security::Policies::new(&settings.public_url, &settings.delivery);
        let settings_limits = settings.limits;
        let settings_verify = settings.verify;
        let upload_slots = Arc::new(tokio::sync::Semaphore::new(
            settings.max_concurrent_uploads.max(1),
        ));
        let ctx = Ctx {
            db,
            store,
            feeds: Arc::new(feeds.clone()),
            urls,
            spool: spool.spool.clone(),
            jobs: JobQueue::default(),
            site,
            keys: Arc::new(signing_keys(&settings)?),
        };
        let state = AppState(Arc::new(App {
            settings,
            analytics,
            feeds,
            policies,
            upload_slots,
            spool,
            limits: http::limits::Limits::new(&settings_limits),
            stopping: tokio::sync::watch::Sender::new(false),
            verifier: crate::service::verify::Verifier::new(&settings_verify),
            metrics,
            ctx,
        }));
        state.uploads().start_cleanup();
        Ok(state)
    }
}

/// What a one-shot command (`siaran import`, `import-feed`) runs operations with: the database,
/// the store wrapped for crash safety, a spool folder, and a feed notifier that tells serving
/// instances and the hub of its changes. Nothing that serves (no download counting, no feed
/// listener, no upload cleanup, no reconciler).
#[derive(Debug)]
pub struct CommandContext {
    pub ctx: Ctx,
    /// Held for the spool folder's lock while the command runs.
    _spool: ProcessSpool,
}

impl CommandContext {
    pub async fn build(settings: &Settings) -> anyhow::Result<CommandContext> {
        let db = connect_db(settings).await?;
        let store = open_store(&settings.storage_url).await?;
        let spool = ProcessSpool::create(spool_base(settings)).context("spool folder")?;
        let store: Arc<dyn ObjectStore> =
            Arc::new(TrackedStore::new(store, db.clone(), settings.write_lease));
        let urls = Urls::new(settings.public_url.clone());
        let site = SiteCache::default();
        let feeds = FeedCache::new(settings, db.clone(), urls.clone(), site.clone())?;
        Ok(CommandContext {
            ctx: Ctx {
                db,
                store,
                feeds: Arc::new(feeds),
                urls,
                spool: spool.spool.clone(),
                jobs: JobQueue::default(),
                site,
                keys: Arc::new(signing_keys(settings)?),
            },
            _spool: spool,
        })
    }
}

/// What the reconciler would repair, nothing changed (`siaran check`): the database is opened
/// as it is (no migration) and no key, spool or write note is made.
pub async fn check_store(settings: &Settings) -> anyhow::Result<crate::reconcile::Findings> {
    let db = AnyDb::connect(settings.database_url.expose()).await?;
    Reconciler {
        db: Arc::new(db),
        store: open_store(&settings.storage_url).await?,
        spool_base: spool_base(settings),
        lease: settings.write_lease,
    }
    .check(chrono::Utc::now())
    .await
}

/// The key publication records are signed with (`SIARAN_SIGNING_KEY`, else the default one).
/// PostgreSQL means instances that share one log, so they must share the key: there it is not
/// made up per process (each would sign with its own, and the site would list only one).
pub fn signing_keys(settings: &Settings) -> anyhow::Result<crate::service::transparency::Keys> {
    let s = &settings.signing;
    if s.key.is_none() && !settings.database_url.expose().starts_with("sqlite:") {
        anyhow::bail!(
            "SIARAN_SIGNING_KEY is not set: with PostgreSQL every instance signs publication \
             records with the same key; create one with `siaran keys generate --out FILE` and \
             give every instance its path (docs/transparency.md)"
        );
    }
    crate::service::transparency::Keys::load(s.key.as_deref(), &s.data_dir, s.retired.as_deref())
}

pub async fn connect_db(settings: &Settings) -> anyhow::Result<Arc<dyn Db>> {
    let db = AnyDb::connect(settings.database_url.expose()).await?;
    db.migrate().await?;
    Ok(Arc::new(db))
}

pub async fn open_store(url: &StorageUrl) -> anyhow::Result<Arc<dyn ObjectStore>> {
    let store: Arc<dyn ObjectStore> = match url {
        StorageUrl::File(root) => Arc::new(
            FsStore::open(root.clone())
                .await
                .with_context(|| format!("cannot use storage folder {}", root.display()))?,
        ),
        StorageUrl::S3 { bucket, prefix } => {
            let url = url::Url::parse(&format!("s3://{bucket}/{prefix}"))
                .context("bad S3 storage URL")?;
            Arc::new(S3Store::from_url(&url).await?)
        }
    };
    store
        .check()
        .await
        .context("the object store does not answer")?;
    Ok(store)
}

/// All routes. JSON API and feeds get a request timeout; media streams and uploads do not
/// (a two-hour download over a slow phone link is normal).
pub fn build_router(state: AppState) -> Router {
    // Writes and search are rate-limited, media streams capped per address (`http::limits`);
    // feeds, pages and assets are not (answered from memory), nor passed through the check.
    let limit = || axum::middleware::from_fn_with_state(state.clone(), http::limits::rate_limit);
    let timed = Router::new()
        .merge(
            Router::new()
                .merge(http::shows::router())
                .merge(http::episodes::router())
                .merge(http::episode_files::router())
                .merge(http::documents::router())
                .merge(http::stats::router())
                .merge(http::artwork::router())
                .merge(http::history::router())
                .merge(http::search::router())
                .merge(http::studio::router(&state))
                .route_layer(limit()),
        )
        .merge(http::health::router())
        .merge(http::openapi::router())
        .merge(http::feeds::router())
        .merge(http::site::router())
        .merge(http::pages::router())
        .merge(http::transparency::router())
        .merge(http::assets::router())
        .merge(http::metrics::router(&state));
    let untimed = Router::new()
        .merge(
            Router::new()
                .merge(http::media::router())
                .merge(http::uploads::router())
                .merge(http::document_files::router())
                .merge(http::studio::untimed_router(&state))
                // A clip for verification may take minutes to arrive (`service::verify` bounds
                // it); its page, `GET /cek`, is here too, as one path cannot be in both groups.
                .merge(http::verify::router())
                .route_layer(limit())
                .route_layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    http::limits::cap_streams,
                )),
        )
        .fallback(http::not_found);
    let measure = state.metrics.clone().map(http::metrics::Measure::new);
    let receiving = measure
        .clone()
        .map(http::metrics::Measure::receiving_uploads);
    layered(timed, Some(http::middleware::Timeout), measure)
        .merge(layered(untimed, None, receiving))
        .with_state(state)
}

/// `router` with the layers every request passes (its trace span, the security headers every
/// response carries, `Connection: close` after a refused body, error bodies in the asked-for
/// language), innermost the timeout when given, and `405` for a known path asked with another
/// method. In one `layer` call: each call wraps every route in one more boxed service, cloned for
/// each request (a call per layer cost a feed's 304 9% more instructions, and the timeout's own
/// call 4% more).
fn layered(
    router: Router<AppState>,
    timeout: Option<http::middleware::Timeout>,
    measure: Option<http::metrics::Measure>,
) -> Router<AppState> {
    router
        .method_not_allowed_fallback(http::method_not_allowed)
        .layer(
            ServiceBuilder::new()
                .layer(TraceLayer::new_for_http().make_span_with(request_span))
                // Inside the span (whose body type is its own), outside the rest: the request's
                // whole time but the span's, and its response body as it leaves.
                .option_layer(measure)
                // Outside the timeout, so that its 503 is finished too.
                .layer(http::middleware::FINISH)
                .option_layer(timeout),
        )
}

/// A request's span, named by its matched route; at info level, but at debug for a show's feed:
/// making and formatting an enabled span was a sixth of the instructions of a feed's 304 (the
/// most asked-for answer, and one that cannot wait or fail when the feed is in memory), as much
/// as the answer itself. `RUST_LOG=debug` shows those spans; a failure (5xx) is logged at error
/// level whatever the span's.
fn request_span(req: &Request) -> tracing::Span {
    // Borrowed, not copied: the span records the text when the level is enabled.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| req.uri().path(), MatchedPath::as_str);
    if route == http::feeds::SHOW_FEED_ROUTE {
        let path = req.uri().path();
        tracing::debug_span!("request", method = %req.method(), route, path)
    } else {
        tracing::info_span!("request", method = %req.method(), route)
    }
}

/// Serves until `shutdown` resolves, then stops accepting and lets in-flight requests finish
/// (see `connections`, which also closes slow and idle connections).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Serving instances repair what crashed writes left (see `reconcile`); one-shot commands
    // (`import`) do not, so that their exit never cuts a pass short.
    Reconciler {
        db: state.ctx.db.clone(),
        store: state.ctx.store.clone(),
        spool_base: state.spool.base.clone(),
        lease: state.settings.write_lease,
    }
    .start(state.settings.reconcile_every);
    // Rate-limit buckets full again are forgotten, so their memory stays bounded.
    let limits = std::sync::Arc::downgrade(&state.0);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            match limits.upgrade() {
                Some(app) => app.limits.shrink(),
                None => return,
            }
        }
    });
    // Metrics: the separate listener, if any, and the histograms' samples drained into their
    // buckets every few seconds, so that a long wait between scrapes costs no memory.
    if let Some(metrics) = &state.metrics {
        http::metrics::serve_separate(&state).map_err(std::io::Error::other)?;
        let metrics = Arc::downgrade(metrics);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                match metrics.upgrade() {
                    Some(m) => m.upkeep(),
                    None => return,
                }
            }
        });
    }
    // And run background jobs (a media file's analysis), which one-shot commands only queue. On
    // shutdown the workers stop first, each giving its running job back to the queue.
    let quality = crate::service::quality::config(&state.settings.quality);
    let workers: Vec<_> = (0..state.settings.jobs.workers)
        .map(|_| {
            Worker {
                ctx: state.ctx.clone(),
                quality: quality.clone(),
                timing: state.settings.jobs,
            }
            .start()
        })
        .collect();
    let stopping = state.clone();
    let shutdown = async move {
        shutdown.await;
        stopping.stopping.send_replace(true);
        futures_util::future::join_all(workers.into_iter().map(|w| w.stop())).await;
    };
    // Scheduled episodes are recorded in the transparency log when their time comes.
    crate::service::transparency::start_recorder(state.ctx.clone(), state.settings.jobs.poll);
    let header_read_timeout = state.settings.header_read_timeout;
    crate::http::connections::serve(listener, build_router(state), header_read_timeout, shutdown)
        .await;
    Ok(())
}

/// How long in-flight requests may run on after SIGTERM. Media streams to a slow phone can
/// last an hour; a deploy must not wait for them, and players resume with a range request.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);

/// Serves until Ctrl-C or SIGTERM, then drains in-flight requests for at most `drain`.
pub async fn serve_until_signal(
    listener: TcpListener,
    state: AppState,
    drain: Duration,
) -> std::io::Result<()> {
    let (stopping_tx, mut stopping) = tokio::sync::watch::channel(false);
    let signal = async move {
        shutdown_signal().await;
        let _ = stopping_tx.send(true);
    };
    let server = serve(listener, state, signal);
    tokio::select! {
        result = server => result,
        () = async {
            let _ = stopping.wait_for(|s| *s).await;
            tokio::time::sleep(drain).await;
        } => {
            tracing::warn!(seconds = drain.as_secs(), "requests still running after the drain timeout; exiting");
            Ok(())
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: draining in-flight requests");
}
