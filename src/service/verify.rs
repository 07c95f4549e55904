//! Clip verification (issue 25, points 2 and 5): is this file what the office published, and
//! if it is an excerpt, where does it come from and was it edited? One operation for the API
//! (`POST /api/v1/verify`) and the public page (`/cek`).
//!
//! The clip is never kept: it is spooled to a temporary file in this process's spool folder
//! (hashed while it is written, in bounded chunks), which is removed when the operation ends,
//! whatever way it ends (answer, refusal, or the client hanging up mid-body: the `Spooled` file
//! is removed when dropped). Nothing reaches the store or the database. Bounds, so the endpoint
//! cannot fill the disk or take the cores: `SIARAN_VERIFY_MAX_BYTES` (checked from
//! `Content-Length` by the edges before reading, and counted while spooling), a deadline and an
//! idle limit on receiving, `SIARAN_VERIFY_CONCURRENCY` verifications at once (a slot taken
//! before a byte of the clip is read), `SIARAN_VERIFY_MAX_SECONDS` of audio looked up.
//!
//! Order: an exact copy of a published recording or rendition (same SHA-256) is recognised
//! first, whatever its length; otherwise the clip is probed (not media → `not-media`, too long
//! → `clip-too-long`, no audio → `undecodable`) and looked up by its acoustic fingerprint
//! (`fingerprint::find_clip`). Only published, not withdrawn, episodes are named. The summary
//! says what was measured and no more; "no match in the archive" is an answer.
//!
//! May use: `db`, `domain`, `media`, `reconcile`, `service::{ingest, fingerprint}`. Must not
//! use: `http`.

use std::{collections::HashMap, io, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;
use tokio::sync::Semaphore;

use super::{
    Ctx, Error,
    fingerprint::{self, ClipReport, FingerprintError},
    ingest::{self, IngestError},
};
use crate::{
    config::VerifySettings,
    domain::{
        EpisodeId, MediaId, Msg,
        citation::{CiteLang, clock, long_date},
    },
    media::ProbeError,
    storage::ByteStream,
};

/// How long a client may send nothing while its clip is being received.
pub const BODY_IDLE: Duration = Duration::from_secs(30);
/// How long receiving one clip may take in all: 200 MiB at 3 Mbit/s, with room.
pub const BODY_DEADLINE: Duration = Duration::from_secs(15 * 60);
/// What a refusal for a full instance tells the client to wait.
const RETRY_AFTER_SECS: u64 = 5;

/// The instance's verifier: its bounds and its slots. Cheap to share (`App` holds one).
#[derive(Debug)]
pub struct Verifier {
    max_bytes: u64,
    max_duration_ms: u64,
    slots: Arc<Semaphore>,
}

/// A published episode a clip was found in, as the answer names it.
#[derive(Debug, Clone)]
pub struct Published {
    pub id: EpisodeId,
    pub title: String,
    pub show_title: String,
    pub published_at: DateTime<Utc>,
    /// The episode page's permanent URL.
    pub url: String,
    /// Its path on this site (pages link with paths).
    pub path: String,
}

/// The clip is exactly this published file.
#[derive(Debug, Clone)]
pub struct Exact {
    pub episode: Published,
    pub media: MediaId,
    /// The recording itself, or one of its renditions.
    pub rendition: bool,
    pub duration_ms: u64,
}

/// A stretch of the clip found in a published episode.
#[derive(Debug, Clone)]
pub struct Match {
    pub episode: Published,
    pub episode_start_ms: u64,
    pub episode_end_ms: u64,
    pub clip_start_ms: u64,
    pub clip_end_ms: u64,
    /// Similarity, 0.0–1.0.
    pub score: f32,
}

/// A stretch of the clip that matches nothing in the public archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unmatched {
    pub clip_start_ms: u64,
    pub clip_end_ms: u64,
}

