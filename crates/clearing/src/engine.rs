//! The clearing engine: multi-interval DC-OPF with PTDF constraint
//! generation, solved by HiGHS, priced from the duals.
//!
//! Loop: build the LP with power balance (one row per island and interval),
//! unit output links and ramp rows, but no network rows; solve; compute DC
//! flows of the dispatch with the factorised network; add the rows of violated
//! (and nearly loaded) branches and sections as PTDF rows; re-solve from the
//! previous basis; stop when no flow violates its limit. A solver failure is
//! retried cold with presolve off, then with interior point. Shortfall and
//! surplus are priced slacks: first one per island (cheap, dense-free), and if
//! any is used or the LP is infeasible, one per bus (located shortfalls).
//! The formulation, sign conventions and price rules are in docs/clearing.md.
//! This module must not read files or print.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use highs::{Col, HessianFormat, HighsModelStatus, Model, RowProblem, Sense, SolvedModel};

use crate::dcnet::DcNetwork;
use crate::error::ClearingError;
use crate::input::{ClearingInput, CostMode};
use crate::result::*;

/// A network row that constraint generation can add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Watched {
    Branch(usize),
    Section(usize),
}

#[derive(Debug, Clone, Copy)]
struct ActiveRow {
    what: Watched,
    t: usize,
}

/// Where a column injects: bus index and sign (+1 generation, −1 consumption).
#[derive(Debug, Clone, Copy)]
enum ColKind {
    /// Output above pmin of unit u (step mode: free linking column).
    UnitOutput,
    Segment {
        u: usize,
    },
    Bid {
        j: usize,
    },
    Shortfall {
        bus: Option<usize>,
    },
    Surplus {
        bus: Option<usize>,
    },
}

#[derive(Debug, Clone)]
struct ColSpec {
    kind: ColKind,
    t: usize,
    cost: f64,
    lo: f64,
    hi: f64,
    /// Quadratic coefficient (objective ½·q·x²), polynomial mode only.
    q: f64,
    /// Injection bus and sign (None for columns that inject nowhere, e.g. segments).
    inj: Option<(usize, f64)>,
    /// Sign in the island balance row (0 = not in it).
    balance: f64,
}

#[derive(Debug, Clone)]
struct RowSpec {
    lo: f64,
    hi: f64,
    entries: Vec<(usize, f64)>,
}

/// Static data of one run.
struct Layout {
    cols: Vec<ColSpec>,
    base_rows: Vec<RowSpec>,
    /// Row index of the balance row of (island, t).
    balance_row: Vec<Vec<usize>>,
    /// Column of unit output (above pmin) per (unit, t), None when off.
    unit_col: Vec<Vec<Option<usize>>>,
    /// Ramp row of (unit, t) constraining P_t − P_{t−1} (t = 0: against initial output).
    ramp_row: Vec<Vec<Option<usize>>>,
    /// Columns of each interval with an injection.
    cols_of_interval: Vec<Vec<usize>>,
    /// Constant injection per (t, bus): Σ pmin of on units − fixed load.
    const_injection: Vec<Vec<f64>>,
    objective_offset: f64,
    located_slacks: bool,
}

