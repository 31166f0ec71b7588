//! Prometheus text-format metrics (hand-written registry: a few counters and one histogram) and
//! the access-log middleware that feeds them.
//!
//! Labels are route *templates* (`/v1/patients/{id}`), never raw paths, so ids do not reach the
//! metrics or the logs, and cardinality stays bounded.

use crate::auth::LoggedTenant;
use crate::error::ErrorCode;
use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Histogram bucket upper bounds, seconds.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

#[derive(Default)]
struct Hist {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    errors: BTreeMap<(String, &'static str), u64>,
    latency: BTreeMap<String, Hist>,
}

pub struct Metrics {
    inner: Mutex<Inner>,
    started: Instant,
    pub master_reloads: AtomicU64,
    pub master_reload_failures: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics { inner: Mutex::default(), started: Instant::now(), master_reloads: AtomicU64::new(0), master_reload_failures: AtomicU64::new(0) }
    }
}

impl Metrics {
    pub fn record(&self, method: &str, route: &str, status: u16, secs: f64, error: Option<&'static str>) {
        let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *m.requests.entry((method.to_string(), route.to_string(), status)).or_default() += 1;
        if let Some(code) = error {
            *m.errors.entry((route.to_string(), code)).or_default() += 1;
        }
        let h = m.latency.entry(route.to_string()).or_default();
        h.count += 1;
        h.sum += secs;
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                h.counts[i] += 1;
            }
        }
    }

    pub fn render(&self) -> String {
        let m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut s = String::new();
        s.push_str("# HELP santei_http_requests_total HTTP requests by method, route template and status.\n# TYPE santei_http_requests_total counter\n");
        for ((method, route, status), n) in &m.requests {
            let _ = writeln!(s, "santei_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}", esc(route));
        }
        s.push_str("# HELP santei_http_errors_total Error responses by route template and error code.\n# TYPE santei_http_errors_total counter\n");
        for ((route, code), n) in &m.errors {
            let _ = writeln!(s, "santei_http_errors_total{{route=\"{}\",code=\"{code}\"}} {n}", esc(route));
        }
        s.push_str("# HELP santei_http_request_duration_seconds Request latency by route template.\n# TYPE santei_http_request_duration_seconds histogram\n");
        for (route, h) in &m.latency {
            let r = esc(route);
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(s, "santei_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"{b}\"}} {}", h.counts[i]);
            }
            let _ = writeln!(s, "santei_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(s, "santei_http_request_duration_seconds_sum{{route=\"{r}\"}} {}", h.sum);
            let _ = writeln!(s, "santei_http_request_duration_seconds_count{{route=\"{r}\"}} {}", h.count);
        }
        let _ = writeln!(s, "# TYPE santei_master_reloads_total counter\nsantei_master_reloads_total {}", self.master_reloads.load(Ordering::Relaxed));
        let _ = writeln!(
            s,
            "# TYPE santei_master_reload_failures_total counter\nsantei_master_reload_failures_total {}",
            self.master_reload_failures.load(Ordering::Relaxed)
        );
        let _ = writeln!(s, "# TYPE santei_uptime_seconds gauge\nsantei_uptime_seconds {}", self.started.elapsed().as_secs());
        s
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Outermost middleware: one structured log line and metrics per request. Logs method, route
/// template, status, latency, tenant id and error code — never the raw path, query, headers or
/// body (which can hold names, insurer numbers or tokens).
pub async fn observe(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let t0 = Instant::now();
    let method = req.method().as_str().to_string();
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_else(|| "(unmatched)".into());
    let resp = next.run(req).await;
    let secs = t0.elapsed().as_secs_f64();
    let status = resp.status().as_u16();
    let error = resp.extensions().get::<ErrorCode>().map(|c| c.0);
    let tenant = resp.extensions().get::<LoggedTenant>().map(|t| t.0.as_str()).unwrap_or("-");
    app.metrics.record(&method, &route, status, secs, error);
    if status >= 500 {
        tracing::warn!(method = %method, route = %route, status, latency_ms = %format_args!("{:.3}", secs * 1000.0), tenant = %tenant, error = %error.unwrap_or("-"), "request");
    } else {
        tracing::info!(method = %method, route = %route, status, latency_ms = %format_args!("{:.3}", secs * 1000.0), tenant = %tenant, error = %error.unwrap_or("-"), "request");
    }
    resp
}
