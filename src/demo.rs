//! The demo show: `siaran serve --demo` makes `/feeds/demo.xml` work on a fresh checkout, with
//! one published briefing (the sample in `media/`) linked to the law it discusses.

use std::path::PathBuf;

use anyhow::Context as _;
use chrono::Utc;

use crate::{
    db::DbError,
    domain::{
        DocumentId, EpisodeDraft, EpisodeId, EpisodeMeta, Lang, License, Location, MediaId,
        NewDocument, NewShow, Person, Show, ShowId, ShowMeta, Slug,
    },
    service::{self, Ctx, demo_actor},
};

const DEMO_SLUG: &str = "demo";
const SAMPLE: &str = "media/briefing-demo.mp3";
/// Its transcript, timed against the recording by `scripts/make-transcript`.
const TRANSCRIPT: &str = "media/briefing-demo.vtt";
/// The demo's records have fixed ids and dates, so its feed is the same on every machine and
/// is kept as a golden file (`feeds/golden/demo.xml`).
const DEMO_NAMESPACE: uuid::Uuid = uuid::uuid!("6f1c1d39-3b55-4d7e-9a54-5d6a0c2f1a10");

fn demo_id(name: &str) -> uuid::Uuid {
    uuid::Uuid::new_v5(&DEMO_NAMESPACE, name.as_bytes())
}

/// When the demo briefing went out.
fn demo_date() -> chrono::DateTime<Utc> {
    // 7 June 2023, 15:00 in Samarinda (UTC+8), the day of the briefing the article reports.
    chrono::DateTime::from_timestamp(1_686_124_800, 0).expect("a valid time")
}
/// The demo show's cover (`itunes:image`): a square 1400-pixel JPEG.
const COVER: &str = "media/cover-demo.jpg";

/// A file shipped in the repository: relative to the working directory when run from a
/// checkout, else where the crate was built.
fn in_repo(file: &str) -> PathBuf {
    let here = PathBuf::from(file);
    if here.exists() {
        here
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(file)
    }
}

/// Creates the demo show and its briefing unless they exist already, so restarts, a start that
/// was interrupted half-way and several instances starting together all end with one demo.
/// Everything goes through the operations the API uses, recorded in the audit trail as `demo`.
pub async fn seed(ctx: &Ctx) -> anyhow::Result<()> {
    let actor = demo_actor();
    let slug = Slug::parse(DEMO_SLUG).map_err(anyhow::Error::from)?;
    let now = demo_date();
    let show = match ctx.db.show_by_slug(&slug).await {
        Ok(show) => show,
        Err(DbError::NotFound) => {
            let show = demo_show(ctx, now)?;
            match service::shows::create(ctx, &actor, show, None).await {
                Ok(show) => show,
                // Another instance created it at the same moment.
                Err(service::Error::Conflict { .. }) => ctx.db.show_by_slug(&slug).await?,
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => return Err(e.into()),
    };
    let show = if show.artwork.is_none() {
        let cover = std::fs::read(in_repo(COVER))
            .with_context(|| format!("cannot read the demo cover {COVER}"))?;
        service::shows::set_cover(ctx, &actor, show, cover.into(), now)
            .await
            .map_err(|e| anyhow::anyhow!("cannot set the demo cover: {e}"))?
    } else {
        show
    };
    if !ctx.db.show_episodes(show.id).await?.is_empty() {
        return Ok(());
    }

    let path = in_repo(SAMPLE);
    let media = match ctx.db.media(MediaId(demo_id("media"))).await {
        Ok(media) => media,
        Err(DbError::NotFound) => {
            service::media::ingest_path(ctx, MediaId(demo_id("media")), &path)
                .await
                .with_context(|| format!("cannot ingest {}", path.display()))?
        }
        Err(e) => return Err(e.into()),
    };
    let draft = EpisodeDraft {
        id: EpisodeId(demo_id("episode")),
        title: "Pejabat Pemerintah Harus Punya Mindset Digital".into(),
        description: "Informasi publik semakin mudah diakses di era digital. Badan publik wajib \
                      menyediakan informasi yang cepat, tepat dan mudah dijangkau."
            .into(),
        media,
        publish_at: Some(now),
        slug: Some("pejabat-pemerintah-harus-punya-mindset-digital".into()),
        meta: EpisodeMeta {
            episode: Some(1),
            location: Some(Location {
                name: "Hotel Mercure Samarinda".into(),
                geo: Some("geo:-0.4948,117.1497".into()),
                osm: None,
            }),
            persons: vec![Person {
                name: "Muhammad Faisal".into(),
                role: Some("guest".into()),
                group: None,
                img: None,
                href: None,
            }],
            ..EpisodeMeta::default()
        },
        guid: None,
    };
    let episode = match service::episodes::create(ctx, &actor, &show, draft, now, None).await {
        Ok(episode) => episode,
        // Another instance seeded the episode first; this upload is unused, like any upload
        // never attached to an episode.
        Err(service::Error::Conflict { .. }) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let law = NewDocument {
        title: "Keterbukaan Informasi Publik".into(),
        number: Some("UU No. 14 Tahun 2008".into()),
        kind: Some("undang-undang".into()),
        issuer: Some("Pemerintah Republik Indonesia".into()),
        issued_on: Some("2008-04-30".into()),
        url: Some("https://peraturan.bpk.go.id/Details/39047".into()),
    }
    .parse(now)?;
    let law = service::documents::create(
        ctx,
        &actor,
        crate::domain::Document {
            id: DocumentId(demo_id("document")),
            ..law
        },
    )
    .await?;
    service::episodes::link_document(
        ctx,
        &actor,
        &episode,
        &law.id.to_string(),
        Some(15_000),
        Some("Kewajiban badan publik menyediakan informasi (pasal 7)".into()),
        now,
    )
    .await?;
    let transcript = std::fs::read(in_repo(TRANSCRIPT))
        .with_context(|| format!("cannot read the demo transcript {TRANSCRIPT}"))?;
    service::episode_files::set_transcript(
        ctx,
        &actor,
        &episode,
        Lang::parse("id").map_err(anyhow::Error::msg)?,
        transcript.into(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot store the demo transcript: {e}"))?;
    tracing::info!(feed = %ctx.urls.feed(&show.slug), "demo show created");
    Ok(())
}

fn demo_show(ctx: &Ctx, now: chrono::DateTime<Utc>) -> anyhow::Result<Show> {
    NewShow {
        slug: DEMO_SLUG.into(),
        title: "Siaran Demo: Keterbukaan Informasi Publik".into(),
        description: "Contoh acara Siaran: penjelasan pejabat daerah tentang kewajiban \
                          keterbukaan informasi publik (UU 14/2008). Demo show of Siaran."
            .into(),
        language: "id".into(),
        author: "Diskominfo (contoh)".into(),
        email: "ppid@example.go.id".into(),
        category: "Government".into(),
        explicit: false,
        meta: ShowMeta {
            license: Some(License {
                name: "CC-BY-4.0".into(),
                url: None,
            }),
            persons: vec![Person {
                name: "Diskominfo (contoh)".into(),
                role: Some("host".into()),
                group: None,
                img: None,
                href: None,
            }],
            location: Some(Location {
                name: "Samarinda, Kalimantan Timur".into(),
                geo: Some("geo:-0.5022,117.1536".into()),
                osm: None,
            }),
            ..ShowMeta::default()
        },
    }
    .parse(&ctx.urls, now)
    .map(|show| Show {
        id: ShowId(demo_id("show")),
        ..show
    })
    .map_err(|e| anyhow::anyhow!("{e}"))
}
