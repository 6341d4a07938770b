//! The static part of the LP (docs/clearing.md, "Model"): its columns
//! (variables x, y, z, σ⁺, σ⁻) and base rows (power balance, output links,
//! ramps), built in one step per part of the formulation. Network rows are
//! not here; constraint generation adds them ([`super::network`]).
//! This module builds descriptions only; it does not touch the solver.

use std::collections::HashMap;

use crate::dcnet::DcNetwork;
use crate::input::{ClearingInput, CostMode};

/// Where a column belongs in the formulation.
#[derive(Debug, Clone, Copy)]
pub(super) enum ColKind {
    /// x_gt: output of unit g above pmin (step mode: a free column linked to its segments).
    UnitOutput,
    /// y_gkt: accepted quantity of one offer segment of unit u.
    Segment { u: usize },
    /// z_jkt: served quantity of one segment of demand bid j.
    Bid { j: usize },
    /// σ⁺: unserved load; at a bus when located, else at the island's reference bus.
    Shortfall { bus: Option<usize> },
    /// σ⁻: over-generation; at a bus when located, else at the island's reference bus.
    Surplus { bus: Option<usize> },
}

#[derive(Debug, Clone)]
pub(super) struct ColSpec {
    pub kind: ColKind,
    pub t: usize,
    pub cost: f64,
    pub lo: f64,
    pub hi: f64,
    /// Quadratic coefficient (objective ½·q·x²), polynomial mode only.
    pub q: f64,
    /// Injection bus and sign (+1 generation, −1 consumption); None for
    /// columns that inject nowhere (segments).
    pub inj: Option<(usize, f64)>,
    /// Sign in the island balance row (0 = not in it).
    pub balance: f64,
}

#[derive(Debug, Clone)]
pub(super) struct RowSpec {
    pub lo: f64,
    pub hi: f64,
    pub entries: Vec<(usize, f64)>,
}

/// Static data of one run.
pub(super) struct Layout {
    pub cols: Vec<ColSpec>,
    pub base_rows: Vec<RowSpec>,
    /// Row index of the balance row of (island, t).
    pub balance_row: Vec<Vec<usize>>,
    /// Column of unit output (above pmin) per (unit, t), None when off.
    pub unit_col: Vec<Vec<Option<usize>>>,
    /// Ramp row of (unit, t) constraining P_t − P_{t−1} (t = 0: against initial output).
    pub ramp_row: Vec<Vec<Option<usize>>>,
    /// Columns of each interval with an injection.
    pub cols_of_interval: Vec<Vec<usize>>,
    /// Constant injection per (t, bus): Σ pmin of on units − fixed load.
    pub const_injection: Vec<Vec<f64>>,
    pub objective_offset: f64,
    pub located_slacks: bool,
}

impl Layout {
    /// Build the LP without network rows. `located`: one shortfall and
    /// surplus slack per bus instead of per island.
    pub(super) fn build(
        input: &ClearingInput,
        net: &DcNetwork,
        bus_index: &HashMap<u32, usize>,
        located: bool,
        warnings: &mut Vec<String>,
    ) -> Layout {
        let nt = input.intervals;
        let mut layout = Layout {
            cols: Vec::new(),
            base_rows: Vec::new(),
            balance_row: Vec::new(),
            unit_col: vec![vec![None; nt]; input.units.len()],
            ramp_row: vec![vec![None; nt]; input.units.len()],
            cols_of_interval: vec![Vec::new(); nt],
            const_injection: fixed_load_injection(input, net.n_bus),
            objective_offset: 0.0,
            located_slacks: located,
        };
        let unit_bus: Vec<usize> = input.units.iter().map(|u| bus_index[&u.bus]).collect();
        layout.add_balance_rows(net.n_islands(), nt);
        layout.add_unit_outputs(input, &unit_bus);
        layout.add_ramp_rows(input, warnings);
        layout.add_demand_bids(input, bus_index);
        if located {
            layout.add_bus_slacks(input, net, &unit_bus);
        } else {
            layout.add_island_slacks(input, net, &unit_bus);
        }
        layout.fill_balance_rows(net);
        layout
    }

