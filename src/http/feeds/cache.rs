//! Serving feeds: each show's feed document built once per change and kept in memory, with its
//! gzip and brotli encodings compressed once and its validators, plus what keeps that copy
//! honest when several instances serve one database, and the WebSub pings that tell a hub.
//!
//! A cached feed stops being served:
//! - when this instance changes a show or an episode (`changed`, or `invalidate` alone);
//! - on PostgreSQL, when another instance does: `changed` sends `pg_notify` on
//!   [`NOTIFY_CHANNEL`] and every instance LISTENs. While an instance is not listening (at start,
//!   after a lost connection) it stores nothing and serves every request from the database, and
//!   it drops everything once it listens again, so a missed notification cannot leave a stale feed;
//! - when the next scheduled episode's time comes: each entry carries that time, checked against
//!   the clock on every request, so no timer has to fire on time and no query is needed;
//! - [`REVALIDATE_AFTER`] after its build, as a backstop: it is then rebuilt in the background
//!   while still served.
//!
//! What a feed contains is decided by `feed::build` alone, and how it is decorated (the
//! stylesheet reference, the hub link) and compressed by `feed::encode`; this module keeps the
//! results, with the headers of each answer prepared, and knows when they go stale. It is the
//! operations' feed notifier (`service::FeedNotifier`).

pub use super::opml::opml;
pub use super::postgres::NOTIFY_CHANNEL;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, OnceLock, PoisonError, RwLock, Weak,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use anyhow::Context as _;
use axum::http::{HeaderMap, HeaderValue, header};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};
use tokio::sync::Notify;
use tracing::Instrument as _;

use super::{
    postgres::{Change, Peers},
    websub::Hub,
};
use crate::{
    config::Settings,
    db::{Db, DbError},
    domain::{Enclosure, Episode, Show, ShowId, Slug, Urls},
    feed::{
        self,
        encode::{brotli, decorate, gzip, gzip_in_two},
    },
    http::{
        conditional::{http_date, listed_etags},
        security,
    },
    service::{FeedNotifier, site::SiteCache},
};

/// How long a cached feed is served without a rebuild when no notification says it changed:
/// the bound on staleness should a notification ever be lost.
pub const REVALIDATE_AFTER: Duration = Duration::from_secs(60);

/// From this size the brotli encoding is made after the feed is served, on the blocking pool:
/// in a 10,000-episode feed's build (8.3 MB), brotli took 20-30 ms on one core while the hash
/// and gzip took about as long on the other, and the feed waited for both. Until it is ready a
/// client that takes brotli is answered with gzip. Smaller feeds have it at once.
const BROTLI_LATER_FROM: usize = 1 << 20;

/// A content coding of the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Encoding {
    /// The `Content-Encoding` value; none for the document as is.
    pub fn header(self) -> Option<HeaderValue> {
        match self {
            Encoding::Identity => None,
            Encoding::Gzip => Some(HeaderValue::from_static("gzip")),
            Encoding::Brotli => Some(HeaderValue::from_static("br")),
        }
    }
}

/// Podcast apps poll often; five minutes keeps them close to a publish without a stampede.
pub const CACHE_CONTROL: &str = "public, max-age=300";
/// The coding follows `Accept-Encoding`, the type `Accept` (see `ok_browser`).
pub const VARY: &str = "Accept-Encoding, Accept";
pub const RSS_TYPE: &str = "application/rss+xml; charset=utf-8";
/// For browsers: Chromium shows `application/rss+xml` as plain text and Firefox downloads it;
/// as `application/xml` both apply the feed's stylesheet.
pub const BROWSER_TYPE: &str = "application/xml; charset=utf-8";

