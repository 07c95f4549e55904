//! Resumable uploads with the tus 1.0 protocol at `/api/v1/uploads/`: core, creation,
//! creation-with-upload, termination, expiration and checksum (sha256), so tus-js-client, Uppy
//! and tuspy work unchanged. A finished upload is a media record, as `POST /api/v1/media` makes;
//! its id is answered in `Siaran-Media-Id` (and `GET /api/v1/uploads/{id}` gives the record).
//!
//! This module speaks the protocol (headers, status codes, CORS); `service::uploads` owns the
//! bytes and the state. Errors keep the crate's JSON shape, with tus's status codes (409, 412,
//! 415, 460) where the protocol names them.

use std::io;

use axum::{
    Router,
    body::Body,
    extract::{Path, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt as _;
use serde::Serialize;
use uuid::Uuid;

use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    Json,
    auth::Uploader,
    conditional::http_date,
    media::MediaView,
    openapi::{ApiError, Binary, Unavailable},
};
use crate::{
    app::AppState,
    db::Upload,
    http::error::{AppError, UiLang},
    media::ProbeError,
    service::uploads::{Appended, Chunk, UploadError},
    storage::ByteStream,
};

const TUS_VERSION: &str = "1.0.0";
const TUS_EXTENSIONS: &str = "creation,creation-with-upload,termination,expiration,checksum";
const OFFSET_STREAM: &str = "application/offset+octet-stream";

const TUS_RESUMABLE: HeaderName = HeaderName::from_static("tus-resumable");
const UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
const UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
const UPLOAD_METADATA: HeaderName = HeaderName::from_static("upload-metadata");
const UPLOAD_EXPIRES: HeaderName = HeaderName::from_static("upload-expires");
const UPLOAD_CHECKSUM: HeaderName = HeaderName::from_static("upload-checksum");
const MEDIA_ID: HeaderName = HeaderName::from_static("siaran-media-id");
const MEDIA_URL: HeaderName = HeaderName::from_static("siaran-media-url");

/// What a browser client (tus-js-client, Uppy) may send and read across origins. Tokens travel
/// in `Authorization`, never in cookies, so any origin may ask.
const ALLOW_HEADERS: &str = "Authorization, Content-Type, Tus-Resumable, Upload-Length, \
    Upload-Metadata, Upload-Offset, Upload-Checksum, Upload-Defer-Length, Upload-Concat, \
    X-HTTP-Method-Override, X-Requested-With";
const EXPOSE_HEADERS: &str = "Location, Upload-Offset, Upload-Length, Upload-Metadata, \
    Upload-Expires, Tus-Resumable, Tus-Version, Tus-Extension, Tus-Max-Size, \
    Tus-Checksum-Algorithm, Siaran-Media-Id, Siaran-Media-Url";
const ALLOW_METHODS: &str = "POST, GET, HEAD, PATCH, DELETE, OPTIONS";

pub fn router() -> Router<AppState> {
    Router::from(api()).layer(middleware::from_fn(tus_headers))
}

/// The routes and their operations in the API's document (`http::openapi`). tus-js-client's
/// usual endpoint ends with a slash, so the creation address is answered with and without one.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, options))
        .routes(routes!(create_slash, options_slash))
        .routes(routes!(
            status,
            head,
            patch,
            terminate,
            method_override,
            options_upload
        ))
}

/// `Tus-Resumable`: the one version of tus spoken here.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
enum TusResumable {
    #[schema(rename = "1.0.0")]
    V1,
}

/// `X-HTTP-Method-Override`: the tus requests a POST may stand for.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
enum MethodOverride {
    #[schema(rename = "PATCH")]
    Patch,
    #[schema(rename = "DELETE")]
    Delete,
}

/// The headers of a tus creation, documented once for `/api/v1/uploads` and its `/`-ended twin
/// (the address tus-js-client uses).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
struct CreationHeaders {
    /// The tus version: `1.0.0`; another version answers 412, no version 400
    #[param(rename = "Tus-Resumable", inline)]
    tus_resumable: TusResumable,
    /// The whole file's size in bytes (deferred lengths are not taken)
    #[param(
        rename = "Upload-Length",
        minimum = 1,
        maximum = 9_223_372_036_854_775_807_u64
    )]
    upload_length: u64,
    /// tus metadata: `filename` (base64) names the file
    #[param(rename = "Upload-Metadata", nullable = false)]
    upload_metadata: Option<String>,
    /// `sha256 BASE64` of the bytes sent with the request (checksum extension)
    #[param(
        rename = "Upload-Checksum",
        nullable = false,
        pattern = r"^sha256 [A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$"
    )]
    upload_checksum: Option<String>,
}

