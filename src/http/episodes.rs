//! Episodes: create in a show, read, publish; and the documents a briefing discusses.

use axum::{
    Router,
    extract::{Path, State},
    http::{StatusCode, header},
    response::IntoResponse,
    routing::{get, post},
};
use chrono::{DateTime, SubsecRound as _, Utc};
use serde::{Deserialize, Serialize};

use super::{
    Json, auth::Editor, meta_error, or_not_found, parse_id, require_slug, require_title,
    shows::load_show,
};
use crate::{
    app::{App, AppState},
    audit::{self, AuditEntry, Entity},
    db::{DbError, DocumentLink, LinkedDocument, new_row_id},
    domain::{
        DocumentId, Episode, EpisodeId, EpisodeMeta, EpisodeStatus, Media, MediaId, Show, Slug,
    },
    error::AppError,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/shows/{slug}/episodes", get(list).post(create))
        .route("/api/v1/episodes/{id}", get(read).patch(update))
        .route("/api/v1/episodes/{id}/publish", post(publish))
        .route(
            "/api/v1/episodes/{id}/withdrawal",
            axum::routing::put(withdraw).delete(restore),
        )
        .route("/api/v1/episodes/{id}/documents", post(link_document))
        .route(
            "/api/v1/episodes/{id}/documents/{link_id}",
            axum::routing::delete(unlink_document),
        )
}

#[derive(Debug, Deserialize)]
pub struct NewEpisode {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub media_id: String,
    /// RFC 3339. Absent: a draft. Past: published. Future: scheduled.
    #[serde(default)]
    pub publish_at: Option<DateTime<Utc>>,
    /// Optional; derived from the title when absent.
    #[serde(default)]
    pub slug: Option<String>,
    /// Season, number, type, show notes (HTML), persons, location, soundbites.
    #[serde(default)]
    pub meta: EpisodeMeta,
}

/// `PATCH /api/v1/episodes/{id}`: the fields given change, the others stay. The RSS `guid` never
/// changes, so apps see a corrected episode as the same one; `publish_at: null` makes a draft.
#[derive(Debug, Default, Deserialize)]
pub struct EpisodePatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub slug: Option<String>,
    /// A corrected recording (uploaded first); its URL is new, as media URLs are immutable.
    pub media_id: Option<String>,
    #[serde(default, with = "super::double_option")]
    pub publish_at: Option<Option<DateTime<Utc>>>,
    pub meta: Option<EpisodeMeta>,
}

