//! One story through the `Db` trait, run on SQLite and on PostgreSQL, so the two cannot drift.

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use siaran::{
    db::{
        AnyDb, ApiToken, Db, DbError, Document, DocumentKind, DocumentLink, Download,
        EpisodeFilter, FingerprintSpan, JobError, JobKind, JobState, Listen, OpenUploads,
        QualityRecord, Role, StatsScope, StoredFile, StoredFingerprint, Upload, UploadOwner,
        WaveformFiles, new_row_id, prelude::*,
    },
    domain::{
        DocumentId, Enclosure, Episode, EpisodeId, EpisodeStatus, Lang, Media, MediaId, Msg, Show,
        ShowId, Slug, UserId,
        quality::{Clipping, QualityReport, QualityWarning, TimeRange},
    },
    media::{AudioInfo, MediaInfo, Tags, VideoInfo},
    storage::ObjectKey,
};

use crate::helpers::{create_token, fresh_postgres_db};

fn media_info() -> MediaInfo {
    MediaInfo {
        container: "mp3".into(),
        mime_type: "audio/mpeg".into(),
        extension: "mp3".into(),
        duration_ms: 3_600_000,
        size_bytes: 28_800_417,
        header_bytes: 0,
        sha256: "ab".repeat(32),
        bit_rate: Some(64_000),
        audio: Some(AudioInfo {
            codec: "mp3".into(),
            sample_rate: Some(44_100),
            channels: Some(1),
        }),
        video: None,
        tags: Tags {
            title: Some("Judul ✓".into()),
            ..Tags::default()
        },
        artwork: None,
        warnings: vec![],
    }
}

fn show_at(t0: DateTime<Utc>) -> Show {
    Show {
        id: ShowId::new(),
        slug: Slug::parse("kaltim").unwrap(),
        title: "Siaran \"Kaltim\" & <Pers>".into(),
        description: "Keterangan".into(),
        language: Lang::parse("id").unwrap(),
        author: "Diskominfo".into(),
        email: "ppid@kaltimprov.go.id".into(),
        category: "News > Politics".into(),
        explicit: true,
        podcast_guid: uuid::Uuid::new_v4(),
        artwork: None,
        renamed_at: None,
        meta: Default::default(),
        created_at: t0,
        updated_at: t0,
    }
}

fn media_at(t0: DateTime<Utc>) -> Media {
    Media {
        id: MediaId::new(),
        storage_key: ObjectKey::for_media(uuid::Uuid::now_v7(), "mp3"),
        filename: "Rapat 1.mp3".into(),
        info: media_info(),
        created_at: t0,
    }
}

/// An episode of `show` titled after its slug, a draft unless `publish_at` is given.
fn episode_at(
    show: ShowId,
    media: MediaId,
    slug: &str,
    publish_at: Option<DateTime<Utc>>,
    t0: DateTime<Utc>,
) -> Episode {
    let id = EpisodeId::new();
    Episode {
        id,
        show_id: show,
        slug: Slug::parse(slug).unwrap(),
        guid: id.to_string(),
        guid_is_permalink: false,
        title: slug.to_uppercase(),
        description: String::new(),
        media_id: media,
        publish_at,
        meta: Default::default(),
        withdrawn: None,
        review: None,
        artwork: None,
        created_at: t0,
        updated_at: t0,
    }
}

async fn story(db: &dyn Db) {
    db.ping().await.unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 2, 0, 0).unwrap();

    // Tokens: found by hash only.
    let secret = create_token(db, Role::Editor).await;
    let hash = siaran::service::tokens::hash(&secret);
    assert_eq!(db.token_by_hash(&hash).await.unwrap().role, Role::Editor);
    assert!(matches!(
        db.token_by_hash("nope").await,
        Err(DbError::NotFound)
    ));

    // Shows: unique slugs, round trip of every field.
    let show = show_at(t0);
    db.create_show(&show).await.unwrap();
    assert_eq!(db.show_by_slug(&show.slug).await.unwrap(), show);
    assert_eq!(db.show(show.id).await.unwrap(), show);
    let twin = Show {
        id: ShowId::new(),
        podcast_guid: uuid::Uuid::new_v4(),
        artwork: None,
        renamed_at: None,
        meta: Default::default(),
        ..show.clone()
    };
    assert!(matches!(
        db.create_show(&twin).await,
        Err(DbError::Conflict(_))
    ));
    assert_eq!(db.list_shows().await.unwrap(), vec![show.clone()]);

    // Media.
    let media = media_at(t0);
    db.create_media(&media).await.unwrap();
    assert_eq!(db.media(media.id).await.unwrap(), media);
    assert!(matches!(
        db.media(MediaId::new()).await,
        Err(DbError::NotFound)
    ));

    // Episodes: draft, published, scheduled; the feed query sees only what is due, newest first.
    let episode = |slug: &str, publish_at| episode_at(show.id, media.id, slug, publish_at, t0);
    let draft = episode("draft", None);
    let old = episode("old", Some(t0));
    // An imported episode keeps its source feed's guid, a permalink there.
    let new = Episode {
        guid: "https://old-host.example/episodes/2".into(),
        guid_is_permalink: true,
        ..episode("new", Some(t0 + Duration::days(1)))
    };
    let later = episode("later", Some(t0 + Duration::days(30)));
    for e in [&draft, &old, &new, &later] {
        db.create_episode(e).await.unwrap();
    }
    publication_log_story(db, [old.id, new.id, later.id], t0).await;
    assert_eq!(db.episode(old.id).await.unwrap(), old);
    assert_eq!(db.episode(new.id).await.unwrap(), new);
    assert!(db.episode_slug_taken(show.id, &old.slug).await.unwrap());
    assert!(
        !db.episode_slug_taken(show.id, &Slug::parse("x").unwrap())
            .await
            .unwrap()
    );
    let dup = episode("old", None);
    assert!(matches!(
        db.create_episode(&dup).await,
        Err(DbError::Conflict(_))
    ));
    let orphan = Episode {
        media_id: MediaId::new(),
        ..episode("orphan", None)
    };
    assert!(
        db.create_episode(&orphan).await.is_err(),
        "foreign keys are enforced"
    );

    let now = t0 + Duration::days(2);
    let feed = db.published_episodes(show.id, now).await.unwrap();
    let slugs: Vec<_> = feed.iter().map(|(e, _)| e.slug.as_str()).collect();
    assert_eq!(slugs, ["new", "old"]);
    assert_eq!(feed[0].1, Enclosure::from(&media));

    // Every episode, for editors: drafts first, then newest publication first.
    let all: Vec<_> = db
        .show_episodes(show.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.slug.to_string())
        .collect();
    assert_eq!(all, ["draft", "later", "new", "old"]);

    let published = db.set_publish_at(draft.id, Some(now), now).await.unwrap();
    assert_eq!(published.publish_at, Some(now));
    assert_eq!(published.updated_at, now);
    let slugs: Vec<_> = db
        .published_episodes(show.id, now)
        .await
        .unwrap()
        .into_iter()
        .map(|(e, _)| e.slug.to_string())
        .collect();
    assert_eq!(slugs, ["draft", "new", "old"]);
    let slugs_later = db
        .published_episodes(show.id, t0 + Duration::days(31))
        .await
        .unwrap();
    assert_eq!(slugs_later.len(), 4);

    // Documents and links, ordered by moment, unplaced last.
    let doc = |title: &str| Document {
        id: DocumentId::new(),
        title: title.into(),
        number: Some("UU No. 14 Tahun 2008".into()),
        kind: DocumentKind::UndangUndang,
        issuer: None,
        issued_on: chrono::NaiveDate::from_ymd_opt(2008, 4, 30),
        url: None,
        file: None,
        created_at: t0,
        updated_at: t0,
    };
    let (a, b) = (doc("A"), doc("B"));
    db.create_document(&a).await.unwrap();
    db.create_document(&b).await.unwrap();
    assert_eq!(db.document(a.id).await.unwrap(), a);
    for (d, at) in [(&a, None), (&b, Some(95_000)), (&a, Some(10_000))] {
        db.link_document(&DocumentLink {
            id: new_row_id(),
            episode_id: old.id,
            document_id: d.id,
            at_ms: at,
            note: at.map(|_| "pasal 7".to_owned()),
            created_at: t0,
        })
        .await
        .unwrap();
    }
    let linked = db.episode_documents(old.id).await.unwrap();
    let order: Vec<_> = linked
        .iter()
        .map(|l| (l.document.title.as_str(), l.at_ms))
        .collect();
    assert_eq!(
        order,
        [("A", Some(10_000)), ("B", Some(95_000)), ("A", None)]
    );
    assert!(db.episode_documents(new.id).await.unwrap().is_empty());

    // An episode's own cover: set, replaced (the old one answered, to delete its object),
    // read back by every read of the episode and the feed's, and owned (not an orphan).
    let cover = |sha: &str| siaran::domain::ShowArtwork {
        key: format!("artwork/episodes/{}/{sha}.png", new.id),
        mime_type: "image/png".to_owned(),
        width: 1400,
        height: 1400,
        size_bytes: 1234,
        sha256: sha.repeat(4),
    };
    let (first, replaced) = db
        .set_episode_artwork(new.id, &cover("aaaaaaaaaaaaaaaa"), now)
        .await
        .unwrap();
    assert_eq!(
        (first.artwork, replaced),
        (Some(cover("aaaaaaaaaaaaaaaa")), None)
    );
    let (second, replaced) = db
        .set_episode_artwork(new.id, &cover("bbbbbbbbbbbbbbbb"), now)
        .await
        .unwrap();
    assert_eq!(replaced, Some(cover("aaaaaaaaaaaaaaaa")));
    assert_eq!(second.artwork, Some(cover("bbbbbbbbbbbbbbbb")));
    assert_eq!(db.episode(new.id).await.unwrap(), second);
    let in_feed = db.published_episodes(show.id, now).await.unwrap();
    assert!(in_feed.iter().any(|(e, _)| *e == second));
    assert!(
        db.owned_object_keys()
            .await
            .unwrap()
            .contains(&cover("bbbbbbbbbbbbbbbb").key)
    );
    assert!(matches!(
        db.set_episode_artwork(
            siaran::domain::EpisodeId::new(),
            &cover("cccccccccccccccc"),
            now
        )
        .await,
        Err(DbError::NotFound)
    ));

    analytics_story(db, old.media_id, old.id, old.show_id).await;
    open_uploads_story(db, t0).await;
    users_story(db, old.show_id, t0).await;
    review_story(db, t0).await;
    site_story(db, t0).await;
}

