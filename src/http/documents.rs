//! Official documents (regulations, decrees, press releases) that briefings discuss.

use axum::{
    Router,
    extract::{Path, State},
    http::{StatusCode, header},
    response::IntoResponse,
    routing::{get, post},
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::{Json, auth::Editor, or_not_found, parse_id, require_title};
use crate::{
    app::AppState,
    db::{Document, DocumentKind},
    domain::DocumentId,
    error::AppError,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/documents", post(create))
        .route("/api/v1/documents/{id}", get(read))
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

pub fn validate(input: NewDocument, now: DateTime<Utc>) -> Result<Document, AppError> {
    let title = require_title(&input.title)?;
    let kind = match non_empty(input.kind) {
        None => DocumentKind::Other,
        Some(k) => DocumentKind::parse(&k).ok_or_else(|| {
            let known = DocumentKind::ALL.map(DocumentKind::as_str).join(", ");
            AppError::invalid(
                "invalid-document-kind",
                format!("kind '{k}' tidak dikenal; pilih salah satu: {known}"),
                format!("unknown kind '{k}'; use one of: {known}"),
            )
        })?,
    };
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
        created_at: now,
        updated_at: now,
    })
}

#[tracing::instrument(skip_all)]
async fn create(
    State(state): State<AppState>,
    _editor: Editor,
    Json(input): Json<NewDocument>,
) -> Result<impl IntoResponse, AppError> {
    let document = validate(input, Utc::now())?;
    state.db.create_document(&document).await?;
    let location = format!("/api/v1/documents/{}", document.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(document),
    ))
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
    Ok(Json(document))
}
