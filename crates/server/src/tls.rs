//! TLS (rustls) and the listen policy.
//!
//! `axum::serve` speaks plain HTTP only, so HTTPS is a small accept loop: `tokio-rustls` for the
//! handshake and hyper's HTTP/1.1 connection driver (both already in the tree under axum), the
//! router called as a tower service with the peer address inserted as `ConnectInfo`. This adds
//! no framework (`axum-server` would bring its own copies of the same pieces).
//! Provider: rustls' `ring` (no CMake/aws-lc build). TLS 1.2 and 1.3, rustls' safe defaults.

use crate::AppState;
use axum::extract::ConnectInfo;
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

/// `--tls-cert FILE --tls-key FILE` (PEM).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    /// Load the certificate chain and key; a clear bilingual message on any problem.
    pub fn acceptor(&self) -> Result<TlsAcceptor, String> {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&self.cert)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("TLS 証明書を読めません / cannot read TLS certificate {}: {e}", self.cert.display()))?;
        if certs.is_empty() {
            return Err(format!("TLS 証明書がありません / no certificate in {}", self.cert.display()));
        }
        let key = PrivateKeyDer::from_pem_file(&self.key)
            .map_err(|e| format!("TLS 秘密鍵を読めません / cannot read TLS private key {}: {e}", self.key.display()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| format!("TLS 証明書と秘密鍵が不正です / bad TLS certificate or key: {e}"))?;
        let mut cfg = cfg;
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(cfg)))
    }
}

/// Refuse to listen on a non-loopback address without TLS unless `--insecure-dev`.
pub fn check_listen_policy(listen: SocketAddr, tls: bool, insecure_dev: bool) -> Result<(), String> {
    if tls || insecure_dev || listen.ip().is_loopback() {
        return Ok(());
    }
    Err(format!(
        "{listen} はループバックではありません。TLS なしでは待ち受けできません(--tls-cert と --tls-key を指定するか、開発用に限り --insecure-dev) / \
         refusing to listen on non-loopback address {listen} without TLS: give --tls-cert and --tls-key (or --insecure-dev for development only)"
    ))
}

/// Serve HTTPS on `listener` until `shutdown` resolves. Connections in progress are not waited
/// for at shutdown beyond the current request's completion on that task.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    acceptor: TlsAcceptor,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = crate::app(state);
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let router = router.clone();
        tokio::spawn(async move {
            let tls = match acceptor.accept(tcp).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::debug!(error = %e, "TLS handshake failed");
                    return;
                }
            };
            let svc = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                let mut r = router.clone();
                async move { tower_service::Service::call(&mut r, req.map(axum::body::Body::new)).await }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), svc).await {
                tracing::debug!(error = %e, "connection error");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_policy() {
        let any: SocketAddr = "0.0.0.0:8443".parse().unwrap();
        let lo: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let err = check_listen_policy(any, false, false).unwrap_err();
        assert!(err.contains("without TLS") && err.contains("--insecure-dev"), "{err}");
        assert!(check_listen_policy(any, true, false).is_ok());
        assert!(check_listen_policy(any, false, true).is_ok());
        assert!(check_listen_policy(lo, false, false).is_ok());
        assert!(check_listen_policy("[::1]:80".parse().unwrap(), false, false).is_ok());
    }
}