/// What a tus creation answers, at both its addresses.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
enum CreationAnswers {
    #[response(status = 201, description = "Created (and, with a body, the bytes taken)", headers(
        ("Location" = String, description = "The upload's address"),
        ("Upload-Offset" = u64, description = "The bytes received so far"),
        ("Upload-Expires" = String, description = "When an unfinished upload is removed (an HTTP date)"),
        ("Siaran-Media-Id" = String, description = "Once complete: the media record's id"),
        ("Siaran-Media-Url" = String, description = "Once complete: the media record's address in the API"),
    ))]
    Created,
    #[response(
        status = 400,
        description = "A tus header (`Tus-Resumable` included) is missing or not readable"
    )]
    BadHeader(ApiError),
    #[response(status = 401, description = "No token, or not a live one")]
    NoToken(ApiError),
    #[response(status = 403, description = "The caller's role does not allow uploads")]
    Forbidden(ApiError),
    #[response(status = 413, description = "Over `Tus-Max-Size`")]
    TooLarge(ApiError),
    #[response(status = 415, description = "Empty, or not a media type Siaran takes")]
    NotMedia(ApiError),
    #[response(status = 422, description = "Media that does not play")]
    Unplayable(ApiError),
    #[response(
        status = 429,
        description = "Over the caller's open-upload cap or the write rate limit (`Retry-After`)"
    )]
    Limited(ApiError),
    #[response(
        status = 412,
        description = "`Tus-Resumable` names another version than `1.0.0`"
    )]
    OtherVersion(ApiError),
    #[response(
        status = 460,
        description = "`Upload-Checksum` does not match the bytes received"
    )]
    ChecksumMismatch(ApiError),
}

/// What tus discovery answers, at each address of `/api/v1/uploads`.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
enum DiscoveryAnswer {
    #[response(status = 204, description = "tus discovery and CORS preflight", headers(
        ("Tus-Version" = String, description = "`1.0.0`"),
        ("Tus-Extension" = String, description = "`creation,creation-with-upload,termination,expiration,checksum`"),
        ("Tus-Max-Size" = u64, description = "The largest upload taken, in bytes"),
        ("Tus-Checksum-Algorithm" = String, description = "`sha256`"),
    ))]
    Discovery,
}

/// Every answer carries `Tus-Resumable` and the CORS headers; a tus request without the header,
/// or with one that names no version, is refused with 400, and one of another protocol version
/// with 412 (as tus says), before anything else is looked at. `GET` (the JSON status) and
/// `OPTIONS` (discovery, preflight) are not tus requests.
async fn tus_headers(req: Request, next: Next) -> Response {
    let tus_request = !matches!(*req.method(), Method::GET | Method::OPTIONS);
    let version = req.headers().get(&TUS_RESUMABLE);
    let mut res = if tus_request && version.is_none_or(|v| v != TUS_VERSION) {
        // `1.0.0`, `0.2.2`: a version, only not this one.
        let a_version = version.and_then(|v| v.to_str().ok()).is_some_and(|v| {
            let parts: Vec<&str> = v.trim().split('.').collect();
            parts.len() == 3
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        });
        let status = if a_version {
            StatusCode::PRECONDITION_FAILED
        } else {
            StatusCode::BAD_REQUEST
        };
        let mut res = fail(
            status,
            "unsupported-tus-version",
            "Kirim header 'Tus-Resumable: 1.0.0': hanya tus 1.0.0 yang didukung",
            "Send a 'Tus-Resumable: 1.0.0' header: only tus 1.0.0 is supported",
        )
        .into_response();
        res.headers_mut()
            .insert("tus-version", HeaderValue::from_static(TUS_VERSION));
        res
    } else {
        next.run(req).await
    };
    let h = res.headers_mut();
    h.insert(TUS_RESUMABLE, HeaderValue::from_static(TUS_VERSION));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
    res
}

/// An error in the crate's JSON shape with a status `AppError` has no variant for (410, 412,
/// 460, ...), and any extra headers.
#[derive(Debug)]
struct TusError {
    status: StatusCode,
    inner: AppError,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl IntoResponse for TusError {
    fn into_response(self) -> Response {
        let mut res = self.inner.into_response();
        *res.status_mut() = self.status;
        for (name, value) in self.headers {
            res.headers_mut().insert(name, value);
        }
        res
    }
}

impl From<AppError> for TusError {
    fn from(inner: AppError) -> Self {
        TusError {
            status: inner.status(),
            inner,
            headers: Vec::new(),
        }
    }
}

fn fail(status: StatusCode, code: &'static str, id: &str, en: &str) -> TusError {
    TusError {
        status,
        inner: AppError::bad_request(code, id, en),
        headers: Vec::new(),
    }
}

/// 460 is tus's own "Checksum Mismatch".
fn checksum_mismatch_status() -> StatusCode {
    StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST)
}

