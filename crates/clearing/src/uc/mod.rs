//! Security-constrained unit commitment (SCUC): which thermal units run in
//! each hour, and at what output, for a day-ahead horizon, as a MILP solved
//! by HiGHS, then priced by fixing the commitment and solving the LP
//! (docs/clearing.md, "Unit commitment").
//!
//! The formulation is the three-binary model of Morales-España, Latorre and
//! Ramos (2013) with their tightened ramp and start-up/shut-down limits,
//! start-up categories (hot/warm/cold) and a convex piecewise production
//! cost — exactly the model PGLib-UC publishes in its MODEL.tex, so that the
//! shipped PGLib-UC instances can be solved and compared as published.
//!
//! Steps, one module each: [`pglib`] (reading PGLib-UC JSON), [`formulation`]
//! (variables and rows), [`solve`] (MILP, pricing LP, uplift, result). This
//! module holds the input types and their validation; it does not solve.

pub mod formulation;
pub mod pglib;
pub mod solve;

use serde::{Deserialize, Serialize};

use crate::error::{ClearingError, InputProblem};

pub use solve::{UcResult, UnitSchedule, solve_uc, solve_uc_with_progress};

/// Everything one unit-commitment run needs (single bus, like PGLib-UC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UcInput {
    pub name: String,
    /// Number of hourly periods T.
    pub periods: usize,
    /// System demand D(t), MW (length T).
    pub demand_mw: Vec<f64>,
    /// Spinning-reserve requirement R(t), MW (length T; empty = none).
    #[serde(default)]
    pub reserve_mw: Vec<f64>,
    pub thermal: Vec<ThermalUnit>,
    #[serde(default)]
    pub renewable: Vec<RenewableUnit>,
    #[serde(default)]
    pub settings: UcSettings,
}

/// A thermal unit with its technical data and cost (PGLib-UC fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThermalUnit {
    pub name: String,
    /// Must be on in every period.
    #[serde(default)]
    pub must_run: bool,
    pub pmin_mw: f64,
    pub pmax_mw: f64,
    /// RU, RD: largest change of output between consecutive hours, MW.
    pub ramp_up_mw: f64,
    pub ramp_down_mw: f64,
    /// SU, SD: largest output in the hour of a start-up / before a shut-down, MW.
    pub startup_ramp_mw: f64,
    pub shutdown_ramp_mw: f64,
    /// UT, DT: minimum up and down times, hours.
    pub min_up_h: usize,
    pub min_down_h: usize,
    /// Initial conditions: output in the hour before period 1, status, and
    /// how many hours the unit has been on (UT⁰) or off (DT⁰).
    pub initial_output_mw: f64,
    pub initially_on: bool,
    pub initial_up_h: usize,
    pub initial_down_h: usize,
    /// Start-up categories from hottest to coldest: the category applies
    /// when the unit has been off at least `lag_h` hours (the first lag is
    /// the minimum down time).
    pub startup: Vec<StartupTier>,
    /// Convex piecewise production cost: points (MW, $/h) from pmin to
    /// pmax; the cost at pmin is the no-load cost of an hour on.
    pub cost_curve: Vec<CostPoint>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StartupTier {
    pub lag_h: usize,
    pub cost: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CostPoint {
    pub mw: f64,
    pub cost_per_h: f64,
}

/// A renewable unit: output anywhere in [pmin(t), pmax(t)] at no cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenewableUnit {
    pub name: String,
    pub pmin_mw: Vec<f64>,
    pub pmax_mw: Vec<f64>,
}

/// Solver settings of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UcSettings {
    /// Relative MIP gap at which HiGHS stops: (incumbent − bound) / |incumbent|.
    #[serde(default = "default_gap")]
    pub mip_gap: f64,
    /// Wall-clock limit of the MILP, seconds (the best solution found so far
    /// is priced and its gap reported).
    #[serde(default)]
    pub time_limit_s: Option<f64>,
    /// Price of unserved demand in the diagnostic run that names violated
    /// constraint sets of an infeasible instance, $/MWh.
    #[serde(default = "default_voll")]
    pub value_of_lost_load_per_mwh: f64,
}

fn default_gap() -> f64 {
    1e-4
}
fn default_voll() -> f64 {
    10_000.0
}

impl Default for UcSettings {
    fn default() -> Self {
        Self {
            mip_gap: default_gap(),
            time_limit_s: None,
            value_of_lost_load_per_mwh: default_voll(),
        }
    }
}

