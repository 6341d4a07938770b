//! The operator's day after declarations and what members see of it: grid
//! information, review, gate-closure record, clearing, publication,
//! metered load, settlement statements, notifications (box and live push)
//! and declaration copies.
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Identity, MaybeIdentity};
use crate::openapi::{Versioned, VersionedList};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::convert::Infallible;
use utoipa::{IntoParams, ToSchema};
use voltex_market::clear::ClearingOutcome;
use voltex_market::dispatch::{ClearOptions, ClearingRun, MeteredLoad, UsedDeclaration};
use voltex_market::gate::{DefaultDeclaration, GateClosure, GridInformation};
use voltex_market::notices::Notification;
use voltex_market::publication::Publication;
use voltex_market::regulation::RegulationRun;
use voltex_market::review::DeclarationReview;
use voltex_market::settlement::{Statement, statement_csv, statement_html};
use voltex_model::{DeclarationBody, TradingDay};
use voltex_store::Record;

type ApiResult<T> = Result<T, ApiError>;

/// Declaration period, price limits and grid constraints of a session.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/grid-information", tag = "declarations",
    params(("id" = String, Path)),
    responses((status = 200, body = GridInformation), (status = 404, body = ErrorBody)))]
pub async fn grid_information(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<GridInformation>> {
    Ok(Json(s.market.grid_information(&id).await?))
}

/// What gate closure locked and which defaults applied (operator).
#[utoipa::path(get, path = "/api/v1/sessions/{id}/gate", tag = "sessions",
    params(("id" = String, Path)),
    responses((status = 200, body = Versioned<GateClosure>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn gate_closure(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(id): Path<String>,
) -> ApiResult<Json<Record<GateClosure>>> {
    Ok(Json(s.market.gate_closure(&a, &id).await?))
}

/// Held declarations awaiting the operator (members: their own).
#[utoipa::path(get, path = "/api/v1/reviews", tag = "declarations",
    responses((status = 200, body = VersionedList<DeclarationReview>)))]
pub async fn pending_reviews(
    State(s): State<AppState>,
    Identity(a): Identity,
) -> ApiResult<Json<Vec<Record<DeclarationReview>>>> {
    Ok(Json(s.market.pending_reviews(&a).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewDecision {
    pub approve: bool,
    /// Required when rejecting; the member is told.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Approve or reject a held declaration version (operator).
#[utoipa::path(post, path = "/api/v1/declarations/{key}/versions/{version}/review", tag = "declarations",
    request_body = ReviewDecision,
    params(("key" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = Versioned<DeclarationReview>), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn decide_review(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path((key, version)): Path<(String, i64)>,
    ApiJson(d): ApiJson<ReviewDecision>,
) -> ApiResult<Json<Record<DeclarationReview>>> {
    Ok(Json(
        s.market
            .decide_review(&a, &key, version, d.approve, d.reason)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CopyQuery {
    /// The session the draft is for.
    pub session: String,
}

/// A draft copied from one of the caller's past declaration versions, to
/// edit and submit.
#[utoipa::path(get, path = "/api/v1/declarations/{key}/versions/{version}/copy", tag = "declarations",
    params(("key" = String, Path), ("version" = i64, Path), CopyQuery),
    responses((status = 200, body = DeclarationBody), (status = 404, body = ErrorBody)))]
pub async fn copy_declaration(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path((key, version)): Path<(String, i64)>,
    Query(q): Query<CopyQuery>,
) -> ApiResult<Json<DeclarationBody>> {
    Ok(Json(
        s.market
            .copy_declaration(&a, &key, version, &q.session)
            .await?,
    ))
}

/// What a clearing run answers (the full run, input included, is at
/// `GET /api/v1/sessions/{id}/clearing-run`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClearingRunSummary {
    pub session_id: String,
    pub version: i64,
    pub fingerprint: String,
    pub objective: f64,
    pub min_lmp: f64,
    pub mean_lmp: f64,
    pub max_lmp: f64,
    pub binding_branch_intervals: usize,
    pub shortfall_mwh: f64,
    pub used: Vec<UsedDeclaration>,
    pub defaults: Vec<DefaultDeclaration>,
    pub warnings: Vec<String>,
}

impl From<Record<ClearingRun>> for ClearingRunSummary {
    fn from(r: Record<ClearingRun>) -> Self {
        let s = r.value.result.summary();
        Self {
            session_id: r.value.session_id,
            version: r.version,
            fingerprint: r.value.fingerprint,
            objective: s.objective,
            min_lmp: s.min_lmp,
            mean_lmp: s.mean_lmp,
            max_lmp: s.max_lmp,
            binding_branch_intervals: s.binding_branch_intervals,
            shortfall_mwh: s.shortfall_mwh,
            used: r.value.used,
            defaults: r.value.defaults,
            warnings: r.value.warnings,
        }
    }
}

/// What a regulation auction answers (full run: `GET .../regulation-run`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RegulationRunSummary {
    pub session_id: String,
    pub version: i64,
    pub mean_price: f64,
    pub max_price: f64,
    pub awarded_mwh: f64,
    pub shortfall_intervals: usize,
    pub used: Vec<UsedDeclaration>,
    pub warnings: Vec<String>,
}

impl From<Record<RegulationRun>> for RegulationRunSummary {
    fn from(r: Record<RegulationRun>) -> Self {
        let s = r.value.summary();
        Self {
            session_id: r.value.session_id.clone(),
            version: r.version,
            mean_price: s.mean_price,
            max_price: s.max_price,
            awarded_mwh: s.awarded_mwh,
            shortfall_intervals: s.shortfall_intervals,
            used: r.value.used,
            warnings: r.value.warnings,
        }
    }
}

/// The answer of a clearing request, by kind of market.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClearResponse {
    Energy(ClearingRunSummary),
    Regulation(RegulationRunSummary),
}

/// Clear a closed session on its locked declarations (operator): the
/// DC-OPF for energy markets, a merit-order auction against
/// `requirement_mw` for regulation markets.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/clear", tag = "clearing",
    request_body = ClearOptions,
    params(("id" = String, Path)),
    responses((status = 200, body = ClearResponse), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn clear_session(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<ClearResponse>> {
    // The options are optional: an empty body clears with the defaults.
    let options: ClearOptions = if body.iter().all(u8::is_ascii_whitespace) {
        ClearOptions::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                format!("clear options: {e}"),
            )
        })?
    };
    Ok(Json(
        match s.market.clear_session(&a, &id, &options).await? {
            ClearingOutcome::Energy(r) => ClearResponse::Energy((*r).into()),
            ClearingOutcome::Regulation(r) => ClearResponse::Regulation(r.into()),
        },
    ))
}

/// The full latest regulation auction of a session (operator).
#[utoipa::path(get, path = "/api/v1/sessions/{id}/regulation-run", tag = "clearing",
    params(("id" = String, Path)),
    responses((status = 200, body = Versioned<RegulationRun>), (status = 403, body = ErrorBody)))]
pub async fn regulation_run(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(id): Path<String>,
) -> ApiResult<Json<Record<RegulationRun>>> {
    Ok(Json(s.market.regulation_run(&a, &id).await?))
}

/// The full latest clearing run of a session, input included (operator).
#[utoipa::path(get, path = "/api/v1/sessions/{id}/clearing-run", tag = "clearing",
    params(("id" = String, Path)),
    responses((status = 200, body = Versioned<ClearingRun>), (status = 403, body = ErrorBody)))]
