//! Upper level: a seller's rules, its profit under spot-price scenarios,
//! CVaR of loss and the risk-adjusted objective, and the feasibility repair of
//! price vectors. It does not model consumers (see `lower`) or search prices
//! (see `ga`).
//!
//! Profit in scenario s: `π_s = Σ_t (p_t − λ_{s,t} − τ)·B_t − f·Σ_t S_t` where
//! B_t and S_t are the seller's customers' purchases and sales. Objective:
//! `E[π] − β·CVaR_α(−π)` with equally likely scenarios and α = 0.95.

use crate::tou::{TouPrices, TouSchedule};
use crate::{HOURS, PricingError};

/// The constraints and cost parameters of every seller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SellerRules {
    /// Lower end of the price band (0.5 yuan/kWh).
    pub price_floor_per_kwh: f64,
    /// Upper end of the price band (2.0 yuan/kWh).
    pub price_ceiling_per_kwh: f64,
    /// p_cap: the peak price may not exceed it (≤ ceiling).
    pub price_cap_per_kwh: f64,
    /// p_avg: the energy-weighted average price over the seller's customers may not exceed it.
    pub average_price_cap_per_kwh: f64,
    /// τ: network tariff the seller pays per kWh it sells.
    pub network_tariff_per_kwh: f64,
    /// β: weight of CVaR of loss in the objective.
    pub risk_aversion: f64,
    /// α of CVaR (0.95).
    pub cvar_confidence: f64,
}

impl Default for SellerRules {
    fn default() -> Self {
        Self {
            price_floor_per_kwh: 0.5,
            price_ceiling_per_kwh: 2.0,
            price_cap_per_kwh: 1.8,
            average_price_cap_per_kwh: 1.3,
            network_tariff_per_kwh: 0.2,
            risk_aversion: 0.0,
            cvar_confidence: 0.95,
        }
    }
}

impl SellerRules {
    pub fn validate(&self) -> Result<(), PricingError> {
        let r = self;
        let all_finite = [
            r.price_floor_per_kwh,
            r.price_ceiling_per_kwh,
            r.price_cap_per_kwh,
            r.average_price_cap_per_kwh,
            r.network_tariff_per_kwh,
            r.risk_aversion,
            r.cvar_confidence,
        ]
        .iter()
        .all(|v| v.is_finite());
        if !all_finite {
            return Err(PricingError::BadSellerRules(
                "every rule must be a finite number".into(),
            ));
        }
        if !(r.price_floor_per_kwh > 0.0 && r.price_floor_per_kwh <= r.price_cap_per_kwh) {
            return Err(PricingError::BadSellerRules(format!(
                "need 0 < price_floor ({}) ≤ price_cap ({})",
                r.price_floor_per_kwh, r.price_cap_per_kwh
            )));
        }
        if r.price_cap_per_kwh > r.price_ceiling_per_kwh {
            return Err(PricingError::BadSellerRules(format!(
                "price_cap ({}) must not exceed the band ceiling ({})",
                r.price_cap_per_kwh, r.price_ceiling_per_kwh
            )));
        }
        if r.average_price_cap_per_kwh < r.price_floor_per_kwh {
            return Err(PricingError::BadSellerRules(format!(
                "average_price_cap ({}) below price_floor ({}) leaves no feasible price",
                r.average_price_cap_per_kwh, r.price_floor_per_kwh
            )));
        }
        if r.risk_aversion < 0.0 {
            return Err(PricingError::BadSellerRules(format!(
                "risk_aversion β = {} must be ≥ 0",
                r.risk_aversion
            )));
        }
        if !(r.cvar_confidence > 0.0 && r.cvar_confidence < 1.0) {
            return Err(PricingError::BadSellerRules(format!(
                "cvar_confidence = {} must lie in (0, 1)",
                r.cvar_confidence
            )));
        }
        Ok(())
    }

