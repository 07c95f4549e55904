//! `AnalyticsRepo` on `AnyDb`: the daily salts, listeners' coverage and counted downloads.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::AssertSqlSafe;

use super::{
    AnyDb, Writer,
    rows::{get, ms, parse},
};
use crate::db::{AnalyticsRepo, DbError, Download, DownloadStats, Listen, StatsScope};
use crate::domain::MediaId;

#[async_trait::async_trait]
impl AnalyticsRepo for AnyDb {
    #[tracing::instrument(skip_all, fields(%day))]
    async fn analytics_salt(&self, day: NaiveDate, candidate: &str) -> Result<String, DbError> {
        sqlx::query(
            "INSERT INTO analytics_salts (day, salt) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(day.to_string())
        .bind(candidate)
        .execute(&self.pool)
        .await?;
        let row = sqlx::query("SELECT salt FROM analytics_salts WHERE day = $1")
            .bind(day.to_string())
            .fetch_one(&self.pool)
            .await?;
        get(&row, "salt")
    }

    #[tracing::instrument(skip_all, fields(%before))]
    async fn forget_listeners(&self, before: NaiveDate) -> Result<u64, DbError> {
        // ISO dates compare as text in both databases.
        let salts = sqlx::query("DELETE FROM analytics_salts WHERE day < $1")
            .bind(before.to_string())
            .execute(&self.pool)
            .await?;
        let listens = sqlx::query("DELETE FROM listens WHERE day < $1")
            .bind(before.to_string())
            .execute(&self.pool)
            .await?;
        Ok(salts.rows_affected() + listens.rows_affected())
    }

    #[tracing::instrument(skip_all, fields(%media, %day))]
    async fn listen(
        &self,
        media: MediaId,
        day: NaiveDate,
        listener: &str,
    ) -> Result<Option<Listen>, DbError> {
        let row = sqlx::query(
            "SELECT coverage, counted, version FROM listens \
             WHERE media_id = $1 AND day = $2 AND listener = $3",
        )
        .bind(media.to_string())
        .bind(day.to_string())
        .bind(listener)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(Listen {
                media_id: media,
                day,
                listener: listener.to_owned(),
                coverage: get(&row, "coverage")?,
                counted: get::<i64>(&row, "counted")? != 0,
                version: get(&row, "version")?,
            })
        })
        .transpose()
    }

    #[tracing::instrument(skip_all, fields(media = %listen.media_id, day = %listen.day))]
    async fn save_listen(
        &self,
        listen: &Listen,
        read_version: Option<i64>,
        download: Option<&Download>,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        let written = match read_version {
            None => sqlx::query(
                "INSERT INTO listens (media_id, day, listener, coverage, counted, version, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            )
            .bind(listen.media_id.to_string())
            .bind(listen.day.to_string())
            .bind(&listen.listener)
            .bind(&listen.coverage)
            .bind(i64::from(listen.counted))
            .bind(listen.version)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            Some(version) => sqlx::query(
                "UPDATE listens SET coverage = $1, counted = $2, version = $3, updated_at = $4 \
                 WHERE media_id = $5 AND day = $6 AND listener = $7 AND version = $8",
            )
            .bind(&listen.coverage)
            .bind(i64::from(listen.counted))
            .bind(listen.version)
            .bind(ms(now))
            .bind(listen.media_id.to_string())
            .bind(listen.day.to_string())
            .bind(&listen.listener)
            .bind(version)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        };
        if written == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        if let Some(d) = download {
            sqlx::query(
                "INSERT INTO downloads (id, media_id, episode_id, show_id, day, app, country, \
                 counted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(d.id.to_string())
            .bind(d.media_id.to_string())
            .bind(d.episode_id.map(|e| e.to_string()))
            .bind(d.show_id.map(|s| s.to_string()))
            .bind(d.day.to_string())
            .bind(d.app.as_deref())
            .bind(d.country.as_deref())
            .bind(ms(d.counted_at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        w.committed();
        Ok(true)
    }

    #[tracing::instrument(skip_all, fields(?scope, %from, %to))]
    async fn download_stats(
        &self,
        scope: StatsScope,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<DownloadStats, DbError> {
        let (column, id) = match scope {
            StatsScope::Episode(id) => ("episode_id", id.to_string()),
            StatsScope::Show(id) => ("show_id", id.to_string()),
        };
        let grouped = |by: &str| {
            AssertSqlSafe(format!(
                "SELECT {by} AS k, COUNT(*) AS n FROM downloads \
                 WHERE {column} = $1 AND day >= $2 AND day <= $3 GROUP BY {by} ORDER BY n DESC, k"
            ))
        };
        let mut stats = DownloadStats::default();
        for row in sqlx::query(grouped("day"))
            .bind(&id)
            .bind(from.to_string())
            .bind(to.to_string())
            .fetch_all(&self.pool)
            .await?
        {
            let day: String = get(&row, "k")?;
            let n = u64::try_from(get::<i64>(&row, "n")?).unwrap_or_default();
            stats.by_day.push((parse("day", &day)?, n));
            stats.total += n;
        }
        stats.by_day.sort();
        for (by, out) in [
            ("app", &mut stats.by_app),
            ("country", &mut stats.by_country),
        ] {
            for row in sqlx::query(grouped(by))
                .bind(&id)
                .bind(from.to_string())
                .bind(to.to_string())
                .fetch_all(&self.pool)
                .await?
            {
                let n = u64::try_from(get::<i64>(&row, "n")?).unwrap_or_default();
                out.push((get(&row, "k")?, n));
            }
        }
        Ok(stats)
    }
}
