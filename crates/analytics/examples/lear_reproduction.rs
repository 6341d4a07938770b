//! Reproduces the epftoolbox LEAR ensemble on the test period of one or more
//! markets (release build recommended):
//! `cargo run --release -p voltex-analytics --example lear_reproduction -- NP [days] [out_dir]`.
//! Prints MAE/sMAPE of each window and of the ensemble, the running time, and
//! writes the forecast CSV in the benchmark's layout.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use voltex_analytics::forecast::metrics::{mae, smape_pct};
use voltex_analytics::forecast::{
    DayAheadDataset, ForecastTable, LearConfig, Market, TEST_DAYS, rolling_forecast,
};

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
    let mut config = if std::env::var("LEAR_MODEL").is_ok_and(|v| v == "wide") {
        LearConfig::wide()
    } else {
        LearConfig::benchmark()
    };
    if std::env::var("LEAR_SOLVER").is_ok_and(|v| v == "exact") {
        config.final_solver = voltex_analytics::forecast::FinalSolver::ExactPath;
    }
    if std::env::var("LEAR_PENALTY").is_ok_and(|v| v == "consistent") {
        config.penalty_scale = voltex_analytics::forecast::PenaltyScale::Consistent;
    }
    if std::env::var("LEAR_CRITERION").is_ok_and(|v| v == "bic") {
        config.criteria = vec![voltex_analytics::forecast::lasso::InformationCriterion::Bic];
    }
    if let Ok(w) = std::env::var("LEAR_WINDOWS") {
        config.calibration_windows_days = w.split(',').map(|x| x.parse().unwrap()).collect();
    }
    for market in markets {
        let ds = DayAheadDataset::load_market(market)?;
        let first = ds.n_days() - TEST_DAYS;
        let done = AtomicUsize::new(0);
        let fc = rolling_forecast(&ds, first, days, &config, &|| {
            let k = done.fetch_add(1, Ordering::Relaxed) + 1;
            if k % 28 == 0 {
                eprintln!("{market}: {k}/{days} days");
            }
        })?;
        let actual: Vec<f64> = ds.price_per_mwh[first..first + days]
            .iter()
            .flatten()
            .copied()
            .collect();
        let flat = |f: &[[f64; 24]]| f.iter().flatten().copied().collect::<Vec<f64>>();
        let reference =
            voltex_formats::datadir::shared_data_file(market.shared_reference_forecasts())
                .map(|p| ForecastTable::read(&p))
                .transpose()?;
        for (w, f) in fc.members.iter().zip(&fc.per_member) {
            let ours = flat(f);
            let mut line = format!(
                "{market} {w}: MAE {:.3} sMAPE {:.2}",
                mae(&actual, &ours)?,
                smape_pct(&actual, &ours)?
            );
            if let Some(col) = reference.as_ref().and_then(|r| r.column(w)) {
                let col = &col[..days * 24];
                line.push_str(&format!(
                    "; published on same days MAE {:.3}, mean |ours - published| {:.3}",
                    mae(&actual, col)?,
                    mae(col, &ours)?
                ));
            }
            println!("{line}");
        }
        if let Some(col) = reference.as_ref().and_then(|r| r.column("DNN Ensemble")) {
            println!(
                "{market} published DNN Ensemble on same days: MAE {:.3}",
                mae(&actual, &col[..days * 24])?
            );
        }
        if let Some(col) = reference.as_ref().and_then(|r| r.column("LEAR Ensemble")) {
            println!(
                "{market} published LEAR Ensemble on same days: MAE {:.3}",
                mae(&actual, &col[..days * 24])?
            );
        }
        let pubf = market.published();
        let m = mae(&actual, &flat(&fc.ensemble))?;
        println!(
            "{market} LEAR ensemble: MAE {m:.3} sMAPE {:.2} (published {:.3} / {:.2}; ratio {:.4}) in {:.1} s",
            smape_pct(&actual, &flat(&fc.ensemble))?,
            pubf.lear_mae,
            pubf.lear_smape_pct,
            m / pubf.lear_mae,
            fc.seconds
        );
        let mut named: Vec<(String, &[[f64; 24]])> = fc
            .members
            .iter()
            .zip(&fc.per_member)
            .map(|(w, f)| (w.clone(), f.as_slice()))
            .collect();
        named.push(("LEAR Ensemble".into(), fc.ensemble.as_slice()));
        let tag = std::env::var("LEAR_MODEL").unwrap_or_else(|_| "LEAR".into());
        ForecastTable::from_days(&ds, first, &named)
            .write(&out_dir.join(format!("{tag}_{market}.csv")))?;
    }
    Ok(())
}
