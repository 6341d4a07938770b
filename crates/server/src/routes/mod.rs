//! The route table: one declaration per endpoint. Each line names the
//! handler, whose `#[utoipa::path]` annotation carries the method, the path
//! and the OpenAPI operation, and the [`Access`] rule of who may call it;
//! the router, the OpenAPI document and the access table are all built
//! from these lines ([`Api::route`]), so no path is written twice.
//!
//! Handlers live beside their resource; this file only wires them. It
//! holds no access logic (that is [`crate::auth`]) and no documentation
//! shapes (that is [`crate::openapi`]).
pub(crate) mod accounts;
pub(crate) mod assist;
pub(crate) mod evaluation;
pub(crate) mod files;
pub(crate) mod operations;
pub(crate) mod ops;
pub(crate) mod registry;
pub(crate) mod retail;
pub(crate) mod sessions;
pub(crate) mod signed;

use crate::AppState;
use crate::auth::{Access, AccessTable};
use crate::limits::LongRoutes;
use axum::Router;
use axum::http::Method;
use std::sync::OnceLock;
use utoipa::openapi::{OpenApi, PathItem, path::Operation};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;
use voltex_security::roles::Permission as P;

/// Operator or auditor: every member's private data; a member's staff: their own.
pub(crate) const OWN_OR_ALL: &[P] = &[P::ReadOwnPrivateData, P::ReadAllPrivateData];
/// The operator for any member, a member administrator for its own.
const REGISTRATION: &[P] = &[P::ManageMembers, P::ManageOwnRegistration];
const OPERATE: &[P] = &[P::OperateMarket];
const ALL_PRIVATE: &[P] = &[P::ReadAllPrivateData];
const DECLARE: &[P] = &[P::SubmitDeclaration];
const USERS: &[P] = &[P::ManageMembers, P::ManageOwnUsers];
/// A member's own notification box, or the operator's.
const NOTICES: &[P] = &[P::ReadOwnPrivateData, P::OperateMarket];
const AUDIT: &[P] = &[P::ReadAuditLog];
/// A unit's outage: the operator, or a member's trader for its own unit.
const OUTAGES: &[P] = &[P::OperateMarket, P::SubmitDeclaration];
/// A retailer's staff its book; a retail customer its own account
/// (`voltex_retail::Viewer` narrows to the account).
const RETAIL_ACCOUNT: &[P] = &[P::ReadRetailBook, P::ReadOwnRetailAccount];
const RETAIL_BOOK: &[P] = &[P::ReadRetailBook];
const RETAIL_BILLING: &[P] = &[P::ManageRetailBilling];

