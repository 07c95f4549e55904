//! `/metrics` (`http::metrics`): exposed only when configured (a token on the main address, or a
//! separate address), in Prometheus' text format, with the counters moving by what the test did:
//! requests by route template, method and status, bytes served and received, feed builds, the
//! store's operations, background jobs by state, uploads receiving.

use std::collections::HashMap;

use base64::Engine as _;
use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use siaran::config::MetricsToken;

use crate::{
    helpers::{Backend, TestApp, sample_bytes},
    on_both_backends,
};

const TOKEN: &str = "metrics-token-0123456789abcdef";

/// One sample: its metric name and labels, and its value.
type Samples = HashMap<(String, Vec<(String, String)>), f64>;

/// Parses the text format strictly enough to catch a malformed answer: every line a `# HELP`,
/// a `# TYPE` with a known type, or `name{label="value",...} value`, names and label names
/// valid, values numbers; a histogram's buckets cumulative and ending at `+Inf` = its count.
fn parse(text: &str) -> Samples {
    let sample = regex::Regex::new(
        r#"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\})? (\S+)$"#,
    )
    .unwrap();
    let label = regex::Regex::new(r#"([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)""#).unwrap();
    let mut samples = Samples::new();
    let mut types = HashMap::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("a TYPE line names a type");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            types.insert(name.to_owned(), kind.to_owned());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let caps = sample
            .captures(line)
            .unwrap_or_else(|| panic!("not a sample line: {line:?}"));
        let mut labels: Vec<(String, String)> = caps
            .get(2)
            .map(|l| {
                label
                    .captures_iter(l.as_str())
                    .map(|c| (c[1].to_owned(), c[2].to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        labels.sort();
        let value: f64 = match &caps[3] {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("not a number: {line:?}")),
        };
        let name = caps[1].to_owned();
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .filter(|b| types.get(*b).is_some_and(|t| t == "histogram"))
            .unwrap_or(&name);
        assert!(types.contains_key(base), "{name} has no TYPE line");
        assert!(
            samples.insert((name, labels), value).is_none(),
            "a sample twice: {line}"
        );
    }
    // Each histogram series: buckets cumulative, `+Inf` equal to `_count`.
    for ((name, labels), count) in samples.iter().filter(|((n, _), _)| n.ends_with("_count")) {
        let base = name.strip_suffix("_count").unwrap();
        if types.get(base).is_none_or(|t| t != "histogram") {
            continue;
        }
        let mut buckets: Vec<(f64, f64)> = samples
            .iter()
            .filter(|((n, l), _)| {
                n == &format!("{base}_bucket")
                    && l.iter().filter(|(k, _)| k != "le").eq(labels.iter())
            })
            .map(|((_, l), v)| {
                let le = &l.iter().find(|(k, _)| k == "le").expect("le").1;
                let le = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap()
                };
                (le, *v)
            })
            .collect();
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(
            buckets.windows(2).all(|w| w[0].1 <= w[1].1),
            "{base}: {buckets:?}"
        );
        assert_eq!(
            buckets.last().map(|b| (b.0, b.1)),
            Some((f64::INFINITY, *count)),
            "{base}"
        );
    }
    samples
}

fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut l: Vec<_> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    l.sort();
    l
}

/// A sample's value, 0 when absent (a series appears on its first use).
fn value(samples: &Samples, name: &str, pairs: &[(&str, &str)]) -> f64 {
    samples
        .get(&(name.to_owned(), labels(pairs)))
        .copied()
        .unwrap_or(0.0)
}

/// The sum of a metric's samples over all label values.
fn total(samples: &Samples, name: &str) -> f64 {
    samples
        .iter()
        .filter(|((n, _), _)| n == name)
        .map(|(_, v)| v)
        .sum()
}

async fn scrape(app: &TestApp) -> (String, Samples) {
    let res = app
        .http
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
    );
    let text = res.text().await.unwrap();
    let samples = parse(&text);
    (text, samples)
}

async fn with_token(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |s| {
        s.metrics_token = Some(MetricsToken::parse(TOKEN).unwrap());
    })
    .await
}

