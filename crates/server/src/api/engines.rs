//! Routes that call the engines: `POST /v1/calculate`, `POST /v1/uke/check`,
//! `POST /v1/claims/{YYYY-MM}/uke` (and, in [`super::orca`], the ORCA-compatible route).
//!
//! The points engine runs through [`compute`] and claims are built through [`build_claims`]: the
//! two functions of the **santei-engine seam** (bottom of this file). Today `compute` calls
//! santei-calc directly (points, units, warnings) and `build_claims` answers 501; when
//! santei-engine merges, the lead replaces their bodies with `santei_engine::compute` (points +
//! per-visit copay when the input has `insurance`) and `santei_engine::claims` (UKE files per
//! 審査支払機関). Nothing else in the service calls an engine.

use crate::auth::TenantCtx;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::loaded_master::LoadedMaster;
use crate::storage::{Collection, Doc, ListFilter};
use crate::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use santei_calc::{CalcError, Options, PatientMonth};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Largest UKE upload accepted by `POST /v1/uke/check` (32 MiB; a month of a large clinic is a
/// few MiB). Only this route reads past the service-wide [`crate::BODY_LIMIT`].
pub const UKE_UPLOAD_LIMIT: usize = 32 << 20;

/// Above this many orders (summed over the visits) a calculation runs on the blocking pool;
/// below it, inline on the runtime. A single visit costs ~10–20 µs of CPU, less than the
/// `spawn_blocking` round trip (two thread hand-offs, measured in `crates/server/bench/README.md`);
/// a large patient-month (a 1 MiB body can hold thousands of orders) must not hold a runtime
/// worker for milliseconds.
pub const INLINE_MAX_ORDERS: usize = 64;

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
    t: TenantCtx,
    ApiQuery(q): ApiQuery<CalculateQuery>,
    ApiJson(input): ApiJson<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let loaded = app.engines.require_loaded()?;
    let explain = q.explain.unwrap_or(false);
    let mut input = input;
    if !input.contains_key("institution") {
        // The calling tenant is the institution (one more database read, only in this case).
        let tenant = app.storage.get_tenant(t.tenant_id.clone()).await.map_err(super::records::store_err)?.ok_or_else(ApiError::forbidden)?;
        input.insert("institution".into(), institution_of(&tenant));
    }
    let req = CalcRequest::from_json(input)?;
    let out = run_calc(loaded, req, explain).await?;
    Ok(Json(out.body))
}

/// A calculation request normalised to one patient-month.
pub struct CalcRequest {
    /// The patient-month as JSON (a single visit wrapped), for engines that read more than the
    /// points engine does (`insurance`, `public` for the copay).
    pub json: Map<String, Value>,
    pub month: PatientMonth,
    /// The input was a single visit: field names in errors are given without `visits[0].`.
    pub single_visit: bool,
}

/// Keys of a single visit object; every other key of a single-visit input belongs to the month.
const VISIT_KEYS: [&str; 4] = ["date", "time", "consultation", "orders"];

