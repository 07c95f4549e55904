//! Outbound fetches for `siaran import-feed`: a feed, its media, artwork, transcripts and
//! chapters, from addresses a feed chose — so every one is treated as hostile (SSRF).
//!
//! - Only `http` and `https`.
//! - The host is resolved and every address is classified (`is_public`): loopback, private
//!   (RFC 1918, fc00::/7), link-local, CGNAT, unspecified, multicast, broadcast, documentation,
//!   benchmarking and other non-public addresses are refused, and so is all IPv6 outside
//!   2000::/3; an IPv4 address inside IPv6 (mapped, NAT64, 6to4) is judged as IPv4. Unless the
//!   operator passed `--allow-private`.
//! - The connection goes to the checked addresses themselves: the connector's resolver is the
//!   guarded one, so a second DNS answer (rebinding) cannot swap in a private address; and the
//!   connector checks the address of every connection it made (`GuardedConnector`), literal IPs
//!   included, which hyper does not resolve.
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
use hyper::{Uri, body::Incoming};
use hyper_rustls::HttpsConnector;
use hyper_util::{
    client::legacy::{
        Client,
        connect::{HttpConnector, dns::Name},
    },
    rt::{TokioExecutor, TokioIo},
};
use tokio::net::TcpStream;
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
/// network, the cloud's metadata service (169.254.169.254), a carrier's NAT, and every IPv6
/// form that carries one of those (mapped, translated, compatible, NAT64, 6to4) — is refused.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

/// IANA's special-purpose IPv4 registry, less the few anycast services no feed is hosted on.
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
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast (deprecated)
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || a >= 224) // multicast, reserved (240/4), broadcast
}

/// The IPv4 address in two 16-bit segments.
fn embedded_v4(high: u16, low: u16) -> Ipv4Addr {
    let [a, b] = high.to_be_bytes();
    let [c, d] = low.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let seg = ip.segments();
    // IPv4-mapped (::ffff:0:0/96), how a dual-stack socket names an IPv4 peer, and NAT64's
    // well-known prefix (64:ff9b::/96, which only translates to public IPv4 addresses): the
    // IPv4 address in the last 32 bits decides.
    if seg[..6] == [0, 0, 0, 0, 0, 0xffff] || seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(embedded_v4(seg[6], seg[7]));
    }
    // Only 2000::/3 is global unicast. Everything else reaches no public host: `::` and `::1`,
    // IPv4-compatible (::a.b.c.d) and IPv4-translated (::ffff:0:a.b.c.d) addresses, local-use
    // NAT64 (64:ff9b:1::/48, a network's own translator), discard-only (100::/64), SRv6
    // (5f00::/16), unique local (fc00::/7), link-local (fe80::/10), site-local (fec0::/10) and
    // multicast (ff00::/8).
    if seg[0] & 0xe000 != 0x2000 {
        return false;
    }
    // 6to4 (2002::/16) is delivered to the IPv4 address in bits 16..48.
    if seg[0] == 0x2002 {
        return is_public_v4(embedded_v4(seg[1], seg[2]));
    }
    match seg[0] {
        // IETF protocol assignments (2001::/23): Teredo (2001::/32, which carries a NAT's
        // address), benchmarking (2001:2::/48), ORCHID...; and documentation (2001:db8::/32).
        0x2001 => seg[1] >= 0x0200 && seg[1] != 0x0db8,
        // Documentation, 3fff::/20 (RFC 9637).
        0x3fff => seg[1] >= 0x1000,
        _ => true,
    }
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
        (true, Some(first)) => Err(refused(host, first.ip())),
    }
}

/// The TCP connector, which checks the address it actually connected to: a literal IP in a URL
/// never reaches the resolver (hyper connects to it directly), and whatever a future change to
/// resolving lets through, no connection to a refused address is used.
#[derive(Clone)]
struct GuardedConnector {
    http: HttpConnector<GuardedResolver>,
    allow_private: bool,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower::Service<Uri> for GuardedConnector {
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let connecting = self.http.call(dst);
        let allow_private = self.allow_private;
        Box::pin(async move {
            let io = connecting.await?;
            let peer = io.inner().peer_addr()?;
            if !allow_private && !is_public(peer.ip()) {
                return Err(refused(&peer.ip().to_string(), peer.ip()).into());
            }
            Ok(io)
        })
    }
}

fn refused(host: &str, ip: IpAddr) -> String {
    format!(
        "refused to fetch from {host}: {ip} is a private, loopback or link-local address \
         (pass --allow-private to allow it)"
    )
}

/// An HTTP(S) client that only reaches public addresses (unless told otherwise).
#[derive(Clone)]
pub struct Fetcher {
    client: Client<HttpsConnector<GuardedConnector>, Empty<Bytes>>,
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
        let connector = builder
            .https_or_http()
            .enable_http1()
            .wrap_connector(GuardedConnector {
                http,
                allow_private,
            });
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

