//! The studio's "new episode" page (issue 23): a session and a role on the show to see it; the
//! file posted without JavaScript (multipart, streamed into the operation `/api/v1/media` uses)
//! shows its probe and a form pre-filled as `siaran import` does; the form makes a draft; forged
//! posts are refused; a file that is not media leaves nothing behind. In Chromium: the file field
//! uploads through tus with the network cut mid-way and the page reloaded mid-way.

use reqwest::header;
use serde_json::{Value, json};
use siaran::{
    domain::{audit::Actor, users::ShowRole},
    service::users,
};

use crate::{
    helpers::{Backend, TestApp, sample_bytes},
    on_both_backends,
    studio_accounts::{Browser, create_user, csrf_of},
};

const PAGE: &str = "/studio/shows/pertama/episodes/new";

/// Two shows; Kiki is a contributor, without a role on `kedua`.
async fn setup(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    for slug in ["pertama", "kedua"] {
        app.create_show(slug).await;
    }
    create_user(
        &app,
        "kiki@kaltimprov.go.id",
        "Kiki Kontributor",
        "contributor",
    );
    let db = app.state.ctx.db.as_ref();
    let kiki = users::by_email(db, "kiki@kaltimprov.go.id").await.unwrap();
    let kedua = siaran::service::shows::load(&app.state.ctx, "kedua")
        .await
        .unwrap();
    users::set_show_role(
        db,
        &Actor::system("test"),
        &kiki,
        &kedua,
        Some(ShowRole::None),
    )
    .await
    .unwrap();
    app
}

