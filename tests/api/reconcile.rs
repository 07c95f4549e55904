//! The reconciler's judgement in process, on both backends: a write in progress (its note
//! renewed) is never touched, however long it takes; once it stops being renewed and no row
//! owns its object, the object goes; what a row owns is never removed.

use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use siaran::{
    reconcile::Reconciler,
    storage::{ByteStream, ObjectKey},
};

use crate::{
    helpers::{Backend, TestApp},
    on_both_backends,
};

/// A body fed through a channel, so the test decides when the write ends.
fn channel_body() -> (
    tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
    ByteStream,
) {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    (tx, Box::pin(body))
}

async fn keys(app: &TestApp) -> Vec<String> {
    let mut keys: Vec<String> = app
        .state
        .ctx
        .store
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.key.as_str().to_owned())
        .collect();
    keys.sort();
    keys
}

async fn live_writes_are_left_alone(backend: Backend) {
    let lease = Duration::from_secs(2);
    let app = TestApp::spawn_with(backend, |s| s.write_lease = lease).await;
    let reconciler = Reconciler {
        db: app.state.ctx.db.clone(),
        store: app.state.ctx.store.clone(),
        spool_base: app.spool_dir.clone(),
        lease,
    };
    app.upload_ok("sample.flac").await;
    let owned = keys(&app).await;
    assert_eq!(owned.len(), 1);

    // A write that takes longer than the lease, its note renewed all along.
    let key = ObjectKey::for_media(uuid::Uuid::now_v7(), "mp3");
    let (tx, body) = channel_body();
    let store = app.state.ctx.store.clone();
    let put = {
        let key = key.clone();
        tokio::spawn(async move { store.put(&key, "audio/mpeg", body).await })
    };
    tx.send(Ok(Bytes::from(vec![7u8; 100_000]))).await.unwrap();
    for _ in 0..3 {
        tokio::time::sleep(lease).await;
        let found = reconciler.run(Utc::now()).await.unwrap();
        assert!(found.orphans_removed.is_empty(), "{found:?}");
        assert!(found.unfinished_aborted.is_empty(), "{found:?}");
    }
    tx.send(Ok(Bytes::from(vec![8u8; 1000]))).await.unwrap();
    drop(tx);
    assert_eq!(put.await.unwrap().unwrap(), 101_000);

    // Written, with no row yet: still left alone while its note is fresh...
    let found = reconciler.run(Utc::now()).await.unwrap();
    assert!(found.orphans_removed.is_empty(), "{found:?}");
    assert!(keys(&app).await.contains(&key.as_str().to_owned()));
    // ...and removed once the note is older than the lease (its writer died before the row).
    let later = Utc::now() + chrono::Duration::seconds(10);
    let found = reconciler.run(later).await.unwrap();
    assert_eq!(found.orphans_removed, [key.as_str().to_owned()]);
    assert!(found.missing.is_empty(), "{found:?}");
    assert_eq!(keys(&app).await, owned);

    // What a row owns stays, however old; the notes are cleared.
    let found = reconciler
        .run(Utc::now() + chrono::Duration::days(30))
        .await
        .unwrap();
    assert!(found.is_clean(), "{found:?}");
    assert_eq!(keys(&app).await, owned);
    assert!(app.state.ctx.db.store_writes().await.unwrap().is_empty());
}
on_both_backends!(live_writes_are_left_alone);
