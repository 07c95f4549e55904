//! S3 object store (AWS S3 or a compatible server: MinIO, Garage, Ceph RGW, ...).
//!
//! Objects live in one bucket, optionally under a prefix. Uploads stream through a single part
//! buffer: one PutObject below `PART_SIZE`, a multipart upload above it, aborted on any error so
//! no invisible parts are left to pay for. This module owns only the objects under its prefix.

mod reader;

use reader::Part;

use std::{fmt, io, sync::Arc};

use aws_sdk_s3::{
    Client,
    config::{BehaviorVersion, Region, http::HttpResponse},
    error::{DisplayErrorContext, ProvideErrorMetadata, SdkError},
    presigning::PresigningConfig,
    primitives::ByteStream as SdkByteStream,
    types::{CompletedMultipartUpload, CompletedPart},
};
use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use http_body_util::BodyExt as _;

use super::{
    ByteRange, ByteStream, Listed, ObjectKey, ObjectMeta, ObjectStore, StoreError, Unfinished,
};

/// Size of each multipart part, and the most of a body held in memory at once. S3 wants parts of
/// at least 5 MiB (except the last) and at most 10,000 of them, so objects up to 80 GiB fit.
pub const PART_SIZE: usize = 8 * 1024 * 1024;

const MAX_PARTS: i32 = 10_000;

#[derive(Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
    prefix: String,
    /// GetObject for delivery (see `reader`).
    reader: Arc<reader::Reader>,
}

impl fmt::Debug for S3Store {
    // The client's configuration is long and says nothing useful about which store this is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Store")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl S3Store {
    /// Builds a store from `s3://BUCKET[/PREFIX]`. Credentials, region and endpoint come from the
    /// standard AWS sources (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
    /// `AWS_ENDPOINT_URL`, profiles, instance roles). Does not contact the server: call `check`.
    pub async fn from_url(url: &url::Url) -> Result<S3Store, StoreError> {
        if url.scheme() != "s3" {
            return Err(StoreError::Backend(format!(
                "expected an s3://BUCKET[/PREFIX] URL, got scheme {:?}",
                url.scheme()
            )));
        }
        let bucket = url
            .host_str()
            .filter(|b| !b.is_empty())
            .ok_or_else(|| StoreError::Backend("the s3:// URL names no bucket".to_owned()))?
            .to_owned();
        let env_set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
        let custom_endpoint = env_set("AWS_ENDPOINT_URL") || env_set("AWS_ENDPOINT_URL_S3");
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if custom_endpoint && !env_set("AWS_REGION") && !env_set("AWS_DEFAULT_REGION") {
            // MinIO, Garage and Ceph mostly ignore the region, but SigV4 needs one to sign with;
            // setting it here also keeps the SDK from asking EC2's metadata service, which such
            // hosts do not have.
            loader = loader.region(Region::new("us-east-1"));
        }
        let shared = loader.load().await;
        let mut config = aws_sdk_s3::config::Builder::from(&shared);
        if shared.region().is_none() {
            config = config.region(Region::new("us-east-1"));
        }
        let custom_endpoint = custom_endpoint || shared.endpoint_url().is_some();
        if custom_endpoint {
            // MinIO, Garage and Ceph are usually reached by one host name without wildcard DNS
            // for `BUCKET.host`, so the bucket goes in the path.
            config = config.force_path_style(true);
        }
        let client = Client::from_conf(config.build());
        Ok(S3Store::new(client, bucket, url.path()))
    }

    pub fn new(client: Client, bucket: impl Into<String>, prefix: impl AsRef<str>) -> S3Store {
        S3Store {
            client,
            bucket: bucket.into(),
            prefix: prefix.as_ref().trim_matches('/').to_owned(),
            reader: Arc::new(reader::Reader::new()),
        }
    }

