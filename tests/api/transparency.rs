//! Signed publication records and the transparency log (issue 25, point 1): records made by the
//! operations, chained, served, verified by `siaran verify-log` and `siaran verify` (the real
//! binary against the real server), tampering in the database detected, one chain with two
//! instances publishing at once, old keys still verifying after a rotation, scheduled episodes
//! recorded when their time comes.

use std::process::{Command, Output};

use serde_json::{Value, json};
use siaran::db::AnyDb;
use siaran::domain::publication::{ChainCheck, Entry, KeySet, SignedHead};

use crate::episode_files::published_episode;
use crate::helpers::{Backend, TestApp, sample_bytes, sample_path, sha256_hex};
use crate::on_both_backends;

fn siaran(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_siaran"))
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("siaran runs")
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

async fn log(app: &TestApp) -> Vec<Entry> {
    let page = app.get_json("/transparency/log?after=0").await;
    serde_json::from_value(page["entries"].clone()).unwrap()
}

async fn keys(app: &TestApp) -> KeySet {
    let res = app
        .http
        .get(app.url("/.well-known/siaran-keys.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    KeySet::parse(&res.bytes().await.unwrap()).unwrap()
}

/// Every entry checked with the site's public keys, and the signed head against them.
async fn check_chain(app: &TestApp) -> Vec<Entry> {
    let keys = keys(app).await;
    let entries = log(app).await;
    let mut check = ChainCheck::default();
    for e in &entries {
        check.push(&keys, e).unwrap();
    }
    let head: SignedHead =
        serde_json::from_value(app.get_json("/transparency/head").await).unwrap();
    keys.verify_head(&head).unwrap();
    check.matches(&head.head).unwrap();
    entries
}

async fn patch_title(app: &TestApp, id: &str, title: &str) {
    let res = app
        .http
        .patch(app.url(&format!("/api/v1/episodes/{id}")))
        .bearer_auth(&app.editor_token)
        .json(&json!({ "title": title }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

async fn sql(app: &TestApp, statement: &str) {
    let db = AnyDb::connect(&app.db_url()).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
        .execute(db.pool())
        .await
        .unwrap();
}

async fn records_chain_and_verify(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let episode = published_episode(&app, "ppid", "briefing-demo.mp3").await;
    let id = episode["id"].as_str().unwrap();

    // Published: a record naming the recording's exact hash and size.
    let first: Entry =
        serde_json::from_value(app.get_json(&format!("/transparency/episodes/{id}")).await)
            .unwrap();
    let bytes = sample_bytes("briefing-demo.mp3");
    let r = &first.record;
    assert_eq!(
        (first.seq, r.event.as_str(), r.prev.as_str()),
        (1, "published", "")
    );
    assert_eq!(r.episode_id, id);
    assert_eq!(r.files[0].role, "media");
    assert_eq!(r.files[0].sha256, sha256_hex(&bytes));
    assert_eq!(r.files[0].size, bytes.len() as u64);
    assert_eq!(r.url, app.url("/shows/ppid/keterbukaan-informasi"));

    // A new title: a second record, chained to the first in the log and for the episode.
    patch_title(&app, id, "Judul baru").await;
    let entries = check_chain(&app).await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    let second = &entries[1].record;
    assert_eq!(
        (second.event.as_str(), second.title.as_str()),
        ("changed", "Judul baru")
    );
    assert_eq!(second.prev, first.hash);
    assert_eq!(second.episode_prev, first.hash);
    // The same change again says nothing new: no record.
    patch_title(&app, id, "Judul baru").await;
    assert_eq!(log(&app).await.len(), 2);

    // The page and the feed point to the record.
    let page = app
        .http
        .get(app.url("/shows/ppid/keterbukaan-informasi"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Publikasi terverifikasi"), "{page}");
    assert!(page.contains("/transparency/records/2"), "{page}");
    let feed = app
        .http
        .get(app.url("/feeds/ppid.xml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        feed.contains(&format!(
            "<siaran:record href=\"{}\"",
            app.url(&format!("/transparency/episodes/{id}"))
        )),
        "{feed}"
    );

    // The command line, as a journalist runs it.
    let out = siaran(&["verify-log", &app.base]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("ok: 2 entries"), "{}", text(&out));
    let sample = sample_path("briefing-demo.mp3");
    let out = siaran(&["verify", sample.to_str().unwrap(), "--server", &app.base]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("YES"), "{}", text(&out));
    let dir = tempfile::tempdir().unwrap();
    let mut changed = bytes.clone();
    let middle = changed.len() / 2;
    changed[middle] ^= 1;
    let modified = dir.path().join("modified.mp3");
    std::fs::write(&modified, &changed).unwrap();
    let out = siaran(&["verify", modified.to_str().unwrap(), "--server", &app.base]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("NOT an archived publication"),
        "{}",
        text(&out)
    );
    // Offline: a saved record and key set.
    let record = dir.path().join("record.json");
    let keyset = dir.path().join("keys.json");
    std::fs::write(&record, serde_json::to_vec(&entries[1]).unwrap()).unwrap();
    std::fs::write(&keyset, serde_json::to_vec(&keys(&app).await).unwrap()).unwrap();
    let (record, keyset) = (record.to_str().unwrap(), keyset.to_str().unwrap());
    let out = siaran(&[
        "verify",
        sample.to_str().unwrap(),
        "--record",
        record,
        "--keys",
        keyset,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let out = siaran(&[
        "verify",
        modified.to_str().unwrap(),
        "--record",
        record,
        "--keys",
        keyset,
    ]);
    assert!(!out.status.success(), "{}", text(&out));

    // Withdrawn: a third record.
    let res = app
        .http
        .put(app.url(&format!("/api/v1/episodes/{id}/withdrawal")))
        .bearer_auth(&app.editor_token)
        .json(&json!({"reason": "Salah unggah: rekaman rapat lain"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let entries = check_chain(&app).await;
    assert_eq!(entries.len(), 3);
    assert_eq!(
        (
            entries[2].record.event.as_str(),
            entries[2].record.state.as_str()
        ),
        ("withdrawn", "withdrawn")
    );

    // A record edited in the database by hand: named by verify-log.
    sql(
        &app,
        "UPDATE publication_log SET record = REPLACE(record, 'Judul baru', 'Judul palsu') \
         WHERE seq = 2",
    )
    .await;
    let out = siaran(&["verify-log", &app.base]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("entry 2:"), "{}", text(&out));
    // Edited into something that is not even JSON: still served, and named.
    sql(
        &app,
        "UPDATE publication_log SET record = '{' WHERE seq = 1",
    )
    .await;
    let out = siaran(&["verify-log", &app.base]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("entry 1:"), "{}", text(&out));
}
on_both_backends!(records_chain_and_verify);

/// The log's head dated ahead of this instance's clock (written by an instance whose clock runs
/// fast): the next record is dated at the head's time, not before it, so the log still reads in
/// time order and verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_is_never_dated_before_the_head() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    let episode = published_episode(&app, "ppid", "briefing-demo.mp3").await;
    let id = episode["id"].as_str().unwrap();
    let ahead = chrono::Utc::now() + chrono::Duration::hours(1);
    sql(
        &app,
        &format!(
            "UPDATE publication_log SET at = {} WHERE seq = 1",
            ahead.timestamp_millis()
        ),
    )
    .await;
    patch_title(&app, id, "Judul baru").await;
    let entries = log(&app).await;
    assert_eq!(entries.len(), 2);
    assert_eq!(
        entries[1].record.at,
        siaran::domain::publication::time(ahead)
    );
    // The head's column as the first record says (the key's validity starts at its first
    // record's time): the log verifies, the second record dated after the first.
    let first_at = chrono::DateTime::parse_from_rfc3339(&entries[0].record.at).unwrap();
    sql(
        &app,
        &format!(
            "UPDATE publication_log SET at = {} WHERE seq = 1",
            first_at.timestamp_millis()
        ),
    )
    .await;
    check_chain(&app).await;
    let out = siaran(&["verify-log", &app.base]);
    assert!(out.status.success(), "{}", text(&out));
}

/// Two instances over one database publish twenty episodes at once: one chain, no fork, no gap,
/// each episode recorded once.
async fn concurrent_publications_make_one_chain(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let peer = app.spawn_peer().await;
    app.create_show("ppid").await;
    let media = app.upload_ok("briefing-demo.mp3").await;
    let mut ids = Vec::new();
    for n in 0..20 {
        let res = app
            .post_json(
                "/api/v1/shows/ppid/episodes",
                Some(&app.editor_token),
                &json!({"title": format!("Jumpa pers {n}"), "media_id": media["id"]}),
            )
            .await;
        assert_eq!(res.status(), 201);
        let v: Value = res.json().await.unwrap();
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    let publishes = ids.iter().enumerate().map(|(n, id)| {
        let server = if n % 2 == 0 { &app } else { &peer };
        let request = server
            .http
            .post(server.url(&format!("/api/v1/episodes/{id}/publish")))
            .bearer_auth(&server.editor_token)
            .send();
        async move { request.await.unwrap().status() }
    });
    for status in futures_util::future::join_all(publishes).await {
        assert_eq!(status, 200);
    }
    let entries = check_chain(&app).await;
    assert_eq!(entries.len(), 20);
    let mut recorded: Vec<_> = entries
        .iter()
        .map(|e| e.record.episode_id.clone())
        .collect();
    recorded.sort();
    ids.sort();
    assert_eq!(recorded, ids);
    let out = siaran(&["verify-log", &peer.base]);
    assert!(out.status.success(), "{}", text(&out));
}
on_both_backends!(concurrent_publications_make_one_chain);

/// A new key: what the old one signed still verifies, as the key set lists it retired with its
/// period; a key set without it names the first record it signed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_signed_by_a_retired_key_still_verify() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    published_episode(&app, "ppid", "briefing-demo.mp3").await;
    let old_key = app.state.settings.signing.data_dir.join("signing-key.pem");
    assert!(old_key.exists());

    let dir = tempfile::tempdir().unwrap();
    let new_key = dir.path().join("new.pem");
    let retired = dir.path().join("retired.json");
    let out = siaran(&["keys", "generate", "--out", new_key.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let out = siaran(&[
        "keys",
        "retire",
        old_key.to_str().unwrap(),
        "--into",
        retired.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));

    let rotated = app
        .spawn_peer_with(|s| {
            s.signing.key = Some(new_key.clone());
            s.signing.retired = Some(retired.clone());
        })
        .await;
    let media = rotated.upload_ok("briefing-demo.mp3").await;
    let res = rotated
        .post_json(
            "/api/v1/shows/ppid/episodes",
            Some(&rotated.editor_token),
            &json!({"title": "Sesudah rotasi", "media_id": media["id"],
                    "publish_at": "2026-01-06T02:00:00Z"}),
        )
        .await;
    assert_eq!(res.status(), 201);

    let entries = check_chain(&rotated).await;
    assert_eq!(entries.len(), 2);
    assert_ne!(entries[0].record.key, entries[1].record.key);
    let keys = keys(&rotated).await;
    assert_eq!(keys.keys.len(), 2);
    assert!(keys.keys[1].valid_until.is_some(), "{keys:?}");
    let out = siaran(&["verify-log", &rotated.base]);
    assert!(out.status.success(), "{}", text(&out));

    // Pinned to the new key alone: the old records do not verify.
    let only_new = dir.path().join("only-new.json");
    let set = KeySet {
        keys: vec![keys.keys[0].clone()],
    };
    std::fs::write(&only_new, serde_json::to_vec(&set).unwrap()).unwrap();
    let out = siaran(&[
        "verify-log",
        &rotated.base,
        "--keys",
        only_new.to_str().unwrap(),
    ]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("head") || text(&out).contains("entry 1:"),
        "{}",
        text(&out)
    );
}

/// A scheduled episode is recorded by the serving instance when its time comes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_publication_is_recorded_when_it_comes_out() {
    let app = TestApp::spawn_with(Backend::SqliteFs, |s| {
        s.jobs.poll = std::time::Duration::from_millis(200);
    })
    .await;
    app.create_show("ppid").await;
    let media = app.upload_ok("briefing-demo.mp3").await;
    let at = chrono::Utc::now() + chrono::Duration::seconds(2);
    let res = app
        .post_json(
            "/api/v1/shows/ppid/episodes",
            Some(&app.editor_token),
            &json!({"title": "Terjadwal", "media_id": media["id"],
                    "publish_at": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)}),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert!(log(&app).await.is_empty(), "not public yet");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let entries = log(&app).await;
        if let Some(e) = entries.first() {
            assert_eq!(e.record.event, "published");
            assert_eq!(e.record.title, "Terjadwal");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never recorded");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let id = log(&app).await[0].record.episode_id.clone();

    // Its date moved two seconds ahead: out of the feed now (recorded at once), back when that
    // time comes (recorded by the recorder, though the episode has records already).
    let again = chrono::Utc::now() + chrono::Duration::seconds(2);
    let res = app
        .http
        .patch(app.url(&format!("/api/v1/episodes/{id}")))
        .bearer_auth(&app.editor_token)
        .json(&json!({"publish_at": again.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let states = |entries: &[Entry]| -> Vec<String> {
        entries.iter().map(|e| e.record.state.clone()).collect()
    };
    assert_eq!(states(&log(&app).await), ["published", "unpublished"]);
    wait_for_records(&app, 3, deadline).await;
    assert_eq!(
        states(&log(&app).await),
        ["published", "unpublished", "published"]
    );

    // A change whose record was never appended (as when the append failed): the title changed
    // in the database alone. The recorder finds the episode changed after its last record.
    let later = chrono::Utc::now() + chrono::Duration::milliseconds(500);
    sql(
        &app,
        &format!(
            "UPDATE episodes SET title = 'Judul tanpa catatan', updated_at = {} WHERE id = '{id}'",
            later.timestamp_millis()
        ),
    )
    .await;
    wait_for_records(&app, 4, deadline + std::time::Duration::from_secs(5)).await;
    let entries = check_chain(&app).await;
    assert_eq!(entries[3].record.event, "changed");
    assert_eq!(entries[3].record.title, "Judul tanpa catatan");
}

async fn wait_for_records(app: &TestApp, n: usize, deadline: std::time::Instant) {
    while log(app).await.len() < n {
        assert!(std::time::Instant::now() < deadline, "never recorded");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
