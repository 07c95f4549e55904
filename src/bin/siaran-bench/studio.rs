//! `siaran-bench studio`: the studio's dashboard and episode editor with 10,000 episodes in one
//! show (issue 23: under 50 ms p95), on SQLite (a file in a temporary folder) or PostgreSQL
//! (`--database-url`, an empty database).
//!
//! Owns measurement only: it seeds through SQL and the `Db` trait, signs an editor in through
//! the login form, and times whole requests through the application's router in process
//! (session, permission, queries, rendering; no socket), the body read to its end.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context as _, ensure};
use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use chrono::{Duration as Span, Utc};
use rand::{Rng as _, SeedableRng as _, rngs::StdRng};
use serde::Serialize;
use tower::ServiceExt as _;

use siaran::{
    app::{AppState, build_router},
    config::Settings,
    db::{AnyDb, prelude::*},
    domain::{
        EpisodeId, NewShow, Role, ShowMeta, Urls,
        audit::Actor,
        users::{NewUser, Password},
    },
    media::{AudioInfo, MediaInfo, Tags},
    service::users,
    storage::{ObjectKey, fs::FsStore},
};

#[derive(Debug, clap::Args)]
pub struct BenchStudioArgs {
    /// The database to seed: an empty one (sqlite://PATH or postgres://...). By default a
    /// SQLite file in a temporary folder, removed afterwards.
    #[arg(long)]
    pub database_url: Option<String>,
    #[arg(long, default_value_t = 10_000)]
    pub episodes: usize,
    /// Timed requests of each page.
    #[arg(long, default_value_t = 300)]
    pub requests: usize,
    #[arg(long, default_value_t = 20261205)]
    pub seed: u64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

const PUBLIC: &str = "http://127.0.0.1:8080";
const PASSWORD: &str = "bench kopi tubruk pagi";

#[derive(Debug, Serialize)]
struct Stats {
    page: String,
    requests: usize,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn stats(page: &str, mut times: Vec<Duration>) -> Stats {
    times.sort();
    Stats {
        page: page.to_owned(),
        requests: times.len(),
        p50_ms: percentile(&times, 0.50),
        p95_ms: percentile(&times, 0.95),
        p99_ms: percentile(&times, 0.99),
        max_ms: times.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
    }
}

/// The value of cookie `name` in a response's `Set-Cookie` headers.
fn set_cookie(res: &axum::response::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
}

async fn body_text(res: axum::response::Response) -> anyhow::Result<String> {
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

pub async fn studio(args: &BenchStudioArgs) -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let url = match &args.database_url {
        Some(url) => url.clone(),
        None => format!("sqlite://{}", temp.path().join("bench.db").display()),
    };
    let backend = if url.starts_with("sqlite") {
        "sqlite"
    } else {
        "postgres"
    };
    let db = AnyDb::connect(&url).await?;
    db.migrate().await?;
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM episodes")
        .fetch_one(db.pool())
        .await?;
    ensure!(
        existing == 0,
        "the database already has {existing} episodes: give an empty one"
    );
    let media_root = temp.path().join("media");
    let mut settings = Settings::new(&url, &format!("file://{}", media_root.display()))?;
    settings.public_url = PUBLIC.parse()?;
    settings.spool_dir = Some(temp.path().join("spool"));
    settings.jobs.workers = 0;
    // A key of its own, as PostgreSQL requires (SIARAN_SIGNING_KEY).
    let key = temp.path().join("signing-key.pem");
    siaran::service::transparency::write_key(
        &key,
        &siaran::domain::publication::SigningIdentity::generate(),
    )?;
    settings.signing.key = Some(key);
    let store = Arc::new(FsStore::open(media_root).await?);
    let started = Instant::now();
    let ids = seed(&db, args).await?;
    let seeded = started.elapsed().as_secs_f64();
    let state = AppState::from_parts(settings, Arc::new(db), store)?;
    let router = build_router(state.clone());
    let cookie = sign_in(&state, &router).await?;

    let get = |path: String| {
        let router = router.clone();
        let cookie = cookie.clone();
        async move {
            let req = Request::get(&path)
                .header(header::COOKIE, cookie)
                .header(header::ACCEPT_LANGUAGE, "id")
                .body(Body::empty())?;
            let t = Instant::now();
            let res = router.oneshot(req).await?;
            let status = res.status();
            let text = body_text(res).await?;
            let took = t.elapsed();
            ensure!(status == StatusCode::OK, "{path}: {status}");
            anyhow::Ok((took, text))
        }
    };
    // Warm up, and check that the pages are what they should be.
    let (_, html) = get("/studio".to_owned()).await?;
    ensure!(html.contains("Draf ("), "the dashboard lists episodes");
    let (_, html) = get(format!("/studio/episodes/{}", ids[0])).await?;
    ensure!(
        html.contains("name=\"action\""),
        "the editor has its buttons"
    );

    let mut rng = StdRng::seed_from_u64(args.seed);
    let pages = (args.episodes as u64 * 7 / 10).div_ceil(25).max(1);
    let n = args.requests;
    let plans: Vec<(&str, Vec<String>)> = vec![
        ("dashboard", vec!["/studio".to_owned(); n]),
        (
            "dashboard, published, a page",
            (0..n)
                .map(|_| {
                    format!(
                        "/studio?show=bench&state=published&page={}",
                        rng.random_range(1..=pages)
                    )
                })
                .collect(),
        ),
        (
            "dashboard, title search",
            (0..n)
                .map(|_| {
                    format!(
                        "/studio?show=bench&state=published&q=rapat+{}+koordinasi",
                        rng.random_range(0..100)
                    )
                })
                .collect(),
        ),
        (
            "dashboard, review queue",
            vec!["/studio?show=bench&state=in_review".to_owned(); n],
        ),
        (
            "episode editor",
            (0..n)
                .map(|_| format!("/studio/episodes/{}", ids[rng.random_range(0..ids.len())]))
                .collect(),
        ),
    ];
    let mut rows = Vec::new();
    for (name, paths) in plans {
        let mut times = Vec::with_capacity(paths.len());
        for path in paths {
            times.push(get(path).await?.0);
        }
        rows.push(stats(name, times));
    }

    if args.json {
        println!(
            "{}",
            serde_json::json!({"backend": backend, "episodes": args.episodes,
                "seed_seconds": seeded, "rows": rows})
        );
        return Ok(());
    }
    println!(
        "Studio pages through the router in process ({backend}, {} episodes in one show, \
         seeded in {seeded:.1} s), ms",
        args.episodes
    );
    println!(
        "{:<32} {:>5} {:>8} {:>8} {:>8} {:>8}",
        "page", "n", "p50", "p95", "p99", "max"
    );
    for r in &rows {
        println!(
            "{:<32} {:>5} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
            r.page, r.requests, r.p50_ms, r.p95_ms, r.p99_ms, r.max_ms
        );
    }
    Ok(())
}

/// One show with `args.episodes` episodes: 70 % published, 10 % drafts, 5 % in review, 5 %
/// scheduled, 10 % withdrawn. Their ids.
async fn seed(db: &AnyDb, args: &BenchStudioArgs) -> anyhow::Result<Vec<EpisodeId>> {
    let now = Utc::now();
    let urls = Urls::new(PUBLIC.parse()?);
    let show = NewShow {
        slug: "bench".into(),
        title: "Siaran Pers Diskominfo".into(),
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
    let media = siaran::domain::Media {
        id: siaran::domain::MediaId::new(),
        storage_key: ObjectKey::for_media(uuid::Uuid::now_v7(), "mp3"),
        filename: "bench.mp3".into(),
        info: MediaInfo {
            container: "mp3".into(),
            mime_type: "audio/mpeg".into(),
            extension: "mp3".into(),
            duration_ms: 3_600_000,
            size_bytes: 57_600_000,
            header_bytes: 0,
            sha256: "0".repeat(64),
            bit_rate: Some(128_000),
            audio: Some(AudioInfo {
                codec: "mp3".into(),
                sample_rate: Some(44_100),
                channels: Some(2),
            }),
            video: None,
            tags: Tags::default(),
            artwork: None,
            warnings: vec![],
        },
        created_at: now,
    };
    db.create_media(&media).await?;

    let mut ids = Vec::with_capacity(args.episodes);
    let day = |n: usize| Span::minutes(i64::try_from(n).unwrap_or(0) * 30);
    for batch in (0..args.episodes).collect::<Vec<_>>().chunks(500) {
        let mut sql = String::from(
            "INSERT INTO episodes (id, show_id, slug, guid, title, description, media_id, \
             publish_at, created_at, updated_at, meta, guid_permalink, review_state, \
             review_by, review_at, withdrawn_at, withdrawn_reason) VALUES ",
        );
        for (k, _) in batch.iter().enumerate() {
            let b = k * 8;
            if k > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${id}, $1, ${slug}, ${guid}, ${title}, 'Keterangan', $2, ${publish}, ${at}, ${at}, \
                 '{{}}', 0, ${review}, NULL, NULL, ${withdrawn}, \
                 CASE WHEN ${withdrawn} IS NULL THEN NULL ELSE 'Salah data' END)",
                id = b + 3,
                slug = b + 4,
                guid = b + 5,
                title = b + 6,
                publish = b + 7,
                at = b + 8,
                review = b + 9,
                withdrawn = b + 10,
            ));
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(show.id.to_string())
            .bind(media.id.to_string());
        for &n in batch {
            let id = EpisodeId::new();
            ids.push(id);
            let at = now - day(args.episodes - n);
            let (publish_at, review, withdrawn) = match n % 20 {
                0 | 1 => (None, None, None),
                2 => (None, Some("in_review"), None),
                3 => (Some(now + day(n)), None, None),
                4 | 5 => (Some(at), None, Some(at.timestamp_millis())),
                _ => (Some(at), None, None),
            };
            q = q
                .bind(id.to_string())
                .bind(format!("rapat-{n}"))
                .bind(id.to_string())
                .bind(format!("Rapat {} koordinasi {n}", n % 100))
                .bind(publish_at.map(|t| t.timestamp_millis()))
                .bind(at.timestamp_millis())
                .bind(review)
                .bind(withdrawn);
        }
        q.execute(db.pool()).await.context("seeding episodes")?;
    }
    Ok(ids)
}

/// Signs an editor in through the login form; its session cookie.
async fn sign_in(state: &AppState, router: &axum::Router) -> anyhow::Result<String> {
    let db = state.ctx.db.as_ref();
    let actor = Actor::system("bench");
    let user = users::create(
        db,
        &actor,
        NewUser {
            email: "editor@example.go.id".into(),
            name: "Editor Bench".into(),
            role: Role::Editor,
        },
        Utc::now(),
    )
    .await?;
    users::set_password(db, &actor, &user, Password::parse(PASSWORD)?, Utc::now()).await?;
    let res = router
        .clone()
        .oneshot(Request::get("/studio/login").body(Body::empty())?)
        .await?;
    let form_cookie = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|c| c.split(';').next().unwrap_or_default().to_owned())
        .collect::<Vec<_>>()
        .join("; ");
    let html = body_text(res).await?;
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .context("the login form's token")?
        .to_owned();
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("csrf", &csrf)
        .append_pair("email", "editor@example.go.id")
        .append_pair("password", PASSWORD)
        .append_pair("next", "/studio")
        .finish();
    let res = router
        .clone()
        .oneshot(
            Request::post("/studio/login")
                .header(header::ORIGIN, PUBLIC)
                .header(header::COOKIE, form_cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))?,
        )
        .await?;
    ensure!(
        res.status() == StatusCode::SEE_OTHER,
        "login answered {}",
        res.status()
    );
    let session = set_cookie(&res, "siaran_session").context("a session cookie")?;
    Ok(format!("siaran_session={session}"))
}
