//! The API's contract: an OpenAPI 3.1 document generated from the code, served at
//! `GET /api/v1/openapi.json`. Nothing in it is written by hand: each `/api/v1` handler carries
//! `#[utoipa::path]` (its parameters, body, every answer and its security) and each module's
//! `api()` registers those handlers through utoipa-axum, which routes them and records their
//! operations in one call; the request and response types derive `utoipa::ToSchema` beside
//! their serde attributes, which the derive reads. `document()` merges the modules' `api()`.
//! A route added under `/api/v1` without an annotation fails `tests/api/openapi.rs`, which also
//! runs Schemathesis against the served document.

use std::sync::OnceLock;

use axum::{
    Router,
    body::Body,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use utoipa::{
    IntoResponses, Modify, OpenApi, ToSchema,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::conditional::{ETag, none_match};
use crate::app::AppState;

/// Where the document is served.
pub const PATH: &str = "/api/v1/openapi.json";

/// The name of the bearer-token scheme the operations' `security` refers to (as a literal there:
/// the annotations take no constant).
pub const BEARER: &str = "bearer";

/// The body of every error answer (`http::error::AppError`): a stable kebab-case code and a
/// message in the language `Accept-Language` asked for (Indonesian by default).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = Error)]
#[serde(deny_unknown_fields)]
pub struct ApiError {
    /// Stable, kebab-case: `show-not-found`, `invalid-json`, `forbidden`, `rate-limited`…
    #[schema(example = "show-not-found")]
    pub code: String,
    /// For a person, in Indonesian or English (`Content-Language` says which).
    pub message: String,
}

/// A request body of raw bytes (a recording, an image, a PDF, a tus chunk): the API reads them
/// as they come and checks what they are itself.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct Binary(Vec<u8>);

/// The answers every `/api/v1` operation may give besides its own: the database or store not
/// answering, or the request taking longer than the API allows (503).
#[derive(IntoResponses)]
pub enum Unavailable {
    /// The database or the object store does not answer, or the request timed out.
    #[response(status = 503)]
    Unavailable(ApiError),
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Siaran API",
        description = "Publishing backend for public briefings: shows, episodes, documents, \
            media uploads (plain and tus), search, history, statistics and clip verification. Errors answer \
            `{\"code\", \"message\"}` with the message in Indonesian or English \
            (`Accept-Language`). Writes take a bearer token (`siaran token create`).",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
    ),
    modifiers(&Security),
    tags(
        (name = "shows", description = "Shows (podcasts) and their feeds"),
        (name = "episodes", description = "Episodes: drafts, review, publication, withdrawal"),
        (name = "episode files", description = "Transcripts, chapters and renditions"),
        (name = "documents", description = "Official documents briefings discuss"),
        (name = "media", description = "Media files: plain uploads and what was probed"),
        (name = "uploads", description = "Resumable uploads (tus 1.0.0, creation, \
            creation-with-upload, termination, checksum)"),
        (name = "artwork", description = "Cover images"),
        (name = "search", description = "Full-text search"),
        (name = "history", description = "Audit trails"),
        (name = "stats", description = "Download statistics"),
        (name = "verify", description = "Is this clip from the archive? (exact file, or where its \
            sound is found by acoustic fingerprint)"),
        (name = "meta", description = "This document"),
    ),
    components(schemas(ApiError))
)]
struct ApiDoc;

/// The bearer-token scheme every authorised operation names.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token (`siaran token create`) as `Authorization: Bearer TOKEN`",
                    ))
                    .build(),
            ),
        );
    }
}

/// Every `/api/v1` route with its operations, as the modules register them.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(serve))
        .merge(super::shows::api())
        .merge(super::episodes::api())
        .merge(super::episode_files::api())
        .merge(super::documents::api())
        .merge(super::document_files::api())
        .merge(super::artwork::api())
        .merge(super::media::api())
        .merge(super::uploads::api())
        .merge(super::search::api_routes())
        .merge(super::history::api())
        .merge(super::stats::api())
        .merge(super::verify::api_routes())
}

/// The document, generated once.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = api().into_openapi();
        unique_operation_ids(&mut doc);
        doc
    })
}

/// utoipa names an operation after its handler, and handlers in different modules share names
/// (`read`, `list`): each operation is named after its method and path instead
/// (`get_episodes_id_history`), unique as OpenAPI requires and readable in a client.
fn unique_operation_ids(doc: &mut utoipa::openapi::OpenApi) {
    for (path, item) in &mut doc.paths.paths {
        let words: Vec<String> = path
            .trim_start_matches("/api/v1")
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        let trailing = if path.ends_with('/') { "_slash" } else { "" };
        for (method, op) in [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("options", &mut item.options),
            ("head", &mut item.head),
            ("patch", &mut item.patch),
            ("trace", &mut item.trace),
        ] {
            if let Some(op) = op {
                op.operation_id = Some(format!("{method}_{}{trailing}", words.join("_")));
            }
        }
    }
}

/// The document as served, with its ETag.
fn rendered() -> &'static (String, ETag) {
    static JSON: OnceLock<(String, ETag)> = OnceLock::new();
    JSON.get_or_init(|| {
        let mut value = serde_json::to_value(document()).expect("an OpenAPI document serialises");
        camel_case_links(&mut value);
        let json = serde_json::to_string_pretty(&value).expect("JSON serialises");
        let etag = ETag::strong(&hex::encode(&Sha256::digest(json.as_bytes())[..16]));
        (json, etag)
    })
}

/// utoipa 5.5 writes a response link's fields in snake case (`operation_id`, `operation_ref`,
/// `request_body`), where OpenAPI names them `operationId`, `operationRef` and `requestBody`:
/// without them a link names no operation, and Schemathesis's stateful phase refuses it.
fn camel_case_links(doc: &mut serde_json::Value) {
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    let links = paths
        .values_mut()
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut())
        .filter_map(|op| op.get_mut("responses").and_then(|r| r.as_object_mut()))
        .flat_map(|responses| responses.values_mut())
        .filter_map(|response| response.get_mut("links").and_then(|l| l.as_object_mut()))
        .flat_map(|links| links.values_mut())
        .filter_map(|link| link.as_object_mut());
    for link in links {
        for (from, to) in [
            ("operation_id", "operationId"),
            ("operation_ref", "operationRef"),
            ("request_body", "requestBody"),
        ] {
            if let Some(v) = link.remove(from) {
                link.insert(to.to_owned(), v);
            }
        }
    }
}

pub fn router() -> Router<AppState> {
    OpenApiRouter::new().routes(routes!(serve)).into()
}

/// This document. It changes only with the program, so it is revalidated by its ETag.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of this API",
            content_type = "application/json", body = Object),
        (status = 304, description = "Not modified (`If-None-Match` named the current ETag)"),
        Unavailable,
    )
)]
async fn serve(headers: HeaderMap) -> Response {
    let (json, etag) = rendered();
    let mut res = if none_match(&headers, etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut res = Response::new(Body::from(json.as_str()));
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        res
    };
    res.headers_mut().insert(header::ETAG, etag.header_value());
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}
