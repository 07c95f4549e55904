//! What Siaran's outgoing HTTP clients share (feed imports, S3 reads): TLS with rustls and
//! aws-lc-rs, the provider the S3 SDK already builds, and how their errors read.

use hyper_rustls::{HttpsConnectorBuilder, builderstates::WantsSchemes};

/// A connector builder that checks HTTPS against the system's root certificates. On a system
/// without any, the client still reaches plain-HTTP hosts (MinIO or Garage on a private network,
/// a test's server) and each HTTPS request fails with a certificate error; `what` names the
/// client in the warning logged then.
pub fn https_builder(what: &str) -> HttpsConnectorBuilder<WantsSchemes> {
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    match HttpsConnectorBuilder::new().with_provider_and_native_roots(provider) {
        Ok(builder) => builder,
        Err(e) => {
            tracing::warn!(error = %e, "no root certificates: HTTPS {what} will fail");
            let config = rustls::ClientConfig::builder_with_provider(
                rustls::crypto::aws_lc_rs::default_provider().into(),
            )
            .with_safe_default_protocol_versions()
            .expect("aws-lc-rs supports the default protocol versions")
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
            HttpsConnectorBuilder::new().with_tls_config(config)
        }
    }
}

/// An error and its causes on one line: hyper's own message is only "client error (Connect)",
/// its causes say "tcp connect error: Connection refused".
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}