/// Run the clearing. `progress` is called after each solve round.
pub fn clear_with_progress(
    input: &ClearingInput,
    progress: &mut dyn FnMut(&RoundStats),
) -> Result<ClearingResult, ClearingError> {
    let started = Instant::now();
    input.validate()?;
    let mut warnings = Vec::new();
    let t_build = Instant::now();
    let mut net = DcNetwork::new(&input.network)?;
    let factor_ms = ms(t_build);
    let limits = branch_limits(input, &net);
    let bus_index = input.network.bus_index();

    let mut layout = build_layout(input, &net, &bus_index, false, &mut warnings);
    let mut active: Vec<ActiveRow> = Vec::new();
    let mut active_set: HashSet<(Watched, usize)> = HashSet::new();
    let mut ptdf_cache: HashMap<Watched, Vec<f64>> = HashMap::new();
    let mut ptdf_ms = factor_ms;
    let (mut model, mut cols) = build_model(&layout, &active, &mut ptdf_cache, &mut net, input)?;
    let build_ms = ms(t_build) - factor_ms;

    let mut rounds: Vec<RoundStats> = Vec::new();
    let mut solved: Option<SolvedModel> = None;
    let mut solve_ms = 0.0;
    let max_rounds = input.settings.max_rounds.max(1);
    let mut located_switch_done = false;
    let mut converged = false;
    for round in 1..=max_rounds {
        let warm = solved.is_some();
        let (sol, strategy, took) = solve_with_fallback(
            model,
            &layout,
            &active,
            &mut ptdf_cache,
            &mut net,
            input,
            warm,
            round,
        )?;
        solve_ms += took;
        let status = sol.status();
        if status == HighsModelStatus::Infeasible && !layout.located_slacks {
            // an import-limited pocket: move to per-bus shortfall/surplus slacks
            warnings.push("network rows made the LP infeasible with system slacks; switched to per-bus shortfall and surplus".into());
            layout = build_layout(input, &net, &bus_index, true, &mut warnings);
            located_switch_done = true;
            (model, cols) = build_model(&layout, &active, &mut ptdf_cache, &mut net, input)?;
            solved = None;
            rounds.push(RoundStats {
                round,
                added_rows: 0,
                violations: 0,
                solve_ms: took,
                strategy,
                iterations: 0,
                status: format!("{status:?}"),
            });
            progress(rounds.last().expect("just pushed"));
            continue;
        }
        if status != HighsModelStatus::Optimal {
            return Err(ClearingError::UnexpectedStatus {
                status: format!("{status:?}"),
                round,
            });
        }
        let iterations = sol.simplex_iteration_count().max(0) as u64
            + sol.ipm_iteration_count().max(0) as u64
            + sol.qp_iteration_count().max(0) as u64;
        let x = sol.get_solution().columns().to_vec();
        // system slacks used: the shortfall must be located at buses
        if !layout.located_slacks && slacks_used(&layout, &x) {
            warnings.push(
                "shortfall or surplus needed; re-solved with per-bus slacks so that it is located"
                    .into(),
            );
            layout = build_layout(input, &net, &bus_index, true, &mut warnings);
            located_switch_done = true;
            (model, cols) = build_model(&layout, &active, &mut ptdf_cache, &mut net, input)?;
            solved = None;
            rounds.push(RoundStats {
                round,
                added_rows: 0,
                violations: 0,
                solve_ms: took,
                strategy,
                iterations,
                status: "slacks used".into(),
            });
            progress(rounds.last().expect("just pushed"));
            continue;
        }
        // flows and violations
        let t_ptdf = Instant::now();
        let mut violations = 0;
        let mut to_add: Vec<ActiveRow> = Vec::new();
        if input.settings.enforce_branch_limits {
            for t in 0..input.intervals {
                let inj = injections(&layout, &x, t, net.n_bus);
                let flows = net.flows(&inj);
                for (l, lim) in limits.iter().enumerate() {
                    let Some((lo, hi)) = lim else { continue };
                    let f = flows[l];
                    check(
                        Watched::Branch(l),
                        t,
                        f,
                        *lo,
                        *hi,
                        input,
                        &active_set,
                        &mut violations,
                        &mut to_add,
                    );
                }
                for (s, sec) in input.network.sections.iter().enumerate() {
                    let f: f64 = sec
                        .members
                        .iter()
                        .map(|&(l, d)| f64::from(d) * flows[l])
                        .sum();
                    check(
                        Watched::Section(s),
                        t,
                        f,
                        -sec.limit_mw,
                        sec.limit_mw,
                        input,
                        &active_set,
                        &mut violations,
                        &mut to_add,
                    );
                }
            }
        }
        ptdf_ms += ms(t_ptdf);
        let stats = RoundStats {
            round,
            added_rows: to_add.len(),
            violations,
            solve_ms: took,
            strategy,
            iterations,
            status: "optimal".into(),
        };
        rounds.push(stats);
        progress(rounds.last().expect("just pushed"));
        if violations == 0 {
            solved = Some(sol);
            converged = true;
            break;
        }
        // add rows and warm start from the previous basis
        let t_add = Instant::now();
        let mut m: Model = sol.into();
        for row in &to_add {
            active_set.insert((row.what, row.t));
            let spec = network_row(&layout, row, &mut ptdf_cache, &mut net, input);
            add_row_to_model(&mut m, &spec, &cols);
            active.push(*row);
        }
        ptdf_ms += ms(t_add);
        model = m;
        solved = None;
        if round == max_rounds {
            return Err(ClearingError::NotConverged {
                rounds: round,
                violations,
            });
        }
    }
    let Some(sol) = solved.filter(|_| converged) else {
        return Err(ClearingError::NotConverged {
            rounds: max_rounds,
            violations: usize::MAX,
        });
    };
    let t_price = Instant::now();
    let result = extract(
        input,
        &layout,
        &active,
        &sol,
        &mut ptdf_cache,
        &mut net,
        &limits,
        &mut warnings,
    );
    let pricing_ms = ms(t_price);
    let mut result = result;
    result.located_slacks = layout.located_slacks || located_switch_done;
    result.stats = RunStats {
        build_ms,
        ptdf_ms,
        solve_ms,
        pricing_ms,
        total_ms: ms(started),
        columns: layout.cols.len(),
        rows: layout.base_rows.len() + active.len(),
        network_rows: active.len(),
        rounds,
    };
    result.warnings = warnings;
    Ok(result)
}