pub async fn clearing_run(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(id): Path<String>,
) -> ApiResult<Json<Record<ClearingRun>>> {
    Ok(Json(s.market.clearing_run(&a, &id).await?))
}

/// Publish a cleared session's results (operator).
#[utoipa::path(post, path = "/api/v1/sessions/{id}/publish", tag = "publication",
    params(("id" = String, Path)),
    responses((status = 200, body = VersionedList<Publication>), (status = 409, body = ErrorBody)))]
pub async fn publish_session(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Record<Publication>>>> {
    Ok(Json(s.market.publish_session(&a, &id).await?))
}

/// The published items of a session the caller may see: anonymous callers
/// the public ones; a member also sees the all-members items
/// and its own; the operator sees everything.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/publications", tag = "publication",
    params(("id" = String, Path)),
    responses((status = 200, body = VersionedList<Publication>)))]
pub async fn publications(
    State(s): State<AppState>,
    MaybeIdentity(a): MaybeIdentity,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Record<Publication>>>> {
    Ok(Json(s.market.publications(a.as_ref(), &id).await?))
}

/// Every version of one published item (corrections included), if visible.
#[utoipa::path(get, path = "/api/v1/publications/{id}", tag = "publication",
    params(("id" = String, Path)),
    responses((status = 200, body = VersionedList<Publication>), (status = 404, body = ErrorBody)))]
