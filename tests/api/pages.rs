//! The public archive's pages (issue 6) through the real service: status codes, links, escaping
//! of hostile text, 301s for changed slugs, 404 for drafts, citations checked field by field
//! against the feed, oEmbed and the embeddable player. Every page is parsed strictly (html5lib).

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::{
    episode_files::{VTT, published_episode},
    helpers::{Backend, TestApp},
    on_both_backends,
};

/// The page at `path`, parsed strictly; panics on a parse error.
async fn page(app: &TestApp, path: &str, lang: Option<&str>) -> (StatusCode, Value) {
    let mut req = app.http.get(app.url(path));
    if let Some(l) = lang {
        req = req.header(header::ACCEPT_LANGUAGE, l);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "text/html; charset=utf-8",
        "{path}"
    );
    let html = res.text().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("page.html");
    std::fs::write(&file, &html).unwrap();
    let out = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/parsers/parse_html.py"
        ))
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{path} is not well-formed HTML: {}\n{html}",
        String::from_utf8_lossy(&out.stderr)
    );
    (status, serde_json::from_slice(&out.stdout).unwrap())
}

fn hrefs(page: &Value) -> Vec<String> {
    page["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["href"].as_str().map(str::to_owned))
        .collect()
}

async fn archive_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let episode = published_episode(&app, "ppid", "briefing-demo.mp3").await;
    let id = episode["id"].as_str().unwrap();
    let hostile = "<script>alert('x')</script> & \"Pasal 7\" ]]>";
    let res = app
        .http
        .patch(app.url(&format!("/api/v1/episodes/{id}")))
        .bearer_auth(&app.editor_token)
        .json(&json!({"title": hostile, "slug": "pasal-7",
                      "meta": {"episode": 4, "persons": [{"name": "Kepala <Dinas>", "role": "guest"}]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let doc: Value = app
        .post_json(
            "/api/v1/documents",
            Some(&app.editor_token),
            &json!({"title": "Keterbukaan <Informasi> Publik", "number": "UU No. 14 Tahun 2008",
                    "kind": "undang-undang", "url": "https://peraturan.bpk.go.id/Details/39047"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/episodes/{id}/documents"),
            Some(&app.editor_token),
            &json!({"document_id": doc["id"], "at_ms": 95000, "note": "pasal 7 & 9"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .http
        .put(app.url(&format!("/api/v1/episodes/{id}/transcripts/id")))
        .bearer_auth(&app.editor_token)
        .body(VTT)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // The episode page, in Indonesian by default.
    let path = "/shows/ppid/pasal-7";
    let (status, ep) = page(&app, path, None).await;
    assert_eq!(status, 200);
    assert_eq!(ep["lang"], "id");
    assert_eq!(ep["h1"], hostile, "hostile text is shown as text");
    let text = ep["text"].as_str().unwrap();
    assert!(text.contains("Kepala <Dinas> (guest)"), "{text}");
    assert!(text.contains("Dokumen yang dibahas"));
    assert!(
        text.contains("0:01 Kepala Dinas: Selamat pagi, warga Kalimantan Timur."),
        "{text}"
    );
    assert!(text.contains("SHA-256 "));
    assert!(text.contains(episode["sha256"].as_str().unwrap()));
    assert_eq!(ep["player"]["tag"], "audio");
    assert_eq!(ep["player"]["src"], episode["enclosure_url"]);
    let links = ep["links"].as_array().unwrap();
    let moment = links
        .iter()
        .find(|l| l["data_t"] == "95")
        .expect("the document's moment seeks the player");
    assert_eq!(moment["href"], "#t=95");
    assert_eq!(moment["text"], "1:35");
    let all = hrefs(&ep);
    assert!(all.contains(&format!("/documents/{}", doc["id"].as_str().unwrap())));
    assert!(all.contains(&format!(
        "{}?download=1",
        episode["enclosure_url"].as_str().unwrap()
    )));
    assert!(all.contains(&"/shows/ppid/pasal-7/cite.bib".to_owned()));
    assert!(all.contains(&app.url(&format!("/transcripts/{id}/id.vtt"))));
    let meta = &ep["meta"];
    assert_eq!(meta["og:title"], hostile);
    assert_eq!(meta["og:url"], app.url(path));
    assert_eq!(meta["og:audio"], episode["enclosure_url"]);
    assert_eq!(meta["twitter:player"], app.url("/embed/ppid/pasal-7"));
    let head = ep["head_links"].as_array().unwrap();
    assert!(
        head.iter()
            .any(|l| l["type"] == "application/rss+xml" && l["href"] == app.url("/feeds/ppid.xml"))
    );
    let oembed = head
        .iter()
        .find(|l| l["type"] == "application/json+oembed")
        .unwrap()["href"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        text.contains("[Episode siniar audio]"),
        "APA in Indonesian: {text}"
    );

    // English by Accept-Language, and by the switch.
    let (_, en) = page(&app, path, Some("en-US,en;q=0.9")).await;
    assert_eq!(en["lang"], "en");
    assert!(en["text"].as_str().unwrap().contains("Documents discussed"));
    let (_, switched) = page(&app, &format!("{path}?lang=en"), None).await;
    assert_eq!(switched["lang"], "en");

    // Every link on the page leads somewhere.
    for href in all.iter().filter(|h| !h.starts_with('#')) {
        let url = if href.starts_with("http") {
            href.clone()
        } else {
            app.url(href)
        };
        if !url.starts_with(&app.base) {
            continue;
        }
        let res = app.http.head(&url).send().await.unwrap();
        assert!(res.status().is_success(), "{href}: {}", res.status());
    }

    // Citations carry the feed's values.
    let feed = app
        .http
        .get(app.url("/feeds/ppid.xml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let channel = rss::Channel::read_from(feed.as_bytes()).unwrap();
    let item = &channel.items()[0];
    let csl: Value = app
        .http
        .get(app.url("/shows/ppid/pasal-7/cite.json?t=95"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let c = &csl[0];
    assert_eq!(c["title"], item.title().unwrap());
    assert_eq!(c["container-title"], channel.title());
    assert_eq!(
        c["author"][0]["literal"],
        channel.itunes_ext().unwrap().author().unwrap()
    );
    assert_eq!(c["id"], item.guid().unwrap().value());
    assert_eq!(
        c["issued"]["date-parts"],
        json!([[2026, 1, 5]]),
        "pubDate {}",
        item.pub_date().unwrap()
    );
    assert_eq!(c["URL"], format!("{}#t=95", item.link().unwrap()));
    assert_eq!(c["number"], "4");
    assert_eq!(c["note"], "Cited at 1:35");
    let today = chrono::Utc::now().date_naive();
    assert_eq!(
        c["accessed"]["date-parts"],
        json!([[
            today.format("%Y").to_string().parse::<i32>().unwrap(),
            today.format("%m").to_string().parse::<u32>().unwrap(),
            today.format("%d").to_string().parse::<u32>().unwrap()
        ]])
    );
    let bib = app
        .http
        .get(app.url("/shows/ppid/pasal-7/cite.bib"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        bib.headers()[header::CONTENT_TYPE],
        "application/x-bibtex; charset=utf-8"
    );
    let bib = bib.text().await.unwrap();
    assert!(bib.contains("date = 2026-01-05"), "{bib}");
    assert!(bib.contains(&format!("url = {{{}}}", item.link().unwrap())));
    let ris = app
        .http
        .get(app.url("/shows/ppid/pasal-7/cite.ris?t=95"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ris.contains("DA  - 2026/01/05\r\n"));
    assert!(ris.contains("N1  - Cited at 1:35\r\n"));

    // The document's page lists the briefing at its moment.
    let doc_path = format!("/documents/{}", doc["id"].as_str().unwrap());
    let (status, d) = page(&app, &doc_path, None).await;
    assert_eq!(status, 200);
    assert_eq!(d["h1"], "Keterbukaan <Informasi> Publik");
    assert!(hrefs(&d).contains(&"/shows/ppid/pasal-7#t=95".to_owned()));
    assert!(hrefs(&d).contains(&"https://peraturan.bpk.go.id/Details/39047".to_owned()));

    // Home and show pages list it.
    let (_, home) = page(&app, "/", None).await;
    assert!(hrefs(&home).contains(&path.to_owned()));
    let (_, show) = page(&app, "/shows/ppid", None).await;
    assert!(hrefs(&show).contains(&path.to_owned()));

    // oEmbed and the embeddable player.
    let res = app.http.get(&oembed).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let o: Value = res.json().await.unwrap();
    assert_eq!(
        (o["version"].as_str(), o["type"].as_str()),
        (Some("1.0"), Some("rich"))
    );
    assert_eq!(o["title"], hostile);
    assert!(
        o["html"]
            .as_str()
            .unwrap()
            .contains(&format!("src=\"{}\"", app.url("/embed/ppid/pasal-7")))
    );
    assert!(o["html"].as_str().unwrap().contains("&lt;script&gt;"));
    let (status, embed) = page(&app, "/embed/ppid/pasal-7", None).await;
    assert_eq!(status, 200);
    assert_eq!(embed["player"]["src"], episode["enclosure_url"]);
    let res = app
        .http
        .get(app.url("/oembed"))
        .query(&[("url", "https://example.com/shows/ppid/pasal-7")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = app
        .http
        .get(app.url("/oembed"))
        .query(&[("url", app.url(path).as_str()), ("format", "xml")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 501);

    // Changed slugs answer 301; old addresses keep working.
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = no_redirect
        .get(app.url(&format!(
            "/shows/ppid/{}",
            episode["slug"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(res.headers()[header::LOCATION], path);
    let res = app
        .http
        .patch(app.url("/api/v1/shows/ppid"))
        .bearer_auth(&app.admin_token)
        .json(&json!({"slug": "ppid-kaltim"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = no_redirect
        .get(app.url("/shows/ppid/pasal-7/cite.bib"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        res.headers()[header::LOCATION],
        "/shows/ppid-kaltim/pasal-7/cite.bib"
    );
    let res = no_redirect
        .get(app.url("/shows/ppid"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()[header::LOCATION], "/shows/ppid-kaltim");
    let (status, _) = page(
        &app,
        &format!("/shows/ppid/{}", episode["slug"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(status, 200, "two moves, followed");

    // Not found, in the asked language; a draft is not public.
    let (status, missing) = page(&app, "/shows/none/x", Some("en")).await;
    assert_eq!(status, 404);
    assert_eq!(missing["h1"], "Page not found");
    let res = app
        .http
        .patch(app.url(&format!("/api/v1/episodes/{id}")))
        .bearer_auth(&app.editor_token)
        .json(&json!({"publish_at": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (status, _) = page(&app, "/shows/ppid-kaltim/pasal-7", None).await;
    assert_eq!(status, 404);
    let (_, d) = page(&app, &doc_path, None).await;
    assert!(
        !hrefs(&d).iter().any(|h| h.contains("pasal-7")),
        "a draft is not listed"
    );
}
on_both_backends!(archive_pages);

async fn withdrawn_briefing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let episode = published_episode(&app, "ppid", "briefing-demo.mp3").await;
    let id = episode["id"].as_str().unwrap();
    let path = format!("/shows/ppid/{}", episode["slug"].as_str().unwrap());
    let withdrawal = app.url(&format!("/api/v1/episodes/{id}/withdrawal"));

    let res = app
        .http
        .put(&withdrawal)
        .bearer_auth(&app.editor_token)
        .json(&json!({"reason": "  "}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let res = app
        .http
        .put(&withdrawal)
        .bearer_auth(&app.editor_token)
        .json(&json!({"reason": "Data anggaran <keliru>; lihat ralat 12/2026"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let view: Value = res.json().await.unwrap();
    assert_eq!(view["status"], "withdrawn");
    assert_eq!(
        view["withdrawn"]["reason"],
        "Data anggaran <keliru>; lihat ralat 12/2026"
    );

    // Gone, with why and since when, in both languages; out of the feed and the lists.
    let (status, gone) = page(&app, &path, None).await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(gone["h1"], "Siaran ini telah ditarik");
    let text = gone["text"].as_str().unwrap();
    assert!(
        text.contains("Alasan: Data anggaran <keliru>; lihat ralat 12/2026"),
        "{text}"
    );
    let today = siaran::domain::citation::long_date(
        siaran::domain::citation::CiteLang::Id,
        chrono::Utc::now().date_naive(),
    );
    assert!(text.contains(&format!("Ditarik pada {today}")), "{text}");
    let (status, gone) = page(&app, &path, Some("en")).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(
        gone["text"]
            .as_str()
            .unwrap()
            .contains("Reason: Data anggaran")
    );
    let res = app
        .http
        .get(app.url(&format!("{path}/cite.bib")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::GONE);
    let feed = app
        .http
        .get(app.url("/feeds/ppid.xml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!feed.contains(id), "{feed}");
    let (_, home) = page(&app, "/", None).await;
    assert!(!hrefs(&home).contains(&path));
    let res = app
        .http
        .get(app.url(&format!("/api/v1/episodes/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "not public through the API either");

    // Put back: the page and the feed item return.
    let res = app
        .http
        .delete(&withdrawal)
        .bearer_auth(&app.editor_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (status, _) = page(&app, &path, None).await;
    assert_eq!(status, 200);
    let feed = app
        .http
        .get(app.url("/feeds/ppid.xml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(feed.contains(id));
}
on_both_backends!(withdrawn_briefing);
