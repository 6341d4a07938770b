//! What a clearing run returns: per interval the dispatch of every unit and
//! segment, served demand, LMPs split into energy, congestion and (zero) loss
//! components, branch and section flows with shadow prices, shortfalls, and
//! the run's statistics; plus writers to JSON, CSV and the SVG price chart
//! (drawn by voltex-charts). Nothing here solves.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use voltex_charts::{Colour, Figure, Panel, Series};

use crate::error::ClearingError;
use crate::input::CostMode;

/// The outcome of one clearing run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClearingResult {
    pub case_name: String,
    pub cost_mode: CostMode,
    pub intervals: usize,
    pub interval_minutes: f64,
    /// "optimal" (infeasible markets are optimal with priced shortfalls).
    pub status: String,
    /// Σ over intervals of (offer cost − bid value + penalties) × hours, $.
    /// In polynomial mode the offer cost is the full cost polynomial (incl. c0).
    pub objective: f64,
    /// −objective: value of served bids minus cost of accepted offers (and penalties), $.
    pub welfare: f64,
    /// True when shortfall/surplus slacks were placed per bus (see docs/clearing.md).
    pub located_slacks: bool,
    pub results: Vec<IntervalResult>,
    pub warnings: Vec<String>,
    pub stats: RunStats,
}

/// One interval of the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntervalResult {
    /// 1-based interval number.
    pub interval: usize,
    /// Fixed load incl. shunt conductance, MW.
    pub fixed_load_mw: f64,
    /// Energy component per island (the price at the island's reference bus), $/MWh.
    pub energy_price_per_mwh: Vec<f64>,
    pub lmp: Vec<BusPrice>,
    pub units: Vec<UnitDispatch>,
    pub bids: Vec<BidAward>,
    /// Unserved fixed load by bus (or at the island reference bus before located slacks).
    pub shortfalls: Vec<BusQuantity>,
    pub surpluses: Vec<BusQuantity>,
    pub branches: Vec<BranchFlow>,
    pub sections: Vec<SectionFlow>,
    /// Binding N-1 constraints of the interval (empty without security).
    #[serde(default)]
    pub contingencies: Vec<ContingencyFlow>,
    /// Cost of accepted offer segments ($/h); in polynomial mode the full cost.
    pub offer_cost_per_h: f64,
    pub bid_value_per_h: f64,
    pub penalty_cost_per_h: f64,
    /// Cost of the unpriced output below pmin (step mode), reported apart, $/h.
    pub must_run_cost_per_h: f64,
    pub objective_per_h: f64,
}

