//! Episodes: create, change, publish, withdraw and restore; link the documents a briefing
//! discusses.

use bytes::Bytes;
use chrono::{DateTime, SubsecRound as _, Utc};

use super::{Ctx, Error, or_not_found, shows::checked_artwork};
use crate::{
    db::{DbError, new_row_id},
    domain::{
        Document, DocumentId, DocumentLink, Episode, EpisodeDraft, EpisodeId, EpisodePatch,
        EpisodeStatus, LinkedDocument, Media, MediaId, Show, Slug,
        audit::{self, Actor, AuditEntry, Entity},
        check_moment, parse_link_note, parse_withdrawal,
    },
    storage::{
        ObjectKey,
        replace::{Named, Source, put_then_record},
    },
};

/// The episode a path names; an id that cannot exist is simply not found.
pub async fn load(ctx: &Ctx, raw_id: &str) -> Result<Episode, Error> {
    let id: EpisodeId = raw_id
        .parse()
        .map_err(|_| Error::NotFound { what: "episode" })?;
    ctx.db.episode(id).await.map_err(or_not_found("episode"))
}

/// Checks `image` against Apple's rules for a cover (as a show's) and makes it `episode`'s own
/// cover, the `itunes:image` of its item (see `storage::replace`): on any failure nothing new is
/// left behind, and the cover it replaces is deleted once the episode points at the new one.
#[tracing::instrument(skip_all, fields(id = %episode.id))]
pub async fn set_cover(
    ctx: &Ctx,
    actor: &Actor,
    episode: Episode,
    image: Bytes,
    now: DateTime<Utc>,
) -> Result<Episode, Error> {
    let (artwork, key) = checked_artwork(&image, |sha256, extension| {
        ObjectKey::for_episode_artwork(episode.id.0, sha256, extension)
    })?;
    if episode
        .artwork
        .as_ref()
        .is_some_and(|a| a.key == artwork.key)
    {
        // The same image again: nothing to store.
        return Ok(episode);
    }
    let before = episode.artwork.as_ref().map(|a| a.sha256.clone());
    let mime_type = artwork.mime_type.clone();
    let episode = put_then_record(
        ctx.store.as_ref(),
        &key,
        Named::ByContent,
        &mime_type,
        Source::Bytes(image),
        || async {
            let (episode, replaced) = ctx
                .db
                .set_episode_artwork(episode.id, &artwork, now)
                .await?;
            Ok::<_, DbError>((episode, replaced.map(|old| ObjectKey::from_stored(old.key))))
        },
    )
    .await?;
    ctx.feeds.changed(episode.show_id).await;
    ctx.audit(
        AuditEntry::new(Entity::Episode, episode.id, "artwork-set", actor).with_changes(
            serde_json::json!({"artwork_sha256": {"from": before, "to": artwork.sha256}}),
        ),
    )
    .await;
    Ok(episode)
}

/// The uploaded media a request names, or `unknown-media`.
pub async fn known_media(ctx: &Ctx, raw_id: &str) -> Result<Media, Error> {
    let unknown_media = || {
        Error::invalid(
            "unknown-media",
            format!("media_id '{raw_id}' tidak dikenal: unggah dulu ke /api/v1/media"),
            format!("media_id '{raw_id}' is unknown: upload to /api/v1/media first"),
        )
    };
    let media_id: MediaId = raw_id.parse().map_err(|_| unknown_media())?;
    ctx.db.media(media_id).await.map_err(|e| match e {
        DbError::NotFound => unknown_media(),
        other => other.into(),
    })
}

/// The first free slug among `base`, `base-2`, `base-3`...
async fn free_slug(ctx: &Ctx, show: &Show, base: &Slug) -> Result<Slug, Error> {
    for n in 1..1000 {
        let candidate = if n == 1 {
            base.clone()
        } else {
            let s = format!("{}-{n}", base.as_str().chars().take(90).collect::<String>());
            Slug::parse(s.trim_start_matches('-')).map_err(|e| anyhow::anyhow!(e))?
        };
        if !ctx.db.episode_slug_taken(show.id, &candidate).await? {
            return Ok(candidate);
        }
    }
    Err(anyhow::anyhow!("no free slug for {base}").into())
}

