//! Solving the unit commitment: the MILP with HiGHS to the requested gap,
//! then pricing by fixing the commitment and re-solving as an LP (energy
//! price = dual of the demand row, reserve price = dual of the reserve row),
//! and make-whole (uplift) payments for units whose market revenue does not
//! cover their as-offered cost (docs/clearing.md, "Pricing after
//! commitment"). An infeasible instance is re-solved with priced slacks to
//! name the constraint sets that cannot be met.

use std::time::Instant;

use highs::{Col, HighsModelStatus, RowProblem, Sense, SolvedModel};
use serde::{Deserialize, Serialize};

use super::UcInput;
use super::formulation::{Milp, build, fix_commitment};
use crate::error::ClearingError;

/// The outcome of a unit-commitment run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UcResult {
    pub name: String,
    pub periods: usize,
    /// "optimal" (within the gap) or "time_limit" (best solution found).
    pub status: String,
    /// Total cost of the commitment and dispatch, $ (no-load + production + start-up).
    pub objective: f64,
    /// Best lower bound HiGHS proved, $.
    pub best_bound: f64,
    /// (objective − best_bound) / |objective|.
    pub mip_gap: f64,
    /// Units on in at least one period.
    pub committed_units: usize,
    /// Energy price per period from the pricing LP (single bus: the LMP), $/MWh.
    pub energy_price_per_mwh: Vec<f64>,
    /// Spinning-reserve price per period, $/MW-h (0 where no requirement).
    pub reserve_price_per_mwh: Vec<f64>,
    /// Cost of the pricing LP (the MILP's commitment, dispatch re-optimised), $.
    pub pricing_objective: f64,
    pub units: Vec<UnitSchedule>,
    /// Renewable output per unit and period, MW.
    pub renewable_mw: Vec<(String, Vec<f64>)>,
    /// Σ uplift over units, $.
    pub total_uplift: f64,
    pub milp_seconds: f64,
    pub pricing_seconds: f64,
    pub columns: usize,
    pub rows: usize,
    pub warnings: Vec<String>,
}

/// One thermal unit's schedule and settlement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitSchedule {
    pub name: String,
    pub on: Vec<bool>,
    /// 1-based periods with a start-up, and the category used (0 = hottest).
    pub startups: Vec<(usize, usize)>,
    pub output_mw: Vec<f64>,
    pub reserve_mw: Vec<f64>,
    /// No-load + production cost, $.
    pub production_cost: f64,
    pub startup_cost: f64,
    /// Σ energy price × output + reserve price × reserve, $.
    pub revenue: f64,
    /// max(0, production + start-up cost − revenue), $: the make-whole payment.
    pub uplift: f64,
}

/// Solve without progress reports.
pub fn solve_uc(input: &UcInput) -> Result<UcResult, ClearingError> {
    solve_uc_with_progress(input, &mut |_| {})
}

/// Solve; `progress` is told each stage ("MILP", "pricing").
pub fn solve_uc_with_progress(
    input: &UcInput,
    progress: &mut dyn FnMut(&str),
) -> Result<UcResult, ClearingError> {
    input.validate()?;
    let milp = build(input, None);
    progress("MILP");
    let t0 = Instant::now();
    let sol = run(&milp, input, true)?;
    let milp_seconds = t0.elapsed().as_secs_f64();
    let status = sol.status();
    let feasible = sol.primal_solution_status() == highs::HighsSolutionStatus::Feasible;
    let status_name = match status {
        HighsModelStatus::Optimal => "optimal",
        HighsModelStatus::ReachedTimeLimit if feasible => "time_limit",
        HighsModelStatus::Infeasible | HighsModelStatus::UnboundedOrInfeasible => {
            return Err(diagnose_infeasible(input));
        }
        other => {
            return Err(ClearingError::UcSolver(format!(
                "MILP status {other:?} (no feasible commitment found)"
            )));
        }
    };
    let x = sol.get_solution().columns().to_vec();
    let objective = sol.objective_value();
    let best_bound = sol
        .double_info_value(c"mip_dual_bound")
        .unwrap_or(f64::NEG_INFINITY);
    let mip_gap = sol.mip_gap();
    drop(sol);

    progress("pricing");
    let t1 = Instant::now();
    let lp = fix_commitment(&milp, &x);
    let priced = run(&lp, input, false)?;
    if priced.status() != HighsModelStatus::Optimal {
        return Err(ClearingError::UcSolver(format!(
            "pricing LP with the commitment fixed: status {:?}",
            priced.status()
        )));
    }
    let pricing_seconds = t1.elapsed().as_secs_f64();
    let mut warnings = Vec::new();
    let pricing_objective = priced.objective_value();
    if (pricing_objective - objective).abs() > 1e-6 * objective.abs().max(1.0) {
        warnings.push(format!(
            "pricing LP cost {pricing_objective:.4} differs from the MILP's {objective:.4} (the MILP's dispatch was within its feasibility tolerance)"
        ));
    }
    let mut result = settle(input, &milp, &priced);
    result.status = status_name.into();
    result.objective = objective;
    result.best_bound = best_bound;
    result.mip_gap = mip_gap;
    result.pricing_objective = pricing_objective;
    result.milp_seconds = milp_seconds;
    result.pricing_seconds = pricing_seconds;
    result.warnings = warnings;
    Ok(result)
}

