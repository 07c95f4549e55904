//! Connections that are slow or idle (`connections`, `SIARAN_HEADER_READ_TIMEOUT_SECS`): one that
//! sends half a request line or nothing is closed once the header-read timeout has passed, and
//! so is a keep-alive connection left idle that long; meanwhile the service answers others.

use std::time::{Duration, Instant};

use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};

use crate::helpers::{Backend, TestApp};

/// Short, so that these tests take seconds; long enough for a loaded machine to do what comes
/// before it.
const TIMEOUT: Duration = Duration::from_secs(2);

async fn spawn() -> TestApp {
    TestApp::spawn_with(Backend::SqliteFs, |s| s.header_read_timeout = TIMEOUT).await
}

fn address(app: &TestApp) -> &str {
    app.base.strip_prefix("http://").unwrap()
}

/// Reads what the server still sends until it closes the connection (EOF or reset), and asserts
/// that this came no sooner than `timeout` after `start` (before `stream` was opened or last used)
/// and before three times that.
async fn assert_closed_after(
    timeout: Duration,
    stream: &mut TcpStream,
    start: Instant,
    what: &str,
) {
    let mut buf = [0; 1024];
    let read_to_end = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return start.elapsed(),
                Ok(_) => {}
            }
        }
    };
    let Ok(after) = tokio::time::timeout_at((start + 3 * timeout).into(), read_to_end).await else {
        panic!("{what}: still open at three times the timeout");
    };
    assert!(
        after >= timeout,
        "{what}: closed after {after:?}, before the timeout"
    );
}

async fn assert_closed_by_the_timeout(stream: &mut TcpStream, start: Instant, what: &str) {
    assert_closed_after(TIMEOUT, stream, start, what).await;
}

/// `GET /healthz` on `stream`, its whole answer read (a `Content-Length` body): 200.
async fn healthz(stream: &mut TcpStream) {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0; 1024];
    loop {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before the answer: {got:?}");
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if body.len() >= length {
                assert!(head.starts_with("HTTP/1.1 200"), "{head}");
                return;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_request_line_is_closed_after_the_header_read_timeout() {
    let app = spawn().await;
    let start = Instant::now();
    let mut stream = TcpStream::connect(address(&app)).await.unwrap();
    stream.write_all(b"GET /healthz HT").await.unwrap();
    assert_closed_by_the_timeout(&mut stream, start, "half a request line").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_the_timeout() {
    let app = spawn().await;
    let mut stream = TcpStream::connect(address(&app)).await.unwrap();
    healthz(&mut stream).await;
    // Idle for less than the timeout: kept alive.
    tokio::time::sleep(TIMEOUT / 4).await;
    let start = Instant::now();
    healthz(&mut stream).await;
    assert_closed_by_the_timeout(&mut stream, start, "idle after a response").await;
}

/// What a slowloris run left: the service answers at once while 1,000 connections that sent
/// half a request line or nothing are open, and closes each of them once the timeout has passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_while_a_thousand_connections_stay_silent_and_they_are_closed() {
    const SILENT: usize = 1_000;
    // Opening a thousand connections takes about a second when the machine is busy (the whole
    // suite beside it): the timeout is long enough that none can expire before all are open.
    const SLOW: Duration = Duration::from_secs(6);
    // Both ends of each connection are in this process, and the service's own files beside.
    raise_open_files_to(2 * SILENT as u64 + 512);
    let app = TestApp::spawn_with(Backend::SqliteFs, |s| s.header_read_timeout = SLOW).await;
    let start = Instant::now();
    let mut silent = Vec::with_capacity(SILENT);
    for n in 0..SILENT {
        let mut stream = TcpStream::connect(address(&app)).await.unwrap();
        if n % 2 == 0 {
            stream.write_all(b"GET /feeds/x.xml HT").await.unwrap();
        }
        silent.push(stream);
    }
    let opened = start.elapsed();
    assert!(opened < SLOW / 2, "opening them took {opened:?}");

    let mut other = TcpStream::connect(address(&app)).await.unwrap();
    tokio::time::timeout(SLOW / 4, healthz(&mut other))
        .await
        .expect("/healthz answers at once");
    let mut buf = [0; 64];
    for stream in &silent {
        let read = stream.try_read(&mut buf);
        assert!(
            matches!(&read, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "a silent connection was not open while /healthz answered: {read:?}"
        );
    }

    for (n, stream) in silent.iter_mut().enumerate() {
        assert_closed_after(SLOW, stream, start, &format!("silent connection {n}")).await;
    }
    // `other` has been idle as long: a new connection.
    healthz(&mut TcpStream::connect(address(&app)).await.unwrap()).await;
}

/// Raises this process's soft limit on open files to `needed` if it is lower (up to the hard
/// limit, which must allow it).
fn raise_open_files_to(needed: u64) {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current.is_some_and(|soft| soft < needed) {
        assert!(
            limit.maximum.is_none_or(|hard| hard >= needed),
            "the hard limit on open files is below {needed}: {limit:?}"
        );
        let raised = rustix::process::Rlimit {
            current: Some(needed),
            ..limit
        };
        setrlimit(Resource::Nofile, raised).expect("raise the soft limit on open files");
    }
}
