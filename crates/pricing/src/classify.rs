//! Load classification for pricing: FCM (voltex-analytics) on normalised
//! hourly household-day curves, the number of clusters chosen by Xie–Beni,
//! each cluster characterised and labelled controllable or not, the label
//! validated against the data's controlled-load channel, and the controllable
//! share of each user derived from its memberships.
//!
//! Rules (an interpretation, documented in docs/pricing.md):
//! - curve = general + controlled load, divided by its daily total;
//! - FCM runs on the curves' coordinates along their first three principal
//!   components (m = 2 FCM collapses to the grand mean on the raw 24-point
//!   curves, whose variance is spread over many directions); centres are
//!   mapped back to 24-hour curves for characterisation;
//! - a cluster is *controllable* when its centre puts more of the day's energy
//!   in the flexible (valley) hours than the all-days average curve does;
//! - controllable fraction κ_j = 0.10 (discretionary appliances, every cluster)
//!   plus, for controllable clusters, the membership-weighted measured share of
//!   the controlled-load channel in that cluster;
//! - user share κ_i = Σ_j u_ij κ_j and c_{i,t} = κ_i · load_{i,t}.

use std::path::Path;

use voltex_analytics::fcm::{self, FcmConfig, FcmModel, LoadShape, PrincipalComponents};
use voltex_charts::{Figure, Panel, Series};

use crate::data::HouseholdDay;
use crate::tou::{Period, TouSchedule};
use crate::{HOURS, PricingError};

/// Share of load any household can move (washing, dishwasher, pool pump timers).
pub const DISCRETIONARY_SHARE: f64 = 0.10;
/// Days with less energy than this are left out of clustering (kWh).
pub const MIN_DAILY_KWH: f64 = 1.0;
/// A day "has controlled load" when that channel carries at least this share.
pub const CONTROLLED_DAY_SHARE: f64 = 0.10;

/// One cluster's profile.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterProfile {
    pub index: usize,
    /// Days whose largest membership is this cluster.
    pub days: usize,
    /// Normalised centre (shares of daily energy per hour).
    pub centre: Vec<f64>,
    pub shape: LoadShape,
    pub controllable: bool,
    /// Membership-weighted mean share of the controlled-load channel.
    pub measured_controlled_share: f64,
    /// Membership-weighted share of days with ≥ 10 % on the controlled channel.
    pub controlled_day_share: f64,
    /// κ_j: share of each hour's load treated as controllable.
    pub controllable_fraction: f64,
}

/// How well the controllable label matches the controlled-load channel.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelValidation {
    /// Mean controlled-channel share over days, weighted by membership in controllable clusters.
    pub controlled_share_in_controllable: f64,
    /// The same for the other clusters.
    pub controlled_share_in_other: f64,
    /// AUC of "membership in controllable clusters" as a score for "day has ≥ 10 % controlled load".
    pub auc: f64,
    /// Days that have ≥ 10 % controlled load.
    pub positive_days: usize,
    pub days: usize,
}

/// The result of classifying the household data.
#[derive(Debug, Clone)]
pub struct LoadClassification {
    pub xie_beni_by_count: Vec<(usize, f64)>,
    pub chosen_clusters: usize,
    pub clusters: Vec<ClusterProfile>,
    pub validation: LabelValidation,
    pub model: FcmModel,
    /// The projection FCM clusters in.
    pub projection: PrincipalComponents,
    pub flexible_hours: Vec<usize>,
}

impl LoadClassification {
    /// The cluster centres as curves over the day (share of daily energy
    /// per hour), one line per cluster named by its label and size.
    pub fn centres_figure(&self) -> Figure {
        let series = self
            .clusters
            .iter()
            .map(|cl| {
                let label = if cl.controllable {
                    "controllable"
                } else {
                    "other"
                };
                Series::indexed(
                    format!("cluster {} ({label}, {} days)", cl.index, cl.days),
                    cl.centre.iter().copied(),
                )
            })
            .collect();
        Figure::single(Panel::new(
            "FCM cluster centres (share of daily energy per hour)",
            "hour",
            "share",
            series,
        ))
    }

    /// Write [`Self::centres_figure`] as SVG.
    pub fn write_centres_svg(&self, path: &Path) -> Result<(), PricingError> {
        Ok(voltex_charts::write_svg(path, &self.centres_figure())?)
    }
}

/// Principal components kept for clustering.
pub const CLUSTERING_COMPONENTS: usize = 3;

/// A day's curve divided by its total (None when the day is nearly empty).
pub fn normalised_curve(load_kwh: &[f64; HOURS]) -> Option<Vec<f64>> {
    let total: f64 = load_kwh.iter().sum();
    (total >= MIN_DAILY_KWH).then(|| load_kwh.iter().map(|v| v / total).collect())
}

/// Area under the ROC curve of `scores` for binary `labels` (ties count half).
pub fn auc(scores: &[f64], labels: &[bool]) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let positives = labels.iter().filter(|&&l| l).count() as f64;
    let negatives = labels.len() as f64 - positives;
    if positives == 0.0 || negatives == 0.0 {
        return 0.5;
    }
    // Average ranks for ties.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        for &o in &order[i..=j] {
            if labels[o] {
                rank_sum += avg_rank;
            }
        }
        i = j + 1;
    }
    (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives)
}

