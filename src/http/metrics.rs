//! Prometheus metrics: what is recorded, and `/metrics`, the text format Prometheus scrapes.
//!
//! Exposed only when configured: on a separate address (`SIARAN_METRICS_LISTEN`, a small axum
//! server of its own started and stopped with the main one), and/or on the main address behind
//! `Authorization: Bearer $SIARAN_METRICS_TOKEN` (401 otherwise). With neither, nothing is
//! recorded and `/metrics` is a 404 like any unknown path.
//!
//! Each instance records into its own `PrometheusRecorder`, through handles it holds (the
//! `metrics` crate's `Counter`/`Histogram`/`Gauge`), never through the crate's global recorder:
//! tests start several instances in one process, and each must report its own requests. No
//! `metrics::counter!` macro is used for that reason.
//!
//! Where each figure comes from:
//! - requests by route (axum's `MatchedPath` template, `unmatched` for the fallback: never the
//!   raw path), method and status code, with their latency until the response's head:
//!   [`Measure`], a plain tower layer outside every other (`app::layered`). Its handles are
//!   looked up per route and answer, registered once; a request allocates nothing unless its
//!   body or its response's is counted (one box each).
//! - bytes served and received by route: the response and request bodies wrapped by
//!   [`Measure`], counted frame by frame as they stream (a media stream is never buffered;
//!   bytes a client did not take are not counted).
//! - uploads in progress: request bodies being received on the routes that take files, from
//!   the wrap to the body's end or drop ([`Measure::receiving_uploads`]).
//! - the object store's operations (`storage::measured`), the feed builds' durations and their
//!   database reads (`http::feeds::cache`): handles given at start-up.
//! - read when scraped, so that the hot paths pay nothing: feed builds (`FeedCache::builds`),
//!   download hits dropped by the counting queue (`analytics::Recorder::dropped`), database
//!   errors (`db::errors`, counted where driver errors become `DbError`s, process-wide), the
//!   pool's connections, and the background jobs by kind and state (one grouped query of the shared table, so every
//!   instance reports the same truth).

use std::{
    collections::{HashMap, HashSet},
    convert::Infallible,
    net::SocketAddr,
    pin::Pin,
    sync::{Arc, LazyLock, Mutex, PoisonError, RwLock},
    task::{Context, Poll, ready},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use axum::{
    Router,
    body::{Body, Bytes, HttpBody},
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, HeaderValue, Method, header},
    response::{IntoResponse as _, Response},
    routing::get,
};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Label, Level, Metadata, Recorder as _};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use tower::{Layer, Service};

use crate::{
    app::{App, AppState},
    config::Settings,
    db::{JobKind, JobState},
    http::{error::AppError, feeds::cache::BuildTiming},
    storage::measured::{OpMetrics, StoreMetrics},
};

/// Histogram buckets, in seconds, for every duration: 1 ms to 10 s, a web service's range.
pub const BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The route label of a request no route matched (the 404 fallback).
pub const UNMATCHED: &str = "unmatched";

const REQUESTS: &str = "siaran_http_requests_total";
const REQUEST_SECONDS: &str = "siaran_http_request_duration_seconds";
const SENT_BYTES: &str = "siaran_http_response_body_bytes_total";
const RECEIVED_BYTES: &str = "siaran_http_request_body_bytes_total";
const UPLOADS_IN_PROGRESS: &str = "siaran_uploads_in_progress";
const FEED_BUILDS: &str = "siaran_feed_builds_total";
const FEED_BUILD_SECONDS: &str = "siaran_feed_build_duration_seconds";
const STORE_SECONDS: &str = "siaran_store_operation_duration_seconds";
const STORE_ERRORS: &str = "siaran_store_errors_total";
const DB_SECONDS: &str = "siaran_db_query_duration_seconds";
const DB_ERRORS: &str = "siaran_db_errors_total";
const DB_CONNECTIONS: &str = "siaran_db_connections";
const ANALYTICS_DROPPED: &str = "siaran_analytics_dropped_total";
const JOBS: &str = "siaran_jobs";

