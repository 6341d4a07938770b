//! `voltex evaluate`: the market monitor's evaluation of a cleared trading
//! day (structure, conduct, impact, statistics; `voltex_market::evaluation`).
//! `--demo` runs the demo's trading day in a fresh store first; `--day D`
//! evaluates a day of the store and writes the report (Markdown, SVG and
//! JSON) to `--out`. This module parses, calls the library and prints.
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use voltex_market::Market;
use voltex_market::evaluation::{
    Evaluation, Thresholds, evaluation_markdown, evaluation_svg, portrait_svg, summary_lines,
};

use super::platform::{DEFAULT_DATA_DIR, StoreArgs, runtime};

#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {
    /// Run the demo's trading day in a fresh store and evaluate it.
    #[arg(long, conflicts_with = "day")]
    pub demo: bool,
    /// The trading day to evaluate (its day-ahead session must be cleared).
    #[arg(long, required_unless_present = "demo")]
    pub day: Option<chrono::NaiveDate>,
    /// Thresholds as JSON (any subset of the fields in docs/market-evaluation.md).
    #[arg(long)]
    pub thresholds: Option<PathBuf>,
    /// Folder for the report (evaluation.md, evaluation.svg, evaluation.json).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write this member's portrait (portrait-<member>.json and .svg).
    #[arg(long)]
    pub portrait: Option<String>,
    /// Read a store `voltex demo` or `voltex evaluate --demo` wrote, with
    /// the published demo field key (otherwise VOLTEX_FIELD_KEYS_FILE or
    /// VOLTEX_FIELD_KEYS when the store is encrypted).
    #[arg(long)]
    pub demo_field_key: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

fn spinner(msg: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("static template"),
    );
    bar.set_message(msg.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn read_thresholds(path: Option<&Path>) -> anyhow::Result<Thresholds> {
    let Some(p) = path else {
        return Ok(Thresholds::default());
    };
    let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
    let t: Thresholds =
        serde_json::from_str(&text).with_context(|| format!("thresholds file {}", p.display()))?;
    t.validate()
        .map_err(|e| anyhow::anyhow!("thresholds file {}: {e}", p.display()))?;
    Ok(t)
}

pub fn run(args: EvaluateArgs) -> anyhow::Result<()> {
    let thresholds = read_thresholds(args.thresholds.as_deref())?;
    runtime()?.block_on(async {
        let started = Instant::now();
        let (market, evaluation, out) = if args.demo {
            demo(&args).await?
        } else {
            let day = args.day.expect("clap requires --day without --demo");
            let store = if args.demo_field_key {
                args.store
                    .open_with_keys(Some(std::sync::Arc::new(
                        voltex_security::field_crypto::FieldKeyring::demo(),
                    )))
                    .await?
            } else {
                args.store.open().await?
            };
            let market = Market::open(store).await?;
            let op = market.operator().await?;
            let bar = spinner(&format!(
                "evaluating {day}: indices, screens, impact re-clear"
            ));
            let e = market.evaluate_day(&op, day, &thresholds).await;
            bar.finish_and_clear();
            let out = args
                .out
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("evaluation-{day}")));
            (market, e?, out)
        };
        for line in summary_lines(&evaluation) {
            println!("{line}");
        }
        write_report(&evaluation, &out)?;
        if let Some(member) = &args.portrait {
            let op = market.operator().await?;
            let p = market
                .member_portrait(&op, member, evaluation.trading_day)
                .await?;
            let json = out.join(format!("portrait-{member}.json"));
            std::fs::write(&json, serde_json::to_string_pretty(&p)?)
                .with_context(|| format!("writing {}", json.display()))?;
            let svg = out.join(format!("portrait-{member}.svg"));
            std::fs::write(&svg, portrait_svg(&p)?)
                .with_context(|| format!("writing {}", svg.display()))?;
        }
        println!(
            "report   {} ({} alerts stored; {:.1} s)",
            out.join("evaluation.md").display(),
            evaluation.alerts.len(),
            started.elapsed().as_secs_f64()
        );
        Ok(())
    })
}

