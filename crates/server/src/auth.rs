//! The one authentication/authorisation layer every request passes through.
//!
//! * [`Authenticator::authenticate`] turns request headers into a [`Principal`] or a 401
//!   [`ApiError`]. The service uses [`crate::security::SecurityAuthenticator`]: santei-security
//!   sessions (`sst_…`) and scoped API tokens (`sat_…`) via `Security::authenticate_bearer` (one
//!   SHA-256 and one indexed lookup; no Argon2 per request), plus the operator token read from a
//!   file at start.
//! * [`access_for`] classifies each (method, route template): public, metrics, operator, the
//!   login routes' session, or a tenant route with exactly one santei-security [`Action`]
//!   ([`route_action`], the role × route table). A route template missing from the table is
//!   refused (fail closed).
//! * [`layer`] is the axum middleware applied to the whole router: it authenticates, authorises
//!   (`Security::authorize` for tenant routes: refusals are audited, another tenant answers 404,
//!   a missing permission 403), runs the handler, then writes the audit entry for routes that
//!   touch patient data, calculate or make claims ([`audited`]). Handlers take [`TenantCtx`]
//!   (or [`OperatorCtx`]), which re-checks the principal, so a route wired without the layer
//!   fails closed (401) rather than open.

use crate::error::ApiError;
use crate::audit_writer::Durability;
use crate::tls::ClientCert;
use crate::security::SERVICE_TENANT;
use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::{header, request::Parts, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use santei_security::audit::actions;
use santei_security::{Action, AuditEvent, Outcome};
use sha2::{Digest, Sha256};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

/// A role: the service operator, or a santei-security role within one tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Hosts the service: creates tenants, reloads the master, reads metrics. Sees no patient data.
    Operator,
    /// A role of a tenant's user or API client (administrator, clerk, physician, auditor, api-client).
    Tenant(santei_security::Role),
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The tenant (internal id) whose data this principal may touch (None for the operator).
    pub tenant_id: Option<String>,
    /// Stable id of the credential or user (`user:12`, `api:3`, `operator`), for logs and audit.
    pub subject: String,
    pub roles: Vec<Role>,
    /// The santei-security principal (tenant code, subject, roles, token scopes); None for the operator.
    pub security: Option<santei_security::Principal>,
}

impl Principal {
    pub fn has(&self, r: Role) -> bool {
        self.roles.contains(&r)
    }
    pub fn operator() -> Self {
        Principal { tenant_id: None, subject: "operator".into(), roles: vec![Role::Operator], security: None }
    }
}

pub type AuthFuture<'a> = Pin<Box<dyn Future<Output = Result<Principal, ApiError>> + Send + 'a>>;

/// Turns request headers (and the connection's verified client certificate, under mutual TLS)
/// into a principal. Must answer 401 (`ApiError::unauthorized`) for missing or invalid
/// credentials, and never log secrets.
pub trait Authenticator: Send + Sync + 'static {
    fn authenticate<'a>(&'a self, headers: &'a HeaderMap, client_cert: Option<ClientCert>) -> AuthFuture<'a>;
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `/healthz`, `/readyz`, `/openapi.json`, `/docs`, and the login steps (which carry their
    /// own credentials: password or login ticket in the body).
    Public,
    /// `/metrics`: loopback peers, or the operator token.
    Metrics,
    /// `/v1/admin/…`: the operator token.
    Operator,
    /// Any authenticated principal: logout, and unknown routes (401 before 404).
    Session,
    /// A tenant route: the principal's tenant, checked against this action.
    Tenant(Action),
    /// A registered route missing from the table: refused for everyone.
    Unmapped,
}

/// The role × route table: the one santei-security action of each tenant route.
pub fn route_action(method: &str, route: &str) -> Option<Action> {
    use Action::*;
    Some(match (method, route) {
        ("GET", "/v1/master/search" | "/v1/master/{code}" | "/v1/master/{code}/history") => ReadMaster,
        // Institution settings: read by every clinical role, changed by the administrator.
        ("GET", "/v1/tenant") => ReadMaster,
        ("PUT", "/v1/tenant") => ManageUsers,
        (
            "GET",
            "/v1/patients"
            | "/v1/patients/{patient_id}"
            | "/v1/patients/{patient_id}/insurances"
            | "/v1/patients/{patient_id}/insurances/{id}"
            | "/v1/patients/{patient_id}/visits"
            | "/v1/patients/{patient_id}/visits/{id}"
            | "/v1/visits",
        ) => ReadPatient,
        (
            "POST" | "PUT" | "DELETE",
            "/v1/patients"
            | "/v1/patients/{patient_id}"
            | "/v1/patients/{patient_id}/insurances"
            | "/v1/patients/{patient_id}/insurances/{id}"
            | "/v1/patients/{patient_id}/visits"
            | "/v1/patients/{patient_id}/visits/{id}",
        ) => WritePatient,
        ("POST", "/v1/calculate" | "/api01rv2/acsimulatev2") => Calculate,
        ("POST", "/v1/uke/check" | "/v1/claims/{month}/uke") => GenerateClaims,
        ("POST", "/v1/users" | "/v1/users/{name}/unlock" | "/v1/users/{name}/disable" | "/v1/api-tokens") => ManageUsers,
        ("DELETE", "/v1/api-tokens/{id}") | ("GET", "/v1/api-tokens") => ManageUsers,
        ("GET", "/v1/audit") => ReadAudit,
        _ => return None,
    })
}

