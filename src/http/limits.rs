//! Limits that protect the service from one busy or hostile client (issue 26):
//! - **writes** (any request but `GET`, `HEAD` and `OPTIONS` to the API and the studio): at most
//!   `SIARAN_RATE_WRITES_PER_MIN` per caller (a token, or a studio session) and per address;
//! - **search** (`/api/v1/search`, `/cari`): at most `SIARAN_RATE_SEARCH_PER_MIN` per address;
//! - **clip verification** (`POST /api/v1/verify`, `POST /cek`): at most
//!   `SIARAN_RATE_VERIFY_PER_MIN` per address (each decodes a clip; `service::verify` also caps
//!   how many run at once);
//! - **media streams**: at most `SIARAN_MAX_STREAMS_PER_ADDRESS` answered at once to one
//!   address (a player opens one or two; a downloader with a hundred connections is not a
//!   listener).
//!
//! Over a limit the answer is 429 `rate-limited` (JSON, in the asked-for language) with
//! `Retry-After`, before the request is read further. Rate limits are GCRA buckets (the
//! `governor` crate: a full minute's quota may be spent at once, then it refills evenly), kept in
//! each instance's memory: behind N instances a client may reach N times a limit, a factor the
//! operator divides by (docs/production.md). Feeds and public pages are not limited here: they
//! are answered from memory, and nginx in front is where to limit them if ever needed.
//!
//! Callers are told apart by a SHA-256 of their `Authorization` header or session cookie, so
//! that no credential is kept as a key.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    Extension,
    body::Body,
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, Method, header},
    middleware::Next,
    response::{IntoResponse as _, Response},
};
use governor::{DefaultKeyedRateLimiter, Quota, clock::Clock as _};
use sha2::{Digest as _, Sha256};

use crate::{app::AppState, config::LimitSettings, http::error::AppError};

/// The instance's limiters, made once from the settings.
#[derive(Debug)]
pub struct Limits {
    writes_by_caller: Option<DefaultKeyedRateLimiter<[u8; 16]>>,
    writes_by_address: Option<DefaultKeyedRateLimiter<IpAddr>>,
    search_by_address: Option<DefaultKeyedRateLimiter<IpAddr>>,
    verify_by_address: Option<DefaultKeyedRateLimiter<IpAddr>>,
    streams: Streams,
}

impl Limits {
    pub fn new(settings: &LimitSettings) -> Limits {
        let per_minute = |n: u32| NonZeroU32::new(n).map(Quota::per_minute);
        Limits {
            writes_by_caller: per_minute(settings.writes_per_min)
                .map(DefaultKeyedRateLimiter::keyed),
            writes_by_address: per_minute(settings.writes_per_min.saturating_mul(2))
                .map(DefaultKeyedRateLimiter::keyed),
            search_by_address: per_minute(settings.search_per_min)
                .map(DefaultKeyedRateLimiter::keyed),
            verify_by_address: per_minute(settings.verify_per_min)
                .map(DefaultKeyedRateLimiter::keyed),
            streams: Streams {
                max: settings.streams_per_address,
                open: Arc::default(),
            },
        }
    }

    /// Forgets callers whose buckets are full again (run now and then: keeps memory bounded).
    pub fn shrink(&self) {
        for limiter in [
            &self.writes_by_address,
            &self.search_by_address,
            &self.verify_by_address,
        ]
        .into_iter()
        .flatten()
        {
            limiter.retain_recent();
        }
        if let Some(limiter) = &self.writes_by_caller {
            limiter.retain_recent();
        }
    }
}

/// The rate limits, as a route layer (`axum::middleware::from_fn_with_state`) on the API's,
/// the studio's and search's routes.
pub async fn rate_limit(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    req: Request,
    next: Next,
) -> Response {
    match refusal(&state, peer_of(peer), &req) {
        // Rounded up: a client that waits what it is told is let through.
        Some(after) => AppError::RateLimited {
            retry_after: u64::try_from(after.as_millis().div_ceil(1000))
                .unwrap_or(u64::MAX)
                .max(1),
        }
        .into_response(),
        None => next.run(req).await,
    }
}

