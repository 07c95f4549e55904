//! Official documents as records (issue 6, point 1): create, edit, list, link at a moment,
//! unlink, and list both ways (an episode's documents, a document's episodes).

use serde_json::{Value, json};

use crate::{
    episode_files::published_episode,
    helpers::{Backend, TestApp},
    on_both_backends,
};

async fn documents_both_ways(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let episode = published_episode(&app, "ppid", "briefing-demo.mp3").await;
    let id = episode["id"].as_str().unwrap();
    let create = |body: Value| {
        let app = &app;
        async move {
            let res = app
                .post_json("/api/v1/documents", Some(&app.editor_token), &body)
                .await;
            assert_eq!(res.status(), 201);
            res.json::<Value>().await.unwrap()
        }
    };
    let law = create(
        json!({"title": "Keterbukaan Informasi Publik", "number": "UU No. 14 Tahun 2008",
                            "kind": "law", "issued_on": "2008-04-30"}),
    )
    .await;
    let pergub = create(
        json!({"title": "Layanan Informasi", "number": "Pergub Kaltim No. 49 Tahun 2023",
                               "kind": "pergub", "issued_on": "2023-09-01"}),
    )
    .await;
    create(json!({"title": "Siaran pers tanpa tanggal", "kind": "siaran-pers"})).await;

    let all: Value = app
        .http
        .get(app.url("/api/v1/documents"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let titles: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Layanan Informasi",
            "Keterbukaan Informasi Publik",
            "Siaran pers tanpa tanggal"
        ]
    );
    let laws: Value = app
        .http
        .get(app.url("/api/v1/documents?kind=undang-undang"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(laws.as_array().unwrap().len(), 1);
    let res = app
        .http
        .get(app.url("/api/v1/documents?kind=novel"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);

    // Edit: given fields change, null clears, the rest stays.
    let res = app
        .http
        .patch(app.url(&format!(
            "/api/v1/documents/{}",
            law["id"].as_str().unwrap()
        )))
        .bearer_auth(&app.editor_token)
        .json(&json!({"url": "https://peraturan.bpk.go.id/Details/39047", "issued_on": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let edited: Value = res.json().await.unwrap();
    assert_eq!(edited["url"], "https://peraturan.bpk.go.id/Details/39047");
    assert_eq!(edited["issued_on"], Value::Null);
    assert_eq!(edited["number"], "UU No. 14 Tahun 2008");
    assert_eq!(edited["created_at"], law["created_at"]);
    let res = app
        .http
        .patch(app.url(&format!(
            "/api/v1/documents/{}",
            law["id"].as_str().unwrap()
        )))
        .bearer_auth(&app.editor_token)
        .json(&json!({"url": "javascript:alert(1)"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);

    // Link the law twice (two moments) and the pergub once.
    let mut links = Vec::new();
    for (doc, at) in [
        (&law, json!(95000)),
        (&law, json!(15000)),
        (&pergub, Value::Null),
    ] {
        let res = app
            .post_json(
                &format!("/api/v1/episodes/{id}/documents"),
                Some(&app.editor_token),
                &json!({"document_id": doc["id"], "at_ms": at, "note": "pasal 7"}),
            )
            .await;
        assert_eq!(res.status(), 201);
        links.push(res.json::<Value>().await.unwrap());
    }
    let cited: Value = app
        .http
        .get(app.url(&format!(
            "/api/v1/documents/{}/episodes",
            law["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let moments: Vec<&Value> = cited
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["at_ms"])
        .collect();
    assert_eq!(moments, [&json!(15000), &json!(95000)]);
    assert_eq!(cited[0]["episode_id"], episode["id"]);
    assert_eq!(cited[0]["url"], episode["url"]);

    let view: Value = app
        .http
        .get(app.url(&format!("/api/v1/episodes/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let docs: Vec<(&Value, &Value)> = view["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (&d["title"], &d["at_ms"]))
        .collect();
    assert_eq!(docs.len(), 3);
    assert_eq!(docs[2].1, &Value::Null, "unplaced links last");

    // Unlink one moment; the feed's chapters follow.
    let link = links[1]["link_id"].as_str().unwrap();
    let path = format!("/api/v1/episodes/{id}/documents/{link}");
    let res = app
        .http
        .delete(app.url(&path))
        .bearer_auth(&app.editor_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = app
        .http
        .delete(app.url(&path))
        .bearer_auth(&app.editor_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let chapters: Value = app
        .http
        .get(app.url(&format!("/chapters/{id}.json")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(chapters["chapters"][1]["startTime"], 95.0);
    let link = links[0]["link_id"].as_str().unwrap();
    let path = format!("/api/v1/episodes/{id}/documents/{link}");
    let res = app
        .http
        .delete(app.url(&path))
        .bearer_auth(&app.editor_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let xml = app
        .http
        .get(app.url("/feeds/ppid.xml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !xml.contains("podcast:chapters"),
        "no placed document left: no chapters"
    );

    // A draft's citations are not public.
    let res = app
        .http
        .patch(app.url(&format!("/api/v1/episodes/{id}")))
        .bearer_auth(&app.editor_token)
        .json(&json!({"publish_at": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let public: Value = app
        .http
        .get(app.url(&format!(
            "/api/v1/documents/{}/episodes",
            pergub["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(public, json!([]));
    let with_token: Value = app
        .http
        .get(app.url(&format!(
            "/api/v1/documents/{}/episodes",
            pergub["id"].as_str().unwrap()
        )))
        .bearer_auth(&app.editor_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(with_token.as_array().unwrap().len(), 1);
}
on_both_backends!(documents_both_ways);

/// A document's fields are bounded and its date lies in 1900 to 9999 (BibTeX, RIS and the pages
/// write four-digit years); over a bound, 422 naming the field, on a new document and on a
/// change alike.
#[tokio::test]
async fn document_fields_and_dates_are_bounded() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    let editor = Some(app.editor_token.as_str());
    let long_url = format!("https://jdih.example.go.id/{}", "a".repeat(2048));
    let cases = [
        (json!({"title": "t".repeat(501)}), "invalid-title", "title"),
        (
            json!({"number": "n".repeat(201)}),
            "invalid-number",
            "number",
        ),
        (
            json!({"issuer": "i".repeat(501)}),
            "invalid-issuer",
            "issuer",
        ),
        (json!({"url": long_url}), "invalid-url", "url"),
        (
            json!({"issued_on": "-0001-01-01"}),
            "invalid-date",
            "issued_on",
        ),
        (
            json!({"issued_on": "0000-01-01"}),
            "invalid-date",
            "issued_on",
        ),
        (
            json!({"issued_on": "1899-12-31"}),
            "invalid-date",
            "issued_on",
        ),
        (
            json!({"issued_on": "+10000-01-01"}),
            "invalid-date",
            "issued_on",
        ),
    ];
    for (change, code, field) in &cases {
        let mut body = json!({"title": "Keterbukaan Informasi Publik"});
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let res = app
            .http
            .post(app.url("/api/v1/documents"))
            .bearer_auth(&app.editor_token)
            .header(reqwest::header::ACCEPT_LANGUAGE, "en")
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let got: Value = res.json().await.unwrap();
        assert_eq!(
            (status, got["code"].as_str()),
            (422, Some(*code)),
            "{change}"
        );
        assert!(got["message"].as_str().unwrap().contains(field), "{got}");
    }
    assert_eq!(app.count_rows("documents").await, 0);

    let res = app
        .post_json(
            "/api/v1/documents",
            editor,
            &json!({"title": "t".repeat(500), "number": "n".repeat(200),
                    "issued_on": "1900-01-01"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let doc: Value = res.json().await.unwrap();
    let path = format!("/api/v1/documents/{}", doc["id"].as_str().unwrap());
    for (change, code, _) in &cases {
        let res = app
            .http
            .patch(app.url(&path))
            .bearer_auth(&app.editor_token)
            .json(change)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let got: Value = res.json().await.unwrap();
        assert_eq!(
            (status, got["code"].as_str()),
            (422, Some(*code)),
            "{change}"
        );
    }
    let stored = app.get_json(&path).await;
    assert_eq!(stored["issued_on"], "1900-01-01");
}
