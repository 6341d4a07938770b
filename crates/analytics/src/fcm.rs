//! Fuzzy C-means (FCM) clustering of load curves, the Xie–Beni validity index
//! used to choose the number of clusters, and the load-shape features
//! (peak/valley ratio, load factor, share of consumption in flexible hours)
//! that characterise each cluster.
//!
//! The module works on plain `f64` vectors (one curve per point) and knows
//! nothing about households, tariffs or sellers: the pricing crate decides what
//! a curve is and what a cluster label means. It does no I/O.
//!
//! Formulation (Bezdek): minimise `J = Σ_i Σ_j u_ij^m ‖x_i − v_j‖²` subject to
//! `Σ_j u_ij = 1`, `u_ij ≥ 0`; alternating updates
//! `u_ij = 1 / Σ_l (‖x_i − v_j‖² / ‖x_i − v_l‖²)^{1/(m−1)}` and
//! `v_j = Σ_i u_ij^m x_i / Σ_i u_ij^m`. Xie–Beni:
//! `XB = J_m / (n · min_{j≠l} ‖v_j − v_l‖²)`, smaller is better.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// What went wrong while clustering.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FcmError {
    #[error("fcm: no points to cluster")]
    NoPoints,
    #[error(
        "fcm: point {index} has {found} features, expected {expected} (all curves must have the same length)"
    )]
    RaggedPoints {
        index: usize,
        found: usize,
        expected: usize,
    },
    #[error("fcm: point {index} feature {feature} is not finite")]
    NonFinitePoint { index: usize, feature: usize },
    #[error(
        "fcm: clusters = {clusters} must be at least 2 and at most the number of points ({points})"
    )]
    BadClusterCount { clusters: usize, points: usize },
    #[error("fcm: fuzziness m = {0} must be greater than 1")]
    BadFuzziness(f64),
    #[error("fcm: the candidate range of cluster counts is empty")]
    EmptyClusterRange,
}

/// Settings of one FCM run.
#[derive(Debug, Clone, PartialEq)]
pub struct FcmConfig {
    /// Number of clusters c.
    pub clusters: usize,
    /// Fuzziness exponent m (> 1; 2 is the usual choice).
    pub fuzziness: f64,
    /// Iteration limit of the alternating updates.
    pub max_iterations: usize,
    /// Stop when no membership changes by more than this.
    pub tolerance: f64,
    /// Seed of the k-means++-style centre initialisation.
    pub seed: u64,
}

impl FcmConfig {
    /// m = 2, 300 iterations, tolerance 1e-6.
    pub fn new(clusters: usize, seed: u64) -> Self {
        Self {
            clusters,
            fuzziness: 2.0,
            max_iterations: 300,
            tolerance: 1e-6,
            seed,
        }
    }
}

/// A fitted FCM model.
#[derive(Debug, Clone)]
pub struct FcmModel {
    /// Cluster centres v_j (c rows, one per cluster).
    pub centres: Vec<Vec<f64>>,
    /// Memberships u_ij (n rows, each of length c, summing to 1).
    pub memberships: Vec<Vec<f64>>,
    /// Fuzziness exponent m used.
    pub fuzziness: f64,
    /// Final objective J_m.
    pub objective: f64,
    /// Iterations performed.
    pub iterations: usize,
    /// Whether the membership change fell below the tolerance.
    pub converged: bool,
}

fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Memberships of one point given centres (the FCM membership update).
pub fn memberships_for(point: &[f64], centres: &[Vec<f64>], fuzziness: f64) -> Vec<f64> {
    let d: Vec<f64> = centres.iter().map(|v| squared_distance(point, v)).collect();
    // A point on a centre belongs to it fully (split evenly among coincident centres).
    let zeros = d.iter().filter(|&&x| x <= f64::MIN_POSITIVE).count();
    if zeros > 0 {
        return d
            .iter()
            .map(|&x| {
                if x <= f64::MIN_POSITIVE {
                    1.0 / zeros as f64
                } else {
                    0.0
                }
            })
            .collect();
    }
    // u_j = d_j^(−1/(m−1)) / Σ_l d_l^(−1/(m−1)): the update above in O(c).
    let exponent = 1.0 / (fuzziness - 1.0);
    let weights: Vec<f64> = d
        .iter()
        .map(|&dj| {
            if exponent == 1.0 {
                1.0 / dj
            } else {
                dj.powf(-exponent)
            }
        })
        .collect();
    let total: f64 = weights.iter().sum();
    weights.iter().map(|w| w / total).collect()
}

fn validate(points: &[Vec<f64>]) -> Result<usize, FcmError> {
    let first = points.first().ok_or(FcmError::NoPoints)?;
    let dim = first.len();
    for (index, p) in points.iter().enumerate() {
        if p.len() != dim {
            return Err(FcmError::RaggedPoints {
                index,
                found: p.len(),
                expected: dim,
            });
        }
        if let Some(feature) = p.iter().position(|x| !x.is_finite()) {
            return Err(FcmError::NonFinitePoint { index, feature });
        }
    }
    Ok(dim)
}

/// Deterministic k-means++ seeding: first centre uniform, then proportional to D².
fn initial_centres(points: &[Vec<f64>], clusters: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut centres = vec![points[rng.random_range(0..points.len())].clone()];
    let mut nearest: Vec<f64> = points
        .iter()
        .map(|p| squared_distance(p, &centres[0]))
        .collect();
    while centres.len() < clusters {
        let total: f64 = nearest.iter().sum();
        let next = if total <= 0.0 {
            rng.random_range(0..points.len())
        } else {
            let mut target = rng.random::<f64>() * total;
            let mut chosen = points.len() - 1;
            for (i, &w) in nearest.iter().enumerate() {
                if target < w {
                    chosen = i;
                    break;
                }
                target -= w;
            }
            chosen
        };
        let centre = points[next].clone();
        for (n, p) in nearest.iter_mut().zip(points) {
            *n = n.min(squared_distance(p, &centre));
        }
        centres.push(centre);
    }
    centres
}

/// Fit FCM to `points` (each a curve of equal length).
pub fn fit(points: &[Vec<f64>], config: &FcmConfig) -> Result<FcmModel, FcmError> {
    let dim = validate(points)?;
    let n = points.len();
    let c = config.clusters;
    if c < 2 || c > n {
        return Err(FcmError::BadClusterCount {
            clusters: c,
            points: n,
        });
    }
    let m = config.fuzziness;
    if !(m > 1.0 && m.is_finite()) {
        return Err(FcmError::BadFuzziness(m));
    }
    let mut centres = initial_centres(points, c, config.seed);
    let mut memberships: Vec<Vec<f64>> = points
        .par_iter()
        .map(|p| memberships_for(p, &centres, m))
        .collect();
    let mut iterations = 0;
    let mut converged = false;
    while iterations < config.max_iterations {
        iterations += 1;
        // Centre update (sequential sums: deterministic to the last bit).
        let mut numer = vec![vec![0.0; dim]; c];
        let mut denom = vec![0.0; c];
        for (p, u) in points.iter().zip(&memberships) {
            for j in 0..c {
                let w = if m == 2.0 { u[j] * u[j] } else { u[j].powf(m) };
                denom[j] += w;
                for (acc, x) in numer[j].iter_mut().zip(p) {
                    *acc += w * x;
                }
            }
        }
        for j in 0..c {
            if denom[j] > 0.0 {
                centres[j] = numer[j].iter().map(|s| s / denom[j]).collect();
            }
        }
        let updated: Vec<Vec<f64>> = points
            .par_iter()
            .map(|p| memberships_for(p, &centres, m))
            .collect();
        let change = updated
            .iter()
            .zip(&memberships)
            .flat_map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y).abs()))
            .fold(0.0_f64, f64::max);
        memberships = updated;
        if change < config.tolerance {
            converged = true;
            break;
        }
    }
    let objective = objective(points, &centres, &memberships, m);
    Ok(FcmModel {
        centres,
        memberships,
        fuzziness: m,
        objective,
        iterations,
        converged,
    })
}

