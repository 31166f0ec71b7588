//! Routes that call the engines. Placeholders (501, error body) until santei-calc,
//! santei-copay and santei-uke merge; the signatures are final, so wiring one is replacing its
//! body: take `app.engines.require_master()?` (an `Arc<Store>` that stays valid across a master
//! reload) and call the engine, off the runtime with `spawn_blocking` if it is CPU-heavy.

use crate::auth::TenantCtx;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalculateQuery {
    /// Add provenance (which master row, which rule) to every line.
    #[serde(default)]
    pub explain: Option<bool>,
}

/// `POST /v1/calculate`: a patient-month or a single visit in the `santei calc` input format.
pub async fn calculate(
    State(app): State<AppState>,
    _t: TenantCtx,
    ApiQuery(_q): ApiQuery<CalculateQuery>,
    ApiJson(_input): ApiJson<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let _master = app.engines.require_master()?;
    // Wiring: let out = santei_calc::calculate(&_master, &input)?; (+ copay) → Json(out)
    Err(ApiError::not_implemented("POST /v1/calculate"))
}

/// `POST /v1/uke/check`: check an uploaded UKE file (body: the file, as a JSON string or bytes).
pub async fn uke_check(State(app): State<AppState>, _t: TenantCtx, ApiJson(_input): ApiJson<Value>) -> Result<Json<Value>, ApiError> {
    let _master = app.engines.require_master()?;
    Err(ApiError::not_implemented("POST /v1/uke/check"))
}

/// `POST /v1/claims/{YYYY-MM}/uke`: generate the tenant's UKE file for a month from stored
/// patient-months (`storage.list(tenant, Visits, month)`).
pub async fn claims_uke(State(app): State<AppState>, _t: TenantCtx, ApiPath(month): ApiPath<String>) -> Result<Json<Value>, ApiError> {
    super::records::month_param(&month)?;
    let _master = app.engines.require_master()?;
    Err(ApiError::not_implemented("POST /v1/claims/{month}/uke"))
}

/// `POST /api01rv2/acsimulatev2`: ORCA-compatible 請求金額シミュレーション.
pub async fn orca_acsimulate(State(app): State<AppState>, _t: TenantCtx, ApiJson(_input): ApiJson<Value>) -> Result<Json<Value>, ApiError> {
    let _master = app.engines.require_master()?;
    Err(ApiError::not_implemented("POST /api01rv2/acsimulatev2"))
}