impl CalcRequest {
    /// Accept a patient-month (`visits: [...]`) or a single visit (`date`, `orders`, … at the top
    /// level, with `institution`, `patient` and anything else beside them). A single visit is
    /// wrapped into a month (`month` = the visit's `YYYY-MM` unless given).
    pub fn from_json(mut m: Map<String, Value>) -> Result<CalcRequest, ApiError> {
        let has_visits = m.contains_key("visits");
        let has_date = m.contains_key("date");
        let single_visit = match (has_visits, has_date) {
            (true, false) => false,
            (false, true) => true,
            (true, true) => {
                return Err(ApiError::invalid(
                    "date",
                    "visits(患者月)と date(1回の受診)の両方があります。どちらか一方にしてください",
                    "both visits (a patient-month) and date (a single visit) are given: send one form",
                ))
            }
            (false, false) => {
                return Err(ApiError::invalid(
                    "visits",
                    "visits(患者月)または date(1回の受診)が必要です",
                    "either visits (a patient-month) or date (a single visit) is required",
                ))
            }
        };
        if single_visit {
            let mut visit = Map::new();
            for k in VISIT_KEYS {
                if let Some(v) = m.remove(k) {
                    visit.insert(k.to_string(), v);
                }
            }
            if !m.contains_key("month") {
                if let Some(ym) = visit.get("date").and_then(Value::as_str).and_then(|d| d.get(..7)) {
                    m.insert("month".into(), Value::String(ym.to_string()));
                }
            }
            m.insert("visits".into(), Value::Array(vec![Value::Object(visit)]));
        }
        let v = Value::Object(m);
        let month: PatientMonth = serde_path_to_error::deserialize(&v).map_err(|e| {
            let field = field_name(&e.path().to_string(), single_visit);
            let reason = e.inner().to_string();
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_json_shape",
                format!("項目「{field}」の型が正しくありません"),
                format!("field '{field}' has a wrong type"),
            )
            .details(json!({ "field": field, "reason": reason }))
        })?;
        let Value::Object(json) = v else { return Err(ApiError::internal()) };
        Ok(CalcRequest { json, month, single_visit })
    }

    fn orders(&self) -> usize {
        self.month.visits.iter().map(|v| v.orders.len().max(1)).sum()
    }
}

/// `visits[0].orders[1].code` → `orders[1].code` for a single-visit input.
fn field_name(path: &str, single_visit: bool) -> String {
    if single_visit {
        if let Some(rest) = path.strip_prefix("visits[0].") {
            return rest.to_string();
        }
        if path == "visits[0]" {
            return ".".to_string();
        }
    }
    path.to_string()
}

/// CalcError → 422 `invalid_input`, naming the first field in `details.field` and listing every
/// problem in `details.errors`.
pub fn calc_error(e: CalcError, single_visit: bool) -> ApiError {
    let errors: Vec<Value> = e
        .errors
        .iter()
        .map(|x| {
            json!({
                "code": x.code,
                "field": x.field.as_deref().map(|f| field_name(f, single_visit)),
                "message_ja": x.message_ja,
                "message_en": x.message_en,
            })
        })
        .collect();
    let first = e.errors.first();
    let field = first.and_then(|x| x.field.as_deref()).map(|f| field_name(f, single_visit));
    let (ja, en) = match first {
        Some(x) => (x.message_ja.clone(), x.message_en.clone()),
        None => ("入力を計算できません".to_string(), "the input cannot be calculated".to_string()),
    };
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", ja, en).details(json!({ "field": field, "errors": errors }))
}

/// Run [`compute`] inline for small inputs, on the blocking pool for large ones; then refuse
/// codes the master does not know (see [`reject_unknown_codes`]).
pub async fn run_calc(loaded: Arc<LoadedMaster>, req: CalcRequest, explain: bool) -> Result<Computed, ApiError> {
    let single = req.single_visit;
    let c = if req.orders() <= INLINE_MAX_ORDERS {
        compute(&loaded, &req, explain)?
    } else {
        tokio::task::spawn_blocking(move || compute(&loaded, &req, explain)).await.map_err(|_| ApiError::internal())??
    };
    reject_unknown_codes(&c.outcome, single)?;
    Ok(c)
}

