//! TLS towards upstream servers: the system's roots (plus a configured bundle), never
//! anything weaker, whatever the client said to the proxy.

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

use crate::ProxyError;

/// The one crypto provider (ring) used on both sides.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The client configuration for upstream connections: the system's root certificates
/// and those in `extra` (PEM).
pub fn upstream_config(extra: Option<&Path>) -> Result<Arc<ClientConfig>, ProxyError> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        // A system certificate the parser rejects is skipped, like every TLS client does.
        let _ = roots.add(cert);
    }
    if let Some(path) = extra {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| ProxyError::Ca(format!("{}: {e}", path.display())))?
            .collect::<Result<_, _>>()
            .map_err(|e| ProxyError::Ca(format!("{}: {e}", path.display())))?;
        if certs.is_empty() {
            return Err(ProxyError::Ca(format!(
                "{} holds no PEM certificate",
                path.display()
            )));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| ProxyError::Ca(format!("{}: {e}", path.display())))?;
        }
    }
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| ProxyError::Ca(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
