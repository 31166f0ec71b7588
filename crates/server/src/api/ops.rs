//! Operations routes: health, readiness, metrics, OpenAPI, docs, master reload; fallbacks and
//! the panic guard.

use crate::auth::OperatorCtx;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

pub const OPENAPI: &str = include_str!("../../openapi.json");
const DOCS_HTML: &str = include_str!("../../docs.html");

pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready when the master is loaded and the database answers.
pub async fn readyz(State(app): State<AppState>) -> Response {
    let master = app.engines.master().is_some();
    let db = app.storage.ping().await;
    let versions = app.storage.schema_versions().await.unwrap_or_default();
    // A node whose audit log cannot be written answers every audited route 503: not ready.
    let audit_ok = !app.audit.stats().failing;
    if master && db.is_ok() && audit_ok {
        return Json(json!({
            "status": "ready",
            "storage": app.storage.backend(),
            "schema_version": versions.last(),
            "master": "loaded",
            "audit": "ok",
        }))
        .into_response();
    }
    if let Err(e) = &db {
        tracing::warn!(error = %e, "readiness: database not reachable");
    }
    ApiError::unavailable("not_ready", "準備ができていません", "not ready")
        .details(json!({ "master_loaded": master, "database_reachable": db.is_ok(), "audit_writable": audit_ok, "storage": app.storage.backend() }))
        .into_response()
}

pub async fn metrics(State(app): State<AppState>) -> Response {
    let mut body = app.metrics.render();
    let a = app.audit.stats();
    use std::fmt::Write;
    let _ = write!(
        body,
        "# HELP santei_audit_entries_total Audit entries committed by the group-commit writer.\n# TYPE santei_audit_entries_total counter\nsantei_audit_entries_total {}\n\
         # TYPE santei_audit_commits_total counter\nsantei_audit_commits_total {}\n\
         # HELP santei_audit_failures_total Failed audit commit or anchor attempts.\n# TYPE santei_audit_failures_total counter\nsantei_audit_failures_total {}\n\
         # HELP santei_audit_queued Audit entries waiting for their commit.\n# TYPE santei_audit_queued gauge\nsantei_audit_queued {}\n\
         # HELP santei_audit_failing 1 while the audit log cannot be written (audited routes answer 503).\n# TYPE santei_audit_failing gauge\nsantei_audit_failing {}\n",
        a.entries,
        a.commits,
        a.failures,
        a.queued,
        u8::from(a.failing)
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

pub async fn docs() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'"),
        ],
        DOCS_HTML,
    )
        .into_response()
}

/// `POST /v1/admin/master/reload`: re-open the master and swap it in; requests in flight finish
/// on the master they started with.
pub async fn admin_reload(State(app): State<AppState>, _op: OperatorCtx) -> Result<Json<Value>, ApiError> {
    match app.engines.reload().await {
        Ok(r) => {
            app.metrics.master_reloads.fetch_add(1, Ordering::Relaxed);
            tracing::info!(codes = r.codes, millis = r.millis as u64, "master reloaded (admin route)");
            Ok(Json(json!({ "reloaded": true, "report": r })))
        }
        Err(e) => {
            app.metrics.master_reload_failures.fetch_add(1, Ordering::Relaxed);
            Err(e)
        }
    }
}

pub async fn route_not_found() -> ApiError {
    ApiError::route_not_found()
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

/// Turns a panic in a handler into a 500 with the error body (and a log line) instead of a
/// dropped connection. Handlers are written not to panic; this is the backstop.
pub async fn catch_panic(req: Request, next: Next) -> Response {
    match CatchUnwind(Box::pin(next.run(req))).await {
        Ok(r) => r,
        Err(()) => {
            tracing::error!("handler panicked");
            ApiError::internal().into_response()
        }
    }
}

struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, ()>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let fut = self.0.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(_) => Poll::Ready(Err(())),
        }
    }
}

