//! The OpenAPI 3.1 document, generated from the handlers' annotations.
use crate::error::{ErrorBody, ErrorDetail};
use crate::routes;
use utoipa::{OpenApi, ToSchema};
use voltex_model::{DeclarationBody, DeclarationKind};

/// Shape of one stored version (`voltex_store::Record<T>`), for the document.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Versioned<T> {
    id: String,
    /// 1 for the first version, then +1 per change.
    version: i64,
    /// When this version was recorded (RFC 3339, UTC).
    recorded_at: String,
    value: T,
}

/// A list of stored versions.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct VersionedList<T>(Vec<Versioned<T>>);

/// Shape of one stored declaration version (`voltex_store::StoredDeclaration`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct StoredDeclarationDoc {
    /// `<session>:<kind>:<subject>`.
    key: String,
    version: i64,
    session_id: String,
    member_id: String,
    kind: DeclarationKind,
    subject: String,
    submitted_at: String,
    body: DeclarationBody,
}

/// Body of a signed declaration submission (`signing::SignedSubmission`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SignedSubmissionDoc {
    /// The signed declaration as `voltex sign-declaration` writes it:
    /// `{"envelope": {"domain", "member_id", "declaration_id", "version", "body"},
    /// "signature": base64 Ed25519, "certificate_serial": hex}`; `body` is a
    /// `DeclarationBody`, `declaration_id` its key and `version` its next version.
    #[schema(value_type = Object)]
    declaration: serde_json::Value,
    /// The member's current certificate (PEM), whose key signed.
    certificate_pem: String,
}

/// A sealed receipt (`voltex_security::Receipt`): `{"body": {...}, "seal":
/// {"signature", "certificate_pem"}}`; verify it with `voltex verify-receipt`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ReceiptDoc {
    /// domain, receipt_id, member_id, declaration_id, version,
    /// declaration_sha256, member_signature, member_certificate_serial,
    /// member_certificate_pem, sealed_at (the platform's timestamp).
    #[schema(value_type = Object)]
    body: serde_json::Value,
    #[schema(value_type = Object)]
    seal: serde_json::Value,
}

/// Answer to an accepted signed declaration.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SignedAcceptanceDoc {
    declaration: StoredDeclarationDoc,
    receipt: ReceiptDoc,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Voltex API",
        description = "Electricity spot-market platform: registry, sessions and declarations. \
        Sign in with POST /api/v1/auth/login (user, password, one-time password) and send \
        `Authorization: Bearer <token>`. Core actions (declaring, operating the market, managing \
        members) also carry a request signature made with the user's certificate key \
        (X-Voltex-Signature, X-Voltex-Certificate, X-Voltex-Timestamp, X-Voltex-Nonce); \
        docs/security.md lists the roles each endpoint admits."
    ),
    modifiers(&BearerScheme),
    paths(
        routes::ops::health,
        routes::ops::metrics,
        routes::ops::openapi,
        routes::accounts::login,
        routes::accounts::logout,
        routes::accounts::me,
        routes::accounts::create_user,
        routes::accounts::list_users,
        routes::accounts::disable_user,
        routes::accounts::audit_rows,
        routes::accounts::audit_verify,
        routes::registry::register_member,
        routes::registry::list_members,
        routes::registry::get_member,
        routes::registry::alter_member,
        routes::registry::member_history,
        routes::registry::set_member_status,
        routes::registry::export_member,
        routes::registry::register_unit,
        routes::registry::list_units,
        routes::registry::unit_history,
        routes::registry::alter_unit,
        routes::registry::register_load_resource,
        routes::registry::list_load_resources,
        routes::registry::import_network,
        routes::registry::import_matpower,
        routes::registry::list_networks,
        routes::registry::get_network,
        routes::registry::list_parameters,
        routes::registry::get_parameters,
        routes::registry::set_parameters,
        routes::sessions::create_session,
        routes::sessions::list_sessions,
        routes::sessions::get_session,
        routes::sessions::open_session,
        routes::sessions::close_session,
        routes::sessions::submit_declaration,
        routes::sessions::list_declarations,
        routes::sessions::declaration_history,
        routes::signed::submit_signed_declaration,
        routes::signed::declaration_receipt,
        routes::files::import_declarations,
        routes::files::export_declarations,
        routes::operations::grid_information,
        routes::operations::gate_closure,
        routes::operations::pending_reviews,
        routes::operations::decide_review,
        routes::operations::copy_declaration,
        routes::operations::clear_session,
        routes::operations::clearing_run,
        routes::operations::regulation_run,
        routes::operations::publish_session,
        routes::operations::publications,
        routes::operations::publication_history,
        routes::operations::correct_publication,
        routes::operations::set_metered_load,
        routes::operations::settle_day,
        routes::operations::statements,
        routes::operations::statement,
        routes::operations::notifications,
        routes::operations::mark_read,
        routes::operations::notification_stream,
    ),
    components(schemas(ErrorBody, ErrorDetail))
)]
pub struct ApiDoc;

/// Declares the bearer-token scheme that signed-in endpoints use.
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("session token from POST /api/v1/auth/login"))
                    .build(),
            ),
        );
    }
}
