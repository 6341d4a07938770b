//! Price up/down classification: will the price of day d at hour h be higher
//! than at the same hour of day d − 1?
//!
//! Pipeline (fitted on training days only): missing values → training median,
//! outliers → clipped to the training 0.5 %/99.5 % quantiles, Box-Cox per
//! input, standardisation, PCA keeping the components that explain a given
//! share of variance; then one logistic regression with L2 regularisation per
//! hour, trained by batch gradient descent. Evaluation uses a chronological
//! 70/30 split, 5-fold blocked cross-validation on the training part to
//! choose the regularisation, and the persistence baseline ("same direction
//! as yesterday"). This module must not read prices of day d to build the
//! inputs of day d.

pub mod logistic;
pub mod pipeline;

use rayon::prelude::*;

use crate::error::AnalyticsError;
use crate::forecast::data::DayAheadDataset;
use crate::forecast::lear::raw_features;
pub use logistic::{LogisticRegression, log_loss_and_gradient};
pub use pipeline::Preprocessor;

/// Confusion-matrix based scores of a binary classifier ("up" = positive).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct ClassificationMetrics {
    pub accuracy: f64,
    pub precision: f64,
    /// Recall of "up" (sensitivity).
    pub recall: f64,
    /// Recall of "down".
    pub specificity: f64,
    pub n: usize,
}

impl ClassificationMetrics {
    pub fn compute(actual: &[bool], predicted: &[bool]) -> Self {
        let (mut tp, mut tn, mut fp, mut fneg) = (0usize, 0usize, 0usize, 0usize);
        for (&a, &p) in actual.iter().zip(predicted) {
            match (a, p) {
                (true, true) => tp += 1,
                (false, false) => tn += 1,
                (false, true) => fp += 1,
                (true, false) => fneg += 1,
            }
        }
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        Self {
            accuracy: ratio(tp + tn, actual.len()),
            precision: ratio(tp, tp + fp),
            recall: ratio(tp, tp + fneg),
            specificity: ratio(tn, tn + fp),
            n: actual.len(),
        }
    }

    fn mean(items: &[Self]) -> Self {
        let k = items.len().max(1) as f64;
        Self {
            accuracy: items.iter().map(|m| m.accuracy).sum::<f64>() / k,
            precision: items.iter().map(|m| m.precision).sum::<f64>() / k,
            recall: items.iter().map(|m| m.recall).sum::<f64>() / k,
            specificity: items.iter().map(|m| m.specificity).sum::<f64>() / k,
            n: items.iter().map(|m| m.n).sum(),
        }
    }
}

/// Inputs and labels of the classification problem, one row per day.
#[derive(Debug, Clone)]
pub struct DirectionData {
    /// Dataset day index of each row.
    pub days: Vec<usize>,
    /// The LEAR inputs of the day (prices of d−1, d−2, d−3, d−7; exogenous
    /// forecasts of d, d−1, d−7; weekday dummies).
    pub features: Vec<Vec<f64>>,
    /// `labels[row][h]`: price(d, h) > price(d − 1, h).
    pub labels: Vec<[bool; 24]>,
    /// Persistence prediction: the direction of day d − 1 (from d−2 to d−1).
    pub persistence: Vec<[bool; 24]>,
}

impl DirectionData {
    /// Rows for every day from the eighth on.
    pub fn build(ds: &DayAheadDataset) -> Self {
        let days: Vec<usize> = (8..ds.n_days()).collect();
        let p = &ds.price_per_mwh;
        Self {
            features: days.iter().map(|&d| raw_features(ds, d).to_vec()).collect(),
            labels: days
                .iter()
                .map(|&d| std::array::from_fn(|h| p[d][h] > p[d - 1][h]))
                .collect(),
            persistence: days
                .iter()
                .map(|&d| std::array::from_fn(|h| p[d - 1][h] > p[d - 2][h]))
                .collect(),
            days,
        }
    }