pub fn access_for(method: &str, route: &str) -> Access {
    match route {
        "/healthz" | "/readyz" | "/openapi.json" | "/docs" => Access::Public,
        "/v1/auth/login" | "/v1/auth/second-factor" | "/v1/auth/password" | "/v1/auth/totp/enroll" | "/v1/auth/totp/confirm" => {
            Access::Public
        }
        "/v1/auth/logout" => Access::Session,
        "/metrics" => Access::Metrics,
        r if r.starts_with("/v1/admin/") => Access::Operator,
        r => match route_action(method, r) {
            Some(a) => Access::Tenant(a),
            // Registered but missing from the table: refuse. Otherwise the method is not served on
            // this route: authenticate, then the router answers 405.
            None if registered(method, r) => Access::Unmapped,
            None => Access::Session,
        },
    }
}

fn registered(method: &str, route: &str) -> bool {
    static LIST: std::sync::OnceLock<Vec<(&'static str, &'static str)>> = std::sync::OnceLock::new();
    LIST.get_or_init(|| crate::api::routes().list).iter().any(|(m, r)| *m == method && *r == route)
}

/// The non-RBAC part of the decision: may `p` use a route needing `a`? (Tenant routes are
/// further checked against the role × action matrix by `Security::authorize` in [`layer`].)
pub fn authorize(p: &Principal, a: Access) -> Result<(), ApiError> {
    let ok = match a {
        Access::Public | Access::Session => true,
        Access::Metrics | Access::Operator => p.has(Role::Operator),
        Access::Tenant(action) => {
            p.tenant_id.is_some() && p.security.as_ref().is_some_and(|s| s.can(&s.tenant, action))
        }
        Access::Unmapped => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

/// Constant-time equality of two byte strings of equal length (lengths are not secret here:
/// both sides are fixed-size hashes).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut d = 0u8;
    for (x, y) in a.iter().zip(b) {
        d |= x ^ y;
    }
    std::hint::black_box(d) == 0
}

/// The bearer token of a request, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, tok) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| tok.trim()).filter(|t| !t.is_empty())
}

/// The operator credential: the SHA-256 of a token read from a file at start.
#[derive(Clone)]
pub struct OperatorToken([u8; 32]);

impl OperatorToken {
    /// At least 32 characters; surrounding whitespace ignored.
    pub fn from_secret(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.chars().count() < 32 {
            return Err("operator token must be at least 32 characters / オペレータトークンは32文字以上必要です".into());
        }
        Ok(OperatorToken(Sha256::digest(s.as_bytes()).into()))
    }
    pub fn from_file(p: &std::path::Path) -> Result<Self, String> {
        let s = std::fs::read_to_string(p).map_err(|e| format!("cannot read operator token file {}: {e}", p.display()))?;
        Self::from_secret(&s)
    }
    pub fn matches(&self, presented: &str) -> bool {
        let h: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        ct_eq(&h, &self.0)
    }
}

/// The peer address as text (`ip:port`), for the audit log ("from where").
pub fn peer_of(ext: &axum::http::Extensions) -> String {
    ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.to_string()).unwrap_or_else(|| "unknown".into())
}

/// Set by a create handler on its response: the id of the new resource, for the audit entry.
#[derive(Debug, Clone)]
pub struct CreatedId(pub String);

/// The audit action of a route, if its requests are audited: patient data (read, write,
/// delete), calculation, claims, master reload.
pub fn audited(method: &str, route: &str) -> Option<&'static str> {
    match route_action(method, route) {
        Some(Action::ReadPatient) => Some(actions::PATIENT_READ),
        Some(Action::WritePatient) if method == "DELETE" => Some(actions::PATIENT_DELETE),
        Some(Action::WritePatient) => Some(actions::PATIENT_WRITE),
        Some(Action::Calculate) => Some(actions::CALCULATE),
        Some(Action::GenerateClaims) if route == "/v1/uke/check" => Some("claims.check"),
        Some(Action::GenerateClaims) => Some(actions::CLAIMS_GENERATE),
        _ if route == "/v1/admin/master/reload" => Some(actions::MASTER_IMPORT),
        _ => None,
    }
}

