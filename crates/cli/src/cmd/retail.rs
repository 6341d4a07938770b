//! `voltex retail ...`: the retail company system (`voltex-retail`). `demo`
//! runs a retail company's month in a fresh store; the other commands act
//! on a store as a retailer's staff (`--retailer`): list customers, import
//! meter data, rate a month, show or explain a bill, list deviation
//! warnings. This module parses, calls the library and prints.
use anyhow::Context;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use voltex_retail::demo::{DemoConfig, DemoSummary};
use voltex_retail::money::{Fen, PricePerKwh, kwh_string};
use voltex_retail::month::Month;
use voltex_retail::rating::{self, MarketPrices};
use voltex_retail::readings::ImportKind;
use voltex_retail::{Retail, Viewer};
use voltex_security::field_crypto::FieldKeyring;

use super::platform::{DEFAULT_DATA_DIR, StoreArgs, runtime};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// A retail company's month from real load profiles: customers, readings
    /// with gaps, bills, a correction and its re-rating, purchasing, profit.
    Demo(DemoArgs),
    /// List a retailer's customers.
    Customers(BookArgs),
    /// Import a readings CSV (long `meter_id,interval_start,kwh` or wide `time,<meter>...`).
    Import(ImportArgs),
    /// Rate every contracted customer of a month (new invoices or new versions).
    Rate(RateArgs),
    /// Show a bill: its lines and lineage (`--csv`, `--json` for the exports).
    Invoice(InvoiceArgs),
    /// Customers projected to leave their deviation band this month.
    Deviation(MonthArgs),
    /// Decision support on real data: customer and portfolio load forecasts,
    /// the next day's purchase gap and suggested bids, customer segments and
    /// an energy-efficiency report (`--demo`).
    Decide(DecideArgs),
}

#[derive(Debug, clap::Args)]
pub struct DecideArgs {
    /// Run on the shipped real data (SimBench loads, ISO-NE and NSW1
    /// prices); the only mode so far.
    #[arg(long)]
    pub demo: bool,
    /// Number of customers (at most the roster's 522).
    #[arg(long, default_value_t = 240)]
    pub customers: usize,
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// The day to forecast and bid for (a day of 2016 with four weeks before it).
    #[arg(long, default_value = "2016-12-06")]
    pub target: chrono::NaiveDate,
    /// Folder for the SVG charts and the energy report; default: a new
    /// folder under ./voltex-data.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the whole report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Store directory; default: a new folder under ./voltex-data.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Number of customers (200..=522).
    #[arg(long, default_value_t = 240)]
    pub customers: usize,
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
}

#[derive(Debug, clap::Args)]
pub struct BookArgs {
    /// The retailer (member id) whose book to act on.
    #[arg(long)]
    pub retailer: String,
    /// Open the store with the published demo field key (a `voltex retail demo` store).
    #[arg(long)]
    pub demo_field_key: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    pub file: PathBuf,
    /// The file corrects stored readings (superseding them).
    #[arg(long)]
    pub corrections: bool,
    #[command(flatten)]
    pub book: BookArgs,
}

#[derive(Debug, clap::Args)]
pub struct MonthArgs {
    /// The month, YYYY-MM.
    #[arg(long)]
    pub month: String,
    #[command(flatten)]
    pub book: BookArgs,
}

#[derive(Debug, clap::Args)]
pub struct RateArgs {
    /// Spot prices of the month: CSV `interval_start,yuan_per_kwh`, one row per 15 minutes.
    #[arg(long)]
    pub spot: PathBuf,
    /// Why this rating (recorded on new versions).
    #[arg(long, default_value = "rated")]
    pub reason: String,
    #[command(flatten)]
    pub month: MonthArgs,
}

#[derive(Debug, clap::Args)]
pub struct InvoiceArgs {
    #[arg(long)]
    pub customer: String,
    #[arg(long)]
    pub csv: bool,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub month: MonthArgs,
}

