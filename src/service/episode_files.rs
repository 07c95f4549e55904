//! What an episode carries besides its recording: transcripts, chapters, other renditions.
//! Files are small and read whole (the edges bound them); each is stored with its row through
//! `storage::replace`.

use bytes::{Bytes, BytesMut};
use chrono::Utc;
use futures_util::StreamExt as _;
use sha2::{Digest as _, Sha256};

use super::{Ctx, Error, episodes::known_media, or_not_found};
use crate::{
    db::DbError,
    domain::{
        Episode, EpisodeExtras, EpisodeFile, EpisodeFileKind, Lang, MediaId, Msg,
        audit::{Actor, AuditEntry, Entity},
        bounds,
        chapters::{self, Chapters},
        transcript::{self, Cue},
    },
    storage::{
        ObjectKey,
        replace::{Named, Source, delete_unowned, put_then_record},
    },
};

/// A two-hour briefing's transcript is a few hundred kilobytes.
pub const MAX_TRANSCRIPT_BYTES: usize = 5 * 1024 * 1024;
pub const MAX_CHAPTERS_BYTES: usize = 1024 * 1024;

/// Checks `body` as a transcript of `episode`'s recording and makes it the episode's transcript
/// in `language`, replacing the one before; its cues become searchable with it.
#[tracing::instrument(skip_all, fields(id = %episode.id, %language))]
pub async fn set_transcript(
    ctx: &Ctx,
    actor: &Actor,
    episode: &Episode,
    language: Lang,
    body: Bytes,
) -> Result<EpisodeFile, Error> {
    let parsed = transcript::parse(&body).map_err(|msg| Error::Invalid {
        code: "invalid-transcript",
        msg,
    })?;
    let duration_ms = ctx.db.media(episode.media_id).await?.info.duration_ms;
    check_cues_fit(&parsed.cues, duration_ms)?;
    let label = format!("transcript-{language}");
    let file = store_file(
        ctx,
        episode,
        StoredFile {
            kind: EpisodeFileKind::Transcript,
            language: Some(language),
            label: &label,
            mime_type: parsed.format.mime_type(),
            extension: parsed.format.extension(),
        },
        body,
        Some(&parsed.cues),
    )
    .await?;
    tracing::info!(cues = parsed.cues.len(), "transcript stored");
    ctx.audit(
        AuditEntry::new(Entity::Episode, episode.id, "transcript-set", actor).with_changes(
            serde_json::json!({"language": file.language, "sha256": file.sha256, "type": file.mime_type}),
        ),
    )
    .await;
    Ok(file)
}

