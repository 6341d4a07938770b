//! How a consumer chooses its seller: the rules of choice only (no search,
//! no market state).
//!
//! - [`ChoiceModel::Logit`] (the default): user i picks seller k with logit
//!   probability `P_ik = exp(V_ik) / Σ_j exp(V_ij)`, where
//!   `V_ik = −(cost_ik / E_i + φ·[k ≠ s_i] − δ_k) / σ`: cost_ik is i's optimal
//!   lower-level cost with k (yuan/day), E_i its daily consumption (kWh), so
//!   cost_ik / E_i is the user's effective price (yuan/kWh); φ the switching
//!   cost of leaving its incumbent seller s_i (yuan/kWh); δ_k seller k's brand
//!   or service premium (yuan/kWh); σ the scale of the Gumbel taste shocks
//!   (yuan/kWh). Shares are expected values; incumbents are the contracts
//!   users hold when the day's pricing starts and do not change with prices.
//! - [`ChoiceModel::Threshold`]: move to the cheapest seller only if it saves
//!   more than a share θ of the current cost (a hard, discontinuous rule under
//!   which identical sellers have no pure equilibrium; docs/pricing.md).

use crate::PricingError;

/// The logit choice parameters (all in yuan per kWh of the user's consumption).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogitChoice {
    /// σ: scale of the taste shocks (yuan/kWh). Smaller means more price-sensitive users.
    pub scale_per_kwh: f64,
    /// φ: switching cost of leaving the incumbent seller (yuan/kWh).
    pub switching_cost_per_kwh: f64,
    /// Brand spread: seller k's premium is δ_k = spread·(k/(K−1) − ½) (yuan/kWh); 0 = identical sellers.
    pub brand_spread_per_kwh: f64,
}

impl Default for LogitChoice {
    fn default() -> Self {
        Self {
            scale_per_kwh: 0.05,
            switching_cost_per_kwh: 0.03,
            brand_spread_per_kwh: 0.0,
        }
    }
}

impl LogitChoice {
    pub fn validate(&self) -> Result<(), PricingError> {
        if !(self.scale_per_kwh.is_finite() && self.scale_per_kwh > 0.0) {
            return Err(PricingError::BadChoice(format!(
                "logit scale σ = {} yuan/kWh must be finite and > 0",
                self.scale_per_kwh
            )));
        }
        if !(self.switching_cost_per_kwh.is_finite() && self.switching_cost_per_kwh >= 0.0) {
            return Err(PricingError::BadChoice(format!(
                "switching cost φ = {} yuan/kWh must be finite and ≥ 0",
                self.switching_cost_per_kwh
            )));
        }
        if !(self.brand_spread_per_kwh.is_finite() && self.brand_spread_per_kwh >= 0.0) {
            return Err(PricingError::BadChoice(format!(
                "brand spread = {} yuan/kWh must be finite and ≥ 0",
                self.brand_spread_per_kwh
            )));
        }
        Ok(())
    }

    /// δ_k: seller k's brand premium among `sellers` (yuan/kWh), spread evenly
    /// and centred on zero.
    pub fn brand_premium(&self, seller: usize, sellers: usize) -> f64 {
        if sellers < 2 {
            return 0.0;
        }
        self.brand_spread_per_kwh * (seller as f64 / (sellers - 1) as f64 - 0.5)
    }

    /// V_ik for a user with daily consumption `consumption_kwh` whose optimal
    /// cost with `seller` is `cost` (yuan) and whose incumbent is `incumbent`.
    #[inline]
    pub fn utility(
        &self,
        cost: f64,
        consumption_kwh: f64,
        seller: usize,
        sellers: usize,
        incumbent: usize,
    ) -> f64 {
        let switching = if seller == incumbent {
            0.0
        } else {
            self.switching_cost_per_kwh
        };
        -(cost / consumption_kwh.max(1e-9) + switching - self.brand_premium(seller, sellers))
            / self.scale_per_kwh
    }
}

