//! Every studio page in a real Chromium (issue 23): axe-core finds no serious or critical
//! violation of WCAG 2.1 A/AA, none scrolls sideways at 360 px, and screenshots of each at 1280
//! and 360 px are kept as test artefacts (`CARGO_TARGET_TMPDIR/studio-page-*.png`).

use serde_json::json;

use crate::{
    helpers::{Backend, TestApp},
    studio_accounts::{Browser, PASSWORD, create_user},
    studio_review::draft,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn studio_pages_pass_axe_in_chromium() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    app.create_show("kaltim").await;
    create_user(&app, "admin@kaltimprov.go.id", "Ani Admin", "admin");
    let admin = Browser::new(&app);
    admin.login_ok("admin@kaltimprov.go.id").await;
    let id = draft(&app, &app.admin_token, "kaltim", "Rapat <b>koordinasi</b>").await;
    let res = app
        .post_json(
            "/api/v1/documents",
            Some(&app.admin_token),
            &json!({"title": "Keterbukaan Informasi Publik", "kind": "law"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let document: serde_json::Value = res.json().await.unwrap();
    let document = document["id"].as_str().unwrap().to_owned();
    // Downloads on a few days, so that the statistics pages draw bars and fill their tables.
    let today = siaran::analytics::window(chrono::Utc::now());
    let ago = |n| today.checked_sub_days(chrono::Days::new(n)).unwrap();
    crate::studio_stats::record_downloads(
        &app,
        &id,
        &[
            (today, Some("Apple Podcasts"), Some("ID")),
            (ago(1), Some("Spotify"), Some("NL")),
            (ago(1), None, None),
            (ago(6), Some("AntennaPod"), Some("ID")),
        ],
    )
    .await;
    let pages = [
        "/studio".to_owned(),
        "/studio?show=kaltim&state=draft".to_owned(),
        "/studio/tokens".to_owned(),
        "/studio/users".to_owned(),
        "/studio/documents".to_owned(),
        format!("/studio/documents/{document}"),
        "/studio/shows/kaltim/settings".to_owned(),
        "/studio/site".to_owned(),
        "/studio/shows/kaltim/episodes/new".to_owned(),
        format!("/studio/episodes/{id}"),
        format!("/studio/episodes/{id}/preview"),
        "/studio/shows/kaltim/stats".to_owned(),
        format!("/studio/episodes/{id}/stats"),
    ];
    let port = crate::helpers::free_port();
    let mut args = vec![
        app.base.clone(),
        "admin@kaltimprov.go.id".to_owned(),
        PASSWORD.to_owned(),
        port.to_string(),
        env!("CARGO_TARGET_TMPDIR").to_owned(),
    ];
    args.extend(pages.iter().cloned());
    let report = crate::helpers::run_node("studio-pages.js", args).await;
    let checked = report.as_object().unwrap();
    assert_eq!(checked.len(), pages.len() + 1, "{report}");
    for (page, found) in checked {
        assert_eq!(found["violations"], json!([]), "{page}: {report}");
        // axe ran: the rules every page of a form and a heading passes.
        let passed = found["passed"].as_array().unwrap();
        for rule in ["document-title", "html-has-lang", "color-contrast"] {
            assert!(passed.contains(&json!(rule)), "{page} {rule}: {report}");
        }
        assert_eq!(found["sideways"], false, "{page} at 360 px: {report}");
        for width in [1280, 360] {
            let shot = format!(
                "{}/studio-page-{page}-{width}.png",
                env!("CARGO_TARGET_TMPDIR")
            );
            assert!(std::fs::metadata(&shot).unwrap().len() > 5_000, "{shot}");
        }
    }
}