/// Every endpoint of the API, with who may call it.
pub(crate) fn api() -> Api {
    use Access::{AnyOf, Public, SignedBody, SignedIn};
    Api::new()
        .route(routes!(ops::health), Public)
        .route(routes!(ops::metrics), Public)
        .route(routes!(ops::openapi), Public)
        .route(routes!(accounts::login), Public)
        .route(routes!(accounts::logout), SignedIn)
        .route(routes!(accounts::me), SignedIn)
        .route(routes!(accounts::create_user), AnyOf(USERS))
        .route(routes!(accounts::list_users), AnyOf(USERS))
        .route(routes!(accounts::disable_user), AnyOf(USERS))
        .route(routes!(accounts::audit_rows), AnyOf(AUDIT))
        .route(routes!(accounts::audit_verify), AnyOf(AUDIT))
        // An application to join the market: pending until the operator approves.
        .route(routes!(registry::register_member), Public)
        .route(routes!(registry::list_members), AnyOf(OWN_OR_ALL))
        .route(routes!(registry::get_member), AnyOf(OWN_OR_ALL))
        .route(routes!(registry::alter_member), AnyOf(REGISTRATION))
        .route(routes!(registry::member_history), AnyOf(OWN_OR_ALL))
        .route(routes!(registry::set_member_status), AnyOf(REGISTRATION))
        .route(routes!(registry::export_member), AnyOf(OWN_OR_ALL))
        .route(routes!(registry::register_unit), AnyOf(REGISTRATION))
        .route(routes!(registry::list_units), AnyOf(OWN_OR_ALL))
        .route(routes!(registry::unit_history), AnyOf(OWN_OR_ALL))
        .route(routes!(registry::alter_unit), AnyOf(REGISTRATION))
        .route(
            routes!(registry::register_load_resource),
            AnyOf(REGISTRATION),
        )
        .route(routes!(registry::list_load_resources), AnyOf(OWN_OR_ALL))
        .long_route(routes!(registry::import_network), AnyOf(OPERATE))
        .route(routes!(registry::list_networks), Public)
        .long_route(routes!(registry::import_matpower), AnyOf(OPERATE))
        .route(routes!(registry::get_network), Public)
        .route(routes!(registry::list_parameters), Public)
        .route(routes!(registry::get_parameters), Public)
        .route(routes!(registry::set_parameters), AnyOf(OPERATE))
        .route(routes!(sessions::create_session), AnyOf(OPERATE))
        .route(routes!(sessions::list_sessions), Public)
        .route(routes!(sessions::get_session), Public)
        .route(routes!(sessions::open_session), AnyOf(OPERATE))
        .route(routes!(sessions::close_session), AnyOf(OPERATE))
        .route(routes!(sessions::submit_declaration), AnyOf(DECLARE))
        .route(routes!(sessions::list_declarations), AnyOf(OWN_OR_ALL))
        .route(
            routes!(signed::submit_signed_declaration),
            SignedBody(P::SubmitDeclaration),
        )
        .route(routes!(sessions::declaration_history), AnyOf(OWN_OR_ALL))
        .route(routes!(signed::declaration_receipt), AnyOf(OWN_OR_ALL))
        .long_route(routes!(files::import_declarations), AnyOf(DECLARE))
        .route(routes!(files::export_declarations), AnyOf(OWN_OR_ALL))
        .route(routes!(operations::grid_information), Public)
        .route(routes!(operations::gate_closure), AnyOf(ALL_PRIVATE))
        .long_route(routes!(operations::clear_session), AnyOf(OPERATE))
        .route(routes!(operations::clearing_run), AnyOf(ALL_PRIVATE))
        .route(routes!(operations::regulation_run), AnyOf(ALL_PRIVATE))
        .route(routes!(operations::publish_session), AnyOf(OPERATE))
        .route(routes!(operations::publications), Public)
        .route(routes!(operations::publication_history), Public)
        .route(routes!(operations::correct_publication), AnyOf(OPERATE))
        .route(routes!(operations::pending_reviews), AnyOf(ALL_PRIVATE))
        .route(routes!(operations::decide_review), AnyOf(OPERATE))
        .route(routes!(operations::copy_declaration), AnyOf(OWN_OR_ALL))
        .route(routes!(operations::set_metered_load), AnyOf(OPERATE))
        .long_route(routes!(operations::settle_day), AnyOf(OPERATE))
        .route(routes!(operations::statements), AnyOf(OWN_OR_ALL))
        .route(routes!(operations::statement), AnyOf(OWN_OR_ALL))
        .route(routes!(operations::notifications), AnyOf(NOTICES))
        .route(routes!(operations::notification_stream), AnyOf(NOTICES))
        .route(routes!(operations::mark_read), AnyOf(NOTICES))
        .long_route(routes!(evaluation::evaluate_day), AnyOf(OPERATE))
        .route(routes!(evaluation::alerts), AnyOf(ALL_PRIVATE))
        .route(routes!(evaluation::portrait), AnyOf(OWN_OR_ALL))
        .route(routes!(evaluation::day_statistics), SignedIn)
        .route(routes!(evaluation::month_statistics), SignedIn)
        .route(routes!(evaluation::set_reference_level), AnyOf(OPERATE))
        .route(routes!(evaluation::notice_outage), AnyOf(OUTAGES))
        .route(routes!(retail::customers), AnyOf(RETAIL_ACCOUNT))
        .route(routes!(retail::customer), AnyOf(RETAIL_ACCOUNT))
        .route(routes!(retail::customer_history), AnyOf(RETAIL_ACCOUNT))
        .route(routes!(retail::contracts), AnyOf(RETAIL_ACCOUNT))
        .route(routes!(retail::invoice), AnyOf(RETAIL_ACCOUNT))
        .route(routes!(retail::invoice_versions), AnyOf(RETAIL_ACCOUNT))
        .route(routes!(retail::month_invoices), AnyOf(RETAIL_ACCOUNT))
        .route(routes!(retail::deviation_warnings), AnyOf(RETAIL_BOOK))
        .route(routes!(retail::packages), AnyOf(RETAIL_BOOK))
        .long_route(routes!(retail::day_ahead_forecast), AnyOf(RETAIL_BOOK))
        .long_route(routes!(retail::energy_report), AnyOf(RETAIL_ACCOUNT))
        .long_route(routes!(retail::import_meter_data), AnyOf(RETAIL_BILLING))
        // Customer service: anyone signed in asks; operators (auditors read) run the loop.
        .route(routes!(assist::ask), SignedIn)
        .route(routes!(assist::down_vote), SignedIn)
        .route(routes!(assist::queue), AnyOf(ALL_PRIVATE))
        .route(routes!(assist::statistics), AnyOf(ALL_PRIVATE))
        .route(routes!(assist::answer_queued), AnyOf(OPERATE))
        .route(routes!(assist::approve), AnyOf(OPERATE))
}

