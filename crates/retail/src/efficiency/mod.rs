//! Energy-efficiency services (能效服务): what a retailer can tell a
//! customer from a year of its own 15-minute interval energy. Load-shape
//! metrics (load factor, peak-to-average, night and base-load shares,
//! weekend/weekday ratio), maximum demand against the contracted capacity,
//! two savings estimates (resizing the contracted capacity, shifting a
//! share of peak energy to the valley), battery sizing by a linear
//! programme ([`battery`]) and a bilingual HTML report ([`report`]).
//!
//! Everything here is an estimate for advice, not a bill: the arithmetic
//! runs in `f64` and each money result is converted to [`Fen`] once,
//! rounded half away from zero. Formulas with units, the LP and the
//! maths-to-code table: docs/retail-efficiency.md.
//!
//! Must not: read the store or files, rate or change bills, or print.
pub mod battery;
pub mod report;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use voltex_model::{Violation, Violations};

use crate::error::{Result, RetailError};
use crate::money::{Fen, PricePerKwh};
use crate::month::SLOTS_PER_DAY;
use crate::package::{Period, PeriodRatios, PricePackage, Pricing, TouTable};

/// Length of one interval in hours (15 minutes).
pub const INTERVAL_H: f64 = 0.25;
/// Days per year used to annualise a series of another length.
pub const DAYS_PER_YEAR: f64 = 365.0;

/// A customer's interval energy: `kwh[i]` is the energy of the 15-minute
/// interval `i % 96` of day `start + i / 96`, local wall-clock time.
///
/// Every day has exactly 96 intervals (China has no daylight-saving time).
/// A series measured where clocks change (the SimBench profiles of 2016
/// have 92 intervals on 2016-03-27 and 100 on 2016-10-30) must be
/// normalised to 96 per day by the caller before it comes here
/// (`voltex_formats::simbench::whole_day`). The decision-support methods
/// call it `decide::LoadHistory`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntervalSeries {
    pub start: NaiveDate,
    pub kwh: Vec<f64>,
}

impl IntervalSeries {
    /// A checked series: at least one whole day, whole days only, every
    /// value finite and not negative (no export).
    pub fn new(start: NaiveDate, kwh: Vec<f64>) -> Result<Self> {
        let mut v = Violations::default();
        if kwh.is_empty() || !kwh.len().is_multiple_of(SLOTS_PER_DAY) {
            v.push(Violation::new(
                "series.kwh",
                "whole_days_of_96",
                kwh.len(),
                "the series holds whole days of 96 fifteen-minute intervals (normalise DST days first)",
            ));
        }
        if let Some(i) = kwh.iter().position(|x| !x.is_finite() || *x < 0.0) {
            v.push(Violation::new(
                format!("series.kwh[{i}]"),
                "finite_non_negative",
                kwh[i].to_string(),
                "interval energy is a finite number of kWh, not negative",
            ));
        }
        v.into_result()?;
        Ok(IntervalSeries { start, kwh })
    }

    pub fn days(&self) -> usize {
        self.kwh.len() / SLOTS_PER_DAY
    }

    /// The 96 intervals of day `d`.
    pub fn day(&self, d: usize) -> &[f64] {
        &self.kwh[d * SLOTS_PER_DAY..(d + 1) * SLOTS_PER_DAY]
    }

    /// The date of day `d`.
    pub fn date(&self, d: usize) -> NaiveDate {
        self.start + chrono::Days::new(d as u64)
    }

    /// Index of `date`, if the series covers it.
    pub fn index_of(&self, date: NaiveDate) -> Option<usize> {
        let d = usize::try_from((date - self.start).num_days()).ok()?;
        (d < self.days()).then_some(d)
    }

    /// Energy of day `d`, kWh.
    pub fn day_energy(&self, d: usize) -> f64 {
        self.day(d).iter().sum()
    }

    /// The date and the slot (0..96) of interval `i`.
    pub fn date_slot(&self, i: usize) -> (NaiveDate, usize) {
        (
            self.start + chrono::Days::new((i / SLOTS_PER_DAY) as u64),
            i % SLOTS_PER_DAY,
        )
    }

    /// Mean demand of interval `i` in kW.
    pub fn demand_kw(&self, i: usize) -> f64 {
        self.kwh[i] / INTERVAL_H
    }

    /// Factor that turns an amount over this series into one per year.
    pub fn annualise(&self) -> f64 {
        DAYS_PER_YEAR / self.days() as f64
    }