/// The points engine reports a code missing from the master (`W_UNKNOWN_CODE`) or not valid on
/// the date of care (`W_NOT_VALID`) as a warning and leaves the item out; the service refuses
/// such input instead (422 `code_not_found` / `code_not_valid_on_date`, like the master routes),
/// because a total that silently lacks an ordered item is not a price a client should show.
/// Likewise a visit no rule table covers (`W_NO_RULES`: the engine leaves the whole visit out) is
/// 422 `date_not_covered`.
pub fn reject_unknown_codes(o: &santei_calc::Outcome, single_visit: bool) -> Result<(), ApiError> {
    let Some(w) = o.warnings.iter().find(|w| matches!(w.code, "W_UNKNOWN_CODE" | "W_NOT_VALID" | "W_NO_RULES")) else {
        return Ok(());
    };
    let field = match (w.visit, w.order) {
        (Some(v), _) if w.code == "W_NO_RULES" => field_name(&format!("visits[{v}].date"), single_visit),
        (Some(v), Some(i)) => field_name(&format!("visits[{v}].orders[{i}]"), single_visit),
        (Some(v), None) => field_name(&format!("visits[{v}]"), single_visit),
        _ => "visits".to_string(),
    };
    let code = match w.code {
        "W_UNKNOWN_CODE" => "code_not_found",
        "W_NOT_VALID" => "code_not_valid_on_date",
        _ => "date_not_covered",
    };
    Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, w.message_ja.clone(), w.message_en.clone())
        .details(json!({ "field": field, "code": w.item_code, "warning": w.code })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UkeCheckQuery {
    /// File name to report as `path` (default `upload.UKE`).
    #[serde(default)]
    pub name: Option<String>,
}

fn upload_too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("UKEファイルが上限({UKE_UPLOAD_LIMIT}バイト)を超えています"),
        format!("UKE file exceeds the limit of {UKE_UPLOAD_LIMIT} bytes"),
    )
    .details(json!({ "limit_bytes": UKE_UPLOAD_LIMIT }))
}

/// `POST /v1/uke/check`: check an uploaded UKE file (raw body, `application/octet-stream`, at
/// most [`UKE_UPLOAD_LIMIT`]). Answers the per-file object of `santei uke check --json`
/// (`{path, receipts, total_points, errors, warnings}`); code checks against the current master.
pub async fn uke_check(
    State(app): State<AppState>,
    _t: TenantCtx,
    ApiQuery(q): ApiQuery<UkeCheckQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if mime != "application/octet-stream" {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Content-Type は application/octet-stream にしてください(UKEファイルをそのまま送信)",
            "Content-Type must be application/octet-stream (the UKE file as is)",
        ));
    }
    let name = match q.name {
        None => "upload.UKE".to_string(),
        Some(n) if !n.is_empty() && n.len() <= 255 && !n.chars().any(char::is_control) => n,
        Some(_) => return Err(ApiError::invalid("name", "name は1〜255文字(制御文字なし)です", "name must be 1..=255 characters without control characters")),
    };
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > UKE_UPLOAD_LIMIT as u64) {
        return Err(upload_too_large());
    }
    let loaded = app.engines.require_loaded()?;
    let bytes = axum::body::to_bytes(body, UKE_UPLOAD_LIMIT).await.map_err(|e| {
        // Past the limit `to_bytes` fails with http-body-util's `LengthLimitError`; anything
        // else is a broken body.
        if e.into_inner().downcast_ref::<http_body_util::LengthLimitError>().is_some() {
            upload_too_large()
        } else {
            ApiError::bad_request("unreadable_body", "リクエスト本文を読めません", "cannot read the request body")
        }
    })?;
    let report = tokio::task::spawn_blocking(move || {
        let opts = santei_uke::CheckOptions { catalog: Some(loaded.catalog() as &dyn santei_uke::CodeCatalog) };
        santei_uke::check_bytes(&bytes, &name, &opts)
    })
    .await
    .map_err(|_| ApiError::internal())?;
    serde_json::to_value(report).map(Json).map_err(|_| ApiError::internal())
}

/// Largest number of stored patient-months one claims run reads (a guard, far above a clinic's
/// month; a hospital operator beyond it should split by 審査支払機関 — not supported yet).
pub const CLAIMS_MAX_PATIENT_MONTHS: usize = 100_000;

