//! Tokens and roles, and clear JSON errors (in Indonesian or English) for bad requests.

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp},
    on_both_backends,
};

async fn status_and_body(res: reqwest::Response) -> (StatusCode, Value) {
    let status = res.status();
    (status, res.json().await.expect("JSON error body"))
}

async fn writes_need_a_token_with_the_right_role(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let show = json!({"slug": "x", "title": "X", "email": "a@b.go.id"});
    let (status, body) = status_and_body(app.post_json("/api/v1/shows", None, &show).await).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "unauthorized");
    let (status, _) = status_and_body(
        app.post_json("/api/v1/shows", Some("siaran_not-a-real-token"), &show)
            .await,
    )
    .await;
    assert_eq!(status, 401);
    let (status, body) = status_and_body(
        app.post_json("/api/v1/shows", Some(&app.editor_token), &show)
            .await,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(body["code"], "forbidden");
    let res = app
        .http
        .post(app.url("/api/v1/media?filename=a.mp3"))
        .body(vec![1, 2, 3])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(app.count_rows("shows").await, 0);
}
on_both_backends!(writes_need_a_token_with_the_right_role);

async fn invalid_requests_get_named_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = Some(app.admin_token.as_str());
    for (change, code) in [
        (json!({"slug": "Bad Slug"}), "invalid-slug"),
        (json!({"title": "  "}), "invalid-title"),
        (json!({"language": "indonesian"}), "invalid-language"),
        (json!({"category": "Cooking"}), "invalid-category"),
        (json!({"email": "not-an-email"}), "invalid-email"),
        (json!({"email": ""}), "invalid-email"),
        (json!({"author": " "}), "invalid-author"),
        (json!({"slug": null}), "invalid-json"),
    ] {
        // A valid show with one field changed (null: left out).
        let mut body =
            json!({"slug": "ok", "title": "X", "author": "Diskominfo", "email": "ppid@x.go.id"});
        for (k, v) in change.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        let (status, got) =
            status_and_body(app.post_json("/api/v1/shows", admin, &body).await).await;
        assert_eq!(status, 422, "{body}: {got}");
        assert_eq!(got["code"], code, "{body}: {got}");
    }
    // Not JSON at all.
    let res = app
        .http
        .post(app.url("/api/v1/shows"))
        .bearer_auth(&app.admin_token)
        .header(header::CONTENT_TYPE, "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (status, got) = status_and_body(res).await;
    assert_eq!(status, 400);
    assert_eq!(got["code"], "invalid-json");

    // Duplicate slug.
    app.create_show("kembar").await;
    let (status, got) = status_and_body(
        app.post_json(
            "/api/v1/shows",
            admin,
            &json!({"slug": "kembar", "title": "Lagi", "author": "A", "email": "a@b.go.id"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(got["code"], "show-slug-taken");

    // Episodes and documents: unknown show, unknown media, bad kind, bad date.
    let unknown = "0190b8e4-0000-7000-8000-000000000000";
    for (path, body, status, code) in [
        (
            "/api/v1/shows/tidak-ada/episodes",
            json!({"title": "x", "media_id": unknown}),
            404,
            "show-not-found",
        ),
        (
            "/api/v1/shows/kembar/episodes",
            json!({"title": "x", "media_id": unknown}),
            422,
            "unknown-media",
        ),
        (
            "/api/v1/documents",
            json!({"title": "x", "kind": "memo"}),
            422,
            "invalid-document-kind",
        ),
        (
            "/api/v1/documents",
            json!({"title": "x", "issued_on": "29/12/2023"}),
            422,
            "invalid-date",
        ),
    ] {
        let (got_status, got) =
            status_and_body(app.post_json(path, Some(&app.editor_token), &body).await).await;
        assert_eq!(
            (got_status.as_u16(), got["code"].as_str()),
            (status, Some(code)),
            "{path} {body}"
        );
    }
    let res = app
        .http
        .get(app.url("/api/v1/episodes/not-a-uuid"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(app.count_rows("episodes").await, 0);
    assert_eq!(app.count_rows("documents").await, 0);
}
on_both_backends!(invalid_requests_get_named_errors);

#[tokio::test]
async fn error_messages_follow_accept_language() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    let get = |lang: Option<&'static str>| {
        let mut req = app.http.get(app.url("/api/v1/shows/tidak-ada"));
        if let Some(l) = lang {
            req = req.header(header::ACCEPT_LANGUAGE, l);
        }
        req.send()
    };
    let (status, id) = status_and_body(get(None).await.unwrap()).await;
    assert_eq!(status, 404);
    assert_eq!(id["code"], "show-not-found");
    assert_eq!(id["message"], "Acara tidak ditemukan");
    let (_, en) = status_and_body(get(Some("en-GB,en;q=0.9")).await.unwrap()).await;
    assert_eq!(en["code"], "show-not-found");
    assert_eq!(en["message"], "Show not found");
    let (_, id2) = status_and_body(get(Some("id-ID,en;q=0.5")).await.unwrap()).await;
    assert_eq!(id2["message"], "Acara tidak ditemukan");
}

#[tokio::test]
async fn wrong_methods_and_oversized_json_get_json_errors() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    let res = app
        .http
        .delete(app.url("/api/v1/shows"))
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_body(res).await;
    assert_eq!(status, 405);
    assert_eq!(body["code"], "method-not-allowed");

    let huge = json!({"slug": "besar", "title": "x", "description": "a".repeat(3 * 1024 * 1024)});
    let (status, body) = status_and_body(
        app.post_json("/api/v1/shows", Some(&app.admin_token), &huge)
            .await,
    )
    .await;
    assert_eq!(status, 413);
    assert_eq!(body["code"], "payload-too-large");
}

/// A body declared larger than its route takes is refused with 413 as soon as the request's
/// head arrives, as one actually sent is: the body is never waited for (it used to be, until the
/// request timeout answered 503 thirty seconds later). JSON routes and the routes of a small raw
/// body (a cover, a transcript, chapters) alike.
#[tokio::test]
async fn bodies_declared_too_large_are_refused_before_they_are_sent() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    let episode = uuid::Uuid::new_v4();
    for (method, path, token, content_type) in [
        (
            "POST",
            "/api/v1/documents".to_owned(),
            &app.editor_token,
            "application/json",
        ),
        (
            "POST",
            "/api/v1/shows".to_owned(),
            &app.admin_token,
            "application/json",
        ),
        (
            "PUT",
            "/api/v1/shows/kaltim/artwork".to_owned(),
            &app.admin_token,
            "image/png",
        ),
        (
            "PUT",
            format!("/api/v1/episodes/{episode}/transcripts/id"),
            &app.editor_token,
            "text/vtt",
        ),
        (
            "PUT",
            format!("/api/v1/episodes/{episode}/chapters"),
            &app.editor_token,
            "application/json",
        ),
    ] {
        let started = std::time::Instant::now();
        let (status, body) = app
            .declared_only(method, &path, token, content_type, 10_000_000_000)
            .await;
        assert_eq!(status, 413, "{method} {path}: {body}");
        assert_eq!(body["code"], "payload-too-large", "{method} {path}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}

async fn episode_slugs_are_unique_per_show(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_show("slug").await;
    let media = app.upload_ok("sample.wav").await;
    let editor = Some(app.editor_token.as_str());
    let mut slugs = Vec::new();
    for _ in 0..3 {
        let (status, body) = status_and_body(
            app.post_json(
                "/api/v1/shows/slug/episodes",
                editor,
                &json!({"title": "Rapat Koordinasi: Anggaran 2026!", "media_id": media["id"]}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 201, "{body}");
        slugs.push(body["slug"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        slugs,
        [
            "rapat-koordinasi-anggaran-2026",
            "rapat-koordinasi-anggaran-2026-2",
            "rapat-koordinasi-anggaran-2026-3"
        ]
    );
    let (status, body) = status_and_body(
        app.post_json(
            "/api/v1/shows/slug/episodes",
            editor,
            &json!({"title": "Lain", "slug": "rapat-koordinasi-anggaran-2026", "media_id": media["id"]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(body["code"], "episode-slug-taken");
}
on_both_backends!(episode_slugs_are_unique_per_show);

/// The body of a request with one field replaced (`null`: left out).
fn with(base: &Value, change: &Value) -> Value {
    let mut body = base.clone();
    for (k, v) in change.as_object().unwrap() {
        if v.is_null() {
            body.as_object_mut().unwrap().remove(k);
        } else {
            body[k] = v.clone();
        }
    }
    body
}

/// Every bound a show or an episode keeps: over it, 422 with a code and an English message
/// that name the field, and nothing stored.
#[tokio::test]
async fn values_past_their_bounds_are_refused_naming_the_field() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    let editor = Some(app.editor_token.as_str());
    let long_text = "a".repeat(100 * 1024 + 1);
    let show =
        json!({"slug": "batas", "title": "Batas", "author": "Diskominfo", "email": "ppid@x.go.id"});
    for (change, code, field) in [
        (json!({"title": "t".repeat(501)}), "invalid-title", "title"),
        (
            json!({"description": long_text}),
            "invalid-description",
            "description",
        ),
        (
            json!({"author": "a".repeat(501)}),
            "invalid-author",
            "author",
        ),
        (
            json!({"email": format!("{}@x.go.id", "a".repeat(250))}),
            "invalid-email",
            "email",
        ),
        (
            json!({"meta": {"persons": [{"name": "A", "role": "r".repeat(200)}]}}),
            "invalid-meta",
            "persons.role",
        ),
    ] {
        let res = app
            .http
            .post(app.url("/api/v1/shows"))
            .bearer_auth(&app.admin_token)
            .header(header::ACCEPT_LANGUAGE, "en")
            .json(&with(&show, &change))
            .send()
            .await
            .unwrap();
        let (status, got) = status_and_body(res).await;
        assert_eq!((status.as_u16(), got["code"].as_str()), (422, Some(code)));
        assert!(
            got["message"].as_str().unwrap().contains(field),
            "{field}: {got}"
        );
    }
    // 500 characters (not bytes) is within the bound; a description longer than Apple shows
    // is stored, with a warning in the asked language.
    let res = app
        .http
        .post(app.url("/api/v1/shows"))
        .bearer_auth(&app.admin_token)
        .header(header::ACCEPT_LANGUAGE, "en")
        .json(&with(
            &show,
            &json!({"title": "é".repeat(500), "description": "d".repeat(4001)}),
        ))
        .send()
        .await
        .unwrap();
    let (status, created) = status_and_body(res).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        created["warnings"][0]["code"],
        "description-over-apple-limit"
    );
    assert!(
        created["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Apple Podcasts shows only the first 4000"),
        "{created}"
    );
    let res = app
        .http
        .patch(app.url("/api/v1/shows/batas"))
        .bearer_auth(&app.admin_token)
        .json(&json!({"description": "Singkat"}))
        .send()
        .await
        .unwrap();
    let (status, changed) = status_and_body(res).await;
    assert_eq!(status, 200, "{changed}");
    assert!(changed.get("warnings").is_none(), "{changed}");

    let media = app.upload_ok("briefing-demo.mp3").await;
    let duration = media["duration_ms"].as_u64().unwrap();
    let episode = json!({"title": "Pasal 7", "media_id": media["id"]});
    let path = "/api/v1/shows/batas/episodes";
    for (change, code, field) in [
        (json!({"title": "t".repeat(501)}), "invalid-title", "title"),
        (
            json!({"description": long_text}),
            "invalid-description",
            "description",
        ),
        (
            json!({"publish_at": "-0001-01-01T00:00:00Z"}),
            "invalid-date",
            "publish_at",
        ),
        (
            json!({"publish_at": "0000-12-31T23:00:00Z"}),
            "invalid-date",
            "publish_at",
        ),
        (
            json!({"publish_at": "1899-12-31T23:59:59Z"}),
            "invalid-date",
            "publish_at",
        ),
        (
            json!({"meta": {"soundbites": [{"start_ms": 18_446_744_073_709_551_000u64, "duration_ms": 30_000}]}}),
            "invalid-meta",
            "start_ms",
        ),
        (
            json!({"meta": {"soundbites": [{"start_ms": duration - 1000, "duration_ms": 2000}]}}),
            "invalid-meta",
            "start_ms",
        ),
        (
            json!({"meta": {"soundbites": [{"start_ms": 1000, "duration_ms": u64::MAX}]}}),
            "invalid-meta",
            "start_ms",
        ),
        (
            json!({"meta": {"content_html": format!("<p>{long_text}</p>")}}),
            "invalid-meta",
            "content_html",
        ),
    ] {
        let res = app
            .http
            .post(app.url(path))
            .bearer_auth(&app.editor_token)
            .header(header::ACCEPT_LANGUAGE, "en")
            .json(&with(&episode, &change))
            .send()
            .await
            .unwrap();
        let (status, got) = status_and_body(res).await;
        assert_eq!(
            (status.as_u16(), got["code"].as_str()),
            (422, Some(code)),
            "{change}"
        );
        assert!(
            got["message"].as_str().unwrap().contains(field),
            "{field}: {got}"
        );
    }
    assert_eq!(app.count_rows("episodes").await, 0);

    // Within the bounds: stored, and a description longer than Apple shows gets a warning.
    let (status, ok) = status_and_body(
        app.post_json(
            path,
            editor,
            &with(
                &episode,
                &json!({
                    "description": "d".repeat(4001),
                    "publish_at": "2026-01-05T02:00:00Z",
                    "meta": {"soundbites": [{"start_ms": duration - 2000, "duration_ms": 2000}]}
                }),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{ok}");
    assert_eq!(ok["warnings"][0]["code"], "description-over-apple-limit");
    assert!(
        ok["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("4000"),
        "{ok}"
    );
    let id = ok["id"].as_str().unwrap();

    // The same bounds on a change.
    let episode_path = format!("/api/v1/episodes/{id}");
    for (change, code) in [
        (
            json!({"publish_at": "-0001-01-01T00:00:00Z"}),
            "invalid-date",
        ),
        (
            json!({"publish_at": "+10000-01-01T00:00:00Z"}),
            "invalid-date",
        ),
        (json!({"title": "t".repeat(501)}), "invalid-title"),
        (json!({"description": long_text}), "invalid-description"),
        (
            json!({"meta": {"soundbites": [{"start_ms": duration, "duration_ms": 1}]}}),
            "invalid-meta",
        ),
    ] {
        let res = app
            .http
            .patch(app.url(&episode_path))
            .bearer_auth(&app.editor_token)
            .json(&change)
            .send()
            .await
            .unwrap();
        let (status, got) = status_and_body(res).await;
        assert_eq!(
            (status.as_u16(), got["code"].as_str()),
            (422, Some(code)),
            "{change}: {got}"
        );
    }
    let res = app
        .http
        .patch(app.url(&episode_path))
        .bearer_auth(&app.editor_token)
        .header(header::ACCEPT_LANGUAGE, "en")
        .json(&json!({"description": "Singkat"}))
        .send()
        .await
        .unwrap();
    let (status, changed) = status_and_body(res).await;
    assert_eq!(status, 200, "{changed}");
    assert!(changed.get("warnings").is_none(), "{changed}");
    assert_eq!(changed["publish_at"], "2026-01-05T02:00:00Z");

    // A withdrawal's reason is bounded too.
    let res = app
        .http
        .put(app.url(&format!("{episode_path}/withdrawal")))
        .bearer_auth(&app.editor_token)
        .json(&json!({"reason": "r".repeat(2001)}))
        .send()
        .await
        .unwrap();
    let (status, got) = status_and_body(res).await;
    assert_eq!(
        (status.as_u16(), got["code"].as_str()),
        (422, Some("invalid-reason"))
    );

    // Nothing out of bounds reached the feed.
    let feed = app
        .http
        .get(app.url("/feeds/batas.xml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        feed.contains("<pubDate>Mon, 05 Jan 2026 02:00:00"),
        "{feed}"
    );
    assert!(!feed.contains("-0001") && !feed.contains("18446744073709551"));
}

/// `/oembed` is an API for programs: its refusals answer the JSON error shape.
#[tokio::test]
async fn oembed_errors_are_json() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    let page = app.url("/shows/tidak-ada/episode");
    for (query, status, code) in [
        (vec![], 400, "invalid-query"),
        (
            vec![("url", page.as_str()), ("maxwidth", "lebar")],
            400,
            "invalid-query",
        ),
        (
            vec![("url", page.as_str()), ("maxwidth", "-1")],
            400,
            "invalid-query",
        ),
        (
            vec![("url", page.as_str()), ("format", "xml")],
            501,
            "unsupported-format",
        ),
        (vec![("url", page.as_str())], 404, "episode-not-found"),
        (
            vec![("url", "https://example.com/x")],
            404,
            "episode-not-found",
        ),
    ] {
        let res = app
            .http
            .get(app.url("/oembed"))
            .query(&query)
            .header(header::ACCEPT_LANGUAGE, "en")
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "application/json",
            "{query:?}"
        );
        let (got_status, body) = status_and_body(res).await;
        assert_eq!(
            (got_status.as_u16(), body["code"].as_str()),
            (status, Some(code)),
            "{query:?}: {body}"
        );
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}
