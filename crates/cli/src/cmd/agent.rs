//! `voltex agent ...` and `voltex bench agent`: parse, call `voltex-agent`, print.
//!
//! Holds no market rule and no learning logic (those live in voltex-agent);
//! it only draws progress bars and formats results.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use voltex_agent::baselines::{AllDayAhead, AllRealTime, PreviousDayRule};
use voltex_agent::compare::{CompareConfig, CompareEvent, compare};
use voltex_agent::oracle::OraclePolicy;
use voltex_agent::{
    Checkpoint, EnvConfig, ExtractorKind, Market, MarketSeries, PreparedMarket, Split, TrainConfig,
    default_device, run_policy, train,
};

/// Sub-commands of `voltex agent`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Train a DDPG agent on the training span, validating periodically; saves the best checkpoint.
    Train(TrainArgs),
    /// Evaluate a checkpoint (and the baselines and oracle) on a split of the study data or of any file in the same layout.
    Eval(EvalArgs),
    /// Train all four extractors over several seeds and compare them with the baselines and the oracle on the test span.
    Compare(CompareArgs),
}

#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// isone (hourly, DA + RT) or aemo (half-hourly, RT only).
    #[arg(long)]
    market: Market,
    /// dnn, rnn, lstm or bilstm.
    #[arg(long, default_value = "bilstm")]
    extractor: ExtractorKind,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Gradient updates (one per environment step after the warm-up).
    #[arg(long)]
    steps: Option<usize>,
    /// Validate every this many updates.
    #[arg(long)]
    validate_every: Option<usize>,
    /// Checkpoint file (default: agent-checkpoints/<market>-<extractor>-seed<S>.json).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    #[arg(long)]
    checkpoint: PathBuf,
    /// train, validation, test or all.
    #[arg(long, default_value = "test")]
    split: Split,
    /// A price/demand file in the layout of the shared ISO-NE SMD (CT zone) or AEMO file of the checkpoint's market.
    #[arg(long)]
    data: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    #[arg(long)]
    market: Market,
    #[arg(long, default_value_t = 5)]
    seeds: u64,
    /// Gradient updates per training run.
    #[arg(long)]
    steps: Option<usize>,
    /// Only these extractors (comma separated); default all four.
    #[arg(long, value_delimiter = ',')]
    extractors: Vec<ExtractorKind>,
    /// Output folder for table.md, report.json and the SVG plots (default docs/agent/<market>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Keep every run's best checkpoint here.
    #[arg(long)]
    checkpoints: Option<PathBuf>,
}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Train(a) => run_train(a),
        Command::Eval(a) => run_eval(a),
        Command::Compare(a) => run_compare(a),
    }
}

fn prepare(market: Market) -> anyhow::Result<PreparedMarket> {
    let series = MarketSeries::load_shared(market)?;
    Ok(PreparedMarket::new(
        series,
        EnvConfig::for_market(market),
        Split::Train,
    )?)
}

fn bar(total: u64) -> ProgressBar {
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template(
            "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} updates ({eta}) {msg}",
        )
        .expect("valid template"),
    );
    pb
}

fn run_train(a: TrainArgs) -> anyhow::Result<()> {
    let market = prepare(a.market)?;
    let mut cfg = TrainConfig::new(a.market, a.extractor);
    cfg.seed = a.seed;
    if let Some(n) = a.steps {
        cfg.updates = n;
    }
    if let Some(v) = a.validate_every {
        cfg.validate_every = v;
    }
    let out = a.out.unwrap_or_else(|| {
        PathBuf::from(format!(
            "agent-checkpoints/{}-{}-seed{}.json",
            a.market.name(),
            a.extractor.name(),
            a.seed
        ))
    });
    let pb = bar(cfg.updates as u64);
    pb.set_prefix(a.extractor.label());
    let device = default_device();
    let outcome = train(&market, &cfg, &device, Some(&out), &mut |p| {
        pb.set_position(p.updates_done as u64);
        if let Some(v) = p.validation_profit {
            pb.println(format!(
                "update {:>6}: validation profit {:.0}, best {:.0}, critic loss {:.4}",
                p.updates_done, v, p.best_validation_profit, p.last_critic_loss
            ));
        }
    })?;
    pb.finish_and_clear();
    println!(
        "trained {} on {} for {} updates ({} environment steps) in {:.1} s",
        a.extractor.label(),
        a.market.name(),
        cfg.updates,
        outcome.env_steps,
        outcome.seconds
    );
    println!(
        "best validation profit {:.0} {} at update {}; checkpoint {}",
        outcome.best.validation_profit,
        a.market.currency(),
        outcome.best.updates_done,
        out.display()
    );
    Ok(())
}