fn objective(points: &[Vec<f64>], centres: &[Vec<f64>], memberships: &[Vec<f64>], m: f64) -> f64 {
    points
        .iter()
        .zip(memberships)
        .map(|(p, u)| {
            centres
                .iter()
                .zip(u)
                .map(|(v, &uij)| uij.powf(m) * squared_distance(p, v))
                .sum::<f64>()
        })
        .sum()
}

impl FcmModel {
    /// Number of clusters.
    pub fn clusters(&self) -> usize {
        self.centres.len()
    }

    /// Memberships of a new curve in the fitted clusters.
    pub fn memberships_of(&self, point: &[f64]) -> Vec<f64> {
        memberships_for(point, &self.centres, self.fuzziness)
    }

    /// The cluster of largest membership of each point.
    pub fn hard_labels(&self) -> Vec<usize> {
        self.memberships
            .iter()
            .map(|u| {
                u.iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .map(|(j, _)| j)
                    .unwrap_or(0)
            })
            .collect()
    }

    /// Xie–Beni index of this model on the points it was fitted to (smaller is better).
    pub fn xie_beni(&self, points: &[Vec<f64>]) -> f64 {
        let j = objective(points, &self.centres, &self.memberships, self.fuzziness);
        let mut separation = f64::INFINITY;
        for a in 0..self.centres.len() {
            for b in (a + 1)..self.centres.len() {
                separation = separation.min(squared_distance(&self.centres[a], &self.centres[b]));
            }
        }
        if separation <= 0.0 {
            return f64::INFINITY;
        }
        j / (points.len() as f64 * separation)
    }
}

/// The outcome of choosing the number of clusters by the Xie–Beni index.
#[derive(Debug, Clone)]
pub struct ClusterCountSelection {
    /// (c, Xie–Beni index) for every candidate c, in increasing c.
    pub xie_beni_by_count: Vec<(usize, f64)>,
    /// The chosen c (smallest index).
    pub chosen: usize,
    /// The model fitted with the chosen c.
    pub model: FcmModel,
}

/// Fit FCM for every c in `counts` and keep the one with the smallest Xie–Beni index.
pub fn select_cluster_count(
    points: &[Vec<f64>],
    counts: std::ops::RangeInclusive<usize>,
    base: &FcmConfig,
) -> Result<ClusterCountSelection, FcmError> {
    let mut best: Option<(f64, FcmModel)> = None;
    let mut table = Vec::new();
    for c in counts {
        let model = fit(
            points,
            &FcmConfig {
                clusters: c,
                ..base.clone()
            },
        )?;
        let xb = model.xie_beni(points);
        table.push((c, xb));
        if best.as_ref().is_none_or(|(b, _)| xb < *b) {
            best = Some((xb, model));
        }
    }
    let (_, model) = best.ok_or(FcmError::EmptyClusterRange)?;
    Ok(ClusterCountSelection {
        chosen: model.clusters(),
        xie_beni_by_count: table,
        model,
    })
}

/// Shape features of one daily load curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadShape {
    /// Highest hourly value over lowest hourly value (∞ when the lowest is zero).
    pub peak_valley_ratio: f64,
    /// Mean over maximum (0..1].
    pub load_factor: f64,
    /// Share of the day's energy that falls in the given flexible hours (0..1).
    pub flexible_share: f64,
}

