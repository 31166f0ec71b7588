//! The one authentication/authorisation layer every request passes through.
//!
//! Contract (issue 7 replaces or extends the parts marked so):
//!
//! * [`Authenticator::authenticate`] turns request headers into a [`Principal`] or a 401
//!   [`ApiError`]. Today: [`TokenAuthenticator`] — per-tenant API tokens
//!   (`Authorization: Bearer santei_<id>_<secret>`, only the SHA-256 of the secret stored,
//!   compared in constant time) and the operator token read from a file at start.
//!   *Issue 7*: sessions, users, MFA — a new `Authenticator` implementation.
//! * [`access_for`] classifies each route template (public / metrics / tenant / operator) and
//!   [`authorize`] decides whether the principal may use it. *Issue 7*: per-role rules (e.g.
//!   clerk vs doctor), audit log entries — both in this module.
//! * [`layer`] is the axum middleware applied to the whole router: it runs the two steps and
//!   puts the `Principal` into request extensions. Handlers take [`TenantCtx`] (or
//!   [`OperatorCtx`]), which re-checks the principal, so a route wired without the layer fails
//!   closed (401) rather than open.

use crate::error::ApiError;
use crate::storage::{hex, DynStorage, StoreError, TokenRow};
use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::{header, request::Parts, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

/// A role. *Issue 7* adds clinical/clerical roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Hosts the service: creates tenants, reloads the master, reads metrics. Sees no patient data.
    Operator,
    /// A tenant's API client: full access to that tenant's data, nothing else.
    TenantClient,
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The tenant whose data this principal may touch (None for the operator).
    pub tenant_id: Option<String>,
    /// Stable id of the credential or user (token id today), for logs and audit.
    pub subject: String,
    pub roles: Vec<Role>,
}

impl Principal {
    pub fn has(&self, r: Role) -> bool {
        self.roles.contains(&r)
    }
}

pub type AuthFuture<'a> = Pin<Box<dyn Future<Output = Result<Principal, ApiError>> + Send + 'a>>;

/// Turns request headers into a principal. Must answer 401 (`ApiError::unauthorized`) for
/// missing or invalid credentials, and never log secrets.
pub trait Authenticator: Send + Sync + 'static {
    fn authenticate<'a>(&'a self, headers: &'a HeaderMap) -> AuthFuture<'a>;
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `/healthz`, `/readyz`, `/openapi.json`, `/docs`.
    Public,
    /// `/metrics`: loopback peers, or the operator token.
    Metrics,
    /// Everything under `/v1/` (except admin) and `/api01rv2/`; also unknown routes.
    Tenant,
    /// `/v1/admin/…`.
    Operator,
}

pub fn access_for(route: &str) -> Access {
    match route {
        "/healthz" | "/readyz" | "/openapi.json" | "/docs" => Access::Public,
        "/metrics" => Access::Metrics,
        r if r.starts_with("/v1/admin/") => Access::Operator,
        _ => Access::Tenant,
    }
}

/// May `p` use a route needing `a`?
pub fn authorize(p: &Principal, a: Access) -> Result<(), ApiError> {
    let ok = match a {
        Access::Public => true,
        Access::Metrics | Access::Operator => p.has(Role::Operator),
        Access::Tenant => p.has(Role::TenantClient) && p.tenant_id.is_some(),
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

const TOKEN_PREFIX: &str = "santei_";

/// A freshly issued tenant token: the full token (shown once) and the row to store.
pub struct IssuedToken {
    pub token: String,
    pub row: TokenRow,
}

/// New token for `tenant_id`: 16 random bytes of id, 32 random bytes of secret.
pub fn issue_token(tenant_id: &str, label: &str) -> Result<IssuedToken, StoreError> {
    let mut id = [0u8; 16];
    let mut secret = [0u8; 32];
    getrandom::getrandom(&mut id).map_err(|e| StoreError::Internal(format!("random: {e}")))?;
    getrandom::getrandom(&mut secret).map_err(|e| StoreError::Internal(format!("random: {e}")))?;
    let (id, secret) = (hex(&id), hex(&secret));
    let token = format!("{TOKEN_PREFIX}{id}_{secret}");
    let row = TokenRow {
        id,
        tenant_id: tenant_id.to_string(),
        secret_sha256: hex(&Sha256::digest(secret.as_bytes())),
        label: label.to_string(),
        created_at: crate::storage::now(),
        revoked_at: None,
    };
    Ok(IssuedToken { token, row })
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

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, tok) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| tok.trim()).filter(|t| !t.is_empty())
}