/// What each metric is, as `# HELP` says it.
const DESCRIBED: [(&str, &str); 14] = [
    (
        REQUESTS,
        "HTTP requests answered, by route template, method and status code",
    ),
    (
        REQUEST_SECONDS,
        "Time from a request to its response's head, by route template, method and status code",
    ),
    (
        SENT_BYTES,
        "Response body bytes sent, by route template, counted as they stream",
    ),
    (
        RECEIVED_BYTES,
        "Request body bytes received, by route template, counted as they stream",
    ),
    (
        UPLOADS_IN_PROGRESS,
        "Uploads (media, tus PATCH, documents, the studio's files) receiving a body now",
    ),
    (
        FEED_BUILDS,
        "Feeds built from the database on this instance (cache hits are not builds)",
    ),
    (
        FEED_BUILD_SECONDS,
        "Duration of a feed build: database reads, XML and gzip",
    ),
    (
        STORE_SECONDS,
        "Duration of object store operations (a get until its stream is open), by operation",
    ),
    (
        STORE_ERRORS,
        "Failed object store operations, by operation (a get's stream failing mid-body included)",
    ),
    (
        DB_SECONDS,
        "Duration of measured database reads: the feed build's and the scrape's job counts",
    ),
    (
        DB_ERRORS,
        "Database errors in this process, by kind (a missing row is an answer, not counted)",
    ),
    (
        DB_CONNECTIONS,
        "Database pool connections, open (idle included) and idle",
    ),
    (
        ANALYTICS_DROPPED,
        "Download hits dropped because the counting queue was full",
    ),
    (
        JOBS,
        "Background jobs in the shared database, by kind and state",
    ),
];

const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER",
];

/// The method's label, from a fixed set (any other method is `OTHER`: unbounded label values
/// would be a way to fill the registry).
fn method_index(m: &Method) -> u8 {
    if m == Method::GET {
        0
    } else if m == Method::HEAD {
        1
    } else if m == Method::POST {
        2
    } else if m == Method::PUT {
        3
    } else if m == Method::PATCH {
        4
    } else if m == Method::DELETE {
        5
    } else if m == Method::OPTIONS {
        6
    } else {
        7
    }
}

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// The route templates seen in this process, each leaked once: a bounded set (the router's
/// templates and [`UNMATCHED`]), so that the handles' table can be keyed by `&'static str`.
static ROUTES: LazyLock<Mutex<HashSet<&'static str>>> = LazyLock::new(Mutex::default);

fn intern(route: &str) -> &'static str {
    let mut routes = ROUTES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(r) = routes.get(route) {
        return r;
    }
    let r: &'static str = Box::leak(route.into());
    routes.insert(r);
    r
}

/// One instance's metrics: its recorder, the handles of its routes, and how `/metrics` is
/// exposed.
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
    /// SHA-256 of `SIARAN_METRICS_TOKEN`: compared in constant time with the presented token's.
    token: Option<[u8; 32]>,
    /// `SIARAN_METRICS_LISTEN`, bound at start-up (a taken port fails before serving); taken by
    /// `serve`.
    listener: Mutex<Option<std::net::TcpListener>>,
    /// Where the separate listener listens (its port when 0 was asked).
    pub listen: Option<SocketAddr>,
    /// By route template: the router's own, so keys no client chooses (hence foldhash).
    routes: RwLock<HashMap<&'static str, Arc<RouteMetrics>, foldhash::fast::RandomState>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("token", &self.token.map(|_| "(set)"))
            .field("listen", &self.listen)
            .finish_non_exhaustive()
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

fn key(name: &'static str, labels: Vec<Label>) -> Key {
    Key::from_parts(name, labels)
}

impl Metrics {
    /// The instance's metrics when `SIARAN_METRICS_LISTEN` or `SIARAN_METRICS_TOKEN` is set
    /// (binding the separate address now), else `None`: nothing recorded, nothing exposed.
    pub fn new(settings: &Settings) -> anyhow::Result<Option<Arc<Metrics>>> {
        let token = settings
            .metrics_token
            .as_ref()
            .map(|t| Sha256::digest(t.expose().as_bytes()).into());
        if token.is_none() && settings.metrics_listen.is_none() {
            return Ok(None);
        }
        let listener = settings
            .metrics_listen
            .map(|addr| {
                let l = std::net::TcpListener::bind(addr)
                    .with_context(|| format!("cannot listen on {addr} (SIARAN_METRICS_LISTEN)"))?;
                l.set_nonblocking(true)?;
                anyhow::Ok(l)
            })
            .transpose()?;
        let listen = listener.as_ref().map(|l| l.local_addr()).transpose()?;
        let recorder = PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .context("histogram buckets")?
            .build_recorder();
        for (name, help) in DESCRIBED {
            // The kind matters not to this exporter; a counter's description serves them all.
            recorder.describe_counter(KeyName::from_const_str(name), None, help.into());
        }
        Ok(Some(Arc::new(Metrics {
            handle: recorder.handle(),
            recorder: Arc::new(recorder),
            token,
            listener: Mutex::new(listener),
            listen,
            routes: RwLock::default(),
        })))
    }

