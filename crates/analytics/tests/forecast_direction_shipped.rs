//! Price up/down classification on the shipped extract: labels and the
//! persistence baseline are built from the right days, and the whole
//! evaluation (CV + chronological test) runs and yields valid scores.

use voltex_analytics::direction::{DirectionConfig, DirectionData, evaluate};
use voltex_analytics::forecast::DayAheadDataset;

fn shipped() -> DayAheadDataset {
    let path = voltex_formats::datadir::bundled_data_dir().join("epf/NP_2013_first120days.csv");
    DayAheadDataset::read(&path).unwrap()
}

#[test]
fn labels_compare_with_the_previous_day_and_persistence_with_the_day_before() {
    let ds = shipped();
    let dd = DirectionData::build(&ds);
    let i = 20;
    let d = dd.days[i];
    for h in 0..24 {
        assert_eq!(
            dd.labels[i][h],
            ds.price_per_mwh[d][h] > ds.price_per_mwh[d - 1][h]
        );
        assert_eq!(
            dd.persistence[i][h],
            ds.price_per_mwh[d - 1][h] > ds.price_per_mwh[d - 2][h]
        );
    }
    // inputs of day d do not contain the price of day d
    let mut changed = ds.clone();
    changed.price_per_mwh[d]
        .iter_mut()
        .for_each(|v| *v += 100.0);
    assert_eq!(DirectionData::build(&changed).features[i], dd.features[i]);
}

#[test]
fn evaluation_runs_and_scores_are_proportions() {
    let ds = shipped();
    let dd = DirectionData::build(&ds);
    let cfg = DirectionConfig {
        l2_grid: vec![1e-2, 1e-1],
        iterations: 100,
        ..DirectionConfig::default()
    };
    let r = evaluate(&dd, &cfg).unwrap();
    assert_eq!(r.train_days + r.test_days, dd.len());
    for m in [
        r.cv_logistic,
        r.cv_persistence,
        r.test_logistic,
        r.test_persistence,
    ] {
        for v in [m.accuracy, m.precision, m.recall, m.specificity] {
            assert!((0.0..=1.0).contains(&v));
        }
    }
    assert_eq!(r.test_logistic.n, r.test_days * 24);
    assert!(r.test_logistic.accuracy > 0.5, "{:?}", r.test_logistic);
}
