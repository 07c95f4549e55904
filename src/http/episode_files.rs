//! What an episode carries besides its recording, for `podcast:transcript`, `podcast:chapters`
//! and `podcast:alternateEnclosure`:
//!
//! - `PUT`/`DELETE /api/v1/episodes/{id}/transcripts/{language}`: a WebVTT or SRT file as the
//!   body, checked cue by cue against the recording; served at
//!   `/transcripts/{episode}/{language}.{vtt|srt}`.
//! - `PUT`/`DELETE /api/v1/episodes/{id}/chapters`: JSON chapters; served at
//!   `/chapters/{episode}.json`. Without an upload, that URL serves chapters built from the
//!   moments at which the episode's documents are discussed.
//! - `POST /api/v1/episodes/{id}/renditions` (`{"media_id", "title"}`) and
//!   `DELETE /api/v1/episodes/{id}/renditions/{media_id}`: another rendition of the recording
//!   (the audio of a video briefing, a smaller video), uploaded first to `/api/v1/media`.
//!
//! Files are small and read whole (bounded by the route's body limit); the object goes first,
//! then the row, then a replaced object: a failure leaves nothing new behind.

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{DefaultBodyLimit, Path, State, rejection::BytesRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{delete, get, post, put},
};
use chrono::Utc;
use futures_util::stream;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::{
    Json,
    auth::Editor,
    episodes::{known_media, load},
    or_not_found, parse_id, small_body,
};
use crate::{
    app::{App, AppState},
    audit::{self, AuditEntry, Entity},
    db::DbError,
    domain::{
        Enclosure, Episode, EpisodeExtras, EpisodeFile, EpisodeFileKind, EpisodeId, EpisodeStatus,
        Lang, MediaId, Urls,
        chapters::{self, Moment},
        transcript::{self, TranscriptFormat},
    },
    error::{AppError, Msg},
    storage::{ByteStream, ObjectKey, StoreError},
};

/// A two-hour briefing's transcript is a few hundred kilobytes.
pub const MAX_TRANSCRIPT_BYTES: usize = 5 * 1024 * 1024;
pub const MAX_CHAPTERS_BYTES: usize = 1024 * 1024;
/// Transcripts and chapters can be corrected: apps and browsers check back after five minutes.
const CACHE_CONTROL: &str = "public, max-age=300";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/episodes/{id}/transcripts/{language}",
            put(put_transcript)
                .delete(delete_transcript)
                .layer(DefaultBodyLimit::max(MAX_TRANSCRIPT_BYTES)),
        )
        .route(
            "/api/v1/episodes/{id}/chapters",
            put(put_chapters)
                .delete(delete_chapters)
                .layer(DefaultBodyLimit::max(MAX_CHAPTERS_BYTES)),
        )
        .route("/api/v1/episodes/{id}/renditions", post(add_rendition))
        .route(
            "/api/v1/episodes/{id}/renditions/{media_id}",
            delete(remove_rendition),
        )
        .route("/transcripts/{episode}/{file}", get(serve_transcript))
        .route("/chapters/{file}", get(serve_chapters))
}

#[derive(Debug, Serialize)]
pub struct TranscriptView {
    pub language: Lang,
    pub format: TranscriptFormat,
    pub mime_type: String,
    pub url: String,
    pub size_bytes: u64,
    pub sha256: String,
}

#[derive(Debug, Serialize)]
pub struct RenditionView {
    pub media_id: MediaId,
    pub title: String,
    pub url: String,
    pub mime_type: String,
    pub size_bytes: u64,
    pub duration_ms: u64,
    pub bit_rate: Option<u64>,
    pub height: Option<u32>,
    pub sha256: String,
}

/// The extras of an episode as the API shows them.
#[derive(Debug, Serialize)]
pub struct ExtrasView {
    pub transcripts: Vec<TranscriptView>,
    /// Set when the episode has chapters, uploaded (`chapters_source: "uploaded"`) or built from
    /// its documents' moments (`"documents"`).
    pub chapters_url: Option<String>,
    pub chapters_source: Option<&'static str>,
    pub renditions: Vec<RenditionView>,
}

