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
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;
use voltex_model::Violations;
use voltex_retail::contract::Contract;
use voltex_retail::customer::Customer;
use voltex_retail::efficiency::report::ReportLang;
use voltex_retail::month::Month;
use voltex_retail::package::PricePackage;
use voltex_retail::rating::{Invoice, invoice_csv};
use voltex_retail::readings::{ImportKind, ImportReport};
use voltex_retail::{DayAhead, DeviationWarning, RetailError, Viewer};
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

pub(crate) fn date(field: &str, s: &str) -> ApiResult<NaiveDate> {
    s.parse()
        .map_err(|_| RetailError::invalid(field, "date", s, "a date is written YYYY-MM-DD").into())
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

/// The day-ahead forecast of the retailer's portfolio for `day` from its
/// stored readings (retail staff): each customer whose contract covers the
/// day's month, with the method its 28-day back-test chose and that
/// back-test's accuracy; the portfolio's sum, its accuracy and the
/// diversity effect; and the customers left out for want of complete days.
#[utoipa::path(get, path = "/api/v1/retail/forecasts/{day}", tag = "retail",
    params(("day" = String, Path, description = "YYYY-MM-DD, the day forecast")),
    responses((status = 200, description = "96 quarter-hour kWh per customer and for the portfolio", body = Object),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn day_ahead_forecast(
    State(s): State<AppState>,
    Viewed(v): Viewed,
    Path(day): Path<String>,
) -> ApiResult<Json<DayAhead>> {
    Ok(Json(s.retail.day_ahead(&v, date("day", &day)?).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct EnergyReportQuery {
    /// `html` (default: the report to send) or `json` (the figures).
    #[serde(default)]
    pub format: Option<String>,
    /// `zh-CN` (default) or `en`, for `html`.
    #[serde(default)]
    pub lang: Option<String>,
    /// YYYY-MM-DD: the report covers the year of complete readings that
    /// ends on the last complete day before it; default tomorrow, China
    /// Standard Time (the latest readings).
    #[serde(default)]
    pub before: Option<String>,
}

/// A customer's energy-efficiency report over its last year of stored
/// readings: load shape, maximum demand against the contracted capacity,
/// the savings from resizing it and from shifting peak load, and the
/// battery that pays best under its TOU package (an LP), with payback.
/// Retail staff for any customer of the retailer; a retail customer for
/// its own account.
#[utoipa::path(get, path = "/api/v1/retail/customers/{id}/energy-report", tag = "retail",
    params(("id" = String, Path), EnergyReportQuery),
    responses((status = 200, description = "the report (HTML with SVG charts) or its figures (JSON)", body = Object),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn energy_report(
    State(s): State<AppState>,
    Viewed(v): Viewed,
    Path(id): Path<String>,
    Query(q): Query<EnergyReportQuery>,
) -> ApiResult<Response> {
    let before = match q.before.as_deref() {
        Some(d) => date("before", d)?,
        None => voltex_retail::month::china_tomorrow(chrono::Utc::now()),
    };
    let lang = match q.lang.as_deref().unwrap_or("zh-CN") {
        "zh-CN" | "zh" => ReportLang::Zh,
        "en" => ReportLang::En,
        other => {
            return Err(
                RetailError::invalid("lang", "zh_cn_or_en", other, "lang is zh-CN or en").into(),
            );
        }
    };
    let format = q.format.as_deref().unwrap_or("html");
    if !matches!(format, "html" | "json") {
        return Err(RetailError::invalid(
            "format",
            "html_or_json",
            format,
            "format is html or json",
        )
        .into());
    }
    let (customer, study) = s.retail.efficiency_study(&v, &id, before).await?;
    let series = &study.battery_input.series;
    Ok(if format == "json" {
        let b = &study.battery;
        Json(serde_json::json!({
            "customer_id": customer.id,
            "first_day": series.start,
            "days": series.days(),
            "metrics": study.metrics,
            "assumptions": study.assumptions,
            "battery": {
                "power_kw": b.power_kw,
                "energy_kwh": b.energy_kwh,
                "capex": b.capex,
                "annualised_capex": b.annualised_capex,
                "baseline_annual_cost": b.baseline_annual_cost,
                "annual_saving": b.annual_saving,
                "net_annual_benefit": b.net_annual_benefit,
                "payback_years": b.payback_years,
                "monthly_peak_kw": b.monthly_peak_kw,
                "demand_charge_fen_per_kw_month": study.battery_input.demand_charge_fen_per_kw_month,
                "costs": study.battery_input.costs,
            },
        }))
        .into_response()
    } else {
        (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            study.html(&customer.id, &customer.name, lang),
        )
            .into_response()
    })
}