/// The site settings: none before a save; the text saved without touching the logo, the logo
/// set without touching the text (and creating the row when nothing was saved), the replaced
/// logo returned; the logo's key among the owned objects.
async fn site_story(db: &dyn Db, t0: DateTime<Utc>) {
    use siaran::domain::{
        ShowArtwork,
        site::{Site, SiteForm},
    };
    assert_eq!(db.site().await.unwrap(), None);
    let logo = |n: u8| ShowArtwork {
        key: format!("site/logo-{n:016}.png"),
        mime_type: "image/png".into(),
        width: 200,
        height: 80,
        size_bytes: 1234,
        sha256: format!("{n:064}"),
    };
    let (site, replaced) = db
        .set_site_logo(&logo(1), &Site::default(), t0)
        .await
        .unwrap();
    assert_eq!(replaced, None);
    assert_eq!(site.name, "Siaran");
    assert_eq!(site.logo, Some(logo(1)));
    let form = SiteForm {
        name: "Diskominfo Kaltim".into(),
        address: "Jl. Gajah Mada No. 2\nSamarinda".into(),
        ppid_contact: "ppid@kaltimprov.go.id".into(),
        accent: "#1d4e89".into(),
        header: "#7a1f1f".into(),
    };
    let mut changed = form.parse(&Site::default(), t0).unwrap();
    changed.logo = None;
    db.save_site(&changed).await.unwrap();
    let stored = db.site().await.unwrap().unwrap();
    assert_eq!(stored.name, "Diskominfo Kaltim");
    assert_eq!(stored.address, "Jl. Gajah Mada No. 2\nSamarinda");
    assert_eq!(stored.header.as_ref().unwrap().as_str(), "#7a1f1f");
    assert_eq!(stored.updated_at, Some(t0));
    assert_eq!(stored.logo, Some(logo(1)), "the text's save keeps the logo");
    let (site, replaced) = db
        .set_site_logo(&logo(2), &Site::default(), t0)
        .await
        .unwrap();
    assert_eq!(replaced, Some(logo(1)));
    assert_eq!(
        site.name, "Diskominfo Kaltim",
        "the logo's save keeps the text"
    );
    let owned = db.owned_object_keys().await.unwrap();
    assert!(owned.contains(&logo(2).key), "{owned:?}");
    assert!(!owned.contains(&logo(1).key));
}

/// The transparency log: appended in order, a taken place or a named predecessor refused (so
/// two racing instances cannot fork it), read back as signed; published episodes without a
/// record found. `published` are published by now, in order of publication.
async fn publication_log_story(db: &dyn Db, published: [EpisodeId; 3], t0: DateTime<Utc>) {
    use siaran::domain::publication::{
        Entry, FORMAT, KeySet, PublicKey, RECORD_TYPE, Record, SigningIdentity, time,
    };
    let key = SigningIdentity::generate();
    let record = |seq: u64, prev: &str, episode: EpisodeId, episode_prev: &str, at| Record {
        kind: RECORD_TYPE.into(),
        v: FORMAT,
        seq,
        prev: prev.into(),
        episode_id: episode.to_string(),
        episode_prev: episode_prev.into(),
        event: "published".into(),
        state: "published".into(),
        url: "https://x.example/shows/a/b".into(),
        guid: "g".into(),
        title: "Jumpa pers".into(),
        at: time(at),
        files: vec![],
        key: key.id().into(),
    };
    let now = Utc::now();
    assert_eq!(db.log_head().await.unwrap(), None);
    assert_eq!(db.key_first_used(key.id()).await.unwrap(), None);
    assert_eq!(
        db.unrecorded_publications(DateTime::<Utc>::UNIX_EPOCH, now, 10)
            .await
            .unwrap(),
        published
    );
    assert_eq!(
        db.unrecorded_publications(t0, now, 10).await.unwrap(),
        published[1..],
        "after `since` only"
    );

    let first: Entry = key.entry(record(1, "", published[0], "", t0));
    db.append_log(&first).await.unwrap();
    // The same place again, or the same predecessor: refused.
    let racing = key.entry(record(1, "", published[1], "", t0));
    assert!(matches!(
        db.append_log(&racing).await,
        Err(DbError::Conflict(_))
    ));
    let forked = key.entry(record(2, "", published[1], "", t0));
    assert!(matches!(
        db.append_log(&forked).await,
        Err(DbError::Conflict(_))
    ));
    let second = key.entry(record(
        2,
        &first.hash,
        published[0],
        &first.hash,
        t0 + Duration::hours(1),
    ));
    db.append_log(&second).await.unwrap();
    let episode_fork = key.entry(record(3, &second.hash, published[0], &first.hash, t0));
    assert!(matches!(
        db.append_log(&episode_fork).await,
        Err(DbError::Conflict(_))
    ));

    let head = db.log_head().await.unwrap().unwrap();
    assert_eq!((head.seq, head.hash), (2, second.hash.clone()));
    assert_eq!(
        db.log_entries(0, 10).await.unwrap(),
        vec![first.clone(), second.clone()]
    );
    assert_eq!(db.log_entries(1, 10).await.unwrap(), vec![second.clone()]);
    assert_eq!(db.log_entries(0, 1).await.unwrap(), vec![first.clone()]);
    assert_eq!(db.log_entry(2).await.unwrap(), second);
    assert!(matches!(db.log_entry(3).await, Err(DbError::NotFound)));
    assert_eq!(
        db.last_record(published[0]).await.unwrap(),
        Some(second.clone())
    );
    assert_eq!(db.last_record(published[1]).await.unwrap(), None);
    assert_eq!(db.key_first_used(key.id()).await.unwrap(), Some(t0));
    assert_eq!(
        db.unrecorded_publications(DateTime::<Utc>::UNIX_EPOCH, now, 10)
            .await
            .unwrap(),
        published[1..]
    );
    // What was stored verifies: the bytes signed are the bytes read back.
    let keys = KeySet {
        keys: vec![PublicKey::of(&key.public())],
    };
    for e in db.log_entries(0, 10).await.unwrap() {
        keys.verify_entry(&e).unwrap();
    }
}

