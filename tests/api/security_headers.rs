//! Security headers (issue 22, point 4): `nosniff` and the referrer policy on every kind of
//! response; a `Content-Security-Policy` without inline script or style on pages and on a feed
//! shown in a browser, refusing framing except for the embeddable player; media, transcripts and
//! documents keep their exact types. The browser test (`browser.rs`) shows the pages work under
//! the policy.

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::{
    document_files::pdf,
    episode_files::{VTT, published_episode},
    helpers::{Backend, TestApp},
};

/// The headers every response carries.
fn every_response(what: &str, res: &reqwest::Response) {
    assert_eq!(
        res.headers()
            .get(header::X_CONTENT_TYPE_OPTIONS)
            .map(|v| v.to_str().unwrap()),
        Some("nosniff"),
        "{what} ({}): nosniff",
        res.status()
    );
    assert_eq!(
        res.headers()
            .get(header::REFERRER_POLICY)
            .map(|v| v.to_str().unwrap()),
        Some("strict-origin-when-cross-origin"),
        "{what} ({}): referrer policy",
        res.status()
    );
}

fn csp(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .map(|v| v.to_str().unwrap().to_owned())
}

fn content_type(res: &reqwest::Response) -> String {
    res.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned()
}

/// A policy under which no inline script or style runs and nothing is loaded from elsewhere
/// but the media.
fn strict(what: &str, policy: &str) {
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "base-uri 'none'",
    ] {
        assert!(
            policy.split(';').any(|d| d.trim() == directive),
            "{what}: {directive} in {policy}"
        );
    }
    assert!(!policy.contains("unsafe"), "{what}: {policy}");
}

/// Pages have nothing inline to allow: every script is a file, no style element or attribute.
fn nothing_inline(what: &str, html: &str) {
    for (i, _) in html.match_indices("<script") {
        let tag = &html[i..i + html[i..].find('>').unwrap()];
        assert!(tag.contains(" src="), "{what}: inline script {tag}");
        assert!(
            html[i..].contains("></script>"),
            "{what}: script with content"
        );
    }
    assert!(!html.contains("<style"), "{what}: a style element");
    assert!(!html.contains(" style="), "{what}: a style attribute");
    assert!(!html.contains(" onclick="), "{what}: an event handler");
}

/// The archive's pages: the policy, framing refused, nothing inline.
async fn page(app: &TestApp, path: &str, status: u16) -> String {
    let res = app.http.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), status, "{path}");
    every_response(path, &res);
    assert!(content_type(&res).starts_with("text/html"), "{path}");
    let policy = csp(&res).unwrap_or_else(|| panic!("{path}: no policy"));
    strict(path, &policy);
    assert!(
        policy.contains("frame-ancestors 'none'"),
        "{path}: {policy}"
    );
    assert!(policy.contains("form-action 'self'"), "{path}: {policy}");
    assert_eq!(res.headers()[header::X_FRAME_OPTIONS], "DENY", "{path}");
    let html = res.text().await.unwrap();
    nothing_inline(path, &html);
    html
}