/// At `clip_at_ms` of the clip, `episode_start_ms..episode_end_ms` of the episode was skipped
/// (cut words), or, for an empty range, the clip goes on from elsewhere (out of order).
#[derive(Debug, Clone)]
pub struct CutAt {
    pub episode: Published,
    pub clip_at_ms: u64,
    pub episode_start_ms: u64,
    pub episode_end_ms: u64,
}

impl CutAt {
    pub fn out_of_order(&self) -> bool {
        self.episode_end_ms <= self.episode_start_ms
    }
}

/// What verification found, with a summary in both languages.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The clip's SHA-256 (lower-case hex) and size, as received.
    pub sha256: String,
    pub size_bytes: u64,
    /// The clip's length as probed or fingerprinted (0 when unknown).
    pub clip_ms: u64,
    pub exact: Option<Exact>,
    /// In clip order. For an exact file, the whole file.
    pub matches: Vec<Match>,
    pub unmatched: Vec<Unmatched>,
    pub cuts: Vec<CutAt>,
    pub edited: bool,
    pub summary: Msg,
}

impl Verifier {
    pub fn new(settings: &VerifySettings) -> Verifier {
        Verifier {
            max_bytes: settings.max_bytes,
            max_duration_ms: settings.max_seconds.saturating_mul(1000),
            slots: Arc::new(Semaphore::new(settings.concurrency.max(1))),
        }
    }

    /// The largest clip taken, in bytes: the edges refuse a longer declared body unread.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// The longest clip looked up, in seconds (for the page's explanation).
    pub fn max_seconds(&self) -> u64 {
        self.max_duration_ms / 1000
    }

    /// Verifies the clip `body`. A slot is taken before a byte of it is read (none free:
    /// `Busy`); the spooled clip is removed before this returns, and on cancellation.
    #[tracing::instrument(skip_all)]
    pub async fn verify(&self, ctx: &Ctx, body: ByteStream) -> Result<Verdict, Error> {
        let _slot = self
            .slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| Error::Busy {
                code: "verify-busy",
                msg: Msg::new(
                    "Terlalu banyak pemeriksaan berjalan bersamaan; coba lagi sebentar lagi",
                    "Too many checks are running at once; try again shortly",
                ),
                retry_after: RETRY_AFTER_SECS,
            })?;
        let body = bounded(body, BODY_IDLE, BODY_DEADLINE);
        let spooled = ingest::spool_body(&ctx.spool, body, self.max_bytes)
            .await
            .map_err(|e| match e {
                IngestError::TooLarge { limit } => Error::TooLarge { limit },
                IngestError::Body(io) => Error::Interrupted(io),
                other => Error::from(other),
            })?;
        let now = Utc::now();
        let mut episodes = Episodes::new(ctx, now);
        if let Some((episode, media)) = ctx
            .db
            .published_file_by_sha256(&spooled.sha256, now)
            .await?
            && let Some(verdict) =
                exact_verdict(ctx, &mut episodes, &spooled, episode, media).await?
        {
            return Ok(verdict);
        }
        let info = ingest::probe_blocking(spooled.file.path().to_owned())
            .await
            .map_err(refused_probe)?;
        if info.audio.is_none() {
            return Err(no_audio());
        }
        if info.duration_ms > self.max_duration_ms {
            return Err(too_long(info.duration_ms, self.max_duration_ms));
        }
        let report = fingerprint::find_clip(ctx, spooled.file.path())
            .await
            .map_err(|e| match e {
                FingerprintError::Undecodable(why) => undecodable(&why),
                FingerprintError::NoAudio => no_audio(),
                FingerprintError::Db(e) => e.into(),
            })?;
        let clip_ms = if report.clip_ms > 0 {
            report.clip_ms
        } else {
            info.duration_ms
        };
        let found = resolve(&mut episodes, report).await?;
        let summary = summary(None, &found);
        tracing::info!(
            matches = found.matches.len(),
            edited = found.edited,
            "clip verified"
        );
        Ok(Verdict {
            sha256: spooled.sha256.clone(),
            size_bytes: spooled.size,
            clip_ms,
            exact: None,
            matches: found.matches,
            unmatched: found.unmatched,
            cuts: found.cuts,
            edited: found.edited,
            summary,
        })
    }
}

