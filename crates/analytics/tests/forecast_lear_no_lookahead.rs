//! LEAR forecasts of day d use prices up to d − 1 and exogenous day-ahead
//! forecasts up to d only, on the shipped Nord Pool extract.

use voltex_analytics::forecast::lasso::InformationCriterion;
use voltex_analytics::forecast::lear::{
    FinalSolver, LearConfig, PenaltyScale, SelectionPath, forecast_day,
};
use voltex_analytics::forecast::metrics::{mae, seasonal_naive};
use voltex_analytics::forecast::{DayAheadDataset, rolling_forecast};

fn shipped() -> DayAheadDataset {
    let path = voltex_formats::datadir::bundled_data_dir().join("epf/NP_2013_first120days.csv");
    DayAheadDataset::read(&path).expect("shipped extract parses")
}

fn short_config() -> LearConfig {
    LearConfig {
        calibration_windows_days: vec![35, 56],
        criteria: vec![InformationCriterion::Aic, InformationCriterion::Bic],
        penalty_scale: PenaltyScale::Epftoolbox,
        final_solver: FinalSolver::ExactPath,
        selection_path: SelectionPath::Sklearn023,
    }
}

#[test]
fn shipped_extract_has_120_whole_days() {
    let ds = shipped();
    assert_eq!(ds.n_days(), 120);
    assert_eq!(ds.dates[0].to_string(), "2013-01-01");
    assert_eq!(ds.price_per_mwh[0][0], 31.05);
}

#[test]
fn forecast_of_day_d_ignores_data_after_d_minus_1() {
    let ds = shipped();
    let cfg = short_config();
    let d = 90;
    let base = forecast_day(&ds, d, &cfg).unwrap();
    let mut changed = ds.clone();
    for t in d..changed.n_days() {
        for h in 0..24 {
            changed.price_per_mwh[t][h] = 1000.0 + (t * h) as f64;
            if t > d {
                changed.exogenous[0][t][h] *= 3.0;
                changed.exogenous[1][t][h] = 0.0;
            }
        }
    }
    assert_eq!(
        forecast_day(&changed, d, &cfg).unwrap(),
        base,
        "prices of day d.. and exogenous after d must not matter"
    );

    // the exogenous forecast of day d itself is an input ...
    let mut exo = ds.clone();
    exo.exogenous[0][d].iter_mut().for_each(|v| *v *= 1.5);
    assert_ne!(forecast_day(&exo, d, &cfg).unwrap(), base);
    // ... and so is yesterday's price
    let mut yesterday = ds.clone();
    yesterday.price_per_mwh[d - 1]
        .iter_mut()
        .for_each(|v| *v += 20.0);
    assert_ne!(forecast_day(&yesterday, d, &cfg).unwrap(), base);
}

#[test]
fn short_window_lear_beats_seasonal_naive_on_shipped_data() {
    let ds = shipped();
    let cfg = short_config();
    let first = 80;
    let n = 40;
    let fc = rolling_forecast(&ds, first, n, &cfg, &|| {}).unwrap();
    assert_eq!(
        fc.members,
        vec!["LEAR 35", "LEAR 35 BIC", "LEAR 56", "LEAR 56 BIC"]
    );
    let actual: Vec<f64> = ds.price_per_mwh[first..first + n]
        .iter()
        .flatten()
        .copied()
        .collect();
    let ens: Vec<f64> = fc.ensemble.iter().flatten().copied().collect();
    let naive: Vec<f64> = (first..first + n)
        .flat_map(|d| seasonal_naive(&ds.price_per_mwh, |t| ds.weekday(t), d).unwrap())
        .collect();
    let m_model = mae(&actual, &ens).unwrap();
    let m_naive = mae(&actual, &naive).unwrap();
    assert!(
        m_model < m_naive,
        "LEAR MAE {m_model:.3} should beat naive {m_naive:.3}"
    );
}

#[test]
fn forecast_needs_the_longest_window_of_history() {
    let ds = shipped();
    assert!(forecast_day(&ds, 40, &short_config()).is_err());
}