impl From<UploadError> for TusError {
    fn from(e: UploadError) -> Self {
        match e {
            UploadError::NotFound => fail(
                StatusCode::NOT_FOUND,
                "upload-not-found",
                "Unggahan tidak ditemukan",
                "Upload not found",
            ),
            UploadError::Expired => fail(
                StatusCode::GONE,
                "upload-expired",
                "Unggahan sudah kedaluwarsa; mulai unggahan baru",
                "The upload has expired; start a new one",
            ),
            UploadError::TooManyOpen { limit, session } => {
                let (id, en) = if session {
                    (
                        format!(
                            "Anda sudah membuka {limit} unggahan yang belum selesai; \
                             selesaikan atau hapus salah satunya dulu"
                        ),
                        format!(
                            "You already have {limit} unfinished uploads open; finish or \
                             delete one of them first"
                        ),
                    )
                } else {
                    (
                        format!(
                            "Token ini sudah membuka {limit} unggahan yang belum selesai; \
                             selesaikan atau hapus (DELETE) salah satunya dulu"
                        ),
                        format!(
                            "This token already has {limit} unfinished uploads open; finish \
                             or delete (DELETE) one of them first"
                        ),
                    )
                };
                fail(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too-many-open-uploads",
                    &id,
                    &en,
                )
            }
            UploadError::TooManyOpenBytes { limit, session } => {
                let (id, en) = if session {
                    (
                        format!(
                            "Unggahan Anda yang belum selesai bersama unggahan ini akan \
                             melebihi {limit} byte; selesaikan atau hapus salah satunya dulu"
                        ),
                        format!(
                            "Your unfinished uploads and this one would declare more than \
                             {limit} bytes; finish or delete one of them first"
                        ),
                    )
                } else {
                    (
                        format!(
                            "Unggahan yang belum selesai dari token ini bersama unggahan ini \
                             akan melebihi {limit} byte; selesaikan atau hapus (DELETE) salah \
                             satunya dulu"
                        ),
                        format!(
                            "This token's unfinished uploads and this one would declare more \
                             than {limit} bytes; finish or delete (DELETE) one of them first"
                        ),
                    )
                };
                fail(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too-many-open-upload-bytes",
                    &id,
                    &en,
                )
            }
            UploadError::MetadataTooLarge { limit } => fail(
                StatusCode::PAYLOAD_TOO_LARGE,
                "upload-metadata-too-large",
                &format!("Upload-Metadata lebih dari {limit} byte"),
                &format!("Upload-Metadata is longer than {limit} bytes"),
            ),
            UploadError::FilenameTooLong { limit } => fail(
                StatusCode::PAYLOAD_TOO_LARGE,
                "upload-filename-too-long",
                &format!("Nama berkas (filename di Upload-Metadata) lebih dari {limit} byte"),
                &format!(
                    "The file name (filename in Upload-Metadata) is longer than {limit} bytes"
                ),
            ),
            UploadError::OffsetMismatch { current } => {
                let mut err = fail(
                    StatusCode::CONFLICT,
                    "offset-mismatch",
                    &format!(
                        "Upload-Offset tidak cocok: unggahan berada di byte {current}; \
                         tanyakan dengan HEAD lalu lanjutkan dari sana"
                    ),
                    &format!(
                        "Upload-Offset does not match: the upload is at byte {current}; \
                         ask with HEAD and continue from there"
                    ),
                );
                err.headers
                    .push((UPLOAD_OFFSET, HeaderValue::from(current)));
                err
            }
            UploadError::BeyondLength { length } => fail(
                StatusCode::PAYLOAD_TOO_LARGE,
                "beyond-upload-length",
                &format!("Data melewati Upload-Length yang dinyatakan ({length} byte)"),
                &format!("The data goes past the declared Upload-Length ({length} bytes)"),
            ),
            UploadError::ChecksumMismatch => fail(
                checksum_mismatch_status(),
                "checksum-mismatch",
                "Checksum bagian ini tidak cocok; bagian dibuang, kirim lagi",
                "The chunk's checksum does not match; it was discarded, send it again",
            ),
            UploadError::Superseded => fail(
                StatusCode::CONFLICT,
                "upload-superseded",
                "Permintaan lain mengambil alih unggahan ini; tanyakan posisinya dengan HEAD",
                "Another request took this upload over; ask for its offset with HEAD",
            ),
            UploadError::Ingest(e) => AppError::from(e).into(),
            UploadError::Spool(e) => AppError::from(anyhow::Error::new(e)).into(),
            UploadError::Store(e) => AppError::from(e).into(),
            UploadError::Db(e) => AppError::from(e).into(),
        }
    }
}

