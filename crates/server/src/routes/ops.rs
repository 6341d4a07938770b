//! Operational endpoints: liveness, metrics, the OpenAPI document.
use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `degraded`.
    pub status: &'static str,
    /// `ok`, or the reason the store did not answer.
    pub store: String,
    pub backend: &'static str,
    pub version: &'static str,
}

/// Liveness and store reachability.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let store = state.market.store();
    let backend = match store.backend() {
        voltex_store::Backend::Sqlite => "sqlite",
        voltex_store::Backend::Postgres => "postgres",
    };
    let ping = tokio::time::timeout(std::time::Duration::from_secs(2), store.ping()).await;
    let (status, code, store_state) = match ping {
        Ok(Ok(())) => ("ok", StatusCode::OK, "ok".to_owned()),
        Ok(Err(e)) => ("degraded", StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        Err(_) => (
            "degraded",
            StatusCode::SERVICE_UNAVAILABLE,
            "timed out".to_owned(),
        ),
    };
    (
        code,
        Json(Health {
            status,
            store: store_state,
            backend,
            version: env!("CARGO_PKG_VERSION"),
        }),
    )
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::metrics::handle().render(),
    )
}

/// This API's OpenAPI 3.1 document, generated from the code.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI document")))]
pub async fn openapi() -> impl IntoResponse {
    Json(super::document())
}
