//! Market evaluation over HTTP: run the evaluation of a cleared day
//! (operator), read its alerts (operator and auditors), a member's portrait
//! (the operator and auditors any, a member its own), the day's and month's
//! statistics (signed-in users), and register reference levels and outage
//! notices. The rules are `voltex_market::evaluation`'s; this translates.
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Identity};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use voltex_market::evaluation::{
    DayStatistics, Evaluation, MarketAlert, MemberPortrait, MonthStatistics, OutageNotice,
    ReferenceLevel, Thresholds, portrait_svg,
};
use voltex_model::{TradingDay, Violations};
use voltex_store::Record;

type ApiResult<T> = Result<T, ApiError>;

/// Evaluates a cleared trading day (operator): structure, conduct, impact
/// re-clear, statistics; stores the alerts. The body holds thresholds (any
/// subset, `{}` for the defaults in docs/market-evaluation.md).
#[utoipa::path(post, path = "/api/v1/days/{day}/evaluation", tag = "evaluation",
    params(("day" = String, Path, format = Date)), request_body = Object,
    responses((status = 200, description = "the evaluation", body = Object),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "the day is not cleared yet", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn evaluate_day(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(day): Path<TradingDay>,
    ApiJson(t): ApiJson<Thresholds>,
) -> ApiResult<Json<Evaluation>> {
    Ok(Json(s.market.evaluate_day(&a, day, &t).await?))
}

/// The market monitor's alerts of a day, with their evidence (operator
/// and auditors only).
#[utoipa::path(get, path = "/api/v1/days/{day}/alerts", tag = "evaluation",
    params(("day" = String, Path, format = Date)),
    responses((status = 200, description = "the alerts, each a versioned record", body = Object),
        (status = 403, body = ErrorBody)))]
pub async fn alerts(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(day): Path<TradingDay>,
) -> ApiResult<Json<Vec<Record<MarketAlert>>>> {
    Ok(Json(s.market.alerts(&a, day).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PortraitQuery {
    /// `json` (default) or `svg` (the bidding pattern chart).
    #[serde(default)]
    pub format: Option<String>,
}

/// A member's portrait for a day: capacity share, bidding pattern across
/// the day, share of intervals marginal, alerts count, settlement totals
/// (a member: only its own).
#[utoipa::path(get, path = "/api/v1/days/{day}/portraits/{member}", tag = "evaluation",
    params(("day" = String, Path, format = Date), ("member" = String, Path), PortraitQuery),
    responses((status = 200, description = "the portrait (JSON or SVG)", body = Object),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn portrait(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path((day, member)): Path<(TradingDay, String)>,
    Query(q): Query<PortraitQuery>,
) -> ApiResult<Response> {
    let p: MemberPortrait = s.market.member_portrait(&a, &member, day).await?;
    Ok(match q.format.as_deref().unwrap_or("json") {
        "json" => Json(p).into_response(),
        "svg" => {
            let svg = portrait_svg(&p).map_err(|e| {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
            })?;
            ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response()
        }
        other => {
            return Err(voltex_market::MarketError::Invalid(Violations::one(
                "format",
                "json_or_svg",
                other,
                "format is json or svg",
            ))
            .into());
        }
    })
}

/// Statistics of a cleared day: volumes, price percentiles, DA–RT spread,
/// congestion rent, uplift.
#[utoipa::path(get, path = "/api/v1/days/{day}/statistics", tag = "evaluation",
    params(("day" = String, Path, format = Date)),
    responses((status = 200, description = "the day's statistics", body = Object),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn day_statistics(
    State(s): State<AppState>,
    Path(day): Path<TradingDay>,
) -> ApiResult<Json<DayStatistics>> {
    Ok(Json(s.market.day_statistics(day).await?))
}

/// Statistics of every cleared day of a month (`YYYY-MM`) and their totals.
#[utoipa::path(get, path = "/api/v1/months/{month}/statistics", tag = "evaluation",
    params(("month" = String, Path, description = "YYYY-MM")),
    responses((status = 200, description = "the month's statistics", body = Object),
        (status = 422, body = ErrorBody)))]
pub async fn month_statistics(
    State(s): State<AppState>,
    Path(month): Path<String>,
) -> ApiResult<Json<MonthStatistics>> {
    let parsed = month
        .split_once('-')
        .and_then(|(y, m)| Some((y.parse::<i32>().ok()?, m.parse::<u32>().ok()?)));
    let Some((y, m)) = parsed else {
        return Err(voltex_market::MarketError::Invalid(Violations::one(
            "month",
            "year_month",
            month,
            "a month is written YYYY-MM",
        ))
        .into());
    };
    Ok(Json(s.market.month_statistics(y, m).await?))
}

/// Registers or replaces a unit's cost-based reference level (operator).
#[utoipa::path(put, path = "/api/v1/units/{id}/reference-level", tag = "evaluation",
    params(("id" = String, Path)), request_body = ReferenceLevel,
    responses((status = 200, description = "the stored reference level", body = Object),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn set_reference_level(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(id): Path<String>,
    ApiJson(mut level): ApiJson<ReferenceLevel>,
) -> ApiResult<Json<Record<ReferenceLevel>>> {
    level.unit_id = id;
    Ok(Json(s.market.register_reference_level(&a, level).await?))
}

/// Notices an outage of part of a unit on a trading day (the operator, or
/// the unit's owner).
#[utoipa::path(post, path = "/api/v1/units/{id}/outages", tag = "evaluation",
    params(("id" = String, Path)), request_body = OutageNotice,
    responses((status = 200, description = "the stored notice", body = Object),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn notice_outage(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(id): Path<String>,
    ApiJson(mut notice): ApiJson<OutageNotice>,
) -> ApiResult<Json<Record<OutageNotice>>> {
    notice.unit_id = id;
    Ok(Json(s.market.notice_outage(&a, notice).await?))
}