fn header_str<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A non-negative decimal integer header; absent is `None`, malformed is an error.
fn number(headers: &HeaderMap, name: &HeaderName) -> Result<Option<u64>, TusError> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            // The contract's `int64`: a number past it is not one this API reads.
            .filter(|&n| i64::try_from(n).is_ok())
            .map(Some)
            .ok_or_else(|| {
                fail(
                    StatusCode::BAD_REQUEST,
                    "invalid-header",
                    &format!("Header {name} harus bilangan bulat tak negatif (int64)"),
                    &format!("The {name} header must be a non-negative integer (int64)"),
                )
            }),
    }
}

fn upload_id(raw: &str) -> Result<Uuid, TusError> {
    Uuid::parse_str(raw).map_err(|_| UploadError::NotFound.into())
}

/// `Upload-Metadata`: comma-separated `key base64value` pairs (the value may be absent). Only
/// the file's name is used: `filename` (tus-js-client, Uppy) or `name`.
fn metadata_filename(raw: &str) -> Result<String, TusError> {
    let mut filename = None;
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut parts = pair.split(' ').filter(|p| !p.is_empty());
        let key = parts.next().unwrap_or_default();
        let value = parts.next().unwrap_or_default();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(value)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                fail(
                    StatusCode::BAD_REQUEST,
                    "invalid-upload-metadata",
                    &format!("Nilai Upload-Metadata '{key}' bukan base64 UTF-8"),
                    &format!("The Upload-Metadata value of '{key}' is not base64 UTF-8"),
                )
            })?;
        if key == "filename" || (key == "name" && filename.is_none()) {
            filename = Some(decoded);
        }
    }
    Ok(filename.unwrap_or_default())
}

/// `Upload-Checksum: sha256 BASE64`; other algorithms are refused with 400, as tus asks.
fn checksum(headers: &HeaderMap) -> Result<Option<[u8; 32]>, TusError> {
    // An empty header carries no checksum: as if it were absent.
    let Some(raw) = header_str(headers, &UPLOAD_CHECKSUM).filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let (algorithm, value) = raw.trim().split_once(' ').unwrap_or((raw.trim(), ""));
    if !algorithm.eq_ignore_ascii_case("sha256") {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "unsupported-checksum-algorithm",
            &format!("Algoritme checksum '{algorithm}' tidak didukung; gunakan sha256"),
            &format!("Checksum algorithm '{algorithm}' is not supported; use sha256"),
        ));
    }
    base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .map(Some)
        .ok_or_else(|| {
            fail(
                StatusCode::BAD_REQUEST,
                "invalid-checksum",
                "Upload-Checksum harus 'sha256 ' diikuti 32 byte dalam base64",
                "Upload-Checksum must be 'sha256 ' followed by 32 bytes in base64",
            )
        })
}

fn is_offset_stream(headers: &HeaderMap) -> bool {
    header_str(headers, &header::CONTENT_TYPE)
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(OFFSET_STREAM))
}

fn body_stream(body: Body) -> ByteStream {
    Box::pin(body.into_data_stream().map_err(io::Error::other))
}

/// A slot among `SIARAN_MAX_CONCURRENT_UPLOADS`, held while a body is received and stored.
fn slot(state: &AppState) -> Result<tokio::sync::OwnedSemaphorePermit, TusError> {
    state.upload_slots.clone().try_acquire_owned().map_err(|_| {
        let mut err = fail(
            StatusCode::SERVICE_UNAVAILABLE,
            "too-many-uploads",
            "Terlalu banyak unggahan berjalan bersamaan; coba lagi sebentar lagi",
            "Too many uploads are running at once; try again shortly",
        );
        err.headers
            .push((header::RETRY_AFTER, HeaderValue::from_static("5")));
        err
    })
}

fn location(state: &AppState, id: Uuid) -> String {
    format!(
        "{}/api/v1/uploads/{id}",
        state.settings.public_url.as_str().trim_end_matches('/')
    )
}

fn media_url(state: &AppState, media: &str) -> String {
    format!(
        "{}/api/v1/media/{media}",
        state.settings.public_url.as_str().trim_end_matches('/')
    )
}

/// The headers that say where an upload stands.
fn upload_headers(state: &AppState, upload: &Upload) -> Vec<(HeaderName, HeaderValue)> {
    let mut out = vec![(UPLOAD_OFFSET, HeaderValue::from(upload.received))];
    match upload.media_id {
        Some(media) => {
            let media = media.to_string();
            if let Ok(url) = HeaderValue::from_str(&media_url(state, &media)) {
                out.push((MEDIA_URL, url));
            }
            if let Ok(id) = HeaderValue::from_str(&media) {
                out.push((MEDIA_ID, id));
            }
        }
        None => out.push((UPLOAD_EXPIRES, http_date(upload.expires_at))),
    }
    out
}

