//! Market evaluation and surveillance of a cleared day: structure
//! (concentration, residual supply, pivotal suppliers, also on the relief
//! sub-market of every binding constraint), conduct (offers against
//! reference levels, withholding, offer changes), impact (a re-clear with
//! the flagged offers mitigated, on the same network and engine), Lerner
//! indices, the day's statistics, member portraits and the alerts stored
//! with their evidence.
//!
//! The indices are `voltex_analytics::market_power`'s pure functions; here
//! the day is read from the store (the day-ahead run with its complete
//! input, the registry, reference levels, outage notices, earlier days for
//! offer-based references and offer changes) and the alerts are written.
//! Who may see what: evaluation and alerts, the operator (the server lets
//! auditors read them); a portrait, the operator or the member itself.
//! Formulas, thresholds and validation: docs/market-evaluation.md.
pub mod bench;
mod compute;
mod portrait;
mod records;
mod report;

pub use compute::{DayContext, evaluate_run};
pub use portrait::{MemberPortrait, MonthStatistics, SettlementTotals};
pub use records::{
    AlertEvidence, AlertKind, MarketAlert, OfferEvidence, OutageNotice, ReclearEvidence,
    ReferenceBasis, ReferenceLevel,
};
pub use report::{
    evaluation_figure, evaluation_markdown, evaluation_svg, portrait_figure, portrait_svg,
    summary_lines,
};
pub use voltex_analytics::market_power::Thresholds;

use chrono::{Datelike, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use voltex_analytics::market_power::conduct::{
    ConductScreen, OfferChange, PhysicalWithholding, ReferenceCurve,
};
use voltex_analytics::market_power::statistics::PriceDistribution;
use voltex_model::{
    GeneratingUnit, MarketKind, MarketSession, SessionState, TradingDay, Violation, Violations,
};
use voltex_store::Record;

use crate::dispatch::ClearingRun;
use crate::{Actor, Market, MarketError, Result, require_operator};

/// Structure of one interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntervalStructure {
    pub interval: usize,
    pub demand_mw: f64,
    /// Lowest and highest LMP over the buses, per MWh.
    pub lmp_min_per_mwh: f64,
    pub lmp_max_per_mwh: f64,
    pub hhi_capacity: f64,
    pub hhi_energy: f64,
    pub min_rsi: f64,
    /// Suppliers with RSI < 1.
    pub pivotal: Vec<String>,
    /// Suppliers failing the three-pivotal-supplier test on the whole market.
    pub three_pivotal: Vec<String>,
    /// The relief sub-market of each binding line and section.
    pub constraints: Vec<ConstraintTest>,
}

/// The three-pivotal-supplier test on one binding constraint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConstraintTest {
    pub constraint: String,
    pub shadow_price_per_mwh: f64,
    pub relief_demand_mw: f64,
    pub relief_supply_mw: f64,
    /// Suppliers jointly pivotal for the relief.
    pub failing: Vec<String>,
}

/// A supplier's structure over the day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupplierStructure {
    pub member_id: String,
    /// Offered capacity × hours, MWh.
    pub capacity_mwh: f64,
    pub energy_mwh: f64,
    pub min_rsi: f64,
    pub intervals_rsi_below_1: usize,
    pub share_rsi_below_1: f64,
    pub intervals_three_pivotal: usize,
    /// Intervals in which it was jointly pivotal on some binding constraint.
    pub intervals_relief_pivotal: usize,
}

/// A unit's conduct over the day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitConduct {
    pub unit_id: String,
    pub member_id: String,
    /// `None`: no registered cost and no competitive offers to learn from.
    pub reference_basis: Option<ReferenceBasis>,
    pub reference: Option<ReferenceCurve>,
    /// 1-based intervals whose offer failed the conduct screen.
    pub failed_intervals: Vec<usize>,
    pub flagged_mwh: f64,
    pub max_excess_per_mwh: f64,
    pub screens: Vec<(usize, ConductScreen)>,
    pub economic_withholding_intervals: Vec<usize>,
    pub economic_withholding_max_share: f64,
    pub physical: PhysicalWithholding,
    pub offer_change: Option<OfferChange>,
}

/// A unit that crossed both the conduct and the impact thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MitigationEligible {
    pub unit_id: String,
    pub member_id: String,
    pub intervals: Vec<usize>,
}

