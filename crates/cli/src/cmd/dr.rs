//! `voltex dr ...`: demand response (`voltex-dr`). `demo` runs a
//! peak-shaving event over 20 resources built from real load data, with
//! baselines chosen per resource by placebo back-test, and settles it. This
//! module parses, calls the library and prints.
use std::path::PathBuf;
use std::time::Instant;
use voltex_dr::demo::{self as dr_demo, DemoConfig, backtest_table, summary_line};

use super::platform::DEFAULT_DATA_DIR;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// A peak-shaving event on real loads: opt-ins, dispatch, baselines by
    /// back-test, delivered energy, payments, and the event day as SVG.
    Demo(DemoArgs),
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Folder for the SVG; default: a new folder under ./voltex-data.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also print the placebo back-test table (error and bias per method).
    #[arg(long)]
    pub backtest: bool,
}

pub fn run(c: Command) -> anyhow::Result<()> {
    match c {
        Command::Demo(a) => demo(a),
    }
}

fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let out = args.out.unwrap_or_else(|| {
        PathBuf::from(DEFAULT_DATA_DIR).join(format!(
            "dr-demo-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S")
        ))
    });
    let mut cfg = DemoConfig::new(voltex_formats::datadir::bundled_data_dir());
    cfg.seed = args.seed;
    cfg.out_dir = Some(out);
    let s = dr_demo::run(cfg)?;
    println!(
        "dr demo: event {} {}–{}, {} opted in, {} refused",
        s.event_day,
        s.event_start.format("%H:%M"),
        s.event_end.format("%H:%M"),
        s.opted_in,
        s.refused.len()
    );
    for r in &s.refused {
        println!("  refused: {r}");
    }
    println!(
        "  energy payments {} + capacity payments {} − penalties {} = {} yuan",
        s.energy_payments, s.capacity_payments, s.penalties, s.payments
    );
    if args.backtest {
        print!("{}", backtest_table(&s));
    }
    if let Some(svg) = &s.svg {
        println!("  wrote {}", svg.display());
    }
    println!("  ran in {:.2} s", started.elapsed().as_secs_f64());
    println!("{}", summary_line(&s));
    Ok(())
}
