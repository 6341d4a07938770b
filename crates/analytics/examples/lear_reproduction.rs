//! Reproduces the epftoolbox LEAR ensemble (or runs the wider LEAR ensemble)
//! on the test period of one or more markets; release build recommended:
//! `cargo run --release -p voltex-analytics --example lear_reproduction -- NP,PJM [days] [out_dir]`.
//! Environment: `LEAR_MODEL=wide` (16-member model), `LEAR_STRIDE=k` (every
//! k-th test day only), `LEAR_WINDOWS=56,84`, `LEAR_SOLVER=cd`,
//! `LEAR_PENALTY=consistent`, `LEAR_CRITERION=bic` (experiments).
//! Prints MAE/sMAPE per member and ensemble next to the published forecasts
//! on the same days, the running time, and writes the forecast CSV.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use voltex_analytics::forecast::lasso::InformationCriterion;
use voltex_analytics::forecast::lear::{FinalSolver, PenaltyScale, forecast_day};
use voltex_analytics::forecast::metrics::{mae, smape_pct};
use voltex_analytics::forecast::{DayAheadDataset, ForecastTable, LearConfig, Market, TEST_DAYS};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let markets: Vec<Market> = match args.get(1).map(String::as_str) {
        None | Some("all") => Market::ALL.to_vec(),
        Some(list) => list.split(',').map(str::parse).collect::<Result<_, _>>()?,
    };
    let days: usize = args
        .get(2)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(TEST_DAYS);
    let out_dir = PathBuf::from(args.get(3).cloned().unwrap_or_else(|| "target/lear".into()));
    std::fs::create_dir_all(&out_dir)?;
    let env_is = |k: &str, v: &str| std::env::var(k).is_ok_and(|x| x == v);
    let tag = if env_is("LEAR_MODEL", "wide") {
        "LEAR-wide"
    } else {
        "LEAR"
    };
    let mut config = if tag == "LEAR-wide" {
        LearConfig::wide()
    } else {
        LearConfig::benchmark()
    };
    if env_is("LEAR_SOLVER", "cd") {
        config.final_solver = FinalSolver::CoordinateDescent {
            tol: 1e-4,
            max_sweeps: 2500,
        };
    }
    if env_is("LEAR_PENALTY", "consistent") {
        config.penalty_scale = PenaltyScale::Consistent;
    }
    if env_is("LEAR_CRITERION", "bic") {
        config.criteria = vec![InformationCriterion::Bic];
    }
    if let Ok(w) = std::env::var("LEAR_WINDOWS") {
        config.calibration_windows_days =
            w.split(',').map(|x| x.parse()).collect::<Result<_, _>>()?;
    }
    let stride: usize = std::env::var("LEAR_STRIDE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    for market in markets {
        let ds = DayAheadDataset::load_market(market)?;
        let first = ds.n_days() - TEST_DAYS;
        let picked: Vec<usize> = (0..days).step_by(stride).map(|k| first + k).collect();
        let done = AtomicUsize::new(0);
        let start = std::time::Instant::now();
        let per_day: Vec<Vec<[f64; 24]>> = picked
            .par_iter()
            .map(|&d| {
                let f = forecast_day(&ds, d, &config);
                let c = done.fetch_add(1, Ordering::Relaxed) + 1;
                if c.is_multiple_of(14) {
                    eprintln!("{market}: {c}/{} days", picked.len());
                }
                f
            })
            .collect::<Result<_, _>>()?;
        let seconds = start.elapsed().as_secs_f64();
        let members = config.member_names();
        let per_member: Vec<Vec<f64>> = (0..members.len())
            .map(|m| per_day.iter().flat_map(|d| d[m]).collect())
            .collect();
        let k = members.len() as f64;
        let ensemble: Vec<f64> = per_day
            .iter()
            .flat_map(|d| (0..24).map(move |h| d.iter().map(|f| f[h]).sum::<f64>() / k))
            .collect();
        let actual: Vec<f64> = picked.iter().flat_map(|&d| ds.price_per_mwh[d]).collect();
        let reference =
            voltex_formats::datadir::shared_data_file(market.shared_reference_forecasts())
                .map(|p| ForecastTable::read(&p))
                .transpose()?;
        let same_days = |col: &[f64]| -> Vec<f64> {
            picked
                .iter()
                .flat_map(|&d| col[(d - first) * 24..(d - first) * 24 + 24].to_vec())
                .collect()
        };
        for (name, f) in members.iter().zip(&per_member) {
            let mut line = format!(
                "{market} {name}: MAE {:.3} sMAPE {:.2}",
                mae(&actual, f)?,
                smape_pct(&actual, f)?
            );
            if let Some(col) = reference.as_ref().and_then(|r| r.column(name)) {
                let col = same_days(col);
                line.push_str(&format!(
                    "; published on same days MAE {:.3}, mean |ours - published| {:.3}",
                    mae(&actual, &col)?,
                    mae(&col, f)?
                ));
            }
            println!("{line}");
        }
        let m = mae(&actual, &ensemble)?;
        let s = smape_pct(&actual, &ensemble)?;
        println!(
            "{market} {tag} ensemble: MAE {m:.3} sMAPE {s:.2} over {} days ({stride}-day stride) in {seconds:.1} s",
            picked.len()
        );
        if let Some(r) = &reference {
            for name in ["LEAR Ensemble", "DNN Ensemble"] {
                let col = same_days(r.column(name).ok_or("reference column")?);
                let pm = mae(&actual, &col)?;
                println!(
                    "{market} published {name} on same days: MAE {pm:.3} sMAPE {:.2}; ours/published MAE ratio {:.4}",
                    smape_pct(&actual, &col)?,
                    m / pm
                );
            }
        }
        let timestamps: Vec<String> = picked
            .iter()
            .flat_map(|&d| {
                let date = ds.dates[d];
                (0..24).map(move |h| format!("{date} {h:02}:00:00"))
            })
            .collect();
        let mut columns = vec!["Real price".to_string()];
        let mut values = vec![actual.clone()];
        for (name, f) in members.iter().zip(per_member) {
            columns.push(name.clone());
            values.push(f);
        }
        columns.push(format!("{tag} Ensemble"));
        values.push(ensemble);
        ForecastTable {
            columns,
            timestamps,
            values,
        }
        .write(&out_dir.join(format!("{tag}_{market}.csv")))?;
    }
    Ok(())
}
