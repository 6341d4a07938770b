//! The unit-commitment MILP as data (docs/clearing.md, "Unit commitment"):
//! columns with cost, bounds and integrality, and rows, one function per
//! constraint family of the three-binary formulation (PGLib-UC MODEL.tex
//! equation names in brackets). Periods are 0-based here (MODEL.tex t = t+1).
//! This module builds descriptions only; [`super::solve`] loads them into
//! HiGHS, as a MILP or, with the commitment fixed, as the pricing LP.

use super::{ThermalUnit, UcInput};

#[derive(Debug, Clone)]
pub struct Column {
    pub cost: f64,
    pub lo: f64,
    pub hi: f64,
    pub integer: bool,
}

#[derive(Debug, Clone)]
pub struct LinRow {
    pub lo: f64,
    pub hi: f64,
    pub entries: Vec<(usize, f64)>,
}

/// Column indices of one thermal unit, per period.
#[derive(Debug, Clone, Default)]
pub struct UnitCols {
    /// u, v, w: on, start-up, shut-down binaries.
    pub u: Vec<usize>,
    pub v: Vec<usize>,
    pub w: Vec<usize>,
    /// δ[s][t]: start-up in category s (hot = 0).
    pub delta: Vec<Vec<usize>>,
    /// λ[l][t]: weight of cost-curve point l.
    pub lambda: Vec<Vec<usize>>,
    /// p: output above pmin; r: spinning reserve.
    pub p: Vec<usize>,
    pub r: Vec<usize>,
}

/// The model: columns, rows and where each part of the formulation is.
#[derive(Debug, Clone, Default)]
pub struct Milp {
    pub cols: Vec<Column>,
    pub rows: Vec<LinRow>,
    pub units: Vec<UnitCols>,
    /// Renewable output per (unit, period).
    pub renewable: Vec<Vec<usize>>,
    /// Demand row per period (its dual is the energy price).
    pub demand_row: Vec<usize>,
    /// Reserve row per period (its dual is the reserve price), when required.
    pub reserve_row: Vec<Option<usize>>,
    /// Diagnostic slacks (shortfall, surplus, reserve shortfall) per period.
    pub slacks: Vec<(usize, usize, Option<usize>)>,
}

impl Milp {
    fn col(&mut self, cost: f64, lo: f64, hi: f64, integer: bool) -> usize {
        self.cols.push(Column {
            cost,
            lo,
            hi,
            integer,
        });
        self.cols.len() - 1
    }

    fn binary(&mut self, cost: f64) -> usize {
        self.col(cost, 0.0, 1.0, true)
    }

    fn row(&mut self, lo: f64, hi: f64, entries: Vec<(usize, f64)>) -> usize {
        self.rows.push(LinRow { lo, hi, entries });
        self.rows.len() - 1
    }

    /// Fix a column to a value (the commitment of the pricing LP).
    fn fix(&mut self, c: usize, value: f64) {
        self.cols[c].lo = value;
        self.cols[c].hi = value;
    }
}

/// Build the MILP. `slack_penalty`: when given, demand and reserve rows get
/// priced slacks (the diagnostic run that names violated constraint sets).
pub fn build(input: &UcInput, slack_penalty: Option<f64>) -> Milp {
    let nt = input.periods;
    let mut m = Milp::default();
    for g in &input.thermal {
        let cols = unit_columns(&mut m, g, nt);
        m.units.push(cols);
    }
    m.renewable = input
        .renewable
        .iter()
        .map(|w| {
            (0..nt)
                .map(|t| m.col(0.0, w.pmin_mw[t], w.pmax_mw[t], false))
                .collect()
        })
        .collect();
    for (g, unit) in input.thermal.iter().enumerate() {
        let c = m.units[g].clone();
        initial_conditions(&mut m, unit, &c, nt);
        logical_and_min_times(&mut m, unit, &c, nt);
        startup_categories(&mut m, unit, &c, nt);
        output_limits_and_ramps(&mut m, unit, &c, nt);
        piecewise_cost(&mut m, unit, &c, nt);
    }
    system_rows(&mut m, input, slack_penalty);
    m
}

/// u, v, w, δ, λ, p, r of one unit; must-run as a bound on u (MustRun),
/// no-load cost CP¹·u, start-up cost CSˢ·δˢ, production cost (CPˡ − CP¹)·λˡ.
fn unit_columns(m: &mut Milp, g: &ThermalUnit, nt: usize) -> UnitCols {
    let no_load = g.cost_curve[0].cost_per_h;
    let u: Vec<usize> = (0..nt)
        .map(|_| {
            let c = m.binary(no_load);
            if g.must_run {
                m.cols[c].lo = 1.0;
            }
            c
        })
        .collect();
    let v = (0..nt).map(|_| m.binary(0.0)).collect();
    let w = (0..nt).map(|_| m.binary(0.0)).collect();
    let delta = g
        .startup
        .iter()
        .map(|s| (0..nt).map(|_| m.binary(s.cost)).collect())
        .collect();
    let lambda = g
        .cost_curve
        .iter()
        .map(|pt| {
            (0..nt)
                .map(|_| m.col(pt.cost_per_h - no_load, 0.0, 1.0, false))
                .collect()
        })
        .collect();
    let width = g.pmax_mw - g.pmin_mw;
    let p = (0..nt).map(|_| m.col(0.0, 0.0, width, false)).collect();
    let r = (0..nt).map(|_| m.col(0.0, 0.0, width, false)).collect();
    UnitCols {
        u,
        v,
        w,
        delta,
        lambda,
        p,
        r,
    }
}