    /// The listing prefix: the store's folder with its slash, or nothing.
    fn list_prefix(&self) -> String {
        if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        }
    }

    /// The key of an object name under the prefix.
    fn key_of(&self, name: &str) -> Option<ObjectKey> {
        let key = name.strip_prefix(&self.list_prefix())?;
        (!key.is_empty()).then(|| ObjectKey::from_stored(key.to_owned()))
    }

    fn object_name(&self, key: &ObjectKey) -> String {
        let key = key.as_str().trim_start_matches('/');
        if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}/{key}", self.prefix)
        }
    }

    /// A presigned GetObject URL for object `name`, with the response headers to override.
    /// Signing is local: no request reaches the server here.
    async fn presigned_get(
        &self,
        name: &str,
        ttl: std::time::Duration,
        content_type: Option<&str>,
        content_disposition: Option<&str>,
    ) -> Result<String, StoreError> {
        let config = PresigningConfig::expires_in(ttl)
            .map_err(|e| StoreError::Backend(format!("presigning {name}: {e}")))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(name)
            .set_response_content_type(content_type.map(str::to_owned))
            .set_response_content_disposition(content_disposition.map(str::to_owned))
            .presigned(config)
            .await
            .map_err(|e| sdk_error("presign GetObject", name, &e))?;
        Ok(request.uri().to_owned())
    }

    async fn put_single(
        &self,
        key: &ObjectKey,
        name: &str,
        content_type: &str,
        body: Bytes,
    ) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(name)
            .content_type(content_type)
            // Create-only. AWS, MinIO and s3s honour it (412 if the object exists); for servers
            // that ignore it, `put` has checked with a HEAD first.
            .if_none_match("*")
            .body(SdkByteStream::from(body))
            .send()
            .await
            .map_err(|e| create_only_error("PutObject", key, name, &e))?;
        Ok(())
    }

    /// Uploads `first` (one full part or more) and the rest of `body` as a multipart upload.
    async fn put_multipart(
        &self,
        key: &ObjectKey,
        name: &str,
        content_type: &str,
        first: BytesMut,
        body: ByteStream,
    ) -> Result<u64, StoreError> {
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(name)
            .content_type(content_type)
            .send()
            .await
            .map_err(|e| sdk_error("CreateMultipartUpload", name, &e))?;
        let upload_id = created.upload_id().ok_or_else(|| {
            StoreError::Backend(format!(
                "CreateMultipartUpload {name}: the server returned no upload id"
            ))
        })?;

        let mut guard = AbortGuard {
            client: self.client.clone(),
            bucket: self.bucket.clone(),
            name: name.to_owned(),
            upload_id: upload_id.to_owned(),
            armed: true,
        };
        let result = self.upload_parts(key, name, upload_id, first, body).await;
        guard.armed = false;
        if result.is_err() {
            // Awaited here rather than left to the guard so the upload is gone when `put`
            // returns; the guard only covers a cancelled future.
            abort_upload(&self.client, &self.bucket, name, upload_id).await;
        }
        result
    }

    async fn upload_parts(
        &self,
        key: &ObjectKey,
        name: &str,
        upload_id: &str,
        mut buf: BytesMut,
        mut body: ByteStream,
    ) -> Result<u64, StoreError> {
        let mut parts = Vec::new();
        let mut total: u64 = 0;
        let mut ended = false;
        loop {
            while buf.len() >= PART_SIZE || (ended && !buf.is_empty()) {
                let part = buf.split_to(buf.len().min(PART_SIZE)).freeze();
                let number = i32::try_from(parts.len() + 1).unwrap_or(i32::MAX);
                if number > MAX_PARTS {
                    return Err(StoreError::Backend(format!(
                        "{key} is larger than S3 allows in {MAX_PARTS} parts of {PART_SIZE} bytes"
                    )));
                }
                total += part.len() as u64;
                let uploaded = self
                    .client
                    .upload_part()
                    .bucket(&self.bucket)
                    .key(name)
                    .upload_id(upload_id)
                    .part_number(number)
                    .body(SdkByteStream::from(part))
                    .send()
                    .await
                    .map_err(|e| sdk_error("UploadPart", name, &e))?;
                parts.push(
                    CompletedPart::builder()
                        .part_number(number)
                        .set_e_tag(uploaded.e_tag().map(str::to_owned))
                        .build(),
                );
            }
            if ended {
                break;
            }
            ended = fill_part(&mut body, &mut buf).await?;
        }

        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(name)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            // See `put_single`: create-only where the server supports it.
            .if_none_match("*")
            .send()
            .await
            .map_err(|e| create_only_error("CompleteMultipartUpload", key, name, &e))?;
        Ok(total)
    }
}

