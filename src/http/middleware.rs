//! The middleware `app::build_router` puts around routes, as plain tower layers: the request
//! timeout ([`Timeout`]) and what finishes every response ([`FINISH`]: error bodies in the
//! asked-for language, `Connection: close` after a refused body, the security headers).
//!
//! Why not `axum::middleware::from_fn`: for every request and every such layer it clones and
//! boxes the rest of the stack and boxes its own future; as `from_fn`, three of these were 28%
//! of the instructions of a feed's 304 answered from memory. [`Around`] is [`FINISH`]'s shape:
//! read something from the request, finish the response with it.

use std::{
    convert::Infallible,
    pin::Pin,
    task::{Context, Poll, ready},
    time::Duration,
};

use axum::{
    extract::Request,
    http::{HeaderValue, header},
    response::{IntoResponse as _, Response},
};
use futures_util::future::{FutureExt as _, Map};
use tower::{Layer, Service};

use crate::http::{
    error::{self, AppError},
    security,
};

/// How long a JSON or feed request may take. Media streams and uploads are not bound by it.
pub const API_TIMEOUT: Duration = Duration::from_secs(30);

/// A request that outlives [`API_TIMEOUT`] answers 503 `timeout` in our error shape.
#[derive(Debug, Clone, Copy)]
pub struct Timeout;

impl<S> Layer<S> for Timeout {
    type Service = Timed<S>;
    fn layer(&self, inner: S) -> Timed<S> {
        Timed(inner)
    }
}

#[derive(Debug, Clone)]
pub struct Timed<S>(S);

type Answer = Result<Response, Infallible>;

impl<S: Service<Request, Response = Response, Error = Infallible>> Service<Request> for Timed<S> {
    type Response = Response;
    type Error = Infallible;
    type Future = Map<
        tokio::time::Timeout<S::Future>,
        fn(Result<Answer, tokio::time::error::Elapsed>) -> Answer,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        tokio::time::timeout(API_TIMEOUT, self.0.call(req))
            .map(|answer| answer.unwrap_or_else(|_| Ok(AppError::Timeout.into_response())))
    }
}

/// What every response gets on its way out, in one layer (each layer nests the futures of those
/// inside it: four of them were a tenth of a feed's 304): error bodies in the asked-for
/// language (`error::localize`), `Connection: close` after a refused body
/// ([`close_after_refused_body`]) and the security headers (`security::every_response`).
pub const FINISH: Around<Asked> = Around {
    before: |req| Asked {
        accept_language: req.headers().get(header::ACCEPT_LANGUAGE).cloned(),
        has_body: has_body(req),
    },
    after: |res, asked| {
        let mut res = error::localize(res, asked.accept_language.as_ref());
        close_after_refused_body(&mut res, asked.has_body);
        security::every_response(res.headers_mut());
        res
    },
};

/// What [`FINISH`] reads from the request.
#[derive(Debug, Clone)]
pub struct Asked {
    /// Read only if the response is an error.
    accept_language: Option<HeaderValue>,
    has_body: bool,
}

fn has_body(req: &Request) -> bool {
    let headers = req.headers();
    headers
        .get(header::CONTENT_LENGTH)
        .is_some_and(|v| v.as_bytes() != b"0")
        || headers.contains_key(header::TRANSFER_ENCODING)
}

/// An error answered to a request that carries a body says `Connection: close`. Such an answer
/// often comes before the body is read (413, 409, a bad checksum); the server then closes the
/// connection, and a client that reused it for its next request (a tus client's `HEAD` after a
/// refused `PATCH`) would see a broken pipe. RFC 9112, section 9.6.
fn close_after_refused_body(res: &mut Response, has_body: bool) {
    if has_body && (res.status().is_client_error() || res.status().is_server_error()) {
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
}

/// A layer that reads a `T` from each request (`before`) and finishes its response with it
/// (`after`).
#[derive(Debug)]
pub struct Around<T> {
    pub before: fn(&Request) -> T,
    pub after: fn(Response, T) -> Response,
}

// By hand: derived, they would ask `T` to be `Clone` and `Copy`.
impl<T> Clone for Around<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Around<T> {}

impl<S, T> Layer<S> for Around<T> {
    type Service = Wrapped<S, T>;
    fn layer(&self, inner: S) -> Wrapped<S, T> {
        Wrapped {
            inner,
            around: *self,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Wrapped<S, T> {
    inner: S,
    around: Around<T>,
}

impl<S, T> Service<Request> for Wrapped<S, T>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Finishing<S::Future, T>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let with = (self.around.before)(&req);
        Finishing {
            inner: self.inner.call(req),
            with: Some(with),
            after: self.around.after,
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of a [`Wrapped`] service: the inner one's, finished by `after`.
    pub struct Finishing<F, T> {
        #[pin]
        inner: F,
        with: Option<T>,
        after: fn(Response, T) -> Response,
    }
}

impl<F: Future<Output = Answer>, T> Future for Finishing<F, T> {
    type Output = Answer;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Answer> {
        let this = self.project();
        let res = ready!(this.inner.poll(cx))?;
        let with = this
            .with
            .take()
            .expect("a finished response is not polled again");
        Poll::Ready(Ok((this.after)(res, with)))
    }
}

#[cfg(test)]
mod tests {
    use axum::{body::Body, http::StatusCode};
    use tower::ServiceExt as _;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_request_that_outlives_the_timeout_answers_503_timeout() {
        let never = tower::service_fn(|_: Request| std::future::pending::<Answer>());
        let started = tokio::time::Instant::now();
        let res = Timeout
            .layer(never)
            .oneshot(Request::new(Body::empty()))
            .await;
        let res = res.unwrap_or_else(|never| match never {});
        assert_eq!(started.elapsed(), API_TIMEOUT);
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = axum::body::to_bytes(res.into_body(), 1024).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["code"], "timeout");
    }
}
