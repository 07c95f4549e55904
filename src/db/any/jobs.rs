//! `JobRepo` on `AnyDb`: the background job queue. Every change of a job's state is one
//! conditional UPDATE, so two workers (on one instance or on several) cannot both move the same
//! job: a claim takes a job only if it is still claimable, and a worker's later writes hold only
//! while its `lease` does.
//!
//! The claim picks its row with a sub-select and re-checks it in the UPDATE. On PostgreSQL the
//! sub-select says `FOR UPDATE SKIP LOCKED`, so concurrent claims each take a different job
//! instead of queueing behind one row and then finding it taken; SQLite has one writer at a time,
//! and the statement runs whole under its lock.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use super::{
    AnyDb,
    rows::{JOB_COLUMNS, job_from, job_kind, job_state, ms, uint},
};
use crate::db::{Backend, DbError, Job, JobError, JobKind, JobRepo, JobState};
use crate::domain::MediaId;

/// What a claim may take at `$3` (now), `$5` being the attempts allowed.
const CLAIMABLE: &str = "((state = 'queued' AND run_after <= $3) \
     OR (state = 'running' AND locked_until <= $3 AND attempts < $5))";

#[async_trait::async_trait]
impl JobRepo for AnyDb {
    #[tracing::instrument(skip_all, fields(kind = kind.as_str(), %media))]
    async fn enqueue_job(
        &self,
        kind: JobKind,
        media: MediaId,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        let done = sqlx::query(
            "INSERT INTO jobs (kind, media_id, state, attempts, created_at, run_after, updated_at) \
             VALUES ($1, $2, 'queued', 0, $3, $3, $3) ON CONFLICT DO NOTHING",
        )
        .bind(kind.as_str())
        .bind(media.to_string())
        .bind(ms(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    #[tracing::instrument(skip_all, fields(kind = kind.as_str()))]
    async fn enqueue_missing_jobs(
        &self,
        kind: JobKind,
        now: DateTime<Utc>,
    ) -> Result<u64, DbError> {
        let done = sqlx::query(
            "INSERT INTO jobs (kind, media_id, state, attempts, created_at, run_after, updated_at) \
             SELECT $1, m.id, 'queued', 0, m.created_at, $2, $2 FROM media m \
             WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.kind = $1 AND j.media_id = m.id) \
             ON CONFLICT DO NOTHING",
        )
        .bind(kind.as_str())
        .bind(ms(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    #[tracing::instrument(skip_all, fields(kind = kind.as_str()))]
    async fn claim_job(
        &self,
        kind: JobKind,
        lease: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        max_attempts: u32,
    ) -> Result<Option<Job>, DbError> {
        // A job whose worker died at its last attempt is given up, with the reason.
        sqlx::query(
            "UPDATE jobs SET state = 'failed', lease = NULL, locked_until = NULL, \
             error_code = 'abandoned', \
             last_error = 'no attempt finished: the worker stopped or lost its lease', \
             updated_at = $1 \
             WHERE kind = $2 AND state = 'running' AND locked_until <= $1 AND attempts >= $3",
        )
        .bind(ms(now))
        .bind(kind.as_str())
        .bind(i64::from(max_attempts))
        .execute(&self.pool)
        .await?;
        let lock = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let claimed = sqlx::query(AssertSqlSafe(format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease = $1, \
             locked_until = $2, updated_at = $3 \
             WHERE kind = $4 AND {CLAIMABLE} AND media_id = (\
                 SELECT media_id FROM jobs WHERE kind = $4 AND {CLAIMABLE} \
                 ORDER BY created_at DESC, media_id DESC LIMIT 1 {lock}) \
             RETURNING {JOB_COLUMNS}"
        )))
        .bind(lease)
        .bind(ms(until))
        .bind(ms(now))
        .bind(kind.as_str())
        .bind(i64::from(max_attempts))
        .fetch_all(&self.pool)
        .await?;
        claimed.first().map(job_from).transpose()
    }

    #[tracing::instrument(skip_all, fields(kind = kind.as_str(), %media))]
    async fn renew_job(
        &self,
        kind: JobKind,
        media: MediaId,
        lease: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        let done = sqlx::query(
            "UPDATE jobs SET locked_until = $1 \
             WHERE kind = $2 AND media_id = $3 AND lease = $4 AND state = 'running'",
        )
        .bind(ms(until))
        .bind(kind.as_str())
        .bind(media.to_string())
        .bind(lease)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    #[tracing::instrument(skip_all, fields(kind = kind.as_str(), %media, code = %error.code))]
    async fn fail_job_attempt(
        &self,
        kind: JobKind,
        media: MediaId,
        lease: &str,
        error: &JobError,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        let state = match retry_at {
            Some(_) => JobState::Queued,
            None => JobState::Failed,
        };
        let done = sqlx::query(
            "UPDATE jobs SET state = $1, run_after = $2, lease = NULL, locked_until = NULL, \
             error_code = $3, last_error = $4, updated_at = $5 \
             WHERE kind = $6 AND media_id = $7 AND lease = $8 AND state = 'running'",
        )
        .bind(state.as_str())
        .bind(ms(retry_at.unwrap_or(now)))
        .bind(&error.code)
        .bind(&error.detail)
        .bind(ms(now))
        .bind(kind.as_str())
        .bind(media.to_string())
        .bind(lease)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    #[tracing::instrument(skip_all, fields(kind = kind.as_str(), %media))]
    async fn release_job(
        &self,
        kind: JobKind,
        media: MediaId,
        lease: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'queued', attempts = attempts - 1, run_after = $1, \
             lease = NULL, locked_until = NULL, updated_at = $1 \
             WHERE kind = $2 AND media_id = $3 AND lease = $4 AND state = 'running'",
        )
        .bind(ms(now))
        .bind(kind.as_str())
        .bind(media.to_string())
        .bind(lease)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    #[tracing::instrument(skip_all, fields(kind = kind.as_str(), %media))]
    async fn job(&self, kind: JobKind, media: MediaId) -> Result<Job, DbError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE kind = $1 AND media_id = $2"
        )))
        .bind(kind.as_str())
        .bind(media.to_string())
        .fetch_one(&self.pool)
        .await?;
        job_from(&row)
    }

    #[tracing::instrument(skip_all)]
    async fn job_counts(&self) -> Result<Vec<(JobKind, JobState, u64)>, DbError> {
        let rows = sqlx::query("SELECT kind, state, COUNT(*) AS n FROM jobs GROUP BY kind, state")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((job_kind(row)?, job_state(row)?, uint(row, "n")?)))
            .collect()
    }
}