/// Checks `draft` and stores it as an episode of `show`, created at `now`; the show's feed is
/// told and the audit trail records `actor` (with `source`, an import's origin, when given).
#[tracing::instrument(skip_all, fields(show = %show.slug))]
pub async fn create(
    ctx: &Ctx,
    actor: &Actor,
    show: &Show,
    draft: EpisodeDraft,
    now: DateTime<Utc>,
    source: Option<&str>,
) -> Result<Episode, Error> {
    let checked = draft.check()?;
    let chosen = checked.slug.is_some();
    let base = checked.base_slug;
    let mut slug = if chosen {
        // A slug another episode had still leads to it.
        if ctx.db.episode_slug_taken(show.id, &base).await? {
            return Err(slug_taken(&base));
        }
        base.clone()
    } else {
        free_slug(ctx, show, &base).await?
    };
    let meta = draft.checked_meta()?;
    let id = draft.id;
    let kept_guid = draft.guid.is_some();
    let (guid, guid_is_permalink) = draft.guid.unwrap_or_else(|| (id.to_string(), false));
    let mut episode = Episode {
        id,
        show_id: show.id,
        slug: slug.clone(),
        guid,
        guid_is_permalink,
        title: checked.title,
        description: checked.description,
        media_id: draft.media.id,
        publish_at: checked.publish_at,
        meta,
        withdrawn: None,
        review: None,
        artwork: None,
        created_at: now,
        updated_at: now,
    };
    // Two episodes with the same title created at once both find the same free slug; the
    // loser of the insert race takes the next one.
    let mut attempts = 0;
    loop {
        match ctx.db.create_episode(&episode).await {
            Ok(()) => break,
            Err(DbError::Conflict(_)) if !chosen && attempts < 5 => {
                attempts += 1;
                slug = free_slug(ctx, show, &base).await?;
                episode.slug = slug.clone();
            }
            // SQLite names no constraint: with a kept guid, the guid may be what clashes.
            Err(DbError::Conflict(_)) if kept_guid => return Err(guid_taken(&episode.guid)),
            Err(DbError::Conflict(_)) => return Err(slug_taken(&slug)),
            Err(other) => return Err(other.into()),
        }
    }
    ctx.feeds.changed(show.id).await;
    super::transparency::record(ctx, episode.id).await;
    super::fingerprint::queue(ctx, &episode).await;
    ctx.audit(
        AuditEntry::new(Entity::Episode, episode.id, "created", actor)
            .with_changes(audit::created_from(&episode, source)),
    )
    .await;
    Ok(episode)
}

fn guid_taken(guid: &str) -> Error {
    Error::conflict(
        "episode-guid-taken",
        format!("GUID '{guid}' (atau slug) sudah dipakai episode lain di Siaran"),
        format!("The guid '{guid}' (or the slug) is already used by another episode in Siaran"),
    )
}

fn slug_taken(slug: &Slug) -> Error {
    Error::conflict(
        "episode-slug-taken",
        format!("Slug '{slug}' sudah dipakai episode lain di acara ini"),
        format!("The slug '{slug}' is already used by another episode of this show"),
    )
}

/// Changes the fields `patch` gives. A new recording must hold what is placed in the old one:
/// soundbites, the moments of linked documents, uploaded chapters and transcript cues.
#[tracing::instrument(skip_all, fields(id = %old.id))]
pub async fn update(
    ctx: &Ctx,
    actor: &Actor,
    old: Episode,
    patch: EpisodePatch,
) -> Result<Episode, Error> {
    let mut episode = patch.apply_text(old.clone())?;
    let media = match &patch.media_id {
        Some(raw) => known_media(ctx, raw).await?,
        None => ctx.db.media(old.media_id).await?,
    };
    episode.media_id = media.id;
    let duration_ms = media.info.duration_ms;
    let mut episode = patch.apply_rest(episode, duration_ms)?;
    if episode.media_id != old.media_id {
        for linked in ctx.db.episode_documents(episode.id).await? {
            if let Some(at) = linked.at_ms {
                check_moment(at, duration_ms)?;
            }
        }
        super::episode_files::check_files_fit(ctx, &episode, duration_ms).await?;
    }
    // Published or scheduled, it has left the review queue.
    if episode.publish_at.is_some() {
        episode.review = None;
    }
    episode.updated_at = Utc::now();
    ctx.db
        .update_episode(&episode, &old.slug)
        .await
        .map_err(|e| match e {
            DbError::Conflict(_) => slug_taken(&episode.slug),
            other => other.into(),
        })?;
    ctx.feeds.changed(episode.show_id).await;
    super::transparency::record(ctx, episode.id).await;
    // Scheduled or published, with a new recording or not: its fingerprint is queued (once).
    super::fingerprint::queue(ctx, &episode).await;
    ctx.audit(
        AuditEntry::new(Entity::Episode, episode.id, "updated", actor)
            .with_changes(audit::diff(&old, &episode)),
    )
    .await;
    Ok(episode)
}

