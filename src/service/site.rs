//! The office's site settings (issue 23): read through a small in-memory cache, since every
//! public page carries them, changed by an admin (`update`, `set_logo`), each change audited.
//!
//! Instances share nothing but the database: a change made here is seen here at once (the
//! cache is dropped), on PostgreSQL by the other instances at once too (the feed notifier's
//! `site_changed`: NOTIFY, as feed changes go round), and in any case within
//! [`REVALIDATE_AFTER`], when a copy is read again — one small query per instance every few
//! seconds at most, whatever the traffic.

use std::{
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};

use super::{Ctx, Error};
use crate::{
    db::{Db, DbError},
    domain::{
        Msg, ShowArtwork,
        audit::{self, Actor, AuditEntry, Entity},
        site::{Site, SiteForm},
    },
    media::probe::image_header,
    storage::{
        ObjectKey,
        replace::{Named, Source, put_then_record},
    },
};

/// How long another instance may serve the settings it read before a change made elsewhere.
pub const REVALIDATE_AFTER: Duration = Duration::from_secs(5);
/// A logo is a small picture in the header: a few hundred kilobytes at most.
pub const LOGO_MAX_BYTES: usize = 512 * 1024;
/// Its largest side, in pixels.
pub const LOGO_MAX_SIDE: u32 = 2000;

/// The settings as last read, and when.
type Held = Option<(Arc<Site>, Instant)>;

/// This instance's copy of the settings (`Ctx::site`); clones share it.
#[derive(Debug, Clone, Default)]
pub struct SiteCache(Arc<RwLock<Held>>);

impl SiteCache {
    /// The settings: this instance's copy while it is fresh, else read again. Should the
    /// database fail, the last copy (else the defaults) is served and the failure logged: a
    /// page is better with yesterday's footer than not at all.
    pub async fn get(&self, db: &dyn Db) -> Arc<Site> {
        let held = self
            .0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if let Some((site, at)) = &held
            && at.elapsed() < REVALIDATE_AFTER
        {
            return site.clone();
        }
        match db.site().await {
            Ok(site) => {
                let site = Arc::new(site.unwrap_or_default());
                *self
                    .0
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) =
                    Some((site.clone(), Instant::now()));
                site
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the site settings; serving the last ones");
                held.map_or_else(|| Arc::new(Site::default()), |(site, _)| site)
            }
        }
    }

    /// Drops this instance's copy: the next read goes to the database.
    pub fn invalidate(&self) {
        *self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }
}

/// The settings as stored, not cached (for the settings page and the operations).
pub async fn load(ctx: &Ctx) -> Result<Site, Error> {
    Ok(ctx.db.site().await?.unwrap_or_default())
}

/// Saves the text and colours of `form` (`SiteForm::parse`'s rules).
#[tracing::instrument(skip_all)]
pub async fn update(ctx: &Ctx, actor: &Actor, form: SiteForm) -> Result<Site, Error> {
    let old = load(ctx).await?;
    let site = form.parse(&old, Utc::now())?;
    ctx.db.save_site(&site).await?;
    ctx.site.invalidate();
    ctx.feeds.site_changed().await;
    ctx.audit(
        AuditEntry::new(Entity::Site, "site", "updated", actor)
            .with_changes(audit::diff(&old, &site)),
    )
    .await;
    Ok(site)
}

/// Checks `image` (a PNG or JPEG, no SVG: a drawing that can carry script; at most
/// [`LOGO_MAX_BYTES`] and [`LOGO_MAX_SIDE`] pixels a side) and makes it the logo (see
/// `storage::replace`): on any failure nothing new is left behind.
#[tracing::instrument(skip_all)]
pub async fn set_logo(
    ctx: &Ctx,
    actor: &Actor,
    image: Bytes,
    now: DateTime<Utc>,
) -> Result<Site, Error> {
    if image.len() > LOGO_MAX_BYTES {
        return Err(Error::TooLarge {
            limit: LOGO_MAX_BYTES as u64,
        });
    }
    let header = image_header(&image)
        .filter(|h| matches!(h.mime_type, "image/jpeg" | "image/png"))
        .ok_or_else(|| Error::UnsupportedType {
            code: "unsupported-logo",
            msg: Msg::new(
                "Logo harus gambar PNG atau JPEG (SVG tidak diterima)",
                "The logo must be a PNG or JPEG image (SVG is not accepted)",
            ),
        })?;
    let (Some(width), Some(height)) = (header.width, header.height) else {
        return Err(Error::invalid(
            "invalid-logo",
            "Ukuran gambar logo tidak terbaca",
            "The logo image's size cannot be read",
        ));
    };
    if width.max(height) > LOGO_MAX_SIDE || width == 0 || height == 0 {
        return Err(Error::invalid(
            "invalid-logo-size",
            format!(
                "Logo paling besar {LOGO_MAX_SIDE} piksel per sisi; gambar ini {width}×{height}"
            ),
            format!(
                "The logo is at most {LOGO_MAX_SIDE} pixels a side; this image is {width}×{height}"
            ),
        ));
    }
    let sha256 = hex::encode(Sha256::digest(&image));
    let logo = ShowArtwork {
        key: String::new(),
        mime_type: header.mime_type.to_owned(),
        width,
        height,
        size_bytes: image.len() as u64,
        sha256,
    };
    let key = ObjectKey::for_site_logo(&logo.sha256, logo.extension());
    let logo = ShowArtwork {
        key: key.as_str().to_owned(),
        ..logo
    };
    let old = load(ctx).await?;
    if old.logo.as_ref().is_some_and(|l| l.key == logo.key) {
        return Ok(old);
    }
    let site = put_then_record(
        ctx.store.as_ref(),
        &key,
        Named::ByContent,
        header.mime_type,
        Source::Bytes(image),
        || async {
            let (site, replaced) = ctx.db.set_site_logo(&logo, &old, now).await?;
            Ok::<_, DbError>((site, replaced.map(|l| ObjectKey::from_stored(l.key))))
        },
    )
    .await?;
    ctx.site.invalidate();
    ctx.feeds.site_changed().await;
    ctx.audit(
        AuditEntry::new(Entity::Site, "site", "logo-set", actor).with_changes(serde_json::json!({
            "logo_sha256": {"from": old.logo.map(|l| l.sha256), "to": logo.sha256}
        })),
    )
    .await;
    Ok(site)
}
