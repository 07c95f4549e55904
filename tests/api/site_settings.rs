//! The office's site settings (issue 23): set on `/studio/site` by an admin, they change the
//! public pages (title, header, footer, colours), an episode page, the embed player and a
//! feed's browser view, escaped as text; a second instance on the same database sees them; a
//! colour without enough contrast or an SVG logo is refused with the rule, nothing stored.

use std::time::{Duration, Instant};

use reqwest::header;

use crate::{
    artwork::image,
    episode_files::published_episode,
    helpers::{Backend, TestApp},
    on_both_backends,
    studio_accounts::{Browser, create_user, csrf_of},
    studio_upload::multipart,
};

const HOSTILE: &str = "Diskominfo <script>alert(1)</script> Kaltim";

async fn html(app: &TestApp, path: &str, accept: Option<&str>) -> String {
    let mut req = app.http.get(app.url(path));
    if let Some(accept) = accept {
        req = req.header(header::ACCEPT, accept);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.unwrap()
}

fn settings<'a>(name: &'a str, accent: &'a str, bar: &'a str) -> [(&'a str, &'a str); 5] {
    [
        ("name", name),
        ("address", "Jl. Gajah Mada No. 2\nSamarinda 75121"),
        ("ppid_contact", "ppid@kaltimprov.go.id · (0541) 733333"),
        ("accent", accent),
        ("header", bar),
    ]
}