/// One encoding of a feed with the headers of each answer prepared: a request clones a handle
/// on the body and a header map, and computes or allocates nothing else.
#[derive(Debug)]
pub struct Variant {
    pub body: Bytes,
    /// Strong and quoted; each encoding has its own (RFC 9110 §8.8.3: they are different
    /// representations), all three derived from the document's SHA-256.
    pub etag: HeaderValue,
    /// 200 for a podcast app.
    pub ok: HeaderMap,
    /// 200 for a browser: the same, as [`BROWSER_TYPE`].
    pub ok_browser: HeaderMap,
    /// 304: the validators and caching headers a 200 would carry (RFC 9110 §15.4.5).
    pub not_modified: HeaderMap,
}

impl Variant {
    fn new(body: Bytes, tag: &str, encoding: Encoding, last_modified: &HeaderValue) -> Variant {
        let etag = etag_of(tag, encoding);
        let mut not_modified = HeaderMap::with_capacity(7);
        not_modified.insert(header::ETAG, etag.clone());
        not_modified.insert(header::LAST_MODIFIED, last_modified.clone());
        not_modified.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(CACHE_CONTROL),
        );
        not_modified.insert(header::VARY, HeaderValue::from_static(VARY));
        security::every_response(&mut not_modified);
        let mut ok = not_modified.clone();
        ok.reserve(3);
        ok.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        // The router adds `Content-Length: 0` to an empty body that has none (hyper leaves it
        // out of a 304); said here, a 304's header map is answered as cloned.
        not_modified.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        if let Some(coding) = encoding.header() {
            ok.insert(header::CONTENT_ENCODING, coding);
        }
        let mut ok_browser = ok.clone();
        ok.insert(header::CONTENT_TYPE, HeaderValue::from_static(RSS_TYPE));
        ok_browser.insert(header::CONTENT_TYPE, HeaderValue::from_static(BROWSER_TYPE));
        Variant {
            body,
            etag,
            ok,
            ok_browser,
            not_modified,
        }
    }
}

/// The strong ETag of the `encoding` of the document whose tag is `tag`.
fn etag_of(tag: &str, encoding: Encoding) -> HeaderValue {
    let suffix = match encoding {
        Encoding::Identity => "",
        Encoding::Gzip => "-gz",
        Encoding::Brotli => "-br",
    };
    HeaderValue::from_str(&format!("\"{tag}{suffix}\""))
        .expect("a hex digest and a suffix are a valid header value")
}

/// A show's feed as served.
#[derive(Debug)]
pub struct CachedFeed {
    pub show: ShowId,
    pub last_modified: DateTime<Utc>,
    identity: Variant,
    gzip: Variant,
    /// Empty until made, for a large feed (`BROTLI_LATER_FROM`); `variant` answers gzip then.
    brotli: OnceLock<Variant>,
    /// The brotli variant's ETag, valid before its body is made (`matches` runs per request).
    brotli_etag: HeaderValue,
    /// Epoch milliseconds from which this must not be served: the next scheduled episode's time.
    expires_ms: i64,
    /// Epoch milliseconds after which it is rebuilt in the background ([`REVALIDATE_AFTER`]).
    stale_ms: i64,
}

impl CachedFeed {
    pub fn variant(&self, encoding: Encoding) -> &Variant {
        match encoding {
            Encoding::Identity => &self.identity,
            Encoding::Gzip => &self.gzip,
            Encoding::Brotli => self.brotli.get().unwrap_or(&self.gzip),
        }
    }

