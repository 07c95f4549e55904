//! `/studio/episodes/{id}`: the episode editor. `GET` shows its fields, the player, the preview
//! of the show notes, the reviewer's comment and the history; `POST` is its one form, whose
//! button says what to do: `draft` saves, `review` saves and submits for review, `publish`
//! saves and publishes now, `schedule` saves with the publication time given in WIB, `return`
//! sends it back to its author with the comment. Each calls the operations the API calls
//! (`service::episodes`, `service::review`) after the same permission check; the buttons shown
//! are those the user's role allows. A refusal of the operation shows the page again with the
//! values posted and the reason in the page's language.

use axum::{
    Router,
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::Deserialize;

use super::{PageError, PageForm, StudioUser, episode_files, page, see_other};
use crate::{
    app::AppState,
    domain::{
        Enclosure, Episode, EpisodeMeta, EpisodePatch, EpisodeStatus, EpisodeType, Msg, Show,
        access::Action, audit::Entity,
    },
    http::{
        error::UiLang,
        templates::{
            studio::{Notice, msg},
            studio_editor_files::EditorFiles,
            studio_episodes::{self as view, Buttons, EditorPage, EditorValues, wib_zone},
            t,
        },
    },
    service::{self, episodes, review},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/studio/episodes/{id}", get(show).post(act))
        .route("/studio/episodes/{id}/documents", post(link))
}

/// What the form's button asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Draft,
    Review,
    Publish,
    Schedule,
    Return,
}

impl Step {
    fn parse(s: &str) -> Option<Step> {
        Some(match s {
            "draft" => Step::Draft,
            "review" => Step::Review,
            "publish" => Step::Publish,
            "schedule" => Step::Schedule,
            "return" => Step::Return,
            _ => return None,
        })
    }

    fn key(self) -> &'static str {
        match self {
            Step::Draft => "draft",
            Step::Review => "review",
            Step::Publish => "publish",
            Step::Schedule => "schedule",
            Step::Return => "return",
        }
    }

    /// What the page says once it is done.
    fn done(self, lang: UiLang) -> &'static str {
        match self {
            Step::Draft => t(lang, "Tersimpan.", "Saved."),
            Step::Review => t(
                lang,
                "Tersimpan dan diajukan untuk ditinjau.",
                "Saved and submitted for review.",
            ),
            Step::Publish => t(lang, "Diterbitkan.", "Published."),
            Step::Schedule => t(lang, "Dijadwalkan.", "Scheduled."),
            Step::Return => t(lang, "Dikembalikan ke penulis.", "Returned to the author."),
        }
    }
}

/// The buttons the user's role allows on an episode in `status`.
fn buttons(user: &StudioUser, show: &Show, status: EpisodeStatus) -> Buttons {
    let may = |a| user.access.may(show.id, a);
    let unpublished = matches!(status, EpisodeStatus::Draft | EpisodeStatus::InReview);
    let publishes = may(Action::Publish);
    Buttons {
        save: may(Action::edit_episode(status)),
        review: status == EpisodeStatus::Draft
            && may(Action::SubmitForReview)
            && may(Action::EditDraft),
        publish: publishes && (unpublished || status == EpisodeStatus::Scheduled),
        schedule: publishes && (unpublished || status == EpisodeStatus::Scheduled),
        give_back: publishes && status == EpisodeStatus::InReview,
    }
}

/// The user's permission for `step` on an episode in `status`: the API's (the fields saved
/// with it need the right to change the episode).
fn require(
    user: &StudioUser,
    show: &Show,
    status: EpisodeStatus,
    step: Step,
) -> Result<(), PageError> {
    if step == Step::Return {
        return user.require(show.id, Action::Publish);
    }
    user.require(show.id, Action::edit_episode(status))?;
    match step {
        Step::Review => user.require(show.id, Action::SubmitForReview),
        Step::Publish | Step::Schedule => user.require(show.id, Action::Publish),
        Step::Draft | Step::Return => Ok(()),
    }
}

pub(super) fn values_of(episode: &Episode, show: &Show) -> EditorValues {
    let m = &episode.meta;
    // Unscheduled: the date proposed when the draft was made, if any; the time is the
    // scheduler's to give.
    let (date, time) = episode.publish_at.map_or_else(
        || {
            let proposed = m.proposed_date.map(|d| d.format("%Y-%m-%d").to_string());
            (proposed.unwrap_or_default(), String::new())
        },
        |at| {
            let local = at.with_timezone(&wib_zone());
            (
                local.format("%Y-%m-%d").to_string(),
                local.format("%H:%M").to_string(),
            )
        },
    );
    EditorValues {
        title: episode.title.clone(),
        description: episode.description.clone(),
        notes: m.content_html.clone().unwrap_or_default(),
        season: m.season.map(|n| n.to_string()).unwrap_or_default(),
        number: m.episode.map(|n| n.to_string()).unwrap_or_default(),
        episode_type: match m.episode_type {
            EpisodeType::Full => "full",
            EpisodeType::Trailer => "trailer",
            EpisodeType::Bonus => "bonus",
        }
        .to_owned(),
        slug: episode.slug.to_string(),
        explicit: m.explicit.unwrap_or(show.explicit),
        date,
        time,
        comment: String::new(),
    }
}

