//! Official documents (regulations, decrees, press releases) that briefings discuss.

use axum::{
    Router,
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::IntoResponse,
    routing::get,
};
use chrono::{DateTime, NaiveDate, SubsecRound as _, Utc};
use serde::{Deserialize, Serialize};

use super::{Json, auth::Editor, document_files::with_url, or_not_found, parse_id, require_title};
use crate::{
    app::AppState,
    audit::{self, AuditEntry, Entity},
    db::{Document, DocumentKind},
    domain::{DocumentId, EpisodeId, EpisodeStatus, Slug},
    error::AppError,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/documents", get(list).post(create))
        .route("/api/v1/documents/{id}", get(read).patch(update))
        .route("/api/v1/documents/{id}/episodes", get(citations))
}

/// `PATCH /api/v1/documents/{id}`: the fields given change; `null` clears an optional one.
#[derive(Debug, Default, Deserialize)]
pub struct DocumentPatch {
    pub title: Option<String>,
    #[serde(default, with = "super::double_option")]
    pub number: Option<Option<String>>,
    pub kind: Option<String>,
    #[serde(default, with = "super::double_option")]
    pub issuer: Option<Option<String>>,
    #[serde(default, with = "super::double_option")]
    pub issued_on: Option<Option<String>>,
    #[serde(default, with = "super::double_option")]
    pub url: Option<Option<String>>,
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub kind: Option<String>,
}

/// An episode citing a document, as `GET /api/v1/documents/{id}/episodes` lists it.
#[derive(Debug, Serialize)]
pub struct CitationView {
    pub link_id: uuid::Uuid,
    pub episode_id: EpisodeId,
    pub show_slug: Slug,
    pub title: String,
    pub publish_at: Option<DateTime<Utc>>,
    pub at_ms: Option<u64>,
    pub note: Option<String>,
    pub url: String,
}

#[derive(Debug, Deserialize)]
pub struct NewDocument {
    pub title: String,
    #[serde(default)]
    pub number: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub issuer: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub issued_on: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn parse_kind(raw: Option<String>) -> Result<DocumentKind, AppError> {
    Ok(match non_empty(raw) {
        None => DocumentKind::Other,
        Some(k) => DocumentKind::parse(&k).ok_or_else(|| {
            let known = DocumentKind::ALL.map(DocumentKind::as_str).join(", ");
            AppError::invalid(
                "invalid-document-kind",
                format!("kind '{k}' tidak dikenal; pilih salah satu: {known}"),
                format!("unknown kind '{k}'; use one of: {known}"),
            )
        })?,
    })
}

pub fn validate(input: NewDocument, now: DateTime<Utc>) -> Result<Document, AppError> {
    // As stored (milliseconds), so the answer to a write equals what a read gives later.
    let now = now.trunc_subsecs(3);
    let title = require_title(&input.title)?;
    let kind = parse_kind(input.kind)?;
    let issued_on = non_empty(input.issued_on)
        .map(|d| {
            NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| {
                AppError::invalid(
                    "invalid-date",
                    format!("issued_on '{d}' harus bertanggal YYYY-MM-DD"),
                    format!("issued_on '{d}' must be a YYYY-MM-DD date"),
                )
            })
        })
        .transpose()?;
    let url = non_empty(input.url)
        .map(|u| match url::Url::parse(&u) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(parsed.to_string()),
            _ => Err(AppError::invalid(
                "invalid-url",
                format!("url '{u}' harus berupa alamat http(s) lengkap"),
                format!("url '{u}' must be an absolute http(s) URL"),
            )),
        })
        .transpose()?;
    Ok(Document {
        id: DocumentId::new(),
        title,
        number: non_empty(input.number),
        kind,
        issuer: non_empty(input.issuer),
        issued_on,
        url,
        file: None,
        created_at: now,
        updated_at: now,
    })
}

#[tracing::instrument(skip_all)]
async fn create(
    State(state): State<AppState>,
    editor: Editor,
    Json(input): Json<NewDocument>,
) -> Result<impl IntoResponse, AppError> {
    let document = validate(input, Utc::now())?;
    state.db.create_document(&document).await?;
    audit::record(
        &state,
        AuditEntry::new(Entity::Document, document.id, "created", &editor.actor)
            .with_changes(audit::created(&document)),
    )
    .await;
    let location = format!("/api/v1/documents/{}", document.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(document),
    ))
}

#[tracing::instrument(skip_all)]
async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<Document>>, AppError> {
    let kind = non_empty(query.kind)
        .map(|k| parse_kind(Some(k)))
        .transpose()?;
    Ok(Json(
        state
            .db
            .list_documents(kind)
            .await?
            .into_iter()
            .map(|d| with_url(d, &state.urls))
            .collect(),
    ))
}

#[tracing::instrument(skip_all, fields(%id))]
async fn update(
    State(state): State<AppState>,
    editor: Editor,
    Path(id): Path<String>,
    Json(patch): Json<DocumentPatch>,
) -> Result<Json<Document>, AppError> {
    let id: DocumentId = parse_id("document", &id)?;
    let old = state
        .db
        .document(id)
        .await
        .map_err(or_not_found("document"))?;
    let keep = |given: Option<Option<String>>, old: Option<String>| given.unwrap_or(old);
    let input = NewDocument {
        title: patch.title.unwrap_or_else(|| old.title.clone()),
        number: keep(patch.number, old.number.clone()),
        kind: Some(patch.kind.unwrap_or_else(|| old.kind.as_str().to_owned())),
        issuer: keep(patch.issuer, old.issuer.clone()),
        issued_on: keep(patch.issued_on, old.issued_on.map(|d| d.to_string())),
        url: keep(patch.url, old.url.clone()),
    };
    let document = Document {
        id: old.id,
        file: old.file.clone(),
        created_at: old.created_at,
        ..validate(input, Utc::now())?
    };
    state
        .db
        .update_document(&document)
        .await
        .map_err(or_not_found("document"))?;
    audit::record(
        &state,
        AuditEntry::new(Entity::Document, document.id, "updated", &editor.actor)
            .with_changes(audit::diff(&old, &document)),
    )
    .await;
    Ok(Json(with_url(document, &state.urls)))
}

/// The published episodes that cite the document (with a token, drafts and scheduled ones too),
/// each link with its moment.
#[tracing::instrument(skip_all, fields(%id))]
async fn citations(
    State(state): State<AppState>,
    editor: Option<Editor>,
    Path(id): Path<String>,
) -> Result<Json<Vec<CitationView>>, AppError> {
    let id: DocumentId = parse_id("document", &id)?;
    state
        .db
        .document(id)
        .await
        .map_err(or_not_found("document"))?;
    let now = Utc::now();
    let views = state
        .db
        .document_citations(id)
        .await?
        .into_iter()
        .filter(|c| editor.is_some() || c.episode.status(now) == EpisodeStatus::Published)
        .map(|c| CitationView {
            url: state.urls.episode_page(&c.show_slug, &c.episode.slug),
            link_id: c.link_id,
            episode_id: c.episode.id,
            show_slug: c.show_slug,
            title: c.episode.title,
            publish_at: c.episode.publish_at,
            at_ms: c.at_ms,
            note: c.note,
        })
        .collect();
    Ok(Json(views))
}

#[tracing::instrument(skip_all, fields(%id))]
async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Document>, AppError> {
    let id: DocumentId = parse_id("document", &id)?;
    let document = state
        .db
        .document(id)
        .await
        .map_err(or_not_found("document"))?;
    Ok(Json(with_url(document, &state.urls)))
}
