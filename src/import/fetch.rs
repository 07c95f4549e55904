//! Outbound fetches for `siaran import-feed`: a feed, its media, artwork, transcripts and
//! chapters, from addresses a feed chose — so every one is treated as hostile (SSRF).
//!
//! - Only `http` and `https`.
//! - The host is resolved and every address is classified: loopback, private (RFC 1918,
//!   fc00::/7), link-local, CGNAT, unspecified, multicast, documentation and other non-public
//!   addresses are refused (an IPv4 address inside IPv6 is judged as IPv4), unless the operator
//!   passed `--allow-private`.
//! - The connection goes to the checked addresses themselves: the connector's resolver is the
//!   guarded one, so a second DNS answer (rebinding) cannot swap in a private address.
//! - Redirects are followed by hand, at most `MAX_REDIRECTS`, each hop checked again.
//! - Connect, response and idle timeouts; a size cap per body, checked against
//!   `Content-Length` first and then while counting the bytes.
//!
//! The client is the hyper + rustls stack the WebSub ping and the S3 client already use.

use std::{
    future::Future,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use anyhow::{Context as _, anyhow, bail};
use axum::http::{Request, StatusCode, header};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt as _;
use http_body_util::{BodyStream, Empty};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::{
    client::legacy::{
        Client,
        connect::{HttpConnector, dns::Name},
    },
    rt::TokioExecutor,
};
use url::Url;

use crate::storage::ByteStream;

/// Redirects followed before giving up (browsers allow 20; a podcast host needs one or two).
pub const MAX_REDIRECTS: usize = 5;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// From the request sent to the response's headers.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);
/// Between two pieces of a body: a stalled server is given up on, a slow one is not.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
const USER_AGENT: &str = concat!("Siaran/", env!("CARGO_PKG_VERSION"), " (podcast import)");

/// Whether an address is on the public internet. Everything else — this machine, the local
/// network, the cloud's metadata service (169.254.169.254), a carrier's NAT — is refused.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0 // "this network", 0.0.0.0 among it
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // CGNAT, RFC 6598
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || a >= 224) // multicast, reserved, broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let seg = ip.segments();
    // IPv4-mapped (::ffff:a.b.c.d) and the deprecated IPv4-compatible (::a.b.c.d): the IPv4
    // address decides. `::` and `::1` fall in the second range and are refused there.
    if seg[..5] == [0; 5] && (seg[5] == 0xffff || seg[5] == 0) {
        let v4 = Ipv4Addr::new(
            (seg[6] >> 8) as u8,
            seg[6] as u8,
            (seg[7] >> 8) as u8,
            seg[7] as u8,
        );
        return seg[5] == 0xffff && is_public_v4(v4);
    }
    // NAT64 (64:ff9b::/96) reaches the IPv4 address in its last 32 bits.
    if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let v4 = Ipv4Addr::new(
            (seg[6] >> 8) as u8,
            seg[6] as u8,
            (seg[7] >> 8) as u8,
            seg[7] as u8,
        );
        return is_public_v4(v4);
    }
    // 6to4 (2002::/16) carries an IPv4 address in bits 16..48.
    if seg[0] == 0x2002 {
        let v4 = Ipv4Addr::new(
            (seg[1] >> 8) as u8,
            seg[1] as u8,
            (seg[2] >> 8) as u8,
            seg[2] as u8,
        );
        return is_public_v4(v4);
    }
    !((seg[0] & 0xfe00) == 0xfc00 // unique local, fc00::/7
        || (seg[0] & 0xffc0) == 0xfe80 // link-local
        || (seg[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (seg[0] & 0xff00) == 0xff00 // multicast
        || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation
        || (seg[0] == 0x2001 && seg[1] == 0) // Teredo
        || seg[0] == 0x0100 && seg[1..4] == [0, 0, 0]) // discard-only, 100::/64
}

/// The resolver the connector uses: it answers only with addresses that may be reached.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    allow_private: bool,
}

impl tower::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let allow_private = self.allow_private;
        Box::pin(async move {
            resolve_checked(name.as_str(), 0, allow_private)
                .await
                .map(Vec::into_iter)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::PermissionDenied, e))
        })
    }
}

/// The addresses of `host` that may be reached; an error naming the refused address when none.
async fn resolve_checked(
    host: &str,
    port: u16,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .collect(),
    };
    let allowed: Vec<SocketAddr> = addrs
        .iter()
        .copied()
        .filter(|a| allow_private || is_public(a.ip()))
        .collect();
    match (allowed.is_empty(), addrs.first()) {
        (false, _) => Ok(allowed),
        (true, None) => Err(format!("{host} has no address")),
        (true, Some(refused)) => Err(format!(
            "refused to fetch from {host}: {} is a private, loopback or link-local address \
             (pass --allow-private to allow it)",
            refused.ip()
        )),
    }
}

/// An HTTP(S) client that only reaches public addresses (unless told otherwise).
#[derive(Clone)]
pub struct Fetcher {
    client: Client<HttpsConnector<HttpConnector<GuardedResolver>>, Empty<Bytes>>,
    allow_private: bool,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("allow_private", &self.allow_private)
            .finish_non_exhaustive()
    }
}

/// A response whose headers arrived, after redirects.
pub struct Fetched {
    /// The URL that answered (after redirects).
    pub url: Url,
    pub content_type: Option<String>,
    pub content_length: Option<u64>,
    body: Incoming,
}

