//! `voltex retail decide --demo`: the decision-support methods on the
//! shipped real data (data/retail, see its PROVENANCE.md), by the recipe of
//! docs/retail-decisions.md ("The demo"):
//!
//! - customers: the retail demo's customers (SimBench roster loads with
//!   their measured-derived profile, low-voltage loads × 10, ±5 % seeded
//!   jitter per interval) over the whole of 2016, 15-minute;
//! - the forecast day is Tuesday 2016-12-06, back-tested on the 28 days
//!   before it; month-ahead back-tested on November;
//! - prices the bid meets: ISO-NE Hub day-ahead and real-time LMPs of
//!   January–April 2017 at 6.9 CNY/USD (a real two-settlement market's
//!   prices, not a Chinese price); the MLT curve is 70 % of the last four
//!   weeks' mean profile at 0.38 yuan/kWh, as in the retail demo;
//! - bills for the segments: January–November 2016 loads against NSW1 spot
//!   prices of the same months of 2018 (the retail demo's conversion).
//!
//! Synthetic where said so (scaling, jitter, MLT curve, deviation rule);
//! the shapes and prices are real.
use chrono::{Datelike, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::forecast::{self, LoadHistory, PortfolioForecast, SLOTS};
use super::purchase::{
    self, BacktestDay, BacktestResult, DeviationRule, PriceDay, PurchaseInput, Suggestion,
};
use super::segments::{self, SegmentConfig, SegmentInput, Segmentation};
use crate::customer::Customer;
use crate::demo::{bad, choose, customer_of, packages, read, roster, rrp_price, scale_of};
use crate::efficiency::battery::BatterySizing;
use crate::efficiency::report::ReportLang;
use crate::efficiency::{EfficiencyMetrics, Study};
use crate::error::{Result, RetailError};
use crate::money::PricePerKwh;
use crate::month::Month;
use crate::package::{PricePackage, Pricing, TouTable};
use crate::rating::MarketPrices;
use voltex_formats::simbench;

/// CNY per USD used to turn ISO-NE prices into yuan (approximate 2017 rate).
pub const CNY_PER_USD: f64 = 6.9;
/// The demo's wholesale deviation rule (an assumption; docs say so).
pub const DEMO_RULE: DeviationRule = DeviationRule {
    band: 0.10,
    penalty_yuan_per_kwh: 0.05,
};
/// MLT contract: share of the mean profile covered, and its price.
pub const MLT_SHARE: f64 = 0.70;
pub const MLT_PRICE_YUAN: f64 = 0.38;

/// What the demo runs on.
#[derive(Debug, Clone)]
pub struct DecideConfig {
    pub customers: usize,
    pub seed: u64,
    /// The repository's `data/` folder.
    pub data_dir: PathBuf,
    /// The day forecast and bid for.
    pub target: NaiveDate,
    /// Back-test days before the target.
    pub window_days: usize,
    /// Bid price steps per quarter-hour.
    pub steps: usize,
}

impl DecideConfig {
    pub fn new(data_dir: PathBuf) -> Self {
        DecideConfig {
            customers: 240,
            seed: 2026,
            data_dir,
            target: NaiveDate::from_ymd_opt(2016, 12, 6).expect("a date"),
            window_days: 28,
            steps: 5,
        }
    }
}

/// A demo customer: who, on which package, and its 2016 load.
#[derive(Debug, Clone)]
pub struct DemoCustomer {
    pub customer: Customer,
    pub package: &'static str,
    pub history: LoadHistory,
}

/// Month-ahead daily energy of the portfolio.
#[derive(Debug, Clone, Serialize)]
pub struct MonthAhead {
    /// Back-test: November forecast from October, against what happened.
    pub backtest_month: Month,
    pub backtest_wape_pct: f64,
    /// The next 30 days' daily energy (kWh) from the target day.
    pub next_days_kwh: Vec<f64>,
}

/// Everything the demo found, for the CLI to print.
#[derive(Debug, Clone, Serialize)]
pub struct DecideReport {
    pub customers: usize,
    pub forecast: PortfolioForecast,
    pub month_ahead: MonthAhead,
    pub contracted_kwh: Vec<f64>,
    pub purchase: Suggestion,
    pub backtest: BacktestResult,
    pub segmentation: Segmentation,
    /// One customer's energy-efficiency summary (the first on the TOU
    /// package); its HTML reports are in `files`.
    pub efficiency: EfficiencySummary,
    /// Files written (SVG charts, HTML reports).
    pub files: Vec<PathBuf>,
}

/// The energy-efficiency services for one customer.
#[derive(Debug, Clone, Serialize)]
pub struct EfficiencySummary {
    pub customer_id: String,
    pub metrics: EfficiencyMetrics,
    #[serde(skip)]
    pub battery: BatterySizing,
    pub battery_kw: f64,
    pub battery_kwh: f64,
    pub payback_years: Option<f64>,
}

/// SimBench per-unit profiles of 2016, each normalised to 96 quarter-hours
/// a day: the spring-forward day's missing hour repeats the hour before it,
/// the fall-back day's repeated hour is dropped.
pub fn year_profiles(path: &Path) -> Result<(NaiveDate, BTreeMap<String, Vec<f64>>)> {
    let profiles = simbench::parse_profiles(&read(path)?, None, |_| true)
        .map_err(|e| bad(path, e.to_string()))?;
    let start = profiles
        .values()
        .next()
        .and_then(|days| days.keys().next().copied())
        .ok_or_else(|| bad(path, "no rows"))?;
    let mut out = BTreeMap::new();
    for (name, days) in profiles {
        let mut values = Vec::with_capacity(days.len() * SLOTS);
        for (k, (date, mut rows)) in days.into_iter().enumerate() {
            if date != start + chrono::Days::new(k as u64) {
                return Err(bad(path, format!("{date} is out of sequence")));
            }
            if !simbench::whole_day(&mut rows) {
                return Err(bad(path, format!("{date} has {} rows", rows.len())));
            }
            values.extend(rows.into_iter().map(|micro| micro as f64 / 1e6));
        }
        out.insert(name, values);
    }
    Ok((start, out))
}

/// The demo's customers over 2016, by the retail demo's recipe.
pub fn customers(cfg: &DecideConfig) -> Result<Vec<DemoCustomer>> {
    let dir = cfg.data_dir.join("retail");
    let all = roster(&dir.join("simbench_load_roster.csv"))?;
    let (start, profiles) = year_profiles(&dir.join("simbench_load_profiles_2016_15min.csv.gz"))?;
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut out = Vec::new();
    // beyond the roster's 522 loads (the benchmark's 2,000), the roster
    // repeats with fresh jitter
    let chosen = choose(&all, cfg.customers);
    for k in 0..cfg.customers.max(1) {
        let load = chosen[k % chosen.len()];
        let (customer, package) = customer_of(k, load);
        let shape = profiles
            .get(&load.profile)
            .ok_or_else(|| bad(&dir, format!("no profile {}", load.profile)))?;
        let peak_kw = (load.p_load_kw * scale_of(load)) as f64;
        let kwh = shape
            .iter()
            .map(|v| peak_kw * v * 0.25 * rng.random_range(0.95..=1.05))
            .collect();
        out.push(DemoCustomer {
            customer,
            package,
            history: LoadHistory { start, kwh },
        });
    }
    Ok(out)
}

/// ISO-NE Hub day-ahead and real-time prices, yuan/kWh per quarter-hour.
pub fn price_history(path: &Path) -> Result<Vec<PriceDay>> {
    let text = read(path)?;
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let mut days: Vec<PriceDay> = Vec::new();
    for rec in rdr.records() {
        let r = rec.map_err(|e| bad(path, e.to_string()))?;
        let num = |i: usize| {
            r[i].parse::<f64>()
                .map(|usd_mwh| usd_mwh * CNY_PER_USD / 1000.0)
                .map_err(|_| bad(path, format!("{:?} at {} hour {}", &r[i], &r[0], &r[1])))
        };
        let (da, rt) = (num(2)?, num(3)?);
        if days.last().is_none_or(|d| d.label != r[0]) {
            days.push(PriceDay {
                label: r[0].to_owned(),
                da: Vec::with_capacity(SLOTS),
                rt: Vec::with_capacity(SLOTS),
            });
        }
        let day = days.last_mut().expect("pushed");
        day.da.extend([da; 4]);
        day.rt.extend([rt; 4]);
    }
    if let Some(d) = days.iter().find(|d| d.da.len() != SLOTS) {
        return Err(bad(
            path,
            format!("{} has {} hours", d.label, d.da.len() / 4),
        ));
    }
    Ok(days)
}

/// NSW1 2018 spot prices for the months of 2016 (same calendar month; a
/// 2016 month longer than its 2018 twin repeats the twin's last day).
pub fn spot_by_month(path: &Path, months: &[Month]) -> Result<BTreeMap<Month, MarketPrices>> {
    let text = read(path)?;
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let mut by_month: BTreeMap<u32, Vec<PricePerKwh>> = BTreeMap::new();
    for rec in rdr.records() {
        let r = rec.map_err(|e| bad(path, e.to_string()))?;
        // SETTLEMENTDATE is the interval end: the interval starts 30 min before
        let end = chrono::NaiveDateTime::parse_from_str(&r[0], "%Y/%m/%d %H:%M:%S")
            .map_err(|_| bad(path, format!("time {:?}", &r[0])))?;
        let begin = end - chrono::Duration::minutes(30);
        let p = rrp_price(&r[1]).ok_or_else(|| bad(path, format!("RRP {:?}", &r[1])))?;
        by_month.entry(begin.month()).or_default().extend([p, p]);
    }
    let mut out = BTreeMap::new();
    for &m in months {
        let twin = by_month
            .get(&m.month)
            .ok_or_else(|| bad(path, format!("no prices for month {}", m.month)))?;
        let mut spot: Vec<PricePerKwh> = twin.iter().copied().take(m.slots()).collect();
        while spot.len() < m.slots() {
            let last_day = twin[twin.len() - SLOTS..].to_vec();
            spot.extend(last_day.into_iter().take(m.slots() - spot.len()));
        }
        let mean = spot.iter().map(|p| p.0 as i128).sum::<i128>() / spot.len() as i128;
        out.insert(
            m,
            MarketPrices {
                spot,
                average_purchase: PricePerKwh(mean as i64),
            },
        );
    }
    Ok(out)
}

/// The retail energy price of a package in quarter-hour `slot` of a day of
/// `month` (yuan/kWh), with `purchase` the expected purchase price for the
/// packages that follow it. Spot-indexed packages pass the price through up
/// to their cap, so their ceiling is the cap.
pub fn retail_price(p: &PricePackage, month: u32, slot: usize, purchase: f64) -> f64 {
    let yuan = |p: PricePerKwh| p.0 as f64 / 10_000.0;
    match &p.pricing {
        Pricing::Fixed { price } => yuan(*price),
        Pricing::TimeOfUse {
            table,
            base,
            ratios,
        } => yuan(base.scaled(ratios.of(table.period(month, slot / 4)))),
        Pricing::PriceDifferenceSharing { reference, share } => {
            let r = yuan(*reference);
            r - share.0 as f64 / 10_000.0 * (r - purchase)
        }
        Pricing::WholesaleIndexed { cap, .. } => yuan(*cap),
    }
}

/// Runs the whole decision-support demo. `progress` gets a line per step.
pub fn run(
    cfg: &DecideConfig,
    out_dir: &Path,
    progress: &mut dyn FnMut(String),
) -> Result<DecideReport> {
    let dir = cfg.data_dir.join("retail");
    let customers = customers(cfg)?;
    progress(format!(
        "customers: {} with 2016 quarter-hour loads",
        customers.len()
    ));
    let histories: Vec<(&str, &LoadHistory)> = customers
        .iter()
        .map(|c| (c.customer.id.as_str(), &c.history))
        .collect();

    // --- load forecasts
    let target = history_before(cfg, &customers[0].history)?;
    let forecast = forecast::forecast_portfolio(&histories, cfg.target, cfg.window_days);
    progress(format!(
        "forecast {}: portfolio WAPE {:.2} % over {} back-test days (customers separately {:.2} %)",
        cfg.target, forecast.portfolio.wape_pct, cfg.window_days, forecast.customers_wape_pct
    ));
    let month_ahead = month_ahead(&histories, cfg.target, target)?;

    // --- purchase
    let history = price_history(&dir.join("isone_hub_da_rt_2017_jan_apr.csv"))?;
    let contracted: Vec<f64> = (0..SLOTS)
        .map(|s| {
            MLT_SHARE * forecast.backtest_actual.iter().map(|d| d[s]).sum::<f64>()
                / forecast.backtest_actual.len() as f64
        })
        .collect();
    let catalogue = packages(TouTable::from_csv(&read(
        &dir.join("guangdong_tou_2021.csv"),
    )?)?);
    let mean_da = history.iter().flat_map(|d| &d.da).sum::<f64>() / (history.len() * SLOTS) as f64;
    let ceiling = ceiling(
        &customers,
        &forecast,
        &catalogue,
        cfg.target.month(),
        mean_da,
    );
    let errors: Vec<Vec<f64>> = forecast
        .backtest_actual
        .iter()
        .zip(&forecast.backtest_forecast)
        .map(|(a, f)| {
            a.iter()
                .zip(f)
                .map(|(a, f)| if *f > 0.0 { a / f - 1.0 } else { 0.0 })
                .collect()
        })
        .collect();
    let input = PurchaseInput {
        forecast_kwh: &forecast.next_day,
        relative_errors: &errors,
        contracted_kwh: &contracted,
        contract_price: MLT_PRICE_YUAN,
        history: &history,
        rule: DEMO_RULE,
        steps: cfg.steps,
        ceiling: &ceiling,
    };
    let purchase = purchase::suggest(&input)?;
    let days: Vec<BacktestDay> = (0..cfg.window_days)
        .map(|k| BacktestDay {
            forecast_kwh: forecast.backtest_forecast[k].clone(),
            actual_kwh: forecast.backtest_actual[k].clone(),
            prices: history.len() - cfg.window_days + k,
        })
        .collect();
    let backtest = purchase::backtest(&days, &input)?;
    progress(format!(
        "purchase: gap {:.1} MWh, expected cost {:.0} yuan (naive {:.0}), back-test saving {:.2} %",
        purchase.gap_kwh / 1000.0,
        purchase.suggested.expected_yuan,
        purchase.naive.expected_yuan,
        backtest.saving_pct
    ));

    // --- segments
    let segmentation = segment_customers(cfg, &customers, &catalogue)?;
    progress(format!(
        "segments: {} (Xie–Beni), {} customers changed segment",
        segmentation.segments.len(),
        segmentation.changed.len()
    ));

    // --- pictures
    std::fs::create_dir_all(out_dir).map_err(|e| bad(out_dir, e.to_string()))?;
    let mut files = Vec::new();
    let svg = out_dir.join("decide-purchase.svg");
    voltex_charts::write_svg(&svg, &purchase_figure(&purchase))
        .map_err(|e| bad(&svg, e.to_string()))?;
    files.push(svg);

    // --- energy efficiency for one customer on the TOU package
    let (efficiency, reports) = efficiency_report(&customers, &catalogue, target, out_dir)?;
    progress(format!(
        "energy efficiency {}: battery {:.0} kW / {:.0} kWh, payback {}",
        efficiency.customer_id,
        efficiency.battery_kw,
        efficiency.battery_kwh,
        efficiency
            .payback_years
            .map_or("none".to_owned(), |y| format!("{y:.1} years"))
    ));
    files.extend(reports);

    Ok(DecideReport {
        customers: customers.len(),
        efficiency,
        forecast,
        month_ahead,
        contracted_kwh: contracted,
        purchase,
        backtest,
        segmentation,
        files,
    })
}

/// The target's day index, if the data hold it and enough history before
/// it: the back-test window, the regression's fit, and the whole month
/// before (the month-ahead back-test).
fn history_before(cfg: &DecideConfig, h: &LoadHistory) -> Result<usize> {
    let needed = cfg.window_days + forecast::FIT_DAYS + 9;
    let previous = Month::of(Month::of(cfg.target).first_day() - chrono::Days::new(1));
    let earliest = (h.start + chrono::Days::new(needed as u64)).max(
        Month::of(h.start - chrono::Days::new(1))
            .next()
            .next()
            .first_day(),
    );
    match h.index_of(cfg.target) {
        Some(t) if t >= needed && h.index_of(previous.first_day()).is_some() => Ok(t),
        _ => Err(RetailError::invalid(
            "target",
            "inside_the_history",
            cfg.target.to_string(),
            format!(
                "a forecast day needs {needed} days and the whole previous month of history before it, and the data run from {} to {}: pick a day from {earliest} to the last",
                h.start,
                h.date(h.days().saturating_sub(1))
            ),
        )),
    }
}

/// Metrics, battery sizing and the two HTML reports for the first
/// customer on the TOU package, over the days before the target.
fn efficiency_report(
    customers: &[DemoCustomer],
    catalogue: &[PricePackage],
    target: usize,
    out_dir: &Path,
) -> Result<(EfficiencySummary, Vec<PathBuf>)> {
    let Some((c, package)) = customers.iter().find_map(|c| {
        catalogue
            .iter()
            .find(|p| p.id == c.package && matches!(p.pricing, Pricing::TimeOfUse { .. }))
            .map(|p| (c, p))
    }) else {
        return Err(bad(out_dir, "no customer is on a TOU package"));
    };
    let series = LoadHistory::new(c.history.start, c.history.kwh[..target * SLOTS].to_vec())?;
    let study = Study::run(&series, package, c.customer.contracted_kva)?;
    let mut files = Vec::new();
    for (lang, tag) in [(ReportLang::Zh, "zh-CN"), (ReportLang::En, "en")] {
        let html = study.html(&c.customer.id, &c.customer.name, lang);
        let path = out_dir.join(format!("energy-report-{}.{tag}.html", c.customer.id));
        std::fs::write(&path, html).map_err(|e| bad(&path, e.to_string()))?;
        files.push(path);
    }
    Ok((
        EfficiencySummary {
            customer_id: c.customer.id.clone(),
            battery_kw: study.battery.power_kw,
            battery_kwh: study.battery.energy_kwh,
            payback_years: study.battery.payback_years,
            metrics: study.metrics,
            battery: study.battery,
        },
        files,
    ))
}

/// Segments the customers over the complete months of their year before
/// December, with the demo catalogue's bills.
fn segment_customers(
    cfg: &DecideConfig,
    customers: &[DemoCustomer],
    catalogue: &[PricePackage],
) -> Result<Segmentation> {
    let dir = cfg.data_dir.join("retail");
    let first = customers
        .first()
        .ok_or_else(|| bad(&dir, "no customers to segment"))?;
    let start = first.history.start;
    let months: Vec<Month> = (1..=11)
        .filter_map(|m| Month::new(start.year(), m))
        .collect();
    let prices = spot_by_month(&dir.join("aemo_nsw1_2018_rrp.csv"), &months)?;
    let day_of = |m: u32| {
        Month::new(start.year(), m)
            .and_then(|m| first.history.index_of(m.first_day()))
            .ok_or_else(|| bad(&dir, format!("the load data does not cover month {m}")))
    };
    let (split, end) = (day_of(7)?, day_of(12)?);
    let inputs: Vec<SegmentInput<'_>> = customers
        .iter()
        .map(|c| SegmentInput {
            customer: &c.customer,
            history: &c.history,
        })
        .collect();
    let Some(Pricing::TimeOfUse { table, .. }) = catalogue
        .iter()
        .map(|p| &p.pricing)
        .find(|p| matches!(p, Pricing::TimeOfUse { .. }))
    else {
        return Err(bad(&dir, "the catalogue has no TOU package"));
    };
    segments::segment(
        &inputs,
        &SegmentConfig {
            days: 0..end,
            split,
            counts: 2..=6,
            seed: cfg.seed,
            tou: table,
            packages: catalogue,
            prices: &prices,
        },
    )
}

/// The segmentation `voltex bench decide` times: the demo's, on `customers`.
pub fn bench_segmentation(cfg: &DecideConfig, customers: &[DemoCustomer]) -> Result<Segmentation> {
    let dir = cfg.data_dir.join("retail");
    let catalogue = packages(TouTable::from_csv(&read(
        &dir.join("guangdong_tou_2021.csv"),
    )?)?);
    segment_customers(cfg, customers, &catalogue)
}

fn month_ahead(
    histories: &[(&str, &LoadHistory)],
    target_date: NaiveDate,
    target: usize,
) -> Result<MonthAhead> {
    let first_of = |d: NaiveDate| Month::of(d).first_day();
    let this_month = first_of(target_date);
    let previous = Month::of(this_month - chrono::Days::new(1));
    let h0 = histories[0].1;
    let first = h0.index_of(previous.first_day()).ok_or_else(|| {
        bad(
            Path::new("load history"),
            format!("{previous} is not covered"),
        )
    })?;
    let n = previous.days();
    let (mut abs, mut actual) = (0.0, 0.0);
    let mut next = vec![0.0; 30];
    for (_, h) in histories {
        let f = forecast::month_ahead(h, first, n);
        for (k, v) in f.iter().enumerate() {
            let a = h.day_energy(first + k);
            abs += (a - v).abs();
            actual += a;
        }
        let days = 30.min(h.days().saturating_sub(target));
        for (k, v) in forecast::month_ahead(h, target, days).iter().enumerate() {
            next[k] += v;
        }
    }
    Ok(MonthAhead {
        backtest_month: previous,
        backtest_wape_pct: if actual > 0.0 {
            abs / actual * 100.0
        } else {
            0.0
        },
        next_days_kwh: next,
    })
}

/// The portfolio's retail energy price per quarter-hour: each customer's
/// package price weighted by its forecast energy in that quarter-hour.
fn ceiling(
    customers: &[DemoCustomer],
    forecast: &PortfolioForecast,
    catalogue: &[PricePackage],
    month: u32,
    purchase: f64,
) -> Vec<f64> {
    // each customer's package price per quarter-hour, looked up once
    let prices: Vec<(&[f64], Vec<f64>)> = forecast
        .customers
        .iter()
        .filter_map(|f| {
            let c = customers.iter().find(|c| c.customer.id == f.customer_id)?;
            let p = catalogue.iter().find(|p| p.id == c.package)?;
            let by_slot = (0..SLOTS)
                .map(|s| retail_price(p, month, s, purchase))
                .collect();
            Some((f.next_day.as_slice(), by_slot))
        })
        .collect();
    (0..SLOTS)
        .map(|s| {
            let num: f64 = prices.iter().map(|(e, p)| e[s] * p[s]).sum();
            let den: f64 = prices.iter().map(|(e, _)| e[s]).sum();
            if den > 0.0 { num / den } else { 0.0 }
        })
        .collect()
}

fn purchase_figure(s: &Suggestion) -> voltex_charts::Figure {
    use voltex_charts::{Figure, Panel, Series};
    let hours = |f: &dyn Fn(&purchase::IntervalPlan) -> f64| -> Vec<(f64, f64)> {
        s.intervals
            .iter()
            .enumerate()
            .map(|(t, i)| (t as f64 / 4.0, f(i) * 4.0 / 1000.0))
            .collect()
    };
    let demand = Panel::new(
        "Next day: forecast demand, MLT curve and gap band (MW)",
        "hour",
        "MW",
        vec![
            Series::new("forecast", hours(&|i| i.forecast_kwh)),
            Series::new("MLT contracted", hours(&|i| i.contracted_kwh)),
            Series::new("gap P10", hours(&|i| i.gap_low_kwh)),
            Series::new("gap P90", hours(&|i| i.gap_high_kwh)),
        ],
    )
    .with_zero();
    let bids = Panel::new(
        "Suggested day-ahead quantity at the lowest and highest price step (MW)",
        "hour",
        "MW",
        vec![
            Series::new(
                "at the lowest step",
                hours(&|i| i.steps.first().map_or(0.0, |b| b.kwh)),
            ),
            Series::new(
                "at the highest step",
                hours(&|i| i.steps.last().map_or(0.0, |b| b.kwh)),
            ),
        ],
    )
    .with_zero();
    Figure::stack(vec![demand, bids])
}
