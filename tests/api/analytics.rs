//! Download counting through the real delivery path: which requests become downloads (IAB v2),
//! and the reports that add them up, as JSON and CSV.

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp},
    on_both_backends,
};

pub(crate) const APPLE: &str = "Podcasts/1410.53 CFNetwork/1111 Darwin/19.0.0 (x86_64)";
const ANTENNAPOD: &str = "AntennaPod/3.4.0";
const BOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

/// A show with one published episode of the demo briefing (1,001,889 bytes, 166.9 s: a
/// download needs its ID3 tag plus about 360 KB).
pub(crate) async fn published_episode(app: &TestApp) -> (String, String) {
    let media = app.upload_ok("briefing-demo.mp3").await;
    publish(app, media).await
}

/// 130 s of 48 kHz stereo PCM (25 MB): a download needs a minute of it, 11.5 MB, more than
/// any socket buffer on either side can hold.
fn long_wav() -> Vec<u8> {
    let data = 130 * 192_000u32;
    let mut wav = b"RIFF".to_vec();
    wav.extend((36 + data).to_le_bytes());
    wav.extend(b"WAVEfmt ");
    wav.extend(16u32.to_le_bytes());
    wav.extend([1, 0, 2, 0]); // PCM, stereo
    wav.extend(48_000u32.to_le_bytes());
    wav.extend(192_000u32.to_le_bytes());
    wav.extend([4, 0, 16, 0]);
    wav.extend(b"data");
    wav.extend(data.to_le_bytes());
    wav.resize(44 + data as usize, 0);
    wav
}

