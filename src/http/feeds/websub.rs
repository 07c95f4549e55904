//! The WebSub publisher's ping (W3C WebSub §7, "Publishing"): `POST` to the hub with
//! `hub.mode=publish&hub.url=FEED`. Sent off the request path with a timeout and a few retries;
//! the outcome is logged and never reaches the publisher.

use std::time::Duration;

use anyhow::Context as _;
use axum::http::{Request, StatusCode, header};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use url::Url;

/// A hub that does not answer in this time is tried again later.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Waits before the second and third attempts.
const RETRIES: [Duration; 2] = [Duration::from_secs(5), Duration::from_secs(30)];

pub struct Hub {
    url: Url,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Hub {
    /// A client for `url` (hyper with rustls and the system's root certificates, the stack the
    /// S3 client already uses).
    pub fn new(url: Url) -> anyhow::Result<Hub> {
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let builder = match builder.with_provider_and_native_roots(provider) {
            Ok(builder) => builder,
            // A plain-HTTP hub (an internal one, or a test's) needs no certificates.
            Err(e) if url.scheme() == "http" => {
                tracing::debug!(error = %e, "no root certificates; the hub is plain HTTP");
                let config = rustls::ClientConfig::builder_with_provider(
                    rustls::crypto::aws_lc_rs::default_provider().into(),
                )
                .with_safe_default_protocol_versions()?
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
                hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config)
            }
            Err(e) => {
                return Err(e).context("no root certificates to check the hub's HTTPS with");
            }
        };
        let connector = builder.https_or_http().enable_http1().build();
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Hub { url, client })
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Tells the hub that `feed_url` changed, retrying a failed attempt twice; logs the outcome.
    pub async fn publish(&self, feed_url: &str) {
        for (attempt, wait) in std::iter::once(None)
            .chain(RETRIES.into_iter().map(Some))
            .enumerate()
        {
            if let Some(wait) = wait {
                tokio::time::sleep(wait).await;
            }
            match self.ping(feed_url).await {
                Ok(status) if status.is_success() => {
                    tracing::info!(hub = %self.url, feed = feed_url, %status, "WebSub hub pinged");
                    return;
                }
                // 4xx: the hub refuses this feed; asking again will not change its mind.
                Ok(status) if status.is_client_error() => {
                    tracing::warn!(hub = %self.url, feed = feed_url, %status, "WebSub hub refused the ping");
                    return;
                }
                Ok(status) => {
                    tracing::warn!(hub = %self.url, feed = feed_url, %status, attempt, "WebSub ping failed");
                }
                Err(e) => {
                    tracing::warn!(hub = %self.url, feed = feed_url, error = format!("{e:#}"), attempt, "WebSub ping failed");
                }
            }
        }
    }

    async fn ping(&self, feed_url: &str) -> anyhow::Result<StatusCode> {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("hub.mode", "publish")
            .append_pair("hub.url", feed_url)
            .finish();
        let request = Request::post(self.url.as_str())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(
                header::USER_AGENT,
                concat!("Siaran/", env!("CARGO_PKG_VERSION"), " (WebSub)"),
            )
            .body(Full::new(Bytes::from(form)))?;
        tokio::time::timeout(TIMEOUT, async {
            let response = self.client.request(request).await?;
            let status = response.status();
            // Read the (short) answer so the connection can be reused.
            response.into_body().collect().await?;
            anyhow::Ok(status)
        })
        .await
        .context("the hub did not answer in time")?
    }
}
