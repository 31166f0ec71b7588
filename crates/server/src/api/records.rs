//! Patients, insurances (保険/公費 with validity periods) and visits (patient-month orders in the
//! `santei calc` input format), per tenant. Every storage call carries the caller's tenant id:
//! another tenant's row is answered exactly like a missing one (404).

use super::page_limit;
use crate::auth::TenantCtx;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::storage::{new_id, now, Collection, Doc, ListFilter, StoreError};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use santei_core::date::{parse_iso, YearMonth};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Map a storage error to the API (logging the cause, never the data).
pub fn store_err(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(_) => ApiError::conflict("同じキーのデータが既にあります", "a record with the same key already exists"),
        StoreError::MissingParent => ApiError::not_found("患者", "patient"),
        StoreError::Unavailable(m) => {
            tracing::error!(error = %m, "database unavailable");
            ApiError::unavailable("storage_unavailable", "データベースに接続できません", "database unavailable")
        }
        StoreError::Internal(m) => {
            tracing::error!(error = %m, "storage error");
            ApiError::internal()
        }
    }
}

fn id_ok(field: &str, id: &str) -> Result<(), ApiError> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(ApiError::not_found("データ", "record").details(json!({ "field": field })));
    }
    Ok(())
}

fn digits(s: &str, lens: &[usize]) -> bool {
    lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

fn text(field: &str, s: &str, max: usize, required: bool) -> Result<(), ApiError> {
    if required && s.trim().is_empty() {
        return Err(ApiError::invalid(field, format!("{field} は必須です"), format!("{field} is required")));
    }
    if s.chars().count() > max || s.chars().any(|c| c.is_control()) {
        return Err(ApiError::invalid(field, format!("{field} は{max}文字以内(制御文字不可)です"), format!("{field}: at most {max} characters, no control characters")));
    }
    Ok(())
}

fn iso_date(field: &str, s: &str) -> Result<santei_core::date::Date, ApiError> {
    parse_iso(s).ok_or_else(|| ApiError::invalid(field, format!("{field} の日付が不正です(YYYY-MM-DD)"), format!("{field}: invalid date (expected YYYY-MM-DD)")))
}

/// The stored document rendered for the client: id, parent, fields, timestamps.
fn render(c: Collection, d: &Doc) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(d.id));
    if c != Collection::Patients {
        m.insert("patient_id".into(), json!(d.patient_id));
    }
    if let Ok(Value::Object(data)) = serde_json::from_str::<Value>(&d.data) {
        m.extend(data);
    }
    m.insert("created_at".into(), json!(d.created_at));
    m.insert("updated_at".into(), json!(d.updated_at));
    Value::Object(m)
}

fn to_data<T: Serialize>(v: &T) -> Result<String, ApiError> {
    serde_json::to_string(v).map_err(|_| ApiError::internal())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    after: Option<String>,
    limit: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitListQuery {
    month: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InsuranceListQuery {
    /// Only those valid on this date.
    date: Option<String>,
}

fn page(c: Collection, docs: Vec<Doc>, limit: u32) -> Json<Value> {
    let next = if docs.len() as u32 == limit { docs.last().map(|d| d.id.clone()) } else { None };
    Json(json!({ "items": docs.iter().map(|d| render(c, d)).collect::<Vec<_>>(), "next_after": next }))
}

// ---------------------------------------------------------------- patients

/// A patient. 患者番号 (`number`) is the institution's own, unique within the tenant.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PatientIn {
    /// 患者番号: 1–20 ASCII letters, digits or '-'.
    pub number: String,
    /// 氏名.
    pub name: String,
    /// カナ氏名.
    #[serde(default)]
    pub kana: String,
    /// 生年月日 YYYY-MM-DD.
    pub birth_date: String,
    /// 男女区分: 1 男, 2 女.
    pub sex: u8,
    /// 完結日 YYYY-MM-DD (療担規則 第9条: the record may be deleted 5 years after it); absent =
    /// not completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_on: Option<String>,
}

impl PatientIn {
    fn validate(&self) -> Result<(), ApiError> {
        if self.number.is_empty() || self.number.len() > 20 || !self.number.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(ApiError::invalid("number", "患者番号は英数字と'-'で1〜20文字です", "number: 1–20 ASCII letters, digits or '-'"));
        }
        text("name", &self.name, 100, true)?;
        text("kana", &self.kana, 100, false)?;
        iso_date("birth_date", &self.birth_date)?;
        if let Some(c) = &self.completed_on {
            iso_date("completed_on", c)?;
        }
        if !matches!(self.sex, 1 | 2) {
            return Err(ApiError::invalid("sex", "男女区分は1(男)か2(女)です", "sex: 1 (male) or 2 (female)"));
        }
        Ok(())
    }
    fn doc(&self, id: String, created_at: String, updated_at: String) -> Result<Doc, ApiError> {
        Ok(Doc { id, number: Some(self.number.clone()), data: to_data(self)?, created_at, updated_at, ..Doc::default() })
    }
}

