//! Download counting under the IAB Podcast Measurement Technical Guidelines v2.x.
//!
//! A hit becomes a download in four steps, each a pure function the database writer reuses:
//! 1. [`screen`] drops hits that can never count ([`Exclusion`]): HEAD, statuses other than
//!    200/206, `bytes=0-1` probes, empty bodies, bots;
//! 2. [`window`] gives the counting window, the calendar day in WIB (UTC+7);
//! 3. [`listener_key`] hashes IP and user agent with that window's salt;
//! 4. [`ListenerState::apply`] adds the served bytes to the listener's [`Coverage`] of the media
//!    and says, exactly once, when it reaches [`threshold_bytes`] (one minute of audio).
//!
//! [`Counter`] chains the four in memory: the reference model for the writer and the subject of
//! the tests. Nothing here stores, logs or returns a raw IP address.

use std::collections::HashMap;
use std::net::IpAddr;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::agents::{Agent, UserAgents};

/// Western Indonesian Time, UTC+7 all year (Indonesia has no daylight saving).
const WIB: FixedOffset = match FixedOffset::east_opt(7 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+7 is a valid offset"),
};

/// Most disjoint intervals a [`Coverage`] keeps before it merges the closest two.
pub const MAX_INTERVALS: usize = 64;

/// One request for a media file, as delivery saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub at: DateTime<Utc>,
    pub ip: IpAddr,
    pub user_agent: String,
    /// Media id.
    pub media: String,
    pub method: HitMethod,
    /// Status answered; in redirect mode, the one the target will answer (200 or 206), since
    /// a 3xx is excluded.
    pub status: u16,
    /// Inclusive byte range served, resolved against `file_size` (`bytes=100-` is
    /// `(100, file_size - 1)`); in redirect mode, the range requested. `None`: no `Range`.
    pub range: Option<(u64, u64)>,
    /// Body bytes actually written, when known: a client that disconnects gets fewer.
    pub bytes_sent: Option<u64>,
    pub file_size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HitMethod {
    Get,
    Head,
}

impl Hit {
    /// The inclusive byte interval this hit delivered: its range (or the whole file), clamped
    /// to the file and cut to `bytes_sent` when known. `None` when no byte was delivered.
    pub fn served(&self) -> Option<(u64, u64)> {
        let last = self.file_size.checked_sub(1)?;
        let (start, end) = self.range.map_or((0, last), |(s, e)| (s, e.min(last)));
        if start > end {
            return None;
        }
        match self.bytes_sent {
            Some(0) => None,
            Some(sent) => Some((start, end.min(start.saturating_add(sent - 1)))),
            None => Some((start, end)),
        }
    }
}

/// Why a hit can never count as a download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exclusion {
    /// HEAD carries no body.
    Head,
    /// Any status but 200 and 206: 304, 404, 416, redirects, errors.
    Status(u16),
    /// A range of at most two bytes from offset 0: Apple and others probe with `bytes=0-1`.
    Probe,
    /// No body byte delivered.
    Empty,
    /// A bot by the OPAWG lists, or self-declared (see [`super::agents`]).
    Bot,
}

impl Exclusion {
    /// Stable kebab-case code, for storage and stats.
    pub fn code(self) -> &'static str {
        match self {
            Exclusion::Head => "head",
            Exclusion::Status(_) => "status",
            Exclusion::Probe => "probe",
            Exclusion::Empty => "empty",
            Exclusion::Bot => "bot",
        }
    }
}

/// A hit that may count: who asked and which bytes it delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub agent: Agent,
    /// [`Hit::served`], never empty.
    pub served: (u64, u64),
}

