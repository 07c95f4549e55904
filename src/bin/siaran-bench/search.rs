//! `siaran-bench search`: search latency on an archive of 10,000 published briefings, each with
//! an Indonesian transcript of 100–200 cues, on SQLite (a file in a temporary folder) or on
//! PostgreSQL (`--database-url`).
//!
//! Owns measurement only: it seeds through SQL and the `Db` trait (transcripts through
//! `Db::put_transcript`, the path an upload takes) and times `Db::search`; it must not change
//! what searching does. The text is made with a seeded RNG from the words of the sample article
//! (`--words`), their Indonesian affixed forms (me-, di-, ber-, -kan, -an, ...) and place names,
//! drawn with Zipf frequencies so that some words are in nearly every transcript and others in a
//! few dozen; a fifth of the cues are sentences of the article as they are.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use chrono::{DateTime, TimeZone as _, Utc};
use futures_util::{StreamExt as _, stream};
use rand::{Rng as _, SeedableRng as _, rngs::StdRng, seq::IndexedRandom as _};
use serde::Serialize;

use siaran::{
    db::{AnyDb, Document, DocumentKind, DocumentLink, new_row_id, prelude::*},
    domain::{
        DocumentId, EpisodeFile, EpisodeFileKind, EpisodeId, Lang, NewShow, Show, ShowMeta, Slug,
        Urls,
        search::{SearchQuery, parse_terms},
        transcript::Cue,
    },
    storage::ObjectKey,
};

#[derive(Debug, clap::Args)]
pub struct BenchSearchArgs {
    /// The database to seed and search: an empty one (sqlite://PATH or postgres://...). By
    /// default a SQLite file in a temporary folder, removed afterwards.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Search a database this command seeded before, without seeding again.
    #[arg(long)]
    pub reuse: bool,
    #[arg(long, default_value_t = 10_000)]
    pub episodes: usize,
    #[arg(long, default_value_t = 400)]
    pub queries: usize,
    #[arg(long, default_value_t = 20260601)]
    pub seed: u64,
    /// The article whose words make the transcripts.
    #[arg(long, default_value = "../shared/data/sample-briefing-id.txt")]
    pub words: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

const SHOWS: usize = 10;
const PLACES: &[&str] = &[
    "samarinda",
    "balikpapan",
    "bontang",
    "tenggarong",
    "sangatta",
    "tanjung",
    "redeb",
    "penajam",
    "paser",
    "berau",
    "kutai",
    "mahakam",
    "nunukan",
    "tarakan",
    "malinau",
    "bulungan",
    "sendawar",
    "ujoh",
    "bilas",
    "sepaku",
    "loa",
    "janan",
    "muara",
    "badak",
    "anggana",
    "sanga",
    "sebulu",
    "melak",
    "barong",
    "tongkok",
    "kembang",
    "janggut",
    "kenohan",
    "marangkayu",
];
const PREFIXES: &[&str] = &[
    "me", "mem", "men", "meng", "di", "ber", "ter", "pe", "pem", "ke", "se",
];
const SUFFIXES: &[&str] = &["", "kan", "an", "i", "nya", "lah"];

/// Words by rank, and the article's sentences.
struct Corpus {
    vocab: Vec<String>,
    /// Cumulative Zipf weights of `vocab`.
    cdf: Vec<f64>,
    sentences: Vec<Vec<String>>,
}

impl Corpus {
    fn new(text: &str, rng: &mut StdRng) -> Corpus {
        let words = siaran::domain::search::words(text);
        let mut counts: Vec<(String, usize)> = Vec::new();
        for w in &words {
            match counts.iter_mut().find(|(x, _)| x == w) {
                Some((_, n)) => *n += 1,
                None => counts.push((w.clone(), 1)),
            }
        }
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut vocab: Vec<String> = counts.into_iter().map(|(w, _)| w).collect();
        let roots: Vec<String> = vocab
            .iter()
            .filter(|w| w.len() >= 4 && w.chars().all(char::is_alphabetic))
            .cloned()
            .collect();
        let mut derived: Vec<String> = Vec::new();
        for root in &roots {
            for p in PREFIXES {
                for s in SUFFIXES {
                    derived.push(format!("{p}{root}{s}"));
                }
            }
            for s in &SUFFIXES[1..] {
                derived.push(format!("{root}{s}"));
            }
        }
        for place in PLACES {
            derived.push((*place).to_owned());
            for n in 1..=20 {
                derived.push(format!("{place}{n}"));
            }
        }
        // Deterministic shuffle, so derived forms get ranks at random.
        for i in (1..derived.len()).rev() {
            let j = rng.random_range(0..=i);
            derived.swap(i, j);
        }
        for d in derived {
            if !vocab.contains(&d) {
                vocab.push(d);
            }
        }
        let mut total = 0.0;
        let cdf = (1..=vocab.len())
            .map(|rank| {
                total += 1.0 / rank as f64;
                total
            })
            .collect();
        let sentences = text
            .split(['.', '\n', '?', '!'])
            .map(siaran::domain::search::words)
            .filter(|s| s.len() >= 5)
            .collect();
        Corpus {
            vocab,
            cdf,
            sentences,
        }
    }

