//! The demo market: a whole trading day on the bundled PJM 5-bus case, so a
//! newcomer sees every part working: registration, the day-ahead window
//! (a refused offer, a revision, a held-and-rejected one), gate closure,
//! clearing, publication, a real-time pass with metered deviations and
//! default offers, and two-settlement statements that balance. It is an ordinary client of the
//! market service — every step below goes through the same rules a member
//! or the operator meets over the API.
//!
//! Who takes part: the operator; the five generators of the case, each owned
//! by its own generation company; two retailers, a large consumer and a load
//! aggregator buying the case's bus loads. Offers come from the case's cost
//! curves (five equal-width segments between pmin and pmax priced at the
//! marginal cost of each segment's midpoint, see docs/clearing.md), converted
//! from the case's $/MWh to yuan/MWh and given a bidding markup that rises 3 %
//! per segment (the rising incremental heat rate of a thermal unit). Demand
//! follows a real daily load curve (ISO-NE, 2017-01-09, data/load_shapes),
//! resampled to the market's intervals.
use crate::dispatch::{ClearOptions, ClearingRun, MeteredLoad, MeteredResource};
use crate::settlement::OperatorResidual;
use crate::{Actor, Market, MarketError, NewMember};
use chrono::NaiveDate;
use serde::Serialize;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use voltex_clearing::input::steps_from_cost;
use voltex_clearing::load_shape::{read_load_shape, resample};
use voltex_formats::matpower::{CaseGenerator, MatpowerCase};
use voltex_model::{
    DailyExtras, DeclarationBody, DemandBidInterval, EnergyOfferInterval, GeneratingUnit,
    LoadResource, MarketKind, MemberKind, MemberStatus, OfferSegment, RegulationInterval,
    SessionState, Technology,
};
use voltex_store::StoredDeclaration;

/// Conversion of the case's dollar costs into the market's yuan (approximate
/// 2026 exchange rate; the demo's prices are illustrative, not a forecast).
pub const YUAN_PER_DOLLAR: f64 = 7.1;
/// Segments per offer curve.
pub const OFFER_SEGMENTS: usize = 5;
/// Price markup added per segment above the first.
pub const MARKUP_PER_SEGMENT: f64 = 0.03;

/// The five generation groups that own the case's five generators.
const GENCOS: [(&str, &str); 5] = [
    ("huaneng", "Huaneng Demo Generation Co."),
    ("datang", "Datang Demo Generation Co."),
    ("huadian", "Huadian Demo Generation Co."),
    ("guodian", "Guodian Demo Generation Co."),
    ("spic", "SPIC Demo Generation Co."),
];

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo input {path}: {message}")]
    Input { path: String, message: String },
    #[error("the demo's market step failed: {0}")]
    Market(#[from] MarketError),
}

/// Where the demo reads its inputs and which day it trades.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub case_path: PathBuf,
    pub load_shape_path: PathBuf,
    pub trading_day: NaiveDate,
}

impl DemoOptions {
    /// The bundled PJM 5-bus case and ISO-NE load shape, trading `day`.
    pub fn bundled(day: NaiveDate) -> Self {
        let data = voltex_formats::datadir::bundled_data_dir();
        Self {
            case_path: data.join("cases/pglib_opf_case5_pjm.m"),
            load_shape_path: data.join("load_shapes/isone_2017-01-09.json"),
            trading_day: day,
        }
    }
}

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

/// How the demo's members send their declarations. Without one the demo
/// calls the market directly; `voltex demo` passes one that signs each
/// declaration with the member's certificate and accepts it through the
/// server's signed-declaration path (which this crate cannot depend on).
pub trait DeclarationChannel: Send + Sync {
    fn submit<'a>(
        &'a self,
        market: &'a Market,
        actor: &'a Actor,
        session_id: &'a str,
        body: DeclarationBody,
    ) -> Pin<Box<dyn Future<Output = Result<StoredDeclaration, MarketError>> + Send + 'a>>;
}

/// Sends one declaration through `channel`, or straight to the market.
async fn send(
    market: &Market,
    channel: Option<&dyn DeclarationChannel>,
    actor: &Actor,
    session_id: &str,
    body: DeclarationBody,
) -> Result<StoredDeclaration, MarketError> {
    match channel {
        Some(c) => c.submit(market, actor, session_id, body).await,
        None => market.submit_declaration(actor, session_id, body).await,
    }
}

