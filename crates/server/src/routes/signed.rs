//! Signed declarations and their receipts.
//!
//! The checks are in [`crate::signing`]; this file parses, orders the steps
//! (verify, seal, then store through the market the declaration as the
//! signed version together with its signature record, in one transaction)
//! and answers. Every refusal happens before anything is written.
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiBytes, Identity};
use crate::openapi::{ReceiptDoc, SignedAcceptanceDoc, SignedSubmissionDoc};
use crate::signing::{AcceptanceAnswer, SignedAcceptance, SignedSubmission, security_refusal};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use voltex_market::Actor;
use voltex_security::Receipt;
use voltex_security::canonical::parse_strict;

type ApiResult<T> = Result<T, ApiError>;

/// Submit a declaration signed with the member's certificate key. The server
/// checks the certificate (platform CA, validity, revocation, member = the
/// acting member), the envelope (member, certificate serial, declaration id =
/// this declaration's key, version = its next version) and the signature,
/// then stores the declaration as the signed version with its signature and
/// answers with a receipt sealed by the platform (offline-verifiable with
/// `voltex verify-receipt`). 503 when the server has no signing configuration.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/declarations/signed", tag = "declarations",
    request_body = SignedSubmissionDoc,
    params(("id" = String, Path)),
    responses((status = 201, body = SignedAcceptanceDoc), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn submit_signed_declaration(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(id): Path<String>,
    ApiBytes(body): ApiBytes,
) -> ApiResult<(StatusCode, Json<AcceptanceAnswer>)> {
    let result = submit(&s, &a, &id, &body).await;
    crate::metrics::declaration_outcome(result.is_ok());
    Ok((StatusCode::CREATED, Json(result?.into())))
}

async fn submit(
    s: &AppState,
    a: &Actor,
    session_id: &str,
    body: &[u8],
) -> ApiResult<SignedAcceptance> {
    let signing = s.signing.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "signing_not_configured",
            "this server accepts no signed declarations: start `voltex serve` with --ca-dir \
             (or VOLTEX_CA_DIR) naming the platform CA directory",
        )
    })?;
    let text = std::str::from_utf8(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not UTF-8: {e}"),
        )
    })?;
    // Strict parsing: a signed document with a duplicate key is ambiguous.
    let mut value = parse_strict(text).map_err(security_refusal)?;
    // The declaration's body (12 KB for a day's offer) is moved out of the
    // tree and put back after the rest is read: reading a `Value` field
    // from a `Value` would rebuild it node by node.
    let body = value
        .pointer_mut("/declaration/envelope/body")
        .map(serde_json::Value::take);
    let mut submission: SignedSubmission = serde_json::from_value(value).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("the body is not a signed submission {{declaration, certificate_pem}}: {e}"),
        )
    })?;
    if let Some(body) = body {
        submission.declaration.envelope.body = body;
    }
    crate::signing::accept_signed(&s.market, signing, a, session_id, submission).await
}

/// The receipt sealed for one signed declaration version (its member or the
/// operator; anyone else is told it does not exist).
#[utoipa::path(get, path = "/api/v1/declarations/{key}/versions/{version}/receipt", tag = "declarations",
    params(("key" = String, Path, description = "<session>:<kind>:<subject>"), ("version" = i64, Path)),
    responses((status = 200, body = ReceiptDoc), (status = 404, body = ErrorBody)))]
pub async fn declaration_receipt(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path((key, version)): Path<(String, i64)>,
) -> ApiResult<Json<Receipt>> {
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no receipt for declaration {key} version {version}"),
        )
    };
    let receipt = crate::signing::receipt_of(&s.market, &a, &key, version)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(receipt))
}
