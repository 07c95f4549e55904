//! The role × action matrix (issue 23): a contributor, an editor, an admin, an editor of another
//! show only, and no one signed in, on the studio's routes and the API's: each is allowed or
//! refused, nothing else. Refused is 403 for a signed-in user; without a session a page sends
//! to the login page (303) and the API answers 401.

use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use siaran::{
    domain::{audit::Actor, users::ShowRole},
    service::users,
};

use crate::{
    helpers::{Backend, TestApp},
    studio_accounts::{Browser, create_user},
    studio_review::draft,
};

/// An editor's file form: its route, its text fields, its file.
type FileForm<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [u8]);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Contributor,
    Editor,
    Admin,
    /// An editor of `bontang` only: `kaltim` is not its show.
    OtherShowsEditor,
    Anonymous,
}

const EVERYONE: [Who; 5] = [
    Who::Contributor,
    Who::Editor,
    Who::Admin,
    Who::OtherShowsEditor,
    Who::Anonymous,
];

/// What a route answers someone: allowed (with the status it answers then) or refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Allowed(u16),
    Refused,
}

struct Actors {
    browsers: Vec<(Who, Browser)>,
    tokens: Vec<(Who, String)>,
    /// A token of the contributor, which makes the drafts.
    maker: String,
}

impl Actors {
    fn browser(&self, who: Who) -> &Browser {
        &self.browsers.iter().find(|(w, _)| *w == who).unwrap().1
    }

    fn token(&self, who: Who) -> Option<&str> {
        self.tokens
            .iter()
            .find(|(w, _)| *w == who)
            .map(|(_, t)| t.as_str())
    }
}

async fn actors(app: &TestApp) -> Actors {
    let people = [
        (
            Who::Contributor,
            "kontributor@kaltimprov.go.id",
            "contributor",
        ),
        (Who::Editor, "editor@kaltimprov.go.id", "editor"),
        (Who::Admin, "admin@kaltimprov.go.id", "admin"),
        (Who::OtherShowsEditor, "bontang@kaltimprov.go.id", "editor"),
    ];
    let mut browsers = Vec::new();
    let mut tokens = Vec::new();
    for (who, email, role) in people {
        create_user(app, email, &format!("{who:?}"), role);
        if who == Who::OtherShowsEditor {
            let db = app.state.ctx.db.as_ref();
            let user = users::by_email(db, email).await.unwrap();
            let kaltim = siaran::service::shows::load(&app.state.ctx, "kaltim")
                .await
                .unwrap();
            users::set_show_role(
                db,
                &Actor::system("test"),
                &user,
                &kaltim,
                Some(ShowRole::None),
            )
            .await
            .unwrap();
        }
        let browser = Browser::new(app);
        browser.login_ok(email).await;
        tokens.push((who, browser.create_token("matriks").await));
        browsers.push((who, browser));
    }
    browsers.push((Who::Anonymous, Browser::new(app)));
    let maker = tokens[0].1.clone();
    Actors {
        browsers,
        tokens,
        maker,
    }
}

/// Whether `res` is `expected` for this person: a refusal is 403 signed in; for no one, a
/// page's or form's redirect to the login page, or the API's 401, whatever the route.
fn check(who: Who, what: &str, expected: Answer, res: &reqwest::Response) {
    let status = res.status();
    match (who, expected) {
        (Who::Anonymous, _) if what.starts_with("page") || what.starts_with("form") => {
            assert_eq!(status, StatusCode::SEE_OTHER, "{who:?} {what}");
            let to = res.headers()[header::LOCATION].to_str().unwrap();
            assert!(to.starts_with("/studio/login"), "{who:?} {what}: {to}");
        }
        (Who::Anonymous, _) => assert_eq!(status, StatusCode::UNAUTHORIZED, "{who:?} {what}"),
        (_, Answer::Allowed(code)) => assert_eq!(status.as_u16(), code, "{who:?} {what}"),
        (_, Answer::Refused) => assert_eq!(status, StatusCode::FORBIDDEN, "{who:?} {what}"),
    }
}

/// The slug an episode has now.
async fn slug_of(app: &TestApp, id: &str) -> String {
    let episode = app
        .get_json_as(&format!("/api/v1/episodes/{id}"), &app.admin_token)
        .await;
    episode["slug"].as_str().unwrap().to_owned()
}

