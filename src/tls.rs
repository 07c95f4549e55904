//! TLS for Siaran's outgoing HTTP clients (feed imports, S3 reads): rustls with aws-lc-rs, the
//! provider the S3 SDK already builds.

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