    fn counter(&self, name: &'static str, labels: Vec<Label>) -> Counter {
        self.recorder
            .register_counter(&key(name, labels), &METADATA)
    }

    fn histogram(&self, name: &'static str, labels: Vec<Label>) -> Histogram {
        self.recorder
            .register_histogram(&key(name, labels), &METADATA)
    }

    fn gauge(&self, name: &'static str, labels: Vec<Label>) -> Gauge {
        self.recorder.register_gauge(&key(name, labels), &METADATA)
    }

    /// The object store's handles (`storage::measured`).
    pub fn store(&self) -> StoreMetrics {
        StoreMetrics::new(|op| OpMetrics {
            seconds: self.histogram(
                STORE_SECONDS,
                vec![Label::from_static_parts("operation", op)],
            ),
            errors: self.counter(
                STORE_ERRORS,
                vec![Label::from_static_parts("operation", op)],
            ),
        })
    }

    /// The feed cache's handles.
    pub fn feed_builds(&self) -> BuildTiming {
        BuildTiming {
            build_seconds: self.histogram(FEED_BUILD_SECONDS, vec![]),
            read_seconds: self
                .histogram(DB_SECONDS, vec![Label::from_static_parts("query", "feed")]),
        }
    }

    /// The separate listener, once (`serve` takes it).
    pub fn take_listener(&self) -> Option<std::net::TcpListener> {
        self.listener
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Drains the histograms' samples into their buckets, so that their memory stays bounded
    /// between scrapes (`app::serve` calls it every few seconds).
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// The handles of `route`'s requests, registered the first time it is seen.
    fn route(&self, route: &str) -> Arc<RouteMetrics> {
        if let Some(r) = read(&self.routes).get(route) {
            return r.clone();
        }
        let route = intern(route);
        write(&self.routes)
            .entry(route)
            .or_insert_with(|| {
                let label = || vec![Label::from_static_parts("route", route)];
                Arc::new(RouteMetrics {
                    route,
                    recorder: self.recorder.clone(),
                    sent: self.counter(SENT_BYTES, label()),
                    received: self.counter(RECEIVED_BYTES, label()),
                    answers: RwLock::default(),
                })
            })
            .clone()
    }

    /// Is this `Authorization` header the metrics token?
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(expected) = &self.token else {
            return false;
        };
        // The scheme's name is case-insensitive (RFC 9110, section 11.1).
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        presented.is_some_and(|p| bool::from(Sha256::digest(p.as_bytes()).ct_eq(expected)))
    }

    /// The text Prometheus scrapes, with the figures read at scrape time brought up to date.
    async fn render(&self, app: &App) -> String {
        let started = Instant::now();
        match app.ctx.db.job_counts().await {
            Ok(counts) => {
                self.histogram(
                    DB_SECONDS,
                    vec![Label::from_static_parts("query", "job_counts")],
                )
                .record(started.elapsed());
                for kind in JobKind::ALL {
                    for state in JobState::ALL {
                        let n = counts
                            .iter()
                            .find(|(k, s, _)| *k == kind && *s == state)
                            .map_or(0, |(_, _, n)| *n);
                        let labels = vec![
                            Label::from_static_parts("kind", kind.as_str()),
                            Label::from_static_parts("state", state.as_str()),
                        ];
                        #[expect(clippy::cast_precision_loss, reason = "a count of jobs")]
                        self.gauge(JOBS, labels).set(n as f64);
                    }
                }
            }
            // The other figures are still worth having; the jobs' keep their last values.
            Err(e) => tracing::warn!(error = %e, "metrics: cannot count the background jobs"),
        }
        let pool = app.ctx.db.pool_state();
        self.gauge(
            DB_CONNECTIONS,
            vec![Label::from_static_parts("state", "open")],
        )
        .set(f64::from(pool.open));
        self.gauge(
            DB_CONNECTIONS,
            vec![Label::from_static_parts("state", "idle")],
        )
        .set(f64::from(pool.idle));
        for (kind, n) in crate::db::errors() {
            self.counter(DB_ERRORS, vec![Label::from_static_parts("kind", kind)])
                .absolute(n);
        }
        self.counter(ANALYTICS_DROPPED, vec![])
            .absolute(app.analytics.dropped());
        self.counter(FEED_BUILDS, vec![])
            .absolute(app.feeds.builds());
        let mut text = self.handle.render();
        db_calls_text(&mut text, &crate::db::timing::calls());
        text
    }
}

