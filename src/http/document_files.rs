//! A document's file (issue 6, point 1): `PUT /api/v1/documents/{id}/file?filename=NAME` with
//! the PDF as the body stores it in object storage with its SHA-256; `DELETE` removes it;
//! `GET /documents/{id}/{SHA16}.pdf` serves it (ranges, validators, a year's cache: a new file
//! is a new URL). The body is spooled while it is hashed, never held in memory; only a file
//! that starts as a PDF does (`%PDF-`) is kept, and on any failure nothing is left behind.

use axum::{
    Router,
    body::Body,
    extract::{Path, Query, State},
    http::{HeaderMap, Method, StatusCode, header},
    response::Response,
    routing::{get, put},
};
use chrono::{SubsecRound as _, Utc};
use futures_util::TryStreamExt as _;
use serde::Deserialize;
use tokio::io::AsyncReadExt as _;

use super::{
    Json,
    auth::Editor,
    cache::ETag,
    media::{Ranged, disposition, ranged},
    or_not_found, parse_id,
};
use crate::{
    app::{App, AppState},
    audit::{self, AuditEntry, Entity},
    db::{Document, DocumentFile},
    domain::{DocumentId, Urls},
    error::AppError,
    media::ingest::{IngestError, spool_body},
    storage::{ByteStream, ObjectKey, StoreError},
};

/// A scanned regulation runs to tens of megabytes; far above is not a document.
pub const MAX_BYTES: u64 = 200 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/documents/{id}/file", put(upload).delete(remove))
        .route("/documents/{id}/{file}", get(serve))
}

#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    #[serde(default)]
    pub filename: Option<String>,
}

/// The document as the API shows it: its file with the URL it is served at.
pub fn with_url(mut document: Document, urls: &Urls) -> Document {
    if let Some(file) = document.file.as_mut() {
        file.url = Some(urls.document_file(document.id, &file.file_name()));
    }
    document
}

fn not_a_pdf() -> AppError {
    AppError::UnsupportedType {
        code: "unsupported-document",
        msg: crate::error::Msg::new(
            "Berkas dokumen harus PDF",
            "The document's file must be a PDF",
        ),
    }
}

#[tracing::instrument(skip_all, fields(%id))]
async fn upload(
    State(state): State<AppState>,
    editor: Editor,
    Path(id): Path<String>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Document>, AppError> {
    let id: DocumentId = parse_id("document", &id)?;
    let document = state
        .db
        .document(id)
        .await
        .map_err(or_not_found("document"))?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BYTES) {
        return Err(AppError::PayloadTooLarge { limit: MAX_BYTES });
    }
    let stream: ByteStream = Box::pin(body.into_data_stream().map_err(std::io::Error::other));
    let spooled = spool_body(&state.spool(), stream, MAX_BYTES)
        .await
        .map_err(|e| match e {
            IngestError::TooLarge { limit } => AppError::PayloadTooLarge { limit },
            other => AppError::from(other),
        })?;
    let mut magic = [0u8; 5];
    let mut reader = tokio::fs::File::open(spooled.file.path())
        .await
        .map_err(anyhow::Error::from)?;
    let read = reader.read(&mut magic).await.map_err(anyhow::Error::from)?;
    if read < magic.len() || &magic != b"%PDF-" {
        return Err(not_a_pdf());
    }
    let filename =
        crate::media::ingest::clean_filename(query.filename.as_deref().unwrap_or_default(), "pdf");
    let key = ObjectKey::for_document(id.0, &spooled.sha256);
    let file = DocumentFile {
        key: key.as_str().to_owned(),
        filename,
        size_bytes: spooled.size,
        sha256: spooled.sha256.clone(),
        uploaded_at: Utc::now().trunc_subsecs(3),
        url: None,
    };
    if document.file.as_ref().is_some_and(|f| f.key == file.key) {
        // The same bytes again: nothing to store.
        return Ok(Json(with_url(document, &state.urls)));
    }
    match state
        .store
        .put_file(&key, "application/pdf", spooled.file.path())
        .await
    {
        // The key is named by the content: these very bytes are stored already.
        Ok(_) | Err(StoreError::AlreadyExists(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let (document, replaced) = match state
        .db
        .set_document_file(id, Some(&file), Utc::now())
        .await
    {
        Ok(done) => done,
        Err(e) => {
            if let Err(del) = state.store.delete(&key).await {
                tracing::warn!(error = %del, %key, "orphaned document file not deleted");
            }
            return Err(or_not_found("document")(e));
        }
    };
    if let Some(old) = &replaced
        && old.key != file.key
    {
        delete_object(&state, &old.key).await;
    }
    audit::record(
        &state,
        AuditEntry::new(Entity::Document, id, "file-set", &editor.actor).with_changes(
            serde_json::json!({"file_sha256": {
                "from": replaced.map(|f| f.sha256),
                "to": file.sha256,
            }}),
        ),
    )
    .await;
    Ok(Json(with_url(document, &state.urls)))
}

async fn delete_object(app: &App, key: &str) {
    let key = ObjectKey::from_stored(key.to_owned());
    if let Err(e) = app.store.delete(&key).await {
        // The row no longer names it: the reconciler removes it later.
        tracing::warn!(error = %e, %key, "replaced document file not deleted");
    }
}

#[tracing::instrument(skip_all, fields(%id))]
async fn remove(
    State(state): State<AppState>,
    editor: Editor,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let id: DocumentId = parse_id("document", &id)?;
    let document = state
        .db
        .document(id)
        .await
        .map_err(or_not_found("document"))?;
    if document.file.is_none() {
        return Err(AppError::NotFound {
            what: "document file",
        });
    }
    // The row first, then the object: a crash between leaves an orphan for the reconciler.
    let (_, removed) = state
        .db
        .set_document_file(id, None, Utc::now())
        .await
        .map_err(or_not_found("document"))?;
    if let Some(old) = removed {
        delete_object(&state, &old.key).await;
        audit::record(
            &state,
            AuditEntry::new(Entity::Document, id, "file-removed", &editor.actor)
                .with_changes(serde_json::json!({"file_sha256": {"from": old.sha256, "to": null}})),
        )
        .await;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[tracing::instrument(skip_all, fields(%id, %name))]
async fn serve(
    State(state): State<AppState>,
    method: Method,
    Path((id, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let id: DocumentId = parse_id("document", &id)?;
    let document = state
        .db
        .document(id)
        .await
        .map_err(or_not_found("document"))?;
    let file = document
        .file
        .filter(|f| f.file_name() == name)
        .ok_or(AppError::NotFound {
            what: "document file",
        })?;
    let (res, range) = match ranged(
        &headers,
        &ETag::strong(&file.sha256),
        file.uploaded_at,
        file.size_bytes,
        |res| {
            res.header(header::CONTENT_TYPE, "application/pdf").header(
                header::CONTENT_DISPOSITION,
                disposition("inline", &file.filename),
            )
        },
    )? {
        Ranged::Done(response) => return Ok(response),
        Ranged::Body(res, range) => (res, range),
    };
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        let key = ObjectKey::from_stored(file.key.clone());
        Body::from_stream(state.store.get(&key, range).await?)
    };
    Ok(res.body(body).map_err(anyhow::Error::from)?)
}
