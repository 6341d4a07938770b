//! Conduct: whether a supplier's offers depart from what competition would
//! produce (docs/market-evaluation.md, "Conduct").
//!
//! - Reference level: a step curve of price over the unit's output, either
//!   cost-based (registered) or offer-based, the median of the unit's own
//!   mean offer prices in competitive intervals (NYISO/ISO-NE practice).
//! - Conduct screen (NYISO, ISO-NE): a segment fails when its price exceeds
//!   the reference at the same output by more than the lower of
//!   `conduct_percent` % of the reference and `conduct_absolute_per_mwh`.
//! - Economic withholding indicator: the capacity offered at or above a
//!   high price, as a share of the unit's available capacity.
//! - Physical withholding indicator: declared availability below registered
//!   capacity, less the MW of noticed outages.
//! - Offer-curve change between days: change of the quantity-weighted mean
//!   price and of the offered capacity.
use serde::{Deserialize, Serialize};

use super::{Step, Thresholds};

/// A reference level: price by output, steps stacked from 0 MW of output;
/// beyond the last step the last price holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceCurve {
    pub steps: Vec<Step>,
}

impl ReferenceCurve {
    /// One price at every output (one step of `f64::MAX` MW, which JSON
    /// can carry, unlike infinity).
    pub fn flat(price_per_mwh: f64) -> Self {
        Self {
            steps: vec![Step {
                quantity_mw: f64::MAX,
                price_per_mwh,
            }],
        }
    }

    /// The reference price at `output_mw`.
    pub fn price_at(&self, output_mw: f64) -> f64 {
        let mut to = 0.0;
        for s in &self.steps {
            to += s.quantity_mw;
            if output_mw < to {
                return s.price_per_mwh;
            }
        }
        self.steps.last().map_or(0.0, |s| s.price_per_mwh)
    }
}

/// The price above which an offer fails the conduct screen, given the
/// reference price: reference + min(percent × |reference|, absolute).
pub fn conduct_threshold(reference_per_mwh: f64, t: &Thresholds) -> f64 {
    let relative = t.conduct_percent / 100.0 * reference_per_mwh.abs();
    reference_per_mwh + relative.min(t.conduct_absolute_per_mwh)
}

/// Quantity-weighted mean price of an offer; `None` for an offer of no MW.
pub fn mean_price(offer: &[Step]) -> Option<f64> {
    let q: f64 = offer.iter().map(|s| s.quantity_mw).sum();
    (q > 0.0).then(|| {
        offer
            .iter()
            .map(|s| s.quantity_mw * s.price_per_mwh)
            .sum::<f64>()
            / q
    })
}

/// Offer-based reference: the median of the unit's mean offer prices in
/// competitive intervals; `None` without any sample.
pub fn offer_based_reference(samples: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    })
}

/// A segment that failed the conduct screen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FlaggedSegment {
    /// Output range of the segment, MW.
    pub from_mw: f64,
    pub to_mw: f64,
    pub price_per_mwh: f64,
    pub reference_per_mwh: f64,
    pub threshold_per_mwh: f64,
}

/// The conduct screen of one offer in one interval.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConductScreen {
    pub offered_mw: f64,
    /// MW offered above the conduct threshold.
    pub flagged_mw: f64,
    /// Largest price above the threshold, ¥/MWh (0 when none).
    pub max_excess_per_mwh: f64,
    pub segments: Vec<FlaggedSegment>,
}

impl ConductScreen {
    pub fn fails(&self) -> bool {
        self.flagged_mw > 0.0
    }
}

/// Screens an offer whose first segment starts at `start_mw` of output
/// (the unit's pmin when offers are priced above it): each segment is
/// compared with the reference at its midpoint.
pub fn screen_conduct(
    offer: &[Step],
    start_mw: f64,
    reference: &ReferenceCurve,
    t: &Thresholds,
) -> ConductScreen {
    let mut out = ConductScreen::default();
    let mut from = start_mw;
    for s in offer {
        let to = from + s.quantity_mw;
        out.offered_mw += s.quantity_mw;
        let r = reference.price_at(0.5 * (from + to));
        let limit = conduct_threshold(r, t);
        if s.quantity_mw > 0.0 && s.price_per_mwh > limit {
            out.flagged_mw += s.quantity_mw;
            out.max_excess_per_mwh = out.max_excess_per_mwh.max(s.price_per_mwh - limit);
            out.segments.push(FlaggedSegment {
                from_mw: from,
                to_mw: to,
                price_per_mwh: s.price_per_mwh,
                reference_per_mwh: r,
                threshold_per_mwh: limit,
            });
        }
        from = to;
    }
    out
}

/// MW of an offer priced at or above `high_price_per_mwh`, and its share of
/// `available_mw` (0 when nothing is available).
pub fn economic_withholding(
    offer: &[Step],
    available_mw: f64,
    high_price_per_mwh: f64,
) -> (f64, f64) {
    let mw: f64 = offer
        .iter()
        .filter(|s| s.price_per_mwh >= high_price_per_mwh)
        .map(|s| s.quantity_mw)
        .sum();
    let share = if available_mw > 0.0 {
        mw / available_mw
    } else {
        0.0
    };
    (mw, share)
}

/// Physical withholding of one unit on one day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PhysicalWithholding {
    pub registered_mw: f64,
    pub declared_mw: f64,
    pub outage_mw: f64,
    /// registered − outage − declared, MW (≥ 0).
    pub unexplained_mw: f64,
    pub share: f64,
    pub flagged: bool,
}