/// Reviews, and the studio's dashboard: a page of a show's episodes in one state with their
/// total, searched by title, and the counts of every state.
async fn review_story(db: &dyn Db, t0: DateTime<Utc>) {
    let show = Show {
        id: ShowId::new(),
        slug: Slug::parse("tinjauan").unwrap(),
        ..show_at(t0)
    };
    db.create_show(&show).await.unwrap();
    let media = media_at(t0);
    db.create_media(&media).await.unwrap();
    let now = t0 + Duration::days(10);
    let mut drafts = Vec::new();
    for n in 0..7 {
        let mut e = episode_at(show.id, media.id, &format!("draf-{n}"), None, t0);
        e.title = if n % 2 == 0 {
            format!("Rapat 100% Selesai {n}")
        } else {
            format!("Kunjungan_{n}")
        };
        e.updated_at = t0 + Duration::minutes(n);
        db.create_episode(&e).await.unwrap();
        drafts.push(e);
    }
    for (slug, at) in [("lalu", t0), ("nanti", t0 + Duration::days(30))] {
        db.create_episode(&episode_at(show.id, media.id, slug, Some(at), t0))
            .await
            .unwrap();
    }
    let review = siaran::domain::review::Review {
        state: siaran::domain::review::ReviewState::InReview,
        by: "Citra".into(),
        at: t0 + Duration::hours(1),
        comment: None,
    };
    let reviewed = db
        .set_review(drafts[6].id, Some(&review), t0 + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(reviewed.review.as_ref(), Some(&review));
    assert_eq!(reviewed.status(now), EpisodeStatus::InReview);
    assert_eq!(db.episode(drafts[6].id).await.unwrap(), reviewed);
    let returned = siaran::domain::review::Review {
        state: siaran::domain::review::ReviewState::Returned,
        comment: Some("Judul salah".into()),
        ..review.clone()
    };
    let back = db
        .set_review(drafts[5].id, Some(&returned), t0 + Duration::hours(2))
        .await
        .unwrap();
    assert_eq!(back.status(now), EpisodeStatus::Draft);
    assert_eq!(back.review.unwrap().comment.as_deref(), Some("Judul salah"));

    let counts = db.episode_counts(now).await.unwrap()[&show.id];
    assert_eq!(
        (
            counts.draft,
            counts.in_review,
            counts.scheduled,
            counts.published,
            counts.withdrawn
        ),
        (6, 1, 1, 1, 0)
    );
    let page = |status, title: Option<&str>, limit, offset| {
        let filter = EpisodeFilter {
            show: show.id,
            status,
            title: title.map(str::to_owned),
            now,
            limit,
            offset,
        };
        async move {
            let page = db.episode_page(&filter).await.unwrap();
            let slugs: Vec<String> = page.episodes.iter().map(|e| e.slug.to_string()).collect();
            (slugs, page.total)
        }
    };
    // Most recently changed first; the one returned was changed last.
    assert_eq!(
        page(EpisodeStatus::Draft, None, 2, 0).await,
        (vec!["draf-5".to_owned(), "draf-4".to_owned()], 6)
    );
    assert_eq!(
        page(EpisodeStatus::Draft, None, 2, 4).await,
        (vec!["draf-1".to_owned(), "draf-0".to_owned()], 6)
    );
    assert_eq!(page(EpisodeStatus::Draft, None, 2, 6).await, (vec![], 6));
    assert_eq!(
        page(EpisodeStatus::InReview, None, 10, 0).await,
        (vec!["draf-6".to_owned()], 1)
    );
    // Any case; `%` and `_` are taken as they are.
    assert_eq!(
        page(EpisodeStatus::Draft, Some("rapat 100%"), 10, 0).await,
        (
            vec![
                "draf-4".to_owned(),
                "draf-2".to_owned(),
                "draf-0".to_owned()
            ],
            3
        )
    );
    assert_eq!(
        page(EpisodeStatus::Draft, Some("n_3"), 10, 0).await,
        (vec!["draf-3".to_owned()], 1)
    );
    assert_eq!(page(EpisodeStatus::Draft, Some("0%S"), 10, 0).await.1, 0);
    assert_eq!(
        page(EpisodeStatus::Scheduled, None, 10, 0).await,
        (vec!["nanti".to_owned()], 1)
    );
    assert_eq!(
        page(EpisodeStatus::Published, Some("LALU"), 10, 0).await,
        (vec!["lalu".to_owned()], 1)
    );

    // Publishing ends a review; an episode published is not put in review.
    let published = db
        .set_publish_at(drafts[6].id, Some(now), now)
        .await
        .unwrap();
    assert_eq!(published.review, None);
    assert!(matches!(
        db.set_review(drafts[6].id, Some(&review), now).await,
        Err(DbError::NotFound)
    ));
    let cleared = db.set_review(drafts[5].id, None, now).await.unwrap();
    assert_eq!(cleared.review, None);
}

/// Users, their roles on shows, password links, sessions, failed logins and owned tokens.
async fn users_story(db: &dyn Db, show: ShowId, t0: DateTime<Utc>) {
    use siaran::db::{LoginKey, StoredSession};
    use siaran::domain::users::{Email, ShowRole, User};

    let ani = User {
        id: UserId::new(),
        email: Email::parse("Ani@Kaltimprov.go.id").unwrap(),
        name: "Ani \"<Admin>\" ✓".into(),
        role: Role::Contributor,
        disabled: false,
        created_at: t0,
        updated_at: t0,
    };
    db.create_user(&ani).await.unwrap();
    assert_eq!(db.user(ani.id).await.unwrap(), ani);
    let email = Email::parse("ANI@kaltimprov.go.id").unwrap();
    assert_eq!(db.user_by_email(&email).await.unwrap(), ani);
    let twin = User {
        id: UserId::new(),
        ..ani.clone()
    };
    assert!(matches!(
        db.create_user(&twin).await,
        Err(DbError::Conflict(_))
    ));
    assert!(matches!(db.user(twin.id).await, Err(DbError::NotFound)));
    let budi = User {
        id: UserId::new(),
        email: Email::parse("budi@kaltimprov.go.id").unwrap(),
        name: "Budi".into(),
        role: Role::Editor,
        ..ani.clone()
    };
    db.create_user(&budi).await.unwrap();
    assert_eq!(
        db.list_users().await.unwrap(),
        vec![ani.clone(), budi.clone()]
    );

    // Roles on shows: set, replaced, removed.
    assert!(db.show_roles(ani.id).await.unwrap().is_empty());
    db.set_show_role(ani.id, show, Some(ShowRole::Editor))
        .await
        .unwrap();
    db.set_show_role(ani.id, show, Some(ShowRole::None))
        .await
        .unwrap();
    assert_eq!(
        db.show_roles(ani.id).await.unwrap(),
        vec![(show, ShowRole::None)]
    );
    db.set_show_role(ani.id, show, None).await.unwrap();
    assert!(db.show_roles(ani.id).await.unwrap().is_empty());

    // Sessions: by hash, unexpired; a save never brings back an ended session.
    let session = |id: &str, user: Option<UserId>, expires: DateTime<Utc>| StoredSession {
        id_hash: id.into(),
        user_id: user,
        data: r#"{"csrf":"x"}"#.into(),
        expires_at: expires,
    };
    let later = t0 + Duration::hours(12);
    let s1 = session("s1", Some(ani.id), later);
    db.create_session(&s1).await.unwrap();
    assert!(matches!(
        db.create_session(&s1).await,
        Err(DbError::Conflict(_))
    ));
    assert_eq!(db.session("s1", t0).await.unwrap(), Some(s1.clone()));
    assert_eq!(db.session("s1", later).await.unwrap(), None, "expired");
    let saved = StoredSession {
        data: r#"{"csrf":"y"}"#.into(),
        ..s1.clone()
    };
    assert!(db.save_session(&saved).await.unwrap());
    assert_eq!(db.session("s1", t0).await.unwrap(), Some(saved));
    db.create_session(&session("s2", Some(ani.id), later))
        .await
        .unwrap();
    db.create_session(&session("s3", None, t0)).await.unwrap();
    db.create_session(&session("s4", Some(budi.id), later))
        .await
        .unwrap();
    assert_eq!(db.delete_user_sessions(ani.id).await.unwrap(), 2);
    assert!(!db.save_session(&s1).await.unwrap(), "ended stays ended");
    assert_eq!(db.session("s1", t0).await.unwrap(), None);
    assert_eq!(db.delete_expired_sessions(t0).await.unwrap(), 1);
    db.delete_session("s4").await.unwrap();
    assert_eq!(db.session("s4", t0).await.unwrap(), None);

    // Password links: one per user, expiring, used up with the password they set, which ends
    // the user's sessions.
    db.create_password_link(ani.id, "old-link", later)
        .await
        .unwrap();
    db.create_password_link(ani.id, "link", later)
        .await
        .unwrap();
    assert_eq!(db.password_link_user("old-link", t0).await.unwrap(), None);
    assert_eq!(
        db.password_link_user("link", t0).await.unwrap(),
        Some(ani.id)
    );
    assert_eq!(db.password_link_user("link", later).await.unwrap(), None);
    assert_eq!(db.password_hash(ani.id).await.unwrap(), None);
    db.create_session(&session("s5", Some(ani.id), later))
        .await
        .unwrap();
    assert_eq!(
        db.set_password_by_link("link", "$argon2id$x", later)
            .await
            .unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        db.set_password_by_link("link", "$argon2id$x", t0)
            .await
            .unwrap(),
        Some(ani.id)
    );
    assert_eq!(
        db.password_hash(ani.id).await.unwrap().as_deref(),
        Some("$argon2id$x")
    );
    assert_eq!(
        db.set_password_by_link("link", "$argon2id$y", t0)
            .await
            .unwrap(),
        None
    );
    assert_eq!(db.session("s5", t0).await.unwrap(), None);
    db.create_session(&session("s6", Some(ani.id), later))
        .await
        .unwrap();
    db.create_password_link(ani.id, "reset", later)
        .await
        .unwrap();
    db.set_password_hash(ani.id, None, t0).await.unwrap();
    assert_eq!(db.password_hash(ani.id).await.unwrap(), None);
    assert_eq!(db.session("s6", t0).await.unwrap(), None);
    assert_eq!(db.password_link_user("reset", t0).await.unwrap(), None);
    assert!(matches!(
        db.set_password_hash(UserId::new(), None, t0).await,
        Err(DbError::NotFound)
    ));

    // Disabling ends sessions and links in the same write.
    db.create_session(&session("s7", Some(budi.id), later))
        .await
        .unwrap();
    db.create_password_link(budi.id, "budi-link", later)
        .await
        .unwrap();
    let disabled = User {
        name: "Budi S.".into(),
        role: Role::Admin,
        disabled: true,
        updated_at: later,
        ..budi.clone()
    };
    db.update_user(&disabled).await.unwrap();
    assert_eq!(db.user(budi.id).await.unwrap(), disabled);
    assert_eq!(db.session("s7", t0).await.unwrap(), None);
    assert_eq!(db.password_link_user("budi-link", t0).await.unwrap(), None);
    assert!(matches!(
        db.update_user(&twin).await,
        Err(DbError::NotFound)
    ));

    // Tokens a user owns: listed newest first, deleted by their owner only.
    let owned = |name: &str, at: DateTime<Utc>| ApiToken {
        id: new_row_id(),
        name: name.into(),
        role: Role::Contributor,
        token_hash: format!("hash-{name}"),
        user_id: Some(ani.id),
        created_at: at,
    };
    let (first, second) = (owned("a", t0), owned("b", later));
    db.create_token(&first).await.unwrap();
    db.create_token(&second).await.unwrap();
    assert_eq!(db.token_by_hash("hash-a").await.unwrap(), first);
    assert_eq!(
        db.user_tokens(ani.id).await.unwrap(),
        vec![second.clone(), first.clone()]
    );
    assert!(db.user_tokens(budi.id).await.unwrap().is_empty());
    assert!(matches!(
        db.delete_user_token(budi.id, first.id).await,
        Err(DbError::NotFound)
    ));
    assert_eq!(db.delete_user_token(ani.id, first.id).await.unwrap(), first);
    assert!(matches!(
        db.token_by_hash("hash-a").await,
        Err(DbError::NotFound)
    ));

    // Failed logins: the n-th most recent since a time, by account or by address.
    for (i, (account, address)) in [("a", "1"), ("a", "2"), ("b", "1"), ("a", "1")]
        .iter()
        .enumerate()
    {
        let at = t0 + Duration::seconds(i as i64);
        db.record_login_failure(account, address, at).await.unwrap();
    }
    let nth = |key, n| db.nth_login_failure(key, t0, n);
    assert_eq!(
        nth(LoginKey::Account("a"), 1).await.unwrap(),
        Some(t0 + Duration::seconds(3))
    );
    assert_eq!(
        nth(LoginKey::Account("a"), 2).await.unwrap(),
        Some(t0 + Duration::seconds(1)),
        "the failure at t0 itself is not after t0"
    );
    assert_eq!(nth(LoginKey::Account("a"), 3).await.unwrap(), None);
    assert_eq!(
        nth(LoginKey::Address("1"), 2).await.unwrap(),
        Some(t0 + Duration::seconds(2))
    );
    assert_eq!(nth(LoginKey::Address("3"), 1).await.unwrap(), None);
    assert_eq!(
        db.forget_login_failures(t0 + Duration::seconds(1))
            .await
            .unwrap(),
        2
    );
    assert_eq!(nth(LoginKey::Account("a"), 2).await.unwrap(), None);
}

/// What a token has open: its uploads neither complete nor expired, counted and summed.
async fn open_uploads_story(db: &dyn Db, t0: DateTime<Utc>) {
    let (token, other) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let hour = Duration::hours(1);
    let upload = |token_id, length, expires_at| Upload {
        id: uuid::Uuid::new_v4(),
        length,
        received: 0,
        filename: "Rapat.mp3".into(),
        metadata: String::new(),
        token_id,
        user_id: None,
        claim: String::new(),
        media_id: None,
        created_at: t0,
        expires_at,
    };
    assert_eq!(
        db.open_uploads(UploadOwner::Token(token), t0)
            .await
            .unwrap(),
        OpenUploads::default()
    );
    let big = upload(Some(token), 8 << 30, t0 + hour);
    let done = upload(Some(token), 1000, t0 + hour);
    let soon = upload(Some(token), 300, t0 + hour / 2);
    for u in [
        &big,
        &done,
        &soon,
        &upload(Some(other), 5, t0 + hour),
        &upload(None, 7, t0 + hour),
    ] {
        db.create_upload(u).await.unwrap();
    }
    assert_eq!(db.upload(big.id).await.unwrap().token_id, Some(token));
    assert_eq!(
        db.open_uploads(UploadOwner::Token(token), t0)
            .await
            .unwrap(),
        OpenUploads {
            count: 3,
            bytes: (8 << 30) + 1300
        }
    );
    assert!(db.claim_upload(done.id, 0, "c", t0).await.unwrap());
    assert!(
        db.complete_upload(done.id, "c", 0, MediaId::new(), t0 + hour)
            .await
            .unwrap()
    );
    // Complete, or expired at the time asked about: not open.
    assert_eq!(
        db.open_uploads(UploadOwner::Token(token), t0)
            .await
            .unwrap(),
        OpenUploads {
            count: 2,
            bytes: (8 << 30) + 300
        }
    );
    assert_eq!(
        db.open_uploads(UploadOwner::Token(token), t0 + hour / 2)
            .await
            .unwrap(),
        OpenUploads {
            count: 1,
            bytes: 8 << 30
        }
    );
    assert_eq!(
        db.open_uploads(UploadOwner::Token(other), t0)
            .await
            .unwrap(),
        OpenUploads { count: 1, bytes: 5 }
    );
    db.delete_upload(big.id).await.unwrap();
    assert_eq!(
        db.open_uploads(UploadOwner::Token(token), t0 + hour / 2)
            .await
            .unwrap(),
        OpenUploads::default()
    );

    // A user's: what it made through a session, not what its tokens made.
    let user = UserId::new();
    let session = Upload {
        user_id: Some(user),
        ..upload(None, 40, t0 + hour)
    };
    let with_token = Upload {
        user_id: Some(user),
        ..upload(Some(token), 2, t0 + hour)
    };
    for u in [&session, &with_token] {
        db.create_upload(u).await.unwrap();
    }
    assert_eq!(db.upload(session.id).await.unwrap(), session);
    assert_eq!(
        db.open_uploads(UploadOwner::User(user), t0).await.unwrap(),
        OpenUploads {
            count: 1,
            bytes: 40
        }
    );
    assert_eq!(
        db.open_uploads(UploadOwner::Token(token), t0 + hour / 2)
            .await
            .unwrap(),
        OpenUploads { count: 1, bytes: 2 }
    );
    assert_eq!(
        db.open_uploads(UploadOwner::User(UserId::new()), t0)
            .await
            .unwrap(),
        OpenUploads::default()
    );
    // The same, listed for the user's dashboard; none once expired.
    assert_eq!(
        db.uploads_in_progress(user, t0, 10).await.unwrap(),
        std::slice::from_ref(&session)
    );
    assert!(
        db.uploads_in_progress(user, t0 + hour * 2, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Salts, listener rows with compare-and-set, downloads and their report.
async fn analytics_story(db: &dyn Db, media: MediaId, episode: EpisodeId, show: ShowId) {
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    // The first instance to ask stores its salt; later ones get that one.
    let salt = db.analytics_salt(day, &"aa".repeat(32)).await.unwrap();
    assert_eq!(salt, "aa".repeat(32));
    assert_eq!(
        db.analytics_salt(day, &"bb".repeat(32)).await.unwrap(),
        salt
    );

    assert_eq!(db.listen(media, day, "l1").await.unwrap(), None);
    let mut listen = Listen {
        media_id: media,
        day,
        listener: "l1".into(),
        coverage: "[[0,99]]".into(),
        counted: false,
        version: 1,
    };
    let now = Utc::now();
    assert!(db.save_listen(&listen, None, None, now).await.unwrap());
    // A second writer that also saw no row loses.
    assert!(!db.save_listen(&listen, None, None, now).await.unwrap());
    assert_eq!(
        db.listen(media, day, "l1").await.unwrap().as_ref(),
        Some(&listen)
    );

    // Two writers both read version 1; only the first may count the download.
    let download = Download {
        id: new_row_id(),
        media_id: media,
        episode_id: Some(episode),
        show_id: Some(show),
        day,
        app: Some("AntennaPod".into()),
        country: None,
        counted_at: now,
    };
    listen.coverage = "[[0,999999]]".into();
    listen.counted = true;
    listen.version = 2;
    assert!(
        db.save_listen(&listen, Some(1), Some(&download), now)
            .await
            .unwrap()
    );
    let again = Download {
        id: new_row_id(),
        ..download.clone()
    };
    assert!(
        !db.save_listen(&listen, Some(1), Some(&again), now)
            .await
            .unwrap()
    );

    assert_eq!(
        db.episode_of_media(media).await.unwrap(),
        Some((episode, show))
    );
    let stats = db
        .download_stats(StatsScope::Episode(episode), day, day)
        .await
        .unwrap();
    assert_eq!(stats.total, 1);
    assert_eq!(stats.by_day, vec![(day, 1)]);
    assert_eq!(stats.by_app, vec![(Some("AntennaPod".to_owned()), 1)]);
    assert_eq!(stats.by_country, vec![(None, 1)]);
    let next = day.succ_opt().unwrap();
    assert_eq!(
        db.download_stats(StatsScope::Show(show), next, next)
            .await
            .unwrap()
            .total,
        0
    );

    // Forgetting the window removes its salt and listener rows, not the downloads.
    assert_eq!(db.forget_listeners(next).await.unwrap(), 2);
    assert_eq!(db.listen(media, day, "l1").await.unwrap(), None);
    assert_eq!(
        db.download_stats(StatsScope::Show(show), day, day)
            .await
            .unwrap()
            .total,
        1
    );
}

/// A SQLite database file in `dir`, migrated.
async fn migrated_sqlite(dir: &std::path::Path) -> AnyDb {
    let db = AnyDb::connect(&format!("sqlite://{}", dir.join("db.sqlite").display()))
        .await
        .unwrap();
    db.migrate().await.unwrap();
    db
}

#[tokio::test]
async fn db_story_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated_sqlite(dir.path()).await;
    // Migrations are idempotent.
    db.migrate().await.unwrap();
    story(&db).await;
}

#[tokio::test]
async fn db_story_on_postgres() {
    let db = AnyDb::connect(&fresh_postgres_db().await).await.unwrap();
    db.migrate().await.unwrap();
    db.migrate().await.unwrap();
    story(&db).await;
}

/// An insert refused by a foreign key after the search triggers wrote to FTS5 once left its
/// pooled SQLite connection reading an old snapshot: a later read missed a committed publish
/// about one run in two. Repeated so that a regression cannot pass by luck.
#[tokio::test]
async fn failed_write_leaves_no_stale_reader() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated_sqlite(dir.path()).await;
    let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 2, 0, 0).unwrap();
    let show = show_at(t0);
    db.create_show(&show).await.unwrap();
    let media = media_at(t0);
    db.create_media(&media).await.unwrap();
    for round in 0..30 {
        let orphan = episode_at(
            show.id,
            MediaId::new(),
            &format!("orphan-{round}"),
            None,
            t0,
        );
        assert!(db.create_episode(&orphan).await.is_err());
        let draft = episode_at(show.id, media.id, &format!("draft-{round}"), None, t0);
        db.create_episode(&draft).await.unwrap();
        let now = t0 + Duration::days(1);
        db.set_publish_at(draft.id, Some(now), now).await.unwrap();
        // Several reads, so that every pooled connection gets its turn.
        for _ in 0..4 {
            let seen = db.published_episodes(show.id, now).await.unwrap();
            assert_eq!(
                seen.len(),
                round + 1,
                "round {round}: a read missed a publish"
            );
        }
    }
}

/// A feed of 2,000 episodes or more is read in two halves at once, split at a publication time:
/// on a SQLite file on two threads (`src/db/sqlite_feed.rs`), on PostgreSQL on two connections
/// sharing a snapshot. The halves joined are exactly the episodes the one statement gives, in
/// its order, even when many share the time the split falls on; and while episodes move from
/// the older half to the newer one, no read sees one twice or misses it.
async fn feed_in_halves(db: &AnyDb) {
    let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 2, 0, 0).unwrap();
    let show = show_at(t0);
    db.create_show(&show).await.unwrap();
    // Audio with a bit rate, a video with its height, audio without a bit rate: what the feed
    // reads of each comes from the media's columns, not from its info.
    let mut medias: Vec<Media> = (0..3).map(|_| media_at(t0)).collect();
    medias[1].info.mime_type = "video/mp4".into();
    medias[1].info.video = Some(VideoInfo {
        codec: "h264".into(),
        width: Some(1280),
        height: Some(720),
        frame_rate: Some(25.0),
    });
    medias[2].info.bit_rate = None;
    for m in &medias {
        db.create_media(m).await.unwrap();
    }
    // Groups of seven at one time, so that whichever time the split falls on is shared; a
    // draft, a scheduled and a withdrawn episode in every hundred.
    let now = t0 + Duration::days(365);
    let mut published = Vec::new();
    for i in 0..2_150 {
        let publish_at = match i % 100 {
            0 => None,
            1 => Some(now + Duration::days(1)),
            _ => Some(t0 + Duration::hours(i as i64 / 7)),
        };
        let e = episode_at(show.id, medias[i % 3].id, &format!("e-{i}"), publish_at, t0);
        db.create_episode(&e).await.unwrap();
        if i % 100 == 2 {
            let gone = siaran::domain::Withdrawal {
                at: now,
                reason: "ditarik".into(),
            };
            db.set_withdrawal(e.id, Some(&gone), now).await.unwrap();
        } else if publish_at.is_some_and(|at| at <= now) {
            published.push((e.publish_at, e.id, e.media_id));
        }
    }
    published.sort_by_key(|e| std::cmp::Reverse((e.0, e.1)));
    assert!(published.len() >= 2_000, "{}", published.len());

    let feed = db.published_episodes(show.id, now).await.unwrap();
    let got: Vec<_> = feed
        .iter()
        .map(|(e, m)| (e.publish_at, e.id, m.id))
        .collect();
    assert!(
        got == published,
        "{} rows read, {} expected",
        got.len(),
        published.len()
    );
    for (e, m) in &feed {
        let media = medias.iter().find(|x| x.id == e.media_id).unwrap();
        assert_eq!(*m, Enclosure::from(media));
    }

    // The oldest episodes republished as the newest, one by one, while the feed is read.
    let oldest: Vec<EpisodeId> = published.iter().rev().take(60).map(|e| e.1).collect();
    let mover = async {
        for (k, id) in oldest.iter().enumerate() {
            let at = now - Duration::seconds(60 - k as i64);
            db.set_publish_at(*id, Some(at), now).await.unwrap();
            tokio::task::yield_now().await;
        }
    };
    let reader = async {
        for _ in 0..30 {
            let feed = db.published_episodes(show.id, now).await.unwrap();
            let ids: std::collections::HashSet<_> = feed.iter().map(|(e, _)| e.id).collect();
            assert_eq!(ids.len(), feed.len(), "an episode read twice");
            assert_eq!(feed.len(), published.len(), "an episode missed");
        }
    };
    tokio::join!(mover, reader);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_feed_read_in_halves_is_the_feed_read_whole_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated_sqlite(dir.path()).await;
    feed_in_halves(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_feed_read_in_halves_is_the_feed_read_whole_on_postgres() {
    let db = AnyDb::connect(&fresh_postgres_db().await).await.unwrap();
    db.migrate().await.unwrap();
    feed_in_halves(&db).await;
}

/// Migration 0016 gave the media table a bit rate and a video height, which the feed reads
/// instead of each media's info JSON: a database with media from before it gets them from that
/// JSON, so feeds built after the upgrade are the feeds built before it.
async fn media_from_before_0016(dir: &str, conn: &mut sqlx::AnyConnection, url: &str) {
    let mut before = sqlx::migrate::Migrator::new(std::path::Path::new(dir))
        .await
        .unwrap();
    before.migrations = before
        .migrations
        .iter()
        .filter(|m| m.version < 16)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    before.run(&mut *conn).await.unwrap();
    let mut video = media_info();
    video.mime_type = "video/mp4".into();
    video.bit_rate = Some(1_234_567);
    video.video = Some(VideoInfo {
        codec: "h264".into(),
        width: Some(1280),
        height: Some(720),
        frame_rate: None,
    });
    let mut audio = media_info();
    audio.bit_rate = None;
    for (id, info) in [("video", &video), ("audio", &audio)] {
        sqlx::query(
            "INSERT INTO media (id, storage_key, filename, mime_type, extension, duration_ms, \
             size_bytes, sha256, info, created_at) VALUES ($1, $1, $1, 'x', 'x', 1, 1, 'x', $2, 1)",
        )
        .bind(id)
        .bind(serde_json::to_string(info).unwrap())
        .execute(&mut *conn)
        .await
        .unwrap();
    }

    let db = AnyDb::connect(url).await.unwrap();
    db.migrate().await.unwrap();
    let columns = |id: &'static str| {
        sqlx::query_as::<_, (Option<i64>, Option<i64>)>(
            "SELECT bit_rate, CAST(video_height AS BIGINT) FROM media WHERE id = $1",
        )
        .bind(id)
    };
    assert_eq!(
        columns("video").fetch_one(&mut *conn).await.unwrap(),
        (Some(1_234_567), Some(720))
    );
    assert_eq!(
        columns("audio").fetch_one(&mut *conn).await.unwrap(),
        (None, None)
    );
}

#[tokio::test]
async fn media_from_before_0016_get_their_columns_on_sqlite() {
    use sqlx::Connection as _;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&format!("{url}?mode=rwc"))
        .await
        .unwrap();
    media_from_before_0016("migrations/sqlite", &mut conn, &url).await;
}