/// Classify household-days. `counts` is the candidate range of cluster numbers.
pub fn classify(
    days: &[HouseholdDay],
    schedule: &TouSchedule,
    counts: std::ops::RangeInclusive<usize>,
    seed: u64,
) -> Result<LoadClassification, PricingError> {
    let used: Vec<(&HouseholdDay, Vec<f64>)> = days
        .iter()
        .filter_map(|d| normalised_curve(&d.total_load_kwh()).map(|c| (d, c)))
        .collect();
    let points: Vec<Vec<f64>> = used.iter().map(|(_, c)| c.clone()).collect();
    let projection = PrincipalComponents::fit(&points, CLUSTERING_COMPONENTS)?;
    let projected: Vec<Vec<f64>> = points.iter().map(|p| projection.project(p)).collect();
    let selection = fcm::select_cluster_count(&projected, counts, &FcmConfig::new(2, seed))?;
    let model = selection.model;
    let flexible_hours = schedule.hours(Period::Valley);
    let mut mean_curve = vec![0.0; HOURS];
    for p in &points {
        for h in 0..HOURS {
            mean_curve[h] += p[h] / points.len() as f64;
        }
    }
    let reference_share = fcm::load_shape(&mean_curve, &flexible_hours).flexible_share;
    let labels = model.hard_labels();
    let c = model.clusters();
    let mut clusters = Vec::with_capacity(c);
    for j in 0..c {
        let centre = projection.reconstruct(&model.centres[j]);
        let shape = fcm::load_shape(&centre, &flexible_hours);
        let (mut w, mut share, mut controlled_days) = (0.0, 0.0, 0.0);
        for ((day, _), u) in used.iter().zip(&model.memberships) {
            w += u[j];
            share += u[j] * day.controlled_share();
            controlled_days +=
                u[j] * f64::from(u8::from(day.controlled_share() >= CONTROLLED_DAY_SHARE));
        }
        let measured = if w > 0.0 { share / w } else { 0.0 };
        let controllable = shape.flexible_share > reference_share;
        clusters.push(ClusterProfile {
            index: j,
            days: labels.iter().filter(|&&l| l == j).count(),
            centre,
            shape,
            controllable,
            measured_controlled_share: measured,
            controlled_day_share: if w > 0.0 { controlled_days / w } else { 0.0 },
            controllable_fraction: DISCRETIONARY_SHARE + if controllable { measured } else { 0.0 },
        });
    }
    let scores: Vec<f64> = model
        .memberships
        .iter()
        .map(|u| {
            clusters
                .iter()
                .filter(|cl| cl.controllable)
                .map(|cl| u[cl.index])
                .sum()
        })
        .collect();
    let positives: Vec<bool> = used
        .iter()
        .map(|(d, _)| d.controlled_share() >= CONTROLLED_DAY_SHARE)
        .collect();
    let (mut a_w, mut a_s, mut b_w, mut b_s) = (0.0, 0.0, 0.0, 0.0);
    for ((day, _), s) in used.iter().zip(&scores) {
        a_w += s;
        a_s += s * day.controlled_share();
        b_w += 1.0 - s;
        b_s += (1.0 - s) * day.controlled_share();
    }
    let validation = LabelValidation {
        controlled_share_in_controllable: if a_w > 0.0 { a_s / a_w } else { 0.0 },
        controlled_share_in_other: if b_w > 0.0 { b_s / b_w } else { 0.0 },
        auc: auc(&scores, &positives),
        positive_days: positives.iter().filter(|&&p| p).count(),
        days: used.len(),
    };
    Ok(LoadClassification {
        xie_beni_by_count: selection.xie_beni_by_count,
        chosen_clusters: selection.chosen,
        clusters,
        validation,
        model,
        projection,
        flexible_hours,
    })
}

impl LoadClassification {
    /// κ_i = Σ_j u_ij κ_j for a day's load curve (DISCRETIONARY_SHARE for an empty day).
    pub fn controllable_fraction(&self, load_kwh: &[f64; HOURS]) -> f64 {
        match normalised_curve(load_kwh) {
            Some(curve) => {
                let u = self.model.memberships_of(&self.projection.project(&curve));
                self.clusters
                    .iter()
                    .map(|cl| u[cl.index] * cl.controllable_fraction)
                    .sum()
            }
            None => DISCRETIONARY_SHARE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_is_one_for_perfect_scores_and_half_for_ties() {
        assert_eq!(auc(&[0.1, 0.2, 0.8, 0.9], &[false, false, true, true]), 1.0);
        assert_eq!(auc(&[0.5, 0.5, 0.5, 0.5], &[false, true, false, true]), 0.5);
        assert_eq!(auc(&[0.9, 0.8, 0.2, 0.1], &[false, false, true, true]), 0.0);
    }
}