/// Reads chunks into `buf` until it holds a full part or the body ends; returns whether it ended.
/// Chunks are appended whole, so `buf` exceeds `PART_SIZE` by less than one chunk.
async fn fill_part(body: &mut ByteStream, buf: &mut BytesMut) -> Result<bool, StoreError> {
    while buf.len() < PART_SIZE {
        match body.next().await {
            Some(chunk) => buf.extend_from_slice(&chunk?),
            None => return Ok(true),
        }
    }
    Ok(false)
}

async fn abort_upload(client: &Client, bucket: &str, name: &str, upload_id: &str) {
    let aborted = client
        .abort_multipart_upload()
        .bucket(bucket)
        .key(name)
        .upload_id(upload_id)
        .send()
        .await;
    if let Err(e) = aborted {
        // The caller reports the error that caused the abort; this one only needs a trace for
        // whoever cleans up (a bucket lifecycle rule for incomplete uploads also catches it).
        tracing::warn!(
            bucket,
            object = name,
            upload_id,
            error = %DisplayErrorContext(&e),
            "could not abort multipart upload"
        );
    }
}

/// Aborts the multipart upload if `put` is dropped mid-upload (a client that disconnects drops
/// the request handler), since no code after an `.await` runs then.
struct AbortGuard {
    client: Client,
    bucket: String,
    name: String,
    upload_id: String,
    armed: bool,
}

impl Drop for AbortGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(upload_id = %self.upload_id, "multipart upload left behind: no runtime to abort it");
            return;
        };
        let client = self.client.clone();
        let bucket = std::mem::take(&mut self.bucket);
        let name = std::mem::take(&mut self.name);
        let upload_id = std::mem::take(&mut self.upload_id);
        runtime.spawn(async move { abort_upload(&client, &bucket, &name, &upload_id).await });
    }
}

fn status_of<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

/// A create-only write refused because the object exists (412) is `AlreadyExists`.
fn create_only_error<E>(
    op: &str,
    key: &ObjectKey,
    name: &str,
    err: &SdkError<E, HttpResponse>,
) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if status_of(err) == Some(412) {
        StoreError::AlreadyExists(key.to_string())
    } else {
        sdk_error(op, name, err)
    }
}

/// An error the S3 server answered with, as one line: its code and message.
fn service_error(
    op: &str,
    name: &str,
    code: Option<&str>,
    status: u16,
    message: Option<&str>,
) -> StoreError {
    let code = code.unwrap_or("unknown error");
    StoreError::Backend(match message {
        Some(message) => format!("S3 {op} {name}: {code} (HTTP {status}): {message}"),
        None => format!("S3 {op} {name}: {code} (HTTP {status})"),
    })
}

/// An SDK error as one line for logs: the service's code and message when the server answered,
/// the whole cause chain (connection refused, DNS, TLS, timeout) when it did not.
fn sdk_error<E>(op: &str, name: &str, err: &SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let text = match err {
        SdkError::ServiceError(service) => {
            return service_error(
                op,
                name,
                service.err().code(),
                service.raw().status().as_u16(),
                service.err().message(),
            );
        }
        other => format!("S3 {op} {name}: {}", DisplayErrorContext(other)),
    };
    StoreError::Backend(text)
}

