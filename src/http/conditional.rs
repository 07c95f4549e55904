//! Validators and conditional requests (RFC 9110 §13): strong ETags, `Last-Modified`,
//! `If-None-Match`, `If-Modified-Since` and `If-Range`. The one implementation of each rule:
//! media, document files, transcripts, chapters and feeds answer 304 (and media and document
//! files honour `If-Range`) through these functions.

use axum::http::{HeaderMap, HeaderValue, header};
use chrono::{DateTime, Utc};

/// A strong entity tag, quoted as it travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ETag(String);

impl ETag {
    /// `opaque` must be visible ASCII without quotes (a hex digest is).
    pub fn strong(opaque: &str) -> Self {
        ETag(format!("\"{opaque}\""))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn header_value(&self) -> HeaderValue {
        HeaderValue::from_str(&self.0).unwrap_or_else(|_| HeaderValue::from_static("\"\""))
    }
}

pub fn http_date(t: DateTime<Utc>) -> HeaderValue {
    let system = std::time::SystemTime::from(t);
    HeaderValue::from_str(&httpdate::fmt_http_date(system))
        .unwrap_or_else(|_| HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"))
}

pub fn parse_http_date(v: &HeaderValue) -> Option<DateTime<Utc>> {
    let t = httpdate::parse_http_date(v.to_str().ok()?).ok()?;
    Some(DateTime::<Utc>::from(t))
}

/// Whole seconds: HTTP dates carry no fraction, so comparisons must drop it too.
fn secs(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

/// Whether an `If-None-Match` value names `etag` (quoted), by the weak comparison: `W/"x"`
/// matches `"x"`, and `*` matches any.
pub fn etag_listed(if_none_match: &str, etag: &str) -> bool {
    listed_etags(if_none_match).any(|tag| tag == "*" || tag == etag)
}

/// The entity tags an `If-None-Match` value lists, quoted, without their weakness mark (`W/`),
/// for the weak comparison (RFC 9110 §13.1.2); `*` as itself.
pub fn listed_etags(if_none_match: &str) -> impl Iterator<Item = &str> {
    if_none_match.split(',').map(|tag| {
        let tag = tag.trim_matches([' ', '\t']);
        tag.strip_prefix("W/").unwrap_or(tag)
    })
}

/// True when a GET/HEAD may answer 304 by its `If-None-Match` alone (for what has no date).
pub fn none_match(headers: &HeaderMap, etag: &ETag) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|inm| etag_listed(inm, etag.as_str()))
}

/// True when a GET/HEAD may answer 304. `If-None-Match` wins over `If-Modified-Since`
/// (RFC 9110 §13.2.2); the weak comparison applies to `If-None-Match`.
pub fn not_modified(headers: &HeaderMap, etag: &ETag, last_modified: DateTime<Utc>) -> bool {
    if headers.contains_key(header::IF_NONE_MATCH) {
        return none_match(headers, etag);
    }
    modified_since(headers, last_modified)
}

/// True when `If-Modified-Since` is at or after `last_modified` (to the second).
pub fn modified_since(headers: &HeaderMap, last_modified: DateTime<Utc>) -> bool {
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(parse_http_date)
        .is_some_and(|since| secs(last_modified) <= secs(since))
}

/// `If-Range`: true when the `Range` header may be honoured. A strong ETag must match exactly;
/// a date must equal `Last-Modified` exactly.
pub fn if_range_allows(headers: &HeaderMap, etag: &ETag, last_modified: DateTime<Utc>) -> bool {
    let Some(value) = headers.get(header::IF_RANGE) else {
        return true;
    };
    let Ok(text) = value.to_str() else {
        return false;
    };
    let text = text.trim();
    if text.starts_with('"') {
        return text == etag.as_str();
    }
    if text.starts_with("W/") {
        return false;
    }
    parse_http_date(value).is_some_and(|d| secs(d) == secs(last_modified))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), v.parse().unwrap());
        }
        h
    }

    #[test]
    fn conditionals() {
        let tag = ETag::strong("abc");
        let lm = DateTime::from_timestamp(1_700_000_000, 500_000_000).unwrap();
        let date = httpdate::fmt_http_date(std::time::SystemTime::from(lm));
        assert!(not_modified(
            &headers(&[(header::IF_NONE_MATCH, "\"abc\"")]),
            &tag,
            lm
        ));
        assert!(not_modified(
            &headers(&[(header::IF_NONE_MATCH, "\"x\", W/\"abc\"")]),
            &tag,
            lm
        ));
        assert!(!not_modified(
            &headers(&[(header::IF_NONE_MATCH, "\"x\"")]),
            &tag,
            lm
        ));
        assert!(not_modified(
            &headers(&[(header::IF_MODIFIED_SINCE, &date)]),
            &tag,
            lm
        ));
        // If-None-Match decides alone when present.
        assert!(!not_modified(
            &headers(&[
                (header::IF_NONE_MATCH, "\"x\""),
                (header::IF_MODIFIED_SINCE, &date)
            ]),
            &tag,
            lm
        ));
        assert!(if_range_allows(
            &headers(&[(header::IF_RANGE, "\"abc\"")]),
            &tag,
            lm
        ));
        assert!(!if_range_allows(
            &headers(&[(header::IF_RANGE, "\"old\"")]),
            &tag,
            lm
        ));
        assert!(if_range_allows(
            &headers(&[(header::IF_RANGE, &date)]),
            &tag,
            lm
        ));
        assert!(!if_range_allows(
            &headers(&[(header::IF_RANGE, "Thu, 01 Jan 2015 00:00:00 GMT")]),
            &tag,
            lm
        ));
    }
}
