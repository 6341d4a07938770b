//! Impact: what the flagged conduct did to prices (docs/market-evaluation.md,
//! "Impact"). The re-clear itself is the clearing engine's (same network,
//! same solver) and runs in `voltex-market`; here are the pieces around it.
//!
//! - Mitigated offer: each segment priced at the lower of its offer and the
//!   reference at its midpoint (then made non-decreasing, as the market
//!   requires).
//! - Impact test (NYISO): a price fails when the re-clear lowers it by more
//!   than the lower of `impact_percent` % of the mitigated price and
//!   `impact_absolute_per_mwh`. A unit is mitigation-eligible only in an
//!   interval where it failed both conduct and impact.
//! - Lerner index of a marginal unit: (price − marginal cost) / price.
//! - Merit-order dispatch: the unconstrained dispatch of the same total,
//!   the baseline the relief demand of a constraint is measured against.
use super::conduct::ReferenceCurve;
use super::{Step, Thresholds};

/// `offer` (starting at `start_mw` of output) with each segment capped at
/// the reference price at its midpoint, non-decreasing.
pub fn mitigate_offer(offer: &[Step], start_mw: f64, reference: &ReferenceCurve) -> Vec<Step> {
    let mut from = start_mw;
    let mut out: Vec<Step> = offer
        .iter()
        .map(|s| {
            let to = from + s.quantity_mw;
            let r = reference.price_at(0.5 * (from + to));
            from = to;
            Step {
                quantity_mw: s.quantity_mw,
                price_per_mwh: s.price_per_mwh.min(r),
            }
        })
        .collect();
    for k in 1..out.len() {
        if out[k].price_per_mwh < out[k - 1].price_per_mwh {
            out[k].price_per_mwh = out[k - 1].price_per_mwh;
        }
    }
    out
}

/// The fall of a price that counts as impact: the lower of percent of the
/// mitigated price's magnitude and the absolute amount.
pub fn impact_threshold(mitigated_per_mwh: f64, t: &Thresholds) -> f64 {
    (t.impact_percent / 100.0 * mitigated_per_mwh.abs()).min(t.impact_absolute_per_mwh)
}

/// Whether the re-clear lowered a price enough to count as impact.
pub fn impact_crossed(original_per_mwh: f64, mitigated_per_mwh: f64, t: &Thresholds) -> bool {
    original_per_mwh - mitigated_per_mwh > impact_threshold(mitigated_per_mwh, t)
}

/// Lerner index (price − marginal cost) / price; `None` when the price is
/// not positive.
pub fn lerner(price_per_mwh: f64, marginal_cost_per_mwh: f64) -> Option<f64> {
    (price_per_mwh > 0.0).then(|| (price_per_mwh - marginal_cost_per_mwh) / price_per_mwh)
}

/// One unit for the merit-order dispatch: its minimum output and its offer
/// above it.
#[derive(Debug, Clone, Copy)]
pub struct MeritUnit<'a> {
    pub min_mw: f64,
    pub offer: &'a [Step],
}

/// The network-free merit-order dispatch serving `total_mw`: every unit at
/// its minimum, then the cheapest segments first (ties in unit order).
/// When the offers cannot reach the total, every segment is full.
pub fn merit_order_dispatch(units: &[MeritUnit<'_>], total_mw: f64) -> Vec<f64> {
    let mut out: Vec<f64> = units.iter().map(|u| u.min_mw).collect();
    let mut left = total_mw - out.iter().sum::<f64>();
    let mut segs: Vec<(f64, usize, f64)> = units
        .iter()
        .enumerate()
        .flat_map(|(i, u)| {
            u.offer
                .iter()
                .map(move |s| (s.price_per_mwh, i, s.quantity_mw))
        })
        .collect();
    segs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    for (_, i, q) in segs {
        if left <= 0.0 {
            break;
        }
        let take = q.min(left);
        out[i] += take;
        left -= take;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(v: &[(f64, f64)]) -> Vec<Step> {
        Step::curve(v)
    }

    #[test]
    fn mitigation_caps_offers_at_the_reference_and_keeps_them_monotone() {
        let reference = ReferenceCurve {
            steps: steps(&[(50.0, 100.0), (50.0, 80.0)]),
        };
        let m = mitigate_offer(&steps(&[(50.0, 90.0), (50.0, 900.0)]), 0.0, &reference);
        assert_eq!(m, steps(&[(50.0, 90.0), (50.0, 90.0)]));
        // an offer below its reference is left alone
        let m = mitigate_offer(&steps(&[(50.0, 60.0)]), 0.0, &reference);
        assert_eq!(m, steps(&[(50.0, 60.0)]));
    }

    #[test]
    fn impact_needs_the_price_to_fall_by_more_than_the_threshold() {
        let t = Thresholds::default();
        // mitigated 40: threshold min(80, 100) = 80
        assert!(impact_crossed(130.0, 40.0, &t));
        assert!(!impact_crossed(110.0, 40.0, &t));
        // mitigated 300: threshold 100
        assert!(impact_crossed(401.0, 300.0, &t));
        assert!(!impact_crossed(399.0, 300.0, &t));
    }

    #[test]
    fn lerner_index_of_a_marginal_unit() {
        assert_eq!(lerner(100.0, 60.0), Some(0.4));
        assert_eq!(lerner(0.0, 60.0), None);
    }

    #[test]
    fn merit_order_fills_the_cheapest_segments_first() {
        let a = steps(&[(50.0, 10.0), (50.0, 30.0)]);
        let b = steps(&[(100.0, 20.0)]);
        let units = [
            MeritUnit {
                min_mw: 10.0,
                offer: &a,
            },
            MeritUnit {
                min_mw: 0.0,
                offer: &b,
            },
        ];
        assert_eq!(merit_order_dispatch(&units, 100.0), vec![60.0, 40.0]);
        assert_eq!(merit_order_dispatch(&units, 500.0), vec![110.0, 100.0]);
    }
}