    /// The TOU period of each interval.
    pub fn periods(&self, table: &TouTable) -> Vec<Period> {
        (0..self.kwh.len())
            .map(|i| {
                let (d, slot) = self.date_slot(i);
                table.period(d.month(), slot / 4)
            })
            .collect()
    }
}

/// The energy part of a TOU package: the period table, the base (flat)
/// price and the period ratios; plus the capacity charge the customer pays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TouTariff {
    pub table: TouTable,
    pub base: PricePerKwh,
    pub ratios: PeriodRatios,
    /// Capacity (basic) charge per contracted kVA per month, fen.
    pub capacity_fen_per_kva_month: i64,
}

impl TouTariff {
    /// The tariff of a time-of-use package; any other pricing is refused
    /// (the savings here need period prices).
    pub fn from_package(p: &PricePackage) -> Result<TouTariff> {
        match &p.pricing {
            Pricing::TimeOfUse {
                table,
                base,
                ratios,
            } => Ok(TouTariff {
                table: table.clone(),
                base: *base,
                ratios: *ratios,
                capacity_fen_per_kva_month: p.pass_throughs.capacity_fen_per_kva_month,
            }),
            _ => Err(RetailError::Invalid(Violations::one(
                "package.pricing",
                "time_of_use",
                p.id.clone(),
                "efficiency advice needs a time-of-use package (period prices)",
            ))),
        }
    }

    /// The price of a period in yuan/kWh: base × ratio, rounded to
    /// 0.01 fen/kWh as the bill rounds it.
    pub fn period_price_yuan(&self, p: Period) -> f64 {
        period_price(self.base, &self.ratios, p)
    }

    /// Price of every interval of `series` in yuan/kWh.
    pub fn interval_prices_yuan(&self, series: &IntervalSeries) -> Vec<f64> {
        interval_prices_yuan(series, &self.table, self.base, &self.ratios)
    }
}

fn period_price(base: PricePerKwh, ratios: &PeriodRatios, p: Period) -> f64 {
    base.scaled(ratios.of(p)).0 as f64 / 10_000.0
}

/// Price of every interval of `series` in yuan/kWh: the period of its
/// month and hour in `table`, priced base × ratio (rounded to
/// 0.01 fen/kWh, as `rating` does).
pub fn interval_prices_yuan(
    series: &IntervalSeries,
    table: &TouTable,
    base: PricePerKwh,
    ratios: &PeriodRatios,
) -> Vec<f64> {
    series
        .periods(table)
        .into_iter()
        .map(|p| period_price(base, ratios, p))
        .collect()
}

/// The stated assumptions of the metrics and savings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assumptions {
    /// Power factor that turns kW into kVA (assumed, not measured).
    pub power_factor: f64,
    /// Headroom over the maximum demand when resizing the capacity.
    pub capacity_margin: f64,
    /// Share of sharp- and peak-period energy assumed movable to the valley.
    pub shift_share: f64,
    /// Sizes the contracted capacity may be rounded up to, kVA, ascending.
    pub standard_sizes_kva: Vec<i64>,
}

impl Default for Assumptions {
    fn default() -> Self {
        Assumptions {
            power_factor: 0.9,
            capacity_margin: 1.1,
            shift_share: 0.10,
            standard_sizes_kva: standard_sizes_kva(),
        }
    }
}

/// The R10 preferred transformer ratings (GB/T 6451 / IEC 60076 series):
/// 30 … 63 000 kVA.
pub fn standard_sizes_kva() -> Vec<i64> {
    let r10 = [100, 125, 160, 200, 250, 315, 400, 500, 630, 800];
    let mut out = vec![30, 50, 63, 80];
    for decade in [1, 10, 100] {
        out.extend(r10.iter().map(|s| s * decade));
    }
    out.push(100_000);
    out
}