/// The editor's form as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EditorForm {
    action: String,
    title: String,
    description: String,
    notes: String,
    season: String,
    number: String,
    episode_type: String,
    slug: String,
    /// Present (`1`) when the box is ticked.
    explicit: Option<String>,
    date: String,
    time: String,
    comment: String,
}

impl EditorForm {
    fn values(&self) -> EditorValues {
        EditorValues {
            title: self.title.clone(),
            description: self.description.clone(),
            notes: self.notes.clone(),
            season: self.season.clone(),
            number: self.number.clone(),
            episode_type: self.episode_type.clone(),
            slug: self.slug.clone(),
            explicit: self.explicit.is_some(),
            date: self.date.clone(),
            time: self.time.clone(),
            comment: self.comment.clone(),
        }
    }
}

fn invalid(code: &'static str, id: &str, en: &str) -> service::Error {
    service::Error::invalid(code, id, en)
}

fn whole_number(
    raw: &str,
    code: &'static str,
    id: &str,
    en: &str,
) -> Result<Option<u32>, service::Error> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse().map(Some).map_err(|_| invalid(code, id, en))
}

/// The changes the form makes to `old` (`None`: none, so that saving an unchanged form writes
/// nothing and adds nothing to the history). The values' rules are the operation's.
fn patch_of(
    old: &Episode,
    show: &Show,
    form: &EditorForm,
) -> Result<Option<EpisodePatch>, service::Error> {
    let mut patch = EpisodePatch::default();
    let mut changed = false;
    if form.title.trim() != old.title {
        patch.title = Some(form.title.clone());
        changed = true;
    }
    if form.description.trim() != old.description {
        patch.description = Some(form.description.clone());
        changed = true;
    }
    if form.slug.trim() != old.slug.as_str() {
        patch.slug = Some(form.slug.clone());
        changed = true;
    }
    let mut meta: EpisodeMeta = old.meta.clone();
    meta.season = whole_number(
        &form.season,
        "invalid-season",
        "Musim harus berupa bilangan bulat",
        "The season must be a whole number",
    )?;
    meta.episode = whole_number(
        &form.number,
        "invalid-number",
        "Nomor episode harus berupa bilangan bulat",
        "The episode number must be a whole number",
    )?;
    meta.episode_type = match form.episode_type.as_str() {
        "" | "full" => EpisodeType::Full,
        "trailer" => EpisodeType::Trailer,
        "bonus" => EpisodeType::Bonus,
        _ => {
            return Err(invalid(
                "invalid-episode-type",
                "Jenis episode tidak dikenal",
                "Unknown episode type",
            ));
        }
    };
    // The episode's own mark only where it differs from its show's.
    let explicit = form.explicit.is_some();
    if explicit != old.meta.explicit.unwrap_or(show.explicit) {
        meta.explicit = (explicit != show.explicit).then_some(explicit);
    }
    let notes = form.notes.trim();
    if notes != old.meta.content_html.as_deref().unwrap_or_default() {
        meta.content_html = Some(notes.to_owned()).filter(|n| !n.is_empty());
    }
    if meta != old.meta {
        patch.meta = Some(meta);
        changed = true;
    }
    Ok(changed.then_some(patch))
}

/// The schedule's date and time, read in WIB.
fn schedule_of(form: &EditorForm, now: DateTime<Utc>) -> Result<DateTime<Utc>, service::Error> {
    let date = NaiveDate::parse_from_str(form.date.trim(), "%Y-%m-%d");
    let time = NaiveTime::parse_from_str(form.time.trim(), "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(form.time.trim(), "%H:%M:%S"));
    let (Ok(date), Ok(time)) = (date, time) else {
        return Err(invalid(
            "invalid-schedule",
            "Isi tanggal dan jam terbit (WIB)",
            "Give the publication date and time (WIB)",
        ));
    };
    let at = date
        .and_time(time)
        .and_local_timezone(wib_zone())
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| invalid("invalid-schedule", "Waktu tidak valid", "Invalid time"))?;
    if at <= now {
        return Err(invalid(
            "invalid-schedule",
            "Jadwal terbit harus di masa depan; untuk terbit sekarang pilih Terbitkan",
            "The schedule must be in the future; to publish now, choose Publish",
        ));
    }
    Ok(at)
}