/// Whether an audited request waits for its entry to be committed (see [`crate::audit_writer`]):
/// computations on data the caller sends (calculate, UKE check) are buffered; everything that
/// reads or changes stored records waits.
pub fn durability(action: &str) -> Durability {
    if action == actions::CALCULATE || action == "claims.check" {
        Durability::Buffered
    } else {
        Durability::Commit
    }
}

/// (resource type, resource id, detail) of an audited request, from the route's path parameters
/// (internal ids only: never names or insurer numbers).
fn resource_of(route: &str, params: &[(String, String)], created: Option<&str>) -> (String, String, String) {
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let child = if route.contains("/insurances") {
        Some("insurance")
    } else if route.contains("/visits") && route.starts_with("/v1/patients/") {
        Some("visit")
    } else {
        None
    };
    match (get("patient_id"), child) {
        (Some(pid), Some(kind)) => {
            let id = get("id").or(created).unwrap_or("*");
            (kind.to_string(), id.to_string(), format!("patient={pid}"))
        }
        (Some(pid), None) => ("patient".into(), pid.to_string(), String::new()),
        (None, _) if route == "/v1/patients" => ("patient".into(), created.unwrap_or("*").to_string(), String::new()),
        (None, _) if route == "/v1/visits" => ("visit".into(), "*".into(), String::new()),
        (None, _) => match get("month") {
            Some(m) => ("claims".into(), m.to_string(), String::new()),
            None => (String::new(), String::new(), String::new()),
        },
    }
}

/// Set on responses so the access log can name the tenant without touching the request.
#[derive(Debug, Clone)]
pub struct LoggedTenant(pub String);

/// The middleware: authenticate, authorise by (method, route), attach the principal, run the
/// handler, audit.
pub async fn layer(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string());
    let method = req.method().clone();
    let access = match &route {
        Some(r) => access_for(method.as_str(), r),
        None => Access::Session,
    };
    if access == Access::Public {
        return next.run(req).await;
    }
    if access == Access::Metrics {
        let loopback = req.extensions().get::<ConnectInfo<SocketAddr>>().is_some_and(|c| c.0.ip().is_loopback());
        if loopback {
            return next.run(req).await;
        }
    }
    let client_cert = req.extensions().get::<ClientCert>().copied();
    let p = match app.auth.authenticate(req.headers(), client_cert).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let source = peer_of(req.extensions());
    if let Err(e) = authorize(&p, access) {
        // Tenant principals: let santei-security decide 403 vs 404 and audit the refusal.
        if let (Access::Tenant(action), Some(sp)) = (access, p.security.clone()) {
            let src = source.clone();
            return match crate::security::blocking(&app.security, move |s| s.authorize(&sp, &sp.tenant, action, &src)).await {
                Err(e) => e.into_response(),
                // (Unreachable: `can` said no, but fail closed anyway.)
                Ok(()) => ApiError::forbidden().into_response(),
            };
        }
        if access == Access::Unmapped {
            tracing::error!(route = route.as_deref().unwrap_or(""), method = %method, "route missing from the role × route table; refused");
        }
        return e.into_response();
    }
    let audit_action = route.as_deref().and_then(|r| audited(method.as_str(), r));
    let tenant = p.tenant_id.clone();
    let audit_ctx = match audit_action {
        Some(a) => {
            let (mut parts, body) = req.into_parts();
            let params: Vec<(String, String)> = match RawPathParams::from_request_parts(&mut parts, &()).await {
                Ok(ps) => ps.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                Err(_) => Vec::new(),
            };
            req = Request::from_parts(parts, body);
            Some((a, params, p.security.as_ref().map(|s| (s.tenant.clone(), s.actor()))))
        }
        None => None,
    };
    req.extensions_mut().insert(p);
    let mut resp = next.run(req).await;
    if let Some((action, params, who)) = audit_ctx {
        let r = route.as_deref().unwrap_or("");
        let created = resp.extensions().get::<CreatedId>().map(|c| c.0.clone());
        let (rtype, rid, mut detail) = resource_of(r, &params, created.as_deref());
        let status = resp.status().as_u16();
        let outcome = if status < 400 { Outcome::Success } else { Outcome::Failure };
        if !detail.is_empty() {
            detail.push(' ');
        }
        detail.push_str(&format!("{method} {r} status={status}"));
        let (atenant, actor) = who.unwrap_or_else(|| (SERVICE_TENANT.to_string(), "operator".to_string()));
        let ev = AuditEvent::new(&atenant, &actor, action, outcome).source(&source).resource(&rtype, &rid).detail(&detail);
        if let Err(e) = app.audit.append(ev, durability(action)).await {
            // Fail closed: patient data is not handed out (nor a change acknowledged) unaudited.
            return e.into_response();
        }
    }
    if let Some(t) = tenant {
        resp.extensions_mut().insert(LoggedTenant(t));
    }
    resp
}

