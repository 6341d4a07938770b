//! The pricing experiments of docs/pricing.md (convergence, comfort
//! sweep, risk sweep, community, scale, and the reference instance for the
//! independent Python solver) and the shared setup they use: load
//! the real data, classify it, build users and markets, write CSV and SVG.
//! Each experiment returns a summary for the CLI to print; none of them
//! prints or draws progress bars itself (progress goes through a callback).
//!
//! This file holds the shared setup (inputs, options, markets, CSV and chart
//! writing); each experiment has its own module, re-exported here.

mod community;
mod convergence;
mod reference;
mod scale;
mod sweeps;

pub use community::{
    COMMUNITY_DEVICES, COMMUNITY_PV_PEAK_KW, community, community_users, uncontrolled_grid,
};
pub use convergence::convergence;
pub use reference::{REFERENCE_USERS, reference};
pub use scale::{scale, scale_options};
pub use sweeps::{COMFORT_GRID, RISK_GRID, comfort_sweep, risk_sweep};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{Datelike, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::choice::ChoiceModel;
use crate::classify::{self, LoadClassification};
use crate::consumer::{Battery, Consumer, ElectricVehicle};
use crate::data::{self, DataSource, HouseholdDay};
use crate::ga::{GaSettings, PolishSettings};
use crate::lower::{self, LowerLevelSettings};
use crate::market::{CompetitionSettings, EquilibriumReport, Market, MarketSettings, PriceStep};
use crate::population::{self, PopulationRecipe};
use crate::tou::{TouPrices, TouSchedule};
use crate::upper::{PriceScenarios, SellerRules};
use crate::{HOURS, PricingError};
use voltex_charts::{Figure, Panel, Series};

/// The day the one-day experiments model (users are drawn from household-days
/// within ±15 calendar days of it).
pub fn reference_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2017, 7, 12).unwrap_or_default()
}
/// Half-width of the calendar window users are drawn from (days).
pub const POOL_WINDOW_DAYS: i64 = 15;

/// Progress callback: (done, total, stage).
pub type Progress<'a> = &'a (dyn Fn(u64, u64, &str) + Sync);

/// Real inputs shared by every experiment.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub days: Vec<HouseholdDay>,
    pub days_source: DataSource,
    pub scenarios: PriceScenarios,
    pub scenarios_source: DataSource,
    pub classification: LoadClassification,
}

/// Load household data and price scenarios and classify the load.
pub fn load_inputs(seed: u64) -> Result<Inputs, PricingError> {
    let (days, days_source) = data::load_household_days()?;
    let (scenarios, scenarios_source) = data::load_price_scenarios_2017()?;
    let classification = classify::classify(&days, &TouSchedule::standard(), 2..=8, seed)?;
    Ok(Inputs {
        days,
        days_source,
        scenarios,
        scenarios_source,
        classification,
    })
}

/// Device-free users for a calendar date.
pub fn users_for_date(
    inputs: &Inputs,
    date: NaiveDate,
    users: usize,
    seed: u64,
) -> Result<Vec<Consumer>, PricingError> {
    let mut window = POOL_WINDOW_DAYS;
    loop {
        let pool = data::days_near(&inputs.days, date.month(), date.day(), window);
        let consumers = population::build_consumers(
            &pool,
            &inputs.classification,
            &PopulationRecipe::new(users, seed),
        );
        if !consumers.is_empty() || users == 0 {
            return Ok(consumers);
        }
        if window > 190 {
            return Err(PricingError::BadMarket(
                "no household-day with at least 1 kWh in the data".into(),
            ));
        }
        window *= 2;
    }
}

/// Seeded feasible starting prices for K sellers, spread around p_avg.
pub fn initial_prices(rules: &SellerRules, sellers: usize, seed: u64) -> Vec<TouPrices> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5e11e5);
    (0..sellers)
        .map(|_| {
            let level = rules.average_price_cap_per_kwh * rng.random_range(0.85..1.0);
            let spread = rng.random_range(0.1..0.4);
            rules.repair_box([level - spread, level - 0.2 * spread, level + spread])
        })
        .collect()
}

