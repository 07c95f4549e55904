//! An in-process S3 server for integration tests: s3s-fs over a temporary folder, on a random
//! loopback port, with signature checking on, so requests go through the real AWS SDK and HTTP.
//!
//! s3s-fs does not implement ListMultipartUploads; `multipart_leftovers` reads its folder instead.

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