/// How long `req` must wait, when it is over a limit.
fn refusal(state: &AppState, peer: SocketAddr, req: &Request) -> Option<Duration> {
    let limits = &state.limits;
    let address = || super::client_ip(state, peer.ip(), req.headers());
    let path = req.uri().path();
    if path == "/api/v1/search" || path == "/cari" {
        limits
            .search_by_address
            .as_ref()
            .and_then(|l| wait(l, &address()))
    } else if is_verification(req) {
        limits
            .verify_by_address
            .as_ref()
            .and_then(|l| wait(l, &address()))
    } else if is_write(req.method()) {
        let by_caller = limits
            .writes_by_caller
            .as_ref()
            .zip(caller(req.headers()))
            .and_then(|(l, key)| wait(l, &key));
        by_caller.or_else(|| {
            limits
                .writes_by_address
                .as_ref()
                .and_then(|l| wait(l, &address()))
        })
    } else {
        None
    }
}

/// The peer's address; a router called without a listener (a benchmark's `oneshot`) has none,
/// and counts as one local caller.
fn peer_of(peer: Option<Extension<ConnectInfo<SocketAddr>>>) -> SocketAddr {
    peer.map_or(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        |Extension(ConnectInfo(p))| p,
    )
}

/// A clip sent for verification: the API's, or the `/cek` page's form (the page itself, a
/// `GET`, is not counted).
fn is_verification(req: &Request) -> bool {
    let path = req.uri().path();
    path == "/api/v1/verify" || (path == "/cek" && req.method() == Method::POST)
}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// How long until `key` may go on, or `None` when it may now.
fn wait<K: std::hash::Hash + Eq + Clone>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: &K,
) -> Option<Duration> {
    limiter
        .check_key(key)
        .err()
        .map(|not_until| not_until.wait_time_from(governor::clock::DefaultClock::default().now()))
}

/// A caller's key: the first 16 bytes of the SHA-256 of its credentials (bearer token or
/// cookies), `None` for an anonymous request.
fn caller(headers: &HeaderMap) -> Option<[u8; 16]> {
    let credentials = headers
        .get(header::AUTHORIZATION)
        .or_else(|| headers.get(header::COOKIE))?;
    let digest = Sha256::digest(credentials.as_bytes());
    let mut key = [0; 16];
    key.copy_from_slice(&digest[..16]);
    Some(key)
}

/// Media streams open per address.
#[derive(Debug, Clone)]
pub struct Streams {
    max: u32,
    open: Arc<Mutex<HashMap<IpAddr, u32>>>,
}

/// One open stream; the count goes down when it is dropped (with the response body).
#[derive(Debug)]
pub struct StreamSlot {
    open: Arc<Mutex<HashMap<IpAddr, u32>>>,
    address: IpAddr,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.address);
            }
        }
    }
}

impl Streams {
    /// A slot for one more stream to `address`, or `None` when it has its maximum open. A
    /// maximum of 0 means no cap.
    fn take(&self, address: IpAddr) -> Option<Option<StreamSlot>> {
        if self.max == 0 {
            return Some(None);
        }
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = open.entry(address).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(Some(StreamSlot {
            open: self.open.clone(),
            address,
        }))
    }
}

/// The cap on media streams, as a route layer on the media routes: the slot is held by the
/// response's body until the body is done or dropped (the listener left).
pub async fn cap_streams(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    req: Request,
    next: Next,
) -> Response {
    let peer = peer_of(peer);
    if req.method() != Method::GET || !req.uri().path().starts_with("/media/") {
        return next.run(req).await;
    }
    let address = super::client_ip(&state, peer.ip(), req.headers());
    let Some(slot) = state.limits.streams.take(address) else {
        return AppError::RateLimited { retry_after: 5 }.into_response();
    };
    let response = next.run(req).await;
    match slot {
        None => response,
        Some(slot) => response.map(|body| Body::new(Holding { body, _slot: slot })),
    }
}

/// A body that holds a stream's slot for as long as it lives.
struct Holding {
    body: Body,
    _slot: StreamSlot,
}

impl http_body::Body for Holding {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