fn patient_conflict(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(_) => ApiError::conflict("この患者番号は既に使われています", "a patient with this number already exists"),
        e => store_err(e),
    }
}

pub async fn create_patient(State(app): State<AppState>, t: TenantCtx, ApiJson(p): ApiJson<PatientIn>) -> Result<Response, ApiError> {
    p.validate()?;
    let ts = now();
    let d = p.doc(new_id().map_err(store_err)?, ts.clone(), ts)?;
    app.storage.insert(t.tenant_id, Collection::Patients, d.clone()).await.map_err(patient_conflict)?;
    Ok((StatusCode::CREATED, axum::Extension(crate::auth::CreatedId(d.id.clone())), Json(render(Collection::Patients, &d))).into_response())
}

pub async fn list_patients(State(app): State<AppState>, t: TenantCtx, ApiQuery(q): ApiQuery<ListQuery>) -> Result<Json<Value>, ApiError> {
    let limit = page_limit(q.limit)?;
    let docs = app.storage.list(t.tenant_id, Collection::Patients, ListFilter { after: q.after, limit, ..Default::default() }).await.map_err(store_err)?;
    Ok(page(Collection::Patients, docs, limit))
}

async fn load(app: &AppState, tenant: &str, c: Collection, id: &str, parent: Option<&str>) -> Result<Doc, ApiError> {
    id_ok("id", id)?;
    let (ja, en) = match c {
        Collection::Patients => ("患者", "patient"),
        Collection::Insurances => ("保険", "insurance"),
        Collection::Visits => ("受診", "visit"),
    };
    match app.storage.get(tenant.to_string(), c, id.to_string()).await.map_err(store_err)? {
        Some(d) if parent.is_none() || d.patient_id.as_deref() == parent => Ok(d),
        _ => Err(ApiError::not_found(ja, en)),
    }
}

pub async fn get_patient(State(app): State<AppState>, t: TenantCtx, ApiPath(id): ApiPath<String>) -> Result<Json<Value>, ApiError> {
    let d = load(&app, &t.tenant_id, Collection::Patients, &id, None).await?;
    Ok(Json(render(Collection::Patients, &d)))
}

pub async fn update_patient(
    State(app): State<AppState>,
    t: TenantCtx,
    ApiPath(id): ApiPath<String>,
    ApiJson(p): ApiJson<PatientIn>,
) -> Result<Json<Value>, ApiError> {
    p.validate()?;
    let old = load(&app, &t.tenant_id, Collection::Patients, &id, None).await?;
    let d = p.doc(id, old.created_at, now())?;
    if !app.storage.update(t.tenant_id, Collection::Patients, d.clone()).await.map_err(patient_conflict)? {
        return Err(ApiError::not_found("患者", "patient"));
    }
    Ok(Json(render(Collection::Patients, &d)))
}

/// 療担規則 第9条: 診療録 and claims are kept 5 years from completion; deleting earlier is refused
/// (409) and the refusal audited (santei-security `check_retention`). `completed` is the record's
/// 完結日: a patient's `completed_on` (absent = not completed, never deletable), a patient-month's
/// last day.
async fn retention_ok(app: &AppState, t: &TenantCtx, peer: &str, kind: &str, id: &str, completed: Option<chrono::NaiveDate>) -> Result<(), ApiError> {
    let who = t.security()?.clone();
    let (kind, id, peer) = (kind.to_string(), id.to_string(), peer.to_string());
    let today = (chrono::Utc::now() + chrono::Duration::hours(9)).date_naive(); // Japan time
    crate::security::blocking(&app.security, move |s| s.check_retention(&who, &kind, &id, completed, today, &peer)).await
}

