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
    routing::get,
};
use futures_util::TryStreamExt as _;
use serde::Deserialize;

use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    Json,
    auth::Caller,
    conditional::ETag,
    media::{Ranged, disposition, ranged},
    openapi::{ApiError, Binary, Unavailable},
};
use crate::{
    app::AppState,
    domain::{Document, Urls, access::Action},
    http::error::AppError,
    service::documents::{self, MAX_FILE_BYTES},
    storage::{ByteStream, ObjectKey},
};

pub fn router() -> Router<AppState> {
    Router::from(api()).route("/documents/{id}/{file}", get(serve))
}

/// The routes and their operations in the API's document (`http::openapi`).
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(upload, remove))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name, given back on download.
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

/// Stores the document's PDF (the body), replacing one it had.
#[utoipa::path(
    put,
    path = "/api/v1/documents/{id}/file",
    tag = "documents",
    params(("id" = String, Path, description = "The document's id (a lower-case UUID)"), UploadQuery),
    request_body(content = Binary, content_type = "application/pdf", description = "The PDF"),
    responses(
        (status = 200, description = "The document with its file", body = Document),
        (status = 400, description = "The request is malformed (the message says how)", body = ApiError),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The caller's role does not allow this", body = ApiError),
        (status = 404, description = "Not found (or not one the caller may see)", body = ApiError),
        (status = 413, description = "The body is over the limit", body = ApiError),
        (status = 415, description = "Not a PDF (it does not start with `%PDF-`)", body = ApiError),
        (status = 422, description = "A value breaks a rule (the message says which)", body = ApiError),
        (status = 429, description = "Over the rate limit (`Retry-After`)", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(%id))]
async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Document>, AppError> {
    caller.require_somewhere(Action::ManageDocuments)?;
    let document = documents::load(&state.ctx, &id).await?;
    super::refuse_declared_over(&headers, MAX_FILE_BYTES)?;
    let stream: ByteStream = Box::pin(body.into_data_stream().map_err(std::io::Error::other));
    let document = documents::set_file(
        &state.ctx,
        &caller.actor,
        document,
        query.filename.as_deref().unwrap_or_default(),
        stream,
    )
    .await?;
    Ok(Json(with_url(document, &state.ctx.urls)))
}

/// Removes the document's PDF.
#[utoipa::path(
    delete,
    path = "/api/v1/documents/{id}/file",
    tag = "documents",
    params(("id" = String, Path, description = "The document's id (a lower-case UUID)")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The caller's role does not allow this", body = ApiError),
        (status = 404, description = "Not found (or not one the caller may see)", body = ApiError),
        (status = 409, description = "It conflicts with what is stored (the message says what)", body = ApiError),
        (status = 429, description = "Over the rate limit (`Retry-After`)", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(%id))]
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    caller.require_somewhere(Action::ManageDocuments)?;
    let document = documents::load(&state.ctx, &id).await?;
    documents::remove_file(&state.ctx, &caller.actor, document).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[tracing::instrument(skip_all, fields(%id, %name))]
async fn serve(
    State(state): State<AppState>,
    method: Method,
    Path((id, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let document = crate::service::documents::load(&state.ctx, &id).await?;
    let file = document
        .file
        .filter(|f| f.file_name() == name)
        .ok_or(AppError::not_found("document file"))?;
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
        Body::from_stream(state.ctx.store.get(&key, range).await?)
    };
    Ok(res.body(body).map_err(anyhow::Error::from)?)
}
