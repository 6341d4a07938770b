//! The pages of signed-in members, the operator and the auditor. Each
//! reads through the same `voltex_market` calls as the JSON endpoint of
//! the same data, as the visitor's market identity, so what a page shows is
//! what the API answers that visitor, and another member's object is "not
//! found" here as there. A page whose permission the role lacks is neither
//! linked from the navigation nor served (403).
//!
//! Only reading is offered: every state-changing market action (declaring,
//! opening, closing, clearing, publishing) is a core permission that needs
//! proof of certificate possession, which a browser form cannot give yet.
use super::format;
use super::locale::Locale;
use super::page::{self, Chrome, ErrorPage, permits};
use super::visit::Visit;
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::routes::operations::ClearingRunSummary;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;
use std::collections::BTreeSet;
use voltex_charts::{Colour, Figure, Panel, Series};
use voltex_model::{MarketKind, MarketSession, SessionState, TradingDay};
use voltex_security::roles::Permission as P;
use voltex_store::Record;

use super::catalogue::Messages;

/// A member's own private data, or everyone's (operator, auditor): the
/// permission of the API's declaration, statement and registry reads.
pub(crate) const PRIVATE: &[P] = crate::routes::OWN_OR_ALL;
/// Every member's private data: clearing runs, all statements of a day.
const ALL_PRIVATE: &[P] = &[P::ReadAllPrivateData];
/// The own notification box (the operator's needs the certificate proof).
const OWN_NOTICES: &[P] = &[P::ReadOwnPrivateData];

pub(super) type PageResult = Result<Response, ErrorPage>;

/// The signed-in caller of a page; a visitor without a session is sent to
/// the sign-in form.
pub(super) fn signed_in(visit: &Visit) -> Result<&Caller, Box<Response>> {
    visit
        .caller
        .as_ref()
        .ok_or_else(|| Box::new(page::see_other("/", &visit.cookies())))
}

/// The signed-in caller of a page whose role holds one of `needed`, or the
/// page to answer instead: the sign-in form for a visitor without a session,
/// 403 for a role without the permission (the API's role check).
pub(super) fn signed_in_with<'v>(
    visit: &'v Visit,
    needed: &[P],
) -> Result<&'v Caller, Box<PageResult>> {
    let caller = signed_in(visit).map_err(|r| Box::new(Ok(*r)))?;
    if !permits(caller.principal.role, needed) {
        return Err(Box::new(Err(ErrorPage::forbidden(visit.locale))));
    }
    Ok(caller)
}

