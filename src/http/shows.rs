//! Shows: `POST /api/v1/shows`, `GET /api/v1/shows`, `GET /api/v1/shows/{slug}`.

use axum::{
    Router,
    extract::{Path, State},
    http::{StatusCode, header},
    response::IntoResponse,
    routing::get,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Json, auth::Admin, or_not_found, require_slug, require_title};
use crate::{
    app::{App, AppState},
    audit::{self, AuditEntry, Entity},
    db::DbError,
    domain::{Lang, Show, ShowId, ShowMeta, Slug, Urls},
    error::{AppError, Msg},
    feed,
};

/// The Podcasting 2.0 namespace for `podcast:guid` (UUIDv5).
const PODCAST_GUID_NAMESPACE: Uuid = uuid::uuid!("ead4c236-bf58-58c6-a2c6-a6b28d128cb6");

/// Slugs whose feed address Siaran uses itself.
const RESERVED_SLUGS: [&str; 1] = ["opml"];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/shows", get(list).post(create))
        .route("/api/v1/shows/{slug}", get(show).patch(update))
}

#[derive(Debug, Deserialize)]
pub struct NewShow {
    pub slug: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_language")]
    pub language: String,
    #[serde(default)]
    pub author: String,
    #[serde(default)]
    pub email: String,
    #[serde(default = "default_category")]
    pub category: String,
    #[serde(default)]
    pub explicit: bool,
    /// Type, medium, block, complete, funding, license, persons, location...
    #[serde(default)]
    pub meta: ShowMeta,
}

/// `PATCH /api/v1/shows/{slug}`: the fields given change, the others stay as they are. The
/// `podcast:guid` never changes; a new slug keeps the old feed URL answering 301.
#[derive(Debug, Default, Deserialize)]
pub struct ShowPatch {
    pub slug: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub language: Option<String>,
    pub author: Option<String>,
    pub email: Option<String>,
    pub category: Option<String>,
    pub explicit: Option<bool>,
    pub meta: Option<ShowMeta>,
}

fn default_language() -> String {
    "id".into()
}

fn default_category() -> String {
    "Government".into()
}

/// A show as the API answers it: its fields and the URLs built from them.
#[derive(Debug, Serialize)]
pub struct ShowView {
    #[serde(flatten)]
    pub show: Show,
    pub feed_url: String,
    pub url: String,
    /// `null` until a cover is uploaded (`PUT /api/v1/shows/{slug}/artwork`).
    pub artwork: Option<ArtworkView>,
}

#[derive(Debug, Serialize)]
pub struct ArtworkView {
    pub url: String,
    pub mime_type: String,
    pub width: u32,
    pub height: u32,
    pub size_bytes: u64,
    pub sha256: String,
}

impl ShowView {
    pub fn new(show: Show, urls: &Urls) -> Self {
        ShowView {
            feed_url: urls.feed(&show.slug),
            url: urls.show_page(&show.slug),
            artwork: show.artwork.as_ref().map(|a| ArtworkView {
                url: urls.artwork(show.id, a),
                mime_type: a.mime_type.clone(),
                width: a.width,
                height: a.height,
                size_bytes: a.size_bytes,
                sha256: a.sha256.clone(),
            }),
            show,
        }
    }
}

/// Checks a new show's fields; every problem names its field in both languages.
pub fn validate(input: &NewShow, urls: &Urls, now: DateTime<Utc>) -> Result<Show, AppError> {
    let slug = require_slug(&input.slug)?;
    // `/feeds/opml.xml` lists every show: no show's feed may take its address.
    if RESERVED_SLUGS.contains(&slug.as_str()) {
        return Err(AppError::invalid(
            "invalid-slug",
            format!("slug '{slug}' dicadangkan untuk Siaran"),
            format!("the slug '{slug}' is reserved by Siaran"),
        ));
    }
    let title = require_title(&input.title)?;
    let language = Lang::parse(input.language.trim()).map_err(|en| {
        AppError::invalid(
            "invalid-language",
            format!("language harus berupa kode bahasa seperti 'id' atau 'en': {en}"),
            en,
        )
    })?;
    // Podcast directories show the author and contact the owner by this address.
    let author = input.author.trim().to_owned();
    if author.is_empty() {
        return Err(AppError::invalid(
            "invalid-author",
            "author tidak boleh kosong (nama instansi atau pejabat)",
            "author must not be empty (the office or official)",
        ));
    }
    let email = input.email.trim().to_owned();
    if !looks_like_email(&email) {
        return Err(AppError::invalid(
            "invalid-email",
            "email harus alamat surel pemilik acara yang sah",
            "email must be the show owner's valid address",
        ));
    }
    let category = input.category.trim().to_owned();
    if !feed::category_is_known(&category) {
        return Err(AppError::invalid(
            "invalid-category",
            format!(
                "category '{category}' tidak ada di daftar kategori Apple (contoh: 'Government', 'News > Politics')"
            ),
            format!(
                "category '{category}' is not in Apple's category list (e.g. 'Government', 'News > Politics')"
            ),
        ));
    }
    let feed_url = urls.feed(&slug);
    let without_scheme = feed_url
        .split_once("://")
        .map_or(feed_url.as_str(), |(_, rest)| rest)
        .trim_end_matches('/');
    Ok(Show {
        id: ShowId::new(),
        podcast_guid: Uuid::new_v5(&PODCAST_GUID_NAMESPACE, without_scheme.as_bytes()),
        slug,
        title,
        description: input.description.trim().to_owned(),
        language,
        author,
        email,
        category,
        explicit: input.explicit,
        artwork: None,
        renamed_at: None,
        meta: {
            input.meta.validate().map_err(|e| super::meta_error(&e))?;
            input.meta.clone()
        },
        created_at: now,
        updated_at: now,
    })
}

