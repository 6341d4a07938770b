//! The evaluation of one cleared day from its stored run, without I/O: the
//! structure indices of every interval (whole market and the relief
//! sub-market of every binding line and section), the conduct screens of
//! every unit, the impact re-clear with the flagged offers mitigated (same
//! network, same engine, same settings), the Lerner index of marginal units
//! and the day's statistics. The formulas are `voltex_analytics::market_power`'s;
//! this module decides what goes into them (docs/market-evaluation.md,
//! "What the code implements").
use std::collections::{BTreeMap, HashMap};

use voltex_analytics::market_power::conduct::{
    self, ConductScreen, OfferChange, PhysicalWithholding, ReferenceCurve,
};
use voltex_analytics::market_power::impact::{self, MeritUnit};
use voltex_analytics::market_power::statistics::{self, PriceDistribution};
use voltex_analytics::market_power::structure::{self, ReliefUnit};
use voltex_analytics::market_power::{Step, Thresholds};
use voltex_clearing::ClearingInput;
use voltex_clearing::dcnet::DcNetwork;

use super::records::ReferenceBasis;
use super::{
    ConstraintTest, DayStatistics, Evaluation, ImpactResult, IntervalStructure, MitigationEligible,
    SupplierStructure, UnitConduct, UnitLerner,
};
use crate::dispatch::ClearingRun;
use crate::{MarketError, Result};

/// What the evaluation knows besides the run.
#[derive(Debug, Clone, Default)]
pub struct DayContext {
    /// Owner of each unit.
    pub owners: HashMap<String, String>,
    /// Registered capacity of each unit, MW.
    pub registered_mw: HashMap<String, f64>,
    /// Registered (cost-based) reference curves.
    pub references: HashMap<String, ReferenceCurve>,
    /// Mean offer prices of each unit in competitive intervals of earlier days.
    pub history: HashMap<String, Vec<f64>>,
    /// Each unit's offer of the previous day (all intervals' steps, MW scaled
    /// by 1/intervals), for the offer-change indicator.
    pub previous_offers: HashMap<String, Vec<Step>>,
    /// MW on noticed outage per unit.
    pub outages: HashMap<String, f64>,
    pub price_cap: f64,
    /// The real-time run of the same day, for the DA–RT spread.
    pub real_time: Option<ClearingRun>,
}

/// An offer of the engine as analytics steps.
pub(crate) fn steps(offer: &[voltex_clearing::OfferSegment]) -> Vec<Step> {
    offer
        .iter()
        .map(|s| Step {
            quantity_mw: s.quantity_mw,
            price_per_mwh: s.price_per_mwh,
        })
        .collect()
}

/// Per unit: the mean offer price in each interval of an earlier run where
/// its supplier was not pivotal (RSI ≥ 1): the offer-based reference's
/// samples from history.
pub fn competitive_samples(
    run: &ClearingRun,
    owners: &HashMap<String, String>,
) -> HashMap<String, Vec<f64>> {
    let view = View::new(&run.input, owners);
    let mut out: HashMap<String, Vec<f64>> = HashMap::new();
    for t in 0..run.input.intervals {
        let (cap, _, demand) = view.capacity_energy(run, t);
        let supply = structure::by_supplier(&view.supplier_of, view.suppliers.len(), &cap);
        let rsi = structure::rsi(&supply, demand);
        for (u, unit) in run.input.units.iter().enumerate() {
            let s = view.supplier_of[u];
            if rsi[s] < 1.0 || !run.input.unit_on(u, t) {
                continue;
            }
            if let Some(p) = conduct::mean_price(&steps(run.input.offer(u, t))) {
                out.entry(unit.id.clone()).or_default().push(p);
            }
        }
    }
    out
}

/// A day's offers of each unit flattened, MW scaled by 1/intervals.
pub fn day_offers(run: &ClearingRun) -> HashMap<String, Vec<Step>> {
    run.input
        .units
        .iter()
        .enumerate()
        .map(|(u, unit)| (unit.id.clone(), day_offers_of(run, u)))
        .collect()
}