/// A route's handles: bytes each way, and per method and status its requests and latencies.
struct RouteMetrics {
    route: &'static str,
    recorder: Arc<PrometheusRecorder>,
    sent: Counter,
    received: Counter,
    /// Few per route (a method or two, a handful of statuses): a scan is cheaper than a hash.
    answers: RwLock<Vec<Answer>>,
}

struct Answer {
    method: u8,
    status: u16,
    requests: Counter,
    seconds: Histogram,
}

impl RouteMetrics {
    fn answered(&self, method: u8, status: axum::http::StatusCode, took: Duration) {
        let code = status.as_u16();
        let record = |a: &Answer| {
            a.requests.increment(1);
            a.seconds.record(took);
        };
        if let Some(a) = read(&self.answers)
            .iter()
            .find(|a| a.method == method && a.status == code)
        {
            return record(a);
        }
        let mut answers = write(&self.answers);
        if let Some(a) = answers
            .iter()
            .find(|a| a.method == method && a.status == code)
        {
            return record(a);
        }
        let labels = || {
            vec![
                Label::from_static_parts("route", self.route),
                Label::from_static_parts("method", METHODS[usize::from(method)]),
                Label::new("status", status.as_str().to_owned()),
            ]
        };
        let answer = Answer {
            method,
            status: code,
            requests: self
                .recorder
                .register_counter(&key(REQUESTS, labels()), &METADATA),
            seconds: self
                .recorder
                .register_histogram(&key(REQUEST_SECONDS, labels()), &METADATA),
        };
        record(&answer);
        answers.push(answer);
    }
}

/// The request-metrics layer: a plain tower layer (see `http::middleware` on why not
/// `from_fn`).
#[derive(Debug, Clone)]
pub struct Measure {
    metrics: Arc<Metrics>,
    /// Set on the routes that take files (`app::build_router`'s untimed group: media, tus,
    /// documents, the studio's files): a body received there is an upload in progress.
    uploads: Option<Gauge>,
}

impl Measure {
    pub fn new(metrics: Arc<Metrics>) -> Measure {
        Measure {
            metrics,
            uploads: None,
        }
    }

    /// The layer of the routes that take files.
    #[must_use]
    pub fn receiving_uploads(self) -> Measure {
        Measure {
            uploads: Some(self.metrics.gauge(UPLOADS_IN_PROGRESS, vec![])),
            ..self
        }
    }
}

impl<S> Layer<S> for Measure {
    type Service = Measured<S>;
    fn layer(&self, inner: S) -> Measured<S> {
        Measured {
            inner,
            measure: self.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Measured<S> {
    inner: S,
    measure: Measure,
}

impl<S> Service<Request> for Measured<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Measuring<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let started = Instant::now();
        let route = self.measure.metrics.route(
            req.extensions()
                .get::<MatchedPath>()
                .map_or(UNMATCHED, MatchedPath::as_str),
        );
        let method = method_index(req.method());
        let req = if req.body().is_end_stream() {
            req
        } else {
            let bytes = route.received.clone();
            let receiving = self.measure.uploads.clone().inspect(|g| g.increment(1));
            req.map(|body| {
                Body::new(Counted {
                    body,
                    bytes,
                    receiving,
                })
            })
        };
        Measuring {
            inner: self.inner.call(req),
            started,
            route: Some(route),
            method,
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`Measured`]: the inner one's, recorded when it is ready.
    pub struct Measuring<F> {
        #[pin]
        inner: F,
        started: Instant,
        route: Option<Arc<RouteMetrics>>,
        method: u8,
    }
}

impl<F: Future<Output = Result<Response, Infallible>>> Future for Measuring<F> {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let res = ready!(this.inner.poll(cx))?;
        let route = this
            .route
            .take()
            .expect("a finished response is not polled again");
        route.answered(*this.method, res.status(), this.started.elapsed());
        if res.body().is_end_stream() {
            return Poll::Ready(Ok(res));
        }
        let bytes = route.sent.clone();
        Poll::Ready(Ok(res.map(|body| {
            Body::new(Counted {
                body,
                bytes,
                receiving: None,
            })
        })))
    }
}

/// A body whose data is counted as it passes, frame by frame; its size hint is the inner
/// body's, so a `Content-Length` stays.
struct Counted {
    body: Body,
    bytes: Counter,
    /// An upload's: taken down by one when the body ends or is dropped unfinished.
    receiving: Option<Gauge>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        if let Some(g) = self.receiving.take() {
            g.decrement(1);
        }
    }
}

