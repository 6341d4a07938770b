//! Battery sizing (储能配置) for one customer as a linear programme solved
//! by HiGHS over the customer's series: the power `P` (kW) and energy `E`
//! (kWh) of a behind-the-meter battery, and its charge/discharge schedule,
//! that minimise energy cost + monthly demand charges + annualised capital
//! cost, with no export to the grid. The formulation in maths and the
//! maths-to-code table are in docs/retail-efficiency.md ("Battery sizing").
//!
//! The answer is a planning estimate with perfect foresight of the year's
//! load and prices, so it is an upper bound on what a real controller
//! earns. Must not: read files or the store, or decide for the customer.
use std::ops::Range;
use std::sync::mpsc;
use std::time::Instant;

use chrono::Datelike;

use highs::{Col, HighsModelStatus, Model, RowProblem, Sense};
use serde::{Deserialize, Serialize};
use voltex_model::{Violation, Violations};

use super::{DAYS_PER_YEAR, INTERVAL_H, IntervalSeries, fen_of_yuan};
use crate::error::{Result, RetailError};
use crate::money::Fen;
use crate::month::SLOTS_PER_DAY;

/// The time step the LP is solved on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The meter's 15-minute intervals (Δt = 0.25 h).
    QuarterHour,
    /// Hourly means of four intervals (Δt = 1 h): a quarter of the
    /// variables; the demand charge then sees hourly, not 15-minute, peaks.
    Hourly,
}

impl Resolution {
    pub fn step_h(self) -> f64 {
        match self {
            Resolution::QuarterHour => INTERVAL_H,
            Resolution::Hourly => 1.0,
        }
    }

    fn intervals_per_step(self) -> usize {
        match self {
            Resolution::QuarterHour => 1,
            Resolution::Hourly => 4,
        }
    }
}

/// Capital cost of the battery. The defaults are ASSUMPTIONS (order of
/// magnitude of Chinese Li-ion commercial storage quotes of 2024–25, not a
/// sourced figure): 1 000 yuan/kWh, 300 yuan/kW, 10 years, 6 %.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatteryCosts {
    pub capex_yuan_per_kwh: f64,
    pub capex_yuan_per_kw: f64,
    pub life_years: u32,
    pub discount_rate: f64,
}

impl Default for BatteryCosts {
    fn default() -> Self {
        BatteryCosts {
            capex_yuan_per_kwh: 1000.0,
            capex_yuan_per_kw: 300.0,
            life_years: 10,
            discount_rate: 0.06,
        }
    }
}

impl BatteryCosts {
    /// Capital recovery factor r(1+r)^n / ((1+r)^n − 1); 1/n when r = 0.
    pub fn capital_recovery_factor(&self) -> f64 {
        let (r, n) = (self.discount_rate, self.life_years as f64);
        if r.abs() < 1e-12 {
            return 1.0 / n;
        }
        let g = (1.0 + r).powf(n);
        r * g / (g - 1.0)
    }
}

/// What the sizing needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatteryInput {
    pub series: IntervalSeries,
    /// Energy price of every interval of `series`, yuan/kWh
    /// (see [`super::interval_prices_yuan`]).
    pub price_yuan_per_kwh: Vec<f64>,
    /// Charge per kW of the month's maximum demand, fen per kW-month; 0
    /// when the customer's basic charge does not follow its maximum
    /// demand. No default: it depends on how the customer is billed (see
    /// [`demand_charge_from_capacity`] for the stated demo assumption).
    pub demand_charge_fen_per_kw_month: i64,
    pub costs: BatteryCosts,
    /// Charging efficiency η_c (0, 1].
    pub charge_efficiency: f64,
    /// Discharging efficiency η_d (0, 1].
    pub discharge_efficiency: f64,
    pub resolution: Resolution,
}

impl BatteryInput {
    /// An input with round-trip efficiency 0.95 × 0.95 ≈ 0.90 (assumed),
    /// default costs and the hourly resolution.
    pub fn new(
        series: IntervalSeries,
        price_yuan_per_kwh: Vec<f64>,
        demand_charge_fen_per_kw_month: i64,
    ) -> Self {
        BatteryInput {
            series,
            price_yuan_per_kwh,
            demand_charge_fen_per_kw_month,
            costs: BatteryCosts::default(),
            charge_efficiency: 0.95,
            discharge_efficiency: 0.95,
            resolution: Resolution::Hourly,
        }
    }

