//! Clearing a session from its locked declarations.
//!
//! The input is assembled from what gate closure locked, with review
//! decisions applied (a held or rejected version never counts: the previous
//! accepted version of that declaration, or the unit's default rule, stands
//! in), the network, and for real-time sessions the metered load of the day.
//! The run is stored as a new immutable version of the session's
//! [`ClearingRun`] together with its complete input and the input's SHA-256
//! fingerprint, so any result can be reproduced by clearing the stored input
//! again (`voltex clear --input run.json`).
//!
//! Declarations stack offer segments from 0 MW; the engine prices only the
//! output above pmin (the part below is must-run, reported as must-run cost),
//! so the first pmin MW of each curve are cut off here. Each unit's declared
//! maximum capacity for the day (daily extras) caps its pmax.
use crate::gate::{DefaultDeclaration, GateClosure};
use crate::sessions::position;
use crate::{Actor, Market, MarketError, Result, require_operator};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use voltex_clearing::input::{BidSegment, ClearingSettings, DemandBid, OfferSegment, Unit};
use voltex_clearing::{ClearingInput, ClearingResult};
use voltex_model::network::Network;
use voltex_model::{
    DeclarationBody, DeclarationKind, LoadResource, MarketKind, MarketParameters, MarketSession,
    TradingDay,
};
use voltex_store::{Entity, Record, StoredDeclaration};

/// Options of a clearing run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ClearOptions {
    /// Network to clear on; default: the latest imported.
    #[serde(default)]
    pub network: Option<String>,
    /// Value of lost load, yuan/MWh; default: ten times the price cap.
    #[serde(default)]
    pub value_of_lost_load: Option<f64>,
    /// Regulation markets: the requirement in MW, one value for every
    /// interval or one per interval (see `regulation`).
    #[serde(default)]
    pub requirement_mw: Option<Vec<f64>>,
}

/// Whether a position injects or withdraws energy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PositionKind {
    Generation,
    Consumption,
}

/// A member's cleared quantity at one resource, per interval, with the
/// locational price it settles at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Position {
    pub member_id: String,
    /// Unit or load resource id.
    pub resource_id: String,
    pub kind: PositionKind,
    pub bus: u32,
    pub mw: Vec<f64>,
    pub lmp: Vec<f64>,
}

/// One declaration version that counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsedDeclaration {
    pub key: String,
    pub version: i64,
}

/// A stored clearing run of a session (versions are re-runs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClearingRun {
    pub session_id: String,
    pub market: MarketKind,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub trading_day: TradingDay,
    pub network: String,
    pub cleared_at: DateTime<Utc>,
    /// SHA-256 (hex) of the canonical JSON of `input`.
    pub fingerprint: String,
    pub used: Vec<UsedDeclaration>,
    pub defaults: Vec<DefaultDeclaration>,
    pub warnings: Vec<String>,
    pub positions: Vec<Position>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub input: ClearingInput,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub result: ClearingResult,
}

impl Entity for ClearingRun {
    const TABLE: &'static str = "clearing_runs";
    const NAME: &'static str = "clearing run";
    const SENSITIVE: bool = true; // offer curves, dispatch and prices
    fn entity_id(&self) -> String {
        self.session_id.clone()
    }
}

/// Metered (real-time) consumption of load resources for a trading day,
/// MW per interval; the real-time pass clears against it and settlement
/// charges deviations from the day-ahead position on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MeteredLoad {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub trading_day: TradingDay,
    pub resources: Vec<MeteredResource>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MeteredResource {
    pub resource_id: String,
    pub mw: Vec<f64>,
}

impl Entity for MeteredLoad {
    const TABLE: &'static str = "metered_loads";
    const NAME: &'static str = "metered load";
    const SENSITIVE: bool = true; // members' metered consumption
    fn entity_id(&self) -> String {
        self.trading_day.format("%Y-%m-%d").to_string()
    }
}

/// The (key, version) of each declaration a run counted.
pub(crate) fn used_declarations(decls: &[StoredDeclaration]) -> Vec<UsedDeclaration> {
    decls
        .iter()
        .map(|d| UsedDeclaration {
            key: d.key.clone(),
            version: d.version,
        })
        .collect()
}

