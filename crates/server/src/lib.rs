//! santei-server — `santei serve`: the JSON API service.
//!
//! Request pipeline (outermost first): [`metrics::observe`] (access log + metrics) → body limit
//! ([`BODY_LIMIT`]) → panic guard → [`auth::layer`] (authentication + authorisation, the one
//! layer issue 7 fills in) → handler. Handlers take [`auth::TenantCtx`] and pass its tenant id to
//! every storage call ([`storage`]).
//!
//! See `crates/server/README.md` for routes, storage design and scaling.

// `ApiError` carries a bilingual message and details by value: it is built only on the error
// path, where its size does not matter (the same choice as `InputError` in santei-core).
#![allow(clippy::result_large_err)]

pub mod api;
pub mod audit_writer;
pub mod auth;
pub mod error;
pub mod extract;
pub mod http_client;
pub mod loaded_master;
pub mod metrics;
pub mod security;
pub mod storage;
pub mod tls;

use crate::auth::{Authenticator, OperatorToken};
use crate::security::SecurityAuthenticator;
use santei_security::Security;
use crate::error::ApiError;
use crate::loaded_master::LoadedMaster;
use crate::metrics::Metrics;
use crate::storage::DynStorage;
use axum::extract::DefaultBodyLimit;
use axum::Router;
use santei_master::Store;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

/// Largest request body accepted (1 MiB): a patient-month order is a few KiB.
pub const BODY_LIMIT: usize = 1 << 20;

/// Where the master comes from, and where a reload re-reads it.
#[derive(Debug, Clone)]
pub enum MasterSource {
    /// The compiled store in this data directory (`santei master import`).
    Dir(PathBuf),
    /// The sample master bundled in the binary (demo, tests).
    Sample,
}

/// The engines the routes call. Holds the master behind a swappable pointer: a reload builds a
/// new `Store` and its derived index ([`LoadedMaster`]) off the runtime and swaps the `Arc`;
/// requests in flight keep the one they took.
pub struct Engines {
    master: RwLock<Option<Arc<LoadedMaster>>>,
    source: Option<MasterSource>,
    reloading: AtomicBool,
}

/// What a reload did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReloadReport {
    pub source: String,
    pub codes: usize,
    pub millis: u128,
}

impl Engines {
    pub fn new(master: Option<Arc<Store>>, source: Option<MasterSource>) -> Self {
        let master = master.map(|m| Arc::new(LoadedMaster::new(m)));
        Engines { master: RwLock::new(master), source, reloading: AtomicBool::new(false) }
    }

    /// The current master, if one is loaded.
    pub fn master(&self) -> Option<Arc<Store>> {
        self.loaded().map(|l| l.store().clone())
    }

    /// The current master with its calc index and UKE catalog, if one is loaded.
    pub fn loaded(&self) -> Option<Arc<LoadedMaster>> {
        self.master.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The current master, or 503.
    pub fn require_master(&self) -> Result<Arc<Store>, ApiError> {
        self.require_loaded().map(|l| l.store().clone())
    }

    /// The current master with its calc index and UKE catalog, or 503.
    pub fn require_loaded(&self) -> Result<Arc<LoadedMaster>, ApiError> {
        self.loaded().ok_or_else(|| {
            ApiError::unavailable(
                "master_unavailable",
                "マスターが読み込まれていません(`santei master import` 後に再読込してください)",
                "no master loaded (run `santei master import`, then reload)",
            )
        })
    }

    /// Load the master from its source (fully decoded and checked, on a blocking thread), then
    /// swap it in atomically. On error the old master stays.
    pub async fn reload(&self) -> Result<ReloadReport, ApiError> {
        let Some(source) = self.source.clone() else {
            return Err(ApiError::conflict("マスターの読込元が設定されていません", "no master source configured"));
        };
        if self.reloading.swap(true, Ordering::AcqRel) {
            return Err(ApiError::conflict("マスターを再読込中です", "a master reload is already running"));
        }
        let t0 = std::time::Instant::now();
        let label = match &source {
            MasterSource::Dir(d) => d.join(santei_master::store::FILE_NAME).display().to_string(),
            MasterSource::Sample => "(sample)".to_string(),
        };
        let loaded = tokio::task::spawn_blocking(move || load_master(&source).map(|s| LoadedMaster::new(Arc::new(s)))).await;
        self.reloading.store(false, Ordering::Release);
        let store = match loaded {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(ApiError::from(e)),
            Err(_) => return Err(ApiError::internal()),
        };
        let codes = store.store().stats().kinds.iter().map(|k| k.codes).sum();
        *self.master.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(store));
        Ok(ReloadReport { source: label, codes, millis: t0.elapsed().as_millis() })
    }
}

