//! Market statistics over plain series: price percentiles and weighted
//! means (docs/market-evaluation.md, "Statistics").
use serde::{Deserialize, Serialize};

/// The distribution of a day's (or month's) prices, ¥/MWh.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PriceDistribution {
    pub min: f64,
    pub p5: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p95: f64,
    pub max: f64,
    /// Σ price × weight / Σ weight (load-weighted when weights are loads).
    pub weighted_mean: f64,
}

/// Percentile `p` (0–100) of sorted values, linear between ranks (the
/// "type 7" of Hyndman and Fan, numpy's default); 0 for no values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    match sorted.len() {
        0 => 0.0,
        1 => sorted[0],
        n => {
            let rank = (p / 100.0).clamp(0.0, 1.0) * (n - 1) as f64;
            let lo = rank.floor() as usize;
            let hi = rank.ceil() as usize;
            sorted[lo] + (rank - lo as f64) * (sorted[hi] - sorted[lo])
        }
    }
}

/// The distribution of `(price, weight)` pairs; the percentiles are of the
/// prices unweighted, the mean is weighted (plain when all weights are 0).
pub fn price_distribution(samples: &[(f64, f64)]) -> PriceDistribution {
    let mut prices: Vec<f64> = samples.iter().map(|s| s.0).collect();
    if prices.is_empty() {
        return PriceDistribution::default();
    }
    prices.sort_by(f64::total_cmp);
    let w: f64 = samples.iter().map(|s| s.1).sum();
    let weighted_mean = if w > 0.0 {
        samples.iter().map(|s| s.0 * s.1).sum::<f64>() / w
    } else {
        prices.iter().sum::<f64>() / prices.len() as f64
    };
    PriceDistribution {
        min: prices[0],
        p5: percentile(&prices, 5.0),
        p25: percentile(&prices, 25.0),
        p50: percentile(&prices, 50.0),
        p75: percentile(&prices, 75.0),
        p95: percentile(&prices, 95.0),
        max: prices[prices.len() - 1],
        weighted_mean,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_between_ranks() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(percentile(&v, 50.0), 3.0);
        assert_eq!(percentile(&v, 25.0), 2.0);
        assert!((percentile(&v, 5.0) - 1.2).abs() < 1e-12);
        assert_eq!(percentile(&[], 50.0), 0.0);
        let d = price_distribution(&[(10.0, 1.0), (30.0, 3.0)]);
        assert_eq!(d.min, 10.0);
        assert_eq!(d.max, 30.0);
        assert_eq!(d.p50, 20.0);
        assert_eq!(d.weighted_mean, 25.0);
    }
}
