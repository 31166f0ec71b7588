//! TLS to PostgreSQL: the `postgres://…` URL with libpq's `sslmode` and `sslrootcert` options,
//! for both santei-security's store and the service's storage (one parser, one policy).
//!
//! * `sslrootcert=FILE` (PEM CA certificates): TLS through rustls (ring), the server certificate
//!   verified against those CAs **and its name checked against the host** (libpq's
//!   `verify-full`); TLS is then required (no silent fallback to plain text).
//! * `sslmode=verify-full` / `verify-ca` / `require` need `sslrootcert`: santei does not connect
//!   with TLS it cannot verify (libpq's `require` would). `verify-ca` is verified like
//!   `verify-full` (the host name is checked too: stricter, never weaker).
//! * No `sslrootcert`, `sslmode` absent/`prefer`/`disable`: plain TCP, as before — for a private
//!   network or a Unix socket (documented in SECURITY.md).
//!
//! tokio-postgres rejects options it does not know (`sslrootcert`) and the `verify-*` modes, so
//! they are taken out of the URL here and what is left goes to the driver with `sslmode=require`.

use crate::error::{Result, SecError};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;
use tokio_rustls::rustls;

/// A URL ready for the driver and the TLS connector it needs (None: plain TCP).
#[derive(Clone)]
pub struct PgTarget {
    /// The URL without `sslrootcert`, `sslmode` rewritten for the driver.
    pub url: String,
    pub tls: Option<MakeRustlsConnect>,
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the URL: it carries the password.
        f.debug_struct("PgTarget").field("tls", &self.tls.is_some()).finish()
    }
}

fn invalid(ja: impl Into<String>, en: impl Into<String>) -> SecError {
    SecError::invalid("S912", ja, en)
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Split `url` into what the driver takes and the TLS it needs (see the module docs).
pub fn target(url: &str) -> Result<PgTarget> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, q),
        None => (url, ""),
    };
    let mut keep = Vec::new();
    let mut mode: Option<String> = None;
    let mut root: Option<String> = None;
    for kv in query.split('&').filter(|s| !s.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        match k {
            "sslmode" => mode = Some(v.to_string()),
            "sslrootcert" => {
                root = Some(percent_decode(v).ok_or_else(|| {
                    invalid("sslrootcert の値を解釈できません", "cannot decode the sslrootcert value")
                })?)
            }
            _ => keep.push(kv),
        }
    }
    let wants_tls = match mode.as_deref() {
        None | Some("prefer") | Some("disable") => root.is_some() && mode.as_deref() != Some("disable"),
        Some("require") | Some("verify-ca") | Some("verify-full") => true,
        Some(m) => {
            return Err(invalid(
                format!("sslmode={m} は使えません(disable, prefer, require, verify-ca, verify-full)"),
                format!("unknown sslmode={m} (disable, prefer, require, verify-ca, verify-full)"),
            ))
        }
    };
    if mode.as_deref() == Some("disable") && root.is_some() {
        return Err(invalid(
            "sslmode=disable と sslrootcert は同時に指定できません",
            "sslmode=disable contradicts sslrootcert",
        ));
    }
    let tls = if wants_tls {
        let Some(path) = root else {
            return Err(invalid(
                "PostgreSQL への TLS にはサーバー証明書を検証する CA が必要です: URL に sslrootcert=FILE(PEM)を付けてください",
                "TLS to PostgreSQL needs the CA to verify the server certificate with: add sslrootcert=FILE (PEM) to the URL",
            ));
        };
        Some(connector(std::path::Path::new(&path))?)
    } else {
        None
    };
    if tls.is_some() {
        keep.push("sslmode=require");
    } else if let Some(m) = mode.as_deref() {
        if m == "disable" {
            keep.push("sslmode=disable");
        }
    }
    let url = if keep.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", keep.join("&"))
    };
    Ok(PgTarget { url, tls })
}

fn connector(ca: &std::path::Path) -> Result<MakeRustlsConnect> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(ca)
        .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| {
            invalid(
                format!("{}: PostgreSQL の CA 証明書を読めません: {e}", ca.display()),
                format!("{}: cannot read the PostgreSQL CA certificate: {e}", ca.display()),
            )
        })?;
    let mut roots = rustls::RootCertStore::empty();
    for c in certs {
        roots.add(c).map_err(|e| {
            invalid(
                format!("{}: CA 証明書が不正です: {e}", ca.display()),
                format!("{}: bad CA certificate: {e}", ca.display()),
            )
        })?;
    }
    if roots.is_empty() {
        return Err(invalid(
            format!("{}: CA 証明書がありません", ca.display()),
            format!("{}: no CA certificate in the file", ca.display()),
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(format!("TLS: {e}"), format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(cfg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca_file(dir: &std::path::Path) -> String {
        let ck = rcgen::generate_simple_self_signed(vec!["db.example".to_string()]).unwrap();
        let p = dir.join("ca.pem");
        std::fs::write(&p, ck.cert.pem()).unwrap();
        p.to_str().unwrap().to_string()
    }

    #[test]
    fn urls() {
        let d = tempfile::tempdir().unwrap();
        let ca = ca_file(d.path());
        let plain = target("postgres://u:p@h:5432/db").unwrap();
        assert_eq!((plain.url.as_str(), plain.tls.is_some()), ("postgres://u:p@h:5432/db", false));
        let t = target(&format!("postgres://u:p@h/db?sslrootcert={ca}&application_name=x")).unwrap();
        assert_eq!((t.url.as_str(), t.tls.is_some()), ("postgres://u:p@h/db?application_name=x&sslmode=require", true));
        let enc = ca.replace('/', "%2F");
        let t = target(&format!("postgres://u:p@h/db?sslmode=verify-full&sslrootcert={enc}")).unwrap();
        assert_eq!((t.url.as_str(), t.tls.is_some()), ("postgres://u:p@h/db?sslmode=require", true));
        let t = target("postgres://u:p@h/db?sslmode=disable").unwrap();
        assert_eq!((t.url.as_str(), t.tls.is_some()), ("postgres://u:p@h/db?sslmode=disable", false));
        // TLS that cannot be verified is refused, as are contradictions and unknown modes.
        for bad in ["postgres://h/db?sslmode=require", "postgres://h/db?sslmode=verify-ca", "postgres://h/db?sslmode=allow"] {
            assert_eq!(target(bad).unwrap_err().code, "S912", "{bad}");
        }
        assert_eq!(target(&format!("postgres://h/db?sslmode=disable&sslrootcert={ca}")).unwrap_err().code, "S912");
        let e = target("postgres://h/db?sslrootcert=/nonexistent/ca.pem").unwrap_err();
        assert!(e.message_en.contains("/nonexistent/ca.pem"), "{e:?}");
        // The password never shows in Debug.
        assert!(!format!("{:?}", target("postgres://u:secretpw@h/db").unwrap()).contains("secretpw"));
    }
}
