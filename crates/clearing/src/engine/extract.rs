//! Reading the result from an optimal solution (docs/clearing.md, "How
//! prices are read"): LMPs from the balance and network-row duals, unit
//! dispatch with its segments and marginal value, served bids, located
//! shortfalls and surpluses, branch and section flows with their shadow
//! prices, and the objective recomputed from the dispatch.
//! This module reads the solution; it does not change the model.

use std::collections::HashMap;

use highs::SolvedModel;

use super::layout::{ColKind, Layout};
use super::network::{NetworkRows, Watched, section_flow};
use crate::input::{ClearingInput, CostMode};
use crate::result::*;

/// The result of an optimal solution; `warnings` receives one line per
/// interval with unserved load or over-generation.
pub(super) fn extract(
    input: &ClearingInput,
    layout: &Layout,
    network: &mut NetworkRows,
    sol: &SolvedModel,
    warnings: &mut Vec<String>,
) -> ClearingResult {
    let solution = sol.get_solution();
    let x = solution.columns();
    let y = solution.dual_rows();
    let nt = input.intervals;
    let hours = input.interval_minutes / 60.0;
    let duals = NetworkDuals::read(layout, network, y, nt);
    let read = Reader {
        input,
        layout,
        x,
        y,
        bus_ids: input.network.buses.iter().map(|b| b.id).collect(),
        bus_index: input.network.bus_index(),
    };
    let mut intervals = Vec::with_capacity(nt);
    for t in 0..nt {
        let flows = network.net.flows(&layout.injections(x, t));
        let net = &network.net;
        let energy: Vec<f64> = (0..net.n_islands())
            .map(|isl| y[layout.balance_row[isl][t]])
            .collect();
        let lmp: Vec<BusPrice> = (0..net.n_bus)
            .map(|b| {
                let e = energy[net.island_of_bus[b]];
                let c = duals.congestion[t][b];
                BusPrice {
                    bus: read.bus_ids[b],
                    lmp_per_mwh: e + c,
                    energy_per_mwh: e,
                    congestion_per_mwh: c,
                    loss_per_mwh: 0.0,
                }
            })
            .collect();
        let units = read.units(t, &lmp);
        let served = read.bids_and_slacks(t);
        let branches = branch_flows(input, &network.limits, &duals.branch[t], &flows);
        let sections = section_flows(input, &duals.section[t], &flows);
        if !served.shortfalls.is_empty() {
            let total: f64 = served.shortfalls.iter().map(|s| s.mw).sum();
            warnings.push(format!("interval {}: {total:.3} MW of fixed load not served (priced at the value of lost load)", t + 1));
        }
        if !served.surpluses.is_empty() {
            let total: f64 = served.surpluses.iter().map(|s| s.mw).sum();
            warnings.push(format!(
                "interval {}: {total:.3} MW of over-generation",
                t + 1
            ));
        }
        let fixed_load: f64 = (0..net.n_bus).map(|b| input.fixed_load_mw(b, t)).sum();
        let contingencies = contingency_flows(network, &duals.contingency[t], &flows);
        let objective_per_h = units.offer_cost - served.bid_value + served.penalty;
        intervals.push(IntervalResult {
            interval: t + 1,
            fixed_load_mw: fixed_load,
            energy_price_per_mwh: energy,
            lmp,
            units: units.dispatch,
            bids: served.bids,
            shortfalls: served.shortfalls,
            surpluses: served.surpluses,
            branches,
            sections,
            contingencies,
            offer_cost_per_h: units.offer_cost,
            bid_value_per_h: served.bid_value,
            penalty_cost_per_h: served.penalty,
            must_run_cost_per_h: units.must_run_cost,
            objective_per_h,
        });
    }
    let objective: f64 = intervals.iter().map(|i| i.objective_per_h * hours).sum();
    let solver_objective = (sol.objective_value() + layout.objective_offset) * hours;
    if (objective - solver_objective).abs() > 1e-6 * objective.abs().max(1.0) {
        warnings.push(format!("objective recomputed from the dispatch ({objective}) differs from the solver's ({solver_objective})"));
    }
    ClearingResult {
        case_name: input.network.name.clone(),
        cost_mode: input.settings.cost_mode,
        intervals: nt,
        interval_minutes: input.interval_minutes,
        status: "optimal".into(),
        objective,
        welfare: -objective,
        located_slacks: false,
        results: intervals,
        warnings: vec![],
        stats: RunStats::default(),
    }
}

/// Duals μ of the network rows per interval, and the congestion part of
/// each bus's LMP: Σ PTDF_b·μ over the rows of the interval.
struct NetworkDuals {
    branch: Vec<HashMap<usize, f64>>,
    section: Vec<HashMap<usize, f64>>,
    /// (monitored, outage, dual) of the binding N-1 rows.
    contingency: Vec<Vec<(usize, usize, f64)>>,
    congestion: Vec<Vec<f64>>,
}

