//! An independent second path to the same optimum: the full B-θ DC-OPF
//! (bus angles as variables, one balance row per bus and interval, every
//! limited branch as a row, no constraint generation, no PTDF), solved by the
//! interior-point solver Clarabel instead of HiGHS. LMPs are read from the
//! duals of the bus balance rows. Used by tests and `voltex clear
//! --cross-check` to confirm objective and prices; it is slower and is not
//! the production path. It shares only the input types with the engine.
//!
//! With N-1 security it is the brute-force model: one copy of the bus
//! angles and balance rows per studied outage (the network without that
//! branch), every monitored branch limited in every copy; no LODF, no
//! constraint generation. The LMP of a bus is then the sum of its balance
//! duals over all copies.

use std::collections::BTreeMap;

use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSettingsBuilder, DefaultSolver, IPSolver, SolverStatus, SupportedConeT,
};
use serde::{Deserialize, Serialize};

use crate::error::ClearingError;
use crate::input::{ClearingInput, CostMode};

/// Objective and prices of the B-θ formulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossCheck {
    /// Same definition as `ClearingResult::objective`, $.
    pub objective: f64,
    /// LMP per interval and bus index, $/MWh.
    pub lmp: Vec<Vec<f64>>,
    pub iterations: u32,
    pub solve_ms: f64,
}

/// Sparse row entries (column, coefficient).
type RowEntries = Vec<(usize, f64)>;

struct Builder {
    /// (col, row) → value, so duplicates add up
    a: BTreeMap<(usize, usize), f64>,
    b: Vec<f64>,
    n_eq: usize,
}

impl Builder {
    fn row(&mut self, entries: &[(usize, f64)], rhs: f64) -> usize {
        let r = self.b.len();
        for &(c, v) in entries {
            *self.a.entry((c, r)).or_insert(0.0) += v;
        }
        self.b.push(rhs);
        r
    }
}