    /// Makes the brotli variant on the blocking pool if it is not made yet.
    pub fn finish_in_background(self: &Arc<Self>) {
        if self.brotli.get().is_some() {
            return;
        }
        let feed = self.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let body = brotli(&feed.identity.body);
            let bytes = body.len();
            let tag = feed.etag().trim_matches('"');
            let date = &feed.identity.not_modified[header::LAST_MODIFIED];
            let _ = feed
                .brotli
                .set(Variant::new(body, tag, Encoding::Brotli, date));
            span.in_scope(|| {
                tracing::debug!(
                    brotli_bytes = bytes,
                    brotli_ms = started.elapsed().as_secs_f64() * 1e3,
                    "feed brotli ready"
                );
            });
        });
    }

    /// The strong ETag of the uncompressed document, quoted.
    pub fn etag(&self) -> &str {
        self.identity.etag.to_str().unwrap_or_default()
    }

    /// `If-None-Match` against this feed: the weak comparison (RFC 9110 §13.1.2), and any of
    /// the encodings' tags counts, since each stands for the same document.
    pub fn matches(&self, if_none_match: &str) -> bool {
        let ours = [&self.identity.etag, &self.gzip.etag, &self.brotli_etag];
        // What a podcast app almost always sends: one of the tags, exactly as it was given.
        if ours
            .iter()
            .any(|etag| etag.as_bytes() == if_none_match.as_bytes())
        {
            return true;
        }
        listed_etags(if_none_match)
            .any(|tag| tag == "*" || ours.iter().any(|etag| etag.as_bytes() == tag.as_bytes()))
    }
}

/// Why a feed could not be served.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("no show has this slug")]
    NotFound,
    #[error(transparent)]
    Db(DbError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<DbError> for FeedError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => FeedError::NotFound,
            other => FeedError::Db(other),
        }
    }
}

/// Where a cache records how long its builds take (`http::metrics`); no-ops by default.
#[derive(Debug, Clone)]
pub struct BuildTiming {
    /// A whole build: the database's reads, the XML and its gzip variant.
    pub build_seconds: metrics::Histogram,
    /// The build's reads from the database.
    pub read_seconds: metrics::Histogram,
}

impl Default for BuildTiming {
    fn default() -> BuildTiming {
        BuildTiming {
            build_seconds: metrics::Histogram::noop(),
            read_seconds: metrics::Histogram::noop(),
        }
    }
}

/// The feeds of all shows, as served. Cheap to clone.
#[derive(Clone)]
pub struct FeedCache {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for FeedCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedCache")
            .field("shows", &read(&self.inner.slots).len())
            .field("hub", &self.inner.hub.as_ref().map(Hub::url))
            .field("peers", &self.inner.peers.is_some())
            .finish()
    }
}

struct Inner {
    db: Arc<dyn Db>,
    urls: Urls,
    /// The site settings' copy, dropped when another instance changes them (PostgreSQL).
    site: SiteCache,
    hub: Option<Hub>,
    /// Present on PostgreSQL: the other instances, told of changes and heard from.
    peers: Option<Arc<Peers>>,
    /// By slug, as requests name them.
    slots: RwLock<HashMap<String, Arc<Slot>>>,
    /// Moves on every invalidation: a build that began before one is served to the requests that
    /// waited for it but not kept, since it may have read the database before the change.
    generation: AtomicU64,
    /// SQLite (one instance): the feed each show's hub was last told about. PostgreSQL keeps it
    /// in the database, where the instances agree on it.
    announced: Mutex<HashMap<ShowId, String>>,
    /// Wakes the WebSub scheduler when episodes may have been scheduled.
    schedule: Arc<Notify>,
    /// Feeds built from the database (see `FeedCache::builds`).
    builds: AtomicU64,
    /// How long each build took, from the first read to the compressed variants (the metrics'
    /// handle; a no-op when they are off).
    build_seconds: metrics::Histogram,
    /// How long the build's reads from the database took.
    read_seconds: metrics::Histogram,
}

#[derive(Default)]
struct Slot {
    feed: RwLock<Option<Arc<CachedFeed>>>,
    /// Held while the feed is built, so concurrent requests for a cold feed build it once.
    building: tokio::sync::Mutex<()>,
    refreshing: AtomicBool,
}

enum Current {
    Fresh(Arc<CachedFeed>),
    /// Past [`REVALIDATE_AFTER`]: may still be served while it is rebuilt.
    Stale(Arc<CachedFeed>),
    Missing,
}

