//! The API's one error shape:
//! `{"error": {"code": ..., "message": ..., "details": [{"field", "rule", "value", "message"}]}}`.
//! Every refusal, from a malformed body to a broken market rule, answers in it:
//! handlers and extractors build an [`ApiError`], and [`json_refusals`]
//! rewrites what axum itself answers in plain text or empty (an unknown
//! method, a path or query that does not parse) into the same shape.
use axum::Json;
use axum::extract::Request;
use axum::extract::rejection::{BytesRejection, JsonRejection, StringRejection};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
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

/// The retail service's refusals answer like the market's.
impl From<voltex_retail::RetailError> for ApiError {
    fn from(e: voltex_retail::RetailError) -> Self {
        use voltex_retail::RetailError as R;
        let message = e.to_string();
        match e {
            R::Invalid(v) => MarketError::Invalid(v).into(),
            R::NotFound { what, id } => MarketError::NotFound { what, id }.into(),
            R::AlreadyExists { what, id } => MarketError::AlreadyExists { what, id }.into(),
            R::Forbidden(m) => MarketError::Forbidden(m).into(),
            R::Transition(t) => MarketError::Transition(t).into(),
            R::Conflict(m) => MarketError::Conflict(m).into(),
            R::Store(s) => MarketError::Store(s).into(),
            R::Data { .. } => ApiError::internal(message),
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

/// A body that could not be read whole: over the size limit (413
/// `body_too_large`) or broken off.
impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        refused_body(r.status(), r.body_text())
    }
}

/// A text body that could not be read whole, or is not UTF-8 (400
/// `malformed_text`).
impl From<StringRejection> for ApiError {
    fn from(r: StringRejection) -> Self {
        match &r {
            StringRejection::InvalidUtf8(_) => {
                ApiError::new(StatusCode::BAD_REQUEST, "malformed_text", r.body_text())
            }
            _ => refused_body(r.status(), r.body_text()),
        }
    }
}

fn refused_body(status: StatusCode, message: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(status, "body_too_large", message)
    } else {
        ApiError::new(status, code_for(status), message)
    }
}

/// The code of a refusal known only by its status.
fn code_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        406 => "not_acceptable",
        408 => "timed_out",
        409 => "conflict",
        411 => "length_required",
        413 => "body_too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        422 => "invalid_body",
        429 => "rate_limited",
        431 => "headers_too_large",
        503 => "unavailable",
        _ if status.is_client_error() => "refused",
        _ => "internal",
    }
}

/// Most of a plain-text refusal kept as the message.
const MAX_REFUSAL_TEXT: usize = 4 * 1024;

/// Middleware: a refusal (4xx or 5xx) that is not JSON, as axum answers an
/// unknown method (405, empty) or a path, query or body it could not parse
/// (plain text), is rewritten into the API's error shape with the same
/// status, its text as the message and its other headers (`Allow`,
/// `Retry-After`) and extensions kept. JSON answers pass untouched.
pub async fn json_refusals(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_REFUSAL_TEXT)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("refused").to_owned()
    } else {
        text
    };
    let mut shaped = ApiError::new(status, code_for(status), message).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            shaped.headers_mut().append(name, value.clone());
        }
    }
    *shaped.extensions_mut() = parts.extensions;
    shaped
}

/// The answer to a handler that panicked (a defect): 500 `internal` in the
/// API's error shape instead of a dropped connection. The panic's message
/// goes to the log only; the client learns nothing of the server's state.
pub fn panic_answer(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = what, "a handler panicked; answered 500");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the server failed to answer this request; it has been logged",
    )
    .into_response()
}

/// The assistant's refusals read like the market's: bad input 422 naming the
/// field and rule, unknown 404, stale or repeated 409, storage 503.
impl From<voltex_assist::AssistError> for ApiError {
    fn from(e: voltex_assist::AssistError) -> Self {
        use voltex_assist::AssistError as A;
        let message = e.to_string();
        match e {
            A::Invalid { field, rule, id } => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "validation_failed",
                details: vec![Violation::new(field, &rule, id, message.clone())],
                message,
            },
            A::NotFound { .. } => ApiError::new(StatusCode::NOT_FOUND, "not_found", message),
            A::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            A::Store(s) => s.into(),
            A::Market(m) => m.into(),
            A::Retail(r) => r.into(),
            A::Seed(_) | A::Index(_) => ApiError::internal(message),
        }
    }
}
