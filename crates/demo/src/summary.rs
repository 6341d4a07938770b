//! What the demo day did, for printing (and as JSON with `--json`): the
//! members and units, the declarations locked at gate closure, the hourly
//! balance of offers and bids, how each session cleared, and the statements.
use crate::declarations::Declared;
use crate::registration::Registered;
use serde::Serialize;
use voltex_market::dispatch::ClearingRun;
use voltex_market::settlement::OperatorResidual;
use voltex_market::{Actor, Market};
use voltex_model::{DeclarationBody, GeneratingUnit, MemberKind, MemberStatus, SessionState};
use voltex_store::StoredDeclaration;

/// One row of the summary's declaration table.
#[derive(Debug, Clone, Serialize)]
pub struct DeclarationLine {
    pub member_id: String,
    pub kind: String,
    pub subject: String,
    pub version: i64,
    pub min_price: Option<f64>,
    pub max_price: Option<f64>,
    pub peak_mw: f64,
}

/// Hourly totals: offered capacity against bid demand.
#[derive(Debug, Clone, Serialize)]
pub struct HourBalance {
    pub label: String,
    pub offered_mw: f64,
    pub bid_mw: f64,
}

/// What the demo did, for printing.
#[derive(Debug, Clone, Serialize)]
pub struct DemoSummary {
    pub session_id: String,
    pub session_state: SessionState,
    pub intervals: usize,
    pub members: Vec<(String, MemberKind, MemberStatus)>,
    pub units: Vec<GeneratingUnit>,
    pub declarations: Vec<DeclarationLine>,
    pub refused_example: Vec<String>,
    pub hours: Vec<HourBalance>,
    pub rows_stored: Vec<(&'static str, i64)>,
    /// The held-then-rejected revision.
    pub review_example: Vec<String>,
    /// Day-ahead and real-time clearing.
    pub clearing: Vec<SessionOutcome>,
    pub statements: Vec<StatementSummary>,
    /// Items published for the day-ahead session: (public, restricted).
    pub publications: (usize, usize),
    pub notifications: i64,
    /// The frequency-regulation auction in one line.
    pub regulation: String,
}

impl DemoSummary {
    /// Active members other than the operator: the ones that trade.
    pub fn active_participants(&self) -> Vec<String> {
        self.members
            .iter()
            .filter(|(_, kind, status)| {
                *status == MemberStatus::Active && *kind != MemberKind::MarketOperator
            })
            .map(|(id, _, _)| id.clone())
            .collect()
    }
}

/// How one session cleared.
#[derive(Debug, Clone, Serialize)]
pub struct SessionOutcome {
    pub session_id: String,
    pub run_version: i64,
    pub fingerprint: String,
    pub objective: f64,
    pub min_lmp: f64,
    pub mean_lmp: f64,
    pub max_lmp: f64,
    /// Constraints binding in at least one interval.
    pub binding: Vec<String>,
    pub binding_intervals: usize,
    pub bus_mean_lmp: Vec<(u32, f64)>,
    pub defaults: Vec<String>,
    pub warnings: Vec<String>,
}

/// One member's statement totals (yuan), or the operator's residual.
#[derive(Debug, Clone, Serialize)]
pub struct StatementSummary {
    pub member_id: String,
    pub da_total: f64,
    pub rt_total: f64,
    pub total: f64,
    pub residual: Option<OperatorResidual>,
}

/// The day-ahead session as its gate closed: members, the locked
/// declarations and the hourly balance (clearing and settlement fill in the
/// rest later).
pub async fn at_gate_closure(
    market: &Market,
    op: &Actor,
    reg: &Registered,
    declared: &Declared,
) -> anyhow::Result<DemoSummary> {
    let session_id = &declared.session.id;
    let n = declared.intervals;
    let session = market.session(session_id).await?.value;
    let members = market
        .members(op)
        .await?
        .into_iter()
        .map(|r| (r.value.id, r.value.kind, r.value.status))
        .collect();
    let decls = market.declarations(op, session_id).await?;
    let declarations = decls.iter().map(declaration_line).collect();
    let params = market.parameters(session.market).await?.value;
    let cal = params.calendar();
    let per_hour = (60 / params.interval_minutes).max(1) as usize;
    let mut hours = Vec::new();
    for h in (0..n).step_by(per_hour) {
        let span = h..(h + per_hour).min(n);
        let avg = |f: &dyn Fn(&StoredDeclaration, usize) -> f64| -> f64 {
            let len = span.len() as f64;
            span.clone()
                .map(|t| decls.iter().map(|d| f(d, t)).sum::<f64>())
                .sum::<f64>()
                / len
        };
        hours.push(HourBalance {
            label: cal.label(cal.interval(session.trading_day, h)?)?,
            offered_mw: avg(&|d, t| match &d.body {
                DeclarationBody::EnergyOffer { intervals, .. } => {
                    intervals[t].segments.iter().map(|s| s.quantity_mw).sum()
                }
                _ => 0.0,
            }),
            bid_mw: avg(&|d, t| match &d.body {
                DeclarationBody::DemandBid { intervals, .. } => intervals[t].quantity_mw,
                _ => 0.0,
            }),
        });
    }
    Ok(DemoSummary {
        regulation: String::new(),
        review_example: declared.review_example.clone(),
        clearing: vec![],
        statements: vec![],
        publications: (0, 0),
        notifications: 0,
        session_id: session.id,
        session_state: session.state,
        intervals: n,
        members,
        units: reg.units.clone(),
        declarations,
        refused_example: declared.refused_example.clone(),
        hours,
        rows_stored: market.store().row_counts().await?,
    })
}

fn declaration_line(d: &StoredDeclaration) -> DeclarationLine {
    let (prices, peak): (Vec<f64>, f64) = match &d.body {
        DeclarationBody::EnergyOffer { intervals, .. } => (
            intervals
                .iter()
                .flat_map(|i| i.segments.iter().map(|s| s.price))
                .collect(),
            intervals
                .iter()
                .map(|i| i.segments.iter().map(|s| s.quantity_mw).sum::<f64>())
                .fold(0.0, f64::max),
        ),
        DeclarationBody::DemandBid { intervals, .. } => (
            intervals
                .iter()
                .flat_map(|i| i.segments.iter().map(|s| s.price))
                .collect(),
            intervals.iter().map(|i| i.quantity_mw).fold(0.0, f64::max),
        ),
        DeclarationBody::DailyExtras(x) => (vec![], x.max_generating_capacity_mw),
        DeclarationBody::FrequencyRegulationOffer { intervals, .. } => (
            intervals.iter().map(|i| i.mileage_price).collect(),
            intervals.iter().map(|i| i.capacity_mw).fold(0.0, f64::max),
        ),
        DeclarationBody::PeakRegulationOffer { intervals, .. } => (
            intervals.iter().map(|i| i.price).collect(),
            intervals.iter().map(|i| i.capacity_mw).fold(0.0, f64::max),
        ),
    };
    DeclarationLine {
        member_id: d.member_id.clone(),
        kind: d.kind.to_string(),
        subject: d.subject.clone(),
        version: d.version,
        min_price: prices.iter().copied().reduce(f64::min),
        max_price: prices.iter().copied().reduce(f64::max),
        peak_mw: peak,
    }
}

/// How a clearing run came out: prices, binding constraints, defaults.
pub fn session_outcome(run: &ClearingRun, version: i64) -> SessionOutcome {
    let s = run.result.summary();
    let mut binding: Vec<String> = Vec::new();
    for i in &run.result.results {
        for b in i.branches.iter().filter(|b| b.binding) {
            let name = format!("branch {}-{}", b.from_bus, b.to_bus);
            if !binding.contains(&name) {
                binding.push(name);
            }
        }
        for sec in i.sections.iter().filter(|s| s.binding) {
            if !binding.contains(&sec.name) {
                binding.push(sec.name.clone());
            }
        }
    }
    let mut buses: Vec<u32> = run.result.results[0].lmp.iter().map(|p| p.bus).collect();
    buses.sort();
    let bus_mean_lmp = buses
        .iter()
        .map(|b| {
            let v: Vec<f64> = run
                .result
                .results
                .iter()
                .flat_map(|i| i.lmp.iter().filter(|p| p.bus == *b).map(|p| p.lmp_per_mwh))
                .collect();
            (*b, v.iter().sum::<f64>() / v.len().max(1) as f64)
        })
        .collect();
    SessionOutcome {
        session_id: run.session_id.clone(),
        run_version: version,
        fingerprint: run.fingerprint.clone(),
        objective: s.objective,
        min_lmp: s.min_lmp,
        mean_lmp: s.mean_lmp,
        max_lmp: s.max_lmp,
        binding,
        binding_intervals: s.binding_branch_intervals,
        bus_mean_lmp,
        defaults: run
            .defaults
            .iter()
            .map(|d| format!("{} ({:?})", d.unit_id, d.rule))
            .collect(),
        warnings: run.warnings.clone(),
    }
}