fn respond(status: StatusCode, headers: Vec<(HeaderName, HeaderValue)>) -> Response {
    let mut res = status.into_response();
    for (name, value) in headers {
        res.headers_mut().insert(name, value);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// tus discovery (`Tus-Version`, `Tus-Extension`, `Tus-Max-Size`, `Tus-Checksum-Algorithm`) and CORS preflight; no token needed.
#[utoipa::path(
    options,
    path = "/api/v1/uploads",
    tag = "uploads",
    responses(DiscoveryAnswer, Unavailable)
)]
/// Discovery (tus `OPTIONS`) and CORS preflight, without a token.
async fn options(State(state): State<AppState>) -> Response {
    let mut res = StatusCode::NO_CONTENT.into_response();
    let h = res.headers_mut();
    h.insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    h.insert("tus-extension", HeaderValue::from_static(TUS_EXTENSIONS));
    h.insert(
        "tus-max-size",
        HeaderValue::from(state.settings.max_upload_bytes),
    );
    h.insert("tus-checksum-algorithm", HeaderValue::from_static("sha256"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(ALLOW_METHODS),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(ALLOW_HEADERS),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    res
}

/// `OPTIONS /api/v1/uploads/`, as `options`.
/// tus discovery (`Tus-Version`, `Tus-Extension`, `Tus-Max-Size`, `Tus-Checksum-Algorithm`) and CORS preflight; no token needed.
#[utoipa::path(
    options,
    path = "/api/v1/uploads/",
    tag = "uploads",
    responses(DiscoveryAnswer, Unavailable)
)]
async fn options_slash(state: State<AppState>) -> Response {
    options(state).await
}

/// `OPTIONS /api/v1/uploads/{id}`, as `options`.
/// tus discovery (`Tus-Version`, `Tus-Extension`, `Tus-Max-Size`, `Tus-Checksum-Algorithm`) and CORS preflight; no token needed.
#[utoipa::path(
    options,
    path = "/api/v1/uploads/{id}",
    tag = "uploads",
    params(("id" = String, Path, description = "The upload's id")),
    responses(DiscoveryAnswer, Unavailable),
)]
async fn options_upload(state: State<AppState>) -> Response {
    options(state).await
}

/// `POST /api/v1/uploads/`, as `create`.
/// tus creation: a new upload of `Upload-Length` bytes; with an `application/offset+octet-stream` body, creation-with-upload. A complete upload becomes a media record, as `POST /api/v1/media` makes.
#[utoipa::path(
    post,
    path = "/api/v1/uploads/",
    tag = "uploads",
    params(CreationHeaders),
    request_body(content = Option<Binary>, content_type = "application/offset+octet-stream", description = "Optional (creation-with-upload): the first bytes, or all of them"),
    responses(CreationAnswers, Unavailable),
    security(("bearer" = []))
)]
async fn create_slash(
    state: State<AppState>,
    uploader: Uploader,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, TusError> {
    create(state, uploader, headers, body).await
}

/// Creation, and creation-with-upload when the body is `application/offset+octet-stream`.
/// tus creation: a new upload of `Upload-Length` bytes; with an `application/offset+octet-stream` body, creation-with-upload. A complete upload becomes a media record, as `POST /api/v1/media` makes.
#[utoipa::path(
    post,
    path = "/api/v1/uploads",
    tag = "uploads",
    params(CreationHeaders),
    request_body(content = Option<Binary>, content_type = "application/offset+octet-stream", description = "Optional (creation-with-upload): the first bytes, or all of them"),
    responses(CreationAnswers, Unavailable),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all)]