/// The demo's trading day in a fresh store, then its evaluation.
async fn demo(args: &EvaluateArgs) -> anyhow::Result<(Market, Evaluation, PathBuf)> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
    let dir = PathBuf::from(DEFAULT_DATA_DIR).join(format!("evaluate-demo-{stamp}"));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let store = voltex_store::Store::open_sqlite_dir(&dir)
        .await
        .with_context(|| format!("opening the SQLite store in {}", dir.display()))?
        .with_field_keys(std::sync::Arc::new(
            voltex_security::field_crypto::FieldKeyring::demo(),
        ));
    let market = Market::open(store).await?;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let opts = voltex_demo::DemoOptions::bundled(today.succ_opt().expect("date in range"));
    let bar = spinner("demo trading day: registration, offers, gate, clearing, settlement");
    let summary = voltex_demo::run(&market, &opts).await;
    bar.set_message("evaluating the day-ahead market");
    let summary = summary?;
    let e = voltex_demo::evaluation::evaluate(&market, &opts, &summary).await;
    bar.finish_and_clear();
    let out = args.out.clone().unwrap_or_else(|| dir.join("evaluation"));
    Ok((market, e?, out))
}

fn write_report(e: &Evaluation, out: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let svg = out.join("evaluation.svg");
    std::fs::write(&svg, evaluation_svg(e)?)
        .with_context(|| format!("writing {}", svg.display()))?;
    let md = out.join("evaluation.md");
    std::fs::write(&md, evaluation_markdown(e, Some("evaluation.svg")))
        .with_context(|| format!("writing {}", md.display()))?;
    let json = out.join("evaluation.json");
    std::fs::write(&json, serde_json::to_string_pretty(e)?)
        .with_context(|| format!("writing {}", json.display()))?;
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// PGLib case (shared data), e.g. case2869_pegase.
    #[arg(long, default_value = "pglib_opf/typ/pglib_opf_case2869_pegase.m")]
    pub case: PathBuf,
    #[arg(long, default_value_t = 96)]
    pub intervals: usize,
    #[arg(long, default_value_t = 500)]
    pub suppliers: usize,
    /// Units (largest peak output) that offer `factor` times their cost.
    #[arg(long, default_value_t = 10)]
    pub withholding: usize,
    /// Offer multiple of the withholding units (above the default conduct
    /// threshold of 4x a reference below 33/MWh).
    #[arg(long, default_value_t = 5.0)]
    pub factor: f64,
}

/// `voltex bench evaluation`: the evaluation of a day of a large case with
/// many suppliers, timed (the day's two clears are set-up, not timed).
pub fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let path = if args.case.exists() {
        args.case.clone()
    } else {
        voltex_formats::datadir::shared_data_file(&args.case).ok_or_else(|| {
            anyhow::anyhow!(
                "{} not found here or in the shared data folder (set VOLTEX_DATA_DIR)",
                args.case.display()
            )
        })?
    };
    let bar = spinner("set-up: clearing the competitive and the withheld day");
    let day = voltex_market::evaluation::bench::bench_day(
        &path,
        args.intervals,
        args.suppliers,
        args.withholding,
        args.factor,
    )?;
    bar.set_message("evaluating");
    let t0 = Instant::now();
    let e =
        voltex_market::evaluation::evaluate_run(&day.run, &day.context, &Thresholds::default())?;
    let secs = t0.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let binding: usize = e.structure.iter().map(|i| i.constraints.len()).sum();
    let flagged = e
        .conduct
        .iter()
        .filter(|c| !c.failed_intervals.is_empty())
        .count();
    println!(
        "evaluation: {} x {} intervals, {} units, {} suppliers: {secs:.2} s ({binding} binding constraint-intervals tested, {flagged} units failed conduct, re-clear {}, {} mitigation-eligible)",
        day.run.network,
        args.intervals,
        day.units,
        e.suppliers.len(),
        if e.impact.reclear_run {
            "run"
        } else {
            "not needed"
        },
        e.impact.eligible.len()
    );
    for line in summary_lines(&e) {
        println!("  {line}");
    }
    Ok(())
}