    /// Append a column; columns that inject join their interval's list.
    fn add_col(&mut self, spec: ColSpec) -> usize {
        let c = self.cols.len();
        if spec.inj.is_some() {
            self.cols_of_interval[spec.t].push(c);
        }
        self.cols.push(spec);
        c
    }

    fn add_row(&mut self, row: RowSpec) -> usize {
        self.base_rows.push(row);
        self.base_rows.len() - 1
    }

    /// Constraint 1, first part: one empty balance row per (island, interval),
    /// first among the rows; entries and right-hand side come last
    /// ([`Self::fill_balance_rows`]), once every column exists.
    fn add_balance_rows(&mut self, n_islands: usize, nt: usize) {
        self.balance_row = (0..n_islands)
            .map(|_| {
                (0..nt)
                    .map(|_| {
                        self.add_row(RowSpec {
                            lo: 0.0,
                            hi: 0.0,
                            entries: vec![],
                        })
                    })
                    .collect()
            })
            .collect();
    }

    /// Variables x_gt of every on unit, with pmin moved to the constant
    /// injection. Polynomial mode: 0 ≤ x ≤ pmax − pmin with the cost
    /// polynomial shifted to pmin. Step mode: a free x linked to its offer
    /// segments y_gkt by the row x − Σ_k y_gkt = 0.
    fn add_unit_outputs(&mut self, input: &ClearingInput, unit_bus: &[usize]) {
        let poly = input.settings.cost_mode == CostMode::Polynomial;
        for (u, unit) in input.units.iter().enumerate() {
            let b = unit_bus[u];
            for t in 0..input.intervals {
                if !input.unit_on(u, t) {
                    continue;
                }
                self.const_injection[t][b] += unit.pmin_mw;
                let width = (unit.pmax_mw - unit.pmin_mw).max(0.0);
                if poly {
                    let q = unit.quadratic_cost.expect("validated");
                    // cost(pmin + x) = c2 x² + (2 c2 pmin + c1) x + cost(pmin)
                    self.objective_offset += q.cost_per_h(unit.pmin_mw);
                    let c = self.add_col(ColSpec {
                        kind: ColKind::UnitOutput,
                        t,
                        cost: 2.0 * q.c2_per_mw2h * unit.pmin_mw + q.c1_per_mwh,
                        lo: 0.0,
                        hi: width,
                        q: 2.0 * q.c2_per_mw2h,
                        inj: Some((b, 1.0)),
                        balance: 1.0,
                    });
                    self.unit_col[u][t] = Some(c);
                } else {
                    let c = self.add_col(ColSpec {
                        kind: ColKind::UnitOutput,
                        t,
                        cost: 0.0,
                        lo: f64::NEG_INFINITY,
                        hi: f64::INFINITY,
                        q: 0.0,
                        inj: Some((b, 1.0)),
                        balance: 1.0,
                    });
                    self.unit_col[u][t] = Some(c);
                    let mut link = vec![(c, 1.0)];
                    for seg in input.offer(u, t) {
                        let s = self.add_col(ColSpec {
                            kind: ColKind::Segment { u },
                            t,
                            cost: seg.price_per_mwh,
                            lo: 0.0,
                            hi: seg.quantity_mw.min(width),
                            q: 0.0,
                            inj: None,
                            balance: 0.0,
                        });
                        link.push((s, -1.0));
                    }
                    self.add_row(RowSpec {
                        lo: 0.0,
                        hi: 0.0,
                        entries: link,
                    });
                }
            }
        }
    }

