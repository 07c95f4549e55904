//! `TestApp::spawn(backend)`: the real service on a real port, on SQLite + filesystem or on
//! PostgreSQL + an S3 protocol server, with its own database, bucket and folders.

use std::{path::PathBuf, sync::Arc};

use chrono::Utc;
use siaran::{
    app::{AppState, serve},
    config::Settings,
    db::{AnyDb, ApiToken, Db, Role, new_row_id},
    service::tokens,
    storage::{ObjectStore, fs::FsStore, s3::S3Store},
};
use sqlx::{Connection as _, Executor as _, PgConnection};
use tempfile::TempDir;

use crate::s3server::S3Target;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    SqliteFs,
    PostgresS3,
}

/// The PostgreSQL server the suite runs against. `scripts/test` starts one and sets this; the
/// suite fails rather than silently skipping PostgreSQL.
pub fn postgres_admin_url() -> String {
    std::env::var("SIARAN_TEST_POSTGRES_URL").expect(
        "SIARAN_TEST_POSTGRES_URL is not set: run the suite with scripts/test, which starts PostgreSQL",
    )
}

/// A new signing key in `dir` (`signing-key.pem`, where the embedded default keeps its own);
/// returns its path, for `SIARAN_SIGNING_KEY`.
pub fn signing_key_in(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("signing-key.pem");
    siaran::service::transparency::write_key(
        &path,
        &siaran::domain::publication::SigningIdentity::generate(),
    )
    .expect("signing key written");
    path
}