#[async_trait::async_trait]
impl ObjectStore for S3Store {
    #[tracing::instrument(skip_all, fields(bucket = %self.bucket))]
    async fn check(&self) -> Result<(), StoreError> {
        match self.client.head_bucket().bucket(&self.bucket).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let bucket = &self.bucket;
                Err(StoreError::Backend(match status_of(&e) {
                    Some(404) => format!("bucket '{bucket}' does not exist"),
                    Some(301) => format!(
                        "bucket '{bucket}' is in another region than the one configured \
                         (set AWS_REGION)"
                    ),
                    Some(status @ (400 | 401 | 403)) => format!(
                        "bucket '{bucket}' is not accessible with these credentials \
                         (HTTP {status})"
                    ),
                    Some(status) => format!(
                        "bucket '{bucket}' does not exist or is not accessible (HTTP {status})"
                    ),
                    None => format!(
                        "could not reach S3 to check bucket '{bucket}': {}",
                        DisplayErrorContext(&e)
                    ),
                }))
            }
        }
    }

    #[tracing::instrument(skip_all, fields(bucket = %self.bucket, key = %key))]
    async fn put(
        &self,
        key: &ObjectKey,
        content_type: &str,
        mut body: ByteStream,
    ) -> Result<u64, StoreError> {
        let name = self.object_name(key);
        // `If-None-Match: *` below makes the write create-only where the server honours it;
        // Garage 2.5 ignores it (measured: a second put overwrote), so ask first. Only a found
        // object stops the put: AWS answers 403 rather than 404 to a key without ListBucket
        // rights, and a real outage fails the put itself. The window between HEAD and PUT is
        // harmless: keys are fresh UUIDs, this only guards against bugs.
        if self.head(key).await.is_ok() {
            return Err(StoreError::AlreadyExists(key.to_string()));
        }
        let mut buf = BytesMut::new();
        let ended = fill_part(&mut body, &mut buf).await?;
        // An object of exactly PART_SIZE goes as one part: telling it from a longer one would
        // mean reading ahead a chunk, for no gain.
        if ended {
            let len = buf.len() as u64;
            self.put_single(key, &name, content_type, buf.freeze())
                .await?;
            return Ok(len);
        }
        self.put_multipart(key, &name, content_type, buf, body)
            .await
    }

    #[tracing::instrument(skip_all, fields(bucket = %self.bucket, key = %key))]
    async fn get(
        &self,
        key: &ObjectKey,
        range: Option<ByteRange>,
    ) -> Result<ByteStream, StoreError> {
        let name = self.object_name(key);
        let part = range.map_or(Part::Whole, Part::Range);
        let response = self.reader.get(self, key, &name, part, None).await?;
        let len = response
            .headers()
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if let (Some(r), Some(len)) = (range, len)
            && len != r.len()
        {
            // A server that ignored the Range header would send the whole object, which would
            // then go out as the body of a 206 response.
            return Err(StoreError::Backend(format!(
                "S3 GetObject {name}: asked for {} bytes ({}-{}), got {len}",
                r.len(),
                r.start,
                r.end
            )));
        }
        let start = range.map_or(0, |r| r.start);
        let reading = Reading {
            store: self.clone(),
            key: key.clone(),
            etag: response.headers().get(hyper::header::ETAG).cloned(),
            next: start,
            end: len.map(|len| start + len),
            body: body_stream(response),
            name,
            failures: 0,
        };
        Ok(Box::pin(futures_util::stream::unfold(
            Some(reading),
            |reading| async move {
                let mut reading = reading?;
                match reading.next_chunk().await {
                    Ok(Some(chunk)) => Some((Ok(chunk), Some(reading))),
                    Ok(None) => None,
                    Err(e) => Some((Err(e), None)),
                }
            },
        )))
    }

    #[tracing::instrument(skip_all, fields(bucket = %self.bucket, key = %key))]
    async fn presign_get(
        &self,
        key: &ObjectKey,
        ttl: std::time::Duration,
        content_type: &str,
        content_disposition: Option<&str>,
    ) -> Result<Option<String>, StoreError> {
        let name = self.object_name(key);
        self.presigned_get(&name, ttl, Some(content_type), content_disposition)
            .await
            .map(Some)
    }

    #[tracing::instrument(skip_all, fields(bucket = %self.bucket, key = %key))]
    async fn head(&self, key: &ObjectKey) -> Result<ObjectMeta, StoreError> {
        let name = self.object_name(key);
        let output = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(&name)
            .send()
            .await
            .map_err(|e| {
                // HEAD responses have no body, so a missing object is only a 404.
                if e.as_service_error().is_some_and(|s| s.is_not_found())
                    || status_of(&e) == Some(404)
                {
                    StoreError::NotFound(key.to_string())
                } else {
                    sdk_error("HeadObject", &name, &e)
                }
            })?;
        let size = output
            .content_length()
            .and_then(|len| u64::try_from(len).ok())
            .ok_or_else(|| {
                StoreError::Backend(format!("S3 HeadObject {name}: no valid Content-Length"))
            })?;
        Ok(ObjectMeta { size })
    }

    #[tracing::instrument(skip_all, fields(bucket = %self.bucket, key = %key))]
    async fn delete(&self, key: &ObjectKey) -> Result<(), StoreError> {
        let name = self.object_name(key);
        // S3 answers 204 for a missing key too, which is what the trait asks for.
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(&name)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteObject", &name, &e))?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(bucket = %self.bucket))]
    async fn list(&self) -> Result<Vec<Listed>, StoreError> {
        let prefix = self.list_prefix();
        let mut out = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error("ListObjectsV2", &prefix, &e))?;
            for object in page.contents() {
                let Some(key) = object.key().and_then(|name| self.key_of(name)) else {
                    continue;
                };
                out.push(Listed {
                    key,
                    modified: object
                        .last_modified()
                        .and_then(|t| DateTime::from_timestamp_millis(t.to_millis().ok()?))
                        .unwrap_or_else(Utc::now),
                });
            }
        }
        Ok(out)
    }

    #[tracing::instrument(skip_all, fields(bucket = %self.bucket))]
    async fn unfinished(&self) -> Result<Vec<Unfinished>, StoreError> {
        let prefix = self.list_prefix();
        let mut out = Vec::new();
        let (mut key_marker, mut upload_marker) = (None::<String>, None::<String>);
        loop {
            let page = self
                .client
                .list_multipart_uploads()
                .bucket(&self.bucket)
                .prefix(&prefix)
                .set_key_marker(key_marker.take())
                .set_upload_id_marker(upload_marker.take())
                .send()
                .await
                .map_err(|e| sdk_error("ListMultipartUploads", &prefix, &e))?;
            for upload in page.uploads() {
                let (Some(name), Some(id)) = (upload.key(), upload.upload_id()) else {
                    continue;
                };
                out.push(Unfinished {
                    key: self.key_of(name),
                    handle: format!("{id} {name}"),
                    since: upload
                        .initiated()
                        .and_then(|t| DateTime::from_timestamp_millis(t.to_millis().ok()?))
                        .unwrap_or_else(Utc::now),
                });
            }
            if page.is_truncated() != Some(true) {
                break;
            }
            key_marker = page.next_key_marker().map(str::to_owned);
            upload_marker = page.next_upload_id_marker().map(str::to_owned);
            if key_marker.is_none() && upload_marker.is_none() {
                break;
            }
        }
        Ok(out)
    }

    #[tracing::instrument(skip_all, fields(bucket = %self.bucket, handle = %unfinished.handle))]
    async fn abort(&self, unfinished: &Unfinished) -> Result<(), StoreError> {
        // The handle is "UPLOAD_ID OBJECT_NAME" (ids have no spaces; names may).
        let Some((id, name)) = unfinished.handle.split_once(' ') else {
            return Err(StoreError::Backend(format!(
                "not a multipart upload handle: {:?}",
                unfinished.handle
            )));
        };
        match self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(name)
            .upload_id(id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if status_of(&e) == Some(404) => Ok(()),
            Err(e) => Err(sdk_error("AbortMultipartUpload", name, &e)),
        }
    }
}

