//! Route table. Handlers live beside their resource; this file only wires paths.
pub(crate) mod ops;
pub(crate) mod registry;
pub(crate) mod sessions;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn api() -> Router<AppState> {
    Router::new()
        .route("/health", get(ops::health))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .route(
            "/api/v1/members",
            post(registry::register_member).get(registry::list_members),
        )
        .route(
            "/api/v1/members/{id}",
            get(registry::get_member).patch(registry::alter_member),
        )
        .route(
            "/api/v1/members/{id}/history",
            get(registry::member_history),
        )
        .route(
            "/api/v1/members/{id}/status",
            post(registry::set_member_status),
        )
        .route("/api/v1/members/{id}/export", get(registry::export_member))
        .route(
            "/api/v1/units",
            post(registry::register_unit).get(registry::list_units),
        )
        .route(
            "/api/v1/units/{id}",
            get(registry::unit_history).put(registry::alter_unit),
        )
        .route(
            "/api/v1/load-resources",
            post(registry::register_load_resource).get(registry::list_load_resources),
        )
        .route(
            "/api/v1/networks",
            post(registry::import_network).get(registry::list_networks),
        )
        .route("/api/v1/networks/matpower", post(registry::import_matpower))
        .route("/api/v1/networks/{name}", get(registry::get_network))
        .route("/api/v1/market-parameters", get(registry::list_parameters))
        .route(
            "/api/v1/market-parameters/{market}",
            get(registry::get_parameters).put(registry::set_parameters),
        )
        .route(
            "/api/v1/sessions",
            post(sessions::create_session).get(sessions::list_sessions),
        )
        .route("/api/v1/sessions/{id}", get(sessions::get_session))
        .route("/api/v1/sessions/{id}/open", post(sessions::open_session))
        .route("/api/v1/sessions/{id}/close", post(sessions::close_session))
        .route(
            "/api/v1/sessions/{id}/declarations",
            post(sessions::submit_declaration).get(sessions::list_declarations),
        )
        .route(
            "/api/v1/declarations/{key}",
            get(sessions::declaration_history),
        )
}