pub fn run(c: Command) -> anyhow::Result<()> {
    match c {
        Command::Demo(a) => demo(a),
        Command::Decide(a) => decide(a),
        Command::Customers(a) => runtime()?.block_on(async {
            let (retail, v) = open(&a).await?;
            for r in retail.customers(&v).await? {
                let c = r.value;
                println!(
                    "{}  v{}  {:<10} {:>6} {:>7} kVA  {}",
                    c.id,
                    r.version,
                    c.status.as_str(),
                    c.voltage.as_str(),
                    c.contracted_kva,
                    c.name
                );
            }
            Ok(())
        }),
        Command::Import(a) => runtime()?.block_on(async {
            let (retail, v) = open(&a.book).await?;
            let bytes =
                std::fs::read(&a.file).with_context(|| format!("reading {}", a.file.display()))?;
            let name = a
                .file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let kind = if a.corrections {
                ImportKind::Corrections
            } else {
                ImportKind::Readings
            };
            let r = retail.import_readings(&v, &name, &bytes, kind).await?;
            println!(
                "imported {}: {} rows, {} intervals changed, {} unchanged, {} estimated, {} meter-months written",
                r.source, r.rows, r.changed, r.unchanged, r.estimated, r.months_written
            );
            for w in &r.warnings {
                println!("  warning {}: {} ({})", w.field, w.message, w.rule);
            }
            Ok(())
        }),
        Command::Rate(a) => runtime()?.block_on(async {
            let month = parse_month(&a.month.month)?;
            let (retail, v) = open(&a.month.book).await?;
            let spot = read_spot(&a.spot, month)?;
            let average = PricePerKwh(
                (spot.iter().map(|p| p.0 as i128).sum::<i128>() / spot.len() as i128) as i64,
            );
            let run = retail
                .rate_all(
                    &v,
                    month,
                    &MarketPrices {
                        spot,
                        average_purchase: average,
                    },
                    &a.reason,
                )
                .await?;
            println!(
                "rated {month}: {} new, {} re-rated, {} unchanged, {} without contract",
                run.rated,
                run.rerated,
                run.unchanged,
                run.without_contract.len()
            );
            Ok(())
        }),
        Command::Invoice(a) => runtime()?.block_on(async {
            let month = parse_month(&a.month.month)?;
            let (retail, v) = open(&a.month.book).await?;
            let r = retail.invoice(&v, &a.customer, month).await?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else if a.csv {
                print!("{}", rating::invoice_csv(&r.value));
            } else {
                print!("{}", rating::explain(&r.value, r.version));
            }
            Ok(())
        }),
        Command::Deviation(a) => runtime()?.block_on(async {
            let month = parse_month(&a.month)?;
            let (retail, v) = open(&a.book).await?;
            let warnings = retail.deviation_warnings(&v, month).await?;
            for w in &warnings {
                println!(
                    "{}: {} kWh so far ({} intervals), projected {} kWh, band [{}, {}] kWh",
                    w.customer_id,
                    kwh_string(w.so_far_wh),
                    w.intervals_read,
                    kwh_string(w.projected_wh),
                    kwh_string(w.assessment.lower_wh),
                    kwh_string(w.assessment.upper_wh)
                );
            }
            println!("{} customers projected outside their band", warnings.len());
            Ok(())
        }),
    }
}

async fn open(a: &BookArgs) -> anyhow::Result<(Retail, Viewer)> {
    let store = if a.demo_field_key {
        a.store
            .open_with_keys(Some(Arc::new(FieldKeyring::demo())))
            .await?
    } else {
        a.store.open().await?
    };
    Ok((
        Retail::new(store),
        Viewer::Staff {
            retailer_id: a.retailer.clone(),
        },
    ))
}

fn parse_month(s: &str) -> anyhow::Result<Month> {
    Month::parse(s).ok_or_else(|| anyhow::anyhow!("--month {s:?}: a month is written YYYY-MM"))
}

