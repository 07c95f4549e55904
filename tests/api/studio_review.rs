//! Review before publication (issue 23): a contributor submits a draft, an editor returns it
//! with a comment or publishes or schedules it; every step is in the history with the user's
//! name.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp},
    on_both_backends,
    studio_accounts::{Browser, create_user},
};

/// Two users (a contributor, an editor of every show) signed in, each with a token.
pub(crate) struct Team {
    pub contributor: Browser,
    pub editor: Browser,
    pub citra: String,
    pub dedi: String,
}

pub(crate) async fn team(app: &TestApp) -> Team {
    create_user(
        app,
        "kontributor@kaltimprov.go.id",
        "Citra Kontributor",
        "contributor",
    );
    create_user(app, "editor@kaltimprov.go.id", "Dedi Editor", "editor");
    let contributor = Browser::new(app);
    contributor.login_ok("kontributor@kaltimprov.go.id").await;
    let citra = contributor.create_token("unggah").await;
    let editor = Browser::new(app);
    editor.login_ok("editor@kaltimprov.go.id").await;
    let dedi = editor.create_token("terbit").await;
    Team {
        contributor,
        editor,
        citra,
        dedi,
    }
}

/// A draft of `show` made through the API with `token`; its id.
pub(crate) async fn draft(app: &TestApp, token: &str, show: &str, title: &str) -> String {
    let media: Value = app
        .http
        .post(app.url("/api/v1/media?filename=rapat.mp3"))
        .bearer_auth(token)
        .body(crate::helpers::sample_bytes("briefing-demo.mp3"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/shows/{show}/episodes"),
            Some(token),
            &json!({"title": title, "media_id": media["id"]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let episode: Value = res.json().await.unwrap();
    episode["id"].as_str().unwrap().to_owned()
}

async fn answer(res: reqwest::Response) -> (StatusCode, Value) {
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// `(action, by)` of an episode's history, read with `token`.
pub(crate) async fn history(app: &TestApp, token: &str, id: &str) -> Vec<(String, String)> {
    let entries: Vec<Value> = app
        .http
        .get(app.url(&format!("/api/v1/episodes/{id}/history")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    entries
        .iter()
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            (text("action"), text("by"))
        })
        .collect()
}

/// On the API: a contributor submits a draft (once: then it is in review); it may neither
/// return nor publish it (403); an editor's return needs a comment, which the contributor then
/// reads; it corrects and submits again; the editor schedules it, which ends its review. The
/// history names both users at each step.
async fn review_on_the_api(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_show("kaltim").await;
    let team = team(&app).await;
    let (citra, dedi) = (team.citra.as_str(), team.dedi.as_str());
    let id = draft(&app, citra, "kaltim", "Rapat koordinasi").await;
    let post = |token: &str, action: &str, body: Value| {
        let path = format!("/api/v1/episodes/{id}/{action}");
        let token = token.to_owned();
        let app = &app;
        async move { app.post_json(&path, Some(&token), &body).await }
    };

    let (status, episode) = answer(post(citra, "review", json!({})).await).await;
    assert_eq!(status, 200, "{episode}");
    assert_eq!(episode["status"], "in_review");
    assert_eq!(episode["review"]["state"], "in_review");
    assert_eq!(episode["review"]["by"], "Citra Kontributor");
    let (status, body) = answer(post(citra, "review", json!({})).await).await;
    assert_eq!(
        (status.as_u16(), &body["code"]),
        (409, &json!("episode-not-a-draft"))
    );

    // A contributor neither returns nor publishes.
    let (status, body) = answer(post(citra, "return", json!({"comment": "oke"})).await).await;
    assert_eq!((status.as_u16(), &body["code"]), (403, &json!("forbidden")));
    let (status, _) = answer(post(citra, "publish", json!({})).await).await;
    assert_eq!(status, 403);

    // A return names what to change.
    let (status, body) = answer(post(dedi, "return", json!({"comment": "  "})).await).await;
    assert_eq!(
        (status.as_u16(), &body["code"]),
        (422, &json!("invalid-comment"))
    );
    let (status, episode) =
        answer(post(dedi, "return", json!({"comment": "Judul kurang jelas"})).await).await;
    assert_eq!(status, 200, "{episode}");
    assert_eq!(episode["status"], "draft");
    assert_eq!(episode["review"]["state"], "returned");
    assert_eq!(episode["review"]["comment"], "Judul kurang jelas");
    assert_eq!(episode["review"]["by"], "Dedi Editor");
    let (status, body) = answer(post(dedi, "return", json!({"comment": "lagi"})).await).await;
    assert_eq!(
        (status.as_u16(), &body["code"]),
        (409, &json!("episode-not-in-review"))
    );

    // The contributor reads the comment, corrects and submits again.
    let (_, seen) = answer(
        app.http
            .get(app.url(&format!("/api/v1/episodes/{id}")))
            .bearer_auth(citra)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(seen["review"]["comment"], "Judul kurang jelas");
    let res = app
        .http
        .patch(app.url(&format!("/api/v1/episodes/{id}")))
        .bearer_auth(citra)
        .json(&json!({"title": "Rapat koordinasi banjir"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (status, _) = answer(post(citra, "review", json!({})).await).await;
    assert_eq!(status, 200);
    // Still the contributor's to correct while in review, never to schedule.
    let patch = |token: &str, body: Value| {
        app.http
            .patch(app.url(&format!("/api/v1/episodes/{id}")))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let res = patch(citra, json!({"publish_at": "2040-01-01T00:00:00Z"}))
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // Scheduling ends the review.
    let (status, episode) = answer(
        patch(dedi, json!({"publish_at": "2040-01-01T00:00:00Z"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{episode}");
    assert_eq!(episode["status"], "scheduled");
    assert!(episode.get("review").is_none(), "{episode}");
    let (status, body) = answer(post(citra, "review", json!({})).await).await;
    assert_eq!(
        (status.as_u16(), &body["code"]),
        (409, &json!("episode-not-a-draft"))
    );

    let c = "Citra Kontributor".to_owned();
    let d = "Dedi Editor".to_owned();
    assert_eq!(
        history(&app, dedi, &id).await,
        vec![
            ("created".to_owned(), c.clone()),
            ("submitted-for-review".to_owned(), c.clone()),
            ("returned".to_owned(), d.clone()),
            ("updated".to_owned(), c.clone()),
            ("submitted-for-review".to_owned(), c.clone()),
            ("updated".to_owned(), d.clone()),
        ]
    );
}
on_both_backends!(review_on_the_api);
