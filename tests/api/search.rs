//! Search (issue 6.4): the same cases on SQLite (FTS5) and PostgreSQL (tsvector). Phrases spoken
//! in an uploaded transcript are found at their cue's moment; titles, descriptions, documents'
//! titles and numbers are found; filters include and exclude; drafts, scheduled and withdrawn
//! briefings never appear; hostile input never gives a 500. Both backends rank by where the words
//! are found, so order and scores are asserted alike.

use std::collections::BTreeSet;

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp},
    on_both_backends,
};

const VTT_ONE: &str = "WEBVTT\n\n\
00:00:01.000 --> 00:00:04.000\n<v Kepala Dinas>Selamat pagi, warga Kalimantan Timur.\n\n\
00:01:02.500 --> 00:01:06.000\nPelayanan e-KTP di kantor kecamatan dibuka setiap hari kerja.\n\n\
00:02:00.000 --> 00:02:04.000\nCafé Samarinda menjadi tempat diskusi warga.\n\n\
00:02:10.000 --> 00:02:12.000\nKita semua harus\n\n\
00:02:12.000 --> 00:02:15.000\nmenjaga lingkungan bersama.\n\n\
00:02:20.000 --> 00:02:24.000\nKota tepian bersih, tepian bersih indah sekali.\n";

const VTT_TWO: &str = "WEBVTT\n\n\
00:00:30.000 --> 00:00:34.000\nAnggaran pendidikan naik sepuluh persen tahun ini.\n";

/// Only the hidden episodes say "zebra".
const VTT_HIDDEN: &str = "WEBVTT\n\n00:00:05.000 --> 00:00:08.000\nZebra rahasia di sini.\n";

struct Archive {
    one: String,
    one_slug: String,
    two: String,
    law: String,
    pergub: String,
}

async fn episode(
    app: &TestApp,
    show: &str,
    media: &Value,
    title: &str,
    desc: &str,
    at: Option<&str>,
) -> Value {
    let mut body = json!({"title": title, "description": desc, "media_id": media["id"]});
    if let Some(at) = at {
        body["publish_at"] = json!(at);
    }
    let res = app
        .post_json(
            &format!("/api/v1/shows/{show}/episodes"),
            Some(&app.editor_token),
            &body,
        )
        .await;
    assert_eq!(res.status(), 201, "create episode {title}");
    res.json().await.unwrap()
}

