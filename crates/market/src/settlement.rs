//! Two-settlement of a trading day: day-ahead quantities at day-ahead LMPs,
//! real-time deviations (real-time minus day-ahead quantity) at real-time
//! LMPs, per member, resource and interval. Amounts are what the member
//! receives: positive for generation, negative (a charge) for consumption.
//!
//! The market balances by construction: whatever members pay in excess of
//! what they are paid is the operator's residual. In a lossless DC market
//! the day-ahead part of it is exactly the congestion rent, Σ over binding
//! constraints of shadow price × flow; the statement reports both figures
//! so the identity is checked on every day settled. The real-time part is
//! the balancing residual of deviations priced at real-time LMPs.
use crate::dispatch::{ClearingRun, Position, PositionKind};
use crate::notices::NoticeCategory;
use crate::registry::require_self_or_operator_hidden;
use crate::{Actor, Market, MarketError, Result, require_operator};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use voltex_model::{MarketKind, MarketSession, Member, SessionState, TradingDay};
use voltex_store::{Entity, Record};

/// One interval of one resource on a statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatementLine {
    pub interval: usize,
    pub resource_id: String,
    pub kind: PositionKind,
    pub da_mw: f64,
    pub da_lmp: f64,
    /// Day-ahead quantity × price × hours (yuan; + received, − paid).
    pub da_amount: f64,
    pub rt_mw: f64,
    pub rt_lmp: f64,
    pub deviation_mw: f64,
    /// Deviation × real-time price × hours (yuan).
    pub rt_amount: f64,
    pub amount: f64,
}

/// The operator's side of a settled day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorResidual {
    /// −Σ member day-ahead amounts (yuan).
    pub day_ahead_residual: f64,
    /// Σ shadow price × flow over binding constraints, day ahead (yuan).
    pub day_ahead_congestion_rent: f64,
    /// −Σ member real-time amounts (yuan).
    pub real_time_residual: f64,
    pub total_residual: f64,
    /// Σ over members of their totals; + total residual = 0.
    pub members_total: f64,
}

/// A member's statement for one day (or, for the operator, the residual).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Statement {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub trading_day: TradingDay,
    pub member_id: String,
    pub member_name: String,
    pub issued_at: DateTime<Utc>,
    pub interval_minutes: f64,
    /// Clearing-run versions settled (day ahead, real time).
    pub day_ahead_run: i64,
    pub real_time_run: Option<i64>,
    pub lines: Vec<StatementLine>,
    pub da_total: f64,
    pub rt_total: f64,
    pub total: f64,
    #[serde(default)]
    pub operator: Option<OperatorResidual>,
}

impl Statement {
    pub fn id_for(day: TradingDay, member_id: &str) -> String {
        format!("{}:{member_id}", day.format("%Y-%m-%d"))
    }
}

impl Entity for Statement {
    const TABLE: &'static str = "statements";
    const NAME: &'static str = "statement";
    const SENSITIVE: bool = true; // settlement amounts
    const OWNED: bool = true;
    fn entity_id(&self) -> String {
        Self::id_for(self.trading_day, &self.member_id)
    }
    fn owner(&self) -> Option<&str> {
        Some(&self.member_id)
    }
}

impl Market {
    /// Settles a trading day (operator): needs the day-ahead session
    /// published and, if the day has a real-time session, that one
    /// published too (without one, real time equals day ahead). Writes one
    /// statement per member and the operator's, moves the sessions to
    /// `settled` and notifies the members. Repeating it after a restart
    /// completes what is missing and duplicates nothing.
    pub async fn settle_day(
        &self,
        actor: &Actor,
        day: TradingDay,
    ) -> Result<Vec<Record<Statement>>> {
        require_operator(actor, "settle")?;
        let da_id = MarketSession::id_for(MarketKind::DayAheadEnergy, day);
        let rt_id = MarketSession::id_for(MarketKind::RealTimeEnergy, day);
        let da_session = self.session(&da_id).await?.value;
        let rt_session = self
            .store
            .get::<MarketSession>(&rt_id)
            .await?
            .map(|r| r.value);
        for s in std::iter::once(&da_session).chain(rt_session.as_ref()) {
            if !matches!(s.state, SessionState::Published | SessionState::Settled) {
                return Err(MarketError::Conflict(format!(
                    "session {} is {}; a day is settled after its results are published",
                    s.id, s.state
                )));
            }
        }
        let da = self.stored_clearing_run(&da_id).await?;
        let rt = match &rt_session {
            Some(_) => Some(self.stored_clearing_run(&rt_id).await?),
            None => None,
        };
        let members = self.store.list::<Member>().await?;
        let name_of = |id: &str| {
            members
                .iter()
                .find(|m| m.value.id == id)
                .map(|m| m.value.name.clone())
                .unwrap_or_default()
        };
        let statements = settle(&da, rt.as_ref(), &name_of);
        let mut out = Vec::new();
        for s in statements {
            out.push(self.store.insert_once(&s).await?.0);
        }
        for s in std::iter::once(&da_session).chain(rt_session.as_ref()) {
            if s.state == SessionState::Published {
                self.transition(actor, &s.id, SessionState::Settled).await?;
            }
        }
        for s in &out {
            if s.value.operator.is_none() {
                self.notify(
                    &s.value.member_id,
                    &format!("statement:{}", s.id),
                    NoticeCategory::StatementIssued,
                    &s.id,
                    format!(
                        "statement for {} issued: total {:.2} yuan",
                        s.value.trading_day, s.value.total
                    ),
                )
                .await?;
            }
        }
        Ok(out)
    }