/// Run the clearing without progress reports.
pub fn clear(input: &ClearingInput) -> Result<ClearingResult, ClearingError> {
    clear_with_progress(input, &mut |_| {})
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

#[allow(clippy::too_many_arguments)]
fn check(
    what: Watched,
    t: usize,
    f: f64,
    lo: f64,
    hi: f64,
    input: &ClearingInput,
    active: &HashSet<(Watched, usize)>,
    violations: &mut usize,
    to_add: &mut Vec<ActiveRow>,
) {
    if active.contains(&(what, t)) {
        return;
    }
    let tol = input.settings.violation_tolerance;
    let violated = f > hi + tol * hi.abs().max(1.0) || f < lo - tol * lo.abs().max(1.0);
    if violated {
        *violations += 1;
    }
    let thr = input.settings.add_threshold;
    let near = (hi.is_finite() && hi > 0.0 && f > thr * hi)
        || (lo.is_finite() && lo < 0.0 && f < thr * lo);
    if violated || near {
        to_add.push(ActiveRow { what, t });
    }
}

/// Effective flow range of each branch: thermal rate_a and angle-difference
/// limits (|angle| < 360° enforced) expressed as flows. None = unlimited.
fn branch_limits(input: &ClearingInput, net: &DcNetwork) -> Vec<Option<(f64, f64)>> {
    input
        .network
        .branches
        .iter()
        .zip(&net.branch_ends)
        .map(|(br, ends)| {
            let (_, _, w) = (*ends)?;
            let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
            if let Some(r) = br.thermal_limit_mw() {
                lo = -r;
                hi = r;
            }
            if br.angmin_deg > -360.0 && br.angmax_deg < 360.0 {
                let a = w * br.angmin_deg.to_radians();
                let b = w * br.angmax_deg.to_radians();
                lo = lo.max(a.min(b));
                hi = hi.min(a.max(b));
            }
            (lo.is_finite() || hi.is_finite()).then_some((lo, hi))
        })
        .collect()
}

#[allow(clippy::needless_range_loop)] // assembly over (interval, bus) index pairs
fn build_layout(
    input: &ClearingInput,
    net: &DcNetwork,
    bus_index: &HashMap<u32, usize>,
    located: bool,
    warnings: &mut Vec<String>,
) -> Layout {
    let nt = input.intervals;
    let nb = net.n_bus;
    let ni = net.n_islands();
    let poly = input.settings.cost_mode == CostMode::Polynomial;
    let mut cols: Vec<ColSpec> = Vec::new();
    let mut rows: Vec<RowSpec> = Vec::new();
    let mut balance_row = vec![vec![0usize; nt]; ni];
    let mut unit_col = vec![vec![None; nt]; input.units.len()];
    let mut ramp_row = vec![vec![None; nt]; input.units.len()];
    let mut cols_of_interval = vec![Vec::new(); nt];
    let mut const_injection = vec![vec![0.0; nb]; nt];
    let mut objective_offset = 0.0;
    // balance rows first (bounds filled in below)
    for (isl, row_of) in balance_row.iter_mut().enumerate() {
        for (t, r) in row_of.iter_mut().enumerate() {
            *r = rows.len();
            let _ = (isl, t);
            rows.push(RowSpec {
                lo: 0.0,
                hi: 0.0,
                entries: vec![],
            });
        }
    }
    for (t, ci) in const_injection.iter_mut().enumerate() {
        for (b, c) in ci.iter_mut().enumerate() {
            *c -= input.fixed_load_mw(b, t);
        }
    }
    let unit_bus: Vec<usize> = input.units.iter().map(|u| bus_index[&u.bus]).collect();
    for (u, unit) in input.units.iter().enumerate() {
        let b = unit_bus[u];
        for t in 0..nt {
            if !input.unit_on(u, t) {
                continue;
            }
            const_injection[t][b] += unit.pmin_mw;
            let width = (unit.pmax_mw - unit.pmin_mw).max(0.0);
            let isl = net.island_of_bus[b];
            if poly {
                let q = unit.quadratic_cost.expect("validated");
                // cost(pmin + x) = c2 x² + (2 c2 pmin + c1) x + cost(pmin)
                objective_offset += q.cost_per_h(unit.pmin_mw);
                let c = cols.len();
                cols.push(ColSpec {
                    kind: ColKind::UnitOutput,
                    t,
                    cost: 2.0 * q.c2_per_mw2h * unit.pmin_mw + q.c1_per_mwh,
                    lo: 0.0,
                    hi: width,
                    q: 2.0 * q.c2_per_mw2h,
                    inj: Some((b, 1.0)),
                    balance: 1.0,
                });
                let _ = isl;
                unit_col[u][t] = Some(c);
                cols_of_interval[t].push(c);
            } else {
                let c = cols.len();
                cols.push(ColSpec {
                    kind: ColKind::UnitOutput,
                    t,
                    cost: 0.0,
                    lo: f64::NEG_INFINITY,
                    hi: f64::INFINITY,
                    q: 0.0,
                    inj: Some((b, 1.0)),
                    balance: 1.0,
                });
                unit_col[u][t] = Some(c);
                cols_of_interval[t].push(c);
                // link row: x − Σ segments = 0
                let link = rows.len();
                let mut entries = vec![(c, 1.0)];
                for seg in input.offer(u, t) {
                    let s = cols.len();
                    cols.push(ColSpec {
                        kind: ColKind::Segment { u },
                        t,
                        cost: seg.price_per_mwh,
                        lo: 0.0,
                        hi: seg.quantity_mw.min(width),
                        q: 0.0,
                        inj: None,
                        balance: 0.0,
                    });
                    entries.push((s, -1.0));
                }
                rows.push(RowSpec {
                    lo: 0.0,
                    hi: 0.0,
                    entries,
                });
                let _ = link;
            }
        }
    }
    // ramp rows on output above pmin (pmin cancels when on in both intervals)
    for (u, unit) in input.units.iter().enumerate() {
        let ru = unit.ramp_up_mw.unwrap_or(f64::INFINITY);
        let rd = unit.ramp_down_mw.unwrap_or(f64::INFINITY);
        if ru.is_infinite() && rd.is_infinite() {
            continue;
        }
        for t in 0..nt {
            let Some(c) = unit_col[u][t] else { continue };
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
                    ramp_row[u][t] = Some(rows.len());
                    rows.push(RowSpec {
                        lo,
                        hi,
                        entries: vec![(c, 1.0)],
                    });
                }
                continue;
            }
            let Some(p) = unit_col[u][t - 1] else {
                continue;
            };
            ramp_row[u][t] = Some(rows.len());
            rows.push(RowSpec {
                lo: -rd,
                hi: ru,
                entries: vec![(c, 1.0), (p, -1.0)],
            });
        }
    }
    // demand bids
    for (j, bid) in input.demand_bids.iter().enumerate() {
        let b = bus_index[&bid.bus];
        for t in 0..nt {
            for seg in input.bid(j, t) {
                let c = cols.len();
                cols.push(ColSpec {
                    kind: ColKind::Bid { j },
                    t,
                    cost: -seg.price_per_mwh,
                    lo: 0.0,
                    hi: seg.quantity_mw,
                    q: 0.0,
                    inj: Some((b, -1.0)),
                    balance: -1.0,
                });
                cols_of_interval[t].push(c);
            }
        }
    }
    // negative pmin (consumption when on) can need shedding too
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
    let voll = input.settings.value_of_lost_load_per_mwh;
    let over = input.settings.over_generation_penalty_per_mwh;
    for t in 0..nt {
        if located {
            for b in 0..nb {
                let load = input.fixed_load_mw(b, t);
                let short_max = load.max(0.0) + neg_pmin[t][b];
                let surplus_max = pos_pmin[t][b] + (-load).max(0.0);

                if short_max > 0.0 {
                    let c = cols.len();
                    cols.push(ColSpec {
                        kind: ColKind::Shortfall { bus: Some(b) },
                        t,
                        cost: voll,
                        lo: 0.0,
                        hi: short_max,
                        q: 0.0,
                        inj: Some((b, 1.0)),
                        balance: 1.0,
                    });
                    cols_of_interval[t].push(c);
                }
                if surplus_max > 0.0 {
                    let c = cols.len();
                    cols.push(ColSpec {
                        kind: ColKind::Surplus { bus: Some(b) },
                        t,
                        cost: over,
                        lo: 0.0,
                        hi: surplus_max,
                        q: 0.0,
                        inj: Some((b, -1.0)),
                        balance: -1.0,
                    });
                    cols_of_interval[t].push(c);
                }
            }
        } else {
            for isl in 0..net.n_islands() {
                let mut short_max = 0.0;
                let mut surplus_max = 0.0;
                for b in (0..nb).filter(|&b| net.island_of_bus[b] == isl) {
                    let load = input.fixed_load_mw(b, t);
                    short_max += load.max(0.0) + neg_pmin[t][b];
                    surplus_max += pos_pmin[t][b] + (-load).max(0.0);
                }
                let reference = net.island_reference[isl];
                if short_max > 0.0 {
                    let c = cols.len();
                    cols.push(ColSpec {
                        kind: ColKind::Shortfall { bus: None },
                        t,
                        cost: voll,
                        lo: 0.0,
                        hi: short_max,
                        q: 0.0,
                        inj: Some((reference, 1.0)),
                        balance: 1.0,
                    });
                    cols_of_interval[t].push(c);
                }
                if surplus_max > 0.0 {
                    let c = cols.len();
                    cols.push(ColSpec {
                        kind: ColKind::Surplus { bus: None },
                        t,
                        cost: over,
                        lo: 0.0,
                        hi: surplus_max,
                        q: 0.0,
                        inj: Some((reference, -1.0)),
                        balance: -1.0,
                    });
                    cols_of_interval[t].push(c);
                }
            }
        }
    }
    // balance rows: Σ sign·x = −Σ const injection of the island
    for (c, spec) in cols.iter().enumerate() {
        if spec.balance != 0.0 {
            let (b, _) = spec.inj.expect("balance columns inject");
            let isl = net.island_of_bus[b];
            rows[balance_row[isl][spec.t]]
                .entries
                .push((c, spec.balance));
        }
    }
    for t in 0..nt {
        let mut rhs = vec![0.0; ni];
        for b in 0..nb {
            rhs[net.island_of_bus[b]] -= const_injection[t][b];
        }
        for isl in 0..ni {
            let r = &mut rows[balance_row[isl][t]];
            r.lo = rhs[isl];
            r.hi = rhs[isl];
        }
    }
    Layout {
        cols,
        base_rows: rows,
        balance_row,
        unit_col,
        ramp_row,
        cols_of_interval,
        const_injection,
        objective_offset,
        located_slacks: located,
    }
}