/// Applies the exclusions, cheapest first, so the user agent is only classified for hits
/// that delivered bytes.
pub fn screen(hit: &Hit, agents: &UserAgents) -> Result<Candidate, Exclusion> {
    if hit.method == HitMethod::Head {
        return Err(Exclusion::Head);
    }
    if !matches!(hit.status, 200 | 206) {
        return Err(Exclusion::Status(hit.status));
    }
    if matches!(hit.range, Some((0, end)) if end <= 1) {
        return Err(Exclusion::Probe);
    }
    let served = hit.served().ok_or(Exclusion::Empty)?;
    let agent = agents.classify(&hit.user_agent);
    if agent.bot {
        return Err(Exclusion::Bot);
    }
    Ok(Candidate { agent, served })
}

/// The counting window of an instant: its calendar day in WIB (UTC+7), so windows turn at
/// 17:00 UTC.
///
/// IAB v2 allows any 24-hour window. A calendar day starting when the daily salt rotates gives
/// each listener one key per window, so dedup never straddles two salts.
pub fn window(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&WIB).date_naive()
}

/// Anonymous listener id: hex SHA-256 of the window's salt, the IP and the user agent.
///
/// IAB identifies a listener by IP and user agent. IPv4 is kept whole; IPv6 is cut to its /64,
/// the prefix a single household or phone usually gets, since privacy addresses rotate the
/// rest. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is the IPv4 address.
pub fn listener_key(ip: IpAddr, user_agent: &str, salt: &[u8; 32]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    // The family tag keeps a 4-byte IPv4 and an 8-byte IPv6 prefix from ever hashing alike.
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            hasher.update([4]);
            hasher.update(v4.octets());
        }
        IpAddr::V6(v6) => {
            hasher.update([6]);
            hasher.update(&v6.octets()[..8]);
        }
    }
    hasher.update(user_agent.as_bytes());
    hex::encode(hasher.finalize())
}

/// Bytes a listener must receive for a download: the header (ID3 tag) plus one minute of audio
/// at the file's average bitrate, rounded up and capped at the file size.
///
/// An episode of a minute or less, or of unknown duration (`duration_ms == 0`), needs the
/// whole file.
pub fn threshold_bytes(file_size: u64, duration_ms: u64, header_bytes: u64) -> u64 {
    if duration_ms <= 60_000 {
        return file_size;
    }
    let header = header_bytes.min(file_size);
    let minute = (u128::from(file_size - header) * 60_000).div_ceil(u128::from(duration_ms));
    // `minute` < `file_size - header` because the duration exceeds a minute.
    header
        .saturating_add(u64::try_from(minute).unwrap_or(u64::MAX))
        .min(file_size)
}

/// The byte intervals one listener received of one media in one window: sorted, inclusive,
/// neither overlapping nor touching.
///
/// At most [`MAX_INTERVALS`] are kept: past that, the two with the smallest gap between them
/// are merged, counting the gap as covered. Players fetch a few large ranges, so this only
/// bites on pathological clients, and then overstates coverage by the smallest gaps; it keeps
/// a stored row small whatever a client sends. Serialized as a JSON array of `[start, end]`
/// pairs; deserializing normalizes any list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<(u64, u64)>", into = "Vec<(u64, u64)>")]
pub struct Coverage {
    intervals: Vec<(u64, u64)>,
}

impl Coverage {
    /// Adds the inclusive interval `start..=end`; ignored when `start > end`.
    pub fn add(&mut self, start: u64, end: u64) {
        if start > end {
            return;
        }
        // Intervals `lo..hi` overlap or touch the new one; ends are sorted like starts.
        let lo = self
            .intervals
            .partition_point(|&(_, e)| e.saturating_add(1) < start);
        let hi = self
            .intervals
            .partition_point(|&(s, _)| s <= end.saturating_add(1));
        let (mut start, mut end) = (start, end);
        if lo < hi {
            start = start.min(self.intervals[lo].0);
            end = end.max(self.intervals[hi - 1].1);
        }
        self.intervals.splice(lo..hi, [(start, end)]);
        while self.intervals.len() > MAX_INTERVALS {
            let closest = (0..self.intervals.len() - 1)
                .min_by_key(|&i| self.intervals[i + 1].0 - self.intervals[i].1)
                .unwrap_or_default();
            let (_, end) = self.intervals.remove(closest + 1);
            self.intervals[closest].1 = end;
        }
    }

