//! The five pricing experiments of docs/pricing.md (convergence, comfort
//! sweep, risk sweep, community, scale) and the shared setup they use: load
//! the real data, classify it, build users and markets, write CSV and SVG.
//! Each experiment returns a summary for the CLI to print; none of them
//! prints or draws progress bars itself (progress goes through a callback).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{Datelike, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::classify::{self, LoadClassification};
use crate::consumer::{Battery, Consumer, ElectricVehicle};
use crate::data::{self, DataSource, HouseholdDay};
use crate::ga::GaSettings;
use crate::lower::{self, LowerLevelSettings};
use crate::market::{CompetitionSettings, EquilibriumReport, Market, MarketSettings, PriceStep};
use crate::plot::{self, Panel, Series};
use crate::population::{self, PopulationRecipe};
use crate::tou::{TouPrices, TouSchedule};
use crate::upper::{PriceScenarios, SellerRules};
use crate::{HOURS, PricingError};

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

/// Options common to the market experiments.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolveOptions {
    pub users: usize,
    pub sellers: usize,
    pub comfort: f64,
    pub risk: f64,
    pub seed: u64,
    pub max_rounds: usize,
    pub ga: GaSettings,
    pub step: PriceStep,
}

impl Default for SolveOptions {
    fn default() -> Self {
        Self {
            users: 1000,
            sellers: 3,
            comfort: 30.0,
            risk: 0.0,
            seed: 1,
            max_rounds: 8,
            ga: GaSettings::default(),
            step: PriceStep::Full,
        }
    }
}

/// Build the market of the reference day.
pub fn build_market(inputs: &Inputs, opts: &SolveOptions) -> Result<Market, PricingError> {
    let consumers = users_for_date(inputs, reference_date(), opts.users, opts.seed)?;
    let settings = MarketSettings {
        lower: LowerLevelSettings {
            comfort_coefficient: opts.comfort,
            ..LowerLevelSettings::default()
        },
        rules: SellerRules {
            risk_aversion: opts.risk,
            ..SellerRules::default()
        },
        ..MarketSettings::default()
    };
    let prices = initial_prices(&settings.rules, opts.sellers, opts.seed);
    Market::new(
        consumers,
        TouSchedule::standard(),
        inputs.scenarios.clone(),
        settings,
        prices,
    )
}

/// Solve the market of the reference day to equilibrium.
pub fn solve(
    inputs: &Inputs,
    opts: &SolveOptions,
    progress: Progress,
) -> Result<(Market, EquilibriumReport), PricingError> {
    let mut market = build_market(inputs, opts)?;
    let total = (opts.max_rounds * opts.sellers) as u64;
    let mut done = 0u64;
    let report = market.run_to_equilibrium(
        &CompetitionSettings {
            ga: opts.ga,
            max_rounds: opts.max_rounds,
            price_tolerance: 0.001,
            seed: opts.seed,
            step: opts.step,
        },
        &mut |r| {
            done += 1;
            progress(done, total, &format!("seller {} best response", r.seller));
        },
    )?;
    Ok((market, report))
}