fn read_spot(path: &std::path::Path, month: Month) -> anyhow::Result<Vec<PricePerKwh>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = vec![None; month.slots()];
    for (i, line) in text.lines().enumerate().skip(1) {
        let (start, price) = line
            .split_once(',')
            .ok_or_else(|| anyhow::anyhow!("{}: row {}: two columns", path.display(), i + 1))?;
        let t = chrono::NaiveDateTime::parse_from_str(start.trim(), "%Y-%m-%dT%H:%M")
            .with_context(|| format!("{}: row {}: interval_start", path.display(), i + 1))?;
        let slot = month.slot_of(t).ok_or_else(|| {
            anyhow::anyhow!(
                "{}: row {}: {t} is not a quarter hour of {month}",
                path.display(),
                i + 1
            )
        })?;
        out[slot] = Some(PricePerKwh::parse_yuan(price).ok_or_else(|| {
            anyhow::anyhow!("{}: row {}: yuan_per_kwh {price:?}", path.display(), i + 1)
        })?);
    }
    out.into_iter()
        .enumerate()
        .map(|(i, p)| {
            p.ok_or_else(|| {
                anyhow::anyhow!("{}: no price for {}", path.display(), month.slot_start(i))
            })
        })
        .collect()
}

/// `voltex retail demo`: the retail crate does the work; this picks the
/// store and prints. The last line is the summary the check reads.
pub fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let data_dir = args.data_dir.unwrap_or_else(|| {
        PathBuf::from(DEFAULT_DATA_DIR).join(format!(
            "retail-demo-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S")
        ))
    });
    let mut cfg = DemoConfig::new(voltex_formats::datadir::bundled_data_dir());
    cfg.customers = args.customers;
    cfg.seed = args.seed;
    let s: DemoSummary = runtime()?.block_on(async {
        let store = voltex_store::Store::open_sqlite_dir(&data_dir)
            .await
            .with_context(|| format!("opening the SQLite store in {}", data_dir.display()))?
            .with_field_keys(Arc::new(FieldKeyring::demo()));
        let mut progress = |line: String| println!("  {line}");
        println!(
            "retail demo: {} (store {})",
            voltex_retail::demo::DEMO_RETAILER,
            data_dir.display()
        );
        anyhow::Ok(voltex_retail::demo::run(store, &cfg, &mut progress).await?)
    })?;
    println!(
        "  billed: {} invoices, {} MWh, {} yuan incl. VAT",
        s.invoices,
        kwh_string(s.billed_energy_wh / 1000),
        s.billed_total
    );
    println!(
        "  purchases: load {} MWh, contracts {} MWh ({} yuan), spot balance {} MWh ({} yuan), average {} yuan/kWh",
        kwh_string(s.settlement.load_wh / 1000),
        kwh_string(s.settlement.contracted_wh / 1000),
        s.settlement.contract_cost,
        kwh_string(s.settlement.spot_wh / 1000),
        s.settlement.spot_cost,
        s.settlement.average_price
    );
    for (kind, p) in &s.profit.by_package {
        println!("  profit of {kind} customers: {p} yuan");
    }
    println!(
        "  profit: revenue {} - purchase cost {} = {} yuan (unallocated {} yuan)",
        s.profit.revenue, s.profit.purchase_cost, s.profit.profit, s.profit.unallocated_cost
    );
    println!("  a re-rated bill, explained:");
    for line in s.example_explain.lines() {
        println!("    {line}");
    }
    println!("  ran in {:.1} s", started.elapsed().as_secs_f64());
    println!(
        "retail demo: customers={} invoices={} rerated={} deviation_warnings={} profit_yuan={}",
        s.customers,
        s.invoices,
        s.rerated,
        s.deviation_warnings,
        yuan(s.profit.profit)
    );
    Ok(())
}

fn yuan(f: Fen) -> String {
    f.to_string()
}