/// A fresh, uniquely named PostgreSQL database; returns its URL.
pub async fn fresh_postgres_db() -> String {
    let admin = postgres_admin_url();
    let name = format!("siaran_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = PgConnection::connect(&admin)
        .await
        .expect("connect to the test PostgreSQL server");
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create test database");
    let _ = conn.close().await;
    with_database(&admin, &name)
}

/// Replaces the database name in a PostgreSQL URL (`postgres://u@h/OLD?q` -> `.../NEW?q`).
fn with_database(url: &str, name: &str) -> String {
    let mut u = url::Url::parse(url).expect("postgres URL");
    u.set_path(&format!("/{name}"));
    u.to_string()
}

pub async fn fresh_sqlite_db(dir: &TempDir) -> String {
    format!("sqlite://{}", dir.path().join("siaran.db").display())
}

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub http: reqwest::Client,
    pub admin_token: String,
    pub editor_token: String,
    /// Holds the database file, media folder and spool until the test ends.
    _dir: TempDir,
    pub s3: Option<S3Target>,
    pub bucket: String,
    pub media_root: PathBuf,
    pub spool_dir: PathBuf,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        TestApp::spawn_with(backend, |_| {}).await
    }

    /// Like `spawn`, with a chance to change the settings first.
    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut Settings)) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let media_root = dir.path().join("media");
        let spool_dir = dir.path().join("spool");
        let (db_url, store, s3, bucket): (String, Arc<dyn ObjectStore>, _, _) = match backend {
            Backend::SqliteFs => (
                fresh_sqlite_db(&dir).await,
                Arc::new(FsStore::open(media_root.clone()).await.expect("fs store")),
                None,
                String::new(),
            ),
            Backend::PostgresS3 => {
                let s3 = S3Target::new().await;
                let bucket = s3.fresh_bucket().await;
                let store = S3Store::new(s3.client(), bucket.clone(), "briefings");
                (fresh_postgres_db().await, Arc::new(store), Some(s3), bucket)
            }
        };
        let mut settings = Settings::new(&db_url, "file://unused").expect("settings");
        settings.public_url = base.parse().expect("public url");
        settings.spool_dir = Some(spool_dir.clone());
        // The signing key, in the test's folder (peers share it: same settings), given as
        // SIARAN_SIGNING_KEY is, which PostgreSQL requires.
        settings.signing.data_dir = dir.path().to_path_buf();
        settings.signing.key = Some(signing_key_in(dir.path()));
        // Background jobs (a recording's analysis) run only where a test asks for them
        // (tests/api/quality.rs): elsewhere they would race the test's own checks of the store
        // and the spool folder. They are still queued.
        settings.jobs.workers = 0;
        configure(&mut settings);
        let db = AnyDb::connect(&db_url).await.expect("connect db");
        db.migrate().await.expect("migrate");
        store.check().await.expect("store answers");
        let state = AppState::from_parts(settings, Arc::new(db), store).expect("state");
        let admin_token = create_token(state.ctx.db.as_ref(), Role::Admin).await;
        let editor_token = create_token(state.ctx.db.as_ref(), Role::Editor).await;
        tokio::spawn(serve(listener, state.clone(), std::future::pending()));
        TestApp {
            base,
            state,
            http: reqwest::Client::new(),
            admin_token,
            editor_token,
            _dir: dir,
            s3,
            bucket,
            media_root,
            spool_dir,
        }
    }

    /// Another instance of the same service, as behind a load balancer: its own port, process
    /// state and feed cache; the same settings (so the same public URL), database and store, and
    /// so the same tokens. The first app keeps the database file or S3 server alive.
    pub async fn spawn_peer(&self) -> TestApp {
        self.spawn_peer_with(|_| {}).await
    }

    /// Like `spawn_peer`, with a chance to change the peer's settings first.
    pub async fn spawn_peer_with(&self, configure: impl FnOnce(&mut Settings)) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let store: Arc<dyn ObjectStore> = match &self.s3 {
            None => Arc::new(
                FsStore::open(self.media_root.clone())
                    .await
                    .expect("fs store"),
            ),
            Some(s3) => Arc::new(S3Store::new(s3.client(), self.bucket.clone(), "briefings")),
        };
        let spool_dir = dir.path().join("spool");
        let mut settings = self.state.settings.clone();
        settings.spool_dir = Some(spool_dir.clone());
        configure(&mut settings);
        let db = AnyDb::connect(&self.db_url()).await.expect("connect db");
        let state = AppState::from_parts(settings, Arc::new(db), store).expect("state");
        tokio::spawn(serve(listener, state.clone(), std::future::pending()));
        TestApp {
            base,
            state,
            http: reqwest::Client::new(),
            admin_token: self.admin_token.clone(),
            editor_token: self.editor_token.clone(),
            _dir: dir,
            s3: None,
            bucket: self.bucket.clone(),
            media_root: self.media_root.clone(),
            spool_dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends only the head of a request whose body declares `length` bytes, as a client that
    /// waits for the answer before sending would, and reads the answer until the server closes
    /// the connection (within 2 s): its status and JSON body. A client that sends a body the
    /// server refuses unread may see the connection reset before it reads the answer, so tests
    /// of such refusals ask this way.
    pub async fn declared_only(
        &self,
        method: &str,
        path: &str,
        token: &str,
        content_type: &str,
        length: u64,
    ) -> (u16, serde_json::Value) {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let host = self.base.strip_prefix("http://").expect("an http base URL");
        let mut conn = tokio::net::TcpStream::connect(host).await.unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"
        );
        conn.write_all(head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(2),
            conn.read_to_end(&mut answer),
        )
        .await
        .unwrap_or_else(|_| panic!("{method} {path}: no answer within 2 s"))
        .unwrap();
        let answer = String::from_utf8_lossy(&answer);
        let status = answer
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("{method} {path}: not an HTTP answer: {answer}"));
        let (_, body) = answer.split_once("\r\n\r\n").unwrap_or_default();
        let body = serde_json::from_str(body)
            .unwrap_or_else(|_| panic!("{method} {path}: not a JSON body: {answer}"));
        (status, body)
    }

    /// A public GET of `path`, answered as JSON.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let res = self.http.get(self.url(path)).send().await.expect("request");
        assert!(res.status().is_success(), "GET {path}: {}", res.status());
        res.json().await.expect("a JSON body")
    }

    /// A GET of `path` with `token`, answered as JSON (a draft, say).
    pub async fn get_json_as(&self, path: &str, token: &str) -> serde_json::Value {
        let res = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        assert!(res.status().is_success(), "GET {path}: {}", res.status());
        res.json().await.expect("a JSON body")
    }

    /// `(action, by)` of each entry of a record's history (`/api/v1/.../history`), oldest first.
    pub async fn history(&self, path: &str) -> Vec<(String, String)> {
        self.get_json(path)
            .await
            .as_array()
            .expect("a list")
            .iter()
            .map(|e| {
                let text = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
                (text("action"), text("by"))
            })
            .collect()
    }

    /// A GET with extra headers (conditionals, ranges).
    pub async fn get_with(
        &self,
        url: &str,
        headers: &[(reqwest::header::HeaderName, &str)],
    ) -> reqwest::Response {
        let mut req = self.http.get(url);
        for (name, value) in headers {
            req = req.header(name, *value);
        }
        req.send().await.expect("request")
    }

    pub async fn post_json(
        &self,
        path: &str,
        token: Option<&str>,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }

    pub async fn create_show(&self, slug: &str) -> serde_json::Value {
        let res = self
            .post_json(
                "/api/v1/shows",
                Some(&self.admin_token),
                &serde_json::json!({
                    "slug": slug,
                    "title": format!("Siaran Pers {slug}"),
                    "description": "Penjelasan kebijakan daerah",
                    "language": "id",
                    "author": "Diskominfo Kaltim",
                    "email": "ppid@kaltimprov.go.id",
                    "category": "Government",
                    "explicit": false
                }),
            )
            .await;
        assert_eq!(res.status(), 201, "create show");
        res.json().await.expect("show json")
    }

    pub async fn upload(&self, filename: &str, bytes: Vec<u8>) -> reqwest::Response {
        self.http
            .post(self.url(&format!("/api/v1/media?filename={filename}")))
            .bearer_auth(&self.editor_token)
            .body(bytes)
            .send()
            .await
            .expect("upload request")
    }

    pub async fn upload_ok(&self, sample: &str) -> serde_json::Value {
        let res = self.upload(sample, sample_bytes(sample)).await;
        let status = res.status();
        let body: serde_json::Value = res.json().await.expect("media json");
        assert_eq!(status, 201, "upload {sample}: {body}");
        body
    }

    /// Every object in the store, as paths or keys.
    pub async fn stored_objects(&self) -> Vec<String> {
        match &self.s3 {
            None => files_under(&self.media_root),
            Some(s3) => {
                let out = s3
                    .client()
                    .list_objects_v2()
                    .bucket(&self.bucket)
                    .send()
                    .await
                    .expect("list objects");
                out.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned))
                    .collect()
            }
        }
    }

    pub async fn count_rows(&self, table: &str) -> i64 {
        let db = AnyDb::connect(&self.db_url()).await.expect("connect");
        let row: (i64,) =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(db.pool())
                .await
                .expect("count");
        row.0
    }

    pub fn db_url(&self) -> String {
        self.state.settings.database_url.expose().to_owned()
    }
}

