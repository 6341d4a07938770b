//! `voltex pricing ...` and `voltex bench pricing`: parse arguments, call
//! voltex-pricing, print results and show progress. No pricing rule lives here.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use voltex_pricing::choice::{ChoiceModel, LogitChoice};
use voltex_pricing::experiments::{self, Inputs, SolveOptions};
use voltex_pricing::market::EquilibriumReport;

/// Sub-commands of `voltex pricing`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Classify household load curves with fuzzy C-means and report the clusters.
    Classify {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also write classification.csv and classification_centres.svg here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Solve the sellers' competition on the reference day (2017-07-12) to a
    /// certified equilibrium (every seller's regret < 0.5 % of its profit).
    /// Defaults: those of `voltex bench pricing` (one source, the library).
    Solve {
        #[command(flatten)]
        market: MarketArgs,
        /// Round limit of the best-response loop (default: the library's).
        #[arg(long)]
        rounds: Option<usize>,
        /// Also write the result (certificate, regrets, prices) as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Run an experiment: convergence, comfort-sweep, risk-sweep, community, scale, reference.
    Experiment {
        name: ExperimentName,
        /// Output directory (CSV and SVG).
        #[arg(long, default_value = "pricing-output")]
        out: PathBuf,
        /// Users (default: 1000, or 5000 for scale, 200 for reference).
        #[arg(long)]
        users: Option<usize>,
        /// Sellers (default: 3, or 10 for scale; reference has one).
        #[arg(long)]
        sellers: Option<usize>,
        #[arg(long, default_value_t = 30.0)]
        comfort: f64,
        #[arg(long, default_value_t = 0.0)]
        risk: f64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Choice model of the users.
        #[arg(long, value_enum, default_value = "logit")]
        choice: ChoiceArg,
        /// Days of 2017 simulated by `scale`.
        #[arg(long, default_value_t = 365)]
        days: usize,
        /// Round limit of the best-response loop (default: the library's).
        #[arg(long)]
        rounds: Option<usize>,
        /// full: sellers jump to their best response; harmonic: a 1/r share
        /// of the way in round r (running average of best responses).
        #[arg(long, value_enum, default_value = "full")]
        step: StepArg,
    },
    /// Write the small extracts shipped under data/household/ from the shared data.
    ExtractData {
        #[arg(long, default_value = "data/household")]
        out: PathBuf,
    },
}

/// How far sellers move towards their best response each round.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum StepArg {
    Full,
    Harmonic,
}

/// How users choose their seller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ChoiceArg {
    /// Logit probabilities with switching cost and brand premiums (has an equilibrium).
    Logit,
    /// Move only for a saving above 2 % (Bertrand-like; no pure equilibrium, cycles).
    Threshold,
}

/// The market a pricing command solves; every value left out takes the
/// library's default (`SolveOptions::default`).
#[derive(Debug, Clone, clap::Args)]
pub struct MarketArgs {
    #[arg(long)]
    users: Option<usize>,
    #[arg(long)]
    sellers: Option<usize>,
    /// Comfort coefficient ω (yuan/kWh).
    #[arg(long)]
    comfort: Option<f64>,
    /// Risk aversion β (weight of CVaR95 of loss).
    #[arg(long)]
    risk: Option<f64>,
    #[arg(long)]
    seed: Option<u64>,
    /// Choice model of the users.
    #[arg(long, value_enum, default_value = "logit")]
    choice: ChoiceArg,
    /// Logit: scale σ of the taste shocks (yuan/kWh).
    #[arg(long)]
    logit_scale: Option<f64>,
    /// Logit: switching cost φ of leaving the incumbent seller (yuan/kWh).
    #[arg(long)]
    switching_cost: Option<f64>,
    /// Logit: spread of the sellers' brand premiums (yuan/kWh; 0 = identical sellers).
    #[arg(long)]
    brand_spread: Option<f64>,
}