/// Suppliers and units of a run.
struct View {
    suppliers: Vec<String>,
    supplier_of: Vec<usize>,
}

impl View {
    fn new(input: &ClearingInput, owners: &HashMap<String, String>) -> Self {
        let names: Vec<String> = input
            .units
            .iter()
            .map(|u| owners.get(&u.id).cloned().unwrap_or_else(|| u.id.clone()))
            .collect();
        let mut suppliers: Vec<String> = names.clone();
        suppliers.sort();
        suppliers.dedup();
        let supplier_of = names
            .iter()
            .map(|n| suppliers.binary_search(n).expect("listed"))
            .collect();
        Self {
            suppliers,
            supplier_of,
        }
    }

    /// Per unit: offered capacity and output in interval `t`; and demand
    /// (fixed load less shortfall, plus served bids), MW.
    fn capacity_energy(&self, run: &ClearingRun, t: usize) -> (Vec<f64>, Vec<f64>, f64) {
        let input = &run.input;
        let r = &run.result.results[t];
        let cap = (0..input.units.len())
            .map(|u| {
                if input.unit_on(u, t) {
                    input.units[u].pmin_mw
                        + input.offer(u, t).iter().map(|s| s.quantity_mw).sum::<f64>()
                } else {
                    0.0
                }
            })
            .collect();
        let energy = r.units.iter().map(|d| d.output_mw).collect();
        let short: f64 = r.shortfalls.iter().map(|s| s.mw).sum();
        let bids: f64 = r.bids.iter().map(|b| b.served_mw).sum();
        (cap, energy, r.fixed_load_mw - short + bids)
    }
}