/// Locational marginal price of a bus and its components (DC: no losses).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BusPrice {
    pub bus: u32,
    pub lmp_per_mwh: f64,
    pub energy_per_mwh: f64,
    pub congestion_per_mwh: f64,
    /// Always 0 in the lossless DC model; reported so the decomposition is explicit.
    pub loss_per_mwh: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitDispatch {
    pub unit: String,
    pub bus: u32,
    pub on: bool,
    pub output_mw: f64,
    /// Accepted quantity of each offer segment (step mode), MW.
    pub segments_mw: Vec<f64>,
    /// Dual of the ramp row between the previous interval and this one
    /// (HiGHS sign: change of the objective per MW of more ramp room).
    pub ramp_dual_per_mwh: f64,
    /// Value of one more MW from this unit in this interval:
    /// LMP + own ramp dual − next interval's ramp dual. KKT: a segment priced
    /// below it is fully accepted, above it is not accepted.
    pub marginal_value_per_mwh: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BidAward {
    pub bid: String,
    pub bus: u32,
    pub served_mw: f64,
    pub segments_mw: Vec<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BusQuantity {
    pub bus: u32,
    pub mw: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BranchFlow {
    pub index: usize,
    pub from_bus: u32,
    pub to_bus: u32,
    pub flow_mw: f64,
    /// Effective limits (thermal and angle-difference), None = unlimited.
    pub min_flow_mw: Option<f64>,
    pub max_flow_mw: Option<f64>,
    /// Value of one more MW of capacity in the binding direction, $/MWh (≥ 0).
    pub shadow_price_per_mwh: f64,
    /// The raw row dual (negative when the upper limit binds).
    pub dual_per_mwh: f64,
    pub binding: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionFlow {
    pub name: String,
    pub flow_mw: f64,
    pub limit_mw: f64,
    pub shadow_price_per_mwh: f64,
    pub dual_per_mwh: f64,
    pub binding: bool,
}

/// A binding post-contingency constraint: the flow of branch `monitored`
/// after the outage of branch `outage` (indices in `network.branches`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ContingencyFlow {
    pub monitored: usize,
    pub outage: usize,
    /// f_l + LODF_lk·f_k, MW.
    pub post_flow_mw: f64,
    /// Emergency rating of the monitored branch, MW.
    pub limit_mw: f64,
    /// Value of one more MW of emergency capacity, $/MWh (≥ 0).
    pub shadow_price_per_mwh: f64,
    /// The raw row dual (negative when the upper limit binds).
    pub dual_per_mwh: f64,
}

/// How one solve went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundStats {
    pub round: usize,
    /// Network rows added after this solve.
    pub added_rows: usize,
    /// Flow limits violated by this solve's dispatch.
    pub violations: usize,
    pub solve_ms: f64,
    pub strategy: SolverStrategy,
    pub iterations: u64,
    pub status: String,
}

/// Which HiGHS strategy solved a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SolverStrategy {
    /// Default HiGHS run on a fresh model.
    Simplex,
    /// Re-solve after adding rows, from the previous basis.
    WarmSimplex,
    /// Fallback 1: fresh model, dual simplex, presolve off.
    SimplexNoPresolve,
    /// Fallback 2: fresh model, interior point with crossover.
    InteriorPoint,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunStats {
    /// Building the LP (excl. the network factorisation), ms.
    pub build_ms: f64,
    /// Network factorisation, flows and PTDF rows, ms.
    pub ptdf_ms: f64,
    pub solve_ms: f64,
    pub pricing_ms: f64,
    pub total_ms: f64,
    pub columns: usize,
    pub rows: usize,
    pub network_rows: usize,
    /// Of the network rows, those of post-contingency flows (N-1).
    #[serde(default)]
    pub contingency_rows: usize,
    /// Outages checked in the N-1 study (0 without security).
    #[serde(default)]
    pub contingencies_studied: usize,
    /// Studied outages skipped because they split an island (branch indices).
    #[serde(default)]
    pub islanding_contingencies: Vec<usize>,
    pub rounds: Vec<RoundStats>,
}

/// Summary figures people read first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub objective: f64,
    pub binding_branches: usize,
    pub binding_branch_intervals: usize,
    pub binding_sections: usize,
    /// Binding (monitored, outage, interval) N-1 constraints.
    pub binding_contingency_intervals: usize,
    pub min_lmp: f64,
    pub mean_lmp: f64,
    pub max_lmp: f64,
    pub shortfall_mwh: f64,
    pub surplus_mwh: f64,
}

impl ClearingResult {
    pub fn summary(&self) -> Summary {
        let mut binding = std::collections::HashSet::new();
        let mut binding_sections = std::collections::HashSet::new();
        let mut pairs = 0;
        let (mut min, mut max, mut sum, mut n) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0usize);
        let (mut short, mut surplus) = (0.0, 0.0);
        let hours = self.interval_minutes / 60.0;
        for r in &self.results {
            for b in r.branches.iter().filter(|b| b.binding) {
                binding.insert(b.index);
                pairs += 1;
            }
            for s in r.sections.iter().filter(|s| s.binding) {
                binding_sections.insert(s.name.clone());
            }
            for p in &r.lmp {
                min = min.min(p.lmp_per_mwh);
                max = max.max(p.lmp_per_mwh);
                sum += p.lmp_per_mwh;
                n += 1;
            }
            short += r.shortfalls.iter().map(|s| s.mw).sum::<f64>() * hours;
            surplus += r.surpluses.iter().map(|s| s.mw).sum::<f64>() * hours;
        }
        Summary {
            objective: self.objective,
            binding_branches: binding.len(),
            binding_branch_intervals: pairs,
            binding_sections: binding_sections.len(),
            binding_contingency_intervals: self.results.iter().map(|r| r.contingencies.len()).sum(),
            min_lmp: min,
            mean_lmp: if n > 0 { sum / n as f64 } else { 0.0 },
            max_lmp: max,
            shortfall_mwh: short,
            surplus_mwh: surplus,
        }
    }

    /// Write `result.json`, `lmp.csv`, `dispatch.csv`, `branches.csv`,
    /// `sections.csv`, `bids.csv`, `shortfalls.csv` and the price curves
    /// `lmp.svg` into `dir`.
    pub fn write_to_dir(&self, dir: &Path) -> Result<(), ClearingError> {
        std::fs::create_dir_all(dir).map_err(|e| werr(dir, e))?;
        let json = serde_json::to_vec_pretty(self).map_err(|e| werr(dir, e))?;
        std::fs::write(dir.join("result.json"), json).map_err(|e| werr(dir, e))?;
        self.write_csv(
            &dir.join("lmp.csv"),
            &[
                "interval",
                "bus",
                "lmp_per_mwh",
                "energy_per_mwh",
                "congestion_per_mwh",
                "loss_per_mwh",
            ],
            |r, w| {
                for p in &r.lmp {
                    w.write_record([
                        r.interval.to_string(),
                        p.bus.to_string(),
                        f(p.lmp_per_mwh),
                        f(p.energy_per_mwh),
                        f(p.congestion_per_mwh),
                        f(p.loss_per_mwh),
                    ])?;
                }
                Ok(())
            },
        )?;
        self.write_csv(
            &dir.join("dispatch.csv"),
            &[
                "interval",
                "unit",
                "bus",
                "on",
                "output_mw",
                "segments_mw",
                "marginal_value_per_mwh",
            ],
            |r, w| {
                for u in &r.units {
                    let segs = u
                        .segments_mw
                        .iter()
                        .map(|s| f(*s))
                        .collect::<Vec<_>>()
                        .join(";");
                    w.write_record([
                        r.interval.to_string(),
                        u.unit.clone(),
                        u.bus.to_string(),
                        u.on.to_string(),
                        f(u.output_mw),
                        segs,
                        f(u.marginal_value_per_mwh),
                    ])?;
                }
                Ok(())
            },
        )?;
        self.write_csv(
            &dir.join("branches.csv"),
            &[
                "interval",
                "branch",
                "from_bus",
                "to_bus",
                "flow_mw",
                "min_flow_mw",
                "max_flow_mw",
                "shadow_price_per_mwh",
                "binding",
            ],
            |r, w| {
                for b in &r.branches {
                    w.write_record([
                        r.interval.to_string(),
                        b.index.to_string(),
                        b.from_bus.to_string(),
                        b.to_bus.to_string(),
                        f(b.flow_mw),
                        b.min_flow_mw.map(f).unwrap_or_default(),
                        b.max_flow_mw.map(f).unwrap_or_default(),
                        f(b.shadow_price_per_mwh),
                        b.binding.to_string(),
                    ])?;
                }
                Ok(())
            },
        )?;
        self.write_csv(
            &dir.join("sections.csv"),
            &[
                "interval",
                "section",
                "flow_mw",
                "limit_mw",
                "shadow_price_per_mwh",
                "binding",
            ],
            |r, w| {
                for s in &r.sections {
                    w.write_record([
                        r.interval.to_string(),
                        s.name.clone(),
                        f(s.flow_mw),
                        f(s.limit_mw),
                        f(s.shadow_price_per_mwh),
                        s.binding.to_string(),
                    ])?;
                }
                Ok(())
            },
        )?;
        self.write_csv(
            &dir.join("bids.csv"),
            &["interval", "bid", "bus", "served_mw"],
            |r, w| {
                for b in &r.bids {
                    w.write_record([
                        r.interval.to_string(),
                        b.bid.clone(),
                        b.bus.to_string(),
                        f(b.served_mw),
                    ])?;
                }
                Ok(())
            },
        )?;
        self.write_csv(
            &dir.join("shortfalls.csv"),
            &["interval", "kind", "bus", "mw"],
            |r, w| {
                for s in &r.shortfalls {
                    w.write_record([
                        r.interval.to_string(),
                        "shortfall".into(),
                        s.bus.to_string(),
                        f(s.mw),
                    ])?;
                }
                for s in &r.surpluses {
                    w.write_record([
                        r.interval.to_string(),
                        "surplus".into(),
                        s.bus.to_string(),
                        f(s.mw),
                    ])?;
                }
                Ok(())
            },
        )?;
        voltex_charts::write_svg(&dir.join("lmp.svg"), &self.price_figure())?;
        Ok(())
    }

    /// Price curves per interval: the minimum, mean and maximum LMP over all
    /// buses and the energy price of the first island (`lmp.svg`).
    pub fn price_figure(&self) -> Figure {
        let mut series = [
            Series::new("min LMP", vec![]).coloured(Colour::Blue),
            Series::new("mean LMP", vec![]).coloured(Colour::Ink),
            Series::new("max LMP", vec![]).coloured(Colour::Red),
            Series::new("energy price", vec![]).coloured(Colour::Green),
        ];
        for r in &self.results {
            let x = r.interval as f64;
            let lmps = r.lmp.iter().map(|p| p.lmp_per_mwh);
            let min = lmps.clone().fold(f64::INFINITY, f64::min);
            let max = lmps.clone().fold(f64::NEG_INFINITY, f64::max);
            let mean = lmps.sum::<f64>() / r.lmp.len().max(1) as f64;
            let energy = r.energy_price_per_mwh.first().copied().unwrap_or(0.0);
            for (s, y) in series.iter_mut().zip([min, mean, max, energy]) {
                s.points.push((x, y));
            }
        }
        let n = self.results.len() as f64;
        Figure::single(
            Panel::new(
                format!("LMP by interval — {}", self.case_name),
                "interval",
                "$/MWh",
                series.into(),
            )
            .x_range(0.5, n + 0.5),
        )
    }

    fn write_csv(
        &self,
        path: &Path,
        header: &[&str],
        mut rows: impl FnMut(&IntervalResult, &mut csv::Writer<std::fs::File>) -> Result<(), csv::Error>,
    ) -> Result<(), ClearingError> {
        let mut w = csv::Writer::from_path(path).map_err(|e| werr(path, e))?;
        w.write_record(header).map_err(|e| werr(path, e))?;
        for r in &self.results {
            rows(r, &mut w).map_err(|e| werr(path, e))?;
        }
        w.flush().map_err(|e| werr(path, e))?;
        let _ = std::io::sink().flush();
        Ok(())
    }
}

fn f(v: f64) -> String {
    format!("{v:.6}")
}

fn werr(path: &Path, e: impl std::fmt::Display) -> ClearingError {
    ClearingError::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}
