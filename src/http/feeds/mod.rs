//! `GET`/`HEAD /feeds/{slug}.xml` (a show's feed, from `cache`), `/feeds/opml.xml` (all
//! shows) and `/feeds/siaran.xsl` with `/feeds/siaran.css` (the stylesheet that makes a feed
//! readable in a browser, and that page's styles).
//!
//! A feed request is answered from memory: negotiating the encoding, comparing validators and
//! cloning prepared headers and bodies. No database round trip, compression or body allocation
//! happens here; when to rebuild is `cache`'s business. Feed requests take the same way
//! through the router and its layers (tracing, timeout, error localisation) as any other.

pub mod cache;
mod opml;
mod postgres;
mod websub;

use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
    routing::get,
};
use chrono::SubsecRound as _;
use sha2::{Digest as _, Sha256};

use self::cache::{CachedFeed, Encoding, FeedError};
use super::{
    assets,
    conditional::{ETag, modified_since, none_match, not_modified},
};
use crate::{app::AppState, http::error::AppError};

/// A show's feed: the route `app::build_router` gives a debug-level request span.
pub const SHOW_FEED_ROUTE: &str = "/feeds/{file}";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/feeds/opml.xml", get(opml))
        .route("/feeds/siaran.xsl", get(stylesheet))
        .route("/feeds/siaran.css", get(stylesheet_css))
        .route(SHOW_FEED_ROUTE, get(show_feed))
}

/// The slug read from the path as it came (a slug has nothing to decode): what the route matched
/// as `{file}`. The request's headers are borrowed, not copied (the `Path` and `HeaderMap`
/// extractors allocate). The request's span (`app::request_span`) names the path.
async fn show_feed(State(state): State<AppState>, request: Request) -> Result<Response, AppError> {
    let slug = request
        .uri()
        .path()
        .strip_prefix("/feeds/")
        .and_then(|file| file.strip_suffix(".xml"))
        .ok_or(AppError::not_found("show"))?;
    let feed = match state.feeds.get(slug).await {
        Ok(feed) => feed,
        // Boxed, as the cache's build is: the common answer carries no room for the rare one.
        Err(FeedError::NotFound) => return Box::pin(moved(&state, slug)).await,
        Err(FeedError::Db(e)) => return Err(e.into()),
        Err(FeedError::Other(e)) => return Err(AppError::from(e)),
    };
    if is_browser(request.headers()) {
        let page = super::pages::feed_page(&state, feed.show, request.uri(), request.headers());
        if let Some(page) = Box::pin(page).await {
            return Ok(page);
        }
    }
    Ok(respond(&feed, request.headers(), &state.policies.feed_view))
}

/// The answer to a feed request: negotiating the encoding, comparing validators and cloning
/// prepared headers and body handles; nothing computed or allocated beyond that. A browser's
/// 200, which it shows as a page through the stylesheet, also gets `view_policy` (a 304 leaves
/// the stored one in place).
fn respond(feed: &CachedFeed, headers: &HeaderMap, view_policy: &HeaderValue) -> Response {
    let variant = feed.variant(negotiate(headers.get(header::ACCEPT_ENCODING)));
    // `If-None-Match` decides alone when present (RFC 9110 §13.2.2).
    let unchanged = match headers.get(header::IF_NONE_MATCH) {
        Some(tags) => tags.to_str().is_ok_and(|tags| feed.matches(tags)),
        None => modified_since(headers, feed.last_modified),
    };
    let (status, prepared, body, page) = if unchanged {
        (
            StatusCode::NOT_MODIFIED,
            &variant.not_modified,
            Body::empty(),
            false,
        )
    } else if is_browser(headers) {
        (
            StatusCode::OK,
            &variant.ok_browser,
            Body::from(variant.body.clone()),
            true,
        )
    } else {
        (
            StatusCode::OK,
            &variant.ok,
            Body::from(variant.body.clone()),
            false,
        )
    };
    let mut res = Response::new(body);
    *res.status_mut() = status;
    // Content-Length is among them, so HEAD reports the length GET sends.
    *res.headers_mut() = prepared.clone();
    if page {
        res.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, view_policy.clone());
    }
    res
}

/// A slug that is no show's now: 301 to the feed of the show that had it, as Apple asks of a
/// moved feed, else 404.
async fn moved(state: &AppState, slug: &str) -> Result<Response, AppError> {
    let gone = AppError::not_found("show");
    let Ok(slug) = crate::domain::Slug::parse(slug) else {
        return Err(gone);
    };
    let show = match state.ctx.db.show_by_old_slug(&slug).await {
        Ok(show) => show,
        Err(crate::db::DbError::NotFound) => return Err(gone),
        Err(e) => return Err(e.into()),
    };
    let location = HeaderValue::from_str(&state.ctx.urls.feed(&show.slug))
        .map_err(|e| AppError::from(anyhow::Error::from(e)))?;
    let mut res = Response::new(Body::empty());
    *res.status_mut() = StatusCode::MOVED_PERMANENTLY;
    res.headers_mut().insert(header::LOCATION, location);
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    Ok(res)
}

