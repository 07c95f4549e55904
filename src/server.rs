//! HTTP/1 connections, one thread per core.
//!
//! Each thread runs its own single-threaded Tokio runtime and accepts from the shared listening
//! socket. A connection whose first request asks for a feed (`GET`/`HEAD /feeds/…`, as podcast
//! apps' and directories' connections do) stays on that thread, where hyper's HTTP/1 serves it:
//! a feed held in memory is answered there and then (`http::feeds::from_memory`), with no task
//! of its own and no wake-up of another thread, and any other request on it runs as a task on
//! the application's multi-threaded runtime (the one `serve` is called on, where the pools,
//! timers and background tasks live). Every other connection (pages, the API, media) is moved
//! to the application's runtime and served there, as `axum::serve` served all of them.
//!
//! Why: for a feed's 304 under `wrk` (50 connections, 6 rounds of 5 s in turns with nginx,
//! 2026-12-02), Siaran on Tokio's work-stealing runtime spent a median 11.6 µs of CPU per
//! request and answered 84,500 a second; on these threads 10.9 µs and 91,200 (nginx: 11.1 µs,
//! 82,800). About three quarters of what is left is the kernel's (`recvfrom`, `writev`,
//! waking the client), which nginx pays alike: one `recvfrom` and one `writev` a request for
//! both (`strace -c`).
//!
//! hyper's header-read timeout is not set (as `axum::serve` did not set it): it arms a timer
//! for every request.
//!
//! Balance: the kernel hands a new connection to whichever thread accepts first. Under `wrk`'s
//! 50 connections (10 runs of 2 s, 2026-12-02) one thread did 65-70% of the work in three runs
//! and all of it in one. So a thread keeps a feed connection only while no other thread serves
//! fewer; else it hands it to the one serving fewest ([`Threads`]). Every run is then split
//! 49-51% at worst, and the 304s of 30 rounds in turns with the code before came out at a median
//! 1.10 times its rate (quartiles 1.01 and 1.21): 1.01 times nginx's, where it had 0.97. A
//! connection stays on its thread once there, so a few busy ones can still load one core while
//! another idles.

use std::{
    convert::Infallible,
    future::{Future, Ready},
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    Router,
    body::Body,
    extract::{ConnectInfo, Request},
    response::{IntoResponse as _, Response},
};
use futures_util::future::Either;
use hyper::body::Incoming;
use hyper_util::{
    rt::TokioIo,
    server::graceful::{GracefulShutdown, Watcher},
};
use tokio::{
    net::{TcpListener, TcpStream},
    runtime::Handle,
    sync::{
        mpsc::{self, UnboundedReceiver, UnboundedSender},
        watch,
    },
    task::JoinHandle,
};
use tower::{ServiceExt as _, util::Oneshot};

use crate::{app::AppState, error::AppError, http};

/// Serves `router` (and `state`'s feeds from memory) on `listener` until `shutdown` resolves,
/// then stops accepting and lets the open connections finish their requests. Dropping the
/// returned future closes every connection at once.
pub(crate) async fn serve(
    listener: TcpListener,
    state: AppState,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = listener.into_std()?;
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let (inboxes, mut received): (Vec<_>, Vec<_>) =
        (0..threads).map(|_| mpsc::unbounded_channel()).unzip();
    let app = App {
        state,
        router,
        main: Handle::current(),
        threads: Arc::new(Threads {
            load: (0..threads).map(|_| Load::default()).collect(),
            inboxes: inboxes.into(),
        }),
    };
    // `true` asks the threads to drain; the sender dropped (this future dropped, or the drain
    // over) stops them at once.
    let (stop_tx, stop_rx) = watch::channel(false);
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    for (n, inbox) in received.drain(..).enumerate() {
        let listener = listener.try_clone()?;
        let (app, stop, done) = (app.clone(), stop_rx.clone(), done_tx.clone());
        let here = Here { thread: n, inbox };
        std::thread::Builder::new()
            .name(format!("siaran-http-{n}"))
            .spawn(move || {
                let _ = done.send(connections(listener, app, here, stop));
            })?;
    }
    drop((done_tx, listener, app));
    let mut result = tokio::select! {
        () = shutdown => Ok(()),
        // A thread that ends before the shutdown could not start (its runtime or its socket).
        Some(early) = done_rx.recv() => early,
    };
    let _ = stop_tx.send(true);
    while let Some(done) = done_rx.recv().await {
        result = result.and(done);
    }
    result
}

/// A connection thread: its number and the connections other threads hand it.
struct Here {
    thread: usize,
    inbox: UnboundedReceiver<Handed>,
}