fn market_name(m: &'static Messages, k: MarketKind) -> &'static str {
    match k {
        MarketKind::DayAheadEnergy => m.market_day_ahead,
        MarketKind::RealTimeEnergy => m.market_real_time,
        MarketKind::FrequencyRegulation => m.market_frequency,
        MarketKind::PeakRegulation => m.market_peak,
    }
}

fn state_name(m: &'static Messages, s: SessionState) -> &'static str {
    match s {
        SessionState::Scheduled => m.state_scheduled,
        SessionState::Open => m.state_open,
        SessionState::Closed => m.state_closed,
        SessionState::Cleared => m.state_cleared,
        SessionState::Published => m.state_published,
        SessionState::Settled => m.state_settled,
    }
}

/// One line of the sessions table.
#[derive(Debug, Clone)]
pub(crate) struct SessionRow {
    pub id: String,
    pub market: &'static str,
    pub day: String,
    pub state: &'static str,
}

fn session_row(locale: Locale, s: &MarketSession) -> SessionRow {
    let m = locale.messages();
    SessionRow {
        id: s.id.clone(),
        market: market_name(m, s.market),
        day: format::day(locale, s.trading_day),
        state: state_name(m, s.state),
    }
}

/// Every session, newest trading day first (public, as `GET /api/v1/sessions`).
async fn session_rows(s: &AppState, locale: Locale) -> Result<Vec<SessionRow>, ApiError> {
    let mut sessions: Vec<Record<MarketSession>> = s.market.sessions().await?;
    sessions.sort_by(|a, b| {
        (b.value.trading_day, &a.value.id).cmp(&(a.value.trading_day, &b.value.id))
    });
    Ok(sessions
        .iter()
        .map(|r| session_row(locale, &r.value))
        .collect())
}

#[derive(Debug)]
pub(crate) struct NoticeRow {
    pub time: String,
    pub subject: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    sessions: Vec<SessionRow>,
    /// `None`: the role has no notification box of its own here.
    notices: Option<Vec<NoticeRow>>,
}

#[derive(Template)]
#[template(path = "sessions_table.html")]
struct SessionsTable {
    chrome: Chrome,
    sessions: Vec<SessionRow>,
}

/// `GET /portal`: today's work: the sessions and their state, and the
/// member's notices.
pub(crate) async fn dashboard(State(s): State<AppState>, visit: Visit) -> PageResult {
    let caller = match signed_in(&visit) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let err = |e: ApiError| ErrorPage::from_api(visit.locale, e);
    let sessions = session_rows(&s, visit.locale).await.map_err(err)?;
    let notices = if permits(caller.principal.role, OWN_NOTICES) {
        let list = s
            .market
            .notifications(&caller.actor, false)
            .await
            .map_err(|e| err(e.into()))?;
        Some(
            list.into_iter()
                .take(20)
                .map(|n| NoticeRow {
                    time: format::instant(visit.locale, n.value.created_at),
                    subject: n.value.subject,
                    message: n.value.message,
                })
                .collect(),
        )
    } else {
        None
    };
    let chrome = Chrome::new(&visit, visit.locale.messages().nav_overview);
    Ok(page::html(
        &visit,
        StatusCode::OK,
        &DashboardPage {
            chrome,
            sessions,
            notices,
        },
    ))
}

/// `GET /portal/partials/sessions`: the sessions table alone (htmx
/// refreshes the overview's table with it).
pub(crate) async fn sessions_partial(State(s): State<AppState>, visit: Visit) -> PageResult {
    if let Err(r) = signed_in(&visit) {
        return Ok(*r);
    }
    let sessions = session_rows(&s, visit.locale)
        .await
        .map_err(|e| ErrorPage::from_api(visit.locale, e))?;
    let chrome = Chrome::new(&visit, "");
    Ok(page::html(
        &visit,
        StatusCode::OK,
        &SessionsTable { chrome, sessions },
    ))
}

#[derive(Debug)]
pub(crate) struct DeclarationRow {
    pub key: String,
    pub member: String,
    pub kind: String,
    pub version: i64,
    pub submitted: String,
}

#[derive(Debug)]
pub(crate) struct RunFacts {
    pub version: i64,
    pub objective: String,
    pub min: String,
    pub mean: String,
    pub max: String,
    pub binding: usize,
    pub shortfall: String,
}

#[derive(Template)]
#[template(path = "session.html")]
struct SessionPage {
    chrome: Chrome,
    session: SessionRow,
    /// `None`: the role reads no declarations.
    declarations: Option<Vec<DeclarationRow>>,
    /// The published prices as an SVG chart.
    chart: Option<String>,
    /// `None`: not the operator's or auditor's page; `Some(None)`: not cleared.
    run: Option<Option<RunFacts>>,
}

/// The per-interval LMPs (one value per bus) of a `nodal_prices`
/// publication's content.
pub(crate) fn published_lmps(content: &Value) -> Vec<(usize, Vec<f64>)> {
    content["intervals"]
        .as_array()
        .map(|intervals| {
            intervals
                .iter()
                .filter_map(|i| {
                    let n = i["interval"].as_u64()? as usize;
                    let lmps = i["buses"]
                        .as_array()?
                        .iter()
                        .filter_map(|b| b["lmp"].as_f64())
                        .collect();
                    Some((n, lmps))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The lowest, mean and highest LMP over the buses per interval, in the
/// palette's colours (as the clearing report's `lmp.svg`).
pub(crate) fn lmp_figure(m: &'static Messages, lmps: &[(usize, Vec<f64>)]) -> Figure {
    let mut series = [
        Series::new(m.lmp_min, vec![]).coloured(Colour::Blue),
        Series::new(m.lmp_mean, vec![]).coloured(Colour::Ink),
        Series::new(m.lmp_max, vec![]).coloured(Colour::Red),
    ];
    for (interval, prices) in lmps.iter().filter(|(_, p)| !p.is_empty()) {
        let x = *interval as f64;
        let min = prices.iter().copied().fold(f64::INFINITY, f64::min);
        let max = prices.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mean = prices.iter().sum::<f64>() / prices.len() as f64;
        for (s, y) in series.iter_mut().zip([min, mean, max]) {
            s.points.push((x, y));
        }
    }
    let n = lmps.len() as f64;
    Figure::single(
        Panel::new(
            m.lmp_chart_title,
            m.lmp_axis_interval,
            m.lmp_axis_price,
            series.into(),
        )
        .x_range(0.5, n + 0.5),
    )
}

/// `GET /portal/sessions/{id}`: a session, the visitor's declarations in
/// it, its published prices as a chart, and for the operator and auditor
/// the clearing run.
pub(crate) async fn session(
    State(s): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
) -> PageResult {
    let caller = match signed_in(&visit) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let (locale, role, actor) = (visit.locale, caller.principal.role, &caller.actor);
    let m = locale.messages();
    let err = |e: ApiError| ErrorPage::from_api(locale, e);
    let market_err = |e: voltex_market::MarketError| ErrorPage::from_api(locale, e.into());
    let record = s.market.session(&id).await.map_err(market_err)?;
    let declarations = if permits(role, PRIVATE) {
        let list = s
            .market
            .declarations(actor, &id)
            .await
            .map_err(market_err)?;
        Some(
            list.into_iter()
                .map(|d| DeclarationRow {
                    key: d.key,
                    member: d.member_id,
                    kind: d.kind.to_string(),
                    version: d.version,
                    submitted: format::instant(locale, d.submitted_at),
                })
                .collect(),
        )
    } else {
        None
    };
    let published = s
        .market
        .publications(Some(actor), &id)
        .await
        .map_err(market_err)?;
    let chart = match published.iter().find(|p| p.value.item == "nodal_prices") {
        Some(p) => {
            let lmps = published_lmps(&p.value.content);
            let svg = voltex_charts::render_svg(&lmp_figure(m, &lmps))
                .map_err(|e| err(ApiError::internal(e.to_string())))?;
            Some(svg)
        }
        None => None,
    };
    let energy = matches!(
        record.value.market,
        MarketKind::DayAheadEnergy | MarketKind::RealTimeEnergy
    );
    let run = if permits(role, ALL_PRIVATE) && energy {
        match s.market.clearing_run(actor, &id).await {
            Ok(r) => {
                let sum = ClearingRunSummary::from(r);
                Some(Some(RunFacts {
                    version: sum.version,
                    objective: format::yuan(sum.objective),
                    min: format::number(sum.min_lmp, 2),
                    mean: format::number(sum.mean_lmp, 2),
                    max: format::number(sum.max_lmp, 2),
                    binding: sum.binding_branch_intervals,
                    shortfall: format::number(sum.shortfall_mwh, 3),
                }))
            }
            Err(voltex_market::MarketError::NotFound { .. }) => Some(None),
            Err(e) => return Err(market_err(e)),
        }
    } else {
        None
    };
    let row = session_row(locale, &record.value);
    let chrome = Chrome::new(&visit, &format!("{} {}", m.col_session, row.id));
    Ok(page::html(
        &visit,
        StatusCode::OK,
        &SessionPage {
            chrome,
            session: row,
            declarations,
            chart,
            run,
        },
    ))
}

#[derive(Debug)]
pub(crate) struct VersionRow {
    pub version: i64,
    pub submitted: String,
    /// Receipt id and sealing time, for a signed version.
    pub receipt: Option<String>,
    /// The declaration body as the API answers it (pretty JSON).
    pub body: String,
}

#[derive(Template)]
#[template(path = "declaration.html")]
struct DeclarationPage {
    chrome: Chrome,
    key: String,
    session_id: String,
    versions: Vec<VersionRow>,
}

/// `GET /portal/declarations/{key}`: every version of one declaration with
/// its receipt (as `GET /api/v1/declarations/{key}` and `.../receipt`).
pub(crate) async fn declaration(
    State(s): State<AppState>,
    visit: Visit,
    Path(key): Path<String>,
) -> PageResult {
    let caller = match signed_in_with(&visit, PRIVATE) {
        Ok(c) => c,
        Err(page) => return *page,
    };
    let locale = visit.locale;
    let err = |e: ApiError| ErrorPage::from_api(locale, e);
    let history = s
        .market
        .declaration_history(&caller.actor, &key)
        .await
        .map_err(|e| err(e.into()))?;
    let mut versions = Vec::new();
    for d in history {
        let receipt = crate::signing::receipt_of(&s.market, &caller.actor, &d.key, d.version)
            .await
            .map_err(err)?
            .map(|r| format!("{} · {}", r.body.receipt_id, r.body.sealed_at));
        versions.push(VersionRow {
            version: d.version,
            submitted: format::instant(locale, d.submitted_at),
            receipt,
            body: serde_json::to_string_pretty(&d.body).unwrap_or_default(),
        });
    }
    let session_id = key.split(':').next().unwrap_or_default().to_owned();
    let m = locale.messages();
    let chrome = Chrome::new(&visit, &format!("{} {key}", m.col_declaration));
    Ok(page::html(
        &visit,
        StatusCode::OK,
        &DeclarationPage {
            chrome,
            key,
            session_id,
            versions,
        },
    ))
}

#[derive(Debug)]
pub(crate) struct StatementRow {
    pub href: String,
    pub day: String,
    pub member: String,
    pub da: String,
    pub rt: String,
    pub total: String,
}

#[derive(Template)]
#[template(path = "statements.html")]
struct StatementsPage {
    chrome: Chrome,
    rows: Vec<StatementRow>,
}

/// `GET /portal/statements`: the settlement statements the visitor may
/// read, one line per day and member: a member's own (as `GET
/// /api/v1/days/{day}/statements/{member}`), every member's for the
/// operator and auditor (as `GET /api/v1/days/{day}/statements`).
pub(crate) async fn statements(State(s): State<AppState>, visit: Visit) -> PageResult {
    let caller = match signed_in_with(&visit, PRIVATE) {
        Ok(c) => c,
        Err(page) => return *page,
    };
    let locale = visit.locale;
    let role = caller.principal.role;
    let market_err = |e: voltex_market::MarketError| ErrorPage::from_api(locale, e.into());
    let days: BTreeSet<TradingDay> = s
        .market
        .sessions()
        .await
        .map_err(market_err)?
        .into_iter()
        .map(|r| r.value.trading_day)
        .collect();
    let mut list = Vec::new();
    for day in days.into_iter().rev() {
        if permits(role, ALL_PRIVATE) {
            list.extend(
                s.market
                    .statements(&caller.actor, day)
                    .await
                    .map_err(market_err)?,
            );
        } else {
            match s
                .market
                .statement(&caller.actor, day, &caller.actor.member_id)
                .await
            {
                Ok(r) => list.push(r),
                Err(voltex_market::MarketError::NotFound { .. }) => {}
                Err(e) => return Err(market_err(e)),
            }
        }
    }
    let rows = list
        .into_iter()
        .map(|r| {
            let st = r.value;
            StatementRow {
                href: format!("/portal/statements/{}/{}", st.trading_day, st.member_id),
                day: format::day(locale, st.trading_day),
                member: format!("{} ({})", st.member_name, st.member_id),
                da: format::yuan(st.da_total),
                rt: format::yuan(st.rt_total),
                total: format::yuan(st.total),
            }
        })
        .collect();
    let chrome = Chrome::new(&visit, locale.messages().statements_heading);
    Ok(page::html(
        &visit,
        StatusCode::OK,
        &StatementsPage { chrome, rows },
    ))
}

#[derive(Debug)]
pub(crate) struct LineRow {
    pub interval: usize,
    pub resource: String,
    pub da_mw: String,
    pub da_lmp: String,
    pub rt_mw: String,
    pub rt_lmp: String,
    pub amount: String,
}

#[derive(Template)]
#[template(path = "statement.html")]
struct StatementPage {
    chrome: Chrome,
    day: String,
    member: String,
    da: String,
    rt: String,
    total: String,
    lines: Vec<LineRow>,
}

/// `GET /portal/statements/{day}/{member}`: one statement with its lines
/// (as `GET /api/v1/days/{day}/statements/{member}`; another member's is
/// not found).
pub(crate) async fn statement(
    State(s): State<AppState>,
    visit: Visit,
    Path((day, member)): Path<(String, String)>,
) -> PageResult {
    let caller = match signed_in_with(&visit, PRIVATE) {
        Ok(c) => c,
        Err(page) => return *page,
    };
    let locale = visit.locale;
    let Ok(day) = day.parse::<TradingDay>() else {
        return Err(ErrorPage::from_api(
            locale,
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such day"),
        ));
    };
    let r = s
        .market
        .statement(&caller.actor, day, &member)
        .await
        .map_err(|e| ErrorPage::from_api(locale, e.into()))?;
    let st = r.value;
    let lines = st
        .lines
        .iter()
        .map(|l| LineRow {
            interval: l.interval,
            resource: l.resource_id.clone(),
            da_mw: format::number(l.da_mw, 3),
            da_lmp: format::number(l.da_lmp, 2),
            rt_mw: format::number(l.rt_mw, 3),
            rt_lmp: format::number(l.rt_lmp, 2),
            amount: format::yuan(l.amount),
        })
        .collect();
    let m = locale.messages();
    let chrome = Chrome::new(&visit, m.statement_heading);
    Ok(page::html(
        &visit,
        StatusCode::OK,
        &StatementPage {
            chrome,
            day: format::day(locale, st.trading_day),
            member: format!("{} ({})", st.member_name, st.member_id),
            da: format::yuan(st.da_total),
            rt: format::yuan(st.rt_total),
            total: format::yuan(st.total),
            lines,
        },
    ))
}