/// Does `step` to `episode` through the operations.
async fn perform(
    state: &AppState,
    user: &StudioUser,
    episode: Episode,
    show: &Show,
    form: &EditorForm,
    step: Step,
) -> Result<(), service::Error> {
    let ctx = &state.ctx;
    let actor = user.actor();
    if step == Step::Return {
        review::return_to_author(ctx, &actor, episode, &form.comment).await?;
        return Ok(());
    }
    let mut patch = patch_of(&episode, show, form)?;
    if step == Step::Schedule {
        let at = schedule_of(form, Utc::now())?;
        patch.get_or_insert_with(EpisodePatch::default).publish_at = Some(Some(at));
    }
    let episode = match patch {
        Some(patch) => episodes::update(ctx, &actor, episode, patch).await?,
        None => episode,
    };
    match step {
        Step::Review => {
            review::submit_for_review(ctx, &actor, episode).await?;
        }
        Step::Publish => {
            episodes::publish(ctx, &actor, episode).await?;
        }
        Step::Draft | Step::Schedule | Step::Return => {}
    }
    Ok(())
}

pub(super) async fn render(
    state: &AppState,
    user: &StudioUser,
    episode: &Episode,
    show: &Show,
    values: &EditorValues,
    notice: Option<(Notice, String)>,
    status_code: StatusCode,
) -> Result<Response, PageError> {
    let lang = user.lang;
    let db = state.ctx.db.as_ref();
    let failed = |e: crate::db::DbError| PageError::op(lang, e.into());
    let media = db.media(episode.media_id).await.map_err(failed)?;
    let mut history = db
        .audit_trail(Entity::Episode, &episode.id.to_string())
        .await
        .map_err(failed)?;
    history.reverse();
    let documents = db.episode_documents(episode.id).await.map_err(failed)?;
    let registry = db.list_documents(None).await.map_err(failed)?;
    // The sound check and the waveform, once analysed; the page never fails on them.
    let quality = service::quality::of_media(&state.ctx, media.id)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, media = %media.id, "sound check not shown");
            service::quality::MediaQuality::pending()
        });
    let extras = service::episode_files::extras_of(&state.ctx, episode)
        .await
        .map_err(|e| PageError::op(lang, e))?;
    let now = Utc::now();
    let status = episode.status(now);
    let urls = &state.ctx.urls;
    let may_edit = user.access.may(show.id, Action::edit_episode(status));
    let feed_item = crate::feed::item_preview(
        show,
        episode,
        &Enclosure::from(&media),
        &extras,
        urls,
        episode.publish_at.unwrap_or(now),
    );
    let markup = view::editor(
        &user.chrome(),
        &EditorPage {
            episode,
            show,
            status,
            values,
            buttons: buttons(user, show, status),
            media_url: urls.media(media.id, &media.info.extension),
            video: media.info.video.is_some(),
            page_url: urls.episode_page(&show.slug, &episode.slug),
            history: &history,
            notice,
            waveform_url: quality
                .record
                .as_ref()
                .map(|_| urls.waveform(media.id, "waveform-overview.json")),
            duration_ms: media.info.duration_ms,
            quality: &quality,
            documents: &documents,
            registry: &registry,
            may_link: may_edit,
            files: EditorFiles {
                episode: episode.id,
                media: &media,
                extras: &extras,
                feed_item,
                cover_url: episode.artwork.as_ref().map(|a| {
                    format!(
                        "/studio/episodes/{}/cover?v={}",
                        episode.id,
                        &a.sha256[..16.min(a.sha256.len())]
                    )
                }),
                show_cover_url: show.artwork.as_ref().map(|a| urls.artwork(show.id, a)),
                show_language: show.language.to_string(),
                may_edit,
                csrf: &user.csrf,
            },
        },
    );
    Ok(page(state, status_code, lang, markup))
}

/// The episode and its show, if the user may see the show's unpublished episodes.
pub(super) async fn load(
    state: &AppState,
    user: &StudioUser,
    id: &str,
) -> Result<(Episode, Show), PageError> {
    let lang = user.lang;
    let episode = episodes::load(&state.ctx, id)
        .await
        .map_err(|e| PageError::op(lang, e))?;
    user.require(episode.show_id, Action::ReadUnpublished)?;
    let show = state
        .ctx
        .db
        .show(episode.show_id)
        .await
        .map_err(|e| PageError::op(lang, e.into()))?;
    Ok((episode, show))
}

