//! Media: uploads (`POST /api/v1/media`), their records (`GET /api/v1/media/{id}`, with the
//! sound-quality analysis and the waveform's URLs), public delivery (`GET`/`HEAD
//! /media/{id}.{ext}`) with byte ranges and conditional requests, and the waveforms
//! (`/media/{id}/waveform.json`, `.dat`, `waveform-overview.json`).
//!
//! Delivery answers validators, 304, 416 and HEAD from the database row alone; the object store
//! is only asked for the bytes actually sent, with the range passed through.

use std::{
    net::{IpAddr, SocketAddr},
    pin::Pin,
    task::{Context, Poll},
};

use axum::{
    Extension, Router,
    body::Body,
    extract::{ConnectInfo, Path, Query, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::{Stream, TryStreamExt as _};
use serde::{Deserialize, Serialize};

use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    Json,
    auth::Uploader,
    conditional::{ETag, http_date, if_range_allows, not_modified},
    error::{UiLang, WarningView},
    openapi::{ApiError, Binary, Unavailable},
    or_not_found, parse_id,
    range::{RangeDecision, decide},
};
use crate::{
    analytics::{Hit, HitMethod, MediaHit, Recorder},
    app::AppState,
    config::{Delivery, PRESIGNED_TTL},
    domain::{Media, MediaId, Msg, Urls, quality::QualityState},
    http::error::AppError,
    media::MediaInfo,
    service::quality::{self, MediaQuality},
    storage::{ByteStream, ObjectKey},
};

pub fn router() -> Router<AppState> {
    Router::from(api())
        .route("/media/{file}", get(deliver))
        .route("/media/{id}/{file}", get(waveform))
}

/// The routes and their operations in the API's document (`http::openapi`).
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .routes(routes!(read))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MediaView {
    pub id: MediaId,
    pub filename: String,
    pub url: String,
    #[serde(flatten)]
    pub info: MediaInfo,
    pub created_at: DateTime<Utc>,
    /// The sound-quality analysis (issue 24): pending, done with its figures, or failed.
    pub quality: QualityView,
    /// The waveform's files, once the analysis is done.
    pub waveform: Option<WaveformView>,
}

/// `quality` of a media record: `state`, and when done the report's figures (warnings in the
/// request's language), when failed `error`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QualityView {
    pub state: QualityState,
    #[serde(flatten)]
    pub figures: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysed_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<WarningView>,
}

/// Where a media file's waveform is served, in audiowaveform's formats.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WaveformView {
    /// audiowaveform's JSON at the analysis's resolution.
    pub json_url: String,
    /// audiowaveform's binary `.dat` (peaks.js and waveform-data.js read it).
    pub dat_url: String,
    /// A coarse JSON for a whole-file view, a few thousand points at most.
    pub overview_url: String,
}

/// The waveform files a media file has, by the name they are served at.
const WAVEFORM_FILES: [&str; 3] = ["waveform.json", "waveform.dat", "waveform-overview.json"];

impl MediaView {
    pub fn new(media: Media, quality: MediaQuality, urls: &Urls, lang: UiLang) -> Self {
        let waveform = quality.record.as_ref().map(|_| {
            let [json, dat, overview] = WAVEFORM_FILES.map(|f| urls.waveform(media.id, f));
            WaveformView {
                json_url: json,
                dat_url: dat,
                overview_url: overview,
            }
        });
        MediaView {
            url: urls.media(media.id, &media.info.extension),
            id: media.id,
            filename: media.filename,
            info: media.info,
            created_at: media.created_at,
            quality: QualityView::new(quality, lang),
            waveform,
        }
    }
}

