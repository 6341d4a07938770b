//! `voltex forecast ...` and `voltex bench forecast`: day-ahead price
//! forecasting on the epftoolbox benchmark (LEAR and the wider LEAR
//! ensemble), forecast evaluation (MAE, RMSE, sMAPE, rMAE, Diebold–Mariano),
//! price up/down classification and retail load forecasting. Parses and
//! prints only; the models live in `voltex_analytics`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use voltex_analytics::direction::{self, ClassificationMetrics, DirectionConfig, DirectionData};
use voltex_analytics::forecast::data::dataset_path;
use voltex_analytics::forecast::load::{
    HourlySeries, evaluate_load, read_aemo_demand, read_households, read_isone_demand,
};
use voltex_analytics::forecast::metrics::{PointMetrics, diebold_mariano, seasonal_naive};
use voltex_analytics::forecast::plots::{mae_by_hour, plot_error_by_hour, plot_week};
use voltex_analytics::forecast::{
    DayAheadDataset, ForecastTable, LearConfig, Market, TEST_DAYS, rolling_forecast,
};
use voltex_formats::datadir::shared_data_file;

/// Which forecaster `voltex forecast run` uses.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ModelChoice {
    /// The benchmark LEAR ensemble (windows 56, 84, 1092, 1456 days; AIC).
    Lear,
    /// Our stronger model: 8 windows (56..1456 days) × {AIC, BIC}, 16 members averaged.
    LearWide,
}

impl ModelChoice {
    fn config(self) -> LearConfig {
        match self {
            ModelChoice::Lear => LearConfig::benchmark(),
            ModelChoice::LearWide => LearConfig::wide(),
        }
    }
    fn tag(self) -> &'static str {
        match self {
            ModelChoice::Lear => "LEAR",
            ModelChoice::LearWide => "LEAR-wide",
        }
    }
}

/// Load series available to `voltex forecast load`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LoadSource {
    /// 24 AER households (per customer and aggregate), kWh.
    Household,
    /// AEMO NSW1 operational demand 2017-2018, MW.
    Aemo,
    /// ISO-NE system demand Jan-Apr 2017 with dry-bulb temperature, MW.
    Isone,
}

/// Sub-commands of `voltex forecast`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Forecast the test period day by day with daily recalibration and write
    /// the forecast CSV (benchmark layout), metrics and SVG plots.
    Run {
        #[arg(long)]
        market: Market,
        #[arg(long, value_enum, default_value = "lear")]
        model: ModelChoice,
        /// Any file in the epftoolbox layout (default: the shared dataset of the market).
        #[arg(long)]
        data: Option<PathBuf>,
        #[arg(long, default_value = "forecast-out")]
        out: PathBuf,
        /// Number of test days to forecast (default: the benchmark's 728).
        #[arg(long, default_value_t = TEST_DAYS)]
        days: usize,
        /// Override the calibration windows in days (e.g. `28,56` for short files).
        #[arg(long, value_delimiter = ',')]
        windows: Option<Vec<usize>>,
    },
    /// Score a forecast CSV (benchmark layout) against the actual prices, the
    /// seasonal naive forecast and, where present, the published ensembles.
    Evaluate {
        #[arg(long)]
        market: Market,
        #[arg(long)]
        forecast: PathBuf,
        /// Column to score (default: every column except `Real price`).
        #[arg(long)]
        column: Option<String>,
        #[arg(long)]
        data: Option<PathBuf>,
        /// Also write SVG plots (last test week; MAE by hour of day) into this folder.
        #[arg(long)]
        plots: Option<PathBuf>,
    },
    /// Price up/down classification (logistic regression with Box-Cox + PCA,
    /// 70/30 chronological split, 5-fold CV) against persistence.
    Classify {
        #[arg(long)]
        market: Market,
        #[arg(long)]
        data: Option<PathBuf>,
        /// A forecast CSV (from `forecast run`) whose `--column` is turned into
        /// a direction call as a second classifier on the overlapping test days.
        #[arg(long)]
        forecast: Option<PathBuf>,
        #[arg(long, default_value = "LEAR Ensemble")]
        column: String,
    },
    /// Hourly day-ahead load forecasting (LASSO-ARX, daily recalibration) vs seasonal naive.
    Load {
        #[arg(long, value_enum)]
        source: LoadSource,
        #[arg(long, default_value_t = 91)]
        test_days: usize,
        #[arg(long, default_value_t = 364)]
        window: usize,
        /// Write the per-series results as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Run {
            market,
            model,
            data,
            out,
            days,
            windows,
        } => run_forecast(
            market,
            model,
            data.as_deref(),
            &out,
            days,
            windows.as_deref(),
        )
        .map(|_| ()),
        Command::Evaluate {
            market,
            forecast,
            column,
            data,
            plots,
        } => evaluate(
            market,
            &forecast,
            column.as_deref(),
            data.as_deref(),
            plots.as_deref(),
        ),
        Command::Classify {
            market,
            data,
            forecast,
            column,
        } => classify(market, data.as_deref(), forecast.as_deref(), &column),
        Command::Load {
            source,
            test_days,
            window,
            json,
        } => load(source, test_days, window, json.as_deref()),
    }
}