async fn transcript(app: &TestApp, id: &str, vtt: &'static str) {
    let res = app
        .http
        .put(app.url(&format!("/api/v1/episodes/{id}/transcripts/id")))
        .bearer_auth(&app.editor_token)
        .body(vtt)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

async fn document(app: &TestApp, body: Value) -> String {
    let res = app
        .post_json("/api/v1/documents", Some(&app.editor_token), &body)
        .await;
    assert_eq!(res.status(), 201);
    let doc: Value = res.json().await.unwrap();
    doc["id"].as_str().unwrap().to_owned()
}

async fn seed(app: &TestApp) -> Archive {
    app.create_show("kaltim").await;
    app.create_show("samarinda").await;
    let media = app.upload_ok("briefing-demo.mp3").await;

    let one = episode(
        app,
        "kaltim",
        &media,
        "Keterbukaan Informasi Publik",
        "Penjelasan kewajiban badan publik",
        Some("2026-01-05T02:00:00Z"),
    )
    .await;
    let one_id = one["id"].as_str().unwrap().to_owned();
    transcript(app, &one_id, VTT_ONE).await;

    let two = episode(
        app,
        "samarinda",
        &media,
        "Anggaran Daerah",
        "Rapat paripurna DPRD",
        Some("2026-03-10T02:00:00Z"),
    )
    .await;
    let two_id = two["id"].as_str().unwrap().to_owned();
    transcript(app, &two_id, VTT_TWO).await;
    let law = document(
        app,
        json!({"title": "Keterbukaan Informasi Publik", "number": "UU No. 14 Tahun 2008",
               "kind": "undang-undang", "issued_on": "2008-04-30"}),
    )
    .await;
    let res = app
        .post_json(
            &format!("/api/v1/episodes/{two_id}/documents"),
            Some(&app.editor_token),
            &json!({"document_id": law, "at_ms": 30_000}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let pergub = document(
        app,
        json!({"title": "Penyeberangan Zebra", "number": "Pergub No. 7 Tahun 2025",
               "kind": "peraturan-gubernur"}),
    )
    .await;

    // Never public: a draft, a briefing scheduled far ahead, a withdrawn one. Each says "zebra"
    // in its title and transcript, and cites the law.
    let draft = episode(app, "kaltim", &media, "Zebra Draf", "zebra", None).await;
    let scheduled = episode(
        app,
        "kaltim",
        &media,
        "Zebra Terjadwal",
        "zebra",
        Some("2099-01-01T00:00:00Z"),
    )
    .await;
    let withdrawn = episode(
        app,
        "kaltim",
        &media,
        "Zebra Ditarik",
        "zebra",
        Some("2026-01-06T02:00:00Z"),
    )
    .await;
    for hidden in [&draft, &scheduled, &withdrawn] {
        let id = hidden["id"].as_str().unwrap();
        transcript(app, id, VTT_HIDDEN).await;
        let res = app
            .post_json(
                &format!("/api/v1/episodes/{id}/documents"),
                Some(&app.editor_token),
                &json!({"document_id": law}),
            )
            .await;
        assert_eq!(res.status(), 201);
    }
    let res = app
        .http
        .put(app.url(&format!(
            "/api/v1/episodes/{}/withdrawal",
            withdrawn["id"].as_str().unwrap()
        )))
        .bearer_auth(&app.editor_token)
        .json(&json!({"reason": "Keliru"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    Archive {
        one: one_id,
        one_slug: one["slug"].as_str().unwrap().to_owned(),
        two: two_id,
        law,
        pergub,
    }
}

async fn search(app: &TestApp, query: &[(&str, &str)]) -> Value {
    let res = app
        .http
        .get(app.url("/api/v1/search"))
        .query(query)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        200,
        "{query:?}: {}",
        res.text().await.unwrap()
    );
    res.json().await.unwrap()
}

fn episode_ids(r: &Value) -> BTreeSet<String> {
    r["episodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

fn document_ids(r: &Value) -> BTreeSet<String> {
    r["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect()
}

fn set(ids: &[&String]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).clone()).collect()
}

/// The moments (start ms) listed for `episode` in `r`.
fn moments(r: &Value, episode: &str) -> Vec<u64> {
    r["episodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == episode)
        .map(|e| {
            e["moments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["start_ms"].as_u64().unwrap())
                .collect()
        })
        .unwrap_or_default()
}

async fn finds_words_where_they_are_spoken(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = seed(&app).await;

    // A phrase spoken at 62.5 s: that moment, with a link into the page at whole seconds.
    let r = search(&app, &[("q", "\"Pelayanan e-KTP di kantor\"")]).await;
    assert_eq!(episode_ids(&r), set(&[&a.one]), "{r:#}");
    assert_eq!(moments(&r, &a.one), [62_500]);
    let hit = &r["episodes"][0];
    assert_eq!(hit["matched_in"]["transcript"], true);
    let url = hit["moments"][0]["url"].as_str().unwrap();
    assert_eq!(url, app.url(&format!("/shows/kaltim/{}#t=62", a.one_slug)));
    assert!(
        hit["moments"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Pelayanan e-KTP")
    );
    assert_eq!(r["total"], 1);

    // The same order and scores on both backends: words in the title (5) before words only in
    // a document the briefing discusses (1).
    let r = search(&app, &[("q", "keterbukaan informasi")]).await;
    let order: Vec<(&str, i64)> = r["episodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["id"].as_str().unwrap(), e["score"].as_i64().unwrap()))
        .collect();
    assert_eq!(order, [(a.one.as_str(), 5), (a.two.as_str(), 1)], "{r:#}");
    // Found in the transcript ("tahun ini") and in the cited law's number: 1 + 1.
    let r = search(&app, &[("q", "tahun")]).await;
    assert_eq!(episode_ids(&r), set(&[&a.two]), "{r:#}");
    assert_eq!(r["episodes"][0]["score"], 2);

    // A voice tag is read as "Name: " and is searchable; its markup is not.
    let r = search(&app, &[("q", "kepala dinas selamat pagi")]).await;
    assert_eq!(moments(&r, &a.one), [1_000]);
    assert_eq!(
        r["episodes"][0]["moments"][0]["text"],
        "Kepala Dinas: Selamat pagi, warga Kalimantan Timur."
    );

    // Words in any order, one word, a part of a hyphenated word.
    assert_eq!(
        moments(&search(&app, &[("q", "kerja kecamatan")]).await, &a.one),
        [62_500]
    );
    assert_eq!(
        moments(&search(&app, &[("q", "KTP")]).await, &a.one),
        [62_500]
    );
    // Words spoken in different cues find the episode (its transcript holds them all).
    let r = search(&app, &[("q", "kecamatan lingkungan")]).await;
    assert_eq!(episode_ids(&r), set(&[&a.one]));
    // A phrase running across two cues points at the first of them.
    let r = search(&app, &[("q", "\"harus menjaga lingkungan\"")]).await;
    assert_eq!(episode_ids(&r), set(&[&a.one]));
    assert_eq!(moments(&r, &a.one), [130_000]);
    // Words out of order are not the phrase.
    let r = search(&app, &[("q", "\"kantor di e-KTP\"")]).await;
    assert!(episode_ids(&r).is_empty(), "{r:#}");
    // Every pair of words of a phrase is spoken ("diskusi warga", "warga Kalimantan"), and every
    // run of three ("kota tepian bersih", "tepian bersih indah"), but not the phrase: no match
    // (PostgreSQL looks a phrase up by its runs of words, and checks positions past three).
    for q in [
        "\"diskusi warga kalimantan\"",
        "\"kota tepian bersih indah\"",
    ] {
        let r = search(&app, &[("q", q)]).await;
        assert!(episode_ids(&r).is_empty(), "{q}: {r:#}");
    }
    let r = search(&app, &[("q", "\"tepian bersih tepian bersih indah\"")]).await;
    assert_eq!(moments(&r, &a.one), [140_000], "{r:#}");
    let r = search(&app, &[("q", "\"kota tepian\" \"bersih indah\"")]).await;
    assert_eq!(moments(&r, &a.one), [140_000], "{r:#}");

    // Accents are folded both ways.
    assert_eq!(
        moments(&search(&app, &[("q", "cafe")]).await, &a.one),
        [120_000]
    );
    assert_eq!(
        moments(&search(&app, &[("q", "CAFÉ samarinda")]).await, &a.one),
        [120_000]
    );

    // Titles and descriptions.
    let r = search(&app, &[("q", "paripurna")]).await;
    assert_eq!(episode_ids(&r), set(&[&a.two]));
    assert_eq!(r["episodes"][0]["matched_in"]["episode"], true);
    assert_eq!(r["episodes"][0]["show"]["slug"], "samarinda");
    assert!(r["episodes"][0]["moments"].as_array().unwrap().is_empty());

    // A document's title finds it and the public episodes citing it, with title matches.
    let r = search(&app, &[("q", "keterbukaan informasi")]).await;
    assert_eq!(episode_ids(&r), set(&[&a.one, &a.two]), "{r:#}");
    assert_eq!(document_ids(&r), set(&[&a.law]));
    let two = r["episodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == a.two.as_str())
        .unwrap();
    assert_eq!(two["matched_in"]["document"], true);
    assert_eq!(two["matched_in"]["episode"], false);
    assert_eq!(
        r["documents"][0]["page_url"],
        app.url(&format!("/documents/{}", a.law))
    );

    // Its number, as a phrase or as words.
    for q in ["\"14 Tahun 2008\"", "UU No. 14 Tahun 2008", "uu 14/2008"] {
        let r = search(&app, &[("q", q)]).await;
        assert_eq!(document_ids(&r), set(&[&a.law]), "{q}");
        assert_eq!(episode_ids(&r), set(&[&a.two]), "{q}");
    }
    assert!(document_ids(&search(&app, &[("q", "\"2008 tahun 14\"")]).await).is_empty());

    // Filters: show, dates (inclusive, WIB days), document kind.
    let both = [("q", "informasi")];
    assert_eq!(
        episode_ids(&search(&app, &both).await),
        set(&[&a.one, &a.two])
    );
    let only = |extra: (&'static str, &'static str)| {
        let mut q = both.to_vec();
        q.push(extra);
        q
    };
    assert_eq!(
        episode_ids(&search(&app, &only(("show", "kaltim"))).await),
        set(&[&a.one])
    );
    assert_eq!(
        episode_ids(&search(&app, &only(("show", "samarinda"))).await),
        set(&[&a.two])
    );
    assert!(episode_ids(&search(&app, &only(("show", "tidak-ada"))).await).is_empty());
    assert_eq!(
        episode_ids(&search(&app, &only(("from", "2026-03-01"))).await),
        set(&[&a.two])
    );
    assert_eq!(
        episode_ids(&search(&app, &only(("to", "2026-02-01"))).await),
        set(&[&a.one])
    );
    assert_eq!(
        episode_ids(&search(&app, &only(("from", "2026-03-10"))).await),
        set(&[&a.two])
    );
    assert_eq!(
        episode_ids(&search(&app, &only(("to", "2026-03-10"))).await),
        set(&[&a.one, &a.two])
    );
    assert!(episode_ids(&search(&app, &only(("from", "2026-03-11"))).await).is_empty());
    let r = search(&app, &only(("kind", "undang-undang"))).await;
    assert_eq!(episode_ids(&r), set(&[&a.two]));
    assert_eq!(document_ids(&r), set(&[&a.law]));
    let r = search(&app, &only(("kind", "peraturan-gubernur"))).await;
    assert!(episode_ids(&r).is_empty());
    assert!(document_ids(&r).is_empty());
    // With a show, only the documents that show's briefings discuss.
    assert!(document_ids(&search(&app, &only(("show", "kaltim"))).await).is_empty());
    assert_eq!(
        document_ids(&search(&app, &only(("show", "samarinda"))).await),
        set(&[&a.law])
    );

    // Drafts, scheduled and withdrawn briefings are never found, by any route; the document is.
    for q in [
        "zebra",
        "rahasia",
        "\"zebra rahasia\"",
        "terjadwal",
        "ditarik",
        "draf",
    ] {
        let r = search(&app, &[("q", q)]).await;
        assert!(episode_ids(&r).is_empty(), "{q}: {r:#}");
        assert_eq!(r["total"], 0);
    }
    assert_eq!(
        document_ids(&search(&app, &[("q", "zebra")]).await),
        set(&[&a.pergub])
    );
    // (They cite the law: it still finds only the public episode.)
    assert_eq!(
        episode_ids(&search(&app, &[("q", "\"14 tahun 2008\"")]).await),
        set(&[&a.two])
    );

    // A replaced transcript is searched as it is now; a removed one not at all.
    let res = app
        .http
        .put(app.url(&format!("/api/v1/episodes/{}/transcripts/id", a.one)))
        .bearer_auth(&app.editor_token)
        .body("WEBVTT\n\n00:00:09.000 --> 00:00:11.000\nJembatan Mahakam diperbaiki.\n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(episode_ids(&search(&app, &[("q", "ktp")]).await).is_empty());
    assert_eq!(
        moments(&search(&app, &[("q", "jembatan mahakam")]).await, &a.one),
        [9_000]
    );
    let res = app
        .http
        .delete(app.url(&format!("/api/v1/episodes/{}/transcripts/id", a.one)))
        .bearer_auth(&app.editor_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(episode_ids(&search(&app, &[("q", "jembatan")]).await).is_empty());
    assert_eq!(
        app.count_rows("transcript_cues").await,
        4,
        "two's cue and the hidden ones' three"
    );
    // A changed title is searched as it is now.
    let res = app
        .http
        .patch(app.url(&format!("/api/v1/episodes/{}", a.two)))
        .bearer_auth(&app.editor_token)
        .json(&json!({"title": "Belanja Modal"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        episode_ids(&search(&app, &[("q", "belanja modal")]).await),
        set(&[&a.two])
    );
    let r = search(&app, &[("q", "anggaran daerah")]).await;
    assert!(episode_ids(&r).is_empty(), "{r:#}");
}
on_both_backends!(finds_words_where_they_are_spoken);

/// Words far longer than any spoken one (pasted codes, hostile uploads) are indexed without
/// error, and a phrase holding one is still found (PostgreSQL indexes runs of words up to 100
/// characters each; a phrase with a longer word is checked against positions).
async fn long_words_are_indexed_and_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = seed(&app).await;
    let word = |c: char, n: usize| std::iter::repeat_n(c, n).collect::<String>();
    let (huge, long) = (word('x', 1500), word('y', 150));
    let vtt = format!(
        "WEBVTT\n\n00:00:10.000 --> 00:00:12.000\n{huge} {h2} {h3}\n\n\
         00:00:20.000 --> 00:00:22.000\n{long} kedua ketiga\n",
        h2 = word('z', 1500),
        h3 = word('w', 1500),
    );
    transcript(&app, &a.two, Box::leak(vtt.into_boxed_str())).await;
    let r = search(&app, &[("q", format!("\"{long} kedua\"").as_str())]).await;
    assert_eq!(moments(&r, &a.two), [20_000], "{r:#}");
    let r = search(&app, &[("q", "\"kedua ketiga\"")]).await;
    assert_eq!(moments(&r, &a.two), [20_000], "{r:#}");
    if matches!(backend, Backend::PostgresS3) {
        // No run of words in the index is longer than three words of 100 characters: longer
        // ones overflowed a lexeme's length and were stored cut (3,001 characters as 953).
        let db = siaran::db::AnyDb::connect(&app.db_url()).await.unwrap();
        let (longest,): (i32,) = sqlx::query_as(
            "SELECT COALESCE(MAX(length(l)), 0) FROM transcript_search t, \
             unnest(tsvector_to_array(siaran_grams(t.search))) l WHERE l LIKE '% %'",
        )
        .fetch_one(db.pool())
        .await
        .unwrap();
        assert!((1..=302).contains(&longest), "longest run: {longest}");
    }
}
on_both_backends!(long_words_are_indexed_and_found);

async fn hostile_input_is_never_a_server_error(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let long = "informasi ".repeat(200);
    let many = (0..30)
        .map(|i| format!("w{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    let queries: Vec<&str> = vec![
        "\"",
        "\"\"",
        "*",
        "informasi*",
        "NEAR(",
        "NEAR(informasi publik)",
        "OR",
        "a OR b",
        "NOT",
        "-",
        "-informasi",
        ":",
        "title:informasi",
        "{title}: x",
        "^informasi",
        "(",
        ")",
        "'",
        "\\",
        "%",
        "_",
        "&",
        "|",
        "!",
        "<->",
        "informasi & publik",
        "informasi | publik",
        "'a':*",
        "日本語",
        "🙂",
        "ğüşıöç",
        "\u{0301}",
        "\u{200b}",
        "a\u{0000}b",
        "\"unclosed phrase",
        "a\"b\"c",
        "AND AND",
        "+",
        "~",
        "@@",
        "$1",
        "?",
        ";DROP TABLE episodes;--",
        &long,
        &many,
    ];
    for q in queries {
        for path in ["/api/v1/search", "/cari"] {
            let res = app
                .http
                .get(app.url(path))
                .query(&[("q", q)])
                .send()
                .await
                .unwrap();
            let status = res.status();
            assert!(
                status == StatusCode::OK || status == StatusCode::UNPROCESSABLE_ENTITY,
                "{path} q={q:?}: {status} {}",
                res.text().await.unwrap()
            );
            if path.starts_with("/api") && status == StatusCode::UNPROCESSABLE_ENTITY {
                let body: Value = res.json().await.unwrap();
                let code = body["code"].as_str().unwrap();
                assert!(
                    ["empty-query", "query-too-long", "too-many-terms"].contains(&code),
                    "{q:?}: {body}"
                );
            }
        }
    }
    // Raw bytes that are not UTF-8, and bad filters.
    for raw in [
        "q=%ff%fe",
        "q=%",
        "q=a&kind=pistol",
        "q=a&show=../etc",
        "q=a&from=kemarin",
        "q=a&from=2026-02-30",
        "q=a&from=2026-03-02&to=2026-03-01",
        "q=a&limit=0",
        "q=a&limit=1000",
        "q=a&limit=-1",
        "q=a&q=",
        "q",
        "",
        "show=kaltim",
    ] {
        let res = app
            .http
            .get(app.url(&format!("/api/v1/search?{raw}")))
            .send()
            .await
            .unwrap();
        let status = res.status();
        assert!(
            status == StatusCode::OK || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{raw}: {status}"
        );
    }
    let res = app
        .http
        .get(app.url("/api/v1/search?q="))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "empty-query");
    assert!(
        body["message"].as_str().unwrap().contains("kata"),
        "Indonesian by default"
    );
    let res = app
        .http
        .get(app.url("/api/v1/search?q=%22%2A"))
        .header(header::ACCEPT_LANGUAGE, "en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "empty-query");
    assert!(body["message"].as_str().unwrap().contains("words"));
    let res = app
        .http
        .get(app.url("/api/v1/search?q=a&kind=pistol"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "invalid-kind");
    let res = app
        .http
        .get(app.url("/api/v1/search?q=a&from=2026-02-30"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "invalid-date");
}
on_both_backends!(hostile_input_is_never_a_server_error);

async fn the_page_links_into_the_transcript(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = seed(&app).await;
    let page = |q: &'static str, lang: &'static str| {
        let app = &app;
        async move {
            let res = app
                .http
                .get(app.url("/cari"))
                .query(&[("q", q)])
                .header(header::ACCEPT_LANGUAGE, lang)
                .send()
                .await
                .unwrap();
            (res.status(), res.text().await.unwrap())
        }
    };
    let (status, html) = page("\"pelayanan e-KTP\"", "id").await;
    assert_eq!(status, 200);
    let link = format!("href=\"/shows/kaltim/{}#t=62\"", a.one_slug);
    assert!(html.contains(&link), "{html}");
    assert!(html.contains("<mark>Pelayanan</mark>"), "{html}");
    assert!(html.contains("Siaran (1)"));
    assert!(html.contains("<html lang=\"id\""));
    let (_, html) = page("\"pelayanan e-KTP\"", "en").await;
    assert!(html.contains("Briefings (1)"), "{html}");
    assert!(html.contains(&link));
    // Documents link to their pages; what people typed is escaped.
    let (status, html) = page("<script>alert(1)</script>", "id").await;
    assert_eq!(status, 200);
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(html.contains("&lt;script&gt;"));
    let (_, html) = page("14 tahun 2008", "id").await;
    assert!(
        html.contains(&format!("href=\"/documents/{}\"", a.law)),
        "{html}"
    );
    // An empty search shows the form; a bad filter says why.
    let (status, html) = page("", "id").await;
    assert_eq!(status, 200);
    assert!(html.contains("name=\"q\""));
    let res = app
        .http
        .get(app.url("/cari?q=a&from=kemarin"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("YYYY-MM-DD"));
    // `/search` leads to `/cari`; every page's header has the search form.
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/search?q=ktp"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 301);
    assert_eq!(res.headers()[header::LOCATION], "/cari?q=ktp");
    let home = app
        .http
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("action=\"/cari\""), "{home}");
}
on_both_backends!(the_page_links_into_the_transcript);