/// Load a model description into HiGHS and solve it (MILP options when `mip`).
fn run(m: &Milp, input: &UcInput, mip: bool) -> Result<SolvedModel, ClearingError> {
    let mut pb = RowProblem::default();
    let cols: Vec<Col> = m
        .cols
        .iter()
        .map(|c| {
            if c.integer && mip {
                pb.add_integer_column(c.cost, c.lo..=c.hi)
            } else {
                pb.add_column(c.cost, c.lo..=c.hi)
            }
        })
        .collect();
    for r in &m.rows {
        pb.add_row(r.lo..=r.hi, r.entries.iter().map(|&(c, v)| (cols[c], v)));
    }
    let mut model = pb
        .try_optimise(Sense::Minimise)
        .map_err(|e| ClearingError::UcSolver(format!("model load: {e:?}")))?;
    model.make_quiet();
    if mip {
        model.set_option("mip_rel_gap", input.settings.mip_gap);
        if let Some(limit) = input.settings.time_limit_s {
            model.set_option("time_limit", limit);
        }
    }
    model
        .try_solve()
        .map_err(|e| ClearingError::UcSolver(format!("HiGHS: {e:?}")))
}

/// Schedules, prices and uplift from the pricing LP's solution.
fn settle(input: &UcInput, m: &Milp, sol: &SolvedModel) -> UcResult {
    let s = sol.get_solution();
    let (x, y) = (s.columns(), s.dual_rows());
    let nt = input.periods;
    let energy: Vec<f64> = m.demand_row.iter().map(|&r| y[r]).collect();
    let reserve: Vec<f64> = m
        .reserve_row
        .iter()
        .map(|r| r.map_or(0.0, |r| y[r]))
        .collect();
    let mut units = Vec::with_capacity(input.thermal.len());
    for (g, unit) in input.thermal.iter().enumerate() {
        let c = &m.units[g];
        let on: Vec<bool> = c.u.iter().map(|&k| x[k] > 0.5).collect();
        let output: Vec<f64> = (0..nt)
            .map(|t| if on[t] { unit.pmin_mw + x[c.p[t]] } else { 0.0 })
            .collect();
        let reserve_mw: Vec<f64> = (0..nt).map(|t| x[c.r[t]]).collect();
        let mut startups = Vec::new();
        let mut startup_cost = 0.0;
        for t in 0..nt {
            for (s, tier) in unit.startup.iter().enumerate() {
                if x[c.delta[s][t]] > 0.5 {
                    startups.push((t + 1, s));
                    startup_cost += tier.cost;
                }
            }
        }
        let production_cost: f64 = (0..nt)
            .map(|t| {
                c.lambda
                    .iter()
                    .zip(&unit.cost_curve)
                    .map(|(l, pt)| x[l[t]] * pt.cost_per_h)
                    .sum::<f64>()
            })
            .sum();
        let revenue: f64 = (0..nt)
            .map(|t| energy[t] * output[t] + reserve[t] * reserve_mw[t])
            .sum();
        let uplift = (production_cost + startup_cost - revenue).max(0.0);
        units.push(UnitSchedule {
            name: unit.name.clone(),
            on,
            startups,
            output_mw: output,
            reserve_mw,
            production_cost,
            startup_cost,
            revenue,
            uplift,
        });
    }
    let renewable_mw = input
        .renewable
        .iter()
        .zip(&m.renewable)
        .map(|(w, cols)| (w.name.clone(), cols.iter().map(|&k| x[k]).collect()))
        .collect();
    UcResult {
        name: input.name.clone(),
        periods: nt,
        status: String::new(),
        objective: 0.0,
        best_bound: 0.0,
        mip_gap: 0.0,
        committed_units: units.iter().filter(|u| u.on.iter().any(|&b| b)).count(),
        energy_price_per_mwh: energy,
        reserve_price_per_mwh: reserve,
        pricing_objective: 0.0,
        total_uplift: units.iter().map(|u| u.uplift).sum(),
        units,
        renewable_mw,
        milp_seconds: 0.0,
        pricing_seconds: 0.0,
        columns: m.cols.len(),
        rows: m.rows.len(),
        warnings: Vec::new(),
    }
}

/// Re-solve with priced demand and reserve slacks and name what they cover.
fn diagnose_infeasible(input: &UcInput) -> ClearingError {
    let m = build(input, Some(input.settings.value_of_lost_load_per_mwh));
    let sets = match run(&m, input, true) {
        Ok(sol) if sol.primal_solution_status() == highs::HighsSolutionStatus::Feasible => {
            let s = sol.get_solution();
            let x = s.columns();
            let mut sets = Vec::new();
            for (t, &(short, surplus, r_short)) in m.slacks.iter().enumerate() {
                if x[short] > 1e-6 {
                    sets.push(format!("demand (UCDemand) period {}: {:.3} MW short", t + 1, x[short]));
                }
                if x[surplus] > 1e-6 {
                    sets.push(format!(
                        "demand (UCDemand) period {}: {:.3} MW of must-run surplus",
                        t + 1,
                        x[surplus]
                    ));
                }
                if let Some(r) = r_short
                    && x[r] > 1e-6
                {
                    sets.push(format!("reserves (UCReserves) period {}: {:.3} MW short", t + 1, x[r]));
                }
            }
            sets
        }
        _ => vec![
            "unit constraints alone (initial conditions, ramps, minimum up/down times) admit no schedule"
                .to_string(),
        ],
    };
    ClearingError::UcInfeasible(sets.join("; "))
}