impl Slot {
    fn current(&self, now_ms: i64) -> Current {
        match read(&self.feed).clone() {
            Some(feed) if now_ms >= feed.expires_ms => Current::Missing,
            Some(feed) if now_ms >= feed.stale_ms => Current::Stale(feed),
            Some(feed) => Current::Fresh(feed),
            None => Current::Missing,
        }
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

impl FeedCache {
    /// An empty cache. On PostgreSQL it starts listening for the other instances' changes; with
    /// a hub it starts the task that pings it when scheduled episodes come out. Both run on the
    /// current Tokio runtime and end after the cache is dropped.
    /// `timing` takes each build's duration and its database reads' (see `Inner`).
    pub fn start(
        settings: &Settings,
        db: Arc<dyn Db>,
        urls: Urls,
        site: SiteCache,
        timing: BuildTiming,
    ) -> anyhow::Result<FeedCache> {
        let cache = FeedCache::with_timing(settings, db, urls, site, timing)?;
        let inner = &cache.inner;
        if let Some(peers) = &inner.peers {
            tokio::spawn(
                listen(peers.clone(), Arc::downgrade(inner))
                    .instrument(tracing::info_span!("feed_listener")),
            );
        }
        if inner.hub.is_some() {
            tokio::spawn(
                schedule(Arc::downgrade(inner), inner.schedule.clone())
                    .instrument(tracing::info_span!("websub_schedule")),
            );
        }
        Ok(cache)
    }

    /// An empty cache that listens to nothing and schedules nothing: what a one-shot command
    /// (`siaran import`) needs to tell the serving instances and the hub of its changes.
    pub fn new(
        settings: &Settings,
        db: Arc<dyn Db>,
        urls: Urls,
        site: SiteCache,
    ) -> anyhow::Result<FeedCache> {
        FeedCache::with_timing(settings, db, urls, site, BuildTiming::default())
    }

    fn with_timing(
        settings: &Settings,
        db: Arc<dyn Db>,
        urls: Urls,
        site: SiteCache,
        timing: BuildTiming,
    ) -> anyhow::Result<FeedCache> {
        let hub = settings
            .websub_hub
            .clone()
            .map(Hub::new)
            .transpose()
            .context("cannot set up the WebSub hub client")?;
        let url = settings.database_url.expose();
        let peers = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Some(Arc::new(Peers::new(url)?))
        } else {
            None
        };
        let inner = Arc::new(Inner {
            db,
            urls,
            site,
            hub,
            peers,
            slots: RwLock::default(),
            generation: AtomicU64::new(0),
            announced: Mutex::default(),
            schedule: Arc::new(Notify::new()),
            builds: AtomicU64::new(0),
            build_seconds: timing.build_seconds,
            read_seconds: timing.read_seconds,
        });
        Ok(FeedCache { inner })
    }

    /// The feed of the show `slug`: from memory when it is current, else built from the
    /// database (once, however many requests ask at the same time).
    pub async fn get(&self, slug: &str) -> Result<Arc<CachedFeed>, FeedError> {
        self.inner.get(slug).await
    }

    /// Call after changing a show or any of its episodes in the database: drops the feed here,
    /// tells the other instances (returning once the notification has gone round), and with a
    /// hub, pings it in the background if the feed as served has changed. Never fails: a lost
    /// notification is bounded by [`REVALIDATE_AFTER`], a failed ping is logged.
    pub async fn changed(&self, show: ShowId) {
        self.invalidate(show);
        if let Some(peers) = &self.inner.peers {
            peers.notify(Some(show)).await;
        }
        if self.inner.hub.is_some() {
            self.inner.schedule.notify_one();
            let inner = self.inner.clone();
            tokio::spawn(
                async move { inner.announce(show).await }
                    .instrument(tracing::info_span!("websub", %show)),
            );
        }
    }

    /// Drops this instance's copy of `show`'s feed; the next request builds it again.
    pub fn invalidate(&self, show: ShowId) {
        self.inner.invalidate(Some(show));
    }

    /// Drops this instance's copy of every feed.
    pub fn invalidate_all(&self) {
        self.inner.invalidate(None);
    }

    /// How many feeds this instance has built from the database: a request served from memory
    /// does not move it.
    pub fn builds(&self) -> u64 {
        self.inner.builds.load(Ordering::Relaxed)
    }

    /// The configured WebSub hub.
    pub fn hub(&self) -> Option<&url::Url> {
        self.inner.hub.as_ref().map(Hub::url)
    }
}

impl Inner {
    fn invalidate(&self, show: Option<ShowId>) {
        // First the generation, then the entries: a build that checks the generation after this
        // point is not stored, one that stored before it is dropped below.
        self.generation.fetch_add(1, Ordering::SeqCst);
        for slot in read(&self.slots).values() {
            let mut feed = write(&slot.feed);
            if show.is_none_or(|show| feed.as_ref().is_some_and(|f| f.show == show)) {
                *feed = None;
            }
        }
    }