/// `POST /v1/claims/{YYYY-MM}/uke`: the tenant's claims for a month from its stored
/// patient-months. Every stored order is validated by the points engine first (422 naming the
/// visit and field); the UKE bytes come from [`build_claims`].
pub async fn claims_uke(State(app): State<AppState>, t: TenantCtx, ApiPath(month): ApiPath<String>) -> Result<Json<Value>, ApiError> {
    super::records::month_param(&month)?;
    let loaded = app.engines.require_loaded()?;
    let tenant = app.storage.get_tenant(t.tenant_id.clone()).await.map_err(super::records::store_err)?.ok_or_else(ApiError::forbidden)?;
    let institution = institution_of(&tenant);

    // The tenant's patient-months of the month (keyset pages).
    let mut visits: Vec<Doc> = Vec::new();
    let mut after = None;
    loop {
        let f = ListFilter { patient_id: None, month: Some(month.clone()), after: after.clone(), limit: 1000 };
        let page = app.storage.list(t.tenant_id.clone(), Collection::Visits, f).await.map_err(super::records::store_err)?;
        let n = page.len();
        after = page.last().map(|d| d.id.clone());
        visits.extend(page);
        if n < 1000 {
            break;
        }
        if visits.len() > CLAIMS_MAX_PATIENT_MONTHS {
            return Err(ApiError::invalid(
                "month",
                format!("患者月が多すぎます(上限{CLAIMS_MAX_PATIENT_MONTHS})"),
                format!("too many patient-months (limit {CLAIMS_MAX_PATIENT_MONTHS})"),
            ));
        }
    }
    if visits.is_empty() {
        return Err(ApiError::not_found(&format!("{month}の患者月"), &format!("stored patient-months for {month}")));
    }

    // Assemble each input: the stored order + the tenant as institution + the patient + the
    // insurances valid in the month (for the copay engine and the UKE HO/KO records).
    let mut inputs: Vec<ClaimInput> = Vec::with_capacity(visits.len());
    let mut patients: std::collections::HashMap<String, (Value, Vec<Value>)> = std::collections::HashMap::new();
    for d in &visits {
        let pid = d.patient_id.clone().unwrap_or_default();
        if !patients.contains_key(&pid) {
            let p = app.storage.get(t.tenant_id.clone(), Collection::Patients, pid.clone()).await.map_err(super::records::store_err)?;
            let p = p.map(|p| serde_json::from_str::<Value>(&p.data).unwrap_or(Value::Null)).unwrap_or(Value::Null);
            let f = ListFilter { patient_id: Some(pid.clone()), month: None, after: None, limit: 1000 };
            let ins = app.storage.list(t.tenant_id.clone(), Collection::Insurances, f).await.map_err(super::records::store_err)?;
            let ins: Vec<Value> = ins.iter().filter(|i| valid_in_month(i, &month)).filter_map(|i| serde_json::from_str::<Value>(&i.data).ok()).collect();
            patients.insert(pid.clone(), (p, ins));
        }
        let (p, ins) = patients.get(&pid).cloned().unwrap_or((Value::Null, Vec::new()));
        let order = serde_json::from_str::<Value>(&d.data).ok().and_then(|v| v.get("order").cloned());
        let Some(Value::Object(mut order)) = order else {
            return Err(ApiError::invalid("order", "保存された受診データを読めません", "a stored visit cannot be read").details(json!({ "field": "order", "visit_id": d.id })));
        };
        order.entry("institution").or_insert(institution.clone());
        order.entry("month").or_insert(Value::String(month.clone()));
        if let Value::Object(pm) = &p {
            let patient = json!({
                "id": pm.get("number").cloned().unwrap_or(Value::Null),
                "name": pm.get("name").cloned().unwrap_or(Value::Null),
                "kana": pm.get("kana").cloned().unwrap_or(Value::Null),
                "birth_date": pm.get("birth_date").cloned().unwrap_or(Value::Null),
                "sex": pm.get("sex").map(|s| Value::String(match s { Value::Number(n) => n.to_string(), Value::String(s) => s.clone(), _ => String::new() })).unwrap_or(Value::Null),
            });
            order.entry("patient").or_insert(patient);
        }
        order.entry("insurances").or_insert(Value::Array(ins));
        let req = CalcRequest::from_json(order).map_err(|e| {
            let mut d2 = e.details.clone();
            if let Value::Object(o) = &mut d2 {
                o.insert("visit_id".into(), json!(d.id));
                o.insert("patient_id".into(), json!(pid));
            }
            e.details(d2)
        })?;
        inputs.push(ClaimInput { visit_id: d.id.clone(), patient_id: pid, request: req });
    }

    // Validate every patient-month with the points engine (off the runtime: many months).
    let month2 = month.clone();
    let loaded2 = loaded.clone();
    let inputs = tokio::task::spawn_blocking(move || -> Result<Vec<ClaimInput>, ApiError> {
        for i in &inputs {
            if i.request.month.month != month2 {
                return Err(ApiError::invalid("month", "保存された受診データの診療年月が請求月と違います", "a stored visit's month differs from the claim month")
                    .details(json!({ "field": "month", "visit_id": i.visit_id })));
            }
            let tag = |mut err: ApiError| {
                if let Value::Object(o) = &mut err.details {
                    o.insert("visit_id".into(), json!(i.visit_id));
                    o.insert("patient_id".into(), json!(i.patient_id));
                }
                err
            };
            let out = loaded2.calc().calculate_with(&i.request.month, Options { detail: false }).map_err(|e| tag(calc_error(e, false)))?;
            reject_unknown_codes(&out, false).map_err(tag)?;
        }
        Ok(inputs)
    })
    .await
    .map_err(|_| ApiError::internal())??;

    let n = inputs.len();
    let files = build_claims(&loaded, inputs, &month).map_err(|e| {
        let mut e = e;
        if let Value::Object(o) = &mut e.details {
            o.insert("patient_months".into(), json!(n));
        } else {
            e.details = json!({ "patient_months": n });
        }
        e
    })?;
    Ok(Json(json!({
        "month": month,
        "patient_months": n,
        "files": files.iter().map(|f| json!({
            "payer": f.payer,
            "name": f.name,
            "bytes": f.bytes.len(),
            "content_base64": base64(&f.bytes),
        })).collect::<Vec<_>>(),
    })))
}

