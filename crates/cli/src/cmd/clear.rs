//! `voltex clear` and `voltex bench clearing`: read a MATPOWER case (and
//! optionally offers, bids and a load shape), run voltex-clearing, write the
//! results and print a summary. Thin: all market logic is in voltex-clearing.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use voltex_clearing::bench;
use voltex_clearing::offers::{apply_offers_csv, apply_offers_json};
use voltex_clearing::{
    BranchSet, ClearingInput, ClearingResult, ClearingSettings, CostMode, EmergencyRating,
    FromCaseOptions, SecuritySettings, clear_with_progress, load_shape,
};
use voltex_formats::matpower::parse_case_file;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CostModeArg {
    Steps,
    Polynomial,
}

/// Arguments of `voltex clear`.
#[derive(Debug, clap::Args)]
pub struct ClearArgs {
    /// MATPOWER case file (.m).
    #[arg(long, required_unless_present = "input", conflicts_with = "input")]
    case: Option<PathBuf>,
    /// Replay a complete clearing input instead of building one from a case:
    /// a `ClearingInput` JSON, or a stored clearing run as served by
    /// `GET /api/v1/sessions/{id}/clearing-run` (its `value.input` is used and
    /// its fingerprint checked, so a published result can be reproduced).
    #[arg(long)]
    input: Option<PathBuf>,
    /// Offers and bids, JSON or CSV (by extension); see docs/clearing.md for the schema.
    #[arg(long)]
    offers: Option<PathBuf>,
    /// Number of intervals.
    #[arg(long, default_value_t = 24)]
    intervals: usize,
    /// JSON array with one load factor per interval (default: ISO-NE 2017-01-09, hourly, resampled).
    #[arg(long)]
    load_shape: Option<PathBuf>,
    /// steps: market clearing on step offers (LP); polynomial: the case's quadratic costs (QP).
    #[arg(long, value_enum, default_value = "steps")]
    cost_mode: CostModeArg,
    /// Output folder for result.json and the CSV files.
    #[arg(long, default_value = "voltex-clear-out")]
    out: PathBuf,
    /// Step segments per unit derived from the cost polynomial.
    #[arg(long, default_value_t = 5)]
    segments: usize,
    /// Value of lost load, $/MWh.
    #[arg(long, default_value_t = 10_000.0)]
    voll: f64,
    /// Ramp limit as a fraction of pmax per interval for units without ramp data.
    #[arg(long)]
    ramp_fraction: Option<f64>,
    /// Ignore branch limits (copper plate).
    #[arg(long)]
    no_branch_limits: bool,
    /// Also solve the full B-θ formulation with Clarabel and compare objective and LMPs.
    #[arg(long)]
    cross_check: bool,
    /// N-1 secure dispatch: post-contingency flows within emergency ratings.
    #[arg(long = "n-1")]
    n_1: bool,
    /// With --n-1: branch outages to study, as branch indices from 0 (default: every branch).
    #[arg(long, value_delimiter = ',', requires = "n_1")]
    contingencies: Vec<usize>,
    /// With --n-1: branches whose post-contingency flow is limited (default: every rated branch).
    #[arg(long, value_delimiter = ',', requires = "n_1")]
    monitored: Vec<usize>,
    /// With --n-1: when N-1 cannot be met, keep the secure dispatch with priced
    /// shortfalls (load at risk) instead of failing.
    #[arg(long, requires = "n_1")]
    allow_shortfall: bool,
    /// With --n-1: the rating that bounds post-contingency flows.
    #[arg(long, value_enum, default_value = "rate-c", requires = "n_1")]
    emergency_rating: EmergencyRatingArg,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum EmergencyRatingArg {
    RateA,
    RateB,
    RateC,
}

/// The N-1 study the flags ask for (None without --n-1).
fn security_settings(args: &ClearArgs) -> Option<SecuritySettings> {
    let set = |list: &Vec<usize>| {
        if list.is_empty() {
            BranchSet::All
        } else {
            BranchSet::Branches(list.clone())
        }
    };
    args.n_1.then(|| SecuritySettings {
        contingencies: set(&args.contingencies),
        monitored: set(&args.monitored),
        emergency_rating: match args.emergency_rating {
            EmergencyRatingArg::RateA => EmergencyRating::RateA,
            EmergencyRatingArg::RateB => EmergencyRating::RateB,
            EmergencyRatingArg::RateC => EmergencyRating::RateC,
        },
        allow_shortfall: args.allow_shortfall,
    })
}

/// Reads `--input`: a bare input, or a stored run whose fingerprint must match.
fn read_input(path: &std::path::Path) -> anyhow::Result<ClearingInput> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let run = json.get("value").unwrap_or(&json);
    let Some(stored) = run.get("input") else {
        return serde_json::from_value(json).context("reading a ClearingInput");
    };
    let input: ClearingInput =
        serde_json::from_value(stored.clone()).context("reading the run's input")?;
    if let Some(expected) = run.get("fingerprint").and_then(|f| f.as_str()) {
        let actual = voltex_market::dispatch::fingerprint(&input);
        if actual != expected {
            bail!("the run's input hashes to {actual}, not its recorded fingerprint {expected}");
        }
        println!("input fingerprint {actual} matches the stored run");
    }
    Ok(input)
}