impl MarketArgs {
    /// The options: these arguments over `base`.
    fn options(&self, base: SolveOptions) -> SolveOptions {
        let logit = match base.choice {
            ChoiceModel::Logit(l) => l,
            ChoiceModel::Threshold { .. } => LogitChoice::default(),
        };
        let choice = match self.choice {
            ChoiceArg::Logit => ChoiceModel::Logit(LogitChoice {
                scale_per_kwh: self.logit_scale.unwrap_or(logit.scale_per_kwh),
                switching_cost_per_kwh: self.switching_cost.unwrap_or(logit.switching_cost_per_kwh),
                brand_spread_per_kwh: self.brand_spread.unwrap_or(logit.brand_spread_per_kwh),
            }),
            ChoiceArg::Threshold => ChoiceModel::threshold(),
        };
        SolveOptions {
            users: self.users.unwrap_or(base.users),
            sellers: self.sellers.unwrap_or(base.sellers),
            comfort: self.comfort.unwrap_or(base.comfort),
            risk: self.risk.unwrap_or(base.risk),
            seed: self.seed.unwrap_or(base.seed),
            choice,
            ..base
        }
    }
}

fn describe(opts: &SolveOptions) -> String {
    let choice = match opts.choice {
        ChoiceModel::Logit(l) => format!(
            "logit (σ = {} yuan/kWh, switching cost φ = {} yuan/kWh, brand spread {} yuan/kWh)",
            l.scale_per_kwh, l.switching_cost_per_kwh, l.brand_spread_per_kwh
        ),
        ChoiceModel::Threshold {
            switching_threshold,
        } => format!("threshold (switch for a saving above {switching_threshold})"),
    };
    format!(
        "{} users, {} sellers, ω = {} yuan/kWh, β = {}, seed {}, choice {choice}; GA population {}, ≤ {} generations (stall {}), polish from step {} to {} yuan/kWh (≤ {} evaluations), ≤ {} rounds, regret tolerance {} %",
        opts.users,
        opts.sellers,
        opts.comfort,
        opts.risk,
        opts.seed,
        opts.ga.population,
        opts.ga.generations,
        opts.ga.stall_generations,
        opts.polish.initial_step,
        opts.polish.min_step,
        opts.polish.max_evaluations,
        opts.max_rounds,
        100.0 * opts.regret_tolerance
    )
}

/// Solve with a progress bar over rounds that shows the largest regret.
fn solve_with_progress(
    inputs: &Inputs,
    opts: &SolveOptions,
) -> anyhow::Result<(voltex_pricing::market::Market, EquilibriumReport)> {
    let pb = bar("equilibrium");
    let result = experiments::solve(inputs, opts, &|done, total, msg| {
        pb.set_length(total);
        pb.set_position(done);
        pb.set_message(msg.to_string());
    });
    pb.finish_and_clear();
    Ok(result?)
}

/// The Check line of issue 18.
fn equilibrium_line(report: &EquilibriumReport, seconds: f64) -> String {
    format!(
        "equilibrium: converged={} rounds={} max_regret_pct={:.3} seconds={:.2}",
        report.converged,
        report.rounds.len(),
        report.certificate.max_regret_pct(),
        seconds
    )
}

/// The experiments of docs/pricing.md.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ExperimentName {
    Convergence,
    ComfortSweep,
    RiskSweep,
    Community,
    Scale,
    /// One seller's best response in a 200-user market, written out for
    /// bench/pricing-reference (Python) and solved by Voltex.
    Reference,
}