    fn word(&self, rng: &mut StdRng) -> &str {
        let total = self.cdf.last().copied().unwrap_or(1.0);
        let x = rng.random::<f64>() * total;
        let i = self
            .cdf
            .partition_point(|c| *c < x)
            .min(self.vocab.len() - 1);
        &self.vocab[i]
    }

    fn cue_text(&self, rng: &mut StdRng) -> String {
        let words: Vec<String> = if rng.random_bool(0.2)
            && let Some(s) = self.sentences.choose(rng)
        {
            let n = rng.random_range(5..=s.len().min(14));
            let start = rng.random_range(0..=s.len() - n);
            s[start..start + n].to_vec()
        } else {
            let n = rng.random_range(6..=14);
            (0..n).map(|_| self.word(rng).to_owned()).collect()
        };
        let mut text = words.join(" ");
        if let Some(first) = text.get(..1) {
            text = format!("{}{}.", first.to_uppercase(), &text[1..]);
        }
        text
    }
}

fn transcript(corpus: &Corpus, rng: &mut StdRng) -> Vec<Cue> {
    let n = rng.random_range(100..=200);
    let mut at = 0_u64;
    (0..n)
        .map(|_| {
            let length = rng.random_range(2_000..6_000);
            let cue = Cue {
                start_ms: at,
                end_ms: at + length,
                text: corpus.cue_text(rng),
            };
            at += length + rng.random_range(0..500);
            cue
        })
        .collect()
}

/// What one query looks for, and the moment it must find when it was cut from a cue.
#[derive(Debug, Clone)]
struct Case {
    kind: &'static str,
    q: String,
    show: Option<Slug>,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    doc_kind: Option<DocumentKind>,
    target: Option<(EpisodeId, u64)>,
}

#[derive(Debug, Serialize)]
struct Stats {
    kind: String,
    queries: usize,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    mean_hits: f64,
}

#[derive(Debug, Serialize)]
struct Report {
    backend: String,
    episodes: usize,
    cues: u64,
    seed_seconds: Option<f64>,
    rows: Vec<Stats>,
    phrases_found_at_moment: String,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn stats(kind: &str, mut times: Vec<Duration>, hits: &[usize]) -> Stats {
    times.sort();
    Stats {
        kind: kind.to_owned(),
        queries: times.len(),
        p50_ms: percentile(&times, 0.50),
        p95_ms: percentile(&times, 0.95),
        p99_ms: percentile(&times, 0.99),
        max_ms: times.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        mean_hits: hits.iter().sum::<usize>() as f64 / hits.len().max(1) as f64,
    }
}

pub async fn search(args: &BenchSearchArgs) -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let url = match &args.database_url {
        Some(url) => url.clone(),
        None => format!("sqlite://{}", temp.path().join("bench.db").display()),
    };
    let db = AnyDb::connect(&url).await?;
    db.migrate().await?;
    let text = std::fs::read_to_string(&args.words)
        .with_context(|| format!("cannot read {}", args.words.display()))?;
    let mut rng = StdRng::seed_from_u64(args.seed);
    let corpus = Corpus::new(&text, &mut rng);
    let backend = if url.starts_with("sqlite") {
        "sqlite"
    } else {
        "postgres"
    };

    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM episodes")
        .fetch_one(db.pool())
        .await?;
    let seed_seconds = if args.reuse {
        ensure!(existing > 0, "--reuse: the database has no episodes");
        None
    } else {
        ensure!(
            existing == 0,
            "the database already has {existing} episodes: give an empty one (or --reuse)"
        );
        let started = Instant::now();
        seed(&db, &corpus, args, &mut rng, backend).await?;
        Some(started.elapsed().as_secs_f64())
    };
    let cues: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM transcript_cues")
        .fetch_one(db.pool())
        .await?;
    let episodes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM episodes")
        .fetch_one(db.pool())
        .await?;
    if !args.json {
        eprintln!(
            "{backend}: {episodes} episodes, {cues} cues{}",
            seed_seconds.map_or(String::new(), |s| format!(", seeded in {s:.1} s"))
        );
    }

