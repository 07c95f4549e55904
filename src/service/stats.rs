//! Download reports (issue 23): a show's or an episode's downloads over a period, by day, app
//! and country, and the same as CSV. The API (`GET /api/v1/.../stats`) and the studio's
//! statistics pages both call these, so the period's rules, the figures and the CSV are the same
//! whichever is asked. The caller checks who may read them (`Action::ReadUnpublished`); reading
//! records no audit entry.

use chrono::{DateTime, Days, NaiveDate, Utc};

use super::{Ctx, Error};
use crate::{
    analytics,
    db::{DownloadStats, StatsScope},
    domain::{Rejection, bounds},
};

/// A report covers at most this many days.
pub const MAX_DAYS: u64 = 366;
/// Without `from`, the 30 days up to `to`.
pub const DEFAULT_DAYS: u64 = 30;

/// How downloads are counted, for whoever reads the report.
pub const METHOD: &str = "IAB Podcast Measurement Technical Guidelines v2.2: HEAD, 304 and \
                          bytes=0-1 requests and bots excluded; one download per IP address and \
                          user agent per calendar day in WIB (UTC+7) once the ID3 tag and one \
                          minute of audio have been sent";

/// The days a report covers, both included: at most `MAX_DAYS`, `from` not after `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// The period `from`..`to` (`YYYY-MM-DD`; empty or absent: `to` is today in WIB, the day
    /// downloads are counted in, and `from` the 30 days up to `to`).
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Period, Rejection> {
        let day = |name: &str, value: Option<&str>| {
            value
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| bounds::parse_date(name, v))
                .transpose()
        };
        let to = day("to", to)?.unwrap_or_else(|| analytics::iab::window(now));
        let from = day("from", from)?.unwrap_or_else(|| {
            to.checked_sub_days(Days::new(DEFAULT_DAYS - 1))
                .unwrap_or(to)
        });
        if from > to {
            return Err(Rejection::new(
                "invalid-date-range",
                format!("'from' ({from}) jatuh setelah 'to' ({to})"),
                format!("'from' ({from}) is after 'to' ({to})"),
            ));
        }
        if (to - from).num_days() >= MAX_DAYS as i64 {
            return Err(Rejection::new(
                "invalid-date-range",
                format!("Laporan mencakup paling banyak {MAX_DAYS} hari"),
                format!("A report covers at most {MAX_DAYS} days"),
            ));
        }
        Ok(Period { from, to })
    }

    /// Every day of the period, in order.
    pub fn days(self) -> impl Iterator<Item = NaiveDate> {
        self.from.iter_days().take_while(move |d| *d <= self.to)
    }
}

/// The downloads of `scope` in `period`. Days without downloads are absent from `by_day`
/// (`per_day` fills them in).
pub async fn report(ctx: &Ctx, scope: StatsScope, period: Period) -> Result<DownloadStats, Error> {
    Ok(ctx.db.download_stats(scope, period.from, period.to).await?)
}

/// Each day of `period` with its downloads, the days without any as 0: what a chart draws.
pub fn per_day(period: Period, stats: &DownloadStats) -> Vec<(NaiveDate, u64)> {
    let mut counted = stats.by_day.iter().peekable();
    period
        .days()
        .map(|day| {
            while counted.next_if(|(d, _)| *d < day).is_some() {}
            let n = counted.next_if(|(d, _)| *d == day).map_or(0, |(_, n)| *n);
            (day, n)
        })
        .collect()
}

/// The report as CSV, one table `breakdown,key,downloads` with the total, then the days, the
/// apps and the countries (ISO codes; `unknown` where none is known).
pub fn csv(period: Period, stats: &DownloadStats) -> Result<Vec<u8>, Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut write = |breakdown: &str, key: &str, n: &str| {
        out.write_record([breakdown, key, n])
            .map_err(|e| Error::Internal(e.into()))
    };
    write("breakdown", "key", "downloads")?;
    let range = format!("{}..{}", period.from, period.to);
    write("total", &range, &stats.total.to_string())?;
    for (day, n) in &stats.by_day {
        write("day", &day.to_string(), &n.to_string())?;
    }
    for (app, n) in &stats.by_app {
        write("app", app.as_deref().unwrap_or("unknown"), &n.to_string())?;
    }
    for (country, n) in &stats.by_country {
        write(
            "country",
            country.as_deref().unwrap_or("unknown"),
            &n.to_string(),
        )?;
    }
    out.into_inner()
        .map_err(|e| Error::Internal(anyhow::anyhow!("{e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_period_defaults_to_the_last_30_days_in_wib() {
        // 20:00 UTC is already the next day in WIB.
        let now = Utc.with_ymd_and_hms(2026, 3, 31, 20, 0, 0).unwrap();
        let p = Period::parse(None, Some(""), now).unwrap();
        assert_eq!((p.from, p.to), (day("2026-03-03"), day("2026-04-01")));
        assert_eq!(p.days().count(), 30);
        let p = Period::parse(Some("2026-01-01"), Some("2026-01-01"), now).unwrap();
        assert_eq!(p.days().collect::<Vec<_>>(), [day("2026-01-01")]);
        for (from, to, code) in [
            ("kemarin", "2026-01-01", "invalid-date"),
            ("2026-02-01", "2026-01-01", "invalid-date-range"),
            ("2024-12-31", "2026-01-01", "invalid-date-range"),
        ] {
            assert_eq!(
                Period::parse(Some(from), Some(to), now).unwrap_err().code,
                code
            );
        }
        // 366 days, both ends included.
        assert!(Period::parse(Some("2025-01-01"), Some("2026-01-01"), now).is_ok());
    }

    #[test]
    fn every_day_is_drawn_the_missing_ones_as_zero() {
        let period = Period {
            from: day("2026-01-01"),
            to: day("2026-01-04"),
        };
        let stats = DownloadStats {
            total: 5,
            by_day: vec![
                (day("2025-12-31"), 9),
                (day("2026-01-02"), 2),
                (day("2026-01-04"), 3),
            ],
            ..DownloadStats::default()
        };
        assert_eq!(
            per_day(period, &stats),
            [
                (day("2026-01-01"), 0),
                (day("2026-01-02"), 2),
                (day("2026-01-03"), 0),
                (day("2026-01-04"), 3)
            ]
        );
    }
}