/// The API's OpenAPI document, built once from [`api`].
pub(crate) fn document() -> &'static OpenApi {
    static DOC: OnceLock<OpenApi> = OnceLock::new();
    DOC.get_or_init(|| api().into_parts().1)
}

/// The API under construction: the router with its OpenAPI document, the
/// access rule of every endpoint, and the endpoints that get the long time
/// limit.
pub(crate) struct Api {
    router: OpenApiRouter<AppState>,
    access: AccessTable,
    long: LongRoutes,
}

/// The parts of the finished API.
pub(crate) type ApiParts = (Router<AppState>, OpenApi, AccessTable, LongRoutes);

impl Api {
    fn new() -> Self {
        Self {
            router: OpenApiRouter::with_openapi(crate::openapi::base_document()),
            access: AccessTable::default(),
            long: LongRoutes::default(),
        }
    }

    /// Adds one endpoint: the handler of `route` (one `routes!` handler)
    /// admitting callers by `access`.
    fn route(self, route: UtoipaMethodRouter<AppState>, access: Access) -> Self {
        self.add(route, access, false)
    }

    /// Adds one endpoint that may legitimately run for minutes (clearing,
    /// settlement, large imports): it gets the long time limit.
    fn long_route(self, route: UtoipaMethodRouter<AppState>, access: Access) -> Self {
        self.add(route, access, true)
    }

    fn add(
        mut self,
        (schemas, mut paths, handler): UtoipaMethodRouter<AppState>,
        access: Access,
        long: bool,
    ) -> Self {
        assert_eq!(paths.paths.len(), 1, "one route per declaration");
        for (path, item) in paths.paths.iter_mut() {
            let operations = operations_mut(item);
            assert_eq!(operations.len(), 1, "{path}: one method per declaration");
            for (method, op) in operations {
                crate::openapi::describe_access(op, access);
                assert!(
                    self.access.insert(method.clone(), path, access).is_none(),
                    "{method} {path} is declared twice"
                );
                if long {
                    self.long.insert(method, path);
                }
            }
        }
        self.router = self.router.routes((schemas, paths, handler));
        self
    }

    /// The router (still without state and middleware), the document and
    /// the tables the middleware consult.
    pub(crate) fn into_parts(self) -> ApiParts {
        let (router, doc) = self.router.split_for_parts();
        (router, doc, self.access, self.long)
    }
}

/// The operations a path item holds, with their methods.
fn operations_mut(item: &mut PathItem) -> Vec<(Method, &mut Operation)> {
    [
        (Method::GET, &mut item.get),
        (Method::PUT, &mut item.put),
        (Method::POST, &mut item.post),
        (Method::DELETE, &mut item.delete),
        (Method::OPTIONS, &mut item.options),
        (Method::HEAD, &mut item.head),
        (Method::PATCH, &mut item.patch),
        (Method::TRACE, &mut item.trace),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.as_mut().map(|op| (m, op)))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn documented(doc: &OpenApi) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        for (path, item) in &doc.paths.paths {
            let mut item = item.clone();
            for (method, _) in operations_mut(&mut item) {
                out.insert((method.to_string(), path.clone()));
            }
        }
        out
    }

    #[test]
    fn every_documented_operation_has_an_access_rule_and_every_rule_is_documented() {
        let (_, doc, access, _) = api().into_parts();
        let ruled: BTreeSet<(String, String)> = access
            .iter()
            .map(|(m, p, _)| (m.to_string(), p.to_owned()))
            .collect();
        assert_eq!(documented(&doc), ruled);
        assert_eq!(ruled.len(), 87, "the API has 87 endpoints");
    }

    #[test]
    fn every_long_route_is_an_endpoint_of_the_api() {
        let (_, _, access, long) = api().into_parts();
        assert!(long.iter().count() >= 5);
        for (m, p) in long.iter() {
            assert!(access.get(m, p).is_some(), "{m} {p}");
        }
    }

    #[test]
    fn the_served_document_is_the_one_the_router_is_built_with() {
        let (_, doc, _, _) = api().into_parts();
        assert_eq!(
            serde_json::to_value(&doc).unwrap(),
            serde_json::to_value(document()).unwrap()
        );
    }
}
