//! The API's one error shape:
//! `{"error": {"code": ..., "message": ..., "details": [{"field", "rule", "value", "message"}]}}`.
//! Every refusal, from a malformed body to a broken market rule, answers in it.
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use voltex_market::MarketError;
use voltex_model::Violation;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `validation_failed`, `not_found`.
    pub code: String,
    pub message: String,
    /// One entry per broken rule (empty when the error is not about fields).
    pub details: Vec<Violation>,
}

/// An error on its way to becoming an HTTP response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<Violation>,
}

impl ApiError {
    /// A failure of the server itself (500 `internal`); the message is logged
    /// by the caller's tracing, and names no secret.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                details: self.details,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

/// A storage failure reads as the market reports it (a stale write is a
/// conflict, anything else a server error).
impl From<voltex_store::StoreError> for ApiError {
    fn from(e: voltex_store::StoreError) -> Self {
        MarketError::from(e).into()
    }
}

impl From<MarketError> for ApiError {
    fn from(e: MarketError) -> Self {
        let message = e.to_string();
        match e {
            MarketError::Invalid(v) => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "validation_failed",
                message,
                details: v.0,
            },
            MarketError::NotFound { .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
            }
            MarketError::AlreadyExists { .. } => {
                ApiError::new(StatusCode::CONFLICT, "already_exists", message)
            }
            MarketError::Forbidden(_) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", message),
            MarketError::UnknownActor(_) => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unknown_member", message)
            }
            MarketError::Transition(_) => {
                ApiError::new(StatusCode::CONFLICT, "illegal_transition", message)
            }
            MarketError::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            MarketError::Clearing(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "clearing_failed", message)
            }
            MarketError::Store(_) => {
                tracing::error!(error = %message, "storage failure");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    message,
                )
            }
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let (status, code) = match &r {
            JsonRejection::JsonSyntaxError(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            JsonRejection::JsonDataError(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
            JsonRejection::MissingJsonContentType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            _ if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large")
            }
            _ => (r.status(), "bad_request"),
        };
        ApiError::new(status, code, r.body_text())
    }
}