fn looks_like_email(s: &str) -> bool {
    s.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !s.contains(char::is_whitespace)
    })
}

#[tracing::instrument(skip_all)]
async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Json(input): Json<NewShow>,
) -> Result<impl IntoResponse, AppError> {
    let show = validate(&input, &state.urls, Utc::now())?;
    state.db.create_show(&show).await.map_err(|e| match e {
        DbError::Conflict(_) => slug_taken(&show.slug),
        other => other.into(),
    })?;
    state.feeds.changed(show.id).await;
    audit::record(
        &state,
        AuditEntry::new(Entity::Show, show.id, "created", &admin.actor)
            .with_changes(audit::created(&show)),
    )
    .await;
    let location = format!("/api/v1/shows/{}", show.slug);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(ShowView::new(show, &state.urls)),
    ))
}

#[tracing::instrument(skip_all, fields(%slug))]
async fn update(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
    Json(patch): Json<ShowPatch>,
) -> Result<Json<ShowView>, AppError> {
    let old = load_show(&state, &slug).await?;
    let input = NewShow {
        slug: patch.slug.unwrap_or_else(|| old.slug.to_string()),
        title: patch.title.unwrap_or_else(|| old.title.clone()),
        description: patch.description.unwrap_or_else(|| old.description.clone()),
        language: patch.language.unwrap_or_else(|| old.language.to_string()),
        author: patch.author.unwrap_or_else(|| old.author.clone()),
        email: patch.email.unwrap_or_else(|| old.email.clone()),
        category: patch.category.unwrap_or_else(|| old.category.clone()),
        explicit: patch.explicit.unwrap_or(old.explicit),
        meta: patch.meta.unwrap_or_else(|| old.meta.clone()),
    };
    let now = Utc::now();
    let checked = validate(&input, &state.urls, now)?;
    let renamed = checked.slug != old.slug;
    let show = Show {
        id: old.id,
        podcast_guid: old.podcast_guid,
        artwork: old.artwork.clone(),
        renamed_at: if renamed { Some(now) } else { old.renamed_at },
        created_at: old.created_at,
        ..checked
    };
    state
        .db
        .update_show(&show, &old.slug)
        .await
        .map_err(|e| match e {
            DbError::Conflict(_) => slug_taken(&show.slug),
            other => other.into(),
        })?;
    state.feeds.changed(show.id).await;
    audit::record(
        &state,
        AuditEntry::new(Entity::Show, show.id, "updated", &admin.actor)
            .with_changes(audit::diff(&old, &show)),
    )
    .await;
    if renamed {
        tracing::info!(from = %old.slug, to = %show.slug, "show renamed");
    }
    Ok(Json(ShowView::new(show, &state.urls)))
}

fn slug_taken(slug: &Slug) -> AppError {
    AppError::Conflict {
        code: "show-slug-taken",
        msg: Msg::new(
            format!("Slug '{slug}' sudah dipakai acara lain"),
            format!("The slug '{slug}' is already used by another show"),
        ),
    }
}

#[tracing::instrument(skip_all)]
async fn list(State(state): State<AppState>) -> Result<Json<Vec<ShowView>>, AppError> {
    let shows = state.db.list_shows().await?;
    Ok(Json(
        shows
            .into_iter()
            .map(|s| ShowView::new(s, &state.urls))
            .collect(),
    ))
}

/// The show a path names; a slug that cannot exist is simply not found.
pub async fn load_show(app: &App, raw_slug: &str) -> Result<Show, AppError> {
    let slug = Slug::parse(raw_slug).map_err(|_| AppError::NotFound { what: "show" })?;
    app.db
        .show_by_slug(&slug)
        .await
        .map_err(or_not_found("show"))
}

#[tracing::instrument(skip_all, fields(%slug))]
async fn show(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<ShowView>, AppError> {
    let show = load_show(&state, &slug).await?;
    Ok(Json(ShowView::new(show, &state.urls)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn podcast_guid_follows_the_podcasting_2_0_rule() {
        // The namespace's own example: podcastindex.org/namespace/1.0 guid section.
        let guid = Uuid::new_v5(&PODCAST_GUID_NAMESPACE, b"mp3s.nashownotes.com/pc20rss.xml");
        assert_eq!(guid.to_string(), "917393e3-1b1e-5cef-ace4-edaa54e1f810");
    }

    #[test]
    fn emails() {
        assert!(looks_like_email("ppid@kaltimprov.go.id"));
        assert!(!looks_like_email("ppid"));
        assert!(!looks_like_email("a b@c.d"));
    }
}