/// The clip is exactly `media` of `episode`: one stretch covering the whole file. `None` when
/// the episode stopped being public since the lookup (withdrawn in between): the clip is then
/// looked up as any other.
async fn exact_verdict(
    ctx: &Ctx,
    episodes: &mut Episodes<'_>,
    spooled: &ingest::Spooled,
    episode: EpisodeId,
    media: MediaId,
) -> Result<Option<Verdict>, Error> {
    let Some(published) = episodes.get(episode).await? else {
        return Ok(None);
    };
    let record = ctx.db.media(media).await?;
    let rendition = record.id != episodes.media_of(episode).await?;
    let duration_ms = record.info.duration_ms;
    let exact = Exact {
        episode: published.clone(),
        media,
        rendition,
        duration_ms,
    };
    tracing::info!(%episode, %media, "clip is an exact published file");
    Ok(Some(Verdict {
        sha256: spooled.sha256.clone(),
        size_bytes: spooled.size,
        clip_ms: duration_ms,
        summary: summary(Some(&exact), &Found::default()),
        matches: vec![Match {
            episode: published,
            episode_start_ms: 0,
            episode_end_ms: duration_ms,
            clip_start_ms: 0,
            clip_end_ms: duration_ms,
            score: 1.0,
        }],
        exact: Some(exact),
        unmatched: Vec::new(),
        cuts: Vec::new(),
        edited: false,
    }))
}

/// The episodes an answer names, each read once, public ones only.
struct Episodes<'a> {
    ctx: &'a Ctx,
    now: DateTime<Utc>,
    seen: HashMap<EpisodeId, Option<(Published, MediaId)>>,
}

impl<'a> Episodes<'a> {
    fn new(ctx: &'a Ctx, now: DateTime<Utc>) -> Self {
        Episodes {
            ctx,
            now,
            seen: HashMap::new(),
        }
    }

    async fn load(&mut self, id: EpisodeId) -> Result<&Option<(Published, MediaId)>, Error> {
        if !self.seen.contains_key(&id) {
            let found = match self.ctx.db.episode(id).await {
                Ok(e) if e.withdrawn.is_none() && e.publish_at.is_some_and(|at| at <= self.now) => {
                    let show = self.ctx.db.show(e.show_id).await?;
                    Some((
                        Published {
                            id,
                            url: self.ctx.urls.episode_page(&show.slug, &e.slug),
                            path: format!("/shows/{}/{}", show.slug, e.slug),
                            title: e.title,
                            show_title: show.title,
                            published_at: e.publish_at.unwrap_or(self.now),
                        },
                        e.media_id,
                    ))
                }
                Ok(_) | Err(crate::db::DbError::NotFound) => None,
                Err(e) => return Err(e.into()),
            };
            self.seen.insert(id, found);
        }
        Ok(&self.seen[&id])
    }

    /// The episode as the answer names it, `None` when it is not public now.
    async fn get(&mut self, id: EpisodeId) -> Result<Option<Published>, Error> {
        Ok(self.load(id).await?.as_ref().map(|(p, _)| p.clone()))
    }

    async fn media_of(&mut self, id: EpisodeId) -> Result<MediaId, Error> {
        self.load(id)
            .await?
            .as_ref()
            .map(|(_, m)| *m)
            .ok_or_else(|| Error::NotFound { what: "episode" })
    }
}

/// The fingerprint's findings, episodes named.
#[derive(Debug, Default)]
struct Found {
    matches: Vec<Match>,
    unmatched: Vec<Unmatched>,
    cuts: Vec<CutAt>,
    edited: bool,
}

