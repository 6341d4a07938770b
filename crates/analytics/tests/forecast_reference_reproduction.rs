//! Against the published epftoolbox forecasts (shared data; skipped when
//! absent): the long-window LEAR members reproduce the published ones hour by
//! hour, and the metrics reproduce the published ensemble figures.

use voltex_analytics::forecast::metrics::{mae, smape_pct};
use voltex_analytics::forecast::{
    DayAheadDataset, ForecastTable, LearConfig, Market, TEST_DAYS, rolling_forecast,
};
use voltex_formats::datadir::shared_data_file;

fn reference(market: Market) -> Option<ForecastTable> {
    let Some(path) = shared_data_file(market.shared_reference_forecasts()) else {
        println!("skipped: {} not found", market.shared_reference_forecasts());
        return None;
    };
    Some(ForecastTable::read(&path).unwrap())
}

#[test]
fn published_ensemble_metrics_are_recomputed_exactly() {
    for market in Market::ALL {
        let Some(r) = reference(market) else { return };
        let y = r.column("Real price").unwrap();
        let p = market.published();
        let dnn = r.column("DNN Ensemble").unwrap();
        let lear = r.column("LEAR Ensemble").unwrap();
        assert_eq!(y.len(), TEST_DAYS * 24);
        assert!((mae(y, dnn).unwrap() - p.dnn_mae).abs() < 5e-4, "{market}");
        assert!(
            (mae(y, lear).unwrap() - p.lear_mae).abs() < 5e-4,
            "{market}"
        );
        assert!(
            (smape_pct(y, lear).unwrap() - p.lear_smape_pct).abs() < 5e-3,
            "{market}"
        );
    }
}

#[test]
fn long_window_lear_matches_published_forecasts_hour_by_hour() {
    let Some(r) = reference(Market::Pjm) else {
        return;
    };
    let Some(path) = shared_data_file(Market::Pjm.shared_dataset()) else {
        println!("skipped: PJM dataset not found");
        return;
    };
    let ds = DayAheadDataset::read(&path).unwrap();
    let cfg = LearConfig {
        calibration_windows_days: vec![1456],
        ..LearConfig::benchmark()
    };
    let days = 2;
    let first = ds.n_days() - TEST_DAYS;
    let fc = rolling_forecast(&ds, first, days, &cfg, &|| {}).unwrap();
    let ours: Vec<f64> = fc.per_member[0].iter().flatten().copied().collect();
    let published = &r.column("LEAR 1456").unwrap()[..days * 24];
    let diff = mae(published, &ours).unwrap();
    assert!(diff < 0.1, "mean |ours − published| = {diff:.4} $/MWh");
}
