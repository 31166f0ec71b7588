//! The one error shape of the API: `{"error": {"code", "message_ja", "message_en", "details"}}`.
//!
//! Every rejection — authentication, malformed JSON, wrong types, oversize bodies, unknown codes,
//! storage failures — becomes an [`ApiError`], so clients only ever parse one body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable, machine-readable (`snake_case`).
    pub code: &'static str,
    pub message_ja: String,
    pub message_en: String,
    pub details: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, ja: impl Into<String>, en: impl Into<String>) -> Self {
        ApiError { status, code, message_ja: ja.into(), message_en: en.into(), details: Value::Null }
    }
    pub fn details(mut self, d: Value) -> Self {
        self.details = d;
        self
    }
    pub fn unauthorized() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "認証情報がないか無効です(Authorization: Bearer <token>)",
            "missing or invalid credentials (Authorization: Bearer <token>)",
        )
    }
    pub fn forbidden() -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", "この操作の権限がありません", "not allowed for these credentials")
    }
    pub fn not_found(what_ja: &str, what_en: &str) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("{what_ja}が見つかりません"), format!("{what_en} not found"))
    }
    pub fn route_not_found() -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "route_not_found", "そのURLはありません", "no such route")
    }
    pub fn method_not_allowed() -> Self {
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "このURLではそのメソッドは使えません", "method not allowed on this route")
    }
    pub fn bad_request(code: &'static str, ja: impl Into<String>, en: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, ja, en)
    }
    /// A field that parsed but has a wrong value (422).
    pub fn invalid(field: &str, ja: impl Into<String>, en: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", ja, en).details(json!({ "field": field }))
    }
    pub fn conflict(ja: impl Into<String>, en: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, "conflict", ja, en)
    }
    pub fn unavailable(code: &'static str, ja: impl Into<String>, en: impl Into<String>) -> Self {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, ja, en)
    }
    pub fn not_implemented(what: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "not_implemented",
            format!("{what}はまだ接続されていません"),
            format!("{what}: not yet wired"),
        )
    }
    /// Internal failure. The message given to the client is generic; the cause is logged by the
    /// caller (without patient data).
    pub fn internal() -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "内部エラーが発生しました", "internal error")
    }
    pub fn body(&self) -> Value {
        json!({ "error": { "code": self.code, "message_ja": self.message_ja, "message_en": self.message_en, "details": self.details } })
    }
}

impl From<santei_core::InputError> for ApiError {
    fn from(e: santei_core::InputError) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", e.message_ja.clone(), e.message_en.clone())
            .details(json!({ "input_code": e.code, "field": e.field, "line": e.line }))
    }
}

/// Marker put in response extensions so the access log / metrics can count by error code.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode(pub &'static str);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(self.body())).into_response();
        r.extensions_mut().insert(ErrorCode(self.code));
        r
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message_en)
    }
}