/// Publishes now. An already published episode keeps its date: its pubDate must not jump.
#[tracing::instrument(skip_all, fields(id = %episode.id))]
pub async fn publish(ctx: &Ctx, actor: &Actor, episode: Episode) -> Result<Episode, Error> {
    let now = Utc::now();
    let episode = if episode.status(now) == EpisodeStatus::Published {
        episode
    } else {
        let before = episode.publish_at;
        let published = ctx.db.set_publish_at(episode.id, Some(now), now).await?;
        ctx.audit(
            AuditEntry::new(Entity::Episode, published.id, "published", actor).with_changes(
                serde_json::json!({"publish_at": {"from": before, "to": published.publish_at}}),
            ),
        )
        .await;
        published
    };
    ctx.feeds.changed(episode.show_id).await;
    super::transparency::record(ctx, episode.id).await;
    super::fingerprint::queue(ctx, &episode).await;
    tracing::info!(episode = %episode.id, "published");
    Ok(episode)
}

/// Takes a published briefing down: it leaves the feed; its page answers 410 with the reason
/// and the date (the first withdrawal's, when it is withdrawn again).
#[tracing::instrument(skip_all, fields(id = %episode.id))]
pub async fn withdraw(
    ctx: &Ctx,
    actor: &Actor,
    episode: Episode,
    reason: &str,
) -> Result<Episode, Error> {
    let now = Utc::now().trunc_subsecs(3);
    let at = episode.withdrawn.as_ref().map_or(now, |w| w.at);
    let withdrawal = parse_withdrawal(reason, at)?;
    let episode = ctx
        .db
        .set_withdrawal(episode.id, Some(&withdrawal), now)
        .await?;
    ctx.feeds.changed(episode.show_id).await;
    super::transparency::record(ctx, episode.id).await;
    ctx.audit(
        AuditEntry::new(Entity::Episode, episode.id, "withdrawn", actor)
            .with_changes(serde_json::json!({"reason": withdrawal.reason})),
    )
    .await;
    tracing::info!(episode = %episode.id, "withdrawn");
    Ok(episode)
}

/// Puts a withdrawn briefing back.
#[tracing::instrument(skip_all, fields(id = %episode.id))]
pub async fn restore(ctx: &Ctx, actor: &Actor, episode: Episode) -> Result<Episode, Error> {
    let episode = ctx.db.set_withdrawal(episode.id, None, Utc::now()).await?;
    ctx.feeds.changed(episode.show_id).await;
    super::transparency::record(ctx, episode.id).await;
    ctx.audit(AuditEntry::new(
        Entity::Episode,
        episode.id,
        "restored",
        actor,
    ))
    .await;
    Ok(episode)
}

/// Links a document to `episode`, at a moment of the recording when `at_ms` is given.
#[tracing::instrument(skip_all, fields(id = %episode.id))]
pub async fn link_document(
    ctx: &Ctx,
    actor: &Actor,
    episode: &Episode,
    raw_document_id: &str,
    at_ms: Option<u64>,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<LinkedDocument, Error> {
    let unknown_document = || {
        Error::invalid(
            "unknown-document",
            format!("document_id '{raw_document_id}' tidak dikenal"),
            format!("document_id '{raw_document_id}' is unknown"),
        )
    };
    let note = parse_link_note(note.as_deref())?;
    let document_id: DocumentId = raw_document_id.parse().map_err(|_| unknown_document())?;
    let document: Document = ctx.db.document(document_id).await.map_err(|e| match e {
        DbError::NotFound => unknown_document(),
        other => other.into(),
    })?;
    if let Some(at) = at_ms {
        check_moment(at, ctx.db.media(episode.media_id).await?.info.duration_ms)?;
    }
    let link = DocumentLink {
        id: new_row_id(),
        episode_id: episode.id,
        document_id: document.id,
        at_ms,
        note,
        created_at: now,
    };
    ctx.db.link_document(&link).await?;
    ctx.feeds.changed(episode.show_id).await;
    super::transparency::record(ctx, episode.id).await;
    ctx.audit(
        AuditEntry::new(Entity::Episode, episode.id, "document-linked", actor).with_changes(
            serde_json::json!({"link_id": link.id, "document_id": link.document_id, "at_ms": link.at_ms, "note": link.note}),
        ),
    )
    .await;
    Ok(LinkedDocument {
        link_id: link.id,
        document,
        at_ms: link.at_ms,
        note: link.note,
    })
}

/// Removes one link; the chapters built from the documents may change, or go.
#[tracing::instrument(skip_all, fields(id = %episode.id))]
pub async fn unlink_document(
    ctx: &Ctx,
    actor: &Actor,
    episode: &Episode,
    raw_link_id: &str,
) -> Result<(), Error> {
    let link: uuid::Uuid = raw_link_id
        .parse()
        .map_err(|_| Error::NotFound { what: "link" })?;
    ctx.db
        .unlink_document(episode.id, link)
        .await
        .map_err(or_not_found("link"))?;
    ctx.feeds.changed(episode.show_id).await;
    super::transparency::record(ctx, episode.id).await;
    ctx.audit(
        AuditEntry::new(Entity::Episode, episode.id, "document-unlinked", actor)
            .with_changes(serde_json::json!({"link_id": link})),
    )
    .await;
    Ok(())
}
