//! `voltex uc solve`: read a PGLib-UC instance, commit units with
//! voltex-clearing's SCUC (MILP to the requested gap, then pricing with the
//! commitment fixed), write the schedule, prices and uplift as JSON and
//! print a summary ending in the `uc:` line. Thin: the model is in
//! voltex_clearing::uc.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use voltex_clearing::uc::pglib::read_pglib_uc;
use voltex_clearing::uc::solve_uc_with_progress;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Solve a PGLib-UC JSON instance (`.json` or `.json.gz`).
    Solve(SolveArgs),
}

/// Arguments of `voltex uc solve`.
#[derive(Debug, clap::Args)]
pub struct SolveArgs {
    /// PGLib-UC instance file.
    #[arg(long)]
    case: PathBuf,
    /// Write the commitment, dispatch, prices and uplift here (JSON).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Relative MIP gap at which the MILP stops (1e-4 = 0.01 %).
    #[arg(long, default_value_t = 1e-4)]
    gap: f64,
    /// Time limit of the MILP in seconds (the best schedule found is priced).
    #[arg(long)]
    time_limit: Option<f64>,
}

pub fn run(c: Command) -> anyhow::Result<()> {
    match c {
        Command::Solve(a) => solve(a),
    }
}

fn solve(args: SolveArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut input = read_pglib_uc(&args.case)?;
    input.settings.mip_gap = args.gap;
    input.settings.time_limit_s = args.time_limit;
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("static template"),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let name = input.name.clone();
    let result = solve_uc_with_progress(&input, &mut |stage| {
        bar.set_message(format!("{name}: {stage}"));
    });
    bar.finish_and_clear();
    let result = result?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "case {}: {} periods, {} thermal units, {} renewable units; MILP {} columns, {} rows",
        result.name,
        result.periods,
        input.thermal.len(),
        input.renewable.len(),
        result.columns,
        result.rows
    );
    println!(
        "status {}, best bound {:.2} $, MILP {:.2} s, pricing {:.2} s",
        result.status, result.best_bound, result.milp_seconds, result.pricing_seconds
    );
    let (lo, hi) = result
        .energy_price_per_mwh
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &p| {
            (a.min(p), b.max(p))
        });
    println!(
        "energy price $/MWh min {lo:.4} max {hi:.4}; uplift {:.2} $ to {} units",
        result.total_uplift,
        result.units.iter().filter(|u| u.uplift > 1e-6).count()
    );
    for w in &result.warnings {
        println!("warning: {w}");
    }
    if let Some(path) = &args.out {
        std::fs::write(path, serde_json::to_vec_pretty(&result)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("results written to {}", path.display());
    }
    println!(
        "uc: objective={:.2} gap={:.6} seconds={:.3} committed_units={}",
        result.objective, result.mip_gap, seconds, result.committed_units
    );
    Ok(())
}