/// The price change at one bus in the impact re-clear.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusImpact {
    pub bus: u32,
    pub mean_change_per_mwh: f64,
    pub max_fall_per_mwh: f64,
}

/// The impact re-clear (empty when no unit failed conduct).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImpactResult {
    pub reclear_run: bool,
    pub mitigated_units: Vec<String>,
    pub mean_lmp_change_per_mwh: f64,
    pub max_lmp_fall_per_mwh: f64,
    pub bus_changes: Vec<BusImpact>,
    /// Σ load × LMP × hours, ¥, as cleared and with offers mitigated.
    pub consumer_cost_before: f64,
    pub consumer_cost_after: f64,
    pub consumer_cost_change: f64,
    /// LMP per interval and bus (network order) in the re-clear.
    pub mitigated_lmp: Vec<Vec<f64>>,
    pub eligible: Vec<MitigationEligible>,
}

/// Lerner index of a unit in the intervals it was marginal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitLerner {
    pub unit_id: String,
    pub member_id: String,
    pub intervals_marginal: usize,
    pub mean: Option<f64>,
    pub max: Option<f64>,
}

/// Statistics of a cleared day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DayStatistics {
    pub generation_mwh: f64,
    pub served_mwh: f64,
    pub shortfall_mwh: f64,
    /// LMPs over buses and intervals; the mean is load-weighted.
    pub prices: PriceDistribution,
    /// Mean of real-time minus day-ahead LMP over buses and intervals.
    pub da_rt_spread_mean_per_mwh: Option<f64>,
    pub da_rt_spread_mean_abs_per_mwh: Option<f64>,
    /// Σ shadow price × flow × hours over binding constraints, ¥.
    pub congestion_rent: f64,
    /// Make-whole need: Σ over units of max(0, as-offered cost − revenue), ¥.
    pub uplift: f64,
}

/// The evaluation of one cleared day-ahead session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub session_id: String,
    pub trading_day: TradingDay,
    /// The clearing input's fingerprint the evaluation read.
    pub run_fingerprint: String,
    pub intervals: usize,
    pub interval_minutes: f64,
    pub thresholds: Thresholds,
    pub structure: Vec<IntervalStructure>,
    pub suppliers: Vec<SupplierStructure>,
    pub conduct: Vec<UnitConduct>,
    pub impact: ImpactResult,
    pub lerner: Vec<UnitLerner>,
    pub statistics: DayStatistics,
    /// Ids of the alerts stored.
    pub alerts: Vec<String>,
}

fn day_id(day: TradingDay) -> String {
    day.format("%Y-%m-%d").to_string()
}

impl Market {
    /// The day-ahead run of a day, refused with a clear error when the day
    /// has no session or is not cleared yet.
    pub(crate) async fn cleared_day_ahead(&self, day: TradingDay) -> Result<ClearingRun> {
        let id = MarketSession::id_for(MarketKind::DayAheadEnergy, day);
        let session = self
            .store
            .get::<MarketSession>(&id)
            .await?
            .ok_or_else(|| MarketError::NotFound {
                what: "day-ahead session",
                id: id.clone(),
            })?
            .value;
        if matches!(
            session.state,
            SessionState::Scheduled | SessionState::Open | SessionState::Closed
        ) {
            return Err(MarketError::Conflict(format!(
                "trading day {} is not cleared yet: session {id} is {}; evaluation reads a cleared day",
                day_id(day),
                session.state
            )));
        }
        Ok(self.stored_clearing_run(&id).await?.value)
    }