fn slacks_used(layout: &Layout, x: &[f64]) -> bool {
    layout.cols.iter().zip(x).any(|(c, v)| {
        matches!(c.kind, ColKind::Shortfall { .. } | ColKind::Surplus { .. }) && *v > 1e-6
    })
}

/// Net injection per bus in interval t of a primal solution (MW).
fn injections(layout: &Layout, x: &[f64], t: usize, nb: usize) -> Vec<f64> {
    let mut inj = layout.const_injection[t].clone();
    debug_assert_eq!(inj.len(), nb);
    for &c in &layout.cols_of_interval[t] {
        if let Some((b, s)) = layout.cols[c].inj {
            inj[b] += s * x[c];
        }
    }
    inj
}

fn ptdf_of<'a>(
    what: Watched,
    cache: &'a mut HashMap<Watched, Vec<f64>>,
    net: &mut DcNetwork,
    input: &ClearingInput,
) -> &'a Vec<f64> {
    cache.entry(what).or_insert_with(|| match what {
        Watched::Branch(l) => net.ptdf_row(l),
        Watched::Section(s) => {
            let mut row = vec![0.0; net.n_bus];
            for &(l, d) in &input.network.sections[s].members {
                let r = net.ptdf_row(l);
                for (a, v) in row.iter_mut().zip(r) {
                    *a += f64::from(d) * v;
                }
            }
            row
        }
    })
}