/// Evaluates a stored run (the CPU-bound part: call it on a blocking thread).
pub fn evaluate_run(run: &ClearingRun, ctx: &DayContext, t: &Thresholds) -> Result<Evaluation> {
    t.validate().map_err(|e| {
        MarketError::Invalid(voltex_model::Violations::one(
            "thresholds",
            "valid_thresholds",
            "",
            e,
        ))
    })?;
    let input = &run.input;
    let n = input.intervals;
    let hours = input.interval_minutes / 60.0;
    let view = View::new(input, &ctx.owners);
    let ns = view.suppliers.len();
    let bus_index = input.network.bus_index();
    let mut net =
        DcNetwork::new(&input.network).map_err(|e| MarketError::Clearing(e.to_string()))?;
    let mut rows: HashMap<usize, Vec<f64>> = HashMap::new();

    // structure
    let mut intervals = Vec::with_capacity(n);
    let mut pivotal_by_interval: Vec<Vec<usize>> = Vec::with_capacity(n);
    let mut rsi_min = vec![f64::INFINITY; ns];
    let mut rsi_below = vec![0usize; ns];
    let mut tps_fail = vec![0usize; ns];
    let mut relief_fail = vec![0usize; ns];
    let mut cap_total = vec![0.0; ns];
    let mut energy_total = vec![0.0; ns];
    for ti in 0..n {
        let (cap, energy, demand) = view.capacity_energy(run, ti);
        let supply = structure::by_supplier(&view.supplier_of, ns, &cap);
        let produced = structure::by_supplier(&view.supplier_of, ns, &energy);
        let rsi = structure::rsi(&supply, demand);
        let tps = structure::three_pivotal(&supply, demand);
        for s in 0..ns {
            rsi_min[s] = rsi_min[s].min(rsi[s]);
            cap_total[s] += supply[s] * hours;
            energy_total[s] += produced[s] * hours;
        }
        let pivotal: Vec<usize> = (0..ns).filter(|s| rsi[*s] < 1.0).collect();
        for s in &pivotal {
            rsi_below[*s] += 1;
        }
        for s in &tps.failing {
            tps_fail[*s] += 1;
        }
        let constraints = relief_tests(run, ti, &view, &bus_index, &mut net, &mut rows, t, &energy);
        // competitive intervals for offer-based references: neither pivotal
        // alone nor jointly on a binding constraint (the whole-market TPS
        // fails in every interval of a small market, so it does not count)
        let mut jointly: Vec<usize> = Vec::new();
        for c in &constraints {
            for s in &c.failing {
                let k = view.suppliers.binary_search(s).expect("listed");
                relief_fail[k] += 1;
                if !jointly.contains(&k) {
                    jointly.push(k);
                }
            }
        }
        intervals.push(IntervalStructure {
            interval: ti + 1,
            demand_mw: demand,
            lmp_min_per_mwh: lmp_of(run, ti).fold(f64::INFINITY, f64::min),
            lmp_max_per_mwh: lmp_of(run, ti).fold(f64::NEG_INFINITY, f64::max),
            hhi_capacity: structure::hhi(&supply),
            hhi_energy: structure::hhi(&produced),
            min_rsi: rsi.iter().copied().fold(f64::INFINITY, f64::min),
            pivotal: pivotal.iter().map(|s| view.suppliers[*s].clone()).collect(),
            three_pivotal: tps
                .failing
                .iter()
                .map(|s| view.suppliers[*s].clone())
                .collect(),
            constraints,
        });
        let mut p = pivotal;
        p.extend(jointly);
        pivotal_by_interval.push(p);
    }
    let suppliers = (0..ns)
        .map(|s| SupplierStructure {
            member_id: view.suppliers[s].clone(),
            capacity_mwh: cap_total[s],
            energy_mwh: energy_total[s],
            min_rsi: rsi_min[s],
            intervals_rsi_below_1: rsi_below[s],
            share_rsi_below_1: if n > 0 {
                rsi_below[s] as f64 / n as f64
            } else {
                0.0
            },
            intervals_three_pivotal: tps_fail[s],
            intervals_relief_pivotal: relief_fail[s],
        })
        .collect();

    // conduct
    let high_price = t.high_price_fraction_of_cap * ctx.price_cap;
    let mut conduct_rows = Vec::new();
    let mut references: Vec<Option<ReferenceCurve>> = Vec::new();
    for (u, unit) in input.units.iter().enumerate() {
        let member = view.suppliers[view.supplier_of[u]].clone();
        let (reference, basis) = match ctx.references.get(&unit.id) {
            Some(r) => (Some(r.clone()), Some(ReferenceBasis::Cost)),
            None => {
                let mut samples = ctx.history.get(&unit.id).cloned().unwrap_or_default();
                let s = view.supplier_of[u];
                for (ti, pivotal) in pivotal_by_interval.iter().enumerate() {
                    if input.unit_on(u, ti) && !pivotal.contains(&s) {
                        samples.extend(conduct::mean_price(&steps(input.offer(u, ti))));
                    }
                }
                match conduct::offer_based_reference(&samples) {
                    Some(p) => (Some(ReferenceCurve::flat(p)), Some(ReferenceBasis::Offers)),
                    None => (None, None),
                }
            }
        };
        let mut failed = Vec::new();
        let mut screens: Vec<(usize, ConductScreen)> = Vec::new();
        let mut flagged_mwh = 0.0;
        let mut max_excess: f64 = 0.0;
        let mut econ_intervals = Vec::new();
        let mut econ_max_share: f64 = 0.0;
        let mut declared: f64 = 0.0;
        for ti in 0..n {
            if !input.unit_on(u, ti) {
                continue;
            }
            let offer = steps(input.offer(u, ti));
            let available = unit.pmin_mw + offer.iter().map(|s| s.quantity_mw).sum::<f64>();
            declared = declared.max(unit.pmax_mw);
            if let Some(r) = &reference {
                let s = conduct::screen_conduct(&offer, unit.pmin_mw, r, t);
                if s.fails() {
                    failed.push(ti + 1);
                    flagged_mwh += s.flagged_mw * hours;
                    max_excess = max_excess.max(s.max_excess_per_mwh);
                    screens.push((ti + 1, s));
                }
            }
            let (_, share) = conduct::economic_withholding(&offer, available, high_price);
            econ_max_share = econ_max_share.max(share);
            if share > t.economic_withholding_share {
                econ_intervals.push(ti + 1);
            }
        }
        let registered = ctx
            .registered_mw
            .get(&unit.id)
            .copied()
            .unwrap_or(unit.pmax_mw);
        let physical: PhysicalWithholding = conduct::physical_withholding(
            registered,
            declared,
            ctx.outages.get(&unit.id).copied().unwrap_or(0.0),
            t,
        );
        let change: Option<OfferChange> = ctx
            .previous_offers
            .get(&unit.id)
            .and_then(|prev| conduct::offer_change(prev, &day_offers_of(run, u), t));
        conduct_rows.push(UnitConduct {
            unit_id: unit.id.clone(),
            member_id: member,
            reference_basis: basis,
            reference: reference.clone(),
            failed_intervals: failed,
            flagged_mwh,
            max_excess_per_mwh: max_excess,
            screens,
            economic_withholding_intervals: econ_intervals,
            economic_withholding_max_share: econ_max_share,
            physical,
            offer_change: change,
        });
        references.push(reference);
    }

    let impact = impact_reclear(run, &conduct_rows, &references, t)?;
    let lerner = lerner_of_marginal_units(run, &view, &references);
    let stats = day_statistics(run, ctx);
    Ok(Evaluation {
        session_id: run.session_id.clone(),
        trading_day: run.trading_day,
        run_fingerprint: run.fingerprint.clone(),
        intervals: n,
        interval_minutes: input.interval_minutes,
        thresholds: t.clone(),
        structure: intervals,
        suppliers,
        conduct: conduct_rows,
        impact,
        lerner,
        statistics: stats,
        alerts: vec![],
    })
}

