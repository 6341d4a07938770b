//! The retail company system over HTTP (`voltex_retail`): a retailer's
//! staff read its book (customers, contracts, packages, bills, deviation
//! warnings) and its billing staff import meter data; a retail customer's
//! user reads only its own account and bills. The rules and the account
//! check are `voltex_retail`'s; this translates the caller into a
//! [`Viewer`] and the answers into JSON (a bill also as CSV).
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiText, SignedIn};
use axum::Json;
use axum::extract::FromRequestParts;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use voltex_model::Violations;
use voltex_retail::contract::Contract;
use voltex_retail::customer::Customer;
use voltex_retail::month::Month;
use voltex_retail::package::PricePackage;
use voltex_retail::rating::{Invoice, invoice_csv};
use voltex_retail::readings::{ImportKind, ImportReport};
use voltex_retail::{DeviationWarning, RetailError, Viewer};
use voltex_security::Role;
use voltex_store::Record;

type ApiResult<T> = Result<T, ApiError>;

/// The retail viewer a signed-in caller is.
pub(crate) fn viewer(c: &crate::auth::Caller) -> ApiResult<Viewer> {
    let p = &c.principal;
    let retailer_id = p.member_id.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "role_forbidden",
            "retail data belongs to a retailer; this user belongs to none",
        )
    })?;
    Ok(match p.role {
        Role::RetailCustomer => Viewer::Customer {
            retailer_id,
            user_id: p.user_id.clone(),
        },
        _ => Viewer::Staff { retailer_id },
    })
}

/// The signed-in caller as the retail book sees it ([`viewer`]): 401
/// without a session, 403 for a user of no retailer.
pub struct Viewed(pub Viewer);

impl FromRequestParts<AppState> for Viewed {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let SignedIn(c) = SignedIn::from_request_parts(parts, state).await?;
        viewer(&c).map(Viewed)
    }
}

fn month(s: &str) -> ApiResult<Month> {
    Month::parse(s).ok_or_else(|| {
        RetailError::Invalid(Violations::one(
            "month",
            "year_month",
            s,
            "a month is written YYYY-MM",
        ))
        .into()
    })
}

/// The customers the caller may see: a retailer's staff its whole book, a
/// retail customer its own account.
#[utoipa::path(get, path = "/api/v1/retail/customers", tag = "retail",
    responses((status = 200, description = "customer accounts, each a versioned record", body = Object),
        (status = 403, body = ErrorBody)))]
pub async fn customers(
    State(s): State<AppState>,
    Viewed(v): Viewed,
) -> ApiResult<Json<Vec<Record<Customer>>>> {
    Ok(Json(s.retail.customers(&v).await?))
}