fn build_input(args: &ClearArgs) -> anyhow::Result<(ClearingInput, f64)> {
    let t0 = Instant::now();
    if let Some(path) = &args.input {
        let mut input = read_input(path)?;
        if args.n_1 {
            input.settings.security = security_settings(args);
        }
        return Ok((input, t0.elapsed().as_secs_f64() * 1e3));
    }
    let case_path = args
        .case
        .as_ref()
        .context("--case or --input is required")?;
    let case = parse_case_file(case_path)
        .with_context(|| format!("reading case {}", case_path.display()))?;
    let parse_ms = t0.elapsed().as_secs_f64() * 1e3;
    let shape = match &args.load_shape {
        Some(p) => load_shape::read_load_shape(p)?,
        None => load_shape::ISONE_2017_01_09.to_vec(),
    };
    let load_scale = if args.intervals == 1 && args.load_shape.is_none() {
        vec![1.0]
    } else {
        load_shape::resample(&shape, args.intervals)
    };
    if load_scale.len() != args.intervals {
        bail!(
            "the load shape has {} factors; it must have {} (or 24 to be resampled)",
            shape.len(),
            args.intervals
        );
    }
    let settings = ClearingSettings {
        cost_mode: match args.cost_mode {
            CostModeArg::Steps => CostMode::Steps,
            CostModeArg::Polynomial => CostMode::Polynomial,
        },
        value_of_lost_load_per_mwh: args.voll,
        enforce_branch_limits: !args.no_branch_limits,
        security: security_settings(args),
        ..ClearingSettings::default()
    };
    let options = FromCaseOptions {
        intervals: args.intervals,
        segments: args.segments,
        load_scale,
        default_ramp_fraction: args.ramp_fraction,
        settings,
    };
    let mut input = ClearingInput::from_case(&case, &options);
    if let Some(path) = &args.offers {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading offers {}", path.display()))?;
        match path.extension().and_then(|e| e.to_str()) {
            Some("csv") => apply_offers_csv(&mut input, &text)?,
            _ => apply_offers_json(&mut input, &text)?,
        }
    }
    Ok((input, parse_ms))
}

fn run_with_spinner(input: &ClearingInput, label: &str) -> anyhow::Result<ClearingResult> {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("static template"),
    );
    bar.set_message(format!("{label}: building"));
    bar.enable_steady_tick(Duration::from_millis(120));
    let result = clear_with_progress(input, &mut |r| {
        bar.set_message(format!(
            "{label}: round {} solved ({:?}, {:.0} ms), {} violations, +{} rows",
            r.round, r.strategy, r.solve_ms, r.violations, r.added_rows
        ));
    });
    bar.finish_and_clear();
    Ok(result?)
}

