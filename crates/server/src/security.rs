//! santei-security plugged into the service: the [`SecurityAuthenticator`] (sessions and scoped
//! API tokens through `Security::authenticate_bearer`, plus the operator token), the mapping of
//! `SecError` to the API error body, and the blocking-pool helper (audit entries go through
//! [`crate::audit_writer`]).
//!
//! Tenants: santei-security names a tenant by its 医療機関コード (what `santei admin init
//! --tenant CODE` and `POST /v1/auth/login {"tenant": CODE}` take); the service's storage keys
//! rows by the tenant's internal id. The authenticator resolves code → id once per code and caches
//! it (the code of a tenant never changes and tenants are never deleted).

use crate::auth::{bearer, AuthFuture, Authenticator, OperatorToken, Principal, Role};
use crate::tls::ClientCert;
use crate::error::ApiError;
use crate::storage::DynStorage;
use axum::http::{HeaderMap, StatusCode};
use santei_security::{ErrorKind, SecError, Security};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Map a security error to the API error body. Internal errors are logged (code only) and
/// answered with the generic 500; every authentication failure has one answer.
pub fn sec_error(e: SecError) -> ApiError {
    let (status, code) = match e.kind {
        ErrorKind::Unauthenticated if e.code == "S001" => (StatusCode::UNAUTHORIZED, "authentication_failed"),
        ErrorKind::Unauthenticated => return ApiError::unauthorized(),
        ErrorKind::Forbidden => return ApiError::forbidden(),
        ErrorKind::NotFound => (StatusCode::NOT_FOUND, "not_found"),
        ErrorKind::Invalid => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
        ErrorKind::Conflict => (StatusCode::CONFLICT, "conflict"),
        ErrorKind::Integrity | ErrorKind::Internal => {
            tracing::error!(security_code = e.code, "security layer failure");
            return ApiError::internal();
        }
    };
    ApiError::new(status, code, e.message_ja, e.message_en).details(json!({ "security_code": e.code }))
}

/// Run a (synchronous, possibly Argon2-heavy) security call on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    sec: &Arc<Security>,
    f: impl FnOnce(&Security) -> Result<T, SecError> + Send + 'static,
) -> Result<T, ApiError> {
    let sec = sec.clone();
    match tokio::task::spawn_blocking(move || f(&sec)).await {
        Ok(r) => r.map_err(sec_error),
        Err(_) => Err(ApiError::internal()),
    }
}

/// The audit tenant name for service-wide (operator) events.
pub const SERVICE_TENANT: &str = "*service*";

/// The service's authenticator, backed by santei-security.
pub struct SecurityAuthenticator {
    pub security: Arc<Security>,
    pub storage: DynStorage,
    pub operator: Option<OperatorToken>,
    tenants: RwLock<HashMap<String, String>>,
}

impl SecurityAuthenticator {
    pub fn new(security: Arc<Security>, storage: DynStorage, operator: Option<OperatorToken>) -> Self {
        SecurityAuthenticator { security, storage, operator, tenants: RwLock::new(HashMap::new()) }
    }

    /// Internal tenant id of a 医療機関コード (cached), None if no such tenant.
    pub async fn tenant_id(&self, code: &str) -> Result<Option<String>, ApiError> {
        if let Some(id) = self.tenants.read().unwrap_or_else(|e| e.into_inner()).get(code) {
            return Ok(Some(id.clone()));
        }
        let row = self.storage.get_tenant_by_code(code.to_string()).await.map_err(|e| {
            tracing::error!(error = %e, "tenant lookup failed");
            ApiError::unavailable("storage_unavailable", "データベースに接続できません", "database unavailable")
        })?;
        Ok(row.map(|r| {
            self.tenants.write().unwrap_or_else(|e| e.into_inner()).insert(code.to_string(), r.id.clone());
            r.id
        }))
    }
}

impl Authenticator for SecurityAuthenticator {
    fn authenticate<'a>(&'a self, headers: &'a HeaderMap, client_cert: Option<ClientCert>) -> AuthFuture<'a> {
        Box::pin(async move {
            let tok = bearer(headers).ok_or_else(ApiError::unauthorized)?;
            if tok.starts_with("sst_") || tok.starts_with("sat_") {
                // A machine client's token validated within the last few seconds: no blocking call.
                let cert = client_cert.map(|c| c.0);
                let p = match self.security.authenticate_cached(tok, cert.as_ref()) {
                    Some(p) => p,
                    None => {
                        let t = tok.to_string();
                        blocking(&self.security, move |s| s.authenticate_bearer_from(&t, cert.as_ref())).await.map_err(|e| {
                            if e.status.is_server_error() {
                                ApiError::unavailable("security_unavailable", "認証基盤に接続できません", "security store unavailable")
                            } else {
                                ApiError::unauthorized()
                            }
                        })?
                    }
                };
                // A principal of a tenant the service does not know: credentials are useless here.
                let tenant_id = self.tenant_id(&p.tenant).await?.ok_or_else(ApiError::unauthorized)?;
                return Ok(Principal {
                    tenant_id: Some(tenant_id),
                    subject: p.actor(),
                    roles: p.roles.iter().copied().map(Role::Tenant).collect(),
                    security: Some(p),
                });
            }
            match &self.operator {
                Some(op) if op.matches(tok) => Ok(Principal::operator()),
                _ => Err(ApiError::unauthorized()),
            }
        })
    }
}