    /// What the evaluation of `run` knows besides it.
    async fn day_context(&self, run: &ClearingRun, t: &Thresholds) -> Result<DayContext> {
        let day = run.trading_day;
        let units: Vec<GeneratingUnit> = self
            .store
            .list::<GeneratingUnit>()
            .await?
            .into_iter()
            .map(|r| r.value)
            .collect();
        let mut ctx = DayContext {
            owners: units
                .iter()
                .map(|u| (u.id.clone(), u.member_id.clone()))
                .collect(),
            registered_mw: units.iter().map(|u| (u.id.clone(), u.pmax_mw)).collect(),
            price_cap: self
                .parameters(MarketKind::DayAheadEnergy)
                .await?
                .value
                .price_cap,
            ..DayContext::default()
        };
        for p in &run.positions {
            ctx.owners
                .entry(p.resource_id.clone())
                .or_insert_with(|| p.member_id.clone());
        }
        for r in self.store.list::<ReferenceLevel>().await? {
            ctx.references
                .insert(r.value.unit_id.clone(), r.value.curve());
        }
        for r in self
            .store
            .list_prefixed::<OutageNotice>(&format!("{}:", day_id(day)))
            .await?
        {
            *ctx.outages.entry(r.value.unit_id).or_default() += r.value.outage_mw;
        }
        for back in 1..=i64::from(t.reference_lookback_days) {
            let Some(d) = day.checked_sub_signed(chrono::Duration::days(back)) else {
                break;
            };
            let id = MarketSession::id_for(MarketKind::DayAheadEnergy, d);
            let Some(prev) = self.store.get::<ClearingRun>(&id).await? else {
                continue;
            };
            if back == 1 {
                ctx.previous_offers = compute::day_offers(&prev.value);
            }
            for (unit, samples) in compute::competitive_samples(&prev.value, &ctx.owners) {
                ctx.history.entry(unit).or_default().extend(samples);
            }
        }
        let rt = MarketSession::id_for(MarketKind::RealTimeEnergy, day);
        ctx.real_time = self.store.get::<ClearingRun>(&rt).await?.map(|r| r.value);
        Ok(ctx)
    }

    /// Evaluates a cleared day (operator): structure, conduct, impact
    /// re-clear, Lerner indices and statistics; stores an alert with its
    /// evidence for every unit that failed a screen (a re-run appends new
    /// versions) and returns the evaluation with the alerts' ids.
    pub async fn evaluate_day(
        &self,
        actor: &Actor,
        day: TradingDay,
        thresholds: &Thresholds,
    ) -> Result<Evaluation> {
        require_operator(actor, "evaluate a trading day")?;
        let run = self.cleared_day_ahead(day).await?;
        let ctx = self.day_context(&run, thresholds).await?;
        let t = thresholds.clone();
        let (run, evaluation) = tokio::task::spawn_blocking(move || {
            let e = evaluate_run(&run, &ctx, &t);
            (run, e)
        })
        .await
        .map_err(|e| MarketError::Clearing(format!("evaluation task failed: {e}")))?;
        let mut evaluation = evaluation?;
        for alert in report::alerts(&run, &evaluation, Utc::now()) {
            let id = voltex_store::Entity::entity_id(&alert);
            match self.store.get::<MarketAlert>(&id).await? {
                Some(prev) => self.store.append(&alert, prev.version).await?,
                None => self.store.insert(&alert).await?,
            };
            evaluation.alerts.push(id);
        }
        Ok(evaluation)
    }

    /// The alerts of a day (operator; auditors through the server).
    pub async fn alerts(&self, actor: &Actor, day: TradingDay) -> Result<Vec<Record<MarketAlert>>> {
        require_operator(actor, "read market alerts")?;
        Ok(self
            .store
            .list_prefixed::<MarketAlert>(&format!("{}:", day_id(day)))
            .await?)
    }

    /// Registers (or replaces) a unit's cost-based reference level (operator).
    pub async fn register_reference_level(
        &self,
        actor: &Actor,
        mut level: ReferenceLevel,
    ) -> Result<Record<ReferenceLevel>> {
        require_operator(actor, "register reference levels")?;
        let unit = self
            .get_or_404::<GeneratingUnit>("generating unit", &level.unit_id)
            .await?
            .value;
        let mut v = Violations::default();
        if level.steps.is_empty() {
            v.push(Violation::new(
                "steps",
                "not_empty",
                0,
                "a reference level needs at least one step",
            ));
        }
        for (k, s) in level.steps.iter().enumerate() {
            if !(s.quantity_mw.is_finite() && s.quantity_mw > 0.0) {
                v.push(Violation::new(
                    format!("steps[{k}].quantity_mw"),
                    "positive",
                    s.quantity_mw,
                    "each step must cover a positive number of MW",
                ));
            }
            if !s.price_per_mwh.is_finite() {
                v.push(Violation::new(
                    format!("steps[{k}].price_per_mwh"),
                    "finite",
                    s.price_per_mwh,
                    "the reference price must be a number",
                ));
            }
        }
        v.into_result().map_err(MarketError::Invalid)?;
        level.member_id = unit.member_id;
        Ok(
            match self.store.get::<ReferenceLevel>(&level.unit_id).await? {
                Some(prev) => self.store.append(&level, prev.version).await?,
                None => self.store.insert(&level).await?,
            },
        )
    }