fn create_dir(dir: &Path) -> Result<(), PricingError> {
    std::fs::create_dir_all(dir).map_err(|e| PricingError::Write {
        path: dir.into(),
        source: e,
    })
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

/// Experiment 1: GA fitness per generation, prices and transferred energy per round.
pub fn convergence(
    inputs: &Inputs,
    opts: &SolveOptions,
    out: &Path,
    progress: Progress,
) -> Result<ExperimentSummary, PricingError> {
    create_dir(out)?;
    let start = build_market(inputs, opts)?;
    let initial = start.prices().to_vec();
    let initial_snapshot = start.snapshot()?;
    let (_market, report) = solve(inputs, opts, progress)?;
    let mut summary = ExperimentSummary::default();
    let mut ga = CsvOut::create(
        out.join("convergence_ga.csv"),
        "round,seller,generation,best_fitness,mean_fitness",
    )?;
    for r in &report.rounds {
        for resp in &r.responses {
            for g in &resp.ga.history {
                ga.line(&format!(
                    "{},{},{},{:.4},{:.4}",
                    r.round, resp.seller, g.generation, g.best_fitness, g.mean_fitness
                ))?;
            }
        }
    }
    summary.files.push(ga.finish()?);
    let mut rounds = CsvOut::create(
        out.join("convergence_rounds.csv"),
        "round,seller,peak,flat,valley,customers,expected_profit,cvar_loss,average_price,transferred_kwh,moved_out_of_peak_kwh,moved_into_valley_kwh,mean_satisfaction,max_price_move,max_regret",
    )?;
    let mut write_round = |round: usize,
                           snap: &crate::market::MarketSnapshot,
                           moved: f64,
                           regret: f64|
     -> Result<(), PricingError> {
        for (k, (p, o)) in snap.prices.iter().zip(&snap.outcomes).enumerate() {
            rounds.line(&format!(
                "{round},{k},{:.4},{:.4},{:.4},{},{:.2},{:.2},{:.4},{:.2},{:.2},{:.2},{:.5},{:.5},{:.2}",
                p.peak_per_kwh,
                p.flat_per_kwh,
                p.valley_per_kwh,
                o.book.customers,
                o.expected_profit,
                o.cvar_loss,
                o.average_price_per_kwh,
                snap.transferred_kwh,
                snap.moved_out_of_peak_kwh,
                snap.moved_into_valley_kwh,
                snap.mean_satisfaction,
                moved,
                regret
            ))?;
        }
        Ok(())
    };
    write_round(0, &initial_snapshot, f64::NAN, f64::NAN)?;
    for r in &report.rounds {
        write_round(r.round, &r.snapshot, r.max_price_move, r.max_gain)?;
    }
    summary.files.push(rounds.finish()?);

    // GA curves of the first best response of each seller in round 1.
    let mut panels = Vec::new();
    if let Some(first) = report.rounds.first() {
        for resp in first.responses.iter().take(4) {
            panels.push(Panel {
                title: format!("round 1, seller {}: GA fitness", resp.seller),
                x_label: "generation".into(),
                y_label: "fitness (yuan)".into(),
                series: vec![
                    Series::new(
                        "best",
                        resp.ga
                            .history
                            .iter()
                            .map(|g| (g.generation as f64, g.best_fitness))
                            .collect(),
                    ),
                    Series::new(
                        "mean",
                        resp.ga
                            .history
                            .iter()
                            .map(|g| (g.generation as f64, g.mean_fitness))
                            .collect(),
                    ),
                ],
            });
        }
    }
    let path = out.join("convergence_ga.svg");
    plot::line_panels(&path, &panels, 2)?;
    summary.files.push(path);

    let k = opts.sellers;
    let mut price_series = Vec::new();
    for s in 0..k {
        let mut peak = vec![(0.0, initial[s].peak_per_kwh)];
        let mut valley = vec![(0.0, initial[s].valley_per_kwh)];
        for r in &report.rounds {
            peak.push((r.round as f64, r.snapshot.prices[s].peak_per_kwh));
            valley.push((r.round as f64, r.snapshot.prices[s].valley_per_kwh));
        }
        price_series.push(Series::new(format!("seller {s} peak"), peak));
        price_series.push(Series::new(format!("seller {s} valley"), valley));
    }
    let mut transfer = vec![(0.0, initial_snapshot.transferred_kwh)];
    let mut out_of_peak = vec![(0.0, initial_snapshot.moved_out_of_peak_kwh)];
    for r in &report.rounds {
        transfer.push((r.round as f64, r.snapshot.transferred_kwh));
        out_of_peak.push((r.round as f64, r.snapshot.moved_out_of_peak_kwh));
    }
    let path = out.join("convergence_prices.svg");
    plot::line_panels(
        &path,
        &[
            Panel {
                title: "seller prices over best-response rounds".into(),
                x_label: "round".into(),
                y_label: "yuan/kWh".into(),
                series: price_series,
            },
            Panel {
                title: "users' transferred energy".into(),
                x_label: "round".into(),
                y_label: "kWh".into(),
                series: vec![
                    Series::new("moved in time", transfer),
                    Series::new("moved out of peak", out_of_peak),
                ],
            },
        ],
        2,
    )?;
    summary.files.push(path);
    summary.lines.push(format!(
        "{} users, {} sellers, ω = {}, β = {}, step {:?}: {} rounds, converged = {} (last max price move {:.4} yuan/kWh, largest regret {:.1} yuan/day)",
        opts.users,
        k,
        opts.comfort,
        opts.risk,
        opts.step,
        report.rounds.len(),
        report.converged,
        report.rounds.last().map(|r| r.max_price_move).unwrap_or(f64::NAN),
        report.rounds.last().map(|r| r.max_gain).unwrap_or(f64::NAN)
    ));
    for r in &report.rounds {
        summary.lines.push(format!(
            "round {}: max price move {:.4} yuan/kWh, largest regret {:.1} yuan/day",
            r.round, r.max_price_move, r.max_gain
        ));
    }
    if let Some(last) = report.rounds.last() {
        for (s, (p, o)) in last
            .snapshot
            .prices
            .iter()
            .zip(&last.snapshot.outcomes)
            .enumerate()
        {
            summary.lines.push(format!(
                "seller {s}: peak {:.3} flat {:.3} valley {:.3} yuan/kWh, {} customers, E[profit] {:.0} yuan/day",
                p.peak_per_kwh, p.flat_per_kwh, p.valley_per_kwh, o.book.customers, o.expected_profit
            ));
        }
    }
    Ok(summary)
}

/// One monopoly solve (one seller, GA best response applied) for the sweeps.
fn monopoly(
    inputs: &Inputs,
    opts: &SolveOptions,
) -> Result<(Market, crate::market::MarketSnapshot), PricingError> {
    let mut market = build_market(
        inputs,
        &SolveOptions {
            sellers: 1,
            ..*opts
        },
    )?;
    let response = market.best_response(0, &opts.ga, opts.seed)?;
    market.apply_prices(0, response.chosen)?;
    let snapshot = market.snapshot()?;
    Ok((market, snapshot))
}

/// The ω grid of the comfort sweep (yuan/kWh).
pub const COMFORT_GRID: [f64; 12] = [
    0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 100.0, 1000.0,
];

/// Experiment 2: ω from "the 15 % limit binds" to "nothing shifts".
pub fn comfort_sweep(
    inputs: &Inputs,
    opts: &SolveOptions,
    out: &Path,
    progress: Progress,
) -> Result<ExperimentSummary, PricingError> {
    create_dir(out)?;
    let mut csv = CsvOut::create(
        out.join("comfort_sweep.csv"),
        "omega,peak,flat,valley,peak_valley_ratio,moved_out_of_peak_kwh,moved_into_valley_kwh,transferred_kwh,share_limit_binding,mean_satisfaction,expected_profit",
    )?;
    let mut summary = ExperimentSummary::default();
    let (mut ratio, mut moved, mut binding) = (Vec::new(), Vec::new(), Vec::new());
    for (i, &omega) in COMFORT_GRID.iter().enumerate() {
        progress(i as u64, COMFORT_GRID.len() as u64, &format!("ω = {omega}"));
        let (_, snap) = monopoly(
            inputs,
            &SolveOptions {
                comfort: omega,
                ..*opts
            },
        )?;
        let p = snap.prices[0];
        let o = &snap.outcomes[0];
        csv.line(&format!(
            "{omega},{:.4},{:.4},{:.4},{:.4},{:.2},{:.2},{:.2},{:.4},{:.5},{:.2}",
            p.peak_per_kwh,
            p.flat_per_kwh,
            p.valley_per_kwh,
            p.peak_valley_ratio(),
            snap.moved_out_of_peak_kwh,
            snap.moved_into_valley_kwh,
            snap.transferred_kwh,
            snap.share_limit_binding,
            snap.mean_satisfaction,
            o.expected_profit
        ))?;
        let x = omega.log10();
        ratio.push((x, p.peak_valley_ratio()));
        moved.push((x, snap.moved_out_of_peak_kwh));
        binding.push((x, snap.share_limit_binding));
        summary.lines.push(format!(
            "ω {omega:>7}: ratio {:.3}, out of peak {:.1} kWh, limit binds for {:.1} % of users, S̄ {:.4}",
            p.peak_valley_ratio(),
            snap.moved_out_of_peak_kwh,
            100.0 * snap.share_limit_binding,
            snap.mean_satisfaction
        ));
    }
    progress(COMFORT_GRID.len() as u64, COMFORT_GRID.len() as u64, "done");
    summary.files.push(csv.finish()?);
    let path = out.join("comfort_sweep.svg");
    plot::line_panels(
        &path,
        &[
            Panel {
                title: "optimal peak/valley price ratio".into(),
                x_label: "log10 ω (yuan/kWh)".into(),
                y_label: "ratio".into(),
                series: vec![Series::new("p_peak / p_valley", ratio)],
            },
            Panel {
                title: "energy moved out of peak hours".into(),
                x_label: "log10 ω (yuan/kWh)".into(),
                y_label: "kWh".into(),
                series: vec![Series::new("moved out of peak", moved)],
            },
            Panel {
                title: "users whose 15 % limit binds".into(),
                x_label: "log10 ω (yuan/kWh)".into(),
                y_label: "share".into(),
                series: vec![Series::new("share", binding)],
            },
        ],
        3,
    )?;
    summary.files.push(path);
    Ok(summary)
}

/// The β grid of the risk sweep.
pub const RISK_GRID: [f64; 5] = [0.0, 0.5, 1.0, 2.0, 5.0];

/// Experiment 3: β ∈ {0, 0.5, 1, 2, 5}: price ratio, expected profit, CVaR.
pub fn risk_sweep(
    inputs: &Inputs,
    opts: &SolveOptions,
    out: &Path,
    progress: Progress,
) -> Result<ExperimentSummary, PricingError> {
    create_dir(out)?;
    let mut csv = CsvOut::create(
        out.join("risk_sweep.csv"),
        "beta,peak,flat,valley,peak_valley_ratio,expected_profit,cvar95_loss,objective,moved_out_of_peak_kwh",
    )?;
    let mut summary = ExperimentSummary::default();
    let (mut ratio, mut profit, mut cvar) = (Vec::new(), Vec::new(), Vec::new());
    for (i, &beta) in RISK_GRID.iter().enumerate() {
        progress(i as u64, RISK_GRID.len() as u64, &format!("β = {beta}"));
        let (_, snap) = monopoly(
            inputs,
            &SolveOptions {
                risk: beta,
                ..*opts
            },
        )?;
        let p = snap.prices[0];
        let o = &snap.outcomes[0];
        csv.line(&format!(
            "{beta},{:.4},{:.4},{:.4},{:.4},{:.2},{:.2},{:.2},{:.2}",
            p.peak_per_kwh,
            p.flat_per_kwh,
            p.valley_per_kwh,
            p.peak_valley_ratio(),
            o.expected_profit,
            o.cvar_loss,
            o.objective,
            snap.moved_out_of_peak_kwh
        ))?;
        ratio.push((beta, p.peak_valley_ratio()));
        profit.push((beta, o.expected_profit));
        cvar.push((beta, o.cvar_loss));
        summary.lines.push(format!(
            "β {beta}: prices {:.3}/{:.3}/{:.3}, ratio {:.3}, E[profit] {:.0}, CVaR95(loss) {:.0} yuan/day",
            p.peak_per_kwh, p.flat_per_kwh, p.valley_per_kwh, p.peak_valley_ratio(), o.expected_profit, o.cvar_loss
        ));
    }
    progress(RISK_GRID.len() as u64, RISK_GRID.len() as u64, "done");
    summary.files.push(csv.finish()?);
    let path = out.join("risk_sweep.svg");
    plot::line_panels(
        &path,
        &[
            Panel {
                title: "peak/valley price ratio".into(),
                x_label: "β".into(),
                y_label: "ratio".into(),
                series: vec![Series::new("ratio", ratio)],
            },
            Panel {
                title: "expected profit and CVaR95 of loss".into(),
                x_label: "β".into(),
                y_label: "yuan/day".into(),
                series: vec![
                    Series::new("E[profit]", profit),
                    Series::new("CVaR95(loss)", cvar),
                ],
            },
        ],
        2,
    )?;
    summary.files.push(path);
    Ok(summary)
}

/// The five community users: (label, PV, battery, EV).
pub const COMMUNITY_DEVICES: [(&str, bool, bool, bool); 5] = [
    ("user 1: PV", true, false, false),
    ("user 2: PV + battery", true, true, false),
    ("user 3: EV", false, false, true),
    ("user 4: PV + battery + EV", true, true, true),
    ("user 5: no devices", false, false, false),
];

/// PV peak of the community systems (kW).
pub const COMMUNITY_PV_PEAK_KW: f64 = 7.0;

/// The source's 5-user community built from real household-days near the
/// reference date (PV users take households with a PV channel; PV is scaled
/// so that the household's largest hourly PV output in the record is 7 kWh).
pub fn community_users(inputs: &Inputs) -> Result<Vec<Consumer>, PricingError> {
    let date = reference_date();
    let pool = data::days_near(&inputs.days, date.month(), date.day(), POOL_WINDOW_DAYS);
    let mut pv_max = std::collections::BTreeMap::<u32, f64>::new();
    for d in &inputs.days {
        let m = d.pv_kwh.iter().copied().fold(0.0, f64::max);
        let e = pv_max.entry(d.household).or_insert(0.0);
        *e = e.max(m);
    }
    let with_pv: Vec<&&HouseholdDay> = pool
        .iter()
        .filter(|d| d.has_pv_channel && d.pv_kwh.iter().sum::<f64>() > 0.5)
        .collect();
    let without: Vec<&&HouseholdDay> = pool
        .iter()
        .filter(|d| d.total_load_kwh().iter().sum::<f64>() > 5.0)
        .collect();
    if with_pv.is_empty() || without.is_empty() {
        return Err(PricingError::BadMarket(
            "the data near the reference date has no PV household-day".into(),
        ));
    }
    let mut users = Vec::new();
    let (mut next_pv, mut next_other) = (0usize, 0usize);
    for (id, &(_, has_pv, has_battery, has_ev)) in COMMUNITY_DEVICES.iter().enumerate() {
        let day: &HouseholdDay = if has_pv {
            next_pv += 1;
            with_pv[(next_pv * 7) % with_pv.len()]
        } else {
            next_other += 1;
            without[(next_other * 11) % without.len()]
        };
        let load = day.total_load_kwh();
        let kappa = inputs.classification.controllable_fraction(&load);
        let mut base = [0.0; HOURS];
        let mut controllable = [0.0; HOURS];
        for h in 0..HOURS {
            controllable[h] = kappa * load[h];
            base[h] = (1.0 - kappa) * load[h];
        }
        let mut pv = [0.0; HOURS];
        if has_pv {
            let m = pv_max.get(&day.household).copied().unwrap_or(0.0);
            if m > 0.0 {
                for h in 0..HOURS {
                    pv[h] = COMMUNITY_PV_PEAK_KW * day.pv_kwh[h] / m;
                }
            }
        }
        users.push(Consumer {
            id,
            base_kwh: base,
            controllable_kwh: controllable,
            pv_kwh: pv,
            battery: has_battery.then(Battery::default),
            ev: has_ev.then(ElectricVehicle::default),
        });
    }
    Ok(users)
}

/// Grid exchange with no optimisation: x = c, battery idle, EV charging at
/// full power from arrival until the day's driving energy is back.
pub fn uncontrolled_grid(consumer: &Consumer) -> [f64; HOURS] {
    let mut y = [0.0; HOURS];
    for h in 0..HOURS {
        y[h] = consumer.base_kwh[h] + consumer.controllable_kwh[h] - consumer.pv_kwh[h];
    }
    if let Some(ev) = &consumer.ev {
        let mut need = ev.driving_kwh.iter().sum::<f64>() / ev.efficiency;
        let arrival = (0..HOURS)
            .find(|&h| h > 0 && ev.at_home[h] && !ev.at_home[h - 1])
            .unwrap_or(0);
        for step in 0..HOURS {
            let h = (arrival + step) % HOURS;
            if need <= 0.0 {
                break;
            }
            if ev.at_home[h] {
                let e = need.min(ev.power_kw);
                y[h] += e;
                need -= e;
            }
        }
    }
    y
}

/// Experiment 4: the 5-user community before (flat p_avg, no optimisation)
/// and after (the seller's optimal TOU prices, optimal answers).
pub fn community(
    inputs: &Inputs,
    opts: &SolveOptions,
    out: &Path,
    progress: Progress,
) -> Result<ExperimentSummary, PricingError> {
    create_dir(out)?;
    let users = community_users(inputs)?;
    let settings = MarketSettings {
        lower: LowerLevelSettings {
            comfort_coefficient: opts.comfort,
            ..LowerLevelSettings::default()
        },
        rules: SellerRules {
            risk_aversion: opts.risk,
            ..SellerRules::default()
        },
        ..MarketSettings::default()
    };
    let flat = TouPrices::flat_rate(settings.rules.average_price_cap_per_kwh);
    let mut market = Market::new(
        users.clone(),
        TouSchedule::standard(),
        inputs.scenarios.clone(),
        settings,
        vec![flat],
    )?;
    progress(0, 2, "seller GA over the community");
    let response = market.best_response(0, &opts.ga, opts.seed)?;
    market.apply_prices(0, response.chosen)?;
    progress(1, 2, "answers");
    let prices = response.chosen;
    let hourly = prices.hourly(&TouSchedule::standard());
    let flat_hourly = flat.hourly(&TouSchedule::standard());
    let mut trades = CsvOut::create(
        out.join("community_trades.csv"),
        "user,devices,hour,grid_before_kwh,grid_after_kwh,preferred_kwh,shifted_kwh,pv_kwh,battery_charge_kwh,battery_discharge_kwh,ev_charge_kwh,ev_discharge_kwh,price_after",
    )?;
    let mut table = CsvOut::create(
        out.join("community_summary.csv"),
        "user,devices,bought_before_kwh,sold_before_kwh,bought_after_kwh,sold_after_kwh,bill_before_yuan,bill_after_yuan,satisfaction",
    )?;
    let mut summary = ExperimentSummary::default();
    summary.lines.push(format!(
        "seller's prices: peak {:.3}, flat {:.3}, valley {:.3} yuan/kWh (before: flat {:.3})",
        prices.peak_per_kwh, prices.flat_per_kwh, prices.valley_per_kwh, flat.peak_per_kwh
    ));
    let mut panels = Vec::new();
    for (u, consumer) in users.iter().enumerate() {
        let label = COMMUNITY_DEVICES[u].0;
        let before = uncontrolled_grid(consumer);
        let after = lower::respond(consumer, &hourly, &market.settings().lower)?;
        let f = market.settings().lower.feed_in_per_kwh;
        let bill_before: f64 = (0..HOURS)
            .map(|h| flat_hourly[h] * before[h].max(0.0) - f * (-before[h]).max(0.0))
            .sum();
        for h in 0..HOURS {
            trades.line(&format!(
                "{},{label},{h},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4}",
                u + 1,
                before[h],
                after.grid_kwh[h],
                consumer.controllable_kwh[h],
                after.shifted_kwh[h],
                consumer.pv_kwh[h],
                after.battery_charge_kwh[h],
                after.battery_discharge_kwh[h],
                after.ev_charge_kwh[h],
                after.ev_discharge_kwh[h],
                hourly[h]
            ))?;
        }
        let bought_before: f64 = before.iter().map(|v| v.max(0.0)).sum();
        let sold_before: f64 = before.iter().map(|v| (-v).max(0.0)).sum();
        let bought_after: f64 = after.purchases_kwh.iter().sum();
        let sold_after: f64 = after.sales_kwh.iter().sum();
        table.line(&format!(
            "{},{label},{bought_before:.3},{sold_before:.3},{bought_after:.3},{sold_after:.3},{bill_before:.3},{:.3},{:.4}",
            u + 1,
            after.energy_cost,
            after.satisfaction
        ))?;
        summary.lines.push(format!(
            "{label:<28} bought {bought_before:6.2}→{bought_after:6.2} kWh, sold {sold_before:5.2}→{sold_after:5.2} kWh, bill {bill_before:6.2}→{:6.2} yuan, S = {:.4}",
            after.energy_cost, after.satisfaction
        ));
        panels.push(Panel {
            title: label.into(),
            x_label: "hour".into(),
            y_label: "grid exchange (kWh, + = purchase)".into(),
            series: vec![
                Series::new(
                    "before (flat, no control)",
                    (0..HOURS).map(|h| (h as f64, before[h])).collect(),
                ),
                Series::new(
                    "after (TOU, optimal)",
                    (0..HOURS).map(|h| (h as f64, after.grid_kwh[h])).collect(),
                ),
            ],
        });
    }
    panels.push(Panel {
        title: "seller's TOU price".into(),
        x_label: "hour".into(),
        y_label: "yuan/kWh".into(),
        series: vec![
            Series::new("TOU", (0..HOURS).map(|h| (h as f64, hourly[h])).collect()),
            Series::new(
                "mean spot 2017",
                inputs
                    .scenarios
                    .mean_curve()
                    .iter()
                    .enumerate()
                    .map(|(h, v)| (h as f64, *v))
                    .collect(),
            ),
        ],
    });
    summary.files.push(trades.finish()?);
    summary.files.push(table.finish()?);
    let path = out.join("community.svg");
    plot::line_panels(&path, &panels, 3)?;
    summary.files.push(path);
    progress(2, 2, "done");
    Ok(summary)
}

/// Settings of the scale experiment (the 10 s target) .
pub fn scale_options(seed: u64) -> SolveOptions {
    SolveOptions {
        users: 5000,
        sellers: 10,
        comfort: 30.0,
        risk: 0.0,
        seed,
        step: PriceStep::Full,
        max_rounds: 6,
        ga: GaSettings {
            population: 16,
            generations: 15,
            stall_generations: 5,
            ..GaSettings::default()
        },
    }
}

/// Experiment 5: 5,000 users × 10 sellers to equilibrium on the reference day,
/// then the year 2017 day by day with the equilibrium prices and real prices.
pub fn scale(
    inputs: &Inputs,
    opts: &SolveOptions,
    days: usize,
    out: &Path,
    progress: Progress,
) -> Result<ExperimentSummary, PricingError> {
    create_dir(out)?;
    let t0 = Instant::now();
    let (mut market, report) = solve(inputs, opts, progress)?;
    let equilibrium_s = t0.elapsed().as_secs_f64();
    let mut summary = ExperimentSummary::default();
    summary.lines.push(format!(
        "{} users × {} sellers: {} rounds in {equilibrium_s:.2} s, converged = {} (last max price move {:.4} yuan/kWh)",
        opts.users,
        opts.sellers,
        report.rounds.len(),
        report.converged,
        report.rounds.last().map(|r| r.max_price_move).unwrap_or(f64::NAN)
    ));
    let mut eq = CsvOut::create(
        out.join("scale_equilibrium.csv"),
        "round,seller,peak,flat,valley,customers,expected_profit,cvar_loss,max_price_move",
    )?;
    for r in &report.rounds {
        for (k, (p, o)) in r
            .snapshot
            .prices
            .iter()
            .zip(&r.snapshot.outcomes)
            .enumerate()
        {
            eq.line(&format!(
                "{},{k},{:.4},{:.4},{:.4},{},{:.2},{:.2},{:.5}",
                r.round,
                p.peak_per_kwh,
                p.flat_per_kwh,
                p.valley_per_kwh,
                o.book.customers,
                o.expected_profit,
                o.cvar_loss,
                r.max_price_move
            ))?;
        }
    }
    summary.files.push(eq.finish()?);
    // The year: same contracts (assignment and prices), each day new users from that date's pool.
    let t1 = Instant::now();
    let mut year = CsvOut::create(
        out.join("scale_year.csv"),
        &format!(
            "date,mean_spot_per_kwh,purchases_kwh,moved_out_of_peak_kwh,mean_satisfaction,total_profit,{}",
            (0..opts.sellers)
                .map(|k| format!("profit_seller_{k}"))
                .collect::<Vec<_>>()
                .join(",")
        ),
    )?;
    let all = inputs.scenarios.clone();
    let n_days = days.min(all.len());
    let (mut profit_points, mut spot_points) = (Vec::new(), Vec::new());
    let mut total_profit = 0.0;
    for d in 0..n_days {
        let label = &all.labels[d];
        let date =
            NaiveDate::parse_from_str(label, "%Y-%m-%d").unwrap_or_else(|_| reference_date());
        let users = users_for_date(
            inputs,
            date,
            opts.users,
            opts.seed.wrapping_add(d as u64 + 1),
        )?;
        market.replace_consumers(users)?;
        market.set_scenarios(PriceScenarios {
            labels: vec![label.clone()],
            spot_per_kwh: vec![all.spot_per_kwh[d]],
        })?;
        let snap = market.snapshot()?;
        let profits: Vec<f64> = snap.outcomes.iter().map(|o| o.expected_profit).collect();
        let day_total: f64 = profits.iter().sum();
        total_profit += day_total;
        let purchases: f64 = snap
            .outcomes
            .iter()
            .map(|o| o.book.total_purchases_kwh())
            .sum();
        let mean_spot = all.spot_per_kwh[d].iter().sum::<f64>() / HOURS as f64;
        year.line(&format!(
            "{label},{mean_spot:.4},{purchases:.1},{:.1},{:.5},{day_total:.1},{}",
            snap.moved_out_of_peak_kwh,
            snap.mean_satisfaction,
            profits
                .iter()
                .map(|p| format!("{p:.1}"))
                .collect::<Vec<_>>()
                .join(",")
        ))?;
        profit_points.push((d as f64, day_total));
        spot_points.push((d as f64, mean_spot));
        progress(d as u64 + 1, n_days as u64, "year");
    }
    let year_s = t1.elapsed().as_secs_f64();
    summary.files.push(year.finish()?);
    summary.lines.push(format!(
        "{n_days} days with real NSW1 2017 prices in {year_s:.2} s; realised profit of all sellers {total_profit:.0} yuan"
    ));
    let mut price_series = Vec::new();
    for s in 0..opts.sellers {
        price_series.push(Series::new(
            format!("seller {s} peak"),
            report
                .rounds
                .iter()
                .map(|r| (r.round as f64, r.snapshot.prices[s].peak_per_kwh))
                .collect(),
        ));
    }
    let path = out.join("scale.svg");
    plot::line_panels(
        &path,
        &[
            Panel {
                title: "peak price per round (10 sellers)".into(),
                x_label: "round".into(),
                y_label: "yuan/kWh".into(),
                series: price_series,
            },
            Panel {
                title: "realised daily profit, all sellers".into(),
                x_label: "day of 2017".into(),
                y_label: "yuan".into(),
                series: vec![Series::new("profit", profit_points)],
            },
            Panel {
                title: "daily mean spot price".into(),
                x_label: "day of 2017".into(),
                y_label: "yuan/kWh".into(),
                series: vec![Series::new("NSW1 × 0.01", spot_points)],
            },
        ],
        3,
    )?;
    summary.files.push(path);
    let mut timing = CsvOut::create(out.join("scale_timing.csv"), "stage,seconds")?;
    timing.line(&format!("equilibrium_one_day,{equilibrium_s:.3}"))?;
    timing.line(&format!("year_{n_days}_days,{year_s:.3}"))?;
    summary.files.push(timing.finish()?);
    Ok(summary)
}