fn bar(label: &str) -> ProgressBar {
    let pb = ProgressBar::new(1);
    pb.set_style(
        ProgressStyle::with_template("{prefix} [{elapsed_precise}] {bar:40} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb.set_prefix(label.to_string());
    pb
}

fn load(seed: u64) -> anyhow::Result<Inputs> {
    let t = Instant::now();
    let inputs =
        experiments::load_inputs(seed).context("loading household data and price scenarios")?;
    eprintln!(
        "loaded {} household-days ({}), {} price scenarios ({}), classified into {} clusters in {:.1} s",
        inputs.days.len(),
        inputs.days_source,
        inputs.scenarios.len(),
        inputs.scenarios_source,
        inputs.classification.chosen_clusters,
        t.elapsed().as_secs_f64()
    );
    Ok(inputs)
}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Classify { seed, out } => classify(seed, out),
        Command::Solve {
            market,
            rounds,
            json,
        } => {
            let start = Instant::now();
            let base = SolveOptions::default();
            let opts = SolveOptions {
                max_rounds: rounds.unwrap_or(base.max_rounds),
                ..market.options(base)
            };
            let inputs = load(opts.seed)?;
            println!("{}", describe(&opts));
            let t = Instant::now();
            let (market, report) = solve_with_progress(&inputs, &opts)?;
            let solve_s = t.elapsed().as_secs_f64();
            println!(
                "{} distinct controllable shapes among {} users; {} rounds in {solve_s:.2} s",
                market.shape_groups(),
                opts.users,
                report.rounds.len()
            );
            for r in &report.rounds {
                println!(
                    "  round {}: largest regret {:.1} yuan/day ({:.3} % of profit){}",
                    r.round,
                    r.max_regret,
                    r.max_regret_pct,
                    if r.certified {
                        " -> certified".to_string()
                    } else if r.max_price_move > 0.0 {
                        format!(", prices moved up to {:.4} yuan/kWh", r.max_price_move)
                    } else {
                        String::new()
                    }
                );
            }
            let snap = market.snapshot()?;
            let cert = &report.certificate;
            println!(
                "seller  peak   flat   valley  customers  avg price  E[profit]  CVaR95(loss)  regret  regret %  (yuan/kWh, yuan/day)"
            );
            for (k, (p, o)) in snap.prices.iter().zip(&snap.outcomes).enumerate() {
                println!(
                    "{k:>6}  {:.3}  {:.3}  {:.3}   {:>9.1}  {:>9.3}  {:>9.0}  {:>12.0}  {:>6.1}  {:>8.3}",
                    p.peak_per_kwh,
                    p.flat_per_kwh,
                    p.valley_per_kwh,
                    o.book.customers,
                    o.average_price_per_kwh,
                    o.expected_profit,
                    o.cvar_loss,
                    cert.regret[k],
                    cert.regret_pct[k]
                );
            }
            println!(
                "energy moved in time {:.0} kWh, out of peak {:.0} kWh, into valley {:.0} kWh; satisfaction mean {:.4}, min {:.4}",
                snap.transferred_kwh,
                snap.moved_out_of_peak_kwh,
                snap.moved_into_valley_kwh,
                snap.mean_satisfaction,
                snap.min_satisfaction
            );
            let seconds = start.elapsed().as_secs_f64();
            if let Some(path) = json {
                let value = experiments::equilibrium_json(&opts, &market, &report, seconds)?;
                std::fs::write(&path, serde_json::to_string_pretty(&value)?)
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("wrote {}", path.display());
            }
            println!("{}", equilibrium_line(&report, seconds));
            Ok(())
        }
        Command::Experiment {
            name,
            out,
            users,
            sellers,
            comfort,
            risk,
            seed,
            choice,
            days,
            rounds,
            step,
        } => {
            let inputs = load(seed)?;
            let base = match name {
                ExperimentName::Scale => experiments::scale_options(seed),
                ExperimentName::Reference => SolveOptions {
                    users: experiments::REFERENCE_USERS,
                    ..experiments::experiment_options(seed)
                },
                _ => experiments::experiment_options(seed),
            };
            let opts = SolveOptions {
                users: users.unwrap_or(base.users),
                sellers: sellers.unwrap_or(base.sellers),
                comfort,
                risk,
                choice: match choice {
                    ChoiceArg::Logit => base.choice,
                    ChoiceArg::Threshold => ChoiceModel::threshold(),
                },
                max_rounds: rounds.unwrap_or(base.max_rounds),
                step: match step {
                    StepArg::Full => voltex_pricing::market::PriceStep::Full,
                    StepArg::Harmonic => voltex_pricing::market::PriceStep::Harmonic,
                },
                ..base
            };
            let pb = bar(&format!("{name:?}"));
            let progress = |done: u64, total: u64, msg: &str| {
                pb.set_length(total);
                pb.set_position(done);
                pb.set_message(msg.to_string());
            };
            let t = Instant::now();
            let summary = match name {
                ExperimentName::Convergence => {
                    experiments::convergence(&inputs, &opts, &out, &progress)?
                }
                ExperimentName::ComfortSweep => {
                    experiments::comfort_sweep(&inputs, &opts, &out, &progress)?
                }
                ExperimentName::RiskSweep => {
                    experiments::risk_sweep(&inputs, &opts, &out, &progress)?
                }
                ExperimentName::Community => {
                    experiments::community(&inputs, &opts, &out, &progress)?
                }
                ExperimentName::Scale => experiments::scale(&inputs, &opts, days, &out, &progress)?,
                ExperimentName::Reference => {
                    experiments::reference(&inputs, &opts, &out, &progress)?
                }
            };
            pb.finish_and_clear();
            for line in &summary.lines {
                println!("{line}");
            }
            println!("finished in {:.1} s; wrote:", t.elapsed().as_secs_f64());
            for f in &summary.files {
                println!("  {}", f.display());
            }
            Ok(())
        }
        Command::ExtractData { out } => extract(out),
    }
}