    async fn get(self: &Arc<Self>, slug: &str) -> Result<Arc<CachedFeed>, FeedError> {
        if let Some(feed) = self.cached(slug) {
            return Ok(feed);
        }
        let slug = Slug::parse(slug).map_err(|_| FeedError::NotFound)?;
        // Boxed: the build's future is large, and a request for a feed in memory (nearly all
        // of them) should not carry, or copy, room for it.
        Box::pin(self.load(&slug)).await
    }

    fn cached(self: &Arc<Self>, slug: &str) -> Option<Arc<CachedFeed>> {
        let slots = read(&self.slots);
        let slot = slots.get(slug)?;
        match slot.current(now_ms()) {
            Current::Fresh(feed) => Some(feed),
            Current::Stale(feed) => {
                self.refresh_in_background(slug, slot);
                Some(feed)
            }
            Current::Missing => None,
        }
    }

    async fn load(self: &Arc<Self>, slug: &Slug) -> Result<Arc<CachedFeed>, FeedError> {
        let slot = {
            let mut slots = write(&self.slots);
            slots.entry(slug.as_str().to_owned()).or_default().clone()
        };
        let _building = slot.building.lock().await;
        if let Current::Fresh(feed) = slot.current(now_ms()) {
            return Ok(feed);
        }
        self.rebuild(slug, &slot).await
    }

    /// Builds the feed and keeps it, unless the cache was invalidated meanwhile or cannot hear
    /// other instances. The caller holds `slot.building`.
    async fn rebuild(&self, slug: &Slug, slot: &Arc<Slot>) -> Result<Arc<CachedFeed>, FeedError> {
        let generation = self.generation.load(Ordering::SeqCst);
        let feed = match self.build(slug).await {
            Ok(feed) => {
                let feed = Arc::new(feed);
                feed.finish_in_background();
                feed
            }
            Err(FeedError::NotFound) => {
                // Unknown slugs leave nothing behind, so probing them cannot fill memory.
                let mut slots = write(&self.slots);
                if slots
                    .get(slug.as_str())
                    .is_some_and(|s| Arc::ptr_eq(s, slot))
                {
                    slots.remove(slug.as_str());
                }
                return Err(FeedError::NotFound);
            }
            Err(e) => return Err(e),
        };
        let mut current = write(&slot.feed);
        let listening = self.peers.as_ref().is_none_or(|p| p.is_listening());
        if listening && self.generation.load(Ordering::SeqCst) == generation {
            *current = Some(feed.clone());
        }
        Ok(feed)
    }

