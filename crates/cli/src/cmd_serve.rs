//! `santei serve` — the JSON API service (crate santei-server).

use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port; the bound address is printed)
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    listen: SocketAddr,
    /// Data directory: the master store, and the SQLite database `santei.db` (created on first
    /// start) [default: $SANTEI_DATA, else ~/.local/share/santei]
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// PostgreSQL instead of SQLite: postgres://user:password@host:port/database
    #[arg(long, env = "SANTEI_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    database_url: Option<String>,
    /// File holding the operator token (≥ 32 characters) for /v1/admin/* and remote /metrics.
    /// Without it, admin routes refuse every request (no default credentials).
    #[arg(long, env = "SANTEI_OPERATOR_TOKEN_FILE", value_name = "FILE")]
    operator_token_file: Option<PathBuf>,
    /// Serve the bundled sample master when the data directory has no master store (demo, tests)
    #[arg(long)]
    sample_master: bool,
    /// PEM certificate chain: serve HTTPS (rustls). Requires --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Mutual TLS for machine clients: PEM CA certificate(s) that client certificates must chain
    /// to. A presented certificate is verified; API tokens bound to one need it.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_client_ca: Option<PathBuf>,
    /// With --tls-client-ca: refuse connections without a valid client certificate.
    #[arg(long, requires = "tls_client_ca")]
    tls_require_client_cert: bool,
    /// Allow plain HTTP on a non-loopback address. Development only: credentials and patient
    /// data would cross the network in clear.
    #[arg(long)]
    insecure_dev: bool,
    /// Commit the audit entry of every request before answering it, calculations included. By
    /// default the entries of POST /v1/calculate and /v1/uke/check (computations on data the
    /// caller sends) are committed within 1 ms in groups, which is ~2x faster (SECURITY.md).
    #[arg(long)]
    audit_commit_all: bool,
}

pub fn run(a: ServeArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let cfg = santei_server::Config {
        listen: a.listen,
        data_dir: crate::cmd_master::data_dir(a.data_dir),
        database_url: a.database_url,
        operator_token_file: a.operator_token_file,
        sample_master: a.sample_master,
        tls: match (a.tls_cert, a.tls_key) {
            (Some(cert), Some(key)) => Some(santei_server::tls::TlsFiles {
                cert,
                key,
                client_ca: a.tls_client_ca,
                require_client_cert: a.tls_require_client_cert,
            }),
            _ => None,
        },
        insecure_dev: a.insecure_dev,
        audit_commit_all: a.audit_commit_all,
    };
    santei_server::run(cfg)?;
    Ok(ExitCode::SUCCESS)
}