impl Assumptions {
    fn validate(&self) -> Result<()> {
        let mut v = Violations::default();
        if !(self.power_factor > 0.0 && self.power_factor <= 1.0) {
            v.push(Violation::new(
                "assumptions.power_factor",
                "in_0_1",
                self.power_factor,
                "a power factor is above 0 and at most 1",
            ));
        }
        if !(self.capacity_margin >= 1.0 && self.capacity_margin.is_finite()) {
            v.push(Violation::new(
                "assumptions.capacity_margin",
                "at_least_1",
                self.capacity_margin,
                "the capacity margin is at least 1 (no undersizing)",
            ));
        }
        if !(0.0..=1.0).contains(&self.shift_share) {
            v.push(Violation::new(
                "assumptions.shift_share",
                "in_0_1",
                self.shift_share,
                "the shifted share is between 0 and 1",
            ));
        }
        if self.standard_sizes_kva.is_empty()
            || self.standard_sizes_kva.windows(2).any(|w| w[0] >= w[1])
        {
            v.push(Violation::new(
                "assumptions.standard_sizes_kva",
                "ascending_non_empty",
                self.standard_sizes_kva.len(),
                "standard sizes are a non-empty ascending list",
            ));
        }
        Ok(v.into_result()?)
    }

    /// The smallest standard size ≥ `kva`; above the largest, `kva`
    /// rounded up to a whole 1 000 kVA.
    pub fn round_up_kva(&self, kva: f64) -> i64 {
        self.standard_sizes_kva
            .iter()
            .copied()
            .find(|&s| s as f64 >= kva - 1e-9)
            .unwrap_or_else(|| ((kva / 1000.0).ceil() as i64) * 1000)
    }
}

/// Resizing the contracted capacity to what the load needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityResize {
    pub current_kva: i64,
    /// max demand / power factor × margin, kVA (before rounding).
    pub needed_kva: f64,
    /// `needed_kva` rounded up to a standard size.
    pub recommended_kva: i64,
    /// (current − recommended) × charge × 12 months; negative when the
    /// load needs more than is contracted.
    pub annual_saving: Fen,
}

/// Moving a share of sharp- and peak-period energy to the valley.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeakShift {
    pub share: f64,
    /// Energy moved per year, kWh (annualised).
    pub shifted_kwh_per_year: f64,
    /// Σ share × kWh × (period price − valley price), annualised.
    pub annual_saving: Fen,
}

/// The load-shape metrics of one customer-series (formulas in
/// docs/retail-efficiency.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EfficiencyMetrics {
    pub days: usize,
    pub energy_kwh: f64,
    pub mean_demand_kw: f64,
    /// Highest 15-minute mean demand, kW.
    pub max_demand_kw: f64,
    /// mean / max demand (1 for a flat load).
    pub load_factor: f64,
    /// max / mean demand.
    pub peak_to_average: f64,
    /// Share of energy in 00:00–06:00.
    pub night_share: f64,
    /// 5th-percentile interval demand / mean demand.
    pub base_load_share: f64,
    /// Mean daily energy on Saturdays and Sundays / on weekdays; `None`
    /// when the series lacks either.
    pub weekend_weekday_ratio: Option<f64>,
    pub contracted_kva: i64,
    /// max demand / power factor, kVA.
    pub max_demand_kva: f64,
    /// max demand kVA / contracted kVA.
    pub capacity_utilisation: f64,
    pub capacity: CapacityResize,
    pub peak_shift: PeakShift,
    /// Highest demand of each calendar month in the series, kW, with the
    /// month as `YYYY-MM`.
    pub monthly_max_kw: Vec<(String, f64)>,
}

/// Yuan as an estimate in fen, rounded half away from zero.
pub(crate) fn fen_of_yuan(yuan: f64) -> Fen {
    Fen((yuan * 100.0).round() as i64)
}