impl ExtrasView {
    pub fn new(episode: EpisodeId, extras: &EpisodeExtras, urls: &Urls) -> Self {
        ExtrasView {
            transcripts: extras
                .transcripts()
                .filter_map(|f| transcript_view(f, urls))
                .collect(),
            chapters_url: extras.has_chapters().then(|| urls.chapters(episode)),
            chapters_source: if extras.uploaded_chapters().is_some() {
                Some("uploaded")
            } else if extras.placed_documents > 0 {
                Some("documents")
            } else {
                None
            },
            renditions: extras
                .renditions
                .iter()
                .map(|r| {
                    // What the feed's alternateEnclosure says of it, picked out in one place.
                    let e = Enclosure::from(&r.media);
                    RenditionView {
                        media_id: e.id,
                        title: r.display_title(),
                        url: urls.media(e.id, &e.extension),
                        mime_type: e.mime_type,
                        size_bytes: e.size_bytes,
                        duration_ms: e.duration_ms,
                        bit_rate: e.bit_rate,
                        height: e.video_height,
                        sha256: e.sha256,
                    }
                })
                .collect(),
        }
    }
}

fn transcript_view(file: &EpisodeFile, urls: &Urls) -> Option<TranscriptView> {
    let format = file.transcript_format()?;
    let language = file.language.clone()?;
    Some(TranscriptView {
        url: urls.transcript(file.episode_id, &language, format.extension()),
        language,
        format,
        mime_type: file.mime_type.clone(),
        size_bytes: file.size_bytes,
        sha256: file.sha256.clone(),
    })
}

fn parse_language(raw: &str) -> Result<Lang, AppError> {
    Lang::parse(raw).map_err(|en| {
        AppError::invalid(
            "invalid-language",
            format!("Bahasa harus berupa kode bahasa seperti 'id' atau 'en': {raw}"),
            en,
        )
    })
}