/// A `multipart/form-data` body as a browser sends the page's form: `csrf`, then `file`.
pub(crate) fn multipart(csrf: Option<&str>, filename: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----siaranTestBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    if let Some(token) = csrf {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n"
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

impl Browser {
    /// Posts the page's upload form of `show` (its token when `csrf`).
    async fn post_file(
        &self,
        show: &str,
        csrf: bool,
        filename: &str,
        bytes: &[u8],
    ) -> reqwest::Response {
        let page = format!("/studio/shows/{show}/episodes/new");
        let token = if csrf {
            Some(csrf_of(&self.page(PAGE).await.1))
        } else {
            None
        };
        let (content_type, body) = multipart(token.as_deref(), filename, bytes);
        self.http
            .post(self.url(&format!("{page}/file")))
            .header(header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }
}

/// Not signed in: to the login page. Signed in: the page for a show the user may upload to,
/// 403 for a show it has no role on (the page and its upload), 404 for no show.
async fn the_page_needs_a_session_and_a_role(backend: Backend) {
    let app = setup(backend).await;
    let browser = Browser::new(&app);
    let res = browser.get(PAGE).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()[header::LOCATION],
        "/studio/login?next=%2Fstudio%2Fshows%2Fpertama%2Fepisodes%2Fnew"
    );
    let res = browser
        .post_file("pertama", false, "a.wav", &sample_bytes("sample.wav"))
        .await;
    assert_eq!(res.status(), 303, "no session: to the login page");
    assert_eq!(
        res.headers()[header::CONNECTION],
        "close",
        "the file was not read: the connection is not reused"
    );

    browser.login_ok("kiki@kaltimprov.go.id").await;
    let (status, html) = browser.page(PAGE).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<h1>Episode baru</h1>"), "{html}");
    assert!(html.contains("Siaran Pers pertama"), "{html}");
    assert!(
        html.contains(
            r#"action="/studio/shows/pertama/episodes/new/file" enctype="multipart/form-data""#
        ),
        "a plain form without JavaScript: {html}"
    );
    assert!(html.contains(r#"type="file" name="file""#), "{html}");
    assert!(html.contains("multiple"), "{html}");
    for script in ["/static/tus-", "/static/studio-upload-"] {
        assert!(html.contains(script), "{script}: {html}");
    }
    assert!(!html.contains("<script>"), "no inline script: {html}");

    let (status, html) = browser.page("/studio/shows/kedua/episodes/new").await;
    assert_eq!(status, 403, "{html}");
    assert!(html.contains("mengunggah berkas"), "{html}");
    let res = browser
        .post_file("kedua", true, "a.wav", &sample_bytes("sample.wav"))
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(app.count_rows("media").await, 0);
    let (status, _) = browser.page("/studio/shows/tidak-ada/episodes/new").await;
    assert_eq!(status, 404);

    // The scripts are the page's own, served for a year under their hash.
    let (_, html) = browser.page(PAGE).await;
    for prefix in ["/static/tus-", "/static/studio-upload-"] {
        let path = html
            .split(&format!("src=\"{prefix}"))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(|rest| format!("{prefix}{rest}"))
            .unwrap();
        let res = app.http.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(
            res.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        let text = res.text().await.unwrap();
        if prefix == "/static/tus-" {
            assert!(
                text.starts_with("/*! tus-js-client 4.3.1"),
                "licence header"
            );
            assert!(text.contains("The MIT License"));
        }
    }
}
on_both_backends!(the_page_needs_a_session_and_a_role);

/// Without JavaScript: a file that is not media is refused on the page, with nothing stored; a
/// recording posted as a plain form is stored, its probe shown with the title and date the
/// file's name gives; the form makes a draft named after it and goes to its editor. Forms
/// without the session's token are refused, and store nothing.
async fn a_file_without_javascript_becomes_a_draft(backend: Backend) {
    let app = setup(backend).await;
    let browser = Browser::new(&app);
    browser.login_ok("kiki@kaltimprov.go.id").await;

    // Not media: the page again, saying so; no row, no object.
    let res = browser
        .post_file(
            "pertama",
            true,
            "catatan.txt",
            b"Ini bukan rekaman, hanya catatan rapat.",
        )
        .await;
    let status = res.status();
    let html = res.text().await.unwrap();
    assert!(status.is_client_error(), "{status}: {html}");
    assert!(html.contains("<h1>Episode baru</h1>"), "{html}");
    assert!(html.contains(r#"role="alert""#), "{html}");
    assert!(html.contains("enctype=\"multipart/form-data\""), "{html}");
    assert_eq!(app.count_rows("media").await, 0);
    assert_eq!(app.stored_objects().await, Vec::<String>::new());

    // No token: refused before a byte is stored.
    let res = browser
        .post_file(
            "pertama",
            false,
            "2024-03-15_rapat_koordinasi.wav",
            &sample_bytes("sample.wav"),
        )
        .await;
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("Permintaan ditolak"));
    assert_eq!(app.count_rows("media").await, 0);

    let wav = sample_bytes("sample.wav");
    let res = browser
        .post_file("pertama", true, "2024-03-15_rapat_koordinasi.wav", &wav)
        .await;
    assert_eq!(res.status(), 303);
    let location = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let media_id = location
        .strip_prefix(&format!("{PAGE}?media="))
        .unwrap_or_else(|| panic!("{location}"))
        .to_owned();
    let media = app.get_json(&format!("/api/v1/media/{media_id}")).await;
    assert_eq!(media["filename"], "2024-03-15_rapat_koordinasi.wav");
    assert_eq!(media["size_bytes"], wav.len());
    assert_eq!(media["sha256"], crate::helpers::sha256_hex(&wav));

    let (status, html) = browser.page(&location).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("Berkas diterima: 2024-03-15_rapat_koordinasi.wav"),
        "{html}"
    );
    let container = media["container"].as_str().unwrap();
    assert!(html.contains(&format!("{container} (")), "{html}");
    assert!(html.contains("Durasi"), "{html}");
    assert!(html.contains("Sampul tertanam"), "{html}");
    let codec = media["audio"]["codec"].as_str().unwrap();
    assert!(html.contains(codec), "{codec}: {html}");
    // Pre-filled from the name, as `siaran import` reads it.
    assert!(
        html.contains(r#"name="title" value="rapat koordinasi""#),
        "{html}"
    );
    assert!(html.contains(r#"name="date" value="2024-03-15""#), "{html}");

    // The create form without its token: refused, nothing made.
    let create = "/studio/shows/pertama/episodes";
    let res = browser
        .http
        .post(browser.url(create))
        .form(&[("media_id", media_id.as_str()), ("title", "Palsu")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // A title that cannot be: the page again with the file, the values and the reason.
    let res = browser
        .post_form(
            &location,
            create,
            &[
                ("media_id", &media_id),
                ("title", "   "),
                ("date", "2024-03-15"),
            ],
            &[],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"role="alert""#), "{html}");
    assert!(html.contains("Berkas diterima"), "{html}");
    assert_eq!(app.count_rows("episodes").await, 0);

    let res = browser
        .post_form(
            &location,
            create,
            &[
                ("media_id", &media_id),
                ("title", "rapat koordinasi"),
                ("description", ""),
                ("date", "2024-03-15"),
            ],
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    let to = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let episode_id = to
        .strip_prefix("/studio/episodes/")
        .unwrap_or_else(|| panic!("{to}"));
    let res = app
        .http
        .get(app.url(&format!("/api/v1/episodes/{episode_id}")))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let episode: Value = res.json().await.unwrap();
    assert_eq!(episode["status"], "draft", "{episode}");
    assert_eq!(episode["title"], "rapat koordinasi");
    assert_eq!(episode["media_id"], media_id.as_str());
    assert_eq!(episode["show_slug"], "pertama");
    // The date the file gave is the draft's: its editor's schedule starts from it.
    assert_eq!(episode["meta"]["proposed_date"], "2024-03-15", "{episode}");
    assert_eq!(episode["publish_at"], Value::Null, "{episode}");
    create_user(&app, "edi@kaltimprov.go.id", "Edi Editor", "editor");
    let editor = Browser::new(&app);
    editor.login_ok("edi@kaltimprov.go.id").await;
    let (status, html) = editor.page(&to).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains(r#"id="date" type="date" name="date" value="2024-03-15""#),
        "{html}"
    );
    let res = app
        .http
        .get(app.url(&format!("/api/v1/episodes/{episode_id}/history")))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    let history: Value = res.json().await.unwrap();
    assert_eq!(history[0]["action"], "created", "{history}");
    assert_eq!(history[0]["by"], "Kiki Kontributor", "{history}");
}
on_both_backends!(a_file_without_javascript_becomes_a_draft);

/// A WAV of `bytes` bytes (16-bit stereo at 48 kHz, silent), written quickly.
fn silent_wav(path: &std::path::Path, bytes: u32) {
    use std::io::Write as _;
    let data = bytes - 44;
    let mut head = b"RIFF".to_vec();
    head.extend((36 + data).to_le_bytes());
    head.extend(b"WAVEfmt ");
    head.extend(16u32.to_le_bytes());
    // PCM, channels, sample rate, bytes per second, block size, bits per sample.
    head.extend(1u16.to_le_bytes());
    head.extend(2u16.to_le_bytes());
    head.extend(48_000u32.to_le_bytes());
    head.extend((48_000u32 * 4).to_le_bytes());
    head.extend(4u16.to_le_bytes());
    head.extend(16u16.to_le_bytes());
    head.extend(b"data");
    head.extend(data.to_le_bytes());
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    file.write_all(&head).unwrap();
    let zeros = vec![0u8; 1 << 20];
    let mut left = data as usize;
    while left > 0 {
        let n = left.min(zeros.len());
        file.write_all(&zeros[..n]).unwrap();
        left -= n;
    }
    file.flush().unwrap();
}

/// Uploads made through the session (the page's tus client, no token) count against the same
/// caps as a token's, per user: with room for two open, the third creation answers 429
/// `too-many-open-uploads` in the user's language and stores nothing; one past the declared
/// bytes answers 429 `too-many-open-upload-bytes`; a token (the API's) still has its own room,
/// and a deleted upload makes room again.
async fn session_uploads_count_against_the_open_upload_caps(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.max_open_uploads = 2;
        s.max_open_upload_bytes = 5000;
    })
    .await;
    app.create_show("pertama").await;
    create_user(
        &app,
        "kiki@kaltimprov.go.id",
        "Kiki Kontributor",
        "contributor",
    );
    let browser = Browser::new(&app);
    browser.login_ok("kiki@kaltimprov.go.id").await;
    let create = |length: u64, lang: &'static str| {
        browser
            .http
            .post(browser.url("/api/v1/uploads/"))
            .header(header::ORIGIN, app.base.trim_end_matches('/'))
            .header(header::ACCEPT_LANGUAGE, lang)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", length.to_string())
            .header("Upload-Metadata", "filename YS53YXY=")
            .send()
    };
    let first = create(1000, "id").await.unwrap();
    assert_eq!(first.status(), 201);
    let first = first.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(create(1000, "id").await.unwrap().status(), 201);

    let res = create(1000, "id").await.unwrap();
    assert_eq!(res.status(), 429);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "too-many-open-uploads", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Anda sudah membuka 2 unggahan"),
        "{body}"
    );
    let res = create(1000, "en").await.unwrap();
    assert_eq!(res.status(), 429);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("You already have 2 unfinished uploads open"),
        "{body}"
    );
    assert_eq!(app.count_rows("uploads").await, 2);

    // The dashboard lists them, with how far each got.
    let url = if first.starts_with("http") {
        first.clone()
    } else {
        browser.url(&first)
    };
    let res = browser
        .http
        .patch(&url)
        .header(header::ORIGIN, app.base.trim_end_matches('/'))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", "0")
        .header(header::CONTENT_TYPE, "application/offset+octet-stream")
        .body(vec![0u8; 500])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let (status, page) = browser.page("/studio").await;
    assert_eq!(status, 200);
    assert!(page.contains("Unggahan yang sedang berjalan"), "{page}");
    assert_eq!(page.matches("<strong>a.wav</strong>").count(), 2, "{page}");
    assert!(page.contains("50% (") && page.contains("0% ("), "{page}");

    // A token's uploads are counted apart from the session's.
    let res = app
        .http
        .post(app.url("/api/v1/uploads/"))
        .bearer_auth(&app.admin_token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", "1000")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    // Deleted: room for one more, but not for more bytes than the cap.
    let res = browser
        .http
        .delete(&first)
        .header(header::ORIGIN, app.base.trim_end_matches('/'))
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = create(4001, "en").await.unwrap();
    assert_eq!(res.status(), 429);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "too-many-open-upload-bytes", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Your unfinished uploads and this one"),
        "{body}"
    );
    assert_eq!(create(4000, "en").await.unwrap().status(), 201);
    assert_eq!(app.count_rows("uploads").await, 3);
}
on_both_backends!(session_uploads_count_against_the_open_upload_caps);

/// In Chromium, through the file field and tus with the session: a 200 MB file with the network
/// cut at about 40 % for 3 s goes on by itself and finishes; a second file, the page reloaded at
/// about 40 %, is listed with the server's offset and resumes from it when chosen again (no new
/// upload, its first PATCH at that offset); each shows its probe and the pre-filled form. No
/// CSP violation; the page holds at 360 px. Screenshots in `target/tmp/studio-upload-*.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_upload_in_chromium_survives_a_cut_and_a_reload() {
    // No analysis running beside the browser: it would decode both files.
    let app = TestApp::spawn_with(Backend::SqliteFs, |s| s.jobs.workers = 0).await;
    app.create_show("pertama").await;
    create_user(
        &app,
        "kiki@kaltimprov.go.id",
        "Kiki Kontributor",
        "contributor",
    );
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("2024-03-15 Rapat koordinasi.wav");
    let second = dir.path().join("2024-04-01_sosialisasi_perda.wav");
    silent_wav(&first, 200_000_000);
    silent_wav(&second, 120_000_000);
    let port = crate::helpers::free_port();
    let args = [
        app.base.clone(),
        "kiki@kaltimprov.go.id".to_owned(),
        crate::studio_accounts::PASSWORD.to_owned(),
        port.to_string(),
        env!("CARGO_TARGET_TMPDIR").to_owned(),
        PAGE.to_owned(),
        first.display().to_string(),
        second.display().to_string(),
    ];
    let seen = crate::helpers::run_node("studio-upload.js", Vec::from(args)).await;
    assert_eq!(seen["loginPage"], "/studio/login", "{seen}");
    assert_eq!(seen["page"], PAGE, "{seen}");
    assert_eq!(seen["h1"], "New episode", "{seen}");
    assert_eq!(seen["enhanced"], true, "the module ran: {seen}");

    // Offline from about 40 % for 3 s, then finished by itself. DevTools' offline emulation
    // does not cut a request under way, and the page sends the file in one PATCH, so on a fast
    // machine the file may be nearly in when the page goes offline: only that it went offline
    // after 40 % is checked. (A body really cut is resumed from the server's offset:
    // `uploads::cut_connections_resume_from_the_server_offset`, and the reload below.)
    let cut = seen["cutAt"].as_f64().unwrap();
    assert!((0.4..=1.0).contains(&cut), "cut at {cut}: {seen}");
    assert_eq!(seen["whileOffline"]["onLine"], false, "{seen}");
    assert_ne!(seen["whileOffline"]["state"], "failed", "{seen}");
    let first_media = seen["first"]["media"].as_str().expect("a media id");
    assert_eq!(seen["first"]["title"], "Rapat koordinasi", "{seen}");
    assert_eq!(seen["first"]["date"], "2024-03-15", "{seen}");
    let facts = seen["first"]["facts"].as_str().unwrap();
    for fact in ["wav", "pcm_s16le", "48000 Hz", "2 channels", "200.0 MB"] {
        assert!(facts.contains(fact), "{fact}: {facts}");
    }
    let media = app.get_json(&format!("/api/v1/media/{first_media}")).await;
    assert_eq!(media["size_bytes"], 200_000_000, "{media}");
    assert_eq!(media["filename"], "2024-03-15 Rapat koordinasi.wav");

    // The reload: the same upload resumed from the server's offset, not from 0.
    let reload = &seen["reload"];
    let listed = reload["listed"]["offset"].as_u64().unwrap();
    assert!(listed > 0, "{seen}");
    // The cut chunk may be stored after the page asked: the server is never behind the page.
    assert!(reload["serverOffset"].as_u64().unwrap() >= listed, "{seen}");
    assert_eq!(reload["serverComplete"], false, "{seen}");
    assert_eq!(reload["listed"]["hidden"], false, "{seen}");
    assert_eq!(
        reload["stored"],
        json!([reload["listed"]["upload"]]),
        "{seen}"
    );
    assert_eq!(reload["resumed"], reload["listed"]["upload"], "{seen}");
    let first_patch = reload["firstPatchOffset"].as_u64().expect("a PATCH");
    assert!(first_patch >= listed, "{seen}");
    assert_eq!(reload["postsAfterReload"], 0, "no new upload: {seen}");
    assert_eq!(reload["resumeListGone"], true, "{seen}");
    let second_media = seen["second"]["media"].as_str().expect("a media id");
    assert_eq!(seen["second"]["title"], "sosialisasi perda", "{seen}");
    assert_eq!(seen["second"]["date"], "2024-04-01", "{seen}");
    let upload_url = reload["listed"]["upload"].as_str().unwrap();
    let res = app
        .http
        .get(upload_url)
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    let upload: Value = res.json().await.unwrap();
    assert_eq!(upload["complete"], true, "{upload}");
    assert_eq!(upload["media_id"], second_media, "{upload}");
    assert_eq!(upload["length"], 120_000_000, "{upload}");
    assert_eq!(app.count_rows("media").await, 2);

    assert_eq!(
        seen["sideways"],
        json!({"probe360": false, "probe1280": false}),
        "{seen}"
    );
    assert_eq!(seen["csp"], json!([]), "no CSP violation: {seen}");
}
