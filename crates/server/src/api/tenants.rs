//! Tenants (institutions). The operator creates them (`POST /v1/admin/tenants` or
//! `santei tenant create`); each gets an API token shown once. A tenant reads and updates its
//! own record at `/v1/tenant`. No fixed cap on the number of tenants.

use super::page_limit;
use super::records::store_err;
use crate::auth::{OperatorCtx, TenantCtx};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::storage::{new_id, now, DynStorage, StoreError, TenantRow};
use crate::AppState;
use santei_security::Security;
use std::sync::Arc;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// A new institution.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    /// 医療機関コード: 10 digits (都道府県番号2 + 点数表番号1 + 医療機関コード7).
    pub institution_code: String,
    pub name: String,
    /// `clinic` (診療所) or `hospital` (病院).
    pub kind: String,
    /// 都道府県番号 01–47; default: the first two digits of the code (must agree if given).
    #[serde(default)]
    pub prefecture: Option<String>,
    /// 標榜時間, e.g. `{"mon": [["09:00","12:00"],["14:00","18:00"]], …}`.
    #[serde(default)]
    pub posted_hours: Option<Map<String, Value>>,
    #[serde(default)]
    pub settings: Option<Map<String, Value>>,
}

/// The tenant-editable part.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantUpdate {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub posted_hours: Option<Map<String, Value>>,
    #[serde(default)]
    pub settings: Option<Map<String, Value>>,
}

#[derive(Debug, Serialize)]
pub struct TenantCreated {
    pub tenant: Value,
    /// The API token: shown once, stored only as a SHA-256 hash.
    pub token: String,
}

fn check_kind(k: &str) -> Result<(), ApiError> {
    if matches!(k, "clinic" | "hospital") {
        Ok(())
    } else {
        Err(ApiError::invalid("kind", "kind は clinic(診療所)か hospital(病院)です", "kind: 'clinic' or 'hospital'"))
    }
}

fn check_name(n: &str) -> Result<(), ApiError> {
    if n.trim().is_empty() || n.chars().count() > 200 || n.chars().any(char::is_control) {
        return Err(ApiError::invalid("name", "名称は1〜200文字です", "name: 1–200 characters"));
    }
    Ok(())
}

fn check_posted_hours(m: &Map<String, Value>) -> Result<(), ApiError> {
    const DAYS: [&str; 8] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"];
    // "HH:MM", 00:00–24:00; checked on bytes (a multi-byte character must not reach a str slice).
    let hhmm = |v: &Value| {
        v.as_str().is_some_and(|s| {
            let b = s.as_bytes();
            let num = |x: &[u8]| x.iter().all(u8::is_ascii_digit).then(|| x.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')));
            b.len() == 5
                && b[2] == b':'
                && matches!((num(&b[..2]), num(&b[3..])), (Some(h), Some(m)) if m < 60 && (h < 24 || (h == 24 && m == 0)))
        })
    };
    for (day, spans) in m {
        let ok = DAYS.contains(&day.as_str())
            && spans.as_array().is_some_and(|a| a.iter().all(|s| s.as_array().is_some_and(|p| p.len() == 2 && p.iter().all(hhmm))));
        if !ok {
            return Err(ApiError::invalid(
                "posted_hours",
                "標榜時間は {\"mon\": [[\"09:00\",\"12:00\"]], …} の形式です(曜日 mon…sun, holiday)",
                "posted_hours: {\"mon\": [[\"09:00\",\"12:00\"]], …} (days mon…sun, holiday)",
            )
            .details(json!({ "field": "posted_hours", "day": day })));
        }
    }
    Ok(())
}

pub fn tenant_json(t: &TenantRow) -> Value {
    json!({
        "id": t.id,
        "institution_code": t.institution_code,
        "name": t.name,
        "prefecture": t.prefecture,
        "kind": t.kind,
        "posted_hours": serde_json::from_str::<Value>(&t.posted_hours).unwrap_or(Value::Null),
        "settings": serde_json::from_str::<Value>(&t.settings).unwrap_or(Value::Null),
        "created_at": t.created_at,
        "updated_at": t.updated_at,
    })
}

fn obj_text(m: &Option<Map<String, Value>>) -> String {
    Value::Object(m.clone().unwrap_or_default()).to_string()
}

/// Validate and create a tenant with its first token (used by the admin route and the CLI).
pub async fn new_tenant(st: &DynStorage, sec: &Arc<Security>, t: NewTenant) -> Result<TenantCreated, ApiError> {
    let code = t.institution_code.trim();
    if code.len() != 10 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::invalid("institution_code", "医療機関コードは10桁の数字です", "institution_code: 10 digits"));
    }
    let pref = t.prefecture.clone().unwrap_or_else(|| code[..2].to_string());
    let pn: u8 = pref.parse().unwrap_or(0);
    if pref.len() != 2 || !(1..=47).contains(&pn) || pref != code[..2] {
        return Err(ApiError::invalid(
            "prefecture",
            "都道府県番号は01〜47で、医療機関コードの先頭2桁と一致する必要があります",
            "prefecture: 01–47, equal to the first two digits of institution_code",
        ));
    }
    check_name(&t.name)?;
    check_kind(&t.kind)?;
    if let Some(h) = &t.posted_hours {
        check_posted_hours(h)?;
    }
    let ts = now();
    let row = TenantRow {
        id: new_id().map_err(store_err)?,
        institution_code: code.to_string(),
        name: t.name.clone(),
        prefecture: pref,
        kind: t.kind.clone(),
        posted_hours: obj_text(&t.posted_hours),
        settings: obj_text(&t.settings),
        created_at: ts.clone(),
        updated_at: ts,
    };
    st.create_tenant(row.clone()).await.map_err(|e| match e {
        StoreError::Conflict(_) => ApiError::conflict("この医療機関コードのテナントは既にあります", "a tenant with this institution_code already exists"),
        e => store_err(e),
    })?;
    let (token, _) = new_token(st, sec, &row.id, "initial").await?;
    Ok(TenantCreated { tenant: tenant_json(&row), token })
}