impl QualityView {
    fn new(quality: MediaQuality, lang: UiLang) -> Self {
        let text = |msg: Msg| match lang {
            UiLang::Id => msg.id,
            UiLang::En => msg.en,
        };
        let analysed_at = quality.record.as_ref().map(|r| r.analysed_at);
        // The figures as `siaran probe --quality` prints them, in the request's language.
        let figures = quality.record.as_ref().map(|record| {
            match serde_json::to_value(record.report.localized(lang == UiLang::En)) {
                Ok(serde_json::Value::Object(map)) => map,
                _ => serde_json::Map::new(),
            }
        });
        let error = (quality.state == QualityState::Failed)
            .then_some(quality.error)
            .flatten()
            .map(|e| WarningView {
                message: text(quality::error_message(&e)),
                code: e.code,
            });
        QualityView {
            state: quality.state,
            figures,
            analysed_at,
            error,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct UploadQuery {
    /// The file's name, given back on download.
    filename: Option<String>,
}

/// Uploads a media file (the body, streamed): it is probed, hashed and stored; a file that is not playable media is refused and nothing is kept.
#[utoipa::path(
    post,
    path = "/api/v1/media",
    tag = "media",
    params(UploadQuery),
    request_body(content = Binary, content_type = "application/octet-stream", description = "The recording (audio or video)"),
    responses(
        (status = 201, description = "The media record", body = MediaView, headers(("Location" = String, description = "The record's address in the API")),
            links(
                ("get_media_id" = (operation_id = "get_media_id", parameters(("id" = "$response.body#/id")))),
            )),
        (status = 400, description = "The upload was cut short", body = ApiError),
        (status = 401, description = "No token, or not a live one", body = ApiError),
        (status = 403, description = "The caller's role does not allow this", body = ApiError),
        (status = 413, description = "The body is over the limit", body = ApiError),
        (status = 415, description = "Not a media type Siaran takes, or empty", body = ApiError),
        (status = 422, description = "Media that does not play (no audio frames, cut short)", body = ApiError),
        (status = 429, description = "Over the rate limit (`Retry-After`)", body = ApiError),
        Unavailable,
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all)]
async fn upload(
    State(state): State<AppState>,
    _uploader: Uploader,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<impl IntoResponse, AppError> {
    let limit = state.settings.max_upload_bytes;
    super::refuse_declared_over(&headers, limit)?;
    let stream: ByteStream = Box::pin(body.into_data_stream().map_err(std::io::Error::other));
    let filename = query.filename.as_deref().unwrap_or_default();
    let media = crate::service::media::upload(&state.ctx, filename, stream, limit).await?;
    let location = format!("/api/v1/media/{}", media.id);
    // Just stored: its analysis is queued.
    let view = MediaView::new(
        media,
        MediaQuality::pending(),
        &state.ctx.urls,
        UiLang::from_headers(&headers),
    );
    Ok((
        StatusCode::CREATED,
        [
            (header::LOCATION, location),
            (header::VARY, "Accept-Language".to_owned()),
        ],
        Json(view),
    ))
}

/// A media record with its sound-quality analysis, public.
#[utoipa::path(
    get,
    path = "/api/v1/media/{id}",
    tag = "media",
    params(("id" = String, Path, description = "The media file's id (a lower-case UUID)")),
    responses(
        (status = 200, description = "The media record", body = MediaView),
        (status = 404, description = "Not found (or not one the caller may see)", body = ApiError),
        Unavailable,
    ),
)]
#[tracing::instrument(skip_all, fields(%id))]
async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, AppError> {
    let id: MediaId = parse_id("media", &id)?;
    let media = state
        .ctx
        .db
        .media(id)
        .await
        .map_err(or_not_found("media"))?;
    let quality = quality::of_media(&state.ctx, id).await?;
    let view = MediaView::new(
        media,
        quality,
        &state.ctx.urls,
        UiLang::from_headers(&headers),
    );
    // The warnings' language is the request's.
    Ok(([(header::VARY, "Accept-Language")], Json(view)))
}

/// `GET`/`HEAD /media/{id}/waveform.json` (and `.dat`, `waveform-overview.json`): a media
/// file's waveform once analysed. Never changes once there (the analysis is stored once), so
/// cached for a year, with validators and ranges as media files.
#[tracing::instrument(skip_all, fields(%id, %file))]
async fn waveform(
    State(state): State<AppState>,
    method: Method,
    Path((id, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let which = WAVEFORM_FILES
        .iter()
        .position(|f| *f == file)
        .ok_or(AppError::not_found("waveform"))?;
    let id: MediaId = parse_id("media", &id).map_err(|_| AppError::not_found("waveform"))?;
    let record = quality::record(&state.ctx, id).await?;
    let (stored, content_type) = match which {
        0 => (&record.waveform.json, "application/json"),
        1 => (&record.waveform.dat, "application/octet-stream"),
        _ => (&record.waveform.overview, "application/json"),
    };
    let (res, range) = match ranged(
        &headers,
        &ETag::strong(&stored.sha256),
        record.analysed_at,
        stored.size_bytes,
        |res| res.header(header::CONTENT_TYPE, content_type),
    )? {
        Ranged::Done(response) => return Ok(response),
        Ranged::Body(res, range) => (res, range),
    };
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        let key = ObjectKey::from_stored(stored.key.clone());
        Body::from_stream(state.ctx.store.get(&key, range).await?)
    };
    Ok(res.body(body).map_err(anyhow::Error::from)?)
}

#[derive(Debug, Deserialize)]
struct DeliveryQuery {
    download: Option<String>,
}

/// Media files never change: a replaced recording is a new media id, hence a new URL.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

#[tracing::instrument(skip_all, fields(%file))]
async fn deliver(
    State(state): State<AppState>,
    method: Method,
    Path(file): Path<String>,
    Query(query): Query<DeliveryQuery>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (id, ext) = file.rsplit_once('.').ok_or(AppError::not_found("media"))?;
    let id: MediaId = parse_id("media", id)?;
    let media = state
        .ctx
        .db
        .media(id)
        .await
        .map_err(or_not_found("media"))?;
    if media.info.extension != ext {
        return Err(AppError::not_found("media"));
    }
    let disposition = query
        .download
        .as_deref()
        .is_some_and(|d| d != "0")
        .then(|| content_disposition(&media.filename));
    let listener =
        peer.map(|Extension(ConnectInfo(addr))| super::client_ip(&state, addr.ip(), &headers));
    if let Some(location) = redirect_location(&state, &media, disposition.as_ref()).await? {
        // The store serves the bytes; what was asked for is what is counted.
        if method == Method::GET
            && let Some(ip) = listener
        {
            let requested = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
            let (status, range) = match decide(requested, media.info.size_bytes) {
                RangeDecision::Full => (200, None),
                RangeDecision::Partial(r) => (206, Some((r.start, r.end))),
                RangeDecision::Unsatisfiable => (416, None),
            };
            state
                .analytics
                .record(media_hit(&media, ip, &headers, status, range, None));
        }
        // Not cached anywhere: each play must come back here to be counted, and a presigned URL
        // expires.
        return Ok(Response::builder()
            .status(StatusCode::FOUND)
            .header(header::LOCATION, location)
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::empty())
            .map_err(anyhow::Error::from)?);
    }
    let (res, range) = match ranged(
        &headers,
        &ETag::strong(&media.info.sha256),
        media.created_at,
        media.info.size_bytes,
        |mut res| {
            res = res.header(header::CONTENT_TYPE, &media.info.mime_type);
            if let Some(disposition) = disposition {
                res = res.header(header::CONTENT_DISPOSITION, disposition);
            }
            res
        },
    )? {
        Ranged::Done(response) => return Ok(response),
        Ranged::Body(res, range) => (res, range),
    };
    let status = if range.is_some() {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        let stream = state.ctx.store.get(&media.storage_key, range).await?;
        match listener {
            // Counted when the response ends, with the bytes the client really took.
            Some(ip) => Body::from_stream(Counted {
                inner: stream,
                sent: 0,
                recorder: state.analytics.clone(),
                hit: Some(media_hit(
                    &media,
                    ip,
                    &headers,
                    status.as_u16(),
                    range.map(|r| (r.start, r.end)),
                    None,
                )),
            }),
            None => Body::from_stream(stream),
        }
    };
    Ok(res.body(body).map_err(anyhow::Error::from)?)
}

/// How an immutable stored object is answered, once its validators and the request's range
/// are weighed.
pub(crate) enum Ranged {
    /// 304 or 416: the whole response.
    Done(Response),
    /// 200 or 206: the response so far (status, validators, `Content-Range`, `Content-Length`
    /// set) and the range to read, `None` for the whole object.
    Body(
        axum::http::response::Builder,
        Option<crate::storage::ByteRange>,
    ),
}

/// The answer to a GET or HEAD of an immutable object of `size` bytes (media files, document
/// files): strong `ETag`, `Last-Modified`, a year's cache, `Accept-Ranges`; 304 on a matching
/// conditional; `If-Range`; 206 for one range, 416 for none satisfiable. `content` adds the
/// headers only a body answer has (type, disposition).
pub(crate) fn ranged(
    headers: &HeaderMap,
    etag: &ETag,
    modified: DateTime<Utc>,
    size: u64,
    content: impl FnOnce(axum::http::response::Builder) -> axum::http::response::Builder,
) -> Result<Ranged, AppError> {
    let res = Response::builder()
        .header(header::ETAG, etag.header_value())
        .header(header::LAST_MODIFIED, http_date(modified))
        .header(header::CACHE_CONTROL, IMMUTABLE)
        .header(header::ACCEPT_RANGES, "bytes");
    if not_modified(headers, etag, modified) {
        return Ok(Ranged::Done(
            res.status(StatusCode::NOT_MODIFIED)
                .body(Body::empty())
                .map_err(anyhow::Error::from)?,
        ));
    }
    let mut res = content(res);
    let range_header = if if_range_allows(headers, etag, modified) {
        headers.get(header::RANGE).and_then(|v| v.to_str().ok())
    } else {
        None
    };
    let (status, range) = match decide(range_header, size) {
        RangeDecision::Full => (StatusCode::OK, None),
        RangeDecision::Partial(r) => {
            res = res.header(
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{size}", r.start, r.end),
            );
            (StatusCode::PARTIAL_CONTENT, Some(r))
        }
        RangeDecision::Unsatisfiable => {
            return Ok(Ranged::Done(
                res.status(StatusCode::RANGE_NOT_SATISFIABLE)
                    .header(header::CONTENT_RANGE, format!("bytes */{size}"))
                    .header(header::CONTENT_LENGTH, 0)
                    .body(Body::empty())
                    .map_err(anyhow::Error::from)?,
            ));
        }
    };
    let length = range.map_or(size, |r| r.len());
    Ok(Ranged::Body(
        res.status(status).header(header::CONTENT_LENGTH, length),
        range,
    ))
}

fn media_hit(
    media: &Media,
    ip: IpAddr,
    headers: &HeaderMap,
    status: u16,
    range: Option<(u64, u64)>,
    bytes_sent: Option<u64>,
) -> MediaHit {
    MediaHit {
        hit: Hit {
            at: Utc::now(),
            ip,
            user_agent: headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
            media: media.id.to_string(),
            method: HitMethod::Get,
            status,
            range,
            bytes_sent,
            file_size: media.info.size_bytes,
        },
        media: media.id,
        duration_ms: media.info.duration_ms,
        header_bytes: media.info.header_bytes,
    }
}

/// A response body that counts what it sends and hands the hit to the recorder when it is
/// dropped: at its end, or when the client goes away mid-stream.
struct Counted {
    inner: ByteStream,
    sent: u64,
    recorder: Recorder,
    hit: Option<MediaHit>,
}

impl Stream for Counted {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.inner.as_mut().poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &polled {
            self.sent += chunk.len() as u64;
        }
        polled
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        if let Some(mut hit) = self.hit.take() {
            hit.hit.bytes_sent = Some(self.sent);
            self.recorder.record(hit);
        }
    }
}