    /// Clamp to [floor, cap] and order valley ≤ flat ≤ peak (the GA's repair).
    pub fn repair_box(&self, genes: [f64; 3]) -> TouPrices {
        let mut g = genes.map(|v| {
            if v.is_finite() {
                v.clamp(self.price_floor_per_kwh, self.price_cap_per_kwh)
            } else {
                self.price_floor_per_kwh
            }
        });
        g.sort_by(f64::total_cmp);
        TouPrices::new(g[2], g[1], g[0])
    }

    /// Box and ordering constraints hold (to 1e-12).
    pub fn satisfies_box(&self, p: &TouPrices) -> bool {
        let eps = 1e-12;
        p.valley_per_kwh >= self.price_floor_per_kwh - eps
            && p.valley_per_kwh <= p.flat_per_kwh + eps
            && p.flat_per_kwh <= p.peak_per_kwh + eps
            && p.peak_per_kwh <= self.price_cap_per_kwh + eps
            && p.peak_per_kwh <= self.price_ceiling_per_kwh + eps
    }
}

/// Daily spot-price scenarios λ_{s,t} in yuan/kWh, equally likely.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceScenarios {
    /// A label per scenario (the date).
    pub labels: Vec<String>,
    pub spot_per_kwh: Vec<[f64; HOURS]>,
}

impl PriceScenarios {
    pub fn len(&self) -> usize {
        self.spot_per_kwh.len()
    }
    pub fn is_empty(&self) -> bool {
        self.spot_per_kwh.is_empty()
    }
    /// The mean curve over scenarios.
    pub fn mean_curve(&self) -> [f64; HOURS] {
        let mut m = [0.0; HOURS];
        for s in &self.spot_per_kwh {
            for t in 0..HOURS {
                m[t] += s[t] / self.len() as f64;
            }
        }
        m
    }
}

/// What a seller's customers buy and sell, summed over customers (expected
/// values under the logit choice model: each user weighted by its probability
/// of choosing the seller).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SellerBook {
    pub purchases_kwh: [f64; HOURS],
    pub sales_kwh: [f64; HOURS],
    /// (Expected) number of customers.
    pub customers: f64,
}

impl SellerBook {
    pub fn add(&mut self, other: &SellerBook) {
        for t in 0..HOURS {
            self.purchases_kwh[t] += other.purchases_kwh[t];
            self.sales_kwh[t] += other.sales_kwh[t];
        }
        self.customers += other.customers;
    }
    /// Add one customer's purchases and sales with probability `weight`.
    pub fn add_weighted(
        &mut self,
        purchases_kwh: &[f64; HOURS],
        sales_kwh: &[f64; HOURS],
        weight: f64,
    ) {
        for t in 0..HOURS {
            self.purchases_kwh[t] += weight * purchases_kwh[t];
            self.sales_kwh[t] += weight * sales_kwh[t];
        }
        self.customers += weight;
    }
    pub fn total_purchases_kwh(&self) -> f64 {
        self.purchases_kwh.iter().sum()
    }
}

/// A seller's evaluated position.
#[derive(Debug, Clone, PartialEq)]
pub struct SellerOutcome {
    pub expected_profit: f64,
    /// CVaR_α of loss (= −profit), yuan.
    pub cvar_loss: f64,
    /// E[π] − β·CVaR.
    pub objective: f64,
    /// Energy-weighted average retail price over its customers (yuan/kWh; 0 without customers).
    pub average_price_per_kwh: f64,
    pub book: SellerBook,
}

impl SellerOutcome {
    /// By how much the average-price constraint is exceeded (yuan/kWh, 0 when met).
    pub fn average_price_excess(&self, rules: &SellerRules) -> f64 {
        (self.average_price_per_kwh - rules.average_price_cap_per_kwh).max(0.0)
    }
}