    fn validate(&self) -> Result<()> {
        let mut v = Violations::default();
        if self.price_yuan_per_kwh.len() != self.series.kwh.len() {
            v.push(Violation::new(
                "price_yuan_per_kwh",
                "one_price_per_interval",
                self.price_yuan_per_kwh.len(),
                format!(
                    "one price per interval of the series ({})",
                    self.series.kwh.len()
                ),
            ));
        }
        if let Some(i) = self.price_yuan_per_kwh.iter().position(|p| !p.is_finite()) {
            v.push(Violation::new(
                format!("price_yuan_per_kwh[{i}]"),
                "finite",
                "",
                "a price is a finite number",
            ));
        }
        if self.demand_charge_fen_per_kw_month < 0 {
            v.push(Violation::new(
                "demand_charge_fen_per_kw_month",
                "non_negative",
                self.demand_charge_fen_per_kw_month,
                "a demand charge is not negative",
            ));
        }
        for (field, eta) in [
            ("charge_efficiency", self.charge_efficiency),
            ("discharge_efficiency", self.discharge_efficiency),
        ] {
            if !(eta > 0.0 && eta <= 1.0) {
                v.push(Violation::new(
                    field,
                    "in_0_1",
                    eta,
                    "an efficiency is above 0 and at most 1",
                ));
            }
        }
        let c = &self.costs;
        for (field, x) in [
            ("costs.capex_yuan_per_kwh", c.capex_yuan_per_kwh),
            ("costs.capex_yuan_per_kw", c.capex_yuan_per_kw),
            ("costs.discount_rate", c.discount_rate),
        ] {
            if !(x >= 0.0 && x.is_finite()) {
                v.push(Violation::new(
                    field,
                    "finite_non_negative",
                    x,
                    "a cost or rate is a finite number, not negative",
                ));
            }
        }
        if c.life_years == 0 {
            v.push(Violation::new(
                "costs.life_years",
                "positive",
                0,
                "a battery lives at least one year",
            ));
        }
        Ok(v.into_result()?)
    }
}

/// The demo's stated assumption where no sourced demand charge is at hand:
/// a kW of maximum demand needs 1/pf kVA of capacity, so
/// fen/kW-month = capacity fen/kVA-month ÷ pf (22.60 ÷ 0.9 = 25.11 yuan).
pub fn demand_charge_from_capacity(capacity_fen_per_kva_month: i64, power_factor: f64) -> i64 {
    (capacity_fen_per_kva_month as f64 / power_factor).round() as i64
}

/// The optimal schedule, per LP step (`step_h` hours).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatterySchedule {
    pub step_h: f64,
    pub load_kw: Vec<f64>,
    pub charge_kw: Vec<f64>,
    pub discharge_kw: Vec<f64>,
    /// State of charge at the start of each step, kWh.
    pub soc_kwh: Vec<f64>,
    /// Import = load + charge − discharge, kW (never negative: no export).
    pub grid_kw: Vec<f64>,
}

/// What the sizing found. Money is an estimate per year (the series'
/// amounts × 365 / days), rounded once to the fen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatterySizing {
    pub power_kw: f64,
    pub energy_kwh: f64,
    /// Up-front capital cost: P × cost/kW + E × cost/kWh.
    pub capex: Fen,
    /// capex × capital recovery factor, per year.
    pub annualised_capex: Fen,
    /// Energy and demand charges a year without a battery.
    pub baseline_annual_cost: Fen,
    /// Energy and demand charges saved a year by the battery (before capex).
    pub annual_saving: Fen,
    /// annual saving − annualised capex.
    pub net_annual_benefit: Fen,
    /// capex / annual saving; `None` when nothing is saved.
    pub payback_years: Option<f64>,
    /// Maximum grid demand per month (`YYYY-MM`, kW at the LP step),
    /// without and with the battery.
    pub monthly_peak_kw: Vec<(String, f64, f64)>,
    pub resolution: Resolution,
    pub schedule: BatterySchedule,
    /// Cutting-plane rounds (each solves every month's LP once).
    pub rounds: usize,
    /// Month problems the LP splits into.
    pub months: usize,
    /// Wall time of building and solving the LP.
    pub solve_seconds: f64,
}

/// Months of the steps: index of each step's month, the months'
/// names and the fraction of each month the series covers.
fn months(
    series: &IntervalSeries,
    per_step: usize,
    steps: usize,
) -> (Vec<usize>, Vec<(String, f64)>) {
    let mut of_step = Vec::with_capacity(steps);
    let mut names: Vec<(String, f64)> = Vec::new();
    let step_days = per_step as f64 / SLOTS_PER_DAY as f64;
    for t in 0..steps {
        let (d, _) = series.date_slot(t * per_step);
        let key = format!("{:04}-{:02}", d.year(), d.month());
        let m = crate::month::Month::of(d);
        let share = step_days / m.days() as f64;
        match names.last_mut() {
            Some((k, f)) if *k == key => *f += share,
            _ => names.push((key, share)),
        }
        of_step.push(names.len() - 1);
    }
    (of_step, names)
}

/// The operating problem of one calendar month for given sizes `(P, E)`:
/// charge, discharge and state of charge per step and the month's peak,
/// with the sizes entering only as column bounds (`c ≤ P`, `d ≤ P`,
/// `s ≤ E`). The HiGHS model is kept between evaluations so that the dual
/// simplex starts from the last basis when only the bounds move.
struct MonthLp {
    /// `None` only while HiGHS holds it during a solve.
    model: Option<Model>,
    /// The month's steps in the series.
    steps: Range<usize>,
    c: Vec<Col>,
    d: Vec<Col>,
    s: Vec<Col>,
    /// No negative price: the discharge bound is `min(P, L_t)` (no export
    /// as a bound); otherwise `P` with a row `c_t − d_t ≥ −L_t`.
    compact: bool,
}

/// The month's operating cost at `(P, E)` and a subgradient of it.
#[derive(Clone, Copy)]
struct MonthValue {
    /// Σ π (c − d) Δ + k_d f_m M_m, yuan over the month's steps.
    cost: f64,
    /// ∂cost/∂P and ∂cost/∂E: the duals of the bounds the sizes set.
    by_p: f64,
    by_e: f64,
}