/// Runs the demo's declaration day against `market` (which should be empty).
pub async fn run(market: &Market, opts: &DemoOptions) -> Result<DemoSummary, DemoError> {
    run_with(market, opts, None).await
}

/// [`run`], with the members' declarations sent through `channel`.
pub async fn run_with(
    market: &Market,
    opts: &DemoOptions,
    channel: Option<&dyn DeclarationChannel>,
) -> Result<DemoSummary, DemoError> {
    let case = read_case(&opts.case_path)?;
    let shape = read_load_shape(&opts.load_shape_path).map_err(|e| DemoError::Input {
        path: opts.load_shape_path.display().to_string(),
        message: e.to_string(),
    })?;
    let op = market.operator().await?;

    let case_text =
        std::fs::read_to_string(&opts.case_path).map_err(|e| input_err(&opts.case_path, e))?;
    market
        .import_matpower(&op, &case_text, Some("pjm5"))
        .await?;

    // Members: register (pending), then the operator approves.
    let mut applicants: Vec<NewMember> = GENCOS
        .iter()
        .take(case.generators.len())
        .map(|(id, name)| new_member(id, name, MemberKind::Generator))
        .collect();
    applicants.push(new_member(
        "retail-east",
        "East Power Retail Co.",
        MemberKind::Retailer,
    ));
    applicants.push(new_member(
        "retail-west",
        "West Power Retail Co.",
        MemberKind::Retailer,
    ));
    applicants.push(new_member(
        "steelworks",
        "Demo Special Steel Works",
        MemberKind::LargeConsumer,
    ));
    applicants.push(new_member(
        "aggregator",
        "Demo Virtual Power Plant",
        MemberKind::LoadAggregator,
    ));
    for a in applicants {
        let id = a.id.clone();
        market.register_member(a).await?;
        market
            .set_member_status(&op, &id, MemberStatus::Active)
            .await?;
    }

    // Units: one per case generator, owned by its generation company.
    let mut units = Vec::new();
    for (k, g) in case.generators.iter().enumerate() {
        let owner = GENCOS[k % GENCOS.len()].0;
        let unit = unit_from_case(k, owner, g);
        let owner_actor = market.actor(owner).await?;
        units.push(market.register_unit(&owner_actor, unit).await?.value);
    }

    // Load resources: the case's loaded buses shared among the buyers.
    let loaded: Vec<(u32, f64)> = case
        .network
        .buses
        .iter()
        .filter(|b| b.pd_mw > 0.0)
        .map(|b| (b.id, b.pd_mw))
        .collect();
    let buyers = buyer_plan(&loaded);
    for b in &buyers {
        let actor = market.actor(&b.member_id).await?;
        market
            .register_load_resource(
                &actor,
                LoadResource {
                    id: b.resource_id.clone(),
                    member_id: b.member_id.clone(),
                    name: format!("{} at bus {}", b.member_id, b.bus),
                    bus: b.bus,
                    controllable_share: b.controllable_share,
                    peak_mw: b.base_mw * 1.1,
                },
            )
            .await?;
    }

    // Tomorrow's day-ahead session, opened by the operator.
    let session = market
        .create_session(&op, MarketKind::DayAheadEnergy, opts.trading_day)
        .await?
        .value;
    market
        .advance_session(&op, &session.id, SessionState::Open)
        .await?;
    let params = market.parameters(MarketKind::DayAheadEnergy).await?.value;
    let n = params.calendar().interval_count(opts.trading_day);
    let factors = resample(&shape, n);

    // Offers, daily extras.
    let mut refused_example = Vec::new();
    for (k, (g, unit)) in case.generators.iter().zip(&units).enumerate() {
        let actor = market.actor(&unit.member_id).await?;
        let segments = offer_curve(g, unit);
        if k == 0 {
            // First a mistaken submission (a typo in the top price), refused
            // with every broken rule named; nothing is stored.
            let mut typo = segments.clone();
            if let Some(last) = typo.last_mut() {
                last.price *= 100.0;
            }
            let body = energy_offer(&unit.id, &typo, n);
            if let Err(MarketError::Invalid(v)) =
                send(market, channel, &actor, &session.id, body).await
            {
                refused_example = refusal_lines(&v);
            }
        }
        send(
            market,
            channel,
            &actor,
            &session.id,
            energy_offer(&unit.id, &segments, n),
        )
        .await?;
        send(
            market,
            channel,
            &actor,
            &session.id,
            DeclarationBody::DailyExtras(DailyExtras {
                unit_id: unit.id.clone(),
                expected_grid_connection: None,
                max_generating_capacity_mw: unit.pmax_mw,
                heat_supply_flow_t_per_h: None,
                emergency_min_mw: unit.emergency_min_mw,
            }),
        )
        .await?;
    }
    // The first company revises its offer (+2 %): the new version supersedes.
    let revised_unit = &units[0];
    let mut revised = offer_curve(&case.generators[0], revised_unit);
    for s in &mut revised {
        s.price = round2(s.price * 1.02);
    }
    let first_actor = market.actor(&revised_unit.member_id).await?;
    send(
        market,
        channel,
        &first_actor,
        &session.id,
        energy_offer(&revised_unit.id, &revised, n),
    )
    .await?;

    // Demand bids following the load curve.
    for b in &buyers {
        let actor = market.actor(&b.member_id).await?;
        let intervals = factors
            .iter()
            .map(|f| demand_interval(b, b.base_mw * f))
            .collect();
        send(
            market,
            channel,
            &actor,
            &session.id,
            DeclarationBody::DemandBid {
                resource_id: Some(b.resource_id.clone()),
                intervals,
            },
        )
        .await?;
    }

    // An implausible revision: the second company doubles its prices. It is
    // stored but held; the operator rejects it with a reason, so the
    // company's previous offer stands.
    let mut review_example = Vec::new();
    if let (Some(g), Some(unit)) = (case.generators.get(1), units.get(1)) {
        let actor = market.actor(&unit.member_id).await?;
        let mut doubled = offer_curve(g, unit);
        for s in &mut doubled {
            s.price = round2(s.price * 2.0);
        }
        let held = send(
            market,
            channel,
            &actor,
            &session.id,
            energy_offer(&unit.id, &doubled, n),
        )
        .await?;
        for r in market.pending_reviews(&op).await? {
            review_example.push(format!("held: {} — {}", r.id, r.value.finding));
        }
        market
            .decide_review(
                &op,
                &held.key,
                held.version,
                false,
                Some("price doubling not supported by fuel costs; previous offer stands".into()),
            )
            .await?;
        review_example.push(format!(
            "rejected: {}#{} (member notified)",
            held.key, held.version
        ));
    }

    // Gate closure: the latest versions are locked.
    market.close_gate(&op, &session.id).await?;
    let da_summary = summarise(market, &op, &session.id, n, units, refused_example).await?;

    // Day-ahead clearing and market release.
    let da_run = market
        .clear_session(&op, &session.id, &ClearOptions::default())
        .await?
        .energy();
    market.publish_session(&op, &session.id).await?;

    // Frequency regulation: each company offers a tenth of its unit's
    // capacity at a mileage price rising with the unit's marginal cost; the
    // auction covers 3 % of the day-ahead load.
    let fr = market
        .create_session(&op, MarketKind::FrequencyRegulation, opts.trading_day)
        .await?
        .value;
    market
        .advance_session(&op, &fr.id, SessionState::Open)
        .await?;
    for (k, unit) in da_summary.units.iter().enumerate() {
        let actor = market.actor(&unit.member_id).await?;
        send(
            market,
            channel,
            &actor,
            &fr.id,
            DeclarationBody::FrequencyRegulationOffer {
                unit_id: unit.id.clone(),
                intervals: vec![
                    RegulationInterval {
                        capacity_mw: round2(unit.pmax_mw * 0.1),
                        mileage_price: 6.0 + k as f64,
                    };
                    n
                ],
            },
        )
        .await?;
    }
    market.close_gate(&op, &fr.id).await?;
    let regulation = match market
        .clear_session(&op, &fr.id, &ClearOptions::default())
        .await?
    {
        crate::dispatch::ClearingOutcome::Regulation(r) => {
            let i = &r.value.intervals;
            let mean = i.iter().map(|x| x.clearing_price).sum::<f64>() / i.len().max(1) as f64;
            let req = i.iter().map(|x| x.requirement_mw).fold(0.0, f64::max);
            format!(
                "{}: peak requirement {req:.1} MW, mean mileage price {mean:.2} yuan/MW, {} interval(s) short",
                r.value.session_id,
                i.iter().filter(|x| x.shortfall_mw > 0.0).count()
            )
        }
        crate::dispatch::ClearingOutcome::Energy(_) => String::new(),
    };
    market.publish_session(&op, &fr.id).await?;

    // Real time: one company re-offers its unit 5 % dearer; every other
    // unit's day-ahead curve stands in by the default rule. Metered load
    // deviates from the day-ahead bids by a few per cent.
    let rt = market
        .create_session(&op, MarketKind::RealTimeEnergy, opts.trading_day)
        .await?
        .value;
    market
        .advance_session(&op, &rt.id, SessionState::Open)
        .await?;
    if let (Some(g), Some(unit)) = (case.generators.last(), da_summary.units.last()) {
        let actor = market.actor(&unit.member_id).await?;
        let mut dearer = offer_curve(g, unit);
        for s in &mut dearer {
            s.price = round2(s.price * 1.05);
        }
        send(
            market,
            channel,
            &actor,
            &rt.id,
            energy_offer(&unit.id, &dearer, n),
        )
        .await?;
    }
    market.close_gate(&op, &rt.id).await?;
    let metered = MeteredLoad {
        trading_day: opts.trading_day,
        resources: buyers
            .iter()
            .enumerate()
            .map(|(k, b)| MeteredResource {
                resource_id: b.resource_id.clone(),
                mw: factors
                    .iter()
                    .enumerate()
                    .map(|(t, f)| round2(b.base_mw * f * metered_deviation(k, t, n)))
                    .collect(),
            })
            .collect(),
    };
    market.set_metered_load(&op, metered).await?;
    let rt_run = market
        .clear_session(&op, &rt.id, &ClearOptions::default())
        .await?
        .energy();
    market.publish_session(&op, &rt.id).await?;

    // Settlement of the day.
    let statements = market.settle_day(&op, opts.trading_day).await?;
    let public = market.publications(None, &session.id).await?.len();
    let private = market.publications(Some(&op), &session.id).await?.len() - public;
    let notifications = market
        .store()
        .row_counts()
        .await
        .map_err(MarketError::from)?
        .into_iter()
        .find(|(t, _)| *t == "notifications")
        .map(|(_, n)| n)
        .unwrap_or(0);
    Ok(DemoSummary {
        regulation,
        review_example,
        clearing: vec![
            session_outcome(&da_run.value, da_run.version),
            session_outcome(&rt_run.value, rt_run.version),
        ],
        statements: statements
            .iter()
            .map(|s| StatementSummary {
                member_id: s.value.member_id.clone(),
                da_total: s.value.da_total,
                rt_total: s.value.rt_total,
                total: s.value.total,
                residual: s.value.operator.clone(),
            })
            .collect(),
        publications: (public, private),
        notifications,
        session_state: market.session(&session.id).await?.value.state,
        rows_stored: market
            .store()
            .row_counts()
            .await
            .map_err(MarketError::from)?,
        ..da_summary
    })
}

