//! The episode editor's files and previews (issue 23): transcripts and chapters uploaded from
//! the editor (multipart, the CSRF token first) through the API's operations, a refusal showing
//! the editor again with the operation's message and storing nothing; the recording and its
//! renditions listed; the feed item as the feed writes it, escaped; the public page's preview
//! for the team only, while the draft's public address stays 404.

use reqwest::{StatusCode, header};
use serde_json::json;

use crate::{
    episode_files::VTT,
    helpers::{Backend, TestApp},
    on_both_backends,
    studio_accounts::{Browser, csrf_of},
    studio_review::{draft, team},
};

/// A `multipart/form-data` body as a browser sends an editor's file form: `csrf` (when given),
/// the text `fields`, then `file`.
pub(crate) fn multipart(
    csrf: Option<&str>,
    fields: &[(&str, &str)],
    filename: &str,
    bytes: &[u8],
) -> (String, Vec<u8>) {
    let boundary = "----siaranEditorBoundary4f9c2a";
    let mut body = Vec::new();
    let csrf = csrf.map(|token| ("csrf", token));
    for (name, value) in csrf.iter().chain(fields) {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Posts a file form to `path` with the token of the page at `form_page` (none if `None`).
pub(crate) async fn post_file(
    browser: &Browser,
    form_page: Option<&str>,
    path: &str,
    fields: &[(&str, &str)],
    filename: &str,
    bytes: &[u8],
) -> reqwest::Response {
    let token = match form_page {
        Some(page) => Some(csrf_of(&browser.page(page).await.1)),
        None => None,
    };
    let (content_type, body) = multipart(token.as_deref(), fields, filename, bytes);
    browser
        .http
        .post(browser.url(path))
        .header(header::CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// A transcript whose sixth line should be a timing line.
const BAD_AT_LINE_6: &str = "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nSelamat pagi.\n\n\
00:00:05.000 -> 00:00:06.000\nBaris yang salah.\n";

async fn episode_files(app: &TestApp) -> i64 {
    app.count_rows("episode_files").await
}

/// The contributor who wrote a draft uploads its transcript and chapters from the editor:
/// a transcript with an error on line 6 shows the editor again naming line 6 (in the page's
/// language) and stores nothing; a good one is listed and goes into the feed item; chapters too;
/// forged, empty and oversized forms are refused, storing nothing; removal works.
async fn transcripts_and_chapters_from_the_editor(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_show("kaltim").await;
    let team = team(&app).await;
    let author = &team.contributor;
    let id = draft(&app, &team.citra, "kaltim", "Rapat koordinasi").await;
    let editor = format!("/studio/episodes/{id}");
    let (status, html) = author.page(&editor).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!(
            "enctype=\"multipart/form-data\" action=\"{editor}/transcript\""
        )),
        "{html}"
    );
    assert!(html.contains("Belum ada transkrip."), "{html}");
    let objects = app.stored_objects().await.len();

    // Refused: the line named, the editor shown again, nothing stored.
    let transcript = format!("{editor}/transcript");
    let res = post_file(
        author,
        Some(&editor),
        &transcript,
        &[("language", "id")],
        "rapat.vtt",
        BAD_AT_LINE_6.as_bytes(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Baris 6: diharapkan baris waktu"),
        "the line named: {html}"
    );
    assert!(html.contains("role=\"alert\""), "{html}");
    assert!(
        html.contains("<h1>Rapat koordinasi</h1>"),
        "the editor: {html}"
    );
    assert_eq!(episode_files(&app).await, 0);
    assert_eq!(app.stored_objects().await.len(), objects);
    // In English, the same line.
    let (content_type, body) = multipart(
        Some(&csrf_of(&author.page(&editor).await.1)),
        &[("language", "id")],
        "rapat.vtt",
        BAD_AT_LINE_6.as_bytes(),
    );
    let res = author
        .http
        .post(author.url(&transcript))
        .header(header::CONTENT_TYPE, content_type)
        .header(header::ACCEPT_LANGUAGE, "en")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Line 6: expected a timing line")
    );

    // Forged (no token), no file, a language that is no language, too large: nothing stored.
    let res = post_file(
        author,
        None,
        &transcript,
        &[("language", "id")],
        "a.vtt",
        VTT.as_bytes(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = post_file(
        author,
        Some(&editor),
        &transcript,
        &[("language", "id")],
        "",
        b"",
    )
    .await;
    // As on every studio page's file form (`studio::files`): a form without its file is 400.
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("Pilih berkasnya dulu."));
    let res = post_file(
        author,
        Some(&editor),
        &transcript,
        &[("language", "bahasa indonesia")],
        "a.vtt",
        VTT.as_bytes(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let big = vec![b'x'; siaran::service::episode_files::MAX_TRANSCRIPT_BYTES + 1];
    let res = post_file(
        author,
        Some(&editor),
        &transcript,
        &[("language", "id")],
        "a.vtt",
        &big,
    )
    .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(res.text().await.unwrap().contains("role=\"alert\""));
    assert_eq!(episode_files(&app).await, 0);
    assert_eq!(app.stored_objects().await.len(), objects);

    // Accepted: listed on the editor, in the feed item's preview and in the API's view.
    let res = post_file(
        author,
        Some(&editor),
        &transcript,
        &[("language", "id")],
        "rapat.vtt",
        VTT.as_bytes(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert_eq!(to, format!("{editor}?done=transcript#files"));
    let (_, html) = author.page(&format!("{editor}?done=transcript")).await;
    assert!(html.contains("Transkrip tersimpan."), "{html}");
    assert!(html.contains("id · VTT"), "{html}");
    assert!(html.contains("&lt;podcast:transcript"), "{html}");
    let view = app
        .get_json_as(&format!("/api/v1/episodes/{id}"), &team.citra)
        .await;
    assert_eq!(view["transcripts"][0]["language"], "id", "{view}");
    assert_eq!(episode_files(&app).await, 1);

    // Chapters: refused naming the problem, then set.
    let chapters = format!("{editor}/chapters");
    let late = json!({"version": "1.2.0", "chapters": [{"startTime": 5000}]}).to_string();
    let res = post_file(
        author,
        Some(&editor),
        &chapters,
        &[],
        "bab.json",
        late.as_bytes(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("role=\"alert\""));
    let broken = b"{\"version\": \"1.2.0\",\n \"chapters\": [\n oops ]}";
    let res = post_file(author, Some(&editor), &chapters, &[], "bab.json", broken).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text().await.unwrap().contains("line 3"),
        "serde names the line"
    );
    assert_eq!(episode_files(&app).await, 1);
    let good = json!({"version": "1.2.0", "chapters": [
        {"startTime": 0, "title": "Pembukaan"}, {"startTime": 60, "title": "Tanya jawab"}]})
    .to_string();
    let res = post_file(
        author,
        Some(&editor),
        &chapters,
        &[],
        "bab.json",
        good.as_bytes(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, html) = author.page(&format!("{editor}?done=chapters")).await;
    assert!(html.contains("Bab tersimpan."), "{html}");
    assert!(html.contains("Bab diunggah"), "{html}");
    assert!(html.contains("&lt;podcast:chapters"), "{html}");
    assert!(html.contains("Bab diunggah ·"), "{html}");
    assert_eq!(episode_files(&app).await, 2);

    // Removed, each.
    let res = author
        .post_form(
            &editor,
            &format!("{editor}/transcript/remove"),
            &[("language", "id")],
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = author
        .post_form(&editor, &format!("{editor}/chapters/remove"), &[], &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(episode_files(&app).await, 0);
    let (_, html) = author.page(&editor).await;
    assert!(html.contains("Belum ada transkrip."), "{html}");
    assert!(html.contains("Belum ada bab."), "{html}");
    // Removing what is not there says so on the editor.
    let res = author
        .post_form(&editor, &format!("{editor}/chapters/remove"), &[], &[])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.unwrap().contains("role=\"alert\""));

    // The history names the author for each.
    let actions: Vec<String> = crate::studio_review::history(&app, &team.dedi, &id)
        .await
        .into_iter()
        .map(|(action, _)| action)
        .collect();
    for action in [
        "transcript-set",
        "chapters-set",
        "transcript-removed",
        "chapters-removed",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
}

on_both_backends!(transcripts_and_chapters_from_the_editor);

/// Before publication: the editor shows the feed's item for the draft, escaped (a hostile title
/// stays text), with its title and enclosure; the recording's container, codec and size; the
/// public page's preview answers the team, marked and not indexed, and no one else, while the
/// draft's public address, its feed and its transcript stay unpublished.
async fn previews_before_publication(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_show("kaltim").await;
    let team = team(&app).await;
    let hostile = "Rapat <script>alert(1)</script> & \"kutip\"";
    let id = draft(&app, &team.citra, "kaltim", hostile).await;
    let editor = format!("/studio/episodes/{id}");
    let (status, html) = team.editor.page(&editor).await;
    assert_eq!(status, 200);
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(html.contains("<pre class=\"feed-item\""), "{html}");
    assert!(
        html.contains("&lt;title&gt;Rapat &amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt; &amp;amp; &amp;quot;kutip&amp;quot;&lt;/title&gt;"),
        "the title escaped in the XML, the XML escaped in the page: {html}"
    );
    assert!(html.contains("&lt;enclosure url=&quot;http"), "{html}");
    assert!(html.contains("audio/mpeg"), "the enclosure's type: {html}");
    // The recording: container, codec, size.
    assert!(html.contains("Rekaman utama"), "{html}");
    assert!(html.contains("mp3"), "{html}");
    assert!(
        html.contains(&format!("href=\"{editor}/preview\"")),
        "{html}"
    );

    let view = app
        .get_json_as(&format!("/api/v1/episodes/{id}"), &team.citra)
        .await;
    let slug = view["slug"].as_str().unwrap();
    let preview = format!("{editor}/preview");
    for (who, browser) in [("contributor", &team.contributor), ("editor", &team.editor)] {
        let res = browser.get(&preview).await;
        assert_eq!(res.status(), 200, "{who}");
        assert_eq!(res.headers()["x-robots-tag"], "noindex, nofollow");
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
        let html = res.text().await.unwrap();
        assert!(html.contains("<strong>Pratinjau</strong>"), "{html}");
        assert!(
            html.contains("<meta name=\"robots\" content=\"noindex, nofollow\">"),
            "{html}"
        );
        assert!(
            html.contains(
                "<h1>Rapat &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;kutip&quot;</h1>"
            ),
            "{html}"
        );
        assert!(!html.contains("<script>alert(1)"), "{html}");
        assert!(!html.contains("rel=\"canonical\""), "{html}");
        assert!(!html.contains("og:url"), "{html}");
    }
    let res = team
        .editor
        .http
        .get(team.editor.url(&preview))
        .header(header::ACCEPT_LANGUAGE, "en")
        .send()
        .await
        .unwrap();
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("<strong>Preview</strong>")
    );

    // No one signed in: to the login page. The public address, the feed: as if it did not exist.
    let anonymous = Browser::new(&app);
    let res = anonymous.get(&preview).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        res.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/studio/login")
    );
    let res = anonymous.get(&format!("/shows/kaltim/{slug}")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = anonymous.get("/feeds/kaltim.xml").await;
    assert!(!res.text().await.unwrap().contains("kutip"));
    // Viewing the preview changed nothing: still a draft, still not found.
    let view = app
        .get_json_as(&format!("/api/v1/episodes/{id}"), &team.citra)
        .await;
    assert_eq!(view["status"], "draft");
    assert_eq!(
        anonymous
            .get(&format!("/shows/kaltim/{slug}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

on_both_backends!(previews_before_publication);

/// The episode's own cover from the editor: Apple's rules said before the field; an image that
/// breaks them re-shows the editor naming the rule and stores nothing; a good one is shown to the
/// team, goes into the feed item as `itunes:image`, and is public once the episode is.
async fn an_episode_cover_from_the_editor(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_show("kaltim").await;
    let team = team(&app).await;
    let author = &team.contributor;
    let id = draft(&app, &team.citra, "kaltim", "Rapat koordinasi").await;
    let editor = format!("/studio/episodes/{id}");
    let (_, html) = author.page(&editor).await;
    let rule = html.find("Syarat Apple Podcasts: gambar JPEG atau PNG persegi, 1400–3000 piksel");
    let field = html.find("id=\"cover-file\"");
    assert!(
        matches!((rule, field), (Some(r), Some(f)) if r < f),
        "the rule before the field: {html}"
    );
    let objects = app.stored_objects().await.len();
    let dir = tempfile::tempdir().unwrap();
    let cover = format!("{editor}/cover");

    for (file, size, status, needle) in [
        (
            "kecil.png",
            "1000x1000",
            StatusCode::UNPROCESSABLE_ENTITY,
            "Sampul harus persegi, 1400–3000 piksel (syarat Apple Podcasts); gambar ini 1000×1000",
        ),
        (
            "lebar.jpg",
            "1600x1400",
            StatusCode::UNPROCESSABLE_ENTITY,
            "gambar ini 1600×1400",
        ),
        (
            "animasi.gif",
            "1400x1400",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Sampul harus gambar JPEG atau PNG",
        ),
    ] {
        let bytes = crate::artwork::image(dir.path(), file, size);
        let res = post_file(author, Some(&editor), &cover, &[], file, &bytes).await;
        assert_eq!(res.status(), status, "{file}");
        let html = res.text().await.unwrap();
        assert!(html.contains(needle), "{file}: {html}");
        assert!(
            html.contains("<h1>Rapat koordinasi</h1>"),
            "the editor: {html}"
        );
    }
    assert_eq!(app.stored_objects().await.len(), objects, "nothing stored");
    assert_eq!(author.get(&cover).await.status(), StatusCode::NOT_FOUND);

    let good = crate::artwork::image(dir.path(), "sampul.png", "1400x1400");
    let res = post_file(author, Some(&editor), &cover, &[], "sampul.png", &good).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, html) = author.page(&format!("{editor}?done=cover")).await;
    assert!(html.contains("Sampul tersimpan."), "{html}");
    assert!(html.contains(&format!("src=\"{cover}?v=")), "{html}");
    assert!(html.contains("&lt;itunes:image href="), "{html}");
    let res = author.get(&cover).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "image/png");
    assert_eq!(res.bytes().await.unwrap().as_ref(), good.as_slice());
    assert_eq!(app.stored_objects().await.len(), objects + 1);
    // Not for a stranger.
    assert_eq!(
        Browser::new(&app).get(&cover).await.status(),
        StatusCode::SEE_OTHER
    );

    // Its public address answers once the episode is published; the feed names it.
    let view = app
        .get_json_as(&format!("/api/v1/episodes/{id}"), &team.dedi)
        .await;
    let url = view["artwork_url"]
        .as_str()
        .expect("artwork_url")
        .to_owned();
    let path = url.strip_prefix(&app.base).unwrap().to_owned();
    assert_eq!(app.http.get(&url).send().await.unwrap().status(), 404);
    let res = app
        .post_json(
            &format!("/api/v1/episodes/{id}/publish"),
            Some(&team.dedi),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app.http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    let feed = app
        .http
        .get(app.url("/feeds/kaltim.xml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        feed.contains(&format!("<itunes:image href=\"{url}\"></itunes:image>")),
        "{feed}"
    );

    // A second cover replaces the first: its object is deleted.
    let other = crate::artwork::image(dir.path(), "sampul2.jpg", "1500x1500");
    let res = post_file(author, Some(&editor), &cover, &[], "sampul2.jpg", &other).await;
    // Published: changing it is an editor's.
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = post_file(
        &team.editor,
        Some(&editor),
        &cover,
        &[],
        "sampul2.jpg",
        &other,
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.stored_objects().await.len(), objects + 1);
    assert_eq!(app.http.get(&url).send().await.unwrap().status(), 404);
}

on_both_backends!(an_episode_cover_from_the_editor);