/// Solve the B-θ formulation of `input` with Clarabel.
#[allow(clippy::needless_range_loop)] // index-heavy assembly over (interval, bus)
pub fn cross_check(input: &ClearingInput) -> Result<CrossCheck, ClearingError> {
    input.validate()?;
    let net = &input.network;
    let nb = net.buses.len();
    let nt = input.intervals;
    let bus_index = net.bus_index();
    let base = net.base_mva;
    let poly = input.settings.cost_mode == CostMode::Polynomial;
    let hours = input.interval_minutes / 60.0;
    // columns
    let mut cost: Vec<f64> = Vec::new();
    let mut quad: Vec<f64> = Vec::new();
    let mut ub: Vec<Option<f64>> = Vec::new(); // lower bound 0 for all but θ
    let mut is_theta: Vec<bool> = Vec::new();
    let mut new_col = |c: f64, q: f64, u: Option<f64>, theta: bool| {
        cost.push(c);
        quad.push(q);
        ub.push(u);
        is_theta.push(theta);
        cost.len() - 1
    };
    let branch_w: Vec<Option<(usize, usize, f64)>> = net
        .branches
        .iter()
        .map(|br| {
            br.in_service.then(|| {
                (
                    bus_index[&br.from_bus],
                    bus_index[&br.to_bus],
                    -br.dc_susceptance_pu() * base,
                )
            })
        })
        .collect();
    // scenario 0 is the base case; with N-1 security one more per studied
    // outage that leaves every island connected (its own angles and balance)
    let security = input
        .settings
        .security
        .as_ref()
        .filter(|_| input.settings.enforce_branch_limits);
    let mut scenarios: Vec<Option<usize>> = vec![None];
    if let Some(sec) = security {
        let base_islands = islands(nb, &branch_w, None).1;
        scenarios.extend(
            (0..net.branches.len())
                .filter(|&k| branch_w[k].is_some() && sec.contingencies.contains(k))
                .filter(|&k| islands(nb, &branch_w, Some(k)).1 == base_islands)
                .map(Some),
        );
    }
    let theta: Vec<Vec<Vec<usize>>> = scenarios
        .iter()
        .map(|_| {
            (0..nt)
                .map(|_| (0..nb).map(|_| new_col(0.0, 0.0, None, true)).collect())
                .collect()
        })
        .collect();
    // injections per (t, bus): list of (col, sign); and constant pmin
    let mut inj: Vec<Vec<Vec<(usize, f64)>>> = vec![vec![Vec::new(); nb]; nt];
    let mut constant = vec![vec![0.0; nb]; nt];
    let mut offset = 0.0;
    let mut output_entries: Vec<Vec<Option<RowEntries>>> = vec![vec![None; nt]; input.units.len()];
    for (u, unit) in input.units.iter().enumerate() {
        let b = bus_index[&unit.bus];
        for t in 0..nt {
            if !input.unit_on(u, t) {
                continue;
            }
            constant[t][b] += unit.pmin_mw;
            let width = (unit.pmax_mw - unit.pmin_mw).max(0.0);
            let mut entries = Vec::new();
            if poly {
                let q = unit.quadratic_cost.expect("validated");
                offset += q.cost_per_h(unit.pmin_mw) * hours;
                let c = new_col(
                    (2.0 * q.c2_per_mw2h * unit.pmin_mw + q.c1_per_mwh) * hours,
                    2.0 * q.c2_per_mw2h * hours,
                    Some(width),
                    false,
                );
                entries.push((c, 1.0));
            } else {
                for seg in input.offer(u, t) {
                    let c = new_col(
                        seg.price_per_mwh * hours,
                        0.0,
                        Some(seg.quantity_mw.min(width)),
                        false,
                    );
                    entries.push((c, 1.0));
                }
            }
            inj[t][b].extend(entries.iter().copied());
            output_entries[u][t] = Some(entries);
        }
    }
    for (j, bid) in input.demand_bids.iter().enumerate() {
        let b = bus_index[&bid.bus];
        for t in 0..nt {
            for seg in input.bid(j, t) {
                let c = new_col(
                    -seg.price_per_mwh * hours,
                    0.0,
                    Some(seg.quantity_mw),
                    false,
                );
                inj[t][b].push((c, -1.0));
            }
        }
    }
    for t in 0..nt {
        for b in 0..nb {
            let load = input.fixed_load_mw(b, t);
            let neg_pmin: f64 = input
                .units
                .iter()
                .enumerate()
                .filter(|(u, x)| bus_index[&x.bus] == b && input.unit_on(*u, t))
                .map(|(_, x)| (-x.pmin_mw).max(0.0))
                .sum();
            let pos_pmin: f64 = input
                .units
                .iter()
                .enumerate()
                .filter(|(u, x)| bus_index[&x.bus] == b && input.unit_on(*u, t))
                .map(|(_, x)| x.pmin_mw.max(0.0))
                .sum();
            let short = load.max(0.0) + neg_pmin;
            let surplus = pos_pmin + (-load).max(0.0);
            if short > 0.0 {
                let c = new_col(
                    input.settings.value_of_lost_load_per_mwh * hours,
                    0.0,
                    Some(short),
                    false,
                );
                inj[t][b].push((c, 1.0));
            }
            if surplus > 0.0 {
                let c = new_col(
                    input.settings.over_generation_penalty_per_mwh * hours,
                    0.0,
                    Some(surplus),
                    false,
                );
                inj[t][b].push((c, -1.0));
            }
        }
    }
    let n = cost.len();
    let mut bld = Builder {
        a: BTreeMap::new(),
        b: Vec::new(),
        n_eq: 0,
    };
    // equalities: bus balance of every scenario  Σ inj − Σ flows out = load − pmin
    // (the injections are shared, so the LMP is −Σ_s z_s / h)
    let mut balance_row = vec![vec![vec![0usize; nb]; nt]; scenarios.len()];
    for (s, out) in scenarios.iter().enumerate() {
        let th = &theta[s];
        for t in 0..nt {
            for b in 0..nb {
                let mut e: Vec<(usize, f64)> = inj[t][b].clone();
                for (l, &(f, to, w)) in branch_w
                    .iter()
                    .enumerate()
                    .filter_map(|(l, x)| x.as_ref().map(|x| (l, x)))
                {
                    if Some(l) == *out {
                        continue;
                    }
                    if f == b {
                        e.push((th[t][f], -w));
                        e.push((th[t][to], w));
                    }
                    if to == b {
                        e.push((th[t][f], w));
                        e.push((th[t][to], -w));
                    }
                }
                balance_row[s][t][b] = bld.row(&e, input.fixed_load_mw(b, t) - constant[t][b]);
            }
        }
    }
    // angle references: one per island (a Reference bus where there is one), θ = 0
    let (island, n_islands) = islands(nb, &branch_w, None);
    let mut order: Vec<usize> = (0..nb).collect();
    order.sort_by_key(|&b| net.buses[b].kind != voltex_model::network::BusKind::Reference);
    let mut refs = vec![usize::MAX; n_islands];
    for b in order {
        if refs[island[b]] == usize::MAX {
            refs[island[b]] = b;
        }
    }
    for th in &theta {
        for t in 0..nt {
            for &r in &refs {
                bld.row(&[(th[t][r], 1.0)], 0.0);
            }
        }
    }
    bld.n_eq = bld.b.len();
    // inequalities (A x ≤ b)
    for c in 0..n {
        if is_theta[c] {
            continue;
        }
        bld.row(&[(c, -1.0)], 0.0);
        if let Some(u) = ub[c] {
            bld.row(&[(c, 1.0)], u);
        }
    }
    if input.settings.enforce_branch_limits {
        let theta = &theta[0];
        for t in 0..nt {
            for (l, br) in net.branches.iter().enumerate() {
                let Some((f, to, w)) = branch_w[l] else {
                    continue;
                };
                let e = [(theta[t][f], w), (theta[t][to], -w)];
                if let Some(r) = br.thermal_limit_mw() {
                    bld.row(&e, r);
                    bld.row(&[(theta[t][f], -w), (theta[t][to], w)], r);
                }
                if br.angmin_deg > -360.0 && br.angmax_deg < 360.0 {
                    bld.row(
                        &[(theta[t][f], 1.0), (theta[t][to], -1.0)],
                        br.angmax_deg.to_radians(),
                    );
                    bld.row(
                        &[(theta[t][f], -1.0), (theta[t][to], 1.0)],
                        -br.angmin_deg.to_radians(),
                    );
                }
            }
            for sec in &net.sections {
                let mut e = Vec::new();
                for &(l, d) in &sec.members {
                    if let Some((f, to, w)) = branch_w[l] {
                        e.push((theta[t][f], f64::from(d) * w));
                        e.push((theta[t][to], -f64::from(d) * w));
                    }
                }
                let neg: Vec<(usize, f64)> = e.iter().map(|&(c, v)| (c, -v)).collect();
                bld.row(&e, sec.limit_mw);
                bld.row(&neg, sec.limit_mw);
            }
        }
    }
    // N-1: every monitored branch within its emergency rating in every outage scenario
    if let Some(sec) = security {
        for (s, out) in scenarios.iter().enumerate().skip(1) {
            for t in 0..nt {
                for (l, br) in net.branches.iter().enumerate() {
                    let Some((f, to, w)) = branch_w[l] else {
                        continue;
                    };
                    if Some(l) == *out || !sec.monitored.contains(l) {
                        continue;
                    }
                    if let Some(r) = sec.emergency_limit_mw(br) {
                        let th = &theta[s][t];
                        bld.row(&[(th[f], w), (th[to], -w)], r);
                        bld.row(&[(th[f], -w), (th[to], w)], r);
                    }
                }
            }
        }
    }
    for (u, unit) in input.units.iter().enumerate() {
        let ru = unit.ramp_up_mw.unwrap_or(f64::INFINITY);
        let rd = unit.ramp_down_mw.unwrap_or(f64::INFINITY);
        for t in 0..nt {
            let Some(cur) = &output_entries[u][t] else {
                continue;
            };
            if t == 0 {
                if let Some(init) = unit.initial_output_mw {
                    let hi = init + ru - unit.pmin_mw;
                    let lo = init - rd - unit.pmin_mw;
                    let width = unit.pmax_mw - unit.pmin_mw;
                    if hi < 0.0 || lo > width {
                        continue;
                    }
                    if ru.is_finite() {
                        bld.row(cur, hi);
                    }
                    if rd.is_finite() {
                        let neg: Vec<(usize, f64)> = cur.iter().map(|&(c, v)| (c, -v)).collect();
                        bld.row(&neg, -lo);
                    }
                }
                continue;
            }
            let Some(prev) = &output_entries[u][t - 1] else {
                continue;
            };
            let mut up: Vec<(usize, f64)> = cur.clone();
            up.extend(prev.iter().map(|&(c, v)| (c, -v)));
            if ru.is_finite() {
                bld.row(&up, ru);
            }
            if rd.is_finite() {
                let down: Vec<(usize, f64)> = up.iter().map(|&(c, v)| (c, -v)).collect();
                bld.row(&down, rd);
            }
        }
    }
    let m = bld.b.len();
    let (mut colptr, mut rowval, mut nzval) = (vec![0usize; n + 1], Vec::new(), Vec::new());
    for (&(c, r), &v) in &bld.a {
        rowval.push(r);
        nzval.push(v);
        colptr[c + 1] += 1;
    }
    for c in 0..n {
        colptr[c + 1] += colptr[c];
    }
    let a = CscMatrix::new(m, n, colptr, rowval, nzval);
    let (mut pc, mut pr, mut pv) = (vec![0usize; n + 1], Vec::new(), Vec::new());
    for c in 0..n {
        if quad[c] != 0.0 {
            pr.push(c);
            pv.push(quad[c]);
        }
        pc[c + 1] = pr.len();
    }
    let p = CscMatrix::new(n, n, pc, pr, pv);
    let cones = [
        SupportedConeT::ZeroConeT(bld.n_eq),
        SupportedConeT::NonnegativeConeT(m - bld.n_eq),
    ];
    let settings = DefaultSettingsBuilder::default()
        .verbose(false)
        .tol_gap_abs(1e-9)
        .tol_gap_rel(1e-11)
        .tol_feas(1e-11)
        .tol_ktratio(1e-9)
        .max_iter(400)
        .build()
        .map_err(|e| ClearingError::CrossCheck(format!("{e:?}")))?;
    let start = std::time::Instant::now();
    let mut solver = DefaultSolver::new(&p, &cost, &a, &bld.b, &cones, settings)
        .map_err(|e| ClearingError::CrossCheck(format!("{e:?}")))?;
    solver.solve();
    let sol = &solver.solution;
    if !matches!(
        sol.status,
        SolverStatus::Solved | SolverStatus::AlmostSolved
    ) {
        return Err(ClearingError::CrossCheck(format!(
            "Clarabel status {:?}",
            sol.status
        )));
    }
    let lmp = (0..nt)
        .map(|t| {
            (0..nb)
                .map(|b| -balance_row.iter().map(|r| sol.z[r[t][b]]).sum::<f64>() / hours)
                .collect()
        })
        .collect();
    Ok(CrossCheck {
        objective: sol.obj_val + offset,
        lmp,
        iterations: sol.iterations,
        solve_ms: start.elapsed().as_secs_f64() * 1e3,
    })
}

/// Island of every bus over the in-service branches except `without`, and
/// the number of islands (graph search; independent of the engine's).
fn islands(
    nb: usize,
    branch_w: &[Option<(usize, usize, f64)>],
    without: Option<usize>,
) -> (Vec<usize>, usize) {
    let mut adj = vec![Vec::new(); nb];
    for (l, e) in branch_w.iter().enumerate() {
        if let Some((f, t, _)) = *e
            && Some(l) != without
        {
            adj[f].push(t);
            adj[t].push(f);
        }
    }
    let mut island = vec![usize::MAX; nb];
    let mut count = 0;
    for s in 0..nb {
        if island[s] != usize::MAX {
            continue;
        }
        island[s] = count;
        let mut stack = vec![s];
        while let Some(v) = stack.pop() {
            for &w in &adj[v] {
                if island[w] == usize::MAX {
                    island[w] = count;
                    stack.push(w);
                }
            }
        }
        count += 1;
    }
    (island, count)
}