/// The one source of the pricing defaults: `voltex pricing solve`, `voltex
/// bench pricing` and the experiments start from [`SolveOptions::default`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolveOptions {
    pub users: usize,
    pub sellers: usize,
    /// ω (yuan/kWh).
    pub comfort: f64,
    /// β.
    pub risk: f64,
    pub seed: u64,
    pub choice: ChoiceModel,
    pub max_rounds: usize,
    pub ga: GaSettings,
    pub polish: PolishSettings,
    /// Certified when every regret is below this share of the seller's objective.
    pub regret_tolerance: f64,
    pub step: PriceStep,
}

impl Default for SolveOptions {
    fn default() -> Self {
        let competition = CompetitionSettings::default();
        Self {
            users: 5000,
            sellers: 10,
            comfort: 30.0,
            risk: 0.0,
            seed: 1,
            choice: ChoiceModel::default(),
            max_rounds: competition.max_rounds,
            ga: competition.ga,
            polish: competition.polish,
            regret_tolerance: competition.regret_tolerance,
            step: competition.step,
        }
    }
}

impl SolveOptions {
    /// The loop's settings.
    pub fn competition(&self) -> CompetitionSettings {
        CompetitionSettings {
            ga: self.ga,
            polish: self.polish,
            max_rounds: self.max_rounds,
            regret_tolerance: self.regret_tolerance,
            seed: self.seed,
            step: self.step,
        }
    }
}

/// The smaller market of the convergence, sweep and community experiments
/// (1,000 users, 3 sellers), otherwise the defaults.
pub fn experiment_options(seed: u64) -> SolveOptions {
    SolveOptions {
        users: 1000,
        sellers: 3,
        seed,
        ..SolveOptions::default()
    }
}

/// The market settings the options describe.
pub fn market_settings(opts: &SolveOptions) -> MarketSettings {
    MarketSettings {
        lower: LowerLevelSettings {
            comfort_coefficient: opts.comfort,
            ..LowerLevelSettings::default()
        },
        rules: SellerRules {
            risk_aversion: opts.risk,
            ..SellerRules::default()
        },
        choice: opts.choice,
    }
}

/// Build the market of the reference day.
pub fn build_market(inputs: &Inputs, opts: &SolveOptions) -> Result<Market, PricingError> {
    let consumers = users_for_date(inputs, reference_date(), opts.users, opts.seed)?;
    let settings = market_settings(opts);
    let prices = initial_prices(&settings.rules, opts.sellers, opts.seed);
    Market::new(
        consumers,
        TouSchedule::standard(),
        inputs.scenarios.clone(),
        settings,
        prices,
    )
}

/// Solve the market of the reference day to a certified equilibrium (or the
/// round limit). Progress: (round, round limit, "round r: largest regret x %").
pub fn solve(
    inputs: &Inputs,
    opts: &SolveOptions,
    progress: Progress,
) -> Result<(Market, EquilibriumReport), PricingError> {
    let mut market = build_market(inputs, opts)?;
    let total = opts.max_rounds as u64;
    progress(0, total, "round 1: best responses");
    let report = market.run_to_equilibrium(&opts.competition(), &mut |r| {
        progress(
            r.round as u64,
            total,
            &format!(
                "round {}: largest regret {:.2} %{}",
                r.round,
                r.max_regret_pct,
                if r.certified { " (certified)" } else { "" }
            ),
        );
    })?;
    Ok((market, report))
}

fn create_dir(dir: &Path) -> Result<(), PricingError> {
    std::fs::create_dir_all(dir).map_err(|e| PricingError::Write {
        path: dir.into(),
        source: e,
    })
}

/// A grid of small panels, `columns` wide, written as one SVG file.
fn write_grid(path: &Path, panels: Vec<Panel>, columns: usize) -> Result<(), PricingError> {
    Ok(voltex_charts::write_svg(
        path,
        &Figure::grid(panels, columns),
    )?)
}

/// A small CSV writer that names its file in errors.
struct CsvOut {
    path: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
}