/// Open and fully check a master (blocking).
pub fn load_master(source: &MasterSource) -> Result<Store, santei_core::InputError> {
    match source {
        MasterSource::Dir(d) => {
            let s = Store::open(d)?;
            s.check_all()?;
            Ok(s)
        }
        MasterSource::Sample => santei_master::sample::store(),
    }
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub storage: DynStorage,
    pub auth: Arc<dyn Authenticator>,
    pub engines: Arc<Engines>,
    pub metrics: Arc<Metrics>,
    /// santei-security: logins, sessions, API tokens, roles, audit log.
    pub security: Arc<Security>,
    /// Group commit of the per-request audit entries (see [`audit_writer`]).
    pub audit: Arc<audit_writer::AuditWriter>,
}

impl AppState {
    /// The standard state: santei-security authentication (sessions, API tokens) and the
    /// optional operator token.
    pub fn new(storage: DynStorage, operator: Option<OperatorToken>, engines: Engines, security: Arc<Security>) -> Self {
        let auth = Arc::new(SecurityAuthenticator::new(security.clone(), storage.clone(), operator));
        let audit = Arc::new(audit_writer::AuditWriter::start(security.clone(), false));
        AppState { storage, auth, engines: Arc::new(engines), metrics: Arc::new(Metrics::default()), security, audit }
    }
}

impl AppState {
    /// `--audit-commit-all`: every audit entry is committed before its request is answered.
    pub fn audit_commit_all(mut self) -> Self {
        self.audit = Arc::new(audit_writer::AuditWriter::start(self.security.clone(), true));
        self
    }
}

/// Whether `--database-url` names PostgreSQL.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Open the security store: with a PostgreSQL `database_url` the `security_*` tables live in that
/// database (shared by every node); otherwise in the data directory's SQLite `santei.db`. The
/// audit anchor file is per node, in the data directory.
///
/// Blocking (the PostgreSQL client runs its own runtime): call it from a blocking thread.
pub fn open_security(data_dir: &std::path::Path, database_url: Option<&str>) -> Result<Arc<Security>, String> {
    let store: Arc<dyn santei_security::SecurityStore> = match database_url {
        Some(u) if is_postgres_url(u) => Arc::new(santei_security::PostgresStore::open(u).map_err(|e| e.to_string())?),
        _ => Arc::new(santei_security::SqliteStore::open_data_dir(data_dir).map_err(|e| e.to_string())?),
    };
    let cfg = santei_security::Config {
        anchor_file: Some(data_dir.join(santei_security::audit::ANCHOR_FILE)),
        ..santei_security::Config::default()
    };
    Ok(Arc::new(Security::new(store, Arc::new(santei_security::SystemClock), cfg)))
}

/// Start-up refusal: any account with a known weak or default password stops the service.
pub fn refuse_weak_accounts(sec: &Security) -> Result<(), String> {
    santei_security::weak::refuse_weak_accounts(sec.store().as_ref()).map_err(|e| e.to_string())
}

/// The full application: routes, fallbacks and the middleware stack.
pub fn app(state: AppState) -> Router {
    use axum::middleware::from_fn_with_state;
    api::routes()
        .router
        .fallback(api::ops::route_not_found)
        .method_not_allowed_fallback(api::ops::method_not_allowed)
        .layer(from_fn_with_state(state.clone(), auth::layer))
        .layer(axum::middleware::from_fn(api::ops::catch_panic))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(from_fn_with_state(state.clone(), metrics::observe))
        .with_state(state)
}

/// Serve `app` on `listener` until `shutdown` resolves (connections drain gracefully).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state).into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown).await
}

/// `santei serve` options.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// `postgres://…` for PostgreSQL; None = SQLite file in `data_dir`.
    pub database_url: Option<String>,
    pub operator_token_file: Option<PathBuf>,
    /// Use the bundled sample master when the data directory has none.
    pub sample_master: bool,
    /// PEM certificate chain and private key: serve HTTPS (rustls).
    pub tls: Option<tls::TlsFiles>,
    /// Allow plain HTTP on a non-loopback address (development only).
    pub insecure_dev: bool,
    /// Commit every audit entry before answering, calculations included (see [`audit_writer`]).
    pub audit_commit_all: bool,
}

/// Log to stderr in `key=value` form; `RUST_LOG` / `SANTEI_LOG` filter (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SANTEI_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(false).try_init();
}

/// Build a multi-threaded runtime and run `santei serve` to completion (SIGINT/SIGTERM stop it,
/// SIGHUP reloads the master). Prints `listening on ADDR` on stdout once bound.
pub fn run(cfg: Config) -> Result<(), String> {
    init_tracing();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| format!("runtime: {e}"))?;
    rt.block_on(run_async(cfg))
}