fn progress(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} days, {elapsed} elapsed, eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

fn flat(days: &[[f64; 24]]) -> Vec<f64> {
    days.iter().flatten().copied().collect()
}

fn naive_for(ds: &DayAheadDataset, first: usize, n: usize) -> Vec<[f64; 24]> {
    (first..first + n)
        .map(|d| {
            seasonal_naive(&ds.price_per_mwh, |t| ds.weekday(t), d)
                .unwrap_or(ds.price_per_mwh[d - 1])
        })
        .collect()
}

/// Runs a model over the last `days` days of the test period; returns the path of the CSV.
fn run_forecast(
    market: Market,
    model: ModelChoice,
    data: Option<&Path>,
    out: &Path,
    days: usize,
    windows: Option<&[usize]>,
) -> anyhow::Result<PathBuf> {
    let path = dataset_path(market, data)?;
    let ds = DayAheadDataset::read(&path)?;
    let mut config = model.config();
    if let Some(w) = windows {
        config.calibration_windows_days = w.to_vec();
    }
    let longest = config.longest_window();
    if ds.n_days() <= longest {
        bail!(
            "{}: {} days of data, but model {} needs more than its longest calibration window ({longest} days); pass shorter --windows",
            path.display(),
            ds.n_days(),
            model.tag()
        );
    }
    let available = (ds.n_days() - longest).min(TEST_DAYS);
    if days == 0 || days > available {
        bail!("--days {days}: this data allows 1..={available} forecast days for this model");
    }
    let first = ds.n_days() - available;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let bar = progress(days, &format!("{market} {}", model.tag()));
    let done = AtomicUsize::new(0);
    let fc = rolling_forecast(&ds, first, days, &config, &|| {
        done.fetch_add(1, Ordering::Relaxed);
        bar.inc(1);
    })?;
    bar.finish();
    let ens_name = format!("{} Ensemble", model.tag());
    let mut named: Vec<(String, &[[f64; 24]])> = fc
        .members
        .iter()
        .zip(&fc.per_member)
        .map(|(n, f)| (n.clone(), f.as_slice()))
        .collect();
    named.push((ens_name.clone(), fc.ensemble.as_slice()));
    let csv = out.join(format!("{}_{}.csv", model.tag(), market));
    ForecastTable::from_days(&ds, first, &named).write(&csv)?;
    let actual = &ds.price_per_mwh[first..first + days];
    let naive = naive_for(&ds, first, days);
    let m = PointMetrics::compute(&flat(actual), &flat(&fc.ensemble), &flat(&naive))?;
    println!(
        "{market} {ens_name}: MAE {:.3}  RMSE {:.3}  sMAPE {:.2} %  rMAE {:.3}  ({} days, {:.1} s)",
        m.mae, m.rmse, m.smape_pct, m.rmae, days, fc.seconds
    );
    if days == TEST_DAYS && data.is_none() {
        let p = market.published();
        println!(
            "published: DNN ensemble MAE {:.3} / sMAPE {:.2} %, LEAR ensemble MAE {:.3} / sMAPE {:.2} %",
            p.dnn_mae, p.dnn_smape_pct, p.lear_mae, p.lear_smape_pct
        );
    }
    let week = days.min(7);
    let start = days - week;
    let actual_week = flat(&actual[start..]);
    let fc_week = flat(&fc.ensemble[start..]);
    let naive_week = flat(&naive[start..]);
    plot_week(
        &out.join(format!("{}_{}_week.svg", model.tag(), market)),
        &format!("{market}: day-ahead price, last {week} test days"),
        "price per MWh",
        &[
            ("actual", &actual_week),
            (&ens_name, &fc_week),
            ("seasonal naive", &naive_week),
        ],
    )?;
    plot_error_by_hour(
        &out.join(format!("{}_{}_mae_by_hour.svg", model.tag(), market)),
        &format!("{market}: MAE by hour of day ({days} test days)"),
        "per MWh",
        &[
            (&ens_name, mae_by_hour(actual, &fc.ensemble)),
            ("seasonal naive", mae_by_hour(actual, &naive)),
        ],
    )?;
    println!("wrote {} and SVG plots in {}", csv.display(), out.display());
    Ok(csv)
}