fn lmp_of(run: &ClearingRun, ti: usize) -> impl Iterator<Item = f64> + '_ {
    run.result.results[ti].lmp.iter().map(|p| p.lmp_per_mwh)
}

fn day_offers_of(run: &ClearingRun, u: usize) -> Vec<Step> {
    let n = run.input.intervals.max(1) as f64;
    (0..run.input.intervals)
        .filter(|t| run.input.unit_on(u, *t))
        .flat_map(|t| steps(run.input.offer(u, t)))
        .map(|s| Step {
            quantity_mw: s.quantity_mw / n,
            price_per_mwh: s.price_per_mwh,
        })
        .collect()
}

/// The three-pivotal-supplier test on the relief sub-market of every
/// binding line and section of interval `ti`.
#[allow(clippy::too_many_arguments)]
fn relief_tests(
    run: &ClearingRun,
    ti: usize,
    view: &View,
    bus_index: &HashMap<u32, usize>,
    net: &mut DcNetwork,
    rows: &mut HashMap<usize, Vec<f64>>,
    t: &Thresholds,
    energy: &[f64],
) -> Vec<ConstraintTest> {
    let input = &run.input;
    let r = &run.result.results[ti];
    let mut binding: Vec<(String, Vec<f64>, f64, f64)> = Vec::new();
    for b in r.branches.iter().filter(|b| b.binding) {
        let row = rows
            .entry(b.index)
            .or_insert_with(|| net.ptdf_row(b.index))
            .clone();
        binding.push((
            format!("branch {} ({}-{})", b.index, b.from_bus, b.to_bus),
            row,
            if b.flow_mw >= 0.0 { 1.0 } else { -1.0 },
            b.shadow_price_per_mwh,
        ));
    }
    for s in r.sections.iter().filter(|s| s.binding) {
        let Some(def) = input.network.sections.iter().find(|d| d.name == s.name) else {
            continue;
        };
        let mut row = vec![0.0; input.network.buses.len()];
        for (k, sign) in &def.members {
            let br = rows.entry(*k).or_insert_with(|| net.ptdf_row(*k));
            for (x, y) in row.iter_mut().zip(br.iter()) {
                *x += f64::from(*sign) * y;
            }
        }
        binding.push((
            format!("section {}", s.name),
            row,
            if s.flow_mw >= 0.0 { 1.0 } else { -1.0 },
            s.shadow_price_per_mwh,
        ));
    }
    if binding.is_empty() {
        return vec![];
    }
    let offers: Vec<Vec<Step>> = (0..input.units.len())
        .map(|u| {
            if input.unit_on(u, ti) {
                steps(input.offer(u, ti))
            } else {
                vec![]
            }
        })
        .collect();
    let mins: Vec<f64> = (0..input.units.len())
        .map(|u| {
            if input.unit_on(u, ti) {
                input.units[u].pmin_mw
            } else {
                0.0
            }
        })
        .collect();
    let merit_units: Vec<MeritUnit<'_>> = offers
        .iter()
        .zip(&mins)
        .map(|(o, m)| MeritUnit {
            min_mw: *m,
            offer: o,
        })
        .collect();
    let merit = impact::merit_order_dispatch(&merit_units, energy.iter().sum());
    let lmp: Vec<f64> = input
        .units
        .iter()
        .map(|u| r.lmp[bus_index[&u.bus]].lmp_per_mwh)
        .collect();
    binding
        .into_iter()
        .map(|(name, row, direction, shadow)| {
            let sf: Vec<f64> = input.units.iter().map(|u| row[bus_index[&u.bus]]).collect();
            let units: Vec<ReliefUnit<'_>> = (0..input.units.len())
                .map(|u| ReliefUnit {
                    supplier: view.supplier_of[u],
                    shift_factor: sf[u],
                    output_mw: energy[u],
                    min_mw: mins[u],
                    offer: &offers[u],
                    lmp_per_mwh: lmp[u],
                })
                .collect();
            let supply = structure::relief_supply(
                &units,
                view.suppliers.len(),
                direction,
                t.relief_min_shift_factor,
                t.relief_price_band,
            );
            let demand = structure::relief_demand(&sf, &merit, energy, direction);
            let failing = if demand > 1e-6 {
                structure::three_pivotal(&supply, demand).failing
            } else {
                vec![]
            };
            ConstraintTest {
                constraint: name,
                shadow_price_per_mwh: shadow,
                relief_demand_mw: demand,
                relief_supply_mw: supply.iter().sum(),
                failing: failing.iter().map(|s| view.suppliers[*s].clone()).collect(),
            }
        })
        .collect()
}