    fn refresh_in_background(self: &Arc<Self>, slug: &str, slot: &Arc<Slot>) {
        if slot.refreshing.swap(true, Ordering::SeqCst) {
            return;
        }
        let Ok(slug) = Slug::parse(slug) else { return };
        let (inner, slot) = (self.clone(), slot.clone());
        tokio::spawn(
            async move {
                {
                    let _building = slot.building.lock().await;
                    if !matches!(slot.current(now_ms()), Current::Fresh(_))
                        && let Err(e) = inner.rebuild(&slug, &slot).await
                    {
                        tracing::warn!(error = %e, %slug, "feed revalidation failed; serving the copy at hand");
                    }
                }
                slot.refreshing.store(false, Ordering::SeqCst);
            }
            .instrument(tracing::info_span!("feed_revalidate")),
        );
    }

    #[tracing::instrument(skip_all, fields(%slug))]
    async fn build(&self, slug: &Slug) -> Result<CachedFeed, FeedError> {
        let started = std::time::Instant::now();
        let show = self.db.show_by_slug(slug).await?;
        self.builds.fetch_add(1, Ordering::Relaxed);
        let now = Utc::now();
        // At once, on three connections: the episodes are most of the time, the rest comes free.
        let (items, extras, next) = tokio::try_join!(
            self.db.published_episodes(show.id, now),
            self.db.episode_extras(show.id, None),
            self.db.next_publications(Some(show.id), now),
        )?;
        let next = next.into_iter().map(|(_, at)| at).min();
        let urls = self.urls.clone();
        let hub = self.hub.as_ref().map(|h| h.url().to_string());
        let read = started.elapsed();
        self.read_seconds.record(read);
        let build_seconds = self.build_seconds.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            span.in_scope(|| {
                let feed = render(&show, &items, &extras, &urls, now, hub.as_deref(), next);
                build_seconds.record(started.elapsed());
                tracing::info!(
                    items = items.len(),
                    bytes = feed.identity.body.len(),
                    gzip_bytes = feed.gzip.body.len(),
                    read_ms = read.as_secs_f64() * 1e3,
                    total_ms = started.elapsed().as_secs_f64() * 1e3,
                    "feed built"
                );
                feed
            })
        })
        .await
        .context("building the feed failed")
        .map_err(FeedError::Other)
    }

    /// Tells the hub about `show`'s feed if it differs from what the hub was last told, unless
    /// another instance does so first.
    async fn announce(self: &Arc<Self>, show: ShowId) {
        let Some(hub) = &self.hub else { return };
        let (feed_url, feed) = match self.db.show(show).await {
            Ok(show) => match self.get(show.slug.as_str()).await {
                Ok(feed) => (self.urls.feed(&show.slug), feed),
                Err(e) => {
                    tracing::warn!(error = %e, "WebSub: cannot build the feed; no ping");
                    return;
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "WebSub: cannot read the show; no ping");
                return;
            }
        };
        let claimed = match &self.peers {
            Some(peers) => peers.claim(show, feed.etag()).await.unwrap_or_else(|e| {
                // Better a hub told twice than not at all.
                tracing::warn!(error = %e, "WebSub: cannot claim the ping; pinging anyway");
                true
            }),
            None => {
                let mut announced = self
                    .announced
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                announced.insert(show, feed.etag().to_owned()).as_deref() != Some(feed.etag())
            }
        };
        if !claimed {
            tracing::debug!(%feed_url, "WebSub: the hub already knows this feed");
            return;
        }
        hub.publish(&feed_url).await;
    }
}

/// The feed of `show` at `now`, decorated and compressed: everything a request needs.
fn render(
    show: &Show,
    items: &[(Episode, Enclosure)],
    extras: &feed::Extras,
    urls: &Urls,
    now: DateTime<Utc>,
    hub: Option<&str>,
    next_publication: Option<DateTime<Utc>>,
) -> CachedFeed {
    let started = std::time::Instant::now();
    let feed::Feed { xml, last_modified } = feed::build(show, items, extras, urls, now);
    let identity = Bytes::from(decorate(xml, hub).into_bytes());
    let rendered = started.elapsed();
    let feed = encode(
        show.id,
        identity,
        last_modified,
        next_publication.map_or(i64::MAX, |t| t.timestamp_millis()),
        now.timestamp_millis() + i64::try_from(REVALIDATE_AFTER.as_millis()).unwrap_or(i64::MAX),
    );
    tracing::debug!(
        render_ms = rendered.as_secs_f64() * 1e3,
        compress_ms = (started.elapsed() - rendered).as_secs_f64() * 1e3,
        "feed rendered"
    );
    feed
}