    /// A member's statement for a day (members: their own only).
    pub async fn statement(
        &self,
        actor: &Actor,
        day: TradingDay,
        member_id: &str,
    ) -> Result<Record<Statement>> {
        let id = Statement::id_for(day, member_id);
        require_self_or_operator_hidden(actor, member_id, "statement", &id)?;
        self.get_or_404::<Statement>("statement", &id).await
    }

    /// Every statement of a day (operator only).
    pub async fn statements(
        &self,
        actor: &Actor,
        day: TradingDay,
    ) -> Result<Vec<Record<Statement>>> {
        require_operator(actor, "read every statement")?;
        Ok(self
            .store
            .list_prefixed::<Statement>(&format!("{}:", day.format("%Y-%m-%d")))
            .await?)
    }
}

/// A resource's day-ahead and real-time positions.
type DayPair<'a> = (Option<&'a Position>, Option<&'a Position>);

/// The statements of a day from its clearing runs (pure; see the module doc).
pub fn settle(
    da: &Record<ClearingRun>,
    rt: Option<&Record<ClearingRun>>,
    name_of: &dyn Fn(&str) -> String,
) -> Vec<Statement> {
    let hours = da.value.input.interval_minutes / 60.0;
    let n = da.value.input.intervals;
    let key = |p: &Position| (p.member_id.clone(), p.resource_id.clone());
    let mut pairs: BTreeMap<(String, String), DayPair> = BTreeMap::new();
    for p in &da.value.positions {
        pairs.entry(key(p)).or_default().0 = Some(p);
    }
    if let Some(rt) = rt {
        for p in &rt.value.positions {
            pairs.entry(key(p)).or_default().1 = Some(p);
        }
    }
    let mut by_member: BTreeMap<String, Vec<StatementLine>> = BTreeMap::new();
    for ((member, resource), (d, r)) in &pairs {
        let kind = d.or(*r).map(|p| p.kind).unwrap_or(PositionKind::Generation);
        let sign = if kind == PositionKind::Generation {
            1.0
        } else {
            -1.0
        };
        for t in 0..n {
            let da_mw = d.map(|p| p.mw[t]).unwrap_or(0.0);
            let da_lmp = d.map(|p| p.lmp[t]).unwrap_or(0.0);
            // Without a real-time pass, real time is the day-ahead schedule.
            let (rt_mw, rt_lmp) = match (rt, r) {
                (Some(_), Some(p)) => (p.mw[t], p.lmp[t]),
                (Some(run), None) => (0.0, bus_lmp(&run.value, t, d.map(|p| p.bus))),
                (None, _) => (da_mw, da_lmp),
            };
            let deviation = rt_mw - da_mw;
            let da_amount = sign * da_mw * da_lmp * hours;
            let rt_amount = sign * deviation * rt_lmp * hours;
            by_member
                .entry(member.clone())
                .or_default()
                .push(StatementLine {
                    interval: t + 1,
                    resource_id: resource.clone(),
                    kind,
                    da_mw,
                    da_lmp,
                    da_amount,
                    rt_mw,
                    rt_lmp,
                    deviation_mw: deviation,
                    rt_amount,
                    amount: da_amount + rt_amount,
                });
        }
    }
    let issued_at = Utc::now();
    let day = da.value.trading_day;
    let mut statements: Vec<Statement> = by_member
        .into_iter()
        .map(|(member, lines)| {
            let da_total: f64 = lines.iter().map(|l| l.da_amount).sum();
            let rt_total: f64 = lines.iter().map(|l| l.rt_amount).sum();
            Statement {
                trading_day: day,
                member_name: name_of(&member),
                member_id: member,
                issued_at,
                interval_minutes: da.value.input.interval_minutes,
                day_ahead_run: da.version,
                real_time_run: rt.map(|r| r.version),
                lines,
                da_total,
                rt_total,
                total: da_total + rt_total,
                operator: None,
            }
        })
        .collect();
    let members_total: f64 = statements.iter().map(|s| s.total).sum();
    let da_residual = -statements.iter().map(|s| s.da_total).sum::<f64>();
    let rt_residual = -statements.iter().map(|s| s.rt_total).sum::<f64>();
    statements.push(Statement {
        trading_day: day,
        member_id: crate::OPERATOR_ID.to_owned(),
        member_name: name_of(crate::OPERATOR_ID),
        issued_at,
        interval_minutes: da.value.input.interval_minutes,
        day_ahead_run: da.version,
        real_time_run: rt.map(|r| r.version),
        lines: vec![],
        da_total: da_residual,
        rt_total: rt_residual,
        total: da_residual + rt_residual,
        operator: Some(OperatorResidual {
            day_ahead_residual: da_residual,
            day_ahead_congestion_rent: congestion_rent(&da.value),
            real_time_residual: rt_residual,
            total_residual: da_residual + rt_residual,
            members_total,
        }),
    });
    statements
}