/// Re-clears the day with every flagged offer mitigated to its reference
/// in the intervals where it failed conduct, and reads the change.
fn impact_reclear(
    run: &ClearingRun,
    conduct_rows: &[UnitConduct],
    references: &[Option<ReferenceCurve>],
    t: &Thresholds,
) -> Result<ImpactResult> {
    let input = &run.input;
    let flagged: Vec<usize> = conduct_rows
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.failed_intervals.is_empty())
        .map(|(u, _)| u)
        .collect();
    if flagged.is_empty() {
        return Ok(ImpactResult::default());
    }
    let mut mitigated = input.clone();
    for &u in &flagged {
        let reference = references[u]
            .as_ref()
            .expect("a flagged unit has a reference");
        let unit = &mut mitigated.units[u];
        let mut by_interval: Vec<Vec<voltex_clearing::OfferSegment>> = (0..input.intervals)
            .map(|ti| input.offer(u, ti).to_vec())
            .collect();
        for &ti1 in &conduct_rows[u].failed_intervals {
            let m =
                impact::mitigate_offer(&steps(input.offer(u, ti1 - 1)), unit.pmin_mw, reference);
            by_interval[ti1 - 1] = m
                .iter()
                .map(|s| voltex_clearing::OfferSegment {
                    quantity_mw: s.quantity_mw,
                    price_per_mwh: s.price_per_mwh,
                })
                .collect();
        }
        unit.offer_by_interval = Some(by_interval);
    }
    let after =
        voltex_clearing::clear(&mitigated).map_err(|e| MarketError::Clearing(e.to_string()))?;
    let hours = input.interval_minutes / 60.0;
    let nb = input.network.buses.len();
    let mut consumer_before = 0.0;
    let mut consumer_after = 0.0;
    let mut max_fall: f64 = 0.0;
    let mut sum_change = 0.0;
    let mut bus_change: BTreeMap<u32, (f64, f64)> = BTreeMap::new(); // bus -> (sum change, largest fall)
    let bus_ids: Vec<u32> = input.network.buses.iter().map(|b| b.id).collect();
    let index = input.network.bus_index();
    for ti in 0..input.intervals {
        let (b0, b1) = (&run.result.results[ti], &after.results[ti]);
        let short: HashMap<u32, f64> = b0.shortfalls.iter().map(|s| (s.bus, s.mw)).collect();
        let mut load = vec![0.0; nb];
        for (b, l) in load.iter_mut().enumerate() {
            *l = (input.fixed_load_mw(b, ti) - short.get(&bus_ids[b]).copied().unwrap_or(0.0))
                .max(0.0);
        }
        for bid in &b0.bids {
            load[index[&bid.bus]] += bid.served_mw;
        }
        for b in 0..nb {
            let (p0, p1) = (b0.lmp[b].lmp_per_mwh, b1.lmp[b].lmp_per_mwh);
            consumer_before += load[b] * p0 * hours;
            consumer_after += load[b] * p1 * hours;
            let e = bus_change.entry(bus_ids[b]).or_insert((0.0, 0.0));
            e.0 += p1 - p0;
            e.1 = e.1.max(p0 - p1);
            max_fall = max_fall.max(p0 - p1);
            sum_change += p1 - p0;
        }
    }
    let mut eligible = Vec::new();
    for &u in &flagged {
        let bi = index[&input.units[u].bus];
        let intervals: Vec<usize> = conduct_rows[u]
            .failed_intervals
            .iter()
            .copied()
            .filter(|ti1| {
                let p0 = run.result.results[ti1 - 1].lmp[bi].lmp_per_mwh;
                let p1 = after.results[ti1 - 1].lmp[bi].lmp_per_mwh;
                impact::impact_crossed(p0, p1, t)
            })
            .collect();
        if !intervals.is_empty() {
            eligible.push(MitigationEligible {
                unit_id: conduct_rows[u].unit_id.clone(),
                member_id: conduct_rows[u].member_id.clone(),
                intervals,
            });
        }
    }
    let cells = (input.intervals * nb).max(1) as f64;
    Ok(ImpactResult {
        reclear_run: true,
        mitigated_units: flagged
            .iter()
            .map(|u| conduct_rows[*u].unit_id.clone())
            .collect(),
        mean_lmp_change_per_mwh: sum_change / cells,
        max_lmp_fall_per_mwh: max_fall,
        bus_changes: bus_change
            .into_iter()
            .map(|(bus, (sum, fall))| super::BusImpact {
                bus,
                mean_change_per_mwh: sum / input.intervals.max(1) as f64,
                max_fall_per_mwh: fall,
            })
            .collect(),
        consumer_cost_before: consumer_before,
        consumer_cost_after: consumer_after,
        consumer_cost_change: consumer_after - consumer_before,
        mitigated_lmp: after
            .results
            .iter()
            .map(|r| r.lmp.iter().map(|p| p.lmp_per_mwh).collect())
            .collect(),
        eligible,
    })
}