async fn run_async(cfg: Config) -> Result<(), String> {
    tls::check_listen_policy(cfg.listen, cfg.tls.is_some(), cfg.insecure_dev)?;
    let tls_acceptor = match &cfg.tls {
        Some(f) => Some(f.acceptor()?),
        None => None,
    };
    let security = {
        let dir = cfg.data_dir.clone();
        let url = cfg.database_url.clone();
        tokio::task::spawn_blocking(move || -> Result<Arc<Security>, String> {
            let sec = open_security(&dir, url.as_deref())?;
            refuse_weak_accounts(&sec)?;
            Ok(sec)
        })
        .await
        .map_err(|e| e.to_string())??
    };
    let operator = match &cfg.operator_token_file {
        Some(p) => Some(OperatorToken::from_file(p)?),
        None => None,
    };
    let storage = storage::open(cfg.database_url.as_deref(), &cfg.data_dir).await.map_err(|e| e.to_string())?;
    let has_store = cfg.data_dir.join(santei_master::store::FILE_NAME).exists();
    let source = if has_store {
        Some(MasterSource::Dir(cfg.data_dir.clone()))
    } else if cfg.sample_master {
        Some(MasterSource::Sample)
    } else {
        None
    };
    let master = match &source {
        Some(s) => {
            let s = s.clone();
            let m = tokio::task::spawn_blocking(move || load_master(&s)).await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
            Some(Arc::new(m))
        }
        None => {
            tracing::warn!("no master store in the data directory: master routes answer 503 until `santei master import` and a reload");
            None
        }
    };
    // A later import into the data directory can be picked up by a reload even if none was there.
    let engines = Engines::new(master, source.or(Some(MasterSource::Dir(cfg.data_dir.clone()))));
    let mut state = AppState::new(storage.clone(), operator.clone(), engines, security);
    if cfg.audit_commit_all {
        state = state.audit_commit_all();
    }
    let audit = state.audit.clone();
    let listener = tokio::net::TcpListener::bind(cfg.listen).await.map_err(|e| format!("cannot listen on {}: {e}", cfg.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    #[cfg(unix)]
    {
        let engines = state.engines.clone();
        let metrics = state.metrics.clone();
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).map_err(|e| e.to_string())?;
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                match engines.reload().await {
                    Ok(r) => {
                        metrics.master_reloads.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(codes = r.codes, millis = r.millis as u64, "master reloaded (SIGHUP)");
                    }
                    Err(e) => {
                        metrics.master_reload_failures.fetch_add(1, Ordering::Relaxed);
                        tracing::error!(error = %e, "master reload failed (SIGHUP); keeping the current master");
                    }
                }
            }
        });
    }
    tracing::info!(%addr, storage = storage.backend(), operator_routes = operator.is_some(), tls = tls_acceptor.is_some(), "santei serve started");
    println!("listening on {addr}");
    use std::io::Write;
    let _ = std::io::stdout().flush();

    match tls_acceptor {
        Some(acc) => tls::serve_tls(listener, acc, state, shutdown_signal()).await.map_err(|e| e.to_string())?,
        None => serve_on(listener, state, shutdown_signal()).await.map_err(|e| e.to_string())?,
    }
    // Buffered audit entries of the last requests: committed before the process ends.
    if audit.flush().await.is_err() {
        tracing::error!("audit entries still queued at shutdown could not be written");
    }
    tracing::info!("santei serve stopped");
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Blocking helpers for the CLI (`santei tenant …`): open storage on a small runtime.
pub mod admin {
    use super::*;
    use crate::api::tenants::{new_tenant, NewTenant, TenantCreated};

    fn rt() -> Result<tokio::runtime::Runtime, String> {
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())
    }

    /// Create a tenant and its first API token (returned once, never stored).
    pub fn create_tenant(database_url: Option<&str>, data_dir: &std::path::Path, t: NewTenant) -> Result<TenantCreated, String> {
        // Outside the runtime: the PostgreSQL security store's client must not run inside one.
        let sec = open_security(data_dir, database_url)?;
        rt()?.block_on(async {
            let st = storage::open(database_url, data_dir).await.map_err(|e| e.to_string())?;
            new_tenant(&st, &sec, t).await.map_err(|e| format!("{} — {}", e.message_ja, e.message_en))
        })
    }

    /// Issue another API token for a tenant.
    pub fn issue_token(database_url: Option<&str>, data_dir: &std::path::Path, tenant_id: &str, label: &str) -> Result<String, String> {
        // Outside the runtime: the PostgreSQL security store's client must not run inside one.
        let sec = open_security(data_dir, database_url)?;
        rt()?.block_on(async {
            let st = storage::open(database_url, data_dir).await.map_err(|e| e.to_string())?;
            crate::api::tenants::new_token(&st, &sec, tenant_id, label).await.map(|(tok, _)| tok).map_err(|e| format!("{} — {}", e.message_ja, e.message_en))
        })
    }

    /// All tenants, as JSON values.
    pub fn list_tenants(database_url: Option<&str>, data_dir: &std::path::Path) -> Result<Vec<serde_json::Value>, String> {
        rt()?.block_on(async {
            let st = storage::open(database_url, data_dir).await.map_err(|e| e.to_string())?;
            let mut out = Vec::new();
            let mut after = None;
            loop {
                let page = st.list_tenants(after.clone(), 500).await.map_err(|e| e.to_string())?;
                let Some(last) = page.last() else { break };
                after = Some(last.id.clone());
                out.extend(page.iter().map(crate::api::tenants::tenant_json));
            }
            Ok(out)
        })
    }
}