impl CsvOut {
    fn create(path: PathBuf, header: &str) -> Result<Self, PricingError> {
        let file = std::fs::File::create(&path).map_err(|e| PricingError::Write {
            path: path.clone(),
            source: e,
        })?;
        let mut me = Self {
            path,
            out: std::io::BufWriter::new(file),
        };
        me.line(header)?;
        Ok(me)
    }
    fn line(&mut self, text: &str) -> Result<(), PricingError> {
        writeln!(self.out, "{text}").map_err(|e| PricingError::Write {
            path: self.path.clone(),
            source: e,
        })
    }
    fn finish(mut self) -> Result<PathBuf, PricingError> {
        self.out.flush().map_err(|e| PricingError::Write {
            path: self.path.clone(),
            source: e,
        })?;
        Ok(self.path)
    }
}

/// What an experiment wrote and its headline numbers.
#[derive(Debug, Clone, Default)]
pub struct ExperimentSummary {
    pub files: Vec<PathBuf>,
    pub lines: Vec<String>,
}

/// The solved market as JSON: options, the certificate (regret per seller),
/// each round's largest regret, and each seller's prices and outcome.
pub fn equilibrium_json(
    opts: &SolveOptions,
    market: &Market,
    report: &EquilibriumReport,
    seconds: f64,
) -> Result<serde_json::Value, PricingError> {
    let snap = market.snapshot()?;
    let cert = &report.certificate;
    let choice = match opts.choice {
        ChoiceModel::Logit(l) => serde_json::json!({
            "model": "logit",
            "scale_per_kwh": l.scale_per_kwh,
            "switching_cost_per_kwh": l.switching_cost_per_kwh,
            "brand_spread_per_kwh": l.brand_spread_per_kwh,
        }),
        ChoiceModel::Threshold {
            switching_threshold,
        } => serde_json::json!({"model": "threshold", "switching_threshold": switching_threshold}),
    };
    let sellers: Vec<serde_json::Value> = snap
        .prices
        .iter()
        .zip(&snap.outcomes)
        .enumerate()
        .map(|(k, (p, o))| {
            serde_json::json!({
                "seller": k,
                "peak_per_kwh": p.peak_per_kwh,
                "flat_per_kwh": p.flat_per_kwh,
                "valley_per_kwh": p.valley_per_kwh,
                "expected_customers": o.book.customers,
                "average_price_per_kwh": o.average_price_per_kwh,
                "expected_profit": o.expected_profit,
                "cvar95_loss": o.cvar_loss,
                "objective": cert.objective.get(k),
                "regret": cert.regret.get(k),
                "regret_pct": cert.regret_pct.get(k).map(|r| if r.is_finite() { *r } else { f64::MAX }),
            })
        })
        .collect();
    let rounds: Vec<serde_json::Value> = report
        .rounds
        .iter()
        .map(|r| {
            serde_json::json!({
                "round": r.round,
                "max_regret": r.max_regret,
                "max_regret_pct": if r.max_regret_pct.is_finite() { r.max_regret_pct } else { f64::MAX },
                "certified": r.certified,
                "max_price_move": r.max_price_move,
                "ga_evaluations": r.responses.iter().map(|b| b.ga.evaluations).sum::<usize>(),
                "polish_evaluations": r.responses.iter().map(|b| b.polish_evaluations).sum::<usize>(),
            })
        })
        .collect();
    Ok(serde_json::json!({
        "users": opts.users,
        "sellers": opts.sellers,
        "comfort_per_kwh": opts.comfort,
        "risk_aversion": opts.risk,
        "seed": opts.seed,
        "choice": choice,
        "regret_tolerance_pct": cert.tolerance_pct,
        "converged": report.converged,
        "rounds": rounds,
        "max_regret_pct": if cert.max_regret_pct().is_finite() { cert.max_regret_pct() } else { f64::MAX },
        "seconds": seconds,
        "seller_results": sellers,
        "transferred_kwh": snap.transferred_kwh,
        "moved_out_of_peak_kwh": snap.moved_out_of_peak_kwh,
        "mean_satisfaction": snap.mean_satisfaction,
        "min_satisfaction": snap.min_satisfaction,
    }))
}