/// Whether unit `u` is marginal in interval `ti`: on, with a segment
/// accepted in part (it sets the price at its bus).
pub(crate) fn is_marginal(run: &ClearingRun, u: usize, ti: usize) -> bool {
    let d = &run.result.results[ti].units[u];
    d.on && d
        .segments_mw
        .iter()
        .zip(run.input.offer(u, ti))
        .any(|(q, s)| *q > 1e-6 && *q < s.quantity_mw - 1e-6)
}

/// Units with a partly accepted segment (or output strictly between their
/// minimum and maximum) set the price at their bus: their Lerner index
/// against the reference at their output.
fn lerner_of_marginal_units(
    run: &ClearingRun,
    view: &View,
    references: &[Option<ReferenceCurve>],
) -> Vec<UnitLerner> {
    let input = &run.input;
    let index = input.network.bus_index();
    let mut out = Vec::new();
    for (u, unit) in input.units.iter().enumerate() {
        let mut marginal = 0usize;
        let mut values = Vec::new();
        for ti in 0..input.intervals {
            if !is_marginal(run, u, ti) {
                continue;
            }
            let d = &run.result.results[ti].units[u];
            marginal += 1;
            if let Some(r) = &references[u] {
                let price = run.result.results[ti].lmp[index[&unit.bus]].lmp_per_mwh;
                values.extend(impact::lerner(price, r.price_at(d.output_mw)));
            }
        }
        if marginal > 0 {
            out.push(UnitLerner {
                unit_id: unit.id.clone(),
                member_id: view.suppliers[view.supplier_of[u]].clone(),
                intervals_marginal: marginal,
                mean: (!values.is_empty())
                    .then(|| values.iter().sum::<f64>() / values.len() as f64),
                max: values.iter().copied().reduce(f64::max),
            });
        }
    }
    out
}