#[derive(Debug, Serialize)]
pub struct EpisodeView {
    pub id: EpisodeId,
    pub show_slug: Slug,
    pub slug: Slug,
    pub guid: String,
    pub title: String,
    pub description: String,
    pub status: EpisodeStatus,
    pub publish_at: Option<DateTime<Utc>>,
    /// When and why the briefing was taken down, if it was.
    pub withdrawn: Option<crate::domain::Withdrawal>,
    pub media_id: MediaId,
    pub enclosure_url: String,
    pub mime_type: String,
    pub duration_ms: u64,
    pub size_bytes: u64,
    pub sha256: String,
    pub url: String,
    pub feed_url: String,
    pub documents: Vec<LinkedDocument>,
    /// Transcripts, chapters and other renditions.
    #[serde(flatten)]
    pub extras: super::episode_files::ExtrasView,
    pub meta: EpisodeMeta,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

async fn view(app: &App, episode: Episode, show: Option<Show>) -> Result<EpisodeView, AppError> {
    let show = match show {
        Some(s) => s,
        None => app.db.show(episode.show_id).await?,
    };
    let media = app.db.media(episode.media_id).await?;
    let documents = app.db.episode_documents(episode.id).await?;
    let extras = super::episode_files::extras_of(app, &episode).await?;
    Ok(EpisodeView {
        extras: super::episode_files::ExtrasView::new(episode.id, &extras, &app.urls),
        status: episode.status(Utc::now()),
        enclosure_url: app.urls.media(media.id, &media.info.extension),
        mime_type: media.info.mime_type,
        duration_ms: media.info.duration_ms,
        size_bytes: media.info.size_bytes,
        sha256: media.info.sha256,
        url: app.urls.episode_page(&show.slug, &episode.slug),
        feed_url: app.urls.feed(&show.slug),
        documents,
        id: episode.id,
        show_slug: show.slug,
        slug: episode.slug,
        guid: episode.guid,
        title: episode.title,
        description: episode.description,
        publish_at: episode.publish_at,
        withdrawn: episode.withdrawn,
        media_id: media.id,
        meta: episode.meta,
        created_at: episode.created_at,
        updated_at: episode.updated_at,
    })
}

/// The first free slug among `base`, `base-2`, `base-3`...
async fn free_slug(app: &App, show: &Show, base: &Slug) -> Result<Slug, AppError> {
    for n in 1..1000 {
        let candidate = if n == 1 {
            base.clone()
        } else {
            let s = format!("{}-{n}", base.as_str().chars().take(90).collect::<String>());
            Slug::parse(s.trim_start_matches('-')).map_err(|e| anyhow::anyhow!(e))?
        };
        if !app.db.episode_slug_taken(show.id, &candidate).await? {
            return Ok(candidate);
        }
    }
    Err(anyhow::anyhow!("no free slug for {base}").into())
}

#[tracing::instrument(skip_all, fields(show = %show_slug))]
async fn create(
    State(state): State<AppState>,
    editor: Editor,
    Path(show_slug): Path<String>,
    Json(input): Json<NewEpisode>,
) -> Result<impl IntoResponse, AppError> {
    let show = load_show(&state, &show_slug).await?;
    let media = known_media(&state, &input.media_id).await?;
    let episode = create_episode(
        &state,
        &show,
        EpisodeDraft {
            title: input.title,
            description: input.description,
            media,
            publish_at: input.publish_at,
            slug: input.slug,
            meta: input.meta,
            guid: None,
        },
    )
    .await?;
    audit::record(
        &state,
        AuditEntry::new(Entity::Episode, episode.id, "created", &editor.actor)
            .with_changes(audit::created(&episode)),
    )
    .await;
    let location = format!("/api/v1/episodes/{}", episode.id);
    let view = view(&state, episode, Some(show)).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(view),
    ))
}

/// A new episode as whoever creates one (the API, an import) describes it; checked by
/// `create_episode`.
#[derive(Debug)]
pub struct EpisodeDraft {
    pub title: String,
    pub description: String,
    pub media: Media,
    pub publish_at: Option<DateTime<Utc>>,
    /// Derived from the title when absent (the first free one).
    pub slug: Option<String>,
    pub meta: EpisodeMeta,
    /// An RSS guid to keep, and whether it is a permalink: an imported episode's. A new
    /// episode's guid is its id.
    pub guid: Option<(String, bool)>,
}