/// SHA-256 hex of a clearing input's JSON (field order is fixed by the
/// types, and no maps are involved, so equal inputs hash equally).
pub fn fingerprint(input: &ClearingInput) -> String {
    let bytes = serde_json::to_vec(input).unwrap_or_default();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Market {
    /// Records the metered load of a day (operator; a new version replaces it).
    pub async fn set_metered_load(
        &self,
        actor: &Actor,
        load: MeteredLoad,
    ) -> Result<Record<MeteredLoad>> {
        require_operator(actor, "record metered load")?;
        let mut v = voltex_model::Violations::default();
        let resources = self.store.list::<LoadResource>().await?;
        for (k, r) in load.resources.iter().enumerate() {
            if !resources.iter().any(|x| x.value.id == r.resource_id) {
                v.push(voltex_model::Violation::new(
                    format!("resources[{k}].resource_id"),
                    "resource_exists",
                    r.resource_id.clone(),
                    format!("load resource {} is not registered", r.resource_id),
                ));
            }
            if let Some(t) = r.mw.iter().position(|x| !x.is_finite() || *x < 0.0) {
                v.push(voltex_model::Violation::new(
                    format!("resources[{k}].mw[{t}]"),
                    "non_negative",
                    r.mw[t],
                    "metered load must be a non-negative number of MW",
                ));
            }
        }
        v.into_result().map_err(MarketError::Invalid)?;
        let id = load.entity_id();
        let current = self.store.get::<MeteredLoad>(&id).await?;
        Ok(self
            .store
            .append(&load, current.map(|r| r.version).unwrap_or(0))
            .await?)
    }

    /// The latest clearing run of a session, input included. Operator
    /// only: it holds every member's offers (members read the publications).
    pub async fn clearing_run(
        &self,
        actor: &Actor,
        session_id: &str,
    ) -> Result<Record<ClearingRun>> {
        require_operator(actor, "read clearing runs")?;
        self.stored_clearing_run(session_id).await
    }

    pub(crate) async fn stored_clearing_run(
        &self,
        session_id: &str,
    ) -> Result<Record<ClearingRun>> {
        self.get_or_404::<ClearingRun>("clearing run", session_id)
            .await
    }

    /// The energy clearing run of a closed session, step by step as
    /// docs/market-operations.md states the formulation: the units with
    /// their counting offers (or defaults), the loads, the load at each bus,
    /// the engine's input, the solve, and each member's positions.
    pub(crate) async fn build_run(
        &self,
        session: &MarketSession,
        gate: &GateClosure,
        effective: Vec<StoredDeclaration>,
        options: &ClearOptions,
    ) -> Result<ClearingRun> {
        let params = self.parameters(session.market).await?.value;
        let day = DayShape {
            n: params.calendar().interval_count(session.trading_day)?,
            minutes: f64::from(params.interval_minutes),
        };
        let network = self.session_network(options.network.as_deref()).await?;
        let mut warnings = Vec::new();

        let used = used_declarations(&effective);
        let offered = self
            .unit_offers(session, gate, &effective, &network, day, &mut warnings)
            .await?;
        let loads = self
            .loads(session, &effective, &params, day.n, &mut warnings)
            .await?;
        let bus_load = bus_loads(&loads.fixed, &network, day.n, &mut warnings);
        let input = engine_input(
            network,
            day,
            bus_load,
            offered.units,
            loads.bids,
            value_of_lost_load(options, &params),
        );
        let print = fingerprint(&input);
        let result = solve(&input).await?;
        warnings.extend(result.warnings.iter().cloned());

        let positions = positions(
            &result,
            &offered.owners,
            &loads.bid_owners,
            &loads.fixed,
            day.n,
        );
        Ok(ClearingRun {
            session_id: session.id.clone(),
            market: session.market,
            trading_day: session.trading_day,
            network: input.network.name.clone(),
            cleared_at: Utc::now(),
            fingerprint: print,
            used,
            defaults: offered.defaults,
            warnings,
            positions,
            input,
            result,
        })
    }

    /// Units: every unit of an active member on a bus of the network, with
    /// its counting energy offer (or the default that stands in) cut to the
    /// part above pmin, pmax capped by the day's declared maximum capacity,
    /// ramp limits per interval. A unit with no offer and no must-run flag
    /// is off.
    async fn unit_offers(
        &self,
        session: &MarketSession,
        gate: &GateClosure,
        effective: &[StoredDeclaration],
        network: &Network,
        day: DayShape,
        warnings: &mut Vec<String>,
    ) -> Result<UnitOffers> {
        let n = day.n;
        let bus_index = network.bus_index();
        let mut out = UnitOffers {
            defaults: gate.defaults.clone(),
            ..UnitOffers::default()
        };
        for unit in self.participating_units().await? {
            if !bus_index.contains_key(&unit.bus) {
                warnings.push(format!(
                    "unit {} sits on bus {} which is not in network {}; left out",
                    unit.id, unit.bus, network.name
                ));
                continue;
            }
            let offer = match counting(effective, DeclarationKind::EnergyOffer, &unit.id) {
                Some(d) => Some(d.body.clone()),
                None => {
                    let d = match out.defaults.iter().find(|d| d.unit_id == unit.id) {
                        Some(d) => d.clone(),
                        None => {
                            // Its only offer was rejected after gate closure.
                            let d = self.default_for(session, &unit).await?;
                            out.defaults.push(d.clone());
                            d
                        }
                    };
                    d.body
                }
            };
            let mut pmax = unit.pmax_mw;
            if let Some(DeclarationBody::DailyExtras(x)) =
                counting(effective, DeclarationKind::DailyExtras, &unit.id).map(|d| &d.body)
            {
                pmax = pmax.min(x.max_generating_capacity_mw);
            }
            let pmin = unit.pmin_mw.min(pmax);
            let offer_by_interval: Option<Vec<Vec<OfferSegment>>> = match &offer {
                Some(DeclarationBody::EnergyOffer { intervals, .. }) => Some(
                    (0..n)
                        .map(|t| {
                            let segs = &intervals[position(t, intervals.len(), n)].segments;
                            above_pmin(segs, pmin, pmax)
                        })
                        .collect(),
                ),
                _ => None,
            };
            let on = offer_by_interval.is_some() || unit.must_run;
            out.units.push(Unit {
                id: unit.id.clone(),
                bus: unit.bus,
                pmin_mw: pmin,
                pmax_mw: pmax,
                ramp_up_mw: Some(unit.ramp_up_mw_per_min * day.minutes),
                ramp_down_mw: Some(unit.ramp_down_mw_per_min * day.minutes),
                initial_output_mw: None,
                status: if on { vec![] } else { vec![false; n] },
                must_run: unit.must_run,
                offer: vec![],
                offer_by_interval: Some(offer_by_interval.unwrap_or_else(|| vec![vec![]; n])),
                quadratic_cost: None,
            });
            out.owners.push((unit.id.clone(), unit.member_id.clone()));
        }
        Ok(out)
    }

    /// Loads: in a real-time session the day's metered load first; then the
    /// demand bids of load resources not metered (price-taking ones as fixed
    /// load, priced ones as bids); in real time, what is neither metered nor
    /// bid keeps its day-ahead cleared quantity.
    async fn loads(
        &self,
        session: &MarketSession,
        effective: &[StoredDeclaration],
        params: &MarketParameters,
        n: usize,
        warnings: &mut Vec<String>,
    ) -> Result<Loads> {
        let resources: HashMap<String, LoadResource> = self
            .store
            .list::<LoadResource>()
            .await?
            .into_iter()
            .map(|r| (r.value.id.clone(), r.value))
            .collect();
        let mut loads = Loads::default();
        if session.market == MarketKind::RealTimeEnergy {
            let metered = self
                .store
                .get::<MeteredLoad>(&session.trading_day.format("%Y-%m-%d").to_string())
                .await?;
            if let Some(m) = metered {
                loads.add_metered(&m.value, &resources, n);
            }
        }
        loads.add_declared(effective, &resources, params, n, warnings);
        if session.market == MarketKind::RealTimeEnergy {
            let da = MarketSession::id_for(MarketKind::DayAheadEnergy, session.trading_day);
            if let Some(da) = self.store.get::<ClearingRun>(&da).await? {
                loads.keep_day_ahead(&da.value, n, warnings);
            }
        }
        Ok(loads)
    }
}

/// The day's length: intervals and their minutes.
#[derive(Debug, Clone, Copy)]
struct DayShape {
    n: usize,
    minutes: f64,
}

/// The units for the engine, who owns each, and the defaults that stood in.
#[derive(Debug, Default)]
struct UnitOffers {
    units: Vec<Unit>,
    /// (unit, member)
    owners: Vec<(String, String)>,
    defaults: Vec<DefaultDeclaration>,
}

/// A fixed load: (member, resource, bus, MW per interval).
type FixedLoad = (String, String, u32, Vec<f64>);

/// The loads for the engine: fixed per resource, price-sensitive bids and
/// who owns each bid; `covered` lists the resources already counted.
#[derive(Debug, Default)]
struct Loads {
    fixed: Vec<FixedLoad>,
    bids: Vec<DemandBid>,
    /// (resource, member)
    bid_owners: Vec<(String, String)>,
    covered: Vec<String>,
}

impl Loads {
    /// Metered consumption: fixed load of each registered resource.
    fn add_metered(
        &mut self,
        metered: &MeteredLoad,
        resources: &HashMap<String, LoadResource>,
        n: usize,
    ) {
        for r in &metered.resources {
            let Some(res) = resources.get(&r.resource_id) else {
                continue;
            };
            self.fixed.push((
                res.member_id.clone(),
                res.id.clone(),
                res.bus,
                (0..n)
                    .map(|t| r.mw.get(t).copied().unwrap_or(0.0))
                    .collect(),
            ));
            self.covered.push(res.id.clone());
        }
    }

    /// Demand bids of resources not yet counted: a bid without price
    /// segments is fixed load, one with segments a price-sensitive bid (an
    /// unpriced interval of it bids at the cap). A member-level bid names
    /// no bus and is left out.
    fn add_declared(
        &mut self,
        effective: &[StoredDeclaration],
        resources: &HashMap<String, LoadResource>,
        params: &MarketParameters,
        n: usize,
        warnings: &mut Vec<String>,
    ) {
        for d in effective
            .iter()
            .filter(|d| d.kind == DeclarationKind::DemandBid)
        {
            let DeclarationBody::DemandBid {
                resource_id,
                intervals,
            } = &d.body
            else {
                continue;
            };
            let Some(res) = resource_id.as_ref().and_then(|id| resources.get(id)) else {
                warnings.push(format!(
                    "{}: a member-level bid names no load resource, so it has no bus; ignored",
                    d.key
                ));
                continue;
            };
            if self.covered.contains(&res.id) {
                continue;
            }
            self.covered.push(res.id.clone());
            let at = |t: usize| &intervals[position(t, intervals.len(), n)];
            if intervals.iter().all(|i| i.segments.is_empty()) {
                self.fixed.push((
                    d.member_id.clone(),
                    res.id.clone(),
                    res.bus,
                    (0..n).map(|t| at(t).quantity_mw).collect(),
                ));
            } else {
                self.bids.push(DemandBid {
                    id: res.id.clone(),
                    bus: res.bus,
                    segments: vec![],
                    segments_by_interval: Some(
                        (0..n)
                            .map(|t| bid_segments(at(t), params.price_cap))
                            .collect(),
                    ),
                });
                self.bid_owners.push((res.id.clone(), d.member_id.clone()));
            }
        }
    }

    /// Real time: whatever is neither metered nor bid keeps its day-ahead
    /// quantity.
    fn keep_day_ahead(&mut self, day_ahead: &ClearingRun, n: usize, warnings: &mut Vec<String>) {
        for p in day_ahead.positions.iter().filter(|p| {
            p.kind == PositionKind::Consumption && !self.covered.contains(&p.resource_id)
        }) {
            self.fixed.push((
                p.member_id.clone(),
                p.resource_id.clone(),
                p.bus,
                (0..n)
                    .map(|t| p.mw.get(t).copied().unwrap_or(0.0))
                    .collect(),
            ));
            warnings.push(format!(
                "{}: no metered load; its day-ahead quantity is used",
                p.resource_id
            ));
        }
    }
}

/// The engine's bid segments of one interval; an interval without segments
/// bids its quantity at the price cap.
fn bid_segments(i: &voltex_model::DemandBidInterval, price_cap: f64) -> Vec<BidSegment> {
    if i.segments.is_empty() {
        vec![BidSegment {
            quantity_mw: i.quantity_mw,
            price_per_mwh: price_cap,
        }]
    } else {
        i.segments
            .iter()
            .map(|s| BidSegment {
                quantity_mw: s.quantity_mw,
                price_per_mwh: s.price,
            })
            .collect()
    }
}

/// The counting declaration of `kind` for `subject`, if any.
fn counting<'a>(
    effective: &'a [StoredDeclaration],
    kind: DeclarationKind,
    subject: &str,
) -> Option<&'a StoredDeclaration> {
    effective
        .iter()
        .find(|d| d.kind == kind && d.subject == subject)
}