on_both_backends!(metrics_count_what_was_done);
async fn metrics_count_what_was_done(backend: Backend) {
    let app = with_token(backend).await;

    // Without the token, or with another, nothing: 401 in the API's error shape.
    for auth in [
        None,
        Some("Bearer wrong-token-0123456789abcdef"),
        Some(TOKEN),
    ] {
        let mut req = app.http.get(app.url("/metrics"));
        if let Some(a) = auth {
            req = req.header(header::AUTHORIZATION, a);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(res.headers()[header::WWW_AUTHENTICATE], "Bearer");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "unauthorized", "{body}");
    }

    let slug = "metrik";
    app.create_show(slug).await;
    let (_, before) = scrape(&app).await;

    // An upload, an episode published, its feed read whole and then answered 304, a range of
    // its media, and an API error.
    let recording = sample_bytes("briefing-demo.mp3");
    let media = app.upload_ok("briefing-demo.mp3").await;
    let res = app
        .post_json(
            &format!("/api/v1/shows/{slug}/episodes"),
            Some(&app.editor_token),
            &json!({"title": "Rapat", "description": "Penjelasan", "media_id": media["id"]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let episode: Value = res.json().await.unwrap();
    let res = app
        .http
        .post(app.url(&format!(
            "/api/v1/episodes/{}/publish",
            episode["id"].as_str().unwrap()
        )))
        .bearer_auth(&app.editor_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let res = app
        .http
        .get(app.url(&format!("/feeds/{slug}.xml")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let etag = res.headers()[header::ETAG].clone();
    let feed = res.text().await.unwrap();
    let res = app
        .http
        .get(app.url(&format!("/feeds/{slug}.xml")))
        .header(header::IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);

    let enclosure = regex::Regex::new(r#"<enclosure url="([^"]+)""#)
        .unwrap()
        .captures(&feed)
        .expect("an enclosure")[1]
        .to_owned();
    let res = app
        .http
        .get(&enclosure)
        .header(header::RANGE, "bytes=100-1099")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206);
    let range = res.bytes().await.unwrap();
    assert_eq!(range.len(), 1000);

    let res = app
        .http
        .get(app.url("/api/v1/shows/tidak-ada"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    let (text, after) = scrape(&app).await;
    let moved = |name: &str, pairs: &[(&str, &str)]| {
        value(&after, name, pairs) - value(&before, name, pairs)
    };
    let requests = "siaran_http_requests_total";
    let answered = |route, method, status| {
        moved(
            requests,
            &[("route", route), ("method", method), ("status", status)],
        )
    };
    assert_eq!(answered("/feeds/{file}", "GET", "200"), 1.0, "{text}");
    assert_eq!(answered("/feeds/{file}", "GET", "304"), 1.0);
    assert_eq!(answered("/media/{file}", "GET", "206"), 1.0);
    assert_eq!(answered("/api/v1/media", "POST", "201"), 1.0);
    assert_eq!(
        answered("/api/v1/shows/{slug}/episodes", "POST", "201"),
        1.0
    );
    assert_eq!(answered("/api/v1/shows/{slug}", "GET", "404"), 1.0);
    // Each request's latency is in its histogram.
    let feed_304 = [
        ("route", "/feeds/{file}"),
        ("method", "GET"),
        ("status", "304"),
    ];
    assert_eq!(
        moved("siaran_http_request_duration_seconds_count", &feed_304),
        1.0
    );
    assert!(moved("siaran_http_request_duration_seconds_sum", &feed_304) > 0.0);
    // Labels are route templates, never the paths asked for.
    for (_, l) in after.keys() {
        for (k, v) in l {
            assert!(
                !v.contains(slug) && !v.contains("tidak-ada") && !v.contains(".xml"),
                "{k}={v}"
            );
        }
    }

    // Bytes served, as the bodies streamed: the whole feed (the 304 has none) and the range;
    // bytes received: the recording.
    let sent = |route| moved("siaran_http_response_body_bytes_total", &[("route", route)]);
    assert_eq!(sent("/feeds/{file}"), feed.len() as f64);
    assert_eq!(sent("/media/{file}"), range.len() as f64);
    assert_eq!(
        moved(
            "siaran_http_request_body_bytes_total",
            &[("route", "/api/v1/media")]
        ),
        recording.len() as f64
    );

    // The feed was built once for the two requests, and its build timed.
    let builds = moved("siaran_feed_builds_total", &[]);
    assert!(builds >= 1.0, "{builds}");
    assert_eq!(
        moved("siaran_feed_build_duration_seconds_count", &[]),
        builds
    );
    assert!(
        moved(
            "siaran_db_query_duration_seconds_count",
            &[("query", "feed")]
        ) >= 1.0
    );

    // The store: the recording written, the range read.
    let store_ops = |op| {
        moved(
            "siaran_store_operation_duration_seconds_count",
            &[("operation", op)],
        )
    };
    assert!(store_ops("put") + store_ops("put_file") >= 1.0, "{text}");
    assert!(store_ops("get") >= 1.0);
    assert_eq!(total(&after, "siaran_store_errors_total"), 0.0);

    // The recording's analysis is queued (no worker runs in tests); every state is reported.
    let jobs = |state| {
        value(
            &after,
            "siaran_jobs",
            &[("kind", "quality"), ("state", state)],
        )
    };
    assert_eq!(jobs("queued"), 1.0, "{text}");
    assert_eq!(jobs("running") + jobs("done") + jobs("failed"), 0.0);
    assert!(value(&after, "siaran_db_connections", &[("state", "open")]) >= 1.0);
    assert_eq!(value(&after, "siaran_analytics_dropped_total", &[]), 0.0);
    assert!(text.contains("\nsiaran_uploads_in_progress 0\n"), "{text}");
    assert!(text.contains("# HELP siaran_http_requests_total "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_not_exposed_unless_configured() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    let res = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let res = app
        .http
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert!(app.state.metrics.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_on_a_separate_address_and_not_on_the_main_one() {
    let app = TestApp::spawn_with(Backend::SqliteFs, |s| {
        s.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    // A second instance in the same process reports its own requests only.
    let peer = app
        .spawn_peer_with(|s| s.metrics_listen = Some("127.0.0.1:0".parse().unwrap()))
        .await;
    let separate = |app: &TestApp| {
        format!(
            "http://{}/metrics",
            app.state.metrics.as_ref().unwrap().listen.unwrap()
        )
    };
    assert_eq!(
        app.http
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    for _ in 0..3 {
        let res = app.http.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(res.status(), 200);
    }
    let res = peer.http.get(peer.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);

    let health = [("route", "/healthz"), ("method", "GET"), ("status", "200")];
    for (instance, expected) in [(&app, 3.0), (&peer, 1.0)] {
        let res = instance.http.get(separate(instance)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let samples = parse(&res.text().await.unwrap());
        assert_eq!(
            value(&samples, "siaran_http_requests_total", &health),
            expected
        );
        // The main address's 404 for /metrics is counted under the fallback's label.
        if expected == 3.0 {
            assert_eq!(
                value(
                    &samples,
                    "siaran_http_requests_total",
                    &[("route", "unmatched"), ("method", "GET"), ("status", "404")]
                ),
                1.0
            );
        }
    }
    let other = app
        .http
        .get(separate(&app).replace("/metrics", "/other"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
}

/// `siaran_uploads_in_progress` is 1 while a tus PATCH is receiving its body, 0 after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_receiving_is_in_progress() {
    let app = with_token(Backend::SqliteFs).await;
    let recording = sample_bytes("briefing-demo.mp3");
    let res = app
        .http
        .post(app.url("/api/v1/uploads/"))
        .bearer_auth(&app.editor_token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", recording.len().to_string())
        .header(
            "Upload-Metadata",
            format!(
                "filename {}",
                base64::engine::general_purpose::STANDARD.encode("briefing-demo.mp3")
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let location = res.headers()[header::LOCATION].to_str().unwrap().to_owned();

    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let body = reqwest::Body::wrap_stream(tokio_stream_from(rx));
    let patch = tokio::spawn({
        let http = app.http.clone();
        let token = app.editor_token.clone();
        async move {
            http.patch(location)
                .bearer_auth(token)
                .header("Tus-Resumable", "1.0.0")
                .header("Upload-Offset", "0")
                .header(header::CONTENT_TYPE, "application/offset+octet-stream")
                .header(header::CONTENT_LENGTH, recording.len().to_string())
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let half = sample_bytes("briefing-demo.mp3");
    let (first, rest) = half.split_at(half.len() / 2);
    tx.send(Ok(first.to_vec())).await.unwrap();
    let mut receiving = 0.0;
    for _ in 0..100 {
        let (_, samples) = scrape(&app).await;
        receiving = value(&samples, "siaran_uploads_in_progress", &[]);
        if receiving == 1.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(receiving, 1.0);
    tx.send(Ok(rest.to_vec())).await.unwrap();
    drop(tx);
    assert_eq!(patch.await.unwrap(), 204);
    let (_, samples) = scrape(&app).await;
    assert_eq!(value(&samples, "siaran_uploads_in_progress", &[]), 0.0);
    assert_eq!(
        value(
            &samples,
            "siaran_http_request_body_bytes_total",
            &[("route", "/api/v1/media")]
        ),
        0.0
    );
    assert_eq!(
        value(
            &samples,
            "siaran_http_request_body_bytes_total",
            &[("route", "/api/v1/uploads/{id}")]
        ),
        half.len() as f64
    );

    // A plain upload whose client gives up half-way: in progress, then not.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let body = reqwest::Body::wrap_stream(tokio_stream_from(rx));
    let post = tokio::spawn(
        app.http
            .post(app.url("/api/v1/media?filename=briefing-demo.mp3"))
            .bearer_auth(&app.editor_token)
            .header(header::CONTENT_LENGTH, half.len().to_string())
            .body(body)
            .send(),
    );
    tx.send(Ok(first.to_vec())).await.unwrap();
    let in_progress = async |expected: f64| {
        let mut receiving = -1.0;
        for _ in 0..100 {
            let (_, samples) = scrape(&app).await;
            receiving = value(&samples, "siaran_uploads_in_progress", &[]);
            if receiving == expected {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        receiving
    };
    assert_eq!(in_progress(1.0).await, 1.0);
    tx.send(Err(std::io::Error::other("the client gives up")))
        .await
        .unwrap();
    assert!(post.await.unwrap().is_err());
    assert_eq!(in_progress(0.0).await, 0.0);
}

fn tokio_stream_from<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> + Send + 'static {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// The binary reads both settings from the environment, serves the separate address beside the
/// main one, and stops it with the main one; a token too short stops start-up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_exposes_metrics_from_the_environment_and_stops_them_with_it() {
    use crate::startup::{Server, free_port, siaran};

    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("siaran.db").display());
    let files = format!("file://{}", dir.path().join("objects").display());
    let out = siaran()
        .arg("serve")
        .env("SIARAN_DATABASE_URL", &db_url)
        .env("SIARAN_STORAGE_URL", &files)
        .env("SIARAN_METRICS_TOKEN", "short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("SIARAN_METRICS_TOKEN"),
        "{out:?}"
    );

    let port = free_port();
    let mut cmd = siaran();
    cmd.env("SIARAN_DATABASE_URL", &db_url)
        .env("SIARAN_STORAGE_URL", &files)
        .env("SIARAN_METRICS_LISTEN", format!("127.0.0.1:{port}"))
        .env("SIARAN_METRICS_TOKEN", TOKEN);
    let server = Server::start(cmd).await;
    let http = reqwest::Client::new();
    let separate = format!("http://127.0.0.1:{port}/metrics");
    let res = http.get(&separate).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let samples = parse(&res.text().await.unwrap());
    // Start-up's own wait for /healthz is counted.
    assert!(
        value(
            &samples,
            "siaran_http_requests_total",
            &[("route", "/healthz"), ("method", "GET"), ("status", "200")]
        ) >= 1.0
    );
    // Each database call timed by its name (`db::timing`, the binary's tracing layer): the
    // scrape's own count of the jobs is among them.
    assert!(
        value(
            &samples,
            "siaran_db_call_duration_seconds_count",
            &[("call", "job_counts")]
        ) >= 1.0,
        "no database call timed"
    );
    let main = format!("{}/metrics", server.base);
    assert_eq!(http.get(&main).send().await.unwrap().status(), 401);
    let res = http
        .get(&main)
        .header(header::AUTHORIZATION, format!("bearer {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    parse(&res.text().await.unwrap());

    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err(),
        "the metrics address still answers"
    );
}