/// The feed whose document is `identity`, with its validators and encodings (brotli maybe
/// later, see `BROTLI_LATER_FROM`).
fn encode(
    show: ShowId,
    identity: Bytes,
    last_modified: DateTime<Utc>,
    expires_ms: i64,
    stale_ms: i64,
) -> CachedFeed {
    // Two cores at once. A small feed: brotli on one, the hash and gzip on the other (about the
    // same time). A large one, whose brotli comes later: gzip in two parts, the hash beside the
    // smaller one.
    let brotli_now = identity.len() < BROTLI_LATER_FROM;
    let split = !brotli_now && std::thread::available_parallelism().map_or(1, |n| n.get()) > 1;
    let sha256 = |data: &[u8]| hex::encode(&Sha256::digest(data)[..16]);
    let (tag, gzip, brotli) = std::thread::scope(|s| {
        if split {
            // In the build's profile the hash took about a third of gzip's samples (SHA-NI
            // against zlib-rs level 6): 3/8 of the document goes with it.
            let at = identity.len() - identity.len() * 3 / 8;
            let (gzip, tag) = gzip_in_two(&identity, at, || sha256(&identity));
            return (tag, gzip, None);
        }
        let brotli = brotli_now.then(|| s.spawn(|| brotli(&identity)));
        let tag = sha256(&identity);
        let gzip = gzip(&identity);
        (
            tag,
            gzip,
            brotli.map(|b| b.join().unwrap_or_else(|p| std::panic::resume_unwind(p))),
        )
    });
    let date = http_date(last_modified);
    CachedFeed {
        show,
        last_modified,
        gzip: Variant::new(gzip, &tag, Encoding::Gzip, &date),
        brotli: brotli
            .map(|b| Variant::new(b, &tag, Encoding::Brotli, &date))
            .map_or_else(OnceLock::new, OnceLock::from),
        brotli_etag: etag_of(&tag, Encoding::Brotli),
        identity: Variant::new(identity, &tag, Encoding::Identity, &date),
        expires_ms,
        stale_ms,
    }
}

/// Listens for the other instances' changes for as long as the cache lives, reconnecting when
/// the connection drops.
async fn listen(peers: Arc<Peers>, cache: Weak<Inner>) {
    const FIRST_RETRY: Duration = Duration::from_millis(200);
    let mut retry = FIRST_RETRY;
    loop {
        match peers.listener().await {
            Ok(mut listener) => {
                peers.set_listening(true);
                // Whatever was built before LISTEN took effect may have missed a change.
                let Some(inner) = cache.upgrade() else { return };
                inner.invalidate(None);
                inner.site.invalidate();
                drop(inner);
                tracing::debug!("listening for other instances' feed changes");
                retry = FIRST_RETRY;
                loop {
                    let received = tokio::select! {
                        received = listener.try_recv() => received,
                        () = peers.deaf.notified() => break,
                    };
                    match received {
                        Ok(Some(notification)) => {
                            let Some(inner) = cache.upgrade() else { return };
                            match peers.receive(notification.payload()) {
                                Some(Change::Feed(show)) => {
                                    inner.invalidate(show);
                                    inner.schedule.notify_one();
                                }
                                Some(Change::Site) => inner.site.invalidate(),
                                None => {}
                            }
                        }
                        Ok(None) => {
                            tracing::warn!("lost the feed-change listener; reconnecting");
                            break;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "feed-change listener failed; reconnecting");
                            break;
                        }
                    }
                }
                peers.set_listening(false);
                let Some(inner) = cache.upgrade() else { return };
                inner.invalidate(None);
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_ms = retry.as_millis(), "cannot listen for feed changes; feeds are built per request until then");
            }
        }
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(Duration::from_secs(10));
    }
}