/// Declared availability against registered capacity, less the MW of
/// noticed outages; flagged when the unexplained shortfall is more than
/// `physical_withholding_share` of registered capacity.
pub fn physical_withholding(
    registered_mw: f64,
    declared_mw: f64,
    outage_mw: f64,
    t: &Thresholds,
) -> PhysicalWithholding {
    let unexplained = (registered_mw - outage_mw.max(0.0) - declared_mw).max(0.0);
    let share = if registered_mw > 0.0 {
        unexplained / registered_mw
    } else {
        0.0
    };
    PhysicalWithholding {
        registered_mw,
        declared_mw,
        outage_mw,
        unexplained_mw: unexplained,
        share,
        flagged: share > t.physical_withholding_share,
    }
}

/// How a unit's offer changed from one day to the next.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OfferChange {
    pub previous_mean_per_mwh: f64,
    pub mean_per_mwh: f64,
    /// Change of the mean price, percent of the previous mean's magnitude.
    pub mean_change_percent: f64,
    pub capacity_change_mw: f64,
    pub flagged: bool,
}

/// Change between two offers of the same unit; `None` when either offers
/// no MW.
pub fn offer_change(previous: &[Step], current: &[Step], t: &Thresholds) -> Option<OfferChange> {
    let (p, c) = (mean_price(previous)?, mean_price(current)?);
    let pct = if p.abs() > 1e-9 {
        100.0 * (c - p) / p.abs()
    } else if (c - p).abs() > 1e-9 {
        f64::INFINITY.copysign(c - p)
    } else {
        0.0
    };
    let cap = |o: &[Step]| o.iter().map(|s| s.quantity_mw).sum::<f64>();
    Some(OfferChange {
        previous_mean_per_mwh: p,
        mean_per_mwh: c,
        mean_change_percent: pct,
        capacity_change_mw: cap(current) - cap(previous),
        flagged: pct.abs() > t.offer_change_percent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(v: &[(f64, f64)]) -> Vec<Step> {
        Step::curve(v)
    }

    #[test]
    fn threshold_is_the_lower_of_percent_and_absolute() {
        let t = Thresholds::default();
        // 300 % of 20 = 60 < 100
        assert!((conduct_threshold(20.0, &t) - 80.0).abs() < 1e-12);
        // 300 % of 200 = 600 > 100
        assert!((conduct_threshold(200.0, &t) - 300.0).abs() < 1e-12);
    }

    #[test]
    fn a_withholding_offer_is_flagged_and_a_competitive_one_is_not() {
        let t = Thresholds::default();
        let reference = ReferenceCurve {
            steps: steps(&[(100.0, 200.0), (100.0, 250.0)]),
        };
        // competitive: a modest markup over cost
        let fair = steps(&[(50.0, 210.0), (50.0, 230.0), (100.0, 270.0)]);
        let s = screen_conduct(&fair, 0.0, &reference, &t);
        assert!(!s.fails(), "{s:?}");
        assert_eq!(s.offered_mw, 200.0);
        // the top half offered at the cap: 100 MW at 1500 fail (limit 350)
        let withheld = steps(&[(50.0, 210.0), (50.0, 230.0), (100.0, 1500.0)]);
        let s = screen_conduct(&withheld, 0.0, &reference, &t);
        assert!(s.fails());
        assert_eq!(s.flagged_mw, 100.0);
        assert_eq!(s.segments.len(), 1);
        assert_eq!(s.segments[0].reference_per_mwh, 250.0);
        assert!((s.max_excess_per_mwh - 1150.0).abs() < 1e-9);
        // offers priced from pmin: the segment's position counts
        let s = screen_conduct(&steps(&[(50.0, 340.0)]), 100.0, &reference, &t);
        assert!(!s.fails(), "340 is within 250 + 100");
        let s = screen_conduct(&steps(&[(50.0, 340.0)]), 0.0, &reference, &t);
        assert!(s.fails(), "340 is above 200 + 100");
    }

    #[test]
    fn offer_based_reference_is_the_median_of_competitive_offers() {
        assert_eq!(offer_based_reference(&[30.0, 10.0, 20.0]), Some(20.0));
        assert_eq!(offer_based_reference(&[10.0, 20.0]), Some(15.0));
        assert_eq!(offer_based_reference(&[]), None);
        assert_eq!(ReferenceCurve::flat(42.0).price_at(1e6), 42.0);
        let r = ReferenceCurve {
            steps: steps(&[(10.0, 1.0), (10.0, 2.0)]),
        };
        assert_eq!(r.price_at(5.0), 1.0);
        assert_eq!(r.price_at(15.0), 2.0);
        assert_eq!(r.price_at(50.0), 2.0);
    }

    #[test]
    fn withholding_indicators() {
        let t = Thresholds::default();
        let offer = steps(&[(80.0, 300.0), (20.0, 1200.0)]);
        let (mw, share) = economic_withholding(&offer, 100.0, 1000.0);
        assert_eq!(mw, 20.0);
        assert!((share - 0.2).abs() < 1e-12);
        // 300 registered, 200 declared, 100 on a noticed outage: fine
        let p = physical_withholding(300.0, 200.0, 100.0, &t);
        assert!(!p.flagged);
        assert_eq!(p.unexplained_mw, 0.0);
        // no notice: 100 MW (33 %) unexplained
        let p = physical_withholding(300.0, 200.0, 0.0, &t);
        assert!(p.flagged);
        assert!((p.share - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn a_doubled_offer_is_a_flagged_change() {
        let t = Thresholds::default();
        let a = steps(&[(100.0, 100.0)]);
        let b = steps(&[(100.0, 200.0)]);
        let c = offer_change(&a, &b, &t).unwrap();
        assert!(c.flagged);
        assert!((c.mean_change_percent - 100.0).abs() < 1e-12);
        let c = offer_change(&a, &steps(&[(100.0, 110.0)]), &t).unwrap();
        assert!(!c.flagged);
        assert!(offer_change(&a, &[], &t).is_none());
    }
}