/// A month solved: its value and schedule (clamped at 0), from its first
/// step of the series.
struct MonthSolution {
    value: MonthValue,
    first_step: usize,
    charge_kw: Vec<f64>,
    discharge_kw: Vec<f64>,
    soc_kwh: Vec<f64>,
}

/// Per-step data the month problems share.
struct Steps<'a> {
    load: &'a [f64],
    price: &'a [f64],
    dt: f64,
    eta_c: f64,
    eta_d: f64,
}

impl MonthLp {
    fn new(steps: Range<usize>, at: &Steps, peak_yuan: f64, compact: bool) -> Result<Self> {
        let mut pb = RowProblem::default();
        let dt = at.dt;
        let (mut c, mut d, mut s) = (Vec::new(), Vec::new(), Vec::new());
        // every size starts at 0: the first evaluation is "no battery"
        for t in steps.clone() {
            c.push(pb.add_column(at.price[t] * dt, 0.0..=0.0));
            d.push(pb.add_column(-at.price[t] * dt, 0.0..=0.0));
            s.push(pb.add_column(0.0, 0.0..=0.0));
        }
        let peak = (peak_yuan > 0.0).then(|| pb.add_column(peak_yuan, 0.0..));
        let k = steps.len();
        for (i, t) in steps.clone().enumerate() {
            let next = (i + 1) % k; // cyclic: the month ends as full as it began
            pb.add_row(
                0.0..=0.0,
                [
                    (s[next], 1.0),
                    (s[i], -1.0),
                    (c[i], -at.eta_c * dt),
                    (d[i], dt / at.eta_d),
                ],
            );
            if !compact {
                pb.add_row(-at.load[t].., [(c[i], 1.0), (d[i], -1.0)]);
            }
            if let Some(m) = peak {
                pb.add_row(at.load[t].., [(m, 1.0), (c[i], -1.0), (d[i], 1.0)]);
            }
        }
        let mut model = pb
            .try_optimise(Sense::Minimise)
            .map_err(|e| solver_error(format!("model load: {e:?}")))?;
        model.make_quiet();
        model.set_option("solver", "simplex");
        model.set_option("threads", 1);
        Ok(MonthLp {
            model: Some(model),
            steps,
            c,
            d,
            s,
            compact,
        })
    }

    /// Solves the month at `(p, e)`: its value and its schedule.
    fn solve(&mut self, p: f64, e: f64, load: &[f64]) -> Result<MonthSolution> {
        let mut model = self.model.take().expect("a month model between solves");
        for (i, t) in self.steps.clone().enumerate() {
            model.change_column_bounds(self.c[i], 0.0..=p);
            let d_max = if self.compact { p.min(load[t]) } else { p };
            model.change_column_bounds(self.d[i], 0.0..=d_max);
            model.change_column_bounds(self.s[i], 0.0..=e);
        }
        let solved = model
            .try_solve()
            .map_err(|e| solver_error(format!("{e:?}")))?;
        if solved.status() != HighsModelStatus::Optimal {
            return Err(solver_error(format!(
                "month LP status {:?}",
                solved.status()
            )));
        }
        let cost = solved.objective_value();
        let x = solved.get_solution();
        self.model = Some(Model::from(solved));
        // a column at its upper bound has a reduced cost ≤ 0 (minimising);
        // at its lower bound ≥ 0, and that bound (0) does not move with P, E
        let rc = x.dual_columns();
        let at_upper = |col: Col| rc[col.index()].min(0.0);
        let mut by_p: f64 = self.c.iter().map(|&col| at_upper(col)).sum();
        for (i, t) in self.steps.clone().enumerate() {
            if !self.compact || p <= load[t] {
                by_p += at_upper(self.d[i]);
            }
        }
        let by_e: f64 = self.s.iter().map(|&col| at_upper(col)).sum();
        let column = |cols: &[Col]| cols.iter().map(|&col| x[col].max(0.0)).collect();
        Ok(MonthSolution {
            value: MonthValue { cost, by_p, by_e },
            first_step: self.steps.start,
            charge_kw: column(&self.c),
            discharge_kw: column(&self.d),
            soc_kwh: column(&self.s),
        })
    }
}

/// The cutting-plane master: `min c_P P + c_E E + Σ_m θ_m` over the cuts
/// `θ_m ≥ V_m(x_k) + g_m,kᵀ(x − x_k)` gathered so far.
struct Master {
    model: Option<Model>,
    p: Col,
    e: Col,
    theta: Vec<Col>,
    bounds: (f64, f64),
}

impl Master {
    fn new(cost_p: f64, cost_e: f64, months: usize, bounds: (f64, f64)) -> Result<Self> {
        let mut pb = RowProblem::default();
        let p = pb.add_column(cost_p, 0.0..=bounds.0);
        let e = pb.add_column(cost_e, 0.0..=bounds.1);
        let theta = (0..months)
            .map(|_| pb.add_column(1.0, f64::NEG_INFINITY..))
            .collect();
        let mut model = pb
            .try_optimise(Sense::Minimise)
            .map_err(|e| solver_error(format!("master load: {e:?}")))?;
        model.make_quiet();
        model.set_option("solver", "simplex");
        Ok(Master {
            model: Some(model),
            p,
            e,
            theta,
            bounds,
        })
    }

