//! Background jobs (issue 24): the queue as operations use it (`JobQueue`: queue a job in the
//! database, wake this instance's worker), and the worker that `siaran serve` runs.
//!
//! The queue is the `jobs` table (`db::JobRepo`), so a job survives restarts and any instance
//! may run it, once: a worker claims a job with a lease, renews the lease while it works, and
//! another instance takes the job over when a lease runs out (its worker died). A failed
//! attempt is retried after a pause, at most `quality::MAX_ATTEMPTS` attempts in all, then the
//! job is failed with its reason; a failure of the file's own (no audio) fails it at once. An
//! instance that stops gives its running job back without counting the attempt. Each worker runs
//! one job at a time (an analysis keeps a core busy); an instance runs `SIARAN_JOB_WORKERS`.
//! Two kinds: a media file's sound check (`quality`) and a published recording's fingerprint
//! (`fingerprint`, issue 25); a worker takes a due fingerprint first (about a hundredth of the
//! audio's length in CPU, and what lets a published episode be found).
//!
//! One-shot commands (`siaran import`, `import-feed`) queue jobs through the same `JobQueue`
//! and run none: the next serving instance does.

use std::sync::Arc;

use chrono::Utc;
use tokio::sync::{Notify, watch};

use super::{Ctx, fingerprint, quality};
use crate::{
    config::JobSettings,
    db::{Db, DbError, Job, JobKind},
    domain::{MediaId, quality::QualityConfig},
};

/// Queues jobs and wakes this instance's worker. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct JobQueue {
    wake: Arc<Notify>,
}

impl JobQueue {
    /// Queues the job of `kind` for `media` (once: queuing it again does nothing).
    pub async fn enqueue(&self, db: &dyn Db, kind: JobKind, media: MediaId) -> Result<(), DbError> {
        if db.enqueue_job(kind, media, Utc::now()).await? {
            tracing::debug!(kind = kind.as_str(), %media, "job queued");
            self.wake.notify_one();
        }
        Ok(())
    }
}

/// The job worker of a serving instance.
#[derive(Debug)]
pub struct Worker {
    pub ctx: Ctx,
    pub quality: QualityConfig,
    pub timing: JobSettings,
}

/// A started worker.
#[derive(Debug)]
pub struct Running {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops the worker, its running job given back to the queue; waits a few seconds at most.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(std::time::Duration::from_secs(5), self.task)
            .await
            .is_err()
        {
            tracing::warn!("the job worker did not stop in time");
        }
    }
}

impl Worker {
    /// Runs the worker on the current runtime until `Running::stop` (or the runtime's end).
    pub fn start(self) -> Running {
        let (stop, stopping) = watch::channel(false);
        let task = tokio::spawn(self.run(stopping));
        Running { stop, task }
    }

    async fn run(self, mut stopping: watch::Receiver<bool>) {
        // Media stored before jobs existed (the upgrade), or whose queuing failed, get theirs.
        match self
            .ctx
            .db
            .enqueue_missing_jobs(JobKind::Quality, Utc::now())
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "queued the analysis of media stored before"),
            Err(e) => tracing::warn!(error = %e, "could not queue the analysis of stored media"),
        }
        match self.ctx.db.enqueue_missing_fingerprints(Utc::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "queued the fingerprints of published recordings"),
            Err(e) => tracing::warn!(error = %e, "could not queue missing fingerprints"),
        }
        let wake = self.ctx.jobs.wake.clone();
        loop {
            if *stopping.borrow() {
                return;
            }
            let lease = uuid::Uuid::new_v4().simple().to_string();
            let now = Utc::now();
            let until = now + self.timing.lease;
            let mut claimed = None;
            for kind in [JobKind::Fingerprint, JobKind::Quality] {
                match self
                    .ctx
                    .db
                    .claim_job(kind, &lease, now, until, quality::MAX_ATTEMPTS)
                    .await
                {
                    Ok(Some(job)) => {
                        claimed = Some(job);
                        break;
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "could not claim a job"),
                }
            }
            if let Some(job) = claimed {
                self.run_one(&job, &lease, &mut stopping).await;
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(self.timing.poll) => {}
                () = wake.notified() => {}
                _ = stopping.changed() => return,
            }
        }
    }

    /// One attempt at `job`, its lease renewed while it lasts; its end written to the queue.
    async fn run_one(&self, job: &Job, lease: &str, stopping: &mut watch::Receiver<bool>) {
        let kind = job.kind;
        let media = job.media_id;
        let timeout = self.timing.attempt_timeout;
        let attempt: std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send + '_>> =
            match kind {
                JobKind::Quality => Box::pin(async move {
                    quality::analyse(&self.ctx, &self.quality, job, lease, timeout)
                        .await
                        .map(|_| ())
                }),
                JobKind::Fingerprint => {
                    Box::pin(fingerprint::index(&self.ctx, job, lease, timeout))
                }
            };
        let renew = async {
            let period = (self.timing.lease / 4).max(std::time::Duration::from_millis(50));
            loop {
                tokio::time::sleep(period).await;
                let until = Utc::now() + self.timing.lease;
                match self.ctx.db.renew_job(kind, media, lease, until).await {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!(%media, "the job's lease was lost"),
                    Err(e) => tracing::warn!(%media, error = %e, "could not renew a job's lease"),
                }
            }
        };
        let outcome = tokio::select! {
            outcome = attempt => outcome,
            () = renew => unreachable!("renewing never ends"),
            _ = stopping.changed() => {
                match self.ctx.db.release_job(kind, media, lease, Utc::now()).await {
                    Ok(_) => tracing::info!(%media, "stopping: the running job is given back"),
                    Err(e) => tracing::warn!(%media, error = %e, "could not give a job back"),
                }
                return;
            }
        };
        let (error, retry) = match outcome {
            Ok(_) => {
                tracing::info!(kind = kind.as_str(), %media, attempt = job.attempts, "job done");
                return;
            }
            Err(quality::Failure::LeaseLost) => {
                tracing::warn!(%media, "the job was taken over by another worker: result dropped");
                return;
            }
            Err(quality::Failure::Attempt { error, retry }) => (error, retry),
        };
        let now = Utc::now();
        let retry_at = (retry && job.attempts < quality::MAX_ATTEMPTS)
            .then(|| now + self.timing.retry_after * job.attempts);
        match retry_at {
            Some(at) => tracing::warn!(%media, attempt = job.attempts, code = %error.code,
                detail = %error.detail, retry_at = %at, "job attempt failed; will retry"),
            None => tracing::error!(%media, attempt = job.attempts, code = %error.code,
                detail = %error.detail, "job failed"),
        }
        if let Err(e) = self
            .ctx
            .db
            .fail_job_attempt(kind, media, lease, &error, retry_at, now)
            .await
        {
            tracing::warn!(%media, error = %e, "could not record a failed attempt");
        }
    }
}