/// The consumers' rule of choice among sellers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ChoiceModel {
    /// Logit probabilities with switching cost and brand premiums (expected shares).
    Logit(LogitChoice),
    /// Move only when the cheapest seller saves more than this share of the current cost.
    Threshold { switching_threshold: f64 },
}

impl Default for ChoiceModel {
    fn default() -> Self {
        Self::Logit(LogitChoice::default())
    }
}

impl ChoiceModel {
    /// The threshold rule of the first pricing model (θ = 2 %).
    pub fn threshold() -> Self {
        Self::Threshold {
            switching_threshold: 0.02,
        }
    }

    pub fn validate(&self) -> Result<(), PricingError> {
        match self {
            Self::Logit(l) => l.validate(),
            Self::Threshold {
                switching_threshold,
            } => {
                if (0.0..1.0).contains(switching_threshold) {
                    Ok(())
                } else {
                    Err(PricingError::BadChoice(format!(
                        "switching_threshold = {switching_threshold} must lie in [0, 1)"
                    )))
                }
            }
        }
    }

    /// Short name for reports ("logit" or "threshold").
    pub fn name(&self) -> &'static str {
        match self {
            Self::Logit(_) => "logit",
            Self::Threshold { .. } => "threshold",
        }
    }
}

/// Logit probabilities from utilities (stable: shifted by the largest).
pub fn logit_shares(utilities: &[f64], shares: &mut [f64]) {
    let top = utilities.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for (s, v) in shares.iter_mut().zip(utilities) {
        *s = (v - top).exp();
        sum += *s;
    }
    for s in shares.iter_mut() {
        *s /= sum;
    }
}

/// log Σ_j exp(v_j), stable; −∞ for an empty slice.
pub fn log_sum_exp(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let top = values.clone().fold(f64::NEG_INFINITY, f64::max);
    if top == f64::NEG_INFINITY {
        return top;
    }
    top + values.map(|v| (v - top).exp()).sum::<f64>().ln()
}

/// The probability of one alternative with utility `v` against rivals whose
/// utilities have log-sum-exp `rivals` (1 when there are none).
#[inline]
pub fn share_against(v: f64, rivals: f64) -> f64 {
    1.0 / (1.0 + (rivals - v).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_offers_split_evenly_without_switching_cost() {
        let l = LogitChoice {
            switching_cost_per_kwh: 0.0,
            ..LogitChoice::default()
        };
        let v: Vec<f64> = (0..4).map(|k| l.utility(12.0, 10.0, k, 4, 0)).collect();
        let mut s = [0.0; 4];
        logit_shares(&v, &mut s);
        for x in s {
            assert!((x - 0.25).abs() < 1e-12);
        }
    }

    #[test]
    fn the_incumbent_keeps_more_than_an_equal_share_and_a_dearer_seller_less() {
        let l = LogitChoice::default();
        let v: Vec<f64> = (0..2).map(|k| l.utility(12.0, 10.0, k, 2, 0)).collect();
        assert!(share_against(v[0], v[1]) > 0.5);
        // 0.1 yuan/kWh dearer: utility falls by 0.1/σ = 2.
        let dear = l.utility(13.0, 10.0, 0, 2, 0);
        assert!((v[0] - dear - 0.1 / l.scale_per_kwh).abs() < 1e-12);
    }

    #[test]
    fn shares_against_rivals_match_the_full_logit() {
        let v = [-20.0, -21.5, -19.2];
        let mut s = [0.0; 3];
        logit_shares(&v, &mut s);
        let rivals = log_sum_exp([v[1], v[2]].into_iter());
        assert!((share_against(v[0], rivals) - s[0]).abs() < 1e-14);
        assert_eq!(share_against(-5.0, log_sum_exp(std::iter::empty())), 1.0);
    }

    #[test]
    fn a_negative_scale_is_refused_naming_the_parameter() {
        let e = ChoiceModel::Logit(LogitChoice {
            scale_per_kwh: -1.0,
            ..LogitChoice::default()
        })
        .validate()
        .unwrap_err();
        assert!(e.to_string().contains("σ"), "{e}");
    }
}
