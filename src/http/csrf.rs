//! Cross-site request forgery. Every state-changing request from a page — a POST to
//! `/studio/...` — passes two checks, each enough alone against a form on another site:
//!
//! 1. **Where it comes from** ([`check_origin`]): `Sec-Fetch-Site`, which every current browser
//!    sends, must say `same-origin`; `Origin`, when sent, must be the public URL's origin
//!    (`SIARAN_PUBLIC_URL`). A browser that sends neither is left to the token.
//! 2. **A token** ([`FIELD`]): the form's hidden field must equal the session's token
//!    ([`SESSION_KEY`], drawn at login) — or, on the pages used before there is a session (log
//!    in, set a password), the value of the form cookie ([`FormCookie`]) the page set.
//!
//! The session cookie is also `SameSite=Lax`, so browsers do not send it with another site's
//! POST at all; the checks above do not rely on it (a sibling subdomain is "same-site").

use axum::http::{HeaderMap, HeaderValue, header};
use rand::RngCore as _;
use url::Url;

/// The hidden form field every page form carries.
pub const FIELD: &str = "csrf";

/// Where a signed-in session keeps its token.
pub const SESSION_KEY: &str = "csrf";

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `Sec-Fetch-Site` or `Origin` names another site.
    CrossSite,
    /// The token is missing or wrong (a form from an old session, or forged).
    Token,
}

/// A new token: 32 random bytes, URL-safe base64.
pub fn new_token() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Check 1: the request comes from a page of this site, as far as the browser says.
pub fn check_origin(headers: &HeaderMap, public_url: &Url) -> Result<(), Refusal> {
    if let Some(site) = headers.get("sec-fetch-site")
        && site.as_bytes() != b"same-origin"
    {
        return Err(Refusal::CrossSite);
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let ours = public_url.origin().ascii_serialization();
        if origin.as_bytes() != ours.as_bytes() {
            tracing::info!(
                origin = %String::from_utf8_lossy(origin.as_bytes()),
                expected = %ours,
                "a page's POST from another origin refused (if this is the studio's own \
                 address, SIARAN_PUBLIC_URL does not name it)"
            );
            return Err(Refusal::CrossSite);
        }
    }
    Ok(())
}

/// Check 2: `sent` (the form's field) is `expected`, compared in constant time.
pub fn check_token(sent: &str, expected: Option<&str>) -> Result<(), Refusal> {
    match expected {
        Some(expected) if !expected.is_empty() && constant_time_eq(sent, expected) => Ok(()),
        _ => Err(Refusal::Token),
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The cookie that carries the token of forms used before there is a session (log in, set a
/// password): the page sets it, the form sends its value back in `FIELD`, and another site can
/// neither read it nor (with `__Host-` on HTTPS) set it.
#[derive(Debug, Clone, Copy)]
pub struct FormCookie {
    secure: bool,
}

impl FormCookie {
    pub fn new(public_url: &Url) -> FormCookie {
        FormCookie {
            secure: public_url.scheme() == "https",
        }
    }

    fn name(self) -> &'static str {
        if self.secure {
            "__Host-siaran_form"
        } else {
            "siaran_form"
        }
    }

    /// The token the request's cookie holds.
    pub fn value(self, headers: &HeaderMap) -> Option<String> {
        cookie(headers, self.name())
    }

    /// The `Set-Cookie` that gives the browser `token`.
    pub fn set(self, token: &str) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::try_from(format!(
            "{}={token}; Path=/; HttpOnly; SameSite=Strict{secure}",
            self.name()
        ))
        .expect("a base64url token is header-safe")
    }
}

/// The value of the cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_this_sites_pages_may_post() {
        let ours: Url = "https://siaran.example.go.id/arsip".parse().unwrap();
        let ok = |h: &[(&'static str, &str)]| check_origin(&headers(h), &ours);
        assert_eq!(ok(&[]), Ok(()), "no header: left to the token");
        assert_eq!(
            ok(&[
                ("sec-fetch-site", "same-origin"),
                ("origin", "https://siaran.example.go.id")
            ]),
            Ok(())
        );
        for refused in [
            vec![("sec-fetch-site", "cross-site")],
            vec![("sec-fetch-site", "same-site")],
            vec![("sec-fetch-site", "none")],
            vec![("origin", "https://evil.example")],
            vec![("origin", "null")],
            vec![("origin", "http://siaran.example.go.id")],
            vec![
                ("sec-fetch-site", "same-origin"),
                ("origin", "https://siaran.example.go.id.evil.example"),
            ],
        ] {
            assert_eq!(ok(&refused), Err(Refusal::CrossSite), "{refused:?}");
        }
    }

    #[test]
    fn tokens_must_match() {
        let t = new_token();
        assert_ne!(t, new_token());
        assert_eq!(check_token(&t, Some(&t)), Ok(()));
        assert_eq!(check_token("", Some(&t)), Err(Refusal::Token));
        assert_eq!(check_token(&t[1..], Some(&t)), Err(Refusal::Token));
        assert_eq!(check_token("", None), Err(Refusal::Token));
        assert_eq!(check_token("", Some("")), Err(Refusal::Token));
    }

    #[test]
    fn form_cookies_are_read_back() {
        let c = FormCookie::new(&"http://127.0.0.1:8080".parse().unwrap());
        let set = c.set("abc");
        assert_eq!(
            set.to_str().unwrap(),
            "siaran_form=abc; Path=/; HttpOnly; SameSite=Strict"
        );
        let h = headers(&[("cookie", "a=1; siaran_form=abc"), ("cookie", "b=2")]);
        assert_eq!(c.value(&h).as_deref(), Some("abc"));
        let secure = FormCookie::new(&"https://x.example".parse().unwrap());
        assert!(
            secure
                .set("abc")
                .to_str()
                .unwrap()
                .starts_with("__Host-siaran_form=abc; Path=/;")
        );
        assert_eq!(secure.value(&h), None);
    }
}