pub fn run(args: ClearArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let (input, parse_ms) = build_input(&args)?;
    let result = run_with_spinner(&input, &input.network.name)?;
    result.write_to_dir(&args.out)?;
    let s = result.summary();
    let st = &result.stats;
    println!(
        "case {}: {} buses, {} branches, {} units, {} intervals, cost mode {:?}",
        input.network.name,
        input.network.buses.len(),
        input.network.branches.len(),
        input.units.len(),
        input.intervals,
        input.settings.cost_mode
    );
    println!(
        "objective           {:.4} $ (welfare {:.4} $)",
        s.objective, result.welfare
    );
    println!(
        "binding branches    {} ({} branch-intervals), binding sections {}",
        s.binding_branches, s.binding_branch_intervals, s.binding_sections
    );
    println!(
        "LMP $/MWh           min {:.4}  mean {:.4}  max {:.4}",
        s.min_lmp, s.mean_lmp, s.max_lmp
    );
    println!(
        "shortfall           {:.3} MWh, over-generation {:.3} MWh",
        s.shortfall_mwh, s.surplus_mwh
    );
    let strategies: Vec<String> = st
        .rounds
        .iter()
        .map(|r| format!("{:?}", r.strategy))
        .collect();
    println!(
        "rounds              {} ({}), network rows {}",
        st.rounds.len(),
        strategies.join(", "),
        st.network_rows
    );
    if input.settings.security.is_some() {
        println!(
            "N-1                 {} outages studied ({} islanding skipped), {} contingency rows, {} binding (monitored, outage, interval)",
            st.contingencies_studied,
            st.islanding_contingencies.len(),
            st.contingency_rows,
            s.binding_contingency_intervals
        );
    }
    println!(
        "time ms             parse {:.1}, build {:.1}, network/PTDF {:.1}, solve {:.1}, prices {:.1}, total {:.1}",
        parse_ms,
        st.build_ms,
        st.ptdf_ms,
        st.solve_ms,
        st.pricing_ms,
        started.elapsed().as_secs_f64() * 1e3
    );
    for w in &result.warnings {
        println!("warning: {w}");
    }
    if args.cross_check {
        let cc = voltex_clearing::crosscheck::cross_check(&input)?;
        let mut worst = 0.0f64;
        for (t, r) in result.results.iter().enumerate() {
            for (b, p) in r.lmp.iter().enumerate() {
                worst =
                    worst.max((p.lmp_per_mwh - cc.lmp[t][b]).abs() / p.lmp_per_mwh.abs().max(1.0));
            }
        }
        println!(
            "cross-check (B-θ, Clarabel): objective {:.6} (rel. diff {:.2e}), largest LMP rel. diff {:.2e}, {:.0} ms",
            cc.objective,
            (cc.objective - result.objective).abs() / result.objective.abs().max(1.0),
            worst,
            cc.solve_ms
        );
    }
    println!("results written to {}", args.out.display());
    Ok(())
}

/// Arguments of `voltex bench clearing`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Cases to run (short names: case118, case1354_pegase, case2869_pegase, case9241).
    #[arg(
        long,
        visible_alias = "case",
        value_delimiter = ',',
        default_value = "case118,case1354_pegase,case2869_pegase,case9241"
    )]
    cases: Vec<String>,
    /// N-1 secure SCED: every in-service branch outage, every rated branch
    /// monitored at its emergency rating; prints one `n-1 sced:` line per case.
    #[arg(long = "n-1")]
    n_1: bool,
    #[arg(long, default_value_t = 24)]
    intervals: usize,
    /// Also time each case with a single interval.
    #[arg(long, default_value_t = true)]
    single_interval: bool,
    /// Write the table as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

fn case_path(name: &str) -> anyhow::Result<PathBuf> {
    let rel = match name {
        "case9241" | "case9241pegase" => "pglib_opf/matpower/case9241pegase.m".to_string(),
        "case118" => "pglib_opf/typ/pglib_opf_case118_ieee.m".to_string(),
        n if n.ends_with("__api") => format!(
            "pglib_opf/api/pglib_opf_{}.m",
            n.trim_start_matches("pglib_opf_")
        ),
        n => format!(
            "pglib_opf/typ/pglib_opf_{}.m",
            n.trim_start_matches("pglib_opf_")
        ),
    };
    voltex_formats::datadir::shared_data_file(&rel).ok_or_else(|| {
        anyhow::anyhow!("{rel} not found in the shared data folder (set VOLTEX_DATA_DIR)")
    })
}

pub fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    println!("{}", bench::TABLE_HEADER);
    for name in &args.cases {
        let path = case_path(name)?;
        let mut ts = vec![args.intervals];
        if args.single_interval && args.intervals != 1 && !args.n_1 {
            ts.insert(0, 1);
        }
        for t in ts {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                    .expect("static template"),
            );
            bar.set_message(format!("{name} x {t}"));
            bar.enable_steady_tick(Duration::from_millis(120));
            let mut report = |r: &voltex_clearing::result::RoundStats| {
                bar.set_message(format!(
                    "{name} x {t}: round {} ({} violations)",
                    r.round, r.violations
                ));
            };
            let row = if args.n_1 {
                bench::bench_case_n1(&path, name, t, &mut report)
            } else {
                bench::bench_case(&path, name, t, &mut report)
            };
            bar.finish_and_clear();
            let row = row?;
            println!("{}", row.table_row());
            rows.push(row);
        }
    }
    if let Some(p) = &args.json {
        std::fs::write(p, serde_json::to_vec_pretty(&rows)?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    if args.n_1 {
        for row in &rows {
            println!(
                "{}: {} outages studied, unserved load or over-generation {:.3} MWh{}",
                row.case,
                row.contingencies_studied,
                row.shortfall_mwh,
                if row.shortfall_mwh > 0.0 {
                    " (N-1 cannot be met at these ratings without shedding; see the warnings of `voltex clear --n-1`)"
                } else {
                    ""
                }
            );
        }
        for row in &rows {
            println!("{}", row.n1_line());
        }
    }
    Ok(())
}
