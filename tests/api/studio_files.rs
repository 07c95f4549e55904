//! Files posted from studio pages (issue 23): a show's cover on its settings page, and a
//! document's PDF on its edit page (with the edit form). Each goes through the operation the
//! API uses; a refusal shows the page again with the rule broken, and nothing is stored.

use reqwest::header;

use crate::{
    artwork::image,
    document_files::pdf,
    helpers::{Backend, TestApp},
    on_both_backends,
    studio_accounts::{Browser, create_user, csrf_of},
    studio_upload::multipart,
};

/// Posts `bytes` as the `file` of the form on `form_page` (its CSRF token) to `path`.
async fn post_file(
    browser: &Browser,
    form_page: &str,
    path: &str,
    filename: &str,
    bytes: &[u8],
) -> reqwest::Response {
    let token = csrf_of(&browser.page(form_page).await.1);
    let (content_type, body) = multipart(Some(&token), filename, bytes);
    browser
        .http
        .post(browser.url(path))
        .header(header::CONTENT_TYPE, content_type)
        .header(header::ACCEPT_LANGUAGE, "en")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn signed_in(app: &TestApp, email: &str, role: &str) -> Browser {
    create_user(app, email, role, role);
    let browser = Browser::new(app);
    browser.login_ok(email).await;
    browser
}

async fn the_show_cover_from_its_settings_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_show("pemprov").await;
    let dir = tempfile::tempdir().unwrap();
    let admin = signed_in(&app, "admin@kaltimprov.go.id", "admin").await;
    let settings = "/studio/shows/pemprov/settings";
    let cover = "/studio/shows/pemprov/cover";

    // Apple's rules are on the page before the file field.
    let (status, html) = admin.page(settings).await;
    assert_eq!(status, 200);
    let rules = html.find("id=\"cover-rules\"").expect("the rules");
    let field = html.find("id=\"cover-file\"").expect("the file field");
    assert!(rules < field, "the rules come first");
    assert!(html.contains("1400") && html.contains("3000"), "{html}");

    // Too small: the page again, with the rule and the image's size; nothing stored.
    let small = image(dir.path(), "small.png", "1000x1000");
    let res = post_file(&admin, settings, cover, "small.png", &small).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("must be square, 1400–3000 pixels"), "{html}");
    assert!(html.contains("1000×1000"), "{html}");
    assert!(html.contains("id=\"cover-file\""), "the page again: {html}");
    // Not an image.
    let res = post_file(&admin, settings, cover, "cover.txt", b"bukan gambar").await;
    assert_eq!(res.status(), 415);
    assert!(res.text().await.unwrap().contains("JPEG or PNG"));
    assert!(app.stored_objects().await.is_empty());

    // An editor may not change the cover.
    let editor = signed_in(&app, "editor@kaltimprov.go.id", "editor").await;
    let png = image(dir.path(), "cover.png", "1400x1400");
    let res = post_file(&editor, "/studio/tokens", cover, "cover.png", &png).await;
    assert_eq!(res.status(), 403);
    assert!(app.stored_objects().await.is_empty());

    // Accepted: back to the page, which shows the cover the feed names.
    let res = post_file(&admin, settings, cover, "cover.png", &png).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()[header::LOCATION],
        "/studio/shows/pemprov/settings?done=1"
    );
    let show = app
        .get_json_as("/api/v1/shows/pemprov", &app.admin_token)
        .await;
    let url = show["artwork"]["url"].as_str().unwrap().to_owned();
    let (_, html) = admin.page(settings).await;
    assert!(html.contains(&format!("src=\"{url}\"")), "{url} in {html}");
    assert_eq!(app.stored_objects().await.len(), 1);
}

