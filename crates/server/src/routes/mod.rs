//! Route table. Handlers live beside their resource; this file only wires
//! paths. Who may call each one is in [`crate::auth::ACCESS`].
pub(crate) mod accounts;
pub(crate) mod files;
pub(crate) mod operations;
pub(crate) mod ops;
pub(crate) mod registry;
pub(crate) mod sessions;
pub(crate) mod signed;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post, put};

pub fn api() -> Router<AppState> {
    Router::new()
        .route("/health", get(ops::health))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .route("/api/v1/auth/login", post(accounts::login))
        .route("/api/v1/auth/logout", post(accounts::logout))
        .route("/api/v1/auth/me", get(accounts::me))
        .route(
            "/api/v1/users",
            post(accounts::create_user).get(accounts::list_users),
        )
        .route("/api/v1/users/{id}/disable", post(accounts::disable_user))
        .route("/api/v1/audit", get(accounts::audit_rows))
        .route("/api/v1/audit/verify", get(accounts::audit_verify))
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
            "/api/v1/sessions/{id}/declarations/signed",
            post(signed::submit_signed_declaration),
        )
        .route(
            "/api/v1/declarations/{key}",
            get(sessions::declaration_history),
        )
        .route(
            "/api/v1/declarations/{key}/versions/{version}/receipt",
            get(signed::declaration_receipt),
        )
        .route(
            "/api/v1/sessions/{id}/declarations/import",
            post(files::import_declarations),
        )
        .route(
            "/api/v1/sessions/{id}/declarations/export",
            get(files::export_declarations),
        )
        .route(
            "/api/v1/sessions/{id}/grid-information",
            get(operations::grid_information),
        )
        .route("/api/v1/sessions/{id}/gate", get(operations::gate_closure))
        .route(
            "/api/v1/sessions/{id}/clear",
            post(operations::clear_session),
        )
        .route(
            "/api/v1/sessions/{id}/clearing-run",
            get(operations::clearing_run),
        )
        .route(
            "/api/v1/sessions/{id}/regulation-run",
            get(operations::regulation_run),
        )
        .route(
            "/api/v1/sessions/{id}/publish",
            post(operations::publish_session),
        )
        .route(
            "/api/v1/sessions/{id}/publications",
            get(operations::publications),
        )
        .route(
            "/api/v1/publications/{id}",
            get(operations::publication_history),
        )
        .route(
            "/api/v1/publications/{id}/corrections",
            post(operations::correct_publication),
        )
        .route("/api/v1/reviews", get(operations::pending_reviews))
        .route(
            "/api/v1/declarations/{key}/versions/{version}/review",
            post(operations::decide_review),
        )
        .route(
            "/api/v1/declarations/{key}/versions/{version}/copy",
            get(operations::copy_declaration),
        )
        .route("/api/v1/metered-load", put(operations::set_metered_load))
        .route("/api/v1/days/{day}/settle", post(operations::settle_day))
        .route("/api/v1/days/{day}/statements", get(operations::statements))
        .route(
            "/api/v1/days/{day}/statements/{member}",
            get(operations::statement),
        )
        .route("/api/v1/notifications", get(operations::notifications))
        .route(
            "/api/v1/notifications/stream",
            get(operations::notification_stream),
        )
        .route(
            "/api/v1/notifications/{id}/read",
            post(operations::mark_read),
        )
}