/// Volumes, prices, spread, congestion rent and uplift of the day.
pub(crate) fn day_statistics(run: &ClearingRun, ctx: &DayContext) -> DayStatistics {
    let input = &run.input;
    let hours = input.interval_minutes / 60.0;
    let mut samples = Vec::new();
    let (mut gen_mwh, mut served_mwh, mut short_mwh) = (0.0, 0.0, 0.0);
    for (ti, r) in run.result.results.iter().enumerate() {
        gen_mwh += r.units.iter().map(|u| u.output_mw).sum::<f64>() * hours;
        let short: f64 = r.shortfalls.iter().map(|s| s.mw).sum();
        short_mwh += short * hours;
        served_mwh +=
            (r.fixed_load_mw - short + r.bids.iter().map(|b| b.served_mw).sum::<f64>()) * hours;
        for (b, p) in r.lmp.iter().enumerate() {
            samples.push((p.lmp_per_mwh, input.fixed_load_mw(b, ti)));
        }
    }
    let prices: PriceDistribution = statistics::price_distribution(&samples);
    let spread = ctx.real_time.as_ref().map(|rt| {
        let mut sum = 0.0;
        let mut abs = 0.0;
        let mut k = 0usize;
        for (a, b) in run.result.results.iter().zip(&rt.result.results) {
            for (p, q) in a.lmp.iter().zip(&b.lmp) {
                sum += q.lmp_per_mwh - p.lmp_per_mwh;
                abs += (q.lmp_per_mwh - p.lmp_per_mwh).abs();
                k += 1;
            }
        }
        let k = k.max(1) as f64;
        (sum / k, abs / k)
    });
    // uplift: what units' as-offered cost exceeds their market revenue over the day
    let mut uplift = 0.0;
    let index = input.network.bus_index();
    for (u, unit) in input.units.iter().enumerate() {
        let mut net = 0.0;
        for ti in 0..input.intervals {
            let d = &run.result.results[ti].units[u];
            if !d.on {
                continue;
            }
            let offer = input.offer(u, ti);
            let cost = unit.pmin_mw * offer.first().map_or(0.0, |s| s.price_per_mwh)
                + offer
                    .iter()
                    .zip(&d.segments_mw)
                    .map(|(s, q)| s.price_per_mwh * q)
                    .sum::<f64>();
            let revenue = run.result.results[ti].lmp[index[&unit.bus]].lmp_per_mwh * d.output_mw;
            net += (cost - revenue) * hours;
        }
        uplift += net.max(0.0);
    }
    DayStatistics {
        generation_mwh: gen_mwh,
        served_mwh,
        shortfall_mwh: short_mwh,
        prices,
        da_rt_spread_mean_per_mwh: spread.map(|s| s.0),
        da_rt_spread_mean_abs_per_mwh: spread.map(|s| s.1),
        congestion_rent: crate::settlement::congestion_rent(run),
        uplift,
    }
}