#[tracing::instrument(skip_all, fields(%id, %language))]
async fn put_transcript(
    State(state): State<AppState>,
    editor: Editor,
    Path((id, language)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, AppError> {
    let body = small_body(body, MAX_TRANSCRIPT_BYTES)?;
    let episode = load(&state, &id).await?;
    let language = parse_language(&language)?;
    let file = set_transcript(&state, &episode, language, body).await?;
    audit::record(
        &state,
        AuditEntry::new(Entity::Episode, episode.id, "transcript-set", &editor.actor)
            .with_changes(serde_json::json!({"language": file.language, "sha256": file.sha256, "type": file.mime_type})),
    )
    .await;
    let view = transcript_view(&file, &state.urls)
        .ok_or_else(|| anyhow::anyhow!("a stored transcript has no format"))?;
    Ok((StatusCode::OK, Json(view)))
}

/// Checks `body` as a transcript of `episode`'s recording and makes it the episode's transcript
/// in `language`, replacing the one before.
pub async fn set_transcript(
    app: &App,
    episode: &Episode,
    language: Lang,
    body: Bytes,
) -> Result<EpisodeFile, AppError> {
    let parsed = transcript::parse(&body).map_err(|msg| AppError::Invalid {
        code: "invalid-transcript",
        msg,
    })?;
    let duration_ms = app.db.media(episode.media_id).await?.info.duration_ms;
    // A cue may end a little after the recording (rounding); one that starts after it is for
    // another recording.
    if let Some(late) = parsed.cues.iter().find(|c| c.start_ms > duration_ms + 1000) {
        let (at, end) = (late.start_ms as f64 / 1000.0, duration_ms as f64 / 1000.0);
        return Err(AppError::invalid(
            "invalid-transcript",
            format!(
                "Transkrip berisi cue pada {at:.3} detik, setelah rekaman berakhir ({end:.3} \
                 detik): apakah ini transkrip rekaman lain?"
            ),
            format!(
                "The transcript has a cue at {at:.3} s, after the recording ends ({end:.3} s): \
                 is it another recording's?"
            ),
        ));
    }
    let label = format!("transcript-{language}");
    let file = store_file(
        app,
        episode,
        EpisodeFileKind::Transcript,
        Some(language),
        &label,
        parsed.format.mime_type(),
        parsed.format.extension(),
        body,
        Some(&parsed.cues),
    )
    .await?;
    tracing::info!(cues = parsed.cues.len(), "transcript stored");
    Ok(file)
}

#[tracing::instrument(skip_all, fields(%id))]
async fn put_chapters(
    State(state): State<AppState>,
    editor: Editor,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, AppError> {
    let body = small_body(body, MAX_CHAPTERS_BYTES)?;
    let episode = load(&state, &id).await?;
    let parsed = set_chapters(&state, &episode, body).await?;
    audit::record(
        &state,
        AuditEntry::new(Entity::Episode, episode.id, "chapters-set", &editor.actor)
            .with_changes(serde_json::json!({"chapters": parsed.chapters.len()})),
    )
    .await;
    Ok((StatusCode::OK, Json(parsed)))
}

/// Checks `body` as JSON chapters of `episode`'s recording and makes them the episode's
/// chapters, replacing the ones before.
pub async fn set_chapters(
    app: &App,
    episode: &Episode,
    body: Bytes,
) -> Result<chapters::Chapters, AppError> {
    let duration_ms = app.db.media(episode.media_id).await?.info.duration_ms;
    let parsed = chapters::parse(&body, duration_ms).map_err(|msg| AppError::Invalid {
        code: "invalid-chapters",
        msg,
    })?;
    store_file(
        app,
        episode,
        EpisodeFileKind::Chapters,
        None,
        "chapters",
        chapters::MIME_TYPE,
        "json",
        body,
        None,
    )
    .await?;
    Ok(parsed)
}

/// Stores `bytes` as the episode's file of `kind` (and `language`), replacing the one before; a
/// transcript's `cues` become searchable with it.
#[allow(clippy::too_many_arguments)]
async fn store_file(
    app: &App,
    episode: &Episode,
    kind: EpisodeFileKind,
    language: Option<Lang>,
    label: &str,
    mime_type: &str,
    extension: &str,
    bytes: Bytes,
    cues: Option<&[transcript::Cue]>,
) -> Result<EpisodeFile, AppError> {
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let key = ObjectKey::for_episode_file(episode.id.0, label, &sha256, extension);
    let file = EpisodeFile {
        episode_id: episode.id,
        kind,
        language,
        mime_type: mime_type.to_owned(),
        key: key.clone(),
        size_bytes: bytes.len() as u64,
        sha256,
        created_at: Utc::now(),
    };
    let chunks: ByteStream = Box::pin(stream::iter([Ok::<_, std::io::Error>(bytes)]));
    // The key is named by the content: when it exists, a row (this episode's current file, or a
    // racing request's) owns it, and it must not be deleted on failure below.
    let created = match app.store.put(&key, mime_type, chunks).await {
        Ok(_) => true,
        Err(StoreError::AlreadyExists(_)) => false,
        Err(e) => return Err(e.into()),
    };
    let recorded = match cues {
        Some(cues) => app.db.put_transcript(&file, cues).await,
        None => app.db.put_episode_file(&file).await,
    };
    let replaced = match recorded {
        Ok(replaced) => replaced,
        Err(e) => {
            if created && let Err(del) = app.store.delete(&key).await {
                tracing::warn!(error = %del, %key, "orphaned episode file not deleted");
            }
            return Err(match e {
                DbError::Conflict(_) => AppError::Conflict {
                    code: "concurrent-update",
                    msg: Msg::new(
                        "Berkas ini sedang diganti oleh permintaan lain; coba lagi",
                        "Another request is replacing this file; try again",
                    ),
                },
                other => other.into(),
            });
        }
    };
    app.feeds.changed(episode.show_id).await;
    if let Some(old) = replaced.filter(|old| old.key != key) {
        delete_object(app, &old.key).await;
    }
    Ok(file)
}

async fn delete_object(app: &App, key: &ObjectKey) {
    if let Err(e) = app.store.delete(key).await {
        tracing::warn!(error = %e, %key, "replaced episode file not deleted");
    }
}

#[tracing::instrument(skip_all, fields(%id, %language))]
async fn delete_transcript(
    State(state): State<AppState>,
    editor: Editor,
    Path((id, language)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let episode = load(&state, &id).await?;
    let language = parse_language(&language)?;
    let done = remove_file(
        &state,
        &episode,
        EpisodeFileKind::Transcript,
        Some(&language),
    )
    .await?;
    audit::record(
        &state,
        AuditEntry::new(
            Entity::Episode,
            episode.id,
            "transcript-removed",
            &editor.actor,
        )
        .with_changes(serde_json::json!({"language": language})),
    )
    .await;
    Ok(done)
}

#[tracing::instrument(skip_all, fields(%id))]
async fn delete_chapters(
    State(state): State<AppState>,
    editor: Editor,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let episode = load(&state, &id).await?;
    let done = remove_file(&state, &episode, EpisodeFileKind::Chapters, None).await?;
    audit::record(
        &state,
        AuditEntry::new(
            Entity::Episode,
            episode.id,
            "chapters-removed",
            &editor.actor,
        ),
    )
    .await;
    Ok(done)
}

async fn remove_file(
    app: &App,
    episode: &Episode,
    kind: EpisodeFileKind,
    language: Option<&Lang>,
) -> Result<StatusCode, AppError> {
    let what = match kind {
        EpisodeFileKind::Transcript => "transcript",
        EpisodeFileKind::Chapters => "chapters",
    };
    let file = app
        .db
        .delete_episode_file(episode.id, kind, language)
        .await
        .map_err(or_not_found(what))?;
    app.feeds.changed(episode.show_id).await;
    delete_object(app, &file.key).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct NewRendition {
    pub media_id: String,
    #[serde(default)]
    pub title: Option<String>,
}

#[tracing::instrument(skip_all, fields(%id))]
async fn add_rendition(
    State(state): State<AppState>,
    editor: Editor,
    Path(id): Path<String>,
    Json(input): Json<NewRendition>,
) -> Result<impl IntoResponse, AppError> {
    let episode = load(&state, &id).await?;
    let media = known_media(&state, &input.media_id).await?;
    if media.id == episode.media_id {
        return Err(AppError::invalid(
            "invalid-rendition",
            "Media ini sudah menjadi rekaman utama episode",
            "This media is already the episode's main recording",
        ));
    }
    let title = input
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    state
        .db
        .add_rendition(episode.id, media.id, title, Utc::now())
        .await
        .map_err(|e| match e {
            DbError::Conflict(_) => AppError::Conflict {
                code: "rendition-exists",
                msg: Msg::new(
                    "Media ini sudah menjadi versi lain episode ini",
                    "This media is already a rendition of this episode",
                ),
            },
            other => other.into(),
        })?;
    state.feeds.changed(episode.show_id).await;
    audit::record(
        &state,
        AuditEntry::new(
            Entity::Episode,
            episode.id,
            "rendition-added",
            &editor.actor,
        )
        .with_changes(serde_json::json!({"media_id": media.id, "title": title})),
    )
    .await;
    let extras = extras_of(&state, &episode).await?;
    let view = ExtrasView::new(episode.id, &extras, &state.urls)
        .renditions
        .into_iter()
        .find(|r| r.media_id == media.id)
        .ok_or_else(|| anyhow::anyhow!("the rendition just added is not there"))?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[tracing::instrument(skip_all, fields(%id, %media_id))]
async fn remove_rendition(
    State(state): State<AppState>,
    editor: Editor,
    Path((id, media_id)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let episode = load(&state, &id).await?;
    let media_id: MediaId = parse_id("rendition", &media_id)?;
    state
        .db
        .remove_rendition(episode.id, media_id)
        .await
        .map_err(or_not_found("rendition"))?;
    state.feeds.changed(episode.show_id).await;
    audit::record(
        &state,
        AuditEntry::new(
            Entity::Episode,
            episode.id,
            "rendition-removed",
            &editor.actor,
        )
        .with_changes(serde_json::json!({"media_id": media_id})),
    )
    .await;

    Ok(StatusCode::NO_CONTENT)
}

pub async fn extras_of(app: &App, episode: &Episode) -> Result<EpisodeExtras, AppError> {
    Ok(app
        .db
        .episode_extras(episode.show_id, Some(episode.id))
        .await?
        .remove(&episode.id)
        .unwrap_or_default())
}

/// A published episode, for the public addresses: drafts and scheduled ones do not exist yet.
async fn published(app: &App, raw_id: &str, what: &'static str) -> Result<Episode, AppError> {
    let id: EpisodeId = parse_id(what, raw_id)?;
    let episode = app.db.episode(id).await.map_err(or_not_found(what))?;
    if episode.status(Utc::now()) != EpisodeStatus::Published {
        return Err(AppError::NotFound { what });
    }
    Ok(episode)
}

#[tracing::instrument(skip_all, fields(%episode, %file))]
async fn serve_transcript(
    State(state): State<AppState>,
    Path((episode, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    const WHAT: &str = "transcript";
    let episode = published(&state, &episode, WHAT).await?;
    let (language, extension) = file
        .rsplit_once('.')
        .ok_or(AppError::NotFound { what: WHAT })?;
    let extras = extras_of(&state, &episode).await?;
    let found = extras
        .transcripts()
        .find(|f| {
            f.language.as_ref().is_some_and(|l| l.as_str() == language)
                && f.transcript_format()
                    .is_some_and(|t| t.extension() == extension)
        })
        .ok_or(AppError::NotFound { what: WHAT })?;
    let content_type = format!("{}; charset=utf-8", found.mime_type);
    stream_file(&state, found, &content_type, &headers).await
}

#[tracing::instrument(skip_all, fields(%file))]
async fn serve_chapters(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    const WHAT: &str = "chapters";
    let id = file
        .strip_suffix(".json")
        .ok_or(AppError::NotFound { what: WHAT })?;
    let episode = published(&state, id, WHAT).await?;
    let extras = extras_of(&state, &episode).await?;
    if let Some(uploaded) = extras.uploaded_chapters() {
        return stream_file(&state, uploaded, chapters::MIME_TYPE, &headers).await;
    }
    let moments: Vec<Moment> = state
        .db
        .episode_documents(episode.id)
        .await?
        .into_iter()
        .filter_map(|linked| {
            let d = linked.document;
            Some(Moment {
                at_ms: linked.at_ms?,
                title: match &d.number {
                    Some(number) => format!("{number}: {}", d.title),
                    None => d.title,
                },
                url: d.url,
            })
        })
        .collect();
    let built = chapters::from_moments(&episode.title, &moments)
        .ok_or(AppError::NotFound { what: WHAT })?;
    let body = serde_json::to_vec_pretty(&built).map_err(anyhow::Error::from)?;
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&body)[..16]));
    Ok(respond(
        &headers,
        &etag,
        chapters::MIME_TYPE,
        body.len() as u64,
        || Body::from(body),
    ))
}

/// Streams a stored episode file, or 304 when the client holds it already.
async fn stream_file(
    app: &App,
    file: &EpisodeFile,
    content_type: &str,
    headers: &HeaderMap,
) -> Result<Response, AppError> {
    let etag = format!("\"{}\"", file.sha256);
    if fresh(headers, &etag) {
        return Ok(respond(
            headers,
            &etag,
            content_type,
            file.size_bytes,
            Body::empty,
        ));
    }
    let bytes = app.store.get(&file.key, None).await?;
    Ok(respond(
        headers,
        &etag,
        content_type,
        file.size_bytes,
        || Body::from_stream(bytes),
    ))
}

fn fresh(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|t| t.trim() == "*" || t.trim().trim_start_matches("W/") == etag)
        })
}

/// 200 with `body()`, or 304 when `If-None-Match` names `etag`. Readable from other sites'
/// players (`Access-Control-Allow-Origin: *`), as the namespace's transcript spec asks.
fn respond(
    headers: &HeaderMap,
    etag: &str,
    content_type: &str,
    length: u64,
    body: impl FnOnce() -> Body,
) -> Response {
    let not_modified = fresh(headers, etag);
    let mut res = if not_modified {
        Response::new(Body::empty())
    } else {
        Response::new(body())
    };
    let h = res.headers_mut();
    let value = |s: &str| HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static(""));
    h.insert(header::ETAG, value(etag));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    if not_modified {
        *res.status_mut() = StatusCode::NOT_MODIFIED;
    } else {
        h.insert(header::CONTENT_TYPE, value(content_type));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    res
}
