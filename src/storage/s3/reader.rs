//! GetObject for delivery, without the SDK's per-request pipeline.
//!
//! Every listen and every seek of a proxied file is a GetObject. Sent through the SDK, each one
//! went through endpoint resolution, signing, interceptors, retry classification and two layers
//! of body wrappers. Here the SDK still decides the URL and the signature, once: it presigns a
//! GetObject for the object (locally, with its endpoint rules, addressing style and
//! credentials), and that URL is reused for [`URL_TTL`] minus [`URL_MARGIN`] by a plain hyper
//! client, with the range as a header (a presigned URL signs only the host, so a Range header
//! may be added, as browsers and podcast apps do with the URLs of redirect mode). Under
//! `scripts/bench-delivery --parts s3` (1 MiB ranges from Garage) Siaran's CPU per range fell
//! from 1.5-1.8 ms to 0.84-0.85 ms, measured in turns on the same machine.
//!
//! The URL never leaves the process. A URL signed with temporary credentials can stop working
//! before its time (the credentials expired): a 403 drops it and the request is made once more
//! with a fresh one.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Empty;
use hyper::{Request, Response, StatusCode, Uri, body::Incoming, header};
use hyper_rustls::HttpsConnector;
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};

use super::{S3Store, service_error};
use crate::storage::{ByteRange, ObjectKey, StoreError};

/// What part of an object a GetObject asks for.
#[derive(Debug, Clone, Copy)]
pub(super) enum Part {
    Whole,
    /// `bytes=start-end`.
    Range(ByteRange),
    /// `bytes=start-`: the rest, from `start`.
    From(u64),
}

/// How long the presigned URLs used here are valid.
const URL_TTL: Duration = Duration::from_secs(15 * 60);
/// A URL is replaced this long before it expires, so no request starts on one about to expire.
const URL_MARGIN: Duration = Duration::from_secs(5 * 60);
/// URLs kept: one per object recently read.
const URLS_KEPT: usize = 4096;
/// The most of an error response's body read for its code and message.
const ERROR_BODY_LIMIT: usize = 16 * 1024;

pub(super) struct Reader {
    http: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    urls: quick_cache::sync::Cache<String, (Uri, Instant)>,
}

impl Reader {
    pub(super) fn new() -> Reader {
        let mut tcp = HttpConnector::new();
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(Duration::from_secs(5)));
        tcp.enforce_http(false);
        let https = crate::outbound::https_builder("S3 reads")
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        Reader {
            http: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(30))
                .build(https),
            urls: quick_cache::sync::Cache::new(URLS_KEPT),
        }
    }

    /// GetObject of `name` (`key` in the store), the whole object or `range` (`Part`), only if
    /// its ETag is still `if_match` when given: the response whose status is 200 or 206 (412
    /// when the ETag differs), its body not yet read.
    pub(super) async fn get(
        &self,
        store: &S3Store,
        key: &ObjectKey,
        name: &str,
        range: Part,
        if_match: Option<&header::HeaderValue>,
    ) -> Result<Response<Incoming>, StoreError> {
        let mut fresh = false;
        loop {
            let url = self.url(store, name, fresh).await?;
            let mut request = Request::get(url);
            match range {
                Part::Whole => {}
                Part::Range(r) => {
                    request = request.header(header::RANGE, format!("bytes={}-{}", r.start, r.end));
                }
                Part::From(start) => {
                    request = request.header(header::RANGE, format!("bytes={start}-"))
                }
            }
            if let Some(etag) = if_match {
                request = request.header(header::IF_MATCH, etag);
            }
            let request = request
                .body(Empty::new())
                .map_err(|e| StoreError::Backend(format!("S3 GetObject {name}: {e}")))?;
            let retry = !fresh;
            let response = match self.http.request(request).await {
                Ok(response) => response,
                // The pool already retries a request whose idle connection turned out closed;
                // anything else (refused, reset, timed out) is tried once more on a new URL.
                Err(_) if retry => {
                    fresh = true;
                    continue;
                }
                Err(e) => {
                    return Err(StoreError::Backend(format!(
                        "S3 GetObject {name}: {}",
                        crate::outbound::error_chain(&e)
                    )));
                }
            };
            match response.status() {
                StatusCode::OK | StatusCode::PARTIAL_CONTENT => return Ok(response),
                // Expired credentials behind a cached URL; a busy or restarting server.
                StatusCode::FORBIDDEN
                | StatusCode::INTERNAL_SERVER_ERROR
                | StatusCode::SERVICE_UNAVAILABLE
                    if retry =>
                {
                    self.urls.remove(name);
                    fresh = true;
                }
                // The object is no longer the one `if_match` names: the caller's to say.
                StatusCode::PRECONDITION_FAILED if if_match.is_some() => return Ok(response),
                status => {
                    let (code, message) = error_of(response).await;
                    if status == StatusCode::NOT_FOUND
                        && code.as_deref().is_none_or(|c| c == "NoSuchKey")
                    {
                        return Err(StoreError::NotFound(key.to_string()));
                    }
                    return Err(service_error(
                        "GetObject",
                        name,
                        code.as_deref(),
                        status.as_u16(),
                        message.as_deref(),
                    ));
                }
            }
        }
    }

    /// A presigned GetObject URL for `name`: the one kept, unless `fresh` or it is close to
    /// expiring.
    async fn url(&self, store: &S3Store, name: &str, fresh: bool) -> Result<Uri, StoreError> {
        let now = Instant::now();
        if !fresh
            && let Some((url, until)) = self.urls.get(name)
            && now < until
        {
            return Ok(url);
        }
        let presigned = store.presigned_get(name, URL_TTL, None, None).await?;
        let url: Uri = presigned.parse().map_err(|e| {
            StoreError::Backend(format!("presign GetObject {name}: not a URL: {e}"))
        })?;
        self.urls
            .insert(name.to_owned(), (url.clone(), now + (URL_TTL - URL_MARGIN)));
        Ok(url)
    }
}

/// The `Code` and `Message` of an S3 error response's XML body, when it has them.
async fn error_of(response: Response<Incoming>) -> (Option<String>, Option<String>) {
    use http_body_util::BodyExt as _;
    let limited = http_body_util::Limited::new(response.into_body(), ERROR_BODY_LIMIT);
    let Ok(body) = limited.collect().await.map(|b| b.to_bytes()) else {
        return (None, None);
    };
    let text = String::from_utf8_lossy(&body);
    let element = |tag: &str| {
        let open = format!("<{tag}>");
        let start = text.find(&open)? + open.len();
        let end = start + text[start..].find(&format!("</{tag}>"))?;
        let raw = text[start..end].trim();
        let value =
            quick_xml::escape::unescape(raw).map_or_else(|_| raw.to_owned(), |v| v.into_owned());
        (!value.is_empty()).then_some(value)
    };
    (element("Code"), element("Message"))
}