fn to_days(values: &[f64]) -> Vec<[f64; 24]> {
    values
        .chunks_exact(24)
        .map(|c| c.try_into().expect("24 values"))
        .collect()
}

fn evaluate(
    market: Market,
    forecast: &Path,
    column: Option<&str>,
    data: Option<&Path>,
    plots: Option<&Path>,
) -> anyhow::Result<()> {
    let ds = DayAheadDataset::read(&dataset_path(market, data)?)?;
    let table = ForecastTable::read(forecast)?;
    let first_ts = table
        .timestamps
        .first()
        .context("forecast file has no rows")?;
    let first = ds
        .dates
        .iter()
        .position(|d| first_ts.starts_with(&d.to_string()))
        .with_context(|| {
            format!("first timestamp {first_ts} of the forecast is not a day of the dataset")
        })?;
    let n = table.timestamps.len() / 24;
    if table.timestamps.len() % 24 != 0 || first + n > ds.n_days() {
        bail!(
            "forecast file: {} rows do not form whole days inside the dataset",
            table.timestamps.len()
        );
    }
    let actual = &ds.price_per_mwh[first..first + n];
    let naive = naive_for(&ds, first, n);
    let columns: Vec<&String> = table
        .columns
        .iter()
        .filter(|c| *c != "Real price" && column.is_none_or(|w| w == c.as_str()))
        .collect();
    if columns.is_empty() {
        bail!(
            "no forecast column to evaluate (have: {})",
            table.columns.join(", ")
        );
    }
    println!("{market}: {n} days from {}", ds.dates[first]);
    println!(
        "{:<24} {:>8} {:>8} {:>9} {:>7}",
        "forecast", "MAE", "RMSE", "sMAPE %", "rMAE"
    );
    let mut scored: Vec<(String, Vec<[f64; 24]>)> = Vec::new();
    for c in columns {
        let f = to_days(table.column(c).expect("listed column"));
        let m = PointMetrics::compute(&flat(actual), &flat(&f), &flat(&naive))?;
        println!(
            "{c:<24} {:>8.3} {:>8.3} {:>9.2} {:>7.3}",
            m.mae, m.rmse, m.smape_pct, m.rmae
        );
        scored.push((c.clone(), f));
    }
    let m = PointMetrics::compute(&flat(actual), &flat(&naive), &flat(&naive))?;
    println!(
        "{:<24} {:>8.3} {:>8.3} {:>9.2} {:>7.3}",
        "seasonal naive", m.mae, m.rmse, m.smape_pct, m.rmae
    );
    if let Some(dir) = plots {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let week = n.min(7);
        let actual_week = flat(&actual[n - week..]);
        let mut week_series: Vec<(&str, Vec<f64>)> = vec![("actual", actual_week)];
        let mut hourly: Vec<(&str, [f64; 24])> = Vec::new();
        for (c, f) in scored.iter().filter(|(c, _)| c.ends_with("Ensemble")) {
            week_series.push((c.as_str(), flat(&f[n - week..])));
            hourly.push((c.as_str(), mae_by_hour(actual, f)));
        }
        week_series.push(("seasonal naive", flat(&naive[n - week..])));
        hourly.push(("seasonal naive", mae_by_hour(actual, &naive)));
        let borrowed: Vec<(&str, &[f64])> = week_series
            .iter()
            .map(|(k, v)| (*k, v.as_slice()))
            .collect();
        plot_week(
            &dir.join(format!("{market}_last_test_week.svg")),
            &format!("{market}: day-ahead price, last {week} test days"),
            "price per MWh",
            &borrowed,
        )?;
        plot_error_by_hour(
            &dir.join(format!("{market}_mae_by_hour.svg")),
            &format!("{market}: MAE by hour of day ({n} test days)"),
            "per MWh",
            &hourly,
        )?;
        println!("wrote plots to {}", dir.display());
    }
    if let Some(reference) = shared_data_file(market.shared_reference_forecasts())
        .map(|p| ForecastTable::read(&p))
        .transpose()?
    {
        let ref_first = reference
            .timestamps
            .iter()
            .position(|t| t == &table.timestamps[0]);
        if let Some(off) = ref_first.filter(|o| o + n * 24 <= reference.timestamps.len()) {
            for name in ["DNN Ensemble", "LEAR Ensemble"] {
                let r = to_days(
                    &reference.column(name).context("reference column")?[off..off + n * 24],
                );
                let m = PointMetrics::compute(&flat(actual), &flat(&r), &flat(&naive))?;
                println!(
                    "{:<24} {:>8.3} {:>8.3} {:>9.2} {:>7.3}",
                    format!("published {name}"),
                    m.mae,
                    m.rmse,
                    m.smape_pct,
                    m.rmae
                );
                for (c, f) in &scored {
                    let dm = diebold_mariano(actual, &r, f, 1)?;
                    println!(
                        "  DM test (|e|), H1: `{c}` more accurate than published {name}: DM = {:.2}, p = {:.4}",
                        dm.statistic, dm.p_value
                    );
                }
            }
        }
    }
    Ok(())
}

