//! The other instances on a shared PostgreSQL database: feed changes go out with `pg_notify`
//! and come in through LISTEN, and WebSub pings are claimed in `websub_pings`.
//!
//! This uses sqlx's native PostgreSQL driver beside the `Any` pool of `db`, which cannot LISTEN:
//! one pool of two connections for notifications and claims, and one listening connection.

use std::{
    collections::HashMap,
    sync::{
        Mutex, PoisonError,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use chrono::Utc;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use tokio::sync::oneshot;

use crate::domain::ShowId;

/// The channel every instance listens on. Payload: `INSTANCE SEQ SHOW` (`*` for every show,
/// `site` for the site settings).
pub const NOTIFY_CHANNEL: &str = "siaran_feeds";

/// How long `notify` waits for its own notification to come back through this instance's
/// listener. PostgreSQL delivers to every listener at once, so by then the other instances
/// have it too, and a client that publishes here and reads the feed there sees the change.
/// The target of a notification about the site settings.
const SITE: &str = "site";

/// What another instance changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A show's feed (`None`: every feed).
    Feed(Option<ShowId>),
    /// The site settings.
    Site,
}

const ECHO_WAIT: Duration = Duration::from_secs(1);

pub struct Peers {
    url: String,
    pool: PgPool,
    /// Tells this instance's own notifications from the others'.
    instance: String,
    listening: AtomicBool,
    seq: AtomicU64,
    echoes: Mutex<HashMap<u64, oneshot::Sender<()>>>,
    /// Signalled when a notification of ours did not come back: the listening connection may
    /// be dead without knowing it, so it is replaced.
    pub deaf: tokio::sync::Notify,
}

impl Peers {
    /// Connects lazily: a database that is down at start delays feeds' caching, not start-up.
    pub fn new(url: &str) -> anyhow::Result<Peers> {
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy(url)?;
        Ok(Peers {
            url: url.to_owned(),
            pool,
            instance: uuid::Uuid::new_v4().simple().to_string(),
            listening: AtomicBool::new(false),
            seq: AtomicU64::new(0),
            echoes: Mutex::default(),
            deaf: tokio::sync::Notify::new(),
        })
    }

    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::SeqCst)
    }

    pub fn set_listening(&self, listening: bool) {
        self.listening.store(listening, Ordering::SeqCst);
    }

    /// A connection that has executed `LISTEN`.
    pub async fn listener(&self) -> Result<PgListener, sqlx::Error> {
        let mut listener = PgListener::connect(&self.url).await?;
        listener.listen(NOTIFY_CHANNEL).await?;
        Ok(listener)
    }

    /// Tells the other instances that `show`'s feed (every feed for `None`) changed, and waits
    /// (at most [`ECHO_WAIT`]) until the notification is delivered. Failures are logged: the
    /// others then catch up within `REVALIDATE_AFTER`.
    pub async fn notify(&self, show: Option<ShowId>) {
        self.send(show.map_or_else(|| "*".to_owned(), |s| s.to_string()))
            .await;
    }

    /// Tells the other instances that the site settings changed, as `notify` does.
    pub async fn notify_site(&self) {
        self.send(SITE.to_owned()).await;
    }

    async fn send(&self, target: String) {
        let seq = self.seq.fetch_add(1, Ordering::SeqCst);
        let payload = format!("{} {seq} {target}", self.instance);
        let echo = self.is_listening().then(|| {
            let (tx, rx) = oneshot::channel();
            self.echoes().insert(seq, tx);
            rx
        });
        let sent = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(NOTIFY_CHANNEL)
            .bind(&payload)
            .execute(&self.pool)
            .await;
        match (sent, echo) {
            (Err(e), _) => {
                tracing::warn!(error = %e, %target, "cannot tell other instances of a feed change");
            }
            (Ok(_), Some(echo)) => {
                if tokio::time::timeout(ECHO_WAIT, echo).await.is_err() {
                    tracing::warn!(%target, "own feed change notification not heard back; reconnecting the listener");
                    self.deaf.notify_one();
                }
            }
            (Ok(_), None) => {}
        }
        self.echoes().remove(&seq);
    }

    /// Reads a notification: what changed, or nothing for this instance's own, whose sender is
    /// waiting for it.
    pub fn receive(&self, payload: &str) -> Option<Change> {
        let mut parts = payload.split(' ');
        let (instance, seq, target) = (parts.next(), parts.next(), parts.next());
        if instance == Some(self.instance.as_str()) {
            if let Some(waiter) = seq
                .and_then(|s| s.parse().ok())
                .and_then(|seq| self.echoes().remove(&seq))
            {
                let _ = waiter.send(());
            }
            return None;
        }
        if target == Some(SITE) {
            return Some(Change::Site);
        }
        // Anything unreadable drops every feed: wrong but safe.
        Some(Change::Feed(target.and_then(|t| t.parse().ok())))
    }

    /// Records that the hub has been told of `show`'s feed with `etag`; true when this call
    /// changed the record, so this instance is the one to ping.
    pub async fn claim(&self, show: ShowId, etag: &str) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "INSERT INTO websub_pings (show_id, feed_etag, pinged_at) VALUES ($1, $2, $3) \
             ON CONFLICT (show_id) DO UPDATE \
             SET feed_etag = excluded.feed_etag, pinged_at = excluded.pinged_at \
             WHERE websub_pings.feed_etag <> excluded.feed_etag",
        )
        .bind(show.to_string())
        .bind(etag)
        .bind(Utc::now().timestamp_millis())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    fn echoes(&self) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<()>>> {
        self.echoes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