/// Peak/valley ratio, load factor and flexible-hours share of a curve.
pub fn load_shape(curve: &[f64], flexible_hours: &[usize]) -> LoadShape {
    let max = curve.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = curve.iter().copied().fold(f64::INFINITY, f64::min);
    let total: f64 = curve.iter().sum();
    let mean = total / curve.len().max(1) as f64;
    let flexible: f64 = flexible_hours.iter().filter_map(|&h| curve.get(h)).sum();
    LoadShape {
        peak_valley_ratio: if min > 0.0 { max / min } else { f64::INFINITY },
        load_factor: if max > 0.0 { mean / max } else { 0.0 },
        flexible_share: if total > 0.0 { flexible / total } else { 0.0 },
    }
}

/// A linear projection onto the leading principal components of a point set.
///
/// FCM with m = 2 collapses to the grand mean when no direction carries much
/// more than a quarter of the variance (Yu, Cheng & Huang 2004), which is the
/// case for noisy 24-point daily curves; clustering in the space of the first
/// few principal components avoids that while keeping the whole curve.
#[derive(Debug, Clone, PartialEq)]
pub struct PrincipalComponents {
    pub mean: Vec<f64>,
    /// Orthonormal components, largest variance first.
    pub components: Vec<Vec<f64>>,
    /// Variance along each component.
    pub variances: Vec<f64>,
    /// Total variance of the data.
    pub total_variance: f64,
}

impl PrincipalComponents {
    /// Leading `k` components by power iteration with deflation (deterministic).
    #[allow(clippy::needless_range_loop)] // covariance indices mirror the formula
    pub fn fit(points: &[Vec<f64>], k: usize) -> Result<Self, FcmError> {
        let dim = validate(points)?;
        let n = points.len() as f64;
        let mut mean = vec![0.0; dim];
        for p in points {
            for (m, x) in mean.iter_mut().zip(p) {
                *m += x / n;
            }
        }
        let mut cov = vec![vec![0.0; dim]; dim];
        for p in points {
            for a in 0..dim {
                let da = p[a] - mean[a];
                for b in a..dim {
                    cov[a][b] += da * (p[b] - mean[b]) / n;
                }
            }
        }
        for a in 0..dim {
            for b in 0..a {
                cov[a][b] = cov[b][a];
            }
        }
        let total_variance: f64 = (0..dim).map(|a| cov[a][a]).sum();
        let (mut components, mut variances) = (Vec::new(), Vec::new());
        for c in 0..k.min(dim) {
            let mut v: Vec<f64> = (0..dim)
                .map(|i| 1.0 + ((i * 7 + c * 3) % 5) as f64 * 0.1)
                .collect();
            let mut eigenvalue = 0.0;
            for _ in 0..500 {
                let mut w: Vec<f64> = (0..dim)
                    .map(|a| (0..dim).map(|b| cov[a][b] * v[b]).sum())
                    .collect();
                let norm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
                if norm <= 0.0 {
                    break;
                }
                w.iter_mut().for_each(|x| *x /= norm);
                let change: f64 = w.iter().zip(&v).map(|(a, b)| (a - b).abs()).sum();
                v = w;
                eigenvalue = norm;
                if change < 1e-12 {
                    break;
                }
            }
            if eigenvalue <= 1e-12 * total_variance.max(f64::MIN_POSITIVE) {
                // No variance left: the data span fewer than k directions.
                break;
            }
            for a in 0..dim {
                for b in 0..dim {
                    cov[a][b] -= eigenvalue * v[a] * v[b];
                }
            }
            components.push(v);
            variances.push(eigenvalue);
        }
        Ok(Self {
            mean,
            components,
            variances,
            total_variance,
        })
    }

    /// Coordinates of a point in component space.
    pub fn project(&self, point: &[f64]) -> Vec<f64> {
        self.components
            .iter()
            .map(|c| {
                c.iter()
                    .zip(point)
                    .zip(&self.mean)
                    .map(|((w, x), m)| w * (x - m))
                    .sum()
            })
            .collect()
    }