fn print_metrics(name: &str, m: &ClassificationMetrics) {
    println!(
        "{name:<34} accuracy {:.3}  precision {:.3}  recall {:.3}  specificity {:.3}  (n = {})",
        m.accuracy, m.precision, m.recall, m.specificity, m.n
    );
}

fn classify(
    market: Market,
    data: Option<&Path>,
    forecast: Option<&Path>,
    column: &str,
) -> anyhow::Result<()> {
    let ds = DayAheadDataset::read(&dataset_path(market, data)?)?;
    let dd = DirectionData::build(&ds);
    let cfg = DirectionConfig::default();
    let report = direction::evaluate(&dd, &cfg)?;
    println!(
        "{market}: price up/down vs same hour of the previous day; {} training days (5-fold blocked CV), {} test days",
        report.train_days, report.test_days
    );
    println!("chosen L2 strength: {}", report.chosen_l2);
    print_metrics("CV logistic (Box-Cox+PCA)", &report.cv_logistic);
    print_metrics("CV persistence", &report.cv_persistence);
    print_metrics("test logistic (Box-Cox+PCA)", &report.test_logistic);
    print_metrics("test persistence", &report.test_persistence);
    if let Some(fpath) = forecast {
        let table = ForecastTable::read(fpath)?;
        let values = table
            .column(column)
            .with_context(|| format!("column `{column}` not in {}", fpath.display()))?;
        let f_first = ds
            .dates
            .iter()
            .position(|d| table.timestamps[0].starts_with(&d.to_string()))
            .context("forecast start is not a day of the dataset")?;
        let f_days = to_days(values);
        let test_rows: Vec<usize> = (report.train_days..dd.len())
            .filter(|&i| dd.days[i] >= f_first && dd.days[i] < f_first + f_days.len())
            .collect();
        if test_rows.is_empty() {
            bail!("the forecast file does not overlap the classification test days");
        }
        let fc: Vec<[f64; 24]> = test_rows
            .iter()
            .map(|&i| f_days[dd.days[i] - f_first])
            .collect();
        let prev: Vec<[f64; 24]> = test_rows
            .iter()
            .map(|&i| ds.price_per_mwh[dd.days[i] - 1])
            .collect();
        let pred = direction::direction_from_forecast(&fc, &prev);
        let actual: Vec<bool> = test_rows.iter().flat_map(|&i| dd.labels[i]).collect();
        let logit: Vec<bool> = test_rows
            .iter()
            .flat_map(|&i| report.test_predictions[i - report.train_days])
            .collect();
        let persist: Vec<bool> = test_rows.iter().flat_map(|&i| dd.persistence[i]).collect();
        let pred_flat: Vec<bool> = pred.iter().flatten().copied().collect();
        println!(
            "on the {} test days covered by `{column}`:",
            test_rows.len()
        );
        print_metrics(
            &format!("forecast sign ({column})"),
            &ClassificationMetrics::compute(&actual, &pred_flat),
        );
        print_metrics(
            "logistic (Box-Cox+PCA)",
            &ClassificationMetrics::compute(&actual, &logit),
        );
        print_metrics(
            "persistence",
            &ClassificationMetrics::compute(&actual, &persist),
        );
    }
    Ok(())
}

