//! The audit trail (issue 6, point 6): every change to a show, an episode or a document is
//! recorded with who made it, which token, when and what changed; a published briefing's
//! history is public, so a journalist can see that its title was corrected and when.

use reqwest::header::ACCEPT_LANGUAGE;
use serde_json::{Value, json};

use crate::{
    episode_files::published_episode,
    helpers::{Backend, TestApp},
    on_both_backends,
};

async fn history(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = app.http.get(app.url(path));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

async fn entries(app: &TestApp, path: &str, token: Option<&str>) -> Vec<Value> {
    let res = history(app, path, token).await;
    assert_eq!(res.status(), 200, "{path}");
    res.json::<Vec<Value>>().await.unwrap()
}

fn actions(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

async fn patch(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> reqwest::Response {
    let mut req = app.http.patch(app.url(path)).json(&body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

async fn corrections_are_on_record(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let episode = published_episode(&app, "ppid", "briefing-demo.mp3").await;
    let id = episode["id"].as_str().unwrap();
    let slug = episode["slug"].as_str().unwrap();
    let path = format!("/api/v1/episodes/{id}/history");

    // A refused change leaves no trace.
    let res = patch(
        &app,
        &format!("/api/v1/episodes/{id}"),
        None,
        json!({"title": "X"}),
    )
    .await;
    assert_eq!(res.status(), 401);
    let res = patch(
        &app,
        &format!("/api/v1/episodes/{id}"),
        Some(&app.editor_token),
        json!({"title": ""}),
    )
    .await;
    assert_eq!(res.status(), 422);
    assert_eq!(actions(&entries(&app, &path, None).await), ["created"]);

    let res = patch(
        &app,
        &format!("/api/v1/episodes/{id}"),
        Some(&app.editor_token),
        json!({"title": "Keterbukaan Informasi Publik 2026"}),
    )
    .await;
    assert_eq!(res.status(), 200);

    // Public: who and when, but not the token's id.
    let public = entries(&app, &path, None).await;
    assert_eq!(actions(&public), ["created", "updated"]);
    let update = &public[1];
    assert_eq!(update["entity"], "episode");
    assert_eq!(update["entity_id"], id);
    assert_eq!(update["by"], "test-editor");
    assert!(update.get("token_id").is_none(), "{update}");
    assert_eq!(
        update["changes"],
        json!({"title": {"from": "Keterbukaan Informasi", "to": "Keterbukaan Informasi Publik 2026"}})
    );
    let at = chrono::DateTime::parse_from_rfc3339(update["at"].as_str().unwrap()).unwrap();
    assert!((chrono::Utc::now() - at.to_utc()).num_seconds().abs() < 60);
    assert_eq!(public[0]["changes"]["title"], "Keterbukaan Informasi");

    // A token holder also sees which token.
    let private = entries(&app, &path, Some(&app.admin_token)).await;
    assert!(
        private[1]["token_id"]
            .as_str()
            .is_some_and(|t| t.len() == 36)
    );

    // The episode page shows the correction, in either language.
    let page = app
        .http
        .get(app.url(&format!("/shows/ppid/{slug}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Riwayat perubahan"), "{page}");
    assert!(page.contains("“Keterbukaan Informasi” → “Keterbukaan Informasi Publik 2026”"));
    let page = app
        .get_with(
            &app.url(&format!("/shows/ppid/{slug}")),
            &[(ACCEPT_LANGUAGE, "en")],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Change history"));

    // Withdrawal and restoration are on record with the reason.
    let res = app
        .http
        .put(app.url(&format!("/api/v1/episodes/{id}/withdrawal")))
        .bearer_auth(&app.editor_token)
        .json(&json!({"reason": "Data anggaran keliru"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let withdrawn = entries(&app, &path, None).await;
    assert_eq!(actions(&withdrawn), ["created", "updated", "withdrawn"]);
    assert_eq!(withdrawn[2]["changes"]["reason"], "Data anggaran keliru");

    // A document linked to it is on both records' trails.
    let res = app
        .post_json(
            "/api/v1/documents",
            Some(&app.editor_token),
            &json!({"title": "Keterbukaan Informasi Publik", "number": "UU No. 14 Tahun 2008",
                    "kind": "undang-undang"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let doc: Value = res.json().await.unwrap();
    let doc_id = doc["id"].as_str().unwrap();
    let res = patch(
        &app,
        &format!("/api/v1/documents/{doc_id}"),
        Some(&app.editor_token),
        json!({"number": "UU No. 14 Th. 2008"}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let doc_trail = entries(&app, &format!("/api/v1/documents/{doc_id}/history"), None).await;
    assert_eq!(actions(&doc_trail), ["created", "updated"]);
    assert_eq!(
        doc_trail[1]["changes"]["number"],
        json!({"from": "UU No. 14 Tahun 2008", "to": "UU No. 14 Th. 2008"})
    );
}
on_both_backends!(corrections_are_on_record);

async fn drafts_and_shows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_show("ppid").await;
    let media = app.upload_ok("briefing-demo.mp3").await;
    let res = app
        .post_json(
            "/api/v1/shows/ppid/episodes",
            Some(&app.editor_token),
            &json!({"title": "Rancangan", "media_id": media["id"]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let draft: Value = res.json().await.unwrap();
    let path = format!("/api/v1/episodes/{}/history", draft["id"].as_str().unwrap());
    // A draft's history is not public.
    assert_eq!(history(&app, &path, None).await.status(), 404);
    assert_eq!(
        actions(&entries(&app, &path, Some(&app.editor_token)).await),
        ["created"]
    );

    let res = patch(
        &app,
        "/api/v1/shows/ppid",
        Some(&app.admin_token),
        json!({"title": "PPID Kaltim", "explicit": false}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let show = entries(&app, "/api/v1/shows/ppid/history", None).await;
    assert_eq!(actions(&show), ["created", "updated"]);
    assert_eq!(show[1]["by"], "test-admin");
    // Only what changed: an unchanged field is not listed.
    assert_eq!(
        show[1]["changes"],
        json!({"title": {"from": "Siaran Pers ppid", "to": "PPID Kaltim"}})
    );
    assert_eq!(
        history(&app, "/api/v1/shows/nope/history", None)
            .await
            .status(),
        404
    );
}
on_both_backends!(drafts_and_shows);