/// Checks `draft` and stores it as an episode of `show`; the show's feed is told. The caller
/// records the creation in the audit trail (it knows who asked).
pub async fn create_episode(
    app: &App,
    show: &Show,
    draft: EpisodeDraft,
) -> Result<Episode, AppError> {
    let title = require_title(&draft.title)?;
    let base = match draft.slug.as_deref() {
        Some(s) => require_slug(s)?,
        None => Slug::from_title(&title, "episode"),
    };
    let chosen = draft.slug.is_some();
    let mut slug = if chosen {
        // A slug another episode had still leads to it.
        if app.db.episode_slug_taken(show.id, &base).await? {
            return Err(slug_taken(&base));
        }
        base.clone()
    } else {
        free_slug(app, show, &base).await?
    };
    let meta = draft.meta.validated().map_err(|e| meta_error(&e))?;
    let now = Utc::now();
    let id = EpisodeId::new();
    let kept_guid = draft.guid.is_some();
    let (guid, guid_is_permalink) = draft.guid.unwrap_or_else(|| (id.to_string(), false));
    let mut episode = Episode {
        id,
        show_id: show.id,
        slug: slug.clone(),
        guid,
        guid_is_permalink,
        title,
        description: draft.description.trim().to_owned(),
        media_id: draft.media.id,
        publish_at: draft.publish_at,
        meta,
        withdrawn: None,
        created_at: now,
        updated_at: now,
    };
    // Two episodes with the same title created at once both find the same free slug; the
    // loser of the insert race takes the next one.
    let mut attempts = 0;
    loop {
        match app.db.create_episode(&episode).await {
            Ok(()) => break,
            Err(DbError::Conflict(_)) if !chosen && attempts < 5 => {
                attempts += 1;
                slug = free_slug(app, show, &base).await?;
                episode.slug = slug.clone();
            }
            // SQLite names no constraint: with a kept guid, the guid may be what clashes.
            Err(DbError::Conflict(_)) if kept_guid => return Err(guid_taken(&episode.guid)),
            Err(DbError::Conflict(_)) => return Err(slug_taken(&slug)),
            Err(other) => return Err(other.into()),
        }
    }
    app.feeds.changed(show.id).await;
    Ok(episode)
}

fn guid_taken(guid: &str) -> AppError {
    AppError::Conflict {
        code: "episode-guid-taken",
        msg: crate::error::Msg::new(
            format!("GUID '{guid}' (atau slug) sudah dipakai episode lain di Siaran"),
            format!("The guid '{guid}' (or the slug) is already used by another episode in Siaran"),
        ),
    }
}

/// The uploaded media a request names, or 422 `unknown-media`.
pub async fn known_media(app: &App, raw_id: &str) -> Result<Media, AppError> {
    let unknown_media = || {
        AppError::invalid(
            "unknown-media",
            format!("media_id '{raw_id}' tidak dikenal: unggah dulu ke /api/v1/media"),
            format!("media_id '{raw_id}' is unknown: upload to /api/v1/media first"),
        )
    };
    let media_id: MediaId = raw_id.parse().map_err(|_| unknown_media())?;
    app.db.media(media_id).await.map_err(|e| match e {
        DbError::NotFound => unknown_media(),
        other => other.into(),
    })
}

#[tracing::instrument(skip_all, fields(%id))]
async fn update(
    State(state): State<AppState>,
    editor: Editor,
    Path(id): Path<String>,
    Json(patch): Json<EpisodePatch>,
) -> Result<Json<EpisodeView>, AppError> {
    let old = load(&state, &id).await?;
    let mut episode = old.clone();
    if let Some(title) = &patch.title {
        episode.title = require_title(title)?;
    }
    if let Some(description) = &patch.description {
        description.trim().clone_into(&mut episode.description);
    }
    if let Some(slug) = &patch.slug {
        episode.slug = require_slug(slug)?;
    }
    if let Some(raw) = &patch.media_id {
        episode.media_id = known_media(&state, raw).await?.id;
    }
    if let Some(publish_at) = patch.publish_at {
        episode.publish_at = publish_at;
    }
    if let Some(meta) = patch.meta {
        episode.meta = meta.validated().map_err(|e| meta_error(&e))?;
    }
    episode.updated_at = Utc::now();
    state
        .db
        .update_episode(&episode, &old.slug)
        .await
        .map_err(|e| match e {
            DbError::Conflict(_) => slug_taken(&episode.slug),
            other => other.into(),
        })?;
    state.feeds.changed(episode.show_id).await;
    audit::record(
        &state,
        AuditEntry::new(Entity::Episode, episode.id, "updated", &editor.actor)
            .with_changes(audit::diff(&old, &episode)),
    )
    .await;
    Ok(Json(view(&state, episode, None).await?))
}

fn slug_taken(slug: &Slug) -> AppError {
    AppError::Conflict {
        code: "episode-slug-taken",
        msg: crate::error::Msg::new(
            format!("Slug '{slug}' sudah dipakai episode lain di acara ini"),
            format!("The slug '{slug}' is already used by another episode of this show"),
        ),
    }
}