/// Handler extractor: the calling tenant. 401 if the layer did not run, 403 if not a tenant.
pub struct TenantCtx {
    pub tenant_id: String,
    pub principal: Principal,
}

impl TenantCtx {
    /// The santei-security principal (always present for a tenant principal).
    pub fn security(&self) -> Result<&santei_security::Principal, ApiError> {
        self.principal.security.as_ref().ok_or_else(ApiError::forbidden)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TenantCtx {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let p = parts.extensions.get::<Principal>().cloned().ok_or_else(ApiError::unauthorized)?;
        if p.security.is_none() {
            return Err(ApiError::forbidden());
        }
        let tenant_id = p.tenant_id.clone().ok_or_else(ApiError::forbidden)?;
        Ok(TenantCtx { tenant_id, principal: p })
    }
}

/// Handler extractor: the operator.
pub struct OperatorCtx(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for OperatorCtx {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let p = parts.extensions.get::<Principal>().cloned().ok_or_else(ApiError::unauthorized)?;
        authorize(&p, Access::Operator)?;
        Ok(OperatorCtx(p))
    }
}

/// Handler extractor: the peer address (`ip:port`) for the audit log.
pub struct Peer(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(Peer(peer_of(&parts.extensions)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_token_rules() {
        assert!(OperatorToken::from_secret("short").is_err());
        let op = OperatorToken::from_secret("  0123456789abcdef0123456789abcdef\n").unwrap();
        assert!(op.matches("0123456789abcdef0123456789abcdef"));
        assert!(!op.matches("0123456789abcdef0123456789abcdeX"));
    }

    #[test]
    fn every_route_is_classified() {
        for (m, r) in crate::api::routes().list {
            let a = access_for(m, r);
            assert_ne!(a, Access::Unmapped, "{m} {r} has no action in the role × route table");
        }
        assert_eq!(access_for("GET", "/healthz"), Access::Public);
        assert_eq!(access_for("GET", "/v1/admin/tenants"), Access::Operator);
        assert_eq!(access_for("GET", "/v1/patients/{patient_id}"), Access::Tenant(Action::ReadPatient));
        assert_eq!(access_for("DELETE", "/v1/patients/{patient_id}"), Access::Tenant(Action::WritePatient));
        assert_eq!(access_for("GET", "/metrics"), Access::Metrics);
        assert_eq!(access_for("PATCH", "/v1/patients"), Access::Session);
    }

    #[test]
    fn operator_and_tenants_are_separate() {
        let op = Principal::operator();
        assert!(authorize(&op, Access::Tenant(Action::ReadMaster)).is_err());
        let sp = santei_security::Principal {
            tenant: "1312345678".into(),
            subject: santei_security::Subject::User { id: 1, name: "u".into() },
            roles: vec![santei_security::Role::Clerk],
            scopes: None,
        };
        let t = Principal { tenant_id: Some("a".into()), subject: sp.actor(), roles: vec![Role::Tenant(santei_security::Role::Clerk)], security: Some(sp) };
        assert!(authorize(&t, Access::Operator).is_err());
        assert!(authorize(&t, Access::Tenant(Action::ReadPatient)).is_ok());
        assert!(authorize(&t, Access::Tenant(Action::ManageUsers)).is_err());
        assert!(authorize(&t, Access::Unmapped).is_err());
    }

    #[test]
    fn audit_resources() {
        let ps = vec![("patient_id".to_string(), "p1".to_string()), ("id".to_string(), "v9".to_string())];
        assert_eq!(resource_of("/v1/patients/{patient_id}/visits/{id}", &ps, None), ("visit".into(), "v9".into(), "patient=p1".into()));
        assert_eq!(resource_of("/v1/patients", &[], Some("new1")), ("patient".into(), "new1".into(), String::new()));
        assert_eq!(audited("GET", "/v1/master/{code}"), None);
        assert_eq!(audited("DELETE", "/v1/patients/{patient_id}"), Some(actions::PATIENT_DELETE));
    }
}