/// A GetObject's body that survives the store dropping it: when the connection breaks (or closes
/// short of the length the response announced), the rest is asked for from the next byte, only
/// if the object's ETag is unchanged, so a listener gets every byte once and in order even when
/// the S3 node serving the stream dies (a replicated cluster answers from another). It gives up
/// after [`RESUME_ATTEMPTS`] failures in a row with no byte in between, and the error then ends
/// the stream, which ends the response short of its length: a client sees the failure rather
/// than a truncated file.
struct Reading {
    store: S3Store,
    key: ObjectKey,
    name: String,
    /// The ETag of the first response; without one the object cannot be checked and is not
    /// resumed.
    etag: Option<hyper::header::HeaderValue>,
    /// The offset of the next byte to pass on.
    next: u64,
    /// One past the last byte asked for, when the response said its length.
    end: Option<u64>,
    body: futures_util::stream::BoxStream<'static, Result<Bytes, hyper::Error>>,
    /// Failures since the last byte received.
    failures: u32,
}

/// Attempts to resume one broken read before giving up: a cluster re-routes to a live node
/// within a few seconds (Garage marks a node down after its ping timeout).
const RESUME_ATTEMPTS: u32 = 4;

fn body_stream(
    response: hyper::Response<hyper::body::Incoming>,
) -> futures_util::stream::BoxStream<'static, Result<Bytes, hyper::Error>> {
    Box::pin(response.into_body().into_data_stream())
}