/// Fixed load summed per bus and interval; a load on a bus the network
/// lacks is left out with a warning.
fn bus_loads(
    fixed: &[FixedLoad],
    network: &Network,
    n: usize,
    warnings: &mut Vec<String>,
) -> Vec<Vec<f64>> {
    let bus_index = network.bus_index();
    let mut bus_load = vec![vec![0.0; network.buses.len()]; n];
    for (_, res, bus, mw) in fixed {
        let Some(&b) = bus_index.get(bus) else {
            warnings.push(format!("{res}: bus {bus} not in the network; ignored"));
            continue;
        };
        for t in 0..n {
            bus_load[t][b] += mw[t];
        }
    }
    bus_load
}

/// Value of lost load: as given, else ten times the price cap.
fn value_of_lost_load(options: &ClearOptions, params: &MarketParameters) -> f64 {
    options
        .value_of_lost_load
        .unwrap_or(params.price_cap * 10.0)
}

/// The engine's input: network, the day's intervals, the bus loads, the
/// units and the bids.
fn engine_input(
    network: Network,
    day: DayShape,
    bus_load: Vec<Vec<f64>>,
    units: Vec<Unit>,
    demand_bids: Vec<DemandBid>,
    value_of_lost_load_per_mwh: f64,
) -> ClearingInput {
    ClearingInput {
        network,
        intervals: day.n,
        interval_minutes: day.minutes,
        load_scale: vec![],
        bus_load_mw: Some(bus_load),
        units,
        demand_bids,
        settings: ClearingSettings {
            value_of_lost_load_per_mwh,
            ..ClearingSettings::default()
        },
    }
}