fn load(
    source: LoadSource,
    test_days: usize,
    window: usize,
    json: Option<&Path>,
) -> anyhow::Result<()> {
    let need = |rel: &str| {
        shared_data_file(rel)
            .with_context(|| format!("shared data file {rel} not found (set VOLTEX_DATA_DIR)"))
    };
    let series: Vec<HourlySeries> = match source {
        LoadSource::Household => {
            let (mut per, agg) = read_households(&need(
                "household_load/aer_consumption_benchmarks_halfhourly_wh.csv.gz",
            )?)?;
            per.push(agg);
            per
        }
        LoadSource::Aemo => vec![read_aemo_demand(&need(
            "aemo_nsw1/nsw1_price_demand_30min_2017_2018.csv",
        )?)?],
        LoadSource::Isone => vec![read_isone_demand(&need(
            "isone/isone_smd_hourly_2017_jan_apr_all_zones.csv",
        )?)?],
    };
    let bar = progress(series.len(), "load series");
    let mut results = Vec::new();
    println!(
        "{:<34} {:>5} {:>9} {:>9} {:>8} {:>7} {:>9}",
        "series", "days", "MAE", "RMSE", "sMAPE%", "rMAE", "naive MAE"
    );
    for s in &series {
        match evaluate_load(s, test_days, window) {
            Ok(e) => {
                bar.suspend(|| {
                    println!(
                        "{:<34} {:>5} {:>9.3} {:>9.3} {:>8.2} {:>7.3} {:>9.3}  {}",
                        e.name,
                        e.scored_days,
                        e.model.mae,
                        e.model.rmse,
                        e.model.smape_pct,
                        e.model.rmae,
                        e.naive.mae,
                        e.unit
                    )
                });
                results.push(e);
            }
            Err(err) => bar.suspend(|| println!("{:<34} skipped: {err}", s.name)),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if !results.is_empty() {
        let k = results.len() as f64;
        println!(
            "mean rMAE over {} series: {:.3}",
            results.len(),
            results.iter().map(|e| e.model.rmae).sum::<f64>() / k
        );
    }
    if let Some(p) = json {
        std::fs::write(p, serde_json::to_string_pretty(&results)?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}

/// Arguments of `voltex bench forecast`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Markets to run (comma separated).
    #[arg(long, value_delimiter = ',', default_values_t = Market::ALL.to_vec())]
    markets: Vec<Market>,
    #[arg(long, value_enum, default_value = "lear")]
    model: ModelChoice,
    /// Test days per market (728 = the full benchmark).
    #[arg(long, default_value_t = TEST_DAYS)]
    days: usize,
    #[arg(long, default_value = "forecast-bench")]
    out: PathBuf,
}

/// Full reproduction: runs the model on each market, prints MAE against the
/// published LEAR ensemble and the wall time of the daily recalibration.
pub fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "forecast bench: model {}, {} days per market, {threads} threads",
        args.model.tag(),
        args.days
    );
    for market in &args.markets {
        let start = std::time::Instant::now();
        run_forecast(*market, args.model, None, &args.out, args.days, None)?;
        println!(
            "{market}: {:.1} s wall for {} days of daily recalibration",
            start.elapsed().as_secs_f64(),
            args.days
        );
    }
    Ok(())
}
