//! HTTP/1 connections: accepted from the listener, served by hyper with the router as their
//! service, closed when they are slow or idle, drained on shutdown. The shape of axum's
//! `serve-with-hyper` example and hyper-util's graceful one (hyper's own connection builder
//! rather than `axum::serve` because only the builder sets a header-read timeout).
//!
//! What a request does is the router's business: this module must not look into requests.

use std::{future::Future, time::Duration};

use axum::{Router, body::Body, extract::ConnectInfo};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt as _;

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting and lets the
/// open connections finish their requests (idle ones are closed at once).
///
/// `header_read_timeout` closes a connection whose request head has not fully arrived that long
/// after hyper began waiting for it. hyper 1 starts waiting as soon as a connection is accepted
/// and again as soon as a response has been sent, so this is also how long a keep-alive
/// connection may sit idle: hyper has no separate idle timeout.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    header_read_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    wait_after(&e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let connection = graceful.watch(http.serve_connection(
            TokioIo::new(nodelay(stream)),
            service_fn({
                let router = router.clone();
                move |mut request: hyper::Request<Incoming>| {
                    // What `into_make_service_with_connect_info` would insert: download counting
                    // keys listeners on the peer address (see `http::media`).
                    request.extensions_mut().insert(ConnectInfo(peer));
                    router.clone().oneshot(request.map(Body::new))
                }
            }),
        ));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::trace!(error = %e, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Responses are whole when written: no reason to wait for an acknowledgement.
fn nodelay(stream: TcpStream) -> TcpStream {
    let _ = stream.set_nodelay(true);
    stream
}

/// After a failed accept, as `axum::serve` does: at once when that one connection failed, a
/// second when the listener did (out of file descriptors, say) rather than spin.
async fn wait_after(e: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "cannot accept a connection");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
