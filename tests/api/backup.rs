//! Backups of the embedded default (issue 26, point 6): `siaran backup DIR` while the service
//! serves and uploads go on, `siaran restore DIR` into an empty folder, and the restored service
//! answers the same feed byte for byte and the same media; `siaran check` reports a file gone
//! missing. Bad input: one line on stderr, a non-zero exit, nothing changed.

use std::{
    path::Path,
    process::{Command, Output},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use serde_json::{Value, json};

use crate::{
    helpers::{files_under, sample_bytes},
    startup::{Server, create_token, siaran},
};

const PUBLIC_URL: &str = "https://siaran.example.go.id";

struct Site {
    db_url: String,
    storage_url: String,
}

impl Site {
    fn at(dir: &Path) -> Site {
        Site {
            db_url: format!("sqlite://{}", dir.join("siaran.db").display()),
            storage_url: format!("file://{}", dir.join("media").display()),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = siaran();
        cmd.args(args)
            .env("SIARAN_DATABASE_URL", &self.db_url)
            .env("SIARAN_STORAGE_URL", &self.storage_url)
            .env("SIARAN_PUBLIC_URL", PUBLIC_URL);
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    async fn serve(&self) -> Server {
        Server::start_public(self.command(&[]), PUBLIC_URL).await
    }
}

fn stderr_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The published site a backup is taken of: a show, two episodes with transcripts. Returns the
/// recordings' paths.
async fn publish(http: &reqwest::Client, base: &str, token: &str) -> Vec<String> {
    let res = http
        .post(format!("{base}/api/v1/shows"))
        .bearer_auth(token)
        .json(
            &json!({"slug": "arsip", "title": "Arsip", "author": "Diskominfo",
                      "email": "ppid@kaltimprov.go.id"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let mut paths = Vec::new();
    for (i, sample) in ["sample.m4a", "briefing-demo.mp3"].into_iter().enumerate() {
        let media: Value = http
            .post(format!("{base}/api/v1/media?filename={sample}"))
            .bearer_auth(token)
            .body(sample_bytes(sample))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let res = http
            .post(format!("{base}/api/v1/shows/arsip/episodes"))
            .bearer_auth(token)
            .json(
                &json!({"title": format!("Rapat {i}"), "description": "Penjelasan",
                          "media_id": media["id"],
                          "publish_at": format!("2026-01-0{}T09:00:00+07:00", i + 1)}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        let episode: Value = res.json().await.unwrap();
        // The demo transcript fits the demo recording.
        if sample == "briefing-demo.mp3" {
            let res = http
                .put(format!(
                    "{base}/api/v1/episodes/{}/transcripts/id",
                    episode["id"].as_str().unwrap()
                ))
                .bearer_auth(token)
                .header("Content-Type", "text/vtt")
                .body(sample_bytes("briefing-demo.vtt"))
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success(), "{}", res.status());
        }
        let url = media["url"].as_str().unwrap();
        paths.push(url[url.find("/media/").unwrap()..].to_owned());
    }
    paths
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_serving_restores_the_same_feed() {
    let dir = tempfile::tempdir().unwrap();
    let live = Site::at(&dir.path().join("live"));
    let token = create_token(&live.db_url, "admin");
    let server = live.serve().await;
    let base = server.base.clone();
    let http = reqwest::Client::new();
    let media_paths = publish(&http, &base, &token).await;

    // Uploads go on while the backup is taken.
    let stop = Arc::new(AtomicBool::new(false));
    let uploaded = Arc::new(AtomicUsize::new(0));
    let uploads = tokio::spawn({
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        let (stop, uploaded) = (stop.clone(), uploaded.clone());
        async move {
            while !stop.load(Ordering::Relaxed) {
                let res = http
                    .post(format!("{base}/api/v1/media?filename=sample.flac"))
                    .bearer_auth(&token)
                    .body(sample_bytes("sample.flac"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 201);
                uploaded.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let backup = dir.path().join("backup");
    let backup_arg = backup.to_str().unwrap().to_owned();
    let out = tokio::task::spawn_blocking({
        let cmd = live.command(&["backup", &backup_arg]);
        move || {
            let mut cmd = cmd;
            cmd.output().unwrap()
        }
    })
    .await
    .unwrap();
    stop.store(true, Ordering::Relaxed);
    uploads.await.unwrap();
    assert!(out.status.success(), "{:?}", stderr_lines(&out));
    assert!(uploaded.load(Ordering::Relaxed) > 0);
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(backup.join("backup.json")).unwrap()).unwrap();
    eprintln!("{}", String::from_utf8_lossy(&out.stdout));

    let feed = http
        .get(format!("{base}/feeds/arsip.xml"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    server.terminate();

    // Backing up into a folder that is not empty is refused.
    let out = live.run(&["backup", &backup_arg]);
    assert!(!out.status.success());
    assert_eq!(stderr_lines(&out).len(), 1, "{:?}", stderr_lines(&out));
    assert!(stderr_lines(&out)[0].contains("not empty"));

    // Restored into an empty folder, the service answers the same feed, byte for byte.
    let restored = Site::at(&dir.path().join("restored"));
    let out = restored.run(&["restore", &backup_arg]);
    assert!(out.status.success(), "{:?}", stderr_lines(&out));
    let media_root = dir.path().join("restored/media");
    let stored = files_under(&media_root)
        .into_iter()
        .filter(|f| {
            !Path::new(f)
                .strip_prefix(&media_root)
                .unwrap()
                .starts_with(".")
        })
        .count();
    assert_eq!(stored as u64, manifest["objects"].as_u64().unwrap());
    let out = restored.run(&["check"]);
    assert!(out.status.success(), "{:?}", stderr_lines(&out));
    let server = restored.serve().await;
    let base = server.base.clone();
    let again = http
        .get(format!("{base}/feeds/arsip.xml"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(again, feed, "the restored feed differs");
    for path in &media_paths {
        let res = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let name = path.rsplit('/').next().unwrap();
        let sample = if name.ends_with(".m4a") {
            "sample.m4a"
        } else {
            "briefing-demo.mp3"
        };
        assert_eq!(res.bytes().await.unwrap(), sample_bytes(sample), "{path}");
    }
    server.terminate();

    // A restore onto what is not empty is refused, and changes nothing.
    let before = files_under(&dir.path().join("restored"));
    let out = restored.run(&["restore", &backup_arg]);
    assert!(!out.status.success());
    assert_eq!(stderr_lines(&out).len(), 1, "{:?}", stderr_lines(&out));
    assert_eq!(files_under(&dir.path().join("restored")), before);

    // A file lost outside Siaran: `check` names it and exits 1.
    let media = files_under(&dir.path().join("restored/media"))
        .into_iter()
        .find(|f| f.ends_with(".m4a"))
        .unwrap();
    std::fs::remove_file(&media).unwrap();
    let out = restored.run(&["check"]);
    assert_eq!(out.status.code(), Some(1), "{:?}", stderr_lines(&out));
    assert_eq!(stderr_lines(&out).len(), 1, "{:?}", stderr_lines(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["missing"].as_array().unwrap().len(), 1, "{report}");
    assert!(media.ends_with(report["missing"][0].as_str().unwrap()));
}

/// On PostgreSQL, `siaran backup` says to use pg_dump, and writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_backup_points_to_pg_dump() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site {
        db_url: crate::helpers::fresh_postgres_db().await,
        storage_url: format!("file://{}", dir.path().join("media").display()),
    };
    let backup = dir.path().join("backup");
    let out = site.run(&["backup", backup.to_str().unwrap()]);
    assert!(!out.status.success());
    let lines = stderr_lines(&out);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("pg_dump"), "{lines:?}");
    assert!(files_under(&backup).is_empty());
}