/// The `q`-quantile (0..=1) by nearest rank of unsorted values.
fn nearest_rank(values: &[f64], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

/// The metrics and the two savings of `series` under `tariff`, for a
/// customer with `contracted_kva`.
pub fn metrics(
    series: &IntervalSeries,
    tariff: &TouTariff,
    contracted_kva: i64,
    a: &Assumptions,
) -> Result<EfficiencyMetrics> {
    a.validate()?;
    if contracted_kva <= 0 {
        return Err(RetailError::Invalid(Violations::one(
            "contracted_kva",
            "positive",
            contracted_kva,
            "the contracted capacity is a positive number of kVA",
        )));
    }
    let n = series.kwh.len();
    let demand: Vec<f64> = (0..n).map(|i| series.demand_kw(i)).collect();
    let energy_kwh: f64 = series.kwh.iter().sum();
    let mean_demand_kw = energy_kwh / (n as f64 * INTERVAL_H);
    let max_demand_kw = demand.iter().copied().fold(0.0, f64::max);
    let ratio = |num: f64, den: f64| if den > 0.0 { num / den } else { 0.0 };
    let night_kwh: f64 = (0..n)
        .filter(|&i| i % SLOTS_PER_DAY < 24)
        .map(|i| series.kwh[i])
        .sum();

    let (mut we, mut we_days, mut wd, mut wd_days) = (0.0, 0usize, 0.0, 0usize);
    for (d, day) in series.kwh.chunks(SLOTS_PER_DAY).enumerate() {
        let date = series.start + chrono::Days::new(d as u64);
        let e: f64 = day.iter().sum();
        if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            we += e;
            we_days += 1;
        } else {
            wd += e;
            wd_days += 1;
        }
    }
    let weekend_weekday_ratio = (we_days > 0 && wd_days > 0 && wd > 0.0)
        .then(|| (we / we_days as f64) / (wd / wd_days as f64));

    let max_demand_kva = max_demand_kw / a.power_factor;
    let needed_kva = max_demand_kva * a.capacity_margin;
    let recommended_kva = a.round_up_kva(needed_kva);
    let capacity = CapacityResize {
        current_kva: contracted_kva,
        needed_kva,
        recommended_kva,
        annual_saving: Fen((contracted_kva - recommended_kva)
            * tariff.capacity_fen_per_kva_month
            * 12),
    };

    let valley = tariff.period_price_yuan(Period::Valley);
    let (mut shifted, mut saving_yuan) = (0.0, 0.0);
    for (i, p) in series.periods(&tariff.table).into_iter().enumerate() {
        if matches!(p, Period::Sharp | Period::Peak) {
            let moved = a.shift_share * series.kwh[i];
            shifted += moved;
            saving_yuan += moved * (tariff.period_price_yuan(p) - valley);
        }
    }
    let k = series.annualise();
    let peak_shift = PeakShift {
        share: a.shift_share,
        shifted_kwh_per_year: shifted * k,
        annual_saving: fen_of_yuan(saving_yuan * k),
    };

    Ok(EfficiencyMetrics {
        days: series.days(),
        energy_kwh,
        mean_demand_kw,
        max_demand_kw,
        load_factor: ratio(mean_demand_kw, max_demand_kw),
        peak_to_average: ratio(max_demand_kw, mean_demand_kw),
        night_share: ratio(night_kwh, energy_kwh),
        base_load_share: ratio(nearest_rank(&demand, 0.05), mean_demand_kw),
        weekend_weekday_ratio,
        contracted_kva,
        max_demand_kva,
        capacity_utilisation: max_demand_kva / contracted_kva as f64,
        capacity,
        peak_shift,
        monthly_max_kw: monthly_max_kw(series),
    })
}

/// Everything one customer's energy report says: the metrics under its TOU
/// package and the battery sizing, with the stated assumptions.
#[derive(Debug, Clone)]
pub struct Study {
    pub tariff: TouTariff,
    pub assumptions: Assumptions,
    pub metrics: EfficiencyMetrics,
    pub battery_input: battery::BatteryInput,
    pub battery: battery::BatterySizing,
}

impl Study {
    /// Runs the metrics and the battery sizing on `series` under `package`
    /// (a TOU package: its table, prices and capacity charge; the demand
    /// charge is the stated assumption [`battery::demand_charge_from_capacity`]).
    pub fn run(
        series: &IntervalSeries,
        package: &PricePackage,
        contracted_kva: i64,
    ) -> Result<Study> {
        let tariff = TouTariff::from_package(package)?;
        let assumptions = Assumptions::default();
        let metrics = metrics(series, &tariff, contracted_kva, &assumptions)?;
        let battery_input = battery::BatteryInput::new(
            series.clone(),
            tariff.interval_prices_yuan(series),
            battery::demand_charge_from_capacity(
                tariff.capacity_fen_per_kva_month,
                assumptions.power_factor,
            ),
        );
        let battery = battery::size_battery(&battery_input)?;
        Ok(Study {
            tariff,
            assumptions,
            metrics,
            battery_input,
            battery,
        })
    }

    /// The report an account manager sends, in `lang`.
    pub fn html(&self, customer_id: &str, customer_name: &str, lang: report::ReportLang) -> String {
        report::render_html(
            &report::ReportInput {
                customer_id,
                customer_name,
                series: &self.battery_input.series,
                tariff: &self.tariff,
                assumptions: &self.assumptions,
                metrics: &self.metrics,
                battery: Some((&self.battery_input, &self.battery)),
            },
            lang,
        )
    }
}

