//! The reference that issue 4 names beside nginx: a bare axum handler returning cached bytes.
//! `scripts/bench-feed` serves the same feed with it, in the same run, so the table shows what
//! Siaran's own stack costs over the least a Rust server can do: here there is no lookup of the
//! show, no validators, no `Vary`, no middleware — the bytes, their `ETag`, and a 304 when
//! `If-None-Match` is that `ETag`.
//!
//! A binary of its own rather than a `siaran-bench` command, so that nothing else runs in its
//! process (no log subscriber, no argument parser): the least is what it is there to measure.
//!
//! Usage: `bare-feed ADDR FEED.xml FEED.xml.gz ETAG` (the feed at `/feeds/bench.xml`).

use axum::{
    Router,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use bytes::Bytes;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, addr, xml, gzip, etag] = &args[..] else {
        eprintln!("usage: bare-feed ADDR FEED.xml FEED.xml.gz ETAG");
        std::process::exit(2);
    };
    let xml = Bytes::from(std::fs::read(xml)?);
    let gzip = Bytes::from(std::fs::read(gzip)?);
    let etag = HeaderValue::from_str(etag).map_err(std::io::Error::other)?;
    let app = Router::new().route(
        "/feeds/bench.xml",
        get(move |headers: HeaderMap| async move { respond(&headers, &xml, &gzip, &etag) }),
    );
    let listener = tokio::net::TcpListener::bind(addr.as_str()).await?;
    axum::serve(listener, app).await
}

fn respond(headers: &HeaderMap, xml: &Bytes, gzip: &Bytes, etag: &HeaderValue) -> Response {
    if headers.get(header::IF_NONE_MATCH) == Some(etag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag.clone())]).into_response();
    }
    let gzipped = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("gzip"));
    let content_type = (
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/rss+xml; charset=utf-8"),
    );
    if gzipped {
        let encoding = (header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        (
            [content_type, (header::ETAG, etag.clone()), encoding],
            gzip.clone(),
        )
            .into_response()
    } else {
        ([content_type, (header::ETAG, etag.clone())], xml.clone()).into_response()
    }
}