fn run_eval(a: EvalArgs) -> anyhow::Result<()> {
    let ck = Checkpoint::load(&a.checkpoint)?;
    let series = match &a.data {
        Some(p) => MarketSeries::load(ck.market, p)?,
        None => MarketSeries::load_shared(ck.market)?,
    };
    let market = PreparedMarket::with_calibration(series, ck.env.clone(), ck.calibration.clone());
    let span = market.span(a.split).with_context(|| {
        format!(
            "split {} of the evaluation data (use --split all for another period)",
            a.split
        )
    })?;
    let device = default_device();
    let mut agent = ck.policy(&device, &a.checkpoint)?;
    let cur = ck.market.currency();
    let from = market.series.interval_start[span.start];
    let to = market.series.interval_start[span.end - 1];
    println!(
        "{} {} split, {from} .. {to} ({} intervals)",
        ck.market.name(),
        a.split,
        span.len()
    );
    let agent_ep = run_policy(&market, span, &mut agent);
    let all_da = run_policy(&market, span, &mut AllDayAhead).total_profit();
    let rows = [
        (
            ck.train.net.extractor.label().to_string(),
            agent_ep.total_profit(),
        ),
        ("all-day-ahead".into(), all_da),
        (
            "all-real-time".into(),
            run_policy(&market, span, &mut AllRealTime).total_profit(),
        ),
        (
            "previous-day rule".into(),
            run_policy(&market, span, &mut PreviousDayRule).total_profit(),
        ),
        (
            "perfect-foresight oracle (LP)".into(),
            run_policy(&market, span, &mut OraclePolicy::solve(&market, span)?).total_profit(),
        ),
    ];
    let oracle = rows[4].1;
    println!(
        "{:<32} {:>14} {:>16} {:>12}",
        "policy",
        format!("profit {cur}"),
        "vs all-DA",
        "oracle gap"
    );
    for (name, p) in rows {
        println!(
            "{:<32} {:>14.0} {:>16.0} {:>11.1}%",
            name,
            p,
            p - all_da,
            100.0 * (p - all_da) / (oracle - all_da)
        );
    }
    Ok(())
}

fn run_compare(a: CompareArgs) -> anyhow::Result<()> {
    let market = prepare(a.market)?;
    let extractors = if a.extractors.is_empty() {
        ExtractorKind::ALL.to_vec()
    } else {
        a.extractors.clone()
    };
    let updates = a
        .steps
        .unwrap_or_else(|| TrainConfig::new(a.market, ExtractorKind::BiLstm).updates);
    let cfg = CompareConfig {
        seeds: (0..a.seeds).collect(),
        updates,
        extractors,
        checkpoint_dir: a.checkpoints.clone(),
    };
    let device = default_device();
    let pb = bar(updates as u64);
    let report = compare(&market, &cfg, &device, &mut |e| match e {
        CompareEvent::RunStarted {
            extractor,
            seed,
            run,
            runs,
        } => {
            pb.reset();
            pb.set_prefix(format!("[{run}/{runs}] {} seed {seed}", extractor.label()));
        }
        CompareEvent::Training(p) => pb.set_position(p.updates_done as u64),
        CompareEvent::RunFinished {
            extractor,
            seed,
            test_profit,
        } => pb.println(format!(
            "{} seed {seed}: test profit {test_profit:.0}",
            extractor.label()
        )),
    })?;
    pb.finish_and_clear();
    let out = a
        .out
        .unwrap_or_else(|| Path::new("docs/agent").join(a.market.name()));
    let files = report.write(&out)?;
    println!("{}", report.markdown_table());
    for f in files {
        println!("wrote {}", f.display());
    }
    Ok(())
}

/// Arguments of `voltex bench agent`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// isone or aemo.
    #[arg(long, default_value = "aemo")]
    market: Market,
    /// Updates timed per extractor.
    #[arg(long, default_value_t = 100)]
    updates: usize,
}

pub fn bench(a: BenchArgs) -> anyhow::Result<()> {
    let market = prepare(a.market)?;
    let device = default_device();
    let report = voltex_agent::bench::run(
        &market,
        &ExtractorKind::ALL,
        a.updates,
        &device,
        &mut |what| eprintln!("timing {what} ..."),
    )?;
    println!(
        "environment ({}, previous-day rule): {:.0} steps/s ({} steps)",
        a.market.name(),
        report.env_steps_per_s,
        report.env_steps_measured
    );
    println!(
        "{:<12} {:>12} {:>14}   (batch {}, {} updates timed)",
        "extractor", "updates/s", "decisions/s", report.batch_size, report.updates_measured
    );
    for u in &report.updates {
        println!(
            "{:<12} {:>12.1} {:>14.0}",
            u.extractor.label(),
            u.updates_per_s,
            u.actions_per_s
        );
    }
    Ok(())
}
