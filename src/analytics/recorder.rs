//! Counting off the request path. Delivery hands each media request to [`Recorder::record`],
//! which never waits: the hit goes into a bounded channel, or is dropped (and the drop counted)
//! when the channel is full. One writer task per instance screens the hits and keeps each
//! listener's state in the database, so several instances behind a load balancer count one
//! listener once.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use chrono::{Days, NaiveDate, Utc};
use rand::RngCore as _;
use tokio::sync::{mpsc, oneshot};

use super::{GeoIp, Hit, ListenerState, UserAgents, listener_key, screen, threshold_bytes, window};
use crate::{
    db::{Db, DbError, Download, Listen, new_row_id},
    domain::{EpisodeId, MediaId, ShowId},
};

/// Hits waiting for the writer. At a few hundred bytes each this is about a megabyte; a burst
/// larger than this is dropped rather than allowed to slow delivery down.
pub const QUEUE: usize = 4096;

/// A write that lost a race with another instance is retried this often.
const MAX_RETRIES: usize = 8;

/// One request for a media file, with what the writer needs to know of the file.
#[derive(Debug, Clone)]
pub struct MediaHit {
    pub hit: Hit,
    pub media: MediaId,
    pub duration_ms: u64,
    pub header_bytes: u64,
}

enum Job {
    Hit(Box<MediaHit>),
    /// Answered once every hit queued before it is written (tests and graceful shutdown).
    Flush(oneshot::Sender<()>),
}

/// The handle delivery holds: cheap to clone, never blocks.
#[derive(Debug, Clone)]
pub struct Recorder {
    queue: mpsc::Sender<Job>,
    dropped: Arc<AtomicU64>,
}

