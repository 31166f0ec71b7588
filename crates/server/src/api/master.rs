//! `GET /v1/master/…`: code-at-date lookups and name search in the current master.

use crate::auth::TenantCtx;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use santei_core::date::{parse_iso, Date};
use santei_master::json::entry_json;
use santei_master::Kind;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateQuery {
    date: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    q: Option<String>,
    kind: Option<String>,
    date: Option<String>,
    limit: Option<usize>,
}

/// `YYYY-MM-DD`, default today (Japan time: the service answers for Japanese care dates).
pub fn date_param(s: Option<&str>) -> Result<Date, ApiError> {
    match s {
        None => Ok((chrono::Utc::now() + chrono::Duration::hours(9)).date_naive()),
        Some(s) => parse_iso(s).ok_or_else(|| {
            ApiError::invalid("date", format!("日付「{s}」が不正です(YYYY-MM-DD)"), format!("invalid date '{s}' (expected YYYY-MM-DD)"))
        }),
    }
}

fn code_ok(code: &str) -> Result<(), ApiError> {
    if code.is_empty() || code.len() > 20 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ApiError::invalid("code", "コードの形式が不正です", "malformed code (1–20 ASCII letters or digits)"));
    }
    Ok(())
}

pub async fn get(
    State(app): State<AppState>,
    _t: TenantCtx,
    ApiPath(code): ApiPath<String>,
    ApiQuery(q): ApiQuery<DateQuery>,
) -> Result<Json<Value>, ApiError> {
    code_ok(&code)?;
    let date = date_param(q.date.as_deref())?;
    let st = app.engines.require_master()?;
    if let Some(e) = st.get(&code, date) {
        return Ok(Json(entry_json(&st, e)));
    }
    let versions: Vec<Value> = st.history(&code).iter().map(|e| {
        let c = e.common();
        json!({ "valid_from": c.valid_from.to_string(), "valid_to": if c.valid_to == santei_core::date::OPEN_END { Value::Null } else { json!(c.valid_to.to_string()) } })
    }).collect();
    if versions.is_empty() {
        Err(ApiError::new(StatusCode::NOT_FOUND, "code_not_found", format!("コード{code}はマスターにありません"), format!("code {code} is not in the master"))
            .details(json!({ "code": code })))
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "code_not_valid_on_date",
            format!("コード{code}は{date}に有効ではありません"),
            format!("code {code} is not valid on {date}"),
        )
        .details(json!({ "code": code, "date": date.to_string(), "versions": versions })))
    }
}

pub async fn history(State(app): State<AppState>, _t: TenantCtx, ApiPath(code): ApiPath<String>) -> Result<Json<Value>, ApiError> {
    code_ok(&code)?;
    let st = app.engines.require_master()?;
    let items: Vec<Value> = st.history(&code).iter().map(|e| entry_json(&st, *e)).collect();
    if items.is_empty() {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "code_not_found", format!("コード{code}はマスターにありません"), format!("code {code} is not in the master"))
            .details(json!({ "code": code })));
    }
    Ok(Json(json!({ "code": code, "items": items })))
}

pub async fn search(State(app): State<AppState>, _t: TenantCtx, ApiQuery(q): ApiQuery<SearchQuery>) -> Result<Json<Value>, ApiError> {
    let text = q.q.unwrap_or_default();
    if text.trim().is_empty() || text.chars().count() > 100 {
        return Err(ApiError::invalid("q", "検索語(q)を1〜100文字で指定してください", "q (search text, 1–100 characters) is required"));
    }
    let kind = match q.kind.as_deref() {
        None | Some("") => None,
        Some(k) => Some(Kind::parse(k).ok_or_else(|| {
            ApiError::invalid("kind", format!("種類「{k}」は不正です"), format!("unknown kind '{k}' (procedure, drug, material, comment, disease, modifier)"))
        })?),
    };
    let date = match q.date.as_deref() {
        None | Some("") => None,
        Some(d) => Some(date_param(Some(d))?),
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit は1〜200です", "limit must be 1..=200"));
    }
    let st = app.engines.require_master()?;
    // The first search builds the folded-name index (and a search scans it): off the runtime.
    let items = tokio::task::spawn_blocking(move || -> Vec<Value> {
        st.search(&text, kind, date, limit).iter().map(|e| entry_json(&st, *e)).collect()
    })
    .await
    .map_err(|_| ApiError::internal())?;
    Ok(Json(json!({ "count": items.len(), "items": items })))
}