fn classify(seed: u64, out: Option<PathBuf>) -> anyhow::Result<()> {
    let inputs = load(seed)?;
    let c = &inputs.classification;
    println!("Xie–Beni index by number of clusters (m = 2):");
    for (k, xb) in &c.xie_beni_by_count {
        println!(
            "  c = {k}: {xb:.5}{}",
            if *k == c.chosen_clusters {
                "  <- chosen"
            } else {
                ""
            }
        );
    }
    println!(
        "cluster  days   peak/valley  load factor  valley share  controlled share  label         κ"
    );
    for cl in &c.clusters {
        println!(
            "{:>7}  {:>5}  {:>11.2}  {:>11.3}  {:>12.3}  {:>16.3}  {:<12}  {:.3}",
            cl.index,
            cl.days,
            cl.shape.peak_valley_ratio,
            cl.shape.load_factor,
            cl.shape.flexible_share,
            cl.measured_controlled_share,
            if cl.controllable {
                "controllable"
            } else {
                "other"
            },
            cl.controllable_fraction
        );
    }
    let v = &c.validation;
    println!(
        "validation against the controlled-load channel: mean controlled share {:.3} (controllable) vs {:.3} (other); AUC {:.3} for {} of {} days with ≥ 10 % controlled load",
        v.controlled_share_in_controllable,
        v.controlled_share_in_other,
        v.auc,
        v.positive_days,
        v.days
    );
    if let Some(dir) = out {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut csv = String::from(
            "cluster,days,peak_valley_ratio,load_factor,valley_share,controlled_share,controllable,kappa",
        );
        for h in 0..24 {
            csv.push_str(&format!(",h{h:02}"));
        }
        csv.push('\n');
        for cl in &c.clusters {
            csv.push_str(&format!(
                "{},{},{:.4},{:.4},{:.4},{:.4},{},{:.4}",
                cl.index,
                cl.days,
                cl.shape.peak_valley_ratio,
                cl.shape.load_factor,
                cl.shape.flexible_share,
                cl.measured_controlled_share,
                cl.controllable,
                cl.controllable_fraction
            ));
            for v in &cl.centre {
                csv.push_str(&format!(",{v:.5}"));
            }
            csv.push('\n');
        }
        let path = dir.join("classification.csv");
        std::fs::write(&path, csv).with_context(|| format!("writing {}", path.display()))?;
        let svg = dir.join("classification_centres.svg");
        c.write_centres_svg(&svg)?;
        println!("wrote {} and {}", path.display(), svg.display());
    }
    Ok(())
}