/// Highest interval demand per calendar month, kW, in order.
pub fn monthly_max_kw(series: &IntervalSeries) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = Vec::new();
    for i in 0..series.kwh.len() {
        let (d, _) = series.date_slot(i);
        let key = format!("{:04}-{:02}", d.year(), d.month());
        let kw = series.demand_kw(i);
        match out.last_mut() {
            Some((k, m)) if *k == key => *m = m.max(kw),
            _ => out.push((key, kw)),
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn guangdong_like() -> TouTariff {
        // valley 0-8, peak 10-12 and 14-19, flat otherwise; sharp 11-12 in July
        let mut row = vec![Period::Flat; 24];
        row[..8].fill(Period::Valley);
        for h in [10, 11, 14, 15, 16, 17, 18] {
            row[h] = Period::Peak;
        }
        let mut periods = vec![row.clone(); 12];
        periods[6][11] = Period::Sharp;
        TouTariff {
            table: TouTable {
                source: "test".into(),
                periods,
            },
            base: PricePerKwh(6725),
            ratios: PeriodRatios::GUANGDONG_2021,
            capacity_fen_per_kva_month: 2260,
        }
    }

    fn day(d: u32) -> NaiveDate {
        // 2026-01-05 is a Monday
        NaiveDate::from_ymd_opt(2026, 1, d).unwrap()
    }

    #[test]
    fn flat_load_has_load_factor_one_and_a_quarter_of_energy_at_night() {
        let s = IntervalSeries::new(day(5), vec![2.5; 192]).unwrap();
        let m = metrics(&s, &guangdong_like(), 100, &Assumptions::default()).unwrap();
        assert!((m.load_factor - 1.0).abs() < 1e-12);
        assert!((m.peak_to_average - 1.0).abs() < 1e-12);
        assert!((m.max_demand_kw - 10.0).abs() < 1e-12);
        assert!((m.night_share - 0.25).abs() < 1e-12);
        assert!((m.base_load_share - 1.0).abs() < 1e-12);
        assert_eq!(m.weekend_weekday_ratio, None, "Monday and Tuesday only");
        assert_eq!(m.days, 2);
    }

    #[test]
    fn step_load_gives_hand_computed_shape_metrics() {
        // 1 kWh per interval at night (slots 0..24), 3 kWh otherwise:
        // per day 24 + 216 = 240 kWh; mean 10 kW; max 12 kW.
        let day_kwh: Vec<f64> = (0..96).map(|i| if i < 24 { 1.0 } else { 3.0 }).collect();
        let kwh = [day_kwh.clone(), day_kwh].concat();
        let s = IntervalSeries::new(day(10), kwh).unwrap(); // Sat, Sun
        let m = metrics(&s, &guangdong_like(), 100, &Assumptions::default()).unwrap();
        assert!((m.mean_demand_kw - 10.0).abs() < 1e-12);
        assert!((m.load_factor - 10.0 / 12.0).abs() < 1e-12);
        assert!((m.peak_to_average - 1.2).abs() < 1e-12);
        assert!((m.night_share - 0.1).abs() < 1e-12);
        // 5th percentile of 192 values: rank 10, a night interval of 4 kW
        assert!((m.base_load_share - 0.4).abs() < 1e-12);
    }

    #[test]
    fn weekend_ratio_compares_mean_daily_energy() {
        // Fri 2026-01-09 at 2 kWh/interval, Sat at 1 kWh/interval
        let kwh = [vec![2.0; 96], vec![1.0; 96]].concat();
        let s = IntervalSeries::new(day(9), kwh).unwrap();
        let m = metrics(&s, &guangdong_like(), 100, &Assumptions::default()).unwrap();
        assert_eq!(m.weekend_weekday_ratio, Some(0.5));
    }

    #[test]
    fn capacity_resize_saves_the_charge_on_the_kva_given_back() {
        // max 90 kW / 0.9 = 100 kVA × 1.1 = 110 → 125 kVA standard size;
        // 400 − 125 = 275 kVA × 22.60 yuan × 12 = 74 580 yuan
        let mut kwh = vec![10.0; 96];
        kwh[50] = 22.5;
        let s = IntervalSeries::new(day(5), kwh).unwrap();
        let m = metrics(&s, &guangdong_like(), 400, &Assumptions::default()).unwrap();
        assert!((m.max_demand_kw - 90.0).abs() < 1e-12);
        assert!((m.capacity.needed_kva - 110.0).abs() < 1e-9);
        assert_eq!(m.capacity.recommended_kva, 125);
        assert_eq!(m.capacity.annual_saving, Fen(275 * 2260 * 12));
        assert!((m.capacity_utilisation - 0.25).abs() < 1e-12);
    }

    #[test]
    fn capacity_resize_is_negative_when_the_load_outgrew_the_contract() {
        let s = IntervalSeries::new(day(5), vec![25.0; 96]).unwrap(); // 100 kW
        let m = metrics(&s, &guangdong_like(), 100, &Assumptions::default()).unwrap();
        // 100 / 0.9 × 1.1 = 122.2 → 125 kVA; (100 − 125) × 2260 × 12
        assert_eq!(m.capacity.recommended_kva, 125);
        assert_eq!(m.capacity.annual_saving, Fen(-25 * 2260 * 12));
    }

    #[test]
    fn peak_shift_saving_is_share_times_energy_times_price_gap() {
        // one January day, 1 kWh every interval; peak hours 10,11,14..18 =
        // 7 h = 28 intervals = 28 kWh; 10 % = 2.8 kWh; gap = 1.1433 − 0.2556
        // = 0.8877 yuan; per day 2.48556 yuan; × 365 = 907.2294 yuan
        let s = IntervalSeries::new(day(5), vec![1.0; 96]).unwrap();
        let m = metrics(&s, &guangdong_like(), 100, &Assumptions::default()).unwrap();
        assert!((m.peak_shift.shifted_kwh_per_year - 2.8 * 365.0).abs() < 1e-9);
        assert_eq!(m.peak_shift.annual_saving, Fen(90_723));
    }

    #[test]
    fn peak_shift_counts_the_sharp_price_in_july() {
        // July: hour 11 is sharp (1.4291), 6 peak hours (1.1433)
        let s = IntervalSeries::new(NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(), vec![1.0; 96])
            .unwrap();
        let m = metrics(&s, &guangdong_like(), 100, &Assumptions::default()).unwrap();
        let per_day = 0.1 * (24.0 * (1.1433 - 0.2556) + 4.0 * (1.4291 - 0.2556));
        assert_eq!(m.peak_shift.annual_saving, fen_of_yuan(per_day * 365.0));
    }

    #[test]
    fn interval_prices_follow_month_and_hour() {
        let s = IntervalSeries::new(NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(), vec![1.0; 96])
            .unwrap();
        let p = guangdong_like().interval_prices_yuan(&s);
        assert_eq!(p[0], 0.2556);
        assert_eq!(p[10 * 4], 1.1433);
        assert_eq!(p[11 * 4 + 3], 1.4291);
        assert_eq!(p[20 * 4], 0.6725);
    }

    #[test]
    fn rejects_partial_days_and_negative_energy() {
        let e = IntervalSeries::new(day(5), vec![1.0; 95]).unwrap_err();
        let RetailError::Invalid(v) = e else { panic!() };
        assert!(v.has("series.kwh", "whole_days_of_96"));
        let mut kwh = vec![1.0; 96];
        kwh[3] = -1.0;
        let RetailError::Invalid(v) = IntervalSeries::new(day(5), kwh).unwrap_err() else {
            panic!()
        };
        assert!(v.has("series.kwh[3]", "finite_non_negative"));
    }

    #[test]
    fn tariff_comes_from_a_tou_package_and_other_pricings_are_refused() {
        use crate::package::PassThroughs;
        let t = guangdong_like();
        let mut pkg = PricePackage {
            id: "GD-TOU-10KV".into(),
            retailer_id: "R".into(),
            name: "tou".into(),
            pricing: Pricing::TimeOfUse {
                table: t.table.clone(),
                base: t.base,
                ratios: t.ratios,
            },
            pass_throughs: PassThroughs {
                capacity_fen_per_kva_month: 2260,
                ..Default::default()
            },
            allow_negative: false,
        };
        assert_eq!(TouTariff::from_package(&pkg).unwrap(), t);
        pkg.pricing = Pricing::Fixed { price: t.base };
        let RetailError::Invalid(v) = TouTariff::from_package(&pkg).unwrap_err() else {
            panic!("not a violation")
        };
        assert!(v.has("package.pricing", "time_of_use"));
    }

    #[test]
    fn standard_sizes_round_up() {
        let a = Assumptions::default();
        assert_eq!(a.round_up_kva(110.0), 125);
        assert_eq!(a.round_up_kva(630.0), 630);
        assert_eq!(a.round_up_kva(150_001.0), 151_000);
    }
}