/// The coding to send for an `Accept-Encoding` value (RFC 9110 §12.5.3): the acceptable one with
/// the highest weight, brotli before gzip on a tie; the document as is when the client asks for
/// none (no header, `identity`, or only codings with `q=0`).
fn negotiate(accept: Option<&HeaderValue>) -> Encoding {
    let Some(accept) = accept.and_then(|v| v.to_str().ok()) else {
        return Encoding::Identity;
    };
    let (mut br, mut gzip, mut identity, mut any) = (None, None, None, None);
    for item in accept.split(',') {
        let mut params = item.split(';');
        let coding = params.next().unwrap_or_default().trim();
        let mut q = Some(1.0_f32);
        for param in params {
            let param = param.trim();
            if let Some(value) = param
                .strip_prefix("q=")
                .or_else(|| param.strip_prefix("Q="))
            {
                q = value
                    .trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|q| (0.0..=1.0).contains(q));
            }
        }
        // A malformed weight makes the item unreadable; it is ignored.
        let Some(q) = q else { continue };
        let slot = if coding.eq_ignore_ascii_case("br") {
            &mut br
        } else if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            &mut gzip
        } else if coding.eq_ignore_ascii_case("identity") {
            &mut identity
        } else if coding == "*" {
            &mut any
        } else {
            continue;
        };
        *slot = Some(q);
    }
    let br = br.or(any).unwrap_or(0.0);
    let gzip = gzip.or(any).unwrap_or(0.0);
    // Unlisted, the document as is stays acceptable below every listed coding.
    let identity = identity.unwrap_or(0.0);
    let best = br.max(gzip);
    if best <= 0.0 || identity > best {
        Encoding::Identity
    } else if br >= gzip {
        Encoding::Brotli
    } else {
        Encoding::Gzip
    }
}

/// A browser opening the page: its `Accept` lists HTML, which no podcast app asks a feed for.
/// It gets the feed's page (`pages::feed_page`); should that fail, the same bytes as the apps,
/// as an XML type it applies the stylesheet to.
fn is_browser(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// Every show, for podcast apps to import; rendered per request (it is small and rarely asked
/// for), with validators.
#[tracing::instrument(skip_all)]
async fn opml(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    let shows = state.ctx.db.list_shows().await?;
    let last_modified = shows.iter().map(|s| s.updated_at).max();
    let xml = cache::opml(&shows, &state.ctx.urls);
    let etag = ETag::strong(&hex::encode(&Sha256::digest(xml.as_bytes())[..16]));
    let unchanged = match last_modified {
        Some(t) => not_modified(&headers, &etag, t),
        None => none_match(&headers, &etag),
    };
    let mut res = if unchanged {
        let mut res = Response::new(Body::empty());
        *res.status_mut() = StatusCode::NOT_MODIFIED;
        res
    } else {
        let mut res = Response::new(Body::from(xml));
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/x-opml; charset=utf-8"),
        );
        res
    };
    let h = res.headers_mut();
    h.insert(header::ETAG, etag.header_value());
    if let Some(t) = last_modified {
        h.insert(
            header::LAST_MODIFIED,
            super::conditional::http_date(t.trunc_subsecs(0)),
        );
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache::CACHE_CONTROL),
    );
    Ok(res)
}

/// The stylesheet feeds reference, and the styles of the page it makes (`feeds/`, built into
/// the binary): at fixed names, which the feeds and the XSL link by, so cached for an hour only.
#[tracing::instrument(skip_all)]
async fn stylesheet(headers: HeaderMap) -> Response {
    assets::FEED_XSL.answer(&headers, STYLESHEET_CACHE)
}

#[tracing::instrument(skip_all)]
async fn stylesheet_css(headers: HeaderMap) -> Response {
    assets::FEED_CSS.answer(&headers, STYLESHEET_CACHE)
}

const STYLESHEET_CACHE: &str = "public, max-age=3600";

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(accept: &str) -> Encoding {
        negotiate(Some(&HeaderValue::from_str(accept).unwrap()))
    }

    #[test]
    fn accept_encoding_is_negotiated() {
        assert_eq!(negotiate(None), Encoding::Identity);
        assert_eq!(pick(""), Encoding::Identity);
        assert_eq!(pick("gzip"), Encoding::Gzip);
        assert_eq!(pick("gzip, deflate, br"), Encoding::Brotli);
        assert_eq!(pick("br;q=0, gzip"), Encoding::Gzip);
        assert_eq!(pick("gzip;q=0, br;q=0"), Encoding::Identity);
        assert_eq!(pick("gzip;q=1.0, br;q=0.5"), Encoding::Gzip);
        assert_eq!(pick("*"), Encoding::Brotli);
        assert_eq!(pick("*;q=0.5, br;q=0"), Encoding::Gzip);
        assert_eq!(pick("identity"), Encoding::Identity);
        assert_eq!(pick("identity, gzip;q=0.5"), Encoding::Identity);
        assert_eq!(pick("GZIP; Q=0.8"), Encoding::Gzip);
        assert_eq!(pick("x-gzip"), Encoding::Gzip);
        assert_eq!(pick("gzip;q=2, br;q=abc"), Encoding::Identity);
        assert_eq!(pick("deflate, zstd"), Encoding::Identity);
    }
}
