//! A rolling upgrade (issue 26, point 2; docs/upgrades.md): the previous release's `siaran` keeps
//! serving on a database the current release migrated, beside an instance of the current release.
//!
//! On a fresh PostgreSQL database and one store (the suite's S3 target: Garage in the Garage
//! stage, else the in-process S3 server), the current `siaran migrate` runs first and the current
//! release starts and writes a show and a published episode. Then the previous release starts on
//! the same database and store and, with both serving:
//! - it serves what the current one wrote (the show, the episode, the feed, a media range);
//! - it writes through the API itself: a show, a recording in one request and one through tus,
//!   an episode created as a draft and published, read back through its own feed and a range;
//! - the current one serves what the previous one wrote, its cached feed dropped when the
//!   previous release publishes (the feed notification crosses versions), and the other way round.
//!
//! The previous release's binary is given by `SIARAN_PREVIOUS_BIN`, which `scripts/test` sets from
//! `scripts/previous-release` (the last `vX.Y.Z` tag before HEAD, built in the same target
//! folder). Without the variable the test says so and returns; with it set to a missing file it
//! fails.

use std::{
    path::PathBuf,
    process::Command,
    time::{Duration, Instant},
};

use base64::Engine as _;
use chrono::Utc;
use serde_json::{Value, json};