/// The calc input's `institution` for a tenant: code, prefecture, name, kind, posted hours, and
/// `beds` / `pharmacist` from the tenant's settings when set there.
pub fn institution_of(t: &crate::storage::TenantRow) -> Value {
    let settings = serde_json::from_str::<Value>(&t.settings).unwrap_or(Value::Null);
    let mut m = Map::new();
    // The tenant's 医療機関コード is the 10-digit form (都道府県2 + 点数表1 + 医療機関7); the claim
    // (IR 医療機関コード, 記録条件仕様) and the engines use the 7-digit 医療機関 part.
    let code = &t.institution_code;
    let seven = if code.len() == 10 { code.get(3..).unwrap_or(code) } else { code.as_str() };
    m.insert("code".into(), json!(seven));
    m.insert("prefecture".into(), json!(t.prefecture));
    m.insert("name".into(), json!(t.name));
    m.insert("kind".into(), json!(t.kind));
    m.insert("posted_hours".into(), serde_json::from_str::<Value>(&t.posted_hours).ok().filter(Value::is_object).unwrap_or_else(|| json!({})));
    for k in ["beds", "pharmacist"] {
        if let Some(v) = settings.get(k) {
            m.insert(k.into(), v.clone());
        }
    }
    Value::Object(m)
}

