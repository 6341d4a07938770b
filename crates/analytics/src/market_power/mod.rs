//! Market-power indices and screens, as US market monitors apply them, over
//! plain numbers: offers, capacities, demand and shift factors. No I/O and no
//! store: `voltex-market`'s `evaluation` module reads a cleared day, calls
//! these functions and re-clears for impact.
//!
//! - [`structure`]: HHI on capacity and on energy, the residual supply index
//!   per supplier, the pivotal-supplier and three-pivotal-supplier tests, and
//!   the relief sub-market of a binding constraint (shift factors).
//! - [`conduct`]: reference levels (cost-based curve or the unit's own offers
//!   in competitive intervals), the conduct screen, economic and physical
//!   withholding indicators and offer-curve changes between days.
//! - [`impact`]: offers mitigated to their reference, the impact test, the
//!   Lerner index, the merit-order dispatch the relief demand is measured
//!   against.
//! - [`statistics`]: price percentiles and the other daily figures.
//!
//! Formulas, sources and the default thresholds: docs/market-evaluation.md.
//! Every threshold lives in [`Thresholds`], read from configuration.
pub mod conduct;
pub mod impact;
pub mod statistics;
pub mod structure;

use serde::{Deserialize, Serialize};

/// One price–quantity step of an offer or a reference curve, stacked from
/// the start of the curve (MW, ¥/MWh).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub quantity_mw: f64,
    pub price_per_mwh: f64,
}

impl Step {
    /// A curve from (MW, ¥/MWh) pairs, in order.
    pub fn curve(pairs: &[(f64, f64)]) -> Vec<Step> {
        pairs
            .iter()
            .map(|&(quantity_mw, price_per_mwh)| Step {
                quantity_mw,
                price_per_mwh,
            })
            .collect()
    }
}

/// Every threshold of the evaluation, with the defaults documented in
/// docs/market-evaluation.md ("Thresholds"). Prices in the market's
/// currency per MWh; percentages as percent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Conduct: an offer fails when it exceeds its reference by more than
    /// the lower of this percentage of the reference...
    pub conduct_percent: f64,
    /// ...and this amount (¥/MWh).
    pub conduct_absolute_per_mwh: f64,
    /// Impact: the re-clear must lower a price by more than the lower of
    /// this percentage of the mitigated price...
    pub impact_percent: f64,
    /// ...and this amount (¥/MWh).
    pub impact_absolute_per_mwh: f64,
    /// Economic withholding: a price at or above this fraction of the
    /// market's price cap is a "high" price.
    pub high_price_fraction_of_cap: f64,
    /// Economic withholding is flagged when more than this share of the
    /// unit's available capacity is offered at a high price.
    pub economic_withholding_share: f64,
    /// Physical withholding is flagged when the declared availability falls
    /// short of registered capacity (less noticed outages) by more than this
    /// share of registered capacity.
    pub physical_withholding_share: f64,
    /// Relief sub-market: a unit counts when the magnitude of its shift
    /// factor on the constraint is at least this.
    pub relief_min_shift_factor: f64,
    /// Relief sub-market: incremental capacity counts up to this multiple of
    /// the LMP at the unit's bus (PJM's 150 % of the clearing price).
    pub relief_price_band: f64,
    /// Offer-curve change between days: flagged when the mean offered price
    /// moves by more than this percentage.
    pub offer_change_percent: f64,
    /// Offer-based reference: days of earlier day-ahead runs to look back.
    pub reference_lookback_days: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            conduct_percent: 300.0,
            conduct_absolute_per_mwh: 100.0,
            impact_percent: 200.0,
            impact_absolute_per_mwh: 100.0,
            high_price_fraction_of_cap: 0.8,
            economic_withholding_share: 0.10,
            physical_withholding_share: 0.05,
            relief_min_shift_factor: 0.05,
            relief_price_band: 1.5,
            offer_change_percent: 50.0,
            reference_lookback_days: 10,
        }
    }
}

impl Thresholds {
    /// Every threshold is finite and in its range; the first one that is
    /// not is named with its rule.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("conduct_percent", self.conduct_percent),
            ("conduct_absolute_per_mwh", self.conduct_absolute_per_mwh),
            ("impact_percent", self.impact_percent),
            ("impact_absolute_per_mwh", self.impact_absolute_per_mwh),
            ("relief_price_band", self.relief_price_band),
            ("offer_change_percent", self.offer_change_percent),
        ];
        for (name, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("{name} must be a positive number, got {v}"));
            }
        }
        let shares = [
            (
                "high_price_fraction_of_cap",
                self.high_price_fraction_of_cap,
            ),
            (
                "economic_withholding_share",
                self.economic_withholding_share,
            ),
            (
                "physical_withholding_share",
                self.physical_withholding_share,
            ),
            ("relief_min_shift_factor", self.relief_min_shift_factor),
        ];
        for (name, v) in shares {
            if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
                return Err(format!("{name} must lie in [0, 1], got {v}"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_thresholds_are_valid_and_a_bad_one_is_named() {
        assert!(Thresholds::default().validate().is_ok());
        let t = Thresholds {
            economic_withholding_share: 1.5,
            ..Thresholds::default()
        };
        let e = t.validate().unwrap_err();
        assert!(e.contains("economic_withholding_share"), "{e}");
        let t: Thresholds = serde_json::from_str(r#"{"conduct_percent": 250}"#).unwrap();
        assert_eq!(t.conduct_percent, 250.0);
        assert_eq!(t.impact_percent, 200.0);
    }
}
