//! Review before publication (issue 23): a contributor submits a draft, an editor returns it
//! with a comment or publishes or schedules it, on the API and in the studio's pages (the
//! dashboard by state, the episode editor); every step is in the history with the user's name.

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

/// The `value`s of the editor's action buttons on a page, in order.
fn actions(html: &str) -> Vec<String> {
    html.split("<button name=\"action\" value=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// How many episodes a dashboard page lists.
fn listed(html: &str) -> usize {
    html.matches("<a href=\"/studio/episodes/").count()
}

/// The editor in the studio: the buttons follow the role (a contributor never sees publish,
/// schedule or return, and its publish through the form or the API is refused); a contributor
/// saves and submits; an editor's return needs a comment, which the contributor then reads; a
/// schedule is read in WIB and must lie ahead; a hostile title is escaped on the dashboard and
/// the editor; the history names both users.
async fn the_editor_by_role(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_show("kaltim").await;
    let team = team(&app).await;
    let id = draft(&app, &team.citra, "kaltim", "Rapat koordinasi").await;
    let path = format!("/studio/episodes/{id}");

    let (status, html) = team.contributor.page(&path).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(actions(&html), ["draft", "review"]);
    assert!(html.contains("<audio"), "the player: {html}");

    // A contributor's publish, by the form and by the API: 403.
    let form = |title: &str, action: &str| {
        vec![
            ("title".to_owned(), title.to_owned()),
            ("description".to_owned(), "Banjir & longsor".to_owned()),
            (
                "notes".to_owned(),
                "<p>Hadir: <b>Gubernur</b></p><script>alert(1)</script>".to_owned(),
            ),
            ("season".to_owned(), "2".to_owned()),
            ("number".to_owned(), "7".to_owned()),
            ("episode_type".to_owned(), "full".to_owned()),
            ("slug".to_owned(), "rapat-koordinasi".to_owned()),
            ("explicit".to_owned(), "1".to_owned()),
            ("action".to_owned(), action.to_owned()),
        ]
    };
    let post = |who: &'static str, fields: Vec<(String, String)>| {
        let browser = if who == "citra" {
            &team.contributor
        } else {
            &team.editor
        };
        let path = path.clone();
        async move {
            let fields: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            browser.post_form(&path, &path, &fields, &[]).await
        }
    };
    let hostile = "Rapat <script>alert(\"x\")</script>";
    for action in ["publish", "schedule", "return"] {
        let res = post("citra", form(hostile, action)).await;
        assert_eq!(res.status(), 403, "{action}");
    }
    let res = app
        .post_json(
            &format!("/api/v1/episodes/{id}/publish"),
            Some(&team.citra),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 403);

    // Saved and submitted.
    let res = post("citra", form(hostile, "review")).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], format!("{path}?done=review"));
    let (_, html) = team.contributor.page(&format!("{path}?done=review")).await;
    assert!(html.contains("role=\"status\""), "{html}");
    assert_eq!(
        actions(&html),
        ["draft"],
        "in review: saved, not submitted again"
    );
    let (_, episode) = answer(
        app.http
            .get(app.url(&format!("/api/v1/episodes/{id}")))
            .bearer_auth(&team.dedi)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(episode["status"], "in_review");
    assert_eq!(episode["title"], hostile);
    assert_eq!(episode["meta"]["season"], 2);
    assert_eq!(episode["meta"]["episode"], 7);
    assert_eq!(
        episode["meta"]["explicit"], true,
        "the show is not: the episode is"
    );
    // The show notes sanitised, and previewed so.
    assert_eq!(
        episode["meta"]["content_html"],
        "<p>Hadir: <b>Gubernur</b></p>"
    );

    // The editor's buttons; the hostile title escaped on its pages.
    let (_, html) = team.editor.page(&path).await;
    assert_eq!(actions(&html), ["draft", "publish", "schedule", "return"]);
    assert!(html.contains("WIB (UTC+7"), "{html}");
    assert!(
        html.contains("<div class=\"notes\"><p>Hadir: <b>Gubernur</b></p></div>"),
        "{html}"
    );
    let (_, queue) = team
        .editor
        .page("/studio?show=kaltim&state=in_review")
        .await;
    for page in [&html, &queue] {
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(
            page.contains("Rapat &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"),
            "{page}"
        );
    }
    assert!(queue.contains("1 menunggu tinjauan Anda"), "{queue}");

    // A return without a comment: the page again, saying why, with what was posted.
    let mut fields = form(hostile, "return");
    fields.push(("comment".to_owned(), "  ".to_owned()));
    let res = post("dedi", fields).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("role=\"alert\""), "{html}");
    assert!(html.contains("Tulis komentar untuk penulisnya"), "{html}");
    let mut fields = form(hostile, "return");
    fields.push(("comment".to_owned(), "Judul jangan pakai <tag>".to_owned()));
    assert_eq!(post("dedi", fields).await.status(), 303);

    // The contributor reads the comment, and may submit again.
    let (_, html) = team.contributor.page(&path).await;
    assert!(html.contains("Judul jangan pakai &lt;tag&gt;"), "{html}");
    assert!(html.contains("Dedi Editor"), "{html}");
    assert_eq!(actions(&html), ["draft", "review"]);
    let (_, drafts) = team
        .contributor
        .page("/studio?show=kaltim&state=draft")
        .await;
    assert!(drafts.contains("Dikembalikan"), "{drafts}");
    assert!(!drafts.contains("<script>alert"), "{drafts}");
    assert!(
        !drafts.contains("menunggu tinjauan Anda"),
        "no review queue: {drafts}"
    );

    // A schedule in WIB, ahead only.
    let mut fields = form("Rapat koordinasi", "schedule");
    fields.push(("date".to_owned(), "2020-01-01".to_owned()));
    fields.push(("time".to_owned(), "09:30".to_owned()));
    let res = post("dedi", fields).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("masa depan"));
    let mut fields = form("Rapat koordinasi", "schedule");
    fields.push(("date".to_owned(), "2040-01-02".to_owned()));
    fields.push(("time".to_owned(), "09:30".to_owned()));
    assert_eq!(post("dedi", fields).await.status(), 303);
    let (_, episode) = answer(
        app.http
            .get(app.url(&format!("/api/v1/episodes/{id}")))
            .bearer_auth(&team.dedi)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(episode["status"], "scheduled");
    assert_eq!(episode["publish_at"], "2040-01-02T02:30:00Z");
    assert_eq!(episode["title"], "Rapat koordinasi");
    let (_, html) = team.editor.page(&path).await;
    assert!(html.contains("value=\"2040-01-02\""), "{html}");
    assert!(html.contains("value=\"09:30\""), "{html}");
    // Scheduled: the contributor may only look.
    let (_, html) = team.contributor.page(&path).await;
    assert_eq!(actions(&html), Vec::<String>::new());
    assert_eq!(post("citra", form("x", "draft")).await.status(), 403);

    // The history, newest first, names both users.
    let (_, html) = team.editor.page(&path).await;
    let trail = html.split("<ol class=\"history\">").nth(1).unwrap();
    let first_by = |who: &str| trail.find(who).unwrap();
    assert!(
        first_by("Dedi Editor") < first_by("Citra Kontributor"),
        "{trail}"
    );
    assert!(trail.contains("Diajukan untuk ditinjau"), "{trail}");
    assert!(trail.contains("Dikembalikan ke penulis"), "{trail}");
    // Saving an unchanged form (the notes as the page shows them) adds nothing to the history.
    let before = history(&app, &team.dedi, &id).await.len();
    let mut fields = form("Rapat koordinasi", "draft");
    for (k, v) in &mut fields {
        if k == "notes" {
            *v = "<p>Hadir: <b>Gubernur</b></p>".to_owned();
        }
    }
    fields.push(("date".to_owned(), "2040-01-02".to_owned()));
    fields.push(("time".to_owned(), "09:30".to_owned()));
    assert_eq!(post("dedi", fields).await.status(), 303);
    assert_eq!(history(&app, &team.dedi, &id).await.len(), before);
}
on_both_backends!(the_editor_by_role);