    fn add_cuts(&mut self, (p, e): (f64, f64), values: &[MonthValue]) {
        let model = self.model.as_mut().expect("the master between solves");
        for (m, v) in values.iter().enumerate() {
            // θ_m − g_P P − g_E E ≥ V_m − g_P p − g_E e
            // a slope below HiGHS's matrix tolerance is a zero (it would
            // only be dropped with a warning)
            let slope = |g: f64| if g.abs() < 1e-9 { 0.0 } else { g };
            let (g_p, g_e) = (slope(v.by_p), slope(v.by_e));
            let mut row = vec![(self.theta[m], 1.0)];
            row.extend(
                [(self.p, -g_p), (self.e, -g_e)]
                    .into_iter()
                    .filter(|c| c.1 != 0.0),
            );
            model.add_row(v.cost - g_p * p - g_e * e.., row);
        }
    }

    /// Minimises over the box `lo..=hi` of (P, E): the point and the value.
    fn solve(&mut self, lo: (f64, f64), hi: (f64, f64)) -> Result<((f64, f64), f64)> {
        let mut model = self.model.take().expect("the master between solves");
        model.change_column_bounds(self.p, lo.0..=hi.0);
        model.change_column_bounds(self.e, lo.1..=hi.1);
        let solved = model
            .try_solve()
            .map_err(|e| solver_error(format!("master: {e:?}")))?;
        if solved.status() != HighsModelStatus::Optimal {
            return Err(solver_error(format!("master status {:?}", solved.status())));
        }
        let value = solved.objective_value();
        let x = solved.get_solution();
        self.model = Some(Model::from(solved));
        Ok(((x[self.p], x[self.e]), value))
    }

    fn lower_bound(&mut self) -> Result<f64> {
        Ok(self.solve((0.0, 0.0), self.bounds)?.1)
    }
}

fn solver_error(reason: String) -> RetailError {
    RetailError::Data {
        path: "battery sizing LP (HiGHS)".into(),
        reason,
    }
}

/// The month problems of one sizing, and how to build them.
struct MonthProblems<'a> {
    ranges: &'a [Range<usize>],
    peak_yuan: &'a [f64],
    at: &'a Steps<'a>,
    compact: bool,
}

/// Evaluates every month at `(P, E)`, in month order.
type Evaluate<'e> = dyn FnMut((f64, f64)) -> Result<Vec<MonthSolution>> + 'e;