/// Names the report's episodes (each read once).
async fn resolve(episodes: &mut Episodes<'_>, report: ClipReport) -> Result<Found, Error> {
    let ids: Vec<EpisodeId> = report
        .matches
        .iter()
        .map(|s| s.episode)
        .chain(report.cuts.iter().map(|c| c.episode))
        .collect();
    let mut public = HashMap::new();
    for id in ids {
        if let std::collections::hash_map::Entry::Vacant(e) = public.entry(id) {
            e.insert(episodes.get(id).await?);
        }
    }
    Ok(found(report, &public))
}

/// The report with its episodes named from `public` (`None`: not public now). A stretch of an
/// episode that is no longer public (withdrawn since it was indexed) is not named: its span of
/// the clip joins the unmatched ones, and its cuts are dropped. Matches, unmatched spans and
/// cuts come in clip order; an edit is only said of a clip found in the archive.
fn found(report: ClipReport, public: &HashMap<EpisodeId, Option<Published>>) -> Found {
    let named = |id: EpisodeId| public.get(&id).cloned().flatten();
    let mut found = Found {
        unmatched: report
            .unmatched
            .iter()
            .map(|s| Unmatched {
                clip_start_ms: s.clip_start_ms,
                clip_end_ms: s.clip_end_ms,
            })
            .collect(),
        ..Found::default()
    };
    for s in report.matches {
        match named(s.episode) {
            Some(episode) => found.matches.push(Match {
                episode,
                episode_start_ms: s.episode_start_ms,
                episode_end_ms: s.episode_end_ms,
                clip_start_ms: s.clip_start_ms,
                clip_end_ms: s.clip_end_ms,
                score: s.score.clamp(0.0, 1.0),
            }),
            None => found.unmatched.push(Unmatched {
                clip_start_ms: s.clip_start_ms,
                clip_end_ms: s.clip_end_ms,
            }),
        }
    }
    for c in report.cuts {
        if let Some(episode) = named(c.episode) {
            found.cuts.push(CutAt {
                episode,
                clip_at_ms: c.clip_at_ms,
                episode_start_ms: c.episode_start_ms,
                episode_end_ms: c.episode_end_ms,
            });
        }
    }
    found
        .matches
        .sort_by_key(|m| (m.clip_start_ms, m.clip_end_ms));
    found
        .unmatched
        .sort_by_key(|u| (u.clip_start_ms, u.clip_end_ms));
    found.cuts.sort_by_key(|c| c.clip_at_ms);
    found.edited = report.edited && !found.matches.is_empty();
    found
}

/// The body, failing when nothing arrives for `idle` or all of it takes longer than `deadline`:
/// the route is not under the API's timeout (a large clip over a slow link takes minutes), but
/// a client must not hold a slot for ever.
fn bounded(body: ByteStream, idle: Duration, deadline: Duration) -> ByteStream {
    let until = tokio::time::Instant::now() + deadline;
    Box::pin(futures_util::stream::unfold(
        Some(body),
        move |body| async move {
            let mut body = body?;
            let wait = until
                .saturating_duration_since(tokio::time::Instant::now())
                .min(idle);
            match tokio::time::timeout(wait, body.next()).await {
                Ok(Some(chunk)) => Some((chunk, Some(body))),
                Ok(None) => None,
                Err(_) => Some((
                    Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the clip arrived too slowly",
                    )),
                    None,
                )),
            }
        },
    ))
}

fn refused_probe(e: ProbeError) -> Error {
    match e {
        ProbeError::Empty | ProbeError::Unsupported(_) => Error::UnsupportedType {
            code: "not-media",
            msg: Msg::new(
                "Bukan berkas audio/video: kirim rekaman yang ingin diperiksa",
                "Not an audio or video file: send the recording to be checked",
            ),
        },
        ProbeError::Unplayable(why) => undecodable(&why),
        ProbeError::Io(e) => Error::Internal(anyhow::Error::new(e).context("probe a clip")),
    }
}

