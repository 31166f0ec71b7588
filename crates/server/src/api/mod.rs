//! Routes. Every route is registered through [`Routes::add`], which also records it in a list:
//! the test `openapi_lists_every_route` checks that list against `openapi.json`.

pub mod access;
pub mod engines;
pub mod master;
pub mod ops;
pub mod orca;
pub mod records;
pub mod tenants;

use crate::AppState;
use axum::handler::Handler;
use axum::routing::{on, MethodFilter};
use axum::Router;

pub struct Routes {
    pub router: Router<AppState>,
    /// (method, path template) of every route, in registration order.
    pub list: Vec<(&'static str, &'static str)>,
}

impl Routes {
    fn add<H, T>(mut self, method: &'static str, path: &'static str, h: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = match method {
            "GET" => MethodFilter::GET,
            "POST" => MethodFilter::POST,
            "PUT" => MethodFilter::PUT,
            "DELETE" => MethodFilter::DELETE,
            "PATCH" => MethodFilter::PATCH,
            _ => panic!("unsupported method in route table: {method}"),
        };
        self.router = self.router.route(path, on(filter, h));
        self.list.push((method, path));
        self
    }
}

/// The route table of API v1 (and operations routes).
pub fn routes() -> Routes {
    Routes { router: Router::new(), list: Vec::new() }
        // Operations (open, except /metrics: loopback or operator).
        .add("GET", "/healthz", ops::healthz)
        .add("GET", "/readyz", ops::readyz)
        .add("GET", "/metrics", ops::metrics)
        .add("GET", "/openapi.json", ops::openapi)
        .add("GET", "/docs", ops::docs)
        // Master.
        .add("GET", "/v1/master/search", master::search)
        .add("GET", "/v1/master/{code}", master::get)
        .add("GET", "/v1/master/{code}/history", master::history)
        // The calling tenant.
        .add("GET", "/v1/tenant", tenants::get_own)
        .add("PUT", "/v1/tenant", tenants::update_own)
        // Patient data.
        .add("POST", "/v1/patients", records::create_patient)
        .add("GET", "/v1/patients", records::list_patients)
        .add("GET", "/v1/patients/{patient_id}", records::get_patient)
        .add("PUT", "/v1/patients/{patient_id}", records::update_patient)
        .add("DELETE", "/v1/patients/{patient_id}", records::delete_patient)
        .add("POST", "/v1/patients/{patient_id}/insurances", records::create_insurance)
        .add("GET", "/v1/patients/{patient_id}/insurances", records::list_insurances)
        .add("GET", "/v1/patients/{patient_id}/insurances/{id}", records::get_insurance)
        .add("PUT", "/v1/patients/{patient_id}/insurances/{id}", records::update_insurance)
        .add("DELETE", "/v1/patients/{patient_id}/insurances/{id}", records::delete_insurance)
        .add("POST", "/v1/patients/{patient_id}/visits", records::create_visit)
        .add("GET", "/v1/patients/{patient_id}/visits", records::list_patient_visits)
        .add("GET", "/v1/patients/{patient_id}/visits/{id}", records::get_visit)
        .add("PUT", "/v1/patients/{patient_id}/visits/{id}", records::update_visit)
        .add("DELETE", "/v1/patients/{patient_id}/visits/{id}", records::delete_visit)
        .add("GET", "/v1/visits", records::list_visits)
        // Engines (points, UKE check, claims; ORCA-compatible 請求金額シミュレーション).
        .add("POST", "/v1/calculate", engines::calculate)
        .add("POST", "/v1/uke/check", engines::uke_check)
        .add("POST", "/v1/claims/{month}/uke", engines::claims_uke)
        .add("POST", "/api01rv2/acsimulatev2", orca::acsimulate)
        // Operator.
        .add("POST", "/v1/admin/tenants", tenants::admin_create)
        .add("GET", "/v1/admin/tenants", tenants::admin_list)
        .add("GET", "/v1/admin/tenants/{tenant_id}", tenants::admin_get)
        .add("POST", "/v1/admin/tenants/{tenant_id}/tokens", tenants::admin_new_token)
        .add("POST", "/v1/admin/master/reload", ops::admin_reload)
        // Login flow and tenant administration (santei-security).
        .add("POST", "/v1/auth/login", access::login)
        .add("POST", "/v1/auth/second-factor", access::second_factor)
        .add("POST", "/v1/auth/password", access::change_password)
        .add("POST", "/v1/auth/totp/enroll", access::totp_enroll)
        .add("POST", "/v1/auth/totp/confirm", access::totp_confirm)
        .add("POST", "/v1/auth/logout", access::logout)
        .add("POST", "/v1/users", access::create_user)
        .add("POST", "/v1/users/{name}/unlock", access::unlock_user)
        .add("POST", "/v1/users/{name}/disable", access::disable_user)
        .add("POST", "/v1/api-tokens", access::create_token)
        .add("GET", "/v1/api-tokens", access::list_tokens)
        .add("DELETE", "/v1/api-tokens/{id}", access::revoke_token)
        .add("GET", "/v1/audit", access::read_audit)
}

/// Parse `limit` (default 100, 1..=1000).
pub fn page_limit(limit: Option<u32>) -> Result<u32, crate::error::ApiError> {
    match limit {
        None => Ok(100),
        Some(n) if (1..=1000).contains(&n) => Ok(n),
        Some(_) => Err(crate::error::ApiError::invalid("limit", "limit は1〜1000です", "limit must be 1..=1000")),
    }
}