    /// Constraint 4: −RD ≤ x_gt − x_g,t−1 ≤ RU between consecutive
    /// on-intervals (pmin cancels), and against `initial_output_mw` at t = 1
    /// unless the unit cannot reach its range from there (then a warning).
    fn add_ramp_rows(&mut self, input: &ClearingInput, warnings: &mut Vec<String>) {
        for (u, unit) in input.units.iter().enumerate() {
            let ru = unit.ramp_up_mw.unwrap_or(f64::INFINITY);
            let rd = unit.ramp_down_mw.unwrap_or(f64::INFINITY);
            if ru.is_infinite() && rd.is_infinite() {
                continue;
            }
            for t in 0..input.intervals {
                let Some(c) = self.unit_col[u][t] else {
                    continue;
                };
                if t == 0 {
                    if let Some(init) = unit.initial_output_mw {
                        let lo = init - rd - unit.pmin_mw;
                        let hi = init + ru - unit.pmin_mw;
                        let width = unit.pmax_mw - unit.pmin_mw;
                        if hi < 0.0 || lo > width {
                            warnings.push(format!(
                                "unit {}: initial output {init} MW cannot reach its range in interval 1 within its ramp limits; first-interval ramp not enforced",
                                unit.id
                            ));
                            continue;
                        }
                        self.ramp_row[u][t] = Some(self.add_row(RowSpec {
                            lo,
                            hi,
                            entries: vec![(c, 1.0)],
                        }));
                    }
                    continue;
                }
                let Some(p) = self.unit_col[u][t - 1] else {
                    continue;
                };
                self.ramp_row[u][t] = Some(self.add_row(RowSpec {
                    lo: -rd,
                    hi: ru,
                    entries: vec![(c, 1.0), (p, -1.0)],
                }));
            }
        }
    }

    /// Variables z_jkt ∈ [0, q_jkt] of every demand bid segment, priced −v.
    fn add_demand_bids(&mut self, input: &ClearingInput, bus_index: &HashMap<u32, usize>) {
        for (j, bid) in input.demand_bids.iter().enumerate() {
            let b = bus_index[&bid.bus];
            for t in 0..input.intervals {
                for seg in input.bid(j, t) {
                    self.add_col(ColSpec {
                        kind: ColKind::Bid { j },
                        t,
                        cost: -seg.price_per_mwh,
                        lo: 0.0,
                        hi: seg.quantity_mw,
                        q: 0.0,
                        inj: Some((b, -1.0)),
                        balance: -1.0,
                    });
                }
            }
        }
    }

    /// Slacks σ⁺ (VOLL) and σ⁻ (over-generation penalty) per bus, bounded
    /// by what the bus can shed or spill.
    fn add_bus_slacks(&mut self, input: &ClearingInput, net: &DcNetwork, unit_bus: &[usize]) {
        let room = SlackRoom::new(input, net.n_bus, unit_bus);
        for t in 0..input.intervals {
            for b in 0..net.n_bus {
                let (short_max, surplus_max) = room.at(input, b, t);
                self.add_slacks(input, t, b, Some(b), short_max, surplus_max);
            }
        }
    }

    /// Slacks σ⁺ and σ⁻ per island, at its reference bus (so they add no
    /// entries to the PTDF rows), bounded by the island's room.
    fn add_island_slacks(&mut self, input: &ClearingInput, net: &DcNetwork, unit_bus: &[usize]) {
        let room = SlackRoom::new(input, net.n_bus, unit_bus);
        for t in 0..input.intervals {
            for isl in 0..net.n_islands() {
                let mut short_max = 0.0;
                let mut surplus_max = 0.0;
                for b in (0..net.n_bus).filter(|&b| net.island_of_bus[b] == isl) {
                    let (short, surplus) = room.at(input, b, t);
                    short_max += short;
                    surplus_max += surplus;
                }
                let reference = net.island_reference[isl];
                self.add_slacks(input, t, reference, None, short_max, surplus_max);
            }
        }
    }