fn undecodable(why: &str) -> Error {
    Error::invalid(
        "undecodable",
        format!("Suara berkas ini tidak dapat dibaca: {why}"),
        format!("The file's audio cannot be decoded: {why}"),
    )
}

fn no_audio() -> Error {
    Error::invalid(
        "undecodable",
        "Berkas ini tidak berisi suara yang dapat diperiksa",
        "The file has no audio to check",
    )
}

fn too_long(duration_ms: u64, max_ms: u64) -> Error {
    Error::invalid(
        "clip-too-long",
        format!(
            "Potongan terlalu panjang ({}): paling lama {} yang diperiksa",
            clock(duration_ms),
            clock(max_ms)
        ),
        format!(
            "The clip is too long ({}): at most {} is checked",
            clock(duration_ms),
            clock(max_ms)
        ),
    )
}

/// "3 Desember 2026" / "3 December 2026" (UTC, as the episode page dates it).
fn day(lang: CiteLang, at: DateTime<Utc>) -> String {
    match lang {
        CiteLang::Id => long_date(lang, at.date_naive()),
        CiteLang::En => at.format("%-d %B %Y").to_string(),
    }
}

fn percent(score: f32) -> u32 {
    // In 0..=100 after the clamp in `resolve`.
    (score.clamp(0.0, 1.0) * 100.0).round() as u32
}