/// `santei_<32 hex>_<64 hex>` → (id, secret).
fn split_token(t: &str) -> Option<(&str, &str)> {
    let rest = t.strip_prefix(TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let hexy = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hexy(id, 32) && hexy(secret, 64)).then_some((id, secret))
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
    fn matches(&self, presented: &str) -> bool {
        let h: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        ct_eq(&h, &self.0)
    }
}

/// Today's authenticator: tenant API tokens from storage, plus the optional operator token.
pub struct TokenAuthenticator {
    pub storage: DynStorage,
    pub operator: Option<OperatorToken>,
}

impl Authenticator for TokenAuthenticator {
    fn authenticate<'a>(&'a self, headers: &'a HeaderMap) -> AuthFuture<'a> {
        Box::pin(async move {
            let tok = bearer(headers).ok_or_else(ApiError::unauthorized)?;
            if let Some((id, secret)) = split_token(tok) {
                let row = self.storage.get_token(id.to_string()).await.map_err(|e| {
                    tracing::error!(error = %e, "token lookup failed");
                    ApiError::unavailable("storage_unavailable", "データベースに接続できません", "database unavailable")
                })?;
                let presented = hex(&Sha256::digest(secret.as_bytes()));
                // Compare even when the id is unknown, so timing does not tell ids apart.
                let stored = row.as_ref().map(|r| r.secret_sha256.as_str()).unwrap_or("0000000000000000000000000000000000000000000000000000000000000000");
                let eq = ct_eq(presented.as_bytes(), stored.as_bytes());
                return match row {
                    Some(r) if eq && r.revoked_at.is_none() => {
                        Ok(Principal { tenant_id: Some(r.tenant_id), subject: format!("token:{}", r.id), roles: vec![Role::TenantClient] })
                    }
                    _ => Err(ApiError::unauthorized()),
                };
            }
            match &self.operator {
                Some(op) if op.matches(tok) => Ok(Principal { tenant_id: None, subject: "operator".into(), roles: vec![Role::Operator] }),
                _ => Err(ApiError::unauthorized()),
            }
        })
    }
}

/// Set on responses so the access log can name the tenant without touching the request.
#[derive(Debug, Clone)]
pub struct LoggedTenant(pub String);

/// The middleware: authenticate, authorise by route, attach the principal.
pub async fn layer(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string());
    let access = match &route {
        Some(r) => access_for(r),
        None => Access::Tenant,
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
    let p = match app.auth.authenticate(req.headers()).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = authorize(&p, access) {
        return e.into_response();
    }
    let tenant = p.tenant_id.clone();
    req.extensions_mut().insert(p);
    let mut resp = next.run(req).await;
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

impl<S: Send + Sync> FromRequestParts<S> for TenantCtx {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let p = parts.extensions.get::<Principal>().cloned().ok_or_else(ApiError::unauthorized)?;
        authorize(&p, Access::Tenant)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_shape() {
        let t = issue_token("t1", "x").unwrap();
        let (id, secret) = split_token(&t.token).unwrap();
        assert_eq!(id, t.row.id);
        assert_eq!(hex(&Sha256::digest(secret.as_bytes())), t.row.secret_sha256);
        assert!(!t.row.secret_sha256.contains(secret));
        assert!(split_token("santei_abc_def").is_none());
        assert!(split_token(&t.token.replace("santei_", "other_")).is_none());
    }

    #[test]
    fn operator_token_rules() {
        assert!(OperatorToken::from_secret("short").is_err());
        let op = OperatorToken::from_secret("  0123456789abcdef0123456789abcdef\n").unwrap();
        assert!(op.matches("0123456789abcdef0123456789abcdef"));
        assert!(!op.matches("0123456789abcdef0123456789abcdeX"));
    }

    #[test]
    fn routes_classified() {
        assert_eq!(access_for("/healthz"), Access::Public);
        assert_eq!(access_for("/v1/admin/tenants"), Access::Operator);
        assert_eq!(access_for("/v1/patients/{id}"), Access::Tenant);
        assert_eq!(access_for("/metrics"), Access::Metrics);
        let op = Principal { tenant_id: None, subject: "operator".into(), roles: vec![Role::Operator] };
        assert!(authorize(&op, Access::Tenant).is_err());
        let t = Principal { tenant_id: Some("a".into()), subject: "token:x".into(), roles: vec![Role::TenantClient] };
        assert!(authorize(&t, Access::Operator).is_err());
        assert!(authorize(&t, Access::Tenant).is_ok());
    }
}