impl NetworkDuals {
    fn read(layout: &Layout, network: &mut NetworkRows, y: &[f64], nt: usize) -> Self {
        let n_base = layout.base_rows.len();
        let mut duals = NetworkDuals {
            branch: vec![HashMap::new(); nt],
            section: vec![HashMap::new(); nt],
            contingency: vec![Vec::new(); nt],
            congestion: vec![vec![0.0; network.net.n_bus]; nt],
        };
        for k in 0..network.active.len() {
            let a = network.active[k];
            let d = y[n_base + k];
            if d.abs() < 1e-9 {
                continue;
            }
            match a.what {
                Watched::Branch(l) => {
                    duals.branch[a.t].insert(l, d);
                }
                Watched::Section(s) => {
                    duals.section[a.t].insert(s, d);
                }
                Watched::Contingency { monitored, outage } => {
                    duals.contingency[a.t].push((monitored, outage, d));
                }
            }
            let ptdf = network.ptdf(a.what);
            for (c, p) in duals.congestion[a.t].iter_mut().zip(ptdf.iter()) {
                *c += p * d;
            }
        }
        duals
    }
}

/// The solution and the lookups every interval needs.
struct Reader<'a> {
    input: &'a ClearingInput,
    layout: &'a Layout,
    x: &'a [f64],
    y: &'a [f64],
    bus_ids: Vec<u32>,
    bus_index: HashMap<u32, usize>,
}

/// Dispatch of every unit in one interval, with the offer cost (incl. the
/// polynomial's value in polynomial mode) and the unpriced must-run cost.
struct UnitsOfInterval {
    dispatch: Vec<UnitDispatch>,
    offer_cost: f64,
    must_run_cost: f64,
}

/// Served bids and the slacks used in one interval, with their value.
struct ServedOfInterval {
    bids: Vec<BidAward>,
    bid_value: f64,
    shortfalls: Vec<BusQuantity>,
    surpluses: Vec<BusQuantity>,
    penalty: f64,
}

impl Reader<'_> {
    /// P = pmin + x of every on unit, its accepted segments, its ramp dual
    /// and marginal value LMP + ramp dual(t) − ramp dual(t+1).
    fn units(&self, t: usize, lmp: &[BusPrice]) -> UnitsOfInterval {
        let (input, layout, x, y) = (self.input, self.layout, self.x, self.y);
        let mut out = UnitsOfInterval {
            dispatch: Vec::new(),
            offer_cost: 0.0,
            must_run_cost: 0.0,
        };
        for (u, unit) in input.units.iter().enumerate() {
            let Some(c) = layout.unit_col[u][t] else {
                out.dispatch.push(UnitDispatch {
                    unit: unit.id.clone(),
                    bus: unit.bus,
                    on: false,
                    output_mw: 0.0,
                    segments_mw: vec![],
                    ramp_dual_per_mwh: 0.0,
                    marginal_value_per_mwh: 0.0,
                });
                continue;
            };
            let above = x[c];
            let segs: Vec<f64> = layout
                .cols
                .iter()
                .enumerate()
                .skip(c + 1)
                .take_while(|(_, s)| {
                    matches!(s.kind, ColKind::Segment { u: su } if su == u) && s.t == t
                })
                .map(|(i, _)| x[i])
                .collect();
            match input.settings.cost_mode {
                CostMode::Steps => {
                    out.offer_cost += input
                        .offer(u, t)
                        .iter()
                        .zip(&segs)
                        .map(|(o, q)| o.price_per_mwh * q)
                        .sum::<f64>();
                    out.must_run_cost += match &unit.quadratic_cost {
                        Some(q) => q.cost_per_h(unit.pmin_mw) - q.c0_per_h,
                        None => {
                            unit.pmin_mw
                                * input.offer(u, t).first().map_or(0.0, |s| s.price_per_mwh)
                        }
                    };
                }
                CostMode::Polynomial => {
                    let q = unit.quadratic_cost.expect("validated");
                    out.offer_cost += q.cost_per_h(unit.pmin_mw + above);
                }
            }
            let ramp_dual = layout.ramp_row[u][t].map_or(0.0, |r| y[r]);
            let next_dual = if t + 1 < input.intervals {
                layout.ramp_row[u][t + 1].map_or(0.0, |r| y[r])
            } else {
                0.0
            };
            let bi = self.bus_index[&unit.bus];
            out.dispatch.push(UnitDispatch {
                unit: unit.id.clone(),
                bus: unit.bus,
                on: true,
                output_mw: unit.pmin_mw + above,
                segments_mw: segs,
                ramp_dual_per_mwh: ramp_dual,
                marginal_value_per_mwh: lmp[bi].lmp_per_mwh + ramp_dual - next_dual,
            });
        }
        out
    }

    /// Served quantity of every bid (by segment), and the shortfalls and
    /// surpluses above 1e-7 MW at their buses, priced at VOLL and c_over.
    fn bids_and_slacks(&self, t: usize) -> ServedOfInterval {
        let (input, layout, x) = (self.input, self.layout, self.x);
        let voll = input.settings.value_of_lost_load_per_mwh;
        let mut out = ServedOfInterval {
            bids: Vec::new(),
            bid_value: 0.0,
            shortfalls: Vec::new(),
            surpluses: Vec::new(),
            penalty: 0.0,
        };
        let mut bid_acc: HashMap<usize, Vec<f64>> = HashMap::new();
        for &c in &layout.cols_of_interval[t] {
            let spec = &layout.cols[c];
            match spec.kind {
                ColKind::Bid { j, .. } => {
                    bid_acc.entry(j).or_default().push(x[c]);
                    out.bid_value += -spec.cost * x[c];
                }
                ColKind::Shortfall { bus, .. } if x[c] > 1e-7 => {
                    let b = bus.unwrap_or_else(|| spec.inj.expect("injects").0);
                    out.shortfalls.push(BusQuantity {
                        bus: self.bus_ids[b],
                        mw: x[c],
                    });
                    out.penalty += voll * x[c];
                }
                ColKind::Surplus { bus, .. } if x[c] > 1e-7 => {
                    let b = bus.unwrap_or_else(|| spec.inj.expect("injects").0);
                    out.surpluses.push(BusQuantity {
                        bus: self.bus_ids[b],
                        mw: x[c],
                    });
                    out.penalty += input.settings.over_generation_penalty_per_mwh * x[c];
                }
                _ => {}
            }
        }
        for (j, bid) in input.demand_bids.iter().enumerate() {
            let segs = bid_acc.remove(&j).unwrap_or_default();
            out.bids.push(BidAward {
                bid: bid.id.clone(),
                bus: bid.bus,
                served_mw: segs.iter().sum(),
                segments_mw: segs,
            });
        }
        out
    }
}