impl Recorder {
    /// Starts the writer task on the current runtime.
    pub fn start(db: Arc<dyn Db>, geoip: Option<Arc<GeoIp>>) -> Recorder {
        let (queue, jobs) = mpsc::channel(QUEUE);
        let writer = Writer {
            db,
            geoip,
            agents: UserAgents::embedded(),
            salts: HashMap::new(),
            episodes: HashMap::new(),
        };
        tokio::spawn(writer.run(jobs));
        Recorder {
            queue,
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Queues a hit for counting; drops it if the writer is this far behind.
    pub fn record(&self, hit: MediaHit) {
        if self.queue.try_send(Job::Hit(Box::new(hit))).is_err() {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            // One line per thousand, so a flood does not become a flood of logs.
            if dropped % 1000 == 1 {
                tracing::warn!(dropped, "analytics queue full: hits dropped, not counted");
            }
        }
    }

    /// Hits dropped because the queue was full, since start.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Waits until every hit queued so far has been written.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Job::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

struct Writer {
    db: Arc<dyn Db>,
    geoip: Option<Arc<GeoIp>>,
    agents: &'static UserAgents,
    /// This instance's copy of each window's salt (the database holds the one all share).
    salts: HashMap<NaiveDate, [u8; 32]>,
    episodes: HashMap<MediaId, Option<(EpisodeId, ShowId)>>,
}

impl Writer {
    async fn run(mut self, mut jobs: mpsc::Receiver<Job>) {
        while let Some(job) = jobs.recv().await {
            match job {
                Job::Hit(hit) => {
                    if let Err(e) = self.count(&hit).await {
                        tracing::warn!(error = %e, media = %hit.media, "hit not counted");
                    }
                }
                Job::Flush(done) => {
                    let _ = done.send(());
                }
            }
        }
    }

    async fn count(&mut self, item: &MediaHit) -> Result<(), DbError> {
        let Ok(candidate) = screen(&item.hit, self.agents) else {
            return Ok(());
        };
        let day = window(item.hit.at);
        let salt = self.salt(day).await?;
        let listener = listener_key(item.hit.ip, &item.hit.user_agent, &salt);
        let threshold = threshold_bytes(item.hit.file_size, item.duration_ms, item.header_bytes);
        for _ in 0..MAX_RETRIES {
            let stored = self.db.listen(item.media, day, &listener).await?;
            let (mut state, read_version) = match &stored {
                Some(listen) => (
                    ListenerState {
                        coverage: serde_json::from_str(&listen.coverage).unwrap_or_default(),
                        counted: listen.counted,
                    },
                    Some(listen.version),
                ),
                None => (ListenerState::default(), None),
            };
            if state.counted {
                return Ok(());
            }
            let newly_counted = state.apply(candidate.served, threshold);
            let download = if newly_counted {
                let episode = self.episode(item.media).await?;
                Some(Download {
                    id: new_row_id(),
                    media_id: item.media,
                    episode_id: episode.map(|(e, _)| e),
                    show_id: episode.map(|(_, s)| s),
                    day,
                    app: candidate.agent.app.clone(),
                    country: self.country(item.hit.ip),
                    counted_at: Utc::now(),
                })
            } else {
                None
            };
            let listen = Listen {
                media_id: item.media,
                day,
                listener: listener.clone(),
                coverage: serde_json::to_string(&state.coverage)
                    .map_err(|e| DbError::Other(e.into()))?,
                counted: state.counted,
                version: read_version.map_or(1, |v| v + 1),
            };
            if self
                .db
                .save_listen(&listen, read_version, download.as_ref(), Utc::now())
                .await?
            {
                return Ok(());
            }
        }
        tracing::warn!(media = %item.media, "listener row kept changing; hit not counted");
        Ok(())
    }

    /// The salt of `day`, shared through the database. A new day's first hit also forgets the
    /// listeners and salts of the days before yesterday: after that no hash can be linked to
    /// anything (yesterday's are kept for hits that arrive late).
    async fn salt(&mut self, day: NaiveDate) -> Result<[u8; 32], DbError> {
        if let Some(salt) = self.salts.get(&day) {
            return Ok(*salt);
        }
        let mut candidate = [0u8; 32];
        rand::rng().fill_bytes(&mut candidate);
        let stored = self.db.analytics_salt(day, &hex::encode(candidate)).await?;
        let salt: [u8; 32] = hex::decode(&stored)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                DbError::Other(anyhow::anyhow!("stored salt of {day} is not 32 bytes"))
            })?;
        if let Some(yesterday) = day.checked_sub_days(Days::new(1)) {
            let forgotten = self.db.forget_listeners(yesterday).await?;
            tracing::info!(%day, forgotten, "new counting window");
        }
        self.salts
            .retain(|d, _| *d >= day.checked_sub_days(Days::new(1)).unwrap_or(day));
        self.salts.insert(day, salt);
        Ok(salt)
    }

    async fn episode(&mut self, media: MediaId) -> Result<Option<(EpisodeId, ShowId)>, DbError> {
        if let Some(found) = self.episodes.get(&media) {
            return Ok(*found);
        }
        let found = self.db.episode_of_media(media).await?;
        // Only a media file that belongs to an episode is cached: one uploaded ahead of its
        // episode is looked up again.
        if found.is_some() {
            self.episodes.insert(media, found);
        }
        Ok(found)
    }

    fn country(&self, ip: IpAddr) -> Option<String> {
        self.geoip.as_ref()?.country(ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::HitMethod;

    fn hit() -> MediaHit {
        MediaHit {
            hit: Hit {
                at: Utc::now(),
                ip: "192.0.2.1".parse().unwrap(),
                user_agent: "AntennaPod/3.4.0".into(),
                media: "m".into(),
                method: HitMethod::Get,
                status: 200,
                range: None,
                bytes_sent: Some(10),
                file_size: 10,
            },
            media: MediaId::new(),
            duration_ms: 1000,
            header_bytes: 0,
        }
    }

    #[tokio::test]
    async fn a_full_queue_drops_and_counts_instead_of_waiting() {
        // A writer that never reads: the queue fills, and recording still returns at once.
        let (queue, _jobs) = mpsc::channel(3);
        let recorder = Recorder {
            queue,
            dropped: Arc::new(AtomicU64::new(0)),
        };
        for _ in 0..10 {
            recorder.record(hit());
        }
        assert_eq!(recorder.dropped(), 7);
    }
}