impl HttpBody for Counted {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let frame = ready!(Pin::new(&mut self.body).poll_frame(cx));
        if let Some(Ok(data)) = frame
            .as_ref()
            .map(|f| f.as_ref().map(http_body::Frame::data_ref))
            && let Some(data) = data
        {
            self.bytes.increment(data.len() as u64);
        }
        if frame.is_none()
            && let Some(g) = self.receiving.take()
        {
            g.decrement(1);
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// `/metrics` on the main address, when a token is configured; nothing otherwise (a 404).
pub fn router(state: &AppState) -> Router<AppState> {
    match &state.metrics {
        Some(m) if m.token.is_some() => Router::new().route("/metrics", get(scrape_with_token)),
        _ => Router::new(),
    }
}

async fn scrape_with_token(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let metrics = state.metrics.as_ref().ok_or(AppError::Unauthorized)?;
    if !metrics.authorized(&headers) {
        let mut res = AppError::Unauthorized.into_response();
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return Ok(res);
    }
    Ok(text(metrics.render(&state).await))
}

async fn scrape_open(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(metrics) => text(metrics.render(&state).await),
        None => crate::http::not_found().await.into_response(),
    }
}

fn text(body: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

/// Serves `/metrics` on the separate address until the instance begins to stop.
pub fn serve_separate(state: &AppState) -> anyhow::Result<()> {
    let Some(listener) = state.metrics.as_ref().and_then(|m| m.take_listener()) else {
        return Ok(());
    };
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let router = Router::new()
        .route("/metrics", get(scrape_open))
        .fallback(crate::http::not_found)
        .with_state(state.clone());
    let mut stopping = state.stopping.subscribe();
    tokio::spawn(async move {
        let stopped = async move {
            let _ = stopping.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, router)
            .with_graceful_shutdown(stopped)
            .await
        {
            tracing::error!(error = %e, "the metrics listener failed");
        }
    });
    Ok(())
}

/// Every database call's durations (`db::timing`, process-wide), as a Prometheus histogram by
/// the call's name: kept by the timing layer itself, so written here rather than recorded.
fn db_calls_text(out: &mut String, calls: &[(&'static str, crate::db::timing::Timing)]) {
    use std::fmt::Write as _;
    if calls.is_empty() {
        return;
    }
    let name = "siaran_db_call_duration_seconds";
    let _ = writeln!(
        out,
        "# HELP {name} Each database call, from its start (waiting for a connection \
         included) to its end, by the method's name.\n# TYPE {name} histogram"
    );
    for (call, t) in calls {
        let mut cumulative = 0;
        for (le, n) in crate::db::timing::BUCKETS.iter().zip(t.buckets) {
            cumulative += n;
            let _ = writeln!(
                out,
                "{name}_bucket{{call=\"{call}\",le=\"{le}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{call=\"{call}\",le=\"+Inf\"}} {count}\n\
             {name}_sum{{call=\"{call}\"}} {sum}\n\
             {name}_count{{call=\"{call}\"}} {count}",
            count = t.count,
            sum = t.sum,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_set_are_other() {
        assert_eq!(METHODS[usize::from(method_index(&Method::GET))], "GET");
        assert_eq!(METHODS[usize::from(method_index(&Method::PATCH))], "PATCH");
        let odd = Method::from_bytes(b"PURGE").unwrap();
        assert_eq!(METHODS[usize::from(method_index(&odd))], "OTHER");
    }

    #[test]
    fn routes_are_interned_once() {
        let a = intern("/feeds/{slug}");
        let b = intern(&String::from("/feeds/{slug}"));
        assert!(std::ptr::eq(a, b));
    }
}