/// Flow of every branch with its limits and dual (binding when |μ| > 1e-6).
fn branch_flows(
    input: &ClearingInput,
    limits: &[Option<(f64, f64)>],
    dual: &HashMap<usize, f64>,
    flows: &[f64],
) -> Vec<BranchFlow> {
    input
        .network
        .branches
        .iter()
        .enumerate()
        .map(|(l, br)| {
            let d = dual.get(&l).copied().unwrap_or(0.0);
            let (lo, hi) = limits[l].unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
            BranchFlow {
                index: l,
                from_bus: br.from_bus,
                to_bus: br.to_bus,
                flow_mw: flows[l],
                min_flow_mw: lo.is_finite().then_some(lo),
                max_flow_mw: hi.is_finite().then_some(hi),
                shadow_price_per_mwh: d.abs(),
                dual_per_mwh: d,
                binding: d.abs() > 1e-6,
            }
        })
        .collect()
}

/// The binding N-1 constraints of one interval with their post-contingency flows.
fn contingency_flows(
    network: &mut NetworkRows,
    duals: &[(usize, usize, f64)],
    flows: &[f64],
) -> Vec<ContingencyFlow> {
    duals
        .iter()
        .filter(|(_, _, d)| d.abs() > 1e-6)
        .map(|&(l, k, d)| {
            let post = network.post_contingency_flow(l, k, flows);
            let (lo, hi) = network
                .security
                .as_ref()
                .and_then(|s| s.emergency[l])
                .expect("monitored branches have an emergency range");
            ContingencyFlow {
                monitored: l,
                outage: k,
                post_flow_mw: post,
                limit_mw: if d < 0.0 { hi } else { lo },
                shadow_price_per_mwh: d.abs(),
                dual_per_mwh: d,
            }
        })
        .collect()
}

/// Flow of every section with its limit and dual.
fn section_flows(
    input: &ClearingInput,
    dual: &HashMap<usize, f64>,
    flows: &[f64],
) -> Vec<SectionFlow> {
    input
        .network
        .sections
        .iter()
        .enumerate()
        .map(|(s, sec)| {
            let d = dual.get(&s).copied().unwrap_or(0.0);
            SectionFlow {
                name: sec.name.clone(),
                flow_mw: section_flow(&sec.members, flows),
                limit_mw: sec.limit_mw,
                shadow_price_per_mwh: d.abs(),
                dual_per_mwh: d,
                binding: d.abs() > 1e-6,
            }
        })
        .collect()
}