/// What the answer says, in both languages: the exact file, else each stretch found and what
/// was edited, else plainly that nothing matched.
fn summary(exact: Option<&Exact>, found: &Found) -> Msg {
    if let Some(x) = exact {
        let e = &x.episode;
        return Msg::new(
            format!(
                "Ini rekaman resmi \"{}\", diterbitkan pada {}.",
                e.title,
                day(CiteLang::Id, e.published_at)
            ),
            format!(
                "This is the official recording of “{}”, published on {}.",
                e.title,
                day(CiteLang::En, e.published_at)
            ),
        );
    }
    if found.matches.is_empty() {
        return Msg::new("Tidak ada kecocokan di arsip.", "No match in the archive.");
    }
    let range = |a: u64, b: u64| format!("{}–{}", clock(a), clock(b));
    let stretches = |id: bool| {
        found
            .matches
            .iter()
            .map(|m| {
                let (ep, clip) = (
                    range(m.episode_start_ms, m.episode_end_ms),
                    range(m.clip_start_ms, m.clip_end_ms),
                );
                if id {
                    format!(
                        "\"{}\" ({}) {ep} (di potongan {clip}, kemiripan {}%)",
                        m.episode.title,
                        day(CiteLang::Id, m.episode.published_at),
                        percent(m.score)
                    )
                } else {
                    format!(
                        "“{}” ({}) at {ep} ({clip} of the clip, {}% similar)",
                        m.episode.title,
                        day(CiteLang::En, m.episode.published_at),
                        percent(m.score)
                    )
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let mut id = format!(
        "Potongan ini ditemukan dalam rekaman resmi: {}.",
        stretches(true)
    );
    let mut en = format!(
        "This clip was found in official recordings: {}.",
        stretches(false)
    );
    let unmatched = |word: &str| {
        found
            .unmatched
            .iter()
            .map(|u| format!("{word}{}", range(u.clip_start_ms, u.clip_end_ms)))
            .collect::<Vec<_>>()
    };
    if found.edited {
        let mut id_parts = unmatched("")
            .into_iter()
            .map(|r| format!("bagian {r} potongan tidak cocok dengan apa pun di arsip"))
            .collect::<Vec<_>>();
        let mut en_parts = unmatched("")
            .into_iter()
            .map(|r| format!("{r} of the clip matches nothing in the archive"))
            .collect::<Vec<_>>();
        for c in &found.cuts {
            let at = clock(c.clip_at_ms);
            if c.out_of_order() {
                id_parts.push(format!(
                    "urutan diubah pada {at} potongan (berlanjut dari {} \"{}\")",
                    clock(c.episode_start_ms),
                    c.episode.title
                ));
                en_parts.push(format!(
                    "the order changes at {at} of the clip (it goes on from {} of “{}”)",
                    clock(c.episode_start_ms),
                    c.episode.title
                ));
            } else {
                let skipped = range(c.episode_start_ms, c.episode_end_ms);
                id_parts.push(format!(
                    "{skipped} dari \"{}\" dilewati pada {at} potongan",
                    c.episode.title
                ));
                en_parts.push(format!(
                    "{skipped} of “{}” is left out at {at} of the clip",
                    c.episode.title
                ));
            }
        }
        id.push_str(" Potongan ini telah disunting");
        en.push_str(" The clip has been edited");
        if id_parts.is_empty() {
            id.push('.');
            en.push('.');
        } else {
            id.push_str(&format!(": {}.", id_parts.join("; ")));
            en.push_str(&format!(": {}.", en_parts.join("; ")));
        }
    } else if !found.unmatched.is_empty() {
        id.push_str(&format!(
            " Bagian yang tidak cocok dengan arsip: {}.",
            unmatched("").join(", ")
        ));
        en.push_str(&format!(
            " Parts that match nothing in the archive: {}.",
            unmatched("").join(", ")
        ));
    }
    Msg::new(id, en)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published(title: &str) -> Published {
        Published {
            id: EpisodeId::new(),
            title: title.into(),
            show_title: "Siaran Pers".into(),
            published_at: "2026-12-03T02:00:00Z".parse().unwrap(),
            url: "https://siaran.example/shows/pers/a".into(),
            path: "/shows/pers/a".into(),
        }
    }

    fn stretch(title: &str, ep: (u64, u64), clip: (u64, u64)) -> Match {
        Match {
            episode: published(title),
            episode_start_ms: ep.0,
            episode_end_ms: ep.1,
            clip_start_ms: clip.0,
            clip_end_ms: clip.1,
            score: 0.874,
        }
    }

    #[test]
    fn an_exact_file_is_named_with_its_date() {
        let exact = Exact {
            episode: published("Rapat Koordinasi"),
            media: MediaId::new(),
            rendition: false,
            duration_ms: 60_000,
        };
        let s = summary(Some(&exact), &Found::default());
        assert_eq!(
            s.id,
            "Ini rekaman resmi \"Rapat Koordinasi\", diterbitkan pada 3 Desember 2026."
        );
        assert_eq!(
            s.en,
            "This is the official recording of “Rapat Koordinasi”, published on 3 December 2026."
        );
    }

    #[test]
    fn only_public_episodes_are_named_in_clip_order() {
        use crate::service::fingerprint::{ClipSpan, Cut, Stretch};
        let (shown, gone) = (published("A"), EpisodeId::new());
        let stretch = |episode, clip: (u64, u64)| Stretch {
            episode,
            episode_start_ms: 1_000,
            episode_end_ms: 2_000,
            clip_start_ms: clip.0,
            clip_end_ms: clip.1,
            score: 1.5,
        };
        let report = |edited| ClipReport {
            clip_ms: 30_000,
            matches: vec![
                stretch(shown.id, (20_000, 30_000)),
                stretch(gone, (0, 10_000)),
                stretch(shown.id, (10_000, 15_000)),
            ],
            unmatched: vec![ClipSpan {
                clip_start_ms: 15_000,
                clip_end_ms: 20_000,
            }],
            cuts: vec![
                Cut {
                    episode: gone,
                    clip_at_ms: 5_000,
                    episode_start_ms: 0,
                    episode_end_ms: 0,
                },
                Cut {
                    episode: shown.id,
                    clip_at_ms: 20_000,
                    episode_start_ms: 2_000,
                    episode_end_ms: 3_000,
                },
            ],
            edited,
        };
        let public = HashMap::from([(shown.id, Some(shown.clone())), (gone, None)]);
        let f = found(report(true), &public);
        let clip: Vec<_> = f.matches.iter().map(|m| m.clip_start_ms).collect();
        assert_eq!(clip, [10_000, 20_000]);
        assert!(
            f.matches
                .iter()
                .all(|m| m.episode.id == shown.id && m.score == 1.0)
        );
        // The withdrawn episode's stretch is a part that matches nothing public.
        let spans: Vec<_> = f
            .unmatched
            .iter()
            .map(|u| (u.clip_start_ms, u.clip_end_ms))
            .collect();
        assert_eq!(spans, [(0, 10_000), (15_000, 20_000)]);
        assert_eq!(f.cuts.len(), 1);
        assert_eq!(f.cuts[0].clip_at_ms, 20_000);
        assert!(f.edited);
        // Nothing public left: no match, and no edit claimed.
        let none = HashMap::from([(shown.id, None), (gone, None)]);
        let f = found(report(true), &none);
        assert!(f.matches.is_empty() && f.cuts.is_empty() && !f.edited);
        assert_eq!(f.unmatched.len(), 4);
        assert_eq!(summary(None, &f).en, "No match in the archive.");
    }

    #[test]
    fn no_match_is_said_plainly() {
        let s = summary(None, &Found::default());
        assert_eq!(s.id, "Tidak ada kecocokan di arsip.");
        assert_eq!(s.en, "No match in the archive.");
    }

    #[test]
    fn stretches_and_edits_are_said_where_they_are() {
        let found = Found {
            matches: vec![
                stretch("A", (723_000, 733_000), (0, 10_000)),
                stretch("B", (60_000, 65_000), (14_000, 19_000)),
            ],
            unmatched: vec![Unmatched {
                clip_start_ms: 10_000,
                clip_end_ms: 14_000,
            }],
            cuts: vec![
                CutAt {
                    episode: published("A"),
                    clip_at_ms: 5_000,
                    episode_start_ms: 728_000,
                    episode_end_ms: 731_000,
                },
                CutAt {
                    episode: published("B"),
                    clip_at_ms: 14_000,
                    episode_start_ms: 60_000,
                    episode_end_ms: 60_000,
                },
            ],
            edited: true,
        };
        let s = summary(None, &found);
        assert!(
            s.en.contains(
                "“A” (3 December 2026) at 12:03–12:13 (0:00–0:10 of the clip, 87% similar)"
            ),
            "{}",
            s.en
        );
        assert!(
            s.en.contains("0:10–0:14 of the clip matches nothing"),
            "{}",
            s.en
        );
        assert!(
            s.en.contains("12:08–12:11 of “A” is left out at 0:05"),
            "{}",
            s.en
        );
        assert!(s.en.contains("the order changes at 0:14"), "{}", s.en);
        assert!(s.id.contains("Potongan ini telah disunting"), "{}", s.id);
        assert!(s.id.contains("kemiripan 87%"), "{}", s.id);
        // Not edited: the unmatched parts are said, no edit is claimed.
        let plain = Found {
            edited: false,
            cuts: Vec::new(),
            ..found
        };
        let s = summary(None, &plain);
        assert!(!s.en.contains("edited"), "{}", s.en);
        assert!(
            s.en.contains("Parts that match nothing in the archive: 0:10–0:14."),
            "{}",
            s.en
        );
    }

    #[tokio::test]
    async fn a_silent_client_is_cut_off() {
        // One chunk, then nothing, as a client that stopped sending.
        let silent = futures_util::stream::iter([Ok(bytes::Bytes::from_static(b"abc"))])
            .chain(futures_util::stream::pending());
        let mut body = bounded(
            Box::pin(silent),
            Duration::from_millis(50),
            Duration::from_secs(5),
        );
        assert_eq!(&body.next().await.unwrap().unwrap()[..], b"abc");
        let e = body.next().await.unwrap().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert!(body.next().await.is_none());
    }
}