    let cases = cases(&db, &corpus, args, &mut rng).await?;
    let now = Utc::now();
    // A warm-up pass (caches, prepared statements), then the timed one.
    for case in cases.iter().take(20) {
        db.search(&query_of(case)?, now).await?;
    }
    let mut by_kind: Vec<(&str, Vec<Duration>, Vec<usize>)> = Vec::new();
    let mut all = (Vec::new(), Vec::new());
    let (mut targets, mut found) = (0, 0);
    for case in &cases {
        let query = query_of(case)?;
        let started = Instant::now();
        let results = db.search(&query, now).await?;
        let took = started.elapsed();
        let hits = results.episodes.len();
        if let Some((episode, at)) = case.target {
            targets += 1;
            if results
                .episodes
                .iter()
                .any(|e| e.episode_id == episode && e.moments.iter().any(|m| m.start_ms == at))
            {
                found += 1;
            }
        }
        let filtered = case.show.is_some() || case.from.is_some() || case.doc_kind.is_some();
        for label in [Some(case.kind), filtered.then_some("(filtered)")]
            .into_iter()
            .flatten()
        {
            match by_kind.iter_mut().find(|(k, _, _)| *k == label) {
                Some((_, t, h)) => {
                    t.push(took);
                    h.push(hits);
                }
                None => by_kind.push((label, vec![took], vec![hits])),
            }
        }
        all.0.push(took);
        all.1.push(hits);
    }
    let mut rows: Vec<Stats> = by_kind
        .into_iter()
        .map(|(k, t, h)| stats(k, t, &h))
        .collect();
    rows.push(stats("all", all.0, &all.1));
    let report = Report {
        backend: backend.to_owned(),
        episodes: usize::try_from(episodes).unwrap_or_default(),
        cues: u64::try_from(cues).unwrap_or_default(),
        seed_seconds,
        rows,
        phrases_found_at_moment: format!("{found}/{targets}"),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "Search latency, Db::search in process ({}, {} episodes, {} cues), ms",
            report.backend, report.episodes, report.cues
        );
        println!(
            "{:<14} {:>7} {:>8} {:>8} {:>8} {:>8} {:>10}",
            "queries", "n", "p50", "p95", "p99", "max", "mean hits"
        );
        for r in &report.rows {
            println!(
                "{:<14} {:>7} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>10.1}",
                r.kind, r.queries, r.p50_ms, r.p95_ms, r.p99_ms, r.max_ms, r.mean_hits
            );
        }
        println!(
            "phrases cut from a cue, found at that cue's moment: {}",
            report.phrases_found_at_moment
        );
    }
    Ok(())
}

fn query_of(case: &Case) -> anyhow::Result<SearchQuery> {
    let terms = parse_terms(&case.q).map_err(|(_, m)| anyhow::anyhow!(m.en))?;
    Ok(SearchQuery {
        terms,
        show: case.show.clone(),
        from: case.from,
        to: case.to,
        kind: case.doc_kind,
        limit: siaran::domain::search::DEFAULT_LIMIT,
    })
}

fn publish_time(i: usize) -> DateTime<Utc> {
    // One briefing every eight hours, ending a day ago: all public, spread over nine years.
    let end = Utc::now() - chrono::Duration::days(1);
    end - chrono::Duration::hours(8 * i64::try_from(i).unwrap_or(0))
}