/// One thread's connections, from its first accept to its last connection closed.
fn connections(
    listener: std::net::TcpListener,
    app: App,
    mut here: Here,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async move {
        let listener = TcpListener::from_std(listener)?;
        let http = hyper::server::conn::http1::Builder::new();
        let graceful = GracefulShutdown::new();
        loop {
            let accepted = tokio::select! {
                biased;
                changed = stop.changed() => match changed {
                    Ok(()) if *stop.borrow() => break,
                    Ok(()) => continue,
                    Err(_) => return Ok(()),
                },
                Some(handed) = here.inbox.recv() => {
                    let (app, http, watcher) = (app.clone(), http.clone(), graceful.watcher());
                    tokio::spawn(handed.served(app, http, watcher));
                    continue;
                }
                accepted = listener.accept() => accepted,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of file descriptors, say: wait rather than spin (as axum::serve).
                    tracing::error!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            // Responses are whole when written: no reason to wait for an acknowledgement.
            let _ = stream.set_nodelay(true);
            let (app, http, stop, watcher) =
                (app.clone(), http.clone(), stop.clone(), graceful.watcher());
            tokio::spawn(connection(
                stream,
                peer,
                app,
                here.thread,
                http,
                stop,
                watcher,
            ));
        }
        drop(listener);
        // What was handed over before this is served; a thread handing one over later keeps it.
        here.inbox.close();
        while let Ok(handed) = here.inbox.try_recv() {
            tokio::spawn(handed.served(app.clone(), http.clone(), graceful.watcher()));
        }
        tokio::select! {
            () = graceful.shutdown() => {}
            // The drain is over (or `serve` was dropped): the runtime's end closes the rest.
            _ = stop.changed() => {}
        }
        Ok(())
    });
    // Nothing of the application runs here; nothing is waited for.
    runtime.shutdown_background();
    result
}

/// Serves one accepted connection: here if its first request asks for a feed, else on the
/// application's runtime, where the I/O its requests need lives (the S3 client's connections,
/// the database's): a media response streamed from S3 through this thread cost a quarter to a
/// half more CPU per range than on the application's runtime (`scripts/bench-delivery --parts
/// s3`: 1039–1330 µs against 839–863 µs).
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: App,
    here: usize,
    http: Http,
    mut stop: watch::Receiver<bool>,
    watcher: Watcher,
) {
    // Sent nothing yet when the drain starts: closed, nothing is lost.
    let mut first = [0; 12];
    let peeked = tokio::select! {
        peeked = stream.peek(&mut first) => peeked,
        _ = stop.wait_for(|stop| *stop) => return,
    };
    let Ok(n) = peeked else { return };
    let feed = [&b"GET /feeds/"[..], b"HEAD /feeds/"]
        .iter()
        .any(|start| first[..n].starts_with(start));
    if feed {
        let seat = app.threads.seat(here);
        if seat.thread == here {
            let service = Connection {
                app,
                peer,
                forward: true,
            };
            served_here(stream, service, http, watcher, seat).await;
        } else if let Ok(stream) = stream.into_std() {
            let to = &app.threads.inboxes[seat.thread];
            if let Err(mpsc::error::SendError(handed)) = to.send(Handed { stream, peer, seat }) {
                // That thread has stopped taking connections (the drain): served here.
                handed.served(app, http, watcher).await;
            }
        }
        return;
    }
    let service = Connection {
        app,
        peer,
        forward: false,
    };
    let Ok(stream) = stream.into_std() else {
        return;
    };
    let main = service.app.main.clone();
    main.spawn(async move {
        if let Ok(stream) = TcpStream::from_std(stream) {
            served(stream, service, http, watcher, stop).await;
        }
    });
}

/// A feed connection on its connection thread, counted there (`seat`), until it ends or the
/// drain closes it (`watcher`). When the drain is over or `serve` is dropped, the end of the
/// thread's runtime closes it.
async fn served_here(
    stream: TcpStream,
    service: Connection,
    http: Http,
    watcher: Watcher,
    seat: Seat,
) {
    let peer = service.peer;
    let connection = watcher.watch(http.serve_connection(TokioIo::new(stream), service));
    if let Err(e) = connection.await {
        tracing::trace!(error = %e, %peer, "connection ended with an error");
    }
    drop(seat);
}

/// `service` over `stream` until the connection ends, the drain closes it (`watcher`), or the
/// drain is over or `serve` dropped (`stop`'s sender gone): then at once.
async fn served(
    stream: TcpStream,
    service: Connection,
    http: Http,
    watcher: Watcher,
    mut stop: watch::Receiver<bool>,
) {
    let peer = service.peer;
    let connection = watcher.watch(http.serve_connection(TokioIo::new(stream), service));
    tokio::select! {
        result = connection => {
            if let Err(e) = result {
                tracing::trace!(error = %e, %peer, "connection ended with an error");
            }
        }
        () = async { while stop.changed().await.is_ok() {} } => {}
    }
}

type Http = hyper::server::conn::http1::Builder;

/// Errors of one connection that was being accepted, not of the listener.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

#[derive(Clone)]
struct App {
    state: AppState,
    router: Router,
    /// The application's runtime.
    main: Handle,
    threads: Arc<Threads>,
}

/// The connection threads' feed connections, counted so that each new one goes to a thread
/// serving fewest.
struct Threads {
    /// Feed connections each thread serves.
    load: Box<[Load]>,
    /// Connections for each thread from the others.
    inboxes: Box<[UnboundedSender<Handed>]>,
}