pub async fn publication_history(
    State(s): State<AppState>,
    MaybeIdentity(a): MaybeIdentity,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Record<Publication>>>> {
    Ok(Json(s.market.publication_history(a.as_ref(), &id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Correction {
    #[schema(value_type = Object)]
    pub content: Value,
    /// What was wrong and what changed.
    pub note: String,
}

/// Publish a corrected version of an item (operator).
#[utoipa::path(post, path = "/api/v1/publications/{id}/corrections", tag = "publication",
    request_body = Correction,
    params(("id" = String, Path)),
    responses((status = 200, body = Versioned<Publication>), (status = 422, body = ErrorBody)))]
pub async fn correct_publication(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(id): Path<String>,
    ApiJson(c): ApiJson<Correction>,
) -> ApiResult<Json<Record<Publication>>> {
    Ok(Json(
        s.market
            .correct_publication(&a, &id, c.content, c.note)
            .await?,
    ))
}

/// Record the day's metered load per load resource (operator).
#[utoipa::path(put, path = "/api/v1/metered-load", tag = "settlement",
    request_body = MeteredLoad, responses((status = 200, body = Versioned<MeteredLoad>), (status = 422, body = ErrorBody)))]
pub async fn set_metered_load(
    State(s): State<AppState>,
    Identity(a): Identity,
    ApiJson(load): ApiJson<MeteredLoad>,
) -> ApiResult<Json<Record<MeteredLoad>>> {
    Ok(Json(s.market.set_metered_load(&a, load).await?))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatementTotal {
    pub member_id: String,
    pub da_total: f64,
    pub rt_total: f64,
    pub total: f64,
}

fn totals(list: Vec<Record<Statement>>) -> Vec<StatementTotal> {
    list.into_iter()
        .map(|r| StatementTotal {
            member_id: r.value.member_id,
            da_total: r.value.da_total,
            rt_total: r.value.rt_total,
            total: r.value.total,
        })
        .collect()
}

/// Settle a trading day: statements for every member and the operator.
#[utoipa::path(post, path = "/api/v1/days/{day}/settle", tag = "settlement",
    params(("day" = String, Path, format = Date)),
    responses((status = 200, body = Vec<StatementTotal>), (status = 409, body = ErrorBody)))]
pub async fn settle_day(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(day): Path<TradingDay>,
) -> ApiResult<Json<Vec<StatementTotal>>> {
    Ok(Json(totals(s.market.settle_day(&a, day).await?)))
}

/// Every statement total of a day (operator).
#[utoipa::path(get, path = "/api/v1/days/{day}/statements", tag = "settlement",
    params(("day" = String, Path, format = Date)),
    responses((status = 200, body = Vec<StatementTotal>), (status = 403, body = ErrorBody)))]
pub async fn statements(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(day): Path<TradingDay>,
) -> ApiResult<Json<Vec<StatementTotal>>> {
    Ok(Json(totals(s.market.statements(&a, day).await?)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct FormatQuery {
    /// `json` (default), `csv` or `html` (printable).
    #[serde(default)]
    pub format: Option<String>,
}

/// A member's statement for a day (members: their own) as JSON, CSV or HTML.
#[utoipa::path(get, path = "/api/v1/days/{day}/statements/{member}", tag = "settlement",
    params(("day" = String, Path, format = Date), ("member" = String, Path), FormatQuery),
    responses((status = 200, body = Versioned<Statement>), (status = 404, body = ErrorBody)))]
pub async fn statement(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path((day, member)): Path<(TradingDay, String)>,
    Query(q): Query<FormatQuery>,
) -> ApiResult<Response> {
    let r = s.market.statement(&a, day, &member).await?;
    Ok(match q.format.as_deref().unwrap_or("json") {
        "json" => Json(r).into_response(),
        "csv" => (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            statement_csv(&r.value),
        )
            .into_response(),
        "html" => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            statement_html(&r.value),
        )
            .into_response(),
        other => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_format",
                format!("format {other:?} is not json, csv or html"),
            ));
        }
    })
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct BoxQuery {
    /// Only unread messages.
    #[serde(default)]
    pub unread: bool,
}

/// The caller's message box, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications",
    params(BoxQuery),
    responses((status = 200, body = VersionedList<Notification>)))]
pub async fn notifications(
    State(s): State<AppState>,
    Identity(a): Identity,
    Query(q): Query<BoxQuery>,
) -> ApiResult<Json<Vec<Record<Notification>>>> {
    Ok(Json(s.market.notifications(&a, q.unread).await?))
}

/// Mark one message read.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications",
    params(("id" = String, Path)),
    responses((status = 200, body = Versioned<Notification>), (status = 404, body = ErrorBody)))]
pub async fn mark_read(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(id): Path<String>,
) -> ApiResult<Json<Record<Notification>>> {
    Ok(Json(s.market.mark_read(&a, &id).await?))
}

/// Live notifications as Server-Sent Events (`event: notification`, data:
/// the notification JSON). Only the caller's own messages are sent; missed
/// ones stay in the box.
#[utoipa::path(get, path = "/api/v1/notifications/stream", tag = "notifications",
    responses((status = 200, content_type = "text/event-stream", description = "event stream")))]
pub async fn notification_stream(
    State(s): State<AppState>,
    Identity(a): Identity,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let rx = s.market.subscribe();
    let member = a.member_id;
    let stream = futures_util::stream::unfold((rx, member), |(mut rx, member)| async move {
        loop {
            match rx.recv().await {
                Ok(n) if n.member_id == member => {
                    let event = Event::default()
                        .event("notification")
                        .id(n.id.clone())
                        .json_data(&n)
                        .unwrap_or_else(|_| Event::default().comment("unencodable"));
                    return Some((Ok(event), (rx, member)));
                }
                Ok(_) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(k)) => {
                    let event = Event::default()
                        .event("lagged")
                        .data(format!("{k} notifications skipped; read the box"));
                    return Some((Ok(event), (rx, member)));
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
