//! TLS for `infobank serve` when it faces clients directly (docs/operations.md shows the
//! reverse-proxy alternative). rustls with the ring provider, the one crypto library the rest
//! of infobank uses; TLS 1.2 and 1.3.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("the certificate and key do not make a TLS configuration: {0}")]
    Config(String),
}

fn file_error(path: &Path, message: impl std::fmt::Display) -> TlsError {
    TlsError::File {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// Reads a PEM certificate chain (leaf first) and its PEM private key (PKCS#8, PKCS#1 or SEC1).
pub fn server_config(cert_chain: &Path, private_key: &Path) -> Result<ServerConfig, TlsError> {
    let certs = CertificateDer::pem_file_iter(cert_chain)
        .map_err(|e| file_error(cert_chain, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(cert_chain, e))?;
    if certs.is_empty() {
        return Err(file_error(cert_chain, "no PEM certificate in the file"));
    }
    let key = PrivateKeyDer::from_pem_file(private_key).map_err(|e| file_error(private_key, e))?;
    // actix-http adds the ALPN protocols it speaks itself.
    ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Config(e.to_string()))
}