/// A show's episodes: published ones for everyone, drafts and scheduled ones too with a token.
#[tracing::instrument(skip_all, fields(show = %show_slug))]
async fn list(
    State(state): State<AppState>,
    editor: Option<Editor>,
    Path(show_slug): Path<String>,
) -> Result<Json<Vec<EpisodeView>>, AppError> {
    let show = load_show(&state, &show_slug).await?;
    let now = Utc::now();
    let mut views = Vec::new();
    for episode in state.db.show_episodes(show.id).await? {
        if editor.is_some() || episode.status(now) == EpisodeStatus::Published {
            views.push(view(&state, episode, Some(show.clone())).await?);
        }
    }
    Ok(Json(views))
}

pub async fn load(app: &App, raw_id: &str) -> Result<Episode, AppError> {
    let id: EpisodeId = parse_id("episode", raw_id)?;
    app.db.episode(id).await.map_err(or_not_found("episode"))
}

#[tracing::instrument(skip_all, fields(%id))]
async fn read(
    State(state): State<AppState>,
    editor: Option<Editor>,
    Path(id): Path<String>,
) -> Result<Json<EpisodeView>, AppError> {
    let episode = load(&state, &id).await?;
    // Drafts and scheduled episodes are not public until their time.
    if editor.is_none() && episode.status(Utc::now()) != EpisodeStatus::Published {
        return Err(AppError::NotFound { what: "episode" });
    }
    Ok(Json(view(&state, episode, None).await?))
}

#[tracing::instrument(skip_all, fields(%id))]
async fn publish(
    State(state): State<AppState>,
    editor: Editor,
    Path(id): Path<String>,
) -> Result<Json<EpisodeView>, AppError> {
    let episode = load(&state, &id).await?;
    let now = Utc::now();
    // Publishing an already published episode keeps its date: its pubDate must not jump.
    let episode = if episode.status(now) == EpisodeStatus::Published {
        episode
    } else {
        let before = episode.publish_at;
        let published = state.db.set_publish_at(episode.id, Some(now), now).await?;
        audit::record(
            &state,
            AuditEntry::new(Entity::Episode, published.id, "published", &editor.actor)
                .with_changes(
                    serde_json::json!({"publish_at": {"from": before, "to": published.publish_at}}),
                ),
        )
        .await;
        published
    };
    state.feeds.changed(episode.show_id).await;
    tracing::info!(episode = %episode.id, "published");
    Ok(Json(view(&state, episode, None).await?))
}

#[derive(Debug, Deserialize)]
pub struct NewWithdrawal {
    pub reason: String,
}

/// `PUT /api/v1/episodes/{id}/withdrawal` `{"reason"}`: takes a published briefing down. It
/// leaves the feed; its page answers 410 with the reason and the date.
#[tracing::instrument(skip_all, fields(%id))]
async fn withdraw(
    State(state): State<AppState>,
    editor: Editor,
    Path(id): Path<String>,
    Json(input): Json<NewWithdrawal>,
) -> Result<Json<EpisodeView>, AppError> {
    let episode = load(&state, &id).await?;
    let reason = input.reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid(
            "invalid-reason",
            "Sebutkan alasan penarikan (reason): pembaca halaman akan melihatnya",
            "Give the reason for the withdrawal: readers of the page will see it",
        ));
    }
    let now = Utc::now().trunc_subsecs(3);
    let withdrawal = crate::domain::Withdrawal {
        at: episode.withdrawn.as_ref().map_or(now, |w| w.at),
        reason: reason.to_owned(),
    };
    let episode = state
        .db
        .set_withdrawal(episode.id, Some(&withdrawal), now)
        .await?;
    state.feeds.changed(episode.show_id).await;
    audit::record(
        &state,
        AuditEntry::new(Entity::Episode, episode.id, "withdrawn", &editor.actor)
            .with_changes(serde_json::json!({"reason": withdrawal.reason})),
    )
    .await;
    tracing::info!(episode = %episode.id, "withdrawn");
    Ok(Json(view(&state, episode, None).await?))
}