/// Where a `redirect` or `cdn` delivery sends the client; `None` to stream the bytes here.
async fn redirect_location(
    state: &AppState,
    media: &Media,
    disposition: Option<&HeaderValue>,
) -> Result<Option<String>, AppError> {
    let key = &media.storage_key;
    match &state.settings.delivery {
        Delivery::Proxy => Ok(None),
        Delivery::Redirect => Ok(state
            .ctx
            .store
            .presign_get(
                key,
                PRESIGNED_TTL,
                &media.info.mime_type,
                disposition.and_then(|d| d.to_str().ok()),
            )
            .await?),
        Delivery::Cdn { base } => Ok(Some(
            base.join(key.as_str())
                .map_err(|e| anyhow::anyhow!("CDN URL for {key}: {e}"))?
                .to_string(),
        )),
    }
}

/// `attachment` with an ASCII fallback name and the exact name in RFC 5987 encoding.
fn content_disposition(filename: &str) -> HeaderValue {
    disposition("attachment", filename)
}

/// `KIND; filename="ASCII"; filename*=UTF-8''EXACT` (`KIND` is `attachment` or `inline`).
pub(crate) fn disposition(kind: &str, filename: &str) -> HeaderValue {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!(
        "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_disposition_keeps_the_name_exactly() {
        let v = content_disposition("Rapat Pergub \"49\" é.mp3");
        assert_eq!(
            v.to_str().unwrap(),
            "attachment; filename=\"Rapat Pergub _49_ _.mp3\"; \
             filename*=UTF-8''Rapat%20Pergub%20%2249%22%20%C3%A9.mp3"
        );
    }
}
