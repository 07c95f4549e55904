//! `SiteRepo` on `AnyDb`: the one row of site settings (`id = 1`), written with an upsert so
//! that the first save creates it.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;

use super::{
    AnyDb, Writer,
    rows::{from_json, get, json, ms, time},
};
use crate::{
    db::{DbError, SiteRepo},
    domain::{
        ShowArtwork,
        site::{Colour, Site},
    },
};

fn site_from(row: &AnyRow) -> Result<Site, DbError> {
    // As checked when saved (a later, stricter rule does not hide a stored site).
    let colour = |raw: String| Ok::<_, DbError>(Colour::from_stored(raw));
    let header: Option<String> = get(row, "header_colour")?;
    let logo: Option<String> = get(row, "logo")?;
    Ok(Site {
        name: get(row, "name")?,
        address: get(row, "address")?,
        ppid_contact: get(row, "ppid_contact")?,
        accent: colour(get(row, "accent_colour")?)?,
        header: header.map(colour).transpose()?,
        logo: logo.map(|l| from_json("logo", &l)).transpose()?,
        updated_at: Some(time(get(row, "updated_at")?)?),
    })
}

const UPSERT: &str = "INSERT INTO site_settings \
     (id, name, address, ppid_contact, accent_colour, header_colour, logo, updated_at) \
     VALUES (1, $1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET ";

#[async_trait::async_trait]
impl SiteRepo for AnyDb {
    #[tracing::instrument(skip_all)]
    async fn site(&self) -> Result<Option<Site>, DbError> {
        sqlx::query("SELECT * FROM site_settings WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(site_from)
            .transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn save_site(&self, site: &Site) -> Result<(), DbError> {
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{UPSERT} name = excluded.name, address = excluded.address, \
             ppid_contact = excluded.ppid_contact, accent_colour = excluded.accent_colour, \
             header_colour = excluded.header_colour, updated_at = excluded.updated_at"
        )))
        .bind(&site.name)
        .bind(&site.address)
        .bind(&site.ppid_contact)
        .bind(site.accent.as_str())
        .bind(site.header.as_ref().map(|c| c.as_str().to_owned()))
        .bind(site.logo.as_ref().map(json).transpose()?)
        .bind(ms(site.updated_at.unwrap_or_else(Utc::now)))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        w.committed();
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn set_site_logo(
        &self,
        logo: &ShowArtwork,
        defaults: &Site,
        now: DateTime<Utc>,
    ) -> Result<(Site, Option<ShowArtwork>), DbError> {
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        let before = sqlx::query("SELECT * FROM site_settings WHERE id = 1")
            .fetch_optional(&mut *tx)
            .await?
            .as_ref()
            .map(site_from)
            .transpose()?;
        let after = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{UPSERT} logo = excluded.logo, updated_at = excluded.updated_at RETURNING *"
        )))
        .bind(&defaults.name)
        .bind(&defaults.address)
        .bind(&defaults.ppid_contact)
        .bind(defaults.accent.as_str())
        .bind(defaults.header.as_ref().map(|c| c.as_str().to_owned()))
        .bind(json(logo)?)
        .bind(ms(now))
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        w.committed();
        Ok((site_from(&after)?, before.and_then(|b| b.logo)))
    }
}