#[tokio::test]
async fn media_from_before_0016_get_their_columns_on_postgres() {
    use sqlx::Connection as _;
    let url = fresh_postgres_db().await;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    media_from_before_0016("migrations/postgres", &mut conn, &url).await;
}

fn quality_report() -> QualityReport {
    QualityReport {
        integrated_lufs: Some(-31.2),
        loudness_range_lu: Some(4.5),
        max_momentary_lufs: Some(-20.0),
        max_short_term_lufs: Some(-24.0),
        true_peak_dbtp: Some(-12.0),
        sample_peak_dbfs: Some(-12.4),
        true_peak_per_channel_dbtp: vec![-12.0],
        sample_peak_per_channel_dbfs: vec![-12.4],
        gain_to_target_db: Some(11.0),
        target_lufs: -16.0,
        silences: vec![TimeRange {
            start_ms: 0,
            end_ms: 112_000,
        }],
        clipping: Clipping::default(),
        channels: 1,
        sample_rate: 44_100,
        analysed_ms: 3_600_000,
        complete: true,
        warnings: vec![QualityWarning {
            code: "too-quiet".into(),
            message: Msg::new("terlalu pelan", "too quiet"),
        }],
    }
}

fn stored(key: &str) -> StoredFile {
    StoredFile {
        key: key.into(),
        size_bytes: 12,
        sha256: "cd".repeat(32),
    }
}