pub async fn delete_patient(State(app): State<AppState>, t: TenantCtx, crate::auth::Peer(peer): crate::auth::Peer, ApiPath(id): ApiPath<String>) -> Result<StatusCode, ApiError> {
    id_ok("id", &id)?;
    let p = load(&app, &t.tenant_id, Collection::Patients, &id, None).await?;
    let completed = serde_json::from_str::<Value>(&p.data).ok().and_then(|v| v.get("completed_on").and_then(Value::as_str).and_then(parse_iso));
    retention_ok(&app, &t, &peer, "patient", &id, completed).await?;
    if app.storage.delete(t.tenant_id, Collection::Patients, id).await.map_err(store_err)? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("患者", "patient"))
    }
}

// ---------------------------------------------------------------- insurances

/// 保険 (医療保険) or 公費, with its validity period.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InsuranceIn {
    /// `insurance` (医療保険) or `public` (公費).
    pub kind: String,
    /// 保険者番号 (6 or 8 digits), for `insurance`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insurer_number: Option<String>,
    /// 被保険者証記号.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// 被保険者証番号.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// 枝番 (2 digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// 本人家族: 1 本人, 2 家族.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship: Option<u8>,
    /// 公費負担者番号 (8 digits), for `public`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_number: Option<String>,
    /// 公費受給者番号 (7 digits), for `public`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_number: Option<String>,
    /// 有効開始日 YYYY-MM-DD.
    pub valid_from: String,
    /// 有効終了日 YYYY-MM-DD; absent = open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<String>,
    /// Further attributes for the copay engine (e.g. 負担割合, 限度額適用区分): a JSON object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Map<String, Value>>,
}

impl InsuranceIn {
    fn validate(&self) -> Result<(), ApiError> {
        match self.kind.as_str() {
            "insurance" => {
                if !self.insurer_number.as_deref().is_some_and(|n| digits(n, &[6, 8])) {
                    return Err(ApiError::invalid("insurer_number", "保険者番号は6桁または8桁の数字です", "insurer_number: 6 or 8 digits"));
                }
                if self.payer_number.is_some() || self.recipient_number.is_some() {
                    return Err(ApiError::invalid("payer_number", "医療保険に公費番号は指定できません", "payer_number/recipient_number belong to kind 'public'"));
                }
            }
            "public" => {
                if !self.payer_number.as_deref().is_some_and(|n| digits(n, &[8])) {
                    return Err(ApiError::invalid("payer_number", "公費負担者番号は8桁の数字です", "payer_number: 8 digits"));
                }
                if self.recipient_number.as_deref().is_some_and(|n| !digits(n, &[7])) {
                    return Err(ApiError::invalid("recipient_number", "公費受給者番号は7桁の数字です", "recipient_number: 7 digits"));
                }
                if self.insurer_number.is_some() {
                    return Err(ApiError::invalid("insurer_number", "公費に保険者番号は指定できません", "insurer_number belongs to kind 'insurance'"));
                }
            }
            _ => return Err(ApiError::invalid("kind", "kind は insurance か public です", "kind: 'insurance' or 'public'")),
        }
        for (f, v) in [("symbol", &self.symbol), ("number", &self.number)] {
            if let Some(v) = v {
                text(f, v, 40, false)?;
            }
        }
        if self.branch.as_deref().is_some_and(|b| !digits(b, &[2])) {
            return Err(ApiError::invalid("branch", "枝番は2桁の数字です", "branch: 2 digits"));
        }
        if self.relationship.is_some_and(|r| !matches!(r, 1 | 2)) {
            return Err(ApiError::invalid("relationship", "本人家族は1(本人)か2(家族)です", "relationship: 1 (self) or 2 (family)"));
        }
        let from = iso_date("valid_from", &self.valid_from)?;
        if let Some(to) = &self.valid_to {
            if iso_date("valid_to", to)? < from {
                return Err(ApiError::invalid("valid_to", "有効終了日が開始日より前です", "valid_to is before valid_from"));
            }
        }
        Ok(())
    }
    fn doc(&self, id: String, patient: &str, created_at: String, updated_at: String) -> Result<Doc, ApiError> {
        Ok(Doc {
            id,
            patient_id: Some(patient.to_string()),
            kind: Some(self.kind.clone()),
            valid_from: Some(self.valid_from.clone()),
            valid_to: self.valid_to.clone(),
            data: to_data(self)?,
            created_at,
            updated_at,
            ..Doc::default()
        })
    }
}