/// `voltex retail decide --demo`: the retail crate decides; this prints.
/// The last line is the summary the check reads.
pub fn decide(args: DecideArgs) -> anyhow::Result<()> {
    use voltex_retail::decide::demo::{DecideConfig, run};
    if !args.demo {
        anyhow::bail!(
            "`voltex retail decide` runs on the shipped real data only so far: add --demo"
        );
    }
    let started = Instant::now();
    let out = args.out.unwrap_or_else(|| {
        PathBuf::from(DEFAULT_DATA_DIR).join(format!(
            "retail-decide-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S")
        ))
    });
    let mut cfg = DecideConfig::new(voltex_formats::datadir::bundled_data_dir());
    cfg.customers = args.customers;
    cfg.seed = args.seed;
    cfg.target = args.target;
    let quiet = args.json;
    let mut progress = |line: String| {
        if !quiet {
            println!("  {line}");
        }
    };
    if !quiet {
        println!(
            "retail decide: {} customers of {}, forecast day {} ({})",
            cfg.customers,
            voltex_retail::demo::DEMO_RETAILER,
            cfg.target,
            cfg.target.format("%a")
        );
    }
    let r = run(&cfg, &out, &mut progress)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    print!("{}", voltex_retail::decide::report::text(&r));
    println!("  ran in {:.1} s", started.elapsed().as_secs_f64());
    println!("{}", voltex_retail::decide::report::summary_line(&r));
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct DecideBenchArgs {
    /// Customers (the roster's 522 loads, repeated with fresh jitter).
    #[arg(long, default_value_t = 2_000)]
    pub customers: usize,
}

/// `voltex bench decide`: the speed targets, each timed through
/// the same library calls `voltex retail decide` makes: next-day forecasts
/// with their back-test for every customer (< 30 s for 2,000), segmentation
/// of every customer-year with its simulated bills (< 10 s), and the
/// battery LP of the demo's customer-year (< 1 s).
pub fn bench_decide(args: DecideBenchArgs) -> anyhow::Result<()> {
    use voltex_retail::decide::demo::{DecideConfig, bench_segmentation, customers};
    use voltex_retail::decide::forecast::forecast_portfolio;
    let mut cfg = DecideConfig::new(voltex_formats::datadir::bundled_data_dir());
    cfg.customers = args.customers;
    let t = Instant::now();
    let book = customers(&cfg)?;
    println!(
        "bench decide: {} customer-years built in {:.2} s (not timed below)",
        book.len(),
        t.elapsed().as_secs_f64()
    );
    let histories: Vec<_> = book
        .iter()
        .map(|c| (c.customer.id.as_str(), &c.history))
        .collect();
    let t = Instant::now();
    let f = forecast_portfolio(&histories, cfg.target, cfg.window_days);
    let forecast_s = t.elapsed().as_secs_f64();
    println!(
        "  forecasts: {} customers' next day with a {}-day back-test of {} methods in {forecast_s:.2} s (target < 30 s); portfolio WAPE {:.2} %",
        f.customers.len(),
        cfg.window_days,
        voltex_retail::decide::forecast::Method::ALL.len(),
        f.portfolio.wape_pct
    );
    let t = Instant::now();
    let s = bench_segmentation(&cfg, &book)?;
    let segment_s = t.elapsed().as_secs_f64();
    println!(
        "  segmentation: {} customer-years into {} segments, with 4 packages × 11 months of simulated bills, in {segment_s:.2} s (target < 10 s)",
        s.labels.len(),
        s.segments.len()
    );
    // the battery LP as `voltex retail decide --demo` solves it (its
    // customer, its year, hourly), timed inside the library call
    let out = std::env::temp_dir().join("voltex-bench-decide");
    let demo = voltex_retail::decide::demo::run(
        &DecideConfig::new(voltex_formats::datadir::bundled_data_dir()),
        &out,
        &mut |_| {},
    )?;
    let battery_s = demo.efficiency.battery.solve_seconds;
    println!(
        "  battery sizing: {} ({} days, hourly LP in {} month problems) in {battery_s:.2} s (target < 1 s)",
        demo.efficiency.customer_id, demo.efficiency.metrics.days, demo.efficiency.battery.months
    );
    println!(
        "bench decide: customers={} forecast_s={forecast_s:.2} segmentation_s={segment_s:.2} battery_s={battery_s:.2}",
        book.len()
    );
    Ok(())
}