impl Reading {
    async fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        loop {
            let broken = match self.body.next().await {
                Some(Ok(chunk)) if chunk.is_empty() => continue,
                Some(Ok(chunk)) => {
                    self.next += chunk.len() as u64;
                    self.failures = 0;
                    return Ok(Some(chunk));
                }
                Some(Err(e)) => crate::outbound::error_chain(&e),
                None if self.end.is_some_and(|end| self.next < end) => {
                    "the connection closed early".to_owned()
                }
                None => return Ok(None),
            };
            self.resume(&broken).await?;
        }
    }

    /// Asks for the rest of the object, from `next`.
    async fn resume(&mut self, broken: &str) -> io::Result<()> {
        let give_up = |why: String| {
            tracing::warn!(object = %self.name, at = self.next, %why, "S3 read failed");
            io::Error::other(format!(
                "S3 GetObject {} broke at byte {}: {why}",
                self.name, self.next
            ))
        };
        let Some(etag) = self.etag.clone() else {
            return Err(give_up(format!("{broken} (no ETag to resume by)")));
        };
        loop {
            if self.failures >= RESUME_ATTEMPTS {
                return Err(give_up(broken.to_owned()));
            }
            self.failures += 1;
            // 0.1 s, 0.4 s, 0.9 s, 1.6 s: past a node's failover, under a player's patience.
            tokio::time::sleep(std::time::Duration::from_millis(
                100 * u64::from(self.failures * self.failures),
            ))
            .await;
            tracing::info!(object = %self.name, at = self.next, %broken, "S3 read broke; resuming");
            let part = match self.end {
                Some(end) => Part::Range(ByteRange {
                    start: self.next,
                    end: end - 1,
                }),
                None => Part::From(self.next),
            };
            let response = match self
                .store
                .reader
                .get(&self.store, &self.key, &self.name, part, Some(&etag))
                .await
            {
                Ok(response) if response.status() == hyper::StatusCode::PRECONDITION_FAILED => {
                    return Err(give_up("the object changed while it was read".to_owned()));
                }
                Ok(response) => response,
                Err(e) => {
                    tracing::debug!(error = %e, "resuming an S3 read failed");
                    continue;
                }
            };
            // The rest must start where the first part stopped.
            let starts_at = response
                .headers()
                .get(hyper::header::CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("bytes "))
                .and_then(|v| v.split('-').next()?.parse::<u64>().ok());
            if response.status() != hyper::StatusCode::PARTIAL_CONTENT
                || starts_at != Some(self.next)
            {
                return Err(give_up(format!(
                    "the store answered the rest with {} from {starts_at:?}",
                    response.status()
                )));
            }
            self.body = body_stream(response);
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(prefix: &str) -> S3Store {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .build();
        S3Store::new(Client::from_conf(config), "bucket", prefix)
    }

    #[test]
    fn object_names() {
        let key = ObjectKey::from_stored("media/ab/cd/x.mp3".to_owned());
        assert_eq!(store("").object_name(&key), "media/ab/cd/x.mp3");
        assert_eq!(store("/").object_name(&key), "media/ab/cd/x.mp3");
        assert_eq!(store("site").object_name(&key), "site/media/ab/cd/x.mp3");
        assert_eq!(store("/a/b/").object_name(&key), "a/b/media/ab/cd/x.mp3");
    }

    #[tokio::test]
    async fn from_url_parses_bucket_and_prefix() {
        let url = url::Url::parse("s3://media-bucket/siaran/prod/").unwrap();
        let store = S3Store::from_url(&url).await.unwrap();
        assert_eq!(store.bucket, "media-bucket");
        assert_eq!(store.prefix, "siaran/prod");

        let url = url::Url::parse("s3://media-bucket").unwrap();
        let store = S3Store::from_url(&url).await.unwrap();
        assert_eq!(store.prefix, "");

        let url = url::Url::parse("https://media-bucket/x").unwrap();
        assert!(S3Store::from_url(&url).await.is_err());
    }
}