async fn the_settings_change_every_public_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let episode = published_episode(&app, "ppid", "briefing-demo.mp3").await;
    let episode_page = format!("/shows/ppid/{}", episode["slug"].as_str().unwrap());
    let embed = format!("/embed/ppid/{}", episode["slug"].as_str().unwrap());
    let feed_view = "/feeds/ppid.xml";
    let browser_accept = Some("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
    let peer = app.spawn_peer().await;
    // Before: Siaran's name, as always; the peer has read them too.
    assert!(html(&app, "/", None).await.contains("· Siaran</title>"));
    assert!(html(&peer, "/", None).await.contains("· Siaran</title>"));

    create_user(&app, "admin@kaltimprov.go.id", "Ani Admin", "admin");
    let admin = Browser::new(&app);
    admin.login_ok("admin@kaltimprov.go.id").await;
    let res = admin
        .post_form(
            "/studio/site",
            "/studio/site",
            &settings(HOSTILE, "#1d4e89", "#7a1f1f"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[header::LOCATION], "/studio/site?done=1");

    let escaped = "Diskominfo &lt;script&gt;alert(1)&lt;/script&gt; Kaltim";
    for (path, accept) in [
        ("/", None),
        (episode_page.as_str(), None),
        (feed_view, browser_accept),
    ] {
        let page = html(&app, path, accept).await;
        assert!(
            page.contains(&format!("· {escaped}</title>")),
            "{path}: {page}"
        );
        assert!(!page.contains("<script>alert"), "{path}: {page}");
        assert!(
            page.contains("Jl. Gajah Mada No. 2\nSamarinda 75121"),
            "{path}"
        );
        assert!(page.contains("ppid@kaltimprov.go.id"), "{path}");
        assert!(!page.contains("· Siaran</title>"), "{path}");
    }
    let player = html(&app, &embed, None).await;
    assert!(player.contains(escaped), "{player}");

    // The colours, from a stylesheet whose path changes with them, kept for a year.
    let page = html(&app, "/", None).await;
    let css_path = page
        .split("href=\"/site.css?v=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(|v| format!("/site.css?v={v}"))
        .expect("the site's stylesheet");
    let res = app.http.get(app.url(&css_path)).send().await.unwrap();
    assert_eq!(
        res.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert!(
        res.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    let css = res.text().await.unwrap();
    assert!(css.contains("a { color: #1d4e89; }"), "{css}");
    assert!(css.contains("background: #7a1f1f"), "{css}");
    let stale = app.http.get(app.url("/site.css?v=0")).send().await.unwrap();
    assert_eq!(stale.headers()[header::CACHE_CONTROL], "no-cache");

    // Another instance on the same database: at once on PostgreSQL (NOTIFY, heard back before
    // the form's answer), else within `service::site::REVALIDATE_AFTER`.
    let start = Instant::now();
    loop {
        let page = html(&peer, "/", None).await;
        if page.contains(&format!("· {escaped}</title>")) {
            break;
        }
        assert!(
            backend != Backend::PostgresS3,
            "the peer did not hear of the change"
        );
        assert!(
            start.elapsed() < Duration::from_secs(8),
            "the peer never saw the change"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn bad_settings_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let dir = tempfile::tempdir().unwrap();
    create_user(&app, "admin@kaltimprov.go.id", "Ani Admin", "admin");
    let admin = Browser::new(&app);
    admin.login_ok("admin@kaltimprov.go.id").await;
    let (status, page) = admin.page("/studio/site").await;
    assert_eq!(status, 200);
    assert!(page.contains("value=\"Siaran\""), "{page}");
    assert!(page.contains("4.5:1"), "the rule is on the page: {page}");

    // Too light for white text: the page again, with what was typed and the rule.
    let en = [("accept-language", "en")];
    for (accent, bar, said) in [
        ("#ffcc00", "", "too light"),
        ("red", "", "#rrggbb"),
        ("#0b5394", "#87ceeb", "too light"),
    ] {
        let res = admin
            .post_form(
                "/studio/site",
                "/studio/site",
                &settings("Diskominfo Kaltim", accent, bar),
                &en,
            )
            .await;
        assert_eq!(res.status(), 422, "{accent} {bar}");
        let page = res.text().await.unwrap();
        assert!(page.contains(said), "{accent}: {page}");
        assert!(page.contains("value=\"Diskominfo Kaltim\""), "{page}");
    }
    let res = admin
        .post_form(
            "/studio/site",
            "/studio/site",
            &settings("  ", "#0b5394", ""),
            &en,
        )
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(app.count_rows("site_settings").await, 0);
    assert!(html(&app, "/", None).await.contains("· Siaran</title>"));

    // A logo: an SVG is refused (it can carry script), a PNG becomes the header's.
    let post_logo = |name: &'static str, bytes: Vec<u8>| {
        let admin = &admin;
        async move {
            let token = csrf_of(&admin.page("/studio/site").await.1);
            let (content_type, body) = multipart(Some(&token), name, &bytes);
            admin
                .http
                .post(admin.url("/studio/site/logo"))
                .header(header::CONTENT_TYPE, content_type)
                .header(header::ACCEPT_LANGUAGE, "en")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec();
    let res = post_logo("logo.svg", svg).await;
    assert_eq!(res.status(), 415);
    assert!(res.text().await.unwrap().contains("SVG is not accepted"));
    assert!(app.stored_objects().await.is_empty());
    let png = image(dir.path(), "logo.png", "200x80");
    let res = post_logo("logo.png", png.clone()).await;
    assert_eq!(res.status(), 303);
    let page = html(&app, "/", None).await;
    let src = page
        .split("<img src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the logo in the header")
        .to_owned();
    assert!(src.starts_with("/site/logo/"), "{src}");
    let res = app.http.get(app.url(&src)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "image/png");
    assert_eq!(res.bytes().await.unwrap().as_ref(), png.as_slice());
    assert_eq!(app.stored_objects().await.len(), 1);
    // Still Siaran's name: the logo alone was set.
    assert!(page.contains("· Siaran</title>"));

    // Not for editors.
    create_user(&app, "editor@kaltimprov.go.id", "Eko Editor", "editor");
    let editor = Browser::new(&app);
    editor.login_ok("editor@kaltimprov.go.id").await;
    assert_eq!(editor.get("/studio/site").await.status(), 403);
    let res = editor
        .post_form(
            "/studio/tokens",
            "/studio/site",
            &settings("Bukan admin", "#0b5394", ""),
            &[],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert!(
        !editor
            .page("/studio")
            .await
            .1
            .contains("href=\"/studio/site\"")
    );
    assert!(
        admin
            .page("/studio")
            .await
            .1
            .contains("href=\"/studio/site\"")
    );
}

on_both_backends!(the_settings_change_every_public_page);
on_both_backends!(bad_settings_are_refused);