/// `DELETE /api/v1/episodes/{id}/withdrawal`: puts a withdrawn briefing back.
#[tracing::instrument(skip_all, fields(%id))]
async fn restore(
    State(state): State<AppState>,
    editor: Editor,
    Path(id): Path<String>,
) -> Result<Json<EpisodeView>, AppError> {
    let episode = load(&state, &id).await?;
    let episode = state
        .db
        .set_withdrawal(episode.id, None, Utc::now())
        .await?;
    state.feeds.changed(episode.show_id).await;
    audit::record(
        &state,
        AuditEntry::new(Entity::Episode, episode.id, "restored", &editor.actor),
    )
    .await;

    Ok(Json(view(&state, episode, None).await?))
}

#[derive(Debug, Deserialize)]
pub struct NewLink {
    pub document_id: String,
    #[serde(default)]
    pub at_ms: Option<u64>,
    #[serde(default)]
    pub note: Option<String>,
}

#[tracing::instrument(skip_all, fields(%id))]
async fn link_document(
    State(state): State<AppState>,
    editor: Editor,
    Path(id): Path<String>,
    Json(input): Json<NewLink>,
) -> Result<impl IntoResponse, AppError> {
    let episode = load(&state, &id).await?;
    let unknown_document = || {
        AppError::invalid(
            "unknown-document",
            format!("document_id '{}' tidak dikenal", input.document_id),
            format!("document_id '{}' is unknown", input.document_id),
        )
    };
    let document_id: DocumentId = input.document_id.parse().map_err(|_| unknown_document())?;
    let document = state.db.document(document_id).await.map_err(|e| match e {
        DbError::NotFound => unknown_document(),
        other => other.into(),
    })?;
    if let Some(at) = input.at_ms {
        let duration = state.db.media(episode.media_id).await?.info.duration_ms;
        if at > duration {
            return Err(AppError::invalid(
                "invalid-moment",
                format!("at_ms {at} melewati durasi rekaman ({duration} ms)"),
                format!("at_ms {at} is past the end of the recording ({duration} ms)"),
            ));
        }
    }
    let link = DocumentLink {
        id: new_row_id(),
        episode_id: episode.id,
        document_id: document.id,
        at_ms: input.at_ms,
        note: input
            .note
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty()),
        created_at: Utc::now(),
    };
    state.db.link_document(&link).await?;
    state.feeds.changed(episode.show_id).await;
    audit::record(
        &state,
        AuditEntry::new(Entity::Episode, episode.id, "document-linked", &editor.actor)
            .with_changes(serde_json::json!({"link_id": link.id, "document_id": link.document_id, "at_ms": link.at_ms, "note": link.note})),
    )
    .await;

    let view = LinkedDocument {
        link_id: link.id,
        document,
        at_ms: link.at_ms,
        note: link.note,
    };
    Ok((StatusCode::CREATED, Json(view)))
}

#[tracing::instrument(skip_all, fields(%id, %link_id))]
async fn unlink_document(
    State(state): State<AppState>,
    editor: Editor,
    Path((id, link_id)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let episode = load(&state, &id).await?;
    let link: uuid::Uuid = parse_id("link", &link_id)?;
    state
        .db
        .unlink_document(episode.id, link)
        .await
        .map_err(or_not_found("link"))?;
    // The chapters built from the documents may have changed, or gone.
    state.feeds.changed(episode.show_id).await;
    audit::record(
        &state,
        AuditEntry::new(
            Entity::Episode,
            episode.id,
            "document-unlinked",
            &editor.actor,
        )
        .with_changes(serde_json::json!({"link_id": link})),
    )
    .await;

    Ok(StatusCode::NO_CONTENT)
}
