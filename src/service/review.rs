//! Review before publication (issue 23): a draft is submitted to its show's editors, who
//! publish it, schedule it (`episodes::publish`, `episodes::update`: either ends its review) or
//! send it back with a comment its author reads. Each step is in the audit trail with whoever
//! took it. Who may take which step is the edges' check (`domain::access`).

use chrono::{SubsecRound as _, Utc};

use super::{Ctx, Error};
use crate::{
    db::DbError,
    domain::{
        Episode, EpisodeStatus,
        audit::{Actor, AuditEntry, Entity},
        review::{Review, ReviewState, parse_return_comment},
    },
};

fn not_a_draft(status: EpisodeStatus) -> Error {
    let (id, en) = match status {
        EpisodeStatus::InReview => ("sudah menunggu tinjauan", "is already in review"),
        EpisodeStatus::Scheduled => ("sudah dijadwalkan", "is already scheduled"),
        EpisodeStatus::Published => ("sudah terbit", "is already published"),
        EpisodeStatus::Withdrawn => ("sudah ditarik", "has been withdrawn"),
        EpisodeStatus::Draft => ("bukan draf lagi", "is no longer a draft"),
    };
    Error::conflict(
        "episode-not-a-draft",
        format!("Hanya draf yang dapat diajukan untuk ditinjau: episode ini {id}"),
        format!("Only a draft can be submitted for review: this episode {en}"),
    )
}

fn not_in_review() -> Error {
    Error::conflict(
        "episode-not-in-review",
        "Episode ini tidak sedang menunggu tinjauan",
        "This episode is not in review",
    )
}

/// The review written, or the conflict of an episode published or withdrawn meanwhile (the
/// write only touches an unpublished episode).
async fn write(ctx: &Ctx, episode: &Episode, review: &Review) -> Result<Episode, Error> {
    ctx.db
        .set_review(episode.id, Some(review), review.at)
        .await
        .map_err(|e| match e {
            DbError::NotFound => not_a_draft(EpisodeStatus::Published),
            other => other.into(),
        })
}

/// Puts a draft (new, or returned from review) in the review queue of its show's editors.
#[tracing::instrument(skip_all, fields(id = %episode.id))]
pub async fn submit_for_review(
    ctx: &Ctx,
    actor: &Actor,
    episode: Episode,
) -> Result<Episode, Error> {
    let now = Utc::now().trunc_subsecs(3);
    let status = episode.status(now);
    if status != EpisodeStatus::Draft {
        return Err(not_a_draft(status));
    }
    let review = Review {
        state: ReviewState::InReview,
        by: actor.name.clone(),
        at: now,
        comment: None,
    };
    let episode = write(ctx, &episode, &review).await?;
    ctx.audit(AuditEntry::new(
        Entity::Episode,
        episode.id,
        "submitted-for-review",
        actor,
    ))
    .await;
    tracing::info!(episode = %episode.id, "submitted for review");
    Ok(episode)
}

/// Sends an episode in review back to its author with `comment` (required: the author reads
/// it). It is a draft again, which its author may correct and submit again.
#[tracing::instrument(skip_all, fields(id = %episode.id))]
pub async fn return_to_author(
    ctx: &Ctx,
    actor: &Actor,
    episode: Episode,
    comment: &str,
) -> Result<Episode, Error> {
    let now = Utc::now().trunc_subsecs(3);
    if episode.status(now) != EpisodeStatus::InReview {
        return Err(not_in_review());
    }
    let comment = parse_return_comment(comment)?;
    let review = Review {
        state: ReviewState::Returned,
        by: actor.name.clone(),
        at: now,
        comment: Some(comment.clone()),
    };
    let episode = write(ctx, &episode, &review).await?;
    ctx.audit(
        AuditEntry::new(Entity::Episode, episode.id, "returned", actor)
            .with_changes(serde_json::json!({ "comment": comment })),
    )
    .await;
    tracing::info!(episode = %episode.id, "returned to its author");
    Ok(episode)
}