/// The path of the file the page links to by `attribute="/static/{stem}-…"`.
fn linked(html: &str, stem: &str) -> String {
    let start = html
        .find(&format!("\"/static/{stem}-"))
        .unwrap_or_else(|| panic!("no {stem} in the page"));
    let path = &html[start + 1..];
    path[..path.find('"').unwrap()].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_response_carries_the_security_headers() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    let episode = published_episode(&app, "ppid", "briefing-demo.mp3").await;
    let id = episode["id"].as_str().unwrap();
    let page_url = episode["url"].as_str().unwrap();
    let media_url = episode["enclosure_url"].as_str().unwrap();
    let transcript: Value = app
        .http
        .put(app.url(&format!("/api/v1/episodes/{id}/transcripts/id")))
        .bearer_auth(&app.editor_token)
        .body(VTT)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let doc: Value = app
        .post_json(
            "/api/v1/documents",
            Some(&app.editor_token),
            &json!({"title": "Layanan Informasi", "kind": "pergub"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let doc_id = doc["id"].as_str().unwrap();
    let doc: Value = app
        .http
        .put(app.url(&format!(
            "/api/v1/documents/{doc_id}/file?filename=pergub.pdf"
        )))
        .bearer_auth(&app.editor_token)
        .header(header::CONTENT_TYPE, "application/pdf")
        .body(pdf(49))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // Pages, error pages among them.
    let path = page_url.strip_prefix(&app.base).unwrap();
    let html = page(&app, path, 200).await;
    page(&app, "/", 200).await;
    page(&app, "/shows/ppid", 200).await;
    page(&app, &format!("/documents/{doc_id}"), 200).await;
    page(&app, "/cari?q=informasi", 200).await;
    page(&app, "/cari?q=a&from=kemarin", 422).await;
    page(&app, "/shows/ppid/no-such-briefing", 404).await;

    // The embeddable player: the same policy, but any site may frame it.
    let embed = app
        .http
        .get(app.url(&path.replacen("/shows/", "/embed/", 1)))
        .send()
        .await
        .unwrap();
    assert_eq!(embed.status(), 200);
    every_response("embed", &embed);
    let policy = csp(&embed).expect("the embed's policy");
    strict("embed", &policy);
    assert!(!policy.contains("frame-ancestors"), "{policy}");
    assert!(embed.headers().get(header::X_FRAME_OPTIONS).is_none());
    nothing_inline("embed", &embed.text().await.unwrap());

    // The page's style and script: files, cached for good under a name that carries their hash.
    for (stem, type_) in [("siaran", "text/css"), ("player", "text/javascript")] {
        let path = linked(&html, stem);
        let res = app.http.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        every_response(&path, &res);
        assert!(content_type(&res).starts_with(type_), "{path}");
        assert_eq!(
            res.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        let etag = res.headers()[header::ETAG].to_str().unwrap().to_owned();
        let body = res.text().await.unwrap();
        assert!(body.len() > 200, "{path}: {body}");
        let res = app
            .get_with(&app.url(&path), &[(header::IF_NONE_MATCH, &etag)])
            .await;
        assert_eq!(res.status(), 304);
        every_response(&path, &res);
        // Another version's name (a page from an instance of another version, in a rolling
        // deploy): this version, not to be kept under that name.
        let extension = path.rsplit('.').next().unwrap();
        let other = format!("/static/{stem}-0000000000000000.{extension}");
        let res = app.http.get(app.url(&other)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{other}");
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-cache");
        assert_eq!(res.text().await.unwrap(), body);
    }
    let res = app.http.get(app.url("/static/x.js")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    every_response("unknown static file", &res);

    // JSON: an answer, an error, a method not allowed, the 404 fallback.
    for (method, path, status) in [
        (Method::GET, "/api/v1/shows".to_owned(), 200),
        (Method::GET, format!("/api/v1/episodes/{id}"), 200),
        (Method::GET, "/api/v1/shows/no-such-show".to_owned(), 404),
        (Method::POST, "/api/v1/shows".to_owned(), 401),
        (Method::DELETE, "/feeds/siaran.xsl".to_owned(), 405),
        (Method::GET, "/no/such/address".to_owned(), 404),
        (Method::GET, "/oembed?url=x".to_owned(), 404),
    ] {
        let res = app
            .http
            .request(method.clone(), app.url(&path))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{method} {path}");
        every_response(&path, &res);
        assert!(content_type(&res).starts_with("application/json"), "{path}");
    }

    // A feed: to an app, to a browser (which shows it as a page through the stylesheet, under
    // a policy of its own), and its 304.
    let feed_url = app.url("/feeds/ppid.xml");
    let res = app.http.get(&feed_url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    every_response("feed", &res);
    let etag = res.headers()[header::ETAG].to_str().unwrap().to_owned();
    let res = app
        .get_with(
            &feed_url,
            &[(header::ACCEPT, "text/html,application/xml;q=0.9,*/*;q=0.8")],
        )
        .await;
    assert_eq!(res.status(), 200);
    every_response("feed in a browser", &res);
    let policy = csp(&res).expect("the feed page's policy");
    strict("feed in a browser", &policy);
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    let res = app
        .get_with(&feed_url, &[(header::IF_NONE_MATCH, &etag)])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    every_response("feed 304", &res);
    // The stylesheet and its styles: files too, the XSL with nothing inline.
    for (path, type_) in [
        ("/feeds/siaran.xsl", "text/xsl"),
        ("/feeds/siaran.css", "text/css"),
    ] {
        let res = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        every_response(path, &res);
        assert!(content_type(&res).starts_with(type_), "{path}");
        let body = res.text().await.unwrap();
        if path.ends_with(".xsl") {
            nothing_inline(path, &body);
            assert!(body.contains("<link rel=\"stylesheet\" href=\"siaran.css\"/>"));
        }
    }
    let res = app
        .http
        .get(app.url("/feeds/opml.xml"))
        .send()
        .await
        .unwrap();
    every_response("opml", &res);

    // Media, whole and by range, and its 304: its exact type.
    let res = app.http.get(media_url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    every_response("media", &res);
    assert_eq!(content_type(&res), "audio/mpeg");
    let etag = res.headers()[header::ETAG].to_str().unwrap().to_owned();
    let res = app
        .get_with(media_url, &[(header::RANGE, "bytes=0-99")])
        .await;
    assert_eq!(res.status(), 206);
    every_response("media range", &res);
    assert_eq!(content_type(&res), "audio/mpeg");
    let res = app
        .get_with(media_url, &[(header::IF_NONE_MATCH, &etag)])
        .await;
    assert_eq!(res.status(), 304);
    every_response("media 304", &res);

    // A transcript and a document's PDF: their exact types.
    let res = app
        .http
        .get(transcript["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    every_response("transcript", &res);
    assert!(content_type(&res).starts_with("text/vtt"), "{res:?}");
    let pdf_url = doc["file"]["url"].as_str().unwrap();
    let res = app.http.get(pdf_url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    every_response("document", &res);
    assert_eq!(content_type(&res), "application/pdf");
    let res = app.get_with(pdf_url, &[(header::RANGE, "bytes=0-9")]).await;
    assert_eq!(res.status(), 206);
    every_response("document range", &res);

    // A citation file, a health check.
    for path in [format!("{path}/cite.bib"), "/healthz".to_owned()] {
        let res = app.http.get(app.url(&path)).send().await.unwrap();
        every_response(&path, &res);
    }
}