/// With a hub: pings it for each show whose scheduled episode has come out. Every instance runs
/// this; the claim in `announce` lets one of them ping.
async fn schedule(cache: Weak<Inner>, wake: Arc<Notify>) {
    let mut since = Utc::now();
    loop {
        let Some(inner) = cache.upgrade() else { return };
        let now = Utc::now();
        let mut next = now + REVALIDATE_AFTER;
        let mut due = false;
        match inner.db.next_publications(None, since).await {
            Ok(times) => {
                for (show, at) in times {
                    if at <= now {
                        due = true;
                        let inner = inner.clone();
                        tokio::spawn(
                            async move { inner.announce(show).await }
                                .instrument(tracing::info_span!("websub", %show)),
                        );
                    } else {
                        next = next.min(at);
                    }
                }
                since = now;
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the schedule; retrying"),
        }
        drop(inner);
        if due {
            // Each show's first time only was read: a later one of the same show may be next.
            continue;
        }
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = wake.notified() => {}
        }
    }
}

#[async_trait::async_trait]
impl FeedNotifier for FeedCache {
    async fn changed(&self, show: ShowId) {
        FeedCache::changed(self, show).await;
    }

    /// Drops this instance's copy of the site settings and tells the others (returning once
    /// the notification has gone round); without PostgreSQL they read them again within
    /// `service::site::REVALIDATE_AFTER`.
    async fn site_changed(&self) {
        self.inner.site.invalidate();
        if let Some(peers) = &self.inner.peers {
            peers.notify_site().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\">\n  <channel>\n    <title>T</title>\n    <atom:link href=\"https://x/feeds/a.xml\" rel=\"self\" type=\"application/rss+xml\"></atom:link>\n    <podcast:guid>g</podcast:guid>\n  </channel>\n</rss>\n";

    #[tokio::test]
    async fn a_large_feed_gets_brotli_after_it_is_served() {
        let read = |v: &Variant| {
            let mut back = Vec::new();
            match v.ok.get(header::CONTENT_ENCODING).map(|e| e.as_bytes()) {
                Some(b"br") => brotli::BrotliDecompress(&mut &v.body[..], &mut back).unwrap(),
                Some(b"gzip") => {
                    use std::io::Read as _;
                    flate2::read::GzDecoder::new(&v.body[..])
                        .read_to_end(&mut back)
                        .unwrap();
                }
                other => panic!("{other:?}"),
            }
            back
        };
        let small = XML.repeat(10);
        let feed = encode(ShowId::new(), Bytes::from(small.clone()), Utc::now(), 0, 0);
        assert_eq!(read(feed.variant(Encoding::Brotli)), small.as_bytes());
        assert!(feed.variant(Encoding::Brotli).ok[header::CONTENT_ENCODING] == "br");

        let large = XML.repeat(BROTLI_LATER_FROM / XML.len() + 1);
        let feed = Arc::new(encode(
            ShowId::new(),
            Bytes::from(large.clone()),
            Utc::now(),
            0,
            0,
        ));
        // Until brotli is made, gzip, and the brotli tag already matches.
        let before = feed.variant(Encoding::Brotli);
        assert_eq!(before.ok[header::CONTENT_ENCODING], "gzip");
        assert_eq!(read(before), large.as_bytes());
        assert!(feed.matches(feed.brotli_etag.to_str().unwrap()));
        feed.finish_in_background();
        for _ in 0..500 {
            if feed.brotli.get().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let after = feed.variant(Encoding::Brotli);
        assert_eq!(after.ok[header::CONTENT_ENCODING], "br");
        assert_eq!(after.etag, feed.brotli_etag);
        assert_eq!(read(after), large.as_bytes());
    }
}