impl Fetcher {
    pub fn new(allow_private: bool) -> anyhow::Result<Fetcher> {
        let mut http = HttpConnector::new_with_resolver(GuardedResolver { allow_private });
        http.enforce_http(false);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let builder = crate::outbound::https_builder("fetches");
        let connector = builder.https_or_http().enable_http1().wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Fetcher {
            client,
            allow_private,
        })
    }

    /// Checks `url`'s scheme and host before any connection is attempted.
    async fn check(&self, url: &Url) -> anyhow::Result<()> {
        if !matches!(url.scheme(), "http" | "https") {
            bail!("refused to fetch {url}: only http and https are fetched");
        }
        let host = url
            .host_str()
            .with_context(|| format!("{url} names no host"))?;
        let port = url.port_or_known_default().unwrap_or(80);
        resolve_checked(host, port, self.allow_private)
            .await
            .map_err(anyhow::Error::msg)?;
        Ok(())
    }

    /// GETs `url`, following redirects (each hop checked); a status other than 2xx is an error.
    pub async fn get(&self, url: &Url) -> anyhow::Result<Fetched> {
        let mut current = url.clone();
        for _ in 0..=MAX_REDIRECTS {
            self.check(&current).await?;
            let request = Request::get(current.as_str())
                .header(header::USER_AGENT, USER_AGENT)
                .header(header::ACCEPT_ENCODING, "identity")
                .body(Empty::<Bytes>::new())
                .with_context(|| format!("cannot request {current}"))?;
            let response = tokio::time::timeout(RESPONSE_TIMEOUT, self.client.request(request))
                .await
                .map_err(|_| anyhow!("{current}: no answer in {}s", RESPONSE_TIMEOUT.as_secs()))?
                .map_err(|e| anyhow!("{current}: {}", crate::outbound::error_chain(&e)))?;
            let status = response.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                let location = response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .with_context(|| format!("{current}: {status} without a Location"))?;
                current = current
                    .join(location)
                    .with_context(|| format!("{current}: bad redirect to '{location}'"))?;
                continue;
            }
            if !status.is_success() {
                bail!("{current}: answered {status}");
            }
            let header = |name: header::HeaderName| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let content_type = header(header::CONTENT_TYPE);
            let content_length = header(header::CONTENT_LENGTH).and_then(|v| v.parse().ok());
            return Ok(Fetched {
                url: current,
                content_type,
                content_length,
                body: response.into_body(),
            });
        }
        bail!("{url}: more than {MAX_REDIRECTS} redirects")
    }

    /// The whole body of `url`, at most `max_bytes` (for feeds, artwork, transcripts).
    pub async fn get_bytes(&self, url: &Url, max_bytes: u64) -> anyhow::Result<(Url, Bytes)> {
        let fetched = self.get(url).await?;
        let final_url = fetched.url.clone();
        let mut stream = fetched.into_stream(max_bytes)?;
        let mut out = BytesMut::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk.with_context(|| format!("{final_url}"))?);
        }
        Ok((final_url, out.freeze()))
    }
}

impl Fetched {
    /// The body as a stream of at most `max_bytes`, each piece within the idle timeout: what
    /// the ingest pipeline takes, so a download is spooled, never held whole in memory.
    pub fn into_stream(self, max_bytes: u64) -> anyhow::Result<ByteStream> {
        if let Some(length) = self.content_length.filter(|&l| l > max_bytes) {
            bail!(
                "{}: {length} bytes, more than the {max_bytes} bytes allowed",
                self.url
            );
        }
        let body = BodyStream::new(self.body);
        let mut seen: u64 = 0;
        let stream = futures_util::stream::unfold(body, |mut body| async move {
            let piece = match tokio::time::timeout(IDLE_TIMEOUT, body.next()).await {
                Err(_) => Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no data for {}s", IDLE_TIMEOUT.as_secs()),
                )),
                Ok(None) => return None,
                Ok(Some(Err(e))) => Err(std::io::Error::other(e)),
                Ok(Some(Ok(frame))) => Ok(frame.into_data().unwrap_or_default()),
            };
            Some((piece, body))
        })
        .map(move |piece| {
            let data = piece?;
            seen += data.len() as u64;
            if seen > max_bytes {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::FileTooLarge,
                    format!("more than the {max_bytes} bytes allowed"),
                ));
            }
            Ok(data)
        });
        Ok(Box::pin(stream))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(s: &str) -> bool {
        is_public(s.parse().unwrap())
    }

    #[test]
    fn private_loopback_and_link_local_addresses_are_refused() {
        for refused in [
            "127.0.0.1",
            "127.255.0.9",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.10",
            "198.18.0.1",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:c0a8:0101::1",
            "2001:db8::1",
        ] {
            assert!(!public(refused), "{refused} must be refused");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for allowed in [
            "8.8.8.8",
            "1.1.1.1",
            "103.10.20.30",
            "172.32.0.1",
            "100.128.0.1",
            "169.255.0.1",
            "2606:4700:4700::1111",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(public(allowed), "{allowed} must be allowed");
        }
    }

    #[tokio::test]
    async fn literal_and_resolved_hosts_are_checked_before_connecting() {
        let fetcher = Fetcher::new(false).unwrap();
        for url in [
            "http://127.0.0.1:9/feed.xml",
            "http://[::1]/feed.xml",
            "http://localhost/feed.xml",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::ffff:7f00:1]/",
        ] {
            let err = fetcher.get(&url.parse().unwrap()).await.err().unwrap();
            assert!(err.to_string().contains("refused"), "{url}: {err}");
        }
        // The connector's own resolver refuses too, so a second DNS answer cannot differ.
        let mut resolver = GuardedResolver {
            allow_private: false,
        };
        let name: Name = "localhost".parse().unwrap();
        let err = tower::Service::call(&mut resolver, name).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied);
        let err = fetcher
            .get(&"file:///etc/passwd".parse().unwrap())
            .await
            .err()
            .unwrap();
        assert!(err.to_string().contains("only http and https"), "{err}");
    }
}
