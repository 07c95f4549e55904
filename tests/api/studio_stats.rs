//! The studio's statistics pages (issue 23): a show's and an episode's downloads over a period,
//! as a server-drawn chart with one bar per day, by app and by country, and the CSV through the
//! session, which is the API's CSV. Downloads come from the real delivery path (one) and from
//! rows written on earlier days (the report reads the `downloads` table only).

use chrono::{Days, NaiveDate, Utc};
use reqwest::{StatusCode, header};
use serde_json::json;
use siaran::db::AnyDb;

use crate::{
    analytics::{APPLE, fetch, published_episode},
    helpers::{Backend, TestApp},
    on_both_backends,
    studio_accounts::{Browser, create_user},
};

/// Writes counted downloads of `episode` (its media and show) on `(day, app, country)` each.
pub(crate) async fn record_downloads(
    app: &TestApp,
    episode: &str,
    rows: &[(NaiveDate, Option<&str>, Option<&str>)],
) {
    let db = AnyDb::connect(&app.db_url()).await.unwrap();
    let (media, show): (String, String) =
        sqlx::query_as("SELECT media_id, show_id FROM episodes WHERE id = $1")
            .bind(episode)
            .fetch_one(db.pool())
            .await
            .unwrap();
    for (day, client, country) in rows {
        sqlx::query(
            "INSERT INTO downloads (id, media_id, episode_id, show_id, day, app, country, \
             counted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(&media)
        .bind(episode)
        .bind(&show)
        .bind(day.to_string())
        .bind(*client)
        .bind(*country)
        .bind(Utc::now().timestamp_millis())
        .execute(db.pool())
        .await
        .unwrap();
    }
}

fn bars(html: &str) -> usize {
    html.matches("<rect class=\"bar\"").count()
}

fn total(html: &str) -> &str {
    let start = html.find("<span class=\"figure\">").expect("a total") + 21;
    &html[start..start + html[start..].find('<').unwrap()]
}

async fn statistics_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (episode, url) = published_episode(&app).await;
    // Titles are hostile.
    let hostile = "<script>alert('x')</script> Pemprov & \"Kaltim\"";
    let res = app
        .http
        .patch(app.url("/api/v1/shows/pemprov"))
        .bearer_auth(&app.admin_token)
        .json(&json!({"title": hostile}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // One download today through the delivery path, three on earlier days.
    assert_eq!(fetch(&app, &url, APPLE, None).await, 200);
    app.state.analytics.flush().await;
    let today = siaran::analytics::window(Utc::now());
    let ago = |n| today.checked_sub_days(Days::new(n)).unwrap();
    record_downloads(
        &app,
        &episode,
        &[
            (ago(3), Some("AntennaPod"), Some("NL")),
            (ago(3), Some("AntennaPod"), Some("NL")),
            (ago(10), None, Some("ID")),
        ],
    )
    .await;

    create_user(&app, "editor@kaltimprov.go.id", "Eka", "editor");
    let editor = Browser::new(&app);
    editor.login_ok("editor@kaltimprov.go.id").await;

    // The show's page: the last 30 days, a bar for each, the total, the breakdowns named.
    let (status, html) = editor.page("/studio/shows/pemprov/stats").await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(total(&html), "4", "{html}");
    assert_eq!(bars(&html), 30);
    assert!(html.contains(&format!("data-day=\"{}\"", ago(29))));
    assert!(html.contains(&format!("data-day=\"{today}\"")));
    assert!(html.contains("role=\"img\"") && html.contains("<title id=\"chart-title\">"));
    for name in [
        "Apple Podcasts",
        "AntennaPod",
        "Aplikasi lain atau tidak dikenal",
    ] {
        assert!(html.contains(name), "{name}");
    }
    for name in ["Belanda", "Indonesia", "Tidak diketahui"] {
        assert!(
            html.contains(&format!("<th scope=\"row\">{name}</th>")),
            "{name}"
        );
    }
    assert!(!html.contains("<script>alert"), "escaped");
    assert!(html.contains("&lt;script&gt;alert"));
    let csv_link = format!(
        "/studio/shows/pemprov/stats?from={}&amp;to={today}&amp;format=csv",
        ago(29)
    );
    assert!(html.contains(&csv_link), "{html}");

    // In English, a chosen period: one bar a day, only what falls in it.
    let res = editor
        .http
        .get(editor.url(&format!(
            "/studio/shows/pemprov/stats?from={}&to={}",
            ago(5),
            ago(2)
        )))
        .header(header::ACCEPT_LANGUAGE, "en")
        .send()
        .await
        .unwrap();
    let html = res.text().await.unwrap();
    assert_eq!(total(&html), "2", "{html}");
    assert_eq!(bars(&html), 4);
    assert!(html.contains("<th scope=\"row\">Netherlands</th>"));
    assert!(!html.contains("<th scope=\"row\">Indonesia</th>"));

    // A period the report refuses: the form again, saying why.
    let (status, html) = editor
        .page("/studio/shows/pemprov/stats?from=2026-02-01&to=2026-01-01")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("jatuh setelah"), "{html}");
    assert!(html.contains("value=\"2026-02-01\""));
    assert_eq!(bars(&html), 0);

    // The episode's page, and the links to both.
    let (status, html) = editor
        .page(&format!("/studio/episodes/{episode}/stats"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(total(&html), "4");
    let (_, dashboard) = editor.page("/studio").await;
    assert!(dashboard.contains("href=\"/studio/shows/pemprov/stats\""));
    let (_, edit) = editor.page(&format!("/studio/episodes/{episode}")).await;
    assert!(edit.contains(&format!("href=\"/studio/episodes/{episode}/stats\"")));

    // The CSV through the session is the API's, byte for byte.
    let period = format!("?from={}&to={today}&format=csv", ago(12));
    for (page, api) in [
        (
            "/studio/shows/pemprov/stats".to_owned(),
            "/api/v1/shows/pemprov/stats".to_owned(),
        ),
        (
            format!("/studio/episodes/{episode}/stats"),
            format!("/api/v1/episodes/{episode}/stats"),
        ),
    ] {
        let res = editor.get(&format!("{page}{period}")).await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "text/csv; charset=utf-8"
        );
        assert!(
            res.headers()[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        let studio = res.text().await.unwrap();
        let api = app
            .http
            .get(app.url(&format!("{api}{period}")))
            .bearer_auth(&app.editor_token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(studio, api);
        assert!(
            studio.contains(&format!("total,{}..{today},4", ago(12))),
            "{studio}"
        );
        assert!(studio.contains("country,NL,2") && studio.contains("app,unknown,1"));
    }
}
on_both_backends!(statistics_pages);