impl MonthProblems<'_> {
    /// Runs `drive` with an evaluator that solves the months on worker
    /// threads (one per core, months dealt round robin). A HiGHS model
    /// stays on the thread that built it; the workers end with `drive`.
    fn with_workers<R>(&self, drive: impl FnOnce(&mut Evaluate<'_>) -> Result<R>) -> Result<R> {
        let months = self.ranges.len();
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, months.max(1));
        let stopped = || solver_error("a month worker stopped".into());
        std::thread::scope(|scope| {
            let (answer_tx, answers) = mpsc::channel::<Result<Vec<(usize, MonthSolution)>>>();
            let mut asks = Vec::with_capacity(workers);
            for w in 0..workers {
                let (ask_tx, ask_rx) = mpsc::channel::<(f64, f64)>();
                asks.push(ask_tx);
                let answer_tx = answer_tx.clone();
                scope.spawn(move || {
                    let built = (w..months)
                        .step_by(workers)
                        .map(|m| {
                            MonthLp::new(
                                self.ranges[m].clone(),
                                self.at,
                                self.peak_yuan[m],
                                self.compact,
                            )
                            .map(|lp| (m, lp))
                        })
                        .collect::<Result<Vec<_>>>();
                    // the first answer says whether the months were built
                    let mut lps = match built {
                        Ok(lps) => {
                            if answer_tx.send(Ok(Vec::new())).is_err() {
                                return;
                            }
                            lps
                        }
                        Err(e) => {
                            let _ = answer_tx.send(Err(e));
                            return;
                        }
                    };
                    for (p, e) in ask_rx {
                        let out = lps
                            .iter_mut()
                            .map(|(m, lp)| lp.solve(p, e, self.at.load).map(|s| (*m, s)))
                            .collect();
                        if answer_tx.send(out).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(answer_tx);
            for _ in 0..workers {
                answers.recv().map_err(|_| stopped())??;
            }
            let mut evaluate = |x: (f64, f64)| -> Result<Vec<MonthSolution>> {
                for ask in &asks {
                    ask.send(x).map_err(|_| stopped())?;
                }
                let mut all: Vec<Option<MonthSolution>> = (0..months).map(|_| None).collect();
                for _ in 0..workers {
                    for (m, s) in answers.recv().map_err(|_| stopped())?? {
                        all[m] = Some(s);
                    }
                }
                Ok(all.into_iter().flatten().collect())
            };
            let out = drive(&mut evaluate);
            drop(asks); // the workers' loops end
            out
        })
    }
}

/// The best sizes and their month solutions, and the rounds it took.
type Found = (((f64, f64), Vec<MonthSolution>), usize);

/// Kelley's cutting planes in a moving box (docs/retail-efficiency.md, "How
/// it is solved"), from `P = E = 0`, until the best cost found and the
/// master's lower bound agree to 1e-7.
fn cutting_planes(
    evaluate: &mut Evaluate<'_>,
    (cost_p, cost_e): (f64, f64),
    bounds: (f64, f64),
    l_max: f64,
    months: usize,
) -> Result<Found> {
    let mut master = Master::new(cost_p, cost_e, months, bounds)?;
    // the box around the best point: a quarter of the peak load (kW) and
    // one hour of it (kWh) each way to begin with, doubled when a step to
    // its edge improves, halved when a step does not improve
    let mut half = (l_max.max(1e-6) / 4.0, l_max.max(1e-6));
    let mut x = (0.0, 0.0);
    let mut best: Option<((f64, f64), f64, Vec<MonthSolution>)> = None;
    let mut rounds = 0;
    loop {
        rounds += 1;
        let values = evaluate(x)?;
        let costs: Vec<MonthValue> = values.iter().map(|m| m.value).collect();
        let f = cost_p * x.0 + cost_e * x.1 + costs.iter().map(|v| v.cost).sum::<f64>();
        master.add_cuts(x, &costs);
        let improved = best
            .as_ref()
            .is_none_or(|(_, f_best, _)| f < f_best - 1e-9 * f_best.abs().max(1.0));
        if improved {
            if let Some((centre, _, _)) = &best {
                let on_edge = (x.0 - centre.0).abs() >= 0.999 * half.0
                    || (x.1 - centre.1).abs() >= 0.999 * half.1;
                if on_edge {
                    half = (half.0 * 2.0, half.1 * 2.0);
                }
            }
            best = Some((x, f, values));
        } else {
            half = (half.0 / 2.0, half.1 / 2.0);
        }
        let (centre, f_best, _) = best.as_ref().expect("the first round sets the best point");
        let lower = master.lower_bound()?;
        if f_best - lower <= 1e-7 * f_best.abs().max(1.0) {
            break;
        }
        if rounds >= MAX_ROUNDS {
            return Err(solver_error(format!(
                "no convergence in {MAX_ROUNDS} rounds: best {f_best:.4} yuan, lower bound {lower:.4}"
            )));
        }
        let lo = ((centre.0 - half.0).max(0.0), (centre.1 - half.1).max(0.0));
        let hi = (
            (centre.0 + half.0).min(bounds.0),
            (centre.1 + half.1).min(bounds.1),
        );
        x = master.solve(lo, hi)?.0;
    }
    let (x, _, values) = best.expect("the loop sets the best point");
    Ok(((x, values), rounds))
}

/// Cutting-plane rounds before the sizing gives up (the demo converges in
/// about 20).
const MAX_ROUNDS: usize = 500;

/// Sizes the battery: see the module doc and docs/retail-efficiency.md.
///
/// The LP is solved by decomposition (Benders / Kelley cutting planes in a
/// box that moves with the best point): for given sizes `(P, E)` the
/// operating problem splits into one small LP per calendar month, whose
/// optimal cost `V_m(P, E)` is convex in the sizes; each month's dual
/// simplex returns `V_m` and a subgradient (the duals of the bounds the
/// sizes set), which become a cut of a master LP in `P`, `E` and one `θ_m`
/// per month. It stops when the best cost found and the master's lower
/// bound agree to 1e-7 (relative): the optimum of the whole LP.
pub fn size_battery(input: &BatteryInput) -> Result<BatterySizing> {
    input.validate()?;
    let t0 = Instant::now();
    let k = input.resolution.intervals_per_step();
    let dt = input.resolution.step_h();
    let n = input.series.kwh.len() / k;
    // load (kW) and price (yuan/kWh) per step: means of the intervals
    let load: Vec<f64> = input
        .series
        .kwh
        .chunks(k)
        .map(|c| c.iter().sum::<f64>() / dt)
        .collect();
    let price: Vec<f64> = input
        .price_yuan_per_kwh
        .chunks(k)
        .map(|c| c.iter().sum::<f64>() / k as f64)
        .collect();
    let (month_of, month_list) = months(&input.series, k, n);
    let horizon = input.series.days() as f64 / DAYS_PER_YEAR;
    let crf = input.costs.capital_recovery_factor();
    let demand_yuan = input.demand_charge_fen_per_kw_month as f64 / 100.0;
    let (eta_c, eta_d) = (input.charge_efficiency, input.discharge_efficiency);
    // With no negative price, charging and discharging in the same step
    // only loses energy, so an optimum never does both; then no export is
    // the bound `d ≤ L` (docs, "Compact form").
    let compact = price.iter().all(|p| *p >= 0.0);
    let at = Steps {
        load: &load,
        price: &price,
        dt,
        eta_c,
        eta_d,
    };
    let ranges: Vec<Range<usize>> = (0..month_list.len())
        .map(|m| {
            let first = month_of.partition_point(|&x| x < m);
            first..month_of.partition_point(|&x| x <= m)
        })
        .collect();
    let peak_yuan: Vec<f64> = month_list
        .iter()
        .map(|(_, frac)| demand_yuan * frac)
        .collect();

    // Sizes beyond these are never used: a cyclic month's state of charge
    // swings by at most what it discharges (≤ Σ L Δ / η_d), and a step
    // charges at most E / (η_c Δ) or discharges at most L_max.
    let l_max = load.iter().copied().fold(0.0, f64::max);
    let e_max = ranges
        .iter()
        .map(|r| load[r.clone()].iter().sum::<f64>() * dt / eta_d)
        .fold(0.0, f64::max);
    let mut bounds = (l_max.max(e_max / (eta_c * dt)), e_max);
    if !compact {
        // a negative price pays for charging: the bounds above do not hold,
        // so search wider and refuse an answer that reaches them
        bounds = (bounds.0 * 10.0, bounds.1 * 10.0);
    }
    let cost_p = input.costs.capex_yuan_per_kw * crf * horizon;
    let cost_e = input.costs.capex_yuan_per_kwh * crf * horizon;
    let months_lp = MonthProblems {
        ranges: &ranges,
        peak_yuan: &peak_yuan,
        at: &at,
        compact,
    };
    let (best, rounds) = months_lp.with_workers(|evaluate| {
        cutting_planes(evaluate, (cost_p, cost_e), bounds, l_max, ranges.len())
    })?;
    let ((power_kw, energy_kwh), values) = best;
    if !compact && (power_kw >= 0.999 * bounds.0 || energy_kwh >= 0.999 * bounds.1) {
        return Err(solver_error(format!(
            "with negative prices the sizes reach the search bound ({power_kw:.0} kW, {energy_kwh:.0} kWh): charging pays by itself, so no finite battery is optimal"
        )));
    }
    let solve_seconds = t0.elapsed().as_secs_f64();

    let mut charge_kw = vec![0.0; n];
    let mut discharge_kw = vec![0.0; n];
    let mut soc_kwh = vec![0.0; n];
    for m in &values {
        let t = m.first_step;
        let k = m.charge_kw.len();
        charge_kw[t..t + k].copy_from_slice(&m.charge_kw);
        discharge_kw[t..t + k].copy_from_slice(&m.discharge_kw);
        soc_kwh[t..t + k].copy_from_slice(&m.soc_kwh);
    }
    let grid_kw: Vec<f64> = (0..n)
        .map(|t| (load[t] + charge_kw[t] - discharge_kw[t]).max(0.0))
        .collect();

    // costs over the series, yuan: energy + pro-rata monthly demand
    let cost = |g: &[f64]| -> (f64, Vec<f64>) {
        let energy: f64 = (0..n).map(|t| price[t] * g[t] * dt).sum();
        let mut peaks = vec![0.0f64; month_list.len()];
        for t in 0..n {
            peaks[month_of[t]] = peaks[month_of[t]].max(g[t]);
        }
        let demand: f64 = peaks
            .iter()
            .zip(&month_list)
            .map(|(p, (_, f))| demand_yuan * f * p)
            .sum();
        (energy + demand, peaks)
    };
    let (before, peaks_before) = cost(&load);
    let (after, peaks_after) = cost(&grid_kw);
    let per_year = 1.0 / horizon;
    let capex_yuan =
        power_kw * input.costs.capex_yuan_per_kw + energy_kwh * input.costs.capex_yuan_per_kwh;
    let saving_yuan = (before - after) * per_year;
    let annualised_yuan = capex_yuan * crf;
    let annual_saving = fen_of_yuan(saving_yuan);
    let capex = fen_of_yuan(capex_yuan);
    Ok(BatterySizing {
        power_kw,
        energy_kwh,
        capex,
        annualised_capex: fen_of_yuan(annualised_yuan),
        baseline_annual_cost: fen_of_yuan(before * per_year),
        annual_saving,
        net_annual_benefit: fen_of_yuan(saving_yuan - annualised_yuan),
        payback_years: (annual_saving.0 > 0).then(|| capex_yuan / saving_yuan),
        monthly_peak_kw: month_list
            .iter()
            .zip(peaks_before.iter().zip(&peaks_after))
            .map(|((m, _), (b, a))| (m.clone(), *b, *a))
            .collect(),
        resolution: input.resolution,
        schedule: BatterySchedule {
            step_h: dt,
            load_kw: load,
            charge_kw,
            discharge_kw,
            soc_kwh,
            grid_kw,
        },
        rounds,
        months: ranges.len(),
        solve_seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn jan(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, d).unwrap()
    }

    fn input(kwh: Vec<f64>, price: Vec<f64>, demand_fen: i64) -> BatteryInput {
        let mut i = BatteryInput::new(IntervalSeries::new(jan(5), kwh).unwrap(), price, demand_fen);
        i.resolution = Resolution::QuarterHour;
        i
    }

    /// The schedule keeps every constraint, the state of charge cyclic in
    /// each month.
    fn assert_feasible(inp: &BatteryInput, r: &BatterySizing) {
        let (eta_c, eta_d) = (inp.charge_efficiency, inp.discharge_efficiency);
        let s = &r.schedule;
        let n = s.soc_kwh.len();
        let (month_of, _) = months(&inp.series, inp.resolution.intervals_per_step(), n);
        for t in 0..n {
            assert!(s.soc_kwh[t] <= r.energy_kwh + 1e-6, "SoC above E at {t}");
            assert!(s.charge_kw[t] <= r.power_kw + 1e-6, "charge above P at {t}");
            assert!(
                s.discharge_kw[t] <= r.power_kw + 1e-6,
                "discharge above P at {t}"
            );
            assert!(
                s.load_kw[t] + s.charge_kw[t] - s.discharge_kw[t] >= -1e-6,
                "export at {t}"
            );
            let m = month_of[t];
            let next = if month_of.get(t + 1) == Some(&m) {
                t + 1
            } else {
                month_of.iter().position(|&x| x == m).unwrap()
            };
            let want = s.soc_kwh[t] + eta_c * s.charge_kw[t] * s.step_h
                - s.discharge_kw[t] * s.step_h / eta_d;
            assert!(
                (s.soc_kwh[next] - want).abs() < 1e-5,
                "SoC balance broken at {t}"
            );
        }
    }

    #[test]
    fn no_price_spread_and_no_demand_charge_buys_no_battery() {
        let r = size_battery(&input(vec![2.5; 192], vec![0.6725; 192], 0)).unwrap();
        assert!(
            r.power_kw < 1e-6 && r.energy_kwh < 1e-6,
            "{} kW {} kWh",
            r.power_kw,
            r.energy_kwh
        );
        assert_eq!(r.annual_saving, Fen(0));
        assert_eq!(r.capex, Fen(0));
        assert_eq!(r.payback_years, None);
        // 10 kW × 24 h × 0.6725 yuan × 365 days
        assert_eq!(r.baseline_annual_cost, fen_of_yuan(240.0 * 0.6725 * 365.0));
    }

    #[test]
    fn cheap_night_dear_day_with_cheap_storage_buys_a_battery_that_pays() {
        // 00:00–08:00 at 0.30 yuan/kWh, the rest at 1.00; flat 10 kW load
        let price: Vec<f64> = (0..96).map(|i| if i < 32 { 0.3 } else { 1.0 }).collect();
        let mut inp = input(vec![2.5; 96], price, 0);
        inp.costs.capex_yuan_per_kwh = 100.0;
        inp.costs.capex_yuan_per_kw = 50.0;
        let r = size_battery(&inp).unwrap();
        assert!(r.energy_kwh > 1.0, "E = {}", r.energy_kwh);
        assert!(r.power_kw > 0.1, "P = {}", r.power_kw);
        assert!(r.annual_saving > Fen(0));
        assert!(r.net_annual_benefit > Fen(0));
        let payback = r.payback_years.expect("it saves");
        assert!(payback > 0.0 && payback < 10.0, "{payback}");
        assert_feasible(&inp, &r);
        // it charges only in the cheap hours and discharges only in the dear
        let s = &r.schedule;
        assert!((32..96).all(|t| s.charge_kw[t] < 1e-6));
        assert!((0..32).all(|t| s.discharge_kw[t] < 1e-6));
    }

    #[test]
    fn demand_charge_alone_makes_a_battery_shave_a_single_spike() {
        // flat price, 10 kW with one 50 kW quarter-hour; 100 yuan/kW-month
        let mut kwh = vec![2.5; 96];
        kwh[40] = 12.5;
        let inp = input(kwh, vec![0.5; 96], 10_000);
        let r = size_battery(&inp).unwrap();
        let (_, before, after) = r.monthly_peak_kw[0].clone();
        assert!((before - 50.0).abs() < 1e-9);
        assert!((10.0 - 1e-6..49.0).contains(&after), "peak after {after}");
        assert!(r.schedule.discharge_kw[40] > 1.0);
        assert!(r.power_kw >= 50.0 - after - 1e-6);
        assert!(r.annual_saving > Fen(0));
        assert_feasible(&inp, &r);
    }

    #[test]
    fn hourly_resolution_solves_a_quarter_of_the_steps() {
        let mut inp = input(vec![2.5; 192], vec![0.6725; 192], 100);
        inp.resolution = Resolution::Hourly;
        let r = size_battery(&inp).unwrap();
        assert_eq!(r.schedule.load_kw.len(), 48);
        assert_eq!(r.schedule.step_h, 1.0);
        assert!((r.schedule.load_kw[0] - 10.0).abs() < 1e-12);
    }

    /// The whole LP in one piece (sizes as columns, every month's rows),
    /// solved by dual simplex: the reference the decomposition must meet.
    /// Returns the net annual benefit in yuan.
    fn direct_lp_net_benefit(inp: &BatteryInput) -> f64 {
        let r = size_battery(inp).unwrap();
        let s = &r.schedule;
        let (load, dt, n) = (&s.load_kw, s.step_h, s.load_kw.len());
        let per = inp.resolution.intervals_per_step();
        let price: Vec<f64> = inp
            .price_yuan_per_kwh
            .chunks(per)
            .map(|c| c.iter().sum::<f64>() / per as f64)
            .collect();
        let (month_of, month_list) = months(&inp.series, per, n);
        let horizon = inp.series.days() as f64 / DAYS_PER_YEAR;
        let crf = inp.costs.capital_recovery_factor();
        let k_d = inp.demand_charge_fen_per_kw_month as f64 / 100.0;
        let (eta_c, eta_d) = (inp.charge_efficiency, inp.discharge_efficiency);
        let mut pb = RowProblem::default();
        let p = pb.add_column(inp.costs.capex_yuan_per_kw * crf * horizon, 0.0..);
        let e = pb.add_column(inp.costs.capex_yuan_per_kwh * crf * horizon, 0.0..);
        let peak: Vec<Col> = month_list
            .iter()
            .map(|(_, f)| pb.add_column(k_d * f, 0.0..))
            .collect();
        let c: Vec<Col> = (0..n)
            .map(|t| pb.add_column(price[t] * dt, 0.0..))
            .collect();
        let d: Vec<Col> = (0..n)
            .map(|t| pb.add_column(-price[t] * dt, 0.0..))
            .collect();
        let soc: Vec<Col> = (0..n).map(|_| pb.add_column(0.0, 0.0..)).collect();
        for t in 0..n {
            let m = month_of[t];
            let first = month_of.iter().position(|&x| x == m).unwrap();
            let next = if month_of.get(t + 1) == Some(&m) {
                t + 1
            } else {
                first
            };
            pb.add_row(
                0.0..=0.0,
                [
                    (soc[next], 1.0),
                    (soc[t], -1.0),
                    (c[t], -eta_c * dt),
                    (d[t], dt / eta_d),
                ],
            );
            pb.add_row(..=0.0, [(c[t], 1.0), (p, -1.0)]);
            pb.add_row(..=0.0, [(d[t], 1.0), (p, -1.0)]);
            pb.add_row(..=0.0, [(soc[t], 1.0), (e, -1.0)]);
            pb.add_row(-load[t].., [(c[t], 1.0), (d[t], -1.0)]);
            pb.add_row(load[t].., [(peak[m], 1.0), (c[t], -1.0), (d[t], 1.0)]);
        }
        let mut model = pb.optimise(Sense::Minimise);
        model.make_quiet();
        let solved = model.solve();
        assert_eq!(solved.status(), HighsModelStatus::Optimal);
        let mut demand_before = 0.0;
        for (m, (_, f)) in month_list.iter().enumerate() {
            let max = (0..n)
                .filter(|&t| month_of[t] == m)
                .map(|t| load[t])
                .fold(0.0, f64::max);
            demand_before += k_d * f * max;
        }
        (demand_before - solved.objective_value()) / horizon
    }

    /// 40 days from 25 January over three months: a daytime load with an
    /// evening spike every fifth day, three price levels.
    fn three_months(price_at: impl Fn(usize) -> f64) -> BatteryInput {
        let start = NaiveDate::from_ymd_opt(2026, 1, 25).unwrap();
        let kwh: Vec<f64> = (0..40 * 96)
            .map(|i| {
                let (day, q) = (i / 96, i % 96);
                let base = if (32..76).contains(&q) { 20.0 } else { 8.0 };
                let spike = if day % 5 == 0 && (72..76).contains(&q) {
                    15.0
                } else {
                    0.0
                };
                base + spike + (i % 7) as f64 * 0.3
            })
            .collect();
        let price = (0..kwh.len()).map(price_at).collect();
        let mut inp = BatteryInput::new(IntervalSeries::new(start, kwh).unwrap(), price, 3_000);
        inp.costs.capex_yuan_per_kwh = 300.0;
        inp.costs.capex_yuan_per_kw = 100.0;
        inp
    }

    fn tou(i: usize) -> f64 {
        match i % 96 {
            0..32 => 0.3,
            68..84 => 1.3,
            _ => 1.0,
        }
    }

    #[test]
    fn decomposition_meets_the_whole_lp_over_three_months() {
        let inp = three_months(tou);
        let r = size_battery(&inp).unwrap();
        assert_eq!(r.months, 3);
        assert!(r.energy_kwh > 1.0 && r.power_kw > 0.1, "{r:?}");
        let want = direct_lp_net_benefit(&inp);
        let got = r.net_annual_benefit.0 as f64 / 100.0;
        assert!(
            (got - want).abs() < 0.05,
            "decomposition {got} vs whole LP {want}"
        );
        assert_feasible(&inp, &r);
    }

    #[test]
    fn decomposition_meets_the_whole_lp_with_a_negative_price() {
        // an hour of −0.2 yuan/kWh at noon every day: charging pays there
        let inp = three_months(|i| {
            if (48..52).contains(&(i % 96)) {
                -0.2
            } else {
                tou(i)
            }
        });
        let r = size_battery(&inp).unwrap();
        let want = direct_lp_net_benefit(&inp);
        let got = r.net_annual_benefit.0 as f64 / 100.0;
        assert!(
            (got - want).abs() < 0.05,
            "decomposition {got} vs whole LP {want}"
        );
    }

    #[test]
    fn rejects_a_price_vector_of_the_wrong_length_and_bad_efficiency() {
        let mut inp = input(vec![2.5; 96], vec![0.5; 95], 0);
        inp.charge_efficiency = 1.5;
        let RetailError::Invalid(v) = size_battery(&inp).unwrap_err() else {
            panic!("not a violation")
        };
        assert!(v.has("price_yuan_per_kwh", "one_price_per_interval"));
        assert!(v.has("charge_efficiency", "in_0_1"));
    }

    #[test]
    fn capital_recovery_factor_of_ten_years_at_six_percent() {
        let crf = BatteryCosts::default().capital_recovery_factor();
        assert!((crf - 0.135_867_958).abs() < 1e-8, "{crf}");
        let zero = BatteryCosts {
            discount_rate: 0.0,
            ..BatteryCosts::default()
        };
        assert!((zero.capital_recovery_factor() - 0.1).abs() < 1e-12);
    }

    #[test]
    fn demand_charge_from_capacity_divides_by_the_power_factor() {
        assert_eq!(demand_charge_from_capacity(2260, 0.9), 2511);
    }
}