#[tracing::instrument(skip_all, fields(%id))]
async fn show(
    State(state): State<AppState>,
    user: StudioUser,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let (episode, show) = load(&state, &user, &id).await?;
    let done = query.as_deref().and_then(|q| q.strip_prefix("done="));
    let done = match done {
        Some("link") => Some(t(user.lang, "Dokumen ditautkan.", "Document linked.")),
        Some(key) if episode_files::done(key, user.lang).is_some() => {
            episode_files::done(key, user.lang)
        }
        other => other.and_then(Step::parse).map(|s| s.done(user.lang)),
    }
    .map(|text| (Notice::Done, text.to_owned()));
    let values = values_of(&episode, &show);
    render(
        &state,
        &user,
        &episode,
        &show,
        &values,
        done,
        StatusCode::OK,
    )
    .await
}

#[tracing::instrument(skip_all, fields(%id))]
async fn act(
    State(state): State<AppState>,
    user: StudioUser,
    Path(id): Path<String>,
    PageForm(form): PageForm<EditorForm>,
) -> Result<Response, PageError> {
    let lang = user.lang;
    let (episode, show) = load(&state, &user, &id).await?;
    let Some(step) = Step::parse(&form.action) else {
        return Err(PageError::bad_form(
            lang,
            Msg::new("Tindakan tidak dikenal", "Unknown action"),
        ));
    };
    require(&user, &show, episode.status(Utc::now()), step)?;
    match perform(&state, &user, episode, &show, &form, step).await {
        Ok(()) => Ok(see_other(&format!(
            "/studio/episodes/{id}?done={}",
            step.key()
        ))),
        Err(
            e @ (service::Error::Invalid { .. }
            | service::Error::Conflict { .. }
            | service::Error::NotFound { .. }),
        ) => {
            let status_code = match &e {
                service::Error::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                service::Error::NotFound { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::CONFLICT,
            };
            let text = msg(lang, &e.message()).to_owned();
            // The page again, as it now stands, with what was posted.
            let (episode, show) = load(&state, &user, &id).await?;
            let values = form.values();
            render(
                &state,
                &user,
                &episode,
                &show,
                &values,
                Some((Notice::Error, text)),
                status_code,
            )
            .await
        }
        Err(e) => Err(PageError::op(lang, e)),
    }
}

/// The form linking a document at a moment of the recording.
#[derive(Debug, Deserialize)]
struct LinkForm {
    document_id: String,
    /// `1:35`, `1:02:03` or seconds; empty: the whole briefing.
    #[serde(default)]
    at: String,
    #[serde(default)]
    note: String,
}

/// `POST /studio/episodes/{id}/documents`: links a document at the moment typed or taken from
/// the player ("use the player's time"), through the operation the API's link calls, after the
/// same permission check; back to the editor, or the editor again with the reason.
#[tracing::instrument(skip_all, fields(%id))]
async fn link(
    State(state): State<AppState>,
    user: StudioUser,
    Path(id): Path<String>,
    PageForm(form): PageForm<LinkForm>,
) -> Result<Response, PageError> {
    let lang = user.lang;
    let (episode, show) = load(&state, &user, &id).await?;
    user.require(show.id, Action::edit_episode(episode.status(Utc::now())))?;
    let at = form.at.trim();
    let at_ms = if at.is_empty() {
        Ok(None)
    } else {
        crate::domain::citation::parse_clock(at)
            .map(Some)
            .ok_or_else(|| {
                service::Error::invalid(
                    "invalid-moment",
                    format!("Saat '{at}' tidak terbaca: tulis seperti 1:35 atau 1:02:03"),
                    format!("The moment '{at}' cannot be read: write it as 1:35 or 1:02:03"),
                )
            })
    };
    let note = Some(form.note.trim().to_owned()).filter(|n| !n.is_empty());
    let linked = match at_ms {
        Ok(at_ms) => {
            episodes::link_document(
                &state.ctx,
                &user.actor(),
                &episode,
                form.document_id.trim(),
                at_ms,
                note,
                Utc::now(),
            )
            .await
        }
        Err(e) => Err(e),
    };
    match linked {
        Ok(_) => Ok(see_other(&format!("/studio/episodes/{id}?done=link"))),
        Err(e @ (service::Error::Invalid { .. } | service::Error::Conflict { .. })) => {
            let text = msg(lang, &e.message()).to_owned();
            let values = values_of(&episode, &show);
            render(
                &state,
                &user,
                &episode,
                &show,
                &values,
                Some((Notice::Error, text)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(PageError::op(lang, e)),
    }
}