    /// The point in the original space with the given component coordinates.
    pub fn reconstruct(&self, coordinates: &[f64]) -> Vec<f64> {
        let mut out = self.mean.clone();
        for (c, z) in self.components.iter().zip(coordinates) {
            for (o, w) in out.iter_mut().zip(c) {
                *o += z * w;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memberships_match_hand_computed_values() {
        // Point 0 with centres 0.5 and 5.5: squared distances 0.25 and 30.25,
        // u_1 = 1 / (1 + 0.25/30.25) = 30.25/30.5 (m = 2).
        let centres = vec![vec![0.5], vec![5.5]];
        let u = memberships_for(&[0.0], &centres, 2.0);
        assert!((u[0] - 30.25 / 30.5).abs() < 1e-12);
        assert!((u[1] - 0.25 / 30.5).abs() < 1e-12);
        // Midpoint belongs half to each.
        let u = memberships_for(&[3.0], &centres, 2.0);
        assert!((u[0] - 0.5).abs() < 1e-12);
        // A point on a centre belongs to it fully.
        assert_eq!(memberships_for(&[5.5], &centres, 2.0), vec![0.0, 1.0]);
    }

    #[test]
    fn symmetric_data_gives_symmetric_centres() {
        let points: Vec<Vec<f64>> = [0.0, 1.0, 5.0, 6.0].iter().map(|&x| vec![x]).collect();
        let model = fit(&points, &FcmConfig::new(2, 1)).unwrap();
        let mut v: Vec<f64> = model.centres.iter().map(|c| c[0]).collect();
        v.sort_by(f64::total_cmp);
        assert!((v[0] + v[1] - 6.0).abs() < 1e-6, "centres {v:?}");
        assert!(v[0] > 0.4 && v[0] < 0.6, "centres {v:?}");
        for u in &model.memberships {
            assert!((u.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn rejects_ragged_points_and_bad_settings() {
        let ragged = vec![vec![1.0, 2.0], vec![1.0]];
        assert!(matches!(
            fit(&ragged, &FcmConfig::new(2, 0)),
            Err(FcmError::RaggedPoints { index: 1, .. })
        ));
        let points = vec![vec![1.0], vec![2.0]];
        assert!(matches!(
            fit(&points, &FcmConfig::new(3, 0)),
            Err(FcmError::BadClusterCount { .. })
        ));
        let cfg = FcmConfig {
            fuzziness: 1.0,
            ..FcmConfig::new(2, 0)
        };
        assert!(matches!(fit(&points, &cfg), Err(FcmError::BadFuzziness(_))));
    }

    #[test]
    fn principal_components_of_points_on_a_line() {
        let points: Vec<Vec<f64>> = (0..10)
            .map(|i| vec![i as f64, 2.0 * i as f64, 1.0])
            .collect();
        let pca = PrincipalComponents::fit(&points, 2).unwrap();
        let c = &pca.components[0];
        let expected = [1.0 / 5f64.sqrt(), 2.0 / 5f64.sqrt(), 0.0];
        let sign = c[0].signum();
        for (a, b) in c.iter().zip(expected) {
            assert!((a * sign - b).abs() < 1e-9, "{c:?}");
        }
        assert!((pca.variances[0] - pca.total_variance).abs() < 1e-9);
        let z = pca.project(&points[3]);
        let back = pca.reconstruct(&z);
        for (a, b) in back.iter().zip(&points[3]) {
            assert!((a - b).abs() < 1e-9);
        }
    }

    #[test]
    fn load_shape_of_flat_and_peaky_curves() {
        let flat = vec![1.0; 24];
        let s = load_shape(&flat, &[0, 1, 2]);
        assert_eq!(s.peak_valley_ratio, 1.0);
        assert_eq!(s.load_factor, 1.0);
        assert!((s.flexible_share - 3.0 / 24.0).abs() < 1e-12);
        let mut peaky = vec![1.0; 24];
        peaky[18] = 4.0;
        let s = load_shape(&peaky, &[18]);
        assert_eq!(s.peak_valley_ratio, 4.0);
        assert!((s.load_factor - 27.0 / 24.0 / 4.0).abs() < 1e-12);
    }
}
