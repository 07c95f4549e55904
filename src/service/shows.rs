//! Shows: create, change, give a cover.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};

use super::{Ctx, Error, or_not_found};
use crate::{
    db::DbError,
    domain::{
        Show, ShowArtwork, ShowPatch, Slug,
        audit::{self, Actor, AuditEntry, Entity},
    },
    media::probe::image_header,
    storage::{
        ObjectKey,
        replace::{Named, Source, put_then_record},
    },
};

/// Apple's bounds for `itunes:image`, in pixels.
pub const COVER_MIN_SIDE: u32 = 1400;
pub const COVER_MAX_SIDE: u32 = 3000;
/// A 3000-pixel JPEG of a photo is a few megabytes; anything far above is not a cover.
pub const COVER_MAX_BYTES: usize = 10 * 1024 * 1024;

/// The show a path names; a slug that cannot exist is simply not found.
pub async fn load(ctx: &Ctx, raw_slug: &str) -> Result<Show, Error> {
    let slug = Slug::parse(raw_slug).map_err(|_| Error::NotFound { what: "show" })?;
    ctx.db
        .show_by_slug(&slug)
        .await
        .map_err(or_not_found("show"))
}

/// Stores a show parsed by `NewShow::parse`; the audit trail records `actor` (with `source`, an
/// import's origin, when given).
#[tracing::instrument(skip_all, fields(slug = %show.slug))]
pub async fn create(
    ctx: &Ctx,
    actor: &Actor,
    show: Show,
    source: Option<&str>,
) -> Result<Show, Error> {
    ctx.db.create_show(&show).await.map_err(|e| match e {
        DbError::Conflict(_) => slug_taken(&show.slug),
        other => other.into(),
    })?;
    ctx.feeds.changed(show.id).await;
    ctx.audit(
        AuditEntry::new(Entity::Show, show.id, "created", actor)
            .with_changes(audit::created_from(&show, source)),
    )
    .await;
    Ok(show)
}

/// Changes the fields `patch` gives; a new slug keeps the old feed URL answering 301.
#[tracing::instrument(skip_all, fields(slug = %old.slug))]
pub async fn update(ctx: &Ctx, actor: &Actor, old: Show, patch: ShowPatch) -> Result<Show, Error> {
    let now = Utc::now();
    let checked = patch.applied_to(&old).parse(&ctx.urls, now)?;
    let renamed = checked.slug != old.slug;
    let show = Show {
        id: old.id,
        podcast_guid: old.podcast_guid,
        artwork: old.artwork.clone(),
        renamed_at: if renamed { Some(now) } else { old.renamed_at },
        created_at: old.created_at,
        ..checked
    };
    ctx.db
        .update_show(&show, &old.slug)
        .await
        .map_err(|e| match e {
            DbError::Conflict(_) => slug_taken(&show.slug),
            other => other.into(),
        })?;
    ctx.feeds.changed(show.id).await;
    ctx.audit(
        AuditEntry::new(Entity::Show, show.id, "updated", actor)
            .with_changes(audit::diff(&old, &show)),
    )
    .await;
    if renamed {
        tracing::info!(from = %old.slug, to = %show.slug, "show renamed");
    }
    Ok(show)
}

fn slug_taken(slug: &Slug) -> Error {
    Error::conflict(
        "show-slug-taken",
        format!("Slug '{slug}' sudah dipakai acara lain"),
        format!("The slug '{slug}' is already used by another show"),
    )
}

/// Checks `bytes` against Apple's rules for a cover; every refusal names the rule in both
/// languages.
pub fn check_cover(bytes: &[u8]) -> Result<(&'static str, u32, u32), Error> {
    let header = image_header(bytes)
        .filter(|h| matches!(h.mime_type, "image/jpeg" | "image/png"))
        .ok_or_else(|| Error::UnsupportedType {
            code: "unsupported-artwork",
            msg: crate::domain::Msg::new(
                "Sampul harus gambar JPEG atau PNG",
                "The cover must be a JPEG or PNG image",
            ),
        })?;
    let (Some(width), Some(height)) = (header.width, header.height) else {
        return Err(Error::invalid(
            "invalid-artwork",
            "Ukuran gambar sampul tidak terbaca",
            "The cover image's size cannot be read",
        ));
    };
    if width != height || !(COVER_MIN_SIDE..=COVER_MAX_SIDE).contains(&width) {
        return Err(Error::invalid(
            "invalid-artwork-size",
            format!(
                "Sampul harus persegi, {COVER_MIN_SIDE}–{COVER_MAX_SIDE} piksel (syarat Apple \
                 Podcasts); gambar ini {width}×{height}"
            ),
            format!(
                "The cover must be square, {COVER_MIN_SIDE}–{COVER_MAX_SIDE} pixels (Apple \
                 Podcasts' rule); this image is {width}×{height}"
            ),
        ));
    }
    Ok((header.mime_type, width, height))
}

/// `image` checked as a cover (`check_cover`), described, and the key `key(sha256, extension)`
/// stores it under.
pub(super) fn checked_artwork(
    image: &[u8],
    key: impl FnOnce(&str, &str) -> ObjectKey,
) -> Result<(ShowArtwork, ObjectKey), Error> {
    let (mime_type, width, height) = check_cover(image)?;
    let sha256 = hex::encode(Sha256::digest(image));
    let extension = if mime_type == "image/png" {
        "png"
    } else {
        "jpg"
    };
    let key = key(&sha256, extension);
    let artwork = ShowArtwork {
        key: key.as_str().to_owned(),
        mime_type: mime_type.to_owned(),
        width,
        height,
        size_bytes: image.len() as u64,
        sha256,
    };
    Ok((artwork, key))
}

/// Checks `image` and makes it `show`'s cover (see `storage::replace`): on any failure nothing
/// new is left behind.
#[tracing::instrument(skip_all, fields(slug = %show.slug))]
pub async fn set_cover(
    ctx: &Ctx,
    actor: &Actor,
    show: Show,
    image: Bytes,
    now: DateTime<Utc>,
) -> Result<Show, Error> {
    let (artwork, key) = checked_artwork(&image, |sha256, extension| {
        ObjectKey::for_artwork(show.id.0, sha256, extension)
    })?;
    let mime_type = artwork.mime_type.clone();
    if show.artwork.as_ref().is_some_and(|a| a.key == artwork.key) {
        // The same image again: nothing to store.
        return Ok(show);
    }
    let before = show.artwork.as_ref().map(|a| a.sha256.clone());
    let show = put_then_record(
        ctx.store.as_ref(),
        &key,
        Named::ByContent,
        &mime_type,
        Source::Bytes(image),
        || async {
            let (show, replaced) = ctx.db.set_show_artwork(show.id, &artwork, now).await?;
            Ok::<_, DbError>((show, replaced.map(|old| ObjectKey::from_stored(old.key))))
        },
    )
    .await?;
    ctx.feeds.changed(show.id).await;
    ctx.audit(
        AuditEntry::new(Entity::Show, show.id, "artwork-set", actor).with_changes(
            serde_json::json!({"artwork_sha256": {"from": before, "to": artwork.sha256}}),
        ),
    )
    .await;
    Ok(show)
}