    /// Every address form, and whether a feed may make Siaran fetch from it.
    const ADDRESSES: &[(&str, bool, &str)] = &[
        // IPv4
        ("8.8.8.8", true, "public"),
        ("1.1.1.1", true, "public"),
        ("103.10.20.30", true, "public (Indonesia)"),
        ("172.32.0.1", true, "just above 172.16/12"),
        ("100.128.0.1", true, "just above CGNAT"),
        ("169.255.0.1", true, "just above link-local"),
        ("198.20.0.1", true, "just above benchmarking"),
        ("223.255.255.254", true, "last before multicast"),
        ("0.0.0.0", false, "unspecified"),
        ("0.1.2.3", false, "this network, 0/8"),
        ("127.0.0.1", false, "loopback"),
        ("127.255.0.9", false, "loopback, 127/8"),
        ("10.1.2.3", false, "private, 10/8"),
        ("172.16.0.1", false, "private, 172.16/12"),
        ("172.31.255.255", false, "private, 172.16/12"),
        ("192.168.1.1", false, "private, 192.168/16"),
        ("169.254.169.254", false, "link-local, cloud metadata"),
        ("100.64.0.1", false, "CGNAT, 100.64/10"),
        ("100.127.255.254", false, "CGNAT, 100.64/10"),
        ("192.0.0.9", false, "IETF protocol assignments, 192.0.0/24"),
        ("192.0.2.10", false, "documentation, TEST-NET-1"),
        ("198.51.100.7", false, "documentation, TEST-NET-2"),
        ("203.0.113.7", false, "documentation, TEST-NET-3"),
        ("192.88.99.1", false, "6to4 relay anycast"),
        ("198.18.0.1", false, "benchmarking, 198.18/15"),
        ("198.19.255.255", false, "benchmarking, 198.18/15"),
        ("224.0.0.1", false, "multicast"),
        ("239.255.255.250", false, "multicast"),
        ("240.0.0.1", false, "reserved, 240/4"),
        ("255.255.255.255", false, "broadcast"),
        // IPv6
        ("2606:4700:4700::1111", true, "public"),
        ("2001:4860:4860::8888", true, "public"),
        ("2400:cb00::1", true, "public"),
        ("::", false, "unspecified"),
        ("::1", false, "loopback"),
        ("fc00::1", false, "unique local, fc00::/7"),
        ("fd12:3456::1", false, "unique local, fc00::/7"),
        ("fe80::1", false, "link-local"),
        ("febf::1", false, "link-local, fe80::/10"),
        ("fec0::1", false, "site-local (deprecated)"),
        ("ff02::1", false, "multicast"),
        ("ff0e::1", false, "multicast, global scope"),
        ("100::1", false, "discard-only, 100::/64"),
        ("5f00::1", false, "SRv6 SIDs, 5f00::/16"),
        ("2001:db8::1", false, "documentation, 2001:db8::/32"),
        ("3fff::1", false, "documentation, 3fff::/20"),
        (
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            false,
            "Teredo, 2001::/32",
        ),
        ("2001:2::1", false, "benchmarking, 2001:2::/48"),
        ("2001:20::1", false, "ORCHIDv2, 2001:20::/28"),
        // IPv4 inside IPv6
        ("::ffff:8.8.8.8", true, "IPv4-mapped, public"),
        ("::ffff:127.0.0.1", false, "IPv4-mapped loopback"),
        ("::ffff:10.0.0.1", false, "IPv4-mapped private"),
        ("::ffff:169.254.169.254", false, "IPv4-mapped metadata"),
        ("::ffff:7f00:1", false, "IPv4-mapped loopback, hex"),
        (
            "::ffff:0:127.0.0.1",
            false,
            "IPv4-translated loopback, ::ffff:0:0:0/96",
        ),
        ("::ffff:0:10.0.0.1", false, "IPv4-translated private"),
        (
            "::ffff:0:8.8.8.8",
            false,
            "IPv4-translated: not routed on the internet",
        ),
        (
            "::127.0.0.1",
            false,
            "IPv4-compatible loopback (deprecated)",
        ),
        ("::10.0.0.1", false, "IPv4-compatible private"),
        (
            "::8.8.8.8",
            false,
            "IPv4-compatible: deprecated, not routed",
        ),
        ("64:ff9b::808:808", true, "NAT64 well-known prefix, public"),
        ("64:ff9b::a9fe:a9fe", false, "NAT64 of the metadata address"),
        ("64:ff9b::7f00:1", false, "NAT64 of loopback"),
        ("64:ff9b::a00:1", false, "NAT64 of 10/8"),
        ("64:ff9b::c0a8:101", false, "NAT64 of 192.168/16"),
        ("64:ff9b:1::a00:1", false, "local-use NAT64, 64:ff9b:1::/48"),
        (
            "64:ff9b:1::808:808",
            false,
            "local-use NAT64, whatever it embeds",
        ),
        ("64:ff9b:1:ffff::1", false, "local-use NAT64"),
        ("2002:808:808::1", true, "6to4 of a public address"),
        ("2002:c0a8:0101::1", false, "6to4 of 192.168.1.1"),
        ("2002:7f00:1::1", false, "6to4 of loopback"),
        ("2002:a9fe:a9fe::1", false, "6to4 of the metadata address"),
        ("2002:a00:1::1", false, "6to4 of 10/8"),
    ];

    #[test]
    fn every_address_form_is_classified() {
        for &(address, allowed, what) in ADDRESSES {
            let ip: IpAddr = address.parse().unwrap();
            assert_eq!(is_public(ip), allowed, "{address} ({what})");
        }
    }

    /// Whatever reaches the connector, its connection to a refused address is not used: a
    /// literal IP goes to hyper's connector without any resolver.
    #[tokio::test]
    async fn the_connector_checks_the_address_it_connected_to() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let uri: Uri = format!("http://{}/", listener.local_addr().unwrap())
            .parse()
            .unwrap();
        let connector = |allow_private| {
            let mut http = HttpConnector::new_with_resolver(GuardedResolver { allow_private });
            http.enforce_http(false);
            GuardedConnector {
                http,
                allow_private,
            }
        };
        let err = tower::Service::call(&mut connector(false), uri.clone())
            .await
            .err()
            .unwrap();
        assert!(err.to_string().contains("refused"), "{err}");
        assert!(
            tower::Service::call(&mut connector(true), uri)
                .await
                .is_ok()
        );
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
            "http://[::ffff:0:7f00:1]/",
            "http://[64:ff9b:1::a00:1]/",
            "http://2130706433/",
            "http://0x7f.1/",
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