    /// One shortfall and one surplus column at `at`, each only if it has room.
    fn add_slacks(
        &mut self,
        input: &ClearingInput,
        t: usize,
        at: usize,
        bus: Option<usize>,
        short_max: f64,
        surplus_max: f64,
    ) {
        if short_max > 0.0 {
            self.add_col(ColSpec {
                kind: ColKind::Shortfall { bus },
                t,
                cost: input.settings.value_of_lost_load_per_mwh,
                lo: 0.0,
                hi: short_max,
                q: 0.0,
                inj: Some((at, 1.0)),
                balance: 1.0,
            });
        }
        if surplus_max > 0.0 {
            self.add_col(ColSpec {
                kind: ColKind::Surplus { bus },
                t,
                cost: input.settings.over_generation_penalty_per_mwh,
                lo: 0.0,
                hi: surplus_max,
                q: 0.0,
                inj: Some((at, -1.0)),
                balance: -1.0,
            });
        }
    }

    /// Constraint 1, second part: Σ sign·x over the island's columns
    /// = −Σ constant injection of the island.
    fn fill_balance_rows(&mut self, net: &DcNetwork) {
        for (c, spec) in self.cols.iter().enumerate() {
            if spec.balance != 0.0 {
                let (b, _) = spec.inj.expect("balance columns inject");
                let isl = net.island_of_bus[b];
                self.base_rows[self.balance_row[isl][spec.t]]
                    .entries
                    .push((c, spec.balance));
            }
        }
        for (t, injection) in self.const_injection.iter().enumerate() {
            let mut rhs = vec![0.0; net.n_islands()];
            for (b, c) in injection.iter().enumerate() {
                rhs[net.island_of_bus[b]] -= c;
            }
            for (isl, rhs) in rhs.into_iter().enumerate() {
                let r = &mut self.base_rows[self.balance_row[isl][t]];
                r.lo = rhs;
                r.hi = rhs;
            }
        }
    }

    /// Whether a primal solution uses any shortfall or surplus.
    pub(super) fn slacks_used(&self, x: &[f64]) -> bool {
        self.cols.iter().zip(x).any(|(c, v)| {
            matches!(c.kind, ColKind::Shortfall { .. } | ColKind::Surplus { .. }) && *v > 1e-6
        })
    }

    /// Net injection per bus in interval t of a primal solution (MW).
    pub(super) fn injections(&self, x: &[f64], t: usize) -> Vec<f64> {
        let mut inj = self.const_injection[t].clone();
        for &c in &self.cols_of_interval[t] {
            if let Some((b, s)) = self.cols[c].inj {
                inj[b] += s * x[c];
            }
        }
        inj
    }
}

/// L_bt as a constant withdrawal per (interval, bus); pmin of on units is
/// added by [`Layout::add_unit_outputs`].
fn fixed_load_injection(input: &ClearingInput, nb: usize) -> Vec<Vec<f64>> {
    (0..input.intervals)
        .map(|t| (0..nb).map(|b| 0.0 - input.fixed_load_mw(b, t)).collect())
        .collect()
}

/// What each bus could shed or spill per interval: load (plus consumption of
/// on units with negative pmin) and must-run output (plus negative load).
struct SlackRoom {
    neg_pmin: Vec<Vec<f64>>,
    pos_pmin: Vec<Vec<f64>>,
}

impl SlackRoom {
    fn new(input: &ClearingInput, nb: usize, unit_bus: &[usize]) -> Self {
        let nt = input.intervals;
        let mut neg_pmin = vec![vec![0.0; nb]; nt];
        let mut pos_pmin = vec![vec![0.0; nb]; nt];
        for (u, unit) in input.units.iter().enumerate() {
            for t in 0..nt {
                if input.unit_on(u, t) {
                    neg_pmin[t][unit_bus[u]] += (-unit.pmin_mw).max(0.0);
                    pos_pmin[t][unit_bus[u]] += unit.pmin_mw.max(0.0);
                }
            }
        }
        Self { neg_pmin, pos_pmin }
    }

    /// (largest shortfall, largest surplus) at bus b in interval t.
    fn at(&self, input: &ClearingInput, b: usize, t: usize) -> (f64, f64) {
        let load = input.fixed_load_mw(b, t);
        (
            load.max(0.0) + self.neg_pmin[t][b],
            self.pos_pmin[t][b] + (-load).max(0.0),
        )
    }
}