async fn create(
    State(state): State<AppState>,
    Uploader(caller): Uploader,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, TusError> {
    if headers.contains_key("upload-defer-length") && !headers.contains_key(&UPLOAD_LENGTH) {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "upload-length-required",
            "Panjang unggahan harus dinyatakan di awal (Upload-Length)",
            "The upload's length must be declared up front (Upload-Length)",
        ));
    }
    let Some(length) = number(&headers, &UPLOAD_LENGTH)? else {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "upload-length-required",
            "Header Upload-Length wajib ada",
            "The Upload-Length header is required",
        ));
    };
    let limit = state.settings.max_upload_bytes;
    if length > limit {
        return Err(AppError::too_large(limit).into());
    }
    if length == 0 {
        return Err(AppError::from(ProbeError::Empty).into());
    }
    let metadata = header_str(&headers, &UPLOAD_METADATA).unwrap_or_default();
    let filename = metadata_filename(metadata)?;
    let with_body = is_offset_stream(&headers);
    let chunk = if with_body {
        Some(Chunk {
            offset: 0,
            declared: number(&headers, &header::CONTENT_LENGTH)?,
            sha256: checksum(&headers)?,
            body: body_stream(body),
        })
    } else {
        None
    };
    let permit = if with_body { Some(slot(&state)?) } else { None };
    let uploads = state.uploads();
    let mut upload = uploads
        .create(&caller.actor, length, &filename, metadata)
        .await?;
    if let Some(chunk) = chunk {
        match uploads.append(upload.id, chunk, permit).await {
            Ok(Appended { upload: u, .. }) => upload = u,
            Err(e) => {
                // The client has no address for this upload yet: nothing of it may stay.
                if let Err(remove) = uploads.remove(upload.id).await {
                    tracing::warn!(id = %upload.id, error = %remove, "could not remove a failed upload");
                }
                return Err(e.into());
            }
        }
    }
    let mut out = upload_headers(&state, &upload);
    if let Ok(loc) = HeaderValue::from_str(&location(&state, upload.id)) {
        out.push((header::LOCATION, loc));
    }
    Ok(respond(StatusCode::CREATED, out))
}

/// tus: where an upload stands (`Upload-Offset`, `Upload-Length`, `Upload-Metadata`).
#[utoipa::path(
    head,
    path = "/api/v1/uploads/{id}",
    tag = "uploads",
    params(("id" = String, Path, description = "The upload's id"), ("Tus-Resumable" = inline(TusResumable), Header, description = "The tus version: `1.0.0`; another version answers 412, no version 400")),
    responses(
        (status = 200, description = "Where it stands", headers(
            ("Upload-Length" = u64, description = "The whole file's size"),
            ("Upload-Offset" = u64, description = "The bytes received so far"),
            ("Upload-Expires" = String, description = "When an unfinished upload is removed (an HTTP date)"),
            ("Siaran-Media-Id" = String, description = "Once complete: the media record's id"),
            ("Siaran-Media-Url" = String, description = "Once complete: the media record's address in the API"),
        )),
        (status = 400, description = "No `Tus-Resumable` version", body = ApiError),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The caller's role does not allow uploads", body = ApiError),
        (status = 404, description = "Not found (or not one the caller may see)", body = ApiError),
        (status = 410, description = "Expired or removed", body = ApiError),
        (status = 412, description = "`Tus-Resumable` names another version than `1.0.0`", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(%id))]
async fn head(
    State(state): State<AppState>,
    _uploader: Uploader,
    Path(id): Path<String>,
) -> Result<Response, TusError> {
    let upload = state.uploads().get(upload_id(&id)?).await?;
    let mut out = upload_headers(&state, &upload);
    out.push((UPLOAD_LENGTH, HeaderValue::from(upload.length)));
    if !upload.metadata.is_empty()
        && let Ok(meta) = HeaderValue::from_str(&upload.metadata)
    {
        out.push((UPLOAD_METADATA, meta));
    }
    Ok(respond(StatusCode::OK, out))
}

/// tus: the next bytes of an upload, from `Upload-Offset`.
#[utoipa::path(
    patch,
    path = "/api/v1/uploads/{id}",
    tag = "uploads",
    params(("id" = String, Path, description = "The upload's id"), ("Tus-Resumable" = inline(TusResumable), Header, description = "The tus version: `1.0.0`; another version answers 412, no version 400"), ("Upload-Offset" = u64, Header, description = "Where these bytes start: the offset the server has"),
        ("Upload-Checksum" = Option<String>, Header, nullable = false, description = "`sha256 BASE64` of this request's bytes", pattern = r"^sha256 [A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$")),
    request_body(content = Binary, content_type = "application/offset+octet-stream", description = "The next bytes"),
    responses(
        (status = 204, description = "Taken; the last bytes make the media record", headers(
            ("Upload-Offset" = u64, description = "The bytes received so far"),
            ("Upload-Expires" = String, description = "When an unfinished upload is removed (an HTTP date)"),
            ("Siaran-Media-Id" = String, description = "Once complete: the media record's id"),
            ("Siaran-Media-Url" = String, description = "Once complete: the media record's address in the API"),
        )),
        (status = 400, description = "A tus header (`Tus-Resumable` included) is missing or not readable", body = ApiError),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The caller's role does not allow uploads", body = ApiError),
        (status = 404, description = "Not found (or not one the caller may see)", body = ApiError),
        (status = 409, description = "`Upload-Offset` is not where the upload stands", body = ApiError),
        (status = 413, description = "Over `Tus-Max-Size`", body = ApiError),
        (status = 415, description = "Not `application/offset+octet-stream`, or the finished file is not media Siaran takes", body = ApiError),
        (status = 422, description = "Media that does not play", body = ApiError),
        (status = 429, description = "Over the caller's open-upload cap or the write rate limit (`Retry-After`)", body = ApiError),
        (status = 410, description = "Expired or removed", body = ApiError),
        (status = 412, description = "`Tus-Resumable` names another version than `1.0.0`", body = ApiError),
        (status = 460, description = "`Upload-Checksum` does not match the bytes received", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(%id))]
