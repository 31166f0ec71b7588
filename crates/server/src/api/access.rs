//! Login flow and the tenant administrator's routes (santei-security).
//!
//! Login steps are public routes: each carries its own credential (password, or the login ticket
//! of the previous step) and answers one uniform 401 `authentication_failed` for any failure.
//! Tickets, session tokens, one-time passwords, TOTP keys and recovery codes appear only in the
//! response body to their owner: never in logs.

use crate::auth::{bearer, Peer, TenantCtx};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::security::blocking;
use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use santei_security::{Action, LoginStep, Role, SecondFactor, Secret};
use serde::Deserialize;
use serde_json::{json, Value};

fn step_json(s: &LoginStep) -> Value {
    match s {
        LoginStep::Complete { session, expires_at } => json!({
            "stage": "complete", "session": session.expose(), "expires_at": santei_security::util::iso(*expires_at),
        }),
        other => json!({ "stage": other.stage().as_str(), "ticket": other.ticket().map(|t| t.expose()) }),
    }
}

/// Bound sizes before anything is hashed (the security layer bounds passwords too).
fn bounded(field: &str, s: &str, max: usize) -> Result<(), ApiError> {
    if s.len() > max {
        return Err(ApiError::invalid(field, format!("{field} が長すぎます"), format!("{field}: too long")));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginIn {
    tenant: String,
    user: String,
    password: String,
}

pub async fn login(State(app): State<AppState>, Peer(src): Peer, ApiJson(r): ApiJson<LoginIn>) -> Result<Json<Value>, ApiError> {
    bounded("tenant", &r.tenant, 64)?;
    bounded("user", &r.user, 256)?;
    bounded("password", &r.password, 4096)?;
    let pw = Secret::new(r.password);
    let step = blocking(&app.security, move |s| s.login_password(&r.tenant, &r.user, &pw, &src)).await?;
    Ok(Json(step_json(&step)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecondFactorIn {
    ticket: String,
    #[serde(default)]
    totp: Option<String>,
    #[serde(default)]
    recovery_code: Option<String>,
}

pub async fn second_factor(State(app): State<AppState>, Peer(src): Peer, ApiJson(r): ApiJson<SecondFactorIn>) -> Result<Json<Value>, ApiError> {
    bounded("ticket", &r.ticket, 200)?;
    let f = match (r.totp, r.recovery_code) {
        (Some(c), None) => SecondFactor::Totp(Secret::new(c)),
        (None, Some(c)) => SecondFactor::RecoveryCode(Secret::new(c)),
        _ => {
            return Err(ApiError::invalid(
                "totp",
                "totp か recovery_code のどちらか一方を指定してください",
                "give exactly one of totp and recovery_code",
            ))
        }
    };
    let t = Secret::new(r.ticket);
    let step = blocking(&app.security, move |s| s.login_second_factor(&t, &f, &src)).await?;
    Ok(Json(step_json(&step)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordIn {
    ticket: String,
    new_password: String,
}

pub async fn change_password(State(app): State<AppState>, Peer(src): Peer, ApiJson(r): ApiJson<PasswordIn>) -> Result<Json<Value>, ApiError> {
    bounded("ticket", &r.ticket, 200)?;
    bounded("new_password", &r.new_password, 4096)?;
    let (t, pw) = (Secret::new(r.ticket), Secret::new(r.new_password));
    let step = blocking(&app.security, move |s| s.change_password(&t, &pw, &src)).await?;
    Ok(Json(step_json(&step)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketIn {
    ticket: String,
}

pub async fn totp_enroll(State(app): State<AppState>, ApiJson(r): ApiJson<TicketIn>) -> Result<Json<Value>, ApiError> {
    bounded("ticket", &r.ticket, 200)?;
    let t = Secret::new(r.ticket);
    let e = blocking(&app.security, move |s| s.begin_totp_enrolment(&t)).await?;
    Ok(Json(json!({ "secret": e.secret_base32.expose(), "otpauth_uri": e.uri.expose() })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmIn {
    ticket: String,
    code: String,
}

pub async fn totp_confirm(State(app): State<AppState>, Peer(src): Peer, ApiJson(r): ApiJson<ConfirmIn>) -> Result<Json<Value>, ApiError> {
    bounded("ticket", &r.ticket, 200)?;
    bounded("code", &r.code, 64)?;
    let (t, c) = (Secret::new(r.ticket), Secret::new(r.code));
    let e = blocking(&app.security, move |s| s.confirm_totp_enrolment(&t, &c, &src)).await?;
    let mut v = step_json(&e.step);
    v["recovery_codes"] = json!(e.recovery_codes.iter().map(|c| c.expose()).collect::<Vec<_>>());
    Ok(Json(v))
}

pub async fn logout(State(app): State<AppState>, Peer(src): Peer, headers: HeaderMap) -> Result<StatusCode, ApiError> {
    let tok = bearer(&headers).ok_or_else(ApiError::unauthorized)?.to_string();
    if tok.starts_with("sst_") {
        let t = Secret::new(tok);
        blocking(&app.security, move |s| s.logout(&t, &src)).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- tenant administrator

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUserIn {
    name: String,
    roles: Vec<String>,
}

fn parse_roles(v: &[String]) -> Result<Vec<Role>, ApiError> {
    v.iter()
        .map(|r| Role::parse(r).ok_or_else(|| ApiError::invalid("roles", "不明な役割です", "unknown role")))
        .collect()
}

pub async fn create_user(State(app): State<AppState>, t: TenantCtx, Peer(src): Peer, ApiJson(r): ApiJson<NewUserIn>) -> Result<Response, ApiError> {
    let roles = parse_roles(&r.roles)?;
    let p = t.security()?.clone();
    let name = r.name.clone();
    let (id, otp) = blocking(&app.security, move |s| s.create_user(Some(&p), &p.tenant, &name, &roles, &src)).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "name": r.name, "roles": r.roles, "one_time_password": otp.expose() })),
    )
        .into_response())
}

pub async fn unlock_user(State(app): State<AppState>, t: TenantCtx, Peer(src): Peer, ApiPath(name): ApiPath<String>) -> Result<StatusCode, ApiError> {
    let p = t.security()?.clone();
    blocking(&app.security, move |s| s.unlock(Some(&p), &p.tenant, &name, &src)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisableIn {
    disabled: bool,
}

pub async fn disable_user(
    State(app): State<AppState>,
    t: TenantCtx,
    Peer(src): Peer,
    ApiPath(name): ApiPath<String>,
    ApiJson(r): ApiJson<DisableIn>,
) -> Result<StatusCode, ApiError> {
    let p = t.security()?.clone();
    blocking(&app.security, move |s| s.set_disabled(Some(&p), &p.tenant, &name, r.disabled, &src)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTokenIn {
    name: String,
    scopes: Vec<String>,
    /// Lifetime in seconds (60 … 366 days).
    ttl_secs: i64,
    /// Mutual TLS: SHA-256 (64 hex digits) of the DER client certificate the token must arrive
    /// with (`openssl x509 -in client.pem -outform DER | sha256sum`). Absent: any connection.
    #[serde(default)]
    client_cert_sha256: Option<String>,
}

/// 64 hex digits (colons allowed, as `openssl x509 -fingerprint -sha256` prints them).
fn parse_fingerprint(s: &str) -> Option<[u8; 32]> {
    let hex: String = s.chars().filter(|c| *c != ':').collect();
    santei_security::util::unhex(&hex)?.try_into().ok()
}

pub async fn create_token(State(app): State<AppState>, t: TenantCtx, Peer(src): Peer, ApiJson(r): ApiJson<NewTokenIn>) -> Result<Response, ApiError> {
    let scopes: Vec<Action> = r
        .scopes
        .iter()
        .map(|a| Action::parse(a).ok_or_else(|| ApiError::invalid("scopes", "不明な権限範囲です", "unknown scope")))
        .collect::<Result<_, _>>()?;
    let cert = match r.client_cert_sha256.as_deref() {
        None => None,
        Some(f) => Some(parse_fingerprint(f).ok_or_else(|| {
            ApiError::invalid("client_cert_sha256", "証明書の SHA-256 指紋(16 進 64 桁)が不正です", "not a SHA-256 certificate fingerprint (64 hex digits)")
        })?),
    };
    let p = t.security()?.clone();
    let (name, ttl) = (r.name.clone(), r.ttl_secs);
    let (id, tok) = blocking(&app.security, move |s| s.create_api_token_bound(Some(&p), &p.tenant, &name, &scopes, ttl, cert, &src)).await?;
    let fp = cert.map(|c| santei_security::util::hex(&c));
    Ok((StatusCode::CREATED, Json(json!({ "id": id, "name": r.name, "scopes": r.scopes, "client_cert_sha256": fp, "token": tok.expose() }))).into_response())
}

/// The tenant's API tokens (administrators): id, name, scopes, who made it and when, expiry,
/// revocation and client-certificate binding. Never the token or its hash.
pub async fn list_tokens(State(app): State<AppState>, t: TenantCtx) -> Result<Json<Value>, ApiError> {
    let tenant = t.security()?.tenant.clone();
    let items = blocking(&app.security, move |s| s.store().list_api_tokens(&tenant)).await?;
    Ok(Json(json!({ "items": items })))
}

pub async fn revoke_token(State(app): State<AppState>, t: TenantCtx, Peer(src): Peer, ApiPath(id): ApiPath<String>) -> Result<StatusCode, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found("API トークン", "API token"))?;
    let p = t.security()?.clone();
    blocking(&app.security, move |s| s.revoke_api_token(Some(&p), &p.tenant, id, &src)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    after: Option<i64>,
    limit: Option<u32>,
}

/// The caller's tenant's audit entries (auditors).
pub async fn read_audit(State(app): State<AppState>, t: TenantCtx, ApiQuery(q): ApiQuery<AuditQuery>) -> Result<Json<Value>, ApiError> {
    let limit = super::page_limit(q.limit)? as usize;
    let p = t.security()?.clone();
    let after = q.after.unwrap_or(0);
    // Buffered entries (calculations answered in the last millisecond) first.
    app.audit.flush().await?;
    let items = blocking(&app.security, move |s| s.read_audit(&p, after, limit)).await?;
    let next = items.last().map(|e| e.seq);
    Ok(Json(json!({ "items": items, "next_after": next })))
}

#[cfg(test)]
mod tests {
    #[test]
    fn fingerprints() {
        let h = "ab".repeat(32);
        assert_eq!(super::parse_fingerprint(&h), Some([0xab; 32]));
        let colons = vec!["AB"; 32].join(":");
        assert_eq!(super::parse_fingerprint(&colons), Some([0xab; 32]));
        assert_eq!(super::parse_fingerprint(&"ab".repeat(31)), None);
        assert_eq!(super::parse_fingerprint(&format!("{}zz", "ab".repeat(31))), None);
        assert_eq!(super::parse_fingerprint(&"é".repeat(32)), None);
    }
}