    /// Number of bytes covered.
    pub fn covered(&self) -> u64 {
        self.intervals
            .iter()
            .map(|&(s, e)| e - s + 1)
            .fold(0, u64::saturating_add)
    }

    pub fn intervals(&self) -> &[(u64, u64)] {
        &self.intervals
    }
}

impl From<Vec<(u64, u64)>> for Coverage {
    fn from(intervals: Vec<(u64, u64)>) -> Coverage {
        let mut coverage = Coverage::default();
        for (start, end) in intervals {
            coverage.add(start, end);
        }
        coverage
    }
}

impl From<Coverage> for Vec<(u64, u64)> {
    fn from(coverage: Coverage) -> Vec<(u64, u64)> {
        coverage.intervals
    }
}

/// What is known of one listener, one media, one window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenerState {
    pub coverage: Coverage,
    /// The download was counted; later hits change nothing (and need no write).
    pub counted: bool,
}

impl ListenerState {
    /// Adds a served interval; true exactly once, when coverage first reaches `threshold`.
    pub fn apply(&mut self, served: (u64, u64), threshold: u64) -> bool {
        if self.counted {
            return false;
        }
        self.coverage.add(served.0, served.1);
        self.counted = self.coverage.covered() >= threshold;
        self.counted
    }
}

/// What [`threshold_bytes`] needs to know of a media file besides its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaTiming {
    pub duration_ms: u64,
    /// Bytes before the audio: the ID3v2 tag, or 0.
    pub header_bytes: u64,
}

/// The fate of one hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Excluded(Exclusion),
    /// Bytes recorded; the listener has not reached the threshold yet.
    Pending,
    /// This hit made the download: one more for the media, credited to this agent.
    Counted(Agent),
    /// The listener's download in this window was already counted.
    AlreadyCounted,
}

/// The whole rule chain in memory. One salt serves every window: the window is part of the
/// key, so dedup is the same as with a salt per window. State is never evicted.
pub struct Counter {
    salt: [u8; 32],
    listeners: HashMap<(NaiveDate, String, String), ListenerState>,
}

impl Counter {
    pub fn new(salt: [u8; 32]) -> Counter {
        Counter {
            salt,
            listeners: HashMap::new(),
        }
    }