/// A thread's count, alone in its cache line: each thread writes its own on every connection.
#[derive(Default)]
#[repr(align(128))]
struct Load(AtomicUsize);

impl Threads {
    /// A seat for a feed connection accepted on thread `here`: there, unless another thread
    /// serves fewer; then on the one serving fewest.
    fn seat(self: &Arc<Self>, here: usize) -> Seat {
        let load = |thread: usize| self.load[thread].0.load(Ordering::Relaxed);
        let fewest = (0..self.load.len())
            .min_by_key(|&t| load(t))
            .unwrap_or(here);
        let thread = if load(here) <= load(fewest) {
            here
        } else {
            fewest
        };
        self.load[thread].0.fetch_add(1, Ordering::Relaxed);
        Seat {
            threads: self.clone(),
            thread,
        }
    }
}

/// One feed connection counted on `thread` for as long as this lives.
struct Seat {
    threads: Arc<Threads>,
    thread: usize,
}

impl Drop for Seat {
    fn drop(&mut self) {
        self.threads.load[self.thread]
            .0
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// A feed connection handed to another thread, its first request still unread in the socket.
struct Handed {
    stream: std::net::TcpStream,
    peer: SocketAddr,
    seat: Seat,
}

impl Handed {
    async fn served(self, app: App, http: Http, watcher: Watcher) {
        let Ok(stream) = TcpStream::from_std(self.stream) else {
            return;
        };
        let service = Connection {
            app,
            peer: self.peer,
            forward: true,
        };
        served_here(stream, service, http, watcher, self.seat).await;
    }
}

/// One connection's requests.
struct Connection {
    app: App,
    peer: SocketAddr,
    /// On a connection thread: requests other than a feed's run on the application's runtime.
    forward: bool,
}

impl hyper::service::Service<hyper::Request<Incoming>> for Connection {
    type Response = Response;
    type Error = Infallible;
    type Future =
        Either<Ready<Result<Response, Infallible>>, Either<Forwarded, Oneshot<Router, Request>>>;

    fn call(&self, request: hyper::Request<Incoming>) -> Self::Future {
        if let Some(res) = http::feeds::from_memory(&self.app.state, &request) {
            return Either::Left(std::future::ready(Ok(res)));
        }
        let mut request: Request = request.map(Body::new);
        // What `into_make_service_with_connect_info` would insert: download counting keys
        // listeners on the peer address (see `http::media`).
        request.extensions_mut().insert(ConnectInfo(self.peer));
        let handled = self.app.router.clone().oneshot(request);
        Either::Right(if self.forward {
            Either::Left(Forwarded(self.app.main.spawn(handled)))
        } else {
            Either::Right(handled)
        })
    }
}

/// A request handled on the application's runtime. Dropped (the client went away), it cancels
/// the handler, as it would be cancelled had it run on the connection's own task.
struct Forwarded(JoinHandle<Result<Response, Infallible>>);

impl Future for Forwarded {
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(|joined| match joined {
            Ok(response) => response,
            Err(e) => {
                // A panic in a handler: that request fails, the connection and the service
                // go on.
                tracing::error!(error = %e, "a request's handler failed");
                Ok(
                    AppError::Op(crate::service::Error::Internal(anyhow::anyhow!(
                        "the handler failed: {e}"
                    )))
                    .into_response(),
                )
            }
        })
    }
}

impl Drop for Forwarded {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn threads(n: usize) -> (Arc<Threads>, Vec<UnboundedReceiver<Handed>>) {
        let (inboxes, received): (Vec<_>, Vec<_>) =
            (0..n).map(|_| mpsc::unbounded_channel()).unzip();
        let threads = Threads {
            load: (0..n).map(|_| Load::default()).collect(),
            inboxes: inboxes.into(),
        };
        (Arc::new(threads), received)
    }

    fn loads(threads: &Threads) -> Vec<usize> {
        threads
            .load
            .iter()
            .map(|l| l.0.load(Ordering::Relaxed))
            .collect()
    }

    #[test]
    fn a_feed_connection_stays_where_it_was_accepted_unless_another_thread_serves_fewer() {
        let (threads, _inboxes) = threads(3);
        let seats: Vec<Seat> = [0, 0, 0, 2, 2].iter().map(|&t| threads.seat(t)).collect();
        // Kept by thread 0, handed to 1 and to 2, then every thread serves one: kept by 2,
        // and 2 serving two, handed to 0 (the first of those serving fewest).
        let went: Vec<usize> = seats.iter().map(|s| s.thread).collect();
        assert_eq!(went, [0, 1, 2, 2, 0]);
        assert_eq!(loads(&threads), [2, 1, 2]);

        let mut seats = seats;
        drop(seats.remove(1));
        assert_eq!(loads(&threads), [2, 0, 2]);
        assert_eq!(threads.seat(0).thread, 1, "thread 1 serves none now");
        drop(seats);
        assert_eq!(loads(&threads), [0, 0, 0], "every seat given back");
    }
}