/// Whether a stored insurance (`valid_from` / `valid_to`, `YYYY-MM-DD`, either may be open)
/// overlaps the month `YYYY-MM`.
fn valid_in_month(d: &Doc, month: &str) -> bool {
    let first = format!("{month}-01");
    let last = format!("{month}-31");
    let from_ok = d.valid_from.as_deref().is_none_or(|f| f.is_empty() || f <= last.as_str());
    let to_ok = d.valid_to.as_deref().is_none_or(|t| t.is_empty() || t >= first.as_str());
    from_ok && to_ok
}

/// Standard base64 (RFC 4648, with padding) for the UKE bytes in the JSON answer.
pub fn base64(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        out.push(A[(n >> 18) as usize & 63] as char);
        out.push(A[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 { A[(n >> 6) as usize & 63] as char } else { '=' });
        out.push(if c.len() > 2 { A[n as usize & 63] as char } else { '=' });
    }
    out
}

// ─────────────────────────────────────────────────────────────────────────────────────────────
// The two places the service calls an engine for a result, both through santei-engine: points
// plus the per-visit window copay (when the input carries insurance), and the UKE files of a month.
// ─────────────────────────────────────────────────────────────────────────────────────────────

/// What a calculation answers.
pub struct Computed {
    /// The `POST /v1/calculate` body: the `santei calc --json` shape (month, total_points, days,
    /// visits, units, warnings) plus `"copay"` when the input carries insurance or 公費.
    pub body: Value,
    pub outcome: santei_calc::Outcome,
    /// What the patient pays for the input's visits (yen), when a copay was computed.
    pub patient_yen: Option<i64>,
}

/// The stored form of insurances (`POST /v1/patients/{id}/insurances`: `kind` insurance/public,
/// `insurer_number`, `symbol`, `number`, `branch`, `relationship` 1/2, `payer_number`,
/// `recipient_number`, `attributes`) → santei-engine's `insurance` / `kouhi` input
/// (crates/engine/README.md). An input that already carries `insurance` or `kouhi` is left as is.
/// `attributes` (e.g. `rate_percent`, `income_class`, `monthly_cap_yen`) are passed through.
fn engine_insurance(json: &mut Map<String, Value>) {
    if json.contains_key("insurance") || json.contains_key("kouhi") {
        return;
    }
    let Some(Value::Array(list)) = json.get("insurances").cloned() else { return };
    let mut kouhi = Vec::new();
    for i in &list {
        let Some(o) = i.as_object() else { continue };
        let mut out = Map::new();
        let copy = |out: &mut Map<String, Value>, from: &str, to: &str| {
            if let Some(v) = o.get(from).filter(|v| !v.is_null()) {
                out.insert(to.to_string(), v.clone());
            }
        };
        match o.get("kind").and_then(Value::as_str) {
            Some("insurance") if !json.contains_key("insurance") => {
                copy(&mut out, "insurer_number", "insurer");
                copy(&mut out, "symbol", "symbol");
                copy(&mut out, "number", "number");
                copy(&mut out, "branch", "branch");
                if let Some(r) = o.get("relationship").and_then(Value::as_u64) {
                    out.insert("relation".into(), json!(if r == 2 { "family" } else { "self" }));
                }
                if let Some(Value::Object(a)) = o.get("attributes") {
                    for (k, v) in a {
                        out.entry(k.clone()).or_insert(v.clone());
                    }
                }
                json.insert("insurance".into(), Value::Object(out));
            }
            Some("public") => {
                copy(&mut out, "payer_number", "futansha");
                copy(&mut out, "recipient_number", "jukyusha");
                if let Some(Value::Object(a)) = o.get("attributes") {
                    for (k, v) in a {
                        out.entry(k.clone()).or_insert(v.clone());
                    }
                }
                kouhi.push(Value::Object(out));
            }
            _ => {}
        }
    }
    if !kouhi.is_empty() {
        json.insert("kouhi".into(), Value::Array(kouhi));
    }
}