pub fn files_under(root: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

pub async fn create_token(db: &dyn Db, role: Role) -> String {
    let (secret, token_hash) = tokens::generate();
    db.create_token(&ApiToken {
        id: new_row_id(),
        name: format!("test-{}", role.as_str()),
        role,
        token_hash,
        user_id: None,
        created_at: Utc::now(),
    })
    .await
    .expect("create token");
    secret
}

pub fn sample_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("media")
        .join(name)
}

pub fn sample_bytes(name: &str) -> Vec<u8> {
    std::fs::read(sample_path(name)).expect("sample media")
}

/// A WAV file whose format chunk declares 32,768 channels of 16 bits and a block size of 0,
/// then 64 bytes of data: symphonia 0.6 overflowed computing its block size
/// (docs/upstream/symphonia-riff-overflow.md; also `tests/fuzz/regressions/crash-a085…`).
pub fn wav_with_32768_channels() -> Vec<u8> {
    let mut file = b"RIFF".to_vec();
    file.extend(92u32.to_le_bytes());
    file.extend(b"WAVEfmt ");
    file.extend(16u32.to_le_bytes());
    // PCM, channels, sample rate, bytes per second, block size, bits per sample.
    file.extend(1u16.to_le_bytes());
    file.extend(32_768u16.to_le_bytes());
    file.extend(8_000u32.to_le_bytes());
    file.extend(0u32.to_le_bytes());
    file.extend(0u16.to_le_bytes());
    file.extend(16u16.to_le_bytes());
    file.extend(b"data");
    file.extend(64u32.to_le_bytes());
    file.resize(file.len() + 64, 0);
    file
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A loopback port free now, for a browser's DevTools.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Runs `tests/parsers/{script}` with `args` under node (off the async runtime) and reads what
/// it printed as JSON; the test fails with its stderr when it exits non-zero.
pub async fn run_node(script: &str, args: Vec<String>) -> serde_json::Value {
    let path = format!("{}/tests/parsers/{script}", env!("CARGO_MANIFEST_DIR"));
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(path)
            .args(&args)
            .output()
            .expect("node runs (scripts/test installs chromium and the npm test clients)")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the script's JSON report")
}