pub async fn create_insurance(
    State(app): State<AppState>,
    t: TenantCtx,
    ApiPath(pid): ApiPath<String>,
    ApiJson(i): ApiJson<InsuranceIn>,
) -> Result<Response, ApiError> {
    id_ok("patient_id", &pid)?;
    i.validate()?;
    let ts = now();
    let d = i.doc(new_id().map_err(store_err)?, &pid, ts.clone(), ts)?;
    app.storage.insert(t.tenant_id, Collection::Insurances, d.clone()).await.map_err(store_err)?;
    Ok((StatusCode::CREATED, axum::Extension(crate::auth::CreatedId(d.id.clone())), Json(render(Collection::Insurances, &d))).into_response())
}

pub async fn list_insurances(
    State(app): State<AppState>,
    t: TenantCtx,
    ApiPath(pid): ApiPath<String>,
    ApiQuery(q): ApiQuery<InsuranceListQuery>,
) -> Result<Json<Value>, ApiError> {
    load(&app, &t.tenant_id, Collection::Patients, &pid, None).await?;
    let date = q.date.as_deref().map(|d| iso_date("date", d)).transpose()?;
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let f = ListFilter { patient_id: Some(pid.clone()), after: after.clone(), limit: 1000, ..Default::default() };
        let docs = app.storage.list(t.tenant_id.clone(), Collection::Insurances, f).await.map_err(store_err)?;
        let full = docs.len() == 1000;
        after = docs.last().map(|d| d.id.clone());
        all.extend(docs);
        if !full {
            break;
        }
    }
    if let Some(day) = date {
        all.retain(|d| {
            let from = d.valid_from.as_deref().and_then(parse_iso);
            let to = d.valid_to.as_deref().and_then(parse_iso);
            from.is_some_and(|f| f <= day) && !matches!(to, Some(t) if day > t)
        });
    }
    Ok(Json(json!({ "items": all.iter().map(|d| render(Collection::Insurances, d)).collect::<Vec<_>>() })))
}

type ChildPath = ApiPath<(String, String)>;

pub async fn get_insurance(State(app): State<AppState>, t: TenantCtx, ApiPath((pid, id)): ChildPath) -> Result<Json<Value>, ApiError> {
    let d = load(&app, &t.tenant_id, Collection::Insurances, &id, Some(&pid)).await?;
    Ok(Json(render(Collection::Insurances, &d)))
}

pub async fn update_insurance(
    State(app): State<AppState>,
    t: TenantCtx,
    ApiPath((pid, id)): ChildPath,
    ApiJson(i): ApiJson<InsuranceIn>,
) -> Result<Json<Value>, ApiError> {
    i.validate()?;
    let old = load(&app, &t.tenant_id, Collection::Insurances, &id, Some(&pid)).await?;
    let d = i.doc(id, &pid, old.created_at, now())?;
    if !app.storage.update(t.tenant_id, Collection::Insurances, d.clone()).await.map_err(store_err)? {
        return Err(ApiError::not_found("保険", "insurance"));
    }
    Ok(Json(render(Collection::Insurances, &d)))
}

pub async fn delete_insurance(State(app): State<AppState>, t: TenantCtx, ApiPath((pid, id)): ChildPath) -> Result<StatusCode, ApiError> {
    load(&app, &t.tenant_id, Collection::Insurances, &id, Some(&pid)).await?;
    if app.storage.delete(t.tenant_id, Collection::Insurances, id).await.map_err(store_err)? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("保険", "insurance"))
    }
}

// ---------------------------------------------------------------- visits

/// One patient-month: 診療年月 and the order in the `santei calc` input format (a JSON object,
/// stored as given; the calculation validates it when the month is calculated or claimed).
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VisitIn {
    /// 診療年月 YYYY-MM.
    pub month: String,
    pub order: Map<String, Value>,
}

impl VisitIn {
    fn validate(&self) -> Result<(), ApiError> {
        month_param(&self.month)?;
        if self.order.is_empty() {
            return Err(ApiError::invalid("order", "order が空です", "order is empty"));
        }
        Ok(())
    }
    fn doc(&self, id: String, patient: &str, created_at: String, updated_at: String) -> Result<Doc, ApiError> {
        Ok(Doc { id, patient_id: Some(patient.to_string()), month: Some(self.month.clone()), data: to_data(self)?, created_at, updated_at, ..Doc::default() })
    }
}

