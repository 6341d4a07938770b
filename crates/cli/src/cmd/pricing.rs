//! `voltex pricing ...` and `voltex bench pricing`: parse arguments, call
//! voltex-pricing, print results and show progress. No pricing rule lives here.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use voltex_pricing::experiments::{self, Inputs, SolveOptions};
use voltex_pricing::ga::GaSettings;

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
    /// Solve the sellers' competition on the reference day (2017-07-12).
    Solve {
        #[arg(long, default_value_t = 1000)]
        users: usize,
        #[arg(long, default_value_t = 3)]
        sellers: usize,
        /// Comfort coefficient ω (yuan/kWh).
        #[arg(long, default_value_t = 30.0)]
        comfort: f64,
        /// Risk aversion β (weight of CVaR95 of loss).
        #[arg(long, default_value_t = 0.0)]
        risk: f64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Round limit of the best-response loop.
        #[arg(long, default_value_t = 8)]
        rounds: usize,
    },
    /// Run an experiment: convergence, comfort-sweep, risk-sweep, community, scale.
    Experiment {
        name: ExperimentName,
        /// Output directory (CSV and SVG).
        #[arg(long, default_value = "pricing-output")]
        out: PathBuf,
        /// Users (default: 1000, or 5000 for scale).
        #[arg(long)]
        users: Option<usize>,
        /// Sellers (default: 3, or 10 for scale).
        #[arg(long)]
        sellers: Option<usize>,
        #[arg(long, default_value_t = 30.0)]
        comfort: f64,
        #[arg(long, default_value_t = 0.0)]
        risk: f64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Days of 2017 simulated by `scale`.
        #[arg(long, default_value_t = 365)]
        days: usize,
        /// Round limit of the best-response loop (default: 8, or 6 for scale).
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

/// The experiments of docs/pricing.md.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ExperimentName {
    Convergence,
    ComfortSweep,
    RiskSweep,
    Community,
    Scale,
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
            users,
            sellers,
            comfort,
            risk,
            seed,
            rounds,
        } => {
            let inputs = load(seed)?;
            let opts = SolveOptions {
                users,
                sellers,
                comfort,
                risk,
                seed,
                max_rounds: rounds,
                ..SolveOptions::default()
            };
            let pb = bar("best responses");
            let t = Instant::now();
            let (market, report) = experiments::solve(&inputs, &opts, &|done, total, msg| {
                pb.set_length(total);
                pb.set_position(done);
                pb.set_message(msg.to_string());
            })?;
            pb.finish_and_clear();
            println!(
                "{users} users, {sellers} sellers, ω = {comfort}, β = {risk}: {} rounds in {:.2} s, converged = {}",
                report.rounds.len(),
                t.elapsed().as_secs_f64(),
                report.converged
            );
            for r in &report.rounds {
                println!(
                    "  round {}: max price move {:.4} yuan/kWh, customers {:?}",
                    r.round, r.max_price_move, r.customers
                );
            }
            let snap = market.snapshot()?;
            println!(
                "seller  peak   flat   valley  customers  avg price  E[profit]  CVaR95(loss)  (yuan/kWh, yuan/day)"
            );
            for (k, (p, o)) in snap.prices.iter().zip(&snap.outcomes).enumerate() {
                println!(
                    "{k:>6}  {:.3}  {:.3}  {:.3}   {:>9}  {:>9.3}  {:>9.0}  {:>12.0}",
                    p.peak_per_kwh,
                    p.flat_per_kwh,
                    p.valley_per_kwh,
                    o.book.customers,
                    o.average_price_per_kwh,
                    o.expected_profit,
                    o.cvar_loss
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
            days,
            rounds,
            step,
        } => {
            let inputs = load(seed)?;
            let base = match name {
                ExperimentName::Scale => experiments::scale_options(seed),
                _ => SolveOptions {
                    seed,
                    ..SolveOptions::default()
                },
            };
            let opts = SolveOptions {
                users: users.unwrap_or(base.users),
                sellers: sellers.unwrap_or(base.sellers),
                comfort,
                risk,
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
    #[arg(long, default_value_t = 5000)]
    users: usize,
    #[arg(long, default_value_t = 10)]
    sellers: usize,
    /// Repetitions of the single fitness evaluation.
    #[arg(long, default_value_t = 50)]
    repeats: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Skip the equilibrium part (fitness evaluation only).
    #[arg(long)]
    fitness_only: bool,
}

pub fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let inputs = load(args.seed)?;
    println!("threads: {}", rayon_threads());
    // 1. One upper-level fitness evaluation over all device-free users (monopoly: every user is evaluated).
    let opts = SolveOptions {
        users: args.users,
        sellers: 1,
        seed: args.seed,
        ..SolveOptions::default()
    };
    let market = experiments::build_market(&inputs, &opts)?;
    let candidate = voltex_pricing::tou::TouPrices::new(1.6, 1.2, 0.8);
    let mut times = Vec::with_capacity(args.repeats);
    let mut sink = 0.0;
    for _ in 0..args.repeats.max(1) {
        let t = Instant::now();
        let o = market.evaluate_candidate(0, &candidate)?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        sink += o.objective;
    }
    times.sort_by(f64::total_cmp);
    println!(
        "fitness evaluation, {} device-free users, {} scenarios: median {:.3} ms, min {:.3} ms, max {:.3} ms (target < 5 ms) [checksum {:.1}]",
        args.users,
        inputs.scenarios.len(),
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        sink / times.len() as f64
    );
    if args.fitness_only {
        return Ok(());
    }
    // 2. The 5,000 × 10 one-day equilibrium with the scale settings.
    let opts = SolveOptions {
        users: args.users,
        sellers: args.sellers,
        ..experiments::scale_options(args.seed)
    };
    let pb = bar("equilibrium");
    let t = Instant::now();
    let (_, report) = experiments::solve(&inputs, &opts, &|done, total, msg| {
        pb.set_length(total);
        pb.set_position(done);
        pb.set_message(msg.to_string());
    })?;
    pb.finish_and_clear();
    let evaluations: usize = report
        .rounds
        .iter()
        .flat_map(|r| r.responses.iter().map(|b| b.ga.evaluations))
        .sum();
    let ga: &GaSettings = &opts.ga;
    println!(
        "equilibrium, {} users × {} sellers: {:.2} s (target < 10 s), {} rounds, converged = {}, {} GA fitness evaluations (population {}, ≤ {} generations)",
        args.users,
        args.sellers,
        t.elapsed().as_secs_f64(),
        report.rounds.len(),
        report.converged,
        evaluations,
        ga.population,
        ga.generations
    );
    Ok(())
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}
