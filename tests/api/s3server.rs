//! An in-process S3 server for integration tests: s3s-fs over a temporary folder, on a random
//! loopback port, with signature checking on, so requests go through the real AWS SDK and HTTP.
//!
//! s3s-fs does not implement ListMultipartUploads, which Siaran's reconciler needs:
//! `WithUploadListing` adds it by reading s3s-fs's folder (as `multipart_leftovers` does).

#![allow(dead_code)] // Each test binary that includes this module uses a different part of it.

use std::path::Path;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::conn::auto::Builder as ConnBuilder,
};

pub struct TestS3 {
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    pub access_key: String,
    pub secret_key: String,
    _dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl TestS3 {
    pub async fn start() -> TestS3 {
        let dir = tempfile::tempdir().expect("create S3 server folder");
        let access_key = "siaran-test".to_owned();
        let secret_key = format!("secret-{}", uuid::Uuid::new_v4().simple());

        let fs = s3s_fs::FileSystem::new(dir.path()).expect("open s3s-fs folder");
        let fs = WithUploadListing {
            fs,
            root: dir.path().to_path_buf(),
        };
        let mut builder = s3s::service::S3ServiceBuilder::new(fs);
        builder.set_auth(s3s::auth::SimpleAuth::from_single(
            access_key.clone(),
            secret_key.clone(),
        ));
        let service = builder.build();

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind S3 server");
        let endpoint = format!("http://{}", listener.local_addr().expect("local addr"));

        let server = tokio::spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let conn = http
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                tokio::spawn(async move {
                    // A client closing its connection early is not a test failure.
                    let _ = conn.await;
                });
            }
        });

        TestS3 {
            endpoint,
            access_key,
            secret_key,
            _dir: dir,
            server,
        }
    }

    /// A client signed with this server's credentials, path-style as S3-compatible servers need.
    pub fn client(&self) -> aws_sdk_s3::Client {
        client_for(
            &self.endpoint,
            &self.access_key,
            &self.secret_key,
            "us-east-1",
        )
    }

    pub async fn create_bucket(&self, name: &str) {
        create_bucket(&self.client(), name).await;
    }

    /// The folder s3s-fs stores buckets (as subfolders) and its bookkeeping files in.
    pub fn root(&self) -> &Path {
        self._dir.path()
    }

    /// Traces of multipart uploads neither completed nor aborted: s3s-fs keeps a
    /// `.upload-<id>.json` file and a `...upload-<id>.metadata.json` file per open upload, and a
    /// `.upload_id-<id>.part-<n>` file per part.
    pub fn multipart_leftovers(&self) -> Vec<String> {
        std::fs::read_dir(self.root())
            .expect("read S3 server folder")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.contains(".upload-") || name.starts_with(".upload_id-"))
            .collect()
    }
}

impl Drop for TestS3 {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The S3 server a scenario runs against: the in-process one, or the external server named by
/// `SIARAN_TEST_S3_ENDPOINT` (with `SIARAN_TEST_S3_ACCESS_KEY`, `SIARAN_TEST_S3_SECRET_KEY`,
/// `SIARAN_TEST_S3_REGION`), which `scripts/test` sets to run the suite against Garage too.
pub struct S3Target {
    pub endpoint: String,
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
    _local: Option<TestS3>,
}

impl S3Target {
    pub async fn new() -> S3Target {
        if let Ok(endpoint) = std::env::var("SIARAN_TEST_S3_ENDPOINT") {
            let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} is not set"));
            return S3Target {
                endpoint,
                access_key: var("SIARAN_TEST_S3_ACCESS_KEY"),
                secret_key: var("SIARAN_TEST_S3_SECRET_KEY"),
                region: std::env::var("SIARAN_TEST_S3_REGION")
                    .unwrap_or_else(|_| "us-east-1".into()),
                _local: None,
            };
        }
        let local = TestS3::start().await;
        S3Target {
            endpoint: local.endpoint.clone(),
            access_key: local.access_key.clone(),
            secret_key: local.secret_key.clone(),
            region: "us-east-1".into(),
            _local: Some(local),
        }
    }

    pub fn client(&self) -> aws_sdk_s3::Client {
        client_for(
            &self.endpoint,
            &self.access_key,
            &self.secret_key,
            &self.region,
        )
    }