impl UcInput {
    /// Check everything and report every problem, naming the unit and field.
    pub fn validate(&self) -> Result<(), ClearingError> {
        let mut problems = Vec::new();
        let t = self.periods;
        if t == 0 {
            problems.push(InputProblem::new(
                "time_periods",
                "must be at least 1".into(),
            ));
        }
        if self.demand_mw.len() != t || self.demand_mw.iter().any(|d| !d.is_finite()) {
            problems.push(InputProblem::new(
                "demand",
                format!("must be {t} finite values, got {}", self.demand_mw.len()),
            ));
        }
        if !self.reserve_mw.is_empty()
            && (self.reserve_mw.len() != t
                || self.reserve_mw.iter().any(|r| r.is_nan() || *r < 0.0))
        {
            problems.push(InputProblem::new(
                "reserves",
                format!(
                    "must be {t} non-negative values, got {}",
                    self.reserve_mw.len()
                ),
            ));
        }
        let mut names = std::collections::HashSet::new();
        for g in &self.thermal {
            let el = format!("thermal_generators.{}", g.name);
            if !names.insert(g.name.as_str()) {
                problems.push(InputProblem::new(&el, "name used twice".into()));
            }
            check_unit(g, &el, &mut problems);
        }
        for w in &self.renewable {
            let el = format!("renewable_generators.{}", w.name);
            if w.pmin_mw.len() != t || w.pmax_mw.len() != t {
                problems.push(InputProblem::new(
                    &el,
                    format!("power_output_minimum and power_output_maximum must have {t} values"),
                ));
            } else if let Some(k) = (0..t).find(|&k| {
                !matches!(
                    w.pmin_mw[k].partial_cmp(&w.pmax_mw[k]),
                    Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
                )
            }) {
                problems.push(InputProblem::new(
                    &el,
                    format!(
                        "period {}: power_output_minimum {} exceeds power_output_maximum {}",
                        k + 1,
                        w.pmin_mw[k],
                        w.pmax_mw[k]
                    ),
                ));
            }
        }
        let s = &self.settings;
        if !(s.mip_gap >= 0.0 && s.mip_gap < 1.0) {
            problems.push(InputProblem::new(
                "settings.mip_gap",
                format!("must be in [0, 1), got {}", s.mip_gap),
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ClearingError::InvalidInput(problems))
        }
    }
}

fn check_unit(g: &ThermalUnit, el: &str, problems: &mut Vec<InputProblem>) {
    let mut bad = |rule: String| problems.push(InputProblem::new(el, rule));
    if !(g.pmin_mw.is_finite() && g.pmax_mw.is_finite()) {
        bad("power_output_minimum and power_output_maximum must be finite".into());
        return;
    }
    if g.pmin_mw > g.pmax_mw {
        bad(format!(
            "power_output_minimum {} exceeds power_output_maximum {} (pmin > pmax)",
            g.pmin_mw, g.pmax_mw
        ));
    }
    if g.pmin_mw < 0.0 {
        bad(format!("power_output_minimum {} is negative", g.pmin_mw));
    }
    for (field, v) in [
        ("ramp_up_limit", g.ramp_up_mw),
        ("ramp_down_limit", g.ramp_down_mw),
        ("ramp_startup_limit", g.startup_ramp_mw),
        ("ramp_shutdown_limit", g.shutdown_ramp_mw),
    ] {
        if v.is_nan() || v < 0.0 {
            bad(format!("{field} must be non-negative, got {v}"));
        }
    }
    if g.cost_curve.is_empty() {
        bad("piecewise_production needs at least one point".into());
    } else {
        let first = g.cost_curve[0].mw;
        let last = g.cost_curve[g.cost_curve.len() - 1].mw;
        let tol = 1e-6 * (1.0 + g.pmax_mw.abs());
        if (first - g.pmin_mw).abs() > tol || (last - g.pmax_mw).abs() > tol {
            bad(format!(
                "piecewise_production must run from power_output_minimum {} to power_output_maximum {}, got {first} to {last}",
                g.pmin_mw, g.pmax_mw
            ));
        }
        let mut slope = f64::NEG_INFINITY;
        for (k, w) in g.cost_curve.windows(2).enumerate() {
            let dp = w[1].mw - w[0].mw;
            if dp <= 0.0 {
                bad(format!(
                    "piecewise_production point {}: mw must increase ({} after {})",
                    k + 1,
                    w[1].mw,
                    w[0].mw
                ));
                break;
            }
            let s = (w[1].cost_per_h - w[0].cost_per_h) / dp;
            if s < slope - 1e-6 * slope.abs().max(1.0) {
                bad(format!(
                    "piecewise_production point {}: marginal cost {s:.4} $/MWh after {slope:.4}: the cost must be convex",
                    k + 1
                ));
                break;
            }
            slope = s;
        }
    }
    if g.startup.is_empty() {
        bad("startup needs at least one category".into());
    }
    for w in g.startup.windows(2) {
        if w[1].lag_h <= w[0].lag_h {
            bad(format!(
                "startup lags must increase from hot to cold ({} after {})",
                w[1].lag_h, w[0].lag_h
            ));
            break;
        }
    }
    if g.initially_on && g.initial_up_h == 0 {
        bad("time_up_t0 must be positive for a unit that is on at t0".into());
    }
    if !g.initially_on && g.initial_down_h == 0 {
        bad("time_down_t0 must be positive for a unit that is off at t0".into());
    }
}