fn network_row(
    layout: &Layout,
    row: &ActiveRow,
    cache: &mut HashMap<Watched, Vec<f64>>,
    net: &mut DcNetwork,
    input: &ClearingInput,
) -> RowSpec {
    let (lo, hi) = match row.what {
        Watched::Branch(l) => branch_limits_one(input, net, l),
        Watched::Section(s) => {
            let lim = input.network.sections[s].limit_mw;
            (-lim, lim)
        }
    };
    let ptdf = ptdf_of(row.what, cache, net, input);
    let constant: f64 = ptdf
        .iter()
        .zip(&layout.const_injection[row.t])
        .map(|(p, c)| p * c)
        .sum();
    let mut entries = Vec::new();
    for &c in &layout.cols_of_interval[row.t] {
        if let Some((b, s)) = layout.cols[c].inj {
            let v = ptdf[b] * s;
            if v.abs() > 1e-10 {
                entries.push((c, v));
            }
        }
    }
    RowSpec {
        lo: lo - constant,
        hi: hi - constant,
        entries,
    }
}

fn branch_limits_one(input: &ClearingInput, net: &DcNetwork, l: usize) -> (f64, f64) {
    // recomputed for one branch (cheap) to keep the row builder self-contained
    let br = &input.network.branches[l];
    let w = net.branch_ends[l].map_or(0.0, |e| e.2);
    let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
    if let Some(r) = br.thermal_limit_mw() {
        lo = -r;
        hi = r;
    }
    if br.angmin_deg > -360.0 && br.angmax_deg < 360.0 {
        let a = w * br.angmin_deg.to_radians();
        let b = w * br.angmax_deg.to_radians();
        lo = lo.max(a.min(b));
        hi = hi.min(a.max(b));
    }
    (lo, hi)
}