fn extract(out: PathBuf) -> anyhow::Result<()> {
    use voltex_pricing::data;
    let household = voltex_formats::datadir::shared_data_file(data::HOUSEHOLD_SHARED_FILE)
        .context("the shared household data is not present (set VOLTEX_DATA_DIR)")?;
    let prices = voltex_formats::datadir::shared_data_file(data::NSW1_SHARED_FILE)
        .context("the shared AEMO NSW1 data is not present (set VOLTEX_DATA_DIR)")?;
    std::fs::create_dir_all(&out)?;
    let days = data::read_aer_survey(&household)?;
    // Two fortnights (summer and winter of 2013) of every household.
    let keep: Vec<_> = days
        .into_iter()
        .filter(|d| {
            let s = d.date.format("%Y-%m-%d").to_string();
            ("2013-01-05".."2013-01-19").contains(&s.as_str())
                || ("2013-07-05".."2013-07-19").contains(&s.as_str())
        })
        .collect();
    let path = out.join("household_days_hourly_extract.csv");
    data::write_household_extract(&keep, &path)?;
    println!("wrote {} household-days to {}", keep.len(), path.display());
    let rrp = data::read_nsw1_hourly_rrp(&prices, 2017)?;
    let path = out.join("nsw1_2017_hourly_rrp.csv");
    data::write_price_extract(&rrp, &path)?;
    println!(
        "wrote {} days of hourly RRP to {}",
        rrp.len(),
        path.display()
    );
    Ok(())
}

/// Arguments of `voltex bench pricing`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// The market (defaults: the library's, as for `voltex pricing solve`).
    #[command(flatten)]
    market: MarketArgs,
    /// Repetitions of the single fitness evaluation.
    #[arg(long, default_value_t = 50)]
    repeats: usize,
    /// Skip the equilibrium part (fitness evaluation only).
    #[arg(long)]
    fitness_only: bool,
}

pub fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    let opts = args.market.options(SolveOptions::default());
    let inputs = load(opts.seed)?;
    println!("threads: {}", rayon_threads());
    // 1. One upper-level fitness evaluation over all users (monopoly: every user buys from it).
    let monopoly = SolveOptions { sellers: 1, ..opts };
    let market = experiments::build_market(&inputs, &monopoly)?;
    let candidate = voltex_pricing::tou::TouPrices::new(1.6, 1.2, 0.8);
    let mut times = Vec::with_capacity(args.repeats);
    let mut sink = 0.0;
    let view = market.view(0)?;
    for _ in 0..args.repeats.max(1) {
        let t = Instant::now();
        let o = view.outcome(&candidate)?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        sink += o.objective;
    }
    times.sort_by(f64::total_cmp);
    println!(
        "fitness evaluation, {} users ({} distinct controllable shapes), {} scenarios: median {:.3} ms, min {:.3} ms, max {:.3} ms (target < 5 ms) [checksum {:.1}]",
        opts.users,
        market.shape_groups(),
        inputs.scenarios.len(),
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        sink / times.len() as f64
    );
    if args.fitness_only {
        return Ok(());
    }
    // 2. The equilibrium exactly as `voltex pricing solve` runs it (same function, same options).
    println!("{}", describe(&opts));
    let t = Instant::now();
    let (_, report) = solve_with_progress(&inputs, &opts)?;
    let evaluations: usize = report
        .rounds
        .iter()
        .flat_map(|r| {
            r.responses
                .iter()
                .map(|b| b.ga.evaluations + b.polish_evaluations)
        })
        .sum();
    println!(
        "equilibrium, {} users × {} sellers: {:.2} s of solving (target < 10 s for the whole command), {} rounds, converged = {}, {} fitness evaluations",
        opts.users,
        opts.sellers,
        t.elapsed().as_secs_f64(),
        report.rounds.len(),
        report.converged,
        evaluations
    );
    println!(
        "{}",
        equilibrium_line(&report, start.elapsed().as_secs_f64())
    );
    Ok(())
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}