use crate::{
    helpers::{fresh_postgres_db, sample_bytes, sha256_hex},
    s3server::S3Target,
    startup::{Server, create_token, siaran, siaran_at},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_previous_release_serves_beside_the_current_one() {
    let Some(previous) = previous_release_binary() else {
        eprintln!(
            "SIARAN_PREVIOUS_BIN is not set: the upgrade test runs in scripts/test's Garage \
             stage, with the binary scripts/previous-release builds"
        );
        return;
    };
    // Between two releases both binaries may say the same version (the bump comes with the
    // release): they are told apart by their files, not their versions.
    assert_ne!(
        previous.canonicalize().unwrap(),
        std::path::Path::new(env!("CARGO_BIN_EXE_siaran"))
            .canonicalize()
            .unwrap(),
        "SIARAN_PREVIOUS_BIN is the current build"
    );
    eprintln!(
        "previous release: {}; current: {}",
        version_of(siaran_at(&previous)),
        version_of(siaran())
    );

    let dir = tempfile::tempdir().unwrap();
    let s3 = S3Target::new().await;
    let bucket = s3.fresh_bucket().await;
    let db_url = fresh_postgres_db().await;
    let key = dir.path().join("signing-key.pem");
    let out = siaran()
        .args(["keys", "generate", "--out"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every process of both releases on the same database, store and signing key (production.md).
    let configured = |mut cmd: Command| {
        cmd.env("SIARAN_DATABASE_URL", &db_url)
            .env("SIARAN_STORAGE_URL", format!("s3://{bucket}/siaran"))
            .env("AWS_ACCESS_KEY_ID", &s3.access_key)
            .env("AWS_SECRET_ACCESS_KEY", &s3.secret_key)
            .env("AWS_REGION", &s3.region)
            .env("AWS_ENDPOINT_URL", &s3.endpoint)
            .env("SIARAN_SIGNING_KEY", &key);
        cmd
    };

    // The new release migrates the shared database, then serves and writes.
    let mut migrate = configured(siaran());
    let out = migrate.arg("migrate").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = create_token(&db_url, "admin");
    let current = Running(Some(Server::start(configured(siaran())).await));
    let new = Api::new(current.base(), &token);
    new.create_show("baru").await;
    let recording = sample_bytes("sample.m4a");
    let media = new.upload("rapat-baru.m4a", recording.clone()).await;
    let written_by_new = new
        .create_episode("baru", "Ditulis rilis baru", &media, true)
        .await;

    // The previous release starts on the migrated database: its migrator accepts the newer
    // migrations it does not know.
    let previous_server = Running(Some(Server::start(configured(siaran_at(&previous))).await));
    let old = Api::new(previous_server.base(), &token);

    // It serves what the new release wrote.
    let episodes = old.get_json("/api/v1/shows/baru/episodes").await;
    assert!(
        episodes
            .to_string()
            .contains(written_by_new["id"].as_str().unwrap()),
        "the previous release does not list the new release's episode: {episodes}"
    );
    let feed = old.text("/feeds/baru.xml").await;
    assert!(feed.contains("Ditulis rilis baru"), "{feed}");
    old.check_range(&feed_enclosure(&feed), &recording).await;
    assert_eq!(old.status("/shows/baru").await, 200);

    // Its cached feed of a show is dropped when the current release publishes there (the feed
    // notification read by the other version); and the other way round below.
    assert!(!old.text("/feeds/baru.xml").await.contains("Kedua"));
    let again = new.upload("rapat-kedua.m4a", recording.clone()).await;
    new.create_episode("baru", "Kedua dari rilis baru", &again, true)
        .await;
    old.wait_for_in_feed("baru", "Kedua dari rilis baru").await;

    // It writes through the API: a show, a recording in one request and one through tus, an
    // episode made a draft and then published.
    old.create_show("lama").await;
    assert!(new.text("/feeds/lama.xml").await.contains("<channel>"));
    let flac = sample_bytes("sample.flac");
    let media = old.upload("rapat-lama.flac", flac.clone()).await;
    let draft = old
        .create_episode("lama", "Ditulis rilis lama", &media, false)
        .await;
    assert_eq!(draft["status"], "draft", "{draft}");
    let id = draft["id"].as_str().unwrap();
    let res = old
        .http
        .post(old.url(&format!("/api/v1/episodes/{id}/publish")))
        .bearer_auth(&old.token)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "publish: {}", res.status());
    let feed = old.text("/feeds/lama.xml").await;
    assert!(feed.contains("Ditulis rilis lama"), "{feed}");
    old.check_range(&feed_enclosure(&feed), &flac).await;

    let opus = sample_bytes("sample.opus");
    let tus_media = old.tus_upload("rapat-lama.opus", &opus).await;
    let info = old.get_json(&format!("/api/v1/media/{tus_media}")).await;
    assert_eq!(info["sha256"], sha256_hex(&opus), "{info}");
    let tus_episode = old
        .create_episode(
            "lama",
            "Unggahan tus rilis lama",
            &json!({"id": tus_media}),
            true,
        )
        .await;

    // The current release serves what the previous one wrote: its feed (cached above, before
    // the previous release published), the episodes, both recordings.
    new.wait_for_in_feed("lama", "Unggahan tus rilis lama")
        .await;
    let feed = new.text("/feeds/lama.xml").await;
    assert!(feed.contains("Ditulis rilis lama"), "{feed}");
    let episodes = new.get_json("/api/v1/shows/lama/episodes").await;
    for episode in [&draft, &tus_episode] {
        assert!(
            episodes
                .to_string()
                .contains(episode["id"].as_str().unwrap()),
            "the new release does not list {episode}: {episodes}"
        );
    }
    let enclosures: Vec<String> = rss::Channel::read_from(feed.as_bytes())
        .unwrap()
        .items()
        .iter()
        .map(|i| i.enclosure().unwrap().url().to_owned())
        .collect();
    assert_eq!(enclosures.len(), 2, "{enclosures:?}");
    for url in &enclosures {
        let expected = if url.contains(&tus_media) {
            &opus
        } else {
            &flac
        };
        new.check_range(url, expected).await;
    }
    let media = new.get_json(&format!("/api/v1/media/{tus_media}")).await;
    assert_eq!(media["sha256"], sha256_hex(&opus), "{media}");

    // Both still serve, side by side.
    for api in [&new, &old] {
        assert_eq!(api.status("/healthz").await, 200, "{}", api.base);
        let shows = api.get_json("/api/v1/shows").await.to_string();
        assert!(shows.contains("baru") && shows.contains("lama"), "{shows}");
    }
    assert!(previous_server.terminate().success());
    assert!(current.terminate().success());
}

/// A server killed if the test fails before stopping it, so that no instance of either release
/// outlives a failed run.
struct Running(Option<Server>);

impl Running {
    fn base(&self) -> &str {
        &self.0.as_ref().unwrap().base
    }

    /// SIGTERM, then the exit status (graceful shutdown exits 0).
    fn terminate(mut self) -> std::process::ExitStatus {
        self.0.take().unwrap().terminate()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(server) = &mut self.0 {
            let _ = server.child.kill();
            let _ = server.child.wait();
        }
    }
}

/// The previous release's binary, if the test is asked for: a set `SIARAN_PREVIOUS_BIN` naming
/// no file is a failure (the build script went wrong), not a reason to skip.
fn previous_release_binary() -> Option<PathBuf> {
    let bin = std::env::var_os("SIARAN_PREVIOUS_BIN").filter(|v| !v.is_empty())?;
    let bin = PathBuf::from(bin);
    assert!(
        bin.is_file(),
        "SIARAN_PREVIOUS_BIN={} does not exist (scripts/previous-release builds it)",
        bin.display()
    );
    Some(bin)
}

fn version_of(mut cmd: Command) -> String {
    let out = cmd.arg("--version").output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn feed_enclosure(feed: &str) -> String {
    let channel = rss::Channel::read_from(feed.as_bytes()).unwrap();
    channel.items()[0].enclosure().unwrap().url().to_owned()
}

/// One instance's API, as a client sees it.
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    fn new(base: &str, token: &str) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: base.to_owned(),
            token: token.to_owned(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn status(&self, path: &str) -> u16 {
        self.http
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    async fn text(&self, path: &str) -> String {
        let res = self.http.get(self.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{} {path}", self.base);
        res.text().await.unwrap()
    }

    async fn get_json(&self, path: &str) -> Value {
        let res = self
            .http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{} {path}", self.base);
        res.json().await.unwrap()
    }

    async fn create_show(&self, slug: &str) {
        let res = self
            .http
            .post(self.url("/api/v1/shows"))
            .bearer_auth(&self.token)
            .json(&json!({"slug": slug, "title": format!("Siaran {slug}"),
                          "author": "Diskominfo", "email": "ppid@kaltimprov.go.id"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    }

    async fn upload(&self, filename: &str, bytes: Vec<u8>) -> Value {
        let res = self
            .http
            .post(self.url(&format!("/api/v1/media?filename={filename}")))
            .bearer_auth(&self.token)
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        res.json().await.unwrap()
    }

    /// A tus upload in two PATCHes; answers the media id.
    async fn tus_upload(&self, filename: &str, bytes: &[u8]) -> String {
        let name = base64::engine::general_purpose::STANDARD.encode(filename);
        let res = self
            .http
            .post(self.url("/api/v1/uploads/"))
            .bearer_auth(&self.token)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", bytes.len().to_string())
            .header("Upload-Metadata", format!("filename {name}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        let location = res.headers()["location"].to_str().unwrap();
        let location = if location.starts_with('/') {
            self.url(location)
        } else {
            location.to_owned()
        };
        let half = bytes.len() / 2;
        let mut media = None;
        for (offset, piece) in [(0, &bytes[..half]), (half, &bytes[half..])] {
            let res = self
                .http
                .patch(&location)
                .bearer_auth(&self.token)
                .header("Tus-Resumable", "1.0.0")
                .header("Upload-Offset", offset.to_string())
                .header("Content-Type", "application/offset+octet-stream")
                .body(piece.to_vec())
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 204, "{}", res.text().await.unwrap());
            media = res
                .headers()
                .get("siaran-media-id")
                .map(|v| v.to_str().unwrap().to_owned());
        }
        media.expect("the last PATCH answers Siaran-Media-Id")
    }

    async fn create_episode(&self, show: &str, title: &str, media: &Value, publish: bool) -> Value {
        let mut body = json!({"title": title, "description": "Penjelasan kebijakan",
                              "media_id": media["id"]});
        if publish {
            body["publish_at"] = json!(Utc::now().to_rfc3339());
        }
        let res = self
            .http
            .post(self.url(&format!("/api/v1/shows/{show}/episodes")))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        res.json().await.unwrap()
    }

    /// A range from the middle of the media at `url` is the same bytes as `expected`'s.
    async fn check_range(&self, url: &str, expected: &[u8]) {
        assert!(url.starts_with(&self.base), "{url} not on {}", self.base);
        let (from, to) = (expected.len() / 3, expected.len() / 3 + 999);
        let res = self
            .http
            .get(url)
            .header("Range", format!("bytes={from}-{to}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 206, "{url}");
        let body = res.bytes().await.unwrap();
        assert_eq!(body.as_ref(), &expected[from..=to], "{url}");
    }

    /// The show's feed on this instance names `title` within 5 s (another instance wrote it).
    async fn wait_for_in_feed(&self, show: &str, title: &str) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self
            .text(&format!("/feeds/{show}.xml"))
            .await
            .contains(title)
        {
            assert!(
                Instant::now() < deadline,
                "{title} not in {}'s feed of {show} after 5 s",
                self.base
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