    /// Records an outage notice for a unit and day (the operator or the
    /// unit's owner); a new version replaces the day's notice.
    pub async fn notice_outage(
        &self,
        actor: &Actor,
        mut notice: OutageNotice,
    ) -> Result<Record<OutageNotice>> {
        let unit = self
            .get_or_404::<GeneratingUnit>("generating unit", &notice.unit_id)
            .await?
            .value;
        if !actor.is_operator() && actor.member_id != unit.member_id {
            return Err(MarketError::Forbidden(format!(
                "only the operator or the owner of unit {} may notice its outage; {} is neither",
                unit.id, actor.member_id
            )));
        }
        if !(notice.outage_mw.is_finite() && (0.0..=unit.pmax_mw).contains(&notice.outage_mw)) {
            return Err(MarketError::Invalid(Violations::one(
                "outage_mw",
                "within_registered_capacity",
                notice.outage_mw,
                format!(
                    "an outage takes between 0 and the unit's {} MW",
                    unit.pmax_mw
                ),
            )));
        }
        notice.member_id = unit.member_id;
        let id = voltex_store::Entity::entity_id(&notice);
        Ok(match self.store.get::<OutageNotice>(&id).await? {
            Some(prev) => self.store.append(&notice, prev.version).await?,
            None => self.store.insert(&notice).await?,
        })
    }

    /// The statistics of a cleared day (any signed-in member: aggregates only).
    pub async fn day_statistics(&self, day: TradingDay) -> Result<DayStatistics> {
        let run = self.cleared_day_ahead(day).await?;
        let rt = self
            .store
            .get::<ClearingRun>(&MarketSession::id_for(MarketKind::RealTimeEnergy, day))
            .await?
            .map(|r| r.value);
        let ctx = DayContext {
            real_time: rt,
            ..DayContext::default()
        };
        Ok(compute::day_statistics(&run, &ctx))
    }

    /// The statistics of every cleared day of a month, and their totals.
    pub async fn month_statistics(&self, year: i32, month: u32) -> Result<MonthStatistics> {
        if !(1..=12).contains(&month) {
            return Err(MarketError::Invalid(Violations::one(
                "month",
                "calendar_month",
                month,
                "a month is 1 to 12",
            )));
        }
        let mut days: Vec<TradingDay> = self
            .sessions()
            .await?
            .into_iter()
            .map(|s| s.value)
            .filter(|s| {
                s.market == MarketKind::DayAheadEnergy
                    && s.trading_day.year() == year
                    && s.trading_day.month() == month
                    && matches!(
                        s.state,
                        SessionState::Cleared | SessionState::Published | SessionState::Settled
                    )
            })
            .map(|s| s.trading_day)
            .collect();
        days.sort();
        let mut out = Vec::new();
        for d in days {
            out.push((d, self.day_statistics(d).await?));
        }
        Ok(portrait::month(year, month, out))
    }

    /// A member's portrait for a day: the operator may read anyone's, a
    /// member only its own.
    pub async fn member_portrait(
        &self,
        actor: &Actor,
        member_id: &str,
        day: TradingDay,
    ) -> Result<MemberPortrait> {
        if !actor.is_operator() && actor.member_id != member_id {
            return Err(MarketError::Forbidden(format!(
                "a member reads only its own portrait; {} asked for {member_id}",
                actor.member_id
            )));
        }
        let run = self.cleared_day_ahead(day).await?;
        let units: Vec<GeneratingUnit> = self
            .store
            .list::<GeneratingUnit>()
            .await?
            .into_iter()
            .map(|r| r.value)
            .collect();
        let owners: HashMap<String, String> = units
            .iter()
            .map(|u| (u.id.clone(), u.member_id.clone()))
            .collect();
        let alerts = self
            .store
            .list_owned_prefixed::<MarketAlert>(member_id, &format!("{}:", day_id(day)))
            .await?
            .len();
        let statement = self
            .store
            .get::<crate::settlement::Statement>(&crate::settlement::Statement::id_for(
                day, member_id,
            ))
            .await?
            .map(|s| SettlementTotals {
                day_ahead: s.value.da_total,
                real_time: s.value.rt_total,
                total: s.value.total,
            });
        Ok(portrait::portrait(
            &run, member_id, &units, &owners, alerts, statement,
        ))
    }
}