async fn patch(
    State(state): State<AppState>,
    _uploader: Uploader,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, TusError> {
    append(&state, &id, &headers, body).await
}

async fn append(
    state: &AppState,
    id: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, TusError> {
    let id = upload_id(id)?;
    if !is_offset_stream(headers) {
        return Err(AppError::Op(crate::service::Error::UnsupportedType {
            code: "invalid-content-type",
            msg: crate::http::error::Msg::new(
                format!("PATCH harus mengirim Content-Type: {OFFSET_STREAM}"),
                format!("A PATCH must send Content-Type: {OFFSET_STREAM}"),
            ),
        })
        .into());
    }
    let Some(offset) = number(headers, &UPLOAD_OFFSET)? else {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "upload-offset-required",
            "Header Upload-Offset wajib ada",
            "The Upload-Offset header is required",
        ));
    };
    let chunk = Chunk {
        offset,
        declared: number(headers, &header::CONTENT_LENGTH)?,
        sha256: checksum(headers)?,
        body: body_stream(body),
    };
    let permit = slot(state)?;
    let appended = state.uploads().append(id, chunk, permit).await?;
    Ok(respond(
        StatusCode::NO_CONTENT,
        upload_headers(state, &appended.upload),
    ))
}

/// tus termination: removes an upload and its bytes.
#[utoipa::path(
    delete,
    path = "/api/v1/uploads/{id}",
    tag = "uploads",
    params(("id" = String, Path, description = "The upload's id"), ("Tus-Resumable" = inline(TusResumable), Header, description = "The tus version: `1.0.0`; another version answers 412, no version 400")),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "No `Tus-Resumable` version", body = ApiError),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The caller's role does not allow uploads", body = ApiError),
        (status = 404, description = "Not found (or not one the caller may see)", body = ApiError),
        (status = 429, description = "Over the caller's open-upload cap or the write rate limit (`Retry-After`)", body = ApiError),
        (status = 410, description = "Expired or removed", body = ApiError),
        (status = 412, description = "`Tus-Resumable` names another version than `1.0.0`", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(%id))]
async fn terminate(
    State(state): State<AppState>,
    _uploader: Uploader,
    Path(id): Path<String>,
) -> Result<Response, TusError> {
    remove(&state, &id).await
}