/// The job queue: queued once per media, claimed newest first by one claimant at a time under a
/// lease, renewed, taken over when the lease runs out, retried, released, given up after the
/// last attempt (also when its worker died), and finished together with its analysis.
async fn job_queue_story(db: &dyn Db) {
    let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 2, 0, 0).unwrap();
    let minutes = Duration::minutes;
    let (a, b, c) = (
        media_at(t0),
        media_at(t0 + Duration::hours(1)),
        media_at(t0 + Duration::hours(2)),
    );
    for m in [&a, &b, &c] {
        db.create_media(m).await.unwrap();
    }
    let now = t0 + Duration::days(1);
    let q = JobKind::Quality;
    // `c` is queued as it is stored; `a` and `b` were stored before jobs existed.
    assert!(db.enqueue_job(q, c.id, now).await.unwrap());
    assert!(!db.enqueue_job(q, c.id, now).await.unwrap());
    assert_eq!(db.enqueue_missing_jobs(q, now).await.unwrap(), 2);
    assert_eq!(db.enqueue_missing_jobs(q, now).await.unwrap(), 0);
    let job = db.job(q, a.id).await.unwrap();
    assert_eq!(
        (job.state, job.attempts, job.error),
        (JobState::Queued, 0, None)
    );
    assert_eq!(job.created_at, a.created_at);
    assert!(matches!(
        db.job(q, MediaId::new()).await,
        Err(DbError::NotFound)
    ));

    // Newest first; each claim takes another job; nothing is left to a fourth.
    let claim =
        |lease: &'static str, at: DateTime<Utc>| db.claim_job(q, lease, at, at + minutes(1), 3);
    let first = claim("l1", now).await.unwrap().unwrap();
    assert_eq!(first.media_id, c.id);
    assert_eq!(first.state, JobState::Running);
    assert_eq!(first.attempts, 1);
    assert_eq!(first.lease.as_deref(), Some("l1"));
    assert_eq!(first.locked_until, Some(now + minutes(1)));
    assert_eq!(claim("l2", now).await.unwrap().unwrap().media_id, b.id);
    assert_eq!(claim("l3", now).await.unwrap().unwrap().media_id, a.id);
    assert_eq!(claim("l4", now).await.unwrap(), None);

    // Only the lease's holder renews it.
    assert!(db.renew_job(q, c.id, "l1", now + minutes(5)).await.unwrap());
    assert!(!db.renew_job(q, c.id, "l2", now + minutes(9)).await.unwrap());
    // A failed attempt waits for its retry, with the reason; the lease is gone.
    let error = JobError {
        code: "no-audio".into(),
        detail: "no audio could be decoded".into(),
    };
    assert!(
        db.fail_job_attempt(q, b.id, "l2", &error, Some(now + minutes(10)), now)
            .await
            .unwrap()
    );
    assert!(
        !db.fail_job_attempt(q, b.id, "l2", &error, None, now)
            .await
            .unwrap()
    );
    let job = db.job(q, b.id).await.unwrap();
    assert_eq!(job.state, JobState::Queued);
    assert_eq!(job.error.as_ref(), Some(&error));
    assert_eq!(job.run_after, now + minutes(10));
    // Counted by kind and state, as the metrics read them: `b` waits, `a` and `c` run.
    let mut counts = db.job_counts().await.unwrap();
    counts.sort_by_key(|(_, state, _)| state.as_str());
    assert_eq!(
        counts,
        vec![(q, JobState::Queued, 1), (q, JobState::Running, 2)]
    );

    // `a`'s lease ran out (its worker died): another claim takes it over, the old lease is void.
    let later = now + minutes(2);
    let taken = claim("l5", later).await.unwrap().unwrap();
    assert_eq!((taken.media_id, taken.attempts), (a.id, 2));
    assert!(
        !db.renew_job(q, a.id, "l3", later + minutes(1))
            .await
            .unwrap()
    );
    let record = QualityRecord {
        media_id: a.id,
        report: quality_report(),
        waveform: WaveformFiles {
            json: stored("media/aa/bb/a.waveform-x.json"),
            dat: stored("media/aa/bb/a.waveform-x.dat"),
            overview: stored("media/aa/bb/a.waveform-overview-x.json"),
        },
        analysed_at: later,
    };
    assert!(!db.record_quality("l3", &record, later).await.unwrap());
    assert_eq!(db.quality_record(a.id).await.unwrap(), None);
    assert!(
        !db.fail_job_attempt(q, a.id, "l3", &error, None, later)
            .await
            .unwrap()
    );
    // An instance that stops gives its job back without counting the attempt.
    assert!(db.release_job(q, a.id, "l5", later).await.unwrap());
    assert!(!db.release_job(q, a.id, "l5", later).await.unwrap());
    let job = db.job(q, a.id).await.unwrap();
    assert_eq!(
        (job.state, job.attempts, job.lease),
        (JobState::Queued, 1, None)
    );

    // Done: the analysis is stored with the job's end, and its waveform's objects are owned.
    let done = QualityRecord {
        media_id: c.id,
        ..record.clone()
    };
    assert!(db.record_quality("l1", &done, later).await.unwrap());
    assert!(!db.record_quality("l1", &done, later).await.unwrap());
    assert_eq!(db.quality_record(c.id).await.unwrap(), Some(done.clone()));
    let job = db.job(q, c.id).await.unwrap();
    assert_eq!(
        (job.state, job.lease, job.error),
        (JobState::Done, None, None)
    );
    let owned = db.owned_object_keys().await.unwrap();
    for key in done.waveform.keys() {
        assert!(owned.iter().any(|k| k == key), "{key} owned");
    }

    // Failed for good: the last error stays.
    let again = claim("l6", later).await.unwrap().unwrap();
    assert_eq!((again.media_id, again.attempts), (a.id, 2));
    assert!(
        db.fail_job_attempt(q, a.id, "l6", &error, None, later)
            .await
            .unwrap()
    );
    let job = db.job(q, a.id).await.unwrap();
    assert_eq!(
        (job.state, job.error.as_ref()),
        (JobState::Failed, Some(&error))
    );

    // A job whose worker dies at every attempt is given up after the last one.
    let mut at = now + minutes(10);
    for attempt in 2..=3 {
        let job = claim("lx", at).await.unwrap().unwrap();
        assert_eq!((job.media_id, job.attempts), (b.id, attempt));
        at += minutes(5);
    }
    assert_eq!(claim("ly", at).await.unwrap(), None);
    let job = db.job(q, b.id).await.unwrap();
    assert_eq!(job.state, JobState::Failed);
    assert_eq!(job.error.unwrap().code, "abandoned");
    assert_eq!(claim("lz", at + minutes(60)).await.unwrap(), None);
}