async fn editing_a_document_and_its_pdf(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let editor = signed_in(&app, "editor@kaltimprov.go.id", "editor").await;
    let res = editor
        .post_form(
            "/studio/documents",
            "/studio/documents",
            &[
                ("title", "Keterbukaan Informasi Publik"),
                ("number", "UU No. 14 Tahun 2008"),
                ("kind", "law"),
                ("issuer", ""),
                ("issued_on", ""),
                ("url", ""),
            ],
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    let documents = app.get_json_as("/api/v1/documents", &app.admin_token).await;
    let id = documents["documents"][0]["id"]
        .as_str()
        .or_else(|| documents[0]["id"].as_str())
        .unwrap()
        .to_owned();
    let page = format!("/studio/documents/{id}");

    // The registry leads to the edit page, which has the fields filled in.
    let (_, html) = editor.page("/studio/documents").await;
    assert!(html.contains(&format!("href=\"{page}\"")), "{html}");
    let (status, html) = editor.page(&page).await;
    assert_eq!(status, 200);
    assert!(html.contains("value=\"UU No. 14 Tahun 2008\""), "{html}");

    // An invalid change shows the page again with what was typed and nothing changes.
    let fields = |title: &'static str, url: &'static str| {
        [
            ("title", title),
            ("number", ""),
            ("kind", "law"),
            ("issuer", "DPR RI"),
            ("issued_on", "2008-04-30"),
            ("url", url),
        ]
    };
    let res = editor
        .post_form(&page, &page, &fields("Judul baru", "bukan alamat"), &[])
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("value=\"Judul baru\""));
    let stored = app
        .get_json_as(&format!("/api/v1/documents/{id}"), &app.admin_token)
        .await;
    assert_eq!(stored["title"], "Keterbukaan Informasi Publik");
    // A valid one is stored; an emptied field is cleared.
    let res = editor
        .post_form(
            &page,
            &page,
            &fields("UU KIP", "https://jdih.example.go.id/uu14"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    let stored = app
        .get_json_as(&format!("/api/v1/documents/{id}"), &app.admin_token)
        .await;
    assert_eq!(stored["title"], "UU KIP");
    assert_eq!(stored["issuer"], "DPR RI");
    assert!(stored["number"].is_null(), "{stored}");

    // Not a PDF: refused with the reason, nothing stored.
    let file = format!("{page}/file");
    let res = post_file(&editor, &page, &file, "uu.pdf", b"<html>bukan pdf</html>").await;
    assert_eq!(res.status().as_u16(), 415);
    let html = res.text().await.unwrap();
    assert!(html.contains("PDF"), "{html}");
    assert!(html.contains("id=\"pdf-file\""), "the page again: {html}");
    assert!(app.stored_objects().await.is_empty());
    let stored = app
        .get_json_as(&format!("/api/v1/documents/{id}"), &app.admin_token)
        .await;
    assert!(stored["file"].is_null(), "{stored}");

    // A PDF: stored through the API's operation, linked from the page.
    let bytes = pdf(14);
    let res = post_file(&editor, &page, &file, "uu-14-2008.pdf", &bytes).await;
    assert_eq!(res.status(), 303);
    let stored = app
        .get_json_as(&format!("/api/v1/documents/{id}"), &app.admin_token)
        .await;
    assert_eq!(stored["file"]["filename"], "uu-14-2008.pdf");
    assert_eq!(stored["file"]["size_bytes"], bytes.len());
    let url = stored["file"]["url"].as_str().unwrap();
    let (_, html) = editor.page(&page).await;
    assert!(html.contains(url), "{url} in {html}");
    assert_eq!(app.stored_objects().await.len(), 1);

    // A contributor may not.
    let contributor = signed_in(&app, "kontributor@kaltimprov.go.id", "contributor").await;
    let res = contributor.get(&page).await;
    assert_eq!(res.status(), 403);
    let res = post_file(&contributor, "/studio/tokens", &file, "x.pdf", &pdf(2)).await;
    assert_eq!(res.status(), 403);
}

on_both_backends!(the_show_cover_from_its_settings_page);
on_both_backends!(editing_a_document_and_its_pdf);