    /// Runs one hit through the chain; `timing` is that of `hit.media`.
    pub fn record(&mut self, hit: &Hit, timing: MediaTiming) -> Outcome {
        let candidate = match screen(hit, UserAgents::embedded()) {
            Ok(candidate) => candidate,
            Err(reason) => return Outcome::Excluded(reason),
        };
        let key = (
            window(hit.at),
            hit.media.clone(),
            listener_key(hit.ip, &hit.user_agent, &self.salt),
        );
        let state = self.listeners.entry(key).or_default();
        if state.counted {
            return Outcome::AlreadyCounted;
        }
        let threshold = threshold_bytes(hit.file_size, timing.duration_ms, timing.header_bytes);
        if state.apply(candidate.served, threshold) {
            Outcome::Counted(candidate.agent)
        } else {
            Outcome::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-hour, 60 MB episode with a 100 kB ID3 tag: the threshold is
    /// 100_000 + ceil(59_900_000 / 60) = 1_098_334 bytes.
    const SIZE: u64 = 60_000_000;
    const HOUR: MediaTiming = MediaTiming {
        duration_ms: 3_600_000,
        header_bytes: 100_000,
    };
    const THRESHOLD: u64 = 1_098_334;

    const PODCASTS: &str = "Podcasts/1650.20 CFNetwork/1408.0.4 Darwin/22.5.0";
    const CORE_MEDIA: &str =
        "AppleCoreMedia/1.0.0.21E236 (iPhone; U; CPU OS 17_4 like Mac OS X; en_us)";
    const SALT: [u8; 32] = [7; 32];

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
    }

    /// A full GET answered 200 at 10:00 UTC.
    fn get(ip: &str, user_agent: &str) -> Hit {
        Hit {
            at: at("2025-03-01T10:00:00Z"),
            ip: ip.parse().unwrap(),
            user_agent: user_agent.to_owned(),
            media: "ep-1".to_owned(),
            method: HitMethod::Get,
            status: 200,
            range: None,
            bytes_sent: None,
            file_size: SIZE,
        }
    }

    impl Hit {
        fn range(self, start: u64, end: u64) -> Hit {
            Hit {
                status: 206,
                range: Some((start, end)),
                ..self
            }
        }
        fn at(self, rfc3339: &str) -> Hit {
            Hit {
                at: at(rfc3339),
                ..self
            }
        }
    }

    fn run(hits: &[Hit], timing: MediaTiming) -> Vec<Outcome> {
        let mut counter = Counter::new(SALT);
        hits.iter().map(|hit| counter.record(hit, timing)).collect()
    }

    fn downloads(hits: &[Hit]) -> usize {
        run(hits, HOUR)
            .iter()
            .filter(|o| matches!(o, Outcome::Counted(_)))
            .count()
    }

    #[test]
    fn threshold_is_header_plus_one_minute() {
        assert_eq!(
            threshold_bytes(SIZE, HOUR.duration_ms, HOUR.header_bytes),
            THRESHOLD
        );
        assert_eq!(threshold_bytes(6_000, 600_000, 0), 600);
        assert_eq!(threshold_bytes(6_001, 600_000, 0), 601, "rounded up");
        assert_eq!(
            threshold_bytes(6_000, 60_001, 0),
            6_000,
            "capped at the file"
        );
        assert_eq!(
            threshold_bytes(6_000, 600_000, 9_000),
            6_000,
            "header beyond the file"
        );
    }

    #[test]
    fn short_or_unknown_duration_needs_the_whole_file() {
        assert_eq!(threshold_bytes(720_000, 45_000, 1_000), 720_000);
        assert_eq!(threshold_bytes(720_000, 60_000, 1_000), 720_000);
        assert_eq!(threshold_bytes(720_000, 0, 1_000), 720_000);
    }

    #[test]
    fn window_turns_at_midnight_wib() {
        let day = |s| window(at(s));
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(day("2025-03-01T16:59:59.999Z"), d("2025-03-01"));
        assert_eq!(day("2025-03-01T17:00:00Z"), d("2025-03-02"));
        assert_eq!(day("2025-03-02T16:59:59Z"), d("2025-03-02"));
        assert_eq!(day("2025-02-28T23:30:00Z"), d("2025-03-01"));
    }

    #[test]
    fn listener_key_is_salted_hex_sha256() {
        let ip = "203.0.113.7".parse().unwrap();
        let key = listener_key(ip, PODCASTS, &SALT);
        assert_eq!(key.len(), 64);
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(key, listener_key(ip, PODCASTS, &SALT));
        assert_ne!(key, listener_key(ip, PODCASTS, &[8; 32]));
        assert_ne!(key, listener_key(ip, CORE_MEDIA, &SALT));
        assert_ne!(
            key,
            listener_key("203.0.113.8".parse().unwrap(), PODCASTS, &SALT)
        );
        assert!(!key.contains("203"), "no trace of the address in clear");
    }

    #[test]
    fn ipv6_is_one_listener_per_64() {
        let key = |ip: &str| listener_key(ip.parse().unwrap(), PODCASTS, &SALT);
        let a = key("2001:db8:1:2::1");
        assert_eq!(a, key("2001:db8:1:2:ffff:eeee:dddd:cccc"));
        assert_ne!(a, key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:203.0.113.7"), key("203.0.113.7"));
    }

    #[test]
    fn served_bytes() {
        let hit = get("203.0.113.7", PODCASTS);
        assert_eq!(hit.served(), Some((0, SIZE - 1)));
        assert_eq!(
            hit.clone().range(100, SIZE + 50).served(),
            Some((100, SIZE - 1))
        );
        assert_eq!(hit.clone().range(SIZE, SIZE + 50).served(), None);
        assert_eq!(
            Hit {
                bytes_sent: Some(1_000),
                ..hit.clone()
            }
            .served(),
            Some((0, 999))
        );
        let cut = Hit {
            bytes_sent: Some(10),
            ..hit.clone().range(100, 199)
        };
        assert_eq!(cut.served(), Some((100, 109)));
        assert_eq!(
            Hit {
                bytes_sent: Some(0),
                ..hit.clone()
            }
            .served(),
            None
        );
        assert_eq!(
            Hit {
                file_size: 0,
                ..hit
            }
            .served(),
            None
        );
    }

    #[test]
    fn apple_probe_then_full_get_is_one_download() {
        let probe = get("203.0.113.7", CORE_MEDIA).range(0, 1);
        let full = get("203.0.113.7", CORE_MEDIA);
        let outcomes = run(&[probe, full], HOUR);
        assert_eq!(outcomes[0], Outcome::Excluded(Exclusion::Probe));
        let Outcome::Counted(agent) = &outcomes[1] else {
            panic!("{outcomes:?}")
        };
        assert_eq!(agent.app.as_deref(), Some("AppleCoreMedia"));
        assert_eq!(agent.device_category.as_deref(), Some("mobile"));
    }

    #[test]
    fn probes_are_short_ranges_from_zero_only() {
        let hit = get("203.0.113.7", PODCASTS);
        let agents = UserAgents::embedded();
        assert_eq!(
            screen(&hit.clone().range(0, 0), agents),
            Err(Exclusion::Probe)
        );
        assert_eq!(
            screen(&hit.clone().range(0, 1), agents),
            Err(Exclusion::Probe)
        );
        assert!(screen(&hit.clone().range(0, 2), agents).is_ok());
        assert!(screen(&hit.range(5, 6), agents).is_ok());
    }

    #[test]
    fn head_only_is_no_download() {
        let head = Hit {
            method: HitMethod::Head,
            ..get("203.0.113.7", PODCASTS)
        };
        let outcomes = run(&[head.clone(), head], HOUR);
        assert_eq!(outcomes, [const { Outcome::Excluded(Exclusion::Head) }; 2]);
    }

    #[test]
    fn statuses_other_than_200_and_206_are_excluded() {
        for status in [304, 404, 416, 302, 500] {
            let hit = Hit {
                status,
                ..get("203.0.113.7", PODCASTS)
            };
            assert_eq!(
                run(&[hit], HOUR),
                [Outcome::Excluded(Exclusion::Status(status))]
            );
        }
    }

    #[test]
    fn overlapping_ranges_below_the_threshold_count_nothing() {
        let hit = get("203.0.113.7", PODCASTS);
        let log = [
            hit.clone().range(0, 499_999),
            hit.clone().range(200_000, 799_999),
            hit.clone().range(0, 999_999),
            hit.range(500_000, THRESHOLD - 2),
        ];
        assert_eq!(run(&log, HOUR), [const { Outcome::Pending }; 4]);
    }

    #[test]
    fn overlapping_ranges_reaching_the_threshold_count_once() {
        let hit = get("203.0.113.7", PODCASTS);
        let log = [
            hit.clone().range(0, 599_999),
            hit.clone().range(500_000, THRESHOLD - 1),
            hit.clone().range(THRESHOLD, 5_000_000),
            hit.clone().range(0, SIZE - 1),
            hit,
        ];
        let outcomes = run(&log, HOUR);
        assert_eq!(outcomes[0], Outcome::Pending);
        assert!(matches!(outcomes[1], Outcome::Counted(_)), "{outcomes:?}");
        assert_eq!(outcomes[2..], [const { Outcome::AlreadyCounted }; 3]);
    }

    #[test]
    fn a_range_beyond_the_threshold_counts_once() {
        let hit = get("203.0.113.7", PODCASTS).range(5_000_000, 9_999_999);
        let outcomes = run(&[hit.clone(), hit], HOUR);
        assert!(matches!(outcomes[0], Outcome::Counted(_)), "{outcomes:?}");
        assert_eq!(outcomes[1], Outcome::AlreadyCounted);
    }

    #[test]
    fn listeners_behind_one_ip_are_told_apart_by_user_agent() {
        let agents = [
            PODCASTS,
            CORE_MEDIA,
            "Overcast/3.0 (+http://overcast.fm/; iOS podcast app)",
            "PodcastAddict/v5 ( https://podcastaddict.com/; Android podcast app)",
            "Castro 2020.14/1287",
            "Spotify/8.7.10 iOS/15.3.1 (iPhone13,2)",
        ];
        let log: Vec<Hit> = agents.iter().map(|ua| get("198.51.100.20", ua)).collect();
        assert_eq!(downloads(&log), agents.len());
    }

    #[test]
    fn one_listener_counts_once_per_wib_day() {
        let hit = get("203.0.113.7", PODCASTS);
        let same_day = [
            hit.clone().at("2025-03-01T02:00:00Z"),
            hit.clone().at("2025-03-01T16:59:59Z"),
        ];
        assert_eq!(downloads(&same_day), 1);

        // 16:59:59 and 17:00:00 UTC are two WIB days.
        let across_midnight = [
            hit.clone().at("2025-03-01T16:59:59Z"),
            hit.clone().at("2025-03-01T17:00:00Z"),
        ];
        assert_eq!(downloads(&across_midnight), 2);

        // Two UTC dates, one WIB day (2025-03-02).
        let across_utc_midnight = [
            hit.clone().at("2025-03-01T17:00:00Z"),
            hit.at("2025-03-02T16:59:59Z"),
        ];
        assert_eq!(downloads(&across_utc_midnight), 1);
    }

    #[test]
    fn ipv6_listeners_share_a_64() {
        let same_64 = [
            get("2001:db8:1:2::1", PODCASTS),
            get("2001:db8:1:2:a:b:c:d", PODCASTS),
        ];
        assert_eq!(downloads(&same_64), 1);
        let two_64s = [
            get("2001:db8:1:2::1", PODCASTS),
            get("2001:db8:1:3::1", PODCASTS),
        ];
        assert_eq!(downloads(&two_64s), 2);
    }

    #[test]
    fn media_are_counted_apart() {
        let hit = get("203.0.113.7", PODCASTS);
        let log = [
            hit.clone(),
            Hit {
                media: "ep-2".to_owned(),
                ..hit
            },
        ];
        assert_eq!(downloads(&log), 2);
    }

    #[test]
    fn bots_are_excluded() {
        let bots = [
            "Mozilla/5.0 (compatible; AhrefsBot/7.0; http://ahrefs.com/robot/)",
            "Googlebot-Image/1.0",
            "libcurl/7.65.1",
            "Go-http-client/2.0",
            "FooBot/1.0",
            "",
        ];
        for ua in bots {
            let outcomes = run(&[get("203.0.113.7", ua)], HOUR);
            assert_eq!(outcomes, [Outcome::Excluded(Exclusion::Bot)], "{ua:?}");
        }
    }

    #[test]
    fn a_short_episode_needs_the_whole_file() {
        let timing = MediaTiming {
            duration_ms: 45_000,
            header_bytes: 1_000,
        };
        let hit = Hit {
            file_size: 720_000,
            ..get("203.0.113.7", PODCASTS)
        };
        let log = [hit.clone().range(0, 699_999), hit.range(700_000, 719_999)];
        let outcomes = run(&log, timing);
        assert_eq!(outcomes[0], Outcome::Pending);
        assert!(matches!(outcomes[1], Outcome::Counted(_)), "{outcomes:?}");
    }

    #[test]
    fn a_get_cut_short_does_not_count() {
        let hit = get("203.0.113.7", PODCASTS);
        let cut = Hit {
            bytes_sent: Some(50_000),
            ..hit.clone()
        };
        assert_eq!(run(std::slice::from_ref(&cut), HOUR), [Outcome::Pending]);
        let nothing = Hit {
            bytes_sent: Some(0),
            ..hit.clone()
        };
        assert_eq!(run(&[nothing], HOUR), [Outcome::Excluded(Exclusion::Empty)]);
        let enough = Hit {
            bytes_sent: Some(THRESHOLD),
            ..hit
        };
        assert_eq!(downloads(&[cut, enough]), 1);
    }

    #[test]
    fn coverage_merges_overlapping_and_touching_intervals() {
        let mut c = Coverage::default();
        c.add(10, 19);
        c.add(30, 39);
        c.add(20, 24); // touches 10..=19
        assert_eq!(c.intervals(), [(10, 24), (30, 39)]);
        c.add(0, 4);
        c.add(12, 13); // inside
        c.add(25, 29); // bridges both
        assert_eq!(c.intervals(), [(0, 4), (10, 39)]);
        c.add(3, 100);
        assert_eq!(c.intervals(), [(0, 100)]);
        c.add(9, 8); // empty
        assert_eq!(c.covered(), 101);
        c.add(u64::MAX - 1, u64::MAX);
        assert_eq!(c.intervals(), [(0, 100), (u64::MAX - 1, u64::MAX)]);
    }

    #[test]
    fn coverage_matches_a_bitmap() {
        // Deterministic pseudo-random intervals in a 4 KiB file, checked byte by byte.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..200 {
            let mut coverage = Coverage::default();
            let mut bitmap = vec![false; 4096];
            for _ in 0..next(20) + 1 {
                let start = next(4096);
                let end = (start + next(300)).min(4095);
                coverage.add(start, end);
                bitmap[start as usize..=end as usize].fill(true);
            }
            let covered = bitmap.iter().filter(|&&b| b).count() as u64;
            assert_eq!(coverage.covered(), covered);
            let runs = bitmap.windows(2).filter(|w| !w[0] && w[1]).count() + usize::from(bitmap[0]);
            assert_eq!(coverage.intervals().len(), runs);
        }
    }

    #[test]
    fn coverage_is_bounded_by_merging_the_closest_gap() {
        let mut c = Coverage::default();
        for i in 0..MAX_INTERVALS as u64 {
            c.add(i * 1_000, i * 1_000 + 9);
        }
        assert_eq!(c.intervals().len(), MAX_INTERVALS);
        c.add(5_015, 5_019); // gap of 5 after 5_000..=5_009: the closest
        assert_eq!(c.intervals().len(), MAX_INTERVALS);
        assert!(c.intervals().contains(&(5_000, 5_019)));
        assert_eq!(c.covered(), MAX_INTERVALS as u64 * 10 + 10);
    }

    #[test]
    fn coverage_round_trips_as_json_and_normalizes_input() {
        let mut c = Coverage::default();
        c.add(0, 99);
        c.add(200, 299);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, "[[0,99],[200,299]]");
        assert_eq!(serde_json::from_str::<Coverage>(&json).unwrap(), c);

        let messy: Coverage = serde_json::from_str("[[250,260],[0,50],[40,99],[300,200]]").unwrap();
        assert_eq!(messy.intervals(), [(0, 99), (250, 260)]);

        let state = ListenerState {
            coverage: c,
            counted: true,
        };
        let json = serde_json::to_string(&state).unwrap();
        assert_eq!(json, r#"{"coverage":[[0,99],[200,299]],"counted":true}"#);
        assert_eq!(serde_json::from_str::<ListenerState>(&json).unwrap(), state);
    }

    #[test]
    fn apply_is_true_exactly_once() {
        let mut state = ListenerState::default();
        assert!(!state.apply((0, 49), 100));
        assert!(!state.apply((0, 49), 100), "overlap adds nothing");
        assert!(state.apply((50, 99), 100));
        assert!(!state.apply((100, 1_000), 100));
        assert!(state.counted);
        assert_eq!(
            state.coverage.covered(),
            100,
            "no bookkeeping after counting"
        );
    }
}