/// Claims racing on many connections: each job is claimed exactly once.
async fn concurrent_claims(db: &dyn Db) {
    let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 2, 0, 0).unwrap();
    let now = t0 + Duration::days(1);
    let mut ids = Vec::new();
    for i in 0..24 {
        let m = media_at(t0 + Duration::minutes(i));
        db.create_media(&m).await.unwrap();
        assert!(db.enqueue_job(JobKind::Quality, m.id, now).await.unwrap());
        ids.push(m.id);
    }
    let claimer = |n: usize| async move {
        let mut got = Vec::new();
        while let Some(job) = db
            .claim_job(
                JobKind::Quality,
                &format!("worker-{n}"),
                now,
                now + Duration::minutes(1),
                3,
            )
            .await
            .unwrap()
        {
            got.push(job.media_id);
        }
        got
    };
    let claimed: Vec<MediaId> = futures_util::future::join_all((0..6).map(claimer))
        .await
        .into_iter()
        .flatten()
        .collect();
    let unique: std::collections::HashSet<_> = claimed.iter().collect();
    assert_eq!(
        claimed.len(),
        ids.len(),
        "each job claimed once: {claimed:?}"
    );
    assert_eq!(unique.len(), ids.len());
    for id in ids {
        assert_eq!(db.job(JobKind::Quality, id).await.unwrap().attempts, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_queue_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    job_queue_story(&migrated_sqlite(dir.path()).await).await;
    let dir = tempfile::tempdir().unwrap();
    concurrent_claims(&migrated_sqlite(dir.path()).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_queue_on_postgres() {
    let db = AnyDb::connect(&fresh_postgres_db().await).await.unwrap();
    db.migrate().await.unwrap();
    job_queue_story(&db).await;
    let db = AnyDb::connect(&fresh_postgres_db().await).await.unwrap();
    db.migrate().await.unwrap();
    concurrent_claims(&db).await;
}

/// Tokens and audit entries from before users (migration 0020 rebuilds both tables on SQLite)
/// are kept: a token works with the role it had, without an owner.
async fn tokens_from_before_0020(dir: &str, conn: &mut sqlx::AnyConnection, url: &str) {
    let mut before = sqlx::migrate::Migrator::new(std::path::Path::new(dir))
        .await
        .unwrap();
    before.migrations = before
        .migrations
        .iter()
        .filter(|m| m.version < 20)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    before.run(&mut *conn).await.unwrap();
    sqlx::query(
        "INSERT INTO api_tokens (id, name, role, token_hash, created_at) \
         VALUES ('0190f3a2-7c4e-7d1b-9a3f-5e6d7c8b9a0f', 'lama', 'admin', 'h', 1)",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO audit_log (id, entity, entity_id, action, token_id, token_name, at, \
         changes) VALUES ('0190f3a2-7c4e-7d1b-9a3f-5e6d7c8b9a00', 'show', 's', 'created', \
         NULL, 'lama', 1, '{}')",
    )
    .execute(&mut *conn)
    .await
    .unwrap();

    let db = AnyDb::connect(url).await.unwrap();
    db.migrate().await.unwrap();
    let token = db.token_by_hash("h").await.unwrap();
    assert_eq!((token.role, token.user_id), (Role::Admin, None));
    let trail = db
        .audit_trail(siaran::domain::audit::Entity::Show, "s")
        .await
        .unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(
        (trail[0].by.as_deref(), trail[0].user_id),
        (Some("lama"), None)
    );
}

#[tokio::test]
async fn tokens_from_before_0020_keep_their_role_on_sqlite() {
    use sqlx::Connection as _;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&format!("{url}?mode=rwc"))
        .await
        .unwrap();
    tokens_from_before_0020("migrations/sqlite", &mut conn, &url).await;
}

#[tokio::test]
async fn tokens_from_before_0020_keep_their_role_on_postgres() {
    use sqlx::Connection as _;
    let url = fresh_postgres_db().await;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    tokens_from_before_0020("migrations/postgres", &mut conn, &url).await;
}

/// A rolling upgrade (issue 26): the database already holds a migration of a newer release
/// that this one does not know. This release still starts on it (and serves: the migration
/// was additive), where sqlx's migrator refuses by default (`VersionMissing`).
async fn a_newer_release_s_migration_is_tolerated(url: &str) {
    use sqlx::Connection as _;
    let db = AnyDb::connect(url).await.unwrap();
    db.migrate().await.unwrap();
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    sqlx::query("CREATE TABLE from_the_future (id TEXT PRIMARY KEY)")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99990101, 'from a newer release', TRUE, $1, 0)",
    )
    .bind(vec![0u8; 48])
    .execute(&mut conn)
    .await
    .unwrap();
    let _ = conn.close().await;
    let again = AnyDb::connect(url).await.unwrap();
    again
        .migrate()
        .await
        .expect("a newer release's migration is not an error");
    again.ping().await.unwrap();
}