/// Profit of a book in each scenario (yuan).
pub fn scenario_profits(
    hourly_prices: &[f64; HOURS],
    book: &SellerBook,
    scenarios: &PriceScenarios,
    rules: &SellerRules,
    feed_in_per_kwh: f64,
) -> Vec<f64> {
    let fixed: f64 = (0..HOURS)
        .map(|t| {
            (hourly_prices[t] - rules.network_tariff_per_kwh) * book.purchases_kwh[t]
                - feed_in_per_kwh * book.sales_kwh[t]
        })
        .sum();
    scenarios
        .spot_per_kwh
        .iter()
        .map(|lambda| {
            fixed
                - (0..HOURS)
                    .map(|t| lambda[t] * book.purchases_kwh[t])
                    .sum::<f64>()
        })
        .collect()
}

/// CVaR_α of losses given equally likely scenario losses (Rockafellar–Uryasev:
/// min_η η + E[(L − η)⁺]/(1 − α), attained at the ⌈αS⌉-th smallest loss).
pub fn cvar(losses: &[f64], confidence: f64) -> f64 {
    if losses.is_empty() {
        return 0.0;
    }
    let mut sorted = losses.to_vec();
    sorted.sort_by(f64::total_cmp);
    let s = sorted.len() as f64;
    let idx = ((confidence * s).ceil() as usize).clamp(1, sorted.len()) - 1;
    let eta = sorted[idx];
    eta + sorted.iter().map(|l| (l - eta).max(0.0)).sum::<f64>() / ((1.0 - confidence) * s)
}

/// Evaluate a seller's book under its prices.
pub fn evaluate_book(
    prices: &TouPrices,
    schedule: &TouSchedule,
    book: SellerBook,
    scenarios: &PriceScenarios,
    rules: &SellerRules,
    feed_in_per_kwh: f64,
) -> SellerOutcome {
    let hourly = prices.hourly(schedule);
    let profits = scenario_profits(&hourly, &book, scenarios, rules, feed_in_per_kwh);
    let expected_profit = profits.iter().sum::<f64>() / profits.len().max(1) as f64;
    let losses: Vec<f64> = profits.iter().map(|p| -p).collect();
    let cvar_loss = cvar(&losses, rules.cvar_confidence);
    let bought = book.total_purchases_kwh();
    let average_price_per_kwh = if bought > 0.0 {
        (0..HOURS)
            .map(|t| hourly[t] * book.purchases_kwh[t])
            .sum::<f64>()
            / bought
    } else {
        0.0
    };
    SellerOutcome {
        expected_profit,
        cvar_loss,
        objective: expected_profit - rules.risk_aversion * cvar_loss,
        average_price_per_kwh,
        book,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cvar_of_twenty_equal_scenarios_is_the_worst_one() {
        let losses: Vec<f64> = (1..=20).map(f64::from).collect();
        // α = 0.95, S = 20: the tail is exactly the worst scenario.
        assert!((cvar(&losses, 0.95) - 20.0).abs() < 1e-12);
        // 40 scenarios: mean of the two worst.
        let losses: Vec<f64> = (1..=40).map(f64::from).collect();
        assert!((cvar(&losses, 0.95) - 39.5).abs() < 1e-12);
    }

    #[test]
    fn repair_orders_and_clamps_prices() {
        let rules = SellerRules::default();
        let p = rules.repair_box([3.0, 0.1, 1.0]);
        assert_eq!(p, TouPrices::new(1.8, 1.0, 0.5));
        assert!(rules.satisfies_box(&p));
    }

    #[test]
    fn profit_counts_margin_tariff_and_feed_in() {
        let rules = SellerRules::default();
        let mut book = SellerBook::default();
        book.purchases_kwh[0] = 10.0;
        book.sales_kwh[12] = 2.0;
        let scenarios = PriceScenarios {
            labels: vec!["a".into()],
            spot_per_kwh: vec![[0.6; HOURS]],
        };
        let profits = scenario_profits(&[1.0; HOURS], &book, &scenarios, &rules, 0.4);
        assert!((profits[0] - ((1.0 - 0.6 - 0.2) * 10.0 - 0.4 * 2.0)).abs() < 1e-12);
    }
}