async fn publish(app: &TestApp, media: Value) -> (String, String) {
    app.create_show("pemprov").await;
    let res = app
        .post_json(
            "/api/v1/shows/pemprov/episodes",
            Some(&app.editor_token),
            &json!({
                "title": "Keterbukaan informasi",
                "media_id": media["id"],
                "publish_at": (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339(),
            }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let episode: Value = res.json().await.unwrap();
    (
        episode["id"].as_str().unwrap().to_owned(),
        media["url"].as_str().unwrap().to_owned(),
    )
}

pub(crate) async fn fetch(
    app: &TestApp,
    url: &str,
    agent: &str,
    range: Option<&str>,
) -> StatusCode {
    let mut req = app.http.get(url).header(header::USER_AGENT, agent);
    if let Some(r) = range {
        req = req.header(header::RANGE, r);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    // Read the whole body: a download is counted by the bytes the client really took.
    res.bytes().await.unwrap();
    status
}

async fn stats(app: &TestApp, path: &str) -> Value {
    app.state.analytics.flush().await;
    let res = app
        .http
        .get(app.url(path))
        .bearer_auth(&app.editor_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn downloads_follow_the_iab_rules(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (episode, url) = published_episode(&app).await;

    // Apple's probe, then the whole file: one download.
    assert_eq!(fetch(&app, &url, APPLE, Some("bytes=0-1")).await, 206);
    assert_eq!(fetch(&app, &url, APPLE, None).await, 200);
    // The same listener again the same day: still one.
    assert_eq!(fetch(&app, &url, APPLE, None).await, 200);
    // A HEAD, a bot, and a listener who only ever took 100 KB: none.
    let res = app
        .http
        .head(&url)
        .header(header::USER_AGENT, "Overcast/3.0")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(fetch(&app, &url, BOT, None).await, 200);
    assert_eq!(
        fetch(&app, &url, "Overcast/3.0", Some("bytes=0-99999")).await,
        206
    );
    // A player that seeks in 200 KB ranges: counted once it has the tag and a minute.
    for start in [0u64, 200_000, 400_000, 600_000] {
        let range = format!("bytes={start}-{}", start + 199_999);
        assert_eq!(fetch(&app, &url, ANTENNAPOD, Some(&range)).await, 206);
    }
    let report = stats(&app, &format!("/api/v1/episodes/{episode}/stats")).await;
    assert_eq!(report["total"], 2, "{report}");
    let today = siaran::analytics::window(chrono::Utc::now()).to_string();
    assert_eq!(report["by_day"], json!([{"day": today, "downloads": 2}]));
    let mut apps: Vec<String> = report["by_app"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| format!("{}={}", a["app"].as_str().unwrap(), a["downloads"]))
        .collect();
    apps.sort();
    assert_eq!(apps, ["AntennaPod=1", "Apple Podcasts=1"]);
    assert_eq!(
        report["by_country"],
        json!([{"country": null, "downloads": 2}])
    );
    assert!(report["method"].as_str().unwrap().contains("IAB"));

    // The show's report adds up its episodes; the CSV has the same numbers.
    let show = stats(&app, "/api/v1/shows/pemprov/stats").await;
    assert_eq!(show["total"], 2);
    let res = app
        .http
        .get(app.url("/api/v1/shows/pemprov/stats?format=csv"))
        .bearer_auth(&app.editor_token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "text/csv; charset=utf-8"
    );
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "breakdown,key,downloads");
    assert!(lines.contains(&format!("day,{today},2").as_str()), "{csv}");
    assert!(lines.contains(&"app,AntennaPod,1"), "{csv}");

    // Nothing identifies a listener: no address is stored anywhere.
    assert_eq!(app.count_rows("downloads").await, 2);
    assert_eq!(app.count_rows("analytics_salts").await, 1);
    assert_eq!(
        app.count_rows("listens WHERE listener LIKE '%127.0.0.1%'")
            .await,
        0
    );
}
on_both_backends!(downloads_follow_the_iab_rules);

async fn a_listener_who_hangs_up_is_not_a_download(backend: Backend) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app = TestApp::spawn(backend).await;
    let res = app.upload("long.wav", long_wav()).await;
    assert_eq!(res.status(), 201);
    let (episode, url) = publish(&app, res.json().await.unwrap()).await;
    // A phone on a slow link: a small receive window. It asks for the whole file, reads 16 KB
    // and hangs up; the server cannot have written a minute of audio into the sockets.
    let target = reqwest::Url::parse(&url).unwrap();
    let addr = format!("{}:{}", target.host_str().unwrap(), target.port().unwrap());
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(8 * 1024).unwrap();
    let mut conn = socket.connect(addr.parse().unwrap()).await.unwrap();
    conn.write_all(
        format!(
            "GET {} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: {ANTENNAPOD}\r\n\r\n",
            target.path()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut head = vec![0u8; 16 * 1024];
    conn.read_exact(&mut head).await.unwrap();
    assert!(head.starts_with(b"HTTP/1.1 200"));
    drop(conn);
    // The server notices the hang-up when its next write fails.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let report = stats(&app, &format!("/api/v1/episodes/{episode}/stats")).await;
    assert_eq!(report["total"], 0, "{report}");

    // The same listener staying to the end is a download.
    assert_eq!(fetch(&app, &url, ANTENNAPOD, None).await, 200);
    let report = stats(&app, &format!("/api/v1/episodes/{episode}/stats")).await;
    assert_eq!(report["total"], 1, "{report}");
}
on_both_backends!(a_listener_who_hangs_up_is_not_a_download);

/// Redirect and CDN delivery never see the bytes: the ranges asked for are counted. A probe, a
/// whole-file request (a download) and a 100 KB range (not yet one) give one download.
async fn redirects_count_what_is_asked_for(app: &TestApp) {
    let (episode, url) = published_episode(app).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (agent, range) in [
        (APPLE, Some("bytes=0-1")),
        (APPLE, None),
        (ANTENNAPOD, Some("bytes=0-99999")),
    ] {
        let mut req = client.get(&url).header(header::USER_AGENT, agent);
        if let Some(r) = range {
            req = req.header(header::RANGE, r);
        }
        assert_eq!(req.send().await.unwrap().status(), StatusCode::FOUND);
    }
    let report = stats(app, &format!("/api/v1/episodes/{episode}/stats")).await;
    assert_eq!(report["total"], 1, "{report}");
    assert_eq!(report["by_app"][0]["app"], "Apple Podcasts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_delivery_counts_on_postgres_s3() {
    let app = TestApp::spawn_with(Backend::PostgresS3, |s| {
        s.delivery = siaran::config::Delivery::Redirect;
    })
    .await;
    redirects_count_what_is_asked_for(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cdn_delivery_counts() {
    let app = TestApp::spawn_with(Backend::SqliteFs, |s| {
        s.delivery =
            siaran::config::Delivery::parse("cdn", Some("https://cdn.example.go.id/")).unwrap();
    })
    .await;
    redirects_count_what_is_asked_for(&app).await;
}

/// With a GeoIP database, downloads are broken down by country.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_by_country_with_a_geoip_database() {
    let dir = tempfile::tempdir().unwrap();
    let mmdb = dir.path().join("country.mmdb");
    // A MaxMind DB that puts loopback in Indonesia, written by MaxMind's format library.
    let script = format!(
        "from mmdb_writer import MMDBWriter\n\
         from netaddr import IPSet\n\
         w = MMDBWriter(ip_version=6, database_type='GeoLite2-Country', ipv4_compatible=True)\n\
         w.insert_network(IPSet(['127.0.0.0/8']), {{'country': {{'iso_code': 'ID'}}}})\n\
         w.to_db_file('{}')\n",
        mmdb.display()
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mmdb-writer (installed by scripts/test): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let app = TestApp::spawn_with(Backend::SqliteFs, |s| s.geoip_db = Some(mmdb.clone())).await;
    let (episode, url) = published_episode(&app).await;
    assert_eq!(fetch(&app, &url, ANTENNAPOD, None).await, 200);
    let report = stats(&app, &format!("/api/v1/episodes/{episode}/stats")).await;
    assert_eq!(
        report["by_country"],
        json!([{"country": "ID", "downloads": 1}])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_need_a_token_and_valid_dates() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    let (episode, _) = published_episode(&app).await;
    let path = format!("/api/v1/episodes/{episode}/stats");
    let res = app.http.get(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 401);
    for (query, code) in [
        ("?from=kemarin", "invalid-date"),
        ("?from=2026-02-01&to=2026-01-01", "invalid-date-range"),
        ("?from=2020-01-01&to=2026-01-01", "invalid-date-range"),
        ("?format=xlsx", "invalid-format"),
    ] {
        let res = app
            .http
            .get(app.url(&format!("{path}{query}")))
            .bearer_auth(&app.editor_token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{query}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], code, "{query}");
    }
}
