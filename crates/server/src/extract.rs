//! Extractors whose rejections are [`ApiError`]s (axum's own answer in plain text).

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::json;

/// JSON body: must be `application/json`, within the body limit, well-formed, and of the
/// expected shape (unknown fields are refused by the target types).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if mime != "application/json" {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Content-Type は application/json にしてください",
                "Content-Type must be application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    format!("リクエスト本文が上限({}バイト)を超えています", crate::BODY_LIMIT),
                    format!("request body exceeds the limit of {} bytes", crate::BODY_LIMIT),
                )
                .details(json!({ "limit_bytes": crate::BODY_LIMIT }))
            } else {
                ApiError::bad_request("unreadable_body", "リクエスト本文を読めません", "cannot read the request body")
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parse JSON, telling syntax errors (400 `malformed_json`) from shape errors (422 `invalid_json_shape`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        let details = json!({ "line": e.line(), "column": e.column(), "reason": e.to_string() });
        match e.classify() {
            serde_json::error::Category::Data => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_json_shape",
                "JSONの項目または型が正しくありません",
                "JSON has a missing, unknown or wrongly typed field",
            )
            .details(details),
            _ => ApiError::bad_request("malformed_json", "JSONとして読めません", "malformed JSON").details(details),
        }
    })
}

/// Path parameters.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e| ApiError::bad_request("invalid_path", "URLのパラメータが不正です", "invalid path parameter").details(json!({ "reason": e.body_text() })))
    }
}

/// Query string parameters (unknown parameters are refused by the target types).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e| ApiError::bad_request("invalid_query", "クエリパラメータが不正です", "invalid query parameter").details(json!({ "reason": e.body_text() })))
    }
}