/// Deterministic metered deviation of buyer `k` in interval `t`: ±4 % waves
/// of different phase per buyer, so real-time settlement has something to do.
fn metered_deviation(k: usize, t: usize, n: usize) -> f64 {
    let phase = k as f64 * 1.3;
    1.0 + 0.04 * (2.0 * std::f64::consts::PI * t as f64 / n as f64 * 3.0 + phase).sin()
}

fn session_outcome(run: &ClearingRun, version: i64) -> SessionOutcome {
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

fn refusal_lines(v: &voltex_model::Violations) -> Vec<String> {
    let mut lines: Vec<String> = v
        .iter()
        .take(3)
        .map(|x| format!("{} [{}]: {}", x.field, x.rule, x.message))
        .collect();
    if v.len() > 3 {
        lines.push(format!("... and {} more", v.len() - 3));
    }
    lines
}

async fn summarise(
    market: &Market,
    op: &crate::Actor,
    session_id: &str,
    n: usize,
    units: Vec<GeneratingUnit>,
    refused_example: Vec<String>,
) -> Result<DemoSummary, DemoError> {
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
            label: cal.label(voltex_model::Interval {
                day: session.trading_day,
                index: h,
            }),
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
        review_example: vec![],
        clearing: vec![],
        statements: vec![],
        publications: (0, 0),
        notifications: 0,
        session_id: session.id,
        session_state: session.state,
        intervals: n,
        members,
        units,
        declarations,
        refused_example,
        hours,
        rows_stored: market
            .store()
            .row_counts()
            .await
            .map_err(MarketError::from)?,
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

fn read_case(path: &Path) -> Result<MatpowerCase, DemoError> {
    voltex_formats::matpower::parse_case_file(path).map_err(|e| DemoError::Input {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

fn input_err(path: &Path, e: std::io::Error) -> DemoError {
    DemoError::Input {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

fn new_member(id: &str, name: &str, kind: MemberKind) -> NewMember {
    NewMember {
        id: id.into(),
        name: name.into(),
        kind,
        registration_number: None,
        contact_email: Some(format!("trading@{id}.example")),
    }
}

/// Technology guessed from the marginal cost (cheap: coal, dear: gas), with
/// that technology's typical dynamics where the case gives none.
fn unit_from_case(k: usize, owner: &str, g: &CaseGenerator) -> GeneratingUnit {
    let mc = g.cost.marginal_cost_at((g.pmin_mw + g.pmax_mw) / 2.0);
    let (technology, ramp_share_per_min, min_up_down_h, startup) = if mc < 20.0 {
        (Technology::Coal, 0.015, 8.0, 30_000.0)
    } else {
        (Technology::Gas, 0.05, 2.0, 10_000.0)
    };
    let ramp = g
        .ramp_agc
        .filter(|r| *r > 0.0)
        .unwrap_or(g.pmax_mw * ramp_share_per_min);
    GeneratingUnit {
        id: format!("pjm5-g{}", k + 1),
        member_id: owner.into(),
        name: format!("PJM5 unit {} (bus {})", k + 1, g.bus),
        technology,
        bus: g.bus,
        pmin_mw: g.pmin_mw,
        pmax_mw: g.pmax_mw,
        ramp_up_mw_per_min: round2(ramp),
        ramp_down_mw_per_min: round2(ramp),
        min_up_time_h: min_up_down_h,
        min_down_time_h: min_up_down_h,
        startup_cost: startup,
        must_run: false,
        emergency_min_mw: Some(g.pmin_mw),
        heat_supply_flow_t_per_h: None,
        expected_grid_connection: None,
    }
}

/// The unit's step offer in yuan/MWh.
fn offer_curve(g: &CaseGenerator, unit: &GeneratingUnit) -> Vec<OfferSegment> {
    let from = if unit.pmin_mw > 0.0 {
        0.0
    } else {
        unit.pmin_mw
    };
    steps_from_cost(&g.cost, from, unit.pmax_mw, OFFER_SEGMENTS)
        .iter()
        .enumerate()
        .map(|(k, s)| OfferSegment {
            quantity_mw: s.quantity_mw,
            price: round2(
                s.price_per_mwh * YUAN_PER_DOLLAR * (1.0 + MARKUP_PER_SEGMENT * k as f64),
            ),
        })
        .collect()
}

fn energy_offer(unit_id: &str, segments: &[OfferSegment], n: usize) -> DeclarationBody {
    DeclarationBody::EnergyOffer {
        unit_id: unit_id.into(),
        intervals: vec![
            EnergyOfferInterval {
                segments: segments.to_vec()
            };
            n
        ],
    }
}

/// How a buyer bids: fixed (price-taking) or split by willingness to pay.
#[derive(Debug, Clone)]
struct BuyerPlan {
    member_id: String,
    resource_id: String,
    bus: u32,
    base_mw: f64,
    controllable_share: f64,
    /// (share of the quantity, yuan/MWh), prices non-increasing; empty = price-taking.
    tiers: Vec<(f64, f64)>,
}

/// Retailers take the first two loaded buses whole; the large consumer and
/// the aggregator share the rest (40 % / 60 %).
fn buyer_plan(loaded: &[(u32, f64)]) -> Vec<BuyerPlan> {
    let mut out = Vec::new();
    for (k, (bus, pd)) in loaded.iter().enumerate() {
        match k {
            0 | 1 => out.push(BuyerPlan {
                member_id: if k == 0 { "retail-east" } else { "retail-west" }.into(),
                resource_id: format!("load-bus{bus}-{}", if k == 0 { "east" } else { "west" }),
                bus: *bus,
                base_mw: *pd,
                controllable_share: 0.05,
                tiers: vec![],
            }),
            _ => {
                out.push(BuyerPlan {
                    member_id: "steelworks".into(),
                    resource_id: format!("load-bus{bus}-steel"),
                    bus: *bus,
                    base_mw: pd * 0.4,
                    controllable_share: 0.2,
                    tiers: vec![(0.8, 1200.0), (0.2, 450.0)],
                });
                out.push(BuyerPlan {
                    member_id: "aggregator".into(),
                    resource_id: format!("load-bus{bus}-vpp"),
                    bus: *bus,
                    base_mw: pd * 0.6,
                    controllable_share: 0.3,
                    tiers: vec![(0.7, 1500.0), (0.2, 500.0), (0.1, 300.0)],
                });
            }
        }
    }
    out
}

fn demand_interval(b: &BuyerPlan, mw: f64) -> DemandBidInterval {
    let quantity_mw = round2(mw);
    let mut segments: Vec<OfferSegment> = b
        .tiers
        .iter()
        .map(|(share, price)| OfferSegment {
            quantity_mw: round2(quantity_mw * share),
            price: *price,
        })
        .collect();
    // Rounding must not break "segments sum to the quantity".
    if let Some(last) = segments.last_mut() {
        let others: f64 = b
            .tiers
            .iter()
            .take(b.tiers.len() - 1)
            .map(|(s, _)| round2(quantity_mw * s))
            .sum();
        last.quantity_mw = round2(quantity_mw - others);
    }
    DemandBidInterval {
        quantity_mw,
        segments,
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn demo_day_runs_from_registration_to_balanced_statements() {
        let dir = tempfile::tempdir().unwrap();
        let store = voltex_store::Store::open_sqlite_dir(dir.path())
            .await
            .unwrap();
        let market = Market::open(store).await.unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let s = run(&market, &DemoOptions::bundled(day)).await.unwrap();
        assert_eq!(s.session_state, SessionState::Settled);
        assert_eq!(s.intervals, 96);
        assert_eq!(s.units.len(), 5);
        let offers: Vec<_> = s
            .declarations
            .iter()
            .filter(|d| d.kind == "energy_offer")
            .collect();
        assert_eq!(offers.len(), 5);
        assert_eq!(
            offers.iter().map(|d| d.version).max(),
            Some(2),
            "one offer was revised"
        );
        assert_eq!(
            s.declarations
                .iter()
                .filter(|d| d.kind == "demand_bid")
                .count(),
            4
        );
        assert!(!s.refused_example.is_empty(), "the typo offer was refused");
        // Bids follow the ISO-NE curve: the case's 1000 MW at the peak hour, ~68 % at night.
        let peak = s.hours.iter().map(|h| h.bid_mw).fold(0.0, f64::max);
        let night = s.hours.iter().map(|h| h.bid_mw).fold(f64::MAX, f64::min);
        assert!((peak - 1000.0).abs() < 1.0, "peak {peak}");
        assert!((night / peak - 0.6835).abs() < 0.01, "night {night}");
        assert!(
            s.hours.iter().all(|h| h.offered_mw > h.bid_mw),
            "supply covers demand"
        );

        // The doubled offer was held, then rejected.
        assert_eq!(s.review_example.len(), 2, "{:?}", s.review_example);
        assert!(s.review_example[0].contains("exceeds"));
        // Both passes cleared; real time used the day-ahead curves of the
        // four units that did not re-offer.
        assert_eq!(s.clearing.len(), 2);
        assert_eq!(
            s.clearing[1].defaults.len(),
            4,
            "{:?}",
            s.clearing[1].defaults
        );
        assert!(
            s.clearing
                .iter()
                .all(|c| c.min_lmp > 0.0 && c.max_lmp < 15_000.0)
        );
        // Statements balance: members' totals plus the operator's residual is zero,
        // and the day-ahead residual is the congestion rent.
        let op = s
            .statements
            .iter()
            .find_map(|x| x.residual.clone())
            .unwrap();
        let members: f64 = s
            .statements
            .iter()
            .filter(|x| x.residual.is_none())
            .map(|x| x.total)
            .sum();
        assert!((members + op.total_residual).abs() < 1e-6 * members.abs().max(1.0));
        assert!(
            (op.day_ahead_residual - op.day_ahead_congestion_rent).abs()
                < 1e-4 * op.day_ahead_residual.abs().max(1.0),
            "{op:?}"
        );
        assert!(s.publications.0 >= 5 && s.publications.1 >= 5);
        assert!(s.notifications > 20);
        assert!(
            s.regulation.contains("0 interval(s) short"),
            "{}",
            s.regulation
        );
    }
}