fn bus_lmp(run: &ClearingRun, t: usize, bus: Option<u32>) -> f64 {
    bus.and_then(|b| {
        run.result.results[t]
            .lmp
            .iter()
            .find(|p| p.bus == b)
            .map(|p| p.lmp_per_mwh)
    })
    .unwrap_or(0.0)
}

/// Σ shadow price × |flow| over binding branches and sections, × hours.
pub fn congestion_rent(run: &ClearingRun) -> f64 {
    let hours = run.input.interval_minutes / 60.0;
    run.result
        .results
        .iter()
        .map(|i| {
            let b: f64 = i
                .branches
                .iter()
                .map(|b| b.shadow_price_per_mwh * b.flow_mw.abs())
                .sum();
            let s: f64 = i
                .sections
                .iter()
                .map(|s| s.shadow_price_per_mwh * s.flow_mw.abs())
                .sum();
            (b + s) * hours
        })
        .sum()
}

/// The statement as CSV, one row per resource and interval, then totals.
pub fn statement_csv(s: &Statement) -> String {
    let mut out = String::from(
        "trading_day,member_id,interval,resource_id,kind,da_mw,da_lmp,da_amount,rt_mw,rt_lmp,deviation_mw,rt_amount,amount\n",
    );
    let day = s.trading_day.format("%Y-%m-%d");
    for l in &s.lines {
        let kind = match l.kind {
            PositionKind::Generation => "generation",
            PositionKind::Consumption => "consumption",
        };
        let _ = writeln!(
            out,
            "{day},{},{},{},{kind},{:.3},{:.2},{:.2},{:.3},{:.2},{:.3},{:.2},{:.2}",
            s.member_id,
            l.interval,
            l.resource_id,
            l.da_mw,
            l.da_lmp,
            l.da_amount,
            l.rt_mw,
            l.rt_lmp,
            l.deviation_mw,
            l.rt_amount,
            l.amount
        );
    }
    let _ = writeln!(
        out,
        "{day},{},total,,,,,{:.2},,,,{:.2},{:.2}",
        s.member_id, s.da_total, s.rt_total, s.total
    );
    out
}

/// A printable HTML page of the statement (self-contained, no scripts).
pub fn statement_html(s: &Statement) -> String {
    let esc = |x: &str| {
        x.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut rows = String::new();
    // Per resource and hour-sized groups would hide detail; print every line.
    for l in &s.lines {
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{:.3}</td><td>{:.2}</td><td>{:.2}</td><td>{:.3}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td></tr>",
            l.interval,
            esc(&l.resource_id),
            l.da_mw,
            l.da_lmp,
            l.da_amount,
            l.deviation_mw,
            l.rt_lmp,
            l.rt_amount,
            l.amount
        );
    }
    let residual = s
        .operator
        .as_ref()
        .map(|o| {
            format!(
                "<h2>Operator residual</h2><table><tr><th>Day-ahead residual</th><td>{:.2}</td></tr>\
                 <tr><th>Day-ahead congestion rent (shadow price × flow)</th><td>{:.2}</td></tr>\
                 <tr><th>Real-time residual</th><td>{:.2}</td></tr>\
                 <tr><th>Members' total</th><td>{:.2}</td></tr></table>",
                o.day_ahead_residual, o.day_ahead_congestion_rent, o.real_time_residual, o.members_total
            )
        })
        .unwrap_or_default();
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Statement {day} {member}</title><style>\
         body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #999;padding:2px 6px;text-align:right}}\
         @media print{{body{{margin:0}}}}</style></head><body>\
         <h1>Settlement statement</h1><p>Trading day {day} · {member} ({name}) · issued {issued}<br>\
         Day-ahead run v{dav}, real-time run {rtv} · amounts in yuan, + received, − paid</p>\
         <table><tr><th>Day-ahead</th><td>{da:.2}</td></tr><tr><th>Real-time deviations</th><td>{rt:.2}</td></tr>\
         <tr><th>Total</th><td><b>{total:.2}</b></td></tr></table>{residual}\
         <h2>Detail</h2><table><tr><th>Interval</th><th>Resource</th><th>DA MW</th><th>DA LMP</th>\
         <th>DA amount</th><th>Deviation MW</th><th>RT LMP</th><th>RT amount</th><th>Amount</th></tr>{rows}</table>\
         </body></html>",
        day = s.trading_day.format("%Y-%m-%d"),
        member = esc(&s.member_id),
        name = esc(&s.member_name),
        issued = s.issued_at.format("%Y-%m-%d %H:%M UTC"),
        dav = s.day_ahead_run,
        rtv = s
            .real_time_run
            .map(|v| format!("v{v}"))
            .unwrap_or_else(|| "none".into()),
        da = s.da_total,
        rt = s.rt_total,
        total = s.total,
    )
}