/// `cols` are the handles of the layout's columns (HiGHS' `Col` cannot be made
/// from an index; a rebuilt model of the same layout has the same handles).
fn add_row_to_model(m: &mut Model, spec: &RowSpec, cols: &[Col]) {
    m.add_row(
        spec.lo..=spec.hi,
        spec.entries.iter().map(|&(c, v)| (cols[c], v)),
    );
}

fn build_model(
    layout: &Layout,
    active: &[ActiveRow],
    cache: &mut HashMap<Watched, Vec<f64>>,
    net: &mut DcNetwork,
    input: &ClearingInput,
) -> Result<(Model, Vec<Col>), ClearingError> {
    let mut pb = RowProblem::default();
    let cols: Vec<Col> = layout
        .cols
        .iter()
        .map(|c| pb.add_column(c.cost, c.lo..=c.hi))
        .collect();
    for r in &layout.base_rows {
        pb.add_row(r.lo..=r.hi, r.entries.iter().map(|&(c, v)| (cols[c], v)));
    }
    for a in active {
        let spec = network_row(layout, a, cache, net, input);
        pb.add_row(
            spec.lo..=spec.hi,
            spec.entries.iter().map(|&(c, v)| (cols[c], v)),
        );
    }
    let mut m = pb
        .try_optimise(Sense::Minimise)
        .map_err(|e| ClearingError::SolverFailed {
            round: 0,
            attempts: format!("model load: {e:?}"),
        })?;
    m.make_quiet();
    if layout.cols.iter().any(|c| c.q != 0.0) {
        let hessian: Vec<Vec<(i32, f64)>> = layout
            .cols
            .iter()
            .enumerate()
            .map(|(j, c)| {
                if c.q != 0.0 {
                    vec![(j as i32, c.q)]
                } else {
                    vec![]
                }
            })
            .collect();
        m.try_pass_hessian(HessianFormat::Triangular, hessian)
            .map_err(|e| ClearingError::SolverFailed {
                round: 0,
                attempts: format!("hessian: {e}"),
            })?;
    }
    Ok((m, cols))
}