/// initialUpRequirement, initialDownRequirement (as bounds on u),
/// RampUpInit, RampDownInit, MaxOutput2Init.
fn initial_conditions(m: &mut Milp, g: &ThermalUnit, c: &UnitCols, nt: usize) {
    if g.initially_on {
        let keep = g.min_up_h.saturating_sub(g.initial_up_h).min(nt);
        for t in 0..keep {
            m.cols[c.u[t]].lo = 1.0;
        }
    } else {
        let keep = g.min_down_h.saturating_sub(g.initial_down_h).min(nt);
        for t in 0..keep {
            m.cols[c.u[t]].hi = 0.0;
        }
    }
    let u0 = if g.initially_on { 1.0 } else { 0.0 };
    let above0 = u0 * (g.initial_output_mw - g.pmin_mw);
    // p(1) + r(1) ≤ RU + U⁰(P⁰ − Pmin)
    m.row(
        f64::NEG_INFINITY,
        g.ramp_up_mw + above0,
        vec![(c.p[0], 1.0), (c.r[0], 1.0)],
    );
    // U⁰(P⁰ − Pmin) − p(1) ≤ RD
    m.row(above0 - g.ramp_down_mw, f64::INFINITY, vec![(c.p[0], 1.0)]);
    // max(Pmax − SD, 0)·w(1) ≤ U⁰(Pmax − Pmin) − U⁰(P⁰ − Pmin)
    let sd_cut = (g.pmax_mw - g.shutdown_ramp_mw).max(0.0);
    if sd_cut > 0.0 {
        m.row(
            f64::NEG_INFINITY,
            u0 * (g.pmax_mw - g.pmin_mw) - above0,
            vec![(c.w[0], sd_cut)],
        );
    }
}

/// LogicalInitial, Logical, Startup (minimum up time), Shutdown (minimum down time).
fn logical_and_min_times(m: &mut Milp, g: &ThermalUnit, c: &UnitCols, nt: usize) {
    let u0 = if g.initially_on { 1.0 } else { 0.0 };
    // u(1) − v(1) + w(1) = U⁰
    m.row(u0, u0, vec![(c.u[0], 1.0), (c.v[0], -1.0), (c.w[0], 1.0)]);
    for t in 1..nt {
        m.row(
            0.0,
            0.0,
            vec![
                (c.u[t], 1.0),
                (c.u[t - 1], -1.0),
                (c.v[t], -1.0),
                (c.w[t], 1.0),
            ],
        );
    }
    let ut = g.min_up_h.clamp(1, nt);
    for t in (ut - 1)..nt {
        // Σ_{i=t−UT+1}^{t} v(i) − u(t) ≤ 0
        let mut e: Vec<(usize, f64)> = (t + 1 - ut..=t).map(|i| (c.v[i], 1.0)).collect();
        e.push((c.u[t], -1.0));
        m.row(f64::NEG_INFINITY, 0.0, e);
    }
    let dt = g.min_down_h.clamp(1, nt);
    for t in (dt - 1)..nt {
        // Σ_{i=t−DT+1}^{t} w(i) + u(t) ≤ 1
        let mut e: Vec<(usize, f64)> = (t + 1 - dt..=t).map(|i| (c.w[i], 1.0)).collect();
        e.push((c.u[t], 1.0));
        m.row(f64::NEG_INFINITY, 1.0, e);
    }
}

/// STIInit (as bounds on δ), STISelect, STILink.
fn startup_categories(m: &mut Milp, g: &ThermalUnit, c: &UnitCols, nt: usize) {
    let ns = g.startup.len();
    for s in 0..ns.saturating_sub(1) {
        let next_lag = g.startup[s + 1].lag_h;
        // 1-based t ∈ [max(1, TS^{s+1} − DT⁰ + 1), min(TS^{s+1} − 1, T)]: too long off for category s
        let first = (next_lag + 1).saturating_sub(g.initial_down_h).max(1);
        let last = (next_lag.saturating_sub(1)).min(nt);
        for t1 in first..=last {
            m.cols[c.delta[s][t1 - 1]].hi = 0.0;
        }
        // δˢ(t) ≤ Σ_{i=TSˢ}^{TS^{s+1}−1} w(t−i), 1-based t ∈ [TS^{s+1}, T]
        let lag = g.startup[s].lag_h;
        for t1 in next_lag.max(1)..=nt {
            let mut e = vec![(c.delta[s][t1 - 1], 1.0)];
            for i in lag..next_lag {
                if t1 > i {
                    e.push((c.w[t1 - i - 1], -1.0));
                }
            }
            m.row(f64::NEG_INFINITY, 0.0, e);
        }
    }
    for t in 0..nt {
        // v(t) = Σ_s δˢ(t)
        let mut e = vec![(c.v[t], 1.0)];
        e.extend((0..ns).map(|s| (c.delta[s][t], -1.0)));
        m.row(0.0, 0.0, e);
    }
}

