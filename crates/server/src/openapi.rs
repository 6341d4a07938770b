//! The OpenAPI 3.1 document's frame and shapes: its description, security
//! schemes and shared schemas ([`base_document`]), the documentation twins
//! of types that live in crates without OpenAPI types, and how an endpoint's
//! [`Access`] rule reads in the document ([`describe_access`]). The
//! operations come from the handlers' annotations through the route table
//! (`routes::api`); this module names no route.
use crate::auth::{Access, CERTIFICATE_HEADER, NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::error::{ErrorBody, ErrorDetail};
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{OpenApi, ToSchema};
use voltex_market::files::FileFormat;
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

/// Which declaration version was stored (`signing::StoredVersion`): a
/// stored declaration without its body.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct StoredVersionDoc {
    /// `<session>:<kind>:<subject>`.
    key: String,
    version: i64,
    session_id: String,
    member_id: String,
    kind: DeclarationKind,
    subject: String,
    submitted_at: String,
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

/// Answer to an accepted signed declaration: the version stored (not the
/// body, which the member signed and the receipt's hash identifies) and the
/// receipt.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SignedAcceptanceDoc {
    declaration: StoredVersionDoc,
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
        (X-Voltex-Signature, X-Voltex-Certificate, X-Voltex-Timestamp, X-Voltex-Nonce) or come \
        over TLS with the certificate. Each operation's `security` lists the alternatives it \
        admits; the scopes of `bearer` are the permissions (any one of them) the user's role \
        must hold. Every refusal answers in the one error shape `ErrorBody`."
    ),
    modifiers(&SecuritySchemes),
    components(schemas(ErrorBody, ErrorDetail, FileFormat, DeclarationKind))
)]
struct BaseDoc;

/// The document without operations: description, security schemes and the
/// shared schemas; the route table adds the operations.
pub(crate) fn base_document() -> utoipa::openapi::OpenApi {
    BaseDoc::openapi()
}

/// Security scheme of the session token.
pub const BEARER: &str = "bearer";
/// Security scheme of a client certificate presented over TLS.
pub const MUTUAL_TLS: &str = "mutual_tls";
/// Security schemes of a signed request: all four headers together.
pub const SIGNED_REQUEST: [(&str, &str, &str); 4] = [
    (
        "voltex_signature",
        SIGNATURE_HEADER,
        "base64 Ed25519 signature, with the user's certificate key, over the canonical \
         request (member, method, path and query, SHA-256 of the body, timestamp, nonce); \
         `voltex sign-request` makes it",
    ),
    (
        "voltex_certificate",
        CERTIFICATE_HEADER,
        "base64 of the signer's certificate (PEM text), issued by the platform CA",
    ),
    (
        "voltex_timestamp",
        TIMESTAMP_HEADER,
        "Unix seconds the request was signed at (within the allowed clock skew)",
    ),
    (
        "voltex_nonce",
        NONCE_HEADER,
        "a fresh random string of 16 to 128 characters; a signed request is accepted once",
    ),
];

/// Declares the session token, the signed-request headers and mutual TLS.
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "session token from POST /api/v1/auth/login; the scopes an operation \
                         lists are permissions, any one of which the user's role must hold",
                    ))
                    .build(),
            ),
        );
        for (name, header, description) in SIGNED_REQUEST {
            components.add_security_scheme(
                name,
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                    header_name(header),
                    description.to_owned(),
                ))),
            );
        }
        components.add_security_scheme(
            MUTUAL_TLS,
            SecurityScheme::MutualTls {
                description: Some(
                    "the user's certificate from the platform CA, presented as the TLS client \
                     certificate (`voltex serve` with --tls-cert, --tls-key and --ca-dir): proof of possession instead \
                     of a signed request"
                        .into(),
                ),
                deprecated: None,
                extensions: None,
            },
        );
    }
}

/// `x-voltex-signature` as `X-Voltex-Signature`.
fn header_name(lower: &str) -> String {
    lower
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Writes an endpoint's access rule into its operation: the security
/// requirements it admits (alternatives; a core permission needs the
/// signed-request headers or mutual TLS besides the session) and the 401
/// and 403 answers the authentication layer gives, in the error shape.
pub(crate) fn describe_access(op: &mut Operation, access: Access) {
    let bearer = |scopes: &[&str]| SecurityRequirement::new(BEARER, scopes.iter().copied());
    let (security, forbidden) = match access {
        // Anonymous callers, or signed-in ones (who may see more).
        Access::Public => (vec![SecurityRequirement::default(), bearer(&[])], false),
        Access::SignedIn => (vec![bearer(&[])], false),
        Access::AnyOf(permissions) => {
            let mut alternatives = Vec::new();
            for p in permissions {
                let scope = [p.as_str()];
                if p.is_core() {
                    let signed = SIGNED_REQUEST
                        .iter()
                        .fold(bearer(&scope), |r, (name, _, _)| r.add(*name, [""; 0]));
                    alternatives.push(signed);
                    alternatives.push(bearer(&scope).add(MUTUAL_TLS, [""; 0]));
                } else {
                    alternatives.push(bearer(&scope));
                }
            }
            (alternatives, true)
        }
        Access::SignedBody(p) => {
            let note = "The body is signed with the member's certificate key \
                        (`voltex sign-declaration`): it is its own proof of possession, so no \
                        signed-request headers are needed.";
            op.description = Some(match op.description.take() {
                Some(d) if !d.is_empty() => format!("{d}\n\n{note}"),
                _ => note.to_owned(),
            });
            (vec![bearer(&[p.as_str()])], true)
        }
    };
    op.security = Some(security);
    let unauthenticated = if access == Access::Public {
        "a bearer token was sent but is not a live session (`session_invalid`)"
    } else {
        "not signed in (`unauthenticated`), or the bearer token is not a live session \
         (`session_invalid`)"
    };
    answer_unless_described(op, "401", unauthenticated);
    if forbidden {
        let why = "refused: the role holds none of the permissions needed (`role_forbidden`); \
                   a core action without its certificate proof (`certificate_required`, \
                   `request_signature_invalid`, `signer_mismatch`); or a market rule forbids it \
                   (`forbidden`)";
        answer_unless_described(op, "403", why);
    }
    describe_bare_answers(op);
}

/// OpenAPI requires a description on every answer; one the annotation left
/// without gets its status's reason phrase ("OK", "Created", ...).
fn describe_bare_answers(op: &mut Operation) {
    use utoipa::openapi::RefOr;
    for (status, answer) in op.responses.responses.iter_mut() {
        if let RefOr::T(r) = answer
            && r.description.is_empty()
        {
            r.description = status
                .parse::<u16>()
                .ok()
                .and_then(|code| axum::http::StatusCode::from_u16(code).ok())
                .and_then(|code| code.canonical_reason())
                .unwrap_or("Answer")
                .to_owned();
        }
    }
}

/// Adds the answer `status` in the error shape, unless the handler's
/// annotation already describes it (as sign-in does its 401).
fn answer_unless_described(op: &mut Operation, status: &str, description: &str) {
    use utoipa::openapi::RefOr;
    let described = matches!(
        op.responses.responses.get(status),
        Some(RefOr::T(r)) if !r.description.is_empty()
    );
    if !described {
        op.responses
            .responses
            .insert(status.into(), error_response(description).into());
    }
}

/// A response in the error shape.
fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}
