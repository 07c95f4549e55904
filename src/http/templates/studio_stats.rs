//! The studio's statistics pages (`http::studio::stats`): a period picked with a GET form, the
//! total, downloads per day as a bar chart drawn here as SVG (no script: `role="img"`, a title
//! and a description, dated axis labels, and the same figures as a table), the downloads by app
//! and by country (named in the page's language), and the CSV link.

use chrono::{Datelike as _, NaiveDate};
use maud::{Markup, html};

use super::{
    studio::{Chrome, Notice, layout, notice},
    t,
};
use crate::{
    db::DownloadStats,
    domain::{Episode, Show, countries},
    http::error::UiLang,
    service::stats::Period,
};

/// What the page shows.
#[derive(Debug)]
pub struct StatsPage<'a> {
    pub show: &'a Show,
    /// The episode, on an episode's page; else the show's.
    pub episode: Option<&'a Episode>,
    /// The page's own path, which the form and the CSV link go to.
    pub path: &'a str,
    /// The form's values, as asked.
    pub from: String,
    pub to: String,
    /// Why the period asked for was refused; then there is no report.
    pub error: Option<String>,
    pub report: Option<Report<'a>>,
}

#[derive(Debug)]
pub struct Report<'a> {
    pub period: Period,
    pub stats: &'a DownloadStats,
    /// Every day of the period, with 0 where there was no download (`service::stats::per_day`).
    pub days: &'a [(NaiveDate, u64)],
}

pub fn stats(c: &Chrome<'_>, p: &StatsPage<'_>) -> Markup {
    let lang = c.lang;
    let show_stats = format!("/studio/shows/{}/stats", p.show.slug);
    let body = html! {
        p.meta {
            @if let Some(e) = p.episode {
                a href={ "/studio/episodes/" (e.id) } { (t(lang, "Penyunting episode", "Episode editor")) }
                " · "
                a href=(show_stats) { (t(lang, "Statistik acara: ", "Show statistics: ")) (p.show.title) }
            } @else {
                a href={ "/studio?show=" (p.show.slug) } { (t(lang, "Episode acara ini", "This show's episodes")) }
            }
        }
        form.period method="get" action=(p.path) {
            span {
                label for="from" { (t(lang, "Dari", "From")) }
                input #from type="date" name="from" value=(p.from);
            }
            span {
                label for="to" { (t(lang, "Sampai", "To")) }
                input #to type="date" name="to" value=(p.to);
            }
            button type="submit" { (t(lang, "Tampilkan", "Show")) }
        }
        @if let Some(text) = &p.error { (notice(Notice::Error, text)) }
        @if let Some(r) = &p.report { (report(lang, p.path, r)) }
    };
    let title = match (lang, p.episode) {
        (UiLang::Id, Some(e)) => format!("Statistik: {}", e.title),
        (UiLang::En, Some(e)) => format!("Statistics: {}", e.title),
        (UiLang::Id, None) => format!("Statistik: {}", p.show.title),
        (UiLang::En, None) => format!("Statistics: {}", p.show.title),
    };
    layout(c, &title, &body)
}

fn report(lang: UiLang, path: &str, r: &Report<'_>) -> Markup {
    let (from, to) = (r.period.from, r.period.to);
    let csv = format!("{path}?from={from}&to={to}&format=csv");
    html! {
        p.total {
            span.figure { (count(lang, r.stats.total)) }
            " " (t(lang, "unduhan", "downloads")) " "
            span.meta { (day_label(lang, from)) " – " (day_label(lang, to)) }
        }
        p { a href=(csv) download { (t(lang, "Unduh CSV", "Download CSV")) } }
        section aria-labelledby="per-day" {
            h2 #per-day { (t(lang, "Unduhan per hari", "Downloads per day")) }
            (chart(lang, r.days))
            details {
                summary { (t(lang, "Angka per hari (tabel)", "Figures per day (table)")) }
                table.figures {
                    caption { (t(lang, "Unduhan per hari", "Downloads per day")) }
                    thead { tr {
                        th scope="col" { (t(lang, "Tanggal", "Date")) }
                        th scope="col" { (t(lang, "Unduhan", "Downloads")) }
                    } }
                    tbody {
                        @for (day, n) in r.days {
                            tr { th scope="row" { (day_label(lang, *day)) } td { (count(lang, *n)) } }
                        }
                    }
                }
            }
        }
        (breakdown(lang, "by-app", t(lang, "Menurut aplikasi", "By app"),
            t(lang, "Aplikasi", "App"), r.stats.total,
            r.stats.by_app.iter().map(|(app, n)| (app_name(lang, app.as_deref()), *n))))
        (breakdown(lang, "by-country", t(lang, "Menurut negara", "By country"),
            t(lang, "Negara", "Country"), r.stats.total,
            r.stats.by_country.iter().map(|(c, n)| (country_name(lang, c.as_deref()), *n))))
        p.meta { (t(lang,
            "Dihitung menurut IAB Podcast Measurement Technical Guidelines v2.2: permintaan HEAD, 304, \
             bytes=0-1 dan bot tidak dihitung; satu unduhan per alamat IP dan aplikasi per hari (WIB) \
             setelah tag ID3 dan satu menit audio terkirim.",
            "Counted by the IAB Podcast Measurement Technical Guidelines v2.2: HEAD, 304 and \
             bytes=0-1 requests and bots are left out; one download per IP address and app per day \
             (WIB) once the ID3 tag and one minute of audio have been sent.")) }
    }
}