async fn remove(state: &AppState, id: &str) -> Result<Response, TusError> {
    if state.uploads().remove(upload_id(id)?).await? {
        Ok(respond(StatusCode::NO_CONTENT, Vec::new()))
    } else {
        Err(UploadError::NotFound.into())
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/uploads/{id}",
    tag = "uploads",
    params(("id" = String, Path, description = "The upload's id"), ("Tus-Resumable" = inline(TusResumable), Header, description = "The tus version: `1.0.0`; another version answers 412, no version 400"), ("Upload-Offset" = Option<u64>, Header, nullable = false, description = "Where these bytes start: the offset the server has"),
        ("Upload-Checksum" = Option<String>, Header, nullable = false, description = "`sha256 BASE64` of this request's bytes", pattern = r"^sha256 [A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$"),
        ("X-HTTP-Method-Override" = inline(MethodOverride), Header, description = "The tus request this POST stands for")),
    request_body(content = Binary, content_type = "application/offset+octet-stream", description = "For `PATCH`: the next bytes"),
    responses(
        (status = 204, description = "As the PATCH or DELETE it stands for", headers(
            ("Upload-Offset" = u64, description = "The bytes received so far"),
            ("Upload-Expires" = String, description = "When an unfinished upload is removed (an HTTP date)"),
            ("Siaran-Media-Id" = String, description = "Once complete: the media record's id"),
            ("Siaran-Media-Url" = String, description = "Once complete: the media record's address in the API"),
        )),
        (status = 400, description = "A tus header (`Tus-Resumable` included) is missing or not readable", body = ApiError),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The caller's role does not allow uploads", body = ApiError),
        (status = 404, description = "Not found (or not one the caller may see)", body = ApiError),
        (status = 409, description = "`Upload-Offset` is not where the upload stands", body = ApiError),
        (status = 413, description = "Over `Tus-Max-Size`", body = ApiError),
        (status = 415, description = "Not `application/offset+octet-stream`, or the finished file is not media Siaran takes", body = ApiError),
        (status = 422, description = "Media that does not play", body = ApiError),
        (status = 429, description = "Over the caller's open-upload cap or the write rate limit (`Retry-After`)", body = ApiError),
        (status = 410, description = "Expired or removed", body = ApiError),
        (status = 412, description = "`Tus-Resumable` names another version than `1.0.0`", body = ApiError),
        (status = 460, description = "`Upload-Checksum` does not match the bytes received", body = ApiError),
        (status = 405, description = "Another method override", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
/// `X-HTTP-Method-Override` for clients behind proxies that pass only GET and POST.
#[tracing::instrument(skip_all, fields(%id))]
async fn method_override(
    State(state): State<AppState>,
    _uploader: Uploader,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, TusError> {
    match header_str(&headers, &HeaderName::from_static("x-http-method-override"))
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("PATCH") => append(&state, &id, &headers, body).await,
        Some("DELETE") => remove(&state, &id).await,
        None => Err(fail(
            StatusCode::BAD_REQUEST,
            "method-override-required",
            "POST ke unggahan perlu header X-HTTP-Method-Override: PATCH atau DELETE",
            "A POST to an upload needs an X-HTTP-Method-Override header: PATCH or DELETE",
        )),
        _ => Err(AppError::MethodNotAllowed.into()),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct UploadView {
    id: Uuid,
    offset: u64,
    length: u64,
    filename: String,
    complete: bool,
    /// When an unfinished upload is removed if not continued.
    expires_at: Option<DateTime<Utc>>,
    media_id: Option<String>,
    media: Option<MediaView>,
}

/// Where an upload stands as JSON, and the media record it became (not a tus request).
#[utoipa::path(
    get,
    path = "/api/v1/uploads/{id}",
    tag = "uploads",
    params(("id" = String, Path, description = "The upload's id")),
    responses(
        (status = 200, description = "The upload", body = UploadView),
        (status = 400, description = "A tus header (`Tus-Resumable` included) is missing or not readable", body = ApiError),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The caller's role does not allow uploads", body = ApiError),
        (status = 404, description = "Not found (or not one the caller may see)", body = ApiError),
        (status = 410, description = "Expired or removed", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(%id))]
async fn status(
    State(state): State<AppState>,
    _uploader: Uploader,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<UploadView>, TusError> {
    let upload = state.uploads().get(upload_id(&id)?).await?;
    let media = match upload.media_id {
        Some(m) => {
            let media = state.ctx.db.media(m).await.map_err(AppError::from)?;
            let quality = crate::service::quality::of_media(&state.ctx, m)
                .await
                .map_err(AppError::from)?;
            Some(MediaView::new(
                media,
                quality,
                &state.ctx.urls,
                UiLang::from_headers(&headers),
            ))
        }
        None => None,
    };
    Ok(Json(UploadView {
        id: upload.id,
        offset: upload.received,
        length: upload.length,
        filename: upload.filename,
        complete: upload.media_id.is_some(),
        expires_at: upload.media_id.is_none().then_some(upload.expires_at),
        media_id: upload.media_id.map(|m| m.to_string()),
        media,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_gives_the_file_name() {
        // "Rapat Pergub.mp3" and "audio/mpeg", as tus-js-client sends them.
        let raw = "filename UmFwYXQgUGVyZ3ViLm1wMw==,filetype YXVkaW8vbXBlZw==,empty";
        assert_eq!(metadata_filename(raw).unwrap(), "Rapat Pergub.mp3");
        assert_eq!(metadata_filename("name YS5tcDM=").unwrap(), "a.mp3");
        assert_eq!(metadata_filename("").unwrap(), "");
        assert!(metadata_filename("filename !!!").is_err());
    }

    #[test]
    fn checksums_are_sha256_in_base64() {
        let mut h = HeaderMap::new();
        let digest = [7u8; 32];
        let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
        h.insert(UPLOAD_CHECKSUM, format!("sha256 {b64}").parse().unwrap());
        assert_eq!(checksum(&h).unwrap(), Some(digest));
        h.insert(UPLOAD_CHECKSUM, format!("sha1 {b64}").parse().unwrap());
        assert_eq!(checksum(&h).unwrap_err().status, StatusCode::BAD_REQUEST);
        h.insert(UPLOAD_CHECKSUM, "sha256 AAAA".parse().unwrap());
        assert!(checksum(&h).is_err());
    }
}