/// The dashboard reads one page of one state in SQL: the right slice, the total, a search by
/// title, the editors' review queue and the link to a new episode.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_pages_and_searches() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    app.create_show("kaltim").await;
    let team = team(&app).await;
    let media = app.upload_ok("briefing-demo.mp3").await;
    let mut ids = Vec::new();
    for n in 0..60 {
        let title = if n % 12 == 0 {
            format!("Kunjungan kerja {n:02}")
        } else {
            format!("Rapat {n:02}")
        };
        let res = app
            .post_json(
                "/api/v1/shows/kaltim/episodes",
                Some(&team.citra),
                &json!({"title": title, "media_id": media["id"]}),
            )
            .await;
        assert_eq!(res.status(), 201);
        ids.push(
            res.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for id in &ids[..3] {
        let res = app
            .post_json(
                &format!("/api/v1/episodes/{id}/review"),
                Some(&team.citra),
                &json!({}),
            )
            .await;
        assert_eq!(res.status(), 200);
    }

    let (_, html) = team.contributor.page("/studio").await;
    assert!(
        html.contains("href=\"/studio/shows/kaltim/episodes/new\""),
        "{html}"
    );
    assert!(html.contains("Draf (57)"), "{html}");
    assert!(html.contains("Ditinjau (3)"), "{html}");
    assert!(
        !html.contains("menunggu tinjauan Anda"),
        "not a contributor's queue"
    );
    assert_eq!(listed(&html), 25);
    assert!(html.contains("Halaman 1 dari 3 (57 episode)"), "{html}");
    // Most recently changed first.
    assert!(html.find("Rapat 59").unwrap() < html.find("Rapat 58").unwrap());
    let (_, html) = team
        .contributor
        .page("/studio?show=kaltim&state=draft&page=3")
        .await;
    assert_eq!(listed(&html), 7);
    assert!(
        html.contains("Rapat 03") && !html.contains("Rapat 02"),
        "{html}"
    );
    assert!(html.contains("rel=\"prev\""), "{html}");
    assert!(!html.contains("rel=\"next\""), "{html}");
    let (_, html) = team
        .contributor
        .page("/studio?show=kaltim&state=draft&q=KUNJUNGAN")
        .await;
    assert_eq!(listed(&html), 4, "{html}");
    assert!(html.contains("(4 episode)"), "{html}");
    let (_, html) = team.editor.page("/studio").await;
    assert!(html.contains("3 menunggu tinjauan Anda"), "{html}");
    let (_, html) = team
        .editor
        .page("/studio?show=kaltim&state=in_review")
        .await;
    assert_eq!(listed(&html), 3);
    for id in &ids[..3] {
        assert!(html.contains(&format!("/studio/episodes/{id}")), "{html}");
    }
    // Nonsense in the query is the first page of drafts.
    let (status, html) = team.editor.page("/studio?state=x&page=-1&show=nope").await;
    assert_eq!(status, 200);
    assert_eq!(listed(&html), 25);
}

/// In Chromium: a contributor edits its draft's title and submits it for review, with no
/// publish button; an editor finds it in the review queue and publishes it; the feed and the
/// public page have it, and the history names both users. Screenshots at 360 and 1280 px in
/// `target/tmp/studio-{editor,queue}-*.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_in_chromium() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    app.create_show("kaltim").await;
    let team = team(&app).await;
    let id = draft(&app, &team.citra, "kaltim", "Rapat koordinasi").await;
    let res = app
        .post_json(
            "/api/v1/documents",
            Some(&team.dedi),
            &json!({"title": "Keterbukaan Informasi Publik", "kind": "law"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let port = crate::helpers::free_port();
    let title = "Rapat banjir Samarinda";
    let args = [
        app.base.clone(),
        id.clone(),
        "kontributor@kaltimprov.go.id".to_owned(),
        "editor@kaltimprov.go.id".to_owned(),
        crate::studio_accounts::PASSWORD.to_owned(),
        port.to_string(),
        env!("CARGO_TARGET_TMPDIR").to_owned(),
        title.to_owned(),
    ];
    let seen = crate::helpers::run_node("studio-review.js", Vec::from(args)).await;
    let path = format!("/studio/episodes/{id}");
    assert_eq!(seen["contributorAt"], path, "{seen}");
    assert_eq!(
        seen["contributorButtons"],
        json!(["draft", "review"]),
        "{seen}"
    );
    // The moment picked from the player, linked, and marked in the editor's list.
    assert_eq!(seen["picked"], "1:05", "{seen}");
    assert_eq!(
        seen["linked"],
        json!({"at": format!("{path}?done=link"), "moments": ["65"]}),
        "{seen}"
    );
    // Chromium asks for English (Accept-Language: en-US).
    assert_eq!(
        seen["afterReview"],
        json!({"at": format!("{path}?done=review"), "h1": title, "status": "In review",
               "buttons": ["draft"]}),
        "{seen}"
    );
    assert_eq!(seen["signedOut"], "/studio/login", "{seen}");
    assert_eq!(seen["queue"], "1 awaiting your review", "{seen}");
    assert_eq!(seen["listed"], json!([title]), "{seen}");
    assert_eq!(
        seen["editorButtons"],
        json!(["draft", "publish", "schedule", "return"]),
        "{seen}"
    );
    assert_eq!(
        seen["afterPublish"],
        json!({"at": format!("{path}?done=publish"), "status": "Published",
               "notice": "Published."}),
        "{seen}"
    );
    let names: Vec<&str> = seen["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        names,
        [
            "Dedi Editor",
            "Citra Kontributor",
            "Citra Kontributor",
            "Citra Kontributor",
            "Citra Kontributor"
        ],
        "published, submitted, updated, document linked, created: {seen}"
    );
    assert_eq!(
        seen["sideways"],
        json!({"editor360": false, "editor1280": false,
               "queue360": false, "queue1280": false}),
        "{seen}"
    );
    assert_eq!(seen["csp"], json!([]), "no CSP violation: {seen}");

    // The feed and the public page have it; the history names both users.
    let feed = app
        .http
        .get(app.url("/feeds/kaltim.xml"))
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), 200);
    assert!(feed.text().await.unwrap().contains(title));
    let page = app
        .http
        .get(app.url("/shows/kaltim/rapat-koordinasi"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains(title));
    assert!(page.contains("#t=65"), "the document at its moment: {page}");
    let trail = app.history(&format!("/api/v1/episodes/{id}/history")).await;
    let by: Vec<&str> = trail.iter().map(|(_, by)| by.as_str()).collect();
    assert_eq!(
        by,
        [
            "Citra Kontributor",
            "Citra Kontributor",
            "Citra Kontributor",
            "Citra Kontributor",
            "Dedi Editor"
        ]
    );
    for shot in ["studio-editor-360", "studio-queue-1280"] {
        let file = format!("{}/{shot}.png", env!("CARGO_TARGET_TMPDIR"));
        assert!(std::fs::metadata(&file).unwrap().len() > 5_000, "{file}");
    }
}

/// Documents at a moment from the editor (issue 23; the moment picker of issue 24): the editor
/// lists the documents with their moments, offers the registry and a moment field that the
/// player's "use the player's time" button fills, and the sound check; a link made there, at a
/// typed moment, is on the public page with its `#t=` link. A moment that cannot be read shows
/// the page again with the reason and links nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_is_linked_at_a_moment_in_the_editor() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    app.create_show("kaltim").await;
    let team = team(&app).await;
    let id = draft(&app, &team.citra, "kaltim", "Rapat koordinasi").await;
    let path = format!("/studio/episodes/{id}");
    let res = app
        .post_json(
            "/api/v1/documents",
            Some(&team.dedi),
            &json!({"title": "Keterbukaan Informasi Publik", "number": "UU No. 14 Tahun 2008", "kind": "law"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let document: Value = res.json().await.unwrap();
    let document_id = document["id"].as_str().unwrap();

    let (status, html) = team.contributor.page(&path).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"player\""), "{html}");
    assert!(html.contains("data-fill-time=\"at\""), "{html}");
    assert!(
        html.contains("UU No. 14 Tahun 2008 — Keterbukaan Informasi Publik"),
        "{html}"
    );
    // No job worker in this test: the sound check is still to come.
    assert!(html.contains("Sedang dianalisis"), "{html}");

    let link = |at: &'static str| {
        let path = path.clone();
        let browser = &team.contributor;
        async move {
            browser
                .post_form(
                    &path,
                    &format!("{path}/documents"),
                    &[
                        ("document_id", document_id),
                        ("at", at),
                        ("note", "pasal 7"),
                    ],
                    &[],
                )
                .await
        }
    };
    let res = link("1:5x").await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Saat &#39;1:5x&#39; tidak terbaca")
            || html.contains("Saat '1:5x' tidak terbaca"),
        "{html}"
    );
    let res = link("2:05").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], format!("{path}?done=link"));
    let (_, html) = team.contributor.page(&format!("{path}?done=link")).await;
    assert!(html.contains("Dokumen ditautkan."), "{html}");
    assert!(html.contains("data-t=\"125\""), "{html}");
    let episode = app
        .get_json_as(&format!("/api/v1/episodes/{id}"), &team.dedi)
        .await;
    let linked = &episode["documents"];
    assert_eq!(linked.as_array().unwrap().len(), 1, "{linked}");
    assert_eq!(linked[0]["at_ms"], 125_000);
    assert_eq!(linked[0]["note"], "pasal 7");

    // Published, the briefing's page links the document at that moment.
    let res = app
        .post_json(
            &format!("/api/v1/episodes/{id}/publish"),
            Some(&team.dedi),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let page = app
        .http
        .get(app.url("/shows/kaltim/rapat-koordinasi"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("#t=125"), "{page}");
}