    pub fn len(&self) -> usize {
        self.days.len()
    }

    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }

    /// Chronological split index (first `share` of the rows train).
    pub fn split_index(&self, train_share: f64) -> usize {
        ((self.len() as f64) * train_share).round() as usize
    }
}

/// Settings of the logistic-regression classifier.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectionConfig {
    pub train_share: f64,
    pub folds: usize,
    /// Candidate L2 strengths; the one with the best mean CV accuracy is used.
    pub l2_grid: Vec<f64>,
    pub explained_variance: f64,
    pub max_components: usize,
    pub learning_rate: f64,
    pub iterations: usize,
}

impl Default for DirectionConfig {
    fn default() -> Self {
        Self {
            train_share: 0.7,
            folds: 5,
            l2_grid: vec![1e-4, 1e-3, 1e-2, 1e-1],
            explained_variance: 0.95,
            max_components: 60,
            learning_rate: 0.5,
            iterations: 400,
        }
    }
}

/// Preprocessed inputs of a train/test split (the pipeline is fitted on the train rows).
struct PreparedSplit {
    z_train: Vec<Vec<f64>>,
    y_train: Vec<[bool; 24]>,
    z_test: Vec<Vec<f64>>,
}

fn prepare(
    data: &DirectionData,
    train: &[usize],
    test: &[usize],
    cfg: &DirectionConfig,
) -> PreparedSplit {
    let x_train: Vec<&[f64]> = train.iter().map(|&i| data.features[i].as_slice()).collect();
    let pre = Preprocessor::fit(&x_train, cfg.explained_variance, cfg.max_components);
    PreparedSplit {
        z_train: x_train.iter().map(|x| pre.transform(x)).collect(),
        y_train: train.iter().map(|&i| data.labels[i]).collect(),
        z_test: test
            .iter()
            .map(|&i| pre.transform(&data.features[i]))
            .collect(),
    }
}

/// Fits the 24 hourly models on the prepared training rows and predicts the test rows.
fn fit_predict(split: &PreparedSplit, l2: f64, cfg: &DirectionConfig) -> Vec<[bool; 24]> {
    let models: Vec<LogisticRegression> = (0..24)
        .into_par_iter()
        .map(|h| {
            let y: Vec<bool> = split.y_train.iter().map(|l| l[h]).collect();
            LogisticRegression::fit(&split.z_train, &y, l2, cfg.learning_rate, cfg.iterations)
        })
        .collect();
    split
        .z_test
        .iter()
        .map(|z| std::array::from_fn(|h| models[h].predict_proba(z) > 0.5))
        .collect()
}

fn flatten(rows: &[[bool; 24]]) -> Vec<bool> {
    rows.iter().flatten().copied().collect()
}

/// Cross-validation, test and baseline results of the direction classifier.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DirectionReport {
    pub train_days: usize,
    pub test_days: usize,
    pub chosen_l2: f64,
    /// Mean over folds, for the chosen L2 strength.
    pub cv_logistic: ClassificationMetrics,
    pub cv_persistence: ClassificationMetrics,
    pub test_logistic: ClassificationMetrics,
    pub test_persistence: ClassificationMetrics,
    /// Per-row test predictions (for combining with other classifiers).
    #[serde(skip)]
    pub test_predictions: Vec<[bool; 24]>,
}