    /// Creates a bucket with a name no other test uses, and returns the name.
    pub async fn fresh_bucket(&self) -> String {
        let name = format!(
            "siaran-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..16]
        );
        create_bucket(&self.client(), &name).await;
        name
    }
}

pub fn client_for(endpoint: &str, key: &str, secret: &str, region: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .credentials_provider(Credentials::new(key, secret, None, None, "siaran-tests"))
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

async fn create_bucket(client: &aws_sdk_s3::Client, name: &str) {
    client
        .create_bucket()
        .bucket(name)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "create bucket {name}: {}",
                aws_sdk_s3::error::DisplayErrorContext(e)
            )
        });
}

/// s3s-fs with ListMultipartUploads: every other operation Siaran and the tests use is passed
/// through unchanged.
struct WithUploadListing {
    fs: s3s_fs::FileSystem,
    root: std::path::PathBuf,
}

/// The impl with each listed operation handed to s3s-fs, plus the items given after `;`.
/// (One macro for the whole impl: `async_trait` must see the methods already written out.)
macro_rules! s3_impl {
    ($($op:ident: $input:ident => $output:ident),* ; $($extra:tt)*) => {
        #[async_trait::async_trait]
        impl s3s::S3 for WithUploadListing {
            $(
                async fn $op(
                    &self,
                    req: s3s::S3Request<s3s::dto::$input>,
                ) -> s3s::S3Result<s3s::S3Response<s3s::dto::$output>> {
                    self.fs.$op(req).await
                }
            )*
            $($extra)*
        }
    };
}

s3_impl! {
    put_object: PutObjectInput => PutObjectOutput,
    get_object: GetObjectInput => GetObjectOutput,
    head_object: HeadObjectInput => HeadObjectOutput,
    delete_object: DeleteObjectInput => DeleteObjectOutput,
    create_multipart_upload: CreateMultipartUploadInput => CreateMultipartUploadOutput,
    upload_part: UploadPartInput => UploadPartOutput,
    complete_multipart_upload: CompleteMultipartUploadInput => CompleteMultipartUploadOutput,
    abort_multipart_upload: AbortMultipartUploadInput => AbortMultipartUploadOutput,
    list_objects_v2: ListObjectsV2Input => ListObjectsV2Output,
    list_objects: ListObjectsInput => ListObjectsOutput,
    head_bucket: HeadBucketInput => HeadBucketOutput,
    create_bucket: CreateBucketInput => CreateBucketOutput,
    delete_bucket: DeleteBucketInput => DeleteBucketOutput,
    list_buckets: ListBucketsInput => ListBucketsOutput;

    /// The open uploads of the bucket, from s3s-fs's
    /// `.bucket-B64.object-B64.upload-ID.metadata.json` files, all in one page.
    async fn list_multipart_uploads(
        &self,
        req: s3s::S3Request<s3s::dto::ListMultipartUploadsInput>,
    ) -> s3s::S3Result<s3s::S3Response<s3s::dto::ListMultipartUploadsOutput>> {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let input = req.input;
        let prefix = input.prefix.clone().unwrap_or_default();
        let mut uploads = Vec::new();
        let entries = std::fs::read_dir(&self.root).map_err(|e| s3s::s3_error!(e, InternalError))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(rest) = name
                .strip_prefix(".bucket-")
                .and_then(|r| r.strip_suffix(".metadata.json"))
            else {
                continue;
            };
            let Some((bucket, rest)) = rest.split_once(".object-") else { continue };
            let Some((key, upload_id)) = rest.split_once(".upload-") else { continue };
            let decode = |s: &str| b64.decode(s).ok().and_then(|b| String::from_utf8(b).ok());
            let (Some(bucket), Some(key)) = (decode(bucket), decode(key)) else { continue };
            if bucket != input.bucket || !key.starts_with(&prefix) {
                continue;
            }
            let initiated = entry.metadata().and_then(|m| m.modified()).ok();
            uploads.push(s3s::dto::MultipartUpload {
                key: Some(key),
                upload_id: Some(upload_id.to_owned()),
                initiated: initiated.map(s3s::dto::Timestamp::from),
                ..Default::default()
            });
        }
        Ok(s3s::S3Response::new(s3s::dto::ListMultipartUploadsOutput {
            bucket: Some(input.bucket),
            prefix: input.prefix,
            is_truncated: Some(false),
            uploads: Some(uploads),
            ..Default::default()
        }))
    }
}
