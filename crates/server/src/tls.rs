//! TLS (rustls) and the listen policy.
//!
//! `axum::serve` speaks plain HTTP only, so HTTPS is a small accept loop: `tokio-rustls` for the
//! handshake and hyper's HTTP/1.1 connection driver (both already in the tree under axum), the
//! router called as a tower service with the peer address inserted as `ConnectInfo`. This adds
//! no framework (`axum-server` would bring its own copies of the same pieces).
//! Provider: rustls' `ring` (no CMake/aws-lc build). TLS 1.2 and 1.3, rustls' safe defaults.
//!
//! **Mutual TLS for machine clients** (`--tls-client-ca FILE`): a client may present a
//! certificate; if it does, it must chain to one of the given CA certificates or the handshake
//! fails. Its SHA-256 (of the DER bytes) reaches the handlers as [`ClientCert`]; an API token
//! bound to that fingerprint (`POST /v1/api-tokens {"client_cert_sha256": …}`, `santei admin
//! token create --client-cert FILE`) authenticates only on such a connection. With
//! `--tls-require-client-cert` every connection must present one (a machine-only endpoint).

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

/// `--tls-cert FILE --tls-key FILE` (PEM), and optionally `--tls-client-ca FILE` (PEM CA
/// certificates for client certificates) with `--tls-require-client-cert`.
#[derive(Debug, Clone, Default)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
    pub require_client_cert: bool,
}

/// The verified client certificate of the connection a request came on: SHA-256 of its DER.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientCert(pub [u8; 32]);

/// SHA-256 of a certificate's DER bytes: how santei names a client certificate.
pub fn cert_sha256(der: &[u8]) -> [u8; 32] {
    santei_security::util::sha256(der)
}

/// The fingerprint of the first certificate in a PEM file (`santei admin token create
/// --client-cert FILE`).
pub fn pem_cert_sha256(path: &std::path::Path) -> Result<[u8; 32], String> {
    let c = CertificateDer::from_pem_file(path)
        .map_err(|e| format!("証明書を読めません / cannot read certificate {}: {e}", path.display()))?;
    Ok(cert_sha256(&c))
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
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?;
        let builder = match &self.client_ca {
            None if self.require_client_cert => {
                return Err("--tls-require-client-cert には --tls-client-ca が必要です / --tls-require-client-cert needs --tls-client-ca".into())
            }
            None => builder.with_no_client_auth(),
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                let cas: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(ca)
                    .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| format!("クライアント CA 証明書を読めません / cannot read client CA certificate {}: {e}", ca.display()))?;
                for c in cas {
                    roots
                        .add(c)
                        .map_err(|e| format!("クライアント CA 証明書が不正です / bad client CA certificate {}: {e}", ca.display()))?;
                }
                if roots.is_empty() {
                    return Err(format!("クライアント CA 証明書がありません / no CA certificate in {}", ca.display()));
                }
                let v = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
                let v = if self.require_client_cert { v } else { v.allow_unauthenticated() };
                let v = v.build().map_err(|e| format!("クライアント証明書の検証設定 / client certificate verifier: {e}"))?;
                builder.with_client_cert_verifier(v)
            }
        };
        let cfg = builder
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

/// Serve HTTPS on `listener` until `shutdown` resolves, then stop accepting, let every open
/// connection finish its request in flight (hyper's graceful shutdown: keep-alive connections
/// close after it) and return once they are done (at most [`DRAIN`]) — so the caller's final
/// audit flush comes after the last answered request.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    acceptor: TlsAcceptor,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = crate::app(state);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut conns = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = &mut shutdown => break,
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
        let mut stop = stop_rx.clone();
        conns.spawn(async move {
            let tls = tokio::select! {
                r = acceptor.accept(tcp) => match r {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::debug!(error = %e, "TLS handshake failed");
                        return;
                    }
                },
                _ = stop.changed() => return,
            };
            // Verified by rustls against --tls-client-ca during the handshake (if presented).
            let client_cert = tls.get_ref().1.peer_certificates().and_then(|c| c.first()).map(|c| ClientCert(cert_sha256(c)));
            let svc = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                if let Some(c) = client_cert {
                    req.extensions_mut().insert(c);
                }
                let mut r = router.clone();
                async move { tower_service::Service::call(&mut r, req.map(axum::body::Body::new)).await }
            });
            let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), svc);
            tokio::pin!(conn);
            let r = tokio::select! {
                r = conn.as_mut() => r,
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = r {
                tracing::debug!(error = %e, "connection error");
            }
        });
        // Reap finished connections so the set stays small.
        while conns.try_join_next().is_some() {}
    }
    let _ = stop_tx.send(true);
    if tokio::time::timeout(DRAIN, async { while conns.join_next().await.is_some() {} }).await.is_err() {
        tracing::warn!("connections still open after the drain period; closing them");
        conns.abort_all();
    }
    Ok(())
}

/// Longest a stopping HTTPS server waits for open connections to finish.
pub const DRAIN: std::time::Duration = std::time::Duration::from_secs(30);

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