/// Runs the engine on a blocking thread (it is CPU-bound).
async fn solve(input: &ClearingInput) -> Result<ClearingResult> {
    let solved = input.clone();
    tokio::task::spawn_blocking(move || voltex_clearing::clear(&solved))
        .await
        .map_err(|e| MarketError::Clearing(format!("clearing task failed: {e}")))?
        .map_err(|e| MarketError::Clearing(e.to_string()))
}

/// The part of a stacked curve (from 0 MW) above `pmin`, capped at `pmax`.
fn above_pmin(segments: &[voltex_model::OfferSegment], pmin: f64, pmax: f64) -> Vec<OfferSegment> {
    let mut out = Vec::new();
    let mut from = 0.0;
    for s in segments {
        let to = from + s.quantity_mw;
        let lo = from.max(pmin);
        let hi = to.min(pmax);
        if hi > lo + 1e-9 {
            out.push(OfferSegment {
                quantity_mw: hi - lo,
                price_per_mwh: s.price,
            });
        }
        from = to;
    }
    out
}

/// Per-member positions from the result: unit outputs, served fixed loads
/// (less any unserved share at their bus) and accepted bids.
fn positions(
    result: &ClearingResult,
    unit_owners: &[(String, String)],
    bid_owners: &[(String, String)],
    fixed: &[(String, String, u32, Vec<f64>)],
    n: usize,
) -> Vec<Position> {
    let lmp_at = |t: usize, bus: u32| {
        result.results[t]
            .lmp
            .iter()
            .find(|p| p.bus == bus)
            .map(|p| p.lmp_per_mwh)
            .unwrap_or(0.0)
    };
    let mut out = Vec::new();
    for (unit, member) in unit_owners {
        let Some(first) = result.results[0].units.iter().find(|u| &u.unit == unit) else {
            continue;
        };
        let bus = first.bus;
        let mw = (0..n)
            .map(|t| {
                result.results[t]
                    .units
                    .iter()
                    .find(|u| &u.unit == unit)
                    .map(|u| u.output_mw)
                    .unwrap_or(0.0)
            })
            .collect();
        out.push(Position {
            member_id: member.clone(),
            resource_id: unit.clone(),
            kind: PositionKind::Generation,
            bus,
            mw,
            lmp: (0..n).map(|t| lmp_at(t, bus)).collect(),
        });
    }
    // Share of each bus's fixed load served per interval, computed once per
    // bus (unserved energy is shared pro rata among the bus's fixed loads).
    let mut served_share: HashMap<u32, Vec<f64>> = HashMap::new();
    for (_, _, bus, _) in fixed {
        served_share.entry(*bus).or_insert_with(|| {
            (0..n)
                .map(|t| {
                    let total: f64 = fixed.iter().filter(|f| f.2 == *bus).map(|f| f.3[t]).sum();
                    let short: f64 = result.results[t]
                        .shortfalls
                        .iter()
                        .filter(|s| s.bus == *bus)
                        .map(|s| s.mw)
                        .sum();
                    if total > 0.0 {
                        (1.0 - short / total).clamp(0.0, 1.0)
                    } else {
                        1.0
                    }
                })
                .collect()
        });
    }
    for (member, resource, bus, mw) in fixed {
        let share = &served_share[bus];
        let served = (0..n).map(|t| mw[t] * share[t]).collect();
        out.push(Position {
            member_id: member.clone(),
            resource_id: resource.clone(),
            kind: PositionKind::Consumption,
            bus: *bus,
            mw: served,
            lmp: (0..n).map(|t| lmp_at(t, *bus)).collect(),
        });
    }
    for (bid, member) in bid_owners {
        let Some(first) = result.results[0].bids.iter().find(|b| &b.bid == bid) else {
            continue;
        };
        let bus = first.bus;
        out.push(Position {
            member_id: member.clone(),
            resource_id: bid.clone(),
            kind: PositionKind::Consumption,
            bus,
            mw: (0..n)
                .map(|t| {
                    result.results[t]
                        .bids
                        .iter()
                        .find(|b| &b.bid == bid)
                        .map(|b| b.served_mw)
                        .unwrap_or(0.0)
                })
                .collect(),
            lmp: (0..n).map(|t| lmp_at(t, bus)).collect(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use voltex_model::OfferSegment as Seg;

    #[test]
    fn curve_below_pmin_is_cut_and_pmax_caps_the_top() {
        let segs = [
            Seg {
                quantity_mw: 50.0,
                price: 100.0,
            },
            Seg {
                quantity_mw: 50.0,
                price: 200.0,
            },
            Seg {
                quantity_mw: 100.0,
                price: 300.0,
            },
        ];
        let out = above_pmin(&segs, 80.0, 150.0);
        assert_eq!(
            out,
            vec![
                OfferSegment {
                    quantity_mw: 20.0,
                    price_per_mwh: 200.0
                },
                OfferSegment {
                    quantity_mw: 50.0,
                    price_per_mwh: 300.0
                }
            ]
        );
        assert!(above_pmin(&segs[..1], 50.0, 200.0).is_empty());
    }
}