pub fn month_param(m: &str) -> Result<YearMonth, ApiError> {
    YearMonth::parse_iso(m).ok_or_else(|| ApiError::invalid("month", format!("診療年月「{m}」が不正です(YYYY-MM)"), format!("invalid month '{m}' (expected YYYY-MM)")))
}

pub async fn create_visit(
    State(app): State<AppState>,
    t: TenantCtx,
    ApiPath(pid): ApiPath<String>,
    ApiJson(v): ApiJson<VisitIn>,
) -> Result<Response, ApiError> {
    id_ok("patient_id", &pid)?;
    v.validate()?;
    let ts = now();
    let d = v.doc(new_id().map_err(store_err)?, &pid, ts.clone(), ts)?;
    app.storage.insert(t.tenant_id, Collection::Visits, d.clone()).await.map_err(store_err)?;
    Ok((StatusCode::CREATED, axum::Extension(crate::auth::CreatedId(d.id.clone())), Json(render(Collection::Visits, &d))).into_response())
}

pub async fn list_patient_visits(
    State(app): State<AppState>,
    t: TenantCtx,
    ApiPath(pid): ApiPath<String>,
    ApiQuery(q): ApiQuery<VisitListQuery>,
) -> Result<Json<Value>, ApiError> {
    load(&app, &t.tenant_id, Collection::Patients, &pid, None).await?;
    let limit = page_limit(q.limit)?;
    let month = q.month.map(|m| month_param(&m).map(|_| m)).transpose()?;
    let f = ListFilter { patient_id: Some(pid), month, after: q.after, limit };
    let docs = app.storage.list(t.tenant_id, Collection::Visits, f).await.map_err(store_err)?;
    Ok(page(Collection::Visits, docs, limit))
}

/// `GET /v1/visits?month=` — the tenant's patient-months (what a month's claims are made from).
pub async fn list_visits(State(app): State<AppState>, t: TenantCtx, ApiQuery(q): ApiQuery<VisitListQuery>) -> Result<Json<Value>, ApiError> {
    let limit = page_limit(q.limit)?;
    let month = q.month.map(|m| month_param(&m).map(|_| m)).transpose()?;
    let f = ListFilter { patient_id: None, month, after: q.after, limit };
    let docs = app.storage.list(t.tenant_id, Collection::Visits, f).await.map_err(store_err)?;
    Ok(page(Collection::Visits, docs, limit))
}

pub async fn get_visit(State(app): State<AppState>, t: TenantCtx, ApiPath((pid, id)): ChildPath) -> Result<Json<Value>, ApiError> {
    let d = load(&app, &t.tenant_id, Collection::Visits, &id, Some(&pid)).await?;
    Ok(Json(render(Collection::Visits, &d)))
}

pub async fn update_visit(
    State(app): State<AppState>,
    t: TenantCtx,
    ApiPath((pid, id)): ChildPath,
    ApiJson(v): ApiJson<VisitIn>,
) -> Result<Json<Value>, ApiError> {
    v.validate()?;
    let old = load(&app, &t.tenant_id, Collection::Visits, &id, Some(&pid)).await?;
    let d = v.doc(id, &pid, old.created_at, now())?;
    if !app.storage.update(t.tenant_id, Collection::Visits, d.clone()).await.map_err(store_err)? {
        return Err(ApiError::not_found("受診", "visit"));
    }
    Ok(Json(render(Collection::Visits, &d)))
}

pub async fn delete_visit(State(app): State<AppState>, t: TenantCtx, crate::auth::Peer(peer): crate::auth::Peer, ApiPath((pid, id)): ChildPath) -> Result<StatusCode, ApiError> {
    let v = load(&app, &t.tenant_id, Collection::Visits, &id, Some(&pid)).await?;
    // A patient-month (the claim's data) is completed at the end of its month.
    let completed = v.month.as_deref().and_then(YearMonth::parse_iso).map(YearMonth::last_day);
    retention_ok(&app, &t, &peer, "visit", &id, completed).await?;
    if app.storage.delete(t.tenant_id, Collection::Visits, id).await.map_err(store_err)? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("受診", "visit"))
    }
}