fn engine_input(req: &CalcRequest) -> Result<santei_engine::PatientMonthInput, ApiError> {
    let mut json = req.json.clone();
    engine_insurance(&mut json);
    santei_engine::PatientMonthInput::from_value(&Value::Object(json), "request").map_err(|errors| calc_error(CalcError { errors }, req.single_visit))
}

/// Points and (with insurance) the per-visit copay for one patient-month (santei-engine).
pub fn compute(loaded: &LoadedMaster, req: &CalcRequest, explain: bool) -> Result<Computed, ApiError> {
    let input = engine_input(req)?;
    let c = santei_engine::compute_with(loaded.calc(), &input).map_err(|e| calc_error(CalcError { errors: e.errors }, req.single_visit))?;
    let patient_yen = c.copay.as_ref().map(|x| x.month_total_yen);
    Ok(Computed { body: c.to_json(explain), outcome: c.outcome, patient_yen })
}

/// One stored patient-month, ready for the claims engine.
pub struct ClaimInput {
    pub visit_id: String,
    pub patient_id: String,
    /// The month input (institution from the tenant, `patient`, `insurances` valid in the month).
    pub request: CalcRequest,
}

/// One generated UKE file.
pub struct ClaimFile {
    /// 審査支払機関: `1` 社保 (支払基金), `2` 国保 (国保連) — 別表1.
    pub payer: String,
    /// File name (e.g. `RECEIPTC.UKE`).
    pub name: String,
    /// The file as written (CP932, CRLF, EOF 0x1A).
    pub bytes: Vec<u8>,
}

/// The UKE files of a month, one per 審査支払機関 (santei-engine).
pub fn build_claims(loaded: &LoadedMaster, inputs: Vec<ClaimInput>, month: &str) -> Result<Vec<ClaimFile>, ApiError> {
    let ym = santei_core::date::YearMonth::parse_iso(month).ok_or_else(|| ApiError::invalid("month", "診療年月はYYYY-MMです", "month: YYYY-MM"))?;
    let mut parsed = Vec::with_capacity(inputs.len());
    for i in &inputs {
        parsed.push(engine_input(&i.request).map_err(|e| {
            let mut d = e.details.clone();
            if let Value::Object(o) = &mut d {
                o.insert("visit_id".into(), json!(i.visit_id));
                o.insert("patient_id".into(), json!(i.patient_id));
            }
            e.details(d)
        })?);
    }
    let files = santei_engine::claims(loaded.store(), &parsed, ym).map_err(|e| calc_error(CalcError { errors: e.errors }, false))?;
    Ok(files
        .into_iter()
        .map(|(office, bytes)| ClaimFile { payer: office.code().to_string(), name: format!("{}/RECEIPTC.UKE", office.dir_name()), bytes })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_rfc4648_vectors() {
        for (i, o) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn single_visit_is_wrapped() {
        let v = json!({"institution": {"kind": "clinic"}, "patient": {"birth_date": "1980-01-01"}, "insurance": {"ratio": 3},
                       "date": "2024-06-03", "time": "10:00", "consultation": "initial", "orders": []});
        let Value::Object(m) = v else { unreachable!() };
        let r = CalcRequest::from_json(m).expect("ok");
        assert!(r.single_visit);
        assert_eq!(r.month.month, "2024-06");
        assert_eq!(r.month.visits.len(), 1);
        assert_eq!(r.month.visits[0].date, "2024-06-03");
        assert_eq!(r.json["insurance"]["ratio"], 3);
        assert!(r.json.get("date").is_none());
    }

    #[test]
    fn type_error_names_the_field() {
        let v = json!({"date": "2024-06-03", "orders": [{"type": "procedure", "code": 160000310}]});
        let Value::Object(m) = v else { unreachable!() };
        let e = CalcRequest::from_json(m).err().expect("error");
        assert_eq!(e.code, "invalid_json_shape");
        assert_eq!(e.details["field"], "orders[0].code");
    }
}