#[tokio::test]
async fn a_newer_release_s_migration_is_tolerated_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    a_newer_release_s_migration_is_tolerated(&url).await;
}

#[tokio::test]
async fn a_newer_release_s_migration_is_tolerated_on_postgres() {
    a_newer_release_s_migration_is_tolerated(&fresh_postgres_db().await).await;
}

/// Fingerprints and their index (issue 25): queued for published and scheduled recordings only,
/// stored only under the job's lease, found by key, and answered only for episodes published at
/// the moment asked.
async fn fingerprint_story(db: &dyn Db) {
    let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 2, 0, 0).unwrap();
    let now = t0 + Duration::days(1);
    let show = show_at(t0);
    db.create_show(&show).await.unwrap();
    let (a, b, d) = (media_at(t0), media_at(t0), media_at(t0));
    for m in [&a, &b, &d] {
        db.create_media(m).await.unwrap();
    }
    let published = episode_at(show.id, a.id, "terbit", Some(t0), t0);
    let scheduled = episode_at(
        show.id,
        b.id,
        "terjadwal",
        Some(now + Duration::days(1)),
        t0,
    );
    let draft = episode_at(show.id, d.id, "draf", None, t0);
    for e in [&published, &scheduled, &draft] {
        db.create_episode(e).await.unwrap();
    }
    let fp = JobKind::Fingerprint;
    assert_eq!(db.enqueue_missing_fingerprints(now).await.unwrap(), 2);
    assert_eq!(db.enqueue_missing_fingerprints(now).await.unwrap(), 0);
    assert!(matches!(db.job(fp, d.id).await, Err(DbError::NotFound)));

    let stored = StoredFingerprint {
        items: (0..100u32).map(|i| i.wrapping_mul(0x9E37_79B9)).collect(),
        item_us: 123_810,
        duration_ms: 12_381,
    };
    let keys = [(7i64, 0u32), (7, 4), (9, 2)];
    // Without the job's lease nothing is stored.
    assert!(
        !db.record_fingerprint("nobody", a.id, &stored, &keys, now)
            .await
            .unwrap()
    );
    assert_eq!(db.fingerprint(a.id).await.unwrap(), None);
    for _ in 0..2 {
        let job = db
            .claim_job(fp, "l1", now, now + Duration::minutes(1), 3)
            .await
            .unwrap()
            .unwrap();
        assert!(
            db.record_fingerprint("l1", job.media_id, &stored, &keys, now)
                .await
                .unwrap()
        );
        assert_eq!(
            db.job(fp, job.media_id).await.unwrap().state,
            JobState::Done
        );
    }
    assert_eq!(db.fingerprint(a.id).await.unwrap(), Some(stored.clone()));

    let mut postings = db.fingerprint_postings(&[7, 9, 11]).await.unwrap();
    postings.sort_by_key(|p| (p.fingerprint, p.key, p.position));
    assert_eq!(postings.len(), 6);
    let got: Vec<(i64, u32)> = postings[..3].iter().map(|p| (p.key, p.position)).collect();
    assert_eq!(got, [(7, 0), (7, 4), (9, 2)]);
    let mut ids: Vec<u64> = postings.iter().map(|p| p.fingerprint).collect();
    ids.dedup();
    assert_eq!(ids.len(), 2);

    // The scheduled episode's recording is answered once its time has come; the draft's never.
    // Only the stretch asked for is read, cut short where the fingerprint ends.
    let spans = [
        FingerprintSpan {
            id: ids[0],
            from: 10,
            count: 20,
        },
        FingerprintSpan {
            id: ids[1],
            from: 90,
            count: 20,
        },
    ];
    let found = db.published_fingerprints(&spans, now).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].episode, found[0].media), (published.id, a.id));
    let (item_us, duration_ms) = (stored.item_us, stored.duration_ms);
    assert_eq!(
        (found[0].item_us, found[0].duration_ms),
        (item_us, duration_ms)
    );
    let span = spans.iter().find(|s| s.id == found[0].id).unwrap();
    let from = span.from as usize;
    assert_eq!(found[0].from, span.from);
    assert_eq!(
        found[0].items,
        stored.items[from..(from + 20).min(100)].to_vec()
    );
    let later = db
        .published_fingerprints(&spans, now + Duration::days(2))
        .await
        .unwrap();
    assert_eq!(later.len(), 2);
    let tail = later.iter().find(|f| f.from == 90).unwrap();
    assert_eq!(tail.items, stored.items[90..].to_vec());

    let (bytes, audio_ms) = db.fingerprint_index_size().await.unwrap();
    assert!(bytes > 0);
    assert_eq!(audio_ms, 2 * 12_381);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fingerprints_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    fingerprint_story(&migrated_sqlite(dir.path()).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fingerprints_on_postgres() {
    let db = AnyDb::connect(&fresh_postgres_db().await).await.unwrap();
    db.migrate().await.unwrap();
    fingerprint_story(&db).await;
}