/// MaxOutput1, MaxOutput2 (tightened start-up and shut-down limits),
/// RampUp, RampDown.
fn output_limits_and_ramps(m: &mut Milp, g: &ThermalUnit, c: &UnitCols, nt: usize) {
    let width = g.pmax_mw - g.pmin_mw;
    let su_cut = (g.pmax_mw - g.startup_ramp_mw).max(0.0);
    let sd_cut = (g.pmax_mw - g.shutdown_ramp_mw).max(0.0);
    for t in 0..nt {
        // p + r − (Pmax − Pmin)u + max(Pmax − SU, 0)v ≤ 0
        m.row(
            f64::NEG_INFINITY,
            0.0,
            vec![
                (c.p[t], 1.0),
                (c.r[t], 1.0),
                (c.u[t], -width),
                (c.v[t], su_cut),
            ],
        );
        if t + 1 < nt {
            // p + r − (Pmax − Pmin)u + max(Pmax − SD, 0)w(t+1) ≤ 0
            m.row(
                f64::NEG_INFINITY,
                0.0,
                vec![
                    (c.p[t], 1.0),
                    (c.r[t], 1.0),
                    (c.u[t], -width),
                    (c.w[t + 1], sd_cut),
                ],
            );
        }
        if t > 0 {
            m.row(
                f64::NEG_INFINITY,
                g.ramp_up_mw,
                vec![(c.p[t], 1.0), (c.r[t], 1.0), (c.p[t - 1], -1.0)],
            );
            m.row(
                f64::NEG_INFINITY,
                g.ramp_down_mw,
                vec![(c.p[t - 1], 1.0), (c.p[t], -1.0)],
            );
        }
    }
}

/// PiecewiseParts (p = Σ (Pˡ − P¹)λˡ) and PiecewiseLimits (u = Σ λˡ); the
/// cost part is in the λ columns' costs.
fn piecewise_cost(m: &mut Milp, g: &ThermalUnit, c: &UnitCols, nt: usize) {
    let p1 = g.cost_curve[0].mw;
    for t in 0..nt {
        let mut e = vec![(c.p[t], 1.0)];
        e.extend(
            g.cost_curve
                .iter()
                .enumerate()
                .skip(1)
                .map(|(l, pt)| (c.lambda[l][t], -(pt.mw - p1))),
        );
        m.row(0.0, 0.0, e);
        let mut e = vec![(c.u[t], 1.0)];
        e.extend((0..g.cost_curve.len()).map(|l| (c.lambda[l][t], -1.0)));
        m.row(0.0, 0.0, e);
    }
}

/// UCDemand: Σ (p + Pmin·u) + Σ renewable = D(t); UCReserves: Σ r ≥ R(t).
fn system_rows(m: &mut Milp, input: &UcInput, slack_penalty: Option<f64>) {
    for t in 0..input.periods {
        let mut e: Vec<(usize, f64)> = Vec::new();
        for (g, unit) in input.thermal.iter().enumerate() {
            e.push((m.units[g].p[t], 1.0));
            e.push((m.units[g].u[t], unit.pmin_mw));
        }
        e.extend(m.renewable.iter().map(|w| (w[t], 1.0)));
        let mut reserve: Vec<(usize, f64)> = (0..input.thermal.len())
            .map(|g| (m.units[g].r[t], 1.0))
            .collect();
        let need = input.reserve_mw.get(t).copied().unwrap_or(0.0);
        if let Some(pen) = slack_penalty {
            let short = m.col(pen, 0.0, f64::INFINITY, false);
            let surplus = m.col(pen, 0.0, f64::INFINITY, false);
            e.push((short, 1.0));
            e.push((surplus, -1.0));
            let r_short = (need > 0.0).then(|| m.col(pen, 0.0, f64::INFINITY, false));
            if let Some(c) = r_short {
                reserve.push((c, 1.0));
            }
            m.slacks.push((short, surplus, r_short));
        }
        let d = input.demand_mw[t];
        let demand_row = m.row(d, d, e);
        m.demand_row.push(demand_row);
        let reserve_row = (need > 0.0).then(|| m.row(need, f64::INFINITY, reserve));
        m.reserve_row.push(reserve_row);
    }
}

/// The pricing LP: the same model with u, v, w and δ fixed at a solution's
/// commitment and integrality dropped (docs/clearing.md, "Pricing").
pub fn fix_commitment(m: &Milp, x: &[f64]) -> Milp {
    let mut lp = m.clone();
    for unit in &m.units {
        let fixed = unit
            .u
            .iter()
            .chain(&unit.v)
            .chain(&unit.w)
            .chain(unit.delta.iter().flatten());
        for &c in fixed {
            lp.fix(c, x[c].round());
        }
    }
    for c in &mut lp.cols {
        c.integer = false;
    }
    lp
}