fn breakdown(
    lang: UiLang,
    id: &str,
    heading: &str,
    what: &str,
    total: u64,
    rows: impl Iterator<Item = (String, u64)>,
) -> Markup {
    let rows: Vec<_> = rows.collect();
    html! {
        section aria-labelledby=(id) {
            h2 id=(id) { (heading) }
            @if rows.is_empty() {
                p.meta { (t(lang, "Belum ada unduhan pada periode ini.", "No downloads in this period.")) }
            } @else {
                table.figures {
                    thead { tr {
                        th scope="col" { (what) }
                        th scope="col" { (t(lang, "Unduhan", "Downloads")) }
                        th scope="col" { (t(lang, "Bagian", "Share")) }
                    } }
                    tbody {
                        @for (name, n) in &rows {
                            tr {
                                th scope="row" { (name) }
                                td { (count(lang, *n)) }
                                td { (share(lang, *n, total)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn app_name(lang: UiLang, app: Option<&str>) -> String {
    app.map_or_else(
        || {
            t(
                lang,
                "Aplikasi lain atau tidak dikenal",
                "Other or unknown app",
            )
            .to_owned()
        },
        str::to_owned,
    )
}

/// The country's name in the page's language; its code if the list does not know it.
pub fn country_name(lang: UiLang, code: Option<&str>) -> String {
    match code {
        None => t(lang, "Tidak diketahui", "Unknown").to_owned(),
        Some(code) => match countries::name(code) {
            Some((id, en)) => t(lang, id, en).to_owned(),
            None => code.to_owned(),
        },
    }
}

/// `n` with the page's thousands separator: 12.345 in Indonesian, 12,345 in English.
fn count(lang: UiLang, n: u64) -> String {
    let digits = n.to_string();
    let sep = t(lang, ".", ",");
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(d);
    }
    out
}

/// `n` of `total` as a percentage with one decimal, in the page's decimal sign.
fn share(lang: UiLang, n: u64, total: u64) -> String {
    let tenths = n.saturating_mul(1000).checked_div(total).unwrap_or(0);
    format!("{}{}{} %", tenths / 10, t(lang, ",", "."), tenths % 10)
}

const MONTHS_ID: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des",
];
const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// "5 Des 2026" / "5 Dec 2026".
fn day_label(lang: UiLang, day: NaiveDate) -> String {
    format!("{} {}", short_day(lang, day), day.year())
}

/// "5 Des" / "5 Dec".
fn short_day(lang: UiLang, day: NaiveDate) -> String {
    let months = match lang {
        UiLang::Id => &MONTHS_ID,
        UiLang::En => &MONTHS_EN,
    };
    format!("{} {}", day.day(), months[day.month0() as usize])
}

// The chart's drawing area, in the `viewBox`'s units: it scales to the page's width, and at
// 360 px its labels (15 units) are still about 10 px high.
const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 40.0;
/// At most this many dates under the bars.
const MAX_LABELS: usize = 6;

/// The bar chart of `days`, one bar per day (a day without downloads is a bar of no height).
fn chart(lang: UiLang, days: &[(NaiveDate, u64)]) -> Markup {
    let max = days.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let top = nice_ceiling(max);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / days.len().max(1) as f64;
    let bar_w = (slot * 0.8).max(0.5);
    let y = |n: u64| TOP + plot_h - plot_h * n as f64 / top as f64;
    let label_every = days.len().div_ceil(MAX_LABELS).max(1);
    let total: u64 = days.iter().map(|(_, n)| n).sum();
    let (first, last) = (days.first().map(|d| d.0), days.last().map(|d| d.0));
    let desc = match (first, last) {
        (Some(first), Some(last)) => match lang {
            UiLang::Id => format!(
                "{} hari, {} sampai {}: {} unduhan, paling banyak {} dalam sehari.",
                days.len(),
                day_label(lang, first),
                day_label(lang, last),
                count(lang, total),
                count(lang, max)
            ),
            UiLang::En => format!(
                "{} days, {} to {}: {} downloads, at most {} in a day.",
                days.len(),
                day_label(lang, first),
                day_label(lang, last),
                count(lang, total),
                count(lang, max)
            ),
        },
        _ => String::new(),
    };
    let fmt = |v: f64| format!("{v:.1}");
    html! {
        svg.chart viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img"
            aria-labelledby="chart-title chart-desc" preserveAspectRatio="xMidYMid meet" {
            title #chart-title { (t(lang, "Unduhan per hari", "Downloads per day")) }
            desc #chart-desc { (desc) }
            // The vertical axis: 0, half and the top, with lines across.
            @for n in [0, top / 2, top] {
                line.grid x1=(fmt(LEFT)) x2=(fmt(WIDTH - RIGHT)) y1=(fmt(y(n))) y2=(fmt(y(n))) {}
                text.axis x=(fmt(LEFT - 6.0)) y=(fmt(y(n) + 4.0)) text-anchor="end" { (count(lang, n)) }
            }
            @for (i, (day, n)) in days.iter().enumerate() {
                @let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
                rect.bar data-day=(day) x=(fmt(x)) y=(fmt(y(*n))) width=(fmt(bar_w))
                    height=(fmt(y(0) - y(*n))) {
                    title { (day_label(lang, *day)) ": " (count(lang, *n)) }
                }
                @if i.is_multiple_of(label_every) {
                    @let cx = LEFT + slot * i as f64 + slot / 2.0;
                    line.tick x1=(fmt(cx)) x2=(fmt(cx)) y1=(fmt(y(0))) y2=(fmt(y(0) + 4.0)) {}
                    text.axis x=(fmt(cx)) y=(fmt(y(0) + 18.0)) text-anchor="middle" { (short_day(lang, *day)) }
                }
            }
            text.axis x=(fmt(LEFT + plot_w / 2.0)) y=(fmt(HEIGHT - 4.0)) text-anchor="middle" {
                (t(lang, "Tanggal (WIB)", "Date (WIB)"))
            }
        }
    }
}

/// The chart's top: 1, 2 or 5 times a power of ten, at least `max` and at least 2 (so that
/// its half is a whole number).
fn nice_ceiling(max: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [2, 5, 10] {
            let v = step.saturating_mul(m);
            if v >= max || v == u64::MAX {
                return v;
            }
        }
        step = step.saturating_mul(10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_in_each_language() {
        assert_eq!(count(UiLang::Id, 1_234_567), "1.234.567");
        assert_eq!(count(UiLang::En, 1_234), "1,234");
        assert_eq!(count(UiLang::En, 123), "123");
        assert_eq!(share(UiLang::Id, 1, 3), "33,3 %");
        assert_eq!(share(UiLang::En, 0, 0), "0.0 %");
        assert_eq!(country_name(UiLang::Id, Some("NL")), "Belanda");
        assert_eq!(country_name(UiLang::En, None), "Unknown");
        assert_eq!(country_name(UiLang::En, Some("ZZ")), "ZZ");
        let day = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        assert_eq!(day_label(UiLang::Id, day), "5 Des 2026");
    }

    #[test]
    fn the_top_of_the_chart_is_a_round_number() {
        for (max, top) in [
            (0, 2),
            (1, 2),
            (3, 5),
            (7, 10),
            (11, 20),
            (20, 20),
            (480, 500),
        ] {
            assert_eq!(nice_ceiling(max), top, "{max}");
        }
    }

    #[test]
    fn one_bar_per_day() {
        let days: Vec<_> = (1..=31)
            .map(|d| {
                (
                    NaiveDate::from_ymd_opt(2026, 1, d).unwrap(),
                    u64::from(d % 4),
                )
            })
            .collect();
        let svg = chart(UiLang::En, &days).into_string();
        assert_eq!(svg.matches("<rect class=\"bar\"").count(), 31);
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("<text class=\"axis\" x=\"") && svg.contains(">1 Jan</text>"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }
}