/// One customer account.
#[utoipa::path(get, path = "/api/v1/retail/customers/{id}", tag = "retail",
    params(("id" = String, Path)),
    responses((status = 200, description = "the account", body = Object),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn customer(
    State(s): State<AppState>,
    Viewed(v): Viewed,
    Path(id): Path<String>,
) -> ApiResult<Json<Record<Customer>>> {
    Ok(Json(s.retail.customer(&v, &id).await?))
}

/// Every version of a customer account (its lifecycle history).
#[utoipa::path(get, path = "/api/v1/retail/customers/{id}/history", tag = "retail",
    params(("id" = String, Path)),
    responses((status = 200, description = "the versions, oldest first", body = Object),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn customer_history(
    State(s): State<AppState>,
    Viewed(v): Viewed,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Record<Customer>>>> {
    Ok(Json(s.retail.customer_history(&v, &id).await?))
}

/// A customer's contracts.
#[utoipa::path(get, path = "/api/v1/retail/customers/{id}/contracts", tag = "retail",
    params(("id" = String, Path)),
    responses((status = 200, description = "the contracts, latest versions", body = Object),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn contracts(
    State(s): State<AppState>,
    Viewed(v): Viewed,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Record<Contract>>>> {
    Ok(Json(s.retail.contracts(&v, &id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct InvoiceQuery {
    /// `json` (default) or `csv` (the lines).
    #[serde(default)]
    pub format: Option<String>,
}

/// A customer's bill of a month, latest version (JSON or CSV).
#[utoipa::path(get, path = "/api/v1/retail/customers/{id}/invoices/{month}", tag = "retail",
    params(("id" = String, Path), ("month" = String, Path, description = "YYYY-MM"), InvoiceQuery),
    responses((status = 200, description = "the bill with its lines and lineage", body = Object),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn invoice(
    State(s): State<AppState>,
    Viewed(v): Viewed,
    Path((id, m)): Path<(String, String)>,
    Query(q): Query<InvoiceQuery>,
) -> ApiResult<Response> {
    let r = s.retail.invoice(&v, &id, month(&m)?).await?;
    Ok(match q.format.as_deref().unwrap_or("json") {
        "json" => Json(r).into_response(),
        "csv" => ([(header::CONTENT_TYPE, "text/csv")], invoice_csv(&r.value)).into_response(),
        other => {
            return Err(RetailError::Invalid(Violations::one(
                "format",
                "json_or_csv",
                other,
                "format is json or csv",
            ))
            .into());
        }
    })
}

/// Every version of a customer's bill of a month (re-ratings with their adjustments).
#[utoipa::path(get, path = "/api/v1/retail/customers/{id}/invoices/{month}/versions", tag = "retail",
    params(("id" = String, Path), ("month" = String, Path, description = "YYYY-MM")),
    responses((status = 200, description = "the versions, oldest first", body = Object),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn invoice_versions(
    State(s): State<AppState>,
    Viewed(v): Viewed,
    Path((id, m)): Path<(String, String)>,
) -> ApiResult<Json<Vec<Record<Invoice>>>> {
    Ok(Json(s.retail.invoice_history(&v, &id, month(&m)?).await?))
}

/// The bills of a month the caller may see.
#[utoipa::path(get, path = "/api/v1/retail/months/{month}/invoices", tag = "retail",
    params(("month" = String, Path, description = "YYYY-MM")),
    responses((status = 200, description = "latest bill versions", body = Object),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn month_invoices(
    State(s): State<AppState>,
    Viewed(v): Viewed,
    Path(m): Path<String>,
) -> ApiResult<Json<Vec<Record<Invoice>>>> {
    Ok(Json(s.retail.invoices(&v, month(&m)?).await?))
}

/// Customers projected, from the readings so far, to leave their deviation
/// band this month (retail staff).
#[utoipa::path(get, path = "/api/v1/retail/months/{month}/deviation-warnings", tag = "retail",
    params(("month" = String, Path, description = "YYYY-MM")),
    responses((status = 200, description = "the warnings", body = Object),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn deviation_warnings(
    State(s): State<AppState>,
    Viewed(v): Viewed,
    Path(m): Path<String>,
) -> ApiResult<Json<Vec<DeviationWarning>>> {
    Ok(Json(s.retail.deviation_warnings(&v, month(&m)?).await?))
}

/// The retailer's price-package catalogue (retail staff).
#[utoipa::path(get, path = "/api/v1/retail/packages", tag = "retail",
    responses((status = 200, description = "packages, latest versions", body = Object),
        (status = 403, body = ErrorBody)))]
pub async fn packages(
    State(s): State<AppState>,
    Viewed(v): Viewed,
) -> ApiResult<Json<Vec<Record<PricePackage>>>> {
    Ok(Json(s.retail.packages(&v).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ImportQuery {
    /// The file corrects stored readings (they are superseded, flagged corrected).
    #[serde(default)]
    pub corrections: bool,
    /// The file's name, kept in each reading's lineage.
    #[serde(default)]
    pub name: Option<String>,
}

/// Imports a meter-data CSV (billing staff): all or nothing, every refused
/// row named with its rule; the same file twice changes nothing.
#[utoipa::path(post, path = "/api/v1/retail/meter-data", tag = "retail",
    params(ImportQuery), request_body(content = String, content_type = "text/csv"),
    responses((status = 200, description = "what the import did", body = Object),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import_meter_data(
    State(s): State<AppState>,
    Viewed(v): Viewed,
    Query(q): Query<ImportQuery>,
    ApiText(text): ApiText,
) -> ApiResult<Json<ImportReport>> {
    let kind = if q.corrections {
        ImportKind::Corrections
    } else {
        ImportKind::Readings
    };
    let name = q.name.unwrap_or_else(|| "upload.csv".into());
    Ok(Json(
        s.retail
            .import_readings(&v, &name, text.as_bytes(), kind)
            .await?,
    ))
}