/// Runs the whole evaluation: blocked k-fold CV on the chronological training
/// part (choosing L2), refit on all training rows, scores on the test part.
pub fn evaluate(
    data: &DirectionData,
    cfg: &DirectionConfig,
) -> Result<DirectionReport, AnalyticsError> {
    let split = data.split_index(cfg.train_share);
    if split < cfg.folds * 10 || split >= data.len() {
        return Err(AnalyticsError::NotEnoughHistory {
            what: "price-direction classification".into(),
            needed: cfg.folds * 10 + 1,
            available: data.len(),
        });
    }
    let fold_len = split / cfg.folds;
    let folds: Vec<(Vec<usize>, Vec<usize>)> = (0..cfg.folds)
        .map(|k| {
            let lo = k * fold_len;
            let hi = if k + 1 == cfg.folds {
                split
            } else {
                lo + fold_len
            };
            (
                (0..split).filter(|i| *i < lo || *i >= hi).collect(),
                (lo..hi).collect(),
            )
        })
        .collect();
    let prepared: Vec<PreparedSplit> = folds
        .iter()
        .map(|(tr, va)| prepare(data, tr, va, cfg))
        .collect();
    let mut best: Option<(f64, ClassificationMetrics)> = None;
    for &l2 in &cfg.l2_grid {
        let per_fold: Vec<ClassificationMetrics> = folds
            .iter()
            .zip(&prepared)
            .map(|((_, va), split)| {
                let pred = fit_predict(split, l2, cfg);
                let actual: Vec<[bool; 24]> = va.iter().map(|&i| data.labels[i]).collect();
                ClassificationMetrics::compute(&flatten(&actual), &flatten(&pred))
            })
            .collect();
        let mean = ClassificationMetrics::mean(&per_fold);
        if best.is_none_or(|(_, m)| mean.accuracy > m.accuracy) {
            best = Some((l2, mean));
        }
    }
    let (chosen_l2, cv_logistic) = best.expect("non-empty L2 grid");
    let cv_persistence = ClassificationMetrics::mean(
        &folds
            .iter()
            .map(|(_, va)| {
                let a: Vec<[bool; 24]> = va.iter().map(|&i| data.labels[i]).collect();
                let p: Vec<[bool; 24]> = va.iter().map(|&i| data.persistence[i]).collect();
                ClassificationMetrics::compute(&flatten(&a), &flatten(&p))
            })
            .collect::<Vec<_>>(),
    );
    let train: Vec<usize> = (0..split).collect();
    let test: Vec<usize> = (split..data.len()).collect();
    let pred = fit_predict(&prepare(data, &train, &test, cfg), chosen_l2, cfg);
    let actual: Vec<[bool; 24]> = test.iter().map(|&i| data.labels[i]).collect();
    let persist: Vec<[bool; 24]> = test.iter().map(|&i| data.persistence[i]).collect();
    Ok(DirectionReport {
        train_days: split,
        test_days: test.len(),
        chosen_l2,
        cv_logistic,
        cv_persistence,
        test_logistic: ClassificationMetrics::compute(&flatten(&actual), &flatten(&pred)),
        test_persistence: ClassificationMetrics::compute(&flatten(&actual), &flatten(&persist)),
        test_predictions: pred,
    })
}

/// Direction implied by a price forecast: up when the forecast of (d, h)
/// exceeds the known price of (d − 1, h).
pub fn direction_from_forecast(
    forecast: &[[f64; 24]],
    previous_day_price: &[[f64; 24]],
) -> Vec<[bool; 24]> {
    forecast
        .iter()
        .zip(previous_day_price)
        .map(|(f, p)| std::array::from_fn(|h| f[h] > p[h]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_from_confusion_matrix() {
        // actual:    U U U D D D D
        // predicted: U U D U D D D  -> tp 2, fn 1, fp 1, tn 3
        let a = [true, true, true, false, false, false, false];
        let p = [true, true, false, true, false, false, false];
        let m = ClassificationMetrics::compute(&a, &p);
        assert!((m.accuracy - 5.0 / 7.0).abs() < 1e-12);
        assert!((m.precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.specificity - 3.0 / 4.0).abs() < 1e-12);
    }

    #[test]
    fn forecast_direction_compares_with_previous_day() {
        let f = [[1.0; 24]];
        let mut prev = [[0.5; 24]];
        prev[0][3] = 2.0;
        let d = direction_from_forecast(&f, &prev);
        assert!(d[0][0] && !d[0][3]);
    }
}