#[allow(clippy::too_many_arguments)]
fn solve_with_fallback(
    model: Model,
    layout: &Layout,
    active: &[ActiveRow],
    cache: &mut HashMap<Watched, Vec<f64>>,
    net: &mut DcNetwork,
    input: &ClearingInput,
    warm: bool,
    round: usize,
) -> Result<(SolvedModel, SolverStrategy, f64), ClearingError> {
    let mut attempts = Vec::new();
    let first = if warm {
        SolverStrategy::WarmSimplex
    } else {
        SolverStrategy::Simplex
    };
    let strategies = [
        first,
        SolverStrategy::SimplexNoPresolve,
        SolverStrategy::InteriorPoint,
    ];
    let mut model = Some(model);
    let mut total = 0.0;
    for (i, strategy) in strategies.into_iter().enumerate() {
        let mut m = match model.take() {
            Some(m) => m,
            None => build_model(layout, active, cache, net, input)?.0,
        };
        let _ = i;
        match strategy {
            SolverStrategy::WarmSimplex | SolverStrategy::Simplex => {}
            SolverStrategy::SimplexNoPresolve => {
                m.set_option("presolve", "off");
                m.set_option("solver", "simplex");
            }
            SolverStrategy::InteriorPoint => {
                m.set_option("solver", "ipm");
                m.set_option("run_crossover", "on");
            }
        }
        let t0 = Instant::now();
        let outcome = m.try_solve();
        total += ms(t0);
        match outcome {
            Ok(sol) => {
                let st = sol.status();
                if matches!(st, HighsModelStatus::Optimal | HighsModelStatus::Infeasible) {
                    return Ok((sol, strategy, total));
                }
                attempts.push(format!("{strategy:?}: status {st:?}"));
            }
            Err(e) => attempts.push(format!("{strategy:?}: {e:?}")),
        }
    }
    Err(ClearingError::SolverFailed {
        round,
        attempts: attempts.join("; "),
    })
}