async fn seed(
    db: &AnyDb,
    corpus: &Corpus,
    args: &BenchSearchArgs,
    rng: &mut StdRng,
    backend: &str,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let urls = Urls::new("http://127.0.0.1:8080".parse()?);
    let mut shows: Vec<Show> = Vec::new();
    for i in 0..SHOWS {
        let show = NewShow {
            slug: format!("bench-{i}"),
            title: format!("Siaran Pers Diskominfo {}", PLACES[i % PLACES.len()]),
            description: "Penjelasan kebijakan daerah".into(),
            language: "id".into(),
            author: "Diskominfo".into(),
            email: "ppid@example.go.id".into(),
            category: "Government".into(),
            explicit: false,
            meta: ShowMeta::default(),
        }
        .parse(&urls, now)?;
        db.create_show(&show).await?;
        shows.push(show);
    }
    let media = new_row_id().to_string();
    sqlx::query(
        "INSERT INTO media (id, storage_key, filename, mime_type, extension, duration_ms, \
         size_bytes, sha256, info, created_at) VALUES ($1, $2, 'bench.mp3', 'audio/mpeg', 'mp3', \
         3600000, 1, '', '{}', $3)",
    )
    .bind(&media)
    .bind(format!("bench/{media}.mp3"))
    .bind(now.timestamp_millis())
    .execute(db.pool())
    .await?;

    // Episodes in batches of 500 rows per INSERT (the triggers index each row).
    let mut ids: Vec<EpisodeId> = Vec::with_capacity(args.episodes);
    for batch in (0..args.episodes).collect::<Vec<_>>().chunks(500) {
        let mut sql = String::from(
            "INSERT INTO episodes (id, show_id, slug, guid, title, description, media_id, \
             publish_at, created_at, updated_at) VALUES ",
        );
        for (n, _) in batch.iter().enumerate() {
            let b = n * 8;
            if n > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, $1, ${}, ${}, ${})",
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 9,
                b + 9
            ));
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(media.clone());
        for &i in batch {
            let id = EpisodeId(new_row_id());
            ids.push(id);
            let title: Vec<String> = (0..rng.random_range(3..8))
                .map(|_| corpus.word(rng).to_owned())
                .collect();
            let description: Vec<String> = (0..rng.random_range(15..40))
                .map(|_| corpus.word(rng).to_owned())
                .collect();
            let at = publish_time(i).timestamp_millis();
            q = q
                .bind(id.to_string())
                .bind(shows[i % SHOWS].id.to_string())
                .bind(format!("episode-{i}"))
                .bind(id.to_string())
                .bind(title.join(" "))
                .bind(description.join(" "))
                .bind(at)
                .bind(at);
        }
        q.execute(db.pool()).await?;
    }

    // Documents: 500, each cited by a few briefings.
    let kinds = [
        DocumentKind::UndangUndang,
        DocumentKind::PeraturanDaerah,
        DocumentKind::PeraturanGubernur,
        DocumentKind::SuratEdaran,
        DocumentKind::SiaranPers,
    ];
    for d in 0..500 {
        let kind = kinds[d % kinds.len()];
        let doc = Document {
            id: DocumentId(new_row_id()),
            title: (0..rng.random_range(3..7))
                .map(|_| corpus.word(rng))
                .collect::<Vec<_>>()
                .join(" "),
            number: Some(format!(
                "{} No. {} Tahun {}",
                kind.as_str(),
                d + 1,
                2000 + d % 26
            )),
            kind,
            issuer: None,
            issued_on: None,
            url: None,
            file: None,
            created_at: now,
            updated_at: now,
        };
        db.create_document(&doc).await?;
        for _ in 0..4 {
            let episode = *ids.choose(rng).context("no episodes")?;
            db.link_document(&DocumentLink {
                id: new_row_id(),
                episode_id: episode,
                document_id: doc.id,
                at_ms: None,
                note: None,
                created_at: now,
            })
            .await?;
        }
    }

    // Transcripts through Db::put_transcript; PostgreSQL takes a few at once.
    let lang = Lang::parse("id").map_err(anyhow::Error::msg)?;
    let work: Vec<(EpisodeId, Vec<Cue>)> = ids
        .iter()
        .map(|id| (*id, transcript(corpus, rng)))
        .collect();
    let parallel = if backend == "sqlite" { 1 } else { 4 };
    let started = Instant::now();
    let mut done = 0_usize;
    let mut results = stream::iter(work.into_iter().map(|(id, cues)| {
        let lang = lang.clone();
        async move {
            let file = EpisodeFile {
                episode_id: id,
                kind: EpisodeFileKind::Transcript,
                language: Some(lang),
                mime_type: "text/vtt".into(),
                key: ObjectKey::from_stored(format!("bench/{id}.vtt")),
                size_bytes: 0,
                sha256: String::new(),
                created_at: now,
            };
            db.put_transcript(&file, &cues).await
        }
    }))
    .buffer_unordered(parallel);
    while let Some(r) = results.next().await {
        r?;
        done += 1;
        if done.is_multiple_of(1000) && !args.json {
            eprintln!(
                "  {done} transcripts in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    if backend == "postgres" {
        sqlx::query(
            "ANALYZE episodes, documents, episode_documents, transcript_search, transcript_cues",
        )
        .execute(db.pool())
        .await?;
    }
    Ok(())
}

/// Single common and rare words, two words, phrases cut from a random cue (whose moment must be
/// found), document numbers; a third of them with a filter.
async fn cases(
    db: &AnyDb,
    corpus: &Corpus,
    args: &BenchSearchArgs,
    rng: &mut StdRng,
) -> anyhow::Result<Vec<Case>> {
    let sample: Vec<(String, String, i64, i64, String)> = sqlx::query_as(
        "SELECT c.episode_id, s.slug, e.publish_at, c.start_ms, c.text FROM transcript_cues c \
         JOIN episodes e ON e.id = c.episode_id JOIN shows s ON s.id = e.show_id \
         WHERE c.id % 997 = 0 ORDER BY c.id LIMIT 2000",
    )
    .fetch_all(db.pool())
    .await?;
    ensure!(!sample.is_empty(), "no cues to cut phrases from");
    let common = &corpus.vocab[..20];
    let rare = &corpus.vocab[corpus.vocab.len() / 2..];
    let mut cases = Vec::with_capacity(args.queries);
    for i in 0..args.queries {
        let mut case = Case {
            kind: "",
            q: String::new(),
            show: None,
            from: None,
            to: None,
            doc_kind: None,
            target: None,
        };
        match i % 6 {
            0 => {
                case.kind = "common word";
                case.q = common.choose(rng).cloned().unwrap_or_default();
            }
            1 => {
                case.kind = "rare word";
                case.q = rare.choose(rng).cloned().unwrap_or_default();
            }
            2 => {
                case.kind = "two words";
                case.q = format!("{} {}", corpus.word(rng), corpus.word(rng));
            }
            3 | 4 => {
                let (episode, show, at, start, text) =
                    sample.choose(rng).context("no sample")?.clone();
                let words = siaran::domain::search::words(&text);
                let n = 3.min(words.len());
                let from = rng.random_range(0..=words.len() - n);
                case.kind = "phrase";
                case.q = format!("\"{}\"", words[from..from + n].join(" "));
                case.target = Some((
                    episode.parse().map(EpisodeId).map_err(anyhow::Error::msg)?,
                    u64::try_from(start).unwrap_or_default(),
                ));
                // Half the phrases are asked within their show and a month around their date.
                if rng.random_bool(0.5) {
                    case.show = Slug::parse(&show).ok();
                    let day = Utc
                        .timestamp_millis_opt(at)
                        .single()
                        .context("bad time")?
                        .date_naive();
                    case.from = day.checked_sub_days(chrono::Days::new(15));
                    case.to = day.checked_add_days(chrono::Days::new(15));
                }
            }
            _ => {
                case.kind = "document";
                case.q = format!("\"no {} tahun\"", rng.random_range(1..=500));
            }
        }
        if case.target.is_none() && rng.random_bool(1.0 / 3.0) {
            match rng.random_range(0..3) {
                0 => case.show = Slug::parse(&format!("bench-{}", rng.random_range(0..SHOWS))).ok(),
                1 => {
                    let day = publish_time(rng.random_range(0..args.episodes)).date_naive();
                    case.from = Some(day);
                    case.to = day.checked_add_days(chrono::Days::new(90));
                }
                _ => case.doc_kind = Some(DocumentKind::PeraturanDaerah),
            }
        }
        if parse_terms(&case.q).is_ok() {
            cases.push(case);
        }
    }
    Ok(cases)
}