/// Scopes of the tokens the operator issues with a tenant: the whole api-client row of the
/// matrix (a tenant administrator can issue narrower ones with `POST /v1/api-tokens`).
pub const OPERATOR_TOKEN_SCOPES: [santei_security::Action; 5] = [
    santei_security::Action::ReadPatient,
    santei_security::Action::WritePatient,
    santei_security::Action::Calculate,
    santei_security::Action::GenerateClaims,
    santei_security::Action::ReadMaster,
];

/// Lifetime of operator-issued tokens: 90 days.
pub const OPERATOR_TOKEN_TTL_SECS: i64 = 90 * 86400;

/// Issue a santei-security API token (role api-client) for an existing tenant: (token, token id).
pub async fn new_token(st: &DynStorage, sec: &Arc<Security>, tenant_id: &str, label: &str) -> Result<(String, i64), ApiError> {
    let Some(t) = st.get_tenant(tenant_id.to_string()).await.map_err(store_err)? else {
        return Err(ApiError::not_found("テナント", "tenant"));
    };
    let name = if label.trim().is_empty() { "token".to_string() } else { label.trim().to_string() };
    let code = t.institution_code;
    let (id, tok) = crate::security::blocking(sec, move |s| {
        s.create_api_token(None, &code, &name, &OPERATOR_TOKEN_SCOPES, OPERATOR_TOKEN_TTL_SECS, "operator")
    })
    .await?;
    Ok((tok.expose().to_string(), id))
}

pub async fn admin_create(State(app): State<AppState>, _op: OperatorCtx, ApiJson(t): ApiJson<NewTenant>) -> Result<Response, ApiError> {
    let created = new_tenant(&app.storage, &app.security, t).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    after: Option<String>,
    limit: Option<u32>,
}

pub async fn admin_list(State(app): State<AppState>, _op: OperatorCtx, ApiQuery(q): ApiQuery<ListQuery>) -> Result<Json<Value>, ApiError> {
    let limit = page_limit(q.limit)?;
    let rows = app.storage.list_tenants(q.after, limit).await.map_err(store_err)?;
    let next = if rows.len() as u32 == limit { rows.last().map(|r| r.id.clone()) } else { None };
    Ok(Json(json!({ "items": rows.iter().map(tenant_json).collect::<Vec<_>>(), "next_after": next })))
}

pub async fn admin_get(State(app): State<AppState>, _op: OperatorCtx, ApiPath(id): ApiPath<String>) -> Result<Json<Value>, ApiError> {
    match app.storage.get_tenant(id).await.map_err(store_err)? {
        Some(t) => Ok(Json(tenant_json(&t))),
        None => Err(ApiError::not_found("テナント", "tenant")),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[serde(default)]
    label: Option<String>,
}

pub async fn admin_new_token(
    State(app): State<AppState>,
    _op: OperatorCtx,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<TokenRequest>,
) -> Result<Response, ApiError> {
    let label = r.label.unwrap_or_default();
    if label.chars().count() > 64 || label.chars().any(|c| c.is_control() || c == ',') {
        return Err(ApiError::invalid("label", "label は64文字以内です(カンマ不可)", "label: at most 64 characters, no commas"));
    }
    let (token, token_id) = new_token(&app.storage, &app.security, &id, &label).await?;
    Ok((StatusCode::CREATED, Json(json!({ "token": token, "token_id": token_id, "tenant_id": id }))).into_response())
}

pub async fn get_own(State(app): State<AppState>, t: TenantCtx) -> Result<Json<Value>, ApiError> {
    match app.storage.get_tenant(t.tenant_id).await.map_err(store_err)? {
        Some(row) => Ok(Json(tenant_json(&row))),
        None => Err(ApiError::not_found("テナント", "tenant")),
    }
}

pub async fn update_own(State(app): State<AppState>, t: TenantCtx, ApiJson(u): ApiJson<TenantUpdate>) -> Result<Json<Value>, ApiError> {
    check_name(&u.name)?;
    check_kind(&u.kind)?;
    if let Some(h) = &u.posted_hours {
        check_posted_hours(h)?;
    }
    let Some(mut row) = app.storage.get_tenant(t.tenant_id).await.map_err(store_err)? else {
        return Err(ApiError::not_found("テナント", "tenant"));
    };
    row.name = u.name;
    row.kind = u.kind;
    row.posted_hours = obj_text(&u.posted_hours);
    row.settings = obj_text(&u.settings);
    row.updated_at = now();
    if !app.storage.update_tenant(row.clone()).await.map_err(store_err)? {
        return Err(ApiError::not_found("テナント", "tenant"));
    }
    Ok(Json(tenant_json(&row)))
}
