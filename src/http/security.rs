//! Security headers. Every response, whatever answered it (a handler, an error, the 404
//! fallback, a 304), says `X-Content-Type-Options: nosniff` and `Referrer-Policy:
//! strict-origin-when-cross-origin` ([`every_response`]). What a
//! browser renders as a document also carries a `Content-Security-Policy`, set where it is
//! rendered ([`Policies`]): the pages (`pages::html_response`) and a feed opened in a browser
//! (the stylesheet's view). No inline script or style anywhere (the player's script and the
//! styles are files, see `assets`); no framing except the embeddable player's.
//!
//! Media, transcripts, documents and JSON carry no policy: it protects nothing in a response
//! that is not rendered as a page, and `object-src`/`sandbox` stop Chromium's PDF viewer. Their
//! exact types with `nosniff` keep a browser from reading them as anything else.

use axum::http::{HeaderMap, HeaderValue, header};
use url::Url;

use crate::config::Delivery;

/// Sets the two headers every response carries, whatever answered it (`middleware::FINISH`
/// calls it on the way out):
/// - `X-Content-Type-Options: nosniff`: a type is taken as given, never guessed from the bytes
///   (an uploaded transcript or PDF is never run as a script or a page). No answer of
///   Siaran's asks for sniffing.
/// - `Referrer-Policy: strict-origin-when-cross-origin`, the browsers' default said explicitly:
///   another site learns the origin a listener came from, never a page's path or query (a
///   search). A handler may set a stricter one.
///
/// Headers prepared once and cloned for each answer (a feed's) are given them in advance, so
/// that here they are found in place and the cloned map needs no room for more.
pub fn every_response(headers: &mut HeaderMap) {
    // Only `nosniff` is ever written, so one in place is this one.
    if !headers.contains_key(header::X_CONTENT_TYPE_OPTIONS) {
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
    }
    if !headers.contains_key(header::REFERRER_POLICY) {
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        );
    }
}

/// A page's policy: its `Content-Security-Policy`, and whether it refuses to be framed.
#[derive(Debug, Clone)]
pub struct PagePolicy {
    csp: HeaderValue,
    framed: bool,
}

impl PagePolicy {
    /// Sets the page's headers. A page that must not be framed also says
    /// `X-Frame-Options: DENY`, for browsers that predate `frame-ancestors`.
    pub fn apply(&self, headers: &mut HeaderMap) {
        headers.insert(header::CONTENT_SECURITY_POLICY, self.csp.clone());
        if !self.framed {
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        }
    }
}

/// The policies of what browsers render, made once from the settings (the media's origin
/// depends on how media is delivered).
#[derive(Debug, Clone)]
pub struct Policies {
    /// The archive's pages (home, show, episode, document, search, error pages): not framed.
    pub page: PagePolicy,
    /// The embeddable player (`/embed/{show}/{episode}`): any site may frame it.
    pub embed: PagePolicy,
    /// A feed as a browser shows it, through `feeds/siaran.xsl`. Browsers check the
    /// stylesheet itself against `script-src`, and the page it makes keeps the feed's policy.
    pub feed_view: HeaderValue,
}

impl Policies {
    pub fn new(public_url: &Url, delivery: &Delivery) -> Policies {
        // Scripts and styles are linked by path (`'self'`); covers and media by absolute URL, so
        // the public URL's origin is named too, for a site reached by another name as well.
        let own = format!("'self' {}", origin(public_url));
        // A browser checks a redirect's target against the policy too: media served by a 302
        // (to a CDN, or to the store by a presigned URL) must be allowed where it lands. The
        // store's host is the S3 client's to know; media runs no script, so any host.
        let media = match delivery {
            Delivery::Proxy => own.clone(),
            Delivery::Cdn { base } => format!("{own} {}", origin(base)),
            Delivery::Redirect => "*".to_owned(),
        };
        // `connect-src`: the episode page's script reads the recording's waveform, always
        // served by Siaran itself.
        let common = format!(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src {own}; \
             media-src {media}; connect-src {own}; base-uri 'none'"
        );
        let value = |csp: String| {
            HeaderValue::try_from(csp).expect("origins of parsed URLs are header-safe")
        };
        Policies {
            page: PagePolicy {
                csp: value(format!(
                    "{common}; form-action 'self'; frame-ancestors 'none'"
                )),
                framed: false,
            },
            // No `frame-ancestors`: `*` would still refuse some parents (a `file:` page).
            embed: PagePolicy {
                csp: value(format!("{common}; form-action 'none'")),
                framed: true,
            },
            feed_view: value(format!(
                "{common}; form-action 'none'; frame-ancestors 'none'"
            )),
        }
    }
}

/// `scheme://host[:port]`, as a CSP source.
fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csp(policy: &PagePolicy) -> &str {
        policy.csp.to_str().unwrap()
    }

    #[test]
    fn media_is_allowed_where_it_is_delivered_from() {
        let public: Url = "https://siaran.example.go.id/arsip".parse().unwrap();
        let proxy = Policies::new(&public, &Delivery::Proxy);
        assert!(
            csp(&proxy.page).contains("media-src 'self' https://siaran.example.go.id;"),
            "{}",
            csp(&proxy.page)
        );
        let cdn = Delivery::parse("cdn", Some("https://cdn.example:8443/m")).unwrap();
        assert!(
            csp(&Policies::new(&public, &cdn).page).contains(
                "media-src 'self' https://siaran.example.go.id https://cdn.example:8443;"
            )
        );
        assert!(csp(&Policies::new(&public, &Delivery::Redirect).page).contains("media-src *;"));
    }

    #[test]
    fn only_the_embed_may_be_framed() {
        let public: Url = "http://127.0.0.1:8080".parse().unwrap();
        let p = Policies::new(&public, &Delivery::Proxy);
        assert!(csp(&p.page).contains("frame-ancestors 'none'"));
        assert!(!csp(&p.embed).contains("frame-ancestors"));
        let mut headers = HeaderMap::new();
        p.embed.apply(&mut headers);
        assert!(!headers.contains_key(header::X_FRAME_OPTIONS));
        p.page.apply(&mut headers);
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
        for policy in [csp(&p.page), csp(&p.embed), p.feed_view.to_str().unwrap()] {
            assert!(!policy.contains("unsafe"), "{policy}");
            assert!(policy.starts_with("default-src 'none'; script-src 'self'; style-src 'self';"));
        }
    }
}