async fn matrix(backend: Backend) {
    use Answer::{Allowed, Refused};
    let app = TestApp::spawn(backend).await;
    for slug in ["kaltim", "bontang"] {
        app.create_show(slug).await;
    }
    let people = actors(&app).await;
    let document: Value = app
        .post_json(
            "/api/v1/documents",
            Some(&app.admin_token),
            &json!({"title": "Keterbukaan Informasi Publik", "kind": "law"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let document = document["id"].as_str().unwrap().to_owned();

    let images = tempfile::tempdir().unwrap();
    let cover = crate::artwork::image(images.path(), "sampul.png", "1400x1400");

    // By who: what each route answers. A draft is made afresh for each request that changes one.
    let by = |c, e, a, o| {
        move |who: Who| match who {
            Who::Contributor => c,
            Who::Editor => e,
            Who::Admin => a,
            Who::OtherShowsEditor | Who::Anonymous => o,
        }
    };
    let document_page = format!("/studio/documents/{document}");
    let pages: [(&str, &dyn Fn(Who) -> Answer); 10] = [
        (
            "/studio/users",
            &by(Refused, Refused, Allowed(200), Refused),
        ),
        ("/studio/site", &by(Refused, Refused, Allowed(200), Refused)),
        // Documents belong to no show: an editor of any show keeps the registry.
        (
            "/studio/documents",
            &by(Refused, Allowed(200), Allowed(200), Allowed(200)),
        ),
        (
            &document_page,
            &by(Refused, Allowed(200), Allowed(200), Allowed(200)),
        ),
        (
            "/studio/shows/kaltim/settings",
            &by(Refused, Refused, Allowed(200), Refused),
        ),
        (
            "/studio",
            &by(Allowed(200), Allowed(200), Allowed(200), Allowed(200)),
        ),
        (
            "/studio/tokens",
            &by(Allowed(200), Allowed(200), Allowed(200), Allowed(200)),
        ),
        (
            "/studio/shows/kaltim/episodes/new",
            &by(Allowed(200), Allowed(200), Allowed(200), Refused),
        ),
        // Statistics: whoever may see the show's unpublished episodes, as the API's report.
        (
            "/studio/shows/kaltim/stats",
            &by(Allowed(200), Allowed(200), Allowed(200), Refused),
        ),
        (
            "/studio/shows/kaltim/stats?format=csv",
            &by(Allowed(200), Allowed(200), Allowed(200), Refused),
        ),
    ];
    for who in EVERYONE {
        let browser = people.browser(who);
        for (path, expected) in &pages {
            check(
                who,
                &format!("page {path}"),
                expected(who),
                &browser.get(path).await,
            );
        }
        let id = draft(&app, &people.maker, "kaltim", "Rapat").await;
        let editor = format!("/studio/episodes/{id}");
        check(
            who,
            "page editor",
            by(Allowed(200), Allowed(200), Allowed(200), Refused)(who),
            &browser.get(&editor).await,
        );
        check(
            who,
            "page preview",
            by(Allowed(200), Allowed(200), Allowed(200), Refused)(who),
            &browser.get(&format!("{editor}/preview")).await,
        );
        check(
            who,
            "page episode statistics",
            by(Allowed(200), Allowed(200), Allowed(200), Refused)(who),
            &browser.get(&format!("{editor}/stats")).await,
        );

        // The editor's buttons, each on a fresh draft, posted with the session's CSRF token.
        let form_page = if who == Who::Anonymous {
            "/studio/login"
        } else {
            "/studio/tokens"
        };
        let steps: [(&str, Answer); 5] = [
            (
                "draft",
                by(Allowed(303), Allowed(303), Allowed(303), Refused)(who),
            ),
            (
                "review",
                by(Allowed(303), Allowed(303), Allowed(303), Refused)(who),
            ),
            (
                "publish",
                by(Refused, Allowed(303), Allowed(303), Refused)(who),
            ),
            (
                "schedule",
                by(Refused, Allowed(303), Allowed(303), Refused)(who),
            ),
            (
                "return",
                by(Refused, Allowed(303), Allowed(303), Refused)(who),
            ),
        ];
        for (action, expected) in steps {
            let title = format!("Rapat {who:?} {action}");
            let id = draft(&app, &people.maker, "kaltim", &title).await;
            let slug = slug_of(&app, &id).await;
            if action == "return" {
                let res = app
                    .post_json(
                        &format!("/api/v1/episodes/{id}/review"),
                        Some(&people.maker),
                        &json!({}),
                    )
                    .await;
                assert_eq!(res.status(), 200);
            }
            let fields = [
                ("title", title.as_str()),
                ("description", ""),
                ("notes", ""),
                ("season", ""),
                ("number", ""),
                ("episode_type", "full"),
                ("slug", slug.as_str()),
                ("date", "2099-01-02"),
                ("time", "09:00"),
                ("comment", "Judul kurang jelas"),
                ("action", action),
            ];
            let path = format!("/studio/episodes/{id}");
            let res = people
                .browser(who)
                .post_form(form_page, &path, &fields, &[])
                .await;
            check(who, &format!("form {action}"), expected, &res);
        }
        let res = people
            .browser(who)
            .post_form(
                form_page,
                &format!("{editor}/documents"),
                &[("document_id", &document), ("at", "0:05")],
                &[],
            )
            .await;
        check(
            who,
            "form link a document",
            by(Allowed(303), Allowed(303), Allowed(303), Refused)(who),
            &res,
        );

        // The editor's file forms (multipart, the token first), each on a fresh draft.
        let chapters = json!({"version": "1.2.0", "chapters": [{"startTime": 0}]}).to_string();
        let files: [FileForm<'_>; 3] = [
            (
                "transcript",
                &[("language", "id")],
                crate::episode_files::VTT.as_bytes(),
            ),
            ("chapters", &[], chapters.as_bytes()),
            ("cover", &[], &cover),
        ];
        for (route, fields, bytes) in files {
            let id = draft(&app, &people.maker, "kaltim", "Rapat").await;
            let res = crate::studio_editor::post_file(
                people.browser(who),
                Some(form_page),
                &format!("/studio/episodes/{id}/{route}"),
                fields,
                "berkas",
                bytes,
            )
            .await;
            check(
                who,
                &format!("form {route} upload"),
                by(Allowed(303), Allowed(303), Allowed(303), Refused)(who),
                &res,
            );
        }
        let id = draft(&app, &people.maker, "kaltim", "Rapat").await;
        let res = app
            .http
            .put(app.url(&format!("/api/v1/episodes/{id}/chapters")))
            .bearer_auth(&people.maker)
            .body(chapters.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let res = people
            .browser(who)
            .post_form(
                form_page,
                &format!("/studio/episodes/{id}/chapters/remove"),
                &[],
                &[],
            )
            .await;
        check(
            who,
            "form chapters remove",
            by(Allowed(303), Allowed(303), Allowed(303), Refused)(who),
            &res,
        );

        // The API, with the person's token (none for no one).
        let token = people.token(who);
        let api: [(&str, Value, Answer); 3] = [
            (
                "publish",
                json!({}),
                by(Refused, Allowed(200), Allowed(200), Refused)(who),
            ),
            (
                "review",
                json!({}),
                by(Allowed(200), Allowed(200), Allowed(200), Refused)(who),
            ),
            (
                "withdraw",
                json!({"reason": "Salah unggah"}),
                by(Refused, Allowed(200), Allowed(200), Refused)(who),
            ),
        ];
        for (action, body, expected) in api {
            let id = draft(&app, &people.maker, "kaltim", "Rapat").await;
            if action == "withdraw" {
                let res = app
                    .post_json(
                        &format!("/api/v1/episodes/{id}/publish"),
                        Some(&app.admin_token),
                        &json!({}),
                    )
                    .await;
                assert_eq!(res.status(), 200);
            }
            let res = if action == "withdraw" {
                let req = app
                    .http
                    .put(app.url(&format!("/api/v1/episodes/{id}/withdrawal")))
                    .json(&body);
                match token {
                    Some(token) => req.bearer_auth(token),
                    None => req,
                }
                .send()
                .await
                .unwrap()
            } else {
                app.post_json(&format!("/api/v1/episodes/{id}/{action}"), token, &body)
                    .await
            };
            check(who, &format!("api {action}"), expected, &res);
        }
        let res = app
            .post_json(
                "/api/v1/shows",
                token,
                &json!({"slug": format!("baru-{}", format!("{who:?}").to_lowercase()),
                        "title": "Acara baru", "description": "Acara baru",
                        "author": "Diskominfo Kaltim", "email": "ppid@kaltimprov.go.id",
                        "language": "id", "category": "Government", "explicit": false}),
            )
            .await;
        check(
            who,
            "api create a show",
            by(Refused, Refused, Allowed(201), Refused)(who),
            &res,
        );
    }
}

crate::on_both_backends!(matrix);

/// The users page (admins only): an admin gives a contributor the editor's role on one show,
/// after which it publishes there and still not elsewhere; a role the page does not know is
/// refused on the page; disabling the user ends its session at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_gives_a_role_on_one_show() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    for slug in ["kaltim", "bontang"] {
        app.create_show(slug).await;
    }
    create_user(&app, "admin@kaltimprov.go.id", "Ani Admin", "admin");
    create_user(
        &app,
        "kiki@kaltimprov.go.id",
        "Kiki Kontributor",
        "contributor",
    );
    let admin = Browser::new(&app);
    admin.login_ok("admin@kaltimprov.go.id").await;
    let kiki = Browser::new(&app);
    kiki.login_ok("kiki@kaltimprov.go.id").await;
    let kiki_token = kiki.create_token("unggah").await;
    let kiki_id = users::by_email(app.state.ctx.db.as_ref(), "kiki@kaltimprov.go.id")
        .await
        .unwrap()
        .id;
    let publish = |show: &'static str| {
        let (app, token) = (&app, kiki_token.clone());
        async move {
            let id = draft(app, &token, show, "Rapat").await;
            app.post_json(
                &format!("/api/v1/episodes/{id}/publish"),
                Some(&token),
                &json!({}),
            )
            .await
            .status()
        }
    };
    assert_eq!(publish("bontang").await, StatusCode::FORBIDDEN);

    // Not a page for a contributor, nor its forms.
    assert_eq!(
        kiki.get("/studio/users").await.status(),
        StatusCode::FORBIDDEN
    );
    let roles = format!("/studio/users/{kiki_id}/roles");
    let res = kiki
        .post_form(
            "/studio/tokens",
            &roles,
            &[("show", "bontang"), ("role", "editor")],
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (_, html) = kiki.page("/studio").await;
    assert!(
        !html.contains("href=\"/studio/users\""),
        "no link for a contributor"
    );

    let (status, html) = admin.page("/studio/users").await;
    assert_eq!(status, 200);
    assert!(html.contains("kiki@kaltimprov.go.id"), "{html}");
    assert!(html.contains("href=\"/studio/users\""), "{html}");
    let res = admin
        .post_form(
            "/studio/users",
            &roles,
            &[("show", "bontang"), ("role", "pemilik")],
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("pemilik"));
    let res = admin
        .post_form(
            "/studio/users",
            &roles,
            &[("show", "bontang"), ("role", "editor")],
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, html) = admin.page("/studio/users?done=1").await;
    assert!(html.contains("Siaran Pers bontang: Editor"), "{html}");

    assert_eq!(publish("bontang").await, StatusCode::OK);
    assert_eq!(publish("kaltim").await, StatusCode::FORBIDDEN);

    // Disabled: its session ends at once.
    let res = admin
        .post_form(
            "/studio/users",
            &format!("/studio/users/{kiki_id}/disabled"),
            &[("disabled", "1")],
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = kiki.get("/studio").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        res.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/studio/login")
    );
}

/// The show's settings page (whoever manages shows): the feed's address to copy, Apple's
/// categories to pick from; saving goes through the API's operation (the feed says the new
/// category), a refused value shows the page again with the reason and keeps what was typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_changes_a_shows_settings() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    app.create_show("kaltim").await;
    create_user(&app, "admin@kaltimprov.go.id", "Ani Admin", "admin");
    create_user(&app, "editor@kaltimprov.go.id", "Dedi Editor", "editor");
    let admin = Browser::new(&app);
    admin.login_ok("admin@kaltimprov.go.id").await;
    let editor = Browser::new(&app);
    editor.login_ok("editor@kaltimprov.go.id").await;
    let path = "/studio/shows/kaltim/settings";
    assert_eq!(editor.get(path).await.status(), StatusCode::FORBIDDEN);
    let (_, dashboard) = editor.page("/studio").await;
    assert!(!dashboard.contains(path), "no settings link for an editor");
    let (_, dashboard) = admin.page("/studio").await;
    assert!(dashboard.contains(path), "{dashboard}");

    let (status, html) = admin.page(path).await;
    assert_eq!(status, 200);
    assert!(html.contains(&app.url("/feeds/kaltim.xml")), "{html}");
    assert!(
        html.contains("<option value=\"News &gt; Politics\">"),
        "{html}"
    );
    let form = |category: &'static str, title: &'static str| {
        vec![
            ("slug", "kaltim"),
            ("title", title),
            ("description", "Penjelasan kebijakan daerah"),
            ("author", "Diskominfo Kaltim"),
            ("email", "ppid@kaltimprov.go.id"),
            ("language", "id"),
            ("category", category),
        ]
    };
    let res = admin
        .post_form(
            path,
            path,
            &form("Berita", "Siaran Pers Kaltim <b>baru</b>"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Berita"),
        "the reason names the category: {html}"
    );
    assert!(
        html.contains("Siaran Pers Kaltim &lt;b&gt;baru&lt;/b&gt;"),
        "kept, escaped: {html}"
    );
    let res = admin
        .post_form(
            path,
            path,
            &form("News > Politics", "Siaran Pers Kaltim"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let feed = app
        .http
        .get(app.url("/feeds/kaltim.xml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(feed.contains("<itunes:category text=\"News\">"), "{feed}");
    assert!(
        feed.contains("<itunes:category text=\"Politics\">"),
        "{feed}"
    );
}

/// The document registry page: an editor adds a document (empty optional fields left out) and
/// sees it listed with the briefings citing it; a date that cannot be read shows the page again
/// with the reason and what was typed; a contributor may not keep the registry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_keeps_the_document_registry() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    app.create_show("kaltim").await;
    create_user(&app, "editor@kaltimprov.go.id", "Dedi Editor", "editor");
    create_user(
        &app,
        "kiki@kaltimprov.go.id",
        "Kiki Kontributor",
        "contributor",
    );
    let editor = Browser::new(&app);
    editor.login_ok("editor@kaltimprov.go.id").await;
    let kiki = Browser::new(&app);
    kiki.login_ok("kiki@kaltimprov.go.id").await;
    let path = "/studio/documents";
    assert_eq!(kiki.get(path).await.status(), StatusCode::FORBIDDEN);
    let (_, studio) = kiki.page("/studio").await;
    assert!(
        !studio.contains("href=\"/studio/documents\""),
        "no link for a contributor"
    );

    let form = |issued_on: &'static str| {
        vec![
            ("title", "Keterbukaan Informasi <Publik>"),
            ("number", "UU No. 14 Tahun 2008"),
            ("kind", "undang-undang"),
            ("issuer", ""),
            ("issued_on", issued_on),
            ("url", ""),
        ]
    };
    let res = editor.post_form(path, path, &form("30/04/2008"), &[]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("30/04/2008"),
        "the reason and the typed date: {html}"
    );
    assert!(
        html.contains("Keterbukaan Informasi &lt;Publik&gt;"),
        "{html}"
    );
    assert_eq!(app.count_rows("documents").await, 0);

    let res = editor.post_form(path, path, &form("2008-04-30"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let listed = app.get_json("/api/v1/documents").await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let document = &listed[0];
    assert_eq!(document["number"], "UU No. 14 Tahun 2008");
    assert_eq!(document["issued_on"], "2008-04-30");
    assert!(
        document["issuer"].is_null(),
        "an empty field is no value: {document}"
    );

    // Cited by a briefing: listed under it.
    let id = draft(&app, &app.editor_token, "kaltim", "Rapat keterbukaan").await;
    let res = app
        .post_json(
            &format!("/api/v1/episodes/{id}/documents"),
            Some(&app.editor_token),
            &json!({"document_id": document["id"]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let (_, html) = editor.page(&format!("{path}?done=1")).await;
    assert!(
        html.contains("UU No. 14 Tahun 2008 — Keterbukaan Informasi &lt;Publik&gt;"),
        "{html}"
    );
    assert!(
        html.contains(&format!("href=\"/studio/episodes/{id}\"")),
        "{html}"
    );
}
