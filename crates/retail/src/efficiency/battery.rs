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
use std::time::Instant;

use chrono::Datelike;
use highs::{Col, HighsModelStatus, RowProblem, Sense};
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
    pub columns: usize,
    pub rows: usize,
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

/// Sizes the battery: see the module doc and docs/retail-efficiency.md.
/// HiGHS's interior-point method without crossover, on the compact form
/// with the sizes chained step to step (the fastest of the four forms
/// measured there); the schedule is feasible to the solver's tolerance
/// (~1e-7) and clamped at 0.
///
/// Chaining gives every step its own copy `P_t`, `E_t` of the sizes, tied
/// by `P_t = P_{t−1}`, `E_t = E_{t−1}`, instead of one column each that
/// appears in every step's rows. The LP is the same; the matrix has no
/// dense column, which an interior-point method needs to stay fast.
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

    let mut pb = RowProblem::default();
    let cap_p = pb.add_column(input.costs.capex_yuan_per_kw * crf * horizon, 0.0..);
    let cap_e = pb.add_column(input.costs.capex_yuan_per_kwh * crf * horizon, 0.0..);
    let mut c = Vec::with_capacity(n);
    let mut d = Vec::with_capacity(n);
    let mut s = Vec::with_capacity(n);
    // With no negative price, charging and discharging in the same step
    // only loses energy, so an optimum never does both; then
    // `max(c, d) ≤ P` is `c + d ≤ P` and no export is `d ≤ L` (a bound):
    // two rows a step fewer, the same optimum (docs, "Compact form").
    let compact = price.iter().all(|p| *p >= 0.0);
    for (&p, &l) in price.iter().zip(&load) {
        c.push(pb.add_column(p * dt, 0.0..));
        if compact {
            d.push(pb.add_column(-p * dt, 0.0..=l));
        } else {
            d.push(pb.add_column(-p * dt, 0.0..));
        }
        s.push(pb.add_column(0.0, 0.0..));
    }
    let peak: Vec<Col> = if demand_yuan > 0.0 {
        month_list
            .iter()
            .map(|(_, frac)| pb.add_column(demand_yuan * frac, 0.0..))
            .collect()
    } else {
        Vec::new()
    };
    let (mut p_prev, mut e_prev) = (cap_p, cap_e);
    for t in 0..n {
        let next = (t + 1) % n; // cyclic: the year ends as full as it began
        pb.add_row(
            0.0..=0.0,
            [
                (s[next], 1.0),
                (s[t], -1.0),
                (c[t], -eta_c * dt),
                (d[t], dt / eta_d),
            ],
        );
        if !compact {
            pb.add_row(-load[t].., [(c[t], 1.0), (d[t], -1.0)]);
        }
        let (pt, et) = if t > 0 {
            let (pt, et) = (pb.add_column(0.0, 0.0..), pb.add_column(0.0, 0.0..));
            pb.add_row(0.0..=0.0, [(pt, 1.0), (p_prev, -1.0)]);
            pb.add_row(0.0..=0.0, [(et, 1.0), (e_prev, -1.0)]);
            (pt, et)
        } else {
            (cap_p, cap_e)
        };
        (p_prev, e_prev) = (pt, et);
        if compact {
            pb.add_row(..=0.0, [(c[t], 1.0), (d[t], 1.0), (pt, -1.0)]);
        } else {
            pb.add_row(..=0.0, [(c[t], 1.0), (pt, -1.0)]);
            pb.add_row(..=0.0, [(d[t], 1.0), (pt, -1.0)]);
        }
        pb.add_row(..=0.0, [(s[t], 1.0), (et, -1.0)]);
        if let Some(&m) = peak.get(month_of[t]) {
            pb.add_row(load[t].., [(m, 1.0), (c[t], -1.0), (d[t], 1.0)]);
        }
    }
    let (columns, rows) = (pb.num_cols(), pb.num_rows());
    let solver_error = |reason: String| RetailError::Data {
        path: "battery sizing LP (HiGHS)".into(),
        reason,
    };
    let mut model = pb
        .try_optimise(Sense::Minimise)
        .map_err(|e| solver_error(format!("model load: {e:?}")))?;
    model.make_quiet();
    model.set_option("solver", "ipm");
    model.set_option("run_crossover", "off");
    let solved = model
        .try_solve()
        .map_err(|e| solver_error(format!("{e:?}")))?;
    if solved.status() != HighsModelStatus::Optimal {
        return Err(solver_error(format!("status {:?}", solved.status())));
    }
    let solve_seconds = t0.elapsed().as_secs_f64();
    let x = solved.get_solution();
    drop(solved);

    let at = |col: Col| x[col];
    let power_kw = at(cap_p).max(0.0);
    let energy_kwh = at(cap_e).max(0.0);
    let charge_kw: Vec<f64> = c.iter().map(|&v| at(v).max(0.0)).collect();
    let discharge_kw: Vec<f64> = d.iter().map(|&v| at(v).max(0.0)).collect();
    let soc_kwh: Vec<f64> = s.iter().map(|&v| at(v).max(0.0)).collect();
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
        columns,
        rows,
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

    fn assert_feasible(r: &BatterySizing, eta_c: f64, eta_d: f64) {
        let s = &r.schedule;
        let n = s.soc_kwh.len();
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
            let next = s.soc_kwh[(t + 1) % n];
            let want = s.soc_kwh[t] + eta_c * s.charge_kw[t] * s.step_h
                - s.discharge_kw[t] * s.step_h / eta_d;
            assert!((next - want).abs() < 1e-5, "SoC balance broken at {t}");
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
        assert_feasible(&r, 0.95, 0.95);
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
        let r = size_battery(&input(kwh, vec![0.5; 96], 10_000)).unwrap();
        let (_, before, after) = r.monthly_peak_kw[0].clone();
        assert!((before - 50.0).abs() < 1e-9);
        assert!((10.0 - 1e-6..49.0).contains(&after), "peak after {after}");
        assert!(r.schedule.discharge_kw[40] > 1.0);
        assert!(r.power_kw >= 50.0 - after - 1e-6);
        assert!(r.annual_saving > Fen(0));
        assert_feasible(&r, 0.95, 0.95);
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