#[allow(clippy::too_many_arguments)]
fn extract(
    input: &ClearingInput,
    layout: &Layout,
    active: &[ActiveRow],
    sol: &SolvedModel,
    cache: &mut HashMap<Watched, Vec<f64>>,
    net: &mut DcNetwork,
    limits: &[Option<(f64, f64)>],
    warnings: &mut Vec<String>,
) -> ClearingResult {
    let solution = sol.get_solution();
    let x = solution.columns();
    let y = solution.dual_rows();
    let nt = input.intervals;
    let nb = net.n_bus;
    let hours = input.interval_minutes / 60.0;
    let n_base = layout.base_rows.len();
    // network duals per interval
    let mut branch_dual: Vec<HashMap<usize, f64>> = vec![HashMap::new(); nt];
    let mut section_dual: Vec<HashMap<usize, f64>> = vec![HashMap::new(); nt];
    let mut congestion = vec![vec![0.0; nb]; nt];
    for (k, a) in active.iter().enumerate() {
        let d = y[n_base + k];
        if d.abs() < 1e-9 {
            continue;
        }
        match a.what {
            Watched::Branch(l) => {
                branch_dual[a.t].insert(l, d);
            }
            Watched::Section(s) => {
                section_dual[a.t].insert(s, d);
            }
        }
        let ptdf = ptdf_of(a.what, cache, net, input);
        for (c, p) in congestion[a.t].iter_mut().zip(ptdf) {
            *c += p * d;
        }
    }
    let mut intervals = Vec::with_capacity(nt);
    let bus_ids: Vec<u32> = input.network.buses.iter().map(|b| b.id).collect();
    let voll = input.settings.value_of_lost_load_per_mwh;
    let bus_index = input.network.bus_index();
    for t in 0..nt {
        let inj = injections(layout, x, t, nb);
        let flows = net.flows(&inj);
        let energy: Vec<f64> = (0..net.n_islands())
            .map(|isl| y[layout.balance_row[isl][t]])
            .collect();
        let lmp: Vec<BusPrice> = (0..nb)
            .map(|b| {
                let e = energy[net.island_of_bus[b]];
                let c = congestion[t][b];
                BusPrice {
                    bus: bus_ids[b],
                    lmp_per_mwh: e + c,
                    energy_per_mwh: e,
                    congestion_per_mwh: c,
                    loss_per_mwh: 0.0,
                }
            })
            .collect();
        let mut units = Vec::new();
        let mut offer_cost = 0.0;
        let mut must_run_cost = 0.0;
        for (u, unit) in input.units.iter().enumerate() {
            let Some(c) = layout.unit_col[u][t] else {
                units.push(UnitDispatch {
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
                    offer_cost += input
                        .offer(u, t)
                        .iter()
                        .zip(&segs)
                        .map(|(o, q)| o.price_per_mwh * q)
                        .sum::<f64>();
                    must_run_cost += match &unit.quadratic_cost {
                        Some(q) => q.cost_per_h(unit.pmin_mw) - q.c0_per_h,
                        None => {
                            unit.pmin_mw
                                * input.offer(u, t).first().map_or(0.0, |s| s.price_per_mwh)
                        }
                    };
                }
                CostMode::Polynomial => {
                    let q = unit.quadratic_cost.expect("validated");
                    offer_cost += q.cost_per_h(unit.pmin_mw + above);
                }
            }
            let ramp_dual = layout.ramp_row[u][t].map_or(0.0, |r| y[r]);
            let next_dual = if t + 1 < nt {
                layout.ramp_row[u][t + 1].map_or(0.0, |r| y[r])
            } else {
                0.0
            };
            let bi = bus_index[&unit.bus];
            units.push(UnitDispatch {
                unit: unit.id.clone(),
                bus: unit.bus,
                on: true,
                output_mw: unit.pmin_mw + above,
                segments_mw: segs,
                ramp_dual_per_mwh: ramp_dual,
                marginal_value_per_mwh: lmp[bi].lmp_per_mwh + ramp_dual - next_dual,
            });
        }
        let mut bids = Vec::new();
        let mut bid_value = 0.0;
        let mut shortfalls = Vec::new();
        let mut surpluses = Vec::new();
        let mut penalty = 0.0;
        let mut bid_acc: HashMap<usize, Vec<f64>> = HashMap::new();
        for &c in &layout.cols_of_interval[t] {
            let spec = &layout.cols[c];
            match spec.kind {
                ColKind::Bid { j, .. } => {
                    bid_acc.entry(j).or_default().push(x[c]);
                    bid_value += -spec.cost * x[c];
                }
                ColKind::Shortfall { bus, .. } if x[c] > 1e-7 => {
                    let b = bus.unwrap_or_else(|| spec.inj.expect("injects").0);
                    shortfalls.push(BusQuantity {
                        bus: bus_ids[b],
                        mw: x[c],
                    });
                    penalty += voll * x[c];
                }
                ColKind::Surplus { bus, .. } if x[c] > 1e-7 => {
                    let b = bus.unwrap_or_else(|| spec.inj.expect("injects").0);
                    surpluses.push(BusQuantity {
                        bus: bus_ids[b],
                        mw: x[c],
                    });
                    penalty += input.settings.over_generation_penalty_per_mwh * x[c];
                }
                _ => {}
            }
        }
        for (j, bid) in input.demand_bids.iter().enumerate() {
            let segs = bid_acc.remove(&j).unwrap_or_default();
            bids.push(BidAward {
                bid: bid.id.clone(),
                bus: bid.bus,
                served_mw: segs.iter().sum(),
                segments_mw: segs,
            });
        }
        let branches: Vec<BranchFlow> = input
            .network
            .branches
            .iter()
            .enumerate()
            .map(|(l, br)| {
                let d = branch_dual[t].get(&l).copied().unwrap_or(0.0);
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
            .collect();
        let sections: Vec<SectionFlow> = input
            .network
            .sections
            .iter()
            .enumerate()
            .map(|(s, sec)| {
                let f: f64 = sec
                    .members
                    .iter()
                    .map(|&(l, d)| f64::from(d) * flows[l])
                    .sum();
                let d = section_dual[t].get(&s).copied().unwrap_or(0.0);
                SectionFlow {
                    name: sec.name.clone(),
                    flow_mw: f,
                    limit_mw: sec.limit_mw,
                    shadow_price_per_mwh: d.abs(),
                    dual_per_mwh: d,
                    binding: d.abs() > 1e-6,
                }
            })
            .collect();
        if !shortfalls.is_empty() {
            let total: f64 = shortfalls.iter().map(|s| s.mw).sum();
            warnings.push(format!("interval {}: {total:.3} MW of fixed load not served (priced at the value of lost load)", t + 1));
        }
        if !surpluses.is_empty() {
            let total: f64 = surpluses.iter().map(|s| s.mw).sum();
            warnings.push(format!(
                "interval {}: {total:.3} MW of over-generation",
                t + 1
            ));
        }
        let fixed_load: f64 = (0..nb).map(|b| input.fixed_load_mw(b, t)).sum();
        let objective_per_h = offer_cost - bid_value + penalty;
        intervals.push(IntervalResult {
            interval: t + 1,
            fixed_load_mw: fixed_load,
            energy_price_per_mwh: energy,
            lmp,
            units,
            bids,
            shortfalls,
            surpluses,
            branches,
            sections,
            offer_cost_per_h: offer_cost,
            bid_value_per_h: bid_value,
            penalty_cost_per_h: penalty,
            must_run_cost_per_h: must_run_cost,
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
