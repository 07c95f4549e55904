//! A document's PDF (issue 6, point 1): uploaded as the body, stored with its SHA-256, served
//! with ranges and validators, replaced and removed without leaving objects behind; anything
//! that is not a PDF is refused and nothing is stored.

use reqwest::header;
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp, sha256_hex},
    on_both_backends,
};

/// A small, valid PDF (one empty page), `n` making each one different.
pub fn pdf(n: u32) -> Vec<u8> {
    format!(
        "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
         2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n\
         3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj\n\
         % Pergub Kaltim No. {n}\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )
    .into_bytes()
}

async fn put_file(app: &TestApp, id: &str, name: &str, body: Vec<u8>) -> reqwest::Response {
    app.http
        .put(app.url(&format!("/api/v1/documents/{id}/file?filename={name}")))
        .bearer_auth(&app.editor_token)
        .header(header::CONTENT_TYPE, "application/pdf")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn document_pdfs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = app
        .post_json(
            "/api/v1/documents",
            Some(&app.editor_token),
            &json!({"title": "Layanan Informasi", "number": "Pergub Kaltim No. 49 Tahun 2023",
                    "kind": "pergub"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let doc: Value = res.json().await.unwrap();
    let id = doc["id"].as_str().unwrap();
    assert_eq!(doc["file"], Value::Null);

    // Not a PDF: 415 with a named error, nothing stored.
    let res = put_file(&app, id, "foto.jpg", b"\xff\xd8\xff\xe0 not a pdf".to_vec()).await;
    assert_eq!(res.status(), 415);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["code"], "unsupported-document", "{err}");
    assert!(app.stored_objects().await.is_empty());
    // Without a token: 401.
    let res = app
        .http
        .put(app.url(&format!("/api/v1/documents/{id}/file")))
        .body(pdf(1))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    let first = pdf(49);
    let res = put_file(&app, id, "Pergub%2049%20Tahun%202023.pdf", first.clone()).await;
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    let file = &doc["file"];
    assert_eq!(file["sha256"], sha256_hex(&first));
    assert_eq!(file["size_bytes"], first.len());
    assert_eq!(file["filename"], "Pergub 49 Tahun 2023.pdf");
    assert!(file.get("key").is_none(), "{file}");
    let url = file["url"].as_str().unwrap().to_owned();
    assert!(
        url.ends_with(&format!(
            "/documents/{id}/{}.pdf",
            &sha256_hex(&first)[..16]
        )),
        "{url}"
    );
    // The same file in the list and in a read.
    let read: Value = app
        .http
        .get(app.url(&format!("/api/v1/documents/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["file"]["url"], url.as_str());

    // Served whole, by range, and validated.
    let res = app.http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "application/pdf");
    assert!(
        res.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("inline; filename=\"Pergub 49 Tahun 2023.pdf\"")
    );
    let etag = res.headers()[header::ETAG].to_str().unwrap().to_owned();
    assert_eq!(res.bytes().await.unwrap().as_ref(), first.as_slice());
    let res = app.get_with(&url, &[(header::RANGE, "bytes=0-4")]).await;
    assert_eq!(res.status(), 206);
    assert_eq!(
        res.headers()[header::CONTENT_RANGE],
        format!("bytes 0-4/{}", first.len()).as_str()
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"%PDF-");
    let res = app
        .get_with(&url, &[(header::IF_NONE_MATCH, etag.as_str())])
        .await;
    assert_eq!(res.status(), 304);
    let res = app.http.head(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()[header::CONTENT_LENGTH],
        first.len().to_string().as_str()
    );
    // Another name at that address is not the file.
    let res = app
        .http
        .get(app.url(&format!("/documents/{id}/0000000000000000.pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    // The document page offers it with its size and SHA-256.
    let page = app
        .http
        .get(app.url(&format!("/documents/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&url), "{page}");
    assert!(page.contains(&sha256_hex(&first)));

    // Replaced: the new file at a new URL, the old object gone.
    let second = pdf(50);
    let res = put_file(&app, id, "v2.pdf", second.clone()).await;
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["file"]["sha256"], sha256_hex(&second));
    assert_eq!(app.stored_objects().await.len(), 1);
    assert_eq!(app.http.get(&url).send().await.unwrap().status(), 404);

    // Both changes are on the document's record.
    let trail: Vec<Value> = app
        .http
        .get(app.url(&format!("/api/v1/documents/{id}/history")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = trail
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["created", "file-set", "file-set"]);
    assert_eq!(
        trail[2]["changes"]["file_sha256"]["from"],
        sha256_hex(&first)
    );

    // Removed: the row, then the object.
    let res = app
        .http
        .delete(app.url(&format!("/api/v1/documents/{id}/file")))
        .bearer_auth(&app.editor_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(app.stored_objects().await.is_empty());
    let read: Value = app
        .http
        .get(app.url(&format!("/api/v1/documents/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["file"], Value::Null);
    let res = app
        .http
        .delete(app.url(&format!("/api/v1/documents/{id}/file")))
        .bearer_auth(&app.editor_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}
on_both_backends!(document_pdfs);