/// A cue may end a little after the recording (rounding); one that starts after it is for
/// another recording.
fn check_cues_fit(cues: &[Cue], duration_ms: u64) -> Result<(), Error> {
    let end_ms = bounds::recording_end_ms(duration_ms);
    if let Some(late) = cues
        .iter()
        .find(|c| c.start_ms > end_ms.saturating_add(1000))
    {
        let (at, end) = (late.start_ms as f64 / 1000.0, end_ms as f64 / 1000.0);
        return Err(Error::invalid(
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
    Ok(())
}

/// Whether the episode's uploaded chapters and transcripts fit a recording `duration_ms` long:
/// a corrected recording may be shorter than the one they were checked against.
pub async fn check_files_fit(ctx: &Ctx, episode: &Episode, duration_ms: u64) -> Result<(), Error> {
    let in_new_recording = |code: &'static str, msg: Msg| Error::Invalid {
        code,
        msg: Msg::new(
            format!(
                "Rekaman baru tidak memuat berkas episode yang ada: {}",
                msg.id
            ),
            format!(
                "The new recording does not hold the episode's existing files: {}",
                msg.en
            ),
        ),
    };
    for file in extras_of(ctx, episode).await?.files {
        let bytes = read_whole(ctx, &file).await?;
        match file.kind {
            EpisodeFileKind::Chapters => {
                chapters::parse(&bytes, duration_ms)
                    .map_err(|msg| in_new_recording("invalid-chapters", msg))?;
            }
            EpisodeFileKind::Transcript => {
                // Stored after `transcript::parse` accepted it: only the cues' times can fail.
                let Ok(parsed) = transcript::parse(&bytes) else {
                    continue;
                };
                check_cues_fit(&parsed.cues, duration_ms).map_err(|e| match e {
                    Error::Invalid { code, msg } => in_new_recording(code, msg),
                    other => other,
                })?;
            }
        }
    }
    Ok(())
}

/// A small stored file (bounded when it was uploaded), read whole.
async fn read_whole(ctx: &Ctx, file: &EpisodeFile) -> Result<Bytes, Error> {
    let mut stream = ctx.store.get(&file.key, None).await?;
    let mut out = BytesMut::new();
    while let Some(piece) = stream.next().await {
        out.extend_from_slice(&piece.map_err(anyhow::Error::from)?);
    }
    Ok(out.freeze())
}

/// Checks `body` as JSON chapters of `episode`'s recording and makes them the episode's
/// chapters, replacing the ones before.
#[tracing::instrument(skip_all, fields(id = %episode.id))]
pub async fn set_chapters(
    ctx: &Ctx,
    actor: &Actor,
    episode: &Episode,
    body: Bytes,
) -> Result<Chapters, Error> {
    let duration_ms = ctx.db.media(episode.media_id).await?.info.duration_ms;
    let parsed = chapters::parse(&body, duration_ms).map_err(|msg| Error::Invalid {
        code: "invalid-chapters",
        msg,
    })?;
    store_file(
        ctx,
        episode,
        StoredFile {
            kind: EpisodeFileKind::Chapters,
            language: None,
            label: "chapters",
            mime_type: chapters::MIME_TYPE,
            extension: "json",
        },
        body,
        None,
    )
    .await?;
    ctx.audit(
        AuditEntry::new(Entity::Episode, episode.id, "chapters-set", actor)
            .with_changes(serde_json::json!({"chapters": parsed.chapters.len()})),
    )
    .await;
    Ok(parsed)
}

/// What kind of file `store_file` stores, and how it is named.
struct StoredFile<'a> {
    kind: EpisodeFileKind,
    language: Option<Lang>,
    label: &'a str,
    mime_type: &'a str,
    extension: &'a str,
}

/// Stores `bytes` as the episode's file of that kind (and language), replacing the one before;
/// a transcript's `cues` become searchable with it.
async fn store_file(
    ctx: &Ctx,
    episode: &Episode,
    what: StoredFile<'_>,
    bytes: Bytes,
    cues: Option<&[Cue]>,
) -> Result<EpisodeFile, Error> {
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let key = ObjectKey::for_episode_file(episode.id.0, what.label, &sha256, what.extension);
    let file = EpisodeFile {
        episode_id: episode.id,
        kind: what.kind,
        language: what.language,
        mime_type: what.mime_type.to_owned(),
        key: key.clone(),
        size_bytes: bytes.len() as u64,
        sha256,
        created_at: Utc::now(),
    };
    put_then_record(
        ctx.store.as_ref(),
        &key,
        Named::ByContent,
        what.mime_type,
        Source::Bytes(bytes),
        || async {
            let replaced = match cues {
                Some(cues) => ctx.db.put_transcript(&file, cues).await,
                None => ctx.db.put_episode_file(&file).await,
            };
            match replaced {
                Ok(replaced) => Ok(((), replaced.map(|old| old.key))),
                Err(DbError::Conflict(_)) => Err(Error::conflict(
                    "concurrent-update",
                    "Berkas ini sedang diganti oleh permintaan lain; coba lagi",
                    "Another request is replacing this file; try again",
                )),
                Err(other) => Err(other.into()),
            }
        },
    )
    .await?;
    ctx.feeds.changed(episode.show_id).await;
    super::transparency::record(ctx, episode.id).await;
    Ok(file)
}

/// Removes the episode's transcript in `language`.
#[tracing::instrument(skip_all, fields(id = %episode.id, %language))]
pub async fn remove_transcript(
    ctx: &Ctx,
    actor: &Actor,
    episode: &Episode,
    language: &Lang,
) -> Result<(), Error> {
    remove_file(ctx, episode, EpisodeFileKind::Transcript, Some(language)).await?;
    ctx.audit(
        AuditEntry::new(Entity::Episode, episode.id, "transcript-removed", actor)
            .with_changes(serde_json::json!({"language": language})),
    )
    .await;
    Ok(())
}

/// Removes the episode's uploaded chapters (those built from its documents stay).
#[tracing::instrument(skip_all, fields(id = %episode.id))]
pub async fn remove_chapters(ctx: &Ctx, actor: &Actor, episode: &Episode) -> Result<(), Error> {
    remove_file(ctx, episode, EpisodeFileKind::Chapters, None).await?;
    ctx.audit(AuditEntry::new(
        Entity::Episode,
        episode.id,
        "chapters-removed",
        actor,
    ))
    .await;
    Ok(())
}

/// The row first, then the object: a crash between leaves an orphan for the reconciler.
async fn remove_file(
    ctx: &Ctx,
    episode: &Episode,
    kind: EpisodeFileKind,
    language: Option<&Lang>,
) -> Result<(), Error> {
    let what = match kind {
        EpisodeFileKind::Transcript => "transcript",
        EpisodeFileKind::Chapters => "chapters",
    };
    let file = ctx
        .db
        .delete_episode_file(episode.id, kind, language)
        .await
        .map_err(or_not_found(what))?;
    ctx.feeds.changed(episode.show_id).await;
    super::transparency::record(ctx, episode.id).await;
    delete_unowned(ctx.store.as_ref(), &file.key).await;
    Ok(())
}

/// Adds an uploaded media file as another rendition of the episode's recording.
#[tracing::instrument(skip_all, fields(id = %episode.id))]
pub async fn add_rendition(
    ctx: &Ctx,
    actor: &Actor,
    episode: &Episode,
    raw_media_id: &str,
    title: Option<&str>,
) -> Result<MediaId, Error> {
    let media = known_media(ctx, raw_media_id).await?;
    if media.id == episode.media_id {
        return Err(Error::invalid(
            "invalid-rendition",
            "Media ini sudah menjadi rekaman utama episode",
            "This media is already the episode's main recording",
        ));
    }
    let title = title.map(str::trim).filter(|t| !t.is_empty());
    if let Some(title) = title {
        bounds::check_chars("invalid-title", "title", title, bounds::MAX_TITLE_CHARS)?;
    }
    ctx.db
        .add_rendition(episode.id, media.id, title, Utc::now())
        .await
        .map_err(|e| match e {
            DbError::Conflict(_) => Error::conflict(
                "rendition-exists",
                "Media ini sudah menjadi versi lain episode ini",
                "This media is already a rendition of this episode",
            ),
            other => other.into(),
        })?;
    ctx.feeds.changed(episode.show_id).await;
    super::transparency::record(ctx, episode.id).await;
    ctx.audit(
        AuditEntry::new(Entity::Episode, episode.id, "rendition-added", actor)
            .with_changes(serde_json::json!({"media_id": media.id, "title": title})),
    )
    .await;
    Ok(media.id)
}

#[tracing::instrument(skip_all, fields(id = %episode.id))]
pub async fn remove_rendition(
    ctx: &Ctx,
    actor: &Actor,
    episode: &Episode,
    raw_media_id: &str,
) -> Result<(), Error> {
    let media_id: MediaId = raw_media_id
        .parse()
        .map_err(|_| Error::NotFound { what: "rendition" })?;
    ctx.db
        .remove_rendition(episode.id, media_id)
        .await
        .map_err(or_not_found("rendition"))?;
    ctx.feeds.changed(episode.show_id).await;
    super::transparency::record(ctx, episode.id).await;
    ctx.audit(
        AuditEntry::new(Entity::Episode, episode.id, "rendition-removed", actor)
            .with_changes(serde_json::json!({"media_id": media_id})),
    )
    .await;
    Ok(())
}

/// The episode's transcripts, chapters and renditions.
pub async fn extras_of(ctx: &Ctx, episode: &Episode) -> Result<EpisodeExtras, Error> {
    Ok(ctx
        .db
        .episode_extras(episode.show_id, Some(episode.id))
        .await?
        .remove(&episode.id)
        .unwrap_or_default())
}
